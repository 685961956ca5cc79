//! Attack: only real users' flows read the contact store, so with the contact store failing a
//! real login gets `Backend` while an unknown (or disabled) one gets `Ok`, and with it slow a
//! real login's answers take longer.
//! Defence: decoys read the contact store too (for a synthetic user id that never exists).

use std::time::Duration;

use crate::rig::{default_policy, rig, seen, timed};
use crate::support::{ALICE, DISABLED, OUTSIDER, ctx};

const LOGINS: [&str; 4] = [ALICE, "nobody@example.org", DISABLED, OUTSIDER];

#[tokio::test(start_paused = true)]
async fn failing_contact_store_tells_real_from_unknown() {
    let r = rig(default_policy()).await;
    // begin_reset with the contact store down.
    r.contacts.fault.fail(true);
    let begun: Vec<_> = LOGINS.iter().map(|_| ()).collect::<Vec<_>>();
    let mut answers = Vec::new();
    for login in LOGINS {
        answers.push(seen(&r.sspr.begin_reset(login, &ctx()).await));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "begin_reset: {answers:?}");
    assert_eq!(begun.len(), LOGINS.len());

    // send_pin with the contact store going down between the two calls.
    r.contacts.fault.fail(false);
    let mut flows = Vec::new();
    for login in LOGINS {
        flows.push(r.sspr.begin_reset(login, &ctx()).await.unwrap().flow_id);
    }
    r.contacts.fault.fail(true);
    let mut answers = Vec::new();
    for flow in &flows {
        answers.push(seen(&r.sspr.send_pin(flow, "email", None, &ctx()).await));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "send_pin: {answers:?}");
}

#[tokio::test(start_paused = true)]
async fn slow_contact_store_tells_real_from_unknown() {
    let r = rig(default_policy()).await;
    r.contacts.fault.slow(Duration::from_millis(200));
    let mut seen_by_outsider = Vec::new();
    for login in LOGINS {
        let calls = r.contacts.fault.calls();
        let (c, t_begin) = timed(r.sspr.begin_reset(login, &ctx())).await;
        let (_, t_send) = timed(r.sspr.send_pin(&c.unwrap().flow_id, "email", None, &ctx())).await;
        seen_by_outsider.push((login, t_begin, t_send, r.contacts.fault.calls() - calls));
    }
    let real = seen_by_outsider[0];
    for other in &seen_by_outsider[1..] {
        assert_eq!((real.1, real.2, real.3), (other.1, other.2, other.3), "{seen_by_outsider:?}");
    }
}
