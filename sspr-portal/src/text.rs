//! Every string the pages show, in the visitor's language: the Fluent catalogue of
//! `sspr_core::pages` (`sspr-core/locales/pages/*.ftl`, six languages). The language comes
//! from the request's `Accept-Language` (`Locale::from_accept_language`, fluent-langneg).
//!
//! The fixed texts are formatted once per language into a [`Text`] (built on first use,
//! kept for the process); the texts with values are formatted per call from bundles that
//! were parsed once. A field's Fluent id is its name with `-` for `_`.

use std::sync::LazyLock;
use std::time::Duration;

use sspr_core::Locale;
use sspr_core::pages::{self, Arg};
use time::OffsetDateTime;

/// Declares [`Text`]'s fixed strings and fills them from the catalogue.
macro_rules! fixed_texts {
    ($($field:ident,)*) => {
        /// The fixed strings of one language, and the formatting of the others.
        #[derive(Debug)]
        pub(crate) struct Text {
            /// The language these strings are in.
            pub(crate) locale: Locale,
            /// Its BCP 47 tag, for `<html lang>`.
            pub(crate) lang: &'static str,
            $(pub(crate) $field: &'static str,)*
        }

        impl Text {
            fn load(locale: Locale) -> Self {
                Self { locale, lang: locale.as_str(), $($field: fixed(locale, stringify!($field)),)* }
            }
        }

        /// The field names, for the test that the catalogue has each.
        #[cfg(test)]
        const FIELDS: &[&str] = &[$(stringify!($field),)*];
    };
}

fixed_texts! {
    brand,
    index_intro,
    index_reset,
    index_register,
    index_admin,
    index_outbox,
    reset_title,
    reset_intro,
    login_label,
    continue_btn,
    methods_intro,
    via_email,
    via_sms,
    confirm_label,
    send_btn,
    start_over,
    pin_label,
    verify_btn,
    new_code,
    modes_intro,
    mode_temporary,
    mode_unlock,
    mode_chosen,
    new_password_label,
    new_password_again_label,
    passwords_differ,
    temp_title,
    temp_note,
    unlocked_done,
    chosen_done,
    second_method,
    err_login,
    err_method,
    err_confirm,
    err_expired,
    err_used,
    err_voided,
    err_state,
    err_unavailable,
    err_challenge_required,
    err_challenge_failed,
    err_challenge_unavailable,
    err_not_allowed,
    err_session,
    err_input,
    signin_title,
    password_label,
    signin_btn,
    oidc_signin_btn,
    oidc_continue,
    signout_btn,
    signin_failed,
    register_title,
    register_intro,
    email_label,
    phone_label,
    save_btn,
    saved,
    code_label,
    confirm_btn,
    proof_dead,
    not_enabled,
    must_change_note,
    must_change_link,
    index_change,
    change_title,
    change_intro,
    current_password_label,
    change_btn,
    changed,
    change_unsupported,
    rules_title,
    rule_complexity,
    admin_must_change,
    admin_title,
    admin_signin_title,
    search_label,
    search_btn,
    no_results,
    col_login,
    col_name,
    col_status,
    col_contacts,
    enabled,
    disabled,
    eligible,
    ineligible,
    privileged,
    account_disabled,
    account_locked,
    enable_btn,
    disable_btn,
    unblock_btn,
    blocked_until,
    last_reset,
    never,
    unknown_user,
    audit_title,
    done,
    outbox_title,
    outbox_note,
    outbox_empty,
    outbox_preview_title,
    outbox_preview_note,
    back,
    reconfirm_note,
    reconfirm_btn,
    report_title,
    report_ous,
    report_groups,
    report_stale_days,
    report_btn,
    remind_btn,
    remind_note,
    reports_title,
    reports_unavailable,
    reports_resets,
    reports_completed,
    reports_failed,
    reports_registrations,
    reports_blocks,
    reports_decoys,
    reports_failures,
    reports_none,
    count_users,
    count_enabled,
    count_registered,
    count_without_contacts,
    count_stale,
    count_never_used,
    count_blocked,
    count_privileged,
    count_without_mailbox,
    flag_no_contacts,
    flag_stale,
    flag_never_used,
    flag_blocked,
    figure_begun,
    figure_decoys,
    figure_completed,
    figure_failed,
    figure_blocked,
    figure_registrations,
    recovery_link,
    recovery_title,
    recovery_intro,
    recovery_code_label,
    recovery_redeem_btn,
    recovery_wrong,
    recovery_admin_title,
    recovery_admin_intro,
    recovery_show,
    recovery_by_email,
    recovery_by_sms,
    recovery_issue_btn,
    recovery_code_title,
    recovery_code_note,
    audit_col_time,
    audit_col_event,
    audit_col_user,
    audit_col_detail,
    audit_col_ip,
    audit_col_actor,
    audit_col_outcome,
}

/// The Fluent id of a field.
fn id(field: &str) -> String {
    field.replace('_', "-")
}

/// A fixed text, formatted once and kept for the life of the process (as the static
/// [`TEXTS`] holding it is), so pages borrow it as `&'static str`.
fn fixed(locale: Locale, field: &str) -> &'static str {
    Box::leak(pages::text(locale, &id(field), &[]).into_boxed_str())
}

/// Each language's strings, formatted once.
static TEXTS: LazyLock<[Text; 6]> =
    LazyLock::new(|| [Locale::En, Locale::De, Locale::Fr, Locale::Es, Locale::It, Locale::Nl].map(Text::load));

/// The strings of `locale`.
pub(crate) fn text(locale: Locale) -> &'static Text {
    let [en, de, fr, es, it, nl] = &*TEXTS;
    match locale {
        Locale::De => de,
        Locale::Fr => fr,
        Locale::Es => es,
        Locale::It => it,
        Locale::Nl => nl,
        _ => en,
    }
}

impl Text {
    fn format(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        pages::text(self.locale, id, args)
    }

    /// The administration page's counters' headings.
    pub(crate) fn count_labels(&self) -> [&'static str; 9] {
        [
            self.count_users,
            self.count_enabled,
            self.count_registered,
            self.count_without_contacts,
            self.count_stale,
            self.count_never_used,
            self.count_blocked,
            self.count_privileged,
            self.count_without_mailbox,
        ]
    }

    /// A user's flags in the registration report.
    pub(crate) fn flag_labels(&self) -> [&'static str; 4] {
        [self.flag_no_contacts, self.flag_stale, self.flag_never_used, self.flag_blocked]
    }

    /// The reports page's figures.
    pub(crate) fn reports_figures(&self) -> [&'static str; 6] {
        [
            self.figure_begun,
            self.figure_decoys,
            self.figure_completed,
            self.figure_failed,
            self.figure_blocked,
            self.figure_registrations,
        ]
    }

    /// A date and time in this language, in the offset `at` carries (give it the policy's
    /// time zone with `Sspr::local_time`).
    pub(crate) fn date_time(&self, at: OffsetDateTime) -> String {
        pages::datetime(self.locale, at)
    }

    /// "A code was sent to …" (said alike for real and unknown accounts).
    pub(crate) fn pin_sent(&self, masked: &str) -> String {
        self.format("pin-sent", &[("masked", masked.into())])
    }

    /// The PIN's expiry (in the offset `until` carries) and the attempts left.
    pub(crate) fn pin_status(&self, until: OffsetDateTime, attempts: u32) -> String {
        let time = pages::clock_time(until);
        self.format("pin-status", &[("time", time.as_str().into()), ("attempts", attempts.into())])
    }

    /// The PIN field's hint.
    pub(crate) fn pin_hint(&self, digits: u32) -> String {
        self.format("pin-hint", &[("digits", digits.into())])
    }

    /// A wrong PIN.
    pub(crate) fn wrong_pin(&self, attempts_left: u32) -> String {
        self.format("wrong-pin", &[("attempts", attempts_left.into())])
    }

    /// A PIN of the wrong shape.
    pub(crate) fn pin_digits(&self, digits: u32) -> String {
        self.format("pin-digits", &[("digits", digits.into())])
    }

    /// An admin search longer than the engine takes.
    pub(crate) fn search_too_long(&self, max: usize) -> String {
        self.format("search-too-long", &[("max", max.into())])
    }

    /// Too many requests.
    pub(crate) fn rate_limited(&self, retry_after: Duration) -> String {
        let minutes = retry_after.as_secs().div_ceil(60).max(1);
        self.format("rate-limited", &[("minutes", minutes.into())])
    }

    /// Self-service blocked (`until` in the offset it carries).
    pub(crate) fn blocked(&self, until: OffsetDateTime) -> String {
        let at = self.date_time(until);
        self.format("blocked", &[("at", at.as_str().into())])
    }

    /// What a reminder run did.
    pub(crate) fn reminders_done(&self, run: &sspr_core::ReminderRun) -> String {
        self.format(
            "reminders-done",
            &[
                ("sent", run.reminded.len().into()),
                ("already", run.already_reminded.into()),
                ("without_mail", run.without_mail.into()),
                ("privileged", run.skipped_privileged.into()),
                ("ineligible", run.skipped_ineligible.into()),
                ("failed", run.failed.into()),
            ],
        )
    }

    /// A code went to a new contact, which is saved once the code is typed back.
    pub(crate) fn proof_sent(&self, masked: &str) -> String {
        self.format("proof-sent", &[("masked", masked.into())])
    }

    /// A contact usable only later (the cooling-off period; `at` in the offset it carries).
    pub(crate) fn usable_from(&self, at: OffsetDateTime) -> String {
        let at = self.date_time(at);
        self.format("usable-from", &[("at", at.as_str().into())])
    }

    /// A helpdesk recovery code went to `masked`.
    pub(crate) fn recovery_sent(&self, masked: &str, until: OffsetDateTime) -> String {
        let at = self.date_time(until);
        self.format("recovery-sent", &[("masked", masked.into()), ("at", at.as_str().into())])
    }

    /// "Valid until" a date.
    pub(crate) fn recovery_valid_until(&self, until: OffsetDateTime) -> String {
        let at = self.date_time(until);
        self.format("recovery-valid-until", &[("at", at.as_str().into())])
    }

    /// A password the policy, a password checker or the directory refused: the rule it broke
    /// in this language, as the change page says it ([`Text::refusal`], the engine's reason in
    /// brackets), then zxcvbn's suggestions (its words are English in every language).
    pub(crate) fn password_rejected(
        &self,
        refusal: sspr_core::PasswordRefusal,
        reason: &str,
        suggestions: &[String],
    ) -> String {
        let mut text = self.refusal(refusal, reason);
        for suggestion in suggestions {
            text.push(' ');
            text.push_str(suggestion);
        }
        text
    }

    /// "at least N characters long".
    pub(crate) fn rule_min_length(&self, n: u32) -> String {
        self.format("rule-min-length", &[("n", n.into())])
    }

    /// "differ from your last N passwords".
    pub(crate) fn rule_history(&self, n: u32) -> String {
        self.format("rule-history", &[("n", n.into())])
    }

    /// The minimum age, in whole hours (or minutes below an hour).
    pub(crate) fn rule_min_age(&self, secs: u64) -> String {
        let (n, unit) = if secs >= 3600 { (secs / 3600, "hours") } else { (secs / 60, "minutes") };
        self.format("rule-min-age", &[("n", n.into()), ("unit", unit.into())])
    }

    /// Why a new password was refused, by the rule it broke; the directory's or the
    /// policy's own words follow.
    pub(crate) fn refusal(&self, refusal: sspr_core::PasswordRefusal, reason: &str) -> String {
        use sspr_core::PasswordRefusal as R;
        let rule = match refusal {
            R::TooShort => "too-short",
            R::TooRecent => "too-recent",
            R::InHistory => "in-history",
            R::TooSimple | R::Guessable | R::Banned => "too-simple",
            R::Breached => "breached",
            _ => "other",
        };
        self.format("refusal", &[("rule", rule.into()), ("reason", reason.into())])
    }

    /// Signed in as …
    pub(crate) fn signed_in_as(&self, name: &str) -> String {
        self.format("signed-in-as", &[("name", name.into())])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    /// The ids the methods above format.
    const FORMATTED: &[&str] = &[
        "pin-sent",
        "pin-status",
        "pin-hint",
        "wrong-pin",
        "pin-digits",
        "rate-limited",
        "blocked",
        "reminders-done",
        "proof-sent",
        "usable-from",
        "recovery-sent",
        "recovery-valid-until",
        "rule-min-length",
        "rule-history",
        "rule-min-age",
        "refusal",
        "signed-in-as",
    ];

    #[test]
    fn every_text_the_portal_uses_is_in_the_catalogue() {
        // sspr-core's own test holds every language to English's keys and variables.
        for field in FIELDS {
            assert!(pages::has(&id(field)), "{field}: no message {} in sspr-core/locales/pages/en.ftl", id(field));
        }
        for id in FORMATTED {
            assert!(pages::has(id), "{id}");
        }
        for locale in Locale::ALL {
            let t = text(*locale);
            assert_eq!(t.locale, *locale);
            assert_eq!(t.lang, locale.as_str());
            assert!(!t.brand.is_empty() && !t.brand.starts_with('['), "{locale}: {}", t.brand);
        }
    }

    #[test]
    fn every_language_but_english_translates_the_page_texts() {
        let en = text(Locale::En);
        for locale in &Locale::ALL[1..] {
            let t = text(*locale);
            // The same words are right in a few places ("Code", "Name", "Status", "OUs").
            let same: Vec<_> = FIELDS
                .iter()
                .filter(|f| pages::text(*locale, &id(f), &[]) == pages::text(Locale::En, &id(f), &[]))
                .collect();
            assert!(same.len() <= 12, "{locale}: untranslated {same:?}");
            assert_ne!(t.reset_title, en.reset_title, "{locale}");
            assert_ne!(t.temp_note, en.temp_note, "{locale}");
            assert_ne!(t.wrong_pin(2), en.wrong_pin(2), "{locale}");
        }
    }

    #[test]
    fn counts_take_each_languages_plural_form() {
        let de = text(Locale::De);
        assert_eq!(text(Locale::En).wrong_pin(1), "The code is wrong. 1 attempt left.");
        assert_eq!(text(Locale::En).wrong_pin(0), "The code is wrong. 0 attempts left.");
        assert_eq!(de.wrong_pin(1), "Der Code ist falsch. Noch 1 Versuch.");
        assert_eq!(de.wrong_pin(4), "Der Code ist falsch. Noch 4 Versuche.");
        // French counts 0 as singular.
        assert!(text(Locale::Fr).wrong_pin(0).contains("0 tentative restante"), "{}", text(Locale::Fr).wrong_pin(0));
        assert!(text(Locale::Fr).wrong_pin(3).contains("3 tentatives restantes"));
        assert!(text(Locale::Es).rate_limited(Duration::from_secs(60)).contains("1 minuto"));
        assert!(text(Locale::It).rate_limited(Duration::from_secs(61)).contains("2 minuti"));
        assert!(text(Locale::Nl).rule_min_age(3600).contains("1 uur"), "{}", text(Locale::Nl).rule_min_age(3600));
        assert!(text(Locale::Nl).rule_min_age(7200).contains("2 uur"));
        assert!(text(Locale::En).rule_min_age(1800).contains("30 minutes"));
    }

    #[test]
    fn dates_and_times_are_written_per_language_in_the_offset_given() {
        let at = time::macros::datetime!(2026-12-01 20:04 +01:00);
        assert_eq!(
            text(Locale::En).blocked(at),
            "Too many wrong codes: self-service reset is blocked until 1 December 2026 at 20:04 (UTC+1)."
        );
        assert!(text(Locale::Fr).blocked(at).contains("1er décembre 2026 à 20:04 (UTC+1)"));
        assert!(text(Locale::De).pin_status(at, 5).starts_with("Gültig bis 20:04 (UTC+1)."));
        assert!(text(Locale::Nl).usable_from(at).contains("1 december 2026 om 20:04"));
    }

    #[test]
    fn the_refused_password_keeps_the_reason_and_the_advice() {
        let t = text(Locale::Es);
        let text =
            t.password_rejected(sspr_core::PasswordRefusal::TooShort, "too short", &["Add another word.".to_owned()]);
        assert!(text.contains("(too short)") && text.ends_with(" Add another word."), "{text}");
        assert!(text.starts_with("La nueva contraseña"), "the rule in the page's language: {text}");
        let refusal = t.refusal(sspr_core::PasswordRefusal::Breached, "seen in a breach");
        assert!(refusal.ends_with("(seen in a breach)") && !refusal.starts_with("The"), "{refusal}");
    }
}
