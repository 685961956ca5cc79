//! The uniffi interface: the engine as an object with async methods, typed records, an error
//! enum mirroring `sspr_core::Error`, and the directory, contact store and notifier as
//! interfaces implemented in Kotlin, Swift, Python or Ruby and awaited by the engine.
//!
//! Times are `SystemTime` (Kotlin `java.time.Instant`, Swift `Date`, Python `datetime`, Ruby
//! `Time`). Secrets cross as plain strings: the host language cannot wipe them, so keep them
//! only as long as you need them.
//!
//! The modules follow every binding's skeleton (sspr-py, sspr-node): `engine` (the engine
//! and its configuration), `values` (records and enums, and their conversions), `errors`,
//! `foreign` (backends the host language implements), `builtin` (what sspr provides: a
//! manual clock, the shared state stores), `names` (the core's names of the enums, both
//! ways); the runtime is `sspr_bind::runtime`. Every rule is
//! the core's (`sspr_core::wire`) or sspr-bind's; these modules only convert. The module is
//! not called `uniffi`: in the crate root that name would shadow the `uniffi` crate.

pub mod builtin;
pub mod engine;
pub mod errors;
pub mod foreign;
pub mod names;
pub mod values;

pub use builtin::{ManualClock, StateStoreConfig};
pub use engine::{Engine, EngineConfig};
pub use errors::{BackendErrorKind, BackendFailure, NotAllowedReason, SsprError};
pub use foreign::{AuditSink, ContactStore, Directory, EventHook, Notifier, PasswordChecker};
pub use values::{
    Actor, Authentication, Channel, CompletionMode, ContactChange, ContactUpdate, ContactView, Contacts, DirectoryUser,
    Enrollment, HookEvent, Locale, MessageKind, MethodOption, NewPassword, Notification, PinSent, RequestContext,
    ResetChallenge, ResetOutcome, SignedIn, StoredContact, UserStatus, Verified,
};
