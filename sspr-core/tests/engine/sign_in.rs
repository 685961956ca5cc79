//! Sign-in to the registration pages, and the admin search.

use sspr_core::Pin;
use std::sync::Arc;
use std::time::Duration;

use sspr_core::backend::AccountState;
use sspr_core::{AuditKind, BackendError, BackendErrorKind, Error, NewPassword, Outcome, Password, RequestContext};

use crate::support::*;

fn password(text: &str) -> Password {
    Password::new(text)
}

#[tokio::test]
async fn the_right_password_signs_in_and_says_who() {
    let h = Harness::new().await;
    let who = h.sspr.sign_in(" ALICE@example.org", &password(INITIAL_PASSWORD), &ctx()).await.unwrap();
    assert_eq!((who.login.as_str(), who.display_name.as_str(), who.must_change), (ALICE, "Alice Liddell", false));
    let event = h.events_of(AuditKind::SignIn).pop().unwrap();
    assert_eq!((event.outcome, event.user_id), (Outcome::Success, Some(who.user_id)));
}

#[tokio::test]
async fn unknown_login_wrong_password_and_disabled_account_get_one_answer() {
    let h = Harness::new().await;
    let unknown = h.sspr.sign_in("nobody@example.org", &password(INITIAL_PASSWORD), &ctx()).await.unwrap_err();
    let wrong = h.sspr.sign_in(ALICE, &password("Initial-Pass-2025"), &ctx()).await.unwrap_err();
    let disabled = h.sspr.sign_in(DISABLED, &password(INITIAL_PASSWORD), &ctx()).await.unwrap_err();
    for err in [&unknown, &wrong, &disabled] {
        assert!(matches!(err, Error::SignInFailed), "{err:?}");
        assert_eq!(err.to_string(), unknown.to_string());
    }
    // The audit knows which was which, without the typed login or the password.
    let failures = h.events_of(AuditKind::SignIn);
    assert_eq!(failures.len(), 3);
    assert!(failures[0].user_id.is_none() && failures[0].login_fingerprint.is_some());
    assert!(failures[1].user_id.is_some() && failures[2].user_id.is_some());
    let trail = serde_json::to_string(&h.events()).unwrap();
    for secret in ["nobody", INITIAL_PASSWORD, "Initial-Pass-2025"] {
        assert!(!trail.contains(secret), "the audit trail holds {secret:?}");
    }
}

/// The self-service sign-in (a user's own contacts page) applies the rule of every
/// self-service door, `self_service_refusal`: a privileged or ineligible account is answered
/// as an unknown login with its right password, and its password is never checked, so the
/// page cannot tell a guesser that a domain admin's password is right. An account not
/// enabled for SSPR signs in (the page tells it so at its first change). The administrator's
/// `sign_in` still lets the privileged account in.
#[tokio::test]
async fn the_self_service_sign_in_refuses_privileged_and_ineligible_accounts_as_an_unknown_login() {
    let binds = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = binds.clone();
    let directory = HookedDirectory::new(move |write| {
        if matches!(write, DirectoryWrite::Authenticate) {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    });
    directory.inner.set_state(DISABLED, AccountState { disabled: true, ..Default::default() });
    let h = Harness::builder().directory(directory).build().await;
    let unknown = h.sspr.sign_in_self_service("nobody@example.org", &password("x"), &ctx()).await.unwrap_err();
    for login in [ADMIN, OUTSIDER, DISABLED] {
        let refused = h.sspr.sign_in_self_service(login, &password(INITIAL_PASSWORD), &ctx()).await.unwrap_err();
        assert!(matches!(refused, Error::SignInFailed), "{login}: {refused:?}");
        assert_eq!(refused.to_string(), unknown.to_string());
    }
    assert_eq!(binds.load(std::sync::atomic::Ordering::SeqCst), 0, "no password of a refused account was checked");
    let reasons: Vec<_> = h.events_of(AuditKind::SignIn).into_iter().map(|e| e.outcome).collect();
    assert!(reasons.contains(&Outcome::Refused { reason: sspr_core::NotAllowedReason::Privileged }), "{reasons:?}");
    assert!(reasons.contains(&Outcome::Refused { reason: sspr_core::NotAllowedReason::Ineligible }), "{reasons:?}");
    for login in [ALICE, NOT_ENABLED] {
        let who = h.sspr.sign_in_self_service(login, &password(INITIAL_PASSWORD), &ctx()).await.unwrap();
        assert_eq!(who.login, login);
    }
    h.sspr.sign_in(ADMIN, &password(INITIAL_PASSWORD), &ctx()).await.unwrap();
}

#[tokio::test]
async fn repeated_failures_lock_sign_in_for_that_login_until_the_lockout_ends() {
    let h = Harness::new().await;
    for _ in 0..4 {
        assert!(matches!(h.sspr.sign_in(ALICE, &password("guess"), &ctx()).await, Err(Error::SignInFailed)));
    }
    // A success in between forgets the count.
    h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &ctx()).await.unwrap();
    for _ in 0..5 {
        assert!(matches!(h.sspr.sign_in(ALICE, &password("guess"), &ctx()).await, Err(Error::SignInFailed)));
    }
    // Now even the right password is refused, with the wait.
    match h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &ctx()).await {
        Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after, Duration::from_secs(900)),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    // Another login is not affected.
    h.sspr.sign_in(BOB, &password(INITIAL_PASSWORD), &ctx()).await.unwrap();
    h.advance(Duration::from_secs(901));
    h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &ctx()).await.unwrap();
}

#[tokio::test]
async fn one_client_ip_is_capped_across_logins() {
    let h = Harness::new().await;
    let cap = h.sspr.policy().ip_sign_ins_per_hour;
    for i in 0..cap {
        let login = format!("user{i}@example.org");
        assert!(matches!(h.sspr.sign_in(&login, &password("x"), &ctx()).await, Err(Error::SignInFailed)));
    }
    assert!(matches!(h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &ctx()).await, Err(Error::RateLimited { .. })));
    // Another client is still served.
    let other = RequestContext::from_ip("198.51.100.9".parse().unwrap());
    h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &other).await.unwrap();
}

#[tokio::test]
async fn a_temporary_password_signs_in_as_must_change() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    let temporary = outcome.temporary_password.unwrap();
    let who = h.sspr.sign_in(ALICE, &temporary, &ctx()).await.unwrap();
    assert!(who.must_change);
    assert!(matches!(h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &ctx()).await, Err(Error::SignInFailed)));
}

#[tokio::test]
async fn a_locked_account_cannot_sign_in() {
    let h = Harness::new().await;
    h.directory.set_state(ALICE, AccountState { locked: true, ..Default::default() });
    assert!(matches!(h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &ctx()).await, Err(Error::SignInFailed)));
}

#[tokio::test]
async fn a_failing_bind_is_answered_as_a_wrong_password_and_counts_no_failure() {
    // A wrong password's answer, as an unknown login (never bound) gets (THREAT_MODEL R.7);
    // the audit names the outage.
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flaky = HookedDirectory::new({
        let down = down.clone();
        move |write| match write {
            DirectoryWrite::Authenticate if down.load(std::sync::atomic::Ordering::SeqCst) => {
                Err(BackendError::new(BackendErrorKind::Unavailable, "ldap down"))
            }
            _ => Ok(()),
        }
    });
    let h = Harness::builder().directory(flaky).build().await;
    for _ in 0..10 {
        let answer = h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &ctx()).await;
        assert!(matches!(answer, Err(Error::SignInFailed)), "{answer:?}");
    }
    let events = h.events_of(AuditKind::SignIn);
    assert_eq!(events.len(), 10);
    assert!(events.iter().all(|e| matches!(&e.outcome, Outcome::Failed { error } if error.contains("ldap down"))));
    // Outages are not the user's failures: no lockout followed.
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    h.sspr.sign_in(ALICE, &password(INITIAL_PASSWORD), &ctx()).await.unwrap();
}

#[tokio::test]
async fn a_malformed_login_is_invalid_input_and_touches_nothing() {
    let h = Harness::new().await;
    let before = h.events().len();
    for login in ["", "alice\u{202e}@example.org", "a\nb@example.org"] {
        assert!(matches!(
            h.sspr.sign_in(login, &password(INITIAL_PASSWORD), &ctx()).await,
            Err(Error::InvalidInput { field: "login", .. })
        ));
    }
    assert_eq!(h.events().len(), before, "no audit event, no counter");
}

#[tokio::test]
async fn admin_search_finds_by_name_or_login_with_status() {
    let h = Harness::new().await;
    let found = h.sspr.search_users("LIDDELL", 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].login, ALICE);
    assert!(found[0].enabled && found[0].eligible && found[0].email_masked.is_some());
    let by_login = h.sspr.search_users("example.org", 2).await.unwrap();
    assert_eq!(by_login.len(), 2, "the limit holds");
    assert!(by_login.windows(2).all(|w| w[0].login <= w[1].login), "sorted by login");
    assert!(h.sspr.search_users("*", 10).await.unwrap().is_empty(), "a star is a character, not a wildcard");
    let all = h.sspr.search_users("", usize::MAX).await.unwrap();
    assert_eq!(all.len(), h.directory.len());
}

#[tokio::test]
async fn an_admin_search_longer_than_a_name_is_refused_before_the_directory_is_asked() {
    // A megabyte query became a filter of three megabytes sent to the directory (each character
    // escaped); no login or display name is that long.
    let h = Harness::new().await;
    let longest = "a".repeat(sspr_core::MAX_SEARCH_QUERY_CHARS);
    assert!(h.sspr.search_users(&longest, 10).await.unwrap().is_empty(), "the longest query is still searched");
    for query in ["a".repeat(sspr_core::MAX_SEARCH_QUERY_CHARS + 1), "é".repeat(1 << 20)] {
        assert!(matches!(h.sspr.search_users(&query, 10).await, Err(Error::InvalidInput { field: "query", .. })));
    }
}
