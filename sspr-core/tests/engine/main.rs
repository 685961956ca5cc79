//! sspr-core's integration tests: one binary, one module per theme (each file in `tests/`
//! is a separate binary to link, so add modules here rather than files there).

// Test helpers are `pub` for the modules of this binary, not for anyone else.
#![allow(unreachable_pub)]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

mod admin;
mod change;
mod concurrency;
mod conformance;
mod coverage;
mod enumeration;
mod failures;
mod hanging;
mod hooks;
mod hostile_input;
mod limits;
mod metrics;
mod password_checks;
mod privileged;
mod reset_flow;
mod round_trips;
mod secrets;
mod sign_in;
mod state_machine;
mod vectors;
