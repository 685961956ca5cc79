//! Attack: under `PrivilegedMode::TwoMethods` a privileged user's flow must prove two methods,
//! and its PIN cap (`max_pins_per_flow`) was multiplied by the methods it needs *before any
//! was proven*. An anonymous caller who sends PINs on a flow, waiting out the cooldown, got
//! a fourth PIN "sent" for a privileged account and `InvalidState` ("sent all the PINs it
//! may") for an ordinary user or an unknown login: a list of the organisation's
//! administrators, for the price of a few PINs in their mailboxes.
//! Defence: until a method is proven, every flow has the same cap, `max_pins_per_flow`; each
//! proven method adds that many again (only the holder of a right PIN gets there), so a
//! privileged flow still has at most twice the cap in all.

use std::time::Duration;

use sspr_core::{Error, Pin, Policy, PrivilegedMode};

use crate::support::{ADMIN, ALICE, Harness, ROOT_MAIL, ROOT_PHONE, ctx, policy};

/// What the `max_pins_per_flow + 1`-th send of a new flow for `login` answers, by e-mail, each
/// send after the cooldown.
async fn send_past_the_cap(h: &Harness, login: &str) -> String {
    let c = h.sspr.begin_reset(login, &ctx()).await.unwrap();
    let cap = h.sspr.policy().max_pins_per_flow;
    for i in 0..cap {
        let sent = h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await;
        assert!(sent.is_ok(), "{login}: send {i} within the cap: {sent:?}");
        h.advance(Duration::from_secs(h.sspr.policy().resend_cooldown_secs));
    }
    match h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await {
        Ok(_) => "Ok".into(),
        Err(e) => format!("Err({e})"),
    }
}

#[tokio::test]
async fn a_privileged_accounts_flow_takes_more_pins_than_an_unknown_logins() {
    let h = Harness::builder().policy(Policy { privileged_mode: PrivilegedMode::TwoMethods, ..policy() }).build().await;
    h.enroll(ADMIN, Some(ROOT_MAIL), Some(ROOT_PHONE)).await;
    let admin = send_past_the_cap(&h, ADMIN).await;
    let user = send_past_the_cap(&h, ALICE).await;
    let ghost = send_past_the_cap(&h, "ghost@example.org").await;
    assert_eq!(user, ghost, "an ordinary user and an unknown login answer alike");
    assert_eq!(admin, ghost, "a privileged account must answer the send past the cap as an unknown login does");
}

#[tokio::test]
async fn a_privileged_flow_still_sends_the_second_method_its_pins_after_the_first_is_proven() {
    let h = Harness::builder().policy(Policy { privileged_mode: PrivilegedMode::TwoMethods, ..policy() }).build().await;
    h.enroll(ADMIN, Some(ROOT_MAIL), Some(ROOT_PHONE)).await;
    let cap = h.sspr.policy().max_pins_per_flow;
    let cooldown = Duration::from_secs(h.sspr.policy().resend_cooldown_secs);
    let c = h.sspr.begin_reset(ADMIN, &ctx()).await.unwrap();
    // The first method proven with the last PIN it may send.
    for _ in 0..cap {
        h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
        h.advance(cooldown);
    }
    let pin = h.outbox.last_pin_to(ROOT_MAIL).unwrap();
    assert_eq!(h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap().remaining_methods, ["sms"]);
    // The second method gets as many PINs again, and no more.
    for _ in 0..cap {
        h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await.unwrap();
        h.advance(cooldown);
    }
    assert!(matches!(h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await, Err(Error::InvalidState { .. })));
    let pin = h.outbox.last_pin_to(ROOT_PHONE).unwrap();
    assert!(h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap().remaining_methods.is_empty());
}
