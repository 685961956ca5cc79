//! The stores (SQLite, Redis, PostgreSQL) against sspr-core's conformance suites and the
//! engine. Redis and PostgreSQL need the servers `scripts/test.sh` starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod audit;
mod common;
#[path = "../support/outside_runtime.rs"]
mod outside_runtime;
// The server tier: PostgreSQL and Redis (feature `server-tests`, on in scripts/test.sh).
#[cfg(all(feature = "postgres", feature = "server-tests"))]
mod postgres;
#[cfg(all(feature = "postgres", feature = "server-tests"))]
mod postgres_tls;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
mod races;
#[cfg(all(feature = "redis", feature = "server-tests"))]
mod redis;
#[cfg(all(any(feature = "redis", feature = "postgres"), feature = "server-tests"))]
mod reply_drop;
#[cfg(feature = "sqlite")]
mod sqlite;
