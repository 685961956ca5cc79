//! Issue 11 item 1: a phisher who has the password clears every contact, then registers their
//! own address. It used to count as a "first registration" (no contact stored), so it was
//! usable at once, and the "password reset" notice then went to the phisher alone.

use sspr_core::Pin;
use std::time::Duration;

use sspr_core::notice::Message;
use sspr_core::{ContactChange, ContactUpdate, NewPassword};

use crate::support::*;

const PHISHER_MAIL: &str = "phisher@evil.example";

fn clear_all() -> ContactUpdate {
    ContactUpdate { email: ContactChange::Clear, phone: ContactChange::Clear }
}

fn set_email(v: &str) -> ContactUpdate {
    ContactUpdate { email: ContactChange::Set(v.into()), ..Default::default() }
}

#[tokio::test]
async fn phisher_clears_every_contact_then_registers_own_address_without_cooling_off() {
    let h = Harness::new().await;
    h.user_sets(ALICE, clear_all()).await;
    let view = h.user_sets(ALICE, set_email(PHISHER_MAIL)).await;

    // The phisher's address waits out the cooling-off like any other change by the user.
    assert_eq!(view.email.unwrap().usable_from, START + Duration::from_secs(86_400));
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ctx()).await.unwrap();
    assert!(h.outbox.last_pin_to(PHISHER_MAIL).is_none(), "no PIN may reach the phisher during the cooling-off");
}

#[tokio::test]
async fn phisher_who_waits_out_the_cooling_off_still_alerts_the_removed_contacts_on_reset() {
    let h = Harness::new().await;
    let replace = ContactUpdate { email: ContactChange::Set(PHISHER_MAIL.into()), phone: ContactChange::Clear };
    h.user_sets(ALICE, replace).await;
    h.advance(Duration::from_secs(86_400 + 60));
    h.outbox.clear();

    let (flow, pin) = h.pin_for(ALICE, "email", PHISHER_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();

    // The owner's removed address and phone hear of the reset, not only the phisher.
    for removed in [ALICE_MAIL, ALICE_PHONE] {
        let told = h.outbox.messages_to(removed);
        assert!(
            told.iter().any(|n| matches!(n.message, Message::PasswordReset { .. })),
            "{removed} was removed by the phisher and must hear of the reset; got {told:?}"
        );
    }
}
