//! The `/metrics` endpoint (Prometheus text) on its own listen address.
//!
//! The engine counts through the `metrics` facade (`sspr_core::telemetry`); the portal
//! installs a Prometheus recorder and serves its rendering. A separate address, off unless
//! `metrics_listen` is configured, because the figures (reset volumes, decoy rates, blocks,
//! the failure alarm) tell a prober how the service reacts to them: they are for the
//! operator's scraper on an internal address, never on the public pages behind the proxy.
//! [`crate::Portal::serve_metrics`] serves it with the pages' serve loop: the same read
//! timeouts and connection caps (an address inside can still be a hostile one).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use sspr_core::{Error, Result};

/// Install a Prometheus recorder as the process's global `metrics` recorder; its handle
/// renders what was counted. Fails if a recorder is already installed.
pub fn install() -> Result<PrometheusHandle> {
    let recorder = sspr_bind::metrics::recorder()?;
    let handle = recorder.handle();
    sspr_core::telemetry::set_global_recorder(recorder)
        .map_err(|e| Error::Config(format!("cannot install the metrics recorder: {e}")))?;
    Ok(handle)
}

/// The router of the metrics address: `GET /metrics` answers the Prometheus text format.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move { ([(header::CONTENT_TYPE, sspr_bind::metrics::CONTENT_TYPE)], handle.render()).into_response() }
        }),
    )
}
