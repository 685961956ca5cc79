//! Attack: with a bot challenge in front of `begin_reset`, an attacker probes logins without a
//! token (or with a bad one, or while the provider is down) and reads from the answer whether
//! the account exists: a challenge asked only of real accounts (checked after the directory
//! lookup), or a decoy answered to unknown logins where a real one is challenged.
//! Defence: the challenge is checked before the directory is asked, from the client and the
//! typed login only (`engine/challenge.rs`); every login gets the same answer, nothing is
//! stored, the refusal is audited, and a verifier that cannot answer fails closed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sspr_core::{
    AuditKind, BackendError, BackendErrorKind, BotChallenge, ChallengeCheck, ChallengePolicy, ChallengeRefusal,
    ChallengeToken, ChallengeVerdict, Error, Outcome, RequestContext,
};

use crate::support::{ALICE, BOB, DISABLED, Harness, ctx};

const GOOD: &str = "good-token-3f9a";
const BAD: &str = "forged-token-77";
const DOWN: &str = "token-while-down-51";

/// A provider stand-in: `GOOD` passes, `DOWN` cannot be checked, anything else fails. It
/// records the addresses it was asked about and how often.
#[derive(Debug, Default)]
struct Provider {
    calls: AtomicUsize,
    ips: Mutex<Vec<Option<std::net::IpAddr>>>,
}

#[sspr_core::async_trait]
impl BotChallenge for Provider {
    async fn verify(&self, check: &ChallengeCheck<'_>) -> Result<ChallengeVerdict, BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.ips.lock().unwrap().push(check.client_ip);
        match check.token.expose_secret() {
            GOOD => Ok(ChallengeVerdict::Passed),
            DOWN => Err(BackendError::new(BackendErrorKind::Unavailable, "siteverify timed out")),
            _ => Ok(ChallengeVerdict::Failed { reasons: vec!["invalid-input-response".into()] }),
        }
    }
}

async fn engine(policy: ChallengePolicy) -> (Harness, Arc<Provider>) {
    let provider = Arc::new(Provider::default());
    // Enough begins per client for every probe here (the per-IP limit is tested on its own).
    let limits = sspr_core::Policy { ip_begins_per_hour: 100, ..crate::support::policy() };
    let h = Harness::builder().policy(limits).bot_challenge(provider.clone(), policy).build().await;
    (h, provider)
}

fn with_token(token: &str) -> RequestContext {
    RequestContext { challenge_token: ChallengeToken::parse(token).unwrap(), ..ctx() }
}

fn refusal(result: sspr_core::Result<sspr_core::ResetChallenge>) -> ChallengeRefusal {
    match result {
        Err(Error::Challenge { reason }) => reason,
        other => panic!("expected a challenge refusal, got {other:?}"),
    }
}

/// Known (alice, bob), disabled (dave) and unknown logins: without a token, with a forged one
/// and while the provider is down, each gets the same refusal, nothing is stored, and the
/// provider never hears the login.
#[tokio::test]
async fn a_challenge_asked_only_of_real_accounts_would_tell_them_apart() {
    let (h, provider) = engine(ChallengePolicy::Always).await;
    let logins = [ALICE, BOB, DISABLED, "nobody@example.org", "ghost"];
    // The client's per-IP begin counter is the one key a refused begin writes (every request
    // counts): made here, so that anything else stored below shows.
    assert_eq!(refusal(h.sspr.begin_reset("warm-up", &ctx()).await), ChallengeRefusal::Required);
    for (token, expected) in [
        (None, ChallengeRefusal::Required),
        (Some(BAD), ChallengeRefusal::Failed),
        (Some(DOWN), ChallengeRefusal::Unavailable),
    ] {
        let ctx = token.map_or_else(ctx, with_token);
        let mut seen = Vec::new();
        for login in logins {
            let stored = h.store.len();
            let error_text = match h.sspr.begin_reset(login, &ctx).await {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{login} began a reset without a solved challenge"),
            };
            assert_eq!(h.store.len(), stored, "a refused challenge stored something for {login}");
            seen.push(error_text);
            assert_eq!(refusal(h.sspr.begin_reset(login, &ctx).await), expected);
        }
        assert!(seen.iter().all(|s| *s == seen[0]), "answers differ by login: {seen:?}");
    }
    // Known and unknown logins alike: the provider was asked for each token-carrying request.
    assert_eq!(provider.calls.load(Ordering::SeqCst), 2 * 2 * logins.len());
    assert!(provider.ips.lock().unwrap().iter().all(|ip| *ip == ctx().client_ip));
    // No flow was started: no `ResetRequested` success or decoy, and each refusal audited.
    let begun = h.audit.events().into_iter().filter(|e| e.kind == AuditKind::ResetRequested).collect::<Vec<_>>();
    assert_eq!(begun.len(), 1 + 3 * 2 * logins.len());
    assert!(begun.iter().all(|e| e.user_id.is_none()), "a challenge refusal named a user");
    assert!(begun.iter().all(|e| matches!(e.outcome, Outcome::Limited { .. } | Outcome::Failed { .. })));
    assert!(h.outbox.messages().is_empty());
}

#[tokio::test]
async fn a_solved_challenge_begins_the_reset_and_decoys_stay_decoys() {
    let (h, _) = engine(ChallengePolicy::Always).await;
    let real = h.sspr.begin_reset(ALICE, &with_token(GOOD)).await.unwrap();
    let unknown = h.sspr.begin_reset("nobody@example.org", &with_token(GOOD)).await.unwrap();
    assert_eq!(real.methods.len(), 2);
    assert_eq!(unknown.flow_id.len(), real.flow_id.len());
    // The flow goes on without a token: only begin_reset is challenged.
    h.sspr.send_pin(&real.flow_id, "email", None, &ctx()).await.unwrap();
}

/// `after_begins`: the challenge starts at the same count for a real and an unknown login,
/// per typed login and per client address.
#[tokio::test]
async fn after_n_begins_the_challenge_starts_alike_for_known_and_unknown_logins() {
    let policy = ChallengePolicy::AfterBegins { per_ip: None, per_login: Some(2), window: Duration::from_secs(3600) };
    let (h, _) = engine(policy).await;
    for login in [ALICE, "nobody@example.org"] {
        for _ in 0..2 {
            h.sspr.begin_reset(login, &ctx()).await.unwrap();
        }
        assert_eq!(refusal(h.sspr.begin_reset(login, &ctx()).await), ChallengeRefusal::Required, "{login}");
        h.sspr.begin_reset(login, &with_token(GOOD)).await.unwrap();
    }
    // Another login from the same address is not challenged (per_ip is off) ...
    h.sspr.begin_reset(BOB, &ctx()).await.unwrap();
    // ... and the window ends.
    h.advance(Duration::from_secs(3601));
    h.sspr.begin_reset(ALICE, &ctx()).await.unwrap();

    let per_ip = ChallengePolicy::AfterBegins { per_ip: Some(3), per_login: None, window: Duration::from_secs(600) };
    let (h, _) = engine(per_ip).await;
    for login in [ALICE, BOB, "nobody@example.org"] {
        h.sspr.begin_reset(login, &ctx()).await.unwrap();
    }
    assert_eq!(refusal(h.sspr.begin_reset("x@example.org", &ctx()).await), ChallengeRefusal::Required);
    let elsewhere = RequestContext::from_ip("198.51.100.9".parse().unwrap());
    h.sspr.begin_reset(ALICE, &elsewhere).await.unwrap();
}

/// The token is a bearer value: never in `Debug`, an error or the audit trail (the engine logs
/// only the verifier's error, which the verifiers' own tests check).
#[tokio::test]
async fn the_token_never_leaves_through_debug_errors_or_the_audit_trail() {
    let (h, _) = engine(ChallengePolicy::Always).await;
    let mut seen = String::new();
    for token in [GOOD, BAD, DOWN] {
        let ctx = with_token(token);
        seen.push_str(&format!("{ctx:?}"));
        let result = h.sspr.begin_reset(ALICE, &ctx).await;
        seen.push_str(&format!("{result:?}"));
        if let Err(e) = result {
            seen.push_str(&e.to_string());
        }
    }
    for event in h.audit.events() {
        seen.push_str(&serde_json::to_string(&event).unwrap());
    }
    assert!(seen.contains("bot challenge unavailable"), "the outage was not audited: {seen}");
    for token in [GOOD, BAD, DOWN] {
        assert!(!seen.contains(token), "the token leaked: {seen}");
    }
}

#[test]
fn a_policy_out_of_bounds_is_a_config_error_naming_the_setting() {
    let none = ChallengePolicy::AfterBegins { per_ip: None, per_login: None, window: Duration::from_secs(600) };
    assert!(none.validate().unwrap_err().to_string().contains("begins_per_ip"));
    let long = ChallengePolicy::AfterBegins { per_ip: Some(1), per_login: None, window: Duration::from_secs(90_000) };
    assert!(long.validate().unwrap_err().to_string().contains("window_minutes"));
    assert_eq!(ChallengeToken::parse(&"x".repeat(5000)).err().map(|e| e.code()), Some("invalid_input"));
}
