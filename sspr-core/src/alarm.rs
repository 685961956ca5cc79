//! The organisation-wide alarm: failed PIN verifications across all users, per hour.
//!
//! Per-user limits stop a guesser who targets one account; an attacker who spreads guesses
//! over ten thousand accounts stays under every one of them. The engine counts every failed
//! verification in one hourly window, and when the count reaches the policy's
//! `failure_alarm_per_hour` it records an [`crate::AuditKind::FailureAlarm`] event and calls
//! the [`Alarm`] given to the builder, once per window, from the request that crossed it.

use std::fmt;

use time::OffsetDateTime;

/// What the alarm reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailureAlarm {
    /// Failed verifications counted in the window so far (the threshold, when raised).
    pub failures: u64,
    /// The policy's `failure_alarm_per_hour`.
    pub threshold: u32,
    /// When the counting window ends (and a new one may raise the alarm again).
    pub window_ends: OffsetDateTime,
}

/// A host's hook for the organisation-wide alarm: page someone, bump a metric.
///
/// Contract: `raise` is called on the request path of the verification that crossed the
/// threshold, so it must return at once (hand the work to a queue or a task, never wait on
/// the network here) and must not panic. It is called at most once per hour window per
/// state store (the count is shared by every instance using the store).
///
/// A closure is an alarm through [`AlarmFn`]:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// static RAISED: AtomicU64 = AtomicU64::new(0);
/// let alarm = sspr_core::AlarmFn(|a: &sspr_core::FailureAlarm| {
///     RAISED.store(a.failures, Ordering::Relaxed);
/// });
/// # let _ = alarm;
/// ```
pub trait Alarm: Send + Sync + fmt::Debug {
    /// The failure count of the current hour reached the threshold.
    fn raise(&self, alarm: &FailureAlarm);
}

/// A closure as an [`Alarm`].
pub struct AlarmFn<F>(pub F);

impl<F> fmt::Debug for AlarmFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AlarmFn")
    }
}

impl<F: Fn(&FailureAlarm) + Send + Sync> Alarm for AlarmFn<F> {
    fn raise(&self, alarm: &FailureAlarm) {
        (self.0)(alarm);
    }
}
