use std::fmt::Debug;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::BackendError;

/// A stored value and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    /// The bytes as written.
    pub value: Vec<u8>,
    /// The version: starts at 1, grows by one on every successful `put`.
    pub version: u64,
}

/// A counter in a fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// The count after this increment.
    pub count: u64,
    /// When the window ends and the counter disappears.
    pub expires_at: OffsetDateTime,
}

/// Short-lived shared state: pending reset flows, rate-limit counters and blocks.
///
/// Every flow transition of the engine is one `put` with the version it read, so with
/// several portal instances sharing one store two concurrent `verify_pin` calls on a flow
/// cannot both succeed.
///
/// Contract:
/// - Keys are ASCII, at most 200 bytes. A key holds either a value or a counter.
/// - `now` is the engine's clock. A store may expire entries by its own clock instead (a
///   Redis TTL), as long as nothing is returned after `expires_at`: the engine also checks
///   expiry itself, so expiring later is harmless, expiring earlier loses state.
/// - `get` returns the live value and its version, or `None` (absent or expired).
/// - `put` **must** be an atomic compare-and-set: with `expected_version: None` it writes
///   only if the key is absent or expired; with `Some(v)` only if the live version is `v`.
///   On success it stores the value with version `v + 1` (1 for a new key) until
///   `expires_at` and returns the new version; otherwise it changes nothing and returns
///   `None`.
/// - `increment` **must** be atomic: it adds one to the counter, creating it at 1 with
///   expiry `expires_at` if it is absent or expired (the expiry of a live counter is not
///   moved), and returns the new count with the counter's expiry.
/// - `delete` removes a key (value or counter); deleting an absent key is not an error.
/// - Cost: expiring entries must not require scanning all live ones on each call.
#[async_trait]
pub trait StateStore: Send + Sync + Debug {
    /// The live value under `key`.
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError>;

    /// Compare-and-set `key` to `value` until `expires_at`.
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError>;

    /// Add one to the counter under `key`.
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError>;

    /// Add one to each counter of `counters` (key, expiry if new), in order, and return
    /// their new values in the same order; a key named twice is incremented twice.
    ///
    /// `send_pin` counts a request against 2 to 4 limits at once. The default makes one
    /// `increment` call each; a networked store should override it to do all of them in
    /// one round trip (a Redis pipeline or script, one SQL statement). Each increment must
    /// be atomic on its own; the batch need not be atomic as a whole.
    async fn increment_many(
        &self,
        counters: &[(&str, OffsetDateTime)],
        now: OffsetDateTime,
    ) -> Result<Vec<Counter>, BackendError> {
        let mut out = Vec::with_capacity(counters.len());
        for (key, expires_at) in counters {
            out.push(self.increment(key, *expires_at, now).await?);
        }
        Ok(out)
    }

    /// Remove `key`.
    async fn delete(&self, key: &str) -> Result<(), BackendError>;
}
