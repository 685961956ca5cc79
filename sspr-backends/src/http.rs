//! What the HTTP notifiers (Twilio, webhook) share: a reqwest client on rustls with the ring
//! provider (the one ldap3 and lettre use, so every feature links into one binary), the
//! retry rule, the transport rule (HTTPS unless loopback or allowed), and the mapping of
//! failures.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
#[cfg(any(feature = "sms-twilio", feature = "webhook"))]
use reqwest::{RequestBuilder, Response};
use sspr_core::{BackendError, BackendErrorKind};

/// What every request names its client as: `sspr/<version>`.
pub(crate) const USER_AGENT: &str = concat!("sspr/", env!("CARGO_PKG_VERSION"));

fn config_error(message: impl Into<String>) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, message)
}

/// Whether `url` names this host: a loopback IP address (`127.0.0.0/8`, `::1`, also
/// IPv4-mapped) or `localhost`, which resolvers answer with loopback (RFC 6761). A name
/// merely starting with those (`127.0.0.1.example.org`, `localhost.example.org`) is not.
pub(crate) fn is_loopback(url: &Url) -> bool {
    // The URL parser has already normalised IPv4 forms (`0x7f.1`) and bracketed IPv6.
    url.host_str().is_some_and(crate::loopback::is_loopback_host)
}

/// The transport rule for an endpoint that receives PINs, phone numbers and credentials:
/// `https` always; plain `http` only to loopback (the bytes never leave the host: a local
/// relay, a test stand-in) or when the configuration says `allow_insecure_http = true`.
pub(crate) fn check_transport(url: &Url, allow_insecure_http: bool, what: &str) -> Result<(), BackendError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(url) => Ok(()),
        "http" => Err(config_error(format!(
            "the {what} must be https:// (plain http is accepted only to a loopback address, or with allow_insecure_http = true)"
        ))),
        _ => Err(config_error(format!("the {what} must be an https:// URL"))),
    }
}

/// A client that verifies servers against `ca_file` when given, else the system's roots.
/// For a loopback endpoint (`direct`) no proxy is used, so plain HTTP that was allowed because
/// it stays on this host does not go out to an `HTTP_PROXY` after all.
pub(crate) fn client(ca_file: Option<&Path>, timeout: Duration, direct: bool) -> Result<Client, BackendError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| config_error(format!("cannot read the CA file {}: {e}", path.display())))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| config_error(format!("the CA file {} is not PEM: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| config_error(format!("a certificate in {} is unusable: {e}", path.display())))?;
            }
            if roots.is_empty() {
                return Err(config_error(format!("the CA file {} holds no certificate", path.display())));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let builder = if direct { Client::builder().no_proxy() } else { Client::builder() };
    builder
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        // reqwest sends none; services ask for one (Have I Been Pwned answers 403 without it).
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| config_error(format!("HTTP client set-up: {}", e.without_url())))
}

#[cfg(any(feature = "sms-twilio", feature = "webhook"))]
/// Send the request `build` makes. Only a failure to connect is retried (up to `retries`
/// more times): then no byte of the request left this host, so a retry cannot deliver a
/// message twice. A timeout or a broken connection after sending is never retried.
pub(crate) async fn send(build: impl Fn() -> RequestBuilder, retries: u32) -> Result<Response, BackendError> {
    let mut attempt = 0;
    loop {
        match build().send().await {
            Err(e) if e.is_connect() && attempt < retries => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
            Err(e) => return Err(map_err(e)),
            Ok(response) => return Ok(response),
        }
    }
}

/// A transport failure, without the URL (it may hold a token).
#[cfg(any(feature = "sms-twilio", feature = "webhook", feature = "captcha"))]
pub(crate) fn map_err(e: reqwest::Error) -> BackendError {
    let e = e.without_url();
    let message = if e.is_timeout() {
        "the gateway did not answer in time"
    } else if e.is_connect() {
        "the gateway could not be reached"
    } else {
        "the request to the gateway failed"
    };
    let kind = if e.is_builder() { BackendErrorKind::Rejected } else { BackendErrorKind::Unavailable };
    BackendError::new(kind, message).with_source(e)
}

/// Why an answer's body was not read to its end.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// It is longer than the caller's limit (by its `Content-Length`, or as it came).
    TooLarge,
    /// The transport failed (a timeout, a connection broken off).
    Transport(reqwest::Error),
}

/// The body of `response`, `limit` bytes at most. An endpoint (broken, a proxy, or hostile)
/// may answer without end: the client's timeout bounds the time, this bounds the memory, as
/// the body is refused at the first chunk past the limit rather than read whole first.
pub(crate) async fn body_within(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The kind for an HTTP answer that is not a success: 429 and 5xx may work later, other
/// 4xx will not.
pub(crate) fn status_kind(status: StatusCode) -> BackendErrorKind {
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        BackendErrorKind::Unavailable
    } else {
        BackendErrorKind::Rejected
    }
}
