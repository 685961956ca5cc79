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
//! do not interleave (POSIX `O_APPEND`).
//!
//! **Rotation.** [`JsonLinesAuditSink::open_rotating`] rotates by size: when the next line
//! would take the file past `max_bytes`, `audit.jsonl.{keep-1}` becomes `audit.jsonl.{keep}`
//! (the oldest, `audit.jsonl.{keep}`, is overwritten), ..., `audit.jsonl` becomes
//! `audit.jsonl.1`, and a new `audit.jsonl` is started; a line is never split across files. The
//! size is counted by this sink (from the file's size when opened), so let one process own a
//! rotating file; several processes sharing one file should rotate it with an external tool
//! (logrotate `copytruncate`) instead.
//!
//! ```no_run
//! # fn main() -> Result<(), sspr_core::BackendError> {
//! use sspr_backends::audit_file::{JsonLinesAuditSink, Rotation};
//! // At most ~10 MB per file, the 5 previous files kept: audit.jsonl.1 (newest) .. audit.jsonl.5.
//! let audit = JsonLinesAuditSink::open_rotating("/var/log/sspr/audit.jsonl", Rotation { max_bytes: 10_000_000, keep: 5 })?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use sspr_core::{AuditEvent, AuditSink, BackendError};

/// Size-based rotation of a [`JsonLinesAuditSink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Start a new file when the next line would take the current one past this many bytes
    /// (a single longer line gets a file of its own).
    pub max_bytes: u64,
    /// How many previous files to keep (`audit.jsonl.1` .. `audit.jsonl.{keep}`); 0 keeps
    /// none (the full file is deleted).
    pub keep: usize,
}

/// Appends every audit event as one JSON line to a file, optionally rotated by size. Clones
/// share the file.
#[derive(Clone)]
pub struct JsonLinesAuditSink {
    state: Arc<Mutex<Open>>,
    path: PathBuf,
    rotation: Option<Rotation>,
}

struct Open {
    file: File,
    /// Bytes in the file, as this sink counts them (from its size when opened).
    size: u64,
}

impl fmt::Debug for JsonLinesAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesAuditSink").field("path", &self.path).field("rotation", &self.rotation).finish()
    }
}

fn unavailable(path: &Path, what: &str, e: std::io::Error) -> BackendError {
    BackendError::new(sspr_core::BackendErrorKind::Unavailable, format!("audit file {}: {what}: {e}", path.display()))
}

/// The mode a missing audit file is created with: its lines name logins and IP addresses
/// (personal data), not for every local account to read. An existing file keeps the mode its
/// owner gave it.
pub const NEW_FILE_MODE: u32 = 0o600;

/// Open `path` for appending; a missing file is created with `mode` (less the umask) on Unix.
/// With `fresh`, the file must not exist yet (a rotation's new file: `O_EXCL`). A symbolic
/// link at `path` is never followed (`O_NOFOLLOW`), and what is opened must be a regular file
/// (or a pipe or character device, see [`appendable`]): another account that can write to the folder could otherwise plant a link (or, at a
/// rotation, a file) there and read or rewrite every event (R.30).
fn open_append(path: &Path, mode: u32, fresh: bool) -> Result<Open, BackendError> {
    let mut options = OpenOptions::new();
    if fresh {
        options.create_new(true).append(true);
    } else {
        options.create(true).append(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let file = options.open(path).map_err(|e| unavailable(path, "cannot open (a link is not followed)", e))?;
    let metadata = file.metadata().map_err(|e| unavailable(path, "cannot read its size", e))?;
    if !appendable(&metadata) {
        return Err(unavailable(
            path,
            "cannot open",
            std::io::Error::other("not a file, a pipe or a character device"),
        ));
    }
    Ok(Open { file, size: metadata.len() })
}

/// A regular file, or on Unix a pipe (a log shipper reading a FIFO) or a character device
/// (`/dev/stdout` under a process supervisor): what an operator points the sink at on purpose.
/// Not a directory or anything else a path might name.
fn appendable(metadata: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        metadata.is_file() || kind.is_fifo() || kind.is_char_device()
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}

/// `audit.jsonl` + `.n`.
fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl JsonLinesAuditSink {
    /// Open `path` for appending, creating it if missing (its folder must exist); never
    /// rotated.
    ///
    /// # Errors
    /// `Unavailable` when the file cannot be opened (missing folder, permissions).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BackendError> {
        let path = path.as_ref().to_owned();
        let open = open_append(&path, NEW_FILE_MODE, false)?;
        Ok(Self { state: Arc::new(Mutex::new(open)), path, rotation: None })
    }

    /// As [`JsonLinesAuditSink::open`], rotating the file by size as `rotation` says.
    ///
    /// # Errors
    /// `Unavailable` when the file cannot be opened; `Rejected` when `max_bytes` is 0.
    pub fn open_rotating(path: impl AsRef<Path>, rotation: Rotation) -> Result<Self, BackendError> {
        if rotation.max_bytes == 0 {
            return Err(BackendError::new(
                sspr_core::BackendErrorKind::Rejected,
                "audit file rotation: max_bytes must be at least 1",
            ));
        }
        Ok(Self { rotation: Some(rotation), ..Self::open(path)? })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Move the full file aside (`.1`, older ones one number up, the last one dropped) and
    /// start a new one.
    fn rotate(&self, open: &mut Open, keep: usize) -> Result<(), BackendError> {
        let path = &self.path;
        let ignore_missing = |r: std::io::Result<()>| match r {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(unavailable(path, "cannot rotate", e)),
            _ => Ok(()),
        };
        // The next file gets the mode of the one it follows (an operator's 0640 for a log
        // reader's group stays 0640), not the creation default.
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            open.file.metadata().map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o7777)
        };
        #[cfg(not(unix))]
        let mode = NEW_FILE_MODE;
        if keep == 0 {
            ignore_missing(std::fs::remove_file(path))?;
        } else {
            for n in (1..keep).rev() {
                ignore_missing(std::fs::rename(numbered(path, n), numbered(path, n + 1)))?;
            }
            ignore_missing(std::fs::rename(path, numbered(path, 1)))?;
        }
        self.start_new_file(open, mode)
    }

    /// The second half of a rotation: the file at the path (just moved away) started again.
    fn start_new_file(&self, open: &mut Open, mode: u32) -> Result<(), BackendError> {
        let path = &self.path;
        // Created here or refused: a file or link found at the name (planted between the
        // move and this open) is not written to; the event fails loudly instead.
        *open = open_append(path, mode, true)?;
        // The creation mode loses what the umask takes; the new file is this sink's own (it
        // was just created), so it is given the old mode exactly.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = open.file.set_permissions(std::fs::Permissions::from_mode(mode));
        }
        Ok(())
    }
}

fn lock(state: &Mutex<Open>) -> MutexGuard<'_, Open> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl AuditSink for JsonLinesAuditSink {
    /// Append one line, rotating first when it would not fit. The write is a small blocking
    /// `write(2)` to a local file (no fsync): done inline, as a logger does, rather than on
    /// another thread that could reorder events of one flow (put the sink behind a
    /// [`QueuedAuditSink`](crate::audit_queue::QueuedAuditSink) to take it off the reset's path).
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let mut line = event.to_json();
        line.push('\n');
        let len = u64::try_from(line.len()).unwrap_or(u64::MAX);
        let mut open = lock(&self.state);
        if let Some(rotation) = self.rotation
            && open.size > 0
            && open.size.saturating_add(len) > rotation.max_bytes
        {
            self.rotate(&mut open, rotation.keep)?;
        }
        open.file.write_all(line.as_bytes()).map_err(|e| unavailable(&self.path, "cannot write", e))?;
        open.size = open.size.saturating_add(len);
        Ok(())
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

    /// The file names logins and IP addresses: created 0600 (it was 0644, less the umask,
    /// readable by every local account), and each file rotation starts keeps the mode of the
    /// one before, also one the operator chose; an existing file's mode is not touched.
    #[cfg(unix)]
    #[test]
    fn a_new_file_is_private_and_rotation_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let at = OffsetDateTime::from_unix_timestamp(1_767_261_600).unwrap();
        let event = AuditEvent::new(AuditKind::ResetRequested, at, Outcome::Success);
        let sink = JsonLinesAuditSink::open_rotating(&path, Rotation { max_bytes: 10, keep: 2 }).unwrap();
        futures::executor::block_on(sink.record(&event)).unwrap();
        assert_eq!(mode(&path), 0o600);
        futures::executor::block_on(sink.record(&event)).unwrap();
        assert_eq!((mode(&path), mode(&numbered(&path, 1))), (0o600, 0o600), "rotated");
        // The operator's 0640 (a log shipper's group) survives rotation, whatever the umask.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        futures::executor::block_on(sink.record(&event)).unwrap();
        assert_eq!((mode(&path), mode(&numbered(&path, 1))), (0o640, 0o640));
        drop(sink);
        // An existing file is opened as it is.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = JsonLinesAuditSink::open(&path).unwrap();
        futures::executor::block_on(again.record(&event)).unwrap();
        assert_eq!(mode(&path), 0o644);
    }

    fn kinds_in(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_rotating_file_moves_aside_at_its_size_keeps_n_files_and_never_splits_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let at = OffsetDateTime::from_unix_timestamp(1_767_261_600).unwrap();
        let kinds = [
            AuditKind::ResetRequested,
            AuditKind::PinSent,
            AuditKind::PinFailed,
            AuditKind::PinVerified,
            AuditKind::ResetCompleted,
            AuditKind::SignIn,
        ];
        let line_len = AuditEvent::new(AuditKind::PinSent, at, Outcome::Success).to_json().len() as u64 + 1;
        // Room for two lines of about this size per file, two old files kept.
        let sink = JsonLinesAuditSink::open_rotating(&path, Rotation { max_bytes: 2 * line_len + 8, keep: 2 }).unwrap();
        for kind in kinds {
            futures::executor::block_on(sink.record(&AuditEvent::new(kind, at, Outcome::Success))).unwrap();
        }
        // Six events, two per file: the oldest pair fell off the end.
        assert_eq!(kinds_in(&path), ["reset_completed", "sign_in"]);
        assert_eq!(kinds_in(&numbered(&path, 1)), ["pin_failed", "pin_verified"]);
        assert_eq!(kinds_in(&numbered(&path, 2)), ["reset_requested", "pin_sent"]);
        assert!(!numbered(&path, 3).exists());
        for file in [path.clone(), numbered(&path, 1), numbered(&path, 2)] {
            assert!(std::fs::metadata(&file).unwrap().len() <= 2 * line_len + 8);
        }
        futures::executor::block_on(sink.record(&AuditEvent::new(AuditKind::Blocked, at, Outcome::Success))).unwrap();
        assert_eq!(kinds_in(&numbered(&path, 2)), ["pin_failed", "pin_verified"]);
        assert_eq!(kinds_in(&path), ["blocked"]);

        // Reopened, the sink counts the size already there.
        drop(sink);
        let again =
            JsonLinesAuditSink::open_rotating(&path, Rotation { max_bytes: 2 * line_len + 8, keep: 0 }).unwrap();
        futures::executor::block_on(again.record(&AuditEvent::new(AuditKind::PinSent, at, Outcome::Success))).unwrap();
        assert_eq!(kinds_in(&path), ["blocked", "pin_sent"]);
        // keep = 0: the full file is dropped, not moved.
        futures::executor::block_on(again.record(&AuditEvent::new(AuditKind::PinVoided, at, Outcome::Success)))
            .unwrap();
        assert_eq!(kinds_in(&path), ["pin_voided"]);
        assert_eq!(kinds_in(&numbered(&path, 1)), ["reset_completed", "sign_in"], "left as it was");

        // A line longer than the limit gets a file of its own rather than being split.
        let tiny = dir.path().join("tiny.jsonl");
        let sink = JsonLinesAuditSink::open_rotating(&tiny, Rotation { max_bytes: 10, keep: 1 }).unwrap();
        for kind in [AuditKind::PinSent, AuditKind::PinFailed] {
            futures::executor::block_on(sink.record(&AuditEvent::new(kind, at, Outcome::Success))).unwrap();
        }
        assert_eq!(kinds_in(&tiny), ["pin_failed"]);
        assert_eq!(kinds_in(&numbered(&tiny, 1)), ["pin_sent"]);
        let e = JsonLinesAuditSink::open_rotating(&tiny, Rotation { max_bytes: 0, keep: 1 }).unwrap_err();
        assert_eq!(e.kind(), sspr_core::BackendErrorKind::Rejected);
    }

    /// R.30: the audit folder is shared with another local account (a log shipper's group
    /// with write access, a folder handed over loosely): that account deletes `audit.jsonl`
    /// and plants a symbolic link of that name to a file of its own. At the next start the
    /// sink followed the link and appended every event (logins, IP addresses) to the planted
    /// file, which its owner reads and rewrites at will. A rotation's new file (the name is
    /// free between the move and the open) was likewise taken over by a link or a file
    /// planted in time.
    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_audit_path_does_not_receive_the_events() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let planted = dir.path().join("planted-by-another-account.jsonl");
        std::fs::write(&planted, "").unwrap();
        std::os::unix::fs::symlink(&planted, &path).unwrap();
        let at = OffsetDateTime::from_unix_timestamp(1_767_261_600).unwrap();
        let event = AuditEvent::new(AuditKind::ResetRequested, at, Outcome::Success);
        let written = JsonLinesAuditSink::open(&path).map(|sink| futures::executor::block_on(sink.record(&event)));
        assert_eq!(std::fs::read_to_string(&planted).unwrap(), "", "the events went to the planted file");
        let e = written.and_then(|r| r).unwrap_err();
        assert_eq!(e.kind(), sspr_core::BackendErrorKind::Unavailable);
        // A dangling link does not create a file where it points either.
        let elsewhere = dir.path().join("created-through-the-link.jsonl");
        let dangling = dir.path().join("dangling.jsonl");
        std::os::unix::fs::symlink(&elsewhere, &dangling).unwrap();
        assert!(JsonLinesAuditSink::open(&dangling).is_err());
        assert!(!elsewhere.exists(), "a file was created through the link");
    }

    /// R.30, at rotation: the new file must be one this sink creates, never one found there.
    #[cfg(unix)]
    #[test]
    fn rotation_refuses_a_file_planted_at_the_free_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let at = OffsetDateTime::from_unix_timestamp(1_767_261_600).unwrap();
        let event = AuditEvent::new(AuditKind::ResetRequested, at, Outcome::Success);
        let sink = JsonLinesAuditSink::open_rotating(&path, Rotation { max_bytes: 10, keep: 1 }).unwrap();
        futures::executor::block_on(sink.record(&event)).unwrap();
        // The race won (deterministically here): the file is planted after the move, before
        // the open. `start_new_file` is the second half of a rotation.
        std::fs::rename(&path, numbered(&path, 1)).unwrap();
        let planted = dir.path().join("planted.jsonl");
        std::fs::write(&planted, "").unwrap();
        std::os::unix::fs::symlink(&planted, &path).unwrap();
        let mut open = lock(&sink.state);
        assert!(sink.start_new_file(&mut open, NEW_FILE_MODE).is_err(), "a planted link became the audit file");
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "").unwrap();
        assert!(sink.start_new_file(&mut open, NEW_FILE_MODE).is_err(), "a planted file became the audit file");
        std::fs::remove_file(&path).unwrap();
        sink.start_new_file(&mut open, NEW_FILE_MODE).unwrap();
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_unavailable() {
        let e = JsonLinesAuditSink::open("/nonexistent-folder/audit.jsonl").unwrap_err();
        assert_eq!(e.kind(), sspr_core::BackendErrorKind::Unavailable);
    }
}
