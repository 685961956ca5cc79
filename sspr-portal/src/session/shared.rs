//! Sessions in the shared state store, so that portal instances behind a balancer without
//! sticky sessions serve one visitor: any instance loads, saves and rotates any session.
//!
//! - A record is sealed (`seal.rs`) and lives under a keyed hash of the cookie id; its store
//!   expiry is the session's end (idle time from its last save, capped by its maximum age),
//!   so the store forgets ended sessions by itself.
//! - Saving is a compare-and-set on the version the request loaded: a save racing a rotation
//!   or an eviction cannot bring the ended session back.
//! - Rotation writes the new record and deletes the old one in one `apply`, so every
//!   instance stops accepting the old id at once.
//! - The per-client cap is two rings of `per_ip_cap` slots per client address in the store,
//!   one for fresh sessions and one for sessions that made progress (a PIN sent, a sign-in:
//!   [`SessionData::made_progress`]). In a ring, a store counter numbers the client's
//!   sessions, session *n* takes slot *n* mod cap and deletes the session that held it. Two
//!   instances therefore enforce one cap, and nobody is refused. Anyone can make fresh
//!   sessions by the thousand, so a flood from one address (an office behind one NAT) only
//!   pushes out that address's fresh sessions; a session moves to the progress ring (and
//!   under another store key, so the fresh ring's eviction no longer reaches it) when it
//!   first makes progress, which the engine limits per client. (In memory the least recently
//!   *used* session goes; here the least recently *made*: a shared use order would cost a
//!   write per request to a per-client key.)
//! - The double-click forward of a verified PIN (`forward.rs`) is a short-lived sealed
//!   record too, so the second click may land on either instance.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sspr_core::Clock;
use sspr_core::backend::{Batch, Counter, Put, StateStore};
use time::{Duration, OffsetDateTime};

use super::forward::{FORWARD_FOR, Found, TRIES};
use super::seal::SessionKeys;
use super::{ClientKey, Session, SessionData, Unavailable, random_token};

/// How often a slot claim is retried when another instance changes the slot meanwhile.
const SLOT_TRIES: usize = 8;

/// What a sealed record holds.
#[derive(Serialize, Deserialize)]
struct Record {
    csrf: String,
    #[serde(with = "time::serde::timestamp")]
    created: OffsetDateTime,
    #[serde(with = "time::serde::timestamp")]
    last_seen: OffsetDateTime,
    data: SessionData,
}

/// Which of its client's two rings a session counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ring {
    /// Sessions that have not made progress: what a flood makes.
    Fresh,
    /// Sessions that made progress ([`SessionData::made_progress`]).
    Progress,
}

impl Ring {
    fn of(data: &SessionData) -> Self {
        if data.made_progress() { Self::Progress } else { Self::Fresh }
    }

    /// The ring's part of its counter and slot keys (the fresh ring keeps the names it had
    /// when it was the only one).
    fn infix(self) -> &'static str {
        match self {
            Self::Fresh => "",
            Self::Progress => "p",
        }
    }
}

/// Where a loaded or made session's record stands: the version a save compares, and the ring
/// it counts in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stored {
    version: u64,
    ring: Ring,
}

/// Who holds a client's slot: the counter window and number of the session, and its
/// record's store key. Plain text: it names only keyed hashes and numbers.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SlotHolder {
    window: i64,
    ordinal: u64,
    record_key: String,
}

impl SlotHolder {
    fn encode(&self) -> Vec<u8> {
        format!("{} {} {}", self.window, self.ordinal, self.record_key).into_bytes()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(3, ' ');
        let window = parts.next()?.parse().ok()?;
        let ordinal = parts.next()?.parse().ok()?;
        let record_key = parts.next()?.to_owned();
        Some(Self { window, ordinal, record_key })
    }
}

/// Sessions kept in a [`StateStore`] shared by every instance.
#[derive(Debug, Clone)]
pub(crate) struct SharedSessions {
    store: Arc<dyn StateStore>,
    keys: Arc<SessionKeys>,
    clock: Arc<dyn Clock>,
    idle: Duration,
    max_age: Duration,
    per_ip_cap: u64,
}

fn unavailable(error: impl std::fmt::Display) -> Unavailable {
    tracing::error!(%error, "the session store failed");
    Unavailable
}

impl SharedSessions {
    /// Sessions in `store`, at most `per_ip_cap` live fresh ones and as many that made
    /// progress per client address.
    pub(crate) fn new(
        store: Arc<dyn StateStore>,
        keys: SessionKeys,
        clock: Arc<dyn Clock>,
        idle: Duration,
        max_age: Duration,
        per_ip_cap: usize,
    ) -> Self {
        let per_ip_cap = u64::try_from(per_ip_cap.max(1)).unwrap_or(u64::MAX);
        Self { store, keys: Arc::new(keys), clock, idle, max_age, per_ip_cap }
    }

    /// When a session last seen at `last_seen` ends.
    fn end_of(&self, created: OffsetDateTime, last_seen: OffsetDateTime) -> OffsetDateTime {
        (last_seen + self.idle).min(created + self.max_age)
    }

    /// The store key of the session `id` in `ring`.
    fn key_of(&self, id: &str, ring: Ring) -> String {
        match ring {
            Ring::Fresh => self.keys.record_key(id),
            Ring::Progress => self.keys.progress_key(id),
        }
    }

    /// The counter that numbers the sessions of the client `tag` in `ring`.
    fn counter_key(tag: &str, ring: Ring) -> String {
        format!("portal:client:{{{tag}}}:{}n", ring.infix())
    }

    fn sealed(
        &self,
        id: &str,
        record_key: &str,
        session: &Session,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, Unavailable> {
        let record =
            Record { csrf: session.csrf.clone(), created: session.created, last_seen: now, data: session.data.clone() };
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(&record).map_err(unavailable)?);
        self.keys.seal(id, record_key, &plain).ok_or_else(|| unavailable("the session could not be sealed"))
    }

    /// The live session with this id. A record that does not open (changed, or moved from
    /// another key) counts as no session, and is logged.
    pub(crate) async fn load(&self, id: &str) -> Result<Option<Session>, Unavailable> {
        let now = self.clock.now();
        // Both rings' keys in one store call; a record that made progress wins (a fresh copy
        // beside it is only left by a move a store error cut short).
        let rings = [Ring::Progress, Ring::Fresh];
        let keys = rings.map(|ring| self.key_of(id, ring));
        let batch = Batch {
            reads: keys.iter().map(String::as_str).collect(),
            put: None,
            increments: Vec::new(),
            deletes: Vec::new(),
        };
        let read = self.store.apply(&batch, now).await.map_err(unavailable)?;
        let found =
            rings.into_iter().zip(&keys).zip(read.values).find_map(|((ring, key), value)| Some((ring, key, value?)));
        let Some((ring, record_key, stored)) = found else { return Ok(None) };
        let Some(plain) = self.keys.open(id, record_key, &stored.value) else {
            tracing::warn!("a session record in the store failed authentication: refused");
            return Ok(None);
        };
        let Ok(record) = serde_json::from_slice::<Record>(&plain) else {
            tracing::warn!("a session record in the store did not parse: refused");
            return Ok(None);
        };
        if now >= self.end_of(record.created, record.last_seen) {
            return Ok(None);
        }
        Ok(Some(Session {
            csrf: record.csrf,
            created: record.created,
            last_seen: now,
            data: record.data,
            stored: Some(Stored { version: stored.version, ring }),
        }))
    }

    /// Store the session's data under `id`, if it is still the version this request loaded
    /// (else a concurrent request, a rotation or an eviction came first, and that stands). A
    /// fresh session that made progress moves to its client's progress ring.
    pub(crate) async fn save(&self, id: &str, client: ClientKey, session: &Session) -> Result<(), Unavailable> {
        let now = self.clock.now();
        let end = self.end_of(session.created, now);
        if end <= now {
            return Ok(());
        }
        let (version, ring) = session.stored.map_or((None, Ring::Fresh), |s| (Some(s.version), s.ring));
        if let (Some(version), Ring::Fresh, Ring::Progress) = (version, ring, Ring::of(&session.data)) {
            return self.move_to_progress(id, client, session, version, now, end).await;
        }
        let record_key = self.key_of(id, ring);
        let sealed = self.sealed(id, &record_key, session, now)?;
        let written = self.store.put(&record_key, &sealed, version, end, now).await.map_err(unavailable)?;
        if written.is_none() {
            tracing::debug!("a session changed or ended while a request used it: its save was dropped");
        }
        Ok(())
    }

    /// Save a fresh session that just made progress under its progress key and take it out
    /// of the fresh ring: the first write is the save's compare-and-set on the fresh record
    /// (an evicted or rotated session is not brought back), and only if it wins the progress
    /// record is written, the fresh one deleted and the session counted in the progress ring.
    async fn move_to_progress(
        &self,
        id: &str,
        client: ClientKey,
        session: &Session,
        version: u64,
        now: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<(), Unavailable> {
        let fresh_key = self.key_of(id, Ring::Fresh);
        let progress_key = self.key_of(id, Ring::Progress);
        let fresh = self.sealed(id, &fresh_key, session, now)?;
        let progress = self.sealed(id, &progress_key, session, now)?;
        let tag = self.keys.client_tag(&client);
        let counter_key = Self::counter_key(&tag, Ring::Progress);
        let first = Put { key: &fresh_key, value: &fresh, expected_version: Some(version), expires_at: end };
        let batch = Batch {
            reads: Vec::new(),
            put: Some(Put { key: &progress_key, value: &progress, expected_version: None, expires_at: end }),
            increments: vec![(counter_key.as_str(), now + self.max_age)],
            deletes: vec![fresh_key.as_str()],
        };
        let outcome = self.store.apply_after(&first, &batch, now).await.map_err(unavailable)?;
        match outcome.as_ref().filter(|o| o.applied).and_then(|o| o.counters.first()) {
            Some(counter) => self.claim_slot(&tag, Ring::Progress, *counter, &progress_key, now).await,
            None => {
                tracing::debug!("a session changed or ended while a request used it: its save was dropped");
                Ok(())
            }
        }
    }

    /// A new session at `client` holding `data` (CSRF token `csrf` or a new one), ending
    /// the session `old` in the same store call when given (rotation).
    pub(crate) async fn create(
        &self,
        old: Option<&str>,
        client: ClientKey,
        csrf: Option<String>,
        data: SessionData,
    ) -> Result<(String, Session), Unavailable> {
        let now = self.clock.now();
        let id = random_token();
        let ring = Ring::of(&data);
        let record_key = self.key_of(&id, ring);
        let mut session =
            Session { csrf: csrf.unwrap_or_else(random_token), created: now, last_seen: now, data, stored: None };
        let sealed = self.sealed(&id, &record_key, &session, now)?;
        let tag = self.keys.client_tag(&client);
        let counter_key = Self::counter_key(&tag, ring);
        let old_keys: Vec<String> =
            old.map(|old| vec![self.key_of(old, Ring::Fresh), self.key_of(old, Ring::Progress)]).unwrap_or_default();
        let batch = Batch {
            reads: Vec::new(),
            put: Some(Put {
                key: &record_key,
                value: &sealed,
                expected_version: None,
                expires_at: self.end_of(now, now),
            }),
            increments: vec![(counter_key.as_str(), now + self.max_age)],
            deletes: old_keys.iter().map(String::as_str).collect(),
        };
        let outcome = self.store.apply(&batch, now).await.map_err(unavailable)?;
        let (Some(version), Some(counter)) = (outcome.version.filter(|_| outcome.applied), outcome.counters.first())
        else {
            // 256 random bits collided with a live session: the generator is broken.
            return Err(unavailable("a new session id was already taken"));
        };
        session.stored = Some(Stored { version, ring });
        self.claim_slot(&tag, ring, *counter, &record_key, now).await?;
        Ok((id, session))
    }

    /// Put the session `record_key`, the client's `counter`th in `ring`, into its slot,
    /// deleting the session that held it. If a newer session of the client took the slot
    /// meanwhile, this one is the oldest and ends at once.
    async fn claim_slot(
        &self,
        tag: &str,
        ring: Ring,
        counter: Counter,
        record_key: &str,
        now: OffsetDateTime,
    ) -> Result<(), Unavailable> {
        let ordinal = counter.count;
        let slot = ordinal.saturating_sub(1) % self.per_ip_cap;
        let slot_key = format!("portal:client:{{{tag}}}:{}{slot}", ring.infix());
        let mine =
            SlotHolder { window: counter.expires_at.unix_timestamp(), ordinal, record_key: record_key.to_owned() };
        let value = mine.encode();
        for _ in 0..SLOT_TRIES {
            let current = self.store.get(&slot_key, now).await.map_err(unavailable)?;
            let holder = current.as_ref().and_then(|c| SlotHolder::decode(&c.value));
            if holder.as_ref().is_some_and(|h| *h > mine) {
                break;
            }
            let evicted = holder.filter(|h| h.record_key != mine.record_key).map(|h| h.record_key);
            let batch = Batch {
                reads: Vec::new(),
                put: Some(Put {
                    key: &slot_key,
                    value: &value,
                    expected_version: current.map(|c| c.version),
                    expires_at: now + self.max_age,
                }),
                increments: Vec::new(),
                deletes: evicted.iter().map(String::as_str).collect(),
            };
            if self.store.apply(&batch, now).await.map_err(unavailable)?.applied {
                return Ok(());
            }
        }
        // A newer session of this client holds the slot: this one is pushed out at birth.
        self.store.delete(record_key).await.map_err(unavailable)
    }

    /// Keep, for [`FORWARD_FOR`], where the session `old` went when `pin` verified in it (its
    /// form carried `csrf`): the new id sealed under a key derived from the old id, the token
    /// and the PIN, so only a request carrying all three opens it. A store failure only
    /// loses the forward (a second click then starts again), and is logged.
    pub(crate) async fn record_forward(&self, old: &str, to: &str, csrf: &str, pin: &str) {
        let now = self.clock.now();
        let key = self.keys.forward_key(old);
        let proof = super::forward::proof_hex(old, csrf, pin);
        let Some(sealed) = self.keys.seal(&proof, &key, to.as_bytes()) else { return };
        if let Err(error) = self.store.put(&key, &sealed, None, now + FORWARD_FOR, now).await {
            tracing::warn!(%error, "a double-click forward could not be stored");
        }
    }

    /// Where `old` went, if a PIN verified in it in the last [`FORWARD_FOR`] and this request
    /// carries the same CSRF token and PIN. Every attempt on a forward counts, before its
    /// proof is checked, so concurrent guesses get no more than [`TRIES`] between them.
    pub(crate) async fn find_forward(&self, old: &str, csrf: &str, pin: &str) -> Found {
        let now = self.clock.now();
        let key = self.keys.forward_key(old);
        let stored = match self.store.get(&key, now).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return Found::Nothing,
            Err(error) => {
                tracing::warn!(%error, "a double-click forward could not be read");
                return Found::Nothing;
            }
        };
        let tries_key = format!("{key}:tries");
        let tried = match self.store.increment(&tries_key, now + FORWARD_FOR, now).await {
            Ok(tried) => tried,
            Err(error) => {
                tracing::warn!(%error, "a double-click forward's tries could not be counted");
                return Found::Nothing;
            }
        };
        if tried.count > u64::from(TRIES) {
            return Found::Refused;
        }
        let proof = super::forward::proof_hex(old, csrf, pin);
        if let Some(to) = self.keys.open(&proof, &key, &stored.value).and_then(|to| String::from_utf8(to.to_vec()).ok())
        {
            return Found::Moved(to);
        }
        if tried.count >= u64::from(TRIES) {
            // The last try failed: drop the forward (its counter expires by itself).
            if let Err(error) = self.store.delete(&key).await {
                tracing::warn!(%error, "a spent double-click forward could not be deleted");
            }
        }
        Found::Refused
    }
}

#[cfg(test)]
mod tests {
    //! Two instances (two `SharedSessions`) on one memory store: what the Redis tests in
    //! tests/portal/shared_state.rs check through the pages, here at the store level.
    use super::*;
    use crate::session::{ResetStage, SignedUser};
    use sspr_core::ManualClock;
    use sspr_core::memory::MemoryStateStore;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    struct Two {
        store: Arc<MemoryStateStore>,
        clock: ManualClock,
        a: SharedSessions,
        b: SharedSessions,
    }

    fn two(per_ip_cap: usize) -> Two {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
        let store = Arc::new(MemoryStateStore::new());
        let one = |secret: &[u8]| {
            SharedSessions::new(
                store.clone(),
                SessionKeys::derive(secret),
                Arc::new(clock.clone()),
                Duration::minutes(15),
                Duration::minutes(60),
                per_ip_cap,
            )
        };
        Two { a: one(SECRET), b: one(SECRET), store, clock }
    }

    fn client(ip: &str) -> ClientKey {
        ClientKey::of(Some(ip.parse().unwrap()))
    }

    fn signed_in(login: &str) -> SessionData {
        SessionData {
            user: Some(SignedUser { login: login.into(), display_name: "Jane Doe".into(), must_change: false }),
            reset: Some(ResetStage::Verified { flow_id: "flow-secret-0001".into(), modes: Vec::new() }),
            ..SessionData::default()
        }
    }

    async fn login_of(sessions: &SharedSessions, id: &str) -> Option<String> {
        sessions.load(id).await.unwrap().and_then(|s| s.data.user).map(|u| u.login)
    }

    #[tokio::test]
    async fn a_session_made_on_one_instance_is_loaded_and_saved_on_the_other() {
        let t = two(10);
        let (id, made) = t.a.create(None, client("192.0.2.1"), None, signed_in("jane")).await.unwrap();
        let mut on_b = t.b.load(&id).await.unwrap().expect("the other instance loads it");
        assert_eq!(on_b.csrf, made.csrf);
        on_b.flash(false, "saved on b");
        t.b.save(&id, client("192.0.2.1"), &on_b).await.unwrap();
        let back_on_a = t.a.load(&id).await.unwrap().unwrap();
        assert_eq!(back_on_a.data.flash.map(|f| f.text).as_deref(), Some("saved on b"));
    }

    #[tokio::test]
    async fn a_stolen_record_without_the_cookie_is_useless() {
        let t = two(10);
        let (id, made) = t.a.create(None, client("192.0.2.1"), None, signed_in("jane.doe@example.org")).await.unwrap();
        // Signed in: the session made progress, its record is under its progress key.
        let record_key = t.a.key_of(&id, Ring::Progress);
        assert!(!record_key.contains(&id), "the store key is not the cookie");
        let stolen = t.store.get(&record_key, t.clock.now()).await.unwrap().expect("the record is in the store");
        let text = String::from_utf8_lossy(&stolen.value);
        for secret in [made.csrf.as_str(), "jane.doe", "flow-secret-0001", id.as_str()] {
            assert!(!text.contains(secret), "the record shows {secret}");
        }
        // The store key's hex, presented as a cookie, is no session.
        let as_cookie = record_key.trim_start_matches(crate::session::seal::PROGRESS_PREFIX);
        assert!(t.b.load(as_cookie).await.unwrap().is_none());
        // Another server (another secret) with the cookie cannot open it either.
        let elsewhere = SharedSessions { keys: Arc::new(SessionKeys::derive(b"another secret")), ..t.b.clone() };
        assert!(elsewhere.load(&id).await.unwrap().is_none());
        assert_eq!(login_of(&t.b, &id).await.as_deref(), Some("jane.doe@example.org"), "the cookie still works");
    }

    #[tokio::test]
    async fn a_tampered_or_moved_record_is_refused() {
        let t = two(10);
        let now = t.clock.now();
        let (victim, _) = t.a.create(None, client("192.0.2.1"), None, signed_in("jane")).await.unwrap();
        let (attacker, _) = t.a.create(None, client("192.0.2.2"), None, SessionData::default()).await.unwrap();
        let victim_key = t.a.key_of(&victim, Ring::Progress);
        let attacker_key = t.a.key_of(&attacker, Ring::Fresh);
        let stored = t.store.get(&victim_key, now).await.unwrap().unwrap();

        // The victim's signed-in record copied over the attacker's own session.
        let attackers = t.store.get(&attacker_key, now).await.unwrap().unwrap();
        let end = now + Duration::minutes(15);
        t.store.put(&attacker_key, &stored.value, Some(attackers.version), end, now).await.unwrap().unwrap();
        assert!(t.b.load(&attacker).await.unwrap().is_none(), "a moved record does not open");

        // One bit changed anywhere.
        for at in [0, 5, stored.value.len() / 2, stored.value.len() - 1] {
            let current = t.store.get(&victim_key, now).await.unwrap().unwrap();
            let mut bad = stored.value.clone();
            bad[at] ^= 1;
            t.store.put(&victim_key, &bad, Some(current.version), end, now).await.unwrap().unwrap();
            assert!(t.b.load(&victim).await.unwrap().is_none(), "a record changed at byte {at} was accepted");
        }
    }

    #[tokio::test]
    async fn rotation_on_one_instance_ends_the_old_id_on_the_other() {
        let t = two(10);
        let (old, _) = t.a.create(None, client("192.0.2.1"), None, signed_in("jane")).await.unwrap();
        let loaded_on_a = t.a.load(&old).await.unwrap().unwrap();
        let session = t.b.load(&old).await.unwrap().unwrap();
        let (new, rotated) = t.b.create(Some(&old), client("192.0.2.1"), None, session.data.clone()).await.unwrap();
        assert_ne!(rotated.csrf, session.csrf);
        assert!(t.a.load(&old).await.unwrap().is_none(), "the old id is gone on the other instance");
        assert_eq!(login_of(&t.a, &new).await.as_deref(), Some("jane"));
        // A request still holding the old session cannot bring it back by saving.
        t.a.save(&old, client("192.0.2.1"), &loaded_on_a).await.unwrap();
        assert!(t.b.load(&old).await.unwrap().is_none(), "a late save revived a rotated session");
    }

    #[tokio::test]
    async fn the_per_address_cap_holds_across_instances() {
        let t = two(3);
        let mut ids = Vec::new();
        let other = t.b.create(None, client("198.51.100.7"), None, signed_in("bob")).await.unwrap().0;
        for i in 0..7 {
            let instance = if i % 2 == 0 { &t.a } else { &t.b };
            ids.push(instance.create(None, client("203.0.113.9"), None, signed_in("flood")).await.unwrap().0);
        }
        for (i, id) in ids.iter().enumerate() {
            let live = t.a.load(id).await.unwrap().is_some();
            assert_eq!(live, i >= 4, "session {i} of 7 with a cap of 3");
            assert_eq!(t.b.load(id).await.unwrap().is_some(), live);
        }
        assert!(t.a.load(&other).await.unwrap().is_some(), "another address keeps its session");
        // The evicted records are deleted, not only disowned: the store holds the 3 + 1
        // sessions, one counter and 3 + 1 slots per address, 2 counters.
        assert_eq!(t.store.len(), 4 + 4 + 2);
    }

    #[tokio::test]
    async fn sessions_end_when_idle_and_at_their_maximum_age_on_every_instance() {
        let t = two(10);
        let (id, _) = t.a.create(None, client("192.0.2.1"), None, signed_in("jane")).await.unwrap();
        t.clock.advance(std::time::Duration::from_secs(14 * 60));
        let session = t.b.load(&id).await.unwrap().expect("14 minutes idle: alive");
        t.b.save(&id, client("192.0.2.1"), &session).await.unwrap();
        t.clock.advance(std::time::Duration::from_secs(14 * 60));
        assert!(t.a.load(&id).await.unwrap().is_some(), "the save on b restarted the idle time");
        t.clock.advance(std::time::Duration::from_secs(15 * 60));
        assert!(t.a.load(&id).await.unwrap().is_none(), "15 minutes idle: gone");

        let (id, _) = t.a.create(None, client("192.0.2.1"), None, signed_in("jane")).await.unwrap();
        for _ in 0..6 {
            t.clock.advance(std::time::Duration::from_secs(10 * 60));
            if let Some(session) = t.b.load(&id).await.unwrap() {
                t.b.save(&id, client("192.0.2.1"), &session).await.unwrap();
            }
        }
        assert!(t.a.load(&id).await.unwrap().is_none(), "60 minutes old: gone although active");
    }

    fn at_pin(mut data: SessionData) -> SessionData {
        data.reset = Some(ResetStage::PinSent {
            flow_id: "flow-secret-0002".into(),
            methods: Vec::new(),
            method: "email".into(),
            masked: "j***@p***.example".into(),
            expires_at: time::macros::datetime!(2026-01-01 10:10 UTC),
            attempts_left: 3,
        });
        data
    }

    fn begun() -> SessionData {
        SessionData {
            reset: Some(ResetStage::Methods { flow_id: "flow-secret-0003".into(), methods: Vec::new(), earlier: None }),
            ..SessionData::default()
        }
    }

    /// An office behind one NAT address: a user's reset got to the PIN, then someone at the
    /// same address makes fresh sessions by the dozen on both instances. The address's cap
    /// still bounds the store, but the flood pushes out its own fresh sessions, not the
    /// user's. Failed before the second ring: the fourth fresh session ended the user's.
    #[tokio::test]
    async fn a_flood_of_fresh_sessions_does_not_end_a_session_that_made_progress() {
        let t = two(3);
        let office = client("198.51.100.7");
        let (user, _) = t.a.create(None, office, None, begun()).await.unwrap();
        let mut loaded = t.b.load(&user).await.unwrap().unwrap();
        loaded.data = at_pin(loaded.data);
        t.b.save(&user, office, &loaded).await.unwrap();
        let mut flood = Vec::new();
        for i in 0..30 {
            let instance = if i % 2 == 0 { &t.a } else { &t.b };
            flood.push(instance.create(None, office, None, begun()).await.unwrap().0);
        }
        let mut live = 0;
        for id in &flood {
            live += usize::from(t.a.load(id).await.unwrap().is_some());
        }
        assert_eq!(live, 3, "the flood's own sessions stay within the cap");
        let user_now = t.b.load(&user).await.unwrap().expect("the reset under way survives the flood");
        assert!(matches!(user_now.data.reset, Some(ResetStage::PinSent { .. })));
        // It still saves (in its new place) and rotates.
        t.a.save(&user, office, &user_now).await.unwrap();
        let (rotated, _) = t.a.create(Some(&user), office, None, user_now.data.clone()).await.unwrap();
        assert!(t.b.load(&user).await.unwrap().is_none(), "the old id ends with the rotation");
        assert!(t.b.load(&rotated).await.unwrap().is_some());
    }

    /// Moving to the progress ring is the save's compare-and-set: a session the flood
    /// evicted before its save (or a rotation ended) is not brought back by it.
    #[tokio::test]
    async fn a_session_evicted_before_it_made_progress_stays_ended() {
        let t = two(1);
        let office = client("198.51.100.8");
        let (user, _) = t.a.create(None, office, None, begun()).await.unwrap();
        let mut loaded = t.a.load(&user).await.unwrap().unwrap();
        t.b.create(None, office, None, begun()).await.unwrap();
        assert!(t.a.load(&user).await.unwrap().is_none(), "a cap of one: evicted");
        loaded.data = at_pin(loaded.data);
        t.a.save(&user, office, &loaded).await.unwrap();
        assert!(t.b.load(&user).await.unwrap().is_none(), "the save revived an evicted session");
        // Nor does a late save of a rotated session.
        let (old, _) = t.a.create(None, client("192.0.2.9"), None, begun()).await.unwrap();
        let mut stale = t.a.load(&old).await.unwrap().unwrap();
        t.b.create(Some(&old), client("192.0.2.9"), None, stale.data.clone()).await.unwrap();
        stale.data = at_pin(stale.data);
        t.a.save(&old, client("192.0.2.9"), &stale).await.unwrap();
        assert!(t.b.load(&old).await.unwrap().is_none(), "the save revived a rotated session");
    }

    /// A double click's forward recorded by one instance is found by the other, only with the
    /// old id, the token and the PIN; three attempts in all.
    #[tokio::test]
    async fn a_forward_recorded_on_one_instance_is_found_on_the_other_with_its_proof_only() {
        let t = two(10);
        t.a.record_forward("old-id", "new-id", "token", "123456").await;
        assert_eq!(t.b.find_forward("old-id", "token", "123456").await, Found::Moved("new-id".into()));
        assert_eq!(t.b.find_forward("other-id", "token", "123456").await, Found::Nothing);
        assert_eq!(t.b.find_forward("old-id", "token", "654321").await, Found::Refused);
        assert_eq!(t.a.find_forward("old-id", "other", "123456").await, Found::Refused, "three tries used");
        assert_eq!(t.b.find_forward("old-id", "token", "123456").await, Found::Nothing, "the forward is gone");

        // The tries are counted before the proof is checked: a guesser gets three in all.
        t.a.record_forward("old-2", "new-2", "token", "123456").await;
        let mut refused = 0;
        for guess in 0..10 {
            match t.b.find_forward("old-2", "token", &format!("{guess:06}")).await {
                Found::Refused => refused += 1,
                Found::Nothing => {}
                Found::Moved(_) => panic!("a wrong PIN opened the forward"),
            }
        }
        assert_eq!(refused, 3);
        assert_eq!(t.a.find_forward("old-2", "token", "123456").await, Found::Nothing, "no try left");
        // And it ends with its time.
        t.a.record_forward("old-3", "new-3", "token", "123456").await;
        t.clock.advance(std::time::Duration::from_secs(11));
        assert_eq!(t.b.find_forward("old-3", "token", "123456").await, Found::Nothing);
    }
}
