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
