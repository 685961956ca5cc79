//! The enumeration attacks' rig: an engine with the library's default policy (plus the test
//! OUs and SMS), on backends an attacker's luck can make slow or failing, and a clock that
//! follows tokio's virtual time, so "how long did it take" is exact and cannot flake.
//!
//! Run under `#[tokio::test(start_paused = true)]`: sleeps then cost no real time, and
//! durations are measured with `tokio::time::Instant`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sspr_core::backend::{Authentication, DirectoryUser, Enrollment};
use sspr_core::memory::{MemoryAuditSink, MemoryContactStore, MemoryDirectory, Outbox};
use sspr_core::notice::Notification;
use sspr_core::time::OffsetDateTime;
use sspr_core::{
    AuditEvent, AuditKind, BackendError, BackendErrorKind, Clock, ContactStore, Directory, NormalizedLogin, Notifier,
    Password, Policy, Sspr, UserId,
};

use crate::support::{self, ALICE, ALICE_MAIL, ALICE_PHONE, BOB, BOB_MAIL, DISABLED, START, admin, ctx, key};

/// A clock that reads tokio's (virtual, when paused) time.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    origin: tokio::time::Instant,
}

impl VirtualClock {
    pub fn new() -> Self {
        Self { origin: tokio::time::Instant::now() }
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        START + (tokio::time::Instant::now() - self.origin)
    }
}

/// How a backend misbehaves: every call waits `delay` (tokio time) and then fails if `fail`.
#[derive(Debug, Default)]
pub struct Fault {
    delay_ms: AtomicUsize,
    fail: AtomicBool,
    calls: AtomicUsize,
}

impl Fault {
    pub fn slow(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as usize, Ordering::SeqCst);
    }
    pub fn fail(&self, on: bool) {
        self.fail.store(on, Ordering::SeqCst);
    }
    /// Calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    async fn strike(&self, what: &str) -> Result<(), BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay as u64)).await;
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(BackendError::new(BackendErrorKind::Unavailable, format!("{what}: connection refused")));
        }
        Ok(())
    }
}

/// A mail relay / SMS gateway in front of an outbox.
#[derive(Debug, Default)]
pub struct Relay {
    pub outbox: Outbox,
    pub fault: Fault,
}

#[sspr_core::async_trait]
impl Notifier for Relay {
    async fn send(&self, n: &Notification) -> Result<(), BackendError> {
        self.fault.strike("relay").await?;
        self.outbox.send(n).await
    }
}

/// The contact store, in front of the in-memory one.
#[derive(Debug, Default)]
pub struct Contacts {
    pub inner: MemoryContactStore,
    pub fault: Fault,
}

#[sspr_core::async_trait]
impl ContactStore for Contacts {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        self.fault.strike("contacts").await?;
        self.inner.get(user).await
    }
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        self.fault.strike("contacts").await?;
        self.inner.save(user, enrollment, expected_version).await
    }
}

/// The directory, in front of the in-memory one, matching some logins by a second attribute
/// (as a directory searching `uid` or `mail` would): `aliases` maps such a spelling to the
/// user's login.
#[derive(Debug)]
pub struct Dir {
    pub inner: MemoryDirectory,
    pub aliases: Mutex<HashMap<String, String>>,
    /// Strikes the password checks and changes (a directory slow to bind).
    pub fault: Fault,
}

#[sspr_core::async_trait]
impl Directory for Dir {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        let alias = self.aliases.lock().unwrap().get(login.as_str()).cloned();
        match alias {
            Some(real) => self.inner.find_user(&NormalizedLogin::parse(&real).unwrap()).await,
            None => self.inner.find_user(login).await,
        }
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        self.inner.unlock(user).await
    }
    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        self.fault.strike("directory").await?;
        self.inner.authenticate(user, password).await
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        self.inner.search(query, limit).await
    }
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        self.fault.strike("directory").await?;
        self.inner.change_password(user, old, new).await
    }
    async fn password_rules(&self) -> Result<sspr_core::PasswordRules, BackendError> {
        self.inner.password_rules().await
    }
}

pub struct Rig {
    pub sspr: Sspr,
    pub relay: Arc<Relay>,
    pub contacts: Arc<Contacts>,
    pub directory: Arc<Dir>,
    pub audit: MemoryAuditSink,
}

/// The library's default policy, with the test OUs eligible and SMS on (which needs decoy country codes).
pub fn default_policy() -> Policy {
    Policy {
        eligible_ous: vec!["ou=staff,dc=example,dc=org".into()],
        sms_enabled: true,
        decoy_country_codes: vec!["44".into(), "1".into()],
        ..Policy::default()
    }
}

/// Alice (e-mail and phone) and bob (e-mail) can reset; dave is disabled. No timer or
/// spawner is given: the engine takes what the library gives it by default.
pub async fn rig(policy: Policy) -> Rig {
    let relay = Arc::new(Relay::default());
    let contacts = Arc::new(Contacts::default());
    let directory = Arc::new(Dir {
        inner: MemoryDirectory::with_users(support::users()).unwrap(),
        aliases: Mutex::new(HashMap::new()),
        fault: Fault::default(),
    });
    let audit = MemoryAuditSink::new();
    let sspr = Sspr::builder()
        .directory_arc(directory.clone())
        .contacts_arc(contacts.clone())
        .notifier_arc(relay.clone())
        .audit(audit.clone())
        .clock(VirtualClock::new())
        .policy(policy)
        .secret_key(key())
        .rng_seed([9; 32])
        .build()
        .unwrap();
    let rig = Rig { sspr, relay, contacts, directory, audit };
    rig.enroll(ALICE, Some(ALICE_MAIL), Some(ALICE_PHONE)).await;
    rig.enroll(BOB, Some(BOB_MAIL), None).await;
    rig.enroll(DISABLED, Some("dave@home.example"), None).await;
    rig.directory.inner.set_state(DISABLED, sspr_core::backend::AccountState { disabled: true, ..Default::default() });
    rig
}

impl Rig {
    pub async fn enroll(&self, login: &str, email: Option<&str>, phone: Option<&str>) {
        self.sspr.set_enabled(&admin(), login, true, &ctx()).await.unwrap();
        let set =
            |v: Option<&str>| v.map_or(sspr_core::ContactChange::Keep, |v| sspr_core::ContactChange::Set(v.into()));
        self.sspr
            .update_contacts(&admin(), login, sspr_core::ContactUpdate { email: set(email), phone: set(phone) }, &ctx())
            .await
            .unwrap();
    }

    pub fn events_of(&self, kind: AuditKind) -> Vec<AuditEvent> {
        self.audit.events().into_iter().filter(|e| e.kind == kind).collect()
    }
}

/// What an outsider sees of an answer: `Ok` or the error's text (a rate limit's wait in
/// whole seconds depends on where in a second the call fell, not on the account: left out).
pub fn seen<T>(result: &sspr_core::Result<T>) -> String {
    match result {
        Ok(_) => "Ok".into(),
        Err(sspr_core::Error::RateLimited { .. }) => "Err(RateLimited)".into(),
        Err(e) => format!("Err({e})"),
    }
}

/// Run `f` and measure it in tokio time.
pub async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let start = tokio::time::Instant::now();
    let out = f.await;
    (out, start.elapsed())
}
