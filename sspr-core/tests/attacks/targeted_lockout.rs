//! Issue 11 item 9: targeted lock-out. One begin, one send and five wrong PINs blocked any
//! user for 24 hours, from anywhere; and a handful of clients could spend the whole SMS
//! budget so that nobody got an SMS PIN. Failures now count per (user, client) too, the
//! user-wide block comes later, after growing delays, and part of the SMS budget is kept
//! for users who have not failed.

use sspr_core::Pin;
use std::time::Duration;

use sspr_core::{Error, NewPassword, Policy, RequestContext};

use crate::support::*;

fn client(n: u8) -> RequestContext {
    RequestContext::from_ip(format!("198.51.100.{n}").parse().unwrap())
}

/// An attacker at `from` makes `failures` failed verifications against `login`, waiting out
/// every delay and asking for new PINs as needed (the PINs go to the victim, whom the
/// attacker does not control). Stops early, returning false, when `from` is blocked.
async fn guess_wrong(h: &Harness, login: &str, address: &str, from: &RequestContext, failures: usize) -> bool {
    let mut flow: Option<(String, String)> = None;
    let mut done = 0;
    while done < failures {
        let (id, wrong) = match &flow {
            Some(f) => f.clone(),
            None => {
                let c = match h.sspr.begin_reset(login, from).await {
                    Ok(c) => c,
                    Err(Error::Blocked { .. }) => return false,
                    Err(Error::RateLimited { retry_after }) => {
                        h.advance(retry_after);
                        continue;
                    }
                    Err(e) => panic!("begin: {e:?}"),
                };
                match h.sspr.send_pin(&c.flow_id, "email", None, from).await {
                    Ok(_) => {}
                    Err(Error::Blocked { .. }) => return false,
                    Err(Error::RateLimited { retry_after }) => {
                        h.advance(retry_after);
                        continue;
                    }
                    Err(e) => panic!("send: {e:?}"),
                }
                let wrong = Harness::wrong(&h.outbox.last_pin_to(address).unwrap());
                flow = Some((c.flow_id.clone(), wrong.clone()));
                (c.flow_id, wrong)
            }
        };
        match h.sspr.verify_pin(&id, Pin::new(&wrong), from).await {
            Err(Error::WrongPin { .. }) => done += 1,
            Err(Error::PinVoided) => {
                done += 1;
                flow = None;
            }
            Err(Error::Blocked { .. }) => return false,
            Err(Error::RateLimited { retry_after }) => h.advance(retry_after),
            Err(Error::Expired | Error::AlreadyUsed | Error::InvalidState { .. }) => flow = None,
            other => panic!("guess: {other:?}"),
        }
    }
    true
}

/// The victim resets from their own network, waiting out any delay they are given (and
/// asking for a new PIN if theirs expired meanwhile); returns how long that took. Panics if
/// they are blocked.
async fn victim_resets(h: &Harness, login: &str, address: &str, from: &RequestContext) -> Duration {
    let started = h.now();
    'reset: loop {
        let c = match h.sspr.begin_reset(login, from).await {
            Ok(c) => c,
            Err(Error::RateLimited { retry_after }) => {
                h.advance(retry_after);
                continue;
            }
            Err(e) => panic!("the victim cannot even begin: {e:?}"),
        };
        match h.sspr.send_pin(&c.flow_id, "email", None, from).await {
            Ok(_) => {}
            Err(Error::RateLimited { retry_after }) => {
                h.advance(retry_after);
                continue;
            }
            Err(e) => panic!("the victim gets no PIN: {e:?}"),
        }
        let pin = h.outbox.last_pin_to(address).unwrap();
        loop {
            match h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), from).await {
                Ok(_) => {
                    h.sspr.complete_reset(&c.flow_id, NewPassword::Temporary, from).await.unwrap();
                    return (h.now() - started).unsigned_abs();
                }
                Err(Error::RateLimited { retry_after }) => h.advance(retry_after),
                Err(Error::Expired) => continue 'reset,
                Err(e) => panic!("the victim's right PIN is refused: {e:?}"),
            }
        }
    }
}

#[tokio::test]
async fn five_wrong_pins_from_one_client_lock_the_victim_out_for_a_day() {
    let h = Harness::new().await;
    guess_wrong(&h, BOB, BOB_MAIL, &client(66), 5).await;
    // The attacker's client is done for the day...
    let again = h.sspr.begin_reset(BOB, &client(66)).await;
    assert!(matches!(again, Err(Error::Blocked { .. })), "the guessing client goes on: {again:?}");
    // ...the victim is not.
    let waited = victim_resets(&h, BOB, BOB_MAIL, &client(1)).await;
    assert!(waited <= Duration::from_secs(120), "the victim waited {waited:?}");
}

#[tokio::test]
async fn wrong_pins_from_a_few_clients_lock_the_victim_out_for_a_day() {
    let h = Harness::new().await;
    for attacker in 60..63 {
        guess_wrong(&h, BOB, BOB_MAIL, &client(attacker), 5).await;
    }
    let waited = victim_resets(&h, BOB, BOB_MAIL, &client(1)).await;
    assert!(waited <= Duration::from_secs(2 * 3600), "the victim waited {waited:?}");
}

/// Guessers whose sends go with failed verifications ask for SMS until the budget is
/// spent; a user who never failed must still get one.
#[tokio::test]
async fn guessers_spend_the_sms_budget_of_users_who_never_failed() {
    let h = Harness::builder().policy(Policy { sms_budget_per_hour: 6, ..policy() }).build().await;
    h.enroll(BOB, Some(BOB_MAIL), Some("+447400900456")).await;
    h.enroll(NO_CONTACT, Some("erin@home.example"), Some("+447400900789")).await;
    for (n, (target, mail)) in [(BOB, BOB_MAIL), (NO_CONTACT, "erin@home.example")].into_iter().enumerate() {
        let from = client(70 + n as u8);
        // A failed guess first (by e-mail: no SMS spent).
        let c = h.sspr.begin_reset(target, &from).await.unwrap();
        h.sspr.send_pin(&c.flow_id, "email", None, &from).await.unwrap();
        let wrong = Harness::wrong(&h.outbox.last_pin_to(mail).unwrap());
        h.sspr.verify_pin(&c.flow_id, Pin::new(&wrong), &from).await.unwrap_err();
        // Then SMS after SMS.
        for _ in 0..4 {
            h.advance(Duration::from_secs(61));
            let c = h.sspr.begin_reset(target, &from).await.unwrap();
            let _ = h.sspr.send_pin(&c.flow_id, "sms", None, &from).await;
        }
    }
    let c = h.sspr.begin_reset(ALICE, &client(1)).await.unwrap();
    let sent = h.sspr.send_pin(&c.flow_id, "sms", None, &client(1)).await;
    assert!(sent.is_ok(), "a user who never failed gets no SMS: {sent:?}");
    assert!(h.outbox.last_pin_to(ALICE_PHONE).is_some());
}

/// Probe of 11.9 (sends): one address making 5 begin-and-sends an hour for the victim (under
/// every per-IP cap) filled the user's `user_sends_per_hour` and the destination's cap, and
/// the victim's own send was refused (`user_sends`) in every hour of the day. Now one client
/// fills only its own share: the victim on another client gets their PIN.
#[tokio::test]
async fn five_sends_an_hour_from_one_client_refuse_the_victims_own_send() {
    let h = Harness::new().await;
    let attacker = client(66);
    let cap = h.sspr.policy().user_sends_per_hour;
    for _ in 0..cap {
        let c = h.sspr.begin_reset(BOB, &attacker).await.unwrap();
        h.sspr.send_pin(&c.flow_id, "email", None, &attacker).await.unwrap();
    }
    let before = h.outbox.messages_to(BOB_MAIL).iter().filter(|m| m.pin().is_some()).count();
    // The attacker's client is held...
    let c = h.sspr.begin_reset(BOB, &attacker).await.unwrap();
    let again = h.sspr.send_pin(&c.flow_id, "email", None, &attacker).await;
    assert!(matches!(again, Err(Error::RateLimited { .. })), "the attacker's client goes on: {again:?}");
    // ...the victim is not, and their PIN arrives (the destination's cap is per client too).
    let victim = client(1);
    let c = h.sspr.begin_reset(BOB, &victim).await.unwrap();
    let sent = h.sspr.send_pin(&c.flow_id, "email", None, &victim).await;
    assert!(sent.is_ok(), "the victim's own send is refused: {sent:?}");
    let after = h.outbox.messages_to(BOB_MAIL).iter().filter(|m| m.pin().is_some()).count();
    assert_eq!(after, before + 1, "the victim was told it worked, but no PIN arrived");
    let pin = h.outbox.last_pin_to(BOB_MAIL).unwrap();
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &victim).await.unwrap();
}

/// The flood bound still holds: many clients together get at most the all-clients count of
/// sends for one user, and one address at most that many PINs.
#[tokio::test]
async fn many_clients_together_are_still_stopped_at_the_user_wide_send_count() {
    let h = Harness::new().await;
    let per_client = h.sspr.policy().user_sends_per_hour as usize;
    let mut sent = 0;
    let mut refused = None;
    for n in 0..=60u8 {
        let from = client(100 + n);
        let c = h.sspr.begin_reset(BOB, &from).await.unwrap();
        match h.sspr.send_pin(&c.flow_id, "email", None, &from).await {
            Ok(_) => sent += 1,
            Err(Error::RateLimited { .. }) => {
                refused = Some(n);
                break;
            }
            Err(e) => panic!("send: {e:?}"),
        }
    }
    let all_clients = h.sspr.policy().user_sends_all_clients_per_hour() as usize;
    assert!(all_clients > per_client);
    assert_eq!(sent, all_clients, "sends for one user from many clients: refused at {refused:?}");
    let limited = h.events_of(sspr_core::AuditKind::RateLimited).pop().unwrap();
    assert_eq!(limited.outcome, sspr_core::Outcome::Limited { limit: "user_sends_all_clients".into() });
    let pins = h.outbox.messages_to(BOB_MAIL).iter().filter(|m| m.pin().is_some()).count();
    assert!(pins <= all_clients, "{pins} PINs reached one address in an hour");
}

/// Probe of 11.9 (sign-in): 5 wrong passwords every 15 minutes from one address (20 an hour,
/// under `ip_sign_ins_per_hour`) kept the right password refused in 96 of 96 quarter-hours,
/// an administrator's sign-in too (`sign_in`, as `/admin` uses). Now one client's count
/// holds that client: the victim signs in, waiting at most the first growing delay.
#[tokio::test]
async fn five_wrong_passwords_a_quarter_hour_from_one_client_keep_the_victim_from_signing_in() {
    let h = Harness::new().await;
    let (attacker, victim) = (client(66), client(1));
    let right = sspr_core::Password::new(INITIAL_PASSWORD);
    let lockout = Duration::from_secs(h.sspr.policy().sign_in_lockout_secs);
    for quarter in 0..8 {
        for _ in 0..h.sspr.policy().sign_in_failures_before_lockout {
            let e = h.sspr.sign_in(ALICE, &sspr_core::Password::new("Wrong-Guess-1"), &attacker).await;
            assert!(matches!(e, Err(Error::SignInFailed)), "quarter {quarter}: {e:?}");
        }
        // The attacker's client is held, even with the right password...
        let held = h.sspr.sign_in(ALICE, &right, &attacker).await;
        assert!(matches!(held, Err(Error::RateLimited { .. })), "quarter {quarter}: {held:?}");
        // ...the victim is not.
        let started = h.now();
        loop {
            match h.sspr.sign_in(ALICE, &right, &victim).await {
                Ok(_) => break,
                Err(Error::RateLimited { retry_after }) if retry_after <= Duration::from_secs(60) => {
                    h.advance(retry_after)
                }
                other => panic!("quarter {quarter}: the victim's right password is refused: {other:?}"),
            }
        }
        let waited = (h.now() - started).unsigned_abs();
        assert!(waited <= Duration::from_secs(60), "quarter {quarter}: the victim waited {waited:?}");
        h.advance(lockout);
    }
}

/// The brute-force bound still holds: many clients together are locked out at the login-wide
/// count (delays off, so that only the count binds), the right password then refused from
/// anywhere; with the default delays an hour of guessing from many clients checks fewer.
#[tokio::test]
async fn many_clients_together_are_still_locked_out_at_the_login_wide_sign_in_count() {
    let h = Harness::builder().policy(Policy { failure_delay_secs: 0, ..policy() }).build().await;
    let all_clients = h.sspr.policy().sign_in_failures_all_clients() as usize;
    assert!(all_clients > h.sspr.policy().sign_in_failures_before_lockout as usize);
    let mut checked = 0;
    for n in 0..60u8 {
        match h.sspr.sign_in(ALICE, &sspr_core::Password::new("Wrong-Guess-1"), &client(100 + n)).await {
            Err(Error::SignInFailed) => checked += 1,
            Err(Error::RateLimited { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(checked, all_clients, "wrong passwords checked from 60 clients");
    let right = h.sspr.sign_in(ALICE, &sspr_core::Password::new(INITIAL_PASSWORD), &client(1)).await;
    assert!(matches!(right, Err(Error::RateLimited { .. })), "the login is not locked out: {right:?}");

    // Default delays: every guess from a new client, each delay waited out, for an hour.
    let h = Harness::new().await;
    let started = h.now();
    let (mut checked, mut n) = (0usize, 0u32);
    while h.now() - started < time::Duration::hours(1) {
        n += 1;
        let from = RequestContext::from_ip(format!("203.0.{}.{}", n / 250, n % 250 + 1).parse().unwrap());
        match h.sspr.sign_in(ALICE, &sspr_core::Password::new("Wrong-Guess-1"), &from).await {
            Err(Error::SignInFailed) => checked += 1,
            Err(Error::RateLimited { retry_after }) => h.advance(retry_after.max(Duration::from_secs(1))),
            other => panic!("{other:?}"),
        }
    }
    println!("passwords checked in an hour from many clients, default policy: {checked}");
    assert!(checked <= 40, "{checked} passwords checked in an hour");
}

/// Probe of 11.9 (helpdesk code): 10 wrong redemptions for the login in an hour from one
/// address had the caller's right code `RateLimited`, and the code's `max_wrong_pins` wrong
/// tries killed it for good. Now one client's tries end the code for that client only.
#[tokio::test]
async fn wrong_redemptions_from_one_client_kill_the_callers_helpdesk_code() {
    let h = Harness::new().await;
    let code = h.sspr.admin_recovery(&admin(), NO_CONTACT, &ctx()).await.unwrap().code.expose_secret().to_owned();
    let attacker = client(66);
    let mut limited = false;
    for _ in 0..2 * h.sspr.policy().max_wrong_pins {
        match h.sspr.redeem_recovery_code(NO_CONTACT, &Harness::wrong(&code), &attacker).await {
            Err(Error::WrongPin { attempts_left: 0 }) => {}
            Err(Error::RateLimited { .. }) => limited = true,
            other => panic!("{other:?}"),
        }
    }
    // The attacker's client is held (its right code would be refused too)...
    let held = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &attacker).await;
    assert!(held.is_err(), "the attacker's client goes on: {held:?}");
    assert!(!limited, "the attacker was limited before using its share");
    // ...the caller on their own line redeems their code.
    let recovered = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &client(1)).await;
    assert!(recovered.is_ok(), "the caller's right code is refused: {recovered:?}");
}

/// The bounds still hold for many clients together: the code dies after four times
/// `max_wrong_pins` wrong tries, and the login's redemptions from all clients are limited.
#[tokio::test]
async fn many_clients_together_still_kill_the_code_and_meet_the_login_wide_redemption_count() {
    let h = Harness::new().await;
    let code = h.sspr.admin_recovery(&admin(), NO_CONTACT, &ctx()).await.unwrap().code.expose_secret().to_owned();
    let max_wrong = h.sspr.policy().max_wrong_pins;
    for n in 0..4 * max_wrong {
        let from = client(100 + n as u8);
        let e = h.sspr.redeem_recovery_code(NO_CONTACT, &Harness::wrong(&code), &from).await;
        assert!(matches!(e, Err(Error::WrongPin { attempts_left: 0 })), "{e:?}");
    }
    let dead = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &client(1)).await;
    assert!(dead.is_err(), "the code outlived {} wrong tries from all clients: {dead:?}", 4 * max_wrong);
    let voided = h.events_of(sspr_core::AuditKind::RecoveryRedeemed).pop().unwrap();
    assert_eq!(voided.outcome, sspr_core::Outcome::Failed { error: "code voided".into() });

    // The login-wide redemption count: 8 times max_wrong_pins an hour from all clients.
    let all_clients = 8 * max_wrong;
    let mut answered = 0;
    for n in 0..=all_clients {
        let from = client(150 + (n / max_wrong) as u8);
        match h.sspr.redeem_recovery_code("nobody@example.org", "0000000000", &from).await {
            Err(Error::WrongPin { .. }) => answered += 1,
            Err(Error::RateLimited { .. }) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(answered, all_clients, "redemptions of one login from many clients");
}
