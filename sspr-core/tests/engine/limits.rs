//! Rate limits and blocks: per user, per client IP, per destination, the SMS budget.

use sspr_core::Pin;
use std::time::Duration;

use sspr_core::{AuditKind, Error, Outcome, Policy, RequestContext};

use crate::support::*;

fn ip(n: u8) -> RequestContext {
    RequestContext::from_ip(format!("198.51.100.{n}").parse().unwrap())
}

#[tokio::test]
async fn per_user_send_cap_then_a_new_hour() {
    let h = Harness::new().await;
    // Five sends from one client: the sixth from it is limited.
    for i in 0..5 {
        let c = h.sspr.begin_reset(ALICE, &ip(9)).await.unwrap();
        h.sspr.send_pin(&c.flow_id, if i % 2 == 0 { "email" } else { "sms" }, None, &ip(9)).await.unwrap();
    }
    let c = h.sspr.begin_reset(ALICE, &ip(9)).await.unwrap();
    match h.sspr.send_pin(&c.flow_id, "email", None, &ip(9)).await {
        Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after, Duration::from_secs(3600)),
        other => panic!("the sixth send in an hour must be limited: {other:?}"),
    }
    let limited = h.events_of(AuditKind::RateLimited).pop().unwrap();
    assert_eq!(limited.outcome, Outcome::Limited { limit: "user_sends".into() });
    h.advance(Duration::from_secs(3600));
    let c = h.sspr.begin_reset(ALICE, &ip(9)).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ip(9)).await.expect("a new hour, a new allowance");
}

#[tokio::test]
async fn the_user_wide_send_cap_is_four_times_the_per_client_one_and_a_new_hour_lifts_it() {
    let h = Harness::builder().policy(Policy { destination_sends_per_hour: 100, ..policy() }).build().await;
    // Four clients use their five sends each; a fifth client is refused.
    for n in 0..20 {
        let from = ip(10 + n / 5);
        let c = h.sspr.begin_reset(ALICE, &from).await.unwrap();
        h.sspr.send_pin(&c.flow_id, "email", None, &from).await.unwrap();
    }
    let c = h.sspr.begin_reset(ALICE, &ip(30)).await.unwrap();
    match h.sspr.send_pin(&c.flow_id, "email", None, &ip(30)).await {
        Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after, Duration::from_secs(3600)),
        other => panic!("the 21st send in an hour must be limited: {other:?}"),
    }
    let limited = h.events_of(AuditKind::RateLimited).pop().unwrap();
    assert_eq!(limited.outcome, Outcome::Limited { limit: "user_sends_all_clients".into() });
    h.advance(Duration::from_secs(3600));
    let c = h.sspr.begin_reset(ALICE, &ip(30)).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ip(30)).await.expect("a new hour, a new allowance");
}

#[tokio::test]
async fn five_failed_verifications_block_for_24_hours_and_success_resets_the_count() {
    // Ten sends to bob's address this hour: lift the per-destination cap out of the way. The
    // user-wide block at 5 (the default is 20, see `targeted_lockout` in the attack tests).
    let h = Harness::builder()
        .policy(Policy { destination_sends_per_hour: 20, user_failures_before_block: 5, ..policy() })
        .build()
        .await;
    // Four failures, then a success: the count starts again.
    for _ in 0..4 {
        let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
        assert!(h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await.is_err());
        h.advance(Duration::from_secs(61));
    }
    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, sspr_core::NewPassword::Temporary, &ctx()).await.unwrap();

    // Now five failures in a row (one flow) block.
    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    for _ in 0..4 {
        assert!(matches!(
            h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await,
            Err(Error::WrongPin { .. })
        ));
    }
    let until = match h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await {
        Err(Error::Blocked { until }) => until,
        other => panic!("the fifth failure must block: {other:?}"),
    };
    assert_eq!(until, h.now() + Duration::from_secs(86_400));
    assert_eq!(h.events_of(AuditKind::Blocked).len(), 1);
    assert!(matches!(h.sspr.begin_reset(BOB, &ctx()).await, Err(Error::Blocked { .. })));
    assert_eq!(h.sspr.status(BOB).await.unwrap().blocked_until, Some(until));

    h.advance(Duration::from_secs(86_399));
    assert!(matches!(h.sspr.begin_reset(BOB, &ctx()).await, Err(Error::Blocked { .. })));
    h.advance(Duration::from_secs(1));
    h.sspr.begin_reset(BOB, &ctx()).await.expect("the block ends after 24 h");
}

#[tokio::test]
async fn failures_spread_over_flows_also_block() {
    let h = Harness::new().await;
    let mut last = None;
    for _ in 0..5 {
        let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
        last = Some(h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await);
        h.advance(Duration::from_secs(61));
    }
    assert!(matches!(last, Some(Err(Error::Blocked { .. }))), "{last:?}");
}

#[tokio::test]
async fn an_admin_unblocks_a_user() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    for _ in 0..5 {
        let _ = h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await;
    }
    assert!(matches!(h.sspr.begin_reset(BOB, &ctx()).await, Err(Error::Blocked { .. })));
    assert!(matches!(
        h.sspr.unblock(&sspr_core::Actor::User, BOB, &ctx()).await,
        Err(Error::NotAllowed { reason: sspr_core::NotAllowedReason::AdminOnly })
    ));
    h.sspr.unblock(&admin(), BOB, &ctx()).await.unwrap();
    assert_eq!(h.sspr.status(BOB).await.unwrap().blocked_until, None);
    assert_eq!(h.events_of(AuditKind::Unblocked).len(), 1);
    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
}

#[tokio::test]
async fn per_ip_begin_cap() {
    let h = Harness::builder().policy(Policy { ip_begins_per_hour: 3, ..policy() }).build().await;
    for i in 0..3 {
        h.sspr.begin_reset(&format!("user{i}@example.org"), &ip(1)).await.unwrap();
    }
    assert!(matches!(h.sspr.begin_reset(ALICE, &ip(1)).await, Err(Error::RateLimited { .. })));
    h.sspr.begin_reset(ALICE, &ip(2)).await.expect("another client is not affected");
}

#[tokio::test]
async fn per_ip_send_cap_covers_decoys_too() {
    let h = Harness::builder().policy(Policy { ip_sends_per_hour: 2, ..policy() }).build().await;
    for i in 0..2 {
        let c = h.sspr.begin_reset(&format!("ghost{i}@example.org"), &ip(3)).await.unwrap();
        h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ip(3)).await.unwrap();
    }
    let c = h.sspr.begin_reset(ALICE, &ip(3)).await.unwrap();
    assert!(matches!(h.sspr.send_pin(&c.flow_id, "email", None, &ip(3)).await, Err(Error::RateLimited { .. })));
    assert!(h.outbox.messages().is_empty());
}

#[tokio::test]
async fn per_destination_cap() {
    let h = Harness::builder()
        .policy(Policy { destination_sends_per_hour: 2, user_sends_per_hour: 10, ..policy() })
        .build()
        .await;
    for _ in 0..2 {
        h.pin_for(ALICE, "sms", ALICE_PHONE).await;
    }
    // Over its cap, a destination gets nothing, but the caller is not told (that would
    // confirm whose address it is: see the attack `destination_confirmation`).
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await.expect("answered like success");
    assert_eq!(h.outbox.messages_to(ALICE_PHONE).iter().filter(|m| m.pin().is_some()).count(), 2);
    let limited = h.events_of(AuditKind::RateLimited).pop().unwrap();
    assert_eq!(limited.outcome, Outcome::Limited { limit: "destination".into() });
    h.advance(std::time::Duration::from_secs(61));
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.expect("another destination is not affected");
    assert!(h.outbox.last_pin_to(ALICE_MAIL).is_some());
}

#[tokio::test]
async fn global_sms_budget() {
    let h = Harness::builder().policy(Policy { sms_budget_per_hour: 1, ..policy() }).build().await;
    h.pin_for(ALICE, "sms", ALICE_PHONE).await;
    let c = h.sspr.begin_reset(ALICE, &ip(5)).await.unwrap();
    match h.sspr.send_pin(&c.flow_id, "sms", None, &ip(5)).await {
        Err(Error::RateLimited { .. }) => {}
        other => panic!("the SMS budget is spent: {other:?}"),
    }
    assert_eq!(
        h.events_of(AuditKind::RateLimited).pop().unwrap().outcome,
        Outcome::Limited { limit: "sms_budget".into() }
    );
    h.sspr.send_pin(&c.flow_id, "email", None, &ip(5)).await.expect("e-mail does not draw on the SMS budget");
}

#[tokio::test]
async fn ipv6_clients_are_counted_per_64_network_and_mapped_ipv4_as_ipv4() {
    let h = Harness::builder().policy(Policy { ip_begins_per_hour: 2, ..policy() }).build().await;
    let from = |ip: &str| RequestContext::from_ip(ip.parse().unwrap());
    h.sspr.begin_reset(ALICE, &from("2001:db8:1:2::1")).await.unwrap();
    h.sspr.begin_reset(ALICE, &from("2001:db8:1:2:ffff::9")).await.unwrap();
    assert!(matches!(h.sspr.begin_reset(ALICE, &from("2001:db8:1:2:abcd::1")).await, Err(Error::RateLimited { .. })));
    h.sspr.begin_reset(ALICE, &from("2001:db8:1:3::1")).await.expect("another /64 is another client");

    h.sspr.begin_reset(ALICE, &from("192.0.2.1")).await.unwrap();
    h.sspr.begin_reset(ALICE, &from("::ffff:192.0.2.1")).await.unwrap();
    assert!(matches!(h.sspr.begin_reset(ALICE, &from("192.0.2.1")).await, Err(Error::RateLimited { .. })));
}

#[tokio::test]
async fn a_block_begun_mid_second_names_the_same_end_every_time() {
    let h = Harness::builder().policy(Policy { user_failures_before_block: 5, ..policy() }).build().await;
    h.advance(Duration::from_millis(900)); // the block begins at 09:00:00.9
    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    for _ in 0..4 {
        assert!(matches!(
            h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await,
            Err(Error::WrongPin { .. })
        ));
    }
    let first = match h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await {
        Err(Error::Blocked { until }) => until,
        other => panic!("the fifth failure must block: {other:?}"),
    };
    let later = match h.sspr.begin_reset(BOB, &ctx()).await {
        Err(Error::Blocked { until }) => until,
        other => panic!("the user is blocked: {other:?}"),
    };
    assert_eq!(first, later, "the first Blocked and the next one must name the same end");
    assert_eq!(h.sspr.status(BOB).await.unwrap().blocked_until, Some(first));
}

/// A send's new record, the subject's block and attempts and the limits' counters are one
/// store call, so a refused send has already written its record when the refusal is known.
/// The attack: hammer sends past a limit on a flow whose PIN the user holds, to void that
/// PIN (and burn the flow's PINs). A refused send must leave the flow as it was.
#[tokio::test]
async fn a_send_a_limit_refuses_leaves_the_pin_sent_before_working() {
    let h = Harness::builder().policy(Policy { ip_sends_per_hour: 1, ..policy() }).build().await;
    let c = h.sspr.begin_reset(ALICE, &ip(7)).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ip(7)).await.unwrap();
    let pin = h.outbox.last_pin_to(ALICE_MAIL).unwrap();
    for method in ["email", "sms", "email"] {
        h.advance(Duration::from_secs(61));
        match h.sspr.send_pin(&c.flow_id, method, None, &ip(7)).await {
            Err(Error::RateLimited { .. }) => {}
            other => panic!("the client's sends are over their cap: {other:?}"),
        }
    }
    assert_eq!(h.outbox.messages().iter().filter(|m| m.pin().is_some()).count(), 1, "one PIN delivered");
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ip(7)).await.expect("the PIN sent before still works");
}

/// As above for a block: a client blocked for the user cannot replace the PIN of the user's
/// own flow (whose id it holds) by sending again.
#[tokio::test]
async fn a_send_a_block_refuses_leaves_the_pin_sent_before_working() {
    let h = Harness::builder()
        .policy(Policy { client_failures_before_block: 2, failures_before_delay: 10, ..policy() })
        .build()
        .await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    for _ in 0..2 {
        assert!(h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ip(8)).await.is_err());
    }
    let c = h.sspr.begin_reset(ALICE, &ip(7)).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ip(7)).await.unwrap();
    let pin = h.outbox.last_pin_to(ALICE_MAIL).unwrap();
    h.advance(Duration::from_secs(61));
    match h.sspr.send_pin(&c.flow_id, "email", None, &ip(8)).await {
        Err(Error::Blocked { .. }) => {}
        other => panic!("the client is blocked for the user: {other:?}"),
    }
    assert_eq!(h.outbox.last_pin_to(ALICE_MAIL).as_deref(), Some(pin.as_str()), "no new PIN delivered");
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ip(7)).await.expect("the PIN sent before still works");
}
