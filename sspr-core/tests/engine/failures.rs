//! A backend failing mid-flow: a typed error, nothing half-done, and the same call works
//! once the backend is back.

use sspr_core::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use sspr_core::memory::{MemoryDirectory, MemoryStateStore, Outbox};
use sspr_core::notice::Notification;
use sspr_core::time::OffsetDateTime;
use sspr_core::{
    AuditKind, BackendError, BackendErrorKind, Error, NewPassword, Notifier, Outcome, StateStore, backend::Counter,
    backend::StoredValue,
};

use crate::support::*;

fn outage() -> BackendError {
    BackendError::unavailable(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer"))
}

#[tokio::test]
async fn directory_failure_during_complete_reset_leaves_the_flow_verified_and_retryable() {
    let down = Arc::new(AtomicBool::new(false));
    let switch = Arc::clone(&down);
    let flaky = HookedDirectory::new(move |_| if switch.load(Ordering::SeqCst) { Err(outage()) } else { Ok(()) });
    let h = Harness::builder().directory(flaky.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.outbox.clear();

    down.store(true, Ordering::SeqCst);
    let err = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap_err();
    match &err {
        Error::Backend { source } => assert_eq!(source.kind(), BackendErrorKind::Unavailable),
        other => panic!("expected a backend error, got {other:?}"),
    }
    let alice = flaky.inner.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(flaky.inner.check_password(&alice.id, INITIAL_PASSWORD), Some(false), "the password is unchanged");
    assert!(h.outbox.messages().is_empty(), "no 'password was reset' notice for a reset that did not happen");
    assert!(matches!(h.events_of(AuditKind::ResetFailed).pop().unwrap().outcome, Outcome::Failed { .. }));
    assert_eq!(h.sspr.status(ALICE).await.unwrap().last_reset_at, None);

    down.store(false, Ordering::SeqCst);
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.expect("the retry succeeds");
    assert_eq!(flaky.inner.check_password(&alice.id, outcome.temporary_password.unwrap().expose_secret()), Some(true));
}

/// A notifier that refuses while `down` is set.
#[derive(Debug)]
struct FlakyNotifier {
    inner: Outbox,
    down: AtomicBool,
}

#[sspr_core::async_trait]
impl Notifier for FlakyNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(outage());
        }
        self.inner.send(notification).await
    }
}

/// A notifier outage is not the caller's business: the answer is a decoy's (issue 11 item 2),
/// the audit records the failure, and the flow is not rolled back (a rolled-back flow would
/// take a resend at once where a decoy's is in its cooldown): the user sends a new PIN after
/// the cooldown.
#[tokio::test]
async fn notifier_failure_during_send_pin_is_audited_and_answered_like_success() {
    let outbox = Outbox::new();
    let flaky = Arc::new(FlakyNotifier { inner: outbox.clone(), down: AtomicBool::new(false) });
    let h = Harness::builder().notifier(flaky.clone()).build().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();

    flaky.down.store(true, Ordering::SeqCst);
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.expect("answered like a decoy");
    h.sspr.flush_deliveries().await;
    assert!(outbox.messages().is_empty());
    let failed = h.events_of(AuditKind::PinSent).pop().unwrap();
    assert!(matches!(&failed.outcome, Outcome::Failed { error } if error.contains("not delivered")), "{failed:?}");
    assert_eq!(failed.destination.as_deref(), Some("a***@m***.example"), "masked destination only");
    // The cooldown holds, as it does for a decoy.
    flaky.down.store(false, Ordering::SeqCst);
    assert!(matches!(h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await, Err(Error::RateLimited { .. })));
    h.advance(Duration::from_secs(61));
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    let pin = outbox.last_pin_to(ALICE_MAIL).unwrap();
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
}

/// The price of answering outages like a decoy: a resend the notifier fails has still
/// replaced the PIN the user had (keeping the old one would take a write a decoy does not
/// make). The user asks again after the cooldown.
#[tokio::test]
async fn notifier_failure_on_a_resend_replaces_the_previous_pin_and_the_next_resend_works() {
    let outbox = Outbox::new();
    let flaky = Arc::new(FlakyNotifier { inner: outbox.clone(), down: AtomicBool::new(false) });
    let h = Harness::builder().notifier(flaky.clone()).build().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    let first = outbox.last_pin_to(ALICE_MAIL).unwrap();
    h.advance(Duration::from_secs(61));
    flaky.down.store(true, Ordering::SeqCst);
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    assert!(matches!(h.sspr.verify_pin(&c.flow_id, Pin::new(&first), &ctx()).await, Err(Error::WrongPin { .. })));
    flaky.down.store(false, Ordering::SeqCst);
    h.advance(Duration::from_secs(61));
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    let third = outbox.last_pin_to(ALICE_MAIL).unwrap();
    h.sspr.verify_pin(&c.flow_id, Pin::new(&third), &ctx()).await.expect("the PIN that arrived works");
}

/// A state store that fails every call while `down` is set.
#[derive(Debug)]
struct FlakyStore {
    inner: MemoryStateStore,
    /// Every call fails.
    down: AtomicBool,
    /// Only writes (`put`, `delete`) fail.
    writes_down: AtomicBool,
    /// Only `delete` fails.
    deletes_down: AtomicBool,
}

impl FlakyStore {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryStateStore::new(),
            down: AtomicBool::new(false),
            writes_down: AtomicBool::new(false),
            deletes_down: AtomicBool::new(false),
        })
    }
    fn check(&self) -> Result<(), BackendError> {
        if self.down.load(Ordering::SeqCst) { Err(outage()) } else { Ok(()) }
    }
    fn check_write(&self) -> Result<(), BackendError> {
        self.check()?;
        if self.writes_down.load(Ordering::SeqCst) { Err(outage()) } else { Ok(()) }
    }
}

#[sspr_core::async_trait]
impl StateStore for FlakyStore {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.check()?;
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
        self.check_write()?;
        self.inner.put(key, value, expected, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.check()?;
        self.inner.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.check_write()?;
        if self.deletes_down.load(Ordering::SeqCst) {
            return Err(outage());
        }
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn state_store_outage_is_a_typed_error_and_sends_nothing() {
    let flaky = FlakyStore::new();
    let h = Harness::builder().store(flaky.clone()).build().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    flaky.down.store(true, Ordering::SeqCst);
    assert!(matches!(h.sspr.begin_reset(ALICE, &ctx()).await, Err(Error::Backend { .. })));
    assert!(matches!(h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await, Err(Error::Backend { .. })));
    assert!(h.outbox.messages().is_empty());
    flaky.down.store(false, Ordering::SeqCst);
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
}

#[tokio::test]
async fn a_store_failure_after_the_password_was_set_still_returns_the_password() {
    let store = FlakyStore::new();
    // The store's writes fail from the moment the directory sets the password.
    let switch = Arc::clone(&store);
    let directory = HookedDirectory::new(move |write| {
        if write == DirectoryWrite::SetPassword {
            switch.writes_down.store(true, Ordering::SeqCst);
        }
        Ok(())
    });
    let h = Harness::builder().directory(directory.clone()).store(store.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.expect("the password was set");
    let alice = directory.inner.users().into_iter().find(|u| u.login == ALICE).unwrap();
    let password = outcome.temporary_password.expect("and it is handed over");
    assert_eq!(directory.inner.check_password(&alice.id, password.expose_secret()), Some(true));
    // The flow could not be marked completed, but it is still leased: no second reset now.
    store.writes_down.store(false, Ordering::SeqCst);
    assert!(matches!(
        h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await,
        Err(Error::InvalidState { .. })
    ));
}

#[tokio::test]
async fn a_store_failure_while_resetting_counters_does_not_undo_a_verified_pin() {
    let store = FlakyStore::new();
    let h = Harness::builder().store(store.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    store.deletes_down.store(true, Ordering::SeqCst);
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.expect("verified although the counters could not be reset");
    store.deletes_down.store(false, Ordering::SeqCst);
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
}

/// An audit sink that always fails.
#[derive(Debug)]
struct BrokenAudit;

#[sspr_core::async_trait]
impl sspr_core::AuditSink for BrokenAudit {
    async fn record(&self, _: &sspr_core::AuditEvent) -> Result<(), BackendError> {
        Err(outage())
    }
}

#[tokio::test]
async fn an_audit_failure_does_not_undo_a_reset() {
    let directory = MemoryDirectory::with_users(users()).unwrap();
    let outbox = Outbox::new();
    let sspr = sspr_core::Sspr::builder()
        .directory(directory.clone())
        .notifier(outbox.clone())
        .audit(BrokenAudit)
        .policy(policy())
        .secret_key(key())
        .build()
        .unwrap();
    sspr.set_enabled(&admin(), BOB, true, &ctx()).await.unwrap();
    let update =
        sspr_core::ContactUpdate { email: sspr_core::ContactChange::Set(BOB_MAIL.into()), ..Default::default() };
    sspr.update_contacts(&admin(), BOB, update, &ctx()).await.unwrap();
    let c = sspr.begin_reset(BOB, &ctx()).await.unwrap();
    sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    sspr.verify_pin(&c.flow_id, Pin::new(outbox.last_pin_to(BOB_MAIL).unwrap()), &ctx()).await.unwrap();
    let outcome = sspr.complete_reset(&c.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.temporary_password.is_some());
}

#[tokio::test]
async fn a_temporary_password_the_directory_refuses_is_regenerated() {
    // The directory's own policy refuses the first two passwords it is given.
    let refusals_left = Arc::new(AtomicU32::new(2));
    let left = Arc::clone(&refusals_left);
    let picky = HookedDirectory::new(move |write| {
        let refuse = write == DirectoryWrite::SetPassword
            && left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if refuse {
            Err(BackendError::password_rejected("0000052D: the password does not meet the policy"))
        } else {
            Ok(())
        }
    });
    let h = Harness::builder().directory(picky.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    let alice = picky.inner.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(picky.inner.check_password(&alice.id, outcome.temporary_password.unwrap().expose_secret()), Some(true));

    // A directory that refuses every one: a typed error after a bounded number of tries.
    refusals_left.store(100, Ordering::SeqCst);
    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    match h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await {
        Err(Error::Backend { source }) => assert_eq!(source.kind(), BackendErrorKind::PasswordRejected),
        other => panic!("{other:?}"),
    }
    assert_eq!(refusals_left.load(Ordering::SeqCst), 97, "three tries, then give up");
}

/// An audit sink that holds events until `flush` (as a queue in front of a database does),
/// or fails to flush when `broken`.
#[derive(Debug, Default, Clone)]
struct BufferedAudit {
    held: Arc<std::sync::Mutex<Vec<AuditKind>>>,
    stored: Arc<std::sync::Mutex<Vec<AuditKind>>>,
    broken: bool,
}

#[sspr_core::async_trait]
impl sspr_core::AuditSink for BufferedAudit {
    async fn record(&self, event: &sspr_core::AuditEvent) -> Result<(), BackendError> {
        self.held.lock().unwrap().push(event.kind);
        Ok(())
    }
    async fn flush(&self) -> Result<(), BackendError> {
        if self.broken {
            return Err(outage());
        }
        let held = std::mem::take(&mut *self.held.lock().unwrap());
        self.stored.lock().unwrap().extend(held);
        Ok(())
    }
}

/// An engine over `audit` with bob enabled and enrolled by e-mail, and its outbox.
fn engine_with_audit(audit: BufferedAudit) -> (sspr_core::Sspr, Outbox) {
    let outbox = Outbox::new();
    let sspr = sspr_core::Sspr::builder()
        .directory(MemoryDirectory::with_users(users()).unwrap())
        .notifier(outbox.clone())
        .audit(audit)
        .policy(policy())
        .secret_key(key())
        .build()
        .unwrap();
    (sspr, outbox)
}

#[tokio::test]
async fn flush_audit_reaches_the_sink_through_the_engine() {
    let audit = BufferedAudit::default();
    let (sspr, outbox) = engine_with_audit(audit.clone());
    sspr.set_enabled(&admin(), BOB, true, &ctx()).await.unwrap();
    let update =
        sspr_core::ContactUpdate { email: sspr_core::ContactChange::Set(BOB_MAIL.into()), ..Default::default() };
    sspr.update_contacts(&admin(), BOB, update, &ctx()).await.unwrap();
    let c = sspr.begin_reset(BOB, &ctx()).await.unwrap();
    sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    sspr.verify_pin(&c.flow_id, Pin::new(outbox.last_pin_to(BOB_MAIL).unwrap()), &ctx()).await.unwrap();
    sspr.complete_reset(&c.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    sspr.flush_deliveries().await;
    assert!(audit.stored.lock().unwrap().is_empty(), "nothing stored before the flush");
    sspr.flush_audit().await.unwrap();
    let stored = audit.stored.lock().unwrap().clone();
    for kind in [AuditKind::ResetRequested, AuditKind::PinSent, AuditKind::PinVerified, AuditKind::ResetCompleted] {
        assert!(stored.contains(&kind), "{kind:?} stored by the flush: {stored:?}");
    }
    assert!(audit.held.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_sink_that_cannot_flush_is_a_backend_error() {
    let (sspr, _) = engine_with_audit(BufferedAudit { broken: true, ..Default::default() });
    let e = sspr.flush_audit().await.unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
}
