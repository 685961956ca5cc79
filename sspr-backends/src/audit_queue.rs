//! A bounded queue between the engine and an audit sink (feature `audit-queue`), so that a
//! slow or stalled sink (a PostgreSQL server failing over, a syslog relay gone quiet, a
//! webhook timing out) never slows a reset.
//!
//! [`QueuedAuditSink`] wraps any [`AuditSink`]: `record` puts the event in a bounded channel
//! and returns at once; one tokio task drains the channel into the wrapped sink, in order (so
//! the events of one flow still arrive in order, as the [`AuditSink`] contract asks). When the
//! channel is full the event is **dropped**: `record` returns an error whose source is
//! [`AuditQueueError::Full`] (the engine logs it at `error` level), the counter
//! `sspr_audit_dropped_total{reason="full"}` goes up, and [`QueuedAuditSink::dropped`]
//! counts it. A failure of the wrapped sink is logged by the task and counted in
//! `sspr_audit_write_failures_total`; it is not retried.
//!
//! **A flood cannot push the rest out.** The events anyone on the internet causes without
//! knowing anything, a `begin_reset` (`reset_requested`) and a refusal by a rate limit
//! (`rate_limited`), take at most half the queue ([`QueuedAuditSink::flood_share`]): past that
//! they are dropped (as `full`) while the other half stays free for the events a real attack
//! is made of (`pin_verified`, `reset_completed`, `blocked`, an administrator's change). A
//! burst of anonymous begins while the sink is slow therefore cannot hide the verification and
//! the reset that follow it.
//!
//! At shutdown, call [`QueuedAuditSink::flush`] (or [`QueuedAuditSink::close`]) before the
//! runtime stops: a tokio runtime drops its tasks when it shuts down, and the events still
//! queued then would be lost. Dropping every handle also lets the task write what is queued
//! and end, as long as the runtime runs.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), sspr_core::BackendError> {
//! use std::sync::Arc;
//! use sspr_backends::audit_queue::QueuedAuditSink;
//! use sspr_core::memory::MemoryAuditSink;
//!
//! let durable = MemoryAuditSink::new();
//! let queued = QueuedAuditSink::new(Arc::new(durable.clone()), 4096)?;
//! // Sspr::builder().audit(queued.clone()) ... and at shutdown:
//! queued.flush().await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use async_trait::async_trait;
use sspr_core::{AuditEvent, AuditKind, AuditSink, BackendError, BackendErrorKind};
use tokio::sync::{mpsc, oneshot};

/// The counter of events dropped before reaching the sink, labelled `reason` (`full`: the
/// queue was full; `closed`: the draining task had ended, its runtime shut down).
pub const DROPPED: &str = "sspr_audit_dropped_total";
/// The counter of events the wrapped sink failed to record (taken off the queue, not stored).
pub const WRITE_FAILURES: &str = "sspr_audit_write_failures_total";
/// The capacity the configuration uses when none is given.
pub const DEFAULT_CAPACITY: usize = 4096;
/// The largest capacity accepted (tokio's channel panics beyond `usize::MAX >> 3`; a queue
/// this long already holds gigabytes of events).
pub const MAX_CAPACITY: usize = 10_000_000;

/// Why an event did not reach the queue. The [`BackendError`] `record` returns has kind
/// `Unavailable` and this as its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditQueueError {
    /// The queue held `capacity` events waiting for a slow sink: this one was dropped.
    #[error("audit queue full ({capacity} events waiting for the sink): event dropped")]
    Full {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The task writing to the sink has ended (its runtime shut down): the event was dropped.
    #[error("audit queue closed (its runtime has shut down): event dropped")]
    Closed,
}

enum Message {
    /// An event, and whether it counts against the flood's share.
    Event(Box<AuditEvent>, bool),
    Flush(oneshot::Sender<()>),
}

/// Whether an event is one anyone can cause at will, without knowing anything: a begin (for
/// any login) or a refusal by a rate limit. These take at most half the queue.
fn is_flood(kind: AuditKind) -> bool {
    matches!(kind, AuditKind::ResetRequested | AuditKind::RateLimited)
}

/// An [`AuditSink`] that hands events to another sink through a bounded queue drained by a
/// tokio task. Clones share the queue.
#[derive(Clone)]
pub struct QueuedAuditSink {
    shared: Arc<Shared>,
}

struct Shared {
    tx: mpsc::Sender<Message>,
    capacity: usize,
    dropped: AtomicU64,
    sink: String,
    /// Flood events (`is_flood`) in the channel now; the drain takes them off.
    flood: Arc<AtomicUsize>,
}

impl fmt::Debug for QueuedAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuedAuditSink")
            .field("sink", &self.shared.sink)
            .field("capacity", &self.shared.capacity)
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl QueuedAuditSink {
    /// Queue up to `capacity` events (at least 1) for `sink`, drained by a task spawned on the
    /// current tokio runtime.
    ///
    /// # Errors
    /// `Rejected` when called outside a tokio runtime.
    pub fn new(sink: Arc<dyn AuditSink>, capacity: usize) -> Result<Self, BackendError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            BackendError::new(BackendErrorKind::Rejected, "the audit queue needs a tokio runtime to drain it")
        })?;
        if capacity > MAX_CAPACITY {
            return Err(BackendError::new(
                BackendErrorKind::Rejected,
                format!("audit queue capacity {capacity} is over {MAX_CAPACITY}"),
            ));
        }
        Ok(Self::with_handle(sink, capacity, &handle))
    }

    /// As [`QueuedAuditSink::new`], draining on the runtime of `handle` (a capacity over
    /// [`MAX_CAPACITY`] is taken as that).
    pub fn with_handle(sink: Arc<dyn AuditSink>, capacity: usize, handle: &tokio::runtime::Handle) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        let (tx, rx) = mpsc::channel(capacity);
        let name = format!("{sink:?}");
        let flood = Arc::new(AtomicUsize::new(0));
        handle.spawn(drain(rx, sink, flood.clone()));
        Self { shared: Arc::new(Shared { tx, capacity, dropped: AtomicU64::new(0), sink: name, flood }) }
    }

    /// How many `reset_requested` and `rate_limited` events the queue holds at most: half its
    /// capacity (at least 1), so that a flood of anonymous begins leaves room for the rest.
    pub fn flood_share(&self) -> usize {
        (self.shared.capacity / 2).max(1)
    }

    /// Events dropped so far by this queue (full or closed).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// Wait until every event queued before this call has been handed to the sink (recorded,
    /// or failed and logged). Waits for room in a full queue.
    ///
    /// # Errors
    /// `Unavailable` (source [`AuditQueueError::Closed`]) when the draining task has ended.
    pub async fn flush(&self) -> Result<(), BackendError> {
        let (reply, done) = oneshot::channel();
        self.shared.tx.send(Message::Flush(reply)).await.map_err(|_| queue_error(AuditQueueError::Closed))?;
        done.await.map_err(|_| queue_error(AuditQueueError::Closed))
    }

    /// Flush, then drop this handle (the task ends once every clone is gone).
    ///
    /// # Errors
    /// As [`QueuedAuditSink::flush`].
    pub async fn close(self) -> Result<(), BackendError> {
        self.flush().await
    }

    fn drop_event(&self, why: AuditQueueError) -> BackendError {
        let reason = match why {
            AuditQueueError::Full { .. } => "full",
            AuditQueueError::Closed => "closed",
        };
        metrics::counter!(DROPPED, "reason" => reason).increment(1);
        let n = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        // The engine logs every failed `record`; this names the sink, once per doubling so a
        // flood of drops is not a flood of lines.
        if n.is_power_of_two() {
            tracing::warn!(sink = %self.shared.sink, dropped = n, reason, "audit events dropped before the sink");
        }
        queue_error(why)
    }
}

fn queue_error(why: AuditQueueError) -> BackendError {
    BackendError::new(BackendErrorKind::Unavailable, why.to_string()).with_source(why)
}

async fn drain(mut rx: mpsc::Receiver<Message>, sink: Arc<dyn AuditSink>, flood: Arc<AtomicUsize>) {
    while let Some(message) = rx.recv().await {
        match message {
            Message::Event(event, counted) => {
                if counted {
                    flood.fetch_sub(1, Ordering::Relaxed);
                }
                if let Err(e) = sink.record(&event).await {
                    metrics::counter!(WRITE_FAILURES).increment(1);
                    tracing::error!(kind = ?event.kind, sink = ?sink, error = %e, "audit sink failed");
                }
            }
            Message::Flush(reply) => {
                // Every earlier event is handed over; a sink that buffers is asked to store.
                if let Err(e) = sink.flush().await {
                    tracing::error!(sink = ?sink, error = %e, "audit sink failed to flush");
                }
                // The flusher may have given up waiting: nothing to tell then.
                let _ = reply.send(());
            }
        }
    }
}

#[async_trait]
impl AuditSink for QueuedAuditSink {
    /// Queue the event and return without waiting for the sink; a full queue drops it.
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let flood = is_flood(event.kind);
        if flood && self.shared.flood.fetch_add(1, Ordering::Relaxed) >= self.flood_share() {
            self.shared.flood.fetch_sub(1, Ordering::Relaxed);
            return Err(self.drop_event(AuditQueueError::Full { capacity: self.shared.capacity }));
        }
        let sent = self.shared.tx.try_send(Message::Event(Box::new(event.clone()), flood));
        if sent.is_err() && flood {
            self.shared.flood.fetch_sub(1, Ordering::Relaxed);
        }
        match sent {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                Err(self.drop_event(AuditQueueError::Full { capacity: self.shared.capacity }))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(self.drop_event(AuditQueueError::Closed)),
        }
    }

    /// [`QueuedAuditSink::flush`]: what `Sspr::flush_audit` calls.
    async fn flush(&self) -> Result<(), BackendError> {
        QueuedAuditSink::flush(self).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::sync::Mutex;
    use std::time::Duration;

    use metrics_exporter_prometheus::PrometheusBuilder;
    use sspr_core::memory::MemoryAuditSink;
    use sspr_core::time::OffsetDateTime;
    use sspr_core::{AuditKind, Outcome};
    use tokio::sync::Semaphore;

    use super::*;

    /// A sink that blocks in `record` until the test releases it, and says when it started.
    #[derive(Debug)]
    struct Stalled {
        gate: Arc<Semaphore>,
        started: Arc<Semaphore>,
        got: Arc<Mutex<Vec<AuditKind>>>,
    }

    #[async_trait]
    impl AuditSink for Stalled {
        async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
            self.started.add_permits(1);
            self.gate.acquire().await.unwrap().forget();
            self.got.lock().unwrap().push(event.kind);
            Ok(())
        }
    }

    fn event(kind: AuditKind) -> AuditEvent {
        AuditEvent::new(kind, OffsetDateTime::UNIX_EPOCH, Outcome::Success)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_sink_does_not_delay_record_and_a_full_queue_drops_and_counts() {
        let gate = Arc::new(Semaphore::new(0));
        let started = Arc::new(Semaphore::new(0));
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = Stalled { gate: gate.clone(), started: started.clone(), got: got.clone() };
        let queue = QueuedAuditSink::new(Arc::new(sink), 2).unwrap();
        let recorder = PrometheusBuilder::new().build_recorder();
        let metrics = recorder.handle();

        // The first event is taken by the task, which then stalls in the sink.
        queue.record(&event(AuditKind::ResetRequested)).await.unwrap();
        started.acquire().await.unwrap().forget();
        // Each record must return at once although the sink has not returned once.
        let quick = Duration::from_millis(500);
        for kind in [AuditKind::PinSent, AuditKind::PinVerified] {
            tokio::time::timeout(quick, queue.record(&event(kind))).await.expect("record did not wait").unwrap();
        }
        let mut refused = Vec::new();
        metrics::with_local_recorder(&recorder, || {
            for _ in 0..3 {
                let completed = event(AuditKind::ResetCompleted);
                let record = tokio::time::timeout(quick, queue.record(&completed));
                refused.push(futures::executor::block_on(record).expect("record did not wait"));
            }
        });
        assert_eq!(queue.dropped(), 3);
        for r in &refused {
            let e = r.as_ref().unwrap_err();
            assert_eq!(e.kind(), BackendErrorKind::Unavailable);
            let source = std::error::Error::source(e).unwrap().downcast_ref::<AuditQueueError>();
            assert_eq!(source, Some(&AuditQueueError::Full { capacity: 2 }));
        }
        let text = metrics.render();
        assert!(text.contains("sspr_audit_dropped_total{reason=\"full\"} 3"), "{text}");
        assert!(format!("{queue:?}").contains("dropped: 3"));

        // Released, the sink gets the queued events in order; flush waits for them.
        gate.add_permits(100);
        queue.flush().await.unwrap();
        assert_eq!(*got.lock().unwrap(), [AuditKind::ResetRequested, AuditKind::PinSent, AuditKind::PinVerified]);
    }

    // R.50: begins and rate-limit refusals stop at half the queue, the rest still gets in, and
    // the half is given back as the sink takes them (a leak would drop every begin for good).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn begins_take_at_most_half_the_queue_and_their_half_is_given_back() {
        let gate = Arc::new(Semaphore::new(0));
        let started = Arc::new(Semaphore::new(0));
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = Stalled { gate: gate.clone(), started: started.clone(), got: got.clone() };
        let queue = QueuedAuditSink::new(Arc::new(sink), 4).unwrap();
        assert_eq!(queue.flood_share(), 2);
        queue.record(&event(AuditKind::PinSent)).await.unwrap();
        started.acquire().await.unwrap().forget();
        let begins: Vec<bool> = futures::future::join_all(
            (0..4).map(|_| async { queue.record(&event(AuditKind::ResetRequested)).await.is_ok() }),
        )
        .await;
        assert_eq!(begins, [true, true, false, false]);
        assert!(queue.record(&event(AuditKind::RateLimited)).await.is_err());
        queue.record(&event(AuditKind::PinVerified)).await.unwrap();
        queue.record(&event(AuditKind::ResetCompleted)).await.unwrap();
        assert!(queue.record(&event(AuditKind::Blocked)).await.is_err(), "the queue is full now");
        assert_eq!(queue.dropped(), 4);
        gate.add_permits(100);
        queue.flush().await.unwrap();
        for _ in 0..2 {
            queue.record(&event(AuditKind::ResetRequested)).await.unwrap();
        }
        queue.flush().await.unwrap();
        let kinds = got.lock().unwrap().clone();
        assert_eq!(
            kinds,
            [
                AuditKind::PinSent,
                AuditKind::ResetRequested,
                AuditKind::ResetRequested,
                AuditKind::PinVerified,
                AuditKind::ResetCompleted,
                AuditKind::ResetRequested,
                AuditKind::ResetRequested,
            ]
        );
    }

    #[tokio::test]
    async fn events_reach_the_sink_in_order_and_dropping_the_handles_drains_the_queue() {
        let memory = MemoryAuditSink::new();
        let queue = QueuedAuditSink::new(Arc::new(memory.clone()), 16).unwrap();
        let kinds = [AuditKind::ResetRequested, AuditKind::PinSent, AuditKind::PinFailed, AuditKind::PinVerified];
        for kind in kinds {
            queue.record(&event(kind)).await.unwrap();
        }
        queue.clone().close().await.unwrap();
        assert_eq!(memory.events().iter().map(|e| e.kind).collect::<Vec<_>>(), kinds);
        queue.record(&event(AuditKind::ResetCompleted)).await.unwrap();
        drop(queue);
        // The task writes what was queued when the last handle goes, then ends.
        for _ in 0..100 {
            if memory.events().len() == 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(memory.events().len(), 5);
    }

    #[test]
    fn a_queue_whose_runtime_has_shut_down_drops_as_closed_and_needs_a_runtime_to_start() {
        let e = QueuedAuditSink::new(Arc::new(MemoryAuditSink::new()), 4).unwrap_err();
        assert_eq!(e.kind(), BackendErrorKind::Rejected);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let queue = QueuedAuditSink::with_handle(Arc::new(MemoryAuditSink::new()), 4, runtime.handle());
        drop(runtime);
        let e = futures::executor::block_on(queue.record(&event(AuditKind::PinSent))).unwrap_err();
        let source = std::error::Error::source(&e).unwrap().downcast_ref::<AuditQueueError>();
        assert_eq!(source, Some(&AuditQueueError::Closed));
        assert_eq!(queue.dropped(), 1);
    }

    // tokio's channel panics past `usize::MAX >> 3`: a capacity from a configuration file must
    // be an error (or, where no error can be returned, the largest accepted), never that panic.
    #[tokio::test]
    async fn a_capacity_too_large_is_refused_or_clamped_not_a_panic() {
        let e = QueuedAuditSink::new(Arc::new(MemoryAuditSink::new()), usize::MAX).unwrap_err();
        assert_eq!(e.kind(), BackendErrorKind::Rejected);
        assert!(e.to_string().contains("capacity"), "{e}");
        let clamped = QueuedAuditSink::with_handle(
            Arc::new(MemoryAuditSink::new()),
            usize::MAX,
            &tokio::runtime::Handle::current(),
        );
        assert_eq!(clamped.capacity(), MAX_CAPACITY);
    }
}
