//! The keys and the sealing of sessions kept in a shared state store.
//!
//! Whoever can read the store (a Redis replica, a backup, a `MONITOR` session) must learn
//! nothing from it and must not be able to ride a session; whoever can write it must not be
//! able to forge one. So a session record lives under `HMAC(index key, cookie id)`, which
//! cannot be turned back into the cookie, and is sealed with ChaCha20-Poly1305 (ring's, as
//! sspr-core seals flow records: several times quicker here than a portable Poly1305) under a
//! key derived from the server secret *and* the cookie id: opening or forging a record needs
//! both. The store key is bound into the seal (associated data), so a record moved to
//! another session's key does not open there.
//!
//! Each write draws a fresh random 96-bit nonce. The key is one session's, which a visitor
//! writes a few times a request for at most the session's life, so nonces do not repeat
//! under one key: even 10^5 writes collide with a probability below 10^-19.

use crate::hmac::hmac_sha256 as hmac;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use super::ClientKey;

/// Domain separation of the three keys derived from the server secret.
const INDEX_LABEL: &[u8] = b"sspr-portal session store key v1";
const SEAL_LABEL: &[u8] = b"sspr-portal session seal v1";
const CLIENT_LABEL: &[u8] = b"sspr-portal session client v1";
/// Bound into every seal, with the store key.
const AAD_LABEL: &[u8] = b"sspr-portal session record v1\0";
/// The first byte of a sealed record: its format (1 was XChaCha20-Poly1305 with a 24-byte
/// nonce: such a record no longer opens, and its visitor starts a new session).
const FORMAT: u8 = 2;
const NONCE: usize = NONCE_LEN;

/// Where sessions' store keys begin (after the store's own prefix).
pub(crate) const RECORD_PREFIX: &str = "portal:session:";
/// Where the store keys of sessions that made progress begin (`shared.rs`'s second ring).
pub(crate) const PROGRESS_PREFIX: &str = "portal:session:p:";
/// Where the store keys of double-click forwards begin (`forward.rs`).
const FORWARD_PREFIX: &str = "portal:forward:";
/// Domain separation of forward keys from session record keys (both under the index key).
const FORWARD_LABEL: &[u8] = b"sspr-portal session forward v1\0";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The keys of shared sessions, derived from the portal's secret. No `Debug` of their bytes.
pub(crate) struct SessionKeys {
    index: Zeroizing<[u8; 32]>,
    seal: Zeroizing<[u8; 32]>,
    client: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys([REDACTED])")
    }
}

impl SessionKeys {
    /// Derive the keys from the portal's secret (the key file's text) with HMAC-SHA256.
    pub(crate) fn derive(secret: &[u8]) -> Self {
        Self {
            index: hmac(secret, &[INDEX_LABEL]),
            seal: hmac(secret, &[SEAL_LABEL]),
            client: hmac(secret, &[CLIENT_LABEL]),
        }
    }

    /// The store key of the session whose cookie id is `id`.
    pub(crate) fn record_key(&self, id: &str) -> String {
        format!("{RECORD_PREFIX}{}", hex(hmac(self.index.as_ref(), &[id.as_bytes()]).as_ref()))
    }

    /// The store key of the session `id` once it made progress.
    pub(crate) fn progress_key(&self, id: &str) -> String {
        format!("{PROGRESS_PREFIX}{}", hex(hmac(self.index.as_ref(), &[id.as_bytes()]).as_ref()))
    }

    /// The store key of the forward from the rotated session `old`.
    pub(crate) fn forward_key(&self, old: &str) -> String {
        format!("{FORWARD_PREFIX}{}", hex(hmac(self.index.as_ref(), &[FORWARD_LABEL, old.as_bytes()]).as_ref()))
    }

    /// A name for a client address in store keys: keyed, so a store reader does not learn
    /// visitors' addresses from the key names.
    pub(crate) fn client_tag(&self, client: &ClientKey) -> String {
        let address = client.0.map(|ip| ip.to_string()).unwrap_or_default();
        let tag = hmac(self.client.as_ref(), &[address.as_bytes()]);
        hex(tag.get(..16).unwrap_or_default())
    }

    /// The session's key. ring keeps a copy of the bytes it does not zeroize on drop (for the
    /// one call); ours is [`Zeroizing`].
    fn cipher(&self, id: &str) -> Option<LessSafeKey> {
        let key = hmac(self.seal.as_ref(), &[id.as_bytes()]);
        UnboundKey::new(&CHACHA20_POLY1305, key.as_slice()).ok().map(LessSafeKey::new)
    }

    /// `plain` sealed for the session `id` stored under `record_key`: format byte, random
    /// nonce, ciphertext and tag. `None` only if the cipher refuses (it does not: the key is
    /// 32 bytes and records are far below ChaCha20's limit).
    pub(crate) fn seal(&self, id: &str, record_key: &str, plain: &[u8]) -> Option<Vec<u8>> {
        let nonce = super::random_bytes::<NONCE>();
        let aad = [AAD_LABEL, record_key.as_bytes()].concat();
        let mut out = Vec::with_capacity(1 + NONCE + plain.len() + CHACHA20_POLY1305.tag_len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let body = out.get_mut(1 + NONCE..)?;
        let tag = self
            .cipher(id)?
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&aad), body)
            .ok();
        let Some(tag) = tag else {
            zeroize::Zeroize::zeroize(&mut out);
            return None;
        };
        out.extend_from_slice(tag.as_ref());
        Some(out)
    }

    /// The record sealed by [`Self::seal`] for `id` under `record_key`, or `None` when it was
    /// sealed for another session or key, or changed in any way.
    pub(crate) fn open(&self, id: &str, record_key: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < NONCE {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let aad = [AAD_LABEL, record_key.as_bytes()].concat();
        let mut opened = Zeroizing::new(body.to_vec());
        let plain_len = self.cipher(id)?.open_in_place(nonce, Aad::from(&aad), opened.as_mut_slice()).ok()?.len();
        opened.truncate(plain_len);
        Some(opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_opens_only_with_its_cookie_id_its_store_key_and_its_server_secret() {
        let keys = SessionKeys::derive(b"server secret");
        let (id, other_id) = ("a".repeat(64), "b".repeat(64));
        let key = keys.record_key(&id);
        let sealed = keys.seal(&id, &key, b"{\"csrf\":\"x\"}").unwrap();
        assert_eq!(keys.open(&id, &key, &sealed).unwrap().as_slice(), b"{\"csrf\":\"x\"}");
        // The server secret without the cookie id (a leaked key file and a store dump): the
        // seal key is derived from the id too.
        assert!(keys.open(&other_id, &key, &sealed).is_none());
        // The cookie id with the record under another store key: the key is bound.
        assert!(keys.open(&id, &keys.record_key(&other_id), &sealed).is_none());
        // The cookie id and the store key on another server.
        assert!(SessionKeys::derive(b"another secret").open(&id, &key, &sealed).is_none());
        // Two seals of one record differ (a fresh nonce each write).
        assert_ne!(keys.seal(&id, &key, b"{\"csrf\":\"x\"}").unwrap(), sealed);
        // Truncated, wrong format byte, one bit changed.
        assert!(keys.open(&id, &key, &sealed[..sealed.len() - 1]).is_none());
        assert!(keys.open(&id, &key, &[]).is_none());
        for format in [1, FORMAT + 1] {
            let mut other_format = sealed.clone();
            other_format[0] = format;
            assert!(keys.open(&id, &key, &other_format).is_none());
        }
        let mut flipped = sealed.clone();
        flipped[30] ^= 0x80;
        assert!(keys.open(&id, &key, &flipped).is_none());
    }

    #[test]
    fn store_keys_and_client_tags_are_keyed_and_reveal_neither_id_nor_address() {
        let keys = SessionKeys::derive(b"server secret");
        let id = "c".repeat(64);
        let key = keys.record_key(&id);
        assert!(key.starts_with(RECORD_PREFIX) && !key.contains(&id));
        assert_ne!(SessionKeys::derive(b"another secret").record_key(&id), key);
        let client = ClientKey::of(Some("192.0.2.7".parse().unwrap()));
        let tag = keys.client_tag(&client);
        assert!(!tag.contains("192") && tag.len() == 32, "{tag}");
        assert_ne!(SessionKeys::derive(b"another secret").client_tag(&client), tag);
    }
}
