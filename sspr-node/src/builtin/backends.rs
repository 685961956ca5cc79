//! The backends of sspr-backends as JavaScript classes, each behind its cargo feature (the npm
//! package has them all). Each is configured with an object holding the fields of the
//! backend's own configuration (camelCase or snake_case keys), read by `build`: the same
//! serde types `backends.fromConfig` and the portal read.

use napi::Env;
use napi::Result;
#[allow(unused_imports)]
use napi::bindgen_prelude::ClassInstance;
#[allow(unused_imports)]
use napi_derive::napi;

#[allow(unused_imports)]
use crate::errors::to_js_error;

/// Read `value` as one of sspr-backends' configurations (which refuse unknown fields) and
/// build the backend from it inside napi's tokio runtime (where connection pools live).
/// `CONFIG` names the class for a bad field, `BACKEND` for a backend that cannot be set up.
#[allow(dead_code)]
fn build<C: serde::de::DeserializeOwned, T>(
    env: &Env,
    value: serde_json::Value,
    what: &str,
    make: impl FnOnce(C) -> std::result::Result<T, sspr_core::BackendError>,
) -> Result<T> {
    crate::runtime::stay_in_runtime_context();
    let config: C = serde_json::from_value(super::snake_keys(value))
        .map_err(|e| to_js_error(env, &sspr_core::Error::Config(format!("{what}: {e}"))))?;
    napi::bindgen_prelude::within_runtime_if_available(|| make(config))
        .map_err(|e| to_js_error(env, &sspr_core::Error::from(e)))
}

/// Connect a shared store: `input` is its URL or the object of its configuration's fields
/// (read by [`build`]); `check` refuses a bad field as `CONFIG` before anything connects;
/// `open` connects inside napi's runtime, where the store's pool lives, and `wrap` makes the
/// JavaScript class of what it opened.
#[allow(dead_code)]
fn connect<'env, C, S, F, T>(
    env: &'env Env,
    input: serde_json::Value,
    what: &str,
    from_url: fn(String) -> C,
    check: fn(&C) -> std::result::Result<(), sspr_core::Error>,
    open: impl FnOnce(C) -> F,
    wrap: fn(S) -> T,
) -> Result<crate::runtime::Answer<'env, T>>
where
    C: serde::de::DeserializeOwned,
    S: Send + 'static,
    F: std::future::Future<Output = std::result::Result<S, sspr_core::BackendError>> + Send + 'static,
    T: napi::bindgen_prelude::ToNapiValue + 'static,
{
    crate::runtime::stay_in_runtime_context();
    let config = match input {
        serde_json::Value::String(url) => from_url(url),
        other => build(env, other, what, Ok::<C, _>)?,
    };
    check(&config).map_err(|e| to_js_error(env, &e))?;
    let opening = open(config);
    crate::runtime::run(env, async move { Ok(opening.await?) }, move |store| Ok(wrap(store)))
}

/// A class over one sspr-backends backend built from its configuration object alone: the
/// struct holding it and the constructor reading `config` through [`build`].
macro_rules! config_class {
    ($($doc:literal)+ $class:ident($inner:ty) if $feature:tt, $ts:tt, $make:expr) => {
        $(#[doc = $doc])+
        #[cfg(feature = $feature)]
        #[napi]
        pub struct $class {
            pub(crate) inner: $inner,
        }

        #[cfg(feature = $feature)]
        #[napi]
        impl $class {
            /// Built from `config`: the fields of the backend's configuration.
            #[napi(constructor, ts_args_type = $ts)]
            pub fn new(env: &Env, config: serde_json::Value) -> Result<Self> {
                Ok(Self { inner: build(env, config, stringify!($class), $make)? })
            }
        }
    };
}

/// A store shared by several portal instances: the class holding it and its `connect_*`
/// function, which reads a URL or the configuration's fields and connects through [`connect`].
macro_rules! shared_store {
    (
        $($doc:literal)+ $class:ident($inner:ty) if $feature:tt,
        $($connect_doc:literal)+ fn $connect:ident($config:ty), $ts_args:tt, $ts_return:tt, $check:expr
    ) => {
        $(#[doc = $doc])+
        #[cfg(feature = $feature)]
        #[napi]
        pub struct $class {
            pub(crate) inner: $inner,
        }

        $(#[doc = $connect_doc])+
        #[cfg(feature = $feature)]
        #[napi(ts_args_type = $ts_args, ts_return_type = $ts_return)]
        pub fn $connect<'env>(
            env: &'env Env,
            config: serde_json::Value,
        ) -> Result<crate::runtime::Answer<'env, $class>> {
            let open = |config: $config| async move { <$inner>::from_config(&config).await };
            connect(env, config, stringify!($class), <$config>::new, $check, open, |inner| $class { inner })
        }
    };
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

shared_store! {
    " A state store on Redis (sspr-backends), shared by several portal instances."
    RedisStore(sspr_backends::redis::RedisStore) if "redis",
    " Connect to Redis: `config` is a URL (`rediss://host:port/db`, or `redis://` on this host) or"
    " `{ url, caFile, allowPlaintext, keyPrefix, ... }` (the fields of sspr-backends'"
    " `RedisConfig`, as Python's `RedisStore(url, ca_file=..., allow_plaintext=...)` takes them);"
    " `index.js` offers it as `RedisStore.connect`. `CONFIG` for a bad field (a TLS file that"
    " cannot be read or holds no PEM certificate or key, a client certificate without its key"
    " among them), `BACKEND` (`unavailable`) when it cannot be reached, (`rejected`) for `redis://` to another host"
    " without `allowPlaintext`."
    fn connect_redis(sspr_backends::redis::RedisConfig),
    "config: string | { url: string, caFile?: string, clientCertFile?: string, clientKeyFile?: string, allowPlaintext?: boolean, keyPrefix?: string, cluster?: boolean, clusterNodes?: string[], connectTimeoutMs?: number, responseTimeoutMs?: number, expiryGraceSecs?: number }",
    "RedisStore | Promise<RedisStore>",
    // A bad TLS file is a bad field (`CONFIG`), as in every binding, not a failed connection.
    sspr_backends::redis::RedisConfig::check_tls_files
}

shared_store! {
    " A contact and state store on PostgreSQL (sspr-backends), shared by several instances."
    PostgresStore(sspr_backends::postgres::PostgresStore) if "postgres",
    " Connect to PostgreSQL: `config` is a URL or `{ url, caFile, poolSize, connectTimeoutMs,"
    " queryTimeoutMs, sweepIntervalSecs }`; `index.js` offers it as `PostgresStore.connect`."
    " `CONFIG` for a bad field (a CA file, `caFile` or the URL's `sslrootcert`, that cannot be"
    " read or holds no PEM certificate; an unknown `sslmode`), `BACKEND` when it cannot be reached."
    fn connect_postgres(sspr_backends::postgres::PostgresConfig),
    "config: string | { url: string, caFile?: string, poolSize?: number, connectTimeoutMs?: number, queryTimeoutMs?: number, sweepIntervalSecs?: number }",
    "PostgresStore | Promise<PostgresStore>",
    // A bad CA file or sslmode is a bad field (`CONFIG`), as in every binding, not a failed connection.
    sspr_backends::postgres::PostgresConfig::check_tls_files
}

config_class! {
    " An OpenLDAP or Active Directory directory (sspr-backends): TLS-verified, pooled, connecting"
    " lazily. `config`: `{ url, flavor: 'openldap' | 'active_directory', baseDn, bindDn,"
    " bindPassword, starttls?, caFile?, ... }` (the fields of sspr-backends' `LdapConfig`)."
    LdapDirectory(sspr_backends::ldap::LdapDirectory) if "ldap",
    "config: { url: string, flavor?: 'openldap' | 'active_directory', baseDn: string, bindDn: string, bindPassword: string, starttls?: boolean, caFile?: string, allowPlaintext?: boolean, loginAttribute?: string, displayNameAttribute?: string, userFilter?: string, groupBaseDn?: string, passwordPolicyDn?: string, poolSize?: number, signInConnections?: number, connectTimeoutSecs?: number, operationTimeoutSecs?: number }",
    sspr_backends::ldap::LdapDirectory::new
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
        config: Option<serde_json::Value>,
    ) -> Result<Self> {
        let config = config.unwrap_or_else(|| serde_json::json!({}));
        let inner = build(env, config, "LdapContactStore", |c| {
            sspr_backends::ldap::LdapContactStore::new(&directory.inner, c)
        })?;
        Ok(Self { inner })
    }
}

config_class! {
    " An SMTP notifier (sspr-backends): the standard notices as text and HTML, STARTTLS or"
    " implicit TLS, pooled; a message is never retried (a PIN must not arrive twice). `config`: `{"
    " host, from, port?, tls?: 'starttls' | 'implicit' | 'none', username?, password?, caFile?,"
    " allowPlaintext?, timeoutMs?, poolSize? }` (`tls: 'none'` to another host than this one"
    " needs `allowPlaintext: true`)."
    SmtpNotifier(sspr_backends::smtp::SmtpNotifier) if "smtp",
    "config: { host: string, from: string, port?: number, tls?: 'starttls' | 'implicit' | 'none', username?: string, password?: string, caFile?: string, allowPlaintext?: boolean, timeoutMs?: number, poolSize?: number }",
    |c| sspr_backends::smtp::SmtpNotifier::from_config(&c)
}

config_class! {
    " SMS through the Twilio Messages API or a gateway speaking it (sspr-backends). `config`: `{"
    " accountSid, authToken, from? | messagingServiceSid?, baseUrl?, timeoutMs?, connectRetries?,"
    " caFile?, allowInsecureHttp? }`."
    TwilioSms(sspr_backends::twilio::TwilioNotifier) if "sms-twilio",
    "config: { accountSid: string, authToken: string, from?: string, messagingServiceSid?: string, baseUrl?: string, timeoutMs?: number, connectRetries?: number, caFile?: string, allowInsecureHttp?: boolean }",
    |c| sspr_backends::twilio::TwilioNotifier::from_config(&c)
}

config_class! {
    " Any other gateway: a JSON POST signed with HMAC-SHA256 (sspr-backends). `config`: `{ url,"
    " key (32+ bytes), timeoutMs?, connectRetries?, caFile?, allowInsecureHttp? }`."
    WebhookNotifier(sspr_backends::webhook::WebhookNotifier) if "webhook",
    "config: { url: string, key: string, timeoutMs?: number, connectRetries?: number, caFile?: string, allowInsecureHttp?: boolean }",
    |c| sspr_backends::webhook::WebhookNotifier::from_config(&c)
}
