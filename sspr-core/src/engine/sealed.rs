//! A record sealed at rest in the state store: what a reset flow ([`super::flow_store`]) and a
//! pending contact proof ([`super::proof`]) have in common, so that a reader of the store (a
//! replica, a backup, `MONITOR`, a PostgreSQL dump) learns nothing of either from its value,
//! and a writer of the store can neither change one nor move it under another key.
//!
//! A sealed value is `head ‖ nonce ‖ sealed ‖ tag`:
//!
//! - `head`: what the store or the reader must see in clear (a flow's link, a format byte),
//!   bound by the associated data;
//! - `nonce`: 192 random bits from the engine's generator ([`Sspr::fresh_nonce`]), fresh for
//!   every value written: a record is rewritten several times under one key, and a racing
//!   writer that loses its compare-and-set has still sent its value, so a nonce made from a
//!   version could repeat with another plaintext; 192 random bits do not repeat;
//! - `sealed`: the record, then [`PAD_START`] and zeros up to a multiple of the caller's block
//!   size (ISO/IEC 7816-4 padding: the value's length tells only how many blocks the record
//!   takes), encrypted with XChaCha20-Poly1305;
//! - `tag`: Poly1305's, over the sealed bytes and the associated data
//!   `domain ‖ store key ‖ head`, so that a value opens only under the store key it was
//!   written for. A domain ends in a NUL byte and its store keys are of one length, so the
//!   parts cannot be shifted into each other.
//!
//! What each caller keeps to itself: how its key is derived (a flow's from its id, a proof's
//! from the server key and the user), its head and its block size. A value that does not open
//! is `None` here, and each caller answers it as a record that is not there.

use std::fmt;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

use super::Sspr;
use crate::error::{Error, Result};

/// XChaCha20's nonce.
pub(super) const NONCE: usize = 24;
/// Poly1305's tag.
pub(super) const TAG: usize = 16;
/// The byte that ends a record inside its padding (then zeros).
const PAD_START: u8 = 0x80;

/// A nonce: never used twice under one key ([`Sspr::fresh_nonce`] draws one for each write).
pub(super) type Nonce = [u8; NONCE];

/// A key records are sealed with: zeroized on drop, never printed.
#[derive(Clone)]
pub(super) struct SealKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey([REDACTED])")
    }
}

/// Where a sealed value is stored, as its associated data binds it: the caller's `domain` (a
/// label ending in NUL), the `store_key` (of one length for the domain), and the `block` size
/// its record is padded to.
#[derive(Clone, Copy)]
pub(super) struct Place<'a> {
    pub(super) domain: &'static [u8],
    pub(super) store_key: &'a str,
    pub(super) block: usize,
}

impl Place<'_> {
    fn aad(&self, head: &[u8]) -> Vec<u8> {
        [self.domain, self.store_key.as_bytes(), head].concat()
    }
}

/// An opened value: its clear head and its record, zeroized on drop.
pub(super) struct Opened {
    value: Zeroizing<Vec<u8>>,
    head: usize,
    record: std::ops::Range<usize>,
}

impl Opened {
    /// The clear head the value was sealed with (bound by the seal).
    pub(super) fn head(&self) -> &[u8] {
        self.value.get(..self.head).unwrap_or_default()
    }

    /// The record, without its padding.
    pub(super) fn record(&self) -> &[u8] {
        self.value.get(self.record.clone()).unwrap_or_default()
    }
}

impl SealKey {
    /// A key made of `bytes` (derived by the caller: they must be secret and 32 random-looking
    /// bytes).
    pub(super) fn new(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self(bytes)
    }

    /// The key's bytes, for a test that checks they are shown nowhere.
    #[cfg(test)]
    pub(super) fn exposed(&self) -> &[u8] {
        self.0.as_slice()
    }

    fn cipher(&self) -> Option<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.0.as_slice()).ok()
    }

    /// The value `head ‖ nonce ‖ sealed ‖ tag` for `place`: `write` appends the record to the
    /// buffer it is given (which holds the head and the nonce, with room reserved for one
    /// block) and returns it; the record is then padded to a multiple of `place.block` and
    /// sealed in place. `nonce` must never have sealed anything under this key. `what` names
    /// the record in the error should it not seal (it always does: a 32-byte key is valid).
    pub(super) fn seal(
        &self,
        place: Place<'_>,
        head: &[u8],
        nonce: Nonce,
        what: &str,
        write: impl FnOnce(Vec<u8>) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        let body = head.len() + NONCE;
        let mut out = Vec::with_capacity(body + place.block + TAG);
        out.extend_from_slice(head);
        out.extend_from_slice(&nonce);
        let mut out = write(out)?;
        out.push(PAD_START);
        let block = place.block.max(1);
        let sealed_len = out.len().saturating_sub(body).div_ceil(block) * block;
        out.resize(body + sealed_len, 0);
        let aad = place.aad(head);
        let (cipher, plain) = (self.cipher(), out.get_mut(body..));
        let tag = cipher
            .zip(plain)
            .and_then(|(cipher, plain)| cipher.encrypt_inout_detached(&XNonce::from(nonce), &aad, plain.into()).ok())
            .ok_or_else(|| {
                out.zeroize();
                Error::Config(format!("cannot seal {what}"))
            })?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// What [`Self::seal`] sealed into `value` for `place` with a head of `head` bytes, or
    /// `None` when it was sealed under another key or for another place, changed in any way,
    /// cut short or lengthened, or its padding is not [`Self::seal`]'s. The opened bytes are
    /// zeroized, the value's too when it does not open.
    pub(super) fn open(&self, place: Place<'_>, head: usize, value: Vec<u8>) -> Option<Opened> {
        let mut value = Zeroizing::new(value);
        let tag_at = value.len().checked_sub(TAG).filter(|&at| at >= head + NONCE)?;
        let aad = place.aad(value.get(..head)?);
        let (rest, tag) = value.split_at_mut(tag_at);
        let tag = Tag::try_from(&*tag).ok()?;
        let (nonce, body) = rest.get_mut(head..)?.split_at_mut(NONCE);
        let nonce = XNonce::try_from(&*nonce).ok()?;
        self.cipher()?.decrypt_inout_detached(&nonce, &aad, (&mut *body).into(), &tag).ok()?;
        let end = body.iter().rposition(|&b| b != 0).filter(|&at| body.get(at) == Some(&PAD_START))?;
        let start = head + NONCE;
        Some(Opened { value, head, record: start..start + end })
    }
}

impl Sspr {
    /// A nonce for one sealed write, from the engine's generator.
    pub(super) fn fresh_nonce(&self) -> Nonce {
        self.inner.rng.bytes::<NONCE>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACE: Place<'static> = Place { domain: b"sspr/v1/test\0", store_key: "sspr/test/0123", block: 64 };

    fn key(byte: u8) -> SealKey {
        SealKey::new(Zeroizing::new([byte; 32]))
    }

    fn sealed(record: &[u8]) -> Vec<u8> {
        key(1)
            .seal(PLACE, b"hd", [9; NONCE], "a test record", |mut out| {
                out.extend_from_slice(record);
                Ok(out)
            })
            .unwrap()
    }

    #[test]
    fn a_value_opens_to_its_head_and_record_under_its_key_and_place_only() {
        let value = sealed(b"the secret record");
        let opened = key(1).open(PLACE, 2, value.clone()).unwrap();
        assert_eq!((opened.head(), opened.record()), (&b"hd"[..], &b"the secret record"[..]));
        // Another key, another domain, another store key, another head length.
        assert!(key(2).open(PLACE, 2, value.clone()).is_none());
        assert!(key(1).open(Place { domain: b"sspr/v1/other\0", ..PLACE }, 2, value.clone()).is_none());
        assert!(key(1).open(Place { store_key: "sspr/test/0124", ..PLACE }, 2, value.clone()).is_none());
        assert!(key(1).open(PLACE, 1, value.clone()).is_none());
        assert!(key(1).open(PLACE, 3, value.clone()).is_none());
        // Any bit of any byte changed, the value cut short or lengthened, emptied.
        for i in 0..value.len() {
            for bit in 0..8 {
                let mut changed = value.clone();
                changed[i] ^= 1 << bit;
                assert!(key(1).open(PLACE, 2, changed).is_none(), "a change at byte {i} opened");
            }
        }
        for len in 0..value.len() {
            assert!(key(1).open(PLACE, 2, value[..len].to_vec()).is_none(), "cut to {len} bytes, it opened");
        }
        assert!(key(1).open(PLACE, 2, [value.as_slice(), &[0]].concat()).is_none());
    }

    #[test]
    fn the_length_tells_only_the_number_of_blocks_and_nothing_is_in_clear_but_the_head() {
        let (short, long) = (sealed(b"a"), sealed(&[b'x'; 63]));
        assert_eq!(short.len(), 2 + NONCE + 64 + TAG);
        assert_eq!(long.len(), short.len(), "a record of one block and its padding byte");
        let two = sealed(&[b'x'; 64]);
        assert_eq!(two.len(), 2 + NONCE + 2 * 64 + TAG);
        assert_eq!(key(1).open(PLACE, 2, two).unwrap().record(), &[b'x'; 64][..]);
        assert!(!long.windows(8).any(|w| w == b"xxxxxxxx"));
        // An empty record, and a record ending in zeros, come back as they were.
        assert_eq!(key(1).open(PLACE, 2, sealed(b"")).unwrap().record(), b"");
        assert_eq!(key(1).open(PLACE, 2, sealed(b"a\0\0")).unwrap().record(), b"a\0\0");
    }

    #[test]
    fn a_value_sealed_without_its_padding_byte_does_not_open() {
        // The right key and place over a block of zeros (no PAD_START): refused.
        let k = key(1);
        let mut value = b"hd".to_vec();
        value.extend_from_slice(&[9; NONCE]);
        let mut body = vec![0u8; 64];
        let tag = k
            .cipher()
            .unwrap()
            .encrypt_inout_detached(&XNonce::from([9; NONCE]), &PLACE.aad(b"hd"), body.as_mut_slice().into())
            .unwrap();
        value.extend_from_slice(&body);
        value.extend_from_slice(&tag);
        assert!(k.open(PLACE, 2, value).is_none());
    }

    #[test]
    fn a_seal_key_is_never_printed() {
        let shown = format!("{:?}", key(0xab));
        assert_eq!(shown, "SealKey([REDACTED])");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, "));
    }
}
