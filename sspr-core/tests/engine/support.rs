//! A test harness: an engine on in-memory backends, a clock that stands still, a fixed seed.

use std::sync::Arc;
use std::time::Duration;

use sspr_core::backend::{Authentication, DirectoryUser};
use sspr_core::memory::{MemoryAuditSink, MemoryContactStore, MemoryDirectory, MemoryStateStore, MemoryUser, Outbox};
use sspr_core::time::OffsetDateTime;
use sspr_core::{
    AuditEvent, AuditKind, BackendError, Directory, ManualClock, NormalizedLogin, Notifier, Password, Policy,
    RequestContext, SecretKey, Sspr, StateStore, UserId,
};

/// 2026-03-02 09:00:00 UTC, a Monday.
pub const START: OffsetDateTime = sspr_core::time::macros::datetime!(2026-03-02 09:00 UTC);

/// The seeded users: `login -> (display name, dn, groups)`.
pub const ALICE: &str = "alice@example.org";
pub const ALICE_MAIL: &str = "alice.private@mail.example";
pub const ALICE_PHONE: &str = "+447400900123";
pub const BOB: &str = "bob@example.org";
pub const BOB_MAIL: &str = "bob@home.example";
pub const ADMIN: &str = "root@example.org";
/// The privileged user's contacts, for the tests that enroll them.
pub const ROOT_MAIL: &str = "root@home.example";
pub const ROOT_PHONE: &str = "+14155550100";
pub const OUTSIDER: &str = "carol@example.org";
pub const DISABLED: &str = "dave@example.org";
pub const NO_CONTACT: &str = "erin@example.org";
pub const NOT_ENABLED: &str = "frank@example.org";

/// Every seeded user's password until a reset changes it.
pub const INITIAL_PASSWORD: &str = "Initial-Pass-2026";

pub fn users() -> Vec<MemoryUser> {
    // Every user's directory mailbox is their login, except bob's (he has none).
    let user = |login: &str, name: &str, ou: &str, groups: &[&str]| MemoryUser {
        mail: (login != BOB).then(|| sspr_core::EmailAddress::parse(login).unwrap()),
        login: login.into(),
        display_name: name.into(),
        dn: format!("uid={},ou={ou},dc=example,dc=org", login.split('@').next().unwrap()),
        groups: groups.iter().map(|g| (*g).to_string()).collect(),
        state: Default::default(),
        password: Some(Password::new(INITIAL_PASSWORD)),
    };
    vec![
        user(ALICE, "Alice Liddell", "staff", &["cn=staff,ou=groups,dc=example,dc=org"]),
        user(BOB, "Bob Builder", "staff", &[]),
        user(ADMIN, "Root Admin", "staff", &["CN=Domain Admins,CN=Users,DC=example,DC=org"]),
        user(OUTSIDER, "Carol Contractor", "contractors", &[]),
        user(DISABLED, "Dave Departed", "staff", &[]),
        user(NO_CONTACT, "Erin Empty", "staff", &[]),
        user(NOT_ENABLED, "Frank Forgotten", "staff", &[]),
    ]
}

/// The test policy: SSPR for `ou=staff`, SMS on, answers not padded (padding would move the
/// manual clock by `min_response_ms` at every call and shift every time these tests check;
/// the padding and what it hides are tested on their own, in `enumeration` and `attacks`).
pub fn policy() -> Policy {
    Policy {
        eligible_ous: vec!["ou=staff,dc=example,dc=org".into()],
        sms_enabled: true,
        decoy_country_codes: vec!["44".into(), "1".into()],
        min_response_ms: 0,
        user_contacts_need_proof: true,
        ..Policy::default()
    }
}

pub fn key() -> SecretKey {
    SecretKey::from_bytes(&[0x5a; 32]).unwrap()
}

pub fn ctx() -> RequestContext {
    RequestContext::from_ip("203.0.113.7".parse().unwrap())
}

pub fn admin() -> sspr_core::Actor {
    sspr_core::Actor::Admin("helpdesk-1".into())
}

/// An engine and handles on each of its in-memory backends.
#[derive(Clone)]
pub struct Harness {
    pub sspr: Sspr,
    pub directory: MemoryDirectory,
    pub contacts: MemoryContactStore,
    pub outbox: Outbox,
    pub store: MemoryStateStore,
    pub audit: MemoryAuditSink,
    pub clock: ManualClock,
}

pub struct HarnessBuilder {
    policy: Policy,
    directory: Option<Arc<dyn Directory>>,
    notifier: Option<Arc<dyn Notifier>>,
    store: Option<Arc<dyn StateStore>>,
    contacts: Option<ContactsWrapper>,
    clock_timer: bool,
    backend_timeout: Option<Duration>,
    password_checkers: Vec<Arc<dyn sspr_core::PasswordChecker>>,
    hooks: Vec<(Vec<sspr_core::HookEvent>, Arc<dyn sspr_core::EventHook>)>,
    bot_challenge: Option<(Arc<dyn sspr_core::BotChallenge>, sspr_core::ChallengePolicy)>,
}

/// Wraps the harness's in-memory contact store (e.g. to make its writes fail).
type ContactsWrapper = Box<dyn FnOnce(MemoryContactStore) -> Arc<dyn sspr_core::ContactStore>>;

impl HarnessBuilder {
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }
    /// Use this directory instead of the in-memory one (e.g. a failing wrapper around it).
    pub fn directory(mut self, directory: Arc<dyn Directory>) -> Self {
        self.directory = Some(directory);
        self
    }
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }
    pub fn store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// Put the engine's contact store behind `wrap` (the harness keeps the in-memory one).
    #[allow(dead_code)] // used by the attacks binary, which shares this harness
    pub fn contacts(
        mut self,
        wrap: impl FnOnce(MemoryContactStore) -> Arc<dyn sspr_core::ContactStore> + 'static,
    ) -> Self {
        self.contacts = Some(Box::new(wrap));
        self
    }
    /// Add a password checker to the engine.
    #[allow(dead_code)] // not every binary sharing this harness adds one
    pub fn password_checker(mut self, checker: Arc<dyn sspr_core::PasswordChecker>) -> Self {
        self.password_checkers.push(checker);
        self
    }
    /// Subscribe an event hook (it also hears the events of the harness's own set-up).
    #[allow(dead_code)] // not every binary sharing this harness adds one
    pub fn hook(mut self, events: &[sspr_core::HookEvent], hook: Arc<dyn sspr_core::EventHook>) -> Self {
        self.hooks.push((events.to_vec(), hook));
        self
    }
    /// Ask for a bot challenge in `begin_reset`.
    #[allow(dead_code)] // not every binary sharing this harness adds one
    pub fn bot_challenge(
        mut self,
        verifier: Arc<dyn sspr_core::BotChallenge>,
        policy: sspr_core::ChallengePolicy,
    ) -> Self {
        self.bot_challenge = Some((verifier, policy));
        self
    }
    /// Give the engine a [`ClockTimer`] on the harness clock: its waits end when the test
    /// moves the clock past them (instead of tokio's real-time timer).
    #[allow(dead_code)] // used by the attacks binary, which shares this harness
    pub fn clock_timer(mut self) -> Self {
        self.clock_timer = true;
        self
    }

    /// The engine's bound on one backend call (else the default, 30 s).
    #[allow(dead_code)] // used by one binary sharing this harness
    pub fn backend_timeout(mut self, limit: Duration) -> Self {
        self.backend_timeout = Some(limit);
        self
    }

    /// Build, with alice (e-mail + phone), bob (e-mail), erin (nobody's contacts) enabled,
    /// dave enabled with contacts but then disabled in the directory, frank with contacts
    /// but not enabled.
    pub async fn build(self) -> Harness {
        let directory = MemoryDirectory::with_users(users()).unwrap();
        let contacts = MemoryContactStore::new();
        let outbox = Outbox::new();
        let store = MemoryStateStore::new();
        let audit = MemoryAuditSink::new();
        let clock = ManualClock::new(START);
        // Without a ClockTimer, the manual clock's own timer: waits (padding, delivery retries)
        // jump the clock forward and take no real time.
        let builder = if self.clock_timer {
            Sspr::builder().timer(ClockTimer { clock: clock.clone() })
        } else {
            Sspr::builder().timer(clock.clone())
        };
        let builder = match self.backend_timeout {
            Some(limit) => builder.backend_timeout(limit),
            None => builder,
        };
        let builder = self.password_checkers.into_iter().fold(builder, |b, c| b.password_checker_arc(c));
        let builder = self.hooks.into_iter().fold(builder, |b, (events, hook)| b.hook_arc(&events, hook));
        let builder = match self.bot_challenge {
            Some((verifier, policy)) => builder.bot_challenge_arc(verifier, policy),
            None => builder,
        };
        let sspr = builder
            .directory_arc(self.directory.unwrap_or_else(|| Arc::new(directory.clone())))
            .contacts_arc(match self.contacts {
                Some(wrap) => wrap(contacts.clone()),
                None => Arc::new(contacts.clone()),
            })
            .notifier_arc(self.notifier.unwrap_or_else(|| Arc::new(outbox.clone())))
            .store_arc(self.store.unwrap_or_else(|| Arc::new(store.clone())))
            .audit(audit.clone())
            .clock(clock.clone())
            .policy(self.policy)
            .secret_key(key())
            .rng_seed([7; 32])
            .build()
            .unwrap();
        let h = Harness { sspr, directory, contacts, outbox, store, audit, clock };
        h.enroll(ALICE, Some(ALICE_MAIL), Some(ALICE_PHONE)).await;
        h.enroll(BOB, Some(BOB_MAIL), None).await;
        h.enroll(DISABLED, Some("dave@home.example"), None).await;
        h.enroll(NO_CONTACT, None, None).await;
        h.sspr
            .update_contacts(
                &admin(),
                NOT_ENABLED,
                sspr_core::ContactUpdate {
                    email: sspr_core::ContactChange::Set("frank@home.example".into()),
                    ..Default::default()
                },
                &ctx(),
            )
            .await
            .unwrap();
        h.directory.set_state(DISABLED, sspr_core::backend::AccountState { disabled: true, ..Default::default() });
        h.outbox.clear();
        h
    }
}

impl Harness {
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder {
            policy: policy(),
            directory: None,
            notifier: None,
            store: None,
            contacts: None,
            clock_timer: false,
            backend_timeout: None,
            password_checkers: Vec::new(),
            hooks: Vec::new(),
            bot_challenge: None,
        }
    }

    pub async fn new() -> Harness {
        Self::builder().build().await
    }

    /// Enable `login` and register contacts as an admin (usable at once). On a privileged
    /// account an admin's contacts cool off (THREAT_MODEL R.5): the harness stands for a
    /// registration made long before the test, so it dates them back in the store.
    pub async fn enroll(&self, login: &str, email: Option<&str>, phone: Option<&str>) {
        use sspr_core::ContactStore;
        self.sspr.set_enabled(&admin(), login, true, &ctx()).await.unwrap();
        let set =
            |v: Option<&str>| v.map_or(sspr_core::ContactChange::Keep, |v| sspr_core::ContactChange::Set(v.into()));
        self.sspr
            .update_contacts(&admin(), login, sspr_core::ContactUpdate { email: set(email), phone: set(phone) }, &ctx())
            .await
            .unwrap();
        let id = self.directory.users().into_iter().find(|u| u.login == login).unwrap().id;
        let mut stored = self.contacts.get(&id).await.unwrap().unwrap();
        let now = self.now();
        let cooling = stored.email.as_ref().is_some_and(|c| c.usable_from > now)
            || stored.phone.as_ref().is_some_and(|c| c.usable_from > now);
        if cooling {
            let version = stored.version;
            for c in stored.email.iter_mut() {
                c.usable_from = now;
            }
            for c in stored.phone.iter_mut() {
                c.usable_from = now;
            }
            assert!(self.contacts.save(&id, &stored, version).await.unwrap());
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        use sspr_core::Clock;
        self.clock.now()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Change `login`'s contacts as the signed-in user does: removals at once, each new
    /// contact through its proof (the code read from the outbox and typed back).
    pub async fn user_sets(&self, login: &str, update: sspr_core::ContactUpdate) -> sspr_core::Contacts {
        use sspr_core::{Actor, Channel, ContactChange};
        let keep_sets =
            |c: &ContactChange| if matches!(c, ContactChange::Set(_)) { ContactChange::Keep } else { c.clone() };
        let removals = sspr_core::ContactUpdate { email: keep_sets(&update.email), phone: keep_sets(&update.phone) };
        let mut view = self.sspr.update_contacts(&Actor::User, login, removals, &ctx()).await.unwrap();
        for (channel, change) in [(Channel::Email, &update.email), (Channel::Sms, &update.phone)] {
            if let ContactChange::Set(value) = change {
                let proof = self.sspr.request_contact_proof(&Actor::User, login, channel, value, &ctx()).await.unwrap();
                let to = match channel {
                    Channel::Email => value.clone(),
                    Channel::Sms => sspr_core::PhoneNumber::parse(value).unwrap().as_str().to_owned(),
                };
                let code = self.outbox.last_proof_code_to(&to).expect("a proof code was delivered");
                view =
                    self.sspr.confirm_contact_proof(&Actor::User, login, &proof.proof_id, &code, &ctx()).await.unwrap();
            }
        }
        view
    }

    /// Begin, send by `method` and read the PIN from the outbox: `(flow_id, pin)`.
    pub async fn pin_for(&self, login: &str, method: &str, address: &str) -> (String, String) {
        let challenge = self.sspr.begin_reset(login, &ctx()).await.unwrap();
        self.sspr.send_pin(&challenge.flow_id, method, None, &ctx()).await.unwrap();
        let pin = self.outbox.last_pin_to(address).expect("a PIN was delivered");
        (challenge.flow_id, pin)
    }

    /// A PIN that is not `pin` (same length).
    pub fn wrong(pin: &str) -> String {
        pin.chars()
            .map(|c| if c == '9' { '0' } else { char::from_digit(c.to_digit(10).unwrap() + 1, 10).unwrap() })
            .collect()
    }

    pub fn events(&self) -> Vec<AuditEvent> {
        self.audit.events()
    }

    /// Begin a reset for `login` and ask for a PIN by its first method: assert that nothing
    /// is delivered and that the audit records a decoy for `reason`.
    pub async fn assert_decoy(&self, login: &str, reason: sspr_core::DecoyReason) {
        let c = self.sspr.begin_reset(login, &ctx()).await.unwrap();
        self.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ctx()).await.unwrap();
        assert!(self.outbox.messages().is_empty(), "{login}: a decoy must never deliver");
        let event = self.events_of(AuditKind::ResetRequested).pop().unwrap();
        assert_eq!(event.outcome, sspr_core::Outcome::Decoy { reason }, "{login}");
    }

    pub fn events_of(&self, kind: AuditKind) -> Vec<AuditEvent> {
        self.audit.events().into_iter().filter(|e| e.kind == kind).collect()
    }
}

/// A write to the directory, as seen by a [`HookedDirectory`] hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryWrite {
    SetPassword,
    Unlock,
    Authenticate,
    ChangePassword,
}

type Hook = Box<dyn Fn(DirectoryWrite) -> Result<(), BackendError> + Send + Sync>;

/// The in-memory directory with a hook run before every write: to count writes, to fail
/// them (an outage), or to refuse passwords (the directory's own policy).
pub struct HookedDirectory {
    pub inner: MemoryDirectory,
    hook: Hook,
}

impl HookedDirectory {
    pub fn new(hook: impl Fn(DirectoryWrite) -> Result<(), BackendError> + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self { inner: MemoryDirectory::with_users(users()).unwrap(), hook: Box::new(hook) })
    }
}

impl std::fmt::Debug for HookedDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookedDirectory").field("inner", &self.inner).finish_non_exhaustive()
    }
}

#[sspr_core::async_trait]
impl Directory for HookedDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        self.inner.find_user(login).await
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        // Yield first, so that racing completions really interleave here.
        tokio::task::yield_now().await;
        (self.hook)(DirectoryWrite::SetPassword)?;
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        (self.hook)(DirectoryWrite::Unlock)?;
        self.inner.unlock(user).await
    }
    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        (self.hook)(DirectoryWrite::Authenticate)?;
        self.inner.authenticate(user, password).await
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        self.inner.search(query, limit).await
    }
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        (self.hook)(DirectoryWrite::ChangePassword)?;
        self.inner.change_password(user, old, new).await
    }
    async fn password_rules(&self) -> Result<sspr_core::PasswordRules, BackendError> {
        self.inner.password_rules().await
    }
}

/// A timer on a [`ManualClock`] that really waits: `sleep(d)` returns once the test has moved
/// the clock `d` past the time the sleep began (checked every millisecond of real time).
/// Unlike the manual clock's own timer, which "waits" by jumping forward, it lets a test
/// hold a call in progress while time passes around it.
#[allow(dead_code)] // used by the attacks binary, which shares this harness
#[derive(Debug, Clone)]
pub struct ClockTimer {
    pub clock: ManualClock,
}

impl sspr_core::Timer for ClockTimer {
    // Written out rather than with `async_trait`, so that the wait is measured from the call
    // (as a real timer's is), not from whenever the returned future is first polled.
    fn sleep<'life0, 'async_trait>(
        &'life0 self,
        duration: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        use sspr_core::Clock;
        let until = self.clock.now() + duration;
        Box::pin(async move {
            while self.clock.now() < until {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    }
}
