//! Attack: a decoy's contact-store read fails the request only when the store says
//! `Unavailable`; any other error is ignored (a store may refuse an id it never issued). A
//! real user's read fails the request whatever the kind. So with the contact store failing
//! in another way than "unavailable" (an LDAP store whose service account the server refuses,
//! `Other`; a PostgreSQL store whose TLS handshake fails, `Other`; a host's store raising a
//! plain exception) a real login got `Backend` where an unknown one got `Ok`, at
//! `begin_reset` and at `send_pin`: for as long as the outage lasts, anyone could sort logins.
//! Defence: a real user whose enrollment cannot be read for such a reason is answered as a
//! decoy (audited as `contacts_unreadable`, the error logged); only `Unavailable`, which fails
//! a decoy's read too, still fails the request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use sspr_core::backend::Enrollment;
use sspr_core::memory::MemoryContactStore;
use sspr_core::{AuditKind, BackendError, BackendErrorKind, ContactStore, DecoyReason, Outcome, UserId};

use crate::support::{ALICE, ALICE_MAIL, DISABLED, Harness, OUTSIDER, ctx};

const LOGINS: [&str; 4] = [ALICE, "nobody@example.org", DISABLED, OUTSIDER];

/// The in-memory contact store, whose reads fail with the kind set (0: they do not).
#[derive(Debug)]
struct Failing {
    inner: MemoryContactStore,
    kind: Arc<AtomicU8>,
}

fn kind_of(n: u8) -> Option<BackendErrorKind> {
    match n {
        1 => Some(BackendErrorKind::Other),
        2 => Some(BackendErrorKind::Rejected),
        3 => Some(BackendErrorKind::Unavailable),
        _ => None,
    }
}

#[sspr_core::async_trait]
impl ContactStore for Failing {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        if let Some(kind) = kind_of(self.kind.load(Ordering::SeqCst)) {
            return Err(BackendError::new(kind, "the contact store refused the service account"));
        }
        self.inner.get(user).await
    }
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        self.inner.save(user, enrollment, expected_version).await
    }
}

async fn harness() -> (Harness, Arc<AtomicU8>) {
    let kind = Arc::new(AtomicU8::new(0));
    let switch = kind.clone();
    let h = Harness::builder().contacts(move |inner| Arc::new(Failing { inner, kind: switch })).build().await;
    (h, kind)
}

fn seen<T>(result: &sspr_core::Result<T>) -> String {
    match result {
        Ok(_) => "Ok".into(),
        Err(e) => format!("Err({e})"),
    }
}

#[tokio::test]
async fn a_contact_store_failing_otherwise_than_unavailable_tells_real_from_unknown() {
    let (h, kind) = harness().await;
    for failing in [1, 2, 3] {
        // begin_reset with the contact store failing.
        kind.store(failing, Ordering::SeqCst);
        let answers: Vec<_> = {
            let mut answers = Vec::new();
            for login in LOGINS {
                answers.push(seen(&h.sspr.begin_reset(login, &ctx()).await));
            }
            answers
        };
        assert!(answers.iter().all(|a| *a == answers[0]), "begin_reset, {:?}: {answers:?}", kind_of(failing));

        // send_pin with the contact store failing between the two calls.
        kind.store(0, Ordering::SeqCst);
        let mut flows = Vec::new();
        for login in LOGINS {
            flows.push(h.sspr.begin_reset(login, &ctx()).await.unwrap().flow_id);
        }
        kind.store(failing, Ordering::SeqCst);
        let mut answers = Vec::new();
        for flow in &flows {
            answers.push(seen(&h.sspr.send_pin(flow, "email", None, &ctx()).await));
        }
        assert!(answers.iter().all(|a| *a == answers[0]), "send_pin, {:?}: {answers:?}", kind_of(failing));
        assert!(h.outbox.messages().is_empty(), "no PIN goes out without the enrollment read");
        kind.store(0, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_real_user_whose_contacts_cannot_be_read_is_audited_as_such_and_can_reset_once_they_can() {
    let (h, kind) = harness().await;
    kind.store(1, Ordering::SeqCst);
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    let requested = h.events_of(AuditKind::ResetRequested).pop().unwrap();
    assert_eq!(requested.outcome, Outcome::Decoy { reason: DecoyReason::ContactsUnreadable });
    assert!(requested.user_id.is_some(), "the audit names the user");
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    assert!(h.outbox.messages().is_empty());
    // The store back: a new reset works.
    kind.store(0, Ordering::SeqCst);
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, sspr_core::Pin::new(&pin), &ctx()).await.unwrap();
}
