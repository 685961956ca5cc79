//! The benchmark's reference: the same whole flows as `bench/flow.js`, driven from Rust inside
//! one call, so the difference to the JavaScript-driven flows is what the binding costs.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use napi::{Env, Result};
use napi_derive::napi;
use sspr_core::memory::{MemoryContactStore, MemoryDirectory, MemoryStateStore, MemoryUser, Outbox};
use sspr_core::{Actor, ContactChange, ContactUpdate, ManualClock, NewPassword, RequestContext, SecretKey, Sspr};

use crate::errors::to_js_error;

/// Run a future that never waits (in-memory backends) to its end.
fn ready<F: Future>(future: F) -> Option<F::Output> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// The engine, its outbox and clock, and each user's login and address.
type Bench = (Sspr, Outbox, ManualClock, Vec<(String, String)>);

fn engine(env: &Env, users: usize) -> Result<Bench> {
    let fail = |e: sspr_core::Error| to_js_error(env, &e);
    let people: Vec<(String, String)> =
        (0..users).map(|i| (format!("user{i}@example.org"), format!("user{i}@home.example"))).collect();
    let directory = MemoryDirectory::with_users(people.iter().enumerate().map(|(i, (login, _))| MemoryUser {
        mail: None,
        login: login.clone(),
        display_name: format!("User {i}"),
        dn: format!("uid=user{i},dc=example,dc=org"),
        groups: Vec::new(),
        state: Default::default(),
        password: None,
    }))
    .map_err(fail)?;
    let outbox = Outbox::new();
    let start = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let clock = ManualClock::new(start);
    let sspr = Sspr::builder()
        .directory(directory)
        .contacts(MemoryContactStore::new())
        .store(MemoryStateStore::new())
        .notifier(outbox.clone())
        .clock(clock.clone())
        // Also the timer, as `new Sspr({ clock })` makes it: the padding moves the clock.
        .timer(clock.clone())
        .secret_key(SecretKey::from_hex(&"42".repeat(32)).map_err(fail)?)
        .build()
        .map_err(fail)?;
    let admin = Actor::Admin("bench".into());
    let ctx = RequestContext::default();
    for (login, address) in &people {
        let update = ContactUpdate { email: ContactChange::Set(address.clone()), phone: ContactChange::Keep };
        ready(sspr.set_enabled(&admin, login, true, &ctx)).transpose().map_err(fail)?;
        ready(sspr.update_contacts(&admin, login, update, &ctx)).transpose().map_err(fail)?;
    }
    Ok((sspr, outbox, clock, people))
}

/// Seconds taken by `count` whole flows (begin, send, read the PIN, verify, complete with a
/// temporary password) driven from Rust on the in-memory backends, set up like
/// `bench/flow.js`: 50 users, the clock an hour further every 50 flows.
#[napi]
pub fn reference_flows(env: &Env, count: u32) -> Result<f64> {
    const USERS: usize = 50;
    let (sspr, outbox, clock, people) = engine(env, USERS)?;
    let ctx = RequestContext::default();
    let pending = || to_js_error(env, &sspr_core::Error::Config("an in-memory call had to wait".into()));
    let fail = |e: sspr_core::Error| to_js_error(env, &e);
    #[allow(clippy::disallowed_methods)] // a benchmark measures wall time; no logic reads it
    let started = Instant::now();
    for i in 0..count as usize {
        let Some((login, address)) = people.get(i % USERS) else { break };
        let challenge = ready(sspr.begin_reset(login, &ctx)).ok_or_else(pending)?.map_err(fail)?;
        ready(sspr.send_pin(&challenge.flow_id, "email", None, &ctx)).ok_or_else(pending)?.map_err(fail)?;
        let pin = outbox.last_pin_to(address).ok_or_else(pending)?;
        ready(sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx))
            .ok_or_else(pending)?
            .map_err(fail)?;
        let outcome = ready(sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx))
            .ok_or_else(pending)?
            .map_err(fail)?;
        std::hint::black_box(outcome);
        if i % USERS == USERS - 1 {
            clock.advance(std::time::Duration::from_secs(3601));
            outbox.clear();
        }
    }
    Ok(started.elapsed().as_secs_f64())
}
