//! The counters of `sspr_core::telemetry`: real scenarios move each series, and no login,
//! address, IP or flow reference ever becomes a label.

use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sspr_core::{Error, NewPassword, Password, Pin, Policy};

use crate::support::*;

/// The value of the series written exactly as `series` (name and labels) in `text`, 0 if absent.
fn value(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// A recorder for this test's thread only (the engine tests run in parallel; a global
/// recorder would count the others).
fn recorder() -> (metrics_exporter_prometheus::PrometheusRecorder, PrometheusHandle) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

#[tokio::test]
async fn every_series_moves_in_a_real_scenario_and_no_identifier_is_a_label() {
    let (recorder, handle) = recorder();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let h = Harness::builder()
        .policy(Policy {
            destination_sends_per_hour: 20,
            user_failures_before_block: 2,
            failure_alarm_per_hour: 2,
            ..policy()
        })
        .build()
        .await;

    // A real reset by e-mail, completed with a temporary password.
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    // A decoy for a distinctive unknown login.
    let unknown = "zq-distinctive-login-7731@nowhere.example";
    let decoy = h.sspr.begin_reset(unknown, &ctx()).await.unwrap();
    h.sspr.send_pin(&decoy.flow_id, &decoy.methods[0].id, None, &ctx()).await.unwrap();
    // Two wrong PINs block bob and reach the global alarm (2 an hour here); a begin while blocked is refused by the block.
    let (bob_flow, bob_pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    assert!(matches!(
        h.sspr.verify_pin(&bob_flow, Pin::new(Harness::wrong(&bob_pin)), &ctx()).await,
        Err(Error::WrongPin { .. })
    ));
    assert!(matches!(
        h.sspr.verify_pin(&bob_flow, Pin::new(Harness::wrong(&bob_pin)), &ctx()).await,
        Err(Error::Blocked { .. })
    ));
    assert!(matches!(h.sspr.begin_reset(BOB, &ctx()).await, Err(Error::Blocked { .. })));
    // A failed sign-in with a distinctive login, a good one, and a contact change by an admin.
    let wrong = Password::new("not-the-password");
    assert!(h.sspr.sign_in("zq-signin-login-4410", &wrong, &ctx()).await.is_err());
    let good = Password::new(INITIAL_PASSWORD);
    h.sspr.sign_in(ADMIN, &good, &ctx()).await.unwrap();
    let address = "zq-distinctive-address-5512@mail.example";
    h.enroll(NOT_ENABLED, Some(address), None).await;
    h.advance(Duration::from_secs(1));

    let text = handle.render();
    assert_eq!(value(&text, r#"sspr_begins_total{result="real",decoy_reason="none"}"#), 2, "{text}");
    assert_eq!(value(&text, r#"sspr_begins_total{result="decoy",decoy_reason="unknown_user"}"#), 1, "{text}");
    assert_eq!(value(&text, r#"sspr_pins_sent_total{channel="email",result="real"}"#), 2, "{text}");
    assert_eq!(value(&text, r#"sspr_pins_sent_total{channel="email",result="decoy"}"#), 1, "{text}");
    assert_eq!(value(&text, r#"sspr_verifications_total{outcome="verified"}"#), 1, "{text}");
    assert!(value(&text, r#"sspr_verifications_total{outcome="wrong_pin"}"#) >= 1, "{text}");
    assert_eq!(value(&text, r#"sspr_completions_total{mode="temporary",outcome="success"}"#), 1, "{text}");
    assert_eq!(value(&text, "sspr_blocks_total"), 1, "{text}");
    assert_eq!(value(&text, "sspr_failure_alarms_total"), 1, "{text}");
    assert!(value(&text, r#"sspr_rate_limit_hits_total{limit="blocked"}"#) >= 1, "{text}");
    assert_eq!(value(&text, r#"sspr_sign_ins_total{outcome="failed"}"#), 1, "{text}");
    assert_eq!(value(&text, r#"sspr_sign_ins_total{outcome="success"}"#), 1, "{text}");
    assert!(value(&text, "sspr_contact_changes_total") >= 1, "{text}");
    assert!(value(&text, r#"sspr_audit_events_total{kind="reset_requested",outcome="success"}"#) >= 2, "{text}");

    // Nothing that names a person, an address, a client or a flow.
    for secret in [
        unknown,
        "zq-signin-login-4410",
        address,
        ALICE,
        ALICE_MAIL,
        BOB,
        BOB_MAIL,
        "203.0.113.7",
        &flow,
        &decoy.flow_id,
        &pin,
    ] {
        assert!(!text.contains(secret), "{secret} in the metrics:\n{text}");
    }
    assert!(!text.to_lowercase().contains("zq-"), "{text}");
}

#[tokio::test]
async fn with_no_recorder_installed_the_engine_runs_unchanged() {
    // The facade's default is a no-op recorder: the same flow completes.
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
}

/// A notifier whose every delivery fails.
#[derive(Debug)]
struct DownNotifier;

#[sspr_core::async_trait]
impl sspr_core::Notifier for DownNotifier {
    async fn send(&self, _: &sspr_core::notice::Notification) -> Result<(), sspr_core::BackendError> {
        Err(sspr_core::BackendError::unavailable(std::io::Error::other("relay down")))
    }
}

#[tokio::test]
async fn a_failed_pin_delivery_counts_in_deliveries_failed() {
    let (recorder, handle) = recorder();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let h = Harness::builder().notifier(std::sync::Arc::new(DownNotifier)).build().await;
    let c = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    h.sspr.send_pin(&c.flow_id, "email", None, &ctx()).await.expect("answered like a decoy");
    h.sspr.flush_deliveries().await;
    let text = handle.render();
    assert!(value(&text, r#"sspr_deliveries_failed_total{channel="email",kind="pin_sent"}"#) >= 1, "{text}");
    assert!(!text.contains(ALICE_MAIL) && !text.contains("a***@m***.example"), "{text}");
}

/// The float value of the series written exactly as `series` in `text` (None if absent).
fn float(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn engine_calls_are_timed_per_operation_on_the_engine_clock() {
    let (recorder, handle) = recorder();
    let _guard = metrics::set_default_local_recorder(&recorder);
    // The directory's password write takes 250 ms of the engine's (manual) clock.
    let clock = std::sync::Arc::new(std::sync::OnceLock::<sspr_core::ManualClock>::new());
    let slow = clock.clone();
    let directory = HookedDirectory::new(move |write| {
        if write == DirectoryWrite::SetPassword
            && let Some(clock) = slow.get()
        {
            clock.advance(Duration::from_millis(250));
        }
        Ok(())
    });
    let h = Harness::builder().directory(directory).build().await;
    clock.set(h.clock.clone()).unwrap();
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.is_err());
    h.sspr.status(ALICE).await.unwrap();

    let text = handle.render();
    for op in ["begin_reset", "send_pin", "verify_pin", "complete_reset", "status", "update_contacts"] {
        let count = float(&text, &format!(r#"sspr_engine_call_seconds_count{{operation="{op}"}}"#));
        assert!(count.is_some_and(|c| c >= 1.0), "{op} not timed:\n{text}");
    }
    // verify_pin ran twice (the second refused): both are timed.
    assert_eq!(float(&text, r#"sspr_engine_call_seconds_count{operation="verify_pin"}"#), Some(2.0), "{text}");
    // The 250 ms the directory took are in complete_reset's time, and only there.
    let complete = float(&text, r#"sspr_engine_call_seconds_sum{operation="complete_reset"}"#).unwrap();
    assert!((0.25..0.3).contains(&complete), "complete_reset took {complete}s:\n{text}");
    assert_eq!(float(&text, r#"sspr_engine_call_seconds_sum{operation="verify_pin"}"#), Some(0.0), "{text}");
    for secret in [ALICE, ALICE_MAIL, flow.as_str(), pin.as_str(), "203.0.113.7"] {
        assert!(!text.contains(secret), "{secret} in the metrics:\n{text}");
    }
}

#[tokio::test]
async fn backend_calls_are_timed_per_backend_and_operation() {
    let (recorder, handle) = recorder();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let clock = std::sync::Arc::new(std::sync::OnceLock::<sspr_core::ManualClock>::new());
    let slow = clock.clone();
    let directory = HookedDirectory::new(move |write| {
        if write == DirectoryWrite::SetPassword
            && let Some(clock) = slow.get()
        {
            clock.advance(Duration::from_millis(250));
        }
        Ok(())
    });
    let h = Harness::builder().directory(directory).build().await;
    clock.set(h.clock.clone()).unwrap();
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    h.sspr.flush_deliveries().await;

    let text = handle.render();
    let count = |backend: &str, op: &str| {
        float(&text, &format!(r#"sspr_backend_call_seconds_count{{backend="{backend}",operation="{op}"}}"#))
            .unwrap_or(0.0)
    };
    assert!(count("directory", "find_user") >= 1.0, "{text}");
    assert_eq!(count("directory", "set_password"), 1.0, "{text}");
    assert!(count("contacts", "get") >= 1.0, "{text}");
    assert!(count("notifier", "send") >= 1.0, "{text}");
    assert!(count("audit", "record") >= 4.0, "{text}");
    let store: f64 = text
        .lines()
        .filter(|l| l.starts_with(r#"sspr_backend_call_seconds_count{backend="store""#))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(store >= 4.0, "{text}");
    // The directory write's 250 ms, measured on the engine's clock.
    let write = float(&text, r#"sspr_backend_call_seconds_sum{backend="directory",operation="set_password"}"#).unwrap();
    assert!((0.25..0.3).contains(&write), "set_password took {write}s:\n{text}");
    // Only closed sets as labels: every backend label is one of the five.
    for line in text.lines().filter(|l| l.starts_with("sspr_backend_call_seconds")) {
        let backend = line.split("backend=\"").nth(1).unwrap().split('"').next().unwrap();
        assert!(["directory", "contacts", "store", "notifier", "audit"].contains(&backend), "{line}");
    }
    for secret in [ALICE, ALICE_MAIL, flow.as_str(), pin.as_str()] {
        assert!(!text.contains(secret), "{secret} in the metrics:\n{text}");
    }
}
