//! The errors that cross: [`SsprError`], what every engine call fails with (one variant per
//! `sspr_core::Error` variant, plus `Internal` for the library's own runtime), and
//! [`BackendFailure`], what a host-language backend raises. Conversions only: the codes and
//! names are the core's (`sspr_core::wire`).

use std::time::SystemTime;

use sspr_bind::runtime::RuntimeError;

named_enum! {
    /// Why the policy refused a request.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
    pub enum NotAllowedReason for sspr_core::NotAllowedReason, else Other {
        /// A member of a privileged group.
        Privileged,
        /// Outside the eligible OUs / groups.
        Ineligible,
        /// SSPR is not enabled for the user.
        NotEnabled,
        /// The account is disabled.
        AccountDisabled,
        /// The completion mode is switched off.
        ModeDisabled,
        /// Only an administrator may do this.
        AdminOnly,
        /// A new contact must be confirmed with the code sent to it.
        ContactUnproven,
        /// A reason this version of the bindings does not name.
        Other,
    }
}

named_enum! {
    /// What kind of failure a backend had.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
    pub enum BackendErrorKind for sspr_core::BackendErrorKind, else Other {
        /// Unreachable or timed out; retrying later may work.
        Unavailable,
        /// The directory's own policy refused the password.
        PasswordRejected,
        /// The backend refused the request as malformed or unsupported.
        Rejected,
        /// Anything else.
        Other,
        /// The backend does not offer this operation (a directory without password changes).
        NotSupported,
    }
}

/// Everything an engine call can fail with (`sspr_core::Error`). Never holds a secret.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SsprError {
    /// Input sspr does not accept; nothing was changed.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument refused.
        field: String,
        /// Why.
        reason: String,
    },
    /// Wrong PIN.
    #[error("wrong PIN, {attempts_left} attempt(s) left")]
    WrongPin {
        /// Tries left for this PIN.
        attempts_left: u32,
    },
    /// The PIN is void after too many wrong tries.
    #[error("too many wrong PINs: this PIN is void, start a new reset")]
    PinVoided,
    /// The flow or its PIN expired (or the flow id is unknown).
    #[error("this reset or code has expired (or is unknown): start again")]
    Expired,
    /// The flow or its PIN was already used.
    #[error("this reset or code was already used")]
    AlreadyUsed,
    /// The step is not possible now.
    #[error("this step is not possible now: {reason}")]
    InvalidState {
        /// What the flow expected.
        reason: String,
    },
    /// Too many requests.
    #[error("too many requests, retry after {retry_after_secs}s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Self-service reset is blocked for this user.
    #[error("self-service reset is blocked")]
    Blocked {
        /// When the block ends.
        until: SystemTime,
    },
    /// The policy does not permit this.
    #[error("not allowed: {reason:?}")]
    NotAllowed {
        /// Which rule refused.
        reason: NotAllowedReason,
    },
    /// A chosen password was refused.
    #[error("password refused: {reason}")]
    PasswordRejected {
        /// Why (never the password).
        reason: String,
        /// Which rule refused it, by its stable name (`too_short`, `too_recent`,
        /// `in_history`, `too_simple`, `wrong_current_password`, `guessable`, `breached`,
        /// `banned`, `unspecified`).
        refusal: String,
        /// How to choose a better one (zxcvbn's suggestions), possibly none.
        suggestions: Vec<String>,
    },
    /// A sign-in failed (unknown login, wrong password, or an account that may not sign in).
    #[error("the login or password is not right")]
    SignInFailed,
    /// An admin or registration call named a user the directory does not have.
    #[error("no such user")]
    UnknownUser,
    /// The engine is configured wrongly.
    #[error("configuration error: {detail}")]
    Config {
        /// What is wrong.
        detail: String,
    },
    /// A backend failed; the call can be retried.
    #[error("backend failure: {detail}")]
    Backend {
        /// The kind of failure.
        kind: BackendErrorKind,
        /// What the backend reported.
        detail: String,
    },
    /// `begin_reset` needs a solved bot challenge (the uniffi request context cannot carry a
    /// token yet, so an engine with a challenge refuses every begin it asks one for).
    #[error("bot challenge {reason}")]
    Challenge {
        /// `required`, `failed` or `unavailable`.
        reason: String,
    },
    /// A failure of the library itself: its runtime could not start, or its timer stopped
    /// while the answer was being padded (the answer is withheld, never sent early).
    #[error("{detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
    /// An error this version of the bindings does not name.
    #[error("{detail}")]
    Other {
        /// The engine's message.
        detail: String,
    },
}

impl From<RuntimeError> for SsprError {
    fn from(error: RuntimeError) -> Self {
        Self::Internal { detail: error.to_string() }
    }
}

impl From<sspr_core::Error> for SsprError {
    fn from(error: sspr_core::Error) -> Self {
        use sspr_core::Error as E;
        match error {
            E::InvalidInput { field, reason } => Self::InvalidInput { field: field.into(), reason },
            E::WrongPin { attempts_left } => Self::WrongPin { attempts_left },
            E::PinVoided => Self::PinVoided,
            E::Expired => Self::Expired,
            E::AlreadyUsed => Self::AlreadyUsed,
            E::InvalidState { reason } => Self::InvalidState { reason: reason.into() },
            E::RateLimited { retry_after } => Self::RateLimited { retry_after_secs: retry_after.as_secs() },
            E::Blocked { until } => Self::Blocked { until: until.into() },
            E::NotAllowed { reason } => Self::NotAllowed { reason: reason.into() },
            E::PasswordRejected { reason, refusal, suggestions } => {
                Self::PasswordRejected { reason, refusal: refusal.as_str().to_owned(), suggestions }
            }
            E::SignInFailed => Self::SignInFailed,
            E::UnknownUser => Self::UnknownUser,
            E::Config(message) => Self::Config { detail: message },
            E::Backend { source } => Self::Backend { kind: source.kind().into(), detail: source.message().to_owned() },
            E::Challenge { reason } => Self::Challenge { reason: reason.as_str().to_owned() },
            other => Self::Other { detail: other.to_string() },
        }
    }
}

/// What a foreign backend raises (Kotlin/Swift: throws; Python/Ruby: raises). An exception
/// of another type counts as `Other`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum BackendFailure {
    /// Unreachable or timed out.
    #[error("unavailable: {detail}")]
    Unavailable {
        /// What happened (no secrets).
        detail: String,
    },
    /// The directory's own policy refused the password.
    #[error("password rejected: {detail}")]
    PasswordRejected {
        /// The directory's reason.
        detail: String,
    },
    /// The directory refused a user's own password change (`Directory.change_password`) for
    /// the rule `refusal` names, as `PasswordRejected.refusal` names them
    /// (`"wrong_current_password"`, `"too_short"`, `"too_recent"`, `"in_history"`,
    /// `"too_simple"`, `"unspecified"`). A name that is none of them fails the call as
    /// `Rejected`.
    #[error("password refused ({refusal}): {detail}")]
    PasswordRefused {
        /// The rule.
        refusal: String,
        /// The directory's reason (no secrets).
        detail: String,
    },
    /// The backend does not offer this operation (a directory without password changes).
    #[error("not supported: {detail}")]
    NotSupported {
        /// What is not offered.
        detail: String,
    },
    /// Malformed or unsupported request (a notifier asked for a channel it does not serve).
    #[error("rejected: {detail}")]
    Rejected {
        /// What happened.
        detail: String,
    },
    /// Anything else.
    #[error("{detail}")]
    Other {
        /// What happened.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for BackendFailure {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { detail: e.reason }
    }
}

impl From<BackendFailure> for sspr_core::BackendError {
    fn from(f: BackendFailure) -> Self {
        use sspr_core::BackendErrorKind as K;
        match f {
            BackendFailure::Unavailable { detail } => Self::new(K::Unavailable, detail),
            BackendFailure::PasswordRejected { detail } => Self::new(K::PasswordRejected, detail),
            BackendFailure::PasswordRefused { refusal, detail } => match refusal.parse() {
                Ok(refusal) => Self::password_refused(refusal, detail),
                Err(_) => Self::new(K::Rejected, format!("the backend named no password refusal rule: {refusal:?}")),
            },
            BackendFailure::NotSupported { detail } => Self::new(K::NotSupported, detail),
            BackendFailure::Rejected { detail } => Self::new(K::Rejected, detail),
            BackendFailure::Other { detail } => Self::new(K::Other, detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn core_errors_keep_their_details() {
        let e: SsprError = sspr_core::Error::WrongPin { attempts_left: 3 }.into();
        assert!(matches!(e, SsprError::WrongPin { attempts_left: 3 }));
        let e: SsprError = sspr_core::Error::RateLimited { retry_after: Duration::from_secs(42) }.into();
        assert!(matches!(e, SsprError::RateLimited { retry_after_secs: 42 }));
        let backend = sspr_core::BackendError::new(sspr_core::BackendErrorKind::Unavailable, "ldap down");
        let e: SsprError = sspr_core::Error::from(backend).into();
        assert!(
            matches!(&e, SsprError::Backend { kind: BackendErrorKind::Unavailable, detail } if detail == "ldap down")
        );
        let failure: sspr_core::BackendError = BackendFailure::PasswordRejected { detail: "too weak".into() }.into();
        assert_eq!(failure.kind(), sspr_core::BackendErrorKind::PasswordRejected);
        let unexpected: BackendFailure = uniffi::UnexpectedUniFFICallbackError::new("boom").into();
        assert!(matches!(unexpected, BackendFailure::Other { .. }));
    }
}
