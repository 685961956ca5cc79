//! The audit-event encoder: any event the engine could build encodes to one line of JSON
//! that decodes to the same event (a SIEM reading the trail gets what was recorded), and
//! decoding arbitrary text as an event never panics.
#![no_main]

use std::net::IpAddr;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use sspr_core::time::OffsetDateTime;
use sspr_core::{
    Actor, AuditEvent, AuditKind, Channel, CompletionMode, DecoyReason, NotAllowedReason, Outcome, UserId,
};

const KINDS: [AuditKind; 15] = [
    AuditKind::ResetRequested,
    AuditKind::PinSent,
    AuditKind::PinFailed,
    AuditKind::PinVerified,
    AuditKind::PinVoided,
    AuditKind::Blocked,
    AuditKind::RateLimited,
    AuditKind::ResetCompleted,
    AuditKind::ResetFailed,
    AuditKind::ContactsChanged,
    AuditKind::EnabledChanged,
    AuditKind::Unblocked,
    AuditKind::FailureAlarm,
    AuditKind::SignIn,
    AuditKind::PasswordChanged,
];
const DECOYS: [DecoyReason; 9] = [
    DecoyReason::UnknownUser,
    DecoyReason::AccountDisabled,
    DecoyReason::Ineligible,
    DecoyReason::NotEnabled,
    DecoyReason::NoContact,
    DecoyReason::Privileged,
    DecoyReason::ConfirmationMismatch,
    DecoyReason::LoginAlias,
    DecoyReason::ContactsUnreadable,
];
const REFUSALS: [NotAllowedReason; 7] = [
    NotAllowedReason::Privileged,
    NotAllowedReason::Ineligible,
    NotAllowedReason::NotEnabled,
    NotAllowedReason::AccountDisabled,
    NotAllowedReason::ModeDisabled,
    NotAllowedReason::AdminOnly,
    NotAllowedReason::ContactUnproven,
];

/// An event as the engine builds one: any text in the free-text fields (user agents and
/// backend error messages come from outside), any IP, a UTC time the engine's clock can
/// show (years 1..=9999: RFC 3339 has four-digit years).
fn event(u: &mut Unstructured<'_>) -> arbitrary::Result<AuditEvent> {
    let secs = u.int_in_range(-62_135_596_800_i64..=253_402_300_799)?;
    let nanos = u.int_in_range(0..=999_999_999_u32)?;
    let at = OffsetDateTime::from_unix_timestamp(secs).map_err(|_| arbitrary::Error::IncorrectFormat)?
        + std::time::Duration::from_nanos(u64::from(nanos));
    let outcome = match u.int_in_range(0..=4_u8)? {
        0 => Outcome::Success,
        1 => Outcome::Decoy { reason: *u.choose(&DECOYS)? },
        2 => Outcome::Refused { reason: *u.choose(&REFUSALS)? },
        3 => Outcome::Limited { limit: String::arbitrary(u)? },
        _ => Outcome::Failed { error: String::arbitrary(u)? },
    };
    let mut e = AuditEvent::new(*u.choose(&KINDS)?, at, outcome);
    e.version = u16::arbitrary(u)?;
    e.flow_ref = Option::<String>::arbitrary(u)?;
    e.user_id = Option::<String>::arbitrary(u)?.map(UserId::new);
    e.login_fingerprint = Option::<String>::arbitrary(u)?;
    e.channel = Option::<bool>::arbitrary(u)?.map(|sms| if sms { Channel::Sms } else { Channel::Email });
    e.destination = Option::<String>::arbitrary(u)?;
    e.mode = match u.int_in_range(0..=3_u8)? {
        0 => None,
        1 => Some(CompletionMode::Temporary),
        2 => Some(CompletionMode::Chosen),
        _ => Some(CompletionMode::UnlockOnly),
    };
    e.client_ip = Option::<IpAddr>::arbitrary(u)?;
    e.user_agent = Option::<String>::arbitrary(u)?;
    e.actor = Option::<Option<String>>::arbitrary(u)?.map(|admin| admin.map_or(Actor::User, Actor::Admin));
    Ok(e)
}

fuzz_target!(|bytes: &[u8]| {
    // Decoding: whatever a log line holds, reading it as an event is an error, not a panic.
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = serde_json::from_str::<AuditEvent>(text);
    }
    // Encoding: one line, and it decodes to the event.
    let Ok(event) = event(&mut Unstructured::new(bytes)) else { return };
    let line = event.to_json();
    assert!(!line.contains('\n') && !line.contains('\r'), "an event spans lines: {line}");
    let back: AuditEvent = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(back, event);
});
