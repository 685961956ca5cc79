//! The notices' texts in Fluent: one resource per language (`sspr-core/locales/*.ftl`,
//! compiled in), formatted with `fluent-bundle` (plural rules per language, no I/O).
//!
//! English is the reference: every language has exactly its messages and terms (tested
//! below). A message missing at run time in one language falls back to English.

use std::fmt::Write as _;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentError, FluentResource};
use time::OffsetDateTime;

use crate::api::Locale;

/// The Fluent source of each language, in [`Locale::ALL`]'s order.
pub(crate) const SOURCES: &[(Locale, &str)] = &[
    (Locale::En, include_str!("../locales/en.ftl")),
    (Locale::De, include_str!("../locales/de.ftl")),
    (Locale::Fr, include_str!("../locales/fr.ftl")),
    (Locale::Es, include_str!("../locales/es.ftl")),
    (Locale::It, include_str!("../locales/it.ftl")),
    (Locale::Nl, include_str!("../locales/nl.ftl")),
];

type Bundle = FluentBundle<FluentResource>;

/// One bundle per language, built once. A resource with a syntax error keeps the entries
/// that parsed (a test keeps every resource free of errors).
static BUNDLES: LazyLock<Vec<(Locale, Bundle)>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(locale, source)| {
            let id = locale.as_str().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // No Unicode isolation marks around arguments: they would cost SMS their
            // GSM-7 encoding and show in plain-text mail.
            bundle.set_use_isolating(false);
            let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, _)| partial);
            // Duplicate entries are reported but the first one is kept.
            let _ = bundle.add_resource(resource);
            (*locale, bundle)
        })
        .collect()
});

fn bundle(locale: Locale) -> Option<&'static Bundle> {
    BUNDLES.iter().find(|(l, _)| *l == locale).map(|(_, b)| b)
}

/// Append message `id` in `locale` (English when that language lacks it) to `out`,
/// collecting Fluent's errors (a missing argument, an unknown message) in `errors`.
pub(crate) fn write_into(
    locale: Locale,
    id: &str,
    args: &FluentArgs<'_>,
    out: &mut String,
    errors: &mut Vec<FluentError>,
) {
    let found = [locale, Locale::En].into_iter().find_map(|l| {
        let bundle = bundle(l)?;
        let pattern = bundle.get_message(id)?.value()?;
        Some((bundle, pattern))
    });
    match found {
        // Writing to a `String` does not fail.
        Some((bundle, pattern)) => {
            let _ = bundle.write_pattern(out, pattern, Some(args), errors);
        }
        // Only if English lacked it too, which the tests rule out: the id shows what is missing.
        None => {
            let _ = write!(out, "[{id}]");
        }
    }
}

/// Message `id` in `locale`, as a new string.
pub(crate) fn text(locale: Locale, id: &str, args: &FluentArgs<'_>) -> String {
    let mut out = String::new();
    write_into(locale, id, args, &mut out, &mut Vec::new());
    out
}

/// A date and time as `locale` writes it (`datetime`), in the offset `at` carries (the
/// engine gives notices the configured time zone's offset at that instant).
pub(crate) fn datetime(locale: Locale, at: OffsetDateTime) -> String {
    let mut args = FluentArgs::new();
    args.set("day", at.day());
    args.set("month", u8::from(at.month()));
    args.set("year", at.year().to_string());
    args.set("time", format!("{:02}:{:02}", at.hour(), at.minute()));
    args.set("offset", utc_offset(at.offset()));
    text(locale, "datetime", &args)
}

/// `UTC`, `UTC+1`, `UTC-3`, `UTC+5:30`.
fn utc_offset(offset: time::UtcOffset) -> String {
    let (h, m, _) = offset.as_hms();
    match (h, m) {
        (0, 0) => "UTC".to_owned(),
        (h, 0) => format!("UTC{}{}", if offset.is_negative() { '-' } else { '+' }, h.unsigned_abs()),
        (h, m) => {
            format!("UTC{}{}:{:02}", if offset.is_negative() { '-' } else { '+' }, h.unsigned_abs(), m.unsigned_abs())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use std::collections::BTreeSet;

    use fluent_bundle::FluentResource;
    use fluent_syntax::ast;

    use super::*;

    /// The message and term ids of a resource (terms with their `-`).
    fn ids(source: &str) -> BTreeSet<String> {
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(_, e)| panic!("{e:?}"));
        resource
            .entries()
            .filter_map(|entry| match entry {
                ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                ast::Entry::Term(t) => Some(format!("-{}", t.id.name)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_language_has_exactly_the_english_keys() {
        assert_eq!(SOURCES.iter().map(|(l, _)| *l).collect::<Vec<_>>(), Locale::ALL, "one resource per locale");
        let english = ids(SOURCES[0].1);
        assert!(english.len() > 30, "{english:?}");
        for (locale, source) in SOURCES {
            let own = ids(source);
            let missing: Vec<_> = english.difference(&own).collect();
            let extra: Vec<_> = own.difference(&english).collect();
            assert!(missing.is_empty(), "{locale}: missing {missing:?}");
            assert!(extra.is_empty(), "{locale}: has keys English lacks: {extra:?}");
        }
    }

    #[test]
    fn the_completeness_check_sees_a_missing_and_an_extra_key() {
        let english = ids(SOURCES[0].1);
        let without_one = SOURCES[1].1.replace("pin-reset-sms =", "pin-reset-sms-typo =");
        let own = ids(&without_one);
        assert!(english.contains("pin-reset-sms") && !own.contains("pin-reset-sms"));
        assert!(own.contains("pin-reset-sms-typo") && !english.contains("pin-reset-sms-typo"));
    }

    #[test]
    fn every_resource_parses_and_loads_without_error() {
        for (locale, source) in SOURCES {
            let resource = FluentResource::try_new((*source).to_owned());
            assert!(resource.is_ok(), "{locale}: {:?}", resource.err().map(|(_, e)| e));
            let mut bundle = FluentBundle::new_concurrent(vec![locale.as_str().parse().unwrap()]);
            assert!(bundle.add_resource(resource.unwrap()).is_ok(), "{locale}: duplicate entries");
        }
    }

    #[test]
    fn dates_are_written_per_language_in_the_offset_given() {
        let at = time::macros::datetime!(2026-12-01 20:04 +01:00);
        let want = [
            (Locale::En, "1 December 2026 at 20:04 (UTC+1)"),
            (Locale::De, "1. Dezember 2026 um 20:04 (UTC+1)"),
            (Locale::Fr, "1er décembre 2026 à 20:04 (UTC+1)"),
            (Locale::Es, "1 de diciembre de 2026, a las 20:04 (UTC+1)"),
            (Locale::It, "1 dicembre 2026 alle ore 20:04 (UTC+1)"),
            (Locale::Nl, "1 december 2026 om 20:04 (UTC+1)"),
        ];
        for (locale, text) in want {
            assert_eq!(datetime(locale, at), text);
        }
        assert_eq!(datetime(Locale::Fr, time::macros::datetime!(2026-03-05 07:30 UTC)), "5 mars 2026 à 07:30 (UTC)");
        assert_eq!(utc_offset(time::macros::offset!(-3:30)), "UTC-3:30");
        assert_eq!(utc_offset(time::macros::offset!(+5:45)), "UTC+5:45");
    }

    #[test]
    fn plural_rules_are_each_languages_own() {
        // French counts 0 and 1 as singular; English and the others only 1.
        let minutes = |locale, n: u64| {
            let mut args = FluentArgs::new();
            args.set("pin", "12345678");
            args.set("minutes", n);
            text(locale, "pin-reset-body", &args)
        };
        assert!(minutes(Locale::En, 1).contains("valid for 1 minute."), "{}", minutes(Locale::En, 1));
        assert!(minutes(Locale::En, 0).contains("valid for 0 minutes."));
        assert!(minutes(Locale::Fr, 0).contains("valable 0 minute."), "{}", minutes(Locale::Fr, 0));
        assert!(minutes(Locale::Fr, 2).contains("valable 2 minutes."));
        assert!(minutes(Locale::De, 1).contains("1 Minute gültig"));
        assert!(minutes(Locale::De, 15).contains("15 Minuten gültig"));
        assert!(minutes(Locale::Es, 1).contains("durante 1 minuto."));
        assert!(minutes(Locale::It, 1).contains("per 1 minuto."));
        assert!(minutes(Locale::It, 10).contains("per 10 minuti."));
        assert!(minutes(Locale::Nl, 1).contains("1 minuut geldig"));
        assert!(minutes(Locale::Nl, 5).contains("5 minuten geldig"));
    }
}
