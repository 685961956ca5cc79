//! A user's own password change (`change_password`) and the rules shown before it.

use sspr_core::notice::Message;
use sspr_core::{
    AuditKind, BackendError, BackendErrorKind, Error, NewPassword, NotAllowedReason, Outcome, Password,
    PasswordRefusal, PasswordRules, Pin, Policy,
};

use crate::support::*;

fn pw(text: &str) -> Password {
    Password::new(text)
}

const NEW: &str = "Fresh-Meadow-41";

#[tokio::test]
async fn a_change_signs_in_with_the_new_password_only_and_tells_every_contact() {
    let h = Harness::new().await;
    h.sspr.change_password(" Alice@Example.org", &pw(INITIAL_PASSWORD), &pw(NEW), &ctx()).await.unwrap();
    h.sspr.sign_in(ALICE, &pw(NEW), &ctx()).await.unwrap();
    assert!(matches!(h.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await, Err(Error::SignInFailed)));
    for to in [ALICE_MAIL, ALICE_PHONE] {
        let told = h.outbox.messages_to(to);
        assert!(matches!(told.as_slice(), [n] if matches!(n.message, Message::PasswordChanged)), "{to}: {told:?}");
    }
    let event = h.events_of(AuditKind::PasswordChanged).pop().unwrap();
    assert_eq!(event.outcome, Outcome::Success);
    assert!(event.user_id.is_some());
    let trail = serde_json::to_string(&h.events()).unwrap();
    for secret in [INITIAL_PASSWORD, NEW] {
        assert!(!trail.contains(secret), "the audit trail holds {secret:?}");
    }
}

#[tokio::test]
async fn a_user_with_a_temporary_password_changes_it_and_must_change_ends() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let temporary = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap().temporary_password;
    let temporary = temporary.unwrap();
    assert!(h.sspr.sign_in(ALICE, &temporary, &ctx()).await.unwrap().must_change);
    h.sspr.change_password(ALICE, &temporary, &pw(NEW), &ctx()).await.unwrap();
    assert!(!h.sspr.sign_in(ALICE, &pw(NEW), &ctx()).await.unwrap().must_change);
}

#[tokio::test]
async fn unknown_login_wrong_password_and_accounts_the_change_does_not_serve_get_one_answer() {
    let h = Harness::new().await;
    let change = |login: &'static str, current: &'static str| {
        let h = h.clone();
        async move { h.sspr.change_password(login, &pw(current), &pw(NEW), &ctx()).await.unwrap_err() }
    };
    let answers = [
        change("nobody@example.org", INITIAL_PASSWORD).await,
        change(ALICE, "Initial-Pass-2025").await,
        // The right password, but: disabled, outside the eligible OUs, privileged.
        change(DISABLED, INITIAL_PASSWORD).await,
        change(OUTSIDER, INITIAL_PASSWORD).await,
        change(ADMIN, INITIAL_PASSWORD).await,
    ];
    for err in &answers {
        assert!(matches!(err, Error::SignInFailed), "{err:?}");
    }
    // Nothing changed and nobody was told; the audit tells the truth.
    for login in [DISABLED, OUTSIDER, ADMIN] {
        let id = h.directory.users().into_iter().find(|u| u.login == login).unwrap().id;
        assert_eq!(h.directory.check_password(&id, INITIAL_PASSWORD), Some(false), "{login}");
    }
    assert!(h.outbox.messages().is_empty());
    let outcomes: Vec<_> = h.events_of(AuditKind::PasswordChanged).into_iter().map(|e| e.outcome).collect();
    let failed = Outcome::Failed { error: Error::SignInFailed.to_string() };
    assert_eq!(
        outcomes,
        [
            failed.clone(),
            failed,
            Outcome::Refused { reason: NotAllowedReason::AccountDisabled },
            Outcome::Refused { reason: NotAllowedReason::Ineligible },
            Outcome::Refused { reason: NotAllowedReason::Privileged },
        ]
    );
}

#[tokio::test]
async fn the_policy_and_the_directory_refuse_with_a_typed_reason_and_nothing_changes() {
    let h = Harness::new().await;
    let refusal = |new: &'static str| {
        let h = h.clone();
        async move {
            match h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(new), &ctx()).await {
                Err(Error::PasswordRejected { refusal, reason, .. }) => {
                    assert!(!reason.contains(new), "{reason}");
                    refusal
                }
                other => panic!("{new}: expected PasswordRejected, got {other:?}"),
            }
        }
    };
    // The policy's own checks.
    assert_eq!(refusal("Sh0rt!").await, PasswordRefusal::TooShort);
    assert_eq!(refusal("Summer2024!").await, PasswordRefusal::Guessable);
    assert_eq!(refusal(INITIAL_PASSWORD).await, PasswordRefusal::InHistory);
    // The directory's: three character classes (this one passes the policy's checks).
    assert_eq!(refusal("correct horse battery staple").await, PasswordRefusal::TooSimple);
    // The directory's history: change twice, then back to the first.
    h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(NEW), &ctx()).await.unwrap();
    h.sspr.change_password(ALICE, &pw(NEW), &pw("Second-Meadow-42"), &ctx()).await.unwrap();
    match h.sspr.change_password(ALICE, &pw("Second-Meadow-42"), &pw(INITIAL_PASSWORD), &ctx()).await {
        Err(Error::PasswordRejected { refusal, .. }) => assert_eq!(refusal, PasswordRefusal::InHistory),
        other => panic!("expected InHistory, got {other:?}"),
    }
    h.sspr.sign_in(ALICE, &pw("Second-Meadow-42"), &ctx()).await.unwrap();
    // A refused new password is not a failed sign-in: no lockout after many.
    for _ in 0..6 {
        let refused = h.sspr.change_password(ALICE, &pw("Second-Meadow-42"), &pw("Sh0rt!"), &ctx()).await;
        assert!(matches!(refused, Err(Error::PasswordRejected { refusal: PasswordRefusal::TooShort, .. })));
    }
    h.sspr.sign_in(ALICE, &pw("Second-Meadow-42"), &ctx()).await.unwrap();
}

#[tokio::test]
async fn the_directory_saying_the_current_password_is_wrong_counts_as_a_failed_sign_in() {
    // The password changed between the engine's check and the directory's change.
    let directory = HookedDirectory::new(|write| match write {
        DirectoryWrite::ChangePassword => {
            Err(BackendError::password_refused(PasswordRefusal::WrongCurrentPassword, "data 56"))
        }
        _ => Ok(()),
    });
    let h = Harness::builder().directory(directory).build().await;
    let limit = h.sspr.policy().sign_in_failures_before_lockout;
    for _ in 0..limit {
        let err = h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(NEW), &ctx()).await.unwrap_err();
        assert!(matches!(err, Error::SignInFailed), "{err:?}");
    }
    let locked = h.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await;
    assert!(matches!(locked, Err(Error::RateLimited { .. })), "{locked:?}");
}

#[tokio::test]
async fn a_directory_without_the_change_answers_not_supported_and_rules_come_from_the_policy() {
    #[derive(Debug)]
    struct Old(sspr_core::memory::MemoryDirectory);
    #[sspr_core::async_trait]
    impl sspr_core::Directory for Old {
        async fn find_user(
            &self,
            login: &sspr_core::NormalizedLogin,
        ) -> Result<Option<sspr_core::backend::DirectoryUser>, BackendError> {
            self.0.find_user(login).await
        }
        async fn set_password(&self, u: &sspr_core::UserId, p: &Password, m: bool) -> Result<(), BackendError> {
            self.0.set_password(u, p, m).await
        }
        async fn unlock(&self, u: &sspr_core::UserId) -> Result<(), BackendError> {
            self.0.unlock(u).await
        }
        async fn authenticate(
            &self,
            u: &sspr_core::UserId,
            p: &Password,
        ) -> Result<sspr_core::Authentication, BackendError> {
            self.0.authenticate(u, p).await
        }
        async fn search(&self, q: &str, l: usize) -> Result<Vec<sspr_core::backend::DirectoryUser>, BackendError> {
            self.0.search(q, l).await
        }
    }
    let old = std::sync::Arc::new(Old(sspr_core::memory::MemoryDirectory::with_users(users()).unwrap()));
    let h = Harness::builder().directory(old).build().await;
    match h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(NEW), &ctx()).await {
        Err(Error::Backend { source }) => assert_eq!(source.kind(), BackendErrorKind::NotSupported),
        other => panic!("expected NotSupported, got {other:?}"),
    }
    assert!(h.outbox.messages().is_empty());
    let rules = h.sspr.password_rules().await.unwrap();
    assert_eq!(rules, PasswordRules { min_length: Some(8), ..PasswordRules::default() });
}

#[tokio::test]
async fn the_rules_are_the_directorys_with_the_policys_longer_minimum() {
    let h = Harness::new().await;
    let rules = h.sspr.password_rules().await.unwrap();
    assert_eq!(
        rules,
        PasswordRules { min_length: Some(8), history_length: Some(5), complexity: Some(true), min_age_secs: None }
    );
    let h = Harness::builder().policy(Policy { chosen_password_min_length: 12, ..policy() }).build().await;
    assert_eq!(h.sspr.password_rules().await.unwrap().min_length, Some(12));
}

#[tokio::test]
async fn a_failing_contact_store_changes_nothing() {
    let h = Harness::builder()
        .contacts(|inner| std::sync::Arc::new(FailingReads { inner }) as std::sync::Arc<dyn sspr_core::ContactStore>)
        .build()
        .await;
    let err = h.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(NEW), &ctx()).await.unwrap_err();
    assert!(matches!(err, Error::Backend { .. }), "{err:?}");
    h.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await.unwrap();
}

/// A contact store whose reads fail once set up (its writes work, so the harness can enroll).
#[derive(Debug)]
pub(crate) struct FailingReads {
    pub(crate) inner: sspr_core::memory::MemoryContactStore,
}

#[sspr_core::async_trait]
impl sspr_core::ContactStore for FailingReads {
    async fn get(&self, user: &sspr_core::UserId) -> Result<Option<sspr_core::backend::Enrollment>, BackendError> {
        // The harness reads while enrolling (every read before any enrollment is saved).
        match self.inner.get(user).await? {
            Some(e) if e.enabled && e.email.is_some() => {
                Err(BackendError::new(BackendErrorKind::Unavailable, "contact store down"))
            }
            other => Ok(other),
        }
    }
    async fn save(
        &self,
        user: &sspr_core::UserId,
        enrollment: &sspr_core::backend::Enrollment,
        expected_version: u64,
    ) -> Result<bool, BackendError> {
        self.inner.save(user, enrollment, expected_version).await
    }
}

/// The rules are shown on an anonymous page, so reading them must not be a directory read
/// per call: one read per `PASSWORD_RULES_TTL`; a failed read keeps the last rules and is
/// not retried for `PASSWORD_RULES_RETRY`; with nothing read yet, a failure answers
/// `Backend` and the next reads wait out the retry time too.
#[tokio::test]
async fn the_rules_are_read_once_per_ttl_and_a_failure_is_not_retried_at_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    #[derive(Debug)]
    struct Counted {
        inner: sspr_core::memory::MemoryDirectory,
        reads: AtomicUsize,
        failing: AtomicBool,
    }
    #[sspr_core::async_trait]
    impl sspr_core::Directory for Counted {
        async fn find_user(
            &self,
            login: &sspr_core::NormalizedLogin,
        ) -> Result<Option<sspr_core::backend::DirectoryUser>, BackendError> {
            self.inner.find_user(login).await
        }
        async fn set_password(&self, u: &sspr_core::UserId, p: &Password, m: bool) -> Result<(), BackendError> {
            self.inner.set_password(u, p, m).await
        }
        async fn unlock(&self, u: &sspr_core::UserId) -> Result<(), BackendError> {
            self.inner.unlock(u).await
        }
        async fn authenticate(
            &self,
            u: &sspr_core::UserId,
            p: &Password,
        ) -> Result<sspr_core::Authentication, BackendError> {
            self.inner.authenticate(u, p).await
        }
        async fn search(&self, q: &str, l: usize) -> Result<Vec<sspr_core::backend::DirectoryUser>, BackendError> {
            self.inner.search(q, l).await
        }
        async fn password_rules(&self) -> Result<PasswordRules, BackendError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            if self.failing.load(Ordering::SeqCst) {
                return Err(BackendError::new(BackendErrorKind::Unavailable, "down"));
            }
            self.inner.password_rules().await
        }
    }
    let counted = || {
        Arc::new(Counted {
            inner: sspr_core::memory::MemoryDirectory::with_users(users()).unwrap(),
            reads: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
        })
    };
    let ttl = std::time::Duration::try_from(sspr_core::PASSWORD_RULES_TTL).unwrap();
    let retry = std::time::Duration::try_from(sspr_core::PASSWORD_RULES_RETRY).unwrap();
    let directory = counted();
    let h = Harness::builder().directory(directory.clone()).build().await;
    let first = h.sspr.password_rules().await.unwrap();
    for _ in 0..100 {
        assert_eq!(h.sspr.password_rules().await.unwrap(), first);
    }
    assert_eq!(directory.reads.load(Ordering::SeqCst), 1, "100 views, one read");
    h.advance(ttl);
    h.sspr.password_rules().await.unwrap();
    assert_eq!(directory.reads.load(Ordering::SeqCst), 2, "read again once stale");
    // The directory fails: the last rules are shown, and it is not asked again at once.
    directory.failing.store(true, Ordering::SeqCst);
    h.advance(ttl);
    for _ in 0..50 {
        assert_eq!(h.sspr.password_rules().await.unwrap(), first);
    }
    assert_eq!(directory.reads.load(Ordering::SeqCst), 3);
    h.advance(retry);
    directory.failing.store(false, Ordering::SeqCst);
    h.sspr.password_rules().await.unwrap();
    assert_eq!(directory.reads.load(Ordering::SeqCst), 4, "tried again after the retry time");

    // Nothing read yet and the directory down: `Backend`, and no read per call either.
    let directory = counted();
    directory.failing.store(true, Ordering::SeqCst);
    let h = Harness::builder().directory(directory.clone()).build().await;
    for _ in 0..50 {
        assert!(matches!(h.sspr.password_rules().await, Err(Error::Backend { .. })));
    }
    assert_eq!(directory.reads.load(Ordering::SeqCst), 1);
}
