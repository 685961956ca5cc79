//! # sspr-core
//!
//! The pure-logic engine of **sspr**, an embeddable self-service password reset (SSPR):
//! a user who forgot their password types their login, picks one of their registered
//! contact methods (shown masked), receives a one-time PIN, types it, and gets a temporary
//! password set in the directory with "must change at next sign-in".
//!
//! This crate does no I/O. The directory, contact store, notifier, state store, audit sink
//! and clock are traits ([`backend`], [`Clock`]); in-memory implementations live in
//! [`memory`], real ones (LDAP, SMTP, SQL, Redis) in `sspr-backends`. Randomness comes from
//! a ChaCha20 generator seeded by the caller or, with the default `os-rng` feature, from the
//! OS once at build time.
//!
//! Security defaults (see [`Policy`]): 8-digit PINs valid 10 minutes, stored only as
//! HMAC-SHA256 under the server key and compared in constant time; 5 wrong PINs void a PIN;
//! 5 failures in 24 h block the user for 24 h; per-user, per-IP, per-destination limits and an
//! SMS budget; the same answer shape for unknown and real logins; temporary passwords of
//! ~96 bits that meet AD complexity. Secrets never reach a `Debug` string, an error or an
//! audit event.
//!
//! Start with [`Sspr::builder`]; the example there runs a whole reset.

pub mod audit;
pub mod backend;
mod clock;
pub mod decoy;
mod engine;
mod error;
mod flow;
mod hex;
mod input;
pub mod mask;
pub mod memory;
pub mod notice;
pub mod password;
pub mod pin;
mod policy;
mod rng;
mod scope;
mod secret;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

pub use audit::{AuditEvent, AuditKind, DecoyReason, Outcome};
pub use backend::{AuditSink, ContactStore, Directory, Notifier, StateStore};
pub use clock::{Clock, ManualClock, SystemClock, Timer};
pub use engine::{Sspr, SsprBuilder};
pub use error::{BackendError, BackendErrorKind, Error, NotAllowedReason, Result};
pub use input::{EmailAddress, MAX_LOGIN_CHARS, NormalizedLogin, PhoneNumber};
pub use policy::{CHOSEN_PASSWORD_MAX_LENGTH, Policy, PolicyError, PrivilegedMode};
pub use secret::{Password, Pin, SecretKey};
pub use types::{
    Actor, Channel, CompletionMode, ContactChange, ContactUpdate, ContactView, Contacts, Destination, Locale,
    MethodOption, NewPassword, PinSent, RequestContext, ResetChallenge, ResetOutcome, UserId, UserStatus, Verified,
};

/// Re-exported so backends and callers name the same versions.
pub use async_trait::async_trait;
pub use time;
