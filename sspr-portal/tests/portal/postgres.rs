//! The portal with `[store] kind = "postgres"` on the PostgreSQL server scripts/test.sh
//! starts: contacts and state in the database, kept across a restart of the portal.

use crate::support::{Browser, reset_to_pin};

#[tokio::test]
async fn contacts_and_state_in_postgresql_survive_a_restart() {
    let url = std::env::var("SSPR_TEST_POSTGRES_URL")
        .expect("SSPR_TEST_POSTGRES_URL is not set: run the tests via ./scripts/test.sh (it starts PostgreSQL)");
    let config = crate::support::config(&format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"postgres\"\nurl = \"{url}\"\n"
    ));
    let portal = sspr_portal::Portal::build(&config).await.unwrap();
    assert!(portal.summary().contains("store: PostgreSQL"), "{}", portal.summary());
    // A mailbox of this run's own: the database outlives test runs.
    let address = format!("max-{}@mail.example", config.data_dir.file_name().unwrap().to_string_lossy());
    let admin = sspr_core::Actor::Admin("test".into());
    let update =
        sspr_core::ContactUpdate { email: sspr_core::ContactChange::Set(address.clone()), ..Default::default() };
    portal.sspr().update_contacts(&admin, "max.mustermann@example.org", update, &Default::default()).await.unwrap();
    drop(portal);

    let again = sspr_portal::Portal::build(&config).await.unwrap();
    assert!(again.sspr().status("max.mustermann@example.org").await.unwrap().enabled);
    let mut browser = Browser::new(&again);
    let page = reset_to_pin(&mut browser, "max.mustermann@example.org").await;
    assert!(page.body.contains("id=\"pin-status\""), "{}", page.main());
    let pin = again.outbox().unwrap().last_pin_to(&address).expect("the PIN went to the registered address");
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &page.csrf()), ("pin", &pin)]).await;
    assert!(modes.body.contains("value=\"temporary\""), "{}", modes.main());
}
