//! One HTTP exchange with Microsoft Graph, with the rules every call shares: the bearer
//! token (one renewal after a 401), throttling (`429`/`503` with `Retry-After`, retried a
//! bounded number of times, never longer than configured), timeouts as `Unavailable`, and
//! Graph's error body (`{"error": {"code", "message"}}`) read into a typed error that holds
//! no token, secret or password.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, Method, StatusCode, Url};
use serde::Deserialize;
use sspr_core::{BackendError, BackendErrorKind, Clock};

use super::config::GraphConfig;
use super::token::Tokens;
use crate::http;

/// The most of one Graph answer read: a page of `$top=999` users with the few properties asked
/// is well under 1 MB.
const MAX_REPLY_BYTES: usize = 16 << 20;

/// What an endpoint's answer is read into, `limit` bytes at most, as an error naming `to`.
pub(crate) async fn read_body(answer: reqwest::Response, limit: usize, to: &str) -> Result<Vec<u8>, BackendError> {
    http::body_within(answer, limit).await.map_err(|e| match e {
        http::BodyError::TooLarge => {
            BackendError::new(BackendErrorKind::Unavailable, format!("{to} answered more than {limit} bytes"))
        }
        http::BodyError::Transport(e) => transport_error(e, to),
    })
}

/// What Graph answered: a status and a body (a success, or an error the caller decides on).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// Graph's error body (https://learn.microsoft.com/en-us/graph/errors).
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

/// The top-level error: a code (`Request_ResourceNotFound`, `Authorization_RequestDenied`,
/// ...) and a message.
#[derive(Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) message: String,
}

impl Reply {
    /// The error Graph described, if the body is Graph's error format.
    pub(crate) fn error_detail(&self) -> Option<ErrorDetail> {
        serde_json::from_slice::<ErrorBody>(&self.body).ok().map(|b| b.error)
    }

    /// The body as `T` (a success answer).
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, BackendError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| BackendError::new(BackendErrorKind::Other, format!("graph answered an unexpected body: {e}")))
    }

    /// A backend error for a non-success answer, `what` naming the operation. Its message
    /// holds the status and Graph's code, never the request.
    pub(crate) fn failure(&self, what: &str) -> BackendError {
        let code = self.error_detail().map(|d| d.code).unwrap_or_default();
        BackendError::new(status_kind(self.status), format!("graph {what}: {} {code}", self.status))
    }
}

/// The kind for an answer that is not a success: throttling and server errors may work
/// later, anything else will not.
pub(crate) fn status_kind(status: StatusCode) -> BackendErrorKind {
    http::status_kind(status)
}

/// A transport failure (no answer, or a broken one), without the URL.
pub(crate) fn transport_error(e: reqwest::Error, to: &str) -> BackendError {
    let e = e.without_url();
    let message = if e.is_timeout() {
        format!("{to} did not answer in time")
    } else if e.is_connect() {
        format!("{to} could not be reached")
    } else {
        format!("the request to {to} failed")
    };
    // Only the error's category is kept: reqwest's own text can quote the request.
    let kind = if e.is_builder() { BackendErrorKind::Other } else { BackendErrorKind::Unavailable };
    BackendError::new(kind, message)
}

/// The shared client: HTTP, tokens, and the configured bounds.
pub(crate) struct GraphClient {
    http: Client,
    tokens: Tokens,
    /// `{graph_url}/v1.0/`.
    base: Url,
    max_retries: u32,
    max_retry_after: Duration,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient").field("base", &self.base.as_str()).field("tokens", &self.tokens).finish()
    }
}

fn parse_url(text: &str, what: &str) -> Result<Url, BackendError> {
    Url::parse(text)
        .map_err(|_| BackendError::new(BackendErrorKind::Other, format!("graph configuration: {what} is not a URL")))
}

impl GraphClient {
    pub(crate) fn new(config: &GraphConfig, clock: Arc<dyn Clock>) -> Result<Self, BackendError> {
        config.check()?;
        let authority = parse_url(config.authority_url.trim_end_matches('/'), "authority_url")?;
        let graph = parse_url(config.graph_url.trim_end_matches('/'), "graph_url")?;
        http::check_transport(&authority, config.allow_insecure_http, "authority_url")?;
        http::check_transport(&graph, config.allow_insecure_http, "graph_url")?;
        let token_url = parse_url(
            &format!("{}/{}/oauth2/v2.0/token", authority.as_str().trim_end_matches('/'), config.tenant_id),
            "the token URL",
        )?;
        let base = parse_url(&format!("{}/v1.0/", graph.as_str().trim_end_matches('/')), "graph_url")?;
        let direct = http::is_loopback(&authority) && http::is_loopback(&graph);
        let http = http::client(config.ca_file.as_deref(), config.timeout(), direct)?;
        Ok(Self {
            http,
            tokens: Tokens::new(config, token_url, clock)?,
            base,
            max_retries: config.max_retries,
            max_retry_after: Duration::from_secs(config.max_retry_after_secs),
        })
    }

    /// `path` (relative, e.g. `users`) under `/v1.0/`.
    pub(crate) fn url(&self, path: &str) -> Result<Url, BackendError> {
        self.base
            .join(path)
            .map_err(|_| BackendError::new(BackendErrorKind::Other, "graph: a request path is not valid"))
    }

    /// Whether `url` (an `@odata.nextLink`) points at the Graph this client talks to: the
    /// bearer token is only ever sent there.
    pub(crate) fn is_own(&self, url: &Url) -> bool {
        url.origin() == self.base.origin() && url.path().starts_with(self.base.path())
    }

    /// Send one request. `429` and `503` are retried after their `Retry-After` (at most
    /// `max_retries` times, each wait at most `max_retry_after_secs`; without the header,
    /// 1 s, then 2 s, ...); a `401` renews the token and retries once. Any other answer is
    /// returned as it came.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        headers: &[(&'static str, &'static str)],
    ) -> Result<Reply, BackendError> {
        let mut retries = 0u32;
        let mut renewed = false;
        loop {
            let token = self.tokens.get(&self.http).await?;
            let mut request = self.http.request(method.clone(), url.clone()).header(AUTHORIZATION, token.bearer());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = body {
                request = request.header(CONTENT_TYPE, "application/json").body(body.to_string());
            }
            let answer = request.send().await.map_err(|e| transport_error(e, "Microsoft Graph"))?;
            let status = answer.status();
            if status == StatusCode::UNAUTHORIZED && !renewed {
                renewed = true;
                self.tokens.drop_token(&token).await;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
                let wait = retry_after(answer.headers().get(RETRY_AFTER))
                    .unwrap_or(Duration::from_secs(1u64 << retries.min(4)));
                if retries < self.max_retries && wait <= self.max_retry_after {
                    retries += 1;
                    tracing::info!(
                        status = status.as_u16(),
                        wait_ms = wait.as_millis() as u64,
                        "graph throttled the request: waiting"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(BackendError::new(
                    BackendErrorKind::Unavailable,
                    format!(
                        "graph is throttling or unavailable ({status}) after {retries} retries, asked to wait {} s",
                        wait.as_secs()
                    ),
                ));
            }
            let body = read_body(answer, MAX_REPLY_BYTES, "Microsoft Graph").await?;
            return Ok(Reply { status, body });
        }
    }
}

/// `Retry-After` as delay-seconds (what Graph sends). An HTTP date is not used by Graph and
/// reads as absent.
fn retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    value?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}
