//! `Policy::from_toml` on any text: never panics; an accepted policy validates, and writing
//! it out and reading it back gives the same policy.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspr_core::Policy;

fuzz_target!(|text: &str| {
    let Ok(policy) = Policy::from_toml(text) else { return };
    policy.validate().expect("an accepted policy is valid");
    let written = policy.to_toml().expect("an accepted policy can be written");
    let back = Policy::from_toml(&written).expect("a written policy reads back");
    assert_eq!(back, policy);
});
