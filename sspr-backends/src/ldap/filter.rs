//! RFC 4515 escaping of values put into search filters.

use std::fmt::Write as _;

/// Escape `value` for use as an assertion value in an LDAP search filter (RFC 4515 §3):
/// `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`. Other characters,
/// including non-ASCII ones, stay as UTF-8, which RFC 4515 allows.
///
/// ```
/// use sspr_backends::ldap::escape_filter_value;
/// assert_eq!(escape_filter_value("*)(uid=*"), r"\2a\29\28uid=\2a");
/// assert_eq!(escape_filter_value("jdoe"), "jdoe");
/// ```
pub fn escape_filter_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '*' | '(' | ')' | '\\' | '\0' => {
                let _ = write!(out, "\\{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metacharacter_is_escaped() {
        assert_eq!(escape_filter_value("a*b(c)d\\e\0f"), r"a\2ab\28c\29d\5ce\00f");
        assert_eq!(escape_filter_value(r"\2a"), r"\5c2a");
        assert_eq!(escape_filter_value("Jöhn Dœ"), "Jöhn Dœ");
        assert_eq!(escape_filter_value(""), "");
    }

    #[test]
    fn escaped_values_hold_no_metacharacter() {
        let hostile = "*)(|(objectClass=*))(\\\0";
        let escaped = escape_filter_value(hostile);
        assert!(!escaped.contains(['*', '(', ')', '\0']), "{escaped}");
        // every backslash starts a two-digit hex escape
        let bytes = escaped.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\\' {
                assert!(bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)));
            }
        }
    }
}
