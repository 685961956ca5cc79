//! Deliveries off the request path. A PIN (and the notices that go with it) is handed to a
//! bounded set of deliveries that the engine's [`crate::Spawn`] runs, so neither a slow nor a
//! failing notifier shows in the answer of `send_pin` or in its timing: a real account is
//! answered exactly as an unknown login is. A failed delivery is retried, then recorded in
//! the audit trail; the caller learns nothing ("no code arrived; send a new one").

use super::instrument::{in_span, observed};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use time::OffsetDateTime;

use super::Sspr;
use crate::audit::{AuditEvent, Outcome};
use crate::error::BackendErrorKind;
use crate::notice::Notification;
use crate::runtime::Task;

/// Deliveries one engine keeps in flight at most, unless the builder says otherwise. Each is
/// a few hundred bytes waiting on a notifier; beyond this a notifier is down or far too slow,
/// and more would only pile up.
pub(super) const DEFAULT_MAX_PENDING_DELIVERIES: usize = 1000;

/// Attempts at a delivery the notifier reports `Unavailable` (the first and two retries).
const DELIVERY_ATTEMPTS: u32 = 3;

/// Wait before the first retry; each next retry waits four times longer (2 s, then 8 s).
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(2);

/// The engine's deliveries in flight: a count, its cap, and who waits for it to reach zero.
#[derive(Debug)]
pub(super) struct Deliveries {
    cap: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    in_flight: usize,
    idle_waiters: Vec<Waker>,
}

impl Deliveries {
    pub(super) fn new(cap: usize) -> Self {
        Self { cap, state: Mutex::new(State::default()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take a place in the set, if there is one left.
    fn reserve(&self) -> bool {
        let mut state = self.state();
        if state.in_flight >= self.cap {
            return false;
        }
        state.in_flight += 1;
        true
    }

    fn release(&self) {
        let waiters = {
            let mut state = self.state();
            state.in_flight = state.in_flight.saturating_sub(1);
            if state.in_flight == 0 { std::mem::take(&mut state.idle_waiters) } else { Vec::new() }
        };
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Ready once nothing is in flight.
    fn poll_idle(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state();
        if state.in_flight == 0 {
            return Poll::Ready(());
        }
        if !state.idle_waiters.iter().any(|w| w.will_wake(cx.waker())) {
            state.idle_waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Deliveries in flight now.
    pub(super) fn in_flight(&self) -> usize {
        self.state().in_flight
    }
}

/// Holds a place in the set until dropped: when the delivery finishes, and also when a
/// spawner shutting down drops it unfinished. It holds the set, not the engine: once
/// `flush_deliveries` has seen the set empty, no delivery may still hold the engine, or
/// the engine's last reference (and with it a C backend's `release`) would be dropped on
/// the spawner's thread after a host that flushed, freed the engine and then freed its
/// backends' state.
struct Place(std::sync::Arc<Deliveries>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// One PIN to deliver, and what the audit records if it cannot be.
pub(super) struct PinDelivery {
    pub(super) notification: Notification,
    /// The PinSent event of the request (flow, user, channel, masked destination), to record
    /// a failure with.
    pub(super) event: AuditEvent,
    /// Retries stop before this: a PIN arriving after it is useless.
    pub(super) pin_expires_at: OffsetDateTime,
    /// Notices to send once the PIN is delivered (the user's other contacts).
    pub(super) notices: Vec<Notification>,
}

/// Where handed-over work takes its first step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FirstStep {
    /// On the caller's task: work that needs no waiting (an in-process outbox or store) is
    /// done when the call returns. Only where its time tells an anonymous caller nothing.
    Here,
    /// On the spawner, nothing of it on the caller's task: for work that exists only for a
    /// real account, in an answer padded to hide exactly that. A notifier may block inside
    /// `send` (a host-language one talking to its relay): on the caller's task that whole
    /// wait would be in the answer, past the padding. On the spawner it runs beside the
    /// padding, so a delivery faster than the padding is still done when the answer returns.
    Spawner,
}

/// How handed-over work starts ([`Sspr::deliver`], [`Sspr::hand_off`]).
enum Start<'a> {
    /// Run here, to the end (no spawner, or the set is full).
    Inline(Pin<Box<dyn Future<Output = ()> + Send + 'a>>),
    /// A task holding a reserved place, started as [`FirstStep`] says.
    Reserved(std::sync::Arc<dyn crate::runtime::Spawn>, Task, FirstStep),
}

impl<'a> Start<'a> {
    /// Run or start the work. With [`FirstStep::Here`] one step of a reserved task runs
    /// here; anything still pending moves to the spawner, where it outlives this request
    /// even if the request is cancelled or the backend hangs.
    async fn run(self) {
        match self {
            Self::Inline(work) => work.await,
            Self::Reserved(spawner, task, FirstStep::Spawner) => spawner.spawn(task),
            Self::Reserved(spawner, mut task, FirstStep::Here) => {
                let done = std::future::poll_fn(|cx| Poll::Ready(task.as_mut().poll(cx).is_ready())).await;
                if !done {
                    spawner.spawn(task);
                }
            }
        }
    }
}

impl Sspr {
    /// Wait until every delivery handed over so far has finished (delivered, or failed and
    /// recorded in the audit trail).
    ///
    /// `send_pin` answers without waiting for the notifier when the engine has a spawner (see
    /// [`crate::SsprBuilder::spawner`]). Call this in tests before reading an outbox that a
    /// slow notifier fills, and at graceful shutdown before stopping the runtime, so that no
    /// PIN already promised to a user is lost. Deliveries started while it waits are waited
    /// for too; a delivery retrying an unavailable notifier may take until its PIN expires.
    pub async fn flush_deliveries(&self) {
        observed!(self, flush_deliveries, async move {
            std::future::poll_fn(|cx| self.inner.deliveries.poll_idle(cx)).await;
        })
    }

    /// Wait until every audit event recorded so far is stored by the audit sink
    /// ([`crate::AuditSink::flush`]).
    ///
    /// A sink that queues events off the request path (sspr-backends' `QueuedAuditSink`,
    /// which the backend configuration puts in front of every `[audit]` sink) holds events
    /// a host process exiting would lose. At graceful shutdown call
    /// [`Sspr::flush_deliveries`] first (deliveries and hooks still record events: a failed
    /// delivery, a failed hook), then this, then stop the runtime.
    ///
    /// # Errors
    /// [`Error::Backend`](crate::Error::Backend) when the sink cannot say its events are
    /// stored (a queue whose draining task has ended: its runtime shut down).
    pub async fn flush_audit(&self) -> crate::error::Result<()> {
        observed!(self, flush_audit, async move { Ok(self.inner.audit.flush().await?) })
    }

    /// Hand a PIN to the delivery set. Returns at once when the engine has a spawner (after a
    /// first step on the caller's task when `first` is [`FirstStep::Here`], which finishes
    /// an in-memory notifier's delivery there and then), or after the delivery when it has
    /// none. Never fails: a delivery refused because the set is full, or failing, is audited
    /// and logged.
    ///
    /// Not an `async fn`: the delivery's work is boxed here, when it is handed over, so the
    /// caller's future holds a pointer to it instead of the work itself (`send_pin`'s future
    /// was two thirds delivery code that a request never runs past its first step).
    pub(super) fn deliver(&self, delivery: PinDelivery, first: FirstStep) -> impl Future<Output = ()> + Send + '_ {
        let start = match self.inner.spawner.clone() {
            // No spawner: deliver inline. The failure is still hidden; its timing only by padding.
            None => Start::Inline(Box::pin(self.run_delivery(delivery, false))),
            Some(_) if !self.inner.deliveries.reserve() => Start::Inline(Box::pin(async move {
                let error = format!(
                    "not delivered: {} deliveries already waiting for the notifier",
                    self.inner.deliveries.in_flight()
                );
                tracing::warn!(channel = ?delivery.notification.to.channel(), "{error}");
                self.audit_failure(delivery.event, error).await;
            })),
            Some(spawner) => {
                let sspr = self.clone();
                let span = tracing::info_span!("sspr.delivery", sspr.flow = delivery.event.flow_ref.as_deref());
                let task = self.reserved(span, async move { sspr.run_delivery(delivery, true).await });
                Start::Reserved(spawner, task, first)
            }
        };
        start.run()
    }

    /// Run `work` off the request path, counted in the delivery set (so
    /// [`Sspr::flush_deliveries`] waits for it): notices, and the bookkeeping after a
    /// password was set. Unlike a PIN, this work is never dropped: without a spawner, or with
    /// the set full, it runs here to the end. None of it answers an anonymous caller whose
    /// account is in doubt, so running it inline tells nothing; it only takes longer.
    ///
    /// Not an `async fn`, for the reason given at [`Sspr::deliver`]: `work` is boxed at once.
    pub(super) fn hand_off(
        &self,
        first: FirstStep,
        work: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + '_ {
        let start = match self.inner.spawner.clone() {
            // DEBUG, as the backend calls it holds: at INFO (the OTLP default, calls only) a
            // span with no field and no backend span under it tells a trace reader nothing the
            // call's own span does not, and cost two of a flow's seven INFO spans (BENCHMARKS.md
            // section 11); with the backend spans on, it keeps them in the call's trace.
            Some(spawner) if self.inner.deliveries.reserve() => {
                Start::Reserved(spawner, self.reserved(tracing::debug_span!("sspr.delivery"), work), first)
            }
            _ => Start::Inline(Box::pin(work)),
        };
        start.run()
    }

    /// [`Sspr::hand_off`] for work that exists only for a real account, in an answer that may
    /// be anonymous (event hooks, admin alerts): with the set full and answers padded, the
    /// work is handed back instead of run here, where its time would show past the padding
    /// and tell that account from an unknown login. Without padding it is handed off as
    /// usual (no timing is hidden there).
    pub(super) async fn hand_off_anonymous<W>(&self, work: W) -> Result<(), W>
    where
        W: Future<Output = ()> + Send + 'static,
    {
        let first = self.anonymous_first_step();
        match self.inner.spawner.clone() {
            Some(spawner) if first == FirstStep::Spawner => {
                if !self.inner.deliveries.reserve() {
                    return Err(work);
                }
                Start::Reserved(spawner, self.reserved(tracing::debug_span!("sspr.delivery"), work), first).run().await;
            }
            _ => self.hand_off(first, work).await,
        }
        Ok(())
    }

    /// The first step of work that exists only for a real account, in an answer that is
    /// padded ([`FirstStep::Spawner`]) when the padding is real: a simulated timer (a test
    /// clock) or `min_response_ms = 0` hides no timing, and there the first step runs here,
    /// so a test reads an in-process outbox as soon as the call returns.
    pub(super) fn anonymous_first_step(&self) -> FirstStep {
        let pads = self.inner.policy.min_response_ms > 0
            && self.inner.timer.as_ref().is_some_and(|timer| !timer.is_simulated());
        if pads { FirstStep::Spawner } else { FirstStep::Here }
    }

    /// Start `work` on the spawner, counted in the delivery set when it has room (so
    /// [`Sspr::flush_deliveries`] waits for it), from where nothing can wait for it (a
    /// `Drop`). False when the engine has no spawner: the work is not done.
    pub(super) fn spawn_detached(&self, work: impl Future<Output = ()> + Send + 'static) -> bool {
        let Some(spawner) = self.inner.spawner.clone() else { return false };
        if self.inner.deliveries.reserve() {
            spawner.spawn(self.reserved(tracing::debug_span!("sspr.delivery"), work));
        } else {
            spawner.spawn(Box::pin(work));
        }
        true
    }

    /// `work` as a task that holds a place reserved in the set (released when the task ends or
    /// is dropped unfinished), in `span`: a `sspr.delivery` span, a child of the engine call's
    /// span (a PIN's at INFO, carrying the flow's keyed reference; other work's at DEBUG): its
    /// backend calls (a notifier's retries, seconds later on the spawner's task) stay in the
    /// call's trace instead of starting traces of their own.
    fn reserved(&self, span: tracing::Span, work: impl Future<Output = ()> + Send + 'static) -> Task {
        let place = Place(std::sync::Arc::clone(&self.inner.deliveries));
        // The span borrowed by `in_span!` rather than owned by `tracing::Instrument`, which
        // entered it once more to drop the finished work (a lookup and an enter/exit in the
        // subscriber's registry). It closes before the place is given back, so a host that
        // waited for the deliveries (`flush_deliveries`) finds their spans ended.
        Box::pin(async move {
            in_span!(&span, work);
            drop(span);
            drop(place);
        })
    }

    /// Deliver the PIN (retrying an unavailable notifier in the background, with backoff,
    /// until the PIN would expire), then the notices; record a failure.
    async fn run_delivery(&self, delivery: PinDelivery, background: bool) {
        let PinDelivery { notification, event, pin_expires_at, notices } = delivery;
        let channel = notification.to.channel();
        let mut delay = FIRST_RETRY_DELAY;
        let mut attempt = 1;
        let failure = loop {
            match self.inner.notifier.send(&notification).await {
                Ok(()) => break None,
                Err(e) => {
                    let retry = background
                        && attempt < DELIVERY_ATTEMPTS
                        && e.kind() == BackendErrorKind::Unavailable
                        && self.now() + delay < pin_expires_at;
                    match (&self.inner.timer, retry) {
                        (Some(timer), true) => {
                            tracing::info!(?channel, attempt, error = %e, "a PIN delivery failed; retrying");
                            timer.sleep(delay).await;
                            delay *= 4;
                            attempt += 1;
                        }
                        _ => break Some(e),
                    }
                }
            }
        };
        match failure {
            Some(e) => {
                tracing::warn!(?channel, attempts = attempt, error = %e, "a PIN could not be delivered");
                // Boxed: the rare path, kept out of every delivery task's size.
                Box::pin(self.audit_failure(event, format!("not delivered after {attempt} attempt(s): {e}"))).await;
            }
            None => {
                for notice in notices {
                    if let Err(e) = self.inner.notifier.send(&notice).await {
                        tracing::warn!(channel = ?notice.to.channel(), error = %e, "a notice could not be delivered");
                    }
                }
            }
        }
    }

    /// Record that the PIN of `event` was not delivered.
    async fn audit_failure(&self, mut event: AuditEvent, error: String) {
        event.at = self.now();
        event.outcome = Outcome::Failed { error };
        self.audit(event).await;
    }
}
