//! The flow-record decoder on any bytes (a corrupt, truncated or foreign value in a shared
//! state store): never panics; what decodes re-encodes to bytes that decode to the same, and
//! every step of the state machine on it, at any time, neither panics nor produces a record
//! that does not round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspr_core::fuzzing::{decode_flow_record, exercise_flow_record};

fuzz_target!(|input: (i64, &[u8])| {
    let (now, bytes) = input;
    let Some(encoded) = decode_flow_record(bytes) else { return };
    let again = decode_flow_record(&encoded).expect("a re-encoded record decodes");
    assert_eq!(again, encoded, "decode . encode is not stable");
    assert!(exercise_flow_record(bytes, now), "a step produced a record that does not round-trip");
});
