//! The engine's tracing spans exported over OTLP/HTTP (protobuf): one pipeline for every host
//! (the portal's `otlp_*` settings, `sspr.export_traces` in Python, `exportTraces` in Node
//! through `sspr_bind::traces`).
//!
//! The engine opens a span per call (`sspr.begin_reset`, ... with `sspr.step`, `sspr.outcome`
//! and `sspr.flow`, the flow's keyed reference; level INFO), a child `sspr.delivery` span for a
//! PIN's delivery (INFO) and for other work handed off the request path (DEBUG), and a child
//! `sspr.backend` span per backend call (level DEBUG; `sspr_core`'s `engine::instrument`). This
//! module's own `tracing` layer turns them into OpenTelemetry span data and queues it for a
//! thread of its own, which sends it in batches to a collector (`opentelemetry-otlp`; the SDK's
//! batch settings, `OTEL_BSP_*`: a slow collector never slows a reset, a full queue drops). Only the engine's spans (target
//! `sspr_core`) are exported: their fields are closed sets and keyed hashes, never a login,
//! address, PIN or password.
//!
//! What a span costs is kept down ([`Tracing`]): the backend spans are left out by default
//! (`backend_spans = false`: the filter is then INFO and their call sites are disabled; a
//! backend call's latency is in the `sspr_backend_call_seconds` histograms anyway),
//! a share of the traces can be sampled (`otlp_sample_ratio`), and the layer keeps only what
//! it exports in each span (start time, name, ids, parent, fields as attributes, events): it
//! replaces `tracing-opentelemetry`'s layer and the SDK's tracer, whose per-span work (span
//! builders behind locks, SDK spans, contexts) was most of what a traced flow cost.
//! BENCHMARKS.md section 11 has the figures.
//!
//! An engine call with no `tracing` span around it is a root span whose parent is the
//! OpenTelemetry context current where its span is created (as `tracing-opentelemetry` did):
//! that is how a binding makes it the child of its host's request span
//! (`sspr_bind::traces::parented`), with no span of its own. Sampling (the SDK's samplers;
//! a child of an engine span takes its parent's decision, as every one of them would),
//! ids (its random generator), span limits, resource and instrumentation scope (`sspr`) are
//! the SDK's, as its tracer provider had them.
//!
//! The HTTP client is reqwest's blocking one, built here with rustls on the ring provider and
//! the system's trust roots, as sspr's other HTTPS clients are: reqwest is built without a
//! provider of its own (two providers in one process make rustls panic), so the exporter's
//! default client could not start. The test collectors are plain `http://` on the loopback.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt as _, TraceFlags};
use opentelemetry::{Context, InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{
    Config, IdGenerator, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
    OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT, OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
    Sampler, SamplingDecision, SamplingResult, ShouldSample, SpanData, SpanEvents, SpanExporter, SpanLimits,
};
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;

use sspr_core::{Error, Result};

/// Which spans are exported, how many of the traces, and under which service name (the
/// portal's `otlp_*` settings, the bindings' `export_traces` arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct Tracing {
    /// The share of traces kept, `0.0..=1.0`, by a `ParentBased(TraceIdRatioBased)` sampler;
    /// `None` leaves the SDK's default (the `OTEL_TRACES_SAMPLER` variables, else every trace).
    /// Either way a call whose parent (a host's request span) is sampled is kept, and one
    /// whose parent is not is dropped.
    pub sample_ratio: Option<f64>,
    /// Export the engine's DEBUG-level child span per backend call too (default false: they
    /// cost 1.4-1.6x a flow's instructions, BENCHMARKS.md section 11).
    pub backend_spans: bool,
    /// The resource's `service.name`.
    pub service_name: String,
}

impl Default for Tracing {
    /// Every trace, one span per engine call and per PIN delivery, service `sspr`.
    fn default() -> Self {
        Self { sample_ratio: None, backend_spans: false, service_name: "sspr".to_owned() }
    }
}

impl Tracing {
    /// The level the engine's spans are exported from: DEBUG with the backend spans, else
    /// INFO (one span per engine call and per PIN delivery; the other work handed off the
    /// request path is in DEBUG `sspr.delivery` spans, with the backend calls it holds).
    pub fn level(&self) -> tracing::Level {
        if self.backend_spans { tracing::Level::DEBUG } else { tracing::Level::INFO }
    }

    /// The sampler for [`Tracing::sample_ratio`], if one is set.
    pub fn sampler(&self) -> Option<Sampler> {
        self.sample_ratio.map(|ratio| Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio))))
    }
}

/// What the caller calls each setting, for the errors that name one: the portal's
/// configuration keys ([`SettingNames::PORTAL`]), a binding's parameters. The rules are this
/// module's; only the names in their messages are the caller's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingNames {
    /// The collector's URL.
    pub endpoint: &'static str,
    /// [`Tracing::sample_ratio`].
    pub sample_ratio: &'static str,
    /// [`Tracing::service_name`].
    pub service_name: &'static str,
}

impl SettingNames {
    /// The portal's configuration keys (its service name is no setting).
    pub const PORTAL: Self =
        Self { endpoint: "otlp_endpoint", sample_ratio: "otlp_sample_ratio", service_name: "the OTLP service name" };
}

/// The exporter's pipeline; flush it before the process ends ([`Exporter::shutdown`]), or the
/// last batch is lost.
///
/// The collector's headers (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TRACES_HEADERS`:
/// often an API key) are read by the exporter from the environment; its `Debug` shows the
/// settings only, never the SDK's (which would print those headers).
#[derive(Clone)]
pub struct Exporter {
    pipeline: Arc<Pipeline>,
    tracing: Tracing,
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter").field("tracing", &self.tracing).finish_non_exhaustive()
    }
}

impl Exporter {
    /// An exporter sending to `endpoint`, the collector's full OTLP/HTTP traces URL
    /// (`http://collector:4318/v1/traces`), with [`Tracing::default`].
    ///
    /// # Errors
    /// `Config` when the endpoint is not an `http(s)://` URL or the client cannot be built.
    pub fn new(endpoint: &str) -> Result<Self> {
        Self::with_tracing(endpoint, Tracing::default())
    }

    /// An exporter sending to `endpoint` what `tracing` selects.
    ///
    /// # Errors
    /// `Config` when the endpoint is not an `http(s)://` URL, the sample ratio is not in
    /// `0.0..=1.0`, the service name is empty, or the client cannot be built.
    pub fn with_tracing(endpoint: &str, tracing: Tracing) -> Result<Self> {
        Self::with_tracing_named(endpoint, tracing, SettingNames::PORTAL)
    }

    /// [`Exporter::with_tracing`], its errors naming the settings as `names` does.
    ///
    /// # Errors
    /// As [`Exporter::with_tracing`].
    pub fn with_tracing_named(endpoint: &str, tracing: Tracing, names: SettingNames) -> Result<Self> {
        check(&tracing, names)?;
        let name = names.endpoint;
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            let shown = crate::endpoint::redacted(endpoint);
            return Err(Error::Config(format!("{name} = {shown:?} is not an http(s):// URL")));
        }
        let client = blocking_client(name)?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build()
            // The SDK's error may quote the URL, user info and all.
            .map_err(|e| {
                let e = e.to_string().replace(endpoint, &crate::endpoint::redacted(endpoint));
                Error::Config(format!("{name}: cannot build the exporter: {e}"))
            })?;
        Self::with_span_exporter(exporter, tracing)
    }

    /// The same pipeline (sampling, batching, resource) handing its batches to `exporter`
    /// instead of an OTLP/HTTP collector (the `telemetry` benchmark's, which drops them).
    ///
    /// # Errors
    /// `Config` when the sample ratio is not in `0.0..=1.0` or the service name is empty.
    pub fn with_span_exporter(exporter: impl SpanExporter + 'static, tracing: Tracing) -> Result<Self> {
        check(&tracing, SettingNames::PORTAL)?;
        let mut exporter = exporter;
        exporter.set_resource(&Resource::builder().with_service_name(tracing.service_name.clone()).build());
        let batches = Batches::start(exporter)?;
        // The SDK's defaults, as its tracer provider would have them: the sampler and the span
        // limits from the `OTEL_*` variables, the random id generator.
        let config = Config::default();
        let sampler = match tracing.sampler() {
            Some(sampler) => Box::new(sampler),
            None => config.sampler,
        };
        let pipeline = Pipeline {
            batches,
            sampler,
            ids: config.id_generator,
            limits: config.span_limits,
            scope: InstrumentationScope::builder("sspr").build(),
            shut_down: AtomicBool::new(false),
        };
        Ok(Self { pipeline: Arc::new(pipeline), tracing })
    }

    /// What it exports: the settings it was made with.
    pub fn tracing(&self) -> &Tracing {
        &self.tracing
    }

    /// The `tracing` layer that hands the engine's spans (target `sspr_core`, from the level
    /// of [`Tracing::level`]) to this exporter; the other layers (the log on stderr) keep
    /// their own filter.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        SpanLayer { pipeline: self.pipeline.clone() }
            .with_filter(Targets::new().with_target("sspr_core", self.tracing.level()))
    }

    /// Send what is still batched now (tests; before a pause).
    ///
    /// # Errors
    /// `Config` carrying the exporter's error when the collector could not be reached.
    pub fn flush(&self) -> Result<()> {
        self.pipeline.batches.force_flush().map_err(|e| Error::Config(format!("otlp export failed: {e}")))
    }

    /// Send what is batched and stop the exporter's thread (at the end of the process).
    ///
    /// # Errors
    /// `Config` carrying the exporter's error.
    pub fn shutdown(&self) -> Result<()> {
        self.pipeline.shutdown().map_err(|e| Error::Config(format!("otlp shutdown failed: {e}")))
    }
}

/// The settings [`Exporter::with_tracing`] refuses, named as the caller calls them.
fn check(tracing: &Tracing, names: SettingNames) -> Result<()> {
    if let Some(ratio) = tracing.sample_ratio
        && !(0.0..=1.0).contains(&ratio)
    {
        return Err(Error::Config(format!("{} = {ratio} must be 0.0..=1.0", names.sample_ratio)));
    }
    if tracing.service_name.trim().is_empty() {
        return Err(Error::Config(format!("{} must not be empty", names.service_name)));
    }
    Ok(())
}

/// What the SDK's tracer provider held for its tracer: the batch path to the exporter (which
/// has the resource), the sampler, the id generator, the span limits and the instrumentation scope (`sspr`).
struct Pipeline {
    batches: Batches,
    sampler: Box<dyn ShouldSample>,
    ids: Box<dyn IdGenerator>,
    limits: SpanLimits,
    scope: InstrumentationScope,
    shut_down: AtomicBool,
}

impl Pipeline {
    /// Stop the exporting thread after its last batch; spans ending later are not exported.
    fn shutdown(&self) -> OTelSdkResult {
        self.shut_down.store(true, Ordering::Relaxed);
        self.batches.shutdown()
    }
}

impl Drop for Pipeline {
    /// The last batch is sent when the last exporter and layer go, as the SDK's tracer provider
    /// did on its drop.
    fn drop(&mut self) {
        if !self.shut_down.load(Ordering::Relaxed) {
            let _ = self.shutdown();
        }
    }
}

/// The batch path from the layer to the exporter, in place of the SDK's `BatchSpanProcessor`
/// (same settings: `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_SCHEDULE_DELAY`,
/// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, and their defaults): a span ended is pushed onto a queue
/// under a lock, and a thread of its own takes the queue whole and exports it when a batch is
/// full, at the scheduled delay, on a flush and at shutdown. The SDK's processor sent each span
/// through a channel and moved it again into a batch on its thread, then copied the batch for
/// the exporter (BENCHMARKS.md section 11, otlp15c); here a span is moved once, into the queue,
/// and the queue is what is exported. A full queue drops the span (a slow collector never
/// slows a reset), as the SDK's did.
struct Batches {
    shared: Arc<Shared>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What the layer's threads and the exporting thread share.
struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the exporting thread: a batch is full, a flush or the shutdown is asked for.
    wake: Condvar,
    max_queue: usize,
    max_batch: usize,
    delay: Duration,
}

/// The spans waiting for export, and who waits for them to go.
#[derive(Default)]
struct Queue {
    spans: Vec<SpanData>,
    /// Flushes asked for: each is answered once what was queued when it asked is exported.
    flushes: Vec<SyncSender<OTelSdkResult>>,
    /// The shutdown asked for: answered after the last export, when the thread ends.
    shutdown: Option<SyncSender<OTelSdkResult>>,
    /// The thread has ended (or never started): nothing is queued or exported any more.
    stopped: bool,
}

/// How long a flush or the shutdown waits for the exporting thread (the SDK's 5 s).
const WAIT: Duration = Duration::from_secs(5);

/// A lock that a panic elsewhere left poisoned still guards a consistent queue (every change
/// to it is a push or a take).
fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The settings of the SDK's `BatchSpanProcessor`, from the same `OTEL_BSP_*` variables.
fn batch_settings() -> (usize, usize, Duration) {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let max_queue =
        var(OTEL_BSP_MAX_QUEUE_SIZE).and_then(|v| usize::try_from(v).ok()).unwrap_or(OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT);
    let max_batch = var(OTEL_BSP_MAX_EXPORT_BATCH_SIZE)
        .and_then(|v| usize::try_from(v).ok())
        .unwrap_or(OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT)
        .min(max_queue);
    let delay = var(OTEL_BSP_SCHEDULE_DELAY).map_or(OTEL_BSP_SCHEDULE_DELAY_DEFAULT, Duration::from_millis);
    (max_queue, max_batch.max(1), delay)
}

impl Batches {
    /// Starts the exporting thread with `exporter` (its resource already set).
    fn start(exporter: impl SpanExporter + 'static) -> Result<Self> {
        let (max_queue, max_batch, delay) = batch_settings();
        let shared =
            Arc::new(Shared { queue: Mutex::new(Queue::default()), wake: Condvar::new(), max_queue, max_batch, delay });
        let worker = std::thread::Builder::new()
            .name("sspr-otlp-export".into())
            .spawn({
                let shared = shared.clone();
                move || shared.run(&exporter)
            })
            .map_err(|e| Error::Config(format!("otlp: cannot start the exporting thread: {e}")))?;
        Ok(Self { shared, worker: Mutex::new(Some(worker)) })
    }

    /// Queue an ended span (dropped when the queue is full or the thread has stopped).
    fn push(&self, span: SpanData) {
        let shared = &*self.shared;
        let mut queue = lock(&shared.queue);
        if queue.stopped || queue.shutdown.is_some() {
            return;
        }
        if queue.spans.len() >= shared.max_queue {
            return;
        }
        queue.spans.push(span);
        // One wake a batch: the thread is asleep until the batch is full or its delay ends.
        let full = queue.spans.len() == shared.max_batch;
        drop(queue);
        if full {
            shared.wake.notify_one();
        }
    }

    /// Export what is queued now and wait for the result.
    fn force_flush(&self) -> OTelSdkResult {
        let (answer, result) = std::sync::mpsc::sync_channel(1);
        {
            let mut queue = lock(&self.shared.queue);
            if queue.stopped || queue.shutdown.is_some() {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            queue.flushes.push(answer);
        }
        self.shared.wake.notify_one();
        result.recv_timeout(WAIT).map_err(|_| OTelSdkError::Timeout(WAIT))?
    }

    /// Export what is queued, shut the exporter down and end the thread.
    fn shutdown(&self) -> OTelSdkResult {
        let (answer, result) = std::sync::mpsc::sync_channel(1);
        {
            let mut queue = lock(&self.shared.queue);
            if queue.stopped || queue.shutdown.is_some() {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            queue.shutdown = Some(answer);
        }
        self.shared.wake.notify_one();
        let exported = result.recv_timeout(WAIT).map_err(|_| OTelSdkError::Timeout(WAIT))?;
        let worker = self.worker.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(worker) = worker {
            worker.join().map_err(|_| OTelSdkError::InternalFailure("the exporting thread panicked".into()))?;
        }
        exported
    }
}

impl Shared {
    /// The exporting thread: waits for a full batch, the delay, a flush or the shutdown, then
    /// exports the whole queue (in batches of at most `max_batch`).
    fn run(&self, exporter: &impl SpanExporter) {
        // The exporter's own HTTP client must not make spans of its own (the SDK's rule).
        let _suppressed = Context::enter_telemetry_suppressed_scope();
        // The queue the layer fills next, made outside the lock.
        let mut next = Vec::with_capacity(self.max_batch);
        loop {
            let (mut spans, flushes, shutdown) = {
                let mut queue = lock(&self.queue);
                // Asleep for the scheduled delay at most; the layer wakes it only when there is
                // work (a full batch, a flush, the shutdown), so a wake before the delay is that.
                while queue.spans.len() < self.max_batch && queue.flushes.is_empty() && queue.shutdown.is_none() {
                    let (woken, waited) = match self.wake.wait_timeout(queue, self.delay) {
                        Ok(woken) => woken,
                        Err(poisoned) => poisoned.into_inner(),
                    };
                    queue = woken;
                    if waited.timed_out() {
                        break;
                    }
                }
                std::mem::swap(&mut queue.spans, &mut next);
                if queue.shutdown.is_some() {
                    queue.stopped = true;
                }
                (std::mem::take(&mut next), std::mem::take(&mut queue.flushes), queue.shutdown.take())
            };
            let mut result = Ok(());
            if spans.is_empty() {
                next = spans;
                spans = Vec::new();
            } else {
                next = Vec::with_capacity(self.max_batch);
            }
            while !spans.is_empty() {
                let rest = if spans.len() > self.max_batch { spans.split_off(self.max_batch) } else { Vec::new() };
                let exported = block_on(exporter.export(spans));
                if result.is_ok() {
                    result = exported;
                }
                spans = rest;
            }
            for flush in flushes {
                let _ = flush.send(copy(&result));
            }
            if let Some(done) = shutdown {
                let stopped = exporter.shutdown();
                let _ = done.send(result.and(stopped));
                return;
            }
        }
    }
}

/// An export's result for one more flush waiting on it (the SDK's error is not `Clone`).
fn copy(result: &OTelSdkResult) -> OTelSdkResult {
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(OTelSdkError::InternalFailure(e.to_string())),
    }
}

/// Wakes the exporting thread parked in [`block_on`].
struct Unpark(std::thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs an export's future to its end on the exporting thread (the exporters are blocking: the
/// OTLP one's HTTP client is reqwest's blocking one), as the SDK's processor did with
/// `futures_executor::block_on`.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// The `tracing` layer turning the engine's spans into OpenTelemetry spans, in place of
/// `tracing-opentelemetry`'s (whose span builders, locks, SDK spans and contexts cost most of
/// what a traced flow cost, BENCHMARKS.md section 11). It exports what that layer exported as
/// configured before (no source location, thread, target or busy/idle attributes): the span's
/// name (`otel.name` overriding it), its fields as string, integer, float or boolean
/// attributes, the events inside it (name from `message`, `level` and `target` attributes, an
/// `error` field making it an `exception` event and the span's status an error, as does an
/// ERROR event), and its parent: the enclosing engine span, or for a root span the
/// OpenTelemetry context current where it is created (a binding's host request span,
/// `sspr_bind::traces::parented`). Sampling, ids, limits, resource and scope are the SDK's.
struct SpanLayer {
    pipeline: Arc<Pipeline>,
}

/// What a span carries from its creation to its end (in the `tracing` span's extensions).
struct OtelSpan {
    context: SpanContext,
    parent: SpanContext,
    /// Whether the sampler's decision was to record (the span is exported at its end).
    recording: bool,
    name: Cow<'static, str>,
    kind: SpanKind,
    start: SystemTime,
    attributes: Vec<KeyValue>,
    events: Vec<opentelemetry::trace::Event>,
    status: Status,
}

/// The wall-clock time of a span's start, end or event: the SDK's own clock function (the
/// engine's injected `Clock` is for its logic; the spans' times are OpenTelemetry's, as the
/// SDK and `tracing-opentelemetry` stamp them).
fn now() -> SystemTime {
    opentelemetry::time::now()
}

impl<S> Layer<S> for SpanLayer
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let pipeline = &*self.pipeline;
        if pipeline.shut_down.load(Ordering::Relaxed) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        // The parent: the enclosing engine span this layer sees, else (a contextual root) the
        // OpenTelemetry context current here, else none (`tracing-opentelemetry`'s rule
        // without context activation).
        let parent_span = match attrs.parent() {
            Some(parent) => ctx.span(parent),
            None if attrs.is_contextual() => ctx.lookup_current(),
            None => None,
        };
        let in_tree = parent_span.and_then(|p| p.extensions().get::<OtelSpan>().map(|o| o.context.clone()));
        let (trace_id, parent, sampling) = match in_tree {
            // A child of an engine span is decided as its parent was, in its trace, without the
            // sampler or an OpenTelemetry context: every sampler this pipeline can have (the
            // `ParentBased`, `TraceIdRatioBased`, `AlwaysOn` and `AlwaysOff` of `Tracing` and
            // `OTEL_TRACES_SAMPLER`) keeps a child exactly when its parent is sampled, with the
            // parent's trace state and no attributes of its own.
            Some(parent) => {
                let decision =
                    if parent.is_sampled() { SamplingDecision::RecordAndSample } else { SamplingDecision::Drop };
                let sampling =
                    SamplingResult { decision, attributes: Vec::new(), trace_state: parent.trace_state().clone() };
                (parent.trace_id(), parent, sampling)
            }
            None => {
                let parent_cx = if attrs.is_contextual() { Context::current() } else { Context::new() };
                let parent = parent_cx.span().span_context().clone();
                let trace_id = if parent.is_valid() { parent.trace_id() } else { pipeline.ids.new_trace_id() };
                let name = attrs.metadata().name();
                let sampling =
                    pipeline.sampler.should_sample(Some(&parent_cx), trace_id, name, &SpanKind::Internal, &[], &[]);
                (trace_id, parent, sampling)
            }
        };
        let span_id = pipeline.ids.new_span_id();
        let flags = match sampling.decision {
            SamplingDecision::RecordAndSample => parent.trace_flags().with_sampled(true),
            SamplingDecision::RecordOnly => parent.trace_flags().with_sampled(false),
            SamplingDecision::Drop => TraceFlags::default(),
        };
        let recording = sampling.decision != SamplingDecision::Drop;
        let mut otel = OtelSpan {
            context: SpanContext::new(trace_id, span_id, flags, false, sampling.trace_state),
            parent: if parent.is_valid() { parent } else { SpanContext::empty_context() },
            recording,
            name: Cow::Borrowed(attrs.metadata().name()),
            kind: SpanKind::Internal,
            start: now(),
            attributes: Vec::new(),
            events: Vec::new(),
            status: Status::Unset,
        };
        if recording {
            // Room for every field the span declares, those recorded later too.
            otel.attributes = Vec::with_capacity(attrs.metadata().fields().len() + sampling.attributes.len());
            attrs.record(&mut Fields(&mut otel, attrs.metadata().name()));
            otel.attributes.extend(sampling.attributes);
        }
        span.extensions_mut().insert(otel);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        // Straight onto the span, one field at a time (the engine records one), and only if it
        // is recording: one lock of its extensions a field (a `Debug` value is formatted before
        // it, so a `Debug` that logs does not find it taken; a `str` is copied under it, and
        // not at all for a span sampled out).
        values.record(&mut Fields(&span, span.metadata().name()));
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: LayerContext<'_, S>) {
        let span = match event.parent() {
            Some(parent) => ctx.span(parent),
            None if event.is_contextual() => ctx.lookup_current(),
            None => None,
        };
        let Some(span) = span else { return };
        if !span.extensions().get::<OtelSpan>().is_some_and(|otel| otel.recording) {
            return;
        }
        let meta = event.metadata();
        let mut fields = EventFields {
            name: Cow::Borrowed(""),
            attributes: vec![
                KeyValue::new(Key::from_static_str("level"), meta.level().as_str()),
                KeyValue::new(Key::from_static_str("target"), Value::String(meta.target().into())),
            ],
            status: None,
        };
        event.record(&mut fields);
        if fields.name.is_empty() {
            fields.name = Cow::Borrowed(meta.name());
        }
        let mut extensions = span.extensions_mut();
        let Some(otel) = extensions.get_mut::<OtelSpan>() else { return };
        if otel.status == Status::Unset && *meta.level() == tracing::Level::ERROR {
            otel.status = Status::error("");
        }
        if let Some(status) = fields.status {
            otel.status = status;
        }
        otel.events.push(opentelemetry::trace::Event::new(fields.name, now(), fields.attributes, 0));
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(otel) = span.extensions_mut().remove::<OtelSpan>() else { return };
        let pipeline = &*self.pipeline;
        if !otel.recording || pipeline.shut_down.load(Ordering::Relaxed) {
            return;
        }
        pipeline.batches.push(export_data(otel, pipeline));
    }
}

/// The SDK's span data for `otel`, within the SDK's span limits as its spans apply them.
fn export_data(otel: OtelSpan, pipeline: &Pipeline) -> SpanData {
    let OtelSpan { context, parent, name, kind, start, mut attributes, mut events, status, .. } = otel;
    let limits = &pipeline.limits;
    let dropped_attributes = attributes.len().saturating_sub(limits.max_attributes_per_span as usize);
    attributes.truncate(limits.max_attributes_per_span as usize);
    let mut span_events = SpanEvents::default();
    span_events.dropped_count =
        u32::try_from(events.len().saturating_sub(limits.max_events_per_span as usize)).unwrap_or(u32::MAX);
    events.truncate(limits.max_events_per_span as usize);
    for event in &mut events {
        let dropped = event.attributes.len().saturating_sub(limits.max_attributes_per_event as usize);
        event.attributes.truncate(limits.max_attributes_per_event as usize);
        event.dropped_attributes_count = u32::try_from(dropped).unwrap_or(u32::MAX);
    }
    span_events.events = events;
    SpanData {
        parent_span_id: parent.span_id(),
        parent_span_is_remote: parent.is_valid() && parent.is_remote(),
        span_context: context,
        span_kind: kind,
        name,
        start_time: start,
        end_time: now(),
        attributes,
        dropped_attributes_count: u32::try_from(dropped_attributes).unwrap_or(u32::MAX),
        events: span_events,
        links: opentelemetry_sdk::trace::SpanLinks::default(),
        status,
        instrumentation_scope: pipeline.scope.clone(),
    }
}

/// A span's fields as attributes, `otel.name`, `otel.kind`, `otel.status_code` and
/// `otel.status_message` setting its name, kind and status instead (`tracing-opentelemetry`'s
/// conventions), written straight onto the span: a new one the layer holds (`&mut OtelSpan`) or
/// one in the registry, whose extensions are locked for each field, written only if the span
/// records (no vector of the fields in between). The second member is the span's name as
/// declared (`sspr.<call>`), which [`closed`] needs.
struct Fields<T>(T, &'static str);

/// Where [`Fields`] writes.
trait FieldsTarget {
    fn with(&mut self, apply: impl FnOnce(&mut OtelSpan));
}

impl FieldsTarget for &mut OtelSpan {
    fn with(&mut self, apply: impl FnOnce(&mut OtelSpan)) {
        apply(self);
    }
}

impl<S> FieldsTarget for &tracing_subscriber::registry::SpanRef<'_, S>
where
    S: for<'span> LookupSpan<'span>,
{
    fn with(&mut self, apply: impl FnOnce(&mut OtelSpan)) {
        if let Some(otel) = self.extensions_mut().get_mut::<OtelSpan>()
            && otel.recording
        {
            apply(otel);
        }
    }
}

impl<T: FieldsTarget> Fields<T> {
    fn attribute(&mut self, field: &Field, value: Value) {
        let key = Key::from_static_str(field.name());
        self.0.with(|otel| otel.attributes.push(KeyValue::new(key, value)));
    }

    /// A text value, made by `value` only where it is written (`value` must not log: it runs
    /// under the registry's lock of the span's extensions).
    fn text(&mut self, field: &Field, value: impl FnOnce() -> String) {
        match field.name() {
            "otel.name" => self.0.with(|otel| otel.name = Cow::Owned(value())),
            "otel.kind" => self.0.with(|otel| {
                if let Some(kind) = span_kind(&value()) {
                    otel.kind = kind;
                }
            }),
            "otel.status_code" => self.0.with(|otel| otel.status = status(&value())),
            "otel.status_message" => self.0.with(|otel| otel.status = Status::error(value())),
            name => {
                let key = Key::from_static_str(name);
                self.0.with(|otel| otel.attributes.push(KeyValue::new(key, Value::String(value().into()))));
            }
        }
    }
}

impl<T: FieldsTarget> Visit for Fields<T> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attribute(field, Value::Bool(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attribute(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attribute(field, Value::I64(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match closed(field.name(), value, self.1) {
            Some(known) => self.attribute(field, Value::from(known)),
            None => self.text(field, || value.to_owned()),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.text(field, || text);
    }
}

/// A value of the closed sets the engine records, as the static string it equals: a call's
/// `sspr.step` (its span's name without `sspr.`) and an `sspr.outcome` that is `ok` or an
/// error's code. The span then carries no copy of it, to make and to free on the exporting
/// thread (about 300 instructions a value, 8 values a flow; BENCHMARKS.md section 11,
/// tele15d). The exported text is the same; any other value is copied.
fn closed(field: &str, value: &str, span: &'static str) -> Option<&'static str> {
    match field {
        "sspr.step" => span.strip_prefix("sspr.").filter(|step| *step == value),
        "sspr.outcome" if value == "ok" => Some("ok"),
        "sspr.outcome" => Error::CODES.iter().find(|code| **code == value).copied(),
        _ => None,
    }
}

/// `otel.kind`'s value as a span kind (`tracing-opentelemetry`'s names, any case).
fn span_kind(text: &str) -> Option<SpanKind> {
    [
        ("server", SpanKind::Server),
        ("client", SpanKind::Client),
        ("producer", SpanKind::Producer),
        ("consumer", SpanKind::Consumer),
        ("internal", SpanKind::Internal),
    ]
    .into_iter()
    .find_map(|(name, kind)| text.eq_ignore_ascii_case(name).then_some(kind))
}

/// `otel.status_code`'s value as a status.
fn status(text: &str) -> Status {
    if text.eq_ignore_ascii_case("ok") {
        Status::Ok
    } else if text.eq_ignore_ascii_case("error") {
        Status::error("")
    } else {
        Status::Unset
    }
}

/// An event's fields: its name (`message`), its attributes, and the span's status an `error`
/// field sets (`tracing-opentelemetry`'s conventions with its defaults: such an event is an
/// `exception` with an `exception.message`, unless a `message` names it).
struct EventFields {
    name: Cow<'static, str>,
    attributes: Vec<KeyValue>,
    status: Option<Status>,
}

impl EventFields {
    fn text(&mut self, field: &Field, value: &dyn fmt::Debug, display: Option<&str>) {
        match field.name() {
            "message" => self.name = Cow::Owned(display.map_or_else(|| format!("{value:?}"), str::to_owned)),
            "error" if self.name.is_empty() => {
                let text = format!("{value:?}");
                self.status = Some(Status::error(text.clone()));
                self.name = Cow::Borrowed("exception");
                self.attributes.push(KeyValue::new(Key::from_static_str("exception.message"), text));
            }
            name => {
                let text = display.map_or_else(|| format!("{value:?}"), str::to_owned);
                self.attributes.push(KeyValue::new(Key::from_static_str(name), text));
            }
        }
    }
}

impl Visit for EventFields {
    fn record_bool(&mut self, field: &Field, value: bool) {
        match field.name() {
            "message" => self.name = Cow::Owned(value.to_string()),
            name => self.attributes.push(KeyValue::new(Key::from_static_str(name), value)),
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        match field.name() {
            "message" => self.name = Cow::Owned(value.to_string()),
            name => self.attributes.push(KeyValue::new(Key::from_static_str(name), value)),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        match field.name() {
            "message" => self.name = Cow::Owned(value.to_string()),
            name => self.attributes.push(KeyValue::new(Key::from_static_str(name), value)),
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, &value, Some(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, value, None);
    }
}

/// A blocking reqwest client with rustls on ring and the system's roots. Built on a thread of
/// its own: reqwest's blocking client starts (and on failure drops) a runtime, which panics
/// inside a tokio runtime (the portal's, a binding's).
fn blocking_client(name: &str) -> Result<reqwest::blocking::Client> {
    let build = || -> std::result::Result<reqwest::blocking::Client, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("HTTP client set-up: {e}"))
    };
    std::thread::spawn(build)
        .join()
        .map_err(|_| Error::Config(format!("{name}: building the HTTP client panicked")))?
        .map_err(|e| Error::Config(format!("{name}: {e}")))
}

#[cfg(test)]
mod tests {
    //! The lean layer against `tracing-opentelemetry`'s as it was configured before, on the same
    //! spans: what reaches the exporter must be the same but for the ids and times.

    use std::sync::Mutex;

    use opentelemetry::trace::{SpanId, TraceId, TraceState, TracerProvider as _};
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// An exporter keeping what it is given, and the resource it was set.
    #[derive(Debug, Clone, Default)]
    struct Capture(Arc<Mutex<(Vec<SpanData>, Option<Resource>)>>);

    impl SpanExporter for Capture {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.lock().unwrap().0.extend(batch);
            Ok(())
        }

        fn set_resource(&mut self, resource: &Resource) {
            self.0.lock().unwrap().1 = Some(resource.clone());
        }
    }

    /// A span as compared: what the collector shows of it, ids replaced by the names of the
    /// spans they point at (or `remote` for the host's parent).
    #[derive(Debug, PartialEq)]
    struct Shown {
        name: String,
        parent: String,
        parent_is_remote: bool,
        kind: String,
        attributes: Vec<(String, Value)>,
        events: Vec<(String, Vec<(String, Value)>)>,
        status: String,
        scope: String,
        sampled: bool,
    }

    fn shown(spans: &[SpanData], host: (TraceId, SpanId)) -> Vec<Shown> {
        let name_of = |id: SpanId| {
            if id == host.1 {
                return "remote".to_owned();
            }
            spans.iter().find(|s| s.span_context.span_id() == id).map_or("-".to_owned(), |s| s.name.to_string())
        };
        // The values as exported: their type and text (`Value`'s equality compares a string's
        // text, not whether the span holds it as a static or an owned string, which the OTLP
        // protobuf does not carry).
        let pairs = |attributes: &[KeyValue]| {
            let mut pairs: Vec<(String, Value)> =
                attributes.iter().map(|kv| (kv.key.to_string(), kv.value.clone())).collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.to_string().cmp(&b.1.to_string())));
            pairs
        };
        let mut shown: Vec<Shown> = spans
            .iter()
            .map(|s| Shown {
                name: s.name.to_string(),
                parent: name_of(s.parent_span_id),
                parent_is_remote: s.parent_span_is_remote,
                kind: format!("{:?}", s.span_kind),
                attributes: pairs(&s.attributes),
                events: s.events.iter().map(|e| (e.name.to_string(), pairs(&e.attributes))).collect(),
                status: format!("{:?}", s.status),
                scope: format!("{:?}", s.instrumentation_scope),
                sampled: s.span_context.is_sampled(),
            })
            .collect();
        shown.sort_by(|a, b| a.name.cmp(&b.name));
        shown
    }

    /// The engine's kinds of spans and events: a call with its fields recorded late, a backend
    /// span named by `otel.name`, events with and without an `error` field and at ERROR, a
    /// delivery span, a span outside `sspr_core` (not exported), and a root span whose parent is
    /// the host's OpenTelemetry context; outcomes an error's code (`wrong_pin`), `ok` (both held
    /// as static strings) and a backend error's kind (copied).
    fn spans(host: (TraceId, SpanId)) {
        let call = tracing::info_span!(target: "sspr_core", "sspr.verify_pin", sspr.step = "verify_pin",
            sspr.outcome = tracing::field::Empty, sspr.flow = tracing::field::Empty);
        call.in_scope(|| {
            let backend = tracing::debug_span!(target: "sspr_core", "sspr.backend", otel.name = "store.get",
                sspr.backend = "store", sspr.operation = "get", sspr.outcome = tracing::field::Empty);
            backend.in_scope(|| {
                tracing::warn!(target: "sspr_core::engine", error = %"store down", "a read failed");
                tracing::info!(target: "sspr_core::engine", attempt = 2_i64, last = true, ratio = 0.5, "retrying");
            });
            backend.record("sspr.outcome", "unavailable");
            drop(backend);
            tracing::info_span!(target: "sspr_core", "sspr.delivery", sspr.flow = "ab12").in_scope(|| {
                tracing::error!(target: "sspr_core::engine", kind = ?"audit", "audit sink failed");
            });
            tracing::info_span!(target: "other", "not.exported").in_scope(|| {});
        });
        call.record("sspr.flow", "0123456789abcdef");
        call.record("sspr.outcome", "wrong_pin");
        drop(call);
        let parent = SpanContext::new(host.0, host.1, TraceFlags::SAMPLED, true, TraceState::default());
        let _host = Context::new().with_remote_span_context(parent).attach();
        let reset = tracing::info_span!(target: "sspr_core", "sspr.complete_reset", sspr.step = "complete_reset",
            sspr.outcome = tracing::field::Empty);
        reset.in_scope(|| {
            tracing::warn!(target: "sspr_core::engine", error = %"x", "a notice could not be delivered");
        });
        reset.record("sspr.outcome", "ok");
    }

    #[test]
    fn the_lean_layer_exports_what_tracing_opentelemetry_exported() {
        let host = (TraceId::from(0x5eed_u128), SpanId::from(0x4057_u64));
        let tracing = Tracing { backend_spans: true, service_name: "sspr-test".into(), ..Tracing::default() };

        let lean = Capture::default();
        let exporter = Exporter::with_span_exporter(lean.clone(), tracing.clone()).unwrap();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(exporter.layer()), || spans(host));
        exporter.flush().unwrap();

        let before = Capture::default();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(before.clone())
            .with_resource(Resource::builder().with_service_name("sspr-test").build())
            .build();
        let layer = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("sspr"))
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            .with_filter(Targets::new().with_target("sspr_core", tracing::Level::DEBUG));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || spans(host));
        provider.force_flush().unwrap();

        let (lean, before) = (lean.0.lock().unwrap(), before.0.lock().unwrap());
        assert_eq!(lean.0.len(), 4, "{:?}", lean.0);
        assert_eq!(shown(&lean.0, host), shown(&before.0, host));
        assert_eq!(lean.1, before.1, "the resource");
        // The host's span is the root's parent, in its trace.
        let root = lean.0.iter().find(|s| s.name == "sspr.complete_reset").unwrap();
        assert_eq!((root.span_context.trace_id(), root.parent_span_id), host);
        assert!(root.parent_span_is_remote && root.end_time >= root.start_time);
        exporter.shutdown().unwrap();
    }

    #[test]
    fn a_refused_endpoint_is_named_without_its_password() {
        let err = Exporter::with_tracing("grpc://sspr:s3cret@collector:4317", Tracing::default()).err().unwrap();
        assert!(matches!(&err, Error::Config(m) if m.contains("collector:4317") && !m.contains("s3cret")), "{err}");
    }

    #[test]
    fn the_shutdown_exports_what_is_queued_and_nothing_after_it() {
        let host = (TraceId::from(0x5eed_u128), SpanId::from(0x4057_u64));
        let capture = Capture::default();
        let exporter = Exporter::with_span_exporter(capture.clone(), Tracing::default()).unwrap();
        let subscriber = tracing_subscriber::registry().with(exporter.layer());
        tracing::subscriber::with_default(subscriber, || {
            spans(host);
            // No flush: the queue is exported by the shutdown, before the thread ends.
            exporter.shutdown().unwrap();
            spans(host);
        });
        let names: Vec<String> = capture.0.lock().unwrap().0.iter().map(|s| s.name.to_string()).collect();
        assert_eq!(names, ["sspr.delivery", "sspr.verify_pin", "sspr.complete_reset"]);
        assert!(matches!(exporter.flush(), Err(Error::Config(_))), "a flush after the shutdown");
        assert!(exporter.shutdown().is_err(), "a second shutdown");
    }

    #[test]
    fn a_ratio_of_zero_exports_nothing_and_a_sampled_host_parent_still_wins() {
        let host = (TraceId::from(0x5eed_u128), SpanId::from(0x4057_u64));
        let capture = Capture::default();
        let tracing = Tracing { sample_ratio: Some(0.0), backend_spans: true, ..Tracing::default() };
        let exporter = Exporter::with_span_exporter(capture.clone(), tracing).unwrap();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(exporter.layer()), || spans(host));
        exporter.flush().unwrap();
        // ParentBased: the call under the host's sampled span is kept, the others are not.
        let names: Vec<String> = capture.0.lock().unwrap().0.iter().map(|s| s.name.to_string()).collect();
        assert_eq!(names, ["sspr.complete_reset"]);
    }
}
