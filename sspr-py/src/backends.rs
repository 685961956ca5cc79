//! Backends: adapters that let Python objects serve as `Directory`, `ContactStore`,
//! `Notifier` and `AuditSink`, and the core's in-memory backends as Python classes.
//!
//! A Python backend method may be a plain `def` or an `async def` (anything whose result
//! has `__await__` is awaited). A plain `def` runs on the thread that called sspr: the event
//! loop's thread for `Sspr`, the calling thread for `BlockingSspr`.

use std::fmt;
use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use sspr_core::backend::{DirectoryUser as CoreUser, Enrollment as CoreEnrollment};
use sspr_core::memory::{
    MemoryAuditSink as CoreAudit, MemoryContactStore as CoreContacts, MemoryDirectory as CoreDir,
    MemoryStateStore as CoreStore, MemoryUser, Outbox as CoreOutbox,
};
use sspr_core::notice::Notification as CoreNotification;
use sspr_core::{
    AuditEvent, AuditSink, Authentication, BackendError, Clock, ContactStore, Directory, ManualClock as CoreClock,
    NormalizedLogin, Notifier, Password, StateStore, UserId, async_trait,
};
use time::OffsetDateTime;

use crate::awaitable::{PyAwait, run_blocking};
use crate::errors::{backend_error, bad_return, config_error};
use crate::runtime::in_blocking_call;
use crate::types::{DirectoryUser, Enrollment, Notification, Secret, json_to_py};

enum Called {
    Done(Py<PyAny>),
    Await(PyAwait),
}

/// Call `obj.method(*args)` and await the result when it is awaitable.
async fn call_backend<F>(obj: &Py<PyAny>, method: &'static str, args: F) -> Result<Py<PyAny>, BackendError>
where
    F: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
{
    let called = Python::attach(|py| {
        let run = || -> PyResult<Called> {
            let out = obj.bind(py).call_method1(method, args(py)?)?;
            if !out.hasattr(intern!(py, "__await__"))? {
                return Ok(Called::Done(out.unbind()));
            }
            if in_blocking_call() {
                Ok(Called::Done(run_blocking(py, &out)?))
            } else {
                Ok(Called::Await(PyAwait::new(&out)?))
            }
        };
        run().map_err(|e| backend_error(py, method, e))
    })?;
    match called {
        Called::Done(value) => Ok(value),
        Called::Await(fut) => match fut.await {
            Ok(value) => Ok(value),
            Err(e) => Err(Python::attach(|py| backend_error(py, method, e))),
        },
    }
}

/// Check that `obj` has every method of a protocol.
fn require_methods(obj: &Bound<'_, PyAny>, protocol: &str, methods: &[&str]) -> PyResult<()> {
    for method in methods {
        if !obj.getattr(*method).is_ok_and(|m| m.is_callable()) {
            return Err(PyTypeError::new_err(format!(
                "{} is not a {protocol}: it has no method `{method}`",
                obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            )));
        }
    }
    Ok(())
}

fn type_name(obj: &Py<PyAny>) -> String {
    Python::attach(|py| obj.bind(py).get_type().name().map(|n| n.to_string()).unwrap_or_default())
}

/// A `Directory` implemented in Python.
pub(crate) struct PyDirectory {
    obj: Py<PyAny>,
}

impl fmt::Debug for PyDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PyDirectory({})", type_name(&self.obj))
    }
}

fn extract_user(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<CoreUser> {
    let _ = py;
    value
        .cast::<DirectoryUser>()
        .map(|u| u.get().inner.clone())
        .map_err(|_| PyTypeError::new_err("expected an sspr.DirectoryUser"))
}

#[async_trait]
impl Directory for PyDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<CoreUser>, BackendError> {
        let login = login.as_str();
        let out = call_backend(&self.obj, "find_user", |py| PyTuple::new(py, [login])).await?;
        Python::attach(|py| {
            let out = out.bind(py);
            if out.is_none() {
                return Ok(None);
            }
            extract_user(py, out).map(Some).map_err(|e| bad_return(py, "find_user", e))
        })
    }

    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        let id = user.as_str();
        call_backend(&self.obj, "set_password", |py| {
            let secret = Py::new(py, Secret::from_password(Password::new(password.expose_secret())))?;
            PyTuple::new(
                py,
                [
                    id.into_pyobject(py)?.into_any(),
                    secret.into_bound(py).into_any(),
                    pyo3::types::PyBool::new(py, must_change).to_owned().into_any(),
                ],
            )
        })
        .await?;
        Ok(())
    }

    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        let id = user.as_str();
        call_backend(&self.obj, "unlock", |py| PyTuple::new(py, [id])).await?;
        Ok(())
    }

    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        let id = user.as_str();
        let out = call_backend(&self.obj, "authenticate", |py| {
            let secret = Py::new(py, Secret::from_password(Password::new(password.expose_secret())))?;
            PyTuple::new(py, [id.into_bound_py_any(py)?, secret.into_bound(py).into_any()])
        })
        .await?;
        Python::attach(|py| {
            let answer: String = out.bind(py).extract().map_err(|e| bad_return(py, "authenticate", e))?;
            match answer.as_str() {
                "accepted" => Ok(Authentication::Accepted),
                "must_change" => Ok(Authentication::MustChange),
                "rejected" => Ok(Authentication::Rejected),
                _ => Err(bad_return(
                    py,
                    "authenticate",
                    PyTypeError::new_err("expected \"accepted\", \"must_change\" or \"rejected\""),
                )),
            }
        })
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<CoreUser>, BackendError> {
        let out = call_backend(&self.obj, "search", |py| {
            PyTuple::new(py, [query.into_bound_py_any(py)?, limit.into_bound_py_any(py)?])
        })
        .await?;
        Python::attach(|py| {
            let items: Vec<Bound<'_, PyAny>> = out.bind(py).extract().map_err(|e| bad_return(py, "search", e))?;
            items
                .iter()
                .map(|u| extract_user(py, u))
                .collect::<PyResult<Vec<_>>>()
                .map_err(|e| bad_return(py, "search", e))
        })
    }
}

/// A `ContactStore` implemented in Python.
pub(crate) struct PyContactStore {
    obj: Py<PyAny>,
}

impl fmt::Debug for PyContactStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PyContactStore({})", type_name(&self.obj))
    }
}

#[async_trait]
impl ContactStore for PyContactStore {
    async fn get(&self, user: &UserId) -> Result<Option<CoreEnrollment>, BackendError> {
        let id = user.as_str();
        let out = call_backend(&self.obj, "get", |py| PyTuple::new(py, [id])).await?;
        Python::attach(|py| {
            let out = out.bind(py);
            if out.is_none() {
                return Ok(None);
            }
            out.cast::<Enrollment>()
                .map(|e| Some(e.get().inner.clone()))
                .map_err(|_| bad_return(py, "get", PyTypeError::new_err("expected an sspr.Enrollment or None")))
        })
    }

    async fn save(
        &self,
        user: &UserId,
        enrollment: &CoreEnrollment,
        expected_version: u64,
    ) -> Result<bool, BackendError> {
        let id = user.as_str();
        let out = call_backend(&self.obj, "save", |py| {
            let record = Py::new(py, Enrollment { inner: enrollment.clone() })?;
            PyTuple::new(
                py,
                [
                    id.into_pyobject(py)?.into_any(),
                    record.into_bound(py).into_any(),
                    expected_version.into_pyobject(py)?.into_any(),
                ],
            )
        })
        .await?;
        Python::attach(|py| out.bind(py).extract::<bool>().map_err(|e| bad_return(py, "save", e)))
    }
}

/// A `Notifier` implemented in Python.
pub(crate) struct PyNotifier {
    obj: Py<PyAny>,
}

impl fmt::Debug for PyNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PyNotifier({})", type_name(&self.obj))
    }
}

#[async_trait]
impl Notifier for PyNotifier {
    async fn send(&self, notification: &CoreNotification) -> Result<(), BackendError> {
        call_backend(&self.obj, "send", |py| {
            let n = Py::new(py, Notification { inner: notification.clone() })?;
            PyTuple::new(py, [n])
        })
        .await?;
        Ok(())
    }
}

/// An `AuditSink` implemented in Python: `record(event: dict)`.
pub(crate) struct PyAuditSink {
    obj: Py<PyAny>,
}

impl fmt::Debug for PyAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PyAuditSink({})", type_name(&self.obj))
    }
}

#[async_trait]
impl AuditSink for PyAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let json = event.to_json();
        call_backend(&self.obj, "record", |py| PyTuple::new(py, [json_to_py(py, &json)?])).await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Built-in in-memory backends.

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
        CoreDir::from_json(text).map(|inner| Self { inner }).map_err(crate::errors::to_py_err)
    }

    /// Add a user (or replace the one with the same login or DN). The DN is the user's id.
    /// `password` is the one the user signs in with (`sign_in`) until a reset sets another.
    #[pyo3(signature = (login, display_name, dn, groups = Vec::new(), *, password = None, disabled = false, expired = false, locked = false))]
    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        login: String,
        display_name: String,
        dn: String,
        groups: Vec<String>,
        password: Option<crate::engine::SecretArg>,
        disabled: bool,
        expired: bool,
        locked: bool,
    ) -> PyResult<()> {
        let password = password.map(crate::engine::SecretArg::into_password);
        let state = sspr_core::backend::AccountState { disabled, expired, locked };
        self.inner
            .insert(MemoryUser { login, display_name, dn, groups, state, password })
            .map_err(crate::errors::to_py_err)
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
        let password = crate::types::password_arg(password)?;
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
    pub(crate) inner: crate::runtime::InRuntime<sspr_core::backend::ByChannel>,
}

#[pymethods]
impl ChannelNotifier {
    #[new]
    #[pyo3(signature = (*, email = None, sms = None))]
    fn new(email: Option<&Bound<'_, PyAny>>, sms: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let email = email.map(notifier).transpose()?;
        let sms = sms.map(notifier).transpose()?;
        Ok(Self { inner: crate::runtime::InRuntime::new(sspr_core::backend::ByChannel::new(email, sms)) })
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
            .map_err(|_| crate::errors::invalid_input("seconds", "must be a non-negative number"))?;
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
        format!("ManualClock({})", crate::types::iso(self.inner.now()))
    }
}

// ---------------------------------------------------------------------------------------
// Choosing a backend for each slot of the engine.

pub(crate) fn directory(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Directory>> {
    if let Ok(d) = obj.cast::<MemoryDirectory>() {
        return Ok(Arc::new(d.get().inner.clone()));
    }
    if let Some(d) = crate::builtin::directory(obj)? {
        return Ok(d);
    }
    require_methods(obj, "Directory", &["find_user", "set_password", "unlock"])?;
    Ok(Arc::new(PyDirectory { obj: obj.clone().unbind() }))
}

pub(crate) fn contacts(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn ContactStore>> {
    if let Ok(c) = obj.cast::<MemoryContactStore>() {
        return Ok(Arc::new(c.get().inner.clone()));
    }
    if let Some(c) = crate::builtin::contacts(obj)? {
        return Ok(c);
    }
    require_methods(obj, "ContactStore", &["get", "save"])?;
    Ok(Arc::new(PyContactStore { obj: obj.clone().unbind() }))
}

pub(crate) fn notifier(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Notifier>> {
    if let Ok(o) = obj.cast::<Outbox>() {
        return Ok(Arc::new(o.get().inner.clone()));
    }
    if let Ok(c) = obj.cast::<ChannelNotifier>() {
        return Ok(Arc::new(c.get().inner.get()?.clone()));
    }
    if let Some(n) = crate::builtin::notifier(obj)? {
        return Ok(n);
    }
    require_methods(obj, "Notifier", &["send"])?;
    Ok(Arc::new(PyNotifier { obj: obj.clone().unbind() }))
}

pub(crate) fn store(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn StateStore>> {
    if let Ok(s) = obj.cast::<MemoryStateStore>() {
        return Ok(Arc::new(s.get().inner.clone()));
    }
    if let Some(s) = crate::builtin::store(obj)? {
        return Ok(s);
    }
    Err(config_error(format!(
        "store must be an sspr.MemoryStateStore or a built-in store of sspr.backends, not {}",
        obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
    )))
}

pub(crate) fn audit(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn AuditSink>> {
    if let Ok(a) = obj.cast::<MemoryAuditSink>() {
        return Ok(Arc::new(a.get().inner.clone()));
    }
    require_methods(obj, "AuditSink", &["record"])?;
    Ok(Arc::new(PyAuditSink { obj: obj.clone().unbind() }))
}
