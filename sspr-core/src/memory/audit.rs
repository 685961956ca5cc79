use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::audit::AuditEvent;
use crate::backend::AuditSink;
use crate::error::BackendError;

/// Keeps the most recent audit events in memory, in order: a ring buffer of
/// [`MemoryAuditSink::DEFAULT_CAPACITY`] events (or the capacity given to
/// [`MemoryAuditSink::with_capacity`]); once full, each new event drops the oldest. Clones
/// share the same log.
///
/// It is the engine's default sink, so it must not grow with the process's lifetime (a
/// portal or a C host records events for months). It is not a durable trail: give the engine
/// a sink that writes events out (a file, a log pipeline) when they must be kept.
#[derive(Debug, Clone)]
pub struct MemoryAuditSink {
    log: Arc<Mutex<Ring>>,
}

#[derive(Debug)]
struct Ring {
    events: VecDeque<AuditEvent>,
    capacity: usize,
}

impl Default for MemoryAuditSink {
    fn default() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }
}

impl MemoryAuditSink {
    /// Events kept by [`MemoryAuditSink::new`]: 10 000 (a few MB at most; about a day of a
    /// busy portal's resets).
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// An empty log keeping the newest [`Self::DEFAULT_CAPACITY`] events.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty log keeping the newest `capacity` events (0 keeps none).
    pub fn with_capacity(capacity: usize) -> Self {
        let ring = Ring { events: VecDeque::with_capacity(capacity.min(1024)), capacity };
        Self { log: Arc::new(Mutex::new(ring)) }
    }

    /// How many events it keeps at most.
    pub fn capacity(&self) -> usize {
        lock(&self.log).capacity
    }

    /// Every event kept, oldest first (at most the capacity: older ones were dropped).
    pub fn events(&self) -> Vec<AuditEvent> {
        lock(&self.log).events.iter().cloned().collect()
    }

    /// The last `n` events, newest last.
    pub fn tail(&self, n: usize) -> Vec<AuditEvent> {
        let log = lock(&self.log);
        log.events.iter().skip(log.events.len().saturating_sub(n)).cloned().collect()
    }
}

#[async_trait]
impl AuditSink for MemoryAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let mut log = lock(&self.log);
        if log.capacity == 0 {
            return Ok(());
        }
        if log.events.len() >= log.capacity {
            log.events.pop_front();
        }
        log.events.push_back(event.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::OffsetDateTime;

    use super::*;
    use crate::audit::{AuditKind, Outcome};

    fn event(i: i64) -> AuditEvent {
        let at = OffsetDateTime::from_unix_timestamp(1_767_261_600 + i).unwrap();
        AuditEvent::new(AuditKind::ResetRequested, at, Outcome::Success)
    }

    fn record(sink: &MemoryAuditSink, n: i64) {
        for i in 0..n {
            futures::executor::block_on(sink.record(&event(i))).unwrap();
        }
    }

    /// A long-running process (a C or Kotlin host, a portal) records events for ever: the
    /// default sink must not grow with them.
    #[test]
    fn memory_audit_sink_stays_bounded_after_many_events() {
        let sink = MemoryAuditSink::new();
        record(&sink, 3 * 10_000);
        let events = sink.events();
        assert!(events.len() <= 10_000, "kept {} events", events.len());
        assert_eq!(events.len(), MemoryAuditSink::DEFAULT_CAPACITY);
        // The newest are kept, in order; the oldest were dropped.
        assert_eq!(events.last().unwrap().at, event(3 * 10_000 - 1).at);
        assert_eq!(events.first().unwrap().at, event(2 * 10_000).at);
        assert_eq!(sink.tail(2).first().unwrap().at, event(3 * 10_000 - 2).at);
    }

    #[test]
    fn a_chosen_capacity_is_kept_and_zero_keeps_nothing() {
        let sink = MemoryAuditSink::with_capacity(3);
        record(&sink, 5);
        assert_eq!(
            sink.events().iter().map(|e| e.at).collect::<Vec<_>>(),
            (2..5).map(|i| event(i).at).collect::<Vec<_>>()
        );
        assert_eq!(sink.capacity(), 3);
        let none = MemoryAuditSink::with_capacity(0);
        record(&none, 2);
        assert!(none.events().is_empty());
    }
}
