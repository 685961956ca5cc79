//! The core's stable names read back by the core's own rules, for hosts that hold a name as
//! text (from a configuration, a form, another service): a name of the kind `kind` is the
//! core's name of one value (exact, `"unlock_only"`, never `"Unlock-Only"`; a locale is a
//! language tag, `"de-CH"` is German), anything else is `InvalidInput` with the field the core
//! names. The C API (`sspr_enum_parse`) and Python (`sspr.parse_name`) read names with it;
//! uniffi has a typed `parse_*` per enum.

use std::str::FromStr;

use sspr_core::{
    Authentication, BackendErrorKind, Channel, CompletionMode, Error, HookEvent, Locale, NotAllowedReason,
    PasswordRefusal,
};

/// The kinds of names [`core_name`] reads: `"error_code"` (`Error::code`), `"channel"`,
/// `"locale"`, `"completion_mode"`, `"not_allowed_reason"`, `"backend_error_kind"`,
/// `"authentication"`, `"password_refusal"`, `"hook_event"`.
pub const KINDS: &[&str] = &[
    "error_code",
    "channel",
    "locale",
    "completion_mode",
    "not_allowed_reason",
    "backend_error_kind",
    "authentication",
    "password_refusal",
    "hook_event",
];

/// The core's name for `text`, a name of the kind `kind` (one of [`KINDS`]).
///
/// ```
/// assert_eq!(sspr_bind::names::core_name("locale", "de-CH").unwrap(), "de");
/// assert_eq!(sspr_bind::names::core_name("locale", "nl-BE").unwrap(), "nl");
/// assert!(sspr_bind::names::core_name("locale", "pl").is_err());
/// assert_eq!(sspr_bind::names::core_name("error_code", "wrong_pin").unwrap(), "wrong_pin");
/// assert!(sspr_bind::names::core_name("channel", "Email").is_err());
/// ```
///
/// # Errors
/// `InvalidInput` naming the core's field (`"channel"`, `"code"`, ...) for a name the kind
/// does not have, or `"kind"` for an unknown kind.
pub fn core_name(kind: &str, text: &str) -> Result<&'static str, Error> {
    fn by<T: FromStr<Err = Error>>(text: &str, name: fn(T) -> &'static str) -> Result<&'static str, Error> {
        text.parse::<T>().map(name)
    }
    match kind {
        "error_code" => Error::CODES.iter().copied().find(|c| *c == text).ok_or_else(|| Error::InvalidInput {
            field: "code",
            reason: format!("expected one of {}", Error::CODES.join(", ")),
        }),
        "channel" => by(text, Channel::as_str),
        "locale" => by(text, Locale::as_str),
        "completion_mode" => by(text, CompletionMode::as_str),
        "not_allowed_reason" => by(text, NotAllowedReason::as_str),
        "backend_error_kind" => by(text, BackendErrorKind::as_str),
        "authentication" => by(text, Authentication::as_str),
        "password_refusal" => by(text, PasswordRefusal::as_str),
        "hook_event" => by(text, HookEvent::as_str),
        _ => Err(Error::InvalidInput { field: "kind", reason: format!("expected one of {}", KINDS.join(", ")) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_a_name_of_its_own_and_refuses_another() {
        for kind in KINDS {
            let own = match *kind {
                "error_code" => "expired",
                "channel" => "sms",
                "locale" => "de",
                "completion_mode" => "chosen",
                "not_allowed_reason" => "privileged",
                "backend_error_kind" => "unavailable",
                "authentication" => "must_change",
                "hook_event" => "reset_completed",
                _ => "too_short",
            };
            assert_eq!(core_name(kind, own).ok(), Some(own), "{kind}");
            assert!(matches!(core_name(kind, "no such name"), Err(Error::InvalidInput { .. })), "{kind}");
        }
        assert!(matches!(core_name("colour", "red"), Err(Error::InvalidInput { field: "kind", .. })));
    }
}
