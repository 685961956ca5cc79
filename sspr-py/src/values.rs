//! The values that cross the Python API: results, the secret wrapper, the request context,
//! and the records Python backends receive and return. Each wraps or copies a core type.

use std::str::FromStr;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyString};
use sspr_bind::traces::TraceParent;
use sspr_core::backend::{AccountState, DirectoryUser as CoreUser, Enrollment as CoreEnrollment, StoredContact};
use sspr_core::notice::Notification as CoreNotification;
use sspr_core::{
    CompletionMode, EmailAddress, Locale, NormalizedLogin, Password, PhoneNumber, Pin, RequestContext as CoreContext,
    UserId, UserStatus as CoreStatus,
};
use time::OffsetDateTime;

use crate::errors::{invalid_input, to_py_err};

/// A secret (a temporary password, a PIN, a password handed to a directory): `repr` and
/// `str` never show it; `reveal()` does. It cannot be pickled or copied into JSON by
/// accident.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct Secret {
    pub(crate) value: Password,
}

#[pymethods]
impl Secret {
    /// Wrap a secret string (e.g. the new password a user typed).
    #[new]
    fn new(value: String) -> Self {
        Self { value: Password::new(value) }
    }

    /// The secret itself. Show it once; never log it.
    fn reveal(&self) -> &str {
        self.value.expose_secret()
    }

    fn __repr__(&self) -> &'static str {
        "Secret('********')"
    }

    fn __str__(&self) -> &'static str {
        "********"
    }

    fn __len__(&self) -> usize {
        self.value.expose_secret().chars().count()
    }

    fn __bool__(&self) -> bool {
        !self.value.expose_secret().is_empty()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Secret>().is_ok_and(|o| {
            let (a, b) = (self.value.expose_secret().as_bytes(), o.get().value.expose_secret().as_bytes());
            // Constant time in the length of the shorter one; lengths are not secret here.
            a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        })
    }

    fn __hash__(&self) -> PyResult<isize> {
        Err(PyTypeError::new_err("a Secret is not hashable"))
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err("a Secret cannot be pickled"))
    }
}

impl Secret {
    pub(crate) fn from_password(value: Password) -> Self {
        Self { value }
    }
}

/// A PIN or password argument: `str` or `sspr.Secret`.
pub(crate) enum SecretArg {
    Text(String),
    Secret(Py<Secret>),
}

impl FromPyObject<'_, '_> for SecretArg {
    type Error = PyErr;

    fn extract(ob: pyo3::Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        // Type checks first: a failed extraction would build an exception on the hot path.
        if let Ok(secret) = ob.cast::<Secret>() {
            return Ok(Self::Secret(secret.to_owned().unbind()));
        }
        if let Ok(text) = ob.cast::<PyString>() {
            return Ok(Self::Text(text.to_cow()?.into_owned()));
        }
        Err(PyTypeError::new_err("expected a str or an sspr.Secret"))
    }
}

impl SecretArg {
    /// The argument as a password.
    pub(crate) fn into_password(self) -> Password {
        match self {
            Self::Text(text) => Password::new(text),
            Self::Secret(s) => Password::new(s.get().value.expose_secret()),
        }
    }

    /// The argument as the PIN a user typed.
    pub(crate) fn into_pin(self) -> Pin {
        match self {
            Self::Text(text) => Pin::new(&text),
            Self::Secret(s) => Pin::new(s.get().value.expose_secret()),
        }
    }
}

/// A password argument: a `str` or a `Secret`.
pub(crate) fn password_arg(value: &Bound<'_, PyAny>) -> PyResult<Password> {
    if let Ok(secret) = value.cast::<Secret>() {
        return Ok(Password::new(secret.get().value.expose_secret()));
    }
    match value.extract::<String>() {
        Ok(text) => Ok(Password::new(text)),
        Err(_) => Err(PyTypeError::new_err("a password must be a str or an sspr.Secret")),
    }
}

/// A count argument (`limit`, `stale_after_days`): an `int` from 0 to `T`'s largest value.
/// Another `int` is `InvalidInput` naming `field` (what a form or a command line passed, as
/// every other bad argument), a value that is no `int` a `TypeError`.
pub(crate) fn count_arg<T: TryFrom<u64>>(value: &Bound<'_, PyAny>, field: &'static str) -> PyResult<T> {
    let int = value.cast::<PyInt>().map_err(|_| PyTypeError::new_err(format!("{field} must be an int")))?;
    let wide: u64 = int.extract().map_err(|_| invalid_input(field, "out of range"))?;
    T::try_from(wide).map_err(|_| invalid_input(field, "out of range"))
}

/// Who calls: client IP, user agent and language (`"en"`, `"de"`, `"fr"`, `"es"`, `"it"`,
/// `"nl"`). Used for per-IP limits, the audit trail and the language of notices; and the
/// host's trace (`traceparent`) the engine call's span is the child of.
#[pyclass(frozen, module = "sspr")]
#[derive(Clone, Default)]
pub(crate) struct RequestContext {
    pub(crate) inner: CoreContext,
    /// The host's request span (W3C `traceparent`), when a valid one was given.
    pub(crate) trace_parent: Option<TraceParent>,
}

#[pymethods]
impl RequestContext {
    /// `client_ip` as the portal sees it (after trusted proxies); `locale` is a language tag
    /// (`"en"`, `"de"`, `"fr"`, `"es"`, `"it"`, `"nl"`, or with a region such as `"de-CH"`),
    /// or give `accept_language` (an HTTP `Accept-Language` header) instead. `traceparent`
    /// is the W3C Trace Context header of the host's current span (from the host's own
    /// OpenTelemetry context, not a client's header): with `sspr.export_traces` the engine
    /// call's span becomes its child. A malformed one is ignored (never an error).
    #[new]
    #[pyo3(signature = (client_ip = None, user_agent = None, locale = None, accept_language = None, traceparent = None))]
    fn new(
        client_ip: Option<&str>,
        user_agent: Option<String>,
        locale: Option<&str>,
        accept_language: Option<&str>,
        traceparent: Option<&str>,
    ) -> PyResult<Self> {
        let mut inner = CoreContext::from_parts(client_ip, accept_language).map_err(to_py_err)?;
        if let Some(locale) = locale {
            inner.locale = Locale::from_str(locale).map_err(to_py_err)?;
        }
        inner.user_agent = user_agent;
        Ok(Self { inner, trace_parent: traceparent.and_then(TraceParent::parse) })
    }

    /// The client's IP address, as text.
    #[getter]
    fn client_ip(&self) -> Option<String> {
        self.inner.client_ip.map(|ip| ip.to_string())
    }

    /// The user agent.
    #[getter]
    fn user_agent(&self) -> Option<&str> {
        self.inner.user_agent.as_deref()
    }

    /// `"en"`, `"de"`, `"fr"`, `"es"`, `"it"` or `"nl"`.
    #[getter]
    fn locale(&self) -> &'static str {
        self.inner.locale.as_str()
    }

    /// The `traceparent` given, if it was valid (`None` for none or a malformed one).
    #[getter]
    fn traceparent(&self) -> Option<String> {
        self.trace_parent.map(|p| p.to_string())
    }

    fn __repr__(&self) -> String {
        format!(
            "RequestContext(client_ip={}, locale={})",
            self.inner.client_ip.map_or_else(|| "None".to_owned(), |ip| q(&ip.to_string())),
            q(self.inner.locale.as_str())
        )
    }
}

/// One way a PIN can be sent, as offered to an anonymous caller.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct MethodOption {
    /// The id to pass to `send_pin` (`"email"` or `"sms"`).
    id: String,
    /// `"email"` or `"sms"`.
    channel: &'static str,
    /// The destination, masked (`j***@e***.org`).
    masked: String,
    /// Whether the caller must type the full address before a PIN is sent.
    needs_confirmation: bool,
}

#[pymethods]
impl MethodOption {
    fn __repr__(&self) -> String {
        format!(
            "MethodOption(id={}, masked={}, needs_confirmation={})",
            q(&self.id),
            q(&self.masked),
            py_bool(self.needs_confirmation)
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A string as Python's `repr` writes it (single quotes).
pub(crate) fn q(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_control() => out.push_str(&c.escape_default().to_string()),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A time as ISO 8601 text (what `datetime.isoformat()` shows).
pub(crate) fn iso(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn q_list(items: &[impl AsRef<str>]) -> String {
    format!("[{}]", items.iter().map(|i| q(i.as_ref())).collect::<Vec<_>>().join(", "))
}

/// The answer to `begin_reset`: the same shape for every login, real or not.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct ResetChallenge {
    /// The flow's id (32 hex characters), for the next calls.
    flow_id: String,
    /// The methods a PIN can be sent by.
    methods: Vec<Py<MethodOption>>,
    /// When the whole flow expires (aware, UTC).
    expires_at: OffsetDateTime,
}

#[pymethods]
impl ResetChallenge {
    fn __repr__(&self, py: Python<'_>) -> String {
        let masks: Vec<String> = self.methods.iter().map(|m| m.get().masked.clone()).collect();
        let _ = py;
        // The flow id becomes a verified flow's once the user types the PIN, and then it alone
        // completes the reset (THREAT_MODEL, assets): a logged `challenge` must not hold it,
        // as `Recovered`'s repr does not.
        format!("ResetChallenge(flow_id='********', methods={}, expires_at={})", q_list(&masks), iso(self.expires_at))
    }
}

impl ResetChallenge {
    pub(crate) fn from_core(py: Python<'_>, c: sspr_core::ResetChallenge) -> PyResult<Self> {
        let methods = c
            .methods
            .into_iter()
            .map(|m| {
                Py::new(
                    py,
                    MethodOption {
                        id: m.id,
                        channel: m.channel.as_str(),
                        masked: m.masked,
                        needs_confirmation: m.needs_confirmation,
                    },
                )
            })
            .collect::<PyResult<_>>()?;
        Ok(Self { flow_id: c.flow_id, methods, expires_at: c.expires_at })
    }
}

/// The answer to `send_pin`.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct PinSent {
    /// When the PIN expires.
    expires_at: OffsetDateTime,
    /// When a new PIN may be requested at the earliest.
    resend_after: OffsetDateTime,
    /// Wrong PINs allowed before this one is void.
    attempts_left: u32,
}

#[pymethods]
impl PinSent {
    fn __repr__(&self) -> String {
        format!(
            "PinSent(expires_at={}, resend_after={}, attempts_left={})",
            iso(self.expires_at),
            iso(self.resend_after),
            self.attempts_left
        )
    }
}

impl From<sspr_core::PinSent> for PinSent {
    fn from(p: sspr_core::PinSent) -> Self {
        Self { expires_at: p.expires_at, resend_after: p.resend_after, attempts_left: p.attempts_left }
    }
}

/// The answer to `request_contact_proof`: give `proof_id` and the code the user typed to
/// `confirm_contact_proof`.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct ContactProof {
    /// Names the pending proof (not a secret: the code is).
    proof_id: String,
    /// `"email"` or `"sms"`: where the code went.
    channel: &'static str,
    /// The destination, masked.
    masked: String,
    /// When the code stops working.
    expires_at: OffsetDateTime,
}

#[pymethods]
impl ContactProof {
    fn __repr__(&self) -> String {
        format!(
            "ContactProof(proof_id='{}', channel='{}', masked='{}', expires_at={})",
            self.proof_id,
            self.channel,
            self.masked,
            iso(self.expires_at)
        )
    }
}

impl From<sspr_core::ContactProof> for ContactProof {
    fn from(p: sspr_core::ContactProof) -> Self {
        Self { proof_id: p.proof_id, channel: p.channel.as_str(), masked: p.masked, expires_at: p.expires_at }
    }
}

/// The answer to `admin_recovery`: the code to read out to the user once.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct RecoveryCode {
    /// The code (a `Secret`: `.reveal()` it once to show it).
    code: Py<Secret>,
    /// When it stops working.
    expires_at: OffsetDateTime,
}

#[pymethods]
impl RecoveryCode {
    fn __repr__(&self) -> String {
        format!("RecoveryCode(code=Secret('********'), expires_at={})", iso(self.expires_at))
    }
}

impl RecoveryCode {
    pub(crate) fn from_core(py: Python<'_>, r: sspr_core::RecoveryCode) -> PyResult<Self> {
        let code = Py::new(py, Secret::from_password(Password::new(r.code.expose_secret())))?;
        Ok(Self { code, expires_at: r.expires_at })
    }
}

/// The answer to `admin_send_recovery_code`: where the code went (never the code).
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct RecoverySent {
    /// `"email"` or `"sms"`.
    channel: &'static str,
    /// The destination, masked.
    masked: String,
    /// When the code stops working.
    expires_at: OffsetDateTime,
}

#[pymethods]
impl RecoverySent {
    fn __repr__(&self) -> String {
        format!(
            "RecoverySent(channel='{}', masked='{}', expires_at={})",
            self.channel,
            self.masked,
            iso(self.expires_at)
        )
    }
}

impl From<sspr_core::RecoverySent> for RecoverySent {
    fn from(s: sspr_core::RecoverySent) -> Self {
        Self { channel: s.channel.as_str(), masked: s.masked, expires_at: s.expires_at }
    }
}

/// The answer to `redeem_recovery_code`: a reset flow at the verified step.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct Recovered {
    /// The verified flow: give it to `complete_reset`. A credential: not shown in `repr`.
    flow_id: String,
    /// The completion modes allowed, the default first.
    modes: Vec<&'static str>,
    /// When the flow expires.
    expires_at: OffsetDateTime,
}

#[pymethods]
impl Recovered {
    fn __repr__(&self) -> String {
        format!("Recovered(flow_id='********', modes={}, expires_at={})", q_list(&self.modes), iso(self.expires_at))
    }
}

impl From<sspr_core::Recovered> for Recovered {
    fn from(r: sspr_core::Recovered) -> Self {
        Self {
            flow_id: r.flow_id,
            modes: r.modes.into_iter().map(CompletionMode::as_str).collect(),
            expires_at: r.expires_at,
        }
    }
}

/// The answer to `verify_pin`.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct Verified {
    /// The completion modes allowed, the default first: `"temporary"`, `"chosen"`,
    /// `"unlock_only"`. Empty while `remaining_methods` is not.
    modes: Vec<&'static str>,
    /// Method ids whose PIN must still be verified (privileged users with two methods).
    remaining_methods: Vec<String>,
}

#[pymethods]
impl Verified {
    fn __repr__(&self) -> String {
        format!("Verified(modes={}, remaining_methods={})", q_list(&self.modes), q_list(&self.remaining_methods))
    }
}

impl From<sspr_core::Verified> for Verified {
    fn from(v: sspr_core::Verified) -> Self {
        Self {
            modes: v.modes.into_iter().map(CompletionMode::as_str).collect(),
            remaining_methods: v.remaining_methods,
        }
    }
}

/// The answer to `complete_reset`.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct ResetOutcome {
    /// The temporary password (a `Secret`: `.reveal()` it once to show it), for the
    /// `"temporary"` mode; `None` otherwise.
    temporary_password: Option<Py<Secret>>,
    /// Whether the user must change the password at next sign-in.
    must_change: bool,
    /// Whether a lockout was cleared.
    unlocked: bool,
}

#[pymethods]
impl ResetOutcome {
    fn __repr__(&self) -> String {
        format!(
            "ResetOutcome(temporary_password={}, must_change={}, unlocked={})",
            if self.temporary_password.is_some() { "Secret('********')" } else { "None" },
            py_bool(self.must_change),
            py_bool(self.unlocked)
        )
    }
}

impl ResetOutcome {
    pub(crate) fn from_core(py: Python<'_>, o: sspr_core::ResetOutcome) -> PyResult<Self> {
        let temporary_password = match o.temporary_password {
            Some(p) => Some(Py::new(py, Secret::from_password(p))?),
            None => None,
        };
        Ok(Self { temporary_password, must_change: o.must_change, unlocked: o.unlocked })
    }
}

/// A registered contact detail as the signed-in user or an admin sees it.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct ContactView {
    /// The full address or number.
    value: String,
    /// The masked form anonymous callers see.
    masked: String,
    /// From when PINs may be sent to it.
    usable_from: OffsetDateTime,
}

#[pymethods]
impl ContactView {
    fn __repr__(&self) -> String {
        format!("ContactView(masked={}, usable_from={})", q(&self.masked), iso(self.usable_from))
    }
}

/// A user's contact details.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct Contacts {
    /// The alternate e-mail address.
    email: Option<Py<ContactView>>,
    /// The mobile phone number.
    phone: Option<Py<ContactView>>,
    /// Ask the user whether these are still right (`confirm_contacts` confirms them).
    confirm_due: bool,
}

#[pymethods]
impl Contacts {
    fn __repr__(&self) -> String {
        let m = |c: &Option<Py<ContactView>>| c.as_ref().map_or_else(|| "None".to_owned(), |c| q(&c.get().masked));
        format!("Contacts(email={}, phone={})", m(&self.email), m(&self.phone))
    }
}

impl Contacts {
    pub(crate) fn from_core(py: Python<'_>, c: sspr_core::Contacts) -> PyResult<Self> {
        let view = |v: Option<sspr_core::ContactView>| -> PyResult<Option<Py<ContactView>>> {
            v.map(|v| Py::new(py, ContactView { value: v.value, masked: v.masked, usable_from: v.usable_from }))
                .transpose()
        };
        Ok(Self { email: view(c.email)?, phone: view(c.phone)?, confirm_due: c.confirm_due })
    }
}

/// One user's line of an `EnrollmentReport` (contacts masked).
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct EnrollmentEntry {
    user_id: String,
    login: String,
    display_name: String,
    enabled: bool,
    eligible: bool,
    privileged: bool,
    account_disabled: bool,
    email_masked: Option<String>,
    phone_masked: Option<String>,
    has_directory_mail: bool,
    contacts_confirmed_at: Option<OffsetDateTime>,
    last_reset_at: Option<OffsetDateTime>,
    blocked_until: Option<OffsetDateTime>,
    without_contacts: bool,
    stale: bool,
    never_used: bool,
    blocked: bool,
}

#[pymethods]
impl EnrollmentEntry {
    fn __repr__(&self) -> String {
        format!(
            "EnrollmentEntry(login={}, enabled={}, without_contacts={}, stale={}, never_used={}, blocked={})",
            q(&self.login),
            py_bool(self.enabled),
            py_bool(self.without_contacts),
            py_bool(self.stale),
            py_bool(self.never_used),
            py_bool(self.blocked)
        )
    }
}

impl From<sspr_core::EnrollmentEntry> for EnrollmentEntry {
    fn from(e: sspr_core::EnrollmentEntry) -> Self {
        Self {
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
            contacts_confirmed_at: e.contacts_confirmed_at,
            last_reset_at: e.last_reset_at,
            blocked_until: e.blocked_until,
            without_contacts: e.without_contacts,
            stale: e.stale,
            never_used: e.never_used,
            blocked: e.blocked,
        }
    }
}

/// The counts of an `EnrollmentReport`.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct EnrollmentCounts {
    users: u64,
    enabled: u64,
    registered: u64,
    without_contacts: u64,
    stale: u64,
    never_used: u64,
    blocked: u64,
    privileged: u64,
    without_mail: u64,
}

#[pymethods]
impl EnrollmentCounts {
    fn __repr__(&self) -> String {
        format!(
            "EnrollmentCounts(users={}, enabled={}, registered={}, without_contacts={}, stale={}, never_used={}, \
             blocked={}, privileged={}, without_mail={})",
            self.users,
            self.enabled,
            self.registered,
            self.without_contacts,
            self.stale,
            self.never_used,
            self.blocked,
            self.privileged,
            self.without_mail
        )
    }
}

/// Who has registered for self-service reset (`enrollment_report`).
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct EnrollmentReport {
    generated_at: OffsetDateTime,
    stale_after_days: u32,
    counts: Py<EnrollmentCounts>,
    users: Vec<Py<EnrollmentEntry>>,
    truncated: bool,
}

#[pymethods]
impl EnrollmentReport {
    fn __repr__(&self) -> String {
        format!("EnrollmentReport(users={}, truncated={})", self.users.len(), py_bool(self.truncated))
    }
}

impl EnrollmentReport {
    pub(crate) fn from_core(py: Python<'_>, r: sspr_core::EnrollmentReport) -> PyResult<Self> {
        let c = r.counts;
        let counts = EnrollmentCounts {
            users: c.users,
            enabled: c.enabled,
            registered: c.registered,
            without_contacts: c.without_contacts,
            stale: c.stale,
            never_used: c.never_used,
            blocked: c.blocked,
            privileged: c.privileged,
            without_mail: c.without_mail,
        };
        Ok(Self {
            generated_at: r.generated_at,
            stale_after_days: r.stale_after_days,
            counts: Py::new(py, counts)?,
            users: r.users.into_iter().map(|e| Py::new(py, EnrollmentEntry::from(e))).collect::<PyResult<_>>()?,
            truncated: r.truncated,
        })
    }
}

/// What one `send_registration_reminders` run did.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct ReminderRun {
    reminded: Vec<String>,
    already_reminded: u64,
    without_mail: u64,
    skipped_privileged: u64,
    skipped_ineligible: u64,
    failed: u64,
}

#[pymethods]
impl ReminderRun {
    fn __repr__(&self) -> String {
        format!(
            "ReminderRun(reminded={:?}, already_reminded={}, without_mail={}, skipped_privileged={}, \
             skipped_ineligible={}, failed={})",
            self.reminded,
            self.already_reminded,
            self.without_mail,
            self.skipped_privileged,
            self.skipped_ineligible,
            self.failed
        )
    }
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

/// Everything an admin needs to know about one user's SSPR state.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct UserStatus {
    /// The directory's id of the user.
    user_id: String,
    /// The login.
    login: String,
    /// The display name.
    display_name: String,
    /// Whether SSPR is enabled.
    enabled: bool,
    /// Whether the user is inside the eligible OUs / groups.
    eligible: bool,
    /// Whether the user is a member of a privileged group.
    privileged: bool,
    /// Whether the account is disabled or expired.
    account_disabled: bool,
    /// Whether the account is locked out.
    account_locked: bool,
    /// The e-mail address, masked.
    email_masked: Option<String>,
    /// The phone number, masked.
    phone_masked: Option<String>,
    /// Until when self-service reset is blocked, if it is.
    blocked_until: Option<OffsetDateTime>,
    /// When the password was last reset through sspr.
    last_reset_at: Option<OffsetDateTime>,
}

#[pymethods]
impl UserStatus {
    fn __repr__(&self) -> String {
        format!(
            "UserStatus(login={}, enabled={}, eligible={}, privileged={}, blocked_until={})",
            q(&self.login),
            py_bool(self.enabled),
            py_bool(self.eligible),
            py_bool(self.privileged),
            self.blocked_until.map_or_else(|| "None".to_owned(), iso)
        )
    }
}

impl From<CoreStatus> for UserStatus {
    fn from(s: CoreStatus) -> Self {
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
            blocked_until: s.blocked_until,
            last_reset_at: s.last_reset_at,
        }
    }
}

/// A directory mailbox given by a host (`mail=`): an address, or `InvalidInput` naming `mail`.
pub(crate) fn directory_mail(mail: Option<String>) -> PyResult<Option<sspr_core::EmailAddress>> {
    sspr_bind::directory_mail(mail.as_deref()).map_err(crate::errors::to_py_err)
}

/// A user as a directory knows them: what a Python `Directory.find_user` returns.
#[pyclass(frozen, module = "sspr")]
#[derive(Clone)]
pub(crate) struct DirectoryUser {
    pub(crate) inner: CoreUser,
}

#[pymethods]
impl DirectoryUser {
    /// `id` is the directory's stable identifier (a DN, a GUID...), passed back to
    /// `set_password` and `unlock`; `dn` decides OU eligibility; `groups` must include
    /// nested memberships.
    #[new]
    /// `mail`: the user's mailbox in the directory, where registration reminders go.
    #[pyo3(signature = (id, login, display_name, dn, groups = Vec::new(), *, disabled = false, expired = false, locked = false, mail = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        id: String,
        login: String,
        display_name: String,
        dn: String,
        groups: Vec<String>,
        disabled: bool,
        expired: bool,
        locked: bool,
        mail: Option<String>,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: CoreUser {
                id: UserId::new(id),
                login,
                display_name,
                dn,
                groups,
                state: AccountState { disabled, expired, locked },
                mail: directory_mail(mail)?,
            },
        })
    }

    #[getter]
    fn mail(&self) -> Option<&str> {
        self.inner.mail.as_ref().map(sspr_core::EmailAddress::as_str)
    }

    #[getter]
    fn id(&self) -> &str {
        self.inner.id.as_str()
    }
    #[getter]
    fn login(&self) -> &str {
        &self.inner.login
    }
    #[getter]
    fn display_name(&self) -> &str {
        &self.inner.display_name
    }
    #[getter]
    fn dn(&self) -> &str {
        &self.inner.dn
    }
    #[getter]
    fn groups(&self) -> Vec<String> {
        self.inner.groups.clone()
    }
    #[getter]
    fn disabled(&self) -> bool {
        self.inner.state.disabled
    }
    #[getter]
    fn expired(&self) -> bool {
        self.inner.state.expired
    }
    #[getter]
    fn locked(&self) -> bool {
        self.inner.state.locked
    }

    fn __repr__(&self) -> String {
        format!("DirectoryUser(id={}, login={})", q(self.inner.id.as_str()), q(&self.inner.login))
    }
}

/// A contact detail as stored in an `Enrollment`.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct StoredContactView {
    /// The address or number.
    value: String,
    /// When it was registered.
    added_at: OffsetDateTime,
    /// From when PINs may be sent to it.
    usable_from: OffsetDateTime,
}

#[pymethods]
impl StoredContactView {
    fn __repr__(&self) -> String {
        format!("StoredContact(usable_from={})", iso(self.usable_from))
    }
}

/// A user's SSPR registration, as a Python `ContactStore` keeps it. Treat it as an opaque
/// record: store `to_json()` and give back `Enrollment.from_json(text)` (with the version the
/// store assigned, see `with_version`).
#[pyclass(frozen, module = "sspr")]
#[derive(Clone)]
pub(crate) struct Enrollment {
    pub(crate) inner: CoreEnrollment,
}

fn stored<T>(
    py: Python<'_>,
    c: &Option<StoredContact<T>>,
    text: impl Fn(&T) -> &str,
) -> PyResult<Option<Py<StoredContactView>>> {
    c.as_ref()
        .map(|c| {
            Py::new(
                py,
                StoredContactView {
                    value: text(&c.value).to_owned(),
                    added_at: c.added_at,
                    usable_from: c.usable_from,
                },
            )
        })
        .transpose()
}

#[pymethods]
impl Enrollment {
    /// Whether SSPR is enabled.
    #[getter]
    fn enabled(&self) -> bool {
        self.inner.enabled
    }
    /// The alternate e-mail address, if any.
    #[getter]
    fn email(&self, py: Python<'_>) -> PyResult<Option<Py<StoredContactView>>> {
        stored(py, &self.inner.email, sspr_core::EmailAddress::as_str)
    }
    /// The mobile number, if any.
    #[getter]
    fn phone(&self, py: Python<'_>) -> PyResult<Option<Py<StoredContactView>>> {
        stored(py, &self.inner.phone, sspr_core::PhoneNumber::as_str)
    }
    /// When the password was last reset through sspr.
    #[getter]
    fn last_reset_at(&self) -> Option<OffsetDateTime> {
        self.inner.last_reset_at
    }
    /// The store's version of this record (0: not stored yet).
    #[getter]
    fn version(&self) -> u64 {
        self.inner.version
    }

    /// The opaque history text a store keeps beside the contacts (`from_parts` takes it back).
    #[getter]
    fn history(&self) -> Option<String> {
        sspr_bind::EnrollmentParts::from(&self.inner).history
    }

    /// A record from the parts a store keeps in its own columns (each contact as
    /// `(value, added_at, usable_from)`, the `history` text as `history` gave it), checked by
    /// the rule every binding's stores are held to: a part that does not hold (a malformed
    /// address, a contact usable before it was added, a broken history) is `BackendError`,
    /// kind `"rejected"`, naming the part, never the value; raised in a store's `get`, the
    /// engine's call fails with it.
    #[staticmethod]
    #[pyo3(signature = (enabled, email=None, phone=None, last_reset_at=None, history=None, version=0))]
    fn from_parts(
        enabled: bool,
        email: Option<(String, OffsetDateTime, OffsetDateTime)>,
        phone: Option<(String, OffsetDateTime, OffsetDateTime)>,
        last_reset_at: Option<OffsetDateTime>,
        history: Option<String>,
        version: u64,
    ) -> PyResult<Self> {
        let contact = |c: Option<(String, OffsetDateTime, OffsetDateTime)>| {
            c.map(|(value, added_at, usable_from)| sspr_bind::ContactParts { value, added_at, usable_from })
        };
        let parts = sspr_bind::EnrollmentParts {
            enabled,
            email: contact(email),
            phone: contact(phone),
            last_reset_at,
            history,
            version,
        };
        let inner = parts.validate().map_err(|source| to_py_err(sspr_core::Error::Backend { source }))?;
        Ok(Self { inner })
    }

    /// The same record with another version (what a store does on `save`).
    fn with_version(&self, version: u64) -> Self {
        let mut inner = self.inner.clone();
        inner.version = version;
        Self { inner }
    }

    /// The record as JSON text, for a store to keep.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| invalid_input("enrollment", &e.to_string()))
    }

    /// A record from `to_json()`'s text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        serde_json::from_str(text).map(|inner| Self { inner }).map_err(|e| invalid_input("enrollment", &e.to_string()))
    }

    fn __repr__(&self) -> String {
        format!(
            "Enrollment(enabled={}, email={}, phone={}, version={})",
            py_bool(self.inner.enabled),
            self.inner.email.as_ref().map_or("None".to_owned(), |c| q(&sspr_core::mask::email(&c.value))),
            self.inner.phone.as_ref().map_or("None".to_owned(), |c| q(&sspr_core::mask::phone(&c.value))),
            self.inner.version
        )
    }
}

/// One notice to one destination, as a Python `Notifier.send` receives it.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct Notification {
    pub(crate) inner: CoreNotification,
}

#[pymethods]
impl Notification {
    /// `"email"` or `"sms"`.
    #[getter]
    fn channel(&self) -> &'static str {
        self.inner.to.channel().as_str()
    }
    /// The full address or E.164 number to deliver to.
    #[getter]
    fn to(&self) -> &str {
        self.inner.to.as_str()
    }
    /// The destination, masked (for logs).
    #[getter]
    fn masked_to(&self) -> String {
        self.inner.to.masked()
    }
    /// `"en"`, `"de"`, `"fr"`, `"es"`, `"it"` or `"nl"`.
    #[getter]
    fn locale(&self) -> &'static str {
        self.inner.locale.as_str()
    }
    /// `"pin"`, `"contact_proof"`, `"recovery_code"`, `"reset_requested"`, `"password_reset"`,
    /// `"contacts_changed"`, `"password_changed"`, `"registration_reminder"`,
    /// `"helpdesk_recovery"` or `"admin_alert"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.message.kind()
    }
    /// When it was issued.
    #[getter]
    fn at(&self) -> OffsetDateTime {
        self.inner.at
    }
    /// The PIN of a PIN notice, as a `Secret`; `None` for other notices.
    #[getter]
    fn pin(&self) -> Option<Secret> {
        self.inner.pin().map(|p| Secret { value: Password::new(p.expose_secret()) })
    }
    /// The standard subject line, in the notice's language.
    #[getter]
    fn subject(&self) -> String {
        self.inner.render().subject
    }
    /// The standard plain-text body. For a PIN notice it holds the PIN: put it into the
    /// message and nowhere else (no log, no error).
    fn text(&self) -> String {
        self.inner.render().body.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Notification(kind={}, channel={}, to={})", q(self.kind()), q(self.channel()), q(&self.masked_to()))
    }
}

/// Build a `dict` from JSON text (for audit events and policies).
pub(crate) fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    LOADS.import(py, "json", "loads")?.call1((text,))
}

/// JSON text from a Python value (a `dict` of policy fields).
pub(crate) fn py_to_json(value: &Bound<'_, PyAny>) -> PyResult<String> {
    static DUMPS: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    DUMPS.import(value.py(), "json", "dumps")?.call1((value,))?.extract()
}

/// Who signed in (the answer to `sign_in`).
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct SignedIn {
    /// The directory's id of the user.
    user_id: String,
    /// The login as the directory stores it (use it for the user's later calls).
    login: String,
    /// The display name.
    display_name: String,
    /// The password is a temporary one the directory wants changed first.
    must_change: bool,
}

#[pymethods]
impl SignedIn {
    fn __repr__(&self) -> String {
        format!("SignedIn(login={}, must_change={})", q(&self.login), py_bool(self.must_change))
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

/// The rules a new password must meet (the answer to `password_rules`); `None`: the
/// directory does not say.
#[pyclass(frozen, get_all, module = "sspr")]
pub(crate) struct PasswordRules {
    /// The fewest characters.
    min_length: Option<u32>,
    /// How many previous passwords may not be used again.
    history_length: Option<u32>,
    /// Whether the password must mix character classes.
    complexity: Option<bool>,
    /// Seconds a password must be kept before the user may change it again.
    min_age_secs: Option<u64>,
}

#[pymethods]
impl PasswordRules {
    fn __repr__(&self) -> String {
        let show = |v: Option<String>| v.unwrap_or_else(|| "None".into());
        format!(
            "PasswordRules(min_length={}, history_length={}, complexity={}, min_age_secs={})",
            show(self.min_length.map(|v| v.to_string())),
            show(self.history_length.map(|v| v.to_string())),
            show(self.complexity.map(|v| py_bool(v).to_owned())),
            show(self.min_age_secs.map(|v| v.to_string())),
        )
    }
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

/// What a page needs to show the engine's bot challenge widget (the answer to
/// `challenge_widget`): public values only, never the provider's secret.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct ChallengeWidget {
    inner: sspr_core::ChallengeWidget,
}

#[pymethods]
impl ChallengeWidget {
    /// `turnstile`, `hcaptcha` or `recaptcha`.
    #[getter]
    fn provider(&self) -> &str {
        &self.inner.provider
    }

    /// The public site key (`data-sitekey`).
    #[getter]
    fn site_key(&self) -> &str {
        &self.inner.site_key
    }

    /// The widget's script (`<script src=... async defer>`).
    #[getter]
    fn script_url(&self) -> &str {
        &self.inner.script_url
    }

    /// The class of the element the script turns into the widget.
    #[getter]
    fn widget_class(&self) -> &str {
        &self.inner.widget_class
    }

    /// The form field the widget puts its token in (`cf-turnstile-response`...).
    #[getter]
    fn response_field(&self) -> &str {
        &self.inner.response_field
    }

    /// `True`: every begin needs a token, so the start page shows the widget; `False`
    /// (`after_begins`): only once a begin was refused with `challenge_required`.
    #[getter]
    fn always(&self) -> bool {
        self.inner.always
    }

    /// `base` (a Content-Security-Policy) with the sources the widget needs added, and nothing
    /// else changed.
    fn csp(&self, base: &str) -> String {
        self.inner.csp(base)
    }

    fn __repr__(&self) -> String {
        format!(
            "ChallengeWidget(provider={:?}, site_key={:?}, always={})",
            self.inner.provider,
            self.inner.site_key,
            py_bool(self.inner.always)
        )
    }
}

impl From<sspr_core::ChallengeWidget> for ChallengeWidget {
    fn from(inner: sspr_core::ChallengeWidget) -> Self {
        Self { inner }
    }
}

// ---------------------------------------------------------------------------------------
// `sspr.primitives` in every build: how the engine checks and masks what users type, for
// tools that validate input before handing it over (e.g. a CSV import).

/// A login as the engine compares it (trimmed, NFKC, lower-case); `InvalidInput` if refused.
#[pyfunction]
pub(crate) fn normalize_login(login: &str) -> PyResult<String> {
    NormalizedLogin::parse(login).map(|l| l.as_str().to_owned()).map_err(to_py_err)
}

/// An e-mail address as stored; `InvalidInput` if refused.
#[pyfunction]
pub(crate) fn normalize_email(address: &str) -> PyResult<String> {
    EmailAddress::parse(address).map(|a| a.as_str().to_owned()).map_err(to_py_err)
}

/// A phone number in E.164, a national format read in `region` (the policy's
/// `default_region`); `InvalidInput` if refused.
#[pyfunction]
#[pyo3(signature = (number, region = None))]
pub(crate) fn normalize_phone(number: &str, region: Option<&str>) -> PyResult<String> {
    PhoneNumber::parse_in(number, region).map(|p| p.as_str().to_owned()).map_err(to_py_err)
}

/// The masked form of an e-mail address (`j***@e***.org`).
#[pyfunction]
pub(crate) fn mask_email(address: &str) -> PyResult<String> {
    EmailAddress::parse(address).map(|a| sspr_core::mask::email(&a)).map_err(to_py_err)
}

/// The masked form of a phone number (`+44 ******* 23`), read as `normalize_phone` reads it.
#[pyfunction]
#[pyo3(signature = (number, region = None))]
pub(crate) fn mask_phone(number: &str, region: Option<&str>) -> PyResult<String> {
    PhoneNumber::parse_in(number, region).map(|p| sspr_core::mask::phone(&p)).map_err(to_py_err)
}

/// Register the checks in `sspr._sspr.primitives`.
pub(crate) fn register_primitives(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(normalize_login, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_email, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_phone, m)?)?;
    m.add_function(wrap_pyfunction!(mask_email, m)?)?;
    m.add_function(wrap_pyfunction!(mask_phone, m)?)?;
    Ok(())
}
