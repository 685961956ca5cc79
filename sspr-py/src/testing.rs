//! `sspr.testing`: sspr-core's backend conformance suite run on backends written in Python,
//! so that someone writing a store or a directory in Python can prove it keeps the contract
//! the engine relies on. A broken rule raises `sspr.BackendError` (kind `"rejected"`) naming
//! it: the suite's failed assertion is caught at this boundary (`sspr_bind::conformance`,
//! which keeps its panic message off stderr).

use std::time::Duration;

use pyo3::prelude::*;
use sspr_core::testing::{self, DirectoryFixture};
use sspr_core::{Clock, ManualClock, SystemClock, UserId};

use sspr_bind::conformance::conformance;
use sspr_bind::runtime::Background;

use crate::errors::to_py_err;
use crate::foreign;
use crate::runtime::{block_on, driven};
use crate::values::SecretArg;

/// Run one suite on this thread (Python methods are called here; `async def` ones on a
/// private event loop), turning a broken rule into `BackendError`.
fn run(py: Python<'_>, suite: impl std::future::Future<Output = ()> + Send) -> PyResult<()> {
    block_on(py, conformance(suite))?.map_err(to_py_err)
}

/// Run one suite as a coroutine of the running event loop, calling the store as the engine's
/// concurrent callers do: its `async def` methods run as tasks of that loop, so the suite's
/// concurrent calls (50 racing compare-and-sets, 100 racing increments) interleave at the
/// store's `await`s; its plain `def` methods each run on a thread of their own (the runtime's
/// blocking pool, as background work calls them), as a threaded web server's requests call
/// them through `BlockingSspr`, so they race for real. Run on a private loop one call at a
/// time, a store that reads, awaits, then writes passed every race while its races let 30
/// concurrent wrong PINs through under `Sspr`; run on the loop's thread, a plain `def` that
/// reads, then writes (a GET then a SET to its server) passed them while, of 30 wrong PINs sent
/// from 30 threads through `BlockingSspr`, 13 were compared (answered `WrongPin`; 4 on a
/// store with a lock).
async fn run_on_loop(suite: impl std::future::Future<Output = ()> + Send) -> PyResult<()> {
    driven(conformance(Background::new(Box::pin(suite))))?.await?.map_err(to_py_err)
}

/// Check a Python `StateStore`: reads, compare-and-set, counters, expiry, deletes, batches,
/// races and a crowd of entries. The store is given the times of a manual clock that the suite
/// moves, so expiry is checked without waiting (the store must judge expiry by the `now` it is
/// given); then one real wait of about a second checks that the store's own clock (a TTL its
/// server applies) does not end entries early. A coroutine: `sspr.testing.check_state_store`
/// runs it on an event loop.
#[pyfunction]
pub(crate) async fn state_store_suite(store: Py<PyAny>) -> PyResult<()> {
    let store = Python::attach(|py| foreign::PyStateStore::of(store.bind(py)))?;
    let clock = ManualClock::new(SystemClock.now());
    let moved = clock.clone();
    let wait = move |d: Duration| {
        moved.advance(d);
        std::future::ready(())
    };
    run_on_loop(async move {
        testing::state_store_conformance(&store, &clock, wait).await;
        testing::state_store_clock_conformance(&store, &clock, tokio::time::sleep).await;
    })
    .await
}

/// Check a Python `ContactStore`: absent records, versions and compare-and-set saves
/// (20 racing saves). A coroutine, like [`state_store_suite`].
#[pyfunction]
pub(crate) async fn contact_store_suite(store: Py<PyAny>) -> PyResult<()> {
    let store = Python::attach(|py| foreign::PyContactStore::of(store.bind(py)))?;
    run_on_loop(async move { testing::contact_store_conformance(&store, &SystemClock).await }).await
}

/// Check a Python `Notifier` with the destinations it serves (e-mail addresses, E.164
/// numbers) and, optionally, the inbox their recipients read (`read(destination) ->
/// list[str]`). A coroutine, like [`state_store_suite`].
#[pyfunction]
#[pyo3(signature = (notifier, destinations, inbox = None))]
pub(crate) async fn notifier_suite(
    notifier: Py<PyAny>,
    destinations: Vec<String>,
    inbox: Option<Py<PyAny>>,
) -> PyResult<()> {
    let (notifier, inbox) = Python::attach(|py| {
        let inbox = inbox.map(|i| foreign::PyInbox::of(i.bind(py))).transpose()?;
        Ok::<_, PyErr>((foreign::PyNotifier::of(notifier.bind(py))?, inbox))
    })?;
    let checked = driven(Background::new(Box::pin(async move {
        let inbox = inbox.as_ref().map(|i| i as &dyn testing::Inbox);
        sspr_bind::conformance::check_notifier(&notifier, &destinations, inbox).await
    })))?;
    checked.await?.map_err(to_py_err)
}

/// Check a Python `Directory` with a user it holds (`login`, `id`, `good_password` it
/// accepts), a login it does not hold, and optionally a password it must refuse and the
/// groups `find_user` must list for the user (nested ones too). The
/// suite sets the user's password: use a test directory.
#[pyfunction]
#[pyo3(signature = (directory, *, login, id, missing_login, good_password, weak_password = None, groups = Vec::new()))]
// Python's keyword arguments, one parameter each.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_directory(
    py: Python<'_>,
    directory: &Bound<'_, PyAny>,
    login: String,
    id: String,
    missing_login: String,
    good_password: SecretArg,
    weak_password: Option<SecretArg>,
    groups: Vec<String>,
) -> PyResult<()> {
    let directory = foreign::PyDirectory::of(directory)?;
    let fixture = DirectoryFixture {
        login,
        id: UserId::new(id),
        missing_login,
        good_password: good_password.into_password(),
        weak_password: weak_password.map(SecretArg::into_password),
        groups,
    };
    run(py, testing::directory_conformance(&directory, &fixture))
}

/// Register the checks in `sspr._sspr.testing`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(state_store_suite, m)?)?;
    m.add_function(wrap_pyfunction!(contact_store_suite, m)?)?;
    m.add_function(wrap_pyfunction!(check_directory, m)?)?;
    m.add_function(wrap_pyfunction!(notifier_suite, m)?)?;
    Ok(())
}
