//! Event hooks: the host is told when something happens that it may want to act on (revoke a
//! user's sessions after a reset, sync a password elsewhere, page someone on an alarm).
//!
//! The events are a closed set read from the audit trail ([`HookEvent::of`]): every step the
//! engine takes records an [`AuditEvent`] at one point, so a hook sees exactly what the audit
//! sees, never a secret. A hook runs off the request path, in the engine's delivery set
//! ([`crate::Sspr::flush_deliveries`] waits for it), bounded by [`HOOK_TIMEOUT`]: a slow or
//! failing hook never delays or breaks a reset. Its failure is audited
//! ([`crate::AuditKind::HookFailed`]) and logged.
//!
//! ```
//! use sspr_core::hooks::{EventHook, HookEvent};
//! use sspr_core::{AuditEvent, BackendError, async_trait};
//!
//! #[derive(Debug)]
//! struct RevokeSessions;
//!
//! #[async_trait]
//! impl EventHook for RevokeSessions {
//!     async fn on_event(&self, event: HookEvent, audit: &AuditEvent) -> Result<(), BackendError> {
//!         assert_eq!(event, HookEvent::ResetCompleted);
//!         let _user = audit.user_id.as_ref(); // whose sessions to end
//!         Ok(())
//!     }
//! }
//! // Sspr::builder().hook(&[HookEvent::ResetCompleted], RevokeSessions) ...
//! ```

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEvent, AuditKind, DecoyReason, Outcome};
use crate::error::{BackendError, NotAllowedReason};

/// How long one hook call may take before it is given up (and audited as failed).
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// What a hook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HookEvent {
    /// A reset was completed: the password set, or the account unlocked.
    ResetCompleted,
    /// A user was blocked after too many failed verifications.
    UserBlocked,
    /// A user's contact details were changed (by the user or an administrator).
    ContactsChanged,
    /// A privileged account's reset was attempted (once per `begin_reset`: the anonymous
    /// caller got a decoy), or an operation on one was refused (a recovery code).
    PrivilegedAttemptRefused,
    /// A PIN, a contact proof code, a recovery code or a reminder could not be delivered.
    DeliveryFailed,
    /// Failed verifications across all users reached the policy's `failure_alarm_per_hour`.
    FailureAlarm,
}

impl HookEvent {
    /// Every event, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::ResetCompleted,
        Self::UserBlocked,
        Self::ContactsChanged,
        Self::PrivilegedAttemptRefused,
        Self::DeliveryFailed,
        Self::FailureAlarm,
    ];

    /// The hook event an audit event is, if any.
    ///
    /// ```
    /// use sspr_core::hooks::HookEvent;
    /// use sspr_core::{AuditEvent, AuditKind, DecoyReason, Outcome};
    /// let at = time::OffsetDateTime::UNIX_EPOCH;
    /// let decoy = AuditEvent::new(AuditKind::ResetRequested, at, Outcome::Decoy { reason: DecoyReason::Privileged });
    /// assert_eq!(HookEvent::of(&decoy), Some(HookEvent::PrivilegedAttemptRefused));
    /// assert_eq!(HookEvent::of(&AuditEvent::new(AuditKind::PinVerified, at, Outcome::Success)), None);
    /// ```
    pub fn of(event: &AuditEvent) -> Option<Self> {
        match (event.kind, &event.outcome) {
            (AuditKind::ResetCompleted, Outcome::Success) => Some(Self::ResetCompleted),
            (AuditKind::Blocked, _) => Some(Self::UserBlocked),
            (AuditKind::ContactsChanged, Outcome::Success) => Some(Self::ContactsChanged),
            (AuditKind::FailureAlarm, _) => Some(Self::FailureAlarm),
            // An administrator's refused enable is audited only: it is no self-service attempt
            // (the admin alert says the caller was told nothing, and the admin was told why).
            (AuditKind::EnabledChanged, Outcome::Refused { .. }) => None,
            // Once per attempt: at its `begin_reset` (the decoy flow's later PIN events carry
            // the same reason, and are not new attempts), or at a refused operation.
            (AuditKind::ResetRequested, Outcome::Decoy { reason: DecoyReason::Privileged })
            | (_, Outcome::Refused { reason: NotAllowedReason::Privileged }) => Some(Self::PrivilegedAttemptRefused),
            (AuditKind::PinSent | AuditKind::ContactProofSent | AuditKind::ReminderSent, Outcome::Failed { .. }) => {
                Some(Self::DeliveryFailed)
            }
            // A recovery code refused before anything was sent (no usable contact by the
            // channel) is `Failed` too; only a code that was on its way names where it went.
            (AuditKind::RecoveryIssued, Outcome::Failed { .. }) if event.destination.is_some() => {
                Some(Self::DeliveryFailed)
            }
            _ => None,
        }
    }
}

/// A host's hook. Contract: called once per event of a kind it subscribed to, after the event
/// was recorded, off the request path; it may take up to [`HOOK_TIMEOUT`]. An `Err` (or a
/// timeout) is audited as [`AuditKind::HookFailed`] with its message, so the message must not
/// hold a secret. Calls for different events may overlap; order is not guaranteed.
#[async_trait]
pub trait EventHook: Send + Sync + Debug {
    /// Act on `event`; `audit` is the audit event it was read from.
    async fn on_event(&self, event: HookEvent, audit: &AuditEvent) -> Result<(), BackendError>;
}

/// A hook and the events it subscribed to.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) events: Vec<HookEvent>,
    pub(crate) hook: Arc<dyn EventHook>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_a_name_that_reads_back() {
        for event in HookEvent::ALL {
            assert_eq!(event.as_str().parse::<HookEvent>().ok(), Some(event));
            assert_eq!(serde_json::to_value(event).ok(), Some(serde_json::Value::from(event.as_str())));
        }
        assert!("reset-completed".parse::<HookEvent>().is_err());
    }

    #[test]
    fn audit_events_map_to_hook_events() {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let of = |kind, outcome| HookEvent::of(&AuditEvent::new(kind, at, outcome));
        let failed = || Outcome::Failed { error: "relay down".into() };
        assert_eq!(of(AuditKind::ResetCompleted, Outcome::Success), Some(HookEvent::ResetCompleted));
        assert_eq!(of(AuditKind::ResetCompleted, failed()), None);
        assert_eq!(of(AuditKind::PinSent, failed()), Some(HookEvent::DeliveryFailed));
        assert_eq!(of(AuditKind::PinSent, Outcome::Success), None);
        assert_eq!(of(AuditKind::RecoveryIssued, failed()), None, "refused before anything was sent");
        let mut undelivered = AuditEvent::new(AuditKind::RecoveryIssued, at, failed());
        undelivered.destination = Some("a***@e***.org".into());
        assert_eq!(HookEvent::of(&undelivered), Some(HookEvent::DeliveryFailed));
        let refused = Outcome::Refused { reason: NotAllowedReason::Privileged };
        assert_eq!(of(AuditKind::RecoveryIssued, refused), Some(HookEvent::PrivilegedAttemptRefused));
        let privileged = || Outcome::Decoy { reason: DecoyReason::Privileged };
        assert_eq!(of(AuditKind::ResetRequested, privileged()), Some(HookEvent::PrivilegedAttemptRefused));
        let refused = Outcome::Refused { reason: NotAllowedReason::Privileged };
        assert_eq!(of(AuditKind::EnabledChanged, refused), None, "an admin's refused enable is audited only");
        assert_eq!(of(AuditKind::PinSent, privileged()), None, "the same attempt's decoy PIN");
        assert_eq!(of(AuditKind::PinFailed, privileged()), None, "the same attempt's wrong PIN");
        let limited = Outcome::Limited { limit: "failure_alarm".into() };
        assert_eq!(of(AuditKind::FailureAlarm, limited), Some(HookEvent::FailureAlarm));
        // A hook's own failure is not an event: a failing hook cannot call itself again.
        assert_eq!(of(AuditKind::HookFailed, failed()), None);
    }
}
