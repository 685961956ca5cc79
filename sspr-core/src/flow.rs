//! The reset flow as a state machine over values (docs/ARCHITECTURE.md). No I/O: the engine loads
//! a [`FlowRecord`], asks it whether a step is allowed, and stores the record the step
//! returns with one compare-and-set.
//!
//! `Started -> PinSent -> Verified -> Completing -> Completed`, and `Voided`; `Expired` is
//! not stored: a record past its expiry reads as expired whatever its state.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::{Channel, Destination, Locale, UserId};
use crate::audit::DecoyReason;
use crate::error::{Error, Result};
use crate::input::{EmailAddress, NormalizedLogin, PhoneNumber};
use crate::pin::PinHash;
use crate::policy::Policy;

/// Bump when the stored layout changes; older records then read as expired.
/// 2: methods say whether they are real or decoy.
const RECORD_VERSION: u8 = 2;

/// How long one `complete_reset` may hold a flow before another request may take it over
/// (a crashed instance must not strand the user's verified flow).
pub(crate) const COMPLETION_LEASE_SECS: i64 = 120;

/// How long the lease holder's directory work may take before it is cut off: half the
/// lease, so that it has stopped (with a minute to spare for clocks that disagree) before
/// anyone may take the flow over.
pub(crate) const COMPLETION_DEADLINE_SECS: u64 = 60;

/// Who the flow is for.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FlowSubject {
    /// A user who may reset: the id and the normalised login (re-checked at completion).
    Real { user: UserId, login: NormalizedLogin },
    /// Any other login: the flow behaves the same from outside and never delivers.
    Decoy { reason: DecoyReason },
}

/// A method offered by the flow: the full destination for a real user, the decoy mask for a
/// decoy.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "StoredMethod")]
pub(crate) enum FlowMethod {
    /// A real user's registered destination.
    Real(Destination),
    /// A decoy's method: only its mask exists.
    Decoy { channel: Channel, masked: String },
}

impl FlowMethod {
    pub(crate) fn channel(&self) -> Channel {
        match self {
            Self::Real(to) => to.channel(),
            Self::Decoy { channel, .. } => *channel,
        }
    }

    /// What the caller is shown.
    pub(crate) fn masked(&self) -> String {
        match self {
            Self::Real(to) => to.masked(),
            Self::Decoy { masked, .. } => masked.clone(),
        }
    }

    /// The full address or number of a real method.
    pub(crate) fn destination(&self) -> Option<&Destination> {
        match self {
            Self::Real(to) => Some(to),
            Self::Decoy { .. } => None,
        }
    }
}

/// How a [`FlowMethod`] is stored: a real destination was validated when it was registered
/// and is not parsed again when a record is read.
#[derive(Deserialize)]
enum StoredMethod {
    Real { channel: Channel, target: String },
    Decoy { channel: Channel, masked: String },
}

/// [`StoredMethod`] borrowing the method it writes: the same serde shape (name, variants,
/// fields), so the same bytes, without copying the address or the mask for each encode.
#[derive(Serialize)]
#[serde(rename = "StoredMethod")]
enum StoredMethodRef<'a> {
    Real { channel: Channel, target: &'a str },
    Decoy { channel: Channel, masked: &'a str },
}

impl Serialize for FlowMethod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Self::Real(to) => StoredMethodRef::Real { channel: to.channel(), target: to.as_str() },
            Self::Decoy { channel, masked } => StoredMethodRef::Decoy { channel: *channel, masked },
        }
        .serialize(serializer)
    }
}

impl From<StoredMethod> for FlowMethod {
    fn from(stored: StoredMethod) -> Self {
        match stored {
            StoredMethod::Real { channel: Channel::Email, target } => {
                Self::Real(Destination::Email(EmailAddress::already_valid_owned(target)))
            }
            StoredMethod::Real { channel: Channel::Sms, target } => {
                Self::Real(Destination::Sms(PhoneNumber::already_valid_owned(target)))
            }
            StoredMethod::Decoy { channel, masked } => Self::Decoy { channel, masked },
        }
    }
}

/// Where the flow stands.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FlowState {
    Started,
    PinSent { channel: Channel, pin_hash: PinHash, pin_expires_at: i64, attempts_left: u32 },
    Verified { at: i64 },
    Completing { lease_until: i64 },
    Completed { at: i64 },
    Voided,
}

/// One stored reset flow.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FlowRecord {
    version: u8,
    /// Keyed rate-limit subject of the user (or of the login, for a decoy).
    pub(crate) subject: [u8; 16],
    pub(crate) who: FlowSubject,
    pub(crate) expires_at: i64,
    pub(crate) locale: Locale,
    pub(crate) methods: Vec<FlowMethod>,
    pub(crate) pins_sent: u32,
    pub(crate) last_sent_at: Option<i64>,
    /// Methods whose PIN was verified (bit 0 e-mail, bit 1 SMS).
    verified_methods: u8,
    /// Methods that must be verified before completion: 1, or 2 for a privileged user
    /// under `PrivilegedMode::TwoMethods`.
    pub(crate) required_methods: u8,
    pub(crate) state: FlowState,
    /// The flow's reference in audit events and spans (a keyed hash of its id, never the id),
    /// computed once by `begin_reset` instead of in every call. Stored after the record's
    /// postcard encoding, not in it ([`FlowRecord::encode_after`]): a record without it (a
    /// helpdesk-recovered flow's) reads as `None` and the engine computes it from the id.
    #[serde(skip)]
    pub(crate) flow_ref: Option<[u8; 16]>,
}

impl fmt::Debug for FlowRecord {
    // Hand-written: the PIN hash and the destinations stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            FlowState::Started => "Started",
            FlowState::PinSent { .. } => "PinSent",
            FlowState::Verified { .. } => "Verified",
            FlowState::Completing { .. } => "Completing",
            FlowState::Completed { .. } => "Completed",
            FlowState::Voided => "Voided",
        };
        f.debug_struct("FlowRecord").field("state", &state).field("pins_sent", &self.pins_sent).finish_non_exhaustive()
    }
}

/// What a wrong PIN did to the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WrongPinEffect {
    /// More tries remain.
    TriesLeft(u32),
    /// That was the last try: the PIN is void.
    Voided,
}

pub(crate) fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn from_ts(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl FlowRecord {
    pub(crate) fn new(
        subject: [u8; 16],
        who: FlowSubject,
        methods: Vec<FlowMethod>,
        locale: Locale,
        expires_at: OffsetDateTime,
        required_methods: u8,
    ) -> Self {
        Self {
            version: RECORD_VERSION,
            subject,
            who,
            expires_at: ts(expires_at),
            locale,
            methods,
            pins_sent: 0,
            last_sent_at: None,
            verified_methods: 0,
            required_methods: required_methods.max(1),
            state: FlowState::Started,
            flow_ref: None,
        }
    }

    fn bit(channel: Channel) -> u8 {
        match channel {
            Channel::Email => 1,
            Channel::Sms => 2,
        }
    }

    fn is_verified(&self, channel: Channel) -> bool {
        self.verified_methods & Self::bit(channel) != 0
    }

    /// The destinations a right PIN has proven in this flow (none for a helpdesk code's flow,
    /// which proves no contact).
    pub(crate) fn proven_destinations(&self) -> impl Iterator<Item = &Destination> {
        self.methods.iter().filter(|m| self.is_verified(m.channel())).filter_map(FlowMethod::destination)
    }

    /// The offered methods whose PIN is still to be verified.
    pub(crate) fn remaining_methods(&self) -> Vec<Channel> {
        self.methods.iter().map(FlowMethod::channel).filter(|c| !self.is_verified(*c)).collect()
    }

    /// [`FlowRecord::encode_after`] an empty buffer (the tests and the fuzz targets).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        // Sized for a typical record up front: growing from empty cost a tenth of a flow.
        self.encode_after(Vec::with_capacity(192))
    }

    /// The record's bytes, appended to `out` (the engine seals them, after the value's link:
    /// `engine/flow_store.rs`): its postcard encoding (layout [`RECORD_VERSION`]), then the 16
    /// bytes of its flow reference when it carries one. The reference is outside the postcard
    /// part so that records with and without it have the same layout version.
    pub(crate) fn encode_after(&self, out: Vec<u8>) -> Result<Vec<u8>> {
        let mut out =
            postcard::to_extend(self, out).map_err(|e| Error::Config(format!("cannot encode a flow record: {e}")))?;
        if let Some(flow_ref) = &self.flow_ref {
            out.extend_from_slice(flow_ref);
        }
        Ok(out)
    }

    /// Decode a stored record ([`FlowRecord::encode_after`]); one of another layout version, or
    /// followed by anything but nothing or a 16-byte flow reference, reads as `None` (expired).
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let (mut record, rest) = postcard::take_from_bytes::<Self>(bytes).ok()?;
        if record.version != RECORD_VERSION {
            return None;
        }
        record.flow_ref = match rest.len() {
            0 => None,
            16 => Some(rest.try_into().ok()?),
            _ => return None,
        };
        Some(record)
    }

    pub(crate) fn expires(&self) -> OffsetDateTime {
        from_ts(self.expires_at)
    }

    fn check_live(&self, now: OffsetDateTime) -> Result<()> {
        if ts(now) > self.expires_at { Err(Error::Expired) } else { Ok(()) }
    }

    /// Whether a PIN may be sent by `channel` now; returns the method to use.
    pub(crate) fn check_send(&self, now: OffsetDateTime, policy: &Policy, channel: Channel) -> Result<&FlowMethod> {
        self.check_live(now)?;
        match self.state {
            FlowState::Started | FlowState::PinSent { .. } => {}
            FlowState::Verified { .. } | FlowState::Completing { .. } => {
                return Err(Error::InvalidState { reason: "the PIN was already verified" });
            }
            FlowState::Completed { .. } => return Err(Error::AlreadyUsed),
            FlowState::Voided => return Err(Error::PinVoided),
        }
        let method = self
            .methods
            .iter()
            .find(|m| m.channel() == channel)
            .ok_or_else(|| Error::invalid("method_id", "this method was not offered"))?;
        if self.is_verified(channel) {
            return Err(Error::InvalidState { reason: "this method was verified already: use the other one" });
        }
        // `max_pins_per_flow` for each method proven so far and the one under way, up to the
        // methods the flow needs. Never more before the first proof: a flow that needs two
        // methods (a privileged user's) would otherwise take more PINs than a decoy's, and a
        // caller counting sends would tell who is privileged.
        let allowances = (self.verified_methods.count_ones().saturating_add(1)).min(u32::from(self.required_methods));
        if self.pins_sent >= policy.max_pins_per_flow.saturating_mul(allowances) {
            return Err(Error::InvalidState { reason: "this reset has sent all the PINs it may; start a new one" });
        }
        if let Some(last) = self.last_sent_at {
            let ready = last.saturating_add(i64::try_from(policy.resend_cooldown_secs).unwrap_or(i64::MAX));
            if ts(now) < ready {
                let wait = u64::try_from(ready - ts(now)).unwrap_or(0);
                return Err(Error::RateLimited { retry_after: std::time::Duration::from_secs(wait) });
            }
        }
        Ok(method)
    }

    /// The record after a new PIN was sent by `channel`; the old PIN, if any, is void.
    pub(crate) fn with_pin(&self, channel: Channel, pin_hash: PinHash, now: OffsetDateTime, policy: &Policy) -> Self {
        let pin_expires_at =
            (ts(now).saturating_add(i64::try_from(policy.pin_lifetime_secs).unwrap_or(0))).min(self.expires_at);
        Self {
            pins_sent: self.pins_sent.saturating_add(1),
            last_sent_at: Some(ts(now)),
            state: FlowState::PinSent { channel, pin_hash, pin_expires_at, attempts_left: policy.max_wrong_pins },
            ..self.clone()
        }
    }

    /// The live PIN's hash, if a PIN may be checked now.
    pub(crate) fn check_verify(&self, now: OffsetDateTime) -> Result<&PinHash> {
        self.check_live(now)?;
        match &self.state {
            FlowState::PinSent { pin_hash, pin_expires_at, .. } => {
                if ts(now) > *pin_expires_at {
                    Err(Error::Expired)
                } else {
                    Ok(pin_hash)
                }
            }
            FlowState::Started => Err(Error::InvalidState { reason: "no PIN was sent yet" }),
            FlowState::Verified { .. } | FlowState::Completing { .. } | FlowState::Completed { .. } => {
                Err(Error::AlreadyUsed)
            }
            FlowState::Voided => Err(Error::PinVoided),
        }
    }

    /// The record after a wrong PIN.
    pub(crate) fn after_wrong_pin(&self) -> (Self, WrongPinEffect) {
        match &self.state {
            FlowState::PinSent { channel, pin_hash, pin_expires_at, attempts_left } if *attempts_left > 1 => {
                let left = attempts_left - 1;
                let state = FlowState::PinSent {
                    channel: *channel,
                    pin_hash: *pin_hash,
                    pin_expires_at: *pin_expires_at,
                    attempts_left: left,
                };
                (Self { state, ..self.clone() }, WrongPinEffect::TriesLeft(left))
            }
            _ => (Self { state: FlowState::Voided, ..self.clone() }, WrongPinEffect::Voided),
        }
    }

    /// The record after the right PIN: verified, or, when another method must still be
    /// verified, back to `Started` with no cooldown before its PIN.
    pub(crate) fn after_right_pin(&self, now: OffsetDateTime) -> Self {
        let verified_methods = self.verified_methods | self.pin_channel().map_or(0, Self::bit);
        if verified_methods.count_ones() >= u32::from(self.required_methods) {
            Self { verified_methods, state: FlowState::Verified { at: ts(now) }, ..self.clone() }
        } else {
            Self { verified_methods, last_sent_at: None, state: FlowState::Started, ..self.clone() }
        }
    }

    /// The record of a flow started by a redeemed helpdesk recovery code: verified, as after
    /// the last right PIN, with no method of its own.
    pub(crate) fn recovered(self, now: OffsetDateTime) -> Self {
        Self { state: FlowState::Verified { at: ts(now) }, ..self }
    }

    /// Whether every required method was verified.
    pub(crate) fn is_verified_fully(&self) -> bool {
        matches!(self.state, FlowState::Verified { .. })
    }

    /// Whether completion may start now (a verified flow, or one whose completion lease
    /// has run out).
    pub(crate) fn check_complete(&self, now: OffsetDateTime) -> Result<()> {
        self.check_live(now)?;
        match self.state {
            FlowState::Verified { .. } => Ok(()),
            FlowState::Completing { lease_until } if ts(now) > lease_until => Ok(()),
            FlowState::Completing { .. } => {
                Err(Error::InvalidState { reason: "another request is completing this reset" })
            }
            FlowState::Completed { .. } => Err(Error::AlreadyUsed),
            FlowState::Voided => Err(Error::PinVoided),
            FlowState::Started | FlowState::PinSent { .. } => {
                Err(Error::InvalidState { reason: "the PIN was not verified" })
            }
        }
    }

    pub(crate) fn completing(&self, now: OffsetDateTime) -> Self {
        Self {
            state: FlowState::Completing { lease_until: ts(now).saturating_add(COMPLETION_LEASE_SECS) },
            ..self.clone()
        }
    }

    pub(crate) fn completed(&self, now: OffsetDateTime) -> Self {
        Self { state: FlowState::Completed { at: ts(now) }, ..self.clone() }
    }

    /// The channel of the PIN in flight, if any.
    pub(crate) fn pin_channel(&self) -> Option<Channel> {
        match self.state {
            FlowState::PinSent { channel, .. } => Some(channel),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record() -> FlowRecord {
        FlowRecord::new(
            [0; 16],
            FlowSubject::Real { user: UserId::new("uid=j"), login: NormalizedLogin::parse("j").unwrap() },
            vec![FlowMethod::Real(Destination::Email(EmailAddress::already_valid("j@example.org")))],
            Locale::En,
            datetime!(2026-01-01 10:15 UTC),
            1,
        )
    }

    #[test]
    fn pin_is_valid_to_the_second_and_not_after() {
        let policy = Policy::default();
        let sent = datetime!(2026-01-01 10:00 UTC);
        let r = record().with_pin(Channel::Email, [1; 32], sent, &policy);
        assert!(r.check_verify(datetime!(2026-01-01 10:10 UTC)).is_ok());
        assert!(matches!(r.check_verify(datetime!(2026-01-01 10:10:01 UTC)), Err(Error::Expired)));
    }

    #[test]
    fn pin_never_outlives_its_flow() {
        let policy = Policy::default();
        let r = record().with_pin(Channel::Email, [1; 32], datetime!(2026-01-01 10:12 UTC), &policy);
        assert!(r.check_verify(datetime!(2026-01-01 10:15 UTC)).is_ok());
        assert!(matches!(r.check_verify(datetime!(2026-01-01 10:15:01 UTC)), Err(Error::Expired)));
    }

    #[test]
    fn wrong_pins_count_down_then_void() {
        let policy = Policy::default();
        let mut r = record().with_pin(Channel::Email, [1; 32], datetime!(2026-01-01 10:00 UTC), &policy);
        for left in (1..5).rev() {
            let (next, effect) = r.after_wrong_pin();
            assert_eq!(effect, WrongPinEffect::TriesLeft(left));
            r = next;
        }
        let (r, effect) = r.after_wrong_pin();
        assert_eq!(effect, WrongPinEffect::Voided);
        assert!(matches!(r.check_verify(datetime!(2026-01-01 10:01 UTC)), Err(Error::PinVoided)));
    }

    #[test]
    fn record_round_trips_and_stays_small() {
        let policy = Policy::default();
        let r = record().with_pin(Channel::Email, [7; 32], datetime!(2026-01-01 10:00 UTC), &policy);
        let bytes = r.encode().unwrap();
        assert!(bytes.len() < 160, "{}", bytes.len());
        assert_eq!(FlowRecord::decode(&bytes).unwrap(), r);
        assert!(FlowRecord::decode(&bytes[..bytes.len() - 3]).is_none());
    }

    /// The borrowed form a method is written in gives the bytes the owned `StoredMethod`
    /// (how methods were written before) gives.
    #[test]
    fn methods_are_written_as_the_owned_stored_method_was() {
        #[derive(Serialize)]
        #[serde(rename = "StoredMethod")]
        enum Owned {
            Real { channel: Channel, target: String },
            Decoy { channel: Channel, masked: String },
        }
        let cases = [
            (
                FlowMethod::Real(Destination::Email(EmailAddress::already_valid("j@example.org"))),
                Owned::Real { channel: Channel::Email, target: "j@example.org".into() },
            ),
            (
                FlowMethod::Real(Destination::Sms(PhoneNumber::already_valid("+447400900123"))),
                Owned::Real { channel: Channel::Sms, target: "+447400900123".into() },
            ),
            (
                FlowMethod::Decoy { channel: Channel::Sms, masked: "+44 ******* 23".into() },
                Owned::Decoy { channel: Channel::Sms, masked: "+44 ******* 23".into() },
            ),
        ];
        for (method, owned) in cases {
            assert_eq!(postcard::to_allocvec(&method).unwrap(), postcard::to_allocvec(&owned).unwrap());
            assert_eq!(serde_json::to_string(&method).unwrap(), serde_json::to_string(&owned).unwrap());
            let decoded: FlowMethod = postcard::from_bytes(&postcard::to_allocvec(&owned).unwrap()).unwrap();
            assert!(decoded == method);
        }
    }

    #[test]
    fn the_flow_reference_round_trips_after_the_record() {
        let policy = Policy::default();
        let mut r = record().with_pin(Channel::Email, [7; 32], datetime!(2026-01-01 10:00 UTC), &policy);
        let without = r.encode().unwrap();
        r.flow_ref = Some([9; 16]);
        let with = r.encode().unwrap();
        assert_eq!(with.len(), without.len() + 16);
        assert_eq!(with[..without.len()], without[..]);
        assert_eq!(FlowRecord::decode(&with).unwrap(), r);
        // Anything else after the record is not a record this engine wrote.
        assert!(FlowRecord::decode(&with[..with.len() - 1]).is_none());
        assert!(FlowRecord::decode(&[with.as_slice(), &[0]].concat()).is_none());
    }

    /// A record as the version before the flow reference wrote it (the same fields, the same
    /// postcard layout, nothing after it) decodes, without a reference; and the engine of
    /// that version (which decoded with `postcard::from_bytes`, ignoring what follows the
    /// record) reads a record that carries one.
    #[test]
    fn records_of_the_version_before_the_flow_reference_still_decode() {
        #[derive(Serialize, Deserialize, PartialEq)]
        struct Before {
            version: u8,
            subject: [u8; 16],
            who: FlowSubject,
            expires_at: i64,
            locale: Locale,
            methods: Vec<FlowMethod>,
            pins_sent: u32,
            last_sent_at: Option<i64>,
            verified_methods: u8,
            required_methods: u8,
            state: FlowState,
        }
        let policy = Policy::default();
        let r = record().with_pin(Channel::Email, [7; 32], datetime!(2026-01-01 10:00 UTC), &policy);
        let before = Before {
            version: 2,
            subject: r.subject,
            who: r.who.clone(),
            expires_at: r.expires_at,
            locale: r.locale,
            methods: r.methods.clone(),
            pins_sent: r.pins_sent,
            last_sent_at: r.last_sent_at,
            verified_methods: r.verified_methods,
            required_methods: r.required_methods,
            state: r.state.clone(),
        };
        let old_bytes = postcard::to_allocvec(&before).unwrap();
        let decoded = FlowRecord::decode(&old_bytes).unwrap();
        assert_eq!(decoded, r);
        assert_eq!(decoded.flow_ref, None);

        let carrying = FlowRecord { flow_ref: Some([3; 16]), ..r };
        assert!(postcard::from_bytes::<Before>(&carrying.encode().unwrap()).unwrap() == before);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, failure_persistence: None, ..Default::default() })]

        /// A corrupt or foreign record in the store reads as "expired", never as a panic.
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = FlowRecord::decode(&bytes);
        }
    }

    #[test]
    fn completion_lease_can_be_taken_over_after_it_runs_out() {
        let now = datetime!(2026-01-01 10:05 UTC);
        let r =
            record().with_pin(Channel::Email, [1; 32], now, &Policy::default()).after_right_pin(now).completing(now);
        assert!(matches!(r.check_complete(now), Err(Error::InvalidState { .. })));
        assert!(r.check_complete(now + time::Duration::seconds(COMPLETION_LEASE_SECS + 1)).is_ok());
    }
}
