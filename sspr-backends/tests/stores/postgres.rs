//! The PostgreSQL stores against the server `scripts/servers/50-postgres.sh` starts.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use sspr_backends::postgres::{PostgresConfig, PostgresStore};
use sspr_core::memory::Outbox;
use sspr_core::{BackendErrorKind, SystemClock, testing};

use crate::common;

/// A database of its own for one test (tests and runs never see each other's rows): its URL.
async fn fresh_database() -> String {
    let url = common::server_env("SSPR_TEST_POSTGRES_URL");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let name = common::unique("sspr_test").replace('-', "_");
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_store_conformance() {
    let store = PostgresStore::connect(&fresh_database().await).await.unwrap();
    testing::state_store_conformance(&store, &SystemClock, tokio::time::sleep).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_store_conformance() {
    let store = PostgresStore::connect(&fresh_database().await).await.unwrap();
    testing::contact_store_conformance(&store, &SystemClock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_migrate_once() {
    let url = fresh_database().await;
    let stores = futures::future::join_all((0..4).map(|_| PostgresStore::connect(&url))).await;
    for store in stores {
        assert_eq!(store.unwrap().schema_version().await.unwrap(), 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_is_an_audit_sink_with_summaries() {
    let url = fresh_database().await;
    let store = PostgresStore::connect(&url).await.unwrap();
    crate::audit::records_and_summarises(&store).await;
    // The event column is JSONB: queryable as JSON by the database itself.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT count(*) FROM sspr_audit WHERE event->>'kind' = 'pin_failed' AND (event->>'version')::int = 2",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_audits_a_whole_reset_into_postgres() {
    let store = Arc::new(PostgresStore::connect(&fresh_database().await).await.unwrap());
    crate::audit::a_real_flow_lands_in_the_table(store).await;
}

/// The audit sink's errors never show the URL's password: the real server refusing the
/// connection (no such database), and a server that is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_sink_errors_hold_no_password() {
    let url = common::server_env("SSPR_TEST_POSTGRES_URL");
    let parsed: tokio_postgres::Config = url.parse().unwrap();
    let user = parsed.get_user().unwrap();
    let host = match &parsed.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        other => panic!("{other:?}"),
    };
    let port = parsed.get_ports()[0];
    let secret = "Wr0ngS3cretPw";
    for bad in [
        format!("postgres://{user}:{secret}@{host}:{port}/sspr_no_such_database"),
        format!("postgres://{user}:{secret}@127.0.0.1:1/postgres?connect_timeout=1"),
    ] {
        let err = PostgresStore::connect(&bad).await.unwrap_err();
        let shown =
            format!("{err} {err:?} {}", std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default());
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_rows_are_swept() {
    use sspr_core::StateStore;
    let store = PostgresStore::connect(&fresh_database().await).await.unwrap();
    let now = time::macros::datetime!(2026-03-02 09:00 UTC);
    for i in 0..10 {
        store.put(&format!("flow/{i}"), b"x", None, now + std::time::Duration::from_secs(5), now).await.unwrap();
    }
    store.put("flow/long", b"x", None, now + std::time::Duration::from_secs(600), now).await.unwrap();
    let later = now + std::time::Duration::from_secs(10);
    assert_eq!(store.sweep_expired(later).await.unwrap(), 10);
    assert!(store.get("flow/long", later).await.unwrap().is_some());
}

/// Two engines, each with its own pool on one database.
async fn two_engines(url: &str) -> (sspr_core::Sspr, sspr_core::Sspr, Outbox) {
    let (directory, outbox, policy) = (common::directory(), Outbox::new(), common::policy());
    let a_store = Arc::new(PostgresStore::connect(url).await.unwrap());
    let b_store = Arc::new(PostgresStore::connect(url).await.unwrap());
    let a = common::engine(&directory, &outbox, a_store.clone(), a_store, policy.clone());
    let b = common::engine(&directory, &outbox, b_store.clone(), b_store, policy);
    (a, b, outbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_sharing_postgres_have_one_winner_among_200_verifies() {
    let (a, b, outbox) = two_engines(&fresh_database().await).await;
    common::enroll(&a).await;
    common::whole_flow(&b, &outbox).await;
    common::race_verify(&a, &b, &outbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_sharing_postgres_complete_a_flow_once() {
    let url = fresh_database().await;
    let (directory, outbox, policy) = (common::directory(), Outbox::new(), common::policy());
    let (a_store, b_store) =
        (Arc::new(PostgresStore::connect(&url).await.unwrap()), Arc::new(PostgresStore::connect(&url).await.unwrap()));
    let a = common::engine(&directory, &outbox, a_store.clone(), a_store, policy.clone());
    let b = common::engine(&directory, &outbox, b_store.clone(), b_store, policy);
    common::enroll(&a).await;
    common::race_complete(&a, &b, &directory, &outbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_pin_burst_over_flows_addresses_and_two_engines_sharing_postgres_compares_no_more_than_the_policy_allows()
 {
    let (a, b, outbox) = two_engines(&fresh_database().await).await;
    common::enroll(&a).await;
    common::wrong_pin_burst(&a, &b, &outbox, &common::policy()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_sharing_postgres_share_rate_limits() {
    let (a, b, _outbox) = two_engines(&fresh_database().await).await;
    common::enroll(&a).await;
    common::limits_hold_across(&a, &b, &common::policy()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_flow_gives_a_typed_error_and_the_flow_resumes() {
    // A private server: stopping the shared one would break the tests running beside this one.
    let dir = tempfile::tempdir().unwrap();
    // PostgreSQL runs as the postgres user when the tests run as root: open the folder to it.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("pg").to_str().unwrap().to_owned();
    let port = common::free_port().to_string();
    common::script("postgres.sh", &["start", &data, &port]);
    let _stop = common::StopOnDrop { script: "postgres.sh", dir: data.clone() };
    let config = PostgresConfig {
        connect_timeout_ms: 1000,
        query_timeout_ms: 2000,
        ..PostgresConfig::new(format!("postgres://postgres@127.0.0.1:{port}/sspr"))
    };
    let store = Arc::new(PostgresStore::from_config(&config).await.unwrap());
    let (directory, outbox) = (common::directory(), Outbox::new());
    let sspr = common::engine(&directory, &outbox, store.clone(), store, common::policy());
    common::store_stops_mid_flow(
        &sspr,
        &outbox,
        &directory,
        || common::script("postgres.sh", &["stop", &data]),
        || common::script("postgres.sh", &["start", &data, &port]),
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let port = common::free_port();
    let err =
        PostgresStore::connect(&format!("postgres://sspr:hunter2-s3cret@127.0.0.1:{port}/sspr")).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err:?}");
    assert!(!format!("{err:?} {err}").contains("hunter2-s3cret"), "{err:?}");
}

#[tokio::test]
async fn the_password_never_shows() {
    let config: PostgresConfig =
        toml::from_str(r#"url = "postgres://sspr:hunter2-s3cret@db.example.org/sspr""#).unwrap();
    assert!(!format!("{config:?}").contains("hunter2-s3cret"), "{config:?}");
    assert!(format!("{config:?}").contains("postgres://sspr:***@db.example.org/sspr"));
    let config = PostgresConfig::new("host=db user=sspr password=hunter2-s3cret dbname=sspr");
    assert!(!format!("{config:?}").contains("hunter2-s3cret"), "{config:?}");
    let err = PostgresStore::connect("postgres://sspr:hunter2-s3cret@db:notaport/sspr").await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
    assert!(!format!("{err:?} {err}").contains("hunter2-s3cret"), "{err:?}");
    // A connected store's Debug string hides it too.
    let url = fresh_database().await.replace("postgres@", "postgres:hunter2-s3cret@");
    let store = PostgresStore::connect(&url).await.unwrap();
    assert!(!format!("{store:?}").contains("hunter2-s3cret"), "{store:?}");
}

/// A key/value connection string may quote its password (`password='a b c'`), space it out
/// around `=` or escape it: the whole value stays out of `Debug`, of errors, and of a
/// connected store's `Debug`.
#[tokio::test]
async fn quoted_key_value_passwords_never_show_in_debug_or_errors() {
    let secrets = ["hunter2", "s3cret", "xyzzy"];
    let shows = |text: &str| secrets.iter().any(|s| text.contains(s));
    let port = common::free_port();
    for url in [
        format!("host=127.0.0.1 port={port} user=sspr password='hunter2 s3cret xyzzy' dbname=sspr"),
        format!("host=127.0.0.1 port={port} password = 'hunter2 s3cret xyzzy' user=sspr dbname=sspr"),
        format!("host=127.0.0.1 port={port} password='hunter2\\' s3cret xyzzy' dbname=sspr"),
        format!("host=127.0.0.1 port={port} password=hunter2\\ s3cret\\ xyzzy dbname=sspr"),
    ] {
        let config = PostgresConfig { connect_timeout_ms: 500, ..PostgresConfig::new(url.clone()) };
        assert!(!shows(&format!("{config:?}")), "{config:?}");
        let err = PostgresStore::from_config(&config).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{url}: {err:?}");
        assert!(!shows(&format!("{err:?} {err}")), "{err:?}");
    }
    // Double quotes are no quoting to libpq: refused, and still hidden.
    let url = format!("host=127.0.0.1 port={port} password=\"hunter2 s3cret\" dbname=sspr");
    let config = PostgresConfig::new(url);
    assert!(!shows(&format!("{config:?}")), "{config:?}");
    let err = PostgresStore::from_config(&config).await.unwrap_err();
    assert!(!shows(&format!("{err:?} {err}")), "{err:?}");
    // A connected store (trust authentication ignores the password).
    let db = fresh_database().await;
    let (base, name) = db.rsplit_once('/').unwrap();
    let hostport = base.rsplit_once('@').unwrap().1;
    let (host, port) = hostport.split_once(':').unwrap();
    let url = format!("host={host} port={port} user=postgres password='hunter2 s3cret xyzzy' dbname={name}");
    let store = PostgresStore::connect(&url).await.unwrap();
    assert!(!shows(&format!("{store:?}")), "{store:?}");
}

/// Dropped on a thread without a runtime (a binding's garbage collector), with open
/// connections in its pool.
#[test]
fn a_postgres_store_dropped_outside_a_runtime_does_not_panic() {
    use sspr_core::StateStore;
    crate::outside_runtime::drop_outside_runtime("PostgresStore", || async {
        let store = PostgresStore::connect(&fresh_database().await).await.unwrap();
        store.get("flow/x", sspr_core::time::OffsetDateTime::UNIX_EPOCH).await.unwrap();
        store
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_rows_past_retain_days_are_pruned_in_the_background() {
    let url = fresh_database().await;
    let store =
        PostgresStore::from_config(&PostgresConfig { retain_days: Some(30), ..PostgresConfig::new(url.clone()) })
            .await
            .unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let client = &client;
    crate::audit::prunes_past_retention(&store, |before| async move {
        client.query_one("SELECT count(*) FROM sspr_audit WHERE at < $1", &[&before]).await.unwrap().get::<_, i64>(0)
    })
    .await;
    assert_eq!(store.prune_audit(crate::audit::NOW).await.unwrap(), 3);
}

/// The attacks of `races` on one database per attack, two pools on it; then every state row
/// of every database must expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_attacks_on_two_engines_sharing_postgres_hold_exactly() {
    let urls = std::sync::Mutex::new(Vec::new());
    let pair = |policy| {
        let urls = &urls;
        async move {
            let url = fresh_database().await;
            urls.lock().unwrap().push(url.clone());
            let a = Arc::new(PostgresStore::connect(&url).await.unwrap());
            let b = Arc::new(PostgresStore::connect(&url).await.unwrap());
            crate::races::Pair::new(policy, (a.clone(), a), (b.clone(), b))
        }
    };
    let entries = || async {
        let mut all = Vec::new();
        let urls = urls.lock().unwrap().clone();
        for url in urls {
            all.extend(state_rows(&url).await);
        }
        all
    };
    crate::races::all(pair, entries).await;
}

/// PostgreSQL drops the reply to each store call of a whole reset in turn (see
/// `races::dropped_replies`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_dropped_after_each_store_call_leaves_nothing_half_done() {
    let url = common::server_env("SSPR_TEST_POSTGRES_URL");
    let server = url.split('@').nth(1).unwrap().split('/').next().unwrap().to_owned();
    let proxy = crate::reply_drop::ReplyDrop::start(server.clone()).await;
    let databases = std::sync::Mutex::new(std::collections::HashMap::new());
    let pair = |tag: String| {
        let (databases, proxy_port) = (&databases, proxy.port);
        async move {
            let direct = fresh_database().await;
            let name = direct.rsplit('/').next().unwrap().to_owned();
            databases.lock().unwrap().insert(tag, direct);
            let url = format!("postgres://postgres@127.0.0.1:{proxy_port}/{name}?connect_timeout=2");
            let a = Arc::new(PostgresStore::connect(&url).await.unwrap());
            let b = Arc::new(PostgresStore::connect(&url).await.unwrap());
            crate::races::Pair::new(crate::races::policy(), (a.clone(), a), (b.clone(), b))
        }
    };
    let entries = |tag: String| {
        let url = databases.lock().unwrap().get(&tag).unwrap().clone();
        async move { state_rows(&url).await }
    };
    crate::races::dropped_replies(&proxy, pair, entries).await;
}

/// Every state row of the database at `url`, with the seconds until it expires.
async fn state_rows(url: &str) -> Vec<(String, Option<i64>)> {
    let now = sspr_core::Clock::now(&sspr_core::SystemClock).unix_timestamp();
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let rows = client.query("SELECT key, expires_at FROM sspr_state", &[]).await.unwrap();
    rows.iter().map(|row| (row.get::<_, String>(0), row.get::<_, Option<i64>>(1).map(|at| at - now))).collect()
}

/// PostgreSQL as the contact store drops the answer to each request of an administrator's
/// "disable self-service" in turn. Whichever answer is lost, once the administrator's retry
/// succeeds the user is disabled and the audit trail holds exactly one `enabled_changed`.
/// Before the read-back in `update_enrollment`, a lost answer to the save left the change
/// made and never audited (the retry found nothing to change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_save_whose_answer_is_lost_is_still_audited_once() {
    let url = common::server_env("SSPR_TEST_POSTGRES_URL");
    let server = url.split('@').nth(1).unwrap().split('/').next().unwrap().to_owned();
    let proxy = crate::reply_drop::ReplyDrop::start(server).await;
    let admin = sspr_core::Actor::Admin("helpdesk".into());
    let mut answers_lost = 0;
    for k in 1..=6 {
        let direct = fresh_database().await;
        let name = direct.rsplit('/').next().unwrap().to_owned();
        let through = format!("postgres://postgres@127.0.0.1:{}/{name}?connect_timeout=2", proxy.port);
        let contacts = Arc::new(PostgresStore::connect(&through).await.unwrap());
        let audit = sspr_core::memory::MemoryAuditSink::new();
        let sspr = sspr_core::Sspr::builder()
            .directory(common::directory())
            .notifier(Outbox::new())
            .store(sspr_core::memory::MemoryStateStore::new())
            .contacts_arc(contacts)
            .audit(audit.clone())
            .secret_key(sspr_core::SecretKey::from_bytes(&[0x5a; 32]).unwrap())
            .policy(common::policy())
            .build()
            .unwrap();
        common::enroll(&sspr).await;
        let dropped = proxy.dropped();
        proxy.arm(k, 0);
        let first = sspr.set_enabled(&admin, common::USER, false, &common::ctx()).await;
        proxy.disarm();
        if first.is_err() {
            assert!(common::is_unavailable(&first), "k = {k}: {first:?}");
            sspr.set_enabled(&admin, common::USER, false, &common::ctx()).await.unwrap();
        }
        assert!(!sspr.status(common::USER).await.unwrap().enabled, "k = {k}");
        let changes = audit.events().iter().filter(|e| e.kind == sspr_core::AuditKind::EnabledChanged).count();
        // The enrolment's own change, and this one once.
        assert_eq!(changes, 2, "k = {k}: {first:?}; the disable must be audited once");
        if proxy.dropped() > dropped {
            answers_lost += 1;
        }
    }
    assert!(answers_lost > 0, "no answer was lost: the proxy never fired");
}
