//! What the engine's metrics and spans cost a whole reset flow, off against on, side by side.
//!
//! `cargo bench -p sspr-benches --bench telemetry -- [rounds] [flows] [sqlite_flows]`
//! (default 7 rounds of 2,000 in-memory flows and 200 SQLite flows per variant).
//! `... -- --only VARIANT FLOWS [sqlite]` runs one variant alone: under
//! `valgrind --tool=callgrind`, the difference of the instructions of two flow counts divided
//! by the difference of the counts is the variant's instructions per flow, setup left out (a
//! measure of work that, unlike the times, does not move with the machine's load;
//! `scripts/bench/telemetry-instructions.sh` runs them all).
//!
//! The flow is the `flow` benchmark's `full_flow` (`begin_reset -> send_pin -> verify_pin ->
//! complete_reset(Temporary)`, 64 enrolled users, relaxed limits, a manual clock one second
//! further each flow) on the in-memory backends, then on the SQLite store (state and contacts
//! in one WAL file of the temp directory, the store's own thread): a real store, where each
//! store call is a trip to that thread and a write.
//!
//! Each round runs every variant once, one after the other (`flows` flows each), so that a
//! change of the machine's load hits every variant of a round alike; each variant's ratio is
//! taken against `off` of the same round, and the median of the rounds is printed, with the
//! smallest and largest ratio. Allocations per flow are counted too (a global counting
//! allocator): unlike the times they do not move with the load. BENCHMARKS.md section 11 has
//! the figures and says what each variant is (see [`VARIANTS`]).

// Benchmark code: a failed setup or step must stop the run loudly, and its output is the table
// it prints.
#![allow(clippy::expect_used, clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use sspr_benches::{RNG_SEED, clock, email, engine, enroll, login, relaxed_policy, runtime, secret_key, users};
use sspr_core::memory::{MemoryDirectory, MemoryStateStore, Outbox};
use sspr_core::{ManualClock, NewPassword, Pin, RequestContext, Sspr};
use tracing::Level;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// Users the flows take turns on, as in the `flow` benchmark.
const USERS: usize = 64;

/// Allocations and reallocations so far.
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting calls.
struct Counting;

// `GlobalAlloc` is an unsafe trait: a counting allocator cannot be written without `unsafe`.
// Every method forwards to `System` with the caller's arguments unchanged and only adds one to
// an atomic counter, which does not allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The variants, in the order each round runs them:
/// - `off`: no `metrics` recorder and no `tracing` subscriber (every span disabled);
/// - `metrics`: a Prometheus recorder, the process's global one, as the portal's `metrics_listen`
///   installs it (the other variants hide it behind a local no-op recorder);
/// - `registry_info` / `registry_debug`: the spans kept by a bare registry, no exporter: the
///   engine-call and delivery spans (INFO) / with the backend spans (DEBUG);
/// - `otlp_layer_defaults`: the OTLP pipeline as first built (`tracing-opentelemetry`'s
///   defaults: source location, thread, target and busy/idle attributes, an OpenTelemetry
///   context activated on every enter), every span;
/// - `otlp`: the shipped pipeline with the backend spans (`sspr-backends/src/otlp.rs`: the lean layer,
///   every span with the backend spans, every trace);
/// - `otlp_calls_only`: the same with `otlp_backend_spans = false` (INFO), the default now;
/// - `otlp_sampled_10`, `otlp_calls_only_sampled_10`: those two with `otlp_sample_ratio = 0.1`;
/// - `both`: `metrics` and `otlp` together;
/// - `both_calls_only`: `metrics` and `otlp_calls_only` together: the portal, Python and Node
///   with metrics and span export both turned on and left at their defaults.
const VARIANTS: [&str; 11] = [
    "off",
    "metrics",
    "registry_info",
    "registry_debug",
    "otlp_layer_defaults",
    "otlp",
    "otlp_calls_only",
    "otlp_sampled_10",
    "otlp_calls_only_sampled_10",
    "both",
    "both_calls_only",
];

/// An exporter that drops each batch: the OTLP pipeline without the network.
#[derive(Debug)]
struct Discard;

impl opentelemetry_sdk::trace::SpanExporter for Discard {
    async fn export(&self, batch: Vec<opentelemetry_sdk::trace::SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// The span pipeline the portal, Python and Node install (`sspr-backends/src/otlp.rs`: its
/// `Exporter`, its layer and the `ParentBased(TraceIdRatioBased(ratio))` sampler of
/// `Tracing::sampler` when a ratio is given) with [`Discard`] as its exporter: the engine's spans
/// from `level`.
fn otlp(level: Level, ratio: Option<f64>) -> (sspr_backends::otlp::Exporter, impl tracing::Subscriber + Send + Sync) {
    let tracing = sspr_backends::otlp::Tracing {
        sample_ratio: ratio,
        backend_spans: level == Level::DEBUG,
        ..sspr_backends::otlp::Tracing::default()
    };
    let exporter = sspr_backends::otlp::Exporter::with_span_exporter(Discard, tracing).expect("the span pipeline");
    let layer = exporter.layer();
    (exporter, tracing_subscriber::registry().with(layer))
}

/// The pipeline as first built: `tracing-opentelemetry`'s layer with its defaults (source
/// location, thread, target, busy/idle times, an OpenTelemetry context activated on every
/// enter), every span (DEBUG), every trace.
fn otlp_layer_defaults() -> (SdkTracerProvider, impl tracing::Subscriber + Send + Sync) {
    let provider = SdkTracerProvider::builder().with_batch_exporter(Discard).build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("sspr"))
        .with_filter(tracing_subscriber::filter::Targets::new().with_target("sspr_core", Level::DEBUG));
    (provider, tracing_subscriber::registry().with(layer))
}

/// An engine and what running its flows needs.
struct Bench {
    rt: tokio::runtime::Runtime,
    sspr: Sspr,
    outbox: Outbox,
    clock: ManualClock,
    ctx: RequestContext,
    count: usize,
}

impl Bench {
    /// On the in-memory backends (the `flow` benchmark's engine).
    fn memory() -> Self {
        let rt = runtime().expect("runtime");
        let outbox = Outbox::new();
        let clock = clock().expect("clock");
        let sspr = {
            let _runtime = rt.enter();
            engine(USERS, Arc::new(outbox.clone()), MemoryStateStore::new(), clock.clone(), None).expect("engine")
        };
        Self::enrolled(rt, sspr, outbox, clock)
    }

    /// On the SQLite store (state and contacts), in a new file at `path`.
    fn sqlite(path: &std::path::Path) -> Self {
        let rt = runtime().expect("runtime");
        let store = Arc::new(sspr_backends::sqlite::SqliteStore::open(path).expect("the SQLite store opens"));
        let outbox = Outbox::new();
        let clock = clock().expect("clock");
        let sspr = {
            let _runtime = rt.enter();
            Sspr::builder()
                .directory(MemoryDirectory::with_users(users(USERS)).expect("users"))
                .notifier(outbox.clone())
                .store_arc(store.clone())
                .contacts_arc(store)
                .audit(sspr_benches::DropAudit)
                .clock(clock.clone())
                .policy(relaxed_policy())
                .secret_key(secret_key().expect("key"))
                .rng_seed(RNG_SEED)
                .build()
                .expect("engine")
        };
        Self::enrolled(rt, sspr, outbox, clock)
    }

    fn enrolled(rt: tokio::runtime::Runtime, sspr: Sspr, outbox: Outbox, clock: ManualClock) -> Self {
        rt.block_on(enroll(&sspr, USERS)).expect("enroll");
        Self { rt, sspr, outbox, clock, ctx: RequestContext::default(), count: 0 }
    }

    /// `flows` whole flows one after another; their wall time.
    fn run(&mut self, flows: usize) -> Duration {
        let started = Instant::now();
        for _ in 0..flows {
            let n = self.count;
            self.count += 1;
            let (login, address) = (login(n % USERS), email(n % USERS));
            self.clock.advance(Duration::from_secs(1));
            if n.is_multiple_of(256) {
                self.outbox.clear();
            }
            let (sspr, outbox, ctx) = (&self.sspr, &self.outbox, &self.ctx);
            self.rt.block_on(async {
                let challenge = sspr.begin_reset(&login, ctx).await.expect("begin_reset");
                sspr.send_pin(&challenge.flow_id, "email", None, ctx).await.expect("send_pin");
                let pin = outbox.last_pin_to(&address).expect("a PIN in the outbox");
                sspr.verify_pin(&challenge.flow_id, Pin::new(&pin), ctx).await.expect("verify_pin");
                let done =
                    sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, ctx).await.expect("complete");
                assert!(done.must_change && done.temporary_password.is_some());
                black_box(done);
            });
        }
        started.elapsed()
    }
}

/// Install the process's global metrics recorder (a Prometheus one, as the portal's).
fn install_recorder() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    sspr_core::telemetry::set_global_recorder(recorder).expect("the first recorder of the process");
}

/// Run `f` with the no-op recorder in effect on this thread, hiding the global one.
fn without_metrics<T>(f: impl FnOnce() -> T) -> T {
    metrics::with_local_recorder(&metrics::NoopRecorder, f)
}

/// One variant's `flows` flows: (µs per flow, allocations per flow).
///
/// The metrics recorder is the process's global one ([`install_recorder`]), installed as the
/// portal and the bindings install theirs, so the engine keeps each series' handle; every
/// variant but `metrics`, `both` and `both_calls_only` runs with a local no-op recorder in effect instead (what
/// the engine does with no recorder installed: register on the no-op one, which costs nothing).
fn run_variant(bench: &mut Bench, variant: &str, flows: usize) -> (f64, f64) {
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);
    // The span pipeline to shut down after the flows (its last batch dropped by `Discard`).
    let mut shutdown: Option<Box<dyn FnOnce()>> = None;
    let took = match variant {
        "off" => without_metrics(|| bench.run(flows)),
        "metrics" => bench.run(flows),
        "registry_info" | "registry_debug" => {
            let level = if variant == "registry_info" { Level::INFO } else { Level::DEBUG };
            let registry = tracing_subscriber::registry()
                .with(tracing_subscriber::filter::Targets::new().with_target("sspr_core", level));
            tracing::subscriber::with_default(registry, || without_metrics(|| bench.run(flows)))
        }
        "both" | "both_calls_only" => {
            let level = if variant == "both" { Level::DEBUG } else { Level::INFO };
            let (p, subscriber) = otlp(level, None);
            shutdown = Some(Box::new(move || p.shutdown().expect("the span pipeline shuts down")));
            tracing::subscriber::with_default(subscriber, || bench.run(flows))
        }
        "otlp_layer_defaults" => {
            let (p, subscriber) = otlp_layer_defaults();
            shutdown = Some(Box::new(move || p.shutdown().expect("the span pipeline shuts down")));
            tracing::subscriber::with_default(subscriber, || without_metrics(|| bench.run(flows)))
        }
        otlp_variant => {
            let (level, ratio) = match otlp_variant {
                "otlp" => (Level::DEBUG, None),
                "otlp_calls_only" => (Level::INFO, None),
                "otlp_sampled_10" => (Level::DEBUG, Some(0.1)),
                "otlp_calls_only_sampled_10" => (Level::INFO, Some(0.1)),
                other => unreachable!("unknown variant {other}"),
            };
            let (p, subscriber) = otlp(level, ratio);
            shutdown = Some(Box::new(move || p.shutdown().expect("the span pipeline shuts down")));
            tracing::subscriber::with_default(subscriber, || without_metrics(|| bench.run(flows)))
        }
    };
    let allocated = ALLOCATIONS.load(Ordering::Relaxed) - allocations;
    if let Some(shutdown) = shutdown {
        shutdown();
    }
    (took.as_secs_f64() * 1e6 / flows as f64, allocated as f64 / flows as f64)
}

/// Spans one flow opens, per level and name.
fn count_spans(bench: &mut Bench) -> String {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    type Counts = Arc<Mutex<BTreeMap<(Level, &'static str), usize>>>;
    struct Count(Counts);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let key = (*attrs.metadata().level(), attrs.metadata().name());
            *self.0.lock().expect("not poisoned").entry(key).or_default() += 1;
        }
    }
    let counts = Counts::default();
    let subscriber = tracing_subscriber::registry().with(
        Count(counts.clone())
            .with_filter(tracing_subscriber::filter::Targets::new().with_target("sspr_core", Level::DEBUG)),
    );
    tracing::subscriber::with_default(subscriber, || bench.run(1));
    let counts = counts.lock().expect("not poisoned");
    let total: usize = counts.values().sum();
    let info: usize = counts.iter().filter(|((level, _), _)| *level == Level::INFO).map(|(_, n)| n).sum();
    format!("{total} spans a flow, {info} at INFO: {counts:?}")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Run `rounds` rounds of every variant on `bench` and print the table.
fn table(name: &str, bench: &mut Bench, rounds: usize, flows: usize) {
    // Warm-up: every variant once, a tenth of a round.
    for variant in VARIANTS {
        run_variant(bench, variant, flows.div_ceil(10));
    }
    /// One variant's figures, a value per round.
    #[derive(Default, Clone)]
    struct Figures {
        times: Vec<f64>,
        ratios: Vec<f64>,
        allocations: Vec<f64>,
    }
    let mut figures = vec![Figures::default(); VARIANTS.len()];
    for round in 0..rounds {
        let mut off = f64::NAN;
        for (variant, figures) in VARIANTS.iter().zip(figures.iter_mut()) {
            let (us, allocations) = run_variant(bench, variant, flows);
            if *variant == "off" {
                off = us;
            }
            figures.times.push(us);
            figures.ratios.push(us / off);
            figures.allocations.push(allocations);
        }
        eprintln!("{name}: round {} of {rounds} done", round + 1);
    }
    println!(
        "\n{name} flow, {rounds} rounds of {flows} flows per variant (medians; ratio against `off` of the same round)"
    );
    println!("| variant | µs per flow | ratio to off [min, max] | allocations per flow |");
    println!("|---|---:|---:|---:|");
    for (variant, figures) in VARIANTS.iter().zip(figures) {
        let (low, high) = figures.ratios.iter().fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "| {variant} | {:.1} | {:.2}x [{low:.2}, {high:.2}] | {:.1} |",
            median(figures.times),
            median(figures.ratios),
            median(figures.allocations),
        );
    }
    println!("{}", count_spans(bench));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--only VARIANT FLOWS [sqlite]`: that variant alone, for `valgrind --tool=callgrind`.
    if let Some(at) = args.iter().position(|a| a == "--only") {
        let variant = args.get(at + 1).expect("--only VARIANT FLOWS [sqlite]");
        assert!(VARIANTS.contains(&variant.as_str()), "variants: {VARIANTS:?}");
        let flows = args.get(at + 2).and_then(|n| n.parse().ok()).expect("--only VARIANT FLOWS [sqlite]");
        if matches!(variant.as_str(), "metrics" | "both" | "both_calls_only") {
            install_recorder();
        }
        let path = std::env::temp_dir().join(format!("sspr-bench-telemetry-{}.sqlite", std::process::id()));
        let mut bench = if args.iter().any(|a| a == "sqlite") { Bench::sqlite(&path) } else { Bench::memory() };
        let (us, allocations) = run_variant(&mut bench, variant, flows);
        println!("{variant}: {flows} flows, {us:.1} µs and {allocations:.1} allocations per flow");
        drop(bench);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        return;
    }
    // `cargo bench` passes `--bench`; the numbers are the positional arguments.
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let rounds = numbers.first().copied().unwrap_or(7);
    let flows = numbers.get(1).copied().unwrap_or(2_000);
    let sqlite_flows = numbers.get(2).copied().unwrap_or(200);
    install_recorder();

    table("in-memory", &mut Bench::memory(), rounds, flows);

    let path = std::env::temp_dir().join(format!("sspr-bench-telemetry-{}.sqlite", std::process::id()));
    {
        let mut bench = Bench::sqlite(&path);
        table("SQLite", &mut bench, rounds, sqlite_flows);
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
