//! `EmailAddress::parse` on any text: never panics; what it accepts is ASCII without white
//! space or control characters (no header injection), parses to itself again, and masks
//! to one character of the mailbox and of the domain.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspr_core::{EmailAddress, mask};

fuzz_target!(|text: &str| {
    let Ok(address) = EmailAddress::parse(text) else { return };
    let s = address.as_str();
    assert!(s.len() <= 254);
    assert!(s.is_ascii() && !s.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()), "{s:?}");
    assert_eq!(EmailAddress::parse(s).expect("a normalised address parses").as_str(), s);
    // The mask shows one character of the mailbox and of the domain, and the top-level domain.
    let masked = mask::email(&address);
    let (masked_local, masked_domain) = masked.split_once('@').expect("a mask has an @");
    assert_eq!(masked_local.len(), 4, "{masked:?}");
    assert!(masked_local.ends_with("***") && masked_domain.get(1..5) == Some("***."), "{masked:?}");
});
