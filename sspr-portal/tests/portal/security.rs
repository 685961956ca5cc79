use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::{Browser, config, portal, reset_to_pin};

fn assert_security_headers(answer: &crate::support::Answer, what: &str) {
    let h = &answer.headers;
    let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP")).to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("form-action 'self'"), "{what}: {csp}");
    assert!(!csp.contains("script-src"), "{what}: no script is allowed at all");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    for path in ["/", "/passwordreset", "/outbox", "/static/portal.css", "/no/such/page"] {
        let answer = browser.get(path).await;
        assert_security_headers(&answer, path);
        if path != "/static/portal.css" {
            assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store", "{path}");
        }
        assert!(!answer.body.contains("<script"), "{path}: no script");
    }
    assert_eq!(browser.get("/no/such/page").await.status, StatusCode::NOT_FOUND);
    let refused = browser.post("/passwordreset/begin", &[("csrf", "x"), ("login", "a@b.c")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_security_headers(&refused, "a refused post");
    let csrf = browser.get("/passwordreset").await.csrf();
    let redirect = browser.post("/passwordreset/restart", &[("csrf", &csrf)]).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert_security_headers(&redirect, "a redirect");
}

/// The `Set-Cookie` headers of an answer, by cookie name.
fn set_cookies(answer: &crate::support::Answer) -> Vec<String> {
    answer.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_cookies_are_http_only_and_strict_and_secure_over_https() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let page = browser.get("/passwordreset").await;
    // An anonymous page sets only the signed CSRF cookie (its token is the form's).
    let cookies = set_cookies(&page);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let csrf = &cookies[0];
    assert!(csrf.starts_with(&format!("sspr_csrf={};", page.csrf())), "{csrf}");
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict") && csrf.contains("Path=/"));
    assert!(csrf.contains("Max-Age=3600"), "as long as a session may last: {csrf}");
    assert!(!csrf.contains("Secure"), "plain http on loopback: {csrf}");
    assert!(page.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
    // The next page reuses the token; the first form that leaves state makes the session.
    let again = browser.get("/passwordreset").await;
    assert!(set_cookies(&again).is_empty() && again.csrf() == page.csrf());
    let begun = browser.post("/passwordreset/begin", &[("csrf", &page.csrf()), ("login", "x@example.org")]).await;
    let cookies = set_cookies(&begun);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let session = &cookies[0];
    assert!(session.starts_with("sspr_session="), "{session}");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/"));
    assert!(!session.contains("Secure") && !session.contains("Max-Age"), "a browser-session cookie: {session}");

    let https = config("public_url = \"https://sspr.example.org\"\n[store]\nkind = \"memory\"\n");
    let portal = sspr_portal::Portal::build(&https).await.unwrap();
    let mut browser = Browser::new(&portal);
    let page = browser.get("/passwordreset").await;
    let cookie = set_cookies(&page).join(" | ");
    assert!(cookie.starts_with("__Host-sspr_csrf=") && cookie.contains("; Secure"), "{cookie}");
    assert!(page.headers[header::STRICT_TRANSPORT_SECURITY].to_str().unwrap().contains("max-age="));
    let begun = browser.post("/passwordreset/begin", &[("csrf", &page.csrf()), ("login", "x@example.org")]).await;
    let cookie = set_cookies(&begun).join(" | ");
    assert!(cookie.starts_with("__Host-sspr_session=") && cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused_and_change_nothing() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let good = browser.get("/passwordreset").await.csrf();
    let mut other = Browser::new(&portal);
    let foreign = other.get("/passwordreset").await.csrf();
    let sent = portal.outbox().unwrap().messages().len();

    for (what, token) in [("missing", ""), ("wrong", "f".repeat(64).as_str()), ("another session's", foreign.as_str())]
    {
        let answer = browser.post("/passwordreset/begin", &[("csrf", token), ("login", "jane.doe@example.org")]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{what} token");
        assert!(answer.body.contains("Your session has expired or the form is stale."), "{what}");
    }
    // No field at all, or a body that is not a form.
    assert_eq!(browser.post_raw("/passwordreset/begin", "").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.post_raw("/passwordreset/begin", "login=jane.doe@example.org").await.status,
        StatusCode::FORBIDDEN
    );
    // The right token without the session cookie (a cross-site post) is refused as well.
    let jar = browser.cookies.clone();
    browser.clear_cookies();
    let answer = browser.post("/passwordreset/begin", &[("csrf", &good), ("login", "jane.doe@example.org")]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    browser.cookies = jar;
    // And a post whose Origin is another site, even with the right token.
    let request = Request::post("/passwordreset/begin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(format!("csrf={good}&login=jane.doe%40example.org")))
        .unwrap();
    assert_eq!(browser.send(request).await.status, StatusCode::FORBIDDEN);
    // `Origin: null` (what browsers send under Referrer-Policy: no-referrer) proves nothing
    // either way: the token decides. A wrong token is refused, the right one is not.
    let post = |token: &str| {
        Request::post("/passwordreset/restart")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "null")
            .body(Body::from(format!("csrf={token}")))
            .unwrap()
    };
    assert_eq!(browser.send(post(&foreign)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.send(post(&good)).await.status, StatusCode::SEE_OTHER);

    // Nothing was started: the page still asks for the login, nothing was sent.
    assert!(browser.get("/passwordreset").await.body.contains("name=\"login\""));
    assert_eq!(portal.outbox().unwrap().messages().len(), sent);
    // Every later step refuses a bad token too.
    let page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    assert!(page.body.contains("name=\"pin\""));
    for path in [
        "/passwordreset/send",
        "/passwordreset/verify",
        "/passwordreset/complete",
        "/passwordreset/another",
        "/passwordreset/restart",
    ] {
        let answer = browser.post(path, &[("csrf", &foreign), ("pin", "00000000")]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
    }
    let still = browser.get("/passwordreset").await;
    assert!(still.by_id("pin-status").unwrap().contains("5 attempts left"), "no attempt was used");
}

#[tokio::test]
async fn no_secret_or_flow_id_in_any_url_or_page() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    // Every form posts; no link or action carries a query.
    assert!(!page.body.contains("method=\"get\""));
    assert!(!page.body.contains("action=\"/passwordreset?"));
    // The flow id (32 hex digits, a credential for completing the reset) never appears in a
    // page or the cookie (the session token there is 64 hex digits), nor in the audit log,
    // which refers to the flow by a keyed `flow_ref` instead.
    let flow_ids = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_ascii_hexdigit()).filter(|run| run.len() == 32).map(str::to_owned).collect()
    };
    assert!(flow_ids(&page.body).is_empty(), "{:?}", flow_ids(&page.body));
    assert!(flow_ids(&browser.cookie().unwrap()).is_empty());
    let audit = std::fs::read_to_string(portal.audit_log_path()).unwrap();
    assert!(audit.contains("\"flow_ref\":\"") && !audit.contains("flow_id"), "{audit}");
}

#[tokio::test]
async fn the_secret_key_file_is_created_once_and_private() {
    let config = config("[store]\nkind = \"memory\"\n");
    let _portal = sspr_portal::Portal::build(&config).await.unwrap();
    let path = config.data_dir.join("secret.key");
    let key = std::fs::read_to_string(&path).unwrap();
    assert_eq!(key.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let _again = sspr_portal::Portal::build(&config).await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), key);
}

/// A key file of zeros (`head -c 32 /dev/zero | xxd -p`, a template's placeholder, a generator
/// that failed) is a key everyone knows: the portal does not start on it.
#[tokio::test]
async fn a_key_file_of_zeros_is_refused_at_start() {
    let config = config("[store]\nkind = \"memory\"\n");
    std::fs::create_dir_all(&config.data_dir).unwrap();
    std::fs::write(config.data_dir.join("secret.key"), format!("{}\n", "0".repeat(64))).unwrap();
    let Err(err) = sspr_portal::Portal::build(&config).await else { panic!("a zero key is refused") };
    assert!(matches!(&err, sspr_core::Error::Config(m) if m.contains("all zero")), "{err}");
}

/// A seed file of many users with one bad value (a phone number no plan knows, a mailbox that
/// is not an address) is refused naming that user: "invalid phone: is not a valid number"
/// alone sent the operator through every line of the file.
#[tokio::test]
async fn a_bad_value_in_the_seed_file_names_its_user() {
    let dir = crate::support::temp_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (field, value) in [("phone", "+12"), ("mail", "not an address")] {
        let seed = dir.join(format!("seed-{field}.json"));
        let users = serde_json::json!([
            {"login": "ok@example.org", "display_name": "Ok", "dn": "uid=ok,ou=staff,dc=example,dc=org", "enabled": true},
            {"login": "bad.one@example.org", "display_name": "Bad", "dn": "uid=bad,ou=staff,dc=example,dc=org",
             "enabled": true, field: value},
        ]);
        std::fs::write(&seed, users.to_string()).unwrap();
        let config = config(&format!(
            "[store]\nkind = \"memory\"\n[directory]\nkind = \"demo\"\nseed_file = {:?}\n",
            seed.display().to_string()
        ));
        let Err(err) = sspr_portal::Portal::build(&config).await else { panic!("a bad {field} is refused") };
        let text = err.to_string();
        assert!(text.contains("bad.one@example.org") && text.contains(field), "{field}: {text}");
    }
}

/// With a key ring (`secret_key_file` and `previous_key_files`), a key file that is not a key
/// (a truncated copy, a placeholder) is named in the start-up error: "the secret key is not
/// valid hex" alone left the operator guessing which of the files to fix.
#[tokio::test]
async fn a_bad_key_file_is_named_in_the_start_up_error() {
    let mut config = config("[store]\nkind = \"memory\"\n");
    let ring = config.data_dir.join("ring");
    std::fs::create_dir_all(&ring).unwrap();
    let previous = ring.join("secret.key.2025");
    std::fs::write(&previous, "not a key\n").unwrap();
    config.previous_key_files = vec![previous.clone()];
    let Err(err) = sspr_portal::Portal::build(&config).await else { panic!("a bad previous key is refused") };
    let text = err.to_string();
    assert!(text.contains(&previous.display().to_string()) && text.contains("hex"), "{text}");

    let current = ring.join("short.key");
    std::fs::write(&current, "abcd\n").unwrap();
    config.previous_key_files.clear();
    config.secret_key_file = Some(current.clone());
    let Err(err) = sspr_portal::Portal::build(&config).await else { panic!("a short key is refused") };
    let text = err.to_string();
    assert!(text.contains(&current.display().to_string()), "{text}");
}

/// The start-up summary names every endpoint, but not the password or token its URL may carry
/// (`https://user:password@collector/`, `?token=`): the summary goes to the service's log.
#[tokio::test]
async fn the_start_up_summary_shows_no_password_or_token_of_an_endpoint() {
    let mut config = config(concat!(
        "[sms]\nkind = \"twilio\"\naccount_sid = \"AC1\"\nauth_token = \"t\"\nfrom = \"+15005550006\"\n",
        "base_url = \"https://AC1:s3cret@api.twilio.example\"\n",
        "[password_checks.breached]\nendpoint = \"https://range.example/api?key=s3cret\"\n",
    ));
    config.otlp_endpoint = Some("https://sspr:s3cret@collector.example:4318/v1/traces?token=s3cret".to_owned());
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let summary = portal.summary();
    assert!(
        summary.contains("collector.example:4318/v1/traces") && summary.contains("api.twilio.example"),
        "{summary}"
    );
    assert!(summary.contains("range.example/api"), "{summary}");
    assert!(!summary.contains("s3cret"), "{summary}");
}

/// A key file the operator wrote with the usual umask (`openssl rand -hex 32 > secret.key`:
/// 0644) hands the server key to every local account (decoy masks told from real ones, sealed
/// sessions opened): the start says so, loudly; the file the portal creates gets no warning.
#[cfg(unix)]
#[tokio::test]
async fn a_key_file_other_accounts_may_read_is_warned_of_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let config = config("[store]\nkind = \"memory\"\n");
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    assert!(!portal.summary().contains("WARNING"), "{}", portal.summary());
    let path = config.data_dir.join("secret.key");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let summary = portal.summary();
    assert!(summary.contains("WARNING") && summary.contains("644") && summary.contains("chmod 600"), "{summary}");
    let key = std::fs::read_to_string(&path).unwrap();
    assert!(!summary.contains(key.trim()), "the key itself is never printed");
}

/// `--data-dir /tmp/p` (as the README's example) on a shared host: another account that made
/// `/tmp/p` 0777 first can plant `secret.key` (a key it knows) and `sspr.sqlite` (its own
/// contacts for every user). A data directory every account may write in is refused, with
/// nothing written in it.
#[cfg(unix)]
#[tokio::test]
async fn a_data_directory_everyone_may_write_in_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mut config = config("");
    config.data_dir = config.data_dir.join("shared");
    std::fs::create_dir(&config.data_dir).unwrap();
    std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = sspr_portal::Portal::build(&config).await.unwrap_err().to_string();
    assert!(err.contains("data directory") && err.contains("777"), "{err}");
    assert_eq!(std::fs::read_dir(&config.data_dir).unwrap().count(), 0, "nothing read or written there");
    std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert!(sspr_portal::Portal::build(&config).await.is_err(), "sticky, as /tmp: still refused");
    std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    assert!(sspr_portal::Portal::build(&config).await.is_ok());
}

/// `/outbox` lists every notice with its PIN. Served to the internet, it hands anyone every
/// user's reset: a portal put behind a TLS proxy (`public_url = "https://..."`) or on a public
/// address with the default notifier (the outbox, when `[notifier]` was forgotten) must not
/// serve it unless `outbox_page = true` says so; on this host alone it stays on by default.
#[tokio::test]
async fn the_outbox_page_is_not_served_beyond_this_host_by_default() {
    let build = |toml: &'static str| async move { sspr_portal::Portal::build(&config(toml)).await.unwrap() };
    let cases = [
        ("", StatusCode::OK),
        ("public_url = \"http://localhost:8080\"\n", StatusCode::OK),
        ("public_url = \"https://sspr.example.org\"\n", StatusCode::NOT_FOUND),
        ("listen = \"0.0.0.0:8080\"\nallow_insecure_http = true\n", StatusCode::NOT_FOUND),
        ("public_url = \"https://sspr.example.org\"\noutbox_page = true\n", StatusCode::OK),
    ];
    for (toml, expected) in cases {
        let portal = build(toml).await;
        let mut browser = Browser::new(&portal);
        let page = browser.get("/outbox").await;
        assert_eq!(page.status, expected, "{toml:?}");
        let home = browser.get("/").await;
        assert_eq!(
            home.body.contains("href=\"/outbox\""),
            expected == StatusCode::OK,
            "{toml:?}: the home page's link"
        );
        // The PINs still go to the outbox (the tests and the operator read it in process).
        assert!(portal.outbox().is_some(), "{toml:?}");
    }
}

/// Behind a reverse proxy on this host (nginx, Caddy to `127.0.0.1:8080`) with `public_url`
/// left out, `listen` is loopback but every visitor comes from the internet: the outbox page,
/// every PIN, would be theirs (a reset started for anyone, its PIN read off `/outbox`). A
/// configured `trusted_proxies` says so, and so does a request the proxy forwarded; the
/// developer's own browser on this host still gets the page.
#[tokio::test]
async fn the_outbox_page_is_not_served_through_a_reverse_proxy_by_default() {
    let proxied = |name: &'static str, value: &'static str| {
        Request::get("/outbox").header(name, value).body(axum::body::Body::empty()).unwrap()
    };
    let portal = sspr_portal::Portal::build(&config("")).await.unwrap();
    let mut browser = Browser::new(&portal);
    assert_eq!(browser.get("/outbox").await.status, StatusCode::OK, "this host's own browser");
    for (name, value) in [
        ("x-forwarded-for", "203.0.113.7"),
        ("forwarded", "for=203.0.113.7;proto=https"),
        ("x-real-ip", "203.0.113.7"),
        ("x-forwarded-host", "sspr.example.org"),
    ] {
        assert_eq!(browser.send(proxied(name, value)).await.status, StatusCode::NOT_FOUND, "{name}");
    }
    let behind = sspr_portal::Portal::build(&config("trusted_proxies = [\"127.0.0.1\"]\n")).await.unwrap();
    assert_eq!(Browser::new(&behind).get("/outbox").await.status, StatusCode::NOT_FOUND, "a configured proxy");
    let explicit =
        sspr_portal::Portal::build(&config("outbox_page = true\ntrusted_proxies = [\"127.0.0.1\"]\n")).await.unwrap();
    let mut browser = Browser::new(&explicit);
    assert_eq!(browser.send(proxied("x-forwarded-for", "203.0.113.7")).await.status, StatusCode::OK, "asked for");
}

/// DNS rebinding: a page the developer visits (`http://rebind.attacker.example:8080/`) has its
/// name re-pointed at 127.0.0.1, so the developer's own browser sends the page's script to the
/// loopback portal as a same-origin request: no forwarding header, a loopback peer, and only
/// the `Host` header names the attacker's site. The script then reads `/outbox` (every PIN:
/// it starts a reset for anyone and reads its code) as if it were this host's own browser.
/// A page on by default must answer only a `Host` that names this host.
#[tokio::test]
async fn the_outbox_page_is_not_served_to_a_rebound_dns_name_by_default() {
    let with_host = |host: &'static str| {
        Request::get("/outbox").header(axum::http::header::HOST, host).body(axum::body::Body::empty()).unwrap()
    };
    let portal = sspr_portal::Portal::build(&config("")).await.unwrap();
    let mut browser = Browser::with_ip(&portal, "127.0.0.1");
    for host in
        ["rebind.attacker.example:8080", "rebind.attacker.example", "203.0.113.7:8080", "localhost.attacker.example"]
    {
        let page = browser.send(with_host(host)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "Host: {host}: {}", page.main());
    }
    for host in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "127.0.0.2", "dev.localhost:8080"] {
        assert_eq!(browser.send(with_host(host)).await.status, StatusCode::OK, "Host: {host}: this host's own browser");
    }
    // Asked for by the operator (`outbox_page = true`), the page answers whatever the name.
    let explicit = sspr_portal::Portal::build(&config("outbox_page = true\n")).await.unwrap();
    let mut browser = Browser::with_ip(&explicit, "127.0.0.1");
    assert_eq!(browser.send(with_host("rebind.attacker.example:8080")).await.status, StatusCode::OK);
}

/// The data directory holds the contact store (every user's private address and number), the
/// audit trail and the server key: a portal creating it leaves it to its own user (0700), so
/// another account on the host cannot read the contacts in the SQLite file (itself created
/// 0600, wherever it is). An existing directory keeps the permissions it has.
#[tokio::test]
async fn a_data_directory_the_portal_creates_is_private() {
    let mut config = config("");
    let parent = config.data_dir.clone();
    config.data_dir = parent.join("new").join("data");
    let _portal = sspr_portal::Portal::build(&config).await.unwrap();
    assert!(config.data_dir.join("sspr.sqlite").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&config.data_dir).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        let _again = sspr_portal::Portal::build(&config).await.unwrap();
        assert_eq!(std::fs::metadata(&config.data_dir).unwrap().permissions().mode() & 0o777, 0o750);
    }
}
