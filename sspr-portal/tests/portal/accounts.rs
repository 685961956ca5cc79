use axum::http::StatusCode;

use crate::support::{Browser, portal, reset_to_pin};

const PASSWORD: &str = sspr_portal::demo::DEMO_PASSWORD;

async fn sign_in(browser: &mut Browser, page: &str, login: &str, password: &str) -> crate::support::Answer {
    let csrf = browser.get(page).await.csrf();
    browser.submit(&format!("{page}/signin"), &[("csrf", &csrf), ("login", login), ("password", password)]).await
}

#[tokio::test]
async fn a_user_registers_contacts_and_can_reset_with_them_at_once() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let before = browser.get("/passwordnotification").await;
    assert!(before.body.contains("name=\"password\""), "sign-in first");
    let cookie_before = browser.cookie();
    assert_eq!(cookie_before, None, "looking costs no session");

    let page = sign_in(&mut browser, "/passwordnotification", "Max.Mustermann@example.org", PASSWORD).await;
    assert!(page.body.contains("Signed in as Max Mustermann"), "{}", page.main());
    assert!(browser.cookie().is_some(), "a session after sign-in");
    let csrf = page.csrf();
    let saved = browser
        .submit(
            "/passwordnotification/save",
            &[("csrf", &csrf), ("email", "max@home.example"), ("phone", "+49 151 23456789")],
        )
        .await;
    // Nothing new is saved before its code comes back: first the address, then the phone.
    assert!(saved.body.contains("We sent a code to m***@h***.example"), "{}", saved.main());
    assert!(!saved.body.contains("value=\"max@home.example\""), "not saved yet");
    let outbox = portal.outbox().unwrap();
    let code = outbox.last_proof_code_to("max@home.example").unwrap();
    let wrong = browser.submit("/passwordnotification/confirm", &[("csrf", &csrf), ("code", "00000000")]).await;
    assert!(wrong.alert().unwrap().starts_with("The code is wrong."), "{:?}", wrong.alert());
    let next = browser.submit("/passwordnotification/confirm", &[("csrf", &csrf), ("code", &code)]).await;
    assert!(next.body.contains("value=\"max@home.example\""), "{}", next.main());
    assert!(next.body.contains("We sent a code to"), "now the phone: {}", next.main());
    let code = outbox.last_proof_code_to("+4915123456789").unwrap();
    let saved = browser.submit("/passwordnotification/confirm", &[("csrf", &csrf), ("code", &code)]).await;
    assert!(saved.body.contains("role=\"status\">Saved."), "{}", saved.main());
    assert!(saved.body.contains("value=\"+4915123456789\""), "{}", saved.main());
    // A spent code does not work twice.
    let again = browser.submit("/passwordnotification/confirm", &[("csrf", &csrf), ("code", &code)]).await;
    assert!(!again.body.contains("action=\"/passwordnotification/confirm\""), "no proof pending");

    // The first registration is usable at once: a reset by the new address works.
    let mut anonymous = Browser::with_ip(&portal, "192.0.2.50");
    let pin = reset_to_pin(&mut anonymous, "max.mustermann@example.org").await;
    assert!(pin.main().contains("m***@h***.example"), "{}", pin.main());
    assert!(portal.outbox().unwrap().last_pin_to("max@home.example").is_some());

    // A later change by the user cools off, and the old address is told.
    browser
        .submit("/passwordnotification/save", &[("csrf", &csrf), ("email", "max@other.example"), ("phone", "")])
        .await;
    let code = outbox.last_proof_code_to("max@other.example").unwrap();
    let changed = browser.submit("/passwordnotification/confirm", &[("csrf", &csrf), ("code", &code)]).await;
    assert!(changed.body.contains("usable for codes from"), "{}", changed.main());
    assert!(!changed.body.contains("+4915123456789"), "the phone was cleared");
    let told = portal.outbox().unwrap().messages_to("max@home.example");
    assert!(told.iter().any(|n| n.render().subject == "Your contact details were changed"));

    // Signing out ends it.
    let out = browser.submit("/passwordnotification/signout", &[("csrf", &csrf)]).await;
    assert!(out.body.contains("name=\"password\""));
}

#[tokio::test]
async fn sign_in_failures_look_alike_and_need_the_csrf_token() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let wrong = sign_in(&mut browser, "/passwordnotification", "jane.doe@example.org", "not-her-password").await;
    let unknown = sign_in(&mut browser, "/passwordnotification", "nobody@example.org", PASSWORD).await;
    let malformed = sign_in(&mut browser, "/passwordnotification", "jane\u{202e}", PASSWORD).await;
    assert_eq!(wrong.alert().as_deref(), Some("The user name or password is wrong."));
    assert_eq!(wrong.alert(), unknown.alert());
    assert_eq!(wrong.alert(), malformed.alert());
    let refused = browser
        .post(
            "/passwordnotification/signin",
            &[("csrf", "nope"), ("login", "jane.doe@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(browser.get("/passwordnotification").await.body.contains("name=\"password\""), "not signed in");
    // Saving without signing in changes nothing.
    let csrf = browser.get("/passwordnotification").await.csrf();
    browser.post("/passwordnotification/save", &[("csrf", &csrf), ("email", "x@evil.example")]).await;
    assert!(
        portal.sspr().contacts("jane.doe@example.org").await.unwrap().email.unwrap().value == "jane@private.example"
    );
}

#[tokio::test]
async fn a_user_not_enabled_is_told_so() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let page = sign_in(&mut browser, "/passwordnotification", "bob.builder@example.org", PASSWORD).await;
    let csrf = page.csrf();
    let saved = browser.submit("/passwordnotification/save", &[("csrf", &csrf), ("email", "bob@new.example")]).await;
    assert!(saved.alert().unwrap().contains("not enabled for your account"), "{:?}", saved.alert());
    // An enabled user gets the reason a malformed address was refused.
    let mut max = Browser::with_ip(&portal, "192.0.2.60");
    let page = sign_in(&mut max, "/passwordnotification", "max.mustermann@example.org", PASSWORD).await;
    let bad = max.submit("/passwordnotification/save", &[("csrf", &page.csrf()), ("email", "not an address")]).await;
    assert!(bad.alert().unwrap().starts_with("Alternate e-mail address:"), "{:?}", bad.alert());
}

/// A search longer than the engine takes (`MAX_SEARCH_QUERY_CHARS`, `InvalidInput("query")`)
/// was answered "the service is unavailable", which sends an administrator after an outage
/// that is not there: the box now holds a browser to the length, and a longer query (an
/// edited link) is told as too long.
#[tokio::test]
async fn a_search_longer_than_the_engine_takes_is_told_so_not_as_an_outage() {
    let portal = portal().await;
    let mut admin = Browser::with_ip(&portal, "192.0.2.98");
    let home = sign_in(&mut admin, "/admin", "helpdesk@example.org", PASSWORD).await;
    let max = sspr_core::MAX_SEARCH_QUERY_CHARS;
    assert!(home.body.contains(&format!("maxlength=\"{max}\"")), "{}", home.main());
    let longest = admin.get(&format!("/admin?q={}", "b".repeat(max))).await;
    assert_eq!(longest.alert(), None, "{}", longest.main());
    let long = admin.get(&format!("/admin?q={}", "b".repeat(max + 1))).await;
    assert_eq!(long.alert().as_deref(), Some(format!("The search is too long: at most {max} characters.").as_str()));
}

#[tokio::test]
async fn the_admin_signs_in_searches_enables_sets_contacts_and_reads_the_audit_log() {
    let portal = portal().await;
    // A user who is not in the admin group gets the same answer as a wrong password.
    let mut intruder = Browser::new(&portal);
    let refused = sign_in(&mut intruder, "/admin", "jane.doe@example.org", PASSWORD).await;
    assert_eq!(refused.alert().as_deref(), Some("The user name or password is wrong."));
    assert!(refused.body.contains("name=\"password\""));
    let csrf = intruder.get("/admin").await.csrf();
    let forged = intruder
        .post("/admin/enable", &[("csrf", &csrf), ("login", "bob.builder@example.org"), ("enabled", "true")])
        .await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
    assert!(!portal.sspr().status("bob.builder@example.org").await.unwrap().enabled, "not an admin: nothing changed");

    let mut admin = Browser::with_ip(&portal, "192.0.2.99");
    let home = sign_in(&mut admin, "/admin", "helpdesk@example.org", PASSWORD).await;
    assert!(home.body.contains("Signed in as Help Desk"), "{}", home.main());
    let found = admin.get("/admin?q=bob").await;
    assert!(found.body.contains("bob.builder@example.org") && !found.body.contains("jane.doe@example.org"));
    assert!(found.body.contains("not enabled"));

    let user = admin.get("/admin/user?login=bob.builder%40example.org").await;
    let csrf = user.csrf();
    assert!(user.body.contains("Enable SSPR"), "{}", user.main());
    let enabled = admin
        .submit("/admin/enable", &[("csrf", &csrf), ("login", "bob.builder@example.org"), ("enabled", "true")])
        .await;
    assert!(enabled.body.contains("role=\"status\">Done."), "{}", enabled.main());
    assert!(enabled.body.contains("Disable SSPR"));
    assert!(portal.sspr().status("bob.builder@example.org").await.unwrap().enabled);

    let set = admin
        .submit(
            "/admin/contacts",
            &[
                ("csrf", &csrf),
                ("login", "bob.builder@example.org"),
                ("email", "bob@work-home.example"),
                ("phone", "+44 7400 900456"),
            ],
        )
        .await;
    assert!(set.body.contains("value=\"bob@work-home.example\""), "{}", set.main());
    assert!(!set.body.contains("usable for codes from"), "an admin's change is usable at once");

    // Refusals come back as messages: an ineligible user cannot be enabled.
    let carol = admin
        .submit("/admin/enable", &[("csrf", &csrf), ("login", "carol.contractor@example.org"), ("enabled", "true")])
        .await;
    assert!(carol.alert().is_some(), "{}", carol.main());
    let nobody = admin.get("/admin/user?login=nobody%40example.org").await;
    assert_eq!(nobody.alert().as_deref(), Some("No such user."));

    // The audit log shows what the admin did, with the admin as actor.
    let home = admin.get("/admin").await;
    assert!(home.body.contains("enabled_changed") && home.body.contains("helpdesk@example.org"), "{}", home.main());
    assert!(home.body.contains("192.0.2.99"));
}

#[tokio::test]
async fn the_admin_unblocks_a_blocked_user() {
    let config = crate::support::config(
        "[policy]\nmin_response_ms = 0\nuser_failures_before_block = 2\n[store]\nkind = \"memory\"\n",
    );
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    let mut user = Browser::new(&portal);
    let page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    let csrf = page.csrf();
    user.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "00000000")]).await;
    let blocked = user.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", "00000000")]).await;
    assert!(blocked.alert().unwrap().contains("blocked until"), "{:?}", blocked.alert());
    assert!(portal.sspr().status("jane.doe@example.org").await.unwrap().blocked_until.is_some());

    let mut admin = Browser::new(&portal);
    sign_in(&mut admin, "/admin", "helpdesk@example.org", PASSWORD).await;
    let page = admin.get("/admin/user?login=jane.doe%40example.org").await;
    assert!(page.body.contains("Blocked until"), "{}", page.main());
    let done = admin.submit("/admin/unblock", &[("csrf", &page.csrf()), ("login", "jane.doe@example.org")]).await;
    assert!(!done.body.contains("Blocked until"), "{}", done.main());
    assert!(portal.sspr().status("jane.doe@example.org").await.unwrap().blocked_until.is_none());
}

#[tokio::test]
async fn hostile_input_in_the_sign_in_and_admin_fields() {
    let portal = portal().await;
    let mut admin = Browser::new(&portal);
    sign_in(&mut admin, "/admin", "helpdesk@example.org", PASSWORD).await;
    let csrf = admin.get("/admin").await.csrf();
    let mut other = Browser::with_ip(&portal, "192.0.2.77");
    for value in
        ["<script>alert(1)</script>", "*)(uid=*))(|(uid=*", "\"><img src=x onerror=alert(1)>", "\0", &"é".repeat(300)]
    {
        let q = crate::support::serde_urlencoded(&[("q", value)]);
        for page in
            [admin.get(&format!("/admin?{q}")).await, admin.get(&format!("/admin/user?login={}", &q[2..])).await]
        {
            assert_eq!(page.status, StatusCode::OK);
            assert!(!page.body.contains("<script>alert(1)") && !page.body.contains("<img src=x"));
        }
        for path in ["/admin/enable", "/admin/contacts", "/admin/unblock"] {
            let answer = admin
                .submit(
                    path,
                    &[("csrf", &csrf), ("login", value), ("enabled", value), ("email", value), ("phone", value)],
                )
                .await;
            assert!(answer.status == StatusCode::OK, "{path} {value:?}: {}", answer.status);
            assert!(!answer.body.contains("<script>alert(1)") && !answer.body.contains("<img src=x"));
        }
        let answer = sign_in(&mut other, "/passwordnotification", value, value).await;
        assert_eq!(answer.alert().as_deref(), Some("The user name or password is wrong."), "{value:?}");
    }
    // The admin's session still works and nothing about the demo users changed.
    assert!(admin.get("/admin?q=jane").await.body.contains("jane.doe@example.org"));
    assert!(!portal.sspr().status("bob.builder@example.org").await.unwrap().enabled);
}

/// The start-up summary lists each demo user's case. A seeded disabled, expired or locked account
/// read "eligible, enabled" like a working one, so a new user trying a disabled one wondered why
/// its reset sent no code (it gets the decoy answer); the summary now names the state.
#[tokio::test]
async fn the_summary_names_a_seeded_accounts_state() {
    let dir = crate::support::temp_dir();
    let seed = dir.join("users.json");
    let user = |login: &str, state: &str| {
        let local = login.split('@').next().unwrap();
        format!(
            r#"{{"login": "{login}", "display_name": "{login}", "dn": "uid={login},ou=staff,dc=example,dc=org",
                "groups": ["cn=staff,ou=groups,dc=example,dc=org"], "enabled": true, "email": "{local}.home@example.net",
                "state": {state}}}"#
        )
    };
    let users = [
        user("ok@example.org", "{}"),
        user("off@example.org", r#"{"disabled": true}"#),
        user("gone@example.org", r#"{"expired": true}"#),
        user("stuck@example.org", r#"{"locked": true}"#),
    ];
    std::fs::write(&seed, format!("[{}]", users.join(","))).unwrap();
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[directory]\nkind = \"demo\"\nseed_file = \"{}\"\n",
        seed.display()
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
    let line = |login: &str| portal.summary().lines().find(|l| l.starts_with(login)).unwrap().to_owned();
    assert!(!line("ok@example.org").contains("account"), "{}", line("ok@example.org"));
    assert!(line("off@example.org").contains("account disabled or expired"), "{}", line("off@example.org"));
    assert!(line("gone@example.org").contains("account disabled or expired"), "{}", line("gone@example.org"));
    assert!(line("stuck@example.org").contains("account locked"), "{}", line("stuck@example.org"));
}
