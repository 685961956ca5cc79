use axum::http::StatusCode;

use crate::support::{Browser, portal, reset_to_pin};

/// What an attacker types into every field.
fn hostile_values() -> Vec<String> {
    vec![
        "<script>alert(1)</script>".into(),
        "\"><img src=x onerror=alert(1)>".into(),
        "' OR '1'='1' --".into(),
        "*)(uid=*))(|(uid=*".into(),
        "admin\0@example.org".into(),
        "jane\u{202e}gro.elpmaxe@".into(),
        "../../../../etc/passwd".into(),
        "%00%0d%0aSet-Cookie: x=y".into(),
        "\r\nLocation: https://evil.example".into(),
        "ｊａｎｅ．ｄｏｅ＠ｅｘａｍｐｌｅ．ｏｒｇ".into(),
        "😀".repeat(300),
        "a".repeat(5000),
        String::new(),
        " ".into(),
    ]
}

fn assert_harmless(answer: &crate::support::Answer, what: &str) {
    assert!(
        matches!(answer.status, StatusCode::OK | StatusCode::SEE_OTHER | StatusCode::FORBIDDEN),
        "{what}: status {}",
        answer.status
    );
    assert!(!answer.body.contains("<script>alert(1)"), "{what}: reflected unescaped");
    assert!(!answer.body.contains("<img src=x"), "{what}: reflected unescaped");
    assert!(
        answer.headers.get("x-y").is_none()
            && answer.headers.get("set-cookie").is_none_or(|c| !c.to_str().unwrap().contains("x=y"))
    );
}

#[tokio::test]
async fn hostile_input_in_every_field_is_refused_or_escaped() {
    // Limits high enough for the many resets of this test (each from its own address).
    let config = crate::support::config(
        "[policy]\nmin_response_ms = 0\nuser_sends_per_hour = 100\ndestination_sends_per_hour = 100\n[store]\nkind = \"memory\"\n",
    );
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    for (i, value) in hostile_values().into_iter().enumerate() {
        let what = format!("{:?}", value.chars().take(40).collect::<String>());
        let mut browser = Browser::with_ip(&portal, &format!("10.0.0.{i}"));
        let csrf = browser.get("/passwordreset").await.csrf();
        // The login field.
        let answer = browser.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", &value)]).await;
        assert_harmless(&answer, &format!("login {what}"));
        // The CSRF field itself.
        let answer = browser.post("/passwordreset/begin", &[("csrf", &value), ("login", "jane.doe@example.org")]).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "csrf {what}");

        // The method and confirmation fields, then the PIN and the completion fields.
        let mut browser = Browser::with_ip(&portal, &format!("10.0.1.{i}"));
        let csrf = browser.get("/passwordreset").await.csrf();
        browser.submit("/passwordreset/begin", &[("csrf", &csrf), ("login", "jane.doe@example.org")]).await;
        let answer =
            browser.submit("/passwordreset/send", &[("csrf", &csrf), ("method", &value), ("confirm", &value)]).await;
        assert_harmless(&answer, &format!("method {what}"));
        assert!(answer.body.contains("name=\"method\""), "still choosing a method: {what}");
        let answer =
            browser.submit("/passwordreset/send", &[("csrf", &csrf), ("method", "email"), ("confirm", &value)]).await;
        assert_harmless(&answer, &format!("confirm {what}"));
        let answer = browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", &value)]).await;
        assert_harmless(&answer, &format!("pin {what}"));
        let answer = browser
            .submit(
                "/passwordreset/complete",
                &[("csrf", &csrf), ("mode", &value), ("new_password", &value), ("new_password_again", &value)],
            )
            .await;
        assert_harmless(&answer, &format!("mode {what}"));
        // The outbox filter.
        let answer = browser
            .get(&format!("/outbox?to={}", crate::support::serde_urlencoded(&[("", &value)]).trim_start_matches('=')))
            .await;
        assert!(matches!(answer.status, StatusCode::OK | StatusCode::BAD_REQUEST), "outbox {what}");
        assert!(!answer.body.contains("<script>alert(1)"));
    }
    // After all of it, a real reset still works and the engine was never half-changed.
    let mut browser = Browser::new(&portal);
    let page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    assert!(page.body.contains("name=\"pin\""));
    assert!(portal.sspr().status("jane.doe@example.org").await.unwrap().last_reset_at.is_none());
}

#[tokio::test]
async fn a_pin_typed_with_wrong_shape_costs_no_attempt() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    let csrf = page.csrf();
    for bad in ["1234", "abcdefgh", "<b>12345678</b>", "123456789012345678"] {
        let answer = browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", bad)]).await;
        assert_eq!(answer.alert().as_deref(), Some("Enter the 8 digits you received."), "{bad}");
    }
    assert!(browser.get("/passwordreset").await.by_id("pin-status").unwrap().contains("5 attempts left"));
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    let csrf = browser.get("/passwordreset").await.csrf();
    let huge = format!("csrf={csrf}&login={}", "a".repeat(64 * 1024));
    assert_eq!(browser.post_raw("/passwordreset/begin", huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let not_utf8 = format!("csrf={csrf}&login=%ff%fe");
    let answer = browser.post_raw("/passwordreset/begin", not_utf8).await;
    assert!(answer.status.is_client_error() || answer.status == StatusCode::SEE_OTHER, "{}", answer.status);
    assert_eq!(browser.get("/passwordreset").await.status, StatusCode::OK);
}
