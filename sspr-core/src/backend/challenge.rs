//! `BotChallenge`: a bot challenge (CAPTCHA) checked before a reset begins. The core asks,
//! a backend answers: the built-in verifiers (Cloudflare Turnstile, hCaptcha, Google
//! reCAPTCHA) are in sspr-backends (feature `captcha`); a host adds its own the same way.

use std::fmt::{self, Debug};
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{BackendError, Error, Result};

/// Longest token accepted, in bytes. Turnstile documents at most 2048 characters; the other
/// providers' tokens are shorter than this in practice.
pub const MAX_CHALLENGE_TOKEN_LEN: usize = 4096;

/// The token a provider's widget gave the browser (`cf-turnstile-response`,
/// `h-captcha-response`, `g-recaptcha-response`), passed to `begin_reset` in
/// [`crate::RequestContext::challenge_token`].
///
/// A bearer value for one verification: it is never logged, never in an error, an audit
/// event or `Debug` output (which prints `ChallengeToken([REDACTED])`).
pub struct ChallengeToken(SecretString);

impl ChallengeToken {
    /// Read a token as a form or a binding hands it over. Blank is `None` (no token: a form
    /// posted without the widget's answer). Longer than [`MAX_CHALLENGE_TOKEN_LEN`] or with
    /// a control character or a space is `InvalidInput` naming `challenge_token` (the
    /// error never holds the text).
    ///
    /// ```
    /// use sspr_core::ChallengeToken;
    /// assert!(ChallengeToken::parse("").unwrap().is_none());
    /// let token = ChallengeToken::parse("0.zZ-token_1").unwrap().unwrap();
    /// assert_eq!(format!("{token:?}"), "ChallengeToken([REDACTED])");
    /// assert_eq!(ChallengeToken::parse("a\nb").unwrap_err().code(), "invalid_input");
    /// ```
    pub fn parse(text: &str) -> Result<Option<Self>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.len() > MAX_CHALLENGE_TOKEN_LEN {
            return Err(Error::invalid("challenge_token", format!("longer than {MAX_CHALLENGE_TOKEN_LEN} bytes")));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::invalid("challenge_token", "holds a space or a control character"));
        }
        Ok(Some(Self(SecretString::from(text.to_owned()))))
    }

    /// The token, for the verifier to send to its provider and nowhere else.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl Clone for ChallengeToken {
    fn clone(&self) -> Self {
        Self(SecretString::from(self.expose_secret().to_owned()))
    }
}

impl Debug for ChallengeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChallengeToken([REDACTED])")
    }
}

/// What a verifier is asked to check. `Debug` shows the client's address only.
pub struct ChallengeCheck<'a> {
    /// The widget's token.
    pub token: &'a ChallengeToken,
    /// The client's address, for providers that take it (`remoteip`).
    pub client_ip: Option<IpAddr>,
}

impl Debug for ChallengeCheck<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChallengeCheck").field("client_ip", &self.client_ip).finish_non_exhaustive()
    }
}

/// A verifier's answer about a token it could check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeVerdict {
    /// The provider says a person solved it, for this site (and action, where checked).
    Passed,
    /// The provider refused the token (expired, used, forged, another site's hostname...).
    Failed {
        /// Why, as stable words for the audit trail (the provider's error codes, or
        /// `hostname-mismatch`, `action-mismatch`); never the token.
        reasons: Vec<String>,
    },
}

/// A bot challenge checked by `begin_reset` ([`crate::SsprBuilder::bot_challenge`]).
///
/// Contract:
/// - `Ok(Passed)` only when the provider confirmed the token; `Ok(Failed)` when it refused
///   it. The engine answers [`Error::Challenge`] with `failed` then, and starts nothing.
/// - `Err` means the token could not be checked (the provider unreachable, a timeout, a 5xx,
///   an answer that cannot be read, a rejected secret). The engine **fails closed**: the
///   reset does not begin ([`crate::ChallengeRefusal::Unavailable`]), and the error's kind
///   and message go to the audit trail. There is no fail-open setting.
/// - The token must never appear in a returned value, an error, a log or `Debug`; nor the
///   provider's secret.
/// - It should answer within a few seconds (a timeout of its own): the user is waiting.
/// - It is never told the login: a verdict cannot depend on whether the account exists.
#[async_trait]
pub trait BotChallenge: Send + Sync + Debug {
    /// Check `check.token` with the provider.
    async fn verify(&self, check: &ChallengeCheck<'_>) -> Result<ChallengeVerdict, BackendError>;

    /// What a page needs to show this verifier's widget (public values only: never the
    /// secret). `None` (the default): the host renders its own widget and passes its token.
    /// The engine answers it through [`crate::Sspr::challenge_widget`], with
    /// [`ChallengeWidget::always`] set from the policy.
    fn widget(&self) -> Option<ChallengeWidget> {
        None
    }
}

/// What a page needs to show a bot challenge's widget and let it run: the provider's script
/// and element, the form field its token arrives in, and the Content-Security-Policy sources
/// it needs. All of it public (the site key is in the page anyway); the same for every web
/// integration, so none of them reads the configuration itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeWidget {
    /// The provider's name (`turnstile`, `hcaptcha`, `recaptcha`, or a host's own).
    pub provider: String,
    /// The public site key (`data-sitekey`).
    pub site_key: String,
    /// The widget's script (`<script src=... async defer>`).
    pub script_url: String,
    /// The class of the element the script turns into the widget.
    pub widget_class: String,
    /// The form field the widget puts its token in (`cf-turnstile-response`...).
    pub response_field: String,
    /// Each CSP directive the widget needs (`script-src`, `frame-src`, ...) and the sources it
    /// must allow, as the provider documents them.
    pub csp_sources: Vec<(String, Vec<String>)>,
    /// `true` when every begin needs a token ([`ChallengePolicy::Always`]): the start page
    /// shows the widget. `false` ([`ChallengePolicy::AfterBegins`]): a begin needs one only
    /// once the engine refused one with `challenge required`; show it then.
    pub always: bool,
}

impl ChallengeWidget {
    /// `base` (a Content-Security-Policy) with the widget's sources added, and nothing else
    /// changed: a directive the base sets to `'none'` gets exactly the widget's sources; one it
    /// sets otherwise keeps its sources and gains the widget's; one it does not set starts from
    /// its `default-src` (as a browser would read it, unless that is `'none'`).
    ///
    /// ```
    /// use sspr_core::ChallengeWidget;
    /// let widget = ChallengeWidget {
    ///     provider: "turnstile".into(),
    ///     site_key: "0x4AAA".into(),
    ///     script_url: "https://challenges.cloudflare.com/turnstile/v0/api.js".into(),
    ///     widget_class: "cf-turnstile".into(),
    ///     response_field: "cf-turnstile-response".into(),
    ///     csp_sources: vec![
    ///         ("script-src".into(), vec!["https://challenges.cloudflare.com".into()]),
    ///         ("frame-src".into(), vec!["https://challenges.cloudflare.com".into()]),
    ///     ],
    ///     always: true,
    /// };
    /// assert_eq!(
    ///     widget.csp("default-src 'none'; style-src 'self'; frame-src 'none'"),
    ///     "default-src 'none'; style-src 'self'; frame-src https://challenges.cloudflare.com; \
    ///      script-src https://challenges.cloudflare.com",
    /// );
    /// ```
    pub fn csp(&self, base: &str) -> String {
        let mut directives: Vec<(String, Vec<String>)> = base
            .split(';')
            .filter_map(|part| {
                let mut words = part.split_whitespace().map(str::to_owned);
                words.next().map(|name| (name.to_ascii_lowercase(), words.collect()))
            })
            .collect();
        let default: Vec<String> = directives
            .iter()
            .find(|(name, _)| name == "default-src")
            .map(|(_, sources)| sources.clone())
            .filter(|sources| !is_none(sources))
            .unwrap_or_default();
        for (name, extra) in &self.csp_sources {
            let name = name.to_ascii_lowercase();
            let at = match directives.iter().position(|(n, _)| *n == name) {
                Some(at) => at,
                None => {
                    directives.push((name, default.clone()));
                    directives.len() - 1
                }
            };
            if let Some((_, sources)) = directives.get_mut(at) {
                if is_none(sources) {
                    sources.clear();
                }
                for source in extra {
                    if !sources.contains(source) {
                        sources.push(source.clone());
                    }
                }
            }
        }
        directives
            .iter()
            .map(
                |(name, sources)| {
                    if sources.is_empty() { name.clone() } else { format!("{name} {}", sources.join(" ")) }
                },
            )
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn is_none(sources: &[String]) -> bool {
    matches!(sources, [only] if only == "'none'")
}

/// When `begin_reset` asks for a solved challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengePolicy {
    /// On every `begin_reset`.
    Always,
    /// Once a client address (IPv4, or IPv6 /64) or a typed login has begun more than
    /// `per_ip` or `per_login` resets within `window`: the first ones pass without a token.
    /// Counted for every login typed, known or not, before the directory is asked, so the
    /// point at which a challenge is asked says nothing about the account. `None` does not
    /// count that way. Requests without an address are counted per login only.
    AfterBegins {
        /// Begins per client address in the window before a challenge is asked.
        per_ip: Option<u32>,
        /// Begins per typed login in the window before a challenge is asked.
        per_login: Option<u32>,
        /// The counting window (1 minute to 24 hours).
        window: Duration,
    },
}

impl ChallengePolicy {
    /// Shortest counting window.
    pub const MIN_WINDOW: Duration = Duration::from_secs(60);
    /// Longest counting window.
    pub const MAX_WINDOW: Duration = Duration::from_secs(24 * 3600);

    /// Check the bounds; `Config` names the setting that is out of them.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Always => Ok(()),
            Self::AfterBegins { per_ip, per_login, window } => {
                if per_ip.is_none() && per_login.is_none() {
                    return Err(Error::Config(
                        "bot_challenge: policy \"after_begins\" needs begins_per_ip or begins_per_login".into(),
                    ));
                }
                if !(Self::MIN_WINDOW..=Self::MAX_WINDOW).contains(window) {
                    return Err(Error::Config("bot_challenge: window_minutes must be 1..=1440".into()));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ChallengeWidget;

    fn hcaptcha() -> ChallengeWidget {
        let origins = || vec!["https://hcaptcha.com".to_owned(), "https://*.hcaptcha.com".to_owned()];
        ChallengeWidget {
            provider: "hcaptcha".into(),
            site_key: "10000000-ffff".into(),
            script_url: "https://js.hcaptcha.com/1/api.js".into(),
            widget_class: "h-captcha".into(),
            response_field: "h-captcha-response".into(),
            csp_sources: ["script-src", "frame-src", "style-src", "connect-src"]
                .into_iter()
                .map(|d| (d.to_owned(), origins()))
                .collect(),
            always: true,
        }
    }

    #[test]
    fn the_widget_csp_adds_exactly_the_providers_sources_and_changes_nothing_else() {
        let o = "https://hcaptcha.com https://*.hcaptcha.com";
        // Absent directives under default-src 'none': only the provider's sources.
        assert_eq!(
            hcaptcha().csp("default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
            format!(
                "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; script-src {o}; \
                 frame-src {o}; style-src {o}; connect-src {o}"
            )
        );
        // A directive that is set keeps its sources; 'none' is replaced; no source twice.
        assert_eq!(
            hcaptcha().csp("default-src 'none'; style-src 'self' https://hcaptcha.com; script-src 'none'"),
            format!(
                "default-src 'none'; style-src 'self' https://hcaptcha.com https://*.hcaptcha.com; script-src {o}; \
                 frame-src {o}; connect-src {o}"
            )
        );
        // An absent directive starts from default-src, as a browser reads it.
        assert_eq!(
            hcaptcha().csp("default-src 'self'; script-src 'none'"),
            format!(
                "default-src 'self'; script-src {o}; frame-src 'self' {o}; style-src 'self' {o}; connect-src 'self' {o}"
            )
        );
        // Directive names are case-insensitive; empty parts are dropped.
        assert_eq!(hcaptcha().csp("SCRIPT-SRC 'none';;").split("; ").next(), Some(format!("script-src {o}").as_str()));
    }
}
