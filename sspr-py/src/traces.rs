//! `sspr.export_traces`: the engine's spans over OTLP/HTTP (sspr-bind's `traces`, the
//! portal's pipeline), once per process, and the handle that flushes and stops it.

use pyo3::prelude::*;
use sspr_backends::otlp::{Exporter, SettingNames, Tracing};

use crate::errors::to_py_err;
use crate::values::q;

/// The process's trace exporter (what `export_traces` returned): `flush()` sends what is
/// batched, `shutdown()` sends it and stops the exporter's thread (call it at exit, or the
/// last batch is lost). Both block, with the GIL released, until the collector answered.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct TraceExport {
    inner: Exporter,
}

#[pymethods]
impl TraceExport {
    /// Send the spans batched so far now. Raises `ConfigError` carrying the exporter's
    /// error when the collector could not be reached.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.flush()).map_err(to_py_err)
    }

    /// Send what is batched and stop exporting (engine calls are still traced, and dropped).
    /// Raises `ConfigError` carrying the exporter's error, or when it was shut down already.
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.shutdown()).map_err(to_py_err)
    }

    /// Its settings, as `export_traces` took them (the collector's headers come from the
    /// environment, and are not shown).
    fn __repr__(&self) -> String {
        let tracing = self.inner.tracing();
        format!(
            "TraceExport(sample_ratio={}, backend_spans={}, service_name={})",
            tracing.sample_ratio.map_or_else(|| "None".to_owned(), |ratio| format!("{ratio:?}")),
            if tracing.backend_spans { "True" } else { "False" },
            q(&tracing.service_name)
        )
    }
}

/// Export the engine's spans (`sspr.begin_reset`, ... with `sspr.step`, `sspr.outcome` and
/// the flow's keyed reference; never a login, address, PIN or password) of every engine of
/// this process to `endpoint`, an OTLP/HTTP traces URL (`http://collector:4318/v1/traces`).
/// `sample_ratio` (0.0-1.0) keeps that share of the traces whose caller gave no parent
/// (`None`: the `OTEL_TRACES_SAMPLER` variables, else every trace); `backend_spans` adds a
/// child span per backend call (costly: see the README); `service_name` is the resource's
/// `service.name`. Once per process: a second call raises `ConfigError`.
#[pyfunction]
#[pyo3(signature = (endpoint, *, sample_ratio = None, backend_spans = false, service_name = "sspr".to_owned()))]
pub(crate) fn export_traces(
    py: Python<'_>,
    endpoint: &str,
    sample_ratio: Option<f64>,
    backend_spans: bool,
    service_name: String,
) -> PyResult<TraceExport> {
    let tracing = Tracing { sample_ratio, backend_spans, service_name };
    let names = SettingNames { endpoint: "endpoint", sample_ratio: "sample_ratio", service_name: "service_name" };
    let inner = py.detach(|| sspr_bind::traces::export(endpoint, tracing, names)).map_err(to_py_err)?;
    Ok(TraceExport { inner })
}
