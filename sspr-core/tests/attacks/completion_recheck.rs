//! Issue 11 item 10: completion ignored what changed after verification. An admin who
//! disables self-service reset for a user during an incident (or a block that starts after
//! the PIN was verified) must stop a flow that is already verified.

use sspr_core::Pin;
use sspr_core::{Error, NewPassword, NotAllowedReason, Policy, RequestContext};

use crate::support::*;

#[tokio::test]
async fn a_verified_flow_completes_after_an_admin_disabled_self_service_reset() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    let result = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(
        matches!(result, Err(Error::NotAllowed { reason: NotAllowedReason::NotEnabled })),
        "disabled during the incident, yet: {result:?}"
    );
    let alice = h.directory.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(h.directory.check_password(&alice.id, INITIAL_PASSWORD), Some(false), "the password is unchanged");
}

#[tokio::test]
async fn a_verified_flow_completes_after_the_user_was_blocked() {
    let h = Harness::builder().policy(Policy { user_failures_before_block: 5, ..policy() }).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    // Meanwhile someone elsewhere guesses on another flow until Alice is blocked.
    let elsewhere = RequestContext::from_ip("192.0.2.1".parse().unwrap());
    let c = h.sspr.begin_reset(ALICE, &elsewhere).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "sms", None, &elsewhere).await.unwrap();
    let wrong = Harness::wrong(&h.outbox.last_pin_to(ALICE_PHONE).unwrap());
    let mut last = None;
    for _ in 0..5 {
        last = Some(h.sspr.verify_pin(&c.flow_id, Pin::new(&wrong), &elsewhere).await);
    }
    assert!(matches!(last, Some(Err(Error::Blocked { .. }))), "the guessing blocked Alice: {last:?}");
    let result = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(matches!(result, Err(Error::Blocked { .. })), "blocked, yet: {result:?}");
}
