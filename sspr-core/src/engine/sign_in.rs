//! Sign-in to the contact registration pages, and the administrator's user search.
//!
//! Sign-in is the portal's door to `update_contacts` with `Actor::User`, so it gets the same
//! care as the anonymous reset: one answer for an unknown login and a wrong password,
//! per-IP limits, a lockout after repeated failures, padding to the policy's minimum
//! response time, and an audit record that never holds the typed login or the password.

use std::time::Duration;

use super::{Sspr, limits};
use crate::api::{RequestContext, SignedIn, UserStatus};
use crate::audit::{AuditKind, Outcome};
use crate::backend::Authentication;
use crate::error::{Error, Result};
use crate::input::NormalizedLogin;
use crate::secret::Password;

/// The most users one search returns, whatever the caller asks for.
pub const MAX_SEARCH_RESULTS: usize = 200;

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
        let login = NormalizedLogin::parse(login)?;
        self.padded(self.sign_in_unpadded(&login, password, ctx)).await
    }

    async fn sign_in_unpadded(
        &self,
        login: &NormalizedLogin,
        password: &Password,
        ctx: &RequestContext,
    ) -> Result<SignedIn> {
        let policy = &self.inner.policy;
        let now = self.now();
        let mut scope = self.scope(ctx);
        scope.login_fingerprint = Some(self.login_fingerprint(login));

        let limits: Vec<_> = self.ip_limit(ctx, "ip_sign_ins", policy.ip_sign_ins_per_hour).into_iter().collect();
        if let Some(refusal) = self.enforce(&limits, now).await? {
            scope.record(AuditKind::SignIn, refusal.outcome()).await;
            return Err(refusal.error());
        }
        let subject = self.login_subject(login);
        if let Some(until) = self.held_until(&limits::sign_in_lockout(&subject), now).await? {
            scope.record(AuditKind::SignIn, Outcome::Limited { limit: "sign_in_lockout".into() }).await;
            let retry_after = Duration::from_secs(u64::try_from((until - now).whole_seconds()).unwrap_or(0));
            return Err(Error::RateLimited { retry_after });
        }

        let user = self.inner.directory.find_user(login).await?;
        let verdict = match &user {
            Some(user) if !user.state.disabled && !user.state.expired => {
                self.inner.directory.authenticate(&user.id, password).await?
            }
            _ => Authentication::Rejected,
        };
        match (verdict, user) {
            (Authentication::Accepted | Authentication::MustChange, Some(user)) => {
                self.inner.store.delete(&limits::sign_in_failures(&subject)).await?;
                scope.user = Some(user.id.clone());
                scope.record(AuditKind::SignIn, Outcome::Success).await;
                Ok(SignedIn {
                    user_id: user.id,
                    login: user.login,
                    display_name: user.display_name,
                    must_change: verdict == Authentication::MustChange,
                })
            }
            (_, user) => {
                let window_end = now + Duration::from_secs(policy.sign_in_lockout_secs);
                let failures = self.inner.store.increment(&limits::sign_in_failures(&subject), window_end, now).await?;
                if failures.count >= u64::from(policy.sign_in_failures_before_lockout) {
                    self.hold(&limits::sign_in_lockout(&subject), window_end, now).await?;
                }
                // A known user's event names them; an unknown login's only its fingerprint.
                scope.user = user.map(|user| user.id);
                scope.record(AuditKind::SignIn, Outcome::Failed { error: Error::SignInFailed.to_string() }).await;
                Err(Error::SignInFailed)
            }
        }
    }

    /// Users whose login or display name contains `query`, with their SSPR status, for an
    /// administrator's search page; at most `limit` (capped at [`MAX_SEARCH_RESULTS`]).
    ///
    /// Errors: `Backend`.
    pub async fn search_users(&self, query: &str, limit: usize) -> Result<Vec<UserStatus>> {
        let limit = limit.min(MAX_SEARCH_RESULTS);
        let users = self.inner.directory.search(query.trim(), limit).await?;
        let now = self.now();
        let mut found = Vec::with_capacity(users.len());
        for user in users.into_iter().take(limit) {
            found.push(self.status_of(user, now).await?);
        }
        Ok(found)
    }
}
