//! Smoke tests: the benchmark setup runs a whole reset flow, and `pending_memory` runs on a
//! small N and prints its table (CI only compiles the benchmarks, so this keeps them working).

use std::process::Command;
use std::sync::Arc;

use sspr_benches::{clock, email, engine, enroll, login, runtime};
use sspr_core::memory::{MemoryStateStore, Outbox};
use sspr_core::{NewPassword, RequestContext};

#[test]
fn the_bench_setup_runs_a_whole_flow() {
    let rt = runtime().unwrap();
    rt.block_on(async {
        let outbox = Outbox::new();
        let store = MemoryStateStore::new();
        let sspr = engine(3, Arc::new(outbox.clone()), store.clone(), clock().unwrap(), None).unwrap();
        enroll(&sspr, 3).await.unwrap();
        let ctx = RequestContext::default();
        for round in 0..10 {
            let user = round % 3;
            let challenge = sspr.begin_reset(&login(user), &ctx).await.unwrap();
            assert_eq!(challenge.methods.len(), 1);
            sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
            let pin = outbox.last_pin_to(&email(user)).unwrap();
            sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
            let outcome = sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await.unwrap();
            assert!(outcome.must_change);
        }
        assert!(!store.is_empty());
    });
}

#[test]
fn pending_memory_prints_a_row_per_scenario() {
    let output = Command::new(env!("CARGO_BIN_EXE_pending_memory")).arg("1000").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| ") && l.contains(" | 1,000 | ")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
}
