//! The Twilio notifier's wire format against wiremock (Twilio itself cannot run here).

use std::time::Duration;

use sspr_backends::twilio::{TwilioConfig, TwilioNotifier};
use sspr_core::{BackendErrorKind, Destination, EmailAddress, Locale, Notifier, PhoneNumber, RequestContext};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::http_support::{engine, pin_notice};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-t0ken-s3cret";
const BASIC: &str = "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0d2lsaW8tdDBrZW4tczNjcmV0";
const PATH: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

fn config(server: &MockServer) -> TwilioConfig {
    TwilioConfig { base_url: server.uri(), ..TwilioConfig::new(SID, TOKEN, "+15005550006") }
}

fn phone() -> Destination {
    Destination::Sms(PhoneNumber::parse("+447400900123").unwrap())
}

/// The form fields of a request, decoded.
fn form(request: &wiremock::Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}

async fn created(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "SM123", "status": "queued"})))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_pin_is_one_form_post_with_basic_auth() {
    let server = MockServer::start().await;
    created(&server).await;
    let notifier = TwilioNotifier::from_config(&config(&server)).unwrap();
    let (notice, pin) = pin_notice(phone(), 1, Locale::En);
    notifier.send(&notice).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let fields = form(&requests[0]);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["To", "From", "Body"]);
    assert_eq!(fields[0].1, "+447400900123");
    assert_eq!(fields[1].1, "+15005550006");
    assert!(fields[2].1.starts_with(&format!("Your code is {pin}.")), "{}", fields[2].1);
}

#[tokio::test]
async fn a_messaging_service_and_german() {
    let server = MockServer::start().await;
    created(&server).await;
    let config = TwilioConfig { from: None, messaging_service_sid: Some("MG0123".into()), ..config(&server) };
    let (notice, pin) = pin_notice(phone(), 2, Locale::De);
    TwilioNotifier::from_config(&config).unwrap().send(&notice).await.unwrap();
    let fields = form(&server.received_requests().await.unwrap()[0]);
    assert_eq!(fields[1], ("MessagingServiceSid".to_owned(), "MG0123".to_owned()));
    assert!(fields[2].1.starts_with(&format!("Ihr Code lautet {pin}.")), "{}", fields[2].1);
}

#[tokio::test]
async fn twilio_refusals_are_typed_and_never_quote_the_pin() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "code": 21211, "message": "The 'To' number +447400900123 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400
        })))
        .mount(&server)
        .await;
    let (notice, pin) = pin_notice(phone(), 3, Locale::En);
    let err = TwilioNotifier::from_config(&config(&server)).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
    assert!(err.to_string().contains("21211"), "{err}");
    let text = format!("{err:?} {err}");
    assert!(!text.contains(&pin) && !text.contains(TOKEN), "{text}");
}

/// Twilio's real error document for a bad number quotes the number in full: none of it may
/// reach the error (which the engine puts in the audit log), only the status and Twilio's code.
#[tokio::test]
async fn twilio_error_text_quoting_the_phone_number_never_reaches_the_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "code": 21211,
            "message": "The 'To' number +447400900123 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400
        })))
        .mount(&server)
        .await;
    let (notice, _) = pin_notice(phone(), 8, Locale::En);
    let err = TwilioNotifier::from_config(&config(&server)).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
    let text = format!("{err:?} | {err} | {:?}", std::error::Error::source(&err));
    assert!(text.contains("400") && text.contains("21211"), "status and code are kept: {text}");
    assert!(!text.contains("7400") && !text.contains("900123") && !text.contains("valid phone"), "{text}");
    // No run of digits other than the status and the code: no part of the number at all.
    let runs: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).filter(|run| !run.is_empty()).collect();
    assert!(runs.iter().all(|run| ["400", "21211"].contains(run)), "{runs:?} in {text}");
}

#[tokio::test]
async fn server_errors_and_throttling_are_unavailable_and_not_retried() {
    for status in [500, 503, 429] {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(status)).mount(&server).await;
        let (notice, _) = pin_notice(phone(), 4, Locale::En);
        let err = TwilioNotifier::from_config(&config(&server)).unwrap().send(&notice).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{status}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{status}: a sent request is never retried");
    }
}

#[tokio::test]
async fn a_timeout_after_sending_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let config = TwilioConfig { timeout_ms: 300, ..config(&server) };
    let (notice, _) = pin_notice(phone(), 5, Locale::En);
    let err = TwilioNotifier::from_config(&config).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "the SMS may have gone: no second try");
}

#[tokio::test]
async fn a_gateway_that_cannot_be_reached_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config =
        TwilioConfig { base_url: format!("http://127.0.0.1:{port}"), ..TwilioConfig::new(SID, TOKEN, "+15005550006") };
    let (notice, _) = pin_notice(phone(), 6, Locale::En);
    let err = TwilioNotifier::from_config(&config).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err:?}");
}

#[tokio::test]
async fn e_mail_is_not_this_notifiers_channel() {
    let server = MockServer::start().await;
    let (notice, _) = pin_notice(Destination::Email(EmailAddress::parse("a@example.org").unwrap()), 7, Locale::En);
    let err = TwilioNotifier::from_config(&config(&server)).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn configuration_is_checked_and_the_token_never_shows() {
    let config: TwilioConfig = toml::from_str(&format!(
        "account_sid = \"{SID}\"\nauth_token = \"{TOKEN}\"\nfrom = \"+15005550006\"\nbase_url = \"http://127.0.0.1:1\""
    ))
    .unwrap();
    assert!(!format!("{config:?}").contains(TOKEN), "{config:?}");
    let notifier = TwilioNotifier::from_config(&config).unwrap();
    assert!(!format!("{notifier:?}").contains(TOKEN), "{notifier:?}");
    let both = TwilioConfig { messaging_service_sid: Some("MG1".into()), ..config.clone() };
    assert_eq!(TwilioNotifier::from_config(&both).unwrap_err().kind(), BackendErrorKind::Rejected);
    let neither = TwilioConfig { from: None, ..config.clone() };
    assert_eq!(TwilioNotifier::from_config(&neither).unwrap_err().kind(), BackendErrorKind::Rejected);
    // A gateway in front of Twilio with its own credentials in the URL: never whole in Debug.
    let gateway =
        TwilioConfig { base_url: "http://gw-user:gw-pa55@127.0.0.1:1/twilio?key=gw-t0ken".into(), ..config.clone() };
    let through = TwilioNotifier::from_config(&gateway).unwrap();
    for shown in [format!("{gateway:?}"), format!("{through:?}")] {
        assert!(!shown.contains("gw-pa55") && !shown.contains("gw-t0ken"), "{shown}");
    }
    let bad_sid = TwilioConfig { account_sid: "AC1/../x".into(), ..config };
    assert_eq!(TwilioNotifier::from_config(&bad_sid).unwrap_err().kind(), BackendErrorKind::Rejected);
}

/// The auth token and every number travel in the request: a `base_url` over plain HTTP to
/// another host is refused (loopback, a local relay or a test stand-in, is accepted).
#[test]
fn a_plain_http_twilio_base_url_to_another_host_is_refused() {
    for base_url in ["http://api.twilio.com", "http://sms-relay.example.org:8080", "ftp://api.twilio.com"] {
        let config = TwilioConfig { base_url: base_url.into(), ..TwilioConfig::new(SID, TOKEN, "+15005550006") };
        let err = TwilioNotifier::from_config(&config).unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Rejected, "{base_url}");
        assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");
    }
    for base_url in ["https://api.twilio.com", "http://127.0.0.1:8080", "http://localhost:8080"] {
        let config = TwilioConfig { base_url: base_url.into(), ..TwilioConfig::new(SID, TOKEN, "+15005550006") };
        TwilioNotifier::from_config(&config).unwrap();
    }
    let config: TwilioConfig = toml::from_str(&format!(
        "account_sid = \"{SID}\"\nauth_token = \"{TOKEN}\"\nfrom = \"+1500\"\nbase_url = \"http://sms-relay.example.org\"\nallow_insecure_http = true"
    ))
    .unwrap();
    TwilioNotifier::from_config(&config).unwrap();
}

/// The engine's reset by SMS: the PIN is read from the request Twilio received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_reset_by_sms() {
    let server = MockServer::start().await;
    created(&server).await;
    let sspr = engine(TwilioNotifier::from_config(&config(&server)).unwrap()).await;
    let ctx = RequestContext::default();
    let challenge = sspr.begin_reset("alice@example.org", &ctx).await.unwrap();
    let sms = challenge.methods.iter().find(|m| m.channel == sspr_core::Channel::Sms).expect("an SMS method");
    sspr.send_pin(&challenge.flow_id, &sms.id, None, &ctx).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let pin = requests
        .iter()
        .filter_map(|r| form(r).into_iter().find(|(k, _)| k == "Body"))
        .find_map(|(_, body)| body.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 8).map(str::to_owned))
        .expect("the PIN SMS");
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
}

/// Dropped on a thread without a runtime (a binding's garbage collector), after use.
#[test]
fn a_twilio_notifier_dropped_outside_a_runtime_does_not_panic() {
    crate::outside_runtime::drop_outside_runtime("TwilioNotifier", || async {
        let server = MockServer::start().await;
        created(&server).await;
        let notifier = TwilioNotifier::from_config(&config(&server)).unwrap();
        notifier.send(&pin_notice(phone(), 12, Locale::En).0).await.unwrap();
        notifier
    });
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_neither_the_token_nor_the_pin_goes_elsewhere() {
    // A gateway (or whoever answers for it) redirecting the POST to another host: followed,
    // the auth token, the number and the PIN would be sent there.
    let elsewhere = MockServer::start().await;
    created(&elsewhere).await;
    let server = MockServer::start().await;
    for status in [301, 302, 307, 308] {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).insert_header("location", format!("{}{PATH}", elsewhere.uri())))
            .mount(&server)
            .await;
        let notifier = TwilioNotifier::from_config(&config(&server)).unwrap();
        let err = notifier.send(&pin_notice(phone(), 1, Locale::En).0).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Rejected, "{status}: {err}");
    }
    assert!(elsewhere.received_requests().await.unwrap().is_empty(), "a redirect was followed");
}
