//! Registration and administration: the portal has authenticated the caller, and `actor`
//! says who acts. These operations may say that a user does not exist.

use super::instrument::observed;
use super::limits;
use super::unannounced::UnannouncedChange;
use super::{AuditScope, MAX_CAS_ROUNDS, Sspr};
use crate::api::Locale;
use crate::api::{
    Actor, ContactChange, ContactUpdate, ContactView, Contacts, Destination, RequestContext, UserId, UserStatus,
};
use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::backend::{Batch, DirectoryUser, Enrollment, MAX_REMOVED_CONTACTS, RemovedContact, StoredContact};
use crate::error::{Error, NotAllowedReason, Result};
use crate::input::{EmailAddress, NormalizedLogin, PhoneNumber};
use crate::notice::Message;
use time::OffsetDateTime;

/// A user acting on their own record (a signed-in session, perhaps a phisher's kept open)
/// must still hold an account that could sign in: one disabled or expired since (the IT team
/// shutting an intruder out) changes nothing, or a removal would cut the user off their reset
/// and a proven address of the intruder's would wait out its cooling-off for the account's
/// return. An administrator's change is not refused: it may be the repair.
pub(super) fn user_may_act(actor: &Actor, user: &DirectoryUser) -> Result<()> {
    if matches!(actor, Actor::User) && (user.state.disabled || user.state.expired) {
        return Err(Error::NotAllowed { reason: NotAllowedReason::AccountDisabled });
    }
    Ok(())
}

impl Sspr {
    /// [`user_may_act`], for a change of contacts: a user acting on their own record must also
    /// not hold a privileged account. Every self-service door refuses one
    /// ([`Sspr::self_service_refusal`]: registering contacts on it would prepare its reset; an
    /// administrator sets them), but a session opened before the account was made privileged
    /// (or a host's own sign-in) would otherwise go on registering contacts on it.
    pub(super) fn user_may_change_contacts(&self, actor: &Actor, user: &DirectoryUser) -> Result<()> {
        user_may_act(actor, user)?;
        if matches!(actor, Actor::User) && self.inner.scope.is_privileged(user) {
            return Err(Error::NotAllowed { reason: NotAllowedReason::Privileged });
        }
        Ok(())
    }
}

/// An enrollment write that failed ([`Sspr::try_update_enrollment`]).
pub(super) struct EnrollmentFailure {
    pub(super) error: Error,
    /// The enrollment read before a save whose answer was lost and could not be read back
    /// (the store went away): the save may have been made.
    pub(super) unsure: Option<Option<Enrollment>>,
}

/// What [`Sspr::update_enrollment`] did.
pub(super) struct EnrollmentUpdate {
    /// The enrollment the change was decided on (`None`: the user had none).
    pub(super) read: Option<Enrollment>,
    /// The enrollment saved, if the change asked for one.
    pub(super) saved: Option<Enrollment>,
}

/// How long a contact the user removed is remembered beyond the cooling-off: a phisher's new
/// contact becomes usable when the cooling-off ends, and the removed one must still hear of
/// the reset that follows, even if the phisher waits a few days more.
const REMOVED_CONTACT_GRACE: time::Duration = time::Duration::days(7);

/// Whether `after`, read back from the contact store, is `next` saved over version `expected`
/// (the contract's next version, with what the engine writes: the flag, the contacts and the
/// dates, compared to the second, since a store may keep no finer time).
fn saved_as(after: &Enrollment, next: &Enrollment, expected: u64) -> bool {
    let secs = |t: Option<OffsetDateTime>| t.map(OffsetDateTime::unix_timestamp);
    let email = |e: &Enrollment| e.email.as_ref().map(|c| (c.value.clone(), c.usable_from.unix_timestamp()));
    let phone = |e: &Enrollment| e.phone.as_ref().map(|c| (c.value.clone(), c.usable_from.unix_timestamp()));
    after.version == expected.saturating_add(1)
        && after.enabled == next.enabled
        && email(after) == email(next)
        && phone(after) == phone(next)
        && secs(after.last_reset_at) == secs(next.last_reset_at)
        && secs(after.history.confirmed_at) == secs(next.history.confirmed_at)
}

/// The history after a change from `old` to `new` at `now`: the first registration is
/// remembered, and contacts removed or replaced by a change made `held_back` (the user's own,
/// or an administrator's on a privileged account) are remembered until `remember_until`
/// (expired ones and ones registered again are dropped; the oldest go first beyond
/// [`MAX_REMOVED_CONTACTS`]).
fn record_history(
    old: &Enrollment,
    new: &mut Enrollment,
    held_back: bool,
    now: OffsetDateTime,
    remember_until: OffsetDateTime,
) {
    let history = &mut new.history;
    if history.registered_at.is_none() && (old.ever_registered() || new.email.is_some() || new.phone.is_some()) {
        history.registered_at = Some(now);
    }
    if held_back {
        let removed_email = old.email.as_ref().filter(|o| new.email.as_ref().is_none_or(|n| n.value != o.value));
        let removed_phone = old.phone.as_ref().filter(|o| new.phone.as_ref().is_none_or(|n| n.value != o.value));
        let removed = removed_email
            .map(|c| Destination::Email(c.value.clone()))
            .into_iter()
            .chain(removed_phone.map(|c| Destination::Sms(c.value.clone())));
        for contact in removed {
            history.removed.retain(|r| r.contact != contact);
            history.removed.push(RemovedContact { contact, removed_at: now, remember_until });
        }
    }
    let current: Vec<Destination> = new
        .email
        .as_ref()
        .map(|c| Destination::Email(c.value.clone()))
        .into_iter()
        .chain(new.phone.as_ref().map(|c| Destination::Sms(c.value.clone())))
        .collect();
    new.history.removed.retain(|r| r.remember_until > now && !current.contains(&r.contact));
    let excess = new.history.removed.len().saturating_sub(MAX_REMOVED_CONTACTS);
    new.history.removed.drain(..excess);
}

/// An enrollment's contacts as an audit event names them: masked, the address first, joined
/// by `", "` (empty when there is none).
fn masked_contacts(enrollment: &Enrollment) -> String {
    [
        enrollment.email.as_ref().map(|c| crate::mask::email(&c.value)),
        enrollment.phone.as_ref().map(|c| crate::mask::phone(&c.value)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// Apply one change to one stored contact. `Ok(true)` when it changed.
fn apply_change<T: PartialEq>(
    slot: &mut Option<StoredContact<T>>,
    change: &ContactChange,
    parse: impl Fn(&str) -> Result<T>,
    now: time::OffsetDateTime,
    usable_from: time::OffsetDateTime,
) -> Result<bool> {
    match change {
        ContactChange::Keep => Ok(false),
        ContactChange::Clear => Ok(slot.take().is_some()),
        ContactChange::Set(text) => {
            let value = parse(text)?;
            if slot.as_ref().is_some_and(|c| c.value == value) {
                return Ok(false); // unchanged: keep its dates (no new cooling-off)
            }
            *slot = Some(StoredContact { value, added_at: now, usable_from });
            Ok(true)
        }
    }
}

impl Sspr {
    pub(super) async fn resolve(&self, login: &str) -> Result<DirectoryUser> {
        let login = NormalizedLogin::parse(login)?;
        self.inner.directory.find_user(&login).await?.ok_or(Error::UnknownUser)
    }

    /// Change `user`'s enrollment with one compare-and-set on the contact store: `change`
    /// gets the stored enrollment (`None`: the user has none yet) and returns the one to
    /// save, or `None` to leave it; a lost race reads again and asks again. This is the one
    /// loop every enrollment write goes through.
    pub(super) async fn update_enrollment(
        &self,
        user: &UserId,
        change: impl FnMut(Option<&Enrollment>) -> Result<Option<Enrollment>>,
    ) -> Result<EnrollmentUpdate> {
        self.try_update_enrollment(user, change, None).await.map_err(|failure| failure.error)
    }

    /// [`Sspr::update_enrollment`], telling apart a write that may have been made; `owed`:
    /// what the change owes if this call is dropped while the store may be saving it (the
    /// audit event saying it may be saved, and the notice to the contacts read before it),
    /// done on the spawner since the caller's retry would find nothing left to change.
    pub(super) async fn try_update_enrollment(
        &self,
        user: &UserId,
        mut change: impl FnMut(Option<&Enrollment>) -> Result<Option<Enrollment>>,
        owed: Option<(AuditEvent, Option<(Locale, Message)>)>,
    ) -> std::result::Result<EnrollmentUpdate, EnrollmentFailure> {
        let failed = |error: Error| EnrollmentFailure { error, unsure: None };
        for _ in 0..MAX_CAS_ROUNDS {
            let read = self.inner.contacts.get(user).await.map_err(|e| failed(e.into()))?;
            let Some(next) = change(read.as_ref()).map_err(failed)? else {
                return Ok(EnrollmentUpdate { read, saved: None });
            };
            let expected = read.as_ref().map_or(0, |r| r.version);
            // The contacts read are held by the guard while the store saves (told on a drop)
            // and handed back when the answer is in.
            let mut unannounced = match owed.clone() {
                Some((event, notice)) => UnannouncedChange::arm(self, event, notice, read),
                None => UnannouncedChange::unarmed(read),
            };
            let saved = match self.inner.contacts.save(user, &next, expected).await {
                Ok(true) => Some(Ok(())),
                Ok(false) => None,
                Err(error) => {
                    // The answer may have been lost after the write was made (a restart, a
                    // cut connection). Answered as a failure, a retry would find nothing to
                    // change and the change would never be audited nor announced (a phisher's
                    // new address included): read once more to learn which it was.
                    // `Err((error, unsure))`: unsure when the read-back failed too.
                    Some(match self.inner.contacts.get(user).await {
                        Ok(Some(after)) if saved_as(&after, &next, expected) => Ok(()),
                        Ok(_) => Err((error, false)),
                        Err(_) => Err((error, true)),
                    })
                }
            };
            let read = unannounced.disarm();
            match saved {
                None => {}
                Some(Ok(())) => return Ok(EnrollmentUpdate { read, saved: Some(next) }),
                Some(Err((error, false))) => return Err(failed(error.into())),
                Some(Err((error, true))) => return Err(EnrollmentFailure { error: error.into(), unsure: Some(read) }),
            }
        }
        Err(failed(limits::contention()))
    }

    pub(super) fn require_admin(actor: &Actor) -> Result<()> {
        match actor {
            Actor::Admin(_) => Ok(()),
            Actor::User => Err(Error::NotAllowed { reason: NotAllowedReason::AdminOnly }),
        }
    }

    /// The audit scope of an operation `actor` made on `user`'s record.
    pub(super) fn admin_scope<'a>(
        &'a self,
        ctx: &'a RequestContext,
        actor: &Actor,
        user: &DirectoryUser,
    ) -> AuditScope<'a> {
        let mut scope = self.scope(ctx);
        scope.actor = Some(actor.clone());
        scope.user = Some(user.id.clone());
        scope
    }

    pub(super) fn view(&self, enrollment: &Enrollment, now: OffsetDateTime) -> Contacts {
        Contacts {
            confirm_due: self.confirm_due(enrollment, now),
            email: enrollment.email.as_ref().map(|c| ContactView {
                value: c.value.as_str().to_owned(),
                masked: crate::mask::email(&c.value),
                usable_from: c.usable_from,
            }),
            phone: enrollment.phone.as_ref().map(|c| ContactView {
                value: c.value.as_str().to_owned(),
                masked: crate::mask::phone(&c.value),
                usable_from: c.usable_from,
            }),
        }
    }

    /// The user's registered contact details, in full, for the user themself (their own
    /// page, signed in). Not audited: the engine is not told who reads them.
    ///
    /// An administrator's page showing a user's contacts must use [`Sspr::admin_contacts`]
    /// instead, which records who read whose contacts (THREAT_MODEL R.31).
    ///
    /// Errors: `InvalidInput`, `UnknownUser`, `Backend`.
    pub async fn contacts(&self, login: &str) -> Result<Contacts> {
        observed!(self, contacts, async move {
            let user = self.resolve(login).await?;
            Ok(self.view(&self.inner.contacts.get(&user.id).await?.unwrap_or_default(), self.now()))
        })
    }

    /// A user's registered contact details, in full, read by an administrator (admins only):
    /// what [`Sspr::contacts`] answers, and audited as `ContactsViewed` with the administrator
    /// as actor, the user, the request's client address and user agent, and the contacts read
    /// masked in `destination` (never in full). A directory read one user's page at a time is
    /// then on record.
    ///
    /// Audited as the other administrative operations are: the read that answered
    /// (`Success`). A call refused before anything was read (`Actor::User`, a malformed or
    /// unknown login) or a contact store that failed disclosed nothing and records nothing; a
    /// user reading their own contacts uses [`Sspr::contacts`].
    ///
    /// Errors: `NotAllowed` (`admin_only`: `actor` is [`Actor::User`], a user reading another
    /// user's contacts), `InvalidInput`, `UnknownUser`, `Backend`.
    pub async fn admin_contacts(&self, actor: &Actor, login: &str, ctx: &RequestContext) -> Result<Contacts> {
        observed!(self, admin_contacts, async move {
            Self::require_admin(actor)?;
            let user = self.resolve(login).await?;
            let enrollment = self.inner.contacts.get(&user.id).await?.unwrap_or_default();
            let mut event = self.admin_scope(ctx, actor, &user).event(AuditKind::ContactsViewed, Outcome::Success);
            event.destination = Some(masked_contacts(&enrollment)).filter(|read| !read.is_empty());
            self.audit(event).await;
            Ok(self.view(&enrollment, self.now()))
        })
    }

    /// Change the user's contact details. A new address or number needs a proof of possession
    /// first when `actor` must give one (a user, unless the policy's
    /// `user_contacts_need_proof` is off; an admin when `admin_contacts_need_proof` is on):
    /// then setting it here answers `NotAllowed` (`contact_unproven`) and changes nothing, and
    /// [`Sspr::request_contact_proof`] / [`Sspr::confirm_contact_proof`] save it. Removing a
    /// contact, or setting the one already stored, needs no proof.
    ///
    /// A contact added or changed by the user becomes
    /// usable for PINs after the policy's cooling-off period, except at the user's very first
    /// registration (clearing every contact does not make the next one "first" again); an
    /// admin's change is usable at once, except on a privileged account, where it cools off
    /// as a user's does, the first registration included (one administrator choosing both
    /// factors of a `two_methods` reset must not take the account over at once). Every contact
    /// registered before the change is told of it at once, including those still cooling off
    /// and those removed recently by the user or, on a privileged account, by an admin (which
    /// are remembered for the cooling-off plus a week, and also told of a reset).
    ///
    /// Errors: `InvalidInput` (a malformed address or number: nothing is changed),
    /// `UnknownUser`, `NotAllowed` (ineligible; not enabled, the account disabled or
    /// expired, or privileged, when the user acts; a new contact not proven), `Backend`.
    pub async fn update_contacts(
        &self,
        actor: &Actor,
        login: &str,
        update: ContactUpdate,
        ctx: &RequestContext,
    ) -> Result<Contacts> {
        observed!(self, update_contacts, async move {
            let user = self.resolve(login).await?;
            self.change_contacts(actor, &user, update, ctx, false).await
        })
    }

    /// [`Sspr::update_contacts`] for a resolved user; `proven`: a proof of possession of
    /// every contact `update` sets was given ([`Sspr::confirm_contact_proof`]).
    pub(super) async fn change_contacts(
        &self,
        actor: &Actor,
        user: &DirectoryUser,
        update: ContactUpdate,
        ctx: &RequestContext,
        proven: bool,
    ) -> Result<Contacts> {
        self.user_may_change_contacts(actor, user)?;
        let needs_proof = !proven && self.contacts_need_proof(actor);
        if !self.inner.scope.is_eligible(user) {
            return Err(Error::NotAllowed { reason: NotAllowedReason::Ineligible });
        }
        let now = self.now();
        // An administrator's change to a privileged account cools off and is remembered as a
        // user's is (its first registration too): both factors of a `TwoMethods` reset chosen
        // by one administrator are the one-factor recovery code refused to such an account
        // (THREAT_MODEL R.5), so the owner and the contacts replaced get the cooling-off to
        // react, and the replaced contacts hear of the reset that follows.
        let held_back = matches!(actor, Actor::User) || self.inner.scope.is_privileged(user);
        let message = Message::ContactsChanged { by_admin: matches!(actor, Actor::Admin(_)) };
        let stopped = Outcome::Failed {
            error: "the request stopped while the contact store saved: the change may be saved".into(),
        };
        let owed = (
            self.admin_scope(ctx, actor, user).event(AuditKind::ContactsChanged, stopped),
            Some((ctx.locale, message.clone())),
        );
        let update = self
            .try_update_enrollment(
                &user.id,
                |stored| {
                    let old = stored.cloned().unwrap_or_default();
                    if matches!(actor, Actor::User) && !old.enabled {
                        return Err(Error::NotAllowed { reason: NotAllowedReason::NotEnabled });
                    }
                    let first_registration = !old.ever_registered();
                    let usable_from = match actor {
                        Actor::User if !first_registration => now + self.inner.policy.contact_cooling_off(),
                        Actor::Admin(_) if held_back => now + self.inner.policy.contact_cooling_off(),
                        _ => now,
                    };
                    let mut new = old.clone();
                    let email_changed =
                        apply_change(&mut new.email, &update.email, EmailAddress::parse, now, usable_from)?;
                    let region = self.inner.policy.default_region.as_deref();
                    let phone = |text: &str| PhoneNumber::parse_in(text, region);
                    let phone_changed = apply_change(&mut new.phone, &update.phone, phone, now, usable_from)?;
                    let sets_new =
                        |change: &ContactChange, changed: bool| changed && matches!(change, ContactChange::Set(_));
                    if needs_proof && (sets_new(&update.email, email_changed) || sets_new(&update.phone, phone_changed))
                    {
                        return Err(Error::NotAllowed { reason: NotAllowedReason::ContactUnproven });
                    }
                    if !email_changed && !phone_changed {
                        return Ok(None);
                    }
                    let remember_until = now + self.inner.policy.contact_cooling_off() + REMOVED_CONTACT_GRACE;
                    record_history(&old, &mut new, held_back, now, remember_until);
                    Ok(Some(new))
                },
                Some(owed),
            )
            .await;
        let update = match update {
            Ok(update) => update,
            Err(EnrollmentFailure { error, unsure: Some(read) }) => {
                // The save may have been made, and a retry would find nothing to change: tell
                // the contacts now (a false alarm costs less than a silent new address).
                let outcome =
                    Outcome::Failed { error: "the contact store lost its answer: the change may be saved".into() };
                self.admin_scope(ctx, actor, user).record(AuditKind::ContactsChanged, outcome).await;
                let to = self.contact_destinations(&read.unwrap_or_default(), now);
                self.notify_all(to, ctx.locale, message, now).await;
                return Err(error);
            }
            Err(failure) => return Err(failure.error),
        };
        let old = update.read.unwrap_or_default();
        let Some(new) = update.saved else {
            return Ok(self.view(&old, now));
        };
        let mut event = self.admin_scope(ctx, actor, user).event(AuditKind::ContactsChanged, Outcome::Success);
        event.destination = Some(masked_contacts(&new));
        self.audit(event).await;
        self.notify_all(self.contact_destinations(&old, now), ctx.locale, message, now).await;
        Ok(self.view(&new, now))
    }

    /// Enable or disable SSPR for a user (admins only). Only eligible, non-privileged users
    /// can be enabled; disabling always works, and ends the user's pending contact proof,
    /// helpdesk recovery code and the reset flows begun before it, verified or not (enabling
    /// again does not bring them back).
    ///
    /// Errors: `InvalidInput`, `UnknownUser`, `NotAllowed`, `Backend`.
    pub async fn set_enabled(&self, actor: &Actor, login: &str, enabled: bool, ctx: &RequestContext) -> Result<()> {
        observed!(self, set_enabled, async move {
            Self::require_admin(actor)?;
            let user = self.resolve(login).await?;
            let refusal = if enabled
                && self.inner.scope.is_privileged(&user)
                && self.inner.policy.privileged_mode == crate::policy::PrivilegedMode::Refuse
            {
                Some(NotAllowedReason::Privileged)
            } else if enabled && !self.inner.scope.is_eligible(&user) {
                Some(NotAllowedReason::Ineligible)
            } else {
                None
            };
            if let Some(reason) = refusal {
                // An administrator opening self-service to a domain admin is what a security
                // team reviews: the refusal is audited, who tried and on whom.
                self.admin_scope(ctx, actor, &user)
                    .record(AuditKind::EnabledChanged, Outcome::Refused { reason })
                    .await;
                return Err(Error::NotAllowed { reason });
            }
            if !enabled {
                // A disable ends what the user (or a phisher in their session) had pending: a
                // contact proof and a helpdesk code. Left in the store they would work again if
                // self-service were switched back on within their minutes. Removed before the
                // disable is saved, so a store failure leaves nothing disabled with them alive.
                let (proof, code) = (self.proof_key(&user.id), self.recovery_key(&user.id));
                let batch = Batch { deletes: vec![proof.as_str(), code.as_str()], ..Batch::default() };
                let now = self.now();
                self.inner.store.apply(&batch, now).await?;
                // And the reset flows begun before now, verified or not: held off until the last
                // of them has expired, so switching self-service back on within their minutes
                // does not complete one (THREAT_MODEL R.6). A second past their last live one
                // (a flow is live through its `expires_at` second): a flow expiring before the
                // mark's end began no later than this second.
                let marker = limits::disabled(&self.user_subject(&user.id));
                let until = now + self.inner.policy.flow_lifetime() + std::time::Duration::from_secs(1);
                self.hold(&marker, until, now).await?;
            }
            let stopped = Outcome::Failed {
                error: "the request stopped while the contact store saved: the change may be saved".into(),
            };
            let owed = (self.admin_scope(ctx, actor, &user).event(AuditKind::EnabledChanged, stopped), None);
            let update = self
                .try_update_enrollment(
                    &user.id,
                    |stored| {
                        let current = stored.cloned().unwrap_or_default();
                        Ok((current.enabled != enabled).then_some(Enrollment { enabled, ..current }))
                    },
                    Some(owed),
                )
                .await
                .map_err(|failure| failure.error)?;
            if update.saved.is_some() {
                self.admin_scope(ctx, actor, &user).record(AuditKind::EnabledChanged, Outcome::Success).await;
            }
            Ok(())
        })
    }

    /// Everything about one user's SSPR state.
    ///
    /// Errors: `InvalidInput`, `UnknownUser`, `Backend`.
    pub async fn status(&self, login: &str) -> Result<UserStatus> {
        observed!(self, status, async move {
            let user = self.resolve(login).await?;
            self.status_of(user, self.now()).await
        })
    }

    pub(super) async fn status_of(&self, user: DirectoryUser, now: time::OffsetDateTime) -> Result<UserStatus> {
        let enrollment = self.inner.contacts.get(&user.id).await?.unwrap_or_default();
        let blocked_until = self.user_blocked_until(&user.id, now).await?;
        Ok(UserStatus {
            enabled: enrollment.enabled,
            eligible: self.inner.scope.is_eligible(&user),
            privileged: self.inner.scope.is_privileged(&user),
            account_disabled: user.state.disabled || user.state.expired,
            account_locked: user.state.locked,
            email_masked: enrollment.email.as_ref().map(|c| crate::mask::email(&c.value)),
            phone_masked: enrollment.phone.as_ref().map(|c| crate::mask::phone(&c.value)),
            blocked_until,
            last_reset_at: enrollment.last_reset_at,
            user_id: user.id,
            login: user.login,
            display_name: user.display_name,
        })
    }

    /// Lift a block and forget the user's failed verifications (admins only).
    ///
    /// Errors: `InvalidInput`, `UnknownUser`, `NotAllowed`, `Backend`.
    pub async fn unblock(&self, actor: &Actor, login: &str, ctx: &RequestContext) -> Result<()> {
        observed!(self, unblock, async move {
            Self::require_admin(actor)?;
            let user = self.resolve(login).await?;
            // Under the previous keys' subjects too: a block left there would be carried back.
            for subject in std::iter::once(self.user_subject(&user.id)).chain(self.previous_user_subjects(&user.id)) {
                self.inner.store.delete(&limits::block(&subject)).await?;
                self.inner.store.delete(&limits::failures(&subject)).await?;
            }
            self.admin_scope(ctx, actor, &user).record(AuditKind::Unblocked, Outcome::Success).await;
            Ok(())
        })
    }
}
