//! Where background work runs. sspr-core has no async runtime of its own: the engine asks a
//! [`Spawn`] to run the deliveries it takes off the request path (PINs and notices), so a slow
//! or failing mail relay never shows in how, or how fast, an anonymous caller is answered.
//!
//! With the `tokio` feature (on by default), [`TokioRuntime`] is both the [`Spawn`] and the
//! [`crate::Timer`] of a tokio runtime, and [`crate::SsprBuilder::build`] picks it up by
//! itself when it is called inside one.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A task the engine hands to a [`Spawn`]: one delivery and its retries, bounded in time by
/// the PIN's expiry.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs the engine's background tasks (deliveries of PINs and notices).
///
/// Contract:
/// - `spawn` returns at once, without waiting for the task: the task runs concurrently with
///   the caller, to completion, even when the request that handed it over is cancelled.
///   Polling it on the calling thread before returning defeats the purpose (the caller then
///   waits for the mail relay) and must not be done.
/// - A task never panics and needs no result; it may sleep on the engine's
///   [`crate::Timer`] between retries, so the spawner must drive that timer's futures.
/// - If the spawner cannot run the task (its runtime is shutting down), it drops it: that
///   delivery is lost, as it would be in a crash: let the engine's deliveries finish before
///   shutting the runtime down.
/// - A closure wrapped in [`SpawnFn`] is a spawner, for any runtime that runs `Send` futures.
pub trait Spawn: Send + Sync + fmt::Debug {
    /// Run `task` in the background.
    fn spawn(&self, task: Task);
}

/// A closure spawner, e.g. `|task| { tokio::spawn(task); }` or `|task| async_std::task::spawn(task)`.
pub struct SpawnFn<F>(pub F);

impl<F> fmt::Debug for SpawnFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SpawnFn")
    }
}

impl<F: Fn(Task) + Send + Sync> Spawn for SpawnFn<F> {
    fn spawn(&self, task: Task) {
        (self.0)(task);
    }
}

#[cfg(feature = "tokio")]
pub use self::tokio_runtime::TokioRuntime;

#[cfg(feature = "tokio")]
mod tokio_runtime {
    use std::time::Duration;

    use tokio::runtime::Handle;

    use super::{Spawn, Task};
    use crate::clock::Timer;

    /// A tokio runtime as the engine's [`Spawn`] and [`Timer`] (feature `tokio`).
    ///
    /// It holds a [`Handle`], so it works from threads outside the runtime too (a binding's
    /// foreign thread, a Python event loop polling the engine's futures): its timers are
    /// registered with, and its tasks run on, that runtime. The runtime must have its time
    /// driver enabled (`enable_time` or `enable_all`), and a current-thread runtime only makes
    /// progress while something drives it (`block_on`): prefer a multi-thread runtime.
    #[derive(Debug, Clone)]
    pub struct TokioRuntime {
        handle: Handle,
    }

    impl TokioRuntime {
        /// The runtime behind `handle`.
        pub fn new(handle: Handle) -> Self {
            Self { handle }
        }

        /// The runtime the calling thread runs in, if any.
        pub fn current() -> Option<Self> {
            Handle::try_current().ok().map(Self::new)
        }

        /// The runtime's handle.
        pub fn handle(&self) -> &Handle {
            &self.handle
        }

        /// Whether the runtime has its time driver (`enable_time`): without it, tokio panics at
        /// the first sleep. Tokio has no way to ask, so this tries to create a timer once; the
        /// builder calls it at start-up, so a runtime without timers is a `Config` error then
        /// rather than a panic in a request.
        pub fn has_timers(&self) -> bool {
            let handle = self.handle.clone();
            std::panic::catch_unwind(move || {
                let _context = handle.enter();
                drop(tokio::time::sleep(Duration::ZERO));
            })
            .is_ok()
        }
    }

    impl Spawn for TokioRuntime {
        fn spawn(&self, task: Task) {
            // The join handle is not needed: the engine counts its deliveries itself.
            drop(self.handle.spawn(task));
        }
    }

    #[async_trait::async_trait]
    impl Timer for TokioRuntime {
        async fn sleep(&self, duration: Duration) {
            // Created inside the runtime's context, the sleep is registered with its time
            // driver and can then be polled from any thread.
            let sleep = {
                let _context = self.handle.enter();
                tokio::time::sleep(duration)
            };
            sleep.await;
        }
    }
}

#[cfg(all(test, feature = "tokio"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::{Spawn, SpawnFn, Task, TokioRuntime};
    use crate::memory::{MemoryDirectory, Outbox};
    use crate::{Error, Policy, SecretKey, Sspr, Timer};

    fn builder(min_response_ms: u32) -> crate::SsprBuilder {
        Sspr::builder()
            .directory(MemoryDirectory::new())
            .notifier(Outbox::new())
            .secret_key(SecretKey::from_bytes(&[1; 32]).unwrap())
            .rng_seed([2; 32])
            .policy(Policy { min_response_ms, ..Policy::default() })
    }

    #[test]
    fn padding_without_a_timer_outside_a_runtime_is_a_config_error_that_says_what_to_pass() {
        let Err(Error::Config(message)) = builder(300).build() else { panic!("built without a timer") };
        assert!(message.contains(".timer(") && message.contains("min_response_ms = 0"), "{message}");
        // Padding off needs no timer.
        builder(0).build().unwrap();
    }

    #[tokio::test]
    async fn inside_a_tokio_runtime_the_builder_takes_its_timer_and_spawner() {
        let sspr = builder(300).build().unwrap();
        let shown = format!("{sspr:?}");
        assert!(shown.contains("timer: Some(TokioRuntime") && shown.contains("spawner: Some(TokioRuntime"), "{shown}");
    }

    #[test]
    fn a_runtime_without_timers_is_a_config_error_not_a_panic_in_a_request() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let Err(Error::Config(message)) = rt.block_on(async { builder(300).build() }) else {
            panic!("built a padded engine on a runtime without timers")
        };
        assert!(message.contains("enable_time"), "{message}");
        // Its spawner is still taken, and padding off needs no timer.
        let sspr = rt.block_on(async { builder(0).build() }).unwrap();
        assert!(format!("{sspr:?}").contains("spawner: Some(TokioRuntime"));
    }

    #[test]
    fn tokio_runtime_spawns_and_sleeps_from_a_thread_outside_the_runtime() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let runtime = TokioRuntime::new(rt.handle().clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let task: Task = Box::pin(async move { tx.send(()).unwrap() });
        runtime.spawn(task);
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        // This thread is no runtime worker and has not entered the runtime.
        #[allow(clippy::disallowed_methods)] // measures the real sleep
        let started = Instant::now();
        futures::executor::block_on(runtime.sleep(Duration::from_millis(30)));
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_closure_is_a_spawner() {
        let ran = Arc::new(AtomicBool::new(false));
        let spawner = SpawnFn(|task: Task| futures::executor::block_on(task));
        let seen = ran.clone();
        spawner.spawn(Box::pin(async move { seen.store(true, Ordering::SeqCst) }));
        assert!(ran.load(Ordering::SeqCst));
    }
}
