//! The notifiers: SMTP against the aiosmtpd sink `scripts/test.sh` starts; Twilio and the
//! webhook against wiremock (their real endpoints cannot run here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

#[path = "../support/maildir.rs"]
mod maildir;
#[path = "../support/outside_runtime.rs"]
mod outside_runtime;
// The server tier: the SMTP sink (feature `server-tests`, on in scripts/test.sh), and the
// proxy that slows it.
#[cfg(all(feature = "smtp", feature = "server-tests"))]
#[path = "../support/slow_proxy.rs"]
mod slow_proxy;
#[cfg(all(feature = "smtp", feature = "server-tests"))]
mod smtp;
#[cfg(feature = "sms-twilio")]
mod twilio;
#[cfg(feature = "webhook")]
mod webhook;

/// Shared by the HTTP notifier tests.
#[cfg(any(feature = "sms-twilio", feature = "webhook"))]
mod http_support {
    #![allow(dead_code, unreachable_pub)]
    use sspr_core::notice::{Message, Notification};
    use sspr_core::{Destination, Locale};

    /// A PIN notice and its PIN.
    pub fn pin_notice(to: Destination, seed: u64, locale: Locale) -> (Notification, String) {
        use rand_core::SeedableRng;
        let pin = sspr_core::pin::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed), 8);
        let digits = pin.expose_secret().to_owned();
        let notice = Notification {
            to,
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

    /// An engine whose one user has a phone and an address, SMS on.
    pub async fn engine(notifier: impl sspr_core::Notifier + 'static) -> sspr_core::Sspr {
        let directory = sspr_core::memory::MemoryDirectory::from_json(
            r#"[{"login": "alice@example.org", "display_name": "Alice Liddell", "dn": "uid=alice,ou=staff,dc=example,dc=org"}]"#,
        )
        .unwrap();
        let sspr = sspr_core::Sspr::builder()
            .directory(directory)
            .notifier(notifier)
            .secret_key(sspr_core::SecretKey::from_bytes(&[9; 32]).unwrap())
            .policy(sspr_core::Policy {
                sms_enabled: true,
                decoy_country_codes: vec!["1".into()],
                ..sspr_core::Policy::default()
            })
            .build()
            .unwrap();
        let admin = sspr_core::Actor::Admin("helpdesk".into());
        let ctx = sspr_core::RequestContext::default();
        sspr.set_enabled(&admin, "alice@example.org", true, &ctx).await.unwrap();
        let update = sspr_core::ContactUpdate {
            email: sspr_core::ContactChange::Set("alice.private@mail.example".into()),
            phone: sspr_core::ContactChange::Set("+447400900123".into()),
        };
        sspr.update_contacts(&admin, "alice@example.org", update, &ctx).await.unwrap();
        sspr
    }
}
