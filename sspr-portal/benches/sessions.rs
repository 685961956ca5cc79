//! What a session costs the portal, through its router in-process (no network): requests
//! from many client addresses against a table of `max_sessions` (100,000), timed while the
//! table is empty and once it is full. Prints a small table; asserts nothing about time.
//!
//!     cargo bench -p sspr-portal --bench sessions
//!
//! 1. cookie-less GETs of `/passwordreset` (what a crawler or a flood sends);
//! 2. form posts that need a session (a failed sign-in leaves a message for the next page),
//!    each from a visitor without a session cookie, until the table is full, then more.
//!
//! Measured 2026-12-04 (debug build, `cargo test --bench sessions`, on a shared 2-core machine):
//! before lazy sessions every cookie-less GET made a session; once 100,000 were held each
//! further one scanned the table under its mutex and was refused: 134 µs per GET with the
//! table empty, 151,900 µs (and a 503 for everyone) with it full. Now a GET makes no
//! session (205 µs empty, 177 µs after 100,000 GETs, 0 sessions held), and a session-making
//! post costs the same with the table empty (736 µs, mostly the engine's sign-in) as full
//! (684 µs, each evicting the least recently used session).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::disallowed_methods
)]
// disallowed_methods: a benchmark measures wall time, so it reads the clock itself.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

const TABLE: usize = 100_000;
const TIMED: usize = 5_000;

fn client(i: usize) -> SocketAddr {
    let i = u32::try_from(i % 60_000).unwrap();
    SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40_000))
}

async fn send(router: &Router, mut request: Request<Body>, from: SocketAddr) -> (u16, Vec<String>, String) {
    request.extensions_mut().insert(ConnectInfo(from));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let body = String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
    (status, cookies, body)
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

/// A failed sign-in with `csrf`, carrying `cookie` (never a session cookie).
fn sign_in(cookie: &str, csrf: &str, i: usize) -> Request<Body> {
    let mut request = Request::post("/passwordnotification/signin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}&login=nobody{i}%40example.org&password=wrong")))
        .unwrap();
    if !cookie.is_empty() {
        request.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
    }
    request
}

fn line(what: &str, took: Duration, n: usize, statuses: &[u16], sessions: usize) {
    let mut counts: Vec<(u16, usize)> = Vec::new();
    for s in statuses {
        match counts.iter_mut().find(|(c, _)| c == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((*s, 1)),
        }
    }
    let per = took.as_secs_f64() * 1e6 / n as f64;
    println!("{what:<52} {per:>9.1} µs/request   statuses {counts:?}   sessions held {sessions}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = std::env::temp_dir().join(format!("sspr-sessions-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = sspr_portal::Config::from_toml(&format!(
        "max_sessions = {TABLE}\n[policy]\nmin_response_ms = 0\nip_sign_ins_per_hour = 100000\n[store]\nkind = \"memory\"\n"
    ))
    .unwrap();
    config.data_dir = dir.clone();
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let router = portal.router();

    // 1. Cookie-less GETs: the first TIMED timed, then up to the table's size, then TIMED more.
    let mut statuses = Vec::new();
    let started = Instant::now();
    for i in 0..TIMED {
        statuses.push(send(&router, get("/passwordreset"), client(i)).await.0);
    }
    line("cookie-less GET, table empty", started.elapsed(), TIMED, &statuses, portal.session_count());
    for i in TIMED..TABLE {
        send(&router, get("/passwordreset"), client(i)).await;
    }
    let mut statuses = Vec::new();
    let started = Instant::now();
    for i in 0..TIMED {
        statuses.push(send(&router, get("/passwordreset"), client(TABLE + i)).await.0);
    }
    line(
        &format!("cookie-less GET, after {TABLE} of them"),
        started.elapsed(),
        TIMED,
        &statuses,
        portal.session_count(),
    );

    // 2. Posts that need a session, from visitors holding a CSRF token but no session. Each
    //    address fetches its form once (any cookie it gets, bar a session's, is kept).
    let mut forms = Vec::new();
    for c in 0..1_000 {
        let from = SocketAddr::from(([172, 16, (c >> 8) as u8, c as u8], 40_000));
        let (_, cookies, body) = send(&router, get("/passwordnotification"), from).await;
        let cookie = cookies.into_iter().filter(|c| !c.contains("sspr_session=")).collect::<Vec<_>>().join("; ");
        let marker = "name=\"csrf\" value=\"";
        let csrf = body.find(marker).map(|at| {
            let rest = &body[at + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        });
        forms.push((from, cookie, csrf.unwrap_or_default()));
    }
    let post = async |i: usize| {
        let (from, cookie, csrf) = &forms[i % forms.len()];
        send(&router, sign_in(cookie, csrf, i), *from).await.0
    };
    let mut statuses = Vec::new();
    let started = Instant::now();
    for i in 0..TIMED {
        statuses.push(post(i).await);
    }
    line("session-making post, first ones", started.elapsed(), TIMED, &statuses, portal.session_count());
    // Fill the table (when the GETs above have not filled it already).
    for i in TIMED..TABLE {
        if portal.session_count() >= TABLE {
            break;
        }
        post(i).await;
    }
    let mut statuses = Vec::new();
    let started = Instant::now();
    for i in 0..TIMED {
        statuses.push(post(TABLE + i).await);
    }
    line(
        &format!("session-making post, after {TABLE} of them"),
        started.elapsed(),
        TIMED,
        &statuses,
        portal.session_count(),
    );
    drop(portal);
    let _ = std::fs::remove_dir_all(&dir);
}
