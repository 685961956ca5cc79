//! The values that cross between JavaScript and sspr-core: plain objects with camelCase
//! fields and `Date`s on the JavaScript side, sspr-core's types on the Rust side.

use chrono::{DateTime, Utc};
use napi::ValueType;
use napi::bindgen_prelude::{JsObjectValue, Object, Unknown};
use napi_derive::napi;
use sspr_core::backend::{AccountState, ContactHistory, DirectoryUser, Enrollment, StoredContact};
use sspr_core::notice::{Message, Notification};
use sspr_core::{
    Actor, CompletionMode, ContactChange, ContactUpdate, ContactView, Contacts, EmailAddress, Locale, MethodOption,
    PhoneNumber, PinSent, RequestContext, ResetChallenge, SignedIn, UserId, UserStatus, Verified,
};
use time::OffsetDateTime;

use crate::error::invalid;

/// A time for JavaScript (a `Date`, millisecond precision).
pub(crate) fn to_chrono(at: OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond()).unwrap_or_default()
}

/// A time from JavaScript.
pub(crate) fn from_chrono(at: DateTime<Utc>, field: &'static str) -> sspr_core::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(at.timestamp())
        .ok()
        .and_then(|t| t.replace_nanosecond(at.timestamp_subsec_nanos()).ok())
        .ok_or_else(|| invalid(field, "a date out of range"))
}

/// Who calls: the client's address, user agent and language.
#[napi(object, object_to_js = false, js_name = "RequestContext")]
pub struct RequestContextInput {
    /// The client's IP address (IPv4 or IPv6), as the portal sees it after trusted proxies.
    pub client_ip: Option<String>,
    /// The client's user agent, for the audit trail.
    pub user_agent: Option<String>,
    /// `en`, `de`, or an HTTP `Accept-Language` header to pick from.
    pub locale: Option<String>,
}

/// The core's request context from JavaScript's (absent: no address, English).
pub(crate) fn context(input: Option<RequestContextInput>) -> sspr_core::Result<RequestContext> {
    let Some(input) = input else { return Ok(RequestContext::default()) };
    let client_ip = match input.client_ip {
        Some(ip) => Some(ip.trim().parse().map_err(|_| invalid("clientIp", "not an IP address"))?),
        None => None,
    };
    let locale = input.locale.as_deref().map(Locale::from_accept_language).unwrap_or_default();
    Ok(RequestContext { client_ip, user_agent: input.user_agent, locale })
}

/// One way a PIN can be sent.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "MethodOption")]
pub struct MethodOptionJs {
    /// The id to pass to `sendPin` (`email` or `sms`).
    pub id: String,
    /// The channel.
    #[napi(ts_type = "'email' | 'sms'")]
    pub channel: String,
    /// The destination, masked.
    pub masked: String,
    /// Whether the caller must type the full address before a PIN is sent.
    pub needs_confirmation: bool,
}

impl From<MethodOption> for MethodOptionJs {
    fn from(m: MethodOption) -> Self {
        Self {
            channel: m.channel.method_id().to_owned(),
            id: m.id,
            masked: m.masked,
            needs_confirmation: m.needs_confirmation,
        }
    }
}

/// The answer to `beginReset`: the same shape for every login, real or not.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "ResetChallenge")]
pub struct ResetChallengeJs {
    /// The flow's id, for the next calls.
    pub flow_id: String,
    /// The methods a PIN can be sent by.
    pub methods: Vec<MethodOptionJs>,
    /// When the whole flow expires.
    pub expires_at: DateTime<Utc>,
}

impl From<ResetChallenge> for ResetChallengeJs {
    fn from(c: ResetChallenge) -> Self {
        Self {
            flow_id: c.flow_id,
            methods: c.methods.into_iter().map(Into::into).collect(),
            expires_at: to_chrono(c.expires_at),
        }
    }
}

/// The answer to `sendPin`.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "PinSent")]
pub struct PinSentJs {
    /// When the PIN expires.
    pub expires_at: DateTime<Utc>,
    /// When a new PIN may be requested at the earliest.
    pub resend_after: DateTime<Utc>,
    /// Wrong PINs allowed before this one is void.
    pub attempts_left: u32,
}

impl From<PinSent> for PinSentJs {
    fn from(p: PinSent) -> Self {
        Self {
            expires_at: to_chrono(p.expires_at),
            resend_after: to_chrono(p.resend_after),
            attempts_left: p.attempts_left,
        }
    }
}

/// The name of a completion mode.
pub(crate) fn mode_name(mode: CompletionMode) -> &'static str {
    match mode {
        CompletionMode::Temporary => "temporary",
        CompletionMode::Chosen => "chosen",
        CompletionMode::UnlockOnly => "unlock_only",
    }
}

/// The answer to `verifyPin`.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "Verified")]
pub struct VerifiedJs {
    /// The completion modes the policy allows, the default first.
    #[napi(ts_type = "Array<'temporary' | 'chosen' | 'unlock_only'>")]
    pub modes: Vec<String>,
    /// Method ids whose PIN must still be verified (a privileged user with two methods).
    pub remaining_methods: Vec<String>,
}

impl From<Verified> for VerifiedJs {
    fn from(v: Verified) -> Self {
        Self {
            modes: v.modes.into_iter().map(|m| mode_name(m).to_owned()).collect(),
            remaining_methods: v.remaining_methods,
        }
    }
}

/// How to complete a verified reset.
#[napi(object, object_to_js = false, js_name = "NewPassword")]
pub struct NewPasswordInput {
    /// `temporary` (the default), `chosen` or `unlock_only`.
    #[napi(ts_type = "'temporary' | 'chosen' | 'unlock_only'")]
    pub mode: Option<String>,
    /// The new password, with `mode: 'chosen'`.
    pub password: Option<String>,
}

/// The core's completion from JavaScript's.
pub(crate) fn new_password(input: Option<NewPasswordInput>) -> sspr_core::Result<sspr_core::NewPassword> {
    let (mode, password) = match input {
        Some(NewPasswordInput { mode, password }) => (mode, password),
        None => (None, None),
    };
    match (mode.as_deref().unwrap_or("temporary"), password) {
        ("temporary", None) => Ok(sspr_core::NewPassword::Temporary),
        ("unlock_only", None) => Ok(sspr_core::NewPassword::UnlockOnly),
        ("chosen", Some(password)) => Ok(sspr_core::NewPassword::Chosen(sspr_core::Password::new(password))),
        ("chosen", None) => Err(invalid("password", "mode 'chosen' needs a password")),
        ("temporary" | "unlock_only", Some(_)) => Err(invalid("password", "only mode 'chosen' takes a password")),
        _ => Err(invalid("mode", "not one of 'temporary', 'chosen', 'unlock_only'")),
    }
}

/// Who performs an administrative operation.
#[napi(object, object_to_js = false, js_name = "Actor")]
pub struct ActorInput {
    /// `admin` or `user`.
    #[napi(js_name = "type", ts_type = "'admin' | 'user'")]
    pub kind: String,
    /// The admin's id (with `type: 'admin'`).
    pub id: Option<String>,
}

/// The core's actor from JavaScript's.
pub(crate) fn actor(input: ActorInput) -> sspr_core::Result<Actor> {
    match (input.kind.as_str(), input.id) {
        ("admin", Some(id)) if !id.trim().is_empty() => Ok(Actor::Admin(id)),
        ("admin", _) => Err(invalid("actor", "an admin needs a non-empty id")),
        ("user", None) => Ok(Actor::User),
        _ => Err(invalid("actor", "expected { type: 'admin', id } or { type: 'user' }")),
    }
}

/// One change: `undefined` keeps, `null` clears, a string sets.
fn change(update: &Object<'_>, name: &'static str) -> sspr_core::Result<ContactChange> {
    let value: Unknown<'_> = update.get_named_property(name).map_err(|_| invalid(name, "could not be read"))?;
    match value.get_type().map_err(|_| invalid(name, "could not be read"))? {
        ValueType::Undefined => Ok(ContactChange::Keep),
        ValueType::Null => Ok(ContactChange::Clear),
        ValueType::String => {
            let text: String = update.get_named_property(name).map_err(|_| invalid(name, "could not be read"))?;
            Ok(ContactChange::Set(text))
        }
        _ => Err(invalid(name, "expected a string, null (clear) or undefined (keep)")),
    }
}

/// The core's contact update from `{ email?: string | null, phone?: string | null }`.
pub(crate) fn contact_update(update: &Object<'_>) -> sspr_core::Result<ContactUpdate> {
    Ok(ContactUpdate { email: change(update, "email")?, phone: change(update, "phone")? })
}

/// A registered contact detail.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "ContactView")]
pub struct ContactViewJs {
    /// The full address or number.
    pub value: String,
    /// The masked form anonymous callers see.
    pub masked: String,
    /// From when PINs may be sent to it.
    pub usable_from: DateTime<Utc>,
}

/// A user's contact details.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "Contacts")]
pub struct ContactsJs {
    /// The alternate e-mail address.
    pub email: Option<ContactViewJs>,
    /// The mobile phone number.
    pub phone: Option<ContactViewJs>,
}

fn view(v: ContactView) -> ContactViewJs {
    ContactViewJs { value: v.value, masked: v.masked, usable_from: to_chrono(v.usable_from) }
}

impl From<Contacts> for ContactsJs {
    fn from(c: Contacts) -> Self {
        Self { email: c.email.map(view), phone: c.phone.map(view) }
    }
}

/// Everything an admin needs to know about one user's SSPR state.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "UserStatus")]
pub struct UserStatusJs {
    /// The directory's id of the user.
    pub user_id: String,
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
    /// The e-mail address, masked.
    pub email_masked: Option<String>,
    /// The phone number, masked.
    pub phone_masked: Option<String>,
    /// Until when self-service reset is blocked, if it is.
    pub blocked_until: Option<DateTime<Utc>>,
    /// When the password was last reset through sspr.
    pub last_reset_at: Option<DateTime<Utc>>,
}

impl From<UserStatus> for UserStatusJs {
    fn from(s: UserStatus) -> Self {
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
            blocked_until: s.blocked_until.map(to_chrono),
            last_reset_at: s.last_reset_at.map(to_chrono),
        }
    }
}

/// The state of a directory account.
#[napi(object, js_name = "AccountState")]
#[derive(Clone, Copy, Default)]
pub struct AccountStateJs {
    /// The account is disabled.
    pub disabled: Option<bool>,
    /// The account has expired.
    pub expired: Option<bool>,
    /// The account is locked out.
    pub locked: Option<bool>,
}

impl From<AccountStateJs> for AccountState {
    fn from(s: AccountStateJs) -> Self {
        AccountState {
            disabled: s.disabled.unwrap_or(false),
            expired: s.expired.unwrap_or(false),
            locked: s.locked.unwrap_or(false),
        }
    }
}

impl From<AccountState> for AccountStateJs {
    fn from(s: AccountState) -> Self {
        Self { disabled: Some(s.disabled), expired: Some(s.expired), locked: Some(s.locked) }
    }
}

/// A user as a directory knows them (what a JavaScript `Directory` returns).
#[napi(object, js_name = "DirectoryUser")]
pub struct DirectoryUserJs {
    /// The stable identifier passed back to `setPassword` and `unlock` (a DN, a GUID...).
    pub id: String,
    /// The login (UPN) as stored.
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// The distinguished name, for OU eligibility.
    pub dn: String,
    /// Every group the user belongs to, nested memberships resolved.
    pub groups: Option<Vec<String>>,
    /// Disabled, expired, locked (all false when absent).
    pub state: Option<AccountStateJs>,
}

impl From<DirectoryUserJs> for DirectoryUser {
    fn from(u: DirectoryUserJs) -> Self {
        DirectoryUser {
            id: UserId::new(u.id),
            login: u.login,
            display_name: u.display_name,
            dn: u.dn,
            groups: u.groups.unwrap_or_default(),
            state: u.state.unwrap_or_default().into(),
        }
    }
}

impl From<DirectoryUser> for DirectoryUserJs {
    fn from(u: DirectoryUser) -> Self {
        Self {
            id: u.id.as_str().to_owned(),
            login: u.login,
            display_name: u.display_name,
            dn: u.dn,
            groups: Some(u.groups),
            state: Some(u.state.into()),
        }
    }
}

/// A stored contact detail (in an enrollment).
#[napi(object, js_name = "StoredContact")]
pub struct StoredContactJs {
    /// The address or number.
    pub value: String,
    /// When it was registered.
    pub added_at: DateTime<Utc>,
    /// From when PINs may be sent to it.
    pub usable_from: DateTime<Utc>,
}

/// A user's SSPR registration, as a JavaScript `ContactStore` keeps it.
#[napi(object, js_name = "Enrollment")]
pub struct EnrollmentJs {
    /// SSPR enabled by an admin.
    pub enabled: bool,
    /// The alternate e-mail address.
    pub email: Option<StoredContactJs>,
    /// The mobile number.
    pub phone: Option<StoredContactJs>,
    /// When the password was last reset through sspr.
    pub last_reset_at: Option<DateTime<Utc>>,
    /// What sspr remembers of past contacts (first registration, recently removed contacts),
    /// as opaque JSON text: keep it and give it back unchanged. Without it, a user who clears
    /// every contact could register a new one without the cooling-off.
    pub history: Option<String>,
    /// The store's version of this record (0: not stored yet).
    pub version: i64,
}

fn stored_to_js<T>(c: &StoredContact<T>, text: impl Fn(&T) -> &str) -> StoredContactJs {
    StoredContactJs {
        value: text(&c.value).to_owned(),
        added_at: to_chrono(c.added_at),
        usable_from: to_chrono(c.usable_from),
    }
}

impl From<&Enrollment> for EnrollmentJs {
    fn from(e: &Enrollment) -> Self {
        Self {
            enabled: e.enabled,
            email: e.email.as_ref().map(|c| stored_to_js(c, EmailAddress::as_str)),
            phone: e.phone.as_ref().map(|c| stored_to_js(c, PhoneNumber::as_str)),
            last_reset_at: e.last_reset_at.map(to_chrono),
            history: e.history.to_json().ok(),
            version: i64::try_from(e.version).unwrap_or(i64::MAX),
        }
    }
}

fn stored_from_js<T>(
    c: StoredContactJs,
    parse: impl Fn(&str) -> sspr_core::Result<T>,
) -> sspr_core::Result<StoredContact<T>> {
    Ok(StoredContact {
        value: parse(&c.value)?,
        added_at: from_chrono(c.added_at, "addedAt")?,
        usable_from: from_chrono(c.usable_from, "usableFrom")?,
    })
}

impl TryFrom<EnrollmentJs> for Enrollment {
    type Error = sspr_core::Error;
    fn try_from(e: EnrollmentJs) -> sspr_core::Result<Self> {
        Ok(Enrollment {
            enabled: e.enabled,
            email: e.email.map(|c| stored_from_js(c, EmailAddress::parse)).transpose()?,
            phone: e.phone.map(|c| stored_from_js(c, PhoneNumber::parse)).transpose()?,
            last_reset_at: e.last_reset_at.map(|t| from_chrono(t, "lastResetAt")).transpose()?,
            history: ContactHistory::from_json(e.history.as_deref().unwrap_or_default())
                .map_err(|err| invalid("history", err.message()))?,
            version: u64::try_from(e.version).map_err(|_| invalid("version", "a negative version"))?,
        })
    }
}

/// A notice for a JavaScript `Notifier` to deliver: where, what, and the standard text.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "Notification")]
pub struct NotificationJs {
    /// `email` or `sms`.
    #[napi(ts_type = "'email' | 'sms'")]
    pub channel: String,
    /// The full address or number.
    pub to: String,
    /// `en` or `de`.
    pub locale: String,
    /// `pin`, `reset_requested`, `password_reset` or `contacts_changed`.
    #[napi(ts_type = "'pin' | 'reset_requested' | 'password_reset' | 'contacts_changed'")]
    pub kind: String,
    /// The e-mail subject (SMS ignore it).
    pub subject: String,
    /// The plain-text body; for a PIN it holds the PIN.
    pub body: String,
    /// The PIN, for a PIN notice (deliver it, never log it).
    pub pin: Option<String>,
    /// When the PIN expires, for a PIN notice.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the notice was issued.
    pub at: DateTime<Utc>,
}

impl From<&Notification> for NotificationJs {
    fn from(n: &Notification) -> Self {
        let rendered = n.render();
        let (kind, pin, expires_at) = match &n.message {
            Message::Pin { pin, expires_at, .. } => {
                ("pin", Some(pin.expose_secret().to_owned()), Some(to_chrono(*expires_at)))
            }
            Message::ResetRequested { .. } => ("reset_requested", None, None),
            Message::PasswordReset { .. } => ("password_reset", None, None),
            Message::ContactsChanged { .. } => ("contacts_changed", None, None),
            _ => ("other", None, None),
        };
        Self {
            channel: n.to.channel().method_id().to_owned(),
            to: n.to.as_str().to_owned(),
            locale: match n.locale {
                Locale::De => "de".to_owned(),
                _ => "en".to_owned(),
            },
            kind: kind.to_owned(),
            subject: rendered.subject.clone(),
            body: rendered.body.as_str().to_owned(),
            pin,
            expires_at,
            at: to_chrono(n.at),
        }
    }
}

/// The answer to `signIn`.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "SignedIn")]
pub struct SignedInJs {
    /// The directory's id of the user.
    pub user_id: String,
    /// The login as the directory stores it (use it for the user's later calls).
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// The password is a temporary one the directory wants changed first.
    pub must_change: bool,
}

impl From<SignedIn> for SignedInJs {
    fn from(s: SignedIn) -> Self {
        Self {
            user_id: s.user_id.as_str().to_owned(),
            login: s.login,
            display_name: s.display_name,
            must_change: s.must_change,
        }
    }
}
