//! The anonymous reset flow: `begin_reset -> send_pin -> verify_pin -> complete_reset`.

use super::instrument::{CallFlow, observed};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::delivery::{FirstStep, PinDelivery};
use super::flow_store::{self, FlowKey, FlowSlot};
use super::limits::{self, AttemptRefused, Limit, Standing, contention};
use super::unannounced::UnannouncedChange;
use super::{MAX_CAS_ROUNDS, Sspr};
use crate::api::{
    Channel, CompletionMode, Destination, MethodOption, NewPassword, PinSent, RequestContext, ResetChallenge,
    ResetOutcome, Verified,
};
use crate::audit::{AuditKind, DecoyReason, Outcome};
use crate::backend::{Batch, Counter, DirectoryUser, Enrollment, Put, StoredValue};
use crate::error::{BackendError, BackendErrorKind, Error, NotAllowedReason, Result};
use crate::flow::{FlowMethod, FlowRecord, FlowSubject, WrongPinEffect};
use crate::input::{EmailAddress, NormalizedLogin, PhoneNumber};
use crate::notice::{Message, Notification, PinPurpose};
use crate::policy::PrivilegedMode;
use crate::secret::{Password, Pin};
use crate::{decoy, hex, password, pin};

/// Extra time a flow record stays in the store after the flow expired, so a late request
/// reads "expired" or "already used" rather than nothing.
pub(super) const RECORD_GRACE: time::Duration = time::Duration::minutes(1);

/// Tries at a temporary password before giving up when the directory's own policy keeps
/// refusing them.
const TEMP_PASSWORD_TRIES: usize = 3;

/// Who a login turned out to be.
enum Candidate {
    Real { user: DirectoryUser, methods: Vec<FlowMethod>, required_methods: u8 },
    Decoy { reason: DecoyReason, user: Option<DirectoryUser> },
}

/// What a step makes of a flow record ([`Sspr::update_flow`]): the next record, what else
/// the same store call reads and writes, and what the step hands back.
///
/// The counters and deletes name keys the step made before its store call (`'k`), so a
/// step decided again after a lost race does not copy them.
struct FlowChange<'k, T> {
    next: FlowRecord,
    reads: Vec<String>,
    increments: Vec<(&'k str, OffsetDateTime)>,
    deletes: Vec<&'k str>,
    out: Option<T>,
}

impl<T> FlowChange<'_, T> {
    /// Store `next`, and nothing else.
    fn to(next: FlowRecord) -> Self {
        Self { next, reads: Vec::new(), increments: Vec::new(), deletes: Vec::new(), out: None }
    }
}

/// A flow step that was stored: the record, its version, and the answers of its batch
/// (none when `partial`: the record was stored but the rest of the batch failed).
struct Changed<T> {
    /// The record the step moved on from.
    previous: FlowRecord,
    record: FlowRecord,
    version: u64,
    values: Vec<Option<StoredValue>>,
    counters: Vec<Counter>,
    partial: bool,
    out: Option<T>,
}

/// Check that a flow id is what `begin_reset` hands out: 32 lower-case hex digits.
fn parse_flow_id(flow_id: &str) -> Result<&str> {
    if flow_id.len() == 32 && flow_id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(flow_id)
    } else {
        Err(Error::invalid("flow_id", "not a reset flow id"))
    }
}

/// The record in the value stored under `key`; one that does not open (changed in the store,
/// moved there from another flow's key) is a flow that cannot be read: `Expired`, as for a
/// flow that is gone, and a warning for the operator (naming nothing of the flow).
fn open_flow(key: &FlowSlot, value: Vec<u8>) -> Result<FlowRecord> {
    key.open(value).ok_or_else(|| {
        tracing::warn!("a flow record in the state store did not open (changed or moved there): read as expired");
        Error::Expired
    })
}

/// Whether what the user typed is the method's full address or number. Malformed input is an
/// error for every flow alike; a well-formed mismatch is not (it must look like success).
/// A number is read in the policy's `default_region` as when it was registered.
fn confirmation_matches(channel: Channel, target: Option<&str>, typed: &str, region: Option<&str>) -> Result<bool> {
    let typed = match channel {
        Channel::Email => EmailAddress::parse(typed)?.as_str().to_owned(),
        Channel::Sms => PhoneNumber::parse_in(typed, region)?.as_str().to_owned(),
    };
    Ok(target.is_some_and(|t| t.eq_ignore_ascii_case(&typed)))
}

impl Sspr {
    /// The flow stored under `key` ([`flow_store::flow`]) and its version.
    async fn load_flow(&self, key: &FlowKey<'_>, now: OffsetDateTime) -> Result<(FlowRecord, u64)> {
        let stored = self.inner.store.get(key, now).await?.ok_or(Error::Expired)?;
        let mut record = open_flow(key, stored.value)?;
        if let Some(previous) = self.rehome(key, &mut record) {
            self.ring_standing(&record.subject, &previous, now).await?;
        }
        Ok((record, stored.version))
    }

    /// For a flow begun under a previous key (its audit reference, made at `begin_reset`, is
    /// not the current key's): the subjects to read its standing under, besides its own.
    ///
    /// A real user's flow moves to the current key's subject (the step then stores it so),
    /// with the user's previous subjects to read. Without this, a flow begun before a
    /// rotation and one begun after would count the same user's attempts under two subjects,
    /// each up to the caps, and a block written by one would not stop the other. A decoy's
    /// flow stays where it began (its record holds no login to derive the current subject
    /// from; it never verifies anyway) but reads its standing in the same extra store call,
    /// so that a flow begun before the rotation costs a decoy the round trips of a real user.
    fn rehome(&self, key: &FlowKey<'_>, record: &mut FlowRecord) -> Option<Vec<limits::Subject>> {
        if self.inner.previous_keys.is_empty() {
            return None;
        }
        if record.flow_ref.is_none_or(|flow_ref| flow_ref == self.flow_ref_bytes(key.id())) {
            return None;
        }
        match &record.who {
            FlowSubject::Real { user, .. } => {
                record.subject = self.user_subject(user);
                Some(self.previous_user_subjects(user))
            }
            FlowSubject::Decoy { .. } => Some(Vec::new()),
        }
    }

    /// The flow stored under `key`, its version and its subject's block and attempts, in one
    /// store call ([`crate::backend::StateStore::get_linked`]: the record's link names its
    /// subject; a record opens only if its link is its own subject's, [`FlowSlot::open`]).
    async fn load_flow_and_standing(
        &self,
        key: &FlowKey<'_>,
        now: OffsetDateTime,
    ) -> Result<(FlowRecord, u64, Standing)> {
        let (stored, linked) = self.inner.store.get_linked(key, &Standing::PREFIXES, now).await?;
        let stored = stored.ok_or(Error::Expired)?;
        let version = stored.version;
        let mut record = open_flow(key, stored.value)?;
        // A flow begun under a previous key reads the user's standing under every key (one
        // more store call, only until its next step stores it under the current key).
        let standing = match self.rehome(key, &mut record) {
            Some(previous) => self.ring_standing(&record.subject, &previous, now).await?,
            None => Standing::from_values(&linked),
        };
        Ok((record, version, standing))
    }

    async fn put_flow(
        &self,
        key: &FlowSlot,
        record: &FlowRecord,
        expected: Option<u64>,
        now: OffsetDateTime,
    ) -> Result<Option<u64>> {
        let bytes = self.seal_flow(key, record)?;
        Ok(self.inner.store.put(key, &bytes, expected, record.expires() + RECORD_GRACE, now).await?)
    }

    /// Move a flow on with one compare-and-set: `step` (synchronous, so the engine's futures
    /// stay `Send`) decides the next record from the
    /// current one (`loaded`, or read now) and what else the same store call does; a lost
    /// race reads the flow again and asks `step` again. This is the one loop every flow
    /// transition goes through.
    ///
    /// A store error after the record may have been written (the batch's later parts failed)
    /// is checked by reading the flow back: if it holds the record this step wrote, the step
    /// took effect and goes on without the batch's answers (`partial`).
    async fn update_flow<'k, T>(
        &self,
        key: &FlowKey<'_>,
        now: OffsetDateTime,
        mut loaded: Option<(FlowRecord, u64)>,
        mut step: impl FnMut(&FlowRecord) -> Result<FlowChange<'k, T>>,
    ) -> Result<Changed<T>> {
        for _ in 0..MAX_CAS_ROUNDS {
            let (record, version) = match loaded.take() {
                Some(current) => current,
                None => self.load_flow(key, now).await?,
            };
            let change = step(&record)?;
            let bytes = self.seal_flow(key, &change.next)?;
            let batch = Batch {
                reads: change.reads.iter().map(String::as_str).collect(),
                put: Some(Put {
                    key,
                    value: &bytes,
                    expected_version: Some(version),
                    expires_at: change.next.expires() + RECORD_GRACE,
                }),
                increments: change.increments.clone(),
                deletes: change.deletes.clone(),
            };
            let outcome = match self.inner.store.apply(&batch, now).await {
                Ok(outcome) => outcome,
                Err(error) => match self.load_flow(key, now).await {
                    Ok((stored, stored_version)) if stored_version > version && stored == change.next => {
                        tracing::warn!(error = %error, "a flow step was stored but the rest of its batch failed");
                        return Ok(Changed {
                            previous: record,
                            record: change.next,
                            version: stored_version,
                            values: Vec::new(),
                            counters: Vec::new(),
                            partial: true,
                            out: change.out,
                        });
                    }
                    _ => return Err(error.into()),
                },
            };
            if let (true, Some(new_version)) = (outcome.applied, outcome.version) {
                return Ok(Changed {
                    previous: record,
                    record: change.next,
                    version: new_version,
                    values: outcome.values,
                    counters: outcome.counters,
                    partial: false,
                    out: change.out,
                });
            }
        }
        Err(contention())
    }

    /// The answer to an attempt the caps refuse, audited in `scope`. A request racing the
    /// owner's own right PIN (a double submit) is held off by the attempts its twins counted;
    /// once the flow is verified, say so rather than "blocked": the caller holds the flow id,
    /// which tells them that anyway.
    async fn refuse_attempt(
        &self,
        key: &FlowKey<'_>,
        refused: AttemptRefused,
        now: OffsetDateTime,
        scope: &super::AuditScope<'_>,
    ) -> Error {
        if let Ok((current, _)) = self.load_flow(key, now).await
            && let Err(settled) = current.check_verify(now)
        {
            return settled;
        }
        let (limit, error) = match refused {
            AttemptRefused::Delayed(retry_after) => ("failure_delay", Error::RateLimited { retry_after }),
            AttemptRefused::ClientBlocked(until) => ("client_blocked", Error::Blocked { until }),
            AttemptRefused::UserCapReached(until) => ("blocked", Error::Blocked { until }),
        };
        scope.record(AuditKind::RateLimited, Outcome::Limited { limit: limit.into() }).await;
        error
    }

    /// Put back the record a refused send replaced (compare-and-set on the version it wrote).
    /// A request that changed the flow in between keeps its change; the refused send's PIN,
    /// never delivered, is then known to nobody. Best effort: a store failure here leaves
    /// that PIN in place, which costs the user a resend after the cooldown, nothing more.
    async fn undo_send<T>(&self, key: &FlowSlot, changed: &Changed<T>, now: OffsetDateTime) {
        match self.put_flow(key, &changed.previous, Some(changed.version), now).await {
            Ok(Some(_)) => {}
            Ok(None) => tracing::warn!("a refused send could not put the previous PIN back: the flow changed"),
            Err(e) => tracing::warn!(error = %e, "a refused send could not put the previous PIN back"),
        }
    }

    /// The destination PINs may go to by `channel`, if the enrollment has one that is past
    /// its cooling-off (and, for SMS, while the policy allows SMS). The one place this rule lives.
    fn usable_target<'a>(&self, enrollment: &'a Enrollment, channel: Channel, now: OffsetDateTime) -> Option<&'a str> {
        match channel {
            Channel::Email => enrollment.email.as_ref().filter(|c| c.usable_from <= now).map(|c| c.value.as_str()),
            Channel::Sms => enrollment
                .phone
                .as_ref()
                .filter(|c| self.inner.policy.sms_enabled && c.usable_from <= now)
                .map(|c| c.value.as_str()),
        }
    }

    /// The destination a PIN (or a helpdesk's recovery code) may go to by `channel`: as
    /// [`Self::usable_target`], and only while self-service is enabled for the user.
    pub(super) fn usable_destination(
        &self,
        enrollment: &Enrollment,
        channel: Channel,
        now: OffsetDateTime,
    ) -> Option<Destination> {
        if !enrollment.enabled {
            return None;
        }
        let target = self.usable_target(enrollment, channel, now)?;
        // Validated when it was registered: not parsed again.
        Some(match channel {
            Channel::Email => Destination::Email(EmailAddress::already_valid(target)),
            Channel::Sms => Destination::Sms(PhoneNumber::already_valid(target)),
        })
    }

    /// Whether `to` is still one of the enrollment's usable destinations.
    fn is_usable(&self, enrollment: &Enrollment, to: &Destination, now: OffsetDateTime) -> bool {
        self.usable_target(enrollment, to.channel(), now) == Some(to.as_str())
    }

    fn usable_methods(&self, enrollment: &Enrollment, now: OffsetDateTime) -> Vec<FlowMethod> {
        [Channel::Email, Channel::Sms]
            .into_iter()
            .filter_map(|channel| {
                let target = self.usable_target(enrollment, channel, now)?;
                // Validated when it was registered: not parsed again.
                Some(FlowMethod::Real(match channel {
                    Channel::Email => Destination::Email(EmailAddress::already_valid(target)),
                    Channel::Sms => Destination::Sms(PhoneNumber::already_valid(target)),
                }))
            })
            .collect()
    }

    /// Who `login` is. Every path makes the same backend calls (one directory lookup, one
    /// contact-store read), so a slow or failing backend answers a real login and an unknown
    /// one alike.
    async fn candidate(&self, login: &NormalizedLogin, now: OffsetDateTime) -> Result<Candidate> {
        let found = self.inner.directory.find_user(login).await?;
        // A user found by another spelling (a directory matching e-mail besides login) is a
        // decoy: two spellings of one account would otherwise share its masks and counters
        // where two unknown spellings do not, telling a real account from an unknown one.
        let alias = found
            .as_ref()
            .is_some_and(|u| NormalizedLogin::parse(&u.login).map_or(true, |own| own.as_str() != login.as_str()));
        let Some(user) = found else {
            self.read_decoy_contacts(&self.login_subject(login)).await?;
            return Ok(Candidate::Decoy { reason: DecoyReason::UnknownUser, user: None });
        };
        let refuse = |reason| Ok(Candidate::Decoy { reason, user: Some(user.clone()) });
        let Some(enrollment) = self.read_enrollment(&user.id).await? else {
            return refuse(DecoyReason::ContactsUnreadable);
        };
        if alias {
            return refuse(DecoyReason::LoginAlias);
        }
        if user.state.disabled || user.state.expired {
            return refuse(DecoyReason::AccountDisabled);
        }
        let privileged = self.inner.scope.is_privileged(&user);
        if privileged && self.inner.policy.privileged_mode == PrivilegedMode::Refuse {
            return refuse(DecoyReason::Privileged);
        }
        if !self.inner.scope.is_eligible(&user) {
            return refuse(DecoyReason::Ineligible);
        }
        if !enrollment.enabled {
            return refuse(DecoyReason::NotEnabled);
        }
        let methods = self.usable_methods(&enrollment, now);
        if methods.is_empty() {
            return refuse(DecoyReason::NoContact);
        }
        // A privileged user must prove both methods: without two, no reset.
        let required_methods = if privileged { 2 } else { 1 };
        if methods.len() < usize::from(required_methods) {
            return refuse(DecoyReason::Privileged);
        }
        Ok(Candidate::Real { user, methods, required_methods })
    }

    /// A real user's enrollment, read where a decoy makes [`Self::read_decoy_contacts`]: as
    /// that read, only an unavailable store fails the request. Any other error is logged and
    /// answered `None` (the caller goes on as for a decoy): failing on it would tell a real
    /// login from an unknown one whose read ignores it.
    async fn read_enrollment(&self, user: &crate::api::UserId) -> Result<Option<Enrollment>> {
        match self.inner.contacts.get(user).await {
            Ok(enrollment) => Ok(Some(enrollment.unwrap_or_default())),
            Err(e) if e.kind() == BackendErrorKind::Unavailable => Err(e.into()),
            Err(e) => {
                tracing::error!(error = %e, "the contact store could not read a user's contacts: answered as a decoy");
                Ok(None)
            }
        }
    }

    /// The contact-store read a decoy makes where a real user's flow reads its enrollment: for
    /// a synthetic user id derived from the subject, DN-shaped so an LDAP store answers "no
    /// such entry" as it would for a deleted user. An unavailable store fails the request as
    /// it would a real one; any other answer is ignored (a store may refuse an id it never
    /// issued, which a real user's read never meets).
    async fn read_decoy_contacts(&self, subject: &limits::Subject) -> Result<()> {
        let id = crate::api::UserId::new(format!("cn=sspr-decoy-{}", hex::encode(subject)));
        match self.inner.contacts.get(&id).await {
            Err(e) if e.kind() == BackendErrorKind::Unavailable => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Start a reset for `login`.
    ///
    /// Every login that is not a user who may reset (unknown, disabled, ineligible, not
    /// enabled, without a usable contact, privileged) gets an answer of the same shape:
    /// decoy masked methods, stable per login, whose PINs are never sent. The audit trail
    /// records the truth.
    ///
    /// Every path makes the same backend calls (a directory lookup, a contact-store read, the
    /// state store), so a slow or failing backend answers every login alike; the answer is
    /// padded to the policy's `min_response_ms`. A user the directory finds under another
    /// spelling than its own login (say its e-mail address) also gets a decoy
    /// ([`crate::DecoyReason::LoginAlias`]).
    ///
    /// Errors: `InvalidInput` (malformed login), `RateLimited` (per client IP), `Blocked`,
    /// `Backend`.
    pub async fn begin_reset(&self, login: &str, ctx: &RequestContext) -> Result<ResetChallenge> {
        observed!(self, begin_reset, span => call, async move {
            // A malformed login is refused at once: its syntax says nothing about any account.
            let login = NormalizedLogin::parse(login)?;
            padded!(self, self.begin_reset_checked(login, ctx, call))
        })
    }

    async fn begin_reset_checked(
        &self,
        login: NormalizedLogin,
        ctx: &RequestContext,
        call: &tracing::Span,
    ) -> Result<ResetChallenge> {
        let now = self.now();
        let policy = &self.inner.policy;
        let mut scope = self.scope(ctx);
        scope.login_fingerprint = Some(self.login_fingerprint(&login));
        // The per-IP limit, then the bot challenge (if any), before the directory is asked:
        // neither can depend on whether the login exists.
        self.check_begin(&login, now, &scope).await?;

        let candidate = self.candidate(&login, now).await?;
        let (subject, previous, who, methods, required_methods) = match candidate {
            Candidate::Real { user, methods, required_methods } => {
                scope.user = Some(user.id.clone());
                let previous = self.previous_user_subjects(&user.id);
                let who = FlowSubject::Real { user: user.id.clone(), login };
                (self.user_subject(&user.id), previous, who, methods, required_methods)
            }
            Candidate::Decoy { reason, user } => {
                scope.user = user.map(|u| u.id);
                let methods = decoy::methods(self.decoy_key(), &login, policy)
                    .into_iter()
                    .map(|(channel, masked)| FlowMethod::Decoy { channel, masked })
                    .collect();
                let previous = self.previous_login_subjects(&login);
                (self.login_subject(&login), previous, FlowSubject::Decoy { reason }, methods, 1)
            }
        };

        // One store call: the subject's block and attempts (under the current key and the
        // previous ones), and the new record. A blocked subject's record is written before the
        // block is seen; its id is never handed out, and it is removed at once.
        let flow_id = hex::encode(&self.inner.rng.bytes::<16>());
        let expires_at = now + policy.flow_lifetime();
        let mut record = FlowRecord::new(subject, who, methods, ctx.locale, expires_at, required_methods);
        // The flow's reference for audit events, carried by the record so that the calls after
        // this one need not compute it again.
        let flow_ref = self.flow_ref_bytes(&flow_id);
        record.flow_ref = Some(flow_ref);
        let key = flow_store::flow(&flow_id);
        let bytes = self.seal_flow(&key, &record)?;
        let standing_keys = Standing::ring_keys(&subject, &previous);
        let batch = Batch {
            reads: standing_keys.iter().map(String::as_str).collect(),
            put: Some(Put {
                key: &key,
                value: &bytes,
                expected_version: None,
                expires_at: record.expires() + RECORD_GRACE,
            }),
            ..Batch::default()
        };
        let outcome = self.inner.store.apply(&batch, now).await?;
        if !outcome.applied {
            return Err(contention());
        }
        let mut standing = Standing::from_ring_values(&outcome.values);
        // What only a previous key's subject holds is copied under the current one, where the
        // flow's later steps read it (a store call only when there is something to copy).
        self.carry(&subject, &mut standing, now).await?;
        if let Err(blocked) = self.refuse_if_blocked(&standing, now, &scope).await {
            if let Err(e) = self.inner.store.delete(&key).await {
                tracing::warn!(error = %e, "could not remove the flow record of a blocked request");
            }
            return Err(blocked);
        }

        let outcome = match &record.who {
            FlowSubject::Real { .. } => Outcome::Success,
            FlowSubject::Decoy { reason } => Outcome::Decoy { reason: *reason },
        };
        scope.flow_ref = Some(hex::encode(&flow_ref));
        call.record("sspr.flow", scope.flow_ref.as_deref().unwrap_or_default());
        scope.record(AuditKind::ResetRequested, outcome).await;

        let methods = record
            .methods
            .iter()
            .map(|m| MethodOption {
                id: m.channel().method_id().to_owned(),
                channel: m.channel(),
                masked: m.masked(),
                needs_confirmation: policy.confirm_full_address,
            })
            .collect();
        Ok(ResetChallenge { flow_id, methods, expires_at: record.expires() })
    }

    /// Send a PIN by the method `method_id` (`"email"` or `"sms"`) of the flow. A new PIN
    /// voids the previous one. When the policy asks for confirmation, `confirm` is the full
    /// address or number; a mismatch is not reported (it would tell whether the guess was
    /// right) and nothing is sent.
    ///
    /// # Security
    ///
    /// The answer is the same for a real account and a decoy whatever the notifier does. The
    /// PIN is handed to the engine's deliveries: with a spawner ([`crate::SsprBuilder::spawner`],
    /// tokio's by default) they run off the request path, so the notifier's latency does not
    /// show; without one they run inline and only the policy's `min_response_ms` padding hides
    /// it. A delivery the notifier fails is retried in the background while the PIN is valid,
    /// then recorded in the audit trail (a `PinSent` event with outcome `Failed`) and logged;
    /// the flow is **not** rolled back, because a rolled-back flow would accept a resend at
    /// once where a decoy is in its cooldown. The user's experience of an outage is "no code
    /// arrived": they send a new one after the cooldown. Likewise, a destination over its
    /// hourly cap answers like success and sends nothing (audited as `RateLimited`), so the
    /// cap cannot confirm whose address it is.
    ///
    /// # Errors
    ///
    /// `InvalidInput`, `Expired`, `AlreadyUsed`, `PinVoided`, `InvalidState` (PIN already
    /// verified, or all PINs of the flow used), `RateLimited` (cooldown, per user, per IP, SMS
    /// budget), `Blocked`, `Backend` (the state or contact store failed; never the notifier).
    pub async fn send_pin(
        &self,
        flow_id: &str,
        method_id: &str,
        confirm: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<PinSent> {
        observed!(self, send_pin, flow(flow_id) => flow_ref, async move {
            let flow_id = parse_flow_id(flow_id)?;
            let channel =
                Channel::from_method_id(method_id).ok_or_else(|| Error::invalid("method_id", "unknown method"))?;
            padded!(self, self.send_pin_checked(flow_id, flow_ref, channel, confirm, ctx))
        })
    }

    async fn send_pin_checked(
        &self,
        flow_id: &str,
        flow: &CallFlow<'_>,
        channel: Channel,
        confirm: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<PinSent> {
        let policy = &self.inner.policy;
        let now = self.now();
        let key = flow_store::flow(flow_id);
        let (record, version) = self.load_flow(&key, now).await?;
        let flow_ref = flow.reference(self, &record);
        let method = record.check_send(now, policy, channel)?.clone();
        let real = match &record.who {
            FlowSubject::Real { user, .. } => Some(user.clone()),
            FlowSubject::Decoy { .. } => None,
        };

        let confirmed = match (policy.confirm_full_address, confirm) {
            (false, _) => true,
            (true, None) => return Err(Error::invalid("confirm", "type the full address or number")),
            (true, Some(typed)) => confirmation_matches(
                channel,
                method.destination().map(Destination::as_str),
                typed,
                self.inner.policy.default_region.as_deref(),
            )?,
        };

        // A real user's contact may have changed since the flow began: only send to a
        // destination that is still registered and usable. A decoy reads too, alike.
        // A store failing otherwise than unavailable leaves `unreadable`: the send goes on as a
        // decoy's (nothing drawn or delivered), as a decoy's read ignores such an error.
        let (enrollment, unreadable) = match (&real, method.destination()) {
            (Some(user), Some(to)) => match self.read_enrollment(user).await? {
                Some(enrollment) => {
                    if !enrollment.enabled || !self.is_usable(&enrollment, to, now) {
                        return Err(Error::Expired);
                    }
                    (Some(enrollment), false)
                }
                None => (None, true),
            },
            _ => {
                self.read_decoy_contacts(&record.subject).await?;
                (None, false)
            }
        };

        let mut scope = self.scope(ctx);
        scope.flow_ref = Some(flow_ref);
        scope.user.clone_from(&real);
        scope.channel = Some(channel);

        let destination_key = match method.destination() {
            Some(to) => to.as_str().to_owned(),
            None => format!("decoy/{}/{}", hex::encode(&record.subject), channel.method_id()),
        };
        let mut limits = Vec::from(self.user_send_limits(&record.subject, ctx));
        limits.extend(self.ip_limit(ctx, "ip_sends", policy.ip_sends_per_hour));
        // The destination's caps are the last limits, and they never refuse out loud: anyone can
        // register any address on their own account, so a refusal would confirm that a
        // victim's private address is the one they hammered. Over its cap, the PIN is not
        // sent and the audit says why; the caller sees a success, as for a decoy.
        limits.extend(self.destination_limits(&destination_key, ctx));
        let counted = Limit::requests(&limits, now);

        // The PIN is drawn before the limits are known: the new record, the subject's block
        // and attempts and the limits' counters are one store call. A PIN that is then not
        // delivered (destination over its cap) is known to nobody, like a decoy's random hash.
        let draw_pin = real.is_some() && confirmed && !unreadable;
        let pin = draw_pin.then(|| self.inner.rng.with(|rng| pin::generate(rng, policy.pin_length)));
        let pin_hash = match &pin {
            Some(pin) => pin::hash(&self.inner.key, flow_id, pin.expose_secret()),
            // A decoy's hash is random: no PIN can match it.
            None => self.inner.rng.bytes::<32>(),
        };

        // One store call: the new record (compare-and-set), the subject's block and attempts
        // read before it, and, only if it won, the limits counted. A request that the block or
        // a limit then refuses puts the previous record back ([`Self::undo_send`]): a refused
        // send delivers nothing and leaves the previous PIN, the PIN count and the cooldown
        // as they were.
        let changed = self
            .update_flow(&key, now, Some((record, version)), |current: &FlowRecord| {
                current.check_send(now, policy, channel)?;
                let mut change = FlowChange::<()>::to(current.with_pin(channel, pin_hash, now, policy));
                change.reads = Vec::from(Standing::keys(&current.subject));
                change.increments.clone_from(&counted);
                Ok(change)
            })
            .await?;
        if changed.partial {
            // The record was stored but neither the block nor the counters were read: refuse,
            // as if the store had failed before.
            self.undo_send(&key, &changed, now).await;
            return Err(Error::Backend {
                source: BackendError::new(BackendErrorKind::Unavailable, "the state store failed during the send"),
            });
        }
        let standing = Standing::from_values(&changed.values);
        let failed = match self.refuse_if_blocked(&standing, now, &scope).await {
            Ok(failed) => failed,
            Err(blocked) => {
                self.undo_send(&key, &changed, now).await;
                return Err(blocked);
            }
        };
        let (mut refused, destination_full) = limits::judge_quietly(&limits, &changed.counters, now);
        // The SMS budget last: a request another limit refused spends none of it, and a user
        // with failed verifications cannot spend its reserve. (A destination over its cap
        // still counts against the budget, so the budget's answer cannot tell it apart.)
        if refused.is_none() && channel == Channel::Sms {
            refused = match self.enforce_sms_budget(failed, now).await {
                Ok(refused) => refused,
                Err(error) => {
                    self.undo_send(&key, &changed, now).await;
                    return Err(error);
                }
            };
        }
        if let Some(refusal) = refused {
            self.undo_send(&key, &changed, now).await;
            scope.record(AuditKind::RateLimited, refusal.outcome()).await;
            return Err(refusal.error());
        }
        if destination_full {
            scope.record(AuditKind::RateLimited, Outcome::Limited { limit: "destination".into() }).await;
        }
        let pin = pin.filter(|_| !destination_full);

        let sent = changed.record;
        let pin_expires_at = match sent.state {
            crate::flow::FlowState::PinSent { pin_expires_at, .. } => crate::flow::from_ts(pin_expires_at),
            _ => now + policy.pin_lifetime(),
        };

        let to = method.destination().cloned();
        let masked = method.masked();
        let outcome = match (&sent.who, confirmed, destination_full) {
            (FlowSubject::Real { .. }, _, _) if unreadable => {
                Outcome::Decoy { reason: DecoyReason::ContactsUnreadable }
            }
            (FlowSubject::Real { .. }, true, false) => Outcome::Success,
            (FlowSubject::Real { .. }, true, true) => Outcome::Limited { limit: "destination".into() },
            (FlowSubject::Real { .. }, false, _) => Outcome::Decoy { reason: DecoyReason::ConfirmationMismatch },
            (FlowSubject::Decoy { reason }, _, _) => Outcome::Decoy { reason: *reason },
        };
        let mut event = scope.event(AuditKind::PinSent, outcome);
        event.destination = Some(masked.clone());
        let failure_event = event.clone();
        self.audit(event).await;

        if let (Some(pin), Some(enrollment), Some(to)) = (pin, &enrollment, to) {
            let notification = Notification {
                to,
                locale: sent.locale,
                message: Message::Pin {
                    pin,
                    expires_at: pin_expires_at,
                    // The PIN may expire early with its flow: tell the time it really has.
                    valid_minutes: crate::notice::minutes_left(pin_expires_at, now),
                    purpose: PinPurpose::Reset,
                },
                at: self.local_time(now),
            };
            // Tell the user's other contacts, so a stolen phone or mailbox does not go unnoticed.
            let notices = self
                .contact_destinations(enrollment, now)
                .into_iter()
                .filter(|d| Some(d) != method.destination())
                .map(|to| Notification {
                    to,
                    locale: sent.locale,
                    message: Message::ResetRequested { channel, masked: masked.clone() },
                    at: self.local_time(now),
                })
                .collect();
            // Off the request path: a slow or failing notifier must not show in this answer,
            // and a failure does not roll the flow back (a decoy would not be rolled back
            // either: its resend cooldown would tell them apart).
            self.deliver(
                PinDelivery { notification, event: failure_event, pin_expires_at, notices },
                self.anonymous_first_step(),
            )
            .await;
        }

        Ok(PinSent {
            expires_at: pin_expires_at,
            resend_after: now + policy.resend_cooldown(),
            attempts_left: policy.max_wrong_pins,
        })
    }

    /// Check the PIN the user typed (spaces and dashes are ignored). Answers, errors included,
    /// are padded to the policy's `min_response_ms` (malformed input is refused at once).
    ///
    /// Every attempt is counted, atomically, *before* its PIN is compared: per user and per
    /// (user, client). Past the policy's `failures_before_delay` each failure makes the
    /// user's next attempt wait longer (`RateLimited`); a client that reaches
    /// `client_failures_before_block` is blocked for this user, and the user is blocked
    /// everywhere at `user_failures_before_block`. However many requests race, no more PINs
    /// are compared than those caps allow. A right PIN clears the count.
    ///
    /// Errors: `InvalidInput` (not the right number of digits: no attempt is used),
    /// `WrongPin { attempts_left }`, `PinVoided` (that was the last attempt), `RateLimited`
    /// (a progressive delay: nothing was compared), `Blocked` (this user, or this client for
    /// this user), `Expired`, `AlreadyUsed`, `InvalidState`, `Backend`.
    pub async fn verify_pin(&self, flow_id: &str, pin: Pin, ctx: &RequestContext) -> Result<Verified> {
        observed!(self, verify_pin, flow(flow_id) => flow_ref, async move {
            // Malformed input is refused at once: its syntax says nothing about any account.
            let flow_id = parse_flow_id(flow_id)?;
            let policy = &self.inner.policy;
            let typed =
                Zeroizing::new(pin::normalize_typed(pin.expose_secret(), policy.pin_length).ok_or_else(|| {
                    Error::invalid("pin", format!("enter the {} digits you received", policy.pin_length))
                })?);
            padded!(self, self.verify_pin_checked(flow_id, flow_ref, &typed, ctx))
        })
    }

    async fn verify_pin_checked(
        &self,
        flow_id: &str,
        flow: &CallFlow<'_>,
        typed: &str,
        ctx: &RequestContext,
    ) -> Result<Verified> {
        let policy = &self.inner.policy;
        let now = self.now();

        // What needs no attempt first: a flow that cannot verify says so, and nothing is counted.
        let key = flow_store::flow(flow_id);
        let (record, version, standing) = self.load_flow_and_standing(&key, now).await?;
        let flow_ref = flow.reference(self, &record);
        record.check_verify(now)?;
        let subject = record.subject;
        let mut scope = self.scope(ctx);
        scope.flow_ref = Some(flow_ref);
        scope.user = match &record.who {
            FlowSubject::Real { user, .. } => Some(user.clone()),
            FlowSubject::Decoy { .. } => None,
        };
        scope.channel = record.pin_channel();
        self.refuse_if_blocked(&standing, now, &scope).await?;

        // Compare, and store the verdict with what it changes in the same store call: a
        // right PIN clears the user's counters (the attempt just counted too), a wrong one
        // counts towards the organisation-wide alarm.
        let (failures, sends) = (limits::failures(&subject), limits::user_sends(&subject));
        // This client's own send count too: a user who got in should not find it full.
        let client_sends = self.user_client_sends_key(&subject, ctx);
        // The user's attempts under the previous keys too: a count left there would be carried
        // back under the current key by the next step that reads the ring.
        let previous_failures: Vec<String> = match &record.who {
            FlowSubject::Real { user, .. } => self.previous_user_subjects(user).iter().map(limits::failures).collect(),
            FlowSubject::Decoy { .. } => Vec::new(),
        };
        let (alarm, alarm_ends) = (limits::FAILURE_ALARM, now + limits::HOUR);
        let mut compared_nothing = false;
        let mut step = |current: &FlowRecord| {
            let stored = match current.check_verify(now) {
                Ok(stored) => *stored,
                Err(error) => {
                    compared_nothing = true;
                    return Err(error);
                }
            };
            if pin::matches_any(self.ring(), flow_id, typed, &stored) {
                let next = current.after_right_pin(now);
                // Only a flow verified in full clears the failures: a right PIN for the first of
                // two methods proves one factor, which an attacker may hold (a phished mailbox);
                // clearing there would let them guess the second factor's PIN without end. The
                // send counts go either way (the second method needs its PINs; the destination
                // caps and the SMS budget still bound the sends).
                let cleared = next.is_verified_fully();
                let mut change = FlowChange::to(next);
                change.deletes = vec![sends.as_str(), client_sends.as_str()];
                if cleared {
                    change.deletes.push(failures.as_str());
                    change.deletes.extend(previous_failures.iter().map(String::as_str));
                }
                Ok(change)
            } else {
                let (next, effect) = current.after_wrong_pin();
                let mut change = FlowChange::to(next);
                change.increments = vec![(alarm, alarm_ends)];
                change.out = Some(effect);
                Ok(change)
            }
        };

        // Count the attempt before the verdict: racing requests cannot all slip in before the
        // first failure is counted. One store call (`apply_after`) counts it with a
        // compare-and-set on the attempts record read with the flow and, only if that won,
        // stores the verdict decided on the flow as read: no verdict is written or answered
        // unless its attempt was counted. A lost race on either record goes the long way:
        // count (reading the attempts again), then decide on the flow as it is now.
        let next = match self.next_attempt(&subject, ctx, now, standing)? {
            Ok(next) => next,
            Err(refused) => return Err(self.refuse_attempt(&key, refused, now, &scope).await),
        };
        let failure = match &record.who {
            FlowSubject::Real { .. } => Outcome::Failed { error: "wrong PIN".into() },
            FlowSubject::Decoy { reason } => Outcome::Decoy { reason: *reason },
        };
        // The guess that reaches the user's cap, or its client's, owes the block and its
        // events even if its caller stops once it is stored (an attacker closing the
        // connection to silence the `blocked` event and the host's `user_blocked` hook).
        let owed =
            || [scope.event(AuditKind::PinFailed, failure.clone()), scope.event(AuditKind::Blocked, failure.clone())];
        let mut unrecorded = UnrecordedBlock::arm(self, self.cap_reached(&next.attempt, ctx), subject, now, owed);
        let change = step(&record)?;
        let bytes = self.seal_flow(&key, &change.next)?;
        let batch = Batch {
            reads: change.reads.iter().map(String::as_str).collect(),
            put: Some(Put {
                key: &key,
                value: &bytes,
                expected_version: Some(version),
                expires_at: change.next.expires() + RECORD_GRACE,
            }),
            increments: change.increments.clone(),
            deletes: change.deletes.clone(),
        };
        let first =
            Put { key: &next.key, value: &next.bytes, expected_version: next.version, expires_at: next.keep_until };
        let (attempt, changed) = match self.inner.store.apply_after(&first, &batch, now).await {
            Ok(Some(outcome)) => match (outcome.applied, outcome.version) {
                (true, Some(new_version)) => {
                    let changed = Changed {
                        previous: record,
                        record: change.next,
                        version: new_version,
                        values: outcome.values,
                        counters: outcome.counters,
                        partial: false,
                        out: change.out,
                    };
                    (next.attempt, Ok(changed))
                }
                // Counted, but the flow changed since it was read: decide again.
                _ => (next.attempt, self.update_flow(&key, now, None, &mut step).await),
            },
            // Not counted: what this guess owes is that of the attempt counted now, if any (a
            // guess refused here compared nothing and owes nothing, though another's block
            // holds its client). Armed for the attempt planned on the fresh read, before the
            // count is stored: a caller stopping once it is stored still leaves its events.
            Ok(None) => {
                unrecorded.disarm();
                let fresh = self.standing(&subject, now).await?;
                if let Ok(Ok(planned)) = self.next_attempt(&subject, ctx, now, fresh.clone()) {
                    let cap = self.cap_reached(&planned.attempt, ctx);
                    unrecorded = UnrecordedBlock::arm(self, cap, subject, now, owed);
                }
                let attempt = match self.count_attempt(&subject, ctx, now, fresh).await? {
                    Ok(attempt) => attempt,
                    Err(refused) => {
                        unrecorded.disarm();
                        return Err(self.refuse_attempt(&key, refused, now, &scope).await);
                    }
                };
                (attempt, self.update_flow(&key, now, None, &mut step).await)
            }
            // Which parts were written is unknown. The verdict is written only after the
            // attempt: if the flow holds it, both were.
            Err(error) => match self.load_flow(&key, now).await {
                Ok((stored, stored_version)) if stored_version > version && stored == change.next => {
                    tracing::warn!(error = %error, "a verdict was stored but the rest of its batch failed");
                    let changed = Changed {
                        previous: record,
                        record: change.next,
                        version: stored_version,
                        values: Vec::new(),
                        counters: Vec::new(),
                        partial: true,
                        out: change.out,
                    };
                    (next.attempt, Ok(changed))
                }
                _ => return Err(error.into()),
            },
        };
        let changed = match changed {
            Ok(changed) => changed,
            // A concurrent request verified or voided the PIN first: this attempt compared
            // nothing, so it does not count.
            Err(error) if compared_nothing => {
                unrecorded.disarm();
                self.uncount_attempt(&subject, ctx, now).await;
                return Err(error);
            }
            Err(error) => return Err(error),
        };

        let Some(effect) = changed.out else {
            unrecorded.disarm();
            scope.record(AuditKind::PinVerified, Outcome::Success).await;
            // The PIN is used up: a store failure clearing the counters must not turn the
            // user's success into an error.
            if changed.partial {
                tracing::warn!("could not reset a counter after a verified PIN");
            }
            let next = changed.record;
            if !next.is_verified_fully() {
                // The count was left (see the step): take back only this right PIN's own attempt.
                self.uncount_attempt(&subject, ctx, now).await;
                let remaining = next.remaining_methods().iter().map(|c| c.method_id().to_owned()).collect();
                return Ok(Verified { modes: Vec::new(), remaining_methods: remaining });
            }
            return Ok(Verified { modes: self.completion_modes(), remaining_methods: Vec::new() });
        };

        scope.record(AuditKind::PinFailed, failure.clone()).await;
        unrecorded.recorded(AuditKind::PinFailed);
        if effect == WrongPinEffect::Voided {
            scope.record(AuditKind::PinVoided, failure.clone()).await;
        }
        match changed.counters.first() {
            Some(counter) => self.alarm_if_reached(*counter, &scope).await,
            None => tracing::warn!("could not count a failed verification for the alarm"),
        }

        let until = if attempt.count >= policy.user_failures_before_block {
            Some(self.block(&subject, now).await?)
        } else {
            attempt.client_blocked_until
        };
        unrecorded.disarm();
        if let Some(until) = until {
            scope.record(AuditKind::Blocked, failure).await;
            return Err(Error::Blocked { until });
        }
        Err(match effect {
            WrongPinEffect::TriesLeft(attempts_left) => Error::WrongPin { attempts_left },
            WrongPinEffect::Voided => Error::PinVoided,
        })
    }

    /// The completion modes the policy allows, the default first.
    pub fn completion_modes(&self) -> Vec<CompletionMode> {
        [CompletionMode::Temporary, CompletionMode::Chosen, CompletionMode::UnlockOnly]
            .into_iter()
            .filter(|mode| self.mode_allowed(*mode))
            .collect()
    }

    fn mode_allowed(&self, mode: CompletionMode) -> bool {
        match mode {
            CompletionMode::Temporary => true,
            CompletionMode::Chosen => self.inner.policy.allow_chosen_password,
            CompletionMode::UnlockOnly => self.inner.policy.allow_unlock_only,
        }
    }

    /// Finish a verified reset: set a temporary password (returned once, must be changed at
    /// next sign-in), set the password the user chose, or only unlock the account.
    ///
    /// Everything that could have changed since the PIN was verified is checked again: the
    /// account (disabled, expired, privileged, out of scope), whether self-service reset is
    /// still enabled for the user, whether every contact a PIN of this flow went to is still
    /// registered and usable (`Expired` otherwise: a number taken off the account after its
    /// PIN was sent proves nothing), and whether the user (or this client) has been blocked.
    ///
    /// Exactly one of several concurrent calls on one flow acts; the others get
    /// `InvalidState` or `AlreadyUsed`. The one that acts holds the flow for a lease of
    /// `COMPLETION_LEASE_SECS` (120 s), and its directory work is cut off after
    /// `COMPLETION_DEADLINE_SECS` (60 s) on the engine's [`crate::Timer`]: another call takes
    /// a stranded flow over only after the lease, when the first has certainly stopped, so
    /// two writes never overlap. A holder that is cut off, or whose flow was taken over
    /// anyway (clock skew), reports an error, never a password. If the directory fails,
    /// nothing was changed, the flow stays verified and the call can be retried (at once,
    /// or after the lease when the directory did not answer in time). A call dropped before
    /// its directory write began (the client went away during a slow password check) gives
    /// the flow back on the engine's spawner: a retry after [`Sspr::flush_deliveries`], or a
    /// moment later, is not refused for the lease. A call dropped once its write may have
    /// begun tells the owner's contacts (and the audit trail, "the password may be set") on
    /// the spawner, so no reset is silent.
    ///
    /// Errors: `NotAllowed` (mode switched off, account disabled, privileged or ineligible
    /// since, self-service reset disabled for the user), `Blocked`, `PasswordRejected` (a
    /// chosen password refused by the policy or the directory), `Expired`, `AlreadyUsed`,
    /// `InvalidState`, `PinVoided`, `Backend`.
    pub async fn complete_reset(
        &self,
        flow_id: &str,
        new_password: NewPassword,
        ctx: &RequestContext,
    ) -> Result<ResetOutcome> {
        observed!(self, complete_reset, flow(flow_id) => flow_ref, async move {
            let flow_id = parse_flow_id(flow_id)?;
            let mode = new_password.mode();
            if !self.mode_allowed(mode) {
                return Err(Error::NotAllowed { reason: NotAllowedReason::ModeDisabled });
            }
            let now = self.now();

            // Take the completion lease, reading the user's block and attempts in the same store
            // call; a blocked user, or a chosen password that is refused, gives it back at once.
            let key = flow_store::flow(flow_id);
            let (loaded, version) = self.load_flow(&key, now).await?;
            let mut scope = self.scope(ctx);
            scope.flow_ref = Some(flow_ref.reference(self, &loaded));
            scope.mode = Some(mode);
            let flow_ref = scope.flow_ref.as_deref().unwrap_or_default();
            loaded.check_complete(now)?;
            let FlowSubject::Real { user: user_id, login } = &loaded.who else {
                return Err(Error::InvalidState { reason: "the PIN was not verified" });
            };
            let user = self.recheck_user(&loaded, user_id, login, now).await?;
            let subject = loaded.subject;
            // A helpdesk code still pending for the user ends here, in the lease's own store
            // call (its key shares the block's hash tag, so no extra round trip even on a
            // cluster): from the lease on the user holds a verified flow, which a retry completes.
            let pending_code = limits::recovery(&subject);
            let changed = self
                .update_flow(&key, now, Some((loaded, version)), |record: &FlowRecord| {
                    // A lost race re-decides on the record as it is now (its user, checked
                    // above, cannot change).
                    record.check_complete(now)?;
                    if record.subject != subject {
                        return Err(Error::Expired);
                    }
                    let mut change = FlowChange::<()>::to(record.completing(now));
                    change.reads = Vec::from(Standing::keys(&record.subject));
                    // After the standing's two: when self-service was last switched off for
                    // the user (its key shares the block's hash tag).
                    change.reads.push(limits::disabled(&record.subject));
                    change.deletes = vec![pending_code.as_str()];
                    Ok(change)
                })
                .await?;
            let leased_version = changed.version;
            let record = changed.previous;
            let mut lease = UnusedLease::new(self, &key, &record, leased_version, now);
            scope.user = Some(user.id.clone());
            let standing = match changed.partial {
                false => Standing::from_values(&changed.values),
                true => self.standing(&record.subject, now).await?,
            };
            let mut refused = self.refuse_if_blocked(&standing, now, &scope).await.err();
            // Begun before an administrator switched self-service off for the user (an
            // incident): switched back on since, it still does not complete (R.6). The mark
            // is held a second past the last live second of every flow begun before it, so a
            // flow expiring before the mark's end began before the disable (or in its second).
            let disabled_until = match changed.partial {
                false => changed.values.get(2).and_then(Option::as_ref).and_then(limits::held_until),
                true => {
                    let mark = self.inner.store.get(&limits::disabled(&record.subject), now).await?;
                    mark.as_ref().and_then(limits::held_until)
                }
            };
            if refused.is_none() && disabled_until.is_some_and(|until| record.expires_at < crate::flow::ts(until)) {
                let outcome = Outcome::Failed { error: "begun before self-service was switched off for the user".into() };
                scope.record(AuditKind::ResetFailed, outcome).await;
                refused = Some(Error::Expired);
            }
            if refused.is_none()
                && let NewPassword::Chosen(password) = &new_password
            {
                refused = self.check_chosen_password(&user, password, &scope).await.err();
            }
            if let Some(error) = refused {
                // Nothing was done: give the verified flow back.
                lease.disarm();
                if self.put_flow(&key, &record, Some(leased_version), now).await.ok().flatten().is_none() {
                    tracing::warn!(flow_ref = %flow_ref, "could not release a refused completion");
                }
                return Err(error);
            }

            // The contacts are read before the directory write: once the password is set, the
            // "password reset" notice must reach them even if the contact store then fails (a
            // silent reset is how an account is taken over unnoticed). A store that cannot be
            // read now fails the completion while nothing has changed yet.
            let unlock_only = mode == CompletionMode::UnlockOnly;
            let mut unannounced = UnannouncedChange::unarmed(None);
            let completion = async {
                let contacts = self.inner.contacts.get(&user.id).await?;
                // From here the password may be written even if this request stops: the lease
                // stays until it runs out, and the owner is told on the spawner if this request
                // stops before its own notices leave (a client closing its connection on a
                // password it chose, while the flow is marked completed, left a silent reset).
                lease.disarm();
                unannounced = UnannouncedChange::arm(
                    self,
                    scope.event(
                        AuditKind::ResetCompleted,
                        Outcome::Failed { error: "the request stopped during or after the directory write".into() },
                    ),
                    Some((record.locale, Message::PasswordReset { unlock_only })),
                    contacts,
                );
                self.apply_completion(&user, new_password).await
            };
            let failed = |error: Error| async {
                scope.record(AuditKind::ResetFailed, Outcome::Failed { error: error.to_string() }).await;
                Err(error)
            };
            let done = self.within_completion_deadline(now, completion).await;
            // This request goes on from here and owes the announcement itself.
            let Some(result) = done else {
                // Cut off by the engine (the write stopped with its future): answered as a
                // failure to retry, as before, not announced.
                unannounced.disarm();
                // Cut off: the lease stays, so nobody takes the flow over until it runs out, long
                // after this request stopped writing. The user retries then.
                return failed(Error::Backend {
                    source: BackendError::new(
                        BackendErrorKind::Unavailable,
                        "the directory did not answer in time; try again in a few minutes",
                    ),
                })
                .await;
            };
            match result {
                Ok(outcome) => {
                    match self.put_flow(&key, &record.completed(now), Some(leased_version), now).await {
                        Ok(Some(_)) => {}
                        // Another request took the flow over: its password is the one that counts.
                        Ok(None) => {
                            // The request that took over announces its own password.
                            unannounced.disarm();
                            return failed(Error::InvalidState { reason: "another request took this reset over" })
                                .await;
                        }
                        // The password is set: the user must get it even if the store fails now.
                        Err(e) => tracing::error!(flow_ref = %flow_ref, error = %e, "could not mark a completed flow"),
                    }
                    let event = scope.event(AuditKind::ResetCompleted, Outcome::Success);
                    // The password is set and this request owns the flow: the rest is bookkeeping,
                    // handed off so that a hanging audit sink or contact store cannot keep the
                    // temporary password from the user who is waiting for it.
                    // Each part on its own, so that one hanging backend stops only its own part.
                    let sspr = self.clone();
                    self.hand_off(FirstStep::Here, async move { sspr.audit(event).await }).await;
                    // Told from here on (the notices leave at their first wait).
                    let contacts = unannounced.disarm();
                    self.after_reset(&user, contacts, record.locale, unlock_only, now).await;
                    Ok(outcome)
                }
                Err(error) => {
                    // The directory refused or failed: nothing to announce. Give the verified
                    // flow back so the user can retry.
                    unannounced.disarm();
                    lease.disarm();
                    if self.put_flow(&key, &record, Some(leased_version), now).await.ok().flatten().is_none() {
                        tracing::warn!(flow_ref = %flow_ref, "could not release a failed completion");
                    }
                    failed(error).await
                }
            }
        })
    }

    /// Run a completion's directory work, cut off `COMPLETION_DEADLINE_SECS` after the lease
    /// was taken at `leased_at`, on the engine's timer (`None`), so that it has stopped well
    /// before its lease runs out and another request may take the flow over. Without a
    /// timer, or with one that only simulates waiting (a test clock), the work runs to its end.
    async fn within_completion_deadline<T>(
        &self,
        leased_at: OffsetDateTime,
        work: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        if !matches!(&self.inner.timer, Some(timer) if !timer.is_simulated()) {
            return Some(work.await);
        }
        let deadline = time::Duration::seconds(i64::try_from(crate::flow::COMPLETION_DEADLINE_SECS).unwrap_or(60));
        let left = deadline - (self.now() - leased_at);
        if !left.is_positive() {
            return None;
        }
        self.within(left.unsigned_abs(), work).await
    }

    /// Look the user up again at completion: the account may have been disabled, moved or
    /// made privileged, self-service reset switched off for it, or a contact `flow` proved
    /// removed or replaced, since the PIN was sent.
    async fn recheck_user(
        &self,
        flow: &FlowRecord,
        user_id: &crate::api::UserId,
        login: &NormalizedLogin,
        now: OffsetDateTime,
    ) -> Result<DirectoryUser> {
        let proven_methods = flow.required_methods;
        let user = self.inner.directory.find_user(login).await?.filter(|u| &u.id == user_id).ok_or(Error::Expired)?;
        if user.state.disabled || user.state.expired {
            return Err(Error::NotAllowed { reason: NotAllowedReason::AccountDisabled });
        }
        // Made privileged since the flow began: only if it already proved two methods.
        if self.inner.scope.is_privileged(&user)
            && (self.inner.policy.privileged_mode == PrivilegedMode::Refuse || proven_methods < 2)
        {
            return Err(Error::NotAllowed { reason: NotAllowedReason::Privileged });
        }
        if !self.inner.scope.is_eligible(&user) {
            return Err(Error::NotAllowed { reason: NotAllowedReason::Ineligible });
        }
        // An admin may have switched self-service reset off for the user since (an incident).
        let enrollment = self.inner.contacts.get(&user.id).await?.unwrap_or_default();
        if !enrollment.enabled {
            return Err(Error::NotAllowed { reason: NotAllowedReason::NotEnabled });
        }
        // A destination the flow proved and that was removed or replaced since (a stolen phone
        // taken off the account after its PIN was sent) proves nothing any more: as `send_pin`
        // refuses to send to it, the PIN it received does not complete the reset.
        if flow.proven_destinations().any(|to| !self.is_usable(&enrollment, to, now)) {
            return Err(Error::Expired);
        }
        Ok(user)
    }

    /// The directory work of a completion. Unlock comes first: if setting the password then
    /// fails, an unlocked account with its old password is a harmless state to retry from.
    async fn apply_completion(&self, user: &DirectoryUser, new_password: NewPassword) -> Result<ResetOutcome> {
        let directory = &self.inner.directory;
        let unlocked = user.state.locked || matches!(new_password, NewPassword::UnlockOnly);
        if unlocked {
            directory.unlock(&user.id).await?;
        }
        match new_password {
            NewPassword::UnlockOnly => Ok(ResetOutcome { temporary_password: None, must_change: false, unlocked }),
            NewPassword::Chosen(password) => match directory.set_password(&user.id, &password, false).await {
                Ok(()) => Ok(ResetOutcome { temporary_password: None, must_change: false, unlocked }),
                Err(e) if e.kind() == BackendErrorKind::PasswordRejected => Err(Error::PasswordRejected {
                    refusal: e.refusal().unwrap_or(crate::backend::PasswordRefusal::Unspecified),
                    reason: e.message().to_owned(),
                    suggestions: Vec::new(),
                }),
                Err(e) => Err(e.into()),
            },
            NewPassword::Temporary => {
                let tokens = password::identity_tokens(&user.login, &user.display_name);
                let length = self.inner.policy.temp_password_length;
                let mut last_error = None;
                for _ in 0..TEMP_PASSWORD_TRIES {
                    let temporary: Password =
                        self.inner.rng.with(|rng| password::generate_temporary(rng, length, &tokens));
                    match directory.set_password(&user.id, &temporary, true).await {
                        Ok(()) => {
                            return Ok(ResetOutcome {
                                temporary_password: Some(temporary),
                                must_change: true,
                                unlocked,
                            });
                        }
                        // The directory's own policy refused it: draw another.
                        Err(e) if e.kind() == BackendErrorKind::PasswordRejected => last_error = Some(e),
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(last_error.map_or_else(super::limits::contention, Error::from))
            }
        }
    }

    /// Bookkeeping after a reset: tell every contact, and remember when. The contacts read
    /// before the password was set (`read_before`) are told first, off the request path, so a
    /// contact store that fails or hangs now cannot make the reset silent; without that read,
    /// the notice goes to the contacts as read when the time is recorded, whatever happens to
    /// the write.
    async fn after_reset(
        &self,
        user: &DirectoryUser,
        read_before: Option<Enrollment>,
        locale: crate::api::Locale,
        unlock_only: bool,
        now: OffsetDateTime,
    ) {
        let message = Message::PasswordReset { unlock_only };
        // The contacts read just before the password was set are told at once: neither a
        // failing nor a hanging contact store may make the reset silent (issue 11 item 5).
        let told = read_before.is_some();
        if let Some(enrollment) = &read_before {
            self.notify_all(self.contact_destinations(enrollment, now), locale, message.clone(), now).await;
        }
        // Recorded before answering, on the request: `status` tells it as soon as the call
        // returns, and a host-language contact store is called where its event loop runs. A
        // contact store that hangs here still holds the answer (docs/THREAT_MODEL.md, open).
        if let Some(read) = self.record_reset_time(&user.id, now).await
            && !told
        {
            self.notify_all(self.contact_destinations(&read, now), locale, message, now).await;
        }
    }

    /// Remember when the user's password was reset; returns the user's enrollment (for the
    /// notices), if any could be read, whether or not the write succeeded.
    async fn record_reset_time(&self, user: &crate::api::UserId, now: OffsetDateTime) -> Option<Enrollment> {
        let update = self
            .update_enrollment(user, |stored| {
                Ok(stored.map(|current| Enrollment { last_reset_at: Some(now), ..current.clone() }))
            })
            .await;
        match update {
            Ok(update) => update.saved.or(update.read),
            Err(e) => {
                tracing::warn!(error = %e, "could not record the time of the reset");
                // The notices still go out: read the contacts once more for them.
                self.inner.contacts.get(user).await.ok().flatten()
            }
        }
    }

    /// Every destination notices about an enrollment go to: its contacts, including those
    /// still cooling off, and those the user removed recently (SMS only while enabled).
    pub(super) fn contact_destinations(&self, enrollment: &Enrollment, now: OffsetDateTime) -> Vec<Destination> {
        let current = enrollment
            .email
            .as_ref()
            .map(|c| Destination::Email(c.value.clone()))
            .into_iter()
            .chain(enrollment.phone.as_ref().map(|c| Destination::Sms(c.value.clone())));
        let mut all: Vec<Destination> = Vec::new();
        for to in current.chain(enrollment.recently_removed(now).cloned()) {
            let allowed = to.channel() == Channel::Email || self.inner.policy.sms_enabled;
            if allowed && !all.contains(&to) {
                all.push(to);
            }
        }
        all
    }

    /// Send a notice to each destination; a failure is logged, never fatal (the change it
    /// reports has already happened).
    pub(super) async fn notify_all(
        &self,
        destinations: Vec<Destination>,
        locale: crate::api::Locale,
        message: Message,
        now: OffsetDateTime,
    ) {
        if destinations.is_empty() {
            return;
        }
        // Off the request path like PINs, one task each: a notifier hanging on one address
        // must neither hold the answer (after a reset, the caller's temporary password)
        // hostage nor silence the other addresses.
        for to in destinations {
            let notification = Notification { to, locale, message: message.clone(), at: self.local_time(now) };
            let sspr = self.clone();
            self.hand_off(FirstStep::Here, async move {
                if let Err(e) = sspr.inner.notifier.send(&notification).await {
                    tracing::warn!(channel = ?notification.to.channel(), error = %e, "a notice could not be delivered");
                }
            })
            .await;
        }
    }
}

/// The guess that may reach the user's cap or its client's, from before its attempt is
/// stored until its block is written. If its caller stops in between (its future dropped: a
/// client gone, a host's timeout), the attempts record already holds the user (or the
/// client) off, but the user's block record and the `pin_failed` and `blocked` events (the
/// host's `user_blocked` hook, the blocks metric) would be lost. On the spawner, if the
/// attempts record shows the cap reached (the attempt was stored and its PIN was wrong: a
/// right one deletes the record), the user's block is written and the events still owed are
/// recorded.
struct UnrecordedBlock {
    #[allow(clippy::type_complexity)]
    release: Option<Box<(Sspr, Cap, limits::Subject, Vec<crate::audit::AuditEvent>, OffsetDateTime)>>,
}

impl Sspr {
    /// The cap `attempt` reaches, if any: the user's, or its client's (`ctx`).
    fn cap_reached(&self, attempt: &limits::Attempt, ctx: &RequestContext) -> Option<Cap> {
        if attempt.count >= self.inner.policy.user_failures_before_block {
            Some(Cap::User)
        } else {
            attempt.client_blocked_until.map(|_| Cap::Client(self.client_tags(ctx)))
        }
    }
}

/// Which cap a guess reaches.
enum Cap {
    /// The user's (`user_failures_before_block`): a block record is written.
    User,
    /// Only its client's (`client_failures_before_block`), whose tags these are: the block is
    /// the client's entry in the attempts record, written with the attempt.
    Client(Vec<[u8; 8]>),
}

impl UnrecordedBlock {
    /// Armed when the guess reaches a `cap` (and the engine has a spawner); `events` made
    /// only then (the usual guess reaches none).
    fn arm(
        sspr: &Sspr,
        cap: Option<Cap>,
        subject: limits::Subject,
        now: OffsetDateTime,
        events: impl FnOnce() -> [crate::audit::AuditEvent; 2],
    ) -> Self {
        let release = cap
            .filter(|_| sspr.inner.spawner.is_some())
            .map(|cap| Box::new((sspr.clone(), cap, subject, events().into(), now)));
        Self { release }
    }

    /// The event of `kind` was recorded by the call itself.
    fn recorded(&mut self, kind: AuditKind) {
        if let Some(owed) = self.release.as_mut() {
            owed.3.retain(|e| e.kind != kind);
        }
    }

    /// The call writes the block itself from here (or there is none to write).
    fn disarm(&mut self) {
        self.release = None;
    }
}

impl Drop for UnrecordedBlock {
    fn drop(&mut self) {
        let Some(owed) = self.release.take() else { return };
        let (sspr, cap, subject, events, now) = *owed;
        let engine = sspr.clone();
        engine.spawn_detached(async move {
            let held = match &cap {
                Cap::User => sspr.held_at_cap(&subject, now).await,
                Cap::Client(tags) => sspr.client_held(&subject, tags, now).await,
            };
            match held {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the attempts of a guess that stopped at the cap");
                    return;
                }
            }
            if matches!(cap, Cap::User)
                && let Err(e) = sspr.block(&subject, now).await
            {
                // The attempts record still holds the user off for the block's length.
                tracing::warn!(error = %e, "could not write the block of a guess that stopped at the cap");
            }
            for event in events {
                sspr.audit(event).await;
            }
        });
    }
}

/// A completion lease taken by a request that has not begun its directory write. If the
/// request stops there (its future dropped: the client went away during a slow password
/// check or store), the flow is given back on the engine's spawner, so the user's retry is
/// not refused as "another request is completing this reset" for the rest of the lease.
/// Once the write may have begun, [`UnusedLease::disarm`] keeps the lease until it runs out:
/// a write still in flight must not race a retry's.
struct UnusedLease {
    release: Option<(Sspr, FlowSlot, FlowRecord, u64, OffsetDateTime)>,
}

impl UnusedLease {
    fn new(sspr: &Sspr, key: &FlowSlot, record: &FlowRecord, version: u64, now: OffsetDateTime) -> Self {
        let release = sspr.inner.spawner.is_some().then(|| (sspr.clone(), key.clone(), record.clone(), version, now));
        Self { release }
    }

    /// The write may begin (or the request gives the flow back itself): keep the lease.
    fn disarm(&mut self) {
        self.release = None;
    }
}

impl Drop for UnusedLease {
    fn drop(&mut self) {
        let Some((sspr, key, record, version, now)) = self.release.take() else { return };
        let engine = sspr.clone();
        engine.spawn_detached(async move {
            // Compare-and-set on the leased version: a retry that already took the flow over
            // after the lease is left alone.
            if sspr.put_flow(&key, &record, Some(version), now).await.ok().flatten().is_none() {
                tracing::warn!("could not give back the flow of a completion that stopped before writing");
            }
        });
    }
}
