//! The notices sspr sends, and their standard wording in English and German.

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
    /// The PIN this notice carries, if it is a PIN notice.
    pub fn pin(&self) -> Option<&Pin> {
        match &self.message {
            Message::Pin { pin, .. } => Some(pin),
            _ => None,
        }
    }

    /// The standard subject and text, in the notice's language.
    ///
    /// ```
    /// # use sspr_core::{notice::{Message, Notification}, Destination, EmailAddress, Locale};
    /// let n = Notification {
    ///     to: Destination::Email(EmailAddress::parse("jane@example.org").unwrap()),
    ///     locale: Locale::De,
    ///     message: Message::PasswordReset { unlock_only: false },
    ///     at: time::macros::datetime!(2026-01-01 10:00 UTC),
    /// };
    /// assert_eq!(n.render().subject, "Ihr Kennwort wurde zurückgesetzt");
    /// ```
    pub fn render(&self) -> Rendered {
        let at = self.at.date();
        match (&self.message, self.locale) {
            (Message::Pin { pin, valid_minutes, purpose: PinPurpose::ContactProof, .. }, Locale::De) => Rendered {
                subject: "Ihr Code zum Bestätigen Ihrer Kontaktdaten".into(),
                body: Zeroizing::new(format!(
                    "Ihr Code lautet {}. Er ist {valid_minutes} Minuten gültig. Geben Sie ihn auf der Seite ein, \
                     auf der Sie diese Adresse für das Zurücksetzen Ihres Kennworts hinterlegen. Geben Sie ihn \
                     niemandem weiter. Haben Sie nichts angefordert, ignorieren Sie diese Nachricht.",
                    pin.expose_secret()
                )),
            },
            (Message::Pin { pin, valid_minutes, purpose: PinPurpose::ContactProof, .. }, _) => Rendered {
                subject: "Your code to confirm your contact details".into(),
                body: Zeroizing::new(format!(
                    "Your code is {}. It is valid for {valid_minutes} minutes. Type it on the page where you are \
                     adding this address for resetting your password. Never share it. If you did not ask for it, \
                     ignore this message.",
                    pin.expose_secret()
                )),
            },
            (Message::Pin { pin, valid_minutes, purpose: PinPurpose::HelpdeskRecovery, .. }, Locale::De) => Rendered {
                subject: "Ihr Wiederherstellungscode vom IT-Support".into(),
                body: Zeroizing::new(format!(
                    "Ihr IT-Support hat Ihnen diesen Code geschickt: {}. Er ist {valid_minutes} Minuten gültig. \
                     Geben Sie ihn auf der Seite zum Zurücksetzen des Kennworts unter „Ich habe einen Code vom \
                     IT-Support“ ein. Geben Sie ihn niemandem weiter. Haben Sie den IT-Support nicht angerufen, \
                     melden Sie sich dort sofort.",
                    pin.expose_secret()
                )),
            },
            (Message::Pin { pin, valid_minutes, purpose: PinPurpose::HelpdeskRecovery, .. }, _) => Rendered {
                subject: "Your recovery code from the helpdesk".into(),
                body: Zeroizing::new(format!(
                    "Your helpdesk sent you this code: {}. It is valid for {valid_minutes} minutes. Type it on the \
                     password reset page under \"I have a code from the helpdesk\". Never share it. If you did not \
                     call the helpdesk, tell them at once.",
                    pin.expose_secret()
                )),
            },
            (Message::Pin { pin, valid_minutes, .. }, Locale::De) => Rendered {
                subject: "Ihr Code zum Zurücksetzen des Kennworts".into(),
                body: Zeroizing::new(format!(
                    "Ihr Code lautet {}. Er ist {valid_minutes} Minuten gültig. Geben Sie ihn niemandem weiter; \
                     wir fragen nie danach. Haben Sie nichts angefordert, ignorieren Sie diese Nachricht.",
                    pin.expose_secret()
                )),
            },
            (Message::Pin { pin, valid_minutes, .. }, _) => Rendered {
                subject: "Your password reset code".into(),
                body: Zeroizing::new(format!(
                    "Your code is {}. It is valid for {valid_minutes} minutes. Never share it; we will never \
                     ask you for it. If you did not ask for it, ignore this message.",
                    pin.expose_secret()
                )),
            },
            (Message::ResetRequested { masked, .. }, Locale::De) => Rendered {
                subject: "Zurücksetzen Ihres Kennworts angefordert".into(),
                body: Zeroizing::new(format!(
                    "Am {at} wurde das Zurücksetzen Ihres Kennworts angefordert und ein Code an {masked} gesendet. \
                     Waren Sie das nicht, wenden Sie sich an Ihren IT-Support."
                )),
            },
            (Message::ResetRequested { masked, .. }, _) => Rendered {
                subject: "Password reset requested".into(),
                body: Zeroizing::new(format!(
                    "On {at} a reset of your password was requested and a code sent to {masked}. \
                     If this was not you, contact your IT support."
                )),
            },
            (Message::PasswordReset { unlock_only }, Locale::De) => Rendered {
                subject: if *unlock_only { "Ihr Konto wurde entsperrt" } else { "Ihr Kennwort wurde zurückgesetzt" }
                    .into(),
                body: Zeroizing::new(format!(
                    "Am {at} wurde {} per Self-Service. Waren Sie das nicht, wenden Sie sich sofort an Ihren IT-Support.",
                    if *unlock_only { "Ihr Konto entsperrt" } else { "Ihr Kennwort zurückgesetzt" }
                )),
            },
            (Message::PasswordReset { unlock_only }, _) => Rendered {
                subject: if *unlock_only { "Your account was unlocked" } else { "Your password was reset" }.into(),
                body: Zeroizing::new(format!(
                    "On {at} {} through self-service. If this was not you, contact your IT support at once.",
                    if *unlock_only { "your account was unlocked" } else { "your password was reset" }
                )),
            },
            (Message::ContactsChanged { by_admin }, Locale::De) => Rendered {
                subject: "Ihre Kontaktdaten wurden geändert".into(),
                body: Zeroizing::new(format!(
                    "Am {at} wurden die Kontaktdaten zum Zurücksetzen Ihres Kennworts {}geändert. \
                     Waren Sie das nicht, wenden Sie sich an Ihren IT-Support.",
                    if *by_admin { "von einem Administrator " } else { "" }
                )),
            },
            (Message::PasswordChanged, Locale::De) => Rendered {
                subject: "Ihr Kennwort wurde geändert".into(),
                body: Zeroizing::new(format!(
                    "Am {at} wurde Ihr Kennwort mit dem bisherigen Kennwort geändert. \
                     Waren Sie das nicht, wenden Sie sich sofort an Ihren IT-Support."
                )),
            },
            (Message::PasswordChanged, _) => Rendered {
                subject: "Your password was changed".into(),
                body: Zeroizing::new(format!(
                    "On {at} your password was changed with the current password. \
                     If this was not you, contact your IT support at once."
                )),
            },
            (Message::RegistrationReminder { url, confirm: false }, Locale::De) => Rendered {
                subject: "Hinterlegen Sie Kontaktdaten zum Zurücksetzen Ihres Kennworts".into(),
                body: Zeroizing::new(format!(
                    "Für Ihr Konto sind noch keine Kontaktdaten hinterlegt, mit denen Sie ein vergessenes Kennwort \
                     selbst zurücksetzen können. Melden Sie sich auf {url} an und hinterlegen Sie eine private \
                     E-Mail-Adresse oder Mobilnummer. Wir fragen nie per E-Mail nach Ihrem Kennwort."
                )),
            },
            (Message::RegistrationReminder { url, confirm: false }, _) => Rendered {
                subject: "Register contact details for resetting your password".into(),
                body: Zeroizing::new(format!(
                    "Your account has no contact details yet for resetting a forgotten password yourself. Sign in \
                     at {url} and add a personal e-mail address or mobile number. We never ask for your password \
                     by e-mail."
                )),
            },
            (Message::RegistrationReminder { url, confirm: true }, Locale::De) => Rendered {
                subject: "Bestätigen Sie Ihre Kontaktdaten zum Zurücksetzen des Kennworts".into(),
                body: Zeroizing::new(format!(
                    "Ihre Kontaktdaten zum Zurücksetzen Ihres Kennworts wurden lange nicht bestätigt. Melden Sie \
                     sich auf {url} an und bestätigen oder ändern Sie sie. Wir fragen nie per E-Mail nach Ihrem \
                     Kennwort."
                )),
            },
            (Message::RegistrationReminder { url, confirm: true }, _) => Rendered {
                subject: "Confirm your contact details for resetting your password".into(),
                body: Zeroizing::new(format!(
                    "Your contact details for resetting your password have not been confirmed for a long time. \
                     Sign in at {url} and confirm or change them. We never ask for your password by e-mail."
                )),
            },
            (Message::HelpdeskRecovery { redeemed }, Locale::De) => Rendered {
                subject: "Wiederherstellung über den IT-Support".into(),
                body: Zeroizing::new(format!(
                    "Am {at} wurde {} Waren Sie das nicht, wenden Sie sich sofort an Ihren IT-Support.",
                    if *redeemed {
                        "ein Wiederherstellungscode des IT-Supports für Ihr Konto eingelöst."
                    } else {
                        "vom IT-Support ein Wiederherstellungscode für Ihr Konto ausgestellt."
                    }
                )),
            },
            (Message::HelpdeskRecovery { redeemed }, _) => Rendered {
                subject: "Helpdesk recovery of your account".into(),
                body: Zeroizing::new(format!(
                    "On {at} {} If this was not you, contact your IT support at once.",
                    if *redeemed {
                        "a helpdesk recovery code for your account was redeemed."
                    } else {
                        "the helpdesk issued a recovery code for your account."
                    }
                )),
            },
            // Administrators read these in English, whatever the users' language.
            (Message::AdminAlert { event, user_id, client_ip, held_back_minutes }, _) => {
                let when =
                    self.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string());
                let from = client_ip.map(|ip| format!(" from {ip}")).unwrap_or_default();
                let what = match event {
                    HookEvent::FailureAlarm => format!(
                        "At {when} failed PIN verifications across all users reached the alarm threshold \
                         (failure_alarm_per_hour){from}: someone may be guessing PINs on many accounts."
                    ),
                    _ => format!(
                        "At {when} a self-service password reset or recovery was attempted for the privileged \
                         account {}{from} and refused (the caller was told nothing that shows it).",
                        user_id.as_deref().unwrap_or("(unknown)")
                    ),
                };
                Rendered {
                    subject: "Security notice from password self-service".into(),
                    body: Zeroizing::new(format!(
                        "{what} If this was not expected, review the audit log. Further notices of this kind \
                         are held back for {held_back_minutes} minutes."
                    )),
                }
            }
            (Message::ContactsChanged { by_admin }, _) => Rendered {
                subject: "Your contact details were changed".into(),
                body: Zeroizing::new(format!(
                    "On {at} the contact details for resetting your password were changed{}. \
                     If this was not you, contact your IT support.",
                    if *by_admin { " by an administrator" } else { "" }
                )),
            },
        }
    }
}
