//! Backends from configuration, once: the serde types an application (the portal, the Python
//! and Node bindings) reads from a TOML file, a dict or a JS object, and the code that turns
//! them into the engine's `Arc<dyn …>` backends.
//!
//! Before this module the portal, the Python binding and the Node binding each had their own
//! copy of "which directory, which store, which notifier" and of the code building them; a
//! backend added later would have been wired three times.
//!
//! Every table is optional: an empty configuration is an in-memory directory and store and
//! the development outbox (nothing leaves the process). Secrets (bind passwords, SMTP and
//! Twilio credentials, webhook keys, passwords inside Redis/PostgreSQL URLs) are kept by the
//! backends' own config types, whose `Debug` redacts them, so `{:?}` of a [`BackendsConfig`]
//! shows none.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use sspr_backends::config::{BackendsConfig, BuildContext};
//!
//! let config = BackendsConfig::from_toml_str(r#"
//!     [directory]
//!     kind = "memory"
//!     [store]
//!     kind = "memory"
//!     [notifier]
//!     kind = "smtp"
//!     host = "smtp.example.org"
//!     password = "s3cret"
//!     from = "sspr@example.org"
//! "#).unwrap();
//! assert!(!format!("{config:?}").contains("s3cret"));
//!
//! // The same configuration from JSON (what a Python dict or a JS object converts to).
//! let same = BackendsConfig::from_json_value(serde_json::json!({
//!     "notifier": { "kind": "smtp", "host": "smtp.example.org", "from": "sspr@example.org" }
//! })).unwrap();
//! let ctx = BuildContext::default();
//! assert_eq!(same.summary_lines(&ctx), config.summary_lines(&ctx));
//!
//! // Building needs a tokio runtime (Redis and PostgreSQL connect at once).
//! let backends = BackendsConfig::default().build(&ctx).await.unwrap();
//! assert!(backends.outbox.is_some(), "the default notifier is the development outbox");
//! // backends.directory, .contacts, .state, .notifier and .audit go to Sspr::builder().
//! # });
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sspr_core::backend::ByChannel;
use sspr_core::memory::{MemoryContactStore, MemoryDirectory, MemoryStateStore, Outbox};
use sspr_core::{
    AuditSink, BackendError, Clock, ContactStore, Directory, Notifier, PasswordChecker, StateStore, SystemClock,
};

use crate::audit_file::{JsonLinesAuditSink, Rotation};
use crate::audit_queue::QueuedAuditSink;
use crate::audit_sql::AuditReport;
use crate::audit_syslog::{SyslogAuditSink, SyslogConfig};
use crate::graph::{GraphConfig, GraphContactConfig, GraphContactStore, GraphDirectory};
use crate::ldap::{BindPassword, Flavor, LdapConfig, LdapContactConfig, LdapContactStore, LdapDirectory};
use crate::postgres::{PostgresConfig, PostgresStore};
use crate::redis::{RedisConfig, RedisStore};
use crate::smtp::{SmtpConfig, SmtpNotifier};
use crate::sqlite::{SqliteConfig, SqliteStore};
use crate::twilio::{TwilioConfig, TwilioNotifier};
use crate::webhook::{WebhookAuditSink, WebhookConfig, WebhookNotifier};

/// Why a configuration was refused or its backends could not be built. Never carries a
/// secret: parse errors name the key, backend errors are the backends' own (redacted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text or value does not match the schema (unknown key, missing field, bad value).
    #[error("backends config: {0}")]
    Parse(String),
    /// Two settings that do not go together.
    #[error("backends config: {0}")]
    Invalid(&'static str),
    /// A backend could not be set up or reached.
    #[error("cannot set up the {what}: {source}")]
    Backend {
        /// Which backend (`"LDAP directory"`, `"Redis state store"`, ...).
        what: &'static str,
        /// The backend's error.
        #[source]
        source: BackendError,
    },
}

impl From<ConfigError> for sspr_core::Error {
    fn from(e: ConfigError) -> Self {
        sspr_core::Error::Config(e.to_string())
    }
}

/// `error` as text, saying where in `text` it is (line, column, key) but without the source line
/// toml's own `Display` quotes: that line may hold a password (one with a `\` or a `"` is a
/// parse error on its own line; an inline table puts a bad value on the secret's line).
pub fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let mut bare = error.clone();
    bare.set_input(None);
    let message = bare.to_string().trim_end().replace('\n', " ");
    let Some(span) = error.span() else { return message };
    let start = (0..=span.start.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {message}")
}

fn backend(what: &'static str) -> impl FnOnce(BackendError) -> ConfigError {
    move |source| ConfigError::Backend { what, source }
}

/// Every backend of one engine.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendsConfig {
    /// The directory holding the accounts. Default: in memory (empty).
    pub directory: DirectoryConfig,
    /// Where contacts (and, without `[state]`, reset state) are kept. Default: in memory.
    pub store: StoreConfig,
    /// Contacts read from the directory's own attributes instead of the `[store]`.
    pub contacts: Option<ContactsConfig>,
    /// A test account to check, at start-up, what users may write of their own entry (see
    /// [`ContactsCheckConfig`]).
    pub contacts_check: Option<ContactsCheckConfig>,
    /// A state store (flows, counters, blocks) shared by several instances, instead of the
    /// `[store]`'s.
    pub state: Option<StateConfig>,
    /// How e-mail notices (PINs) are delivered. Default: the development outbox.
    pub notifier: NotifierConfig,
    /// How text messages are delivered. Default: the development outbox.
    pub sms: SmsConfig,
    /// Where audit events go. Default: none here (the engine's default sink).
    pub audit: Option<AuditConfig>,
    /// The bounded queue between the engine and the `[audit]` sink (see
    /// [`AuditQueueConfig`]). Default: a queue of
    /// [`DEFAULT_CAPACITY`](crate::audit_queue::DEFAULT_CAPACITY) events.
    pub audit_queue: Option<AuditQueueConfig>,
    /// Checks of a chosen password beyond the policy's own (zxcvbn's `password_min_score`
    /// is the policy's): banned words and the breached-password check. Default none.
    pub password_checks: Option<PasswordChecksConfig>,
    /// A bot challenge (CAPTCHA) `begin_reset` asks for: the provider, its keys and when
    /// (see [`BotChallengeConfig`]). Default none.
    pub bot_challenge: Option<BotChallengeConfig>,
}

pub use crate::captcha::BotChallengeConfig;
pub use crate::password_checks::PasswordChecksConfig;

/// Which directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum DirectoryConfig {
    /// An in-memory directory (tests, demos); `kind = "demo"` is the same. The application
    /// fills it through [`Backends::memory_directory`].
    #[serde(alias = "demo")]
    Memory {
        /// A file of users for the application to seed (the portal reads a JSON array of its
        /// demo users); the backends do not read it.
        #[serde(default)]
        seed_file: Option<PathBuf>,
    },
    /// OpenLDAP or Active Directory (`url`, `starttls`, `ca_file`, `flavor`, `base_dn`,
    /// `bind_dn`, `bind_password`, `login_attribute`, ...; see [`LdapConfig`]).
    Ldap(Box<LdapConfig>),
    /// Microsoft Entra ID through Microsoft Graph (`tenant_id`, `client_id`, `client_secret`
    /// or `certificate_file` + `private_key_file`, ...; see [`GraphConfig`]).
    Graph(Box<GraphConfig>),
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        Self::Memory { seed_file: None }
    }
}

/// Which contact (and state) store.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StoreConfig {
    /// In memory: lost at exit.
    #[default]
    Memory,
    /// One SQLite file for contacts and state.
    Sqlite(SqliteStoreConfig),
    /// PostgreSQL for contacts and state, shared by several instances (see [`PostgresConfig`]).
    Postgres(PostgresConfig),
}

/// The SQLite store's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteStoreConfig {
    /// The database file. Default `sspr.sqlite` in [`BuildContext::data_dir`].
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// How long a write waits for another process holding the lock. Default 5000.
    #[serde(default)]
    pub busy_timeout_ms: Option<u64>,
    /// `[audit]` only: delete audit rows older than this many days (in batches, off the
    /// reset's path; see [`crate::audit_sql`]). Default: kept for ever.
    #[serde(default)]
    pub retain_days: Option<u32>,
}

/// Contacts kept somewhere else than the `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContactsConfig {
    /// In the LDAP directory's attributes (needs `[directory] kind = "ldap"`; see
    /// [`LdapContactConfig`]).
    Ldap(LdapContactConfig),
    /// In the users' Entra authentication methods (needs `[directory] kind = "graph"`; sspr's
    /// own record of each enrollment stays in the `[store]`; see [`GraphContactConfig`]).
    Graph(GraphContactConfig),
}

/// The start-up check of an LDAP contact store on Active Directory: bound as this ordinary
/// user, [`LdapContactStore::check_self_writable`] reads which of the store's attributes users
/// may write of their own entry, and [`BackendsConfig::build`] fails when the configuration is
/// unsafe with those rights (a self-writable enabled flag; self-writable contacts without a
/// signed record). OpenLDAP reports no effective rights: there the check cannot run and its
/// ACLs must be checked by hand, so this table is refused with `flavor = "openldap"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactsCheckConfig {
    /// The test user's DN (an account with no more rights than any user).
    pub user_dn: String,
    /// Its password (redacted in `Debug`).
    pub password: BindPassword,
}

/// Which shared state store.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StateConfig {
    /// Redis 7+ or a Redis Cluster (see [`RedisConfig`]).
    Redis(RedisConfig),
    /// PostgreSQL (see [`PostgresConfig`]).
    Postgres(PostgresConfig),
}

/// Which e-mail notifier.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
// Read once at start-up and kept in one place: the SMTP variant's size (its mail branding)
// costs nothing worth a `Box` in the public configuration type.
#[allow(clippy::large_enum_variant)]
pub enum NotifierConfig {
    /// Nothing is sent; every notice lands in the development outbox.
    #[default]
    Outbox,
    /// An SMTP relay (see [`SmtpConfig`]).
    Smtp(SmtpConfig),
    /// A signed JSON POST to any gateway (see [`WebhookConfig`]).
    Webhook(WebhookConfig),
}

/// Which SMS gateway.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SmsConfig {
    /// Nothing is sent; every text message lands in the development outbox.
    #[default]
    Outbox,
    /// The Twilio Messages API or a gateway speaking it (see [`TwilioConfig`]).
    Twilio(Box<TwilioConfig>),
    /// A signed JSON POST to any gateway (see [`WebhookConfig`]).
    Webhook(WebhookConfig),
}

/// Where audit events go. Read from a table with a `kind` (`json_lines`, `sqlite`,
/// `postgres`, `syslog`, `webhook`) and that sink's settings; a bad setting's error names it
/// (`[audit] kind = "sqlite": retain_days: invalid value ...`), which serde's derived
/// internally tagged enums cannot do (they buffer the table and lose the key).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuditConfig {
    /// Appended as JSON lines to a file (see [`JsonLinesAuditSink`]).
    JsonLines {
        /// The file (created when missing, appended to).
        path: PathBuf,
        /// Rotate when the file would grow past this many bytes (`audit.jsonl` ->
        /// `audit.jsonl.1` -> ...). Default: never rotated.
        max_bytes: Option<u64>,
        /// With `max_bytes`: how many previous files to keep. Default 5.
        keep: usize,
    },
    /// One row per event in a SQLite database (`path`, default `audit.sqlite` in
    /// [`BuildContext::data_dir`]; `busy_timeout_ms`): the table `sspr_audit`, read back by
    /// [`Backends::audit_report`]. May be the `[store]`'s own file.
    Sqlite(SqliteStoreConfig),
    /// One row per event in PostgreSQL (the settings of [`PostgresConfig`]; may be the
    /// store's database), read back by [`Backends::audit_report`].
    Postgres(PostgresConfig),
    /// RFC 5424 messages to a syslog server over TCP or UDP (`address`, `transport`,
    /// `facility`, ...; see [`SyslogConfig`]).
    Syslog(SyslogConfig),
    /// Each event's JSON, signed, `POST`ed to a receiver (`url`, `key`, ...; see
    /// [`WebhookConfig`] and [`WebhookAuditSink`]).
    Webhook(WebhookConfig),
}

/// The settings of `[audit] kind = "json_lines"` (the fields of [`AuditConfig::JsonLines`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLinesFields {
    path: PathBuf,
    #[serde(default)]
    max_bytes: Option<u64>,
    #[serde(default = "default_keep")]
    keep: usize,
}

/// The sinks' names, as `kind` takes them.
const AUDIT_KINDS: &[&str] = &["json_lines", "sqlite", "postgres", "syslog", "webhook"];

impl<'de> Deserialize<'de> for AuditConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        // The table as a value, then its settings into the sink's own type, with the path of
        // whatever does not fit (`serde_path_to_error`).
        let mut table = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let kind = match table.remove("kind") {
            Some(serde_json::Value::String(kind)) => kind,
            Some(other) => return Err(D::Error::custom(format!("[audit] kind: expected a string, found {other}"))),
            None => return Err(D::Error::missing_field("kind")),
        };
        let rest = serde_json::Value::Object(table);
        fn settings<T: serde::de::DeserializeOwned, E: serde::de::Error>(
            kind: &str,
            rest: serde_json::Value,
        ) -> Result<T, E> {
            serde_path_to_error::deserialize(rest).map_err(|e| {
                let path = e.path().to_string();
                E::custom(format!("[audit] kind = \"{kind}\": {path}: {}", e.into_inner()))
            })
        }
        Ok(match kind.as_str() {
            "json_lines" => {
                let JsonLinesFields { path, max_bytes, keep } = settings(&kind, rest)?;
                Self::JsonLines { path, max_bytes, keep }
            }
            "sqlite" => Self::Sqlite(settings(&kind, rest)?),
            "postgres" => Self::Postgres(settings(&kind, rest)?),
            "syslog" => Self::Syslog(settings(&kind, rest)?),
            "webhook" => Self::Webhook(settings(&kind, rest)?),
            other => return Err(D::Error::unknown_variant(other, AUDIT_KINDS)),
        })
    }
}

/// The audit database when `[audit] kind = "sqlite"` gives no `path`.
pub const DEFAULT_AUDIT_SQLITE: &str = "audit.sqlite";

fn default_keep() -> usize {
    5
}

/// The queue between the engine and the `[audit]` sink: a slow sink never slows a reset;
/// when the queue is full an event is dropped and counted (`sspr_audit_dropped_total`, see
/// [`QueuedAuditSink`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQueueConfig {
    /// Events that may wait for the sink; 0 writes each event inline, in the engine's call
    /// (a slow sink then slows the reset, but nothing is ever dropped).
    #[serde(default = "default_audit_queue_capacity")]
    pub capacity: usize,
}

fn default_audit_queue_capacity() -> usize {
    crate::audit_queue::DEFAULT_CAPACITY
}

/// What building needs besides the configuration.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// The clock the LDAP directory judges password ages with (tests inject a manual one).
    pub clock: Arc<dyn Clock>,
    /// Where default files (the SQLite file when no `path` is given) are created.
    pub data_dir: PathBuf,
}

impl Default for BuildContext {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), data_dir: PathBuf::from(".") }
    }
}

/// The built backends, ready for `Sspr::builder()`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Backends {
    /// The directory.
    pub directory: Arc<dyn Directory>,
    /// The same directory when it is the in-memory one, for the application to fill.
    pub memory_directory: Option<MemoryDirectory>,
    /// The contact store.
    pub contacts: Arc<dyn ContactStore>,
    /// The state store.
    pub state: Arc<dyn StateStore>,
    /// Whether the state store is shared by several processes (Redis, PostgreSQL, SQLite):
    /// an application may keep its own per-user state (sessions) there too.
    pub state_is_shared: bool,
    /// E-mail and SMS notifiers, one per channel.
    pub notifier: Arc<dyn Notifier>,
    /// The development outbox, when either channel goes there.
    pub outbox: Option<Outbox>,
    /// The audit sink, when one is configured (behind the queue, unless its capacity is 0).
    pub audit: Option<Arc<dyn AuditSink>>,
    /// The queue in front of `audit`, for the host to [`flush`](QueuedAuditSink::flush) at
    /// shutdown and to read its [`dropped`](QueuedAuditSink::dropped) count.
    pub audit_queue: Option<QueuedAuditSink>,
    /// Summary reports over the audit trail, when the `[audit]` sink is a SQL database.
    pub audit_report: Option<Arc<dyn AuditReport>>,
    /// The password checkers of `[password_checks]`, in order, for
    /// `SsprBuilder::password_checker_arc`.
    pub password_checkers: Vec<Arc<dyn PasswordChecker>>,
    /// The `[bot_challenge]` verifier and its policy, for `SsprBuilder::bot_challenge_arc`
    /// (the portal also reads `[bot_challenge]` for the widget).
    pub bot_challenge: Option<(Arc<dyn sspr_core::BotChallenge>, sspr_core::ChallengePolicy)>,
}

impl BackendsConfig {
    /// Parse TOML text (tables `[directory]`, `[store]`, `[contacts]`, `[state]`,
    /// `[notifier]`, `[sms]`, `[audit]`); the error names the offending key.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse(toml_error(text, &e)))?;
        config.check()?;
        Ok(config)
    }

    /// Read and parse a TOML file.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Parse(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml_str(&text)
    }

    /// The same schema from a JSON value (a Python dict or a JS object converted to JSON).
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_value(value).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Settings that parse but do not go together.
    pub fn check(&self) -> Result<(), ConfigError> {
        match (&self.contacts, &self.directory) {
            (Some(ContactsConfig::Ldap(_)), DirectoryConfig::Ldap(_))
            | (Some(ContactsConfig::Graph(_)), DirectoryConfig::Graph(_))
            | (None, _) => {}
            (Some(ContactsConfig::Ldap(_)), _) => {
                return Err(ConfigError::Invalid("[contacts] kind = \"ldap\" needs [directory] kind = \"ldap\""));
            }
            (Some(ContactsConfig::Graph(_)), _) => {
                return Err(ConfigError::Invalid("[contacts] kind = \"graph\" needs [directory] kind = \"graph\""));
            }
        }
        let store_retains = match &self.store {
            StoreConfig::Sqlite(c) => c.retain_days.is_some(),
            StoreConfig::Postgres(c) => c.retain_days.is_some(),
            StoreConfig::Memory => false,
        };
        if store_retains || matches!(&self.state, Some(StateConfig::Postgres(c)) if c.retain_days.is_some()) {
            return Err(ConfigError::Invalid(
                "retain_days is an [audit] setting (how long audit rows are kept), not a [store] or [state] one",
            ));
        }
        if self.audit_queue.as_ref().is_some_and(|q| q.capacity > crate::audit_queue::MAX_CAPACITY) {
            return Err(ConfigError::Invalid("[audit_queue] capacity must be 0..=10000000"));
        }
        if self.contacts_check.is_some() {
            match (&self.contacts, &self.directory) {
                (None | Some(ContactsConfig::Graph(_)), _) => {
                    return Err(ConfigError::Invalid("[contacts_check] needs [contacts] kind = \"ldap\""));
                }
                (_, DirectoryConfig::Ldap(ldap)) if ldap.flavor == Flavor::OpenLdap => {
                    return Err(ConfigError::Invalid(
                        "[contacts_check] needs Active Directory: OpenLDAP reports no effective rights (check its ACLs by hand)",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether e-mail notices really leave the process.
    pub fn email_is_real(&self) -> bool {
        !matches!(self.notifier, NotifierConfig::Outbox)
    }

    /// One line per backend saying what is used (files as `ctx` resolves them), without
    /// secrets (printed at start).
    pub fn summary_lines(&self, ctx: &BuildContext) -> Vec<String> {
        // Every URL shown without user info or query values (a password, a token); Redis,
        // PostgreSQL and webhooks through their redacting `Debug`.
        use crate::endpoint::redacted;
        let mut lines = Vec::new();
        lines.push(match &self.directory {
            DirectoryConfig::Memory { .. } => "directory: in memory".to_owned(),
            DirectoryConfig::Ldap(ldap) => format!("directory: LDAP {} ({:?})", redacted(&ldap.url), ldap.flavor),
            DirectoryConfig::Graph(graph) => {
                format!("directory: Microsoft Graph {} (tenant {})", redacted(&graph.graph_url), graph.tenant_id)
            }
        });
        lines.push(match &self.store {
            StoreConfig::Memory => "store: in memory (lost at exit)".to_owned(),
            StoreConfig::Sqlite(s) => {
                format!(
                    "store: SQLite {}",
                    s.path.clone().unwrap_or_else(|| ctx.data_dir.join("sspr.sqlite")).display()
                )
            }
            StoreConfig::Postgres(p) => format!("store: PostgreSQL {p:?}"),
        });
        match &self.contacts {
            Some(ContactsConfig::Ldap(_)) => lines.push(match &self.contacts_check {
                Some(check) => format!("contacts: LDAP attributes (rights checked as {})", check.user_dn),
                None => "contacts: LDAP attributes".to_owned(),
            }),
            Some(ContactsConfig::Graph(_)) => {
                lines.push("contacts: Entra authentication methods (sspr's records in the store)".to_owned());
            }
            None => {}
        }
        match &self.state {
            None => {}
            Some(StateConfig::Redis(r)) => lines.push(format!("state: Redis {r:?}")),
            Some(StateConfig::Postgres(p)) => lines.push(format!("state: PostgreSQL {p:?}")),
        }
        lines.push(match &self.notifier {
            NotifierConfig::Outbox => "e-mail: development outbox (nothing is really sent)".to_owned(),
            NotifierConfig::Smtp(s) => format!("e-mail: SMTP {}", s.host),
            NotifierConfig::Webhook(w) => format!("e-mail: webhook {w:?}"),
        });
        lines.push(match &self.sms {
            SmsConfig::Outbox => "SMS: development outbox (nothing is really sent)".to_owned(),
            SmsConfig::Twilio(t) => format!("SMS: Twilio API at {}", redacted(&t.base_url)),
            SmsConfig::Webhook(w) => format!("SMS: webhook {w:?}"),
        });
        match &self.audit {
            None => {}
            Some(AuditConfig::JsonLines { path, max_bytes: None, .. }) => {
                lines.push(format!("audit: JSON lines {}", path.display()));
            }
            Some(AuditConfig::JsonLines { path, max_bytes: Some(max), keep }) => {
                lines.push(format!("audit: JSON lines {} (rotated at {max} bytes, {keep} kept)", path.display()));
            }
            Some(AuditConfig::Sqlite(s)) => lines.push(format!(
                "audit: SQLite {}",
                s.path.clone().unwrap_or_else(|| ctx.data_dir.join(DEFAULT_AUDIT_SQLITE)).display()
            )),
            Some(AuditConfig::Postgres(p)) => lines.push(format!("audit: PostgreSQL {p:?}")),
            Some(AuditConfig::Syslog(s)) => {
                lines.push(format!("audit: syslog {:?} {} ({:?})", s.transport, s.address, s.facility));
            }
            Some(AuditConfig::Webhook(w)) => lines.push(format!("audit: webhook {w:?}")),
        }
        if let Some(challenge) = &self.bot_challenge {
            lines.push(format!(
                "bot challenge: {:?} at {} ({:?})",
                challenge.provider,
                redacted(challenge.verify_url.as_deref().unwrap_or(challenge.provider.verify_url())),
                challenge.policy
            ));
        }
        if let Some(checks) = &self.password_checks {
            if let Some(path) = &checks.banned_words_file {
                lines.push(format!("password checks: banned words from {}", path.display()));
            }
            match checks.breached.as_ref().map(|b| (&b.offline_path, &b.endpoint)) {
                Some((Some(path), _)) => lines.push(format!("password checks: breached, offline {}", path.display())),
                Some((None, endpoint)) => lines.push(format!(
                    "password checks: breached, range queries to {}",
                    redacted(endpoint.as_deref().unwrap_or(crate::breached::DEFAULT_ENDPOINT))
                )),
                None => {}
            }
        }
        lines
    }

    /// Build every backend. Must run inside a tokio runtime: Redis and PostgreSQL connect
    /// here, so a wrong address fails at start rather than at the first reset.
    pub async fn build(&self, ctx: &BuildContext) -> Result<Backends, ConfigError> {
        self.check()?;
        let (directory, memory_directory, ldap, graph): (Arc<dyn Directory>, _, _, _) = match &self.directory {
            DirectoryConfig::Memory { .. } => {
                let directory = MemoryDirectory::new();
                (Arc::new(directory.clone()), Some(directory), None, None)
            }
            DirectoryConfig::Ldap(config) => {
                let directory = LdapDirectory::with_clock(config.as_ref().clone(), ctx.clock.clone())
                    .map_err(backend("LDAP directory"))?;
                warn_of_a_policy_refusing_temporary_passwords(&directory);
                (Arc::new(directory.clone()), None, Some(directory), None)
            }
            DirectoryConfig::Graph(config) => {
                let directory = GraphDirectory::with_clock(config.as_ref().clone(), ctx.clock.clone())
                    .map_err(backend("Microsoft Graph directory"))?;
                (Arc::new(directory.clone()), None, None, Some(directory))
            }
        };
        let (contacts, store, store_shared): (Arc<dyn ContactStore>, Arc<dyn StateStore>, bool) = match &self.store {
            StoreConfig::Memory => (Arc::new(MemoryContactStore::new()), Arc::new(MemoryStateStore::new()), false),
            StoreConfig::Sqlite(sqlite) => {
                let path = sqlite.path.clone().unwrap_or_else(|| ctx.data_dir.join("sspr.sqlite"));
                let store = SqliteStore::from_config(&SqliteConfig {
                    path,
                    busy_timeout_ms: sqlite.busy_timeout_ms.unwrap_or(5000),
                    retain_days: None,
                })
                .map_err(backend("SQLite store"))?;
                (Arc::new(store.clone()), Arc::new(store), true)
            }
            StoreConfig::Postgres(config) => {
                let store = PostgresStore::from_config(config).await.map_err(backend("PostgreSQL store"))?;
                (Arc::new(store.clone()), Arc::new(store), true)
            }
        };
        let contacts: Arc<dyn ContactStore> = match (&self.contacts, &ldap) {
            (None, _) => contacts,
            (Some(ContactsConfig::Ldap(config)), Some(directory)) => {
                let store = LdapContactStore::new(directory, config.clone()).map_err(backend("LDAP contact store"))?;
                if let Some(check) = &self.contacts_check {
                    let writable = store
                        .check_self_writable(&check.user_dn, &check.password)
                        .await
                        .map_err(backend("LDAP contact store's rights check"))?;
                    tracing::info!(user = check.user_dn, attributes = ?writable, "users may write these of their own entry");
                }
                Arc::new(store)
            }
            (Some(ContactsConfig::Ldap(_)), None) => {
                return Err(ConfigError::Invalid("[contacts] kind = \"ldap\" needs [directory] kind = \"ldap\""));
            }
            (Some(ContactsConfig::Graph(config)), _) => {
                let Some(directory) = &graph else {
                    return Err(ConfigError::Invalid("[contacts] kind = \"graph\" needs [directory] kind = \"graph\""));
                };
                Arc::new(GraphContactStore::with_clock(directory, contacts, config.clone(), ctx.clock.clone()))
            }
        };
        let (state, state_is_shared): (Arc<dyn StateStore>, bool) = match &self.state {
            None => (store, store_shared),
            Some(StateConfig::Redis(config)) => {
                (Arc::new(RedisStore::from_config(config).await.map_err(backend("Redis state store"))?), true)
            }
            Some(StateConfig::Postgres(config)) => {
                (Arc::new(PostgresStore::from_config(config).await.map_err(backend("PostgreSQL state store"))?), true)
            }
        };
        let outbox = Outbox::new();
        let mut outbox_used = false;
        let email: Arc<dyn Notifier> = match &self.notifier {
            NotifierConfig::Outbox => {
                outbox_used = true;
                Arc::new(outbox.clone())
            }
            NotifierConfig::Smtp(config) => {
                Arc::new(SmtpNotifier::from_config(config).map_err(backend("SMTP notifier"))?)
            }
            NotifierConfig::Webhook(config) => {
                Arc::new(WebhookNotifier::from_config(config).map_err(backend("e-mail webhook notifier"))?)
            }
        };
        let sms: Arc<dyn Notifier> = match &self.sms {
            SmsConfig::Outbox => {
                outbox_used = true;
                Arc::new(outbox.clone())
            }
            SmsConfig::Twilio(config) => {
                Arc::new(TwilioNotifier::from_config(config).map_err(backend("Twilio notifier"))?)
            }
            SmsConfig::Webhook(config) => {
                Arc::new(WebhookNotifier::from_config(config).map_err(backend("SMS webhook notifier"))?)
            }
        };
        let mut audit_report: Option<Arc<dyn AuditReport>> = None;
        let audit: Option<Arc<dyn AuditSink>> = match &self.audit {
            None => None,
            Some(AuditConfig::Sqlite(sqlite)) => {
                let path = sqlite.path.clone().unwrap_or_else(|| ctx.data_dir.join(DEFAULT_AUDIT_SQLITE));
                let store = SqliteStore::from_config(&SqliteConfig {
                    path,
                    busy_timeout_ms: sqlite.busy_timeout_ms.unwrap_or(5000),
                    retain_days: sqlite.retain_days,
                })
                .map_err(backend("SQLite audit sink"))?;
                audit_report = Some(Arc::new(store.clone()));
                Some(Arc::new(store))
            }
            Some(AuditConfig::Postgres(config)) => {
                let store = PostgresStore::from_config(config).await.map_err(backend("PostgreSQL audit sink"))?;
                audit_report = Some(Arc::new(store.clone()));
                Some(Arc::new(store))
            }
            Some(AuditConfig::Syslog(config)) => {
                Some(Arc::new(SyslogAuditSink::new(config.clone()).map_err(backend("syslog audit sink"))?))
            }
            Some(AuditConfig::Webhook(config)) => Some(Arc::new(
                WebhookAuditSink::with_clock(config, ctx.clock.clone()).map_err(backend("audit webhook"))?,
            )),
            Some(AuditConfig::JsonLines { path, max_bytes, keep }) => {
                let sink = match max_bytes {
                    None => JsonLinesAuditSink::open(path),
                    Some(max_bytes) => {
                        JsonLinesAuditSink::open_rotating(path, Rotation { max_bytes: *max_bytes, keep: *keep })
                    }
                };
                Some(Arc::new(sink.map_err(backend("audit log"))?))
            }
        };
        let capacity = self.audit_queue.as_ref().map_or(crate::audit_queue::DEFAULT_CAPACITY, |q| q.capacity);
        let audit_queue = match &audit {
            Some(sink) if capacity > 0 => {
                Some(QueuedAuditSink::new(Arc::clone(sink), capacity).map_err(backend("audit queue"))?)
            }
            _ => None,
        };
        let audit = match &audit_queue {
            Some(queue) => Some(Arc::new(queue.clone()) as Arc<dyn AuditSink>),
            None => audit,
        };
        let password_checkers = match &self.password_checks {
            Some(checks) => checks.build().map_err(backend("password checks"))?,
            None => Vec::new(),
        };
        let bot_challenge = match &self.bot_challenge {
            Some(config) => {
                let policy = config.challenge_policy().map_err(backend("bot_challenge"))?;
                let verifier = crate::captcha::SiteVerify::new(config).map_err(backend("bot_challenge"))?;
                Some((Arc::new(verifier) as Arc<dyn sspr_core::BotChallenge>, policy))
            }
            None => None,
        };
        Ok(Backends {
            password_checkers,
            bot_challenge,
            directory,
            memory_directory,
            contacts,
            state,
            state_is_shared,
            notifier: Arc::new(ByChannel::new(Some(email), Some(sms))),
            outbox: outbox_used.then_some(outbox),
            audit,
            audit_queue,
            audit_report,
        })
    }
}

/// An OpenLDAP password policy under which every temporary password would be refused at a
/// reset's last step (THREAT_MODEL 12.14: no `pwdMustChange`, a `pwdMinAge`, no user change),
/// told to the operator as a warning at start-up, off the start's path: a directory that
/// cannot be reached yet delays nothing.
fn warn_of_a_policy_refusing_temporary_passwords(directory: &LdapDirectory) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let directory = directory.clone();
    runtime.spawn(async move {
        match directory.temporary_password_refusal().await {
            Ok(Some(refusal)) => tracing::warn!("resets with a temporary password will fail: {refusal}"),
            Ok(None) => {}
            Err(error) => tracing::debug!(%error, "the LDAP password policy could not be read at start-up"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_read_the_same_schema_and_name_bad_keys() {
        let toml = BackendsConfig::from_toml_str("[state]\nkind = \"redis\"\nurl = \"redis://:s3cret@cache:6379/0\"\n")
            .unwrap();
        let json = BackendsConfig::from_json_value(serde_json::json!({
            "state": {"kind": "redis", "url": "redis://:s3cret@cache:6379/0"}
        }))
        .unwrap();
        assert_eq!(format!("{toml:?}"), format!("{json:?}"));
        assert!(!format!("{toml:?}").contains("s3cret"));
        assert!(!toml.summary_lines(&BuildContext::default()).join("\n").contains("s3cret"));
        let err = BackendsConfig::from_toml_str("[store]\nkind = \"sqlite\"\npth = \"x\"\n").unwrap_err();
        assert!(matches!(err, ConfigError::Parse(_)) && err.to_string().contains("pth"), "{err}");
        let err = BackendsConfig::from_json_value(serde_json::json!({"directory": {"kind": "nis"}})).unwrap_err();
        assert!(err.to_string().contains("nis"), "{err}");
        assert!(matches!(BackendsConfig::from_toml_str("[contacts]\nkind = \"ldap\"\n"), Err(ConfigError::Invalid(_))));
        let check = "[contacts_check]\nuser_dn = \"CN=t\"\npassword = \"s3cret\"\n";
        assert!(
            matches!(BackendsConfig::from_toml_str(check), Err(ConfigError::Invalid(_))),
            "a check needs LDAP contacts"
        );
        let openldap = format!(
            "{check}[contacts]\nkind = \"ldap\"\n[directory]\nkind = \"ldap\"\nurl = \"ldaps://h\"\nbase_dn = \"dc=x\"\nbind_dn = \"cn=a\"\nbind_password = \"p\"\n"
        );
        let err = BackendsConfig::from_toml_str(&openldap).unwrap_err();
        assert!(err.to_string().contains("OpenLDAP"), "{err}");
        assert!(matches!(
            BackendsConfig::from_toml_str("[directory]\nkind = \"demo\"\n").unwrap().directory,
            DirectoryConfig::Memory { .. }
        ));
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let config = BackendsConfig::from_toml_str(
            "[directory]\nkind = \"ldap\"\nurl = \"ldaps://dc1.example.org\"\nflavor = \"active_directory\"\nbase_dn = \"DC=example,DC=org\"\nbind_dn = \"CN=svc\"\nbind_password = \"s3cret1\"\n\
             [notifier]\nkind = \"smtp\"\nhost = \"smtp.example.org\"\npassword = \"s3cret2\"\nfrom = \"x@example.org\"\n\
             [sms]\nkind = \"twilio\"\naccount_sid = \"AC123\"\nauth_token = \"s3cret3\"\nfrom = \"+15005550006\"\n\
             [store]\nkind = \"postgres\"\nurl = \"postgres://u:s3cret4@db/sspr\"\n",
        )
        .unwrap();
        let shown = format!("{config:?}\n{}", config.summary_lines(&BuildContext::default()).join("\n"));
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[tokio::test]
    async fn an_audit_queue_too_long_for_a_channel_is_an_error_naming_it_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = BuildContext { data_dir: dir.path().to_owned(), ..BuildContext::default() };
        for capacity in ["9000000000000000000", "10000001"] {
            let text = format!("[audit_queue]\ncapacity = {capacity}\n[audit]\nkind = \"sqlite\"\n");
            let err = match BackendsConfig::from_toml_str(&text) {
                Err(err) => err,
                Ok(config) => config.build(&ctx).await.unwrap_err(),
            };
            assert!(err.to_string().contains("capacity"), "{err}");
        }
        let most = BackendsConfig::from_toml_str("[audit_queue]\ncapacity = 10000000\n[audit]\nkind = \"sqlite\"\n");
        assert_eq!(most.unwrap().build(&ctx).await.unwrap().audit_queue.unwrap().capacity(), 10_000_000);
    }

    #[test]
    fn a_parse_error_on_a_secrets_line_does_not_quote_the_line() {
        // toml's errors print the offending source line: a password with a backslash (an
        // invalid escape in a basic string), a forgotten quote, or a bad value beside the
        // secret in an inline table put the secret on the operator's terminal and in the
        // service manager's log.
        let cases = [
            "[directory]\nkind = \"ldap\"\nurl = \"ldaps://h\"\nbase_dn = \"dc=x\"\nbind_dn = \"cn=a\"\nbind_password = \"s3cret\\q\"\n",
            "[notifier]\nkind = \"smtp\"\nhost = \"h\"\nfrom = \"a@b.org\"\npassword = s3cret\n",
            "notifier = { kind = \"smtp\", host = \"h\", from = \"a@b.org\", password = \"s3cret\", port = \"x\" }\n",
            "state = { kind = \"redis\", url = \"redis://:s3cret@cache:6379/0\", bogus = 1 }\n",
            "[sms]\nkind = \"twilio\"\naccount_sid = \"AC1\"\nauth_token = \"s3cret\nfrom = \"+15005550006\"\n",
        ];
        for text in cases {
            let err = BackendsConfig::from_toml_str(text).unwrap_err().to_string();
            assert!(!err.contains("s3cret"), "{text}\n{err}");
            assert!(err.contains("line "), "the error still says where: {err}");
        }
        let err = BackendsConfig::from_toml_str("[store]\nkind = \"sqlite\"\npth = \"x\"\n").unwrap_err().to_string();
        assert!(err.contains("pth") && err.contains("in `store`"), "{err}");
    }

    #[test]
    fn the_summary_shows_no_password_or_token_of_any_url() {
        // Printed at start-up, so in the service's log: user info and query values hidden.
        let text = r#"
            [directory]
            kind = "ldap"
            url = "ldaps://svc:s3cret@dc1.corp.example"
            base_dn = "dc=x"
            bind_dn = "cn=a"
            bind_password = "s3cret"
            [store]
            kind = "postgres"
            url = "postgres://sspr:s3cret@db/sspr?sslmode=verify-full"
            [state]
            kind = "redis"
            url = "rediss://:s3cret@cache:6380/0"
            cluster_nodes = ["rediss://:s3cret@cache2:6380"]
            [notifier]
            kind = "webhook"
            url = "https://u:s3cret@mail.example/hook?sig=s3cret"
            key = "s3cret-s3cret-s3cret-s3cret-s3cret"
            [sms]
            kind = "twilio"
            account_sid = "AC1"
            auth_token = "s3cret"
            from = "+15005550006"
            base_url = "https://AC1:s3cret@sms.example"
            [audit]
            kind = "postgres"
            url = "host=db password=s3cret"
            [bot_challenge]
            provider = "turnstile"
            site_key = "s"
            secret = "s3cret"
            verify_url = "https://verify.example/siteverify?token=s3cret"
            [password_checks.breached]
            endpoint = "https://u:s3cret@range.example"
        "#;
        let lines = BackendsConfig::from_toml_str(text).unwrap().summary_lines(&BuildContext::default()).join("\n");
        assert!(!lines.contains("s3cret"), "{lines}");
        for host in
            ["dc1.corp.example", "db", "cache", "mail.example", "sms.example", "verify.example", "range.example"]
        {
            assert!(lines.contains(host), "{host}: {lines}");
        }
        let graph = r#"directory = { kind = "graph", tenant_id = "t", client_id = "c", client_secret = "x", graph_url = "https://u:s3cret@graph.example/v1.0" }"#;
        let lines = BackendsConfig::from_toml_str(graph).unwrap().summary_lines(&BuildContext::default()).join("\n");
        assert!(!lines.contains("s3cret") && lines.contains("graph.example"), "{lines}");
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_named_not_quoted() {
        // serde's type errors quote the value ("invalid type: integer `12345678`, expected a
        // string"): a numeric password typed without quotes reached the log whole. Every
        // secret field, in TOML and in JSON (Python dicts, JS objects), says only its type.
        let secret = 31_415_926_535_u64;
        let values = [
            ("integer", secret.to_string()),
            ("floating point", format!("{secret}.5")),
            ("boolean", "true".to_owned()),
            ("sequence", format!("[{secret}]")),
        ];
        let ldap = r#"kind = "ldap", url = "ldaps://h", base_dn = "dc=x", bind_dn = "cn=a""#;
        let tables = [
            ("directory", ldap, "bind_password"),
            ("directory", r#"kind = "graph", tenant_id = "t", client_id = "c""#, "client_secret"),
            ("notifier", r#"kind = "smtp", host = "h", from = "a@b.org""#, "password"),
            ("notifier", r#"kind = "webhook", url = "https://h/x""#, "key"),
            ("sms", r#"kind = "webhook", key = "k""#, "url"),
            ("sms", r#"kind = "twilio", account_sid = "AC1", from = "+15005550006""#, "auth_token"),
            ("state", r#"kind = "redis""#, "url"),
            ("state", r#"kind = "redis", url = "redis://127.0.0.1""#, "cluster_nodes"),
            ("state", r#"kind = "postgres""#, "url"),
            ("store", r#"kind = "postgres""#, "url"),
            ("audit", r#"kind = "webhook", url = "https://h/x""#, "key"),
            ("bot_challenge", r#"provider = "turnstile", site_key = "s""#, "secret"),
            ("contacts_check", r#"user_dn = "cn=t""#, "password"),
        ];
        for (table, fields, field) in tables {
            for (kind, value) in &values {
                let text = format!("{table} = {{ {fields}, {field} = {value} }}\n");
                let toml_err = BackendsConfig::from_toml_str(&text).unwrap_err().to_string();
                let json: serde_json::Value = toml::from_str(&text).unwrap();
                let json_err = BackendsConfig::from_json_value(json).unwrap_err().to_string();
                for err in [toml_err, json_err] {
                    assert!(!err.contains(&secret.to_string()) && !err.contains("true"), "{text}{err}");
                    // A list's element is what `cluster_nodes` (a list of URLs) names.
                    let kind = if field == "cluster_nodes" && *kind == "sequence" { "integer" } else { kind };
                    assert!(err.contains(kind), "{text}{err}");
                }
            }
        }
        // The LDAP contact store's record key, and a URL where a list of them belongs.
        let contacts =
            format!("[directory]\n{}\n[contacts]\nkind = \"ldap\"\nrecord_key = {secret}\n", ldap.replace(", ", "\n"));
        let err = BackendsConfig::from_toml_str(&contacts).unwrap_err().to_string();
        assert!(!err.contains(&secret.to_string()) && err.contains("integer"), "{err}");
        let nodes =
            "state = { kind = \"redis\", url = \"redis://127.0.0.1\", cluster_nodes = \"redis://:s3cret@h\" }\n";
        let err = BackendsConfig::from_toml_str(nodes).unwrap_err().to_string();
        assert!(!err.contains("s3cret") && err.contains("string"), "{err}");
        // Strings still read as before.
        let fine = format!("[directory]\n{}\nbind_password = \"{secret}\"\n", ldap.replace(", ", "\n"));
        BackendsConfig::from_toml_str(&fine).unwrap();
    }

    #[tokio::test]
    async fn builds_memory_sqlite_and_audit_backends() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = BuildContext { data_dir: dir.path().to_owned(), ..BuildContext::default() };
        let memory = BackendsConfig::default().build(&ctx).await.unwrap();
        assert!(memory.memory_directory.is_some() && memory.outbox.is_some() && !memory.state_is_shared);
        let config = BackendsConfig::from_toml_str(&format!(
            "[store]\nkind = \"sqlite\"\n[audit]\nkind = \"json_lines\"\npath = {:?}\n",
            dir.path().join("audit.jsonl")
        ))
        .unwrap();
        let sqlite_file = dir.path().join("sspr.sqlite").display().to_string();
        assert!(config.summary_lines(&ctx).join("\n").contains(&sqlite_file), "the default file, resolved");
        let built = config.build(&ctx).await.unwrap();
        assert!(built.state_is_shared && built.audit.is_some());
        assert!(dir.path().join("sspr.sqlite").exists() && dir.path().join("audit.jsonl").exists());
        // The sink is behind the queue by default; flushing writes what was recorded.
        let queue = built.audit_queue.clone().unwrap();
        assert_eq!(queue.capacity(), crate::audit_queue::DEFAULT_CAPACITY);
        let at = sspr_core::time::OffsetDateTime::UNIX_EPOCH;
        let event = sspr_core::AuditEvent::new(sspr_core::AuditKind::PinSent, at, sspr_core::Outcome::Success);
        built.audit.as_ref().unwrap().record(&event).await.unwrap();
        queue.flush().await.unwrap();
        let text = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
        assert!(text.contains("pin_sent"), "{text}");
        let inline = BackendsConfig::from_toml_str(&format!(
            "[audit_queue]\ncapacity = 0\n[audit]\nkind = \"json_lines\"\npath = {:?}\nmax_bytes = 1\nkeep = 1\n",
            dir.path().join("inline.jsonl")
        ))
        .unwrap()
        .build(&ctx)
        .await
        .unwrap();
        assert!(inline.audit.is_some() && inline.audit_queue.is_none());
        // Inline, and rotated at every line (max_bytes = 1): the second event moved the first aside.
        for _ in 0..2 {
            inline.audit.as_ref().unwrap().record(&event).await.unwrap();
        }
        assert!(dir.path().join("inline.jsonl.1").exists() && !dir.path().join("inline.jsonl.2").exists());
        let unreachable = BackendsConfig::from_toml_str(
            "[state]\nkind = \"redis\"\nurl = \"redis://:pw@127.0.0.1:1/0\"\nconnect_timeout_ms = 300\n",
        )
        .unwrap();
        let err = unreachable.build(&ctx).await.unwrap_err();
        assert!(matches!(err, ConfigError::Backend { what: "Redis state store", .. }), "{err}");
        assert!(!err.to_string().contains(":pw@"), "{err}");
    }

    #[tokio::test]
    async fn a_sqlite_audit_sink_is_queued_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = BuildContext { data_dir: dir.path().to_owned(), ..BuildContext::default() };
        let config = BackendsConfig::from_json_value(serde_json::json!({"audit": {"kind": "sqlite"}})).unwrap();
        let audit_file = dir.path().join(DEFAULT_AUDIT_SQLITE).display().to_string();
        assert!(config.summary_lines(&ctx).join("\n").contains(&format!("audit: SQLite {audit_file}")));
        let built = config.build(&ctx).await.unwrap();
        let now = sspr_core::Clock::now(&SystemClock);
        let event = sspr_core::AuditEvent::new(sspr_core::AuditKind::ResetRequested, now, sspr_core::Outcome::Success);
        built.audit.as_ref().unwrap().record(&event).await.unwrap();
        built.audit_queue.as_ref().unwrap().flush().await.unwrap();
        let summary = built.audit_report.as_ref().unwrap().audit_summary(30, now).await.unwrap();
        assert_eq!(summary.begins, 1);
        let err = BackendsConfig::from_toml_str("[audit]\nkind = \"sqlite\"\npth = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("pth"), "{err}");
        let pg = BackendsConfig::from_toml_str(
            "[audit]\nkind = \"postgres\"\nurl = \"postgres://u:s3cret@127.0.0.1:1/a\"\nconnect_timeout_ms = 300\n",
        )
        .unwrap();
        assert!(!format!("{pg:?} {}", pg.summary_lines(&ctx).join(" ")).contains("s3cret"));
        let err = pg.build(&ctx).await.unwrap_err();
        assert!(matches!(err, ConfigError::Backend { what: "PostgreSQL audit sink", .. }), "{err}");
        assert!(!format!("{err} {err:?}").contains("s3cret"), "{err}");
    }

    #[test]
    fn retain_days_is_an_audit_setting_only() {
        let audit = BackendsConfig::from_toml_str("[audit]\nkind = \"sqlite\"\nretain_days = 90\n").unwrap();
        assert!(matches!(audit.audit, Some(AuditConfig::Sqlite(SqliteStoreConfig { retain_days: Some(90), .. }))));
        let pg = "kind = \"postgres\"\nurl = \"postgres://u@h/a\"\nretain_days = 90\n";
        assert!(BackendsConfig::from_toml_str(&format!("[audit]\n{pg}")).is_ok());
        for misplaced in [
            "[store]\nkind = \"sqlite\"\nretain_days = 90\n".to_owned(),
            format!("[store]\n{pg}"),
            format!("[state]\n{pg}"),
        ] {
            let err = BackendsConfig::from_toml_str(&misplaced).unwrap_err();
            assert!(matches!(err, ConfigError::Invalid(m) if m.contains("retain_days")), "{misplaced}: {err}");
        }
        let err = BackendsConfig::from_toml_str("[audit]\nkind = \"sqlite\"\nretain_days = -1\n").unwrap_err();
        assert!(matches!(&err, ConfigError::Parse(m) if m.contains("retain_days")), "{err}");
    }

    // A bad setting of each audit sink is a `Parse` error naming the setting, from TOML and
    // from JSON (a Python dict, a JS object) alike; a secret beside it is not in the error.
    #[test]
    fn a_bad_audit_setting_is_named_for_every_sink() {
        let cases = [
            ("json_lines", r#"{"path": "a.jsonl", "max_bytes": -5}"#, "max_bytes"),
            ("json_lines", r#"{"path": "a.jsonl", "keep": "some"}"#, "keep"),
            ("json_lines", r#"{"max_bytes": 5}"#, "path"),
            ("sqlite", r#"{"retain_days": -1}"#, "retain_days"),
            ("sqlite", r#"{"busy_timeout_ms": "long"}"#, "busy_timeout_ms"),
            ("sqlite", r#"{"pth": "a.sqlite"}"#, "pth"),
            ("postgres", r#"{"url": "postgres://u:s3cret@h/a", "retain_days": -1}"#, "retain_days"),
            ("syslog", r#"{"address": "127.0.0.1:514", "timeout_ms": -1}"#, "timeout_ms"),
            ("syslog", r#"{"address": "127.0.0.1:514", "transport": "carrier-pigeon"}"#, "transport"),
            ("webhook", r#"{"url": "https://h/a", "key": "s3cret", "timeout_ms": "soon"}"#, "timeout_ms"),
            ("webhook", r#"{"url": "https://h/a", "key": "s3cret", "retries": 3}"#, "retries"),
        ];
        for (kind, settings, field) in cases {
            let mut table: serde_json::Map<String, serde_json::Value> = serde_json::from_str(settings).unwrap();
            table.insert("kind".into(), kind.into());
            let json = serde_json::json!({ "audit": table });
            let toml_text = toml::to_string(&serde_json::json!({ "audit": table })).unwrap();
            for (from, err) in [
                ("toml", BackendsConfig::from_toml_str(&toml_text).unwrap_err()),
                ("json", BackendsConfig::from_json_value(json).unwrap_err()),
            ] {
                let text = err.to_string();
                assert!(matches!(err, ConfigError::Parse(_)), "{kind} {from}: {text}");
                assert!(text.contains(field) && text.contains(kind), "{kind} {from}: {field} not named: {text}");
                assert!(!text.contains("s3cret"), "{kind} {from}: {text}");
            }
        }
        for (table, named) in [("kind = \"nis\"\n", "nis"), ("path = \"a\"\n", "kind"), ("kind = 3\n", "kind")] {
            let err = BackendsConfig::from_toml_str(&format!("[audit]\n{table}")).unwrap_err();
            assert!(matches!(&err, ConfigError::Parse(m) if m.contains(named)), "{table}: {err}");
        }
        // Good tables still read as before.
        let good =
            BackendsConfig::from_toml_str("[audit]\nkind = \"json_lines\"\npath = \"a.jsonl\"\nmax_bytes = 10\n");
        assert!(matches!(good.unwrap().audit, Some(AuditConfig::JsonLines { max_bytes: Some(10), keep: 5, .. })));
    }

    #[tokio::test]
    async fn syslog_and_webhook_audit_sinks_are_configured_and_queued() {
        let listener = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let config = BackendsConfig::from_toml_str(&format!(
            "[audit]\nkind = \"syslog\"\ntransport = \"udp\"\naddress = \"{}\"\nfacility = \"local3\"\n",
            listener.local_addr().unwrap()
        ))
        .unwrap();
        let ctx = BuildContext::default();
        assert!(config.summary_lines(&ctx).join("\n").contains("audit: syslog Udp 127.0.0.1:"));
        let built = config.build(&ctx).await.unwrap();
        let at = sspr_core::Clock::now(&SystemClock);
        let event = sspr_core::AuditEvent::new(sspr_core::AuditKind::SignIn, at, sspr_core::Outcome::Success);
        built.audit.as_ref().unwrap().record(&event).await.unwrap();
        built.audit_queue.as_ref().unwrap().flush().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = listener.recv(&mut buf).await.unwrap();
        assert!(buf.get(..n).unwrap().starts_with(b"<158>1 "), "local3 (19) * 8 + info");

        let webhook = BackendsConfig::from_json_value(serde_json::json!({"audit": {
            "kind": "webhook", "url": "https://audit.example.org/in?token=t0ken-s3cret",
            "key": "0123456789abcdef0123456789abcdef-s3cret"
        }}))
        .unwrap();
        assert!(!format!("{webhook:?} {}", webhook.summary_lines(&ctx).join(" ")).contains("s3cret"));
        let built = webhook.build(&ctx).await.unwrap();
        assert!(!format!("{built:?}").contains("s3cret"));
        let short = BackendsConfig::from_json_value(serde_json::json!({"audit": {
            "kind": "webhook", "url": "https://audit.example.org/in", "key": "short-s3cret"
        }}))
        .unwrap();
        let err = short.build(&ctx).await.unwrap_err();
        assert!(
            matches!(err, ConfigError::Backend { what: "audit webhook", .. }) && !err.to_string().contains("s3cret")
        );
        let err =
            BackendsConfig::from_toml_str("[audit]\nkind = \"syslog\"\naddress = \"h:514\"\nfacility = \"local9\"\n")
                .unwrap_err();
        assert!(err.to_string().contains("local9"), "{err}");
    }

    #[tokio::test]
    async fn a_graph_directory_is_configured_like_the_others() {
        let text = "[directory]\nkind = \"graph\"\ntenant_id = \"contoso.onmicrosoft.com\"\n\
                    client_id = \"6731de76-14a6-49ae-97bc-6eba6914391e\"\nclient_secret = \"s3cret-graph\"\n";
        let config = BackendsConfig::from_toml_str(text).unwrap();
        assert!(matches!(config.directory, DirectoryConfig::Graph(_)));
        assert!(!format!("{config:?}").contains("s3cret-graph"));
        let ctx = BuildContext::default();
        let summary = config.summary_lines(&ctx).join("\n");
        assert!(summary.contains("Microsoft Graph https://graph.microsoft.com (tenant contoso.onmicrosoft.com)"));
        // Building asks for no token yet (lazily, on first use), so it works offline.
        let built = config.build(&ctx).await.unwrap();
        assert!(built.memory_directory.is_none());
        let with_contacts = BackendsConfig::from_toml_str(&format!("{text}[contacts]\nkind = \"graph\"\n")).unwrap();
        assert!(with_contacts.summary_lines(&ctx).join("\n").contains("Entra authentication methods"));
        with_contacts.build(&ctx).await.unwrap();
        let without_graph = "[contacts]\nkind = \"graph\"\n";
        assert!(matches!(BackendsConfig::from_toml_str(without_graph), Err(ConfigError::Invalid(_))));
        let no_credential = "[directory]\nkind = \"graph\"\ntenant_id = \"t\"\nclient_id = \"c\"\n";
        let err = BackendsConfig::from_toml_str(no_credential).unwrap().build(&ctx).await.unwrap_err();
        assert!(err.to_string().contains("client_secret"), "{err}");
    }

    #[tokio::test]
    async fn a_bot_challenge_is_built_with_its_policy_and_its_secret_stays_hidden() {
        let text = "[bot_challenge]\nprovider = \"hcaptcha\"\nsite_key = \"10000000-ffff\"\nsecret = \"0xS3CR3T\"\n\
                    verify_url = \"http://127.0.0.1:9/siteverify\"\npolicy = \"after_begins\"\nbegins_per_ip = 4\n";
        let config = BackendsConfig::from_toml_str(text).unwrap();
        let shown = format!("{config:?} {:?}", config.summary_lines(&BuildContext::default()));
        assert!(shown.contains("Hcaptcha") && !shown.contains("0xS3CR3T"), "{shown}");
        let built = config.build(&BuildContext::default()).await.unwrap();
        let (verifier, policy) = built.bot_challenge.unwrap();
        assert!(matches!(policy, sspr_core::ChallengePolicy::AfterBegins { per_ip: Some(4), per_login: None, .. }));
        assert!(!format!("{verifier:?}").contains("0xS3CR3T"));
        let bad = BackendsConfig::from_toml_str(&text.replace("begins_per_ip = 4\n", "")).unwrap();
        let err = bad.build(&BuildContext::default()).await.unwrap_err().to_string();
        assert!(err.contains("bot_challenge") && err.contains("begins_per_ip"), "{err}");
        assert!(BackendsConfig::from_toml_str("[bot_challenge]\nprovider = \"friendlycaptcha\"\n").is_err());
    }

    #[tokio::test]
    async fn password_checks_are_built_in_order_and_a_bad_list_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let words = dir.path().join("banned.txt");
        std::fs::write(&words, "# ours\nexamplecorp\n").unwrap();
        let text = format!(
            "[password_checks]\nbanned_words_file = {:?}\n[password_checks.breached]\nendpoint = \"http://127.0.0.1:9\"\ntimeout_ms = 500\n",
            words.display().to_string()
        );
        let config = BackendsConfig::from_toml_str(&text).unwrap();
        let built = config.build(&BuildContext::default()).await.unwrap();
        let names: Vec<String> = built.password_checkers.iter().map(|c| format!("{c:?}")).collect();
        assert!(
            names.len() == 2 && names[0].starts_with("BannedWords") && names[1].starts_with("BreachedPasswords"),
            "{names:?}"
        );
        assert!(config.summary_lines(&BuildContext::default()).iter().any(|l| l.contains("127.0.0.1:9")));
        std::fs::write(&words, "ok-word\nab\n").unwrap();
        let err = config.build(&BuildContext::default()).await.unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = BackendsConfig::from_toml_str("[password_checks.breached]\nendpont = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("endpont"), "{err}");
    }
}
