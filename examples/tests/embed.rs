//! The embedding example serves a whole reset over HTTP, and its errors carry the engine's codes.
#![allow(clippy::unwrap_used)] // a test fails loudly on the first surprise

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sspr_core::memory::{MemoryDirectory, Outbox};
use sspr_core::{
    Actor, BackendError, BackendErrorKind, ContactChange, ContactUpdate, Password, Policy, RequestContext, SecretKey,
    Sspr, UserId,
};
use tower::ServiceExt;

async fn post(app: &axum::Router, path: &str, body: Value) -> (StatusCode, Value) {
    let request = Request::post(path).header("content-type", "application/json").body(Body::from(body.to_string()));
    let response = app.clone().oneshot(request.unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_whole_reset_through_the_embedded_api() {
    let directory = MemoryDirectory::from_json(
        r#"[{"login": "jdoe@example.org", "display_name": "Jane Doe", "dn": "uid=jdoe,ou=staff,dc=example,dc=org"}]"#,
    )
    .unwrap();
    let outbox = Outbox::new();
    let sspr = Sspr::builder()
        .directory(directory)
        .notifier(outbox.clone())
        .secret_key(SecretKey::from_hex(&"42".repeat(32)).unwrap())
        .policy(Policy::from_toml(r#"eligible_ous = ["ou=staff,dc=example,dc=org"]"#).unwrap())
        .build()
        .unwrap();
    let (admin, ctx) = (Actor::Admin("helpdesk".into()), RequestContext::default());
    sspr.set_enabled(&admin, "jdoe@example.org", true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set("jane@home.example".into()), ..Default::default() };
    sspr.update_contacts(&admin, "jdoe@example.org", update, &ctx).await.unwrap();
    let sspr = Arc::new(sspr);
    let app = sspr_examples::reset_api(sspr.clone());

    let (status, challenge) = post(&app, "/begin", json!({"login": "jdoe@example.org"})).await;
    assert_eq!(status, StatusCode::OK);
    let flow = challenge["flow_id"].as_str().unwrap().to_owned();
    let method = challenge["methods"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(challenge["methods"][0]["masked"], "j***@h***.example");

    let (status, _) = post(&app, "/send", json!({"flow_id": flow, "method_id": method})).await;
    assert_eq!(status, StatusCode::OK);
    sspr.flush_deliveries().await;
    let pin = outbox.last_pin_to("jane@home.example").unwrap();

    let first = if pin.starts_with('0') { '1' } else { '0' };
    let wrong: String = std::iter::once(first).chain(pin.chars().skip(1)).collect();
    let (status, error) = post(&app, "/verify", json!({"flow_id": flow, "pin": wrong})).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("wrong_pin")));
    assert_eq!(error["attempts_left"], 4);
    assert!(!error.to_string().contains(&pin), "an error never holds the PIN");

    let (status, _) = post(&app, "/verify", json!({"flow_id": flow, "pin": pin})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, outcome) = post(&app, "/complete", json!({"flow_id": flow})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome["must_change"], true);
    assert_eq!(outcome["temporary_password"].as_str().unwrap().chars().count(), 16);

    let (status, again) = post(&app, "/complete", json!({"flow_id": flow})).await;
    assert_ne!(status, StatusCode::OK, "the temporary password is shown once: {again}");
}

#[tokio::test]
async fn bad_input_is_a_typed_400() {
    let sspr = Sspr::builder()
        .directory(MemoryDirectory::new())
        .notifier(Outbox::new())
        .secret_key(SecretKey::from_hex(&"42".repeat(32)).unwrap())
        .build()
        .unwrap();
    let app = sspr_examples::reset_api(Arc::new(sspr));
    let (status, error) = post(&app, "/verify", json!({"flow_id": "not-a-flow", "pin": "12345678"})).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")));
}

/// A directory that is down, saying where it lives (what a real LDAP or database error says).
#[derive(Debug)]
struct DownDirectory;

#[sspr_core::async_trait]
impl sspr_core::Directory for DownDirectory {
    async fn find_user(
        &self,
        _: &sspr_core::NormalizedLogin,
    ) -> Result<Option<sspr_core::backend::DirectoryUser>, BackendError> {
        Err(down())
    }
    async fn set_password(&self, _: &UserId, _: &Password, _: bool) -> Result<(), BackendError> {
        Err(down())
    }
    async fn unlock(&self, _: &UserId) -> Result<(), BackendError> {
        Err(down())
    }
    async fn authenticate(&self, _: &UserId, _: &Password) -> Result<sspr_core::Authentication, BackendError> {
        Err(down())
    }
    async fn search(&self, _: &str, _: usize) -> Result<Vec<sspr_core::backend::DirectoryUser>, BackendError> {
        Err(down())
    }
}

fn down() -> BackendError {
    BackendError::new(BackendErrorKind::Unavailable, "ldaps://dc01.corp.internal:636: connection refused")
}

/// An anonymous caller is told what every sspr router tells it (sspr-core's `pages::describe`):
/// that the service is unavailable, never the backend's own words about the network behind it.
#[tokio::test]
async fn a_failing_backend_answers_503_without_its_details() {
    let sspr = Sspr::builder()
        .directory(DownDirectory)
        .notifier(Outbox::new())
        .secret_key(SecretKey::from_hex(&"42".repeat(32)).unwrap())
        .policy(Policy::from_toml("min_response_ms = 0").unwrap())
        .build()
        .unwrap();
    let app = sspr_examples::reset_api(Arc::new(sspr));
    let (status, error) = post(&app, "/begin", json!({"login": "jdoe@example.org"})).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("backend")), "{error}");
    assert!(!error.to_string().contains("dc01"), "{error}");
    let said = sspr_core::pages::text(sspr_core::Locale::En, "err-unavailable", &[]);
    assert_eq!(error["message"].as_str(), Some(said.as_str()));
}
