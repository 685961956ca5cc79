//! Issue: rotating the server key. The one key derives the PIN hashes, the store keys of blocks
//! and failure counts, and the decoy masks, so an operator who changed it (a staff member with
//! access left; a routine rotation) ended every pending reset, lifted every block and failure
//! count in force (the new key names other store keys: a blocked attacker just waited for the
//! rotation), and changed every unknown login's decoy mask (anyone who recorded masks before
//! could tell the decoys by their change). The engine now keeps a ring: the current key writes,
//! the previous keys ([`sspr_core::SsprBuilder::previous_keys`]) are read.
//!
//! Each test runs the attack twice over the same stores: against an engine given the new key
//! alone (the code before: the attack works, which shows the test can fail) and against one
//! given the new key and the old one as a previous key (it no longer works).

use std::sync::Arc;

use sspr_core::{Error, Pin, Policy, RequestContext, SecretKey, Sspr};

use crate::support::*;

fn next_seed() -> [u8; 32] {
    static SEED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(100);
    [SEED.fetch_add(1, std::sync::atomic::Ordering::SeqCst); 32]
}

pub(crate) fn new_key() -> SecretKey {
    SecretKey::from_bytes(&[0xc3; 32]).unwrap()
}

fn client(n: u8) -> RequestContext {
    RequestContext::from_ip(format!("198.51.100.{n}").parse().unwrap())
}

/// Three failures block a user; a client alone is blocked after two. No delays, so the counts
/// are what the tests read.
fn strict() -> Policy {
    Policy {
        user_failures_before_block: 3,
        client_failures_before_block: 2,
        failures_before_delay: 50,
        failure_delay_secs: 0,
        max_failure_delay_secs: 0,
        max_wrong_pins: 10,
        ..policy()
    }
}

/// Another engine over the harness's stores, directory and clock, with `key` and `previous`,
/// its generator seeded apart from every other engine's (flow ids must not collide).
pub(crate) fn engine(h: &Harness, policy: Policy, key: SecretKey, previous: Vec<SecretKey>) -> Sspr {
    Sspr::builder()
        .timer(h.clock.clone())
        .directory_arc(Arc::new(h.directory.clone()))
        .contacts_arc(Arc::new(h.contacts.clone()))
        .notifier_arc(Arc::new(h.outbox.clone()))
        .store_arc(Arc::new(h.store.clone()))
        .audit(h.audit.clone())
        .clock(h.clock.clone())
        .policy(policy)
        .secret_key(key)
        .previous_keys(previous)
        .rng_seed(next_seed())
        .build()
        .unwrap()
}

/// After the rotation: the engine with the new key alone (as before), and the one with the ring.
fn rotated(h: &Harness, policy: &Policy) -> (Sspr, Sspr) {
    (engine(h, policy.clone(), new_key(), Vec::new()), engine(h, policy.clone(), new_key(), vec![key()]))
}

/// One wrong PIN for `login` through `sspr` from `from`, on a new flow; the error it gave.
async fn one_wrong_pin(h: &Harness, sspr: &Sspr, login: &str, address: &str, from: &RequestContext) -> Error {
    let c = match sspr.begin_reset(login, from).await {
        Ok(c) => c,
        Err(e) => return e,
    };
    if let Err(e) = sspr.send_pin(&c.flow_id, "email", None, from).await {
        return e;
    }
    let pin = h.outbox.last_pin_to(address).unwrap();
    sspr.verify_pin(&c.flow_id, Pin::new(Harness::wrong(&pin)), from).await.unwrap_err()
}

#[tokio::test]
async fn a_block_in_force_survives_a_rotation() {
    let h = Harness::builder().policy(strict()).build().await;
    // Three clients, three wrong PINs: alice is blocked everywhere for a day.
    for n in 1..=2 {
        let e = one_wrong_pin(&h, &h.sspr, ALICE, ALICE_MAIL, &client(n)).await;
        assert!(matches!(e, Error::WrongPin { .. }), "{e:?}");
    }
    assert!(matches!(one_wrong_pin(&h, &h.sspr, ALICE, ALICE_MAIL, &client(3)).await, Error::Blocked { .. }));
    assert!(matches!(h.sspr.begin_reset(ALICE, &client(4)).await, Err(Error::Blocked { .. })));

    let (before, ring) = rotated(&h, &strict());
    // The attack: the key changes and the block is gone.
    assert!(before.begin_reset(ALICE, &client(4)).await.is_ok(), "the new key alone lifts the block");
    let Err(Error::Blocked { until }) = ring.begin_reset(ALICE, &client(4)).await else {
        panic!("the block must hold across the rotation");
    };
    assert_eq!(until, START + sspr_core::time::Duration::seconds(i64::try_from(strict().block_secs).unwrap()));
    // Copied under the new key: still there once the old key is dropped.
    let later = engine(&h, strict(), new_key(), Vec::new());
    assert!(matches!(later.begin_reset(ALICE, &client(4)).await, Err(Error::Blocked { .. })));

    // An administrator's unblock lifts it under every key of the ring.
    ring.unblock(&admin(), ALICE, &ctx()).await.unwrap();
    assert!(ring.begin_reset(ALICE, &client(4)).await.is_ok());
}

#[tokio::test]
async fn failure_counts_survive_a_rotation() {
    let h = Harness::builder().policy(strict()).build().await;
    for n in 1..=2 {
        assert!(matches!(one_wrong_pin(&h, &h.sspr, ALICE, ALICE_MAIL, &client(n)).await, Error::WrongPin { .. }));
    }
    let (before, ring) = rotated(&h, &strict());
    // The attack: after the rotation the count starts again, so the third failure is free.
    drop(ring);
    let e = one_wrong_pin(&h, &before, ALICE, ALICE_MAIL, &client(3)).await;
    assert!(matches!(e, Error::WrongPin { .. }), "the new key alone counts from zero: {e:?}");
    assert!(before.begin_reset(ALICE, &client(4)).await.is_ok());

    // With the ring, the two failures under the old key and one under the new make three.
    let h = Harness::builder().policy(strict()).build().await;
    for n in 1..=2 {
        assert!(matches!(one_wrong_pin(&h, &h.sspr, ALICE, ALICE_MAIL, &client(n)).await, Error::WrongPin { .. }));
    }
    let ring = engine(&h, strict(), new_key(), vec![key()]);
    let e = one_wrong_pin(&h, &ring, ALICE, ALICE_MAIL, &client(3)).await;
    assert!(matches!(e, Error::Blocked { .. }), "the third failure reaches the cap: {e:?}");
    assert!(matches!(ring.begin_reset(ALICE, &client(4)).await, Err(Error::Blocked { .. })));
}

#[tokio::test]
async fn a_client_block_survives_a_rotation() {
    let h = Harness::builder().policy(strict()).build().await;
    // Client 1 fails twice: blocked for alice (alice is not, two being below her cap).
    assert!(matches!(one_wrong_pin(&h, &h.sspr, ALICE, ALICE_MAIL, &client(1)).await, Error::WrongPin { .. }));
    assert!(matches!(one_wrong_pin(&h, &h.sspr, ALICE, ALICE_MAIL, &client(1)).await, Error::Blocked { .. }));
    let (before, ring) = rotated(&h, &strict());
    assert!(before.begin_reset(ALICE, &client(1)).await.is_ok(), "the new key alone forgets the client's block");
    assert!(matches!(ring.begin_reset(ALICE, &client(1)).await, Err(Error::Blocked { .. })));
    // Another client is not blocked, and its failure adds to the carried count: blocked.
    let e = one_wrong_pin(&h, &ring, ALICE, ALICE_MAIL, &client(2)).await;
    assert!(matches!(e, Error::Blocked { .. }), "the third failure reaches the cap: {e:?}");
    assert!(matches!(ring.begin_reset(ALICE, &client(5)).await, Err(Error::Blocked { .. })));
}

#[tokio::test]
async fn a_pin_sent_before_a_rotation_verifies_after() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let (before, ring) = rotated(&h, &policy());
    // The attack on the user: every pending reset ends at the rotation.
    let e = before.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap_err();
    assert!(matches!(e, Error::WrongPin { .. }), "{e:?}");
    ring.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    ring.complete_reset(&flow, sspr_core::NewPassword::Temporary, &ctx()).await.unwrap();
    // A PIN sent after the rotation is hashed under the new key: the old key alone refuses it.
    let (flow, pin) = {
        let c = ring.begin_reset(BOB, &ctx()).await.unwrap();
        ring.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
        (c.flow_id, h.outbox.last_pin_to(BOB_MAIL).unwrap())
    };
    let old_only = engine(&h, policy(), key(), Vec::new());
    assert!(matches!(old_only.verify_pin(&flow, Pin::new(&pin), &ctx()).await, Err(Error::WrongPin { .. })));
    ring.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
}

#[tokio::test]
async fn a_flow_begun_before_and_one_begun_after_share_one_count() {
    let h = Harness::builder().policy(strict()).build().await;
    // A flow begun under the old key, its PIN sent: the attacker keeps it across the rotation.
    let old = h.sspr.begin_reset(ALICE, &client(1)).await.unwrap();
    h.sspr.send_pin(&old.flow_id, "email", None, &client(1)).await.unwrap();
    let old_pin = h.outbox.last_pin_to(ALICE_MAIL).unwrap();
    let ring = engine(&h, strict(), new_key(), vec![key()]);
    // One failure on a flow begun after, then two on the old one from other clients: three
    // failures of one user, whichever key each flow began under.
    let e = one_wrong_pin(&h, &ring, ALICE, ALICE_MAIL, &client(2)).await;
    assert!(matches!(e, Error::WrongPin { .. }), "{e:?}");
    let wrong = Harness::wrong(&old_pin);
    assert!(matches!(ring.verify_pin(&old.flow_id, Pin::new(&wrong), &client(3)).await, Err(Error::WrongPin { .. })));
    let e = ring.verify_pin(&old.flow_id, Pin::new(&wrong), &client(4)).await.unwrap_err();
    assert!(matches!(e, Error::Blocked { .. }), "the third failure reaches the cap: {e:?}");
    assert!(matches!(ring.begin_reset(ALICE, &client(5)).await, Err(Error::Blocked { .. })));
    assert!(matches!(ring.verify_pin(&old.flow_id, Pin::new(&old_pin), &client(5)).await, Err(Error::Blocked { .. })));
}

#[tokio::test]
async fn decoy_masks_stay_the_same_across_a_routine_rotation() {
    let h = Harness::new().await;
    let logins: Vec<String> = (0..8).map(|i| format!("nobody{i}@example.org")).collect();
    let masks = |sspr: Sspr| {
        let logins = logins.clone();
        async move {
            let mut out = Vec::new();
            for login in &logins {
                let c = sspr.begin_reset(login, &ctx()).await.unwrap();
                out.push(c.methods.into_iter().map(|m| m.masked).collect::<Vec<_>>());
            }
            out
        }
    };
    let recorded = masks(h.sspr.clone()).await;
    let (before, ring) = rotated(&h, &policy());
    // The attack: with the new key alone every unknown login's mask changes, a real user's not.
    assert_ne!(masks(before).await, recorded, "the new key alone redraws the decoys");
    assert_eq!(masks(ring).await, recorded, "a routine rotation keeps them");
    // Two rotations on, the oldest key listed still draws them.
    let twice = engine(&h, policy(), SecretKey::from_bytes(&[0x77; 32]).unwrap(), vec![new_key(), key()]);
    assert_eq!(masks(twice).await, recorded);
    // After a leak of the decoy key the operator leaves it out: new decoys, on purpose.
    let leaked = engine(&h, policy(), SecretKey::from_bytes(&[0x77; 32]).unwrap(), vec![new_key()]);
    assert_ne!(masks(leaked).await, recorded);
}

#[tokio::test]
async fn a_sign_in_lockout_survives_a_rotation() {
    // The lockout from all clients (a client's own is held by the attempts record, which
    // is not carried: it lasts one window at most).
    let policy = Policy { sign_in_failures_before_lockout: 2, failure_delay_secs: 0, ..policy() };
    let h = Harness::builder().policy(policy.clone()).build().await;
    let login = sspr_core::NormalizedLogin::parse(ALICE).unwrap();
    for n in 0..policy.sign_in_failures_all_clients() {
        let from = sspr_core::RequestContext::from_ip(format!("198.51.100.{}", n / 2 + 1).parse().unwrap());
        let e = h.sspr.sign_in_self_service(login.as_str(), &sspr_core::Password::new("wrong"), &from).await;
        assert!(matches!(e, Err(Error::SignInFailed)), "{e:?}");
    }
    let right = sspr_core::Password::new(INITIAL_PASSWORD);
    assert!(matches!(h.sspr.sign_in_self_service(ALICE, &right, &ctx()).await, Err(Error::RateLimited { .. })));
    let (before, ring) = rotated(&h, &policy);
    assert!(before.sign_in_self_service(ALICE, &right, &ctx()).await.is_ok(), "the new key alone lifts the lockout");
    assert!(matches!(ring.sign_in_self_service(ALICE, &right, &ctx()).await, Err(Error::RateLimited { .. })));
}

#[test]
fn the_ring_is_bounded() {
    let keys =
        (0..=sspr_core::SsprBuilder::MAX_PREVIOUS_KEYS).map(|i| SecretKey::from_bytes(&[i as u8 + 1; 32]).unwrap());
    let e = Sspr::builder()
        .directory(sspr_core::memory::MemoryDirectory::new())
        .notifier(sspr_core::memory::Outbox::new())
        .secret_key(key())
        .previous_keys(keys)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("previous keys"), "{e}");
}

#[tokio::test]
async fn a_right_pin_after_a_rotation_clears_the_count_under_every_key() {
    let h = Harness::builder().policy(strict()).build().await;
    // Two failures under the old key; then the user's right PIN on the new one.
    for n in 1..=2 {
        assert!(matches!(one_wrong_pin(&h, &h.sspr, ALICE, ALICE_MAIL, &client(n)).await, Error::WrongPin { .. }));
    }
    let ring = engine(&h, strict(), new_key(), vec![key()]);
    let c = ring.begin_reset(ALICE, &ctx()).await.unwrap();
    ring.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    ring.verify_pin(&c.flow_id, Pin::new(h.outbox.last_pin_to(ALICE_MAIL).unwrap()), &ctx()).await.unwrap();
    // The old count is gone too: it is not carried back, and a typo is the first of three.
    for n in 3..=4 {
        let e = one_wrong_pin(&h, &ring, ALICE, ALICE_MAIL, &client(n)).await;
        assert!(matches!(e, Error::WrongPin { .. }), "{e:?}");
    }
}

/// A "rotation" that lists the current key as a previous one (its file named in both
/// settings), or one key twice, changed nothing while the operator believed the old key
/// retired: it still wrote everything. `build` refuses both and says which entry.
#[tokio::test]
async fn a_ring_naming_the_current_key_or_one_key_twice_is_refused() {
    let build = |previous: Vec<SecretKey>| {
        Sspr::builder()
            .directory(sspr_core::memory::MemoryDirectory::new())
            .notifier(sspr_core::memory::Outbox::new())
            .secret_key(SecretKey::from_bytes(&[7; 32]).unwrap())
            .previous_keys(previous)
            .build()
    };
    let old = || SecretKey::from_bytes(&[9; 32]).unwrap();
    let current = build(vec![old(), SecretKey::from_bytes(&[7; 32]).unwrap()]).unwrap_err();
    assert!(
        matches!(current, Error::Config(_)) && current.to_string().contains("previous key 2 is the current"),
        "{current}"
    );
    let twice = build(vec![old(), old()]).unwrap_err();
    assert!(
        matches!(twice, Error::Config(_)) && twice.to_string().contains("previous key 2 is listed twice"),
        "{twice}"
    );
    build(vec![old(), SecretKey::from_bytes(&[8; 32]).unwrap()]).unwrap();
}

/// A contact proof pending at a rotation is lost, as it was before proofs were sealed: it is
/// stored and sealed under the current key alone (its store key is the user's subject under
/// that key, its seal key is derived from that key), so the rotated engine, ring or not, finds
/// no pending proof (`Expired`, nothing counted) and the user asks for a new code, which works.
#[tokio::test]
async fn a_contact_proof_pending_at_a_rotation_is_asked_again() {
    let h = Harness::new().await;
    let (user, mail) = (sspr_core::Actor::User, "alice.next@mail.example");
    let proof = h.sspr.request_contact_proof(&user, ALICE, sspr_core::Channel::Email, mail, &ctx()).await.unwrap();
    let code = h.outbox.last_proof_code_to(mail).unwrap();
    let (alone, ring) = rotated(&h, &policy());
    for sspr in [&alone, &ring] {
        let answer = sspr.confirm_contact_proof(&user, ALICE, &proof.proof_id, &code, &ctx()).await;
        assert!(matches!(answer, Err(Error::Expired)), "{answer:?}");
    }
    assert!(h.events_of(sspr_core::AuditKind::ContactProofFailed).is_empty(), "nothing is counted");
    let again = ring.request_contact_proof(&user, ALICE, sspr_core::Channel::Email, mail, &ctx()).await.unwrap();
    let code = h.outbox.last_proof_code_to(mail).unwrap();
    let saved = ring.confirm_contact_proof(&user, ALICE, &again.proof_id, &code, &ctx()).await.unwrap();
    assert_eq!(saved.email.unwrap().value, mail);
}
