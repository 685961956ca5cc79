//! The HTTP plumbing every page shares: the per-request [`Visit`] (session, language,
//! client context), CSRF checks, cookies, security headers, the request log and the layout.
//! A visitor gets a server session only when a form leaves state to keep; until then the
//! forms carry the stateless, signed token of `csrf.rs`.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use sspr_backends::captcha::CaptchaProvider;
use sspr_core::{Locale, RequestContext};

use super::AppState;
use super::session::{ClientKey, Flash, Found, Session, Unavailable};
use super::text::{Text, text};

/// One request's view of its session and caller.
#[derive(Debug)]
pub(crate) struct Visit {
    /// The server session's id (the session cookie's value), if the visitor has one. Without
    /// one, `session` is a blank stand-in: it becomes a server session only when a handler
    /// leaves something in it to keep.
    pub(crate) id: Option<String>,
    /// The session cookie's id when it named no live session (ended, or rotated away).
    pub(crate) stale_id: Option<String>,
    pub(crate) session: Session,
    /// The session cookie must be (re)set: the session was made or moved by this request.
    pub(crate) new_cookie: bool,
    /// The anonymous CSRF token the request's cookie carried, if valid.
    csrf_cookie: Option<String>,
    /// A new anonymous CSRF token to set as the cookie with this answer.
    mint_csrf_cookie: bool,
    pub(crate) locale: Locale,
    /// Client IP, user agent and language, for the engine's limits, audit and notices.
    pub(crate) ctx: RequestContext,
    /// The engine, for the policy's time zone of the dates shown.
    sspr: sspr_core::Sspr,
}

impl Visit {
    pub(crate) fn text(&self) -> &'static Text {
        text(self.locale)
    }

    /// `at` in the policy's time zone, for showing it.
    pub(crate) fn local(&self, at: time::OffsetDateTime) -> time::OffsetDateTime {
        self.sspr.local_time(at)
    }

    fn client(&self) -> ClientKey {
        ClientKey::of(self.ctx.client_ip)
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
}

fn session_id<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    cookie_value(headers, name).filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The client's address: the peer, or, behind a trusted proxy, the nearest address in
/// `X-Forwarded-For` that is not a trusted proxy, read by sspr-core's one rule
/// ([`sspr_core::client_from_forwarded`]: from the right, stopping at the first hop that is
/// not a clean address, mapped addresses canonical), which the Python routers share.
fn client_ip(parts: &Parts, trusted: &sspr_core::TrustedProxies) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())?;
    if trusted.is_empty() {
        return Some(peer.to_canonical());
    }
    let forwarded: Vec<&[u8]> = parts.headers.get_all("x-forwarded-for").iter().map(|v| v.as_bytes()).collect();
    Some(sspr_core::client_from_forwarded(peer, &forwarded, trusted))
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let locale = super::session::locale_of(&parts.headers);
        let ctx = RequestContext {
            client_ip: client_ip(parts, &state.trusted_proxies),
            user_agent: parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
            locale,
            challenge_token: None,
        };
        let now = state.clock.now();
        let cookie_id = session_id(&parts.headers, state.cookie_name());
        let existing = match cookie_id {
            Some(id) => match state.sessions.load(id).await {
                Ok(session) => session.map(|s| (id.to_owned(), s)),
                Err(Unavailable) => {
                    return Err(error_page(locale, StatusCode::SERVICE_UNAVAILABLE, text(locale).err_unavailable));
                }
            },
            None => None,
        };
        // The anonymous token of the cookie, when it is one of ours and unexpired.
        let csrf_cookie = cookie_value(&parts.headers, state.csrf_cookie_name())
            .and_then(|token| state.csrf.check(token, now).map(|expiry| (token.to_owned(), expiry)));
        let visit = match existing {
            Some((id, session)) => Visit {
                id: Some(id),
                stale_id: None,
                session,
                new_cookie: false,
                csrf_cookie: csrf_cookie.map(|(token, _)| token),
                mint_csrf_cookie: false,
                locale,
                ctx,
                sspr: state.sspr.clone(),
            },
            None => {
                // No server session: the forms carry the cookie's token, or a new one.
                let (token, mint) = match &csrf_cookie {
                    Some((token, expiry)) if !state.csrf.needs_renewal(*expiry, now) => (token.clone(), false),
                    _ => (state.csrf.mint(now), true),
                };
                Visit {
                    id: None,
                    stale_id: cookie_id.map(str::to_owned),
                    session: Session::anonymous(token, now),
                    new_cookie: false,
                    csrf_cookie: csrf_cookie.map(|(token, _)| token),
                    mint_csrf_cookie: mint,
                    locale,
                    ctx,
                    sspr: state.sspr.clone(),
                }
            }
        };
        Ok(visit)
    }
}

impl AppState {
    pub(crate) fn cookie_name(&self) -> &'static str {
        if self.https { "__Host-sspr_session" } else { "sspr_session" }
    }

    pub(crate) fn csrf_cookie_name(&self) -> &'static str {
        if self.https { "__Host-sspr_csrf" } else { "sspr_csrf" }
    }

    fn append_cookie(&self, response: &mut Response, name: &str, value: &str, max_age: Option<i64>) {
        let secure = if self.https { "; Secure" } else { "" };
        let max_age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
        let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{max_age}{secure}");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }

    /// The cookies this answer must set: a new or moved session's id, a new anonymous token.
    fn set_cookies(&self, response: &mut Response, visit: &Visit, id: Option<&str>) {
        if let Some(id) = id {
            self.append_cookie(response, self.cookie_name(), id, None);
        }
        if visit.id.is_none() && visit.mint_csrf_cookie {
            let max_age = self.csrf.lifetime().whole_seconds();
            self.append_cookie(response, self.csrf_cookie_name(), &visit.session.csrf, Some(max_age));
        }
    }

    /// Keep the session: save it, or make a server session when an anonymous visitor's
    /// stand-in now holds something. The id whose cookie must be set, if any.
    async fn keep(&self, visit: &Visit) -> Result<Option<String>, Unavailable> {
        match &visit.id {
            Some(id) => {
                self.sessions.save(id, visit.client(), &visit.session).await?;
                Ok(visit.new_cookie.then(|| id.clone()))
            }
            None if !visit.session.data.is_empty() => {
                // The session adopts the token already in the visitor's forms.
                let csrf = Some(visit.session.csrf.clone());
                let (id, _) = self.sessions.create(visit.client(), csrf, visit.session.data.clone()).await?;
                Ok(Some(id))
            }
            None => Ok(None),
        }
    }

    /// The answer when the session store failed.
    fn unavailable(visit: &Visit) -> Response {
        error_page(visit.locale, StatusCode::SERVICE_UNAVAILABLE, visit.text().err_unavailable)
    }

    /// The refusal of a form whose CSRF token is not the session's, or, without a session,
    /// not the (valid) token of the visitor's cookie.
    pub(crate) fn csrf_refusal(&self, visit: &Visit, token: &str) -> Option<Response> {
        let good = match (&visit.id, &visit.csrf_cookie) {
            (Some(_), _) => visit.session.csrf_matches(token),
            (None, Some(cookie)) => super::csrf::same(cookie, token),
            (None, None) => false,
        };
        if good {
            return None;
        }
        tracing::warn!(ip = ?visit.ctx.client_ip, "a form was refused: missing or wrong CSRF token");
        let mut response = error_page(visit.locale, StatusCode::FORBIDDEN, visit.text().err_session);
        self.set_cookies(&mut response, visit, None);
        Some(response)
    }

    /// Keep the session and send `page`.
    pub(crate) async fn page(&self, visit: &Visit, status: StatusCode, page: Markup) -> Response {
        let Ok(id) = self.keep(visit).await else { return Self::unavailable(visit) };
        let mut response = (status, axum::response::Html(page.into_string())).into_response();
        self.set_cookies(&mut response, visit, id.as_deref());
        response
    }

    /// Keep the session and redirect (303) to `to` (post/redirect/get).
    pub(crate) async fn redirect(&self, visit: &Visit, to: &str) -> Response {
        let Ok(id) = self.keep(visit).await else { return Self::unavailable(visit) };
        let location = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
        let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
        self.set_cookies(&mut response, visit, id.as_deref());
        response
    }

    /// Move the session to a new id and a new CSRF token (sign-in, sign-out, a verified
    /// PIN: an id or token known before, perhaps planted by an attacker, cannot ride along)
    /// and redirect.
    pub(crate) async fn rotate_and_redirect(&self, visit: Visit, to: &'static str) -> Response {
        self.rotate_and_redirect_forwarding(visit, to, None).await
    }

    /// [`Self::rotate_and_redirect`] after a verified PIN (`Some((csrf, pin))`: the form's
    /// token and PIN): a double click's second request, which carries the old id and the same
    /// token and PIN, is then sent to the new session ([`super::session::Forwards`]).
    pub(crate) async fn rotate_and_redirect_forwarding(
        &self,
        mut visit: Visit,
        to: &'static str,
        verified: Option<(&str, &str)>,
    ) -> Response {
        let rotated = self.sessions.rotate(visit.id.as_deref(), visit.client(), &visit.session).await;
        let Ok((id, session)) = rotated else { return Self::unavailable(&visit) };
        // A form posted without a session (the helpdesk code's: its token is sealed, not
        // stored) is forwarded under its token: the retry carries no old id, only the form.
        // The key is the one `forwarded` looks under: the retry carries the same cookie, also
        // one naming a session that had ended before this request.
        if let Some((csrf, pin)) = verified {
            let old = visit.id.as_deref().or(visit.stale_id.as_deref()).unwrap_or(csrf);
            self.forwards.record(old, &id, csrf, pin, self.clock.now()).await;
        }
        visit.id = Some(id);
        visit.session = session;
        visit.new_cookie = true;
        self.redirect(&visit, to).await
    }

    /// The session `visit`'s cookie named (or, without one, the form's token) moved to, if a
    /// PIN (or a helpdesk code) verified in it moments ago and this request carries the same
    /// CSRF token and PIN: a redirect to `to` that sets its cookie, and nothing else (no
    /// session made or changed).
    /// `Err(())`: a forward exists but this request's token or PIN is wrong (counted).
    pub(crate) async fn forwarded(
        &self,
        visit: &Visit,
        csrf: &str,
        pin: &str,
        to: &'static str,
    ) -> Result<Option<Response>, ()> {
        let old = visit.id.as_deref().or(visit.stale_id.as_deref()).unwrap_or(csrf);
        match self.forwards.find(old, csrf, pin, self.clock.now()).await {
            Found::Moved(id) => {
                let location = HeaderValue::from_static(to);
                let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
                self.append_cookie(&mut response, self.cookie_name(), &id, None);
                Ok(Some(response))
            }
            Found::Refused => Err(()),
            Found::Nothing => Ok(None),
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

/// The portal's Content-Security-Policy: no script, no frame, nothing from elsewhere.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The bot challenge's widget (`[bot_challenge]`): what the reset start page shows, and the
/// one policy that lets it run. Only the page showing the widget is served with
/// [`Widget::csp`]; every other answer keeps [`CSP`].
#[derive(Debug, Clone)]
pub(crate) struct Widget {
    /// The provider, for the form field its token arrives in.
    pub(crate) provider: CaptchaProvider,
    script_url: String,
    widget_class: String,
    site_key: String,
    csp: HeaderValue,
}

impl Widget {
    /// From the engine's answer ([`sspr_core::Sspr::challenge_widget`]): the page's policy is
    /// [`CSP`] with exactly the sources the provider documents added.
    pub(crate) fn new(provider: CaptchaProvider, widget: &sspr_core::ChallengeWidget) -> Self {
        // The sources are the provider's constants: always a valid header value.
        let csp = HeaderValue::from_str(&widget.csp(CSP)).unwrap_or_else(|_| HeaderValue::from_static(CSP));
        Self {
            provider,
            script_url: widget.script_url.clone(),
            widget_class: widget.widget_class.clone(),
            site_key: widget.site_key.clone(),
            csp,
        }
    }

    /// The widget's script and element, inside the start form.
    pub(crate) fn markup(&self) -> Markup {
        html! {
            script src=(self.script_url) async defer {}
            div class=(self.widget_class) data-sitekey=(self.site_key) {}
        }
    }
}

/// Marks an answer as the page that shows the [`Widget`] (a response extension the
/// middleware reads to pick the policy).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShowsWidget;

static SECURITY_HEADERS: [(&str, &str); 7] = [
    ("content-security-policy", CSP),
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

/// `request` with its body read in full, at most [`crate::BODY_LIMIT`] bytes within
/// [`crate::READ_TIMEOUT`]: a body sent a byte at a time (slowloris) would otherwise hold its
/// connection for as long as the client likes. `Err`: the answer's status (too slow, too large).
async fn with_body_read(request: Request) -> Result<Request, StatusCode> {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(crate::READ_TIMEOUT, axum::body::to_bytes(body, crate::BODY_LIMIT)).await {
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes))),
        // Over the limit, or the client went away mid-body.
        Ok(Err(_)) => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

/// Security headers on every answer, no caching of pages, a refusal of cross-site posts,
/// and one log line per request (method, path without query, status, time; never a body).
pub(crate) async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = state.clock.now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let locale = super::session::locale_of(request.headers());
    let mut response = match with_body_read(request).await {
        Err(status) => {
            tracing::warn!(%path, status = status.as_u16(), "a request's body was refused");
            let mut response = error_page(locale, status, text(locale).err_input);
            // The rest of the body is not read: the connection cannot carry another request.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
        Ok(request) if foreign_origin(&request) => {
            tracing::warn!(%path, "a cross-site form post was refused");
            error_page(locale, StatusCode::FORBIDDEN, text(locale).err_session)
        }
        Ok(request) => {
            // On a task of its own: hyper drops a handler when its client closes the connection
            // (a browser's timeout, a mobile network gone), and a handler dropped after the
            // engine's work and before the session is saved (the answer is padded after the
            // work) left a verified PIN spent on a session that never moved on: the user's retry
            // read "this reset was already used". Run to its end, the request saves what it did
            // (a verify's forward lets the retry in), as a client that waited would have had.
            // In the caller's span, so a host's request span (a `TraceLayer` around the router)
            // still holds the handler's events.
            match tokio::spawn(tracing::Instrument::in_current_span(next.run(request))).await {
                Ok(response) => response,
                Err(e) => {
                    tracing::error!(%path, error = %e, "a request's handler panicked");
                    error_page(locale, StatusCode::INTERNAL_SERVER_ERROR, text(locale).err_unavailable)
                }
            }
        }
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if let Some(widget) = &state.widget
        && response.extensions().get::<ShowsWidget>().is_some()
    {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, widget.csp.clone());
    }
    let headers = response.headers_mut();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, forwarded: &[&str]) -> Parts {
        let mut request = axum::http::Request::builder();
        for line in forwarded {
            request = request.header("x-forwarded-for", *line);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts.extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Wired to sspr-core's rule (its table is `sspr_core::forwarded`'s tests): the peer from
    /// the connection, every `X-Forwarded-For` line in order, the configured proxies.
    #[test]
    fn the_client_address_is_read_by_the_core_rule_from_the_connection_and_every_header_line() {
        let trusted = sspr_core::TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        let via_proxy = parts("[::ffff:10.0.0.5]:4000", &["6.6.6.6", "198.51.100.77, 203.0.113.7:51234"]);
        assert_eq!(client_ip(&via_proxy, &trusted), Some(ip("203.0.113.7")));
        let spoofed = parts("198.51.100.9:4000", &["203.0.113.7"]);
        assert_eq!(client_ip(&spoofed, &trusted), Some(ip("198.51.100.9")), "an untrusted peer's header is ignored");
        let nonsense = parts("10.0.0.5:4000", &["198.51.100.77, unknown"]);
        assert_eq!(client_ip(&nonsense, &trusted), Some(ip("10.0.0.5")));
        let direct = parts("[::ffff:203.0.113.8]:4000", &["198.51.100.1"]);
        assert_eq!(client_ip(&direct, &sspr_core::TrustedProxies::default()), Some(ip("203.0.113.8")));
    }
}
