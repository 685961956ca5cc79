//! The engine's tracing spans exported over OTLP/HTTP (protobuf): one pipeline for every host
//! (the portal's `otlp_*` settings, `sspr.export_traces` in Python, `exportTraces` in Node
//! through `sspr_bind::traces`).
//!
//! The engine opens a span per call (`sspr.begin_reset`, ... with `sspr.step`, `sspr.outcome`
//! and `sspr.flow`, the flow's keyed reference; level INFO), a child `sspr.delivery` span for a
//! PIN's delivery (INFO) and for other work handed off the request path (DEBUG), and a child
//! `sspr.backend` span per backend call (level DEBUG; `sspr_core`'s `engine::instrument`). This module turns them into
//! OpenTelemetry spans (`tracing-opentelemetry`) and sends them in batches to a collector
//! (`opentelemetry-otlp`, from a thread of its own: a slow collector never slows a reset).
//! Only the engine's spans (target `sspr_core`) are exported: their fields are closed sets and
//! keyed hashes, never a login, address, PIN or password.
//!
//! What a span costs is kept down ([`Tracing`]): the backend spans are left out by default
//! (`backend_spans = false`: the filter is then INFO and their call sites are disabled; a
//! backend call's latency is in the `sspr_backend_call_seconds` histograms anyway),
//! a share of the traces can be sampled (`otlp_sample_ratio`), and the layer adds none of its
//! optional attributes (source location, thread, target, busy/idle times) nor activates an
//! OpenTelemetry context on each poll (nothing else in the process reads it). BENCHMARKS.md
//! section 11 has the figures.
//!
//! An engine call with no `tracing` span around it is a root span whose parent is the
//! OpenTelemetry context current while its future is polled (`tracing-opentelemetry` falls back
//! to `Context::current()`): that is how a binding makes it the child of its host's request
//! span (`sspr_bind::traces::parented`), with no span of its own.
//!
//! The HTTP client is reqwest's blocking one, built here with rustls on the ring provider and
//! the system's trust roots, as sspr's other HTTPS clients are: reqwest is built without a
//! provider of its own (two providers in one process make rustls panic), so the exporter's
//! default client could not start. The test collectors are plain `http://` on the loopback.

use opentelemetry::trace::TracerProvider as _;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
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

/// The exporter's pipeline; flush it before the process ends ([`Exporter::shutdown`]), or the
/// last batch is lost.
///
/// The collector's headers (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TRACES_HEADERS`:
/// often an API key) are read by the exporter from the environment; its `Debug` shows the
/// settings only, never the SDK's (which would print those headers).
#[derive(Clone)]
pub struct Exporter {
    provider: SdkTracerProvider,
    tracing: Tracing,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
        if let Some(ratio) = tracing.sample_ratio
            && !(0.0..=1.0).contains(&ratio)
        {
            return Err(Error::Config(format!("otlp_sample_ratio = {ratio} must be 0.0..=1.0")));
        }
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(Error::Config(format!("otlp_endpoint = {endpoint:?} is not an http(s):// URL")));
        }
        if tracing.service_name.trim().is_empty() {
            return Err(Error::Config("the OTLP service name must not be empty".into()));
        }
        let client = blocking_client()?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| Error::Config(format!("otlp_endpoint: cannot build the exporter: {e}")))?;
        let mut builder = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(tracing.service_name.clone()).build());
        if let Some(sampler) = tracing.sampler() {
            builder = builder.with_sampler(sampler);
        }
        Ok(Self { provider: builder.build(), tracing })
    }

    /// The `tracing` layer that hands the engine's spans (target `sspr_core`, from the level
    /// of [`Tracing::level`]) to this exporter; the other layers (the log on stderr) keep
    /// their own filter.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        layer(self.provider.tracer("sspr"), self.tracing.level())
    }

    /// Send what is still batched now (tests; before a pause).
    ///
    /// # Errors
    /// `Config` carrying the exporter's error when the collector could not be reached.
    pub fn flush(&self) -> Result<()> {
        self.provider.force_flush().map_err(|e| Error::Config(format!("otlp export failed: {e}")))
    }

    /// Send what is batched and stop the exporter's thread (at the end of the process).
    ///
    /// # Errors
    /// `Config` carrying the exporter's error.
    pub fn shutdown(&self) -> Result<()> {
        self.provider.shutdown().map_err(|e| Error::Config(format!("otlp shutdown failed: {e}")))
    }
}

/// The OpenTelemetry layer over `tracer` for the engine's spans from `level` up, without the
/// optional per-span work: no source location, thread or target attributes (the span's name
/// and `sspr.*` fields say where it comes from), no busy/idle times (the span's own start and
/// end are its time), and no OpenTelemetry context activated on every enter of a span (a poll
/// of its future): nothing else in sspr reads that context, and the parent of each span is
/// still found from the `tracing` span tree (or, for an engine call, from the OpenTelemetry
/// context its caller made current). (`sspr-benches`' `telemetry` group
/// builds the same layer.)
pub fn layer<S, T>(tracer: T, level: tracing::Level) -> impl Layer<S> + use<S, T>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    T: opentelemetry::trace::Tracer + Send + Sync + 'static,
    T::Span: Send + Sync,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        .with_context_activation(false)
        .with_filter(Targets::new().with_target("sspr_core", level))
}

/// A blocking reqwest client with rustls on ring and the system's roots. Built on a thread of
/// its own: reqwest's blocking client starts (and on failure drops) a runtime, which panics
/// inside a tokio runtime (the portal's, a binding's).
fn blocking_client() -> Result<reqwest::blocking::Client> {
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
        .map_err(|_| Error::Config("otlp_endpoint: building the HTTP client panicked".into()))?
        .map_err(|e| Error::Config(format!("otlp_endpoint: {e}")))
}
