//! Attack: under `PrivilegedMode::TwoMethods` a privileged reset needs a right PIN by e-mail
//! and one by text message, so that one stolen factor (a phished mailbox, a swapped SIM) is
//! not enough. A right PIN cleared the user's whole attempts record (the user-wide count, the
//! progressive delays and every client's block), even when it proved only the first of the
//! two methods. An attacker holding the administrator's mailbox verified the e-mail PIN from
//! one address, then guessed the text message's PIN from another until it was void, and began
//! again: each round wiped the count, so the guesser's client was never blocked, never
//! delayed, and the user never blocked. The caps that bound PIN guessing (5 per client, 20
//! per user, then a 24 h block) did not bind the second factor at all.
//! Defence: a right PIN that leaves a method to prove clears nothing (only its own attempt is
//! taken back); the counters are cleared when the flow is verified in full.

use sspr_core::{AuditKind, Error, Pin, Policy, PrivilegedMode, RequestContext};

use crate::support::{ADMIN, Harness, ROOT_MAIL, ROOT_PHONE, ctx, policy};

#[tokio::test]
async fn a_stolen_mailbox_resets_the_count_that_bounds_guessing_the_text_message_pin() {
    let h = Harness::builder().policy(Policy { privileged_mode: PrivilegedMode::TwoMethods, ..policy() }).build().await;
    h.enroll(ADMIN, Some(ROOT_MAIL), Some(ROOT_PHONE)).await;
    // The guesses come from one client; everything else from another.
    let guesser = ctx();
    let mailbox = RequestContext::from_ip("198.51.100.20".parse().unwrap());
    let cap = h.sspr.policy().client_failures_before_block;
    let mut answers = Vec::new();
    for _round in 0..4 {
        let c = match h.sspr.begin_reset(ADMIN, &mailbox).await {
            Ok(c) => c,
            Err(e) => {
                answers.push(format!("begin: {e:?}"));
                break;
            }
        };
        if let Err(e) = h.sspr.send_pin(&c.flow_id, "email", None, &mailbox).await {
            answers.push(format!("send e-mail: {e:?}"));
            break;
        }
        // The attacker reads the administrator's mailbox.
        let pin = h.outbox.last_pin_to(ROOT_MAIL).unwrap();
        // The user-wide delay the guesses started is waited out (a minute).
        let verified = match h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &mailbox).await {
            Err(Error::RateLimited { retry_after }) => {
                h.advance(retry_after);
                h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &mailbox).await
            }
            other => other,
        };
        if let Err(e) = verified {
            answers.push(format!("verify e-mail: {e:?}"));
            break;
        }
        if let Err(e) = h.sspr.send_pin(&c.flow_id, "sms", None, &mailbox).await {
            answers.push(format!("send sms: {e:?}"));
            break;
        }
        let sms = h.outbox.last_pin_to(ROOT_PHONE).unwrap();
        loop {
            let answer = h.sspr.verify_pin(&c.flow_id, Pin::new(Harness::wrong(&sms)), &guesser).await;
            let go_on = matches!(answer, Err(Error::WrongPin { .. }));
            answers.push(format!("{answer:?}"));
            if !go_on {
                break;
            }
        }
    }
    let compared = h.events_of(AuditKind::PinFailed).len();
    assert!(
        compared <= cap as usize,
        "one client compared {compared} text-message PINs, over its cap of {cap}: {answers:?}"
    );
}

#[tokio::test]
async fn the_owners_first_right_pin_uses_none_of_their_tries_and_the_second_clears_the_count() {
    let h = Harness::builder().policy(Policy { privileged_mode: PrivilegedMode::TwoMethods, ..policy() }).build().await;
    h.enroll(ADMIN, Some(ROOT_MAIL), Some(ROOT_PHONE)).await;
    let c = h.sspr.begin_reset(ADMIN, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    let pin = h.outbox.last_pin_to(ROOT_MAIL).unwrap();
    // Four typos on the e-mail PIN, then the right one: the typos stay counted, the right PIN not.
    for _ in 0..4 {
        let wrong = h.sspr.verify_pin(&c.flow_id, Pin::new(Harness::wrong(&pin)), &ctx()).await;
        assert!(matches!(wrong, Err(Error::WrongPin { .. })), "{wrong:?}");
    }
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await.unwrap();
    let sms = h.outbox.last_pin_to(ROOT_PHONE).unwrap();
    // One more typo is this client's fifth failure: it blocks the client for the user.
    let fifth = h.sspr.verify_pin(&c.flow_id, Pin::new(Harness::wrong(&sms)), &ctx()).await;
    assert!(matches!(fifth, Err(Error::Blocked { .. })), "the right e-mail PIN cleared nothing: {fifth:?}");

    // Another reset, from another client, with no typo, once the user-wide delay the five
    // failures started has passed: both methods proven, the count cleared.
    h.advance(std::time::Duration::from_secs(h.sspr.policy().failure_delay_secs));
    let other = RequestContext::from_ip("198.51.100.30".parse().unwrap());
    let c = h.sspr.begin_reset(ADMIN, &other).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &other).await.unwrap();
    let pin = h.outbox.last_pin_to(ROOT_MAIL).unwrap();
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &other).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "sms", None, &other).await.unwrap();
    let sms = h.outbox.last_pin_to(ROOT_PHONE).unwrap();
    // The five failures still stand, so the delay they call for applies again from the right
    // e-mail PIN (the attempt taken back restarts it).
    assert!(matches!(h.sspr.verify_pin(&c.flow_id, Pin::new(&sms), &other).await, Err(Error::RateLimited { .. })));
    h.advance(std::time::Duration::from_secs(h.sspr.policy().failure_delay_secs));
    h.sspr.verify_pin(&c.flow_id, Pin::new(&sms), &other).await.unwrap();
    // The first client's block went with the count: it may verify again.
    let c = h.sspr.begin_reset(ADMIN, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    let pin = h.outbox.last_pin_to(ROOT_MAIL).unwrap();
    assert!(h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.is_ok());
}
