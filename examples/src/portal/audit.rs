//! The portal's audit sink, its timer and its notifier by channel. The audit sink: every event as one JSON line in a file (the durable trail) and
//! the most recent ones in memory for the admin page. Events never hold a secret
//! (sspr-core guarantees it), so writing them out is safe.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use sspr_core::{AuditEvent, AuditSink, BackendError};

/// Events kept in memory for `/admin`.
const RECENT: usize = 500;

/// Appends audit events to a JSON-lines file and keeps the latest in memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortalAudit {
    recent: Arc<Mutex<VecDeque<AuditEvent>>>,
    file: Option<Arc<Mutex<File>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PortalAudit {
    /// A sink appending to `path` (created when missing).
    pub(crate) fn to_file(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { recent: Arc::default(), file: Some(Arc::new(Mutex::new(file))) })
    }

    /// The newest `n` events, newest first.
    pub(crate) fn newest(&self, n: usize) -> Vec<AuditEvent> {
        lock(&self.recent).iter().rev().take(n).cloned().collect()
    }
}

#[async_trait]
impl AuditSink for PortalAudit {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        {
            let mut recent = lock(&self.recent);
            if recent.len() >= RECENT {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        if let Some(file) = &self.file {
            let mut line = event.to_json();
            line.push('\n');
            lock(file).write_all(line.as_bytes()).map_err(BackendError::unavailable)?;
        }
        Ok(())
    }
}
