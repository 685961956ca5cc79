//! The backends a host language implements (Kotlin, Swift, Python, Ruby): the directory, the
//! contact store, the notifier and the audit sink as uniffi callback interfaces, and the
//! adapters that make each one the core's trait. Conversions only: what a host store
//! returns is checked by the shared rule (`Enrollment::validate`, sspr-bind).

use std::sync::Arc;

use sspr_core::backend::{DirectoryUser as CoreUser, Enrollment as CoreEnrollment};
use sspr_core::{BackendError, NormalizedLogin, Password, PasswordCandidate, PasswordFeedback, UserId};

use super::errors::BackendFailure;
use super::values::{Authentication, DirectoryUser, Enrollment, HookEvent, Notification};
use crate::names::Named;

/// The directory holding the accounts, implemented in the host language. See
/// `sspr_core::Directory` for the contract (escape the login, one user or none, must-change
/// in the same operation, a wrong password is `Rejected` not an error).
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait Directory: Send + Sync {
    /// The one user whose login matches (normalised: trimmed, NFKC, lower-case), or none.
    async fn find_user(&self, login: String) -> Result<Option<DirectoryUser>, BackendFailure>;
    /// Set a new password, with must-change-at-next-sign-in when `must_change`.
    async fn set_password(&self, user_id: String, password: String, must_change: bool) -> Result<(), BackendFailure>;
    /// Clear a lockout (idempotent).
    async fn unlock(&self, user_id: String) -> Result<(), BackendFailure>;
    /// Check the user's own password.
    async fn authenticate(&self, user_id: String, password: String) -> Result<Authentication, BackendFailure>;
    /// Users whose login or display name contains `query`, at most `limit`, sorted by login.
    async fn search(&self, query: String, limit: u32) -> Result<Vec<DirectoryUser>, BackendFailure>;
    /// The user's **own** change from `current` to `new_password` (`Engine.change_password`),
    /// not an administrator's reset: check `current` yourself and apply every rule the
    /// directory applies to a user's own change (history, minimum age, length, complexity);
    /// it must work for a user who must change a temporary password. Raise
    /// `BackendFailure.PasswordRefused` naming the rule (`"wrong_current_password"` for a
    /// wrong `current`: the engine counts it as a failed sign-in; `"too_short"`,
    /// `"in_history"`, `"too_recent"`, `"too_simple"`, `"unspecified"`), or, when the directory
    /// offers no change, `BackendFailure.NotSupported` (uniffi gives foreign traits no default
    /// methods, so every host implementation has this one, raising that when it cannot).
    /// Nothing may change on any error; keep and log neither password.
    async fn change_password(
        &self,
        user_id: String,
        current: String,
        new_password: String,
    ) -> Result<(), BackendFailure>;
}

/// Where enrollments are kept, implemented in the host language. `save` is a compare-and-set
/// on `version` (see `sspr_core::ContactStore`).
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait ContactStore: Send + Sync {
    /// The enrollment of `user_id`, if any, with its stored version.
    async fn get(&self, user_id: String) -> Result<Option<Enrollment>, BackendFailure>;
    /// Store `enrollment` as version `expected_version + 1` if the stored version is
    /// `expected_version` (0: none yet); whether it was stored.
    async fn save(
        &self,
        user_id: String,
        enrollment: Enrollment,
        expected_version: u64,
    ) -> Result<bool, BackendFailure>;
}

/// Delivers notices, implemented in the host language. Return once the message is accepted
/// for delivery; raise `BackendFailure.Rejected` for a channel you do not serve.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    /// Deliver one notice.
    async fn send(&self, notification: Notification) -> Result<(), BackendFailure>;
}

/// Receives the audit trail, implemented in the host language (optional: pass it to
/// `Engine`). Called with every event as JSON (one object of sspr's versioned audit schema,
/// never holding a secret), from any thread, possibly concurrently, on the request's path:
/// return quickly. A raised error is reported by the engine; the operation it describes is
/// not undone.
#[uniffi::export(with_foreign)]
pub trait AuditSink: Send + Sync {
    /// Record one event.
    fn record(&self, event_json: String) -> Result<(), BackendFailure>;
}

/// A check of a chosen password beyond the policy's own, implemented in the host language
/// (give a list to `Engine`; they run in order after the configured ones). Answer `None` to
/// accept, or a reason to refuse (shown to the user: never the password or a piece of it);
/// raise `BackendFailure.Unavailable` when the check cannot be made (the engine then refuses
/// the password unless the policy's `password_check_fail_open` is on). Never keep or log the
/// password.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait PasswordChecker: Send + Sync {
    /// Check `password`, chosen by the user with `login` and `display_name`.
    async fn check(
        &self,
        password: String,
        login: String,
        display_name: String,
    ) -> Result<Option<String>, BackendFailure>;
}

/// An event hook implemented in the host language (give a list to `Engine`): called off the
/// request path after each event of `events()` is recorded, with the audit event as JSON
/// (never a secret), at most 10 s; a raised error (or no answer in time) is audited as
/// `hook_failed` and never breaks the operation. E.g. end a user's sessions after a reset.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait EventHook: Send + Sync {
    /// The events this hook is called for (read once, when the engine is built; none is
    /// `Config`: the hook would never be called).
    fn events(&self) -> Vec<HookEvent>;
    /// Act on `event`; `audit_json` is the audit event it was read from.
    async fn on_event(&self, event: HookEvent, audit_json: String) -> Result<(), BackendFailure>;
}

pub(crate) struct ForeignEventHook(pub(crate) Arc<dyn EventHook>);

impl ForeignEventHook {
    /// The core's events this hook subscribed to.
    pub(crate) fn events(&self) -> Vec<sspr_core::HookEvent> {
        self.0.events().into_iter().filter_map(|e| e.to_core()).collect()
    }
}

#[async_trait::async_trait]
impl sspr_core::EventHook for ForeignEventHook {
    async fn on_event(&self, event: sspr_core::HookEvent, audit: &sspr_core::AuditEvent) -> Result<(), BackendError> {
        let event = HookEvent::from_core_name(event.as_str()).ok_or_else(|| {
            BackendError::new(sspr_core::BackendErrorKind::Other, "an event this binding does not name")
        })?;
        Ok(self.0.on_event(event, audit.to_json()).await?)
    }
}

pub(crate) struct ForeignAudit(pub(crate) Arc<dyn AuditSink>);
pub(crate) struct ForeignPasswordChecker(pub(crate) Arc<dyn PasswordChecker>);

#[async_trait::async_trait]
impl sspr_core::PasswordChecker for ForeignPasswordChecker {
    async fn check(&self, candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError> {
        let password = candidate.password.expose_secret().to_owned();
        let (login, name) = (candidate.user.login.as_str().to_owned(), candidate.user.display_name.clone());
        let reason = self.0.check(password, login, name).await?;
        Ok(PasswordFeedback::from_host_reason(reason))
    }
}

#[async_trait::async_trait]
impl sspr_core::AuditSink for ForeignAudit {
    async fn record(&self, event: &sspr_core::AuditEvent) -> Result<(), BackendError> {
        Ok(self.0.record(event.to_json())?)
    }
}

pub(crate) struct ForeignDirectory(pub(crate) Arc<dyn Directory>);
pub(crate) struct ForeignContacts(pub(crate) Arc<dyn ContactStore>);
pub(crate) struct ForeignNotifier(pub(crate) Arc<dyn Notifier>);

opaque_debug!(
    ForeignDirectory,
    ForeignContacts,
    ForeignNotifier,
    ForeignAudit,
    ForeignPasswordChecker,
    ForeignEventHook
);

#[async_trait::async_trait]
impl sspr_core::Directory for ForeignDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<CoreUser>, BackendError> {
        self.0.find_user(login.as_str().to_owned()).await?.map(CoreUser::try_from).transpose()
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        let password = password.expose_secret().to_owned();
        Ok(self.0.set_password(user.as_str().to_owned(), password, must_change).await?)
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        Ok(self.0.unlock(user.as_str().to_owned()).await?)
    }
    async fn authenticate(
        &self,
        user: &UserId,
        password: &Password,
    ) -> Result<sspr_core::Authentication, BackendError> {
        let password = password.expose_secret().to_owned();
        Ok(self.0.authenticate(user.as_str().to_owned(), password).await?.into())
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<CoreUser>, BackendError> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        self.0.search(query.to_owned(), limit).await?.into_iter().map(CoreUser::try_from).collect()
    }
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        let (old, new) = (old.expose_secret().to_owned(), new.expose_secret().to_owned());
        Ok(self.0.change_password(user.as_str().to_owned(), old, new).await?)
    }
}

#[async_trait::async_trait]
impl sspr_core::ContactStore for ForeignContacts {
    async fn get(&self, user: &UserId) -> Result<Option<CoreEnrollment>, BackendError> {
        self.0.get(user.as_str().to_owned()).await?.map(Enrollment::validate).transpose()
    }
    async fn save(
        &self,
        user: &UserId,
        enrollment: &CoreEnrollment,
        expected_version: u64,
    ) -> Result<bool, BackendError> {
        Ok(self.0.save(user.as_str().to_owned(), enrollment.into(), expected_version).await?)
    }
}

#[async_trait::async_trait]
impl sspr_core::Notifier for ForeignNotifier {
    async fn send(&self, n: &sspr_core::notice::Notification) -> Result<(), BackendError> {
        Ok(self.0.send(n.into()).await?)
    }
}
