//! Account-enumeration defence: from outside, a login that cannot reset looks like one that
//! can; the audit trail still tells the truth.

use std::time::Duration;

use sspr_core::memory::MemoryUser;
use sspr_core::{AuditKind, DecoyReason, Error, Outcome, Policy, ResetChallenge};

use crate::support::*;

/// The shape of a challenge: what an outsider can compare without knowing the addresses.
fn shape(c: &ResetChallenge) -> Vec<(String, bool)> {
    let email = |m: &str| {
        let (local, domain) = m.split_once('@').unwrap();
        local.len() == 4 && local.ends_with("***") && domain.contains("***.")
    };
    let phone = |m: &str| m.starts_with('+') && m.contains(" ******* ") && m.len() >= 13;
    c.methods
        .iter()
        .map(|m| {
            let ok = match m.id.as_str() {
                "email" => email(&m.masked),
                "sms" => phone(&m.masked),
                _ => false,
            };
            (m.id.clone(), ok && !m.needs_confirmation)
        })
        .collect()
}

async fn outsider_view(h: &Harness, login: &str) -> (ResetChallenge, sspr_core::PinSent, Error) {
    let c = h.sspr.begin_reset(login, &ctx()).await.unwrap();
    assert_eq!(c.flow_id.len(), 32);
    assert_eq!(c.expires_at, h.now() + Duration::from_secs(900));
    let sent = h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ctx()).await.unwrap();
    let err = h.sspr.verify_pin(&c.flow_id, "12345678", &ctx()).await.unwrap_err();
    (c, sent, err)
}

#[tokio::test]
async fn unknown_disabled_ineligible_not_enabled_no_contact_and_privileged_look_like_real_users() {
    let h = Harness::new().await;
    // Make bob privileged after his enrollment (a promotion the enrollment did not see).
    let mut bob = users().into_iter().find(|u| u.login == BOB).unwrap();
    bob.groups.push("CN=Domain Admins,CN=Users,DC=example,DC=org".into());
    h.directory.insert(MemoryUser { ..bob }).unwrap();

    let (real, real_sent, real_err) = outsider_view(&h, ALICE).await;
    assert!(h.outbox.last_pin_to(ALICE_MAIL).is_some());
    assert!(matches!(real_err, Error::WrongPin { attempts_left: 4 }));
    h.outbox.clear();

    let cases = [
        ("nobody@example.org", DecoyReason::UnknownUser),
        (DISABLED, DecoyReason::AccountDisabled),
        (OUTSIDER, DecoyReason::Ineligible),
        (NOT_ENABLED, DecoyReason::NotEnabled),
        (NO_CONTACT, DecoyReason::NoContact),
        (BOB, DecoyReason::Privileged),
    ];
    for (login, reason) in cases {
        let (decoy, sent, err) = outsider_view(&h, login).await;
        // Same shape as a real user's answer at every step.
        assert!(shape(&decoy).iter().all(|(_, ok)| *ok), "{login}: {:?}", decoy.methods);
        assert!(shape(&real).iter().all(|(_, ok)| *ok));
        assert_eq!(sent.expires_at - h.now(), real_sent.expires_at - START, "{login}");
        assert_eq!(sent.attempts_left, real_sent.attempts_left, "{login}");
        assert_eq!(err.to_string(), real_err.to_string(), "{login}");
        // Nothing was sent anywhere.
        assert!(h.outbox.messages().is_empty(), "{login}: a decoy must never deliver");
        // The audit tells the truth.
        let requested = h.events_of(AuditKind::ResetRequested).pop().unwrap();
        assert_eq!(requested.outcome, Outcome::Decoy { reason }, "{login}");
        assert_eq!(requested.flow_id.as_deref(), Some(decoy.flow_id.as_str()));
        let sent_event = h.events_of(AuditKind::PinSent).pop().unwrap();
        assert_eq!(sent_event.outcome, Outcome::Decoy { reason }, "{login}");
        match reason {
            DecoyReason::UnknownUser => {
                assert!(requested.user_id.is_none() && requested.login_fingerprint.is_some());
            }
            _ => assert!(requested.user_id.is_some(), "{login}: a known user is named in the audit"),
        }
    }
}

#[tokio::test]
async fn decoys_are_stable_per_login_and_follow_normalisation() {
    let h = Harness::new().await;
    let a = h.sspr.begin_reset("ghost@example.org", &ctx()).await.unwrap();
    let b = h.sspr.begin_reset("  GHOST@Example.org", &ctx()).await.unwrap();
    let c = h.sspr.begin_reset("ｇｈｏｓｔ@example.org", &ctx()).await.unwrap();
    assert_ne!(a.flow_id, b.flow_id);
    assert_eq!(a.methods, b.methods);
    assert_eq!(a.methods, c.methods);
    let other = h.sspr.begin_reset("spectre@example.org", &ctx()).await.unwrap();
    // Different logins get different masks (they come from an HMAC of the login).
    assert_ne!(a.methods, other.methods);
}

#[tokio::test]
async fn decoy_pins_never_verify_and_count_like_real_ones() {
    let h = Harness::builder().policy(Policy { user_failures_before_block: 10, ..policy() }).build().await;
    let c = h.sspr.begin_reset("nobody@example.org", &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ctx()).await.unwrap();
    for left in [4, 3, 2, 1] {
        assert!(matches!(
            h.sspr.verify_pin(&c.flow_id, "00000000", &ctx()).await,
            Err(Error::WrongPin { attempts_left }) if attempts_left == left
        ));
    }
    assert!(matches!(h.sspr.verify_pin(&c.flow_id, "00000000", &ctx()).await, Err(Error::PinVoided)));
}

#[tokio::test]
async fn unknown_logins_are_blocked_like_real_ones() {
    let h = Harness::new().await;
    let mut results = Vec::new();
    for login in ["nobody@example.org", ALICE] {
        for _ in 0..5 {
            let c = h.sspr.begin_reset(login, &ctx()).await.unwrap();
            h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
            let _ = h.sspr.verify_pin(&c.flow_id, "00000000", &ctx()).await;
        }
        results.push(h.sspr.begin_reset(login, &ctx()).await.map(|_| ()).map_err(|e| e.to_string()));
    }
    assert!(results.iter().all(|r| r.as_ref().is_err_and(|e| e.contains("blocked"))), "{results:?}");
    assert_eq!(results[0], results[1]);
}

#[tokio::test]
async fn sms_is_not_offered_while_the_policy_switches_it_off() {
    let h = Harness::builder().policy(Policy { sms_enabled: false, ..policy() }).build().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    assert_eq!(c.methods.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["email"]);
    assert!(matches!(
        h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await,
        Err(Error::InvalidInput { field: "method_id", .. })
    ));
    assert!(h.outbox.messages_to(ALICE_PHONE).is_empty());
    for i in 0..50 {
        // No client IP here: fifty begins from one address would trip the per-IP cap.
        let c = h.sspr.begin_reset(&format!("ghost{i}@example.org"), &Default::default()).await.unwrap();
        assert!(c.methods.iter().all(|m| m.id == "email"), "decoys offer no SMS either");
    }
}

#[tokio::test]
async fn full_address_confirmation_sends_only_on_a_match_and_answers_alike() {
    let h = Harness::builder().policy(Policy { confirm_full_address: true, ..policy() }).build().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    assert!(c.methods.iter().all(|m| m.needs_confirmation));
    assert!(matches!(h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await, Err(Error::InvalidInput { .. })));
    assert!(matches!(
        h.sspr.send_pin(&c.flow_id, "email", Some("not an address"), &ctx()).await,
        Err(Error::InvalidInput { field: "email", .. })
    ));
    // A wrong guess is answered like a right one, and nothing is sent.
    let wrong = h.sspr.send_pin(&c.flow_id, "email", Some("someone@else.example"), &ctx()).await.unwrap();
    assert!(h.outbox.messages().is_empty());
    assert_eq!(
        h.events_of(AuditKind::PinSent).pop().unwrap().outcome,
        Outcome::Decoy { reason: DecoyReason::ConfirmationMismatch }
    );
    h.advance(Duration::from_secs(61));
    let right = h.sspr.send_pin(&c.flow_id, "email", Some("ALICE.private@mail.example"), &ctx()).await.unwrap();
    assert_eq!(right.attempts_left, wrong.attempts_left);
    let pin = h.outbox.last_pin_to(ALICE_MAIL).expect("sent after a matching confirmation");
    h.sspr.verify_pin(&c.flow_id, &pin, &ctx()).await.unwrap();

    // A decoy accepts any well-formed guess the same way.
    let d = h.sspr.begin_reset("nobody@example.org", &ctx()).await.unwrap();
    h.sspr.send_pin(&d.flow_id, "email", Some("someone@else.example"), &ctx()).await.unwrap();
}
