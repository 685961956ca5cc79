//! The one public error type of sspr and the error a backend reports.
//!
//! Variants are few and each names an action a portal can take; nothing in an error's
//! `Display` or `Debug` ever holds a PIN or a password.

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;

use crate::backend::PasswordRefusal;

/// Shorthand for `Result<T, sspr_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything an sspr operation can fail with.
///
/// The variants that an anonymous caller can see are the same for real and unknown
/// logins (see the enumeration defence in `Sspr::begin_reset`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller gave input sspr does not accept (a login with control characters, a
    /// malformed phone number, an unknown method id...). Nothing was changed.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// Which argument was refused.
        field: &'static str,
        /// Why, in words safe to show to the user (never echoes a secret).
        reason: String,
    },
    /// The PIN did not match; `attempts_left` more tries remain for this PIN.
    #[error("wrong PIN, {attempts_left} attempt(s) left")]
    WrongPin {
        /// Tries left before the PIN is void.
        attempts_left: u32,
    },
    /// The PIN was voided after too many wrong attempts: start a new reset.
    #[error("too many wrong PINs: this PIN is void, start a new reset")]
    PinVoided,
    /// The reset flow or its PIN has expired (or the flow id is unknown): start a new reset.
    /// Also a contact proof or helpdesk code that expired, is unknown or is not the caller's.
    #[error("this reset or code has expired (or is unknown): start again")]
    Expired,
    /// The flow was already completed, or its PIN already used: start a new reset. Also a
    /// contact proof or helpdesk code already used.
    #[error("this reset or code was already used")]
    AlreadyUsed,
    /// The operation does not fit the flow's current step (e.g. verifying before a PIN was
    /// sent, completing before the PIN was verified, or another request is completing it).
    #[error("this step is not possible now: {reason}")]
    InvalidState {
        /// What the flow expected.
        reason: &'static str,
    },
    /// Too many requests; try again after `retry_after`.
    #[error("too many requests, retry after {}s", retry_after.as_secs())]
    RateLimited {
        /// How long to wait before the same request can succeed.
        retry_after: Duration,
    },
    /// Self-service reset is blocked for this user until `until` (too many failed PINs).
    #[error("self-service reset is blocked until {}", rfc3339(until))]
    Blocked {
        /// When the block ends.
        until: OffsetDateTime,
    },
    /// The policy does not permit this (privileged user, ineligible user, completion mode
    /// switched off, ...).
    #[error("not allowed: {reason}")]
    NotAllowed {
        /// Which rule refused the request.
        reason: NotAllowedReason,
    },
    /// A user-chosen password was refused by the password policy or by the directory.
    #[error("password refused: {reason}")]
    PasswordRejected {
        /// Which rule refused it, as far as known (the engine's own checks and the
        /// directory's refusal map onto the same names).
        refusal: PasswordRefusal,
        /// Why, safe to show to the user (never the password itself).
        reason: String,
        /// How to choose a better one (zxcvbn's suggestions), safe to show; often empty.
        suggestions: Vec<String>,
    },
    /// A sign-in or a password change failed: unknown login, wrong (current) password, or
    /// an account that may not sign in or change its password here. Deliberately one answer
    /// for all of them, so neither reveals accounts.
    #[error("the login or password is not right")]
    SignInFailed,
    /// `begin_reset` asked for a solved bot challenge (see [`crate::BotChallenge`]) and did
    /// not get one: none was given, the provider refused it, or it could not be checked.
    /// Nothing was started. The same for every login, known or not.
    #[error("bot challenge {reason}")]
    Challenge {
        /// Which of the three.
        reason: ChallengeRefusal,
    },
    /// An authenticated (admin or registration) operation named a user the directory
    /// does not have. Anonymous reset never returns this.
    #[error("no such user")]
    UnknownUser,
    /// The engine was configured wrongly (a policy value out of range, a missing backend,
    /// a short key).
    #[error("configuration error: {0}")]
    Config(String),
    /// A backend failed; nothing was half-done, the same call can be retried.
    #[error("backend failure: {source}")]
    Backend {
        /// What the backend reported.
        #[from]
        source: BackendError,
    },
}

/// Why the policy refused a request, for [`Error::NotAllowed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotAllowedReason {
    /// The user is a member of a privileged group: self-service reset is refused.
    Privileged,
    /// The user is outside the eligible OUs / groups of the policy.
    Ineligible,
    /// SSPR is not enabled for this user.
    NotEnabled,
    /// The account is disabled or expired in the directory.
    AccountDisabled,
    /// The requested completion mode (chosen password, unlock only) is switched off.
    ModeDisabled,
    /// Only an administrator may do this.
    AdminOnly,
    /// A new contact must be proven with the code sent to it before it is saved.
    ContactUnproven,
}

impl fmt::Display for NotAllowedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Privileged => "privileged accounts cannot use self-service reset",
            Self::Ineligible => "the user is not eligible for self-service reset",
            Self::NotEnabled => "self-service reset is not enabled for this user",
            Self::AccountDisabled => "the account is disabled",
            Self::ModeDisabled => "this completion mode is switched off",
            Self::AdminOnly => "only an administrator may do this",
            Self::ContactUnproven => "a new contact must be confirmed with the code sent to it",
        })
    }
}

/// Why `begin_reset` refused for its bot challenge, for [`Error::Challenge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChallengeRefusal {
    /// A challenge is required and the request carried no token: show the widget.
    Required,
    /// The provider refused the token (expired, used, forged, another site's): solve it again.
    Failed,
    /// The provider could not be asked (unreachable, timed out, an error): retry later. The
    /// engine fails closed; never a silent pass.
    Unavailable,
}

impl fmt::Display for ChallengeRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Required => "required: solve the challenge to continue",
            Self::Failed => "failed: solve the challenge again",
            Self::Unavailable => "unavailable: the challenge could not be checked, try again later",
        })
    }
}

/// What kind of failure a backend had: the engine acts on the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The backend could not be reached or timed out; retrying later may work.
    Unavailable,
    /// The directory's own password policy refused the password (OpenLDAP rc 19,
    /// AD `0000052D`). The engine regenerates a temporary password or refuses a chosen one.
    PasswordRejected,
    /// The backend refused the request as malformed or unsupported.
    Rejected,
    /// The backend does not offer this operation at all (a directory without
    /// `change_password` or `password_rules`): retrying will not help.
    NotSupported,
    /// Anything else.
    Other,
}

/// An error reported by a backend implementation.
///
/// Implementations must not put secrets (passwords, PINs, bind credentials) in the
/// message or the source.
pub struct BackendError {
    kind: BackendErrorKind,
    refusal: Option<PasswordRefusal>,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl BackendError {
    /// A new error of `kind` with a message (no secrets).
    pub fn new(kind: BackendErrorKind, message: impl Into<String>) -> Self {
        Self { kind, refusal: None, message: message.into(), source: None }
    }

    /// The backend does not offer `operation` (the trait's default for an optional method).
    pub fn not_supported(operation: &str) -> Self {
        Self::new(BackendErrorKind::NotSupported, format!("{operation} is not supported by this backend"))
    }

    /// The directory refused a user's own password change for `refusal`; `message` is the
    /// directory's explanation (no secrets). Kind `PasswordRejected`.
    pub fn password_refused(refusal: PasswordRefusal, message: impl Into<String>) -> Self {
        Self { refusal: Some(refusal), ..Self::new(BackendErrorKind::PasswordRejected, message) }
    }

    /// The backend could not be reached; `source` is the underlying error.
    pub fn unavailable(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::new(BackendErrorKind::Unavailable, "backend unavailable").with_source(source)
    }

    /// The directory refused a password; `reason` is the directory's explanation.
    pub fn password_rejected(reason: impl Into<String>) -> Self {
        Self::new(BackendErrorKind::PasswordRejected, reason)
    }

    /// Any other failure, with its source.
    pub fn other(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::new(BackendErrorKind::Other, source.to_string()).with_source(source)
    }

    /// Attach the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind the engine acts on.
    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// Why a password change was refused, when the backend said
    /// ([`BackendError::password_refused`]).
    pub fn refusal(&self) -> Option<PasswordRefusal> {
        self.refusal
    }

    /// The message given by the backend.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// This error with each `(secret, stand_in)`'s secret (matched ignoring ASCII case)
    /// replaced in the message, and without its source when the message or the text of any
    /// link of the source's chain held one (the source's text is the raw failure the message
    /// came from; a host-language backend's exception may wrap another that quotes the secret
    /// while its own text does not). For what a backend raised about a value it was given,
    /// whose text the engine logs and audits and the caller is handed: a mail server's answer
    /// quotes the recipient, a gateway's may quote the message and its PIN.
    pub(crate) fn redacting(mut self, secrets: &[(&str, &str)]) -> Self {
        let mut changed = false;
        for (secret, stand_in) in secrets {
            if let Some(replaced) = replace_ignoring_ascii_case(&self.message, secret, stand_in) {
                self.message = replaced;
                changed = true;
            }
        }
        if changed || self.source_chain_holds(secrets) {
            self.source = None;
        }
        self
    }

    /// Whether the text of a link of the source's chain holds one of `secrets` (ASCII case
    /// ignored).
    fn source_chain_holds(&self, secrets: &[(&str, &str)]) -> bool {
        let mut link: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(error) = link {
            let text = error.to_string();
            if secrets.iter().any(|(secret, _)| replace_ignoring_ascii_case(&text, secret, "").is_some()) {
                return true;
            }
            link = error.source();
        }
        false
    }
}

/// `text` with every byte but RFC 3986's unreserved ones as `%XX`: a secret as a URL quotes
/// it, to be redacted in that form too.
pub(crate) fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `text` with every `needle` (ASCII case ignored) replaced by `with`, or `None` when it has none.
pub(crate) fn replace_ignoring_ascii_case(text: &str, needle: &str, with: &str) -> Option<String> {
    if needle.is_empty() {
        return None;
    }
    // ASCII lower-casing keeps every byte offset (and char boundary) of `text`.
    let lower = text.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(&needle) {
        out.push_str(text.get(last..at)?);
        out.push_str(with);
        last = at + needle.len();
    }
    if last == 0 {
        return None;
    }
    out.push_str(text.get(last..)?);
    Some(out)
}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendError")
            .field("kind", &self.kind)
            .field("refusal", &self.refusal)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput { field, reason: reason.into() }
    }
}

/// A time as RFC 3339 (`2026-03-03T09:00:00Z`), the form every binding's users read.
fn rfc3339(at: &OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_error_keeps_its_source_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "ldap timed out");
        let err: Error = BackendError::unavailable(io).into();
        let source = std::error::Error::source(&err).expect("backend error is the source");
        let inner = source.source().expect("io error is chained");
        assert_eq!(inner.to_string(), "ldap timed out");
        assert!(err.to_string().contains("Unavailable"));
    }

    #[test]
    fn redacting_replaces_every_secret_in_any_ascii_case_and_drops_the_source() {
        let io = std::io::Error::other("550 <Jane@Home.example> rejected: code 12345678");
        let e = BackendError::other(io)
            .redacting(&[("jane@home.example", "j***@h***.example"), ("12345678", "[REDACTED]")]);
        assert_eq!(e.message(), "550 <j***@h***.example> rejected: code [REDACTED]");
        assert!(std::error::Error::source(&e).is_none(), "the raw text goes with the source");
        let kept = BackendError::other(std::io::Error::other("timed out")).redacting(&[("jane@home.example", "x")]);
        assert_eq!(kept.message(), "timed out");
        assert!(std::error::Error::source(&kept).is_some(), "nothing to hide: the source is kept");
    }

    #[test]
    fn redacting_drops_a_source_whose_chain_quotes_a_secret_its_own_text_does_not() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl fmt::Display for Wrapper {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("samba-tool failed")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let inner = std::io::Error::other("Command 'samba-tool --newpassword=Quiet-Harbour-73' failed");
        let e = BackendError::new(BackendErrorKind::Other, "set_password: samba-tool failed")
            .with_source(Wrapper(inner))
            .redacting(&[("quiet-harbour-73", "[REDACTED]")]);
        assert_eq!(e.message(), "set_password: samba-tool failed");
        assert!(std::error::Error::source(&e).is_none(), "the chain quoting the password goes");
        let clean = BackendError::new(BackendErrorKind::Other, "set_password: samba-tool failed")
            .with_source(Wrapper(std::io::Error::other("exit status 1")))
            .redacting(&[("quiet-harbour-73", "[REDACTED]")]);
        assert!(std::error::Error::source(&clean).is_some(), "nothing to hide: the chain is kept");
    }

    #[test]
    fn blocked_names_the_end_in_rfc3339() {
        let until = time::macros::datetime!(2026-03-03 09:00 UTC);
        assert_eq!(Error::Blocked { until }.to_string(), "self-service reset is blocked until 2026-03-03T09:00:00Z");
    }

    #[test]
    fn rate_limited_names_the_wait() {
        let err = Error::RateLimited { retry_after: Duration::from_secs(42) };
        assert_eq!(err.to_string(), "too many requests, retry after 42s");
    }
}
