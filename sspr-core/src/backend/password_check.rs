//! `PasswordChecker`: a check of a password a user chose, added by the host beyond the
//! policy's own (length, identity, zxcvbn's estimate). The breached-password range check and
//! a banned-words list are checkers; a host adds its own the same way.

use std::fmt::{self, Debug};

use async_trait::async_trait;

use super::{DirectoryUser, PasswordRefusal};
use crate::error::BackendError;
use crate::secret::Password;

/// The password being checked and whose it would be.
///
/// `Debug` names the user only: the password never reaches a log through it.
pub struct PasswordCandidate<'a> {
    /// The password the user chose.
    pub password: &'a Password,
    /// The account it is for.
    pub user: &'a DirectoryUser,
    /// Words an attacker who targets this user tries first: the user's login and name, the
    /// organisation's name (the policy's `organisation_name`).
    pub user_inputs: &'a [String],
}

impl Debug for PasswordCandidate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordCandidate").field("user", &self.user.id).finish_non_exhaustive()
    }
}

/// Why a checker refused a password, in words to show the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordFeedback {
    /// The rule it breaks.
    pub refusal: PasswordRefusal,
    /// Why, safe to show the user: never the password or a piece of it.
    pub reason: String,
    /// How to choose a better one, safe to show; may be empty.
    pub suggestions: Vec<String>,
}

impl PasswordFeedback {
    /// A refusal with a reason and no suggestions.
    pub fn new(refusal: PasswordRefusal, reason: impl Into<String>) -> Self {
        Self { refusal, reason: reason.into(), suggestions: Vec::new() }
    }

    /// What a checker written in a host language (Python, JavaScript, a uniffi language, C)
    /// answered: `None` accepts, a reason refuses. A host names no rule, so the refusal is
    /// [`PasswordRefusal::Unspecified`]; every binding reads a host's answer through this.
    pub fn from_host_reason(reason: Option<String>) -> Option<Self> {
        reason.map(|reason| Self::new(PasswordRefusal::Unspecified, reason))
    }
}

/// A check of a chosen password (a reset completed with a chosen password, a user's own
/// change). Temporary passwords sspr generates are not checked: they are random.
///
/// Contract:
/// - `Ok(None)` accepts, `Ok(Some(feedback))` refuses with words for the user.
/// - `Err` means the check could not be made (a service down, a timeout: kind
///   `Unavailable`). The engine then refuses the password with that error, or accepts it
///   when the policy's `password_check_fail_open` is on (logged and audited either way).
/// - The password must never appear in a returned value, an error, a log or `Debug`. A
///   checker that sends anything about it over the network sends no more than a prefix of
///   its SHA-1 (k-anonymity), as the breached-password check does.
/// - Checkers run in the order given, after the policy's own checks; the first refusal
///   wins. A checker should answer within a few seconds: the user is waiting.
#[async_trait]
pub trait PasswordChecker: Send + Sync + Debug {
    /// Check `candidate`.
    async fn check(&self, candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError>;
}
