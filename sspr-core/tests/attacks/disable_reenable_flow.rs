//! Hypothesis: an administrator who switches self-service off for a user during an incident
//! (11.10: a verified flow then does not complete) and back on within the flow's lifetime
//! revives the flow verified before the disable, as a pending contact proof and helpdesk code
//! once revived (14.1e, 14.5b'').

use sspr_core::{NewPassword, Pin};

use crate::support::*;

#[tokio::test]
async fn a_flow_verified_before_an_admins_disable_does_not_complete_after_the_re_enable() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "sms", ALICE_PHONE).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    let result = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(result.is_err(), "a flow verified before the disable completed after the re-enable: {result:?}");
}

#[tokio::test]
async fn a_flow_begun_after_the_re_enable_completes() {
    let h = Harness::new().await;
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    h.advance(std::time::Duration::from_secs(1));
    let (flow, pin) = h.pin_for(ALICE, "sms", ALICE_PHONE).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
}

#[tokio::test]
async fn a_refused_flow_is_audited_and_changes_nothing() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    h.advance(std::time::Duration::from_secs(300));
    let result = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(matches!(result, Err(sspr_core::Error::Expired)), "{result:?}");
    let alice = h.directory.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(h.directory.check_password(&alice.id, INITIAL_PASSWORD), Some(false), "the password is unchanged");
    let failed = h.events_of(sspr_core::AuditKind::ResetFailed);
    assert!(
        failed
            .iter()
            .any(|e| matches!(&e.outcome, sspr_core::Outcome::Failed { error } if error.contains("switched off"))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_flow_verified_before_the_disable_is_refused_up_to_its_last_live_second() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    // The flow's last live second: exactly its lifetime after it began (and the disable).
    h.advance(std::time::Duration::from_secs(h.sspr.policy().flow_lifetime_secs));
    let result = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(result.is_err(), "completed in the flow's last second: {result:?}");
}

/// R.6's residual: the mark is written under the user's subject for the key of the moment. A
/// disable, then a key rotation (the old key listed as a previous one, 17.6f), then the
/// re-enable: the verified flow, begun under the old key, moves to the new key's subject at
/// its next step, where no mark was written.
#[tokio::test]
async fn a_flow_verified_before_a_disable_does_not_complete_after_a_key_rotation_and_the_re_enable() {
    use super::key_rotation::{engine, new_key};
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    let rotated = engine(&h, policy(), new_key(), vec![key()]);
    rotated.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    h.advance(std::time::Duration::from_secs(60));
    let result = rotated.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(
        matches!(result, Err(sspr_core::Error::Expired)),
        "a flow verified before the disable completed after a rotation and the re-enable: {result:?}"
    );
    // Carried under the new key: refused still once the old key is dropped from the ring.
    let later = engine(&h, policy(), new_key(), Vec::new());
    let again = later.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(again.is_err(), "{again:?}");
}
