//! Attack: the per-destination cap counts the real address. An attacker registers a guessed
//! address on their own account and asks for PINs until that destination is over its cap;
//! then the victim's `send_pin` answers `RateLimited` exactly when the guess is the victim's
//! address (and the other way round), confirming a private address.
//! Defence: a destination over its cap answers like success and sends nothing (audited), so
//! the cap protects the mailbox without telling anyone that it did.

use sspr_core::{AuditKind, Outcome};

use crate::rig::{default_policy, rig, seen};
use crate::support::{ALICE, ALICE_MAIL, BOB, ctx};

#[tokio::test(start_paused = true)]
async fn registering_a_victims_address_on_ones_own_account_confirms_it_by_rate_limit() {
    let mut answers = Vec::new();
    for guess in [ALICE_MAIL, "someone.else@mail.example"] {
        let r = rig(default_policy()).await;
        // The attacker's own account (bob) carries the guess.
        r.enroll(BOB, Some(guess), None).await;
        // Hammer the guessed destination through the attacker's account, one flow each.
        for _ in 0..r.sspr.policy().destination_sends_per_hour {
            let c = r.sspr.begin_reset(BOB, &ctx()).await.unwrap();
            r.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
        }
        // Then ask for the victim.
        let c = r.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
        let victim = r.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await;
        answers.push((guess, seen(&victim)));
        if guess == ALICE_MAIL {
            // The cap still protects the mailbox, and the audit says so.
            let cap = r.sspr.policy().destination_sends_per_hour as usize;
            assert_eq!(r.relay.outbox.messages_to(ALICE_MAIL).len(), cap, "nothing beyond the cap reached the mailbox");
            assert!(
                r.events_of(AuditKind::RateLimited)
                    .iter()
                    .any(|e| e.outcome == Outcome::Limited { limit: "destination".into() }),
                "the over-cap destination is audited"
            );
        }
    }
    assert_eq!(answers[0].1, answers[1].1, "{answers:?}");
}
