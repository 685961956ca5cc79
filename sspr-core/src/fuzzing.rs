//! Entry points for the `cargo-fuzz` targets in `fuzz/` (feature `fuzzing`): the few
//! crate-private decoders a fuzzer must reach. Not part of the public API: hidden from the
//! documentation, and it may change in any release.

use crate::flow::FlowRecord;

/// Decode a flow record as the engine reads one from the state store (anything a shared
/// store holds may be corrupt or foreign). `Some` with the record encoded again when it
/// decodes; `None` when the engine would read it as "expired".
pub fn decode_flow_record(bytes: &[u8]) -> Option<Vec<u8>> {
    FlowRecord::decode(bytes)?.encode().ok()
}

/// Open `bytes` as the engine opens a stored flow value (sealed, `engine/flow_store.rs`) under
/// a fixed flow id: never panics, and `false` for any bytes the engine did not seal for that
/// flow (which a fuzzer cannot make).
pub fn opens_as_flow_value(bytes: &[u8]) -> bool {
    crate::engine::opens_as_flow(FUZZ_FLOW_ID, bytes)
}

/// The flow id the fuzz entry points seal and open under.
const FUZZ_FLOW_ID: &str = "00112233445566778899aabbccddeeff";

/// A PIN as the user typed it, normalised the way `verify_pin` does before any attempt is
/// counted: `Some(digits)` or `None` for input that costs no attempt.
pub fn normalize_typed_pin(typed: &str, digits: u32) -> Option<String> {
    crate::pin::normalize_typed(typed, digits)
}

/// Run every pure step of the flow state machine on a decoded record at `now_secs` (Unix
/// time) under the default policy, encoding each result: whatever a store returns, no step
/// may panic (time arithmetic on hostile timestamps included). `false` when the bytes do not
/// decode.
pub fn exercise_flow_record(bytes: &[u8], now_secs: i64) -> bool {
    let Some(record) = FlowRecord::decode(bytes) else { return false };
    let policy = crate::policy::Policy::default();
    let now = crate::flow::from_ts(now_secs);
    let mut next = Vec::new();
    for channel in [crate::api::Channel::Email, crate::api::Channel::Sms] {
        if record.check_send(now, &policy, channel).is_ok() {
            next.push(record.with_pin(channel, [0; 32], now, &policy));
        }
    }
    if record.check_verify(now).is_ok() {
        next.push(record.after_wrong_pin().0);
        next.push(record.after_right_pin(now));
    }
    if record.check_complete(now).is_ok() {
        next.push(record.completing(now));
        next.push(record.completed(now));
    }
    let _ = (record.expires(), record.remaining_methods(), record.pin_channel(), record.is_verified_fully());
    // Each record a step makes round-trips, plain and sealed as the engine stores it.
    next.iter().all(|r| {
        r.encode().is_ok_and(|bytes| FlowRecord::decode(&bytes).as_ref() == Some(r))
            && crate::engine::sealed_and_opened(FUZZ_FLOW_ID, r).as_ref() == Some(r)
    })
}
