//! The portal on the real OpenLDAP server scripts/test.sh starts: the directory switched by
//! configuration alone. Read-only for the directory (no password is changed here: other
//! suites share the server).

use crate::support::{Browser, reset_to_pin};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests via ./scripts/test.sh (it starts slapd)"))
}

#[tokio::test]
async fn a_reset_up_to_the_verified_pin_against_openldap() {
    let toml = format!(
        "admin_groups = [\"cn=helpdesk,ou=groups,dc=example,dc=org\"]\n\
         [policy]\nmin_response_ms = 0\neligible_ous = [\"ou=people,dc=example,dc=org\"]\n\
         [store]\nkind = \"memory\"\n\
         [directory]\nkind = \"ldap\"\nurl = \"{}\"\nca_file = \"{}\"\nbase_dn = \"{}\"\nbind_dn = \"{}\"\nbind_password = \"{}\"\n",
        env("SSPR_TEST_LDAPS_URL"),
        env("SSPR_TEST_CA"),
        env("SSPR_TEST_LDAP_BASE"),
        env("SSPR_TEST_LDAP_BIND_DN"),
        env("SSPR_TEST_LDAP_BIND_PASSWORD"),
    );
    let portal = sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap();
    assert!(portal.summary().contains("directory: LDAP"), "{}", portal.summary());
    assert!(!portal.summary().contains(&env("SSPR_TEST_LDAP_BIND_PASSWORD")));

    // The admin's part, through the engine the pages use: enable alice, register an address.
    let address = format!("alice-{}@mail.example", crate::support::temp_dir().file_name().unwrap().to_string_lossy());
    let admin = sspr_core::Actor::Admin("test".into());
    let ctx = sspr_core::RequestContext::default();
    portal.sspr().set_enabled(&admin, "alice", true, &ctx).await.unwrap();
    let update =
        sspr_core::ContactUpdate { email: sspr_core::ContactChange::Set(address.clone()), ..Default::default() };
    portal.sspr().update_contacts(&admin, "alice", update, &ctx).await.unwrap();
    let found = portal.sspr().search_users("alic", 10).await.unwrap();
    assert!(found.iter().any(|u| u.login == "alice" && u.enabled && u.eligible), "{found:?}");

    // The user's part, through the pages: the PIN goes out and is accepted.
    let mut browser = Browser::new(&portal);
    let page = reset_to_pin(&mut browser, "Alice").await;
    assert!(page.body.contains("id=\"pin-status\""), "{}", page.main());
    let pin = portal.outbox().unwrap().last_pin_to(&address).expect("the PIN was sent");
    let modes = browser.submit("/passwordreset/verify", &[("csrf", &page.csrf()), ("pin", &pin)]).await;
    assert!(modes.body.contains("value=\"temporary\""), "{}", modes.main());

    // An unknown login gets the same sign-in answer as anyone (no bind is even tried).
    let mut other = Browser::with_ip(&portal, "192.0.2.31");
    let csrf = other.get("/passwordnotification").await.csrf();
    let failed = other
        .submit("/passwordnotification/signin", &[("csrf", &csrf), ("login", "no-such-user"), ("password", "x")])
        .await;
    assert_eq!(failed.alert().as_deref(), Some("The user name or password is wrong."));
}

/// alice's `employeeNumber` in scripts/servers/ldap/users.ldif: the provider's object id of her
/// account in the OpenID Connect test below.
const ALICE_OID: &str = "5b0c3f1e-9a2d-4c7b-8e61-a11ce0000001";

/// R.49 on OpenLDAP: with `[oidc] subject_attribute` the provider's account signs in as the
/// directory user its `preferred_username` names only when that user's entry holds the
/// account's id (the ID token's `oid`). The stand-in is the provider; its account `alice`
/// carries an object id of our choosing.
#[tokio::test]
async fn an_openid_connect_sign_in_on_openldap_needs_the_entrys_subject_attribute() {
    use crate::oidc::{PORTAL_APP, PORTAL_SECRET, REDIRECT, standin, through_the_provider};
    let standin = standin(&["alice"]).await;
    let portal = |options: &str| {
        let toml = format!(
            "admin_groups = [\"cn=helpdesk,ou=groups,dc=example,dc=org\"]\n\
             [policy]\nmin_response_ms = 0\neligible_ous = [\"ou=people,dc=example,dc=org\"]\n\
             [store]\nkind = \"memory\"\n\
             [directory]\nkind = \"ldap\"\nurl = \"{}\"\nca_file = \"{}\"\nbase_dn = \"{}\"\nbind_dn = \"{}\"\nbind_password = \"{}\"\n\
             [oidc]\nissuer = \"{}\"\nclient_id = \"{PORTAL_APP}\"\nclient_secret = \"{PORTAL_SECRET}\"\nredirect_uri = \"{REDIRECT}\"\n{options}",
            env("SSPR_TEST_LDAPS_URL"),
            env("SSPR_TEST_CA"),
            env("SSPR_TEST_LDAP_BASE"),
            env("SSPR_TEST_LDAP_BIND_DN"),
            env("SSPR_TEST_LDAP_BIND_PASSWORD"),
            standin.issuer(),
        );
        async move { sspr_portal::Portal::build(&crate::support::config(&toml)).await.unwrap() }
    };
    let signed_in = |page: &crate::support::Answer| page.body.contains("action=\"/passwordnotification/signout\"");
    let cases = [
        // Her entry's employeeNumber is the account's object id: she signs in.
        ("subject_attribute = \"employeeNumber\"\n", ALICE_OID, true),
        // Another account named alice at the provider: refused.
        ("subject_attribute = \"employeeNumber\"\n", "00000000-0000-0000-0000-0000000f0e19", false),
        // An attribute her entry has not got: refused, never taken as a match.
        ("subject_attribute = \"employeeType\"\n", ALICE_OID, false),
        // The value must be the prefix and the id exactly (AD's `User_<oid>`).
        ("subject_attribute = \"employeeNumber\"\nsubject_prefix = \"User_\"\n", ALICE_OID, false),
        // The operator's word: the username alone names her, whatever the account.
        ("trust_username = true\n", "00000000-0000-0000-0000-0000000f0e19", true),
    ];
    for (options, oid, expected) in cases {
        let portal = portal(options).await;
        let admin = sspr_core::Actor::Admin("test".into());
        portal.sspr().set_enabled(&admin, "alice", true, &sspr_core::RequestContext::default()).await.unwrap();
        standin.with(|t| t.users[0].id = oid.into());
        let mut browser = crate::support::Browser::new(&portal);
        let page = through_the_provider(&mut browser).await;
        assert_eq!(signed_in(&page), expected, "{options} oid {oid}: {}", page.main());
        if expected {
            assert!(page.main().contains("Alice Liddell"), "{}", page.main());
        } else {
            assert!(page.alert().is_some(), "the refusal is said: {}", page.main());
        }
    }
}

/// The directory part of a portal configuration on the Samba AD server.
fn ad_directory_toml() -> String {
    format!(
        "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n\
         [directory]\nkind = \"ldap\"\nflavor = \"active_directory\"\nurl = \"{}\"\nca_file = \"{}\"\nbase_dn = \"{}\"\nbind_dn = \"{}\"\nbind_password = \"{}\"\n\
         [contacts_check]\nuser_dn = \"CN=sspr-check,OU=Service,{}\"\npassword = \"Check-Passw0rd-1\"\n",
        env("SSPR_TEST_AD_URL"),
        env("SSPR_TEST_AD_CA"),
        env("SSPR_TEST_AD_BASE"),
        env("SSPR_TEST_AD_BIND_DN"),
        env("SSPR_TEST_AD_BIND_PASSWORD"),
        // The check's account: an ordinary one (scripts/servers/samba/users.ldif), not the
        // service account, which may write every user's attributes, its own too.
        env("SSPR_TEST_AD_BASE"),
    )
}

#[tokio::test]
async fn the_portal_checks_at_start_up_what_ad_users_may_write_of_their_contacts() {
    // Contacts read from the directory without a signed record: a user who may write their
    // own `mobile` (AD's and Samba's default) could get a PIN there at once (`otherMailbox` too). Refused.
    let read_only = format!("{}[contacts]\nkind = \"ldap\"\n", ad_directory_toml());
    let Err(refused) = sspr_portal::Portal::build(&crate::support::config(&read_only)).await else {
        panic!("the portal started with self-writable contacts");
    };
    assert!(refused.to_string().contains("users may write their own"), "{refused}");
    assert!(!refused.to_string().contains(&env("SSPR_TEST_AD_BIND_PASSWORD")), "{refused}");

    // The signed record in `info`, which users may write: an older record put back would
    // enable them again after an administrator switched self-service off. Refused.
    let record = |attr: &str| {
        format!(
            "{}[contacts]\nkind = \"ldap\"\nrecord_attribute = \"{attr}\"\nrecord_key = \"portal test record key, at least 32 bytes\"\n",
            ad_directory_toml()
        )
    };
    let Err(refused) = sspr_portal::Portal::build(&crate::support::config(&record("info"))).await else {
        panic!("the portal started with a self-writable record attribute");
    };
    assert!(refused.to_string().contains("older signed record"), "{refused}");

    // The record signed in `comment` (users cannot write it): safe with those rights; the
    // summary says it was checked.
    let portal = sspr_portal::Portal::build(&crate::support::config(&record("comment"))).await.unwrap();
    assert!(portal.summary().contains("rights checked as"), "{}", portal.summary());
}

#[tokio::test]
async fn the_portal_refuses_to_start_when_the_service_account_cannot_see_an_admin_groups_members() {
    // scripts/servers/ldap: an ACL hides cn=hidden-admins' members from the service account.
    // The engine would treat every user as privileged; the portal says why at start-up.
    let toml = format!(
        "admin_groups = [\"cn=hidden-admins,ou=groups,dc=example,dc=org\"]\n\
         [policy]\nmin_response_ms = 0\neligible_ous = [\"ou=people,dc=example,dc=org\"]\n\
         [store]\nkind = \"memory\"\n\
         [directory]\nkind = \"ldap\"\nurl = \"{}\"\nca_file = \"{}\"\nbase_dn = \"{}\"\nbind_dn = \"{}\"\nbind_password = \"{}\"\n",
        env("SSPR_TEST_LDAPS_URL"),
        env("SSPR_TEST_CA"),
        env("SSPR_TEST_LDAP_BASE"),
        env("SSPR_TEST_LDAP_BIND_DN"),
        env("SSPR_TEST_LDAP_BIND_PASSWORD"),
    );
    let error = match sspr_portal::Portal::build(&crate::support::config(&toml)).await {
        Ok(_) => panic!("the portal started"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("privileged groups") && error.contains("cn=hidden-admins,ou=groups"), "{error}");
    assert!(!error.contains(&env("SSPR_TEST_LDAP_BIND_PASSWORD")));
}
