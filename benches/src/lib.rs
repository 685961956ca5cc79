//! # sspr-benches
//!
//! Shared setup for the benchmarks of `sspr-core`:
//!
//! - `cargo bench -p sspr-benches --bench flow`: one whole reset flow
//!   (`begin_reset -> send_pin -> verify_pin -> complete_reset`) on the in-memory backends,
//!   side by side with the cryptographic work such a flow cannot avoid.
//! - `cargo run --release -p sspr-benches --bin pending_memory -- [N]`: the heap held by `N`
//!   pending flows in the in-memory state store.
//!
//! The helpers here build engines whose rate limits will not trip during a benchmark, make
//! users with their own alternate addresses, and provide an audit sink and a notifier that
//! drop what they are given, so neither grows while a benchmark runs. See `BENCHMARKS.md` at
//! the root of the workspace for the figures.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::RngCore;
use sspr_core::memory::{MemoryDirectory, MemoryStateStore, MemoryUser};
use sspr_core::notice::Notification;
use sspr_core::time::OffsetDateTime;
use sspr_core::{
    Actor, AuditEvent, AuditSink, BackendError, ContactChange, ContactUpdate, ManualClock, Notifier, Policy,
    RequestContext, SecretKey, Sspr, password, pin,
};

/// The fixed seed of the engine's CSPRNG in benchmarks (reproducible PINs and flow ids).
pub const RNG_SEED: [u8; 32] = [7; 32];

/// The cryptographic work of one reset flow for a real user with an e-mail contact.
///
/// The engine per flow draws a flow id (16 bytes from the CSPRNG), generates a PIN, hashes
/// it (HMAC-SHA256), checks the typed PIN in constant time (one more HMAC), generates the
/// temporary password, and computes two rate-limit subjects: HMAC-SHA256 of the user id
/// (`begin_reset`) and of the destination address (`send_pin`) under the server's subject
/// sub-key. That sub-key is crate-private, so those two HMACs are counted here through the
/// public `pin::hash` on inputs of the same shape (two length-prefixed parts under a 32-byte
/// sub-key): the same work, a different sub-key. Nothing else in a flow is cryptographic.
/// Returns whether the typed PIN matched (always, unless the crate is broken).
pub fn crypto_floor(
    rng: &mut ChaCha20Rng,
    key: &sspr_core::SecretKey,
    flow_id: &str,
    user_id: &str,
    address: &str,
    tokens: &[String],
) -> bool {
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    black_box(id);
    // begin_reset: the user's rate-limit subject.
    black_box(pin::hash(key, "user", user_id));
    // send_pin: the destination's rate-limit subject, the PIN and its hash.
    black_box(pin::hash(key, "dest", address));
    let typed = pin::generate(rng, 8);
    let stored = pin::hash(key, flow_id, typed.expose_secret());
    // verify_pin: the constant-time check.
    let matched = pin::matches(key, black_box(flow_id), black_box(typed.expose_secret()), &stored);
    // complete_reset: the temporary password.
    black_box(password::generate_temporary(rng, 16, tokens));
    matched
}

/// Where a benchmark's [`ManualClock`] starts: 2026-01-01 10:00:00 UTC, as a Unix timestamp.
pub const START_UNIX: i64 = 1_767_261_600;

/// The server key used by every benchmark (fixed: benchmarks need no real secret).
///
/// # Errors
/// Never in practice; the key has the required 32 bytes.
pub fn secret_key() -> sspr_core::Result<SecretKey> {
    SecretKey::from_bytes(&[42; 32])
}

/// A clock standing at [`START_UNIX`].
///
/// # Errors
/// Never in practice; the timestamp is in range.
pub fn clock() -> Result<ManualClock, sspr_core::time::error::ComponentRange> {
    Ok(ManualClock::new(OffsetDateTime::from_unix_timestamp(START_UNIX)?))
}

/// The default policy with the per-user, per-destination and per-IP caps raised to the top of
/// their ranges, so a benchmark that reuses a few users many times an hour is not refused.
/// Everything else (PIN length, lifetimes, temporary password length) is the default.
pub fn relaxed_policy() -> Policy {
    Policy {
        user_sends_per_hour: 100,
        destination_sends_per_hour: 100,
        ip_begins_per_hour: 100_000,
        ip_sends_per_hour: 100_000,
        // Padding only waits: it would measure the timer, not the engine.
        min_response_ms: 0,
        ..Policy::default()
    }
}

/// The login of benchmark user `i`.
pub fn login(i: usize) -> String {
    format!("user{i}@corp.example")
}

/// The alternate e-mail address of benchmark user `i` (each user has their own, so the
/// per-destination limit counts each user separately, as in a real deployment).
pub fn email(i: usize) -> String {
    format!("user{i}@home.example")
}

/// A login no user has: `begin_reset` answers it with decoy methods.
pub fn unknown_login(i: usize) -> String {
    format!("nobody{i}@corp.example")
}

/// `count` directory users `user0@corp.example`, ..., all in `ou=staff` and in no group.
pub fn users(count: usize) -> Vec<MemoryUser> {
    (0..count)
        .map(|i| MemoryUser {
            mail: None,
            login: login(i),
            display_name: format!("Bench User {i}"),
            dn: format!("uid=user{i},ou=staff,dc=corp,dc=example"),
            groups: Vec::new(),
            state: Default::default(),
            password: None,
        })
        .collect()
}

/// Build an engine on a directory of `count` users, the given notifier and state store, a
/// [`DropAudit`] sink, the given clock and [`relaxed_policy`] unless another is given. The
/// contact store is the default in-memory one.
///
/// # Errors
/// From the directory seed or the engine builder.
pub fn engine(
    count: usize,
    notifier: Arc<dyn Notifier>,
    store: MemoryStateStore,
    clock: ManualClock,
    policy: Option<Policy>,
) -> sspr_core::Result<Sspr> {
    seeded_engine(count, notifier, store, clock, policy, Some(RNG_SEED))
}

/// [`engine`] seeded with `seed`, or from the operating system when `None`, as a production
/// engine is: that generator reseeds every draw (`getrandom` and SHA-256, so that two restores
/// of one VM or serverless snapshot do not draw the same secrets), which a fixed seed skips.
///
/// # Errors
/// From the directory seed or the engine builder.
pub fn seeded_engine(
    count: usize,
    notifier: Arc<dyn Notifier>,
    store: MemoryStateStore,
    clock: ManualClock,
    policy: Option<Policy>,
    seed: Option<[u8; 32]>,
) -> sspr_core::Result<Sspr> {
    let builder = Sspr::builder()
        .directory(MemoryDirectory::with_users(users(count))?)
        .notifier_arc(notifier)
        .store(store)
        .audit(DropAudit)
        .clock(clock)
        .policy(policy.unwrap_or_else(relaxed_policy))
        .secret_key(secret_key()?);
    match seed {
        Some(seed) => builder.rng_seed(seed).build(),
        None => builder.build(),
    }
}

/// Enable users `0..count` for SSPR and register [`email`]`(i)` for each, as an admin would
/// (an admin's registration is usable at once).
///
/// # Errors
/// From the engine (an unknown user, a refused address).
pub async fn enroll(sspr: &Sspr, count: usize) -> sspr_core::Result<()> {
    let admin = Actor::Admin("bench".into());
    let ctx = RequestContext::default();
    for i in 0..count {
        let login = login(i);
        sspr.set_enabled(&admin, &login, true, &ctx).await?;
        let update = ContactUpdate { email: ContactChange::Set(email(i)), ..ContactUpdate::default() };
        sspr.update_contacts(&admin, &login, update, &ctx).await?;
    }
    Ok(())
}

/// An audit sink that drops every event (the in-memory sink keeps them all and has no
/// `clear`, so it would grow for as long as a benchmark runs).
#[derive(Debug, Clone, Copy, Default)]
pub struct DropAudit;

#[sspr_core::async_trait]
impl AuditSink for DropAudit {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        std::hint::black_box(event);
        Ok(())
    }
}

/// A notifier that drops every notice and only counts them. Clones share the count.
#[derive(Debug, Clone, Default)]
pub struct DropNotifier {
    sent: Arc<AtomicU64>,
}

impl DropNotifier {
    /// A notifier that has sent nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notices accepted so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

#[sspr_core::async_trait]
impl Notifier for DropNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        std::hint::black_box(notification);
        self.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// A single-threaded tokio runtime, as one request handler thread would have (with timers, so
/// an engine built inside it can take it as timer and spawner).
///
/// # Errors
/// When the runtime cannot be built (out of resources).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_time().build()
}
