use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::lock;
use crate::backend::{Batch, BatchOutcome, Counter, Put, StateStore, StoredValue};
use crate::error::BackendError;
use crate::flow::{from_ts, ts};

/// Most expired entries removed by one call, so no single call stalls on a large sweep.
const SWEEP_BATCH: usize = 1024;

#[derive(Debug)]
enum Data {
    Value(Box<[u8]>),
    Counter(u64),
}

#[derive(Debug)]
struct Slot {
    data: Data,
    version: u64,
    expires_at: i64,
}

#[derive(Debug, Default)]
struct Inner {
    slots: HashMap<Arc<str>, Slot>,
    /// Expiry times, soonest first, with an insertion number that breaks ties (so entries
    /// due in the same second never compare their keys). An entry whose slot has since been
    /// removed or given another expiry is skipped when popped, so updates need not search it.
    expiry: BinaryHeap<Reverse<(i64, u64, Arc<str>)>>,
    pushed: u64,
}

impl Inner {
    /// Drop what has expired by `now`: the cost is proportional to what expires, not to
    /// what is stored.
    fn sweep(&mut self, now: i64) {
        for _ in 0..SWEEP_BATCH {
            match self.expiry.peek() {
                Some(Reverse((at, _, _))) if *at <= now => {}
                _ => return,
            }
            if let Some(Reverse((at, _, key))) = self.expiry.pop()
                && self.slots.get(&key).is_some_and(|slot| slot.expires_at == at)
            {
                self.slots.remove(&key);
            }
        }
    }

    fn live(&self, key: &str, now: i64) -> Option<&Slot> {
        self.slots.get(key).filter(|slot| slot.expires_at > now)
    }

    fn get(&self, key: &str, now: i64) -> Option<StoredValue> {
        self.live(key, now).and_then(|slot| match &slot.data {
            Data::Value(bytes) => Some(StoredValue { value: bytes.to_vec(), version: slot.version }),
            Data::Counter(_) => None,
        })
    }

    /// The compare-and-set of `StateStore::put`, on a swept map.
    fn put(
        &mut self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: i64,
        now: i64,
    ) -> Option<u64> {
        let current = self.live(key, now).map(|slot| slot.version);
        let next = match (current, expected_version) {
            (None, None) => 1,
            (Some(live), Some(expected)) if live == expected => live.saturating_add(1),
            _ => return None,
        };
        self.store(key, Slot { data: Data::Value(value.into()), version: next, expires_at });
        Some(next)
    }

    /// The increment of `StateStore::increment`, on a swept map.
    fn increment(&mut self, key: &str, expires_at: i64, now: i64) -> Counter {
        let (count, expiry) = match self.live(key, now) {
            Some(Slot { data: Data::Counter(n), expires_at, .. }) => (n.saturating_add(1), *expires_at),
            _ => (1, expires_at),
        };
        self.store(key, Slot { data: Data::Counter(count), version: count, expires_at: expiry });
        Counter { count, expires_at: from_ts(expiry) }
    }

    fn index(&mut self, expires_at: i64, key: Arc<str>) {
        self.pushed = self.pushed.wrapping_add(1);
        self.expiry.push(Reverse((expires_at, self.pushed, key)));
    }

    /// Insert or replace `key`, indexing its expiry when it is new or changed.
    fn store(&mut self, key: &str, slot: Slot) {
        let expires_at = slot.expires_at;
        match self.slots.get_key_value(key) {
            Some((shared, old)) => {
                let shared = Arc::clone(shared);
                if old.expires_at != expires_at {
                    self.index(expires_at, Arc::clone(&shared));
                }
                self.slots.insert(shared, slot);
            }
            None => {
                let shared: Arc<str> = Arc::from(key);
                self.index(expires_at, Arc::clone(&shared));
                self.slots.insert(shared, slot);
            }
        }
    }
}

/// Flows, counters and blocks in a map with TTL expiry. Clones share the same store.
///
/// Expired entries are removed lazily, from a heap ordered by expiry, on each write; the
/// cost grows with what expires, not with what is stored.
#[derive(Debug, Clone, Default)]
pub struct MemoryStateStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries held, live or expired-but-not-yet-swept.
    pub fn len(&self) -> usize {
        lock(&self.inner).slots.len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remove everything that has expired by `now` (writes do this in batches anyway).
    pub fn sweep_expired(&self, now: OffsetDateTime) {
        let mut inner = lock(&self.inner);
        while inner.expiry.peek().is_some_and(|Reverse((at, _, _))| *at <= ts(now)) {
            inner.sweep(ts(now));
        }
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        Ok(lock(&self.inner).get(key, ts(now)))
    }

    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        let mut inner = lock(&self.inner);
        inner.sweep(ts(now));
        Ok(inner.put(key, value, expected_version, ts(expires_at), ts(now)))
    }

    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        let mut inner = lock(&self.inner);
        inner.sweep(ts(now));
        Ok(inner.increment(key, ts(expires_at), ts(now)))
    }

    async fn increment_many(
        &self,
        counters: &[(&str, OffsetDateTime)],
        now: OffsetDateTime,
    ) -> Result<Vec<Counter>, BackendError> {
        let mut inner = lock(&self.inner);
        inner.sweep(ts(now));
        Ok(counters.iter().map(|(key, expires_at)| inner.increment(key, ts(*expires_at), ts(now))).collect())
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        lock(&self.inner).slots.remove(key);
        Ok(())
    }

    /// Under one lock: the record and the records its link names are one snapshot.
    async fn get_linked(
        &self,
        key: &str,
        prefixes: &[&str],
        now: OffsetDateTime,
    ) -> Result<(Option<StoredValue>, Vec<Option<StoredValue>>), BackendError> {
        let mut inner = lock(&self.inner);
        let now = ts(now);
        inner.sweep(now);
        let value = inner.get(key, now);
        let link = value.as_ref().and_then(|v| crate::backend::link_of(&v.value));
        let linked =
            prefixes.iter().map(|prefix| link.and_then(|link| inner.get(&format!("{prefix}{link}"), now))).collect();
        Ok((value, linked))
    }

    /// Both under one lock.
    async fn apply_after(
        &self,
        first: &Put<'_>,
        batch: &Batch<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<BatchOutcome>, BackendError> {
        let mut inner = lock(&self.inner);
        let at = ts(now);
        inner.sweep(at);
        if inner.put(first.key, first.value, first.expected_version, ts(first.expires_at), at).is_none() {
            return Ok(None);
        }
        Ok(Some(apply_locked(&mut inner, batch, at)))
    }

    /// The whole batch under one lock: atomic, which the contract allows but does not ask.
    async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        let mut inner = lock(&self.inner);
        let now = ts(now);
        inner.sweep(now);
        Ok(apply_locked(&mut inner, batch, now))
    }
}

/// A batch on the store's state, its lock held.
fn apply_locked(inner: &mut Inner, batch: &Batch<'_>, now: i64) -> BatchOutcome {
    {
        let values = batch.reads.iter().map(|key| inner.get(key, now)).collect();
        let version = match &batch.put {
            Some(put) => match inner.put(put.key, put.value, put.expected_version, ts(put.expires_at), now) {
                Some(version) => Some(version),
                None => return BatchOutcome { values, applied: false, version: None, counters: Vec::new() },
            },
            None => None,
        };
        let counters =
            batch.increments.iter().map(|(key, expires_at)| inner.increment(key, ts(*expires_at), now)).collect();
        for key in &batch.deletes {
            inner.slots.remove(*key);
        }
        BatchOutcome { values, applied: true, version, counters }
    }
}
