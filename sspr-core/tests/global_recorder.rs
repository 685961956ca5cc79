//! The engine keeps the handles of its series on the global recorder installed with
//! `sspr_core::telemetry::set_global_recorder`: a recorder installed after the engine was
//! built gets the engine's counts, and a local recorder in effect (before or after that, one
//! after the other) gets its own counts, never lost into a handle kept from another recorder.
//!
//! A binary (a process) of its own: a global `metrics` recorder is installed once per process
//! and never removed, so the engine tests running beside it would count into it.

#![allow(unreachable_pub, dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "engine/support.rs"]
mod support;

use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use sspr_core::{NewPassword, Pin};

use support::*;

/// The value of the series written exactly as `series` (name and labels) in `text`, 0 if absent.
fn value(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Completed resets, PIN verifications, `complete_reset` calls timed and `reset_requested`
/// events counted, as `handle` renders them: each moves by one a flow.
fn flows_seen(handle: &PrometheusHandle) -> [u64; 4] {
    let text = handle.render();
    [
        value(&text, r#"sspr_completions_total{mode="temporary",outcome="success"}"#),
        value(&text, r#"sspr_verifications_total{outcome="verified"}"#),
        value(&text, r#"sspr_engine_call_seconds_count{operation="complete_reset"}"#),
        value(&text, r#"sspr_audit_events_total{kind="reset_requested",outcome="success"}"#),
    ]
}

/// One whole reset of alice's password, an hour after the last (no limit is reached).
async fn flow(h: &Harness) {
    h.advance(Duration::from_secs(3600));
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
}

/// A flow with `recorder` local to this thread, which must see exactly that one flow.
async fn flow_into_local(h: &Harness) {
    // Made afresh each time, in the same place: two of these recorders in turn are likely to
    // share an address, the case where a handle kept by address would count into the dead one.
    let recorder: PrometheusRecorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    {
        let _guard = metrics::set_default_local_recorder(&recorder);
        flow(h).await;
    }
    assert_eq!(flows_seen(&handle), [1; 4], "{}", handle.render());
}

// A current-thread runtime (the default): the local recorders are this thread's.
#[tokio::test]
async fn counts_reach_a_recorder_installed_after_the_engine_and_each_local_one_in_turn() {
    let h = Harness::new().await;
    // No recorder yet: the engine counts into nothing and must keep no handle of it.
    flow(&h).await;
    // Local recorders one after the other, before any global one.
    for _ in 0..3 {
        flow_into_local(&h).await;
    }

    // The host installs its recorder after the engine was built.
    let global = PrometheusBuilder::new().build_recorder();
    let handle = global.handle();
    sspr_core::telemetry::set_global_recorder(global).unwrap();
    flow(&h).await;
    flow(&h).await;
    assert_eq!(flows_seen(&handle), [2; 4], "{}", handle.render());

    // With the global recorder's handles kept, local recorders in turn still get their own
    // counts, and the global one none of theirs.
    for _ in 0..3 {
        flow_into_local(&h).await;
    }
    assert_eq!(flows_seen(&handle), [2; 4], "{}", handle.render());
    flow(&h).await;
    assert_eq!(flows_seen(&handle), [3; 4], "{}", handle.render());

    // A second global recorder is refused, as `metrics` refuses it, and changes nothing.
    assert!(sspr_core::telemetry::set_global_recorder(PrometheusBuilder::new().build_recorder()).is_err());
    flow(&h).await;
    assert_eq!(flows_seen(&handle), [4; 4], "{}", handle.render());
}
