//! Attack: a helpdesk administrator (any `Actor::Admin`: the engine has no tiers) takes over a
//! privileged account under `PrivilegedMode::TwoMethods`. A recovery code is refused for a
//! privileged account whatever the mode ("a code is one factor", THREAT_MODEL 14.5a), but an
//! administrator's contact change was usable at once: set the domain admin's e-mail and mobile
//! to the helpdesk's own, begin a reset anonymously, read both PINs and set the password. Both
//! factors were the administrator's choice, which is the one-factor code by another door; the
//! owner's old contacts heard of the change in the same second the new ones became usable, and
//! were not told of the reset (an administrator's replacement was not remembered).
//! Defence: a contact an administrator sets on a privileged account cools off like a user's
//! (its first registration included), and the contacts it replaces are remembered and told of
//! the reset, so the owner and the old contacts have the cooling-off to react.

use std::time::Duration;

use sspr_core::{ContactChange, ContactUpdate, Error, NewPassword, Pin, Policy, PrivilegedMode};

use crate::support::{ADMIN, Harness, INITIAL_PASSWORD, ROOT_MAIL, ROOT_PHONE, admin, ctx, policy};

const HELPDESK_MAIL: &str = "helpdesk.desk@mail.example";
const HELPDESK_PHONE: &str = "+447400900999";

fn two_methods() -> Policy {
    Policy { privileged_mode: PrivilegedMode::TwoMethods, ..policy() }
}

/// The helpdesk sets both of the domain admin's contacts to its own and tries to reset it at
/// once: what `send_pin` by e-mail delivered, and whether the password changed.
async fn helpdesk_resets(h: &Harness) -> Result<(), String> {
    h.sspr
        .update_contacts(
            &admin(),
            ADMIN,
            ContactUpdate {
                email: ContactChange::Set(HELPDESK_MAIL.into()),
                phone: ContactChange::Set(HELPDESK_PHONE.into()),
            },
            &ctx(),
        )
        .await
        .map_err(|e| format!("update_contacts: {e}"))?;
    let c = h.sspr.begin_reset(ADMIN, &ctx()).await.map_err(|e| format!("begin: {e}"))?;
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.map_err(|e| format!("send email: {e}"))?;
    let Some(pin) = h.outbox.last_pin_to(HELPDESK_MAIL) else {
        return Err("no PIN reached the helpdesk's mailbox".into());
    };
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.map_err(|e| format!("verify email: {e}"))?;
    h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await.map_err(|e| format!("send sms: {e}"))?;
    let Some(pin) = h.outbox.last_pin_to(HELPDESK_PHONE) else {
        return Err("no PIN reached the helpdesk's phone".into());
    };
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.map_err(|e| format!("verify sms: {e}"))?;
    h.sspr.complete_reset(&c.flow_id, NewPassword::Temporary, &ctx()).await.map_err(|e| format!("complete: {e}"))?;
    Ok(())
}

fn root_password_unchanged(h: &Harness) -> bool {
    let root = h.directory.users().into_iter().find(|u| u.login == ADMIN).unwrap();
    h.directory.check_password(&root.id, INITIAL_PASSWORD).is_some()
}

#[tokio::test]
async fn a_helpdesk_admin_resets_an_enrolled_domain_admin_with_contacts_of_its_own() {
    let h = Harness::builder().policy(two_methods()).build().await;
    h.enroll(ADMIN, Some(ROOT_MAIL), Some(ROOT_PHONE)).await;
    h.advance(Duration::from_secs(h.sspr.policy().contact_cooling_off_secs + 1));
    h.outbox.clear();
    let taken = helpdesk_resets(&h).await;
    assert!(taken.is_err(), "the helpdesk reset the domain admin at once with contacts of its choice");
    assert!(root_password_unchanged(&h));
}

#[tokio::test]
async fn a_helpdesk_admin_resets_a_domain_admin_that_never_registered() {
    let h = Harness::builder().policy(two_methods()).build().await;
    h.sspr.set_enabled(&admin(), ADMIN, true, &ctx()).await.unwrap();
    let taken = helpdesk_resets(&h).await;
    assert!(taken.is_err(), "the helpdesk reset the domain admin at once with contacts of its choice");
    assert!(root_password_unchanged(&h));
}

#[tokio::test]
async fn the_old_contacts_hear_of_the_reset_once_the_admins_contacts_have_cooled_off() {
    let h = Harness::builder().policy(two_methods()).build().await;
    h.enroll(ADMIN, Some(ROOT_MAIL), Some(ROOT_PHONE)).await;
    h.advance(Duration::from_secs(h.sspr.policy().contact_cooling_off_secs + 1));
    let _ = helpdesk_resets(&h).await;
    assert!(!h.outbox.messages_to(ROOT_MAIL).is_empty(), "the owner's mailbox was told of the change");
    // The owner did not react: the new contacts become usable after the cooling-off.
    h.advance(Duration::from_secs(h.sspr.policy().contact_cooling_off_secs + 1));
    h.outbox.clear();
    let c = h.sspr.begin_reset(ADMIN, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    let pin = h.outbox.last_pin_to(HELPDESK_MAIL).expect("usable after the cooling-off");
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await.unwrap();
    let pin = h.outbox.last_pin_to(HELPDESK_PHONE).unwrap();
    h.sspr.verify_pin(&c.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
    h.outbox.clear();
    h.sspr.complete_reset(&c.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    h.sspr.flush_deliveries().await;
    assert!(!h.outbox.messages_to(ROOT_MAIL).is_empty(), "the replaced mailbox hears of the reset");
    assert!(!h.outbox.messages_to(ROOT_PHONE).is_empty(), "the replaced phone hears of the reset");
    // And the reset was not refused for another reason.
    assert!(!matches!(h.sspr.status(ADMIN).await, Err(Error::UnknownUser)));
}
