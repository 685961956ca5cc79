//! Attack: with a slow mail relay, `send_pin` for a real account waits for the relay while
//! an unknown login's answers at once, so the answer's timing tells real from unknown.
//! Defence: deliveries leave the request path (the engine's spawner runs them) and answers
//! are padded by default.

use sspr_core::Pin;
use std::time::Duration;

use crate::rig::{default_policy, rig, timed};
use crate::support::{ALICE, ALICE_MAIL, ALICE_PHONE, DISABLED, ctx};

#[tokio::test(start_paused = true)]
async fn slow_mail_relay_tells_real_from_unknown_by_send_pin_timing() {
    for relay_ms in [200, 2000] {
        let r = rig(default_policy()).await;
        r.relay.fault.slow(Duration::from_millis(relay_ms));
        let mut took = Vec::new();
        for login in [ALICE, "nobody@example.org", DISABLED] {
            let (c, t_begin) = timed(r.sspr.begin_reset(login, &ctx())).await;
            let c = c.unwrap();
            let (sent, t_send) = timed(r.sspr.send_pin(&c.flow_id, "email", None, &ctx())).await;
            sent.unwrap();
            let (err, t_verify) = timed(r.sspr.verify_pin(&c.flow_id, Pin::new("00000000"), &ctx())).await;
            assert!(err.is_err());
            took.push((login, t_begin, t_send, t_verify));
        }
        let real = took[0];
        for other in &took[1..] {
            assert_eq!((real.1, real.2, real.3), (other.1, other.2, other.3), "relay {relay_ms} ms: {took:?}");
        }
        // The real PIN and the notice to the phone still arrive, after the answer.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(r.relay.outbox.last_pin_to(ALICE_MAIL).is_some(), "relay {relay_ms} ms: the PIN was delivered");
        assert_eq!(r.relay.outbox.messages_to(ALICE_PHONE).len(), 1, "relay {relay_ms} ms: the other contact was told");
    }
}
