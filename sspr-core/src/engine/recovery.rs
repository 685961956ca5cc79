//! Helpdesk recovery: a user with no usable contact calls the helpdesk, and an administrator
//! issues a one-time recovery code ([`Sspr::admin_recovery`]) which the user redeems
//! ([`Sspr::redeem_recovery_code`]) to reach the same verified step a right PIN reaches, so
//! the reset completes through [`Sspr::complete_reset`] unchanged.
//!
//! The pattern is the contact proof's ([`super::proof`]): one pending code per user in the
//! state store under a keyed hash of the user; the code only as a keyed hash bound to its
//! purpose, its id and the user (it cannot redeem another login); every redemption attempt
//! counted in the same compare-and-set that records its result, so a right code is spent
//! exactly once and at most `max_wrong_pins` guesses are ever compared before the code is
//! dead. Redemption is anonymous (the user is not signed in), so it answers like the reset
//! PIN step: padded to `min_response_ms`, and every refusal (an unknown login, no code, a
//! wrong, spent, voided or expired code) is the same `WrongPin { attempts_left: 0 }`; only
//! the audit trail tells them apart. The one exception is for the code's holder: the spent
//! code typed again (a double submit's twin) is `AlreadyUsed`, as a verified PIN's twin is.

use super::instrument::observed;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::delivery::{FirstStep, PinDelivery};
use super::flow_store;
use super::limits::{self, Limit};
use super::reset::RECORD_GRACE;
use super::spent::{self, GiveBack, Mark};
use super::{MAX_CAS_ROUNDS, Sspr};
use crate::api::{Actor, Channel, Destination, Recovered, RecoveryCode, RecoverySent, RequestContext, UserId};
use crate::audit::{AuditKind, Outcome};
use crate::backend::{DirectoryUser, Enrollment};
use crate::error::{Error, NotAllowedReason, Result};
use crate::flow::{FlowRecord, FlowSubject, from_ts, ts};
use crate::hex;
use crate::input::NormalizedLogin;
use crate::notice::{Message, Notification, PinPurpose};
use crate::pin;

/// Digits of a recovery code: read out over the phone, so digits only; the attempt cap, not
/// the length, is what stops guessing, but ten digits leave no reasonable chance at all.
pub const RECOVERY_CODE_DIGITS: u32 = 10;

/// How long a recovery code lives.
pub const RECOVERY_CODE_LIFETIME: time::Duration = time::Duration::minutes(15);

/// A recovery code waiting to be redeemed, as stored (never the code itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingRecovery {
    code_id: String,
    /// The code's keyed hash, bound to the purpose, the code id and the user.
    code_hash: String,
    /// Unix seconds.
    expires_at: i64,
    /// Redemption attempts made, the right one included.
    attempts: u32,
    /// The attempts per client (the keyed client tag PIN attempts use): `max_wrong_pins`
    /// from one client end the code for that client only; four times that from all clients
    /// end it for everyone. (Absent in codes issued before: none counted.)
    #[serde(default)]
    clients: Vec<([u8; 8], u32)>,
    /// The right code was typed: the code is spent.
    used: bool,
    /// The token of the redemption that spent it ([`super::spent`]): how that redemption
    /// knows its own mark when the store lost the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mark: Option<String>,
}

/// What a recovery code's hash is bound to.
fn binding(code_id: &str, user: &UserId) -> String {
    format!("helpdesk-recovery/{code_id}/{}", user.as_str())
}

/// What a redeemed code's hash, kept under the login to recognise its twin, is bound to.
fn spent_binding(login: &limits::Subject) -> String {
    format!("helpdesk-recovery-spent/{}", hex::encode(login))
}

/// The code a login last redeemed, noted under the login's keyed subject so its twin is
/// recognised before anything is counted: the code's keyed hash (bound to the login), and
/// where its pending record is, which must still hold it spent (a reset or a change ends it).
#[derive(Debug, Serialize, Deserialize)]
struct SpentNote {
    hash: String,
    pending_key: String,
    code_id: String,
}

/// What [`Sspr::issue_recovery`] did with the code.
enum Issued {
    /// Returned for the administrator to read out.
    Shown { code: crate::secret::Pin, expires_at: OffsetDateTime },
    /// Sent to the user's contact.
    Sent(RecoverySent),
}

/// The one answer to every refused redemption (see the module's documentation).
fn refused() -> Error {
    Error::WrongPin { attempts_left: 0 }
}

impl Sspr {
    /// Why `user` may not be recovered by a helpdesk code, if so. Stricter than self-service:
    /// a privileged account is refused whatever the policy's `privileged_mode`, since a code
    /// is one factor and `TwoMethods` asks for two.
    fn recovery_refusal(&self, user: &DirectoryUser) -> Option<NotAllowedReason> {
        if user.state.disabled || user.state.expired {
            Some(NotAllowedReason::AccountDisabled)
        } else if self.inner.scope.is_privileged(user) {
            Some(NotAllowedReason::Privileged)
        } else if !self.inner.scope.is_eligible(user) {
            Some(NotAllowedReason::Ineligible)
        } else {
            None
        }
    }

    /// Issue a one-time recovery code for `login`, for an administrator (`actor`) to read out
    /// to the user once: it is returned here and nowhere else (not stored, logged nor
    /// audited). It works once, for [`RECOVERY_CODE_LIFETIME`], for this user only; a new
    /// code replaces the user's pending one, and a reset the user completes (by a PIN too)
    /// ends it. The user's contacts, if any, are told.
    ///
    /// To send the code to one of the user's registered contacts instead of showing it, see
    /// [`Sspr::admin_send_recovery_code`]: the same code, delivered the other way.
    ///
    /// Errors: `NotAllowed` (`AdminOnly` for a user actor; `Privileged`, `AccountDisabled`,
    /// `Ineligible`, `NotEnabled` (self-service is off for the user: enable it first) for the
    /// account: nothing is stored), `Blocked` (the user is blocked, as someone guessing their
    /// PINs leaves them: the reset the code leads to would be refused at completion; lift the
    /// block with [`Sspr::unblock`] once you know who called; nothing is stored),
    /// `InvalidInput` (a malformed login), `UnknownUser`, `RateLimited` (per administrator
    /// client), `Backend`.
    pub async fn admin_recovery(&self, actor: &Actor, login: &str, ctx: &RequestContext) -> Result<RecoveryCode> {
        observed!(self, admin_recovery, async move {
            match self.issue_recovery(actor, login, None, ctx).await? {
                Issued::Shown { code, expires_at } => Ok(RecoveryCode { code, expires_at }),
                Issued::Sent(_) => Err(Error::Config("a recovery code to show was sent".into())),
            }
        })
    }

    /// Issue a one-time recovery code for `login`, as [`Sspr::admin_recovery`] does, and send
    /// it to the user's registered contact by `channel` instead of showing it: for a caller
    /// the helpdesk cannot identify well enough to read a code out to, but whose registered
    /// contact the helpdesk trusts. The administrator learns only the masked destination; the
    /// user redeems the code with [`Sspr::redeem_recovery_code`] as any recovery code.
    ///
    /// The contact must be one a reset PIN could go to: registered, self-service enabled,
    /// past its cooling-off, and for SMS while the policy allows SMS. Limited as reset PINs
    /// are: per administrator client, per destination (shared with reset PINs and contact
    /// proofs) and, for SMS, by the SMS budget; a limit refuses out loud here (the
    /// administrator is signed in and learns nothing an attacker could use).
    ///
    /// Errors: as [`Sspr::admin_recovery`], and `InvalidInput` (field `channel`: the user has
    /// no usable contact by that channel; nothing is stored or sent).
    pub async fn admin_send_recovery_code(
        &self,
        actor: &Actor,
        login: &str,
        channel: Channel,
        ctx: &RequestContext,
    ) -> Result<RecoverySent> {
        observed!(self, admin_send_recovery_code, async move {
            match self.issue_recovery(actor, login, Some(channel), ctx).await? {
                Issued::Sent(sent) => Ok(sent),
                Issued::Shown { .. } => Err(Error::Config("a recovery code to send was not sent".into())),
            }
        })
    }

    /// The one way a recovery code is issued: checks, limits, the pending code stored, the
    /// audit event, then the code shown (`send_to` none) or sent to the user's contact by
    /// `send_to`, and the user's contacts told.
    async fn issue_recovery(
        &self,
        actor: &Actor,
        login: &str,
        send_to: Option<Channel>,
        ctx: &RequestContext,
    ) -> Result<Issued> {
        Self::require_admin(actor)?;
        let user = self.resolve(login).await?;
        let mut scope = self.admin_scope(ctx, actor, &user);
        scope.channel = send_to;
        if let Some(reason) = self.recovery_refusal(&user) {
            scope.record(AuditKind::RecoveryIssued, Outcome::Refused { reason }).await;
            return Err(Error::NotAllowed { reason });
        }
        let now = self.now();
        let enrollment = self.inner.contacts.get(&user.id).await?.unwrap_or_default();
        // Self-service switched off for the user (an incident, or never enabled): the reset a
        // code leads to would be refused at completion, so refuse now and say why; the
        // administrator may enable the user first.
        if !enrollment.enabled {
            let reason = NotAllowedReason::NotEnabled;
            scope.record(AuditKind::RecoveryIssued, Outcome::Refused { reason }).await;
            return Err(Error::NotAllowed { reason });
        }
        // Blocked (an attacker guessing the user's PINs earns them one: 11.9, and that user is
        // who calls the helpdesk): the reset would be refused at completion, after the code was
        // spent. Say so now; the administrator lifts the block first.
        if let Some(until) = self.user_blocked_until(&user.id, now).await? {
            scope.record(AuditKind::RecoveryIssued, Outcome::Limited { limit: "blocked".into() }).await;
            return Err(Error::Blocked { until });
        }
        // Where a sent code goes: only where a reset PIN could go.
        let destination = match send_to {
            None => None,
            Some(channel) => match self.usable_destination(&enrollment, channel, now) {
                Some(to) => Some(to),
                None => {
                    let outcome = Outcome::Failed { error: "no usable contact by that channel".into() };
                    scope.record(AuditKind::RecoveryIssued, outcome).await;
                    return Err(Error::invalid("channel", "the user has no usable contact by this channel"));
                }
            },
        };
        let mut checks: Vec<Limit> =
            self.ip_limit(ctx, "ip_recoveries", self.inner.policy.ip_sends_per_hour).into_iter().collect();
        if let Some(to) = &destination {
            checks.extend(self.destination_limits(to.as_str(), ctx));
        }
        let mut refused = self.enforce(&checks, now).await?;
        if refused.is_none() && destination.as_ref().is_some_and(|to| to.channel() == Channel::Sms) {
            refused = self.enforce_sms_budget(false, now).await?;
        }
        if let Some(refusal) = refused {
            scope.record(AuditKind::RecoveryIssued, refusal.outcome()).await;
            return Err(refusal.error());
        }
        let code_id = hex::encode(&self.inner.rng.bytes::<16>());
        let code = self.inner.rng.with(|rng| pin::generate(rng, RECOVERY_CODE_DIGITS));
        let expires_at = from_ts(ts(now + RECOVERY_CODE_LIFETIME));
        let pending = PendingRecovery {
            code_hash: hex::encode(&pin::hash(&self.inner.key, &binding(&code_id, &user.id), code.expose_secret())),
            code_id,
            expires_at: ts(expires_at),
            attempts: 0,
            clients: Vec::new(),
            used: false,
            mark: None,
        };
        self.replace_recovery(&self.recovery_key(&user.id), &pending, now).await?;
        let mut event = scope.event(AuditKind::RecoveryIssued, Outcome::Success);
        event.destination = destination.as_ref().map(Destination::masked);
        let issued = match destination {
            None => {
                self.audit(event).await;
                Issued::Shown { code, expires_at }
            }
            Some(to) => {
                let masked = to.masked();
                let channel = to.channel();
                self.audit(event.clone()).await;
                let valid_minutes = crate::notice::minutes_left(expires_at, now);
                let notification = Notification {
                    to,
                    locale: ctx.locale,
                    message: Message::Pin {
                        pin: code,
                        expires_at,
                        valid_minutes,
                        purpose: PinPurpose::HelpdeskRecovery,
                    },
                    at: self.local_time(now),
                };
                // As a reset PIN: off the request path, retried, a failure audited.
                self.deliver(
                    PinDelivery { notification, event, pin_expires_at: expires_at, notices: Vec::new() },
                    FirstStep::Here,
                )
                .await;
                Issued::Sent(RecoverySent { channel, masked, expires_at })
            }
        };
        self.notify_recovery(&enrollment, ctx, false, now).await;
        Ok(issued)
    }

    /// Redeem a helpdesk recovery code for `login`: the right code starts a reset flow that is
    /// already verified, as if a right PIN had been typed; give its `flow_id` to
    /// [`Sspr::complete_reset`]. The answer is padded to the policy's `min_response_ms`.
    /// Limited per client (`ip_recovery_redeems`, the policy's `ip_begins_per_hour`), per
    /// login and client (`recovery_redeems`, twice the policy's `max_wrong_pins` an hour) and
    /// per login from all clients (`recovery_redeems_all_clients`, four times that), counted
    /// before anything is compared; a code itself is dead for a client after `max_wrong_pins`
    /// tries from it, and for everyone after four times that from all clients, so a stranger's
    /// guesses do not kill the code of the caller on another line.
    ///
    /// Errors: `InvalidInput` (a malformed login, or a code that is not
    /// [`RECOVERY_CODE_DIGITS`] digits: nothing is counted), `WrongPin { attempts_left: 0 }`
    /// (every refusal alike, so the answer says nothing about the login), `AlreadyUsed` (the
    /// right code, already spent: a double submit's twin; only the code's holder can get it,
    /// and once the redemption that spent it has answered, it is not counted),
    /// `RateLimited`, `Backend`.
    pub async fn redeem_recovery_code(&self, login: &str, code: &str, ctx: &RequestContext) -> Result<Recovered> {
        observed!(self, redeem_recovery_code, span => call, async move {
            let login = NormalizedLogin::parse(login)?;
            let Some(code) = pin::normalize_typed(code, RECOVERY_CODE_DIGITS) else {
                return Err(Error::invalid(
                    "code",
                    format!("enter the {RECOVERY_CODE_DIGITS} digits the helpdesk gave you"),
                ));
            };
            let code = zeroize::Zeroizing::new(code);
            padded!(self, self.redeem_checked(login, &code, ctx, call))
        })
    }

    async fn redeem_checked(
        &self,
        login: NormalizedLogin,
        code: &str,
        ctx: &RequestContext,
        call: &tracing::Span,
    ) -> Result<Recovered> {
        let now = self.now();
        let mut scope = self.scope(ctx);
        scope.login_fingerprint = Some(self.login_fingerprint(&login));
        let subject = self.login_subject(&login);
        // The code this login last redeemed, typed again (a double submit's twin, a back
        // button): `AlreadyUsed`, and not counted, so the user's retries are not spent on it.
        // One store read by login, for every login alike (and, for the noted code only, a read
        // of its pending record, which must still hold it spent: once a reset or a change ended
        // it, it is refused like any other). No oracle: only that (dead) code answers so, and
        // every other code goes on to be counted before it is compared.
        let spent_key = limits::recovery_spent(&subject);
        let noted = self.inner.store.get(&spent_key, now).await?;
        if let Some(note) = noted.as_ref().and_then(|n| serde_json::from_slice::<SpentNote>(&n.value).ok())
            && hex::decode(&note.hash)
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .is_some_and(|hash| pin::matches(&self.inner.key, &spent_binding(&subject), code, &hash))
            && self.inner.store.get(&note.pending_key, now).await?.is_some_and(|stored| {
                serde_json::from_slice::<PendingRecovery>(&stored.value)
                    .is_ok_and(|pending| pending.used && pending.code_id == note.code_id)
            })
        {
            scope.record(AuditKind::RecoveryRedeemed, Outcome::Failed { error: "code already used".into() }).await;
            return Err(Error::AlreadyUsed);
        }
        // Counted per login, not per user, and before the directory is asked: an unknown login
        // is counted and refused exactly like a real one.
        let mut checks = Vec::from(self.recovery_redeem_limits(&subject, ctx));
        checks.extend(self.ip_limit(ctx, "ip_recovery_redeems", self.inner.policy.ip_begins_per_hour));
        if let Some(refusal) = self.enforce(&checks, now).await? {
            scope.record(AuditKind::RecoveryRedeemed, refusal.outcome()).await;
            return Err(refusal.error());
        }

        let found = self.inner.directory.find_user(&login).await?;
        // Only the account's own login redeems (as only it starts a real reset).
        let user = found.filter(|u| NormalizedLogin::parse(&u.login).is_ok_and(|own| own.as_str() == login.as_str()));
        // The same store read for an unknown login, under its own (never written) key.
        let key = match &user {
            Some(user) => self.recovery_key(&user.id),
            None => limits::recovery(&subject),
        };
        let Some(user) = user else {
            self.inner.store.get(&key, now).await?;
            scope.record(AuditKind::RecoveryRedeemed, Outcome::Failed { error: "unknown login".into() }).await;
            return Err(refused());
        };
        scope.user = Some(user.id.clone());
        let fail = |why: &str| Outcome::Failed { error: why.into() };
        let tags = self.client_tags(ctx);
        let max_wrong = self.inner.policy.max_wrong_pins;
        for _ in 0..MAX_CAS_ROUNDS {
            let Some(stored) = self.inner.store.get(&key, now).await? else {
                scope.record(AuditKind::RecoveryRedeemed, fail("no pending code")).await;
                return Err(refused());
            };
            let Ok(pending) = serde_json::from_slice::<PendingRecovery>(&stored.value) else {
                scope.record(AuditKind::RecoveryRedeemed, fail("no pending code")).await;
                return Err(refused());
            };
            let why = if pending.used {
                Some("code already used")
            } else if pending.expires_at <= ts(now) {
                Some("code expired")
            } else if pending.attempts >= max_wrong.saturating_mul(crate::Policy::ALL_CLIENTS_FACTOR) {
                Some("code voided")
            } else if pending.clients.iter().any(|(tag, n)| tags.contains(tag) && *n >= max_wrong) {
                // This client's tries are spent; the caller on another line still has theirs.
                Some("code voided for this client")
            } else {
                None
            };
            if let Some(why) = why {
                scope.record(AuditKind::RecoveryRedeemed, fail(why)).await;
                // The twin of a double submit (or a back button) typed the code that was just
                // spent: say so, as `verify_pin` does, rather than "wrong code" while the reset
                // goes on in the other answer. Only the code's holder can get this answer, so
                // it tells nobody else anything (14.5c); a spent code is dead, so confirming it
                // helps no guesser.
                if pending.used && self.code_matches(&pending, &user.id, code) {
                    return Err(Error::AlreadyUsed);
                }
                return Err(refused());
            }
            let right = self.code_matches(&pending, &user.id, code);
            // Checked again at redemption: the account may have changed since the code was issued.
            let refusal = if right { self.recovery_refusal(&user) } else { None };
            // The flow is stored before the code is marked used, under an id nobody learns until
            // the mark is made: a store that dies between the two writes leaves the code for the
            // user's retry (and an orphan flow that expires), never the code spent without a flow.
            // The contacts are read before anything is spent: a redemption the owner is not
            // told of is one a phisher who talked the helpdesk round would want.
            let recovered = if right && refusal.is_none() {
                let enrollment = self.inner.contacts.get(&user.id).await?.unwrap_or_default();
                Some((self.start_recovered_flow(&user, login.clone(), ctx, now).await?, enrollment))
            } else {
                None
            };
            let mark = right.then(|| spent::token(self));
            let mut next = PendingRecovery { attempts: pending.attempts + 1, used: right, mark, ..pending.clone() };
            match next.clients.iter_mut().find(|(tag, _)| tags.contains(tag)) {
                Some((_, n)) => *n = n.saturating_add(1),
                None => next.clients.push((tags.first().copied().unwrap_or_default(), 1)),
            }
            let back = PendingRecovery { used: false, mark: None, ..next.clone() };
            let mark = Mark::new(&key, &next, &back, from_ts(next.expires_at), now, spent::json("a recovery code"))?;
            // Until the flow's id is handed over, a redemption that stops (a client gone, a
            // host's timeout, an error) deletes its flow and, if its mark was made, gives the
            // code back on the spawner: the user's retry must not find it spent with no flow.
            // The spent-code record is deleted with it: the code must not read as spent.
            let mut unserved = match &recovered {
                Some((r, _)) => {
                    GiveBack::arm(self, mark.clone(), vec![flow_store::flow(&r.flow_id).to_string(), spent_key.clone()])
                }
                None => GiveBack::default(),
            };
            // Only a right code's mark carries a token to recognise it by: a wrong code's lost
            // answer stays an error (its attempt counted or not, never both).
            let put = if right {
                self.put_mark(&mark, stored.version).await?
            } else {
                self.inner.store.put(&key, &mark.marked, Some(stored.version), mark.keep_until, now).await?
            };
            if put.is_none() {
                unserved.disarm();
                if let Some((orphan, _)) = &recovered
                    && let Err(e) = self.inner.store.delete(&flow_store::flow(&orphan.flow_id)).await
                {
                    tracing::warn!(error = %e, "an unused recovered flow could not be deleted (it expires)");
                }
                continue; // another redemption counted first: judge again on what it left
            }
            if let Some(reason) = refusal {
                scope.record(AuditKind::RecoveryRedeemed, Outcome::Refused { reason }).await;
                return Err(refused());
            }
            let Some((recovered, enrollment)) = recovered else {
                scope.record(AuditKind::RecoveryRedeemed, fail("wrong code")).await;
                return Err(refused());
            };
            // Its twin is now recognised before counting (see above), in place of the code
            // noted before, if any (a lost race leaves the other's); a failure costs the twin
            // one counted try, nothing else.
            let note = SpentNote {
                hash: hex::encode(&pin::hash(&self.inner.key, &spent_binding(&subject), code)),
                pending_key: key.clone(),
                code_id: pending.code_id.clone(),
            };
            let note = serde_json::to_vec(&note).map_err(|e| Error::Config(format!("a recovery code: {e}")))?;
            let noted = noted.as_ref().map(|n| n.version);
            if let Err(e) = self.inner.store.put(&spent_key, &note, noted, mark.keep_until, now).await {
                tracing::warn!(error = %e, "a redeemed recovery code could not be noted as spent");
            }
            scope.flow_ref = Some(self.flow_ref(&recovered.flow_id));
            call.record("sspr.flow", scope.flow_ref.as_deref().unwrap_or_default());
            scope.record(AuditKind::RecoveryRedeemed, Outcome::Success).await;
            self.notify_recovery(&enrollment, ctx, true, now).await;
            unserved.disarm();
            return Ok(recovered);
        }
        Err(limits::contention())
    }

    /// Store a new reset flow for `user`, verified already.
    async fn start_recovered_flow(
        &self,
        user: &DirectoryUser,
        login: NormalizedLogin,
        ctx: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<Recovered> {
        let flow_id = hex::encode(&self.inner.rng.bytes::<16>());
        let expires_at = now + self.inner.policy.flow_lifetime();
        let who = FlowSubject::Real { user: user.id.clone(), login };
        let record =
            FlowRecord::new(self.user_subject(&user.id), who, Vec::new(), ctx.locale, expires_at, 1).recovered(now);
        let key = flow_store::flow(&flow_id);
        let bytes = self.seal_flow(&key, &record)?;
        if self.inner.store.put(&key, &bytes, None, record.expires() + RECORD_GRACE, now).await?.is_none() {
            return Err(limits::contention());
        }
        Ok(Recovered { flow_id, modes: self.completion_modes(), expires_at: record.expires() })
    }

    /// Whether `code` is the pending code's (compared in constant time).
    fn code_matches(&self, pending: &PendingRecovery, user: &UserId, code: &str) -> bool {
        let stored_hash = hex::decode(&pending.code_hash).and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
        stored_hash.is_some_and(|hash| pin::matches(&self.inner.key, &binding(&pending.code_id, user), code, &hash))
    }

    /// The key of `user`'s pending recovery code (a reset or a password change ends it).
    pub(super) fn recovery_key(&self, user: &UserId) -> String {
        limits::recovery(&self.user_subject(user))
    }

    /// Store `pending` as the user's one pending recovery code, whatever was there.
    async fn replace_recovery(&self, key: &str, pending: &PendingRecovery, now: OffsetDateTime) -> Result<()> {
        let bytes = serde_json::to_vec(pending).map_err(|e| Error::Config(format!("a recovery code: {e}")))?;
        let keep_until = from_ts(pending.expires_at) + time::Duration::minutes(1);
        for _ in 0..MAX_CAS_ROUNDS {
            let current = self.inner.store.get(key, now).await?.map(|stored| stored.version);
            if self.inner.store.put(key, &bytes, current, keep_until, now).await?.is_some() {
                return Ok(());
            }
        }
        Err(limits::contention())
    }

    /// Tell every contact of the user that a recovery code was issued or redeemed (a user
    /// with none is told nothing: that is why they called the helpdesk).
    async fn notify_recovery(
        &self,
        enrollment: &Enrollment,
        ctx: &RequestContext,
        redeemed: bool,
        now: OffsetDateTime,
    ) {
        let to = self.contact_destinations(enrollment, now);
        self.notify_all(to, ctx.locale, Message::HelpdeskRecovery { redeemed }, now).await;
    }
}
