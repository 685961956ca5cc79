//! The Rust reference for the binding's benchmark (`sspr-py/bench/flows.py`): the same whole
//! flows as the Python benchmark runs through `BlockingSspr`, on the same backends and policy,
//! driven from Rust in one blocking call, so the per-call cost of the binding is the
//! difference. Not part of the public API.

use std::time::Instant;

use pyo3::prelude::*;
use sspr_core::memory::{MemoryDirectory, MemoryUser, Outbox};
use sspr_core::{Actor, ContactChange, ContactUpdate, ManualClock, NewPassword, Policy, RequestContext, SecretKey};
use time::OffsetDateTime;

use crate::errors::{config_error, to_py_err};
use crate::runtime::block_on;

/// Run `flows` whole resets (begin, send, read the PIN, verify, complete with a temporary
/// password) over `users` users, the clock moving one second per flow; the seconds taken.
#[pyfunction]
#[pyo3(signature = (flows, users = 64))]
#[allow(clippy::disallowed_methods)] // a benchmark measures wall-clock time
pub(crate) fn rust_reference_flows(py: Python<'_>, flows: usize, users: usize) -> PyResult<f64> {
    let directory = MemoryDirectory::new();
    let users = users.max(1);
    for i in 0..users {
        directory
            .insert(MemoryUser {
                mail: None,
                login: format!("user{i}@example.org"),
                display_name: format!("User Number{i}"),
                dn: format!("uid=user{i},ou=staff,dc=example,dc=org"),
                groups: Vec::new(),
                state: Default::default(),
                password: None,
            })
            .map_err(to_py_err)?;
    }
    let outbox = Outbox::new();
    let start = OffsetDateTime::from_unix_timestamp(1_767_607_200).map_err(|e| config_error(e.to_string()))?;
    let clock = ManualClock::new(start);
    let policy =
        Policy::from_json(r#"{"user_sends_per_hour": 100, "destination_sends_per_hour": 100}"#).map_err(to_py_err)?;
    let engine = sspr_core::Sspr::builder()
        .directory(directory)
        .notifier(outbox.clone())
        .clock(clock.clone())
        // As the Python side's ManualClock is (sspr-bind's `with_manual_clock`): padding moves
        // the clock forward instead of waiting, so both sides do the same work.
        .timer(clock.clone())
        .secret_key(SecretKey::from_bytes(&[7u8; 32]).map_err(to_py_err)?)
        .policy(policy)
        .build()
        .map_err(to_py_err)?;
    let ctx = RequestContext::default();
    let admin = Actor::Admin("bench".into());
    let run = async {
        for i in 0..users {
            let login = format!("user{i}@example.org");
            engine.set_enabled(&admin, &login, true, &ctx).await?;
            let update = ContactUpdate {
                email: ContactChange::Set(format!("user{i}@home.example")),
                phone: ContactChange::Keep,
            };
            engine.update_contacts(&admin, &login, update, &ctx).await?;
        }
        let started = Instant::now();
        for n in 0..flows {
            let i = n % users;
            let login = format!("user{i}@example.org");
            let address = format!("user{i}@home.example");
            let challenge = engine.begin_reset(&login, &ctx).await?;
            engine.send_pin(&challenge.flow_id, "email", None, &ctx).await?;
            let pin = outbox.last_pin_to(&address).unwrap_or_default();
            engine.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await?;
            engine.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await?;
            clock.advance(std::time::Duration::from_secs(1));
            if n % 256 == 255 {
                outbox.clear();
            }
        }
        Ok::<f64, sspr_core::Error>(started.elapsed().as_secs_f64())
    };
    block_on(py, run)?.map_err(to_py_err)
}
