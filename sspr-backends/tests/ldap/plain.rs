//! Attacks on the slapd *without* `ppolicy_hash_cleartext` and with cn=Monitor
//! (SSPR_TEST_LDAP_PLAIN_URL): passwords stored in clear, unbounded sign-in connections.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ldap3::{Ldap, Scope};
use sspr_backends::ldap::{LdapConfig, LdapDirectory};
use sspr_core::{Authentication, BackendErrorKind, Directory, Password, UserId};

use crate::common::*;

/// The flood test counts this instance's connections: tests using it run one at a time.
pub(crate) static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn plain_config() -> LdapConfig {
    let mut config = openldap_config();
    config.url = env("SSPR_TEST_LDAP_PLAIN_URL");
    config
}

async fn stored_password(dn: &str) -> (String, Option<String>) {
    let mut admin = openldap_admin_at(&env("SSPR_TEST_LDAP_PLAIN_URL")).await;
    let (entries, _) = admin
        .search(dn, Scope::Base, "(objectClass=*)", vec!["userPassword", "pwdReset"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let entry = ldap3::SearchEntry::construct(entries.into_iter().next().unwrap());
    let password = entry.bin_attrs.get("userPassword").map(|v| String::from_utf8_lossy(&v[0]).into_owned());
    let password = password.or_else(|| entry.attrs.get("userPassword").map(|v| v[0].clone())).unwrap();
    (password, entry.attrs.get("pwdReset").map(|v| v[0].clone()))
}

#[tokio::test]
async fn a_reset_password_is_never_stored_in_clear_on_a_slapd_without_hash_cleartext() {
    let _serial = SERIAL.lock().await;
    let uid = unique("hash");
    let dn = add_openldap_user_at(&env("SSPR_TEST_LDAP_PLAIN_URL"), &uid, "Hash Person", "Init-Passw0rd-1").await;
    let user = UserId::new(dn.clone());
    let directory = LdapDirectory::new(plain_config()).unwrap();

    directory.set_password(&user, &Password::new("Temp-Passw0rd-77"), true).await.unwrap();
    let (stored, reset) = stored_password(&dn).await;
    assert!(!stored.contains("Temp-Passw0rd-77"), "stored in clear: {stored}");
    assert!(
        stored.starts_with("{SSHA}") || stored.starts_with("{ARGON2}") || stored.starts_with("{CRYPT}"),
        "{stored}"
    );
    assert_eq!(reset.as_deref(), Some("TRUE"));
    // The user's own bind sees the must-change flag; the password works.
    assert_eq!(
        directory.authenticate(&user, &Password::new("Temp-Passw0rd-77")).await.unwrap(),
        Authentication::MustChange
    );

    // A password the user chose: hashed, and no must-change flag.
    directory.set_password(&user, &Password::new("Chosen-Passw0rd-78"), false).await.unwrap();
    let (stored, reset) = stored_password(&dn).await;
    assert!(stored.starts_with('{') && !stored.contains("Chosen-Passw0rd-78"), "{stored}");
    assert_eq!(reset, None);
    assert_eq!(
        directory.authenticate(&user, &Password::new("Chosen-Passw0rd-78")).await.unwrap(),
        Authentication::Accepted
    );

    // ppolicy's quality check still answers through the extended operation: rc 19, nothing changed.
    let err = directory.set_password(&user, &Password::new("short"), true).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::PasswordRejected, "{err}");
    assert!(!format!("{err:?} {err}").contains("short\""));
    assert_eq!(stored_password(&dn).await.1, None);
    assert_eq!(
        directory.authenticate(&user, &Password::new("Chosen-Passw0rd-78")).await.unwrap(),
        Authentication::Accepted
    );
}

/// TCP connections this machine has open *to* the plain slapd (client side, ESTABLISHED),
/// from /proc/net/tcp, by local address and port: a client's socket leaves ESTABLISHED the
/// moment it closes, whereas the server reaps a closed connection a little later.
fn open_connections(port: u16) -> HashSet<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let remote = format!(":{port:04X}");
    // The kernel writes the table page by page: a socket may be listed twice when the table
    // changes between pages. Each client socket counts once (by its local address and port).
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.len() > 3 && fields[2].ends_with(&remote) && fields[3] == "01").then(|| fields[1].to_owned())
        })
        .collect()
}

/// The most connections provably open at one instant, watched until `done`. One read of
/// /proc/net/tcp is not a snapshot (page by page, and the reader can be preempted between
/// pages on a loaded machine): a connection closed early in the read and its successor opened
/// late both appear, and a read could count more than were ever open together (the test saw
/// 9 to 14 of 8 under load). A socket listed in two consecutive reads was open from its place
/// in the first to its place in the second, and any two such intervals overlap, so the sockets
/// common to both reads were all open at one instant: a count that is never too high.
fn peak_open_connections(port: u16, done: &AtomicBool) -> u64 {
    let mut peak = 0;
    let mut previous = open_connections(port);
    while !done.load(Ordering::Relaxed) {
        let current = open_connections(port);
        peak = peak.max(current.intersection(&previous).count() as u64);
        previous = current;
    }
    peak
}

#[tokio::test]
async fn a_flood_of_sign_ins_never_opens_more_than_the_configured_connections() {
    let _serial = SERIAL.lock().await;
    let uid = unique("flood");
    let dn = add_openldap_user_at(&env("SSPR_TEST_LDAP_PLAIN_URL"), &uid, "Flood Person", "Init-Passw0rd-1").await;
    let user = UserId::new(dn);
    // Over the plain instance's LDAPS port, which no other test uses: only these sign-ins are
    // counted, not the StartTLS connections of tests running at the same time.
    let mut config = plain_config();
    config.url = env("SSPR_TEST_LDAP_PLAIN_LDAPS_URL");
    config.starttls = false;
    let max = config.sign_in_connections;
    assert_eq!(max, 8, "the default");
    let directory = LdapDirectory::new(config).unwrap();

    let port: u16 =
        env("SSPR_TEST_LDAP_PLAIN_LDAPS_URL").rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    let baseline = open_connections(port).len() as u64;
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || peak_open_connections(port, &done))
    };
    let sign_ins = (0..80).map(|i| {
        let (directory, user) = (directory.clone(), user.clone());
        let password = if i % 2 == 0 { "Init-Passw0rd-1" } else { "Wrong-Passw0rd-1" };
        tokio::spawn(async move { directory.authenticate(&user, &Password::new(password)).await.unwrap() })
    });
    let results = futures::future::join_all(sign_ins).await;
    done.store(true, Ordering::Relaxed);
    let peak = watcher.join().unwrap();
    assert!(results.iter().all(|r| r.is_ok()));
    assert!(peak > baseline, "the watcher saw the sign-ins ({peak} vs {baseline})");
    assert!(
        peak <= baseline + max as u64,
        "{} sign-in connections open at once, at most {max} allowed",
        peak - baseline
    );
}

/// A new user of the plain slapd under a password policy of its own holding `rules` (its
/// `pwdPolicySubentry`): the policy's DN, an administrator's connection, the user and a
/// directory. The main slapd's one policy serves the password_rules tests.
async fn user_under_own_policy(
    prefix: &str,
    display: &str,
    rules: &[(&str, &str)],
) -> (String, Ldap, UserId, LdapDirectory) {
    let url = env("SSPR_TEST_LDAP_PLAIN_URL");
    let uid = unique(prefix);
    let cn = format!("{uid}-policy");
    let policy = format!("cn={cn},ou=policies,dc=example,dc=org");
    let mut admin = openldap_admin_at(&url).await;
    let mut attrs = vec![
        ("objectClass", HashSet::from(["pwdPolicy", "device"])),
        ("cn", HashSet::from([cn.as_str()])),
        ("pwdAttribute", HashSet::from(["userPassword"])),
    ];
    attrs.extend(rules.iter().map(|&(name, value)| (name, HashSet::from([value]))));
    admin.add(&policy, attrs).await.unwrap().success().unwrap();
    let dn = add_openldap_user_at(&url, &uid, display, "Init-Passw0rd-1").await;
    let subentry = vec![ldap3::Mod::Replace("pwdPolicySubentry", HashSet::from([policy.as_str()]))];
    admin.modify(&dn, subentry).await.unwrap().success().unwrap();
    (policy, admin, UserId::new(dn), LdapDirectory::new(plain_config()).unwrap())
}

#[tokio::test]
async fn the_default_policys_refusal_of_temporary_passwords_is_told_before_any_reset() {
    // What `sspr_backends::config` warns of at start-up: an administrator learns of a policy
    // that would fail every reset at its last step before a user meets it.
    let _serial = SERIAL.lock().await;
    let (policy, mut admin, _, _) = user_under_own_policy("startup", "Start Up", &[("pwdMustChange", "FALSE")]).await;
    let directory =
        LdapDirectory::new(LdapConfig { password_policy_dn: Some(policy.clone()), ..plain_config() }).unwrap();
    let refusal = directory.temporary_password_refusal().await.unwrap().expect("pwdMustChange FALSE is told");
    assert!(refusal.contains("pwdMustChange") && refusal.contains(&policy), "{refusal}");
    let fixed = vec![ldap3::Mod::Replace("pwdMustChange", HashSet::from(["TRUE"]))];
    admin.modify(&policy, fixed).await.unwrap().success().unwrap();
    assert_eq!(directory.temporary_password_refusal().await.unwrap(), None);
    let aged = vec![ldap3::Mod::Replace("pwdMinAge", HashSet::from(["60"]))];
    admin.modify(&policy, aged).await.unwrap().success().unwrap();
    assert!(directory.temporary_password_refusal().await.unwrap().is_some_and(|r| r.contains("pwdMinAge")));
}

#[tokio::test]
async fn a_temporary_password_is_not_set_where_the_users_policy_would_not_make_them_change_it() {
    // slapd honours pwdReset only under a policy with `pwdMustChange: TRUE`, and its default
    // is FALSE: there the temporary password was set, sspr answered "must change at next
    // sign-in", and the password shown once on screen stayed the user's password for good.
    // The password_rules tests use the main slapd's one policy: this runs on the plain one.
    let _serial = SERIAL.lock().await;
    let (policy, mut admin, user, directory) =
        user_under_own_policy("nomust", "No Must Change", &[("pwdMustChange", "FALSE")]).await;

    let set = directory.set_password(&user, &Password::new("Temp-Passw0rd-79"), true).await;
    let err = set.expect_err("a temporary password the directory would not make the user change");
    assert_eq!(err.kind(), BackendErrorKind::Rejected, "{err}");
    assert!(err.message().contains("pwdMustChange") && err.message().contains(&policy), "{err}");
    // Nothing changed: the old password still signs in, the temporary one does not.
    let signs_in = |password: &'static str| {
        let (directory, user) = (directory.clone(), user.clone());
        async move { directory.authenticate(&user, &Password::new(password)).await }
    };
    assert_eq!(signs_in("Init-Passw0rd-1").await.unwrap(), Authentication::Accepted);
    assert_eq!(signs_in("Temp-Passw0rd-79").await.unwrap(), Authentication::Rejected);
    // A password the user chose asks for no must-change: set as before.
    directory.set_password(&user, &Password::new("Chosen-Passw0rd-80"), false).await.unwrap();
    assert_eq!(signs_in("Chosen-Passw0rd-80").await.unwrap(), Authentication::Accepted);

    // Under a policy that does make users change it, the temporary password is set.
    let must = vec![ldap3::Mod::Replace("pwdMustChange", HashSet::from(["TRUE"]))];
    admin.modify(&policy, must).await.unwrap().success().unwrap();
    directory.set_password(&user, &Password::new("Temp-Passw0rd-81"), true).await.unwrap();
    assert_eq!(signs_in("Temp-Passw0rd-81").await.unwrap(), Authentication::MustChange);
}

#[tokio::test]
async fn a_temporary_password_is_not_set_where_the_policys_minimum_age_would_forbid_changing_it() {
    // Under `pwdMinAge` slapd refuses the user's own change of the temporary password ("too
    // young to change") while `pwdReset` refuses everything but that change: the reset left
    // the user locked out until the minimum age passed (a day, commonly), old password gone.
    let _serial = SERIAL.lock().await;
    let (policy, _, user, directory) = user_under_own_policy(
        "minage",
        "Min Age",
        &[("pwdMustChange", "TRUE"), ("pwdAllowUserChange", "TRUE"), ("pwdMinAge", "3600")],
    )
    .await;

    let err = directory.set_password(&user, &Password::new("Temp-Passw0rd-82"), true).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected, "{err}");
    assert!(err.message().contains("pwdMinAge") && err.message().contains(&policy), "{err}");
    assert_eq!(
        directory.authenticate(&user, &Password::new("Init-Passw0rd-1")).await.unwrap(),
        Authentication::Accepted,
        "nothing changed"
    );
    // A password the user chose needs no change afterwards: set as before.
    directory.set_password(&user, &Password::new("Chosen-Passw0rd-83"), false).await.unwrap();
}

#[tokio::test]
async fn a_temporary_password_is_not_set_where_the_policy_forbids_users_to_change_their_password() {
    // Under `pwdAllowUserChange: FALSE` slapd refuses the user's own change ("User alteration
    // of password is not allowed") and, `pwdReset` set, everything else: locked out for good.
    let _serial = SERIAL.lock().await;
    let (policy, _, user, directory) =
        user_under_own_policy("nouc", "No User Change", &[("pwdMustChange", "TRUE"), ("pwdAllowUserChange", "FALSE")])
            .await;

    let err = directory.set_password(&user, &Password::new("Temp-Passw0rd-84"), true).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected, "{err}");
    assert!(err.message().contains("pwdAllowUserChange") && err.message().contains(&policy), "{err}");
    assert_eq!(
        directory.authenticate(&user, &Password::new("Init-Passw0rd-1")).await.unwrap(),
        Authentication::Accepted,
        "nothing changed"
    );
}
