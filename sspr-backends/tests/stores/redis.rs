//! The Redis state store against the redis-server `scripts/servers/40-redis.sh` starts.

use std::sync::Arc;

use sspr_backends::redis::{RedisConfig, RedisStore};
use sspr_core::memory::{MemoryContactStore, Outbox};
use sspr_core::{SystemClock, testing};

use crate::common;

fn url() -> String {
    common::server_env("SSPR_TEST_REDIS_URL")
}

/// A store with keys of its own, so tests and runs never see each other's state.
async fn store() -> RedisStore {
    let config = RedisConfig { key_prefix: format!("{}:", common::unique("test")), ..RedisConfig::new(url()) };
    RedisStore::from_config(&config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_store_conformance() {
    let store = store().await;
    testing::state_store_conformance(&store, &SystemClock, tokio::time::sleep).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_sharing_redis_have_one_winner_among_200_verifies() {
    let config = RedisConfig { key_prefix: format!("{}:", common::unique("race")), ..RedisConfig::new(url()) };
    let (directory, outbox, contacts) = (common::directory(), Outbox::new(), Arc::new(MemoryContactStore::new()));
    let a = common::engine(
        &directory,
        &outbox,
        Arc::new(RedisStore::from_config(&config).await.unwrap()),
        contacts.clone(),
        common::policy(),
    );
    let b = common::engine(
        &directory,
        &outbox,
        Arc::new(RedisStore::from_config(&config).await.unwrap()),
        contacts,
        common::policy(),
    );
    common::enroll(&a).await;
    common::whole_flow(&b, &outbox).await;
    common::race_verify(&a, &b, &outbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_sharing_redis_share_rate_limits() {
    let config = RedisConfig { key_prefix: format!("{}:", common::unique("limits")), ..RedisConfig::new(url()) };
    let (directory, outbox, contacts) = (common::directory(), Outbox::new(), Arc::new(MemoryContactStore::new()));
    let a = common::engine(
        &directory,
        &outbox,
        Arc::new(RedisStore::from_config(&config).await.unwrap()),
        contacts.clone(),
        common::policy(),
    );
    let b = common::engine(
        &directory,
        &outbox,
        Arc::new(RedisStore::from_config(&config).await.unwrap()),
        contacts,
        common::policy(),
    );
    common::enroll(&a).await;
    common::limits_hold_across(&a, &b, &common::policy()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_flow_gives_a_typed_error_and_the_flow_resumes() {
    // A private server: stopping the shared one would break the tests running beside this one.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("redis");
    let data = data.to_str().unwrap().to_owned();
    let port = common::free_port().to_string();
    common::script("redis.sh", &["start", &data, &port]);
    let _stop = common::StopOnDrop { script: "redis.sh", dir: data.clone() };
    let config = RedisConfig {
        response_timeout_ms: 1000,
        connect_timeout_ms: 500,
        ..RedisConfig::new(format!("redis://127.0.0.1:{port}/"))
    };
    let store = RedisStore::from_config(&config).await.unwrap();
    let (directory, outbox) = (common::directory(), Outbox::new());
    let sspr =
        common::engine(&directory, &outbox, Arc::new(store), Arc::new(MemoryContactStore::new()), common::policy());
    common::store_stops_mid_flow(
        &sspr,
        &outbox,
        &directory,
        || common::script("redis.sh", &["stop", &data]),
        || common::script("redis.sh", &["start", &data, &port]),
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let port = common::free_port();
    let config = RedisConfig { connect_timeout_ms: 300, ..RedisConfig::new(format!("redis://127.0.0.1:{port}/")) };
    let err = RedisStore::from_config(&config).await.unwrap_err();
    assert_eq!(err.kind(), sspr_core::BackendErrorKind::Unavailable, "{err:?}");
}

#[tokio::test]
async fn the_password_never_shows() {
    let config: RedisConfig = toml::from_str(r#"url = "redis://:hunter2-s3cret@127.0.0.1:1/0""#).unwrap();
    assert!(!format!("{config:?}").contains("hunter2-s3cret"), "{config:?}");
    assert!(format!("{config:?}").contains("redis://:***@127.0.0.1:1/0"));
    let err = RedisStore::from_config(&RedisConfig { connect_timeout_ms: 300, ..config }).await.unwrap_err();
    assert!(!format!("{err:?} {err}").contains("hunter2-s3cret"), "{err:?}");
}

/// redis-rs reads a Unix socket's password from the `pass` query parameter
/// (`redis+unix:///run/redis.sock?pass=...`): hidden in `Debug` and errors like the others.
#[tokio::test]
async fn a_unix_socket_urls_pass_parameter_never_shows() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("none.sock");
    for url in [
        format!("redis+unix://{}?db=0&pass=hunter2-s3cret", socket.display()),
        format!("unix://{}?pass=hunter2-s3cret&user=sspr", socket.display()),
    ] {
        let config = RedisConfig { connect_timeout_ms: 300, ..RedisConfig::new(url) };
        assert!(!format!("{config:?}").contains("hunter2-s3cret"), "{config:?}");
        let err = RedisStore::from_config(&config).await.unwrap_err();
        assert!(!format!("{err:?} {err}").contains("hunter2-s3cret"), "{err:?}");
    }
}

/// Dropped on a thread without a runtime (a binding's garbage collector), after use.
#[test]
fn a_redis_store_dropped_outside_a_runtime_does_not_panic() {
    use sspr_core::StateStore;
    crate::outside_runtime::drop_outside_runtime("RedisStore", || async {
        let store = RedisStore::connect(&url()).await.unwrap();
        store.get("flow/x", sspr_core::time::OffsetDateTime::UNIX_EPOCH).await.unwrap();
        store
    });
}
