//! Event hooks and admin alerts: a host hears the events it subscribed to, a failing or
//! hanging hook never breaks a reset and is audited, and security notices reach the admins at
//! most once per interval however hard an attacker tries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sspr_core::{
    AuditEvent, AuditKind, BackendError, BackendErrorKind, DecoyReason, EventHook, HookEvent, NewPassword, Outcome,
    Pin, Policy, async_trait,
};

use crate::support::*;

/// Keeps what it heard; fails every call when `fail` is set, never answers when `hang` is.
#[derive(Debug, Default)]
struct Recorder {
    heard: Mutex<Vec<(HookEvent, AuditEvent)>>,
    fail: bool,
    hang: bool,
}

#[async_trait]
impl EventHook for Recorder {
    async fn on_event(&self, event: HookEvent, audit: &AuditEvent) -> Result<(), BackendError> {
        self.heard.lock().unwrap().push((event, audit.clone()));
        if self.hang {
            std::future::pending::<()>().await;
        }
        if self.fail {
            return Err(BackendError::new(BackendErrorKind::Unavailable, "the session service is down"));
        }
        Ok(())
    }
}

impl Recorder {
    fn heard(&self) -> Vec<HookEvent> {
        self.heard.lock().unwrap().iter().map(|(e, _)| *e).collect()
    }
    fn clear(&self) {
        self.heard.lock().unwrap().clear();
    }
}

/// A whole reset of alice with a temporary password; returns the password.
async fn reset_alice(h: &Harness) -> String {
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let done = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    h.sspr.flush_deliveries().await;
    done.temporary_password.unwrap().expose_secret().to_owned()
}

#[tokio::test]
async fn a_hook_hears_the_events_it_subscribed_to_and_nothing_else() {
    let hook = Arc::new(Recorder::default());
    let h = Harness::builder().hook(&[HookEvent::ResetCompleted, HookEvent::UserBlocked], hook.clone()).build().await;
    h.sspr.flush_deliveries().await;
    assert!(hook.heard().is_empty(), "the set-up changed contacts, which this hook did not subscribe to");

    let password = reset_alice(&h).await;
    let heard = hook.heard.lock().unwrap().clone();
    let [(HookEvent::ResetCompleted, audit)] = heard.as_slice() else { panic!("{heard:?}") };
    let alice = h.sspr.status(ALICE).await.unwrap().user_id;
    assert_eq!(audit.user_id.as_ref(), Some(&alice), "the hook knows whose sessions to end");
    assert!(!format!("{heard:?}").contains(&password), "no secret reaches a hook");

    // Blocked after too many wrong PINs: one UserBlocked.
    hook.clear();
    for _ in 0..50 {
        let Ok(c) = h.sspr.begin_reset(BOB, &ctx()).await else { break };
        h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.unwrap();
        let pin = h.outbox.last_pin_to(BOB_MAIL).unwrap();
        let _ = h.sspr.verify_pin(&c.flow_id, Pin::new(Harness::wrong(&pin)), &ctx()).await;
    }
    h.sspr.flush_deliveries().await;
    assert_eq!(hook.heard(), [HookEvent::UserBlocked]);
}

#[tokio::test]
async fn a_failing_hook_never_breaks_a_reset_and_its_failure_is_audited() {
    let hook = Arc::new(Recorder { fail: true, ..Recorder::default() });
    let h = Harness::builder().hook(&[HookEvent::ResetCompleted], hook.clone()).build().await;
    let password = reset_alice(&h).await;
    let alice = h.sspr.status(ALICE).await.unwrap().user_id;
    assert_eq!(h.directory.check_password(&alice, &password), Some(true), "the password was set all the same");
    assert_eq!(hook.heard(), [HookEvent::ResetCompleted]);
    let failed = h.events_of(AuditKind::HookFailed);
    let [event] = failed.as_slice() else { panic!("{failed:?}") };
    assert!(
        matches!(&event.outcome, Outcome::Failed { error } if error.contains("reset_completed") && error.contains("session service is down")),
        "{event:?}"
    );
    assert_eq!(event.user_id, h.events_of(AuditKind::ResetCompleted)[0].user_id);
}

#[tokio::test]
async fn a_hook_that_never_answers_is_given_up_without_holding_the_reset() {
    let hook = Arc::new(Recorder { hang: true, ..Recorder::default() });
    let h = Harness::builder().clock_timer().hook(&[HookEvent::ResetCompleted], hook.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    // The reset answers while the hook hangs (it runs off the request path).
    let done = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(done.temporary_password.is_some());
    assert_eq!(hook.heard(), [HookEvent::ResetCompleted]);
    assert!(h.events_of(AuditKind::HookFailed).is_empty(), "not given up yet");
    h.advance(sspr_core::hooks::HOOK_TIMEOUT + Duration::from_secs(1));
    h.sspr.flush_deliveries().await;
    let failed = h.events_of(AuditKind::HookFailed);
    assert!(
        matches!(&failed[..], [e] if matches!(&e.outcome, Outcome::Failed { error } if error.contains("no answer")))
    );
}

fn alerting() -> Policy {
    Policy { admin_alert_addresses: vec!["secops@example.org".into()], failure_alarm_per_hour: 3, ..policy() }
}

#[tokio::test]
async fn a_privileged_attempt_alerts_the_admins_once_per_interval_however_often_it_is_tried() {
    let hook = Arc::new(Recorder::default());
    let h =
        Harness::builder().policy(alerting()).hook(&[HookEvent::PrivilegedAttemptRefused], hook.clone()).build().await;
    // The attacker loops on the admin's login from many addresses (under every rate limit):
    // every answer is a decoy, as for anyone.
    for n in 0..20u8 {
        let from = sspr_core::RequestContext::from_ip(format!("198.51.100.{n}").parse().unwrap());
        h.sspr.begin_reset(ADMIN, &from).await.unwrap();
    }
    // One attempt carried on (a decoy PIN asked for, a guess typed) is still one attempt.
    let from = sspr_core::RequestContext::from_ip("198.51.100.200".parse().unwrap());
    let c = h.sspr.begin_reset(ADMIN, &from).await.unwrap();
    h.sspr.send_pin(&c.flow_id, &c.methods[0].id, None, &from).await.unwrap();
    let _ = h.sspr.verify_pin(&c.flow_id, Pin::new("12345678"), &from).await;
    let decoys = h.events_of(AuditKind::ResetRequested);
    assert!(decoys.iter().all(|e| e.outcome == Outcome::Decoy { reason: DecoyReason::Privileged }));
    h.sspr.flush_deliveries().await;
    assert_eq!(hook.heard().len(), 21, "the host hears every attempt, once each");
    let alerts = h.outbox.messages_to("secops@example.org");
    let [alert] = alerts.as_slice() else { panic!("one alert, not {}", alerts.len()) };
    assert_eq!(alert.message.kind(), "admin_alert");
    let root = h.sspr.status(ADMIN).await.unwrap().user_id;
    let text = alert.render();
    assert!(text.body.contains(root.as_str()), "the alert names the account: {}", text.body.as_str());
    assert!(text.body.contains("held back for 60 minutes"), "{}", text.body.as_str());
    // After the interval, the next attempt alerts again.
    h.advance(Duration::from_secs(61 * 60));
    h.sspr.begin_reset(ADMIN, &ctx()).await.unwrap();
    h.sspr.flush_deliveries().await;
    assert_eq!(h.outbox.messages_to("secops@example.org").len(), 2);
}

#[tokio::test]
async fn the_failure_alarm_reaches_hooks_and_the_admins() {
    let hook = Arc::new(Recorder::default());
    let h = Harness::builder().policy(alerting()).hook(&[HookEvent::FailureAlarm], hook.clone()).build().await;
    // Wrong PINs spread over users, each under every per-user limit.
    for (login, method, address) in
        [(ALICE, "email", ALICE_MAIL), (BOB, "email", BOB_MAIL), (ALICE, "sms", ALICE_PHONE)]
    {
        let (flow, pin) = h.pin_for(login, method, address).await;
        let _ = h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await;
    }
    h.sspr.flush_deliveries().await;
    assert_eq!(hook.heard(), [HookEvent::FailureAlarm]);
    let alerts = h.outbox.messages_to("secops@example.org");
    assert!(
        matches!(&alerts[..], [a] if a.render().body.contains("alarm threshold")),
        "{:?}",
        alerts.iter().map(|a| a.render().body.as_str().to_owned()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn without_alert_addresses_no_admin_is_mailed() {
    let h = Harness::new().await;
    h.assert_decoy(ADMIN, DecoyReason::Privileged).await; // also: nothing delivered at all
    h.sspr.flush_deliveries().await;
    assert!(h.outbox.messages().iter().all(|m| m.message.kind() != "admin_alert"));
}

#[test]
fn alert_addresses_are_checked() {
    let bad = Policy { admin_alert_addresses: vec!["not an address".into()], ..policy() };
    assert_eq!(bad.validate().unwrap_err().field, "admin_alert_addresses");
    let zero = Policy { admin_alert_interval_minutes: 0, ..policy() };
    assert_eq!(zero.validate().unwrap_err().field, "admin_alert_interval_minutes");
}

/// Takes `delay` (a host's session service or SIEM answering slowly), then succeeds.
#[derive(Debug)]
struct SlowHook {
    delay: Duration,
}

#[async_trait]
impl EventHook for SlowHook {
    async fn on_event(&self, _event: HookEvent, _audit: &AuditEvent) -> Result<(), BackendError> {
        tokio::time::sleep(self.delay).await;
        Ok(())
    }
}

/// THREAT_MODEL 15.4b. With real padding and the delivery set full (here its cap is 1 and
/// an earlier attempt's hook holds the place; in production 1000 hooks or PINs waiting on a
/// slow host service or relay), a privileged login's hook and admin alert ran on the
/// caller's task: `begin_reset` on the admin took the hook's 1.5 s against an unknown
/// login's 300 ms padding, telling a privileged account from an unknown one. They are now
/// given up (audited as `hook_failed`) when there is no room, as a PIN is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_delivery_set_does_not_put_a_privileged_logins_hook_in_its_answer() {
    let audit = sspr_core::memory::MemoryAuditSink::new();
    let sspr = sspr_core::Sspr::builder()
        .directory(sspr_core::memory::MemoryDirectory::with_users(users()).unwrap())
        .notifier(sspr_core::memory::Outbox::new())
        .audit(audit.clone())
        .policy(Policy { min_response_ms: 300, ..alerting() })
        .hook(&[HookEvent::PrivilegedAttemptRefused], SlowHook { delay: Duration::from_millis(1500) })
        .max_pending_deliveries(1)
        .secret_key(key())
        .build()
        .unwrap();
    let from = |n: u8| sspr_core::RequestContext::from_ip(format!("198.51.100.{n}").parse().unwrap());
    // The first attempt's hook takes the one place for 1.5 s.
    sspr.begin_reset(ADMIN, &from(1)).await.unwrap();
    let mut took = Vec::new();
    for (n, login) in [(2, ADMIN), (3, "nobody@example.org"), (4, ADMIN)] {
        #[allow(clippy::disallowed_methods)] // what a prober measures is real time
        let started = std::time::Instant::now();
        sspr.begin_reset(login, &from(n)).await.unwrap();
        took.push(started.elapsed().as_millis());
    }
    let (admin_ms, unknown_ms) = (took[0].max(took[2]), took[1]);
    assert!(admin_ms < unknown_ms + 150, "privileged {took:?} ms against unknown {unknown_ms} ms");
    sspr.flush_deliveries().await;
    let given_up: Vec<_> = audit.events().into_iter().filter(|e| e.kind == AuditKind::HookFailed).collect();
    assert!(!given_up.is_empty(), "a hook given up is audited");
    assert!(
        given_up
            .iter()
            .all(|e| matches!(&e.outcome, Outcome::Failed { error } if error.contains("privileged_attempt_refused")))
    );
}

/// A relay that refuses every message.
#[derive(Debug)]
struct DeadRelay;

#[async_trait]
impl sspr_core::Notifier for DeadRelay {
    async fn send(&self, _: &sspr_core::notice::Notification) -> Result<(), BackendError> {
        Err(BackendError::new(BackendErrorKind::Unavailable, "the relay is down"))
    }
}

#[tokio::test]
async fn a_refused_recovery_send_is_no_failed_delivery() {
    let hook = Arc::new(Recorder::default());
    let h = Harness::builder().hook(&[HookEvent::DeliveryFailed], hook.clone()).build().await;
    // The user has no contact to send the code to: refused, nothing was to be delivered.
    let refused = h.sspr.admin_send_recovery_code(&admin(), NO_CONTACT, sspr_core::Channel::Email, &ctx()).await;
    assert!(matches!(refused, Err(sspr_core::Error::InvalidInput { field: "channel", .. })), "{refused:?}");
    h.sspr.flush_deliveries().await;
    assert!(hook.heard().is_empty(), "a refusal was reported as a failed delivery: {:?}", hook.heard());

    // A code the relay really failed to deliver is one.
    let hook = Arc::new(Recorder::default());
    let h =
        Harness::builder().notifier(Arc::new(DeadRelay)).hook(&[HookEvent::DeliveryFailed], hook.clone()).build().await;
    h.sspr.admin_send_recovery_code(&admin(), ALICE, sspr_core::Channel::Email, &ctx()).await.unwrap();
    h.sspr.flush_deliveries().await;
    let heard = hook.heard.lock().unwrap().clone();
    assert!(
        matches!(heard.as_slice(), [(HookEvent::DeliveryFailed, audit)] if audit.kind == AuditKind::RecoveryIssued),
        "{heard:?}"
    );
}
