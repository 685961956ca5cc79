//! `NormalizedLogin::parse` on any text: never panics, accepts at most 256 characters, and
//! is idempotent (the normalised form normalises to itself, so a login read back from a
//! stored flow keys the same counters and decoys as the login typed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspr_core::{MAX_LOGIN_CHARS, NormalizedLogin};

fuzz_target!(|text: &str| {
    let Ok(login) = NormalizedLogin::parse(text) else { return };
    let normal = login.as_str();
    assert!(!normal.is_empty());
    assert!(normal.chars().count() <= MAX_LOGIN_CHARS, "{normal:?}");
    assert!(!normal.chars().any(char::is_control), "{normal:?}");
    let again = NormalizedLogin::parse(normal).expect("a normalised login parses");
    assert_eq!(again.as_str(), normal, "normalisation is not idempotent for {text:?}");
});
