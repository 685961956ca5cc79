//! Attack: an insider reading the audit trail (or the logs) learns a password a user typed:
//! the engine recorded a backend's error text as it came, and a host's directory or password
//! checker may quote the password in it (a directory that runs a command line, such as
//! `samba-tool user setpassword --newpassword=...`, fails with the whole command in its
//! error; a checker calling a range service with the password in its URL fails with the URL).
//! Defence: the error of every backend call that is handed a password is cleared of it where
//! the engine makes the call, before anything logs, audits or returns it; so is a directory
//! lookup's of the login typed (often a password typed in the wrong field).

use std::sync::Arc;

use sspr_core::backend::{
    Authentication, Directory, DirectoryUser, PasswordCandidate, PasswordChecker, PasswordFeedback,
};
use sspr_core::memory::MemoryDirectory;
use sspr_core::{
    BackendError, BackendErrorKind, NewPassword, NormalizedLogin, Password, PasswordRules, Pin, Policy, UserId,
};

use crate::support::{ALICE, ALICE_MAIL, Harness, INITIAL_PASSWORD, ctx, policy, users};

/// The in-memory directory, failing every call that is handed a password with an error that
/// quotes the command line it "ran" (upper-cased in part, as a shell's echo might be).
#[derive(Debug)]
struct CommandLineDirectory {
    inner: MemoryDirectory,
}

fn command_failed(args: &[&str]) -> BackendError {
    BackendError::new(
        BackendErrorKind::Unavailable,
        format!("Command '['samba-tool', 'user', {}]' returned non-zero exit status 255.", args.join(", ")),
    )
}

#[sspr_core::async_trait]
impl Directory for CommandLineDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        if login.as_str().starts_with("tulip") {
            // A login that is a password typed in the wrong field, quoted by a lookup that failed.
            return Err(command_failed(&["'show'", &format!("'{}'", login.as_str())]));
        }
        self.inner.find_user(login).await
    }
    async fn set_password(&self, _user: &UserId, password: &Password, _must: bool) -> Result<(), BackendError> {
        Err(command_failed(&["'setpassword'", &format!("'--newpassword={}'", password.expose_secret())]))
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        self.inner.unlock(user).await
    }
    async fn authenticate(&self, _user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        Err(command_failed(&["'check'", &format!("'--password={}'", password.expose_secret())]))
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        self.inner.search(query, limit).await
    }
    async fn change_password(&self, _user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        Err(command_failed(&[
            "'password'",
            &format!("'--old={}'", old.expose_secret().to_ascii_uppercase()),
            &format!("'--new={}'", new.expose_secret()),
        ]))
    }
    async fn password_rules(&self) -> Result<PasswordRules, BackendError> {
        self.inner.password_rules().await
    }
}

/// A checker whose range service "timed out", quoting the URL it asked (password included).
#[derive(Debug)]
struct UrlQuotingChecker;

#[sspr_core::async_trait]
impl PasswordChecker for UrlQuotingChecker {
    async fn check(&self, candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError> {
        Err(BackendError::new(
            BackendErrorKind::Unavailable,
            format!(
                "HTTPSConnectionPool(host='banned.example'): Read timed out. (url: /check?pw={})",
                url_encoded(candidate.password.expose_secret())
            ),
        ))
    }
}

/// As a URL's query writes it (lower-case hex, as some clients do).
fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02x}") })
        .collect()
}

const CHOSEN: &str = "Tulip-Harbour-Engine-7";
/// A chosen password a URL cannot hold as it is.
const CHOSEN_SPECIAL: &str = "Tulip Harbour&Engine=7";

/// Everything an insider or a log reader sees: the audit trail and the error's text.
fn assert_hidden(h: &Harness, seen: &str, secrets: &[&str]) {
    let trail = serde_json::to_string(&h.events()).unwrap();
    let kept = format!("{trail} {seen}");
    assert!(kept.contains("samba-tool") || kept.contains("banned.example"), "the error is kept: {kept}");
    for secret in secrets {
        let lower = secret.to_ascii_lowercase();
        assert!(!trail.to_ascii_lowercase().contains(&lower), "{secret} reached the audit trail: {trail}");
        assert!(!seen.to_ascii_lowercase().contains(&lower), "{secret} reached the error: {seen}");
    }
}

async fn harness(policy: Policy) -> Harness {
    let directory = Arc::new(CommandLineDirectory { inner: MemoryDirectory::with_users(users()).unwrap() });
    Harness::builder().policy(policy).directory(directory).build().await
}

#[tokio::test]
async fn a_directory_quoting_the_chosen_password_puts_it_in_no_audit_event_or_error() {
    let h = harness(Policy { allow_chosen_password: true, ..policy() }).await;
    h.enroll(ALICE, Some(ALICE_MAIL), None).await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    let failed = h.sspr.complete_reset(&flow, NewPassword::Chosen(Password::new(CHOSEN)), &ctx()).await;
    let failed = failed.expect_err("the directory failed");
    let seen = format!("{failed} {failed:?}");
    h.sspr.flush_deliveries().await;
    assert_hidden(&h, &seen, &[CHOSEN]);
}

#[tokio::test]
async fn a_directory_quoting_the_password_of_a_sign_in_or_a_change_puts_it_in_no_audit_event_or_error() {
    let h = harness(policy()).await;
    let signed = h.sspr.sign_in(ALICE, &Password::new(INITIAL_PASSWORD), &ctx()).await;
    let changed = h.sspr.change_password(ALICE, &Password::new(INITIAL_PASSWORD), &Password::new(CHOSEN), &ctx()).await;
    let seen = format!("{:?} {:?}", signed.err(), changed.err());
    assert_hidden(&h, &seen, &[INITIAL_PASSWORD, CHOSEN]);
}

#[tokio::test]
async fn a_checker_quoting_the_password_puts_it_in_no_audit_event_or_error() {
    // Failing open: the password is set unchecked, and the audit says so.
    let open = Policy { password_check_fail_open: true, ..policy() };
    let h = Harness::builder().policy(open).password_checker(Arc::new(UrlQuotingChecker)).build().await;
    let special = Password::new(CHOSEN_SPECIAL);
    h.sspr.change_password(ALICE, &Password::new(INITIAL_PASSWORD), &special, &ctx()).await.unwrap();
    assert_hidden(&h, "", &[CHOSEN_SPECIAL, &url_encoded(CHOSEN_SPECIAL)]);
    // Failing closed: the caller gets the error.
    let h = Harness::builder().password_checker(Arc::new(UrlQuotingChecker)).build().await;
    let refused = h.sspr.change_password(ALICE, &Password::new(INITIAL_PASSWORD), &Password::new(CHOSEN), &ctx()).await;
    let refused = refused.expect_err("the checker failed closed");
    let seen = format!("{refused} {refused:?}");
    assert!(seen.contains("banned.example"), "{seen}");
    assert_hidden(&h, &seen, &[CHOSEN]);
}

/// Users type their password into the login field; the engine keeps only a keyed fingerprint
/// of an unknown login for that reason. A directory lookup that failed quoting the login put
/// the text typed (here a password) in the audit trail and the error.
#[tokio::test]
async fn a_directory_quoting_the_login_typed_puts_it_in_no_audit_event_or_error() {
    let h = harness(policy()).await;
    let answer = h.sspr.begin_reset(CHOSEN, &ctx()).await;
    let seen = format!("{:?}", answer.as_ref().err());
    h.sspr.flush_deliveries().await;
    assert_hidden(&h, &seen, &[CHOSEN]);
}

/// A checker that refuses, quoting the password in its reason and its suggestion (a host's
/// "'...' was found in 12 breaches").
#[derive(Debug)]
struct ReasonQuotingChecker;

#[sspr_core::async_trait]
impl PasswordChecker for ReasonQuotingChecker {
    async fn check(&self, candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError> {
        let password = candidate.password.expose_secret();
        let mut feedback = PasswordFeedback::from_host_reason(Some(format!(
            "banned.example: '{}' was found in 12 breaches (pw={})",
            password.to_ascii_uppercase(),
            url_encoded(password)
        )));
        if let Some(f) = feedback.as_mut() {
            f.suggestions.push(format!("not {password}"));
        }
        Ok(feedback)
    }
}

/// A checker's answer is words for the user, and the engine's `PasswordRejected` a host logs:
/// the password a checker quoted in them went into both.
#[tokio::test]
async fn a_checkers_reason_quoting_the_password_puts_it_in_no_error() {
    let h = Harness::builder().password_checker(Arc::new(ReasonQuotingChecker)).build().await;
    let refused = h.sspr.change_password(ALICE, &Password::new(INITIAL_PASSWORD), &Password::new(CHOSEN), &ctx()).await;
    let refused = refused.expect_err("the checker refused");
    let seen = format!("{refused} {refused:?}");
    assert!(seen.contains("was found in 12 breaches"), "{seen}");
    assert_hidden(&h, &seen, &[CHOSEN]);
}
