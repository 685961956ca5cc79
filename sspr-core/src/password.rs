//! Passwords: the generated temporary one and the checks on one a user chooses.

use rand_chacha::ChaCha20Rng;

use crate::policy::CHOSEN_PASSWORD_MAX_LENGTH;
use crate::rng::uniform_below;
use crate::secret::Password;
use zeroize::Zeroizing;

/// The character classes of a temporary password. Look-alikes are left out (I O l o 0 1),
/// and only symbols that need no escaping in a shell, URL or LDAP filter are used.
pub const CLASSES: [&str; 4] = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "!#%+-=?@"];

/// Character classes a temporary password must draw from, at least (AD complexity: 3 of 4).
pub const MIN_CLASSES: usize = 3;

/// Tokens shorter than this are not checked for (AD's rule: 3 characters).
const MIN_TOKEN_CHARS: usize = 3;

/// The whole alphabet of a temporary password, the classes in order.
const ALPHABET: &[u8; 64] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789!#%+-=?@";

/// Entropy, in bits, of a temporary password of `length` characters: log2 of the number of
/// strings over the alphabet that use at least [`MIN_CLASSES`] classes (each equally likely,
/// as the generator draws uniformly and redraws the rest). Computed by inclusion-exclusion.
/// Below [`MIN_CLASSES`] characters no string qualifies and the result is `-inf`.
///
/// ```
/// let bits = sspr_core::password::temp_password_entropy_bits(16);
/// assert!(bits > 95.9 && bits < 96.0, "{bits}"); // 64 symbols, 16 characters: just under 96
/// ```
pub fn temp_password_entropy_bits(length: u32) -> f64 {
    let sizes: Vec<f64> = CLASSES.iter().map(|c| c.chars().count() as f64).collect();
    let n = length as i32;
    let class_count = sizes.len();
    // Strings using exactly the classes of `set`: sum over subsets T of set of (-1)^(|set|-|T|) * |T|^n.
    let exactly = |set: u32| -> f64 {
        let mut total = 0.0;
        let mut sub = set;
        loop {
            let size: f64 =
                (0..class_count).filter(|i| sub & (1 << i) != 0).map(|i| sizes.get(i).copied().unwrap_or(0.0)).sum();
            let sign = if (set.count_ones() - sub.count_ones()).is_multiple_of(2) { 1.0 } else { -1.0 };
            total += sign * size.powi(n);
            if sub == 0 {
                break;
            }
            sub = (sub - 1) & set;
        }
        total
    };
    let valid: f64 =
        (0u32..(1 << class_count)).filter(|set| set.count_ones() as usize >= MIN_CLASSES).map(exactly).sum();
    valid.log2()
}

/// The parts of a login and display name a password must not contain: runs of letters and
/// digits of 3+ characters, lower-cased (`jane.doe@example.org` -> jane, doe, example, org).
pub fn identity_tokens(login: &str, display_name: &str) -> Vec<String> {
    let mut tokens: Vec<String> = [login, display_name]
        .iter()
        .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
        .filter(|t| t.chars().count() >= MIN_TOKEN_CHARS)
        .map(str::to_lowercase)
        .collect();
    tokens.sort();
    tokens.dedup();
    tokens
}

fn contains_token(password: &str, tokens: &[String]) -> bool {
    let lower = Zeroizing::new(password.to_lowercase());
    tokens.iter().any(|t| lower.contains(t.as_str()))
}

/// Generate a temporary password of `length` characters, uniform over the alphabet, with at
/// least [`MIN_CLASSES`] classes and none of `tokens` inside; other draws are redrawn.
/// A `length` below [`MIN_CLASSES`] could never qualify and is raised to it (the policy
/// allows 12..=64).
pub fn generate_temporary(rng: &mut ChaCha20Rng, length: u32, tokens: &[String]) -> Password {
    let length = length.max(MIN_CLASSES as u32);
    let mut candidate = Zeroizing::new(String::with_capacity(length.min(256) as usize));
    loop {
        // Redrawn candidates are wiped as they are overwritten, the kept one when dropped.
        candidate.clear();
        for _ in 0..length {
            let symbol = ALPHABET.get(uniform_below(rng, 64) as usize).copied().unwrap_or(b'x');
            candidate.push(char::from(symbol));
        }
        let classes = CLASSES.iter().filter(|class| candidate.chars().any(|c| class.contains(c))).count();
        if classes >= MIN_CLASSES && !contains_token(&candidate, tokens) {
            return Password::new(candidate.as_str());
        }
    }
}

/// Why a chosen password is refused, in words to show the user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Weakness {
    /// Fewer characters than the policy's minimum.
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More than 256 characters.
    TooLong,
    /// A control character (NUL, newline...) inside.
    ControlCharacter,
    /// zxcvbn's estimate is below the policy's `password_min_score`: the password is common,
    /// a pattern, or built from the user's own name, login or organisation.
    Guessable {
        /// zxcvbn's warning ("This is a top-100 common password"), when it gives one.
        warning: Option<String>,
        /// zxcvbn's suggestions ("Add another word or two"), possibly none.
        suggestions: Vec<String>,
    },
    /// Too few different characters (`aaaaaaaa`, `abababab`).
    Repetitive,
    /// Contains the login or a part of the user's name.
    ContainsIdentity,
}

impl Weakness {
    /// The directory-neutral name of the rule this weakness breaks, so the engine's own
    /// refusals and a directory's read alike ([`Error::PasswordRejected`]).
    ///
    /// [`Error::PasswordRejected`]: crate::Error::PasswordRejected
    pub fn refusal(&self) -> crate::backend::PasswordRefusal {
        use crate::backend::PasswordRefusal;
        match self {
            Self::TooShort { .. } => PasswordRefusal::TooShort,
            Self::Guessable { .. } => PasswordRefusal::Guessable,
            Self::Repetitive | Self::ContainsIdentity => PasswordRefusal::TooSimple,
            Self::TooLong | Self::ControlCharacter => PasswordRefusal::Unspecified,
        }
    }

    /// zxcvbn's suggestions for a [`Weakness::Guessable`] password, none for the others.
    pub fn suggestions(&self) -> Vec<String> {
        match self {
            Self::Guessable { suggestions, .. } => suggestions.clone(),
            _ => Vec::new(),
        }
    }
}

impl std::fmt::Display for Weakness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort { min } => write!(f, "it must have at least {min} characters"),
            Self::TooLong => write!(f, "it must have at most {CHOSEN_PASSWORD_MAX_LENGTH} characters"),
            Self::ControlCharacter => f.write_str("it contains a control character"),
            Self::Guessable { warning: Some(warning), .. } => write!(f, "it is too easy to guess: {warning}"),
            Self::Guessable { warning: None, .. } => f.write_str("it is too easy to guess"),
            Self::Repetitive => f.write_str("it has too few different characters"),
            Self::ContainsIdentity => f.write_str("it contains your login or a part of your name"),
        }
    }
}

/// zxcvbn's estimate of `password`, refused below `min_score` (0..=4; 0 accepts all).
/// `user_inputs` are words an attacker who targets this user would try first (their name,
/// login, organisation): zxcvbn ranks them as the most common words of all.
///
/// The estimate's internals hold pieces of the password; they are dropped here and only
/// zxcvbn's fixed warning and suggestion texts leave this function.
///
/// ```
/// use sspr_core::password::{guessable, Weakness};
/// assert!(matches!(guessable("Summer2024!", &[], 3), Err(Weakness::Guessable { .. })));
/// assert!(guessable("mallory.kensington", &["mallory.kensington".into()], 3).is_err());
/// assert!(guessable("correct horse battery staple", &[], 3).is_ok());
/// ```
pub fn guessable(password: &str, user_inputs: &[String], min_score: u8) -> Result<(), Weakness> {
    if min_score == 0 {
        return Ok(());
    }
    let inputs: Vec<&str> = user_inputs.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(estimate.score()) >= min_score {
        return Ok(());
    }
    let feedback = estimate.feedback();
    Err(Weakness::Guessable {
        warning: feedback.and_then(zxcvbn::feedback::Feedback::warning).map(|w| w.to_string()),
        suggestions: feedback.map(|f| f.suggestions().iter().map(ToString::to_string).collect()).unwrap_or_default(),
    })
}

/// Check a password a user chose: length, control characters, repetition, the user's
/// identity (`tokens` from [`identity_tokens`]), then zxcvbn's estimate ([`guessable`],
/// with `user_inputs`) against `min_score`.
///
/// ```
/// use sspr_core::password::{check_chosen, identity_tokens, Weakness};
/// let tokens = identity_tokens("jdoe@example.org", "Jane Doe");
/// assert!(matches!(check_chosen("Summer2024!", 8, &tokens, &[], 3), Err(Weakness::Guessable { .. })));
/// assert_eq!(check_chosen("Jane-rides-7-horses", 8, &tokens, &[], 3), Err(Weakness::ContainsIdentity));
/// assert!(check_chosen("correct horse battery staple", 8, &tokens, &[], 3).is_ok());
/// ```
pub fn check_chosen(
    password: &str,
    min_length: usize,
    tokens: &[String],
    user_inputs: &[String],
    min_score: u8,
) -> Result<(), Weakness> {
    let length = password.chars().count();
    if length < min_length {
        return Err(Weakness::TooShort { min: min_length });
    }
    if length > CHOSEN_PASSWORD_MAX_LENGTH {
        return Err(Weakness::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(Weakness::ControlCharacter);
    }
    let mut distinct = Zeroizing::new(password.chars().collect::<Vec<char>>());
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return Err(Weakness::Repetitive);
    }
    if contains_token(password, tokens) {
        return Err(Weakness::ContainsIdentity);
    }
    guessable(password, user_inputs, min_score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    fn alphabet() -> impl Iterator<Item = char> + Clone {
        ALPHABET.iter().map(|b| char::from(*b))
    }

    #[test]
    fn temporary_passwords_meet_ad_complexity_and_avoid_identity() {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let tokens = identity_tokens("abc@example.org", "Xyz Qrs");
        for _ in 0..2_000 {
            let pw = generate_temporary(&mut rng, 16, &tokens);
            let pw = pw.expose_secret();
            assert_eq!(pw.chars().count(), 16);
            let classes = CLASSES.iter().filter(|class| pw.chars().any(|c| class.contains(c))).count();
            assert!(classes >= 3, "{pw}");
            assert!(!contains_token(pw, &tokens), "{pw}");
            assert!(pw.chars().all(|c| alphabet().any(|a| a == c)));
        }
    }

    #[test]
    fn the_alphabet_is_the_classes_in_order() {
        assert_eq!(alphabet().collect::<String>(), CLASSES.concat());
    }

    #[test]
    fn entropy_matches_a_brute_force_count_for_short_lengths() {
        // For length 3 count the valid strings directly and compare.
        let symbols: Vec<char> = alphabet().collect();
        let mut valid = 0u64;
        for a in &symbols {
            for b in &symbols {
                for c in &symbols {
                    let s: String = [*a, *b, *c].iter().collect();
                    if CLASSES.iter().filter(|class| s.chars().any(|ch| class.contains(ch))).count() >= 3 {
                        valid += 1;
                    }
                }
            }
        }
        assert!((temp_password_entropy_bits(3) - (valid as f64).log2()).abs() < 1e-9);
    }

    #[test]
    fn common_passwords_and_patterns_are_guessable() {
        // What the hand-written list caught, zxcvbn catches too (its dictionaries, l33t
        // substitutions, years, keyboard patterns).
        for p in ["password", "P@ssw0rd", "Passw0rd!", "Summer2024!", "Welcome1", "qwertz123", "12345678", "Sommer2025"]
        {
            assert!(matches!(guessable(p, &[], 3), Err(Weakness::Guessable { .. })), "{p}");
        }
        for p in ["Blue-Kettle-Oslo-9", "7hq!Ra92-zzW", "correct horse battery staple"] {
            assert_eq!(guessable(p, &[], 3), Ok(()), "{p}");
        }
    }

    #[test]
    fn user_inputs_make_a_password_built_from_them_guessable() {
        // A long name zxcvbn's dictionaries do not hold scores well on its own; as a user
        // input it is the first thing tried.
        let login = "vortigern.quillsby";
        assert_eq!(guessable("Vortigern.Quillsby", &[], 3), Ok(()));
        let inputs = [login.to_owned(), "Vortigern Quillsby".to_owned(), "Examplecorp".to_owned()];
        let refused = guessable("Vortigern.Quillsby", &inputs, 3);
        assert!(matches!(refused, Err(Weakness::Guessable { .. })), "{refused:?}");
        assert!(matches!(guessable("examplecorp2026", &inputs, 3), Err(Weakness::Guessable { .. })));
        // The feedback is zxcvbn's fixed text, never the password.
        let text = format!("{:?} {}", refused, refused.clone().err().map(|w| w.to_string()).unwrap_or_default());
        assert!(!text.to_lowercase().contains("vortigern"), "{text}");
    }

    #[test]
    fn a_min_score_of_zero_turns_zxcvbn_off() {
        assert_eq!(guessable("password", &[], 0), Ok(()));
        assert!(guessable("password", &[], 1).is_err());
    }

    #[test]
    fn chosen_password_length_bounds() {
        assert_eq!(check_chosen("Zq7!mK2", 8, &[], &[], 3), Err(Weakness::TooShort { min: 8 }));
        assert!(check_chosen("Zq7!mK2x", 8, &[], &[], 0).is_ok());
        let long: String = "Zq7!mK2x".repeat(32);
        assert!(check_chosen(&long, 8, &[], &[], 0).is_ok());
        assert_eq!(check_chosen(&format!("{long}y"), 8, &[], &[], 3), Err(Weakness::TooLong));
        assert_eq!(check_chosen("aaaaaaaaaaaa", 8, &[], &[], 3), Err(Weakness::Repetitive));
        assert_eq!(check_chosen("Zq7!mK2x\0", 8, &[], &[], 3), Err(Weakness::ControlCharacter));
    }
}
