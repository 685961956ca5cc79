//! The Node.js binding of sspr: the native half of the npm package `sspr`.
//!
//! Everything here converts: JavaScript values to sspr-core's types and back, JavaScript
//! backends to sspr-core's backend traits, and sspr-core's errors to `SsprError`s (one
//! mapping point, [`error`]). The behaviour lives in sspr-core. The JavaScript half
//! (`index.js`) binds backend methods to their objects, defines `SsprError` and hides the
//! temporary password from `toString`, `JSON.stringify` and `util.inspect`.
//!
//! Operations return their answer directly when the engine finishes without waiting (the
//! in-memory backends never make it wait), and a Promise otherwise: see `run.rs`.

pub mod backends;
pub mod convert;
pub mod engine;
pub mod error;
mod js_backend;
pub mod reference;
mod run;
pub mod vectors;
