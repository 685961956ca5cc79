//! LdapDirectory against Samba AD.

use std::collections::HashSet;

use sspr_backends::ldap::LdapDirectory;
use sspr_core::testing::{DirectoryFixture, directory_conformance};
use sspr_core::{Authentication, BackendErrorKind, Directory, NormalizedLogin, Password, UserId};

use crate::common::*;

#[tokio::test]
async fn samba_ad_passes_the_directory_conformance_suite() {
    let name = unique("adc");
    let dn = add_ad_user(&name, "Conformance Person", "Init-Passw0rd-1").await;
    let fixture = DirectoryFixture {
        login: format!("{name}@samdom.example.com"),
        id: UserId::new(dn),
        missing_login: format!("{name}-missing@samdom.example.com"),
        good_password: Password::new("Good-Passw0rd-42"),
        weak_password: Some(Password::new("abc")),
        // The primary group, which no group's `member` lists.
        groups: vec!["Domain Users".into()],
    };
    directory_conformance(&ad(), &fixture).await;
}

#[tokio::test]
async fn nested_groups_through_the_transitive_matching_rule() {
    let carol = ad().find_user(&NormalizedLogin::parse("Carol@SAMDOM.example.com").unwrap()).await.unwrap().unwrap();
    let groups: HashSet<String> = carol.groups.iter().map(|g| g.to_ascii_lowercase()).collect();
    for group in
        ["cn=helpdesk,ou=staff,dc=samdom,dc=example,dc=com", "cn=privileged,ou=staff,dc=samdom,dc=example,dc=com"]
    {
        assert!(groups.contains(group), "{groups:?}");
    }
    assert_eq!(carol.display_name, "Carol Admin"); // no displayName: cn
    // AD's `mail`, where registration reminders go.
    assert_eq!(carol.mail.as_ref().map(|m| m.as_str()), Some("carol@example.org"));
}

#[tokio::test]
async fn reset_then_the_users_bind_fails_with_773_and_weak_passwords_get_the_reason() {
    let name = unique("adr");
    let dn = add_ad_user(&name, "Reset Person", "Init-Passw0rd-1").await;
    let directory = ad();
    let user = UserId::new(dn.clone());
    directory.set_password(&user, &Password::new("Temp-Passw0rd-77"), true).await.unwrap();
    let raw = raw_bind(&env("SSPR_TEST_AD_URL"), &env("SSPR_TEST_AD_CA"), &dn, "Temp-Passw0rd-77", false).await;
    assert_eq!(raw.rc, 49);
    assert!(raw.text.contains("data 773"), "{}", raw.text);
    assert_eq!(
        directory.authenticate(&user, &Password::new("Temp-Passw0rd-77")).await.unwrap(),
        Authentication::MustChange
    );
    assert_eq!(
        directory.authenticate(&user, &Password::new("Wrong-Passw0rd-77")).await.unwrap(),
        Authentication::Rejected
    );

    let err = directory.set_password(&user, &Password::new("alllowercase"), false).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::PasswordRejected);
    assert!(err.message().contains("0000052D"), "{}", err.message());
    // Typed by the rule Samba names, as a user's own change is (Unspecified on main).
    assert_eq!(err.refusal(), Some(sspr_core::backend::PasswordRefusal::TooSimple), "{}", err.message());
    assert!(!format!("{err:?}").contains("alllowercase"));
    // Not must-change: the user signs in normally.
    directory.set_password(&user, &Password::new("Chosen-Passw0rd-78"), false).await.unwrap();
    assert_eq!(
        directory.authenticate(&user, &Password::new("Chosen-Passw0rd-78")).await.unwrap(),
        Authentication::Accepted
    );
}

#[tokio::test]
async fn a_temporary_password_is_not_set_for_an_account_whose_password_never_expires() {
    // AD ignores `pwdLastSet: 0` on an account with "Password never expires"
    // (DONT_EXPIRE_PASSWORD, 0x10000; ADUC warns "the user will not be required to change
    // the password at next logon"): sspr set the temporary password, answered must-change,
    // and the user's bind with it simply succeeded, for good.
    let name = unique("noexp");
    let dn = add_ad_user(&name, "Never Expires", "Init-Passw0rd-1").await;
    let mut admin = ad_admin().await;
    let never_expires = vec![ldap3::Mod::Replace("userAccountControl", HashSet::from(["66048"]))];
    admin.modify(&dn, never_expires).await.unwrap().success().unwrap();
    let (directory, user) = (ad(), UserId::new(dn.clone()));

    let err = directory.set_password(&user, &Password::new("Temp-Passw0rd-79"), true).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected, "{err}");
    assert!(err.message().contains("never expires"), "{err}");
    // Nothing changed: the old password still signs in, the temporary one does not.
    let signs_in = |password: &'static str| {
        let (directory, user) = (directory.clone(), user.clone());
        async move { directory.authenticate(&user, &Password::new(password)).await.unwrap() }
    };
    assert_eq!(signs_in("Init-Passw0rd-1").await, Authentication::Accepted);
    assert_eq!(signs_in("Temp-Passw0rd-79").await, Authentication::Rejected);
    // A password the user chose asks for no must-change: set as before.
    directory.set_password(&user, &Password::new("Chosen-Passw0rd-80"), false).await.unwrap();
    assert_eq!(signs_in("Chosen-Passw0rd-80").await, Authentication::Accepted);
    // Without the flag the temporary password is set and must be changed.
    let expires = vec![ldap3::Mod::Replace("userAccountControl", HashSet::from(["512"]))];
    admin.modify(&dn, expires).await.unwrap().success().unwrap();
    directory.set_password(&user, &Password::new("Temp-Passw0rd-81"), true).await.unwrap();
    assert_eq!(signs_in("Temp-Passw0rd-81").await, Authentication::MustChange);
}

#[tokio::test]
async fn lockout_disabled_and_expired_accounts() {
    let name = unique("adl");
    let dn = add_ad_user(&name, "State Person", "Init-Passw0rd-1").await;
    let directory = ad();
    let login = NormalizedLogin::parse(&format!("{name}@samdom.example.com")).unwrap();
    let user = UserId::new(dn.clone());
    assert_eq!(directory.find_user(&login).await.unwrap().unwrap().state, Default::default());
    // Five wrong passwords lock the account (the test domain's lockout threshold).
    for _ in 0..5 {
        assert_eq!(
            directory.authenticate(&user, &Password::new("Wrong-Passw0rd-1")).await.unwrap(),
            Authentication::Rejected
        );
    }
    let state = directory.find_user(&login).await.unwrap().unwrap().state;
    assert!(state.locked && !state.disabled && !state.expired, "{state:?}");
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

    let mut admin = ad_admin().await;

    let disable = vec![ldap3::Mod::Replace("userAccountControl", HashSet::from(["514"]))];
    admin.modify(&dn, disable).await.unwrap().success().unwrap();
    assert!(directory.find_user(&login).await.unwrap().unwrap().state.disabled);
    // 2020-01-01: expired.
    let expire = vec![ldap3::Mod::Replace("accountExpires", HashSet::from(["132223104000000000"]))];
    admin.modify(&dn, expire).await.unwrap().success().unwrap();
    assert!(directory.find_user(&login).await.unwrap().unwrap().state.expired);
    assert_eq!(
        directory.authenticate(&user, &Password::new("Init-Passw0rd-1")).await.unwrap(),
        Authentication::Rejected
    );
}

#[tokio::test]
async fn starttls_on_389_works_and_an_unknown_ca_is_refused() {
    let mut config = ad_config();
    config.url = env("SSPR_TEST_AD_STARTTLS_URL");
    config.starttls = true;
    let alice = LdapDirectory::new(config)
        .unwrap()
        .find_user(&NormalizedLogin::parse("alice@samdom.example.com").unwrap())
        .await;
    assert!(alice.unwrap().is_some());
    let mut config = ad_config();
    config.ca_file = None;
    let err = LdapDirectory::new(config)
        .unwrap()
        .find_user(&NormalizedLogin::parse("alice@samdom.example.com").unwrap())
        .await;
    let err = err.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable);
    assert!(err.message().to_lowercase().contains("certificate"), "{}", err.message());
}

#[tokio::test]
async fn hostile_logins_on_samba_never_widen_the_search_nor_reach_another_account() {
    // Filter metacharacters, escapes, confusables (Cyrillic a, dotless i), a down-level
    // name, a trailing dot: none finds anyone, by UPN or by sAMAccountName. NFKC forms and
    // case reach the account under its own normalised login (one key, no alias split).
    let hostile = [
        "*",
        "*@samdom.example.com",
        "alice*",
        "*)(userPrincipalName=*",
        "alice@samdom.example.com)(|(cn=*",
        "alice)(|(cn=*",
        "\\2a",
        "a\\00",
        "\u{430}lice@samdom.example.com",
        "al\u{131}ce@samdom.example.com",
        "\u{430}lice",
        "SAMDOM\\alice",
        "al ice",
        "alice@samdom.example.com.",
        "AL\u{130}CE",
    ];
    for (attr, own, spellings) in [
        (
            None,
            "alice@samdom.example.com",
            [
                "ALICE@SAMDOM.EXAMPLE.COM",
                "\u{ff41}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}@samdom.example.com",
                " alice@samdom.example.com ",
            ],
        ),
        (Some("sAMAccountName"), "alice", ["ALICE", "\u{ff41}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}", " alice "]),
    ] {
        let mut config = ad_config();
        config.login_attribute = attr.map(str::to_owned);
        let directory = LdapDirectory::new(config).unwrap();
        for login in hostile {
            let parsed = NormalizedLogin::parse(login).unwrap();
            assert_eq!(directory.find_user(&parsed).await.unwrap(), None, "{attr:?} {login:?}");
        }
        for login in spellings {
            let parsed = NormalizedLogin::parse(login).unwrap();
            assert_eq!(parsed.as_str(), own, "{login:?} normalises to the account's own login");
            let found = directory.find_user(&parsed).await.unwrap().map(|u| u.login);
            assert_eq!(found.as_deref(), Some(own), "{attr:?} {login:?}");
        }
        for login in ["alice@samdom.example.com\0", "alice\u{200b}", "alice\u{202e}"] {
            assert!(NormalizedLogin::parse(login).is_err(), "{login:?} is refused before any search");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_directory_answers_a_real_and_an_unknown_login_in_the_same_time() {
    // Attack: with every directory answer 120 ms away, a real login's lookup made four round
    // trips (the user, its tokenGroups, their SIDs, the transitive groups) and an unknown
    // login's one: begin_reset took about 480 ms for alice and the 300 ms padding for a
    // login nobody has. The padding hides only what stays under it.
    let config = behind_slow_proxy(ad_config(), std::time::Duration::from_millis(120)).await;
    let medians = begin_reset_medians(
        config,
        "OU=Staff,DC=samdom,DC=example,DC=com",
        "alice@samdom.example.com",
        &["alice@samdom.example.com", "nobody-here@samdom.example.com"],
    )
    .await;
    let (real, unknown) = (medians[0], medians[1]);
    assert!(
        real.abs_diff(unknown) < 100,
        "begin_reset took {real} ms for a real login, {unknown} ms for an unknown one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_directory_answers_a_real_and_an_unknown_login_alike_when_the_service_account_binds_by_name() {
    // Attack: AD also binds the service account by `DOMAIN\name` or UPN. An unknown login's
    // stand-in group searches started from the bind name, which is no DN: the first failed at
    // once and the rest were skipped, so with every answer 120 ms away begin_reset took about
    // 510 ms for alice and the padded 300 ms for a login nobody has (watched on main).
    for bind in ["sspr-svc@samdom.example.com", "SAMDOM\\sspr-svc"] {
        let mut config = ad_config();
        config.bind_dn = bind.into();
        let config = behind_slow_proxy(config, std::time::Duration::from_millis(120)).await;
        let medians = begin_reset_medians(
            config,
            "OU=Staff,DC=samdom,DC=example,DC=com",
            "alice@samdom.example.com",
            &["alice@samdom.example.com", "nobody-here@samdom.example.com"],
        )
        .await;
        let (real, unknown) = (medians[0], medians[1]);
        eprintln!("bind {bind}: begin_reset medians: real {real} ms, unknown {unknown} ms");
        assert!(
            real.abs_diff(unknown) < 100,
            "bound as {bind}: begin_reset took {real} ms for a real login, {unknown} ms for an unknown one"
        );
    }
}

#[tokio::test]
async fn a_service_account_bound_by_a_name_that_is_not_a_dn_still_finds_and_misses_logins() {
    // An unknown login's lookup repeats a found user's group searches for the service
    // account's entry (see the test above); AD also takes `DOMAIN\name` or a UPN as the bind
    // name, which is no DN to search from: an unknown login is still just not found.
    for bind in ["SAMDOM\\sspr-svc", "sspr-svc@samdom.example.com"] {
        let mut config = ad_config();
        config.bind_dn = bind.into();
        let directory = LdapDirectory::new(config).unwrap();
        let nobody = NormalizedLogin::parse("nobody-here@samdom.example.com").unwrap();
        assert_eq!(directory.find_user(&nobody).await.unwrap(), None, "{bind}");
        let alice = NormalizedLogin::parse("alice@samdom.example.com").unwrap();
        assert!(directory.find_user(&alice).await.unwrap().is_some(), "{bind}");
    }
}
