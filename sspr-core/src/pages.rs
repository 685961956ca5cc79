//! The texts of the web pages a host shows for sspr (reset, registration, password change,
//! sign-in, helpdesk recovery, administration, reports), in every [`Locale`], from Fluent
//! resources compiled into sspr-core (`sspr-core/locales/pages/*.ftl`).
//!
//! One catalogue, so the portal and the Python and Node routers can say the same thing in
//! the same words. The bundles are parsed once per process; [`text`] only formats. Plurals
//! follow each language's CLDR rules (pass counts as [`Arg::Number`]); dates come from
//! [`datetime`] and [`clock_time`], in the offset the value carries (convert it to the
//! policy's time zone with `Sspr::local_time` first).
//!
//! [`describe`] is the one rule for what a web user is told for an [`Error`] (status, code,
//! message and the fields a front end acts on); the routers of every binding answer with it.
//!
//! ```
//! use sspr_core::Locale;
//! use sspr_core::pages::{Arg, text};
//!
//! assert_eq!(text(Locale::Fr, "reset-title", &[]), "Réinitialiser votre mot de passe");
//! let wrong = text(Locale::En, "wrong-pin", &[("attempts", Arg::Number(1))]);
//! assert_eq!(wrong, "The code is wrong. 1 attempt left.");
//! ```

use fluent_bundle::{FluentArgs, FluentValue};
use time::OffsetDateTime;

use crate::api::Locale;
use crate::error::{ChallengeRefusal, Error};
use crate::l10n::PAGES;

/// A value for a message's variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Arg<'a> {
    /// Text put in as it is (a masked address, a name, a date from [`datetime`]) or a
    /// selector's key (`hours`, `too-short`).
    Text(&'a str),
    /// A count: formatted as a number, and chooses the plural form.
    Number(u64),
    /// A date and time, written as [`datetime`] writes it in the message's language (the
    /// messages' `$at`).
    DateTime(OffsetDateTime),
    /// A time of day, written as [`clock_time`] writes it (the messages' `$time`).
    ClockTime(OffsetDateTime),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Self::Text(value)
    }
}

impl From<u64> for Arg<'_> {
    fn from(value: u64) -> Self {
        Self::Number(value)
    }
}

impl From<u32> for Arg<'_> {
    fn from(value: u32) -> Self {
        Self::Number(value.into())
    }
}

impl From<usize> for Arg<'_> {
    fn from(value: usize) -> Self {
        Self::Number(u64::try_from(value).unwrap_or(u64::MAX))
    }
}

/// Message `id` in `locale` with `args`; English when that language lacks it, and `[id]`
/// if no language has it (a test keeps every id the portal uses in every language). A
/// variable the message needs and `args` lacks shows as `{$name}`.
pub fn text(locale: Locale, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut fluent = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        let value = match *value {
            Arg::Text(text) => FluentValue::from(text),
            Arg::Number(n) => FluentValue::from(n),
            Arg::DateTime(at) => FluentValue::from(datetime(locale, at)),
            Arg::ClockTime(at) => FluentValue::from(clock_time(at)),
        };
        fluent.set(*name, value);
    }
    let mut out = String::new();
    PAGES.write_into(locale, id, &fluent, &mut out, &mut Vec::new());
    out
}

/// Whether the English resource (the reference every language must match) has message `id`.
pub fn has(id: &str) -> bool {
    PAGES.has(Locale::En, id)
}

/// A date and time as `locale` writes it, in the offset `at` carries: "1 December 2026 at
/// 20:04 (UTC+1)", "1er décembre 2026 à 20:04 (UTC+1)" (the notices' wording).
pub fn datetime(locale: Locale, at: OffsetDateTime) -> String {
    crate::l10n::datetime(locale, at)
}

/// A time of day on the 24-hour clock, in the offset `at` carries: "20:04 (UTC+1)" (the
/// same in every language).
pub fn clock_time(at: OffsetDateTime) -> String {
    crate::l10n::clock_time(at)
}

/// What a web user is told for an [`Error`]: the HTTP status, a stable code, the catalogue's
/// message with its arguments, and the fields a JSON front end acts on. [`describe`] makes
/// it; the portal, the Python and Node routers all answer with it, so an error reads the
/// same everywhere.
///
/// Nothing in it is secret: errors hold no PIN or password, and the answer holds less (a
/// [`NotAllowedReason`](crate::NotAllowedReason) is left out, so a privileged account is not
/// told apart from an ineligible one).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer<'a> {
    /// The HTTP status (400, 401, 403, 409, 410, 429 or 503).
    pub status: u16,
    /// The stable code a front end branches on: the error's code (`wrong_pin`), except that a
    /// bot challenge's refusal names its reason (`challenge_required`, `challenge_failed`,
    /// `challenge_unavailable`), since a front end acts differently on each.
    pub code: &'static str,
    /// The catalogue's message id ([`text`]): `wrong-pin`, `err-expired`, ...
    pub message: &'static str,
    /// The message's arguments.
    pub args: Vec<(&'static str, Arg<'a>)>,
    /// `wrong_pin`: tries left for this PIN.
    pub attempts_left: Option<u32>,
    /// `rate_limited`: whole seconds to wait (at least 1, rounded up; the message says minutes).
    pub retry_after_seconds: Option<u64>,
    /// `blocked`: when the block ends.
    pub until: Option<OffsetDateTime>,
    /// `invalid_input`: the argument refused.
    pub field: Option<&'static str>,
    /// `password_rejected`: the policy's or the directory's reason, in words to show (not
    /// translated); a bot challenge's refusal: `required`, `failed` or `unavailable`.
    pub reason: Option<&'a str>,
}

impl Answer<'_> {
    /// The message in `locale`, with its arguments.
    pub fn text(&self, locale: Locale) -> String {
        text(locale, self.message, &self.args)
    }

    fn new(status: u16, code: &'static str, message: &'static str) -> Self {
        Self {
            status,
            code,
            message,
            args: Vec::new(),
            attempts_left: None,
            retry_after_seconds: None,
            until: None,
            field: None,
            reason: None,
        }
    }
}

/// What a web user is told for `error` (see [`Answer`]): the one rule the portal and the
/// framework routers share.
///
/// | error | status | message |
/// | --- | --- | --- |
/// | `InvalidInput` | 400 | `err-field` naming the field |
/// | `WrongPin` | 400 | `wrong-pin` with the attempts left |
/// | `PasswordRejected` | 400 | `password-rejected` with the reason |
/// | `SignInFailed` | 401 | `signin-failed` |
/// | `Blocked` | 403 | `blocked` with the end |
/// | `Challenge` (required, failed) | 403 | `err-challenge-required`, `err-challenge-failed` |
/// | `InvalidState` | 409 | `err-state` |
/// | `Expired`, `PinVoided`, `AlreadyUsed` | 410 | `err-expired`, `err-voided`, `err-used` |
/// | `RateLimited` | 429 | `rate-limited` with the wait in minutes |
/// | `Backend`, `Challenge` (unavailable) | 503 | `err-unavailable`, `err-challenge-unavailable` |
/// | `NotAllowed`, `UnknownUser`, `Config` | 403 | `err-not-possible` |
///
/// ```
/// use std::time::Duration;
/// use sspr_core::{Error, Locale};
/// use sspr_core::pages::describe;
///
/// let err = Error::RateLimited { retry_after: Duration::from_secs(61) };
/// let answer = describe(&err);
/// assert_eq!((answer.status, answer.code, answer.retry_after_seconds), (429, "rate_limited", Some(61)));
/// assert_eq!(answer.text(Locale::En), "Too many requests. Please try again in 2 minutes.");
/// ```
pub fn describe(error: &Error) -> Answer<'_> {
    match error {
        Error::InvalidInput { field, .. } => Answer {
            args: vec![("field", Arg::Text(field))],
            field: Some(*field),
            ..Answer::new(400, error.code(), "err-field")
        },
        Error::WrongPin { attempts_left } => Answer {
            args: vec![("attempts", Arg::from(*attempts_left))],
            attempts_left: Some(*attempts_left),
            ..Answer::new(400, error.code(), "wrong-pin")
        },
        Error::PasswordRejected { reason, .. } => Answer {
            args: vec![("reason", Arg::Text(reason))],
            reason: Some(reason.as_str()),
            ..Answer::new(400, error.code(), "password-rejected")
        },
        Error::SignInFailed => Answer::new(401, error.code(), "signin-failed"),
        Error::Blocked { until } => Answer {
            args: vec![("at", Arg::DateTime(*until))],
            until: Some(*until),
            ..Answer::new(403, error.code(), "blocked")
        },
        Error::Challenge { reason } => {
            // A front end shows the widget for the first two; the last is the provider's
            // outage, not the user's doing.
            let (status, code, message) = match reason {
                ChallengeRefusal::Required => (403, "challenge_required", "err-challenge-required"),
                ChallengeRefusal::Failed => (403, "challenge_failed", "err-challenge-failed"),
                ChallengeRefusal::Unavailable => (503, "challenge_unavailable", "err-challenge-unavailable"),
            };
            Answer { reason: Some(reason.as_str()), ..Answer::new(status, code, message) }
        }
        Error::InvalidState { .. } => Answer::new(409, error.code(), "err-state"),
        Error::Expired => Answer::new(410, error.code(), "err-expired"),
        Error::PinVoided => Answer::new(410, error.code(), "err-voided"),
        Error::AlreadyUsed => Answer::new(410, error.code(), "err-used"),
        Error::RateLimited { retry_after } => {
            // Whole seconds for Retry-After (a fraction waits one more), whole minutes for people.
            let wait = retry_after.as_secs().saturating_add(u64::from(retry_after.subsec_nanos() > 0)).max(1);
            Answer {
                args: vec![("minutes", Arg::Number(wait.div_ceil(60)))],
                retry_after_seconds: Some(wait),
                ..Answer::new(429, error.code(), "rate-limited")
            }
        }
        Error::Backend { .. } => Answer::new(503, error.code(), "err-unavailable"),
        // Which rule refused stays unsaid: it would tell a privileged account apart.
        Error::NotAllowed { .. } | Error::UnknownUser | Error::Config(_) => {
            Answer::new(403, error.code(), "err-not-possible")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::backend::PasswordRefusal;
    use crate::{BackendError, NotAllowedReason};

    /// One error of every variant (a new variant must be added here and to `describe`).
    fn every_error() -> Vec<Error> {
        vec![
            Error::InvalidInput { field: "login", reason: "control characters".into() },
            Error::WrongPin { attempts_left: 1 },
            Error::PinVoided,
            Error::Expired,
            Error::AlreadyUsed,
            Error::InvalidState { reason: "no PIN was sent" },
            Error::RateLimited { retry_after: Duration::from_secs(90) },
            Error::Blocked { until: time::macros::datetime!(2026-03-03 09:00 UTC) },
            Error::NotAllowed { reason: NotAllowedReason::Privileged },
            Error::PasswordRejected {
                refusal: PasswordRefusal::TooShort,
                reason: "at least 12 characters".into(),
                suggestions: vec!["add a word".into()],
            },
            Error::SignInFailed,
            Error::Challenge { reason: ChallengeRefusal::Required },
            Error::Challenge { reason: ChallengeRefusal::Failed },
            Error::Challenge { reason: ChallengeRefusal::Unavailable },
            Error::UnknownUser,
            Error::Config("min_response_ms out of range".into()),
            Error::Backend { source: BackendError::new(crate::BackendErrorKind::Unavailable, "ldap down") },
        ]
    }

    fn summary(a: &Answer<'_>) -> (u16, &'static str, &'static str) {
        (a.status, a.code, a.message)
    }

    #[test]
    fn every_variant_has_its_status_code_and_message() {
        let got: Vec<_> = every_error().iter().map(|e| summary(&describe(e))).collect();
        assert_eq!(
            got,
            [
                (400, "invalid_input", "err-field"),
                (400, "wrong_pin", "wrong-pin"),
                (410, "pin_voided", "err-voided"),
                (410, "expired", "err-expired"),
                (410, "already_used", "err-used"),
                (409, "invalid_state", "err-state"),
                (429, "rate_limited", "rate-limited"),
                (403, "blocked", "blocked"),
                (403, "not_allowed", "err-not-possible"),
                (400, "password_rejected", "password-rejected"),
                (401, "sign_in_failed", "signin-failed"),
                (403, "challenge_required", "err-challenge-required"),
                (403, "challenge_failed", "err-challenge-failed"),
                (503, "challenge_unavailable", "err-challenge-unavailable"),
                (403, "unknown_user", "err-not-possible"),
                (403, "config", "err-not-possible"),
                (503, "backend", "err-unavailable"),
            ]
        );
    }

    #[test]
    fn every_message_is_in_every_language_with_its_arguments_filled() {
        for error in every_error() {
            let answer = describe(&error);
            assert!(has(answer.message), "{}", answer.message);
            for locale in Locale::ALL {
                let said = answer.text(*locale);
                assert!(!said.is_empty() && !said.contains("{$"), "{locale}: {said}");
            }
        }
    }

    #[test]
    fn the_fields_a_front_end_acts_on() {
        let field = Error::InvalidInput { field: "pin", reason: "digits only".into() };
        let field = describe(&field);
        assert_eq!((field.field, field.args.clone()), (Some("pin"), vec![("field", Arg::Text("pin"))]));
        assert_eq!(field.text(Locale::En), "Please check your input (pin).");
        assert_eq!(field.reason, None, "the reason is for developers, the field for the user");

        let pin = Error::WrongPin { attempts_left: 2 };
        let pin = describe(&pin);
        assert_eq!(pin.attempts_left, Some(2));
        assert_eq!(pin.text(Locale::En), "The code is wrong. 2 attempts left.");

        let until = time::macros::datetime!(2026-03-03 09:00 UTC);
        let blocked = Error::Blocked { until };
        let blocked = describe(&blocked);
        assert_eq!(blocked.until, Some(until));
        assert!(blocked.text(Locale::En).contains("3 March 2026"), "{}", blocked.text(Locale::En));

        let refused = Error::PasswordRejected {
            refusal: PasswordRefusal::TooShort,
            reason: "at least 12 characters".into(),
            suggestions: vec![],
        };
        let refused = describe(&refused);
        assert_eq!(refused.reason, Some("at least 12 characters"));
        assert_eq!(refused.text(Locale::En), "The password was refused: at least 12 characters.");

        let challenge = Error::Challenge { reason: ChallengeRefusal::Unavailable };
        assert_eq!(describe(&challenge).reason, Some("unavailable"));
    }

    #[test]
    fn a_wait_is_whole_seconds_rounded_up_and_said_in_minutes() {
        let wait = |d: Duration| {
            let error = Error::RateLimited { retry_after: d };
            let a = describe(&error);
            let minutes = match a.args.as_slice() {
                [("minutes", Arg::Number(n))] => Some(*n),
                _ => None,
            };
            (a.retry_after_seconds, minutes)
        };
        assert_eq!(wait(Duration::ZERO), (Some(1), Some(1)), "never 0: that would invite a retry now");
        assert_eq!(wait(Duration::from_millis(1500)), (Some(2), Some(1)));
        assert_eq!(wait(Duration::from_secs(60)), (Some(60), Some(1)));
        assert_eq!(wait(Duration::from_secs(61)), (Some(61), Some(2)));
        assert_eq!(wait(Duration::MAX).0, Some(u64::MAX), "saturates instead of overflowing");
    }

    #[test]
    fn no_answer_holds_what_the_error_does_not_show() {
        // A backend's message (it may name a host) and a policy's rule stay out of the answer.
        for error in every_error() {
            let answer = describe(&error);
            let said = format!("{answer:?} {}", answer.text(Locale::En));
            for hidden in ["ldap down", "privileged", "no PIN was sent", "control characters", "min_response_ms"] {
                assert!(!said.contains(hidden), "{hidden} in {said}");
            }
        }
    }
}
