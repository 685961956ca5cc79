//! `Policy::from_json` on any text: never panics; an accepted policy validates and survives
//! a round trip through JSON and through TOML.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspr_core::Policy;

fuzz_target!(|text: &str| {
    let Ok(policy) = Policy::from_json(text) else { return };
    policy.validate().expect("an accepted policy is valid");
    let json = serde_json::to_string(&policy).expect("an accepted policy serialises");
    assert_eq!(Policy::from_json(&json).expect("its JSON reads back"), policy);
    let toml = policy.to_toml().expect("an accepted policy can be written as TOML");
    assert_eq!(Policy::from_toml(&toml).expect("its TOML reads back"), policy);
});
