//! A user's own password change: the login, the current password and a new one, as LTB's
//! change page and the Ctrl-Alt-Del dialog take them. What every must-change user needs
//! when no domain-joined computer asks them.
//!
//! The current password is checked by the same code as [`Sspr::sign_in`] before anything
//! else (`check_credentials`), so the change is never a better password-guessing oracle than
//! sign-in: the per-IP limit, the failure count and the lockout are the sign-in's own, shared.
//! An account the change does not serve (disabled or expired, outside the eligible scope,
//! privileged) is answered exactly like an unknown login and a wrong password, padded like
//! every anonymous call.

use super::Sspr;
use super::instrument::observed;
use crate::api::RequestContext;
use crate::audit::{AuditKind, Outcome};
use crate::backend::{Authentication, PasswordRefusal, PasswordRules};
use crate::error::{BackendError, BackendErrorKind, Error, Result};
use crate::input::NormalizedLogin;
use crate::notice::Message;
use crate::secret::Password;

/// How long [`Sspr::password_rules`] answers from memory before it reads the directory again.
pub const PASSWORD_RULES_TTL: time::Duration = time::Duration::minutes(5);

/// How long [`Sspr::password_rules`] waits after a failed read before it reads again.
pub const PASSWORD_RULES_RETRY: time::Duration = time::Duration::seconds(10);

/// The password rules last read from the directory (see [`Sspr::password_rules`]).
#[derive(Debug)]
pub(super) struct RulesCache {
    rules: Option<PasswordRules>,
    /// Before this the directory is not read (the rules are fresh, or a read just failed).
    next_read: time::OffsetDateTime,
    /// A read is under way: stale rules answer meanwhile.
    reading: bool,
}

impl Default for RulesCache {
    fn default() -> Self {
        Self { rules: None, next_read: time::OffsetDateTime::UNIX_EPOCH, reading: false }
    }
}

impl Sspr {
    /// Change a user's password with the current one.
    ///
    /// The current password is checked as [`Sspr::sign_in`] checks it, sharing its per-IP
    /// limit, failure count and lockout; then the policy's checks of a chosen password; then
    /// the directory changes it as the user's own change, so its history, minimum age and
    /// complexity rules apply ([`crate::Directory::change_password`]). The contacts are read
    /// before the change, and afterwards every one of them (those removed recently too) is
    /// told. Padded to `min_response_ms` whatever happens. A call dropped while the directory
    /// may be making the change (a client gone, a host's timeout, a cancelled task) still
    /// tells the contacts and records a `password_changed` event with a failed outcome ("the
    /// password may be changed"), on the engine's spawner: a false alarm if it was not made.
    ///
    /// An unknown login, a wrong current password, and an account that is disabled,
    /// expired, ineligible or privileged all give [`Error::SignInFailed`] and count as a
    /// failed sign-in (privileged accounts change their password with the directory's own
    /// tools: a password alone must not hand one over). A password the user must change
    /// (a temporary one) is accepted as the current password: that is who needs this most.
    ///
    /// Errors: `InvalidInput` (a malformed login, or a current password longer than
    /// [`crate::MAX_SIGN_IN_PASSWORD_BYTES`], field `current`), `SignInFailed`, `RateLimited`,
    /// `PasswordRejected` (with its [`PasswordRefusal`]: the policy's checks or the
    /// directory's rules; nothing changed), `Backend` (kind `NotSupported` for a directory
    /// without the operation).
    pub async fn change_password(
        &self,
        login: &str,
        current: &Password,
        new: &Password,
        ctx: &RequestContext,
    ) -> Result<()> {
        observed!(self, change_password, async move {
            let login = NormalizedLogin::parse(login)?;
            super::sign_in::check_typed_password("current", current)?;
            padded!(self, self.change_password_unpadded(&login, current, new, ctx))
        })
    }

    async fn change_password_unpadded(
        &self,
        login: &NormalizedLogin,
        current: &Password,
        new: &Password,
        ctx: &RequestContext,
    ) -> Result<()> {
        let mut scope = self.scope(ctx);
        let (user, _, counts) = self
            .check_credentials(login, current, &mut scope, AuditKind::PasswordChanged, |user| {
                self.self_service_refusal(user).map_or(Ok(()), Err)
            })
            .await?;
        let now = self.now();
        let own = super::sign_in::own_login_if_alias(login, &user);
        let changed = async {
            if bool::from(subtle::ConstantTimeEq::ct_eq(
                current.expose_secret().as_bytes(),
                new.expose_secret().as_bytes(),
            )) {
                return Err(Error::PasswordRejected {
                    refusal: PasswordRefusal::InHistory,
                    reason: "the new password must differ from the current one".into(),
                    suggestions: Vec::new(),
                });
            }
            self.check_chosen_password(&user, new, &scope).await?;
            // Read before the change: once it is made, the notice must reach the contacts
            // even if the contact store then fails (an unnoticed change is a takeover).
            let enrollment = self.inner.contacts.get(&user.id).await?.unwrap_or_default();
            // From here the directory may make the change even if this call stops (an LDAP
            // server applies a modify whose reply is still on its way when the client goes):
            // the owner is then told on the spawner, as a dropped completion tells them.
            let mut unannounced = super::unannounced::UnannouncedChange::arm(
                self,
                scope.event(
                    AuditKind::PasswordChanged,
                    Outcome::Failed {
                        error: "the request stopped during the directory's change: the password may be changed".into(),
                    },
                ),
                Some((ctx.locale, Message::PasswordChanged)),
                Some(enrollment),
            );
            let started = self.now();
            let answer = match self.inner.directory.change_password(&user.id, current, new).await {
                // The answer may have been lost after the directory made the change: then the
                // new password works, and the change must be answered and announced as made
                // (a retry would fail on the current password, and an unannounced change is
                // a takeover). Asked only on an outage, so a directory that refused
                // outright never sees a sign-in with the new password. The sign-in gets what
                // is left of one backend timeout: a directory that hung on the change holds
                // the call for one timeout, not two (THREAT_MODEL 14.2g).
                Err(e) if e.kind() == BackendErrorKind::Unavailable => {
                    let taken = std::time::Duration::try_from(self.now() - started).unwrap_or_default();
                    let left = self.inner.limit.limit().saturating_sub(taken);
                    match self.within(left, self.inner.directory.authenticate(&user.id, new)).await {
                        Some(Ok(Authentication::Accepted | Authentication::MustChange)) => Ok(()),
                        // The new password does not work: not made, the failure it was.
                        Some(Ok(Authentication::Rejected)) => Err(e),
                        // Nobody can tell: told and audited now as a change that may be made
                        // (the guard, dropped armed), a false alarm when it was not.
                        Some(Err(_)) | None => {
                            drop(unannounced);
                            return Err(e.into());
                        }
                    }
                }
                answer => answer,
            };
            let enrollment = unannounced.disarm().unwrap_or_default();
            match answer {
                Ok(()) => Ok(enrollment),
                Err(e) if e.refusal() == Some(PasswordRefusal::WrongCurrentPassword) => {
                    // The password changed since the check (or the directory disagrees):
                    // a wrong password, counted as one (the check counted the attempt).
                    self.lock_out_if_reached(login, &counts, now).await?;
                    Err(Error::SignInFailed)
                }
                Err(e) if e.kind() == BackendErrorKind::PasswordRejected => Err(Error::PasswordRejected {
                    refusal: e.refusal().unwrap_or(PasswordRefusal::Unspecified),
                    reason: e.message().to_owned(),
                    suggestions: Vec::new(),
                }),
                Err(e) => Err(e.into()),
            }
        }
        .await;
        // A made change is announced first, before anything else awaits: a caller dropped
        // after this point (a client that closed its connection, a host's timeout) must not
        // leave it unannounced and unaudited, and its retry fails on the old password. The
        // notices leave on the spawner at their first wait.
        let result = match changed {
            Ok(enrollment) => {
                let to = self.contact_destinations(&enrollment, now);
                self.notify_all(to, ctx.locale, Message::PasswordChanged, now).await;
                scope.record(AuditKind::PasswordChanged, Outcome::Success).await;
                Ok(())
            }
            Err(error) => {
                scope.record(AuditKind::PasswordChanged, Outcome::Failed { error: error.to_string() }).await;
                Err(error)
            }
        };
        // A helpdesk code still pending for the user ends with a change, as with a reset
        // (THREAT_MODEL 14.5b''): removed in the store call that clears the failed sign-ins.
        let pending_code = result.is_ok().then(|| self.recovery_key(&user.id));
        if !matches!(result, Err(Error::SignInFailed))
            && let Err(e) = self.clear_sign_in_failures(login, own.as_ref(), pending_code.as_deref(), now).await
        {
            // The current password was right (whatever the new one met). Not fatal: the
            // change, if made, is answered as made.
            tracing::warn!(error = %e, "could not clear the failed sign-ins (or end a pending recovery code) after a right password");
        }
        result
    }

    /// The rules a new password must meet, to show before the user types: the directory's
    /// ([`crate::Directory::password_rules`]) with the policy's own minimum length where it
    /// is longer. A directory that cannot say (`NotSupported`) gives the policy's rules alone.
    ///
    /// The answer is shown to anonymous visitors (a change page's every view), so the
    /// directory is read at most once per [`PASSWORD_RULES_TTL`] and otherwise answered from
    /// memory: viewing the page is no way to drive directory reads. A read that fails keeps
    /// the last rules read (if any) and is not tried again for [`PASSWORD_RULES_RETRY`]; a
    /// read already under way for stale rules answers the others with them. Rules changed in
    /// the directory show after at most [`PASSWORD_RULES_TTL`] (the directory still enforces
    /// its current ones at the change).
    ///
    /// Errors: `Backend` (the directory could not be read, and no rules were read before).
    pub async fn password_rules(&self) -> Result<PasswordRules> {
        observed!(self, password_rules, async move {
            let now = self.now();
            {
                let mut cache = self.inner.rules_cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match (&cache.rules, now < cache.next_read) {
                    (Some(rules), true) => return Ok(*rules),
                    (Some(rules), false) if cache.reading => return Ok(*rules),
                    (None, true) => {
                        return Err(BackendError::new(
                            BackendErrorKind::Unavailable,
                            "the password rules could not be read a moment ago",
                        )
                        .into());
                    }
                    _ => cache.reading = true,
                }
            }
            let read = self.read_password_rules().await;
            let mut cache = self.inner.rules_cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            cache.reading = false;
            match read {
                Ok(rules) => {
                    cache.rules = Some(rules);
                    cache.next_read = now + PASSWORD_RULES_TTL;
                    Ok(rules)
                }
                Err(e) => {
                    cache.next_read = now + PASSWORD_RULES_RETRY;
                    match cache.rules {
                        Some(rules) => {
                            tracing::warn!(error = %e, "the password rules could not be read: the last ones read are shown");
                            Ok(rules)
                        }
                        None => Err(e),
                    }
                }
            }
        })
    }

    /// [`Sspr::password_rules`] from the directory itself.
    async fn read_password_rules(&self) -> Result<PasswordRules> {
        let own = self.inner.policy.chosen_password_min_length;
        let mut rules = match self.inner.directory.password_rules().await {
            Ok(rules) => rules,
            Err(e) if e.kind() == BackendErrorKind::NotSupported => PasswordRules::default(),
            Err(e) => return Err(e.into()),
        };
        rules.min_length = Some(rules.min_length.map_or(own, |theirs| theirs.max(own)));
        Ok(rules)
    }
}
