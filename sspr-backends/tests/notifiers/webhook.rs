//! The webhook notifier's and audit sink's wire format and signature against wiremock.

use std::time::Duration;

use sspr_backends::webhook::{
    self, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookAuditSink, WebhookConfig, WebhookNotifier,
};
use sspr_core::notice::{Message, Notification};
use sspr_core::{
    AuditEvent, AuditKind, AuditSink, BackendErrorKind, Destination, EmailAddress, Locale, Notifier, Outcome,
    PhoneNumber, RequestContext,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::http_support::{engine, pin_notice};

const KEY: &str = "whk-0123456789abcdef0123456789abcdef-s3cret";

fn config(server: &MockServer) -> WebhookConfig {
    WebhookConfig::new(format!("{}/hooks/sspr?token=url-t0ken", server.uri()), KEY)
}

fn phone() -> Destination {
    Destination::Sms(PhoneNumber::parse("+447400900123").unwrap())
}

async fn accepting(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/hooks/sspr"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(202))
        .mount(server)
        .await;
}

fn signed_ok(request: &wiremock::Request, now: sspr_core::time::OffsetDateTime) -> bool {
    let timestamp = request.headers.get(TIMESTAMP_HEADER).unwrap().to_str().unwrap();
    let signature = request.headers.get(SIGNATURE_HEADER).unwrap().to_str().unwrap();
    webhook::verify_signature(KEY.as_bytes(), timestamp, &request.body, signature, now, Duration::from_secs(300))
}

#[tokio::test]
async fn a_pin_is_signed_json() {
    let server = MockServer::start().await;
    accepting(&server).await;
    let (notice, pin) = pin_notice(phone(), 1, Locale::De);
    WebhookNotifier::from_config(&config(&server)).unwrap().send(&notice).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.url.query(), Some("token=url-t0ken"));
    assert_eq!(request.headers.get(TIMESTAMP_HEADER).unwrap(), &notice.at.unix_timestamp().to_string());
    assert!(signed_ok(request, notice.at), "the signature verifies");
    let json: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["kind"], "pin");
    assert_eq!(json["channel"], "sms");
    assert_eq!(json["to"], "+447400900123");
    assert_eq!(json["locale"], "de");
    assert_eq!(json["pin"], pin.as_str());
    assert_eq!(json["expires_at"], "2026-03-02T09:10:00Z");
    assert_eq!(json["at"], "2026-03-02T09:00:00Z");
    assert_eq!(json["subject"], "Ihr Code zum Zurücksetzen des Kennworts");
    assert!(json["text"].as_str().unwrap().contains(&pin));
}

#[tokio::test]
async fn other_notices_carry_no_pin() {
    let server = MockServer::start().await;
    accepting(&server).await;
    let notice = Notification {
        to: Destination::Email(EmailAddress::parse("alice.private@mail.example").unwrap()),
        locale: Locale::En,
        message: Message::PasswordReset { unlock_only: false },
        at: time::macros::datetime!(2026-03-02 09:00 UTC),
    };
    WebhookNotifier::from_config(&config(&server)).unwrap().send(&notice).await.unwrap();
    let request = &server.received_requests().await.unwrap()[0];
    let json: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!((json["kind"].as_str(), json["channel"].as_str()), (Some("password_reset"), Some("email")));
    assert!(json.get("pin").is_none() && json.get("expires_at").is_none(), "{json}");
    assert!(signed_ok(request, notice.at));
}

#[test]
fn the_signature_refuses_tampering_other_keys_and_replays() {
    let body = br#"{"kind":"pin","pin":"12345678"}"#;
    let at = 1_800_000_000;
    let now = sspr_core::time::OffsetDateTime::from_unix_timestamp(at).unwrap();
    let tolerance = Duration::from_secs(300);
    let good = webhook::sign(KEY.as_bytes(), at, body);
    assert!(good.starts_with("v1=") && good.len() == 3 + 64);
    assert!(webhook::verify_signature(KEY.as_bytes(), "1800000000", body, &good, now, tolerance));
    assert!(!webhook::verify_signature(
        KEY.as_bytes(),
        "1800000000",
        br#"{"kind":"pin","pin":"12345679"}"#,
        &good,
        now,
        tolerance
    ));
    assert!(!webhook::verify_signature(
        b"another-key-0123456789abcdef012345",
        "1800000000",
        body,
        &good,
        now,
        tolerance
    ));
    assert!(
        !webhook::verify_signature(KEY.as_bytes(), "1800000001", body, &good, now, tolerance),
        "the timestamp is signed"
    );
    let late = now + Duration::from_secs(301);
    assert!(
        !webhook::verify_signature(KEY.as_bytes(), "1800000000", body, &good, late, tolerance),
        "a replay is too old"
    );
    for malformed in ["", "v1=", "v1=zz", "v2=00", &good[3..]] {
        assert!(
            !webhook::verify_signature(KEY.as_bytes(), "1800000000", body, malformed, now, tolerance),
            "{malformed:?}"
        );
    }
    assert!(!webhook::verify_signature(KEY.as_bytes(), "not-a-number", body, &good, now, tolerance));
}

#[tokio::test]
async fn refusals_are_typed_and_never_quote_the_answer() {
    for (status, kind) in [
        (400, BackendErrorKind::Rejected),
        (401, BackendErrorKind::Rejected),
        (503, BackendErrorKind::Unavailable),
        (429, BackendErrorKind::Unavailable),
    ] {
        let server = MockServer::start().await;
        // A gateway that echoes the request: the PIN must still not reach the error.
        Mock::given(method("POST"))
            .respond_with(move |request: &wiremock::Request| {
                ResponseTemplate::new(status).set_body_bytes(request.body.clone())
            })
            .mount(&server)
            .await;
        let (notice, pin) = pin_notice(phone(), 2, Locale::En);
        let err = WebhookNotifier::from_config(&config(&server)).unwrap().send(&notice).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{status}");
        let text = format!("{err:?} {err}");
        assert!(!text.contains(&pin) && !text.contains(KEY) && !text.contains("url-t0ken"), "{text}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{status}: never retried once sent");
    }
}

#[tokio::test]
async fn a_timeout_after_sending_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let config = WebhookConfig { timeout_ms: 300, ..config(&server) };
    let (notice, _) = pin_notice(phone(), 3, Locale::En);
    let err = WebhookNotifier::from_config(&config).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    assert!(!format!("{err:?}").contains("url-t0ken"), "the URL's token stays out of errors");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unreachable_gateway_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = WebhookConfig::new(format!("http://127.0.0.1:{port}/hook?token=url-t0ken"), KEY);
    let (notice, _) = pin_notice(phone(), 4, Locale::En);
    let err = WebhookNotifier::from_config(&config).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err:?}");
    assert!(!format!("{err:?} {err}").contains("url-t0ken"), "{err:?}");
}

#[test]
fn configuration_is_checked_and_secrets_never_show() {
    let config: WebhookConfig =
        toml::from_str(&format!("url = \"https://gw.example.org/hook?token=url-t0ken\"\nkey = \"{KEY}\"")).unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains(KEY) && !debug.contains("url-t0ken"), "{debug}");
    let notifier = WebhookNotifier::from_config(&config).unwrap();
    let debug = format!("{notifier:?}");
    assert!(!debug.contains(KEY) && !debug.contains("url-t0ken"), "{debug}");
    let short = WebhookConfig::new("https://gw.example.org/hook", "too-short");
    assert_eq!(WebhookNotifier::from_config(&short).unwrap_err().kind(), BackendErrorKind::Rejected);
    let ftp = WebhookConfig::new("ftp://gw.example.org/hook", KEY);
    assert_eq!(WebhookNotifier::from_config(&ftp).unwrap_err().kind(), BackendErrorKind::Rejected);
}

/// A PIN posted over plain HTTP to another host can be read and altered on the way: an
/// `http://` URL is refused unless it is loopback (the traffic never leaves the host).
#[test]
fn a_plain_http_webhook_to_another_host_is_refused() {
    for url in [
        "http://gw.example.org/hook",
        "http://10.0.0.5:8080/hook",
        "http://127.0.0.1.nip.io/hook",
        "http://localhost.example.org/hook",
        "HTTP://gw.example.org/hook",
    ] {
        let err = WebhookNotifier::from_config(&WebhookConfig::new(url, KEY)).unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Rejected, "{url}");
        assert!(err.to_string().contains("https"), "{url}: {err}");
    }
    for url in
        ["http://127.0.0.1:8080/hook", "http://127.9.9.9/hook", "http://[::1]:8080/hook", "http://localhost/hook"]
    {
        WebhookNotifier::from_config(&WebhookConfig::new(url, KEY)).unwrap();
    } // The explicit opt-in, for a network the operator trusts.
    let config = WebhookConfig { allow_insecure_http: true, ..WebhookConfig::new("http://gw.example.org/hook", KEY) };
    WebhookNotifier::from_config(&config).unwrap();
    assert!(format!("{config:?}").contains("allow_insecure_http: true"));
    let ftp = WebhookConfig { allow_insecure_http: true, ..WebhookConfig::new("ftp://gw.example.org/hook", KEY) };
    assert_eq!(WebhookNotifier::from_config(&ftp).unwrap_err().kind(), BackendErrorKind::Rejected);
}

/// The engine's reset by e-mail through the webhook: the PIN is read from the payload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_reset_through_the_webhook() {
    let server = MockServer::start().await;
    accepting(&server).await;
    let sspr = engine(WebhookNotifier::from_config(&config(&server)).unwrap()).await;
    let ctx = RequestContext::default();
    let challenge = sspr.begin_reset("alice@example.org", &ctx).await.unwrap();
    let email = challenge.methods.iter().find(|m| m.channel == sspr_core::Channel::Email).unwrap();
    sspr.send_pin(&challenge.flow_id, &email.id, None, &ctx).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let payloads: Vec<serde_json::Value> = requests.iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    let json = payloads.iter().find(|p| p["kind"] == "pin").expect("the PIN notice");
    assert_eq!(json["to"], "alice.private@mail.example");
    assert!(payloads.iter().all(|p| p["kind"] == "pin" || p.get("pin").is_none()), "only the PIN notice holds it");
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(json["pin"].as_str().unwrap()), &ctx).await.unwrap();
}

/// Dropped on a thread without a runtime (a binding's garbage collector), after use.
#[test]
fn a_webhook_notifier_dropped_outside_a_runtime_does_not_panic() {
    crate::outside_runtime::drop_outside_runtime("WebhookNotifier", || async {
        let server = MockServer::start().await;
        accepting(&server).await;
        let notifier = WebhookNotifier::from_config(&config(&server)).unwrap();
        notifier.send(&pin_notice(phone(), 13, Locale::En).0).await.unwrap();
        notifier
    });
}

const AUDIT_KEY: &str = "aud-0123456789abcdef0123456789abcdef-s3cret";

fn audit_config(server: &MockServer) -> WebhookConfig {
    WebhookConfig::new(format!("{}/hooks/audit?token=url-t0ken", server.uri()), AUDIT_KEY)
}

/// The audit sink posts each event's versioned JSON, signed with the notifier's scheme (the
/// receiver's `verify_signature`) at the time of sending.
#[tokio::test]
async fn an_audit_event_is_posted_as_its_signed_json() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/audit"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let sink = WebhookAuditSink::from_config(&audit_config(&server)).unwrap();
    let at = time::macros::datetime!(2026-03-02 09:00 UTC);
    let mut event = AuditEvent::new(AuditKind::PinSent, at, Outcome::Success);
    event.channel = Some(sspr_core::Channel::Sms);
    sink.record(&event).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.body, event.to_json().into_bytes());
    let (timestamp, signature) = (
        request.headers.get(TIMESTAMP_HEADER).unwrap().to_str().unwrap(),
        request.headers.get(SIGNATURE_HEADER).unwrap().to_str().unwrap(),
    );
    let now = sspr_core::Clock::now(&sspr_core::SystemClock);
    assert!(webhook::verify_signature(
        AUDIT_KEY.as_bytes(),
        timestamp,
        &request.body,
        signature,
        now,
        Duration::from_secs(60)
    ));
    assert!(!webhook::verify_signature(
        KEY.as_bytes(),
        timestamp,
        &request.body,
        signature,
        now,
        Duration::from_secs(60)
    ));
}

/// A refusing or unreachable receiver: typed errors that quote neither the URL's token, the
/// key nor the answer.
#[tokio::test]
async fn audit_webhook_errors_are_typed_and_hold_no_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("echo url-t0ken"))
        .mount(&server)
        .await;
    let sink = WebhookAuditSink::from_config(&audit_config(&server)).unwrap();
    let event =
        AuditEvent::new(AuditKind::ResetRequested, sspr_core::Clock::now(&sspr_core::SystemClock), Outcome::Success);
    let err = sink.record(&event).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    let unreachable = WebhookConfig {
        connect_retries: 0,
        ..WebhookConfig::new("http://127.0.0.1:1/hooks/audit?token=url-t0ken", AUDIT_KEY)
    };
    let down = WebhookAuditSink::from_config(&unreachable).unwrap().record(&event).await.unwrap_err();
    assert_eq!(down.kind(), BackendErrorKind::Unavailable);
    for shown in [format!("{err} {err:?}"), format!("{down} {down:?}"), format!("{sink:?}")] {
        assert!(!shown.contains("url-t0ken") && !shown.contains(AUDIT_KEY), "{shown}");
    }
    let short = WebhookConfig::new("https://audit.example.org/hook", "too-short");
    assert_eq!(WebhookAuditSink::from_config(&short).unwrap_err().kind(), BackendErrorKind::Rejected);
    let plain = WebhookConfig::new("http://audit.example.org/hook", AUDIT_KEY);
    assert_eq!(WebhookAuditSink::from_config(&plain).unwrap_err().kind(), BackendErrorKind::Rejected);
}

/// A whole reset audited to a webhook receiver: each step arrives, and neither the PIN nor
/// the temporary password is in any body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_reset_audited_to_a_webhook_holds_no_secret() {
    let server = MockServer::start().await;
    accepting(&server).await;
    Mock::given(method("POST")).and(path("/hooks/audit")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let directory = sspr_core::memory::MemoryDirectory::from_json(
        r#"[{"login": "alice@example.org", "display_name": "Alice Liddell", "dn": "uid=alice,ou=staff,dc=example,dc=org"}]"#,
    )
    .unwrap();
    let sspr = sspr_core::Sspr::builder()
        .directory(directory)
        .notifier(WebhookNotifier::from_config(&config(&server)).unwrap())
        .audit(WebhookAuditSink::from_config(&audit_config(&server)).unwrap())
        .secret_key(sspr_core::SecretKey::from_bytes(&[9; 32]).unwrap())
        .build()
        .unwrap();
    let (admin, ctx) = (sspr_core::Actor::Admin("helpdesk".into()), RequestContext::default());
    sspr.set_enabled(&admin, "alice@example.org", true, &ctx).await.unwrap();
    let update = sspr_core::ContactUpdate {
        email: sspr_core::ContactChange::Set("alice.private@mail.example".into()),
        ..Default::default()
    };
    sspr.update_contacts(&admin, "alice@example.org", update, &ctx).await.unwrap();
    let challenge = sspr.begin_reset("alice@example.org", &ctx).await.unwrap();
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let notice: serde_json::Value = requests
        .iter()
        .filter(|r| r.url.path() == "/hooks/sspr")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .find(|p: &serde_json::Value| p["kind"] == "pin")
        .unwrap();
    let pin = notice["pin"].as_str().unwrap().to_owned();
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
    let done = sspr.complete_reset(&challenge.flow_id, sspr_core::NewPassword::Temporary, &ctx).await.unwrap();
    let password = done.temporary_password.unwrap().expose_secret().to_owned();
    // The completion's notice and event may follow the answer: wait for the event.
    let mut audit = Vec::new();
    for _ in 0..100 {
        audit = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/hooks/audit")
            .map(|r| String::from_utf8(r.body.clone()).unwrap())
            .collect::<Vec<_>>();
        if audit.iter().any(|b| b.contains("\"kind\":\"reset_completed\"")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for kind in ["reset_requested", "pin_sent", "pin_verified", "reset_completed"] {
        assert!(audit.iter().any(|b| b.contains(&format!("\"kind\":\"{kind}\""))), "{kind} in {audit:?}");
    }
    let all = audit.join("\n");
    assert!(!all.contains(&pin) && !all.contains(&password) && !all.contains(&challenge.flow_id), "{all}");
}
