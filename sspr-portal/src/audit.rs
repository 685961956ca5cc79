//! The portal's audit sink and its timer. The audit sink: every event as one JSON line in a
//! file (the durable trail, sspr-backends' `JsonLinesAuditSink`, which the C and uniffi
//! bindings use too), to the `[audit]` sink when one is configured (behind its bounded
//! queue), and the most recent ones in memory for the admin page. Events never hold a secret
//! (sspr-core guarantees it), so writing them out is safe.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use sspr_backends::audit_file::JsonLinesAuditSink;
use sspr_core::{AuditEvent, AuditSink, BackendError};

/// Events kept in memory for `/admin`.
const RECENT: usize = 500;

/// Appends audit events to a JSON-lines file and keeps the latest in memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortalAudit {
    recent: Arc<Mutex<VecDeque<AuditEvent>>>,
    file: Option<JsonLinesAuditSink>,
    /// The configured `[audit]` sink.
    configured: Option<Arc<dyn AuditSink>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PortalAudit {
    /// A sink appending to `path` (created when missing).
    pub(crate) fn to_file(path: &Path) -> Result<Self, BackendError> {
        Ok(Self { recent: Arc::default(), file: Some(JsonLinesAuditSink::open(path)?), configured: None })
    }

    /// Also record every event to `sink` (the configured `[audit]` sink).
    pub(crate) fn with_sink(mut self, sink: Option<Arc<dyn AuditSink>>) -> Self {
        self.configured = sink;
        self
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
        // Both are tried; the first failure is reported (the engine logs it).
        let file = match &self.file {
            Some(file) => file.record(event).await,
            None => Ok(()),
        };
        let configured = match &self.configured {
            Some(sink) => sink.record(event).await,
            None => Ok(()),
        };
        file.and(configured)
    }

    async fn flush(&self) -> Result<(), BackendError> {
        match &self.configured {
            Some(sink) => sink.flush().await,
            None => Ok(()),
        }
    }
}
