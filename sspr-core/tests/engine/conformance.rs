//! The conformance suite on the in-memory backends.

use sspr_core::memory::{MemoryContactStore, MemoryDirectory, MemoryStateStore};
use sspr_core::testing::{self, DirectoryFixture};
use sspr_core::{ManualClock, Password, UserId};

use crate::support::*;

#[tokio::test]
async fn memory_state_store_passes_the_conformance_suite() {
    let clock = ManualClock::new(START);
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(&MemoryStateStore::new(), &clock, wait).await;
}

#[tokio::test]
async fn memory_contact_store_passes_the_conformance_suite() {
    testing::contact_store_conformance(&MemoryContactStore::new(), &ManualClock::new(START)).await;
}

#[tokio::test]
async fn memory_directory_passes_the_conformance_suite() {
    let directory = MemoryDirectory::with_users(users()).unwrap();
    let fixture = DirectoryFixture {
        login: "Alice@Example.org".into(),
        id: UserId::new("uid=alice,ou=staff,dc=example,dc=org"),
        missing_login: "nobody@example.org".into(),
        good_password: Password::new("Tulip-Harbour-Engine-7"),
        weak_password: Some(Password::new("weak")),
    };
    testing::directory_conformance(&directory, &fixture).await;
    testing::directory_change_conformance(&directory, &fixture).await;
}

#[tokio::test]
async fn memory_state_store_sweeps_what_expires() {
    use sspr_core::StateStore;
    let store = MemoryStateStore::new();
    let later = START + std::time::Duration::from_secs(60);
    for i in 0..1000 {
        store.put(&format!("k{i}"), b"v", None, later, START).await.unwrap();
    }
    store.put("long-lived", b"v", None, START + std::time::Duration::from_secs(3600), START).await.unwrap();
    assert_eq!(store.len(), 1001);
    // A write after the expiry removes the expired entries (in batches) without a full scan.
    store.put("trigger", b"v", None, later + std::time::Duration::from_secs(3600), later).await.unwrap();
    assert_eq!(store.len(), 2, "only the live entries remain");
}

use sspr_core::backend::{Batch, BatchOutcome, Counter, StoredValue};
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, StateStore};

/// A store that overrides nothing else: it runs the trait's default `apply`.
#[derive(Debug)]
struct Basic(MemoryStateStore);

#[sspr_core::async_trait]
impl StateStore for Basic {
    // The four basic operations, forwarded.
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.0.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.0.put(key, value, expected_version, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.0.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.0.delete(key).await
    }
}

/// A store whose `apply` counts before its compare-and-set: broken on purpose.
#[derive(Debug)]
struct Eager(MemoryStateStore);

#[sspr_core::async_trait]
impl StateStore for Eager {
    // The four basic operations, forwarded.
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.0.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.0.put(key, value, expected_version, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.0.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.0.delete(key).await
    }

    async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        let counters = self.0.increment_many(&batch.increments, now).await?;
        let mut out = self.0.apply(&Batch { increments: Vec::new(), ..batch.clone() }, now).await?;
        if out.applied {
            out.counters = counters;
        }
        Ok(out)
    }
}

#[tokio::test]
async fn the_default_batch_passes_the_conformance_suite() {
    let clock = ManualClock::new(START);
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(&Basic(MemoryStateStore::new()), &clock, wait).await;
}

#[tokio::test]
#[should_panic(expected = "a failed batch must not count")]
async fn a_batch_that_counts_before_its_compare_and_set_fails_the_conformance_suite() {
    let clock = ManualClock::new(START);
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(&Eager(MemoryStateStore::new()), &clock, wait).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_sharing_a_memory_store_race_with_one_winner() {
    testing::two_engine_races(std::sync::Arc::new(MemoryStateStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_sharing_a_store_with_the_default_batch_race_with_one_winner() {
    testing::two_engine_races(std::sync::Arc::new(Basic(MemoryStateStore::new()))).await;
}

/// A store that lets other requests run at every call (as a network does) and whose `put`
/// ignores the version: broken on purpose, to show the race above can fail.
#[derive(Debug)]
struct NoCompare(MemoryStateStore);

#[sspr_core::async_trait]
impl StateStore for NoCompare {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        tokio::task::yield_now().await;
        self.0.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        tokio::task::yield_now().await;
        let live = self.0.get(key, now).await?.map(|v| v.version);
        let expected = if expected_version.is_some() { live } else { expected_version };
        let written = self.0.put(key, value, expected, expires_at, now).await?;
        Ok(written.or(live.map(|v| v + 1)))
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        tokio::task::yield_now().await;
        self.0.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        tokio::task::yield_now().await;
        self.0.delete(key).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "exactly one of the right PINs racing through two engines must verify")]
async fn two_engines_on_a_store_without_compare_and_set_both_win() {
    testing::two_engine_races(std::sync::Arc::new(NoCompare(MemoryStateStore::new()))).await;
}

/// What a [`Bent`] store gets wrong: the mistakes a busy developer makes writing a store over
/// a cache, a column or a TTL, each of which the suite must fail.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Keeps at most this many entries and drops the least recently written (an LRU cache,
    /// Django's LocMemCache at `MAX_ENTRIES`).
    Evicts(usize),
    /// Cuts keys to this many bytes (a `VARCHAR(64)` column).
    CutsKeys(usize),
    /// Compares keys case-insensitively (MySQL's default collation).
    FoldsCase,
    /// Loses a value's trailing NUL bytes (a C string).
    StripsNul,
    /// Judges expiry by `now` but lets its server drop entries after the seconds they have to
    /// live taken as milliseconds (`PEXPIRE` given seconds, a `setTimeout`).
    TtlInMilliseconds,
}

/// The in-memory store with one [`Fault`].
#[derive(Debug)]
struct Bent {
    inner: MemoryStateStore,
    fault: Fault,
    /// Keys in the order written (for `Evicts`), and when the server drops each (`TtlInMilliseconds`).
    written: std::sync::Mutex<Vec<(String, sspr_core::time::Duration, tokio::time::Instant)>>,
}

impl Bent {
    fn new(fault: Fault) -> Self {
        Self { inner: MemoryStateStore::new(), fault, written: std::sync::Mutex::new(Vec::new()) }
    }

    fn key(&self, key: &str) -> String {
        match self.fault {
            Fault::CutsKeys(n) => key.chars().take(n).collect(),
            Fault::FoldsCase => key.to_lowercase(),
            _ => key.to_owned(),
        }
    }

    /// Note a write of `key` to live `ttl`; drop what the fault drops.
    async fn wrote(&self, key: &str, ttl: sspr_core::time::Duration) {
        let dropped: Vec<String> = {
            let mut written = self.written.lock().unwrap();
            written.retain(|(k, ..)| k != key);
            written.push((key.to_owned(), ttl, tokio::time::Instant::now()));
            match self.fault {
                Fault::Evicts(capacity) if written.len() > capacity => {
                    let over = written.len() - capacity;
                    written.drain(..over).map(|(k, ..)| k).collect()
                }
                _ => Vec::new(),
            }
        };
        for key in dropped {
            self.inner.delete(&key).await.unwrap();
        }
    }

    /// Drop what the server's clock has expired.
    async fn reap(&self) {
        if !matches!(self.fault, Fault::TtlInMilliseconds) {
            return;
        }
        let now = tokio::time::Instant::now();
        let gone: Vec<String> = {
            let mut written = self.written.lock().unwrap();
            let (gone, kept): (Vec<_>, Vec<_>) = written.drain(..).partition(|(_, ttl, at)| {
                *at + std::time::Duration::from_secs_f64(ttl.as_seconds_f64() / 1000.0) <= now
            });
            *written = kept;
            gone.into_iter().map(|(k, ..)| k).collect()
        };
        for key in gone {
            self.inner.delete(&key).await.unwrap();
        }
    }
}

#[sspr_core::async_trait]
impl StateStore for Bent {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.reap().await;
        let mut got = self.inner.get(&self.key(key), now).await?;
        if let (Fault::StripsNul, Some(v)) = (self.fault, got.as_mut()) {
            while v.value.last() == Some(&0) {
                v.value.pop();
            }
        }
        Ok(got)
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.reap().await;
        let key = self.key(key);
        let version = self.inner.put(&key, value, expected_version, expires_at, now).await?;
        if version.is_some() {
            self.wrote(&key, expires_at - now).await;
        }
        Ok(version)
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.reap().await;
        let key = self.key(key);
        let counter = self.inner.increment(&key, expires_at, now).await?;
        if counter.count == 1 {
            self.wrote(&key, counter.expires_at - now).await;
        }
        Ok(counter)
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.delete(&self.key(key)).await
    }
}

/// The suite on a manual clock, then its real-time check on tokio's (paused) clock.
async fn check(store: &dyn StateStore) {
    let clock = ManualClock::new(START);
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(store, &clock, wait).await;
    testing::state_store_clock_conformance(store, &clock, tokio::time::sleep).await;
}

#[tokio::test(start_paused = true)]
async fn the_in_memory_store_keeps_time_by_its_own_clock_too() {
    check(&MemoryStateStore::new()).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "a store must keep every live value")]
async fn a_cache_that_evicts_fails_the_conformance_suite() {
    check(&Bent::new(Fault::Evicts(1000))).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "keys must not be cut")]
async fn a_store_that_cuts_keys_fails_the_conformance_suite() {
    check(&Bent::new(Fault::CutsKeys(64))).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "keys must be compared byte for byte")]
async fn a_store_that_folds_the_case_of_keys_fails_the_conformance_suite() {
    check(&Bent::new(Fault::FoldsCase)).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "leading and trailing NUL and white space included")]
async fn a_store_that_loses_trailing_nul_bytes_fails_the_conformance_suite() {
    check(&Bent::new(Fault::StripsNul)).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "a TTL given in seconds where milliseconds are taken")]
async fn a_store_whose_server_ttl_is_in_milliseconds_fails_the_conformance_suite() {
    check(&Bent::new(Fault::TtlInMilliseconds)).await;
}
