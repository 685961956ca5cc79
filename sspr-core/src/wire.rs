//! The text forms of the API's values, as every binding and the portal exchange them: the
//! stable names of the enums (`as_str` / [`FromStr`]), the stable code of each error
//! ([`Error::code`]), a request context from the text a web server has
//! ([`RequestContext::from_parts`]), a completion from a mode name
//! ([`NewPassword::from_mode`]) and an actor from an optional administrator id
//! ([`Actor::from_admin_id`]).
//!
//! They live here, once, so that Python, Node, C, Kotlin and the portal cannot disagree on a
//! name or on what an unsupported one does (they did: locale `"fr"` was refused by Python,
//! English in Node, refused by C). `tests/parity/cases.json` pins every rule below and every
//! binding replays it through its public API.
//!
//! The rules:
//! - Names are the serde names of the types (`"email"`, `"unlock_only"`, `"not_enabled"`):
//!   exact, lower-case, snake_case. Anything else is `InvalidInput` naming the field
//!   (`channel`, `mode`, `reason`, `kind`); nothing is guessed.
//! - A locale named explicitly is a language tag (BCP 47, case-insensitive, the primary
//!   subtag decides: `"de-CH"` is German). A well-formed tag of a language sspr does not
//!   speak (`"pl"`) or a malformed one is `InvalidInput` (field `locale`): a caller who
//!   names a language must learn it is not served. An `Accept-Language` header is a browser's
//!   list of preferences, never an error: nothing supported in it (or a malformed header)
//!   falls back to the default locale, English.
//! - A client IP is an IPv4 or IPv6 address in its usual text form, surrounding whitespace
//!   ignored; anything else (a port, brackets, a zone, a host name, an empty string) is
//!   `InvalidInput` (field `client_ip`): a portal that passes garbage must notice, since the
//!   per-IP limits depend on it.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::api::{Actor, Channel, CompletionMode, Locale, NewPassword, RequestContext};
use crate::backend::{Authentication, PasswordRefusal};
use crate::error::{BackendErrorKind, ChallengeRefusal, Error, NotAllowedReason};
use crate::notice::Message;
use crate::secret::Password;

/// `InvalidInput` for a name that is not one of `names`.
fn unknown(field: &'static str, names: &[&str]) -> Error {
    Error::invalid(field, format!("expected one of {}", names.join(", ")))
}

/// `as_str`, `FromStr` and `Display` from one table of names, so the two directions cannot
/// drift apart.
macro_rules! names {
    ($type:ty, $field:literal, { $($variant:path => $name:literal),+ $(,)? }) => {
        impl $type {
            /// Every name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The stable name (the serde name).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($variant => $name,)+
                }
            }
        }

        impl FromStr for $type {
            type Err = Error;

            /// The value a stable name names; `InvalidInput` (field
            #[doc = concat!("`", $field, "`)")]
            /// for anything else.
            fn from_str(text: &str) -> Result<Self, Error> {
                match text {
                    $($name => Ok($variant),)+
                    _ => Err(unknown($field, Self::NAMES)),
                }
            }
        }
    };
}

names!(Channel, "channel", { Channel::Email => "email", Channel::Sms => "sms" });
names!(CompletionMode, "mode", {
    CompletionMode::Temporary => "temporary",
    CompletionMode::Chosen => "chosen",
    CompletionMode::UnlockOnly => "unlock_only",
});
names!(NotAllowedReason, "reason", {
    NotAllowedReason::Privileged => "privileged",
    NotAllowedReason::Ineligible => "ineligible",
    NotAllowedReason::NotEnabled => "not_enabled",
    NotAllowedReason::AccountDisabled => "account_disabled",
    NotAllowedReason::ModeDisabled => "mode_disabled",
    NotAllowedReason::AdminOnly => "admin_only",
    NotAllowedReason::ContactUnproven => "contact_unproven",
});
names!(ChallengeRefusal, "reason", {
    ChallengeRefusal::Required => "required",
    ChallengeRefusal::Failed => "failed",
    ChallengeRefusal::Unavailable => "unavailable",
});
names!(BackendErrorKind, "kind", {
    BackendErrorKind::Unavailable => "unavailable",
    BackendErrorKind::PasswordRejected => "password_rejected",
    BackendErrorKind::Rejected => "rejected",
    BackendErrorKind::NotSupported => "not_supported",
    BackendErrorKind::Other => "other",
});
names!(PasswordRefusal, "refusal", {
    PasswordRefusal::TooShort => "too_short",
    PasswordRefusal::TooRecent => "too_recent",
    PasswordRefusal::InHistory => "in_history",
    PasswordRefusal::TooSimple => "too_simple",
    PasswordRefusal::WrongCurrentPassword => "wrong_current_password",
    PasswordRefusal::Guessable => "guessable",
    PasswordRefusal::Breached => "breached",
    PasswordRefusal::Banned => "banned",
    PasswordRefusal::Unspecified => "unspecified",
});

names!(crate::hooks::HookEvent, "event", {
    crate::hooks::HookEvent::ResetCompleted => "reset_completed",
    crate::hooks::HookEvent::UserBlocked => "user_blocked",
    crate::hooks::HookEvent::ContactsChanged => "contacts_changed",
    crate::hooks::HookEvent::PrivilegedAttemptRefused => "privileged_attempt_refused",
    crate::hooks::HookEvent::DeliveryFailed => "delivery_failed",
    crate::hooks::HookEvent::FailureAlarm => "failure_alarm",
});
names!(Authentication, "authentication", {
    Authentication::Accepted => "accepted",
    Authentication::MustChange => "must_change",
    Authentication::Rejected => "rejected",
});

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CompletionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Locale {
    /// Every supported locale, in declaration order.
    pub const ALL: &'static [Locale] = &[Self::En, Self::De, Self::Fr, Self::Es, Self::It, Self::Nl];

    /// Every supported locale's name, in declaration order.
    pub const NAMES: &'static [&'static str] = &["en", "de", "fr", "es", "it", "nl"];

    /// The stable name: the primary language subtag (`"en"`, `"de"`, `"fr"`, `"es"`, `"it"`,
    /// `"nl"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::Es => "es",
            Self::It => "it",
            Self::Nl => "nl",
        }
    }

    /// The locale of a supported primary language subtag, already lower-case: the one list
    /// of supported languages, for explicit names and headers alike.
    pub(crate) fn from_primary(primary: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|l| l.as_str() == primary)
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `tag` is shaped like a BCP 47 language tag: subtags of 1 to 8 ASCII letters or
/// digits separated by `-`, the first of 2 to 8 letters.
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let primary = subtags.next().unwrap_or("");
    (2..=8).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl FromStr for Locale {
    type Err = Error;

    /// A locale named explicitly: a language tag, case-insensitive, whose primary subtag is
    /// supported (`"de"`, `"DE"`, `"de-CH"`). An unsupported language or a malformed tag is
    /// `InvalidInput` (field `locale`). For an `Accept-Language` header use
    /// [`Locale::from_accept_language`], which never fails.
    fn from_str(text: &str) -> Result<Self, Error> {
        if !is_language_tag(text) {
            return Err(Error::invalid("locale", "not a language tag (like \"en\" or \"de-CH\")"));
        }
        let primary = text.split('-').next().unwrap_or("").to_ascii_lowercase();
        Self::from_primary(&primary).ok_or_else(|| unknown("locale", Self::NAMES))
    }
}

impl Error {
    /// Every code [`Error::code`] gives, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "invalid_input",
        "wrong_pin",
        "pin_voided",
        "expired",
        "already_used",
        "invalid_state",
        "rate_limited",
        "blocked",
        "not_allowed",
        "password_rejected",
        "sign_in_failed",
        "unknown_user",
        "config",
        "backend",
        "challenge",
    ];

    /// The error's stable code, snake_case: what every binding exposes (Python's
    /// `SsprError.code`, Node's `code` in upper case, the C status's name), so that callers
    /// branch on a code, never on a message. A code never changes meaning; a new variant gets
    /// a new code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid_input",
            Self::WrongPin { .. } => "wrong_pin",
            Self::PinVoided => "pin_voided",
            Self::Expired => "expired",
            Self::AlreadyUsed => "already_used",
            Self::InvalidState { .. } => "invalid_state",
            Self::RateLimited { .. } => "rate_limited",
            Self::Blocked { .. } => "blocked",
            Self::NotAllowed { .. } => "not_allowed",
            Self::PasswordRejected { .. } => "password_rejected",
            Self::SignInFailed => "sign_in_failed",
            Self::UnknownUser => "unknown_user",
            Self::Config(_) => "config",
            Self::Backend { .. } => "backend",
            Self::Challenge { .. } => "challenge",
        }
    }
}

impl Message {
    /// Every name [`Message::kind`] gives, so that a binding can prove it names each kind.
    pub const KINDS: &'static [&'static str] = &[
        "pin",
        "contact_proof",
        "recovery_code",
        "reset_requested",
        "password_reset",
        "contacts_changed",
        "password_changed",
        "registration_reminder",
        "helpdesk_recovery",
        "admin_alert",
    ];

    /// The stable name of the notice's kind: `"pin"` (a reset PIN), `"contact_proof"` (the code
    /// proving a new contact), `"recovery_code"` (a helpdesk recovery code sent to the user),
    /// `"reset_requested"`,
    /// `"password_reset"`, `"contacts_changed"`, `"password_changed"` or
    /// `"registration_reminder"`, `"helpdesk_recovery"` or `"admin_alert"` (a security
    /// notice to the policy's `admin_alert_addresses`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Pin { purpose: crate::notice::PinPurpose::ContactProof, .. } => "contact_proof",
            Self::Pin { purpose: crate::notice::PinPurpose::HelpdeskRecovery, .. } => "recovery_code",
            Self::Pin { .. } => "pin",
            Self::ResetRequested { .. } => "reset_requested",
            Self::PasswordReset { .. } => "password_reset",
            Self::ContactsChanged { .. } => "contacts_changed",
            Self::PasswordChanged => "password_changed",
            Self::RegistrationReminder { .. } => "registration_reminder",
            Self::HelpdeskRecovery { .. } => "helpdesk_recovery",
            Self::AdminAlert { .. } => "admin_alert",
        }
    }
}

/// Parse a client's IP address (see the module's rules).
fn parse_ip(text: &str) -> Result<IpAddr, Error> {
    text.trim().parse().map_err(|_| Error::invalid("client_ip", "not an IPv4 or IPv6 address"))
}

impl RequestContext {
    /// A context from the text a web server has: the client's address (after trusted
    /// proxies) and the `Accept-Language` header. No address is allowed (no per-IP limit
    /// applies then); a malformed one is `InvalidInput` (field `client_ip`). The header picks
    /// the locale and never fails: absent, malformed or naming nothing supported, it gives
    /// the default (English). Set `locale` afterwards to a [`Locale`] parsed with
    /// [`FromStr`] when the caller names one explicitly, and `user_agent` when known.
    ///
    /// ```
    /// use sspr_core::{Locale, RequestContext};
    /// let ctx = RequestContext::from_parts(Some("2001:db8::7"), Some("pl-PL, de;q=0.8"))?;
    /// assert_eq!(ctx.locale, Locale::De);
    /// assert_eq!(RequestContext::from_parts(None, Some("pl"))?.locale, Locale::En);
    /// assert_eq!(RequestContext::from_parts(Some("host:80"), None).unwrap_err().code(), "invalid_input");
    /// # Ok::<(), sspr_core::Error>(())
    /// ```
    pub fn from_parts(client_ip: Option<&str>, accept_language: Option<&str>) -> Result<Self, Error> {
        Ok(Self {
            client_ip: client_ip.map(parse_ip).transpose()?,
            user_agent: None,
            locale: accept_language.map(Locale::from_accept_language).unwrap_or_default(),
            challenge_token: None,
        })
    }
}

impl Actor {
    /// Who acts, from the optional id of the administrator the portal authenticated: none is
    /// the signed-in user; an empty or blank id is `InvalidInput` (field `admin`), since the
    /// audit trail must name the administrator (Node refused it, Python, C and uniffi
    /// recorded an administrator without a name).
    pub fn from_admin_id(admin_id: Option<&str>) -> Result<Self, Error> {
        match admin_id {
            None => Ok(Self::User),
            Some(id) if id.trim().is_empty() => Err(Error::invalid("admin", "an administrator needs a non-empty id")),
            Some(id) => Ok(Self::Admin(id.to_owned())),
        }
    }
}

impl NewPassword {
    /// How to complete a reset in `mode`, with the user's `password` in mode `chosen` and
    /// only there: a missing one in `chosen`, or one given in another mode, is
    /// `InvalidInput` (field `password`), so that a password typed for nothing is never
    /// silently dropped.
    pub fn from_mode(mode: CompletionMode, password: Option<Password>) -> Result<Self, Error> {
        match (mode, password) {
            (CompletionMode::Temporary, None) => Ok(Self::Temporary),
            (CompletionMode::UnlockOnly, None) => Ok(Self::UnlockOnly),
            (CompletionMode::Chosen, Some(password)) => Ok(Self::Chosen(password)),
            (CompletionMode::Chosen, None) => Err(Error::invalid("password", "mode \"chosen\" needs the new password")),
            (CompletionMode::Temporary | CompletionMode::UnlockOnly, Some(_)) => {
                Err(Error::invalid("password", "a password is only given in mode \"chosen\""))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn field(err: Error) -> &'static str {
        match err {
            Error::InvalidInput { field, .. } => field,
            other => panic!("not InvalidInput: {other:?}"),
        }
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for name in Channel::NAMES {
            let value: Channel = name.parse().unwrap();
            assert_eq!(value.as_str(), *name);
            assert_eq!(serde_json::to_value(value).unwrap(), *name);
        }
        for name in CompletionMode::NAMES {
            let value: CompletionMode = name.parse().unwrap();
            assert_eq!(value.as_str(), *name);
            assert_eq!(serde_json::to_value(value).unwrap(), *name);
        }
        for name in NotAllowedReason::NAMES {
            let value: NotAllowedReason = name.parse().unwrap();
            assert_eq!(value.as_str(), *name);
            assert_eq!(serde_json::to_value(value).unwrap(), *name);
        }
        for name in Authentication::NAMES {
            let value: Authentication = name.parse().unwrap();
            assert_eq!(value.as_str(), *name);
            assert_eq!(serde_json::to_value(value).unwrap(), *name);
        }
        for name in BackendErrorKind::NAMES {
            assert_eq!(name.parse::<BackendErrorKind>().unwrap().as_str(), *name);
        }
        for name in PasswordRefusal::NAMES {
            let value: PasswordRefusal = name.parse().unwrap();
            assert_eq!(value.as_str(), *name);
            assert_eq!(serde_json::to_value(value).unwrap(), *name);
        }
        for name in Locale::NAMES {
            let value: Locale = name.parse().unwrap();
            assert_eq!(value.as_str(), *name);
            assert_eq!(serde_json::to_value(value).unwrap(), *name);
        }
    }

    #[test]
    fn names_are_exact() {
        assert_eq!(field("Email".parse::<Channel>().unwrap_err()), "channel");
        assert_eq!(field("unlock-only".parse::<CompletionMode>().unwrap_err()), "mode");
        assert_eq!(field(" temporary".parse::<CompletionMode>().unwrap_err()), "mode");
        assert_eq!(field("other".parse::<NotAllowedReason>().unwrap_err()), "reason");
        assert_eq!(field("".parse::<BackendErrorKind>().unwrap_err()), "kind");
        assert_eq!(field("In_history".parse::<PasswordRefusal>().unwrap_err()), "refusal");
    }

    // Python refused "fr", Node answered English, C had no text form: an explicitly named
    // locale is now refused when unsupported, in every binding.
    #[test]
    fn an_explicit_unsupported_locale_is_refused() {
        assert_eq!(field("pl".parse::<Locale>().unwrap_err()), "locale");
        assert_eq!(field("pt-BR".parse::<Locale>().unwrap_err()), "locale");
    }

    #[test]
    fn the_six_languages_are_named_by_their_tags() {
        assert_eq!(Locale::ALL.len(), Locale::NAMES.len());
        for (locale, name) in Locale::ALL.iter().zip(Locale::NAMES) {
            assert_eq!(locale.as_str(), *name);
        }
        assert_eq!("fr-CA".parse::<Locale>().unwrap(), Locale::Fr);
        assert_eq!("es-419".parse::<Locale>().unwrap(), Locale::Es);
        assert_eq!("IT-ch".parse::<Locale>().unwrap(), Locale::It);
        assert_eq!("nl-BE".parse::<Locale>().unwrap(), Locale::Nl);
    }

    #[test]
    fn accept_language_is_negotiated_by_quality_then_order() {
        let pick = Locale::from_accept_language;
        assert_eq!(pick("fr-FR, en;q=0.5"), Locale::Fr);
        assert_eq!(pick("en;q=0.2, es-MX;q=0.7"), Locale::Es);
        assert_eq!(pick("pl, pt;q=0.9, it-CH;q=0.8, de;q=0.8"), Locale::It, "equal q: the header's order");
        assert_eq!(pick("nl;q=0, de;q=0.1"), Locale::De, "q=0 is a refusal");
        assert_eq!(pick("nl;q=0"), Locale::En);
        assert_eq!(pick("es;q=2, fr;q=0.9"), Locale::Es, "an out-of-range q counts as 1");
        assert_eq!(pick("es;q=NaN, fr;q=0.9"), Locale::Es);
        assert_eq!(pick("*, fr;q=0.1"), Locale::Fr);
        assert_eq!(pick(&"pl,".repeat(40).to_string()), Locale::En);
        assert_eq!(pick(&format!("{}fr", "pl,".repeat(40))), Locale::En, "only 32 entries are read");
    }

    #[test]
    fn an_explicit_locale_is_a_case_insensitive_language_tag() {
        assert_eq!("DE".parse::<Locale>().unwrap(), Locale::De);
        assert_eq!("de-CH".parse::<Locale>().unwrap(), Locale::De);
        assert_eq!("en-Latn-GB".parse::<Locale>().unwrap(), Locale::En);
        for malformed in ["", "d", "de_CH", "de-", " de", "de;q=1", "de-CH-toolongsubtag", "1e", "d\u{e9}"] {
            assert_eq!(field(malformed.parse::<Locale>().unwrap_err()), "locale", "{malformed:?}");
        }
    }

    // Node took "fr" as a header and answered English; a header still never fails (and an
    // unsupported language in it is passed over).
    #[test]
    fn an_accept_language_header_falls_back_to_the_default() {
        let locale = |h: &str| RequestContext::from_parts(None, Some(h)).unwrap().locale;
        assert_eq!(locale("pl"), Locale::En);
        assert_eq!(locale(";;;,,q=x"), Locale::En);
        assert_eq!(locale("pl-PL, de;q=0.5"), Locale::De);
        assert_eq!(RequestContext::from_parts(None, None).unwrap().locale, Locale::En);
    }

    #[test]
    fn client_ips_parse_or_are_refused() {
        let ip = |t: &str| RequestContext::from_parts(Some(t), None).map(|c| c.client_ip);
        assert_eq!(ip(" 192.0.2.7 ").unwrap(), Some("192.0.2.7".parse().unwrap()));
        assert_eq!(ip("2001:db8::1").unwrap(), Some("2001:db8::1".parse().unwrap()));
        for garbage in ["", "192.0.2.7:80", "[2001:db8::1]", "fe80::1%eth0", "localhost", "256.0.0.1", "1.2.3"] {
            assert_eq!(field(ip(garbage).unwrap_err()), "client_ip", "{garbage:?}");
        }
    }

    #[test]
    fn a_password_goes_with_mode_chosen_only() {
        let pw = || Some(Password::new("correct horse"));
        assert!(matches!(NewPassword::from_mode(CompletionMode::Chosen, pw()), Ok(NewPassword::Chosen(_))));
        assert!(matches!(NewPassword::from_mode(CompletionMode::Temporary, None), Ok(NewPassword::Temporary)));
        assert!(matches!(NewPassword::from_mode(CompletionMode::UnlockOnly, None), Ok(NewPassword::UnlockOnly)));
        assert_eq!(field(NewPassword::from_mode(CompletionMode::Chosen, None).unwrap_err()), "password");
        assert_eq!(field(NewPassword::from_mode(CompletionMode::Temporary, pw()).unwrap_err()), "password");
        assert_eq!(field(NewPassword::from_mode(CompletionMode::UnlockOnly, pw()).unwrap_err()), "password");
    }

    #[test]
    fn an_admin_is_named() {
        assert_eq!(Actor::from_admin_id(None).unwrap(), Actor::User);
        assert_eq!(Actor::from_admin_id(Some("helpdesk-7")).unwrap(), Actor::Admin("helpdesk-7".into()));
        assert_eq!(field(Actor::from_admin_id(Some("")).unwrap_err()), "admin");
        assert_eq!(field(Actor::from_admin_id(Some(" \t")).unwrap_err()), "admin");
    }

    #[test]
    fn notice_kinds_have_stable_names() {
        let kinds = [
            Message::PasswordReset { unlock_only: false }.kind(),
            Message::ContactsChanged { by_admin: true }.kind(),
            Message::ResetRequested { channel: Channel::Sms, masked: String::new() }.kind(),
            Message::RegistrationReminder { url: String::new(), confirm: false }.kind(),
        ];
        assert_eq!(kinds, ["password_reset", "contacts_changed", "reset_requested", "registration_reminder"]);
    }

    #[test]
    fn every_error_has_a_listed_code() {
        let errors = [
            Error::invalid("x", "y"),
            Error::WrongPin { attempts_left: 1 },
            Error::PinVoided,
            Error::Expired,
            Error::AlreadyUsed,
            Error::InvalidState { reason: "r" },
            Error::RateLimited { retry_after: std::time::Duration::from_secs(1) },
            Error::Blocked { until: time::OffsetDateTime::UNIX_EPOCH },
            Error::NotAllowed { reason: NotAllowedReason::Privileged },
            Error::PasswordRejected { refusal: PasswordRefusal::TooShort, reason: "r".into(), suggestions: Vec::new() },
            Error::SignInFailed,
            Error::UnknownUser,
            Error::Config("c".into()),
            Error::Backend { source: crate::BackendError::new(BackendErrorKind::Other, "b") },
            Error::Challenge { reason: ChallengeRefusal::Required },
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
    }
}
