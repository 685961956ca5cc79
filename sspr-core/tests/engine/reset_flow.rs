//! The reset flow as a user lives it: happy paths, expiry edges, wrong PINs, replay, resend.

use sspr_core::Pin;
use std::time::Duration;

use sspr_core::{AuditKind, Channel, CompletionMode, Error, NewPassword, Password, Policy, notice::Message};

use crate::support::*;

#[tokio::test]
async fn happy_path_by_email_sets_a_temporary_password_that_must_change() {
    let h = Harness::new().await;
    let challenge = h.sspr.begin_reset("  Alice@Example.ORG ", &ctx()).await.unwrap();
    assert_eq!(challenge.flow_id.len(), 32);
    assert_eq!(challenge.expires_at, START + Duration::from_secs(900));
    let masks: Vec<_> = challenge.methods.iter().map(|m| (m.id.as_str(), m.masked.as_str())).collect();
    assert_eq!(masks, [("email", "a***@m***.example"), ("sms", "+44 ******* 23")]);

    let sent = h.sspr.send_pin(&challenge.flow_id, "email", None, &ctx()).await.unwrap();
    assert_eq!(sent.expires_at, START + Duration::from_secs(600));
    assert_eq!(sent.resend_after, START + Duration::from_secs(60));
    assert_eq!(sent.attempts_left, 5);
    let pin = h.outbox.last_pin_to(ALICE_MAIL).unwrap();
    assert_eq!(pin.len(), 8);
    assert!(pin.bytes().all(|b| b.is_ascii_digit()));
    // The other contact hears that a reset was requested, without the PIN.
    let notices = h.outbox.messages_to(ALICE_PHONE);
    assert_eq!(notices.len(), 1);
    assert!(matches!(&notices[0].message, Message::ResetRequested { channel: Channel::Email, .. }));

    let verified = h.sspr.verify_pin(&challenge.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
    assert_eq!(verified.modes, [CompletionMode::Temporary, CompletionMode::UnlockOnly]);

    let outcome = h.sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.must_change);
    let temporary = outcome.temporary_password.expect("a temporary password is returned");
    assert_eq!(temporary.expose_secret().chars().count(), 16);
    let alice = h.directory.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(h.directory.check_password(&alice.id, temporary.expose_secret()), Some(true), "set with must-change");

    // "Your password was reset" went to every contact; the password itself went nowhere.
    for address in [ALICE_MAIL, ALICE_PHONE] {
        let last = h.outbox.messages_to(address).pop().unwrap();
        assert!(matches!(last.message, Message::PasswordReset { unlock_only: false }), "{address}");
    }
    for n in h.outbox.messages() {
        assert!(!n.render().body.contains(temporary.expose_secret()), "the password is never sent");
    }
    let kinds: Vec<_> = h.events().iter().map(|e| e.kind).collect();
    assert!(kinds.ends_with(&[
        AuditKind::ResetRequested,
        AuditKind::PinSent,
        AuditKind::PinVerified,
        AuditKind::ResetCompleted
    ]));
    assert_eq!(h.sspr.status(ALICE).await.unwrap().last_reset_at, Some(START));
}

#[tokio::test]
async fn happy_path_by_sms() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "sms", ALICE_PHONE).await;
    let sms = h.outbox.messages_to(ALICE_PHONE);
    assert_eq!(sms[0].to.channel(), Channel::Sms);
    assert!(sms[0].render().body.contains(&pin));
    assert!(matches!(
        h.outbox.messages_to(ALICE_MAIL)[0].message,
        Message::ResetRequested { channel: Channel::Sms, .. }
    ));
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.must_change && outcome.temporary_password.is_some());
}

/// Expiry times are kept to the whole second and the clock is not: a PIN sent 0.4 s into a
/// second still tells the user its ten minutes, not "9 minutes" (the time rounded down).
#[tokio::test]
async fn the_pin_notice_states_ten_minutes_when_sent_mid_second() {
    let h = Harness::new().await;
    h.advance(Duration::from_millis(400));
    h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let sent = h.outbox.messages_to(ALICE_MAIL).pop().unwrap();
    assert!(matches!(sent.message, Message::Pin { valid_minutes: 10, .. }), "{:?}", sent.message);
    assert!(sent.render().body.contains("valid for 10 minutes"), "{}", sent.render().body.as_str());
}

#[tokio::test]
async fn pin_is_valid_at_exactly_ten_minutes_and_refused_at_ten_minutes_one_second() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.advance(Duration::from_secs(600));
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.expect("valid at exactly 10:00");

    let (flow, pin) = h.pin_for(BOB, "email", BOB_MAIL).await;
    h.advance(Duration::from_secs(601));
    assert!(matches!(h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await, Err(Error::Expired)), "refused at 10:01");
}

#[tokio::test]
async fn pin_refused_one_minute_after_ten() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.advance(Duration::from_secs(660));
    assert!(matches!(h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await, Err(Error::Expired)));
}

#[tokio::test]
async fn wrong_pins_count_down_and_the_fifth_voids_the_pin() {
    // A higher per-user failure cap, so the fifth wrong PIN voids without also blocking.
    let h = Harness::builder()
        .policy(Policy { user_failures_before_block: 10, client_failures_before_block: 10, ..policy() })
        .build()
        .await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let wrong = Harness::wrong(&pin);
    for left in [4, 3, 2, 1] {
        match h.sspr.verify_pin(&flow, Pin::new(&wrong), &ctx()).await {
            Err(Error::WrongPin { attempts_left }) => assert_eq!(attempts_left, left),
            other => panic!("expected WrongPin, got {other:?}"),
        }
    }
    assert!(matches!(h.sspr.verify_pin(&flow, Pin::new(&wrong), &ctx()).await, Err(Error::PinVoided)));
    // Even the right PIN is refused now.
    assert!(matches!(h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await, Err(Error::PinVoided)));
    assert!(matches!(h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await, Err(Error::PinVoided)));
    assert_eq!(h.events_of(AuditKind::PinFailed).len(), 5);
    assert_eq!(h.events_of(AuditKind::PinVoided).len(), 1);
}

#[tokio::test]
async fn replay_of_a_used_pin_or_a_completed_flow_is_refused() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    assert!(matches!(h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await, Err(Error::AlreadyUsed)), "PIN replay");
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(matches!(h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await, Err(Error::AlreadyUsed)));
    assert!(matches!(h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await, Err(Error::AlreadyUsed)));
    assert!(matches!(h.sspr.send_pin(&flow, "email", None, &ctx()).await, Err(Error::AlreadyUsed)));
    // After the flow's lifetime a replay just reads as expired.
    h.advance(Duration::from_secs(3600));
    assert!(matches!(h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await, Err(Error::Expired)));
}

#[tokio::test]
async fn a_new_pin_voids_the_old_one() {
    let h = Harness::new().await;
    let (flow, old) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.advance(Duration::from_secs(61));
    h.sspr.send_pin(&flow, "sms", None, &ctx()).await.unwrap();
    let new = h.outbox.last_pin_to(ALICE_PHONE).unwrap();
    if old != new {
        assert!(matches!(
            h.sspr.verify_pin(&flow, Pin::new(&old), &ctx()).await,
            Err(Error::WrongPin { attempts_left: 4 })
        ));
    }
    h.sspr.verify_pin(&flow, Pin::new(&new), &ctx()).await.unwrap();
}

#[tokio::test]
async fn resend_inside_the_cooldown_is_rate_limited() {
    let h = Harness::new().await;
    let (flow, _) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.advance(Duration::from_secs(20));
    match h.sspr.send_pin(&flow, "email", None, &ctx()).await {
        Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after, Duration::from_secs(40)),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(h.outbox.messages_to(ALICE_MAIL).iter().filter(|n| n.pin().is_some()).count(), 1);
    h.advance(Duration::from_secs(40));
    h.sspr.send_pin(&flow, "email", None, &ctx()).await.expect("allowed once the cooldown is over");
}

#[tokio::test]
async fn a_flow_sends_at_most_three_pins() {
    let h = Harness::new().await;
    let (flow, _) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    for _ in 0..2 {
        h.advance(Duration::from_secs(61));
        h.sspr.send_pin(&flow, "email", None, &ctx()).await.unwrap();
    }
    h.advance(Duration::from_secs(61));
    assert!(matches!(h.sspr.send_pin(&flow, "email", None, &ctx()).await, Err(Error::InvalidState { .. })));
}

#[tokio::test]
async fn verify_before_send_and_complete_before_verify_are_out_of_order() {
    let h = Harness::new().await;
    let challenge = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    assert!(matches!(
        h.sspr.verify_pin(&challenge.flow_id, Pin::new("12345678"), &ctx()).await,
        Err(Error::InvalidState { .. })
    ));
    h.sspr.send_pin(&challenge.flow_id, "email", None, &ctx()).await.unwrap();
    assert!(matches!(
        h.sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx()).await,
        Err(Error::InvalidState { .. })
    ));
}

#[tokio::test]
async fn the_whole_flow_expires_after_fifteen_minutes() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.advance(Duration::from_secs(901));
    assert!(matches!(h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await, Err(Error::Expired)));
}

#[tokio::test]
async fn chosen_password_is_checked_against_the_policy_and_the_users_name() {
    let h = Harness::builder().policy(Policy { allow_chosen_password: true, ..policy() }).build().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let verified = h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    assert!(verified.modes.contains(&CompletionMode::Chosen));
    for (weak, why) in [
        ("Short1!", "at least 8"),
        ("Password123!", "too easy to guess"),
        ("Liddell-Rocks-42", "your login or a part of your name"),
        ("aaaaaaaaaaaaaaa", "too few different"),
    ] {
        match h.sspr.complete_reset(&flow, NewPassword::Chosen(Password::new(weak)), &ctx()).await {
            Err(Error::PasswordRejected { reason, .. }) => assert!(reason.contains(why), "{weak}: {reason}"),
            other => panic!("{weak}: expected PasswordRejected, got {other:?}"),
        }
    }
    // The directory's own rule (3 of 4 classes) refuses this one: its reason is passed on.
    match h.sspr.complete_reset(&flow, NewPassword::Chosen(Password::new("lowercase only words")), &ctx()).await {
        Err(Error::PasswordRejected { reason, .. }) => assert!(reason.contains("complexity"), "{reason}"),
        other => panic!("expected the directory's refusal, got {other:?}"),
    }
    // Refusals left the flow verified: a good password now succeeds.
    let outcome = h
        .sspr
        .complete_reset(&flow, NewPassword::Chosen(Password::new("Tulip-Harbour-Engine-7")), &ctx())
        .await
        .unwrap();
    assert!(!outcome.must_change && outcome.temporary_password.is_none());
    let alice = h.directory.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(h.directory.check_password(&alice.id, "Tulip-Harbour-Engine-7"), Some(false));
}

#[tokio::test]
async fn chosen_password_is_refused_while_the_policy_switches_it_off() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let err = h.sspr.complete_reset(&flow, NewPassword::Chosen(Password::new("Tulip-Harbour-Engine-7")), &ctx()).await;
    assert!(matches!(err, Err(Error::NotAllowed { reason: sspr_core::NotAllowedReason::ModeDisabled })));
}

#[tokio::test]
async fn unlock_only_clears_the_lockout_and_keeps_the_password() {
    let h = Harness::new().await;
    h.directory.set_state(ALICE, sspr_core::backend::AccountState { locked: true, ..Default::default() });
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::UnlockOnly, &ctx()).await.unwrap();
    assert!(outcome.unlocked && outcome.temporary_password.is_none() && !outcome.must_change);
    assert!(!h.sspr.status(ALICE).await.unwrap().account_locked);
    let alice = h.directory.users().into_iter().find(|u| u.login == ALICE).unwrap();
    assert_eq!(h.directory.check_password(&alice.id, INITIAL_PASSWORD), Some(false), "the password is unchanged");
    assert!(matches!(
        h.outbox.messages_to(ALICE_MAIL).pop().unwrap().message,
        Message::PasswordReset { unlock_only: true }
    ));
}

#[tokio::test]
async fn a_temporary_reset_also_unlocks_a_locked_account() {
    let h = Harness::new().await;
    h.directory.set_state(ALICE, sspr_core::backend::AccountState { locked: true, ..Default::default() });
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.unlocked && outcome.must_change);
    assert!(!h.sspr.status(ALICE).await.unwrap().account_locked);
}

#[tokio::test]
async fn an_account_disabled_after_verification_cannot_complete() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.directory.set_state(ALICE, sspr_core::backend::AccountState { disabled: true, ..Default::default() });
    assert!(matches!(
        h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await,
        Err(Error::NotAllowed { reason: sspr_core::NotAllowedReason::AccountDisabled })
    ));
}

#[tokio::test]
async fn typed_pins_may_contain_spaces_and_dashes() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    let typed = format!(" {}-{} ", &pin[..4], &pin[4..]);
    h.sspr.verify_pin(&flow, Pin::new(&typed), &ctx()).await.unwrap();
}

#[tokio::test]
async fn a_pin_of_the_wrong_shape_costs_no_attempt() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    for bad in ["", "1234567", "123456789", "abcdefgh"] {
        assert!(matches!(
            h.sspr.verify_pin(&flow, Pin::new(bad), &ctx()).await,
            Err(Error::InvalidInput { field: "pin", .. })
        ));
    }
    match h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await {
        Err(Error::WrongPin { attempts_left }) => assert_eq!(attempts_left, 4),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn notices_follow_the_callers_language() {
    let h = Harness::new().await;
    let de = sspr_core::RequestContext { locale: sspr_core::Locale::De, ..ctx() };
    let challenge = h.sspr.begin_reset(ALICE, &de).await.unwrap();
    h.sspr.send_pin(&challenge.flow_id, "email", None, &de).await.unwrap();
    let mail = h.outbox.messages_to(ALICE_MAIL).pop().unwrap();
    assert!(mail.render().body.starts_with("Ihr Code lautet"));
}

// Notices are stamped with the policy's time zone, daylight saving time included, and write
// their dates in the caller's language.
#[tokio::test]
async fn notices_write_dates_in_the_policy_time_zone() {
    use sspr_core::time::macros::offset;
    let h =
        Harness::builder().policy(sspr_core::Policy { time_zone: "Europe/Berlin".into(), ..policy() }).build().await;
    let nl = sspr_core::RequestContext { locale: sspr_core::Locale::Nl, ..ctx() };
    let challenge = h.sspr.begin_reset(ALICE, &nl).await.unwrap();
    h.sspr.send_pin(&challenge.flow_id, "sms", None, &nl).await.unwrap();
    h.sspr.flush_deliveries().await;
    let told = h.outbox.messages_to(ALICE_MAIL);
    let notice = told.iter().find(|n| n.message.kind() == "reset_requested").expect("the other contact is told");
    assert_eq!(notice.at, START, "the same instant");
    assert_eq!(notice.at.offset(), offset!(+1), "CET on 2 March");
    let body = notice.render().body;
    assert!(body.starts_with("Op 2 maart 2026 om 10:00 (UTC+1) is gevraagd"), "{}", body.as_str());
    // Five weeks later Berlin keeps summer time.
    h.advance(std::time::Duration::from_secs(35 * 24 * 3600));
    let challenge = h.sspr.begin_reset(ALICE, &nl).await.unwrap();
    h.sspr.send_pin(&challenge.flow_id, "sms", None, &nl).await.unwrap();
    h.sspr.flush_deliveries().await;
    let told = h.outbox.messages_to(ALICE_MAIL);
    let notice = told.iter().rev().find(|n| n.message.kind() == "reset_requested").unwrap();
    assert_eq!(notice.at.offset(), offset!(+2), "CEST on 6 April");
    assert!(notice.render().body.contains("6 april 2026 om 11:00 (UTC+2)"), "{}", notice.render().body.as_str());
}

#[tokio::test]
async fn by_channel_sends_mail_and_text_through_their_own_notifiers() {
    use sspr_core::backend::ByChannel;
    use sspr_core::memory::Outbox;
    use std::sync::Arc;
    let (mail, sms) = (Outbox::new(), Outbox::new());
    let routed = ByChannel::new(Some(Arc::new(mail.clone())), Some(Arc::new(sms.clone())));
    let h = Harness::builder().notifier(Arc::new(routed)).build().await;
    let challenge = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    h.sspr.send_pin(&challenge.flow_id, "sms", None, &ctx()).await.unwrap();
    assert!(sms.last_pin_to(ALICE_PHONE).is_some(), "the PIN went by SMS");
    assert!(mail.last_pin_to(ALICE_MAIL).is_none() && !mail.messages_to(ALICE_MAIL).is_empty(), "mail got the notice");
    assert!(sms.messages_to(ALICE_MAIL).is_empty() && mail.messages_to(ALICE_PHONE).is_empty());

    // No SMS notifier: the SMS is refused as Rejected, nothing is sent, the audit says why,
    // and the caller is answered as a decoy would be.
    let mail = Outbox::new();
    let mail_only = ByChannel::new(Some(Arc::new(mail.clone())), None);
    let h = Harness::builder().notifier(Arc::new(mail_only)).build().await;
    let challenge = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    h.sspr.send_pin(&challenge.flow_id, "sms", None, &ctx()).await.unwrap();
    assert!(mail.messages().is_empty(), "no notice either: nothing was sent");
    let failed = h.events_of(sspr_core::AuditKind::PinSent).pop().unwrap();
    assert!(matches!(failed.outcome, sspr_core::Outcome::Failed { .. }), "{failed:?}");
}

/// A flow whose record carries no audit reference (a helpdesk-recovered flow's: `begin_reset`
/// is what puts one in the record) gets the reference computed from its id: the redemption and
/// the completion carry the same one. (Records of the version before, which carried none
/// either, are not read at all: they are under the old store key and not sealed.)
#[tokio::test]
async fn a_flow_whose_record_carries_no_reference_has_one_reference_in_every_event() {
    let h = Harness::new().await;
    let code = h.sspr.admin_recovery(&admin(), NO_CONTACT, &ctx()).await.unwrap();
    let recovered = h.sspr.redeem_recovery_code(NO_CONTACT, code.code.expose_secret(), &ctx()).await.unwrap();
    let outcome = h.sspr.complete_reset(&recovered.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    assert!(outcome.temporary_password.is_some());
    h.sspr.flush_deliveries().await;

    let kinds = [AuditKind::RecoveryRedeemed, AuditKind::ResetCompleted];
    let refs: Vec<Option<String>> =
        h.events().iter().filter(|e| kinds.contains(&e.kind)).map(|e| e.flow_ref.clone()).collect();
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert!(refs[0].is_some() && refs.iter().all(|r| *r == refs[0]), "{refs:?}");
    assert_ne!(refs[0].as_deref(), Some(recovered.flow_id.as_str()), "the reference is not the id");
}
