//! `sspr.TrustedProxies`: the reverse proxies whose `X-Forwarded-For` is believed, and the
//! client's address behind them, by sspr-core's one rule (`sspr_core::client_from_forwarded`,
//! through `sspr_bind::forwarded`), so the FastAPI and Django routers read the header as the
//! portal does. Conversion only.

use pyo3::prelude::*;

use crate::errors::to_py_err;

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses (`"10.0.0.5"`) and
/// networks (`"10.0.0.0/8"`, `"2001:db8::/32"`), parsed once. `ConfigError` naming
/// `trusted_proxies` and the entry for one that is neither.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct TrustedProxies {
    inner: sspr_core::TrustedProxies,
}

#[pymethods]
impl TrustedProxies {
    #[new]
    #[pyo3(signature = (entries = Vec::new()))]
    fn new(entries: Vec<String>) -> PyResult<Self> {
        Ok(Self { inner: sspr_core::TrustedProxies::parse(&entries).map_err(to_py_err)? })
    }

    /// The client's address for the per-IP limits: `peer` (the TCP peer as the web server
    /// gives it), or, when it is a trusted proxy, the nearest hop of the `X-Forwarded-For`
    /// values `forwarded` (each header line, in order) that is not a trusted proxy, read from
    /// the right and never past a hop that is not a clean address. `None` only when `peer` is
    /// not an IP address (a Unix socket, a test client).
    fn client_ip(&self, peer: Option<&str>, forwarded: Vec<String>) -> Option<String> {
        sspr_bind::forwarded::client_ip(peer, &forwarded, &self.inner).map(|ip| ip.to_string())
    }

    /// Whether `address` is a trusted proxy (an IPv4-mapped address as its IPv4 address);
    /// `False` for text that is not an address.
    fn __contains__(&self, address: &str) -> bool {
        address.parse().is_ok_and(|ip| self.inner.contains(ip))
    }

    fn __bool__(&self) -> bool {
        !self.inner.is_empty()
    }
}
