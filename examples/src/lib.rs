//! Embedding sspr in your own axum service: a JSON reset API over one shared [`Sspr`].
//!
//! The whole portal (pages, sessions, CSRF, admin) is the `sspr-portal` crate; this is the
//! least a service needs. Each handler converts its request, calls one engine operation and
//! converts the answer: every rule (rate limits, enumeration defence, PIN checks, padding)
//! stays in the engine. Errors answer as the portal and every router do (`pages::describe`):
//! the engine's stable code (`wrong_pin`, `rate_limited`, ...), never a secret or a backend's
//! own message.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sspr_core::pages::describe;
use sspr_core::{Error, Locale, NewPassword, Pin, RequestContext, Sspr};

/// One request body for every step; each step reads the fields it needs.
#[derive(Deserialize)]
pub struct Step {
    login: Option<String>,
    flow_id: Option<String>,
    method_id: Option<String>,
    pin: Option<String>,
}

/// The reset API: `POST /begin {login}`, `/send {flow_id, method_id}`, `/verify {flow_id,
/// pin}`, `/complete {flow_id}` (answers the temporary password, shown once).
pub fn reset_api(sspr: Arc<Sspr>) -> Router {
    Router::new()
        .route("/begin", post(begin))
        .route("/send", post(send))
        .route("/verify", post(verify))
        .route("/complete", post(complete))
        .with_state(sspr)
}

/// The client's address (behind a reverse proxy, take it from the header your proxy sets)
/// and language, parsed by the engine's one rule for every binding.
fn context(addr: Option<Extension<ConnectInfo<SocketAddr>>>, headers: &HeaderMap) -> Result<RequestContext, Error> {
    let ip = addr.map(|Extension(ConnectInfo(a))| a.ip().to_string());
    let language = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    RequestContext::from_parts(ip.as_deref(), language)
}

type Answer = Result<Json<Value>, Failure>;
type Ctx = Option<Extension<ConnectInfo<SocketAddr>>>;

async fn begin(State(sspr): State<Arc<Sspr>>, addr: Ctx, headers: HeaderMap, Json(s): Json<Step>) -> Answer {
    let challenge = sspr.begin_reset(s.login.as_deref().unwrap_or(""), &context(addr, &headers)?).await?;
    Ok(Json(json!(challenge))) // flow id, masked methods, expiry: nothing secret
}

async fn send(State(sspr): State<Arc<Sspr>>, addr: Ctx, headers: HeaderMap, Json(s): Json<Step>) -> Answer {
    let (flow, method) = (s.flow_id.unwrap_or_default(), s.method_id.unwrap_or_default());
    sspr.send_pin(&flow, &method, None, &context(addr, &headers)?).await?;
    Ok(Json(json!({"sent": true})))
}

async fn verify(State(sspr): State<Arc<Sspr>>, addr: Ctx, headers: HeaderMap, Json(s): Json<Step>) -> Answer {
    let pin = Pin::new(s.pin.unwrap_or_default());
    sspr.verify_pin(&s.flow_id.unwrap_or_default(), pin, &context(addr, &headers)?).await?;
    Ok(Json(json!({"verified": true})))
}

async fn complete(State(sspr): State<Arc<Sspr>>, addr: Ctx, headers: HeaderMap, Json(s): Json<Step>) -> Answer {
    let flow = s.flow_id.unwrap_or_default();
    let outcome = sspr.complete_reset(&flow, NewPassword::Temporary, &context(addr, &headers)?).await?;
    let shown_once = outcome.temporary_password.map(|p| p.expose_secret().to_owned());
    Ok(Json(json!({"temporary_password": shown_once, "must_change": outcome.must_change})))
}

/// An engine error as an HTTP answer, by sspr-core's one rule (`pages::describe`, what the portal
/// and every router answer): its status, stable code and message, never a backend's own words.
pub struct Failure(Error);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let a = describe(&self.0);
        let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"error": a.code, "message": a.text(Locale::En), "attempts_left": a.attempts_left,
            "retry_after_seconds": a.retry_after_seconds, "field": a.field});
        let retry_after = a.retry_after_seconds.map(|s| [(header::RETRY_AFTER, s.to_string())]);
        (status, retry_after, Json(body)).into_response()
    }
}
