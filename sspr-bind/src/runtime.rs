//! A tokio runtime per process, owned by the library, for bindings whose host has none:
//! the engine's timer ([`ProcessTimer`]) and spawner ([`ProcessSpawner`]) on it, a future
//! wrapper that polls inside it ([`RuntimeHandle::guard`]) and a thread-blocking
//! [`block_on`].
//!
//! - **One runtime, two worker threads**, started at first use: the network stores, the
//!   padding timers, background deliveries and callback calls all run there, so a burst of
//!   padded calls costs timers, not threads.
//! - **Per process.** A fork (gunicorn `--preload`, uWSGI, `multiprocessing`) copies the
//!   runtime's memory but not its threads: in the child, a sleep on the parent's runtime
//!   never fires and a spawned task never runs. The runtime remembers the process that
//!   started it; a child starts its own at first use, and leaves the inherited one alone
//!   (never dropped: dropping waits for threads that do not exist in the child). Look the
//!   handle up at each use ([`handle`], or through [`RuntimeHandle::guard`], which does it at
//!   each poll) rather than keep it across calls.
//! - **[`shutdown`]** stops it and joins its threads (a C program calling it before exit
//!   leaves nothing for valgrind); the next call that needs it starts a new one.
//! - **Padding never fails open.** If the timer cannot wait (the runtime cannot start, or
//!   it shut down while a call waited), the call fails with
//!   [`RuntimeError::TimerStopped`] instead of answering early: an early answer would tell a
//!   real account from an unknown one by its timing. Poll engine calls through
//!   [`RuntimeHandle::guard`] to receive that error (an unguarded call stays pending).
//!
//! Node does not need this: napi-rs brings its own runtime and Node does not fork, so it
//! uses `sspr_core::TokioRuntime::current()`, like the portal inside its `#[tokio::main]`.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

/// Worker threads of the runtime: the engine's work is I/O-bound and short.
const WORKERS: usize = 2;

/// Why the process's runtime could not serve a call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The runtime's threads could not be started.
    #[error("the sspr library could not start its runtime: {0}")]
    Start(String),
    /// The timer could not wait out the padding (the runtime was shut down or could not be
    /// started): the answer is withheld rather than sent early.
    #[error(
        "the sspr library's timer stopped (shut down during the call?); the answer was withheld, not sent unpadded"
    )]
    TimerStopped,
}

impl RuntimeError {
    /// The stable code bindings expose for it (`"internal"`: a failure of the library, not
    /// of the caller's input or a backend).
    pub fn code(&self) -> &'static str {
        "internal"
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running runtime, the process that started it, and a flag cleared when it begins to
/// shut down (checked before a timer is polled: tokio panics on polling a timer of a runtime
/// that shut down).
struct Running {
    pid: u32,
    runtime: Runtime,
    alive: Arc<AtomicBool>,
}

/// Where a process keeps its runtime (one static for the library; tests make their own).
struct Registry {
    slot: Mutex<Option<Running>>,
}

static PROCESS: Registry = Registry { slot: Mutex::new(None) };

thread_local! {
    /// Whether this thread is one of the runtime's (`shutdown` cannot join itself).
    static IN_RUNTIME: Cell<bool> = const { Cell::new(false) };
    /// Set by the timer when it failed during the call being polled on this thread.
    static TIMER_FAILED: Cell<Option<bool>> = const { Cell::new(None) };
    /// Set while a background task (a delivery, a hook) is polled on this thread.
    static IN_BACKGROUND: Cell<bool> = const { Cell::new(false) };
}

impl Registry {
    /// The runtime of process `pid`, started if it has none.
    fn handle(&self, pid: u32) -> Result<RuntimeHandle, RuntimeError> {
        let mut slot = lock(&self.slot);
        if let Some(r) = slot.as_ref()
            && r.pid == pid
        {
            return Ok(RuntimeHandle { handle: r.runtime.handle().clone(), alive: Arc::clone(&r.alive) });
        }
        // Inherited across a fork: its threads are not in this process. Forget it.
        if let Some(inherited) = slot.take() {
            std::mem::forget(inherited);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("sspr-runtime")
            .on_thread_start(|| IN_RUNTIME.with(|flag| flag.set(true)))
            .enable_all()
            .build()
            .map_err(|e| RuntimeError::Start(e.to_string()))?;
        let running = Running { pid, runtime, alive: Arc::new(AtomicBool::new(true)) };
        let handle = RuntimeHandle { handle: running.runtime.handle().clone(), alive: Arc::clone(&running.alive) };
        *slot = Some(running);
        Ok(handle)
    }

    /// Stop process `pid`'s runtime and join its threads.
    fn shutdown(&self, pid: u32) {
        if IN_RUNTIME.with(Cell::get) {
            return;
        }
        let running = lock(&self.slot).take();
        match running {
            Some(r) if r.pid == pid => {
                r.alive.store(false, Ordering::SeqCst);
                // Dropping joins the workers (and any blocking-pool thread).
                drop(r.runtime);
            }
            Some(inherited) => std::mem::forget(inherited),
            None => {}
        }
    }
}

/// A handle to this process's runtime, starting it if needed.
///
/// # Errors
/// [`RuntimeError::Start`] if its threads cannot be started.
pub fn handle() -> Result<RuntimeHandle, RuntimeError> {
    PROCESS.handle(std::process::id())
}

/// Stop this process's runtime and wait for its threads (tasks still running are dropped;
/// calls waiting on its timer fail with [`RuntimeError::TimerStopped`]). A later call starts
/// a new one. Called from one of the runtime's own threads it does nothing: a thread cannot
/// wait for itself.
pub fn shutdown() {
    PROCESS.shutdown(std::process::id());
}

/// Whether the calling thread is one of this runtime's threads: what it runs (a C `_async`
/// call's callback, a backend called by a task, a background delivery) runs there. A
/// thread-blocking call ([`block_on`]) made there waits for work that only these threads can
/// do while holding one of them: with every worker so held, nothing drives the timers or the
/// network and it never returns. The C API refuses such a call at once
/// (`SSPR_STATUS_WRONG_THREAD`).
pub fn on_runtime_thread() -> bool {
    IN_RUNTIME.with(Cell::get)
}

/// The process's runtime as seen by a call.
#[derive(Clone)]
pub struct RuntimeHandle {
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
    /// The tokio handle (to enter the runtime's context, e.g. while dropping a value whose
    /// `Drop` spawns).
    pub fn tokio(&self) -> &Handle {
        &self.handle
    }

    /// Run `future` inside this process's runtime: each poll looks the runtime up (a future
    /// made before a fork is polled on the child's), enters its context (network stores
    /// register their sockets and timers there) and watches the timer: if the timer fails
    /// while `future` waits on it, this ends with [`RuntimeError::TimerStopped`].
    pub fn guard<F: Future>(&self, future: F) -> InRuntime<F> {
        InRuntime { future: Box::pin(future) }
    }

    /// Spawn a task on the runtime (dropped, per [`sspr_core::Spawn`]'s contract, if the
    /// runtime already shut down).
    pub fn spawn(&self, task: Pin<Box<dyn Future<Output = ()> + Send + 'static>>) {
        drop(self.handle.spawn(task));
    }
}

/// A future polled inside the process's runtime; see [`RuntimeHandle::guard`].
pub struct InRuntime<F> {
    future: Pin<Box<F>>,
}

impl<F> fmt::Debug for InRuntime<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InRuntime")
    }
}

impl<F: Future> Future for InRuntime<F> {
    type Output = Result<F::Output, RuntimeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let runtime = match handle() {
            Ok(runtime) => runtime,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let _context = runtime.handle.enter();
        let outer = TIMER_FAILED.with(|f| f.replace(Some(false)));
        let polled = self.future.as_mut().poll(cx);
        let failed = TIMER_FAILED.with(|f| f.replace(outer)) == Some(true);
        if failed {
            return Poll::Ready(Err(RuntimeError::TimerStopped));
        }
        polled.map(Ok)
    }
}

/// The engine's timer: a sleep on this process's runtime (no thread of its own). If it
/// cannot wait, it never returns early: it marks the call it belongs to as failed (see
/// [`RuntimeHandle::guard`]) and stays pending.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessTimer;

#[async_trait::async_trait]
impl sspr_core::Timer for ProcessTimer {
    async fn sleep(&self, duration: Duration) {
        sleep_on(handle(), duration).await;
    }
}

/// Sleep on `runtime`; if it cannot, never return (see [`ProcessTimer`]).
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

/// The engine's spawner: background tasks (deliveries) on this process's runtime, each
/// polled as [`Background`]. A task that cannot be started (no runtime) is dropped, as
/// [`sspr_core::Spawn`] specifies.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessSpawner;

impl sspr_core::Spawn for ProcessSpawner {
    fn spawn(&self, task: sspr_core::runtime::Task) {
        if let Ok(runtime) = handle() {
            runtime.spawn(Box::pin(Background::new(task)));
        }
    }
}

/// A background task (a PIN delivery, a hook) that marks the thread polling it, so that a
/// host-language callback it calls knows to leave that thread ([`in_background`],
/// [`off_runtime`]): a callback that blocks (a `send` talking to its relay) would otherwise
/// hold one of the runtime's two workers, and with both held no padding timer fires.
pub struct Background<F: ?Sized> {
    task: Pin<Box<F>>,
}

impl<F: ?Sized> Background<F> {
    /// Mark `task` as background work.
    pub fn new(task: Pin<Box<F>>) -> Self {
        Self { task }
    }
}

impl<F: ?Sized> fmt::Debug for Background<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Background")
    }
}

impl<F: Future + ?Sized> Future for Background<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let outer = IN_BACKGROUND.with(|b| b.replace(true));
        let polled = self.task.as_mut().poll(cx);
        IN_BACKGROUND.with(|b| b.set(outer));
        polled
    }
}

/// Whether this thread is polling a [`Background`] task now: a host-language callback
/// called here is off every caller's answer and may run on [`off_runtime`].
pub fn in_background() -> bool {
    IN_BACKGROUND.with(Cell::get)
}

/// Run `call` (a host-language callback that may block) on the runtime's blocking pool and
/// wait for it without holding the polling thread.
///
/// # Errors
/// A [`sspr_core::BackendError`] of kind `Unavailable` if there is no runtime to run it on,
/// or the runtime shut down (or `call` panicked) before it answered.
pub async fn off_runtime<T, C>(call: C) -> Result<T, sspr_core::BackendError>
where
    T: Send + 'static,
    C: FnOnce() -> T + Send + 'static,
{
    let joined = handle().map_err(sspr_core::BackendError::unavailable)?.handle.spawn_blocking(call);
    joined.await.map_err(sspr_core::BackendError::unavailable)
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

/// Run `future` on this thread until it ends, sleeping while it waits (the blocking calls
/// of C and Python scripts). Combine with [`RuntimeHandle::guard`] for engine calls.
pub fn block_on<F: Future>(future: F) -> F::Output {
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
            .spawner(ProcessSpawner)
            .build()
            .unwrap()
    }

    /// `ProcessTimer` with the runtime it finds given: a failing one for the test.
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
    fn the_process_timer_pads_from_a_thread_outside_the_runtime() {
        let sspr = padded_engine(ProcessTimer);
        let runtime = handle().unwrap();
        #[allow(clippy::disallowed_methods)] // measures the real padding
        let started = Instant::now();
        let answer = block_on(runtime.guard(sspr.begin_reset("nobody@example.org", &RequestContext::default())));
        assert!(matches!(answer, Ok(Ok(_))));
        assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    }

    #[test]
    fn a_runtime_thread_knows_it_is_one() {
        assert!(!on_runtime_thread(), "the test's own thread");
        let (tx, rx) = std::sync::mpsc::channel();
        handle().unwrap().spawn(Box::pin(async move {
            let _ = tx.send(on_runtime_thread());
        }));
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(true), "a task on the runtime");
    }

    /// Whether `runtime` runs a task (its threads are there).
    fn runs_tasks(runtime: &RuntimeHandle) -> bool {
        let (tx, rx) = std::sync::mpsc::channel();
        runtime.spawn(Box::pin(async move {
            let _ = tx.send(());
        }));
        rx.recv_timeout(Duration::from_secs(5)).is_ok()
    }

    // sspr-py's forked worker found its parent's runtime and hung (THREAT_MODEL 11.8). A
    // registry asked by another process id starts a new runtime and forgets, never drops,
    // the inherited one (dropping it would wait for threads a child does not have).
    #[test]
    fn another_process_gets_its_own_runtime_and_the_inherited_one_is_forgotten() {
        let registry = Registry { slot: Mutex::new(None) };
        let parent = registry.handle(1).unwrap();
        let same = registry.handle(1).unwrap();
        assert!(Arc::ptr_eq(&parent.alive, &same.alive), "one runtime per process");
        let child = registry.handle(2).unwrap();
        assert!(!Arc::ptr_eq(&parent.alive, &child.alive), "the child started its own");
        assert!(runs_tasks(&child));
        // Forgotten, not shut down: in this test the "parent's" threads do exist, and still run.
        assert!(parent.alive.load(Ordering::SeqCst));
        assert!(runs_tasks(&parent));
        // The child shuts down its own runtime only.
        registry.shutdown(2);
        assert!(!child.alive.load(Ordering::SeqCst));
        assert!(parent.alive.load(Ordering::SeqCst));
        assert!(lock(&registry.slot).is_none());
    }

    #[test]
    fn shutdown_stops_the_runtime_and_a_later_call_starts_a_new_one() {
        let registry = Registry { slot: Mutex::new(None) };
        let first = registry.handle(7).unwrap();
        registry.shutdown(7);
        assert!(!first.alive.load(Ordering::SeqCst));
        let second = registry.handle(7).unwrap();
        assert!(second.alive.load(Ordering::SeqCst));
        assert!(runs_tasks(&second));
        registry.shutdown(7);
    }
}
