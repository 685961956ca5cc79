//! Hostile input never panics, is refused with a typed error where it is malformed, and is
//! handled like any other login where it is merely odd.

use sspr_core::Pin;
use sspr_core::{ContactChange, ContactUpdate, Error, NewPassword, Password};

use crate::support::*;

fn hostile() -> Vec<String> {
    let mut inputs: Vec<String> = [
        "",
        " ",
        "\0",
        "alice\0@example.org",
        "alice@example.org\u{202E}",
        "\u{2066}admin\u{2069}",
        "a\u{200B}lice@example.org",
        "*",
        "*)(uid=*))(|(uid=*",
        "admin)(&(objectClass=*))",
        "\\2a",
        "' OR '1'='1' --",
        "'; DROP TABLE flows; --",
        "${jndi:ldap://127.0.0.1/a}",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "%00%0d%0a",
        "\r\nBcc: evil@example.org",
        "ﷺ𝕬𝖑𝖎𝖈𝖊",
        "\u{FFFF}\u{10FFFF}",
        "𐐷𐐷𐐷",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    inputs.push("a".repeat(10 * 1024));
    inputs.push("é".repeat(300));
    inputs.push("ﷺ".repeat(100)); // NFKC expands each of these to 18 characters
    inputs
}

#[tokio::test]
async fn hostile_logins_never_panic_and_never_reach_a_real_user() {
    let h = Harness::new().await;
    for input in hostile() {
        match h.sspr.begin_reset(&input, &ctx()).await {
            Ok(c) => {
                // Accepted as an (unknown) login: a decoy that never delivers.
                h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &ctx()).await.unwrap();
                assert!(h.outbox.messages().is_empty(), "{input:?}");
            }
            Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "login"),
            Err(other) => panic!("{input:?}: unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn hostile_flow_ids_methods_pins_and_confirmations_are_typed_errors() {
    let h = Harness::new().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    for input in hostile() {
        assert!(matches!(h.sspr.send_pin(&input, "email", None, &ctx()).await, Err(Error::InvalidInput { .. })));
        assert!(matches!(
            h.sspr.verify_pin(&input, Pin::new("12345678"), &ctx()).await,
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            h.sspr.complete_reset(&input, NewPassword::Temporary, &ctx()).await,
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(h.sspr.send_pin(&c.flow_id, &input, None, &ctx()).await, Err(Error::InvalidInput { .. })));
        assert!(h.sspr.status(&input).await.is_err());
    }
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
    for input in hostile() {
        assert!(matches!(
            h.sspr.verify_pin(&c.flow_id, Pin::new(&input), &ctx()).await,
            Err(Error::InvalidInput { .. })
        ));
    }
    // None of that cost an attempt.
    let pin = h.outbox.last_pin_to(ALICE_MAIL).unwrap();
    match h.sspr.verify_pin(&c.flow_id, Pin::new(Harness::wrong(&pin)), &ctx()).await {
        Err(Error::WrongPin { attempts_left }) => assert_eq!(attempts_left, 4),
        other => panic!("{other:?}"),
    }
    // A well-formed but unknown flow id is simply expired.
    assert!(matches!(h.sspr.verify_pin(&"0".repeat(32), Pin::new("12345678"), &ctx()).await, Err(Error::Expired)));
}

#[tokio::test]
async fn hostile_contacts_and_passwords_are_refused_without_change() {
    let policy = sspr_core::Policy { allow_chosen_password: true, ..policy() };
    let h = Harness::builder().policy(policy).build().await;
    let before = h.sspr.contacts(ALICE).await.unwrap();
    for input in hostile() {
        let update =
            ContactUpdate { email: ContactChange::Set(input.clone()), phone: ContactChange::Set(input.clone()) };
        assert!(matches!(
            h.sspr.update_contacts(&admin(), ALICE, update, &ctx()).await,
            Err(Error::InvalidInput { .. })
        ));
    }
    assert_eq!(h.sspr.contacts(ALICE).await.unwrap(), before);

    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    for input in hostile() {
        let result = h.sspr.complete_reset(&flow, NewPassword::Chosen(Password::new(input.clone())), &ctx()).await;
        match result {
            Err(Error::PasswordRejected { reason, .. }) => assert!(!reason.contains(&input) || input.len() < 3),
            Ok(_) => {} // a long odd string may well be a fine password
            Err(other) => panic!("{input:?}: unexpected {other:?}"),
        }
        if h.sspr.status(ALICE).await.unwrap().last_reset_at.is_some() {
            break;
        }
    }
}

mod any_text {
    //! Parsers on arbitrary text: never a panic, and normalisation is idempotent.

    use proptest::prelude::*;
    use sspr_core::{EmailAddress, Locale, NormalizedLogin, PhoneNumber, Policy};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn login_normalisation_is_total_and_idempotent(text in any::<String>()) {
            if let Ok(login) = NormalizedLogin::parse(&text) {
                let again = NormalizedLogin::parse(login.as_str()).expect("a normalised login parses");
                prop_assert_eq!(again.as_str(), login.as_str());
                prop_assert!(login.as_str().chars().count() <= sspr_core::MAX_LOGIN_CHARS);
            }
        }

        #[test]
        fn email_and_phone_parsing_is_total_and_idempotent(text in any::<String>(), digits in "[+0-9 ().-]{0,30}") {
            if let Ok(email) = EmailAddress::parse(&text) {
                prop_assert_eq!(EmailAddress::parse(email.as_str()).unwrap(), email.clone());
                let _ = sspr_core::mask::email(&email);
            }
            for input in [text.as_str(), digits.as_str()] {
                if let Ok(phone) = PhoneNumber::parse(input) {
                    prop_assert_eq!(PhoneNumber::parse(phone.as_str()).unwrap(), phone.clone());
                    prop_assert!(sspr_core::mask::phone(&phone).contains(" ******* "));
                }
            }
        }

        #[test]
        fn accept_language_and_policy_documents_never_panic(text in any::<String>()) {
            let _ = Locale::from_accept_language(&text);
            let _ = Policy::from_json(&text);
            let _ = Policy::from_toml(&text);
        }
    }
}

#[tokio::test]
async fn a_hostile_user_agent_reaches_the_audit_trail_short_and_without_control_characters() {
    let h = Harness::new().await;
    let forged = format!("Mozilla/5.0\r\n{{\"kind\":\"reset_completed\"}}\u{1b}[2J{}", "A".repeat(10_000));
    let ctx = sspr_core::RequestContext { user_agent: Some(forged), ..ctx() };
    h.sspr.begin_reset(ALICE, &ctx).await.unwrap();
    let agent = h.events().pop().unwrap().user_agent.unwrap();
    assert!(agent.starts_with("Mozilla/5.0{\"kind\""));
    assert!(!agent.chars().any(char::is_control));
    assert_eq!(agent.chars().count(), 256);
}

/// A user agent is the client's text, and a SIEM shows it. Unicode's line and paragraph
/// separators (U+2028, U+2029) are no control characters, and serde_json writes them raw: a
/// JSON-lines reader splitting with Python's `str.splitlines()` (or a viewer wrapping at them)
/// cut the event in two broken lines. Bidi overrides (U+202E ...) made a viewer show the text
/// reversed ("...moc.elpmaxe" reads as "example.com"). Neither reaches the audit trail now.
#[tokio::test]
async fn a_user_agent_cannot_split_an_audit_line_or_reverse_its_text() {
    let h = Harness::new().await;
    let forged =
        "curl/8\u{2028}{\\\"kind\\\":\\\"reset_completed\\\"}\u{2029}\u{202e}lmth.xe\u{202c}\u{2066}\u{200f}\u{61c}x";
    let ctx = sspr_core::RequestContext { user_agent: Some(forged.into()), ..ctx() };
    h.sspr.begin_reset(ALICE, &ctx).await.unwrap();
    let event = h.events().pop().unwrap();
    let line = event.to_json();
    assert_eq!(line.lines().count(), 1);
    for c in ['\u{2028}', '\u{2029}', '\u{202e}', '\u{202c}', '\u{2066}', '\u{200f}', '\u{61c}'] {
        assert!(!line.contains(c), "U+{:04X} reached the audit line: {line:?}", u32::from(c));
    }
    assert_eq!(event.user_agent.as_deref(), Some("curl/8{\\\"kind\\\":\\\"reset_completed\\\"}lmth.xex"));
}

/// An administrator's id is the host's text (often a name from its single sign-on, which a
/// user may have chosen): it reaches the audit trail under the user agent's rule, without
/// control, line-separator or bidi characters and cut at 256 characters. It went in as given.
#[tokio::test]
async fn an_administrators_id_reaches_the_audit_trail_under_the_user_agents_rule() {
    let h = Harness::new().await;
    let forged = format!(
        "helpdesk-1\r\n{{\"kind\":\"reset_completed\"}}\u{2028}\u{202e}nimda\u{202c}\u{1b}[2J{}",
        "A".repeat(300)
    );
    h.sspr.set_enabled(&sspr_core::Actor::Admin(forged), ALICE, false, &ctx()).await.unwrap();
    let event = h.events().pop().unwrap();
    assert_eq!(event.kind, sspr_core::AuditKind::EnabledChanged);
    let Some(sspr_core::Actor::Admin(id)) = &event.actor else { panic!("an admin's event: {event:?}") };
    assert!(id.starts_with("helpdesk-1{\"kind\":\"reset_completed\"}nimda[2JAAA"), "{id:?}");
    assert!(!id.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{202e}' | '\u{202c}')), "{id:?}");
    assert_eq!(id.chars().count(), 256);
    assert_eq!(event.to_json().lines().count(), 1);
}
