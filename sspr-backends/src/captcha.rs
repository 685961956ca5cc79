//! Bot challenge verifiers (feature `captcha`): Cloudflare Turnstile, hCaptcha and Google
//! reCAPTCHA, each by its provider's server-side `siteverify` endpoint, as
//! [`sspr_core::BotChallenge`]s.
//!
//! One request shape for all three (each provider documents it): `POST` a form with `secret`,
//! `response` (the widget's token) and, when known, `remoteip`; hCaptcha also takes the
//! expected `sitekey`. The answer is JSON with `success`, `error-codes`, and `hostname`
//! (all three) and `action` (Turnstile, reCAPTCHA v3). A token is passed only when the
//! provider says `success` **and** the answer's `hostname` is one of the configured
//! `hostnames` (when given) **and** its `action` is the configured `action` (when given).
//!
//! Fails closed: a provider that does not answer within `timeout_ms`, answers a non-2xx
//! status, answers something that is not the JSON above, or says the secret or the request
//! is wrong (`missing-input-secret`, `invalid-input-secret`, `sitekey-secret-mismatch`,
//! `bad-request`, `internal-error`) is an error (kind `Unavailable`, or `Rejected` for a
//! configuration the provider refused), which the engine answers as `challenge unavailable`.
//! Neither the token nor the secret is ever in an error, a log or `Debug`.
//!
//! Verified against local stand-ins of the three endpoints only (`tests/captcha/`): the real
//! endpoints cannot be reached from sspr's test machines.

pub mod testing;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Client, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sspr_core::backend::{BotChallenge, ChallengeCheck, ChallengePolicy, ChallengeVerdict, ChallengeWidget};
use sspr_core::{BackendError, BackendErrorKind};

/// A bot challenge provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CaptchaProvider {
    /// Cloudflare Turnstile.
    Turnstile,
    /// hCaptcha.
    Hcaptcha,
    /// Google reCAPTCHA (v2 checkbox; v3 answers are read alike, `action` checked when set).
    Recaptcha,
}

impl CaptchaProvider {
    /// The provider's `siteverify` endpoint.
    pub fn verify_url(self) -> &'static str {
        match self {
            Self::Turnstile => "https://challenges.cloudflare.com/turnstile/v0/siteverify",
            Self::Hcaptcha => "https://api.hcaptcha.com/siteverify",
            Self::Recaptcha => "https://www.google.com/recaptcha/api/siteverify",
        }
    }

    /// The widget's script, for the page that shows it.
    pub fn script_url(self) -> &'static str {
        match self {
            Self::Turnstile => "https://challenges.cloudflare.com/turnstile/v0/api.js",
            Self::Hcaptcha => "https://js.hcaptcha.com/1/api.js",
            Self::Recaptcha => "https://www.google.com/recaptcha/api.js",
        }
    }

    /// The class of the element the script turns into the widget (with `data-sitekey`).
    pub fn widget_class(self) -> &'static str {
        match self {
            Self::Turnstile => "cf-turnstile",
            Self::Hcaptcha => "h-captcha",
            Self::Recaptcha => "g-recaptcha",
        }
    }

    /// The form field the widget puts its token in.
    pub fn response_field(self) -> &'static str {
        match self {
            Self::Turnstile => "cf-turnstile-response",
            Self::Hcaptcha => "h-captcha-response",
            Self::Recaptcha => "g-recaptcha-response",
        }
    }

    /// The origins a Content-Security-Policy must allow for the widget's scripts (and
    /// `connect-src`), as each provider documents them.
    pub fn script_origins(self) -> &'static [&'static str] {
        match self {
            Self::Turnstile => &["https://challenges.cloudflare.com"],
            Self::Hcaptcha => &["https://hcaptcha.com", "https://*.hcaptcha.com"],
            Self::Recaptcha => &["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"],
        }
    }

    /// The origins a Content-Security-Policy must allow as frames for the widget.
    pub fn frame_origins(self) -> &'static [&'static str] {
        match self {
            Self::Turnstile => &["https://challenges.cloudflare.com"],
            Self::Hcaptcha => &["https://hcaptcha.com", "https://*.hcaptcha.com"],
            Self::Recaptcha => &["https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"],
        }
    }

    /// The provider's name in `[bot_challenge] provider`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Turnstile => "turnstile",
            Self::Hcaptcha => "hcaptcha",
            Self::Recaptcha => "recaptcha",
        }
    }

    /// Every CSP directive the widget needs and its sources, as each provider documents them:
    /// Turnstile `script-src` and `frame-src` (developers.cloudflare.com/turnstile/reference/
    /// content-security-policy); hCaptcha those and `style-src`, `connect-src`, all
    /// `https://hcaptcha.com https://*.hcaptcha.com` (docs.hcaptcha.com, "Content-Security-Policy
    /// Settings"); reCAPTCHA `script-src` and `frame-src` (developers.google.com/recaptcha/docs/faq).
    pub fn csp_sources(self) -> Vec<(&'static str, &'static [&'static str])> {
        let mut sources = vec![("script-src", self.script_origins()), ("frame-src", self.frame_origins())];
        if self == Self::Hcaptcha {
            sources.push(("style-src", self.script_origins()));
            sources.push(("connect-src", self.script_origins()));
        }
        sources
    }
}

/// When the challenge is asked (`policy` of `[bot_challenge]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    /// Every `begin_reset`.
    #[default]
    Always,
    /// After `begins_per_ip` / `begins_per_login` begins in `window_minutes`.
    AfterBegins,
}

/// `[bot_challenge]`: the provider, its keys and when to ask.
///
/// ```toml
/// [bot_challenge]
/// provider = "turnstile"          # or "hcaptcha", "recaptcha"
/// site_key = "0x4AAAAAAA..."      # public: shown in the page
/// secret = "0x4AAAAAAA...secret"  # never logged
/// hostnames = ["reset.example.org"]
/// policy = "after_begins"         # or "always" (default)
/// begins_per_ip = 5
/// begins_per_login = 3
/// window_minutes = 60
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotChallengeConfig {
    /// Which provider.
    pub provider: CaptchaProvider,
    /// The site key (public: the widget shows it in the page).
    pub site_key: String,
    /// The secret key sent to `siteverify`.
    #[serde(deserialize_with = "crate::secret_field::string")]
    pub secret: String,
    /// Another `siteverify` URL (a test stand-in, a proxy); default the provider's.
    #[serde(default)]
    pub verify_url: Option<String>,
    /// Hostnames a token must have been solved on; empty: not checked (the provider's own
    /// site-key domain list then decides).
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// The widget action a token must carry (Turnstile `data-action`, reCAPTCHA v3); none: not
    /// checked.
    #[serde(default)]
    pub action: Option<String>,
    /// How long `siteverify` may take, in milliseconds. Default 5000, range 100..=30000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// When to ask. Default `always`.
    #[serde(default)]
    pub policy: PolicyName,
    /// With `after_begins`: begins per client address in the window before a challenge.
    #[serde(default)]
    pub begins_per_ip: Option<u32>,
    /// With `after_begins`: begins per typed login in the window before a challenge.
    #[serde(default)]
    pub begins_per_login: Option<u32>,
    /// With `after_begins`: the window, in minutes (1..=1440). Default 60.
    #[serde(default = "default_window_minutes")]
    pub window_minutes: u64,
    /// A CA file (PEM) to verify the endpoint with, instead of the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Allow plain `http://` to a host other than loopback. Default off.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

fn default_timeout_ms() -> u64 {
    5000
}

fn default_window_minutes() -> u64 {
    60
}

impl fmt::Debug for BotChallengeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotChallengeConfig")
            .field("provider", &self.provider)
            .field("site_key", &self.site_key)
            .field("secret", &"***")
            .field("verify_url", &self.verify_url.as_deref().map(crate::endpoint::redacted))
            .field("hostnames", &self.hostnames)
            .field("action", &self.action)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn config_error(message: impl Into<String>) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, message)
}

impl BotChallengeConfig {
    /// The engine's policy from `policy`, `begins_per_ip`, `begins_per_login` and
    /// `window_minutes` (checked by [`ChallengePolicy::validate`]).
    ///
    /// # Errors
    ///
    /// `Rejected` naming the setting that is out of bounds.
    pub fn challenge_policy(&self) -> Result<ChallengePolicy, BackendError> {
        let policy = match self.policy {
            PolicyName::Always => ChallengePolicy::Always,
            PolicyName::AfterBegins => ChallengePolicy::AfterBegins {
                per_ip: self.begins_per_ip,
                per_login: self.begins_per_login,
                window: Duration::from_secs(self.window_minutes.saturating_mul(60)),
            },
        };
        policy.validate().map_err(|e| config_error(e.to_string()))?;
        Ok(policy)
    }
}

/// A provider's `siteverify` as a [`BotChallenge`].
pub struct SiteVerify {
    provider: CaptchaProvider,
    secret: SecretString,
    site_key: String,
    url: Url,
    client: Client,
    hostnames: Vec<String>,
    action: Option<String>,
}

impl fmt::Debug for SiteVerify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteVerify")
            .field("provider", &self.provider)
            .field("url", &crate::endpoint::redacted(self.url.as_str()))
            .field("hostnames", &self.hostnames)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// The `siteverify` answer, as far as read (every provider's shape).
#[derive(Deserialize)]
struct Answer {
    success: bool,
    #[serde(default, rename = "error-codes")]
    error_codes: Vec<String>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

/// The most of a `siteverify` answer read (they are a few hundred bytes).
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// Error codes that say the request or the configuration is wrong, not the token: no answer
/// about the visitor at all, so the engine must not call it a failed challenge.
const CONFIG_CODES: &[&str] =
    &["missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch", "bad-request", "internal-error"];

impl SiteVerify {
    /// Set the verifier up from `[bot_challenge]`.
    ///
    /// # Errors
    ///
    /// `Rejected` for an empty secret or site key, a bad `verify_url`, plain http off
    /// loopback, a timeout out of range or an unreadable CA file.
    pub fn new(config: &BotChallengeConfig) -> Result<Self, BackendError> {
        if config.secret.trim().is_empty() {
            return Err(config_error("bot_challenge: secret is empty"));
        }
        if config.site_key.trim().is_empty() {
            return Err(config_error("bot_challenge: site_key is empty"));
        }
        if !(100..=30_000).contains(&config.timeout_ms) {
            return Err(config_error("bot_challenge: timeout_ms must be within 100..=30000"));
        }
        let text = config.verify_url.as_deref().unwrap_or(config.provider.verify_url());
        let url = Url::parse(text).map_err(|e| config_error(format!("bot_challenge: verify_url is not a URL: {e}")))?;
        crate::http::check_transport(&url, config.allow_insecure_http, "bot_challenge verify_url")?;
        let timeout = Duration::from_millis(config.timeout_ms);
        let client = crate::http::client(config.ca_file.as_deref(), timeout, crate::http::is_loopback(&url))?;
        Ok(Self {
            provider: config.provider,
            secret: SecretString::from(config.secret.clone()),
            site_key: config.site_key.clone(),
            url,
            client,
            hostnames: config.hostnames.iter().map(|h| h.to_ascii_lowercase()).collect(),
            action: config.action.clone(),
        })
    }

    /// The provider.
    pub fn provider(&self) -> CaptchaProvider {
        self.provider
    }
}

#[sspr_core::async_trait]
impl BotChallenge for SiteVerify {
    async fn verify(&self, check: &ChallengeCheck<'_>) -> Result<ChallengeVerdict, BackendError> {
        let remote_ip = check.client_ip.map(|ip| ip.to_string());
        let mut form: Vec<(&str, &str)> =
            vec![("secret", self.secret.expose_secret()), ("response", check.token.expose_secret())];
        if let Some(ip) = &remote_ip {
            form.push(("remoteip", ip));
        }
        if self.provider == CaptchaProvider::Hcaptcha {
            form.push(("sitekey", &self.site_key));
        }
        let response = self.client.post(self.url.clone()).form(&form).send().await.map_err(crate::http::map_err)?;
        let status = response.status();
        if !status.is_success() {
            return Err(BackendError::new(
                crate::http::status_kind(status),
                format!("siteverify answered HTTP {}", status.as_u16()),
            ));
        }
        let body = crate::http::body_within(response, MAX_ANSWER_BYTES).await.map_err(|e| match e {
            crate::http::BodyError::TooLarge => BackendError::new(
                BackendErrorKind::Unavailable,
                format!("siteverify answered more than {MAX_ANSWER_BYTES} bytes"),
            ),
            crate::http::BodyError::Transport(e) => crate::http::map_err(e),
        })?;
        let answer: Answer = serde_json::from_slice(&body).map_err(|_| {
            BackendError::new(BackendErrorKind::Unavailable, "siteverify answered something that is not its JSON")
        })?;
        if let Some(code) = answer.error_codes.iter().find(|c| CONFIG_CODES.contains(&c.as_str())) {
            return Err(BackendError::new(
                BackendErrorKind::Rejected,
                format!("siteverify refused the request, not the token: {}", plain(code)),
            ));
        }
        if !answer.success {
            let reasons = answer.error_codes.iter().map(|c| plain(c)).collect::<Vec<_>>();
            let reasons = if reasons.is_empty() { vec!["unsuccessful".to_owned()] } else { reasons };
            return Ok(ChallengeVerdict::Failed { reasons });
        }
        if !self.hostnames.is_empty()
            && !answer.hostname.as_deref().is_some_and(|h| self.hostnames.contains(&h.to_ascii_lowercase()))
        {
            return Ok(ChallengeVerdict::Failed { reasons: vec!["hostname-mismatch".into()] });
        }
        if let Some(expected) = &self.action
            && answer.action.as_deref() != Some(expected.as_str())
        {
            return Ok(ChallengeVerdict::Failed { reasons: vec!["action-mismatch".into()] });
        }
        Ok(ChallengeVerdict::Passed)
    }

    fn widget(&self) -> Option<ChallengeWidget> {
        let provider = self.provider;
        let owned = |sources: &[&str]| sources.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Some(ChallengeWidget {
            provider: provider.name().to_owned(),
            site_key: self.site_key.clone(),
            script_url: provider.script_url().to_owned(),
            widget_class: provider.widget_class().to_owned(),
            response_field: provider.response_field().to_owned(),
            csp_sources: provider.csp_sources().into_iter().map(|(d, s)| (d.to_owned(), owned(s))).collect(),
            always: true,
        })
    }
}

/// A provider's code as we repeat it: plain characters only, cut short.
fn plain(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).take(64).collect()
}
