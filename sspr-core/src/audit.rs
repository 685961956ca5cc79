//! Audit events: one for every step, typed, versioned, serialisable as JSON, never holding
//! a secret (docs/ARCHITECTURE.md).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::{Actor, Channel, CompletionMode, UserId};
use crate::error::NotAllowedReason;

/// The schema version of [`AuditEvent`].
///
/// Version 2 replaced `flow_id` (the flow id is a credential for `complete_reset`, and an
/// audit trail is read by more people than the reset portal) with `flow_ref`, and added
/// [`AuditKind::FailureAlarm`].
pub const AUDIT_SCHEMA_VERSION: u16 = 2;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditKind {
    /// `begin_reset` was called.
    ResetRequested,
    /// A PIN was sent (or, for a decoy, pretended to be).
    PinSent,
    /// A wrong PIN was entered.
    PinFailed,
    /// The right PIN was entered.
    PinVerified,
    /// A PIN was voided after too many wrong attempts.
    PinVoided,
    /// A user was blocked after too many failed verifications.
    Blocked,
    /// A request was refused by a rate limit.
    RateLimited,
    /// A reset was completed (password set, or account unlocked).
    ResetCompleted,
    /// A reset could not be completed (directory failure, password refused).
    ResetFailed,
    /// Contact details were changed.
    ContactsChanged,
    /// An administrator read a user's contact details in full ([`crate::Sspr::admin_contacts`];
    /// `Success`, the administrator as actor, the contacts read masked in `destination`).
    ContactsViewed,
    /// SSPR was enabled or disabled for a user.
    EnabledChanged,
    /// A block was lifted by an admin.
    Unblocked,
    /// Failed verifications across all users reached the policy's `failure_alarm_per_hour`
    /// (recorded once per hour window; outcome `Limited { limit: "failure_alarm" }`).
    FailureAlarm,
    /// A user signed in to manage their contacts (outcome `Success`), or failed to
    /// (`Failed`); a failure for an unknown login carries its fingerprint, never the text.
    SignIn,
    /// A user changed their own password with the current one (`Success`), or tried to:
    /// `Failed` (wrong current password, unknown login, a refused new password), `Refused`
    /// (an account the change path does not serve, answered as a wrong password), `Limited`.
    PasswordChanged,
    /// A code was sent to a contact the user is adding (`Success`), or not: `Limited`
    /// (`contact_proofs`, `ip_proofs`; `destination` when its cap was reached and nothing was
    /// sent, which the caller is not told), `Failed` (the delivery failed).
    ContactProofSent,
    /// A wrong code was typed to confirm a new contact (`Failed`).
    ContactProofFailed,
    /// A signed-in user confirmed that their contacts are still right (`Success`).
    ContactsConfirmed,
    /// An administrator's registration reminder went to a user's directory mailbox
    /// (`Success`, the mailbox masked in `destination`), or could not be delivered
    /// (`Failed`: the user may be reminded again at the next run).
    ReminderSent,
    /// An administrator read an enrollment report (`Success`).
    EnrollmentReport,
    /// A password checker could not check a chosen password (a timeout, its service down)
    /// and the policy's `password_check_fail_open` let the password through unchecked
    /// (`Failed`, with the checker's error; never the password).
    PasswordCheckFailedOpen,
    /// An administrator issued a helpdesk recovery code for a user (`Success`; never the
    /// code), or was refused: `Refused` (privileged, disabled, ineligible), `Limited`.
    RecoveryIssued,
    /// A helpdesk recovery code was redeemed (`Success`, with the verified flow's
    /// `flow_ref`), or not: `Failed` (unknown login, no pending code, wrong, used, expired or
    /// voided code; the caller is told none of these apart), `Refused`, `Limited`.
    RecoveryRedeemed,
    /// A host's event hook ([`crate::hooks::EventHook`]) failed or did not answer in time
    /// (`Failed`, naming the hook event and the hook's error); the other fields are those of
    /// the event the hook was called for. The step itself was not affected.
    HookFailed,
}

/// Why an anonymous request got a decoy answer: the audit tells the truth the caller
/// does not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DecoyReason {
    /// No such login.
    UnknownUser,
    /// The account is disabled or expired.
    AccountDisabled,
    /// Outside the eligible OUs / groups.
    Ineligible,
    /// SSPR not enabled for the user.
    NotEnabled,
    /// No usable contact detail (none, or all still cooling off).
    NoContact,
    /// A privileged account.
    Privileged,
    /// The full address typed did not match.
    ConfirmationMismatch,
    /// The directory found the account under another spelling than its own login (e.g. its
    /// e-mail address): only the account's own login starts a real reset, so that two
    /// spellings of one account cannot be compared with two unknown ones.
    LoginAlias,
    /// The contact store failed to read the user's enrollment in another way than being
    /// unavailable (a refused service account, a failed TLS handshake, a host store's own
    /// exception). A decoy's read ignores such an error (a store may refuse an id it never
    /// issued), so a real user's request must not fail on it either: that would tell a real
    /// login from an unknown one for as long as the fault lasts. The error is logged.
    ContactsUnreadable,
}

/// How it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Done.
    Success,
    /// Answered with a decoy; nothing real happened.
    Decoy {
        /// Why.
        reason: DecoyReason,
    },
    /// Refused by the policy.
    Refused {
        /// Why.
        reason: NotAllowedReason,
    },
    /// Refused by a rate limit or block.
    Limited {
        /// Which limit (`user_sends`, `ip_begins`, `destination`, `sms_budget`, `blocked`, ...).
        limit: String,
    },
    /// Failed; `error` is the error's text (never a secret).
    Failed {
        /// What went wrong.
        error: String,
    },
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Schema version ([`AUDIT_SCHEMA_VERSION`]).
    pub version: u16,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What.
    pub kind: AuditKind,
    /// For flow steps: a reference to the reset flow, the same in every event of the flow
    /// (32 hex digits, a keyed hash of the flow id). Never the flow id itself: whoever holds
    /// a verified flow's id can complete its reset.
    pub flow_ref: Option<String>,
    /// The user, when known (never set for unknown logins).
    pub user_id: Option<UserId>,
    /// For unknown logins: a keyed fingerprint of the normalised login, so repeated attempts
    /// can be correlated without storing what was typed (which may be a mistyped password).
    pub login_fingerprint: Option<String>,
    /// The channel of a PIN or notice.
    pub channel: Option<Channel>,
    /// The destination, masked.
    pub destination: Option<String>,
    /// How a reset was completed.
    pub mode: Option<CompletionMode>,
    /// The client's IP address.
    pub client_ip: Option<IpAddr>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// Who acted, for administrative operations.
    pub actor: Option<Actor>,
    /// How it ended.
    pub outcome: Outcome,
}

impl AuditEvent {
    /// An event of `kind` at `at` with `outcome`, every other field empty.
    pub fn new(kind: AuditKind, at: OffsetDateTime, outcome: Outcome) -> Self {
        Self {
            version: AUDIT_SCHEMA_VERSION,
            at,
            kind,
            flow_ref: None,
            user_id: None,
            login_fingerprint: None,
            channel: None,
            destination: None,
            mode: None,
            client_ip: None,
            user_agent: None,
            actor: None,
            outcome,
        }
    }

    /// The event as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}
