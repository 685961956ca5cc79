//! Server-side sessions: a random id in an HttpOnly, SameSite=Strict cookie, everything
//! else (the reset flow id, who signed in, the CSRF token) on the server. Sessions end after
//! an idle time and after a maximum age; signing in gives a new id (no session fixation).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sspr_core::{Clock, CompletionMode, Locale, MethodOption};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

/// Where an anonymous reset stands, as far as the pages need to know. The engine keeps the
/// real state; this is only what to show next.
#[derive(Debug, Clone)]
pub(crate) enum ResetStage {
    /// Choose a method (and type the full address if asked).
    Methods { flow_id: String, methods: Vec<MethodOption> },
    /// A PIN was sent by `method`; enter it.
    PinSent {
        flow_id: String,
        methods: Vec<MethodOption>,
        method: String,
        masked: String,
        expires_at: OffsetDateTime,
        attempts_left: u32,
    },
    /// The PIN was verified; choose how to complete.
    Verified { flow_id: String, modes: Vec<CompletionMode> },
}

/// A user signed in with their directory credentials.
#[derive(Debug, Clone)]
pub(crate) struct SignedUser {
    pub(crate) login: String,
    pub(crate) display_name: String,
    pub(crate) must_change: bool,
}

/// A message for the next page (post/redirect/get).
#[derive(Debug, Clone)]
pub(crate) struct Flash {
    pub(crate) error: bool,
    pub(crate) text: String,
}

/// What a session holds besides its CSRF token.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionData {
    pub(crate) reset: Option<ResetStage>,
    pub(crate) user: Option<SignedUser>,
    pub(crate) admin: Option<SignedUser>,
    pub(crate) flash: Option<Flash>,
}

/// One session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) csrf: String,
    created: OffsetDateTime,
    last_seen: OffsetDateTime,
    pub(crate) data: SessionData,
}

impl Session {
    /// Whether `token` is this session's CSRF token (constant time).
    pub(crate) fn csrf_matches(&self, token: &str) -> bool {
        !token.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }

    /// Take the flash message, if any.
    pub(crate) fn take_flash(&mut self) -> Option<Flash> {
        self.data.flash.take()
    }

    /// Leave a message for the next page.
    pub(crate) fn flash(&mut self, error: bool, text: impl Into<String>) {
        self.data.flash = Some(Flash { error, text: text.into() });
    }
}

/// Every live session.
#[derive(Debug, Clone)]
pub(crate) struct Sessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
    clock: Arc<dyn Clock>,
    idle: Duration,
    max_age: Duration,
    cap: usize,
}

/// The sessions are full (a flood of anonymous visitors).
#[derive(Debug)]
pub(crate) struct Full;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// 32 random bytes from the operating system, as hex.
pub(crate) fn random_token() -> String {
    use rand_core::TryRngCore;
    let mut bytes = [0u8; 32];
    // The OS generator failing is not recoverable for a web server: every token would be
    // guessable. Abort the process rather than hand out a weak token.
    if rand_core::OsRng.try_fill_bytes(&mut bytes).is_err() {
        tracing::error!("the operating system's random generator failed");
        std::process::abort();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    pub(crate) fn new(clock: Arc<dyn Clock>, idle: Duration, max_age: Duration, cap: usize) -> Self {
        Self { inner: Arc::new(Mutex::new(HashMap::new())), clock, idle, max_age, cap }
    }

    fn alive(&self, s: &Session, now: OffsetDateTime) -> bool {
        now - s.last_seen < self.idle && now - s.created < self.max_age
    }

    /// The live session with this id (its idle timer restarts).
    pub(crate) fn load(&self, id: &str) -> Option<Session> {
        let now = self.clock.now();
        let mut sessions = lock(&self.inner);
        let alive = sessions.get(id).is_some_and(|s| self.alive(s, now));
        if !alive {
            sessions.remove(id);
            return None;
        }
        let session = sessions.get_mut(id)?;
        session.last_seen = now;
        Some(session.clone())
    }

    /// A new, empty session and its id.
    pub(crate) fn create(&self) -> Result<(String, Session), Full> {
        let now = self.clock.now();
        let session = Session { csrf: random_token(), created: now, last_seen: now, data: SessionData::default() };
        let id = random_token();
        let mut sessions = lock(&self.inner);
        if sessions.len() >= self.cap {
            sessions.retain(|_, s| now - s.last_seen < self.idle && now - s.created < self.max_age);
            if sessions.len() >= self.cap {
                return Err(Full);
            }
        }
        sessions.insert(id.clone(), session.clone());
        Ok((id, session))
    }

    /// Store the session's data under `id` (if it still exists).
    pub(crate) fn save(&self, id: &str, session: &Session) {
        if let Some(stored) = lock(&self.inner).get_mut(id) {
            stored.data = session.data.clone();
        }
    }

    /// End the session `id` and move its data to a new id with a new CSRF token (on sign-in
    /// and sign-out, so an id known before cannot ride along).
    pub(crate) fn rotate(&self, id: &str, session: &Session) -> Result<(String, Session), Full> {
        lock(&self.inner).remove(id);
        let (new_id, mut fresh) = self.create()?;
        fresh.data = session.data.clone();
        self.save(&new_id, &fresh);
        Ok((new_id, fresh))
    }

    /// Drop the sessions that have ended.
    pub(crate) fn sweep(&self) {
        let now = self.clock.now();
        lock(&self.inner).retain(|_, s| now - s.last_seen < self.idle && now - s.created < self.max_age);
    }

    /// Sessions held.
    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).len()
    }
}

/// The language of a request.
pub(crate) fn locale_of(headers: &axum::http::HeaderMap) -> Locale {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Locale::En, Locale::from_accept_language)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspr_core::ManualClock;

    #[test]
    fn sessions_end_when_idle_and_at_their_maximum_age() {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
        let sessions = Sessions::new(Arc::new(clock.clone()), Duration::minutes(15), Duration::minutes(60), 10);
        let (id, _) = sessions.create().unwrap();
        clock.advance(std::time::Duration::from_secs(14 * 60));
        assert!(sessions.load(&id).is_some(), "14 minutes idle: alive");
        clock.advance(std::time::Duration::from_secs(15 * 60));
        assert!(sessions.load(&id).is_none(), "15 minutes idle: gone");

        let (id, _) = sessions.create().unwrap();
        for _ in 0..6 {
            clock.advance(std::time::Duration::from_secs(10 * 60));
            let _ = sessions.load(&id);
        }
        assert!(sessions.load(&id).is_none(), "60 minutes old: gone although active");
    }

    #[test]
    fn the_cap_holds_and_rotation_changes_id_and_token() {
        let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
        let sessions = Sessions::new(Arc::new(clock), Duration::minutes(15), Duration::minutes(60), 2);
        let (a, sa) = sessions.create().unwrap();
        sessions.create().unwrap();
        assert!(sessions.create().is_err());
        let (b, sb) = sessions.rotate(&a, &sa).unwrap();
        assert_ne!(a, b);
        assert_ne!(sa.csrf, sb.csrf);
        assert!(sessions.load(&a).is_none());
        assert!(sb.csrf_matches(&sb.csrf.clone()));
        assert!(!sb.csrf_matches(""));
        assert!(!sb.csrf_matches(&sa.csrf));
        assert_eq!(sessions.len(), 2);
    }
}
