//! The `graph` backends against a local stand-in for Microsoft Graph v1.0 and the token
//! endpoint (the `sspr-graph-standin` crate, which cites the reference pages its shapes come from). Graph is
//! not reachable from the test machine: everything here is verified against the stand-in only.
//! No server to start, so this runs in the plain tier (with the `graph` feature).
#![cfg(feature = "graph")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]
// The stand-in is a server: it keeps real time for token and assertion expiry.
#![allow(clippy::disallowed_methods, unreachable_pub, dead_code)]

mod admin_power;
mod contacts;
mod directory;
mod faults;
mod oidc;
mod roles;
use sspr_graph_standin as standin;
