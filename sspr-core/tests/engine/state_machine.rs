//! The reset flow as a state machine, tested by property (docs/ARCHITECTURE.md): random sequences of
//! `begin_reset`, `send_pin`, `verify_pin`, `complete_reset` and clock jumps, over a few
//! flows of real and decoy users, checked after every step against a reference model that
//! knows which PIN each flow delivered, when, and what happened to it.
//!
//! The invariants:
//! - `complete_reset` succeeds only for a real flow whose latest PIN was verified while it was
//!   correct, live (within the PIN lifetime, flow not expired) and unused, and only once; and
//!   it does succeed for such a flow while the flow lives (a verified user is not stranded).
//! - `verify_pin` never succeeds with a wrong, stale (older or another flow's), expired,
//!   voided or already used PIN, and never on a decoy flow; the right live PIN is never
//!   counted as a wrong one (it may only be refused because the user is blocked).
//! - `send_pin` never succeeds on a completed, verified, voided or expired flow, before the
//!   resend cooldown, beyond the PINs a flow may send, or for a method the flow did not offer;
//!   a successful send to a real user delivers exactly one PIN, to the chosen destination.
//! - Decoy flows never deliver any message; a failed operation delivers no PIN.
//!
//! Operations may fail with rate limits or blocks: the model never requires a success that a
//! limit could refuse, except where noted above.
//!
//! The same property runs a second time with `privileged_mode = two_methods`, where the
//! privileged user's flow needs a verified PIN by e-mail *and* by SMS before it completes.

use sspr_core::Pin;
use std::cell::Cell;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use sspr_core::time::OffsetDateTime;
use sspr_core::{AuditKind, Clock, Error, NewPassword, Password, Policy, PrivilegedMode};

use crate::support::{
    ADMIN, ALICE, ALICE_MAIL, ALICE_PHONE, BOB, BOB_MAIL, Harness, NOT_ENABLED, ROOT_MAIL, ROOT_PHONE, ctx,
    policy as harness_policy,
};

/// The logins flows are begun for: two real users and three kinds of decoy.
const LOGINS: [&str; 5] = [ALICE, BOB, ADMIN, NOT_ENABLED, "nobody@example.org"];

/// Where a real user's PIN goes, by method; `None` for decoys and missing methods.
fn address(login: &str, method: Method) -> Option<&'static str> {
    match (login, method) {
        (ALICE, Method::Email) => Some(ALICE_MAIL),
        (ALICE, Method::Sms) => Some(ALICE_PHONE),
        (BOB, Method::Email) => Some(BOB_MAIL),
        (ADMIN, Method::Email) => Some(ROOT_MAIL),
        (ADMIN, Method::Sms) => Some(ROOT_PHONE),
        _ => None,
    }
}

/// The registered address of a user that must never receive anything (not enabled).
const NEVER_CONTACTED: &str = "frank@home.example";

/// Clock jumps, around the PIN lifetime (600 s), the resend cooldown (60 s), the flow
/// lifetime (900 s = 600 + 300) and the limit windows (1 h, 24 h), with their weights.
const JUMPS: [(u32, u64); 11] =
    [(1, 1), (1, 59), (2, 61), (1, 299), (2, 300), (1, 301), (2, 599), (3, 600), (3, 601), (1, 3600), (1, 86_400)];

const CHOSEN: &str = "Blue-Kettle-Oslo-42";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Email,
    Sms,
}

impl Method {
    fn id(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum PinChoice {
    /// The flow's latest PIN (for a flow without one: some other PIN).
    Right,
    /// The latest PIN with every digit changed.
    Wrong,
    /// An older PIN of the flow, or another flow's latest PIN.
    Stale,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Temporary,
    Chosen,
    UnlockOnly,
}

/// One step; `flow` counts back from the newest flow.
#[derive(Debug, Clone)]
enum Op {
    Begin {
        login: usize,
    },
    /// `method: None` picks the first method the flow has not verified yet.
    Send {
        flow: usize,
        method: Option<Method>,
    },
    Verify {
        flow: usize,
        pin: PinChoice,
    },
    Complete {
        flow: usize,
        mode: Mode,
    },
    Advance {
        secs: u64,
    },
}

fn jump() -> impl Strategy<Value = u64> {
    proptest::strategy::Union::new_weighted(JUMPS.iter().map(|&(weight, secs)| (weight, Just(secs))).collect())
}

fn op(two_methods: bool) -> impl Strategy<Value = Op> {
    // Most operations act on the newest flow, so sequences often run a whole reset. With two
    // methods, the privileged user (index 2) and SMS come up more, so that both PINs of one
    // flow are often verified.
    let flow = || prop_oneof![3 => Just(0usize), 1 => 0..6usize];
    let login = if two_methods {
        prop_oneof![2 => Just(0usize), 1 => Just(1usize), 4 => Just(2usize), 1 => 3..LOGINS.len()].boxed()
    } else {
        prop_oneof![3 => Just(0usize), 2 => Just(1usize), 2 => 2..LOGINS.len()].boxed()
    };
    let sms_weight = if two_methods { 3 } else { 1 };
    let method = prop_oneof![
        3 => Just(Some(Method::Email)),
        sms_weight => Just(Some(Method::Sms)),
        sms_weight => Just(None),
    ];
    let pin = prop_oneof![4 => Just(PinChoice::Right), 1 => Just(PinChoice::Wrong), 1 => Just(PinChoice::Stale)];
    let mode = prop_oneof![Just(Mode::Temporary), Just(Mode::Chosen), Just(Mode::UnlockOnly)];
    prop_oneof![
        2 => login.prop_map(|login| Op::Begin { login }),
        3 => (flow(), method).prop_map(|(flow, method)| Op::Send { flow, method }),
        4 => (flow(), pin).prop_map(|(flow, pin)| Op::Verify { flow, pin }),
        2 => (flow(), mode).prop_map(|(flow, mode)| Op::Complete { flow, mode }),
        2 => jump().prop_map(|secs| Op::Advance { secs }),
    ]
}

/// The latest PIN of a flow, as the model knows it.
#[derive(Debug)]
struct LatestPin {
    /// The digits delivered; `None` for a decoy, which delivers nothing.
    digits: Option<String>,
    method: Method,
    sent_at: OffsetDateTime,
    wrong_tries: u32,
}

/// What the model knows about one flow.
#[derive(Debug)]
struct FlowModel {
    id: String,
    /// The flow's reference in audit events.
    reference: String,
    login: &'static str,
    real: bool,
    /// How many methods must be verified (2 for the privileged user under `two_methods`).
    required: usize,
    /// The methods verified so far.
    verified_methods: Vec<Method>,
    offered: Vec<String>,
    expires_at: OffsetDateTime,
    /// Every PIN delivered, oldest first.
    delivered: Vec<String>,
    latest: Option<LatestPin>,
    sends: u32,
    last_send: Option<OffsetDateTime>,
    verified: bool,
    completed: bool,
    voided: bool,
}

impl FlowModel {
    fn live(&self, now: OffsetDateTime) -> bool {
        now <= self.expires_at
    }

    /// The PIN that may verify now, if any: the latest, delivered, live, unused, not void.
    fn verifiable_pin(&self, now: OffsetDateTime, policy: &Policy) -> Option<&str> {
        let latest = self.latest.as_ref()?;
        let pin_live = now <= latest.sent_at + Duration::from_secs(policy.pin_lifetime_secs);
        (self.real && self.live(now) && pin_live && !self.verified && !self.completed && !self.voided)
            .then_some(latest.digits.as_deref())
            .flatten()
    }

    /// Whether `complete_reset` may (and must) succeed now.
    fn completable(&self, now: OffsetDateTime) -> bool {
        self.real && self.verified && !self.completed && self.live(now)
    }
}

/// How often each interesting thing happened over all cases: a property test whose sequences
/// never reach a completion would prove nothing.
#[derive(Default)]
struct Coverage {
    verified: Cell<u32>,
    completed: Cell<u32>,
    refused_completions: Cell<u32>,
    right_pin_refused_late: Cell<u32>,
    decoy_sends: Cell<u32>,
    wrong_pins: Cell<u32>,
    partial_verifications: Cell<u32>,
    two_method_completions: Cell<u32>,
}

fn bump(counter: &Cell<u32>) {
    counter.set(counter.get() + 1);
}

/// The flow `back` places before the newest (wrapping round).
fn newest_first(flows: &[FlowModel], back: usize) -> usize {
    flows.len() - 1 - back % flows.len()
}

/// Wrong PINs counted on a flow, by the flow's audit reference.
fn pin_failures(h: &Harness, flow_ref: &str) -> usize {
    h.events_of(AuditKind::PinFailed).iter().filter(|e| e.flow_ref.as_deref() == Some(flow_ref)).count()
}

/// Run one sequence against a fresh engine and the model.
async fn run(ops: Vec<Op>, coverage: &Coverage, two_methods: bool) -> Result<(), TestCaseError> {
    let privileged_mode = if two_methods { PrivilegedMode::TwoMethods } else { PrivilegedMode::Refuse };
    let policy = Policy { allow_chosen_password: true, privileged_mode, ..harness_policy() };
    let h = Harness::builder().policy(policy.clone()).build().await;
    if two_methods {
        h.enroll(ADMIN, Some(ROOT_MAIL), Some(ROOT_PHONE)).await;
    }
    let mut flows: Vec<FlowModel> = Vec::new();

    for (step, op) in ops.iter().enumerate() {
        let now = h.clock.now();
        let before = h.outbox.messages().len();
        let mut touched: Option<usize> = None;
        match *op {
            Op::Begin { login } => {
                let login = LOGINS[login];
                match h.sspr.begin_reset(login, &ctx()).await {
                    Ok(challenge) => {
                        prop_assert_eq!(challenge.expires_at, now + Duration::from_secs(policy.flow_lifetime_secs));
                        prop_assert!(flows.iter().all(|f| f.id != challenge.flow_id), "a flow id was reused");
                        let privileged_real = two_methods && login == ADMIN;
                        let requested = h.events_of(AuditKind::ResetRequested).pop();
                        let reference = requested.and_then(|e| e.flow_ref).unwrap_or_default();
                        prop_assert_eq!(reference.len(), 32, "a flow's events carry its reference");
                        flows.push(FlowModel {
                            id: challenge.flow_id,
                            reference,
                            login,
                            real: login == ALICE || login == BOB || privileged_real,
                            required: if privileged_real { 2 } else { 1 },
                            verified_methods: Vec::new(),
                            offered: challenge.methods.iter().map(|m| m.id.clone()).collect(),
                            expires_at: challenge.expires_at,
                            delivered: Vec::new(),
                            latest: None,
                            sends: 0,
                            last_send: None,
                            verified: false,
                            completed: false,
                            voided: false,
                        });
                        touched = Some(flows.len() - 1);
                    }
                    Err(Error::RateLimited { .. } | Error::Blocked { .. }) => {}
                    Err(e) => prop_assert!(false, "step {step}: begin_reset({login}) failed: {e:?}"),
                }
                prop_assert_eq!(h.outbox.messages().len(), before, "begin_reset delivered a message");
            }

            Op::Send { flow, method } => {
                if flows.is_empty() {
                    continue;
                }
                let i = newest_first(&flows, flow);
                touched = Some(i);
                let method = method.unwrap_or_else(|| {
                    [Method::Email, Method::Sms]
                        .into_iter()
                        .find(|m| !flows[i].verified_methods.contains(m))
                        .unwrap_or(Method::Email)
                });
                let result = h.sspr.send_pin(&flows[i].id, method.id(), None, &ctx()).await;
                let new = h.outbox.messages().split_off(before);
                let pins: Vec<_> = new.iter().filter_map(|n| n.pin().map(|p| (n.to.as_str().to_owned(), p))).collect();
                let f = &mut flows[i];
                match result {
                    Ok(sent) => {
                        prop_assert!(!f.completed, "step {step}: a PIN was sent for a completed flow");
                        prop_assert!(!f.verified, "step {step}: a PIN was sent for a verified flow");
                        prop_assert!(!f.voided, "step {step}: a PIN was sent for a voided flow");
                        prop_assert!(f.live(now), "step {step}: a PIN was sent for an expired flow");
                        prop_assert!(f.offered.iter().any(|m| m == method.id()), "step {step}: a method not offered");
                        prop_assert!(
                            !f.verified_methods.contains(&method),
                            "step {step}: a PIN was sent to a method verified already"
                        );
                        prop_assert!(
                            f.sends < policy.max_pins_per_flow * f.required as u32,
                            "step {step}: more PINs than a flow may send"
                        );
                        if let Some(last) = f.last_send {
                            prop_assert!(
                                now >= last + Duration::from_secs(policy.resend_cooldown_secs),
                                "step {step}: a PIN was sent within the resend cooldown"
                            );
                        }
                        let pin_expiry = (now + Duration::from_secs(policy.pin_lifetime_secs)).min(f.expires_at);
                        prop_assert_eq!(sent.expires_at, pin_expiry);
                        let digits = if f.real {
                            prop_assert_eq!(pins.len(), 1, "step {}: a real send delivers exactly one PIN", step);
                            let (to, pin) = &pins[0];
                            let expected = address(f.login, method).unwrap_or("(none)");
                            prop_assert!(to.eq_ignore_ascii_case(expected), "step {step}: PIN went to {to}");
                            let digits = pin.expose_secret().to_owned();
                            prop_assert!(
                                digits.len() == policy.pin_length as usize
                                    && digits.bytes().all(|b| b.is_ascii_digit())
                            );
                            f.delivered.push(digits.clone());
                            Some(digits)
                        } else {
                            bump(&coverage.decoy_sends);
                            None
                        };
                        f.latest = Some(LatestPin { digits, method, sent_at: now, wrong_tries: 0 });
                        f.sends += 1;
                        f.last_send = Some(now);
                    }
                    Err(e) => {
                        prop_assert!(pins.is_empty(), "step {step}: a failed send ({e:?}) delivered a PIN");
                        prop_assert!(
                            !matches!(e, Error::Backend { .. } | Error::Config(_)),
                            "step {step}: send_pin failed: {e:?}"
                        );
                    }
                }
            }

            Op::Verify { flow, pin } => {
                if flows.is_empty() {
                    continue;
                }
                let i = newest_first(&flows, flow);
                touched = Some(i);
                let f = &flows[i];
                let latest = f.latest.as_ref().and_then(|l| l.digits.clone());
                let any_other = || flows.iter().filter(|o| o.id != f.id).find_map(|o| o.delivered.last().cloned());
                let typed = match pin {
                    PinChoice::Right => latest.clone().or_else(any_other),
                    PinChoice::Wrong => latest.as_deref().map(Harness::wrong),
                    PinChoice::Stale => {
                        f.delivered.len().checked_sub(2).map(|k| f.delivered[k].clone()).or_else(any_other)
                    }
                }
                .unwrap_or_else(|| "00000000".to_owned());

                let failures_before = pin_failures(&h, &f.reference);
                let may_verify = f.verifiable_pin(now, &policy).map(str::to_owned);
                let result = h.sspr.verify_pin(&f.id, Pin::new(&typed), &ctx()).await;
                let counted_wrong = pin_failures(&h, &f.reference) > failures_before;
                let f = &mut flows[i];
                match result {
                    Ok(verified) => {
                        prop_assert!(f.real, "step {step}: a decoy flow verified");
                        prop_assert_eq!(
                            may_verify.as_deref(),
                            Some(typed.as_str()),
                            "step {}: verify_pin succeeded with a PIN that is not the flow's live, unused one",
                            step
                        );
                        let Some(method) = f.latest.take().map(|l| l.method) else {
                            return Err(TestCaseError::fail(format!("step {step}: verified without a PIN")));
                        };
                        f.verified_methods.push(method);
                        if f.verified_methods.len() >= f.required {
                            prop_assert!(verified.remaining_methods.is_empty() && !verified.modes.is_empty());
                            f.verified = true;
                            bump(&coverage.verified);
                        } else {
                            // One of two: the other method is next, with no cooldown and no
                            // way to complete yet.
                            let other = if method == Method::Email { Method::Sms } else { Method::Email };
                            prop_assert_eq!(verified.remaining_methods, vec![other.id().to_owned()]);
                            prop_assert!(verified.modes.is_empty(), "step {step}: modes offered after one of two");
                            f.last_send = None;
                            bump(&coverage.partial_verifications);
                        }
                    }
                    Err(e) => {
                        prop_assert!(
                            !matches!(e, Error::Backend { .. } | Error::Config(_)),
                            "step {step}: verify_pin failed: {e:?}"
                        );
                        if may_verify.as_deref() == Some(typed.as_str()) {
                            // The right, live PIN may only be refused because the user is blocked.
                            prop_assert!(
                                matches!(e, Error::Blocked { .. }),
                                "step {step}: the right live PIN was refused: {e:?}"
                            );
                            prop_assert!(!counted_wrong, "step {step}: the right PIN was counted as wrong");
                        } else if latest.as_deref() == Some(typed.as_str()) {
                            bump(&coverage.right_pin_refused_late);
                        }
                        if counted_wrong {
                            bump(&coverage.wrong_pins);
                            if let Some(latest) = f.latest.as_mut() {
                                latest.wrong_tries += 1;
                                if latest.wrong_tries >= policy.max_wrong_pins {
                                    f.voided = true;
                                }
                            } else {
                                prop_assert!(false, "step {step}: a wrong PIN was counted before any PIN was sent");
                            }
                        }
                    }
                }
                prop_assert_eq!(h.outbox.messages().len(), before, "verify_pin delivered a message");
            }

            Op::Complete { flow, mode } => {
                if flows.is_empty() {
                    continue;
                }
                let i = newest_first(&flows, flow);
                touched = Some(i);
                let new_password = match mode {
                    Mode::Temporary => NewPassword::Temporary,
                    Mode::Chosen => NewPassword::Chosen(Password::new(CHOSEN)),
                    Mode::UnlockOnly => NewPassword::UnlockOnly,
                };
                let result = h.sspr.complete_reset(&flows[i].id, new_password, &ctx()).await;
                let f = &mut flows[i];
                match result {
                    Ok(outcome) => {
                        prop_assert!(
                            f.completable(now),
                            "step {step}: complete_reset succeeded on a flow the model has not seen verified \
                             with its live, unused PIN, or completed already ({f:?})"
                        );
                        match mode {
                            Mode::Temporary => {
                                let temporary = outcome.temporary_password.as_ref().map(|p| p.expose_secret().len());
                                prop_assert_eq!(temporary, Some(policy.temp_password_length as usize));
                                prop_assert!(outcome.must_change);
                            }
                            Mode::Chosen | Mode::UnlockOnly => {
                                prop_assert!(outcome.temporary_password.is_none() && !outcome.must_change);
                            }
                        }
                        f.completed = true;
                        bump(&coverage.completed);
                        if f.required == 2 {
                            bump(&coverage.two_method_completions);
                        }
                    }
                    Err(e) => {
                        prop_assert!(
                            !f.completable(now),
                            "step {step}: a verified, live flow could not be completed: {e:?}"
                        );
                        bump(&coverage.refused_completions);
                    }
                }
            }

            Op::Advance { secs } => h.advance(Duration::from_secs(secs)),
        }

        if let Some(i) = touched
            && !flows[i].real
        {
            prop_assert_eq!(h.outbox.messages().len(), before, "step {}: a decoy flow delivered a message", step);
        }
        prop_assert!(h.outbox.messages_to(NEVER_CONTACTED).is_empty(), "a user who is not enabled was contacted");
    }
    Ok(())
}

fn check_property(two_methods: bool) {
    // A two-method reset needs two sends and two right PINs in one sequence: run more, longer
    // sequences so that several complete in every run.
    let (default_cases, max_len) = if two_methods { (256, 40) } else { (128, 30) };
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default_cases);
    // A fixed seed keeps CI repeatable (the coverage checks below cannot flake); set
    // SSPR_PROPTEST_SEED to explore other sequences. No persistence file: a failure prints
    // the minimal sequence, to paste into a test.
    let seed = std::env::var("SSPR_PROPTEST_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0x55_50_52);
    let config = Config { cases, failure_persistence: None, rng_seed: RngSeed::Fixed(seed), ..Config::default() };
    let mut runner = TestRunner::new(config);
    let coverage = Coverage::default();
    let result = runner.run(&proptest::collection::vec(op(two_methods), 1..=max_len), |ops| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(ops, &coverage, two_methods))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The sequences must reach the interesting states, or the property proves little.
    if cases >= 64 {
        let partial = [
            ("one of two methods verified", &coverage.partial_verifications),
            ("a two-method reset completed", &coverage.two_method_completions),
        ];
        let partial = if two_methods { &partial[..] } else { &[] };
        for (what, count) in partial.iter().copied().chain([
            ("verified", &coverage.verified),
            ("completed", &coverage.completed),
            ("refused completions", &coverage.refused_completions),
            ("right PINs refused as expired or used", &coverage.right_pin_refused_late),
            ("decoy sends", &coverage.decoy_sends),
            ("wrong PINs", &coverage.wrong_pins),
        ]) {
            assert!(count.get() > 0, "no case reached: {what}");
        }
    }
}

#[test]
fn no_sequence_completes_a_reset_without_a_correct_live_unused_pin() {
    check_property(false);
}

#[test]
fn with_two_methods_no_sequence_completes_a_privileged_reset_without_both_pins() {
    check_property(true);
}
