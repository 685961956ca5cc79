//! A record sealed at rest in the state store: what a reset flow ([`super::flow_store`]) and a
//! pending contact proof ([`super::proof`]) have in common, so that a reader of the store (a
//! replica, a backup, `MONITOR`, a PostgreSQL dump) learns nothing of either from its value,
//! and a writer of the store can neither change one nor move it under another key.
//!
//! A sealed value is `head ‖ nonce ‖ sealed ‖ tag`:
//!
//! - `head`: what the store or the reader must see in clear (a flow's link, a format byte),
//!   bound by the associated data;
//! - `nonce`: 96 random bits from the engine's generator ([`Sspr::fresh_nonce`]), fresh for
//!   every value written: a record is rewritten several times under one key, and a racing
//!   writer that loses its compare-and-set has still sent its value, so a nonce made from a
//!   version could repeat with another plaintext. 96 random bits do not repeat under the keys
//!   used here, which each seal few values: a flow's key is derived from the flow id, and a
//!   flow is written at most a few dozen times; a proof's from the server key and the user,
//!   and a user's proofs are rate-limited to some thousands of writes over a key's life. Among
//!   n random nonces two are equal with probability below n²/2⁹⁷: for n = 10⁵ writes under one
//!   key, below 10⁻¹⁹ (a unit test computes it);
//! - `sealed`: the record, then [`PAD_START`] and zeros up to a multiple of the caller's block
//!   size (ISO/IEC 7816-4 padding: the value's length tells only how many blocks the record
//!   takes), encrypted with ChaCha20-Poly1305 (RFC 8439, `ring`'s);
//! - `tag`: Poly1305's, over the sealed bytes and the associated data
//!   `domain ‖ store key ‖ head`, so that a value opens only under the store key it was
//!   written for. A domain ends in a NUL byte and its store keys are of one length, so the
//!   parts cannot be shifted into each other.
//!
//! What each caller keeps to itself: how its key is derived (a flow's from its id, a proof's
//! from the server key and the user), its head and its block size. A value that does not open
//! is `None` here, and each caller answers it as a record that is not there.
//!
//! The key's bytes are kept in [`Zeroizing`] memory. `ring` takes its own copy for each seal
//! or open (an `UnboundKey` in a `LessSafeKey`, made here for the call and dropped at its end):
//! ring 0.17 has no `Drop` for its AEAD keys and zeroizes nothing, so that copy is left in the
//! freed stack frame until it is overwritten. `ring`'s keys print only their algorithm, and
//! [`SealKey`] prints none of its bytes.
//!
//! ring rather than RustCrypto's `chacha20poly1305`: ring picks its SIMD code at run time, and
//! sealing 384 bytes took 0.435 µs with it where `chacha20poly1305` 0.11 took 1.98 µs (its
//! `poly1305` uses its portable code unless built with `-C target-cpu=native`, which a library
//! cannot require of its users); ring is already in every binary that uses rustls here.

use std::fmt;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce as AeadNonce, Tag, UnboundKey};
use zeroize::{Zeroize, Zeroizing};

use super::Sspr;
use crate::error::{Error, Result};

/// ChaCha20-Poly1305's nonce (RFC 8439: 96 bits).
pub(super) const NONCE: usize = ring::aead::NONCE_LEN;
/// Poly1305's tag (ring's `CHACHA20_POLY1305.tag_len()`, tested).
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

    /// ring's key for one seal or open: a copy of the bytes that ring does not zeroize.
    fn cipher(&self) -> Option<LessSafeKey> {
        UnboundKey::new(&CHACHA20_POLY1305, self.0.as_slice()).ok().map(LessSafeKey::new)
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
            .and_then(|(cipher, plain)| {
                cipher.seal_in_place_separate_tag(AeadNonce::assume_unique_for_key(nonce), Aad::from(&aad), plain).ok()
            })
            .ok_or_else(|| {
                out.zeroize();
                Error::Config(format!("cannot seal {what}"))
            })?;
        out.extend_from_slice(tag.as_ref());
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
        let nonce = AeadNonce::try_assume_unique_for_key(&*nonce).ok()?;
        self.cipher()?.open_in_place_separate_tag(nonce, Aad::from(&aad), tag, body, 0..).ok()?;
        let end = body.iter().rposition(|&b| b != 0).filter(|&at| body.get(at) == Some(&PAD_START))?;
        let start = head + NONCE;
        Some(Opened { value, head, record: start..start + end })
    }
}

impl Sspr {
    /// A nonce for one sealed write, from the engine's generator: 96 random bits (the module's
    /// documentation says why they do not repeat under one key).
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
            .seal_in_place_separate_tag(
                AeadNonce::assume_unique_for_key([9; NONCE]),
                Aad::from(&PLACE.aad(b"hd")),
                &mut body,
            )
            .unwrap();
        value.extend_from_slice(&body);
        value.extend_from_slice(tag.as_ref());
        assert!(k.open(PLACE, 2, value).is_none());
    }

    /// The most values any key here seals, with a margin: a flow is written a few dozen times,
    /// a user's proofs some thousands of times over a server key's life.
    const MAX_WRITES_PER_KEY: u64 = 100_000;

    #[test]
    fn random_nonces_do_not_repeat_under_one_key() {
        // Two of n random 96-bit nonces are equal with probability at most n(n-1)/2 / 2^96.
        assert_eq!((NONCE, TAG), (12, CHACHA20_POLY1305.tag_len()));
        let n = MAX_WRITES_PER_KEY as f64;
        let bound = n * (n - 1.0) / 2.0 / 2f64.powi(8 * NONCE as i32);
        assert!(bound < 1e-19, "{bound}");
    }

    #[test]
    fn a_value_opens_like_rfc_8439s_chacha20_poly1305() {
        // RFC 8439 §2.8.2: the key, nonce, AAD and plaintext of its AEAD example, sealed with
        // ring as `seal` does, give its tag.
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce = [0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47];
        let aad = [0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7];
        let mut text = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".to_vec();
        let tag = SealKey::new(Zeroizing::new(key))
            .cipher()
            .unwrap()
            .seal_in_place_separate_tag(AeadNonce::assume_unique_for_key(nonce), Aad::from(&aad), &mut text)
            .unwrap();
        let want = [0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91];
        assert_eq!(tag.as_ref(), &want[..]);
        assert_eq!(&text[..4], &[0xd3, 0x1a, 0x8d, 0x34]);
    }

    #[test]
    fn a_seal_key_is_never_printed() {
        let shown = format!("{:?}", key(0xab));
        assert_eq!(shown, "SealKey([REDACTED])");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, "));
    }
}
