//! Stateless CSRF tokens for visitors without a server session.
//!
//! Anonymous pages must not cost server memory (a flood of cookie-less GETs once filled the
//! session table), yet their forms need a CSRF token. The token is signed and double
//! submitted: `nonce ‖ expiry ‖ HMAC-SHA256(key, nonce ‖ expiry)` as hex, once in an
//! HttpOnly, SameSite=Strict cookie and once in each form; a post is accepted when both are
//! the same valid, unexpired token. Another site can neither read the cookie nor forge a
//! token (the key is derived from the portal's secret key and never leaves the server), and
//! over https the `__Host-` prefix stops a sibling domain from planting the cookie.
//!
//! When a form first needs server state, the session adopts the visitor's token, so the
//! forms already on the visitor's screen stay valid; sign-in and a verified PIN replace it.

use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::hmac::hmac_sha256;

/// What the key is derived for (domain separation from every other use of the secret).
const LABEL: &[u8] = b"sspr-portal anonymous csrf token v1";
const NONCE: usize = 16;
const EXPIRY: usize = 8;
const MAC: usize = 32;
/// The token's length in hex digits.
pub(crate) const TOKEN_HEX_LEN: usize = 2 * (NONCE + EXPIRY + MAC);

/// The key that signs anonymous CSRF tokens. No `Debug` of its bytes.
pub(crate) struct CsrfKey {
    key: Zeroizing<[u8; 32]>,
    lifetime: Duration,
}

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfKey").field("key", &"[REDACTED]").field("lifetime", &self.lifetime).finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

impl CsrfKey {
    /// Derive the key from the portal's secret (the key file's text) with HMAC-SHA256;
    /// tokens live `lifetime`.
    pub(crate) fn derive(secret: &[u8], lifetime: Duration) -> Self {
        Self { key: hmac_sha256(secret, &[LABEL]), lifetime }
    }

    fn mac(&self, nonce: &[u8; NONCE], expiry: &[u8; EXPIRY]) -> [u8; MAC] {
        *hmac_sha256(self.key.as_ref(), &[nonce, expiry])
    }

    /// A new token, valid for the key's lifetime from `now`.
    pub(crate) fn mint(&self, now: OffsetDateTime) -> String {
        let nonce = super::session::random_bytes::<NONCE>();
        let expiry = (now + self.lifetime).unix_timestamp().to_be_bytes();
        let mac = self.mac(&nonce, &expiry);
        format!("{}{}{}", hex(&nonce), hex(&expiry), hex(&mac))
    }

    /// When `token` expires, if it is one of ours and still valid at `now`.
    pub(crate) fn check(&self, token: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
        if token.len() != TOKEN_HEX_LEN {
            return None;
        }
        let nonce = unhex::<NONCE>(token.get(..2 * NONCE)?)?;
        let expiry_bytes = unhex::<EXPIRY>(token.get(2 * NONCE..2 * (NONCE + EXPIRY))?)?;
        let mac = unhex::<MAC>(token.get(2 * (NONCE + EXPIRY)..)?)?;
        if !bool::from(self.mac(&nonce, &expiry_bytes).ct_eq(&mac)) {
            return None;
        }
        let expiry = OffsetDateTime::from_unix_timestamp(i64::from_be_bytes(expiry_bytes)).ok()?;
        (expiry > now).then_some(expiry)
    }

    /// Whether a valid token expiring at `expiry` should be replaced at `now` (less than half
    /// its life left), so that a page shown now keeps a usable form for a while.
    pub(crate) fn needs_renewal(&self, expiry: OffsetDateTime, now: OffsetDateTime) -> bool {
        expiry - now < self.lifetime / 2
    }

    /// The token's lifetime (the cookie's `Max-Age`).
    pub(crate) fn lifetime(&self) -> Duration {
        self.lifetime
    }
}

/// Whether the form's token is the cookie's (both present; constant time).
pub(crate) fn same(cookie: &str, form: &str) -> bool {
    !form.is_empty() && cookie.len() == form.len() && bool::from(cookie.as_bytes().ct_eq(form.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_token_is_valid_until_it_expires_and_only_under_its_key() {
        let now = datetime!(2026-01-01 10:00 UTC);
        let key = CsrfKey::derive(b"secret one", Duration::minutes(60));
        let token = key.mint(now);
        assert_eq!(token.len(), TOKEN_HEX_LEN);
        assert_eq!(key.check(&token, now), Some(now + Duration::minutes(60)));
        assert!(key.check(&token, now + Duration::minutes(59)).is_some());
        assert!(key.check(&token, now + Duration::minutes(60)).is_none(), "expired at its end");
        assert!(CsrfKey::derive(b"secret two", Duration::minutes(60)).check(&token, now).is_none());
        assert_ne!(key.mint(now), token, "a fresh nonce each time");
    }

    #[test]
    fn forged_or_altered_tokens_are_refused() {
        let now = datetime!(2026-01-01 10:00 UTC);
        let key = CsrfKey::derive(b"secret", Duration::minutes(60));
        let token = key.mint(now);
        // A later expiry with the old MAC.
        let later = hex(&(now + Duration::days(365)).unix_timestamp().to_be_bytes());
        let extended = format!("{}{}{}", &token[..32], later, &token[48..]);
        assert!(key.check(&extended, now).is_none());
        for bad in ["", "zz", &token[..TOKEN_HEX_LEN - 2], &format!("{token}00"), &"0".repeat(TOKEN_HEX_LEN)] {
            assert!(key.check(bad, now).is_none(), "{bad}");
        }
        let mut flipped = token.clone().into_bytes();
        flipped[5] = if flipped[5] == b'0' { b'1' } else { b'0' };
        assert!(key.check(&String::from_utf8(flipped).unwrap(), now).is_none());
        assert!(same(&token, &token) && !same(&token, "") && !same(&token, &key.mint(now)));
        assert!(!format!("{key:?}").contains(&hex(key.key.as_ref())));
    }

    #[test]
    fn renewal_once_half_the_life_is_gone() {
        let now = datetime!(2026-01-01 10:00 UTC);
        let key = CsrfKey::derive(b"secret", Duration::minutes(60));
        let expiry = now + Duration::minutes(60);
        assert!(!key.needs_renewal(expiry, now + Duration::minutes(29)));
        assert!(key.needs_renewal(expiry, now + Duration::minutes(31)));
    }
}
