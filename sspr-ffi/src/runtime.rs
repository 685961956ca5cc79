//! What both doors share: a timer that needs no async runtime, a `block_on` for the C API's
//! blocking calls, and the small pool of threads its callback calls run on.
//!
//! The pool is ours (two threads, a channel, wakers that re-queue the task) rather than a
//! crate's, so that `sspr_shutdown` can stop and join its threads: a C program that calls it
//! before exiting leaves nothing behind (valgrind sees no thread still running).

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

use futures::channel::oneshot;

/// Waits by parking a helper thread: the engine has no runtime of its own and the foreign
/// side's executor is not reachable from Rust. Used only to pad answers to the policy's
/// `min_response_ms`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ThreadTimer;

#[async_trait::async_trait]
impl sspr_core::Timer for ThreadTimer {
    async fn sleep(&self, duration: Duration) {
        let (tx, rx) = oneshot::channel::<()>();
        let spawned = std::thread::Builder::new().name("sspr-timer".into()).spawn(move || {
            std::thread::sleep(duration);
            let _ = tx.send(());
        });
        if spawned.is_ok() {
            let _ = rx.await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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

type Job = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// One spawned future; waking it puts it back on the pool's queue.
struct Task {
    future: Mutex<Option<Job>>,
    queue: Sender<Message>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        let queue = self.queue.clone();
        let _ = queue.send(Message::Run(self));
    }
}

enum Message {
    Run(Arc<Task>),
    Stop,
}

struct Pool {
    queue: Sender<Message>,
    workers: Vec<JoinHandle<()>>,
}

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

thread_local! {
    /// Whether this thread is one of the pool's workers (`shutdown` cannot join itself).
    static IN_POOL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

const WORKERS: usize = 2;

fn work(queue: &Mutex<Receiver<Message>>) {
    IN_POOL.with(|flag| flag.set(true));
    loop {
        let message = lock(queue).recv();
        let task = match message {
            Ok(Message::Run(task)) => task,
            Ok(Message::Stop) | Err(_) => return,
        };
        let waker = Waker::from(Arc::clone(&task));
        let mut cx = Context::from_waker(&waker);
        let mut slot = lock(&task.future);
        if let Some(future) = slot.as_mut() {
            // A panic is caught inside the job (see `capi::engine::spawn`); one escaping
            // here would only end this worker, and the next spawn starts the pool again.
            if future.as_mut().poll(&mut cx).is_ready() {
                *slot = None;
            }
        }
    }
}

/// Run `job` on the pool (started on first use). `false` when no thread could be started.
pub(crate) fn spawn(job: Job) -> bool {
    let mut pool = lock(&POOL);
    if pool.as_ref().is_some_and(|p| p.workers.iter().any(JoinHandle::is_finished)) {
        stop(pool.take());
    }
    if pool.is_none() {
        let (tx, rx) = channel();
        let rx = Arc::new(Mutex::new(rx));
        let mut workers = Vec::with_capacity(WORKERS);
        for i in 0..WORKERS {
            let rx = Arc::clone(&rx);
            match std::thread::Builder::new().name(format!("sspr-ffi-{i}")).spawn(move || work(&rx)) {
                Ok(handle) => workers.push(handle),
                Err(_) => break,
            }
        }
        if workers.is_empty() {
            return false;
        }
        *pool = Some(Pool { queue: tx, workers });
    }
    let Some(p) = pool.as_ref() else { return false };
    let task = Arc::new(Task { future: Mutex::new(Some(job)), queue: p.queue.clone() });
    p.queue.send(Message::Run(task)).is_ok()
}

fn stop(pool: Option<Pool>) {
    if let Some(pool) = pool {
        for _ in &pool.workers {
            let _ = pool.queue.send(Message::Stop);
        }
        for worker in pool.workers {
            let _ = worker.join();
        }
    }
}

/// Stop the pool's threads and wait for them (calls still waiting on a backend are
/// abandoned: their callbacks are never called). A later callback call starts it again.
/// Called from one of the pool's own threads (a callback) it does nothing: a thread cannot
/// wait for itself to end.
pub(crate) fn shutdown() {
    if IN_POOL.with(std::cell::Cell::get) {
        return;
    }
    let pool = lock(&POOL).take();
    stop(pool);
}
