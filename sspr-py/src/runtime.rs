//! How the core's futures are driven from Python.
//!
//! - `Sspr` (asyncio): each operation is a pyo3 coroutine polled by the caller's event loop
//!   on the loop's thread. Every poll runs inside the tokio runtime's context (so backends
//!   built on tokio find their reactor) and with the GIL released; a Python backend
//!   re-attaches to call Python.
//! - `BlockingSspr`: the calling thread blocks on the future with the GIL released.
//!
//! A Python backend's `async def` is awaited on the event loop in the first case and run on
//! a private per-thread event loop in the second (see [`crate::awaitable`]).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use sspr_bind::runtime::{self, RuntimeError, RuntimeHandle};

use crate::foreign::PyAwait;

/// This process's runtime (sspr-bind's: one per process, so a forked child starts its own).
/// Look it up at each use rather than keep it: a handle kept across a fork points at the
/// parent's runtime.
pub(crate) fn handle() -> PyResult<RuntimeHandle> {
    runtime::handle().map_err(runtime_error)
}

/// A runtime failure (it could not start, or its timer stopped during a call) as Python's
/// `RuntimeError`: not an sspr error of the call's inputs.
fn runtime_error(err: RuntimeError) -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err(err.to_string())
}

thread_local! {
    /// Set while `BlockingSspr` drives a future on this thread: Python backends' coroutines
    /// are then run on a private event loop instead of the (absent) running one.
    static BLOCKING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is inside a `BlockingSspr` call.
pub(crate) fn in_blocking_call() -> bool {
    BLOCKING.with(Cell::get)
}

/// Holds a value whose drop may need the tokio runtime (connection pools, network clients:
/// their `Drop` may spawn or reach the reactor). Python drops objects on whatever thread
/// runs the garbage collector, outside any runtime: this enters the runtime first.
pub(crate) struct InRuntime<T>(Option<T>);

impl<T> InRuntime<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(Some(value))
    }

    /// The value (always there until the wrapper is dropped).
    pub(crate) fn get(&self) -> PyResult<&T> {
        self.0.as_ref().ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("this object was already released"))
    }
}

impl<T> Drop for InRuntime<T> {
    fn drop(&mut self) {
        let value = self.0.take();
        match runtime::handle() {
            Ok(handle) => {
                let _runtime = handle.tokio().enter();
                drop(value);
            }
            Err(_) => drop(value),
        }
    }
}

/// Set by the `atexit` hook [`before_exit`]: Rust threads no longer enter Python.
static EXITING: AtomicBool = AtomicBool::new(false);
/// Rust threads inside Python now (through [`PythonEntry`]).
static ENTERED: AtomicUsize = AtomicUsize::new(0);
/// The longest the exit waits for Rust threads that are inside Python.
const EXIT_WAIT: Duration = Duration::from_secs(3);

/// A Rust thread (the runtime's, a store's own) entering Python. CPython ends a thread that
/// wants the GIL once finalization began from inside `take_gil` (`pthread_exit`), which
/// Rust frames cannot unwind through: the process aborts. That happened to an asyncio
/// script on `SqliteStore` about one exit in two: the store's thread, waking the coroutine
/// whose answer it had just sent, was between the wake's write to the loop's self-pipe and
/// taking the GIL back when the script ended. Every such entry is counted, and none starts
/// after [`before_exit`] ran.
pub(crate) struct PythonEntry(());

impl PythonEntry {
    /// Enter, unless the interpreter is exiting.
    pub(crate) fn enter() -> Option<Self> {
        ENTERED.fetch_add(1, Ordering::SeqCst);
        if EXITING.load(Ordering::SeqCst) {
            ENTERED.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Self(()))
    }
}

impl Drop for PythonEntry {
    fn drop(&mut self) {
        ENTERED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Registered with `atexit` when the module loads (so it runs after the hooks registered
/// later, e.g. a framework's flush): from now on no Rust thread enters Python, and the ones
/// inside finish first (for at most [`EXIT_WAIT`], with the GIL released so they can).
#[pyfunction]
pub(crate) fn before_exit(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    py.detach(|| {
        #[allow(clippy::disallowed_methods)] // a real wait at exit, not the engine's time
        let started = Instant::now();
        while ENTERED.load(Ordering::SeqCst) > 0 && started.elapsed() < EXIT_WAIT {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// The waker handed to the core's futures in place of pyo3's, which calls into Python (the
/// loop's `call_soon_threadsafe`) from whatever thread wakes it: entered as a [`PythonEntry`].
struct GuardedWaker(Waker);

impl Wake for GuardedWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(_entry) = PythonEntry::enter() {
            self.0.wake_by_ref();
        }
    }
}

/// A future polled inside the runtime's context (sspr-bind's guard: a timer that stopped
/// fails the call instead of answering unpadded), with the GIL released; dropped inside it
/// too, so a cancelled call drops the core's future with its backend futures there.
pub(crate) struct Driven<F> {
    inner: InRuntime<Pin<Box<runtime::InRuntime<F>>>>,
    /// pyo3's waker of the last poll and the [`GuardedWaker`] around it.
    waker: Option<(Waker, Waker)>,
}

impl<F: Future + Send> Future for Driven<F>
where
    F::Output: Send,
{
    type Output = PyResult<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(inner) = this.inner.0.as_mut() else {
            return Poll::Pending;
        };
        let waker = match &this.waker {
            Some((given, guarded)) if given.will_wake(cx.waker()) => guarded.clone(),
            _ => {
                let guarded = Waker::from(Arc::new(GuardedWaker(cx.waker().clone())));
                this.waker = Some((cx.waker().clone(), guarded.clone()));
                guarded
            }
        };
        let polled = Python::attach(|py| py.detach(|| inner.as_mut().poll(&mut Context::from_waker(&waker))));
        polled.map(|out| out.map_err(runtime_error))
    }
}

/// Wrap an operation's future for the asyncio API.
pub(crate) fn driven<F>(future: F) -> PyResult<Driven<F>>
where
    F: Future + Send,
    F::Output: Send,
{
    // Start (or check) this process's runtime now, so a failure is an error of the call.
    let handle = handle()?;
    Ok(Driven { inner: InRuntime::new(Box::pin(handle.guard(future))), waker: None })
}

/// Run an operation's future to completion on this thread, with the GIL released.
pub(crate) fn block_on<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let handle = handle()?;
    py.detach(|| {
        let _blocking = BlockingGuard::enter();
        runtime::block_on(handle.guard(future))
    })
    .map_err(runtime_error)
}

/// Marks the thread as inside a blocking call until dropped (also when unwinding).
struct BlockingGuard {
    previous: bool,
}

impl BlockingGuard {
    fn enter() -> Self {
        Self { previous: BLOCKING.with(|b| b.replace(true)) }
    }
}

impl Drop for BlockingGuard {
    fn drop(&mut self) {
        let previous = self.previous;
        BLOCKING.with(|b| b.set(previous));
    }
}

/// The engine's spawner: where deliveries that outlast a `send_pin` call run.
///
/// - From `Sspr` (asyncio), on the caller's event loop, as an `asyncio.Task`: a Python
///   backend's coroutine must be stepped on its loop's thread, and the task is polled inside
///   the tokio runtime's context like every operation.
/// - From `BlockingSspr`, on the tokio runtime, each poll marked as a blocking call so that a
///   Python backend's coroutine runs on that thread's private event loop.
///
/// It keeps no runtime handle: each spawn goes to the runtime of the process it runs in.
#[derive(Debug)]
pub(crate) struct PySpawner;

/// Run a background task on this process's runtime (dropped, as the [`sspr_core::Spawn`]
/// contract allows, if no runtime can be started).
fn spawn_on_runtime(task: sspr_core::runtime::Task) {
    if let Ok(handle) = runtime::handle() {
        handle.spawn(Box::pin(MarkedBlocking(runtime::Background::new(task))));
    }
}

impl sspr_core::Spawn for PySpawner {
    fn spawn(&self, task: sspr_core::runtime::Task) {
        if in_blocking_call() {
            spawn_on_runtime(task);
            return;
        }
        let holder = std::sync::Arc::new(std::sync::Mutex::new(Some(task)));
        let on_loop = Python::attach(|py| -> PyResult<()> {
            static SPAWN: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
            let delivery = Py::new(py, Delivery { task: holder.clone() })?;
            let run = pyo3::wrap_pyfunction!(run_delivery, py)?;
            SPAWN.import(py, "sspr._support", "spawn")?.call1((run, delivery))?;
            Ok(())
        });
        if on_loop.is_err() {
            // No running event loop on this thread after all: tokio runs the delivery.
            let task = holder.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some(task) = task {
                spawn_on_runtime(task);
            }
        }
    }
}

/// A background task polled as if inside a `BlockingSspr` call.
struct MarkedBlocking(runtime::Background<dyn Future<Output = ()> + Send>);

impl Future for MarkedBlocking {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _blocking = BlockingGuard::enter();
        Pin::new(&mut self.0).poll(cx)
    }
}

/// A delivery handed to the event loop (taken out once, by `run_delivery`).
#[pyclass(frozen)]
struct Delivery {
    task: std::sync::Arc<std::sync::Mutex<Option<sspr_core::runtime::Task>>>,
}

/// How a cancelled delivery ended (see [`run_delivery`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClosingEnd {
    /// Done within the grace period.
    Done,
    /// Still not done after the grace period: dropped.
    Abandoned,
}

impl ClosingEnd {
    /// The name `sspr._support.closing` reads.
    fn name(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Abandoned => "abandoned",
        }
    }
}

/// The coroutine an `asyncio.Task` runs for one delivery.
///
/// A cancellation does not drop the work. What cancels these tasks is a loop's shutdown:
/// `asyncio.run` cancels every task still pending when its coroutine returns, runs the loop
/// until they end, then closes it. Dropped there, a reset's notice to the owner and its audit
/// event were lost without a word (a script or a task queue calling the engine through one
/// `asyncio.run` per call). So the work goes on for up to `grace` seconds (its backend calls
/// keep their own timeouts), which keeps the loop running, and is dropped only then; then
/// `closing(end)` is awaited: it warns if the work was dropped and keeps the loop running
/// until the deliveries started meanwhile (which the shutdown did not cancel) end too.
#[pyfunction]
async fn run_delivery(
    delivery: Py<Delivery>,
    grace: f64,
    closing: Py<PyAny>,
    #[pyo3(cancel_handle)] mut cancel: pyo3::coroutine::CancelHandle,
) -> PyResult<()> {
    let task = delivery.get().task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    let Some(task) = task else { return Ok(()) };
    let grace = Duration::try_from_secs_f64(grace).unwrap_or(Duration::ZERO);
    // Polled inside the runtime like every operation, so the grace timer is tokio's.
    let ended = driven(async move {
        let mut work = runtime::Background::new(task);
        tokio::select! {
            biased;
            () = &mut work => return None,
            _ = cancel.cancelled() => {}
        }
        Some(match tokio::time::timeout(grace, work).await {
            Ok(()) => ClosingEnd::Done,
            Err(_) => ClosingEnd::Abandoned,
        })
    })?
    .await?;
    let Some(end) = ended else { return Ok(()) };
    let drain = Python::attach(|py| closing.bind(py).call1((end.name(),)).and_then(|c| PyAwait::new(&c)))?;
    drain.await.map(drop)
}
