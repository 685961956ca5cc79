//! The Node.js binding of sspr: the native half of the npm package `sspr`.
//!
//! Everything here converts: JavaScript values to sspr-core's types and back, JavaScript
//! backends to sspr-core's backend traits, and sspr-core's errors to `SsprError`s. The
//! behaviour lives in sspr-core, and the rules every binding shares (names, request
//! contexts, completions, engine options, host-store records) in sspr-core's `wire` and
//! sspr-bind. The JavaScript half (`index.js`) binds backend methods to their objects,
//! defines `SsprError` and hides the temporary password from `toString`, `JSON.stringify`
//! and `util.inspect`.
//!
//! The modules follow the same map in every binding:
//!
//! | module | holds |
//! | --- | --- |
//! | [`engine`] | the engine class, the policy, the temporary password |
//! | [`values`] | conversions of the API's values |
//! | [`errors`] | the one place core errors become `SsprError`s |
//! | `foreign` | backends written in JavaScript |
//! | [`builtin`] | the in-memory and sspr-backends classes, and which backend fills each slot |
//! | `runtime` | how a call reaches JavaScript without a thread hop when none is needed |
//! | [`local`] | background deliveries kept on the JavaScript thread while they wait for JavaScript |
//! | [`pages`] | the web pages' catalogue (`pageText`, `negotiateLocale`) |
//! | [`traces`] | `exportTraces`: the engine's spans over OTLP (sspr-bind's `traces`) |
//! | [`testing`] | sspr-core's conformance suite run on JavaScript backends |
//! | `vectors`, `reference` | test vectors and the benchmark reference (cargo feature `vectors`, off in the npm package) |

pub mod builtin;
pub mod engine;
pub mod errors;
mod foreign;
pub mod local;
pub mod pages;
mod runtime;
pub mod testing;
pub mod traces;
pub mod values;

#[cfg(feature = "vectors")]
pub mod reference;
#[cfg(feature = "vectors")]
pub mod vectors;
