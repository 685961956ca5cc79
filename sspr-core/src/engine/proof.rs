//! Proof of possession for a new contact. A user who adds or changes an alternate e-mail or
//! mobile gets a one-time code **at the new contact**, and the contact is saved only when
//! the code is typed back: a typo cannot lock the user out of their own reset, and someone
//! who learned the password cannot register an address they do not control without also
//! reading it. The cooling-off and the notice to the old contacts then apply as for any
//! change a user makes ([`Sspr::update_contacts`]).
//!
//! One proof is pending per user at a time, in the state store under a keyed hash of the
//! user (so two portal instances agree). Its code is stored only as a keyed hash bound to the
//! proof, the user and the destination: a code cannot confirm another destination, another
//! user or another proof. Every confirmation attempt is counted by the same compare-and-set
//! that records its result, so two racing confirmations cannot both count as first, and a
//! right code is spent exactly once.

use super::instrument::observed;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::delivery::{FirstStep, PinDelivery};
use super::limits::{self, HOUR, Limit};
use super::spent::{self, GiveBack, Mark};
use super::{MAX_CAS_ROUNDS, Sspr};
use crate::api::{Actor, Channel, ContactChange, ContactProof, ContactUpdate, Contacts, Destination, RequestContext};
use crate::audit::{AuditKind, Outcome};
use crate::error::{Error, NotAllowedReason, Result};
use crate::flow::{from_ts, ts};
use crate::hex;
use crate::input::{EmailAddress, PhoneNumber};
use crate::notice::{Message, Notification, PinPurpose};
use crate::pin;

/// A proof waiting for its code, as stored (never the code itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingProof {
    proof_id: String,
    destination: Destination,
    /// The code's keyed hash, bound to the proof, the user and the destination.
    code_hash: String,
    /// Unix seconds.
    expires_at: i64,
    /// Confirmation attempts made, the right one included.
    attempts: u32,
    /// The right code was typed: the proof is spent.
    used: bool,
    /// The token of the confirmation that spent it ([`super::spent`]): how that confirmation
    /// knows its own mark when the store lost the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mark: Option<String>,
}

/// What a proof's code hash is bound to.
fn binding(proof_id: &str, user: &crate::api::UserId, destination: &Destination) -> String {
    format!("contact-proof/{proof_id}/{}/{}", user.as_str(), destination.as_str())
}

impl Sspr {
    /// Whether `actor` must prove a new contact before it is saved: users always, unless
    /// the policy's `user_contacts_need_proof` is off; admins when `admin_contacts_need_proof`
    /// is on.
    pub(super) fn contacts_need_proof(&self, actor: &Actor) -> bool {
        match actor {
            Actor::User => self.inner.policy.user_contacts_need_proof,
            Actor::Admin(_) => self.inner.policy.admin_contacts_need_proof,
        }
    }

    /// The key of `user`'s pending proof (an administrator's disable ends it).
    pub(super) fn proof_key(&self, user: &crate::api::UserId) -> String {
        limits::contact_proof(&self.user_subject(user))
    }

    /// Send a one-time code to a contact the user wants to add or change to (`channel`:
    /// e-mail or SMS; `value`: the address or number). The contact is saved only by
    /// [`Sspr::confirm_contact_proof`] with that code; a new request replaces the user's
    /// pending proof (its code no longer works). Limited per user (the policy's
    /// `contact_proofs_per_hour`), per client and per destination; over the destination's
    /// cap nothing is sent and the answer does not say so, as for a reset PIN, so the proof
    /// cannot be used to flood an address nor to learn how busy it is. A code by SMS also
    /// spends the policy's `sms_budget_per_hour`, as a reset PIN does (refused out loud).
    ///
    /// Errors: `InvalidInput` (a malformed address or number, named by its field; an SMS
    /// contact while SMS is off, field `channel`: nothing is counted, stored or sent), `UnknownUser`, `NotAllowed`
    /// (ineligible; not enabled, the account disabled or expired, or privileged, when the user acts),
    /// `RateLimited`, `Backend`.
    pub async fn request_contact_proof(
        &self,
        actor: &Actor,
        login: &str,
        channel: Channel,
        value: &str,
        ctx: &RequestContext,
    ) -> Result<ContactProof> {
        observed!(self, request_contact_proof, async move {
            let user = self.resolve(login).await?;
            self.user_may_change_contacts(actor, &user)?;
            if !self.inner.scope.is_eligible(&user) {
                return Err(Error::NotAllowed { reason: NotAllowedReason::Ineligible });
            }
            let destination = match channel {
                Channel::Email => Destination::Email(EmailAddress::parse(value)?),
                // Off means off on every path: each proof code is a paid message to a number
                // the caller chose.
                Channel::Sms if !self.inner.policy.sms_enabled => {
                    return Err(Error::invalid("channel", "text messages are switched off"));
                }
                Channel::Sms => {
                    Destination::Sms(PhoneNumber::parse_in(value, self.inner.policy.default_region.as_deref())?)
                }
            };
            let enrollment = self.inner.contacts.get(&user.id).await?.unwrap_or_default();
            if matches!(actor, Actor::User) && !enrollment.enabled {
                return Err(Error::NotAllowed { reason: NotAllowedReason::NotEnabled });
            }
            let mut scope = self.scope(ctx);
            scope.actor = Some(actor.clone());
            scope.user = Some(user.id.clone());
            scope.channel = Some(channel);
            let now = self.now();

            let subject = self.user_subject(&user.id);
            let mut checks = vec![Limit {
                key: limits::contact_proofs(&subject),
                cap: self.inner.policy.contact_proofs_per_hour,
                window: HOUR,
                name: "contact_proofs",
            }];
            checks.extend(self.ip_limit(ctx, "ip_proofs", self.inner.policy.ip_sends_per_hour));
            // Last and quiet (both: per client and from all clients): shared with reset PINs, so an address gets at most the policy's
            // `destination_sends_per_hour` codes of either kind.
            checks.extend(self.destination_limits(destination.as_str(), ctx));
            let requests: Vec<(&str, OffsetDateTime)> =
                checks.iter().map(|l| (l.key.as_str(), now + l.window)).collect();
            let counters = self.inner.store.increment_many(&requests, now).await?;
            let (mut refused, destination_full) = limits::judge_quietly(&checks, &counters, now);
            // An SMS that will go out spends the deployment's SMS budget, as a reset PIN does
            // (SMS pumping: many accounts, each naming numbers of its own).
            if refused.is_none() && !destination_full && channel == Channel::Sms {
                refused = self.enforce_sms_budget(false, now).await?;
            }
            if let Some(refusal) = refused {
                scope.record(AuditKind::ContactProofSent, refusal.outcome()).await;
                return Err(refusal.error());
            }

            let proof_id = hex::encode(&self.inner.rng.bytes::<16>());
            let code = self.inner.rng.with(|rng| pin::generate(rng, self.inner.policy.pin_length));
            let expires_at = from_ts(ts(now + self.inner.policy.pin_lifetime()));
            let pending = PendingProof {
                code_hash: hex::encode(&pin::hash(
                    &self.inner.key,
                    &binding(&proof_id, &user.id, &destination),
                    code.expose_secret(),
                )),
                proof_id: proof_id.clone(),
                destination: destination.clone(),
                expires_at: ts(expires_at),
                attempts: 0,
                used: false,
                mark: None,
            };
            self.replace_proof(&self.proof_key(&user.id), &pending, now).await?;

            let masked = destination.masked();
            let mut event = scope.event(AuditKind::ContactProofSent, Outcome::Success);
            event.destination = Some(masked.clone());
            if destination_full {
                event.outcome = Outcome::Limited { limit: "destination".into() };
                self.audit(event).await;
            } else {
                self.audit(event.clone()).await;
                let valid_minutes = crate::notice::minutes_left(expires_at, now);
                let notification = Notification {
                    to: destination,
                    locale: ctx.locale,
                    message: Message::Pin { pin: code, expires_at, valid_minutes, purpose: PinPurpose::ContactProof },
                    at: self.local_time(now),
                };
                self.deliver(
                    PinDelivery { notification, event, pin_expires_at: expires_at, notices: Vec::new() },
                    FirstStep::Here,
                )
                .await;
            }
            Ok(ContactProof { proof_id, channel, masked, expires_at })
        })
    }

    /// Store `pending` as the user's one pending proof, whatever was there.
    async fn replace_proof(&self, key: &str, pending: &PendingProof, now: OffsetDateTime) -> Result<()> {
        let bytes = serde_json::to_vec(pending).map_err(|e| Error::Config(format!("a contact proof: {e}")))?;
        let keep_until = from_ts(pending.expires_at) + time::Duration::minutes(1);
        for _ in 0..MAX_CAS_ROUNDS {
            let current = self.inner.store.get(key, now).await?.map(|stored| stored.version);
            if self.inner.store.put(key, &bytes, current, keep_until, now).await?.is_some() {
                return Ok(());
            }
        }
        Err(limits::contention())
    }

    /// Save the contact of the user's pending proof `proof_id` if `code` is its code. The
    /// change is then made as [`Sspr::update_contacts`] makes one for `actor`: a user's new
    /// contact cools off, and every contact registered before is told.
    ///
    /// Errors: `InvalidInput` (`code` is not a code of the policy's length; nothing is
    /// counted), `WrongPin` (with the attempts left), `PinVoided` (too many wrong codes:
    /// request a new one), `Expired` (no such pending proof: it expired, or a newer request
    /// replaced it), `AlreadyUsed`, `UnknownUser`, `NotAllowed`, `Backend`.
    pub async fn confirm_contact_proof(
        &self,
        actor: &Actor,
        login: &str,
        proof_id: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<Contacts> {
        observed!(self, confirm_contact_proof, async move {
            let user = self.resolve(login).await?;
            // Before the code is read: a session of a disabled account spends nothing.
            self.user_may_change_contacts(actor, &user)?;
            let Some(code) = pin::normalize_typed(code, self.inner.policy.pin_length) else {
                return Err(Error::InvalidInput { field: "code", reason: "not a code of the expected length".into() });
            };
            let mut scope = self.scope(ctx);
            scope.actor = Some(actor.clone());
            scope.user = Some(user.id.clone());
            let key = self.proof_key(&user.id);
            let now = self.now();
            let max_attempts = self.inner.policy.max_wrong_pins;
            for _ in 0..MAX_CAS_ROUNDS {
                let Some(stored) = self.inner.store.get(&key, now).await? else {
                    return Err(Error::Expired);
                };
                let pending: PendingProof = serde_json::from_slice(&stored.value).map_err(|_| Error::Expired)?;
                // A proof id that is not the pending one is a replaced or made-up proof.
                if !bool::from(subtle::ConstantTimeEq::ct_eq(pending.proof_id.as_bytes(), proof_id.as_bytes())) {
                    return Err(Error::Expired);
                }
                if pending.used {
                    return Err(Error::AlreadyUsed);
                }
                if pending.expires_at <= ts(now) {
                    return Err(Error::Expired);
                }
                if pending.attempts >= max_attempts {
                    return Err(Error::PinVoided);
                }
                scope.channel = Some(pending.destination.channel());
                let stored_hash = hex::decode(&pending.code_hash).and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
                let right = stored_hash.is_some_and(|hash| {
                    pin::matches(
                        &self.inner.key,
                        &binding(&pending.proof_id, &user.id, &pending.destination),
                        &code,
                        &hash,
                    )
                });
                let mark = right.then(|| spent::token(self));
                let next = PendingProof { attempts: pending.attempts + 1, used: right, mark, ..pending.clone() };
                let back = PendingProof { used: false, mark: None, ..next.clone() };
                let mark = Mark::new(&key, &next, &back, from_ts(next.expires_at), now, "a contact proof")?;
                // Given back on the spawner if this call stops before the save answers (a client
                // gone, a host's timeout), the mark made or perhaps made: the user's retry must
                // not find the code spent and their address unchanged.
                let mut unsaved =
                    if right { GiveBack::arm(self, mark.clone(), Vec::new()) } else { GiveBack::default() };
                // Only a right code's mark carries a token to recognise it by: a wrong code's
                // lost answer stays an error (its attempt counted or not, never both).
                let put = if right {
                    self.put_mark(&mark, stored.version).await?
                } else {
                    self.inner.store.put(&key, &mark.marked, Some(stored.version), mark.keep_until, now).await?
                };
                let Some(version) = put else {
                    unsaved.disarm();
                    continue; // another confirmation counted first: judge again on what it left
                };
                if !right {
                    let left = max_attempts.saturating_sub(next.attempts);
                    let outcome = Outcome::Failed { error: "wrong code".into() };
                    scope.record(AuditKind::ContactProofFailed, outcome).await;
                    return Err(if left == 0 { Error::PinVoided } else { Error::WrongPin { attempts_left: left } });
                }
                let update = match &pending.destination {
                    Destination::Email(address) => ContactUpdate {
                        email: ContactChange::Set(address.as_str().to_owned()),
                        phone: ContactChange::Keep,
                    },
                    Destination::Sms(number) => ContactUpdate {
                        email: ContactChange::Keep,
                        phone: ContactChange::Set(number.as_str().to_owned()),
                    },
                };
                let saved = self.change_contacts(actor, &user, update, ctx, true).await;
                unsaved.disarm();
                return match saved {
                    Ok(contacts) => Ok(contacts),
                    Err(error) => {
                        // Nothing was saved: give the code back (the attempt stays counted), so a
                        // failing contact store does not cost the user their proof.
                        if let Err(e) =
                            self.inner.store.put(&key, &mark.back, Some(version), mark.keep_until, now).await
                        {
                            tracing::warn!(error = %e, "a spent contact proof could not be given back");
                        }
                        Err(error)
                    }
                };
            }
            Err(limits::contention())
        })
    }
}
