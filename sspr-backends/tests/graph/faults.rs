//! Throttling, token expiry and renewal, timeouts, the certificate assertion, and secrets kept
//! out of errors, logs and `Debug`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sspr_backends::graph::{GraphConfig, GraphDirectory};
use sspr_core::{BackendErrorKind, Directory, ManualClock, NormalizedLogin, Password, UserId};

use crate::directory::{SECRET, config, directory, tenant};
use crate::standin::{Fault, StandIn, user};

fn login(text: &str) -> NormalizedLogin {
    NormalizedLogin::parse(text).unwrap()
}

async fn one_user() -> (StandIn, String) {
    let alice = user("alice@contoso.com", "Alice");
    let id = alice.id.clone();
    (StandIn::start(tenant(vec![alice])).await, id)
}

#[tokio::test]
async fn throttled_requests_wait_for_retry_after_then_succeed() {
    let (standin, id) = one_user().await;
    standin.with(|t| {
        t.faults.push_back(Fault::Throttle { status: 429, retry_after: Some(1) });
        t.faults.push_back(Fault::Throttle { status: 503, retry_after: Some(1) });
    });
    let started = Instant::now();
    let found = directory(&standin).find_user(&login("alice@contoso.com")).await.unwrap().unwrap();
    assert_eq!(found.id.as_str(), id);
    assert!(started.elapsed() >= Duration::from_secs(2), "both Retry-After waits honoured: {:?}", started.elapsed());
    let lookups = standin.with(|t| t.requests.iter().filter(|(_, p, _)| p == "/v1.0/users").count());
    assert_eq!(lookups, 3, "the throttled request was sent again, twice");
}

#[tokio::test]
async fn throttling_beyond_the_bounds_is_unavailable() {
    let (standin, _) = one_user().await;
    let mut bounded = config(&standin);
    bounded.max_retries = 2;
    standin.with(|t| (0..3).for_each(|_| t.faults.push_back(Fault::Throttle { status: 429, retry_after: Some(0) })));
    let err = GraphDirectory::new(bounded).unwrap().find_user(&login("alice@contoso.com")).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    assert_eq!(standin.with(|t| t.requests.len()), 3, "one try and two retries, no more");
    // A wait longer than max_retry_after_secs is not waited for: the user's request fails now.
    standin.with(|t| {
        t.faults.clear();
        t.faults.push_back(Fault::Throttle { status: 429, retry_after: Some(3600) });
    });
    let started = Instant::now();
    let err = directory(&standin).find_user(&login("alice@contoso.com")).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_only_once() {
    let (standin, _) = one_user().await;
    let directory = directory(&standin);
    directory.find_user(&login("alice@contoso.com")).await.unwrap().unwrap();
    // The tenant forgets the token (it expired early, was revoked): one 401, one new token.
    standin.with(|t| t.tokens.clear());
    directory.find_user(&login("alice@contoso.com")).await.unwrap().unwrap();
    assert_eq!(standin.with(|t| (t.unauthorized_answers, t.token_requests)), (1, 2));
    // A tenant that refuses every token: one renewal, then an error, no loop.
    standin.with(|t| t.reject_all_tokens = true);
    let err = directory.find_user(&login("alice@contoso.com")).await.unwrap_err();
    assert_ne!(err.kind(), BackendErrorKind::PasswordRejected);
    assert_eq!(standin.with(|t| (t.unauthorized_answers, t.token_requests)), (3, 3));
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    let (standin, _) = one_user().await;
    standin.with(|t| t.token_lifetime_secs = 3599);
    let clock =
        Arc::new(ManualClock::new(sspr_core::time::OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    let directory = GraphDirectory::with_clock(config(&standin), clock.clone()).unwrap();
    directory.find_user(&login("alice@contoso.com")).await.unwrap();
    clock.advance(Duration::from_secs(3000));
    directory.find_user(&login("alice@contoso.com")).await.unwrap();
    assert_eq!(standin.with(|t| t.token_requests), 1, "the cached token is reused while it is good");
    clock.advance(Duration::from_secs(300));
    directory.find_user(&login("alice@contoso.com")).await.unwrap();
    assert_eq!(
        standin.with(|t| (t.token_requests, t.unauthorized_answers)),
        (2, 0),
        "renewed 5 minutes before expiry, before any request was refused"
    );
}

#[tokio::test]
async fn a_token_lifetime_past_the_calendar_is_kept_a_day_not_a_panic() {
    // `expires_in` comes from the token endpoint: a broken or hostile one answering 10^12 s
    // made `now + lifetime` overflow the calendar (year 9999), a panic in the request.
    let (standin, _) = one_user().await;
    standin.with(|t| t.token_lifetime_secs = 1_000_000_000_000);
    let clock =
        Arc::new(ManualClock::new(sspr_core::time::OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    let directory = GraphDirectory::with_clock(config(&standin), clock.clone()).unwrap();
    let found = tokio::spawn(async move {
        let first = directory.find_user(&login("alice@contoso.com")).await.map(|u| u.is_some());
        clock.advance(Duration::from_secs(86_400));
        let second = directory.find_user(&login("alice@contoso.com")).await.map(|u| u.is_some());
        (first, second)
    })
    .await
    .expect("the lookup panicked");
    assert!(matches!(found, (Ok(true), Ok(true))), "{found:?}");
    assert_eq!(standin.with(|t| t.token_requests), 2, "a token is kept a day at most");
}

#[tokio::test]
async fn a_graph_that_does_not_answer_in_time_is_unavailable() {
    let (standin, id) = one_user().await;
    let mut quick = config(&standin);
    quick.timeout_ms = 300;
    let directory = GraphDirectory::new(quick).unwrap();
    directory.find_user(&login("alice@contoso.com")).await.unwrap();
    standin.with(|t| t.faults.push_back(Fault::Delay(Duration::from_secs(2))));
    let err =
        directory.set_password(&UserId::new(id), &Password::new("Corr3ct-Horse-Battery"), true).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
}

/// A key and self-signed certificate made by openssl, the certificate's SHA-256 thumbprint
/// (base64url) and the RSA public key (PKCS#1 DER) the stand-in verifies with.
fn certificate(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf, String, Vec<u8>) {
    let (key, cert, public) =
        (dir.join(format!("{name}.key")), dir.join(format!("{name}.pem")), dir.join(format!("{name}.der")));
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).output().expect("openssl is installed");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let (k, c, p) = (key.to_str().unwrap(), cert.to_str().unwrap(), public.to_str().unwrap());
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        k,
        "-out",
        c,
        "-days",
        "2",
        "-subj",
        "/CN=sspr-graph-test",
    ]);
    run(&["rsa", "-in", k, "-RSAPublicKey_out", "-outform", "DER", "-out", p]);
    let pem = std::fs::read(&cert).unwrap();
    let der = rustls_pemfile::certs(&mut pem.as_slice()).next().unwrap().unwrap();
    use base64::Engine as _;
    let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(der.as_ref()));
    (cert, key, thumbprint, std::fs::read(&public).unwrap())
}

fn certificate_config(standin: &StandIn, cert: &std::path::Path, key: &std::path::Path) -> GraphConfig {
    let mut config = config(standin);
    config.client_secret = None;
    config.certificate_file = Some(cert.into());
    config.private_key_file = Some(key.into());
    config
}

#[tokio::test]
async fn a_certificate_assertion_gets_a_token_and_a_foreign_key_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, thumbprint, public) = certificate(dir.path(), "app");
    let (standin, id) = one_user().await;
    standin.with(|t| {
        t.client_secret = None;
        t.certificate = Some((thumbprint, public));
    });
    let directory = GraphDirectory::new(certificate_config(&standin, &cert, &key)).unwrap();
    let found = directory.find_user(&login("alice@contoso.com")).await.unwrap().unwrap();
    assert_eq!(found.id.as_str(), id);
    let body = standin.with(|t| t.token_bodies[0].clone());
    assert!(body.contains("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"));
    assert!(!body.contains("client_secret"));
    // Another key pair (its own certificate): the tenant does not know it.
    let (cert2, key2, _, _) = certificate(dir.path(), "stranger");
    let stranger = GraphDirectory::new(certificate_config(&standin, &cert2, &key2)).unwrap();
    let err = stranger.find_user(&login("alice@contoso.com")).await.unwrap_err();
    assert!(err.message().contains("invalid_client"), "{err}");
}

/// A writer the log output goes to, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary from the first call on (a global subscriber: a scoped
/// one misses events whose callsites other test threads registered first).
fn captured_logs() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

#[tokio::test]
async fn no_secret_reaches_an_error_a_log_or_debug() {
    let logs = captured_logs();
    let (standin, id) = one_user().await;
    let mut seen = Vec::new();
    let directory = directory(&standin);
    seen.push(format!("{directory:?} {:?}", directory.config()));
    standin.with(|t| t.faults.push_back(Fault::Throttle { status: 429, retry_after: Some(0) }));
    directory.find_user(&login("alice@contoso.com")).await.unwrap();
    let weak = "weakpassword";
    let err = directory.set_password(&UserId::new(id.clone()), &Password::new(weak), true).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::PasswordRejected);
    seen.push(format!("{err} {err:?}"));
    let good = "Corr3ct-Horse-Battery-Staple";
    directory.set_password(&UserId::new(id.clone()), &Password::new(good), true).await.unwrap();
    standin.with(|t| t.faults.push_back(Fault::Throttle { status: 429, retry_after: Some(3600) }));
    seen.push(format!("{:?}", directory.find_user(&login("alice@contoso.com")).await.unwrap_err()));
    let err = directory.authenticate(&UserId::new(id.clone()), &Password::new(good)).await.unwrap_err();
    seen.push(format!("{err} {err:?}"));
    // A wrong secret: the token endpoint's refusal.
    let mut wrong = config(&standin);
    wrong.client_secret = Some(sspr_backends::graph::ClientSecret::new("Wrong~secret-value-not-to-log"));
    let err = GraphDirectory::new(wrong).unwrap().find_user(&login("alice@contoso.com")).await.unwrap_err();
    seen.push(format!("{err} {err:?}"));

    let tokens: Vec<String> = standin.with(|t| t.tokens.keys().cloned().collect());
    assert!(!tokens.is_empty());
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("graph throttled") || logged.contains("memberships") || !logged.is_empty(),
        "logs were captured"
    );
    let everything = format!("{}\n{logged}", seen.join("\n"));
    let mut secrets = vec![SECRET.to_owned(), "Wrong~secret-value-not-to-log".into(), weak.into(), good.into()];
    secrets.extend(tokens);
    for secret in secrets {
        assert!(!everything.contains(&secret), "{secret:?} leaked into:\n{everything}");
    }
}
