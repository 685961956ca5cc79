//! The stores (SQLite, Redis, PostgreSQL) against sspr-core's conformance suites and the
//! engine. Redis and PostgreSQL need the servers `scripts/test.sh` starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;
#[path = "../support/outside_runtime.rs"]
mod outside_runtime;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_tls;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
