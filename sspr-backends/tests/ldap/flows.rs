//! The whole reset flow through the engine against slapd and Samba AD.

use sspr_backends::ldap::{LdapContactStore, LdapDirectory};
use sspr_core::memory::{MemoryStateStore, Outbox};
use sspr_core::{
    Actor, Authentication, ContactChange, ContactStore, ContactUpdate, Directory, Error, NewPassword, NotAllowedReason,
    Password, Policy, RequestContext, SecretKey, Sspr, UserId,
};

use crate::common::*;
use crate::contacts::{ad_contacts_config, openldap_contacts_config};

const CHANGE_AFTER_RESET: [u8; 5] = [0x30, 0x03, 0x81, 0x01, 0x02];

pub(crate) fn engine(directory: &LdapDirectory, contacts: LdapContactStore, outbox: &Outbox, policy: &str) -> Sspr {
    Sspr::builder()
        .directory(directory.clone())
        .contacts(contacts)
        .notifier(outbox.clone())
        .store(MemoryStateStore::new())
        .secret_key(SecretKey::from_hex(&"5a".repeat(32)).unwrap())
        .policy(Policy::from_toml(policy).unwrap())
        .build()
        .unwrap()
}

const OPENLDAP_POLICY: &str = r#"
eligible_ous = ["ou=staff,ou=people,dc=example,dc=org"]
privileged_groups = ["cn=privileged,ou=groups,dc=example,dc=org"]
allow_chosen_password = true
"#;

const AD_POLICY: &str = r#"
eligible_ous = ["OU=Staff,DC=samdom,DC=example,DC=com"]
privileged_groups = ["CN=privileged,OU=Staff,DC=samdom,DC=example,DC=com", "Domain Admins"]
allow_chosen_password = true
"#;

/// Enable `login`, register `email`, and take a reset up to a verified PIN read from the mail.
async fn verified_flow(sspr: &Sspr, outbox: &Outbox, login: &str, email: &str) -> String {
    let ctx = RequestContext::default();
    let admin = Actor::Admin("helpdesk".into());
    sspr.set_enabled(&admin, login, true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set(email.into()), ..Default::default() };
    sspr.update_contacts(&admin, login, update, &ctx).await.unwrap();
    let challenge = sspr.begin_reset(login, &ctx).await.unwrap();
    assert_eq!(challenge.methods.len(), 1);
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    let pin = outbox.last_pin_to(email).expect("the PIN was delivered");
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
    challenge.flow_id
}

/// The whole flow against slapd, the PIN mailed through the SMTP notifier to the aiosmtpd sink
/// and read from its Maildir.
#[cfg(feature = "smtp")]
#[tokio::test]
async fn openldap_reset_end_to_end_pin_by_mail_temporary_password_must_change() {
    use sspr_backends::smtp::{SmtpConfig, SmtpNotifier, SmtpTls};
    let uid = unique("flow");
    let dn = add_openldap_user(&uid, "Flow Person", "Init-Passw0rd-1").await;
    let directory = openldap();
    let contacts = LdapContactStore::new(&directory, openldap_contacts_config()).unwrap();
    let smtp = SmtpConfig {
        port: Some(env("SSPR_TEST_SMTP_STARTTLS_PORT").parse().unwrap()),
        tls: SmtpTls::Starttls,
        username: Some(env("SSPR_TEST_SMTP_USER")),
        password: Some(env("SSPR_TEST_SMTP_PASSWORD")),
        ca_file: Some(env("SSPR_TEST_CA").into()),
        ..SmtpConfig::new(env("SSPR_TEST_SMTP_HOST"), "Password reset <no-reply@example.org>")
    };
    let sspr = Sspr::builder()
        .directory(directory.clone())
        .contacts(contacts.clone())
        .notifier(SmtpNotifier::from_config(&smtp).unwrap())
        .store(MemoryStateStore::new())
        .secret_key(SecretKey::from_hex(&"5a".repeat(32)).unwrap())
        .policy(Policy::from_toml(OPENLDAP_POLICY).unwrap())
        .build()
        .unwrap();
    let email = format!("{uid}@home.example");
    let ctx = RequestContext::default();
    let admin = Actor::Admin("helpdesk".into());
    sspr.set_enabled(&admin, &uid, true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set(email.clone()), ..Default::default() };
    sspr.update_contacts(&admin, &uid, update, &ctx).await.unwrap();
    let challenge = sspr.begin_reset(&uid, &ctx).await.unwrap();
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    let pin = crate::maildir::wait_for_pin(&email).await;
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();
    let flow = challenge.flow_id;
    // The enrollment was written to the entry itself.
    let stored = contacts.get(&UserId::new(dn.clone())).await.unwrap().unwrap();
    assert!(stored.enabled && stored.email.as_ref().is_some_and(|e| e.value.as_str() == email));

    let ctx = RequestContext::default();
    let outcome = sspr.complete_reset(&flow, NewPassword::Temporary, &ctx).await.unwrap();
    assert!(outcome.must_change);
    let temporary = outcome.temporary_password.unwrap();
    // The user's bind with it: accepted, and the ppolicy control says changeAfterReset.
    let raw = raw_bind(&env("SSPR_TEST_LDAP_URL"), &env("SSPR_TEST_CA"), &dn, temporary.expose_secret(), true).await;
    assert_eq!(raw.rc, 0, "{raw:?}");
    let control = raw.ctrls.iter().find(|c| c.1.ctype == "1.3.6.1.4.1.42.2.27.8.5.1").expect("ppolicy response");
    assert_eq!(control.1.val.as_deref(), Some(&CHANGE_AFTER_RESET[..]));
    let user = UserId::new(dn.clone());
    assert_eq!(directory.authenticate(&user, &temporary).await.unwrap(), Authentication::MustChange);
    assert_eq!(
        directory.authenticate(&user, &Password::new("Init-Passw0rd-1")).await.unwrap(),
        Authentication::Rejected
    );
    // The portal's sign-in says the same.
    let signed_in = sspr.sign_in(&uid, &temporary, &ctx).await.unwrap();
    assert!(signed_in.must_change);
    assert_eq!(signed_in.user_id, user);
    // The flow is used up; the reset was recorded in the enrollment.
    assert!(sspr.complete_reset(&flow, NewPassword::Temporary, &ctx).await.is_err());
    assert!(contacts.get(&user).await.unwrap().unwrap().last_reset_at.is_some());
}

/// An administrator disables a leaver with `pwdAccountLockedTime: 00000101000000Z` (slapd's
/// lock for good, spelt with seconds). The leaver, who still reads the registered mailbox, asks
/// for a reset: on main the account read as merely locked, the PIN went out, and the reset's
/// unlock deleted the disable: the leaver signed in again.
#[tokio::test]
async fn openldap_a_leaver_disabled_with_seconds_in_the_lock_cannot_reset_and_unlock() {
    use std::collections::HashSet;
    let uid = unique("leaver");
    let dn = add_openldap_user(&uid, "Leaver Person", "Init-Passw0rd-1").await;
    let directory = openldap();
    let outbox = Outbox::new();
    let sspr = engine(
        &directory,
        LdapContactStore::new(&directory, openldap_contacts_config()).unwrap(),
        &outbox,
        OPENLDAP_POLICY,
    );
    let (ctx, admin) = (RequestContext::default(), Actor::Admin("helpdesk".into()));
    let email = format!("{uid}@home.example");
    sspr.set_enabled(&admin, &uid, true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set(email.clone()), ..Default::default() };
    sspr.update_contacts(&admin, &uid, update, &ctx).await.unwrap();
    let mut ldap_admin = openldap_admin().await;
    let disable = vec![ldap3::Mod::Replace("pwdAccountLockedTime", HashSet::from(["00000101000000Z"]))];
    ldap_admin.modify(&dn, disable).await.unwrap().success().unwrap();

    let challenge = sspr.begin_reset(&uid, &ctx).await.unwrap();
    let _ = sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await;
    let pin = outbox.last_pin_to(&email);
    let mut signed_in_after = None;
    if let Some(pin) = &pin {
        sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(pin), &ctx).await.unwrap();
        let outcome = sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await.unwrap();
        let temporary = outcome.temporary_password.unwrap();
        let (url, ca) = (env("SSPR_TEST_LDAP_URL"), env("SSPR_TEST_CA"));
        signed_in_after = Some(raw_bind(&url, &ca, &dn, temporary.expose_secret(), false).await.rc == 0);
    }
    assert!(
        pin.is_none() && signed_in_after.is_none(),
        "a disabled account got a PIN: {}, and the leaver could bind after the reset: {signed_in_after:?}",
        pin.is_some()
    );
    let bind = raw_bind(&env("SSPR_TEST_LDAP_URL"), &env("SSPR_TEST_CA"), &dn, "Init-Passw0rd-1", false).await;
    assert_eq!(bind.rc, 49, "the disable is still in place");
}

#[tokio::test]
async fn openldap_nested_privileged_user_is_refused() {
    let uid = unique("priv");
    let dn = add_openldap_user(&uid, "Priv Person", "Init-Passw0rd-1").await;
    add_openldap_member("helpdesk", &dn).await; // helpdesk is a member of privileged
    let directory = openldap();
    let contacts = LdapContactStore::new(&directory, openldap_contacts_config()).unwrap();
    let outbox = Outbox::new();
    let sspr = engine(&directory, contacts.clone(), &outbox, OPENLDAP_POLICY);
    let ctx = RequestContext::default();
    let err = sspr.set_enabled(&Actor::Admin("helpdesk".into()), &uid, true, &ctx).await.unwrap_err();
    assert!(matches!(err, Error::NotAllowed { reason: NotAllowedReason::Privileged }), "{err:?}");
    assert!(sspr.status(&uid).await.unwrap().privileged);
}

#[tokio::test]
async fn samba_reset_weak_chosen_password_refused_then_temporary_must_change() {
    let name = unique("adf");
    let login = format!("{name}@samdom.example.com");
    let dn = add_ad_user(&name, "Flow Person", "Init-Passw0rd-1").await;
    let directory = ad();
    let contacts = LdapContactStore::new(&directory, ad_contacts_config()).unwrap();
    let outbox = Outbox::new();
    let sspr = engine(&directory, contacts, &outbox, AD_POLICY);
    let email = format!("{name}@home.example");
    let flow = verified_flow(&sspr, &outbox, &login, &email).await;
    let ctx = RequestContext::default();

    // sspr's own checks pass it (long, not common, no identity); AD's complexity rule does not.
    let weak = Password::new("correct horse battery staple");
    let err = sspr.complete_reset(&flow, NewPassword::Chosen(weak), &ctx).await.unwrap_err();
    match &err {
        Error::PasswordRejected { reason, .. } => assert!(reason.contains("0000052D"), "{reason}"),
        other => panic!("expected the directory's refusal, got {other:?}"),
    }
    // The flow stays verified: the user can try again.
    let outcome = sspr.complete_reset(&flow, NewPassword::Temporary, &ctx).await.unwrap();
    let temporary = outcome.temporary_password.unwrap();
    let raw = raw_bind(&env("SSPR_TEST_AD_URL"), &env("SSPR_TEST_AD_CA"), &dn, temporary.expose_secret(), false).await;
    assert_eq!(raw.rc, 49);
    assert!(raw.text.contains("data 773"), "{}", raw.text);
    let signed_in = sspr.sign_in(&login, &temporary, &ctx).await.unwrap();
    assert!(signed_in.must_change);
}

#[tokio::test]
async fn samba_nested_privileged_user_is_refused() {
    // carol is in helpdesk, which is in privileged (scripts/servers/samba/users.ldif).
    let directory = ad();
    let contacts = LdapContactStore::new(&directory, ad_contacts_config()).unwrap();
    let outbox = Outbox::new();
    let sspr = engine(&directory, contacts, &outbox, AD_POLICY);
    let ctx = RequestContext::default();
    let login = "carol@samdom.example.com";
    let err = sspr.set_enabled(&Actor::Admin("helpdesk".into()), login, true, &ctx).await.unwrap_err();
    assert!(matches!(err, Error::NotAllowed { reason: NotAllowedReason::Privileged }), "{err:?}");
    assert!(sspr.status(login).await.unwrap().privileged);
    // The anonymous flow gives the same shape as for anybody, and nothing is ever sent.
    let challenge = sspr.begin_reset(login, &ctx).await.unwrap();
    if let Some(method) = challenge.methods.first() {
        let _ = sspr.send_pin(&challenge.flow_id, &method.id, None, &ctx).await;
    }
    assert!(outbox.messages().is_empty());
    let carol = directory.find_user(&sspr_core::NormalizedLogin::parse(login).unwrap()).await.unwrap().unwrap();
    assert!(carol.groups.iter().any(|g| g.eq_ignore_ascii_case("CN=privileged,OU=Staff,DC=samdom,DC=example,DC=com")));
}
