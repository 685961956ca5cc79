//! The engine's `tracing` spans: a span per engine call with its step, outcome and the flow's
//! keyed reference, a child per backend call; no login, address, IP, PIN, password or flow id
//! in any span name or field.
//!
//! A binary (a process) of its own: `tracing` caches per call site, for the whole process,
//! whether any subscriber wants it, so beside tests that run the engine with no subscriber on
//! other threads a thread-local subscriber could miss spans.

#![allow(unreachable_pub, dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "engine/support.rs"]
mod support;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sspr_core::{NewPassword, Pin, ResetOutcome};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use support::*;

/// What the subscriber saw of one span: its name, parent and every field recorded.
#[derive(Debug, Clone, Default)]
struct Seen {
    name: String,
    parent: Option<u64>,
    fields: String,
    metadata: Option<&'static Metadata<'static>>,
}

/// A subscriber keeping every span's name and fields, and every event's fields.
#[derive(Default, Clone)]
struct Capture {
    spans: Arc<Mutex<Vec<Seen>>>,
    events: Arc<Mutex<Vec<String>>>,
    stack: Arc<Mutex<Vec<u64>>>,
    next: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut seen =
            Seen { name: span.metadata().name().to_owned(), metadata: Some(span.metadata()), ..Seen::default() };
        seen.parent = span.parent().map(Id::into_u64).or_else(|| self.stack.lock().unwrap().last().copied());
        span.record(&mut Fields(&mut seen.fields));
        let mut spans = self.spans.lock().unwrap();
        assert_eq!(spans.len() as u64, id - 1);
        spans.push(seen);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.spans.lock().unwrap();
        values.record(&mut Fields(&mut spans[(span.into_u64() - 1) as usize].fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = String::new();
        event.record(&mut Fields(&mut text));
        self.events.lock().unwrap().push(text);
    }
    fn enter(&self, span: &Id) {
        self.stack.lock().unwrap().push(span.into_u64());
    }
    fn exit(&self, _: &Id) {
        self.stack.lock().unwrap().pop();
    }
    // `Span::current()` (the engine records a flow learnt mid-call on it).
    fn current_span(&self) -> tracing_core::span::Current {
        let top = self.stack.lock().unwrap().last().copied();
        match top.and_then(|id| Some((id, self.spans.lock().unwrap()[(id - 1) as usize].metadata?))) {
            Some((id, metadata)) => tracing_core::span::Current::new(Id::from_u64(id), metadata),
            None => tracing_core::span::Current::none(),
        }
    }
}

#[tokio::test]
async fn a_reset_traces_each_call_and_backend_call_and_no_secret() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome: ResetOutcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    let password = outcome.temporary_password.as_ref().unwrap().expose_secret().to_owned();
    // A wrong PIN on a used flow: an error outcome.
    assert!(h.sspr.verify_pin(&flow, Pin::new("00000000"), &ctx()).await.is_err());
    h.sspr.flush_deliveries().await;

    let spans = capture.spans.lock().unwrap().clone();
    let calls = |name: &str| spans.iter().enumerate().filter(|(_, s)| s.name == name).collect::<Vec<_>>();
    let mut refs = Vec::new();
    for step in ["begin_reset", "send_pin", "verify_pin", "complete_reset"] {
        let all = calls(&format!("sspr.{step}"));
        let (index, call) = all[0];
        assert!(call.fields.contains(&format!("sspr.step={step}")), "{call:?}");
        assert!(call.fields.contains("sspr.outcome=ok"), "{call:?}");
        let flow_ref = call.fields.split(" sspr.flow=").nth(1).expect("a flow reference").split(' ').next().unwrap();
        refs.push(flow_ref.to_owned());
        let children: Vec<&Seen> = spans.iter().filter(|s| s.parent == Some(index as u64 + 1)).collect();
        // Backend calls, and for send_pin the delivery handed off the request path.
        assert!(children.iter().any(|c| c.name == "sspr.backend"), "{step}: {children:?}");
        assert!(children.iter().all(|c| c.name == "sspr.backend" || c.name == "sspr.delivery"), "{step}: {children:?}");
    }
    assert!(refs.iter().all(|r| r == &refs[0]), "{refs:?}");
    let refused = calls("sspr.verify_pin");
    assert!(refused[1].1.fields.contains("sspr.outcome=already_used"), "{:?}", refused[1]);
    assert!(spans.iter().any(|s| s.fields.contains("sspr.backend=directory sspr.operation=set_password")));

    let mut everything: Vec<String> = spans.iter().map(|s| format!("{} {}", s.name, s.fields)).collect();
    everything.extend(capture.events.lock().unwrap().iter().cloned());
    let everything = everything.join("\n");
    for secret in [flow.as_str(), pin.as_str(), password.as_str(), ALICE, ALICE_MAIL, "alice", "203.0.113.7"] {
        assert!(!everything.contains(secret), "{secret} is in a span:\n{everything}");
    }
}

/// A relay that is down for its first `send` and up after; each call waits once first, so a
/// delivery is never finished in its first step and moves to the spawner's task.
#[derive(Debug)]
struct FlakyRelay {
    calls: AtomicU64,
    outbox: sspr_core::memory::Outbox,
}

#[sspr_core::async_trait]
impl sspr_core::Notifier for FlakyRelay {
    async fn send(&self, notification: &sspr_core::notice::Notification) -> Result<(), sspr_core::BackendError> {
        tokio::task::yield_now().await;
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(sspr_core::BackendError::unavailable(std::io::Error::other("relay down")));
        }
        self.outbox.send(notification).await
    }
}

/// The ancestors of span `index` (0-based), nearest first, by name.
fn ancestors(spans: &[Seen], index: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut parent = spans[index].parent;
    while let Some(id) = parent {
        let span = &spans[(id - 1) as usize];
        names.push(span.name.clone());
        parent = span.parent;
    }
    names
}

#[tokio::test]
async fn a_delivery_retried_off_the_request_path_stays_in_the_calls_trace() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let outbox = sspr_core::memory::Outbox::new();
    let relay = Arc::new(FlakyRelay { calls: AtomicU64::new(0), outbox: outbox.clone() });
    let h = Harness::builder().notifier(relay.clone()).build().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    h.sspr.flush_deliveries().await;
    // The PIN failed, its retry got through, then the notice to alice's phone.
    assert_eq!(relay.calls.load(Ordering::SeqCst), 3, "the first send failed, the retry got through");
    assert!(outbox.last_pin_to(ALICE_MAIL).is_some());

    let spans = capture.spans.lock().unwrap().clone();
    let sends: Vec<usize> =
        (0..spans.len()).filter(|&i| spans[i].fields.contains("sspr.backend=notifier sspr.operation=send")).collect();
    assert_eq!(sends.len(), 3, "{spans:#?}");
    for &i in &sends {
        assert_eq!(ancestors(&spans, i), ["sspr.delivery", "sspr.send_pin"], "send {i} in the call's trace");
    }
    let roots: Vec<&Seen> = spans.iter().filter(|s| s.parent.is_none() && s.name == "sspr.backend").collect();
    assert!(roots.is_empty(), "no backend call is a root span: {roots:#?}");
    let send_pin = spans.iter().find(|s| s.name == "sspr.send_pin").unwrap();
    let delivery = spans.iter().find(|s| s.name == "sspr.delivery").unwrap();
    let flow_ref = |s: &Seen| s.fields.split(" sspr.flow=").nth(1).map(|r| r.split(' ').next().unwrap().to_owned());
    assert!(flow_ref(delivery).is_some(), "{delivery:?}");
    assert_eq!(flow_ref(delivery), flow_ref(send_pin), "the delivery carries the flow's keyed reference");
}
