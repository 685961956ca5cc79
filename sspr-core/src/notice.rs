//! The notices sspr sends, and their standard wording in English, German, French, Spanish,
//! Italian and Dutch (Fluent resources in `sspr-core/locales/`, compiled in).

use time::OffsetDateTime;
use zeroize::Zeroizing;

use std::net::IpAddr;

use crate::api::{Channel, Destination, Locale};
use crate::hooks::HookEvent;
use crate::secret::Pin;

/// What a notice says.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Message {
    /// A one-time PIN: of a reset, or proving a new contact ([`PinPurpose`]).
    Pin {
        /// The PIN (redacted in `Debug`).
        pin: Pin,
        /// When it expires.
        expires_at: OffsetDateTime,
        /// Its lifetime in minutes, for the text.
        valid_minutes: u64,
        /// What the PIN is for (the text says so).
        purpose: PinPurpose,
    },
    /// A reset was requested and a PIN sent to another of the user's contacts.
    ResetRequested {
        /// The channel the PIN went to.
        channel: Channel,
        /// That destination, masked.
        masked: String,
    },
    /// The password was reset (or the account unlocked) through self-service.
    PasswordReset {
        /// Whether only an unlock took place.
        unlock_only: bool,
    },
    /// The user's contact details were changed.
    ContactsChanged {
        /// Whether an admin made the change.
        by_admin: bool,
    },
    /// The user changed their own password (with the current one).
    PasswordChanged,
    /// An administrator's reminder to register contacts for self-service reset, or to confirm
    /// them, sent to the user's directory mailbox only
    /// ([`crate::Sspr::send_registration_reminders`]).
    RegistrationReminder {
        /// The registration page (the policy's `registration_url`).
        url: String,
        /// The user has contacts and is asked to confirm they are still right (rather than
        /// to register some).
        confirm: bool,
    },
    /// A helpdesk recovery code was issued for the user by an administrator, or redeemed
    /// ([`crate::Sspr::admin_recovery`]).
    HelpdeskRecovery {
        /// Whether the code was redeemed (else: issued).
        redeemed: bool,
    },
    /// A security notice to the policy's `admin_alert_addresses`: a privileged account's
    /// reset was refused, or the failed-verification alarm went off. At most one per kind in
    /// each `admin_alert_interval_minutes`.
    AdminAlert {
        /// What happened ([`HookEvent::PrivilegedAttemptRefused`] or
        /// [`HookEvent::FailureAlarm`]).
        event: HookEvent,
        /// The account concerned (its directory id), if any.
        user_id: Option<String>,
        /// The client's address, if known.
        client_ip: Option<IpAddr>,
        /// How long further alerts of this kind are held back.
        held_back_minutes: u32,
    },
}

/// What a PIN notice's code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PinPurpose {
    /// Resetting the password (`send_pin`).
    #[default]
    Reset,
    /// Proving a contact the user is adding ([`crate::Sspr::request_contact_proof`]).
    ContactProof,
    /// A helpdesk recovery code an administrator sent to the user's contact
    /// ([`crate::Sspr::admin_send_recovery_code`]), redeemed on the reset page.
    HelpdeskRecovery,
}

/// One notice to one destination.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Where it goes.
    pub to: Destination,
    /// In which language.
    pub locale: Locale,
    /// What it says.
    pub message: Message,
    /// When it was issued.
    pub at: OffsetDateTime,
}

/// A notice rendered to text, ready for an e-mail or an SMS.
pub struct Rendered {
    /// The e-mail subject (SMS ignore it).
    pub subject: String,
    /// The plain-text body; for a PIN it holds the PIN, so it is redacted in `Debug` and
    /// wiped from memory when dropped.
    pub body: Zeroizing<String>,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered").field("subject", &self.subject).field("body", &"[REDACTED]").finish()
    }
}

impl Notification {
    /// `error`, what a notifier raised sending this notice, without its secrets: the PIN, and
    /// the full destination (its mask instead, as audit events name it). A mail server's
    /// refusal quotes the recipient ("550 <jane@home.example>: ..."), a gateway's may quote the
    /// message; the engine logs and audits the error's text.
    pub(crate) fn redact_from(&self, error: crate::error::BackendError) -> crate::error::BackendError {
        let pin = self.pin().map(|pin| (pin.expose_secret(), "[REDACTED]"));
        without_destinations(error, &[&self.to], pin.as_slice())
    }

    /// The PIN this notice carries, if it is a PIN notice.
    pub fn pin(&self) -> Option<&Pin> {
        match &self.message {
            Message::Pin { pin, .. } => Some(pin),
            _ => None,
        }
    }

    /// The standard subject and text, in the notice's language: the Fluent messages of
    /// `sspr-core/locales/<language>.ftl`. A notice to a phone gets the message's short
    /// `-sms` text (one SMS segment in every language, tested); dates are written as the
    /// language writes them, in the offset `at` carries (the engine stamps notices with the
    /// policy's `time_zone`).
    ///
    /// ```
    /// # use sspr_core::{notice::{Message, Notification}, Destination, EmailAddress, Locale};
    /// let n = Notification {
    ///     to: Destination::Email(EmailAddress::parse("jane@example.org").unwrap()),
    ///     locale: Locale::De,
    ///     message: Message::PasswordReset { unlock_only: false },
    ///     at: time::macros::datetime!(2026-01-01 10:00 +01:00),
    /// };
    /// let text = n.render();
    /// assert_eq!(text.subject, "Ihr Kennwort wurde zurückgesetzt");
    /// assert!(text.body.starts_with("Am 1. Januar 2026 um 10:00 (UTC+1) wurde Ihr Kennwort zurückgesetzt"));
    /// ```
    pub fn render(&self) -> Rendered {
        self.render_checked(&mut Vec::new())
    }

    /// [`Notification::render`], collecting Fluent's errors (a message or argument the
    /// resources lack), which the tests require to be none.
    pub(crate) fn render_checked(&self, errors: &mut Vec<fluent_bundle::FluentError>) -> Rendered {
        use fluent_bundle::FluentArgs;

        let locale = self.locale;
        let at = crate::l10n::datetime(locale, self.at);
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut args = FluentArgs::new();
        args.set("at", at.as_str());
        let (id, has_sms) = match &self.message {
            Message::Pin { pin, valid_minutes, purpose, .. } => {
                // Borrowed: the PIN is copied only into the zeroized body.
                args.set("pin", pin.expose_secret());
                args.set("minutes", *valid_minutes);
                let id = match purpose {
                    PinPurpose::Reset => "pin-reset",
                    PinPurpose::ContactProof => "pin-proof",
                    PinPurpose::HelpdeskRecovery => "pin-helpdesk",
                };
                (id, true)
            }
            Message::ResetRequested { channel, masked } => {
                args.set("masked", masked.as_str());
                args.set("channel", channel.as_str());
                ("reset-requested", true)
            }
            Message::PasswordReset { unlock_only } => {
                args.set("unlock", yes_no(*unlock_only));
                ("password-reset", true)
            }
            Message::ContactsChanged { by_admin } => {
                args.set("by", if *by_admin { "admin" } else { "user" });
                ("contacts-changed", true)
            }
            Message::PasswordChanged => ("password-changed", true),
            Message::RegistrationReminder { url, confirm } => {
                args.set("url", url.as_str());
                args.set("confirm", yes_no(*confirm));
                ("registration-reminder", false)
            }
            Message::HelpdeskRecovery { redeemed } => {
                args.set("redeemed", yes_no(*redeemed));
                ("helpdesk-recovery", true)
            }
            Message::AdminAlert { event, user_id, client_ip, held_back_minutes } => {
                let unknown = crate::l10n::text(locale, "admin-alert-unknown-account", &FluentArgs::new());
                args.set("user", user_id.clone().unwrap_or(unknown));
                args.set("ip", client_ip.map_or_else(|| "none".to_owned(), |ip| ip.to_string()));
                args.set("minutes", *held_back_minutes);
                let what = match event {
                    HookEvent::FailureAlarm => "admin-alert-failure-alarm",
                    _ => "admin-alert-privileged",
                };
                let subject = crate::l10n::text(locale, "admin-alert-subject", &args);
                let mut body = Zeroizing::new(String::with_capacity(1024));
                crate::l10n::write_into(locale, what, &args, &mut body, errors);
                body.push(' ');
                crate::l10n::write_into(locale, "admin-alert-footer", &args, &mut body, errors);
                return Rendered { subject, body };
            }
        };
        let mut subject = String::new();
        crate::l10n::write_into(locale, &format!("{id}-subject"), &args, &mut subject, errors);
        let sms = has_sms && matches!(self.to, Destination::Sms(_));
        // Room for any notice, so the text holding a PIN is never moved by a reallocation
        // (which would leave a copy behind in freed memory).
        let mut body = Zeroizing::new(String::with_capacity(1024));
        crate::l10n::write_into(
            locale,
            &format!("{id}-{}", if sms { "sms" } else { "body" }),
            &args,
            &mut body,
            errors,
        );
        Rendered { subject, body }
    }
}

/// `error` without the full addresses `to` (each one's mask instead, as audit events name
/// it) nor the `other` secrets: a backend handed an address may quote it (a relay's "550
/// <jane@home.example>", a unique index's "Key (email)=(...)"). A phone number is also matched
/// without its `+` and without its country code, and either as a URL writes it
/// (`jane%40home.example`); ASCII case is ignored.
pub(crate) fn without_destinations(
    error: crate::error::BackendError,
    to: &[&Destination],
    other: &[(&str, &str)],
) -> crate::error::BackendError {
    let forms: Vec<(String, String)> =
        to.iter().map(|d| (crate::error::percent_encoded(d.as_str()), d.masked())).collect();
    let mut secrets: Vec<(&str, &str)> = Vec::with_capacity(to.len() * 4 + other.len());
    for (d, (encoded, masked)) in to.iter().zip(&forms) {
        secrets.push((d.as_str(), masked));
        secrets.push((d.as_str().trim_start_matches('+'), masked));
        secrets.push((encoded, masked));
        // A national gateway writes the number without its country code (`07400900123`).
        if let Destination::Sms(phone) = d
            && let Some(national) = phone.as_str().get(1 + phone.country_code().len()..)
            && national.len() >= 6
        {
            secrets.push((national, masked));
        }
    }
    secrets.extend_from_slice(other);
    error.redacting(&secrets)
}

/// The minutes a code has left, as its notice states them: rounded to the nearest minute,
/// at least 1. Expiry times are kept to the whole second while `now` is not, so a 10-minute
/// PIN has 9 min 59.x s left when it is sent; whole minutes would tell the user "9 minutes".
pub(crate) fn minutes_left(expires_at: OffsetDateTime, now: OffsetDateTime) -> u64 {
    let seconds = u64::try_from((expires_at - now).whole_seconds()).unwrap_or(0);
    seconds.saturating_add(30).checked_div(60).unwrap_or(0).max(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;
    use crate::api::Channel;
    use crate::input::{EmailAddress, PhoneNumber};

    /// GSM 03.38's basic character set (one septet each; `\x1b` is the escape, not a character).
    const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    /// Its extension table (two septets each: escape and character).
    const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

    /// The length of `text` in one SMS: `(units, limit)`, septets against 160 when every
    /// character is GSM-7, else UTF-16 code units against 70 (UCS-2).
    fn sms_length(text: &str) -> (usize, usize) {
        let septets: Option<usize> = text
            .chars()
            .map(|c| {
                if GSM7_BASIC.contains(c) {
                    Some(1)
                } else if GSM7_EXTENSION.contains(c) {
                    Some(2)
                } else {
                    None
                }
            })
            .sum();
        match septets {
            Some(n) => (n, 160),
            None => (text.encode_utf16().count(), 70),
        }
    }

    #[test]
    fn the_sms_length_check_knows_both_encodings() {
        assert_eq!(sms_length("Ihr Code: 1234 für €"), (21, 160));
        assert_eq!(sms_length(&"a".repeat(161)), (161, 160));
        assert_eq!(sms_length("Su código"), (9, 70), "ó needs UCS-2");
        assert_eq!(sms_length("Votre mot de passe a été réinitialisé"), (37, 160), "é is GSM-7");
        assert_eq!(sms_length("déjà reçu"), (9, 70), "ç is not");
    }

    fn phone() -> Destination {
        Destination::Sms(PhoneNumber::parse("+447400900123").unwrap())
    }

    fn mail() -> Destination {
        Destination::Email(EmailAddress::parse("jane@example.org").unwrap())
    }

    /// Every message, with the longest values each can carry: a 12-digit PIN (the
    /// policy's longest), 60 minutes (the longest lifetime) and 1 (the singular), both
    /// channels, every flag.
    fn every_message() -> Vec<Message> {
        let at = time::macros::datetime!(2026-12-31 23:59 +05:45);
        let mut all = Vec::new();
        for purpose in [PinPurpose::Reset, PinPurpose::ContactProof, PinPurpose::HelpdeskRecovery] {
            for valid_minutes in [1, 60] {
                all.push(Message::Pin { pin: Pin::new("987654321098"), expires_at: at, valid_minutes, purpose });
            }
        }
        for channel in [Channel::Email, Channel::Sms] {
            all.push(Message::ResetRequested { channel, masked: "m***@l***.international".into() });
        }
        for flag in [false, true] {
            all.push(Message::PasswordReset { unlock_only: flag });
            all.push(Message::ContactsChanged { by_admin: flag });
            all.push(Message::HelpdeskRecovery { redeemed: flag });
            all.push(Message::RegistrationReminder {
                url: "https://password-self-service.example.org/passwordnotification".into(),
                confirm: flag,
            });
        }
        all.push(Message::PasswordChanged);
        for event in [HookEvent::FailureAlarm, HookEvent::PrivilegedAttemptRefused] {
            for client_ip in [None, Some("2001:db8::7".parse().unwrap())] {
                all.push(Message::AdminAlert {
                    event,
                    user_id: Some("cn=root,dc=example,dc=org".into()),
                    client_ip,
                    held_back_minutes: 60,
                });
            }
        }
        all
    }

    fn notice(to: Destination, locale: Locale, message: Message) -> Notification {
        Notification { to, locale, message, at: time::macros::datetime!(2026-12-31 23:59 +05:45) }
    }

    #[test]
    fn every_notice_renders_in_every_language_without_a_fluent_error() {
        for locale in Locale::ALL {
            for message in every_message() {
                for to in [mail(), phone()] {
                    let n = notice(to, *locale, message.clone());
                    let mut errors = Vec::new();
                    let text = n.render_checked(&mut errors);
                    let what = format!("{locale} {} to {}", message.kind(), n.to.as_str());
                    assert!(errors.is_empty(), "{what}: {errors:?}");
                    assert!(!text.subject.is_empty() && !text.body.is_empty(), "{what}");
                    for shown in [text.subject.as_str(), text.body.as_str()] {
                        assert!(
                            !shown.contains('[') && !shown.contains('{'),
                            "{what}: a key or placeable shows: {shown}"
                        );
                        assert!(!shown.contains(['\u{2068}', '\u{2069}']), "{what}: isolation marks");
                        assert!(!shown.contains("  ") && shown.trim() == shown, "{what}: stray spaces: {shown:?}");
                    }
                    if let Some(pin) = n.pin() {
                        assert!(text.body.contains(pin.expose_secret()), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_language_says_something_of_its_own() {
        // A translation that is still the English text would pass the key check.
        for message in every_message() {
            let english = notice(mail(), Locale::En, message.clone()).render();
            for locale in &Locale::ALL[1..] {
                let own = notice(mail(), *locale, message.clone()).render();
                assert_ne!(own.subject, english.subject, "{locale} {}", message.kind());
                assert_ne!(own.body.as_str(), english.body.as_str(), "{locale} {}", message.kind());
            }
        }
    }

    #[test]
    fn every_sms_notice_is_one_segment_in_every_language() {
        let mut longest = (0, String::new());
        for locale in Locale::ALL {
            for message in every_message() {
                if matches!(message, Message::RegistrationReminder { .. } | Message::AdminAlert { .. }) {
                    continue; // e-mail only: the directory mailbox, the admins' addresses
                }
                let text = notice(phone(), *locale, message.clone()).render();
                let (length, limit) = sms_length(&text.body);
                assert!(length <= limit, "{locale} {}: {length} > {limit}: {}", message.kind(), text.body.as_str());
                if length > longest.0 {
                    longest = (length, format!("{locale} {}", message.kind()));
                }
            }
        }
        // The check has something to check: the longest text is near the limit.
        assert!(longest.0 > 120, "{longest:?}");
    }

    #[test]
    fn the_pin_stays_out_of_debug() {
        let n = notice(phone(), Locale::Fr, every_message().remove(0));
        let text = n.render();
        assert!(text.body.contains("987654321098"));
        assert!(!format!("{text:?} {n:?}").contains("987654321098"));
    }
}
