//! What both doors share: one tokio runtime owned by the library, and the engine's timer and
//! spawner on it; a `block_on` for the C API's blocking calls.
//!
//! The runtime (two worker threads, started on first use) drives the network stores (Redis,
//! PostgreSQL), the timers that pad anonymous answers to `min_response_ms`, the engine's
//! background deliveries and the C API's callback calls. One runtime for all of them means a
//! fixed number of threads however many calls are padded at once (a thread per padded call
//! ran out of threads under load, and then skipped the padding).
//!
//! `sspr_shutdown` stops it and joins its threads (a C program that calls it before exiting
//! leaves nothing behind for valgrind to see); the next call that needs it starts a new one.
//!
//! **Padding never fails open.** If the timer cannot wait (the runtime cannot be started, or
//! it was shut down while a call was waiting), the call fails with a typed error
//! ([`RuntimeError`]) instead of answering early: an early answer would tell a real account
//! from an unknown one by its timing.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

/// Worker threads of the library's runtime: the engine's work is I/O-bound and short.
const WORKERS: usize = 2;

/// Why the library's runtime could not serve a call.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum RuntimeError {
    /// The runtime's threads could not be started.
    #[error("the sspr library could not start its runtime: {0}")]
    Start(String),
    /// The timer could not wait out the padding (the runtime was shut down or could not be
    /// started): the answer is withheld rather than sent early.
    #[error(
        "the sspr library's timer stopped (sspr_shutdown during the call?); the answer was withheld, not sent unpadded"
    )]
    TimerStopped,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The running runtime and a flag cleared when it begins to shut down (checked before a
/// timer is polled: tokio panics on polling a timer of a runtime that shut down).
struct Running {
    runtime: Runtime,
    alive: Arc<AtomicBool>,
}

static RUNTIME: Mutex<Option<Running>> = Mutex::new(None);

thread_local! {
    /// Whether this thread is one of the runtime's (`shutdown` cannot join itself).
    static IN_RUNTIME: Cell<bool> = const { Cell::new(false) };
    /// Set by the timer when it failed during the call being polled on this thread.
    static TIMER_FAILED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// A handle to the library's runtime, starting it if needed.
pub(crate) fn handle() -> Result<RuntimeHandle, RuntimeError> {
    let mut running = lock(&RUNTIME);
    if let Some(r) = running.as_ref() {
        return Ok(RuntimeHandle { handle: r.runtime.handle().clone(), alive: Arc::clone(&r.alive) });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("sspr-ffi")
        .on_thread_start(|| IN_RUNTIME.with(|flag| flag.set(true)))
        .enable_all()
        .build()
        .map_err(|e| RuntimeError::Start(e.to_string()))?;
    let r = Running { runtime, alive: Arc::new(AtomicBool::new(true)) };
    let handle = RuntimeHandle { handle: r.runtime.handle().clone(), alive: Arc::clone(&r.alive) };
    *running = Some(r);
    Ok(handle)
}

/// Stop the runtime and wait for its threads (tasks still running are dropped: their
/// callbacks are never called; calls waiting on its timer fail with
/// [`RuntimeError::TimerStopped`]). A later call starts a new one. Called from one of the
/// runtime's own threads (a callback) it does nothing: a thread cannot wait for itself.
pub(crate) fn shutdown() {
    if IN_RUNTIME.with(Cell::get) {
        return;
    }
    let running = lock(&RUNTIME).take();
    if let Some(r) = running {
        r.alive.store(false, Ordering::SeqCst);
        // Dropping joins the workers (and any blocking-pool thread).
        drop(r.runtime);
    }
}

/// The library's runtime as seen by a call.
#[derive(Clone)]
pub(crate) struct RuntimeHandle {
    handle: Handle,
    alive: Arc<AtomicBool>,
}

impl fmt::Debug for RuntimeHandle {
    // (`Handle`'s own Debug prints the whole scheduler.)
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RuntimeHandle")
    }
}

impl RuntimeHandle {
    /// Run `future` inside the runtime: each poll enters its context (the network stores
    /// register their sockets and timers there) and watches the timer: if the timer fails
    /// while `future` waits on it, this ends with [`RuntimeError::TimerStopped`].
    pub(crate) fn guard<F: Future>(&self, future: F) -> InRuntime<F> {
        InRuntime { handle: self.handle.clone(), future: Box::pin(future) }
    }

    /// Spawn a task on the runtime (dropped, per [`sspr_core::Spawn`]'s contract, if the
    /// runtime already shut down).
    pub(crate) fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send + 'static>>) {
        drop(self.handle.spawn(task));
    }
}

/// A future polled inside the library's runtime; see [`RuntimeHandle::guard`].
pub(crate) struct InRuntime<F> {
    handle: Handle,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for InRuntime<F> {
    type Output = Result<F::Output, RuntimeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let _context = this.handle.enter();
        let outer = TIMER_FAILED.with(|f| f.replace(Some(false)));
        let polled = this.future.as_mut().poll(cx);
        let failed = TIMER_FAILED.with(|f| f.replace(outer)) == Some(true);
        if failed {
            return Poll::Ready(Err(RuntimeError::TimerStopped));
        }
        polled.map(Ok)
    }
}

/// The engine's timer: a sleep on the library's runtime (no thread of its own). If it
/// cannot wait, it never returns early: it marks the call it belongs to as failed (see
/// [`InRuntime`]) and stays pending.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RuntimeTimer;

#[async_trait::async_trait]
impl sspr_core::Timer for RuntimeTimer {
    async fn sleep(&self, duration: Duration) {
        sleep_on(handle(), duration).await;
    }
}

/// Sleep on `runtime`; if it cannot, never return (see [`RuntimeTimer`]).
async fn sleep_on(runtime: Result<RuntimeHandle, RuntimeError>, duration: Duration) {
    if let Ok(runtime) = runtime {
        let sleep = {
            let _context = runtime.handle.enter();
            tokio::time::sleep(duration)
        };
        if (Sleeping { sleep: pin!(sleep), alive: &runtime.alive }).await.is_ok() {
            return;
        }
    }
    TIMER_FAILED.with(|f| {
        if f.get().is_some() {
            f.set(Some(true));
        }
    });
    // Never answer early; the call polling this ends with `TimerStopped` (a background
    // task outside any call waits until its runtime drops it).
    std::future::pending::<()>().await;
}

/// A tokio sleep that reports, instead of panicking, a runtime that shut down under it.
struct Sleeping<'a, S> {
    sleep: Pin<&'a mut S>,
    alive: &'a AtomicBool,
}

impl<S: Future<Output = ()>> Future for Sleeping<'_, S> {
    type Output = Result<(), RuntimeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.alive.load(Ordering::SeqCst) {
            return Poll::Ready(Err(RuntimeError::TimerStopped));
        }
        // tokio panics when a timer is polled after its runtime shut down; that race (a
        // shutdown between the check above and this poll) is a timer failure too.
        let sleep = self.sleep.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sleep.poll(cx))) {
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(RuntimeError::TimerStopped)),
        }
    }
}

/// The engine's spawner: background tasks (deliveries) on the library's runtime. A task
/// that cannot be started (no runtime) is dropped, as [`sspr_core::Spawn`] specifies.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RuntimeSpawner;

impl sspr_core::Spawn for RuntimeSpawner {
    fn spawn(&self, task: sspr_core::runtime::Task) {
        if let Ok(runtime) = handle() {
            runtime.spawn(task);
        }
    }
}

/// Wakes the thread waiting in [`block_on`] (a condition variable rather than
/// `thread::park`, which would give a foreign thread a `Thread` handle it never frees).
#[derive(Default)]
struct Signal {
    woken: Mutex<bool>,
    changed: Condvar,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        *lock(&self.woken) = true;
        self.changed.notify_one();
    }
}

/// Run `future` on this thread until it ends, sleeping while it waits.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let signal = Arc::new(Signal::default());
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        let mut woken = lock(&signal.woken);
        while !*woken {
            woken = signal.changed.wait(woken).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *woken = false;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::time::Instant;

    use sspr_core::memory::{MemoryDirectory, Outbox};
    use sspr_core::{Policy, RequestContext, SecretKey, Sspr};

    use super::*;

    fn padded_engine(timer: impl sspr_core::Timer + 'static) -> Sspr {
        Sspr::builder()
            .directory(MemoryDirectory::new())
            .notifier(Outbox::new())
            .secret_key(SecretKey::from_bytes(&[1; 32]).unwrap())
            .rng_seed([2; 32])
            .policy(Policy { min_response_ms: 200, ..Policy::default() })
            .timer(timer)
            .spawner(RuntimeSpawner)
            .build()
            .unwrap()
    }

    /// `RuntimeTimer` with the runtime it finds given: a failing one for the test.
    #[derive(Debug)]
    struct TimerOn(Result<RuntimeHandle, RuntimeError>);

    #[async_trait::async_trait]
    impl sspr_core::Timer for TimerOn {
        async fn sleep(&self, duration: Duration) {
            sleep_on(self.0.clone(), duration).await;
        }
    }

    fn dead_runtime(marked_dead: bool) -> RuntimeHandle {
        let dead = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let handle = RuntimeHandle { handle: dead.handle().clone(), alive: Arc::new(AtomicBool::new(!marked_dead)) };
        dead.shutdown_background();
        handle
    }

    #[test]
    fn a_timer_failure_is_an_error_not_an_unpadded_answer() {
        let failures = [
            Err(RuntimeError::Start("no threads".into())), // the runtime could not start
            Ok(dead_runtime(true)),                        // shut down before the sleep
            Ok(dead_runtime(false)),                       // shut down, not yet marked (tokio panics)
        ];
        for failure in failures {
            let sspr = padded_engine(TimerOn(failure));
            let runtime = handle().unwrap();
            let answer = block_on(runtime.guard(sspr.begin_reset("nobody@example.org", &RequestContext::default())));
            assert!(matches!(answer, Err(RuntimeError::TimerStopped)), "answered: {:?}", answer.map(|r| r.is_ok()));
        }
    }

    #[test]
    fn the_runtime_timer_pads_from_a_thread_outside_the_runtime() {
        let sspr = padded_engine(RuntimeTimer);
        let runtime = handle().unwrap();
        #[allow(clippy::disallowed_methods)] // measures the real padding
        let started = Instant::now();
        let answer = block_on(runtime.guard(sspr.begin_reset("nobody@example.org", &RequestContext::default())));
        assert!(matches!(answer, Ok(Ok(_))));
        assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    }
}
