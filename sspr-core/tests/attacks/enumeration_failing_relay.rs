//! Attack: with the mail relay failing, `send_pin` for a real account answers `Backend` while
//! an unknown login's answers `Ok`; after a rollback, a resend would also tell them apart
//! (the decoy is in its cooldown, the rolled-back real flow is not).
//! Defence: a delivery failure is retried off the request path and recorded in the audit
//! trail; the caller gets the decoy's answer and the flow is not rolled back.

use sspr_core::Pin;
use std::time::Duration;

use sspr_core::{AuditKind, Outcome};

use crate::rig::{default_policy, rig, seen};
use crate::support::{ALICE, ALICE_MAIL, DISABLED, ctx};

#[tokio::test(start_paused = true)]
async fn failing_mail_relay_tells_real_from_unknown_by_send_pin_error() {
    let r = rig(default_policy()).await;
    r.relay.fault.fail(true);
    let mut answers = Vec::new();
    for login in [ALICE, "nobody@example.org", DISABLED] {
        let c = r.sspr.begin_reset(login, &ctx()).await.unwrap();
        let sent = r.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await;
        let again = r.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await;
        let verify = r.sspr.verify_pin(&c.flow_id, Pin::new("00000000"), &ctx()).await;
        answers.push((seen(&sent), seen(&again), seen(&verify)));
    }
    assert!(answers[0].0 == "Ok", "{answers:?}");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");

    // The truth is in the audit trail, with the masked destination only.
    tokio::time::sleep(Duration::from_secs(600)).await;
    let failed: Vec<_> =
        r.events_of(AuditKind::PinSent).into_iter().filter(|e| matches!(e.outcome, Outcome::Failed { .. })).collect();
    assert_eq!(failed.len(), 1, "one failed delivery recorded: {failed:?}");
    let destination = failed[0].destination.clone().unwrap();
    assert!(destination.contains('*') && destination != ALICE_MAIL, "{destination}");
    assert!(r.relay.fault.calls() > 1, "an unavailable relay is retried");
}

/// A relay so slow that deliveries pile up: beyond the cap a PIN is not sent (audited), and
/// the caller is answered as always; `flush_deliveries` waits for those in flight.
#[tokio::test(start_paused = true)]
async fn a_full_delivery_queue_answers_like_any_other_send() {
    use std::sync::Arc;

    use crate::rig::{Relay, VirtualClock};
    use crate::support::{BOB, BOB_MAIL, admin, key, users};

    let relay = Arc::new(Relay::default());
    let sspr = sspr_core::Sspr::builder()
        .directory(sspr_core::memory::MemoryDirectory::with_users(users()).unwrap())
        .notifier_arc(relay.clone())
        .audit(sspr_core::memory::MemoryAuditSink::new())
        .clock(VirtualClock::new())
        .policy(default_policy())
        .secret_key(key())
        .max_pending_deliveries(1)
        .build()
        .unwrap();
    for (login, mail) in [(ALICE, ALICE_MAIL), (BOB, BOB_MAIL)] {
        sspr.set_enabled(&admin(), login, true, &ctx()).await.unwrap();
        let update = sspr_core::ContactUpdate {
            email: sspr_core::ContactChange::Set(mail.into()),
            phone: sspr_core::ContactChange::Keep,
        };
        sspr.update_contacts(&admin(), login, update, &ctx()).await.unwrap();
    }
    relay.fault.slow(Duration::from_secs(30));
    let mut answers = Vec::new();
    for login in [ALICE, BOB] {
        let c = sspr.begin_reset(login, &ctx()).await.unwrap();
        answers.push(seen(&sspr.send_pin(&c.flow_id, "email", None, &ctx()).await));
    }
    assert_eq!(answers, ["Ok", "Ok"]);
    let started = tokio::time::Instant::now();
    sspr.flush_deliveries().await;
    assert!(started.elapsed() >= Duration::from_secs(29), "flush waited for the slow delivery");
    assert!(relay.outbox.last_pin_to(ALICE_MAIL).is_some(), "the first was delivered");
    assert!(relay.outbox.last_pin_to(BOB_MAIL).is_none(), "the second found the queue full");
}
