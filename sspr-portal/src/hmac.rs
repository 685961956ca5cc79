//! The portal's one HMAC-SHA256: the keys it derives from the server key (CSRF, sessions), the
//! server key's fingerprint in a shared store, and the MACs made with them.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// HMAC-SHA256 under `key` of `parts`, concatenated (callers give fixed-length or labelled
/// parts). Zeroized on drop: most results are keys.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // HMAC takes keys of any length: this cannot fail.
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) {
        for part in parts {
            mac.update(part);
        }
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}
