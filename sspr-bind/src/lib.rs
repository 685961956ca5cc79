//! The rules every sspr binding (Python, Node, uniffi, C) and the portal share beyond type
//! conversion, written once.
//!
//! # Why a crate, and what goes where
//!
//! A *rule* decides something (which names exist, what an unsupported locale does, how long
//! a seed is, which timer pads answers). A *conversion* moves a value between a host type and
//! a core type and decides nothing. Rules are written once; each binding keeps only its
//! conversions, so the languages cannot disagree (they did: see `tests/parity/README.md`).
//!
//! - Rules on text that need no I/O live in **sspr-core** itself (`sspr_core::wire`): the
//!   stable names (`Channel`, `Locale`, `CompletionMode`, `NotAllowedReason`,
//!   `BackendErrorKind`: `as_str`, `FromStr`), `Error::code`, `RequestContext::from_parts`,
//!   `NewPassword::from_mode`. They are inherent methods of core types, which only the core
//!   can define, and they keep the core pure.
//! - Rules that need threads, a runtime or configuration parsing live **here**: this crate
//!   depends on sspr-core and tokio. The core must stay free of I/O and of a runtime of its
//!   own, so a runtime per process cannot go there; and a module of one binding could not be
//!   shared by the others.
//!
//! | module | rule |
//! | --- | --- |
//! | [`options`] | the key as bytes or hex ([`secret_key`]), the test seed ([`rng_seed`]: 32 bytes or 64 hex digits), the policy from JSON or TOML ([`policy`]), a manual clock that is also the timer ([`EngineOptions::apply`]); all errors `config` |
//! | [`enrollment`] | an enrollment a host store returned is checked ([`EnrollmentParts::validate`]): a bad part is a `Rejected` backend error; host times ([`time_from_unix`], [`time_from_system`]) |
//! | [`runtime`] | a tokio runtime per process, recreated after a fork, with the engine's timer and spawner on it; padding never fails open |
//!
//! `tests/parity/cases.json` pins every rule (core's and this crate's) with its expected
//! outcome; `tests/parity.rs` replays it here, and each binding replays it through its public
//! API.
//!
//! # Using it from a binding
//!
//! ```
//! use sspr_bind::{EngineOptions, Material, PolicyFormat, runtime};
//! use sspr_core::{CompletionMode, Locale, NewPassword, Password, RequestContext};
//!
//! # fn main() -> Result<(), sspr_core::Error> {
//! // Engine options from what the host gave (bytes or hex; JSON or TOML).
//! let key = sspr_bind::secret_key(Material::Hex(&"ab".repeat(32)))?;
//! let mut options = EngineOptions::new(key)
//!     .with_policy(sspr_bind::policy("{\"pin_length\": 6}", PolicyFormat::Json)?)
//!     .with_rng_seed(sspr_bind::rng_seed(Material::Hex(&"01".repeat(32)))?);
//! let clock = sspr_core::ManualClock::new(sspr_core::time::macros::datetime!(2026-03-03 09:00 UTC));
//! options = options.with_manual_clock(clock); // also the timer: padding moves the clock
//! // A binding that owns its runtime (Python, uniffi, C) passes the process runtime's timer
//! // and spawner; Node and the portal pass `sspr_core::TokioRuntime::current()` twice.
//! let sspr = options
//!     .apply(sspr_core::Sspr::builder(), runtime::ProcessTimer, runtime::ProcessSpawner)
//!     .directory(sspr_core::memory::MemoryDirectory::new())
//!     .notifier(sspr_core::memory::Outbox::new())
//!     .build()?;
//!
//! // A request context: an explicit locale is parsed strictly, a header never fails.
//! let mut ctx = RequestContext::from_parts(Some("192.0.2.7"), Some("fr-FR, de;q=0.5"))?;
//! assert_eq!(ctx.locale, Locale::De);
//! ctx.locale = "en".parse()?; // "fr" here: InvalidInput (field `locale`)
//!
//! // A completion from a mode name and an optional password.
//! let choice = NewPassword::from_mode("temporary".parse::<CompletionMode>()?, None::<Password>)?;
//!
//! // Blocking calls (C, Python scripts) poll inside the process runtime; a stopped timer
//! // is `RuntimeError::TimerStopped` (code "internal"), never an unpadded answer.
//! let rt = runtime::handle().map_err(|e| sspr_core::Error::Config(e.to_string()))?;
//! let answer = runtime::block_on(rt.guard(sspr.begin_reset("jane@example.org", &ctx)));
//! assert!(matches!(answer, Ok(Ok(_))));
//!
//! // Errors cross as their stable code.
//! assert_eq!(sspr_core::Error::Expired.code(), "expired");
//! # drop(choice);
//! # Ok(()) }
//! ```
//!
//! A host store's `get`: build [`EnrollmentParts`] from the host record (converting times
//! with [`time_from_unix`] / [`time_from_system`]) and return
//! `parts.validate()` to the engine; `save` hands out `EnrollmentParts::from(&enrollment)`.

pub mod enrollment;
pub mod options;
pub mod runtime;

pub use enrollment::{ContactParts, EnrollmentParts, check_enrollment, time_from_system, time_from_unix};
pub use options::{EngineOptions, Material, PolicyFormat, policy, rng_seed, secret_key};
