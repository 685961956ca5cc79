//! The password policy response control (draft-behera-ldap-password-policy), as OpenLDAP's
//! ppolicy overlay sends it on a bind: a few bytes of BER that ldap3 does not parse.

/// The control's OID, for the request (no value) and the response.
pub(crate) const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// The `error` field of the response value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PpolicyError {
    PasswordExpired,
    AccountLocked,
    ChangeAfterReset,
    Other(u8),
}

/// Parse `PasswordPolicyResponseValue ::= SEQUENCE { warning [0] ... OPTIONAL,
/// error [1] ENUMERATED OPTIONAL }` and return the error, if any. `None` also for a value
/// that is not well-formed (the bind's own result code then decides).
pub(crate) fn parse_response(value: &[u8]) -> Option<PpolicyError> {
    let (tag, body, _) = read_tlv(value)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = body;
    while !rest.is_empty() {
        let (tag, content, next) = read_tlv(rest)?;
        if tag == 0x81 {
            // [1] IMPLICIT ENUMERATED: one byte in practice (values 0..=8).
            return match content {
                [0] => Some(PpolicyError::PasswordExpired),
                [1] => Some(PpolicyError::AccountLocked),
                [2] => Some(PpolicyError::ChangeAfterReset),
                [n] => Some(PpolicyError::Other(*n)),
                _ => None,
            };
        }
        rest = next;
    }
    None
}

/// One tag-length-value: (tag, content, the bytes after it). Short and long definite lengths.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let (content, after) = rest.split_at_checked(len)?;
    Some((tag, content, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_after_reset_as_slapd_sends_it() {
        assert_eq!(parse_response(&[0x30, 0x03, 0x81, 0x01, 0x02]), Some(PpolicyError::ChangeAfterReset));
    }

    #[test]
    fn warning_then_error() {
        // warning: timeBeforeExpiration 300, then error accountLocked
        let value = [0x30, 0x09, 0xa0, 0x04, 0x80, 0x02, 0x01, 0x2c, 0x81, 0x01, 0x01];
        assert_eq!(parse_response(&value), Some(PpolicyError::AccountLocked));
        assert_eq!(parse_response(&[0x30, 0x03, 0x81, 0x01, 0x00]), Some(PpolicyError::PasswordExpired));
    }

    #[test]
    fn no_error_and_malformed_values() {
        assert_eq!(parse_response(&[0x30, 0x00]), None);
        assert_eq!(parse_response(&[0x30, 0x06, 0xa0, 0x04, 0x81, 0x02, 0x00, 0x05]), None); // grace only
        assert_eq!(parse_response(&[]), None);
        assert_eq!(parse_response(&[0x30, 0x05, 0x81, 0x01]), None); // truncated
        assert_eq!(parse_response(&[0x31, 0x03, 0x81, 0x01, 0x02]), None); // not a SEQUENCE
        assert_eq!(parse_response(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None); // huge length
    }
}
