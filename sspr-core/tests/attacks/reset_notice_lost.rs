//! Issue 11 item 5: the "your password was reset" notice was sent only after the time of the
//! reset was recorded in the contact store; a store that cannot write (the read-only LDAP
//! contact store, or one failing at that moment) silenced it on every reset.

use sspr_core::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sspr_core::backend::Enrollment;
use sspr_core::memory::MemoryContactStore;
use sspr_core::notice::Message;
use sspr_core::{BackendError, ContactStore, NewPassword, UserId};

use crate::support::*;

/// The in-memory contact store, whose writes fail once `read_only` is set.
#[derive(Debug)]
struct ReadOnlyContacts {
    inner: MemoryContactStore,
    read_only: Arc<AtomicBool>,
}

#[sspr_core::async_trait]
impl ContactStore for ReadOnlyContacts {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        self.inner.get(user).await
    }
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected: u64) -> Result<bool, BackendError> {
        if self.read_only.load(Ordering::SeqCst) {
            return Err(BackendError::new(sspr_core::BackendErrorKind::Rejected, "this contact store is read-only"));
        }
        self.inner.save(user, enrollment, expected).await
    }
}

#[tokio::test]
async fn read_only_contact_store_silences_the_password_reset_notice() {
    let read_only = Arc::new(AtomicBool::new(false));
    let flag = read_only.clone();
    let h =
        Harness::builder().contacts(move |inner| Arc::new(ReadOnlyContacts { inner, read_only: flag })).build().await;
    read_only.store(true, Ordering::SeqCst);

    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    for contact in [ALICE_MAIL, ALICE_PHONE] {
        let told = h.outbox.messages_to(contact);
        assert!(
            told.iter().any(|n| matches!(n.message, Message::PasswordReset { unlock_only: false })),
            "{contact} must hear of the reset even when its time cannot be recorded; got {told:?}"
        );
    }
}
