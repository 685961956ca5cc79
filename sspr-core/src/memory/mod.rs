//! In-memory backends: the embedded default for tests, examples and demos.
//!
//! They keep everything in the process and lose it on exit. Each honours its trait's
//! contract fully (the conformance suite runs on them), so a flow behaves the same here as
//! against a real directory and store.

mod audit;
mod contacts;
mod directory;
mod outbox;
mod store;

pub use audit::MemoryAuditSink;
pub use contacts::MemoryContactStore;
pub use directory::{DEFAULT_HISTORY_LENGTH, MemoryDirectory, MemoryUser};
pub use outbox::Outbox;
pub use store::MemoryStateStore;

use std::sync::{Mutex, MutexGuard};

/// Lock a mutex, recovering the data if a panicking thread poisoned it: every critical
/// section here leaves the data consistent before it can panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
