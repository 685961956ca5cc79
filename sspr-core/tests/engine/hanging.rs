//! A backend that never answers (a host-language promise that never settles, a socket with no
//! timeout): each call is given up after the engine's backend timeout as `Unavailable`, as a
//! backend reporting an outage is, so the engine call ends, nothing is half-done, and the
//! reset works once the backend answers again. The directory writes of a completion are the
//! exception: their own deadline bounds them and keeps the flow leased.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sspr_core::backend::{DirectoryUser, Enrollment};
use sspr_core::memory::{MemoryContactStore, MemoryDirectory, Outbox};
use sspr_core::notice::Notification;
use sspr_core::{
    AuditKind, Authentication, BACKEND_TIMEOUT, BackendError, BackendErrorKind, ContactStore, Directory, Error,
    NewPassword, NormalizedLogin, Notifier, Outcome, Password, Pin, UserId,
};

use crate::support::*;

/// While on, a call waits for ever.
#[derive(Debug, Default)]
struct Switch(AtomicBool);

impl Switch {
    fn set(&self, on: bool) {
        self.0.store(on, Ordering::SeqCst);
    }
    async fn hang_while_on(&self) {
        if self.0.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}

/// The harness's users; lookups and writes each hang while their switch is on (a write held
/// by `writes_held` answers once it is released).
#[derive(Debug)]
struct HangingDirectory {
    inner: MemoryDirectory,
    lookups: Switch,
    writes_held: AtomicBool,
    /// A user's own password change hangs (not made), and from then on so do sign-ins.
    changes: Switch,
    sign_ins: Switch,
}

impl HangingDirectory {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryDirectory::with_users(users()).unwrap(),
            lookups: Switch::default(),
            writes_held: AtomicBool::new(false),
            changes: Switch::default(),
            sign_ins: Switch::default(),
        })
    }
}

#[sspr_core::async_trait]
impl Directory for HangingDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        self.lookups.hang_while_on().await;
        self.inner.find_user(login).await
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        while self.writes_held.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        self.inner.unlock(user).await
    }
    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        self.sign_ins.hang_while_on().await;
        self.inner.authenticate(user, password).await
    }
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        if self.changes.0.load(Ordering::SeqCst) {
            self.sign_ins.set(true);
            std::future::pending::<()>().await;
        }
        self.inner.change_password(user, old, new).await
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        self.inner.search(query, limit).await
    }
}

#[derive(Debug)]
struct HangingContacts {
    inner: MemoryContactStore,
    switch: Arc<Switch>,
}

#[sspr_core::async_trait]
impl ContactStore for HangingContacts {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        self.switch.hang_while_on().await;
        self.inner.get(user).await
    }
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        self.switch.hang_while_on().await;
        self.inner.save(user, enrollment, expected_version).await
    }
}

#[derive(Debug)]
struct HangingNotifier {
    inner: Outbox,
    switch: Switch,
}

#[sspr_core::async_trait]
impl Notifier for HangingNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        self.switch.hang_while_on().await;
        self.inner.send(notification).await
    }
}

/// Run `call` in a task of its own, and give it the real time to reach the backend (and start
/// its timer) before the test moves the clock.
async fn started<T: Send + 'static>(
    call: impl std::future::Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    let task = tokio::spawn(call);
    tokio::time::sleep(Duration::from_millis(30)).await;
    task
}

/// The end of a call `started` (a test that fails rather than waits when it never ends).
async fn finished<T>(call: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), call).await.expect("the call is still waiting").unwrap()
}

/// Move the harness clock `by`, and give the engine's timer (a `ClockTimer`, which looks at
/// the clock every millisecond) the real time to see it.
async fn pass(h: &Harness, by: Duration) {
    h.advance(by);
    tokio::time::sleep(Duration::from_millis(30)).await;
}

fn assert_no_answer(error: &Error, what: &str) {
    match error {
        Error::Backend { source } => {
            assert_eq!(source.kind(), BackendErrorKind::Unavailable, "{error:?}");
            assert!(source.message().contains(what), "{error:?}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
}

/// Whole reset for alice with healthy backends: what proves nothing was left half-done.
async fn reset_alice(h: &Harness) {
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    let alice = h.directory.users().into_iter().find(|u| u.login == ALICE).unwrap().id;
    let password = outcome.temporary_password.unwrap();
    assert_eq!(h.directory.check_password(&alice, password.expose_secret()), Some(true));
}

#[tokio::test]
async fn a_directory_lookup_that_never_answers_fails_begin_reset_as_unavailable_at_the_backend_timeout() {
    let directory = HangingDirectory::new();
    let h = Harness::builder().clock_timer().directory(directory.clone()).build().await;
    directory.lookups.set(true);
    let sspr = h.sspr.clone();
    let call = started(async move { sspr.begin_reset(ALICE, &ctx()).await }).await;
    pass(&h, BACKEND_TIMEOUT - Duration::from_secs(1)).await;
    assert!(!call.is_finished(), "given up before the timeout");
    pass(&h, Duration::from_secs(2)).await;
    let error = finished(call).await.unwrap_err();
    assert_no_answer(&error, "directory.find_user: no answer within 30 s");

    directory.lookups.set(false);
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    let alice = directory.inner.users().into_iter().find(|u| u.login == ALICE).unwrap().id;
    let password = outcome.temporary_password.unwrap();
    assert_eq!(directory.inner.check_password(&alice, password.expose_secret()), Some(true));
}

#[tokio::test]
async fn the_backend_timeout_is_the_builders_and_never_zero() {
    let directory = HangingDirectory::new();
    let h = Harness::builder()
        .clock_timer()
        .backend_timeout(Duration::from_millis(1500))
        .directory(directory.clone())
        .build()
        .await;
    directory.lookups.set(true);
    let sspr = h.sspr.clone();
    let call = started(async move { sspr.begin_reset(ALICE, &ctx()).await }).await;
    pass(&h, Duration::from_secs(1)).await;
    assert!(!call.is_finished(), "given up before the timeout");
    pass(&h, Duration::from_secs(1)).await;
    assert_no_answer(&finished(call).await.unwrap_err(), "directory.find_user: no answer within 1500 ms");

    let zero = sspr_core::Sspr::builder()
        .directory(MemoryDirectory::new())
        .notifier(Outbox::new())
        .secret_key(key())
        .rng_seed([1; 32])
        .policy(policy())
        .backend_timeout(Duration::ZERO)
        .build();
    assert!(matches!(zero, Err(Error::Config(ref m)) if m.contains("backend timeout")), "{zero:?}");
}

#[tokio::test]
async fn a_contact_store_that_never_answers_fails_begin_reset_and_leaves_the_reset_possible() {
    let switch = Arc::new(Switch::default());
    let hang = Arc::clone(&switch);
    let h = Harness::builder()
        .clock_timer()
        .contacts(move |inner| Arc::new(HangingContacts { inner, switch: hang }))
        .build()
        .await;
    switch.set(true);
    let sspr = h.sspr.clone();
    let call = started(async move { sspr.begin_reset(ALICE, &ctx()).await }).await;
    pass(&h, BACKEND_TIMEOUT + Duration::from_secs(1)).await;
    assert_no_answer(&finished(call).await.unwrap_err(), "contacts.get: no answer within 30 s");
    switch.set(false);
    reset_alice(&h).await;
}

/// A notifier that never answers does not hold a delivery place for good: each attempt is
/// given up at the timeout, retried as an outage is, and the failure audited, so
/// `flush_deliveries` ends.
#[tokio::test]
async fn a_notifier_that_never_answers_frees_its_delivery_and_the_failure_is_audited() {
    let notifier = Arc::new(HangingNotifier { inner: Outbox::new(), switch: Switch::default() });
    let h = Harness::builder().clock_timer().notifier(notifier.clone()).build().await;
    let challenge = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    notifier.switch.set(true);
    h.sspr.send_pin(&challenge.flow_id, "email", None, &ctx()).await.expect("answered at once, as always");
    let sspr = h.sspr.clone();
    let flush = started(async move { sspr.flush_deliveries().await }).await;
    // Three attempts of 30 s each, 2 s and 8 s apart (each step of the clock may overshoot one).
    for _ in 0..40 {
        if flush.is_finished() {
            break;
        }
        pass(&h, Duration::from_secs(5)).await;
    }
    assert!(flush.is_finished(), "the delivery still holds its place");
    finished(flush).await;
    let failed = h.events_of(AuditKind::PinSent).pop().unwrap();
    assert!(
        matches!(&failed.outcome, Outcome::Failed { error }
            if error.contains("after 3 attempt(s)") && error.contains("notifier.send: no answer within 30 s")),
        "{failed:?}"
    );
    notifier.switch.set(false);
    h.advance(Duration::from_secs(61));
    h.sspr.send_pin(&challenge.flow_id, "email", None, &ctx()).await.unwrap();
    let pin = notifier.inner.last_pin_to(ALICE_MAIL).unwrap();
    h.sspr.verify_pin(&challenge.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
}

/// The completion's directory write is not cut at the backend timeout: its own deadline (60 s)
/// bounds it and keeps the flow leased, so a write that lands late never meets a retry.
#[tokio::test]
async fn a_completions_directory_write_may_take_longer_than_the_backend_timeout() {
    let directory = HangingDirectory::new();
    let h = Harness::builder().clock_timer().directory(directory.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    directory.writes_held.store(true, Ordering::SeqCst);
    let sspr = h.sspr.clone();
    let call = started(async move { sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await }).await;
    pass(&h, BACKEND_TIMEOUT + Duration::from_secs(15)).await;
    assert!(!call.is_finished(), "the write was cut at the backend timeout");
    directory.writes_held.store(false, Ordering::SeqCst);
    let outcome = finished(call).await.expect("the write answered within the completion's deadline");
    let alice = directory.inner.users().into_iter().find(|u| u.login == ALICE).unwrap().id;
    let password = outcome.temporary_password.unwrap();
    assert_eq!(directory.inner.check_password(&alice, password.expose_secret()), Some(true));
}

/// A directory that hangs on a user's password change, and then on the sign-in with the new
/// password that asks whether the change was made: the call used to wait one backend timeout
/// for each (60 s by default, with the host's request long given up); the read-back now gets
/// what is left of one. Nobody can tell whether the change was made, so the owner is told and
/// the event audited as a change that may be made (a false alarm here), and once the directory
/// answers again the user's retry with the old password makes it.
#[tokio::test]
async fn a_password_change_with_a_hanging_directory_ends_at_one_backend_timeout() {
    let directory = HangingDirectory::new();
    let h = Harness::builder().clock_timer().directory(directory.clone()).build().await;
    directory.changes.set(true);
    let sspr = h.sspr.clone();
    let (current, new) = (Password::new(INITIAL_PASSWORD), Password::new("Brand-New-Horse-Battery-77"));
    let (c, n) = (current.clone(), new.clone());
    let call = started(async move { sspr.change_password(ALICE, &c, &n, &ctx()).await }).await;
    pass(&h, BACKEND_TIMEOUT - Duration::from_secs(1)).await;
    assert!(!call.is_finished(), "given up before the timeout");
    pass(&h, Duration::from_secs(2)).await;
    assert!(call.is_finished(), "the call outlived one backend timeout (the read-back waited for one of its own)");
    assert_no_answer(&finished(call).await.unwrap_err(), "directory.change_password: no answer within 30 s");
    h.sspr.flush_deliveries().await;
    let may_be = h
        .events_of(AuditKind::PasswordChanged)
        .into_iter()
        .any(|e| matches!(&e.outcome, Outcome::Failed { error } if error.contains("may be changed")));
    assert!(may_be, "{:?}", h.events_of(AuditKind::PasswordChanged));
    let told = h.outbox.messages_to(ALICE_MAIL);
    assert!(told.iter().any(|n| matches!(n.message, sspr_core::notice::Message::PasswordChanged)), "{told:?}");

    directory.changes.set(false);
    directory.sign_ins.set(false);
    h.sspr.change_password(ALICE, &current, &new, &ctx()).await.unwrap();
    let alice = directory.inner.users().into_iter().find(|u| u.login == ALICE).unwrap().id;
    assert_eq!(directory.inner.check_password(&alice, new.expose_secret()), Some(false), "set, no must-change");
}
