//! The stable names of the enums that cross, for hosts that log, store or exchange them as
//! text (the names the portal and the other bindings use): each `name_of_*` gives the core's
//! name of a value (`sspr_core::wire`'s `as_str`), each `parse_*` reads one by the core's rule
//! (`FromStr`: exact names, a locale is a language tag), and `new_password_from_mode` makes a
//! completion from a mode by the core's rule. Nothing here names a value itself.

use sspr_core::NotAllowedReason as CoreNotAllowedReason;
use sspr_core::{Authentication as CoreAuthentication, BackendErrorKind as CoreBackendErrorKind};
use sspr_core::{Channel as CoreChannel, CompletionMode as CoreCompletionMode, Locale as CoreLocale};

use super::errors::{BackendErrorKind, NotAllowedReason, SsprError};
use super::values::{Authentication, Channel, CompletionMode, Locale, NewPassword};
use crate::names::Named;

/// `name_of_x` and `parse_x` for each enum and the core's type it stands for.
macro_rules! names {
    ($($ty:ident for $core:ident: $name_of:ident, $parse:ident;)+) => {$(
        /// The stable name of a value (the core's); `None` for a value the core does not name
        /// (a catch-all `Other` of this binding's own).
        #[uniffi::export]
        pub fn $name_of(value: $ty) -> Option<String> {
            value.to_core::<$core>().map(|v| v.as_str().to_owned())
        }

        /// The value a stable name names, by the core's rule; anything else is
        /// `SsprError::InvalidInput` naming the field the core names (`mode`, `channel`...).
        #[uniffi::export]
        pub fn $parse(name: String) -> Result<$ty, SsprError> {
            Ok(name.parse::<$core>()?.into())
        }
    )+};
}

names! {
    Channel for CoreChannel: name_of_channel, parse_channel;
    Locale for CoreLocale: name_of_locale, parse_locale;
    CompletionMode for CoreCompletionMode: name_of_completion_mode, parse_completion_mode;
    NotAllowedReason for CoreNotAllowedReason: name_of_not_allowed_reason, parse_not_allowed_reason;
    BackendErrorKind for CoreBackendErrorKind: name_of_backend_error_kind, parse_backend_error_kind;
    Authentication for CoreAuthentication: name_of_authentication, parse_authentication;
}

/// The completion for `mode` by the core's rule (`NewPassword::from_mode`), for a host that
/// takes the mode as a name (`parse_completion_mode`) and the password from a form: the
/// password is required with `Chosen` and refused with the other modes (a password typed for
/// nothing is an error, never dropped): `SsprError::InvalidInput`, field `password`.
#[uniffi::export]
pub fn new_password_from_mode(mode: CompletionMode, password: Option<String>) -> Result<NewPassword, SsprError> {
    let mode = mode.to_core::<CoreCompletionMode>().unwrap_or(CoreCompletionMode::Temporary);
    Ok(match sspr_core::NewPassword::from_mode(mode, password.map(sspr_core::Password::new))? {
        sspr_core::NewPassword::Temporary => NewPassword::Temporary,
        sspr_core::NewPassword::Chosen(password) => {
            NewPassword::Chosen { password: password.expose_secret().to_owned() }
        }
        sspr_core::NewPassword::UnlockOnly => NewPassword::UnlockOnly,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value the core names has its variant here (else it would cross as the fallback).
    #[test]
    fn every_core_name_reads_and_names_back() {
        // Each enum: every core name parses and names back to itself.
        macro_rules! round_trip {
            ($($core:ident: $parse:ident, $name_of:ident;)+) => {$(
                for name in $core::NAMES {
                    let value = $parse((*name).into()).unwrap();
                    assert_eq!($name_of(value).as_deref(), Some(*name));
                }
            )+};
        }
        round_trip! {
            CoreChannel: parse_channel, name_of_channel;
            CoreLocale: parse_locale, name_of_locale;
            CoreCompletionMode: parse_completion_mode, name_of_completion_mode;
            CoreNotAllowedReason: parse_not_allowed_reason, name_of_not_allowed_reason;
            CoreBackendErrorKind: parse_backend_error_kind, name_of_backend_error_kind;
            CoreAuthentication: parse_authentication, name_of_authentication;
        }
        assert_eq!(name_of_not_allowed_reason(NotAllowedReason::Other), None);
        assert!(
            matches!(parse_channel("Email".into()), Err(SsprError::InvalidInput { field, .. }) if field == "channel")
        );
    }
}
