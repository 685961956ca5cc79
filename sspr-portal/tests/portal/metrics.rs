//! `/metrics`: a reset through the pages moves the engine's counters, and the rendering names
//! no login, address or client.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::support::{Browser, portal, reset_to_pin};

#[tokio::test]
async fn a_reset_through_the_pages_shows_on_metrics_without_identifiers() {
    // This test's thread only: the portal tests run in parallel in one process.
    let recorder = sspr_bind::metrics::recorder().unwrap();
    let handle = recorder.handle();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    reset_to_pin(&mut browser, "Jane.Doe@Example.org").await;

    let response = sspr_portal::metrics::router(handle)
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains(r#"sspr_begins_total{result="real",decoy_reason="none"} 1"#), "{text}");
    assert!(text.contains(r#"sspr_pins_sent_total{channel="email",result="real"} 1"#), "{text}");
    // The latency histograms, with the buckets the portal installs.
    assert!(text.contains(r#"sspr_engine_call_seconds_bucket{operation="begin_reset",le="0.001"}"#), "{text}");
    assert!(text.contains(r#"sspr_backend_call_seconds_count{backend="directory",operation="find_user"}"#), "{text}");
    for identifier in ["jane", "Jane", "private.example", "127.0.0.1"] {
        assert!(!text.contains(identifier), "{identifier} in:\n{text}");
    }
}
