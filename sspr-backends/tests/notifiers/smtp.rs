//! The SMTP notifier against the sink: STARTTLS and implicit TLS with AUTH, the message as
//! delivered, refusals, and the engine's whole flow with the PIN read from the Maildir.

use std::path::PathBuf;
use std::sync::Arc;

use sspr_backends::smtp::{SmtpConfig, SmtpNotifier, SmtpTls};
use sspr_core::memory::MemoryDirectory;
use sspr_core::notice::{Message, Notification};
use sspr_core::{
    Actor, BackendErrorKind, ContactChange, ContactUpdate, Destination, EmailAddress, Locale, Notifier, PhoneNumber,
    RequestContext, SecretKey, Sspr,
};

use crate::maildir;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through ./scripts/test.sh, or source scripts/lib.sh, scripts/servers/00-pki.sh and scripts/servers/30-smtp.sh first")
    })
}

fn config(tls: SmtpTls) -> SmtpConfig {
    let port = match tls {
        SmtpTls::Implicit => env("SSPR_TEST_SMTP_TLS_PORT"),
        _ => env("SSPR_TEST_SMTP_STARTTLS_PORT"),
    };
    SmtpConfig {
        port: Some(port.parse().unwrap()),
        tls,
        username: Some(env("SSPR_TEST_SMTP_USER")),
        password: Some(env("SSPR_TEST_SMTP_PASSWORD")),
        ca_file: Some(PathBuf::from(env("SSPR_TEST_CA"))),
        ..SmtpConfig::new(env("SSPR_TEST_SMTP_HOST"), "Password reset <no-reply@example.org>")
    }
}

/// An address no other test uses.
fn address(tag: &str) -> String {
    let nanos = std::time::SystemTime::UNIX_EPOCH.elapsed().unwrap().as_nanos();
    format!("{tag}.{}.{nanos}@mail.example", std::process::id())
}

/// A PIN notice to `to` and its PIN.
fn pin_notice(to: &str, seed: u64, locale: Locale) -> (Notification, String) {
    use rand_core::SeedableRng;
    let pin = sspr_core::pin::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed), 8);
    let digits = pin.expose_secret().to_owned();
    let notice = Notification {
        to: Destination::Email(EmailAddress::parse(to).unwrap()),
        locale,
        message: Message::Pin {
            pin,
            expires_at: time::macros::datetime!(2026-03-02 09:10 UTC),
            valid_minutes: 10,
            purpose: Default::default(),
        },
        at: time::macros::datetime!(2026-03-02 09:00 UTC),
    };
    (notice, digits)
}

#[tokio::test]
async fn a_pin_goes_out_over_starttls_as_text_and_html() {
    let to = address("starttls");
    let notifier = SmtpNotifier::from_config(&config(SmtpTls::Starttls)).unwrap();
    let (notice, pin) = pin_notice(&to, 1, Locale::En);
    notifier.send(&notice).await.unwrap();
    let mail = maildir::wait_for_messages_in(&maildir::maildir(), &to, 1).await.pop().unwrap();
    assert_eq!(mail.header("Subject"), Some("Your password reset code"));
    assert_eq!(mail.header("From"), Some("\"Password reset\" <no-reply@example.org>"));
    assert_eq!(mail.header("Content-Language"), Some("en"));
    assert!(mail.header("Message-ID").is_some() && mail.header("Date").is_some());
    assert_eq!(mail.pin(), Some(pin.clone()));
    assert!(mail.text.contains("valid for 10 minutes"), "{}", mail.text);
    let html = mail.html.as_deref().expect("an HTML alternative");
    assert!(html.contains("<html lang=\"en\">") && html.contains(&pin), "{html}");
    assert!(String::from_utf8_lossy(&mail.raw).contains("multipart/alternative"));
}

#[tokio::test]
async fn implicit_tls_delivers_in_german() {
    let to = address("smtps");
    let notifier = SmtpNotifier::from_config(&config(SmtpTls::Implicit)).unwrap();
    let (notice, pin) = pin_notice(&to, 2, Locale::De);
    notifier.send(&notice).await.unwrap();
    let mail = maildir::wait_for_messages_in(&maildir::maildir(), &to, 1).await.pop().unwrap();
    assert_eq!(mail.header("Subject"), Some("Ihr Code zum Zurücksetzen des Kennworts"), "encoded and decoded");
    assert_eq!(mail.header("Content-Language"), Some("de"));
    assert!(mail.text.contains(&format!("Ihr Code lautet {pin}")), "{}", mail.text);
    assert!(mail.html.unwrap().contains("<html lang=\"de\">"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_nothing_is_sent() {
    let to = address("badauth");
    let config = SmtpConfig { password: Some("not-the-password".into()), ..config(SmtpTls::Starttls) };
    let (notice, pin) = pin_notice(&to, 3, Locale::En);
    let err = SmtpNotifier::from_config(&config).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected, "{err:?}");
    assert!(!format!("{err:?} {err}").contains("not-the-password"));
    assert!(!format!("{err:?} {err}").contains(&pin), "no PIN in the error");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(maildir::messages_to(&maildir::maildir(), &to).is_empty());
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused() {
    // Without the test CA, the sink's certificate does not verify against the public roots.
    let to = address("untrusted");
    for tls in [SmtpTls::Starttls, SmtpTls::Implicit] {
        let config = SmtpConfig { ca_file: None, ..config(tls) };
        let (notice, _) = pin_notice(&to, 4, Locale::En);
        let err = SmtpNotifier::from_config(&config).unwrap().send(&notice).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Other, "{tls:?}: {err}");
        assert!(err.to_string().contains("TLS") && err.to_string().contains("certificate"), "{tls:?}: {err}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(maildir::messages_to(&maildir::maildir(), &to).is_empty(), "nothing is sent over an unverified link");
}

#[tokio::test]
async fn an_unreachable_relay_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = SmtpConfig { port: Some(port), ..config(SmtpTls::Starttls) };
    let (notice, _) = pin_notice(&address("down"), 5, Locale::En);
    let err = SmtpNotifier::from_config(&config).unwrap().send(&notice).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err:?}");
}

#[tokio::test]
async fn sms_is_not_this_notifiers_channel() {
    let notifier = SmtpNotifier::from_config(&config(SmtpTls::Starttls)).unwrap();
    let (mut notice, _) = pin_notice("a@example.org", 6, Locale::En);
    notice.to = Destination::Sms(PhoneNumber::parse("+447400900123").unwrap());
    assert_eq!(notifier.send(&notice).await.unwrap_err().kind(), BackendErrorKind::Rejected);
}

#[tokio::test]
async fn no_header_can_be_injected() {
    // Through the sender: refused when configured.
    for from in ["a@example.org\r\nBcc: evil@attacker.example", "Evil\r\nBcc: evil@attacker.example <a@example.org>"] {
        let config = SmtpConfig::new("smtp.example.org", from);
        let err = SmtpNotifier::from_config(&config).unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Rejected, "{from:?}");
    }
    // Through a recipient: sspr-core never lets one exist.
    assert!(EmailAddress::parse("jane@example.org\r\nBcc: evil@attacker.example").is_err());
    assert!(EmailAddress::parse("jane@example.org\nBcc: evil@attacker.example").is_err());
    // The message as built: exactly one recipient header, no Bcc, the subject folded safely.
    let notifier = SmtpNotifier::from_config(&SmtpConfig::new("smtp.example.org", "no-reply@example.org")).unwrap();
    let notice = Notification {
        to: Destination::Email(EmailAddress::parse("jane@example.org").unwrap()),
        locale: Locale::En,
        message: Message::ResetRequested {
            channel: sspr_core::Channel::Email,
            masked: "j***@e***.org\r\nBcc: evil@attacker.example".into(),
        },
        at: time::macros::datetime!(2026-03-02 09:00 UTC),
    };
    let raw = String::from_utf8(notifier.message(&notice).unwrap().formatted()).unwrap();
    let (head, _) = raw.split_once("\r\n\r\n").unwrap();
    assert!(!head.to_ascii_lowercase().contains("bcc"), "{head}");
    assert_eq!(head.matches("\r\nTo: ").count() + usize::from(head.starts_with("To: ")), 1, "{head}");
}

#[tokio::test]
async fn the_password_never_shows() {
    let config: SmtpConfig = toml::from_str(
        r#"
        host = "smtp.example.org"
        username = "sspr"
        password = "hunter2-s3cret"
        from = "no-reply@example.org"
        "#,
    )
    .unwrap();
    assert!(!format!("{config:?}").contains("hunter2-s3cret"), "{config:?}");
    let notifier = SmtpNotifier::from_config(&config).unwrap();
    assert!(!format!("{notifier:?}").contains("hunter2-s3cret"), "{notifier:?}");
    assert!(
        toml::from_str::<SmtpConfig>("host = \"x\"\nfrom = \"a@b.org\"\ntls = \"ssl\"").is_err(),
        "unknown TLS mode"
    );
}

/// The engine's reset with this notifier: the PIN is read from the delivered mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_reset_with_the_pin_from_the_mailbox() {
    let to = address("flow");
    let directory = MemoryDirectory::from_json(
        r#"[{"login": "alice@example.org", "display_name": "Alice Liddell", "dn": "uid=alice,ou=staff,dc=example,dc=org"}]"#,
    )
    .unwrap();
    let sspr = Sspr::builder()
        .directory(directory)
        .notifier_arc(Arc::new(SmtpNotifier::from_config(&config(SmtpTls::Starttls)).unwrap()))
        .secret_key(SecretKey::from_bytes(&[7; 32]).unwrap())
        .build()
        .unwrap();
    let admin = Actor::Admin("helpdesk".into());
    let ctx = RequestContext { locale: Locale::De, ..RequestContext::default() };
    sspr.set_enabled(&admin, "alice@example.org", true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set(to.clone()), ..Default::default() };
    sspr.update_contacts(&admin, "alice@example.org", update, &ctx).await.unwrap();
    let challenge = sspr.begin_reset("alice@example.org", &ctx).await.unwrap();
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    let mail = maildir::wait_for_messages_in(&maildir::maildir(), &to, 1).await;
    let pin_mail = mail.iter().rev().find(|m| m.pin().is_some()).expect("a PIN mail");
    assert_eq!(pin_mail.header("Content-Language"), Some("de"), "the request's language");
    let pin = maildir::wait_for_pin(&to).await;
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
    let outcome = sspr.complete_reset(&challenge.flow_id, sspr_core::NewPassword::Temporary, &ctx).await.unwrap();
    assert!(outcome.must_change);
}

#[test]
fn building_outside_a_runtime_is_an_error_not_a_panic() {
    let err = SmtpNotifier::from_config(&SmtpConfig::new("smtp.example.org", "a@example.org")).unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
}

fn sink(args: &[&str]) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp/sink.sh");
    let status = std::process::Command::new("bash").arg(&script).args(args).status().unwrap();
    assert!(status.success(), "sink.sh {args:?} failed");
}

/// The relay stops mid-flow: `send_pin` answers as usual (an error would tell a real account
/// from an unknown login, whose PIN is never sent), the delivery is retried in the background,
/// and once the relay is back the PIN arrives and verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_stopped_mid_flow_is_hidden_and_the_pin_arrives_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap().to_owned();
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let (starttls_port, tls_port) = (free(), free());
    sink(&["start", &dir_arg, &starttls_port, &tls_port]);
    let _stop = StopSink(dir_arg.clone());
    let config = SmtpConfig { port: Some(starttls_port.parse().unwrap()), ..config(SmtpTls::Starttls) };
    let to = address("fault");
    let directory = MemoryDirectory::from_json(
        r#"[{"login": "alice@example.org", "display_name": "Alice Liddell", "dn": "uid=alice,ou=staff,dc=example,dc=org"}]"#,
    )
    .unwrap();
    let sspr = Sspr::builder()
        .directory(directory)
        .notifier_arc(Arc::new(SmtpNotifier::from_config(&config).unwrap()))
        .secret_key(SecretKey::from_bytes(&[7; 32]).unwrap())
        .build()
        .unwrap();
    let (admin, ctx) = (Actor::Admin("helpdesk".into()), RequestContext::default());
    sspr.set_enabled(&admin, "alice@example.org", true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set(to.clone()), ..Default::default() };
    sspr.update_contacts(&admin, "alice@example.org", update, &ctx).await.unwrap();
    let challenge = sspr.begin_reset("alice@example.org", &ctx).await.unwrap();

    sink(&["stop", &dir_arg]);
    let sent = sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await;
    assert!(sent.is_ok(), "a relay outage must not show in the answer: {sent:?}");
    // The first attempt found no relay; the next, 2 s later, finds it back.
    sink(&["start", &dir_arg, &starttls_port, &tls_port]);
    sspr.flush_deliveries().await;
    let mail = maildir::wait_for_messages_in(&dir.path().join("maildir"), &to, 1).await;
    let pin = mail.iter().rev().find_map(maildir::Mail::pin).expect("the PIN mail");
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
}

/// Stops a private sink when dropped, so a failing test does not leave it running.
struct StopSink(String);

impl Drop for StopSink {
    fn drop(&mut self) {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp/sink.sh");
        let _ = std::process::Command::new("bash").arg(script).args(["stop", &self.0]).status();
    }
}

/// Python and JavaScript drop objects on their own threads, outside any tokio runtime: the
/// SMTP pool's drop (which spawns its shutdown) must not panic there, also after a message
/// went out (a connection is parked in the pool).
#[test]
fn an_smtp_notifier_dropped_outside_a_runtime_does_not_panic() {
    crate::outside_runtime::drop_outside_runtime("SmtpNotifier", || async {
        let notifier = SmtpNotifier::from_config(&config(SmtpTls::Starttls)).unwrap();
        let (notice, _) = pin_notice(&address("drop"), 11, Locale::En);
        notifier.send(&notice).await.unwrap();
        notifier
    });
}

/// A TCP proxy to the sink's STARTTLS port holding every answer of the relay for `delay`:
/// a relay slowed by load or far away.
async fn slow_relay(delay: std::time::Duration) -> u16 {
    let target = format!("{}:{}", env("SSPR_TEST_SMTP_HOST"), env("SSPR_TEST_SMTP_STARTTLS_PORT"));
    crate::slow_proxy::slow_proxy(&env("SSPR_TEST_SMTP_HOST"), target, delay).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_relay_answers_a_real_and_an_unknown_login_in_the_same_time() {
    // Every relay answer 100 ms away (a dozen round trips a message): the PIN's delivery
    // leaves the request path, so send_pin takes the padded 300 ms for a real account as
    // for a login nobody has, and the PIN still arrives.
    let to = address("slow");
    let config =
        SmtpConfig { port: Some(slow_relay(std::time::Duration::from_millis(100)).await), ..config(SmtpTls::Starttls) };
    let directory = MemoryDirectory::from_json(
        r#"[{"login": "alice@example.org", "display_name": "Alice Liddell", "dn": "uid=alice,ou=staff,dc=example,dc=org"}]"#,
    )
    .unwrap();
    let sspr = Sspr::builder()
        .directory(directory)
        .notifier_arc(Arc::new(SmtpNotifier::from_config(&config).unwrap()))
        .secret_key(SecretKey::from_bytes(&[7; 32]).unwrap())
        .build()
        .unwrap();
    let admin = Actor::Admin("helpdesk".into());
    sspr.set_enabled(&admin, "alice@example.org", true, &RequestContext::default()).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set(to.clone()), ..Default::default() };
    sspr.update_contacts(&admin, "alice@example.org", update, &RequestContext::default()).await.unwrap();
    let median = |samples: &mut Vec<u128>| {
        samples.sort_unstable();
        samples[samples.len() / 2]
    };
    let (mut real, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..5 {
        let ctx = RequestContext::from_ip(format!("198.51.100.{}", i + 1).parse().unwrap());
        for (login, samples) in [("alice@example.org", &mut real), ("nobody@example.org", &mut unknown)] {
            let challenge = sspr.begin_reset(login, &ctx).await.unwrap();
            #[allow(clippy::disallowed_methods)] // what a prober measures is real time
            let started = std::time::Instant::now();
            sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
            samples.push(started.elapsed().as_millis());
        }
    }
    let (real, unknown) = (median(&mut real), median(&mut unknown));
    assert!(real.abs_diff(unknown) < 50, "send_pin took {real} ms for a real login, {unknown} ms for an unknown one");
    sspr.flush_deliveries().await;
    assert!(maildir::wait_for_pin(&to).await.len() == 8, "the PIN arrived through the slow relay");
}
