//! A reader of the shared state store (a replica, a backup, `MONITOR`, a PostgreSQL dump)
//! reads a user's pending contact proof: it held the address or phone number being proven in
//! clear (JSON under `sspr/contact-proof/<subject>`), so the reader learned the new private
//! address a user was registering, before it was even saved. And a writer of the store who
//! changed the value, or copied another user's proof under this user's key, had it read as it
//! stood: a changed destination or expiry was judged, and a wrong code counted.

use std::sync::Arc;
use std::time::Duration;

use sspr_core::{Actor, AuditKind, Channel, Error, StateStore};

use crate::flow_id_in_store::Watched;
use crate::support::*;

/// The address Alice proves: long, so that any part of it in a value would show.
const NEW_MAIL: &str = "alice.hidden.refuge@private-shelter.example";
const NEW_PHONE: &str = "+447400900777";
const BOB_NEW_MAIL: &str = "bob.elsewhere@other-place.example";
const PROOF_PREFIX: &str = "sspr/contact-proof/";

async fn request(h: &Harness, login: &str, channel: Channel, value: &str) -> sspr_core::ContactProof {
    h.sspr.request_contact_proof(&Actor::User, login, channel, value, &ctx()).await.unwrap()
}

async fn confirm(h: &Harness, login: &str, proof_id: &str, code: &str) -> sspr_core::Result<sspr_core::Contacts> {
    h.sspr.confirm_contact_proof(&Actor::User, login, proof_id, code, &ctx()).await
}

/// The key of the pending proof written since the store had seen `since` writes.
fn proof_key_since(store: &Watched, since: usize) -> String {
    let seen = store.seen();
    let keys: std::collections::BTreeSet<String> =
        seen[since..].iter().map(|(key, _)| key.clone()).filter(|key| key.starts_with(PROOF_PREFIX)).collect();
    assert_eq!(keys.len(), 1, "one proof key written: {keys:?}");
    keys.into_iter().next().unwrap()
}

/// A user asks for a code to a new address, then to a new number (which replaces the first
/// proof), and types a wrong code for each (which rewrites the proof). Every key and every
/// value written to the store is read: none holds the address, its local part or its domain,
/// nor the number, in any case. On main the proof's JSON named them both.
#[tokio::test]
async fn a_store_reader_finds_no_address_or_number_being_proven() {
    let store = Arc::new(Watched::default());
    let h = Harness::builder().store(store.clone()).build().await;
    let since = store.seen().len();
    let by_mail = request(&h, ALICE, Channel::Email, NEW_MAIL).await;
    let code = h.outbox.last_proof_code_to(NEW_MAIL).unwrap();
    assert!(matches!(confirm(&h, ALICE, &by_mail.proof_id, &Harness::wrong(&code)).await, Err(Error::WrongPin { .. })));
    let by_sms = request(&h, ALICE, Channel::Sms, NEW_PHONE).await;
    let code = h.outbox.last_proof_code_to(NEW_PHONE).unwrap();
    assert!(matches!(confirm(&h, ALICE, &by_sms.proof_id, &Harness::wrong(&code)).await, Err(Error::WrongPin { .. })));

    let written = &store.seen()[since..];
    assert!(written.iter().filter(|(key, _)| key.starts_with(PROOF_PREFIX)).count() >= 4, "{written:?}");
    let (local, domain) = NEW_MAIL.split_once('@').unwrap();
    let secrets = [NEW_MAIL, local, domain, NEW_PHONE, &NEW_PHONE[1..], &NEW_PHONE[3..]];
    for (key, value) in written {
        let (key_text, value_text) = (key.to_lowercase(), String::from_utf8_lossy(value).to_lowercase());
        for secret in secrets {
            let secret = secret.to_lowercase();
            assert!(!key_text.contains(&secret), "{secret} is in the store key {key}");
            assert!(!value_text.contains(&secret), "{secret} is in the value of {key}");
        }
    }
    // What the store holds now, read back: the same.
    for (key, _) in written {
        if let Some(stored) = store.inner.get(key, h.now()).await.unwrap() {
            let text = String::from_utf8_lossy(&stored.value).to_lowercase();
            assert!(secrets.iter().all(|s| !text.contains(&s.to_lowercase())), "a secret is in the value of {key}");
        }
    }
    // Every pending proof's value is of one length, whatever the address's length: a short
    // address and a number too.
    let short = request(&h, BOB, Channel::Email, "b@x.example").await;
    let lengths: std::collections::BTreeSet<usize> =
        store.seen().iter().filter(|(key, _)| key.starts_with(PROOF_PREFIX)).map(|(_, value)| value.len()).collect();
    assert_eq!(lengths.len(), 1, "proof values of different lengths tell addresses apart: {lengths:?}");
    assert!(!short.proof_id.is_empty());
}

/// A writer of the store changes Alice's pending proof (any byte, cut short, emptied), or
/// copies Bob's pending proof under Alice's key (or Alice's under Bob's): each reads as no
/// pending proof (`Expired`, which carries nothing), and changes nothing (no attempt counted,
/// no value written, no contact saved). Put back as it was, Alice's proof confirms. On main a
/// changed value was read as it stood (a changed address or expiry judged, a wrong code
/// counted), and a moved one counted the code typed as a wrong code.
#[tokio::test]
async fn a_changed_cut_or_moved_proof_reads_as_expired_and_changes_nothing() {
    let store = Arc::new(Watched::default());
    let h = Harness::builder().store(store.clone()).build().await;
    let since = store.seen().len();
    let alices = request(&h, ALICE, Channel::Email, NEW_MAIL).await;
    let alice_key = proof_key_since(&store, since);
    let since = store.seen().len();
    let bobs = request(&h, BOB, Channel::Email, BOB_NEW_MAIL).await;
    let bob_key = proof_key_since(&store, since);
    assert_ne!(alice_key, bob_key);
    let (alice_code, bob_code) =
        (h.outbox.last_proof_code_to(NEW_MAIL).unwrap(), h.outbox.last_proof_code_to(BOB_NEW_MAIL).unwrap());
    let alice_stored = store.inner.get(&alice_key, h.now()).await.unwrap().unwrap();
    let bob_stored = store.inner.get(&bob_key, h.now()).await.unwrap().unwrap();
    let until = h.now() + Duration::from_secs(15 * 60);
    let (failed, changed) =
        (h.events_of(AuditKind::ContactProofFailed).len(), h.events_of(AuditKind::ContactsChanged).len());

    let mut changes: Vec<Vec<u8>> = (0..alice_stored.value.len())
        .map(|i| {
            let mut v = alice_stored.value.clone();
            v[i] ^= 0x01;
            v
        })
        .collect();
    let len = alice_stored.value.len();
    changes.extend([
        alice_stored.value[..len - 1].to_vec(),
        alice_stored.value[..len / 2].to_vec(),
        Vec::new(),
        vec![0; len],
        bob_stored.value.clone(),
    ]);
    let mut version = alice_stored.version;
    for (i, changed) in changes.iter().enumerate() {
        // Byte `i` changed, then: cut by one byte, cut in half, emptied, zeros, Bob's proof.
        let what = if i < len { format!("byte {i} changed") } else { format!("the value cut or moved ({})", i - len) };
        version = store.inner.put(&alice_key, changed, Some(version), until, h.now()).await.unwrap().unwrap();
        for (proof_id, code) in [(&alices.proof_id, &alice_code), (&bobs.proof_id, &bob_code)] {
            let answer = confirm(&h, ALICE, proof_id, code).await;
            assert!(matches!(answer, Err(Error::Expired)), "{what}: the proof was read: {answer:?}");
        }
        let now = store.inner.get(&alice_key, h.now()).await.unwrap().unwrap();
        assert_eq!((&now.value, now.version), (changed, version), "{what}: a refused confirmation wrote");
    }
    // Alice's proof under Bob's key does not confirm for Bob either.
    let bob_version = store.inner.put(&bob_key, &alice_stored.value, Some(bob_stored.version), until, h.now()).await;
    let bob_version = bob_version.unwrap().unwrap();
    for (proof_id, code) in [(&alices.proof_id, &alice_code), (&bobs.proof_id, &bob_code)] {
        let answer = confirm(&h, BOB, proof_id, code).await;
        assert!(matches!(answer, Err(Error::Expired)), "a moved proof was read: {answer:?}");
    }
    let now = store.inner.get(&bob_key, h.now()).await.unwrap().unwrap();
    assert_eq!((&now.value, now.version), (&alice_stored.value, bob_version), "a refused confirmation wrote");

    // Nothing was counted, told or saved.
    assert_eq!(h.events_of(AuditKind::ContactProofFailed).len(), failed, "an attempt was counted");
    assert_eq!(h.events_of(AuditKind::ContactsChanged).len(), changed, "a contact was saved");
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap().email.unwrap().value, ALICE_MAIL);
    assert_eq!(h.sspr.contacts(BOB).await.unwrap().email.unwrap().value, BOB_MAIL);

    // Put back as it was, Alice's proof confirms, and saves the address its code went to.
    store.inner.put(&alice_key, &alice_stored.value, Some(version), until, h.now()).await.unwrap().unwrap();
    let saved = confirm(&h, ALICE, &alices.proof_id, &alice_code).await.unwrap();
    assert_eq!(saved.email.unwrap().value, NEW_MAIL);
}
