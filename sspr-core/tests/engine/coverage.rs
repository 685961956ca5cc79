//! Registration coverage: the enrollment report, registration reminders, re-confirmation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sspr_core::notice::{Message, Notification};
use sspr_core::{
    Actor, AuditKind, BackendError, BackendErrorKind, ContactStore, EnrollmentFilter, Error, NotAllowedReason,
    Notifier, Outcome, Pin, Policy, UserId,
};

use crate::support::*;

const STAFF: &str = "ou=staff,dc=example,dc=org";
const URL: &str = "https://sspr.example.org/passwordnotification";
const DAY: Duration = Duration::from_secs(86_400);

fn staff() -> EnrollmentFilter {
    EnrollmentFilter { ous: vec![STAFF.into()], ..Default::default() }
}

fn reminder_policy() -> Policy {
    Policy { registration_url: URL.into(), ..policy() }
}

fn field(e: Error) -> &'static str {
    match e {
        Error::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn the_report_counts_and_flags_every_covered_user() {
    let h = Harness::builder().policy(Policy { user_failures_before_block: 5, ..policy() }).build().await;
    // Bob is blocked: five wrong PINs (the user-wide block at 5 here).
    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    for _ in 0..5 {
        let _ = h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await;
    }
    let report = h.sspr.enrollment_report(&admin(), &staff(), &ctx()).await.unwrap();
    let logins: Vec<&str> = report.users.iter().map(|u| u.login.as_str()).collect();
    // carol is in ou=contractors: outside the filter.
    assert_eq!(logins, [ALICE, BOB, DISABLED, NO_CONTACT, NOT_ENABLED, ADMIN]);
    let c = report.counts;
    assert_eq!((c.users, c.enabled, c.registered, c.without_contacts), (6, 4, 3, 1));
    assert_eq!((c.never_used, c.blocked, c.privileged, c.without_mail, c.stale), (3, 1, 1, 1, 0));
    assert_eq!(report.stale_after_days, 365, "no reconfirm_after_days in the policy: a year");
    assert!(!report.truncated);
    let entry = |login: &str| report.users.iter().find(|u| u.login == login).unwrap().clone();
    let erin = entry(NO_CONTACT);
    assert!(erin.enabled && erin.without_contacts && !erin.never_used && erin.has_directory_mail);
    let bob = entry(BOB);
    assert!(bob.blocked && bob.blocked_until.is_some() && !bob.has_directory_mail && bob.never_used);
    let root = entry(ADMIN);
    assert!(root.privileged && !root.enabled);
    assert!(entry(DISABLED).account_disabled);
    assert_eq!(entry(ALICE).email_masked.as_deref(), Some("a***@m***.example"));
    // A report is written to files: masks only, never a registered address or number.
    let json = serde_json::to_string(&report).unwrap();
    for secret in [ALICE_MAIL, ALICE_PHONE, BOB_MAIL, "dave@home.example", "frank@home.example"] {
        assert!(!json.contains(secret), "{secret} in the report");
    }
    let event = h.events_of(AuditKind::EnrollmentReport).pop().unwrap();
    assert_eq!((event.actor, event.outcome), (Some(admin()), Outcome::Success));

    // Registering a contact, then using it, moves a user from one list to another.
    h.sspr
        .update_contacts(
            &admin(),
            NO_CONTACT,
            sspr_core::ContactUpdate {
                email: sspr_core::ContactChange::Set("erin@home.example".into()),
                ..Default::default()
            },
            &ctx(),
        )
        .await
        .unwrap();
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, sspr_core::NewPassword::Temporary, &ctx()).await.unwrap();
    let c = h.sspr.enrollment_report(&admin(), &staff(), &ctx()).await.unwrap().counts;
    assert_eq!((c.registered, c.without_contacts, c.never_used), (4, 0, 3));

    // A year on, every contact is stale (frank's too: not enabled, still registered).
    h.advance(DAY * 366);
    let report = h.sspr.enrollment_report(&admin(), &staff(), &ctx()).await.unwrap();
    let stale: Vec<&str> = report.users.iter().filter(|u| u.stale).map(|u| u.login.as_str()).collect();
    assert_eq!(stale, [ALICE, BOB, DISABLED, NO_CONTACT, NOT_ENABLED]);
    let shorter = EnrollmentFilter { stale_after_days: Some(400), ..staff() };
    assert_eq!(h.sspr.enrollment_report(&admin(), &shorter, &ctx()).await.unwrap().counts.stale, 0);
}

#[tokio::test]
async fn the_report_filters_by_ou_and_group() {
    let h = Harness::new().await;
    let all = h.sspr.enrollment_report(&admin(), &EnrollmentFilter::default(), &ctx()).await.unwrap();
    assert_eq!(all.counts.users, 7, "no filter: every user the directory lists");
    let contractors = EnrollmentFilter { ous: vec!["OU=Contractors, DC=example,DC=org".into()], ..Default::default() };
    let report = h.sspr.enrollment_report(&admin(), &contractors, &ctx()).await.unwrap();
    assert_eq!(report.users.iter().map(|u| u.login.as_str()).collect::<Vec<_>>(), [OUTSIDER]);
    assert!(!report.users[0].eligible);
    let group = EnrollmentFilter { groups: vec!["staff".into()], ..staff() };
    let report = h.sspr.enrollment_report(&admin(), &group, &ctx()).await.unwrap();
    assert_eq!(report.users.iter().map(|u| u.login.as_str()).collect::<Vec<_>>(), [ALICE]);
    let both = EnrollmentFilter { groups: vec!["staff".into()], ..contractors };
    assert!(h.sspr.enrollment_report(&admin(), &both, &ctx()).await.unwrap().users.is_empty(), "OU and group");
}

#[tokio::test]
async fn a_bad_filter_or_a_user_gets_a_typed_error_and_nothing_is_read_or_sent() {
    let h = Harness::builder().policy(reminder_policy()).build().await;
    let bad = [
        (EnrollmentFilter { ous: vec!["staff".into()], ..Default::default() }, "ous"),
        (EnrollmentFilter { ous: vec![" ".into()], ..Default::default() }, "ous"),
        (EnrollmentFilter { groups: vec![String::new()], ..Default::default() }, "groups"),
        (EnrollmentFilter { groups: vec!["g".repeat(1025)], ..Default::default() }, "groups"),
        (EnrollmentFilter { groups: vec!["a".into(); 101], ..Default::default() }, "groups"),
        (EnrollmentFilter { stale_after_days: Some(0), ..Default::default() }, "stale_after_days"),
        (EnrollmentFilter { stale_after_days: Some(3651), ..Default::default() }, "stale_after_days"),
    ];
    for (filter, name) in bad {
        assert_eq!(field(h.sspr.enrollment_report(&admin(), &filter, &ctx()).await.unwrap_err()), name);
        assert_eq!(field(h.sspr.send_registration_reminders(&admin(), &filter, &ctx()).await.unwrap_err()), name);
    }
    for call in [
        h.sspr.enrollment_report(&Actor::User, &staff(), &ctx()).await.map(|_| ()),
        h.sspr.send_registration_reminders(&Actor::User, &staff(), &ctx()).await.map(|_| ()),
    ] {
        assert!(matches!(call, Err(Error::NotAllowed { reason: NotAllowedReason::AdminOnly })), "{call:?}");
    }
    assert!(h.outbox.messages().is_empty());
    assert!(h.events_of(AuditKind::EnrollmentReport).is_empty() && h.events_of(AuditKind::ReminderSent).is_empty());
    // Without a registration page there is nothing to link to.
    let h = Harness::new().await;
    let err = h.sspr.send_registration_reminders(&admin(), &staff(), &ctx()).await.unwrap_err();
    assert!(matches!(&err, Error::Config(m) if m.contains("registration_url")), "{err:?}");
    assert!(h.outbox.messages().is_empty());
}

#[tokio::test]
async fn reminders_go_to_the_directory_mailbox_once_per_interval() {
    let h = Harness::builder().policy(reminder_policy()).build().await;
    // The nightly job started twice at once: one reminder between them.
    let (admin, filter, ctx) = (admin(), staff(), ctx());
    let (a, b) = tokio::join!(
        h.sspr.send_registration_reminders(&admin, &filter, &ctx),
        h.sspr.send_registration_reminders(&admin, &filter, &ctx)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    // erin is the one enabled user without contacts.
    let mut reminded = [a.reminded.clone(), b.reminded.clone()].concat();
    reminded.sort();
    assert_eq!(reminded, [NO_CONTACT]);
    assert_eq!(a.already_reminded + b.already_reminded, 1);
    let sent = h.outbox.messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to.as_str(), NO_CONTACT, "the directory mailbox");
    assert!(matches!(&sent[0].message, Message::RegistrationReminder { url, confirm: false } if url == URL));
    assert!(sent[0].render().body.contains(URL));
    let event = h.events_of(AuditKind::ReminderSent).pop().unwrap();
    assert_eq!((event.actor, event.outcome), (Some(admin.clone()), Outcome::Success));
    assert_eq!(event.destination.as_deref(), Some("e***@e***.org"));

    // It runs again the next nights: nobody is mailed twice in the interval.
    h.advance(DAY);
    assert_eq!(h.sspr.send_registration_reminders(&admin, &filter, &ctx).await.unwrap().already_reminded, 1);
    h.advance(DAY * 5);
    assert!(h.sspr.send_registration_reminders(&admin, &filter, &ctx).await.unwrap().reminded.is_empty());
    assert_eq!(h.outbox.messages().len(), 1);
    h.advance(DAY);
    assert_eq!(h.sspr.send_registration_reminders(&admin, &filter, &ctx).await.unwrap().reminded, [NO_CONTACT]);
    assert_eq!(h.outbox.messages().len(), 2, "a week later, one more");
}

#[tokio::test]
async fn stale_contacts_are_asked_to_confirm_at_the_directory_mailbox_never_at_a_contact() {
    let h = Harness::builder().policy(Policy { reconfirm_after_days: 180, ..reminder_policy() }).build().await;
    h.sspr
        .update_contacts(
            &admin(),
            NO_CONTACT,
            sspr_core::ContactUpdate {
                email: sspr_core::ContactChange::Set("erin@home.example".into()),
                ..Default::default()
            },
            &ctx(),
        )
        .await
        .unwrap();
    h.outbox.clear();
    h.advance(DAY * 180);
    let run = h.sspr.send_registration_reminders(&admin(), &staff(), &ctx()).await.unwrap();
    // alice and erin have mailboxes; bob has none; dave's account is disabled; frank is not
    // enabled (nothing to confirm for sspr).
    assert_eq!(run.reminded, [ALICE, NO_CONTACT]);
    assert_eq!((run.without_mail, run.skipped_ineligible, run.skipped_privileged), (1, 1, 0));
    for n in h.outbox.messages() {
        assert!(matches!(n.message, Message::RegistrationReminder { confirm: true, .. }), "{n:?}");
        assert!([ALICE, NO_CONTACT].contains(&n.to.as_str()), "only directory mailboxes: {}", n.to.as_str());
    }
    assert!(h.outbox.messages_to(ALICE_MAIL).is_empty() && h.outbox.messages_to(ALICE_PHONE).is_empty());
}

#[tokio::test]
async fn privileged_users_are_counted_but_never_reminded() {
    let h = Harness::builder().policy(reminder_policy()).build().await;
    // Root was enabled before joining Domain Admins (the engine refuses to enable them now).
    let root = UserId::new("uid=root,ou=staff,dc=example,dc=org");
    h.contacts.save(&root, &sspr_core::backend::Enrollment { enabled: true, ..Default::default() }, 0).await.unwrap();
    let report = h.sspr.enrollment_report(&admin(), &staff(), &ctx()).await.unwrap();
    assert_eq!((report.counts.without_contacts, report.counts.privileged), (2, 1));
    let run = h.sspr.send_registration_reminders(&admin(), &staff(), &ctx()).await.unwrap();
    assert_eq!((run.reminded.as_slice(), run.skipped_privileged), ([NO_CONTACT.to_owned()].as_slice(), 1));
    assert!(h.outbox.messages_to(ADMIN).is_empty());
}

/// An outbox that refuses every notice while `down`.
#[derive(Debug)]
struct FlakyNotifier {
    outbox: sspr_core::memory::Outbox,
    down: AtomicBool,
}

#[sspr_core::async_trait]
impl Notifier for FlakyNotifier {
    async fn send(&self, n: &Notification) -> Result<(), BackendError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BackendError::new(BackendErrorKind::Unavailable, "smtp down"));
        }
        self.outbox.send(n).await
    }
}

#[tokio::test]
async fn a_refused_reminder_is_audited_and_sent_at_the_next_run() {
    let notifier = Arc::new(FlakyNotifier { outbox: sspr_core::memory::Outbox::new(), down: AtomicBool::new(true) });
    let h = Harness::builder().policy(reminder_policy()).notifier(notifier.clone()).build().await;
    let run = h.sspr.send_registration_reminders(&admin(), &staff(), &ctx()).await.unwrap();
    assert_eq!((run.reminded.len(), run.failed), (0, 1));
    let event = h.events_of(AuditKind::ReminderSent).pop().unwrap();
    assert!(matches!(event.outcome, Outcome::Failed { .. }), "{event:?}");
    notifier.down.store(false, Ordering::SeqCst);
    let run = h.sspr.send_registration_reminders(&admin(), &staff(), &ctx()).await.unwrap();
    assert_eq!((run.reminded.as_slice(), run.failed), ([NO_CONTACT.to_owned()].as_slice(), 0));
    assert_eq!(notifier.outbox.messages_to(NO_CONTACT).len(), 1);
}

/// The in-memory contact store without `list`, like a host store that does not offer it.
#[derive(Debug)]
struct NoList(sspr_core::memory::MemoryContactStore);

#[sspr_core::async_trait]
impl ContactStore for NoList {
    async fn get(&self, user: &UserId) -> Result<Option<sspr_core::backend::Enrollment>, BackendError> {
        self.0.get(user).await
    }
    async fn save(
        &self,
        user: &UserId,
        enrollment: &sspr_core::backend::Enrollment,
        expected_version: u64,
    ) -> Result<bool, BackendError> {
        self.0.save(user, enrollment, expected_version).await
    }
}

#[tokio::test]
async fn a_contact_store_that_cannot_list_gives_the_same_report() {
    let listing = Harness::new().await;
    let one_by_one = Harness::builder().contacts(|m| Arc::new(NoList(m))).build().await;
    let a = listing.sspr.enrollment_report(&admin(), &EnrollmentFilter::default(), &ctx()).await.unwrap();
    let b = one_by_one.sspr.enrollment_report(&admin(), &EnrollmentFilter::default(), &ctx()).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a.counts.registered, 3);
}

#[tokio::test]
async fn contacts_are_asked_for_again_after_reconfirm_after_days() {
    let h = Harness::builder().policy(Policy { reconfirm_after_days: 90, ..policy() }).build().await;
    assert!(!h.sspr.contacts(ALICE).await.unwrap().confirm_due);
    h.advance(DAY * 89);
    assert!(!h.sspr.contacts(ALICE).await.unwrap().confirm_due);
    h.advance(DAY);
    assert!(h.sspr.contacts(ALICE).await.unwrap().confirm_due, "90 days after the registration");
    let view = h.sspr.confirm_contacts(&Actor::User, ALICE, &ctx()).await.unwrap();
    assert!(!view.confirm_due && view.email.is_some());
    let event = h.events_of(AuditKind::ContactsConfirmed).pop().unwrap();
    assert_eq!((event.actor, event.outcome), (Some(Actor::User), Outcome::Success));
    assert!(h.outbox.messages().is_empty(), "confirming sends nothing");
    h.advance(DAY * 89);
    assert!(!h.sspr.contacts(ALICE).await.unwrap().confirm_due);
    // Changing a contact confirms too.
    h.advance(DAY);
    assert!(h.sspr.contacts(ALICE).await.unwrap().confirm_due);
    let view = h
        .user_sets(
            ALICE,
            sspr_core::ContactUpdate {
                email: sspr_core::ContactChange::Set("alice.new@mail.example".into()),
                ..Default::default()
            },
        )
        .await;
    assert!(!view.confirm_due);

    // A user whose SSPR is not enabled cannot confirm; one without contacts has nothing to.
    let before = h.sspr.contacts(NOT_ENABLED).await.unwrap();
    let err = h.sspr.confirm_contacts(&Actor::User, NOT_ENABLED, &ctx()).await.unwrap_err();
    assert!(matches!(err, Error::NotAllowed { reason: NotAllowedReason::NotEnabled }), "{err:?}");
    assert_eq!(h.sspr.contacts(NOT_ENABLED).await.unwrap(), before, "nothing changed");
    let events = h.events_of(AuditKind::ContactsConfirmed).len();
    h.sspr.confirm_contacts(&Actor::User, NO_CONTACT, &ctx()).await.unwrap();
    assert_eq!(h.events_of(AuditKind::ContactsConfirmed).len(), events, "nothing to confirm, nothing audited");
    assert!(matches!(
        h.sspr.confirm_contacts(&Actor::User, "bad login\u{0}", &ctx()).await,
        Err(Error::InvalidInput { field: "login", .. })
    ));
}

#[tokio::test]
async fn without_reconfirm_after_days_nobody_is_asked() {
    let h = Harness::new().await;
    h.advance(DAY * 1000);
    assert!(!h.sspr.contacts(ALICE).await.unwrap().confirm_due);
}
