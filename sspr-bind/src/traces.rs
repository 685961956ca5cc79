//! The engine's spans for hosts without a `tracing` subscriber of their own (Python, Node):
//! the OTLP pipeline of `sspr_backends::otlp` (the portal's) installed once per process, and
//! an engine call made the child of the host's request span from a W3C `traceparent`.
//!
//! One per process because a `tracing` subscriber is global, as the host's OpenTelemetry
//! tracer provider is: every engine of the process is traced from [`export`] on.
//!
//! The parent is set without a span of sspr's own: [`parented`] makes the host's span the
//! current OpenTelemetry context while the engine's future is polled, and the engine call's
//! span (a `tracing` root span) takes it as its parent. The core knows nothing of
//! OpenTelemetry; with no parent given the future runs as it is.

use std::future::Future;
use std::sync::Mutex;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState};
use sspr_backends::otlp::{Exporter, SettingNames, Tracing};
use sspr_core::Error;
use tracing_subscriber::layer::SubscriberExt as _;

/// Whether this process installed its exporter already (a second [`export`] is refused).
static INSTALLED: Mutex<bool> = Mutex::new(false);

/// Export the engine's spans of every engine of this process to `endpoint` (the collector's
/// OTLP/HTTP traces URL, `http://collector:4318/v1/traces`), as `tracing` selects. Returns
/// the exporter, to flush and shut down (the last batch is lost otherwise). A refused setting
/// is named as `names` says (the binding's parameter: `sample_ratio`, `sampleRatio`).
///
/// # Errors
/// `Config` when the settings are refused ([`Exporter::with_tracing_named`]), when this process
/// exports already (once per process: the subscriber is global and cannot be replaced, even
/// after a shutdown), or when another `tracing` subscriber was installed first.
pub fn export(endpoint: &str, tracing: Tracing, names: SettingNames) -> Result<Exporter, Error> {
    let mut installed = INSTALLED.lock().map_err(|_| Error::Config("the trace exporter's lock is poisoned".into()))?;
    if *installed {
        return Err(Error::Config(ALREADY.into()));
    }
    let exporter = Exporter::with_tracing_named(endpoint, tracing, names)?;
    let subscriber = tracing_subscriber::registry().with(exporter.layer());
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|_| Error::Config("another tracing subscriber is installed in this process".into()))?;
    *installed = true;
    Ok(exporter)
}

/// The error of a second [`export`].
const ALREADY: &str = "traces are exported already: export_traces is called once per process";

/// A W3C Trace Context `traceparent` (version `00`): the host's request span an engine call
/// is the child of. Holds identifiers only, nothing of the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
}

impl TraceParent {
    /// Parse a `traceparent` header value strictly: `00-<32 hex>-<16 hex>-<2 hex>`, lowercase
    /// hex digits, neither id all zeros, nothing before or after. Anything else (another
    /// version, upper case, spaces, a zero id) is `None`: the caller then runs the call
    /// without a parent (a trace header never fails a reset).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 55 {
            return None;
        }
        let mut parts = text.split('-');
        let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" || parts.next().is_some() {
            return None;
        }
        let trace_id: [u8; 16] = hex(trace)?;
        let span_id: [u8; 8] = hex(span)?;
        let [flags] = hex::<1>(flags)?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self { trace_id, span_id, flags })
    }

    /// Whether the parent was sampled (bit 0 of its flags).
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// The parent as a remote OpenTelemetry span context.
    fn context(&self) -> opentelemetry::Context {
        let flags = if self.sampled() { TraceFlags::SAMPLED } else { TraceFlags::default() };
        let span = SpanContext::new(
            TraceId::from_bytes(self.trace_id),
            SpanId::from_bytes(self.span_id),
            flags,
            true,
            TraceState::default(),
        );
        opentelemetry::Context::new().with_remote_span_context(span)
    }
}

impl std::fmt::Display for TraceParent {
    /// The header value again, as read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("00-")?;
        self.trace_id.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        f.write_str("-")?;
        self.span_id.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, "-{:02x}", self.flags)
    }
}

/// Exactly `2 * N` lowercase hex digits.
fn hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let nibble = |d: &u8| match d {
            b'0'..=b'9' => Some(d - b'0'),
            b'a'..=b'f' => Some(d - b'a' + 10),
            _ => None,
        };
        *byte = (nibble(pair.first()?)? << 4) | nibble(pair.get(1)?)?;
    }
    Some(out)
}

/// Run an engine call's future with `parent` (if any) as its OpenTelemetry parent: the call's
/// span gets the parent's trace id and has the parent's span id as its parent span id, and
/// follows its sampled flag. Without a parent the future runs unchanged.
pub async fn parented<F: Future>(parent: Option<TraceParent>, future: F) -> F::Output {
    match parent {
        Some(parent) => future.with_context(parent.context()).await,
        None => future.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_w3c_traceparent_is_read() {
        let parent = TraceParent::parse(GOOD).unwrap();
        assert_eq!(parent.trace_id[..2], [0x4b, 0xf9]);
        assert_eq!(parent.span_id[7], 0xb7);
        assert!(parent.sampled());
        assert_eq!(parent.to_string(), GOOD);
        assert!(!TraceParent::parse(&GOOD.replace("-01", "-00")).unwrap().sampled());
        let cx = parent.context();
        let span = cx.span();
        let sc = span.span_context();
        assert_eq!(sc.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(sc.is_remote() && sc.is_sampled());
    }

    #[test]
    fn anything_else_is_no_parent() {
        for bad in [
            "",
            "garbage",
            &GOOD.replace("00-", "01-"),
            &GOOD.replace("00-4b", "ff-4b"),
            &GOOD.to_uppercase(),
            &GOOD.replace("4bf9", "4BF9"),
            &format!(" {GOOD}"),
            &format!("{GOOD}-00"),
            &format!("{GOOD} "),
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }
}
