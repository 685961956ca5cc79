//! The backends of `sspr-backends`, offered as Python classes in `sspr.backends` when the
//! package is built with their cargo features (the wheel is built with all of them, see
//! `pyproject.toml`). Each class is configured with keyword arguments: the same fields as the
//! backend's configuration in the portal's TOML file, read by the backend's own serde type
//! ([`build`], [`connect`]) and checked by the backend itself.

use pyo3::prelude::*;
#[allow(unused_imports)]
use pyo3::types::PyDict;

#[allow(unused_imports)]
use crate::runtime::InRuntime;

/// The JSON text of a configuration: `fields` (keyword arguments) plus `extra`; `Secret`
/// values are revealed for the backend's parser.
#[allow(dead_code)]
pub(super) fn config_json(
    py: Python<'_>,
    fields: Option<&Bound<'_, PyDict>>,
    extra: &[(&str, Bound<'_, PyAny>)],
) -> PyResult<String> {
    let all = PyDict::new(py);
    if let Some(fields) = fields {
        for (k, v) in fields.iter() {
            let v = match v.cast::<crate::values::Secret>() {
                Ok(secret) => secret.get().value.expose_secret().into_pyobject(py)?.into_any(),
                Err(_) => v,
            };
            all.set_item(k, v)?;
        }
    }
    for (k, v) in extra {
        all.set_item(*k, v)?;
    }
    crate::values::py_to_json(all.as_any())
        .map_err(|e| crate::errors::config_error(format!("backend configuration: {e}")))
}

/// Read `fields` (plus `extra`) as the backend's configuration `C`, naming the class in a
/// `ConfigError` without echoing values.
#[allow(dead_code)]
fn parse<C: serde::de::DeserializeOwned>(
    py: Python<'_>,
    what: &str,
    fields: Option<&Bound<'_, PyDict>>,
    extra: &[(&str, Bound<'_, PyAny>)],
) -> PyResult<C> {
    serde_json::from_str(&config_json(py, fields, extra)?)
        .map_err(|e| crate::errors::config_error(format!("{what}: {e}")))
}

#[allow(dead_code)]
fn backend_err(e: sspr_core::BackendError) -> PyErr {
    crate::errors::to_py_err(sspr_core::Error::from(e))
}

/// A backend built from its configuration by `make`, without the GIL and inside the runtime
/// (connection pools start their tasks there).
#[allow(dead_code)]
fn build<C: serde::de::DeserializeOwned + Send, T: Send>(
    py: Python<'_>,
    what: &str,
    fields: Option<&Bound<'_, PyDict>>,
    make: impl FnOnce(C) -> Result<T, sspr_core::BackendError> + Send,
) -> PyResult<InRuntime<T>> {
    let config: C = parse(py, what, fields, &[])?;
    let handle = crate::runtime::handle()?;
    let built = py.detach(|| {
        let _runtime = handle.tokio().enter();
        make(config)
    });
    Ok(InRuntime::new(built.map_err(backend_err)?))
}

/// A backend that connects at once (and so fails at once when its server is unreachable).
#[allow(dead_code)]
fn connect<C: serde::de::DeserializeOwned, T: Send, F>(
    py: Python<'_>,
    what: &str,
    url: &Bound<'_, PyAny>,
    fields: Option<&Bound<'_, PyDict>>,
    make: impl FnOnce(C) -> F,
) -> PyResult<InRuntime<T>>
where
    F: std::future::Future<Output = Result<T, sspr_core::Error>> + Send,
{
    let config: C = parse(py, what, fields, &[("url", url.clone())])?;
    let inner = crate::runtime::block_on(py, make(config))?.map_err(crate::errors::to_py_err)?;
    Ok(InRuntime::new(inner))
}

/// One `sspr.backends` class over an sspr-backends backend, behind its cargo feature: the
/// struct holding it (for the runtime to drop), its constructor and its `repr` (the
/// backend's own `Debug`, which shows no secret). `from keywords` makes the constructor of a
/// class configured by keyword arguments alone (read by [`build`]), `with` a rewrite of them
/// first.
macro_rules! backend_class {
    ($(#[$doc:meta])* $class:ident($inner:ty) if $feature:tt, from keywords $(with $rewrite:ident)? => $make:expr) => {
        backend_class! {
            $(#[$doc])*
            $class($inner) if $feature,
            #[pyo3(signature = (**fields))]
            fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) {
                $(let rewritten = $rewrite(fields)?; let fields = rewritten.as_ref();)?
                build(py, stringify!($class), fields, $make)?
            }
        }
    };
    ($(#[$doc:meta])* $class:ident($inner:ty) if $feature:tt, $(#[$sig:meta])* fn new($($args:tt)*) $body:block) => {
        $(#[$doc])*
        #[cfg(feature = $feature)]
        #[pyclass(frozen, module = "sspr.backends")]
        pub(crate) struct $class {
            pub(crate) inner: InRuntime<$inner>,
        }

        #[cfg(feature = $feature)]
        #[pymethods]
        impl $class {
            #[new]
            $(#[$sig])*
            fn new($($args)*) -> PyResult<Self> {
                Ok(Self { inner: $body })
            }

            fn __repr__(&self) -> String {
                self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
            }
        }
    };
}

backend_class! {
    /// The embedded contact and state store: one SQLite database file (WAL), or a private
    /// in-memory database when `path` is None. Pass it as `contacts=` and/or `store=`.
    SqliteStore(sspr_backends::sqlite::SqliteStore) if "sqlite",
    #[pyo3(signature = (path = None, **fields))]
    fn new(py: Python<'_>, path: Option<std::path::PathBuf>, fields: Option<&Bound<'_, PyDict>>) {
        use sspr_backends::sqlite::{SqliteConfig, SqliteStore as Store};
        let inner = match path {
            None => Store::open_in_memory(),
            Some(path) => {
                let path = path.into_pyobject(py)?.str()?.into_any();
                let config: SqliteConfig = parse(py, "SqliteStore", fields, &[("path", path)])?;
                py.detach(|| Store::from_config(&config))
            }
        };
        InRuntime::new(inner.map_err(backend_err)?)
    }
}

backend_class! {
    /// A state store shared by several portal instances. Connects at once (`url` is
    /// `rediss://[:password@]host:port/db` for TLS; `redis://` to another host than this one
    /// is refused unless `allow_plaintext=True`); other fields: `key_prefix`, `ca_file` (a
    /// private CA), `client_cert_file` and `client_key_file` (for a server that asks for a
    /// client certificate), `connect_timeout_ms`, `response_timeout_ms`, `expiry_grace_secs`.
    /// Pass it as `store=`.
    RedisStore(sspr_backends::redis::RedisStore) if "redis",
    #[pyo3(signature = (url, **fields))]
    fn new(py: Python<'_>, url: &Bound<'_, PyAny>, fields: Option<&Bound<'_, PyDict>>) {
        use sspr_backends::redis::{RedisConfig, RedisStore as Store};
        connect(py, "RedisStore", url, fields, |c: RedisConfig| async move {
            // A bad TLS file is a bad field (`ConfigError`), as in every binding.
            c.check_tls_files()?;
            Ok(Store::from_config(&c).await?)
        })?
    }
}

backend_class! {
    /// Contact and state store in PostgreSQL, shared by several portal instances. Connects at
    /// once and brings the schema up to date; other fields: `ca_file` (TLS follows the URL's
    /// `sslmode`, `verify-full` by default with a CA), `pool_size`, `connect_timeout_ms`,
    /// `query_timeout_ms`, `sweep_interval_secs`. Pass it as `contacts=` and/or `store=`.
    PostgresStore(sspr_backends::postgres::PostgresStore) if "postgres",
    #[pyo3(signature = (url, **fields))]
    fn new(py: Python<'_>, url: &Bound<'_, PyAny>, fields: Option<&Bound<'_, PyDict>>) {
        use sspr_backends::postgres::{PostgresConfig, PostgresStore as Store};
        connect(py, "PostgresStore", url, fields, |c: PostgresConfig| async move {
            // A bad CA file or sslmode is a bad field (`ConfigError`), as in every binding.
            c.check_tls_files()?;
            Ok(Store::from_config(&c).await?)
        })?
    }
}

backend_class! {
    /// OpenLDAP or Active Directory. Keyword arguments as in the portal's `[ldap]` section:
    /// `url` (`ldaps://...`, or `ldap://...` with `starttls=True`), `base_dn`, `bind_dn`,
    /// `bind_password` (str or `Secret`), `flavor` (`"openldap"` or `"active_directory"`),
    /// `ca_file`, `login_attribute`, `display_name_attribute`, `user_filter`,
    /// `group_base_dn`, `password_policy_dn`, `pool_size`, `sign_in_connections`, `connect_timeout_secs`, `operation_timeout_secs`,
    /// `allow_plaintext`.
    LdapDirectory(sspr_backends::ldap::LdapDirectory) if "ldap",
    from keywords => sspr_backends::ldap::LdapDirectory::new
}

backend_class! {
    /// Contacts kept in attributes of the user's directory entry: `email_attribute`
    /// (default `otherMailbox`), `phone_attribute` (`mobile`), `enabled_attribute`,
    /// `record_attribute` (a single-valued attribute for the rest of the record; without it
    /// the store is read-only), `record_key` (str or `Secret`, at least 32 bytes: signs the
    /// record, required with `record_attribute`), `changed_contact_cooling_off_secs`,
    /// `enabled_by_default`. Pass it as `contacts=`.
    LdapContactStore(sspr_backends::ldap::LdapContactStore) if "ldap",
    #[pyo3(signature = (directory, **fields))]
    fn new(py: Python<'_>, directory: &Bound<'_, LdapDirectory>, fields: Option<&Bound<'_, PyDict>>) {
        let directory = directory.get().inner.get()?.clone();
        build(py, "LdapContactStore", fields, move |c| sspr_backends::ldap::LdapContactStore::new(&directory, c))?
    }
}

backend_class! {
    /// Sends notices by e-mail through an SMTP relay. Keyword arguments as in the portal's
    /// `[smtp]` section: `host`, `from_` or `sender` (the sender, e.g.
    /// `"Password reset <no-reply@example.org>"`), `port`, `tls` (`"starttls"`, `"implicit"`,
    /// `"none"`: a relay on this host only, unless `allow_plaintext=True`), `username`,
    /// `password` (str or `Secret`), `ca_file`, `allow_plaintext`, `timeout_ms`, `pool_size`. No connection is made before the first message. Pass it as `notifier=`.
    SmtpNotifier(sspr_backends::smtp::SmtpNotifier) if "smtp",
    from keywords with with_from_alias => |c| sspr_backends::smtp::SmtpNotifier::from_config(&c)
}

backend_class! {
    /// Sends PINs and notices by SMS through Twilio's Messages API (or a Twilio-compatible
    /// gateway at `base_url`): `account_sid`, `auth_token` (str or `Secret`), and `from_` (the
    /// sending number) or `messaging_service_sid`; `timeout_ms`, `connect_retries`, `ca_file`,
    /// `allow_insecure_http` (plain `http://` is otherwise accepted only to loopback).
    /// SMS only. Pass it as `notifier=` (with `Policy(sms_enabled=True)`).
    TwilioNotifier(sspr_backends::twilio::TwilioNotifier) if "sms-twilio",
    from keywords with with_from_alias => |c| sspr_backends::twilio::TwilioNotifier::from_config(&c)
}

backend_class! {
    /// Sends notices to any gateway as a signed JSON POST (HMAC-SHA256 in `X-Sspr-Signature`):
    /// `url`, `key` (32+ bytes, str or `Secret`), `timeout_ms`, `connect_retries`, `ca_file`,
    /// `allow_insecure_http` (plain `http://` is otherwise accepted only to loopback).
    /// Pass it as `notifier=`.
    WebhookNotifier(sspr_backends::webhook::WebhookNotifier) if "webhook",
    from keywords => |c| sspr_backends::webhook::WebhookNotifier::from_config(&c)
}

/// `from_` / `sender` for the `from` field (a Python keyword).
#[allow(dead_code)]
fn with_from_alias<'py>(fields: Option<&Bound<'py, PyDict>>) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Some(f) = fields else { return Ok(None) };
    let copy = f.copy()?;
    for alias in ["from_", "sender"] {
        if let Some(v) = copy.get_item(alias)? {
            copy.del_item(alias)?;
            copy.set_item("from", v)?;
        }
    }
    Ok(Some(copy))
}

/// Register the built-in backend classes in the `backends` submodule.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    #[cfg(feature = "sqlite")]
    m.add_class::<SqliteStore>()?;
    #[cfg(feature = "redis")]
    m.add_class::<RedisStore>()?;
    #[cfg(feature = "postgres")]
    m.add_class::<PostgresStore>()?;
    #[cfg(feature = "smtp")]
    m.add_class::<SmtpNotifier>()?;
    #[cfg(feature = "sms-twilio")]
    m.add_class::<TwilioNotifier>()?;
    #[cfg(feature = "webhook")]
    m.add_class::<WebhookNotifier>()?;
    #[cfg(feature = "ldap")]
    {
        m.add_class::<LdapDirectory>()?;
        m.add_class::<LdapContactStore>()?;
    }
    let _ = m;
    Ok(())
}
