//! HTTP-level tests of the portal: the pages driven as a browser would, through the router
//! (no network), with the demo directory and the development outbox.

// Test code: a failed unwrap is a failed test.
#![allow(unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod accounts;
mod attacks;
mod hostile;
mod ldap;
mod postgres;
mod reset;
mod security;
mod shared_state;
mod sms;
mod smtp;
mod support;
