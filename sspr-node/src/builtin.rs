//! The built-in backends, as JavaScript classes: the in-memory ones of sspr-core (and, behind
//! cargo features, those of sspr-backends). Passing one to `new Sspr({...})` keeps every call
//! inside Rust.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use napi::Result;
use napi::bindgen_prelude::{ClassInstance, JsObjectValue, Object};
use napi_derive::napi;
use sspr_core::memory;
use sspr_core::{AuditSink, Clock, ContactStore, Directory, Notifier, StateStore, UserId};

use crate::values::{AccountStateJs, DirectoryUserJs, NotificationJs, from_chrono, to_chrono};
use napi::Env;

use crate::errors::to_js_error;
use crate::values::invalid;

/// A user of the in-memory directory.
#[napi(object, object_to_js = false, js_name = "MemoryUser")]
pub struct MemoryUserInput {
    /// Login (UPN).
    pub login: String,
    /// Display name.
    pub display_name: String,
    /// Distinguished name, e.g. `uid=jdoe,ou=staff,dc=example,dc=org`; also the user's id.
    pub dn: String,
    /// Group names or DNs (nested memberships already resolved).
    pub groups: Option<Vec<String>>,
    /// Disabled, expired, locked.
    #[napi(ts_type = "AccountState")]
    pub state: Option<AccountStateJs>,
    /// The password the user signs in with (`signIn`), until a reset sets another.
    pub password: Option<String>,
}

fn memory_user(u: MemoryUserInput) -> memory::MemoryUser {
    memory::MemoryUser {
        login: u.login,
        display_name: u.display_name,
        dn: u.dn,
        groups: u.groups.unwrap_or_default(),
        state: u.state.unwrap_or_default().into(),
        password: u.password.map(sspr_core::Password::new),
    }
}

/// A directory held in memory, with Active Directory's complexity rule (8+ characters, 3 of
/// 4 character classes, no login in the password).
#[napi]
pub struct MemoryDirectory {
    pub(crate) inner: memory::MemoryDirectory,
}

#[napi]
impl MemoryDirectory {
    /// A directory holding `users` (none when absent).
    #[napi(constructor)]
    pub fn new(env: &Env, users: Option<Vec<MemoryUserInput>>) -> Result<Self> {
        let inner = memory::MemoryDirectory::with_users(users.unwrap_or_default().into_iter().map(memory_user))
            .map_err(|e| to_js_error(env, &e))?;
        Ok(Self { inner })
    }

    /// Add a user, or replace the one with the same login or DN.
    #[napi]
    pub fn insert(&self, env: &Env, user: MemoryUserInput) -> Result<()> {
        self.inner.insert(memory_user(user)).map_err(|e| to_js_error(env, &e))
    }

    /// Change a user's account state; false for an unknown login.
    #[napi(ts_args_type = "login: string, state: AccountState")]
    pub fn set_state(&self, login: String, state: AccountStateJs) -> bool {
        self.inner.set_state(&login, state.into())
    }

    /// Every user, sorted by login.
    #[napi(ts_return_type = "Array<DirectoryUser>")]
    pub fn users(&self) -> Vec<DirectoryUserJs> {
        self.inner.users().into_iter().map(Into::into).collect()
    }

    /// The number of users.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    /// Whether `password` is the user's current password (what a sign-in checks).
    #[napi]
    pub fn password_matches(&self, user_id: String, password: String) -> bool {
        self.inner.check_password(&UserId::new(user_id), &password).is_some()
    }

    /// Whether the user must change the password set through sspr (`null`: none was set).
    #[napi]
    pub fn must_change(&self, user_id: String) -> Option<bool> {
        self.inner.password_state(&UserId::new(user_id))
    }
}

/// Enrollments (enabled flag, contacts) in memory.
#[napi]
#[derive(Default)]
pub struct MemoryContactStore {
    pub(crate) inner: memory::MemoryContactStore,
}

#[napi]
impl MemoryContactStore {
    /// An empty store.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }
}

/// Flows, counters and blocks in memory, with expiry.
#[napi]
#[derive(Default)]
pub struct MemoryStateStore {
    pub(crate) inner: memory::MemoryStateStore,
}

#[napi]
impl MemoryStateStore {
    /// An empty store.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries held (expired ones not yet swept included).
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }
}

/// A notifier that delivers nothing and keeps every notice: for development and tests.
#[napi]
#[derive(Default)]
pub struct Outbox {
    pub(crate) inner: memory::Outbox,
}

#[napi]
impl Outbox {
    /// An empty outbox.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every notice so far, oldest first (PIN notices hold their PIN: development only).
    #[napi(ts_return_type = "Array<Notification>")]
    pub fn messages(&self) -> Vec<NotificationJs> {
        self.inner.messages().iter().map(NotificationJs::from).collect()
    }

    /// Notices sent to `address`, oldest first.
    #[napi(ts_return_type = "Array<Notification>")]
    pub fn messages_to(&self, address: String) -> Vec<NotificationJs> {
        self.inner.messages_to(&address).iter().map(NotificationJs::from).collect()
    }

    /// The last PIN sent to `address`: what the user would read.
    #[napi]
    pub fn last_pin_to(&self, address: String) -> Option<String> {
        self.inner.last_pin_to(&address)
    }

    /// Forget every notice.
    #[napi]
    pub fn clear(&self) {
        self.inner.clear();
    }
}

/// Keeps the newest audit events in memory (sspr-core's ring buffer, 10 000 events).
#[napi]
#[derive(Default)]
pub struct MemoryAuditSink {
    pub(crate) inner: memory::MemoryAuditSink,
}

#[napi]
impl MemoryAuditSink {
    /// An empty log.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event so far, as plain objects (the audit JSON schema; never a secret).
    #[napi(ts_return_type = "Array<Record<string, unknown>>")]
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.inner.events().iter().filter_map(|e| serde_json::to_value(e).ok()).collect()
    }
}

/// A clock that stands still until told to move: for tests and demos.
#[napi]
pub struct ManualClock {
    pub(crate) inner: sspr_core::ManualClock,
}

#[napi]
impl ManualClock {
    /// A clock showing `start`.
    #[napi(constructor)]
    pub fn new(env: &Env, start: DateTime<Utc>) -> Result<Self> {
        let start = from_chrono(start, "start").map_err(|e| to_js_error(env, &e))?;
        Ok(Self { inner: sspr_core::ManualClock::new(start) })
    }

    /// The time it shows.
    #[napi]
    pub fn now(&self) -> DateTime<Utc> {
        to_chrono(self.inner.now())
    }

    /// Move it forward by `seconds` (fractions allowed; negative values are refused).
    #[napi]
    pub fn advance(&self, env: &Env, seconds: f64) -> Result<()> {
        let by = std::time::Duration::try_from_secs_f64(seconds)
            .map_err(|_| to_js_error(env, &invalid("seconds", "not a non-negative number")))?;
        self.inner.advance(by);
        Ok(())
    }

    /// Set it to `to` (may go backwards).
    #[napi]
    pub fn set(&self, env: &Env, to: DateTime<Utc>) -> Result<()> {
        self.inner.set(from_chrono(to, "to").map_err(|e| to_js_error(env, &e))?);
        Ok(())
    }
}

/// The backends an `Sspr` is built from, each a built-in one or one written in JavaScript.
pub(crate) struct Slots {
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) contacts: Option<Arc<dyn ContactStore>>,
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) store: Option<Arc<dyn StateStore>>,
    pub(crate) audit: Option<Arc<dyn AuditSink>>,
    pub(crate) clock: Option<sspr_core::ManualClock>,
}

/// Whether `options[name]` is set.
fn present(options: &Object<'_>, name: &str) -> Result<bool> {
    let value: Option<napi::bindgen_prelude::Unknown<'_>> = options.get(name)?;
    Ok(value.is_some_and(|v| !matches!(v.get_type(), Ok(napi::ValueType::Undefined | napi::ValueType::Null))))
}

/// A built-in backend of class `T` under `options[name]`, if that is what it holds.
fn builtin<'a, T: 'a + napi::bindgen_prelude::MaybeTypeTag>(
    options: &Object<'a>,
    name: &str,
) -> Option<ClassInstance<'a, T>>
where
    ClassInstance<'a, T>: napi::bindgen_prelude::FromNapiValue + napi::bindgen_prelude::ValidateNapiValue,
{
    options.get_named_property::<ClassInstance<'a, T>>(name).ok()
}

fn wrong(env: &Env, name: &'static str, expected: &str) -> napi::Error {
    to_js_error(env, &invalid(name, format!("expected {expected}")))
}

#[cfg(feature = "sqlite")]
fn sqlite(options: &Object<'_>, name: &str) -> Option<sspr_backends::sqlite::SqliteStore> {
    builtin::<SqliteStore>(options, name).map(|s| s.inner.clone())
}

#[cfg(not(feature = "sqlite"))]
fn sqlite(_: &Object<'_>, _: &str) -> Option<memory::MemoryStateStore> {
    None
}

#[cfg(feature = "redis")]
fn redis(options: &Object<'_>, name: &str) -> Option<sspr_backends::redis::RedisStore> {
    builtin::<RedisStore>(options, name).map(|s| s.inner.clone())
}

#[cfg(not(feature = "redis"))]
fn redis(_: &Object<'_>, _: &str) -> Option<memory::MemoryStateStore> {
    None
}

#[cfg(feature = "postgres")]
fn postgres(options: &Object<'_>, name: &str) -> Option<sspr_backends::postgres::PostgresStore> {
    builtin::<PostgresStore>(options, name).map(|s| s.inner.clone())
}

#[cfg(not(feature = "postgres"))]
fn postgres(_: &Object<'_>, _: &str) -> Option<memory::MemoryStateStore> {
    None
}

#[cfg(feature = "ldap")]
fn ldap_directory(options: &Object<'_>) -> Option<Arc<dyn Directory>> {
    builtin::<LdapDirectory>(options, "directory").map(|d| Arc::new(d.inner.clone()) as Arc<dyn Directory>)
}

#[cfg(not(feature = "ldap"))]
fn ldap_directory(_: &Object<'_>) -> Option<Arc<dyn Directory>> {
    None
}

#[cfg(feature = "ldap")]
fn ldap_contacts(options: &Object<'_>) -> Option<Arc<dyn ContactStore>> {
    builtin::<LdapContactStore>(options, "contacts").map(|c| Arc::new(c.inner.clone()) as Arc<dyn ContactStore>)
}

#[cfg(not(feature = "ldap"))]
fn ldap_contacts(_: &Object<'_>) -> Option<Arc<dyn ContactStore>> {
    None
}

impl Slots {
    /// Read the backends of `new Sspr(options)`.
    pub(crate) fn from_options(env: &Env, options: &Object<'_>) -> Result<Self> {
        use crate::foreign::{JsAuditSink, JsContactStore, JsDirectory, JsStateStore};

        let directory: Arc<dyn Directory> = if let Some(d) = builtin::<MemoryDirectory>(options, "directory") {
            Arc::new(d.inner.clone())
        } else if let Some(d) = ldap_directory(options) {
            d
        } else if present(options, "directory")? {
            let object: Object<'_> = options.get_named_property("directory")?;
            Arc::new(JsDirectory::new(&object).map_err(|_| wrong(env, "directory", "a Directory"))?)
        } else {
            return Err(wrong(env, "directory", "a directory"));
        };

        let contacts: Option<Arc<dyn ContactStore>> =
            if let Some(c) = builtin::<MemoryContactStore>(options, "contacts") {
                Some(Arc::new(c.inner.clone()))
            } else if let Some(c) = sqlite(options, "contacts") {
                Some(Arc::new(c))
            } else if let Some(c) = postgres(options, "contacts") {
                Some(Arc::new(c))
            } else if let Some(c) = ldap_contacts(options) {
                Some(c)
            } else if present(options, "contacts")? {
                let object: Object<'_> = options.get_named_property("contacts")?;
                Some(Arc::new(JsContactStore::new(&object).map_err(|_| wrong(env, "contacts", "a ContactStore"))?))
            } else {
                None
            };

        let notifier = notifier(env, options, "notifier")?.ok_or_else(|| wrong(env, "notifier", "a notifier"))?;

        let store: Option<Arc<dyn StateStore>> = if let Some(s) = builtin::<MemoryStateStore>(options, "store") {
            Some(Arc::new(s.inner.clone()))
        } else if let Some(s) = sqlite(options, "store") {
            Some(Arc::new(s))
        } else if let Some(s) = redis(options, "store") {
            Some(Arc::new(s))
        } else if let Some(s) = postgres(options, "store") {
            Some(Arc::new(s))
        } else if present(options, "store")? {
            let object: Object<'_> = options.get_named_property("store")?;
            Some(Arc::new(JsStateStore::new(&object).map_err(|_| wrong(env, "store", "a StateStore"))?))
        } else {
            None
        };

        let audit: Option<Arc<dyn AuditSink>> = if let Some(a) = builtin::<MemoryAuditSink>(options, "audit") {
            Some(Arc::new(a.inner.clone()))
        } else if present(options, "audit")? {
            let object: Object<'_> = options.get_named_property("audit")?;
            Some(Arc::new(JsAuditSink::new(&object).map_err(|_| wrong(env, "audit", "an AuditSink"))?))
        } else {
            None
        };

        let clock = if let Some(c) = builtin::<ManualClock>(options, "clock") {
            Some(c.inner.clone())
        } else if present(options, "clock")? {
            return Err(wrong(env, "clock", "a ManualClock"));
        } else {
            None
        };

        Ok(Self { directory, contacts, notifier, store, audit, clock })
    }
}

/// The embedded store of sspr-backends: contacts and state in one SQLite file (usable as
/// both `contacts` and `store`). Calls run on the store's own thread.
#[cfg(feature = "sqlite")]
#[napi]
pub struct SqliteStore {
    pub(crate) inner: sspr_backends::sqlite::SqliteStore,
}

#[cfg(feature = "sqlite")]
#[napi]
impl SqliteStore {
    /// Open (or create) the database at `path`; a private in-memory database when absent.
    #[napi(constructor)]
    pub fn new(env: &Env, path: Option<String>) -> Result<Self> {
        let opened = match path {
            Some(path) => sspr_backends::sqlite::SqliteStore::open(path),
            None => sspr_backends::sqlite::SqliteStore::open_in_memory(),
        };
        let inner = opened.map_err(|e| to_js_error(env, &sspr_core::Error::from(e)))?;
        Ok(Self { inner })
    }
}

/// A state store on Redis (sspr-backends), shared by several portal instances.
#[cfg(feature = "redis")]
#[napi]
pub struct RedisStore {
    pub(crate) inner: sspr_backends::redis::RedisStore,
}

/// Connect to the Redis at `url` (`redis://host:port/db`); `index.js` offers it as
/// `RedisStore.connect(url)`. `BACKEND` (`unavailable`) when it cannot be reached.
#[cfg(feature = "redis")]
#[napi(ts_return_type = "RedisStore | Promise<RedisStore>")]
pub fn connect_redis<'env>(env: &'env Env, url: String) -> Result<crate::runtime::Answer<'env, RedisStore>> {
    crate::runtime::stay_in_runtime_context();
    crate::runtime::run(env, async move { Ok(sspr_backends::redis::RedisStore::connect(&url).await?) }, |inner| {
        Ok(RedisStore { inner })
    })
}

/// Read a configuration object (camelCase or snake_case keys) as one of sspr-backends'
/// configurations (which refuse unknown fields).
#[cfg(any(feature = "postgres", feature = "ldap", feature = "smtp", feature = "sms-twilio", feature = "webhook"))]
fn config<T: serde::de::DeserializeOwned>(env: &Env, value: serde_json::Value, what: &str) -> Result<T> {
    fn snake(key: &str) -> String {
        let mut out = String::with_capacity(key.len() + 4);
        for c in key.chars() {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
    let value = match value {
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.into_iter().map(|(k, v)| (snake(&k), v)).collect())
        }
        other => other,
    };
    serde_json::from_value(value).map_err(|e| to_js_error(env, &sspr_core::Error::Config(format!("{what}: {e}"))))
}

/// A contact and state store on PostgreSQL (sspr-backends), shared by several instances.
#[cfg(feature = "postgres")]
#[napi]
pub struct PostgresStore {
    pub(crate) inner: sspr_backends::postgres::PostgresStore,
}

/// Connect to PostgreSQL: `config` is a URL or `{ url, poolSize, connectTimeoutMs,
/// queryTimeoutMs, sweepIntervalSecs }`; `index.js` offers it as `PostgresStore.connect`.
#[cfg(feature = "postgres")]
#[napi(
    ts_args_type = "config: string | { url: string, caFile?: string, poolSize?: number, connectTimeoutMs?: number, queryTimeoutMs?: number, sweepIntervalSecs?: number }",
    ts_return_type = "PostgresStore | Promise<PostgresStore>"
)]
pub fn connect_postgres<'env>(
    env: &'env Env,
    config_input: serde_json::Value,
) -> Result<crate::runtime::Answer<'env, PostgresStore>> {
    crate::runtime::stay_in_runtime_context();
    let config: sspr_backends::postgres::PostgresConfig = match config_input {
        serde_json::Value::String(url) => sspr_backends::postgres::PostgresConfig::new(url),
        other => config(env, other, "PostgresStore")?,
    };
    crate::runtime::run(
        env,
        async move { Ok(sspr_backends::postgres::PostgresStore::from_config(&config).await?) },
        |inner| Ok(PostgresStore { inner }),
    )
}

/// An OpenLDAP or Active Directory directory (sspr-backends): TLS-verified, pooled.
#[cfg(feature = "ldap")]
#[napi]
pub struct LdapDirectory {
    pub(crate) inner: sspr_backends::ldap::LdapDirectory,
}

#[cfg(feature = "ldap")]
#[napi]
impl LdapDirectory {
    /// `{ url, flavor: 'openldap' | 'active_directory', baseDn, bindDn, bindPassword, starttls?,
    /// caFile?, ... }` (the fields of sspr-backends' `LdapConfig`). Connects lazily.
    #[napi(
        constructor,
        ts_args_type = "config: { url: string, flavor?: 'openldap' | 'active_directory', baseDn: string, bindDn: string, bindPassword: string, starttls?: boolean, caFile?: string, allowPlaintext?: boolean, loginAttribute?: string, displayNameAttribute?: string, userFilter?: string, groupBaseDn?: string, poolSize?: number, signInConnections?: number, connectTimeoutSecs?: number, operationTimeoutSecs?: number }"
    )]
    pub fn new(env: &Env, config_input: serde_json::Value) -> Result<Self> {
        crate::runtime::stay_in_runtime_context();
        let config: sspr_backends::ldap::LdapConfig = config(env, config_input, "LdapDirectory")?;
        let inner = sspr_backends::ldap::LdapDirectory::new(config)
            .map_err(|e| to_js_error(env, &sspr_core::Error::from(e)))?;
        Ok(Self { inner })
    }
}

/// A contact store on directory attributes (sspr-backends), next to an `LdapDirectory`.
#[cfg(feature = "ldap")]
#[napi]
pub struct LdapContactStore {
    pub(crate) inner: sspr_backends::ldap::LdapContactStore,
}

#[cfg(feature = "ldap")]
#[napi]
impl LdapContactStore {
    /// The contacts of `directory`'s users: `{ emailAttribute?, phoneAttribute?,
    /// enabledAttribute?, recordAttribute?, recordKey?, changedContactCoolingOffSecs?,
    /// enabledByDefault? }`: `recordKey` (32 bytes or more) signs the record and is required with
    /// `recordAttribute`.
    #[napi(
        constructor,
        ts_args_type = "directory: LdapDirectory, config?: { emailAttribute?: string, phoneAttribute?: string, enabledAttribute?: string, recordAttribute?: string, recordKey?: string, changedContactCoolingOffSecs?: number, enabledByDefault?: boolean }"
    )]
    pub fn new(
        env: &Env,
        directory: ClassInstance<'_, LdapDirectory>,
        config_input: Option<serde_json::Value>,
    ) -> Result<Self> {
        crate::runtime::stay_in_runtime_context();
        let config: sspr_backends::ldap::LdapContactConfig =
            config(env, config_input.unwrap_or_else(|| serde_json::json!({})), "LdapContactStore")?;
        let inner = sspr_backends::ldap::LdapContactStore::new(&directory.inner, config)
            .map_err(|e| to_js_error(env, &sspr_core::Error::from(e)))?;
        Ok(Self { inner })
    }
}

/// An SMTP notifier (sspr-backends): the standard notices as text and HTML, STARTTLS or
/// implicit TLS, pooled; a message is never retried (a PIN must not arrive twice).
#[cfg(feature = "smtp")]
#[napi]
pub struct SmtpNotifier {
    pub(crate) inner: sspr_backends::smtp::SmtpNotifier,
}

#[cfg(feature = "smtp")]
#[napi]
impl SmtpNotifier {
    /// `{ host, from, port?, tls?: 'starttls' | 'implicit' | 'none', username?, password?,
    /// caFile?, timeoutMs?, poolSize? }`.
    #[napi(
        constructor,
        ts_args_type = "config: { host: string, from: string, port?: number, tls?: 'starttls' | 'implicit' | 'none', username?: string, password?: string, caFile?: string, timeoutMs?: number, poolSize?: number }"
    )]
    pub fn new(env: &Env, config_input: serde_json::Value) -> Result<Self> {
        crate::runtime::stay_in_runtime_context();
        let config: sspr_backends::smtp::SmtpConfig = config(env, config_input, "SmtpNotifier")?;
        // The connection pool lives on the runtime napi keeps for async work.
        let built = napi::bindgen_prelude::within_runtime_if_available(|| {
            sspr_backends::smtp::SmtpNotifier::from_config(&config)
        });
        let inner = built.map_err(|e| to_js_error(env, &sspr_core::Error::from(e)))?;
        Ok(Self { inner })
    }
}

/// SMS through the Twilio Messages API or a gateway speaking it (sspr-backends).
#[cfg(feature = "sms-twilio")]
#[napi]
pub struct TwilioSms {
    pub(crate) inner: sspr_backends::twilio::TwilioNotifier,
}

#[cfg(feature = "sms-twilio")]
#[napi]
impl TwilioSms {
    /// `{ accountSid, authToken, from? | messagingServiceSid?, baseUrl?, timeoutMs?,
    /// connectRetries?, caFile?, allowInsecureHttp? }`.
    #[napi(
        constructor,
        ts_args_type = "config: { accountSid: string, authToken: string, from?: string, messagingServiceSid?: string, baseUrl?: string, timeoutMs?: number, connectRetries?: number, caFile?: string, allowInsecureHttp?: boolean }"
    )]
    pub fn new(env: &Env, config_input: serde_json::Value) -> Result<Self> {
        crate::runtime::stay_in_runtime_context();
        let config: sspr_backends::twilio::TwilioConfig = config(env, config_input, "TwilioSms")?;
        let built = napi::bindgen_prelude::within_runtime_if_available(|| {
            sspr_backends::twilio::TwilioNotifier::from_config(&config)
        });
        let inner = built.map_err(|e| to_js_error(env, &sspr_core::Error::from(e)))?;
        Ok(Self { inner })
    }
}

/// Any other gateway: a JSON POST signed with HMAC-SHA256 (sspr-backends).
#[cfg(feature = "webhook")]
#[napi]
pub struct WebhookNotifier {
    pub(crate) inner: sspr_backends::webhook::WebhookNotifier,
}

#[cfg(feature = "webhook")]
#[napi]
impl WebhookNotifier {
    /// `{ url, key (32+ bytes), timeoutMs?, connectRetries?, caFile?, allowInsecureHttp? }`.
    #[napi(
        constructor,
        ts_args_type = "config: { url: string, key: string, timeoutMs?: number, connectRetries?: number, caFile?: string, allowInsecureHttp?: boolean }"
    )]
    pub fn new(env: &Env, config_input: serde_json::Value) -> Result<Self> {
        crate::runtime::stay_in_runtime_context();
        let config: sspr_backends::webhook::WebhookConfig = config(env, config_input, "WebhookNotifier")?;
        let built = napi::bindgen_prelude::within_runtime_if_available(|| {
            sspr_backends::webhook::WebhookNotifier::from_config(&config)
        });
        let inner = built.map_err(|e| to_js_error(env, &sspr_core::Error::from(e)))?;
        Ok(Self { inner })
    }
}

/// A built-in notifier under `options[name]`.
fn builtin_notifier(options: &Object<'_>, name: &str) -> Option<Arc<dyn Notifier>> {
    if let Some(n) = builtin::<Outbox>(options, name) {
        return Some(Arc::new(n.inner.clone()));
    }
    #[cfg(feature = "smtp")]
    if let Some(n) = builtin::<SmtpNotifier>(options, name) {
        return Some(Arc::new(n.inner.clone()));
    }
    #[cfg(feature = "sms-twilio")]
    if let Some(n) = builtin::<TwilioSms>(options, name) {
        return Some(Arc::new(n.inner.clone()));
    }
    #[cfg(feature = "webhook")]
    if let Some(n) = builtin::<WebhookNotifier>(options, name) {
        return Some(Arc::new(n.inner.clone()));
    }
    None
}

/// The notifier under `options[name]`: built in, written in JavaScript, or `{ email, sms }`.
fn notifier(env: &Env, options: &Object<'_>, name: &'static str) -> Result<Option<Arc<dyn Notifier>>> {
    use crate::foreign::JsNotifier;
    if let Some(n) = builtin_notifier(options, name) {
        return Ok(Some(n));
    }
    if !present(options, name)? {
        return Ok(None);
    }
    let object: Object<'_> = options.get_named_property(name)?;
    if object.has_named_property("send")? {
        let js = JsNotifier::new(&object).map_err(|_| wrong(env, "notifier", "a Notifier"))?;
        return Ok(Some(Arc::new(js)));
    }
    if name == "notifier" && (object.has_named_property("email")? || object.has_named_property("sms")?) {
        let email = notifier(env, &object, "email")?;
        let sms = notifier(env, &object, "sms")?;
        return Ok(Some(Arc::new(sspr_core::backend::ByChannel::new(email, sms))));
    }
    Err(wrong(env, "notifier", "a notifier, or { email, sms } notifiers"))
}
