//! The contact store over Entra authentication methods, on the stand-in: the conformance
//! suite, both directions (Entra → sspr, sspr → Entra), and the trust rules for a method
//! changed outside sspr (cooling-off from first sight, the replaced contact told of resets).

use std::sync::Arc;
use std::time::Duration;

use sspr_backends::graph::{GraphContactConfig, GraphContactStore};
use sspr_core::memory::{MemoryAuditSink, MemoryContactStore, MemoryStateStore, Outbox};
use sspr_core::testing::contact_store_conformance;
use sspr_core::time::OffsetDateTime;
use sspr_core::{
    Actor, AuditKind, ContactChange, ContactStore, ContactUpdate, DecoyReason, Destination, EmailAddress, ManualClock,
    Outcome, Policy, RequestContext, SecretKey, Sspr, UserId,
};

use crate::directory::{directory, tenant};
use crate::standin::{StandIn, User, user};

const START: i64 = 1_800_000_000;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(OffsetDateTime::from_unix_timestamp(START).unwrap()))
}

fn store(standin: &StandIn, clock: &Arc<ManualClock>) -> (GraphContactStore, Arc<MemoryContactStore>) {
    let records = Arc::new(MemoryContactStore::new());
    let store = GraphContactStore::with_clock(
        &directory(standin),
        records.clone(),
        GraphContactConfig::default(),
        clock.clone(),
    );
    (store, records)
}

#[tokio::test]
async fn graph_passes_the_contact_store_conformance_suite() {
    let clock = clock();
    // The suite's users, named by the clock's time.
    let named = |id: String| User { id, ..user("x@contoso.com", "X") };
    let users = vec![named(format!("sspr-conformance/alice-{START}")), named(format!("sspr-conformance/bob-{START}"))];
    let standin = StandIn::start(tenant(users)).await;
    let (store, _) = store(&standin, &clock);
    contact_store_conformance(&store, clock.as_ref()).await;
}

#[tokio::test]
async fn contacts_saved_through_sspr_become_entra_methods() {
    let clock = clock();
    let olga = user("olga@contoso.com", "Olga");
    let id = olga.id.clone();
    let standin = StandIn::start(tenant(vec![olga])).await;
    let (store, _) = store(&standin, &clock);
    let now = OffsetDateTime::from_unix_timestamp(START).unwrap();
    let enrollment = sspr_core::backend::Enrollment {
        enabled: true,
        email: Some(sspr_core::backend::StoredContact {
            value: EmailAddress::parse("olga.private@example.org").unwrap(),
            added_at: now,
            usable_from: now,
        }),
        phone: Some(sspr_core::backend::StoredContact {
            value: sspr_core::PhoneNumber::parse("+12065550123").unwrap(),
            added_at: now,
            usable_from: now,
        }),
        ..Default::default()
    };
    assert!(store.save(&UserId::new(id.clone()), &enrollment, 0).await.unwrap());
    let methods = standin.user(&id);
    assert_eq!(methods.email_methods.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>(), ["olga.private@example.org"]);
    assert_eq!(methods.phone_methods[0].1, "+1 2065550123", "Graph's format: country code, a space, the number");
    assert_eq!(methods.phone_methods[0].2, "mobile");
    let got = store.get(&UserId::new(id)).await.unwrap().unwrap();
    assert_eq!(got.email, enrollment.email, "read back as saved: sspr's own, usable as registered");
}

#[tokio::test]
async fn a_method_set_in_entra_is_usable_after_a_cooling_off_from_first_sight() {
    let clock = clock();
    let mut pia = user("pia@contoso.com", "Pia");
    pia.phone_methods = vec![("3179e48a-750b-4051-897c-87b9720928f7".into(), "+44 7400900123".into(), "mobile".into())];
    pia.email_methods = vec![("e1".into(), "pia.home@example.org".into())];
    let id = UserId::new(pia.id.clone());
    let standin = StandIn::start(tenant(vec![pia])).await;
    let (store, records) = store(&standin, &clock);
    let first = store.get(&id).await.unwrap().unwrap();
    let day = OffsetDateTime::from_unix_timestamp(START + 86_400).unwrap();
    assert_eq!(first.phone.as_ref().unwrap().value.as_str(), "+447400900123");
    assert_eq!(first.phone.as_ref().unwrap().usable_from, day, "registered in Entra, not through sspr: cooling off");
    assert!(!first.enabled, "Entra's methods do not enable sspr");
    // The sighting was written: an hour later the cooling-off has not restarted.
    assert!(records.get(&id).await.unwrap().is_some());
    clock.advance(Duration::from_secs(3600));
    let later = store.get(&id).await.unwrap().unwrap();
    assert_eq!(later.phone.as_ref().unwrap().usable_from, day);
    assert_eq!(later.email.as_ref().unwrap().usable_from, day);
}

#[tokio::test]
async fn a_cooling_off_meant_as_never_keeps_the_method_unusable_without_a_panic() {
    // An operator who trusts no method set in Entra writes the largest number: the date it
    // gave overflowed the calendar, a panic at every read of the user's contacts.
    let clock = clock();
    let mut pia = user("pia@contoso.com", "Pia");
    pia.email_methods = vec![("e1".into(), "pia.home@example.org".into())];
    let id = UserId::new(pia.id.clone());
    let standin = StandIn::start(tenant(vec![pia])).await;
    let store = GraphContactStore::with_clock(
        &directory(&standin),
        Arc::new(MemoryContactStore::new()),
        GraphContactConfig { changed_contact_cooling_off_secs: u64::MAX },
        clock.clone(),
    );
    let got = tokio::spawn(async move { store.get(&id).await }).await.expect("reading the contacts panicked");
    let email = got.unwrap().unwrap().email.unwrap();
    let century = OffsetDateTime::from_unix_timestamp(START + 100 * 365 * 86_400).unwrap();
    assert!(email.usable_from >= century, "never usable in practice: {}", email.usable_from);
}

/// The attack: whoever holds a user's Entra session (or a stolen one) swaps the user's e-mail
/// method for their own, then asks sspr for a reset. The new address must not get a PIN
/// before the cooling-off, and the old one hears of the reset.
#[tokio::test]
async fn a_method_swapped_in_entra_cools_off_and_the_old_contact_is_told() {
    let clock = clock();
    let quinn = user("quinn@contoso.com", "Quinn");
    let id = quinn.id.clone();
    let standin = StandIn::start(tenant(vec![quinn])).await;
    let (store, _) = store(&standin, &clock);
    let audit = MemoryAuditSink::new();
    let outbox = Outbox::new();
    let sspr = Sspr::builder()
        .directory(directory(&standin))
        .contacts(store.clone())
        .notifier(outbox.clone())
        .store(MemoryStateStore::new())
        .audit(audit.clone())
        .clock(clock.as_ref().clone())
        .secret_key(SecretKey::from_hex(&"5a".repeat(32)).unwrap())
        .policy(Policy::from_toml("min_response_ms = 0\n").unwrap())
        .build()
        .unwrap();
    let ctx = RequestContext::default();
    let helpdesk = Actor::Admin("helpdesk".into());
    sspr.set_enabled(&helpdesk, "quinn@contoso.com", true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set("quinn.home@example.org".into()), ..Default::default() };
    sspr.update_contacts(&helpdesk, "quinn@contoso.com", update, &ctx).await.unwrap();
    assert_eq!(standin.user(&id).email_methods[0].1, "quinn.home@example.org", "written to Entra");
    sspr.begin_reset("quinn@contoso.com", &ctx).await.unwrap();
    let last = || audit.events().into_iter().rev().find(|e| e.kind == AuditKind::ResetRequested).unwrap().outcome;
    assert_eq!(last(), Outcome::Success, "the registered address works");

    // Swapped in Entra, outside sspr.
    standin.with(|t| t.users[0].email_methods[0].1 = "attacker@evil.example".into());
    clock.advance(Duration::from_secs(120));
    sspr.begin_reset("quinn@contoso.com", &ctx).await.unwrap();
    assert_eq!(last(), Outcome::Decoy { reason: DecoyReason::NoContact }, "the new address is cooling off");
    let enrollment = store.get(&UserId::new(id.clone())).await.unwrap().unwrap();
    let old = Destination::Email(EmailAddress::parse("quinn.home@example.org").unwrap());
    assert!(enrollment.history.removed.iter().any(|r| r.contact == old), "the replaced address is remembered");
    assert!(enrollment.enabled, "the record's own fields are kept");

    // After the cooling-off the new address works, and a reset tells the old one too.
    clock.advance(Duration::from_secs(86_400));
    let challenge = sspr.begin_reset("quinn@contoso.com", &ctx).await.unwrap();
    assert_eq!(last(), Outcome::Success);
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    sspr.flush_deliveries().await;
    assert!(outbox.last_pin_to("attacker@evil.example").is_some());
    assert!(
        !outbox.messages_to("quinn.home@example.org").is_empty(),
        "the replaced address hears that a reset was requested"
    );
}

/// R.45: whoever holds a user's Entra session swaps the e-mail method five times, each new
/// address seen by sspr (an anonymous `begin_reset` reads it). Only four removed contacts are
/// remembered, and the oldest was forgotten first: the owner's own address, the one the
/// cooling-off exists to warn, fell out of the history, and the reset after the cooling-off
/// told nobody but the attacker's own addresses.
#[tokio::test]
async fn swapping_a_method_in_entra_again_and_again_does_not_silence_the_owners_contact() {
    let clock = clock();
    let quinn = user("quinn@contoso.com", "Quinn");
    let id = quinn.id.clone();
    let standin = StandIn::start(tenant(vec![quinn])).await;
    let (store, _) = store(&standin, &clock);
    let outbox = Outbox::new();
    let sspr = Sspr::builder()
        .directory(directory(&standin))
        .contacts(store.clone())
        .notifier(outbox.clone())
        .store(MemoryStateStore::new())
        .audit(MemoryAuditSink::new())
        .clock(clock.as_ref().clone())
        .secret_key(SecretKey::from_hex(&"5a".repeat(32)).unwrap())
        .policy(Policy::from_toml("min_response_ms = 0\n").unwrap())
        .build()
        .unwrap();
    let ctx = RequestContext::default();
    let helpdesk = Actor::Admin("helpdesk".into());
    sspr.set_enabled(&helpdesk, "quinn@contoso.com", true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set("quinn.home@example.org".into()), ..Default::default() };
    sspr.update_contacts(&helpdesk, "quinn@contoso.com", update, &ctx).await.unwrap();

    for n in 1..=5 {
        standin.with(|t| t.users[0].email_methods[0].1 = format!("attacker{n}@evil.example"));
        clock.advance(Duration::from_secs(120));
        sspr.begin_reset("quinn@contoso.com", &ctx).await.unwrap();
    }
    let owner = Destination::Email(EmailAddress::parse("quinn.home@example.org").unwrap());
    let enrollment = store.get(&UserId::new(id)).await.unwrap().unwrap();
    let now = sspr_core::Clock::now(clock.as_ref());
    assert!(
        enrollment.recently_removed(now).any(|c| *c == owner),
        "the owner's address is no longer remembered: {:?}",
        enrollment.history.removed.iter().map(|r| format!("{:?}", r.contact)).collect::<Vec<_>>()
    );

    clock.advance(Duration::from_secs(86_400));
    let before = outbox.messages_to("quinn.home@example.org").len();
    let challenge = sspr.begin_reset("quinn@contoso.com", &ctx).await.unwrap();
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    sspr.flush_deliveries().await;
    assert!(outbox.last_pin_to("attacker5@evil.example").is_some(), "the last address has cooled off");
    assert!(
        outbox.messages_to("quinn.home@example.org").len() > before,
        "the owner's address hears that a reset was requested"
    );
}

/// R.46: one of the two method lists answers `404` while the other finds the user (a faulty
/// Graph, replicas that do not agree yet). The store read that as "the user has no
/// methods": the registered address was written to sspr's record as removed outside sspr,
/// and at the next good answer it was "new", cooling off for a day. One bad answer took the
/// user's trusted contact away for 24 hours.
#[tokio::test]
async fn one_method_list_answering_not_found_does_not_untrust_the_registered_contacts() {
    let clock = clock();
    let olga = user("olga@contoso.com", "Olga");
    let id = UserId::new(olga.id.clone());
    let standin = StandIn::start(tenant(vec![olga])).await;
    let (store, records) = store(&standin, &clock);
    let now = OffsetDateTime::from_unix_timestamp(START).unwrap();
    let enrollment = sspr_core::backend::Enrollment {
        enabled: true,
        email: Some(sspr_core::backend::StoredContact {
            value: EmailAddress::parse("olga.private@example.org").unwrap(),
            added_at: now,
            usable_from: now,
        }),
        ..Default::default()
    };
    assert!(store.save(&id, &enrollment, 0).await.unwrap());
    let saved = records.get(&id).await.unwrap();

    clock.advance(Duration::from_secs(60));
    standin.with(|t| t.faults.push_back(crate::standin::Fault::NotFound));
    let faulty = store.get(&id).await;
    assert!(faulty.is_err(), "a list that cannot be read is an error, not an empty list: {faulty:?}");
    assert_eq!(records.get(&id).await.unwrap(), saved, "nothing written to sspr's record");

    let again = store.get(&id).await.unwrap().unwrap();
    assert_eq!(again.email, enrollment.email, "the registered address is still the one registered, usable");
}
