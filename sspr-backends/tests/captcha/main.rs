//! The bot challenge verifiers (feature `captcha`) against local stand-ins of each provider's
//! `siteverify` on 127.0.0.1. The real endpoints cannot be reached from the test machines:
//! nothing here has run against Cloudflare, hCaptcha or Google.
//!
//! The request and answer shapes the stand-ins speak are the providers' documented ones:
//! - Cloudflare Turnstile, "Validate the token":
//!   <https://developers.cloudflare.com/turnstile/get-started/server-side-validation/>
//!   (POST form or JSON `secret`, `response`, optional `remoteip`, `idempotency_key`; answer
//!   `success`, `error-codes`, `challenge_ts`, `hostname`, `action`, `cdata`; tokens at most
//!   2048 characters, single use: a replay is `timeout-or-duplicate`).
//! - hCaptcha siteverify (form-urlencoded `secret`, `response`, `remoteip`, `sitekey`; answer
//!   `success`, `challenge_ts`, `hostname`, `credit`, `error-codes`), as hCaptcha's
//!   <https://docs.hcaptcha.com/#verify-the-user-response-server-side> describes and the
//!   OpenAPI description at
//!   <https://raw.githubusercontent.com/api-evangelist/hcaptcha/refs/heads/main/openapi/hcaptcha-siteverify-api-openapi.yml>
//!   restates (the official page itself was not in the searched corpus).
//! - Google reCAPTCHA, "Verifying the user's response":
//!   <https://developers.google.com/recaptcha/docs/verify/> (POST `secret`, `response`,
//!   optional `remoteip`; answer `success`, `challenge_ts`, `hostname`, `error-codes`, and for
//!   v3 `score`, `action`).
#![cfg(feature = "captcha")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use sspr_backends::captcha::{BotChallengeConfig, CaptchaProvider, PolicyName, SiteVerify};
use sspr_core::BackendErrorKind;
use sspr_core::backend::{BotChallenge, ChallengeCheck, ChallengeToken, ChallengeVerdict};

const SECRET: &str = "0x4AAAAAAA-stand-in-secret-9d1";
const SITE_KEY: &str = "0x4AAAAAAA-site-key";
const TOKEN: &str = "XXXX.DUMMY.TOKEN.5b7e";

/// What the stand-in answers and what it was sent.
#[derive(Clone)]
struct StandIn {
    forms: Arc<Mutex<Vec<HashMap<String, String>>>>,
    status: u16,
    body: String,
    delay: Duration,
}

impl StandIn {
    fn answering(body: serde_json::Value) -> Self {
        Self { forms: Arc::default(), status: 200, body: body.to_string(), delay: Duration::ZERO }
    }
}

async fn siteverify(
    State(s): State<StandIn>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> (StatusCode, String) {
    s.forms.lock().unwrap().push(form);
    if !s.delay.is_zero() {
        tokio::time::sleep(s.delay).await;
    }
    (StatusCode::from_u16(s.status).unwrap(), s.body.clone())
}

async fn serve(stand_in: StandIn) -> String {
    let app = axum::Router::new().route("/siteverify", post(siteverify)).with_state(stand_in);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/siteverify")
}

fn config(provider: CaptchaProvider, url: &str) -> BotChallengeConfig {
    let text = format!(
        "provider = {:?}\nsite_key = {SITE_KEY:?}\nsecret = {SECRET:?}\nverify_url = {url:?}\nhostnames = [\"reset.example.org\"]\ntimeout_ms = 300\n",
        match provider {
            CaptchaProvider::Turnstile => "turnstile",
            CaptchaProvider::Hcaptcha => "hcaptcha",
            _ => "recaptcha",
        }
    );
    toml::from_str(&text).unwrap()
}

async fn verify(verifier: &SiteVerify) -> Result<ChallengeVerdict, sspr_core::BackendError> {
    let token = ChallengeToken::parse(TOKEN).unwrap().unwrap();
    verifier.verify(&ChallengeCheck { token: &token, client_ip: Some("203.0.113.7".parse().unwrap()) }).await
}

const PROVIDERS: [CaptchaProvider; 3] =
    [CaptchaProvider::Turnstile, CaptchaProvider::Hcaptcha, CaptchaProvider::Recaptcha];

fn success() -> serde_json::Value {
    serde_json::json!({
        "success": true, "challenge_ts": "2026-12-05T20:00:00Z", "hostname": "reset.example.org", "error-codes": []
    })
}

#[tokio::test]
async fn each_provider_gets_the_documented_form_and_a_success_passes() {
    for provider in PROVIDERS {
        let stand_in = StandIn::answering(success());
        let verifier = SiteVerify::new(&config(provider, &serve(stand_in.clone()).await)).unwrap();
        assert_eq!(verify(&verifier).await.unwrap(), ChallengeVerdict::Passed, "{provider:?}");
        let forms = stand_in.forms.lock().unwrap().clone();
        assert_eq!(forms.len(), 1);
        let form = &forms[0];
        assert_eq!(form["secret"], SECRET);
        assert_eq!(form["response"], TOKEN);
        assert_eq!(form["remoteip"], "203.0.113.7");
        // hCaptcha also takes the site key it should have been solved for.
        assert_eq!(
            form.get("sitekey").map(String::as_str),
            (provider == CaptchaProvider::Hcaptcha).then_some(SITE_KEY)
        );
    }
}

#[tokio::test]
async fn a_refused_token_or_another_sites_hostname_fails() {
    for provider in PROVIDERS {
        let refused =
            StandIn::answering(serde_json::json!({"success": false, "error-codes": ["invalid-input-response"]}));
        let verifier = SiteVerify::new(&config(provider, &serve(refused).await)).unwrap();
        assert_eq!(
            verify(&verifier).await.unwrap(),
            ChallengeVerdict::Failed { reasons: vec!["invalid-input-response".into()] },
            "{provider:?}"
        );

        let elsewhere = StandIn::answering(serde_json::json!({
            "success": true, "hostname": "phish.example.net", "error-codes": []
        }));
        let verifier = SiteVerify::new(&config(provider, &serve(elsewhere).await)).unwrap();
        assert_eq!(
            verify(&verifier).await.unwrap(),
            ChallengeVerdict::Failed { reasons: vec!["hostname-mismatch".into()] },
            "{provider:?}"
        );
    }
    // An action is checked where configured: a token for another form fails.
    let other_action = StandIn::answering(serde_json::json!({
        "success": true, "hostname": "reset.example.org", "action": "login", "error-codes": []
    }));
    let mut with_action = config(CaptchaProvider::Turnstile, &serve(other_action).await);
    with_action.action = Some("password_reset".into());
    assert_eq!(
        verify(&SiteVerify::new(&with_action).unwrap()).await.unwrap(),
        ChallengeVerdict::Failed { reasons: vec!["action-mismatch".into()] }
    );
}

#[tokio::test]
async fn a_slow_failing_or_garbled_provider_is_an_error_never_a_pass() {
    for provider in PROVIDERS {
        let slow = StandIn { delay: Duration::from_secs(3), ..StandIn::answering(success()) };
        #[allow(clippy::disallowed_methods)] // measures the verifier's own timeout, which is real time
        let started = std::time::Instant::now();
        let err = verify(&SiteVerify::new(&config(provider, &serve(slow).await)).unwrap()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "the timeout was not applied");
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{provider:?}");

        let down = StandIn { status: 503, ..StandIn::answering(success()) };
        let err = verify(&SiteVerify::new(&config(provider, &serve(down).await)).unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{provider:?}");

        let garbled = StandIn { body: "<html>Just a moment...</html>".into(), ..StandIn::answering(success()) };
        let err = verify(&SiteVerify::new(&config(provider, &serve(garbled).await)).unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{provider:?}");

        // The provider refusing our secret says nothing about the visitor: an error, not a verdict.
        let bad_secret =
            StandIn::answering(serde_json::json!({"success": false, "error-codes": ["invalid-input-secret"]}));
        let err = verify(&SiteVerify::new(&config(provider, &serve(bad_secret).await)).unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Rejected, "{provider:?}");
    }
    // Nobody listening at all.
    let err =
        verify(&SiteVerify::new(&config(CaptchaProvider::Turnstile, "http://127.0.0.1:9/siteverify")).unwrap()).await;
    assert_eq!(err.unwrap_err().kind(), BackendErrorKind::Unavailable);
}

#[tokio::test]
async fn neither_token_nor_secret_is_in_an_error_or_debug() {
    let mut seen = String::new();
    for status in [200, 500] {
        let stand_in = StandIn {
            status,
            ..StandIn::answering(serde_json::json!({"success": false, "error-codes": ["bad-request"]}))
        };
        let config = config(CaptchaProvider::Recaptcha, &serve(stand_in).await);
        seen.push_str(&format!("{config:?}"));
        let verifier = SiteVerify::new(&config).unwrap();
        seen.push_str(&format!("{verifier:?}"));
        let err = verify(&verifier).await.unwrap_err();
        seen.push_str(&format!("{err} {err:?}"));
    }
    let slow = StandIn { delay: Duration::from_secs(3), ..StandIn::answering(success()) };
    let err =
        verify(&SiteVerify::new(&config(CaptchaProvider::Hcaptcha, &serve(slow).await)).unwrap()).await.unwrap_err();
    seen.push_str(&format!("{err} {err:?}"));
    assert!(!seen.contains(SECRET) && !seen.contains(TOKEN), "{seen}");
}

#[tokio::test]
async fn the_configuration_is_checked_and_makes_the_engines_policy() {
    let base = config(CaptchaProvider::Turnstile, "http://127.0.0.1:9/siteverify");
    let off_loopback =
        BotChallengeConfig { verify_url: Some("http://captcha.example.org/verify".into()), ..base.clone() };
    assert_eq!(SiteVerify::new(&off_loopback).unwrap_err().kind(), BackendErrorKind::Rejected);
    let no_secret = BotChallengeConfig { secret: " ".into(), ..base.clone() };
    assert!(SiteVerify::new(&no_secret).unwrap_err().to_string().contains("secret"));
    assert_eq!(base.challenge_policy().unwrap(), sspr_core::ChallengePolicy::Always);
    let after = BotChallengeConfig { policy: PolicyName::AfterBegins, begins_per_login: Some(3), ..base.clone() };
    assert_eq!(
        after.challenge_policy().unwrap(),
        sspr_core::ChallengePolicy::AfterBegins { per_ip: None, per_login: Some(3), window: Duration::from_secs(3600) }
    );
    let empty = BotChallengeConfig { policy: PolicyName::AfterBegins, ..base };
    assert!(empty.challenge_policy().unwrap_err().to_string().contains("begins_per_ip"));
    assert!(
        toml::from_str::<BotChallengeConfig>(
            "provider = \"turnstile\"\nsite_key = \"k\"\nsecret = \"s\"\nsecert = \"x\"\n"
        )
        .is_err()
    );
}
