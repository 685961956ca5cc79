//! Texts in Fluent: the notices' (`sspr-core/locales/*.ftl`) and the web pages'
//! (`sspr-core/locales/pages/*.ftl`), one resource per language each, compiled in and
//! formatted with `fluent-bundle` (plural rules per language, no I/O).
//!
//! English is the reference: every language has exactly its messages and terms, and each
//! message uses exactly English's variables (tested below). A message missing at run time in one language falls back to English.

use std::fmt::Write as _;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentError, FluentResource};
use time::OffsetDateTime;

use crate::api::Locale;

/// The notices' Fluent source of each language, in [`Locale::ALL`]'s order.
pub(crate) const SOURCES: &[(Locale, &str)] = &[
    (Locale::En, include_str!("../locales/en.ftl")),
    (Locale::De, include_str!("../locales/de.ftl")),
    (Locale::Fr, include_str!("../locales/fr.ftl")),
    (Locale::Es, include_str!("../locales/es.ftl")),
    (Locale::It, include_str!("../locales/it.ftl")),
    (Locale::Nl, include_str!("../locales/nl.ftl")),
];

/// The web pages' Fluent source of each language (read through [`crate::pages`]), in
/// [`Locale::ALL`]'s order.
pub(crate) const PAGE_SOURCES: &[(Locale, &str)] = &[
    (Locale::En, include_str!("../locales/pages/en.ftl")),
    (Locale::De, include_str!("../locales/pages/de.ftl")),
    (Locale::Fr, include_str!("../locales/pages/fr.ftl")),
    (Locale::Es, include_str!("../locales/pages/es.ftl")),
    (Locale::It, include_str!("../locales/pages/it.ftl")),
    (Locale::Nl, include_str!("../locales/pages/nl.ftl")),
];

type Bundle = FluentBundle<FluentResource>;

/// One bundle per language of one set of resources, built once.
pub(crate) struct Catalogue(Vec<(Locale, Bundle)>);

impl Catalogue {
    /// Parse `sources` and build their bundles. A resource with a syntax error keeps the
    /// entries that parsed (a test keeps every resource free of errors).
    fn build(sources: &[(Locale, &str)]) -> Self {
        let bundles = sources
            .iter()
            .map(|(locale, source)| {
                let id = locale.as_str().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // No Unicode isolation marks around arguments: they would cost SMS their
                // GSM-7 encoding, show in plain-text mail, and are not needed in pages
                // whose values are all written left to right.
                bundle.set_use_isolating(false);
                let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, _)| partial);
                // Duplicate entries are reported but the first one is kept.
                let _ = bundle.add_resource(resource);
                (*locale, bundle)
            })
            .collect();
        Self(bundles)
    }

    fn bundle(&self, locale: Locale) -> Option<&Bundle> {
        self.0.iter().find(|(l, _)| *l == locale).map(|(_, b)| b)
    }

    /// Whether `locale`'s own resource has message `id`.
    pub(crate) fn has(&self, locale: Locale, id: &str) -> bool {
        self.bundle(locale).is_some_and(|b| b.has_message(id))
    }

    /// Append message `id` in `locale` (English when that language lacks it) to `out`,
    /// collecting Fluent's errors (a missing argument, an unknown message) in `errors`.
    pub(crate) fn write_into(
        &self,
        locale: Locale,
        id: &str,
        args: &FluentArgs<'_>,
        out: &mut String,
        errors: &mut Vec<FluentError>,
    ) {
        let found = [locale, Locale::En].into_iter().find_map(|l| {
            let bundle = self.bundle(l)?;
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
}

/// The notices' bundles.
static NOTICES: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::build(SOURCES));

/// The web pages' bundles.
pub(crate) static PAGES: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::build(PAGE_SOURCES));

/// Append notice message `id` in `locale` (English when that language lacks it) to `out`,
/// collecting Fluent's errors (a missing argument, an unknown message) in `errors`.
pub(crate) fn write_into(
    locale: Locale,
    id: &str,
    args: &FluentArgs<'_>,
    out: &mut String,
    errors: &mut Vec<FluentError>,
) {
    NOTICES.write_into(locale, id, args, out, errors);
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

/// `HH:MM` and the offset `at` carries: `20:04 (UTC+1)`.
pub(crate) fn clock_time(at: OffsetDateTime) -> String {
    format!("{:02}:{:02} ({})", at.hour(), at.minute(), utc_offset(at.offset()))
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

    use std::collections::BTreeMap;

    /// What a message needs: the variables it reads, and per selector variable the keys of
    /// its variants that are not plural categories (`[too-short]`, `[hours]`, `[12]`).
    #[derive(Debug, Default, PartialEq)]
    struct Needs {
        variables: BTreeSet<String>,
        keys: BTreeMap<String, BTreeSet<String>>,
    }

    const PLURAL_CATEGORIES: &[&str] = &["zero", "one", "two", "few", "many", "other"];

    fn walk_pattern(pattern: &ast::Pattern<&str>, needs: &mut Needs) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                walk_expression(expression, needs);
            }
        }
    }

    fn walk_expression(expression: &ast::Expression<&str>, needs: &mut Needs) {
        match expression {
            ast::Expression::Inline(inline) => walk_inline(inline, needs),
            ast::Expression::Select { selector, variants } => {
                walk_inline(selector, needs);
                for variant in variants {
                    if let (ast::InlineExpression::VariableReference { id }, ast::VariantKey::Identifier { name }) =
                        (selector, &variant.key)
                        && !PLURAL_CATEGORIES.contains(name)
                    {
                        needs.keys.entry(id.name.to_owned()).or_default().insert((*name).to_owned());
                    }
                    if let (ast::InlineExpression::VariableReference { id }, ast::VariantKey::NumberLiteral { value }) =
                        (selector, &variant.key)
                    {
                        needs.keys.entry(id.name.to_owned()).or_default().insert((*value).to_owned());
                    }
                    walk_pattern(&variant.value, needs);
                }
            }
        }
    }

    fn walk_inline(inline: &ast::InlineExpression<&str>, needs: &mut Needs) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                needs.variables.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => walk_expression(expression, needs),
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                arguments.positional.iter().for_each(|a| walk_inline(a, needs));
                arguments.named.iter().for_each(|a| walk_inline(&a.value, needs));
            }
            _ => {}
        }
    }

    /// The messages and terms of a resource (terms with their `-`) and what each needs.
    fn entries(source: &str) -> BTreeMap<String, Needs> {
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(_, e)| panic!("{e:?}"));
        resource
            .entries()
            .filter_map(|entry| {
                let (id, value) = match entry {
                    ast::Entry::Message(m) => (m.id.name.to_owned(), m.value.as_ref()),
                    ast::Entry::Term(t) => (format!("-{}", t.id.name), Some(&t.value)),
                    _ => return None,
                };
                let mut needs = Needs::default();
                if let Some(pattern) = value {
                    walk_pattern(pattern, &mut needs);
                }
                Some((id, needs))
            })
            .collect()
    }

    /// The message and term ids of a resource (terms with their `-`).
    fn ids(source: &str) -> BTreeSet<String> {
        entries(source).into_keys().collect()
    }

    /// Every way `sources` differ from English: a key missing or extra, a message reading
    /// other variables than English's, or lacking a selector key English has.
    fn problems(sources: &[(Locale, &str)]) -> Vec<String> {
        let english = entries(sources[0].1);
        let mut problems = Vec::new();
        for (locale, source) in sources {
            let own = entries(source);
            for id in english.keys().filter(|id| !own.contains_key(*id)) {
                problems.push(format!("{locale}: missing {id}"));
            }
            for id in own.keys().filter(|id| !english.contains_key(*id)) {
                problems.push(format!("{locale}: has {id}, which English lacks"));
            }
            for (id, want) in &english {
                let Some(got) = own.get(id) else { continue };
                if got.variables != want.variables {
                    problems.push(format!("{locale}: {id} reads {:?}, English {:?}", got.variables, want.variables));
                }
                for (variable, keys) in &want.keys {
                    let theirs = got.keys.get(variable).cloned().unwrap_or_default();
                    let lacking: Vec<_> = keys.difference(&theirs).collect();
                    if !lacking.is_empty() {
                        problems.push(format!("{locale}: {id} has no variant {lacking:?} for ${variable}"));
                    }
                }
            }
        }
        problems
    }

    #[test]
    fn every_language_has_exactly_the_english_keys_and_variables() {
        for sources in [SOURCES, PAGE_SOURCES] {
            assert_eq!(sources.iter().map(|(l, _)| *l).collect::<Vec<_>>(), Locale::ALL, "one resource per locale");
            assert!(ids(sources[0].1).len() > 30);
            let problems = problems(sources);
            assert!(problems.is_empty(), "{problems:#?}");
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
    fn the_completeness_check_sees_each_kind_of_mismatch_in_the_pages() {
        let check = |locale: Locale, from: &str, to: &str| {
            let index = Locale::ALL.iter().position(|l| *l == locale).unwrap();
            let source = PAGE_SOURCES[index].1;
            assert!(source.contains(from), "{locale}: {from}");
            let changed = source.replacen(from, to, 1);
            let mut sources = PAGE_SOURCES.to_vec();
            sources[index].1 = &changed;
            let found = problems(&sources);
            assert_eq!(found.len(), 1, "{found:#?}");
            found[0].clone()
        };
        // A key renamed: missing once, extra once (two problems), so count them apart.
        let index = 3;
        let renamed = PAGE_SOURCES[index].1.replacen("\nback =", "\nbacks =", 1);
        let mut sources = PAGE_SOURCES.to_vec();
        sources[index].1 = &renamed;
        let found = problems(&sources);
        assert!(found.contains(&"es: missing back".to_owned()), "{found:#?}");
        assert!(found.contains(&"es: has backs, which English lacks".to_owned()), "{found:#?}");
        // A variable misspelt, and one dropped.
        assert!(
            check(
                Locale::Fr,
                "pin-sent = Un code a été envoyé à { $masked }",
                "pin-sent = Un code a été envoyé à { $mask }"
            )
            .starts_with("fr: pin-sent reads")
        );
        assert!(check(Locale::Nl, "{ $name }", "iemand").starts_with("nl: signed-in-as reads"));
        // A selector's variant missing (it would fall back to the default, silently).
        let lacking = check(Locale::It, "[breached]", "[breach]");
        assert!(lacking.starts_with("it: refusal has no variant"), "{lacking}");
    }

    #[test]
    fn every_resource_parses_and_loads_without_error() {
        for (locale, source) in SOURCES.iter().chain(PAGE_SOURCES) {
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
