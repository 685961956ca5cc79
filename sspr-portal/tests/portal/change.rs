//! `/passwordchange`: the rules shown before typing, a change with the current password, a
//! must-change sign-in leading there, CSRF, one answer for a wrong password and an unknown
//! login, and a refused new password named by its rule.

use sspr_core::{NewPassword, Pin, RequestContext};

use crate::support::{Answer, Browser, portal};

const PASSWORD: &str = sspr_portal::demo::DEMO_PASSWORD;
const NEW: &str = "Fresh-Meadow-41";

async fn change(browser: &mut Browser, login: &str, current: &str, new: &str, again: &str) -> Answer {
    let csrf = browser.get("/passwordchange").await.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("login", login),
        ("current_password", current),
        ("new_password", new),
        ("new_password_again", again),
    ];
    browser.submit("/passwordchange", &fields).await
}

async fn sign_in(browser: &mut Browser, login: &str, password: &str) -> Answer {
    let csrf = browser.get("/passwordnotification").await.csrf();
    let fields = [("csrf", csrf.as_str()), ("login", login), ("password", password)];
    browser.submit("/passwordnotification/signin", &fields).await
}

#[tokio::test]
async fn the_rules_are_shown_before_typing_and_a_change_signs_in_with_the_new_password_only() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let page = browser.get("/passwordchange").await;
    let at = page.body.find("id=\"password-rules\"").unwrap_or_else(|| panic!("no rules: {}", page.main()));
    let rules = &page.body[at..at + page.body[at..].find("</section>").unwrap()];
    assert!(rules.contains("be at least 8 characters long"), "{rules}");
    assert!(rules.contains("mix at least three of"), "{rules}");
    assert!(rules.contains("differ from your last 5 passwords"), "{rules}");
    assert_eq!(browser.cookie(), None, "looking costs no session");

    let done = change(&mut browser, "max.mustermann@example.org", PASSWORD, NEW, NEW).await;
    assert!(done.body.contains("role=\"status\">Your password was changed."), "{}", done.main());
    let mut other = Browser::with_ip(&portal, "192.0.2.60");
    assert!(sign_in(&mut other, "max.mustermann@example.org", NEW).await.body.contains("Signed in as Max Mustermann"));
    let old = sign_in(&mut Browser::with_ip(&portal, "192.0.2.61"), "max.mustermann@example.org", PASSWORD).await;
    assert!(old.alert().is_some_and(|a| a.contains("wrong")), "{}", old.main());
}

#[tokio::test]
async fn a_must_change_sign_in_leads_to_the_change_page_and_the_change_ends_it() {
    let portal = portal().await;
    // A reset through the engine leaves Jane a temporary password.
    let (sspr, ctx) = (portal.sspr(), RequestContext::default());
    let challenge = sspr.begin_reset("jane.doe@example.org", &ctx).await.unwrap();
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    let pin = portal.outbox().unwrap().last_pin_to("jane@private.example").unwrap();
    sspr.verify_pin(&challenge.flow_id, Pin::new(&pin), &ctx).await.unwrap();
    let outcome = sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await.unwrap();
    let temporary = outcome.temporary_password.unwrap();

    let mut browser = Browser::new(&portal);
    let landed = sign_in(&mut browser, "jane.doe@example.org", temporary.expose_secret()).await;
    assert!(landed.body.contains("<h1>Change password</h1>"), "{}", landed.main());
    assert!(landed.by_id("must-change").is_some() && landed.by_id("password-rules").is_some(), "{}", landed.main());
    assert!(landed.body.contains("value=\"jane.doe@example.org\""), "the login is filled in");
    let done = change(&mut browser, "jane.doe@example.org", temporary.expose_secret(), NEW, NEW).await;
    assert!(done.body.contains("Your password was changed."), "{}", done.main());
    assert!(done.by_id("must-change").is_none(), "{}", done.main());
    let notices = portal.outbox().unwrap().messages_to("jane@private.example");
    assert!(notices.iter().any(|n| n.message.kind() == "password_changed"), "the user was told");
    let page = sign_in(&mut Browser::with_ip(&portal, "192.0.2.62"), "jane.doe@example.org", NEW).await;
    assert!(page.body.contains("Signed in as Jane Doe") && !page.body.contains("change-now"), "{}", page.main());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_login_read_alike_and_a_refusal_names_its_rule() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let wrong = change(&mut browser, "max.mustermann@example.org", "Not-His-Passw0rd", NEW, NEW).await;
    let unknown = change(&mut browser, "nobody@example.org", PASSWORD, NEW, NEW).await;
    let admin = change(&mut browser, "root.admin@example.org", PASSWORD, NEW, NEW).await;
    assert!(wrong.alert().is_some());
    assert_eq!(wrong.alert(), unknown.alert());
    assert_eq!(wrong.alert(), admin.alert(), "a privileged account reads like a wrong password");

    let again = change(&mut browser, "max.mustermann@example.org", PASSWORD, PASSWORD, PASSWORD).await;
    assert!(again.alert().is_some_and(|a| a.contains("You used this password before")), "{}", again.main());
    let differ = change(&mut browser, "max.mustermann@example.org", PASSWORD, NEW, "Fresh-Meadow-42").await;
    assert!(differ.alert().is_some(), "{}", differ.main());
    let simple = change(&mut browser, "max.mustermann@example.org", PASSWORD, "Summer2024!", "Summer2024!").await;
    assert!(simple.alert().is_some_and(|a| a.contains("too simple")), "{}", simple.main());
    // Nothing changed.
    let page = sign_in(&mut Browser::with_ip(&portal, "192.0.2.63"), "max.mustermann@example.org", PASSWORD).await;
    assert!(page.body.contains("Signed in as Max Mustermann"), "{}", page.main());
}

#[tokio::test]
async fn a_change_without_the_forms_csrf_token_is_refused_and_changes_nothing() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    browser.get("/passwordchange").await;
    let fields = [
        ("csrf", "forged"),
        ("login", "max.mustermann@example.org"),
        ("current_password", PASSWORD),
        ("new_password", NEW),
        ("new_password_again", NEW),
    ];
    let refused = browser.post("/passwordchange", &fields).await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN, "{}", refused.main());
    let page = sign_in(&mut Browser::with_ip(&portal, "192.0.2.64"), "max.mustermann@example.org", PASSWORD).await;
    assert!(page.body.contains("Signed in as Max Mustermann"), "{}", page.main());
}

/// An anonymous visitor reloading `/passwordchange` (or a script fetching it in a loop) must
/// not drive a directory read per view: the rules are read once and kept (the engine's
/// `PASSWORD_RULES_TTL`). Counted by the engine's own backend-call histogram. Failed on main:
/// 200 views made 200 directory reads.
#[tokio::test]
async fn viewing_the_change_page_anonymously_does_not_read_the_directory_each_time() {
    // This test's thread only: the portal tests run in parallel in one process.
    let recorder = sspr_bind::metrics::recorder().unwrap();
    let handle = recorder.handle();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let portal = portal().await;
    let mut browser = Browser::with_ip(&portal, "203.0.113.77");
    for _ in 0..200 {
        let page = browser.get("/passwordchange").await;
        assert!(page.body.contains("id=\"password-rules\""), "{}", page.main());
    }
    let text = handle.render();
    let reads = r#"sspr_backend_call_seconds_count{backend="directory",operation="password_rules"} "#;
    let count = text.lines().find_map(|l| l.strip_prefix(reads)).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(count, "1", "one directory read for 200 anonymous views");
    assert_eq!(browser.cookie(), None, "and no session");
}

/// Enumeration through the new password's rules: without the right current password, a new
/// password the rules refuse (too short, too simple, made of the account's own name, the
/// password the account has now) must read for a real login as for an unknown one: a rule
/// judged against the account's own data before its password is checked would say it exists.
#[tokio::test]
async fn a_refused_new_password_reads_alike_for_a_real_and_an_unknown_login_without_the_current_password() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    for new in ["a", "Summer2024!", "MaxMustermann1!", "max.mustermann@example.org", "Mustermann-Max-1", PASSWORD] {
        let real = change(&mut browser, "max.mustermann@example.org", "Not-His-Passw0rd", new, new).await;
        let unknown = change(&mut browser, "nobody@example.org", "Not-His-Passw0rd", new, new).await;
        assert_eq!(real.status, unknown.status, "{new}");
        assert_eq!(real.alert(), unknown.alert(), "new password {new:?}");
        assert_eq!(real.main().len(), unknown.main().len(), "{new}");
    }
}
