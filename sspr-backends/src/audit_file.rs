//! The audit trail as a JSON-lines file (feature `audit-file`): one event per line, in the
//! versioned JSON form of [`AuditEvent::to_json`], appended as it happens.
//!
//! ```no_run
//! # fn main() -> Result<(), sspr_core::BackendError> {
//! let audit = sspr_backends::audit_file::JsonLinesAuditSink::open("/var/log/sspr/audit.jsonl")?;
//! // Sspr::builder().audit(audit) ...
//! # Ok(()) }
//! ```
//!
//! Events never hold a secret (sspr-core guarantees it), so the file may be shipped to any
//! log pipeline. The file is opened in append mode and each event is written with one
//! `write` call of a whole line, so several processes may append to the same file and lines
//! do not interleave (POSIX `O_APPEND`); log rotation must move the file and tell the
//! process to reopen it (build a new sink), as with any appending logger.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use sspr_core::{AuditEvent, AuditSink, BackendError};

/// Appends every audit event as one JSON line to a file. Clones share the file.
#[derive(Clone)]
pub struct JsonLinesAuditSink {
    file: Arc<Mutex<File>>,
    path: PathBuf,
}

impl fmt::Debug for JsonLinesAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesAuditSink").field("path", &self.path).finish()
    }
}

impl JsonLinesAuditSink {
    /// Open `path` for appending, creating it if missing (its folder must exist).
    ///
    /// # Errors
    /// `Unavailable` when the file cannot be opened (missing folder, permissions).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BackendError> {
        let path = path.as_ref().to_owned();
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| {
            BackendError::new(sspr_core::BackendErrorKind::Unavailable, format!("audit file {}: {e}", path.display()))
        })?;
        Ok(Self { file: Arc::new(Mutex::new(file)), path })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn lock(file: &Mutex<File>) -> MutexGuard<'_, File> {
    file.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl AuditSink for JsonLinesAuditSink {
    /// Append one line. The write is a small blocking `write(2)` to a local file (no fsync):
    /// done inline, as a logger does, rather than on another thread that could reorder
    /// events of one flow.
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let mut line = event.to_json();
        line.push('\n');
        lock(&self.file).write_all(line.as_bytes()).map_err(BackendError::unavailable)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use sspr_core::{AuditKind, Outcome};
    use time::OffsetDateTime;

    use super::*;

    #[test]
    fn the_file_sink_writes_one_json_line_per_event_and_appends_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let at = OffsetDateTime::from_unix_timestamp(1_767_261_600).unwrap();
        let sink = JsonLinesAuditSink::open(&path).unwrap();
        futures::executor::block_on(sink.record(&AuditEvent::new(AuditKind::ResetRequested, at, Outcome::Success)))
            .unwrap();
        drop(sink);
        let again = JsonLinesAuditSink::open(&path).unwrap();
        futures::executor::block_on(again.record(&AuditEvent::new(AuditKind::PinSent, at, Outcome::Success))).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["kind"], "reset_requested");
        assert_eq!(lines[1]["kind"], "pin_sent");
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_unavailable() {
        let e = JsonLinesAuditSink::open("/nonexistent-folder/audit.jsonl").unwrap_err();
        assert_eq!(e.kind(), sspr_core::BackendErrorKind::Unavailable);
    }
}
