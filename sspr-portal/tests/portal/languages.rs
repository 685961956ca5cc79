//! Languages: a browser's `Accept-Language` picks the notices' language among sspr-core's
//! six, and the development outbox previews every notice in every language.

use axum::http::StatusCode;

use crate::support::{Browser, config, portal, reset_to_pin};

#[tokio::test]
async fn a_french_browser_gets_french_notices_and_english_pages() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    browser.accept_language = Some("fr-CH, fr;q=0.9, en;q=0.5");
    let page = browser.get("/passwordreset").await;
    // The pages are not translated yet: English, and said so.
    assert!(page.body.contains("<html lang=\"en\">"), "{}", page.main());
    reset_to_pin(&mut browser, "jane.doe@example.org").await;
    let mail = portal.outbox().unwrap().messages_to("jane@private.example");
    let pin = mail.last().unwrap().render();
    assert_eq!(pin.subject, "Votre code de réinitialisation du mot de passe");
    assert!(pin.body.starts_with("Votre code est "), "{}", pin.body.as_str());
}

#[tokio::test]
async fn the_outbox_previews_every_notice_in_every_language() {
    let toml = "[policy]\nmin_response_ms = 0\ntime_zone = \"Europe/Paris\"\n[store]\nkind = \"memory\"\n";
    let portal = sspr_portal::Portal::build(&config(toml)).await.unwrap();
    let mut browser = Browser::new(&portal);
    let outbox = browser.get("/outbox").await;
    assert!(outbox.body.contains("href=\"/outbox/preview\""), "the outbox links the preview");
    let page = browser.get("/outbox/preview").await;
    assert_eq!(page.status, StatusCode::OK);
    let kinds = page.body.matches("<section class=\"notice\"").count();
    assert!(kinds >= 15, "{kinds} notices");
    for lang in ["en", "de", "fr", "es", "it", "nl"] {
        assert_eq!(page.body.matches(&format!("data-locale=\"{lang}\"")).count(), kinds, "{lang}: each notice once");
    }
    for text in [
        "Your code is 12345678",
        "Ihr Code lautet 12345678",
        "Votre code est 12345678",
        "Su código es 12345678",
        "Su clave es 12345678",
        "Il Suo codice è 12345678",
        "Uw code is 12345678",
        // A date in the policy's time zone (21:00 UTC is 22:00 in Paris in December).
        "Le 5 décembre 2026 à 22:00 (UTC+1), la réinitialisation de votre mot de passe a été demandée",
        "Am 5. Dezember 2026 um 22:00 (UTC+1) wurde Ihr Kennwort zurückgesetzt",
    ] {
        assert!(page.body.contains(text), "{text:?} missing");
    }
}
