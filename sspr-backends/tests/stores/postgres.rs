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
        assert_eq!(store.unwrap().schema_version().await.unwrap(), 1);
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
