//! The one point where a password a user chose is checked, for a reset that completes with
//! a chosen password and for a user's own change alike: the policy's checks (length,
//! repetition, the user's identity, zxcvbn's estimate with the user's name, login and
//! organisation as its first guesses), then the host's [`PasswordChecker`]s in order (the
//! breached-password range check, banned words, a host's own). The directory's own rules
//! apply after it, in the directory. Temporary passwords sspr generates are not checked.

use super::{AuditScope, Sspr};
use crate::audit::{AuditKind, Outcome};
use crate::backend::{DirectoryUser, PasswordCandidate, PasswordChecker, PasswordFeedback};
use crate::error::{BackendErrorKind, Error, Result};
use crate::password;
use crate::secret::Password;

impl Sspr {
    /// Check `password`, chosen by `user`, against the policy and the host's checkers.
    ///
    /// Errors: `PasswordRejected`, with the rule it breaks, words to show the user and
    /// zxcvbn's suggestions; `Backend` when a checker could not check and the policy fails
    /// closed (`password_check_fail_open` off, the default). A check that failed open is
    /// recorded in `scope` as `PasswordCheckFailedOpen` (outcome `Failed`, the checker's
    /// error): the password was accepted unchecked, which the audit trail must show.
    pub(super) async fn check_chosen_password(
        &self,
        user: &DirectoryUser,
        password: &Password,
        scope: &AuditScope<'_>,
    ) -> Result<()> {
        let policy = &self.inner.policy;
        let tokens = password::identity_tokens(&user.login, &user.display_name);
        let inputs = user_inputs(user, &policy.organisation_name, &tokens);
        let min = policy.chosen_password_min_length as usize;
        password::check_chosen(password.expose_secret(), min, &tokens, &inputs, policy.password_min_score).map_err(
            |weakness| Error::PasswordRejected {
                refusal: weakness.refusal(),
                suggestions: weakness.suggestions(),
                reason: weakness.to_string(),
            },
        )?;
        let candidate = PasswordCandidate { password, user, user_inputs: &inputs };
        for checker in self.inner.password_checkers.iter() {
            let checked = self.inner.limit.run("password_checker.check", checker.check(&candidate)).await;
            match checked.map_err(|e| super::instrument::without_passwords(e, &[password])) {
                Ok(None) => {}
                Ok(Some(PasswordFeedback { refusal, reason, suggestions })) => {
                    // A checker's words may quote what it was handed ("'...' was found in 12
                    // breaches"); the error is what a host logs.
                    let clean = |text| super::instrument::text_without_password(text, password);
                    let (reason, suggestions) = (clean(reason), suggestions.into_iter().map(clean).collect());
                    return Err(Error::PasswordRejected { refusal, reason, suggestions });
                }
                Err(e) if policy.password_check_fail_open && e.kind() == BackendErrorKind::Unavailable => {
                    // The policy prefers an unchecked password to a user who cannot reset.
                    tracing::warn!(checker = ?checker, error = %e, "a password check failed open");
                    let outcome = Outcome::Failed { error: e.to_string() };
                    scope.record(AuditKind::PasswordCheckFailedOpen, outcome).await;
                }
                Err(e) => {
                    tracing::warn!(checker = ?checker, error = %e, "a password check failed closed");
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }
}

/// zxcvbn's user inputs: the whole login and name, their parts, the organisation's name.
fn user_inputs(user: &DirectoryUser, organisation: &str, tokens: &[String]) -> Vec<String> {
    let mut inputs: Vec<String> = [user.login.as_str(), user.display_name.as_str(), organisation]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_lowercase)
        .chain(organisation.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 3).map(str::to_lowercase))
        .chain(tokens.iter().cloned())
        .collect();
    inputs.sort();
    inputs.dedup();
    inputs
}

/// The checkers an engine runs, in order (a type of its own for its `Debug`).
#[derive(Default, Clone)]
pub(super) struct Checkers(pub(super) Vec<std::sync::Arc<dyn PasswordChecker>>);

impl Checkers {
    fn iter(&self) -> impl Iterator<Item = &std::sync::Arc<dyn PasswordChecker>> {
        self.0.iter()
    }
}

impl std::fmt::Debug for Checkers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}
