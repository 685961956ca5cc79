//! A [`ContactStore`] and [`StateStore`] in PostgreSQL, shared by several portal instances
//! (feature `postgres`).
//!
//! The schema is created and migrated on connect (table `sspr_migrations` records the steps,
//! under an advisory lock so instances starting together do not race). Every compare-and-set
//! is one `INSERT ... ON CONFLICT ... WHERE` or `UPDATE ... WHERE version = $n RETURNING`, and
//! [`StateStore::increment_many`] counts a whole batch in one statement, so each engine step
//! is one round trip and exactly one instance wins a race. PostgreSQL has no TTL: liveness is
//! decided by the engine's clock, and expired rows are deleted by a sweep that writes start in
//! the background at most once per `sweep_interval_secs` (or [`PostgresStore::sweep_expired`]).
//!
//! A small pool of connections is kept; each connection pipelines the statements of
//! concurrent calls. A connection that broke (the server restarted) is replaced on the next
//! call; while the server is down every call fails with [`BackendErrorKind::Unavailable`].
//!
//! TLS follows libpq's `sslmode` in the URL (`disable`, `allow`, `prefer`, `require`,
//! `verify-ca`, `verify-full`) with the CA from `ca_file` or the URL's `sslrootcert`; without
//! a mode it is `verify-full` when a CA is given, else libpq's default `prefer` (see `tls`).

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use sspr_core::backend::{
    Batch, BatchOutcome, ContactHistory, ContactStore, Counter, Enrollment, StateStore, StoredContact, StoredValue,
};
use sspr_core::time::OffsetDateTime;
use sspr_core::time::format_description::well_known::Rfc3339;
use sspr_core::{AuditEvent, AuditSink, BackendError, BackendErrorKind, EmailAddress, PhoneNumber, UserId};
use tokio::sync::Mutex;
use tokio_postgres::{Client, Row, Statement};

use crate::audit_sql::{self, AuditReport, AuditRow, AuditSummary, PRUNE, PRUNE_BATCH, Retention};
use crate::{conninfo, redact};

mod tls;

/// How to reach PostgreSQL, as read from the portal's configuration.
///
/// ```
/// let config: sspr_backends::postgres::PostgresConfig = toml::from_str(r#"
///     url = "postgres://sspr:s3cret@db.example.org:5432/sspr"
///     pool_size = 8
/// "#).unwrap();
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:port/database?sslmode=verify-full` or `host=...
    /// user=... password=... sslmode=...` (the password is hidden in `Debug`). `sslmode` and
    /// `sslrootcert` mean what they mean to libpq.
    #[serde(deserialize_with = "crate::secret_field::string")]
    pub url: String,
    /// A PEM file of CA certificates the server's certificate must chain to. Given, the
    /// default `sslmode` is `verify-full`; `require` and `prefer` then check the chain too.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Connections kept open (each pipelines concurrent statements).
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// How long to wait for a new connection.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long one statement may take before the call fails as unavailable.
    #[serde(default = "default_query_timeout_ms")]
    pub query_timeout_ms: u64,
    /// How often (at most) expired state rows are deleted.
    #[serde(default = "default_sweep_interval_secs")]
    pub sweep_interval_secs: u64,
    /// As an audit sink: delete `sspr_audit` rows older than this many days (see
    /// [`crate::audit_sql`], "Retention"). Default: kept for ever.
    #[serde(default)]
    pub retain_days: Option<u32>,
}

fn default_pool_size() -> usize {
    4
}
fn default_connect_timeout_ms() -> u64 {
    5000
}
fn default_query_timeout_ms() -> u64 {
    5000
}
fn default_sweep_interval_secs() -> u64 {
    60
}

impl PostgresConfig {
    /// The defaults for the database at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ca_file: None,
            pool_size: default_pool_size(),
            connect_timeout_ms: default_connect_timeout_ms(),
            query_timeout_ms: default_query_timeout_ms(),
            sweep_interval_secs: default_sweep_interval_secs(),
            retain_days: None,
        }
    }
}

impl PostgresConfig {
    /// Read and parse the CA file this configuration trusts (`ca_file`, or `sslrootcert` in
    /// the URL) and check the URL's `sslmode`, without connecting: what
    /// [`PostgresStore::from_config`] would refuse about TLS, refused now. Every binding calls
    /// this once it has read the configuration, so a missing or unreadable file, or one holding
    /// no PEM certificate, is a configuration error naming the setting in every language, not a
    /// backend failure at connect time. (A CA file is read only where the mode uses one: not
    /// with `sslmode=disable`.) A URL that does not parse is left to `from_config`.
    ///
    /// # Errors
    /// `Config` naming the setting (and the file's path, never its contents nor the URL).
    pub fn check_tls_files(&self) -> Result<(), sspr_core::Error> {
        let Some((_, taken)) = conninfo::take_params(&self.url, TLS_PARAMS) else { return Ok(()) };
        tls_settings(self, &taken)
            .map(|_| ())
            .map_err(|e| sspr_core::Error::Config(format!("PostgresStore: {}", e.message())))
    }
}

/// The connection-string parameters tokio-postgres does not know, read by [`tls::settings`].
const TLS_PARAMS: &[&str] = &["sslmode", "sslrootcert"];

/// The TLS settings of `config`, given the parameters [`TLS_PARAMS`] taken out of its URL.
fn tls_settings(config: &PostgresConfig, taken: &[(String, String)]) -> Result<tls::Settings, BackendError> {
    let value = |name: &str| taken.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    tls::settings(value("sslmode"), value("sslrootcert"), config.ca_file.as_deref())
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &redact::url(&self.url))
            .field("ca_file", &self.ca_file)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("query_timeout_ms", &self.query_timeout_ms)
            .field("sweep_interval_secs", &self.sweep_interval_secs)
            .field("retain_days", &self.retain_days)
            .finish()
    }
}

/// The schema, one step per entry; `sspr_migrations` lists the steps applied. Never edit a
/// step that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE sspr_state (
         key        TEXT PRIMARY KEY,
         value      BYTEA,            -- NULL for a counter
         counter    BIGINT,           -- NULL for a value
         version    BIGINT NOT NULL,
         expires_at BIGINT NOT NULL   -- unix seconds; the row is dead from then on
     );
     CREATE INDEX sspr_state_expires_at ON sspr_state (expires_at);
     CREATE TABLE sspr_enrollment (
         user_id           TEXT PRIMARY KEY,
         enabled           BOOLEAN NOT NULL,
         email             TEXT,
         email_added_at    TEXT,      -- RFC 3339, UTC, to the nanosecond
         email_usable_from TEXT,
         phone             TEXT,
         phone_added_at    TEXT,
         phone_usable_from TEXT,
         last_reset_at     TEXT,
         version           BIGINT NOT NULL
     );",
    // 2: the contact history (first registration, recently removed contacts) as JSON; empty
    // for rows written before it, which read as "no history".
    "ALTER TABLE sspr_enrollment ADD COLUMN history TEXT NOT NULL DEFAULT '';",
    // 3: `ContactStore::list` pages in byte order of the id (the contract's, whatever the
    // database's collation): an index in that order, so a page is a range scan, not a sort.
    "CREATE INDEX sspr_enrollment_user_id_bytes ON sspr_enrollment (user_id COLLATE \"C\");",
    // 4: the audit trail (crate::audit_sql), when the database is also an audit sink.
    "CREATE TABLE sspr_audit (
         id      BIGSERIAL PRIMARY KEY,
         at      BIGINT NOT NULL,   -- unix seconds, UTC
         kind    TEXT NOT NULL,
         outcome TEXT NOT NULL,
         reason  TEXT,
         channel TEXT,
         event   JSONB NOT NULL     -- AuditEvent::to_json
     );
     CREATE INDEX sspr_audit_at ON sspr_audit (at);",
];

/// An arbitrary constant: the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x5350_5250_4d49_4752;

const GET: &str = "SELECT value, version FROM sspr_state WHERE key = $1 AND counter IS NULL AND expires_at > $2";

const CREATE: &str = "INSERT INTO sspr_state AS s (key, value, counter, version, expires_at) VALUES ($1, $2, NULL, 1, $3)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, counter = NULL, version = 1, expires_at = EXCLUDED.expires_at
     WHERE s.expires_at <= $4
     RETURNING s.version";

const REPLACE: &str = "UPDATE sspr_state SET value = $2, version = version + 1, expires_at = $3
     WHERE key = $1 AND version = $4 AND counter IS NULL AND expires_at > $5
     RETURNING version";

/// Count a batch: a key named n times is counted up by n in one row update (a statement may
/// touch a row only once), and each occurrence is told the count it made.
const INCREMENT_MANY: &str = "WITH batch AS (
         SELECT key, expires_at, ord,
                row_number() OVER (PARTITION BY key ORDER BY ord) AS nth,
                count(*) OVER (PARTITION BY key) AS n
         FROM unnest($1::text[], $2::int8[]) WITH ORDINALITY AS b(key, expires_at, ord)
     ), per_key AS (
         SELECT DISTINCT ON (key) key, expires_at, n FROM batch ORDER BY key, ord
     ), counted AS (
         INSERT INTO sspr_state AS s (key, value, counter, version, expires_at)
         SELECT key, NULL, n, 1, expires_at FROM per_key ORDER BY key
         ON CONFLICT (key) DO UPDATE SET
             counter = CASE WHEN s.expires_at <= $3 OR s.counter IS NULL THEN EXCLUDED.counter
                            ELSE s.counter + EXCLUDED.counter END,
             expires_at = CASE WHEN s.expires_at <= $3 OR s.counter IS NULL THEN EXCLUDED.expires_at
                               ELSE s.expires_at END,
             version = 1, value = NULL
         RETURNING s.key, s.counter, s.expires_at
     )
     SELECT counted.counter - (batch.n - batch.nth) AS count, counted.expires_at
     FROM batch JOIN counted USING (key) ORDER BY batch.ord";

/// One engine step ([`StateStore::apply`]) in one statement, so one round trip and one
/// transaction: every part sees the table as it was when the statement started (the reads
/// come before the put, as the contract asks), the compare-and-set is an `INSERT ... ON
/// CONFLICT` (create) or an `UPDATE ... WHERE version` (replace) that PostgreSQL re-checks
/// against a concurrent writer, and the counters and deletes run only when there was no put or
/// it won. Parameters: now, the keys to read, the put's key (NULL: no put), value, expected
/// version (NULL: create) and expiry, the counters' keys and expiries, the keys to delete.
/// Rows: `('r', position, value, version)` per read found, `('p', 0, NULL, version)` when
/// the put won, `('c', position, count, expiry)` per counter.
const APPLY: &str = "WITH reads AS (
         SELECT r.ord, s.value, s.version
         FROM unnest($2::text[]) WITH ORDINALITY AS r(key, ord)
         JOIN sspr_state s ON s.key = r.key AND s.counter IS NULL AND s.expires_at > $1
     ), created AS (
         INSERT INTO sspr_state AS s (key, value, counter, version, expires_at)
         SELECT $3::text, $4::bytea, NULL, 1, $6::int8 WHERE $3::text IS NOT NULL AND $5::int8 IS NULL
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, counter = NULL, version = 1,
             expires_at = EXCLUDED.expires_at
         WHERE s.expires_at <= $1
         RETURNING s.version
     ), replaced AS (
         UPDATE sspr_state SET value = $4::bytea, version = version + 1, expires_at = $6::int8
         WHERE $5::int8 IS NOT NULL AND key = $3::text AND version = $5::int8 AND counter IS NULL
           AND expires_at > $1
         RETURNING version
     ), put AS (
         SELECT version FROM created UNION ALL SELECT version FROM replaced
     ), ok AS (
         SELECT $3::text IS NULL OR EXISTS (SELECT 1 FROM put) AS ok
     ), batch AS (
         SELECT key, expires_at, ord,
                row_number() OVER (PARTITION BY key ORDER BY ord) AS nth,
                count(*) OVER (PARTITION BY key) AS n
         FROM unnest($7::text[], $8::int8[]) WITH ORDINALITY AS b(key, expires_at, ord)
         WHERE (SELECT ok FROM ok)
     ), per_key AS (
         SELECT DISTINCT ON (key) key, expires_at, n FROM batch ORDER BY key, ord
     ), counted AS (
         INSERT INTO sspr_state AS s (key, value, counter, version, expires_at)
         SELECT key, NULL, n, 1, expires_at FROM per_key ORDER BY key
         ON CONFLICT (key) DO UPDATE SET
             counter = CASE WHEN s.expires_at <= $1 OR s.counter IS NULL THEN EXCLUDED.counter
                            ELSE s.counter + EXCLUDED.counter END,
             expires_at = CASE WHEN s.expires_at <= $1 OR s.counter IS NULL THEN EXCLUDED.expires_at
                               ELSE s.expires_at END,
             version = 1, value = NULL
         RETURNING s.key, s.counter, s.expires_at
     ), deleted AS (
         DELETE FROM sspr_state WHERE key = ANY($9::text[]) AND (SELECT ok FROM ok)
     )
     SELECT 'r' AS kind, ord, value, version AS number FROM reads
     UNION ALL SELECT 'p', 0, NULL, version FROM put
     UNION ALL SELECT 'c', batch.ord, NULL, counted.counter - (batch.n - batch.nth)
         FROM batch JOIN counted USING (key)
     UNION ALL SELECT 'e', batch.ord, NULL, counted.expires_at
         FROM batch JOIN counted USING (key)";

/// [`StateStore::get_linked`] in one statement: the record (position 0) and, when its value
/// starts with a link ([`sspr_core::backend::link_of`]: a length byte of 1 to 64, then that
/// many letters, digits, `-` or `_`), each key `prefix || link` (position = the prefix's).
/// `encode(.., 'escape')` writes any other byte with a backslash, which the pattern refuses.
/// Parameters: the key, now, the prefixes.
const GET_LINKED: &str = "WITH record AS (
         SELECT value, version,
                CASE WHEN length(value) >= 1 THEN get_byte(value, 0) ELSE 0 END AS n
         FROM sspr_state WHERE key = $1 AND counter IS NULL AND expires_at > $2
     ), link AS (
         SELECT encode(substring(value FROM 2 FOR n), 'escape') AS link FROM record
         WHERE n BETWEEN 1 AND 64 AND length(value) >= 1 + n
     )
     SELECT 0::int8 AS ord, value, version FROM record
     UNION ALL
     SELECT p.ord, s.value, s.version
     FROM unnest($3::text[]) WITH ORDINALITY AS p(prefix, ord)
     JOIN link ON link.link ~ '^[A-Za-z0-9_-]+$'
     JOIN sspr_state s ON s.key = p.prefix || link.link AND s.counter IS NULL AND s.expires_at > $2";

const DELETE: &str = "DELETE FROM sspr_state WHERE key = $1";

const SWEEP: &str = "DELETE FROM sspr_state WHERE expires_at <= $1";

const ENROLLMENT_GET: &str = "SELECT enabled, email, email_added_at, email_usable_from, phone, phone_added_at,
            phone_usable_from, last_reset_at, version, history
     FROM sspr_enrollment WHERE user_id = $1";

const ENROLLMENT_LIST: &str = "SELECT enabled, email, email_added_at, email_usable_from, phone, phone_added_at,
            phone_usable_from, last_reset_at, version, history, user_id
     FROM sspr_enrollment WHERE $1::text IS NULL OR user_id COLLATE \"C\" > $1::text
     ORDER BY user_id COLLATE \"C\" LIMIT $2";

const ENROLLMENT_INSERT: &str =
    "INSERT INTO sspr_enrollment (user_id, enabled, email, email_added_at, email_usable_from,
         phone, phone_added_at, phone_usable_from, last_reset_at, version, history)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)
     ON CONFLICT (user_id) DO NOTHING";

const ENROLLMENT_UPDATE: &str = "UPDATE sspr_enrollment SET enabled = $2, email = $3, email_added_at = $4,
         email_usable_from = $5, phone = $6, phone_added_at = $7, phone_usable_from = $8, last_reset_at = $9,
         version = version + 1, history = $11
     WHERE user_id = $1 AND version = $10";

const AUDIT_INSERT: &str = "INSERT INTO sspr_audit (at, kind, outcome, reason, channel, event)
     VALUES ($1, $2, $3, $4, $5, ($6::text)::jsonb)";

/// One connection and its prepared statements.
struct Conn {
    client: Client,
    get: Statement,
    create: Statement,
    replace: Statement,
    increment_many: Statement,
    apply: Statement,
    get_linked: Statement,
    delete: Statement,
    sweep: Statement,
    enrollment_get: Statement,
    enrollment_insert: Statement,
    enrollment_update: Statement,
    audit_insert: Statement,
}

/// A [`ContactStore`] and [`StateStore`] on PostgreSQL. Clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: tokio_postgres::Config,
    tls: tls::MakeRustls,
    sslmode: tls::SslMode,
    url: String,
    slots: Vec<Mutex<Option<Arc<Conn>>>>,
    next: AtomicUsize,
    query_timeout: Duration,
    sweep_every: i64,
    next_sweep: AtomicI64,
    /// When the audit trail is pruned (`retain_days`).
    retention: Retention,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &redact::url(&self.inner.url))
            .field("sslmode", &self.inner.sslmode)
            .field("pool_size", &self.inner.slots.len())
            .finish_non_exhaustive()
    }
}

fn map_err(e: tokio_postgres::Error) -> BackendError {
    // A refused certificate, or no TLS where it is required: a configuration (or an attack),
    // not an outage. tokio-postgres marks these "error performing TLS handshake". The same
    // mark covers a connection cut mid-handshake (a restart, a failover): that is an outage.
    if e.to_string().starts_with("error performing TLS handshake") && !cut_mid_handshake(&e) {
        let cause = std::error::Error::source(&e).map_or_else(String::new, ToString::to_string);
        return BackendError::new(BackendErrorKind::Other, format!("TLS with PostgreSQL failed: {cause}"))
            .with_source(e);
    }
    let unavailable = match e.as_db_error() {
        // Connection exceptions, shutdown, too many connections, serialization failure, deadlock:
        // the same call can succeed later.
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || code.starts_with("57P") || code == "53300" || code == "40001" || code == "40P01"
        }
        // No answer from the server at all: refused, closed, timed out.
        None => true,
    };
    if unavailable { BackendError::unavailable(e) } else { BackendError::other(e) }
}

/// Whether a TLS handshake failed because the connection went away (rustls reports a refused
/// certificate as `InvalidData`, and a server without TLS is no I/O error at all).
fn cut_mid_handshake(e: &tokio_postgres::Error) -> bool {
    use std::io::ErrorKind;
    let io = std::error::Error::source(e).and_then(|cause| cause.downcast_ref::<std::io::Error>());
    io.is_some_and(|io| {
        matches!(
            io.kind(),
            ErrorKind::UnexpectedEof
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::NotConnected
                | ErrorKind::TimedOut
        )
    })
}

fn timed_out() -> BackendError {
    BackendError::new(BackendErrorKind::Unavailable, "PostgreSQL did not answer in time")
}

impl PostgresStore {
    /// Connect to the database at `url` with the default settings.
    pub async fn connect(url: &str) -> Result<Self, BackendError> {
        Self::from_config(&PostgresConfig::new(url)).await
    }

    /// Connect as `config` says and bring the schema up to date. Fails with `Unavailable`
    /// when the server cannot be reached, `Rejected` for a malformed URL.
    pub async fn from_config(config: &PostgresConfig) -> Result<Self, BackendError> {
        // The parser's messages may quote the URL, and with it the password: never shown.
        let invalid = || BackendError::new(BackendErrorKind::Rejected, "invalid PostgreSQL connection URL");
        // tokio-postgres knows neither verify-ca/verify-full nor sslrootcert: taken out here.
        let (url, taken) = conninfo::take_params(&config.url, TLS_PARAMS).ok_or_else(invalid)?;
        let tls = tls_settings(config, &taken)?;
        let mut pg: tokio_postgres::Config = url.parse().map_err(|_| invalid())?;
        pg.ssl_mode(tls.pg_mode);
        pg.connect_timeout(Duration::from_millis(config.connect_timeout_ms));
        if pg.get_application_name().is_none() {
            pg.application_name("sspr");
        }
        let query_timeout = Duration::from_millis(config.query_timeout_ms);
        let store = Self {
            inner: Arc::new(Inner {
                config: pg,
                tls: tls.connector,
                sslmode: tls.mode,
                url: config.url.clone(),
                slots: (0..config.pool_size.max(1)).map(|_| Mutex::new(None)).collect(),
                next: AtomicUsize::new(0),
                query_timeout,
                sweep_every: i64::try_from(config.sweep_interval_secs.max(1)).unwrap_or(i64::MAX),
                next_sweep: AtomicI64::new(i64::MIN),
                retention: Retention::new(config.retain_days),
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), BackendError> {
        let (mut client, connection) = self.inner.config.connect(self.inner.tls.clone()).await.map_err(map_err)?;
        let driver = tokio::spawn(connection);
        let result = tokio::time::timeout(self.inner.query_timeout * 4, async {
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS sspr_migrations (
                     version INTEGER PRIMARY KEY,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                 )",
            )
            .await?;
            let applied: i32 = tx.query_one("SELECT coalesce(max(version), 0) FROM sspr_migrations", &[]).await?.get(0);
            let applied = usize::try_from(applied).unwrap_or(0);
            if applied > MIGRATIONS.len() {
                return Ok(Err(BackendError::new(
                    BackendErrorKind::Other,
                    format!(
                        "the PostgreSQL database has schema version {applied}, newer than this sspr knows ({})",
                        MIGRATIONS.len()
                    ),
                )));
            }
            for (version, step) in (1i32..).zip(MIGRATIONS.iter()).skip(applied) {
                tx.batch_execute(step).await?;
                tx.execute("INSERT INTO sspr_migrations (version) VALUES ($1)", &[&version]).await?;
            }
            tx.commit().await?;
            Ok::<_, tokio_postgres::Error>(Ok(()))
        })
        .await;
        drop(client);
        driver.abort();
        result.map_err(|_| timed_out())?.map_err(map_err)?
    }

    /// The schema version of the database.
    pub async fn schema_version(&self) -> Result<u32, BackendError> {
        let conn = self.conn().await?;
        let row =
            self.timed(conn.client.query_one("SELECT coalesce(max(version), 0) FROM sspr_migrations", &[])).await?;
        let version: i32 = row.try_get(0).map_err(map_err)?;
        u32::try_from(version).map_err(|e| BackendError::new(BackendErrorKind::Other, format!("schema version: {e}")))
    }

    /// Delete every state row (flow, counter, block) that has expired by `now`, and return
    /// how many. Writes start this in the background by themselves.
    pub async fn sweep_expired(&self, now: OffsetDateTime) -> Result<u64, BackendError> {
        let conn = self.conn().await?;
        self.timed(conn.client.execute(&conn.sweep, &[&now.unix_timestamp()])).await
    }

    /// Delete the `sspr_audit` rows recorded before `before`, [`PRUNE_BATCH`] per statement
    /// (each its own transaction), and return how many. With `retain_days`, recording starts
    /// this by itself on a task of its own (at most once an hour); call it to prune at once.
    pub async fn prune_audit(&self, before: OffsetDateTime) -> Result<u64, BackendError> {
        let before = before.unix_timestamp();
        let sql = audit_sql::postgres_sql(PRUNE);
        let mut total = 0;
        loop {
            let conn = self.conn().await?;
            let deleted = self.timed(conn.client.execute(sql.as_str(), &[&before, &PRUNE_BATCH])).await?;
            total += deleted;
            if deleted < PRUNE_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// A connection from the pool, replacing a broken one.
    async fn conn(&self) -> Result<Arc<Conn>, BackendError> {
        let slots = &self.inner.slots;
        let index = self.inner.next.fetch_add(1, Ordering::Relaxed) % slots.len().max(1);
        let slot = slots.get(index).ok_or_else(|| BackendError::new(BackendErrorKind::Other, "empty pool"))?;
        let mut guard = slot.lock().await;
        if let Some(conn) = guard.as_ref().filter(|c| !c.client.is_closed()) {
            return Ok(Arc::clone(conn));
        }
        *guard = None;
        let conn =
            Arc::new(tokio::time::timeout(self.inner.query_timeout * 2, self.open()).await.map_err(|_| timed_out())??);
        *guard = Some(Arc::clone(&conn));
        Ok(conn)
    }

    async fn open(&self) -> Result<Conn, BackendError> {
        let (client, connection) = self.inner.config.connect(self.inner.tls.clone()).await.map_err(map_err)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL connection closed");
            }
        });
        let prepare = |sql: &'static str| client.prepare(sql);
        let (get, create, replace, increment_many, apply) =
            tokio::join!(prepare(GET), prepare(CREATE), prepare(REPLACE), prepare(INCREMENT_MANY), prepare(APPLY));
        let (get_linked, delete, sweep, enrollment_get, enrollment_insert, enrollment_update, audit_insert) = tokio::join!(
            prepare(GET_LINKED),
            prepare(DELETE),
            prepare(SWEEP),
            prepare(ENROLLMENT_GET),
            prepare(ENROLLMENT_INSERT),
            prepare(ENROLLMENT_UPDATE),
            prepare(AUDIT_INSERT),
        );
        Ok(Conn {
            get: get.map_err(map_err)?,
            create: create.map_err(map_err)?,
            replace: replace.map_err(map_err)?,
            increment_many: increment_many.map_err(map_err)?,
            apply: apply.map_err(map_err)?,
            get_linked: get_linked.map_err(map_err)?,
            delete: delete.map_err(map_err)?,
            sweep: sweep.map_err(map_err)?,
            enrollment_get: enrollment_get.map_err(map_err)?,
            enrollment_insert: enrollment_insert.map_err(map_err)?,
            enrollment_update: enrollment_update.map_err(map_err)?,
            audit_insert: audit_insert.map_err(map_err)?,
            client,
        })
    }

    /// Await a statement with the query timeout.
    async fn timed<T>(&self, fut: impl Future<Output = Result<T, tokio_postgres::Error>>) -> Result<T, BackendError> {
        tokio::time::timeout(self.inner.query_timeout, fut).await.map_err(|_| timed_out())?.map_err(map_err)
    }

    /// Start a background sweep when the interval has passed since the last one.
    fn maybe_sweep(&self, now: i64) {
        let due = self.inner.next_sweep.load(Ordering::Relaxed);
        if now < due
            || self
                .inner
                .next_sweep
                .compare_exchange(due, now.saturating_add(self.inner.sweep_every), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let result = async {
                let conn = store.conn().await?;
                store.timed(conn.client.execute(&conn.sweep, &[&now])).await
            }
            .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "sweeping expired sspr state failed");
            }
        });
    }
}

/// The store is also an audit sink: one row of `sspr_audit` per event (see
/// [`crate::audit_sql`]).
#[async_trait]
impl AuditSink for PostgresStore {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let row = AuditRow::of(event);
        let conn = self.conn().await?;
        self.timed(
            conn.client
                .execute(&conn.audit_insert, &[&row.at, &row.kind, &row.outcome, &row.reason, &row.channel, &row.json]),
        )
        .await?;
        if let Some(before) = self.inner.retention.due(row.at) {
            let store = self.clone();
            // Off the caller's path (the audit queue's task, or a reset when the queue is off).
            tokio::spawn(async move {
                let before = OffsetDateTime::from_unix_timestamp(before).unwrap_or(OffsetDateTime::UNIX_EPOCH);
                if let Err(e) = store.prune_audit(before).await {
                    tracing::warn!(error = %e, "pruning old audit rows failed");
                }
            });
        }
        Ok(())
    }
}

#[async_trait]
impl AuditReport for PostgresStore {
    async fn audit_summary(&self, days: u32, now: OffsetDateTime) -> Result<AuditSummary, BackendError> {
        let (from, first_day, last_day) = audit_sql::period(days, now);
        let conn = self.conn().await?;
        let (resets, begins, daily, failures) = (
            audit_sql::postgres_sql(audit_sql::RESETS_PER_DAY),
            audit_sql::postgres_sql(audit_sql::BEGINS),
            audit_sql::postgres_sql(audit_sql::DAILY_KINDS),
            audit_sql::postgres_sql(audit_sql::TOP_FAILURES),
        );
        let shown = audit_sql::TOP_FAILURES_SHOWN;
        let (by_from, by_from_shown): (
            [&(dyn tokio_postgres::types::ToSql + Sync); 1],
            [&(dyn tokio_postgres::types::ToSql + Sync); 2],
        ) = ([&from], [&from, &shown]);
        let (resets, begins, daily, failures) = tokio::try_join!(
            self.timed(conn.client.query(resets.as_str(), &by_from)),
            self.timed(conn.client.query(begins.as_str(), &by_from)),
            self.timed(conn.client.query(daily.as_str(), &by_from)),
            self.timed(conn.client.query(failures.as_str(), &by_from_shown)),
        )?;
        let rows = audit_sql::Rows {
            resets: resets
                .iter()
                .map(|r| Ok((column(r, 0)?, column(r, 1)?, column(r, 2)?, column(r, 3)?)))
                .collect::<Result<_, BackendError>>()?,
            begins: begins
                .iter()
                .map(|r| Ok((column(r, 0)?, column(r, 1)?, column(r, 2)?)))
                .collect::<Result<_, BackendError>>()?,
            daily: daily
                .iter()
                .map(|r| Ok((column(r, 0)?, column(r, 1)?, column(r, 2)?)))
                .collect::<Result<_, BackendError>>()?,
            failures: failures
                .iter()
                .map(|r| Ok((column(r, 0)?, column(r, 1)?, column(r, 2)?, column(r, 3)?)))
                .collect::<Result<_, BackendError>>()?,
        };
        Ok(rows.summary(first_day, last_day))
    }
}

impl PostgresStore {
    /// The reads of a batch whose put cannot succeed, one `get` each.
    async fn read_all(&self, keys: &[&str], now: i64) -> Result<Vec<Option<StoredValue>>, BackendError> {
        let now = OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(StateStore::get(self, key, now).await?);
        }
        Ok(values)
    }
}

fn unsigned(n: i64) -> Result<u64, BackendError> {
    u64::try_from(n).map_err(|_| BackendError::new(BackendErrorKind::Other, "PostgreSQL returned a negative number"))
}

fn column<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, BackendError> {
    row.try_get(index).map_err(|e| BackendError::new(BackendErrorKind::Other, format!("reading column {index}: {e}")))
}

#[async_trait]
impl StateStore for PostgresStore {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        let conn = self.conn().await?;
        let row = self.timed(conn.client.query_opt(&conn.get, &[&key, &now.unix_timestamp()])).await?;
        row.map(|row| Ok(StoredValue { value: column(&row, 0)?, version: unsigned(column(&row, 1)?)? })).transpose()
    }

    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        let (expires_at, now) = (expires_at.unix_timestamp(), now.unix_timestamp());
        self.maybe_sweep(now);
        let conn = self.conn().await?;
        let row = match expected_version.map(i64::try_from) {
            None => self.timed(conn.client.query_opt(&conn.create, &[&key, &value, &expires_at, &now])).await?,
            Some(Ok(v)) => {
                self.timed(conn.client.query_opt(&conn.replace, &[&key, &value, &expires_at, &v, &now])).await?
            }
            // No stored version is that large.
            Some(Err(_)) => None,
        };
        row.map(|row| unsigned(column(&row, 0)?)).transpose()
    }

    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        let mut counters = self.increment_many(&[(key, expires_at)], now).await?;
        counters.pop().ok_or_else(|| BackendError::new(BackendErrorKind::Other, "PostgreSQL returned no counter"))
    }

    async fn increment_many(
        &self,
        counters: &[(&str, OffsetDateTime)],
        now: OffsetDateTime,
    ) -> Result<Vec<Counter>, BackendError> {
        if counters.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&str> = counters.iter().map(|(key, _)| *key).collect();
        let expiries: Vec<i64> = counters.iter().map(|(_, at)| at.unix_timestamp()).collect();
        let now = now.unix_timestamp();
        self.maybe_sweep(now);
        let conn = self.conn().await?;
        let rows = self.timed(conn.client.query(&conn.increment_many, &[&keys, &expiries, &now])).await?;
        if rows.len() != counters.len() {
            return Err(BackendError::new(BackendErrorKind::Other, "PostgreSQL returned the wrong number of counters"));
        }
        rows.iter()
            .map(|row| {
                let expires_at: i64 = column(row, 1)?;
                Ok(Counter {
                    count: unsigned(column(row, 0)?)?,
                    expires_at: OffsetDateTime::from_unix_timestamp(expires_at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                })
            })
            .collect()
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let conn = self.conn().await?;
        self.timed(conn.client.execute(&conn.delete, &[&key])).await.map(drop)
    }

    /// One statement (`GET_LINKED`): one round trip, one snapshot.
    async fn get_linked(
        &self,
        key: &str,
        prefixes: &[&str],
        now: OffsetDateTime,
    ) -> Result<(Option<StoredValue>, Vec<Option<StoredValue>>), BackendError> {
        let conn = self.conn().await?;
        let rows = self.timed(conn.client.query(&conn.get_linked, &[&key, &now.unix_timestamp(), &prefixes])).await?;
        let mut record = None;
        let mut linked: Vec<Option<StoredValue>> = vec![None; prefixes.len()];
        for row in &rows {
            let value = StoredValue { value: column(row, 1)?, version: unsigned(column(row, 2)?)? };
            match usize::try_from(column::<i64>(row, 0)?).unwrap_or(usize::MAX) {
                0 => record = Some(value),
                position => {
                    *linked.get_mut(position - 1).ok_or_else(|| {
                        BackendError::new(BackendErrorKind::Other, "PostgreSQL answered a linked read out of range")
                    })? = Some(value);
                }
            }
        }
        Ok((record, linked))
    }

    /// One statement (`APPLY`): one round trip, one transaction. A batch of one kind of part
    /// takes the plain statement for it instead (still one statement), which PostgreSQL plans
    /// and runs for a fraction of the CPU of the whole CTE.
    async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        let outcome = |values, version, counters| BatchOutcome { values, applied: true, version, counters };
        match (batch.reads.as_slice(), &batch.put, batch.increments.is_empty(), batch.deletes.as_slice()) {
            ([key], None, true, []) => {
                return Ok(outcome(vec![StateStore::get(self, key, now).await?], None, Vec::new()));
            }
            ([], Some(put), true, []) => {
                let version = self.put(put.key, put.value, put.expected_version, put.expires_at, now).await?;
                return Ok(BatchOutcome { applied: version.is_some(), ..outcome(Vec::new(), version, Vec::new()) });
            }
            ([], None, false, []) => {
                return Ok(outcome(Vec::new(), None, self.increment_many(&batch.increments, now).await?));
            }
            ([], None, true, [key]) => {
                self.delete(key).await?;
                return Ok(outcome(Vec::new(), None, Vec::new()));
            }
            _ => {}
        }
        let now = now.unix_timestamp();
        let put_key = batch.put.as_ref().map(|p| p.key);
        let put_value = batch.put.as_ref().map(|p| p.value);
        let expected = match batch.put.as_ref().and_then(|p| p.expected_version).map(i64::try_from) {
            None => None,
            Some(Ok(v)) => Some(v),
            // No stored version is that large: the put fails, nothing is written.
            Some(Err(_)) => {
                let values = self.read_all(&batch.reads, now).await?;
                return Ok(BatchOutcome { values, applied: false, version: None, counters: Vec::new() });
            }
        };
        let put_expires = batch.put.as_ref().map(|p| p.expires_at.unix_timestamp());
        let counter_keys: Vec<&str> = batch.increments.iter().map(|(key, _)| *key).collect();
        let counter_expiries: Vec<i64> = batch.increments.iter().map(|(_, at)| at.unix_timestamp()).collect();
        if batch.put.is_some() || !batch.increments.is_empty() {
            self.maybe_sweep(now);
        }
        let conn = self.conn().await?;
        let rows = self
            .timed(conn.client.query(
                &conn.apply,
                &[
                    &now,
                    &batch.reads,
                    &put_key,
                    &put_value,
                    &expected,
                    &put_expires,
                    &counter_keys,
                    &counter_expiries,
                    &batch.deletes,
                ],
            ))
            .await?;
        let mut values: Vec<Option<StoredValue>> = vec![None; batch.reads.len()];
        let mut version = None;
        let mut counts: Vec<Option<u64>> = vec![None; batch.increments.len()];
        let mut expiries: Vec<Option<i64>> = vec![None; batch.increments.len()];
        for row in &rows {
            let kind: &str = column(row, 0)?;
            let position = usize::try_from(column::<i64>(row, 1)?).unwrap_or(usize::MAX).wrapping_sub(1);
            let number: i64 = column(row, 3)?;
            let missing = || BackendError::new(BackendErrorKind::Other, "PostgreSQL answered a batch out of range");
            match kind {
                "r" => {
                    *values.get_mut(position).ok_or_else(missing)? =
                        Some(StoredValue { value: column(row, 2)?, version: unsigned(number)? });
                }
                "p" => version = Some(unsigned(number)?),
                "c" => *counts.get_mut(position).ok_or_else(missing)? = Some(unsigned(number)?),
                _ => *expiries.get_mut(position).ok_or_else(missing)? = Some(number),
            }
        }
        let applied = batch.put.is_none() || version.is_some();
        let counters = if applied {
            counts
                .into_iter()
                .zip(expiries)
                .map(|pair| match pair {
                    (Some(count), Some(expires_at)) => Ok(Counter {
                        count,
                        expires_at: OffsetDateTime::from_unix_timestamp(expires_at)
                            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    }),
                    _ => Err(BackendError::new(BackendErrorKind::Other, "PostgreSQL returned too few counters")),
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        Ok(BatchOutcome { values, applied, version, counters })
    }
}

fn format_time(t: OffsetDateTime) -> Result<String, BackendError> {
    t.to_offset(sspr_core::time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| BackendError::new(BackendErrorKind::Rejected, format!("a time cannot be stored: {e}")))
}

fn parse_time(column: &str, text: &str) -> Result<OffsetDateTime, BackendError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| BackendError::new(BackendErrorKind::Other, format!("stored {column} is not a time: {e}")))
}

fn stored<T>(
    what: &str,
    value: Option<String>,
    added: Option<String>,
    usable: Option<String>,
    parse: impl Fn(&str) -> sspr_core::Result<T>,
) -> Result<Option<StoredContact<T>>, BackendError> {
    match (value, added, usable) {
        (None, _, _) => Ok(None),
        (Some(value), Some(added), Some(usable)) => Ok(Some(StoredContact {
            value: parse(&value)
                .map_err(|e| BackendError::new(BackendErrorKind::Other, format!("stored {what}: {e}")))?,
            added_at: parse_time(&format!("{what}_added_at"), &added)?,
            usable_from: parse_time(&format!("{what}_usable_from"), &usable)?,
        })),
        _ => Err(BackendError::new(BackendErrorKind::Other, format!("stored {what} lacks its times"))),
    }
}

/// An enrollment from a row of [`ENROLLMENT_GET`]'s columns (and [`ENROLLMENT_LIST`]'s first ten).
fn enrollment_of(row: &tokio_postgres::Row) -> Result<Enrollment, BackendError> {
    let last_reset_at: Option<String> = column(row, 7)?;
    Ok(Enrollment {
        enabled: column(row, 0)?,
        email: stored("email", column(row, 1)?, column(row, 2)?, column(row, 3)?, EmailAddress::parse)?,
        phone: stored("phone", column(row, 4)?, column(row, 5)?, column(row, 6)?, PhoneNumber::parse)?,
        last_reset_at: last_reset_at.map(|t| parse_time("last_reset_at", &t)).transpose()?,
        history: ContactHistory::from_json(&column::<String>(row, 9)?)?,
        version: unsigned(column(row, 8)?)?,
    })
}

#[async_trait]
impl ContactStore for PostgresStore {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        let conn = self.conn().await?;
        let Some(row) = self.timed(conn.client.query_opt(&conn.enrollment_get, &[&user.as_str()])).await? else {
            return Ok(None);
        };
        enrollment_of(&row).map(Some)
    }

    async fn list(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<(UserId, Enrollment)>, BackendError> {
        let after = after.map(UserId::as_str);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.conn().await?;
        let rows = self.timed(conn.client.query(ENROLLMENT_LIST, &[&after, &limit])).await?;
        rows.iter().map(|row| Ok((UserId::new(column::<String>(row, 10)?), enrollment_of(row)?))).collect()
    }

    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        let opt = |t: Option<OffsetDateTime>| t.map(format_time).transpose();
        let email = enrollment.email.as_ref().map(|c| c.value.as_str());
        let email_added_at = opt(enrollment.email.as_ref().map(|c| c.added_at))?;
        let email_usable_from = opt(enrollment.email.as_ref().map(|c| c.usable_from))?;
        let phone = enrollment.phone.as_ref().map(|c| c.value.as_str());
        let phone_added_at = opt(enrollment.phone.as_ref().map(|c| c.added_at))?;
        let phone_usable_from = opt(enrollment.phone.as_ref().map(|c| c.usable_from))?;
        let last_reset_at = opt(enrollment.last_reset_at)?;
        let history = enrollment.history.to_json()?;
        let user = user.as_str();
        let conn = self.conn().await?;
        let changed = if expected_version == 0 {
            self.timed(conn.client.execute(
                &conn.enrollment_insert,
                &[
                    &user,
                    &enrollment.enabled,
                    &email,
                    &email_added_at,
                    &email_usable_from,
                    &phone,
                    &phone_added_at,
                    &phone_usable_from,
                    &last_reset_at,
                    &history,
                ],
            ))
            .await?
        } else {
            let Ok(expected) = i64::try_from(expected_version) else { return Ok(false) };
            self.timed(conn.client.execute(
                &conn.enrollment_update,
                &[
                    &user,
                    &enrollment.enabled,
                    &email,
                    &email_added_at,
                    &email_usable_from,
                    &phone,
                    &phone_added_at,
                    &phone_usable_from,
                    &last_reset_at,
                    &expected,
                    &history,
                ],
            ))
            .await?
        };
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every binding calls `check_tls_files` before connecting: a bad CA file is `Config`
    /// naming its setting, never its contents nor the URL's password (Node, Python and C
    /// answered a backend failure at connect time).
    #[test]
    fn a_bad_tls_file_is_config_naming_its_setting() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let (cert, key, junk) = (
            file("c.pem", crate::test_pem::CERT),
            file("k.pem", crate::test_pem::KEY),
            file("j.pem", "not a PEM file\n"),
        );
        let missing = dir.path().join("missing.pem");
        let url = "postgres://sspr:s3cret@db.example.org/sspr";
        let with_ca = |ca: &Path| PostgresConfig { ca_file: Some(ca.to_owned()), ..PostgresConfig::new(url) };
        let in_url = |ca: &Path| PostgresConfig::new(format!("{url}?sslmode=verify-ca&sslrootcert={}", ca.display()));
        with_ca(&cert).check_tls_files().unwrap();
        in_url(&cert).check_tls_files().unwrap();
        PostgresConfig::new(url).check_tls_files().unwrap();
        // Not read where the mode uses no CA (as from_config does).
        PostgresConfig { ca_file: Some(missing.clone()), ..PostgresConfig::new(format!("{url}?sslmode=disable")) }
            .check_tls_files()
            .unwrap();
        for (config, setting) in [
            (with_ca(&missing), "ca_file"),
            (with_ca(&junk), "ca_file"),
            (with_ca(&key), "ca_file"),
            (in_url(&missing), "sslrootcert"),
            (in_url(&key), "sslrootcert"),
            (PostgresConfig::new(format!("{url}?sslmode=verify-everything")), "sslmode"),
        ] {
            let err = config.check_tls_files().unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, sspr_core::Error::Config(_)), "{config:?}: {err:?}");
            assert!(text.contains(setting), "{setting}: {text}");
            assert!(!text.contains("MIG") && !text.contains("BEGIN") && !text.contains("s3cret"), "{text}");
        }
    }
}
