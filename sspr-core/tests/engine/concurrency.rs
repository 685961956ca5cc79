//! Races: concurrent requests on one flow have exactly one winner.

use sspr_core::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sspr_core::{Error, NewPassword};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_verify_pin_with_the_right_pin_have_one_winner() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (sspr, flow, pin) = (h.sspr.clone(), flow.clone(), pin.clone());
            tokio::spawn(async move { sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(Error::AlreadyUsed) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_complete_reset_set_one_password() {
    let sets = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sets);
    let directory = HookedDirectory::new(move |write| {
        if write == DirectoryWrite::SetPassword {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    });
    let h = Harness::builder().directory(directory.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (sspr, flow) = (h.sspr.clone(), flow.clone());
            tokio::spawn(async move { sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await })
        })
        .collect();
    let mut passwords = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(outcome) => passwords.push(outcome.temporary_password.unwrap()),
            Err(Error::AlreadyUsed | Error::InvalidState { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(passwords.len(), 1, "exactly one completion wins");
    assert_eq!(sets.load(Ordering::SeqCst), 1, "exactly one password is set");
    let alice = directory.inner.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(directory.inner.check_password(&alice.id, passwords[0].expose_secret()), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_pins_are_each_counted() {
    let h = Harness::builder()
        .policy(sspr_core::Policy {
            user_failures_before_block: 50,
            client_failures_before_block: 50,
            failures_before_delay: 50,
            ..policy()
        })
        .build()
        .await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let wrong = Harness::wrong(&pin);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (sspr, flow, wrong) = (h.sspr.clone(), flow.clone(), wrong.clone());
            tokio::spawn(async move { sspr.verify_pin(&flow, Pin::new(&wrong), &ctx()).await })
        })
        .collect();
    let mut left = Vec::new();
    let mut voided = 0;
    for task in tasks {
        match task.await.unwrap() {
            Err(Error::WrongPin { attempts_left }) => left.push(attempts_left),
            Err(Error::PinVoided) => voided += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    left.sort_unstable();
    assert_eq!(left, [1, 2, 3, 4], "each wrong attempt used exactly one try");
    assert_eq!(voided, 16);
    assert!(matches!(h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await, Err(Error::PinVoided)));
}

/// A store whose every call takes a while, so racing requests really overlap (the in-memory
/// store answers so fast that racers mostly run one after another).
#[derive(Debug)]
struct SlowStore(sspr_core::memory::MemoryStateStore);

#[async_trait::async_trait]
impl sspr_core::StateStore for SlowStore {
    async fn get(
        &self,
        key: &str,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<Option<sspr_core::backend::StoredValue>, sspr_core::BackendError> {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        self.0.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: sspr_core::time::OffsetDateTime,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<Option<u64>, sspr_core::BackendError> {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        self.0.put(key, value, expected_version, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: sspr_core::time::OffsetDateTime,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<sspr_core::backend::Counter, sspr_core::BackendError> {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        self.0.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), sspr_core::BackendError> {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        self.0.delete(key).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_right_pins_from_one_client_leave_the_owner_free_to_complete() {
    let h = Harness::builder().store(Arc::new(SlowStore(Default::default()))).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let tasks: Vec<_> = (0..150)
        .map(|_| {
            let (sspr, flow, pin) = (h.sspr.clone(), flow.clone(), pin.clone());
            tokio::spawn(async move { sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await })
        })
        .collect();
    let mut outcomes = std::collections::BTreeMap::new();
    for task in tasks {
        let key = match task.await.unwrap() {
            Ok(_) => "verified".to_owned(),
            Err(e) => format!("{e:?}").split([' ', '{', '(']).next().unwrap_or("").to_owned(),
        };
        *outcomes.entry(key).or_insert(0) += 1;
    }
    // One wins. The twins held off by each other's counted attempts hear that the PIN is
    // used once it is, not that the owner is blocked: without the re-read 11-29 of the 149
    // heard "used" and the rest "blocked"; with it all 149 did (3 runs each). A twin refused
    // before the winner's write still hears "blocked", so the bound leaves room for timing.
    assert_eq!(outcomes.get("verified"), Some(&1), "{outcomes:?}");
    assert!(outcomes.get("AlreadyUsed").copied().unwrap_or(0) > 75, "{outcomes:?}");
    assert!(outcomes.keys().all(|k| ["verified", "AlreadyUsed", "Blocked", "RateLimited"].contains(&k.as_str())));
    let done = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(done.is_ok(), "{done:?} after {outcomes:?}");
    let status = h.sspr.status(ALICE).await.unwrap();
    assert_eq!(status.blocked_until, None);
    // The racers left nothing behind that holds the owner off next time.
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let again = h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await;
    assert!(again.is_ok(), "{again:?}");
}

/// verify_pin counts the attempt and stores the verdict in one store call (`apply_after`), the
/// verdict decided before the call. The attack: race wrong PINs from one client so that
/// verdicts land without their attempts counted, past the client's cap of 3 compares (the PIN
/// allows 5 tries: a sixth compare would void it). On the in-memory store (one lock) and on
/// one whose every call sleeps (the trait's default: a put, then the batch, racers really
/// overlapping), at most 3 compares land and the owner's right PIN from another client works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_wrong_pins_from_one_client_compare_no_more_than_its_cap() {
    for store in [
        Arc::new(sspr_core::memory::MemoryStateStore::new()) as Arc<dyn sspr_core::StateStore>,
        Arc::new(SlowStore(Default::default())),
    ] {
        let h = client_capped_at_three(store).await;
        let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
        let wrong = Harness::wrong(&pin);
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let (sspr, flow, wrong) = (h.sspr.clone(), flow.clone(), wrong.clone());
                tokio::spawn(async move { sspr.verify_pin(&flow, Pin::new(&wrong), &ctx()).await })
            })
            .collect();
        for task in tasks {
            match task.await.unwrap() {
                Err(Error::WrongPin { .. } | Error::Blocked { .. }) => {}
                other => panic!("a wrong PIN is wrong or held off: {other:?}"),
            }
        }
        // Work handed off (a drop guard's owed events) counts too.
        h.sspr.flush_deliveries().await;
        let compared = h.events_of(sspr_core::AuditKind::PinFailed).len();
        assert!(compared <= 3, "{compared} wrong PINs compared from one client; its cap is 3");
        let other = sspr_core::RequestContext::from_ip("203.0.113.9".parse().unwrap());
        h.sspr.verify_pin(&flow, Pin::new(&pin), &other).await.expect("the PIN has tries left");
    }
}

/// The in-memory store, but each `verify_pin`'s first read (`get_linked`: the flow with its
/// user's attempts) waits, once `gate` is set, until as many requests have read: racers
/// then all plan their attempt on the same attempts record, and all but one lose its
/// compare-and-set.
#[derive(Debug, Default)]
struct Lockstep {
    store: sspr_core::memory::MemoryStateStore,
    gate: std::sync::Mutex<Option<Arc<tokio::sync::Barrier>>>,
}

#[sspr_core::async_trait]
impl sspr_core::StateStore for Lockstep {
    async fn get(
        &self,
        key: &str,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<Option<sspr_core::backend::StoredValue>, sspr_core::BackendError> {
        self.store.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: sspr_core::time::OffsetDateTime,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<Option<u64>, sspr_core::BackendError> {
        self.store.put(key, value, expected_version, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: sspr_core::time::OffsetDateTime,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<sspr_core::backend::Counter, sspr_core::BackendError> {
        self.store.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), sspr_core::BackendError> {
        self.store.delete(key).await
    }
    async fn get_linked(
        &self,
        key: &str,
        prefixes: &[&str],
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<
        (Option<sspr_core::backend::StoredValue>, Vec<Option<sspr_core::backend::StoredValue>>),
        sspr_core::BackendError,
    > {
        let read = self.store.get_linked(key, prefixes, now).await;
        let gate = self.gate.lock().unwrap().clone();
        if let Some(gate) = gate {
            gate.wait().await;
        }
        read
    }
    async fn apply(
        &self,
        batch: &sspr_core::backend::Batch<'_>,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<sspr_core::backend::BatchOutcome, sspr_core::BackendError> {
        self.store.apply(batch, now).await
    }
    async fn apply_after(
        &self,
        first: &sspr_core::backend::Put<'_>,
        batch: &sspr_core::backend::Batch<'_>,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<Option<sspr_core::backend::BatchOutcome>, sspr_core::BackendError> {
        self.store.apply_after(first, batch, now).await
    }
}

/// A guess that may reach its client's cap owes the block's events if its caller stops
/// before they are recorded (a drop guard records them on the spawner). The attack: race
/// the client's third wrong PIN twice. Both plan "the third" on the same attempts record; one
/// is counted and compared, the other loses the compare-and-set and, recounted, is refused:
/// it compared nothing, yet its guard, still armed for the third guess, saw the client held
/// and recorded a `pin_failed` and a second `blocked`: one guess more in the audit trail
/// than were compared (4 of a cap of 3), and the host's hooks told twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_racer_refused_at_the_cap_records_no_guess_it_did_not_make() {
    let store = Arc::new(Lockstep::default());
    let h = client_capped_at_three(store.clone()).await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let wrong = Harness::wrong(&pin);
    for _ in 0..2 {
        let first = h.sspr.verify_pin(&flow, Pin::new(&wrong), &ctx()).await;
        assert!(matches!(first, Err(Error::WrongPin { .. })), "{first:?}");
    }
    *store.gate.lock().unwrap() = Some(Arc::new(tokio::sync::Barrier::new(2)));
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (sspr, flow, wrong) = (h.sspr.clone(), flow.clone(), wrong.clone());
            tokio::spawn(async move { sspr.verify_pin(&flow, Pin::new(&wrong), &ctx()).await })
        })
        .collect();
    for racer in racers {
        let answer = racer.await.unwrap();
        assert!(matches!(answer, Err(Error::Blocked { .. })), "{answer:?}");
    }
    *store.gate.lock().unwrap() = None;
    h.sspr.flush_deliveries().await;
    assert_eq!(h.events_of(sspr_core::AuditKind::PinFailed).len(), 3, "three guesses were compared");
    assert_eq!(h.events_of(sspr_core::AuditKind::Blocked).len(), 1, "the client was blocked once");
    let other = sspr_core::RequestContext::from_ip("203.0.113.9".parse().unwrap());
    h.sspr.verify_pin(&flow, Pin::new(&pin), &other).await.expect("the PIN has tries left");
}

/// An engine on `store` whose only binding cap is the client's: 3 wrong PINs from one client
/// block it, while the delay and the user-wide block are far off (50).
async fn client_capped_at_three(store: Arc<dyn sspr_core::StateStore>) -> Harness {
    Harness::builder()
        .store(store)
        .policy(sspr_core::Policy {
            client_failures_before_block: 3,
            failures_before_delay: 50,
            user_failures_before_block: 50,
            ..policy()
        })
        .build()
        .await
}
