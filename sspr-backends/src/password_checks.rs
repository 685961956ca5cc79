//! `[password_checks]`: the checks of chosen passwords a deployment adds beyond the policy's
//! own, configured as the other backends are (the portal's file, Python's and Node's
//! `from_config`, uniffi's and C's `password_checks_json`) and built once here.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use sspr_core::password_check::BannedWords;
use sspr_core::{BackendError, BackendErrorKind, PasswordChecker};

use crate::breached::{BreachedConfig, BreachedPasswords};

/// The password checkers to add to the engine, run in this order: banned words, breached.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordChecksConfig {
    /// A file of words no password may contain, one a line (`#` comments), 4 or more
    /// characters each ([`sspr_core::password_check::BannedWords`]).
    pub banned_words_file: Option<PathBuf>,
    /// The breached-password check: a range service (`endpoint`) or local range files
    /// (`offline_path`); see [`crate::breached`].
    pub breached: Option<BreachedConfig>,
}

impl PasswordChecksConfig {
    /// The checkers, in order (banned words, then breached), for
    /// `SsprBuilder::password_checker_arc`: the banned-words file is read now, and a bad line
    /// is named.
    pub fn build(&self) -> Result<Vec<Arc<dyn PasswordChecker>>, BackendError> {
        let mut checkers: Vec<Arc<dyn PasswordChecker>> = Vec::new();
        if let Some(path) = &self.banned_words_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                BackendError::new(
                    BackendErrorKind::Rejected,
                    format!("cannot read the banned-words list {}: {e}", path.display()),
                )
            })?;
            let words = BannedWords::from_text(&text).map_err(|e| {
                BackendError::new(BackendErrorKind::Rejected, format!("banned-words list {}: {e}", path.display()))
            })?;
            checkers.push(Arc::new(words));
        }
        if let Some(breached) = &self.breached {
            checkers.push(Arc::new(BreachedPasswords::new(breached)?));
        }
        Ok(checkers)
    }
}
