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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_with_the_private_ca_the_store_passes_the_conformance_suite() {
    // Before, a rediss:// URL was "invalid Redis URL: InvalidClientConfig" (no TLS in the build):
    // a remote Redis could only be reached in clear, its password and every block with it.
    let config = RedisConfig {
        key_prefix: format!("{}:", common::unique("tls")),
        ca_file: Some(common::server_env("SSPR_TEST_CA").into()),
        ..RedisConfig::new(common::server_env("SSPR_TEST_REDIS_TLS_URL"))
    };
    let store = RedisStore::from_config(&config).await.unwrap();
    testing::state_store_conformance(&store, &SystemClock, tokio::time::sleep).await;
}

/// This machine's address on its network (not loopback): a stand-in for a Redis on another
/// host. A UDP "connect" sends nothing; it only picks the route's source address.
fn network_address() -> std::net::IpAddr {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket.connect("203.0.113.1:9").unwrap();
    let ip = socket.local_addr().unwrap().ip();
    assert!(!ip.is_loopback(), "no network address to stand for another host: {ip}");
    ip
}

/// redis-rs also speaks `valkey://` (plain) and `valkeys://` (TLS), and the README says Valkey
/// serves as Redis. The plaintext guard knew only `redis://`: `valkey://` to another host went
/// through without `allow_plaintext`, and the password crossed the network in clear (watched
/// failing on main: the listener read `AUTH ... Sniff-Me-42`). A listener on this machine's
/// network address reads whatever the store sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valkey_url_to_another_host_is_refused_before_the_password_is_sent_in_clear() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind((network_address(), 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heard = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let sink = heard.clone();
    let reader = tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            while let Ok(Ok(n @ 1..)) =
                tokio::time::timeout(std::time::Duration::from_millis(500), conn.read(&mut buf)).await
            {
                sink.lock().await.extend_from_slice(&buf[..n]);
            }
        }
    });
    for scheme in ["valkey", "VALKEY"] {
        let config = RedisConfig {
            connect_timeout_ms: 1000,
            response_timeout_ms: 1000,
            ..RedisConfig::new(format!("{scheme}://:Sniff-Me-42@{addr}/0"))
        };
        let outcome = RedisStore::from_config(&config).await.map(|_| ());
        let heard = String::from_utf8_lossy(&heard.lock().await).into_owned();
        assert!(heard.is_empty(), "{scheme}:// sent this in clear to another host: {heard:?} ({outcome:?})");
        let refused = outcome.unwrap_err();
        assert_eq!(refused.kind(), sspr_core::BackendErrorKind::Rejected, "{refused}");
        assert!(!refused.to_string().contains("Sniff-Me-42"), "{refused}");
    }
    // A ca_file with valkey:// (no TLS to use it on) misleads as with redis://.
    let config = RedisConfig {
        allow_plaintext: true,
        ca_file: Some(common::server_env("SSPR_TEST_CA").into()),
        ..RedisConfig::new(format!("valkey://{addr}/0"))
    };
    assert!(RedisStore::from_config(&config).await.is_err(), "ca_file with valkey:// was accepted");
    reader.abort();
}

/// A redis-server of a test's own (its configuration is the test's to change), stopped on drop.
struct OwnRedis {
    port: String,
    _stop: common::StopOnDrop,
    _dir: tempfile::TempDir,
}

impl OwnRedis {
    fn start(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join(name).to_str().unwrap().to_owned();
        let port = common::free_port().to_string();
        common::script("redis.sh", &["start", &data, &port]);
        Self { port, _stop: common::StopOnDrop { script: "redis.sh", dir: data }, _dir: dir }
    }

    /// `redis-cli ARGS` against it, as the server's administrator; its output.
    fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("redis-cli").args(["-p", &self.port]).args(args).output().unwrap();
        assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A Redis shared with a cache (the README's `key_prefix` is for sharing one Redis), run as
/// caches are, with `maxmemory` and an evicting `maxmemory-policy`: whoever fills the memory
/// (the other application, or an attacker starting flows) has Redis evict sspr's keys too, a
/// user's 24 h block and attempt counts among them, and the guessing starts again. On main the
/// store connected and the live block was gone after the fill (watched failing: `a live block
/// was evicted`). It must refuse such a server, or keep what it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_evicts_keys_under_memory_pressure_is_refused() {
    use sspr_core::StateStore;
    let server = OwnRedis::start("redis-evicting");
    let (port, cli) = (&server.port, |args: &[&str]| server.cli(args));
    cli(&["CONFIG", "SET", "maxmemory", "4mb"]);
    cli(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    let config =
        RedisConfig { key_prefix: "sspr-app:".into(), ..RedisConfig::new(format!("redis://127.0.0.1:{port}/")) };
    let store = match RedisStore::from_config(&config).await {
        Err(refused) => {
            assert_eq!(refused.kind(), sspr_core::BackendErrorKind::Rejected, "{refused}");
            assert!(refused.to_string().contains("maxmemory-policy"), "{refused}");
            // Under RESP3 too (CONFIG GET answers a map there).
            let resp3 = RedisConfig { url: format!("redis://127.0.0.1:{port}/?protocol=resp3"), ..config.clone() };
            let refused = RedisStore::from_config(&resp3).await.map(|_| ()).unwrap_err();
            assert_eq!(refused.kind(), sspr_core::BackendErrorKind::Rejected, "resp3: {refused}");
            // noeviction (Redis's default) is accepted on the same server.
            cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
            RedisStore::from_config(&config).await.unwrap();
            return;
        }
        Ok(store) => store,
    };
    let now = sspr_core::Clock::now(&SystemClock);
    let block = "sspr/block/00112233445566778899aabbccddeeff";
    let day = now + time::Duration::days(1);
    store.put(block, b"blocked", None, day, now).await.unwrap();
    // The other application fills the memory: about 12 MB into a 4 MB Redis, one command each
    // (Redis evicts before a command, not inside a script).
    let fill: String = (0..40_000).map(|i| format!("SET cache:{i} {}\n", "x".repeat(300))).collect();
    let mut pipe = std::process::Command::new("redis-cli")
        .args(["-p", port.as_str(), "--pipe"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut pipe.stdin.take().unwrap(), fill.as_bytes()).unwrap();
    pipe.wait().unwrap();
    let evicted =
        cli(&["INFO", "stats"]).lines().find(|l| l.starts_with("evicted_keys")).unwrap_or("").trim().to_owned();
    assert!(store.get(block, now).await.unwrap().is_some(), "a live block was evicted ({evicted})");
}

/// R.10's residual: a server that does not answer `CONFIG GET` (a managed Redis renames it; an
/// ACL user without `+config|get`, as a shared server's per-application user often is) was
/// logged at warn and trusted, so the evicting Redis of the test above was accepted as soon as
/// the account could not read its configuration (watched on main: `from_config` answered `Ok`).
/// `INFO memory` says the policy too, and is what such accounts keep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicting_redis_is_refused_when_the_account_may_not_read_its_configuration() {
    let server = OwnRedis::start("redis-no-config");
    let (port, cli) = (&server.port, |args: &[&str]| server.cli(args));
    cli(&["CONFIG", "SET", "maxmemory", "64mb"]);
    cli(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"]);
    cli(&["ACL", "SETUSER", "portal", "on", ">portal-secret", "~*", "+@all", "-config"]);
    let config = RedisConfig::new(format!("redis://portal:portal-secret@127.0.0.1:{port}/"));
    match RedisStore::from_config(&config).await {
        Ok(_) => panic!("an evicting Redis was accepted for an account that may not run CONFIG GET"),
        Err(refused) => {
            assert_eq!(refused.kind(), sspr_core::BackendErrorKind::Rejected, "{refused}");
            assert!(refused.to_string().contains("volatile-lru"), "{refused}");
            assert!(!refused.to_string().contains("portal-secret"), "{refused}");
        }
    }
    // The same account on a server that does not evict is accepted.
    cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    RedisStore::from_config(&config).await.unwrap();
}

/// Liveness is the engine's clock's to decide, and Redis's TTL only reclaims memory
/// `expiry_grace_secs` (60 s) after an entry died, says the README. The TTL was an absolute
/// `EXPIREAT`, read by Redis's clock: on a server whose clock runs ahead of the engine's by more
/// than the grace (here the engine is two hours behind), Redis deleted a live block, flow or
/// count before its time (watched failing on main: the record and the counter were gone at once).
#[tokio::test]
async fn a_redis_whose_clock_runs_ahead_keeps_what_the_engine_holds_live() {
    use sspr_core::StateStore;
    let store = store().await;
    let behind = sspr_core::Clock::now(&SystemClock) - time::Duration::hours(2);
    let expires_at = behind + time::Duration::hours(1);
    let key = "sspr/block/ffeeddccbbaa99887766554433221100";
    store.put(key, b"blocked", None, expires_at, behind).await.unwrap();
    let counter = "sspr/sends/ffeeddccbbaa99887766554433221100";
    store.increment(counter, expires_at, behind).await.unwrap();
    let second = store.increment(counter, expires_at, behind).await.unwrap();
    let held = store.get(key, behind).await.unwrap();
    assert!(
        held.is_some() && second.count == 2,
        "a live record {held:?} / counter {second:?} was deleted by Redis's clock"
    );
}

#[tokio::test]
async fn over_tls_a_server_certificate_not_signed_by_a_trusted_ca_is_refused() {
    // The system's roots do not include the test CA: the handshake fails, nothing is sent.
    let config =
        RedisConfig { connect_timeout_ms: 3000, ..RedisConfig::new(common::server_env("SSPR_TEST_REDIS_TLS_URL")) };
    assert!(RedisStore::from_config(&config).await.is_err(), "an untrusted certificate was accepted");
}

/// A Redis that asks every TLS client for a certificate (`tls-auth-clients yes`, Redis's own
/// default with TLS): before, the store could not present one, so such a server could not be
/// used at all (or only with client authentication turned off on it).
#[tokio::test]
async fn over_tls_a_server_that_asks_for_a_client_certificate_takes_the_configured_one() {
    let ca = std::path::PathBuf::from(common::server_env("SSPR_TEST_CA"));
    let pki = ca.parent().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("redis-mtls");
    let data = data.to_str().unwrap().to_owned();
    let (port, tls_port) = (common::free_port().to_string(), common::free_port().to_string());
    common::script("redis.sh", &["start", &data, &port, &tls_port, pki.to_str().unwrap(), "yes"]);
    let _stop = common::StopOnDrop { script: "redis.sh", dir: data.clone() };
    let config = RedisConfig {
        key_prefix: format!("{}:", common::unique("mtls")),
        ca_file: Some(ca),
        connect_timeout_ms: 3000,
        ..RedisConfig::new(format!("rediss://127.0.0.1:{tls_port}/"))
    };
    let without = RedisStore::from_config(&config).await;
    assert!(without.is_err(), "the server took a client without a certificate");
    let with = RedisConfig {
        client_cert_file: Some(pki.join("client.pem")),
        client_key_file: Some(pki.join("client.key")),
        ..config.clone()
    };
    let store = RedisStore::from_config(&with).await.unwrap();
    testing::state_store_conformance(&store, &SystemClock, tokio::time::sleep).await;

    // A key file that cannot be read is named, never quoted.
    let missing = RedisConfig { client_key_file: Some(dir.path().join("absent.key")), ..with };
    let err = RedisStore::from_config(&missing).await.unwrap_err().to_string();
    assert!(err.contains("client_key_file") && err.contains("absent.key"), "{err}");
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

/// An engine on Redis under a key prefix of its own (named after `label`), Alice enrolled and
/// her flow verified: what a reader of that prefix then finds is this flow's.
async fn verified_flow_under_a_prefix_of_its_own(label: &str) -> (String, sspr_core::Sspr, String) {
    let prefix = format!("{}:", common::unique(label));
    let config = RedisConfig { key_prefix: prefix.clone(), ..RedisConfig::new(url()) };
    let (directory, outbox) = (common::directory(), Outbox::new());
    let store = Arc::new(RedisStore::from_config(&config).await.unwrap());
    let sspr = common::engine(&directory, &outbox, store, Arc::new(MemoryContactStore::new()), common::policy());
    common::enroll(&sspr).await;
    let (flow, pin) = common::pin(&sspr, &outbox).await;
    sspr.verify_pin(&flow, sspr_core::Pin::new(&pin), &common::ctx()).await.unwrap();
    (prefix, sspr, flow)
}

/// A reader of the shared Redis (a replica, a backup, an operator's client) lists the keys,
/// takes the flow id out of a verified flow's key and completes the reset with it: the flow id
/// is a bearer credential (the framework routers keep it in a cookie). On main the flow record
/// lived under `sspr/flow/{<flow id>}` and the reader got the victim's temporary password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_of_redis_cannot_take_a_verified_flows_id_from_the_keys() {
    let (prefix, sspr, flow) = verified_flow_under_a_prefix_of_its_own("reader").await;

    let client = ::redis::Client::open(url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = ::redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    assert!(keys.iter().any(|k| k.contains("sspr/flow/")), "the flow is in Redis: {keys:?}");
    for key in &keys {
        assert!(!key.contains(&flow), "the flow id is in the Redis key {key}");
        for part in key.split(['/', '{', '}', ':']).filter(|part| part.len() == 32) {
            let taken = sspr.complete_reset(part, sspr_core::NewPassword::Temporary, &common::ctx()).await;
            assert!(taken.is_err(), "a reader of Redis completed the victim's reset with {part} from {key}");
        }
    }
    let outcome = sspr.complete_reset(&flow, sspr_core::NewPassword::Temporary, &common::ctx()).await.unwrap();
    assert!(outcome.temporary_password.is_some());
}

/// A reader of the shared Redis (a replica, a backup, `MONITOR`, an operator's client) reads
/// every key and every field: on main the flow records' values were plain, naming the account
/// being reset (its DN and login) and its private address, and telling a decoy flow (for a login
/// that may not reset, and why) from a real one. Now no field holds a login, a DN or an
/// address, and a real flow's value and a decoy's are of one length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_of_redis_finds_no_login_dn_or_address_in_the_flow_records() {
    let (prefix, sspr, flow) = verified_flow_under_a_prefix_of_its_own("values").await;
    let unknown = "nobody.at.all@example.org";
    let decoy = sspr.begin_reset(unknown, &common::ctx()).await.unwrap();
    sspr.send_pin(&decoy.flow_id, &decoy.methods[0].id, None, &common::ctx()).await.unwrap();

    let client = ::redis::Client::open(url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = ::redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    let mut flow_lengths = std::collections::BTreeSet::new();
    for key in &keys {
        let fields: Vec<(String, Vec<u8>)> = ::redis::cmd("HGETALL").arg(key).query_async(&mut conn).await.unwrap();
        for (field, value) in &fields {
            let text = String::from_utf8_lossy(value).to_lowercase();
            for secret in [common::USER, common::MAIL, unknown, "uid=alice,ou=staff,dc=example,dc=org"] {
                assert!(!text.contains(secret), "{secret} is in the field {field} of {key}");
            }
            if key.contains("sspr/flow/") && field == "v" {
                flow_lengths.insert(value.len());
            }
        }
    }
    assert_eq!(keys.iter().filter(|k| k.contains("sspr/flow/")).count(), 2, "both flows are in Redis: {keys:?}");
    assert_eq!(flow_lengths.len(), 1, "a real flow and a decoy are told apart by length: {flow_lengths:?}");
    let outcome = sspr.complete_reset(&flow, sspr_core::NewPassword::Temporary, &common::ctx()).await.unwrap();
    assert!(outcome.temporary_password.is_some());
}

/// Two engines, each with its own connection, on one Redis under keys of their own.
async fn two_engines(tag: &str) -> (sspr_core::Sspr, sspr_core::Sspr, sspr_core::memory::MemoryDirectory, Outbox) {
    let config = RedisConfig { key_prefix: format!("{}:", common::unique(tag)), ..RedisConfig::new(url()) };
    let (directory, outbox, contacts) = (common::directory(), Outbox::new(), Arc::new(MemoryContactStore::new()));
    let store = || async { Arc::new(RedisStore::from_config(&config).await.unwrap()) };
    let a = common::engine(&directory, &outbox, store().await, contacts.clone(), common::policy());
    let b = common::engine(&directory, &outbox, store().await, contacts, common::policy());
    (a, b, directory, outbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_sharing_redis_complete_a_flow_once() {
    let (a, b, directory, outbox) = two_engines("complete").await;
    common::enroll(&a).await;
    common::race_complete(&a, &b, &directory, &outbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_pin_burst_over_flows_addresses_and_two_engines_sharing_redis_compares_no_more_than_the_policy_allows()
{
    let (a, b, _directory, outbox) = two_engines("burst").await;
    common::enroll(&a).await;
    common::wrong_pin_burst(&a, &b, &outbox, &common::policy()).await;
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

// Redis Cluster: the three masters of scripts/servers/45-redis-cluster.sh. The tests are in
// this module so that the Redis tier counts them.

fn cluster_config(prefix: &str) -> RedisConfig {
    RedisConfig {
        key_prefix: format!("{}:", common::unique(prefix)),
        cluster: true,
        ..RedisConfig::new(common::server_env("SSPR_TEST_REDIS_CLUSTER_URL"))
    }
}

/// Three free ports below 55536 whose cluster bus ports (+10000) are free too.
fn cluster_ports() -> Vec<String> {
    let mut ports = Vec::new();
    while ports.len() < 3 {
        let port = common::free_port();
        let bus_free = port <= 55535 && std::net::TcpListener::bind(("127.0.0.1", port + 10000)).is_ok();
        if bus_free && !ports.contains(&port.to_string()) {
            ports.push(port.to_string());
        }
    }
    ports
}

/// A Redis Cluster whose nodes speak TLS only, with the test CA's certificates, and ask every
/// client for a certificate (`tls-auth-clients yes`, also on the cluster bus). Before, a
/// `ca_file` or client certificate with `cluster = true` was refused: a cluster with a private
/// CA could not be used at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_over_tls_with_a_private_ca_and_client_certificates_passes_the_conformance_suite() {
    let ca = std::path::PathBuf::from(common::server_env("SSPR_TEST_CA"));
    let pki = ca.parent().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cluster-tls");
    let data = data.to_str().unwrap().to_owned();
    let ports = cluster_ports();
    let mut args = vec!["start", data.as_str()];
    args.extend(ports.iter().map(String::as_str));
    args.extend([pki.to_str().unwrap(), "yes"]);
    common::script("redis-cluster.sh", &args);
    let _stop = common::StopOnDrop { script: "redis-cluster.sh", dir: data.clone() };
    let config = RedisConfig {
        key_prefix: format!("{}:", common::unique("cluster-tls")),
        cluster: true,
        ca_file: Some(ca),
        connect_timeout_ms: 3000,
        ..RedisConfig::new(format!("rediss://127.0.0.1:{}/", ports[0]))
    };
    assert!(RedisStore::from_config(&config).await.is_err(), "the cluster took a client without a certificate");
    let with = RedisConfig {
        client_cert_file: Some(pki.join("client.pem")),
        client_key_file: Some(pki.join("client.key")),
        ..config
    };
    let store = RedisStore::from_config(&with).await.unwrap();
    testing::state_store_conformance(&store, &SystemClock, tokio::time::sleep).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_state_store_conformance() {
    let store = RedisStore::from_config(&cluster_config("cluster")).await.unwrap();
    testing::state_store_conformance(&store, &SystemClock, tokio::time::sleep).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_engines_sharing_a_redis_cluster_have_one_winner_among_200_verifies() {
    let config = cluster_config("cluster-race");
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
async fn two_engines_sharing_a_redis_cluster_share_rate_limits() {
    let config = cluster_config("cluster-limits");
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

/// Flows spread over all three masters: each holds some of the run's keys (the hash tag is the
/// flow id or the subject, not a constant).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_spreads_flows_over_its_masters() {
    use sspr_core::StateStore as _;
    let config = cluster_config("cluster-spread");
    let store = RedisStore::from_config(&config).await.unwrap();
    let now = sspr_core::Clock::now(&SystemClock);
    let later = now + std::time::Duration::from_secs(300);
    for i in 0..300 {
        assert_eq!(store.put(&format!("sspr/flow/f{i:04}"), b"x", None, later, now).await.unwrap(), Some(1));
        let counted = store
            .increment_many(&[(&format!("sspr/sends/u{i:04}"), later), (&format!("sspr/ip/a{i:04}"), later)], now)
            .await
            .unwrap();
        assert_eq!(counted.iter().map(|c| c.count).collect::<Vec<_>>(), [1, 1]);
    }
    let ports = common::server_env("SSPR_TEST_REDIS_CLUSTER_PORTS");
    let mut per_master = Vec::new();
    for port in ports.split_whitespace() {
        let client = ::redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let pattern = format!("{}*", config.key_prefix);
        let mut cursor = 0u64;
        let mut keys = 0usize;
        loop {
            let (next, batch): (u64, Vec<String>) = ::redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .unwrap();
            keys += batch.len();
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        per_master.push(keys);
    }
    println!("keys per master: {per_master:?}");
    assert_eq!(per_master.iter().sum::<usize>(), 900, "{per_master:?}");
    // 900 keys over three masters of about 5461 slots each: each gets about 300.
    assert!(per_master.iter().all(|&n| n >= 200), "{per_master:?}");
}

#[tokio::test]
async fn a_key_prefix_with_braces_is_refused() {
    let config = RedisConfig { key_prefix: "app{1}:".into(), ..RedisConfig::new(url()) };
    let err = RedisStore::from_config(&config).await.unwrap_err();
    assert_eq!(err.kind(), sspr_core::BackendErrorKind::Rejected, "{err:?}");
}

/// The commands a client sends to Redis during one whole flow (the warm flow before it loads the
/// scripts), read from MONITOR on a private server: the engine's counting wrapper sees store
/// calls, this sees the wire, so a store call that grows into several commands shows here.
/// Commands Lua scripts run are listed by MONITOR as `[0 lua]` and counted apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_flow_sends_one_command_per_store_call() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("redis").to_str().unwrap().to_owned();
    let port = common::free_port().to_string();
    common::script("redis.sh", &["start", &data, &port]);
    let _stop = common::StopOnDrop { script: "redis.sh", dir: data.clone() };
    let url = format!("redis://127.0.0.1:{port}/");
    let store = RedisStore::from_config(&RedisConfig::new(url.clone())).await.unwrap();
    let (directory, outbox) = (common::directory(), Outbox::new());
    let sspr =
        common::engine(&directory, &outbox, Arc::new(store), Arc::new(MemoryContactStore::new()), common::policy());
    common::enroll(&sspr).await;
    common::whole_flow(&sspr, &outbox).await;

    let mut monitor = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    monitor.write_all(b"MONITOR\r\n").unwrap();
    let mut lines = BufReader::new(monitor.try_clone().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "+OK");
    let watcher = std::thread::spawn(move || {
        let (mut sent, mut inside) = (Vec::new(), 0usize);
        for line in lines {
            let line = line.unwrap();
            if line.contains("\"sspr-test-end\"") {
                break;
            }
            if line.contains(" lua] ") {
                inside += 1;
            } else {
                sent.push(line);
            }
        }
        (sent, inside)
    });
    common::whole_flow(&sspr, &outbox).await;
    let mut end = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    end.write_all(b"ECHO sspr-test-end\r\n").unwrap();
    let (sent, inside) = watcher.join().unwrap();
    println!("one flow: {} commands sent, {inside} run inside scripts", sent.len());
    for line in &sent {
        let command = line.split(']').nth(1).unwrap_or(line).split_whitespace().next().unwrap_or("");
        // A script (apply, put, increments), or a plain get (HMGET) or delete (DEL).
        assert!(
            matches!(command, "\"EVALSHA\"" | "\"EVAL\"" | "\"HMGET\"" | "\"DEL\""),
            "a command no store call sends alone: {line}"
        );
    }
    // The engine's per-flow store calls (its counting test holds the same number): each one
    // command on the wire.
    assert!(sent.len() <= ROUND_TRIPS_PER_FLOW, "{} commands sent for one flow: {sent:#?}", sent.len());
}

/// begin_reset + send_pin + verify_pin + complete_reset, as the engine counts its store calls.
const ROUND_TRIPS_PER_FLOW: usize = 9;

/// Every key under `prefix` on the servers at `ports`, with its TTL (`None`: no expiry).
async fn keys_and_ttls(ports: &[String], prefix: &str) -> Vec<(String, Option<i64>)> {
    let mut all = Vec::new();
    for port in ports {
        let client = ::redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) = ::redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .unwrap();
            for key in batch {
                let ttl: i64 = ::redis::cmd("TTL").arg(&key).query_async(&mut conn).await.unwrap();
                all.push((key, (ttl != -1).then_some(ttl)));
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
    }
    all
}

/// The attacks of `races` under a prefix of their own on `config`'s server(s), then the TTL
/// of every key they left.
async fn racing_attacks(config: RedisConfig, ports: Vec<String>) {
    let root = config.key_prefix.clone();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let pair = |policy| {
        let config = RedisConfig {
            key_prefix: format!("{root}{}:", next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
            ..config.clone()
        };
        async move {
            let contacts = Arc::new(MemoryContactStore::new());
            let a = Arc::new(RedisStore::from_config(&config).await.unwrap());
            let b = Arc::new(RedisStore::from_config(&config).await.unwrap());
            crate::races::Pair::new(policy, (a, contacts.clone()), (b, contacts))
        }
    };
    crate::races::all(pair, || keys_and_ttls(&ports, &root)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_attacks_on_two_engines_sharing_redis_hold_exactly() {
    let config = RedisConfig { key_prefix: format!("{}:", common::unique("attack")), ..RedisConfig::new(url()) };
    let port = url().rsplit(':').next().unwrap().trim_end_matches('/').to_owned();
    racing_attacks(config, vec![port]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_attacks_on_two_engines_sharing_a_redis_cluster_hold_exactly() {
    let ports = common::server_env("SSPR_TEST_REDIS_CLUSTER_PORTS").split_whitespace().map(str::to_owned).collect();
    racing_attacks(cluster_config("cluster-attack"), ports).await;
}

/// Redis drops the reply to each store call of a whole reset in turn (see
/// `races::dropped_replies`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_dropped_after_each_store_call_leaves_nothing_half_done() {
    let port = url().rsplit(':').next().unwrap().trim_end_matches('/').to_owned();
    let proxy = crate::reply_drop::ReplyDrop::start(format!("127.0.0.1:{port}")).await;
    let root = format!("{}:", common::unique("dropped"));
    let pair = |tag: String| {
        let config = RedisConfig {
            key_prefix: format!("{root}{tag}:"),
            response_timeout_ms: 2000,
            ..RedisConfig::new(format!("redis://127.0.0.1:{}/", proxy.port))
        };
        async move {
            let contacts = Arc::new(MemoryContactStore::new());
            let a = Arc::new(RedisStore::from_config(&config).await.unwrap());
            let b = Arc::new(RedisStore::from_config(&config).await.unwrap());
            crate::races::Pair::new(crate::races::policy(), (a, contacts.clone()), (b, contacts))
        }
    };
    let entries = |tag: String| {
        let (port, prefix) = (port.clone(), format!("{root}{tag}:"));
        async move { keys_and_ttls(&[port], &prefix).await }
    };
    crate::races::dropped_replies(&proxy, pair, entries).await;
}

/// A rolling key rotation over one Redis: the engine's ring reads the previous key's store keys
/// in the same scripts, so pending resets and blocks cross the rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_keeps_pending_resets_and_blocks_in_redis() {
    let store = Arc::new(store().await);
    let (directory, outbox) = (common::directory(), Outbox::new());
    common::rotation_keeps_pending_resets_and_blocks(store, Arc::new(MemoryContactStore::new()), &outbox, &directory)
        .await;
}
