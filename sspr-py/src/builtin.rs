//! The backends of `sspr-backends`, offered as Python classes in `sspr.backends` when the
//! package is built with their cargo features (the wheel is built with all of them, see
//! `pyproject.toml`). Each class is configured with keyword arguments: the same fields as the
//! backend's configuration in the portal's TOML file, checked by the backend itself.

use std::sync::Arc;

use pyo3::prelude::*;
#[allow(unused_imports)]
use pyo3::types::PyDict;
use sspr_core::{ContactStore, Directory, Notifier, StateStore};

/// The JSON text of a configuration: `fields` (keyword arguments) plus `extra`; `Secret`
/// values are revealed for the backend's parser.
#[allow(dead_code)]
fn config_json(
    py: Python<'_>,
    fields: Option<&Bound<'_, PyDict>>,
    extra: &[(&str, Bound<'_, PyAny>)],
) -> PyResult<String> {
    let all = PyDict::new(py);
    if let Some(fields) = fields {
        for (k, v) in fields.iter() {
            let v = match v.cast::<crate::types::Secret>() {
                Ok(secret) => secret.get().value.expose_secret().into_pyobject(py)?.into_any(),
                Err(_) => v,
            };
            all.set_item(k, v)?;
        }
    }
    for (k, v) in extra {
        all.set_item(*k, v)?;
    }
    crate::types::py_to_json(all.as_any())
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
        pub(crate) inner: Store,
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
            Ok(Self { inner })
        }

        fn __repr__(&self) -> String {
            format!("{:?}", self.inner)
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
        pub(crate) inner: Store,
    }

    #[pymethods]
    impl RedisStore {
        #[new]
        #[pyo3(signature = (url, **fields))]
        fn new(py: Python<'_>, url: &Bound<'_, PyAny>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let config: RedisConfig = parse("RedisStore", &config_json(py, fields, &[("url", url.clone())])?)?;
            let inner =
                crate::runtime::block_on(py, async move { Store::from_config(&config).await })?.map_err(backend_err)?;
            Ok(Self { inner })
        }

        fn __repr__(&self) -> String {
            format!("{:?}", self.inner)
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use sspr_backends::postgres::{PostgresConfig, PostgresStore as Store};

    /// Contact and state store in PostgreSQL, shared by several portal instances. Connects at
    /// once and brings the schema up to date; other fields: `pool_size`, `connect_timeout_ms`,
    /// `query_timeout_ms`, `sweep_interval_secs`. Pass it as `contacts=` and/or `store=`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct PostgresStore {
        pub(crate) inner: Store,
    }

    #[pymethods]
    impl PostgresStore {
        #[new]
        #[pyo3(signature = (url, **fields))]
        fn new(py: Python<'_>, url: &Bound<'_, PyAny>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let config: PostgresConfig = parse("PostgresStore", &config_json(py, fields, &[("url", url.clone())])?)?;
            let inner =
                crate::runtime::block_on(py, async move { Store::from_config(&config).await })?.map_err(backend_err)?;
            Ok(Self { inner })
        }

        fn __repr__(&self) -> String {
            format!("{:?}", self.inner)
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
    /// `group_base_dn`, `pool_size`, `connect_timeout_secs`, `operation_timeout_secs`,
    /// `allow_plaintext`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct LdapDirectory {
        pub(crate) inner: Dir,
    }

    #[pymethods]
    impl LdapDirectory {
        #[new]
        #[pyo3(signature = (**fields))]
        fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let config: LdapConfig = parse("LdapDirectory", &config_json(py, fields, &[])?)?;
            let handle = crate::runtime::tokio_handle()?;
            let inner = py.detach(|| {
                let _runtime = handle.enter();
                Dir::new(config)
            });
            Ok(Self { inner: inner.map_err(backend_err)? })
        }

        fn __repr__(&self) -> String {
            format!("{:?}", self.inner)
        }
    }

    /// Contacts kept in attributes of the user's directory entry: `email_attribute`
    /// (default `otherMailbox`), `phone_attribute` (`mobile`), `enabled_attribute`,
    /// `record_attribute` (a single-valued attribute for the rest of the record; without it
    /// the store is read-only), `enabled_by_default`. Pass it as `contacts=`.
    #[pyclass(frozen, module = "sspr.backends")]
    pub(crate) struct LdapContactStore {
        pub(crate) inner: Contacts,
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
            Ok(Self { inner: Contacts::new(&directory.get().inner, config).map_err(backend_err)? })
        }

        fn __repr__(&self) -> String {
            format!("{:?}", self.inner)
        }
    }
}

/// The built-in directory `obj` is, if it is one.
pub(crate) fn directory(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn Directory>>> {
    #[cfg(feature = "ldap")]
    if let Ok(d) = obj.cast::<ldap::LdapDirectory>() {
        return Ok(Some(Arc::new(d.get().inner.clone())));
    }
    let _ = obj;
    Ok(None)
}

/// The built-in contact store `obj` is, if it is one.
pub(crate) fn contacts(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn ContactStore>>> {
    #[cfg(feature = "sqlite")]
    if let Ok(s) = obj.cast::<sqlite::SqliteStore>() {
        return Ok(Some(Arc::new(s.get().inner.clone())));
    }
    #[cfg(feature = "postgres")]
    if let Ok(s) = obj.cast::<postgres::PostgresStore>() {
        return Ok(Some(Arc::new(s.get().inner.clone())));
    }
    #[cfg(feature = "ldap")]
    if let Ok(s) = obj.cast::<ldap::LdapContactStore>() {
        return Ok(Some(Arc::new(s.get().inner.clone())));
    }
    let _ = obj;
    Ok(None)
}

/// The built-in notifier `obj` is, if it is one.
pub(crate) fn notifier(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn Notifier>>> {
    let _ = obj;
    Ok(None)
}

/// The built-in state store `obj` is, if it is one.
pub(crate) fn store(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn StateStore>>> {
    #[cfg(feature = "sqlite")]
    if let Ok(s) = obj.cast::<sqlite::SqliteStore>() {
        return Ok(Some(Arc::new(s.get().inner.clone())));
    }
    #[cfg(feature = "redis")]
    if let Ok(s) = obj.cast::<redis::RedisStore>() {
        return Ok(Some(Arc::new(s.get().inner.clone())));
    }
    #[cfg(feature = "postgres")]
    if let Ok(s) = obj.cast::<postgres::PostgresStore>() {
        return Ok(Some(Arc::new(s.get().inner.clone())));
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
    #[cfg(feature = "ldap")]
    {
        m.add_class::<ldap::LdapDirectory>()?;
        m.add_class::<ldap::LdapContactStore>()?;
    }
    let _ = m;
    Ok(())
}
