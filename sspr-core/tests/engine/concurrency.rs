//! Races: concurrent requests on one flow have exactly one winner.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sspr_core::memory::MemoryDirectory;
use sspr_core::{BackendError, Directory, Error, NewPassword, NormalizedLogin, Password, UserId};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_verify_pin_with_the_right_pin_have_one_winner() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (sspr, flow, pin) = (h.sspr.clone(), flow.clone(), pin.clone());
            tokio::spawn(async move { sspr.verify_pin(&flow, &pin, &ctx()).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(Error::AlreadyUsed) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wins, 1);
}

/// Counts the passwords actually set.
#[derive(Debug)]
struct CountingDirectory {
    inner: MemoryDirectory,
    sets: AtomicUsize,
}

#[sspr_core::async_trait]
impl Directory for CountingDirectory {
    async fn find_user(
        &self,
        login: &NormalizedLogin,
    ) -> Result<Option<sspr_core::backend::DirectoryUser>, BackendError> {
        self.inner.find_user(login).await
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        // Yield, so racing completions really interleave here.
        tokio::task::yield_now().await;
        self.sets.fetch_add(1, Ordering::SeqCst);
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        self.inner.unlock(user).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_complete_reset_set_one_password() {
    let inner = MemoryDirectory::with_users(users()).unwrap();
    let counting = Arc::new(CountingDirectory { inner: inner.clone(), sets: AtomicUsize::new(0) });
    let h = Harness::builder().directory(counting.clone()).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, &pin, &ctx()).await.unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (sspr, flow) = (h.sspr.clone(), flow.clone());
            tokio::spawn(async move { sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await })
        })
        .collect();
    let mut passwords = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(outcome) => passwords.push(outcome.temporary_password.unwrap()),
            Err(Error::AlreadyUsed | Error::InvalidState { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(passwords.len(), 1, "exactly one completion wins");
    assert_eq!(counting.sets.load(Ordering::SeqCst), 1, "exactly one password is set");
    let alice = inner.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(inner.check_password(&alice.id, passwords[0].expose_secret()), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_pins_are_each_counted() {
    let h = Harness::builder().policy(sspr_core::Policy { user_failures_before_block: 50, ..policy() }).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let wrong = Harness::wrong(&pin);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (sspr, flow, wrong) = (h.sspr.clone(), flow.clone(), wrong.clone());
            tokio::spawn(async move { sspr.verify_pin(&flow, &wrong, &ctx()).await })
        })
        .collect();
    let mut left = Vec::new();
    let mut voided = 0;
    for task in tasks {
        match task.await.unwrap() {
            Err(Error::WrongPin { attempts_left }) => left.push(attempts_left),
            Err(Error::PinVoided) => voided += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    left.sort_unstable();
    assert_eq!(left, [1, 2, 3, 4], "each wrong attempt used exactly one try");
    assert_eq!(voided, 16);
    assert!(matches!(h.sspr.verify_pin(&flow, &pin, &ctx()).await, Err(Error::PinVoided)));
}
