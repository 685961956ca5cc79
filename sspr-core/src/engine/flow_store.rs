//! A reset flow at rest: the key it is stored under and its value, sealed.
//!
//! The flow id is a bearer credential (with a verified flow's id `complete_reset` needs
//! nothing else; the framework routers keep it in a cookie) and the record names the account
//! being reset, its private addresses and, for a decoy, why the login may not reset. A reader
//! of the state store (a replica, a backup, `MONITOR`, `KEYS`, a PostgreSQL dump) must learn
//! none of them, so neither the key nor the value holds them in clear:
//!
//! - the key is `sspr/flow/<first 16 bytes of SHA-256(key label ‖ flow id)>` ([`FlowKey`]);
//! - the value is the record's link (its subject's hex, which the store follows to read the
//!   subject's block and attempts in the same call, [`crate::backend::link_of`]) and a format
//!   byte in clear, then the record sealed as [`super::sealed`] seals one (a random 96-bit
//!   nonce, the record padded to a multiple of [`PADDED_TO`] bytes, ChaCha20-Poly1305) under
//!   `SHA-256(seal label ‖ flow id)`, the key, the link and the format byte as associated data.
//!
//! The seal key is derived from the flow id alone, which the store never holds: the engine has
//! the id on every flow call, and nothing reads a flow without it (no listing, no sweep; the
//! store's expiry removes records). It is not derived from the server key, so a key rotation
//! moves no flow. Its label differs from the store key's, so the store key does not give it.
//!
//! Every write seals under a fresh nonce from the engine's generator ([`super::sealed`] says
//! why a nonce made from the record's version would not do).
//!
//! A value that does not open (changed, moved under another flow's key, cut short, of another
//! format) is a flow that cannot be read: the caller is answered `Expired`, nothing is written.

use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::Sspr;
use super::sealed::{Nonce, Place, SealKey};
use crate::error::Result;
use crate::flow::FlowRecord;
use crate::hex;

/// The prefix of every flow's store key.
const FLOW_KEY_PREFIX: &str = "sspr/flow/";
/// What a flow id is hashed with for its store key (no other hash of a flow id can equal it).
const FLOW_KEY_DOMAIN: &[u8] = b"sspr/v1/flow-store-key\0";
/// What a flow id is hashed with for the key its record is sealed with.
const FLOW_SEAL_DOMAIN: &[u8] = b"sspr/v1/flow-seal-key\0";
/// The start of every sealed value's associated data.
const FLOW_AAD_DOMAIN: &[u8] = b"sspr/v1/flow-record\0";
/// The byte after the link: how the rest is sealed (`1` was XChaCha20-Poly1305 with a 192-bit
/// nonce; `2` is ChaCha20-Poly1305 with a 96-bit one, so a value of either layout read by the
/// other's code does not open).
const FORMAT: u8 = 2;
/// A sealed record is a multiple of this many bytes (before its tag), so that its length does
/// not tell a decoy (whose record holds one or two short masks) from a real user's (a DN, a
/// login and full addresses), nor one user from another: a record whose DN, login and
/// addresses take up to about 290 bytes together (an Active Directory DN five levels deep, a
/// 30-character login, two addresses) is sealed in one block, as every decoy's is. A longer
/// one takes two blocks, and its length then tells that it is a real user's.
const PADDED_TO: usize = 384;

/// Where the flow `flow_id` is stored, and the key its record is sealed with.
pub(super) fn flow(flow_id: &str) -> FlowKey<'_> {
    let digest = Sha256::new_with_prefix(FLOW_KEY_DOMAIN).chain_update(flow_id.as_bytes()).finalize();
    let mut key = String::with_capacity(FLOW_KEY_PREFIX.len() + 32);
    key.push_str(FLOW_KEY_PREFIX);
    hex::encode_into(digest.get(..16).unwrap_or_default(), &mut key);
    let mut seal = Zeroizing::new([0u8; 32]);
    Sha256::new_with_prefix(FLOW_SEAL_DOMAIN)
        .chain_update(flow_id.as_bytes())
        .finalize_into(seal.as_mut_slice().into());
    FlowKey { id: flow_id, slot: FlowSlot { key, seal: SealKey::new(seal) } }
}

/// A flow's id with where its record is stored ([`FlowSlot`]).
pub(super) struct FlowKey<'a> {
    id: &'a str,
    slot: FlowSlot,
}

impl FlowKey<'_> {
    /// The flow id the key was made from (for what needs it: the audit reference).
    pub(super) fn id(&self) -> &str {
        self.id
    }
}

impl std::ops::Deref for FlowKey<'_> {
    type Target = FlowSlot;

    fn deref(&self) -> &FlowSlot {
        &self.slot
    }
}

/// A flow's store key (a hash of its id: [`std::ops::Deref`] gives it) and the key its record
/// is sealed with (derived from the id, zeroized on drop, never printed).
#[derive(Clone)]
pub(super) struct FlowSlot {
    key: String,
    seal: SealKey,
}

impl std::ops::Deref for FlowSlot {
    type Target = str;

    /// The store key.
    fn deref(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for FlowSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowSlot").field("key", &self.key).field("seal", &"[REDACTED]").finish()
    }
}

impl FlowSlot {
    /// Where this flow's value is stored, as its associated data binds it. The store key is of
    /// one length, so the parts cannot be shifted into each other.
    fn place(&self) -> Place<'_> {
        Place { domain: FLOW_AAD_DOMAIN, store_key: &self.key, block: PADDED_TO }
    }

    /// `record` as stored here: its link and [`FORMAT`] in clear, then the record
    /// ([`FlowRecord::encode_after`]) sealed under `nonce` ([`SealKey::seal`]). `nonce` must
    /// never have sealed anything under this key ([`Sspr::seal_flow`] draws one for each write).
    pub(super) fn seal(&self, record: &FlowRecord, nonce: Nonce) -> Result<Vec<u8>> {
        let link = 2 * record.subject.len();
        let mut head = Vec::with_capacity(1 + link + 1);
        head.push(u8::try_from(link).unwrap_or(0));
        hex::encode_bytes_into(&record.subject, &mut head);
        head.push(FORMAT);
        self.seal.seal(self.place(), &head, nonce, "a flow record", |out| record.encode_after(out))
    }

    /// The record in a value [`Self::seal`] stored here, or `None` when the value was sealed for
    /// another flow or key, changed in any way, or is of another format. The opened bytes are
    /// zeroized.
    pub(super) fn open(&self, value: Vec<u8>) -> Option<FlowRecord> {
        let clear = 1 + crate::backend::link_of(&value)?.len() + 1;
        if value.get(clear - 1) != Some(&FORMAT) {
            return None;
        }
        let opened = self.seal.open(self.place(), clear, value)?;
        let record = FlowRecord::decode(opened.record())?;
        // The link is bound by the seal; it must also be the subject the record holds.
        let link = opened.head().get(1..clear - 1)?;
        hex::is_hex_of(std::str::from_utf8(link).ok()?, &record.subject).then_some(record)
    }
}

impl Sspr {
    /// `record` sealed for `slot` under a fresh nonce from the engine's generator.
    pub(super) fn seal_flow(&self, slot: &FlowSlot, record: &FlowRecord) -> Result<Vec<u8>> {
        slot.seal(record, self.fresh_nonce())
    }
}

#[cfg(test)]
mod tests {
    use super::super::sealed::{NONCE, TAG};
    use super::*;
    use crate::api::{Destination, Locale, UserId};
    use crate::flow::{FlowMethod, FlowSubject};
    use crate::input::{EmailAddress, NormalizedLogin};

    const ID: &str = "0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210";

    fn record() -> FlowRecord {
        let who = FlowSubject::Real {
            user: UserId::new("uid=alice,ou=staff,dc=example,dc=org"),
            login: NormalizedLogin::parse("alice@example.org").unwrap(),
        };
        let methods = vec![FlowMethod::Real(Destination::Email(EmailAddress::parse("alice@home.example").unwrap()))];
        let at = time::macros::datetime!(2026-03-02 09:00 UTC);
        let mut record = FlowRecord::new([0xab; 16], who, methods, Locale::En, at, 1);
        record.flow_ref = Some([0x11; 16]);
        record
    }

    #[test]
    fn a_record_opens_only_under_the_flow_and_key_it_was_sealed_for() {
        let (key, other) = (flow(ID), flow(OTHER));
        let sealed = key.seal(&record(), [7; NONCE]).unwrap();
        assert_eq!(key.open(sealed.clone()).unwrap(), record());
        // Another flow's id, and the record under another flow's store key with this id's
        // seal key (the associated data binds the key).
        assert!(other.open(sealed.clone()).is_none());
        let moved = FlowSlot { key: other.key.clone(), seal: key.seal.clone() };
        assert!(moved.open(sealed.clone()).is_none());
        // Any bit changed, the value cut short or lengthened, another format.
        for i in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[i] ^= 0x04;
            assert!(key.open(changed).is_none(), "a change at byte {i} opened");
        }
        assert!(key.open(sealed[..sealed.len() - 1].to_vec()).is_none());
        assert!(key.open([sealed.as_slice(), &[0]].concat()).is_none());
        assert!(key.open(Vec::new()).is_none());
        // The plain format of the version before (the link, then the record) does not open.
        let mut plain = sealed[..33].to_vec();
        plain.extend(record().encode().unwrap());
        assert!(key.open(plain).is_none());
    }

    #[test]
    fn the_value_holds_the_link_then_nothing_of_the_record_in_clear() {
        let key = flow(ID);
        let sealed = key.seal(&record(), [7; NONCE]).unwrap();
        assert_eq!(crate::backend::link_of(&sealed), Some(hex::encode(&[0xab; 16]).as_str()));
        let text = String::from_utf8_lossy(&sealed);
        for secret in ["alice", "uid=", "home.example"] {
            assert!(!text.contains(secret), "{secret} in clear");
        }
        // Link, format, nonce, one padded block, tag; a fresh nonce makes another value.
        assert_eq!(sealed.len(), 1 + 32 + 1 + NONCE + PADDED_TO + TAG);
        assert_eq!(sealed.len(), 446, "the length ARCHITECTURE.md and THREAT_MODEL.md give");
        assert_ne!(key.seal(&record(), [8; NONCE]).unwrap()[34 + NONCE..], sealed[34 + NONCE..]);
    }

    #[test]
    fn a_record_longer_than_the_padding_is_sealed_in_more_blocks_and_still_opens() {
        let mut long = record();
        long.who = FlowSubject::Real {
            user: UserId::new(format!("uid={},dc=example,dc=org", "a".repeat(600))),
            login: NormalizedLogin::parse("alice@example.org").unwrap(),
        };
        let key = flow(ID);
        let sealed = key.seal(&long, [1; NONCE]).unwrap();
        assert_eq!(sealed.len(), 1 + 32 + 1 + NONCE + 2 * PADDED_TO + TAG);
        assert_eq!(key.open(sealed).unwrap(), long);
    }

    #[test]
    fn the_store_key_and_the_seal_key_are_different_hashes_of_the_id_and_neither_is_printed() {
        let key = flow(ID);
        assert!(key.starts_with(FLOW_KEY_PREFIX) && !key.contains(ID));
        assert_eq!(key.len(), FLOW_KEY_PREFIX.len() + 32);
        // The store key's hash is not the seal key, nor a part of it.
        let store_hash = hex::decode(&key[FLOW_KEY_PREFIX.len()..]).unwrap();
        assert!(!key.seal.exposed().windows(4).any(|w| store_hash.windows(4).any(|s| s == w)));
        let shown = format!("{:?}", *key);
        assert!(shown.contains("REDACTED") && !shown.contains(&hex::encode(key.seal.exposed())), "{shown}");
        let bytes: Vec<String> = key.seal.exposed().iter().map(u8::to_string).collect();
        assert!(!shown.contains(&bytes.join(", ")), "{shown}");
    }
}
