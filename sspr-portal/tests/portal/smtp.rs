//! The portal with a real SMTP relay (the sink scripts/test.sh starts): the PIN of a reset
//! arrives by mail, is read from the sink's Maildir and completes the reset.

use std::path::PathBuf;

use crate::support::{Browser, reset_to_pin};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests via ./scripts/test.sh (it starts the SMTP sink)"))
}

/// The PIN in the newest mail to `address` in the sink's Maildir.
fn pin_mailed_to(address: &str) -> Option<String> {
    let maildir = PathBuf::from(env("SSPR_TEST_MAILDIR"));
    let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else { continue };
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.contains(address)
                && let Some(at) = text.find("Your code is ")
            {
                let digits: String = text[at + 13..].chars().take_while(char::is_ascii_digit).collect();
                let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
                found.push((modified, digits));
            }
        }
    }
    found.sort();
    found.pop().map(|(_, pin)| pin)
}

#[tokio::test]
async fn a_reset_with_the_pin_sent_through_smtp() {
    let toml = format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n[notifier]\nkind = \"smtp\"\nhost = \"{}\"\nport = {}\ntls = \"starttls\"\nusername = \"{}\"\npassword = \"{}\"\nfrom = \"Password reset <no-reply@example.org>\"\nca_file = \"{}\"\n",
        env("SSPR_TEST_SMTP_HOST"),
        env("SSPR_TEST_SMTP_STARTTLS_PORT"),
        env("SSPR_TEST_SMTP_USER"),
        env("SSPR_TEST_SMTP_PASSWORD"),
        env("SSPR_TEST_CA"),
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
    assert!(portal.summary().contains("e-mail: SMTP"), "{}", portal.summary());
    assert!(!portal.summary().contains(&env("SSPR_TEST_SMTP_PASSWORD")));
    // A mailbox of this run's own, so other tests' mail cannot be mistaken for ours.
    let address = format!("jane-{}-{}@portal-test.example", std::process::id(), rand_suffix());
    let admin = sspr_core::Actor::Admin("test".into());
    let update = sspr_core::ContactUpdate {
        email: sspr_core::ContactChange::Set(address.clone()),
        phone: sspr_core::ContactChange::Keep,
    };
    portal.sspr().update_contacts(&admin, "jane.doe@example.org", update, &Default::default()).await.unwrap();

    let mut browser = Browser::new(&portal);
    let page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    assert!(page.body.contains("id=\"pin-status\""), "{}", page.main());
    // The PIN is delivered off the request path: wait for it.
    portal.sspr().flush_deliveries().await;
    let pin = pin_mailed_to(&address).expect("the PIN mail reached the sink");
    assert_eq!(pin.len(), 8);
    let csrf = page.csrf();
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &csrf), ("pin", &pin)]).await;
    let done = browser.submit("/passwordreset/complete", &[("csrf", &modes.csrf()), ("mode", "temporary")]).await;
    assert!(done.by_id("temporary-password").is_some(), "{}", done.main());
    // Nothing went to the outbox, and the outbox page is off.
    assert!(portal.outbox().unwrap().messages_to(&address).is_empty());
    assert_eq!(browser.get("/outbox").await.status, axum::http::StatusCode::NOT_FOUND);
}

/// Unique within this machine: the test's fresh directory is named by process and counter.
fn rand_suffix() -> String {
    crate::support::temp_dir().file_name().unwrap().to_string_lossy().into_owned()
}
