//! The one point where a password a user chose is checked, for a reset that completes with
//! a chosen password and for a user's own change alike (the checks of the policy: length,
//! common passwords, repetition, the user's identity). The directory's own rules apply
//! after it, in the directory.

use super::Sspr;
use crate::backend::DirectoryUser;
use crate::error::{Error, Result};
use crate::password;
use crate::secret::Password;

impl Sspr {
    /// Check `password`, chosen by `user`, against the policy.
    ///
    /// Errors: `PasswordRejected`, with the rule it breaks and words to show the user.
    pub(super) fn check_chosen_password(&self, user: &DirectoryUser, password: &Password) -> Result<()> {
        let tokens = password::identity_tokens(&user.login, &user.display_name);
        let min = self.inner.policy.chosen_password_min_length as usize;
        password::check_chosen(password.expose_secret(), min, &tokens)
            .map_err(|weakness| Error::PasswordRejected { refusal: weakness.refusal(), reason: weakness.to_string() })
    }
}
