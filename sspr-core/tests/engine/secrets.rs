//! No PIN or password in any `Debug`, `Display`, error or audit event of a full flow,
//! searched for by value.

use sspr_core::Pin;
use sspr_core::{Error, NewPassword, Password, Policy};

use crate::support::*;

/// Everything an outside observer of the engine could log.
fn observable(h: &Harness, extra: &[String]) -> String {
    let mut all = String::new();
    for event in h.events() {
        all.push_str(&event.to_json());
        all.push_str(&format!("{event:?}"));
    }
    for n in h.outbox.messages() {
        all.push_str(&format!("{n:?}"));
        all.push_str(&format!("{:?}", n.render()));
    }
    all.push_str(&format!("{:?}", h.sspr));
    all.push_str(&format!("{:?}", h.store));
    all.push_str(&format!("{:?}", h.contacts));
    all.push_str(&format!("{:?}", h.directory));
    for e in extra {
        all.push_str(e);
    }
    all
}

#[tokio::test]
async fn no_pin_or_password_in_any_debug_display_error_or_audit_event_of_a_full_flow() {
    let h = Harness::builder().policy(Policy { allow_chosen_password: true, ..policy() }).build().await;
    let mut seen = Vec::new();

    // A temporary-password reset, with a wrong PIN on the way.
    let challenge = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    seen.push(format!("{challenge:?}"));
    let sent = h.sspr.send_pin(&challenge.flow_id, "email", None, &ctx()).await.unwrap();
    seen.push(format!("{sent:?}"));
    let pin = h.outbox.last_pin_to(ALICE_MAIL).unwrap();
    let wrong = Harness::wrong(&pin);
    let err = h.sspr.verify_pin(&challenge.flow_id, Pin::new(&wrong), &ctx()).await.unwrap_err();
    seen.push(format!("{err:?} {err}"));
    let verified = h.sspr.verify_pin(&challenge.flow_id, Pin::new(&pin), &ctx()).await.unwrap();
    seen.push(format!("{verified:?}"));
    let outcome = h.sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx()).await.unwrap();
    seen.push(format!("{outcome:?}"));
    let temporary = outcome.temporary_password.as_ref().unwrap().expose_secret().to_owned();
    let replay = h.sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx()).await.unwrap_err();
    seen.push(format!("{replay:?} {replay}"));

    // A chosen-password reset, one refused by the policy and one by the directory.
    let (flow, pin2) = h.pin_for(BOB, "email", BOB_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin2), &ctx()).await.unwrap();
    let refused_by_policy = "Password123!";
    let refused_by_directory = "only lower case words here";
    let chosen = "Tulip-Harbour-Engine-7";
    for attempt in [refused_by_policy, refused_by_directory] {
        let err = h.sspr.complete_reset(&flow, NewPassword::Chosen(Password::new(attempt)), &ctx()).await.unwrap_err();
        assert!(matches!(err, Error::PasswordRejected { .. }));
        seen.push(format!("{err:?} {err}"));
    }
    let new_password = NewPassword::Chosen(Password::new(chosen));
    seen.push(format!("{new_password:?}"));
    h.sspr.complete_reset(&flow, new_password, &ctx()).await.unwrap();

    let text = observable(&h, &seen);
    // A PIN notice carries its PIN in the rendered body (that is its job); `Debug` of the
    // notice and of the rendered body must not.
    for secret in [pin.as_str(), pin2.as_str(), wrong.as_str(), temporary.as_str(), refused_by_directory, chosen] {
        assert!(!text.contains(secret), "a secret leaked: {secret:?}");
    }
    assert!(!text.contains(refused_by_policy));
}

/// A flow id completes the reset once the user has verified (a recovered flow at once): a log
/// line of `{challenge:?}` or `{recovered:?}` must not hand it to whoever reads the log.
#[tokio::test]
async fn a_flow_id_never_prints_in_the_answers_that_carry_it() {
    let h = Harness::new().await;
    let challenge = h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    let text = format!("{challenge:?} {challenge:#?}");
    assert!(!text.contains(&challenge.flow_id) && text.contains("[REDACTED]"), "{text}");
    assert!(text.contains("methods"), "the rest still shows: {text}");
    let recovered = sspr_core::Recovered {
        flow_id: "d8ddfa6974eedf6b3784290c606b04fd".into(),
        modes: vec![sspr_core::CompletionMode::Temporary],
        expires_at: challenge.expires_at,
    };
    assert!(!format!("{recovered:?}").contains("d8ddfa69"));
}

#[tokio::test]
async fn the_secret_key_never_prints() {
    let h = Harness::new().await;
    let text = format!("{:?}", h.sspr);
    assert!(text.contains("SecretKey([REDACTED])"));
    assert!(!text.contains("5a5a5a"));
    assert!(!text.contains("90, 90, 90"));
}
