//! Counters and histograms through the [`metrics`] facade.
//!
//! The counters are derived from the engine's audit events; the histograms time each engine
//! call and each backend call (`engine::instrument`, on the engine's clock).
//!
//! Every step the engine takes already records an [`AuditEvent`] at one point
//! (`Sspr::audit`), so the counters are counted there, from the event: one contained
//! point, no I/O in the core (the host installs a recorder, e.g. a Prometheus exporter; with
//! none installed every call here is a no-op), and engine features added later are counted
//! as soon as they record their events.
//!
//! Labels are only the engine's own closed sets (channel, mode, decoy reason, the limit's
//! name, the event kind and outcome). Never a login, address, IP, user id or flow reference:
//! those would leak identifiers into the scrape and make every user a new series.

use metrics::{Key, Level, Metadata, counter};
use serde::Serialize;

use crate::audit::{AuditEvent, AuditKind, Outcome};

/// Every audit event, by kind and outcome.
pub const EVENTS: &str = "sspr_audit_events_total";
/// `begin_reset` calls: `result` real, decoy (with `decoy_reason`), refused, limited or failed.
pub const BEGINS: &str = "sspr_begins_total";
/// PINs sent (`result` real) or pretended (`decoy`), per `channel`.
pub const PINS_SENT: &str = "sspr_pins_sent_total";
/// Deliveries that failed, per `channel` and the event `kind` they belong to.
pub const DELIVERIES_FAILED: &str = "sspr_deliveries_failed_total";
/// PIN verifications: `outcome` verified, wrong_pin or voided.
pub const VERIFICATIONS: &str = "sspr_verifications_total";
/// Completed (`outcome` success) or failed resets, per `mode`.
pub const COMPLETIONS: &str = "sspr_completions_total";
/// Requests refused by a rate limit, per `limit`.
pub const RATE_LIMIT_HITS: &str = "sspr_rate_limit_hits_total";
/// Users blocked after too many failed verifications.
pub const BLOCKS: &str = "sspr_blocks_total";
/// Sign-ins to manage contacts, per `outcome` (success, failed, limited).
pub const SIGN_INS: &str = "sspr_sign_ins_total";
/// Contact details changed.
pub const CONTACT_CHANGES: &str = "sspr_contact_changes_total";
/// The global failed-verification alarm went off (once per hour window).
pub const FAILURE_ALARMS: &str = "sspr_failure_alarms_total";

/// Seconds each public engine call took (padding included: the time the caller waited), per
/// `operation` (the method's name: `begin_reset`, `send_pin`, ...), on the engine's clock.
pub const ENGINE_CALL_SECONDS: &str = "sspr_engine_call_seconds";
/// Seconds each backend call took, per `backend` (`directory`, `contacts`, `store`,
/// `notifier`, `audit`) and `operation` (the trait method's name), on the engine's clock.
pub const BACKEND_CALL_SECONDS: &str = "sspr_backend_call_seconds";

/// Every series name, counters and histograms: what a host's scrape can show.
pub const SERIES: [&str; 13] = [
    EVENTS,
    BEGINS,
    PINS_SENT,
    DELIVERIES_FAILED,
    VERIFICATIONS,
    COMPLETIONS,
    RATE_LIMIT_HITS,
    BLOCKS,
    SIGN_INS,
    CONTACT_CHANGES,
    FAILURE_ALARMS,
    ENGINE_CALL_SECONDS,
    BACKEND_CALL_SECONDS,
];

/// Histogram buckets (seconds) suited to both series: 1 ms to 30 s. A host's Prometheus
/// recorder should use them for the `_seconds` series (without buckets,
/// `metrics-exporter-prometheus` renders a summary).
pub const SECONDS_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// What the facade's macros give a series recorded from this module.
static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The key of one engine call's series, `ENGINE_CALL_SECONDS{operation}`, made once (a
/// `static`) where the call is instrumented: a key whose labels are built per call allocates
/// them on every call, even with no recorder installed.
macro_rules! engine_call_key {
    ($operation:expr) => {{
        static LABELS: [::metrics::Label; 1] = [::metrics::Label::from_static_parts("operation", $operation)];
        static KEY: ::metrics::Key = ::metrics::Key::from_static_parts($crate::telemetry::ENGINE_CALL_SECONDS, &LABELS);
        &KEY
    }};
}
pub(crate) use engine_call_key;

/// The key of one backend call's series, `BACKEND_CALL_SECONDS{backend,operation}`, made once
/// per call site as [`engine_call_key!`].
macro_rules! backend_call_key {
    ($backend:expr, $operation:expr) => {{
        static LABELS: [::metrics::Label; 2] = [
            ::metrics::Label::from_static_parts("backend", $backend),
            ::metrics::Label::from_static_parts("operation", $operation),
        ];
        static KEY: ::metrics::Key =
            ::metrics::Key::from_static_parts($crate::telemetry::BACKEND_CALL_SECONDS, &LABELS);
        &KEY
    }};
}
pub(crate) use backend_call_key;

/// Record one engine call's duration under its [`engine_call_key!`].
pub(crate) fn engine_call(key: &'static Key, seconds: f64) {
    metrics::with_recorder(|recorder| recorder.register_histogram(key, &METADATA)).record(seconds);
}

/// Record one backend call's duration under its [`backend_call_key!`].
pub(crate) fn backend_call(key: &'static Key, seconds: f64) {
    metrics::with_recorder(|recorder| recorder.register_histogram(key, &METADATA)).record(seconds);
}

/// Count `event` in the series it belongs to.
pub(crate) fn count(event: &AuditEvent) {
    // Every label value is a `&'static str`: a label built from one is not copied.
    let kind = name_of(&event.kind);
    let outcome = outcome_name(&event.outcome);
    counter!(EVENTS, "kind" => kind, "outcome" => outcome).increment(1);
    let channel = event.channel.map_or("none", |c| c.as_str());
    match (event.kind, &event.outcome) {
        (AuditKind::ResetRequested, Outcome::Decoy { reason }) => {
            counter!(BEGINS, "result" => "decoy", "decoy_reason" => name_of(reason)).increment(1);
        }
        (AuditKind::ResetRequested, other) => {
            let result = if matches!(other, Outcome::Success) { "real" } else { outcome };
            counter!(BEGINS, "result" => result, "decoy_reason" => "none").increment(1);
        }
        (AuditKind::PinSent, Outcome::Success) => {
            counter!(PINS_SENT, "channel" => channel, "result" => "real").increment(1);
        }
        (AuditKind::PinSent, Outcome::Decoy { .. }) => {
            counter!(PINS_SENT, "channel" => channel, "result" => "decoy").increment(1);
        }
        (AuditKind::PinVerified, _) => counter!(VERIFICATIONS, "outcome" => "verified").increment(1),
        (AuditKind::PinFailed, _) => counter!(VERIFICATIONS, "outcome" => "wrong_pin").increment(1),
        (AuditKind::PinVoided, _) => counter!(VERIFICATIONS, "outcome" => "voided").increment(1),
        (AuditKind::ResetCompleted | AuditKind::ResetFailed, _) => {
            let mode = event.mode.as_ref().map_or("none", name_of);
            let result = if event.kind == AuditKind::ResetCompleted { "success" } else { "failed" };
            counter!(COMPLETIONS, "mode" => mode, "outcome" => result).increment(1);
        }
        (AuditKind::Blocked, _) => counter!(BLOCKS).increment(1),
        (AuditKind::SignIn, _) => counter!(SIGN_INS, "outcome" => outcome).increment(1),
        (AuditKind::ContactsChanged, Outcome::Success) => counter!(CONTACT_CHANGES).increment(1),
        (AuditKind::FailureAlarm, _) => counter!(FAILURE_ALARMS).increment(1),
        _ => {}
    }
    if let Outcome::Limited { limit } = &event.outcome {
        // `RateLimited` is the refusal itself; the other kinds that end `Limited` record no
        // `RateLimited` of their own. `PinSent` is left out: the engine records it `Limited`
        // beside a `RateLimited` for the same request, which would count it twice.
        if !matches!(event.kind, AuditKind::FailureAlarm | AuditKind::PinSent) {
            counter!(RATE_LIMIT_HITS, "limit" => limit_name(limit)).increment(1);
        }
    }
    if matches!(event.outcome, Outcome::Failed { .. })
        && (matches!(event.kind, AuditKind::PinSent | AuditKind::ContactProofSent | AuditKind::ReminderSent)
            || event.destination.is_some())
    {
        counter!(DELIVERIES_FAILED, "channel" => channel, "kind" => kind).increment(1);
    }
}

/// The outcome's stable name (its serde tag).
fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "success",
        Outcome::Decoy { .. } => "decoy",
        Outcome::Refused { .. } => "refused",
        Outcome::Limited { .. } => "limited",
        Outcome::Failed { .. } => "failed",
    }
}

/// A limit's name as a label: the engine names its limits with fixed snake_case words; anything
/// else (never expected) is `other`, so no free text can become a series.
fn limit_name(limit: &str) -> String {
    let fixed = !limit.is_empty() && limit.len() <= 32 && limit.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if fixed { limit.to_owned() } else { "other".to_owned() }
}

/// A unit enum's stable snake_case name, as its serde form spells it (`other` for anything
/// that is not a unit variant, which the enums named here never are). Read from the
/// serializer's call, not written out: the name is the `&'static str` serde's derive passes,
/// so counting an event allocates nothing for it.
fn name_of<T: Serialize>(value: &T) -> &'static str {
    value.serialize(UnitName).unwrap_or("other")
}

/// A serializer that only takes a unit variant and answers its name ([`name_of`]).
struct UnitName;

/// What [`UnitName`] answers for anything but a unit variant.
#[derive(Debug)]
struct NotUnit;

impl std::fmt::Display for NotUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a unit variant")
    }
}

impl std::error::Error for NotUnit {}

impl serde::ser::Error for NotUnit {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        NotUnit
    }
}

/// `fn $name(self, _: $ty) -> Result<&'static str, NotUnit> { Err(NotUnit) }` for each pair.
macro_rules! not_unit {
    ($($name:ident($($ty:ty),*)),* $(,)?) => {
        $(fn $name(self $(, _: $ty)*) -> Result<&'static str, NotUnit> { Err(NotUnit) })*
    };
}

impl serde::Serializer for UnitName {
    type Ok = &'static str;
    type Error = NotUnit;
    type SerializeSeq = serde::ser::Impossible<&'static str, NotUnit>;
    type SerializeTuple = serde::ser::Impossible<&'static str, NotUnit>;
    type SerializeTupleStruct = serde::ser::Impossible<&'static str, NotUnit>;
    type SerializeTupleVariant = serde::ser::Impossible<&'static str, NotUnit>;
    type SerializeMap = serde::ser::Impossible<&'static str, NotUnit>;
    type SerializeStruct = serde::ser::Impossible<&'static str, NotUnit>;
    type SerializeStructVariant = serde::ser::Impossible<&'static str, NotUnit>;

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<&'static str, NotUnit> {
        Ok(variant)
    }

    not_unit!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<&'static str, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<&'static str, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<&'static str, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotUnit> {
        Err(NotUnit)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotUnit> {
        Err(NotUnit)
    }
}

#[cfg(test)]
mod tests {
    use super::name_of;
    use crate::audit::{AuditKind, DecoyReason};

    /// The names are what serde writes (the audit events' JSON), and a variant with data is
    /// `other`.
    #[test]
    fn names_are_the_serde_names() {
        for kind in [AuditKind::ResetRequested, AuditKind::PinSent, AuditKind::FailureAlarm, AuditKind::SignIn] {
            assert_eq!(serde_json::to_value(kind).unwrap(), name_of(&kind));
        }
        assert_eq!(name_of(&DecoyReason::LoginAlias), "login_alias");
        assert_eq!(name_of(&crate::api::CompletionMode::UnlockOnly), "unlock_only");
        // An internally tagged enum is written as a map, not a unit variant.
        assert_eq!(name_of(&crate::audit::Outcome::Success), "other");
        assert_eq!(name_of(&"text"), "other");
    }
}
