//! The embedded default store: contacts and state in one SQLite file (feature `sqlite`).
//!
//! SQLite is bundled (nothing to install). The database runs in WAL mode; its schema is
//! created and migrated on open (`PRAGMA user_version` records the schema version). All
//! calls go to one dedicated thread that owns the connection, so the async runtime never
//! blocks on disk I/O and no particular runtime is required (the store also works under a
//! Python or Node event loop). Every compare-and-set and every increment is a single SQL
//! statement, so several processes may share one database file.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), sspr_core::BackendError> {
//! use sspr_backends::sqlite::SqliteStore;
//! use sspr_core::StateStore;
//! let dir = tempfile::tempdir().unwrap();
//! let store = SqliteStore::open(dir.path().join("sspr.db"))?;
//! let now = sspr_core::time::OffsetDateTime::now_utc();
//! let later = now + std::time::Duration::from_secs(60);
//! assert_eq!(store.put("flow/1", b"state", None, later, now).await?, Some(1));
//! assert_eq!(store.get("flow/1", now).await?.map(|v| v.version), Some(1));
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};
use serde::Deserialize;
use sspr_core::backend::{
    Batch, BatchOutcome, ContactHistory, ContactStore, Counter, Enrollment, Put, StateStore, StoredContact,
    StoredValue, link_of,
};
use sspr_core::time::OffsetDateTime;
use sspr_core::time::format_description::well_known::Rfc3339;
use sspr_core::{AuditEvent, AuditSink, BackendError, BackendErrorKind, EmailAddress, PhoneNumber, UserId};
use tokio::sync::oneshot;

use crate::audit_sql::{self, AuditReport, AuditRow, AuditSummary, PRUNE, PRUNE_BATCH, Retention};

/// The schema, one step per entry; `PRAGMA user_version` is the number of steps applied.
/// Never edit a step that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: state (flows, counters, blocks) and enrollments.
    "CREATE TABLE sspr_state (
         key        TEXT PRIMARY KEY NOT NULL,
         value      BLOB,             -- NULL for a counter
         counter    INTEGER,          -- NULL for a value
         version    INTEGER NOT NULL,
         expires_at INTEGER NOT NULL  -- unix seconds; the row is dead from then on
     ) WITHOUT ROWID;
     CREATE INDEX sspr_state_expires_at ON sspr_state (expires_at);
     CREATE TABLE sspr_enrollment (
         user_id           TEXT PRIMARY KEY NOT NULL,
         enabled           INTEGER NOT NULL,
         email             TEXT,
         email_added_at    TEXT,      -- RFC 3339, UTC
         email_usable_from TEXT,
         phone             TEXT,
         phone_added_at    TEXT,
         phone_usable_from TEXT,
         last_reset_at     TEXT,
         version           INTEGER NOT NULL
     ) WITHOUT ROWID;",
    // 2: the contact history (first registration, recently removed contacts) as JSON; empty
    // for rows written before it, which read as "no history".
    "ALTER TABLE sspr_enrollment ADD COLUMN history TEXT NOT NULL DEFAULT '';",
    // 3: the audit trail (crate::audit_sql), when the database is also an audit sink.
    "CREATE TABLE sspr_audit (
         id      INTEGER PRIMARY KEY,
         at      INTEGER NOT NULL,  -- unix seconds, UTC
         kind    TEXT NOT NULL,
         outcome TEXT NOT NULL,
         reason  TEXT,
         channel TEXT,
         event   TEXT NOT NULL      -- AuditEvent::to_json
     );
     CREATE INDEX sspr_audit_at ON sspr_audit (at);",
];

/// How to open the SQLite store, as read from the portal's configuration.
///
/// ```
/// let config: sspr_backends::sqlite::SqliteConfig = toml::from_str(r#"path = "/var/lib/sspr/sspr.db""#).unwrap();
/// assert_eq!(config.busy_timeout_ms, 5000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    /// The database file; created for its owner alone (mode 0600 on Unix) if missing, since it
    /// holds every user's private contacts (an existing file keeps its permissions).
    pub path: PathBuf,
    /// How long a write waits for another process holding the database lock.
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
    /// As an audit sink: delete `sspr_audit` rows older than this many days (see
    /// [`crate::audit_sql`], "Retention"). Default: kept for ever.
    #[serde(default)]
    pub retain_days: Option<u32>,
}

fn default_busy_timeout_ms() -> u64 {
    5000
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Create the database file at `path` for its owner alone (0600) when it does not exist yet:
/// SQLite would create it 0644 (less the umask), readable by every local user, and its WAL and
/// shared-memory files copy the database's mode. An empty file is an empty database. An
/// existing file (or a symlink, never followed: `O_EXCL`) is left as it is; `:memory:` and
/// `file:` URIs are SQLite's to open.
fn create_private(path: &Path) -> Result<(), BackendError> {
    let name = path.as_os_str();
    if name == ":memory:" || name.to_string_lossy().starts_with("file:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(BackendError::new(
            BackendErrorKind::Unavailable,
            format!("cannot create the SQLite file {}: {e}", path.display()),
        )),
    }
}

/// A [`ContactStore`] and [`StateStore`] in one SQLite database. Clones share the database
/// connection and its thread; the thread ends when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: mpsc::Sender<Job>,
    path: String,
    /// The unix second of the last sweep of expired state, so sweeps run at most once a second.
    last_sweep: AtomicI64,
    /// When the audit trail is pruned (`retain_days`).
    retention: Retention,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Open (or create) the database at `path`, switch it to WAL and bring its schema up to
    /// date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BackendError> {
        Self::from_config(&SqliteConfig {
            path: path.as_ref().to_owned(),
            busy_timeout_ms: default_busy_timeout_ms(),
            retain_days: None,
        })
    }

    /// Open the database described by `config`.
    pub fn from_config(config: &SqliteConfig) -> Result<Self, BackendError> {
        create_private(&config.path)?;
        let conn = Connection::open(&config.path).map_err(map_err)?;
        let busy_timeout = Duration::from_millis(config.busy_timeout_ms);
        Self::start(conn, config.path.display().to_string(), busy_timeout, Retention::new(config.retain_days))
    }

    /// A private database in memory, lost when the store is dropped (tests, demos).
    pub fn open_in_memory() -> Result<Self, BackendError> {
        let conn = Connection::open_in_memory().map_err(map_err)?;
        Self::start(conn, ":memory:".into(), Duration::from_secs(5), Retention::new(None))
    }

    fn start(
        mut conn: Connection,
        path: String,
        busy_timeout: Duration,
        retention: Retention,
    ) -> Result<Self, BackendError> {
        conn.busy_timeout(busy_timeout).map_err(map_err)?;
        // In memory the journal mode stays "memory"; on disk it becomes "wal".
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(map_err)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL;").map_err(map_err)?;
        migrate(&mut conn)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sspr-sqlite".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job(&mut conn);
                }
            })
            .map_err(BackendError::unavailable)?;
        Ok(Self { inner: Arc::new(Inner { jobs, path, last_sweep: AtomicI64::new(i64::MIN), retention }) })
    }

    /// The schema version of the open database.
    pub async fn schema_version(&self) -> Result<u32, BackendError> {
        let version: i64 = self.call(|conn| conn.query_row("PRAGMA user_version", [], |r| r.get(0))).await?;
        u32::try_from(version).map_err(|e| BackendError::new(BackendErrorKind::Other, format!("schema version: {e}")))
    }

    /// Remove every state entry (flow, counter, block) that has expired by `now`. Writes
    /// do this by themselves at most once a second; call it to reclaim space at once.
    pub async fn sweep_expired(&self, now: OffsetDateTime) -> Result<usize, BackendError> {
        let now = now.unix_timestamp();
        self.call(move |conn| conn.prepare_cached(SWEEP)?.execute(params![now])).await
    }

    /// Delete the `sspr_audit` rows recorded before `before`, [`PRUNE_BATCH`] per statement,
    /// and return how many. With `retain_days`, recording starts this by itself (off the
    /// caller's path, at most once an hour); call it to prune at once.
    pub async fn prune_audit(&self, before: OffsetDateTime) -> Result<u64, BackendError> {
        let before = before.unix_timestamp();
        let mut total = 0;
        loop {
            let deleted = self.call(move |conn| prune_batch(conn, before)).await?;
            total += deleted;
            if deleted < PRUNE_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Queue one batch of pruning on the store's thread, without waiting for it: a full batch
    /// queues the next one behind what was queued meanwhile (the inserts go on between).
    fn prune_in_background(jobs: mpsc::Sender<Job>, before: i64) {
        let next = jobs.clone();
        let job: Job = Box::new(move |conn| match prune_batch(conn, before) {
            Ok(deleted) if deleted >= PRUNE_BATCH as u64 => Self::prune_in_background(next, before),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning old audit rows failed"),
        });
        // The thread has stopped: nothing left to prune.
        let _ = jobs.send(job);
    }

    /// Run `f` on the store's thread and wait for its answer.
    async fn call<T, F>(&self, f: F) -> Result<T, BackendError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.inner
            .jobs
            .send(Box::new(move |conn| {
                // The caller may have gone away (a cancelled request): nothing to tell then.
                let _ = reply.send(f(conn));
            }))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(map_err)
    }

    /// Whether a write at `now` should also sweep expired state.
    fn sweep_due(&self, now: i64) -> bool {
        let last = self.inner.last_sweep.load(Ordering::Relaxed);
        now > last && self.inner.last_sweep.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }
}

fn stopped() -> BackendError {
    BackendError::new(BackendErrorKind::Unavailable, "the SQLite store's thread has stopped")
}

fn map_err(e: rusqlite::Error) -> BackendError {
    let unavailable = matches!(
        e.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull
                | ErrorCode::ReadOnly
                | ErrorCode::OutOfMemory
        )
    );
    if unavailable { BackendError::unavailable(e) } else { BackendError::other(e) }
}

fn migrate(conn: &mut Connection) -> Result<(), BackendError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_err)?;
    let applied: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(map_err)?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(BackendError::new(
            BackendErrorKind::Other,
            format!(
                "the SQLite database has schema version {applied}, newer than this sspr knows ({})",
                MIGRATIONS.len()
            ),
        ));
    }
    for step in MIGRATIONS.iter().skip(applied) {
        tx.execute_batch(step).map_err(map_err)?;
    }
    // PRAGMA takes no parameters; the number is ours.
    tx.execute_batch(&format!("PRAGMA user_version = {}", MIGRATIONS.len())).map_err(map_err)?;
    tx.commit().map_err(map_err)
}

const SWEEP: &str = "DELETE FROM sspr_state WHERE expires_at <= ?1";

/// A live value and its version.
const GET: &str = "SELECT value, version FROM sspr_state WHERE key = ?1 AND counter IS NULL AND expires_at > ?2";

const DELETE: &str = "DELETE FROM sspr_state WHERE key = ?1";

/// Create a value only where the key is absent or dead.
const CREATE: &str = "INSERT INTO sspr_state (key, value, counter, version, expires_at) VALUES (?1, ?2, NULL, 1, ?3)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, counter = NULL, version = 1,
         expires_at = excluded.expires_at
     WHERE sspr_state.expires_at <= ?4
     RETURNING version";

/// Replace a live value whose version is still the one read.
const REPLACE: &str = "UPDATE sspr_state SET value = ?2, version = version + 1, expires_at = ?3
     WHERE key = ?1 AND version = ?4 AND counter IS NULL AND expires_at > ?5
     RETURNING version";

/// Count one more in a live window, or start a new window at 1.
const INCREMENT: &str = "INSERT INTO sspr_state (key, value, counter, version, expires_at) VALUES (?1, NULL, 1, 1, ?2)
     ON CONFLICT (key) DO UPDATE SET
         counter = CASE WHEN sspr_state.expires_at <= ?3 OR sspr_state.counter IS NULL THEN 1
                        ELSE sspr_state.counter + 1 END,
         expires_at = CASE WHEN sspr_state.expires_at <= ?3 OR sspr_state.counter IS NULL THEN excluded.expires_at
                           ELSE sspr_state.expires_at END,
         version = 1, value = NULL
     RETURNING counter, expires_at";

fn increment_one(conn: &Connection, key: &str, expires_at: i64, now: i64) -> rusqlite::Result<(u64, i64)> {
    conn.prepare_cached(INCREMENT)?.query_row(params![key, expires_at, now], |r| Ok((unsigned(r, 0)?, r.get(1)?)))
}

/// Read a non-negative integer column (SQLite integers are signed).
fn unsigned(r: &Row<'_>, column: usize) -> rusqlite::Result<u64> {
    let n: i64 = r.get(column)?;
    u64::try_from(n)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Integer, Box::new(e)))
}

fn counter(count: u64, expires_at: i64) -> Counter {
    Counter { count, expires_at: OffsetDateTime::from_unix_timestamp(expires_at).unwrap_or(OffsetDateTime::UNIX_EPOCH) }
}

impl SqliteStore {
    /// [`StateStore::apply`], after `first` when there is one (`None`: it failed, nothing
    /// written), in one transaction.
    async fn apply_after_first(
        &self,
        first: Option<&Put<'_>>,
        batch: &Batch<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<BatchOutcome>, BackendError> {
        let first = first.map(|put| {
            (
                put.key.to_owned(),
                put.value.to_owned(),
                put.expected_version.map(i64::try_from),
                put.expires_at.unix_timestamp(),
            )
        });
        let reads: Vec<String> = batch.reads.iter().map(|k| (*k).to_owned()).collect();
        let put = match &batch.put {
            None => None,
            Some(put) => match put.expected_version.map(i64::try_from) {
                // No stored version is that large: the put fails, nothing is written.
                Some(Err(_)) => Some(None),
                expected => Some(Some((
                    put.key.to_owned(),
                    put.value.to_owned(),
                    expected.and_then(Result::ok),
                    put.expires_at.unix_timestamp(),
                ))),
            },
        };
        let increments: Vec<(String, i64)> =
            batch.increments.iter().map(|(k, at)| ((*k).to_owned(), at.unix_timestamp())).collect();
        let deletes: Vec<String> = batch.deletes.iter().map(|k| (*k).to_owned()).collect();
        let now = now.unix_timestamp();
        let sweep = self.sweep_due(now);
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if sweep {
                tx.prepare_cached(SWEEP)?.execute(params![now])?;
            }
            if let Some((key, value, expected, expires_at)) = &first {
                let won = match expected {
                    None => tx
                        .prepare_cached(CREATE)?
                        .query_row(params![key, value, expires_at, now], |r| unsigned(r, 0))
                        .optional()?,
                    Some(Ok(v)) => tx
                        .prepare_cached(REPLACE)?
                        .query_row(params![key, value, expires_at, v, now], |r| unsigned(r, 0))
                        .optional()?,
                    // No stored version is that large: the put fails.
                    Some(Err(_)) => None,
                };
                if won.is_none() {
                    return Ok(None);
                }
            }
            let values = reads
                .iter()
                .map(|key| {
                    tx.prepare_cached(GET)?
                        .query_row(params![key, now], |r| {
                            Ok(StoredValue { value: r.get(0)?, version: unsigned(r, 1)? })
                        })
                        .optional()
                })
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let version = match &put {
                None => None,
                Some(put) => {
                    let won = match put {
                        None => None,
                        Some((key, value, None, expires_at)) => tx
                            .prepare_cached(CREATE)?
                            .query_row(params![key, value, expires_at, now], |r| unsigned(r, 0))
                            .optional()?,
                        Some((key, value, Some(v), expires_at)) => tx
                            .prepare_cached(REPLACE)?
                            .query_row(params![key, value, expires_at, v, now], |r| unsigned(r, 0))
                            .optional()?,
                    };
                    match won {
                        Some(version) => Some(version),
                        None => {
                            tx.commit()?;
                            return Ok(Some(BatchOutcome {
                                values,
                                applied: false,
                                version: None,
                                counters: Vec::new(),
                            }));
                        }
                    }
                }
            };
            let counters = increments
                .iter()
                .map(|(key, expires_at)| increment_one(&tx, key, *expires_at, now).map(|(n, at)| counter(n, at)))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for key in &deletes {
                tx.prepare_cached(DELETE)?.execute(params![key])?;
            }
            tx.commit()?;
            Ok(Some(BatchOutcome { values, applied: true, version, counters }))
        })
        .await
    }
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        let (key, now) = (key.to_owned(), now.unix_timestamp());
        self.call(move |conn| {
            conn.prepare_cached(GET)?
                .query_row(params![key, now], |r| Ok(StoredValue { value: r.get(0)?, version: unsigned(r, 1)? }))
                .optional()
        })
        .await
    }

    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        let (expires_at, now) = (expires_at.unix_timestamp(), now.unix_timestamp());
        let expected_version = match expected_version.map(i64::try_from) {
            // No stored version is that large: nothing can match.
            Some(Err(_)) => return Ok(None),
            Some(Ok(v)) => Some(v),
            None => None,
        };
        let sweep = self.sweep_due(now);
        self.call(move |conn| {
            if sweep {
                conn.prepare_cached(SWEEP)?.execute(params![now])?;
            }
            match expected_version {
                None => {
                    conn.prepare_cached(CREATE)?.query_row(params![key, value, expires_at, now], |r| unsigned(r, 0))
                }
                Some(v) => {
                    conn.prepare_cached(REPLACE)?.query_row(params![key, value, expires_at, v, now], |r| unsigned(r, 0))
                }
            }
            .optional()
        })
        .await
    }

    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        let key = key.to_owned();
        let (expires_at, now) = (expires_at.unix_timestamp(), now.unix_timestamp());
        let (count, expiry) = self.call(move |conn| increment_one(conn, &key, expires_at, now)).await?;
        Ok(counter(count, expiry))
    }

    async fn increment_many(
        &self,
        counters: &[(&str, OffsetDateTime)],
        now: OffsetDateTime,
    ) -> Result<Vec<Counter>, BackendError> {
        let batch: Vec<(String, i64)> = counters.iter().map(|(k, at)| ((*k).to_owned(), at.unix_timestamp())).collect();
        let now = now.unix_timestamp();
        let sweep = self.sweep_due(now);
        // One trip to the thread and one transaction (one fsync) for the whole batch.
        let counts = self
            .call(move |conn| {
                let tx = conn.transaction()?;
                if sweep {
                    tx.prepare_cached(SWEEP)?.execute(params![now])?;
                }
                let counts = batch
                    .iter()
                    .map(|(key, expires_at)| increment_one(&tx, key, *expires_at, now))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                tx.commit()?;
                Ok(counts)
            })
            .await?;
        Ok(counts.into_iter().map(|(count, expiry)| counter(count, expiry)).collect())
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let key = key.to_owned();
        self.call(move |conn| conn.prepare_cached(DELETE)?.execute(params![key])).await.map(drop)
    }

    /// One trip to the store's thread and one read transaction: the record and the records
    /// its link names are one snapshot.
    async fn get_linked(
        &self,
        key: &str,
        prefixes: &[&str],
        now: OffsetDateTime,
    ) -> Result<(Option<StoredValue>, Vec<Option<StoredValue>>), BackendError> {
        let key = key.to_owned();
        let prefixes: Vec<String> = prefixes.iter().map(|p| (*p).to_owned()).collect();
        let now = now.unix_timestamp();
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let read = |key: &str| {
                tx.prepare_cached(GET)?
                    .query_row(params![key, now], |r| Ok(StoredValue { value: r.get(0)?, version: unsigned(r, 1)? }))
                    .optional()
            };
            let record = read(&key)?;
            let link = record.as_ref().and_then(|v| link_of(&v.value));
            let linked = prefixes
                .iter()
                .map(|prefix| match link {
                    Some(link) => read(&format!("{prefix}{link}")),
                    None => Ok(None),
                })
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((record, linked))
        })
        .await
    }

    /// One trip to the store's thread and one `IMMEDIATE` transaction (one commit): the reads,
    /// the compare-and-set, then the counters and deletes only if the put won. Another process
    /// sharing the file waits for the write lock rather than seeing half a step.
    async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        Ok(self.apply_after_first(None, batch, now).await?.unwrap_or_default())
    }

    /// The first put and the batch in one `IMMEDIATE` transaction on one trip to the thread.
    async fn apply_after(
        &self,
        first: &Put<'_>,
        batch: &Batch<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<BatchOutcome>, BackendError> {
        self.apply_after_first(Some(first), batch, now).await
    }
}

/// An enrollment as its columns, ready to bind.
struct EnrollmentRow {
    enabled: bool,
    email: Option<String>,
    email_added_at: Option<String>,
    email_usable_from: Option<String>,
    phone: Option<String>,
    phone_added_at: Option<String>,
    phone_usable_from: Option<String>,
    last_reset_at: Option<String>,
    history: String,
}

const AUDIT_INSERT: &str =
    "INSERT INTO sspr_audit (at, kind, outcome, reason, channel, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// The store is also an audit sink: one row of `sspr_audit` per event (see
/// [`crate::audit_sql`]), written on the store's thread.
#[async_trait]
impl AuditSink for SqliteStore {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let row = AuditRow::of(event);
        let row_at = row.at;
        self.call(move |conn| {
            conn.prepare_cached(AUDIT_INSERT)?.execute(params![
                row.at,
                row.kind,
                row.outcome,
                row.reason,
                row.channel,
                row.json
            ])
        })
        .await?;
        if let Some(before) = self.inner.retention.due(row_at) {
            Self::prune_in_background(self.inner.jobs.clone(), before);
        }
        Ok(())
    }
}

/// Delete one batch of audit rows recorded before `before` (unix seconds).
fn prune_batch(conn: &mut Connection, before: i64) -> rusqlite::Result<u64> {
    let deleted = conn.prepare_cached(PRUNE)?.execute(params![before, PRUNE_BATCH])?;
    Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
}

#[async_trait]
impl AuditReport for SqliteStore {
    async fn audit_summary(&self, days: u32, now: OffsetDateTime) -> Result<AuditSummary, BackendError> {
        let (from, first_day, last_day) = audit_sql::period(days, now);
        let rows = self
            .call(move |conn| {
                let resets = conn
                    .prepare_cached(audit_sql::RESETS_PER_DAY)?
                    .query_map(params![from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let begins = conn
                    .prepare_cached(audit_sql::BEGINS)?
                    .query_map(params![from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let daily = conn
                    .prepare_cached(audit_sql::DAILY_KINDS)?
                    .query_map(params![from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let failures = conn
                    .prepare_cached(audit_sql::TOP_FAILURES)?
                    .query_map(params![from, audit_sql::TOP_FAILURES_SHOWN], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(audit_sql::Rows { resets, begins, daily, failures })
            })
            .await?;
        Ok(rows.summary(first_day, last_day))
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

impl EnrollmentRow {
    fn from_enrollment(e: &Enrollment) -> Result<Self, BackendError> {
        let opt = |t: Option<OffsetDateTime>| t.map(format_time).transpose();
        Ok(Self {
            enabled: e.enabled,
            email: e.email.as_ref().map(|c| c.value.as_str().to_owned()),
            email_added_at: opt(e.email.as_ref().map(|c| c.added_at))?,
            email_usable_from: opt(e.email.as_ref().map(|c| c.usable_from))?,
            phone: e.phone.as_ref().map(|c| c.value.as_str().to_owned()),
            phone_added_at: opt(e.phone.as_ref().map(|c| c.added_at))?,
            phone_usable_from: opt(e.phone.as_ref().map(|c| c.usable_from))?,
            last_reset_at: opt(e.last_reset_at)?,
            history: e.history.to_json()?,
        })
    }

    fn read(r: &Row<'_>) -> rusqlite::Result<(Self, u64)> {
        Ok((
            Self {
                enabled: r.get(0)?,
                email: r.get(1)?,
                email_added_at: r.get(2)?,
                email_usable_from: r.get(3)?,
                phone: r.get(4)?,
                phone_added_at: r.get(5)?,
                phone_usable_from: r.get(6)?,
                last_reset_at: r.get(7)?,
                history: r.get(9)?,
            },
            unsigned(r, 8)?,
        ))
    }

    fn into_enrollment(self, version: u64) -> Result<Enrollment, BackendError> {
        let contact = |value: Option<String>, added: Option<String>, usable: Option<String>, what: &str| match (
            value, added, usable,
        ) {
            (Some(value), Some(added), Some(usable)) => Ok(Some((
                value,
                parse_time(&format!("{what}_added_at"), &added)?,
                parse_time(&format!("{what}_usable_from"), &usable)?,
            ))),
            (None, _, _) => Ok(None),
            _ => Err(BackendError::new(BackendErrorKind::Other, format!("stored {what} lacks its times"))),
        };
        let email = contact(self.email, self.email_added_at, self.email_usable_from, "email")?
            .map(|(v, added_at, usable_from)| {
                EmailAddress::parse(&v)
                    .map(|value| StoredContact { value, added_at, usable_from })
                    .map_err(|e| BackendError::new(BackendErrorKind::Other, format!("stored email: {e}")))
            })
            .transpose()?;
        let phone = contact(self.phone, self.phone_added_at, self.phone_usable_from, "phone")?
            .map(|(v, added_at, usable_from)| {
                PhoneNumber::parse(&v)
                    .map(|value| StoredContact { value, added_at, usable_from })
                    .map_err(|e| BackendError::new(BackendErrorKind::Other, format!("stored phone: {e}")))
            })
            .transpose()?;
        let last_reset_at = self.last_reset_at.map(|t| parse_time("last_reset_at", &t)).transpose()?;
        let history = ContactHistory::from_json(&self.history)?;
        Ok(Enrollment { enabled: self.enabled, email, phone, last_reset_at, history, version })
    }
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        let user = user.as_str().to_owned();
        let row = self
            .call(move |conn| {
                conn.prepare_cached(
                    "SELECT enabled, email, email_added_at, email_usable_from, phone, phone_added_at,
                            phone_usable_from, last_reset_at, version, history
                     FROM sspr_enrollment WHERE user_id = ?1",
                )?
                .query_row(params![user], EnrollmentRow::read)
                .optional()
            })
            .await?;
        row.map(|(row, version)| row.into_enrollment(version)).transpose()
    }

    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        let user = user.as_str().to_owned();
        let r = EnrollmentRow::from_enrollment(enrollment)?;
        let Some(next) = expected_version.checked_add(1).and_then(|v| i64::try_from(v).ok()) else {
            // No stored version is that large: nothing can match.
            return Ok(false);
        };
        let changed = self
            .call(move |conn| {
                let values = params![
                    user,
                    r.enabled,
                    r.email,
                    r.email_added_at,
                    r.email_usable_from,
                    r.phone,
                    r.phone_added_at,
                    r.phone_usable_from,
                    r.last_reset_at,
                    next,
                    r.history
                ];
                if expected_version == 0 {
                    conn.prepare_cached(
                        "INSERT INTO sspr_enrollment (user_id, enabled, email, email_added_at, email_usable_from,
                             phone, phone_added_at, phone_usable_from, last_reset_at, version, history)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                         ON CONFLICT (user_id) DO NOTHING",
                    )?
                    .execute(values)
                } else {
                    conn.prepare_cached(
                        "UPDATE sspr_enrollment SET enabled = ?2, email = ?3, email_added_at = ?4,
                             email_usable_from = ?5, phone = ?6, phone_added_at = ?7, phone_usable_from = ?8,
                             last_reset_at = ?9, version = ?10, history = ?11
                         WHERE user_id = ?1 AND version = ?10 - 1",
                    )?
                    .execute(values)
                }
            })
            .await?;
        Ok(changed == 1)
    }

    /// Ids compare in SQLite's BINARY collation (the column's): byte order, as the contract
    /// asks; the primary key's index serves both the range and the order.
    async fn list(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<(UserId, Enrollment)>, BackendError> {
        let after = after.map(|a| a.as_str().to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .call(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT enabled, email, email_added_at, email_usable_from, phone, phone_added_at,
                            phone_usable_from, last_reset_at, version, history, user_id
                     FROM sspr_enrollment WHERE ?1 IS NULL OR user_id > ?1 ORDER BY user_id LIMIT ?2",
                )?;
                let rows = statement
                    .query_map(params![after, limit], |r| Ok((r.get::<_, String>(10)?, EnrollmentRow::read(r)?)))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.into_iter().map(|(id, (row, version))| Ok((UserId::new(id), row.into_enrollment(version)?))).collect()
    }
}
