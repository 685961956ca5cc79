//! Tracing spans exported over OTLP/HTTP (protobuf), when `otlp_endpoint` is configured.
//!
//! The engine opens a span per call (`sspr.begin_reset`, ... with `sspr.step`, `sspr.outcome`
//! and `sspr.flow`, the flow's keyed reference) and a child `sspr.backend` span per backend
//! call (`sspr_core`'s `engine::instrument`). This module turns them into OpenTelemetry spans
//! (`tracing-opentelemetry`) and sends them in batches to a collector (`opentelemetry-otlp`,
//! from a thread of its own: a slow collector never slows a reset). Only the engine's spans
//! (target `sspr_core`) are exported: their fields are closed sets and keyed hashes, never a
//! login, address, PIN or password.
//!
//! The HTTP client is reqwest's blocking one, built here with rustls on the ring provider and
//! the system's trust roots, as the portal's other HTTPS clients are: reqwest is built without
//! a provider of its own (two providers in one process make rustls panic), so the exporter's
//! default client could not start. The test collector is plain `http://` on the loopback.

use opentelemetry::trace::TracerProvider as _;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

use sspr_core::{Error, Result};

/// The exporter's pipeline; flush it before the process ends ([`Exporter::shutdown`]), or the
/// last batch is lost.
#[derive(Debug, Clone)]
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// An exporter sending to `endpoint`, the collector's full OTLP/HTTP traces URL
    /// (`http://collector:4318/v1/traces`).
    ///
    /// # Errors
    /// `Config` when the endpoint is not an `http(s)://` URL or the client cannot be built.
    pub fn new(endpoint: &str) -> Result<Self> {
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(Error::Config(format!("otlp_endpoint = {endpoint:?} is not an http(s):// URL")));
        }
        let client = blocking_client()?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| Error::Config(format!("otlp_endpoint: cannot build the exporter: {e}")))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name("sspr-portal").build())
            .build();
        Ok(Self { provider })
    }

    /// The `tracing` layer that hands the engine's spans (target `sspr_core`, level info and
    /// above) to this exporter; the other layers (the log on stderr) keep their own filter.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        let tracer = self.provider.tracer("sspr");
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(Targets::new().with_target("sspr_core", tracing::Level::INFO))
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

/// A blocking reqwest client with rustls on ring and the system's roots. Built on a thread of
/// its own: reqwest's blocking client starts (and on failure drops) a runtime, which panics
/// inside the portal's tokio runtime.
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
