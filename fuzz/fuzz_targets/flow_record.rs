//! The flow-record decoder on any bytes (a corrupt, truncated or foreign value in a shared
//! state store): never panics; what decodes re-encodes to bytes that decode to the same, and
//! every step of the state machine on it, at any time, neither panics nor produces a record
//! that does not round-trip (plain, and sealed as the engine stores it). Opening the bytes as
//! a sealed flow value never panics and never succeeds: nobody but the flow's holder can seal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspr_core::fuzzing::{decode_flow_record, exercise_flow_record, opens_as_flow_value};

fuzz_target!(|input: (i64, &[u8])| {
    let (now, bytes) = input;
    assert!(!opens_as_flow_value(bytes), "bytes the engine did not seal opened as a flow value");
    let Some(encoded) = decode_flow_record(bytes) else { return };
    let again = decode_flow_record(&encoded).expect("a re-encoded record decodes");
    assert_eq!(again, encoded, "decode . encode is not stable");
    assert!(exercise_flow_record(bytes, now), "a step produced a record that does not round-trip");
});
