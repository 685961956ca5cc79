//! Issue 14 item 5: helpdesk recovery. An administrator issues a one-time code for a user who
//! has no usable contact; the user redeems it to reach the verified step of a reset. Each
//! test is an attack on the code: reuse, another login, guessing, a late code, a code issued
//! by someone who is not an administrator or for a privileged account, telling real logins
//! from unknown ones by the answer or its timing, and the code leaking where it is recorded.

use std::time::Duration;

use sspr_core::notice::Message;
use sspr_core::{
    Actor, AuditKind, Error, NewPassword, NotAllowedReason, Outcome, Policy, PrivilegedMode, RECOVERY_CODE_DIGITS,
};

use crate::rig::{default_policy, rig, seen, timed};
use crate::support::*;

async fn issue(h: &Harness, login: &str) -> String {
    let code = h.sspr.admin_recovery(&admin(), login, &ctx()).await.unwrap();
    code.code.expose_secret().to_owned()
}

fn refused<T: std::fmt::Debug>(answer: &sspr_core::Result<T>) -> bool {
    matches!(answer, Err(Error::WrongPin { attempts_left: 0 }))
}

#[tokio::test]
async fn a_code_reaches_the_verified_step_once_and_the_reset_completes() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    assert_eq!(code.len(), RECOVERY_CODE_DIGITS as usize);
    let recovered = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await.unwrap();
    assert!(!recovered.modes.is_empty());
    let done = h.sspr.complete_reset(&recovered.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(done.temporary_password.is_some(), "complete_reset works on the recovered flow unchanged");
    // Redeemed twice: refused like any wrong code, and no second flow.
    let again = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
    assert!(refused(&again), "{again:?}");
    let redeemed = h.events_of(AuditKind::RecoveryRedeemed);
    assert_eq!(redeemed.iter().filter(|e| e.outcome == Outcome::Success).count(), 1);
}

#[tokio::test]
async fn a_code_cannot_be_redeemed_for_another_login() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    let bob = h.sspr.redeem_recovery_code(BOB, &code, &ctx()).await;
    assert!(refused(&bob), "{bob:?}");
    // Bob's own pending code, if any, would be another: issuing one for him does not make
    // erin's work for him either.
    let _bobs = issue(&h, BOB).await;
    assert!(refused(&h.sspr.redeem_recovery_code(BOB, &code, &ctx()).await));
    // Erin's still works (the other login's attempts did not touch it).
    h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await.unwrap();
}

#[tokio::test]
async fn guessing_kills_the_code_after_max_wrong_pins() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    let wrong = Harness::wrong(&code);
    for _ in 0..h.sspr.policy().max_wrong_pins {
        assert!(refused(&h.sspr.redeem_recovery_code(NO_CONTACT, &wrong, &ctx()).await));
    }
    let right = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
    assert!(refused(&right), "the code is dead: {right:?}");
    let voided = h.events_of(AuditKind::RecoveryRedeemed);
    assert!(voided.iter().any(|e| e.outcome == Outcome::Failed { error: "code voided".into() }));
    // A malformed code is refused before it is counted, naming the field.
    let malformed = h.sspr.redeem_recovery_code(NO_CONTACT, "12", &ctx()).await;
    assert!(matches!(malformed, Err(Error::InvalidInput { field: "code", .. })), "{malformed:?}");
}

#[tokio::test]
async fn redemptions_per_login_are_limited_for_unknown_logins_too() {
    let h = Harness::new().await;
    let cap = h.sspr.policy().max_wrong_pins * 2;
    for login in [NO_CONTACT, "nobody@example.org"] {
        for _ in 0..cap {
            assert!(refused(&h.sspr.redeem_recovery_code(login, "0000000000", &ctx()).await));
        }
        let limited = h.sspr.redeem_recovery_code(login, "0000000000", &ctx()).await;
        assert!(matches!(limited, Err(Error::RateLimited { .. })), "{login}: {limited:?}");
    }
}

#[tokio::test]
async fn a_code_is_dead_after_fifteen_minutes() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    h.advance(Duration::from_secs(15 * 60));
    assert!(refused(&h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await));
    let late = h.events_of(AuditKind::RecoveryRedeemed);
    assert!(late.iter().any(|e| e.outcome == Outcome::Failed { error: "code expired".into() }));
}

#[tokio::test]
async fn a_new_code_replaces_the_pending_one() {
    let h = Harness::new().await;
    let first = issue(&h, NO_CONTACT).await;
    let second = issue(&h, NO_CONTACT).await;
    assert!(refused(&h.sspr.redeem_recovery_code(NO_CONTACT, &first, &ctx()).await));
    h.sspr.redeem_recovery_code(NO_CONTACT, &second, &ctx()).await.unwrap();
}

#[tokio::test]
async fn only_an_administrator_issues_codes() {
    let h = Harness::new().await;
    let answer = h.sspr.admin_recovery(&Actor::User, NO_CONTACT, &ctx()).await;
    assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::AdminOnly })), "{answer:?}");
    assert!(h.events_of(AuditKind::RecoveryIssued).is_empty());
    assert!(h.outbox.messages().is_empty());
}

#[tokio::test]
async fn privileged_disabled_and_unknown_accounts_get_no_code() {
    for mode in [PrivilegedMode::Refuse, PrivilegedMode::TwoMethods] {
        let h = Harness::builder().policy(Policy { privileged_mode: mode, ..policy() }).build().await;
        let answer = h.sspr.admin_recovery(&admin(), ADMIN, &ctx()).await;
        assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })), "{answer:?}");
        let answer = h.sspr.admin_recovery(&admin(), DISABLED, &ctx()).await;
        assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::AccountDisabled })));
        let answer = h.sspr.admin_recovery(&admin(), OUTSIDER, &ctx()).await;
        assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::Ineligible })));
        assert!(matches!(h.sspr.admin_recovery(&admin(), "nobody@example.org", &ctx()).await, Err(Error::UnknownUser)));
        let refusals = h.events_of(AuditKind::RecoveryIssued);
        assert_eq!(refusals.len(), 3);
        assert!(refusals.iter().all(|e| matches!(e.outcome, Outcome::Refused { .. })));
        assert!(h.outbox.messages().is_empty(), "no code, no notice");
    }
}

#[tokio::test]
async fn the_users_contacts_hear_of_the_code_issued_and_redeemed() {
    let h = Harness::new().await;
    let code = issue(&h, ALICE).await;
    for to in [ALICE_MAIL, ALICE_PHONE] {
        let notices = h.outbox.messages_to(to);
        assert!(
            matches!(notices.as_slice(), [n] if matches!(n.message, Message::HelpdeskRecovery { redeemed: false })),
            "{to}: {notices:?}"
        );
    }
    h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await.unwrap();
    for to in [ALICE_MAIL, ALICE_PHONE] {
        assert!(
            h.outbox.messages_to(to).iter().any(|n| matches!(n.message, Message::HelpdeskRecovery { redeemed: true })),
            "{to}"
        );
    }
}

#[tokio::test]
async fn the_code_never_appears_in_audit_debug_errors_or_notices() {
    let h = Harness::new().await;
    let issued = h.sspr.admin_recovery(&admin(), ALICE, &ctx()).await.unwrap();
    let code = issued.code.expose_secret().to_owned();
    assert!(!format!("{issued:?}").contains(&code), "Debug of the code");
    let wrong = Harness::wrong(&code);
    let answer = h.sspr.redeem_recovery_code(ALICE, &wrong, &ctx()).await;
    let shown = format!("{answer:?} {}", answer.as_ref().map(|_| String::new()).unwrap_or_else(|e| e.to_string()));
    assert!(!shown.contains(&code) && !shown.contains(&wrong), "{shown}");
    let recovered = h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await.unwrap();
    assert!(!format!("{recovered:?}").contains(&code));
    let audit = serde_json::to_string(&h.events()).unwrap();
    assert!(!audit.contains(&code) && !audit.contains(&wrong), "the audit trail");
    assert!(!audit.contains(&recovered.flow_id), "the flow id is a credential");
    for notice in h.outbox.messages() {
        assert!(!format!("{notice:?}").contains(&code));
        let rendered = notice.render();
        assert!(!rendered.body.contains(&code), "{}", rendered.subject);
    }
}

#[tokio::test(start_paused = true)]
async fn the_answer_and_its_timing_say_nothing_about_the_login() {
    let r = rig(default_policy()).await;
    let code = r.sspr.admin_recovery(&admin(), BOB, &ctx()).await.unwrap();
    let wrong = Harness::wrong(code.code.expose_secret());
    let mut seen_by = Vec::new();
    // A real user with a code (wrong guess), a real user without one, a disabled one, an
    // unknown login.
    for login in [BOB, ALICE, DISABLED, "nobody@example.org"] {
        let (answer, took) = timed(r.sspr.redeem_recovery_code(login, &wrong, &ctx())).await;
        seen_by.push((login, seen(&answer), took));
    }
    let first = (seen_by[0].1.clone(), seen_by[0].2);
    assert!(first.1 >= Duration::from_millis(u64::from(default_policy().min_response_ms)), "{seen_by:?}");
    for (login, answer, took) in &seen_by {
        assert_eq!((answer.clone(), *took), first, "{login}: {seen_by:?}");
    }
}
