//! The change path as an oracle: `change_password` checks a password, so it must not become a
//! way around the sign-in lockout, tell an unknown login from a wrong password (by its answer
//! or its timing), or let through an account that sign-in and the reset would not.

use std::time::Duration;

use sspr_core::{Error, Password, Policy};

use crate::rig::{default_policy, rig, seen, timed};
use crate::support::{ADMIN, ALICE, DISABLED, INITIAL_PASSWORD, OUTSIDER, ctx};

fn pw(text: &str) -> Password {
    Password::new(text)
}

const NEW: &str = "Fresh-Meadow-41";

#[tokio::test(start_paused = true)]
async fn guesses_through_the_change_path_add_up_with_sign_in_guesses_to_one_lockout() {
    let r = rig(default_policy()).await;
    let limit = r.sspr.policy().sign_in_failures_before_lockout;
    // Alternate the two doors: each guess counts against the same login.
    for i in 0..limit {
        let guess = pw(&format!("Guess-{i}-Pass"));
        let answer = if i % 2 == 0 {
            r.sspr.change_password(ALICE, &guess, &pw(NEW), &ctx()).await
        } else {
            r.sspr.sign_in(ALICE, &guess, &ctx()).await.map(|_| ())
        };
        assert!(matches!(answer, Err(Error::SignInFailed)), "guess {i}: {answer:?}");
    }
    // Locked out through both: even the right password is refused, and nothing changed.
    let change = r.sspr.change_password(ALICE, &pw(INITIAL_PASSWORD), &pw(NEW), &ctx()).await;
    assert!(matches!(change, Err(Error::RateLimited { .. })), "{change:?}");
    assert!(matches!(r.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await, Err(Error::RateLimited { .. })));
    tokio::time::advance(Duration::from_secs(r.sspr.policy().sign_in_lockout_secs + 1)).await;
    r.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn one_client_guessing_many_logins_through_the_change_path_meets_the_sign_in_ip_cap() {
    let r = rig(Policy { ip_sign_ins_per_hour: 10, ..default_policy() }).await;
    for i in 0..10 {
        let login = format!("user{i}@example.org");
        let answer = r.sspr.change_password(&login, &pw("Guess-0-Pass"), &pw(NEW), &ctx()).await;
        assert!(matches!(answer, Err(Error::SignInFailed)), "{answer:?}");
    }
    let capped = r.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await;
    assert!(matches!(capped, Err(Error::RateLimited { .. })), "{capped:?}");
}

#[tokio::test(start_paused = true)]
async fn unknown_login_and_wrong_password_answer_alike_and_in_the_same_time_with_a_slow_directory() {
    let r = rig(default_policy()).await;
    // A directory that takes 120 ms to check a password: only a real account is checked.
    r.directory.fault.slow(Duration::from_millis(120));
    let probes = [
        ("unknown", "nobody@example.org", INITIAL_PASSWORD),
        ("wrong password", ALICE, "Guess-0-Pass"),
        ("disabled, right password", DISABLED, INITIAL_PASSWORD),
        ("ineligible, right password", OUTSIDER, INITIAL_PASSWORD),
        ("privileged, right password", ADMIN, INITIAL_PASSWORD),
    ];
    let mut seen_answers = Vec::new();
    for (what, login, current) in probes {
        let (answer, took) = timed(r.sspr.change_password(login, &pw(current), &pw(NEW), &ctx())).await;
        assert_eq!(took, Duration::from_millis(u64::from(r.sspr.policy().min_response_ms)), "{what}");
        seen_answers.push(seen(&answer));
    }
    assert!(seen_answers.iter().all(|a| *a == seen_answers[0]), "{seen_answers:?}");
    assert_eq!(seen_answers[0], format!("Err({})", Error::SignInFailed));
}

#[tokio::test(start_paused = true)]
async fn a_disabled_ineligible_or_privileged_account_cannot_change_its_password_with_the_right_one() {
    let r = rig(default_policy()).await;
    for login in [DISABLED, OUTSIDER, ADMIN] {
        let answer = r.sspr.change_password(login, &pw(INITIAL_PASSWORD), &pw(NEW), &ctx()).await;
        assert!(matches!(answer, Err(Error::SignInFailed)), "{login}: {answer:?}");
        let id = r.directory.inner.users().into_iter().find(|u| u.login == login).unwrap().id;
        assert_eq!(r.directory.inner.check_password(&id, INITIAL_PASSWORD), Some(false), "{login}");
        assert_eq!(r.directory.inner.check_password(&id, NEW), None, "{login}");
    }
    // Never even asked the directory to check their password.
    assert_eq!(r.directory.fault.calls(), 0);
    assert!(r.relay.outbox.messages().is_empty());
}

/// A directory that finds the account by a second spelling too (a multi-valued `uid` or
/// `mail`): the failure count and lockout were kept per typed spelling, so each alias gave
/// the guesser another full allowance before the lockout, through sign-in and the change.
#[tokio::test(start_paused = true)]
async fn guesses_through_an_alias_add_up_with_the_logins_own_to_one_lockout() {
    const ALIAS: &str = "liddell@example.org";
    let r = rig(default_policy()).await;
    r.directory.aliases.lock().unwrap().insert(ALIAS.into(), ALICE.into());
    let limit = r.sspr.policy().sign_in_failures_before_lockout;
    for i in 0..limit {
        let guess = pw(&format!("Guess-{i}-Pass"));
        // Half through the account's own login, half through the alias, both doors.
        let login = if i % 2 == 0 { ALICE } else { ALIAS };
        let answer = if i % 3 == 0 {
            r.sspr.change_password(login, &guess, &pw(NEW), &ctx()).await
        } else {
            r.sspr.sign_in(login, &guess, &ctx()).await.map(|_| ())
        };
        assert!(matches!(answer, Err(Error::SignInFailed)), "guess {i}: {answer:?}");
    }
    // One allowance for the account, whichever spelling: the right password is refused now
    // through the login (locked out) and through the alias (answered as a wrong password,
    // so that the alias is not told apart from an unknown login), and nothing changed.
    let own = r.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await;
    assert!(matches!(own, Err(Error::RateLimited { .. })), "{own:?}");
    let alias = r.sspr.sign_in(ALIAS, &pw(INITIAL_PASSWORD), &ctx()).await;
    assert!(matches!(alias, Err(Error::SignInFailed | Error::RateLimited { .. })), "{alias:?}");
    let change = r.sspr.change_password(ALIAS, &pw(INITIAL_PASSWORD), &pw(NEW), &ctx()).await;
    assert!(matches!(change, Err(Error::SignInFailed | Error::RateLimited { .. })), "{change:?}");
    tokio::time::advance(Duration::from_secs(r.sspr.policy().sign_in_lockout_secs + 1)).await;
    r.sspr.sign_in(ALICE, &pw(INITIAL_PASSWORD), &ctx()).await.unwrap();
    r.sspr.sign_in(ALIAS, &pw(INITIAL_PASSWORD), &ctx()).await.unwrap();
}
