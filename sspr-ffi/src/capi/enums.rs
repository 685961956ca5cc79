//! The C API's enums, each declared once with `c_enum!`, and their stable names.
//!
//! A C enum's values are the core's values: its variants are named as the core names them
//! (`SSPR_COMPLETION_MODE_UNLOCK_ONLY` is `"unlock_only"`, `SSPR_STATUS_WRONG_PIN` is
//! `"wrong_pin"`: cbindgen's SCREAMING_SNAKE of the variant is the name in upper case), so a
//! value crosses between the core and C by its name, and no table of names is written here.
//! The names and the rules for reading them stay in `sspr_core::wire` (`as_str` / `FromStr`,
//! `Error::code`); `sspr_enum_name` and `sspr_enum_parse` give them to C, so a C program can
//! log, store or exchange the same names as the other bindings and the portal. Variants the
//! core does not name (`SSPR_STATUS_NULL_ARGUMENT`, `SSPR_NOT_ALLOWED_REASON_NONE`) are the C
//! API's own and have no name.

use std::collections::HashMap;
use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use sspr_core::Error;

use super::{SsprError, c_string, guard, str_arg};
pub(crate) use crate::names::Named;

/// A C enum: a [`Named`] enum whose values C passes as integers.
pub(crate) trait CEnum: Named {
    /// The variant's value in C.
    fn raw(self) -> u32;

    /// The variant a C caller's integer names, if any (C may pass any value).
    fn from_raw(raw: u32) -> Option<Self> {
        Self::VARIANTS.iter().map(|(v, _)| *v).find(|v| v.raw() == raw)
    }
}

/// One `#[repr(C)]` enum, [`Named`] by its variants, from one declaration.
macro_rules! c_enum {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $value:literal, )+
        }
    ) => {
        named_enum! {
            $(#[doc = $doc])*
            #[repr(C)]
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub enum $name {
                $( $(#[doc = $vdoc])* $variant = $value, )+
            }
        }

        impl CEnum for $name {
            fn raw(self) -> u32 {
                self as u32
            }
        }
    };
}

c_enum! {
    /// The outcome of a call. 0 is success; every other value names what went wrong.
    pub enum SsprStatus {
        /// Success.
        Ok = 0,
        /// Input sspr does not accept (see `sspr_error_field`). Nothing was changed.
        InvalidInput = 1,
        /// Wrong PIN; `sspr_error_attempts_left` more tries remain.
        WrongPin = 2,
        /// The PIN is void after too many wrong tries: start a new reset.
        PinVoided = 3,
        /// The flow or its PIN expired (or the flow id is unknown).
        Expired = 4,
        /// The flow or its PIN was already used.
        AlreadyUsed = 5,
        /// The step is not possible now (see the message).
        InvalidState = 6,
        /// Too many requests; see `sspr_error_retry_after_secs`.
        RateLimited = 7,
        /// Self-service reset is blocked until `sspr_error_blocked_until`.
        Blocked = 8,
        /// The policy does not permit this (see `sspr_error_not_allowed_reason`).
        NotAllowed = 9,
        /// A chosen password was refused.
        PasswordRejected = 10,
        /// An admin or registration call named a user the directory does not have.
        UnknownUser = 11,
        /// The engine is configured wrongly (policy out of range, short key...).
        Config = 12,
        /// A backend failed (see `sspr_error_backend_kind`); the call can be retried.
        Backend = 13,
        /// A sign-in failed: unknown login, wrong password or an account that may not sign in
        /// (one answer for all, so sign-in does not reveal accounts).
        SignInFailed = 14,
        /// `begin_reset` was refused by the bot challenge (`SsprEngineOptions.bot_challenge_json`;
        /// pass the widget's token with `sspr_begin_reset_challenged`): the message says
        /// `required`, `failed` or `unavailable` (the provider could not be asked).
        Challenge = 15,
        /// A required pointer argument was NULL (see `sspr_error_field`).
        NullArgument = 100,
        /// A string argument was not valid UTF-8 (see `sspr_error_field`).
        InvalidUtf8 = 101,
        /// The library panicked; the call had no effect that can be relied on.
        Panic = 102,
        /// A failure of the library itself (no thread could be started, ...).
        Internal = 103,
        /// A blocking call was made on one of the library's own threads (inside an `_async`
        /// call's callback, or a backend function it ran): it would wait for work only those
        /// threads can do and never return, so it is refused at once. Use the `_async` variant
        /// there.
        WrongThread = 104,
    }
}

c_enum! {
    /// Why the policy refused a request (`sspr_error_not_allowed_reason`).
    pub enum SsprNotAllowedReason {
        /// Not a `SSPR_STATUS_NOT_ALLOWED` error.
        None = 0,
        /// A member of a privileged group.
        Privileged = 1,
        /// Outside the eligible OUs / groups.
        Ineligible = 2,
        /// SSPR is not enabled for the user.
        NotEnabled = 3,
        /// The account is disabled.
        AccountDisabled = 4,
        /// The completion mode is switched off.
        ModeDisabled = 5,
        /// Only an administrator may do this.
        AdminOnly = 6,
        /// A new contact must be confirmed with the code sent to it.
        ContactUnproven = 7,
        /// A reason this version of the header does not name.
        Other = 99,
    }
}

c_enum! {
    /// What kind of failure a backend had: what a backend reports with `sspr_complete_error`,
    /// and what `sspr_error_backend_kind` tells.
    pub enum SsprBackendErrorKind {
        /// Not a backend error.
        None = 0,
        /// Unreachable or timed out; retrying later may work.
        Unavailable = 1,
        /// The directory's own policy refused the password.
        PasswordRejected = 2,
        /// The backend refused the request as malformed or unsupported.
        Rejected = 3,
        /// Anything else.
        Other = 4,
        /// The backend does not offer this operation (a directory without password changes).
        NotSupported = 5,
    }
}

c_enum! {
    /// Which rule refused a password, for `SSPR_STATUS_PASSWORD_REJECTED`: what
    /// `sspr_error_password_refusal` tells.
    pub enum SsprPasswordRefusal {
        /// Not a password refusal.
        None = 0,
        /// Shorter than the minimum length.
        TooShort = 1,
        /// The password was changed too recently (minimum age).
        TooRecent = 2,
        /// Used before (history).
        InHistory = 3,
        /// Fails the complexity or quality rules.
        TooSimple = 4,
        /// The current password given is not right.
        WrongCurrentPassword = 5,
        /// Refused without a named rule.
        Unspecified = 6,
        /// Too easy to guess (zxcvbn's estimate below the policy's minimum score).
        Guessable = 7,
        /// Found in a list of breached passwords.
        Breached = 8,
        /// Contains a word the organisation banned.
        Banned = 9,
        /// A rule this version of the header does not name.
        Other = 99,
    }
}

c_enum! {
    /// How a PIN or notice reaches the user.
    pub enum SsprChannel {
        /// The alternate e-mail address.
        Email = 0,
        /// A text message.
        Sms = 1,
    }
}

c_enum! {
    /// The language of a notice (`SsprNotification.locale`).
    pub enum SsprLocale {
        /// English (the default).
        En = 0,
        /// German.
        De = 1,
        /// French.
        Fr = 2,
        /// Spanish.
        Es = 3,
        /// Italian.
        It = 4,
        /// Dutch.
        Nl = 5,
    }
}

c_enum! {
    /// How a verified reset is completed.
    pub enum SsprCompletionMode {
        /// A generated temporary password, to be changed at next sign-in.
        Temporary = 0,
        /// The password the user chose.
        Chosen = 1,
        /// Only unlock the account.
        UnlockOnly = 2,
    }
}

c_enum! {
    /// A change to one contact detail (`SsprContactUpdate`).
    pub enum SsprChange {
        /// Leave it as it is.
        Keep = 0,
        /// Set it to the given value.
        Set = 1,
        /// Remove it.
        Clear = 2,
    }
}

c_enum! {
    /// What the directory said to a user's password (`sspr_complete_authentication`).
    pub enum SsprAuthentication {
        /// The password is right.
        Accepted = 0,
        /// The password is right but must be changed first (a temporary password).
        MustChange = 1,
        /// Wrong password, or the account may not sign in.
        Rejected = 2,
    }
}

c_enum! {
    /// Which notice a notification is.
    pub enum SsprMessageKind {
        /// A one-time reset PIN (`SsprNotification.pin` holds it).
        Pin = 0,
        /// A reset was requested; a PIN went to another contact.
        ResetRequested = 1,
        /// The password was reset or the account unlocked.
        PasswordReset = 2,
        /// The user's contact details were changed.
        ContactsChanged = 3,
        /// The code proving a contact the user is adding (`SsprNotification.pin` holds it;
        /// `sspr_confirm_contact_proof` takes it).
        ContactProof = 4,
        /// A reminder to register (or confirm) contacts, sent to the user's directory mailbox
        /// (`sspr_send_registration_reminders`).
        RegistrationReminder = 5,
        /// A helpdesk recovery code sent to the user's contact (`SsprNotification.pin` holds
        /// it; `sspr_redeem_recovery_code` takes it).
        RecoveryCode = 6,
        /// The password was changed with the current one (`sspr_change_password`).
        PasswordChanged = 7,
        /// A helpdesk recovery code was issued for the account (to its contacts).
        HelpdeskRecovery = 8,
        /// A security notice to the policy's `admin_alert_addresses` (a privileged account's
        /// reset refused, the failed-verification alarm).
        AdminAlert = 9,
        /// A notice this version of the header does not name (subject and body are still set).
        Other = 99,
    }
}

c_enum! {
    /// What an event hook can subscribe to (`SsprEventHookVtable.events` holds one bit per
    /// value: `1u << SSPR_HOOK_EVENT_RESET_COMPLETED`).
    pub enum SsprHookEvent {
        /// A reset was completed: the password set, or the account unlocked.
        ResetCompleted = 0,
        /// A user was blocked after too many failed verifications.
        UserBlocked = 1,
        /// A user's contact details were changed.
        ContactsChanged = 2,
        /// A privileged account's reset or recovery was refused (the caller got a decoy).
        PrivilegedAttemptRefused = 3,
        /// A PIN, a proof or recovery code, or a reminder could not be delivered.
        DeliveryFailed = 4,
        /// Failed verifications across all users reached the policy's alarm threshold.
        FailureAlarm = 5,
    }
}

c_enum! {
    /// Which enum a name is of (`sspr_enum_name`, `sspr_enum_parse`).
    pub enum SsprEnum {
        /// `SsprStatus`: the error codes (`"wrong_pin"`), as `sspr_core::Error::code` gives them.
        Status = 0,
        /// `SsprChannel` (`"email"`, `"sms"`).
        Channel = 1,
        /// `SsprLocale` (`"en"`, `"de"`, `"fr"`, `"es"`, `"it"`, `"nl"`; parsing takes a language tag such as `"de-CH"`).
        Locale = 2,
        /// `SsprCompletionMode` (`"temporary"`, `"chosen"`, `"unlock_only"`).
        CompletionMode = 3,
        /// `SsprNotAllowedReason` (`"privileged"`, ...).
        NotAllowedReason = 4,
        /// `SsprBackendErrorKind` (`"unavailable"`, ...).
        BackendErrorKind = 5,
        /// `SsprAuthentication` (`"accepted"`, `"must_change"`, `"rejected"`).
        Authentication = 6,
        /// `SsprPasswordRefusal` (`"too_short"`, `"in_history"`, ...).
        PasswordRefusal = 7,
        /// `SsprHookEvent` (`"reset_completed"`, `"user_blocked"`, ...).
        HookEvent = 8,
    }
}

/// The core's reading of a name of the enum `kind`: the stable name of the value it names, or
/// the core's error (`InvalidInput` naming the field the core names: `"mode"`, `"channel"`...).
fn core_name(kind: SsprEnum, text: &str) -> Result<&'static str, Error> {
    let kind = match kind {
        SsprEnum::Status => "error_code".to_owned(),
        other => other.snake_name(),
    };
    sspr_bind::names::core_name(&kind, text)
}

/// The C values of the enum `kind`, each with its variant's snake_case name.
fn c_values(kind: SsprEnum) -> Vec<(u32, String)> {
    fn of<E: CEnum>() -> Vec<(u32, String)> {
        E::VARIANTS.iter().map(|(v, _)| (v.raw(), v.snake_name())).collect()
    }
    match kind {
        SsprEnum::Status => of::<SsprStatus>(),
        SsprEnum::Channel => of::<SsprChannel>(),
        SsprEnum::Locale => of::<SsprLocale>(),
        SsprEnum::CompletionMode => of::<SsprCompletionMode>(),
        SsprEnum::NotAllowedReason => of::<SsprNotAllowedReason>(),
        SsprEnum::BackendErrorKind => of::<SsprBackendErrorKind>(),
        SsprEnum::Authentication => of::<SsprAuthentication>(),
        SsprEnum::PasswordRefusal => of::<SsprPasswordRefusal>(),
        SsprEnum::HookEvent => of::<SsprHookEvent>(),
    }
}

/// Every named value as a C string, made once: `sspr_enum_name` lends them for the life of
/// the process.
fn names() -> &'static HashMap<(u32, u32), CString> {
    static NAMES: OnceLock<HashMap<(u32, u32), CString>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = HashMap::new();
        for &(kind, _) in SsprEnum::VARIANTS {
            for (value, snake) in c_values(kind) {
                if let Ok(name) = core_name(kind, &snake) {
                    names.insert((kind.raw(), value), c_string(name.to_owned()));
                }
            }
        }
        names
    })
}

/// The stable name of `value` of the enum `kind` (an `SsprEnum` value): the name sspr-core,
/// the other bindings and the portal use (`"unlock_only"` for `SSPR_COMPLETION_MODE_UNLOCK_ONLY`,
/// `"wrong_pin"` for `SSPR_STATUS_WRONG_PIN`). Static: never freed. NULL for a value the enum
/// does not have, or one the core does not name (the C API's own: `SSPR_STATUS_OK`,
/// `SSPR_STATUS_NULL_ARGUMENT`, `SSPR_NOT_ALLOWED_REASON_NONE`, ...).
#[unsafe(no_mangle)]
pub extern "C" fn sspr_enum_name(kind: u32, value: u32) -> *const c_char {
    guard(std::ptr::null(), || names().get(&(kind, value)).map_or(std::ptr::null(), |n| n.as_ptr()))
}

status_fn! {
    /// Read a stable name of the enum `kind` (an `SsprEnum` value) by sspr-core's rules: names are
    /// exact (`"unlock_only"`, never `"Unlock-Only"`), a locale is a language tag (`"de-CH"` is
    /// German). On success `*value_out` is the value. A name the enum does not have is
    /// `SSPR_STATUS_INVALID_INPUT` with the field sspr-core names (`"mode"`, `"channel"`,
    /// `"reason"`, `"kind"`, `"authentication"`, `"refusal"`, `"locale"`, `"code"`); an unknown
    /// `kind` is `SSPR_STATUS_INVALID_INPUT` with field `"kind"`.
    ///
    /// # Safety
    /// `name` is NULL or NUL-terminated; `value_out` and `error_out` are NULL or writable.
    fn sspr_enum_parse(
        kind: u32,
        name: *const c_char,
        value_out: *mut u32,
    ) {
        let kind = SsprEnum::from_raw(kind).ok_or_else(|| SsprError::invalid("kind", "not an SsprEnum value"))?;
        let name = core_name(kind, str_arg(name, "name")?)?;
        let value = c_values(kind).into_iter().find(|(_, snake)| snake == name).map(|(value, _)| value);
        let value = value.ok_or_else(|| SsprError::internal(format!("no C value for `{name}`")))?;
        if value_out.is_null() {
            return Err(SsprError::null("value_out"));
        }
        value_out.write(value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sspr_core::{
        Authentication, BackendErrorKind, Channel, CompletionMode, Locale, NotAllowedReason, PasswordRefusal,
    };

    use super::*;

    /// Every value the core names has its C variant: a core value C could not express would
    /// otherwise cross as a fallback.
    #[test]
    fn every_core_name_has_a_c_value() {
        let core: [(SsprEnum, &[&str]); 8] = [
            (SsprEnum::Status, Error::CODES),
            (SsprEnum::Channel, Channel::NAMES),
            (SsprEnum::Locale, Locale::NAMES),
            (SsprEnum::CompletionMode, CompletionMode::NAMES),
            (SsprEnum::NotAllowedReason, NotAllowedReason::NAMES),
            (SsprEnum::BackendErrorKind, BackendErrorKind::NAMES),
            (SsprEnum::Authentication, Authentication::NAMES),
            (SsprEnum::PasswordRefusal, PasswordRefusal::NAMES),
        ];
        for (kind, core_names) in core {
            let c: Vec<String> = c_values(kind).into_iter().map(|(_, snake)| snake).collect();
            for name in core_names {
                assert!(c.iter().any(|s| s == name), "{kind:?}: no C value for {name}");
            }
        }
    }

    /// Every notice the core sends has its C kind (else a host would see `OTHER`).
    #[test]
    fn every_notice_kind_has_a_c_value() {
        for name in sspr_core::notice::Message::KINDS {
            let kind = <SsprMessageKind as crate::names::Named>::from_core_name(name);
            assert!(kind.is_some_and(|k| k != SsprMessageKind::Other), "no C value for the notice {name}");
        }
    }

    #[test]
    fn names_are_the_cores_and_the_c_apis_own_values_have_none() {
        let name = |kind: SsprEnum, value: u32| {
            let ptr = sspr_enum_name(kind.raw(), value);
            // SAFETY: NULL or one of the static names.
            (!ptr.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(ptr) }.to_str().unwrap().to_owned())
        };
        assert_eq!(name(SsprEnum::Status, SsprStatus::SignInFailed.raw()).as_deref(), Some("sign_in_failed"));
        assert_eq!(name(SsprEnum::CompletionMode, 2).as_deref(), Some("unlock_only"));
        assert_eq!(name(SsprEnum::Status, SsprStatus::NullArgument.raw()), None);
        assert_eq!(name(SsprEnum::Status, SsprStatus::WrongThread.raw()), None);
        assert_eq!(name(SsprEnum::NotAllowedReason, 0), None);
        assert_eq!(name(SsprEnum::Channel, 7), None);
        assert!(sspr_enum_name(99, 0).is_null());
    }
}
