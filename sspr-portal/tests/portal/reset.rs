use axum::http::StatusCode;
use sspr_core::Clock;

use crate::support::{Browser, portal, reset_to_pin};

#[tokio::test]
async fn a_whole_reset_through_the_pages() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let pin_page = reset_to_pin(&mut browser, "Jane.Doe@Example.org").await;
    assert_eq!(pin_page.status, StatusCode::OK);
    assert!(pin_page.main().contains("A code was sent to j***@p***.example."), "{}", pin_page.main());
    let status = pin_page.by_id("pin-status").unwrap();
    assert!(status.contains("Valid until") && status.contains("5 attempts left"), "{status}");
    let csrf = pin_page.csrf();

    // A wrong PIN says how many attempts are left.
    let wrong = browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "00000000")]).await;
    assert_eq!(wrong.alert().as_deref(), Some("The code is wrong. 4 attempts left."));
    assert!(wrong.by_id("pin-status").unwrap().contains("4 attempts left"));

    // The right one, read from the outbox page as the user would read their mail.
    let outbox = browser.get("/outbox?to=jane@private.example").await;
    let at = outbox.body.find("Your code is ").expect("the PIN mail is in the outbox") + "Your code is ".len();
    let pin = outbox.body[at..at + 8].to_owned();
    assert!(pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", &pin)]).await;
    assert!(modes.body.contains("value=\"temporary\""), "{}", modes.main());

    // Verification moved the session to a new id and token: the page's own token posts on.
    let done = browser.submit("/passwordreset/complete", &[("csrf", &modes.csrf()), ("mode", "temporary")]).await;
    assert_eq!(done.status, StatusCode::OK);
    let temporary = done.by_id("temporary-password").expect("the temporary password is shown");
    assert_eq!(temporary.chars().count(), 16, "{temporary}");
    assert!(done.body.contains("You must change it when you next sign in."));
    assert_eq!(done.headers["cache-control"], "no-store");

    // Shown once: the page afterwards is the start again, without the password.
    let after = browser.get("/passwordreset").await;
    assert!(!after.body.contains(&temporary));
    assert!(after.body.contains("name=\"login\""));
    let status = portal.sspr().status("jane.doe@example.org").await.unwrap();
    assert!(status.last_reset_at.is_some());

    // Neither the PIN nor the password reached the audit log or any notice but the PIN mail.
    let audit = std::fs::read_to_string(portal_audit_path(&portal)).unwrap_or_default();
    assert!(audit.contains("reset_completed"), "the audit log is written");
    assert!(!audit.contains(&pin) && !audit.contains(&temporary));
    let outbox = portal.outbox().unwrap();
    assert!(outbox.messages().iter().all(|n| !n.render().body.contains(&temporary)));
}

fn portal_audit_path(portal: &sspr_portal::Portal) -> std::path::PathBuf {
    portal.audit_log_path().to_owned()
}

#[tokio::test]
async fn an_unknown_login_looks_like_a_known_one() {
    let portal = portal().await;
    let mut known = Browser::with_ip(&portal, "192.0.2.10");
    let mut unknown = Browser::with_ip(&portal, "192.0.2.11");
    let sent_before = portal.outbox().unwrap().messages().len();
    let a = reset_to_pin(&mut known, "jane.doe@example.org").await;
    let sent_by_known = portal.outbox().unwrap().messages().len() - sent_before;
    let b = reset_to_pin(&mut unknown, "nobody.here@example.org").await;
    assert_eq!(portal.outbox().unwrap().messages().len() - sent_before, sent_by_known, "nothing sent to a decoy");

    // The same page, save the masked address and the tokens.
    let shape = |page: &crate::support::Answer| {
        let mut main = page.main().replace(&page.csrf(), "TOKEN");
        let masked_start = main.find("A code was sent to ").unwrap() + "A code was sent to ".len();
        let masked_end = main[masked_start..].find('<').unwrap() + masked_start;
        main.replace_range(masked_start..masked_end, "MASKED");
        // The minute of expiry may differ by one.
        let status_start = main.find("Valid until ").unwrap();
        main.replace_range(status_start..status_start + "Valid until 00:00".len(), "Valid until HH:MM");
        main
    };
    assert_eq!(shape(&a), shape(&b));
    // The masked addresses have the same shape too: a decoy's top-level domain is the demo's
    // (`.example`), not a real-world one that would tell it apart.
    let tld = |page: &crate::support::Answer| {
        let main = page.main();
        let start = main.find("A code was sent to ").unwrap() + "A code was sent to ".len();
        let masked = &main[start..start + main[start..].find('<').unwrap()];
        masked.trim_end_matches('.').rsplit('.').next().unwrap().to_owned()
    };
    assert_eq!(tld(&a), "example");
    // A decoy offers what a real user may have: sometimes a phone only (about one in six),
    // then its mask has one of the demo's country codes (`decoy_country_codes` 44 and 49:
    // Jane's UK number, the German one Max registers in the walkthrough), half the time +49.
    let decoy = b.main();
    if decoy.contains("A code was sent to +") {
        let demo_country = ["+44 ", "+49 "].iter().any(|cc| decoy.contains(&format!("A code was sent to {cc}")));
        assert!(demo_country, "{decoy}");
    } else {
        assert_eq!(tld(&b), tld(&a));
    }

    // A wrong PIN reads the same too.
    let wa = known.submit("/passwordreset/verify", &[("csrf", &a.csrf()), ("pin", "12345678")]).await;
    let wb = unknown.submit("/passwordreset/verify", &[("csrf", &b.csrf()), ("pin", "12345678")]).await;
    assert_eq!(wa.alert(), wb.alert());
    assert_eq!(wa.status, wb.status);
}

#[tokio::test]
async fn expired_and_voided_flows_send_the_user_back_to_the_start() {
    let config =
        crate::support::config("[policy]\nmin_response_ms = 0\nmax_wrong_pins = 3\n[store]\nkind = \"memory\"\n");
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let mut browser = Browser::new(&portal);
    let page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    let csrf = page.csrf();
    let mut last = None;
    for _ in 0..3 {
        last = Some(browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "11111111")]).await);
    }
    let last = last.unwrap();
    assert_eq!(last.alert().as_deref(), Some("Too many wrong codes: this code is void. Please start again."));
    assert!(last.body.contains("name=\"login\""), "back at the start");
    // Steps out of order are refused without harm.
    let stale = browser.submit("/passwordreset/complete", &[("csrf", &csrf), ("mode", "temporary")]).await;
    assert_eq!(stale.alert().as_deref(), Some("This step is not possible now. Please start again."));
    assert!(portal.sspr().status("jane.doe@example.org").await.unwrap().last_reset_at.is_none());
}

#[tokio::test]
async fn german_from_accept_language() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    browser.accept_language = Some("de-CH, de;q=0.9, en;q=0.5");
    let page = browser.get("/passwordreset").await;
    assert!(page.body.contains("<html lang=\"de\">"));
    assert!(page.body.contains("Kennwort zurücksetzen"));
    let pin = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    assert!(pin.main().contains("Ein Code wurde an j***@p***.example gesendet."), "{}", pin.main());
    let wrong = browser.submit("/passwordreset/verify", &[("csrf", &pin.csrf()), ("pin", "00000000")]).await;
    assert_eq!(wrong.alert().as_deref(), Some("Der Code ist falsch. Noch 4 Versuche."));
    // The PIN mail is German as well.
    let mail = portal.outbox().unwrap().messages_to("jane@private.example");
    assert_eq!(mail.last().unwrap().render().subject, "Ihr Code zum Zurücksetzen des Kennworts");
}

#[tokio::test]
async fn per_ip_limits_reach_the_engine() {
    let config =
        crate::support::config("[policy]\nmin_response_ms = 0\nip_begins_per_hour = 3\n[store]\nkind = \"memory\"\n");
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let mut browser = Browser::with_ip(&portal, "198.51.100.7");
    let csrf = browser.get("/passwordreset").await.csrf();
    for _ in 0..3 {
        let page = browser.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "x@example.org")]).await;
        assert_eq!(page.alert(), None);
        browser.submit("/passwordreset/restart", &[("csrf", &csrf)]).await;
    }
    let limited = browser.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "x@example.org")]).await;
    assert!(limited.alert().unwrap().starts_with("Too many requests."), "{:?}", limited.alert());
    // Another address is not limited.
    let mut other = Browser::with_ip(&portal, "198.51.100.8");
    let csrf = other.get("/passwordreset").await.csrf();
    let page = other.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "x@example.org")]).await;
    assert_eq!(page.alert(), None);
}

#[tokio::test]
async fn the_minimum_response_time_pads_anonymous_answers() {
    let config = crate::support::config("[policy]\nmin_response_ms = 250\n[store]\nkind = \"memory\"\n");
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let clock = sspr_core::SystemClock;
    let mut browser = Browser::new(&portal);
    let csrf = browser.get("/passwordreset").await.csrf();
    for login in ["jane.doe@example.org", "nobody@example.org"] {
        let started = clock.now();
        browser.post("/passwordreset/begin", &[("csrf", &csrf), ("login", login)]).await;
        let took = clock.now() - started;
        assert!(took >= time::Duration::milliseconds(250), "{login}: {took}");
    }
}

#[tokio::test]
async fn sqlite_keeps_contacts_and_the_key_across_restarts() {
    let config = crate::support::config("[policy]\nmin_response_ms = 0\n");
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    assert!(portal.summary().contains("SQLite"), "{}", portal.summary());
    let admin = sspr_core::Actor::Admin("test".into());
    let ctx = sspr_core::RequestContext::default();
    portal.sspr().set_enabled(&admin, "bob.builder@example.org", true, &ctx).await.unwrap();
    let key = std::fs::read_to_string(config.data_dir.join("secret.key")).unwrap();
    drop(portal);

    let again = sspr_portal::Portal::build(&config).await.unwrap();
    assert!(again.sspr().status("bob.builder@example.org").await.unwrap().enabled, "kept in SQLite");
    assert_eq!(std::fs::read_to_string(config.data_dir.join("secret.key")).unwrap(), key);
    let mut browser = Browser::new(&again);
    let page = reset_to_pin(&mut browser, "bob.builder@example.org").await;
    assert!(page.main().contains("b***@h***.example"));
    assert!(again.outbox().unwrap().last_pin_to("bob@home.example").is_some());
}

/// Walk jane's reset up to the completion form; the form's CSRF token.
async fn verified(portal: &sspr_portal::Portal, browser: &mut Browser) -> String {
    let page = reset_to_pin(browser, "jane.doe@example.org").await;
    let pin = portal.outbox().unwrap().last_pin_to("jane@private.example").unwrap();
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &page.csrf()), ("pin", &pin)]).await;
    assert!(
        modes.body.contains("value=\"chosen\"") && modes.body.contains("name=\"new_password\""),
        "{}",
        modes.main()
    );
    modes.csrf()
}

#[tokio::test]
async fn a_chosen_password_or_an_unlock_when_the_policy_allows_them() {
    let config = crate::support::config(
        "[policy]\nmin_response_ms = 0\nallow_chosen_password = true\n[store]\nkind = \"memory\"\n",
    );
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let mut browser = Browser::new(&portal);
    let csrf = verified(&portal, &mut browser).await;
    let mut complete = async |a: &str, b: &str| {
        let fields = [("csrf", csrf.as_str()), ("mode", "chosen"), ("new_password", a), ("new_password_again", b)];
        browser.submit("/passwordreset/complete", &fields).await
    };
    let answer = complete("Tr0ub4dor&3-long", "Tr0ub4dor&3-lonG").await;
    assert_eq!(answer.alert().as_deref(), Some("The two passwords differ."));
    let answer = complete("password", "password").await;
    assert!(answer.alert().unwrap().starts_with("The new password is too simple."), "{:?}", answer.alert());
    let done = complete("Tr0ub4dor&3-long", "Tr0ub4dor&3-long").await;
    assert!(done.body.contains("Your password was changed."), "{}", done.main());
    assert!(!done.body.contains("Tr0ub4dor"), "the chosen password is not echoed");

    // Unlock only: the account is unlocked, the password stays.
    let mut again = Browser::with_ip(&portal, "192.0.2.44");
    let csrf = verified(&portal, &mut again).await;
    let done = again.submit("/passwordreset/complete", &[("csrf", &csrf), ("mode", "unlock_only")]).await;
    assert!(done.body.contains("Your account is unlocked."), "{}", done.main());
}

#[tokio::test]
async fn a_whole_reset_with_sessions_in_the_state_store() {
    let config =
        crate::support::config("sessions_in_state = true\n[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n");
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    assert!(portal.summary().contains("sessions: in the state store"), "{}", portal.summary());
    let mut browser = Browser::new(&portal);
    let pin_page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    let pin = portal.outbox().unwrap().last_pin_to("jane@private.example").unwrap();
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &pin_page.csrf()), ("pin", &pin)]).await;
    assert!(modes.body.contains("value=\"temporary\""), "{}", modes.main());
    let done = browser.submit("/passwordreset/complete", &[("csrf", &modes.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
    assert_eq!(portal.session_count(), 0, "nothing held in process memory");
}

#[tokio::test]
async fn a_chosen_password_is_refused_with_zxcvbns_feedback_and_the_configured_checks() {
    let words = std::env::temp_dir().join(format!("sspr-banned-{}.txt", std::process::id()));
    std::fs::write(&words, "lighthouse\n").unwrap();
    let toml = format!(
        "[policy]\nmin_response_ms = 0\nallow_chosen_password = true\n[store]\nkind = \"memory\"\n\
         [password_checks]\nbanned_words_file = {:?}\n",
        words.display().to_string()
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
    let mut browser = Browser::new(&portal);
    let pin_page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    let outbox = browser.get("/outbox?to=jane@private.example").await;
    let at = outbox.body.find("Your code is ").unwrap() + "Your code is ".len();
    let pin = outbox.body[at..at + 8].to_owned();
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &pin_page.csrf()), ("pin", &pin)]).await;
    assert!(modes.body.contains("value=\"chosen\""), "{}", modes.main());

    let choose =
        |password: &'static str| [("mode", "chosen"), ("new_password", password), ("new_password_again", password)];
    let [m, p, a] = choose("Password123!");
    let weak = browser.submit("/passwordreset/complete", &[("csrf", &modes.csrf()), m, p, a]).await;
    let alert = weak.alert().unwrap_or_default();
    assert!(alert.contains("too easy to guess") && alert.contains("commonly used password"), "{alert}");
    assert!(alert.contains("Add another word or two"), "zxcvbn's suggestion is shown: {alert}");
    assert!(!weak.body.contains("Password123!"), "the password is never echoed");

    let [m, p, a] = choose("Lighthouse-Quartz-Meadow-8");
    let banned = browser.submit("/passwordreset/complete", &[("csrf", &weak.csrf()), m, p, a]).await;
    let alert = banned.alert().unwrap_or_default();
    assert!(alert.contains("does not allow"), "{alert}");
    assert!(!banned.body.to_lowercase().contains("lighthouse"));

    let [m, p, a] = choose("Tulip-Harbour-Engine-7");
    let done = browser.submit("/passwordreset/complete", &[("csrf", &banned.csrf()), m, p, a]).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.alert().is_none(), "{:?}", done.alert());
    let _ = std::fs::remove_file(&words);
}

/// `[audit] kind = "sqlite"`: besides `audit.jsonl`, every event reaches the configured sink
/// (through its queue, flushed by `flush_audit`), and its summary counts the reset.
#[tokio::test]
async fn a_configured_audit_sink_receives_the_events() {
    use sspr_backends::audit_sql::AuditReport;
    let db = crate::support::temp_dir().join("audit.sqlite");
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[audit]\nkind = \"sqlite\"\npath = {:?}\n",
        db.display().to_string()
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
    assert!(portal.summary().contains("audit: SQLite"), "{}", portal.summary());
    let mut browser = Browser::new(&portal);
    let pin_page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    assert!(pin_page.main().contains("A code was sent to"));
    portal.flush_audit().await;
    let report = sspr_backends::sqlite::SqliteStore::open(&db).unwrap();
    let summary = report.audit_summary(1, sspr_core::SystemClock.now()).await.unwrap();
    assert_eq!(summary.begins, 1, "{summary:?}");
    let file = std::fs::read_to_string(portal.audit_log_path()).unwrap();
    assert!(file.contains("reset_requested"), "the file is still written");
}

/// `/admin/reports`: with the audit trail in SQLite, an admin sees the figures of the last 30
/// days and their charts as inline SVG (no script); without a SQL trail, how to get them;
/// nobody else sees anything.
#[tokio::test]
async fn admin_reports_show_the_last_30_days_from_the_sql_audit_trail() {
    let db = crate::support::temp_dir().join("audit.sqlite");
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[audit]\nkind = \"sqlite\"\npath = {:?}\n",
        db.display().to_string()
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
    let mut visitor = Browser::new(&portal);
    reset_to_pin(&mut visitor, "jane.doe@example.org").await;
    reset_to_pin(&mut Browser::with_ip(&portal, "192.0.2.50"), "nobody@example.org").await;
    portal.flush_audit().await;
    // Signed out: sent to the sign-in.
    assert_eq!(visitor.get("/admin/reports").await.status, StatusCode::SEE_OTHER);

    let mut admin = Browser::with_ip(&portal, "192.0.2.99");
    let csrf = admin.get("/admin").await.csrf();
    let password = sspr_portal::demo::DEMO_PASSWORD;
    admin.submit("/admin/signin", &[("csrf", &csrf), ("login", "helpdesk@example.org"), ("password", password)]).await;
    let page = admin.get("/admin/reports").await;
    assert_eq!(page.status, StatusCode::OK);
    let main = page.main();
    let figures = &page.body[page.body.find("id=\"report-figures\"").expect("the figures")..];
    let cells: Vec<&str> = figures.split("<td>").skip(1).take(2).map(|c| c.split('<').next().unwrap()).collect();
    assert_eq!(cells, ["2", "50.0 %"], "two resets begun, one a decoy: {main}");
    for chart in ["chart-resets", "chart-registrations", "chart-blocks"] {
        assert!(page.body.contains(&format!("id=\"{chart}\"")), "{chart}");
    }
    assert!(page.body.contains("<svg") && !page.body.contains("<script"), "charts drawn on the server, no script");
    assert!(main.contains("unknown_user"), "the decoy's reason is listed: {main}");
    assert!(!page.body.contains("nobody@example.org"), "no login typed by a visitor reaches the page");

    // A portal without a SQL audit trail says how to get one.
    let plain = crate::support::portal().await;
    let mut admin = Browser::with_ip(&plain, "192.0.2.99");
    let csrf = admin.get("/admin").await.csrf();
    admin.submit("/admin/signin", &[("csrf", &csrf), ("login", "helpdesk@example.org"), ("password", password)]).await;
    let page = admin.get("/admin/reports").await;
    assert!(page.body.contains("id=\"reports-unavailable\""), "{}", page.main());
}

/// "Send a new code" before the resend cooldown has passed (the first mail is slow; the user
/// is impatient): the engine refuses the new PIN, and the code already sent stays good. The
/// page used to stay on the methods form, so the code arriving a moment later could no longer
/// be typed anywhere (a verify posted from the PIN form still open in another tab ended the
/// whole reset). The refusal now goes back to the PIN form, saying when a new code can be
/// sent; an unknown login is answered the same way.
#[tokio::test]
async fn a_new_code_asked_for_too_soon_keeps_the_code_already_sent() {
    let portal = portal().await;
    let mut shapes = Vec::new();
    for (login, ip) in [("jane.doe@example.org", "192.0.2.41"), ("nobody.known@example.org", "192.0.2.42")] {
        let mut browser = Browser::with_ip(&portal, ip);
        let pin_page = reset_to_pin(&mut browser, login).await;
        let csrf = pin_page.csrf();
        let methods = browser.submit("/passwordreset/another", &[("csrf", &csrf)]).await;
        assert!(methods.body.contains("action=\"/passwordreset/send\""), "{login}: {}", methods.main());
        let marker = "name=\"method\" value=\"";
        let first = &methods.body[methods.body.find(marker).unwrap() + marker.len()..];
        let method = &first[..first.find('"').unwrap()];
        let refused = browser.submit("/passwordreset/send", &[("csrf", &csrf), ("method", method)]).await;
        let alert = refused.alert().unwrap_or_default();
        assert!(alert.starts_with("Too many requests."), "{login}: {alert}");
        assert!(refused.body.contains("action=\"/passwordreset/verify\""), "{login}: the PIN form: {}", refused.main());
        assert_eq!(refused.by_id("pin-status"), pin_page.by_id("pin-status"), "{login}: the same code, still good");
        // The page's shape, save the token, the masked destination and the times.
        let mut shape = refused.main().replace(&csrf, "");
        let sent = shape.find("A code was sent to ").unwrap() + "A code was sent to ".len();
        let masked_end = shape[sent..].find('<').unwrap() + sent;
        shape.replace_range(sent..masked_end, "MASKED");
        shapes.push(shape.replace(char::is_numeric, "0"));
        if login.starts_with("jane") {
            portal.sspr().flush_deliveries().await;
            let pin = portal.outbox().unwrap().last_pin_to("jane@private.example").unwrap();
            let verified = browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", &pin)]).await;
            assert!(verified.body.contains("action=\"/passwordreset/complete\""), "{}", verified.main());
        }
    }
    assert_eq!(shapes[0], shapes[1], "a real and an unknown login read alike");

    // "Send a new code", then the code typed into the PIN form still open in another tab (or
    // the back button's copy): it is still good, so it verifies rather than end the reset.
    let mut browser = Browser::with_ip(&portal, "192.0.2.43");
    let pin_page = reset_to_pin(&mut browser, "max.mustermann@example.org").await;
    assert!(pin_page.body.contains("action=\"/passwordreset/verify\""), "{}", pin_page.main());
    let csrf = pin_page.csrf();
    browser.submit("/passwordreset/another", &[("csrf", &csrf)]).await;
    let wrong = browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "00000000")]).await;
    assert_eq!(wrong.alert().as_deref(), Some("The code is wrong. 4 attempts left."), "{}", wrong.main());
    assert!(wrong.body.contains("action=\"/passwordreset/verify\""), "the PIN form again: {}", wrong.main());
}

/// With `confirm_full_address`, the user types the full address before a code is sent. A
/// mistyped one that is not an address at all (`jane@private`, an empty field) was answered
/// "The input was not accepted.", which does not say what to fix; it now says to type the full
/// address or number exactly as registered, alike for an unknown login. A well-formed but
/// wrong address still reads as sent (nothing is sent), as before.
#[tokio::test]
async fn a_malformed_full_address_says_what_to_type() {
    let config = crate::support::config(
        "[policy]\nmin_response_ms = 0\nconfirm_full_address = true\n[store]\nkind = \"memory\"\n",
    );
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let mut alerts = Vec::new();
    for (login, ip) in [("jane.doe@example.org", "192.0.2.51"), ("nobody.known@example.org", "192.0.2.52")] {
        for typed in ["jane@private", ""] {
            let mut browser = Browser::with_ip(&portal, ip);
            let csrf = browser.get("/passwordreset").await.csrf();
            let methods = browser.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", login)]).await;
            assert!(methods.body.contains("name=\"confirm\""), "{}", methods.main());
            let marker = "name=\"method\" value=\"";
            let first = &methods.body[methods.body.find(marker).unwrap() + marker.len()..];
            let method = &first[..first.find('"').unwrap()];
            let typed = if method == "sms" && !typed.is_empty() { "+44 7400" } else { typed };
            let answer =
                browser.submit("/passwordreset/send", &[("csrf", &csrf), ("method", method), ("confirm", typed)]).await;
            let alert = answer.alert().unwrap_or_default();
            assert_eq!(alert, "Type the full address or number, exactly as registered.", "{login} {typed:?}");
            assert!(answer.body.contains("name=\"confirm\""), "{login}: the form again: {}", answer.main());
            alerts.push(alert);
        }
    }
    assert!(alerts.windows(2).all(|w| w[0] == w[1]));
}

/// A refused chosen password, on a page in German: the reset page said "Das Kennwort wurde
/// abgelehnt: it must have at least 8 characters." - the why in English only - while the
/// password change page already names the broken rule in the page's language. Both pages now
/// lead with the rule in the visitor's language (the engine's own words follow, as on the
/// change page, and zxcvbn's advice after them).
#[tokio::test]
async fn a_refused_chosen_password_names_the_rule_in_the_pages_language() {
    let config = crate::support::config(
        "[policy]\nmin_response_ms = 0\nallow_chosen_password = true\n[store]\nkind = \"memory\"\n",
    );
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let mut browser = Browser::new(&portal);
    browser.accept_language = Some("de-DE,de;q=0.9");
    let csrf = verified(&portal, &mut browser).await;
    let choose = |p: &'static str| [("mode", "chosen"), ("new_password", p), ("new_password_again", p)];
    let [m, p, a] = choose("kurz");
    let short = browser.submit("/passwordreset/complete", &[("csrf", &csrf), m, p, a]).await;
    let alert = short.alert().unwrap_or_default();
    assert!(alert.starts_with("Das neue Kennwort ist zu kurz."), "{alert}");
    let [m, p, a] = choose("Passwort123!");
    let weak = browser.submit("/passwordreset/complete", &[("csrf", &csrf), m, p, a]).await;
    let alert = weak.alert().unwrap_or_default();
    assert!(alert.starts_with("Das neue Kennwort ist zu einfach."), "{alert}");
    assert!(!alert.contains(".."), "{alert}");
}

/// A double click on "Verify" with the right PIN: the browser cancels the first request (its
/// answer, with the new session's cookie, never reaches the page) and follows the second,
/// which still carries the session id the first one rotated away. The user must land on the
/// completion form, not on the login form with the PIN spent. Both orders: the second post
/// arriving after the first finished, and the two in flight together. A PIN still verifies
/// once, and the old id alone (without the PIN) opens nothing.
#[tokio::test]
async fn a_double_click_on_verify_with_the_right_pin_lands_on_the_completion_form() {
    for together in [false, true] {
        // Padded answers keep the first request in flight while the second loads the session.
        let padding = if together { 200 } else { 0 };
        let toml = format!("[policy]\nmin_response_ms = {padding}\n[store]\nkind = \"memory\"\n");
        let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
        let mut user = Browser::with_ip(&portal, "192.0.2.150");
        let page = reset_to_pin(&mut user, "jane.doe@example.org").await;
        let pin = portal.outbox().unwrap().last_pin_to("jane@private.example").unwrap();
        let csrf = page.csrf();
        let fields = [("csrf", csrf.as_str()), ("pin", pin.as_str())];
        // The first click's request: its answer is dropped with the cancelled navigation.
        let mut first = Browser::with_ip(&portal, "192.0.2.150");
        first.cookies = user.cookies.clone();
        let mut planted = Browser::with_ip(&portal, "192.0.2.150");
        planted.cookies = user.cookies.clone();
        let second = if together {
            let (_, second) =
                tokio::join!(first.post("/passwordreset/verify", &fields), user.post("/passwordreset/verify", &fields));
            second
        } else {
            first.post("/passwordreset/verify", &fields).await;
            user.post("/passwordreset/verify", &fields).await
        };
        assert_eq!(second.status, StatusCode::SEE_OTHER, "{:?}", second.headers);
        let landed = user.get("/passwordreset").await;
        assert!(
            landed.body.contains("action=\"/passwordreset/complete\""),
            "together={together}: the second click lands on the completion form: {}",
            landed.main()
        );
        // The old id without the PIN (a planted cookie): not the verified session.
        let wrong = [("csrf", csrf.as_str()), ("pin", "000000")];
        planted.post("/passwordreset/verify", &wrong).await;
        assert!(!planted.get("/passwordreset").await.body.contains("action=\"/passwordreset/complete\""));
        // One completion: the temporary password is set once.
        let done = user.submit("/passwordreset/complete", &[("csrf", &landed.csrf()), ("mode", "temporary")]).await;
        assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
    }
}
