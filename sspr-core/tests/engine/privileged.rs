//! Privileged users: refused by default; with `PrivilegedMode::TwoMethods`, they must prove
//! both their e-mail and their phone.

use sspr_core::Pin;
use sspr_core::backend::{ContactStore, Enrollment, StoredContact};
use sspr_core::{AuditKind, DecoyReason, EmailAddress, Error, NewPassword, NotAllowedReason, Policy, PrivilegedMode};

use crate::support::*;

#[tokio::test]
async fn a_privileged_user_is_refused_by_default() {
    let h = Harness::new().await;
    assert!(matches!(
        h.sspr.set_enabled(&admin(), ADMIN, true, &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })
    ));
    // The refusal leaves a trace: an administrator trying to open self-service to a domain
    // admin is what a security team reviews (it left no event before).
    let refused: Vec<_> = h
        .events_of(AuditKind::EnabledChanged)
        .into_iter()
        .filter(|e| e.outcome != sspr_core::Outcome::Success)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].outcome, sspr_core::Outcome::Refused { reason: NotAllowedReason::Privileged });
    assert!(refused[0].actor.is_some() && refused[0].user_id.is_some(), "who tried, on whom");
    assert!(!h.sspr.status(ADMIN).await.unwrap().enabled, "nothing changed");
    // Even with an enrollment written while another policy allowed it, no PIN is ever sent.
    let root = h.sspr.status(ADMIN).await.unwrap().user_id;
    let contact = |value| StoredContact { value, added_at: START, usable_from: START };
    let enrollment = Enrollment {
        enabled: true,
        email: Some(contact(EmailAddress::parse(ROOT_MAIL).unwrap())),
        ..Enrollment::default()
    };
    assert!(h.contacts.save(&root, &enrollment, 0).await.unwrap());
    h.assert_decoy(ADMIN, DecoyReason::Privileged).await;
}

#[tokio::test]
async fn with_two_methods_a_privileged_user_proves_both_before_completing() {
    let h = Harness::builder().policy(Policy { privileged_mode: PrivilegedMode::TwoMethods, ..policy() }).build().await;
    h.enroll(ADMIN, Some(ROOT_MAIL), Some(ROOT_PHONE)).await;
    let c = h.sspr.begin_reset(ADMIN, &ctx()).await.unwrap();
    assert_eq!(c.methods.len(), 2);

    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    let pin = h.outbox.last_pin_to(ROOT_MAIL).unwrap();
    let first = h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
    assert_eq!(first.remaining_methods, ["sms"]);
    assert!(first.modes.is_empty());
    assert!(matches!(
        h.sspr.complete_reset(&c.flow_id, NewPassword::Temporary, &ctx()).await,
        Err(Error::InvalidState { .. })
    ));
    // The verified method cannot be used again; the other needs no cooldown.
    assert!(matches!(h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await, Err(Error::InvalidState { .. })));
    h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await.unwrap();
    let pin = h.outbox.last_pin_to(ROOT_PHONE).unwrap();
    let second = h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
    assert!(second.remaining_methods.is_empty());
    assert!(!second.modes.is_empty());
    let outcome = h.sspr.complete_reset(&c.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.must_change && outcome.temporary_password.is_some());
    assert_eq!(h.events_of(AuditKind::PinVerified).len(), 2);
}

#[tokio::test]
async fn with_two_methods_a_privileged_user_with_one_contact_gets_a_decoy() {
    let h = Harness::builder().policy(Policy { privileged_mode: PrivilegedMode::TwoMethods, ..policy() }).build().await;
    h.enroll(ADMIN, Some(ROOT_MAIL), None).await;
    h.assert_decoy(ADMIN, DecoyReason::Privileged).await;
}

#[tokio::test]
async fn a_user_made_privileged_during_a_one_method_flow_cannot_complete() {
    let h = Harness::builder().policy(Policy { privileged_mode: PrivilegedMode::TwoMethods, ..policy() }).build().await;
    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let mut bob = users().into_iter().find(|u| u.login == BOB).unwrap();
    bob.groups.push("CN=Domain Admins,CN=Users,DC=example,DC=org".into());
    h.directory.insert(bob).unwrap();
    assert!(matches!(
        h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })
    ));
}

/// The in-memory directory, saying whether the service account can see the privileged
/// groups' membership as a test sets it, and counting how often it is asked.
#[derive(Debug)]
struct HiddenGroups {
    inner: sspr_core::memory::MemoryDirectory,
    hidden: std::sync::atomic::AtomicBool,
    checks: std::sync::atomic::AtomicUsize,
}

#[sspr_core::async_trait]
impl sspr_core::Directory for HiddenGroups {
    async fn find_user(
        &self,
        login: &sspr_core::NormalizedLogin,
    ) -> Result<Option<sspr_core::backend::DirectoryUser>, sspr_core::BackendError> {
        self.inner.find_user(login).await
    }
    async fn set_password(
        &self,
        user: &sspr_core::UserId,
        password: &sspr_core::Password,
        must_change: bool,
    ) -> Result<(), sspr_core::BackendError> {
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &sspr_core::UserId) -> Result<(), sspr_core::BackendError> {
        self.inner.unlock(user).await
    }
    async fn authenticate(
        &self,
        user: &sspr_core::UserId,
        password: &sspr_core::Password,
    ) -> Result<sspr_core::Authentication, sspr_core::BackendError> {
        self.inner.authenticate(user, password).await
    }
    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<sspr_core::backend::DirectoryUser>, sspr_core::BackendError> {
        self.inner.search(query, limit).await
    }
    async fn check_groups_visible(&self, groups: &[String]) -> Result<(), sspr_core::BackendError> {
        use std::sync::atomic::Ordering;
        self.checks.fetch_add(1, Ordering::SeqCst);
        if self.hidden.load(Ordering::SeqCst) {
            let group = groups.first().cloned().unwrap_or_default();
            return Err(sspr_core::BackendError::new(
                sspr_core::BackendErrorKind::Other,
                format!("the service account cannot read the members of privileged group {group}"),
            ));
        }
        Ok(())
    }
}

#[tokio::test]
async fn while_the_directory_cannot_show_the_privileged_groups_every_user_is_treated_as_privileged() {
    use std::sync::atomic::Ordering;
    let directory = std::sync::Arc::new(HiddenGroups {
        inner: sspr_core::memory::MemoryDirectory::with_users(users()).unwrap(),
        hidden: true.into(),
        checks: 0.into(),
    });
    let clock = sspr_core::ManualClock::new(START);
    let sspr = sspr_core::Sspr::builder()
        .directory_arc(directory.clone())
        .notifier(sspr_core::memory::Outbox::new())
        .store(sspr_core::memory::MemoryStateStore::new())
        .clock(clock.clone())
        .timer(clock.clone())
        .policy(policy())
        .secret_key(key())
        .rng_seed([7; 32])
        .build()
        .unwrap();
    // An ordinary user cannot be judged: refused to an administrator, privileged in status,
    // and the anonymous answer an unknown login gets.
    assert!(matches!(
        sspr.set_enabled(&admin(), ALICE, true, &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })
    ));
    assert!(sspr.status(ALICE).await.unwrap().privileged);
    assert!(sspr.status(BOB).await.unwrap().privileged);
    assert_eq!(directory.checks.load(Ordering::SeqCst), 1, "a failed check is not asked again at every call");
    // The start-up check names the group.
    let err = sspr.check_privileged_groups().await.unwrap_err().to_string();
    assert!(err.contains("cannot read the members of privileged group"), "{err}");
    assert_eq!(directory.checks.load(Ordering::SeqCst), 2);
    // The operator fixes the ACL: within a minute the users are judged again, and the
    // success is kept (no check more).
    directory.hidden.store(false, Ordering::SeqCst);
    assert!(sspr.status(ALICE).await.unwrap().privileged, "the failure is trusted for a minute");
    clock.advance(
        std::time::Duration::try_from(sspr_core::VISIBILITY_RETRY).unwrap() + std::time::Duration::from_secs(1),
    );
    sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    assert!(!sspr.status(ALICE).await.unwrap().privileged);
    assert!(sspr.status(ADMIN).await.unwrap().privileged, "a real admin still is");
    sspr.check_privileged_groups().await.unwrap();
    assert_eq!(directory.checks.load(Ordering::SeqCst), 3, "one check succeeded, and is kept");
}
