//! Where a session rotated by a verified PIN went, for a few seconds, for the second request
//! of a double click. The browser cancels the first "Verify" request when the second is
//! sent: the first verifies the PIN and moves the session to a new id, but its answer (the
//! new cookie) never reaches the page, and the second arrives with the old id and a spent
//! PIN. That request is sent to the new session when it proves what the first one did: the
//! old session id (its cookie), the old session's CSRF token and the same PIN. The PIN still
//! verifies once (the engine is not asked again), and an id planted before the verification
//! is no use without the PIN, which went to the victim (THREAT_MODEL 12.7a).
//!
//! With sessions in a shared store the forward is a sealed record in that store
//! ([`super::SharedSessions::record_forward`]), so the second click may land on any instance.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use super::{Sessions, SharedSessions};

/// How long after the rotation a second click is forwarded.
pub(crate) const FORWARD_FOR: Duration = Duration::seconds(10);

/// The most forwards kept (the oldest dropped first): each needs a right PIN, so a full
/// table means a busy portal, not an attack.
const MAX_FORWARDS: usize = 10_000;

/// Proofs that may fail before a forward is dropped: the PIN is compared here without the
/// engine's attempt count, so a planted id gets no more than a few guesses at it.
pub(super) const TRIES: u8 = 3;

/// What [`Forwards::find`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// The session moved there.
    Moved(String),
    /// A forward exists but the request's token or PIN is not the one (counted).
    Refused,
    /// No forward (yet, or any more).
    Nothing,
}

struct Forward {
    /// The session id to send the request to.
    to: String,
    tries_left: u8,
    /// `SHA-256(old id, CSRF token, PIN)`: the PIN is not kept.
    proof: [u8; 32],
    until: OffsetDateTime,
}

/// The forwards by old session id, and their ends in the order they were made (to drop the
/// ended ones first).
type Table = (HashMap<String, Forward>, VecDeque<(OffsetDateTime, String)>);

/// The forwards of sessions rotated by a verified PIN in the last [`FORWARD_FOR`]: in this
/// process, or in the shared store beside the sessions.
pub(crate) struct Forwards {
    inner: Mutex<Table>,
    shared: Option<SharedSessions>,
}

impl std::fmt::Debug for Forwards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Session ids are bearer secrets: no contents.
        f.debug_struct("Forwards").finish_non_exhaustive()
    }
}

/// `SHA-256(old id, CSRF token, PIN)` as hex: the key a shared forward is sealed under.
pub(super) fn proof_hex(old: &str, csrf: &str, pin: &str) -> String {
    proof(old, csrf, pin).iter().map(|b| format!("{b:02x}")).collect()
}

fn proof(old: &str, csrf: &str, pin: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [old, csrf, pin.trim()] {
        hash.update(u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().into()
}

impl Forwards {
    /// Forwards kept where `sessions` are: in this process, or in their shared store.
    pub(crate) fn beside(sessions: &Sessions) -> Self {
        let shared = match sessions {
            Sessions::Memory(_) => None,
            Sessions::Shared(shared) => Some(shared.clone()),
        };
        Self { inner: Mutex::default(), shared }
    }

    /// The session `old` (whose form carried `csrf`) moved to `to` when `pin` verified.
    pub(crate) async fn record(&self, old: &str, to: &str, csrf: &str, pin: &str, now: OffsetDateTime) {
        match &self.shared {
            Some(shared) => shared.record_forward(old, to, csrf, pin).await,
            None => self.record_here(old, to, csrf, pin, now),
        }
    }

    /// Where `old` went, if a PIN verified in it in the last [`FORWARD_FOR`] and this request
    /// carries the same CSRF token and PIN. A wrong proof uses one of the forward's [`TRIES`].
    pub(crate) async fn find(&self, old: &str, csrf: &str, pin: &str, now: OffsetDateTime) -> Found {
        match &self.shared {
            Some(shared) => shared.find_forward(old, csrf, pin).await,
            None => self.find_here(old, csrf, pin, now),
        }
    }

    fn record_here(&self, old: &str, to: &str, csrf: &str, pin: &str, now: OffsetDateTime) {
        let mut guard = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, order) = &mut *guard;
        while let Some((until, id)) = order.front() {
            if *until > now && map.len() < MAX_FORWARDS {
                break;
            }
            if map.get(id).is_some_and(|f| f.until == *until) {
                map.remove(id);
            }
            order.pop_front();
        }
        let until = now + FORWARD_FOR;
        map.insert(
            old.to_owned(),
            Forward { to: to.to_owned(), tries_left: TRIES, proof: proof(old, csrf, pin), until },
        );
        order.push_back((until, old.to_owned()));
    }

    /// [`Self::find`] in this process: a wrong proof uses one of the forward's [`TRIES`]; the
    /// last one drops it.
    fn find_here(&self, old: &str, csrf: &str, pin: &str, now: OffsetDateTime) -> Found {
        let mut guard = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(forward) = guard.0.get_mut(old).filter(|f| f.until > now) else { return Found::Nothing };
        if bool::from(forward.proof.ct_eq(&proof(old, csrf, pin))) {
            return Found::Moved(forward.to.clone());
        }
        forward.tries_left = forward.tries_left.saturating_sub(1);
        if forward.tries_left == 0 {
            guard.0.remove(old);
        }
        Found::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forward_needs_the_old_id_the_token_and_the_pin_and_ends() {
        let now = time::macros::datetime!(2026-01-01 10:00 UTC);
        let forwards = Forwards { inner: Mutex::default(), shared: None };
        forwards.record_here("old", "new", "token", "123456", now);
        assert_eq!(forwards.find_here("old", "token", "123456", now), Found::Moved("new".into()));
        assert_eq!(forwards.find_here("new", "token", "123456", now), Found::Nothing);
        assert_eq!(forwards.find_here("old", "token", "123456", now + FORWARD_FOR), Found::Nothing);
        assert!(!format!("{forwards:?}").contains("new"));
        // Three wrong proofs and the forward is gone, the right PIN too: no PIN guessing here.
        assert_eq!(forwards.find_here("old", "token", "123457", now), Found::Refused);
        assert_eq!(forwards.find_here("old", "other", "123456", now), Found::Refused);
        assert_eq!(forwards.find_here("old", "token", "000000", now), Found::Refused);
        assert_eq!(forwards.find_here("old", "token", "123456", now), Found::Nothing);
    }
}
