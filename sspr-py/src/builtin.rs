//! The backends of `sspr-backends`, offered as Python classes in `sspr.backends` when the
//! package is built with their cargo features. Each `fn` here says whether a Python object
//! is one of them, and hands the engine its Rust backend.

use std::sync::Arc;

use pyo3::prelude::*;
use sspr_core::{ContactStore, Directory, Notifier, StateStore};

/// The built-in directory `obj` is, if it is one.
pub(crate) fn directory(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn Directory>>> {
    let _ = obj;
    Ok(None)
}

/// The built-in contact store `obj` is, if it is one.
pub(crate) fn contacts(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn ContactStore>>> {
    let _ = obj;
    Ok(None)
}

/// The built-in notifier `obj` is, if it is one.
pub(crate) fn notifier(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn Notifier>>> {
    let _ = obj;
    Ok(None)
}

/// The built-in state store `obj` is, if it is one.
pub(crate) fn store(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<dyn StateStore>>> {
    let _ = obj;
    Ok(None)
}

/// Register the built-in backend classes in the `backends` submodule.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let _ = m;
    Ok(())
}
