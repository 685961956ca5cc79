//! The engine's background tasks (deliveries of PINs and notices) kept on the JavaScript
//! thread while they wait for JavaScript.
//!
//! A delivery the engine does not finish on the caller's task (sspr-core's `FirstStep`: in a
//! padded answer none of it runs there; otherwise what its first step left) is handed to the
//! engine's [`Spawn`]. With a JavaScript `async`
//! notifier it waits for that notifier's Promise, which only the JavaScript thread settles:
//! handed to the tokio runtime, every such delivery crossed to a tokio thread and back
//! (a futex wake, a context switch, the Promise's settlement sent through a channel), which
//! cost a JavaScript-notifier flow more than the rest of the flow's binding.
//!
//! `NodeSpawner` keeps a task that is spawned on the JavaScript thread there. It is first
//! polled in a microtask (scheduled with `queueMicrotask` through the function `index.js`
//! registers; never inside the engine call that spawned it, so `sendPin` answers exactly as
//! before, and the call's padding covers the spawn); after that, each time it is woken on
//! the JavaScript thread (a JavaScript Promise settled), it is polled there at once, calling
//! JavaScript backends directly. A task woken from any other thread (a tokio timer between
//! retries, a network notifier's socket) moves to the tokio runtime for good, as every task
//! did before. Tasks spawned off the JavaScript thread go to the runtime directly.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::ThreadId;

use napi::bindgen_prelude::{Function, FunctionRef, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use sspr_core::runtime::{Spawn, Task};
use tokio::runtime::Handle;

thread_local! {
    /// This thread's JavaScript environment and its microtask scheduler, once `index.js`
    /// registered it here.
    static HOME: RefCell<Option<(napi::sys::napi_env, FunctionRef<(), Unknown<'static>>)>> =
        const { RefCell::new(None) };
    /// Tasks to poll at the next drain, in order.
    static READY: RefCell<VecDeque<Arc<LocalTask>>> = const { RefCell::new(VecDeque::new()) };
    /// Whether a drain is already scheduled as a microtask.
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
    /// Whether a drain runs now on this thread (a wake during it queues instead of polling).
    static DRAINING: Cell<bool> = const { Cell::new(false) };
}

/// Register the function that schedules a drain of this thread's local tasks as a microtask
/// (called once per JavaScript thread by `index.js`: `() => queueMicrotask(runLocalTasks)`).
#[napi(ts_args_type = "schedule: () => void")]
pub fn set_local_scheduler(env: &Env, schedule: Function<'_, (), Unknown<'static>>) -> Result<()> {
    let reference = schedule.create_ref()?;
    HOME.with(|home| *home.borrow_mut() = Some((env.raw(), reference)));
    Ok(())
}

/// Poll every local task that is ready (the microtask `setLocalScheduler` schedules).
#[napi]
pub fn run_local_tasks(env: &Env) {
    SCHEDULED.with(|s| s.set(false));
    drain(env);
}

/// The engine's spawner in Node: tasks spawned on the JavaScript thread stay there while they
/// wait for JavaScript; others run on the tokio runtime.
#[derive(Debug, Clone)]
pub(crate) struct NodeSpawner {
    runtime: Handle,
}

impl NodeSpawner {
    pub(crate) fn new(runtime: Handle) -> Self {
        Self { runtime }
    }
}

impl Spawn for NodeSpawner {
    fn spawn(&self, task: Task) {
        let home = HOME.with(|home| home.borrow().as_ref().map(|(env, _)| *env));
        match home {
            // Inside an engine poll on the JavaScript thread: queue it and let a microtask
            // poll it, after this call has answered.
            Some(env) if crate::runtime::on_js_thread() => {
                let local = Arc::new(LocalTask {
                    home: std::thread::current().id(),
                    runtime: self.runtime.clone(),
                    state: Mutex::new(State::Idle(task)),
                });
                READY.with(|ready| ready.borrow_mut().push_back(local));
                schedule(&Env::from_raw(env));
            }
            _ => drop(self.runtime.spawn(task)),
        }
    }
}

/// Ask JavaScript for a drain in a microtask (once until it runs). If that fails, every
/// queued task moves to the runtime instead: none is left behind.
fn schedule(env: &Env) {
    if SCHEDULED.with(|s| s.replace(true)) {
        return;
    }
    let called = HOME.with(|home| match home.borrow().as_ref() {
        Some((_, schedule)) => schedule.borrow_back(env).and_then(|f| f.call(())).map(drop),
        None => Err(napi::Error::from_reason("no local scheduler")),
    });
    if called.is_err() {
        SCHEDULED.with(|s| s.set(false));
        while let Some(task) = READY.with(|ready| ready.borrow_mut().pop_front()) {
            task.move_to_runtime();
        }
    }
}

/// Poll the ready tasks until none is left.
fn drain(env: &Env) {
    if DRAINING.with(|d| d.replace(true)) {
        return;
    }
    while let Some(task) = READY.with(|ready| ready.borrow_mut().pop_front()) {
        task.poll_here(env);
    }
    DRAINING.with(|d| d.set(false));
}

enum State {
    /// Waiting to be woken (or queued to be polled).
    Idle(Task),
    /// Being polled on the JavaScript thread; `woken` if a wake came during the poll.
    Running { woken: bool },
    /// Finished, or moved to the runtime.
    Gone,
}

/// A task that stays on the JavaScript thread `home` while it is woken there.
struct LocalTask {
    home: ThreadId,
    runtime: Handle,
    state: Mutex<State>,
}

impl LocalTask {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Poll it here (the JavaScript thread, outside any engine poll), JavaScript backends
    /// called directly. Woken during the poll, it moves to the runtime, which polls it again.
    fn poll_here(self: &Arc<Self>, env: &Env) {
        let mut task = match std::mem::replace(&mut *self.state(), State::Running { woken: false }) {
            State::Idle(task) => task,
            other => {
                *self.state() = other;
                return;
            }
        };
        let waker = Waker::from(Arc::clone(self));
        let polled = crate::runtime::poll_on_js_thread(env, || task.as_mut().poll(&mut Context::from_waker(&waker)));
        let mut state = self.state();
        match polled {
            Poll::Ready(()) => {
                *state = State::Gone;
                drop(state);
                drop(task);
            }
            Poll::Pending if matches!(*state, State::Running { woken: true }) => {
                *state = State::Gone;
                drop(state);
                drop(self.runtime.spawn(task));
            }
            Poll::Pending => *state = State::Idle(task),
        }
    }

    /// Hand it to the runtime for good (if it is still here and idle).
    fn move_to_runtime(&self) {
        let mut state = self.state();
        if let State::Idle(_) = &*state
            && let State::Idle(task) = std::mem::replace(&mut *state, State::Gone)
        {
            drop(state);
            drop(self.runtime.spawn(task));
        }
    }
}

impl Wake for LocalTask {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        {
            let mut state = self.state();
            match &mut *state {
                State::Running { woken } => {
                    *woken = true;
                    return;
                }
                State::Gone => return,
                State::Idle(_) => {}
            }
        }
        if std::thread::current().id() != self.home {
            self.move_to_runtime();
            return;
        }
        let Some(env) = HOME.with(|home| home.borrow().as_ref().map(|(env, _)| *env)) else {
            self.move_to_runtime();
            return;
        };
        let env = Env::from_raw(env);
        READY.with(|ready| ready.borrow_mut().push_back(Arc::clone(self)));
        if DRAINING.with(Cell::get) {
            // The drain running now polls it next.
        } else if crate::runtime::on_js_thread() {
            // Inside an engine poll: in a microtask, once the call has answered.
            schedule(&env);
        } else {
            // A JavaScript Promise settled (a microtask): poll it now.
            drain(&env);
        }
    }
}
