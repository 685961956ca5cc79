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
