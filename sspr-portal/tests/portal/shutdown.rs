//! Stopping the portal: `Portal::serve` returns only after the PINs it promised are delivered.
//! The SMS gateway is a small local stand-in for the Twilio API (the one place a stand-in is
//! allowed) that takes its time to answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

use crate::support::Browser;

type Sent = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// A slow gateway: the message counts as sent only once the answer is ready.
async fn slow_messages(
    State(sent): State<Sent>,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, &'static str) {
    tokio::time::sleep(Duration::from_millis(700)).await;
    sent.lock().unwrap().push(form);
    (StatusCode::CREATED, r#"{"sid":"SM1","status":"queued"}"#)
}

#[tokio::test]
async fn a_stopping_portal_still_delivers_the_pin_it_promised() {
    let sent: Sent = Arc::default();
    let api = axum::Router::new()
        .route("/2010-04-01/Accounts/{account}/Messages.json", post(slow_messages))
        .with_state(sent.clone());
    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", api_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(api_listener, api).await });
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[sms]\nkind = \"twilio\"\naccount_sid = \"AC0123\"\nauth_token = \"tok\"\nfrom = \"+15005550006\"\nbase_url = \"{base}\"\n"
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = portal.clone();
    let server = tokio::spawn(async move {
        serving
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
    });

    let mut browser = Browser::new(&portal);
    let csrf = browser.get("/passwordreset").await.csrf();
    browser.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "jane.doe@example.org")]).await;
    let page = browser.submit("/passwordreset/send", &[("csrf", &csrf), ("method", "sms")]).await;
    assert!(page.main().contains("A code was sent to"), "{}", page.main());
    assert!(sent.lock().unwrap().is_empty(), "the page answers before the gateway has the message");

    // The stop signal (SIGTERM in the binary) comes now: serve waits for the delivery.
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(sent.lock().unwrap().len(), 1, "serve returned before the promised PIN was delivered");
}
