//! A [`sspr_core::Notifier`] for any other gateway: a signed JSON `POST` (feature `webhook`);
//! and [`WebhookAuditSink`], the audit trail as the same signed `POST`s.
//!
//! The body is one JSON object:
//!
//! ```json
//! {"version": 1, "kind": "pin", "channel": "sms", "to": "+447400900123", "locale": "en",
//!  "subject": "Your password reset code", "text": "Your code is 12345678. ...",
//!  "pin": "12345678", "expires_at": "2026-03-02T09:10:00Z", "at": "2026-03-02T09:00:00Z"}
//! ```
//!
//! `kind` is `pin`, `reset_requested`, `password_reset` or `contacts_changed`; `pin` and
//! `expires_at` are present for `pin` only (a gateway with its own templates uses them, others
//! send `text`). Two headers authenticate it:
//!
//! - `X-Sspr-Timestamp`: the notice's time, unix seconds;
//! - `X-Sspr-Signature`: `v1=` and the lower-case hex HMAC-SHA256, under the shared key, of
//!   the timestamp, a `.`, and the body bytes.
//!
//! The receiver recomputes the HMAC, compares in constant time, and refuses timestamps too far
//! from its clock (replays): [`verify_signature`] does exactly that. Only a failure to connect
//! is retried; a `2xx` answer means accepted, `4xx` (but 429) refused, `429`/`5xx` unavailable.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use sspr_core::notice::{Message, Notification};
use sspr_core::time::OffsetDateTime;
use sspr_core::time::format_description::well_known::Rfc3339;
use sspr_core::{AuditEvent, AuditSink, BackendError, BackendErrorKind, Channel, Clock, SystemClock};
use zeroize::Zeroizing;

use crate::http;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Sspr-Signature";
/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "X-Sspr-Timestamp";
/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The gateway and the shared key, as read from the portal's configuration.
///
/// ```
/// let config: sspr_backends::webhook::WebhookConfig = toml::from_str(r#"
///     url = "https://sms-gateway.example.org/sspr"
///     key = "0123456789abcdef0123456789abcdef-s3cret"
/// "#).unwrap();
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST (hidden in `Debug` beyond its origin: a path or query may hold a token).
    #[serde(deserialize_with = "crate::secret_field::string")]
    pub url: String,
    /// The shared HMAC key, at least 32 bytes (hidden in `Debug`).
    #[serde(deserialize_with = "crate::secret_field::string")]
    pub key: String,
    /// How long one request may take.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How many more times to try when the connection cannot be made at all.
    #[serde(default = "default_connect_retries")]
    pub connect_retries: u32,
    /// A PEM file of CA certificates to trust instead of the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Accept a plain `http://` URL to another host. Off: the body holds the PIN, so without
    /// TLS anyone on the path can read it; plain `http` is accepted only to loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

fn default_timeout_ms() -> u64 {
    10_000
}
fn default_connect_retries() -> u32 {
    2
}

impl WebhookConfig {
    /// A configuration for `url` and `key` with the defaults.
    pub fn new(url: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key: key.into(),
            timeout_ms: default_timeout_ms(),
            connect_retries: default_connect_retries(),
            ca_file: None,
            allow_insecure_http: false,
        }
    }
}

/// The scheme, host and port of `url`, without user info, path or query.
fn origin(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}/...")
        }
        None => "...".into(),
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &origin(&self.url))
            .field("key", &"***")
            .field("timeout_ms", &self.timeout_ms)
            .field("connect_retries", &self.connect_retries)
            .field("ca_file", &self.ca_file)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

/// Sends sspr's notices as signed JSON to a gateway. Cheap to clone.
#[derive(Clone)]
pub struct WebhookNotifier {
    poster: SignedPoster,
}

impl fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifier").field("url", &origin(self.poster.url.as_str())).finish_non_exhaustive()
    }
}

/// The signed `POST` both the notifier and the audit sink send: the client, the URL and the
/// key, checked once.
#[derive(Clone)]
struct SignedPoster {
    client: reqwest::Client,
    url: reqwest::Url,
    key: Zeroizing<Vec<u8>>,
    connect_retries: u32,
}

impl SignedPoster {
    /// Fails with `Rejected` for a URL that is not `https` (plain `http` only to loopback or
    /// with `allow_insecure_http`), a key shorter than [`MIN_KEY_BYTES`], or an unusable CA
    /// file.
    fn from_config(config: &WebhookConfig) -> Result<Self, BackendError> {
        let reject = |m: String| BackendError::new(BackendErrorKind::Rejected, m);
        let url = reqwest::Url::parse(&config.url).map_err(|e| reject(format!("invalid webhook URL: {e}")))?;
        http::check_transport(&url, config.allow_insecure_http, "webhook URL")?;
        if config.key.len() < MIN_KEY_BYTES {
            return Err(reject(format!("the webhook key must be at least {MIN_KEY_BYTES} bytes")));
        }
        let client =
            http::client(config.ca_file.as_deref(), Duration::from_millis(config.timeout_ms), http::is_loopback(&url))?;
        Ok(Self {
            client,
            url,
            key: Zeroizing::new(config.key.as_bytes().to_vec()),
            connect_retries: config.connect_retries,
        })
    }

    /// POST `body` signed at `timestamp`; `2xx` is accepted, `4xx` (but 429) refused,
    /// `429`/`5xx` unavailable. Errors never hold the URL, the key or the answer's body.
    async fn post(&self, body: &[u8], timestamp: i64) -> Result<(), BackendError> {
        let signature = sign(&self.key, timestamp, body);
        let response = http::send(
            || {
                self.client
                    .post(self.url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(TIMESTAMP_HEADER, timestamp.to_string())
                    .header(SIGNATURE_HEADER, signature.as_str())
                    .body(body.to_vec())
            },
            self.connect_retries,
        )
        .await?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            // The answer's body is not quoted: a gateway might echo the request, PIN and all.
            Err(BackendError::new(http::status_kind(status), format!("the webhook answered {}", status.as_u16())))
        }
    }
}

/// `v1=<hex>`: the signature of `timestamp` and `body` under `key`.
pub fn sign(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length: this never fails; an empty signature would be refused.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(3 + digest.len() * 2);
    out.push_str("v1=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// For receivers: whether `signature` (the `X-Sspr-Signature` value) signs `timestamp` (the
/// `X-Sspr-Timestamp` value) and `body` under `key`, and the timestamp is within `tolerance`
/// of `now`. The comparison is constant-time.
///
/// ```
/// use sspr_backends::webhook::{sign, verify_signature};
/// let key = b"0123456789abcdef0123456789abcdef";
/// let now = sspr_core::time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
/// let signature = sign(key, 1_800_000_000, b"{}");
/// assert!(verify_signature(key, "1800000000", b"{}", &signature, now, std::time::Duration::from_secs(300)));
/// assert!(!verify_signature(key, "1800000000", b"{ }", &signature, now, std::time::Duration::from_secs(300)));
/// ```
pub fn verify_signature(
    key: &[u8],
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now: OffsetDateTime,
    tolerance: Duration,
) -> bool {
    let Ok(at) = timestamp.parse::<i64>() else { return false };
    let skew = now.unix_timestamp().abs_diff(at);
    if skew > tolerance.as_secs() {
        return false;
    }
    let Some(hex) = signature.strip_prefix("v1=") else { return false };
    let Some(given) = decode_hex(hex) else { return false };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else { return false };
    mac.update(at.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

fn time(t: OffsetDateTime) -> Option<String> {
    t.to_offset(sspr_core::time::UtcOffset::UTC).format(&Rfc3339).ok()
}

/// The JSON body for `notification` (it holds the PIN: wiped when dropped).
pub fn payload(notification: &Notification) -> Zeroizing<Vec<u8>> {
    let rendered = notification.render();
    let (kind, pin, expires_at) = match &notification.message {
        Message::Pin { pin, expires_at, .. } => {
            (notification.message.kind(), Some(pin.expose_secret()), time(*expires_at))
        }
        Message::ResetRequested { .. } => ("reset_requested", None, None),
        Message::PasswordReset { .. } => ("password_reset", None, None),
        Message::ContactsChanged { .. } => ("contacts_changed", None, None),
        Message::RegistrationReminder { .. } => ("registration_reminder", None, None),
        Message::AdminAlert { .. } => ("admin_alert", None, None),
        _ => ("notice", None, None),
    };
    let mut body = serde_json::Map::new();
    body.insert("version".into(), 1.into());
    body.insert("kind".into(), kind.into());
    body.insert(
        "channel".into(),
        match notification.to.channel() {
            Channel::Sms => "sms",
            _ => "email",
        }
        .into(),
    );
    body.insert("to".into(), notification.to.as_str().into());
    body.insert("locale".into(), notification.locale.as_str().into());
    body.insert("subject".into(), rendered.subject.clone().into());
    body.insert("text".into(), rendered.body.as_str().into());
    if let Some(pin) = pin {
        body.insert("pin".into(), pin.into());
    }
    if let Some(expires_at) = expires_at {
        body.insert("expires_at".into(), expires_at.into());
    }
    if let Some(at) = time(notification.at) {
        body.insert("at".into(), at.into());
    }
    let value = serde_json::Value::Object(body);
    let bytes = Zeroizing::new(serde_json::to_vec(&value).unwrap_or_default());
    // Wipe the copies inside the JSON value too.
    if let serde_json::Value::Object(mut map) = value {
        for (_, v) in map.iter_mut() {
            if let serde_json::Value::String(s) = v {
                zeroize::Zeroize::zeroize(s);
            }
        }
    }
    bytes
}

impl WebhookNotifier {
    /// Build the notifier. Fails with `Rejected` for a URL that is not `https` (plain `http`
    /// only to loopback or with `allow_insecure_http`), a key shorter than [`MIN_KEY_BYTES`],
    /// or an unusable CA file.
    pub fn from_config(config: &WebhookConfig) -> Result<Self, BackendError> {
        Ok(Self { poster: SignedPoster::from_config(config)? })
    }
}

#[async_trait]
impl sspr_core::Notifier for WebhookNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        let body = payload(notification);
        self.poster.post(&body, notification.at.unix_timestamp()).await
    }
}

/// The audit trail as signed JSON `POST`s (feature `webhook`): the body is the event's
/// versioned JSON ([`AuditEvent::to_json`]), signed as the notifier signs its notices
/// ([`SIGNATURE_HEADER`], [`TIMESTAMP_HEADER`], checked with [`verify_signature`]). The
/// timestamp is the time of sending, not the event's `at` (a queued event may be sent later;
/// the receiver's replay window applies to the request). Use another URL and key than the
/// notifier's, so that a receiver never takes an audit event for a notice.
///
/// An event is sent once (a failure to connect is retried as the notifier's are): put the
/// sink behind a [`QueuedAuditSink`](crate::audit_queue::QueuedAuditSink) (the configuration
/// does) so that a slow receiver never slows a reset.
#[derive(Clone)]
pub struct WebhookAuditSink {
    poster: SignedPoster,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for WebhookAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookAuditSink").field("url", &origin(self.poster.url.as_str())).finish_non_exhaustive()
    }
}

impl WebhookAuditSink {
    /// Build the sink; the configuration is checked as [`WebhookNotifier::from_config`]
    /// checks it (plain `http` is refused but to loopback: the events hold user ids, masked
    /// addresses and client IPs).
    pub fn from_config(config: &WebhookConfig) -> Result<Self, BackendError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// As [`WebhookAuditSink::from_config`], timestamping requests with `clock`.
    pub fn with_clock(config: &WebhookConfig, clock: Arc<dyn Clock>) -> Result<Self, BackendError> {
        Ok(Self { poster: SignedPoster::from_config(config)?, clock })
    }
}

#[async_trait]
impl AuditSink for WebhookAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        self.poster.post(event.to_json().as_bytes(), self.clock.now().unix_timestamp()).await
    }
}
