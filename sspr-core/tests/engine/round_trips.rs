//! State-store round trips per engine call, counted by a wrapper store: each call to the
//! store is one round trip for a networked store that overrides `apply`, `apply_after`,
//! `get_linked` and `increment_many` (a Redis script, a SQL statement or transaction). The counts are pinned here so they
//! cannot creep back, and a decoy flow must make exactly the round trips of a real one (a
//! different count would tell them apart by timing).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sspr_core::backend::{Batch, BatchOutcome, Counter, Put, StoredValue};
use sspr_core::memory::MemoryStateStore;
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, NewPassword, Pin, StateStore};

use crate::support::*;

/// Counts every call into the store it wraps.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryStateStore,
    calls: AtomicUsize,
}

impl Counting {
    fn take(&self) -> usize {
        self.calls.swap(0, Ordering::SeqCst)
    }
    fn tick(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[sspr_core::async_trait]
impl StateStore for Counting {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.tick();
        self.inner.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.tick();
        self.inner.put(key, value, expected_version, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.tick();
        self.inner.increment(key, expires_at, now).await
    }
    async fn increment_many(
        &self,
        counters: &[(&str, OffsetDateTime)],
        now: OffsetDateTime,
    ) -> Result<Vec<Counter>, BackendError> {
        self.tick();
        self.inner.increment_many(counters, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.tick();
        self.inner.delete(key).await
    }
    async fn get_linked(
        &self,
        key: &str,
        prefixes: &[&str],
        now: OffsetDateTime,
    ) -> Result<(Option<StoredValue>, Vec<Option<StoredValue>>), BackendError> {
        self.tick();
        self.inner.get_linked(key, prefixes, now).await
    }
    async fn apply_after(
        &self,
        first: &Put<'_>,
        batch: &Batch<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<BatchOutcome>, BackendError> {
        self.tick();
        self.inner.apply_after(first, batch, now).await
    }
    async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        self.tick();
        self.inner.apply(batch, now).await
    }
}

async fn harness() -> (Harness, Arc<Counting>) {
    let store = Arc::new(Counting::default());
    let h = Harness::builder().store(store.clone()).build().await;
    store.take();
    (h, store)
}

/// Round trips of begin_reset, send_pin (e-mail) and a wrong verify_pin for `login`.
async fn anonymous_calls(h: &Harness, store: &Counting, login: &str) -> [usize; 3] {
    let c = h.sspr.begin_reset(login, &ctx()).await.unwrap();
    let begin = store.take();
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    let send = store.take();
    let typed = match h.outbox.last_pin_to(ALICE_MAIL) {
        Some(pin) if login == ALICE => Harness::wrong(&pin),
        _ => "12345678".to_owned(),
    };
    assert!(h.sspr.verify_pin(&c.flow_id, Pin::new(typed), &ctx()).await.is_err());
    let verify = store.take();
    [begin, send, verify]
}

#[tokio::test]
async fn a_whole_flow_makes_few_round_trips() {
    let (h, store) = harness().await;
    let challenge = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    let begin = store.take();
    h.sspr.send_pin(&challenge.flow_id, "email", None, &ctx()).await.unwrap();
    let send = store.take();
    let pin = h.outbox.last_pin_to(ALICE_MAIL).unwrap();
    h.sspr.verify_pin(&challenge.flow_id, Pin::new(pin), &ctx()).await.unwrap();
    let verify = store.take();
    h.sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    let complete = store.take();
    println!("round trips: begin {begin}, send {send}, verify {verify}, complete {complete}");
    assert_eq!([begin, send, verify, complete], ROUND_TRIPS, "round trips per call");
    assert!(begin + send + verify + complete <= 9, "round trips per flow");
}

#[tokio::test]
async fn a_decoy_makes_the_round_trips_of_a_real_user() {
    let (h, store) = harness().await;
    let real = anonymous_calls(&h, &store, ALICE).await;
    for login in ["nobody@example.org", OUTSIDER, DISABLED, NO_CONTACT, NOT_ENABLED] {
        let decoy = anonymous_calls(&h, &store, login).await;
        println!("{login}: {decoy:?} (real {real:?})");
        assert_eq!(decoy, real, "{login}: a decoy's round trips per call must be a real user's");
    }
}

/// begin_reset (the per-IP counter; the subject's block and attempts read with the new
/// record), send_pin (the flow; the new PIN with the block and attempts read and the limits
/// counted), verify_pin (the flow with the block and attempts its link names; the attempt
/// counted and then the verdict with its counter changes), complete_reset (the flow; the
/// lease with the block and attempts; completed). Before `StateStore::apply`: 4, 5, 9, 5;
/// before the send's one batch: 2, 4, 4, 3; before `get_linked`: 2, 2, 4, 3; before
/// `apply_after`: 2, 2, 3, 3.
const ROUND_TRIPS: [usize; 4] = [2, 2, 2, 3];

#[tokio::test]
async fn a_refused_send_costs_a_decoy_what_it_costs_a_real_user() {
    let store = Arc::new(Counting::default());
    let h = Harness::builder()
        .policy(sspr_core::Policy { ip_sends_per_hour: 1, ..policy() })
        .store(store.clone())
        .build()
        .await;
    let mut costs = Vec::new();
    for (i, login) in [ALICE, "nobody@example.org", OUTSIDER, DISABLED, NO_CONTACT, NOT_ENABLED].iter().enumerate() {
        let ctx = sspr_core::RequestContext::from_ip(format!("198.51.100.{}", i + 1).parse().unwrap());
        let c = h.sspr.begin_reset(login, &ctx).await.unwrap();
        h.sspr.send_pin(&c.flow_id, "email", None, &ctx).await.unwrap();
        h.advance(std::time::Duration::from_secs(61));
        store.take();
        let refused = h.sspr.send_pin(&c.flow_id, "email", None, &ctx).await;
        assert!(matches!(refused, Err(sspr_core::Error::RateLimited { .. })), "{login}: {refused:?}");
        costs.push((login, store.take()));
    }
    println!("refused send round trips: {costs:?}");
    let real = costs[0].1;
    assert_eq!(real, 3, "the flow; the new PIN with the limits counted; the previous PIN put back");
    for (login, cost) in &costs {
        assert_eq!(*cost, real, "{login}: a decoy's refused send must cost a real user's");
    }
}

/// An engine over the harness's backends and `store` with a new key and the harness's key as
/// its previous one: the engine after a rotation.
fn rotated(h: &Harness, store: &Arc<Counting>) -> sspr_core::Sspr {
    sspr_core::Sspr::builder()
        .timer(h.clock.clone())
        .directory_arc(Arc::new(h.directory.clone()))
        .contacts_arc(Arc::new(h.contacts.clone()))
        .notifier_arc(Arc::new(h.outbox.clone()))
        .store_arc(store.clone())
        .audit(h.audit.clone())
        .clock(h.clock.clone())
        .policy(policy())
        .secret_key(sspr_core::SecretKey::from_bytes(&[0xc3; 32]).unwrap())
        .previous_keys([key()])
        .rng_seed([70; 32])
        .build()
        .unwrap()
}

/// A previous key costs no round trip: its subjects are read in the same store calls.
#[tokio::test]
async fn a_previous_key_adds_no_round_trip() {
    let (h, store) = harness().await;
    let ring = rotated(&h, &store);
    let challenge = ring.begin_reset(ALICE, &ctx()).await.unwrap();
    let begin = store.take();
    ring.send_pin(&challenge.flow_id, "email", None, &ctx()).await.unwrap();
    let send = store.take();
    let pin = h.outbox.last_pin_to(ALICE_MAIL).unwrap();
    ring.verify_pin(&challenge.flow_id, Pin::new(pin), &ctx()).await.unwrap();
    let verify = store.take();
    ring.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    let complete = store.take();
    println!("round trips with a previous key: begin {begin}, send {send}, verify {verify}, complete {complete}");
    assert_eq!([begin, send, verify, complete], ROUND_TRIPS, "round trips per call with a previous key");
}

/// A flow begun before the rotation reads its user's standing under every key once more at
/// each step (until it ends); a decoy's flow makes that read too, so the round trips still do
/// not tell them apart.
#[tokio::test]
async fn a_flow_begun_before_a_rotation_costs_a_decoy_what_it_costs_a_real_user() {
    let (h, store) = harness().await;
    let ring = rotated(&h, &store);
    let mut costs = Vec::new();
    for login in [ALICE, "nobody@example.org", OUTSIDER, DISABLED, NO_CONTACT, NOT_ENABLED] {
        let c = h.sspr.begin_reset(login, &ctx()).await.unwrap();
        store.take();
        ring.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
        let send = store.take();
        assert!(ring.verify_pin(&c.flow_id, Pin::new("12345678"), &ctx()).await.is_err());
        let verify = store.take();
        costs.push((login, [send, verify]));
    }
    println!("round trips of a flow begun before the rotation: {costs:?}");
    assert_eq!(costs[0].1, [3, 3], "one more read per step than ROUND_TRIPS' send and verify");
    for (login, cost) in &costs {
        assert_eq!(*cost, costs[0].1, "{login}: a decoy's must be a real user's");
    }
}

/// A password change: the per-IP limit, the lockout and attempts read, and the attempt counted
/// (compare-and-set, THREAT_MODEL 14.2f) before the directory is asked, then one call that
/// clears the attempts and ends a pending helpdesk code together
/// (THREAT_MODEL 14.5b''): ending the code costs no round trip of its own.
#[tokio::test]
async fn a_password_change_ends_a_pending_code_in_the_call_that_clears_the_failures() {
    let (h, store) = harness().await;
    let admin = admin();
    h.sspr.admin_recovery(&admin, ALICE, &ctx()).await.unwrap();
    store.take();
    let (current, new) = (sspr_core::Password::new(INITIAL_PASSWORD), sspr_core::Password::new("Fresh-Meadow-41"));
    h.sspr.change_password(ALICE, &current, &new, &ctx()).await.unwrap();
    let change = store.take();
    println!("round trips of a password change: {change}");
    assert_eq!(change, CHANGE_ROUND_TRIPS, "round trips of a password change");
}

/// The per-IP sign-in counter, the lockout and attempts read, the attempt counted, the attempts
/// cleared (with the pending code ended in the same call since it ends there).
const CHANGE_ROUND_TRIPS: usize = 4;
