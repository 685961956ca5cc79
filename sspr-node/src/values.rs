//! The values that cross between JavaScript and sspr-core: plain objects with camelCase
//! fields and `Date`s on the JavaScript side, sspr-core's types on the Rust side.

use chrono::{DateTime, Utc};
use napi::ValueType;
use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, JsValue, Object, Uint8Array, Unknown, ValidateNapiValue};
use napi_derive::napi;
use sspr_bind::{ContactParts, EnrollmentParts};
use sspr_core::backend::{AccountState, DirectoryUser, Enrollment};
use sspr_core::notice::{Message, Notification};
use sspr_core::{
    Actor, CompletionMode, ContactChange, ContactUpdate, ContactView, Contacts, Locale, MethodOption, PinSent,
    RequestContext, ResetChallenge, SignedIn, UserId, UserStatus, Verified,
};
use time::OffsetDateTime;

/// `InvalidInput` for a JavaScript value this binding cannot convert (a wrong type), named
/// like the core's own.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> sspr_core::Error {
    sspr_core::Error::InvalidInput { field, reason: reason.into() }
}

/// A JavaScript number as a count: a whole number from 0 to 2^32 - 1, else `INVALID_INPUT`
/// naming `field` (never wrapped or cut as napi's `u32` would: -1, 1.5, NaN, 2^32 + 30; R.21).
pub(crate) fn whole_number(number: f64, field: &'static str) -> sspr_core::Result<u32> {
    if number.is_finite() && number.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&number) {
        // Whole and in range: the conversion is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(number as u32)
    } else {
        Err(invalid(field, "expected a whole number from 0 to 4294967295"))
    }
}

/// A time for JavaScript (a `Date`, millisecond precision).
pub(crate) fn to_chrono(at: OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond()).unwrap_or_default()
}

/// A time from JavaScript.
pub(crate) fn from_chrono(at: DateTime<Utc>, field: &'static str) -> sspr_core::Result<OffsetDateTime> {
    sspr_bind::time_from_unix(at.timestamp(), at.timestamp_subsec_nanos(), field)
}

/// Who calls: the client's address, user agent and language.
#[napi(object, object_to_js = false, js_name = "RequestContext")]
pub struct RequestContextInput {
    /// The client's IP address (IPv4 or IPv6), as the portal sees it after trusted proxies.
    pub client_ip: Option<String>,
    /// The client's user agent, for the audit trail.
    pub user_agent: Option<String>,
    /// The language the caller chose: a language tag (`en`, `de`, `de-CH`); one sspr does not
    /// speak (`pl`) is `INVALID_INPUT`. Wins over `acceptLanguage`.
    pub locale: Option<String>,
    /// The HTTP `Accept-Language` header: the best supported language in it, English when it
    /// names none (never an error).
    pub accept_language: Option<String>,
    /// The bot challenge widget's token (`cf-turnstile-response`, `h-captcha-response`,
    /// `g-recaptcha-response`), for `beginReset` when the engine has a `botChallenge`; never
    /// logged. Longer than 4096 bytes or with a space is `INVALID_INPUT` (`challenge_token`).
    pub challenge_token: Option<String>,
    /// The W3C Trace Context `traceparent` of the host's current span (from the host's own
    /// OpenTelemetry context, not a client's header): with `exportTraces` the engine call's
    /// span becomes its child. A malformed one is ignored (never an error).
    pub traceparent: Option<String>,
}

/// The host's span the engine call is the child of: the context's `traceparent`, when it
/// is a valid one (sspr-bind's strict rule).
pub(crate) fn trace_parent(input: &Option<RequestContextInput>) -> Option<sspr_bind::traces::TraceParent> {
    input.as_ref()?.traceparent.as_deref().and_then(sspr_bind::traces::TraceParent::parse)
}

/// An options object the host passed: `undefined`/`null` (none) or an object whose keys are all
/// among `known`. Anything else is `INVALID_INPUT` naming `field`, never read as absent: a value
/// given in its place (`req.ip` for the context) or under another name (`client_ip`) would
/// otherwise be dropped without a word.
pub(crate) fn options_object<'a>(
    value: Option<Unknown<'a>>,
    field: &'static str,
    known: &[&str],
) -> sspr_core::Result<Option<Object<'a>>> {
    let unreadable = || invalid(field, "could not be read");
    let Some(value) = value else { return Ok(None) };
    match value.get_type().map_err(|_| unreadable())? {
        ValueType::Undefined | ValueType::Null => return Ok(None),
        ValueType::Object => {}
        _ => return Err(invalid(field, format!("expected an object with {}", known.join(", ")))),
    }
    let object = value.coerce_to_object().map_err(|_| unreadable())?;
    let keys = Object::keys(&object).map_err(|_| unreadable())?;
    if let Some(unknown) = keys.iter().find(|k| !known.contains(&k.as_str())) {
        // The host's own key (never a user's value), cut short.
        let name: String = unknown.chars().take(40).collect();
        return Err(invalid(field, format!("unknown field `{name}` (expected {})", known.join(", "))));
    }
    Ok(Some(object))
}

/// Field `name` of an options object, or `INVALID_INPUT` naming it (its value never quoted).
fn read<T: FromNapiValue + ValidateNapiValue>(
    object: &Object<'_>,
    name: &'static str,
    expected: &str,
) -> sspr_core::Result<Option<T>> {
    object.get_named_property::<Option<T>>(name).map_err(|_| invalid(name, format!("expected {expected}")))
}

/// A request context: `undefined`/`null` or an object of its fields only (`INVALID_INPUT`
/// `ctx` otherwise: the address given as the context itself or under another name would be
/// dropped, and with it every per-client limit and block).
pub(crate) fn context_input(value: Option<Unknown<'_>>) -> sspr_core::Result<Option<RequestContextInput>> {
    const FIELDS: [&str; 6] = ["clientIp", "userAgent", "locale", "acceptLanguage", "challengeToken", "traceparent"];
    let Some(object) = options_object(value, "ctx", &FIELDS)? else { return Ok(None) };
    let text = |name| read::<String>(&object, name, "a string");
    Ok(Some(RequestContextInput {
        client_ip: text("clientIp")?,
        user_agent: text("userAgent")?,
        locale: text("locale")?,
        accept_language: text("acceptLanguage")?,
        challenge_token: text("challengeToken")?,
        traceparent: text("traceparent")?,
    }))
}

/// The core's request context from JavaScript's (absent: no address, English), by the
/// shared rules of `RequestContext::from_parts` and `Locale`'s `FromStr`.
pub(crate) fn context(input: Option<RequestContextInput>) -> sspr_core::Result<RequestContext> {
    let Some(input) = input else { return Ok(RequestContext::default()) };
    let mut ctx = RequestContext::from_parts(input.client_ip.as_deref(), input.accept_language.as_deref())?;
    ctx.user_agent = input.user_agent;
    if let Some(locale) = input.locale {
        ctx.locale = locale.parse::<Locale>()?;
    }
    ctx.challenge_token = sspr_core::ChallengeToken::parse(input.challenge_token.as_deref().unwrap_or_default())?;
    Ok(ctx)
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
            channel: m.channel.as_str().to_owned(),
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

/// The answer to `challengeWidget`: what a page needs to show the engine's bot challenge
/// widget. Public values only, never the provider's secret.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "ChallengeWidget")]
pub struct ChallengeWidgetJs {
    /// `turnstile`, `hcaptcha` or `recaptcha`.
    pub provider: String,
    /// The public site key (`data-sitekey`).
    pub site_key: String,
    /// The widget's script (`<script src=... async defer>`).
    pub script_url: String,
    /// The class of the element the script turns into the widget.
    pub widget_class: String,
    /// The form field the widget puts its token in (`cf-turnstile-response`...).
    pub response_field: String,
    /// `true`: every begin needs a token, so the start page shows the widget; `false`
    /// (`after_begins`): only once a begin was refused with `CHALLENGE` `required`.
    pub always: bool,
    /// The `cspBase` given to `challengeWidget`, with exactly the sources the widget needs
    /// added: the policy of the page that shows it.
    pub csp: String,
}

impl ChallengeWidgetJs {
    pub(crate) fn new(widget: sspr_core::ChallengeWidget, csp_base: &str) -> Self {
        let csp = widget.csp(csp_base);
        Self {
            provider: widget.provider,
            site_key: widget.site_key,
            script_url: widget.script_url,
            widget_class: widget.widget_class,
            response_field: widget.response_field,
            always: widget.always,
            csp,
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

/// The answer to `requestContactProof`: give `proofId` and the code the user typed to
/// `confirmContactProof`.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "ContactProof")]
pub struct ContactProofJs {
    /// Names the pending proof (not a secret: the code is).
    pub proof_id: String,
    /// `"email"` or `"sms"`: where the code went.
    pub channel: String,
    /// The destination, masked.
    pub masked: String,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
}

impl From<sspr_core::ContactProof> for ContactProofJs {
    fn from(p: sspr_core::ContactProof) -> Self {
        Self {
            proof_id: p.proof_id,
            channel: p.channel.as_str().to_owned(),
            masked: p.masked,
            expires_at: to_chrono(p.expires_at),
        }
    }
}

/// The answer to `adminSendRecoveryCode`: where the code went (never the code).
#[napi(object, object_from_js = false, use_nullable = true, js_name = "RecoverySent")]
pub struct RecoverySentJs {
    /// `"email"` or `"sms"`.
    #[napi(ts_type = "'email' | 'sms'")]
    pub channel: String,
    /// The destination, masked.
    pub masked: String,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
}

impl From<sspr_core::RecoverySent> for RecoverySentJs {
    fn from(s: sspr_core::RecoverySent) -> Self {
        Self { channel: s.channel.as_str().to_owned(), masked: s.masked, expires_at: to_chrono(s.expires_at) }
    }
}

/// The answer to `redeemRecoveryCode`: a reset flow at the verified step.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "Recovered")]
pub struct RecoveredJs {
    /// The verified flow: give it to `completeReset`. A credential.
    pub flow_id: String,
    /// The completion modes the policy allows, the default first.
    #[napi(ts_type = "Array<'temporary' | 'chosen' | 'unlock_only'>")]
    pub modes: Vec<String>,
    /// When the flow expires.
    pub expires_at: DateTime<Utc>,
}

impl From<sspr_core::Recovered> for RecoveredJs {
    fn from(r: sspr_core::Recovered) -> Self {
        Self {
            flow_id: r.flow_id,
            modes: r.modes.into_iter().map(|m| m.as_str().to_owned()).collect(),
            expires_at: to_chrono(r.expires_at),
        }
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
            modes: v.modes.into_iter().map(|m| m.as_str().to_owned()).collect(),
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

/// A completion as the host passed it: `undefined`/`null` (a temporary password) or an object
/// of `mode` and `password` only (`INVALID_INPUT` `newPassword` otherwise).
pub(crate) fn new_password_input(value: Option<Unknown<'_>>) -> sspr_core::Result<Option<NewPasswordInput>> {
    let Some(object) = options_object(value, "newPassword", &["mode", "password"])? else { return Ok(None) };
    Ok(Some(NewPasswordInput {
        mode: read(&object, "mode", "a string")?,
        password: read(&object, "password", "a string")?,
    }))
}

/// The core's completion from JavaScript's.
pub(crate) fn new_password(input: Option<NewPasswordInput>) -> sspr_core::Result<sspr_core::NewPassword> {
    let (mode, password) = match input {
        Some(NewPasswordInput { mode, password }) => (mode, password),
        None => (None, None),
    };
    let mode = match mode {
        Some(name) => name.parse::<CompletionMode>()?,
        None => CompletionMode::Temporary,
    };
    sspr_core::NewPassword::from_mode(mode, password.map(sspr_core::Password::new))
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

/// The core's actor from JavaScript's: an admin's id by `Actor::from_admin_id`.
pub(crate) fn actor(input: ActorInput) -> sspr_core::Result<Actor> {
    match (input.kind.as_str(), input.id) {
        ("admin", id) => Actor::from_admin_id(Some(id.as_deref().unwrap_or_default())),
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

/// The core's contact update from `{ email?: string | null, phone?: string | null }`: any other
/// key, or no object, is `INVALID_INPUT` `update` (a misspelt `mail` would change nothing).
pub(crate) fn contact_update(value: Option<Unknown<'_>>) -> sspr_core::Result<ContactUpdate> {
    let Some(update) = options_object(value, "update", &["email", "phone"])? else {
        return Err(invalid("update", "expected an object with email, phone"));
    };
    Ok(ContactUpdate { email: change(&update, "email")?, phone: change(&update, "phone")? })
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
    /// Ask the user whether these are still right (`confirmContacts` confirms them).
    pub confirm_due: bool,
}

fn view(v: ContactView) -> ContactViewJs {
    ContactViewJs { value: v.value, masked: v.masked, usable_from: to_chrono(v.usable_from) }
}

impl From<Contacts> for ContactsJs {
    fn from(c: Contacts) -> Self {
        Self { email: c.email.map(view), phone: c.phone.map(view), confirm_due: c.confirm_due }
    }
}

/// Which users `enrollmentReport` and `sendRegistrationReminders` cover.
#[napi(object, object_to_js = false, js_name = "EnrollmentFilter")]
pub struct EnrollmentFilterInput {
    /// Only users inside one of these OUs (DNs).
    pub ous: Option<Vec<String>>,
    /// Only members of one of these groups.
    pub groups: Option<Vec<String>>,
    /// Contacts older than this many days are stale (default: the policy's).
    pub stale_after_days: Option<u32>,
}

/// The engine's filter (which checks it); none given covers every user. Any other key is
/// `INVALID_INPUT` `filter`: a misspelt `ou` would cover every user of the directory.
pub(crate) fn enrollment_filter(value: Option<Unknown<'_>>) -> sspr_core::Result<sspr_core::EnrollmentFilter> {
    let filter = options_object(value, "filter", &["ous", "groups", "staleAfterDays"])?;
    let Some(f) = filter else {
        return Ok(sspr_core::EnrollmentFilter { ous: Vec::new(), groups: Vec::new(), stale_after_days: None });
    };
    Ok(sspr_core::EnrollmentFilter {
        ous: read::<Vec<String>>(&f, "ous", "an array of strings")?.unwrap_or_default(),
        groups: read::<Vec<String>>(&f, "groups", "an array of strings")?.unwrap_or_default(),
        stale_after_days: read::<f64>(&f, "staleAfterDays", "a whole number of days")?
            .map(|days| whole_number(days, "staleAfterDays"))
            .transpose()?,
    })
}

/// One user's line of an `EnrollmentReport` (contacts masked).
#[napi(object, object_from_js = false, use_nullable = true, js_name = "EnrollmentEntry")]
pub struct EnrollmentEntryJs {
    /// The directory's id of the user.
    pub user_id: String,
    /// The login.
    pub login: String,
    /// The display name.
    pub display_name: String,
    /// SSPR is enabled for the user (counts: enabled users).
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
    /// The directory has a mailbox for the user (where a reminder goes).
    pub has_directory_mail: bool,
    /// When the contacts were last confirmed or changed.
    pub contacts_confirmed_at: Option<DateTime<Utc>>,
    /// When the password was last reset through sspr.
    pub last_reset_at: Option<DateTime<Utc>>,
    /// Until when self-service reset is blocked, if it is.
    pub blocked_until: Option<DateTime<Utc>>,
    /// Enabled without a contact.
    pub without_contacts: bool,
    /// Contacts older than the report's `staleAfterDays`.
    pub stale: bool,
    /// Registered, never reset through sspr.
    pub never_used: bool,
    /// Self-service reset is blocked now.
    pub blocked: bool,
}

/// The counts of an `EnrollmentReport`.
#[napi(object, object_from_js = false, js_name = "EnrollmentCounts")]
pub struct EnrollmentCountsJs {
    /// Users covered (the report: each one's entry).
    pub users: u32,
    /// SSPR is enabled for the user (counts: enabled users).
    pub enabled: u32,
    /// Enabled with at least one contact.
    pub registered: u32,
    /// Enabled without a contact.
    pub without_contacts: u32,
    /// Contacts older than the report's `staleAfterDays`.
    pub stale: u32,
    /// Registered, never reset through sspr.
    pub never_used: u32,
    /// Self-service reset is blocked now.
    pub blocked: u32,
    /// A member of a privileged group (counted, never reminded).
    pub privileged: u32,
    /// Without a directory mailbox.
    pub without_mail: u32,
}

/// Who has registered for self-service reset.
#[napi(object, object_from_js = false, js_name = "EnrollmentReport")]
pub struct EnrollmentReportJs {
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// The age in days from which contacts are stale.
    pub stale_after_days: u32,
    /// The counts.
    pub counts: EnrollmentCountsJs,
    /// Users covered (the report: each one's entry).
    pub users: Vec<EnrollmentEntryJs>,
    /// The directory listing was cut at the most a report reads.
    pub truncated: bool,
}

/// A count as JS has it (a report never holds 4 billion users; saturates if it did).
fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<sspr_core::EnrollmentReport> for EnrollmentReportJs {
    fn from(r: sspr_core::EnrollmentReport) -> Self {
        let c = r.counts;
        Self {
            generated_at: to_chrono(r.generated_at),
            stale_after_days: r.stale_after_days,
            counts: EnrollmentCountsJs {
                users: count(c.users),
                enabled: count(c.enabled),
                registered: count(c.registered),
                without_contacts: count(c.without_contacts),
                stale: count(c.stale),
                never_used: count(c.never_used),
                blocked: count(c.blocked),
                privileged: count(c.privileged),
                without_mail: count(c.without_mail),
            },
            users: r
                .users
                .into_iter()
                .map(|e| EnrollmentEntryJs {
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
                    contacts_confirmed_at: e.contacts_confirmed_at.map(to_chrono),
                    last_reset_at: e.last_reset_at.map(to_chrono),
                    blocked_until: e.blocked_until.map(to_chrono),
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

/// What one `sendRegistrationReminders` run did.
#[napi(object, object_from_js = false, js_name = "ReminderRun")]
pub struct ReminderRunJs {
    /// Logins reminded, sorted.
    pub reminded: Vec<String>,
    /// Users reminded within `reminder_interval_days` already.
    pub already_reminded: u32,
    /// Without a directory mailbox.
    pub without_mail: u32,
    /// Privileged users: never reminded.
    pub skipped_privileged: u32,
    /// Users who cannot register (account disabled, not eligible).
    pub skipped_ineligible: u32,
    /// Reminders the notifier refused (retried next run).
    pub failed: u32,
}

impl From<sspr_core::ReminderRun> for ReminderRunJs {
    fn from(r: sspr_core::ReminderRun) -> Self {
        Self {
            reminded: r.reminded,
            already_reminded: count(r.already_reminded),
            without_mail: count(r.without_mail),
            skipped_privileged: count(r.skipped_privileged),
            skipped_ineligible: count(r.skipped_ineligible),
            failed: count(r.failed),
        }
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
    /// The user's mailbox in the directory, where registration reminders go.
    pub mail: Option<String>,
}

impl TryFrom<DirectoryUserJs> for DirectoryUser {
    type Error = sspr_core::BackendError;

    /// A `mail` that is not an e-mail address is a `rejected` backend error naming it.
    fn try_from(u: DirectoryUserJs) -> std::result::Result<Self, Self::Error> {
        let mail = sspr_bind::returned_directory_mail(u.mail.as_deref())?;
        Ok(DirectoryUser {
            id: UserId::new(u.id),
            login: u.login,
            display_name: u.display_name,
            dn: u.dn,
            groups: u.groups.unwrap_or_default(),
            state: u.state.unwrap_or_default().into(),
            mail,
        })
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
            mail: u.mail.map(|m| m.as_str().to_owned()),
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

fn contact_to_js(c: ContactParts) -> StoredContactJs {
    StoredContactJs { value: c.value, added_at: to_chrono(c.added_at), usable_from: to_chrono(c.usable_from) }
}

impl From<&Enrollment> for EnrollmentJs {
    fn from(e: &Enrollment) -> Self {
        let parts = EnrollmentParts::from(e);
        Self {
            enabled: parts.enabled,
            email: parts.email.map(contact_to_js),
            phone: parts.phone.map(contact_to_js),
            last_reset_at: parts.last_reset_at.map(to_chrono),
            history: parts.history,
            version: i64::try_from(parts.version).unwrap_or(i64::MAX),
        }
    }
}

fn contact_from_js(c: StoredContactJs) -> sspr_core::Result<ContactParts> {
    Ok(ContactParts {
        value: c.value,
        added_at: from_chrono(c.added_at, "addedAt")?,
        usable_from: from_chrono(c.usable_from, "usableFrom")?,
    })
}

impl TryFrom<EnrollmentJs> for EnrollmentParts {
    type Error = sspr_core::Error;

    /// The parts of what a JavaScript store returned, converted only: `validate` (the
    /// shared rules of sspr-bind) decides whether they hold.
    fn try_from(e: EnrollmentJs) -> sspr_core::Result<Self> {
        Ok(EnrollmentParts {
            enabled: e.enabled,
            email: e.email.map(contact_from_js).transpose()?,
            phone: e.phone.map(contact_from_js).transpose()?,
            last_reset_at: e.last_reset_at.map(|t| from_chrono(t, "lastResetAt")).transpose()?,
            history: e.history,
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
    /// `en`, `de`, `fr`, `es`, `it` or `nl`.
    pub locale: String,
    /// The notice's stable name (`Message::kind`): `pin`, `contact_proof`, `recovery_code`,
    /// `reset_requested`, `password_reset`, `contacts_changed`, `password_changed`,
    /// `registration_reminder`, `helpdesk_recovery` or `admin_alert`.
    #[napi(
        ts_type = "'pin' | 'contact_proof' | 'recovery_code' | 'reset_requested' | 'password_reset' | 'contacts_changed' | 'password_changed' | 'registration_reminder' | 'helpdesk_recovery' | 'admin_alert'"
    )]
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
        let (pin, expires_at) = match &n.message {
            Message::Pin { pin, expires_at, .. } => {
                (Some(pin.expose_secret().to_owned()), Some(to_chrono(*expires_at)))
            }
            _ => (None, None),
        };
        Self {
            channel: n.to.channel().as_str().to_owned(),
            to: n.to.as_str().to_owned(),
            locale: n.locale.as_str().to_owned(),
            kind: n.message.kind().to_owned(),
            subject: rendered.subject.clone(),
            body: rendered.body.as_str().to_owned(),
            pin,
            expires_at,
            at: to_chrono(n.at),
        }
    }
}

/// The rules a new password must meet (the answer to `passwordRules`); `null`: the directory
/// does not say.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "PasswordRules")]
pub struct PasswordRulesJs {
    /// The fewest characters.
    pub min_length: Option<u32>,
    /// How many previous passwords may not be used again.
    pub history_length: Option<u32>,
    /// Whether the password must mix character classes.
    pub complexity: Option<bool>,
    /// Seconds a password must be kept before the user may change it again.
    pub min_age_secs: Option<f64>,
}

impl From<sspr_core::PasswordRules> for PasswordRulesJs {
    fn from(r: sspr_core::PasswordRules) -> Self {
        Self {
            min_length: r.min_length,
            history_length: r.history_length,
            complexity: r.complexity,
            // Seconds fit a double exactly far beyond any password age.
            min_age_secs: r.min_age_secs.map(|s| s as f64),
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

/// A value a JavaScript `StateStore` holds, with its version.
#[napi(object, object_to_js = false, js_name = "StoredValue")]
pub struct StoredValueJs {
    /// The bytes as written by `put`.
    pub value: Uint8Array,
    /// The version `put` returned for them (1 for a new key, one more on each `put`).
    pub version: i64,
}

/// A counter a JavaScript `StateStore` incremented.
#[napi(object, object_to_js = false, js_name = "Counter")]
pub struct CounterJs {
    /// The count after this increment.
    pub count: i64,
    /// When its window ends: the expiry given when the counter was created.
    pub expires_at: DateTime<Utc>,
}
