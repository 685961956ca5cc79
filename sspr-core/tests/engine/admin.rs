//! Registration and administration: enabling, contacts and their cooling-off, status.

use std::time::Duration;

use sspr_core::notice::{Message, PinPurpose};
use sspr_core::{Actor, AuditKind, ContactChange, ContactUpdate, Error, NotAllowedReason};

use crate::support::*;

fn set_email(v: &str) -> ContactUpdate {
    ContactUpdate { email: ContactChange::Set(v.into()), ..Default::default() }
}

#[tokio::test]
async fn a_contact_changed_by_the_user_cools_off_and_old_contacts_are_told() {
    let h = Harness::new().await;
    let view = h.user_sets(ALICE, set_email("new.alice@mail.example")).await;
    let email = view.email.unwrap();
    assert_eq!(email.value, "new.alice@mail.example");
    assert_eq!(email.usable_from, START + Duration::from_secs(86_400));

    // Both old contacts got the notice; the new address did not.
    for old in [ALICE_MAIL, ALICE_PHONE] {
        let n = h.outbox.messages_to(old);
        assert!(
            matches!(n.as_slice(), [x] if matches!(x.message, Message::ContactsChanged { by_admin: false })),
            "{old}"
        );
    }
    // The new address got only the code that proved it.
    let to_new = h.outbox.messages_to("new.alice@mail.example");
    assert!(
        matches!(to_new.as_slice(), [x] if matches!(x.message, Message::Pin { purpose: PinPurpose::ContactProof, .. })),
        "{to_new:?}"
    );
    let event = h.events_of(AuditKind::ContactsChanged).pop().unwrap();
    assert_eq!(event.actor, Some(Actor::User));

    // During the cooling-off the new address is not offered (the phone still is).
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    assert_eq!(c.methods.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["sms"]);
    h.advance(Duration::from_secs(86_400));
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    assert_eq!(c.methods[0].masked, "n***@m***.example");
}

#[tokio::test]
async fn an_admin_change_and_a_first_registration_are_usable_at_once() {
    let h = Harness::new().await;
    let view = h.sspr.update_contacts(&admin(), BOB, set_email("bob2@home.example"), &ctx()).await.unwrap();
    assert_eq!(view.email.unwrap().usable_from, START);
    assert!(matches!(h.outbox.messages_to(BOB_MAIL)[0].message, Message::ContactsChanged { by_admin: true }));

    // erin is enabled with no contact: her own first registration needs no cooling-off.
    let view = h.user_sets(NO_CONTACT, set_email("erin@home.example")).await;
    assert_eq!(view.email.unwrap().usable_from, START);
    let c = h.sspr.begin_reset(NO_CONTACT, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    assert!(h.outbox.last_pin_to("erin@home.example").is_some());
}

#[tokio::test]
async fn setting_the_same_contact_again_changes_nothing() {
    let h = Harness::new().await;
    let before = h.sspr.contacts(ALICE).await.unwrap();
    // The address already stored needs no proof: nothing to prove, nothing sent.
    let after = h.sspr.update_contacts(&Actor::User, ALICE, set_email(ALICE_MAIL), &ctx()).await.unwrap();
    assert_eq!(before, after);
    assert!(h.outbox.messages().is_empty());
}

#[tokio::test]
async fn a_contact_changed_after_the_pin_request_started_is_not_used() {
    let h = Harness::new().await;
    let c = h.sspr.begin_reset(BOB, &ctx()).await.unwrap();
    h.sspr.update_contacts(&admin(), BOB, set_email("bob-new@home.example"), &ctx()).await.unwrap();
    assert!(matches!(h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await, Err(Error::Expired)));
    assert!(h.outbox.last_pin_to(BOB_MAIL).is_none());
}

#[tokio::test]
async fn bad_contact_input_is_refused_and_changes_nothing() {
    let h = Harness::new().await;
    let before = h.sspr.contacts(ALICE).await.unwrap();
    let bad = ContactUpdate {
        email: ContactChange::Set("fine@example.org".into()),
        phone: ContactChange::Set("07400 900123".into()), // no country code
    };
    assert!(matches!(
        h.sspr.update_contacts(&admin(), ALICE, bad, &ctx()).await,
        Err(Error::InvalidInput { field: "phone", .. })
    ));
    for bad_mail in ["x@y", "a\r\nBcc: evil@example.org", "<script>@example.org"] {
        assert!(h.sspr.update_contacts(&admin(), ALICE, set_email(bad_mail), &ctx()).await.is_err(), "{bad_mail}");
    }
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap(), before);
    assert!(h.outbox.messages().is_empty());
}

#[tokio::test]
async fn clearing_a_contact() {
    let h = Harness::new().await;
    let update = ContactUpdate { phone: ContactChange::Clear, ..Default::default() };
    let view = h.sspr.update_contacts(&admin(), ALICE, update, &ctx()).await.unwrap();
    assert!(view.phone.is_none() && view.email.is_some());
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    assert_eq!(c.methods.len(), 1);
}

#[tokio::test]
async fn only_eligible_unprivileged_users_can_be_enabled_and_only_by_an_admin() {
    let h = Harness::new().await;
    assert!(matches!(
        h.sspr.set_enabled(&admin(), ADMIN, true, &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })
    ));
    assert!(matches!(
        h.sspr.set_enabled(&admin(), OUTSIDER, true, &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::Ineligible })
    ));
    assert!(matches!(
        h.sspr.set_enabled(&Actor::User, NOT_ENABLED, true, &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::AdminOnly })
    ));
    assert!(matches!(h.sspr.set_enabled(&admin(), "ghost@example.org", true, &ctx()).await, Err(Error::UnknownUser)));
    h.sspr.set_enabled(&admin(), NOT_ENABLED, true, &ctx()).await.unwrap();
    assert!(h.sspr.status(NOT_ENABLED).await.unwrap().enabled);
    let event = h.events_of(AuditKind::EnabledChanged).pop().unwrap();
    assert_eq!(event.actor, Some(admin()));

    // Disabling stops the reset at once.
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ctx()).await.unwrap();
    assert!(h.outbox.messages().is_empty());
}

#[tokio::test]
async fn a_user_registers_only_while_enabled_and_eligible() {
    let h = Harness::new().await;
    assert!(matches!(
        h.sspr.update_contacts(&Actor::User, NOT_ENABLED, set_email("f@home.example"), &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::NotEnabled })
    ));
    assert!(matches!(
        h.sspr.update_contacts(&admin(), OUTSIDER, set_email("c@home.example"), &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::Ineligible })
    ));
}

#[tokio::test]
async fn status_tells_an_admin_everything_but_the_secrets() {
    let h = Harness::new().await;
    let s = h.sspr.status(ALICE).await.unwrap();
    assert!(s.enabled && s.eligible && !s.privileged && !s.account_disabled && !s.account_locked);
    assert_eq!(s.display_name, "Alice Liddell");
    assert_eq!(s.email_masked.as_deref(), Some("a***@m***.example"));
    assert_eq!(s.phone_masked.as_deref(), Some("+44 ******* 23"));
    assert_eq!((s.blocked_until, s.last_reset_at), (None, None));
    let admin_status = h.sspr.status(ADMIN).await.unwrap();
    assert!(admin_status.privileged && !admin_status.enabled);
    assert!(h.sspr.status(DISABLED).await.unwrap().account_disabled);
    assert!(!h.sspr.status(OUTSIDER).await.unwrap().eligible);
    assert!(matches!(h.sspr.status("ghost@example.org").await, Err(Error::UnknownUser)));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["login"], ALICE);
}

#[tokio::test]
async fn eligibility_by_group() {
    let policy = sspr_core::Policy { eligible_groups: vec!["staff".into()], ..sspr_core::Policy::default() };
    let sspr = sspr_core::Sspr::builder()
        .directory(sspr_core::memory::MemoryDirectory::with_users(users()).unwrap())
        .notifier(sspr_core::memory::Outbox::new())
        .secret_key(key())
        .policy(policy)
        .build()
        .unwrap();
    // alice is in cn=staff; bob is in no group.
    assert!(sspr.status(ALICE).await.unwrap().eligible);
    assert!(!sspr.status(BOB).await.unwrap().eligible);
    sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    assert!(matches!(
        sspr.set_enabled(&admin(), BOB, true, &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::Ineligible })
    ));
}

fn set_phone(v: &str) -> ContactUpdate {
    ContactUpdate { phone: ContactChange::Set(v.into()), ..Default::default() }
}

#[tokio::test]
async fn a_landline_is_refused_naming_the_field_and_nothing_changes() {
    let h = Harness::new().await;
    let before = h.sspr.contacts(ALICE).await.unwrap();
    for actor in [Actor::User, admin()] {
        for number in ["+44 20 7946 0958", "+44 800 123 4567", "+44 7700 900123"] {
            match h.sspr.update_contacts(&actor, ALICE, set_phone(number), &ctx()).await {
                Err(Error::InvalidInput { field: "phone", reason }) => assert!(!reason.is_empty()),
                other => panic!("{number}: expected InvalidInput(phone), got {other:?}"),
            }
        }
    }
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap(), before);
    assert!(h.outbox.messages_to(ALICE_MAIL).is_empty(), "no notice of a change that did not happen");
}

#[tokio::test]
async fn a_national_number_is_read_in_the_policys_default_region_and_stored_in_e164() {
    let h = Harness::new().await;
    let refused = h.sspr.update_contacts(&admin(), BOB, set_phone("07400 900456"), &ctx()).await;
    assert!(matches!(refused, Err(Error::InvalidInput { field: "phone", .. })), "{refused:?}");
    let h =
        Harness::builder().policy(sspr_core::Policy { default_region: Some("GB".into()), ..policy() }).build().await;
    let view = h.sspr.update_contacts(&admin(), BOB, set_phone("07400 900456"), &ctx()).await.unwrap();
    let bob = h.directory.users().into_iter().find(|u| u.login == BOB).unwrap();
    let stored = sspr_core::ContactStore::get(&h.contacts, &bob.id).await.unwrap();
    let stored = stored.and_then(|e| e.phone).map(|p| p.value.as_str().to_owned());
    assert_eq!(stored.as_deref(), Some("+447400900456"));
    assert!(view.phone.is_some());
}

// ---- An administrator's read of a user's contacts (THREAT_MODEL R.31) ----

/// The admin's page shows the user's contacts in full, as `contacts` does, and the read is
/// audited: who read whose contacts, from where, and which (masked only, never the values).
#[tokio::test]
async fn an_admins_read_of_a_users_contacts_is_audited_with_the_contacts_masked() {
    let h = Harness::new().await;
    let own = h.sspr.contacts(ALICE).await.unwrap();
    assert!(h.events_of(AuditKind::ContactsViewed).is_empty(), "a user's own page is not an admin's read");

    let mut at_desk = ctx();
    at_desk.user_agent = Some("HelpdeskBrowser/1.0".into());
    let read = h.sspr.admin_contacts(&admin(), ALICE, &at_desk).await.unwrap();
    assert_eq!(read, own, "the same contacts, in full");
    assert_eq!(read.email.as_ref().unwrap().value, ALICE_MAIL);

    let viewed = h.events_of(AuditKind::ContactsViewed);
    let [event] = viewed.as_slice() else { panic!("one event per read: {viewed:?}") };
    let alice = h.sspr.status(ALICE).await.unwrap().user_id;
    assert_eq!(event.actor, Some(admin()));
    assert_eq!(event.user_id, Some(alice));
    assert_eq!(event.client_ip, ctx().client_ip);
    assert_eq!(event.user_agent.as_deref(), Some("HelpdeskBrowser/1.0"));
    assert_eq!(event.outcome, sspr_core::Outcome::Success);
    let masked = format!("{}, {}", read.email.unwrap().masked, read.phone.unwrap().masked);
    assert_eq!(event.destination.as_deref(), Some(masked.as_str()), "the contacts read, masked");
    let json = event.to_json();
    assert!(json.contains("\"kind\":\"contacts_viewed\""), "{json}");
    let every = h.events().iter().map(sspr_core::AuditEvent::to_json).collect::<String>();
    for full in [ALICE_MAIL, ALICE_PHONE, "900123"] {
        assert!(!every.contains(full), "{full} in the audit trail: {every}");
    }

    // A user with no contact: the read is audited, naming no destination.
    h.sspr.admin_contacts(&admin(), NO_CONTACT, &ctx()).await.unwrap();
    let event = h.events_of(AuditKind::ContactsViewed).pop().unwrap();
    assert_eq!(event.destination, None);
}

/// Only an administrator reads another user's contacts through `admin_contacts` (a user's own
/// page keeps `contacts`); a read refused or failed before anything was read records nothing,
/// as the other administrative operations do.
#[tokio::test]
async fn a_user_is_refused_and_a_failed_read_records_no_contacts_viewed() {
    let h = Harness::new().await;
    assert!(matches!(
        h.sspr.admin_contacts(&Actor::User, ALICE, &ctx()).await,
        Err(Error::NotAllowed { reason: NotAllowedReason::AdminOnly })
    ));
    assert!(matches!(h.sspr.admin_contacts(&admin(), "ghost@example.org", &ctx()).await, Err(Error::UnknownUser)));
    assert!(matches!(
        h.sspr.admin_contacts(&admin(), "bad\u{0}login", &ctx()).await,
        Err(Error::InvalidInput { field: "login", .. })
    ));
    let failing = Harness::builder()
        .contacts(|inner| std::sync::Arc::new(crate::change::FailingReads { inner }) as _)
        .build()
        .await;
    assert!(matches!(failing.sspr.admin_contacts(&admin(), ALICE, &ctx()).await, Err(Error::Backend { .. })));
    assert!(h.events_of(AuditKind::ContactsViewed).is_empty());
    assert!(failing.events_of(AuditKind::ContactsViewed).is_empty());
}
