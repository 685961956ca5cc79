//! Languages: a browser's `Accept-Language` picks the pages' and the notices' language among
//! sspr-core's six (English when none fits), the enumeration defence holds in each, and the
//! development outbox previews every notice in every language.

use axum::http::StatusCode;

use crate::support::{Browser, config, portal, reset_to_pin};

#[tokio::test]
async fn a_french_browser_gets_french_pages_and_french_notices() {
    let portal = portal().await;
    let mut browser = Browser::new(&portal);
    browser.accept_language = Some("fr-CH, fr;q=0.9, en;q=0.5");
    let page = browser.get("/passwordreset").await;
    assert!(page.body.contains("<html lang=\"fr\">"), "{}", page.main());
    assert!(page.main().contains("Réinitialiser votre mot de passe"), "{}", page.main());
    let pin_page = reset_to_pin(&mut browser, "jane.doe@example.org").await;
    assert!(pin_page.main().contains("Un code a été envoyé à j***@p***.example."), "{}", pin_page.main());
    let status = pin_page.by_id("pin-status").unwrap();
    assert!(status.starts_with("Valable jusqu’à ") && status.ends_with("5 tentatives restantes."), "{status}");
    let wrong = browser.submit("/passwordreset/verify", &[("csrf", &pin_page.csrf()), ("pin", "00000000")]).await;
    assert_eq!(wrong.alert().as_deref(), Some("Le code est incorrect. 4 tentatives restantes."));
    let mail = portal.outbox().unwrap().messages_to("jane@private.example");
    let pin = mail.last().unwrap().render();
    assert_eq!(pin.subject, "Votre code de réinitialisation du mot de passe");
    assert!(pin.body.starts_with("Votre code est "), "{}", pin.body.as_str());
}

/// The languages, a header asking for each, and the reset page's heading in it.
const LANGUAGES: &[(&str, &str, &str)] = &[
    ("en", "en-GB,en;q=0.8", "Reset your password"),
    ("de", "de-AT, de;q=0.9", "Kennwort zurücksetzen"),
    ("fr", "fr-CA,fr;q=0.9,en;q=0.5", "Réinitialiser votre mot de passe"),
    ("es", "es-419, es;q=0.9, en;q=0.1", "Restablecer su contraseña"),
    ("it", "it-CH;q=0.9, pl;q=1.0", "Reimposti la password"),
    ("nl", "nl-BE", "Uw wachtwoord opnieuw instellen"),
];

/// One GET over a TCP connection, as a browser sends it; the whole answer (head and body).
async fn http_get(address: std::net::SocketAddr, path: &str, accept_language: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept-Language: {accept_language}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8(answer).unwrap()
}

#[tokio::test]
async fn each_language_gets_its_reset_page_over_http_and_an_unsupported_one_gets_english() {
    let portal = portal().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = portal.clone();
    let server = tokio::spawn(async move {
        serving
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
    });
    for (lang, header, heading) in LANGUAGES {
        let answer = http_get(address, "/passwordreset", header).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{lang}: {answer}");
        assert!(answer.contains(&format!("<html lang=\"{lang}\">")), "{lang}: {answer}");
        assert!(answer.contains(&format!("<h1>{heading}</h1>")), "{lang}: {answer}");
        // No English left on the page but the brand-neutral bits (the example login).
        if *lang != "en" {
            for english in
                ["Reset your password", ">Continue<", "User name", ">Start over<", "I have a code from the helpdesk"]
            {
                assert!(!answer.contains(english), "{lang}: {english:?} in {answer}");
            }
        }
    }
    // Polish and Portuguese are not offered: English, and `lang` says so.
    for header in ["pl-PL, pl;q=0.9", "pt-BR", "*", "xx-invalid;;;"] {
        let answer = http_get(address, "/passwordreset", header).await;
        assert!(answer.contains("<html lang=\"en\">") && answer.contains("<h1>Reset your password</h1>"), "{header}");
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// `text` with `from` replaced at its first occurrence after `after`, up to the next `until`.
fn replace_between(text: &mut String, after: &str, until: char, with: &str) {
    let start = text.find(after).unwrap_or_else(|| panic!("{after:?} not in {text}")) + after.len();
    let end = text[start..].find(until).unwrap() + start;
    text.replace_range(start..end, with);
}

#[tokio::test]
async fn an_unknown_login_reads_byte_for_byte_like_a_known_one_in_every_language() {
    for (lang, header, _) in LANGUAGES {
        // A portal per language: jane's sends per hour are limited.
        let portal = portal().await;
        let locale: sspr_core::Locale = lang.parse().unwrap();
        let mut known = Browser::with_ip(&portal, "192.0.2.20");
        let mut unknown = Browser::with_ip(&portal, "192.0.2.21");
        known.accept_language = Some(*header);
        unknown.accept_language = Some(*header);
        let a = reset_to_pin(&mut known, "jane.doe@example.org").await;
        let sent_for_jane = portal.outbox().unwrap().messages().len();
        assert!(sent_for_jane > 0, "{lang}");
        let b = reset_to_pin(&mut unknown, "nobody.here@example.org").await;
        assert!(a.body.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        // The text around the masked address, in this language.
        let sent = sspr_core::pages::text(locale, "pin-sent", &[("masked", "\u{1}".into())]);
        let (before_masked, _) = sent.split_once('\u{1}').unwrap();
        let shape = |page: &crate::support::Answer| {
            let mut body = page.body.replace(&page.csrf(), "TOKEN");
            replace_between(&mut body, before_masked, '<', "MASKED");
            // The minute of expiry may differ by one: the clock time in the status line.
            replace_between(&mut body, "id=\"pin-status\">", '(', "HH:MM ");
            body
        };
        assert_eq!(shape(&a), shape(&b), "{lang}: the PIN pages differ");
        assert!(a.main().contains(before_masked.trim()), "{lang}: {}", a.main());

        // A wrong PIN: the same answer, the same page.
        let wa = known.submit("/passwordreset/verify", &[("csrf", &a.csrf()), ("pin", "12345678")]).await;
        let wb = unknown.submit("/passwordreset/verify", &[("csrf", &b.csrf()), ("pin", "12345678")]).await;
        assert_eq!(wa.status, wb.status, "{lang}");
        assert_eq!(wa.alert(), wb.alert(), "{lang}");
        let wrong = sspr_core::pages::text(locale, "wrong-pin", &[("attempts", 4u32.into())]);
        assert_eq!(wa.alert().as_deref(), Some(wrong.as_str()), "{lang}");
        assert_eq!(shape(&wa), shape(&wb), "{lang}: the wrong-PIN pages differ");
        // Nothing was sent for the unknown login.
        assert_eq!(portal.outbox().unwrap().messages().len(), sent_for_jane, "{lang}");
    }
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
