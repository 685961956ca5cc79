//! Racing password guesses through sign-in. The login's lockout was read before the directory
//! checked the password and the failure was counted after, so guesses sent at once (each
//! waiting on the directory's bind) all passed the lockout check: as many passwords of one
//! account tried as requests in flight, not `sign_in_failures_before_lockout`. The per-IP cap
//! does not bound it: one address per guess.

use std::time::Duration;

use sspr_core::{Error, Password, RequestContext};

use crate::rig::{default_policy, rig};
use crate::support::{ALICE, INITIAL_PASSWORD};

fn client(n: usize) -> RequestContext {
    RequestContext::from_ip(format!("198.51.100.{n}").parse().unwrap())
}

#[tokio::test(start_paused = true)]
async fn racing_guesses_get_no_more_password_checks_than_the_lockout_allows() {
    let r = rig(default_policy()).await;
    let limit = r.sspr.policy().sign_in_failures_before_lockout as usize;
    // A bind's round trip: every request in flight waits here at once.
    r.directory.fault.slow(Duration::from_millis(50));
    let guesses = 40;
    let answers = futures::future::join_all((0..guesses).map(|i| {
        let sspr = r.sspr.clone();
        async move {
            // The right password is the last guess of the burst.
            let password = if i == guesses - 1 { INITIAL_PASSWORD.to_owned() } else { format!("Guess-{i}-Pass") };
            sspr.sign_in(ALICE, &Password::new(password), &client(i)).await
        }
    }))
    .await;
    let checked = r.directory.fault.calls();
    assert!(checked <= limit, "{checked} passwords checked against the directory, lockout after {limit}");
    let last = answers.last().unwrap();
    assert!(matches!(last, Err(Error::RateLimited { .. })), "the right password among racing guesses: {last:?}");
    let wrong = answers.iter().filter(|a| matches!(a, Err(Error::SignInFailed))).count();
    assert_eq!(wrong, limit, "each checked guess answered as a wrong password");
    // The lockout then holds as it does after guesses one at a time, and ends on time.
    let locked = r.sspr.sign_in(ALICE, &Password::new(INITIAL_PASSWORD), &client(200)).await;
    assert!(matches!(locked, Err(Error::RateLimited { .. })), "{locked:?}");
    tokio::time::advance(Duration::from_secs(r.sspr.policy().sign_in_lockout_secs + 1)).await;
    r.sspr.sign_in(ALICE, &Password::new(INITIAL_PASSWORD), &client(200)).await.unwrap();
}
