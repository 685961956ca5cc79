#![doc = include_str!("../README.md")]

mod alarm;
mod api;
pub mod audit;
pub mod backend;
mod clock;
pub mod decoy;
mod engine;
mod error;
mod flow;
mod forwarded;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod hex;
pub mod hooks;
mod input;
mod l10n;
pub mod mask;
pub mod memory;
pub mod notice;
pub mod pages;
pub mod password;
pub mod password_check;
pub mod pin;
mod policy;
mod rng;
pub mod runtime;
mod scope;
mod secret;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
mod wire;

pub use alarm::{Alarm, AlarmFn, FailureAlarm};
pub use api::{
    Actor, Channel, CompletionMode, ContactChange, ContactProof, ContactUpdate, ContactView, Contacts, Destination,
    EnrollmentCounts, EnrollmentEntry, EnrollmentFilter, EnrollmentReport, Locale, MethodOption, NewPassword, PinSent,
    Recovered, RecoveryCode, RecoverySent, ReminderRun, RequestContext, ResetChallenge, ResetOutcome, SignedIn, UserId,
    UserStatus, Verified,
};
pub use audit::{AuditEvent, AuditKind, DecoyReason, Outcome};
pub use backend::{
    AuditSink, Authentication, BotChallenge, ChallengeCheck, ChallengePolicy, ChallengeToken, ChallengeVerdict,
    ChallengeWidget, ContactStore, Directory, Notifier, PasswordCandidate, PasswordChecker, PasswordFeedback,
    PasswordRefusal, PasswordRules, StateStore,
};
pub use clock::{Clock, ManualClock, SystemClock, Timer};
pub use engine::{
    BACKEND_TIMEOUT, MAX_REPORT_USERS, MAX_SEARCH_QUERY_CHARS, MAX_SEARCH_RESULTS, MAX_SIGN_IN_PASSWORD_BYTES,
    PASSWORD_RULES_RETRY, PASSWORD_RULES_TTL, RECOVERY_CODE_DIGITS, RECOVERY_CODE_LIFETIME, Sspr, SsprBuilder,
    VISIBILITY_RETRY,
};
pub use error::{BackendError, BackendErrorKind, ChallengeRefusal, Error, NotAllowedReason, Result};
pub use forwarded::{TrustedProxies, client_from_forwarded};
pub use hooks::{EventHook, HookEvent};
pub use input::{EmailAddress, MAX_LOGIN_CHARS, NormalizedLogin, PhoneNumber};
pub use policy::{CHOSEN_PASSWORD_MAX_LENGTH, Policy, PolicyError, PrivilegedMode};
#[cfg(feature = "tokio")]
pub use runtime::TokioRuntime;
pub use runtime::{Spawn, SpawnFn};
pub use scope::GroupList;
pub use secret::{Password, Pin, SecretKey};

/// Re-exported so backends and callers name the same versions.
pub use async_trait::async_trait;
pub use time;
