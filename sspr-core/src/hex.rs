//! Hex as sspr writes ids and reads keys and seeds: lower-case out, either case in, nothing
//! else accepted (no sign, no separator, no `0x`). Twenty lines instead of a dependency.

/// Encode bytes as lower-case hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    encode_into(bytes, &mut out);
    out
}

/// Append the lower-case hex of `bytes` to `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(digit(b >> 4)));
        out.push(char::from(digit(b & 0x0f)));
    }
}

/// Append the lower-case hex of `bytes` to `out`, as ASCII bytes.
pub(crate) fn encode_bytes_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0x0f));
    }
}

/// Whether `text` is the lower-case hex of `bytes` ([`encode`]), without building it.
pub(crate) fn is_hex_of(text: &str, bytes: &[u8]) -> bool {
    text.len() == bytes.len() * 2
        && text.as_bytes().chunks_exact(2).zip(bytes).all(|(pair, b)| pair == [digit(b >> 4), digit(b & 0x0f)])
}

/// The lower-case hex digit of a nibble (`0..16`).
fn digit(nibble: u8) -> u8 {
    if nibble < 10 { b'0' + nibble } else { b'a' + (nibble - 10) }
}

/// Decode hex (either case); `None` on odd length or a non-hex digit.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| {
            let hi = char::from(*pair.first()?).to_digit(16)?;
            let lo = char::from(*pair.get(1)?).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(super::encode(&bytes), "0001abff");
        assert_eq!(super::decode("0001ABff").unwrap(), bytes);
        assert!(super::decode("abc").is_none());
        assert!(super::decode("gg").is_none());
    }

    #[test]
    fn byte_encoding_and_comparison_agree_with_encode() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = super::encode(&bytes);
        let mut out = b"x".to_vec();
        super::encode_bytes_into(&bytes, &mut out);
        assert_eq!(out[1..], *text.as_bytes());
        assert!(super::is_hex_of(&text, &bytes));
        assert!(!super::is_hex_of(&text.to_uppercase(), &bytes));
        assert!(!super::is_hex_of(&text[..text.len() - 2], &bytes));
        assert!(!super::is_hex_of("0g", &[0x0f]));
    }
}
