//! A backend that makes a write and loses its answer (a restart, a failover, a connection cut
//! before the reply). The caller cannot tell that from a write never made, and a retry then
//! finds nothing left to do: whatever the first call should have done after its write (the
//! audit event, the notice to the owner) must not be lost with the answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sspr_core::backend::Enrollment;
use sspr_core::memory::MemoryContactStore;
use sspr_core::notice::Message;
use sspr_core::{Actor, AuditKind, Authentication, BackendError, Channel, ContactStore, Error, Password, UserId};

use crate::support::*;

const PHISHER_MAIL: &str = "phisher@evil.example";

/// A contact store whose next `lose` saves are made and then answered with a cut connection,
/// and whose next `refuse` saves fail before anything is written.
#[derive(Debug)]
struct LostSaves {
    inner: MemoryContactStore,
    faults: Arc<Faults>,
}

#[derive(Debug, Default)]
struct Faults {
    lose: AtomicUsize,
    refuse: AtomicUsize,
    /// The next save is made and then the store goes down (every call fails) until cleared.
    die: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

fn take(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

#[sspr_core::async_trait]
impl ContactStore for LostSaves {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        if self.faults.down.load(Ordering::SeqCst) {
            return Err(BackendError::unavailable(std::io::Error::other("connection refused")));
        }
        self.inner.get(user).await
    }
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        if self.faults.down.load(Ordering::SeqCst) {
            return Err(BackendError::unavailable(std::io::Error::other("connection refused")));
        }
        if take(&self.faults.die) {
            self.inner.save(user, enrollment, expected_version).await?;
            self.faults.down.store(true, Ordering::SeqCst);
            return Err(BackendError::unavailable(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer (server went away)",
            )));
        }
        if take(&self.faults.refuse) {
            return Err(BackendError::unavailable(std::io::Error::other("connection refused")));
        }
        let saved = self.inner.save(user, enrollment, expected_version).await?;
        if take(&self.faults.lose) {
            return Err(BackendError::unavailable(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer (reply lost)",
            )));
        }
        Ok(saved)
    }
}

async fn harness() -> (Harness, Arc<Faults>) {
    let faults = Arc::new(Faults::default());
    let wrapped = Arc::clone(&faults);
    let h = Harness::builder()
        .contacts(move |inner| Arc::new(LostSaves { inner, faults: wrapped }) as Arc<dyn ContactStore>)
        .build()
        .await;
    (h, faults)
}

#[tokio::test]
async fn a_proven_address_whose_save_answer_was_lost_is_still_announced_to_the_owner() {
    // A phisher with alice's password proves an address of theirs. The contact store saves
    // it and the answer is lost; the phisher simply confirms again with the same code (it was
    // given back), and the retry finds the address already there. Before the fix neither
    // call announced the change: alice's contacts never heard of it and the audit trail had
    // no `contacts_changed`, while the phisher's address was cooling off toward a reset.
    let (h, faults) = harness().await;
    let audited = h.events_of(AuditKind::ContactsChanged).len();
    let proof = h.sspr.request_contact_proof(&Actor::User, ALICE, Channel::Email, PHISHER_MAIL, &ctx()).await.unwrap();
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    faults.lose.store(1, Ordering::SeqCst);
    let first = h.sspr.confirm_contact_proof(&Actor::User, ALICE, &proof.proof_id, &code, &ctx()).await;
    if first.is_err() {
        let retry = h.sspr.confirm_contact_proof(&Actor::User, ALICE, &proof.proof_id, &code, &ctx()).await;
        assert!(retry.is_ok() || matches!(retry, Err(Error::AlreadyUsed)), "{retry:?}");
    }
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap().email.unwrap().value, PHISHER_MAIL, "the save was made");
    for old in [ALICE_MAIL, ALICE_PHONE] {
        assert!(
            h.outbox.messages_to(old).iter().any(|n| matches!(n.message, Message::ContactsChanged { .. })),
            "{old} must hear of the change: {:?} answered first",
            first.map(|_| ())
        );
    }
    assert_eq!(h.events_of(AuditKind::ContactsChanged).len(), audited + 1, "the change is audited once");
}

#[tokio::test]
async fn an_admin_change_whose_save_answer_was_lost_is_audited() {
    // An administrator switches self-service off for bob during an incident; the store makes
    // the write and the answer is lost. Answered as a failure, the admin's retry found nothing
    // to change and the audit trail never said who disabled bob, or that anyone did.
    let (h, faults) = harness().await;
    let before = h.events_of(AuditKind::EnabledChanged).len();
    faults.lose.store(1, Ordering::SeqCst);
    let first = h.sspr.set_enabled(&admin(), BOB, false, &ctx()).await;
    if first.is_err() {
        h.sspr.set_enabled(&admin(), BOB, false, &ctx()).await.unwrap();
    }
    assert!(!h.sspr.status(BOB).await.unwrap().enabled);
    assert_eq!(
        h.events_of(AuditKind::EnabledChanged).len(),
        before + 1,
        "the change must be audited once ({:?} answered first)",
        first
    );

    // An admin's contact change the same way: audited, and bob's old address told.
    faults.lose.store(1, Ordering::SeqCst);
    let update = sspr_core::ContactUpdate {
        email: sspr_core::ContactChange::Set("bob.new@home.example".into()),
        ..Default::default()
    };
    let first = h.sspr.update_contacts(&admin(), BOB, update.clone(), &ctx()).await;
    if first.is_err() {
        h.sspr.update_contacts(&admin(), BOB, update, &ctx()).await.unwrap();
    }
    assert!(h.outbox.messages_to(BOB_MAIL).iter().any(|n| matches!(n.message, Message::ContactsChanged { .. })));
    assert_eq!(h.events_of(AuditKind::ContactsChanged).last().unwrap().actor, Some(admin()));
}

#[tokio::test]
async fn a_contact_store_dying_right_after_saving_a_proven_address_still_gets_the_owner_told() {
    // The store saves the phisher's address and goes away before it answers, so not even a
    // read-back can tell whether the save was made. When it is back, the phisher confirms
    // again (the code was given back) and the retry finds the address there: nothing to
    // change, success. Before, the owner was never told; now they are told at the failure,
    // and the audit trail says a change may have been saved.
    let (h, faults) = harness().await;
    let proof = h.sspr.request_contact_proof(&Actor::User, ALICE, Channel::Email, PHISHER_MAIL, &ctx()).await.unwrap();
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    faults.die.store(1, Ordering::SeqCst);
    let first = h.sspr.confirm_contact_proof(&Actor::User, ALICE, &proof.proof_id, &code, &ctx()).await;
    assert!(matches!(first, Err(Error::Backend { .. })), "{first:?}");
    for old in [ALICE_MAIL, ALICE_PHONE] {
        assert!(
            h.outbox.messages_to(old).iter().any(|n| matches!(n.message, Message::ContactsChanged { .. })),
            "{old} must hear that the contacts may have changed"
        );
    }
    let unsure = h.events_of(AuditKind::ContactsChanged).pop().unwrap();
    assert!(matches!(unsure.outcome, sspr_core::Outcome::Failed { .. }), "{unsure:?}");
    faults.down.store(false, Ordering::SeqCst);
    let retry = h.sspr.confirm_contact_proof(&Actor::User, ALICE, &proof.proof_id, &code, &ctx()).await;
    assert!(retry.is_ok(), "{retry:?}");
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap().email.unwrap().value, PHISHER_MAIL);
}

#[tokio::test]
async fn a_save_that_was_not_made_is_still_a_failure() {
    // The read-back must not turn a real failure into a success: a save refused before the
    // write answers an error, and nothing is audited or announced.
    let (h, faults) = harness().await;
    let before = h.events_of(AuditKind::EnabledChanged).len();
    faults.refuse.store(1, Ordering::SeqCst);
    let refused = h.sspr.set_enabled(&admin(), BOB, false, &ctx()).await;
    assert!(matches!(refused, Err(Error::Backend { .. })), "{refused:?}");
    assert!(h.sspr.status(BOB).await.unwrap().enabled);
    assert_eq!(h.events_of(AuditKind::EnabledChanged).len(), before);

    faults.refuse.store(1, Ordering::SeqCst);
    let update = sspr_core::ContactUpdate {
        email: sspr_core::ContactChange::Set("bob.new@home.example".into()),
        ..Default::default()
    };
    let refused = h.sspr.update_contacts(&admin(), BOB, update, &ctx()).await;
    assert!(matches!(refused, Err(Error::Backend { .. })), "{refused:?}");
    assert_eq!(h.sspr.contacts(BOB).await.unwrap().email.unwrap().value, BOB_MAIL);
    assert!(h.outbox.messages().is_empty(), "nothing changed, nobody told");
}

/// A directory whose next `lose` password changes are made and then answered with a cut
/// connection, and whose next `refuse` ones fail before anything is changed.
#[derive(Debug)]
struct LostChanges {
    inner: sspr_core::memory::MemoryDirectory,
    faults: Arc<Faults>,
}

#[sspr_core::async_trait]
impl sspr_core::Directory for LostChanges {
    async fn find_user(
        &self,
        login: &sspr_core::NormalizedLogin,
    ) -> Result<Option<sspr_core::backend::DirectoryUser>, BackendError> {
        self.inner.find_user(login).await
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        self.inner.unlock(user).await
    }
    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        self.inner.authenticate(user, password).await
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<sspr_core::backend::DirectoryUser>, BackendError> {
        self.inner.search(query, limit).await
    }
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        if take(&self.faults.refuse) {
            return Err(BackendError::unavailable(std::io::Error::other("connection refused")));
        }
        self.inner.change_password(user, old, new).await?;
        if take(&self.faults.lose) {
            return Err(BackendError::unavailable(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer (reply lost)",
            )));
        }
        Ok(())
    }
}

const NEW_PASSWORD: &str = "Brand-New-Horse-Battery-77";

async fn change_harness() -> (Harness, sspr_core::memory::MemoryDirectory, Arc<Faults>) {
    let faults = Arc::new(Faults::default());
    let directory = sspr_core::memory::MemoryDirectory::with_users(users()).unwrap();
    let h = Harness::builder()
        .directory(Arc::new(LostChanges { inner: directory.clone(), faults: Arc::clone(&faults) }))
        .build()
        .await;
    (h, directory, faults)
}

#[tokio::test]
async fn a_password_change_whose_answer_was_lost_is_answered_and_announced_as_made() {
    // The directory changes alice's password and the answer is lost. Answered as a failure,
    // the change was never announced to alice's contacts (a phisher's change went unheard),
    // and alice, trying again with her old password, was told her password was wrong and had
    // a failed sign-in counted against her.
    let (h, directory, faults) = change_harness().await;
    let alice = h.sspr.status(ALICE).await.unwrap().user_id;
    faults.lose.store(1, Ordering::SeqCst);
    let changed =
        h.sspr.change_password(ALICE, &Password::new(INITIAL_PASSWORD), &Password::new(NEW_PASSWORD), &ctx()).await;
    assert!(directory.check_password(&alice, NEW_PASSWORD).is_some(), "the change was made");
    assert!(changed.is_ok(), "a change made must be answered as made: {changed:?}");
    for contact in [ALICE_MAIL, ALICE_PHONE] {
        assert!(
            h.outbox.messages_to(contact).iter().any(|n| matches!(n.message, Message::PasswordChanged)),
            "{contact} must hear of the change"
        );
    }
    let audited = h.events_of(AuditKind::PasswordChanged);
    assert!(matches!(audited.as_slice(), [e] if e.outcome == sspr_core::Outcome::Success), "{audited:?}");
}

#[tokio::test]
async fn a_password_change_that_was_not_made_is_still_a_failure() {
    let (h, directory, faults) = change_harness().await;
    let alice = h.sspr.status(ALICE).await.unwrap().user_id;
    faults.refuse.store(1, Ordering::SeqCst);
    let changed =
        h.sspr.change_password(ALICE, &Password::new(INITIAL_PASSWORD), &Password::new(NEW_PASSWORD), &ctx()).await;
    assert!(matches!(changed, Err(Error::Backend { .. })), "{changed:?}");
    assert!(directory.check_password(&alice, INITIAL_PASSWORD).is_some(), "nothing changed");
    assert!(h.outbox.messages().is_empty(), "nobody told of a change not made");
    // The user tries again and it works.
    h.sspr
        .change_password(ALICE, &Password::new(INITIAL_PASSWORD), &Password::new(NEW_PASSWORD), &ctx())
        .await
        .unwrap();
}
