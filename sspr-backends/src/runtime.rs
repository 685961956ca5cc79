//! Dropping a network client safely on any thread.
//!
//! Some clients spawn work on the tokio runtime when they are dropped (lettre's SMTP pool
//! spawns the shutdown of its connections), and `tokio::spawn` panics on a thread without a
//! runtime. Python's and JavaScript's garbage collectors drop objects on exactly such threads,
//! and so may any application that builds a backend inside a runtime and drops it after
//! leaving it. [`InRuntime`] remembers the runtime the value was built in and enters it for
//! the drop when the dropping thread has none. After that runtime has shut down, tokio drops
//! a task spawned onto it instead of running it: still no panic.

use sspr_core::{BackendError, BackendErrorKind};
use tokio::runtime::Handle;

/// A value whose drop must happen inside a tokio runtime.
pub(crate) struct InRuntime<T> {
    /// Always `Some` until dropped (taken out so it can be dropped inside the runtime).
    value: Option<T>,
    /// The runtime current when the value was wrapped, if any.
    handle: Option<Handle>,
}

impl<T> InRuntime<T> {
    /// Wrap `value`, remembering the runtime of the calling thread.
    pub(crate) fn new(value: T) -> Self {
        Self { value: Some(value), handle: Handle::try_current().ok() }
    }

    /// The value (never missing before the drop; an error rather than a panic if it were).
    pub(crate) fn get(&self) -> Result<&T, BackendError> {
        self.value.as_ref().ok_or_else(|| BackendError::new(BackendErrorKind::Other, "the backend was already dropped"))
    }
}

impl<T> Drop for InRuntime<T> {
    fn drop(&mut self) {
        let value = self.value.take();
        match &self.handle {
            Some(handle) if Handle::try_current().is_err() => {
                let _entered = handle.enter();
                drop(value);
            }
            _ => drop(value),
        }
    }
}
