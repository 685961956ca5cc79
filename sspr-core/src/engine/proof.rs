//! Proof of possession for a new contact. A user who adds or changes an alternate e-mail or
//! mobile gets a one-time code **at the new contact**, and the contact is saved only when
//! the code is typed back: a typo cannot lock the user out of their own reset, and someone
//! who learned the password cannot register an address they do not control without also
//! reading it. The cooling-off and the notice to the old contacts then apply as for any
//! change a user makes ([`Sspr::update_contacts`]).
//!
//! One proof is pending per user at a time, in the state store under a keyed hash of the
//! user (so two portal instances agree), sealed ([`ProofSlot`]): a reader of the store does not
//! learn the address being proven. Its code is stored only as a keyed hash bound to the
//! proof, the user and the destination: a code cannot confirm another destination, another
//! user or another proof. Every confirmation attempt is counted by the same compare-and-set
//! that records its result, so two racing confirmations cannot both count as first, and a
//! right code is spent exactly once.

use super::instrument::observed;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::delivery::{FirstStep, PinDelivery};
use super::limits::{self, HOUR, Limit, Subject};
use super::sealed::{Nonce, Place, SealKey};
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

/// The first byte of a stored proof: how the rest is sealed (`0` was XChaCha20-Poly1305 with a
/// 192-bit nonce; `0xff` is ChaCha20-Poly1305 with a 96-bit one, so a value of either layout
/// read by the other's code does not open). Not a link's length (above
/// [`crate::backend::MAX_LINK`]): a proof names no link ([`crate::backend::link_of`] finds none
/// in it).
const FORMAT: u8 = 0xff;
const _: () = assert!(FORMAT as usize > crate::backend::MAX_LINK);
/// What the key a user's proof is sealed with is derived under, with the user's subject.
const PROOF_SEAL_LABEL: &[u8] = b"contact-proof-seal";
/// The start of every sealed proof's associated data.
const PROOF_AAD_DOMAIN: &[u8] = b"sspr/v1/contact-proof\0";
/// A sealed proof is this many bytes (before its tag), whatever the address: the longest
/// pending proof, with a 254-character address, a spent mark, every count at its largest and
/// an expiry in the year 9999, is 513 bytes of JSON and its padding byte (a unit test checks
/// it fits), so the value's length does not tell how long the address is, nor an e-mail
/// address from a phone number.
const PADDED_TO: usize = 576;

/// Where a user's pending proof is stored (a keyed hash of the user) and the key it is sealed
/// with: `HMAC-SHA256` under the **current** server key's subject sub-key, of
/// [`PROOF_SEAL_LABEL`] and the user's subject. A proof is read by user, without anything
/// else the store does not hold, so its key cannot come from a secret the user carries (as a
/// flow's comes from its id); the server key is the one the store never sees. A key rotation
/// changes both the store key and the seal key: a proof pending then is lost (the user asks for
/// a new code), as it was before it was sealed.
struct ProofSlot {
    key: String,
    seal: SealKey,
}

impl ProofSlot {
    /// Where this proof is stored, as its associated data binds it: a proof moved under another
    /// user's key does not open there. The store key is of one length.
    fn place(&self) -> Place<'_> {
        Place { domain: PROOF_AAD_DOMAIN, store_key: &self.key, block: PADDED_TO }
    }

    /// `pending` as stored: [`FORMAT`] in clear, then its JSON sealed under `nonce`, which must
    /// never have sealed anything under this key ([`Sspr::fresh_nonce`]).
    fn seal(&self, pending: &PendingProof, nonce: Nonce) -> Result<Vec<u8>> {
        self.seal.seal(self.place(), &[FORMAT], nonce, "a contact proof", |mut out| {
            serde_json::to_writer(&mut out, pending).map_err(|e| Error::Config(format!("a contact proof: {e}")))?;
            Ok(out)
        })
    }

    /// The proof in a value [`Self::seal`] stored here, or `None` (changed in any way, cut
    /// short, sealed for another user or under another server key, of another format): the
    /// caller answers it as no pending proof.
    fn open(&self, value: Vec<u8>) -> Option<PendingProof> {
        if value.first() != Some(&FORMAT) {
            return None;
        }
        serde_json::from_slice(self.seal.open(self.place(), 1, value)?.record()).ok()
    }
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

    /// Where the pending proof of the user whose subject is `subject` is stored, and its seal
    /// key ([`ProofSlot`]).
    fn proof_slot(&self, subject: &Subject) -> ProofSlot {
        let seal = SealKey::new(self.subject_seal_key(PROOF_SEAL_LABEL, subject));
        ProofSlot { key: limits::contact_proof(subject), seal }
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
            self.replace_proof(&self.proof_slot(&subject), &pending, now).await?;

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

    /// Store `pending` as the user's one pending proof, whatever was there. Sealed once: a
    /// round that loses its compare-and-set writes the same bytes again, never another record
    /// under the same nonce.
    async fn replace_proof(&self, slot: &ProofSlot, pending: &PendingProof, now: OffsetDateTime) -> Result<()> {
        let bytes = slot.seal(pending, self.fresh_nonce())?;
        let keep_until = from_ts(pending.expires_at) + time::Duration::minutes(1);
        let key = slot.key.as_str();
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
    /// request a new one), `Expired` (no such pending proof: it expired, a newer request
    /// replaced it, the server key was rotated since, or what the store holds there does not
    /// open: nothing is counted or written), `AlreadyUsed`, `UnknownUser`, `NotAllowed`,
    /// `Backend`.
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
            let slot = self.proof_slot(&self.user_subject(&user.id));
            let key = slot.key.as_str();
            let now = self.now();
            let max_attempts = self.inner.policy.max_wrong_pins;
            for _ in 0..MAX_CAS_ROUNDS {
                let Some(stored) = self.inner.store.get(key, now).await? else {
                    return Err(Error::Expired);
                };
                // Changed, cut short, moved from another user's key, or of the plain format
                // before the upgrade: no pending proof, and nothing is written.
                let Some(pending) = slot.open(stored.value) else {
                    tracing::warn!(
                        "a contact proof in the state store did not open (changed or moved there): read as none"
                    );
                    return Err(Error::Expired);
                };
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
                // Each sealed once, under a nonce of its own: the read-backs compare these bytes.
                let seal = |proof: &PendingProof| slot.seal(proof, self.fresh_nonce());
                let mark = Mark::new(key, &next, &back, from_ts(next.expires_at), now, seal)?;
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
                    self.inner.store.put(key, &mark.marked, Some(stored.version), mark.keep_until, now).await?
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
                        if let Err(e) = self.inner.store.put(key, &mark.back, Some(version), mark.keep_until, now).await
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

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::super::sealed::{NONCE, TAG};
    use super::*;

    fn slot(subject: u8, key: u8) -> ProofSlot {
        ProofSlot { key: limits::contact_proof(&[subject; 16]), seal: SealKey::new(Zeroizing::new([key; 32])) }
    }

    fn proof(destination: Destination) -> PendingProof {
        PendingProof {
            proof_id: "0123456789abcdef0123456789abcdef".into(),
            destination,
            code_hash: "ab".repeat(32),
            expires_at: 1_772_442_000,
            attempts: 0,
            used: false,
            mark: None,
        }
    }

    fn email(address: &str) -> Destination {
        Destination::Email(EmailAddress::parse(address).unwrap())
    }

    #[test]
    fn a_proof_opens_only_under_its_users_key_and_seal_key() {
        let pending = proof(email("alice.new@mail.example"));
        let sealed = slot(1, 7).seal(&pending, [3; NONCE]).unwrap();
        assert_eq!(slot(1, 7).open(sealed.clone()), Some(pending));
        // Another user's key (the value moved), another server key (a rotation).
        assert_eq!(slot(2, 7).open(sealed.clone()), None);
        assert_eq!(slot(1, 8).open(sealed.clone()), None);
        // Any byte changed, the value cut short; the JSON of the version before.
        for i in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[i] ^= 0x10;
            assert_eq!(slot(1, 7).open(changed), None, "a change at byte {i} opened");
        }
        assert_eq!(slot(1, 7).open(sealed[..sealed.len() - 1].to_vec()), None);
        let plain = serde_json::to_vec(&proof(email("alice.new@mail.example"))).unwrap();
        assert_eq!(slot(1, 7).open(plain), None);
    }

    #[test]
    fn every_proof_is_one_block_whatever_its_address_and_holds_no_part_of_it_in_clear() {
        // The longest address accepted (254 characters) and the largest counts: one block.
        let local = "l".repeat(64);
        let domain = format!("{}.{}.{}.example", "a".repeat(63), "b".repeat(63), "c".repeat(53));
        let longest = format!("{local}@{domain}");
        assert_eq!(longest.len(), 254);
        let mut big = proof(email(&longest));
        (big.attempts, big.used, big.mark) = (u32::MAX, true, Some("f".repeat(16)));
        big.expires_at = 253_402_300_799; // 9999-12-31
        let json = serde_json::to_vec(&big).unwrap().len();
        assert!(json < PADDED_TO, "{json} bytes of JSON and the padding byte do not fit in {PADDED_TO}");
        let short = proof(email("a@b.example"));
        let phone = proof(Destination::Sms(PhoneNumber::parse("+447400900123").unwrap()));
        for pending in [&big, &short, &phone] {
            let sealed = slot(1, 7).seal(pending, [4; NONCE]).unwrap();
            assert_eq!(sealed.len(), 1 + NONCE + PADDED_TO + TAG);
            assert_eq!(sealed.len(), 605, "the length THREAT_MODEL.md gives");
            let text = String::from_utf8_lossy(&sealed);
            for clear in ["lllll", "aaaaa", "example", "b.example", "7400900123", "proof_id"] {
                assert!(!text.contains(clear), "{clear} in clear");
            }
            assert_eq!(crate::backend::link_of(&sealed), None, "a proof names no link");
        }
    }
}
