//! A browser-like client for the portal's router: one cookie jar, a fixed client address,
//! forms posted as `application/x-www-form-urlencoded`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use sspr_portal::{Config, Portal};
use tower::ServiceExt;

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A fresh data directory for one test.
pub(crate) fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sspr-portal-test-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo configuration in a fresh directory, with `extra` TOML laid over it (top-level
/// keys first, then tables).
pub(crate) fn config(extra: &str) -> Config {
    let dir = temp_dir();
    let mut config = Config::from_toml(extra).unwrap();
    config.data_dir = dir;
    config
}

/// A portal on the demo defaults without response padding (fast tests), memory stores.
pub async fn portal() -> Portal {
    Portal::build(&config("[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n")).await.unwrap()
}

/// One answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// The CSRF token in the page's first form.
    pub(crate) fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).map(|i| i + marker.len()).expect("a form with a CSRF token");
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }

    /// The text of the first element with `id` (no nested tags).
    pub(crate) fn by_id(&self, id: &str) -> Option<String> {
        let marker = format!("id=\"{id}\"");
        let at = self.body.find(&marker)?;
        let open_end = self.body[at..].find('>')? + at + 1;
        let close = self.body[open_end..].find('<')? + open_end;
        Some(self.body[open_end..close].to_owned())
    }

    /// The text of the alert (error) message, if any.
    pub(crate) fn alert(&self) -> Option<String> {
        let marker = "role=\"alert\">";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('<')? + start;
        Some(self.body[start..end].to_owned())
    }

    /// The `<main>` part of the page.
    pub(crate) fn main(&self) -> &str {
        let start = self.body.find("<main>").unwrap_or(0);
        let end = self.body.find("</main>").unwrap_or(self.body.len());
        &self.body[start..end]
    }
}

/// A browser: a cookie jar (name, value) and a client address.
pub(crate) struct Browser {
    /// The instances it talks to, one request each in turn (a round-robin balancer without
    /// sticky sessions when there are several).
    routers: Vec<Router>,
    turn: usize,
    pub(crate) cookies: Vec<(String, String)>,
    pub(crate) ip: SocketAddr,
    pub(crate) accept_language: Option<&'static str>,
}

impl Browser {
    pub(crate) fn new(portal: &Portal) -> Self {
        Self {
            routers: vec![portal.router()],
            turn: 0,
            cookies: Vec::new(),
            ip: "192.0.2.1:50000".parse().unwrap(),
            accept_language: None,
        }
    }

    pub(crate) fn with_ip(portal: &Portal, ip: &str) -> Self {
        Self { ip: format!("{ip}:50000").parse().unwrap(), ..Self::new(portal) }
    }

    /// A browser behind a round-robin balancer: each request goes to the next of `portals`.
    #[cfg(feature = "server-tests")]
    pub(crate) fn round_robin(portals: &[&Portal], ip: &str) -> Self {
        Self { routers: portals.iter().map(|p| p.router()).collect(), ..Self::with_ip(portals[0], ip) }
    }

    /// Forget every cookie (a new visitor).
    pub(crate) fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// The session cookie as `name=value`, if the portal set one.
    pub(crate) fn cookie(&self) -> Option<String> {
        self.cookies.iter().find(|(name, _)| name.ends_with("sspr_session")).map(|(n, v)| format!("{n}={v}"))
    }

    /// Replace the session cookie with `cookie` (`name=value`), or drop it (other cookies stay).
    pub(crate) fn set_cookie(&mut self, cookie: Option<String>) {
        self.cookies.retain(|(name, _)| !name.ends_with("sspr_session"));
        if let Some((name, value)) = cookie.as_deref().and_then(|c| c.split_once('=')) {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    fn store_cookie(&mut self, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap_or("");
        let Some((name, value)) = pair.split_once('=') else { return };
        let expired = set_cookie.split(';').any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        self.cookies.retain(|(n, _)| n != name);
        if !expired {
            self.cookies.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }

    pub async fn send(&mut self, mut request: Request<Body>) -> Answer {
        request.extensions_mut().insert(ConnectInfo(self.ip));
        if !self.cookies.is_empty() {
            let jar = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
            request.headers_mut().insert(header::COOKIE, jar.parse().unwrap());
        }
        if let Some(lang) = self.accept_language {
            request.headers_mut().insert(header::ACCEPT_LANGUAGE, lang.parse().unwrap());
        }
        let router = self.routers[self.turn % self.routers.len()].clone();
        self.turn += 1;
        let response = router.oneshot(request).await.unwrap();
        for set in response.headers().get_all(header::SET_COOKIE) {
            self.store_cookie(set.to_str().unwrap());
        }
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// Post raw form bytes.
    pub async fn post_raw(&mut self, path: &str, body: impl Into<Body>) -> Answer {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.into())
            .unwrap();
        self.send(request).await
    }

    /// Post a form.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded(fields);
        self.post_raw(path, body).await
    }

    /// Post a form and follow the redirect, as a browser does.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let answer = self.post(path, fields).await;
        if answer.status == StatusCode::SEE_OTHER {
            let to = answer.headers[header::LOCATION].to_str().unwrap().to_owned();
            return self.get(&to).await;
        }
        answer
    }
}

/// `a=1&b=2`, percent-encoded.
pub(crate) fn serde_urlencoded(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Walk a reset up to the PIN form for `login`, by the first method offered.
pub async fn reset_to_pin(browser: &mut Browser, login: &str) -> Answer {
    let page = browser.get("/passwordreset").await;
    let csrf = page.csrf();
    let methods = browser.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", login)]).await;
    let marker = "name=\"method\" value=\"";
    let at = methods.body.find(marker).unwrap_or_else(|| panic!("methods offered for {login}: {}", methods.main()));
    let first = &methods.body[at + marker.len()..];
    let method = first[..first.find('"').unwrap()].to_owned();
    browser.submit("/passwordreset/send", &[("csrf", &csrf), ("method", &method)]).await
}
