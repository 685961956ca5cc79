//! LdapDirectory against slapd (ppolicy + memberof).

use std::collections::HashSet;

use sspr_backends::ldap::{BindPassword, LdapDirectory};
use sspr_core::testing::{DirectoryFixture, directory_conformance};
use sspr_core::{Authentication, BackendErrorKind, Directory, NormalizedLogin, Password, UserId};

use crate::common::*;

#[tokio::test]
async fn openldap_passes_the_directory_conformance_suite() {
    let uid = unique("conf");
    let dn = add_openldap_user(&uid, "Conformance Person", "Init-Passw0rd-1").await;
    // A group naming the user by uniqueMember with the optional UID, inside a groupOfNames:
    // neither is in the user's memberOf.
    let unique = format!("{uid}-unique");
    let inner = add_openldap_group(&unique, "groupOfUniqueNames", "uniqueMember", &[&format!("{dn}#'1'B")]).await;
    let outer = add_openldap_group(&format!("{uid}-outer"), "groupOfNames", "member", &[&inner]).await;
    let fixture = DirectoryFixture {
        login: uid.clone(),
        id: UserId::new(dn),
        missing_login: format!("{uid}-missing"),
        good_password: Password::new("Good-Passw0rd-42"),
        weak_password: Some(Password::new("abc")),
        groups: vec![inner.to_uppercase(), outer, unique],
    };
    directory_conformance(&openldap(), &fixture).await;
}

#[tokio::test]
async fn users_have_dn_display_name_and_nested_groups() {
    let directory = openldap();
    let carol = directory.find_user(&NormalizedLogin::parse("CAROL").unwrap()).await.unwrap().unwrap();
    assert_eq!(carol.dn, "uid=carol,ou=staff,ou=people,dc=example,dc=org");
    assert_eq!(carol.id.as_str(), carol.dn);
    assert_eq!(carol.display_name, "Carol Admin"); // no displayName: falls back to cn
    let groups: HashSet<&str> = carol.groups.iter().map(String::as_str).collect();
    for group in ["cn=sspr-users", "cn=helpdesk", "cn=privileged"] {
        assert!(groups.contains(format!("{group},ou=groups,dc=example,dc=org").as_str()), "{groups:?}");
    }
    let alice = directory.find_user(&NormalizedLogin::parse("alice").unwrap()).await.unwrap().unwrap();
    assert_eq!(alice.display_name, "Alice Liddell");
    assert_eq!(alice.groups, vec!["cn=sspr-users,ou=groups,dc=example,dc=org".to_owned()]);
    // The directory mailbox, where registration reminders go.
    assert_eq!(alice.mail.as_ref().map(|m| m.as_str()), Some("alice@example.org"));
}

#[tokio::test]
async fn lookup_by_a_configured_attribute_and_hostile_logins() {
    let mut config = openldap_config();
    config.login_attribute = Some("userPrincipalName".into());
    let directory = LdapDirectory::new(config).unwrap();
    let alice = directory.find_user(&NormalizedLogin::parse("Alice@Corp.Example.org").unwrap()).await.unwrap();
    assert_eq!(alice.unwrap().login, "alice@corp.example.org");
    // Metacharacters and NUL-escapes never widen the search (several users would match "*").
    for hostile in ["*", "*@corp.example.org", "alice*", "*)(uid=*", "alice)(|(uid=*)", "\\2a", "a\\00"] {
        let login = NormalizedLogin::parse(hostile).unwrap();
        assert_eq!(directory.find_user(&login).await.unwrap(), None, "{hostile}");
    }
    assert!(directory.search("*", 50).await.unwrap().is_empty());
    assert!(directory.search(")(uid=*", 50).await.unwrap().is_empty());
    let found = directory.search("LIDDELL", 10).await.unwrap();
    assert_eq!(found.iter().map(|u| u.login.as_str()).collect::<Vec<_>>(), ["alice@corp.example.org"]);
}

/// The portal's `[oidc] subject_attribute` reads one attribute of the user's entry: its
/// values, none when the entry has not got it, an error (never an empty answer) for an entry
/// that is gone.
#[tokio::test]
async fn an_attribute_of_the_users_entry_is_read_by_its_name() {
    let directory = openldap();
    let alice = directory.find_user(&NormalizedLogin::parse("alice").unwrap()).await.unwrap().unwrap();
    let values = directory.attribute_values(&alice.id, "employeeNumber").await.unwrap();
    assert_eq!(values, ["5b0c3f1e-9a2d-4c7b-8e61-a11ce0000001"], "scripts/servers/ldap/users.ldif");
    // The name matches as LDAP's do, whatever its case.
    assert_eq!(directory.attribute_values(&alice.id, "EMPLOYEENUMBER").await.unwrap(), values);
    assert!(directory.attribute_values(&alice.id, "employeeType").await.unwrap().is_empty());
    let gone = UserId::new("uid=nobody-here,ou=staff,ou=people,dc=example,dc=org");
    assert!(directory.attribute_values(&gone, "employeeNumber").await.is_err());
}

#[tokio::test]
async fn lockout_and_disabled_state_and_unlock() {
    let uid = unique("lock");
    let dn = add_openldap_user(&uid, "Locked Person", "Init-Passw0rd-1").await;
    let directory = openldap();
    let login = NormalizedLogin::parse(&uid).unwrap();
    let user = UserId::new(dn.clone());
    // Five wrong binds lock the account (ppolicy pwdMaxFailure 5).
    for _ in 0..5 {
        assert_eq!(
            directory.authenticate(&user, &Password::new("wrong-Passw0rd")).await.unwrap(),
            Authentication::Rejected
        );
    }
    let state = directory.find_user(&login).await.unwrap().unwrap().state;
    assert!(state.locked && !state.disabled, "{state:?}");
    // Locked: even the right password is refused.
    assert_eq!(
        directory.authenticate(&user, &Password::new("Init-Passw0rd-1")).await.unwrap(),
        Authentication::Rejected
    );
    directory.unlock(&user).await.unwrap();
    directory.unlock(&user).await.unwrap();
    assert!(!directory.find_user(&login).await.unwrap().unwrap().state.locked);
    assert_eq!(
        directory.authenticate(&user, &Password::new("Init-Passw0rd-1")).await.unwrap(),
        Authentication::Accepted
    );

    // An administrator's permanent lock is "disabled", and unlock does not lift it.
    let mut admin = openldap_admin().await;
    let disable = vec![ldap3::Mod::Replace("pwdAccountLockedTime", HashSet::from(["000001010000Z"]))];
    admin.modify(&dn, disable).await.unwrap().success().unwrap();
    let state = directory.find_user(&login).await.unwrap().unwrap().state;
    assert!(state.disabled && !state.locked, "{state:?}");
    directory.unlock(&user).await.unwrap();
    assert!(directory.find_user(&login).await.unwrap().unwrap().state.disabled);
}

/// slapd's ppolicy locks for good any `pwdAccountLockedTime` whose time is 0000-01-01 00:00 or
/// the Unix epoch, however it is spelt (with seconds, a fraction): it compares the normalised
/// time, not the text. sspr knew only the text `000001010000Z`: an administrator's disable
/// written `00000101000000Z` read as a failure lockout, so a self-service reset went ahead and
/// its unlock deleted the disable (watched failing on main).
#[tokio::test]
async fn an_administrators_lock_spelt_otherwise_is_disabled_and_unlock_keeps_it() {
    let mut admin = openldap_admin().await;
    for spelling in ["00000101000000Z", "000001010000.000Z", "00000101000000.0Z", "19700101000000Z"] {
        let uid = unique("disabled-spelt");
        let dn = add_openldap_user(&uid, "Disabled Person", "Init-Passw0rd-1").await;
        let disable = vec![ldap3::Mod::Replace("pwdAccountLockedTime", HashSet::from([spelling]))];
        admin.modify(&dn, disable).await.unwrap().success().unwrap();
        // slapd itself holds it as a lock for good (the policy's pwdLockoutDuration is 300 s).
        let bind = raw_bind(&env("SSPR_TEST_LDAP_URL"), &env("SSPR_TEST_CA"), &dn, "Init-Passw0rd-1", false).await;
        assert_eq!(bind.rc, 49, "{spelling}: slapd let the user in");
        let directory = openldap();
        let login = NormalizedLogin::parse(&uid).unwrap();
        let state = directory.find_user(&login).await.unwrap().unwrap().state;
        assert!(state.disabled && !state.locked, "{spelling}: {state:?}");
        directory.unlock(&UserId::new(dn.clone())).await.unwrap();
        let state = directory.find_user(&login).await.unwrap().unwrap().state;
        assert!(state.disabled, "{spelling}: unlock lifted an administrator's disable: {state:?}");
    }
    // A lock that has run out (300 s) stays a plain lock: unlock still lifts it.
    let uid = unique("old-lock");
    let dn = add_openldap_user(&uid, "Old Lock", "Init-Passw0rd-1").await;
    let lock = vec![ldap3::Mod::Replace("pwdAccountLockedTime", HashSet::from(["20000101000000Z"]))];
    admin.modify(&dn, lock).await.unwrap().success().unwrap();
    let state = openldap().find_user(&NormalizedLogin::parse(&uid).unwrap()).await.unwrap().unwrap().state;
    assert!(state.locked && !state.disabled, "{state:?}");
}

#[tokio::test]
async fn empty_password_is_never_sent_as_an_anonymous_bind() {
    let directory = openldap();
    let alice = UserId::new("uid=alice,ou=staff,ou=people,dc=example,dc=org");
    assert_eq!(directory.authenticate(&alice, &Password::new("")).await.unwrap(), Authentication::Rejected);
}

#[tokio::test]
async fn rootdn_is_not_needed_and_the_policy_applies_to_the_service_account() {
    // The service account gets the directory's reason for a weak password: rc 19 from ppolicy.
    let uid = unique("weak");
    let dn = add_openldap_user(&uid, "Weak Person", "Init-Passw0rd-1").await;
    let err = openldap().set_password(&UserId::new(dn), &Password::new("short"), true).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::PasswordRejected);
    assert!(err.message().contains("quality") || err.message().contains("19"), "{}", err.message());
    assert!(!format!("{err:?} {err}").contains("short\""));
}

#[tokio::test]
async fn a_reset_to_a_password_in_the_history_is_refused_and_says_so() {
    // A chosen password the policy's history (pwdInHistory 3) holds: refused as InHistory, so
    // the reset page names the rule in the user's language (Unspecified on main, only slapd's
    // English words said why).
    let uid = unique("hist");
    let user = UserId::new(add_openldap_user(&uid, "History Person", "Init-Passw0rd-1").await);
    let directory = openldap();
    directory.set_password(&user, &Password::new("Chosen-Passw0rd-5"), false).await.unwrap();
    let err = directory.set_password(&user, &Password::new("Init-Passw0rd-1"), false).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::PasswordRejected);
    assert_eq!(err.refusal(), Some(sspr_core::backend::PasswordRefusal::InHistory), "{}", err.message());
    assert!(err.message().contains("history"), "{}", err.message());
    // Nothing changed: the chosen password still signs in.
    assert_eq!(
        directory.authenticate(&user, &Password::new("Chosen-Passw0rd-5")).await.unwrap(),
        Authentication::Accepted
    );
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_is_refused() {
    // No ca_file: the system's roots, which do not know the test CA.
    let mut config = openldap_config();
    config.ca_file = None;
    let err =
        LdapDirectory::new(config).unwrap().find_user(&NormalizedLogin::parse("alice").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    assert!(err.message().to_lowercase().contains("certificate"), "{}", err.message());
    // LDAPS too.
    let mut config = openldap_config();
    config.url = env("SSPR_TEST_LDAPS_URL");
    config.starttls = false;
    config.ca_file = None;
    let err =
        LdapDirectory::new(config).unwrap().find_user(&NormalizedLogin::parse("alice").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    // With the CA, LDAPS works.
    let mut config = openldap_config();
    config.url = env("SSPR_TEST_LDAPS_URL");
    config.starttls = false;
    assert!(
        LdapDirectory::new(config)
            .unwrap()
            .find_user(&NormalizedLogin::parse("alice").unwrap())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_wrong_service_password_is_reported_without_the_password() {
    let mut config = openldap_config();
    config.bind_password = BindPassword::new("Not-The-Svc-Passw0rd");
    let err =
        LdapDirectory::new(config).unwrap().find_user(&NormalizedLogin::parse("alice").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Other);
    let text = format!("{err:?} {err}");
    assert!(text.contains("cn=sspr-svc") && !text.contains("Not-The-Svc-Passw0rd"), "{text}");
}

#[tokio::test]
async fn many_concurrent_lookups_share_the_pool() {
    let directory = openldap();
    let lookups = (0..64).map(|_| {
        let directory = directory.clone();
        async move { directory.find_user(&NormalizedLogin::parse("alice").unwrap()).await.unwrap().is_some() }
    });
    let found = futures::future::join_all(lookups).await;
    assert!(found.into_iter().all(|f| f));
}

#[tokio::test]
async fn concurrent_password_sets_of_one_user_all_succeed() {
    // ppolicy's pwdHistory bookkeeping refuses one of two racing sets with rc 16 or 20; that
    // modify changed nothing, so set_password runs it again.
    let uid = unique("race");
    let user = UserId::new(add_openldap_user(&uid, "Race Person", "Init-Passw0rd-1").await);
    let directory = openldap();
    for round in 0..5 {
        let sets =
            (0..4).map(|i| {
                let (directory, user) = (directory.clone(), user.clone());
                async move {
                    directory.set_password(&user, &Password::new(format!("Race-{round}-{i}-Passw0rd")), true).await
                }
            });
        for result in futures::future::join_all(sets).await {
            result.unwrap();
        }
    }
}

#[tokio::test]
async fn groups_without_the_memberof_overlay_are_found_by_search() {
    // groupOfUniqueNames is not tracked by the memberof overlay (it follows `member` only):
    // these memberships are only visible by searching uniqueMember, nested ones too.
    let uid = unique("grp");
    let dn = add_openldap_user(&uid, "Group Person", "Init-Passw0rd-1").await;
    let inner = format!("cn={uid}-inner,ou=groups,dc=example,dc=org");
    let outer = format!("cn={uid}-outer,ou=groups,dc=example,dc=org");
    let mut admin = openldap_admin().await;
    for (group, member) in [(&inner, &dn), (&outer, &inner)] {
        let cn = group.trim_start_matches("cn=").split(',').next().unwrap().to_owned();
        let attrs = vec![
            ("objectClass", HashSet::from(["groupOfUniqueNames"])),
            ("cn", HashSet::from([cn.as_str()])),
            ("uniqueMember", HashSet::from([member.as_str()])),
        ];
        admin.add(group, attrs).await.unwrap().success().unwrap();
    }
    let user = openldap().find_user(&NormalizedLogin::parse(&uid).unwrap()).await.unwrap().unwrap();
    let groups: HashSet<String> = user.groups.iter().map(|g| g.to_ascii_lowercase()).collect();
    assert!(groups.contains(&inner.to_ascii_lowercase()) && groups.contains(&outer.to_ascii_lowercase()), "{groups:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_directory_answers_nested_real_and_unknown_logins_in_the_same_time() {
    // Attack: with every slapd answer 120 ms away, a real login's lookup made one group search
    // per group it is in, nested ones too (carol: sspr-users, helpdesk, and privileged above
    // helpdesk: four), an unknown login's one: begin_reset took ~720 ms for carol and the
    // 300 ms padding for a login nobody has. Now every lookup searches level by level, at
    // least three levels.
    let config = behind_slow_proxy(openldap_config(), std::time::Duration::from_millis(120)).await;
    let medians = begin_reset_medians(
        config,
        "ou=staff,ou=people,dc=example,dc=org",
        "alice",
        &["alice", "carol", "nobody-here"],
    )
    .await;
    let [alice, carol, unknown] = [0, 1, 2].map(|i| medians[i]);
    eprintln!("begin_reset medians: alice {alice} ms, carol {carol} ms, unknown {unknown} ms");
    assert!(
        alice.abs_diff(unknown) < 100 && carol.abs_diff(unknown) < 100,
        "begin_reset took {alice} ms for alice, {carol} ms for carol (nested groups), {unknown} ms for an unknown login"
    );
}
