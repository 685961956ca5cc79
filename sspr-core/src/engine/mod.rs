//! The engine: the async [`Sspr`] service that loads state, runs the pure steps of
//! [`crate::flow`], stores the result and talks to the backends.

/// Run `$step` (a future, built in place), then wait out the rest of the policy's minimum
/// response time ([`Sspr::pad_since`]), whether the step succeeded or failed.
///
/// A macro, not an `async fn` taking the step: an `async fn` keeps a future it is given twice
/// in its own state (the argument and the awaited value), which doubled the size of the
/// padded calls' futures.
macro_rules! padded {
    ($sspr:expr, $step:expr) => {{
        let started = $sspr.now();
        let out = $step.await;
        $sspr.pad_since(started).await;
        out
    }};
}

mod admin;
mod challenge;
mod change;
mod coverage;
mod delivery;
mod events;
mod flow_store;
mod instrument;
mod limits;
mod password;
mod proof;
mod recovery;

pub use recovery::{RECOVERY_CODE_DIGITS, RECOVERY_CODE_LIFETIME};
mod reset;
mod sealed;
mod sign_in;
mod spent;
mod unannounced;
mod visibility;

pub use visibility::VISIBILITY_RETRY;

pub use change::{PASSWORD_RULES_RETRY, PASSWORD_RULES_TTL};
pub use coverage::MAX_REPORT_USERS;
pub use sign_in::{MAX_SEARCH_QUERY_CHARS, MAX_SEARCH_RESULTS, MAX_SIGN_IN_PASSWORD_BYTES};

/// The state-store key of the flow `flow_id` (a hash of the id, never the id).
#[cfg(feature = "testing")]
pub(crate) fn flow_store_key(flow_id: &str) -> String {
    flow_store::flow(flow_id).to_string()
}

/// Whether `value` opens as the stored value of the flow `flow_id` (the fuzz target's entry:
/// whatever a store returns, opening it must not panic).
#[cfg(feature = "fuzzing")]
pub(crate) fn opens_as_flow(flow_id: &str, value: &[u8]) -> bool {
    flow_store::flow(flow_id).open(value.to_vec()).is_some()
}

/// `record` sealed for the flow `flow_id` under `nonce`, then opened again (the fuzz target
/// checks that every record a step makes comes back unchanged).
#[cfg(feature = "fuzzing")]
pub(crate) fn sealed_and_opened(flow_id: &str, record: &crate::flow::FlowRecord) -> Option<crate::flow::FlowRecord> {
    let key = flow_store::flow(flow_id);
    key.open(key.seal(record, [0; sealed::NONCE]).ok()?)
}

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::alarm::Alarm;
use crate::api::{Actor, Channel, CompletionMode, RequestContext, UserId};
use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::backend::{
    AuditSink, BotChallenge, ChallengePolicy, ContactStore, Directory, Notifier, PasswordChecker, StateStore,
};
use crate::clock::{Clock, SystemClock, Timer};
use crate::error::{Error, Result};
use crate::hooks::{EventHook, HookEvent, Subscription};
use crate::memory::{MemoryAuditSink, MemoryContactStore, MemoryStateStore};
use crate::policy::Policy;
use crate::rng::SharedRng;
use crate::runtime::Spawn;
use crate::scope::Scope;
use crate::secret::SecretKey;

/// How long one backend call may go unanswered before the engine gives it up as
/// [`crate::BackendErrorKind::Unavailable`], unless the builder says otherwise
/// ([`SsprBuilder::backend_timeout`]). Well under the 60 s a completion's directory work may
/// take (`COMPLETION_DEADLINE_SECS`), and long enough for a slow mail relay or a directory
/// under load: a backend that has not answered by then is down.
pub const BACKEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Most compare-and-set rounds one call makes on one record before giving up (each round
/// another writer won, so the flow moved on; a bound keeps a pathological store from
/// spinning forever).
const MAX_CAS_ROUNDS: usize = 64;

/// The self-service password reset engine.
///
/// Cheap to clone (an `Arc` inside); share one between all request handlers. The crate
/// documentation shows a whole reset; `examples/demo.rs` runs one step by step.
#[derive(Clone)]
pub struct Sspr {
    inner: Arc<Inner>,
}

struct Inner {
    // The backends, each behind its timing decorator (`instrument`).
    /// Behind the visibility gate too (`visibility`): lookups of users it cannot vouch for
    /// come back with their groups unresolved.
    directory: visibility::GatedDirectory,
    contacts: instrument::TimedContacts,
    notifier: instrument::TimedNotifier,
    store: instrument::TimedStore,
    audit: instrument::TimedAudit,
    clock: Arc<dyn Clock>,
    timer: Option<Arc<dyn Timer>>,
    spawner: Option<Arc<dyn Spawn>>,
    alarm: Option<Arc<dyn Alarm>>,
    hooks: Vec<Subscription>,
    password_checkers: password::Checkers,
    bot_challenge: Option<(Arc<dyn BotChallenge>, ChallengePolicy)>,
    /// The bound on the calls of the password checkers and the bot challenge's verifier (the
    /// decorated backends each hold a copy).
    limit: instrument::CallLimit,
    deliveries: Arc<delivery::Deliveries>,
    policy: Policy,
    /// The policy's `time_zone`, read once.
    time_zone: jiff::tz::TimeZone,
    scope: Scope,
    key: SecretKey,
    /// Keys retired recently, newest first ([`SsprBuilder::previous_keys`]): read, never written.
    previous_keys: Vec<SecretKey>,
    rng: SharedRng,
    /// The password rules last read (`Sspr::password_rules`).
    rules_cache: std::sync::Mutex<change::RulesCache>,
}

impl fmt::Debug for Sspr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sspr")
            .field("directory", &self.inner.directory)
            .field("contacts", &self.inner.contacts)
            .field("notifier", &self.inner.notifier)
            .field("store", &self.inner.store)
            .field("audit", &self.inner.audit)
            .field("clock", &self.inner.clock)
            .field("timer", &self.inner.timer)
            .field("spawner", &self.inner.spawner)
            .field("alarm", &self.inner.alarm)
            .field("hooks", &self.inner.hooks)
            .field("password_checkers", &self.inner.password_checkers)
            .field("bot_challenge", &self.inner.bot_challenge)
            .field("policy", &self.inner.policy)
            .field("key", &self.inner.key)
            .field("previous_keys", &self.inner.previous_keys.len())
            .finish()
    }
}

/// Builds an [`Sspr`]. A directory, a notifier and a secret key are required; the contact
/// store, state store and audit sink default to in-memory ones, the clock to the system
/// clock, the policy to [`Policy::default`]. The timer and the spawner default to the tokio
/// runtime `build` is called in (feature `tokio`, see [`SsprBuilder::build`]).
#[derive(Default)]
pub struct SsprBuilder {
    directory: Option<Arc<dyn Directory>>,
    contacts: Option<Arc<dyn ContactStore>>,
    notifier: Option<Arc<dyn Notifier>>,
    store: Option<Arc<dyn StateStore>>,
    audit: Option<Arc<dyn AuditSink>>,
    clock: Option<Arc<dyn Clock>>,
    timer: Option<Arc<dyn Timer>>,
    spawner: Option<Arc<dyn Spawn>>,
    alarm: Option<Arc<dyn Alarm>>,
    hooks: Vec<Subscription>,
    password_checkers: Vec<Arc<dyn PasswordChecker>>,
    bot_challenge: Option<(Arc<dyn BotChallenge>, ChallengePolicy)>,
    max_pending_deliveries: Option<usize>,
    backend_timeout: Option<std::time::Duration>,
    policy: Option<Policy>,
    key: Option<SecretKey>,
    previous_keys: Vec<SecretKey>,
    rng_seed: Option<[u8; 32]>,
}

impl fmt::Debug for SsprBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsprBuilder").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl SsprBuilder {
    /// The directory holding the accounts.
    #[must_use]
    pub fn directory(self, directory: impl Directory + 'static) -> Self {
        self.directory_arc(Arc::new(directory))
    }
    /// The directory, already shared.
    #[must_use]
    pub fn directory_arc(mut self, directory: Arc<dyn Directory>) -> Self {
        self.directory = Some(directory);
        self
    }
    /// Where enrollments are kept.
    #[must_use]
    pub fn contacts(self, contacts: impl ContactStore + 'static) -> Self {
        self.contacts_arc(Arc::new(contacts))
    }
    /// The contact store, already shared.
    #[must_use]
    pub fn contacts_arc(mut self, contacts: Arc<dyn ContactStore>) -> Self {
        self.contacts = Some(contacts);
        self
    }
    /// What delivers PINs and notices.
    #[must_use]
    pub fn notifier(self, notifier: impl Notifier + 'static) -> Self {
        self.notifier_arc(Arc::new(notifier))
    }
    /// The notifier, already shared.
    #[must_use]
    pub fn notifier_arc(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }
    /// Where flows and counters live (share one between instances).
    #[must_use]
    pub fn store(self, store: impl StateStore + 'static) -> Self {
        self.store_arc(Arc::new(store))
    }
    /// The state store, already shared.
    #[must_use]
    pub fn store_arc(mut self, store: Arc<dyn StateStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// Where audit events go.
    #[must_use]
    pub fn audit(self, audit: impl AuditSink + 'static) -> Self {
        self.audit_arc(Arc::new(audit))
    }
    /// The audit sink, already shared.
    #[must_use]
    pub fn audit_arc(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(audit);
        self
    }
    /// The clock (tests use [`crate::ManualClock`]).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }
    /// What waits: pads answers to the policy's `min_response_ms` (required when it is not
    /// 0) and spaces the retries of a failed delivery. Tests give their
    /// [`crate::ManualClock`], which "waits" by moving itself forward.
    #[must_use]
    pub fn timer(self, timer: impl Timer + 'static) -> Self {
        self.timer_arc(Arc::new(timer))
    }
    /// The timer, already shared.
    #[must_use]
    pub fn timer_arc(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = Some(timer);
        self
    }
    /// What runs deliveries (PINs, notices) off the request path, so a slow or failing
    /// notifier shows neither in the answer nor in its timing. Without one, deliveries run
    /// inline: their failures are still hidden, but how long they take is hidden only by the
    /// policy's `min_response_ms` padding.
    #[must_use]
    pub fn spawner(self, spawner: impl Spawn + 'static) -> Self {
        self.spawner_arc(Arc::new(spawner))
    }
    /// The spawner, already shared.
    #[must_use]
    pub fn spawner_arc(mut self, spawner: Arc<dyn Spawn>) -> Self {
        self.spawner = Some(spawner);
        self
    }
    /// The hook called when failed verifications across all users reach the policy's
    /// `failure_alarm_per_hour` (see [`Alarm`]); the event is in the audit trail either way.
    #[must_use]
    pub fn alarm(self, alarm: impl Alarm + 'static) -> Self {
        self.alarm_arc(Arc::new(alarm))
    }
    /// The alarm hook, already shared.
    #[must_use]
    pub fn alarm_arc(mut self, alarm: Arc<dyn Alarm>) -> Self {
        self.alarm = Some(alarm);
        self
    }
    /// Subscribe `hook` to `events` (see [`crate::hooks`]): it is called off the request
    /// path after each such event is recorded, at most [`crate::hooks::HOOK_TIMEOUT`] long,
    /// and its failure is audited, never the caller's. Add as many hooks as needed; one with
    /// no event makes [`SsprBuilder::build`] fail (`Config`).
    #[must_use]
    pub fn hook(self, events: &[HookEvent], hook: impl EventHook + 'static) -> Self {
        self.hook_arc(events, Arc::new(hook))
    }
    /// Subscribe a hook, already shared.
    #[must_use]
    pub fn hook_arc(mut self, events: &[HookEvent], hook: Arc<dyn EventHook>) -> Self {
        self.hooks.push(Subscription { events: events.to_vec(), hook });
        self
    }
    /// Add a check of chosen passwords, run after the policy's own and after the checkers
    /// added before it (see [`PasswordChecker`]): the breached-password range check, a
    /// banned-words list ([`crate::password_check::BannedWords`]), a host's own.
    #[must_use]
    pub fn password_checker(self, checker: impl PasswordChecker + 'static) -> Self {
        self.password_checker_arc(Arc::new(checker))
    }
    /// Add a password checker, already shared.
    #[must_use]
    pub fn password_checker_arc(mut self, checker: Arc<dyn PasswordChecker>) -> Self {
        self.password_checkers.push(checker);
        self
    }
    /// Ask for a solved bot challenge in `begin_reset`, checked by `verifier`, when `policy`
    /// says (see [`BotChallenge`] and [`ChallengePolicy`]; the portal shows the provider's
    /// widget). Without one, `begin_reset` asks for none and ignores any token.
    #[must_use]
    pub fn bot_challenge(self, verifier: impl BotChallenge + 'static, policy: ChallengePolicy) -> Self {
        self.bot_challenge_arc(Arc::new(verifier), policy)
    }
    /// A bot challenge, its verifier already shared.
    #[must_use]
    pub fn bot_challenge_arc(mut self, verifier: Arc<dyn BotChallenge>, policy: ChallengePolicy) -> Self {
        self.bot_challenge = Some((verifier, policy));
        self
    }
    /// Deliveries kept in flight at most (default 1000). Beyond it the notifier is down or
    /// far too slow: a further PIN is not sent, the audit records it as failed, and the
    /// caller is answered as always (so a full queue tells an attacker nothing either).
    #[must_use]
    pub fn max_pending_deliveries(mut self, max: usize) -> Self {
        self.max_pending_deliveries = Some(max);
        self
    }
    /// How long one backend call may go unanswered (default [`BACKEND_TIMEOUT`], 30 s): a
    /// directory lookup or sign-in check, a contact-store or state-store call, a notifier's
    /// send, an audit record, a password checker's check, the bot challenge's verification.
    /// A call without an answer by then fails as a [`crate::BackendError`] of kind
    /// `Unavailable`, exactly as a backend reporting an outage: the engine call fails with
    /// `Backend` and nothing half-done (every step already survives a backend failing at any
    /// call), a PIN delivery is retried and then audited as failed. The call itself is
    /// dropped: a host-language backend's promise or coroutine is abandoned (a write it was
    /// making may still land, as with any timeout).
    ///
    /// Not bounded by it: the directory writes of `complete_reset` (their own deadline,
    /// `COMPLETION_DEADLINE_SECS`, keeps the flow leased, so that a write given up on and
    /// landing late cannot meet a retry), an audit sink's `flush` (the host decides how long
    /// to wait at shutdown), and hooks ([`crate::hooks::HOOK_TIMEOUT`]). The bound needs a
    /// timer that really waits: with none, or with a [`crate::ManualClock`], calls run to
    /// their end.
    #[must_use]
    pub fn backend_timeout(mut self, limit: std::time::Duration) -> Self {
        self.backend_timeout = Some(limit);
        self
    }
    /// The policy.
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }
    /// The server's secret key (same on every instance sharing a store).
    #[must_use]
    pub fn secret_key(mut self, key: SecretKey) -> Self {
        self.key = Some(key);
        self
    }
    /// Server keys retired recently, newest first, kept so that changing the key loses
    /// nothing in force (docs/ARCHITECTURE.md, "Rotating the server key").
    ///
    /// The current key ([`SsprBuilder::secret_key`]) writes everything: PIN hashes, store
    /// keys, audit references. The previous keys are only read:
    /// - a reset PIN sent under one of them still verifies; every key of the ring is tried on
    ///   every check, so the time taken does not say which (a pending contact proof or helpdesk
    ///   recovery code is kept under the user's store key, and is lost: ask again);
    /// - the blocks and failure counts kept under a previous key's store keys still hold, read
    ///   in the same store call as the current key's; the first step that finds them copies
    ///   them under the current key's store keys, so a flow begun under the new key sees them;
    /// - decoy masks come from the **oldest** key listed (the last), so a routine rotation
    ///   does not change them: anyone who recorded them before cannot tell the decoys by
    ///   their change. Keep that key listed for as long as the masks should stay; leave it out
    ///   to draw new ones on purpose (after it leaked: a leaked decoy key lets anyone compute
    ///   every unknown login's mask).
    ///
    /// Keep a retired key listed at least as long as the longest window of the policy
    /// (`block_secs`, `failure_window_secs`, `sign_in_lockout_secs`) and a flow's lifetime.
    /// At most [`SsprBuilder::MAX_PREVIOUS_KEYS`], each listed once and none the current key
    /// (`build` refuses either with `Config`).
    ///
    /// # Security
    ///
    /// A listed key keeps doing what it did: list only keys that were yours. The decoy key
    /// (the last listed) must not be one that leaked: whoever holds it computes every unknown
    /// login's mask. After a leak, README "Rotating the server key" says what to list.
    #[must_use]
    pub fn previous_keys(mut self, keys: impl IntoIterator<Item = SecretKey>) -> Self {
        self.previous_keys = keys.into_iter().collect();
        self
    }
    /// The most previous keys [`SsprBuilder::previous_keys`] takes: each costs one HMAC per
    /// PIN check and two store keys per read of a user's standing.
    pub const MAX_PREVIOUS_KEYS: usize = 4;
    /// Seed the CSPRNG (tests and test vectors only: a fixed seed makes PINs predictable).
    /// Without it the generator is seeded from the operating system (feature `os-rng`).
    /// Either way, a process forked after `build` (gunicorn `--preload`, uWSGI) reseeds its
    /// copy on its first draw, so parent and children never share flow ids, PINs or passwords.
    #[must_use]
    pub fn rng_seed(mut self, seed: [u8; 32]) -> Self {
        self.rng_seed = Some(seed);
        self
    }

    /// Check the configuration and build the engine.
    ///
    /// A timer or spawner not given is taken from the tokio runtime this is called in, if any
    /// (feature `tokio`, [`crate::TokioRuntime`]).
    ///
    /// # Errors
    ///
    /// `Config` when a required part is missing, the policy is out of bounds, the policy
    /// pads answers (`min_response_ms`, on by default) and there is no timer, the backend
    /// timeout is zero, or a hook subscribes to no event.
    pub fn build(self) -> Result<Sspr> {
        let missing = |what: &str| Error::Config(format!("no {what} was given to the builder"));
        let policy = self.policy.unwrap_or_default();
        policy.validate()?;
        if self.previous_keys.len() > Self::MAX_PREVIOUS_KEYS {
            return Err(Error::Config(format!(
                "at most {} previous keys may be given, not {}",
                Self::MAX_PREVIOUS_KEYS,
                self.previous_keys.len()
            )));
        }
        // A key listed twice, or the current key listed as a previous one (its file named in
        // both settings): the operator believes the key was rotated while the old one still
        // writes everything. Refused rather than quietly read twice.
        for (i, previous) in self.previous_keys.iter().enumerate() {
            if self.key.as_ref().is_some_and(|key| key.same_as(previous)) {
                return Err(Error::Config(format!(
                    "previous key {} is the current secret key: a rotation needs a new key, with the old one \
                     listed as previous",
                    i + 1
                )));
            }
            if self.previous_keys.iter().take(i).any(|earlier| earlier.same_as(previous)) {
                return Err(Error::Config(format!("previous key {} is listed twice", i + 1)));
            }
        }
        // A hook subscribed to nothing is never called: C's `events = SSPR_HOOK_EVENT_RESET_COMPLETED`
        // (the event's number, 0, where its bit was meant) or an empty `events()` built an engine
        // whose session-ending hook silently never ran.
        if let Some(i) = self.hooks.iter().position(|s| s.events.is_empty()) {
            return Err(Error::Config(format!("hook {} subscribes to no event: it would never be called", i + 1)));
        }
        if let Some((_, challenge)) = &self.bot_challenge {
            challenge.validate()?;
        }
        let (timer, spawner) = ambient_runtime(self.timer, self.spawner);
        if policy.min_response_ms > 0 && timer.is_none() {
            return Err(Error::Config(format!(
                "the policy pads anonymous answers to min_response_ms = {} ms but there is no timer: \
                 pass .timer(...) to the builder (e.g. sspr_core::TokioRuntime::new(handle), or a ManualClock \
                 in tests), build inside a tokio runtime with timers enabled (enable_time or enable_all), \
                 or set min_response_ms = 0 to turn padding off",
                policy.min_response_ms
            )));
        }
        let backend_timeout = self.backend_timeout.unwrap_or(BACKEND_TIMEOUT);
        if backend_timeout.is_zero() {
            return Err(Error::Config("the backend timeout must be more than 0 (the default is 30 s)".into()));
        }
        let limit = instrument::CallLimit::new(timer.as_ref(), backend_timeout);
        let rng = match self.rng_seed {
            Some(seed) => SharedRng::from_seed(seed),
            None => os_rng()?,
        };
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        // Every backend behind its timing decorator (`instrument`): one place times and
        // traces each call, whatever the backend.
        Ok(Sspr {
            inner: Arc::new(Inner {
                directory: visibility::GatedDirectory::new(
                    instrument::TimedDirectory::wrap(
                        self.directory.ok_or_else(|| missing("directory"))?,
                        clock.clone(),
                        limit.clone(),
                    ),
                    clock.clone(),
                    policy.privileged_groups.clone(),
                ),
                notifier: instrument::TimedNotifier::wrap(
                    self.notifier.ok_or_else(|| missing("notifier"))?,
                    clock.clone(),
                    limit.clone(),
                ),
                key: self.key.ok_or_else(|| missing("secret key"))?,
                previous_keys: self.previous_keys,
                contacts: instrument::TimedContacts::wrap(
                    self.contacts.unwrap_or_else(|| Arc::new(MemoryContactStore::new())),
                    clock.clone(),
                    limit.clone(),
                ),
                store: instrument::TimedStore::wrap(
                    self.store.unwrap_or_else(|| Arc::new(MemoryStateStore::new())),
                    clock.clone(),
                    limit.clone(),
                ),
                audit: instrument::TimedAudit::wrap(
                    self.audit.unwrap_or_else(|| Arc::new(MemoryAuditSink::new())),
                    clock.clone(),
                    limit.clone(),
                ),
                clock,
                timer,
                spawner,
                alarm: self.alarm,
                hooks: self.hooks,
                password_checkers: password::Checkers(self.password_checkers),
                bot_challenge: self.bot_challenge,
                limit,
                deliveries: Arc::new(delivery::Deliveries::new(
                    self.max_pending_deliveries.unwrap_or(delivery::DEFAULT_MAX_PENDING_DELIVERIES),
                )),
                scope: Scope::new(&policy),
                time_zone: policy.zone().unwrap_or(jiff::tz::TimeZone::UTC),
                policy,
                rng,
                rules_cache: std::sync::Mutex::default(),
            }),
        })
    }
}

/// The timer and the spawner an engine runs with.
type Runtime = (Option<Arc<dyn Timer>>, Option<Arc<dyn Spawn>>);

/// Fill in a missing timer or spawner from the tokio runtime the builder runs in.
#[cfg(feature = "tokio")]
fn ambient_runtime(timer: Option<Arc<dyn Timer>>, spawner: Option<Arc<dyn Spawn>>) -> Runtime {
    if timer.is_some() && spawner.is_some() {
        return (timer, spawner);
    }
    match crate::runtime::TokioRuntime::current() {
        Some(runtime) => {
            let runtime = Arc::new(runtime);
            // A runtime built without `enable_time` would panic at the first padded answer.
            let timer = match timer {
                Some(timer) => Some(timer),
                None if runtime.has_timers() => Some(runtime.clone() as Arc<dyn Timer>),
                None => None,
            };
            (timer, spawner.or_else(|| Some(runtime as Arc<dyn Spawn>)))
        }
        None => (timer, spawner),
    }
}

/// Without the `tokio` feature there is no ambient runtime: what was given is what is used.
#[cfg(not(feature = "tokio"))]
fn ambient_runtime(timer: Option<Arc<dyn Timer>>, spawner: Option<Arc<dyn Spawn>>) -> Runtime {
    (timer, spawner)
}

#[cfg(feature = "os-rng")]
fn os_rng() -> Result<SharedRng> {
    SharedRng::from_os()
}

#[cfg(not(feature = "os-rng"))]
fn os_rng() -> Result<SharedRng> {
    Err(Error::Config("no rng_seed was given and the `os-rng` feature is off".into()))
}

impl Sspr {
    /// Start building an engine.
    pub fn builder() -> SsprBuilder {
        SsprBuilder::default()
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// `now` in the offset the policy's `time_zone` has at that instant (the same instant):
    /// the time a notice carries and writes its dates in. A host rendering a notice of its
    /// own (a preview) stamps it with this.
    pub fn local_time(&self, now: OffsetDateTime) -> OffsetDateTime {
        let offset = jiff::Timestamp::from_second(now.unix_timestamp())
            .map(|t| self.inner.time_zone.to_offset(t).seconds())
            .ok()
            .and_then(|seconds| time::UtcOffset::from_whole_seconds(seconds).ok());
        offset.map_or(now, |offset| now.to_offset(offset))
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Wait out the rest of the policy's minimum response time of a step that started at
    /// `started` (the end of [`padded!`]).
    async fn pad_since(&self, started: OffsetDateTime) {
        let minimum = time::Duration::milliseconds(i64::from(self.inner.policy.min_response_ms));
        if let Some(timer) = &self.inner.timer {
            let left = minimum - (self.now() - started);
            if left.is_positive() {
                timer.sleep(left.unsigned_abs()).await;
            }
        }
    }

    /// Record an audit event; a failing sink is reported through `tracing`, never undoes
    /// the operation.
    async fn audit(&self, event: AuditEvent) {
        self.record(&event).await;
        self.after_audit(&event).await;
    }

    /// Count `event` and hand it to the audit sink (only that: [`Sspr::audit`] also runs the
    /// hooks and alerts that follow it).
    async fn record(&self, event: &AuditEvent) {
        crate::telemetry::count(event);
        if let Err(e) = self.inner.audit.record(event).await {
            tracing::error!(kind = ?event.kind, error = %e, "audit sink failed");
        }
    }

    /// Run `work` for at most `limit` on the engine's timer (`None` when it ran out). Without
    /// a timer, or with one that only simulates waiting (a test clock, whose wait would end
    /// before any real call could), the work runs to its end.
    async fn within<T>(&self, limit: std::time::Duration, work: impl std::future::Future<Output = T>) -> Option<T> {
        let timer = match &self.inner.timer {
            Some(timer) if !timer.is_simulated() => timer,
            _ => return Some(work.await),
        };
        let mut sleep = timer.sleep(limit);
        let mut work = std::pin::pin!(work);
        std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(out) = work.as_mut().poll(cx) {
                return std::task::Poll::Ready(Some(out));
            }
            if sleep.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(None);
            }
            std::task::Poll::Pending
        })
        .await
    }

    /// The audit scope of one request: events recorded in it carry its context.
    fn scope<'a>(&'a self, ctx: &'a RequestContext) -> AuditScope<'a> {
        AuditScope {
            sspr: self,
            ctx,
            actor: None,
            flow_ref: None,
            user: None,
            channel: None,
            mode: None,
            login_fingerprint: None,
        }
    }

    /// An event of `kind` with the request's context filled in.
    fn event(&self, kind: AuditKind, ctx: &RequestContext, outcome: Outcome) -> AuditEvent {
        let mut event = AuditEvent::new(kind, self.now(), outcome);
        event.client_ip = ctx.client_ip;
        event.user_agent = ctx.user_agent.as_deref().map(shown);
        event
    }
}

/// Text a client or a host chose (a user agent, an administrator's id), as it may reach the
/// audit trail: cut at 256 characters, without the characters [`shown_as_is`] refuses, so it
/// cannot forge lines in a log that prints events as text, nor show reordered.
fn shown(text: &str) -> String {
    text.chars().filter(|c| shown_as_is(*c)).take(256).collect()
}

/// Whether a character of a client's text may reach the audit trail: no control character,
/// no line or paragraph separator (U+2028, U+2029: serde_json writes them raw, and a reader
/// splitting JSON lines with Python's `str.splitlines()` would cut an event in two), no
/// bidirectional control (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C: a viewer
/// would show the text around them reordered).
fn shown_as_is(c: char) -> bool {
    !c.is_control()
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// What one request's audit events share (the request, the flow, the user, the channel), so a
/// step records an event as `scope.record(kind, outcome)`.
pub(super) struct AuditScope<'a> {
    sspr: &'a Sspr,
    pub(super) ctx: &'a RequestContext,
    /// Who acted, on the admin and registration operations.
    pub(super) actor: Option<Actor>,
    pub(super) flow_ref: Option<String>,
    pub(super) user: Option<UserId>,
    pub(super) channel: Option<Channel>,
    pub(super) mode: Option<CompletionMode>,
    /// For a request with no user: a fingerprint of the login (correlates, does not reveal).
    pub(super) login_fingerprint: Option<String>,
}

impl AuditScope<'_> {
    /// An event of `kind` in this scope.
    pub(super) fn event(&self, kind: AuditKind, outcome: Outcome) -> AuditEvent {
        let mut event = self.sspr.event(kind, self.ctx, outcome);
        event.actor = self.actor.as_ref().map(|actor| match actor {
            Actor::Admin(id) => Actor::Admin(shown(id)),
            Actor::User => Actor::User,
        });
        event.flow_ref.clone_from(&self.flow_ref);
        event.user_id.clone_from(&self.user);
        event.channel = self.channel;
        event.mode = self.mode;
        if self.user.is_none() {
            event.login_fingerprint.clone_from(&self.login_fingerprint);
        }
        event
    }

    /// Record an event of `kind` in this scope (a failing sink never undoes the step).
    pub(super) async fn record(&self, kind: AuditKind, outcome: Outcome) {
        self.sspr.audit(self.event(kind, outcome)).await;
    }
}
