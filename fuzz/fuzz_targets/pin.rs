//! The PIN as typed (`verify_pin`'s first step): never panics, and only exactly `digits`
//! ASCII digits (after dropping spaces and dashes) reach the compare; everything else costs
//! no attempt.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspr_core::fuzzing::normalize_typed_pin;

fuzz_target!(|input: (u8, &str)| {
    let (digits, typed) = input;
    let digits = u32::from(digits % 16);
    if let Some(pin) = normalize_typed_pin(typed, digits) {
        assert_eq!(pin.len(), digits as usize);
        assert!(pin.bytes().all(|b| b.is_ascii_digit()));
        let kept: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        assert_eq!(pin, kept);
    }
});
