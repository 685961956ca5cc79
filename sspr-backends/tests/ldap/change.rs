//! A user's own password change (`Directory::change_password`) and the rules read before it,
//! on slapd (ppolicy: `pwdMinLength` 8, `pwdInHistory` 3) and Samba AD (complexity on, the
//! domain keeping no history and no minimum age; history and minimum age come from a
//! fine-grained password policy given to the test's own user).

use std::collections::HashSet;

use sspr_backends::ldap::{LdapContactStore, LdapDirectory};
use sspr_core::memory::Outbox;
use sspr_core::{
    Authentication, BackendError, Directory, Error, Password, PasswordRefusal, PasswordRules, RequestContext, UserId,
};

use crate::common::*;
use crate::contacts::{ad_contacts_config, openldap_contacts_config};
use crate::flows::engine;

fn pw(text: &str) -> Password {
    Password::new(text)
}

fn refusal(result: Result<(), BackendError>) -> Option<PasswordRefusal> {
    let err = result.err()?;
    assert!(err.refusal().is_some(), "not a refusal: {err:?}");
    err.refusal()
}

async fn signs_in(directory: &LdapDirectory, user: &UserId, password: &str) -> Authentication {
    directory.authenticate(user, &pw(password)).await.unwrap()
}

/// The shared checks: wrong current password, success then only the new password signs in,
/// a must-change (temporary) password changed by its user.
async fn common_checks(directory: &LdapDirectory, user: &UserId) {
    let wrong = directory.change_password(user, &pw("Wrong-Passw0rd-9"), &pw("Next-Passw0rd-2")).await;
    assert_eq!(refusal(wrong), Some(PasswordRefusal::WrongCurrentPassword));
    directory.change_password(user, &pw("Init-Passw0rd-1"), &pw("Next-Passw0rd-2")).await.unwrap();
    assert_eq!(signs_in(directory, user, "Next-Passw0rd-2").await, Authentication::Accepted);
    assert_eq!(signs_in(directory, user, "Init-Passw0rd-1").await, Authentication::Rejected);
    // A temporary password, as a reset leaves it: its user changes it, and must-change ends.
    directory.set_password(user, &pw("Temp-Passw0rd-77"), true).await.unwrap();
    assert_eq!(signs_in(directory, user, "Temp-Passw0rd-77").await, Authentication::MustChange);
    directory.change_password(user, &pw("Temp-Passw0rd-77"), &pw("Mine-Passw0rd-3")).await.unwrap();
    assert_eq!(signs_in(directory, user, "Mine-Passw0rd-3").await, Authentication::Accepted);
    assert_eq!(signs_in(directory, user, "Temp-Passw0rd-77").await, Authentication::Rejected);
}

#[tokio::test]
async fn openldap_a_users_own_change_checks_the_old_password_and_clears_must_change() {
    let uid = unique("chg");
    let user = UserId::new(add_openldap_user(&uid, "Change Person", "Init-Passw0rd-1").await);
    common_checks(&openldap(), &user).await;
}

#[tokio::test]
async fn openldap_history_and_length_refusals_are_typed_and_change_nothing() {
    let uid = unique("chh");
    let user = UserId::new(add_openldap_user(&uid, "History Person", "Init-Passw0rd-1").await);
    let directory = openldap();
    let short = directory.change_password(&user, &pw("Init-Passw0rd-1"), &pw("Sh0rt!")).await;
    assert_eq!(refusal(short), Some(PasswordRefusal::TooShort));
    directory.change_password(&user, &pw("Init-Passw0rd-1"), &pw("Next-Passw0rd-2")).await.unwrap();
    let back = directory.change_password(&user, &pw("Next-Passw0rd-2"), &pw("Init-Passw0rd-1")).await;
    assert_eq!(refusal(back), Some(PasswordRefusal::InHistory));
    assert_eq!(signs_in(&directory, &user, "Next-Passw0rd-2").await, Authentication::Accepted);
    // The default policy, named (other tests add policies of their own beside it).
    let mut config = openldap_config();
    config.password_policy_dn = Some(format!("cn=default,ou=policies,{}", env("SSPR_TEST_LDAP_BASE")));
    let rules = LdapDirectory::new(config).unwrap().password_rules().await.unwrap();
    assert_eq!(
        rules,
        PasswordRules { min_length: Some(8), history_length: Some(3), complexity: None, min_age_secs: Some(0) }
    );
}

#[tokio::test]
async fn openldap_a_minimum_age_refuses_a_second_change_as_too_recent() {
    let uid = unique("chm");
    let dn = add_openldap_user(&uid, "Age Person", "Init-Passw0rd-1").await;
    // A policy of its own with a minimum age of a day, named by the user's pwdPolicySubentry.
    let policy = format!("cn={uid},ou=policies,{}", env("SSPR_TEST_LDAP_BASE"));
    let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<HashSet<String>>();
    let mut admin = openldap_admin().await;
    admin
        .add(
            &policy,
            vec![
                ("objectClass".to_owned(), set(&["pwdPolicy", "device"])),
                ("cn".to_owned(), set(&[&uid])),
                ("pwdAttribute".to_owned(), set(&["userPassword"])),
                ("pwdAllowUserChange".to_owned(), set(&["TRUE"])),
                ("pwdMinAge".to_owned(), set(&["86400"])),
            ],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    let subentry = ldap3::Mod::Replace("pwdPolicySubentry".to_owned(), set(&[&policy]));
    admin.modify(&dn, vec![subentry]).await.unwrap().success().unwrap();
    let directory = openldap();
    let user = UserId::new(dn);
    directory.change_password(&user, &pw("Init-Passw0rd-1"), &pw("Next-Passw0rd-2")).await.unwrap();
    let again = directory.change_password(&user, &pw("Next-Passw0rd-2"), &pw("Third-Passw0rd-3")).await;
    assert_eq!(refusal(again), Some(PasswordRefusal::TooRecent));
    assert_eq!(signs_in(&directory, &user, "Next-Passw0rd-2").await, Authentication::Accepted);
}

/// A fine-grained password policy (PSO) for `user_dn` alone: history 3, complexity, length 8,
/// and the given minimum age in seconds.
async fn ad_pso_for(user_dn: &str, name: &str, min_age_secs: i64) {
    let base = env("SSPR_TEST_AD_BASE");
    let dn = format!("CN={name},CN=Password Settings Container,CN=System,{base}");
    let set = |v: &str| HashSet::from([v.as_bytes().to_vec()]);
    let ticks = |secs: i64| (-secs * 10_000_000).to_string();
    let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![
        (b"objectClass".to_vec(), set("msDS-PasswordSettings")),
        (b"msDS-PasswordSettingsPrecedence".to_vec(), set("1")),
        (b"msDS-PasswordReversibleEncryptionEnabled".to_vec(), set("FALSE")),
        (b"msDS-PasswordHistoryLength".to_vec(), set("3")),
        (b"msDS-PasswordComplexityEnabled".to_vec(), set("TRUE")),
        (b"msDS-MinimumPasswordLength".to_vec(), set("8")),
        (b"msDS-MinimumPasswordAge".to_vec(), set(&ticks(min_age_secs))),
        (b"msDS-MaximumPasswordAge".to_vec(), set(&ticks(90 * 86_400))),
        (b"msDS-LockoutThreshold".to_vec(), set("0")),
        (b"msDS-LockoutObservationWindow".to_vec(), set(&ticks(1800))),
        (b"msDS-LockoutDuration".to_vec(), set(&ticks(1800))),
        (b"msDS-PSOAppliesTo".to_vec(), set(user_dn)),
    ];
    let mut admin = ad_admin().await;
    admin.add(&dn, attrs).await.unwrap().success().unwrap();
}

#[tokio::test]
async fn ad_a_users_own_change_checks_the_old_password_and_clears_must_change() {
    let name = unique("adchg");
    let user = UserId::new(add_ad_user(&name, "Change Person", "Init-Passw0rd-1").await);
    common_checks(&ad(), &user).await;
}

#[tokio::test]
async fn ad_complexity_and_history_refusals_are_typed_and_change_nothing() {
    let name = unique("adchh");
    let dn = add_ad_user(&name, "History Person", "Init-Passw0rd-1").await;
    ad_pso_for(&dn, &name, 0).await;
    let directory = ad();
    let user = UserId::new(dn);
    let simple = directory.change_password(&user, &pw("Init-Passw0rd-1"), &pw("alllowercase")).await;
    assert_eq!(refusal(simple), Some(PasswordRefusal::TooSimple));
    directory.change_password(&user, &pw("Init-Passw0rd-1"), &pw("Next-Passw0rd-2")).await.unwrap();
    let back = directory.change_password(&user, &pw("Next-Passw0rd-2"), &pw("Init-Passw0rd-1")).await;
    assert_eq!(refusal(back), Some(PasswordRefusal::InHistory));
    assert_eq!(signs_in(&directory, &user, "Next-Passw0rd-2").await, Authentication::Accepted);
}

#[tokio::test]
async fn ad_a_minimum_age_refuses_a_second_change_as_too_recent() {
    let name = unique("adchm");
    let dn = add_ad_user(&name, "Age Person", "Init-Passw0rd-1").await;
    ad_pso_for(&dn, &name, 86_400).await;
    let directory = ad();
    let user = UserId::new(dn);
    // The password set when the account was made is a day from old enough.
    let early = directory.change_password(&user, &pw("Init-Passw0rd-1"), &pw("Next-Passw0rd-2")).await;
    assert_eq!(refusal(early), Some(PasswordRefusal::TooRecent));
    assert_eq!(signs_in(&directory, &user, "Init-Passw0rd-1").await, Authentication::Accepted);
}

#[tokio::test]
async fn ad_the_domain_rules_are_read() {
    // The test domain: complexity on, Samba's default length 7, no history, no minimum age.
    let rules = ad().password_rules().await.unwrap();
    assert_eq!(
        rules,
        PasswordRules { min_length: Some(7), history_length: Some(0), complexity: Some(true), min_age_secs: Some(0) }
    );
}

/// Through the engine: the change, then sign-in with the new password only, on both servers.
#[tokio::test]
async fn the_engine_changes_then_signs_in_with_the_new_password_only_on_both_directories() {
    let uid = unique("che");
    add_openldap_user(&uid, "Engine Person", "Init-Passw0rd-1").await;
    let name = unique("adche");
    add_ad_user(&name, "Engine Person", "Init-Passw0rd-1").await;
    let policy = |ou: &str| format!("eligible_ous = [\"{ou}\"]\nmin_response_ms = 0\n");
    let openldap_dir = openldap();
    let ad_dir = ad();
    let cases = [
        (
            engine(
                &openldap_dir,
                LdapContactStore::new(&openldap_dir, openldap_contacts_config()).unwrap(),
                &Outbox::new(),
                &policy("ou=staff,ou=people,dc=example,dc=org"),
            ),
            uid.clone(),
        ),
        (
            engine(
                &ad_dir,
                LdapContactStore::new(&ad_dir, ad_contacts_config()).unwrap(),
                &Outbox::new(),
                &policy("OU=Staff,DC=samdom,DC=example,DC=com"),
            ),
            format!("{name}@samdom.example.com"),
        ),
    ];
    let ctx = RequestContext::default();
    for (sspr, login) in cases {
        let wrong = sspr.change_password(&login, &pw("Wrong-Passw0rd-9"), &pw("Next-Passw0rd-2"), &ctx).await;
        assert!(matches!(wrong, Err(Error::SignInFailed)), "{login}: {wrong:?}");
        sspr.change_password(&login, &pw("Init-Passw0rd-1"), &pw("Next-Meadow-42"), &ctx).await.unwrap();
        sspr.sign_in(&login, &pw("Next-Meadow-42"), &ctx).await.unwrap();
        let old = sspr.sign_in(&login, &pw("Init-Passw0rd-1"), &ctx).await;
        assert!(matches!(old, Err(Error::SignInFailed)), "{login}: {old:?}");
        let rules = sspr.password_rules().await.unwrap();
        assert!(rules.min_length >= Some(8), "{login}: {rules:?}");
    }
}

/// 14.2a with an alias on slapd: the account has a second `uid` value, so `find_user` finds it
/// by either. The engine's failure count was kept per typed spelling, so guesses split over
/// the two never reached the lockout (with the engine's lockout below the directory's own, as
/// on an AD domain whose lockout threshold is 0, the default, the engine's is the only one).
#[tokio::test]
async fn openldap_guesses_through_a_second_uid_add_up_with_the_logins_own_to_one_lockout() {
    let uid = unique("chal");
    let alias = unique("chalias");
    let dn = add_openldap_user(&uid, "Alias Person", "Init-Passw0rd-1").await;
    let mut admin = openldap_admin().await;
    let second = ldap3::Mod::Add("uid".to_owned(), HashSet::from([alias.clone()]));
    admin.modify(&dn, vec![second]).await.unwrap().success().unwrap();
    let directory = openldap();
    // Three: below slapd's own `pwdMaxFailure` (5), so only the engine's lockout is tested.
    let policy = "eligible_ous = [\"ou=staff,ou=people,dc=example,dc=org\"]\nmin_response_ms = 0\n\
                  sign_in_failures_before_lockout = 3\n";
    let contacts = LdapContactStore::new(&directory, openldap_contacts_config()).unwrap();
    let sspr = engine(&directory, contacts, &Outbox::new(), policy);
    let ctx = RequestContext::default();
    for (i, login) in [&uid, &alias, &alias].into_iter().enumerate() {
        let guess = sspr.sign_in(login, &pw(&format!("Wrong-Passw0rd-{i}")), &ctx).await;
        assert!(matches!(guess, Err(Error::SignInFailed)), "guess {i} as {login}: {guess:?}");
    }
    let own = sspr.sign_in(&uid, &pw("Init-Passw0rd-1"), &ctx).await;
    assert!(matches!(own, Err(Error::RateLimited { .. })), "the account's own login: {own:?}");
    let through = sspr.change_password(&alias, &pw("Init-Passw0rd-1"), &pw("Next-Meadow-42"), &ctx).await;
    assert!(matches!(through, Err(Error::SignInFailed | Error::RateLimited { .. })), "the alias: {through:?}");
    assert_eq!(
        directory.authenticate(&UserId::new(dn), &pw("Init-Passw0rd-1")).await.unwrap(),
        Authentication::Accepted
    );
}

/// A password too big for the directory's request limit (slapd and Samba both drop a
/// connection whose bind request is over 256 kB) must be answered as it is for a login nobody
/// holds. Before, the engine sent it in a bind for a real login only: the directory hung up,
/// the caller got `Backend` where an unknown login got `SignInFailed` (which accounts exist,
/// through `sign_in` and `change_password` alike, to any host whose forms take 300 kB: a
/// Django form takes 2.5 MB), and nothing was counted.
#[tokio::test]
async fn a_password_too_big_for_the_directory_tells_no_real_login_from_an_unknown_one_on_both_directories() {
    let uid = unique("big");
    add_openldap_user(&uid, "Big Person", "Init-Passw0rd-1").await;
    let name = unique("adbig");
    add_ad_user(&name, "Big Person", "Init-Passw0rd-1").await;
    let policy = |ou: &str| format!("eligible_ous = [\"{ou}\"]\nmin_response_ms = 0\n");
    let openldap_dir = openldap();
    let ad_dir = ad();
    let cases = [
        (
            engine(
                &openldap_dir,
                LdapContactStore::new(&openldap_dir, openldap_contacts_config()).unwrap(),
                &Outbox::new(),
                &policy("ou=staff,ou=people,dc=example,dc=org"),
            ),
            uid.clone(),
        ),
        (
            engine(
                &ad_dir,
                LdapContactStore::new(&ad_dir, ad_contacts_config()).unwrap(),
                &Outbox::new(),
                &policy("OU=Staff,DC=samdom,DC=example,DC=com"),
            ),
            format!("{name}@samdom.example.com"),
        ),
    ];
    let ctx = RequestContext::default();
    let huge = pw(&"Passw0rd-".repeat(35_000)); // 315 kB
    let shape = |r: &Result<(), Error>| match r {
        Err(Error::InvalidInput { field, .. }) => format!("InvalidInput({field})"),
        other => format!("{other:?}"),
    };
    for (sspr, login) in cases {
        let unknown = unique("nobody");
        let real = sspr.sign_in(&login, &huge, &ctx).await.map(drop);
        let nobody = sspr.sign_in(&unknown, &huge, &ctx).await.map(drop);
        assert_eq!(shape(&real), shape(&nobody), "{login}: sign_in tells a real login from an unknown one");
        let next = pw("Next-Meadow-42");
        let real = sspr.change_password(&login, &huge, &next, &ctx).await;
        let nobody = sspr.change_password(&unknown, &huge, &next, &ctx).await;
        assert_eq!(shape(&real), shape(&nobody), "{login}: change_password tells a real login from an unknown one");
        assert!(matches!(real, Err(Error::InvalidInput { field: "current", .. })), "{login}: {real:?}");
        // The account is untouched and still signs in.
        sspr.sign_in(&login, &pw("Init-Passw0rd-1"), &ctx).await.unwrap();
    }
}
