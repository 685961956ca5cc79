//! The SQL audit sinks (SQLite, PostgreSQL): the same events recorded, the same summary read
//! back, and a real engine flow landing in the table.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use sspr_backends::audit_sql::{AuditReport, Count, DailyCount, DailyResets, FailureReason};
use sspr_core::memory::Outbox;
use sspr_core::time::macros::datetime;
use sspr_core::time::{Duration, OffsetDateTime};
use sspr_core::{
    AuditEvent, AuditKind, AuditSink, Channel, ContactStore, DecoyReason, NotAllowedReason, Outcome, SecretKey, Sspr,
    StateStore,
};

use crate::common;

/// "Now" of the report: three days of events end on this day.
pub const NOW: OffsetDateTime = datetime!(2026-12-05 15:00 UTC);

fn event(kind: AuditKind, at: OffsetDateTime, outcome: Outcome, channel: Option<Channel>) -> AuditEvent {
    let mut e = AuditEvent::new(kind, at, outcome);
    e.channel = channel;
    e
}

/// Record a known mix of events over four days (the first outside a three-day report) and
/// check every figure of the summary.
pub async fn records_and_summarises<S: AuditSink + AuditReport>(sink: &S) {
    let today = NOW;
    let yesterday = NOW - Duration::days(1);
    let two_ago = NOW - Duration::days(2);
    let too_old = NOW - Duration::days(3);
    let failed = |error: &str| Outcome::Failed { error: error.into() };
    let decoy = |reason| Outcome::Decoy { reason };
    let limited = |limit: &str| Outcome::Limited { limit: limit.into() };
    let events = [
        // outside the period: counted nowhere
        event(AuditKind::ResetCompleted, too_old, Outcome::Success, Some(Channel::Email)),
        event(AuditKind::ResetRequested, too_old, decoy(DecoyReason::UnknownUser), None),
        event(AuditKind::Blocked, too_old, Outcome::Success, None),
        // two days ago
        event(AuditKind::ResetRequested, two_ago, Outcome::Success, None),
        event(AuditKind::ResetRequested, two_ago, decoy(DecoyReason::UnknownUser), None),
        event(AuditKind::ResetCompleted, two_ago, Outcome::Success, Some(Channel::Email)),
        event(AuditKind::ContactsChanged, two_ago, Outcome::Success, None),
        event(AuditKind::PinFailed, two_ago, failed("wrong PIN"), Some(Channel::Sms)),
        // yesterday
        event(AuditKind::ResetRequested, yesterday, Outcome::Success, None),
        event(AuditKind::ResetRequested, yesterday, Outcome::Success, None),
        event(AuditKind::ResetRequested, yesterday, decoy(DecoyReason::NoContact), None),
        event(AuditKind::ResetCompleted, yesterday, Outcome::Success, Some(Channel::Sms)),
        event(AuditKind::ResetCompleted, yesterday, Outcome::Success, Some(Channel::Email)),
        event(AuditKind::ResetFailed, yesterday, failed("directory unavailable"), Some(Channel::Email)),
        event(AuditKind::PinFailed, yesterday, failed("wrong PIN"), Some(Channel::Sms)),
        event(AuditKind::PinFailed, yesterday, failed("wrong PIN"), Some(Channel::Email)),
        event(AuditKind::Blocked, yesterday, Outcome::Success, None),
        // today
        event(AuditKind::ResetRequested, today, decoy(DecoyReason::UnknownUser), None),
        event(AuditKind::ResetRequested, today, limited("ip_begins"), None),
        event(AuditKind::ResetCompleted, today, Outcome::Success, Some(Channel::Email)),
        event(AuditKind::ContactsChanged, today, Outcome::Success, None),
        event(AuditKind::ContactsChanged, today, Outcome::Success, None),
        event(AuditKind::ContactsChanged, today, Outcome::Refused { reason: NotAllowedReason::Privileged }, None),
        event(AuditKind::Blocked, today, Outcome::Success, None),
        event(AuditKind::Blocked, today, Outcome::Success, None),
    ];
    for e in &events {
        sink.record(e).await.unwrap();
    }
    let s = sink.audit_summary(3, NOW).await.unwrap();
    let (d2, d1, d0) = (two_ago.date(), yesterday.date(), today.date());
    assert_eq!((s.first_day, s.last_day), (d2, d0));
    let resets = |day, outcome: &str, channel: &str, count| DailyResets {
        day,
        outcome: outcome.into(),
        channel: channel.into(),
        count,
    };
    assert_eq!(
        s.resets,
        [
            resets(d2, "success", "email", 1),
            resets(d1, "failed", "email", 1),
            resets(d1, "success", "email", 1),
            resets(d1, "success", "sms", 1),
            resets(d0, "success", "email", 1),
        ]
    );
    assert_eq!(s.begins, 7);
    assert_eq!(
        s.decoys,
        [Count { name: "no_contact".into(), count: 1 }, Count { name: "unknown_user".into(), count: 2 }]
    );
    assert_eq!(s.decoy_rate(), Some(3.0 / 7.0));
    assert_eq!(s.blocks, [DailyCount { day: d1, count: 1 }, DailyCount { day: d0, count: 2 }]);
    assert_eq!(s.total_blocks(), 3);
    assert_eq!(s.registrations, [DailyCount { day: d2, count: 1 }, DailyCount { day: d0, count: 2 }]);
    assert_eq!(s.total_registrations(), 3);
    let failure = |kind: &str, outcome: &str, reason: &str, count| FailureReason {
        kind: kind.into(),
        outcome: outcome.into(),
        reason: reason.into(),
        count,
    };
    assert_eq!(
        s.top_failures,
        [
            failure("pin_failed", "failed", "wrong PIN", 3),
            failure("contacts_changed", "refused", "privileged", 1),
            failure("reset_failed", "failed", "directory unavailable", 1),
            failure("reset_requested", "limited", "ip_begins", 1),
        ]
    );
    // One day: today only.
    let today_only = sink.audit_summary(1, NOW).await.unwrap();
    assert_eq!((today_only.begins, today_only.total_blocks(), today_only.total_registrations()), (2, 2, 2));
    assert_eq!(today_only.decoy_rate(), Some(0.5));
}

/// An engine whose audit goes to `sink`: one whole reset lands in the table, each step a
/// row, and today's summary counts it.
pub async fn a_real_flow_lands_in_the_table<S>(store: Arc<S>)
where
    S: AuditSink + AuditReport + StateStore + ContactStore + 'static,
{
    let (directory, outbox) = (common::directory(), Outbox::new());
    let sspr = Sspr::builder()
        .directory(directory.clone())
        .notifier(outbox.clone())
        .store_arc(store.clone())
        .contacts_arc(store.clone())
        .audit_arc(store.clone())
        .secret_key(SecretKey::from_bytes(&[0x5a; 32]).unwrap())
        .policy(common::policy())
        .build()
        .unwrap();
    common::enroll(&sspr).await;
    common::whole_flow(&sspr, &outbox).await;
    // The completion's audit record leaves the request path: wait for it, or a loaded
    // machine reads the summary first (resets: 0 was seen in a full run).
    sspr.flush_deliveries().await;
    let now = sspr_core::Clock::now(&sspr_core::SystemClock);
    let s = store.audit_summary(1, now).await.unwrap();
    assert_eq!(s.begins, 1, "{s:?}");
    assert_eq!(s.decoy_rate(), Some(0.0));
    assert_eq!(s.total_registrations(), 1, "{s:?}");
    assert_eq!(s.resets.iter().filter(|r| r.outcome == "success").map(|r| r.count).sum::<u64>(), 1, "{s:?}");
    assert!(s.top_failures.is_empty(), "{s:?}");
}

/// Old rows recorded by a sink opened with `retain_days = 30` (`PRUNE_BATCH` is 1000: these
/// take three batches).
const OLD_ROWS: usize = 2500;

/// With `retain_days = 30`: rows 40 days old go once an event an hour or more later is
/// recorded, in the background (polled here through `rows_before(second)`), and rows 29 days
/// old and newer stay. `sink` was opened with `retain_days = Some(30)`.
pub async fn prunes_past_retention<S, F, Fut>(sink: &S, rows_before: F)
where
    S: AuditSink,
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let old = NOW - Duration::days(40);
    let kept = NOW - Duration::days(29);
    for _ in 0..OLD_ROWS {
        sink.record(&event(AuditKind::PinSent, old, Outcome::Success, Some(Channel::Email))).await.unwrap();
    }
    for _ in 0..3 {
        sink.record(&event(AuditKind::ResetRequested, kept, Outcome::Success, None)).await.unwrap();
    }
    let cutoff = (NOW - Duration::days(30)).unix_timestamp();
    assert_eq!(rows_before(cutoff).await, OLD_ROWS as i64, "nothing pruned while no event is 30 days newer");
    // The event that finds a prune due; the prune runs after it returned.
    sink.record(&event(AuditKind::ResetCompleted, NOW, Outcome::Success, Some(Channel::Email))).await.unwrap();
    // Up to 30 s (1,500 waits of 20 ms) on a loaded machine.
    for _ in 0..1500 {
        if rows_before(cutoff).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rows_before(cutoff).await, 0, "the rows past retain_days are pruned");
    assert_eq!(rows_before(i64::MAX).await, 4, "the three rows inside the retention and the newest stay");
}
