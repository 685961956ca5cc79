//! Issue 14 item 5: helpdesk recovery. An administrator issues a one-time code for a user who
//! has no usable contact; the user redeems it to reach the verified step of a reset. Each
//! test is an attack on the code: reuse, another login, guessing, a late code, a code issued
//! by someone who is not an administrator or for a privileged account, telling real logins
//! from unknown ones by the answer or its timing, and the code leaking where it is recorded.

use std::time::Duration;

use sspr_core::notice::Message;
use sspr_core::{
    Actor, AuditKind, Error, NewPassword, NotAllowedReason, Outcome, Policy, PrivilegedMode, RECOVERY_CODE_DIGITS,
};

use crate::rig::{default_policy, rig, seen, timed};
use crate::support::*;

async fn issue(h: &Harness, login: &str) -> String {
    let code = h.sspr.admin_recovery(&admin(), login, &ctx()).await.unwrap();
    code.code.expose_secret().to_owned()
}

fn refused<T: std::fmt::Debug>(answer: &sspr_core::Result<T>) -> bool {
    matches!(answer, Err(Error::WrongPin { attempts_left: 0 }))
}

#[tokio::test]
async fn a_code_reaches_the_verified_step_once_and_the_reset_completes() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    assert_eq!(code.len(), RECOVERY_CODE_DIGITS as usize);
    let recovered = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await.unwrap();
    assert!(!recovered.modes.is_empty());
    let done = h.sspr.complete_reset(&recovered.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(done.temporary_password.is_some(), "complete_reset works on the recovered flow unchanged");
    // Redeemed twice: refused like any wrong code, and no second flow.
    let again = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
    assert!(refused(&again), "{again:?}");
    let redeemed = h.events_of(AuditKind::RecoveryRedeemed);
    assert_eq!(redeemed.iter().filter(|e| e.outcome == Outcome::Success).count(), 1);
}

#[tokio::test]
async fn a_code_cannot_be_redeemed_for_another_login() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    let bob = h.sspr.redeem_recovery_code(BOB, &code, &ctx()).await;
    assert!(refused(&bob), "{bob:?}");
    // Bob's own pending code, if any, would be another: issuing one for him does not make
    // erin's work for him either.
    let _bobs = issue(&h, BOB).await;
    assert!(refused(&h.sspr.redeem_recovery_code(BOB, &code, &ctx()).await));
    // Erin's still works (the other login's attempts did not touch it).
    h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await.unwrap();
}

#[tokio::test]
async fn guessing_kills_the_code_after_max_wrong_pins() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    let wrong = Harness::wrong(&code);
    for _ in 0..h.sspr.policy().max_wrong_pins {
        assert!(refused(&h.sspr.redeem_recovery_code(NO_CONTACT, &wrong, &ctx()).await));
    }
    let right = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
    assert!(refused(&right), "the code is dead for this client: {right:?}");
    // For this client only (11.9: the caller on another line keeps theirs); four times as
    // many from all clients end it for everyone (`targeted_lockout`).
    let voided = h.events_of(AuditKind::RecoveryRedeemed);
    assert!(voided.iter().any(|e| e.outcome == Outcome::Failed { error: "code voided for this client".into() }));
    // A malformed code is refused before it is counted, naming the field.
    let malformed = h.sspr.redeem_recovery_code(NO_CONTACT, "12", &ctx()).await;
    assert!(matches!(malformed, Err(Error::InvalidInput { field: "code", .. })), "{malformed:?}");
}

#[tokio::test]
async fn redemptions_per_login_are_limited_for_unknown_logins_too() {
    let h = Harness::new().await;
    let cap = h.sspr.policy().max_wrong_pins * 2;
    for login in [NO_CONTACT, "nobody@example.org"] {
        for _ in 0..cap {
            assert!(refused(&h.sspr.redeem_recovery_code(login, "0000000000", &ctx()).await));
        }
        let limited = h.sspr.redeem_recovery_code(login, "0000000000", &ctx()).await;
        assert!(matches!(limited, Err(Error::RateLimited { .. })), "{login}: {limited:?}");
    }
}

#[tokio::test]
async fn a_code_is_dead_after_fifteen_minutes() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    h.advance(Duration::from_secs(15 * 60));
    assert!(refused(&h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await));
    let late = h.events_of(AuditKind::RecoveryRedeemed);
    assert!(late.iter().any(|e| e.outcome == Outcome::Failed { error: "code expired".into() }));
}

#[tokio::test]
async fn a_new_code_replaces_the_pending_one() {
    let h = Harness::new().await;
    let first = issue(&h, NO_CONTACT).await;
    let second = issue(&h, NO_CONTACT).await;
    assert!(refused(&h.sspr.redeem_recovery_code(NO_CONTACT, &first, &ctx()).await));
    h.sspr.redeem_recovery_code(NO_CONTACT, &second, &ctx()).await.unwrap();
}

#[tokio::test]
async fn only_an_administrator_issues_codes() {
    let h = Harness::new().await;
    let answer = h.sspr.admin_recovery(&Actor::User, NO_CONTACT, &ctx()).await;
    assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::AdminOnly })), "{answer:?}");
    assert!(h.events_of(AuditKind::RecoveryIssued).is_empty());
    assert!(h.outbox.messages().is_empty());
}

#[tokio::test]
async fn privileged_disabled_and_unknown_accounts_get_no_code() {
    for mode in [PrivilegedMode::Refuse, PrivilegedMode::TwoMethods] {
        let h = Harness::builder().policy(Policy { privileged_mode: mode, ..policy() }).build().await;
        let answer = h.sspr.admin_recovery(&admin(), ADMIN, &ctx()).await;
        assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })), "{answer:?}");
        let answer = h.sspr.admin_recovery(&admin(), DISABLED, &ctx()).await;
        assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::AccountDisabled })));
        let answer = h.sspr.admin_recovery(&admin(), OUTSIDER, &ctx()).await;
        assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::Ineligible })));
        assert!(matches!(h.sspr.admin_recovery(&admin(), "nobody@example.org", &ctx()).await, Err(Error::UnknownUser)));
        // Self-service off for the user: the reset would be refused at completion.
        let answer = h.sspr.admin_recovery(&admin(), NOT_ENABLED, &ctx()).await;
        assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::NotEnabled })), "{answer:?}");
        let refusals = h.events_of(AuditKind::RecoveryIssued);
        assert_eq!(refusals.len(), 4);
        assert!(refusals.iter().all(|e| matches!(e.outcome, Outcome::Refused { .. })));
        assert!(h.outbox.messages().is_empty(), "no code, no notice");
    }
}

#[tokio::test]
async fn the_users_contacts_hear_of_the_code_issued_and_redeemed() {
    let h = Harness::new().await;
    let code = issue(&h, ALICE).await;
    for to in [ALICE_MAIL, ALICE_PHONE] {
        let notices = h.outbox.messages_to(to);
        assert!(
            matches!(notices.as_slice(), [n] if matches!(n.message, Message::HelpdeskRecovery { redeemed: false })),
            "{to}: {notices:?}"
        );
    }
    h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await.unwrap();
    for to in [ALICE_MAIL, ALICE_PHONE] {
        assert!(
            h.outbox.messages_to(to).iter().any(|n| matches!(n.message, Message::HelpdeskRecovery { redeemed: true })),
            "{to}"
        );
    }
}

#[tokio::test]
async fn the_code_never_appears_in_audit_debug_errors_or_notices() {
    let h = Harness::new().await;
    let issued = h.sspr.admin_recovery(&admin(), ALICE, &ctx()).await.unwrap();
    let code = issued.code.expose_secret().to_owned();
    assert!(!format!("{issued:?}").contains(&code), "Debug of the code");
    let wrong = Harness::wrong(&code);
    let answer = h.sspr.redeem_recovery_code(ALICE, &wrong, &ctx()).await;
    let shown = format!("{answer:?} {}", answer.as_ref().map(|_| String::new()).unwrap_or_else(|e| e.to_string()));
    assert!(!shown.contains(&code) && !shown.contains(&wrong), "{shown}");
    let recovered = h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await.unwrap();
    assert!(!format!("{recovered:?}").contains(&code));
    let audit = serde_json::to_string(&h.events()).unwrap();
    assert!(!audit.contains(&code) && !audit.contains(&wrong), "the audit trail");
    assert!(!audit.contains(&recovered.flow_id), "the flow id is a credential");
    for notice in h.outbox.messages() {
        assert!(!format!("{notice:?}").contains(&code));
        let rendered = notice.render();
        assert!(!rendered.body.contains(&code), "{}", rendered.subject);
    }
}

#[tokio::test(start_paused = true)]
async fn the_answer_and_its_timing_say_nothing_about_the_login() {
    let r = rig(default_policy()).await;
    let code = r.sspr.admin_recovery(&admin(), BOB, &ctx()).await.unwrap();
    let wrong = Harness::wrong(code.code.expose_secret());
    let mut seen_by = Vec::new();
    // A real user with a code (wrong guess), a real user without one, a disabled one, an
    // unknown login.
    for login in [BOB, ALICE, DISABLED, "nobody@example.org"] {
        let (answer, took) = timed(r.sspr.redeem_recovery_code(login, &wrong, &ctx())).await;
        seen_by.push((login, seen(&answer), took));
    }
    let first = (seen_by[0].1.clone(), seen_by[0].2);
    assert!(first.1 >= Duration::from_millis(u64::from(default_policy().min_response_ms)), "{seen_by:?}");
    for (login, answer, took) in &seen_by {
        assert_eq!((answer.clone(), *took), first, "{login}: {seen_by:?}");
    }
}

/// A state store that yields before every call (so two redemptions really interleave) and
/// can fail the puts of reset flows (the store failing mid-redemption), or go down for good
/// right after its next successful put (a store dying between two writes).
#[derive(Debug, Clone, Default)]
struct SharedStore {
    inner: sspr_core::memory::MemoryStateStore,
    fail_flow_puts: std::sync::Arc<std::sync::atomic::AtomicBool>,
    die_after_put: std::sync::Arc<std::sync::atomic::AtomicBool>,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SharedStore {
    fn check(&self) -> Result<(), sspr_core::BackendError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(sspr_core::BackendError::new(sspr_core::BackendErrorKind::Unavailable, "store down"));
        }
        Ok(())
    }
}

#[sspr_core::async_trait]
impl sspr_core::StateStore for SharedStore {
    async fn get(
        &self,
        key: &str,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<Option<sspr_core::backend::StoredValue>, sspr_core::BackendError> {
        tokio::task::yield_now().await;
        self.check()?;
        self.inner.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected: Option<u64>,
        expires_at: sspr_core::time::OffsetDateTime,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<Option<u64>, sspr_core::BackendError> {
        tokio::task::yield_now().await;
        if key.starts_with("sspr/flow/") && self.fail_flow_puts.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(sspr_core::BackendError::new(sspr_core::BackendErrorKind::Unavailable, "store down"));
        }
        self.check()?;
        let written = self.inner.put(key, value, expected, expires_at, now).await?;
        if written.is_some() && self.die_after_put.swap(false, std::sync::atomic::Ordering::SeqCst) {
            self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(written)
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: sspr_core::time::OffsetDateTime,
        now: sspr_core::time::OffsetDateTime,
    ) -> Result<sspr_core::backend::Counter, sspr_core::BackendError> {
        tokio::task::yield_now().await;
        self.check()?;
        self.inner.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), sspr_core::BackendError> {
        self.check()?;
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn two_redemptions_racing_on_one_code_make_one_flow() {
    let store = SharedStore::default();
    let h = Harness::builder().store(std::sync::Arc::new(store.clone())).build().await;
    // A second engine on the same state store: two portal instances.
    let other = Harness::builder().store(std::sync::Arc::new(store)).build().await;
    let code = issue(&h, NO_CONTACT).await;
    let ctx = ctx();
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx),
            other.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx),
        );
        let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert!(wins <= 1, "both redemptions of one code won: {a:?} {b:?}");
        // A double submit: the twin typed the right code too, and is told it was used.
        let losers_told = [&a, &b].iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(Error::AlreadyUsed)));
        assert!(losers_told, "{a:?} {b:?}");
    }
    let successes = h
        .events_of(AuditKind::RecoveryRedeemed)
        .into_iter()
        .chain(other.events_of(AuditKind::RecoveryRedeemed))
        .filter(|e| e.outcome == Outcome::Success)
        .count();
    assert_eq!(successes, 1, "exactly one redemption won");
}

#[tokio::test]
async fn redemptions_per_client_are_limited_across_logins() {
    let cap = 4;
    let h = Harness::builder().policy(Policy { ip_begins_per_hour: cap, ..policy() }).build().await;
    // One client trying a code for many logins (each under its own per-login cap).
    let logins = [NO_CONTACT, ALICE, BOB, "nobody@example.org", "x@example.org"];
    for login in &logins[..cap as usize] {
        assert!(refused(&h.sspr.redeem_recovery_code(login, "0000000000", &ctx()).await));
    }
    let limited = h.sspr.redeem_recovery_code(logins[cap as usize], "0000000000", &ctx()).await;
    assert!(matches!(limited, Err(Error::RateLimited { .. })), "{limited:?}");
    let events = h.events_of(AuditKind::RecoveryRedeemed);
    assert!(events.iter().any(|e| e.outcome == Outcome::Limited { limit: "ip_recovery_redeems".into() }));
    // Another client is not held by it, and a right code still works from there.
    let code = issue(&h, NO_CONTACT).await;
    let elsewhere = sspr_core::RequestContext::from_ip("198.51.100.9".parse().unwrap());
    h.sspr.redeem_recovery_code(NO_CONTACT, &code, &elsewhere).await.unwrap();
}

#[tokio::test]
async fn a_store_failing_mid_redemption_gives_the_code_back() {
    let store = SharedStore::default();
    let h = Harness::builder().store(std::sync::Arc::new(store.clone())).build().await;
    let code = issue(&h, NO_CONTACT).await;
    store.fail_flow_puts.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
    assert!(matches!(failed, Err(Error::Backend { .. })), "{failed:?}");
    store.fail_flow_puts.store(false, std::sync::atomic::Ordering::SeqCst);
    // The code was given back: the user, trying again, is not sent back to the helpdesk.
    let recovered = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await.unwrap();
    h.sspr.complete_reset(&recovered.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    // Spent now.
    assert!(refused(&h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await));
}

#[tokio::test]
async fn a_store_dying_between_the_two_writes_of_a_redemption_leaves_the_code() {
    // The store goes down for good right after the redemption's first write (a restart, a
    // failover). When that write was the code's "used" mark, the flow could not be stored
    // and the code could not be given back either: the user, retrying once the store was
    // back, was refused and sent back to the helpdesk.
    let store = SharedStore::default();
    let h = Harness::builder().store(std::sync::Arc::new(store.clone())).build().await;
    let code = issue(&h, NO_CONTACT).await;
    store.die_after_put.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
    assert!(matches!(failed, Err(Error::Backend { .. })), "{failed:?}");
    store.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let recovered = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
    let recovered = recovered.expect("the code must still work after the store came back");
    h.sspr.complete_reset(&recovered.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(refused(&h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await), "and then once only");
}

/// A directory whose lookups fail while `down` is set.
#[derive(Debug)]
struct FlakyDirectory {
    inner: sspr_core::memory::MemoryDirectory,
    down: std::sync::atomic::AtomicBool,
}

#[sspr_core::async_trait]
impl sspr_core::Directory for FlakyDirectory {
    async fn find_user(
        &self,
        login: &sspr_core::NormalizedLogin,
    ) -> Result<Option<sspr_core::backend::DirectoryUser>, sspr_core::BackendError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(sspr_core::BackendError::new(sspr_core::BackendErrorKind::Unavailable, "directory down"));
        }
        self.inner.find_user(login).await
    }
    async fn set_password(
        &self,
        user: &sspr_core::UserId,
        password: &sspr_core::Password,
        must_change: bool,
    ) -> Result<(), sspr_core::BackendError> {
        self.inner.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &sspr_core::UserId) -> Result<(), sspr_core::BackendError> {
        self.inner.unlock(user).await
    }
    async fn authenticate(
        &self,
        user: &sspr_core::UserId,
        password: &sspr_core::Password,
    ) -> Result<sspr_core::backend::Authentication, sspr_core::BackendError> {
        self.inner.authenticate(user, password).await
    }
    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<sspr_core::backend::DirectoryUser>, sspr_core::BackendError> {
        self.inner.search(query, limit).await
    }
}

#[tokio::test]
async fn a_directory_failing_at_redemption_spends_nothing() {
    let directory = std::sync::Arc::new(FlakyDirectory {
        inner: sspr_core::memory::MemoryDirectory::with_users(users()).unwrap(),
        down: std::sync::atomic::AtomicBool::new(false),
    });
    let h = Harness::builder().directory(directory.clone()).build().await;
    let code = issue(&h, NO_CONTACT).await;
    directory.down.store(true, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..h.sspr.policy().max_wrong_pins {
        let failed = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
        assert!(matches!(failed, Err(Error::Backend { .. })), "{failed:?}");
    }
    directory.down.store(false, std::sync::atomic::Ordering::SeqCst);
    h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await.unwrap();
}

// Sent to a contact (admin_send_recovery_code).

#[tokio::test]
async fn a_sent_code_goes_to_the_registered_contact_and_redeems_once() {
    let h = Harness::new().await;
    let sent = h.sspr.admin_send_recovery_code(&admin(), ALICE, sspr_core::Channel::Sms, &ctx()).await.unwrap();
    assert_eq!(sent.channel, sspr_core::Channel::Sms);
    assert!(!sent.masked.contains("900123") && sent.masked.ends_with("23"), "{}", sent.masked);
    let code = h.outbox.last_recovery_code_to(ALICE_PHONE).expect("the code went to alice's phone");
    assert_eq!(code.len(), RECOVERY_CODE_DIGITS as usize);
    // Neither the answer, the audit nor the other notices carry it.
    assert!(!format!("{sent:?}").contains(&code));
    let audit = serde_json::to_string(&h.events()).unwrap();
    assert!(!audit.contains(&code), "the audit trail");
    let issued = h.events_of(AuditKind::RecoveryIssued);
    assert!(matches!(issued.as_slice(), [e] if e.outcome == Outcome::Success
        && e.destination.as_deref() == Some(sent.masked.as_str())
        && e.channel == Some(sspr_core::Channel::Sms)));
    for n in h.outbox.messages_to(ALICE_MAIL) {
        assert!(!n.render().body.contains(&code), "the notice to the other contact");
    }
    let recovered = h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await.unwrap();
    h.sspr.complete_reset(&recovered.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(refused(&h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await));
    // It replaces a shown code and is replaced by one, as any recovery code.
    let shown = issue(&h, ALICE).await;
    h.sspr.admin_send_recovery_code(&admin(), ALICE, sspr_core::Channel::Email, &ctx()).await.unwrap();
    assert!(refused(&h.sspr.redeem_recovery_code(ALICE, &shown, &ctx()).await));
    let mailed = h.outbox.last_recovery_code_to(ALICE_MAIL).unwrap();
    h.sspr.redeem_recovery_code(ALICE, &mailed, &ctx()).await.unwrap();
}

#[tokio::test]
async fn a_code_is_sent_only_where_a_reset_pin_could_go() {
    let h = Harness::builder().policy(Policy { sms_enabled: false, ..policy() }).build().await;
    use sspr_core::Channel::{Email, Sms};
    // No contact by that channel, SMS switched off, a contact still cooling off: nothing
    // stored, nothing sent, the field named.
    h.user_sets(
        BOB,
        sspr_core::ContactUpdate {
            email: sspr_core::ContactChange::Set("bob.new@home.example".into()),
            ..Default::default()
        },
    )
    .await;
    h.outbox.clear();
    for (login, channel) in [(NO_CONTACT, Email), (ALICE, Sms), (BOB, Email)] {
        let answer = h.sspr.admin_send_recovery_code(&admin(), login, channel, &ctx()).await;
        assert!(matches!(answer, Err(Error::InvalidInput { field: "channel", .. })), "{login}: {answer:?}");
    }
    assert!(h.outbox.messages().is_empty());
    assert!(h.events_of(AuditKind::RecoveryIssued).iter().all(|e| matches!(e.outcome, Outcome::Failed { .. })));
    // The account rules of a shown code hold too.
    let answer = h.sspr.admin_send_recovery_code(&Actor::User, ALICE, Email, &ctx()).await;
    assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::AdminOnly })), "{answer:?}");
    let answer = h.sspr.admin_send_recovery_code(&admin(), DISABLED, Email, &ctx()).await;
    assert!(matches!(answer, Err(Error::NotAllowed { reason: NotAllowedReason::AccountDisabled })), "{answer:?}");
}

#[tokio::test]
async fn sent_codes_count_against_the_destination_as_reset_pins_do() {
    let h = Harness::new().await;
    let cap = h.sspr.policy().destination_sends_per_hour;
    // Reset PINs to bob's address fill its cap but one...
    for _ in 0..cap - 1 {
        h.pin_for(BOB, "email", BOB_MAIL).await;
    }
    h.sspr.admin_send_recovery_code(&admin(), BOB, sspr_core::Channel::Email, &ctx()).await.unwrap();
    h.outbox.clear();
    // ...the recovery code takes the last place; the next is refused and nothing is sent.
    let answer = h.sspr.admin_send_recovery_code(&admin(), BOB, sspr_core::Channel::Email, &ctx()).await;
    assert!(matches!(answer, Err(Error::RateLimited { .. })), "{answer:?}");
    assert!(h.outbox.last_recovery_code_to(BOB_MAIL).is_none());
    let limited = h.events_of(AuditKind::RecoveryIssued);
    assert!(limited.iter().any(|e| e.outcome == Outcome::Limited { limit: "destination".into() }));
}

/// The victim of a targeted lock-out (11.9: wrong PINs from a few clients block a user for a
/// day) is who calls the helpdesk. A code was issued to a blocked user without a word; it was
/// spent at redemption and the reset then refused at completion (`Blocked`): the caller was
/// sent back with a dead code. Issuing now says the user is blocked and stores nothing; once
/// the administrator lifts the block, the code works.
#[tokio::test]
async fn a_blocked_user_gets_no_code_until_the_block_is_lifted() {
    let policy = Policy {
        user_failures_before_block: 3,
        client_failures_before_block: 2,
        failures_before_delay: 50,
        failure_delay_secs: 0,
        max_failure_delay_secs: 0,
        ..policy()
    };
    let h = Harness::builder().policy(policy).build().await;
    // Wrong PINs from two clients block alice.
    for client in ["198.51.100.1", "198.51.100.2"] {
        let from = sspr_core::RequestContext::from_ip(client.parse().unwrap());
        let flow = h.sspr.begin_reset(ALICE, &from).await.unwrap().flow_id;
        h.sspr.send_pin(&flow, "email", None, &from).await.unwrap();
        for _ in 0..2 {
            let _ = h.sspr.verify_pin(&flow, sspr_core::Pin::new("00000000"), &from).await;
        }
    }
    assert!(matches!(h.sspr.begin_reset(ALICE, &ctx()).await, Err(Error::Blocked { .. })), "alice is blocked");
    let issued = h.sspr.admin_recovery(&admin(), ALICE, &ctx()).await;
    assert!(matches!(issued, Err(Error::Blocked { .. })), "{:?}", issued.map(|_| ()));
    let refused = h.events_of(AuditKind::RecoveryIssued);
    assert_eq!(refused.last().unwrap().outcome, Outcome::Limited { limit: "blocked".into() });
    h.sspr.unblock(&admin(), ALICE, &ctx()).await.unwrap();
    let code = issue(&h, ALICE).await;
    let recovered = h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await.unwrap();
    h.sspr.complete_reset(&recovered.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
}

#[tokio::test]
async fn a_reset_by_pin_ends_the_pending_recovery_code() {
    let h = Harness::new().await;
    let code = issue(&h, ALICE).await;
    // The user found her phone after calling the helpdesk and reset by PIN: the code she no
    // longer needs must not reset the account a second time for whoever else heard it.
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, sspr_core::Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    let after = h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await;
    assert!(refused(&after), "a code issued before the reset still redeems after it: {after:?}");
    let redeemed = h.events_of(AuditKind::RecoveryRedeemed);
    assert!(
        matches!(redeemed.as_slice(), [e] if e.outcome == Outcome::Failed { error: "no pending code".into() }),
        "{redeemed:?}"
    );
}

/// The user changed their own password after calling the helpdesk (they remembered it, or
/// a colleague's machine asked them to): as after a reset by PIN, the code issued meanwhile
/// must not reset the account a second time for whoever else heard it.
#[tokio::test]
async fn a_password_change_ends_the_pending_recovery_code() {
    let h = Harness::new().await;
    let code = issue(&h, ALICE).await;
    let (current, new) = (sspr_core::Password::new(INITIAL_PASSWORD), sspr_core::Password::new("Fresh-Meadow-41"));
    h.sspr.change_password(ALICE, &current, &new, &ctx()).await.unwrap();
    let after = h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await;
    assert!(refused(&after), "a code issued before the change still redeems after it: {after:?}");
    let redeemed = h.events_of(AuditKind::RecoveryRedeemed);
    assert!(
        matches!(redeemed.as_slice(), [e] if e.outcome == Outcome::Failed { error: "no pending code".into() }),
        "{redeemed:?}"
    );
}

/// An administrator who switches self-service off for a user ends their pending code: while
/// off the code only fails at completion, and switching self-service back on minutes later
/// (the user's case settled) must not bring a forgotten code back to life.
#[tokio::test]
async fn disabling_self_service_ends_the_pending_recovery_code() {
    let h = Harness::new().await;
    let code = issue(&h, ALICE).await;
    h.sspr.set_enabled(&admin(), ALICE, false, &ctx()).await.unwrap();
    h.sspr.set_enabled(&admin(), ALICE, true, &ctx()).await.unwrap();
    let after = h.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await;
    assert!(refused(&after), "a code issued before the disable redeems after the re-enable: {after:?}");
    let redeemed = h.events_of(AuditKind::RecoveryRedeemed);
    assert!(
        matches!(redeemed.as_slice(), [e] if e.outcome == Outcome::Failed { error: "no pending code".into() }),
        "{redeemed:?}"
    );
}

#[tokio::test]
async fn a_spent_codes_twin_is_told_it_was_used_and_nobody_else_is() {
    let h = Harness::new().await;
    let code = issue(&h, NO_CONTACT).await;
    h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await.unwrap();
    // The holder's second submit (a double click, the back button): not "wrong code" while
    // the reset goes on in the first answer.
    let twin = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
    assert!(matches!(twin, Err(Error::AlreadyUsed)), "the right code's twin: {twin:?}");
    // Whoever does not hold the code still gets the one refusal: a wrong code for the login
    // whose code was spent, the spent code for another login or an unknown one.
    let wrong = Harness::wrong(&code);
    for (login, typed) in [(NO_CONTACT, wrong.as_str()), (ALICE, code.as_str()), ("nobody@example.org", code.as_str())]
    {
        let answer = h.sspr.redeem_recovery_code(login, typed, &ctx()).await;
        assert!(refused(&answer), "{login}: {answer:?}");
    }
}

/// A spent code typed again (a double submit's twin, the back button) spends none of the
/// user's hourly tries: on main each twin was counted, and after `2 × max_wrong_pins` of them
/// the user's next code from the helpdesk was refused as `RateLimited`. Nor is the twin check a
/// free oracle: it answers only for the spent code of that login; every other code is counted
/// before it is compared, up to the same cap.
#[tokio::test]
async fn a_spent_codes_twin_spends_none_of_the_users_tries() {
    let h = Harness::new().await;
    let cap = (h.sspr.policy().max_wrong_pins * 2) as usize;
    let code = issue(&h, NO_CONTACT).await;
    h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await.unwrap();
    for i in 0..cap {
        let twin = h.sspr.redeem_recovery_code(NO_CONTACT, &code, &ctx()).await;
        assert!(matches!(twin, Err(Error::AlreadyUsed)), "twin {i}: {twin:?}");
    }
    let next = issue(&h, NO_CONTACT).await;
    let redeemed = h.sspr.redeem_recovery_code(NO_CONTACT, &next, &ctx()).await;
    assert!(redeemed.is_ok(), "the twins spent the user's tries: {redeemed:?}");
    // The newer code's twin is recognised too (it replaced the older one's note).
    let twin = h.sspr.redeem_recovery_code(NO_CONTACT, &next, &ctx()).await;
    assert!(matches!(twin, Err(Error::AlreadyUsed)), "{twin:?}");
    // Two redemptions counted so far; every other code is counted until the cap refuses.
    let wrong = Harness::wrong(&next);
    for i in 0..cap - 2 {
        let answer = h.sspr.redeem_recovery_code(NO_CONTACT, &wrong, &ctx()).await;
        assert!(refused(&answer), "wrong code {i}: {answer:?}");
    }
    let limited = h.sspr.redeem_recovery_code(NO_CONTACT, &wrong, &ctx()).await;
    assert!(matches!(limited, Err(Error::RateLimited { .. })), "{limited:?}");
    // The spent code for another login is only that login's wrong code.
    let elsewhere = h.sspr.redeem_recovery_code(ALICE, &next, &ctx()).await;
    assert!(refused(&elsewhere), "{elsewhere:?}");
}
