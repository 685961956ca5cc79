//! A [`sspr_core::Notifier`] that sends SMS through the Twilio Messages API (feature
//! `sms-twilio`), or any gateway that speaks it (the base URL is configurable).
//!
//! One form `POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json` with `To`,
//! `From` (or `MessagingServiceSid`) and `Body`, HTTP Basic auth with the account SID and auth
//! token. The text is sspr-core's standard notice in the request's language. Only a failure
//! to connect is retried (nothing was sent then); the Messages API has no idempotency key, so
//! a timeout after sending is reported, never retried.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use sspr_core::notice::Notification;
use sspr_core::{BackendError, BackendErrorKind, Destination};

use crate::http;

/// The Twilio account and sender, as read from the portal's configuration.
///
/// ```
/// let config: sspr_backends::twilio::TwilioConfig = toml::from_str(r#"
///     account_sid = "AC0123456789abcdef0123456789abcdef"
///     auth_token = "s3cret"
///     from = "+15005550006"
/// "#).unwrap();
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// The account SID (`AC...`).
    pub account_sid: String,
    /// The auth token (hidden in `Debug`).
    #[serde(deserialize_with = "crate::secret_field::string")]
    pub auth_token: String,
    /// The sending number (E.164) or alphanumeric sender id; or give `messaging_service_sid`.
    #[serde(default)]
    pub from: Option<String>,
    /// A messaging service (`MG...`) instead of `from`.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// The API's base URL (a Twilio-compatible gateway, a test server).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// How long one request may take.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How many more times to try when the connection cannot be made at all.
    #[serde(default = "default_connect_retries")]
    pub connect_retries: u32,
    /// A PEM file of CA certificates to trust instead of the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Accept a plain `http://` base URL to another host. Off: the auth token, the number and
    /// the PIN travel in the request; plain `http` is accepted only to loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

fn default_base_url() -> String {
    "https://api.twilio.com".into()
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_connect_retries() -> u32 {
    2
}

impl TwilioConfig {
    /// A configuration sending from `from` with the defaults.
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            from: Some(from.into()),
            messaging_service_sid: None,
            base_url: default_base_url(),
            timeout_ms: default_timeout_ms(),
            connect_retries: default_connect_retries(),
            ca_file: None,
            allow_insecure_http: false,
        }
    }
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"***")
            .field("from", &self.from)
            .field("messaging_service_sid", &self.messaging_service_sid)
            // A gateway in front of Twilio may carry a token in its URL: never whole.
            .field("base_url", &crate::endpoint::redacted(&self.base_url))
            .field("timeout_ms", &self.timeout_ms)
            .field("connect_retries", &self.connect_retries)
            .field("ca_file", &self.ca_file)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

/// Which sender field the form carries.
#[derive(Debug, Clone)]
enum Sender {
    From(String),
    Service(String),
}

/// Sends sspr's notices by SMS through Twilio. Cheap to clone.
#[derive(Clone)]
pub struct TwilioNotifier {
    client: reqwest::Client,
    endpoint: String,
    account_sid: String,
    auth_token: String,
    sender: Sender,
    connect_retries: u32,
}

impl fmt::Debug for TwilioNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioNotifier")
            .field("endpoint", &crate::endpoint::redacted(&self.endpoint))
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

/// The one field of Twilio's error document that is kept (its `message` may quote the number).
#[derive(Deserialize)]
struct ApiError {
    code: Option<u64>,
}

impl TwilioNotifier {
    /// Build the notifier. Fails with `Rejected` when neither or both of `from` and
    /// `messaging_service_sid` are given, the account SID is not one, the base URL is not
    /// `https` (plain `http` only to loopback or with `allow_insecure_http`), or the CA file is
    /// unusable.
    pub fn from_config(config: &TwilioConfig) -> Result<Self, BackendError> {
        let reject = |m: &str| BackendError::new(BackendErrorKind::Rejected, m.to_owned());
        if config.account_sid.is_empty() || !config.account_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(reject("the Twilio account SID must be letters and digits"));
        }
        let sender = match (&config.from, &config.messaging_service_sid) {
            (Some(from), None) => Sender::From(from.clone()),
            (None, Some(service)) => Sender::Service(service.clone()),
            _ => return Err(reject("give exactly one of `from` and `messaging_service_sid`")),
        };
        let base = reqwest::Url::parse(&config.base_url)
            .map_err(|e| BackendError::new(BackendErrorKind::Rejected, format!("invalid Twilio base URL: {e}")))?;
        http::check_transport(&base, config.allow_insecure_http, "Twilio base URL")?;
        let client = http::client(
            config.ca_file.as_deref(),
            Duration::from_millis(config.timeout_ms),
            http::is_loopback(&base),
        )?;
        Ok(Self {
            client,
            endpoint: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                config.base_url.trim_end_matches('/'),
                config.account_sid
            ),
            account_sid: config.account_sid.clone(),
            auth_token: config.auth_token.clone(),
            sender,
            connect_retries: config.connect_retries,
        })
    }
}

#[async_trait]
impl sspr_core::Notifier for TwilioNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        let Destination::Sms(to) = &notification.to else {
            return Err(BackendError::new(BackendErrorKind::Rejected, "the Twilio notifier sends SMS, not e-mail"));
        };
        let rendered = notification.render();
        let sender = match &self.sender {
            Sender::From(from) => ("From", from.as_str()),
            Sender::Service(service) => ("MessagingServiceSid", service.as_str()),
        };
        let form = [("To", to.as_str()), sender, ("Body", rendered.body.as_str())];
        let response = http::send(
            || {
                self.client
                    .post(&self.endpoint)
                    .basic_auth(&self.account_sid, Some(&self.auth_token))
                    .header(reqwest::header::ACCEPT, "application/json")
                    .form(&form)
            },
            self.connect_retries,
        )
        .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // Only the status and Twilio's error code: Twilio's message quotes the destination
        // number ("The 'To' number +1415... is not a valid phone number"), and this error ends
        // up in the audit log. The code says the same (twilio.com/docs/errors/<code>).
        // Twilio's error documents are a few hundred bytes; a longer answer is not read.
        let body = http::body_within(response, 64 << 10).await.ok();
        let code = body.and_then(|b| serde_json::from_slice::<ApiError>(&b).ok()?.code);
        let message = match code {
            Some(code) => format!("Twilio answered {}, error {code}", status.as_u16()),
            None => format!("Twilio answered {}", status.as_u16()),
        };
        Err(BackendError::new(http::status_kind(status), message))
    }
}
