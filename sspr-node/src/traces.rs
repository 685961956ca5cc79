//! `exportTraces`: the engine's spans over OTLP/HTTP (sspr-bind's `traces`, the portal's
//! pipeline), once per process, and the handle that flushes and stops it. Conversion only.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Result, Task};
use napi_derive::napi;
use sspr_backends::otlp::{Exporter, SettingNames, Tracing};

use crate::errors::to_js_error;

/// Where and what `exportTraces` sends.
#[napi(object, object_to_js = false)]
pub struct TraceExportOptions {
    /// The collector's OTLP/HTTP traces URL (`http://collector:4318/v1/traces`).
    pub endpoint: String,
    /// The share of traces kept (0-1) when the caller gives no parent; absent: the
    /// `OTEL_TRACES_SAMPLER` variables, else every trace.
    pub sample_ratio: Option<f64>,
    /// A child span per backend call too (default false: costly, see the README).
    pub backend_spans: Option<bool>,
    /// The resource's `service.name` (default `sspr`).
    pub service_name: Option<String>,
}

/// The process's trace exporter (what `exportTraces` returned).
#[napi]
pub struct TraceExport {
    inner: Exporter,
}

#[napi]
impl TraceExport {
    /// Send the spans batched so far now (resolves once the collector answered; rejects with
    /// `CONFIG` carrying the exporter's error when it could not be reached).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn flush(&self) -> AsyncTask<Blocking> {
        AsyncTask::new(Blocking { exporter: self.inner.clone(), shutdown: false })
    }

    /// Send what is batched and stop exporting (call it before the process exits, or the last
    /// batch is lost); engine calls are still traced, and dropped.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn shutdown(&self) -> AsyncTask<Blocking> {
        AsyncTask::new(Blocking { exporter: self.inner.clone(), shutdown: true })
    }
}

/// A flush or a shutdown, which block until the collector answered: on a libuv worker, so
/// the JavaScript thread (and a collector it serves) keeps running.
pub struct Blocking {
    exporter: Exporter,
    shutdown: bool,
}

impl Task for Blocking {
    type Output = sspr_core::Result<()>;
    type JsValue = ();

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(if self.shutdown { self.exporter.shutdown() } else { self.exporter.flush() })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<()> {
        output.map_err(|e| to_js_error(&env, &e))
    }
}

/// Export the engine's spans (`sspr.begin_reset`, ... with `sspr.step`, `sspr.outcome` and
/// the flow's keyed reference; never a login, address, PIN or password) of every engine of
/// this process over OTLP/HTTP. Once per process: a second call throws `CONFIG`.
#[napi]
pub fn export_traces(env: &Env, options: TraceExportOptions) -> Result<TraceExport> {
    let defaults = Tracing::default();
    let tracing = Tracing {
        sample_ratio: options.sample_ratio,
        backend_spans: options.backend_spans.unwrap_or(defaults.backend_spans),
        service_name: options.service_name.unwrap_or(defaults.service_name),
    };
    let names = SettingNames { endpoint: "endpoint", sample_ratio: "sampleRatio", service_name: "serviceName" };
    sspr_bind::traces::export(&options.endpoint, tracing, names)
        .map(|inner| TraceExport { inner })
        .map_err(|e| to_js_error(env, &e))
}
