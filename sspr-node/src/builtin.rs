//! The built-in backends, as JavaScript classes: the in-memory ones of sspr-core here, those
//! of sspr-backends behind cargo features ([`backends`]), every backend of an engine from one
//! configuration ([`config`]), and the choice of a backend for each slot of `new Sspr({...})`
//! (a built-in class, else a JavaScript object adapted by `foreign`). Passing a built-in one
//! keeps every call inside Rust.

pub mod backends;
#[cfg(feature = "config")]
pub mod config;

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
    /// The user's mailbox in the directory, where registration reminders go.
    pub mail: Option<String>,
}

/// The user to insert; a `mail` that is not an address is `INVALID_INPUT` naming `mail`.
fn memory_user(u: MemoryUserInput) -> sspr_core::Result<memory::MemoryUser> {
    let mail = u
        .mail
        .map(|m| sspr_core::EmailAddress::parse(&m))
        .transpose()
        .map_err(|_| sspr_core::Error::InvalidInput { field: "mail", reason: "not an e-mail address".into() })?;
    Ok(memory::MemoryUser {
        mail,
        login: u.login,
        display_name: u.display_name,
        dn: u.dn,
        groups: u.groups.unwrap_or_default(),
        state: u.state.unwrap_or_default().into(),
        password: u.password.map(sspr_core::Password::new),
    })
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
        let users = users.unwrap_or_default().into_iter().map(memory_user).collect::<sspr_core::Result<Vec<_>>>();
        let inner = users.and_then(memory::MemoryDirectory::with_users).map_err(|e| to_js_error(env, &e))?;
        Ok(Self { inner })
    }

    /// Add a user, or replace the one with the same login or DN.
    #[napi]
    pub fn insert(&self, env: &Env, user: MemoryUserInput) -> Result<()> {
        memory_user(user).and_then(|u| self.inner.insert(u)).map_err(|e| to_js_error(env, &e))
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

    /// The last code sent to `address` to prove it as a new contact.
    #[napi]
    pub fn last_proof_code_to(&self, address: String) -> Option<String> {
        self.inner.last_proof_code_to(&address)
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
    /// Checks of a chosen password after the policy's, in order (configured or JavaScript).
    pub(crate) password_checkers: Vec<Arc<dyn sspr_core::PasswordChecker>>,
    /// Event hooks, one event each (`index.js` hands each over as `{ event, hook }`).
    pub(crate) hooks: Vec<(sspr_core::HookEvent, Arc<dyn sspr_core::EventHook>)>,
    /// The bot challenge `beginReset` asks for (`backends.fromConfig(...).botChallenge`).
    pub(crate) bot_challenge: Option<(Arc<dyn sspr_core::BotChallenge>, sspr_core::ChallengePolicy)>,
}

/// Whether `options[name]` is set.
fn present(options: &Object<'_>, name: &str) -> Result<bool> {
    let value: Option<napi::bindgen_prelude::Unknown<'_>> = options.get(name)?;
    Ok(value.is_some_and(|v| !matches!(v.get_type(), Ok(napi::ValueType::Undefined | napi::ValueType::Null))))
}

/// A built-in backend of class `T` under `options[name]`, if that is what it holds.
pub(crate) fn builtin<'a, T: 'a + napi::bindgen_prelude::MaybeTypeTag>(
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

/// The first of the built-in classes (each behind its optional cargo feature) that
/// `options[name]` is an instance of, as the slot's trait object.
macro_rules! first_builtin {
    ($options:expr, $name:expr, $slot:ty: $($(#[$cfg:meta])* $class:ty),+ $(,)?) => {{
        let mut found: Option<Arc<$slot>> = None;
        $(
            $(#[$cfg])*
            if found.is_none() {
                found = builtin::<$class>($options, $name).map(|b| Arc::new(b.inner.clone()) as Arc<$slot>);
            }
        )+
        found
    }};
}

/// The backend of one slot: the first built-in class matching, a configured backend for this
/// slot, or a JavaScript object adapted by `$foreign` (refused as `$what` when it does not fit).
macro_rules! slot {
    ($env:expr, $options:expr, $name:expr, $slot:ty, $variant:path, $foreign:ty, $what:literal:
     $($(#[$cfg:meta])* $class:ty),+ $(,)?) => {
        choose(
            $env,
            $options,
            $name,
            first_builtin!($options, $name, $slot: $($(#[$cfg])* $class),+),
            |s| if let $variant(b) = s { Some(b.clone()) } else { None },
            |o| Ok(Arc::new(<$foreign>::new(o).map_err(|_| wrong($env, $name, $what))?) as Arc<$slot>),
        )
    };
}

/// The backend of one slot: `built_in` if the option is a built-in class (a configured
/// backend for this slot included), else `foreign` on the JavaScript object, else none.
#[cfg_attr(not(feature = "config"), allow(unused_variables))]
fn choose<T: ?Sized>(
    env: &Env,
    options: &Object<'_>,
    name: &'static str,
    built_in: Option<Arc<T>>,
    configured: fn(&Slot) -> Option<Arc<T>>,
    foreign: impl FnOnce(&Object<'_>) -> Result<Arc<T>>,
) -> Result<Option<Arc<T>>> {
    if built_in.is_some() {
        return Ok(built_in);
    }
    #[cfg(feature = "config")]
    if let Some(c) = builtin::<config::ConfiguredBackend>(options, name) {
        let expected = format!("the {name} (this configured backend is the {})", c.slot.option());
        return configured(&c.slot).map(Some).ok_or_else(|| wrong(env, name, &expected));
    }
    if !present(options, name)? {
        return Ok(None);
    }
    let object: Object<'_> = options.get_named_property(name)?;
    foreign(&object).map(Some)
}

/// Which slot a configured backend (`backends.fromConfig`) fills.
#[cfg_attr(not(feature = "config"), allow(dead_code))]
pub(crate) enum Slot {
    Directory(Arc<dyn Directory>),
    Contacts(Arc<dyn ContactStore>),
    State(Arc<dyn StateStore>),
    Notifier(Arc<dyn Notifier>),
    Audit(Arc<dyn AuditSink>),
    PasswordChecker(Arc<dyn sspr_core::PasswordChecker>),
    /// `[bot_challenge]`: the verifier and when `beginReset` asks for it.
    BotChallenge(Arc<dyn sspr_core::BotChallenge>, sspr_core::ChallengePolicy),
}

impl Slot {
    /// The option of `new Sspr({...})` it goes to.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn option(&self) -> &'static str {
        match self {
            Slot::Directory(_) => "directory",
            Slot::Contacts(_) => "contacts",
            Slot::State(_) => "store",
            Slot::Notifier(_) => "notifier",
            Slot::Audit(_) => "audit",
            Slot::PasswordChecker(_) => "passwordCheckers",
            Slot::BotChallenge(..) => "botChallenge",
        }
    }
}

impl Slots {
    /// Read the backends of `new Sspr(options)`.
    pub(crate) fn from_options(env: &Env, options: &Object<'_>) -> Result<Self> {
        use crate::foreign::{JsAuditSink, JsContactStore, JsDirectory, JsStateStore};
        #[allow(unused_imports)]
        use backends::*;

        let directory = slot!(env, options, "directory", dyn Directory, Slot::Directory, JsDirectory, "a Directory":
            MemoryDirectory, #[cfg(feature = "ldap")] LdapDirectory)?
        .ok_or_else(|| wrong(env, "directory", "a directory"))?;
        let contacts = slot!(env, options, "contacts", dyn ContactStore, Slot::Contacts, JsContactStore, "a ContactStore":
            MemoryContactStore, #[cfg(feature = "sqlite")] SqliteStore, #[cfg(feature = "postgres")] PostgresStore,
            #[cfg(feature = "ldap")] LdapContactStore)?;
        let notifier = notifier(env, options, "notifier")?.ok_or_else(|| wrong(env, "notifier", "a notifier"))?;
        let store = slot!(env, options, "store", dyn StateStore, Slot::State, JsStateStore, "a StateStore":
            MemoryStateStore, #[cfg(feature = "sqlite")] SqliteStore, #[cfg(feature = "redis")] RedisStore,
            #[cfg(feature = "postgres")] PostgresStore)?;
        let audit = slot!(env, options, "audit", dyn AuditSink, Slot::Audit, JsAuditSink, "an AuditSink":
            MemoryAuditSink)?;
        // `index.js` hands each checker over as `{ checker }`: a configured one or a JS object.
        let mut password_checkers = Vec::new();
        if present(options, "passwordCheckers")? {
            let list: Vec<Object<'_>> = options.get_named_property("passwordCheckers")?;
            for item in &list {
                let checker = choose(
                    env,
                    item,
                    "checker",
                    None,
                    |s| if let Slot::PasswordChecker(c) = s { Some(c.clone()) } else { None },
                    |o| {
                        let js = crate::foreign::JsPasswordChecker::new(o)
                            .map_err(|_| wrong(env, "passwordCheckers", "a PasswordChecker"))?;
                        Ok(Arc::new(js) as Arc<dyn sspr_core::PasswordChecker>)
                    },
                )?
                .ok_or_else(|| wrong(env, "passwordCheckers", "a list of PasswordCheckers"))?;
                password_checkers.push(checker);
            }
        }

        let mut hooks = Vec::new();
        if present(options, "hooks")? {
            let list: Vec<Object<'_>> = options.get_named_property("hooks")?;
            for item in &list {
                let name: String = item.get_named_property("event")?;
                let event = name.parse::<sspr_core::HookEvent>().map_err(|e| to_js_error(env, &e))?;
                let hook: Object<'_> = item.get_named_property("hook")?;
                let hook = crate::foreign::JsEventHook::new(&hook).map_err(|_| wrong(env, "hooks", "functions"))?;
                hooks.push((event, Arc::new(hook) as Arc<dyn sspr_core::EventHook>));
            }
        }

        let clock = if let Some(c) = builtin::<ManualClock>(options, "clock") {
            Some(c.inner.clone())
        } else if present(options, "clock")? {
            return Err(wrong(env, "clock", "a ManualClock"));
        } else {
            None
        };

        // Only a configured one (`[bot_challenge]`): the token is checked by sspr-backends.
        #[cfg(feature = "config")]
        let bot_challenge = match builtin::<config::ConfiguredBackend>(options, "botChallenge") {
            Some(configured) => match &configured.slot {
                Slot::BotChallenge(verifier, policy) => Some((verifier.clone(), *policy)),
                _ => return Err(wrong(env, "botChallenge", "backends.fromConfig(...).botChallenge")),
            },
            None if present(options, "botChallenge")? => {
                return Err(wrong(env, "botChallenge", "backends.fromConfig(...).botChallenge"));
            }
            None => None,
        };
        #[cfg(not(feature = "config"))]
        let bot_challenge = None;

        Ok(Self { directory, contacts, notifier, store, audit, clock, password_checkers, hooks, bot_challenge })
    }
}

/// The notifier under `options[name]`: built in, written in JavaScript, or `{ email, sms }`.
fn notifier(env: &Env, options: &Object<'_>, name: &'static str) -> Result<Option<Arc<dyn Notifier>>> {
    use crate::foreign::JsNotifier;
    #[allow(unused_imports)]
    use backends::*;
    let built_in = first_builtin!(options, name, dyn Notifier: Outbox,
        #[cfg(feature = "smtp")] SmtpNotifier, #[cfg(feature = "sms-twilio")] TwilioSms,
        #[cfg(feature = "webhook")] WebhookNotifier);
    choose(
        env,
        options,
        name,
        built_in,
        |s| if let Slot::Notifier(n) = s { Some(n.clone()) } else { None },
        |object| {
            if object.has_named_property("send")? {
                let js = JsNotifier::new(object).map_err(|_| wrong(env, "notifier", "a Notifier"))?;
                return Ok(Arc::new(js));
            }
            if name == "notifier" && (object.has_named_property("email")? || object.has_named_property("sms")?) {
                let email = notifier(env, object, "email")?;
                let sms = notifier(env, object, "sms")?;
                return Ok(Arc::new(sspr_core::backend::ByChannel::new(email, sms)));
            }
            Err(wrong(env, "notifier", "a notifier, or { email, sms } notifiers"))
        },
    )
}

/// A configuration object with its keys (at every depth) in snake_case: JavaScript callers
/// write `poolSize`, sspr-backends' configurations read `pool_size`. Values are left alone.
pub(crate) fn snake_keys(value: serde_json::Value) -> serde_json::Value {
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
    match value {
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.into_iter().map(|(k, v)| (snake(&k), snake_keys(v))).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(snake_keys).collect()),
        other => other,
    }
}
