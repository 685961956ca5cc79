//! One whole reset flow against the cryptographic work it cannot avoid, side by side.
//!
//! `cargo bench -p sspr-benches --bench flow`
//!
//! Group `reset`:
//! - `crypto_floor`: a CSPRNG flow id, an 8-digit PIN, its HMAC, the constant-time check,
//!   a 16-character temporary password, and the engine's two per-flow rate-limit subject
//!   HMACs (through public stand-ins: see `sspr_benches::crypto_floor`).
//! - `full_flow`: `begin_reset -> send_pin -> verify_pin -> complete_reset(Temporary)`
//!   through [`Sspr`] on the in-memory backends.
//!
//! Group `steps` runs the same whole flows but times one step each, to show where the time
//! of `full_flow` goes.
//!
//! The same flow with the engine's metrics and spans off and on is the `telemetry` benchmark
//! (`benches/telemetry.rs`).
//!
//! The target: `full_flow` costs at most 3x `crypto_floor`.

// Benchmark code, not library code: a failed setup or a failing step must stop the run
// loudly (a benchmark that silently measured an error path would report nonsense), and
// criterion's harness leaves no `Result` to return.
#![allow(clippy::expect_used)]

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use sspr_benches::{RNG_SEED, clock, crypto_floor, email, enroll, login, runtime, secret_key, seeded_engine};
use sspr_core::memory::{MemoryStateStore, Outbox};
use sspr_core::{ManualClock, NewPassword, RequestContext, Sspr, password};

/// Users the flows take turns on. With the clock moving one second per flow, each user
/// starts 3600 / 64 = 56 flows an hour: under the relaxed per-user and per-destination caps
/// of 100, so no flow is refused, and each flow record lives its 15 minutes in the store as
/// in a real deployment (about 960 live records at any time).
const USERS: usize = 64;

/// Notices kept in the outbox before it is emptied (it keeps every notice otherwise).
const OUTBOX_CLEAR_EVERY: usize = 256;

/// The engine and what the benchmark needs to drive it.
struct Bench {
    sspr: Sspr,
    outbox: Outbox,
    clock: ManualClock,
    logins: Vec<String>,
    emails: Vec<String>,
    ctx: RequestContext,
    /// Flows run so far (picks the user, paces the clock and the outbox clearing).
    count: Cell<usize>,
}

/// Which step a `steps` benchmark times.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Begin,
    Send,
    Verify,
    Complete,
}

/// The wall clock, for timing one step inside a whole flow (benchmark timing is what the
/// workspace's ban on reading the clock in logic leaves out).
#[allow(clippy::disallowed_methods)]
fn stopwatch() -> Instant {
    Instant::now()
}

impl Bench {
    /// On an engine seeded with `seed`, or from the operating system (`None`).
    fn new(rt: &tokio::runtime::Runtime, seed: Option<[u8; 32]>) -> Self {
        let outbox = Outbox::new();
        let clock = clock().expect("clock");
        // Built inside the runtime: the engine takes it as its spawner, as a server's would.
        let sspr = {
            let _runtime = rt.enter();
            seeded_engine(USERS, Arc::new(outbox.clone()), MemoryStateStore::new(), clock.clone(), None, seed)
                .expect("engine")
        };
        rt.block_on(enroll(&sspr, USERS)).expect("enroll");
        Self {
            sspr,
            outbox,
            clock,
            logins: (0..USERS).map(login).collect(),
            emails: (0..USERS).map(email).collect(),
            // No client IP: the per-IP counters stay out of the picture.
            ctx: RequestContext::default(),
            count: Cell::new(0),
        }
    }

    /// One whole reset flow; returns the time spent in `timed` (zero when `None`).
    async fn flow(&self, timed: Option<Step>) -> Duration {
        let n = self.count.get();
        self.count.set(n.wrapping_add(1));
        let user = n % USERS;
        let login = self.logins.get(user).expect("user < USERS");
        let address = self.emails.get(user).expect("user < USERS");
        self.clock.advance(Duration::from_secs(1));
        if n.is_multiple_of(OUTBOX_CLEAR_EVERY) {
            self.outbox.clear();
        }
        let mut spent = Duration::ZERO;
        let mut time = |step: Step, started: Instant| {
            if timed == Some(step) {
                spent += started.elapsed();
            }
        };

        let t = stopwatch();
        let challenge = self.sspr.begin_reset(login, &self.ctx).await.expect("begin_reset");
        time(Step::Begin, t);

        let t = stopwatch();
        self.sspr.send_pin(&challenge.flow_id, "email", None, &self.ctx).await.expect("send_pin");
        time(Step::Send, t);

        let pin = self.outbox.last_pin_to(address).expect("a PIN in the outbox");

        let t = stopwatch();
        self.sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &self.ctx).await.expect("verify_pin");
        time(Step::Verify, t);

        let t = stopwatch();
        let outcome =
            self.sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &self.ctx).await.expect("complete");
        time(Step::Complete, t);

        assert!(outcome.must_change && outcome.temporary_password.is_some());
        black_box(outcome);
        spent
    }
}

fn benches(c: &mut Criterion) {
    let rt = runtime().expect("tokio runtime");
    let bench = Bench::new(&rt, Some(RNG_SEED));

    let mut group = c.benchmark_group("reset");
    group.measurement_time(Duration::from_secs(5)).sample_size(30);

    let key = secret_key().expect("key");
    let mut rng = ChaCha20Rng::from_seed(RNG_SEED);
    let tokens = password::identity_tokens(&login(0), "Bench User 0");
    let (flow_id, user_id, address) =
        ("0123456789abcdef0123456789abcdef", "uid=user0,ou=staff,dc=corp,dc=example", email(0));
    group.bench_function("crypto_floor", |b| {
        b.iter(|| assert!(crypto_floor(&mut rng, &key, flow_id, user_id, &address, &tokens)));
    });

    group.bench_function("full_flow", |b| {
        let bench = &bench;
        b.to_async(&rt).iter(|| async move { bench.flow(None).await });
    });
    group.finish();

    let mut steps = c.benchmark_group("steps");
    steps.measurement_time(Duration::from_secs(3)).sample_size(20);
    for (name, step) in [
        ("begin_reset", Step::Begin),
        ("send_pin", Step::Send),
        ("verify_pin", Step::Verify),
        ("complete_reset", Step::Complete),
    ] {
        steps.bench_function(name, |b| {
            let bench = &bench;
            b.to_async(&rt).iter_custom(|iters| async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += bench.flow(Some(step)).await;
                }
                total
            });
        });
    }
    steps.finish();

    // A production engine is seeded from the operating system, and that generator reseeds
    // every draw (`getrandom` + SHA-256: two restores of one snapshot must not draw alike),
    // which the fixed seed above skips. The same flow on both, side by side.
    let os_seeded = Bench::new(&rt, None);
    let mut seeds = c.benchmark_group("seed");
    seeds.measurement_time(Duration::from_secs(5)).sample_size(30);
    for (name, bench) in [("fixed_seed", &bench), ("os_seeded", &os_seeded)] {
        seeds.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async move { bench.flow(None).await });
        });
    }
    // Every flow call stores its flow under SHA-256(domain ‖ flow id) (the store never holds
    // the id): a flow's four calls, four such hashes and keys, for their share of the flow.
    seeds.bench_function("flow_key_hashes", |b| {
        b.iter(|| {
            for _ in 0..4 {
                black_box(flow_key(black_box(flow_id)));
            }
        });
    });
    seeds.finish();
}

/// The store key of `flow_id` as sspr-core's `limits::flow` makes it (crate-private there):
/// SHA-256 of its domain label and the id, the first 16 bytes in hex after the prefix.
fn flow_key(flow_id: &str) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let digest = sha2::Sha256::new_with_prefix(b"sspr/v1/flow-store-key\0").chain_update(flow_id.as_bytes()).finalize();
    let mut key = String::with_capacity("sspr/flow/".len() + 32);
    key.push_str("sspr/flow/");
    for byte in digest.iter().take(16) {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// The generated group function is `pub` and undocumented: keep it in a module of its own.
mod harness {
    #![allow(missing_docs, unreachable_pub)]
    criterion::criterion_group!(flow, super::benches);
}

criterion_main!(harness::flow);
