//! The one place where errors cross the boundary: core errors become `sspr.SsprError`
//! subclasses (defined in `sspr/_errors.py`), and exceptions raised by Python backends
//! become `BackendError`s for the core, keeping the Python exception as their source.

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyBaseException, PyConnectionError, PyOSError, PyTimeoutError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use sspr_bind::pages::{AnswerField, PageArg};
use sspr_core::{BackendError, BackendErrorKind, Error};

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || py.import("sspr._errors").map(Bound::unbind)).map(|m| m.bind(py))
}

/// An instance of `sspr.<class>(message)` with its stable `code` (sspr-core's
/// `Error::code`), other attributes, and what a web user is told for it (`http_status`,
/// `answer_code`, `message_id`, `message_args`, `answer_fields`: sspr-core's
/// `pages::describe`, through sspr-bind), as a `PyErr`.
fn make(py: Python<'_>, class: &str, err: &Error, attrs: Vec<(&str, Bound<'_, PyAny>)>) -> PyResult<PyErr> {
    let exc = errors_module(py)?.getattr(class)?.call1((err.to_string(),))?;
    exc.setattr(intern!(py, "code"), err.code())?;
    for (name, value) in attrs {
        exc.setattr(name, value)?;
    }
    let answer = sspr_bind::pages::describe(err);
    exc.setattr(intern!(py, "http_status"), answer.status)?;
    exc.setattr(intern!(py, "answer_code"), answer.code)?;
    exc.setattr(intern!(py, "message_id"), answer.message_id)?;
    let args = PyDict::new(py);
    for (name, value) in &answer.message_args {
        match value {
            PageArg::Text(text) => args.set_item(name.as_str(), text.as_str())?,
            PageArg::Number(n) => args.set_item(name.as_str(), *n)?,
            PageArg::Time(at) => args.set_item(name.as_str(), *at)?,
        }
    }
    exc.setattr(intern!(py, "message_args"), args)?;
    let fields = PyDict::new(py);
    for (name, value) in &answer.fields {
        match value {
            AnswerField::Text(text) => fields.set_item(*name, text.as_str())?,
            AnswerField::Number(n) => fields.set_item(*name, *n)?,
        }
    }
    exc.setattr(intern!(py, "answer_fields"), fields)?;
    Ok(PyErr::from_value(exc))
}

fn attr<'py>(py: Python<'py>, value: impl IntoPyObject<'py>) -> PyResult<Bound<'py, PyAny>> {
    value.into_bound_py_any(py)
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let (class, attrs) = match err {
        Error::InvalidInput { field, reason } => {
            ("InvalidInput", vec![("field", attr(py, *field)?), ("reason", attr(py, reason.as_str())?)])
        }
        Error::WrongPin { attempts_left } => ("WrongPin", vec![("attempts_left", attr(py, *attempts_left)?)]),
        Error::PinVoided => ("PinVoided", vec![]),
        Error::Expired => ("Expired", vec![]),
        Error::AlreadyUsed => ("AlreadyUsed", vec![]),
        Error::InvalidState { reason } => ("InvalidState", vec![("reason", attr(py, *reason)?)]),
        Error::RateLimited { retry_after } => ("RateLimited", vec![("retry_after", attr(py, *retry_after)?)]),
        Error::Blocked { until } => ("Blocked", vec![("until", attr(py, *until)?)]),
        Error::NotAllowed { reason } => ("NotAllowed", vec![("reason", attr(py, reason.as_str())?)]),
        Error::PasswordRejected { reason, refusal, suggestions } => (
            "PasswordRejected",
            vec![
                ("reason", attr(py, reason.as_str())?),
                ("refusal", attr(py, refusal.as_str())?),
                ("suggestions", attr(py, suggestions.clone())?),
            ],
        ),
        Error::Challenge { reason } => ("ChallengeError", vec![("reason", attr(py, reason.as_str())?)]),
        Error::UnknownUser => ("UnknownUser", vec![]),
        Error::SignInFailed => ("SignInFailed", vec![]),
        Error::Config(_) => ("ConfigError", vec![]),
        Error::Backend { source } => {
            let made = make(py, "BackendError", err, vec![("kind", attr(py, source.kind().as_str())?)])?;
            // The Python exception a Python backend raised is the cause.
            let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(source);
            while let Some(c) = cause {
                if let Some(raised) = c.downcast_ref::<PythonCause>() {
                    made.set_cause(py, Some(raised.err.clone_ref(py)));
                    break;
                }
                cause = c.source();
            }
            return Ok(made);
        }
        _ => ("SsprError", vec![]),
    };
    make(py, class, err, attrs)
}

/// The Python exception for a core error.
pub(crate) fn to_py_err(err: Error) -> PyErr {
    Python::attach(|py| build(py, &err).unwrap_or_else(|e| e))
}

/// `sspr.InvalidInput` for an argument the binding itself refuses.
pub(crate) fn invalid_input(field: &'static str, reason: &str) -> PyErr {
    to_py_err(Error::InvalidInput { field, reason: reason.to_owned() })
}

/// `sspr.ConfigError` with a message.
pub(crate) fn config_error(message: impl Into<String>) -> PyErr {
    to_py_err(Error::Config(message.into()))
}

/// The core's name for `name`, a name of the kind `kind` (`"channel"`, `"not_allowed_reason"`,
/// `"backend_error_kind"`, `"error_code"`, ...: `sspr_bind::names::KINDS`), read by the core's
/// rule; `InvalidInput` naming the core's field for anything else. For names a host holds as
/// text (a configuration, a form) before it passes or compares them.
#[pyfunction]
pub(crate) fn parse_name(kind: &str, name: &str) -> PyResult<&'static str> {
    sspr_bind::names::core_name(kind, name).map_err(to_py_err)
}

/// The core's view of an exception a Python backend raised in `method`; the exception is
/// kept as the source (and becomes `__cause__` of the `sspr.BackendError` raised later).
pub(crate) fn backend_error(py: Python<'_>, method: &str, err: PyErr) -> BackendError {
    let rejected = errors_module(py)
        .and_then(|m| m.getattr("PasswordRejected"))
        .is_ok_and(|class| err.value(py).is_instance(&class).unwrap_or(false));
    let text = err.value(py).str().map(|s| s.to_string()).unwrap_or_default();
    if rejected {
        // The rule, when the directory named one (`PasswordRejected(reason, refusal="in_history")`).
        let refusal = err
            .value(py)
            .getattr("refusal")
            .ok()
            .and_then(|r| r.extract::<String>().ok())
            .and_then(|r| r.parse::<sspr_core::PasswordRefusal>().ok());
        return match refusal {
            Some(refusal) => BackendError::password_refused(refusal, text),
            None => BackendError::password_rejected(text),
        }
        .with_source(PythonCause::new(py, err));
    }
    // An `sspr.BackendError` names its kind (read by the core's rule when it was made).
    let named = errors_module(py)
        .and_then(|m| m.getattr("BackendError"))
        .is_ok_and(|class| err.value(py).is_instance(&class).unwrap_or(false));
    let named_kind = named
        .then(|| err.value(py).getattr("kind").ok()?.extract::<String>().ok()?.parse::<BackendErrorKind>().ok())
        .flatten();
    let kind = if let Some(kind) = named_kind {
        kind
    } else if err.is_instance_of::<PyConnectionError>(py)
        || err.is_instance_of::<PyTimeoutError>(py)
        || err.is_instance_of::<PyOSError>(py)
    {
        BackendErrorKind::Unavailable
    } else {
        BackendErrorKind::Other
    };
    let type_name = err.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
    let message =
        if text.is_empty() { format!("{method}: {type_name}") } else { format!("{method}: {type_name}: {text}") };
    BackendError::new(kind, message).with_source(PythonCause::new(py, err))
}

/// A Python backend returned a value of the wrong type.
pub(crate) fn bad_return(py: Python<'_>, method: &str, err: PyErr) -> BackendError {
    let text = err.value(py).str().map(|s| s.to_string()).unwrap_or_default();
    BackendError::new(BackendErrorKind::Rejected, format!("{method} returned an unexpected value: {text}"))
        .with_source(PythonCause::new(py, err))
}

/// How many exceptions chained to a Python backend's are read (a chain is rarely longer than
/// three; a cycle or a runaway chain stops here).
const CHAIN_LINKS: usize = 16;

/// What a Python backend raised, as the source of the core's `BackendError` (and later the
/// `__cause__` of the `sspr.BackendError`): the exception, and, as its source chain, the text of
/// each exception chained to it (`__cause__`, else `__context__`), read once while the GIL is
/// held. The core drops the source when a link's text quotes a secret the backend was handed
/// (a directory raising `RuntimeError("samba-tool failed") from` the `CalledProcessError` that
/// quotes `--newpassword=...`), so the caller is never handed the chain that holds it.
pub(crate) struct PythonCause {
    err: PyErr,
    text: String,
    chained: Option<Box<ChainedText>>,
}

/// One exception of a chain, as text: `Type: message`, its `args` and its notes.
#[derive(Debug)]
struct ChainedText {
    text: String,
    next: Option<Box<ChainedText>>,
}

impl PythonCause {
    fn new(py: Python<'_>, err: PyErr) -> Self {
        let value = err.value(py);
        let text = exception_text(value);
        let mut links = Vec::new();
        let mut link = next_link(value);
        while let Some(exc) = link {
            if links.len() >= CHAIN_LINKS || exc.is(value) {
                break;
            }
            links.push(exception_text(&exc));
            link = next_link(&exc);
        }
        let chained = links.into_iter().rev().fold(None, |next, text| Some(Box::new(ChainedText { text, next })));
        Self { err, text, chained }
    }
}

/// The exception chained to `exc`: its `__cause__`, else its `__context__`.
fn next_link<'py>(exc: &Bound<'py, PyBaseException>) -> Option<Bound<'py, PyBaseException>> {
    let py = exc.py();
    [intern!(py, "__cause__"), intern!(py, "__context__")]
        .into_iter()
        .find_map(|name| exc.getattr(name).ok().and_then(|c| c.cast_into::<PyBaseException>().ok()))
}

/// `Type: message`, the `args` and the notes of an exception: what a log of it prints.
fn exception_text(exc: &Bound<'_, PyBaseException>) -> String {
    let name = exc.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
    let message = exc.str().map(|s| s.to_string()).unwrap_or_default();
    let args = exc.getattr(intern!(exc.py(), "args")).and_then(|a| a.repr()).map(|r| r.to_string()).unwrap_or_default();
    let notes =
        exc.getattr(intern!(exc.py(), "__notes__")).and_then(|n| n.repr()).map(|r| r.to_string()).unwrap_or_default();
    format!("{name}: {message} {args} {notes}")
}

impl std::fmt::Debug for PythonCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.err, f)
    }
}

impl std::fmt::Display for PythonCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for PythonCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.chained.as_deref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl std::fmt::Display for ChainedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for ChainedText {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next.as_deref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}
