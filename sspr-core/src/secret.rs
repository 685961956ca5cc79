//! Secret values: the server key, PINs and passwords.
//!
//! None of these types derives `Debug` or `Display`; each prints a fixed placeholder, and
//! each is zeroized when dropped. Reading the value takes an explicit call
//! (`expose_secret`), which makes every place a secret leaves its box easy to find.

use std::fmt;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// The server's secret key: keys the PIN hashes, the decoys and the rate-limit subjects.
///
/// It must be at least 32 random bytes, the same on every instance sharing a store, and
/// survive restarts. Sub-keys are derived per purpose, so one key never
/// serves two uses.
pub struct SecretKey {
    pin: SecretBox<[u8; 32]>,
    decoy: SecretBox<[u8; 32]>,
    subject: SecretBox<[u8; 32]>,
    flow_ref: SecretBox<[u8; 32]>,
}

/// The purposes a sub-key is derived for (domain separation).
#[derive(Clone, Copy)]
pub(crate) enum KeyPurpose {
    Pin,
    Decoy,
    Subject,
    /// The reference to a reset flow in audit events (the flow id itself is a credential).
    FlowRef,
}

impl SecretKey {
    /// Shortest accepted key, in bytes.
    pub const MIN_LEN: usize = 32;
    /// Longest accepted key, in bytes.
    pub const MAX_LEN: usize = 1024;

    /// Build the key from raw bytes (at least 32, not all zero).
    ///
    /// ```
    /// let key = sspr_core::SecretKey::from_bytes(&[7u8; 32]).unwrap();
    /// assert_eq!(format!("{key:?}"), "SecretKey([REDACTED])");
    /// assert!(sspr_core::SecretKey::from_bytes(b"short").is_err());
    /// assert!(sspr_core::SecretKey::from_bytes(&[0u8; 32]).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// `Config` when the length is out of bounds or every byte is zero.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&bytes.len()) {
            return Err(Error::Config(format!(
                "the secret key must be {}..={} bytes, got {}",
                Self::MIN_LEN,
                Self::MAX_LEN,
                bytes.len()
            )));
        }
        // A zeroed buffer, an unset variable padded with zeros, a generator that failed into a
        // zero-filled array: a key everyone knows, with which anyone tells decoys from real
        // accounts and computes the PIN hashes and the portal's session seals.
        if bytes.iter().all(|&b| b == 0) {
            return Err(Error::Config(
                "the secret key is all zero bytes, not a random key: generate one (openssl rand -hex 32)".into(),
            ));
        }
        let derive = |label: &[u8]| -> Result<SecretBox<[u8; 32]>> {
            let mut mac = HmacSha256::new_from_slice(bytes).map_err(|_| Error::Config("unusable secret key".into()))?;
            mac.update(b"sspr/v1/");
            mac.update(label);
            let out: [u8; 32] = mac.finalize().into_bytes().into();
            Ok(SecretBox::new(Box::new(out)))
        };
        Ok(Self {
            pin: derive(b"pin")?,
            decoy: derive(b"decoy")?,
            subject: derive(b"subject")?,
            flow_ref: derive(b"flow-ref")?,
        })
    }

    /// Build the key from a hex string (64+ hex digits), as kept in a config file or env var.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let bytes = Zeroizing::new(
            crate::hex::decode(hex.trim()).ok_or_else(|| Error::Config("the secret key is not valid hex".into()))?,
        );
        Self::from_bytes(&bytes)
    }

    /// Whether `other` is the same key (compared in constant time, through a derived sub-key).
    pub(crate) fn same_as(&self, other: &SecretKey) -> bool {
        subtle::ConstantTimeEq::ct_eq(self.subject.expose_secret().as_slice(), other.subject.expose_secret().as_slice())
            .into()
    }

    /// HMAC-SHA256 of the parts under the sub-key for `purpose`. Parts are length-prefixed,
    /// so `("ab","c")` and `("a","bc")` never collide.
    pub(crate) fn mac(&self, purpose: KeyPurpose, parts: &[&[u8]]) -> [u8; 32] {
        let key = match purpose {
            KeyPurpose::Pin => &self.pin,
            KeyPurpose::Decoy => &self.decoy,
            KeyPurpose::Subject => &self.subject,
            KeyPurpose::FlowRef => &self.flow_ref,
        };
        // A 32-byte key is always accepted by HMAC; the fallback is unreachable.
        let Ok(mut mac) = HmacSha256::new_from_slice(key.expose_secret()) else {
            return [0; 32];
        };
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// A one-time PIN: on its way to the user (only a notifier reads it), or as the user typed it
/// back into [`crate::Sspr::verify_pin`]. Zeroized on drop, never in `Debug`.
pub struct Pin(SecretString);

impl Pin {
    /// A PIN as typed (spaces and dashes are ignored when it is checked).
    pub fn new(digits: impl Into<String>) -> Self {
        Self(SecretString::from(digits.into()))
    }

    /// The digits, for the notifier that delivers them. Never log them.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl Clone for Pin {
    fn clone(&self) -> Self {
        Self::new(self.expose_secret().to_owned())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([REDACTED])")
    }
}

/// A password: the generated temporary one handed back once, or one the user chose.
pub struct Password(SecretString);

impl Password {
    /// Wrap a password (e.g. the one a user typed as their new password).
    pub fn new(password: impl Into<String>) -> Self {
        Self(SecretString::from(password.into()))
    }

    /// The password itself, for the portal to show once or for the directory to set.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl Clone for Password {
    fn clone(&self) -> Self {
        Self::new(self.expose_secret())
    }
}

impl From<String> for Password {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_all_zero_key_is_refused_in_every_form() {
        for len in [SecretKey::MIN_LEN, 64, SecretKey::MAX_LEN] {
            let err = SecretKey::from_bytes(&vec![0u8; len]).unwrap_err();
            assert!(matches!(&err, Error::Config(m) if m.contains("all zero")), "{err}");
        }
        for hex in ["0".repeat(64), format!(" {}\n", "00".repeat(48))] {
            assert!(matches!(SecretKey::from_hex(&hex), Err(Error::Config(m)) if m.contains("all zero")));
        }
        // One bit is enough to be a key (randomness cannot be judged; zero is a known failure).
        let mut one = [0u8; 32];
        one[31] = 1;
        assert!(SecretKey::from_bytes(&one).is_ok());
    }

    #[test]
    fn sub_keys_are_separated_by_purpose() {
        let key = SecretKey::from_bytes(&[1u8; 32]).unwrap();
        let a = key.mac(KeyPurpose::Pin, &[b"x"]);
        let b = key.mac(KeyPurpose::Decoy, &[b"x"]);
        assert_ne!(a, b);
        assert_ne!(key.mac(KeyPurpose::Pin, &[b"ab", b"c"]), key.mac(KeyPurpose::Pin, &[b"a", b"bc"]));
    }

    #[test]
    fn secrets_never_print() {
        let pin = Pin::new("12345678");
        let pw = Password::new("Sup3r-S3cret!");
        assert!(!format!("{pin:?}").contains("1234"));
        assert!(!format!("{pw:?}").contains("S3cret"));
    }

    #[test]
    fn key_from_hex_checks_length_and_digits() {
        assert!(SecretKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(SecretKey::from_hex(&"ab".repeat(31)).is_err());
        assert!(SecretKey::from_hex(&"zz".repeat(32)).is_err());
    }
}
