//! Decoy contact methods for logins that cannot reset (unknown, disabled, ineligible, not
//! enabled, no contact, privileged): stable per login, derived from HMAC(key, login), shaped
//! like real masks, so the answer does not tell whether an account exists.

use crate::input::NormalizedLogin;
use crate::mask;
use crate::policy::Policy;
use crate::secret::{KeyPurpose, SecretKey};
use crate::types::Channel;

/// First characters of decoy addresses: letters twice as likely as digits, as in real
/// mailbox names.
const FIRST_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789";

/// The decoy methods for `login`: the same every time for the same key and login.
///
/// With SMS off every decoy offers e-mail only, like every real user; with SMS on, six in
/// ten offer e-mail only, three both, one SMS only.
pub fn methods(key: &SecretKey, login: &NormalizedLogin, policy: &Policy) -> Vec<(Channel, String)> {
    let h = key.mac(KeyPurpose::Decoy, &[login.as_str().as_bytes()]);
    let byte = |i: usize| h.get(i).copied().unwrap_or(0);
    let first = |b: u8| FIRST_CHARS.get(usize::from(b) % FIRST_CHARS.len()).map_or('a', |c| char::from(*c));
    let tlds = &policy.decoy_email_tlds;
    let tld = tlds.get(usize::from(byte(3)) % tlds.len().max(1)).map_or("com", String::as_str);
    let email = mask::email_from_parts(first(byte(1)), first(byte(2)), tld);
    let codes = &policy.decoy_country_codes;
    let code = codes.get(usize::from(byte(4)) % codes.len().max(1)).map_or("1", String::as_str);
    let phone = mask::phone_from_parts(code, &format!("{:02}", byte(5) % 100));
    let roll = byte(0) % 10;
    match (policy.sms_enabled, roll) {
        (false, _) | (true, 0..=5) => vec![(Channel::Email, email)],
        (true, 6..=8) => vec![(Channel::Email, email), (Channel::Sms, phone)],
        (true, _) => vec![(Channel::Sms, phone)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoys_are_stable_and_differ_per_login_and_key() {
        let key = SecretKey::from_bytes(&[1; 32]).unwrap();
        let other_key = SecretKey::from_bytes(&[2; 32]).unwrap();
        let policy = Policy { sms_enabled: true, ..Policy::default() };
        let a = NormalizedLogin::parse("nobody@example.org").unwrap();
        let b = NormalizedLogin::parse("somebody@example.org").unwrap();
        assert_eq!(methods(&key, &a, &policy), methods(&key, &a, &policy));
        let logins: Vec<_> = (0..50).map(|i| NormalizedLogin::parse(&format!("user{i}")).unwrap()).collect();
        let distinct: std::collections::HashSet<_> = logins.iter().map(|l| methods(&key, l, &policy)).collect();
        assert!(distinct.len() > 40);
        assert!(
            methods(&key, &a, &policy) != methods(&other_key, &a, &policy)
                || methods(&key, &b, &policy) != methods(&other_key, &b, &policy)
        );
    }

    #[test]
    fn sms_off_means_email_only_decoys() {
        let key = SecretKey::from_bytes(&[1; 32]).unwrap();
        let policy = Policy::default();
        for i in 0..100 {
            let login = NormalizedLogin::parse(&format!("u{i}")).unwrap();
            let m = methods(&key, &login, &policy);
            assert_eq!(m.len(), 1);
            assert_eq!(m[0].0, Channel::Email);
        }
    }
}
