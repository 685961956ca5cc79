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

/// A compare-and-set inside a [`Batch`]: the same rule as [`StateStore::put`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Put<'a> {
    /// The key to write.
    pub key: &'a str,
    /// The bytes to store.
    pub value: &'a [u8],
    /// `None`: write only if the key is absent or expired; `Some(v)`: only if the live
    /// version is `v`.
    pub expected_version: Option<u64>,
    /// When the value expires.
    pub expires_at: OffsetDateTime,
}

/// One engine step's store work, sent as one call so a networked store can do it in one
/// round trip ([`StateStore::apply`]).
///
/// In this order: `reads` are read; then `put`, if any, is tried; then, only if there is no
/// `put` or it succeeded, each of `increments` is counted and each of `deletes` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch<'a> {
    /// Keys to read, each answered as [`StateStore::get`] would before anything in this
    /// batch is written (a counter or an absent or expired key reads as `None`).
    pub reads: Vec<&'a str>,
    /// A compare-and-set; when it fails, nothing else of the batch is written.
    pub put: Option<Put<'a>>,
    /// Counters to add one to (key, expiry if new), as [`StateStore::increment_many`].
    pub increments: Vec<(&'a str, OffsetDateTime)>,
    /// Keys to remove (value or counter), as [`StateStore::delete`].
    pub deletes: Vec<&'a str>,
}

/// What a [`Batch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// One per read, in order.
    pub values: Vec<Option<StoredValue>>,
    /// Whether the writes were made: `true` when there was no `put` or it succeeded.
    pub applied: bool,
    /// The `put`'s new version, when it succeeded.
    pub version: Option<u64>,
    /// One per increment, in order, when `applied`; empty otherwise.
    pub counters: Vec<Counter>,
}

/// The most bytes a link may have ([`link_of`]).
pub const MAX_LINK: usize = 64;

/// The link at the start of a stored value, which [`StateStore::get_linked`] follows: when the
/// value's first byte `n` is 1 to [`MAX_LINK`] and the next `n` bytes are ASCII letters,
/// digits, `-` or `_`, those bytes; otherwise the value has no link. (The engine starts a
/// flow record with its subject's hex, so one call reads a flow and its subject's records.)
pub fn link_of(value: &[u8]) -> Option<&str> {
    let (&n, rest) = value.split_first()?;
    let link = rest.get(..usize::from(n))?;
    let valid = n != 0
        && usize::from(n) <= MAX_LINK
        && link.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
    if valid { std::str::from_utf8(link).ok() } else { None }
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
/// - `get` returns the live value and its version, or `None` (absent, expired, or a counter:
///   a store keeping counters and values side by side must not hand a counter to `get`).
/// - `put` **must** be an atomic compare-and-set: with `expected_version: None` it writes
///   only if the key is absent or expired; with `Some(v)` only if the live version is `v`.
///   On success it stores the value with version `v + 1` (1 for a new key) until
///   `expires_at` and returns the new version; otherwise it changes nothing and returns
///   `None`.
/// - `increment` **must** be atomic: it adds one to the counter, creating it at 1 with
///   expiry `expires_at` if it is absent or expired (the expiry of a live counter is not
///   moved), and returns the new count with the counter's expiry.
/// - `delete` removes a key (value or counter); deleting an absent key is not an error.
/// - `get_linked` reads a key and the keys its value's link ([`link_of`]) names, each as
///   `get` would; it need not be one snapshot (reads only), and a value without a link, or no
///   value, answers `None` for every linked key.
/// - `apply_after` is a `put` and, only if it won, an `apply`: nothing of the batch runs after
///   a failed first put.
/// - `apply` runs one engine step's [`Batch`] (see its docs for the order). Each part keeps
///   its own rule above (the reads as `get`, the put as `put`, each increment atomic); the
///   batch need not be atomic as a whole, except that **a failed `put` writes nothing**: no
///   increment, no delete. The reads are taken before the `put` (reading the key the batch
///   puts returns the old value). The default runs the parts one call at a time, which is
///   correct for any store that keeps the rules above; a networked store should override it
///   to make the whole batch one round trip (one Redis script, one SQL transaction).
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

    /// Read `key` and, for each of `prefixes`, the key `prefix + link`, where `link` is the
    /// link at the start of `key`'s value ([`link_of`]): a record and the records it names, in
    /// one call (`verify_pin` reads a flow and its subject's block and attempts). Returns
    /// `key`'s value and one answer per prefix, in order, each as [`StateStore::get`] would
    /// (`None` for all of them when `key` has no live value or its value no link).
    ///
    /// The default makes one `get` for `key` and one per prefix; a networked store should
    /// override it to answer in one round trip (a Redis script reading the linked keys, one
    /// SQL statement). Reads only: the answers need not be one snapshot.
    async fn get_linked(
        &self,
        key: &str,
        prefixes: &[&str],
        now: OffsetDateTime,
    ) -> Result<(Option<StoredValue>, Vec<Option<StoredValue>>), BackendError> {
        let value = self.get(key, now).await?;
        let link = value.as_ref().and_then(|v| link_of(&v.value)).map(str::to_owned);
        let mut linked = Vec::with_capacity(prefixes.len());
        for prefix in prefixes {
            linked.push(match &link {
                Some(link) => self.get(&format!("{prefix}{link}"), now).await?,
                None => None,
            });
        }
        Ok((value, linked))
    }

    /// Compare-and-set `first` ([`StateStore::put`]'s rule) and, only if it won, run `batch`
    /// ([`StateStore::apply`]): two dependent steps in one call. `verify_pin` counts the
    /// attempt (the user's attempts record) and stores the verdict on the flow this way, so
    /// the verdict is never written, nor answered, unless the attempt was counted first.
    ///
    /// Returns `None` when `first` failed: then nothing at all was written (the batch did not
    /// run, its reads included). Otherwise `first` is written, whatever `batch` then does (a
    /// batch whose own put fails answers `applied: false` and leaves `first` in place), exactly
    /// as a `put` followed by an `apply`. The default is that: two calls; a networked store
    /// should override it to make it one round trip (one Redis script where the keys share a
    /// slot). A store error may leave `first` written and the batch not, never the reverse.
    async fn apply_after(
        &self,
        first: &Put<'_>,
        batch: &Batch<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<BatchOutcome>, BackendError> {
        match self.put(first.key, first.value, first.expected_version, first.expires_at, now).await? {
            Some(_) => Ok(Some(self.apply(batch, now).await?)),
            None => Ok(None),
        }
    }

    /// Run one engine step's store work: read `batch.reads`, try `batch.put`, and if there is
    /// none or it succeeded, count `batch.increments` and remove `batch.deletes`.
    ///
    /// Each engine call (`begin_reset`, `send_pin`, `verify_pin`, `complete_reset`) makes
    /// its store work a few of these; a store that overrides this to answer in one round trip
    /// makes the engine's round trips per call its number of `apply` calls. The default is
    /// correct (one `get`, `put`, `increment_many`, `delete` after another) but makes as
    /// many round trips as the batch has parts.
    ///
    /// Contract (checked by `sspr_core::testing::state_store_conformance`, feature `testing`): the values are
    /// those live before the batch; a `put` that fails (wrong version, live key for a create)
    /// returns `applied: false`, `version: None`, no counters, and changes nothing at all;
    /// otherwise `applied: true`, the put's new version, and one counter per increment in
    /// order (a key named twice is counted twice). A store error may leave a batch partly
    /// applied only where the parts could be partly applied one by one (increments after a
    /// successful put, deletes after the increments), never a write after a failed `put`.
    async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        let mut values = Vec::with_capacity(batch.reads.len());
        for key in &batch.reads {
            values.push(self.get(key, now).await?);
        }
        let version = match &batch.put {
            Some(put) => match self.put(put.key, put.value, put.expected_version, put.expires_at, now).await? {
                Some(version) => Some(version),
                None => return Ok(BatchOutcome { values, applied: false, version: None, counters: Vec::new() }),
            },
            None => None,
        };
        let counters =
            if batch.increments.is_empty() { Vec::new() } else { self.increment_many(&batch.increments, now).await? };
        for key in &batch.deletes {
            self.delete(key).await?;
        }
        Ok(BatchOutcome { values, applied: true, version, counters })
    }
}
