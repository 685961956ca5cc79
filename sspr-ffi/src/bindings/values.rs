//! The values that cross: records and enums mirroring sspr-core's, and their conversions.
//! Times are `SystemTime` (Kotlin `java.time.Instant`, Swift `Date`, Python `datetime`, Ruby
//! `Time`). Every rule (a client address, a header's language, an administrator's id, a
//! stored enrollment) is the core's (`sspr_core::wire`) or sspr-bind's; this module only
//! moves values.

use std::fmt;
use std::time::SystemTime;

use sspr_bind::{ContactParts, EnrollmentParts};
use sspr_core::BackendError;
use sspr_core::backend::AccountState;
use sspr_core::notice::Message;

use crate::names::Named;

named_enum! {
    /// How a PIN or notice reaches the user.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
    pub enum Channel for sspr_core::Channel, else Email {
        /// The alternate e-mail address.
        Email,
        /// A text message.
        Sms,
    }
}

named_enum! {
    /// The language of notices.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
    pub enum Locale for sspr_core::Locale, else En {
        /// English.
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
}

impl From<Channel> for sspr_core::Channel {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Email => Self::Email,
            Channel::Sms => Self::Sms,
        }
    }
}

impl From<Locale> for sspr_core::Locale {
    fn from(l: Locale) -> Self {
        match l {
            Locale::En => Self::En,
            Locale::De => Self::De,
            Locale::Fr => Self::Fr,
            Locale::Es => Self::Es,
            Locale::It => Self::It,
            Locale::Nl => Self::Nl,
        }
    }
}

/// Who calls: the client's address, user agent and language.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct RequestContext {
    /// The client's IP address as text, if known (IPv4 or IPv6, nothing else: a port, brackets
    /// or a host name is `InvalidInput`, field `client_ip`).
    #[uniffi(default = None)]
    pub client_ip: Option<String>,
    /// The client's user agent.
    #[uniffi(default = None)]
    pub user_agent: Option<String>,
    /// The language for notices, when the caller names it; none: from `accept_language`.
    #[uniffi(default = None)]
    pub locale: Option<Locale>,
    /// The client's `Accept-Language` header: picks the language when `locale` is none (never
    /// an error: nothing supported in it, or a malformed header, is English).
    #[uniffi(default = None)]
    pub accept_language: Option<String>,
}

impl RequestContext {
    /// The core's context, by the core's rules (`RequestContext::from_parts`); an explicit
    /// `locale` wins over the header.
    pub(crate) fn to_core(&self) -> Result<sspr_core::RequestContext, sspr_core::Error> {
        let mut ctx =
            sspr_core::RequestContext::from_parts(self.client_ip.as_deref(), self.accept_language.as_deref())?;
        if let Some(locale) = self.locale {
            ctx.locale = locale.into();
        }
        ctx.user_agent.clone_from(&self.user_agent);
        Ok(ctx)
    }
}

/// One way a PIN can be sent.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MethodOption {
    /// The method id to pass to `send_pin`.
    pub id: String,
    /// The channel.
    pub channel: Channel,
    /// The masked destination.
    pub masked: String,
    /// Whether `send_pin` needs the full address or number as `confirm`.
    pub needs_confirmation: bool,
}

/// The answer to `begin_reset`. Its string form (`Debug`, Kotlin `toString`, Python
/// `str`/`repr`) hides the flow id, a credential: read it from `flow_id`.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct ResetChallenge {
    /// The flow id for the next steps.
    pub flow_id: String,
    /// The methods offered.
    pub methods: Vec<MethodOption>,
    /// When the flow expires.
    pub expires_at: SystemTime,
}

/// The answer to `send_pin`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PinSent {
    /// When the PIN expires.
    pub expires_at: SystemTime,
    /// When a new PIN may be requested at the earliest.
    pub resend_after: SystemTime,
    /// Wrong PINs allowed before this one is void.
    pub attempts_left: u32,
}

/// The answer to `request_contact_proof`: give `proof_id` and the code the user typed to
/// `confirm_contact_proof`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ContactProof {
    /// Names the pending proof (not a secret: the code is).
    pub proof_id: String,
    /// Where the code went.
    pub channel: Channel,
    /// The destination, masked.
    pub masked: String,
    /// When the code stops working.
    pub expires_at: SystemTime,
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

impl From<sspr_core::ContactProof> for ContactProof {
    fn from(p: sspr_core::ContactProof) -> Self {
        Self { proof_id: p.proof_id, channel: p.channel.into(), masked: p.masked, expires_at: p.expires_at.into() }
    }
}

/// The answer to `admin_recovery`: the code to read out to the user once. Its string form
/// (`Debug`, Kotlin `toString`, Python `str`/`repr`) hides the code.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct RecoveryCode {
    /// The code.
    pub code: String,
    /// When it stops working.
    pub expires_at: SystemTime,
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCode").field("code", &"[REDACTED]").field("expires_at", &self.expires_at).finish()
    }
}

impl From<sspr_core::RecoveryCode> for RecoveryCode {
    fn from(r: sspr_core::RecoveryCode) -> Self {
        Self { code: r.code.expose_secret().to_owned(), expires_at: r.expires_at.into() }
    }
}

/// The answer to `admin_send_recovery_code`: where the code went (never the code).
#[derive(Debug, Clone, uniffi::Record)]
pub struct RecoverySent {
    /// The channel the code went by.
    pub channel: Channel,
    /// The destination, masked.
    pub masked: String,
    /// When the code stops working.
    pub expires_at: SystemTime,
}

impl From<sspr_core::RecoverySent> for RecoverySent {
    fn from(s: sspr_core::RecoverySent) -> Self {
        Self { channel: s.channel.into(), masked: s.masked, expires_at: s.expires_at.into() }
    }
}

/// The answer to `redeem_recovery_code`: a reset flow at the verified step. Its string form
/// (`Debug`, Kotlin `toString`, Python `str`/`repr`) hides the flow id (a credential).
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Recovered {
    /// The verified flow: give it to `complete_reset`.
    pub flow_id: String,
    /// The completion modes allowed, the default first.
    pub modes: Vec<CompletionMode>,
    /// When the flow expires.
    pub expires_at: SystemTime,
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

impl From<sspr_core::Recovered> for Recovered {
    fn from(r: sspr_core::Recovered) -> Self {
        Self {
            flow_id: r.flow_id,
            modes: r.modes.into_iter().map(Into::into).collect(),
            expires_at: r.expires_at.into(),
        }
    }
}

named_enum! {
    /// How a verified reset is completed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
    pub enum CompletionMode for sspr_core::CompletionMode, else Temporary {
        /// A temporary password, to be changed at next sign-in.
        Temporary,
        /// The password the user chose.
        Chosen,
        /// Only unlock the account.
        UnlockOnly,
    }
}

/// The answer to `verify_pin`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Verified {
    /// The completion modes allowed, the default first (empty while methods remain).
    pub modes: Vec<CompletionMode>,
    /// Method ids whose PIN must still be verified.
    pub remaining_methods: Vec<String>,
}

/// How to complete a verified reset. Its string form (`Debug`, Kotlin `toString`, Python
/// `str`/`repr`) hides a chosen password.
#[derive(Clone, uniffi::Enum)]
#[uniffi::export(Debug, Display)]
pub enum NewPassword {
    /// Generate a temporary password (returned once).
    Temporary,
    /// Set the password the user chose.
    Chosen {
        /// The password.
        password: String,
    },
    /// Only unlock the account.
    UnlockOnly,
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Temporary => f.write_str("Temporary"),
            Self::Chosen { .. } => f.debug_struct("Chosen").field("password", &"[REDACTED]").finish(),
            Self::UnlockOnly => f.write_str("UnlockOnly"),
        }
    }
}

display_as_debug!(ResetChallenge, RecoveryCode, Recovered, NewPassword, ResetOutcome, Notification);

/// The answer to `complete_reset`. Its string form (`Debug`, Kotlin `toString`, Python
/// `str`/`repr`) hides the temporary password.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct ResetOutcome {
    /// The temporary password to show once (mode `Temporary`).
    pub temporary_password: Option<String>,
    /// Whether the user must change the password at next sign-in.
    pub must_change: bool,
    /// Whether a lockout was cleared.
    pub unlocked: bool,
}

impl fmt::Debug for ResetOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetOutcome")
            .field("temporary_password", &self.temporary_password.as_ref().map(|_| "[REDACTED]"))
            .field("must_change", &self.must_change)
            .field("unlocked", &self.unlocked)
            .finish()
    }
}

/// Who performs an administrative or registration operation.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum Actor {
    /// An administrator the portal has authenticated.
    Admin {
        /// Their id, for the audit trail.
        id: String,
    },
    /// The signed-in user themself.
    User,
}

impl TryFrom<Actor> for sspr_core::Actor {
    type Error = sspr_core::Error;

    /// By the core's rule (`Actor::from_admin_id`): an administrator needs a non-empty id.
    fn try_from(a: Actor) -> Result<Self, sspr_core::Error> {
        match a {
            Actor::Admin { id } => Self::from_admin_id(Some(&id)),
            Actor::User => Self::from_admin_id(None),
        }
    }
}

/// A change to one contact detail.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum ContactChange {
    /// Leave it.
    Keep,
    /// Set it (validated).
    Set {
        /// The address or number.
        value: String,
    },
    /// Remove it.
    Clear,
}

impl From<ContactChange> for sspr_core::ContactChange {
    fn from(c: ContactChange) -> Self {
        match c {
            ContactChange::Keep => Self::Keep,
            ContactChange::Set { value } => Self::Set(value),
            ContactChange::Clear => Self::Clear,
        }
    }
}

/// Changes to a user's contact details.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ContactUpdate {
    /// The alternate e-mail address.
    pub email: ContactChange,
    /// The mobile number.
    pub phone: ContactChange,
}

/// A registered contact detail.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ContactView {
    /// The full address or number.
    pub value: String,
    /// The masked form.
    pub masked: String,
    /// From when PINs may go to it.
    pub usable_from: SystemTime,
}

/// A user's contact details.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Contacts {
    /// The alternate e-mail address.
    pub email: Option<ContactView>,
    /// The mobile number.
    pub phone: Option<ContactView>,
    /// Ask the user whether these are still right (`confirm_contacts` confirms them).
    pub confirm_due: bool,
}

impl From<sspr_core::Contacts> for Contacts {
    fn from(c: sspr_core::Contacts) -> Self {
        let view = |v: sspr_core::ContactView| ContactView {
            value: v.value,
            masked: v.masked,
            usable_from: v.usable_from.into(),
        };
        Self { email: c.email.map(view), phone: c.phone.map(view), confirm_due: c.confirm_due }
    }
}

/// Which users `enrollment_report` and `send_registration_reminders` cover: inside one of
/// `ous` (if any) and in one of `groups` (if any).
#[derive(Debug, Clone, uniffi::Record)]
pub struct EnrollmentFilter {
    /// OUs (DNs).
    #[uniffi(default = [])]
    pub ous: Vec<String>,
    /// Groups (DN or common name).
    #[uniffi(default = [])]
    pub groups: Vec<String>,
    /// Contacts older than this many days are stale (default: the policy's).
    #[uniffi(default = None)]
    pub stale_after_days: Option<u32>,
}

impl From<EnrollmentFilter> for sspr_core::EnrollmentFilter {
    fn from(f: EnrollmentFilter) -> Self {
        Self { ous: f.ous, groups: f.groups, stale_after_days: f.stale_after_days }
    }
}

/// One user's line of an `EnrollmentReport` (contacts masked).
#[derive(Debug, Clone, uniffi::Record)]
pub struct EnrollmentEntry {
    /// The directory's id of the user.
    pub user_id: String,
    /// The login.
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// SSPR is enabled for the user.
    pub enabled: bool,
    /// Inside the policy's eligible OUs / groups.
    pub eligible: bool,
    /// A member of a privileged group (never reminded).
    pub privileged: bool,
    /// The directory account is disabled or expired.
    pub account_disabled: bool,
    /// The alternate e-mail, masked.
    pub email_masked: Option<String>,
    /// The mobile number, masked.
    pub phone_masked: Option<String>,
    /// The directory has a mailbox for the user.
    pub has_directory_mail: bool,
    /// When the contacts were last confirmed or changed.
    pub contacts_confirmed_at: Option<SystemTime>,
    /// When the password was last reset through sspr.
    pub last_reset_at: Option<SystemTime>,
    /// Until when self-service reset is blocked.
    pub blocked_until: Option<SystemTime>,
    /// Enabled without a contact.
    pub without_contacts: bool,
    /// Contacts older than the report's stale age.
    pub stale: bool,
    /// Registered, never reset through sspr.
    pub never_used: bool,
    /// Blocked now.
    pub blocked: bool,
}

/// The counts of an `EnrollmentReport`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EnrollmentCounts {
    /// Users covered.
    pub users: u64,
    /// Enabled.
    pub enabled: u64,
    /// Enabled with a contact.
    pub registered: u64,
    /// Enabled without a contact.
    pub without_contacts: u64,
    /// With stale contacts.
    pub stale: u64,
    /// Registered and never used.
    pub never_used: u64,
    /// Blocked now.
    pub blocked: u64,
    /// Privileged.
    pub privileged: u64,
    /// Without a directory mailbox.
    pub without_mail: u64,
}

/// Who has registered for self-service reset.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EnrollmentReport {
    /// When the report was made.
    pub generated_at: SystemTime,
    /// The age in days from which contacts are stale.
    pub stale_after_days: u32,
    /// The counts.
    pub counts: EnrollmentCounts,
    /// One entry per covered user, sorted by login.
    pub users: Vec<EnrollmentEntry>,
    /// The directory listing was cut short.
    pub truncated: bool,
}

impl From<sspr_core::EnrollmentReport> for EnrollmentReport {
    fn from(r: sspr_core::EnrollmentReport) -> Self {
        let c = r.counts;
        Self {
            generated_at: r.generated_at.into(),
            stale_after_days: r.stale_after_days,
            counts: EnrollmentCounts {
                users: c.users,
                enabled: c.enabled,
                registered: c.registered,
                without_contacts: c.without_contacts,
                stale: c.stale,
                never_used: c.never_used,
                blocked: c.blocked,
                privileged: c.privileged,
                without_mail: c.without_mail,
            },
            users: r
                .users
                .into_iter()
                .map(|e| EnrollmentEntry {
                    user_id: e.user_id.as_str().to_owned(),
                    login: e.login,
                    display_name: e.display_name,
                    enabled: e.enabled,
                    eligible: e.eligible,
                    privileged: e.privileged,
                    account_disabled: e.account_disabled,
                    email_masked: e.email_masked,
                    phone_masked: e.phone_masked,
                    has_directory_mail: e.has_directory_mail,
                    contacts_confirmed_at: e.contacts_confirmed_at.map(Into::into),
                    last_reset_at: e.last_reset_at.map(Into::into),
                    blocked_until: e.blocked_until.map(Into::into),
                    without_contacts: e.without_contacts,
                    stale: e.stale,
                    never_used: e.never_used,
                    blocked: e.blocked,
                })
                .collect(),
            truncated: r.truncated,
        }
    }
}

/// What one `send_registration_reminders` run did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReminderRun {
    /// Logins reminded, sorted.
    pub reminded: Vec<String>,
    /// Reminded within the interval already.
    pub already_reminded: u64,
    /// Without a directory mailbox.
    pub without_mail: u64,
    /// Privileged: never reminded.
    pub skipped_privileged: u64,
    /// Cannot register (account disabled, not eligible).
    pub skipped_ineligible: u64,
    /// Refused by the notifier (retried next run).
    pub failed: u64,
}

impl From<sspr_core::ReminderRun> for ReminderRun {
    fn from(r: sspr_core::ReminderRun) -> Self {
        Self {
            reminded: r.reminded,
            already_reminded: r.already_reminded,
            without_mail: r.without_mail,
            skipped_privileged: r.skipped_privileged,
            skipped_ineligible: r.skipped_ineligible,
            failed: r.failed,
        }
    }
}

/// One user's SSPR state.
#[derive(Debug, Clone, uniffi::Record)]
pub struct UserStatus {
    /// The directory's id.
    pub user_id: String,
    /// The login.
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// SSPR enabled.
    pub enabled: bool,
    /// Inside the eligible OUs / groups.
    pub eligible: bool,
    /// A member of a privileged group.
    pub privileged: bool,
    /// The account is disabled or expired.
    pub account_disabled: bool,
    /// The account is locked out.
    pub account_locked: bool,
    /// The masked e-mail address.
    pub email_masked: Option<String>,
    /// The masked phone number.
    pub phone_masked: Option<String>,
    /// Until when self-service reset is blocked.
    pub blocked_until: Option<SystemTime>,
    /// When the password was last reset through sspr.
    pub last_reset_at: Option<SystemTime>,
}

impl From<sspr_core::UserStatus> for UserStatus {
    fn from(s: sspr_core::UserStatus) -> Self {
        Self {
            user_id: s.user_id.as_str().to_owned(),
            login: s.login,
            display_name: s.display_name,
            enabled: s.enabled,
            eligible: s.eligible,
            privileged: s.privileged,
            account_disabled: s.account_disabled,
            account_locked: s.account_locked,
            email_masked: s.email_masked,
            phone_masked: s.phone_masked,
            blocked_until: s.blocked_until.map(Into::into),
            last_reset_at: s.last_reset_at.map(Into::into),
        }
    }
}

/// The rules a new password must meet (the answer to `password_rules`); `None`: the
/// directory does not say.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PasswordRules {
    /// The fewest characters.
    pub min_length: Option<u32>,
    /// How many previous passwords may not be used again.
    pub history_length: Option<u32>,
    /// Whether the password must mix character classes.
    pub complexity: Option<bool>,
    /// Seconds a password must be kept before the user may change it again.
    pub min_age_secs: Option<u64>,
}

impl From<sspr_core::PasswordRules> for PasswordRules {
    fn from(r: sspr_core::PasswordRules) -> Self {
        Self {
            min_length: r.min_length,
            history_length: r.history_length,
            complexity: r.complexity,
            min_age_secs: r.min_age_secs,
        }
    }
}

/// The answer to `sign_in`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SignedIn {
    /// The directory's id.
    pub user_id: String,
    /// The login as stored (use it for the user's later calls).
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// The password is temporary and must be changed first.
    pub must_change: bool,
}

/// A user as the directory knows them (what `Directory.find_user` returns).
#[derive(Debug, Clone, uniffi::Record)]
pub struct DirectoryUser {
    /// The stable id passed back to `set_password`, `unlock`, `authenticate`.
    pub id: String,
    /// The login as stored.
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// The distinguished name.
    pub dn: String,
    /// Every group, nested memberships resolved.
    #[uniffi(default = [])]
    pub groups: Vec<String>,
    /// The account is disabled.
    #[uniffi(default = false)]
    pub disabled: bool,
    /// The account has expired.
    #[uniffi(default = false)]
    pub expired: bool,
    /// The account is locked out.
    #[uniffi(default = false)]
    pub locked: bool,
    /// The user's mailbox in the directory, where registration reminders go.
    #[uniffi(default = None)]
    pub mail: Option<String>,
}

impl TryFrom<DirectoryUser> for sspr_core::backend::DirectoryUser {
    type Error = sspr_core::BackendError;

    /// A `mail` that is not an e-mail address is a `rejected` backend error naming it.
    fn try_from(u: DirectoryUser) -> Result<Self, Self::Error> {
        let mail = sspr_bind::returned_directory_mail(u.mail.as_deref())?;
        Ok(Self {
            id: sspr_core::UserId::new(u.id),
            login: u.login,
            display_name: u.display_name,
            dn: u.dn,
            groups: u.groups,
            state: AccountState { disabled: u.disabled, expired: u.expired, locked: u.locked },
            mail,
        })
    }
}

named_enum! {
    /// What the directory said to a user's password.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
    pub enum Authentication for sspr_core::Authentication, else Rejected {
        /// Right.
        Accepted,
        /// Right, but it must be changed first.
        MustChange,
        /// Wrong, or the account may not sign in.
        Rejected,
    }
}

/// A stored contact detail of an enrollment.
#[derive(Debug, Clone, uniffi::Record)]
pub struct StoredContact {
    /// The address or number, exactly as saved.
    pub value: String,
    /// When it was registered.
    pub added_at: SystemTime,
    /// From when PINs may go to it.
    pub usable_from: SystemTime,
}

/// A user's enrollment, as a `ContactStore` keeps it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Enrollment {
    /// SSPR enabled by an admin.
    pub enabled: bool,
    /// The alternate e-mail address.
    pub email: Option<StoredContact>,
    /// The mobile number.
    pub phone: Option<StoredContact>,
    /// When the password was last reset through sspr.
    pub last_reset_at: Option<SystemTime>,
    /// What sspr remembers of past contacts (first registration, recently removed contacts),
    /// as opaque JSON text: keep it and give it back unchanged. Without it, a user who clears
    /// every contact could register a new one without the cooling-off.
    #[uniffi(default)]
    pub history: Option<String>,
    /// The store's version of the record (set by the store).
    pub version: u64,
}

impl From<&sspr_core::backend::Enrollment> for Enrollment {
    fn from(e: &sspr_core::backend::Enrollment) -> Self {
        let parts = EnrollmentParts::from(e);
        let contact = |c: ContactParts| StoredContact {
            value: c.value,
            added_at: c.added_at.into(),
            usable_from: c.usable_from.into(),
        };
        Self {
            enabled: parts.enabled,
            email: parts.email.map(contact),
            phone: parts.phone.map(contact),
            last_reset_at: parts.last_reset_at.map(Into::into),
            history: parts.history,
            version: parts.version,
        }
    }
}

impl Enrollment {
    /// The core's enrollment, checked by the shared rule (`EnrollmentParts::validate`): a
    /// part that does not hold is a `Rejected` backend error naming the part.
    pub(crate) fn validate(self) -> Result<sspr_core::backend::Enrollment, BackendError> {
        let time = |t: SystemTime, part: &'static str| {
            sspr_bind::time_from_system(t, part).map_err(|e| {
                BackendError::new(
                    sspr_core::BackendErrorKind::Rejected,
                    format!("the contact store returned an invalid enrollment: {e}"),
                )
            })
        };
        let contact = |c: StoredContact, part: &'static str| {
            Ok::<_, BackendError>(ContactParts {
                value: c.value,
                added_at: time(c.added_at, part)?,
                usable_from: time(c.usable_from, part)?,
            })
        };
        EnrollmentParts {
            enabled: self.enabled,
            email: self.email.map(|c| contact(c, "email")).transpose()?,
            phone: self.phone.map(|c| contact(c, "phone")).transpose()?,
            last_reset_at: self.last_reset_at.map(|t| time(t, "last_reset_at")).transpose()?,
            history: self.history,
            version: self.version,
        }
        .validate()
    }
}

named_enum! {
    /// What an [`crate::bindings::EventHook`] can subscribe to (each named as the core names it:
    /// `"reset_completed"`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
    pub enum HookEvent {
        /// A reset was completed: the password set, or the account unlocked.
        ResetCompleted,
        /// A user was blocked after too many failed verifications.
        UserBlocked,
        /// A user's contact details were changed.
        ContactsChanged,
        /// A privileged account's reset or recovery was refused (the caller got a decoy).
        PrivilegedAttemptRefused,
        /// A PIN, a proof or recovery code, or a reminder could not be delivered.
        DeliveryFailed,
        /// Failed verifications across all users reached the policy's alarm threshold.
        FailureAlarm,
    }
}

named_enum! {
    /// Which notice a notification is (each named as the core names it: `"password_changed"`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
    pub enum MessageKind {
        /// A one-time reset PIN (`Notification.pin` holds it).
        Pin,
        /// The code proving a contact the user is adding (`Notification.pin` holds it).
        ContactProof,
        /// A reset was requested; a PIN went to another contact.
        ResetRequested,
        /// The password was reset or the account unlocked.
        PasswordReset,
        /// The contact details were changed.
        ContactsChanged,
        /// A reminder to register (or confirm) contacts, sent to the directory mailbox.
        RegistrationReminder,
        /// A helpdesk recovery code sent to the user's contact (`Notification.pin` holds it).
        RecoveryCode,
        /// The password was changed with the current one (`change_password`).
        PasswordChanged,
        /// A helpdesk recovery code was issued for the account (to its contacts).
        HelpdeskRecovery,
        /// A security notice to the policy's `admin_alert_addresses`.
        AdminAlert,
        /// A notice this version does not name (subject and body are still set).
        Other,
    }
}

/// One notice to deliver. Its string form (`Debug`, Kotlin `toString`, Python `str`/`repr`)
/// shows only the recipient and the kind: never the PIN, nor the body holding it.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Notification {
    /// E-mail or SMS.
    pub channel: Channel,
    /// The address or E.164 number.
    pub to: String,
    /// The language.
    pub locale: Locale,
    /// Which notice.
    pub kind: MessageKind,
    /// The PIN for a PIN notice. Never log it.
    pub pin: Option<String>,
    /// When the PIN expires (PIN notices).
    pub pin_expires_at: Option<SystemTime>,
    /// The standard subject.
    pub subject: String,
    /// The standard text (holds the PIN for a PIN notice).
    pub body: String,
    /// When the notice was issued.
    pub at: SystemTime,
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification").field("to", &self.to).field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl From<&sspr_core::notice::Notification> for Notification {
    fn from(n: &sspr_core::notice::Notification) -> Self {
        let rendered = n.render();
        let kind = <MessageKind as Named>::from_core_name(n.message.kind()).unwrap_or(MessageKind::Other);
        let pin_expires_at = match &n.message {
            Message::Pin { expires_at, .. } => Some((*expires_at).into()),
            _ => None,
        };
        Self {
            channel: n.to.channel().into(),
            to: n.to.as_str().to_owned(),
            locale: n.locale.into(),
            kind,
            pin: n.pin().map(|p| p.expose_secret().to_owned()),
            pin_expires_at,
            subject: rendered.subject.clone(),
            body: rendered.body.as_str().to_owned(),
            at: n.at.into(),
        }
    }
}

impl From<sspr_core::ResetChallenge> for ResetChallenge {
    fn from(c: sspr_core::ResetChallenge) -> Self {
        let method = |m: sspr_core::MethodOption| MethodOption {
            id: m.id,
            channel: m.channel.into(),
            masked: m.masked,
            needs_confirmation: m.needs_confirmation,
        };
        Self {
            flow_id: c.flow_id,
            methods: c.methods.into_iter().map(method).collect(),
            expires_at: c.expires_at.into(),
        }
    }
}

impl From<sspr_core::PinSent> for PinSent {
    fn from(s: sspr_core::PinSent) -> Self {
        Self { expires_at: s.expires_at.into(), resend_after: s.resend_after.into(), attempts_left: s.attempts_left }
    }
}

impl From<sspr_core::Verified> for Verified {
    fn from(v: sspr_core::Verified) -> Self {
        Self { modes: v.modes.into_iter().map(Into::into).collect(), remaining_methods: v.remaining_methods }
    }
}

impl From<NewPassword> for sspr_core::NewPassword {
    fn from(p: NewPassword) -> Self {
        match p {
            NewPassword::Temporary => Self::Temporary,
            NewPassword::Chosen { password } => Self::Chosen(sspr_core::Password::new(password)),
            NewPassword::UnlockOnly => Self::UnlockOnly,
        }
    }
}

impl From<sspr_core::ResetOutcome> for ResetOutcome {
    fn from(o: sspr_core::ResetOutcome) -> Self {
        Self {
            temporary_password: o.temporary_password.as_ref().map(|p| p.expose_secret().to_owned()),
            must_change: o.must_change,
            unlocked: o.unlocked,
        }
    }
}

impl From<ContactUpdate> for sspr_core::ContactUpdate {
    fn from(u: ContactUpdate) -> Self {
        Self { email: u.email.into(), phone: u.phone.into() }
    }
}

impl From<sspr_core::SignedIn> for SignedIn {
    fn from(s: sspr_core::SignedIn) -> Self {
        Self {
            user_id: s.user_id.as_str().to_owned(),
            login: s.login,
            display_name: s.display_name,
            must_change: s.must_change,
        }
    }
}

impl From<Authentication> for sspr_core::Authentication {
    fn from(a: Authentication) -> Self {
        match a {
            Authentication::Accepted => Self::Accepted,
            Authentication::MustChange => Self::MustChange,
            Authentication::Rejected => Self::Rejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    /// Every notice the core sends has its uniffi kind (else a host would see `OTHER`).
    #[test]
    fn every_notice_kind_has_a_value() {
        for name in Message::KINDS {
            let kind = <MessageKind as Named>::from_core_name(name);
            assert!(kind.is_some_and(|k| k != MessageKind::Other), "no MessageKind for the notice {name}");
        }
    }

    /// Every record or enum holding a secret prints it neither in `Debug` nor in `Display`
    /// (the Kotlin `toString` and Python `str`/`repr` of the generated bindings), while the
    /// field still holds it.
    #[test]
    fn string_forms_hold_no_secret() {
        fn hides<T: fmt::Debug + fmt::Display>(value: &T, secret: &str) {
            for shown in [format!("{value:?}"), format!("{value:#?}"), format!("{value}")] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
        let flow = "d8ddfa6974eedf6b3784290c606b04fd";
        let challenge = ResetChallenge {
            flow_id: flow.into(),
            methods: vec![MethodOption {
                id: "email".into(),
                channel: Channel::Email,
                masked: "j***@e***.net".into(),
                needs_confirmation: false,
            }],
            expires_at: UNIX_EPOCH,
        };
        hides(&challenge, flow);
        assert_eq!(challenge.flow_id, flow);
        assert!(format!("{challenge}").contains("j***@e***.net"), "what is not secret still shows");
        let outcome =
            ResetOutcome { temporary_password: Some("Sup3r-S3cret!xyz".into()), must_change: true, unlocked: false };
        hides(&outcome, "S3cret");
        assert_eq!(outcome.temporary_password.as_deref(), Some("Sup3r-S3cret!xyz"));
        let code = RecoveryCode { code: "4815162342".into(), expires_at: UNIX_EPOCH };
        hides(&code, "4815162342");
        let recovered =
            Recovered { flow_id: flow.into(), modes: vec![CompletionMode::Temporary], expires_at: UNIX_EPOCH };
        hides(&recovered, "d8ddfa69");
        let chosen = NewPassword::Chosen { password: "Correct-Horse-9".into() };
        hides(&chosen, "Correct-Horse");
        assert!(matches!(&chosen, NewPassword::Chosen { password } if password == "Correct-Horse-9"));
        assert_eq!(format!("{}", NewPassword::UnlockOnly), "UnlockOnly");
        let notification = Notification {
            channel: Channel::Email,
            to: "jane@example.net".into(),
            locale: Locale::En,
            kind: MessageKind::Pin,
            pin: Some("31415926".into()),
            pin_expires_at: None,
            subject: "Your password reset code".into(),
            body: "Your code is 31415926.".into(),
            at: UNIX_EPOCH,
        };
        hides(&notification, "31415926");
    }
}
