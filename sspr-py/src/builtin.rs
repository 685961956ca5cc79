//! The backends sspr itself provides, as Python classes: the core's in-memory ones here
//! (`sspr.MemoryDirectory`, `sspr.Outbox`, ...), the sspr-backends ones in `sspr.backends`
//! ([`backends`]), and the choice of a backend for each slot of the engine (a built-in
//! class, else a Python object adapted by [`crate::foreign`]).

mod backends;
#[cfg(feature = "config")]
mod config;

use std::sync::Arc;

use pyo3::prelude::*;
use sspr_core::memory::{
    MemoryAuditSink as CoreAudit, MemoryContactStore as CoreContacts, MemoryDirectory as CoreDir,
    MemoryStateStore as CoreStore, MemoryUser, Outbox as CoreOutbox,
};
use sspr_core::{
    AuditSink, Clock, ContactStore, Directory, ManualClock as CoreClock, Notifier, Password, StateStore, UserId,
};
use time::OffsetDateTime;

use crate::errors::{invalid_input, to_py_err};
use crate::foreign;
use crate::runtime::InRuntime;
use crate::values::{DirectoryUser, Notification, Secret, SecretArg, iso, json_to_py};

/// Register the sspr-backends classes (and `from_config`) in `sspr.backends`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    backends::register(m)?;
    #[cfg(feature = "config")]
    {
        m.add_class::<config::Configured>()?;
        m.add_class::<config::ConfiguredBackends>()?;
        m.add_function(wrap_pyfunction!(config::from_config, m)?)?;
    }
    Ok(())
}

/// The in-memory directory (Active Directory's complexity rule on passwords): for tests,
/// demos and examples. Users come from `add()` or from JSON.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct MemoryDirectory {
    pub(crate) inner: CoreDir,
}

#[pymethods]
impl MemoryDirectory {
    /// An empty directory.
    #[new]
    fn new() -> Self {
        Self { inner: CoreDir::new() }
    }

    /// A directory from a JSON array of users
    /// (`[{"login": ..., "display_name": ..., "dn": ..., "groups": [...]}]`).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        CoreDir::from_json(text).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// Add a user (or replace the one with the same login or DN). The DN is the user's id.
    /// `password` is the one the user signs in with (`sign_in`) until a reset sets another.
    /// `mail` is the user's mailbox in the directory, where registration reminders go.
    #[pyo3(signature = (login, display_name, dn, groups = Vec::new(), *, password = None, disabled = false, expired = false, locked = false, mail = None))]
    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        login: String,
        display_name: String,
        dn: String,
        groups: Vec<String>,
        password: Option<SecretArg>,
        disabled: bool,
        expired: bool,
        locked: bool,
        mail: Option<String>,
    ) -> PyResult<()> {
        let password = password.map(SecretArg::into_password);
        let state = sspr_core::backend::AccountState { disabled, expired, locked };
        let mail = crate::values::directory_mail(mail)?;
        self.inner.insert(MemoryUser { login, display_name, dn, groups, state, mail, password }).map_err(to_py_err)
    }

    /// Change a user's account state; False for an unknown login.
    #[pyo3(signature = (login, *, disabled = false, expired = false, locked = false))]
    fn set_state(&self, login: &str, disabled: bool, expired: bool, locked: bool) -> bool {
        self.inner.set_state(login, sspr_core::backend::AccountState { disabled, expired, locked })
    }

    /// Every user, sorted by login.
    fn users(&self) -> Vec<DirectoryUser> {
        self.inner.users().into_iter().map(|inner| DirectoryUser { inner }).collect()
    }

    /// Whether `password` is the user's current password: `None` if it is not (or none was
    /// set through sspr), else the must-change flag. What a sign-in would check.
    fn check_password(&self, user_id: &str, password: &Bound<'_, PyAny>) -> PyResult<Option<bool>> {
        let password = crate::values::password_arg(password)?;
        Ok(self.inner.check_password(&UserId::new(user_id), password.expose_secret()))
    }

    /// `None` if no password was set through sspr, else the must-change flag.
    fn password_state(&self, user_id: &str) -> Option<bool> {
        self.inner.password_state(&UserId::new(user_id))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("MemoryDirectory(users={})", self.inner.len())
    }
}

/// A notifier that delivers nothing and keeps every notice: the development outbox.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct Outbox {
    pub(crate) inner: CoreOutbox,
}

#[pymethods]
impl Outbox {
    /// An empty outbox.
    #[new]
    fn new() -> Self {
        Self { inner: CoreOutbox::new() }
    }

    /// Every notice so far, oldest first.
    fn messages(&self) -> Vec<Notification> {
        self.inner.messages().into_iter().map(|inner| Notification { inner }).collect()
    }

    /// The notices sent to `address`, oldest first.
    fn messages_to(&self, address: &str) -> Vec<Notification> {
        self.inner.messages_to(address).into_iter().map(|inner| Notification { inner }).collect()
    }

    /// The last PIN sent to `address`, as a `Secret`.
    fn last_pin_to(&self, address: &str) -> Option<Secret> {
        self.inner.last_pin_to(address).map(|pin| Secret::from_password(Password::new(pin)))
    }

    /// The last code sent to `address` to prove it as a new contact, as a `Secret`.
    fn last_proof_code_to(&self, address: &str) -> Option<Secret> {
        self.inner.last_proof_code_to(address).map(|code| Secret::from_password(Password::new(code)))
    }

    /// Forget every notice.
    fn clear(&self) {
        self.inner.clear();
    }

    fn __len__(&self) -> usize {
        self.inner.messages().len()
    }

    fn __repr__(&self) -> String {
        format!("Outbox(messages={})", self.inner.messages().len())
    }
}

/// Enrollments (enabled flag, contacts) in memory.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct MemoryContactStore {
    pub(crate) inner: CoreContacts,
}

#[pymethods]
impl MemoryContactStore {
    /// An empty store.
    #[new]
    fn new() -> Self {
        Self { inner: CoreContacts::new() }
    }

    fn __repr__(&self) -> &'static str {
        "MemoryContactStore()"
    }
}

/// Flows, counters and blocks in memory (one process only).
#[pyclass(frozen, module = "sspr")]
pub(crate) struct MemoryStateStore {
    pub(crate) inner: CoreStore,
}

#[pymethods]
impl MemoryStateStore {
    /// An empty store.
    #[new]
    fn new() -> Self {
        Self { inner: CoreStore::new() }
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("MemoryStateStore(entries={})", self.inner.len())
    }
}

/// Keeps the newest audit events in memory (sspr-core's ring buffer, 10 000 events).
#[pyclass(frozen, module = "sspr")]
pub(crate) struct MemoryAuditSink {
    pub(crate) inner: CoreAudit,
}

#[pymethods]
impl MemoryAuditSink {
    /// An empty sink.
    #[new]
    fn new() -> Self {
        Self { inner: CoreAudit::new() }
    }

    /// The events kept (the newest 10 000), oldest first, as dicts (the core's versioned JSON form).
    fn events<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.inner.events().iter().map(|e| json_to_py(py, &e.to_json())).collect()
    }

    fn __len__(&self) -> usize {
        self.inner.events().len()
    }

    fn __repr__(&self) -> String {
        format!("MemoryAuditSink(events={})", self.inner.events().len())
    }
}

/// Routes each notice by its channel: e-mail to one notifier, SMS to another (e.g.
/// `ChannelNotifier(email=SmtpNotifier(...), sms=TwilioNotifier(...))`). Either may be a
/// built-in notifier or a Python object with `send`; a channel without a notifier refuses its
/// notices (`BackendError` of kind `"rejected"`).
#[pyclass(frozen, module = "sspr")]
pub(crate) struct ChannelNotifier {
    pub(crate) inner: InRuntime<sspr_core::backend::ByChannel>,
}

#[pymethods]
impl ChannelNotifier {
    #[new]
    #[pyo3(signature = (*, email = None, sms = None))]
    fn new(email: Option<&Bound<'_, PyAny>>, sms: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let email = email.map(notifier).transpose()?;
        let sms = sms.map(notifier).transpose()?;
        Ok(Self { inner: InRuntime::new(sspr_core::backend::ByChannel::new(email, sms)) })
    }

    fn __repr__(&self) -> String {
        self.inner.get().map(|i| format!("ChannelNotifier({i:?})")).unwrap_or_default()
    }
}

/// A clock that stands still until moved: for tests and simulations.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct ManualClock {
    pub(crate) inner: CoreClock,
}

#[pymethods]
impl ManualClock {
    /// A clock showing `start` (an aware datetime).
    #[new]
    fn new(start: OffsetDateTime) -> Self {
        Self { inner: CoreClock::new(start) }
    }

    /// Move forward by `seconds`.
    fn advance(&self, seconds: f64) -> PyResult<()> {
        let by = std::time::Duration::try_from_secs_f64(seconds)
            .map_err(|_| invalid_input("seconds", "must be a non-negative number"))?;
        self.inner.advance(by);
        Ok(())
    }

    /// Set the time (may go backwards).
    fn set(&self, to: OffsetDateTime) {
        self.inner.set(to);
    }

    /// The time shown (aware, UTC).
    fn now(&self) -> OffsetDateTime {
        self.inner.now()
    }

    fn __repr__(&self) -> String {
        format!("ManualClock({})", iso(self.inner.now()))
    }
}

/// The backend of one slot for `obj`: a configured backend (`from_config`) for this slot, an
/// in-memory class (`plain`: holds its backend), an sspr-backends or runtime-bound class
/// (`in_runtime`: holds it in an `InRuntime`), else a Python object adapted by `foreign`.
macro_rules! slot {
    ($obj:expr, $slot:ty, $variant:ident, $foreign:path;
     plain: $($plain:ty),*; in_runtime: $($(#[$cfg:meta])* $class:ty),* $(,)?) => {{
        let obj = $obj;
        #[cfg(feature = "config")]
        if let Ok(c) = obj.cast::<config::Configured>()
            && let config::Slot::$variant(b) = c.get().slot.get()?
        {
            return Ok(b.clone());
        }
        $(
            if let Ok(b) = obj.cast::<$plain>() {
                return Ok(Arc::new(b.get().inner.clone()) as Arc<$slot>);
            }
        )*
        $(
            $(#[$cfg])*
            if let Ok(b) = obj.cast::<$class>() {
                return Ok(Arc::new(b.get().inner.get()?.clone()) as Arc<$slot>);
            }
        )*
        $foreign(obj)
    }};
}

pub(crate) fn directory(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Directory>> {
    slot!(obj, dyn Directory, Directory, foreign::directory;
        plain: MemoryDirectory; in_runtime: #[cfg(feature = "ldap")] backends::LdapDirectory)
}

pub(crate) fn contacts(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn ContactStore>> {
    slot!(obj, dyn ContactStore, Contacts, foreign::contacts;
        plain: MemoryContactStore;
        in_runtime: #[cfg(feature = "sqlite")] backends::SqliteStore, #[cfg(feature = "postgres")] backends::PostgresStore,
            #[cfg(feature = "ldap")] backends::LdapContactStore)
}

pub(crate) fn notifier(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Notifier>> {
    slot!(obj, dyn Notifier, Notifier, foreign::notifier;
        plain: Outbox;
        in_runtime: ChannelNotifier, #[cfg(feature = "smtp")] backends::SmtpNotifier,
            #[cfg(feature = "sms-twilio")] backends::TwilioNotifier, #[cfg(feature = "webhook")] backends::WebhookNotifier)
}

pub(crate) fn store(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn StateStore>> {
    slot!(obj, dyn StateStore, State, foreign::store;
        plain: MemoryStateStore;
        in_runtime: #[cfg(feature = "sqlite")] backends::SqliteStore, #[cfg(feature = "redis")] backends::RedisStore,
            #[cfg(feature = "postgres")] backends::PostgresStore)
}

pub(crate) fn audit(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn AuditSink>> {
    slot!(obj, dyn AuditSink, Audit, foreign::audit; plain: MemoryAuditSink; in_runtime:)
}

/// A configured checker (`from_config(...).password_checkers`) or a Python one (`check`).
pub(crate) fn password_checker(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn sspr_core::PasswordChecker>> {
    slot!(obj, dyn sspr_core::PasswordChecker, PasswordChecker, foreign::password_checker; plain:; in_runtime:)
}

/// The configured bot challenge (`from_config(...).bot_challenge`); nothing else fills this slot.
pub(crate) fn bot_challenge(
    obj: &Bound<'_, PyAny>,
) -> PyResult<(Arc<dyn sspr_core::BotChallenge>, sspr_core::ChallengePolicy)> {
    #[cfg(feature = "config")]
    if let Ok(configured) = obj.cast::<config::Configured>()
        && let Ok(config::Slot::BotChallenge(verifier, policy)) = configured.get().slot.get()
    {
        return Ok((verifier.clone(), *policy));
    }
    let _ = obj;
    Err(pyo3::exceptions::PyTypeError::new_err("bot_challenge must be from_config(...).bot_challenge"))
}

/// Register the in-memory classes in the native module.
pub(crate) fn register_memory(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MemoryDirectory>()?;
    m.add_class::<Outbox>()?;
    m.add_class::<ChannelNotifier>()?;
    m.add_class::<MemoryContactStore>()?;
    m.add_class::<MemoryStateStore>()?;
    m.add_class::<MemoryAuditSink>()?;
    m.add_class::<ManualClock>()?;
    Ok(())
}
