#![doc = include_str!("../README.md")]

pub mod conformance;
pub mod directory;
pub mod enrollment;
pub mod forwarded;
pub mod metrics;
pub mod names;
pub mod options;
pub mod pages;
pub mod runtime;
#[cfg(feature = "traces")]
pub mod traces;
#[cfg(feature = "vectors")]
pub mod vectors;

pub use directory::{directory_mail, returned_directory_mail};
pub use enrollment::{ContactParts, EnrollmentParts, check_enrollment, time_from_system, time_from_unix};
pub use options::{EngineOptions, Material, PolicyFormat, policy, previous_key, rng_seed, secret_key};
