//! The values that cross the public API: requests, answers and the caller's context.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::input::{EmailAddress, PhoneNumber};
use crate::secret::Password;

/// How a PIN or notice reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The alternate e-mail address.
    Email,
    /// A text message to the mobile phone.
    Sms,
}

impl Channel {
    /// The method id the API uses for this channel (`"email"`, `"sms"`).
    pub fn method_id(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    /// The channel a method id names.
    pub fn from_method_id(id: &str) -> Option<Self> {
        match id {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

/// The directory's stable identifier of a user (a DN, an objectGUID, a uid...).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// Wrap the directory's identifier.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({:?})", self.0)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The language notices are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Locale {
    /// English (the default).
    #[default]
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Italian.
    It,
    /// Dutch.
    Nl,
}

impl Locale {
    /// Pick the best supported language from an HTTP `Accept-Language` header, negotiated
    /// with `fluent-langneg` (lookup): the entries in order of their quality (`q`, highest
    /// first; equal ones in the header's order; an unreadable or out-of-range `q` counts as 1,
    /// `q=0` means "not this one"), the first that a supported language matches wins
    /// (`de-CH` and `nl-BE` match `de` and `nl`), none: English. Never an error; at most 32
    /// entries are read.
    ///
    /// ```
    /// use sspr_core::Locale;
    /// assert_eq!(Locale::from_accept_language("de-CH, de;q=0.9, en;q=0.8"), Locale::De);
    /// assert_eq!(Locale::from_accept_language("fr-FR, en;q=0.5, de;q=0.4"), Locale::Fr);
    /// assert_eq!(Locale::from_accept_language("pl, nl-BE;q=0.3"), Locale::Nl);
    /// assert_eq!(Locale::from_accept_language("pt-BR"), Locale::En);
    /// ```
    pub fn from_accept_language(header: &str) -> Self {
        Self::negotiate(header, Self::ALL)
    }

    /// [`Locale::from_accept_language`] among `offered` only (a site that serves some of
    /// the languages): the best match the header asks for, else English when offered, else
    /// the first offered; English when `offered` is empty. Never an error.
    ///
    /// ```
    /// use sspr_core::Locale;
    /// let offered = [Locale::De, Locale::Fr];
    /// assert_eq!(Locale::negotiate("nl, fr;q=0.5", &offered), Locale::Fr);
    /// assert_eq!(Locale::negotiate("nl", &offered), Locale::De);
    /// assert_eq!(Locale::negotiate("nl", &[Locale::Fr, Locale::En]), Locale::En);
    /// ```
    pub fn negotiate(header: &str, offered: &[Locale]) -> Self {
        let fallback = if offered.is_empty() || offered.contains(&Self::En) {
            Self::En
        } else {
            offered.first().copied().unwrap_or_default()
        };
        let mut requested: Vec<(f32, unic_langid::LanguageIdentifier)> = header
            .split(',')
            .take(32)
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next().unwrap_or("").trim();
                let quality = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .filter(|q| (0.0..=1.0).contains(q))
                    .unwrap_or(1.0);
                if quality <= 0.0 {
                    return None;
                }
                Some((quality, tag.parse().ok()?))
            })
            .collect();
        // Stable: equal qualities keep the header's order.
        requested.sort_by(|a, b| b.0.total_cmp(&a.0));
        let requested: Vec<_> = requested.into_iter().map(|(_, id)| id).collect();
        let available: Vec<_> = Self::language_ids()
            .iter()
            .filter(|id| Self::from_primary(id.language.as_str()).is_some_and(|l| offered.contains(&l)))
            .collect();
        fluent_langneg::negotiate_languages(&requested, &available, None, fluent_langneg::NegotiationStrategy::Lookup)
            .first()
            .and_then(|id| Self::from_primary(id.language.as_str()))
            .unwrap_or(fallback)
    }

    /// Every supported locale as a language identifier, in [`Locale::ALL`]'s order.
    fn language_ids() -> &'static [unic_langid::LanguageIdentifier] {
        static IDS: std::sync::LazyLock<Vec<unic_langid::LanguageIdentifier>> =
            std::sync::LazyLock::new(|| Locale::ALL.iter().filter_map(|l| l.as_str().parse().ok()).collect());
        &IDS
    }
}

/// Who calls: the client's address, user agent and language. Used for per-IP limits,
/// audit and the language of notices.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequestContext {
    /// The client's IP address, as the portal sees it (after trusted proxies).
    pub client_ip: Option<IpAddr>,
    /// The client's user agent, for the audit trail (cut to 256 characters).
    pub user_agent: Option<String>,
    /// The language for notices.
    pub locale: Locale,
    /// The bot challenge's token from the provider's widget, for `begin_reset` when the
    /// engine has a [`crate::BotChallenge`] (ignored otherwise and by every other call).
    /// Never serialized, never in `Debug`.
    #[serde(skip)]
    pub challenge_token: Option<crate::backend::ChallengeToken>,
}

impl RequestContext {
    /// A context with the client's IP address.
    pub fn from_ip(ip: IpAddr) -> Self {
        Self { client_ip: Some(ip), ..Self::default() }
    }
}

/// Who performs an administrative or registration operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// An administrator (the portal has authenticated them), by their id.
    Admin(String),
    /// The user themself, signed in to the portal.
    User,
}

/// One way a PIN can be sent, as offered to an anonymous caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MethodOption {
    /// The id to pass to `send_pin` (`"email"` or `"sms"`).
    pub id: String,
    /// The channel.
    pub channel: Channel,
    /// The destination, masked (`j***@e***.org`, `+44 ******* 12`).
    pub masked: String,
    /// Whether the caller must type the full address before a PIN is sent.
    pub needs_confirmation: bool,
}

/// The answer to `begin_reset`: the same shape for every login, real or not. Its `Debug`
/// hides the flow id: once the user verifies, that id alone completes the reset.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResetChallenge {
    /// The flow's id (opaque, 32 hex characters), for the next calls.
    pub flow_id: String,
    /// The methods a PIN can be sent by.
    pub methods: Vec<MethodOption>,
    /// When the whole flow expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for ResetChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetChallenge")
            .field("flow_id", &"[REDACTED]")
            .field("methods", &self.methods)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The answer to `send_pin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PinSent {
    /// When the PIN expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When a new PIN may be requested at the earliest.
    #[serde(with = "time::serde::rfc3339")]
    pub resend_after: OffsetDateTime,
    /// Wrong PINs allowed before this one is void.
    pub attempts_left: u32,
}

/// How a verified reset may be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletionMode {
    /// sspr generates a temporary password that must be changed at next sign-in.
    Temporary,
    /// The user chooses the new password.
    Chosen,
    /// The account is only unlocked; the password stays.
    UnlockOnly,
}

/// The answer to a successful `sign_in`: who signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignedIn {
    /// The directory's id of the user.
    pub user_id: UserId,
    /// The login as the directory stores it (use it for the user's later calls).
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// The password is a temporary one the directory wants changed first. The portal may
    /// still let the user manage their contacts; it should say the password must change.
    pub must_change: bool,
}

/// The answer to `verify_pin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verified {
    /// The completion modes the policy allows, the default first; empty while
    /// `remaining_methods` is not.
    pub modes: Vec<CompletionMode>,
    /// Method ids whose PIN must still be verified before the reset can complete (a
    /// privileged user under `PrivilegedMode::TwoMethods`); empty when the user may complete.
    pub remaining_methods: Vec<String>,
}

/// How to complete a verified reset.
#[derive(Debug)]
pub enum NewPassword {
    /// Generate a temporary password (returned once in [`ResetOutcome`]).
    Temporary,
    /// Set the password the user chose.
    Chosen(Password),
    /// Only unlock the account.
    UnlockOnly,
}

impl NewPassword {
    pub(crate) fn mode(&self) -> CompletionMode {
        match self {
            Self::Temporary => CompletionMode::Temporary,
            Self::Chosen(_) => CompletionMode::Chosen,
            Self::UnlockOnly => CompletionMode::UnlockOnly,
        }
    }
}

/// The answer to `complete_reset`.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResetOutcome {
    /// The temporary password, to be shown once (only in [`CompletionMode::Temporary`]).
    pub temporary_password: Option<Password>,
    /// Whether the directory will make the user change the password at next sign-in.
    pub must_change: bool,
    /// Whether a lockout was cleared.
    pub unlocked: bool,
}

/// A change to one contact detail.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChange {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Set it to this value (validated: an e-mail address or an E.164 number).
    Set(String),
    /// Remove it.
    Clear,
}

/// A code sent to prove a new contact ([`crate::Sspr::request_contact_proof`]): give
/// `proof_id` and the code the user typed to [`crate::Sspr::confirm_contact_proof`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactProof {
    /// Names the pending proof (not a secret: the code is).
    pub proof_id: String,
    /// Where the code went.
    pub channel: Channel,
    /// The destination, masked.
    pub masked: String,
    /// When the code stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A helpdesk recovery code ([`crate::Sspr::admin_recovery`]), to show the administrator
/// once: it is stored only as a keyed hash. `Debug` redacts the code.
#[derive(Debug, Clone)]
pub struct RecoveryCode {
    /// The code, for the administrator to read out to the user.
    pub code: crate::secret::Pin,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A helpdesk recovery code sent to one of the user's contacts
/// ([`crate::Sspr::admin_send_recovery_code`]): the administrator sees where it went, masked,
/// never the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverySent {
    /// The channel the code went by.
    pub channel: Channel,
    /// The destination, masked.
    pub masked: String,
    /// When the code stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A redeemed helpdesk recovery code ([`crate::Sspr::redeem_recovery_code`]): a reset flow
/// at the verified step. Its `Debug` hides the flow id, a credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    /// The verified flow: give it to [`crate::Sspr::complete_reset`]. A credential.
    pub flow_id: String,
    /// The completion modes the policy allows, the default first.
    pub modes: Vec<CompletionMode>,
    /// When the flow expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for Recovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recovered")
            .field("flow_id", &"[REDACTED]")
            .field("modes", &self.modes)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Changes to a user's contact details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactUpdate {
    /// The alternate e-mail address.
    #[serde(default)]
    pub email: ContactChange,
    /// The mobile phone number.
    #[serde(default)]
    pub phone: ContactChange,
}

/// A registered contact detail, as the signed-in user or an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    /// The full address or number.
    pub value: String,
    /// The masked form anonymous callers see.
    pub masked: String,
    /// From when PINs may be sent to it (later than now during the cooling-off period).
    #[serde(with = "time::serde::rfc3339")]
    pub usable_from: OffsetDateTime,
}

/// A user's contact details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contacts {
    /// The alternate e-mail address.
    pub email: Option<ContactView>,
    /// The mobile phone number.
    pub phone: Option<ContactView>,
    /// The user should be asked whether these contacts are still right: the policy's
    /// `reconfirm_after_days` have passed since they were last confirmed or changed
    /// ([`crate::Sspr::confirm_contacts`] confirms them). Always false without a contact, or
    /// when the policy never asks.
    #[serde(default)]
    pub confirm_due: bool,
}

/// Everything an admin needs to know about one user's SSPR state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserStatus {
    /// The directory's id of the user.
    pub user_id: UserId,
    /// The login.
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// Whether SSPR is enabled for the user.
    pub enabled: bool,
    /// Whether the user is inside the policy's eligible OUs / groups.
    pub eligible: bool,
    /// Whether the user is a member of a privileged group.
    pub privileged: bool,
    /// Whether the directory account is disabled or expired.
    pub account_disabled: bool,
    /// Whether the directory account is locked out.
    pub account_locked: bool,
    /// The contact details, masked.
    pub email_masked: Option<String>,
    /// The phone number, masked.
    pub phone_masked: Option<String>,
    /// Until when self-service reset is blocked, if it is.
    #[serde(with = "time::serde::rfc3339::option")]
    pub blocked_until: Option<OffsetDateTime>,
    /// When the password was last reset through sspr.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_reset_at: Option<OffsetDateTime>,
}

/// What went to a destination: used by notifiers and the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "channel", content = "address", rename_all = "snake_case")]
pub enum Destination {
    /// An e-mail address.
    Email(EmailAddress),
    /// A phone number.
    Sms(PhoneNumber),
}

impl Destination {
    /// The channel.
    pub fn channel(&self) -> Channel {
        match self {
            Self::Email(_) => Channel::Email,
            Self::Sms(_) => Channel::Sms,
        }
    }
    /// The full address or number.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Email(e) => e.as_str(),
            Self::Sms(p) => p.as_str(),
        }
    }
    /// The masked form.
    pub fn masked(&self) -> String {
        match self {
            Self::Email(e) => crate::mask::email(e),
            Self::Sms(p) => crate::mask::phone(p),
        }
    }
}

/// Which users an enrollment report or a reminder run covers
/// ([`crate::Sspr::enrollment_report`], [`crate::Sspr::send_registration_reminders`]).
///
/// A user is covered when inside one of `ous` (if any are given) **and** a member of one of
/// `groups` (if any are given); with both empty, every user the directory lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnrollmentFilter {
    /// OUs (DN suffixes, `ou=staff,dc=example,dc=org`), matched as the policy's eligible OUs.
    pub ous: Vec<String>,
    /// Groups (DN or common name), matched as the policy's eligible groups.
    pub groups: Vec<String>,
    /// Contacts not confirmed or changed for this many days are stale (1..=3650). Default:
    /// the policy's `reconfirm_after_days`, or 365 when that is 0.
    pub stale_after_days: Option<u32>,
}

/// One user's line of an [`EnrollmentReport`]. Contacts are masked: a report is written to
/// files and mailed around, and needs no more than the mask to be acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnrollmentEntry {
    /// The directory's id of the user.
    pub user_id: UserId,
    /// The login.
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// SSPR is enabled for the user.
    pub enabled: bool,
    /// Inside the policy's eligible OUs / groups.
    pub eligible: bool,
    /// A member of a privileged group (counted, never reminded).
    pub privileged: bool,
    /// The directory account is disabled or expired.
    pub account_disabled: bool,
    /// The alternate e-mail, masked.
    pub email_masked: Option<String>,
    /// The mobile number, masked.
    pub phone_masked: Option<String>,
    /// The directory has a mailbox for the user (where a reminder would go).
    pub has_directory_mail: bool,
    /// When the contacts were last confirmed or changed (`None` without a contact).
    #[serde(with = "time::serde::rfc3339::option")]
    pub contacts_confirmed_at: Option<OffsetDateTime>,
    /// When the password was last reset through sspr.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_reset_at: Option<OffsetDateTime>,
    /// Until when self-service reset is blocked, if it is.
    #[serde(with = "time::serde::rfc3339::option")]
    pub blocked_until: Option<OffsetDateTime>,
    /// Enabled, but no contact registered: the user cannot reset.
    pub without_contacts: bool,
    /// Contacts older than the report's `stale_after_days` (not confirmed or changed since).
    pub stale: bool,
    /// Enabled with contacts, and never reset through sspr.
    pub never_used: bool,
    /// Self-service reset is blocked now.
    pub blocked: bool,
}

/// The counts of an [`EnrollmentReport`], over the users its filter covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnrollmentCounts {
    /// Users covered.
    pub users: u64,
    /// Enabled for SSPR.
    pub enabled: u64,
    /// Enabled with at least one contact.
    pub registered: u64,
    /// Enabled without a contact.
    pub without_contacts: u64,
    /// With stale contacts.
    pub stale: u64,
    /// Registered and never used.
    pub never_used: u64,
    /// Blocked now.
    pub blocked: u64,
    /// Privileged (included in every other count too).
    pub privileged: u64,
    /// Without a directory mailbox.
    pub without_mail: u64,
}

/// Who has registered for self-service reset ([`crate::Sspr::enrollment_report`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnrollmentReport {
    /// When the report was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The age in days from which contacts were counted stale.
    pub stale_after_days: u32,
    /// The counts.
    pub counts: EnrollmentCounts,
    /// Every covered user, sorted by login; the lists (without contacts, stale, never used,
    /// blocked) are these entries with that flag set.
    pub users: Vec<EnrollmentEntry>,
    /// The directory listed as many users as a report reads
    /// ([`crate::MAX_REPORT_USERS`]): there may be more than these.
    pub truncated: bool,
}

/// What one [`crate::Sspr::send_registration_reminders`] run did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReminderRun {
    /// Logins reminded (the mail was accepted by the notifier), sorted.
    pub reminded: Vec<String>,
    /// Users who needed a reminder but had one within the policy's `reminder_interval_days`.
    pub already_reminded: u64,
    /// Users who needed a reminder but have no directory mailbox.
    pub without_mail: u64,
    /// Privileged users who needed one: never reminded (see the method's docs).
    pub skipped_privileged: u64,
    /// Users who needed one but cannot register: account disabled or not eligible.
    pub skipped_ineligible: u64,
    /// Reminders the notifier refused (audited; the user is reminded at the next run).
    pub failed: u64,
}
