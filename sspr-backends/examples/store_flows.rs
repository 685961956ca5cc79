//! Whole reset flows per second through each state store, side by side in one run:
//! memory (the baseline), SQLite (a file), Redis and PostgreSQL (the servers of
//! `scripts/servers/`, from `SSPR_TEST_REDIS_URL` and `SSPR_TEST_POSTGRES_URL`).
//!
//! ```sh
//! source scripts/lib.sh; source scripts/servers/40-redis.sh; source scripts/servers/50-postgres.sh
//! cargo run --release -p sspr-backends --all-features --example store_flows -- [FLOWS]
//! ```
//!
//! Each flow is `begin_reset -> send_pin -> verify_pin -> complete_reset` on 64 enrolled users
//! of an in-memory directory; the contact store is the same database as the state store where
//! it can be (SQLite, PostgreSQL), memory otherwise. Runs sequentially, then with 16 flows in
//! flight on a 2-thread runtime. Prints flows/s and the ratio to memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods, // a benchmark measures wall-clock time
    missing_docs
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sspr_backends::postgres::PostgresStore;
use sspr_backends::redis::{RedisConfig, RedisStore};
use sspr_backends::sqlite::SqliteStore;
use sspr_core::memory::{MemoryContactStore, MemoryDirectory, MemoryStateStore, MemoryUser};
use sspr_core::notice::Notification;
use sspr_core::{
    Actor, BackendError, ContactChange, ContactStore, ContactUpdate, NewPassword, Notifier, Policy, RequestContext,
    SecretKey, Sspr, StateStore,
};

const USERS: usize = 64;

/// Keeps the last PIN sent to each address.
#[derive(Debug, Default, Clone)]
struct Pins(Arc<Mutex<HashMap<String, String>>>);

#[sspr_core::async_trait]
impl Notifier for Pins {
    async fn send(&self, n: &Notification) -> Result<(), BackendError> {
        if let Some(pin) = n.pin() {
            self.0.lock().unwrap().insert(n.to.as_str().to_owned(), pin.expose_secret().to_owned());
        }
        Ok(())
    }
}

fn login(i: usize) -> String {
    format!("user{i}@corp.example")
}
fn email(i: usize) -> String {
    format!("user{i}@home.example")
}

async fn engine(store: Arc<dyn StateStore>, contacts: Arc<dyn ContactStore>, pins: Pins) -> Sspr {
    let users = (0..USERS).map(|i| MemoryUser {
        mail: None,
        login: login(i),
        display_name: format!("Bench User {i}"),
        dn: format!("uid=user{i},ou=staff,dc=corp,dc=example"),
        groups: Vec::new(),
        state: Default::default(),
        password: None,
    });
    let policy = Policy {
        user_sends_per_hour: 100,
        destination_sends_per_hour: 100,
        ip_begins_per_hour: 100_000,
        ip_sends_per_hour: 100_000,
        // Padding only waits: it would measure the timer, not the store.
        min_response_ms: 0,
        ..Policy::default()
    };
    let sspr = Sspr::builder()
        .directory(MemoryDirectory::with_users(users).unwrap())
        .notifier(pins)
        .store_arc(store)
        .contacts_arc(contacts)
        .policy(policy)
        .secret_key(SecretKey::from_bytes(&[42; 32]).unwrap())
        .build()
        .unwrap();
    let admin = Actor::Admin("bench".into());
    let ctx = RequestContext::default();
    for i in 0..USERS {
        sspr.set_enabled(&admin, &login(i), true, &ctx).await.unwrap();
        let update = ContactUpdate { email: ContactChange::Set(email(i)), ..ContactUpdate::default() };
        sspr.update_contacts(&admin, &login(i), update, &ctx).await.unwrap();
    }
    sspr
}

async fn flow(sspr: &Sspr, pins: &Pins, user: usize) {
    let ctx = RequestContext::default();
    let challenge = sspr.begin_reset(&login(user), &ctx).await.unwrap();
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    let pin = pins.0.lock().unwrap().get(&email(user)).cloned().unwrap();
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
    sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await.unwrap();
}

/// Flows per second: `flows` flows, `in_flight` at a time (user `k` of lane `l` is `l + in_flight * k`).
async fn measure(sspr: &Sspr, pins: &Pins, flows: usize, in_flight: usize) -> f64 {
    let start = Instant::now();
    let lanes: Vec<_> = (0..in_flight)
        .map(|lane| {
            let (sspr, pins) = (sspr.clone(), pins.clone());
            tokio::spawn(async move {
                for k in 0..flows / in_flight {
                    flow(&sspr, &pins, (lane + in_flight * k) % USERS).await;
                }
            })
        })
        .collect();
    for lane in lanes {
        lane.await.unwrap();
    }
    (flows / in_flight * in_flight) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let flows: usize = std::env::args().nth(1).map_or(1024, |n| n.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let run = format!("bench-{}", std::process::id());

    // With SSPR_TEST_REDIS_CLUSTER_URL (scripts/servers/45-redis-cluster.sh) the cluster too.
    let cluster_url = std::env::var("SSPR_TEST_REDIS_CLUSTER_URL").ok();
    let mut names = vec!["memory", "sqlite", "redis", "postgres"];
    if cluster_url.is_some() {
        names.push("redis-cluster");
    }
    // SSPR_BENCH_STORES=postgres,redis runs only those (memory, the baseline, always runs).
    if let Ok(only) = std::env::var("SSPR_BENCH_STORES") {
        names.retain(|name| *name == "memory" || only.split(',').any(|o| o.trim() == *name));
    }
    let redis_url = std::env::var("SSPR_TEST_REDIS_URL").ok();
    let pg_bench_url = match std::env::var("SSPR_TEST_POSTGRES_URL") {
        Ok(pg_url) if names.contains(&"postgres") => {
            let (admin, conn) = tokio_postgres::connect(&pg_url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let db = run.replace('-', "_");
            admin.batch_execute(&format!("CREATE DATABASE {db}")).await.unwrap();
            format!("{}/{db}", pg_url.rsplit_once('/').unwrap().0)
        }
        _ => String::new(),
    };
    let mut rows = Vec::new();
    for name in names {
        let (store, contacts): (Arc<dyn StateStore>, Arc<dyn ContactStore>) = match name {
            "memory" => (Arc::new(MemoryStateStore::new()), Arc::new(MemoryContactStore::new())),
            "sqlite" => {
                let s = Arc::new(SqliteStore::open(dir.path().join("bench.db")).unwrap());
                (s.clone(), s)
            }
            "redis" => {
                let url = redis_url.clone().expect("SSPR_TEST_REDIS_URL (source scripts/servers/40-redis.sh)");
                let config = RedisConfig { key_prefix: format!("{run}:"), ..RedisConfig::new(url) };
                (Arc::new(RedisStore::from_config(&config).await.unwrap()), Arc::new(MemoryContactStore::new()))
            }
            "redis-cluster" => {
                let config = RedisConfig {
                    key_prefix: format!("{run}:"),
                    cluster: true,
                    ..RedisConfig::new(cluster_url.clone().unwrap())
                };
                (Arc::new(RedisStore::from_config(&config).await.unwrap()), Arc::new(MemoryContactStore::new()))
            }
            _ => {
                assert!(!pg_bench_url.is_empty(), "SSPR_TEST_POSTGRES_URL (source scripts/servers/50-postgres.sh)");
                let s = Arc::new(PostgresStore::connect(&pg_bench_url).await.unwrap());
                (s.clone(), s)
            }
        };
        let pins = Pins::default();
        let sspr = engine(store, contacts, pins.clone()).await;
        measure(&sspr, &pins, 64, 1).await; // warm-up
        let sequential = measure(&sspr, &pins, flows / 4, 1).await;
        let concurrent = measure(&sspr, &pins, flows, 16).await;
        rows.push((name, sequential, concurrent));
    }
    let (base_seq, base_conc) = (rows[0].1, rows[0].2);
    println!("| store | flows/s sequential | vs memory | flows/s, 16 in flight | vs memory |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, seq, conc) in rows {
        println!("| {name} | {seq:.0} | {:.2}x | {conc:.0} | {:.2}x |", seq / base_seq, conc / base_conc);
    }
    if let Ok(ports) = std::env::var("SSPR_TEST_REDIS_CLUSTER_PORTS") {
        // How the run's keys spread over the masters (keys still live after the run).
        let mut per_master = Vec::new();
        for port in ports.split_whitespace() {
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let (mut cursor, mut keys) = (0u64, 0usize);
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{run}:*"))
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
        let (max, min) = (per_master.iter().max().unwrap(), per_master.iter().min().unwrap());
        println!("redis-cluster keys per master: {per_master:?} (max/min {:.2})", *max as f64 / *min as f64);
    }
}
