//! `PhoneNumber::parse` on any text: never panics; what it accepts is E.164 (`+` and at most
//! 15 digits, more than its country code: E.164 sets no minimum, and some plans' mobiles are
//! seven digits in all, e.g. `+2781794`), parses to itself again, has a country code, and masks
//! to the last two digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspr_core::{PhoneNumber, mask};

fuzz_target!(|text: &str| {
    let Ok(number) = PhoneNumber::parse(text) else { return };
    let s = number.as_str();
    let digits = s.strip_prefix('+').expect("E.164 starts with +");
    assert!(digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()), "{s:?}");
    assert_eq!(PhoneNumber::parse(s).expect("a normalised number parses").as_str(), s);
    let cc = number.country_code();
    assert!((1..=3).contains(&cc.len()) && digits.starts_with(cc) && digits.len() > cc.len(), "{s:?} -> {cc:?}");
    let masked = mask::phone(&number);
    let shown = masked.chars().filter(char::is_ascii_digit).count();
    assert!(shown <= cc.len() + 2, "{masked:?} shows too much of {s:?}");
});
