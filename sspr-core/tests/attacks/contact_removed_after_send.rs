//! Attack: a thief with the victim's phone (or mailbox) begins a reset and has a PIN sent to
//! it. The victim hears of it (the "reset requested" notice to their other contacts says "if
//! this was not you, contact your IT support"), and the helpdesk, or the victim signed in,
//! removes the stolen number. `send_pin` refuses a destination that is no longer registered,
//! but the PIN already sent still verified and the reset completed: the thief set the
//! password minutes after the number was taken off the account.
//! Defence: `complete_reset` checks that every destination the flow proved is still a usable
//! contact of the user (the enrollment it already reads), and refuses with `Expired`
//! otherwise, nothing written.

use sspr_core::{ContactChange, ContactUpdate, Error, NewPassword, Password, Pin};

use crate::support::{ALICE, ALICE_MAIL, ALICE_PHONE, Harness, INITIAL_PASSWORD, admin, ctx};

async fn password_unchanged(h: &Harness) -> bool {
    let alice = h.sspr.status(ALICE).await.unwrap().user_id;
    matches!(
        sspr_core::Directory::authenticate(&h.directory, &alice, &Password::new(INITIAL_PASSWORD)).await,
        Ok(sspr_core::backend::Authentication::Accepted)
    )
}

#[tokio::test]
async fn a_pin_sent_to_a_number_removed_since_still_completes_the_reset() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "sms", ALICE_PHONE).await;
    // The helpdesk takes the stolen number off the account.
    let clear_phone = ContactUpdate { phone: ContactChange::Clear, ..Default::default() };
    h.sspr.update_contacts(&admin(), ALICE, clear_phone, &ctx()).await.unwrap();
    let verified = h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await;
    let completed = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(
        matches!(completed, Err(Error::Expired)),
        "a PIN to a removed number must not complete the reset: verify {verified:?}, complete {completed:?}"
    );
    assert!(password_unchanged(&h).await, "nothing written");
}

#[tokio::test]
async fn a_flow_verified_before_its_address_was_replaced_does_not_complete() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let replace = ContactUpdate { email: ContactChange::Set("alice.new@mail.example".into()), ..Default::default() };
    h.sspr.update_contacts(&admin(), ALICE, replace, &ctx()).await.unwrap();
    assert!(matches!(h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await, Err(Error::Expired)));
    assert!(password_unchanged(&h).await, "nothing written");
}

#[tokio::test]
async fn a_change_to_the_other_contact_does_not_stop_the_reset() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let clear_phone = ContactUpdate { phone: ContactChange::Clear, ..Default::default() };
    h.sspr.update_contacts(&admin(), ALICE, clear_phone, &ctx()).await.unwrap();
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.temporary_password.is_some());
}
