//! The checks of a chosen password beyond length: zxcvbn's estimate with the user's and the
//! organisation's words, and the host's `PasswordChecker`s (order, refusal, failing open or
//! closed by the policy), for a change and a reset alike; the password never in an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sspr_core::backend::{PasswordCandidate, PasswordChecker, PasswordFeedback};
use sspr_core::password_check::BannedWords;
use sspr_core::{
    AuditKind, BackendError, BackendErrorKind, Error, NewPassword, Outcome, Password, PasswordRefusal, Pin, Policy,
};

use crate::support::*;

fn pw(text: &str) -> Password {
    Password::new(text)
}

/// A checker that answers what it was built with and counts its calls.
#[derive(Debug)]
struct Fixed {
    answer: Result<Option<PasswordFeedback>, BackendErrorKind>,
    calls: AtomicUsize,
}

impl Fixed {
    fn new(answer: Result<Option<PasswordFeedback>, BackendErrorKind>) -> Arc<Self> {
        Arc::new(Self { answer, calls: AtomicUsize::new(0) })
    }
}

#[sspr_core::async_trait]
impl PasswordChecker for Fixed {
    async fn check(&self, candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert!(candidate.user_inputs.iter().any(|w| w == "alice@example.org"), "{:?}", candidate.user_inputs);
        assert!(!format!("{candidate:?}").contains(candidate.password.expose_secret()));
        self.answer.clone().map_err(|kind| BackendError::new(kind, "the range service did not answer in 2 s"))
    }
}

const GOOD: &str = "Tulip-Harbour-Engine-7";

#[tokio::test]
async fn zxcvbn_refuses_a_guessable_password_with_its_warning_and_suggestions() {
    let h = Harness::new().await;
    match h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw("Password123!"), &ctx()).await {
        Err(Error::PasswordRejected { refusal, reason, suggestions }) => {
            assert_eq!(refusal, PasswordRefusal::Guessable);
            assert!(reason.contains("commonly used password"), "{reason}");
            assert!(!suggestions.is_empty());
            assert!(!format!("{reason}{suggestions:?}").contains("Password123"));
        }
        other => panic!("expected PasswordRejected, got {other:?}"),
    }
}

#[tokio::test]
async fn the_organisation_name_is_one_of_zxcvbns_first_guesses() {
    // Accepted without the name (it passes every other check and the directory's classes)...
    let h = Harness::new().await;
    h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw("Quillsby2026!"), &ctx()).await.unwrap();
    // ...refused once the policy names the organisation so.
    let policy = Policy { organisation_name: "Vortigern Quillsby".into(), ..policy() };
    let h = Harness::builder().policy(policy).build().await;
    let refused = h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw("Quillsby2026!"), &ctx()).await;
    assert!(matches!(refused, Err(Error::PasswordRejected { refusal: PasswordRefusal::Guessable, .. })), "{refused:?}");
}

#[tokio::test]
async fn a_min_score_of_zero_leaves_only_the_other_checks() {
    let h = Harness::builder().policy(Policy { password_min_score: 0, ..policy() }).build().await;
    h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw("Password123!"), &ctx()).await.unwrap();
}

#[tokio::test]
async fn checkers_run_in_order_and_the_first_refusal_wins() {
    let banned = Arc::new(BannedWords::from_text("harbour\n").unwrap());
    let after = Fixed::new(Ok(None));
    let h = Harness::builder().password_checker(banned).password_checker(after.clone()).build().await;
    match h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(GOOD), &ctx()).await {
        Err(Error::PasswordRejected { refusal: PasswordRefusal::Banned, reason, .. }) => {
            assert!(!reason.to_lowercase().contains("harbour"), "{reason}");
        }
        other => panic!("expected the banned-word refusal, got {other:?}"),
    }
    assert_eq!(after.calls.load(Ordering::SeqCst), 0, "a checker after a refusal is not asked");
    // Nothing changed: the old password still signs in.
    h.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await.unwrap();
    // A password the list does not hold reaches the next checker and is set.
    h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw("Meadow-Lantern-Quartz-8"), &ctx()).await.unwrap();
    assert_eq!(after.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_host_checkers_feedback_reaches_a_reset_as_a_typed_refusal() {
    let feedback = PasswordFeedback {
        refusal: PasswordRefusal::Breached,
        reason: "it appears in 3 breaches".into(),
        suggestions: vec!["Pick one you never used anywhere.".into()],
    };
    let checker = Fixed::new(Ok(Some(feedback.clone())));
    let policy = Policy { allow_chosen_password: true, ..policy() };
    let h = Harness::builder().policy(policy).password_checker(checker.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    match h.sspr.complete_reset(&flow, NewPassword::Chosen(pw(GOOD)), &ctx()).await {
        Err(Error::PasswordRejected { refusal, reason, suggestions }) => {
            assert_eq!((refusal, reason, suggestions), (feedback.refusal, feedback.reason, feedback.suggestions));
        }
        other => panic!("expected PasswordRejected, got {other:?}"),
    }
    // The flow is still verified: a temporary password (which no checker sees) completes it.
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert_eq!(checker.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_checker_that_cannot_check_fails_closed_by_default_and_open_when_the_policy_says() {
    let down = Fixed::new(Err(BackendErrorKind::Unavailable));
    let h = Harness::builder().password_checker(down.clone()).build().await;
    let err = h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(GOOD), &ctx()).await.unwrap_err();
    assert!(matches!(&err, Error::Backend { source } if source.kind() == BackendErrorKind::Unavailable), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(GOOD));
    h.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await.unwrap();

    let policy = Policy { password_check_fail_open: true, ..policy() };
    let h = Harness::builder().policy(policy.clone()).password_checker(down).build().await;
    h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(GOOD), &ctx()).await.unwrap();
    h.sspr.sign_in(ALICE, &pw(GOOD), &ctx()).await.unwrap();
    // The unchecked password is in the audit trail: who, when, which error; never the password.
    let opened = h.events_of(AuditKind::PasswordCheckFailedOpen);
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(matches!(&opened[0].outcome, Outcome::Failed { .. }), "{opened:?}");
    assert_eq!(opened[0].client_ip, ctx().client_ip);
    assert!(opened[0].user_id.is_some());
    assert!(!serde_json::to_string(&opened).unwrap().contains(GOOD));

    // Failing open is for a check that could not be made, not for a checker's other errors.
    let broken = Fixed::new(Err(BackendErrorKind::Other));
    let h = Harness::builder().policy(policy).password_checker(broken).build().await;
    assert!(h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(GOOD), &ctx()).await.is_err());
}

#[tokio::test]
async fn no_checked_password_reaches_the_engines_debug_or_the_audit_trail() {
    let banned = Arc::new(BannedWords::from_text("harbour\n").unwrap());
    let h = Harness::builder().password_checker(banned).build().await;
    let _ = h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(GOOD), &ctx()).await;
    let _ = h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw("Password123!"), &ctx()).await;
    let seen = format!("{:?} {}", h.sspr, serde_json::to_string(&h.events()).unwrap());
    for secret in [GOOD, "Password123!", "harbour"] {
        assert!(!seen.contains(secret), "{secret} in {seen}");
    }
}

/// A checker that never answers (a breached-password service far away and hanging).
#[derive(Debug)]
struct Hanging;

#[sspr_core::async_trait]
impl PasswordChecker for Hanging {
    async fn check(&self, _candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError> {
        std::future::pending().await
    }
}

/// A user whose browser gives up on a completion stuck in a slow password check (the request
/// is dropped, nothing was written) retries at once: before, the completion's lease refused
/// every retry as "another request is completing this reset" for two minutes.
#[tokio::test]
async fn a_completion_abandoned_before_its_write_gives_the_flow_back() {
    let policy = Policy { allow_chosen_password: true, ..policy() };
    let h = Harness::builder().policy(policy).password_checker(Arc::new(Hanging)).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        h.sspr.complete_reset(&flow, NewPassword::Chosen(pw(GOOD)), &ctx()),
    )
    .await;
    assert!(abandoned.is_err(), "the completion waits on the checker");
    h.sspr.flush_deliveries().await;
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    assert!(outcome.is_ok(), "the retry completes at once: {outcome:?}");
    assert_eq!(h.events_of(AuditKind::ResetCompleted).len(), 1);
}
