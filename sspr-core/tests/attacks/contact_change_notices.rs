//! Issue 11 item 12: every change of contacts by the user must reach every contact registered
//! before it, at once, so the owner hears of a phisher's edits. Changes made in steps used to
//! escape: once a contact was removed, later changes were told only to what was left.

use sspr_core::notice::Message;
use sspr_core::{ContactChange, ContactUpdate};

use crate::support::*;

const PHISHER_MAIL: &str = "phisher@evil.example";
const PHISHER_PHONE: &str = "+14155550199";

fn told_of_change(h: &Harness, to: &str) -> bool {
    h.outbox.messages_to(to).iter().any(|n| matches!(n.message, Message::ContactsChanged { .. }))
}

#[tokio::test]
async fn phisher_registering_after_clearing_every_contact_goes_unheard() {
    let h = Harness::new().await;
    let clear = ContactUpdate { email: ContactChange::Clear, phone: ContactChange::Clear };
    h.user_sets(ALICE, clear).await;
    h.outbox.clear();

    let add = ContactUpdate { email: ContactChange::Set(PHISHER_MAIL.into()), ..Default::default() };
    h.user_sets(ALICE, add).await;
    for removed in [ALICE_MAIL, ALICE_PHONE] {
        assert!(told_of_change(&h, removed), "{removed} must hear that the phisher registered an address");
    }
    assert!(!told_of_change(&h, PHISHER_MAIL), "the new address is not told of its own registration");
}

#[tokio::test]
async fn phisher_replacing_contacts_one_at_a_time_silences_the_first() {
    let h = Harness::new().await;
    let email = ContactUpdate { email: ContactChange::Set(PHISHER_MAIL.into()), ..Default::default() };
    h.user_sets(ALICE, email).await;
    h.outbox.clear();

    let phone = ContactUpdate { phone: ContactChange::Set(PHISHER_PHONE.into()), ..Default::default() };
    h.user_sets(ALICE, phone).await;
    // The replaced address, the phone being replaced, and the phisher's address still cooling off.
    for before in [ALICE_MAIL, ALICE_PHONE, PHISHER_MAIL] {
        assert!(told_of_change(&h, before), "{before} was registered before the change and must be told");
    }
    assert!(!told_of_change(&h, PHISHER_PHONE));
}
