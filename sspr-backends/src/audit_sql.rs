//! The audit trail in SQL (the `sqlite` and `postgres` features) and the summary reports read
//! back from it ([`AuditReport`]).
//!
//! [`SqliteStore`](crate::sqlite::SqliteStore) and
//! [`PostgresStore`](crate::postgres::PostgresStore) are audit sinks as well as stores: their
//! schema migrations create the table `sspr_audit`, one row per event:
//!
//! | column | |
//! | --- | --- |
//! | `id` | increasing |
//! | `at` | unix seconds, UTC (the event's `at`) |
//! | `kind` | the event's `kind` (`reset_requested`, `pin_sent`, ...) |
//! | `outcome` | `success`, `decoy`, `refused`, `limited` or `failed` |
//! | `reason` | the decoy reason, refusal reason, limit name or error text; NULL for success |
//! | `channel` | `email`, `sms` or NULL |
//! | `event` | the whole event, [`AuditEvent::to_json`] (`TEXT` in SQLite, `JSONB` in PostgreSQL) |
//!
//! Events never hold a secret, so neither does the table. The same database as the store may
//! be used, or another one (`[audit] kind = "sqlite"` / `"postgres"` in
//! [`config`](crate::config)).
//!
//! **Retention.** Without `retain_days` rows are kept for ever. With it (`[audit] retain_days`,
//! or [`SqliteConfig`](crate::sqlite::SqliteConfig) / [`PostgresConfig`](crate::postgres::PostgresConfig)
//! `retain_days`), recording an event also starts a prune, at most once an hour of the events'
//! time: rows older than the event by more than `retain_days` are deleted, [`PRUNE_BATCH`]
//! rows per statement (short locks), off the caller's path (SQLite: as jobs queued on the
//! store's own thread behind the insert; PostgreSQL: on a task of its own). `prune_audit` on
//! each store runs one to the end at once.

use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use serde::Serialize;
use sspr_core::time::{Date, OffsetDateTime};
use sspr_core::{AuditEvent, BackendError, Outcome};

/// One event as the columns of `sspr_audit`.
pub(crate) struct AuditRow {
    pub(crate) at: i64,
    pub(crate) kind: String,
    pub(crate) outcome: &'static str,
    pub(crate) reason: Option<String>,
    pub(crate) channel: Option<String>,
    pub(crate) json: String,
}

/// The name serde gives a unit enum value (`"reset_requested"`), without its quotes.
fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::from("unknown"),
    }
}

impl AuditRow {
    pub(crate) fn of(event: &AuditEvent) -> Self {
        let (outcome, reason) = match &event.outcome {
            Outcome::Success => ("success", None),
            Outcome::Decoy { reason } => ("decoy", Some(name_of(reason))),
            Outcome::Refused { reason } => ("refused", Some(name_of(reason))),
            Outcome::Limited { limit } => ("limited", Some(limit.clone())),
            Outcome::Failed { error } => ("failed", Some(error.clone())),
            _ => ("other", None),
        };
        Self {
            at: event.at.unix_timestamp(),
            kind: name_of(&event.kind),
            outcome,
            reason,
            channel: event.channel.as_ref().map(name_of),
            json: event.to_json(),
        }
    }
}

/// Seconds in a UTC day: `at / 86400` is the day number the reports group by.
const DAY: i64 = 86_400;

/// The queries, with SQLite's `?N` parameters (PostgreSQL's `$N` by [`postgres_sql`]).
/// Parameter 1 is the first second counted.
pub(crate) const RESETS_PER_DAY: &str = "SELECT at / 86400, outcome, coalesce(channel, ''), count(*) FROM sspr_audit
     WHERE at >= ?1 AND kind IN ('reset_completed', 'reset_failed') GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
pub(crate) const BEGINS: &str = "SELECT outcome, coalesce(reason, ''), count(*) FROM sspr_audit
     WHERE at >= ?1 AND kind = 'reset_requested' GROUP BY 1, 2 ORDER BY 1, 2";
pub(crate) const DAILY_KINDS: &str = "SELECT at / 86400, kind, count(*) FROM sspr_audit
     WHERE at >= ?1 AND outcome = 'success' AND kind IN ('blocked', 'contacts_changed') GROUP BY 1, 2 ORDER BY 1, 2";
/// Parameter 2 is how many.
pub(crate) const TOP_FAILURES: &str = "SELECT kind, outcome, coalesce(reason, ''), count(*) FROM sspr_audit
     WHERE at >= ?1 AND outcome IN ('failed', 'refused', 'limited') GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT ?2";

/// Delete up to `?2` of the oldest rows recorded before second `?1` (the index on `at` finds
/// them; one batch per statement keeps each lock short).
pub(crate) const PRUNE: &str =
    "DELETE FROM sspr_audit WHERE id IN (SELECT id FROM sspr_audit WHERE at < ?1 ORDER BY at, id LIMIT ?2)";

/// Rows one pruning statement deletes at most.
pub const PRUNE_BATCH: i64 = 1000;

/// Seconds (of the events' time) between two prunes started by `record`.
pub const PRUNE_EVERY: i64 = 3600;

/// When an audit sink with `retain_days` prunes, shared by its clones.
#[derive(Debug)]
pub(crate) struct Retention {
    /// Seconds a row is kept; `None`: for ever.
    keep: Option<i64>,
    /// The event time from which the next prune is due.
    next: AtomicI64,
}

impl Retention {
    pub(crate) fn new(retain_days: Option<u32>) -> Self {
        Self { keep: retain_days.map(|days| i64::from(days) * DAY), next: AtomicI64::new(i64::MIN) }
    }

    /// The cutoff (rows before it go) when an event recorded at `at` finds a prune due; at
    /// most once per [`PRUNE_EVERY`], whichever clone records.
    pub(crate) fn due(&self, at: i64) -> Option<i64> {
        let keep = self.keep?;
        let next = self.next.load(Ordering::Relaxed);
        if at < next
            || self
                .next
                .compare_exchange(next, at.saturating_add(PRUNE_EVERY), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        Some(at.saturating_sub(keep))
    }
}

/// PostgreSQL's spelling of a query written with `?N` parameters.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_sql(sql: &str) -> String {
    sql.replace('?', "$")
}

/// How many failure reasons [`AuditSummary::top_failures`] lists.
pub const TOP_FAILURES_SHOWN: i64 = 10;

/// Figures over the audit trail of the last days, from [`AuditReport::audit_summary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuditSummary {
    /// The first day counted (UTC).
    pub first_day: Date,
    /// The last day counted (UTC): the day of `now`.
    pub last_day: Date,
    /// Finished resets (`reset_completed`, `reset_failed`) per day, outcome and channel;
    /// only the combinations that occurred.
    pub resets: Vec<DailyResets>,
    /// `begin_reset` calls (`reset_requested`).
    pub begins: u64,
    /// Of those, answered with a decoy, per [`DecoyReason`](sspr_core::DecoyReason) name.
    pub decoys: Vec<Count>,
    /// Users blocked after too many failed verifications, per day (days without any left out).
    pub blocks: Vec<DailyCount>,
    /// Registrations (contact details changed, `contacts_changed`), per day.
    pub registrations: Vec<DailyCount>,
    /// The most frequent reasons of failed, refused and limited events, most frequent first
    /// (at most [`TOP_FAILURES_SHOWN`]).
    pub top_failures: Vec<FailureReason>,
}

impl AuditSummary {
    /// Decoys among `begin_reset` calls, 0.0 to 1.0 (`None` without any call).
    pub fn decoy_rate(&self) -> Option<f64> {
        let decoys: u64 = self.decoys.iter().map(|c| c.count).sum();
        (self.begins > 0).then(|| decoys as f64 / self.begins as f64)
    }

    /// Blocks over the whole period.
    pub fn total_blocks(&self) -> u64 {
        self.blocks.iter().map(|d| d.count).sum()
    }

    /// Registrations over the whole period.
    pub fn total_registrations(&self) -> u64 {
        self.registrations.iter().map(|d| d.count).sum()
    }
}

/// Finished resets of one day, outcome and channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyResets {
    /// The day (UTC).
    pub day: Date,
    /// `success`, or how it failed (`failed`, `refused`, `limited`).
    pub outcome: String,
    /// `email`, `sms`, or empty when the event names no channel.
    pub channel: String,
    /// How many.
    pub count: u64,
}

/// A count per day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyCount {
    /// The day (UTC).
    pub day: Date,
    /// How many.
    pub count: u64,
}

/// A count per name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The name.
    pub name: String,
    /// How many.
    pub count: u64,
}

/// A reason events failed, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureReason {
    /// The event kind (`pin_failed`, `reset_failed`, ...).
    pub kind: String,
    /// `failed`, `refused` or `limited`.
    pub outcome: String,
    /// The decoy or refusal reason, the limit's name or the error text.
    pub reason: String,
    /// How many.
    pub count: u64,
}

/// Summary reports over an audit trail kept in SQL.
#[async_trait]
pub trait AuditReport: Send + Sync + std::fmt::Debug {
    /// The figures of the `days` UTC days ending with the day of `now` (`days` = 1: today
    /// only; 0 counts as 1).
    ///
    /// # Errors
    /// The database's errors (`Unavailable` when it cannot be reached).
    async fn audit_summary(&self, days: u32, now: OffsetDateTime) -> Result<AuditSummary, BackendError>;
}

/// The first second counted and the period's first and last day.
pub(crate) fn period(days: u32, now: OffsetDateTime) -> (i64, Date, Date) {
    let today = now.unix_timestamp().div_euclid(DAY);
    let first = today - i64::from(days.max(1)) + 1;
    (first * DAY, day(first), day(today))
}

fn day(number: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(number.saturating_mul(DAY)).unwrap_or(OffsetDateTime::UNIX_EPOCH).date()
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The rows of the four queries, as each database returns them.
pub(crate) struct Rows {
    pub(crate) resets: Vec<(i64, String, String, i64)>,
    pub(crate) begins: Vec<(String, String, i64)>,
    pub(crate) daily: Vec<(i64, String, i64)>,
    pub(crate) failures: Vec<(String, String, String, i64)>,
}

impl Rows {
    pub(crate) fn summary(self, first_day: Date, last_day: Date) -> AuditSummary {
        let mut blocks = Vec::new();
        let mut registrations = Vec::new();
        for (number, kind, n) in self.daily {
            let entry = DailyCount { day: day(number), count: count(n) };
            match kind.as_str() {
                "blocked" => blocks.push(entry),
                _ => registrations.push(entry),
            }
        }
        AuditSummary {
            first_day,
            last_day,
            resets: self
                .resets
                .into_iter()
                .map(|(number, outcome, channel, n)| DailyResets {
                    day: day(number),
                    outcome,
                    channel,
                    count: count(n),
                })
                .collect(),
            begins: self.begins.iter().map(|(_, _, n)| count(*n)).sum(),
            decoys: self
                .begins
                .into_iter()
                .filter(|(outcome, _, _)| outcome == "decoy")
                .map(|(_, name, n)| Count { name, count: count(n) })
                .collect(),
            blocks,
            registrations,
            top_failures: self
                .failures
                .into_iter()
                .map(|(kind, outcome, reason, n)| FailureReason { kind, outcome, reason, count: count(n) })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sspr_core::time::macros::datetime;
    use sspr_core::{AuditKind, Channel, DecoyReason};

    use super::*;

    #[test]
    fn a_row_names_kind_outcome_reason_and_channel_as_the_json_does() {
        let mut event = AuditEvent::new(
            AuditKind::ResetRequested,
            datetime!(2026-12-05 10:00 UTC),
            Outcome::Decoy { reason: DecoyReason::UnknownUser },
        );
        event.channel = Some(Channel::Sms);
        let row = AuditRow::of(&event);
        assert_eq!(
            (row.at, row.kind.as_str(), row.outcome, row.reason.as_deref(), row.channel.as_deref()),
            (1_796_464_800, "reset_requested", "decoy", Some("unknown_user"), Some("sms"))
        );
        assert_eq!(row.json, event.to_json());
        let (from, first, last) = period(30, datetime!(2026-12-05 23:59:59 UTC));
        assert_eq!((first.to_string(), last.to_string()), ("2026-11-06".to_owned(), "2026-12-05".to_owned()));
        assert_eq!(from, datetime!(2026-11-06 00:00 UTC).unix_timestamp());
        assert_eq!(period(0, datetime!(2026-12-05 12:00 UTC)).1.to_string(), "2026-12-05");
    }
}
