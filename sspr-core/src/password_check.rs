//! The [`PasswordChecker`]s that need no I/O: a banned-words list. (zxcvbn's estimate is
//! the policy's own check, `password_min_score`; the breached-password range check talks to
//! a service or reads a file, so it lives in `sspr-backends`, feature `breached`.)

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::backend::{PasswordCandidate, PasswordChecker, PasswordFeedback, PasswordRefusal};
use crate::error::{BackendError, Error, Result};

/// Words shorter than this are not allowed in the list: they would refuse far too much.
pub const MIN_BANNED_WORD_CHARS: usize = 4;

/// Refuses a password that contains one of the organisation's banned words (its name, its
/// products, the city, the season's campaign), also spelled with the usual substitutions
/// (`P@ssw0rd` contains `password`). Case is ignored.
#[derive(Clone)]
pub struct BannedWords {
    words: Vec<String>,
}

impl std::fmt::Debug for BannedWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BannedWords").field("words", &self.words.len()).finish()
    }
}

impl BannedWords {
    /// The list from a file's text: one word a line, `#` starts a comment line, blank
    /// lines skipped.
    ///
    /// # Errors
    ///
    /// `InvalidInput` (field `banned_words`) naming the line of a word shorter than
    /// [`MIN_BANNED_WORD_CHARS`] or holding a space or control character.
    ///
    /// ```
    /// use sspr_core::password_check::BannedWords;
    /// let banned = BannedWords::from_text("# ours\nexamplecorp\nkettle\n").unwrap();
    /// assert!(banned.contains("Ex4mpleC0rp-rules"));
    /// assert!(!banned.contains("correct horse battery staple"));
    /// ```
    pub fn from_text(text: &str) -> Result<Self> {
        let mut words = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let word = line.trim();
            if word.is_empty() || word.starts_with('#') {
                continue;
            }
            if word.chars().count() < MIN_BANNED_WORD_CHARS || word.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(Error::invalid(
                    "banned_words",
                    format!(
                        "line {}: a banned word has {MIN_BANNED_WORD_CHARS} or more characters and no space",
                        number + 1
                    ),
                ));
            }
            words.push(word.to_lowercase());
        }
        words.sort();
        words.dedup();
        Ok(Self { words })
    }

    /// How many words the list has.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether `password` contains a banned word, as written or with the usual
    /// substitutions undone.
    pub fn contains(&self, password: &str) -> bool {
        let lower = Zeroizing::new(password.to_lowercase());
        let plain = Zeroizing::new(lower.chars().map(unleet).collect::<String>());
        self.words.iter().any(|w| lower.contains(w.as_str()) || plain.contains(w.as_str()))
    }
}

/// The letter a digit or symbol commonly stands in for.
fn unleet(c: char) -> char {
    match c {
        '@' | '4' => 'a',
        '3' => 'e',
        '1' | '!' => 'i',
        '0' => 'o',
        '$' | '5' => 's',
        '7' => 't',
        other => other,
    }
}

#[async_trait]
impl PasswordChecker for BannedWords {
    async fn check(
        &self,
        candidate: &PasswordCandidate<'_>,
    ) -> std::result::Result<Option<PasswordFeedback>, BackendError> {
        Ok(self.contains(candidate.password.expose_secret()).then(|| PasswordFeedback {
            refusal: PasswordRefusal::Banned,
            reason: "it contains a word this organisation does not allow in passwords".into(),
            suggestions: vec!["Use words that have nothing to do with this organisation.".into()],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_spaced_words_are_refused_with_their_line() {
        let err = BannedWords::from_text("kettle\nabc\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("line 2") && err.contains("banned_words"), "{err}");
        assert!(BannedWords::from_text("two words\n").is_err());
        assert_eq!(BannedWords::from_text("# c\n\nKettle\nkettle\n").map(|b| b.len()).ok(), Some(1));
    }

    #[test]
    fn substitutions_and_case_are_seen_through() {
        let banned = BannedWords::from_text("oslo\n").unwrap();
        for p in ["OSLO-summer", "0sl0!!x", "my$oslo"] {
            assert!(banned.contains(p), "{p}");
        }
        assert!(!banned.contains("osl-o"));
    }
}
