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
