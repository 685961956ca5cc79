//! Attack: with `confirm_full_address`, `send_pin` with the right full address waits for the
//! relay and a wrong one does not, so its timing confirms a guessed private address.
//! Defence: the delivery is off the request path and answers are padded by default; a wrong
//! guess makes the same backend calls.

use std::time::Duration;

use sspr_core::Policy;

use crate::rig::{default_policy, rig, seen, timed};
use crate::support::{ALICE, ALICE_MAIL, ctx};

#[tokio::test(start_paused = true)]
async fn full_address_confirmation_reveals_the_right_address_by_timing() {
    let r = rig(Policy { confirm_full_address: true, ..default_policy() }).await;
    r.relay.fault.slow(Duration::from_millis(200));
    let mut answers = Vec::new();
    for guess in [ALICE_MAIL, "alice.work@mail.example"] {
        let c = r.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
        let calls = r.contacts.fault.calls();
        let (sent, took) = timed(r.sspr.send_pin(&c.flow_id, "email", Some(guess), &ctx())).await;
        answers.push((guess, seen(&sent), took, r.contacts.fault.calls() - calls));
    }
    assert_eq!((&answers[0].1, answers[0].2, answers[0].3), (&answers[1].1, answers[1].2, answers[1].3), "{answers:?}");
    // The right guess still gets its PIN.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(r.relay.outbox.last_pin_to(ALICE_MAIL).is_some());
}
