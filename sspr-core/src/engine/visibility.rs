//! The gate before any judgement against the policy's `privileged_groups`: whether the
//! directory can see those groups' membership ([`Directory::check_groups_visible`]).
//!
//! A directory that finds a user's groups by searching for the groups that name the user
//! leaves out, without a word, a group whose membership the service account may not search:
//! the admin reads as an ordinary user. The engine asks the directory once, before it first
//! looks a user up, and keeps a success for good: after it, no lookup costs a round trip
//! more. While the answer is "no", every user found is treated as privileged (their groups
//! carry [`GROUPS_UNRESOLVED`]): an anonymous caller gets the answer an unknown login gets,
//! an administrator a refusal. The check is asked again at most once every
//! [`VISIBILITY_RETRY`] (an operator who fixes the ACL need not restart), and each failed
//! check is logged once, naming the group and the access it needs.
//!
//! [`Directory::check_groups_visible`]: crate::backend::Directory::check_groups_visible

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;

use super::instrument::TimedDirectory;
use crate::backend::{DirectoryUser, GROUPS_UNRESOLVED};
use crate::clock::Clock;
use crate::error::{BackendError, BackendErrorKind};
use crate::input::NormalizedLogin;

/// How long a failed visibility check is trusted before the directory is asked again.
pub const VISIBILITY_RETRY: time::Duration = time::Duration::seconds(60);

/// The directory behind its timing decorator, with the visibility gate in front of the two
/// calls that return users (`find_user`, `search`); every other call goes straight through
/// ([`Deref`]).
pub(super) struct GatedDirectory {
    directory: TimedDirectory,
    clock: Arc<dyn Clock>,
    /// The policy's `privileged_groups`.
    groups: Vec<String>,
    /// Set once a check succeeded (or there is nothing to check): read without a lock.
    visible: AtomicBool,
    /// When a failed check may be made again.
    retry_at: Mutex<Option<OffsetDateTime>>,
}

impl GatedDirectory {
    pub(super) fn new(directory: TimedDirectory, clock: Arc<dyn Clock>, groups: Vec<String>) -> Self {
        let visible = AtomicBool::new(groups.is_empty());
        Self { directory, clock, groups, visible, retry_at: Mutex::new(None) }
    }

    /// Check now, whatever an earlier failure said: `Ok` once the directory answered that it
    /// sees every privileged group's membership (kept for good), else its error.
    pub(super) async fn check_now(&self) -> Result<(), BackendError> {
        if self.visible.load(Ordering::Acquire) {
            return Ok(());
        }
        match self.directory.check_groups_visible(&self.groups).await {
            Ok(()) => {
                self.visible.store(true, Ordering::Release);
                Ok(())
            }
            Err(error) => {
                if error.kind() != BackendErrorKind::Unavailable {
                    *self.retry_at.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(self.clock.now() + VISIBILITY_RETRY);
                    tracing::error!(
                        error = %error,
                        "the directory cannot show who is in the privileged groups: every user is treated as \
                         privileged until the service account may read and search their membership"
                    );
                }
                Err(error)
            }
        }
    }

    /// Whether users may be judged on the groups the directory lists: `Ok(false)` while the
    /// last check failed (within [`VISIBILITY_RETRY`]). A directory that could not be asked
    /// ([`BackendErrorKind::Unavailable`]) fails the call, as the lookup itself would.
    async fn judged_on_groups(&self) -> Result<bool, BackendError> {
        if self.visible.load(Ordering::Acquire) {
            return Ok(true);
        }
        let waiting =
            (*self.retry_at.lock().unwrap_or_else(PoisonError::into_inner)).is_some_and(|at| self.clock.now() < at);
        if waiting {
            return Ok(false);
        }
        match self.check_now().await {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == BackendErrorKind::Unavailable => Err(error),
            Err(_) => Ok(false),
        }
    }

    pub(super) async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        let judged = self.judged_on_groups().await?;
        let found = self.directory.find_user(login).await?;
        Ok(if judged { found } else { found.map(unresolved) })
    }

    pub(super) async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        let judged = self.judged_on_groups().await?;
        let found = self.directory.search(query, limit).await?;
        Ok(if judged { found } else { found.into_iter().map(unresolved).collect() })
    }
}

/// `user` with groups that cannot be trusted to be complete: the engine treats them as
/// privileged.
fn unresolved(mut user: DirectoryUser) -> DirectoryUser {
    if !user.groups.iter().any(|g| g == GROUPS_UNRESOLVED) {
        user.groups.push(GROUPS_UNRESOLVED.to_owned());
    }
    user
}

impl Deref for GatedDirectory {
    type Target = TimedDirectory;

    fn deref(&self) -> &TimedDirectory {
        &self.directory
    }
}

impl std::fmt::Debug for GatedDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.directory.fmt(f)
    }
}

impl super::Sspr {
    /// Ask the directory now whether it can see who is in the policy's `privileged_groups`
    /// ([`Directory::check_groups_visible`]), as the engine otherwise does before its first
    /// lookup. A host calls it at start-up to refuse to start on a directory that cannot
    /// (the portal does): a clear error then is kinder than an engine that quietly treats
    /// every user as privileged. A success is kept; nothing needs it to be called.
    ///
    /// # Errors
    /// [`crate::Error::Backend`] with the directory's error, which names the group and the
    /// access the service account lacks (or says the directory could not be reached).
    ///
    /// [`Directory::check_groups_visible`]: crate::backend::Directory::check_groups_visible
    pub async fn check_privileged_groups(&self) -> Result<(), crate::Error> {
        self.inner.directory.check_now().await.map_err(crate::Error::from)
    }
}
