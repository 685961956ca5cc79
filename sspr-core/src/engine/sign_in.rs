//! Sign-in to the contact registration pages, and the administrator's user search.
//!
//! Sign-in is the portal's door to `update_contacts` with `Actor::User`, so it gets the same
//! care as the anonymous reset: one answer for an unknown login and a wrong password,
//! per-IP limits, a lockout after repeated failures, padding to the policy's minimum
//! response time, and an audit record that never holds the typed login or the password.

use super::instrument::observed;
use std::time::Duration;

use time::OffsetDateTime;

use super::{AuditScope, Sspr, limits};
use crate::api::{RequestContext, SignedIn, UserStatus};
use crate::audit::{AuditKind, Outcome};
use crate::backend::{Authentication, Batch, DirectoryUser};
use crate::error::{Error, NotAllowedReason, Result};
use crate::input::NormalizedLogin;
use crate::secret::Password;

/// The most users one search returns, whatever the caller asks for.
pub const MAX_SEARCH_RESULTS: usize = 200;

/// The account's own login when `login` found `user` under another spelling (an alias: a
/// directory that also matches a second `uid` or `mail` value), else `None`.
pub(super) fn own_login_if_alias(login: &NormalizedLogin, user: &DirectoryUser) -> Option<NormalizedLogin> {
    NormalizedLogin::parse(&user.login).ok().filter(|own| own.as_str() != login.as_str())
}

impl Sspr {
    /// Check a user's directory password, for the pages where users manage their own
    /// contact details (`update_contacts` with `Actor::User`).
    ///
    /// An unknown login, a wrong password and a disabled account all give
    /// [`Error::SignInFailed`]; after `sign_in_failures_before_lockout` failures for one
    /// login, sign-in for it is refused with `RateLimited` for `sign_in_lockout_secs`. A
    /// right password resets the count.
    ///
    /// Errors: `InvalidInput` (a malformed login), `SignInFailed`, `RateLimited`, `Backend`.
    ///
    /// ```
    /// # tokio_test_block_on(async {
    /// use sspr_core::{Error, Password, RequestContext, SecretKey, Sspr, memory::{MemoryDirectory, Outbox}};
    /// let directory = MemoryDirectory::from_json(r#"[{"login": "jdoe@example.org",
    ///   "display_name": "Jane Doe", "dn": "uid=jdoe,ou=staff,dc=example,dc=org",
    ///   "password": "Correct-Horse-9"}]"#).unwrap();
    /// let key = SecretKey::from_hex(&"42".repeat(32)).unwrap();
    /// let sspr = Sspr::builder().directory(directory).notifier(Outbox::new()).secret_key(key).build().unwrap();
    /// let ctx = RequestContext::default();
    /// let who = sspr.sign_in("JDoe@example.org", &Password::new("Correct-Horse-9"), &ctx).await.unwrap();
    /// assert_eq!(who.display_name, "Jane Doe");
    /// let wrong = sspr.sign_in("jdoe@example.org", &Password::new("guess"), &ctx).await;
    /// assert!(matches!(wrong, Err(Error::SignInFailed)));
    /// # });
    /// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub async fn sign_in(&self, login: &str, password: &Password, ctx: &RequestContext) -> Result<SignedIn> {
        observed!(self, sign_in, async move {
            let login = NormalizedLogin::parse(login)?;
            let admissible = |user: &DirectoryUser| match user.state.disabled || user.state.expired {
                true => Err(NotAllowedReason::AccountDisabled),
                false => Ok(()),
            };
            padded!(self, self.sign_in_unpadded(&login, password, ctx, admissible))
        })
    }

    /// [`Sspr::sign_in`] for a user's own self-service pages (their contacts): it also
    /// refuses, exactly as an unknown login and before the password is checked, every
    /// account [`Sspr::self_service_refusal`] refuses (ineligible, privileged), so such a
    /// page never tells whether their password is right. Use [`Sspr::sign_in`] for an
    /// administrator's sign-in, which privileged accounts need.
    ///
    /// Errors: as [`Sspr::sign_in`].
    pub async fn sign_in_self_service(
        &self,
        login: &str,
        password: &Password,
        ctx: &RequestContext,
    ) -> Result<SignedIn> {
        observed!(self, sign_in, async move {
            let login = NormalizedLogin::parse(login)?;
            let admissible = |user: &DirectoryUser| self.self_service_refusal(user).map_or(Ok(()), Err);
            padded!(self, self.sign_in_unpadded(&login, password, ctx, admissible))
        })
    }

    /// Whether self-service serves `user` acting on their own behalf (signing in to their
    /// contacts page by password or through an identity provider, changing their password):
    /// `None` if it does, else why not. The one rule every such door applies, so that they
    /// cannot drift apart: the account must be neither disabled nor expired, be inside the
    /// eligible scope (an ineligible user can change nothing there), and not be privileged,
    /// in every `privileged_mode` (a password alone is one proof: registering contacts on a
    /// privileged account would prepare its reset; an administrator sets them).
    ///
    /// Whether SSPR is *enabled* for the user is not part of it: such a user may sign in and
    /// is told that self-service is not enabled when they try a change.
    pub fn self_service_refusal(&self, user: &DirectoryUser) -> Option<NotAllowedReason> {
        if user.state.disabled || user.state.expired {
            Some(NotAllowedReason::AccountDisabled)
        } else if !self.inner.scope.is_eligible(user) {
            Some(NotAllowedReason::Ineligible)
        } else if self.inner.scope.is_privileged(user) {
            Some(NotAllowedReason::Privileged)
        } else {
            None
        }
    }

    async fn sign_in_unpadded(
        &self,
        login: &NormalizedLogin,
        password: &Password,
        ctx: &RequestContext,
        admissible: impl Fn(&DirectoryUser) -> std::result::Result<(), NotAllowedReason>,
    ) -> Result<SignedIn> {
        let mut scope = self.scope(ctx);
        let (user, verdict) =
            self.check_credentials(login, password, &mut scope, AuditKind::SignIn, admissible).await?;
        self.clear_sign_in_failures(login, own_login_if_alias(login, &user).as_ref(), None, self.now()).await?;
        scope.record(AuditKind::SignIn, Outcome::Success).await;
        Ok(SignedIn {
            user_id: user.id,
            login: user.login,
            display_name: user.display_name,
            must_change: verdict == Authentication::MustChange,
        })
    }

    /// Check a login and its password the way a sign-in does, for every caller that a
    /// password lets in (`sign_in`, `change_password`): one code path, so they share the
    /// per-IP limit (`ip_sign_ins`), the failure count and the lockout of the login, and a
    /// guess spent on one is spent on the other.
    ///
    /// `admissible` says whether the found user may be checked at all; one it refuses
    /// (its reason, for the audit, in `Err`) is answered exactly as an unknown login: no
    /// password check, a failure counted, [`Error::SignInFailed`]. A failure and a limit
    /// are recorded as `kind` in `scope`; a right password is not recorded, and does not
    /// clear the failure count (the caller does both once it knows the outcome: a change
    /// the directory then refuses for a wrong current password must not have cleared it).
    pub(super) async fn check_credentials(
        &self,
        login: &NormalizedLogin,
        password: &Password,
        scope: &mut AuditScope<'_>,
        kind: AuditKind,
        admissible: impl Fn(&DirectoryUser) -> std::result::Result<(), NotAllowedReason>,
    ) -> Result<(DirectoryUser, Authentication)> {
        let policy = &self.inner.policy;
        let now = self.now();
        scope.login_fingerprint = Some(self.login_fingerprint(login));

        let limits: Vec<_> = self.ip_limit(scope.ctx, "ip_sign_ins", policy.ip_sign_ins_per_hour).into_iter().collect();
        if let Some(refusal) = self.enforce(&limits, now).await? {
            scope.record(kind, refusal.outcome()).await;
            return Err(refusal.error());
        }
        if let Some(until) = self.locked_out_until(login, now).await? {
            scope.record(kind, Outcome::Limited { limit: "sign_in_lockout".into() }).await;
            let retry_after = Duration::from_secs(u64::try_from((until - now).whole_seconds()).unwrap_or(0));
            return Err(Error::RateLimited { retry_after });
        }

        let user = self.inner.directory.find_user(login).await?;
        // Found under another spelling (a multi-valued `uid` or `mail`): the account's own
        // lockout holds too, and a failure counts for it too, so an alias adds no guesses.
        // Locked out that way, the answer is a wrong password's: a `RateLimited` would tell
        // the alias from an unknown login.
        let own = user.as_ref().and_then(|user| own_login_if_alias(login, user));
        let own_locked = match &own {
            Some(own) => self.locked_out_until(own, now).await?.is_some(),
            None => false,
        };
        let (verdict, refused) = match &user {
            Some(_) if own_locked => (Authentication::Rejected, None),
            Some(user) => match admissible(user) {
                Ok(()) => (self.inner.directory.authenticate(&user.id, password).await?, None),
                Err(reason) => (Authentication::Rejected, Some(reason)),
            },
            None => (Authentication::Rejected, None),
        };
        match (verdict, user) {
            (Authentication::Accepted | Authentication::MustChange, Some(user)) => {
                scope.user = Some(user.id.clone());
                Ok((user, verdict))
            }
            (_, user) => {
                self.count_sign_in_failure(login, own.as_ref(), now).await?;
                // A known user's event names them; an unknown login's only its fingerprint.
                scope.user = user.map(|user| user.id);
                let outcome = match refused {
                    Some(reason) => Outcome::Refused { reason },
                    None if own_locked => Outcome::Limited { limit: "sign_in_lockout".into() },
                    None => Outcome::Failed { error: Error::SignInFailed.to_string() },
                };
                scope.record(kind, outcome).await;
                Err(Error::SignInFailed)
            }
        }
    }

    /// Until when `login` is locked out of sign-in, if it is: under the current key's subject
    /// or a previous key's (read in one store call).
    async fn locked_out_until(&self, login: &NormalizedLogin, now: OffsetDateTime) -> Result<Option<OffsetDateTime>> {
        let lockouts: Vec<String> = std::iter::once(self.login_subject(login))
            .chain(self.previous_login_subjects(login))
            .map(|subject| limits::sign_in_lockout(&subject))
            .collect();
        self.held_until_any(&lockouts, now).await
    }

    /// Forget the login's failed sign-ins (its password was right), and those of the
    /// account's own login (`own`) when `login` is an alias of it.
    ///
    /// `also`: one more key to remove in the same store call (a password change ends the
    /// user's pending recovery code this way, at no extra round trip).
    pub(super) async fn clear_sign_in_failures(
        &self,
        login: &NormalizedLogin,
        own: Option<&NormalizedLogin>,
        also: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let keys: Vec<String> = std::iter::once(login)
            .chain(own)
            .map(|login| limits::sign_in_failures(&self.login_subject(login)))
            .collect();
        let Some(also) = also else {
            for key in &keys {
                self.inner.store.delete(key).await?;
            }
            return Ok(());
        };
        let deletes = keys.iter().map(String::as_str).chain(std::iter::once(also)).collect();
        self.inner.store.apply(&Batch { deletes, ..Batch::default() }, now).await?;
        Ok(())
    }

    /// Count a failed sign-in (or a wrong current password) for `login`, and for the
    /// account's own login (`own`) when `login` is an alias of it, and lock each out once the
    /// policy's count is reached.
    pub(super) async fn count_sign_in_failure(
        &self,
        login: &NormalizedLogin,
        own: Option<&NormalizedLogin>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let policy = &self.inner.policy;
        let window_end = now + Duration::from_secs(policy.sign_in_lockout_secs);
        for login in std::iter::once(login).chain(own) {
            let subject = self.login_subject(login);
            let failures = self.inner.store.increment(&limits::sign_in_failures(&subject), window_end, now).await?;
            if failures.count >= u64::from(policy.sign_in_failures_before_lockout) {
                self.hold(&limits::sign_in_lockout(&subject), window_end, now).await?;
            }
        }
        Ok(())
    }

    /// Users whose login or display name contains `query`, with their SSPR status, for an
    /// administrator's search page; at most `limit` (capped at [`MAX_SEARCH_RESULTS`]).
    ///
    /// Errors: `Backend`.
    pub async fn search_users(&self, query: &str, limit: usize) -> Result<Vec<UserStatus>> {
        observed!(self, search_users, async move {
            let limit = limit.min(MAX_SEARCH_RESULTS);
            let users = self.inner.directory.search(query.trim(), limit).await?;
            let now = self.now();
            let mut found = Vec::with_capacity(users.len());
            for user in users.into_iter().take(limit) {
                found.push(self.status_of(user, now).await?);
            }
            Ok(found)
        })
    }
}
