//! Account-enumeration defence: from outside, a login that cannot reset looks like one that
//! can; the audit trail still tells the truth.

use sspr_core::Pin;
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
    let err = h.sspr.verify_pin(&c.flow_id, Pin::new("12345678"), &ctx()).await.unwrap_err();
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
        let sent_event = h.events_of(AuditKind::PinSent).pop().unwrap();
        assert_eq!(sent_event.outcome, Outcome::Decoy { reason }, "{login}");
        // One flow, one reference (never the flow id itself).
        assert!(requested.flow_ref.is_some() && requested.flow_ref != Some(decoy.flow_id.clone()));
        assert_eq!(requested.flow_ref, sent_event.flow_ref, "{login}");
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
    let h = Harness::builder()
        .policy(Policy { user_failures_before_block: 10, client_failures_before_block: 10, ..policy() })
        .build()
        .await;
    let c = h.sspr.begin_reset("nobody@example.org", &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ctx()).await.unwrap();
    for left in [4, 3, 2, 1] {
        assert!(matches!(
            h.sspr.verify_pin(&c.flow_id, Pin::new("00000000"), &ctx()).await,
            Err(Error::WrongPin { attempts_left }) if attempts_left == left
        ));
    }
    assert!(matches!(h.sspr.verify_pin(&c.flow_id, Pin::new("00000000"), &ctx()).await, Err(Error::PinVoided)));
}

#[tokio::test]
async fn unknown_logins_are_blocked_like_real_ones() {
    let h = Harness::new().await;
    let mut results = Vec::new();
    for login in ["nobody@example.org", ALICE] {
        for _ in 0..5 {
            let c = h.sspr.begin_reset(login, &ctx()).await.unwrap();
            h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
            let _ = h.sspr.verify_pin(&c.flow_id, Pin::new("00000000"), &ctx()).await;
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
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap();

    // A decoy accepts any well-formed guess the same way.
    let d = h.sspr.begin_reset("nobody@example.org", &ctx()).await.unwrap();
    h.sspr.send_pin(&d.flow_id, "email", Some("someone@else.example"), &ctx()).await.unwrap();
}

/// A notifier that takes `latency` of the manual clock's time per message, like a mail relay.
#[derive(Debug)]
struct SlowNotifier {
    outbox: sspr_core::memory::Outbox,
    clock: sspr_core::ManualClock,
    latency: Duration,
}

#[sspr_core::async_trait]
impl sspr_core::Notifier for SlowNotifier {
    async fn send(&self, n: &sspr_core::notice::Notification) -> Result<(), sspr_core::BackendError> {
        self.clock.advance(self.latency);
        self.outbox.send(n).await
    }
}

async fn padded_engine(latency: Duration) -> (sspr_core::Sspr, sspr_core::ManualClock, sspr_core::memory::Outbox) {
    let clock = sspr_core::ManualClock::new(START);
    let outbox = sspr_core::memory::Outbox::new();
    let sspr = sspr_core::Sspr::builder()
        .directory(sspr_core::memory::MemoryDirectory::with_users(users()).unwrap())
        .notifier(SlowNotifier { outbox: outbox.clone(), clock: clock.clone(), latency })
        .clock(clock.clone())
        .timer(clock.clone())
        .policy(Policy { min_response_ms: 750, ..policy() })
        .secret_key(key())
        .build()
        .unwrap();
    sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    let update = sspr_core::ContactUpdate {
        email: sspr_core::ContactChange::Set(ALICE_MAIL.into()),
        phone: sspr_core::ContactChange::Set(ALICE_PHONE.into()),
    };
    sspr.update_contacts(&admin(), ALICE, update, &ctx()).await.unwrap();
    (sspr, clock, outbox)
}

/// How long `f` took on the manual clock.
async fn took<T>(clock: &sspr_core::ManualClock, f: impl std::future::Future<Output = T>) -> (T, Duration) {
    use sspr_core::Clock;
    let start = clock.now();
    let out = f.await;
    (out, (clock.now() - start).unsigned_abs())
}

#[tokio::test]
async fn minimum_response_time_pads_real_and_unknown_logins_alike() {
    let (sspr, clock, outbox) = padded_engine(Duration::from_millis(300)).await;
    let ms = |d: Duration| d.as_millis();
    let (real, t_real) = took(&clock, sspr.begin_reset(ALICE, &ctx())).await;
    let (decoy, t_decoy) = took(&clock, sspr.begin_reset("nobody@example.org", &ctx())).await;
    assert_eq!((ms(t_real), ms(t_decoy)), (750, 750));

    // The real send waits for the relay twice (the PIN, and the notice to the phone): 600 ms,
    // padded to 750; the decoy's sends nothing and is padded from 0.
    let (sent, t_real) = took(&clock, sspr.send_pin(&real.unwrap().flow_id, "email", None, &ctx())).await;
    sent.unwrap();
    let (_, t_decoy) = took(&clock, sspr.send_pin(&decoy.unwrap().flow_id, "email", None, &ctx())).await;
    assert_eq!((ms(t_real), ms(t_decoy)), (750, 750));
    assert_eq!(outbox.messages().len(), 2);

    // Errors are padded too (a rate limit must not answer faster than a success).
    let (limited, t) = took(&clock, sspr.send_pin(&"0".repeat(32), "email", None, &ctx())).await;
    assert!(matches!(limited, Err(Error::Expired)));
    assert_eq!(ms(t), 750);
    // Malformed input is refused at once: its syntax says nothing about an account.
    let (bad, t) = took(&clock, sspr.begin_reset("\0", &ctx())).await;
    assert!(matches!(bad, Err(Error::InvalidInput { .. })));
    assert_eq!(ms(t), 0);
}

#[tokio::test]
async fn a_notifier_slower_than_the_minimum_is_not_padded_further() {
    let (sspr, clock, _) = padded_engine(Duration::from_millis(1000)).await;
    let c = sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    let (_, t) = took(&clock, sspr.send_pin(&c.flow_id, "email", None, &ctx())).await;
    assert_eq!(t.as_millis(), 2000);
}

/// Outside any async runtime (inside tokio the builder takes tokio's timer).
#[test]
fn a_minimum_response_time_needs_a_timer() {
    let built = sspr_core::Sspr::builder()
        .directory(sspr_core::memory::MemoryDirectory::new())
        .notifier(sspr_core::memory::Outbox::new())
        .policy(Policy { min_response_ms: 500, ..Policy::default() })
        .secret_key(key())
        .build();
    assert!(matches!(built, Err(Error::Config(reason)) if reason.contains("timer")));
}

/// What an outsider sees of one answer: the variant and its numbers, never an address.
fn seen<T>(r: &Result<T, Error>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

/// An attacker who knows a login but not its PINs runs a long script against it: begins from
/// three addresses, sends, resends inside and after the cooldown, past the flow's and the
/// user's caps, by both methods, guesses until the PIN dies, the delays start and a client is
/// blocked, completes unverified flows, waits an hour and starts again. Every answer, step by
/// step, must be the same for a real account as for each kind of login that cannot reset.
async fn transcript(login: &str) -> Vec<String> {
    let h = Harness::new().await;
    let mut t = Vec::new();
    let ip = |n: u8| sspr_core::RequestContext::from_ip(format!("198.51.100.{n}").parse().unwrap());
    let mut flows = Vec::new();
    for round in 0..2u8 {
        for n in 0..7u8 {
            let c = h.sspr.begin_reset(login, &ip(n % 3 + 1)).await;
            t.push(format!("r{round} begin {n}: {}", seen(&c)));
            let Ok(c) = c else { continue };
            // How many methods a decoy shows is drawn per login, as real users differ.
            let method = c.methods[0].id.clone();
            for s in 0..4 {
                let sent = h.sspr.send_pin(&c.flow_id, &method, None, &ip(n % 3 + 1)).await;
                t.push(format!("r{round} send {n}.{s} {method}: {}", seen(&sent)));
                if s == 1 {
                    h.advance(Duration::from_secs(61));
                }
            }
            flows.push((c.flow_id, n % 3 + 1));
        }
        for (i, (flow, n)) in flows.iter().enumerate() {
            for g in 0..3 {
                let v = h.sspr.verify_pin(flow, sspr_core::Pin::new("00000000"), &ip(*n)).await;
                t.push(format!("r{round} verify {i}.{g}: {}", seen(&v)));
            }
            let done = h.sspr.complete_reset(flow, sspr_core::NewPassword::Temporary, &ip(*n)).await;
            t.push(format!("r{round} complete {i}: {}", seen(&done)));
        }
        h.advance(Duration::from_secs(3700));
        flows.clear();
    }
    t
}

#[tokio::test]
async fn a_long_attack_script_gets_the_same_answers_for_real_and_decoy_logins() {
    let real = transcript(ALICE).await;
    for login in ["nobody@example.org", DISABLED, OUTSIDER, NOT_ENABLED, NO_CONTACT, ADMIN] {
        let other = transcript(login).await;
        for (i, (a, b)) in real.iter().zip(&other).enumerate() {
            assert_eq!(a, b, "step {i} differs between {ALICE} and {login}");
        }
        assert_eq!(real.len(), other.len(), "{login}");
    }
}

/// A notifier that holds its thread while it talks to the relay, as one written in a host
/// language does (a Python `def send` calling `smtplib`, a C `send` completing after its SMTP
/// exchange): a blocking wait inside `send`, no `await` for the engine to step away at.
#[derive(Debug)]
struct BlockingRelay {
    outbox: sspr_core::memory::Outbox,
    relay: Duration,
}

#[sspr_core::async_trait]
impl sspr_core::Notifier for BlockingRelay {
    async fn send(&self, n: &sspr_core::notice::Notification) -> Result<(), sspr_core::BackendError> {
        std::thread::sleep(self.relay);
        self.outbox.send(n).await
    }
}

/// THREAT_MODEL 12.17. With real padding (the system clock, tokio's timer and spawner), a
/// notifier blocking 600 ms inside `send`: a real account's `send_pin` answers in the padded
/// time of an unknown login's (before: the delivery's first step ran in the answer, 604 ms
/// against 302 ms), and the PIN is delivered all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notifier_blocking_inside_send_does_not_lengthen_a_padded_answer() {
    let outbox = sspr_core::memory::Outbox::new();
    let sspr = sspr_core::Sspr::builder()
        .directory(sspr_core::memory::MemoryDirectory::with_users(users()).unwrap())
        .notifier(BlockingRelay { outbox: outbox.clone(), relay: Duration::from_millis(600) })
        .policy(Policy { min_response_ms: 300, ..policy() })
        .secret_key(key())
        .build()
        .unwrap();
    sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    let update = sspr_core::ContactUpdate {
        email: sspr_core::ContactChange::Set(ALICE_MAIL.into()),
        phone: sspr_core::ContactChange::Keep,
    };
    sspr.update_contacts(&admin(), ALICE, update, &ctx()).await.unwrap();
    let mut took = Vec::new();
    for login in [ALICE, "nobody@example.org"] {
        let c = sspr.begin_reset(login, &ctx()).await.unwrap();
        #[allow(clippy::disallowed_methods)] // what a prober measures is real time
        let started = std::time::Instant::now();
        sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
        took.push(started.elapsed());
    }
    let (real, unknown) = (took[0].as_millis(), took[1].as_millis());
    assert!(real < unknown + 150, "real {real} ms, unknown {unknown} ms");
    sspr.flush_deliveries().await;
    assert_eq!(outbox.messages().len(), 1, "the PIN was delivered");
}
