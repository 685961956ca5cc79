//! A reader of the shared state store (a replica, a backup, `MONITOR`, `KEYS sspr/flow/*`)
//! takes a verified flow's id from the store and completes the reset: the flow id is a bearer
//! credential (the framework routers keep it in a cookie; `complete_reset` needs nothing
//! else), and it was the flow record's key, `sspr/flow/<flow id>`, in clear.

use std::sync::{Arc, Mutex};

use sspr_core::backend::{Counter, StoredValue};
use sspr_core::memory::MemoryStateStore;
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, NewPassword, Pin, StateStore};

use crate::support::*;

/// The in-memory store, and everything written to it as a reader of the store sees it (every
/// key and every value, in the order written; a counter's value as empty). Other attacks on
/// what the store holds use it too ([`crate::contact_proof_in_store`]).
#[derive(Debug, Default)]
pub struct Watched {
    /// The store itself, for a test that reads or changes a value as a writer of the store.
    pub inner: MemoryStateStore,
    seen: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Watched {
    pub fn seen(&self) -> Vec<(String, Vec<u8>)> {
        self.seen.lock().unwrap().clone()
    }
}

#[sspr_core::async_trait]
impl StateStore for Watched {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.inner.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.seen.lock().unwrap().push((key.to_owned(), value.to_owned()));
        self.inner.put(key, value, expected, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.seen.lock().unwrap().push((key.to_owned(), Vec::new()));
        self.inner.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_store_reader_completes_a_verified_reset_with_the_flow_id_from_the_store() {
    let store = Arc::new(Watched::default());
    let h = Harness::builder().store(store.clone()).build().await;
    // The victim verifies the PIN and is about to choose how to complete.
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();

    // The reader tries every key the store holds, and every part of it, as a flow id.
    let seen = store.seen();
    let flow_bytes = sspr_core::hex::decode(&flow).unwrap();
    let mut candidates = Vec::new();
    for (key, value) in &seen {
        assert!(!key.contains(&flow), "the flow id is in the store key {key}");
        assert!(
            !value.windows(flow.len()).any(|w| w == flow.as_bytes())
                && !value.windows(flow_bytes.len()).any(|w| w == flow_bytes.as_slice()),
            "the flow id is in the value of {key}"
        );
        candidates.extend(key.split('/').filter(|part| part.len() == 32).map(str::to_owned));
    }
    assert!(!candidates.is_empty(), "the flow record is stored under a key: {seen:?}");
    for candidate in &candidates {
        let taken = h.sspr.complete_reset(candidate, NewPassword::Temporary, &ctx()).await;
        assert!(taken.is_err(), "a store reader completed the victim's reset from the key part {candidate}");
    }
    // The victim's own completion is untouched.
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.temporary_password.is_some());
}

/// Every value the engine wrote under a flow key (`sspr/flow/...`), in the order written.
fn flow_values(seen: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    seen.iter().filter(|(key, _)| key.starts_with("sspr/flow/")).cloned().collect()
}

/// A value's part after its link (the subject's hex the store follows, `backend::link_of`).
fn after_link(value: &[u8]) -> &[u8] {
    let link = usize::from(value[0]);
    &value[1 + link..]
}

/// A reader of the state store (a replica, a backup, `MONITOR`, a PostgreSQL dump) reads the
/// flow records' values: on main they were the plain postcard record, which named the account
/// being reset (its DN and login) and its full private addresses, and told a decoy flow from a
/// real one and why it was a decoy (`DecoyReason`: the login is unknown, disabled, privileged,
/// not enabled...), which undid the enumeration defence for whoever reads the store. Now no
/// value holds a login, a DN or an address; every flow value has the same length, real or
/// decoy, at every step; and no 8 bytes after the link recur between any two values written
/// (two writes of one record included), so nothing in a value tells one flow from another.
#[tokio::test]
async fn a_store_reader_finds_no_login_dn_address_or_decoy_reason_in_the_flow_records() {
    let store = Arc::new(Watched::default());
    let h = Harness::builder().store(store.clone()).build().await;
    let since = store.seen().len();
    // A real reset through to its completion, a real flow that sent a PIN by SMS, and a
    // decoy for every kind of login that may not reset, each taken as far as a PIN.
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    let bob = h.sspr.begin_reset(BOB, &ctx()).await.unwrap();
    h.sspr.send_pin(&bob.flow_id, "email", None, &ctx()).await.unwrap();
    let decoys = ["nobody@example.org", DISABLED, NO_CONTACT, NOT_ENABLED, OUTSIDER, ADMIN];
    for login in decoys {
        let c = h.sspr.begin_reset(login, &ctx()).await.unwrap();
        h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ctx()).await.unwrap();
    }
    h.sspr.flush_deliveries().await;
    let outcomes: Vec<_> = h.events_of(sspr_core::AuditKind::ResetRequested).into_iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes.iter().filter(|o| matches!(o, sspr_core::Outcome::Decoy { .. })).count(),
        decoys.len(),
        "every decoy login got a decoy: {outcomes:?}"
    );

    let written = flow_values(&store.seen()[since..]);
    assert!(written.len() >= 2 * (2 + decoys.len()), "every flow was written: {}", written.len());
    // Nothing that names an account or a contact, in clear or in any case.
    let mut secrets: Vec<String> = [ALICE, BOB, ALICE_MAIL, ALICE_PHONE, BOB_MAIL, "dave@home.example"]
        .into_iter()
        .chain(decoys)
        .map(str::to_owned)
        .collect();
    secrets.extend(users().into_iter().map(|u| u.dn));
    for (key, value) in &written {
        let text = String::from_utf8_lossy(value).to_lowercase();
        for secret in &secrets {
            assert!(!text.contains(&secret.to_lowercase()), "{secret} is in the value of {key}");
        }
    }
    // Real and decoy flows, at every step, are values of one length.
    let lengths: std::collections::BTreeSet<usize> = written.iter().map(|(_, v)| v.len()).collect();
    assert_eq!(lengths.len(), 1, "flow values of different lengths tell flows apart: {lengths:?}");
    // No structure a reader could parse: no 8 bytes after the link recur in any two values.
    let mut windows = std::collections::HashMap::new();
    for (i, (key, value)) in written.iter().enumerate() {
        for window in after_link(value).windows(8) {
            if let Some((j, other)) = windows.insert(window.to_vec(), (i, key.clone()))
                && j != i
            {
                panic!("the values {j} ({other}) and {i} ({key}) share the bytes {window:?}");
            }
        }
    }
}

/// A writer of the state store copies a victim's verified flow record under the key of a flow
/// the writer began himself (for any login): on main the record read there as the writer's
/// own, and `complete_reset` with the writer's flow id handed over the victim's temporary
/// password. A sealed record opens only under the key it was sealed for.
#[tokio::test]
async fn a_verified_record_copied_under_another_flows_key_does_not_complete_there() {
    let h = Harness::new().await;
    let (victim, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&victim, Pin::new(&pin), &ctx()).await.unwrap();
    let own = h.sspr.begin_reset("nobody@example.org", &ctx()).await.unwrap().flow_id;

    let (victim_key, own_key) = (sspr_core::testing::flow_store_key(&victim), sspr_core::testing::flow_store_key(&own));
    let verified = h.store.get(&victim_key, h.now()).await.unwrap().unwrap();
    let mine = h.store.get(&own_key, h.now()).await.unwrap().unwrap();
    let until = h.now() + std::time::Duration::from_secs(15 * 60);
    let copied = h.store.put(&own_key, &verified.value, Some(mine.version), until, h.now()).await.unwrap().unwrap();

    let taken = h.sspr.complete_reset(&own, NewPassword::Temporary, &ctx()).await;
    assert!(matches!(taken, Err(sspr_core::Error::Expired)), "the copied record completed: {taken:?}");
    assert!(h.sspr.verify_pin(&own, Pin::new(&pin), &ctx()).await.is_err());
    // The refused calls changed nothing, and the victim's own reset goes on.
    let after = h.store.get(&own_key, h.now()).await.unwrap().unwrap();
    assert_eq!((after.value, after.version), (verified.value, copied));
    let outcome = h.sspr.complete_reset(&victim, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.temporary_password.is_some());
}

/// A flow record changed in the store (one bit anywhere, cut short, emptied) is a flow that
/// cannot be read: every call answers `Expired`, as for a flow that is gone, and changes
/// nothing (no attempt counted, no record written); put back as it was, the flow goes on. On
/// main a changed plain record was read as it stood, whatever the change.
#[tokio::test]
async fn a_changed_flow_record_reads_as_expired_and_changes_nothing() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let key = sspr_core::testing::flow_store_key(&flow);
    let stored = h.store.get(&key, h.now()).await.unwrap().unwrap();
    let until = h.now() + std::time::Duration::from_secs(15 * 60);
    let mut changes: Vec<Vec<u8>> = (0..stored.value.len())
        .step_by(7)
        .map(|i| {
            let mut v = stored.value.clone();
            v[i] ^= 0x01;
            v
        })
        .collect();
    changes.extend([stored.value[..stored.value.len() - 1].to_vec(), Vec::new(), vec![0; stored.value.len()]]);
    let mut version = stored.version;
    for changed in &changes {
        version = h.store.put(&key, changed, Some(version), until, h.now()).await.unwrap().unwrap();
        let answers = [
            h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.map(|_| ()),
            h.sspr.send_pin(&flow, "sms", None, &ctx()).await.map(|_| ()),
            h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.map(|_| ()),
        ];
        for answer in answers {
            // `Expired` carries nothing: no byte of the record can reach a message.
            let error = answer.expect_err("a changed record was read");
            assert!(matches!(error, sspr_core::Error::Expired), "{error:?}");
        }
        let now = h.store.get(&key, h.now()).await.unwrap().unwrap();
        assert_eq!((&now.value, now.version), (changed, version), "a refused call changed the record");
    }
    h.store.put(&key, &stored.value, Some(version), until, h.now()).await.unwrap().unwrap();
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    assert!(h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap().temporary_password.is_some());
}
