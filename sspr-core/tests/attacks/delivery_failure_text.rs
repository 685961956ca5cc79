//! Attack: an insider reading the audit trail (or the logs) learns a user's full address and
//! a live PIN from a failed delivery: the engine recorded the notifier's error text as it came,
//! and a mail server's refusal quotes the recipient ("550 5.1.1 <jane@...>"), a gateway's or a
//! host notifier's error may quote the whole message.
//! Defence: every notifier failure is cleared of the notice's PIN and full destination where
//! the engine sends it (`Notification::redact_from`), before it is logged or audited.

use std::sync::Arc;
use std::sync::Mutex;

use sspr_core::backend::Notifier;
use sspr_core::notice::Notification;
use sspr_core::{AuditKind, BackendError, BackendErrorKind, Outcome};

use crate::support::{ALICE, ALICE_MAIL, Harness, ctx};

/// Refuses every notice, quoting its recipient (upper-cased, as some servers echo it) and its PIN.
#[derive(Debug, Default)]
struct QuotingRelay {
    pins: Mutex<Vec<String>>,
}

#[sspr_core::async_trait]
impl Notifier for QuotingRelay {
    async fn send(&self, n: &Notification) -> Result<(), BackendError> {
        let pin = n.pin().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
        self.pins.lock().unwrap().push(pin.clone());
        let to = n.to.as_str().to_ascii_uppercase();
        Err(BackendError::new(
            BackendErrorKind::Rejected,
            format!("550 5.1.1 <{to}>: rejected message 'Your code is {pin}'"),
        ))
    }
}

#[tokio::test]
async fn a_notifier_quoting_the_recipient_and_the_pin_puts_neither_in_the_audit_trail() {
    let relay = Arc::new(QuotingRelay::default());
    let h = Harness::builder().notifier(relay.clone()).build().await;
    h.enroll(ALICE, Some(ALICE_MAIL), None).await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    let _answer = h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await;
    h.sspr.flush_deliveries().await;
    let pins = relay.pins.lock().unwrap().clone();
    assert!(pins.iter().any(|p| p.len() >= 6), "a PIN was handed to the relay: {pins:?}");
    let failed: Vec<_> = h
        .events()
        .into_iter()
        .filter(|e| e.kind == AuditKind::PinSent && matches!(e.outcome, Outcome::Failed { .. }))
        .collect();
    assert_eq!(failed.len(), 1, "the failed delivery is audited");
    let text = serde_json::to_string(&failed[0]).unwrap();
    assert!(text.contains("550 5.1.1 <"), "the relay's answer is kept: {text}");
    for pin in pins.iter().filter(|p| !p.is_empty()) {
        assert!(!text.contains(pin.as_str()), "the PIN reached the audit trail: {text}");
    }
    assert!(!text.to_ascii_lowercase().contains(ALICE_MAIL), "the full address reached the audit trail: {text}");
}

/// Refuses every notice as an HTTP client's error does, quoting the request's URL: the
/// address percent-encoded (`jane%40home.example`), as a host notifier calling a mail API
/// with the recipient in the query would see it raised.
#[derive(Debug, Default)]
struct UrlQuotingGateway;

#[sspr_core::async_trait]
impl Notifier for UrlQuotingGateway {
    async fn send(&self, n: &Notification) -> Result<(), BackendError> {
        let to = n.to.as_str().replace('@', "%40").replace('+', "%2B");
        Err(BackendError::new(
            BackendErrorKind::Rejected,
            format!("400 Client Error: Bad Request for url: https://mail-api.example/send?to={to}"),
        ))
    }
}

#[tokio::test]
async fn a_notifier_quoting_the_recipient_in_a_url_puts_no_address_in_the_audit_trail() {
    let h = Harness::builder().notifier(Arc::new(UrlQuotingGateway)).build().await;
    h.enroll(ALICE, Some(ALICE_MAIL), None).await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    let _answer = h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await;
    h.sspr.flush_deliveries().await;
    let text = serde_json::to_string(&h.events_of(AuditKind::PinSent)).unwrap();
    assert!(text.contains("mail-api.example/send?to="), "the gateway's answer is kept: {text}");
    let encoded = ALICE_MAIL.replace('@', "%40");
    assert!(
        !text.to_ascii_lowercase().contains(&encoded.to_ascii_lowercase()),
        "the address reached the trail: {text}"
    );
}

/// An address a host's unique index already holds.
const TAKEN: &str = "jane.doe@home.example";

/// The in-memory contact store, refusing a save of [`TAKEN`] as PostgreSQL refuses a duplicate under a
/// host's unique index, quoting the value (psycopg's `DETAIL: Key (email)=(...) already exists.`).
#[derive(Debug)]
struct UniqueIndexStore {
    inner: sspr_core::memory::MemoryContactStore,
}

#[sspr_core::async_trait]
impl sspr_core::ContactStore for UniqueIndexStore {
    async fn get(&self, user: &sspr_core::UserId) -> Result<Option<sspr_core::backend::Enrollment>, BackendError> {
        self.inner.get(user).await
    }
    async fn save(
        &self,
        user: &sspr_core::UserId,
        enrollment: &sspr_core::backend::Enrollment,
        expected_version: u64,
    ) -> Result<bool, BackendError> {
        match (&enrollment.email, &enrollment.phone) {
            (Some(email), phone) if email.value.as_str() == TAKEN => Err(BackendError::new(
                BackendErrorKind::Rejected,
                format!(
                    "duplicate key value violates unique constraint \"contacts_email_key\"\nDETAIL: Key (email, phone)=({}, {}) already exists.",
                    email.value.as_str().to_ascii_uppercase(),
                    phone.as_ref().map_or("", |p| p.value.as_str().trim_start_matches('+')),
                ),
            )),
            _ => self.inner.save(user, enrollment, expected_version).await,
        }
    }
    async fn list(
        &self,
        after: Option<&sspr_core::UserId>,
        limit: usize,
    ) -> Result<Vec<(sspr_core::UserId, sspr_core::backend::Enrollment)>, BackendError> {
        self.inner.list(after, limit).await
    }
}

/// The same for the contact store: a save that fails quoting the new address reached the
/// caller's error (which the portal logs, and a binding raises into the host's logs).
#[tokio::test]
async fn a_contact_store_quoting_the_address_puts_it_in_no_error() {
    let h = Harness::builder()
        .contacts(|inner| Arc::new(UniqueIndexStore { inner }) as Arc<dyn sspr_core::ContactStore>)
        .build()
        .await;
    let update = sspr_core::ContactUpdate {
        email: sspr_core::ContactChange::Set(TAKEN.into()),
        phone: sspr_core::ContactChange::Set("+447400900123".into()),
    };
    let failed = h.sspr.update_contacts(&crate::support::admin(), ALICE, update, &ctx()).await;
    let failed = failed.expect_err("the store refused");
    let seen = format!("{failed} {failed:?} {}", serde_json::to_string(&h.events()).unwrap());
    assert!(seen.contains("contacts_email_key"), "the store's answer is kept: {seen}");
    for secret in [TAKEN, "447400900123"] {
        assert!(!seen.to_ascii_lowercase().contains(secret), "{secret} reached the error: {seen}");
    }
}

/// Refuses every SMS quoting the number as a national gateway writes it: trunk prefix and
/// national number, no country code (`07400900123` for `+447400900123`).
#[derive(Debug, Default)]
struct NationalGateway;

#[sspr_core::async_trait]
impl Notifier for NationalGateway {
    async fn send(&self, n: &Notification) -> Result<(), BackendError> {
        let national = n.to.as_str().trim_start_matches("+44");
        Err(BackendError::new(BackendErrorKind::Rejected, format!("invalid destination 0{national}: not a mobile")))
    }
}

#[tokio::test]
async fn a_gateway_quoting_the_number_in_national_form_puts_no_number_in_the_audit_trail() {
    let h = Harness::builder().notifier(Arc::new(NationalGateway)).build().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    let _answer = h.sspr.send_pin(&c.flow_id, "sms", None, &ctx()).await;
    h.sspr.flush_deliveries().await;
    let text = serde_json::to_string(&h.events_of(AuditKind::PinSent)).unwrap();
    assert!(text.contains("invalid destination"), "the gateway's answer is kept: {text}");
    let national = crate::support::ALICE_PHONE.trim_start_matches("+44");
    assert!(national.len() >= 9 && !text.contains(national), "the number reached the trail: {text}");
}
