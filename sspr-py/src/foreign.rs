//! Backends written in Python: adapters that let Python objects serve as `Directory`,
//! `ContactStore`, `Notifier` and `AuditSink`.
//!
//! A Python backend method may be a plain `def` or an `async def` (anything whose result
//! has `__await__` is awaited). A plain `def` runs on the thread that called sspr: the event
//! loop's thread for `Sspr`, the calling thread for `BlockingSspr`; called from background
//! work (a PIN delivery, a hook) it runs on a thread of the runtime's blocking pool instead
//! (see [`call_in_background`]).

mod awaitable;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyString, PyTuple};
use sspr_core::backend::{Counter, DirectoryUser as CoreUser, Enrollment as CoreEnrollment, StoredValue};
use sspr_core::notice::Notification as CoreNotification;
use sspr_core::{
    AuditEvent, AuditSink, Authentication, BackendError, BackendErrorKind, ContactStore, Directory, EventHook,
    HookEvent, NormalizedLogin, Notifier, Password, PasswordCandidate, PasswordChecker, PasswordFeedback, StateStore,
    UserId, async_trait,
};

use time::OffsetDateTime;

use crate::errors::{backend_error, bad_return, config_error};
use crate::runtime::in_blocking_call;
use crate::values::{DirectoryUser, Enrollment, Notification, Secret, json_to_py};
pub(crate) use awaitable::PyAwait;
use awaitable::run_blocking;

enum Called {
    Done(Py<PyAny>),
    Await(PyAwait),
}

/// Call `obj.method(*args)` and await the result when it is awaitable.
async fn call_backend<F>(host: &Host, method: &'static str, args: F) -> Result<Py<PyAny>, BackendError>
where
    F: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
{
    if sspr_bind::runtime::in_background() {
        return call_in_background(host, method, args).await;
    }
    let obj = &host.obj;
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

/// [`call_backend`] from a background task (a PIN delivery, a hook, an admin alert): the call
/// leaves the thread polling the task unless it is an `async def` awaited on the caller's
/// event loop. A plain `def` there would hold the loop (`Sspr`) or one of the runtime's two
/// workers (`BlockingSspr`) for as long as it takes, and a `send` that talks to its relay
/// would then hold back the padded answers of other callers: a timing any caller could
/// watch. On the blocking pool it holds one thread of its own; an `async def` under
/// `BlockingSspr` runs there to its end on that thread's private loop.
async fn call_in_background<F>(host: &Host, method: &'static str, args: F) -> Result<Py<PyAny>, BackendError>
where
    F: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
{
    let prepared = Python::attach(|py| {
        let run = || -> PyResult<(Py<PyAny>, Py<PyTuple>, bool)> {
            let bound = host.method(py, method)?;
            let awaited_on_loop = !in_blocking_call() && host.is_coroutine(method);
            Ok((bound.unbind(), args(py)?.unbind(), awaited_on_loop))
        };
        run().map_err(|e| backend_error(py, method, e))
    })?;
    let (callable, args, awaited_on_loop) = prepared;
    if awaited_on_loop {
        let fut = Python::attach(|py| {
            callable
                .bind(py)
                .call1(args.bind(py))
                .and_then(|out| PyAwait::new(&out))
                .map_err(|e| backend_error(py, method, e))
        })?;
        return fut.await.map_err(|e| Python::attach(|py| backend_error(py, method, e)));
    }
    sspr_bind::runtime::off_runtime(move || {
        let Some(_entry) = crate::runtime::PythonEntry::enter() else {
            return Err(BackendError::new(BackendErrorKind::Unavailable, "the Python interpreter is exiting"));
        };
        Python::attach(|py| {
            let run = || -> PyResult<Py<PyAny>> {
                let out = callable.bind(py).call1(args.bind(py))?;
                if out.hasattr(intern!(py, "__await__"))? { run_blocking(py, &out) } else { Ok(out.unbind()) }
            };
            run().map_err(|e| backend_error(py, method, e))
        })
    })
    .await?
}

/// The method name under which a hook, itself the callable, is called.
const CALL: &str = "__call__";

/// A Python object serving as a backend, with what was learned of it once, when it was
/// given: which of its methods are `async def` (asked of every call made from background
/// work, where a plain `def` leaves the event loop's thread and an `async def` stays).
struct Host {
    obj: Py<PyAny>,
    coroutines: Vec<&'static str>,
}

impl Host {
    /// `obj` and which of `methods` it has as `async def` ([`CALL`]: `obj` itself).
    fn of(obj: &Bound<'_, PyAny>, methods: &[&'static str]) -> PyResult<Self> {
        let py = obj.py();
        let host = Self { obj: obj.clone().unbind(), coroutines: Vec::new() };
        let mut coroutines = Vec::new();
        for &method in methods {
            if let Some(callable) = host.method_if_any(py, method)?
                && is_coroutine_function(py, &callable)?
            {
                coroutines.push(method);
            }
        }
        Ok(Self { coroutines, ..host })
    }

    fn is_coroutine(&self, method: &str) -> bool {
        self.coroutines.contains(&method)
    }

    /// The callable that `method` names: a hook is the callable itself (an `async def`
    /// function's `__call__` is no coroutine function to `inspect`).
    fn method<'py>(&self, py: Python<'py>, method: &str) -> PyResult<Bound<'py, PyAny>> {
        if method == CALL { Ok(self.obj.bind(py).clone()) } else { self.obj.bind(py).getattr(method) }
    }

    fn method_if_any<'py>(&self, py: Python<'py>, method: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        if method == CALL || self.obj.bind(py).hasattr(method)? { self.method(py, method).map(Some) } else { Ok(None) }
    }
}

/// Whether `callable` is an `async def` (its call makes a coroutine and runs none of it).
fn is_coroutine_function(py: Python<'_>, callable: &Bound<'_, PyAny>) -> PyResult<bool> {
    static IS_COROUTINE_FUNCTION: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    IS_COROUTINE_FUNCTION.import(py, "inspect", "iscoroutinefunction")?.call1((callable,))?.is_truthy()
}

/// What a backend method returned, read by `read` (a Python `None`: `None`, not read).
fn read_optional<T>(
    out: Py<PyAny>,
    read: impl for<'py> FnOnce(Python<'py>, &Bound<'py, PyAny>) -> Result<T, BackendError>,
) -> Result<Option<T>, BackendError> {
    Python::attach(|py| {
        let out = out.bind(py);
        if out.is_none() {
            return Ok(None);
        }
        read(py, out).map(Some)
    })
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

/// An adapter of a Python object to one of the core's backend traits: the object, made from
/// one that has every method of its protocol (`of`), with a `Debug` that names its Python type
/// and shows no state.
macro_rules! py_backend {
    ($(#[$doc:meta])* $name:ident: $protocol:literal [$($method:literal),+] $(optional [$($optional:literal),+])?) => {
        $(#[$doc])*
        pub(crate) struct $name {
            host: Host,
        }

        impl $name {
            /// The adapter of `obj`; a `TypeError` when it lacks a method of the protocol.
            pub(crate) fn of(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
                require_methods(obj, $protocol, &[$($method),+])?;
                Ok(Self { host: Host::of(obj, &[$($method),+ $($(, $optional)+)?])? })
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), type_name(&self.host.obj))
            }
        }
    };
}

py_backend! {
    /// A `Directory` implemented in Python.
    PyDirectory: "Directory" ["find_user", "set_password", "unlock"] optional ["authenticate", "search", "change_password"]
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
        let out = call_backend(&self.host, "find_user", |py| PyTuple::new(py, [login])).await?;
        read_optional(out, |py, out| extract_user(py, out).map_err(|e| bad_return(py, "find_user", e)))
    }

    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        let id = user.as_str();
        call_backend(&self.host, "set_password", |py| {
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
        call_backend(&self.host, "unlock", |py| PyTuple::new(py, [id])).await?;
        Ok(())
    }

    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        let id = user.as_str();
        let out = call_backend(&self.host, "authenticate", |py| {
            let secret = Py::new(py, Secret::from_password(Password::new(password.expose_secret())))?;
            PyTuple::new(py, [id.into_bound_py_any(py)?, secret.into_bound(py).into_any()])
        })
        .await?;
        Python::attach(|py| {
            let answer = out.bind(py).cast::<PyString>().map_err(|e| bad_return(py, "authenticate", e.into()))?;
            let answer = answer.to_cow().map_err(|e| bad_return(py, "authenticate", e))?;
            Authentication::from_str(&answer)
                .map_err(|e| bad_return(py, "authenticate", PyTypeError::new_err(e.to_string())))
        })
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<CoreUser>, BackendError> {
        let out = call_backend(&self.host, "search", |py| {
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

    /// Only when the Python directory has a `change_password` method (the contract's
    /// default, `NotSupported`, otherwise): it gets the user id and both passwords as
    /// `Secret`s, and raises `sspr.PasswordRejected(reason, refusal=...)` to refuse.
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        let offered = Python::attach(|py| self.host.obj.bind(py).hasattr("change_password").unwrap_or(false));
        if !offered {
            return Err(BackendError::not_supported("change_password"));
        }
        let id = user.as_str();
        call_backend(&self.host, "change_password", |py| {
            let old = Py::new(py, Secret::from_password(Password::new(old.expose_secret())))?;
            let new = Py::new(py, Secret::from_password(Password::new(new.expose_secret())))?;
            PyTuple::new(py, [id.into_bound_py_any(py)?, old.into_bound(py).into_any(), new.into_bound(py).into_any()])
        })
        .await?;
        Ok(())
    }
}

py_backend! {
    /// A `ContactStore` implemented in Python.
    PyContactStore: "ContactStore" ["get", "save"] optional ["list"]
}

#[async_trait]
impl ContactStore for PyContactStore {
    async fn get(&self, user: &UserId) -> Result<Option<CoreEnrollment>, BackendError> {
        let id = user.as_str();
        let out = call_backend(&self.host, "get", |py| PyTuple::new(py, [id])).await?;
        read_optional(out, |py, out| {
            let record = out
                .cast::<Enrollment>()
                .map_err(|_| bad_return(py, "get", PyTypeError::new_err("expected an sspr.Enrollment or None")))?;
            // A record a Python store gives back is checked like one from any host store.
            sspr_bind::check_enrollment(record.get().inner.clone())
        })
    }

    async fn save(
        &self,
        user: &UserId,
        enrollment: &CoreEnrollment,
        expected_version: u64,
    ) -> Result<bool, BackendError> {
        let id = user.as_str();
        let out = call_backend(&self.host, "save", |py| {
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

    /// The store's optional `list(after: str | None, limit: int)`: `(user_id, sspr.Enrollment)`
    /// pairs in ascending order of the id (found by `hasattr`, like `change_password` on a
    /// directory); without it the contract's `NotSupported`, and the engine reads users one by
    /// one.
    async fn list(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<(UserId, CoreEnrollment)>, BackendError> {
        if !Python::attach(|py| self.host.obj.bind(py).hasattr(intern!(py, "list")).unwrap_or(false)) {
            return Err(BackendError::not_supported("list"));
        }
        let after = after.map(|a| a.as_str().to_owned());
        let out = call_backend(&self.host, "list", |py| {
            PyTuple::new(py, [after.into_pyobject(py)?.into_any(), limit.into_pyobject(py)?.into_any()])
        })
        .await?;
        Python::attach(|py| {
            let pairs: Vec<(String, Bound<'_, PyAny>)> =
                out.bind(py).extract().map_err(|e| bad_return(py, "list", e))?;
            pairs
                .into_iter()
                .map(|(id, record)| {
                    let record = record.cast::<Enrollment>().map_err(|_| {
                        bad_return(py, "list", PyTypeError::new_err("expected (user_id, sspr.Enrollment) pairs"))
                    })?;
                    // Checked like a record `get` gives back.
                    Ok((UserId::new(id), sspr_bind::check_enrollment(record.get().inner.clone())?))
                })
                .collect()
        })
    }
}

py_backend! {
    /// A `Notifier` implemented in Python.
    PyNotifier: "Notifier" ["send"]
}

#[async_trait]
impl Notifier for PyNotifier {
    async fn send(&self, notification: &CoreNotification) -> Result<(), BackendError> {
        call_backend(&self.host, "send", |py| {
            let n = Py::new(py, Notification { inner: notification.clone() })?;
            PyTuple::new(py, [n])
        })
        .await?;
        Ok(())
    }
}

py_backend! {
    /// The inbox `sspr.testing.check_notifier` reads: `read(destination: str) -> list[str]`,
    /// the messages delivered there so far, oldest first.
    PyInbox: "Inbox" ["read"]
}

#[async_trait]
impl sspr_core::testing::Inbox for PyInbox {
    async fn read(&self, to: &sspr_core::Destination) -> Result<Vec<String>, BackendError> {
        let out = call_backend(&self.host, "read", |py| PyTuple::new(py, [to.as_str()])).await?;
        Python::attach(|py| out.bind(py).extract().map_err(|e| bad_return(py, "list[str]", e)))
    }
}

py_backend! {
    /// An `AuditSink` implemented in Python: `record(event: dict)`.
    PyAuditSink: "AuditSink" ["record"]
}

#[async_trait]
impl AuditSink for PyAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let json = event.to_json();
        call_backend(&self.host, "record", |py| PyTuple::new(py, [json_to_py(py, &json)?])).await?;
        Ok(())
    }
}

py_backend! {
    /// A `PasswordChecker` implemented in Python (`sspr.PasswordChecker` protocol):
    /// `check(password: Secret, login: str, display_name: str)` gives None to accept the chosen
    /// password, or a reason (str) to refuse it, which the user is shown (refusal
    /// `"unspecified"`). Raising `TimeoutError`, `ConnectionError` or `OSError` (a service down:
    /// kind `unavailable`) lets the policy's `password_check_fail_open` decide; any other exception
    /// refuses. Plain or `async def`.
    PyPasswordChecker: "PasswordChecker" ["check"]
}

#[async_trait]
impl PasswordChecker for PyPasswordChecker {
    async fn check(&self, candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError> {
        let (login, name) = (candidate.user.login.as_str(), candidate.user.display_name.as_str());
        let out = call_backend(&self.host, "check", |py| {
            let secret = Py::new(py, Secret::from_password(Password::new(candidate.password.expose_secret())))?;
            PyTuple::new(
                py,
                [
                    secret.into_bound(py).into_any(),
                    login.into_pyobject(py)?.into_any(),
                    name.into_pyobject(py)?.into_any(),
                ],
            )
        })
        .await?;
        Python::attach(|py| {
            let reason: Option<String> = out
                .bind(py)
                .extract()
                .map_err(|_| bad_return(py, "check", PyTypeError::new_err("expected None or a reason (str)")))?;
            Ok(PasswordFeedback::from_host_reason(reason))
        })
    }
}

/// An event hook written in Python: a callable (plain or `async def`) taking the event's name
/// and the audit event as a dict, as `AuditSink.record` gets it. What it returns is ignored;
/// an exception is audited as `hook_failed` with its text.
pub(crate) struct PyEventHook {
    host: Host,
}

impl fmt::Debug for PyEventHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PyEventHook({})", type_name(&self.host.obj))
    }
}

#[async_trait]
impl EventHook for PyEventHook {
    async fn on_event(&self, event: HookEvent, audit: &AuditEvent) -> Result<(), BackendError> {
        let json = audit.to_json();
        call_backend(&self.host, CALL, |py| {
            PyTuple::new(py, [event.as_str().into_pyobject(py)?.into_any(), json_to_py(py, &json)?])
        })
        .await?;
        Ok(())
    }
}

/// The hooks of a `hooks={"reset_completed": fn, ...}` mapping: each key an event's name (a
/// name it does not know is `InvalidInput`, field `event`), each value a callable.
pub(crate) fn event_hooks(hooks: &Bound<'_, PyDict>) -> PyResult<Vec<(HookEvent, Arc<dyn EventHook>)>> {
    let mut out = Vec::new();
    for (name, callable) in hooks.iter() {
        let event = HookEvent::from_str(&name.extract::<String>()?).map_err(crate::errors::to_py_err)?;
        if !callable.is_callable() {
            return Err(PyTypeError::new_err(format!("the hook for {} is not callable", event.as_str())));
        }
        out.push((event, Arc::new(PyEventHook { host: Host::of(&callable, &[CALL])? }) as Arc<dyn EventHook>));
    }
    Ok(out)
}

/// A Python object as a password checker (`sspr.PasswordChecker` protocol).
pub(crate) fn password_checker(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn PasswordChecker>> {
    Ok(Arc::new(PyPasswordChecker::of(obj)?))
}

py_backend! {
    /// A `StateStore` implemented in Python (`sspr.StateStore` protocol): `get(key, now)` gives
    /// `(value: bytes, version: int)` or None, `put(key, value, expected_version, expires_at,
    /// now)` the new version or None when the compare-and-set lost, `increment(key, expires_at,
    /// now)` `(count, expires_at)`, `delete(key)`. Batches use the trait's defaults (one call
    /// per part), which keep any correct store correct.
    PyStateStore: "StateStore" ["get", "put", "increment", "delete"]
}

/// A whole number a Python store returned (a version or a count). A bool is an int in
/// Python: `True` ("it worked") would otherwise be read as 1.
fn store_number(py: Python<'_>, method: &str, value: &Bound<'_, PyAny>) -> Result<u64, BackendError> {
    if value.is_instance_of::<PyBool>() {
        return Err(bad_return(py, method, PyTypeError::new_err("expected an int, got a bool")));
    }
    value.extract().map_err(|e| bad_return(py, method, e))
}

/// A version a Python store returned: a whole number from 1 up.
fn stored_version(py: Python<'_>, method: &str, value: &Bound<'_, PyAny>) -> Result<u64, BackendError> {
    let version = store_number(py, method, value)?;
    if version == 0 {
        return Err(bad_return(py, method, PyTypeError::new_err("a version starts at 1")));
    }
    Ok(version)
}

#[async_trait]
impl StateStore for PyStateStore {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        let out = call_backend(&self.host, "get", |py| {
            PyTuple::new(py, [key.into_bound_py_any(py)?, now.into_bound_py_any(py)?])
        })
        .await?;
        read_optional(out, |py, out| {
            let (value, version): (Vec<u8>, Bound<'_, PyAny>) = out.extract().map_err(|e| bad_return(py, "get", e))?;
            Ok(StoredValue { value, version: stored_version(py, "get", &version)? })
        })
    }

    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        let out = call_backend(&self.host, "put", |py| {
            PyTuple::new(
                py,
                [
                    key.into_bound_py_any(py)?,
                    PyBytes::new(py, value).into_any(),
                    expected_version.into_bound_py_any(py)?,
                    expires_at.into_bound_py_any(py)?,
                    now.into_bound_py_any(py)?,
                ],
            )
        })
        .await?;
        read_optional(out, |py, out| stored_version(py, "put", out))
    }

    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        let out = call_backend(&self.host, "increment", |py| {
            PyTuple::new(
                py,
                [key.into_bound_py_any(py)?, expires_at.into_bound_py_any(py)?, now.into_bound_py_any(py)?],
            )
        })
        .await?;
        Python::attach(|py| {
            let (count, expires_at): (Bound<'_, PyAny>, OffsetDateTime) =
                out.bind(py).extract().map_err(|e| bad_return(py, "increment", e))?;
            Ok(Counter { count: store_number(py, "increment", &count)?, expires_at })
        })
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        call_backend(&self.host, "delete", |py| PyTuple::new(py, [key])).await?;
        Ok(())
    }
}

/// A Python object as the state store (`sspr.StateStore` protocol). An object that is not
/// one is a `ConfigError`, as it was before Python stores were accepted.
pub(crate) fn store(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn StateStore>> {
    let store = PyStateStore::of(obj).map_err(|e| Python::attach(|py| config_error(e.value(py).to_string())))?;
    Ok(Arc::new(store))
}

/// A Python object as the directory (`sspr.Directory` protocol).
pub(crate) fn directory(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Directory>> {
    Ok(Arc::new(PyDirectory::of(obj)?))
}

/// A Python object as the contact store (`sspr.ContactStore` protocol).
pub(crate) fn contacts(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn ContactStore>> {
    Ok(Arc::new(PyContactStore::of(obj)?))
}

/// A Python object as the notifier (`sspr.Notifier` protocol).
pub(crate) fn notifier(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Notifier>> {
    Ok(Arc::new(PyNotifier::of(obj)?))
}

/// A Python object as the audit sink (`sspr.AuditSink` protocol).
pub(crate) fn audit(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn AuditSink>> {
    Ok(Arc::new(PyAuditSink::of(obj)?))
}
