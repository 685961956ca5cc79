//! Sign-in to the contact registration pages, and the administrator's user search.
//!
//! Sign-in is the portal's door to `update_contacts` with `Actor::User`, so it gets the same
//! care as the anonymous reset: one answer for an unknown login and a wrong password,
//! per-IP limits, a lockout after repeated failures, padding to the policy's minimum
//! response time, and an audit record that never holds the typed login or the password.

use super::instrument::observed;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{AuditScope, Sspr, limits};
use crate::api::{RequestContext, SignedIn, UserStatus};
use crate::audit::{AuditKind, Outcome};
use crate::backend::{Authentication, Batch, DirectoryUser};
use crate::error::{Error, NotAllowedReason, Result};
use crate::flow::{from_ts, ts};
use crate::input::NormalizedLogin;
use crate::secret::Password;

/// The most users one search returns, whatever the caller asks for.
pub const MAX_SEARCH_RESULTS: usize = 200;

/// The longest administrator search, in characters (after trimming): longer than any login or
/// display name, so a longer one can only be a mistake or an attempt to make the directory work.
pub const MAX_SEARCH_QUERY_CHARS: usize = 256;

/// Longest password checked against the directory, in bytes (sign-in and a change's current
/// password). Far above any real password (AD stores at most 256 characters), far below the
/// 256 kB past which slapd and Samba hang up on a bind request: a longer one was sent for a
/// real login only, and the directory's hang-up (`Backend`) told it from an unknown login.
pub const MAX_SIGN_IN_PASSWORD_BYTES: usize = 4096;

/// Refuse a typed password too long to be anyone's, before any backend is asked: the same
/// answer for every login.
pub(super) fn check_typed_password(field: &'static str, password: &Password) -> Result<()> {
    if password.expose_secret().len() > MAX_SIGN_IN_PASSWORD_BYTES {
        return Err(Error::invalid(field, format!("longer than {MAX_SIGN_IN_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

/// The sign-in attempts [`Sspr::check_credentials`] counted, this one included: for the
/// typed login, and for the account's own login when the typed one is an alias of it.
pub(super) struct SignInCounts {
    login: u32,
    own: Option<(NormalizedLogin, u32)>,
}

/// A login's sign-in attempts in its lockout window, kept in one record that changes only by
/// compare-and-set: an attempt is counted (as a failure) before its password is checked, and
/// one the directory could not answer is taken back (an outage is not the user's failure).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SignInAttempts {
    /// Attempts from all clients in the window.
    count: u32,
    /// When the window (and the record) ends, in unix seconds.
    window_end: i64,
    /// No attempt of this login before this time (unix seconds): the growing delay.
    not_before: i64,
    /// Attempts per client (a keyed tag, as for PIN attempts): at most
    /// `sign_in_failures_all_clients` entries, so the list stays short.
    clients: Vec<([u8; 8], u32)>,
}

impl SignInAttempts {
    fn client_mut(&mut self, tags: &[[u8; 8]]) -> Option<&mut u32> {
        self.clients.iter_mut().find(|(tag, _)| tags.contains(tag)).map(|(_, count)| count)
    }
}

/// A password check that reached no verdict ([`Sspr::check_counted`]): the error, and the user
/// whose bind it was when the directory failed at the password itself (`None`: it failed
/// before, for every login alike).
struct CheckFailed {
    error: Error,
    bind: Option<crate::api::UserId>,
}

/// Why a sign-in attempt may not be checked: until when, and the limit's name for the audit.
struct SignInRefused {
    until: OffsetDateTime,
    limit: &'static str,
}

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
    /// right password resets the count. Each attempt counts from before its password is
    /// checked, so while that many attempts of one login are being checked, a further one is
    /// refused with `RateLimited` too (racing requests get no extra guesses).
    ///
    /// A directory that finds the user but fails to check the password (the bind) is answered
    /// `SignInFailed` too, counted as no failure and audited with its error: an unknown login
    /// is never bound, so `Backend` there would tell the two apart.
    ///
    /// Errors: `InvalidInput` (a malformed login, or a password longer than
    /// [`MAX_SIGN_IN_PASSWORD_BYTES`], whoever the login is), `SignInFailed`, `RateLimited`,
    /// `Backend` (the directory's lookup or the state store failed).
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
            check_typed_password("password", password)?;
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
            check_typed_password("password", password)?;
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
        let (user, verdict, _) =
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
    /// the directory then refuses for a wrong current password must not have cleared it,
    /// and locks the login out with [`Sspr::lock_out_if_reached`] and the returned counts).
    ///
    /// Every attempt is counted as a failure *before* the password is checked, as a PIN
    /// attempt is: read after the check, the lockout let every guess in flight at once be
    /// checked against the directory (40 racing requests, 40 passwords tried where the
    /// policy allows 5). An attempt past the count is refused as locked out.
    pub(super) async fn check_credentials(
        &self,
        login: &NormalizedLogin,
        password: &Password,
        scope: &mut AuditScope<'_>,
        kind: AuditKind,
        admissible: impl Fn(&DirectoryUser) -> std::result::Result<(), NotAllowedReason>,
    ) -> Result<(DirectoryUser, Authentication, SignInCounts)> {
        let policy = &self.inner.policy;
        let now = self.now();
        scope.login_fingerprint = Some(self.login_fingerprint(login));

        let limits: Vec<_> = self.ip_limit(scope.ctx, "ip_sign_ins", policy.ip_sign_ins_per_hour).into_iter().collect();
        if let Some(refusal) = self.enforce(&limits, now).await? {
            scope.record(kind, refusal.outcome()).await;
            return Err(refusal.error());
        }
        let mut counts = match self.count_sign_in_attempt(login, scope.ctx, now).await? {
            Ok(count) => SignInCounts { login: count, own: None },
            Err(SignInRefused { until, limit }) => {
                scope.record(kind, Outcome::Limited { limit: limit.into() }).await;
                let retry_after = Duration::from_secs(u64::try_from((until - now).whole_seconds()).unwrap_or(0));
                return Err(Error::RateLimited { retry_after });
            }
        };

        let checked = self.check_counted(login, password, &admissible, &mut counts, scope.ctx, now).await;
        let (user, verdict, refused, own_locked) = match checked {
            Ok(checked) => checked,
            Err(CheckFailed { error, bind }) => {
                // No verdict (the directory failed): the attempt was not the user's failure.
                self.uncount_sign_in_attempt(login, scope.ctx, now).await;
                if let Some((own, _)) = &counts.own {
                    self.uncount_sign_in_attempt(own, scope.ctx, now).await;
                }
                // Only a login the directory found is bound: a failing bind answered `Backend`
                // where an unknown login, never bound, got `SignInFailed` (R.7). The bind's
                // failure is answered as a wrong password (counted as none) and audited.
                if let Some(user) = bind {
                    tracing::warn!(error = %error, "the directory could not check a password: answered as a wrong one");
                    scope.user = Some(user);
                    scope.record(kind, Outcome::Failed { error: error.to_string() }).await;
                    return Err(Error::SignInFailed);
                }
                return Err(error);
            }
        };
        match (verdict, user) {
            (Authentication::Accepted | Authentication::MustChange, Some(user)) => {
                scope.user = Some(user.id.clone());
                Ok((user, verdict, counts))
            }
            (_, user) => {
                self.lock_out_if_reached(login, &counts, now).await?;
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

    /// [`Sspr::check_credentials`] once the attempt is counted: find the user and check the
    /// password. Returns the user, the verdict, `admissible`'s refusal and whether the
    /// account's own login (when `login` is an alias) is locked out.
    async fn check_counted(
        &self,
        login: &NormalizedLogin,
        password: &Password,
        admissible: &impl Fn(&DirectoryUser) -> std::result::Result<(), NotAllowedReason>,
        counts: &mut SignInCounts,
        ctx: &RequestContext,
        now: OffsetDateTime,
    ) -> std::result::Result<(Option<DirectoryUser>, Authentication, Option<NotAllowedReason>, bool), CheckFailed> {
        let failed = |error: Error| CheckFailed { error, bind: None };
        let user = self.inner.directory.find_user(login).await.map_err(|e| failed(e.into()))?;
        // Found under another spelling (a multi-valued `uid` or `mail`): the account's own
        // lockout holds too, and the attempt counts for it too, so an alias adds no guesses.
        // Locked out that way, the answer is a wrong password's: a `RateLimited` would tell
        // the alias from an unknown login.
        let own_locked = match user.as_ref().and_then(|user| own_login_if_alias(login, user)) {
            Some(own) => match self.count_sign_in_attempt(&own, ctx, now).await.map_err(failed)? {
                Ok(count) => {
                    counts.own = Some((own, count));
                    false
                }
                Err(_) => true,
            },
            None => false,
        };
        let (verdict, refused) = match &user {
            Some(_) if own_locked => (Authentication::Rejected, None),
            Some(user) => match admissible(user) {
                Ok(()) => match self.inner.directory.authenticate(&user.id, password).await {
                    Ok(verdict) => (verdict, None),
                    Err(e) => return Err(CheckFailed { error: e.into(), bind: Some(user.id.clone()) }),
                },
                Err(reason) => (Authentication::Rejected, Some(reason)),
            },
            None => (Authentication::Rejected, None),
        };
        Ok((user, verdict, refused, own_locked))
    }

    /// Count one attempt of `login` from `ctx`'s client before its password is checked (as a
    /// failure, until a right password clears the count): the attempts from all clients
    /// counted, this one included; or, when `login` is locked out, in its growing delay, or
    /// the attempts in flight already reach a count (the client's
    /// `sign_in_failures_before_lockout`, everyone's `sign_in_failures_all_clients`), until
    /// when it is refused. The lockout (under every key of the ring) and the attempts are
    /// read in one store call; the count is a compare-and-set, so racing attempts never get
    /// past a count together.
    async fn count_sign_in_attempt(
        &self,
        login: &NormalizedLogin,
        ctx: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<std::result::Result<u32, SignInRefused>> {
        let policy = &self.inner.policy;
        let subject = self.login_subject(login);
        let key = limits::sign_in_attempts(&subject);
        let tags = self.client_tags(ctx);
        let mut reads: Vec<String> = std::iter::once(subject)
            .chain(self.previous_login_subjects(login))
            .map(|subject| limits::sign_in_lockout(&subject))
            .collect();
        let lockouts = reads.len();
        reads.push(key.clone());
        for _ in 0..super::MAX_CAS_ROUNDS {
            let batch = Batch { reads: reads.iter().map(String::as_str).collect(), ..Batch::default() };
            let values = self.inner.store.apply(&batch, now).await?.values;
            let (held, stored) = values.split_at(lockouts.min(values.len()));
            if let Some(until) = held.iter().flatten().filter_map(limits::held_until).max() {
                return Ok(Err(SignInRefused { until, limit: "sign_in_lockout" }));
            }
            let stored = stored.first().and_then(Option::as_ref);
            // An unreadable record (another layout) is replaced, never trusted as "no attempts".
            let mut record =
                stored.and_then(|s| postcard::from_bytes::<SignInAttempts>(&s.value).ok()).unwrap_or_default();
            if record.window_end <= ts(now) {
                record = SignInAttempts {
                    window_end: ts(now + Duration::from_secs(policy.sign_in_lockout_secs)),
                    ..SignInAttempts::default()
                };
            }
            let window_end = from_ts(record.window_end);
            // The attempt that reached a count is still being checked: held off until it
            // locks the login out, or clears the count with a right password. A client's
            // count holds that client only, to the window's end.
            if record.count >= policy.sign_in_failures_all_clients() {
                return Ok(Err(SignInRefused { until: window_end, limit: "sign_in_lockout" }));
            }
            if record.client_mut(&tags).is_some_and(|count| *count >= policy.sign_in_failures_before_lockout) {
                return Ok(Err(SignInRefused { until: window_end, limit: "sign_in_client_lockout" }));
            }
            if record.not_before > ts(now) {
                return Ok(Err(SignInRefused { until: from_ts(record.not_before), limit: "sign_in_delay" }));
            }
            record.count = record.count.saturating_add(1);
            record.not_before = ts(now + policy.sign_in_delay(record.count));
            match record.client_mut(&tags) {
                Some(count) => *count = count.saturating_add(1),
                None => record.clients.push((tags.first().copied().unwrap_or_default(), 1)),
            }
            let bytes = postcard::to_allocvec(&record)
                .map_err(|e| Error::Config(format!("cannot encode a sign-in attempts record: {e}")))?;
            let version = stored.map(|s| s.version);
            if self.inner.store.put(&key, &bytes, version, window_end, now).await?.is_some() {
                return Ok(Ok(record.count));
            }
        }
        Err(limits::contention())
    }

    /// Take back an attempt [`Sspr::count_sign_in_attempt`] counted whose password the
    /// directory could not check. Best effort: a store failure leaves it counted, which errs
    /// on the safe side.
    async fn uncount_sign_in_attempt(&self, login: &NormalizedLogin, ctx: &RequestContext, now: OffsetDateTime) {
        let policy = &self.inner.policy;
        let key = limits::sign_in_attempts(&self.login_subject(login));
        let tags = self.client_tags(ctx);
        for _ in 0..super::MAX_CAS_ROUNDS {
            let Ok(Some(stored)) = self.inner.store.get(&key, now).await else { return };
            let Ok(mut record) = postcard::from_bytes::<SignInAttempts>(&stored.value) else { return };
            record.count = record.count.saturating_sub(1);
            record.not_before = ts(now + policy.sign_in_delay(record.count));
            if let Some(count) = record.client_mut(&tags) {
                *count = count.saturating_sub(1);
            }
            let Ok(bytes) = postcard::to_allocvec(&record) else { return };
            match self.inner.store.put(&key, &bytes, Some(stored.version), from_ts(record.window_end), now).await {
                Ok(Some(_)) => return,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not take back a sign-in attempt the directory did not check");
                    return;
                }
            }
        }
    }

    /// Forget the login's sign-in attempts (its password was right), and those of the
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
            .map(|login| limits::sign_in_attempts(&self.login_subject(login)))
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

    /// A sign-in (or password change) whose attempt [`Sspr::check_credentials`] counted
    /// failed: lock the typed login out everywhere if its count from all clients has reached
    /// the policy's, and the account's own login (when the typed one is an alias of it)
    /// likewise. (A client that reached its own count is held by the attempts record.)
    pub(super) async fn lock_out_if_reached(
        &self,
        login: &NormalizedLogin,
        counts: &SignInCounts,
        now: OffsetDateTime,
    ) -> Result<()> {
        let policy = &self.inner.policy;
        let until = now + Duration::from_secs(policy.sign_in_lockout_secs);
        let own = counts.own.as_ref().map(|(own, count)| (own, *count));
        for (login, count) in std::iter::once((login, counts.login)).chain(own) {
            if count >= policy.sign_in_failures_all_clients() {
                self.hold(&limits::sign_in_lockout(&self.login_subject(login)), until, now).await?;
            }
        }
        Ok(())
    }

    /// Users whose login or display name contains `query`, with their SSPR status, for an
    /// administrator's search page; at most `limit` (capped at [`MAX_SEARCH_RESULTS`]).
    ///
    /// Errors: `InvalidInput` (field `query`, longer than [`MAX_SEARCH_QUERY_CHARS`] characters;
    /// the directory is not asked), `Backend`.
    pub async fn search_users(&self, query: &str, limit: usize) -> Result<Vec<UserStatus>> {
        observed!(self, search_users, async move {
            let query = query.trim();
            if query.chars().nth(MAX_SEARCH_QUERY_CHARS).is_some() {
                return Err(Error::invalid("query", format!("longer than {MAX_SEARCH_QUERY_CHARS} characters")));
            }
            let limit = limit.min(MAX_SEARCH_RESULTS);
            let users = self.inner.directory.search(query, limit).await?;
            let now = self.now();
            let mut found = Vec::with_capacity(users.len());
            for user in users.into_iter().take(limit) {
                found.push(self.status_of(user, now).await?);
            }
            Ok(found)
        })
    }
}
