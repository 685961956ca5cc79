//! Requests dropped mid-flight, as hyper drops a handler when its client closes the
//! connection (a browser's timeout, a mobile network gone, `curl --max-time`): the retry works,
//! nothing is lost and the owner is told of what was done.

use std::time::Duration;

use axum::http::StatusCode;

use crate::support::{Answer, Browser, reset_to_pin};

/// A portal whose answers are padded to `ms`, so a request is still in flight after the
/// engine's work (the padding is the last thing an engine call does).
async fn padded(ms: u32) -> sspr_portal::Portal {
    let toml = format!("[policy]\nmin_response_ms = {ms}\n[store]\nkind = \"memory\"\n");
    sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap()
}

/// `call`, given up on after `ms` (its future dropped, as hyper drops it): `None` when it was.
async fn given_up<F: std::future::Future<Output = Answer>>(ms: u64, call: F) -> Option<Answer> {
    tokio::time::timeout(Duration::from_millis(ms), call).await.ok()
}

/// The right PIN posted, and the connection closed while the answer was padded (the engine had
/// verified it): the user's retry with the same PIN must land on the completion form, not on
/// "this reset was already used" with their PIN spent.
#[tokio::test]
async fn a_verify_whose_client_went_away_after_the_pin_was_checked_lets_the_retry_in() {
    let portal = padded(400).await;
    let mut user = Browser::with_ip(&portal, "192.0.2.170");
    let page = reset_to_pin(&mut user, "jane.doe@example.org").await;
    let pin = portal.outbox().unwrap().last_pin_to("jane@private.example").unwrap();
    let csrf = page.csrf();
    let fields = [("csrf", csrf.as_str()), ("pin", pin.as_str())];
    assert!(given_up(150, user.post("/passwordreset/verify", &fields)).await.is_none(), "the request was dropped");
    // The user presses the button again once the page gave up.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = user.post("/passwordreset/verify", &fields).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{:?}", again.headers);
    let landed = user.get("/passwordreset").await;
    assert!(landed.body.contains("action=\"/passwordreset/complete\""), "{}", landed.main());
    let done = user.submit("/passwordreset/complete", &[("csrf", &landed.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
}

/// The helpdesk's code posted, and the connection closed while the answer was padded (the
/// engine had redeemed it): the user's retry of the same form must land on the completion
/// form, not on "already used" with the code spent (another call to the helpdesk).
#[tokio::test]
async fn a_helpdesk_code_whose_client_went_away_after_it_was_redeemed_lets_the_retry_in() {
    let portal = padded(400).await;
    let mut admin = Browser::with_ip(&portal, "192.0.2.99");
    let csrf = admin.get("/admin").await.csrf();
    let password = sspr_portal::demo::DEMO_PASSWORD;
    admin.submit("/admin/signin", &[("csrf", &csrf), ("login", "helpdesk@example.org"), ("password", password)]).await;
    let csrf = admin.get("/admin/user?login=max.mustermann%40example.org").await.csrf();
    let max = "max.mustermann@example.org";
    let shown = admin.post("/admin/recovery", &[("csrf", &csrf), ("login", max), ("deliver", "show")]).await;
    let code = shown.by_id("recovery-code").unwrap();
    let mut user = Browser::with_ip(&portal, "192.0.2.172");
    let csrf = user.get("/passwordreset/helpdesk").await.csrf();
    let fields = [("csrf", csrf.as_str()), ("login", max), ("code", code.as_str())];
    assert!(given_up(150, user.post("/passwordreset/helpdesk", &fields)).await.is_none(), "the request was dropped");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = user.submit("/passwordreset/helpdesk", &fields).await;
    assert!(again.body.contains("name=\"mode\""), "the completion step: {}", again.main());
    let done = user.submit("/passwordreset/complete", &[("csrf", &again.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
    // The old cookie alone, with a wrong code, opens nothing.
    let mut planted = Browser::with_ip(&portal, "192.0.2.172");
    planted.cookies = user.cookies.clone();
    let wrong = [("csrf", csrf.as_str()), ("login", max), ("code", "0000000000")];
    assert!(!planted.submit("/passwordreset/helpdesk", &wrong).await.body.contains("name=\"mode\""));
}
