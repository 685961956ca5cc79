//! The `ldap` backends against real servers: slapd (scripts/servers/10-slapd.sh) and Samba AD
//! (scripts/servers/20-samba.sh). Run through ./scripts/test.sh, which starts them.
// Every test here talks to slapd or Samba AD: the server tier, compiled only with the
// `server-tests` feature (scripts/test.sh turns it on; plain `cargo test` leaves it out).
#![cfg(all(feature = "ldap", feature = "server-tests"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod change;
mod common;
mod contacts;
mod drops;
mod faults;
mod flows;
#[cfg(feature = "smtp")]
#[path = "../support/maildir.rs"]
mod maildir;
mod plain;
mod privileged;
mod samba;
mod self_service;
mod slapd;
#[path = "../support/slow_proxy.rs"]
mod slow_proxy;
