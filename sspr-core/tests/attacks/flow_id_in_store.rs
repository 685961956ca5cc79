//! A reader of the shared state store (a replica, a backup, `MONITOR`, `KEYS sspr/flow/*`)
//! takes a verified flow's id from the store and completes the reset: the flow id is a bearer
//! credential (the framework routers keep it in a cookie; `complete_reset` needs nothing
//! else), and it was the flow record's key, `sspr/flow/<flow id>`, in clear.

use std::sync::{Arc, Mutex};

use sspr_core::backend::{Counter, StoredValue};
use sspr_core::memory::MemoryStateStore;
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, NewPassword, Pin, StateStore};

use crate::support::*;

/// The in-memory store, and everything written to it as a reader of the store sees it.
#[derive(Debug, Default)]
struct Watched {
    inner: MemoryStateStore,
    seen: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Watched {
    fn seen(&self) -> Vec<(String, Vec<u8>)> {
        self.seen.lock().unwrap().clone()
    }
}

#[sspr_core::async_trait]
impl StateStore for Watched {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.inner.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.seen.lock().unwrap().push((key.to_owned(), value.to_owned()));
        self.inner.put(key, value, expected, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.seen.lock().unwrap().push((key.to_owned(), Vec::new()));
        self.inner.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_store_reader_completes_a_verified_reset_with_the_flow_id_from_the_store() {
    let store = Arc::new(Watched::default());
    let h = Harness::builder().store(store.clone()).build().await;
    // The victim verifies the PIN and is about to choose how to complete.
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();

    // The reader tries every key the store holds, and every part of it, as a flow id.
    let seen = store.seen();
    let flow_bytes = sspr_core::hex::decode(&flow).unwrap();
    let mut candidates = Vec::new();
    for (key, value) in &seen {
        assert!(!key.contains(&flow), "the flow id is in the store key {key}");
        assert!(
            !value.windows(flow.len()).any(|w| w == flow.as_bytes())
                && !value.windows(flow_bytes.len()).any(|w| w == flow_bytes.as_slice()),
            "the flow id is in the value of {key}"
        );
        candidates.extend(key.split('/').filter(|part| part.len() == 32).map(str::to_owned));
    }
    assert!(!candidates.is_empty(), "the flow record is stored under a key: {seen:?}");
    for candidate in &candidates {
        let taken = h.sspr.complete_reset(candidate, NewPassword::Temporary, &ctx()).await;
        assert!(taken.is_err(), "a store reader completed the victim's reset from the key part {candidate}");
    }
    // The victim's own completion is untouched.
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.temporary_password.is_some());
}
