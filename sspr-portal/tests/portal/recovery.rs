//! Helpdesk recovery through the pages: an administrator issues a code on `/admin/user` (shown
//! once, or sent to a registered contact), and the user redeems it under "I have a code from
//! the helpdesk" on `/passwordreset`, then completes the reset as after a right PIN.

use axum::http::StatusCode;

use crate::support::{Browser, portal};

const PASSWORD: &str = sspr_portal::demo::DEMO_PASSWORD;
const MAX: &str = "max.mustermann@example.org";

async fn admin(portal: &sspr_portal::Portal) -> Browser {
    let mut admin = Browser::with_ip(portal, "192.0.2.99");
    let csrf = admin.get("/admin").await.csrf();
    admin.submit("/admin/signin", &[("csrf", &csrf), ("login", "helpdesk@example.org"), ("password", PASSWORD)]).await;
    admin
}

/// The code on the page `/admin/recovery` answered with.
fn shown_code(page: &crate::support::Answer) -> String {
    page.by_id("recovery-code").unwrap_or_else(|| panic!("a code is shown: {}", page.main()))
}

#[tokio::test]
async fn the_admin_shows_a_code_once_and_the_user_completes_the_reset_with_it() {
    let portal = portal().await;
    let mut admin = admin(&portal).await;
    let page = admin.get("/admin/user?login=max.mustermann%40example.org").await;
    assert!(page.body.contains("Helpdesk recovery") && page.body.contains("value=\"show\""), "{}", page.main());
    assert!(!page.body.contains("value=\"email\""), "max has no contacts to send to");
    let csrf = page.csrf();
    // Without the CSRF token nothing is issued.
    let forged = admin.post("/admin/recovery", &[("csrf", "forged"), ("login", MAX), ("deliver", "show")]).await;
    assert_ne!(forged.status, StatusCode::OK);
    assert!(!forged.body.contains("recovery-code"));
    let shown = admin.post("/admin/recovery", &[("csrf", &csrf), ("login", MAX), ("deliver", "show")]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let code = shown_code(&shown);
    assert!(code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    // Shown once: the user page again does not carry it, nor does the audit log.
    let again = admin.get("/admin/user?login=max.mustermann%40example.org").await;
    assert!(!again.body.contains(&code));
    assert!(!admin.get("/admin").await.body.contains(&code), "the audit log");

    // The user: the link under the login form, a wrong code worded as a wrong PIN, the right one.
    let mut user = Browser::new(&portal);
    let reset = user.get("/passwordreset").await;
    assert!(reset.body.contains("href=\"/passwordreset/helpdesk\""), "{}", reset.main());
    let form = user.get("/passwordreset/helpdesk").await;
    let csrf = form.csrf();
    let forged = user.post("/passwordreset/helpdesk", &[("csrf", "forged"), ("login", MAX), ("code", &code)]).await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER, "no CSRF token, no redemption");
    let malformed = user.submit("/passwordreset/helpdesk", &[("csrf", &csrf), ("login", MAX), ("code", "12")]).await;
    assert_eq!(malformed.alert().as_deref(), Some("Enter the 10 digits you received."));
    let wrong: String = code.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect();
    let refused = user.submit("/passwordreset/helpdesk", &[("csrf", &csrf), ("login", MAX), ("code", &wrong)]).await;
    let unknown = user
        .submit("/passwordreset/helpdesk", &[("csrf", &csrf), ("login", "nobody@example.org"), ("code", &wrong)])
        .await;
    // Not "0 attempts left": the code is still good (used right below), and a user told
    // otherwise gives it up and calls the helpdesk again.
    let wording = "The code is wrong or no longer valid. Check the user name and the code; if it still fails, ask the helpdesk for a new code.";
    assert_eq!(refused.alert().as_deref(), Some(wording));
    assert_eq!(refused.alert(), unknown.alert(), "an unknown login is answered alike");
    let before = user.cookie();
    let verified = user.submit("/passwordreset/helpdesk", &[("csrf", &csrf), ("login", MAX), ("code", &code)]).await;
    assert_ne!(user.cookie(), before, "a new session id after the code, as after a right PIN");
    assert!(verified.body.contains("name=\"mode\""), "the completion step: {}", verified.main());
    let done = user.submit("/passwordreset/complete", &[("csrf", &verified.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
    // Spent.
    let form = user.get("/passwordreset/helpdesk").await;
    let spent =
        user.submit("/passwordreset/helpdesk", &[("csrf", &form.csrf()), ("login", MAX), ("code", &code)]).await;
    assert_eq!(spent.alert().as_deref(), Some(wording));
}

#[tokio::test]
async fn the_admin_sends_a_code_to_a_registered_contact_and_sees_only_where() {
    let portal = portal().await;
    let mut admin = admin(&portal).await;
    let page = admin.get("/admin/user?login=jane.doe%40example.org").await;
    assert!(page.body.contains("value=\"email\"") && page.body.contains("value=\"sms\""), "{}", page.main());
    let sent = admin
        .submit("/admin/recovery", &[("csrf", &page.csrf()), ("login", "jane.doe@example.org"), ("deliver", "email")])
        .await;
    let marker = "role=\"status\">";
    let at = sent.body.find(marker).map_or(0, |i| i + marker.len());
    let status = &sent.body[at..at + sent.body[at..].find('<').unwrap_or(0)];
    assert!(status.starts_with("A recovery code was sent to j***@p***.example"), "{status}: {}", sent.main());
    portal.sspr().flush_deliveries().await;
    let outbox = portal.outbox().unwrap();
    let code = outbox.last_recovery_code_to("jane@private.example").expect("the code went to jane's address");
    assert!(!sent.body.contains(&code), "the admin never sees a sent code");

    let mut user = Browser::new(&portal);
    let csrf = user.get("/passwordreset/helpdesk").await.csrf();
    let verified = user
        .submit("/passwordreset/helpdesk", &[("csrf", &csrf), ("login", "jane.doe@example.org"), ("code", &code)])
        .await;
    assert!(verified.body.contains("name=\"mode\""), "{}", verified.main());

    // A privileged account gets no code: the refusal is shown, nothing issued.
    let page = admin.get("/admin/user?login=root.admin%40example.org").await;
    let refused = admin
        .submit("/admin/recovery", &[("csrf", &page.csrf()), ("login", "root.admin@example.org"), ("deliver", "show")])
        .await;
    assert!(refused.alert().is_some(), "{}", refused.main());
    assert!(!refused.body.contains("recovery-code"));
}

/// The helpdesk code's form posted twice (a double click, or a retry after the first answer
/// was lost) lands on the completion step, as a verify's double click does (THREAT_MODEL
/// 12.7a), rather than "the code is wrong or no longer valid" with the helpdesk's code spent.
/// Also from a browser that still holds the cookie of a session that has ended (a reset
/// begun yesterday and left): the retry carries that cookie, as the first post did.
#[tokio::test]
async fn a_helpdesk_code_posted_twice_lands_on_the_completion_step_also_with_an_ended_sessions_cookie() {
    for ended_session in [false, true] {
        let portal = portal().await;
        let mut admin = admin(&portal).await;
        let csrf = admin.get("/admin/user?login=max.mustermann%40example.org").await.csrf();
        let code =
            shown_code(&admin.post("/admin/recovery", &[("csrf", &csrf), ("login", MAX), ("deliver", "show")]).await);

        let mut user = Browser::with_ip(&portal, "192.0.2.151");
        if ended_session {
            user.set_cookie(Some(format!("sspr_session={}", "ab".repeat(32))));
        }
        let csrf = user.get("/passwordreset/helpdesk").await.csrf();
        let fields = [("csrf", csrf.as_str()), ("login", MAX), ("code", code.as_str())];
        // The first post's answer (and its new cookie) never reaches the browser.
        let mut first = Browser::with_ip(&portal, "192.0.2.151");
        first.cookies = user.cookies.clone();
        let answer = first.post("/passwordreset/helpdesk", &fields).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        let again = user.submit("/passwordreset/helpdesk", &fields).await;
        assert!(
            again.body.contains("name=\"mode\""),
            "ended_session={ended_session}: the second post lands on the completion step: {:?}",
            again.alert()
        );
        let done = user.submit("/passwordreset/complete", &[("csrf", &again.csrf()), ("mode", "temporary")]).await;
        assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
    }
}
