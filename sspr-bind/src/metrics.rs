//! The engine's metrics for hosts without a `metrics` recorder of their own (Python, Node):
//! one Prometheus recorder per process, installed when the first engine asks to collect, and
//! its text for the host's scrape endpoint.
//!
//! One per process because the engine counts through the `metrics` facade, whose recorder is
//! global: every engine of the process counts into it, as every library of a Python or Node
//! process counts into the one `prometheus_client` / `prom-client` registry.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use sspr_core::Error;
use sspr_core::telemetry::SECONDS_BUCKETS;

/// The process's recorder, once installed (or why it could not be).
static INSTALLED: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// A Prometheus recorder that renders the engine's `_seconds` series as histograms with
/// [`SECONDS_BUCKETS`] (the portal's `/metrics` uses it too).
///
/// # Errors
/// `Config` if the buckets are refused (never for the fixed, non-empty list).
pub fn recorder() -> Result<PrometheusRecorder, Error> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)
        .map(PrometheusBuilder::build_recorder)
        .map_err(|e| Error::Config(format!("cannot set the metrics buckets: {e}")))
}

/// Install the process's recorder if it is not yet (idempotent): engines count from now on.
///
/// # Errors
/// `Config` when another `metrics` recorder was installed in this process first (the host
/// embeds a Rust library that installed its own), and on every later call after that.
pub fn collect() -> Result<(), Error> {
    INSTALLED
        .get_or_init(|| {
            let recorder = recorder().map_err(|e| e.to_string())?;
            let handle = recorder.handle();
            sspr_core::telemetry::set_global_recorder(recorder)
                .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
            Ok(handle)
        })
        .as_ref()
        .map(|_| ())
        .map_err(|e| Error::Config(e.clone()))
}

/// Everything counted in this process so far, in the Prometheus text format (0.0.4); empty
/// when no engine was built with metrics on.
pub fn text() -> String {
    match INSTALLED.get() {
        Some(Ok(handle)) => {
            // Histograms are drained into the rendering: keep them bounded between scrapes.
            handle.run_upkeep();
            handle.render()
        }
        _ => String::new(),
    }
}

/// The content type of [`text`] for an HTTP answer.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
