//! OTLP export: the spans of a reset through the pages reach a local OTLP/HTTP receiver (an
//! axum server decoding the protobuf), a span per engine call with its step, outcome and the
//! flow's keyed reference, a child per backend call; none carries a PIN, password or login.

// Test code: a failed unwrap is a failed test.
#![allow(unreachable_pub, dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// A binary (a process) of its own: `tracing` caches whether a span is wanted per call site for
// the whole process, so a test beside others that run the engine with no subscriber (the
// `portal` binary runs its tests in parallel threads) could find the engine's call sites
// already marked unwanted and miss spans.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tracing_subscriber::layer::SubscriberExt;

#[path = "portal/support.rs"]
mod support;

use support::{Browser, portal, reset_to_pin};

type Received = Arc<Mutex<Vec<ExportTraceServiceRequest>>>;

/// A collector on a free loopback port, on a thread and runtime of its own (the exporter's
/// flush blocks until it has answered). Returns its traces URL and what it received.
fn receiver() -> (String, Received) {
    let received = Received::default();
    let store = received.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = Router::new().route(
                "/v1/traces",
                post(move |body: Bytes| {
                    let store = store.clone();
                    async move {
                        let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                        store.lock().unwrap().push(request);
                        (
                            [(axum::http::header::CONTENT_TYPE, "application/x-protobuf")],
                            ExportTraceServiceResponse::default().encode_to_vec(),
                        )
                    }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}/v1/traces"), received)
}

/// A span's string attribute.
fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| match a.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.as_str()),
        _ => None,
    })
}

#[tokio::test]
async fn a_reset_s_spans_reach_an_otlp_receiver_and_carry_no_secret() {
    let (endpoint, received) = receiver();
    let with_backends =
        sspr_portal::otlp::Tracing { backend_spans: true, service_name: "sspr-portal".into(), ..Default::default() };
    let exporter = sspr_portal::otlp::Exporter::with_tracing(&endpoint, with_backends).unwrap();
    // This test's thread only (the portal tests run in parallel in one process); the test
    // runtime is current-thread, so the engine's spawned deliveries run here too.
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(exporter.layer()));

    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let page = reset_to_pin(&mut browser, "Jane.Doe@Example.org").await;
    let pin = portal.outbox().unwrap().last_pin_to("jane@private.example").unwrap();
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &page.csrf()), ("pin", &pin)]).await;
    let done = browser.submit("/passwordreset/complete", &[("csrf", &modes.csrf()), ("mode", "temporary")]).await;
    let temporary = done.by_id("temporary-password").expect("the temporary password is shown");
    portal.sspr().flush_deliveries().await;
    let flusher = exporter.clone();
    tokio::task::spawn_blocking(move || flusher.flush()).await.unwrap().unwrap();

    let requests = received.lock().unwrap().clone();
    let spans: Vec<Span> = requests
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| s.spans.clone())
        .collect();
    let named = |name: &str| spans.iter().filter(|s| s.name == name).collect::<Vec<_>>();
    let mut flows = Vec::new();
    for step in ["begin_reset", "send_pin", "verify_pin", "complete_reset"] {
        let calls = named(&format!("sspr.{step}"));
        assert_eq!(calls.len(), 1, "one sspr.{step} span in {:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
        let call = calls[0];
        assert_eq!(attribute(call, "sspr.step"), Some(step));
        assert_eq!(attribute(call, "sspr.outcome"), Some("ok"), "{call:?}");
        flows.push(attribute(call, "sspr.flow").expect("the flow's keyed reference").to_owned());
        // Its backend calls are its children, and the work it handed off the request path
        // (a `sspr.delivery` with the same flow reference, whose backend calls are its own).
        let children: Vec<&Span> = spans.iter().filter(|s| s.parent_span_id == call.span_id).collect();
        assert!(children.iter().any(|c| attribute(c, "sspr.backend").is_some()), "sspr.{step} has no backend span");
        for child in &children {
            assert!(attribute(child, "sspr.backend").is_some() || child.name == "sspr.delivery", "{child:?}");
            if child.name == "sspr.delivery" {
                assert!(spans.iter().any(|s| s.parent_span_id == child.span_id), "an empty delivery: {child:?}");
            }
        }
    }
    // One flow, one keyed reference, on every call of the reset.
    assert!(flows.iter().all(|f| f == &flows[0] && f.len() >= 16), "{flows:?}");
    let backend = |b: &str, op: &str| {
        spans.iter().any(|s| attribute(s, "sspr.backend") == Some(b) && attribute(s, "sspr.operation") == Some(op))
    };
    assert!(backend("directory", "find_user") && backend("directory", "set_password"));
    assert!(backend("notifier", "send") && backend("audit", "record"));
    let set_password = spans.iter().find(|s| s.name == "directory.set_password").expect("named backend span");
    let complete = named("sspr.complete_reset")[0];
    assert_eq!(set_password.parent_span_id, complete.span_id);
    // The PIN's delivery, off the request path: a child of send_pin, with the flow's reference.
    let send_pin = named("sspr.send_pin")[0];
    let delivery = named("sspr.delivery").into_iter().find(|d| d.parent_span_id == send_pin.span_id);
    let delivery = delivery.expect("the PIN's delivery span");
    assert_eq!(attribute(delivery, "sspr.flow"), Some(flows[0].as_str()));
    assert!(spans.iter().any(|s| s.name == "notifier.send" && s.parent_span_id == delivery.span_id));
    // Every message goes out in a delivery span, none in a trace of its own.
    for send in spans.iter().filter(|s| s.name == "notifier.send") {
        let parent = spans.iter().find(|p| p.span_id == send.parent_span_id).map(|p| p.name.as_str());
        assert_eq!(parent, Some("sspr.delivery"), "{send:?}");
    }

    // Nothing of the user's: no PIN, password, login or address, in any name or attribute
    // (the texts only: a timestamp's digits could hold a PIN's by chance).
    let mut texts: Vec<String> = Vec::new();
    for span in &spans {
        texts.push(span.name.clone());
        texts.extend(span.attributes.iter().map(|a| format!("{}={:?}", a.key, a.value)));
        for event in &span.events {
            texts.push(event.name.clone());
            texts.extend(event.attributes.iter().map(|a| format!("{}={:?}", a.key, a.value)));
        }
    }
    for resource in requests.iter().flat_map(|r| &r.resource_spans).filter_map(|r| r.resource.as_ref()) {
        texts.extend(resource.attributes.iter().map(|a| format!("{}={:?}", a.key, a.value)));
    }
    let everything = texts.join("\n");
    assert!(everything.contains("sspr-portal"), "the service name");
    for secret in
        [pin.as_str(), temporary.as_str(), "Jane.Doe", "jane.doe", "example.org", "private.example", "192.0.2.1"]
    {
        assert!(!everything.contains(secret), "{secret} was exported:\n{everything}");
    }
}

/// Every span the receiver got.
fn spans_of(received: &Received) -> Vec<Span> {
    let requests = received.lock().unwrap().clone();
    requests.iter().flat_map(|r| &r.resource_spans).flat_map(|r| &r.scope_spans).flat_map(|s| s.spans.clone()).collect()
}

/// A whole reset through the pages with `exporter`'s layer on this thread; returns the PIN
/// and the temporary password, after the spans were flushed to the receiver.
async fn traced_reset(exporter: &sspr_portal::otlp::Exporter) -> (String, String) {
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(exporter.layer()));
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let page = reset_to_pin(&mut browser, "Jane.Doe@Example.org").await;
    let pin = portal.outbox().unwrap().last_pin_to("jane@private.example").unwrap();
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &page.csrf()), ("pin", &pin)]).await;
    let done = browser.submit("/passwordreset/complete", &[("csrf", &modes.csrf()), ("mode", "temporary")]).await;
    let temporary = done.by_id("temporary-password").expect("the temporary password is shown");
    portal.sspr().flush_deliveries().await;
    let flusher = exporter.clone();
    tokio::task::spawn_blocking(move || flusher.flush()).await.unwrap().unwrap();
    (pin, temporary)
}

// `otlp_backend_spans = false` (the default): one span per engine call (and per PIN delivery), none
// per backend call, with the same step, outcome and flow reference, and still nothing of the
// user's.
#[tokio::test]
async fn without_backend_spans_each_engine_call_is_one_span() {
    use sspr_portal::otlp::{Exporter, Tracing};
    let (endpoint, received) = receiver();
    let exporter = Exporter::with_tracing(&endpoint, Tracing::default()).unwrap();
    let (pin, temporary) = traced_reset(&exporter).await;
    let spans = spans_of(&received);
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    for step in ["begin_reset", "send_pin", "verify_pin", "complete_reset"] {
        let calls: Vec<&Span> = spans.iter().filter(|s| s.name == format!("sspr.{step}")).collect();
        assert_eq!(calls.len(), 1, "{names:?}");
        assert_eq!(attribute(calls[0], "sspr.outcome"), Some("ok"));
        assert!(attribute(calls[0], "sspr.flow").is_some_and(|f| f.len() >= 16), "{:?}", calls[0]);
    }
    assert!(names.iter().all(|n| n.starts_with("sspr.") && *n != "sspr.backend"), "{names:?}");
    assert!(spans.iter().all(|s| attribute(s, "sspr.backend").is_none()), "{names:?}");
    let delivery = spans.iter().find(|s| s.name == "sspr.delivery").expect("the PIN's delivery span");
    let send_pin = spans.iter().find(|s| s.name == "sspr.send_pin").unwrap();
    assert_eq!(delivery.parent_span_id, send_pin.span_id);
    let everything: Vec<String> =
        spans.iter().flat_map(|s| s.attributes.iter().map(|a| format!("{}={:?}", a.key, a.value))).collect();
    let everything = everything.join("\n");
    for secret in [pin.as_str(), temporary.as_str(), "Jane.Doe", "jane.doe", "example.org", "private.example"] {
        assert!(!everything.contains(secret), "{secret} was exported:\n{everything}");
    }
}

// `otlp_sample_ratio`: 0 keeps no trace at all (a trace is dropped whole, its children with
// its root), and a ratio outside 0..=1 is refused by name.
#[tokio::test]
async fn a_sample_ratio_of_zero_exports_no_span() {
    use sspr_portal::otlp::{Exporter, Tracing};
    let (endpoint, received) = receiver();
    let exporter = Exporter::with_tracing(
        &endpoint,
        Tracing { sample_ratio: Some(0.0), backend_spans: true, ..Tracing::default() },
    )
    .unwrap();
    traced_reset(&exporter).await;
    let spans = spans_of(&received);
    assert!(spans.is_empty(), "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    let e = Exporter::with_tracing(&endpoint, Tracing { sample_ratio: Some(2.0), ..Tracing::default() }).unwrap_err();
    assert!(e.to_string().contains("otlp_sample_ratio"), "{e}");
}

#[test]
fn the_endpoint_must_be_an_http_url() {
    let e = sspr_portal::otlp::Exporter::new("collector:4318").unwrap_err();
    assert!(e.to_string().contains("otlp_endpoint"), "{e}");
}
