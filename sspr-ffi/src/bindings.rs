//! The uniffi interface: the engine as an object with async methods, typed records, an error
//! enum mirroring `sspr_core::Error`, and the directory, contact store and notifier as
//! interfaces implemented in Kotlin, Swift, Python or Ruby and awaited by the engine.
//!
//! Times are `SystemTime` (Kotlin `java.time.Instant`, Swift `Date`, Python `datetime`, Ruby
//! `Time`). Secrets cross as plain strings: the host language cannot wipe them, so keep them
//! only as long as you need them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sspr_core::backend::{AccountState, StoredContact as CoreStoredContact};
use sspr_core::notice::Message;
use time::OffsetDateTime;

use crate::shared;
use sspr_bind::runtime::{self, ProcessSpawner, ProcessTimer, RuntimeError};
use sspr_bind::{EngineOptions, Material, PolicyFormat};

// ---------------------------------------------------------------------------------------
// Errors

/// Why the policy refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NotAllowedReason {
    /// A member of a privileged group.
    Privileged,
    /// Outside the eligible OUs / groups.
    Ineligible,
    /// SSPR is not enabled for the user.
    NotEnabled,
    /// The account is disabled.
    AccountDisabled,
    /// The completion mode is switched off.
    ModeDisabled,
    /// Only an administrator may do this.
    AdminOnly,
    /// A reason this version of the bindings does not name.
    Other,
}

/// What kind of failure a backend had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BackendErrorKind {
    /// Unreachable or timed out; retrying later may work.
    Unavailable,
    /// The directory's own policy refused the password.
    PasswordRejected,
    /// The backend refused the request as malformed or unsupported.
    Rejected,
    /// Anything else.
    Other,
}

/// Everything an engine call can fail with (`sspr_core::Error`). Never holds a secret.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SsprError {
    /// Input sspr does not accept; nothing was changed.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument refused.
        field: String,
        /// Why.
        reason: String,
    },
    /// Wrong PIN.
    #[error("wrong PIN, {attempts_left} attempt(s) left")]
    WrongPin {
        /// Tries left for this PIN.
        attempts_left: u32,
    },
    /// The PIN is void after too many wrong tries.
    #[error("too many wrong PINs: this PIN is void, start a new reset")]
    PinVoided,
    /// The flow or its PIN expired (or the flow id is unknown).
    #[error("this reset has expired, start a new one")]
    Expired,
    /// The flow or its PIN was already used.
    #[error("this reset was already used")]
    AlreadyUsed,
    /// The step is not possible now.
    #[error("this step is not possible now: {reason}")]
    InvalidState {
        /// What the flow expected.
        reason: String,
    },
    /// Too many requests.
    #[error("too many requests, retry after {retry_after_secs}s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Self-service reset is blocked for this user.
    #[error("self-service reset is blocked")]
    Blocked {
        /// When the block ends.
        until: SystemTime,
    },
    /// The policy does not permit this.
    #[error("not allowed: {reason:?}")]
    NotAllowed {
        /// Which rule refused.
        reason: NotAllowedReason,
    },
    /// A chosen password was refused.
    #[error("password refused: {reason}")]
    PasswordRejected {
        /// Why (never the password).
        reason: String,
    },
    /// A sign-in failed (unknown login, wrong password, or an account that may not sign in).
    #[error("the login or password is not right")]
    SignInFailed,
    /// An admin or registration call named a user the directory does not have.
    #[error("no such user")]
    UnknownUser,
    /// The engine is configured wrongly.
    #[error("configuration error: {detail}")]
    Config {
        /// What is wrong.
        detail: String,
    },
    /// A backend failed; the call can be retried.
    #[error("backend failure: {detail}")]
    Backend {
        /// The kind of failure.
        kind: BackendErrorKind,
        /// What the backend reported.
        detail: String,
    },
    /// A failure of the library itself: its runtime could not start, or its timer stopped
    /// while the answer was being padded (the answer is withheld, never sent early).
    #[error("{detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
    /// An error this version of the bindings does not name.
    #[error("{detail}")]
    Other {
        /// The engine's message.
        detail: String,
    },
}

impl From<RuntimeError> for SsprError {
    fn from(error: RuntimeError) -> Self {
        Self::Internal { detail: error.to_string() }
    }
}

impl From<sspr_core::Error> for SsprError {
    fn from(error: sspr_core::Error) -> Self {
        use sspr_core::Error as E;
        match error {
            E::InvalidInput { field, reason } => Self::InvalidInput { field: field.into(), reason },
            E::WrongPin { attempts_left } => Self::WrongPin { attempts_left },
            E::PinVoided => Self::PinVoided,
            E::Expired => Self::Expired,
            E::AlreadyUsed => Self::AlreadyUsed,
            E::InvalidState { reason } => Self::InvalidState { reason: reason.into() },
            E::RateLimited { retry_after } => Self::RateLimited { retry_after_secs: retry_after.as_secs() },
            E::Blocked { until } => Self::Blocked { until: until.into() },
            E::NotAllowed { reason } => Self::NotAllowed {
                reason: match reason {
                    sspr_core::NotAllowedReason::Privileged => NotAllowedReason::Privileged,
                    sspr_core::NotAllowedReason::Ineligible => NotAllowedReason::Ineligible,
                    sspr_core::NotAllowedReason::NotEnabled => NotAllowedReason::NotEnabled,
                    sspr_core::NotAllowedReason::AccountDisabled => NotAllowedReason::AccountDisabled,
                    sspr_core::NotAllowedReason::ModeDisabled => NotAllowedReason::ModeDisabled,
                    sspr_core::NotAllowedReason::AdminOnly => NotAllowedReason::AdminOnly,
                    _ => NotAllowedReason::Other,
                },
            },
            E::PasswordRejected { reason } => Self::PasswordRejected { reason },
            E::SignInFailed => Self::SignInFailed,
            E::UnknownUser => Self::UnknownUser,
            E::Config(message) => Self::Config { detail: message },
            E::Backend { source } => Self::Backend {
                kind: match source.kind() {
                    sspr_core::BackendErrorKind::Unavailable => BackendErrorKind::Unavailable,
                    sspr_core::BackendErrorKind::PasswordRejected => BackendErrorKind::PasswordRejected,
                    sspr_core::BackendErrorKind::Rejected => BackendErrorKind::Rejected,
                    _ => BackendErrorKind::Other,
                },
                detail: source.message().to_owned(),
            },
            other => Self::Other { detail: other.to_string() },
        }
    }
}

/// What a foreign backend raises (Kotlin/Swift: throws; Python/Ruby: raises). An exception
/// of another type counts as `Other`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum BackendFailure {
    /// Unreachable or timed out.
    #[error("unavailable: {detail}")]
    Unavailable {
        /// What happened (no secrets).
        detail: String,
    },
    /// The directory's own policy refused the password.
    #[error("password rejected: {detail}")]
    PasswordRejected {
        /// The directory's reason.
        detail: String,
    },
    /// Malformed or unsupported request (a notifier asked for a channel it does not serve).
    #[error("rejected: {detail}")]
    Rejected {
        /// What happened.
        detail: String,
    },
    /// Anything else.
    #[error("{detail}")]
    Other {
        /// What happened.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for BackendFailure {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { detail: e.reason }
    }
}

impl From<BackendFailure> for sspr_core::BackendError {
    fn from(f: BackendFailure) -> Self {
        use sspr_core::BackendErrorKind as K;
        match f {
            BackendFailure::Unavailable { detail } => Self::new(K::Unavailable, detail),
            BackendFailure::PasswordRejected { detail } => Self::new(K::PasswordRejected, detail),
            BackendFailure::Rejected { detail } => Self::new(K::Rejected, detail),
            BackendFailure::Other { detail } => Self::new(K::Other, detail),
        }
    }
}

fn invalid(field: &'static str, reason: &str) -> SsprError {
    SsprError::InvalidInput { field: field.into(), reason: reason.into() }
}

fn to_time(t: SystemTime, field: &'static str) -> Result<OffsetDateTime, SsprError> {
    let nanos = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).ok(),
        Err(e) => i128::try_from(e.duration().as_nanos()).ok().map(|n| -n),
    };
    nanos
        .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
        .ok_or_else(|| invalid(field, "not a representable time"))
}

// ---------------------------------------------------------------------------------------
// Records and enums

/// How a PIN or notice reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Channel {
    /// The alternate e-mail address.
    Email,
    /// A text message.
    Sms,
}

impl From<sspr_core::Channel> for Channel {
    fn from(c: sspr_core::Channel) -> Self {
        match c {
            sspr_core::Channel::Email => Self::Email,
            sspr_core::Channel::Sms => Self::Sms,
        }
    }
}

/// The language of notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum Locale {
    /// English.
    #[default]
    En,
    /// German.
    De,
}

/// Who calls: the client's address, user agent and language.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct RequestContext {
    /// The client's IP address as text, if known.
    #[uniffi(default = None)]
    pub client_ip: Option<String>,
    /// The client's user agent.
    #[uniffi(default = None)]
    pub user_agent: Option<String>,
    /// The language for notices.
    pub locale: Locale,
}

impl RequestContext {
    fn to_core(&self) -> Result<sspr_core::RequestContext, SsprError> {
        let mut ctx = sspr_core::RequestContext::default();
        if let Some(ip) = &self.client_ip {
            ctx.client_ip = Some(ip.trim().parse().map_err(|_| invalid("client_ip", "not an IP address"))?);
        }
        ctx.user_agent.clone_from(&self.user_agent);
        ctx.locale = match self.locale {
            Locale::En => sspr_core::Locale::En,
            Locale::De => sspr_core::Locale::De,
        };
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

/// The answer to `begin_reset`.
#[derive(Debug, Clone, uniffi::Record)]
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

/// How a verified reset is completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CompletionMode {
    /// A temporary password, to be changed at next sign-in.
    Temporary,
    /// The password the user chose.
    Chosen,
    /// Only unlock the account.
    UnlockOnly,
}

impl From<sspr_core::CompletionMode> for CompletionMode {
    fn from(m: sspr_core::CompletionMode) -> Self {
        match m {
            sspr_core::CompletionMode::Temporary => Self::Temporary,
            sspr_core::CompletionMode::Chosen => Self::Chosen,
            sspr_core::CompletionMode::UnlockOnly => Self::UnlockOnly,
        }
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

/// How to complete a verified reset.
#[derive(Debug, Clone, uniffi::Enum)]
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

/// The answer to `complete_reset`.
#[derive(Clone, uniffi::Record)]
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

impl From<Actor> for sspr_core::Actor {
    fn from(a: Actor) -> Self {
        match a {
            Actor::Admin { id } => Self::Admin(id),
            Actor::User => Self::User,
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
}

impl From<sspr_core::Contacts> for Contacts {
    fn from(c: sspr_core::Contacts) -> Self {
        let view = |v: sspr_core::ContactView| ContactView {
            value: v.value,
            masked: v.masked,
            usable_from: v.usable_from.into(),
        };
        Self { email: c.email.map(view), phone: c.phone.map(view) }
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
}

impl From<DirectoryUser> for sspr_core::backend::DirectoryUser {
    fn from(u: DirectoryUser) -> Self {
        Self {
            id: sspr_core::UserId::new(u.id),
            login: u.login,
            display_name: u.display_name,
            dn: u.dn,
            groups: u.groups,
            state: AccountState { disabled: u.disabled, expired: u.expired, locked: u.locked },
        }
    }
}

/// What the directory said to a user's password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Authentication {
    /// Right.
    Accepted,
    /// Right, but it must be changed first.
    MustChange,
    /// Wrong, or the account may not sign in.
    Rejected,
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
        Self {
            enabled: e.enabled,
            email: e.email.as_ref().map(|c| StoredContact {
                value: c.value.as_str().to_owned(),
                added_at: c.added_at.into(),
                usable_from: c.usable_from.into(),
            }),
            phone: e.phone.as_ref().map(|c| StoredContact {
                value: c.value.as_str().to_owned(),
                added_at: c.added_at.into(),
                usable_from: c.usable_from.into(),
            }),
            last_reset_at: e.last_reset_at.map(Into::into),
            history: e.history.to_json().ok(),
            version: e.version,
        }
    }
}

fn enrollment_in(e: Enrollment) -> Result<sspr_core::backend::Enrollment, sspr_core::BackendError> {
    let bad = |what: &str, err: &dyn fmt::Display| {
        sspr_core::BackendError::new(
            sspr_core::BackendErrorKind::Rejected,
            format!("the contact store returned an invalid {what}: {err}"),
        )
    };
    let time = |t: SystemTime, what: &'static str| to_time(t, what).map_err(|e| bad(what, &e));
    let email = match e.email {
        Some(c) => Some(CoreStoredContact {
            value: sspr_core::EmailAddress::parse(&c.value).map_err(|err| bad("e-mail address", &err))?,
            added_at: time(c.added_at, "added_at")?,
            usable_from: time(c.usable_from, "usable_from")?,
        }),
        None => None,
    };
    let phone = match e.phone {
        Some(c) => Some(CoreStoredContact {
            value: sspr_core::PhoneNumber::parse(&c.value).map_err(|err| bad("phone number", &err))?,
            added_at: time(c.added_at, "added_at")?,
            usable_from: time(c.usable_from, "usable_from")?,
        }),
        None => None,
    };
    let last_reset_at = e.last_reset_at.map(|t| time(t, "last_reset_at")).transpose()?;
    let history = sspr_core::backend::ContactHistory::from_json(e.history.as_deref().unwrap_or_default())?;
    Ok(sspr_core::backend::Enrollment { enabled: e.enabled, email, phone, last_reset_at, history, version: e.version })
}

/// Which notice a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MessageKind {
    /// A one-time PIN (`Notification.pin` holds it).
    Pin,
    /// A reset was requested; a PIN went to another contact.
    ResetRequested,
    /// The password was reset or the account unlocked.
    PasswordReset,
    /// The contact details were changed.
    ContactsChanged,
    /// A notice this version does not name (subject and body are still set).
    Other,
}

/// One notice to deliver.
#[derive(Clone, uniffi::Record)]
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

// ---------------------------------------------------------------------------------------
// Foreign backends

/// The directory holding the accounts, implemented in the host language. See
/// `sspr_core::Directory` for the contract (escape the login, one user or none, must-change
/// in the same operation, a wrong password is `Rejected` not an error).
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait Directory: Send + Sync {
    /// The one user whose login matches (normalised: trimmed, NFKC, lower-case), or none.
    async fn find_user(&self, login: String) -> Result<Option<DirectoryUser>, BackendFailure>;
    /// Set a new password, with must-change-at-next-sign-in when `must_change`.
    async fn set_password(&self, user_id: String, password: String, must_change: bool) -> Result<(), BackendFailure>;
    /// Clear a lockout (idempotent).
    async fn unlock(&self, user_id: String) -> Result<(), BackendFailure>;
    /// Check the user's own password.
    async fn authenticate(&self, user_id: String, password: String) -> Result<Authentication, BackendFailure>;
    /// Users whose login or display name contains `query`, at most `limit`, sorted by login.
    async fn search(&self, query: String, limit: u32) -> Result<Vec<DirectoryUser>, BackendFailure>;
}

/// Where enrollments are kept, implemented in the host language. `save` is a compare-and-set
/// on `version` (see `sspr_core::ContactStore`).
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait ContactStore: Send + Sync {
    /// The enrollment of `user_id`, if any, with its stored version.
    async fn get(&self, user_id: String) -> Result<Option<Enrollment>, BackendFailure>;
    /// Store `enrollment` as version `expected_version + 1` if the stored version is
    /// `expected_version` (0: none yet); whether it was stored.
    async fn save(
        &self,
        user_id: String,
        enrollment: Enrollment,
        expected_version: u64,
    ) -> Result<bool, BackendFailure>;
}

/// Delivers notices, implemented in the host language. Return once the message is accepted
/// for delivery; raise `BackendFailure.Rejected` for a channel you do not serve.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    /// Deliver one notice.
    async fn send(&self, notification: Notification) -> Result<(), BackendFailure>;
}

/// Receives the audit trail, implemented in the host language (optional: pass it to
/// `Engine`). Called with every event as JSON (one object of sspr's versioned audit schema,
/// never holding a secret), from any thread, possibly concurrently, on the request's path:
/// return quickly. A raised error is reported by the engine; the operation it describes is
/// not undone.
#[uniffi::export(with_foreign)]
pub trait AuditSink: Send + Sync {
    /// Record one event.
    fn record(&self, event_json: String) -> Result<(), BackendFailure>;
}

struct ForeignAudit(Arc<dyn AuditSink>);

#[async_trait::async_trait]
impl sspr_core::AuditSink for ForeignAudit {
    async fn record(&self, event: &sspr_core::AuditEvent) -> Result<(), sspr_core::BackendError> {
        Ok(self.0.record(event.to_json())?)
    }
}

struct ForeignDirectory(Arc<dyn Directory>);
struct ForeignContacts(Arc<dyn ContactStore>);
struct ForeignNotifier(Arc<dyn Notifier>);

macro_rules! opaque_debug {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($t))
            }
        }
    )*};
}
opaque_debug!(ForeignDirectory, ForeignContacts, ForeignNotifier, ForeignAudit);

#[async_trait::async_trait]
impl sspr_core::Directory for ForeignDirectory {
    async fn find_user(
        &self,
        login: &sspr_core::NormalizedLogin,
    ) -> Result<Option<sspr_core::backend::DirectoryUser>, sspr_core::BackendError> {
        Ok(self.0.find_user(login.as_str().to_owned()).await?.map(Into::into))
    }
    async fn set_password(
        &self,
        user: &sspr_core::UserId,
        password: &sspr_core::Password,
        must_change: bool,
    ) -> Result<(), sspr_core::BackendError> {
        let password = password.expose_secret().to_owned();
        Ok(self.0.set_password(user.as_str().to_owned(), password, must_change).await?)
    }
    async fn unlock(&self, user: &sspr_core::UserId) -> Result<(), sspr_core::BackendError> {
        Ok(self.0.unlock(user.as_str().to_owned()).await?)
    }
    async fn authenticate(
        &self,
        user: &sspr_core::UserId,
        password: &sspr_core::Password,
    ) -> Result<sspr_core::Authentication, sspr_core::BackendError> {
        let password = password.expose_secret().to_owned();
        Ok(match self.0.authenticate(user.as_str().to_owned(), password).await? {
            Authentication::Accepted => sspr_core::Authentication::Accepted,
            Authentication::MustChange => sspr_core::Authentication::MustChange,
            Authentication::Rejected => sspr_core::Authentication::Rejected,
        })
    }
    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<sspr_core::backend::DirectoryUser>, sspr_core::BackendError> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        Ok(self.0.search(query.to_owned(), limit).await?.into_iter().map(Into::into).collect())
    }
}

#[async_trait::async_trait]
impl sspr_core::ContactStore for ForeignContacts {
    async fn get(
        &self,
        user: &sspr_core::UserId,
    ) -> Result<Option<sspr_core::backend::Enrollment>, sspr_core::BackendError> {
        self.0.get(user.as_str().to_owned()).await?.map(enrollment_in).transpose()
    }
    async fn save(
        &self,
        user: &sspr_core::UserId,
        enrollment: &sspr_core::backend::Enrollment,
        expected_version: u64,
    ) -> Result<bool, sspr_core::BackendError> {
        Ok(self.0.save(user.as_str().to_owned(), enrollment.into(), expected_version).await?)
    }
}

#[async_trait::async_trait]
impl sspr_core::Notifier for ForeignNotifier {
    async fn send(&self, n: &sspr_core::notice::Notification) -> Result<(), sspr_core::BackendError> {
        let rendered = n.render();
        let (kind, pin_expires_at) = match &n.message {
            Message::Pin { expires_at, .. } => (MessageKind::Pin, Some((*expires_at).into())),
            Message::ResetRequested { .. } => (MessageKind::ResetRequested, None),
            Message::PasswordReset { .. } => (MessageKind::PasswordReset, None),
            Message::ContactsChanged { .. } => (MessageKind::ContactsChanged, None),
            _ => (MessageKind::Other, None),
        };
        let notification = Notification {
            channel: n.to.channel().into(),
            to: n.to.as_str().to_owned(),
            locale: match n.locale {
                sspr_core::Locale::De => Locale::De,
                _ => Locale::En,
            },
            kind,
            pin: n.pin().map(|p| p.expose_secret().to_owned()),
            pin_expires_at,
            subject: rendered.subject.clone(),
            body: rendered.body.as_str().to_owned(),
            at: n.at.into(),
        };
        Ok(self.0.send(notification).await?)
    }
}

// ---------------------------------------------------------------------------------------
// The engine

/// Run an engine call inside the library's runtime, whichever thread the host language polls
/// it from: the network stores and the timer live there (see `runtime`).
async fn run<T>(call: impl std::future::Future<Output = Result<T, SsprError>>) -> Result<T, SsprError> {
    runtime::handle()?.guard(call).await?
}

/// A clock that stands still until moved: for tests and demos (pass it to `Engine`).
#[derive(Debug, uniffi::Object)]
pub struct ManualClock {
    clock: sspr_core::ManualClock,
}

#[uniffi::export]
impl ManualClock {
    /// A clock showing `start`.
    #[uniffi::constructor]
    pub fn new(start: SystemTime) -> Result<Arc<Self>, SsprError> {
        Ok(Arc::new(Self { clock: sspr_core::ManualClock::new(to_time(start, "start")?) }))
    }

    /// Move the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }
}

/// What `Engine` needs besides its backends.
#[derive(Clone, uniffi::Record)]
pub struct EngineConfig {
    /// The server's secret key: 32 to 1024 random bytes, the same on every instance.
    pub secret_key: Vec<u8>,
    /// The policy as JSON (missing fields take their defaults); none for the defaults.
    #[uniffi(default = None)]
    pub policy_json: Option<String>,
    /// 32 bytes seeding the PIN generator (tests only); none seeds it from the OS.
    #[uniffi(default = None)]
    pub rng_seed: Option<Vec<u8>>,
    /// Where flows, rate-limit counters and blocks are kept; none keeps them in this
    /// process's memory. Give every process of a deployment the same store: with one each,
    /// N processes allow N times the PIN guesses.
    #[uniffi(default = None)]
    pub state_store: Option<StateStoreConfig>,
    /// A file every audit event is appended to as one JSON line (created if missing; several
    /// processes may share it).
    #[uniffi(default = None)]
    pub audit_file: Option<String>,
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("policy_json", &self.policy_json)
            .field("audit_file", &self.audit_file)
            .finish_non_exhaustive()
    }
}

/// A built-in state store shared by several processes.
#[derive(Clone, uniffi::Enum)]
pub enum StateStoreConfig {
    /// One SQLite file (processes on one host).
    Sqlite {
        /// The database file; created if missing (its folder must exist).
        path: String,
    },
    /// A Redis server: `redis://[:password@]host:port/db` (`rediss://` for TLS).
    Redis {
        /// The server's URL.
        url: String,
    },
    /// A PostgreSQL database: `postgres://user:password@host:port/db?sslmode=verify-full`.
    Postgres {
        /// The connection URL (libpq's `sslmode` and `sslrootcert` apply).
        url: String,
    },
    /// Any of them with every option of its `sspr-backends` configuration, as JSON:
    /// `{"postgres": {"url": "...", "ca_file": "/etc/ssl/db-ca.pem"}}`.
    Json {
        /// The configuration.
        config: String,
    },
}

impl StateStoreConfig {
    fn to_json(&self) -> String {
        match self {
            Self::Sqlite { path } => serde_json::json!({ "sqlite": { "path": path } }).to_string(),
            Self::Redis { url } => serde_json::json!({ "redis": { "url": url } }).to_string(),
            Self::Postgres { url } => serde_json::json!({ "postgres": { "url": url } }).to_string(),
            Self::Json { config } => config.clone(),
        }
    }
}

// URLs may hold a password.
impl fmt::Debug for StateStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite { .. } => "Sqlite",
            Self::Redis { .. } => "Redis",
            Self::Postgres { .. } => "Postgres",
            Self::Json { .. } => "Json",
        })
    }
}

/// The self-service password reset engine. Share one between all requests.
#[derive(Debug, uniffi::Object)]
pub struct Engine {
    sspr: sspr_core::Sspr,
}

#[uniffi::export]
impl Engine {
    /// Build an engine on the given backends; without a contact store enrollments are kept
    /// in memory, without a clock the system clock is used. Every audit event goes to
    /// `audit` and to `config.audit_file` when given; with neither the engine keeps the
    /// newest 10 000 in memory only. A network state store is connected now (this call
    /// blocks until it answers).
    #[uniffi::constructor(default(contacts = None, clock = None, audit = None))]
    pub fn new(
        config: EngineConfig,
        directory: Arc<dyn Directory>,
        notifier: Arc<dyn Notifier>,
        contacts: Option<Arc<dyn ContactStore>>,
        clock: Option<Arc<ManualClock>>,
        audit: Option<Arc<dyn AuditSink>>,
    ) -> Result<Arc<Self>, SsprError> {
        let mut options = EngineOptions::new(sspr_bind::secret_key(Material::Bytes(&config.secret_key))?);
        if let Some(json) = &config.policy_json {
            options = options.with_policy(sspr_bind::policy(json, PolicyFormat::Json)?);
        }
        if let Some(seed) = &config.rng_seed {
            options = options.with_rng_seed(sspr_bind::rng_seed(Material::Bytes(seed))?);
        }
        if let Some(clock) = clock {
            options = options.with_manual_clock(clock.clock.clone());
        }
        let mut builder = options
            .apply(sspr_core::Sspr::builder(), ProcessTimer, ProcessSpawner)
            .directory(ForeignDirectory(directory))
            .notifier(ForeignNotifier(notifier));
        if let Some(contacts) = contacts {
            builder = builder.contacts(ForeignContacts(contacts));
        }
        let audit = audit.map(|a| Arc::new(ForeignAudit(a)) as Arc<dyn sspr_core::AuditSink>);
        let store = config.state_store.as_ref().map(StateStoreConfig::to_json);
        let builder =
            shared::shared_backends::<SsprError>(builder, audit, config.audit_file.as_deref(), store.as_deref())?;
        Ok(Arc::new(Self { sspr: builder.build()? }))
    }

    /// Start a reset for `login` (unknown logins get an answer of the same shape).
    pub async fn begin_reset(&self, login: String, ctx: RequestContext) -> Result<ResetChallenge, SsprError> {
        run(async move {
            let c = self.sspr.begin_reset(&login, &ctx.to_core()?).await?;
            Ok(ResetChallenge {
                flow_id: c.flow_id,
                methods: c
                    .methods
                    .into_iter()
                    .map(|m| MethodOption {
                        id: m.id,
                        channel: m.channel.into(),
                        masked: m.masked,
                        needs_confirmation: m.needs_confirmation,
                    })
                    .collect(),
                expires_at: c.expires_at.into(),
            })
        })
        .await
    }

    /// Send a PIN by `method_id`; `confirm` is the full address when the method needs it.
    pub async fn send_pin(
        &self,
        flow_id: String,
        method_id: String,
        confirm: Option<String>,
        ctx: RequestContext,
    ) -> Result<PinSent, SsprError> {
        run(async move {
            let s = self.sspr.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx.to_core()?).await?;
            Ok(PinSent {
                expires_at: s.expires_at.into(),
                resend_after: s.resend_after.into(),
                attempts_left: s.attempts_left,
            })
        })
        .await
    }

    /// Check the PIN the user typed.
    pub async fn verify_pin(&self, flow_id: String, pin: String, ctx: RequestContext) -> Result<Verified, SsprError> {
        run(async move {
            let pin = zeroize::Zeroizing::new(pin);
            let v = self.sspr.verify_pin(&flow_id, sspr_core::Pin::new(pin.as_str()), &ctx.to_core()?).await?;
            Ok(Verified {
                modes: v.modes.into_iter().map(Into::into).collect(),
                remaining_methods: v.remaining_methods,
            })
        })
        .await
    }

    /// Finish a verified reset.
    pub async fn complete_reset(
        &self,
        flow_id: String,
        new_password: NewPassword,
        ctx: RequestContext,
    ) -> Result<ResetOutcome, SsprError> {
        run(async move {
            let new_password = match new_password {
                NewPassword::Temporary => sspr_core::NewPassword::Temporary,
                NewPassword::Chosen { password } => sspr_core::NewPassword::Chosen(sspr_core::Password::new(password)),
                NewPassword::UnlockOnly => sspr_core::NewPassword::UnlockOnly,
            };
            let o = self.sspr.complete_reset(&flow_id, new_password, &ctx.to_core()?).await?;
            Ok(ResetOutcome {
                temporary_password: o.temporary_password.as_ref().map(|p| p.expose_secret().to_owned()),
                must_change: o.must_change,
                unlocked: o.unlocked,
            })
        })
        .await
    }

    /// The completion modes the policy allows, the default first.
    pub fn completion_modes(&self) -> Vec<CompletionMode> {
        self.sspr.completion_modes().into_iter().map(Into::into).collect()
    }

    /// Sign a user in with their own password (rate-limited; unknown login and wrong
    /// password both give `SignInFailed`).
    pub async fn sign_in(&self, login: String, password: String, ctx: RequestContext) -> Result<SignedIn, SsprError> {
        run(async move {
            let password = sspr_core::Password::new(password);
            let s = self.sspr.sign_in(&login, &password, &ctx.to_core()?).await?;
            Ok(SignedIn {
                user_id: s.user_id.as_str().to_owned(),
                login: s.login,
                display_name: s.display_name,
                must_change: s.must_change,
            })
        })
        .await
    }

    /// The user's registered contact details in full.
    pub async fn contacts(&self, login: String) -> Result<Contacts, SsprError> {
        run(async move { Ok(self.sspr.contacts(&login).await?.into()) }).await
    }

    /// Change a user's contact details.
    pub async fn update_contacts(
        &self,
        actor: Actor,
        login: String,
        update: ContactUpdate,
        ctx: RequestContext,
    ) -> Result<Contacts, SsprError> {
        run(async move {
            let update = sspr_core::ContactUpdate { email: update.email.into(), phone: update.phone.into() };
            Ok(self.sspr.update_contacts(&actor.into(), &login, update, &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Enable or disable SSPR for a user (admins only).
    pub async fn set_enabled(
        &self,
        actor: Actor,
        login: String,
        enabled: bool,
        ctx: RequestContext,
    ) -> Result<(), SsprError> {
        run(async move { Ok(self.sspr.set_enabled(&actor.into(), &login, enabled, &ctx.to_core()?).await?) }).await
    }

    /// Everything about one user's SSPR state.
    pub async fn status(&self, login: String) -> Result<UserStatus, SsprError> {
        run(async move { Ok(self.sspr.status(&login).await?.into()) }).await
    }

    /// Admin search: users whose login or display name contains `query`, at most `limit`.
    pub async fn search_users(&self, query: String, limit: u32) -> Result<Vec<UserStatus>, SsprError> {
        run(async move {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            Ok(self.sspr.search_users(&query, limit).await?.into_iter().map(Into::into).collect())
        })
        .await
    }

    /// Lift a block and forget the user's failed verifications (admins only).
    pub async fn unblock(&self, actor: Actor, login: String, ctx: RequestContext) -> Result<(), SsprError> {
        run(async move { Ok(self.sspr.unblock(&actor.into(), &login, &ctx.to_core()?).await?) }).await
    }

    /// Wait until every PIN and notice handed to the notifier so far has been delivered (or
    /// its failure audited). `send_pin` answers before the notifier runs; call this before
    /// reading a test outbox and at shutdown, so that no PIN already promised is lost.
    pub async fn flush_deliveries(&self) -> Result<(), SsprError> {
        run(async move {
            self.sspr.flush_deliveries().await;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_strings_hold_no_secret() {
        let outcome =
            ResetOutcome { temporary_password: Some("Sup3r-S3cret!xyz".into()), must_change: true, unlocked: false };
        assert!(!format!("{outcome:?}").contains("S3cret"));
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
        assert!(!format!("{notification:?}").contains("31415926"));
        let config = EngineConfig {
            secret_key: vec![0xAB; 32],
            policy_json: None,
            rng_seed: Some(vec![0xCD; 32]),
            state_store: Some(StateStoreConfig::Redis { url: "redis://:hunter2@localhost".into() }),
            audit_file: None,
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("171") && !shown.contains("205") && !shown.contains("secret_key"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn core_errors_keep_their_details() {
        let e: SsprError = sspr_core::Error::WrongPin { attempts_left: 3 }.into();
        assert!(matches!(e, SsprError::WrongPin { attempts_left: 3 }));
        let e: SsprError = sspr_core::Error::RateLimited { retry_after: Duration::from_secs(42) }.into();
        assert!(matches!(e, SsprError::RateLimited { retry_after_secs: 42 }));
        let backend = sspr_core::BackendError::new(sspr_core::BackendErrorKind::Unavailable, "ldap down");
        let e: SsprError = sspr_core::Error::from(backend).into();
        assert!(
            matches!(&e, SsprError::Backend { kind: BackendErrorKind::Unavailable, detail } if detail == "ldap down")
        );
        let failure: sspr_core::BackendError = BackendFailure::PasswordRejected { detail: "too weak".into() }.into();
        assert_eq!(failure.kind(), sspr_core::BackendErrorKind::PasswordRejected);
        let unexpected: BackendFailure = uniffi::UnexpectedUniFFICallbackError::new("boom").into();
        assert!(matches!(unexpected, BackendFailure::Other { .. }));
    }

    #[test]
    fn times_before_the_epoch_and_out_of_range_are_handled() {
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(to_time(before, "t").map(|t| t.unix_timestamp()).ok(), Some(-86_400));
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert!(matches!(to_time(far, "t"), Err(SsprError::InvalidInput { .. })));
    }
}
