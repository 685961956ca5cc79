//! An attacker with a victim's login, many connections and addresses, and several portal
//! instances sharing one store: every attack here runs two engines on ONE real store (SQLite
//! file, Redis, Redis Cluster, PostgreSQL) with many requests in flight, and checks the
//! guarantee exactly, then that every state row or key the race left expires.
// The races print what they measured (`--nocapture`).
#![allow(unreachable_pub, clippy::print_stdout)]
// The SQLite-only build has no use for the dropped-reply helpers' parts.
#![cfg_attr(not(feature = "server-tests"), allow(dead_code))]

use std::sync::Arc;

use std::sync::atomic::{AtomicUsize, Ordering};

use sspr_core::backend::DirectoryUser;
use sspr_core::memory::{MemoryAuditSink, MemoryDirectory, Outbox};
use sspr_core::{
    Actor, AuditEvent, AuditKind, Authentication, BackendError, Channel, ContactStore, Directory, Error, ManualClock,
    NewPassword, NormalizedLogin, Outcome, Password, Pin, Policy, RequestContext, SecretKey, Sspr, StateStore, UserId,
};

use crate::common::{self, MAIL, USER};

/// A directory that counts its password writes (the guarantee is one write per flow) and
/// its password checks, each taking a bind's few milliseconds.
#[derive(Debug, Clone)]
pub struct Counting {
    inner: MemoryDirectory,
    writes: Arc<AtomicUsize>,
    binds: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl Directory for Counting {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        self.inner.find_user(login).await
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        self.inner.unlock(user).await
    }
    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        self.binds.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        self.inner.authenticate(user, password).await
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        self.inner.search(query, limit).await
    }
}

/// Two instances on one store: what one portal behind a load balancer with two processes is.
pub struct Pair {
    pub a: Sspr,
    pub b: Sspr,
    pub directory: MemoryDirectory,
    pub writes: Arc<AtomicUsize>,
    /// Passwords checked against the directory.
    pub binds: Arc<AtomicUsize>,
    pub outbox: Outbox,
    pub audit: MemoryAuditSink,
    /// Both instances' clock: it starts at the system's time and moves only when told.
    pub clock: ManualClock,
}

/// A state store and a contact store (one object for SQLite and PostgreSQL).
pub type Handles = (Arc<dyn StateStore>, Arc<dyn ContactStore>);

impl Pair {
    /// `a` and `b`, each on its own handle of one store.
    pub fn new(policy: Policy, a: Handles, b: Handles) -> Self {
        let (directory, outbox, writes) = (common::directory(), Outbox::new(), Arc::new(AtomicUsize::new(0)));
        let binds = Arc::new(AtomicUsize::new(0));
        let counting = Counting { inner: directory.clone(), writes: writes.clone(), binds: binds.clone() };
        let audit = MemoryAuditSink::with_capacity(100_000);
        let clock = ManualClock::new(sspr_core::Clock::now(&sspr_core::SystemClock));
        let engine = |(store, contacts): Handles| {
            Sspr::builder()
                .directory(counting.clone())
                .notifier(outbox.clone())
                .audit(audit.clone())
                .clock(clock.clone())
                .store_arc(store)
                .contacts_arc(contacts)
                .secret_key(SecretKey::from_bytes(&[0x5a; 32]).unwrap())
                .policy(policy.clone())
                .build()
                .unwrap()
        };
        Pair { a: engine(a), b: engine(b), directory, writes, binds, outbox, audit, clock }
    }

    /// The audit events of both instances so far (their queues flushed first).
    async fn events(&self) -> Vec<AuditEvent> {
        self.a.flush_audit().await.unwrap();
        self.b.flush_audit().await.unwrap();
        self.audit.events()
    }

    fn pick(&self, i: usize) -> Sspr {
        if i.is_multiple_of(2) { self.a.clone() } else { self.b.clone() }
    }
}

/// A policy for races: no padding (it only slows the test), the defaults otherwise.
pub fn policy() -> Policy {
    Policy { min_response_ms: 0, ..common::policy() }
}

/// A policy where the per-PIN cap (`max_wrong_pins`) is the only one that binds, so a race
/// can be repeated on new flows of one user.
pub fn per_pin_policy() -> Policy {
    Policy {
        failures_before_delay: 50,
        user_failures_before_block: 100,
        client_failures_before_block: 50,
        user_sends_per_hour: 100,
        ip_begins_per_hour: 1000,
        ip_sends_per_hour: 1000,
        destination_sends_per_hour: 100,
        failure_alarm_per_hour: 100_000,
        ..policy()
    }
}

fn ip(i: usize) -> RequestContext {
    RequestContext::from_ip(format!("198.51.{}.{}", 100 + i / 250, i % 250 + 1).parse().unwrap())
}

/// Begin-and-send for the victim from 40 addresses at once through both instances: no more
/// PINs go out than the user's count from all clients (`user_sends_all_clients_per_hour`),
/// whichever instance or address asks.
pub async fn sends_for_one_user_pass_at_most_the_user_limit(p: &Pair) {
    let limit = p.a.policy().user_sends_all_clients_per_hour() as usize;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let sspr = p.pick(i);
            tokio::spawn(async move {
                let ctx = ip(i);
                let challenge = sspr.begin_reset(USER, &ctx).await?;
                sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await
            })
        })
        .collect();
    let mut sent = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => sent += 1,
            Err(Error::RateLimited { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    p.a.flush_deliveries().await;
    p.b.flush_deliveries().await;
    let delivered = p.outbox.messages_to(MAIL).len();
    println!("user limit {limit}: {sent} sends answered, {delivered} PINs delivered");
    assert!(sent <= limit, "{sent} sends passed a per-user limit of {limit}");
    assert!(delivered <= limit, "{delivered} PINs delivered under a per-user limit of {limit}");
    assert!(sent >= 1, "the race let no send through at all");
}

/// 60 begin-and-sends from one address for 60 different logins (real and unknown: decoys
/// count too) through both instances: no more than `ip_begins_per_hour` flows start and no
/// more than `ip_sends_per_hour` sends pass.
pub async fn sends_from_one_address_pass_at_most_the_address_limits(p: &Pair) {
    let (begins_cap, sends_cap) = (p.a.policy().ip_begins_per_hour as usize, p.a.policy().ip_sends_per_hour as usize);
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let sspr = p.pick(i);
            tokio::spawn(async move {
                let ctx = RequestContext::from_ip("203.0.113.99".parse().unwrap());
                let login = if i == 0 { USER.to_owned() } else { format!("nobody{i}@example.org") };
                let challenge = sspr.begin_reset(&login, &ctx).await.map_err(|e| (true, e))?;
                sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.map_err(|e| (false, e))
            })
        })
        .collect();
    let (mut begun, mut sent) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => {
                begun += 1;
                sent += 1
            }
            Err((false, Error::RateLimited { .. })) => begun += 1,
            Err((true, Error::RateLimited { .. })) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    println!("per address: {begun} flows begun (cap {begins_cap}), {sent} sends (cap {sends_cap})");
    assert!(begun <= begins_cap, "{begun} flows begun from one address, cap {begins_cap}");
    assert!(sent <= sends_cap, "{sent} sends from one address, cap {sends_cap}");
}

/// 30 sends on one flow at once through both instances: one PIN goes out, the rest wait for
/// the resend cooldown; the PIN delivered is the one that verifies.
pub async fn sends_on_one_flow_pass_once_per_cooldown(p: &Pair) {
    let challenge = p.a.begin_reset(USER, &common::ctx()).await.unwrap();
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let (sspr, flow) = (p.pick(i), challenge.flow_id.clone());
            tokio::spawn(async move { sspr.send_pin(&flow, "email", None, &ip(i)).await })
        })
        .collect();
    let mut sent = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => sent += 1,
            Err(Error::RateLimited { .. } | Error::InvalidState { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    p.a.flush_deliveries().await;
    p.b.flush_deliveries().await;
    let pins = p.outbox.messages_to(MAIL);
    assert_eq!(sent, 1, "{sent} of 30 racing sends on one flow passed the cooldown");
    assert_eq!(pins.len(), 1, "{} PINs delivered for one flow within its cooldown", pins.len());
    let pin = p.outbox.last_pin_to(MAIL).unwrap();
    p.b.verify_pin(&challenge.flow_id, Pin::new(&pin), &common::ctx()).await.expect("the delivered PIN verifies");
}

/// The right PIN fired among 12 wrong ones, from 13 addresses through both instances, on
/// `rounds` new flows. Each attempt is counted before its compare, so the compares that
/// landed (the audit's `PinFailed` events and the win) are at most `max_wrong_pins`; once that
/// many wrong ones were compared, the right PIN never verifies (not in the race, not after).
pub async fn a_right_pin_raced_with_wrong_ones_never_verifies_after_the_void(p: &Pair, rounds: usize) {
    let max = p.a.policy().max_wrong_pins as usize;
    let (mut won, mut voided) = (0, 0);
    for round in 0..rounds {
        p.outbox.clear();
        let (flow, right) = common::pin(&p.pick(round), &p.outbox).await;
        let wrong = if right == "00000000" { "11111111" } else { "00000000" };
        let seen = p.events().await.len();
        let tasks: Vec<_> = (0..13)
            .map(|i| {
                let (sspr, flow) = (p.pick(i + round), flow.clone());
                // The right PIN goes in the middle of the burst, from an address of its own.
                let pin = if i == 6 + round % 5 { right.clone() } else { wrong.to_owned() };
                tokio::spawn(async move { sspr.verify_pin(&flow, Pin::new(&pin), &ip(100 + i)).await })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => wins += 1,
                Err(Error::WrongPin { .. } | Error::PinVoided | Error::AlreadyUsed | Error::InvalidState { .. }) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        let events = p.events().await;
        let events = events.get(seen..).unwrap_or_default();
        let wrongs = events.iter().filter(|e| e.kind == AuditKind::PinFailed).count();
        let verified =
            events.iter().filter(|e| e.kind == AuditKind::PinVerified && e.outcome == Outcome::Success).count();
        assert_eq!(verified, wins, "the audit trail and the answers disagree on the wins");
        assert!(wins <= 1, "{wins} wins");
        assert!(wrongs + wins <= max, "round {round}: {wrongs} wrong PINs and {wins} right one compared; cap {max}");
        let again = p.pick(round + 1).verify_pin(&flow, Pin::new(&right), &common::ctx()).await;
        if wins == 0 {
            voided += 1;
            assert!(
                matches!(again, Err(Error::PinVoided)),
                "round {round}: {wrongs} wrong PINs compared, then the right one: {again:?}"
            );
            assert_eq!(wrongs, max, "round {round}: the right PIN lost with only {wrongs} wrong ones compared");
        } else {
            won += 1;
            assert!(matches!(again, Err(Error::AlreadyUsed)), "{again:?}");
        }
    }
    println!("{rounds} rounds: the right PIN won {won}, the PIN was voided first {voided}");
}

/// A policy where the user-wide block (`user_failures_before_block`) is the cap that binds.
pub fn block_policy() -> Policy {
    Policy { user_failures_before_block: 8, max_wrong_pins: 10, ..per_pin_policy() }
}

/// 200 wrong PINs at once over 5 flows of the user, from 40 addresses, through both
/// instances: no more are compared than `user_failures_before_block`, and then the user is
/// blocked on both instances at once (the right PIN of every flow refused on each).
pub async fn a_block_holds_on_both_instances(p: &Pair) {
    let cap = p.a.policy().user_failures_before_block as usize;
    let mut flows = Vec::new();
    for i in 0..5 {
        flows.push(common::pin(&p.pick(i), &p.outbox).await);
    }
    let seen = p.events().await.len();
    let tasks: Vec<_> = (0..200usize)
        .map(|i| {
            let (sspr, (flow, right)) = (p.pick(i), flows[i % flows.len()].clone());
            let wrong = if right == "00000000" { "11111111" } else { "00000000" };
            tokio::spawn(async move { sspr.verify_pin(&flow, Pin::new(wrong), &ip(500 + i % 40)).await })
        })
        .collect();
    for task in tasks {
        match task.await.unwrap() {
            Err(Error::WrongPin { .. } | Error::Blocked { .. } | Error::RateLimited { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let events = p.events().await;
    let compared = events.get(seen..).unwrap_or_default().iter().filter(|e| e.kind == AuditKind::PinFailed).count();
    println!("block after {cap}: {compared} of 200 racing wrong PINs compared");
    assert!(compared <= cap, "{compared} wrong PINs compared before a block after {cap}");
    for (flow, right) in &flows {
        for sspr in [&p.a, &p.b] {
            let answer = sspr.verify_pin(flow, Pin::new(right), &common::ctx()).await;
            assert!(matches!(answer, Err(Error::Blocked { .. })), "the right PIN after the block: {answer:?}");
        }
    }
}

/// A helpdesk recovery code redeemed 20 times at once through both instances: one verified
/// flow, and it completes once.
pub async fn a_recovery_code_redeems_once(p: &Pair) {
    let admin = Actor::Admin("helpdesk".into());
    let code = p.a.admin_recovery(&admin, USER, &common::ctx()).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (sspr, code) = (p.pick(i), code.code.expose_secret().to_owned());
            tokio::spawn(async move { sspr.redeem_recovery_code(USER, &code, &ip(200 + i)).await })
        })
        .collect();
    let mut flows = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(recovered) => flows.push(recovered.flow_id),
            // Every request typed the right code: the losers are told it was used.
            Err(Error::AlreadyUsed | Error::RateLimited { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(flows.len(), 1, "{} of 20 racing redemptions of one recovery code won", flows.len());
    race_completions(p, &flows[0]).await;
}

/// The right recovery code fired among 8 wrong ones from one address through both instances
/// (one: `max_wrong_pins` is the cap of one client's tries, 11.9; 9: the per-login limit, twice
/// `max_wrong_pins` an hour, leaves one redemption to check): the wrong codes compared (the
/// audit's "wrong code" failures) are at most `max_wrong_pins` with the win, and when the code
/// lost it is dead for that client: the right code is refused.
pub async fn a_right_recovery_code_raced_with_wrong_ones_dies_after_max_wrong(p: &Pair) {
    let max = p.a.policy().max_wrong_pins as usize;
    let code = p.a.admin_recovery(&Actor::Admin("helpdesk".into()), USER, &common::ctx()).await.unwrap();
    let right = code.code.expose_secret().to_owned();
    let wrong = if right == "0000000000" { "1111111111" } else { "0000000000" };
    let seen = p.events().await.len();
    let tasks: Vec<_> = (0..9)
        .map(|i| {
            let sspr = p.pick(i);
            let code = if i == 5 { right.clone() } else { wrong.to_owned() };
            tokio::spawn(async move { sspr.redeem_recovery_code(USER, &code, &ip(600)).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(Error::WrongPin { attempts_left: 0 } | Error::RateLimited { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    let events = p.events().await;
    let wrongs = events
        .get(seen..)
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            e.kind == AuditKind::RecoveryRedeemed && e.outcome == Outcome::Failed { error: "wrong code".into() }
        })
        .count();
    println!("recovery code: {wrongs} wrong codes compared, {wins} win");
    assert!(wins <= 1 && wrongs + wins <= max, "{wrongs} wrong codes and {wins} right one compared; cap {max}");
    if wins == 0 {
        let again = p.b.redeem_recovery_code(USER, &right, &ip(600)).await;
        assert!(matches!(again, Err(Error::WrongPin { attempts_left: 0 })), "the right code after the race: {again:?}");
        assert_eq!(wrongs, max, "the right code lost with only {wrongs} wrong ones compared");
    }
}

/// A contact proof's code confirmed 20 times at once through both instances: saved once.
pub async fn a_contact_proof_confirms_once(p: &Pair) {
    const NEW: &str = "alice.new@mail.example";
    let proof = p.a.request_contact_proof(&Actor::User, USER, Channel::Email, NEW, &common::ctx()).await.unwrap();
    p.a.flush_deliveries().await;
    let code = p.outbox.last_proof_code_to(NEW).expect("a proof code was sent");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (sspr, id, code) = (p.pick(i), proof.proof_id.clone(), code.clone());
            tokio::spawn(async move { sspr.confirm_contact_proof(&Actor::User, USER, &id, &code, &ip(300 + i)).await })
        })
        .collect();
    let mut saved = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => saved += 1,
            Err(Error::AlreadyUsed | Error::InvalidState { .. } | Error::Expired) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(saved, 1, "{saved} of 20 racing confirmations of one contact proof saved it");
}

/// 30 completions of one verified flow at once through both instances: the directory is
/// written once (its password history grows by one), and the password handed over is it.
pub async fn race_completions(p: &Pair, flow: &str) {
    let user = p.directory.users().into_iter().find(|u| u.login == USER).unwrap().id;
    let before = p.writes.load(Ordering::SeqCst);
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let (sspr, flow) = (p.pick(i), flow.to_owned());
            tokio::spawn(async move { sspr.complete_reset(&flow, NewPassword::Temporary, &ip(400 + i)).await })
        })
        .collect();
    let mut handed = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(outcome) => handed.push(outcome.temporary_password.unwrap()),
            Err(Error::AlreadyUsed | Error::InvalidState { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(handed.len(), 1, "{} of 30 racing completions won", handed.len());
    let writes = p.writes.load(Ordering::SeqCst) - before;
    assert_eq!(writes, 1, "{writes} directory password writes for one flow");
    assert_eq!(p.directory.check_password(&user, handed[0].expose_secret()), Some(true));
}

/// Every store entry a race left (`(key, seconds until it expires)`, `None` for no expiry)
/// expires, and no later than its kind's documented lifetime plus the store's grace (60 s for
/// counters, 120 s for records): hourly limits an hour, flows and recovery codes their
/// lifetime, a contact proof its PIN's, a user's attempts and block the failure window or the
/// block. No race leaves a counter that locks a user out for good, or for longer than said.
pub fn every_entry_expires(entries: &[(String, Option<i64>)], policy: &Policy) {
    assert!(!entries.is_empty(), "the race left no entries to inspect");
    let hour = 3600 + 60;
    let standing = policy.failure_window_secs.max(policy.block_secs) as i64 + 60;
    let mut by_kind = std::collections::BTreeMap::new();
    for (key, ttl) in entries {
        let ttl = ttl.unwrap_or_else(|| panic!("{key} never expires"));
        // `<prefix>sspr/<kind>/<hash>` (Redis keys carry the store's prefix first).
        let kind = key.split("sspr/").last().unwrap_or(key).split('/').next().unwrap_or(key).to_owned();
        let longest = match kind.as_str() {
            "flow" => policy.flow_lifetime_secs as i64 + 120,
            "recovery" | "recovery-spent" => 900 + 120,
            "contact-proof" => policy.pin_lifetime_secs as i64 + 120,
            "attempts" | "block" => standing,
            "signin-tries" | "signin-lock" => policy.sign_in_lockout_secs as i64 + 120,
            "sends"
            | "sends-client"
            | "ip_begins"
            | "ip_sends"
            | "dest"
            | "dest-client"
            | "contact-proofs"
            | "ip_proofs"
            | "ip_recoveries"
            | "ip_recovery_redeems"
            | "ip_sign_ins"
            | "recovery-redeems"
            | "recovery-redeems-client"
            | "{failure-alarm}"
            | "failure-alarm" => hour,
            other => panic!("{key}: a kind of entry ({other}) this check does not know: give it its lifetime"),
        };
        assert!(ttl > 0 && ttl <= longest, "{key} expires in {ttl} s (at most {longest} expected for {kind})");
        let slot = by_kind.entry(kind).or_insert((0, i64::MAX, 0));
        *slot = (slot.0 + 1, slot.1.min(ttl), slot.2.max(ttl));
    }
    println!("{} entries, all expiring; by kind (count, soonest, latest in s): {by_kind:?}", entries.len());
}

/// 40 wrong sign-ins of one login at once from 40 addresses through both instances: at most
/// `sign_in_failures_before_lockout` passwords are checked against the directory, and the
/// right password is then refused on both (14.2f: the lockout was read before the bind and
/// the failure counted after, so every request in flight was checked).
pub async fn racing_sign_ins_check_no_more_passwords_than_the_lockout_allows(p: &Pair) {
    let login = NormalizedLogin::parse(USER).unwrap();
    let user = p.directory.find_user(&login).await.unwrap().unwrap();
    p.directory.set_password(&user.id, &Password::new("Right-Horse-7"), false).await.unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let sspr = p.pick(i);
            tokio::spawn(
                async move { sspr.sign_in(USER, &Password::new(format!("Guess-{i}-Pass")), &ip(300 + i)).await },
            )
        })
        .collect();
    for task in tasks {
        let answer = task.await.unwrap();
        assert!(matches!(answer, Err(Error::SignInFailed | Error::RateLimited { .. })), "{answer:?}");
    }
    let binds = p.binds.load(Ordering::SeqCst);
    let allowed = p.a.policy().sign_in_failures_before_lockout as usize;
    println!("racing sign-ins: {binds} passwords checked of 40 (lockout after {allowed})");
    assert!(binds <= allowed, "{binds} passwords checked against the directory, lockout after {allowed}");
    for sspr in [&p.a, &p.b] {
        let after = sspr.sign_in(USER, &Password::new("Right-Horse-7"), &ip(400)).await;
        assert!(matches!(after, Err(Error::RateLimited { .. })), "the right password after the race: {after:?}");
    }
}

/// Every attack above in turn, each on a pair `pair` makes on fresh keys of the store; then
/// every entry `entries` finds (all the pairs') must expire.
pub async fn all<P, PF, E, EF>(pair: P, entries: E)
where
    P: Fn(Policy) -> PF,
    PF: std::future::Future<Output = Pair>,
    E: FnOnce() -> EF,
    EF: std::future::Future<Output = Vec<(String, Option<i64>)>>,
{
    let p = pair(policy()).await;
    common::enroll(&p.a).await;
    sends_for_one_user_pass_at_most_the_user_limit(&p).await;

    let p = pair(policy()).await;
    common::enroll(&p.a).await;
    sends_from_one_address_pass_at_most_the_address_limits(&p).await;

    let p = pair(policy()).await;
    common::enroll(&p.a).await;
    sends_on_one_flow_pass_once_per_cooldown(&p).await;

    let p = pair(per_pin_policy()).await;
    common::enroll(&p.a).await;
    a_right_pin_raced_with_wrong_ones_never_verifies_after_the_void(&p, 8).await;

    let p = pair(block_policy()).await;
    common::enroll(&p.a).await;
    a_block_holds_on_both_instances(&p).await;

    let p = pair(policy()).await;
    common::enroll(&p.a).await;
    a_recovery_code_redeems_once(&p).await;

    let p = pair(policy()).await;
    common::enroll(&p.a).await;
    a_right_recovery_code_raced_with_wrong_ones_dies_after_max_wrong(&p).await;

    let p = pair(policy()).await;
    common::enroll(&p.a).await;
    let (flow, pin) = common::pin(&p.b, &p.outbox).await;
    p.a.verify_pin(&flow, Pin::new(&pin), &common::ctx()).await.unwrap();
    race_completions(&p, &flow).await;
    common::wrong_pin_burst(&p.a, &p.b, &p.outbox, &policy()).await;

    let p = pair(policy()).await;
    common::enroll(&p.a).await;
    a_contact_proof_confirms_once(&p).await;

    let p = pair(policy()).await;
    racing_sign_ins_check_no_more_passwords_than_the_lockout_allows(&p).await;

    every_entry_expires(&entries().await, &policy());
}

#[cfg(all(feature = "server-tests", any(feature = "redis", feature = "postgres")))]
/// What a user saw in one flow whose store dropped one reply after doing the work.
#[derive(Debug, Default)]
pub struct DroppedReply {
    /// Each step's answers in order (`ok` or the error).
    pub steps: Vec<String>,
    /// The password handed over, if any.
    pub handed_over: Option<String>,
}

#[cfg(all(feature = "server-tests", any(feature = "redis", feature = "postgres")))]
fn typed_store_failure<T: std::fmt::Debug>(step: &str, result: &sspr_core::Result<T>) {
    assert!(
        matches!(result, Err(Error::Backend { source }) if source.kind() == sspr_core::BackendErrorKind::Unavailable),
        "{step} with a dropped store reply must fail as Unavailable: {result:?}"
    );
}

#[cfg(all(feature = "server-tests", any(feature = "redis", feature = "postgres")))]
/// A whole reset as a persistent user runs it (each step retried up to six times: an outage of four calls) while the
/// store drops one reply; each failure must be a typed `Unavailable`.
pub async fn flow_through_a_dropped_reply(p: &Pair) -> DroppedReply {
    let mut seen = DroppedReply::default();
    let ctx = common::ctx();
    let mut challenge = None;
    for _ in 0..6 {
        let r = p.a.begin_reset(USER, &ctx).await;
        seen.steps.push(format!("begin: {}", r.as_ref().map(|_| "ok".to_owned()).unwrap_or_else(|e| format!("{e:?}"))));
        match r {
            Ok(c) => {
                challenge = Some(c);
                break;
            }
            r => typed_store_failure("begin_reset", &r),
        }
    }
    let flow = challenge.expect("begin_reset works on a retry").flow_id;
    for _ in 0..6 {
        let r = p.b.send_pin(&flow, "email", None, &ctx).await;
        seen.steps.push(format!("send: {}", r.as_ref().map(|_| "ok".to_owned()).unwrap_or_else(|e| format!("{e:?}"))));
        p.b.flush_deliveries().await;
        match r {
            Ok(_) => break,
            // A send the store did but whose answer was lost: its PIN was never delivered,
            // and a new one may be sent after the cooldown (the documented outcome).
            Err(Error::RateLimited { retry_after }) if p.outbox.last_pin_to(MAIL).is_none() => {
                assert!(retry_after <= std::time::Duration::from_secs(p.a.policy().resend_cooldown_secs));
                p.clock.advance(retry_after + std::time::Duration::from_secs(1));
            }
            r => typed_store_failure("send_pin", &r),
        }
    }
    let pin = p.outbox.last_pin_to(MAIL).expect("a PIN arrives after the cooldown at the latest");
    for _ in 0..6 {
        let r = p.a.verify_pin(&flow, Pin::new(&pin), &ctx).await;
        seen.steps
            .push(format!("verify: {}", r.as_ref().map(|_| "ok".to_owned()).unwrap_or_else(|e| format!("{e:?}"))));
        match r {
            Ok(_) | Err(Error::AlreadyUsed) => break,
            r => typed_store_failure("verify_pin", &r),
        }
    }
    for _ in 0..6 {
        let r = p.b.complete_reset(&flow, NewPassword::Temporary, &ctx).await;
        seen.steps
            .push(format!("complete: {}", r.as_ref().map(|_| "ok".to_owned()).unwrap_or_else(|e| format!("{e:?}"))));
        match r {
            Ok(outcome) => {
                seen.handed_over = outcome.temporary_password.map(|p| p.expose_secret().to_owned());
                break;
            }
            // A lease the store took but whose answer was lost holds the flow until it ends
            // (the documented outcome); nothing was written to the directory meanwhile.
            Err(Error::InvalidState { reason }) if reason.contains("another request is completing") => {
                assert_eq!(p.writes.load(Ordering::SeqCst), 0, "a password was set under a lost lease");
                p.clock.advance(std::time::Duration::from_secs(121));
            }
            Err(Error::AlreadyUsed | Error::InvalidState { .. }) => break,
            r => typed_store_failure("complete_reset", &r),
        }
    }
    seen
}

/// The store drops the reply to each of the first ten store calls of a whole reset in turn
/// (the call done, the connection cut before its answer: `reply_drop`), alone or with the 1 or 3
/// calls after it (an outage lasting a few calls; each retry reconnects): every failure is a
/// typed `Unavailable`, the directory is written at most once and the password written is the
/// one handed over, the user finishes the reset (after the cooldown or the completion lease
/// where a lost answer left one, as documented), and every entry left expires.
#[cfg(all(feature = "server-tests", any(feature = "redis", feature = "postgres")))]
pub async fn dropped_replies<P, PF, E, EF>(proxy: &crate::reply_drop::ReplyDrop, pair: P, entries: E)
where
    P: Fn(String) -> PF,
    PF: std::future::Future<Output = Pair>,
    E: Fn(String) -> EF,
    EF: std::future::Future<Output = Vec<(String, Option<i64>)>>,
{
    let mut findings = Vec::new();
    for (k, more) in (1..=10).flat_map(|k| [(k, 0), (k, 1), (k, 3)]) {
        let p = pair(format!("{k}-{more}")).await;
        common::enroll(&p.a).await;
        let before = proxy.dropped();
        proxy.arm(k, more);
        let seen = flow_through_a_dropped_reply(&p).await;
        proxy.disarm();
        let writes = p.writes.load(Ordering::SeqCst);
        println!(
            "reply {k} (+{more}) dropped ({}): {:?}; {writes} password writes",
            proxy.dropped() - before,
            seen.steps
        );
        assert!(writes <= 1, "{writes} password writes");
        let user = p.directory.users().into_iter().find(|u| u.login == USER).unwrap().id;
        match &seen.handed_over {
            Some(password) => assert_eq!(p.directory.check_password(&user, password), Some(true)),
            None => findings.push(format!("reply {k} (+{more}): no password handed over: {:?}", seen.steps)),
        }
        every_entry_expires(&entries(format!("{k}-{more}")).await, &policy());
    }
    assert!(findings.is_empty(), "{findings:#?}");
}
