//! OpenID Connect sign-in (authorization code + PKCE) against the stand-in acting as Entra's
//! v2.0 endpoint: the ID token is accepted only when its signature, issuer, audience, nonce
//! and expiry all hold.

use std::collections::HashMap;

use sspr_backends::graph::{ClientSecret, OidcClient, OidcConfig, OidcError, PendingSignIn};

use crate::directory::tenant;
use crate::standin::{Provider, StandIn, Tamper, rsa_key, user};

pub const PORTAL_SECRET: &str = "portal~secret-value-not-to-log";
pub const PORTAL_APP: &str = "0f5e1c2a-portal-app";

/// A stand-in with `upn` signed in at the provider, and its redirect URI.
pub async fn provider(upn: &str, redirect_uri: &str, dir: &std::path::Path) -> (StandIn, String) {
    let person = user(upn, "Signed In Person");
    let id = person.id.clone();
    let standin = StandIn::start(tenant(vec![person])).await;
    let (_, key) = rsa_key(dir, "idp");
    let (_, other_key) = rsa_key(dir, "foreign");
    standin.with(|t| {
        t.oidc = Some(Provider {
            client_id: PORTAL_APP.into(),
            client_secret: PORTAL_SECRET.into(),
            redirect_uri: redirect_uri.into(),
            signed_in: Some(upn.into()),
            key,
            other_key,
            kid: "key-2026-12".into(),
            codes: HashMap::new(),
            tamper: None,
        })
    });
    (standin, id)
}

pub fn oidc_config(standin: &StandIn, redirect_uri: &str) -> OidcConfig {
    OidcConfig {
        issuer: standin.issuer(),
        client_id: PORTAL_APP.into(),
        client_secret: ClientSecret::new(PORTAL_SECRET),
        redirect_uri: redirect_uri.into(),
        ca_file: None,
        timeout_ms: 2_000,
        fresh_sign_in_secs: 300,
        subject_attribute: None,
        subject_prefix: String::new(),
        trust_username: false,
    }
}

/// What the browser does: follow the authorization URL to the provider, read the redirect.
async fn browse(url: reqwest::Url) -> (String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = browser.get(url).send().await.unwrap();
    assert_eq!(answer.status(), 302);
    let back = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let q: HashMap<String, String> = back.query_pairs().into_owned().collect();
    (q["code"].clone(), q["state"].clone())
}

const REDIRECT: &str = "http://127.0.0.1:9/passwordnotification/oidc/callback";

async fn sign_in(client: &OidcClient) -> (PendingSignIn, String, String) {
    let (url, pending) = client.begin().await.unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    let (code, state) = browse(url).await;
    (pending, code, state)
}

#[tokio::test]
async fn a_valid_id_token_signs_the_user_in() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, id) = provider("rita@contoso.com", REDIRECT, dir.path()).await;
    let client = OidcClient::new(oidc_config(&standin, REDIRECT)).unwrap();
    let (pending, code, state) = sign_in(&client).await;
    let who = client.finish(&pending, &code, &state).await.unwrap();
    assert_eq!(who.username.as_deref(), Some("rita@contoso.com"));
    assert_eq!(who.object_id.as_deref(), Some(id.as_str()));
    // The code is single use at the provider.
    let again = client.finish(&pending, &code, &state).await.unwrap_err();
    assert!(matches!(again, OidcError::Refused(_)), "{again}");
    assert!(!format!("{client:?} {pending:?}").contains(PORTAL_SECRET));
}

#[tokio::test]
async fn every_wrong_id_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, _) = provider("sam@contoso.com", REDIRECT, dir.path()).await;
    let client = OidcClient::new(oidc_config(&standin, REDIRECT)).unwrap();
    for (tamper, why) in [
        (Tamper::ForeignKey, "signature does not verify"),
        (Tamper::Audience, "another application"),
        (Tamper::Issuer, "another issuer"),
        (Tamper::Expired, "expired"),
        (Tamper::Nonce, "nonce"),
        (Tamper::AlgNone, "RS256"),
        (Tamper::Hmac, "RS256"),
        (Tamper::UnknownKid, "does not publish"),
    ] {
        standin.with(|t| t.oidc.as_mut().unwrap().tamper = Some(tamper));
        let (pending, code, state) = sign_in(&client).await;
        let err = client.finish(&pending, &code, &state).await.unwrap_err();
        assert!(matches!(&err, OidcError::Refused(m) if m.contains(why)), "{tamper:?}: {err}");
    }
}

#[tokio::test]
async fn the_state_and_the_pkce_verifier_bind_the_code_to_this_session() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, _) = provider("tom@contoso.com", REDIRECT, dir.path()).await;
    let client = OidcClient::new(oidc_config(&standin, REDIRECT)).unwrap();
    let (mine, code, state) = sign_in(&client).await;
    // A state from elsewhere (a login CSRF: the attacker's own code sent to the victim).
    let err = client.finish(&mine, &code, "forged-state").await.unwrap_err();
    assert!(matches!(&err, OidcError::Refused(m) if m.contains("state")), "{err}");
    // A code obtained for another session (its own verifier): the provider refuses it.
    let (_, stolen_code, _) = sign_in(&client).await;
    let err = client.finish(&mine, &stolen_code, &state).await.unwrap_err();
    assert!(matches!(&err, OidcError::Refused(m) if m.contains("token endpoint")), "{err}");
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, _) = provider("uma@contoso.com", REDIRECT, dir.path()).await;
    let mut config = oidc_config(&standin, REDIRECT);
    config.issuer.push('/');
    let err = OidcClient::new(config).unwrap().begin().await.unwrap_err();
    assert!(matches!(&err, OidcError::Config(m) if m.contains("another issuer")), "{err}");
}

/// The browser's trip for a fresh sign-in, with the query the visitor's browser sends the
/// provider changed by `edit` (a visitor controls that URL).
async fn fresh_sign_in(
    client: &OidcClient,
    edit: impl Fn(&mut Vec<(String, String)>),
) -> Result<sspr_backends::graph::SignedIn, OidcError> {
    let (mut url, pending) = client.begin_fresh().await.unwrap();
    let mut q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    edit(&mut q);
    url.query_pairs_mut().clear().extend_pairs(q);
    let (code, state) = browse(url).await;
    client.finish(&pending, &code, &state).await
}

#[tokio::test]
async fn a_fresh_sign_in_needs_a_signed_auth_time_within_max_age() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, _) = provider("vic@contoso.com", REDIRECT, dir.path()).await;
    let client = OidcClient::new(oidc_config(&standin, REDIRECT)).unwrap();
    let (url, _) = client.begin_fresh().await.unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!((q["prompt"].as_str(), q["max_age"].as_str()), ("login", "300"));
    // The provider asked for the credentials again: auth_time is now.
    let who = fresh_sign_in(&client, |_| {}).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!(who.authenticated_at.is_some_and(|at| (now - at).abs() < 60), "{who:?}");

    // The attack: the visitor strips prompt and max_age on the way to the provider, whose
    // half-hour-old session then answers without asking for the password.
    let err = fresh_sign_in(&client, |q| q.retain(|(k, _)| k != "prompt" && k != "max_age")).await.unwrap_err();
    assert!(matches!(&err, OidcError::Refused(m) if m.contains("older than max_age")), "{err}");
    // A provider that ignores them, or sends no auth_time: refused, not trusted.
    for (tamper, why) in [(Tamper::StaleAuthTime, "older than max_age"), (Tamper::NoAuthTime, "no auth_time")] {
        standin.with(|t| t.oidc.as_mut().unwrap().tamper = Some(tamper));
        let err = fresh_sign_in(&client, |_| {}).await.unwrap_err();
        assert!(matches!(&err, OidcError::Refused(m) if m.contains(why)), "{tamper:?}: {err}");
    }
    // An ordinary sign-in (the registration page) does not ask for freshness.
    let (pending, code, state) = sign_in(&client).await;
    assert!(client.finish(&pending, &code, &state).await.is_ok());
}

/// A provider's token with its times at the end of `i64`: the expiry check added the leeway
/// and overflowed (a panic where overflow is checked, as in debug builds). Refused instead.
#[tokio::test]
async fn times_at_the_end_of_the_calendar_are_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (standin, _) = provider("wes@contoso.com", REDIRECT, dir.path()).await;
    standin.with(|t| t.oidc.as_mut().unwrap().tamper = Some(Tamper::FarFuture));
    let client = std::sync::Arc::new(OidcClient::new(oidc_config(&standin, REDIRECT)).unwrap());
    let (pending, code, state) = sign_in(&client).await;
    let finished = tokio::spawn(async move { client.finish(&pending, &code, &state).await })
        .await
        .expect("validating the ID token panicked");
    let err = finished.unwrap_err();
    assert!(matches!(&err, OidcError::Refused(m) if m.contains("not valid yet")), "{err}");
}
