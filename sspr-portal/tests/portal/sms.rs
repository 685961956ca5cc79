//! The portal with `[sms] kind = "twilio"`: a PIN by text message goes out as a Twilio
//! Messages API request. No real Twilio can run here, so a small local server stands in for
//! the API (the one place a stand-in is allowed) and records what it was sent.

use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;

use crate::support::Browser;

type Sent = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

async fn messages(
    State(sent): State<Sent>,
    Path(account): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, &'static str) {
    sent.lock().unwrap().push((account, form));
    (StatusCode::CREATED, r#"{"sid":"SM1","status":"queued"}"#)
}

#[tokio::test]
async fn a_reset_with_the_pin_sent_by_sms_through_the_twilio_api() {
    let sent: Sent = Arc::default();
    let api = axum::Router::new()
        .route("/2010-04-01/Accounts/{account}/Messages.json", post(messages))
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api).await });

    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[sms]\nkind = \"twilio\"\naccount_sid = \"AC0123\"\nauth_token = \"tok-s3cret\"\nfrom = \"+15005550006\"\nbase_url = \"{base}\"\n"
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
    assert!(portal.summary().contains("SMS: Twilio"), "{}", portal.summary());
    assert!(!portal.summary().contains("tok-s3cret"));

    let mut browser = Browser::new(&portal);
    let csrf = browser.get("/passwordreset").await.csrf();
    browser.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "jane.doe@example.org")]).await;
    let page = browser.submit("/passwordreset/send", &[("csrf", &csrf), ("method", "sms")]).await;
    assert!(page.main().contains("A code was sent to +44 ******* 23."), "{}", page.main());

    portal.sspr().flush_deliveries().await;
    let (account, form) = sent.lock().unwrap().last().cloned().expect("the API was called");
    assert_eq!(account, "AC0123");
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(field("To"), "+447400900123");
    assert_eq!(field("From"), "+15005550006");
    let body = field("Body");
    let at = body.find("Your code is ").expect("a PIN text") + "Your code is ".len();
    let pin: String = body[at..].chars().take_while(char::is_ascii_digit).collect();
    assert!(portal.outbox().unwrap().messages_to("+447400900123").is_empty(), "nothing in the outbox");

    let modes = browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", &pin)]).await;
    let done = browser.submit("/passwordreset/complete", &[("csrf", &modes.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
}

type Hooked = Arc<Mutex<Vec<(axum::http::HeaderMap, axum::body::Bytes)>>>;

async fn hook(State(seen): State<Hooked>, headers: axum::http::HeaderMap, body: axum::body::Bytes) -> StatusCode {
    seen.lock().unwrap().push((headers, body));
    StatusCode::NO_CONTENT
}

#[tokio::test]
async fn a_reset_with_the_pin_sent_through_a_signed_webhook() {
    use sspr_core::Clock;
    let seen: Hooked = Arc::default();
    let gateway = axum::Router::new().route("/notify/{token}", post(hook)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gateway).await });

    let key = "k".repeat(40);
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[notifier]\nkind = \"webhook\"\nurl = \"{base}/notify/path-s3cret\"\nkey = \"{key}\"\n"
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
    assert!(portal.summary().contains("e-mail: webhook"), "{}", portal.summary());
    assert!(!portal.summary().contains(&key) && !portal.summary().contains("path-s3cret"), "{}", portal.summary());

    let mut browser = Browser::new(&portal);
    let page = crate::support::reset_to_pin(&mut browser, "jane.doe@example.org").await;
    portal.sspr().flush_deliveries().await;
    let (headers, body) = seen.lock().unwrap().last().cloned().expect("the gateway was called");
    let timestamp = headers["x-sspr-timestamp"].to_str().unwrap();
    let signature = headers["x-sspr-signature"].to_str().unwrap();
    let now = sspr_core::SystemClock.now();
    let valid = sspr_backends::webhook::verify_signature(
        key.as_bytes(),
        timestamp,
        &body,
        signature,
        now,
        std::time::Duration::from_secs(300),
    );
    assert!(valid, "a valid signature");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["to"], "jane@private.example");
    let pin = json["pin"].as_str().unwrap().to_owned();
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &page.csrf()), ("pin", &pin)]).await;
    let done = browser.submit("/passwordreset/complete", &[("csrf", &modes.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
}
