//! The HTTP plumbing every page shares: the per-request [`Visit`] (session, language,
//! client context), CSRF checks, cookies, security headers, the request log and the layout.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use sspr_core::{Locale, RequestContext};

use super::AppState;
use super::session::{Flash, Session};
use super::text::{Text, text};

/// One request's view of its session and caller.
#[derive(Debug)]
pub(crate) struct Visit {
    /// The session id (the cookie's value).
    pub(crate) id: String,
    pub(crate) session: Session,
    /// Whether the session was made for this request (the cookie must be set).
    pub(crate) new_cookie: bool,
    pub(crate) locale: Locale,
    /// Client IP, user agent and language, for the engine's limits, audit and notices.
    pub(crate) ctx: RequestContext,
}

impl Visit {
    pub(crate) fn text(&self) -> &'static Text {
        text(self.locale)
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the last address
/// in `X-Forwarded-For` that is not one of the trusted proxies.
fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    Some(forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer))
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let locale = super::session::locale_of(&parts.headers);
        let ctx = RequestContext {
            client_ip: client_ip(parts, &state.trusted_proxies),
            user_agent: parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
            locale,
        };
        let existing = cookie_value(&parts.headers, state.cookie_name())
            .and_then(|id| state.sessions.load(id).map(|s| (id.to_owned(), s)));
        let (id, session, new_cookie) = match existing {
            Some((id, session)) => (id, session, false),
            None => match state.sessions.create() {
                Ok((id, session)) => (id, session, true),
                Err(_) => {
                    tracing::warn!("session table full: refusing a new visitor");
                    return Err(error_page(locale, StatusCode::SERVICE_UNAVAILABLE, text(locale).err_unavailable));
                }
            },
        };
        Ok(Visit { id, session, new_cookie, locale, ctx })
    }
}

impl AppState {
    pub(crate) fn cookie_name(&self) -> &'static str {
        if self.https { "__Host-sspr_session" } else { "sspr_session" }
    }

    fn set_cookie(&self, response: &mut Response, visit: &Visit) {
        if !visit.new_cookie {
            return;
        }
        let secure = if self.https { "; Secure" } else { "" };
        let cookie = format!("{}={}; Path=/; HttpOnly; SameSite=Strict{secure}", self.cookie_name(), visit.id);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }

    /// The refusal of a form whose CSRF token is not the session's (a new session has no valid token).
    pub(crate) fn csrf_refusal(&self, visit: &Visit, token: &str) -> Option<Response> {
        if !visit.new_cookie && visit.session.csrf_matches(token) {
            return None;
        }
        tracing::warn!(ip = ?visit.ctx.client_ip, "a form was refused: missing or wrong CSRF token");
        let mut response = error_page(visit.locale, StatusCode::FORBIDDEN, visit.text().err_session);
        self.set_cookie(&mut response, visit);
        Some(response)
    }

    /// Save the session and send `page`.
    pub(crate) fn page(&self, visit: &Visit, status: StatusCode, page: Markup) -> Response {
        self.sessions.save(&visit.id, &visit.session);
        let mut response = (status, axum::response::Html(page.into_string())).into_response();
        self.set_cookie(&mut response, visit);
        response
    }

    /// Save the session and redirect (303) to `to` (post/redirect/get).
    pub(crate) fn redirect(&self, visit: &Visit, to: &str) -> Response {
        self.sessions.save(&visit.id, &visit.session);
        let location = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
        let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
        self.set_cookie(&mut response, visit);
        response
    }

    /// Move the session to a new id (sign-in, sign-out) and redirect.
    pub(crate) fn rotate_and_redirect(&self, mut visit: Visit, to: &'static str) -> Response {
        match self.sessions.rotate(&visit.id, &visit.session) {
            Ok((id, session)) => {
                visit.id = id;
                visit.session = session;
                visit.new_cookie = true;
                self.redirect(&visit, to)
            }
            Err(_) => error_page(visit.locale, StatusCode::SERVICE_UNAVAILABLE, visit.text().err_unavailable),
        }
    }
}

/// Percent-encode a query value (everything but unreserved characters).
pub(crate) fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A page with only a message.
pub(crate) fn error_page(locale: Locale, status: StatusCode, message: &str) -> Response {
    let t = text(locale);
    let flash = Flash { error: true, text: message.to_owned() };
    let body = layout(t, t.brand, Some(&flash), html! { p { a href="/" { (t.back) } } });
    (status, axum::response::Html(body.into_string())).into_response()
}

/// The page frame: a small, phone-friendly layout without any script.
pub(crate) fn layout(t: &Text, title: &str, flash: Option<&Flash>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(t.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " \u{b7} " (t.brand) }
                link rel="stylesheet" href="/static/portal.css";
            }
            body {
                header { a.brand href="/" { (t.brand) } }
                main {
                    h1 { (title) }
                    @if let Some(flash) = flash {
                        p.flash.error[flash.error].ok[!flash.error] role=(if flash.error { "alert" } else { "status" }) {
                            (flash.text)
                        }
                    }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// The stylesheet (served from the portal itself: the CSP allows nothing else).
pub(crate) async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("portal.css"),
    )
        .into_response()
}

static SECURITY_HEADERS: [(&str, &str); 7] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
];

/// Whether a form post came from another site, by its `Origin` header: when present and not
/// `null`, it must name this host. (Under `Referrer-Policy: no-referrer` browsers send
/// `Origin: null` on every post, so `null` proves nothing either way; the CSRF token and the
/// SameSite=Strict cookie still guard those.)
fn foreign_origin(request: &Request) -> bool {
    if request.method() != Method::POST {
        return false;
    }
    let Some(origin) = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    origin != "null" && !origin_host.eq_ignore_ascii_case(host)
}

/// Security headers on every answer, no caching of pages, a refusal of cross-site posts,
/// and one log line per request (method, path without query, status, time; never a body).
pub(crate) async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = state.clock.now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let locale = super::session::locale_of(request.headers());
    let mut response = if foreign_origin(&request) {
        tracing::warn!(%path, "a cross-site form post was refused");
        error_page(locale, StatusCode::FORBIDDEN, text(locale).err_session)
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if state.https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let ms = (state.clock.now() - started).whole_milliseconds();
    tracing::info!(target: "sspr_portal::http", %method, %path, status = response.status().as_u16(), ms, "request");
    response
}

/// The 404 page.
pub(crate) async fn not_found(request: Request<Body>) -> Response {
    let locale = super::session::locale_of(request.headers());
    error_page(locale, StatusCode::NOT_FOUND, "404")
}
