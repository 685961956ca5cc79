//! The backend traits: everything sspr needs from the outside world.
//!
//! Each trait is object-safe and used as `Arc<dyn Trait>`. Each states its contract; the
//! conformance suite (`sspr_core::testing`, feature `testing`) checks the parts that can be
//! checked. Implementations must never put a secret into an error, a log or a `Debug` string.
//!
//! Re-entrancy: sspr never holds a lock while awaiting a backend, but a backend must not
//! call back into the same `Sspr` from inside a trait method (it may deadlock on a store
//! that serialises calls, and it would bypass the engine's ordering).

mod audit;
mod challenge;
mod contacts;
mod directory;
mod notifier;
mod password_check;
mod store;

pub use audit::AuditSink;
pub use challenge::{
    BotChallenge, ChallengeCheck, ChallengePolicy, ChallengeToken, ChallengeVerdict, ChallengeWidget,
    MAX_CHALLENGE_TOKEN_LEN,
};
pub use contacts::{ContactHistory, ContactStore, Enrollment, MAX_REMOVED_CONTACTS, RemovedContact, StoredContact};
pub use directory::{
    ADMINISTRATIVE_UNIT_PREFIX, AccountState, Authentication, Directory, DirectoryUser, GROUPS_UNRESOLVED,
    PRIVILEGED_ROLE, PasswordRefusal, PasswordRules,
};
pub use notifier::{ByChannel, Notifier};
pub use password_check::{PasswordCandidate, PasswordChecker, PasswordFeedback};
pub use store::{Batch, BatchOutcome, Counter, MAX_LINK, Put, StateStore, StoredValue, link_of};
