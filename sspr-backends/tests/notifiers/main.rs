//! The notifiers: SMTP against the aiosmtpd sink `scripts/test.sh` starts; Twilio and the
//! webhook against wiremock (their real endpoints cannot run here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

#[path = "../support/maildir.rs"]
mod maildir;
#[cfg(feature = "smtp")]
mod smtp;
