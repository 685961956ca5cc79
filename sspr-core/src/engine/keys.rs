//! State-store keys and the rate-limit checks built on them. Keys never hold a login, an
//! address or a user id in clear: those are keyed hashes, so a shared Redis reveals nothing.

use std::net::IpAddr;
use std::time::Duration;

use time::OffsetDateTime;

use super::Sspr;
use crate::audit::{AuditKind, Outcome};
use crate::error::{Error, Result};
use crate::flow::{from_ts, ts};
use crate::hex;
use crate::input::NormalizedLogin;
use crate::secret::KeyPurpose;
use crate::types::{RequestContext, UserId};

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

pub(super) fn flow(flow_id: &str) -> String {
    let mut key = String::with_capacity(10 + flow_id.len());
    key.push_str("sspr/flow/");
    key.push_str(flow_id);
    key
}
pub(super) fn block(subject: &Subject) -> String {
    subject_key("block", subject)
}
pub(super) fn failures(subject: &Subject) -> String {
    subject_key("fails", subject)
}
pub(super) fn user_sends(subject: &Subject) -> String {
    subject_key("sends", subject)
}
pub(super) fn sign_in_failures(subject: &Subject) -> String {
    subject_key("signin-fails", subject)
}
pub(super) fn sign_in_lockout(subject: &Subject) -> String {
    subject_key("signin-lock", subject)
}

/// One limit to apply: the counter's key, the cap, the window, and its name for the audit.
pub(super) struct Limit {
    pub(super) key: String,
    pub(super) cap: u32,
    pub(super) window: Duration,
    pub(super) name: &'static str,
}

const HOUR: Duration = Duration::from_secs(3600);

impl Sspr {
    fn short_mac(&self, parts: &[&[u8]]) -> Subject {
        let full = self.inner.key.mac(KeyPurpose::Subject, parts);
        let mut out = [0u8; 16];
        out.copy_from_slice(full.get(..16).unwrap_or(&[0; 16]));
        out
    }

    pub(super) fn user_subject(&self, user: &UserId) -> Subject {
        self.short_mac(&[b"user", user.as_str().as_bytes()])
    }

    pub(super) fn login_subject(&self, login: &NormalizedLogin) -> Subject {
        self.short_mac(&[b"login", login.as_str().as_bytes()])
    }

    /// A fingerprint of a login for the audit trail (correlates, does not reveal).
    pub(super) fn login_fingerprint(&self, login: &NormalizedLogin) -> String {
        hex::encode(&self.short_mac(&[b"audit-login", login.as_str().as_bytes()]))
    }

    pub(super) fn destination_limit(&self, target: &str) -> Limit {
        Limit {
            key: subject_key("dest", &self.short_mac(&[b"dest", target.as_bytes()])),
            cap: self.inner.policy.destination_sends_per_hour,
            window: HOUR,
            name: "destination",
        }
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
        let requests: Vec<(&str, OffsetDateTime)> = limits.iter().map(|l| (l.key.as_str(), now + l.window)).collect();
        let counters = self.inner.store.increment_many(&requests, now).await?;
        let mut worst: Option<Refusal> = None;
        for (limit, counter) in limits.iter().zip(counters) {
            if counter.count > u64::from(limit.cap) {
                let retry_after = Duration::from_secs(u64::try_from(ts(counter.expires_at) - ts(now)).unwrap_or(0));
                if worst.as_ref().is_none_or(|w| retry_after > w.retry_after) {
                    worst = Some(Refusal { retry_after, limit: limit.name });
                }
            }
        }
        Ok(worst)
    }

    /// Until when `subject` is blocked, if it is.
    pub(super) async fn blocked_until(&self, subject: &Subject, now: OffsetDateTime) -> Result<Option<OffsetDateTime>> {
        self.held_until(&block(subject), now).await
    }

    /// The end of the block or lockout stored under `key`, if one is in force.
    pub(super) async fn held_until(&self, key: &str, now: OffsetDateTime) -> Result<Option<OffsetDateTime>> {
        let stored = self.inner.store.get(key, now).await?;
        Ok(stored.and_then(|s| {
            let bytes: [u8; 8] = s.value.get(..8)?.try_into().ok()?;
            Some(from_ts(i64::from_be_bytes(bytes)))
        }))
    }

    /// Refuse with `Blocked` if `subject` is blocked, auditing the refusal.
    pub(super) async fn refuse_if_blocked(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
        ctx: &RequestContext,
        describe: impl FnOnce(&mut crate::audit::AuditEvent),
    ) -> Result<()> {
        if let Some(until) = self.blocked_until(subject, now).await? {
            let mut event = self.event(AuditKind::RateLimited, ctx, Outcome::Limited { limit: "blocked".into() });
            describe(&mut event);
            self.audit(event).await;
            return Err(Error::Blocked { until });
        }
        Ok(())
    }

    /// Block `subject` until `now + block_secs`; returns the end of the block.
    pub(super) async fn block(&self, subject: &Subject, now: OffsetDateTime) -> Result<OffsetDateTime> {
        self.hold(&block(subject), now + self.inner.policy.block_duration(), now).await
    }

    /// Store a block or lockout under `key` that ends at `until`; returns `until`.
    pub(super) async fn hold(&self, key: &str, until: OffsetDateTime, now: OffsetDateTime) -> Result<OffsetDateTime> {
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

/// The error for a record that kept changing under us.
pub(super) fn contention() -> Error {
    Error::Backend {
        source: crate::error::BackendError::new(
            crate::error::BackendErrorKind::Unavailable,
            "the state store kept changing under this request; retry",
        ),
    }
}
