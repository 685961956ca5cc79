//! Registration coverage: who has registered contacts for self-service reset, whose contacts
//! are stale, who never used it, who is blocked (an administrator's report), the reminders
//! that ask users to register, and a signed-in user's confirmation that their contacts are
//! still right (the policy's `reconfirm_after_days`).
//!
//! The report enumerates the users the directory lists (so users who never registered are
//! counted) and reads their enrollments from the contact store in pages
//! ([`ContactStore::list`](crate::ContactStore::list)), or one by one from a store that
//! cannot list. A reminder goes only to the user's directory mailbox, never to a registered
//! contact: it is about registering contacts, and an address someone else registered must not
//! be used to invite registrations.

use super::instrument::observed;
use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::{Sspr, limits};
use crate::api::{
    Actor, Contacts, Destination, EnrollmentCounts, EnrollmentEntry, EnrollmentFilter, EnrollmentReport, ReminderRun,
    RequestContext, UserId,
};
use crate::audit::{AuditKind, Outcome};
use crate::backend::{DirectoryUser, Enrollment};
use crate::error::{BackendErrorKind, Error, NotAllowedReason, Result};
use crate::notice::{Message, Notification};
use crate::scope::{GroupList, OuList};

/// The most users one report reads from the directory; a report that reached it says
/// `truncated`.
pub const MAX_REPORT_USERS: usize = 100_000;

/// Enrollments read per [`ContactStore::list`](crate::ContactStore::list) call.
const LIST_PAGE: usize = 500;

/// The age at which contacts are stale when neither the filter nor the policy says.
const DEFAULT_STALE_DAYS: u32 = 365;

/// The most OUs or groups a filter may name.
const MAX_FILTER_NAMES: usize = 100;

/// One covered user, as the report and the reminders see them.
struct Row {
    user: DirectoryUser,
    enrollment: Enrollment,
    entry: EnrollmentEntry,
}

/// A checked [`EnrollmentFilter`].
struct Filter {
    ous: OuList,
    groups: GroupList,
    stale_after_days: u32,
}

impl Filter {
    fn covers(&self, user: &DirectoryUser) -> bool {
        (self.ous.is_empty() || self.ous.contains(&user.dn))
            && (self.groups.is_empty() || self.groups.matches_any(&user.groups))
    }
}

impl Sspr {
    /// Who has registered for self-service reset, among the users `filter` covers: counts,
    /// and one entry per user flagged enabled without contacts, stale contacts, never used,
    /// blocked (admins only; audited as `EnrollmentReport`). Contacts appear masked.
    ///
    /// Cost: one directory listing of up to [`MAX_REPORT_USERS`] users (the directory's own
    /// size limit may be lower: see its backend's documentation), the contact store listed in
    /// pages of 500, and one state-store read per user (blocks). Meant for a nightly job or an
    /// admin page, not for every request.
    ///
    /// Errors: `NotAllowed` (`admin_only`), `InvalidInput` naming `ous`, `groups` or
    /// `stale_after_days`, `Backend`.
    pub async fn enrollment_report(
        &self,
        actor: &Actor,
        filter: &EnrollmentFilter,
        ctx: &RequestContext,
    ) -> Result<EnrollmentReport> {
        observed!(self, enrollment_report, async move {
            Self::require_admin(actor)?;
            let filter = self.check_filter(filter)?;
            let (rows, truncated, now) = self.covered_rows(&filter).await?;
            let mut counts = EnrollmentCounts::default();
            for Row { entry: e, .. } in &rows {
                let flags = [
                    (true, &mut counts.users),
                    (e.enabled, &mut counts.enabled),
                    (e.enabled && (e.email_masked.is_some() || e.phone_masked.is_some()), &mut counts.registered),
                    (e.without_contacts, &mut counts.without_contacts),
                    (e.stale, &mut counts.stale),
                    (e.never_used, &mut counts.never_used),
                    (e.blocked, &mut counts.blocked),
                    (e.privileged, &mut counts.privileged),
                    (!e.has_directory_mail, &mut counts.without_mail),
                ];
                for (set, count) in flags {
                    *count += u64::from(set);
                }
            }
            let mut scope = self.scope(ctx);
            scope.actor = Some(actor.clone());
            scope.record(AuditKind::EnrollmentReport, Outcome::Success).await;
            Ok(EnrollmentReport {
                generated_at: now,
                stale_after_days: filter.stale_after_days,
                counts,
                users: rows.into_iter().map(|row| row.entry).collect(),
                truncated,
            })
        })
    }

    /// Mail a reminder to register (or, for stale contacts, to confirm them) to every user
    /// `filter` covers who is enabled and has no contact or stale ones, at their directory
    /// mailbox ([`DirectoryUser::mail`]) only, with the policy's `registration_url` (admins
    /// only). Each reminder is audited (`ReminderSent`, the mailbox masked).
    ///
    /// A user gets at most one reminder per `reminder_interval_days`, however often this runs
    /// (also from two hosts at once: the mark is a compare-and-set in the state store, made
    /// before the mail goes); a reminder the notifier refuses clears its mark, so the next run
    /// tries again. Not reminded: users without a mailbox, disabled or ineligible accounts
    /// (they cannot register), and **privileged users**: they are counted, but their accounts
    /// cannot use self-service reset under the default policy, and a link in a mail is what a
    /// phisher's copy of it would carry, so admins reach them another way.
    ///
    /// Errors: `NotAllowed` (`admin_only`), `InvalidInput` as [`Sspr::enrollment_report`],
    /// `Config` when the policy has no `registration_url`, `Backend` (the directory, the
    /// contact store or the state store; reminders already sent stay sent and marked).
    pub async fn send_registration_reminders(
        &self,
        actor: &Actor,
        filter: &EnrollmentFilter,
        ctx: &RequestContext,
    ) -> Result<ReminderRun> {
        observed!(self, send_registration_reminders, async move {
            Self::require_admin(actor)?;
            let filter = self.check_filter(filter)?;
            let url = self.inner.policy.registration_url.clone();
            if url.is_empty() {
                return Err(Error::Config(
                    "the policy's registration_url is not set: reminders need the page they link to".into(),
                ));
            }
            let (rows, _, now) = self.covered_rows(&filter).await?;
            let interval = time::Duration::days(i64::from(self.inner.policy.reminder_interval_days));
            let mut run = ReminderRun::default();
            for Row { user, enrollment, entry } in rows {
                if !entry.enabled || !(entry.without_contacts || entry.stale) {
                    continue;
                }
                let skipped = if entry.privileged {
                    &mut run.skipped_privileged
                } else if entry.account_disabled || !entry.eligible {
                    &mut run.skipped_ineligible
                } else if user.mail.is_none() {
                    &mut run.without_mail
                } else {
                    let confirm = enrollment.has_contact();
                    match self.remind(actor, &user, &url, confirm, interval, now, ctx).await? {
                        Reminded::Sent => run.reminded.push(user.login.clone()),
                        Reminded::Already => run.already_reminded += 1,
                        Reminded::Failed => run.failed += 1,
                    }
                    continue;
                };
                *skipped += 1;
            }
            run.reminded.sort();
            Ok(run)
        })
    }

    /// Mark `user` reminded until `now + interval` (unless a mark is there), then mail the
    /// reminder; a refused mail takes the mark back.
    #[allow(clippy::too_many_arguments)]
    async fn remind(
        &self,
        actor: &Actor,
        user: &DirectoryUser,
        url: &str,
        confirm: bool,
        interval: time::Duration,
        now: OffsetDateTime,
        ctx: &RequestContext,
    ) -> Result<Reminded> {
        let Some(mail) = user.mail.clone() else { return Ok(Reminded::Failed) };
        let key = limits::reminded(&self.user_subject(&user.id));
        let until = now + interval;
        let stamp = crate::flow::ts(now).to_be_bytes();
        if self.inner.store.put(&key, &stamp, None, until, now).await?.is_none() {
            return Ok(Reminded::Already);
        }
        let to = Destination::Email(mail);
        let masked = to.masked();
        let message = Message::RegistrationReminder { url: url.to_owned(), confirm };
        let notification = Notification { to, locale: ctx.locale, message, at: self.local_time(now) };
        let mut scope = self.scope(ctx);
        scope.actor = Some(actor.clone());
        scope.user = Some(user.id.clone());
        let (outcome, reminded) = match self.inner.notifier.send(&notification).await {
            Ok(()) => (Outcome::Success, Reminded::Sent),
            Err(e) => {
                self.inner.store.delete(&key).await?;
                (Outcome::Failed { error: e.to_string() }, Reminded::Failed)
            }
        };
        let mut event = scope.event(AuditKind::ReminderSent, outcome);
        event.destination = Some(masked);
        self.audit(event).await;
        Ok(reminded)
    }

    /// Confirm that the signed-in user's contacts are still right (what the registration page
    /// asks once `confirm_due`): the re-confirmation the policy's `reconfirm_after_days`
    /// asks for starts again from now. Audited as `ContactsConfirmed`; nothing is sent.
    ///
    /// A user without a contact has nothing to confirm: nothing changes, nothing is audited.
    ///
    /// Errors: `InvalidInput`, `UnknownUser`, `NotAllowed` (`not_enabled` when the user acts
    /// and SSPR is not enabled for them, `account_disabled` when their account is disabled or
    /// expired, `privileged` when it is privileged), `Backend`.
    pub async fn confirm_contacts(&self, actor: &Actor, login: &str, ctx: &RequestContext) -> Result<Contacts> {
        observed!(self, confirm_contacts, async move {
            let user = self.resolve(login).await?;
            // As for every change of contacts: re-confirming marks them fresh (no prompt, out
            // of the stale list an administrator reviews), which a session kept open on an
            // account since disabled or made privileged must not do.
            self.user_may_change_contacts(actor, &user)?;
            let now = self.now();
            let update = self
                .update_enrollment(&user.id, |stored| {
                    let Some(stored) = stored.filter(|e| e.enabled || !matches!(actor, Actor::User)) else {
                        return Err(Error::NotAllowed { reason: NotAllowedReason::NotEnabled });
                    };
                    if !stored.has_contact() {
                        return Ok(None); // nothing to confirm
                    }
                    let mut confirmed = stored.clone();
                    confirmed.history.confirmed_at = Some(now);
                    Ok(Some(confirmed))
                })
                .await?;
            let Some(saved) = update.saved else { return Ok(self.view(&update.read.unwrap_or_default(), now)) };
            self.admin_scope(ctx, actor, &user).record(AuditKind::ContactsConfirmed, Outcome::Success).await;
            Ok(self.view(&saved, now))
        })
    }

    /// Whether `enrollment`'s contacts should be confirmed at `now` under the policy.
    pub(super) fn confirm_due(&self, enrollment: &Enrollment, now: OffsetDateTime) -> bool {
        let days = self.inner.policy.reconfirm_after_days;
        days > 0
            && enrollment.contacts_confirmed_at().is_some_and(|at| at + time::Duration::days(i64::from(days)) <= now)
    }

    fn check_filter(&self, filter: &EnrollmentFilter) -> Result<Filter> {
        let names_ok = |names: &[String]| {
            names.len() <= MAX_FILTER_NAMES
                && names.iter().all(|n| !n.trim().is_empty() && n.chars().count() <= 1024 && !n.contains('\0'))
        };
        if !names_ok(&filter.ous) {
            return Err(Error::invalid("ous", "at most 100 non-empty DNs of at most 1024 characters"));
        }
        let ous = OuList::parse(&filter.ous)
            .ok_or_else(|| Error::invalid("ous", "each OU must be a DN (ou=staff,dc=example,dc=org)"))?;
        if !names_ok(&filter.groups) {
            return Err(Error::invalid("groups", "at most 100 non-empty group names of at most 1024 characters"));
        }
        let policy_days = self.inner.policy.reconfirm_after_days;
        let stale_after_days = match filter.stale_after_days {
            Some(days) if (1..=3650).contains(&days) => days,
            Some(_) => return Err(Error::invalid("stale_after_days", "1..=3650 days")),
            None if policy_days > 0 => policy_days,
            None => DEFAULT_STALE_DAYS,
        };
        Ok(Filter { ous, groups: GroupList::new(&filter.groups), stale_after_days })
    }

    /// The users `filter` covers with their enrollments and report entries, sorted by login;
    /// whether the directory listing was cut at [`MAX_REPORT_USERS`]; and the time used.
    async fn covered_rows(&self, filter: &Filter) -> Result<(Vec<Row>, bool, OffsetDateTime)> {
        let listed = self.inner.directory.search("", MAX_REPORT_USERS).await?;
        let truncated = listed.len() >= MAX_REPORT_USERS;
        let users: Vec<DirectoryUser> = listed.into_iter().filter(|u| filter.covers(u)).collect();
        let mut enrollments = self.enrollments_of(&users).await?;
        let now = self.now();
        let stale_after = time::Duration::days(i64::from(filter.stale_after_days));
        let mut rows = Vec::with_capacity(users.len());
        for user in users {
            let enrollment = enrollments.remove(&user.id).unwrap_or_default();
            let blocked_until = self.user_blocked_until(&user.id, now).await?;
            let has_contact = enrollment.has_contact();
            let confirmed_at = enrollment.contacts_confirmed_at();
            let entry = EnrollmentEntry {
                user_id: user.id.clone(),
                login: user.login.clone(),
                display_name: user.display_name.clone(),
                enabled: enrollment.enabled,
                eligible: self.inner.scope.is_eligible(&user),
                privileged: self.inner.scope.is_privileged(&user),
                account_disabled: user.state.disabled || user.state.expired,
                email_masked: enrollment.email.as_ref().map(|c| crate::mask::email(&c.value)),
                phone_masked: enrollment.phone.as_ref().map(|c| crate::mask::phone(&c.value)),
                has_directory_mail: user.mail.is_some(),
                contacts_confirmed_at: confirmed_at,
                last_reset_at: enrollment.last_reset_at,
                blocked_until,
                without_contacts: enrollment.enabled && !has_contact,
                stale: confirmed_at.is_some_and(|at| at + stale_after <= now),
                never_used: enrollment.enabled && has_contact && enrollment.last_reset_at.is_none(),
                blocked: blocked_until.is_some(),
            };
            rows.push(Row { user, enrollment, entry });
        }
        rows.sort_by_cached_key(|row| row.user.login.to_lowercase());
        Ok((rows, truncated, now))
    }

    /// The stored enrollments of `users`: the contact store listed page by page, or, if it
    /// cannot list, read user by user.
    async fn enrollments_of(&self, users: &[DirectoryUser]) -> Result<HashMap<UserId, Enrollment>> {
        let wanted: HashSet<&UserId> = users.iter().map(|u| &u.id).collect();
        let mut found = HashMap::new();
        let mut after: Option<UserId> = None;
        loop {
            let page = match self.inner.contacts.list(after.as_ref(), LIST_PAGE).await {
                Err(e) if e.kind() == BackendErrorKind::NotSupported => {
                    return self.enrollments_one_by_one(users).await;
                }
                other => other?,
            };
            let full = page.len() >= LIST_PAGE;
            let Some(last) = page.last().map(|(id, _)| id.clone()) else { break };
            if after.as_ref().is_some_and(|a| last.as_str() <= a.as_str()) {
                // A store that answers a page not after `after` would loop for ever.
                return Err(Error::Backend {
                    source: crate::BackendError::new(
                        BackendErrorKind::Other,
                        "the contact store listed records out of order (ContactStore::list contract)",
                    ),
                });
            }
            found.extend(page.into_iter().filter(|(id, _)| wanted.contains(id)));
            after = Some(last);
            if !full {
                break;
            }
        }
        Ok(found)
    }

    async fn enrollments_one_by_one(&self, users: &[DirectoryUser]) -> Result<HashMap<UserId, Enrollment>> {
        let mut found = HashMap::with_capacity(users.len());
        for user in users {
            if let Some(enrollment) = self.inner.contacts.get(&user.id).await? {
                found.insert(user.id.clone(), enrollment);
            }
        }
        Ok(found)
    }
}

/// What [`Sspr::remind`] did.
enum Reminded {
    Sent,
    Already,
    Failed,
}
