//! `sspr.testing`: sspr-core's backend conformance suite run on backends written in Python,
//! so that someone writing a store or a directory in Python can prove it keeps the contract
//! the engine relies on. A broken rule raises `sspr.BackendError` (kind `"rejected"`) naming
//! it: the suite's failed assertion is caught at this boundary.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use pyo3::prelude::*;
use sspr_core::testing::{self, DirectoryFixture};
use sspr_core::{BackendError, BackendErrorKind, Clock, ManualClock, SystemClock, UserId};

use crate::errors::to_py_err;
use crate::foreign;
use crate::runtime::block_on;
use crate::values::SecretArg;

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the conformance suite failed".to_owned())
}

/// Run one suite on this thread (Python methods are called here; `async def` ones on a
/// private event loop), turning a broken rule into `BackendError`.
fn run(py: Python<'_>, suite: impl std::future::Future<Output = ()> + Send) -> PyResult<()> {
    let outcome = block_on(py, AssertUnwindSafe(suite).catch_unwind())?;
    outcome.map_err(|payload| {
        let rule = panic_message(payload.as_ref());
        to_py_err(sspr_core::Error::from(BackendError::new(BackendErrorKind::Rejected, format!("conformance: {rule}"))))
    })
}

/// Check a Python `StateStore`: reads, compare-and-set, counters, expiry, deletes and
/// batches. The store is given the times of a manual clock that the suite moves, so expiry
/// is checked without waiting (the store must judge expiry by the `now` it is given).
#[pyfunction]
pub(crate) fn check_state_store(py: Python<'_>, store: &Bound<'_, PyAny>) -> PyResult<()> {
    let store = foreign::PyStateStore::of(store)?;
    let clock = ManualClock::new(SystemClock.now());
    let moved = clock.clone();
    let wait = move |d: Duration| {
        moved.advance(d);
        std::future::ready(())
    };
    run(py, testing::state_store_conformance(&store, &clock, wait))
}

/// Check a Python `ContactStore`: absent records, versions and compare-and-set saves.
#[pyfunction]
pub(crate) fn check_contact_store(py: Python<'_>, store: &Bound<'_, PyAny>) -> PyResult<()> {
    let store = foreign::PyContactStore::of(store)?;
    run(py, testing::contact_store_conformance(&store, &SystemClock))
}

/// Check a Python `Directory` with a user it holds (`login`, `id`, `good_password` it
/// accepts), a login it does not hold, and optionally a password it must refuse. The
/// suite sets the user's password: use a test directory.
#[pyfunction]
#[pyo3(signature = (directory, *, login, id, missing_login, good_password, weak_password = None))]
pub(crate) fn check_directory(
    py: Python<'_>,
    directory: &Bound<'_, PyAny>,
    login: String,
    id: String,
    missing_login: String,
    good_password: SecretArg,
    weak_password: Option<SecretArg>,
) -> PyResult<()> {
    let directory = foreign::PyDirectory::of(directory)?;
    let fixture = DirectoryFixture {
        login,
        id: UserId::new(id),
        missing_login,
        good_password: good_password.into_password(),
        weak_password: weak_password.map(SecretArg::into_password),
    };
    run(py, testing::directory_conformance(&directory, &fixture))
}

/// Register the checks in `sspr._sspr.testing`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check_state_store, m)?)?;
    m.add_function(wrap_pyfunction!(check_contact_store, m)?)?;
    m.add_function(wrap_pyfunction!(check_directory, m)?)?;
    Ok(())
}
