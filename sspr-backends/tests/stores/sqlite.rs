//! The SQLite store: conformance, persistence, migrations, several handles on one file.

use std::sync::Arc;
use std::time::Duration;

use sspr_backends::sqlite::{SqliteConfig, SqliteStore};
use sspr_core::memory::Outbox;
use sspr_core::{BackendErrorKind, ContactStore, ManualClock, StateStore, UserId, testing};
use time::macros::datetime;

use crate::common;

fn clock() -> ManualClock {
    ManualClock::new(datetime!(2026-03-02 09:00 UTC))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_store_conformance_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("sspr.db")).unwrap();
    let clock = clock();
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(&store, &clock, wait).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_store_conformance_in_memory() {
    let store = SqliteStore::open_in_memory().unwrap();
    let clock = clock();
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(&store, &clock, wait).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_store_conformance_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("sspr.db")).unwrap();
    testing::contact_store_conformance(&store, &clock()).await;
}

#[tokio::test]
async fn the_database_is_in_wal_mode_and_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sspr.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 3);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // Opening again applies nothing twice.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 3);
}

/// A database written before the contact history was kept: its rows gain an empty history,
/// and a row with a contact still counts as registered (so clearing it cannot make the next
/// contact a "first registration").
#[tokio::test]
async fn a_version_1_database_migrates_and_keeps_its_enrollments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sspr.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE sspr_state (key TEXT PRIMARY KEY NOT NULL, value BLOB, counter INTEGER,
                 version INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
             CREATE INDEX sspr_state_expires_at ON sspr_state (expires_at);
             CREATE TABLE sspr_enrollment (user_id TEXT PRIMARY KEY NOT NULL, enabled INTEGER NOT NULL,
                 email TEXT, email_added_at TEXT, email_usable_from TEXT, phone TEXT, phone_added_at TEXT,
                 phone_usable_from TEXT, last_reset_at TEXT, version INTEGER NOT NULL) WITHOUT ROWID;
             INSERT INTO sspr_enrollment VALUES ('uid=alice', 1, 'alice@home.example', '2026-01-01T00:00:00Z',
                 '2026-01-01T00:00:00Z', NULL, NULL, NULL, NULL, 4);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 3);
    let alice = ContactStore::get(&store, &UserId::new("uid=alice")).await.unwrap().unwrap();
    assert_eq!(alice.version, 4);
    assert_eq!(alice.history, sspr_core::backend::ContactHistory::default());
    assert!(alice.ever_registered());
}

#[tokio::test]
async fn a_database_from_a_newer_sspr_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sspr.db");
    rusqlite::Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Other);
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[tokio::test]
async fn an_unopenable_path_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(dir.path().join("missing-folder").join("sspr.db")).unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err:?}");
}

#[tokio::test]
async fn state_and_contacts_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sspr.db");
    let now = datetime!(2026-03-02 09:00 UTC);
    let later = now + Duration::from_secs(600);
    let user = UserId::new("uid=alice,ou=staff,dc=example,dc=org");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(StateStore::put(&store, "flow/1", b"pending", None, later, now).await.unwrap(), Some(1));
        assert_eq!(store.increment("count/1", later, now).await.unwrap().count, 1);
        let enrollment = sspr_core::backend::Enrollment { enabled: true, ..Default::default() };
        assert!(store.save(&user, &enrollment, 0).await.unwrap());
    }
    let store = SqliteStore::open(&path).unwrap();
    let flow = StateStore::get(&store, "flow/1", now).await.unwrap().unwrap();
    assert_eq!((flow.value.as_slice(), flow.version), (&b"pending"[..], 1));
    assert_eq!(store.increment("count/1", later, now).await.unwrap().count, 2);
    assert_eq!(ContactStore::get(&store, &user).await.unwrap().unwrap().version, 1);
}

#[tokio::test]
async fn expired_state_is_swept_from_the_file() {
    let store = SqliteStore::open_in_memory().unwrap();
    let now = datetime!(2026-03-02 09:00 UTC);
    for i in 0..10 {
        store.put(&format!("flow/{i}"), b"x", None, now + Duration::from_secs(5), now).await.unwrap();
    }
    store.put("flow/long", b"x", None, now + Duration::from_secs(600), now).await.unwrap();
    assert_eq!(store.sweep_expired(now).await.unwrap(), 0, "nothing has expired yet");
    let after = now + Duration::from_secs(10);
    // A write one second later sweeps by itself; the explicit sweep then finds nothing left.
    store.put("flow/new", b"x", None, after + Duration::from_secs(600), after).await.unwrap();
    assert_eq!(store.sweep_expired(after).await.unwrap(), 0, "the write swept the expired flows");
    assert!(StateStore::get(&store, "flow/long", after).await.unwrap().is_some(), "live state stays");
}

/// Two handles on one file are two processes sharing a database: compare-and-set and
/// counters stay exact across them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_handles_on_one_file_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sspr.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let now = datetime!(2026-03-02 09:00 UTC);
    let later = now + Duration::from_secs(600);
    a.put("race", b"start", None, later, now).await.unwrap();
    let racers = (0..100).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { store.put("race", format!("{i}").as_bytes(), Some(1), later, now).await.unwrap() })
    });
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap().is_some());
    }
    assert_eq!(winners, 1);
    let counts = (0..100).map(|i| {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { store.increment("count", later, now).await.unwrap().count })
    });
    let mut seen = Vec::new();
    for c in counts {
        seen.push(c.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=100).collect::<Vec<u64>>());
}

/// Two engines, each with its own handle on one database file.
fn two_engines(path: &std::path::Path) -> (sspr_core::Sspr, sspr_core::Sspr, Outbox) {
    let (directory, outbox, policy) = (common::directory(), Outbox::new(), common::policy());
    let a_store = Arc::new(SqliteStore::open(path).unwrap());
    let b_store = Arc::new(SqliteStore::open(path).unwrap());
    let a = common::engine(&directory, &outbox, a_store.clone(), a_store, policy.clone());
    let b = common::engine(&directory, &outbox, b_store.clone(), b_store, policy);
    (a, b, outbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_on_one_file_share_flows() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, outbox) = two_engines(&dir.path().join("sspr.db"));
    common::enroll(&a).await;
    common::whole_flow(&b, &outbox).await;
    common::race_verify(&a, &b, &outbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_on_one_file_share_rate_limits() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, _outbox) = two_engines(&dir.path().join("sspr.db"));
    common::enroll(&a).await;
    common::limits_hold_across(&a, &b, &common::policy()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_on_one_file_complete_a_flow_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sspr.db");
    let (directory, outbox, policy) = (common::directory(), Outbox::new(), common::policy());
    let (a_store, b_store) = (Arc::new(SqliteStore::open(&path).unwrap()), Arc::new(SqliteStore::open(&path).unwrap()));
    let a = common::engine(&directory, &outbox, a_store.clone(), a_store, policy.clone());
    let b = common::engine(&directory, &outbox, b_store.clone(), b_store, policy);
    common::enroll(&a).await;
    common::race_complete(&a, &b, &directory, &outbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_pin_burst_over_flows_addresses_and_two_engines_on_one_file_compares_no_more_than_the_policy_allows() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, outbox) = two_engines(&dir.path().join("sspr.db"));
    common::enroll(&a).await;
    common::wrong_pin_burst(&a, &b, &outbox, &common::policy()).await;
}

#[test]
fn config_reads_from_toml() {
    let config: SqliteConfig = toml::from_str("path = \"/var/lib/sspr/sspr.db\"\nbusy_timeout_ms = 250").unwrap();
    assert_eq!(config.path, std::path::Path::new("/var/lib/sspr/sspr.db"));
    assert_eq!(config.busy_timeout_ms, 250);
    assert!(toml::from_str::<SqliteConfig>("path = \"x\"\npasword = \"typo\"").is_err(), "unknown keys are refused");
}

#[tokio::test]
async fn the_store_works_without_a_tokio_runtime() {
    // The store runs its own thread: a plain executor can drive it (a Python or Node loop).
    let store = SqliteStore::open_in_memory().unwrap();
    let now = datetime!(2026-03-02 09:00 UTC);
    let version = std::thread::spawn(move || {
        futures::executor::block_on(store.put("k", b"v", None, now + Duration::from_secs(60), now)).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(version, Some(1));
}

#[tokio::test]
async fn the_store_is_an_audit_sink_with_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("audit.db")).unwrap();
    crate::audit::records_and_summarises(&store).await;
    // The rows hold the event's JSON as it is written everywhere else.
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    let (kind, json): (String, String) = conn
        .query_row("SELECT kind, event FROM sspr_audit ORDER BY id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(kind, "reset_completed");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!((value["kind"].as_str(), value["version"].as_u64()), (Some("reset_completed"), Some(2)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_audits_a_whole_reset_into_sqlite() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    crate::audit::a_real_flow_lands_in_the_table(store).await;
}

#[tokio::test]
async fn audit_rows_past_retain_days_are_pruned_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let config = SqliteConfig { path: path.clone(), busy_timeout_ms: 5000, retain_days: Some(30) };
    let store = SqliteStore::from_config(&config).unwrap();
    let reader = rusqlite::Connection::open(&path).unwrap();
    let reader = std::sync::Mutex::new(reader);
    crate::audit::prunes_past_retention(&store, |before| {
        let n: i64 = reader
            .lock()
            .unwrap()
            .query_row("SELECT count(*) FROM sspr_audit WHERE at < ?1", [before], |r| r.get(0))
            .unwrap();
        async move { n }
    })
    .await;
    // At once, on demand: everything before the newest row.
    assert_eq!(store.prune_audit(crate::audit::NOW).await.unwrap(), 3);
}

/// The attacks of `races` on one SQLite file per attack, two handles on it; then every row
/// of every file must expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_attacks_on_two_engines_sharing_a_file_hold_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let files = std::sync::Mutex::new(Vec::new());
    let pair = |policy| {
        let path = dir.path().join(format!("race{}.db", files.lock().unwrap().len()));
        files.lock().unwrap().push(path.clone());
        let (a, b) = (Arc::new(SqliteStore::open(&path).unwrap()), Arc::new(SqliteStore::open(&path).unwrap()));
        std::future::ready(crate::races::Pair::new(policy, (a.clone(), a), (b.clone(), b)))
    };
    let entries = || async {
        let now = sspr_core::Clock::now(&sspr_core::SystemClock).unix_timestamp();
        let mut all = Vec::new();
        for path in files.lock().unwrap().iter() {
            let db = rusqlite::Connection::open(path).unwrap();
            let mut rows = db.prepare("SELECT key, expires_at FROM sspr_state").unwrap();
            let rows = rows.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))).unwrap();
            all.extend(rows.map(|r| r.unwrap()).map(|(k, at)| (k, at.map(|at| at - now))));
        }
        all
    };
    crate::races::all(pair, entries).await;
}

/// The file holds every user's private contacts: SQLite alone would create it (and its WAL
/// and shared-memory files, which copy its mode) 0644, readable by every local user, wherever
/// `[store] path` puts it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_database_file_is_readable_by_its_owner_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("contacts.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let user = UserId::new("jane");
    let enrollment = sspr_core::backend::Enrollment { enabled: true, ..Default::default() };
    assert!(store.save(&user, &enrollment, 0).await.unwrap());
    for name in ["contacts.sqlite", "contacts.sqlite-wal", "contacts.sqlite-shm"] {
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{name} is {mode:o}");
    }
    drop(store);
    // A file the operator made (and gave its permissions) is left as it is.
    let own = dir.path().join("own.sqlite");
    std::fs::write(&own, b"").unwrap();
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o640)).unwrap();
    drop(SqliteStore::open(&own).unwrap());
    assert_eq!(std::fs::metadata(&own).unwrap().permissions().mode() & 0o777, 0o640);
}

/// A rolling key rotation: an instance on the old key and one on the new key (the old one
/// listed as previous) share one file; pending resets and blocks cross the rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_keeps_pending_resets_and_blocks_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("sspr.db")).unwrap());
    let (directory, outbox) = (common::directory(), Outbox::new());
    common::rotation_keeps_pending_resets_and_blocks(store.clone(), store, &outbox, &directory).await;
}

/// R.50: an anonymous flood of begins while the audit database is slow (another connection
/// holds its write lock: a backup, a `VACUUM`, a long report) filled the bounded queue, so the
/// takeover that followed (the PIN verified, the reset completed) was dropped and never reached
/// the trail. The flood may take half the queue; the reset's own events must get in.
#[cfg(feature = "audit-queue")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_begins_cannot_push_a_reset_out_of_the_audit_queue() {
    use sspr_backends::audit_queue::QueuedAuditSink;
    use sspr_core::{RequestContext, SecretKey, Sspr};

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("sspr.db")).unwrap());
    let audit_path = dir.path().join("audit.db");
    let config = SqliteConfig { path: audit_path.clone(), busy_timeout_ms: 60_000, retain_days: None };
    let audit = Arc::new(SqliteStore::from_config(&config).unwrap());
    let queue = QueuedAuditSink::new(audit, 64).unwrap();
    let (directory, outbox) = (common::directory(), Outbox::new());
    let sspr = Sspr::builder()
        .directory(directory)
        .notifier(outbox.clone())
        .store_arc(store.clone())
        .contacts_arc(store)
        .audit(queue.clone())
        .secret_key(SecretKey::from_bytes(&[0x5a; 32]).unwrap())
        .policy(common::policy())
        .build()
        .unwrap();
    common::enroll(&sspr).await;
    queue.flush().await.unwrap();

    // The audit database is busy: the sink waits on its lock.
    let locker = rusqlite::Connection::open(&audit_path).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    // The flood: 300 begins for logins nobody has, from as many addresses.
    let begins = (0..300u32).map(|i| {
        let ctx = RequestContext::from_ip(std::net::IpAddr::from([198, 51, (i / 250) as u8, (i % 250) as u8 + 1]));
        let sspr = &sspr;
        async move { sspr.begin_reset(&format!("nobody{i}@example.org"), &ctx).await.is_ok() }
    });
    let answered = futures::future::join_all(begins).await;
    assert!(answered.iter().all(|ok| *ok), "a begin of the flood was refused");
    // Then the takeover (a stolen mailbox): begin, send, verify, complete.
    common::whole_flow(&sspr, &outbox).await;
    sspr.flush_deliveries().await;

    locker.execute_batch("ROLLBACK").unwrap();
    queue.flush().await.unwrap();
    assert!(queue.dropped() > 0, "the flood did not fill the queue");
    let reader = rusqlite::Connection::open(&audit_path).unwrap();
    let kept: Vec<String> = reader
        .prepare(
            "SELECT kind FROM sspr_audit WHERE kind IN ('pin_sent', 'pin_verified', 'reset_completed') ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kept, ["pin_sent", "pin_verified", "reset_completed"], "the takeover's events were dropped");
}
