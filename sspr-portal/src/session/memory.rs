//! Sessions in process memory: the table, bounded in all and per client address, evicting
//! the least recently used. Creating, loading and ending a session cost O(log n) under the
//! one mutex; nothing scans the table.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use sspr_core::Clock;
use time::{Duration, OffsetDateTime};

use super::{ClientKey, Session, SessionData, random_token};

/// Every live session, with two orders for eviction: the least recently used session of
/// all, and of each client address, each kept apart for sessions that made progress (a PIN
/// sent, a sign-in: [`SessionData::made_progress`]) and those that did not. Room is made from
/// the sessions without progress first, so a flood of fresh sessions from an address (one
/// attacker behind an office's NAT) ends its own kind and not a colleague's half-done reset.
/// Creating, loading and ending a session cost O(log n) under the one mutex; nothing scans
/// the table.
#[derive(Debug, Clone)]
pub(crate) struct MemorySessions {
    inner: Arc<Mutex<Table>>,
    clock: Arc<dyn Clock>,
    idle: Duration,
    max_age: Duration,
    cap: usize,
    per_ip_cap: usize,
}

#[derive(Debug)]
struct Entry {
    session: Session,
    /// Its place in the use order (larger: used later).
    tick: u64,
    client: ClientKey,
    /// Which order it is in: [`SessionData::made_progress`] when last stored.
    progress: bool,
}

/// Sessions in use order, oldest first (tick -> id), those without progress apart.
#[derive(Debug, Default)]
struct Orders {
    fresh: BTreeMap<u64, String>,
    progress: BTreeMap<u64, String>,
}

impl Orders {
    fn of(&mut self, progress: bool) -> &mut BTreeMap<u64, String> {
        if progress { &mut self.progress } else { &mut self.fresh }
    }

    fn len(&self) -> usize {
        self.fresh.len() + self.progress.len()
    }

    /// The session to end first: the least recently used without progress, else the least
    /// recently used of all.
    fn victim(&self) -> Option<String> {
        self.fresh.values().next().or_else(|| self.progress.values().next()).cloned()
    }
}

#[derive(Debug, Default)]
struct Table {
    by_id: HashMap<String, Entry>,
    lru: Orders,
    /// The same per client address.
    by_client: HashMap<ClientKey, Orders>,
    next_tick: u64,
}

impl Table {
    fn tick(&mut self) -> u64 {
        self.next_tick = self.next_tick.wrapping_add(1);
        self.next_tick
    }

    fn remove(&mut self, id: &str) -> Option<Entry> {
        let entry = self.by_id.remove(id)?;
        self.lru.of(entry.progress).remove(&entry.tick);
        if let Some(orders) = self.by_client.get_mut(&entry.client) {
            orders.of(entry.progress).remove(&entry.tick);
            if orders.len() == 0 {
                self.by_client.remove(&entry.client);
            }
        }
        Some(entry)
    }

    fn insert(&mut self, id: String, session: Session, client: ClientKey) {
        let tick = self.tick();
        let progress = session.data.made_progress();
        self.lru.of(progress).insert(tick, id.clone());
        self.by_client.entry(client).or_default().of(progress).insert(tick, id.clone());
        self.by_id.insert(id, Entry { session, tick, client, progress });
    }

    /// Move `id` to the most recently used end of its orders (those of `progress` from now on).
    fn touch(&mut self, id: &str, progress: Option<bool>) {
        let tick = self.tick();
        let Some(entry) = self.by_id.get_mut(id) else { return };
        let old = std::mem::replace(&mut entry.tick, tick);
        let was = entry.progress;
        entry.progress = progress.unwrap_or(was);
        let (now, client) = (entry.progress, entry.client);
        self.lru.of(was).remove(&old);
        self.lru.of(now).insert(tick, id.to_owned());
        if let Some(orders) = self.by_client.get_mut(&client) {
            orders.of(was).remove(&old);
            orders.of(now).insert(tick, id.to_owned());
        }
    }

    /// The session of `client` to end first, if it holds `at_least` sessions.
    fn victim_of(&self, client: &ClientKey, at_least: usize) -> Option<String> {
        let orders = self.by_client.get(client)?;
        if orders.len() < at_least {
            return None;
        }
        orders.victim()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemorySessions {
    /// At most `cap` sessions, `per_ip_cap` of them for one client address (never more than `cap`).
    pub(crate) fn new(clock: Arc<dyn Clock>, idle: Duration, max_age: Duration, cap: usize, per_ip_cap: usize) -> Self {
        let cap = cap.max(1);
        let per_ip_cap = per_ip_cap.clamp(1, cap);
        Self { inner: Arc::default(), clock, idle, max_age, cap, per_ip_cap }
    }

    fn alive(&self, s: &Session, now: OffsetDateTime) -> bool {
        now - s.last_seen < self.idle && now - s.created < self.max_age
    }

    /// The live session with this id (its idle timer restarts).
    pub(crate) fn load(&self, id: &str) -> Option<Session> {
        let now = self.clock.now();
        let mut table = lock(&self.inner);
        let alive = table.by_id.get(id).is_some_and(|e| self.alive(&e.session, now));
        if !alive {
            table.remove(id);
            return None;
        }
        table.touch(id, None);
        let entry = table.by_id.get_mut(id)?;
        entry.session.last_seen = now;
        Some(entry.session.clone())
    }

    /// A new session for a visitor at `client`, holding `data`, and its id. The CSRF token is
    /// `csrf` (the one the visitor's anonymous forms already carry) or a new one. Room is made
    /// by ending a session of the same client when it holds its share, else one of all when
    /// the table is full: the least recently used of those without progress, else the least
    /// recently used. A flood from one address only pushes out sessions of that address, and
    /// fresh ones before any that made progress; nobody is ever refused.
    pub(crate) fn create(&self, client: ClientKey, csrf: Option<String>, data: SessionData) -> (String, Session) {
        let now = self.clock.now();
        let session =
            Session { csrf: csrf.unwrap_or_else(random_token), created: now, last_seen: now, data, stored: None };
        let id = random_token();
        let mut table = lock(&self.inner);
        if let Some(victim) = table.victim_of(&client, self.per_ip_cap) {
            table.remove(&victim);
        }
        while table.by_id.len() >= self.cap {
            let Some(victim) = table.lru.victim() else { break };
            table.remove(&victim);
        }
        table.insert(id.clone(), session.clone(), client);
        (id, session)
    }

    /// Store the session's data under `id` (if it still exists).
    pub(crate) fn save(&self, id: &str, session: &Session) {
        let mut table = lock(&self.inner);
        let Some(stored) = table.by_id.get_mut(id) else { return };
        stored.session.data = session.data.clone();
        let progress = session.data.made_progress();
        if progress != stored.progress {
            table.touch(id, Some(progress));
        }
    }

    /// End the session `id` (if any) and move its data to a new id with a new CSRF token (at
    /// sign-in, sign-out and a verified PIN, so an id known before cannot ride along).
    pub(crate) fn rotate(&self, id: Option<&str>, client: ClientKey, session: &Session) -> (String, Session) {
        if let Some(id) = id {
            lock(&self.inner).remove(id);
        }
        self.create(client, None, session.data.clone())
    }

    /// Drop the sessions that have been idle too long (oldest use first: it stops at the
    /// first live one). Sessions past their maximum age end when next loaded.
    pub(crate) fn sweep(&self) {
        let now = self.clock.now();
        let mut table = lock(&self.inner);
        // Each order is by last use: stop at its first live session.
        for progress in [false, true] {
            while let Some(oldest) = table.lru.of(progress).values().next().cloned() {
                let idle = table.by_id.get(&oldest).is_none_or(|e| now - e.session.last_seen >= self.idle);
                if !idle {
                    break;
                }
                table.remove(&oldest);
            }
        }
    }

    /// Sessions held.
    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspr_core::ManualClock;

    fn key(ip: &str) -> ClientKey {
        ClientKey::of(Some(ip.parse().unwrap()))
    }

    fn create(sessions: &MemorySessions, ip: &str) -> (String, Session) {
        sessions.create(key(ip), None, SessionData::default())
    }

    #[test]
    fn sessions_end_when_idle_and_at_their_maximum_age() {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
        let sessions =
            MemorySessions::new(Arc::new(clock.clone()), Duration::minutes(15), Duration::minutes(60), 10, 10);
        let (id, _) = create(&sessions, "192.0.2.1");
        clock.advance(std::time::Duration::from_secs(14 * 60));
        assert!(sessions.load(&id).is_some(), "14 minutes idle: alive");
        clock.advance(std::time::Duration::from_secs(15 * 60));
        assert!(sessions.load(&id).is_none(), "15 minutes idle: gone");

        let (id, _) = create(&sessions, "192.0.2.1");
        for _ in 0..6 {
            clock.advance(std::time::Duration::from_secs(10 * 60));
            let _ = sessions.load(&id);
        }
        assert!(sessions.load(&id).is_none(), "60 minutes old: gone although active");
        assert_eq!(sessions.len(), 0);
    }

    #[test]
    fn a_full_table_evicts_the_least_recently_used_and_rotation_changes_id_and_token() {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
        let sessions = MemorySessions::new(Arc::new(clock), Duration::minutes(15), Duration::minutes(60), 2, 2);
        let (a, sa) = create(&sessions, "192.0.2.1");
        let (b, _) = create(&sessions, "192.0.2.2");
        assert!(sessions.load(&a).is_some(), "a is now the most recently used");
        let (c, _) = create(&sessions, "192.0.2.3");
        assert!(sessions.load(&b).is_none(), "b, the least recently used, made room");
        assert!(sessions.load(&a).is_some() && sessions.load(&c).is_some());
        let (d, sd) = sessions.rotate(Some(&a), key("192.0.2.1"), &sa);
        assert_ne!(a, d);
        assert_ne!(sa.csrf, sd.csrf);
        assert!(sessions.load(&a).is_none());
        assert!(sd.csrf_matches(&sd.csrf.clone()));
        assert!(!sd.csrf_matches(""));
        assert!(!sd.csrf_matches(&sa.csrf));
        assert_eq!(sessions.len(), 2);
    }

    #[test]
    fn one_client_only_pushes_out_its_own_sessions() {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
        let sessions = MemorySessions::new(Arc::new(clock), Duration::minutes(15), Duration::minutes(60), 100, 3);
        let (user, _) = create(&sessions, "192.0.2.1");
        let mut flood = Vec::new();
        for _ in 0..50 {
            flood.push(create(&sessions, "203.0.113.7").0);
        }
        // A whole IPv6 /64 counts as one client.
        for i in 0..50 {
            create(&sessions, &format!("2001:db8:1:2::{i:x}"));
        }
        assert_eq!(sessions.len(), 1 + 3 + 3);
        assert!(sessions.load(&user).is_some(), "the user's session survived the flood");
        assert!(flood[..47].iter().all(|id| sessions.load(id).is_none()));
        assert!(flood[47..].iter().all(|id| sessions.load(id).is_some()), "the flood's newest three stay");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
    }

    #[test]
    fn a_flood_of_fresh_sessions_ends_its_own_kind_before_a_session_that_made_progress() {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
        let sessions = MemorySessions::new(Arc::new(clock), Duration::minutes(15), Duration::minutes(60), 10, 3);
        let (user, mut session) = create(&sessions, "192.0.2.1");
        session.data.user =
            Some(super::super::SignedUser { login: "jane".into(), display_name: "Jane".into(), must_change: false });
        sessions.save(&user, &session);
        let flood: Vec<_> = (0..1_000).map(|_| create(&sessions, "192.0.2.1").0).collect();
        assert_eq!(sessions.len(), 3, "the address's share still bounds it");
        assert!(sessions.load(&user).is_some(), "the signed-in session survived");
        assert!(flood[998..].iter().all(|id| sessions.load(id).is_some()), "the flood's newest two stay");
        // Once every session of the address made progress, the least recently used goes.
        let others: Vec<_> = flood[998..].to_vec();
        for id in &others {
            sessions.save(id, &session);
        }
        let (_, _) = create(&sessions, "192.0.2.1");
        assert!(sessions.load(&user).is_none(), "the least recently used, all made progress: {}", sessions.len());
        // The whole table: fresh sessions of all addresses go first as well.
        for i in 0..20 {
            create(&sessions, &format!("203.0.113.{i}"));
        }
        assert!(others.iter().all(|id| sessions.load(id).is_some()), "a full table ends fresh sessions first");
        assert_eq!(sessions.len(), 10);
    }

    #[test]
    fn the_sweep_drops_idle_sessions_only() {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
        let sessions =
            MemorySessions::new(Arc::new(clock.clone()), Duration::minutes(15), Duration::minutes(60), 10, 10);
        let (old, _) = create(&sessions, "192.0.2.1");
        clock.advance(std::time::Duration::from_secs(10 * 60));
        let (young, _) = create(&sessions, "192.0.2.2");
        clock.advance(std::time::Duration::from_secs(6 * 60));
        sessions.sweep();
        assert_eq!(sessions.len(), 1);
        assert!(sessions.load(&old).is_none() && sessions.load(&young).is_some());
    }
}
