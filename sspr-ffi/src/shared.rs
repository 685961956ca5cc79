//! What several processes share: the state store (flows, rate-limit counters, blocks) and
//! the audit trail, and the configured backends beside them (password checks, the bot
//! challenge). Both doors build them here, from the same JSON configuration
//! ([`shared_backends`]); the rest of an engine's assembly (key, seed, policy, clock and
//! timer) is `sspr_bind::EngineOptions`.
//!
//! Without a shared state store every process counts on its own: N processes give an
//! attacker N times the PIN guesses and N separate blocks. Give every process the same
//! SQLite file (one host) or the same Redis or PostgreSQL server.

use std::sync::Arc;

use serde::Deserialize;
use sspr_backends::audit_file::JsonLinesAuditSink;
use sspr_backends::captcha::{BotChallengeConfig, SiteVerify};
use sspr_backends::password_checks::PasswordChecksConfig;
use sspr_backends::postgres::{PostgresConfig, PostgresStore};
use sspr_backends::redis::{RedisConfig, RedisStore};
use sspr_backends::sqlite::{SqliteConfig, SqliteStore};
use sspr_core::{AuditEvent, AuditSink, BackendError, Error, SsprBuilder, StateStore};

use crate::runtime::{self, RuntimeError, RuntimeHandle, block_on};

/// Put on `builder` what both doors take besides the options and the host's own backends:
/// the audit sinks (the host's `audit`, the JSON-lines `audit_file`, both, or neither: then
/// the engine keeps its default in-memory trail), the shared state store, connected now
/// (a network store that cannot be reached fails the call), the configured password
/// checkers (banned words, breached passwords) and the configured bot challenge.
pub(crate) fn shared_backends<E: From<Error> + From<RuntimeError>>(
    mut builder: SsprBuilder,
    audit: Option<Arc<dyn AuditSink>>,
    audit_file: Option<&str>,
    state_store_json: Option<&str>,
    password_checks_json: Option<&str>,
    bot_challenge_json: Option<&str>,
) -> Result<SsprBuilder, E> {
    let mut sinks: Vec<Arc<dyn AuditSink>> = audit.into_iter().collect();
    if let Some(path) = audit_file {
        sinks.push(Arc::new(open_audit_file(path)?));
    }
    if !sinks.is_empty() {
        builder = builder.audit(AuditSinks(sinks));
    }
    if let Some(json) = state_store_json {
        let config = parse_store(json)?;
        builder = builder.store_arc(open_store(config, &runtime::handle()?)?);
    }
    if let Some(json) = password_checks_json {
        for checker in
            parse_password_checks(json)?.build().map_err(|e| Error::Config(format!("password checks: {e}")))?
        {
            builder = builder.password_checker_arc(checker);
        }
    }
    if let Some(json) = bot_challenge_json {
        let config = parse_bot_challenge(json)?;
        let bad = |e: BackendError| Error::Config(format!("bot challenge: {e}"));
        let policy = config.challenge_policy().map_err(bad)?;
        builder = builder.bot_challenge(SiteVerify::new(&config).map_err(bad)?, policy);
    }
    Ok(builder)
}

/// The built-in bot challenge verifier, as JSON: the `[bot_challenge]` of the other bindings'
/// configuration (`{"provider": "turnstile", "site_key": "...", "secret": "...", "hostnames":
/// [...], "policy": "always"}`). The error names where the JSON is wrong but never quotes it
/// (it holds the provider's secret).
fn parse_bot_challenge(json: &str) -> Result<BotChallengeConfig, Error> {
    serde_json::from_str(json).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not valid JSON",
            _ => "not a [bot_challenge] table (provider, site_key, secret, ...) with known fields and types",
        };
        Error::InvalidInput {
            field: "bot_challenge",
            reason: format!("{what} (line {}, column {})", e.line(), e.column()),
        }
    })
}

/// The checkers of chosen passwords beyond the policy's, as JSON: the `[password_checks]`
/// of the other bindings' configuration (`{"banned_words_file": "/etc/sspr/banned.txt",
/// "breached": {"endpoint": "https://api.pwnedpasswords.com", "timeout_ms": 2000}}` or
/// `"breached": {"offline_path": ...}`).
fn parse_password_checks(json: &str) -> Result<PasswordChecksConfig, Error> {
    serde_json::from_str(json).map_err(|e| Error::InvalidInput { field: "password_checks", reason: format!("{e}") })
}

/// A built-in state store, as JSON: `{"sqlite": {"path": "/var/lib/sspr/state.db"}}`,
/// `{"redis": {"url": "redis://host:6379/0"}}` or `{"postgres": {"url": "postgres://..."}}`;
/// each takes the other fields of its configuration in `sspr-backends` too (`busy_timeout_ms`,
/// `key_prefix`, `ca_file`, ...).
#[derive(Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum StoreConfig {
    /// One SQLite file (several processes on one host).
    Sqlite(SqliteConfig),
    /// A Redis server.
    Redis(RedisConfig),
    /// A PostgreSQL database.
    Postgres(PostgresConfig),
}

/// Parse a store configuration. The error names where the JSON is wrong but never quotes
/// it (a URL may hold a password).
pub(crate) fn parse_store(json: &str) -> Result<StoreConfig, Error> {
    serde_json::from_str(json).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not valid JSON",
            _ => {
                "not one of {\"sqlite\": {\"path\": ...}}, {\"redis\": {\"url\": ...}}, {\"postgres\": {\"url\": ...}} \
                 with known fields"
            }
        };
        Error::InvalidInput {
            field: "state_store",
            reason: format!("{what} (line {}, column {})", e.line(), e.column()),
        }
    })
}

/// Open (connect to) the store, inside the library's runtime (the network stores keep
/// their connections on it).
pub(crate) fn open_store(config: StoreConfig, runtime: &RuntimeHandle) -> Result<Arc<dyn StateStore>, Error> {
    // A bad TLS file is a bad field (`Config`), as in every binding, not a failed connection.
    match &config {
        StoreConfig::Redis(c) => c.check_tls_files()?,
        StoreConfig::Postgres(c) => c.check_tls_files()?,
        StoreConfig::Sqlite(_) => {}
    }
    let opened = block_on(runtime.guard(async move {
        Ok::<Arc<dyn StateStore>, BackendError>(match config {
            StoreConfig::Sqlite(c) => Arc::new(SqliteStore::from_config(&c)?),
            StoreConfig::Redis(c) => Arc::new(RedisStore::from_config(&c).await?),
            StoreConfig::Postgres(c) => Arc::new(PostgresStore::from_config(&c).await?),
        })
    }));
    match opened {
        Ok(store) => Ok(store?),
        Err(e) => Err(Error::Config(e.to_string())),
    }
}

/// Open the JSON-lines audit file.
pub(crate) fn open_audit_file(path: &str) -> Result<JsonLinesAuditSink, Error> {
    Ok(JsonLinesAuditSink::open(path)?)
}

/// Several audit sinks, each given every event (the first failure is reported after all
/// were tried).
#[derive(Debug)]
pub(crate) struct AuditSinks(pub(crate) Vec<Arc<dyn AuditSink>>);

#[sspr_core::async_trait]
impl AuditSink for AuditSinks {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let mut first_error = None;
        for sink in &self.0 {
            if let Err(e) = sink.record(event).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn flush(&self) -> Result<(), BackendError> {
        let mut first_error = None;
        for sink in &self.0 {
            if let Err(e) = sink.flush().await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bad_bot_challenge_is_named_and_its_secret_never_quoted() {
        let ok =
            super::parse_bot_challenge(r#"{"provider": "hcaptcha", "site_key": "10000000-ffff", "secret": "0xS3"}"#);
        assert!(ok.is_ok());
        for bad in [
            r#"{"provider": "turnstile", "site_key": "k", "secret": 0, "timeout_ms": "0xS3CR3T"}"#,
            r#"{"provider": "turnstile", "site_key": "k", "secret": "0xS3CR3T", "0xS3CR3T": 1}"#,
            r#"{"provider": "turnstile", "secret": "0xS3CR3T"#,
        ] {
            let err = super::parse_bot_challenge(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("bot_challenge") && !err.contains("S3CR3T"), "{err}");
        }
    }
}
