use std::fmt::Debug;

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::error::BackendError;

/// Receives the audit trail.
///
/// Contract: `record` stores or forwards one event; events of one flow arrive in order. An
/// audit failure does not undo the operation it describes (a password already set stays
/// set); the engine reports it through `tracing` at `error` level. Events never hold a
/// secret, so they may be written anywhere.
#[async_trait]
pub trait AuditSink: Send + Sync + Debug {
    /// Record one event.
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError>;

    /// Wait until every event `record` accepted before this call is stored (or its failure
    /// reported). A sink that stores in `record` itself has nothing to wait for and keeps
    /// this default; a sink that queues events (sspr-backends' `QueuedAuditSink`) or wraps
    /// another sink must implement it, or the events still queued when the host exits are
    /// lost. The engine calls it from [`crate::Sspr::flush_audit`].
    async fn flush(&self) -> Result<(), BackendError> {
        Ok(())
    }
}
