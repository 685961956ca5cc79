//! Attack: with the mail relay failing, `send_pin` for a real account answers `Backend` while
//! an unknown login's answers `Ok`; after a rollback, a resend would also tell them apart
//! (the decoy is in its cooldown, the rolled-back real flow is not).
//! Defence: a delivery failure is retried off the request path and recorded in the audit
//! trail; the caller gets the decoy's answer and the flow is not rolled back.

use std::time::Duration;

use sspr_core::{AuditKind, Outcome};

use crate::rig::{rig, seen};
use crate::support::{ALICE, ALICE_MAIL, DISABLED, ctx, policy};

#[tokio::test(start_paused = true)]
async fn failing_mail_relay_tells_real_from_unknown_by_send_pin_error() {
    let r = rig(policy()).await;
    r.relay.fault.fail(true);
    let mut answers = Vec::new();
    for login in [ALICE, "nobody@example.org", DISABLED] {
        let c = r.sspr.begin_reset(login, &ctx()).await.unwrap();
        let sent = r.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await;
        let again = r.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await;
        let verify = r.sspr.verify_pin(&c.flow_id, "00000000", &ctx()).await;
        answers.push((seen(&sent), seen(&again), seen(&verify)));
    }
    assert!(answers[0].0 == "Ok", "{answers:?}");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");

    // The truth is in the audit trail, with the masked destination only.
    tokio::time::sleep(Duration::from_secs(600)).await;
    let failed: Vec<_> = r
        .events_of(AuditKind::PinSent)
        .into_iter()
        .filter(|e| matches!(e.outcome, Outcome::Failed { .. }))
        .collect();
    assert_eq!(failed.len(), 1, "one failed delivery recorded: {failed:?}");
    let destination = failed[0].destination.clone().unwrap();
    assert!(destination.contains('*') && destination != ALICE_MAIL, "{destination}");
    assert!(r.relay.fault.calls() > 1, "an unavailable relay is retried");
}
