use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::audit::AuditEvent;
use crate::backend::AuditSink;
use crate::error::BackendError;

/// Keeps every audit event in memory, in order. Clones share the same log.
#[derive(Debug, Clone, Default)]
pub struct MemoryAuditSink {
    events: Arc<Mutex<Vec<AuditEvent>>>,
}

impl MemoryAuditSink {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event recorded so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        lock(&self.events).clone()
    }

    /// The last `n` events, newest last.
    pub fn tail(&self, n: usize) -> Vec<AuditEvent> {
        let events = lock(&self.events);
        events.iter().skip(events.len().saturating_sub(n)).cloned().collect()
    }
}

#[async_trait]
impl AuditSink for MemoryAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        lock(&self.events).push(event.clone());
        Ok(())
    }
}
