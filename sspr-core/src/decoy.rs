//! Decoy contact methods for logins that cannot reset (unknown, disabled, ineligible, not
//! enabled, no contact, privileged): stable per login, derived from HMAC(key, login), shaped
//! like real masks, so the answer does not tell whether an account exists.
//!
//! Shaped like real masks means drawn like them: the first letter of a real alternate address
//! follows given names (many j, m, a, s; rarely a digit) and its domain a few providers (gmail,
//! hotmail...). Uniform draws stood out to anyone counting initials over many answers, so every
//! part is drawn from a weighted table of the policy: `decoy_email_initials`,
//! `decoy_domain_initials`, `decoy_email_tlds` and `decoy_country_codes` (a list's repeats are
//! its weights).

use std::collections::BTreeMap;

use crate::api::Channel;
use crate::input::NormalizedLogin;
use crate::mask;
use crate::policy::Policy;
use crate::secret::{KeyPurpose, SecretKey};

/// The decoy methods for `login`: the same every time for the same key and login.
///
/// With SMS off every decoy offers e-mail only, like every real user; with SMS on, six in
/// ten offer e-mail only, three both, one SMS only.
///
/// The HMAC's first six 32-bit words (big-endian) each draw one part, a word `w` choosing
/// among `n` equally weighted outcomes as `floor(w * n / 2^32)`: 0 whether SMS is offered (of
/// 10), 1 the local part's initial and 2 the domain's (weighted tables, in key order), 3 the
/// top-level domain, 4 the country code, 5 the last two digits (of 100).
pub fn methods(key: &SecretKey, login: &NormalizedLogin, policy: &Policy) -> Vec<(Channel, String)> {
    let h = key.mac(KeyPurpose::Decoy, &[login.as_str().as_bytes()]);
    let word =
        |i: usize| h.get(4 * i..4 * i + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map_or(0, u32::from_be_bytes);
    let local = weighted(&policy.decoy_email_initials, word(1)).unwrap_or('a');
    let domain = weighted(&policy.decoy_domain_initials, word(2)).unwrap_or('g');
    let tld = pick(&policy.decoy_email_tlds, word(3)).unwrap_or("com");
    let email = mask::email_from_parts(local, domain, tld);
    let phone = pick(&policy.decoy_country_codes, word(4))
        .map(|code| mask::phone_from_parts(code, &format!("{:02}", scaled(word(5), 100))));
    match (policy.sms_enabled, scaled(word(0), 10), phone) {
        (true, 6..=8, Some(phone)) => vec![(Channel::Email, email), (Channel::Sms, phone)],
        (true, 9, Some(phone)) => vec![(Channel::Sms, phone)],
        // SMS off, e-mail only by the roll, or (never with a valid policy) no country code.
        _ => vec![(Channel::Email, email)],
    }
}

/// `w` scaled to `0..n`: `floor(w * n / 2^32)`, as even as 32 bits allow (no modulo bias).
fn scaled(w: u32, n: u64) -> u64 {
    (u64::from(w) * n) >> 32
}

/// An entry of `list`, its repeats being its weights.
fn pick(list: &[String], w: u32) -> Option<&str> {
    let i = usize::try_from(scaled(w, list.len() as u64)).ok()?;
    list.get(i).map(String::as_str)
}

/// A character of `table` (one-character keys and their weights), by weight, in key order.
fn weighted(table: &BTreeMap<String, u32>, w: u32) -> Option<char> {
    let total: u64 = table.values().map(|&v| u64::from(v)).sum();
    let mut target = scaled(w, total);
    for (key, &weight) in table {
        if target < u64::from(weight) {
            return key.chars().next();
        }
        target -= u64::from(weight);
    }
    None
}

/// The default weights of a decoy address's first character: the initials of given names
/// (from name frequency tables of English-, German-, French-, Spanish- and Italian-speaking
/// countries), with digits rare, as in real alternate addresses. In parts per thousand.
pub(crate) fn default_email_initials() -> BTreeMap<String, u32> {
    let letters = [
        ('a', 85),
        ('b', 40),
        ('c', 65),
        ('d', 60),
        ('e', 40),
        ('f', 15),
        ('g', 25),
        ('h', 22),
        ('i', 10),
        ('j', 105),
        ('k', 50),
        ('l', 50),
        ('m', 95),
        ('n', 22),
        ('o', 7),
        ('p', 28),
        ('q', 1),
        ('r', 50),
        ('s', 72),
        ('t', 42),
        ('u', 2),
        ('v', 12),
        ('w', 15),
        ('x', 1),
        ('y', 6),
        ('z', 5),
    ];
    let digits = ('0'..='9').map(|d| (d, 1));
    letters.into_iter().chain(digits).map(|(c, w)| (c.to_string(), w)).collect()
}

/// The default weights of a decoy address's domain initial: the providers most alternate
/// addresses are at (gmail and gmx; hotmail, outlook, live, msn; yahoo; icloud; aol; web.de,
/// proton, t-online...), and a little of every other letter.
pub(crate) fn default_domain_initials() -> BTreeMap<String, u32> {
    [
        ('g', 50),
        ('h', 10),
        ('o', 8),
        ('y', 8),
        ('i', 5),
        ('m', 4),
        ('a', 3),
        ('l', 3),
        ('p', 3),
        ('w', 3),
        ('c', 2),
        ('t', 2),
        ('b', 1),
        ('e', 1),
        ('f', 1),
        ('k', 1),
        ('n', 1),
        ('r', 1),
        ('s', 1),
        ('u', 1),
        ('v', 1),
        ('z', 1),
    ]
    .into_iter()
    .map(|(c, w)| (c.to_string(), w))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms_policy() -> Policy {
        Policy { sms_enabled: true, decoy_country_codes: vec!["1".into()], ..Policy::default() }
    }

    #[test]
    fn decoys_are_stable_and_differ_per_login_and_key() {
        let key = SecretKey::from_bytes(&[1; 32]).unwrap();
        let other_key = SecretKey::from_bytes(&[2; 32]).unwrap();
        let policy = sms_policy();
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

    #[test]
    fn weighted_draws_follow_their_weights_at_the_edges() {
        let table: BTreeMap<String, u32> = [("a".to_string(), 1), ("b".to_string(), 3)].into_iter().collect();
        assert_eq!(weighted(&table, 0), Some('a'));
        assert_eq!(weighted(&table, (1 << 30) - 1), Some('a'));
        assert_eq!(weighted(&table, 1 << 30), Some('b'));
        assert_eq!(weighted(&table, u32::MAX), Some('b'));
        assert_eq!(weighted(&BTreeMap::new(), 7), None);
        assert_eq!(scaled(u32::MAX, 100), 99);
        assert_eq!(pick(&["x".into(), "y".into()], u32::MAX), Some("y"));
    }

    #[test]
    fn the_sms_split_is_six_three_one_in_ten() {
        let key = SecretKey::from_bytes(&[3; 32]).unwrap();
        let policy = sms_policy();
        let mut shapes = [0u32; 3];
        for i in 0..10_000 {
            let login = NormalizedLogin::parse(&format!("u{i}")).unwrap();
            let m = methods(&key, &login, &policy);
            let shape = match (m.len(), m[0].0) {
                (1, Channel::Email) => 0,
                (2, _) => 1,
                _ => 2,
            };
            shapes[shape] += 1;
        }
        assert!(
            (5800..6200).contains(&shapes[0]) && (2800..3200).contains(&shapes[1]) && (850..1150).contains(&shapes[2])
        );
    }
}
