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
//! A host installs its recorder with [`set_global_recorder`] (the portal and the Python and
//! Node bindings do): the engine then registers each series on it once and keeps the handle,
//! instead of looking the series up in the recorder on every count (about 35 lookups a flow,
//! once the largest part of what metrics cost a flow; BENCHMARKS.md section 11). A recorder
//! installed later than the engine was built is found all the same, and a recorder local to a
//! thread (`metrics::with_local_recorder`, tests) is registered on per count, so its counts
//! are its own: a kept handle belongs to the global recorder, which is never replaced.
//!
//! Labels are only the engine's own closed sets (channel, mode, decoy reason, the limit's
//! name, the event kind and outcome). Never a login, address, IP, user id or flow reference:
//! those would leak identifiers into the scrape and make every user a new series.

use std::sync::OnceLock;

use metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder, SetRecorderError, counter};
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

/// The process's global recorder as [`set_global_recorder`] saw it installed: its address and
/// size. Set once, never changed (a global recorder is leaked by `metrics` and cannot be
/// replaced), so a handle registered on it stays valid for the life of the process.
static GLOBAL: OnceLock<(usize, usize)> = OnceLock::new();

/// A recorder's identity: the address and size of the value behind the reference.
fn identity(recorder: &dyn Recorder) -> (usize, usize) {
    ((recorder as *const dyn Recorder).cast::<()>().addr(), std::mem::size_of_val(recorder))
}

/// Whether `recorder` is the global recorder [`set_global_recorder`] installed. A local
/// recorder (`metrics::with_local_recorder`, a test's) is never the global one: the global
/// value is leaked and never freed, so no other value of its size can live at its address.
fn is_global(recorder: &dyn Recorder) -> bool {
    GLOBAL.get().is_some_and(|global| *global == identity(recorder))
}

/// Install `recorder` as the process's global `metrics` recorder, as
/// [`metrics::set_global_recorder`] does, and let the engine keep the handles it registers on
/// it: each series is then looked up in the recorder once, not on every count (about 35 times
/// a flow). A recorder installed with `metrics::set_global_recorder` directly counts the same
/// series, but the engine looks each up on every call, as it does for a local recorder.
///
/// Handles are kept for this recorder only: while a local recorder is in effect on a thread
/// (`metrics::with_local_recorder`), the engine registers on it per call, so its counts land
/// in it and never in a handle kept from another recorder.
///
/// # Errors
/// The recorder back if a global recorder was already installed.
pub fn set_global_recorder<R: Recorder + Sync + 'static>(recorder: R) -> Result<(), SetRecorderError<R>> {
    let before = metrics::with_recorder(identity);
    metrics::set_global_recorder(recorder)?;
    let after = metrics::with_recorder(identity);
    // The recorder in effect changed, so it is the new global one. If it did not, a local
    // recorder hides the global one on this thread and nothing is learned: the engine's
    // handles stay uncached, which is slower, never wrong. A zero-sized recorder has no
    // address of its own (a local one of the same type could share it): not cached either.
    if after != before && after.1 != 0 {
        let _ = GLOBAL.set(after);
    }
    Ok(())
}

/// A histogram series of fixed labels, defined once per call site ([`engine_call_key!`],
/// [`backend_call_key!`]): its key, and its handle on the global recorder once registered.
pub(crate) struct Timed {
    key: Key,
    handle: OnceLock<Histogram>,
}

impl Timed {
    /// The series `key`, no handle yet.
    pub(crate) const fn new(key: Key) -> Self {
        Self { key, handle: OnceLock::new() }
    }

    /// Record `seconds` in the recorder in effect: through the kept handle when that is the
    /// global recorder, registered afresh otherwise.
    pub(crate) fn record(&self, seconds: f64) {
        metrics::with_recorder(|recorder| {
            if is_global(recorder) {
                self.handle.get_or_init(|| recorder.register_histogram(&self.key, &METADATA)).record(seconds);
            } else {
                recorder.register_histogram(&self.key, &METADATA).record(seconds);
            }
        });
    }
}

/// Label sets a [`Counted`] series keeps handles for; the engine's sets are closed and small
/// (a series is counted with a few label values each), and one beyond them is looked up per
/// count as before.
const KEPT: usize = 16;

/// A counter series with `N` label names whose values are `&'static str`s from closed sets, and
/// the handles on the global recorder of the label values seen so far (one slot per set of
/// values, filled once; reading is one atomic load per slot, no lock).
struct Counted<const N: usize> {
    name: &'static str,
    labels: [&'static str; N],
    kept: [OnceLock<([&'static str; N], Counter)>; KEPT],
}

impl<const N: usize> Counted<N> {
    /// The series `name` with the label names `labels`.
    const fn new(name: &'static str, labels: [&'static str; N]) -> Self {
        Self { name, labels, kept: [const { OnceLock::new() }; KEPT] }
    }

    /// The key of the series with the label values `values`.
    fn key(&self, values: [&'static str; N]) -> Key {
        let labels: Vec<Label> =
            self.labels.iter().zip(values).map(|(name, value)| Label::from_static_parts(name, value)).collect();
        Key::from_parts(self.name, labels)
    }

    /// Add one to the series with the label values `values` in the recorder in effect.
    fn increment(&self, values: [&'static str; N]) {
        metrics::with_recorder(|recorder| {
            if is_global(recorder) {
                for slot in &self.kept {
                    match slot.get() {
                        Some((kept, counter)) if *kept == values => {
                            counter.increment(1);
                            return;
                        }
                        Some(_) => {}
                        None => {
                            let counter = recorder.register_counter(&self.key(values), &METADATA);
                            counter.increment(1);
                            // Another thread may fill this slot first (its own values): this
                            // count went in through the handle just made, the same series.
                            let _ = slot.set((values, counter));
                            return;
                        }
                    }
                }
            }
            recorder.register_counter(&self.key(values), &METADATA).increment(1);
        });
    }
}

/// The series of one engine call, `ENGINE_CALL_SECONDS{operation}`, made once (a `static`)
/// where the call is instrumented: a key whose labels are built per call allocates them on
/// every call, even with no recorder installed, and its handle is kept ([`Timed`]).
macro_rules! engine_call_key {
    ($operation:expr) => {{
        static LABELS: [::metrics::Label; 1] = [::metrics::Label::from_static_parts("operation", $operation)];
        static SERIES: $crate::telemetry::Timed = $crate::telemetry::Timed::new(::metrics::Key::from_static_parts(
            $crate::telemetry::ENGINE_CALL_SECONDS,
            &LABELS,
        ));
        &SERIES
    }};
}
pub(crate) use engine_call_key;

/// The series of one backend call, `BACKEND_CALL_SECONDS{backend,operation}`, made once per
/// call site as [`engine_call_key!`].
macro_rules! backend_call_key {
    ($backend:expr, $operation:expr) => {{
        static LABELS: [::metrics::Label; 2] = [
            ::metrics::Label::from_static_parts("backend", $backend),
            ::metrics::Label::from_static_parts("operation", $operation),
        ];
        static SERIES: $crate::telemetry::Timed = $crate::telemetry::Timed::new(::metrics::Key::from_static_parts(
            $crate::telemetry::BACKEND_CALL_SECONDS,
            &LABELS,
        ));
        &SERIES
    }};
}
pub(crate) use backend_call_key;

/// Record one engine call's duration in its [`engine_call_key!`] series.
pub(crate) fn engine_call(series: &Timed, seconds: f64) {
    series.record(seconds);
}

/// Record one backend call's duration in its [`backend_call_key!`] series.
pub(crate) fn backend_call(series: &Timed, seconds: f64) {
    series.record(seconds);
}

// The counter series `count` adds to, each with the handles it keeps ([`Counted`]).
static EVENTS_SERIES: Counted<2> = Counted::new(EVENTS, ["kind", "outcome"]);
static BEGINS_SERIES: Counted<2> = Counted::new(BEGINS, ["result", "decoy_reason"]);
static PINS_SENT_SERIES: Counted<2> = Counted::new(PINS_SENT, ["channel", "result"]);
static VERIFICATIONS_SERIES: Counted<1> = Counted::new(VERIFICATIONS, ["outcome"]);
static COMPLETIONS_SERIES: Counted<2> = Counted::new(COMPLETIONS, ["mode", "outcome"]);
static BLOCKS_SERIES: Counted<0> = Counted::new(BLOCKS, []);
static SIGN_INS_SERIES: Counted<1> = Counted::new(SIGN_INS, ["outcome"]);
static CONTACT_CHANGES_SERIES: Counted<0> = Counted::new(CONTACT_CHANGES, []);
static FAILURE_ALARMS_SERIES: Counted<0> = Counted::new(FAILURE_ALARMS, []);
static DELIVERIES_FAILED_SERIES: Counted<2> = Counted::new(DELIVERIES_FAILED, ["channel", "kind"]);

/// Count `event` in the series it belongs to.
pub(crate) fn count(event: &AuditEvent) {
    // Every label value is a `&'static str`: a label built from one is not copied.
    let kind = name_of(&event.kind);
    let outcome = outcome_name(&event.outcome);
    EVENTS_SERIES.increment([kind, outcome]);
    let channel = event.channel.map_or("none", |c| c.as_str());
    match (event.kind, &event.outcome) {
        (AuditKind::ResetRequested, Outcome::Decoy { reason }) => {
            BEGINS_SERIES.increment(["decoy", name_of(reason)]);
        }
        (AuditKind::ResetRequested, other) => {
            let result = if matches!(other, Outcome::Success) { "real" } else { outcome };
            BEGINS_SERIES.increment([result, "none"]);
        }
        (AuditKind::PinSent, Outcome::Success) => {
            PINS_SENT_SERIES.increment([channel, "real"]);
        }
        (AuditKind::PinSent, Outcome::Decoy { .. }) => {
            PINS_SENT_SERIES.increment([channel, "decoy"]);
        }
        (AuditKind::PinVerified, _) => VERIFICATIONS_SERIES.increment(["verified"]),
        (AuditKind::PinFailed, _) => VERIFICATIONS_SERIES.increment(["wrong_pin"]),
        (AuditKind::PinVoided, _) => VERIFICATIONS_SERIES.increment(["voided"]),
        (AuditKind::ResetCompleted | AuditKind::ResetFailed, _) => {
            let mode = event.mode.as_ref().map_or("none", name_of);
            let result = if event.kind == AuditKind::ResetCompleted { "success" } else { "failed" };
            COMPLETIONS_SERIES.increment([mode, result]);
        }
        (AuditKind::Blocked, _) => BLOCKS_SERIES.increment([]),
        (AuditKind::SignIn, _) => SIGN_INS_SERIES.increment([outcome]),
        (AuditKind::ContactsChanged, Outcome::Success) => CONTACT_CHANGES_SERIES.increment([]),
        (AuditKind::FailureAlarm, _) => FAILURE_ALARMS_SERIES.increment([]),
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
        DELIVERIES_FAILED_SERIES.increment([channel, kind]);
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
