//! HTTP-level tests of the portal: the pages driven as a browser would, through the router
//! (no network), with the demo directory and the development outbox.

// Test code: a failed unwrap is a failed test.
#![allow(unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod accounts;
mod attacks;
mod challenge;
mod change;
mod connections;
mod coverage;
mod drops;
mod hostile;
mod languages;
mod metrics;
mod oidc;
// The server tier (slapd, PostgreSQL, Redis, the SMTP sink): feature `server-tests`, on in
// scripts/test.sh; plain `cargo test` leaves these out.
#[cfg(feature = "server-tests")]
mod ldap;
#[cfg(feature = "server-tests")]
mod postgres;
mod recovery;
mod reset;
mod security;
#[cfg(feature = "server-tests")]
mod shared_state;
mod shutdown;
mod sms;
#[cfg(feature = "server-tests")]
mod smtp;
// The Graph and Entra stand-in the sspr-backends tests use (it cites Microsoft's reference pages).
use sspr_graph_standin as standin;
mod support;
