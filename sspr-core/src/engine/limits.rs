//! State-store keys and the rate-limit checks built on them. Keys never hold a login, an
//! address or a user id in clear: those are keyed hashes, so a shared Redis reveals nothing.
//! Nor a flow id, a bearer credential: a flow is stored under a hash of its id
//! ([`super::flow_store::FlowKey`]).

use std::net::IpAddr;
use std::time::Duration;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use serde::{Deserialize, Serialize};

use super::{AuditScope, Sspr};
use crate::alarm::FailureAlarm;
use crate::api::{RequestContext, UserId};
use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::backend::{Batch, StoredValue};
use crate::error::{Error, Result};
use crate::flow::{from_ts, ts};
use crate::hex;
use crate::input::NormalizedLogin;
use crate::secret::{KeyPurpose, SecretKey};

/// A limit that refused a request.
pub(super) struct Refusal {
    pub(super) retry_after: Duration,
    pub(super) limit: &'static str,
}

impl Refusal {
    pub(super) fn outcome(&self) -> Outcome {
        Outcome::Limited { limit: self.limit.to_owned() }
    }
    pub(super) fn error(&self) -> Error {
        Error::RateLimited { retry_after: self.retry_after }
    }
}

/// A rate-limit subject: who a limit or block applies to.
pub(super) type Subject = [u8; 16];

/// `sspr/<kind>/<hex of subject>`, in one allocation.
fn subject_key(kind: &str, subject: &Subject) -> String {
    let mut key = String::with_capacity(6 + kind.len() + 2 * subject.len());
    key.push_str("sspr/");
    key.push_str(kind);
    key.push('/');
    hex::encode_into(subject, &mut key);
    key
}

pub(super) fn block(subject: &Subject) -> String {
    subject_key("block", subject)
}
/// A user's verification attempts ([`Attempts`]); deleting it lifts every per-client block
/// of the user.
pub(super) fn failures(subject: &Subject) -> String {
    subject_key("attempts", subject)
}
/// The organisation-wide count of failed verifications in the current hour.
pub(super) const FAILURE_ALARM: &str = "sspr/failure-alarm";
/// SMS sent for users with failed verifications this hour (they may not spend the reserve).
const SMS_BUDGET_FAILED: &str = "sspr/sms-budget-failed";
const SMS_BUDGET: &str = "sspr/sms-budget";
pub(super) fn user_sends(subject: &Subject) -> String {
    subject_key("sends", subject)
}
/// A user's pending contact proof ([`super::proof`]).
pub(super) fn contact_proof(subject: &Subject) -> String {
    subject_key("contact-proof", subject)
}
/// When an administrator last switched self-service off for a user, held (as a block is) until
/// every flow begun before then has expired: `complete_reset` refuses those flows, so a
/// re-enable does not bring them back.
pub(super) fn disabled(subject: &Subject) -> String {
    subject_key("disabled", subject)
}
/// A user's pending helpdesk recovery code ([`super::recovery`]).
pub(super) fn recovery(subject: &Subject) -> String {
    subject_key("recovery", subject)
}
/// The hash of the helpdesk code last redeemed for a login ([`super::recovery`]): its twin,
/// typed again, is recognised before anything is counted.
pub(super) fn recovery_spent(subject: &Subject) -> String {
    subject_key("recovery-spent", subject)
}
/// The recovery-code redemptions tried for a login this hour.
pub(super) fn recovery_redeems(subject: &Subject) -> String {
    subject_key("recovery-redeems", subject)
}
/// The contact proofs a user asked for this hour.
pub(super) fn contact_proofs(subject: &Subject) -> String {
    subject_key("contact-proofs", subject)
}
/// A login's sign-in attempts in its lockout window ([`super::sign_in`]); a record changed by
/// compare-and-set (the counter once kept under `signin-fails` counted failures only after
/// the password was checked).
pub(super) fn sign_in_attempts(subject: &Subject) -> String {
    subject_key("signin-tries", subject)
}
pub(super) fn sign_in_lockout(subject: &Subject) -> String {
    subject_key("signin-lock", subject)
}
/// The begins counted for a typed login by a bot challenge's `after_begins` policy.
pub(super) fn challenge_login(subject: &Subject) -> String {
    subject_key("challenge-login", subject)
}
/// A registration reminder was sent to the user; held for the policy's
/// `reminder_interval_days` ([`super::coverage`]).
pub(super) fn reminded(subject: &Subject) -> String {
    subject_key("reminded", subject)
}

/// A user's PIN sends from one client this hour (a keyed hash of the user and the client).
fn user_client_sends(subject: &Subject) -> String {
    subject_key("sends-client", subject)
}

/// One limit to apply: the counter's key, the cap, the window, and its name for the audit.
pub(super) struct Limit {
    pub(super) key: String,
    pub(super) cap: u32,
    pub(super) window: Duration,
    pub(super) name: &'static str,
}

impl Limit {
    /// The counters to add one to for `limits` (key, expiry if new), in order.
    pub(super) fn requests(limits: &[Limit], now: OffsetDateTime) -> Vec<(&str, OffsetDateTime)> {
        limits.iter().map(|l| (l.key.as_str(), now + l.window)).collect()
    }
}

/// For each limit, its refusal if its counter (in the same order) is over the cap.
fn refusals(limits: &[Limit], counters: &[crate::backend::Counter], now: OffsetDateTime) -> Vec<Option<Refusal>> {
    limits
        .iter()
        .zip(counters)
        .map(|(limit, counter)| {
            (counter.count > u64::from(limit.cap)).then(|| Refusal {
                retry_after: Duration::from_secs(u64::try_from(ts(counter.expires_at) - ts(now)).unwrap_or(0)),
                limit: limit.name,
            })
        })
        .collect()
}

/// What `counters` (counted for `limits`, in order) say, the last limit being quiet: the
/// refusal with the longest wait among the others, and whether the last one is over its cap
/// (for the caller to act on without telling the client).
pub(super) fn judge_quietly(
    limits: &[Limit],
    counters: &[crate::backend::Counter],
    now: OffsetDateTime,
) -> (Option<Refusal>, bool) {
    let mut refusals = refusals(limits, counters, now);
    let quiet = refusals.split_off(refusals.len().saturating_sub(QUIET_LIMITS));
    (longest(refusals), quiet.iter().any(Option::is_some))
}

/// The quiet limits at the end of a list [`judge_quietly`] judges: a destination's two
/// ([`Sspr::destination_limits`]).
const QUIET_LIMITS: usize = 2;

pub(super) const HOUR: Duration = Duration::from_secs(3600);

/// A user's verification attempts in the failure window, kept in one record that changes
/// only by compare-and-set, so that counting, the progressive delay and the per-client
/// blocks are one atomic step. Each attempt is counted *before* its PIN is compared (as if
/// it failed); a right PIN deletes the record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Attempts {
    /// Attempts counted in the window.
    count: u32,
    /// No verification of this user before this time (unix seconds): the progressive delay.
    not_before: i64,
    /// When the window ends.
    window_end: i64,
    /// Attempts per client. At most `user_failures_before_block` clients can have one
    /// before the user is blocked, so the list stays short.
    clients: Vec<ClientAttempts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ClientAttempts {
    /// A keyed tag of the client (not its address).
    client: [u8; 8],
    count: u32,
    /// The end of this client's block for this user (0: none).
    blocked_until: i64,
}

impl Attempts {
    /// Whether the user has failed (or is trying) a verification in the window.
    pub(super) fn any(&self) -> bool {
        self.count > 0
    }
    /// The client's entry, found by its tag under any key of the ring (`tags`).
    fn client(&self, tags: &[[u8; 8]]) -> Option<&ClientAttempts> {
        self.clients.iter().find(|c| tags.contains(&c.client))
    }
    fn client_mut(&mut self, tags: &[[u8; 8]]) -> Option<&mut ClientAttempts> {
        self.clients.iter_mut().find(|c| tags.contains(&c.client))
    }
    /// How long the record must be kept: its window, or its longest client block.
    fn keep_until(&self) -> i64 {
        self.clients.iter().map(|c| c.blocked_until).fold(self.window_end, i64::max)
    }
}

/// A counted attempt that may go on to compare its PIN.
pub(super) struct Attempt {
    /// The user's attempts in the window, this one included.
    pub(super) count: u32,
    /// When this attempt was the one that reached its client's cap: the end of the
    /// client's block (in force if the PIN is wrong).
    pub(super) client_blocked_until: Option<OffsetDateTime>,
}

/// An attempt ready to be stored: the attempts record with it counted, to write with a
/// compare-and-set on `version` ([`Sspr::next_attempt`]).
pub(super) struct NextAttempt {
    pub(super) key: String,
    pub(super) bytes: Vec<u8>,
    /// The version read (`None`: the record was absent).
    pub(super) version: Option<u64>,
    pub(super) keep_until: OffsetDateTime,
    pub(super) attempt: Attempt,
}

/// Why an attempt may not compare its PIN.
pub(super) enum AttemptRefused {
    /// The user is in a progressive delay.
    Delayed(Duration),
    /// This client is blocked for this user until then.
    ClientBlocked(OffsetDateTime),
    /// The user has used every attempt of the window: blocked until then.
    UserCapReached(OffsetDateTime),
}

/// What a subject's keys say when a step reads them (its block and its attempts record),
/// read in the same store call as the step's other work.
#[derive(Clone, Default)]
pub(super) struct Standing {
    /// The end of the subject's block, if one is stored.
    block: Option<OffsetDateTime>,
    /// The attempts record (default when absent) and its version (`None` when absent).
    attempts: Attempts,
    version: Option<u64>,
    /// The block was found under a previous key's subject only: [`Sspr::carry`] copies it.
    carry_block: bool,
    /// The attempts were found under a previous key's subject only: [`Sspr::carry`] copies them.
    carry_attempts: bool,
}

impl Standing {
    /// The keys to read, in the order [`Standing::from_values`] takes their values.
    pub(super) fn keys(subject: &Subject) -> [String; 2] {
        [block(subject), failures(subject)]
    }

    /// The same keys without the subject's hex, for a store to follow a flow record's link
    /// ([`crate::backend::StateStore::get_linked`]).
    pub(super) const PREFIXES: [&'static str; 2] = ["sspr/block/", "sspr/attempts/"];

    /// The keys of the current subject and of the previous keys' subjects (each as
    /// [`Standing::keys`]), read in one call and parsed by [`Standing::from_ring_values`].
    pub(super) fn ring_keys(subject: &Subject, previous: &[Subject]) -> Vec<String> {
        std::iter::once(subject).chain(previous).flat_map(Self::keys).collect()
    }

    /// Parse the values read for [`Standing::ring_keys`]: the current subject's standing, with
    /// the latest block found under any subject and, when the current subject has no attempts
    /// record, the newest previous one's (both marked to be carried under the current subject).
    pub(super) fn from_ring_values(values: &[Option<StoredValue>]) -> Self {
        let mut chunks = values.chunks(2);
        let mut standing = chunks.next().map(Self::from_values).unwrap_or_default();
        for chunk in chunks {
            let previous = Self::from_values(chunk);
            if let Some(until) = previous.block
                && standing.block.is_none_or(|current| current < until)
            {
                standing.block = Some(until);
                standing.carry_block = true;
            }
            if standing.version.is_none() && !standing.carry_attempts && previous.version.is_some() {
                standing.attempts = previous.attempts;
                standing.carry_attempts = true;
            }
        }
        standing
    }

    /// Parse the values read for [`Standing::keys`].
    pub(super) fn from_values(values: &[Option<StoredValue>]) -> Self {
        let block = values.first().and_then(Option::as_ref).and_then(held_until);
        let (attempts, version) = match values.get(1).and_then(Option::as_ref) {
            // An unreadable record (another layout) is replaced, never trusted as "no
            // attempts": its version is kept so the next write overwrites it.
            Some(stored) => (postcard::from_bytes::<Attempts>(&stored.value).unwrap_or_default(), Some(stored.version)),
            None => (Attempts::default(), None),
        };
        Self { block, attempts, version, carry_block: false, carry_attempts: false }
    }

    /// The end of the block in force at `now`, if any.
    pub(super) fn blocked_until(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.block.filter(|until| *until > now)
    }
}

/// The end of a block or lockout as stored: 8 big-endian bytes of unix seconds.
pub(super) fn held_until(stored: &StoredValue) -> Option<OffsetDateTime> {
    let bytes: [u8; 8] = stored.value.get(..8)?.try_into().ok()?;
    Some(from_ts(i64::from_be_bytes(bytes)))
}

/// What a client is counted by: its IPv4 address or IPv6 /64 (as for the per-IP limits), or
/// one shared value for requests without an address.
fn client_id(ctx: &RequestContext) -> Vec<u8> {
    match ctx.client_ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.octets().to_vec(),
        Some(IpAddr::V6(v6)) => v6.octets().get(..8).unwrap_or_default().to_vec(),
        None => b"no address".to_vec(),
    }
}

/// A subject (or another store key's hash) under `key`.
fn short_mac_under(key: &SecretKey, parts: &[&[u8]]) -> Subject {
    let full = key.mac(KeyPurpose::Subject, parts);
    let mut out = [0u8; 16];
    out.copy_from_slice(full.get(..16).unwrap_or(&[0; 16]));
    out
}

impl Sspr {
    /// The key ring: the current key (which writes everything), then the previous keys, newest
    /// first (only read).
    pub(super) fn ring(&self) -> impl Iterator<Item = &SecretKey> {
        std::iter::once(&self.inner.key).chain(&self.inner.previous_keys)
    }

    /// The key decoy masks come from: the oldest key listed, so that a routine rotation keeps
    /// every unknown login's mask ([`crate::SsprBuilder::previous_keys`]).
    pub(super) fn decoy_key(&self) -> &SecretKey {
        self.inner.previous_keys.last().unwrap_or(&self.inner.key)
    }

    fn short_mac(&self, parts: &[&[u8]]) -> Subject {
        short_mac_under(&self.inner.key, parts)
    }

    pub(super) fn user_subject(&self, user: &UserId) -> Subject {
        self.short_mac(&[b"user", user.as_str().as_bytes()])
    }

    /// A key to seal a record of `subject`'s with ([`super::sealed`]): HMAC-SHA256 under the
    /// **current** key's subject sub-key, of `label` (which keeps it apart from every other
    /// keyed hash made here) and the subject. Only the current key: a record sealed with it
    /// does not open after a key rotation.
    pub(super) fn subject_seal_key(&self, label: &[u8], subject: &Subject) -> Zeroizing<[u8; 32]> {
        let mut key = Zeroizing::new([0u8; 32]);
        *key = self.inner.key.mac(KeyPurpose::Subject, &[label, subject]);
        key
    }

    pub(super) fn login_subject(&self, login: &NormalizedLogin) -> Subject {
        self.short_mac(&[b"login", login.as_str().as_bytes()])
    }

    /// The user's subjects under the previous keys, newest first (none without previous keys).
    pub(super) fn previous_user_subjects(&self, user: &UserId) -> Vec<Subject> {
        let parts: [&[u8]; 2] = [b"user", user.as_str().as_bytes()];
        self.inner.previous_keys.iter().map(|key| short_mac_under(key, &parts)).collect()
    }

    /// The login's subjects under the previous keys, newest first.
    pub(super) fn previous_login_subjects(&self, login: &NormalizedLogin) -> Vec<Subject> {
        let parts: [&[u8]; 2] = [b"login", login.as_str().as_bytes()];
        self.inner.previous_keys.iter().map(|key| short_mac_under(key, &parts)).collect()
    }

    /// The audit trail's reference to a flow: a keyed hash of its id, stable for the flow, from
    /// which the id cannot be recovered.
    pub(super) fn flow_ref(&self, flow_id: &str) -> String {
        hex::encode(&self.flow_ref_bytes(flow_id))
    }

    /// [`Sspr::flow_ref`] before its hex: what a flow record carries.
    pub(super) fn flow_ref_bytes(&self, flow_id: &str) -> [u8; 16] {
        let full = self.inner.key.mac(KeyPurpose::FlowRef, &[flow_id.as_bytes()]);
        let mut out = [0u8; 16];
        out.copy_from_slice(full.get(..16).unwrap_or(&[0; 16]));
        out
    }

    /// The tags a client is tracked by in a user's [`Attempts`], under each key of the ring
    /// (the current key's first: the one a new entry gets): its IPv4 address or IPv6 /64 (as
    /// for the per-IP limits), or one shared tag for requests without an address.
    pub(super) fn client_tags(&self, ctx: &RequestContext) -> Vec<[u8; 8]> {
        let client = client_id(ctx);
        self.ring()
            .map(|key| {
                let full = key.mac(KeyPurpose::Subject, &[b"client", &client]);
                let mut out = [0u8; 8];
                out.copy_from_slice(full.get(..8).unwrap_or(&[0; 8]));
                out
            })
            .collect()
    }

    /// Read `subject`'s block and attempts in one store call.
    pub(super) async fn standing(&self, subject: &Subject, now: OffsetDateTime) -> Result<Standing> {
        let keys = Standing::keys(subject);
        let batch = Batch { reads: keys.iter().map(String::as_str).collect(), ..Batch::default() };
        Ok(Standing::from_values(&self.inner.store.apply(&batch, now).await?.values))
    }

    /// Read the standing of `subject` (the current key's) and of the same user or login under
    /// the previous keys (`previous`) in one store call, and carry what only a previous key's
    /// subject holds under the current one ([`Sspr::carry`]).
    pub(super) async fn ring_standing(
        &self,
        subject: &Subject,
        previous: &[Subject],
        now: OffsetDateTime,
    ) -> Result<Standing> {
        let mut keys = Standing::ring_keys(subject, previous);
        let standing_len = keys.len();
        // And the marks of self-service switched off (R.6), the current subject's first: a
        // mark written under a previous key must still refuse the flows begun before it.
        if !previous.is_empty() {
            keys.extend(std::iter::once(subject).chain(previous).map(disabled));
        }
        let batch = Batch { reads: keys.iter().map(String::as_str).collect(), ..Batch::default() };
        let values = self.inner.store.apply(&batch, now).await?.values;
        let (standing_values, marks) = values.split_at(standing_len.min(values.len()));
        let mut standing = Standing::from_ring_values(standing_values);
        self.carry(subject, &mut standing, now).await?;
        self.carry_disabled_mark(subject, marks, now).await?;
        Ok(standing)
    }

    /// Copy the latest self-service-off mark found only under a previous key's subject
    /// (`marks`: the current subject's, then the previous ones') under `subject`, so that
    /// `complete_reset`, which reads the current subject's, still refuses a flow begun before
    /// an administrator's disable across a key rotation. A store call only when there is one.
    async fn carry_disabled_mark(
        &self,
        subject: &Subject,
        marks: &[Option<StoredValue>],
        now: OffsetDateTime,
    ) -> Result<()> {
        let held = |value: &Option<StoredValue>| value.as_ref().and_then(held_until).filter(|until| *until > now);
        let Some((current, previous)) = marks.split_first() else {
            return Ok(());
        };
        let Some(latest) = previous.iter().filter_map(held).max() else {
            return Ok(());
        };
        if held(current).is_none_or(|until| until < latest) {
            self.hold_at_least(&disabled(subject), latest, now).await?;
        }
        Ok(())
    }

    /// Copy a block or attempts record that [`Standing::from_ring_values`] found only under a
    /// previous key's subject under `subject` (the current key's), so that every later step,
    /// which reads the current subject alone, still sees it. Costs a store call only when
    /// there is something to carry: after a rotation, once per user with failures in force.
    pub(super) async fn carry(&self, subject: &Subject, standing: &mut Standing, now: OffsetDateTime) -> Result<()> {
        if standing.carry_block
            && let Some(until) = standing.block.filter(|until| *until > now)
        {
            self.hold(&block(subject), until, now).await?;
            standing.carry_block = false;
        }
        if standing.carry_attempts {
            let keep_until = from_ts(standing.attempts.keep_until());
            if keep_until > now {
                let bytes = postcard::to_allocvec(&standing.attempts)
                    .map_err(|e| Error::Config(format!("cannot encode an attempts record: {e}")))?;
                match self.inner.store.put(&failures(subject), &bytes, None, keep_until, now).await? {
                    Some(version) => standing.version = Some(version),
                    // The current subject got a record meanwhile (it carries everything since
                    // the rotation): that one counts.
                    None => {
                        let current = self.standing(subject, now).await?;
                        standing.attempts = current.attempts;
                        standing.version = current.version;
                    }
                }
            }
            standing.carry_attempts = false;
        }
        Ok(())
    }

    /// The attempts record with one more verification attempt from `ctx`'s client, as read
    /// in `current`, or why the attempt may not be made. Nothing is stored: the caller writes
    /// [`NextAttempt::record`] with a compare-and-set on the version read, so concurrent
    /// attempts never get more compares than the caps allow.
    pub(super) fn next_attempt(
        &self,
        subject: &Subject,
        ctx: &RequestContext,
        now: OffsetDateTime,
        current: Standing,
    ) -> Result<std::result::Result<NextAttempt, AttemptRefused>> {
        let policy = &self.inner.policy;
        let tags = self.client_tags(ctx);
        let block = current.blocked_until(now);
        let (mut record, version) = (current.attempts, current.version);
        if record.window_end <= ts(now) && record.clients.iter().all(|c| c.blocked_until <= ts(now)) {
            record = Attempts::default();
        }
        if record.count >= policy.user_failures_before_block {
            // The attempt that reached the cap holds everyone off (`not_before`) until
            // its failing compare writes the user's block, which then holds them off.
            if let Some(until) = block {
                return Ok(Err(AttemptRefused::UserCapReached(until)));
            }
            if record.not_before > ts(now) {
                return Ok(Err(AttemptRefused::UserCapReached(from_ts(record.not_before))));
            }
            // The block was served (or lifted): a new window.
            record = Attempts::default();
        }
        if record.window_end <= ts(now) {
            record.count = 0;
            record.window_end = ts(now + policy.failure_window());
        }
        if let Some(c) = record.client(&tags)
            && c.blocked_until > ts(now)
        {
            return Ok(Err(AttemptRefused::ClientBlocked(from_ts(c.blocked_until))));
        }
        if record.not_before > ts(now) {
            let wait = u64::try_from(record.not_before - ts(now)).unwrap_or(0);
            return Ok(Err(AttemptRefused::Delayed(Duration::from_secs(wait))));
        }
        // Count it as a failure now; a right PIN deletes the record.
        record.count = record.count.saturating_add(1);
        let delay = if record.count >= policy.user_failures_before_block {
            policy.block_duration()
        } else {
            policy.failure_delay(record.count)
        };
        record.not_before = ts(now + delay);
        let block_end = ts(now + policy.block_duration());
        let mut client_blocked_until = None;
        match record.client_mut(&tags) {
            Some(c) => {
                // A block that has been served starts the client's count again.
                if c.blocked_until != 0 && c.blocked_until <= ts(now) {
                    c.count = 0;
                    c.blocked_until = 0;
                }
                c.count = c.count.saturating_add(1);
                if c.count >= policy.client_failures_before_block {
                    c.blocked_until = block_end;
                    client_blocked_until = Some(from_ts(block_end));
                }
            }
            None => {
                let blocked = policy.client_failures_before_block <= 1;
                if blocked {
                    client_blocked_until = Some(from_ts(block_end));
                }
                record.clients.push(ClientAttempts {
                    client: tags.first().copied().unwrap_or_default(),
                    count: 1,
                    blocked_until: if blocked { block_end } else { 0 },
                });
            }
        }
        let keep_until = record.keep_until();
        let bytes = postcard::to_allocvec(&record)
            .map_err(|e| Error::Config(format!("cannot encode an attempts record: {e}")))?;
        Ok(Ok(NextAttempt {
            key: failures(subject),
            bytes,
            version,
            keep_until: from_ts(keep_until),
            attempt: Attempt { count: record.count, client_blocked_until },
        }))
    }

    /// Count one verification attempt of `subject` from `ctx`'s client, before its PIN is
    /// compared, or say why it may not be made. Atomic (one compare-and-set on the user's
    /// record), so concurrent attempts never get more compares than the caps allow.
    ///
    /// `standing` is what the step read; a lost race reads it again.
    pub(super) async fn count_attempt(
        &self,
        subject: &Subject,
        ctx: &RequestContext,
        now: OffsetDateTime,
        standing: Standing,
    ) -> Result<std::result::Result<Attempt, AttemptRefused>> {
        let mut standing = Some(standing);
        for _ in 0..super::MAX_CAS_ROUNDS {
            let current = match standing.take() {
                Some(read) => read,
                None => self.standing(subject, now).await?,
            };
            let next = match self.next_attempt(subject, ctx, now, current)? {
                Ok(next) => next,
                Err(refused) => return Ok(Err(refused)),
            };
            if self.inner.store.put(&next.key, &next.bytes, next.version, next.keep_until, now).await?.is_some() {
                return Ok(Ok(next.attempt));
            }
        }
        Err(contention())
    }

    /// Take back an attempt [`Sspr::count_attempt`] counted whose PIN was never compared
    /// (the flow was verified or voided by a concurrent request in between), so that a user's
    /// own double submissions do not add up to a block. Best effort: a store failure leaves
    /// the attempt counted, which errs on the safe side.
    pub(super) async fn uncount_attempt(&self, subject: &Subject, ctx: &RequestContext, now: OffsetDateTime) {
        let policy = &self.inner.policy;
        let tags = self.client_tags(ctx);
        for _ in 0..super::MAX_CAS_ROUNDS {
            let Ok(Standing { attempts: mut record, version: Some(version), .. }) = self.standing(subject, now).await
            else {
                return;
            };
            record.count = record.count.saturating_sub(1);
            record.not_before = ts(now + policy.failure_delay(record.count));
            if let Some(c) = record.client_mut(&tags) {
                c.count = c.count.saturating_sub(1);
                if c.count < policy.client_failures_before_block {
                    c.blocked_until = 0;
                }
            }
            let keep_until = record.keep_until();
            let Ok(bytes) = postcard::to_allocvec(&record) else { return };
            match self.inner.store.put(&failures(subject), &bytes, Some(version), from_ts(keep_until), now).await {
                Ok(Some(_)) => return,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "could not take back an attempt that compared no PIN");
                    return;
                }
            }
        }
    }

    /// A failed verification was counted towards the organisation-wide alarm (`counter`):
    /// the request that reaches the threshold records the alarm and calls the host's hook.
    pub(super) async fn alarm_if_reached(&self, counter: crate::backend::Counter, scope: &AuditScope<'_>) {
        let threshold = self.inner.policy.failure_alarm_per_hour;
        if counter.count != u64::from(threshold) {
            return;
        }
        let alarm = FailureAlarm { failures: counter.count, threshold, window_ends: counter.expires_at };
        tracing::warn!(
            failures = counter.count,
            threshold,
            "failed PIN verifications across all users reached the alarm"
        );
        let event: AuditEvent =
            self.event(AuditKind::FailureAlarm, scope.ctx, Outcome::Limited { limit: "failure_alarm".into() });
        self.audit(event).await;
        if let Some(hook) = &self.inner.alarm {
            hook.raise(&alarm);
        }
    }

    /// The SMS budget limits for a send: users with failed verifications in the window draw
    /// on their own counter, capped below the whole budget, before the whole budget, so
    /// that the reserve stays for users who have not failed. Checked only after every other
    /// limit let the send through, so a refused request spends nothing.
    pub(super) async fn enforce_sms_budget(&self, failed: bool, now: OffsetDateTime) -> Result<Option<Refusal>> {
        let policy = &self.inner.policy;
        if failed {
            let limit = Limit {
                key: SMS_BUDGET_FAILED.into(),
                cap: policy.sms_budget_without_reserve(),
                window: HOUR,
                name: "sms_budget",
            };
            if let Some(refusal) = self.enforce(&[limit], now).await? {
                return Ok(Some(refusal));
            }
        }
        let limit = Limit { key: SMS_BUDGET.into(), cap: policy.sms_budget_per_hour, window: HOUR, name: "sms_budget" };
        self.enforce(&[limit], now).await
    }

    /// A fingerprint of a login for the audit trail (correlates, does not reveal).
    pub(super) fn login_fingerprint(&self, login: &NormalizedLogin) -> String {
        hex::encode(&self.short_mac(&[b"audit-login", login.as_str().as_bytes()]))
    }

    /// The limits on PIN sends for a user's `subject` from `ctx`'s client: the policy's
    /// `user_sends_per_hour` for this client (`user_sends`), then its
    /// `user_sends_all_clients_per_hour` (`user_sends_all_clients`). One client cannot spend
    /// the user's whole allowance, so a victim's own send is not refused by a stranger's.
    pub(super) fn user_send_limits(&self, subject: &Subject, ctx: &RequestContext) -> [Limit; 2] {
        let policy = &self.inner.policy;
        [
            Limit {
                key: self.user_client_sends_key(subject, ctx),
                cap: policy.user_sends_per_hour,
                window: HOUR,
                name: "user_sends",
            },
            Limit {
                key: user_sends(subject),
                cap: policy.user_sends_all_clients_per_hour(),
                window: HOUR,
                name: "user_sends_all_clients",
            },
        ]
    }

    /// The limits on helpdesk-code redemptions for a login's `subject` from `ctx`'s client:
    /// twice `max_wrong_pins` an hour from this client (`recovery_redeems`: room for a user's
    /// typos on two codes), four times that from all clients (`recovery_redeems_all_clients`).
    /// Per client, so that a stranger's wrong codes do not refuse the caller's right one.
    pub(super) fn recovery_redeem_limits(&self, subject: &Subject, ctx: &RequestContext) -> [Limit; 2] {
        let cap = self.inner.policy.max_wrong_pins.saturating_mul(2);
        let client = self.short_mac(&[b"recovery-redeems-client", subject, &client_id(ctx)]);
        [
            Limit { key: subject_key("recovery-redeems-client", &client), cap, window: HOUR, name: "recovery_redeems" },
            Limit {
                key: recovery_redeems(subject),
                cap: cap.saturating_mul(crate::Policy::ALL_CLIENTS_FACTOR),
                window: HOUR,
                name: "recovery_redeems_all_clients",
            },
        ]
    }

    /// The key of a user's sends from `ctx`'s client ([`Sspr::user_send_limits`]).
    pub(super) fn user_client_sends_key(&self, subject: &Subject, ctx: &RequestContext) -> String {
        user_client_sends(&self.short_mac(&[b"sends-client", subject, &client_id(ctx)]))
    }

    /// The limits on codes sent to `target` from `ctx`'s client, both named `destination` and
    /// both quiet where the caller is anonymous ([`judge_quietly`] takes them last, in this
    /// order): the policy's `destination_sends_per_hour` for this client, then its
    /// `destination_sends_all_clients_per_hour`, the bound on flooding an address.
    /// Per client, so that one client filling a victim's destination does not silently stop
    /// the victim's own PIN.
    pub(super) fn destination_limits(&self, target: &str, ctx: &RequestContext) -> [Limit; 2] {
        // One mailbox, one count: mail servers deliver `Jane@` and `JANE@` alike (a full
        // address is confirmed ignoring case too), so each spelling must not get a cap of
        // its own. Domains are lower-cased already; numbers are digits.
        let target = target.to_ascii_lowercase();
        let policy = &self.inner.policy;
        [
            Limit {
                key: subject_key("dest-client", &self.short_mac(&[b"dest-client", target.as_bytes(), &client_id(ctx)])),
                cap: policy.destination_sends_per_hour,
                window: HOUR,
                name: "destination",
            },
            Limit {
                key: subject_key("dest", &self.short_mac(&[b"dest", target.as_bytes()])),
                cap: policy.destination_sends_all_clients_per_hour(),
                window: HOUR,
                name: "destination",
            },
        ]
    }

    /// A per-client limit. An IPv6 client is counted by its /64 network: one subscriber
    /// usually holds a whole /64 and could otherwise rotate addresses past any cap.
    pub(super) fn ip_limit(&self, ctx: &RequestContext, what: &'static str, cap: u32) -> Option<Limit> {
        ctx.client_ip.map(|ip| {
            let client = match ip.to_canonical() {
                IpAddr::V4(v4) => v4.octets().to_vec(),
                IpAddr::V6(v6) => v6.octets().get(..8).unwrap_or_default().to_vec(),
            };
            Limit { key: subject_key(what, &self.short_mac(&[b"ip", &client])), cap, window: HOUR, name: what }
        })
    }

    /// Count one request against each limit. Every counter is incremented even when an
    /// earlier one is over its cap, so hammering never comes for free. Returns the limit
    /// that refuses with the longest wait, if any.
    pub(super) async fn enforce(&self, limits: &[Limit], now: OffsetDateTime) -> Result<Option<Refusal>> {
        Ok(longest(self.count(limits, now).await?))
    }

    /// Count one request against each limit (one store call); for each, its refusal if over.
    pub(super) async fn count(&self, limits: &[Limit], now: OffsetDateTime) -> Result<Vec<Option<Refusal>>> {
        let requests: Vec<(&str, OffsetDateTime)> = limits.iter().map(|l| (l.key.as_str(), now + l.window)).collect();
        let counters = self.inner.store.increment_many(&requests, now).await?;
        Ok(refusals(limits, &counters, now))
    }

    /// Until when `user` is blocked, if they are: under the current key's subject or a
    /// previous key's (one store call).
    pub(super) async fn user_blocked_until(
        &self,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>> {
        let subjects: Vec<Subject> =
            std::iter::once(self.user_subject(user)).chain(self.previous_user_subjects(user)).collect();
        // The attempts too: the attempt that reached the cap holds the user off (its
        // `not_before`) before its block is written, and for the whole block if its caller
        // was dropped before the write (a store answering after the client went away).
        let keys: Vec<String> = subjects.iter().map(block).chain(subjects.iter().map(failures)).collect();
        let batch = Batch { reads: keys.iter().map(String::as_str).collect(), ..Batch::default() };
        let values = self.inner.store.apply(&batch, now).await?.values;
        let (blocks, attempts) = values.split_at(subjects.len().min(values.len()));
        let cap = self.inner.policy.user_failures_before_block;
        let held_by_attempts = attempts
            .iter()
            .flatten()
            .filter_map(|stored| postcard::from_bytes::<Attempts>(&stored.value).ok())
            .filter(|a| a.count >= cap && a.not_before > ts(now))
            .map(|a| from_ts(a.not_before));
        Ok(blocks.iter().flatten().filter_map(held_until).chain(held_by_attempts).filter(|until| *until > now).max())
    }

    /// Whether `subject`'s attempts record holds it off at the user's cap (the attempt that
    /// reached the cap is stored and its PIN was not the right one, which deletes the record).
    pub(super) async fn held_at_cap(&self, subject: &Subject, now: OffsetDateTime) -> Result<bool> {
        let cap = self.inner.policy.user_failures_before_block;
        let Some(stored) = self.inner.store.get(&failures(subject), now).await? else { return Ok(false) };
        Ok(postcard::from_bytes::<Attempts>(&stored.value).is_ok_and(|a| a.count >= cap && a.not_before > ts(now)))
    }

    /// Whether `subject`'s attempts record holds the client tagged `tags` off (the attempt that
    /// reached the client's cap is stored and its PIN was not the right one, which deletes the
    /// record).
    pub(super) async fn client_held(&self, subject: &Subject, tags: &[[u8; 8]], now: OffsetDateTime) -> Result<bool> {
        let Some(stored) = self.inner.store.get(&failures(subject), now).await? else { return Ok(false) };
        Ok(postcard::from_bytes::<Attempts>(&stored.value)
            .is_ok_and(|a| a.client(tags).is_some_and(|c| c.blocked_until > ts(now))))
    }

    /// Refuse with `Blocked` if the subject whose `standing` a step read is blocked, or
    /// `ctx`'s client is blocked for it, auditing the refusal in `scope` (limit `blocked` or
    /// `client_blocked`). Otherwise returns whether the user has failed verifications in the
    /// window.
    pub(super) async fn refuse_if_blocked(
        &self,
        standing: &Standing,
        now: OffsetDateTime,
        scope: &AuditScope<'_>,
    ) -> Result<bool> {
        let (limit, until) = match standing.block {
            Some(until) => ("blocked", until),
            None => {
                let record = &standing.attempts;
                // The client's tag is a keyed hash: only worth computing when some client
                // has attempts on the record (rarely: a right PIN deletes the record).
                let tags = (!record.clients.is_empty()).then(|| self.client_tags(scope.ctx));
                match tags.and_then(|tags| record.client(&tags).cloned()).filter(|c| c.blocked_until > ts(now)) {
                    Some(c) => ("client_blocked", from_ts(c.blocked_until)),
                    None => return Ok(record.any() && record.window_end > ts(now)),
                }
            }
        };
        scope.record(AuditKind::RateLimited, Outcome::Limited { limit: limit.into() }).await;
        Err(Error::Blocked { until })
    }

    /// Block `subject` until `now + block_secs`; returns the end of the block.
    pub(super) async fn block(&self, subject: &Subject, now: OffsetDateTime) -> Result<OffsetDateTime> {
        self.hold(&block(subject), now + self.inner.policy.block_duration(), now).await
    }

    /// Store a block or lockout under `key` that ends at `until`; returns `until`.
    /// [`Sspr::hold`], unless what `key` holds already ends at or after `until` (a later mark
    /// written meanwhile is kept, never shortened).
    pub(super) async fn hold_at_least(&self, key: &str, until: OffsetDateTime, now: OffsetDateTime) -> Result<()> {
        let until = from_ts(ts(until));
        for _ in 0..super::MAX_CAS_ROUNDS {
            let current = self.inner.store.get(key, now).await?;
            if current.as_ref().and_then(held_until).is_some_and(|held| held >= until) {
                return Ok(());
            }
            let version = current.map(|s| s.version);
            if self.inner.store.put(key, &ts(until).to_be_bytes(), version, until, now).await?.is_some() {
                return Ok(());
            }
        }
        Err(contention())
    }

    pub(super) async fn hold(&self, key: &str, until: OffsetDateTime, now: OffsetDateTime) -> Result<OffsetDateTime> {
        // Stored in whole seconds: answer with exactly what later reads will say, so the
        // first `Blocked` and the next ones name the same end.
        let until = from_ts(ts(until));
        // Overwrite whatever block exists: read its version, then compare-and-set.
        for _ in 0..super::MAX_CAS_ROUNDS {
            let current = self.inner.store.get(key, now).await?.map(|s| s.version);
            if self.inner.store.put(key, &ts(until).to_be_bytes(), current, until, now).await?.is_some() {
                return Ok(until);
            }
        }
        Err(contention())
    }
}

/// The refusal with the longest wait (the first of equals).
pub(super) fn longest(refusals: Vec<Option<Refusal>>) -> Option<Refusal> {
    refusals.into_iter().flatten().reduce(|worst, next| if next.retry_after > worst.retry_after { next } else { worst })
}

/// The error for a record that kept changing under us.
pub(super) fn contention() -> Error {
    Error::Backend {
        source: crate::error::BackendError::new(
            crate::error::BackendErrorKind::Unavailable,
            "the state store kept changing under this request; retry",
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_standing_prefixes_are_the_standing_keys_without_the_subject() {
        let subject = [0xab; 16];
        let hex = crate::hex::encode(&subject);
        for (key, prefix) in super::Standing::keys(&subject).iter().zip(super::Standing::PREFIXES) {
            assert_eq!(*key, format!("{prefix}{hex}"));
        }
    }
}
