//! The breached-password check (feature `breached`) against a stand-in of the range API on
//! 127.0.0.1 (the public service cannot be reached from the test machines), and on local
//! range files: the protocol (only the 5-digit prefix leaves, padding ignored), the offline
//! directory and file, timeouts failing closed or open by the policy, and no password in any
//! error, log or `Debug`.
#![cfg(feature = "breached")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use sspr_backends::breached::{BreachedConfig, BreachedPasswords};
use sspr_core::memory::{MemoryDirectory, MemoryUser, Outbox};
use sspr_core::{BackendErrorKind, Error, Password, PasswordRefusal, Policy, RequestContext, SecretKey, Sspr};

/// SHA-1("Tulip-Harbour-Engine-7"), split as the range API splits it.
const BREACHED: &str = "Tulip-Harbour-Engine-7";
const CLEAN: &str = "Meadow-Lantern-Quartz-8";

fn sha1_hex(text: &str) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(text.as_bytes()).iter().map(|b| format!("{b:02X}")).collect()
}

/// A prefix asked for and the request's `Add-Padding` header.
type Request = (String, Option<String>);

/// What the stand-in saw and answers.
#[derive(Clone, Default)]
struct StandIn {
    requests: Arc<Mutex<Vec<Request>>>,
    /// The `User-Agent` of each request.
    agents: Arc<Mutex<Vec<Option<String>>>>,
    delay: Duration,
    status: Option<u16>,
    /// A 200 answer with this body instead of a range list.
    body: Option<&'static str>,
}

async fn range(State(s): State<StandIn>, Path(prefix): Path<String>, headers: HeaderMap) -> (StatusCode, String) {
    let padding = headers.get("add-padding").and_then(|v| v.to_str().ok()).map(str::to_owned);
    s.requests.lock().unwrap().push((prefix.clone(), padding));
    let agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned);
    s.agents.lock().unwrap().push(agent);
    if !s.delay.is_zero() {
        tokio::time::sleep(s.delay).await;
    }
    if let Some(code) = s.status {
        return (StatusCode::from_u16(code).unwrap(), String::new());
    }
    if let Some(body) = s.body {
        return (StatusCode::OK, body.to_owned());
    }
    let hex = sha1_hex(BREACHED);
    let clean = sha1_hex(CLEAN);
    let mut body = String::new();
    if hex.starts_with(&prefix) {
        body.push_str(&format!("{}:42\r\n", &hex[5..]));
    }
    // Padding: the clean password's suffix under its prefix, with count 0, must not count.
    if clean.starts_with(&prefix) {
        body.push_str(&format!("{}:0\r\n", &clean[5..]));
    }
    body.push_str("0018A45C4D1DEF81644B54AB7F969B88D65:3\r\n");
    (StatusCode::OK, body)
}

async fn serve(stand_in: StandIn) -> String {
    let app = axum::Router::new().route("/range/{prefix}", get(range)).with_state(stand_in);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn checker(endpoint: &str, timeout_ms: u64) -> BreachedPasswords {
    BreachedPasswords::new(&BreachedConfig { endpoint: Some(endpoint.into()), timeout_ms, ..BreachedConfig::default() })
        .unwrap()
}

#[tokio::test]
async fn only_the_prefix_leaves_and_padding_does_not_count() {
    let stand_in = StandIn::default();
    let endpoint = serve(stand_in.clone()).await;
    let check = checker(&endpoint, 2000);
    assert_eq!(check.count(BREACHED).await.unwrap(), 42);
    // The clean password's suffix is in the answer as padding (count 0): not breached.
    assert_eq!(check.count(CLEAN).await.unwrap(), 0);
    let requests = stand_in.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        vec![
            (sha1_hex(BREACHED)[..5].to_owned(), Some("true".into())),
            (sha1_hex(CLEAN)[..5].to_owned(), Some("true".into()))
        ]
    );
    // Have I Been Pwned's API documentation asks every request to name its client in a
    // User-Agent and answers 403 without one: then every chosen password would be refused
    // (a 403 is never failed open).
    let agents = stand_in.agents.lock().unwrap().clone();
    assert!(agents.iter().all(|a| a.as_deref().is_some_and(|a| a.starts_with("sspr/"))), "{agents:?}");
}

#[tokio::test]
async fn a_slow_or_failing_service_is_unavailable_and_names_no_password() {
    let slow = serve(StandIn { delay: Duration::from_secs(5), ..StandIn::default() }).await;
    #[allow(clippy::disallowed_methods)] // measures the checker's own timeout, which is real time
    let started = std::time::Instant::now();
    let err = checker(&slow, 200).count(BREACHED).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "the timeout was not applied");
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    assert!(err.to_string().contains("in time"), "{err}");
    for status in [503, 429] {
        let failing = serve(StandIn { status: Some(status), ..StandIn::default() }).await;
        let err = checker(&failing, 2000).count(BREACHED).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{status}");
    }
    let refused = serve(StandIn { status: Some(400), ..StandIn::default() }).await;
    assert_eq!(checker(&refused, 2000).count(BREACHED).await.unwrap_err().kind(), BackendErrorKind::Rejected);
    let text = format!("{err:?} {err} {:?}", checker(&slow, 200));
    assert!(!text.contains(BREACHED) && !text.contains(&sha1_hex(BREACHED)[5..]), "{text}");
}

/// What a `200` can be that is no range list: a proxy's or captive portal's page, an error
/// in JSON, an empty answer. The real service never answers a prefix with no line (every
/// prefix has hundreds of suffixes, and padding adds more).
const NOT_RANGES: [&str; 4] = [
    "",
    "<html><body><h1>Access denied</h1><p>Blocked by policy: 10:42</p></body></html>",
    "{\"error\": \"rate limit exceeded\", \"retryAfter\": 2}",
    "1E4C9B93F3F0682250B6CF8331B7EE68FD8\r\n",
];

#[tokio::test]
async fn a_success_answer_that_is_no_range_list_is_unavailable_never_a_pass() {
    for body in NOT_RANGES {
        let endpoint = serve(StandIn { body: Some(body), ..StandIn::default() }).await;
        let err = checker(&endpoint, 2000).count(BREACHED).await.map(|n| format!("count {n}"));
        assert!(
            matches!(&err, Err(e) if e.kind() == BackendErrorKind::Unavailable),
            "{body:?} read as a range list: {err:?}"
        );
        // Through the engine: closed by default, so the breached password is not set.
        let sspr = engine(checker(&endpoint, 2000), false);
        let refused = change(&sspr, BREACHED).await;
        assert!(matches!(&refused, Err(Error::Backend { .. })), "{body:?}: {refused:?}");
    }
}

#[tokio::test]
async fn an_endpoint_that_already_names_the_range_path_is_refused_at_start() {
    // `{endpoint}/range/{PREFIX}`: an endpoint copied from the API's documentation with its
    // `/range/` asked `/range/range/ABCDE`, which the service does not know, and every
    // chosen password was then refused at run time (a 404 is Rejected: never failed open).
    let endpoint = serve(StandIn::default()).await;
    for with_path in [format!("{endpoint}/range/"), format!("{endpoint}/range"), format!("{endpoint}/range/5BAA6")] {
        let err =
            BreachedPasswords::new(&BreachedConfig { endpoint: Some(with_path.clone()), ..BreachedConfig::default() })
                .map(|_| ())
                .unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Rejected, "{with_path}");
        assert!(err.to_string().contains("without /range"), "{with_path}: {err}");
    }
    // The base URL, with or without its slash, and a mirror under a path of its own, work.
    for base in [endpoint.clone(), format!("{endpoint}/")] {
        assert_eq!(checker(&base, 2000).count(BREACHED).await.unwrap(), 42, "{base}");
    }
}

/// A range service whose answer is `lines` padding lines, then (when `endless`) more, one
/// 16 KiB chunk a millisecond, without end.
async fn serve_long(lines: usize, endless: bool) -> String {
    use axum::body::{Body, Bytes};
    let line = format!("{}:0\r\n", &sha1_hex(CLEAN)[5..]);
    let app = axum::Router::new().route(
        "/range/{prefix}",
        get(move || {
            let head = Bytes::from(line.repeat(lines));
            let chunk = Bytes::from(line.repeat(16 * 1024 / line.len()));
            let rest = futures::stream::unfold(chunk, move |chunk| async move {
                if !endless {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                Some((Ok::<_, std::io::Error>(chunk.clone()), chunk))
            });
            let stream = futures::StreamExt::chain(futures::stream::iter([Ok(head)]), rest);
            async move { Body::from_stream(stream) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_answer_far_longer_than_any_range_list_is_not_read_whole() {
    // The real answers are 30-40 KB. 8 MiB of padding was read whole and taken as "not
    // breached"; an endless one was read (into memory) until the timeout.
    let long = serve_long(8 * 1024 * 1024 / 40, false).await;
    let err = checker(&long, 3000).count(BREACHED).await.map(|n| format!("count {n}"));
    assert!(matches!(&err, Err(e) if e.kind() == BackendErrorKind::Unavailable), "{err:?}");
    let endless = serve_long(0, true).await;
    #[allow(clippy::disallowed_methods)] // the checker's own bound, which is real time
    let started = std::time::Instant::now();
    let err = checker(&endless, 3000).count(BREACHED).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_millis(1500), "read until the timeout: {:?}", started.elapsed());
    assert!(err.to_string().contains("more than"), "{err}");
}

#[tokio::test]
async fn the_offline_directory_and_file_are_read_in_the_published_format() {
    let dir = tempfile::tempdir().unwrap();
    let hex = sha1_hex(BREACHED);
    let clean = sha1_hex(CLEAN);
    std::fs::write(dir.path().join(format!("{}.txt", &hex[..5])), format!("{}:7\r\n{}:0\r\n", &hex[5..], &clean[5..]))
        .unwrap();
    let by_dir = BreachedPasswords::new(&BreachedConfig {
        offline_path: Some(dir.path().to_owned()),
        ..BreachedConfig::default()
    })
    .unwrap();
    assert_eq!(by_dir.count(BREACHED).await.unwrap(), 7);
    assert_eq!(by_dir.count(CLEAN).await.unwrap(), 0, "no file for its prefix, or padding");

    let file = dir.path().join("pwned.txt");
    std::fs::write(&file, format!("0018A45C4D1DEF81644B54AB7F969B88D65F:3\n{}:9\n{clean}:0\n", hex.to_lowercase()))
        .unwrap();
    let by_file =
        BreachedPasswords::new(&BreachedConfig { offline_path: Some(file), ..BreachedConfig::default() }).unwrap();
    assert_eq!(by_file.count(BREACHED).await.unwrap(), 9);
    assert_eq!(by_file.count(CLEAN).await.unwrap(), 0);

    // A directory with no range file at all (the corpus's parent, a download not yet run)
    // answered every password "not breached": refused at start instead.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("README.txt"), "download the corpus here\n").unwrap();
    std::fs::create_dir(empty.path().join("pwned-ranges")).unwrap();
    let err = BreachedPasswords::new(&BreachedConfig {
        offline_path: Some(empty.path().to_owned()),
        ..BreachedConfig::default()
    })
    .map(|_| ())
    .unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
    assert!(err.to_string().contains("no range file"), "{err}");

    // The downloader's single-file output of the whole corpus (tens of GB), read from start to
    // end on every check, outlasted every timeout and left a reading thread behind each time:
    // refused at start, pointing at the directory form. (A sparse file: no disk is used.)
    let corpus = dir.path().join("pwnedpasswords.txt");
    std::fs::File::create(&corpus).unwrap().set_len(2 << 30).unwrap();
    let err = BreachedPasswords::new(&BreachedConfig { offline_path: Some(corpus), ..BreachedConfig::default() })
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
    assert!(err.to_string().contains("directory of range files"), "{err}");

    let missing = BreachedConfig { offline_path: Some(dir.path().join("nope")), ..BreachedConfig::default() };
    assert_eq!(BreachedPasswords::new(&missing).unwrap_err().kind(), BackendErrorKind::Rejected);
    let insecure = BreachedConfig { endpoint: Some("http://range.example.org".into()), ..BreachedConfig::default() };
    assert_eq!(BreachedPasswords::new(&insecure).unwrap_err().kind(), BackendErrorKind::Rejected);
}

/// An engine with one user who may change their password, and `checker`.
fn engine(checker: BreachedPasswords, fail_open: bool) -> Sspr {
    let directory = MemoryDirectory::with_users([MemoryUser {
        mail: None,
        login: "jdoe@example.org".into(),
        display_name: "Jane Doe".into(),
        dn: "uid=jdoe,ou=staff,dc=example,dc=org".into(),
        groups: Vec::new(),
        state: Default::default(),
        password: Some(Password::new("Initial-Pass-2026")),
    }])
    .unwrap();
    let policy = Policy { min_response_ms: 0, password_check_fail_open: fail_open, ..Policy::default() };
    Sspr::builder()
        .directory(directory)
        .notifier(Outbox::new())
        .secret_key(SecretKey::from_hex(&"5a".repeat(32)).unwrap())
        .policy(policy)
        .password_checker(checker)
        .build()
        .unwrap()
}

async fn change(sspr: &Sspr, new: &str) -> Result<(), Error> {
    let ctx = RequestContext::default();
    sspr.change_password("jdoe@example.org", &Password::new("Initial-Pass-2026"), &Password::new(new), &ctx).await
}

#[tokio::test]
async fn through_the_engine_a_breached_password_is_refused_and_a_timeout_fails_closed_or_open() {
    let endpoint = serve(StandIn::default()).await;
    let sspr = engine(checker(&endpoint, 2000), false);
    match change(&sspr, BREACHED).await {
        Err(Error::PasswordRejected { refusal: PasswordRefusal::Breached, reason, suggestions }) => {
            assert!(!reason.contains(BREACHED) && !suggestions.is_empty(), "{reason}");
        }
        other => panic!("expected the breached refusal, got {other:?}"),
    }
    change(&sspr, CLEAN).await.unwrap();

    let slow = serve(StandIn { delay: Duration::from_secs(5), ..StandIn::default() }).await;
    let closed = engine(checker(&slow, 200), false);
    let err = change(&closed, CLEAN).await.unwrap_err();
    assert!(matches!(&err, Error::Backend { source } if source.kind() == BackendErrorKind::Unavailable), "{err:?}");
    assert!(!format!("{err:?} {err} {closed:?}").contains(CLEAN));
    let open = engine(checker(&slow, 200), true);
    change(&open, CLEAN).await.unwrap();
}
