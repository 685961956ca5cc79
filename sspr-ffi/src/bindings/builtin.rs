//! What sspr itself provides to uniffi hosts: a manual clock (tests, demos) and the built-in
//! shared state stores of sspr-backends (SQLite, Redis, PostgreSQL), chosen by
//! configuration; `shared` opens them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::errors::SsprError;

/// A clock that stands still until moved: for tests and demos (pass it to `Engine`).
#[derive(Debug, uniffi::Object)]
pub struct ManualClock {
    pub(crate) clock: sspr_core::ManualClock,
}

#[uniffi::export]
impl ManualClock {
    /// A clock showing `start`.
    #[uniffi::constructor]
    pub fn new(start: SystemTime) -> Result<Arc<Self>, SsprError> {
        Ok(Arc::new(Self { clock: sspr_core::ManualClock::new(sspr_bind::time_from_system(start, "start")?) }))
    }

    /// Move the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }
}

/// A built-in state store shared by several processes. Its string form (`Debug`, Kotlin
/// `toString`, Python `str`/`repr`) names the kind of store only: a URL may hold a password.
#[derive(Clone, uniffi::Enum)]
#[uniffi::export(Debug, Display)]
pub enum StateStoreConfig {
    /// One SQLite file (processes on one host).
    Sqlite {
        /// The database file; created if missing (its folder must exist).
        path: String,
    },
    /// A Redis server: `redis://[:password@]host:port/db` (`rediss://` for TLS).
    Redis {
        /// The server's URL.
        url: String,
    },
    /// A PostgreSQL database: `postgres://user:password@host:port/db?sslmode=verify-full`.
    Postgres {
        /// The connection URL (libpq's `sslmode` and `sslrootcert` apply).
        url: String,
    },
    /// Any of them with every option of its `sspr-backends` configuration, as JSON:
    /// `{"postgres": {"url": "...", "ca_file": "/etc/ssl/db-ca.pem"}}`.
    Json {
        /// The configuration.
        config: String,
    },
}

impl StateStoreConfig {
    /// The configuration as the JSON both doors read (`shared::parse_store`).
    pub(crate) fn to_json(&self) -> String {
        match self {
            Self::Sqlite { path } => serde_json::json!({ "sqlite": { "path": path } }).to_string(),
            Self::Redis { url } => serde_json::json!({ "redis": { "url": url } }).to_string(),
            Self::Postgres { url } => serde_json::json!({ "postgres": { "url": url } }).to_string(),
            Self::Json { config } => config.clone(),
        }
    }
}

// URLs may hold a password.
impl fmt::Debug for StateStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite { .. } => "Sqlite",
            Self::Redis { .. } => "Redis",
            Self::Postgres { .. } => "Postgres",
            Self::Json { .. } => "Json",
        })
    }
}

display_as_debug!(StateStoreConfig);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_configuration_shows_no_url() {
        let store = StateStoreConfig::Redis { url: "redis://:hunter2@localhost".into() };
        for shown in [format!("{store:?}"), format!("{store}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}
