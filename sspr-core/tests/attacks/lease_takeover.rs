//! Issue 11 item 11: completion lease takeover set the password twice. A `complete_reset`
//! holds its flow for a 120 s lease; when its directory write stalls past the lease, a second
//! `complete_reset` takes the flow over. Both used to report success, each with its own
//! temporary password, and the stalled write could land last: the user then held a
//! password the directory no longer had.

use sspr_core::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sspr_core::backend::{Authentication, DirectoryUser};
use sspr_core::memory::MemoryDirectory;
use sspr_core::{BackendError, Directory, NewPassword, NormalizedLogin, Password, UserId};
use tokio::sync::Notify;

use crate::support::*;

/// The in-memory directory whose first `set_password` stalls until released.
#[derive(Debug)]
struct StallingDirectory {
    inner: MemoryDirectory,
    stall_next: AtomicBool,
    entered: Notify,
    release: Notify,
    /// Passwords that reached the directory.
    written: AtomicUsize,
}

#[sspr_core::async_trait]
impl Directory for StallingDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        self.inner.find_user(login).await
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        if self.stall_next.swap(false, Ordering::SeqCst) {
            self.entered.notify_one();
            self.release.notified().await;
        }
        self.written.fetch_add(1, Ordering::SeqCst);
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        self.inner.unlock(user).await
    }
    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        self.inner.authenticate(user, password).await
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        self.inner.search(query, limit).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_completion_after_the_lease_sets_the_password_again() {
    let directory = Arc::new(StallingDirectory {
        inner: MemoryDirectory::with_users(users()).unwrap(),
        stall_next: AtomicBool::new(true),
        entered: Notify::new(),
        release: Notify::new(),
        written: AtomicUsize::new(0),
    });
    let h = Harness::builder().directory(directory.clone()).clock_timer().build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();

    // The first completion takes the lease and stalls in the directory.
    let first = {
        let (sspr, flow) = (h.sspr.clone(), flow.clone());
        tokio::spawn(async move { sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await })
    };
    directory.entered.notified().await;
    // The lease runs out; a retry takes the flow over.
    h.advance(Duration::from_secs(121));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await;
    // Then the stalled write goes through (if it is still wanted).
    directory.release.notify_one();
    let first = tokio::time::timeout(Duration::from_secs(10), first).await.unwrap().unwrap();

    let wins: Vec<_> = [&first, &second].into_iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(wins.len(), 1, "both completions reported success: {first:?} / {second:?}");
    let shown = wins[0].temporary_password.as_ref().unwrap().expose_secret().to_owned();
    let alice = directory.inner.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(
        directory.inner.check_password(&alice.id, &shown),
        Some(true),
        "the password shown to the user is not the directory's ({} writes)",
        directory.written.load(Ordering::SeqCst)
    );
}
