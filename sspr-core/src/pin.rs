//! One-time PINs: generated from the CSPRNG, stored only as a keyed hash, checked in
//! constant time.

use rand_chacha::ChaCha20Rng;
use subtle::ConstantTimeEq;

use crate::rng::uniform_below;
use crate::secret::{KeyPurpose, Pin, SecretKey};

/// A PIN's hash: HMAC-SHA256 under the server's PIN key, bound to its flow.
pub type PinHash = [u8; 32];

/// Entropy of a PIN of `digits` decimal digits, in bits (computed, not asserted).
///
/// ```
/// assert!((sspr_core::pin::entropy_bits(8) - 26.575).abs() < 0.001);
/// ```
pub fn entropy_bits(digits: u32) -> f64 {
    f64::from(digits) * 10f64.log2()
}

/// Draw a PIN of `digits` decimal digits, each uniform (rejection sampling, no modulo bias).
pub fn generate(rng: &mut ChaCha20Rng, digits: u32) -> Pin {
    let mut text = String::with_capacity(digits.min(64) as usize);
    for _ in 0..digits {
        let d = uniform_below(rng, 10);
        text.push(char::from_digit(d, 10).unwrap_or('0'));
    }
    Pin::new(text)
}

/// The hash stored for `pin` of flow `flow_id`. Binding the flow id means a hash copied
/// to another flow does not verify there.
pub fn hash(key: &SecretKey, flow_id: &str, pin: &str) -> PinHash {
    key.mac(KeyPurpose::Pin, &[flow_id.as_bytes(), pin.as_bytes()])
}

/// Whether `pin` matches `stored`, compared in constant time.
pub fn matches(key: &SecretKey, flow_id: &str, pin: &str, stored: &PinHash) -> bool {
    hash(key, flow_id, pin).ct_eq(stored).into()
}

/// Whether `pin` matches `stored` under any key of `keys` (the current key and those retired
/// recently): every key is tried, none skipped on a match, and the verdicts are combined in
/// constant time, so the time taken says neither whether nor under which key it matched.
///
/// Trying a retired key adds no guess: a wrong PIN matches a hash made under another key only
/// by a 256-bit collision.
pub fn matches_any<'a>(
    keys: impl IntoIterator<Item = &'a SecretKey>,
    flow_id: &str,
    pin: &str,
    stored: &PinHash,
) -> bool {
    keys.into_iter().fold(subtle::Choice::from(0), |found, key| found | hash(key, flow_id, pin).ct_eq(stored)).into()
}

/// Normalise a PIN as typed: spaces and dashes dropped ("1234 5678"). `None` when what is
/// left is not exactly `digits` ASCII digits.
pub(crate) fn normalize_typed(typed: &str, digits: u32) -> Option<String> {
    if typed.len() > 64 {
        return None;
    }
    let pin: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (pin.len() == digits as usize && pin.bytes().all(|b| b.is_ascii_digit())).then_some(pin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn digits_are_uniform_enough() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            for c in generate(&mut rng, 8).expose_secret().chars() {
                counts[c.to_digit(10).unwrap() as usize] += 1;
            }
        }
        // 80,000 digits: each expected 8,000; 6 sigma is about 510.
        for n in counts {
            assert!((7_490..=8_510).contains(&n), "{counts:?}");
        }
    }

    #[test]
    fn hash_is_bound_to_flow_and_key() {
        let key = SecretKey::from_bytes(&[9; 32]).unwrap();
        let other = SecretKey::from_bytes(&[8; 32]).unwrap();
        let h = hash(&key, "flow-a", "12345678");
        assert!(matches(&key, "flow-a", "12345678", &h));
        assert!(!matches(&key, "flow-b", "12345678", &h));
        assert!(!matches(&other, "flow-a", "12345678", &h));
        assert!(!matches(&key, "flow-a", "12345679", &h));
    }

    #[test]
    fn a_pin_hashed_under_a_retired_key_matches_through_the_ring() {
        let (new, old, stranger) = (
            SecretKey::from_bytes(&[1; 32]).unwrap(),
            SecretKey::from_bytes(&[2; 32]).unwrap(),
            SecretKey::from_bytes(&[3; 32]).unwrap(),
        );
        let h = hash(&old, "flow-a", "12345678");
        assert!(matches_any([&new, &old], "flow-a", "12345678", &h));
        assert!(!matches_any([&new, &old], "flow-a", "12345679", &h));
        assert!(!matches_any([&new, &stranger], "flow-a", "12345678", &h));
        assert!(!matches_any([], "flow-a", "12345678", &h));
    }

    #[test]
    fn typed_pins_are_normalised() {
        assert_eq!(normalize_typed(" 1234 5678 ", 8).as_deref(), Some("12345678"));
        assert_eq!(normalize_typed("1234-5678", 8).as_deref(), Some("12345678"));
        assert_eq!(normalize_typed("1234567", 8), None);
        assert_eq!(normalize_typed("1234567a", 8), None);
        assert_eq!(normalize_typed("١٢٣٤٥٦٧٨", 8), None); // Arabic-Indic digits are not ASCII
    }
}
