//! Shared by the store tests: an engine on given stores, a whole flow, races across instances.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use sspr_core::memory::{MemoryDirectory, Outbox};
use sspr_core::{
    Actor, ContactChange, ContactStore, ContactUpdate, Error, NewPassword, Policy, RequestContext, SecretKey, Sspr,
    StateStore,
};

pub const USER: &str = "alice@example.org";
pub const MAIL: &str = "alice.private@mail.example";

pub fn directory() -> MemoryDirectory {
    MemoryDirectory::from_json(
        r#"[{"login": "alice@example.org", "display_name": "Alice Liddell",
             "dn": "uid=alice,ou=staff,dc=example,dc=org"}]"#,
    )
    .unwrap()
}

pub fn policy() -> Policy {
    Policy { eligible_ous: vec!["ou=staff,dc=example,dc=org".into()], ..Policy::default() }
}

pub fn ctx() -> RequestContext {
    RequestContext::from_ip("203.0.113.7".parse().unwrap())
}

/// One engine instance on shared stores: instances built from the same parts behave like
/// several portal processes sharing one database.
pub fn engine(
    directory: &MemoryDirectory,
    outbox: &Outbox,
    store: Arc<dyn StateStore>,
    contacts: Arc<dyn ContactStore>,
    policy: Policy,
) -> Sspr {
    Sspr::builder()
        .directory(directory.clone())
        .notifier(outbox.clone())
        .store_arc(store)
        .contacts_arc(contacts)
        .secret_key(SecretKey::from_bytes(&[0x5a; 32]).unwrap())
        .policy(policy)
        .build()
        .unwrap()
}

/// Enable the user and register the mail address (idempotent enough for a fresh store).
pub async fn enroll(sspr: &Sspr) {
    let admin = Actor::Admin("helpdesk".into());
    sspr.set_enabled(&admin, USER, true, &ctx()).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set(MAIL.into()), ..Default::default() };
    sspr.update_contacts(&admin, USER, update, &ctx()).await.unwrap();
}

/// Start a flow on `sspr` and send a PIN; returns the flow id and the PIN.
pub async fn pin(sspr: &Sspr, outbox: &Outbox) -> (String, String) {
    let challenge = sspr.begin_reset(USER, &ctx()).await.unwrap();
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx()).await.unwrap();
    let pin = outbox.last_pin_to(MAIL).expect("a PIN was sent");
    (challenge.flow_id, pin)
}

/// A whole reset: begin, send, verify, complete with a temporary password.
pub async fn whole_flow(sspr: &Sspr, outbox: &Outbox) {
    let (flow, pin) = pin(sspr, outbox).await;
    sspr.verify_pin(&flow, sspr_core::Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.must_change);
    assert!(outcome.temporary_password.is_some());
}

/// 200 concurrent `verify_pin` with the right PIN, alternating between `a` and `b`: exactly
/// one may succeed, every other must be told the PIN was used (or the flow is mid-step), or be
/// refused by the attempt cap: every attempt is counted before its PIN is compared (issue 11
/// item 3), so racers beyond the per-client cap are refused before they compare anything.
pub async fn race_verify(a: &Sspr, b: &Sspr, outbox: &Outbox) {
    let (flow, pin) = pin(a, outbox).await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let sspr = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (flow, pin) = (flow.clone(), pin.clone());
            tokio::spawn(async move { sspr.verify_pin(&flow, sspr_core::Pin::new(&pin), &ctx()).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(
                Error::AlreadyUsed | Error::InvalidState { .. } | Error::Blocked { .. } | Error::RateLimited { .. },
            ) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one of 200 concurrent verify_pin across two instances wins");
    // The winner's flow completes once, on either instance.
    b.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(matches!(
        a.complete_reset(&flow, NewPassword::Temporary, &ctx()).await,
        Err(Error::AlreadyUsed | Error::InvalidState { .. } | Error::Expired)
    ));
}

/// The per-user limit on PIN sends holds across instances: sends alternate between `a` and
/// `b` (each on a new flow) and the one past the limit is refused, whichever instance gets it.
pub async fn limits_hold_across(a: &Sspr, b: &Sspr, policy: &Policy) {
    let limit = policy.user_sends_per_hour;
    for i in 0..=limit {
        let sspr = if i % 2 == 0 { a } else { b };
        let challenge = sspr.begin_reset(USER, &ctx()).await.unwrap();
        let sent = sspr.send_pin(&challenge.flow_id, "email", None, &ctx()).await;
        if i < limit {
            sent.unwrap_or_else(|e| panic!("send {i} of {limit} must pass: {e:?}"));
        } else {
            assert!(matches!(sent, Err(Error::RateLimited { .. })), "send {i} is over the limit: {sent:?}");
        }
    }
}

/// The value of a variable `scripts/test.sh` exports for a real server; a clear failure
/// when the test runs without it.
pub fn server_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through ./scripts/test.sh, or source scripts/lib.sh and the server script in scripts/servers/ first")
    })
}

/// A name no other test or earlier run uses (keys, users, prefixes).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::UNIX_EPOCH.elapsed().map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{}-{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Run one of the project's server scripts (`scripts/state/NAME.sh ARGS...`).
pub fn script(name: &str, args: &[&str]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/state").join(name);
    let status = std::process::Command::new("bash").arg(&path).args(args).status().unwrap();
    assert!(status.success(), "{} {args:?} failed", path.display());
}

/// Whether `result` failed because a backend was unavailable.
pub fn is_unavailable<T: std::fmt::Debug>(result: &sspr_core::Result<T>) -> bool {
    matches!(result, Err(Error::Backend { source }) if source.kind() == sspr_core::BackendErrorKind::Unavailable)
}

/// A flow whose store stops twice: after the PIN is sent (verify fails), and after the PIN
/// is verified (completion fails). Each failure is a typed `Unavailable` error, and after the
/// store is back the same call succeeds: nothing was half-done or lost.
pub async fn store_stops_mid_flow(
    sspr: &Sspr,
    outbox: &Outbox,
    directory: &MemoryDirectory,
    stop: impl Fn(),
    start: impl Fn(),
) {
    enroll(sspr).await;
    let (flow, pin) = pin(sspr, outbox).await;

    stop();
    let failed = sspr.verify_pin(&flow, sspr_core::Pin::new(&pin), &ctx()).await;
    assert!(is_unavailable(&failed), "verify with the store down: {failed:?}");
    start();
    sspr.verify_pin(&flow, sspr_core::Pin::new(&pin), &ctx())
        .await
        .expect("the same verify works once the store is back");

    stop();
    let failed = sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(is_unavailable(&failed), "complete with the store down: {failed:?}");
    let alice = directory.users().into_iter().find(|u| u.login == USER).unwrap();
    assert_eq!(directory.password_state(&alice.id), None, "no password was set while the store was down");
    start();
    let outcome = sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.expect("completion after restart");
    let password = outcome.temporary_password.unwrap();
    assert_eq!(directory.check_password(&alice.id, password.expose_secret()), Some(true));
    assert!(
        matches!(
            sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await,
            Err(Error::AlreadyUsed | Error::InvalidState { .. } | Error::Expired)
        ),
        "the flow is used once"
    );
}

/// Stops a private server (started with `script(name, ["start", dir, ...])`) when dropped,
/// so a failing test does not leave it running.
pub struct StopOnDrop {
    pub script: &'static str,
    pub dir: String,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/state").join(self.script);
        let _ = std::process::Command::new("bash").arg(path).args(["stop", &self.dir]).status();
    }
}

/// 50 concurrent `complete_reset` of one verified flow, alternating between `a` and `b`:
/// exactly one sets a password and hands it over, and that one is the directory's; every
/// other is refused (never a second success with a password the directory does not hold).
pub async fn race_complete(a: &Sspr, b: &Sspr, directory: &MemoryDirectory, outbox: &Outbox) {
    let (flow, pin) = pin(a, outbox).await;
    b.verify_pin(&flow, sspr_core::Pin::new(&pin), &ctx()).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let sspr = if i % 2 == 0 { a.clone() } else { b.clone() };
            let flow = flow.clone();
            tokio::spawn(async move { sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await })
        })
        .collect();
    let mut handed_over = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(outcome) => handed_over.push(outcome.temporary_password.expect("a temporary password")),
            Err(Error::AlreadyUsed | Error::InvalidState { .. } | Error::Expired) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(handed_over.len(), 1, "exactly one of 50 concurrent completions across two instances wins");
    let user = directory.users().into_iter().find(|u| u.login == USER).unwrap().id;
    assert_eq!(directory.check_password(&user, handed_over[0].expose_secret()), Some(true));
}

/// Wrong PINs fired at once at every flow the user has, from 40 addresses and both instances:
/// the user-wide count holds across them, so no more PINs are compared than the failures
/// the policy lets through before its delay (`failures_before_delay`; then the user's next
/// try waits).
pub async fn wrong_pin_burst(a: &Sspr, b: &Sspr, outbox: &Outbox, policy: &Policy) {
    let mut flows = Vec::new();
    for i in 0..policy.user_sends_per_hour {
        let sspr = if i % 2 == 0 { a } else { b };
        flows.push(pin(sspr, outbox).await);
    }
    let tasks: Vec<_> = (0..200usize)
        .map(|i| {
            let sspr = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (flow, right) = flows[i % flows.len()].clone();
            let wrong = if right == "00000000" { "11111111" } else { "00000000" };
            let ip = RequestContext::from_ip(format!("198.51.100.{}", i % 40 + 1).parse().unwrap());
            tokio::spawn(async move { sspr.verify_pin(&flow, sspr_core::Pin::new(wrong), &ip).await })
        })
        .collect();
    let mut compared = 0;
    for task in tasks {
        match task.await.unwrap() {
            Err(Error::WrongPin { .. }) => compared += 1,
            Err(Error::Blocked { .. } | Error::RateLimited { .. } | Error::Expired | Error::InvalidState { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let free = policy.failures_before_delay as usize;
    assert!(compared <= free, "{compared} wrong PINs were compared across instances; at most {free} may be");
}

/// A rolling key rotation over one store: `old` runs with the key [`engine`] gives, `ring`
/// with a new key and that one as its previous key, `new_only` with the new key alone (how a
/// rotation went before the ring). A PIN sent by `old` verifies on `ring`; a block written by
/// `old` holds on `ring` (and not on `new_only`: the attack the ring closes).
pub async fn rotation_keeps_pending_resets_and_blocks(
    store: Arc<dyn StateStore>,
    contacts: Arc<dyn ContactStore>,
    outbox: &Outbox,
    directory: &MemoryDirectory,
) {
    let policy = Policy {
        user_failures_before_block: 3,
        client_failures_before_block: 50,
        failures_before_delay: 50,
        failure_delay_secs: 0,
        max_failure_delay_secs: 0,
        max_wrong_pins: 10,
        ..policy()
    };
    let old = engine(directory, outbox, store.clone(), contacts.clone(), policy.clone());
    let rotated = |previous: Vec<SecretKey>| {
        Sspr::builder()
            .directory(directory.clone())
            .notifier(outbox.clone())
            .store_arc(store.clone())
            .contacts_arc(contacts.clone())
            .secret_key(SecretKey::from_bytes(&[0xc3; 32]).unwrap())
            .previous_keys(previous)
            .policy(policy.clone())
            .build()
            .unwrap()
    };
    let ring = rotated(vec![SecretKey::from_bytes(&[0x5a; 32]).unwrap()]);
    let new_only = rotated(Vec::new());
    enroll(&old).await;

    // A reset begun before the rotation ends after it.
    let (flow, pin) = pin(&old, outbox).await;
    let wrong = if pin.starts_with('1') { "2" } else { "1" }.to_owned() + &pin[1..];
    assert!(matches!(
        new_only.verify_pin(&flow, sspr_core::Pin::new(&wrong), &ctx()).await,
        Err(Error::WrongPin { .. })
    ));
    ring.verify_pin(&flow, sspr_core::Pin::new(&pin), &ctx()).await.unwrap();
    ring.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();

    // Blocked on the old key (three wrong PINs from three clients)...
    for n in 1..=3 {
        let from = RequestContext::from_ip(format!("198.51.100.{n}").parse().unwrap());
        let (flow, pin) = {
            let c = old.begin_reset(USER, &from).await.unwrap();
            old.send_pin(&c.flow_id, "email", None, &from).await.unwrap();
            (c.flow_id, outbox.last_pin_to(MAIL).unwrap())
        };
        let wrong = if pin.starts_with('1') { "2" } else { "1" }.to_owned() + &pin[1..];
        assert!(old.verify_pin(&flow, sspr_core::Pin::new(&wrong), &from).await.is_err());
    }
    assert!(matches!(old.begin_reset(USER, &ctx()).await, Err(Error::Blocked { .. })));
    // ...the new key alone would lift the block; the ring keeps it.
    assert!(new_only.begin_reset(USER, &ctx()).await.is_ok(), "the new key alone names other store keys");
    assert!(matches!(ring.begin_reset(USER, &ctx()).await, Err(Error::Blocked { .. })));
}
