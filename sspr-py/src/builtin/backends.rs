//! The backends of `sspr-backends`, offered as Python classes in `sspr.backends` when the
//! package is built with their cargo features (the wheel is built with all of them, see
//! `pyproject.toml`). Each class is configured with keyword arguments: the same fields as the
//! backend's configuration in the portal's TOML file, checked by the backend itself.

use std::sync::Arc;

use pyo3::prelude::*;
#[allow(unused_imports)]
use pyo3::types::PyDict;
use sspr_core::{ContactStore, Directory, Notifier, StateStore};

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

/// Parse a backend configuration, naming the problem without echoing values.
#[allow(dead_code)]
fn parse<T: for<'de> serde::Deserialize<'de>>(what: &str, json: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|e| crate::errors::config_error(format!("{what}: {e}")))
}

#[allow(dead_code)]
fn backend_err(e: sspr_core::BackendError) -> PyErr {
    crate::errors::to_py_err(sspr_core::Error::from(e))
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sspr_backends::sqlite::{SqliteConfig, SqliteStore as Store};

    /// The embedded contact and state store: one SQLite database file (WAL), or a private
    /// in-memory database when `path` is None. Pass it as `contacts=` and/or `store=`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct SqliteStore {
        pub(crate) inner: InRuntime<Store>,
    }

    #[pymethods]
    impl SqliteStore {
        #[new]
        #[pyo3(signature = (path = None, **fields))]
        fn new(py: Python<'_>, path: Option<std::path::PathBuf>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let inner = match path {
                None => Store::open_in_memory(),
                Some(path) => {
                    let path = path.into_pyobject(py)?.str()?.into_any();
                    let config: SqliteConfig = parse("SqliteStore", &config_json(py, fields, &[("path", path)])?)?;
                    py.detach(|| Store::from_config(&config))
                }
            }
            .map_err(backend_err)?;
            Ok(Self { inner: InRuntime::new(inner) })
        }

        fn __repr__(&self) -> String {
            self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
        }
    }
}

#[cfg(feature = "redis")]
mod redis {
    use super::*;
    use sspr_backends::redis::{RedisConfig, RedisStore as Store};

    /// A state store shared by several portal instances. Connects at once (`url` is
    /// `redis://[:password@]host:port/db`); other fields: `key_prefix`, `connect_timeout_ms`,
    /// `response_timeout_ms`, `expiry_grace_secs`. Pass it as `store=`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct RedisStore {
        pub(crate) inner: InRuntime<Store>,
    }

    #[pymethods]
    impl RedisStore {
        #[new]
        #[pyo3(signature = (url, **fields))]
        fn new(py: Python<'_>, url: &Bound<'_, PyAny>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let config: RedisConfig = parse("RedisStore", &config_json(py, fields, &[("url", url.clone())])?)?;
            let inner =
                crate::runtime::block_on(py, async move { Store::from_config(&config).await })?.map_err(backend_err)?;
            Ok(Self { inner: InRuntime::new(inner) })
        }

        fn __repr__(&self) -> String {
            self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use sspr_backends::postgres::{PostgresConfig, PostgresStore as Store};

    /// Contact and state store in PostgreSQL, shared by several portal instances. Connects at
    /// once and brings the schema up to date; other fields: `ca_file` (TLS follows the URL's
    /// `sslmode`, `verify-full` by default with a CA), `pool_size`, `connect_timeout_ms`,
    /// `query_timeout_ms`, `sweep_interval_secs`. Pass it as `contacts=` and/or `store=`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct PostgresStore {
        pub(crate) inner: InRuntime<Store>,
    }

    #[pymethods]
    impl PostgresStore {
        #[new]
        #[pyo3(signature = (url, **fields))]
        fn new(py: Python<'_>, url: &Bound<'_, PyAny>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let config: PostgresConfig = parse("PostgresStore", &config_json(py, fields, &[("url", url.clone())])?)?;
            let inner =
                crate::runtime::block_on(py, async move { Store::from_config(&config).await })?.map_err(backend_err)?;
            Ok(Self { inner: InRuntime::new(inner) })
        }

        fn __repr__(&self) -> String {
            self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
        }
    }
}

#[cfg(feature = "ldap")]
mod ldap {
    use super::*;
    use sspr_backends::ldap::{LdapConfig, LdapContactConfig, LdapContactStore as Contacts, LdapDirectory as Dir};

    /// OpenLDAP or Active Directory. Keyword arguments as in the portal's `[ldap]` section:
    /// `url` (`ldaps://...`, or `ldap://...` with `starttls=True`), `base_dn`, `bind_dn`,
    /// `bind_password` (str or `Secret`), `flavor` (`"openldap"` or `"active_directory"`),
    /// `ca_file`, `login_attribute`, `display_name_attribute`, `user_filter`,
    /// `group_base_dn`, `pool_size`, `sign_in_connections`, `connect_timeout_secs`, `operation_timeout_secs`,
    /// `allow_plaintext`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct LdapDirectory {
        pub(crate) inner: InRuntime<Dir>,
    }

    #[pymethods]
    impl LdapDirectory {
        #[new]
        #[pyo3(signature = (**fields))]
        fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let config: LdapConfig = parse("LdapDirectory", &config_json(py, fields, &[])?)?;
            let handle = crate::runtime::handle()?;
            let inner = py.detach(|| {
                let _runtime = handle.tokio().enter();
                Dir::new(config)
            });
            Ok(Self { inner: InRuntime::new(inner.map_err(backend_err)?) })
        }

        fn __repr__(&self) -> String {
            self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
        }
    }

    /// Contacts kept in attributes of the user's directory entry: `email_attribute`
    /// (default `otherMailbox`), `phone_attribute` (`mobile`), `enabled_attribute`,
    /// `record_attribute` (a single-valued attribute for the rest of the record; without it
    /// the store is read-only), `record_key` (str or `Secret`, at least 32 bytes: signs the
    /// record, required with `record_attribute`), `changed_contact_cooling_off_secs`,
    /// `enabled_by_default`. Pass it as `contacts=`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct LdapContactStore {
        pub(crate) inner: InRuntime<Contacts>,
    }

    #[pymethods]
    impl LdapContactStore {
        #[new]
        #[pyo3(signature = (directory, **fields))]
        fn new(
            py: Python<'_>,
            directory: &Bound<'_, LdapDirectory>,
            fields: Option<&Bound<'_, PyDict>>,
        ) -> PyResult<Self> {
            let config: LdapContactConfig = parse("LdapContactStore", &config_json(py, fields, &[])?)?;
            let contacts = Contacts::new(directory.get().inner.get()?, config).map_err(backend_err)?;
            Ok(Self { inner: InRuntime::new(contacts) })
        }

        fn __repr__(&self) -> String {
            self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
        }
    }
}

#[cfg(feature = "smtp")]
mod smtp {
    use super::*;
    use sspr_backends::smtp::{SmtpConfig, SmtpNotifier as Notifier};

    /// Sends notices by e-mail through an SMTP relay. Keyword arguments as in the portal's
    /// `[smtp]` section: `host`, `from_` or `sender` (the sender, e.g.
    /// `"Password reset <no-reply@example.org>"`), `port`, `tls` (`"starttls"`, `"implicit"`,
    /// `"none"`), `username`, `password` (str or `Secret`), `ca_file`, `timeout_ms`,
    /// `pool_size`. No connection is made before the first message. Pass it as `notifier=`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct SmtpNotifier {
        pub(crate) inner: InRuntime<Notifier>,
    }

    #[pymethods]
    impl SmtpNotifier {
        #[new]
        #[pyo3(signature = (**fields))]
        fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            // `from` is a Python keyword: accept `from_` and `sender` for it.
            let fields = with_from_alias(fields)?;
            let config: SmtpConfig = parse("SmtpNotifier", &config_json(py, fields.as_ref(), &[])?)?;
            let handle = crate::runtime::handle()?;
            let inner = py.detach(|| {
                let _runtime = handle.tokio().enter();
                Notifier::from_config(&config)
            });
            Ok(Self { inner: InRuntime::new(inner.map_err(backend_err)?) })
        }

        fn __repr__(&self) -> String {
            self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
        }
    }
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

#[cfg(feature = "sms-twilio")]
mod twilio {
    use super::*;
    use sspr_backends::twilio::{TwilioConfig, TwilioNotifier as Notifier};

    /// Sends PINs and notices by SMS through Twilio's Messages API (or a Twilio-compatible
    /// gateway at `base_url`): `account_sid`, `auth_token` (str or `Secret`), and `from_` (the
    /// sending number) or `messaging_service_sid`; `timeout_ms`, `connect_retries`, `ca_file`,
    /// `allow_insecure_http` (plain `http://` is otherwise accepted only to loopback).
    /// SMS only. Pass it as `notifier=` (with `Policy(sms_enabled=True)`).
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct TwilioNotifier {
        pub(crate) inner: InRuntime<Notifier>,
    }

    #[pymethods]
    impl TwilioNotifier {
        #[new]
        #[pyo3(signature = (**fields))]
        fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let fields = with_from_alias(fields)?;
            let config: TwilioConfig = parse("TwilioNotifier", &config_json(py, fields.as_ref(), &[])?)?;
            let handle = crate::runtime::handle()?;
            let inner = py.detach(|| {
                let _runtime = handle.tokio().enter();
                Notifier::from_config(&config)
            });
            Ok(Self { inner: InRuntime::new(inner.map_err(backend_err)?) })
        }

        fn __repr__(&self) -> String {
            self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
        }
    }
}

#[cfg(feature = "webhook")]
mod webhook {
    use super::*;
    use sspr_backends::webhook::{WebhookConfig, WebhookNotifier as Notifier};

    /// Sends notices to any gateway as a signed JSON POST (HMAC-SHA256 in `X-Sspr-Signature`):
    /// `url`, `key` (32+ bytes, str or `Secret`), `timeout_ms`, `connect_retries`, `ca_file`,
    /// `allow_insecure_http` (plain `http://` is otherwise accepted only to loopback).
    /// Pass it as `notifier=`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct WebhookNotifier {
        pub(crate) inner: InRuntime<Notifier>,
    }

    #[pymethods]
    impl WebhookNotifier {
        #[new]
        #[pyo3(signature = (**fields))]
        fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let config: WebhookConfig = parse("WebhookNotifier", &config_json(py, fields, &[])?)?;
            let handle = crate::runtime::handle()?;
            let inner = py.detach(|| {
                let _runtime = handle.tokio().enter();
                Notifier::from_config(&config)
            });
            Ok(Self { inner: InRuntime::new(inner.map_err(backend_err)?) })
        }

        fn __repr__(&self) -> String {
            self.inner.get().map(|i| format!("{i:?}")).unwrap_or_default()
        }
    }
}

/// The built-in directory `obj` is, if it is one.
pub(crate) fn directory(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn Directory>>> {
    #[cfg(feature = "ldap")]
    if let Ok(d) = obj.cast::<ldap::LdapDirectory>() {
        return Ok(Some(Arc::new(d.get().inner.get()?.clone())));
    }
    let _ = obj;
    Ok(None)
}

/// The built-in contact store `obj` is, if it is one.
pub(crate) fn contacts(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn ContactStore>>> {
    #[cfg(feature = "sqlite")]
    if let Ok(s) = obj.cast::<sqlite::SqliteStore>() {
        return Ok(Some(Arc::new(s.get().inner.get()?.clone())));
    }
    #[cfg(feature = "postgres")]
    if let Ok(s) = obj.cast::<postgres::PostgresStore>() {
        return Ok(Some(Arc::new(s.get().inner.get()?.clone())));
    }
    #[cfg(feature = "ldap")]
    if let Ok(s) = obj.cast::<ldap::LdapContactStore>() {
        return Ok(Some(Arc::new(s.get().inner.get()?.clone())));
    }
    let _ = obj;
    Ok(None)
}

/// The built-in notifier `obj` is, if it is one.
pub(crate) fn notifier(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn Notifier>>> {
    #[cfg(feature = "smtp")]
    if let Ok(n) = obj.cast::<smtp::SmtpNotifier>() {
        return Ok(Some(Arc::new(n.get().inner.get()?.clone())));
    }
    #[cfg(feature = "sms-twilio")]
    if let Ok(n) = obj.cast::<twilio::TwilioNotifier>() {
        return Ok(Some(Arc::new(n.get().inner.get()?.clone())));
    }
    #[cfg(feature = "webhook")]
    if let Ok(n) = obj.cast::<webhook::WebhookNotifier>() {
        return Ok(Some(Arc::new(n.get().inner.get()?.clone())));
    }
    let _ = obj;
    Ok(None)
}

/// The built-in state store `obj` is, if it is one.
pub(crate) fn store(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn StateStore>>> {
    #[cfg(feature = "sqlite")]
    if let Ok(s) = obj.cast::<sqlite::SqliteStore>() {
        return Ok(Some(Arc::new(s.get().inner.get()?.clone())));
    }
    #[cfg(feature = "redis")]
    if let Ok(s) = obj.cast::<redis::RedisStore>() {
        return Ok(Some(Arc::new(s.get().inner.get()?.clone())));
    }
    #[cfg(feature = "postgres")]
    if let Ok(s) = obj.cast::<postgres::PostgresStore>() {
        return Ok(Some(Arc::new(s.get().inner.get()?.clone())));
    }
    let _ = obj;
    Ok(None)
}

/// Register the built-in backend classes in the `backends` submodule.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    #[cfg(feature = "sqlite")]
    m.add_class::<sqlite::SqliteStore>()?;
    #[cfg(feature = "redis")]
    m.add_class::<redis::RedisStore>()?;
    #[cfg(feature = "postgres")]
    m.add_class::<postgres::PostgresStore>()?;
    #[cfg(feature = "smtp")]
    m.add_class::<smtp::SmtpNotifier>()?;
    #[cfg(feature = "sms-twilio")]
    m.add_class::<twilio::TwilioNotifier>()?;
    #[cfg(feature = "webhook")]
    m.add_class::<webhook::WebhookNotifier>()?;
    #[cfg(feature = "ldap")]
    {
        m.add_class::<ldap::LdapDirectory>()?;
        m.add_class::<ldap::LdapContactStore>()?;
    }
    let _ = m;
    Ok(())
}
