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
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use pyo3::prelude::*;

/// The tokio runtime the Rust backends (timers, network clients) run on: two worker
/// threads, started at first use in each process, with the id of the process that started it.
///
/// Per process because a fork (gunicorn `--preload`, uWSGI) copies the runtime's state but
/// not its worker threads: in the child, a sleep on the parent's runtime never fires and a
/// task spawned on it never runs. A child therefore starts its own runtime at first use.
static RUNTIME: Mutex<Option<(u32, &'static tokio::runtime::Runtime)>> = Mutex::new(None);

/// This process's runtime, started if this process has none yet.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    let pid = std::process::id();
    let mut current = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, rt)) = *current
        && owner == pid
    {
        return Ok(rt);
    }
    // A runtime inherited across a fork is left as it is (never dropped): its threads are
    // gone in this process, and shutting it down would wait for them.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sspr-tokio")
        .enable_all()
        .build()
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start the tokio runtime: {e}")))?;
    let rt: &'static tokio::runtime::Runtime = Box::leak(Box::new(rt));
    *current = Some((pid, rt));
    Ok(rt)
}

/// The handle of this process's runtime. Look it up at each use rather than keep it: a
/// handle kept across a fork points at the parent's runtime.
pub(crate) fn tokio_handle() -> PyResult<&'static tokio::runtime::Handle> {
    Ok(runtime()?.handle())
}

/// The engine's timer (answer padding): sleeps on this process's runtime.
#[derive(Debug)]
pub(crate) struct PyTimer;

#[async_trait::async_trait]
impl sspr_core::Timer for PyTimer {
    async fn sleep(&self, duration: std::time::Duration) {
        // Created inside the runtime's context, the sleep is registered with its time driver
        // and can then be polled from any thread.
        let sleep = match tokio_handle() {
            Ok(handle) => {
                let _context = handle.enter();
                tokio::time::sleep(duration)
            }
            // No runtime could be started: the answer is not padded rather than never given.
            Err(_) => return,
        };
        sleep.await;
    }
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
        match tokio_handle() {
            Ok(handle) => {
                let _runtime = handle.enter();
                drop(value);
            }
            Err(_) => drop(value),
        }
    }
}

/// A future polled inside the tokio runtime's context, with the GIL released (and dropped
/// inside it: a cancelled call drops the core's future with its backend futures).
pub(crate) struct Driven<F> {
    inner: InRuntime<Pin<Box<F>>>,
}

impl<F: Future + Send> Future for Driven<F>
where
    F::Output: Send,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // This process's runtime, looked up at each poll (a future made before a fork is
        // polled in the child on the child's runtime). If none could be started, the future
        // is polled outside any runtime: a backend that needs one fails with its own error.
        let handle = tokio_handle().ok();
        let Some(inner) = self.inner.0.as_mut() else {
            return Poll::Pending;
        };
        let waker = cx.waker();
        Python::attach(|py| {
            py.detach(|| {
                let _runtime = handle.map(tokio::runtime::Handle::enter);
                inner.as_mut().poll(&mut Context::from_waker(waker))
            })
        })
    }
}

/// Wrap an operation's future for the asyncio API.
pub(crate) fn driven<F>(future: F) -> PyResult<Driven<F>>
where
    F: Future + Send,
    F::Output: Send,
{
    // Start (or check) this process's runtime now, so a failure is an error of the call.
    tokio_handle()?;
    Ok(Driven { inner: InRuntime::new(Box::pin(future)) })
}

/// Run an operation's future to completion on this thread, with the GIL released.
pub(crate) fn block_on<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let handle = tokio_handle()?;
    Ok(py.detach(|| {
        let _runtime = handle.enter();
        let _blocking = BlockingGuard::enter();
        futures::executor::block_on(future)
    }))
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
    if let Ok(handle) = tokio_handle() {
        drop(handle.spawn(MarkedBlocking(task)));
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
            let coroutine = pyo3::wrap_pyfunction!(run_delivery, py)?.call1((delivery,))?;
            SPAWN.import(py, "sspr._support", "spawn")?.call1((coroutine,))?;
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
struct MarkedBlocking(sspr_core::runtime::Task);

impl Future for MarkedBlocking {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _blocking = BlockingGuard::enter();
        self.0.as_mut().poll(cx)
    }
}

/// A delivery handed to the event loop (taken out once, by `run_delivery`).
#[pyclass(frozen)]
struct Delivery {
    task: std::sync::Arc<std::sync::Mutex<Option<sspr_core::runtime::Task>>>,
}

/// The coroutine an `asyncio.Task` runs for one delivery.
#[pyfunction]
async fn run_delivery(delivery: Py<Delivery>) -> PyResult<()> {
    let task = delivery.get().task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    if let Some(task) = task {
        driven(task)?.await;
    }
    Ok(())
}
