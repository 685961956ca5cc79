//! The Rust side of the FFI overhead benchmark (`scripts/bench-ffi.sh`): the same flow the
//! C and Python benchmarks run, on sspr-core directly with in-memory backends.
//!
//! Each round: `begin_reset`, `send_pin`, `verify_pin`, `complete_reset` (unlock only), then
//! the manual clock moves an hour on so no hourly limit is reached. Also times `status`
//! alone (one directory lookup, one store read) and the synchronous `completion_modes` (no
//! backend: the bare cost of a call). Prints microseconds per round / per call.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used, clippy::panic)]
// A benchmark measures wall-clock time: the injected-clock rule is for the engine, not for this.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use futures::executor::block_on;
use sspr_core::memory::{MemoryDirectory, MemoryUser, Outbox};
use sspr_core::{Actor, ContactChange, ContactUpdate, ManualClock, NewPassword, RequestContext, SecretKey, Sspr};

fn main() {
    let rounds: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
    let directory = MemoryDirectory::with_users([MemoryUser {
        mail: None,
        login: "jdoe@example.org".into(),
        display_name: "Jane Doe".into(),
        dn: "uid=jdoe,ou=staff,dc=example,dc=org".into(),
        groups: vec![],
        state: Default::default(),
        password: None,
    }])
    .unwrap();
    let outbox = Outbox::new();
    let sspr = Sspr::builder()
        .directory(directory)
        .notifier(outbox.clone())
        .secret_key(SecretKey::from_bytes(&[7; 32]).unwrap())
        .rng_seed([1; 32])
        .clock(clock.clone())
        .build()
        .unwrap();
    let ctx = RequestContext::default();
    let admin = Actor::Admin("bench".into());
    block_on(async {
        sspr.set_enabled(&admin, "jdoe@example.org", true, &ctx).await.unwrap();
        let update =
            ContactUpdate { email: ContactChange::Set("jane.doe@example.net".into()), phone: ContactChange::Keep };
        sspr.update_contacts(&admin, "jdoe@example.org", update, &ctx).await.unwrap();
    });

    let round = || {
        block_on(async {
            let c = sspr.begin_reset("jdoe@example.org", &ctx).await.unwrap();
            sspr.send_pin(&c.flow_id, "email", None, &ctx).await.unwrap();
            let pin = outbox.last_pin_to("jane.doe@example.net").unwrap();
            sspr.verify_pin(&c.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
            sspr.complete_reset(&c.flow_id, NewPassword::UnlockOnly, &ctx).await.unwrap();
        });
        outbox.clear();
        clock.advance(Duration::from_secs(3601));
    };
    for _ in 0..rounds / 10 {
        round();
    }
    let start = Instant::now();
    for _ in 0..rounds {
        round();
    }
    let flow = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);

    let calls = rounds * 10;
    let start = Instant::now();
    for _ in 0..calls {
        block_on(sspr.status("jdoe@example.org")).unwrap();
    }
    let status = start.elapsed().as_secs_f64() * 1e6 / f64::from(calls);
    let start = Instant::now();
    for _ in 0..calls {
        std::hint::black_box(sspr.completion_modes());
    }
    let sync = start.elapsed().as_secs_f64() * 1e6 / f64::from(calls);
    println!("rust: flow {flow:.1} us, status {status:.2} us, completion_modes {sync:.3} us");
}
