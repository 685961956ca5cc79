//! Issue 14 item 1: a new contact must prove possession before it counts. Before it, a user
//! session (a phisher who has the password, or a typo) saved any address at once; only the
//! cooling-off stood between it and the next reset. Each test here is an attack on the proof
//! itself: saving without it, confirming something else than what the code went to, reusing,
//! guessing, racing, or turning the proof into a way to flood someone's mailbox.

use std::time::Duration;

use sspr_core::notice::{Message, PinPurpose};
use sspr_core::{
    Actor, AuditKind, Channel, ContactChange, ContactUpdate, Error, NotAllowedReason, Policy, RequestContext,
};

use crate::support::*;

const PHISHER_MAIL: &str = "phisher@evil.example";
const VICTIM_MAIL: &str = "victim@elsewhere.example";

fn set_email(v: &str) -> ContactUpdate {
    ContactUpdate { email: ContactChange::Set(v.into()), ..Default::default() }
}

async fn request(h: &Harness, login: &str, address: &str) -> sspr_core::ContactProof {
    h.sspr.request_contact_proof(&Actor::User, login, Channel::Email, address, &ctx()).await.unwrap()
}

async fn confirm(h: &Harness, login: &str, proof_id: &str, code: &str) -> sspr_core::Result<sspr_core::Contacts> {
    h.sspr.confirm_contact_proof(&Actor::User, login, proof_id, code, &ctx()).await
}

#[tokio::test]
async fn a_session_can_no_longer_save_a_new_address_without_its_code() {
    let h = Harness::new().await;
    let before = h.sspr.contacts(ALICE).await.unwrap();
    let refused = h.sspr.update_contacts(&Actor::User, ALICE, set_email(PHISHER_MAIL), &ctx()).await;
    assert!(matches!(refused, Err(Error::NotAllowed { reason: NotAllowedReason::ContactUnproven })), "{refused:?}");
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap(), before, "nothing may change");
    assert!(h.outbox.messages().is_empty(), "nothing may be sent");
    // Removing a contact needs no proof.
    let cleared = ContactUpdate { phone: ContactChange::Clear, ..Default::default() };
    assert!(h.sspr.update_contacts(&Actor::User, ALICE, cleared, &ctx()).await.unwrap().phone.is_none());
}

#[tokio::test]
async fn the_code_goes_to_the_new_address_only_and_saves_exactly_that_address() {
    let h = Harness::new().await;
    let proof = request(&h, ALICE, "alice.new@mail.example").await;
    assert_eq!(proof.channel, Channel::Email);
    assert_eq!(proof.masked, "a***@m***.example");
    let sent = h.outbox.messages();
    assert!(
        matches!(sent.as_slice(), [n] if n.to.as_str() == "alice.new@mail.example"
            && matches!(n.message, Message::Pin { purpose: PinPurpose::ContactProof, .. })),
        "one code, to the new address only: {sent:?}"
    );
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap().email.unwrap().value, ALICE_MAIL, "not saved before the code");
    let code = h.outbox.last_proof_code_to("alice.new@mail.example").unwrap();
    let view = confirm(&h, ALICE, &proof.proof_id, &code).await.unwrap();
    let email = view.email.unwrap();
    assert_eq!(email.value, "alice.new@mail.example");
    assert_eq!(email.usable_from, START + Duration::from_secs(86_400), "a proven change still cools off");
    // The old contacts are told, as for any change.
    for old in [ALICE_MAIL, ALICE_PHONE] {
        assert!(h.outbox.messages_to(old).iter().any(|n| matches!(n.message, Message::ContactsChanged { .. })));
    }
}

#[tokio::test]
async fn a_code_read_at_one_address_cannot_confirm_another() {
    // The phisher asks for a code to the victim's address (which they cannot read), then one
    // to their own, and types their own code with the victim's proof: the first proof was
    // replaced, and the second saves only the address its code went to.
    let h = Harness::new().await;
    let victims = request(&h, ALICE, VICTIM_MAIL).await;
    let phishers = request(&h, ALICE, PHISHER_MAIL).await;
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    assert!(matches!(confirm(&h, ALICE, &victims.proof_id, &code).await, Err(Error::Expired)));
    let view = confirm(&h, ALICE, &phishers.proof_id, &code).await.unwrap();
    assert_eq!(view.email.unwrap().value, PHISHER_MAIL, "the address the code went to, nothing else");
}

#[tokio::test]
async fn a_users_proof_cannot_be_confirmed_for_another_user() {
    let h = Harness::new().await;
    let bobs = request(&h, BOB, PHISHER_MAIL).await;
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    assert!(matches!(confirm(&h, ALICE, &bobs.proof_id, &code).await, Err(Error::Expired)));
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap().email.unwrap().value, ALICE_MAIL);
}

#[tokio::test]
async fn a_code_works_once() {
    let h = Harness::new().await;
    let proof = request(&h, ALICE, PHISHER_MAIL).await;
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    let changes = h.events_of(AuditKind::ContactsChanged).len();
    confirm(&h, ALICE, &proof.proof_id, &code).await.unwrap();
    assert!(matches!(confirm(&h, ALICE, &proof.proof_id, &code).await, Err(Error::AlreadyUsed)));
    assert_eq!(h.events_of(AuditKind::ContactsChanged).len(), changes + 1);
}

#[tokio::test]
async fn guessing_voids_the_proof_and_the_right_code_then_saves_nothing() {
    let h = Harness::new().await;
    let proof = request(&h, ALICE, VICTIM_MAIL).await;
    let code = h.outbox.last_proof_code_to(VICTIM_MAIL).unwrap();
    let wrong = Harness::wrong(&code);
    let max = h.sspr.policy().max_wrong_pins;
    for attempt in 1..=max {
        let answer = confirm(&h, ALICE, &proof.proof_id, &wrong).await;
        if attempt < max {
            assert!(matches!(answer, Err(Error::WrongPin { attempts_left }) if attempts_left == max - attempt));
        } else {
            assert!(matches!(answer, Err(Error::PinVoided)), "{answer:?}");
        }
    }
    assert!(matches!(confirm(&h, ALICE, &proof.proof_id, &code).await, Err(Error::PinVoided)));
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap().email.unwrap().value, ALICE_MAIL);
    assert_eq!(h.events_of(AuditKind::ContactProofFailed).len(), max as usize);
    // A malformed code is refused before it is counted.
    let again = request(&h, ALICE, VICTIM_MAIL).await;
    let bad = confirm(&h, ALICE, &again.proof_id, "12ab").await;
    assert!(matches!(bad, Err(Error::InvalidInput { field: "code", .. })), "{bad:?}");
}

#[tokio::test]
async fn a_code_expires_with_the_pin_lifetime() {
    let h = Harness::new().await;
    let proof = request(&h, ALICE, PHISHER_MAIL).await;
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    h.advance(Duration::from_secs(h.sspr.policy().pin_lifetime_secs));
    assert!(matches!(confirm(&h, ALICE, &proof.proof_id, &code).await, Err(Error::Expired)));
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap().email.unwrap().value, ALICE_MAIL);
}

#[tokio::test]
async fn two_racing_confirmations_save_once() {
    let h = Harness::new().await;
    let proof = request(&h, ALICE, PHISHER_MAIL).await;
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    let changes = h.events_of(AuditKind::ContactsChanged).len();
    let (a, b) = tokio::join!(confirm(&h, ALICE, &proof.proof_id, &code), confirm(&h, ALICE, &proof.proof_id, &code));
    assert!(a.is_ok() != b.is_ok(), "exactly one wins: {a:?} {b:?}");
    assert!(matches!(a.err().or(b.err()), Some(Error::AlreadyUsed)));
    assert_eq!(h.events_of(AuditKind::ContactsChanged).len(), changes + 1);
}

#[tokio::test]
async fn the_proof_cannot_flood_an_address() {
    // One user asking again and again is refused out loud after the policy's cap; many users
    // aiming at one address send at most the destination's cap, and are not told when it
    // is reached (it would tell them how busy that address is).
    let h = Harness::new().await;
    let cap = h.sspr.policy().contact_proofs_per_hour;
    for _ in 0..cap {
        request(&h, ALICE, VICTIM_MAIL).await;
    }
    let refused = h.sspr.request_contact_proof(&Actor::User, ALICE, Channel::Email, VICTIM_MAIL, &ctx()).await;
    assert!(matches!(refused, Err(Error::RateLimited { .. })), "{refused:?}");

    let h = Harness::new().await;
    let destination_cap = h.sspr.policy().destination_sends_per_hour as usize;
    for user in [ALICE, BOB, NO_CONTACT] {
        for _ in 0..3 {
            let other = RequestContext::from_parts(Some("198.51.100.9"), None).unwrap();
            h.sspr.request_contact_proof(&Actor::User, user, Channel::Email, VICTIM_MAIL, &other).await.unwrap();
        }
    }
    assert_eq!(h.outbox.messages_to(VICTIM_MAIL).len(), destination_cap);
    assert!(
        h.events_of(AuditKind::ContactProofSent)
            .iter()
            .any(|e| e.outcome == sspr_core::Outcome::Limited { limit: "destination".into() })
    );
}

#[tokio::test]
async fn the_proof_cannot_flood_an_address_spelt_in_other_cases() {
    // Mail servers deliver `Victim@…` and `VICTIM@…` to one mailbox (the engine itself
    // confirms a full address ignoring case), so one address in many spellings must share
    // one destination cap: before, each spelling had a cap of its own.
    let h = Harness::new().await;
    let destination_cap = h.sspr.policy().destination_sends_per_hour as usize;
    let spellings = ["victim", "Victim", "vIctim", "viCtim", "vicTim", "victIm", "victiM", "VICTIM", "VIctim"];
    let mut spellings = spellings.iter().map(|local| format!("{local}@elsewhere.example"));
    for user in [ALICE, BOB, NO_CONTACT] {
        for address in spellings.by_ref().take(3) {
            let other = RequestContext::from_parts(Some("198.51.100.9"), None).unwrap();
            h.sspr.request_contact_proof(&Actor::User, user, Channel::Email, &address, &other).await.unwrap();
        }
    }
    assert_eq!(h.outbox.messages_to(VICTIM_MAIL).len(), destination_cap, "one mailbox, one cap");
}

/// Text-message pumping through the contact proof: a signed-in user (one phished password is
/// enough) names the numbers, and each proof is one paid SMS.
#[tokio::test]
async fn no_proof_code_goes_out_by_sms_while_sms_is_off() {
    let h = Harness::builder().policy(Policy { sms_enabled: false, ..policy() }).build().await;
    let before = h.sspr.contacts(ALICE).await.unwrap();
    let refused = h.sspr.request_contact_proof(&Actor::User, ALICE, Channel::Sms, "+447400900999", &ctx()).await;
    assert!(matches!(&refused, Err(Error::InvalidInput { field, .. }) if *field == "channel"), "{refused:?}");
    assert!(h.outbox.messages().is_empty(), "no text message may be sent: {:?}", h.outbox.messages());
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap(), before, "nothing may change");
    // An administrator's request is refused alike: SMS is off for every path.
    let refused = h.sspr.request_contact_proof(&admin(), BOB, Channel::Sms, "+447400900998", &ctx()).await;
    assert!(matches!(&refused, Err(Error::InvalidInput { field, .. }) if *field == "channel"), "{refused:?}");
    assert!(h.outbox.messages().is_empty());
    // E-mail proofs are not affected.
    request(&h, ALICE, "alice.new@mail.example").await;
}

#[tokio::test]
async fn sms_proof_codes_draw_on_the_deployments_sms_budget() {
    // Each user may ask for `contact_proofs_per_hour` codes, each to another number, from
    // many addresses: without the global budget, N accounts send 5N paid messages an hour.
    let h = Harness::builder().policy(Policy { sms_budget_per_hour: 2, ..policy() }).build().await;
    let numbers = ["+447400900901", "+447400900902", "+447400900903", "+447400900904"];
    let mut results = Vec::new();
    for (i, (user, number)) in [ALICE, BOB, NO_CONTACT, ALICE].iter().zip(numbers).enumerate() {
        let from = RequestContext::from_parts(Some(&format!("198.51.100.{}", i + 1)), None).unwrap();
        results.push(h.sspr.request_contact_proof(&Actor::User, user, Channel::Sms, number, &from).await);
    }
    let sent: Vec<_> = h.outbox.messages().into_iter().filter(|n| n.to.channel() == Channel::Sms).collect();
    assert_eq!(sent.len(), 2, "the budget is 2 an hour: {sent:?}");
    assert!(results[..2].iter().all(Result::is_ok), "{results:?}");
    assert!(results[2..].iter().all(|r| matches!(r, Err(Error::RateLimited { .. }))), "{results:?}");
    assert!(
        h.events_of(AuditKind::ContactProofSent)
            .iter()
            .any(|e| e.outcome == sspr_core::Outcome::Limited { limit: "sms_budget".into() })
    );
    // E-mail proofs do not draw on it.
    request(&h, BOB, "bob.new@mail.example").await;
}

#[tokio::test]
async fn the_code_is_in_no_audit_event_answer_or_debug_text() {
    let h = Harness::new().await;
    let proof = request(&h, ALICE, PHISHER_MAIL).await;
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    let wrong = confirm(&h, ALICE, &proof.proof_id, &Harness::wrong(&code)).await.unwrap_err();
    confirm(&h, ALICE, &proof.proof_id, &code).await.unwrap();
    let texts = [
        format!("{proof:?}"),
        format!("{wrong:?} {wrong}"),
        format!("{:?}", h.audit.events()),
        serde_json::to_string(&h.audit.events()).unwrap(),
        format!("{:?}", h.outbox.messages()),
    ];
    for text in texts {
        assert!(!text.contains(&code), "the code leaked: {text}");
    }
}

#[tokio::test]
async fn admins_skip_the_proof_unless_the_policy_asks_for_it() {
    let h = Harness::new().await;
    h.sspr.update_contacts(&admin(), ALICE, set_email("by.admin@mail.example"), &ctx()).await.unwrap();

    // The same backends under a policy that wants the proof from admins too.
    let strict = sspr_core::Sspr::builder()
        .directory(h.directory.clone())
        .contacts(h.contacts.clone())
        .notifier(h.outbox.clone())
        .store(h.store.clone())
        .clock(h.clock.clone())
        .timer(h.clock.clone())
        .policy(Policy { admin_contacts_need_proof: true, ..policy() })
        .secret_key(key())
        .build()
        .unwrap();
    let refused = strict.update_contacts(&admin(), ALICE, set_email("other@mail.example"), &ctx()).await;
    assert!(matches!(refused, Err(Error::NotAllowed { reason: NotAllowedReason::ContactUnproven })));
    let proof =
        strict.request_contact_proof(&admin(), ALICE, Channel::Email, "other@mail.example", &ctx()).await.unwrap();
    let code = h.outbox.last_proof_code_to("other@mail.example").unwrap();
    let view = strict.confirm_contact_proof(&admin(), ALICE, &proof.proof_id, &code, &ctx()).await.unwrap();
    assert_eq!(view.email.unwrap().usable_from, START, "an admin's change is usable at once");
}

#[tokio::test]
async fn a_user_not_enabled_cannot_ask_for_a_code() {
    let h = Harness::new().await;
    let refused = h.sspr.request_contact_proof(&Actor::User, NOT_ENABLED, Channel::Email, PHISHER_MAIL, &ctx()).await;
    assert!(matches!(refused, Err(Error::NotAllowed { reason: NotAllowedReason::NotEnabled })), "{refused:?}");
    let bad = h.sspr.request_contact_proof(&Actor::User, ALICE, Channel::Sms, "+44 20 7946 0000", &ctx()).await;
    assert!(matches!(bad, Err(Error::InvalidInput { field: "phone", .. })), "a landline: {bad:?}");
    assert!(h.outbox.messages().is_empty());
}

/// A phisher signed in to the registration page keeps the session after the IT team
/// disables the account (or it expires) to shut them out. The session must change no contact
/// any more: a removal would cut the user off their own reset, and an address of the
/// phisher's proven now would be past its cooling-off when the account is enabled again,
/// ready for a reset of their own. An administrator repairing the account still may.
#[tokio::test]
async fn a_disabled_or_expired_account_changes_no_contact_from_a_session_kept_open() {
    use sspr_core::backend::AccountState;
    for state in
        [AccountState { disabled: true, ..Default::default() }, AccountState { expired: true, ..Default::default() }]
    {
        let h = Harness::new().await;
        // Asked for while the account still signed in.
        let proof = request(&h, ALICE, PHISHER_MAIL).await;
        let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
        h.directory.set_state(ALICE, state);
        let before = h.sspr.contacts(ALICE).await.unwrap();
        let shut = |r: &sspr_core::Result<sspr_core::Contacts>| {
            matches!(r, Err(Error::NotAllowed { reason: NotAllowedReason::AccountDisabled }))
        };
        let confirmed = confirm(&h, ALICE, &proof.proof_id, &code).await;
        assert!(shut(&confirmed), "{state:?}: confirmed {confirmed:?}");
        let requested =
            h.sspr.request_contact_proof(&Actor::User, ALICE, Channel::Email, "other@evil.example", &ctx()).await;
        assert!(
            matches!(requested, Err(Error::NotAllowed { reason: NotAllowedReason::AccountDisabled })),
            "{state:?}: requested {requested:?}"
        );
        let cleared = ContactUpdate { phone: ContactChange::Clear, ..Default::default() };
        let removed = h.sspr.update_contacts(&Actor::User, ALICE, cleared.clone(), &ctx()).await;
        assert!(shut(&removed), "{state:?}: removed {removed:?}");
        let reconfirmed = h.sspr.confirm_contacts(&Actor::User, ALICE, &ctx()).await;
        assert!(shut(&reconfirmed), "{state:?}: reconfirmed {reconfirmed:?}");
        assert_eq!(h.sspr.contacts(ALICE).await.unwrap(), before, "{state:?}: nothing may change");
        // The helpdesk repairing the account.
        let admin = Actor::Admin("helpdesk".into());
        assert!(h.sspr.update_contacts(&admin, ALICE, cleared, &ctx()).await.unwrap().phone.is_none());
    }
}

/// A phisher signed in to the registration page (or a host's own sign-in) while the account
/// is made privileged (added to Domain Admins). Every self-service door refuses a privileged
/// account, since contacts registered on it with a password alone would prepare its reset;
/// the session kept open went on proving the phisher's address and changing contacts. It
/// must change nothing any more; an administrator still sets a privileged user's contacts.
#[tokio::test]
async fn an_account_made_privileged_changes_no_contact_from_a_session_kept_open() {
    let h = Harness::new().await;
    // Asked for while the account was an ordinary one.
    let proof = request(&h, ALICE, PHISHER_MAIL).await;
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    let mut alice = users().into_iter().find(|u| u.login == ALICE).unwrap();
    alice.groups.push("CN=Domain Admins,CN=Users,DC=example,DC=org".into());
    h.directory.insert(alice).unwrap();
    let before = h.sspr.contacts(ALICE).await.unwrap();
    let refused = |r: &sspr_core::Result<sspr_core::Contacts>| {
        matches!(r, Err(Error::NotAllowed { reason: NotAllowedReason::Privileged }))
    };
    let confirmed = confirm(&h, ALICE, &proof.proof_id, &code).await;
    assert!(refused(&confirmed), "confirmed {confirmed:?}");
    let requested =
        h.sspr.request_contact_proof(&Actor::User, ALICE, Channel::Email, "other@evil.example", &ctx()).await;
    assert!(matches!(requested, Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })), "{requested:?}");
    let cleared = ContactUpdate { phone: ContactChange::Clear, ..Default::default() };
    let removed = h.sspr.update_contacts(&Actor::User, ALICE, cleared.clone(), &ctx()).await;
    assert!(refused(&removed), "removed {removed:?}");
    // Re-confirming marks the contacts fresh (out of an administrator's stale list).
    let reconfirmed = h.sspr.confirm_contacts(&Actor::User, ALICE, &ctx()).await;
    assert!(refused(&reconfirmed), "reconfirmed {reconfirmed:?}");
    assert!(h.events_of(AuditKind::ContactsConfirmed).is_empty(), "nothing confirmed");
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap(), before, "nothing may change");
    assert!(h.outbox.messages_to("other@evil.example").is_empty(), "no code sent");
    let admin = Actor::Admin("helpdesk".into());
    assert!(h.sspr.update_contacts(&admin, ALICE, cleared, &ctx()).await.unwrap().phone.is_none());
}

/// A phisher asked for a code to their address; an administrator, alerted, switched
/// self-service off for the user, and back on once the user's case was settled, within the
/// code's minutes. The proof started before the disable must not save the phisher's
/// address after the re-enable: the disable ends it.
#[tokio::test]
async fn a_proof_does_not_survive_an_admins_disable_and_re_enable() {
    let h = Harness::new().await;
    let proof = request(&h, ALICE, PHISHER_MAIL).await;
    let code = h.outbox.last_proof_code_to(PHISHER_MAIL).unwrap();
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    let before = h.sspr.contacts(ALICE).await.unwrap();
    let confirmed = confirm(&h, ALICE, &proof.proof_id, &code).await;
    assert!(matches!(confirmed, Err(Error::Expired)), "confirmed after the re-enable: {confirmed:?}");
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap(), before, "nothing may change");
    // A proof asked for after the re-enable works as ever.
    let proof = request(&h, ALICE, VICTIM_MAIL).await;
    let code = h.outbox.last_proof_code_to(VICTIM_MAIL).unwrap();
    confirm(&h, ALICE, &proof.proof_id, &code).await.unwrap();
}
