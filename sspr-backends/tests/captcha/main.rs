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

use std::time::Duration;

use sspr_backends::captcha::testing::StandIn;
use sspr_backends::captcha::{BotChallengeConfig, CaptchaProvider, PolicyName, SiteVerify};
use sspr_core::BackendErrorKind;
use sspr_core::backend::{BotChallenge, ChallengeCheck, ChallengeToken, ChallengeVerdict};

const SECRET: &str = "0x4AAAAAAA-stand-in-secret-9d1";
const SITE_KEY: &str = "0x4AAAAAAA-site-key";
const TOKEN: &str = "XXXX.DUMMY.TOKEN.5b7e";

/// A stand-in (`sspr_backends::captcha::testing`) answering every request with `status` and
/// `body`, after `delay`; its `verify_url`.
async fn serve_answering(status: u16, body: impl ToString, delay: Duration) -> (StandIn, String) {
    let stand_in = StandIn::start().await.unwrap();
    stand_in.answer(status, body.to_string());
    stand_in.delay(delay);
    let url = stand_in.url().to_owned();
    (stand_in, url)
}

async fn serve(body: serde_json::Value) -> String {
    serve_answering(200, body, Duration::ZERO).await.1
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
        let (stand_in, url) = serve_answering(200, success(), Duration::ZERO).await;
        let verifier = SiteVerify::new(&config(provider, &url)).unwrap();
        assert_eq!(verify(&verifier).await.unwrap(), ChallengeVerdict::Passed, "{provider:?}");
        let forms = stand_in.forms();
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
        let refused = serde_json::json!({"success": false, "error-codes": ["invalid-input-response"]});
        let verifier = SiteVerify::new(&config(provider, &serve(refused).await)).unwrap();
        assert_eq!(
            verify(&verifier).await.unwrap(),
            ChallengeVerdict::Failed { reasons: vec!["invalid-input-response".into()] },
            "{provider:?}"
        );

        let elsewhere = serde_json::json!({
            "success": true, "hostname": "phish.example.net", "error-codes": []
        });
        let verifier = SiteVerify::new(&config(provider, &serve(elsewhere).await)).unwrap();
        assert_eq!(
            verify(&verifier).await.unwrap(),
            ChallengeVerdict::Failed { reasons: vec!["hostname-mismatch".into()] },
            "{provider:?}"
        );
    }
    // An action is checked where configured: a token for another form fails.
    let other_action = serde_json::json!({
        "success": true, "hostname": "reset.example.org", "action": "login", "error-codes": []
    });
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
        let (_slow, url) = serve_answering(200, success(), Duration::from_secs(3)).await;
        #[allow(clippy::disallowed_methods)] // measures the verifier's own timeout, which is real time
        let started = std::time::Instant::now();
        let err = verify(&SiteVerify::new(&config(provider, &url)).unwrap()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "the timeout was not applied");
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{provider:?}");

        let (_down, url) = serve_answering(503, success(), Duration::ZERO).await;
        let err = verify(&SiteVerify::new(&config(provider, &url)).unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{provider:?}");

        let (_garbled, url) = serve_answering(200, "<html>Just a moment...</html>", Duration::ZERO).await;
        let err = verify(&SiteVerify::new(&config(provider, &url)).unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{provider:?}");

        // The provider refusing our secret says nothing about the visitor: an error, not a verdict.
        let bad_secret = serde_json::json!({"success": false, "error-codes": ["invalid-input-secret"]});
        let err = verify(&SiteVerify::new(&config(provider, &serve(bad_secret).await)).unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Rejected, "{provider:?}");
    }
    // Nobody listening at all.
    let err =
        verify(&SiteVerify::new(&config(CaptchaProvider::Turnstile, "http://127.0.0.1:9/siteverify")).unwrap()).await;
    assert_eq!(err.unwrap_err().kind(), BackendErrorKind::Unavailable);
}

#[tokio::test]
async fn an_answer_far_longer_than_any_siteverify_answer_is_refused_not_read_whole() {
    // A siteverify answer is a few hundred bytes. A 2 MiB one (a proxy, a broken or hostile
    // endpoint) was read whole into memory and believed.
    let mut long = success();
    long["padding"] = serde_json::Value::String("x".repeat(2 << 20));
    for provider in PROVIDERS {
        let url = serve(long.clone()).await;
        let verdict = verify(&SiteVerify::new(&config(provider, &url)).unwrap()).await;
        assert!(
            matches!(&verdict, Err(e) if e.kind() == BackendErrorKind::Unavailable && e.to_string().contains("more than")),
            "{provider:?}: {verdict:?}"
        );
    }
}

#[tokio::test]
async fn neither_token_nor_secret_is_in_an_error_or_debug() {
    let mut seen = String::new();
    for status in [200, 500] {
        let body = serde_json::json!({"success": false, "error-codes": ["bad-request"]});
        let (_stand_in, url) = serve_answering(status, body, Duration::ZERO).await;
        let config = config(CaptchaProvider::Recaptcha, &url);
        seen.push_str(&format!("{config:?}"));
        let verifier = SiteVerify::new(&config).unwrap();
        seen.push_str(&format!("{verifier:?}"));
        let err = verify(&verifier).await.unwrap_err();
        seen.push_str(&format!("{err} {err:?}"));
    }
    let (_slow, url) = serve_answering(200, success(), Duration::from_secs(3)).await;
    let err = verify(&SiteVerify::new(&config(CaptchaProvider::Hcaptcha, &url)).unwrap()).await.unwrap_err();
    seen.push_str(&format!("{err} {err:?}"));
    assert!(!seen.contains(SECRET) && !seen.contains(TOKEN), "{seen}");
    // A verify URL through a gateway with its own credentials: not whole in Debug either.
    let gateway = config(CaptchaProvider::Turnstile, "http://gw:gw-pa55@127.0.0.1:9/siteverify?key=gw-t0ken");
    let shown = format!("{gateway:?} {:?}", SiteVerify::new(&gateway).unwrap());
    assert!(!shown.contains("gw-pa55") && !shown.contains("gw-t0ken"), "{shown}");
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

#[tokio::test]
async fn each_verifier_tells_a_page_its_widget_and_the_csp_sources_its_provider_documents() {
    let hcaptcha = ["https://hcaptcha.com", "https://*.hcaptcha.com"];
    for (provider, name, script, field, directives) in [
        (
            CaptchaProvider::Turnstile,
            "turnstile",
            "https://challenges.cloudflare.com/turnstile/v0/api.js",
            "cf-turnstile-response",
            vec![
                ("script-src", vec!["https://challenges.cloudflare.com"]),
                ("frame-src", vec!["https://challenges.cloudflare.com"]),
            ],
        ),
        (
            CaptchaProvider::Hcaptcha,
            "hcaptcha",
            "https://js.hcaptcha.com/1/api.js",
            "h-captcha-response",
            // docs.hcaptcha.com, "Content-Security-Policy Settings": all four directives.
            ["script-src", "frame-src", "style-src", "connect-src"]
                .into_iter()
                .map(|d| (d, hcaptcha.to_vec()))
                .collect(),
        ),
        (
            CaptchaProvider::Recaptcha,
            "recaptcha",
            "https://www.google.com/recaptcha/api.js",
            "g-recaptcha-response",
            vec![
                ("script-src", vec!["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"]),
                ("frame-src", vec!["https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"]),
            ],
        ),
    ] {
        let widget = SiteVerify::new(&config(provider, "http://127.0.0.1:9/siteverify")).unwrap().widget().unwrap();
        assert_eq!(
            (widget.provider.as_str(), widget.site_key.as_str(), widget.script_url.as_str()),
            (name, SITE_KEY, script)
        );
        assert_eq!(widget.response_field, field);
        let expected: Vec<(String, Vec<String>)> =
            directives.into_iter().map(|(d, s)| (d.to_owned(), s.into_iter().map(str::to_owned).collect())).collect();
        assert_eq!(widget.csp_sources, expected, "{provider:?}");
        assert!(!format!("{widget:?}").contains(SECRET));
    }
}
