//! A backend that hangs once the password is set: the directory holds the new temporary
//! password, and the user who is waiting for it never sees it (the request hangs until the
//! browser gives up), while nobody is told of the reset. The account is then unusable until a
//! new reset, and a silent change is how a takeover goes unnoticed. Found by
//! `fault_injection`; this test drives it with a real (clock-driven) timer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sspr_core::backend::Enrollment;
use sspr_core::memory::MemoryContactStore;
use sspr_core::notice::Message;
use sspr_core::{BackendError, ContactStore, NewPassword, UserId};

use crate::support::*;

/// The in-memory contact store, whose writes never answer once `hang` is set.
#[derive(Debug)]
struct HangingWrites {
    inner: MemoryContactStore,
    hang: Arc<AtomicBool>,
}

#[sspr_core::async_trait]
impl ContactStore for HangingWrites {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        self.inner.get(user).await
    }
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected: u64) -> Result<bool, BackendError> {
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.inner.save(user, enrollment, expected).await
    }
}

#[tokio::test]
async fn a_contact_store_hanging_after_the_reset_keeps_the_temporary_password_from_the_user() {
    let hang = Arc::new(AtomicBool::new(false));
    let flag = hang.clone();
    let h = Harness::builder()
        .contacts(move |inner| Arc::new(HangingWrites { inner, hang: flag }))
        .clock_timer()
        .build()
        .await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, &pin, &ctx()).await.unwrap();
    hang.store(true, Ordering::SeqCst); // recording the time of the reset never answers

    let sspr = h.sspr.clone();
    let completion = tokio::spawn(async move { sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await });
    // Time passes for the waiting user (the timer follows the harness clock).
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        h.advance(Duration::from_secs(1));
    }
    let outcome = tokio::time::timeout(Duration::from_secs(5), completion)
        .await
        .expect("the password is set: the user must get it although the contact store hangs")
        .unwrap()
        .unwrap();
    let password = outcome.temporary_password.expect("a temporary password");
    let alice = h.directory.users().into_iter().find(|u| u.login == ALICE).unwrap().id;
    assert_eq!(h.directory.check_password(&alice, password.expose_secret()), Some(true));
    for contact in [ALICE_MAIL, ALICE_PHONE] {
        assert!(
            h.outbox.messages_to(contact).iter().any(|n| matches!(n.message, Message::PasswordReset { .. })),
            "{contact} must hear of the reset although the contact store hangs"
        );
    }
}
