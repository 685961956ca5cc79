//! Users may write some attributes of their own entry (AD: `mobile` and `info` through the
//! Personal-Information property set; the "plain" slapd is configured the same way). The
//! contact store must not let such a write make a contact usable at once, nor forge the
//! enrollment record (`enabled`, `usable_from`).

use std::collections::HashSet;

use sspr_backends::ldap::{LdapContactConfig, LdapContactStore, LdapDirectory, RecordKey};
use sspr_core::memory::Outbox;
use sspr_core::{Actor, ContactChange, ContactStore, ContactUpdate, RequestContext, UserId};

use crate::common::*;
use crate::flows::engine;
use crate::plain::{SERIAL, plain_config};

const ATTACKER_PHONE: &str = "+12065550009";
/// SMS on (decoy numbers in the test numbers' country, +1).
const POLICY: &str = "sms_enabled = true\ndecoy_country_codes = [\"1\"]\n";

pub(crate) fn test_record_key() -> RecordKey {
    RecordKey::new("test-only record key, 32 bytes or more, never in production")
}

fn ad_store_config() -> LdapContactConfig {
    LdapContactConfig {
        record_attribute: Some("info".into()),
        record_key: Some(test_record_key()),
        ..LdapContactConfig::default()
    }
}

fn openldap_store_config() -> LdapContactConfig {
    LdapContactConfig {
        email_attribute: "ssprAltMail".into(),
        phone_attribute: "mobile".into(),
        enabled_attribute: None,
        record_attribute: Some("ssprEnrollment".into()),
        record_key: Some(test_record_key()),
        ..LdapContactConfig::default()
    }
}

/// Bind as the user and replace `attr` of their own entry with `value`.
async fn write_own(url: &str, ca: &str, dn: &str, password: &str, attr: &str, value: &str) {
    let mut ldap = connect(url, ca).await;
    ldap.simple_bind(dn, password).await.unwrap().success().unwrap();
    let mods = vec![ldap3::Mod::Replace(attr, HashSet::from([value]))];
    ldap.modify(dn, mods).await.unwrap().success().unwrap();
    let _ = ldap.unbind().await;
}

/// Ask for a PIN on every method a reset of `login` offers, each in a flow of its own (a
/// flow sends one PIN).
async fn try_every_method(directory: &LdapDirectory, store: LdapContactStore, outbox: &Outbox, login: &str) {
    let sspr = engine(directory, store, outbox, POLICY);
    let ctx = RequestContext::default();
    let methods = sspr.begin_reset(login, &ctx).await.unwrap().methods;
    for method in &methods {
        let challenge = sspr.begin_reset(login, &ctx).await.unwrap();
        let _ = sspr.send_pin(&challenge.flow_id, &method.id, None, &ctx).await;
    }
}

/// The organisation enables `login` and registers an e-mail address; then the user sets their
/// own mobile to the attacker's number and a reset is attempted at once.
async fn own_mobile_attack(
    directory: LdapDirectory,
    config: LdapContactConfig,
    url: &str,
    ca: &str,
    dn: &str,
    login: &str,
) {
    let store = LdapContactStore::new(&directory, config.clone()).unwrap();
    let outbox = Outbox::new();
    let sspr = engine(&directory, store.clone(), &outbox, POLICY);
    let admin = Actor::Admin("helpdesk".into());
    let ctx = RequestContext::default();
    sspr.set_enabled(&admin, login, true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set("owner@example.net".into()), ..Default::default() };
    sspr.update_contacts(&admin, login, update, &ctx).await.unwrap();

    write_own(url, ca, dn, "Init-Passw0rd-1", "mobile", ATTACKER_PHONE).await;
    try_every_method(&directory, store.clone(), &outbox, login).await;
    assert_eq!(outbox.last_pin_to(ATTACKER_PHONE), None, "a PIN went to the number the user just set");
    let enrollment = store.get(&UserId::new(dn)).await.unwrap().unwrap();
    assert!(enrollment.enabled);
    let phone = enrollment.phone.unwrap();
    assert_eq!(phone.value.as_str(), ATTACKER_PHONE);
    assert!(phone.usable_from > sspr_core::Clock::now(&sspr_core::SystemClock), "{phone:?}");
    // The owner's e-mail still works, and is still usable at once.
    assert!(outbox.last_pin_to("owner@example.net").is_some());
}

/// The user (never enabled by anybody) writes a record of their own: enabled, their number,
/// usable since 2000; in the plain JSON of old and in the signed form with a made-up MAC.
async fn forged_record_attack(
    directory: LdapDirectory,
    config: LdapContactConfig,
    url: &str,
    ca: &str,
    dn: &str,
    login: &str,
) {
    let record_attr = config.record_attribute.clone().unwrap();
    let json = format!(
        r#"{{"enabled":true,"email":null,"phone":{{"value":"{ATTACKER_PHONE}","added_at":"2000-01-01T00:00:00Z","usable_from":"2000-01-01T00:00:00Z"}},"last_reset_at":null,"version":7}}"#
    );
    write_own(url, ca, dn, "Init-Passw0rd-1", &config.phone_attribute, ATTACKER_PHONE).await;
    for forged in [json.clone(), format!("sspr1.{}.{json}", "0".repeat(64))] {
        write_own(url, ca, dn, "Init-Passw0rd-1", &record_attr, &forged).await;
        let store = LdapContactStore::new(&directory, config.clone()).unwrap();
        let outbox = Outbox::new();
        try_every_method(&directory, store.clone(), &outbox, login).await;
        assert_eq!(outbox.last_pin_to(ATTACKER_PHONE), None, "a forged record was trusted");
        assert!(outbox.messages().is_empty(), "{:?}", outbox.messages());
        let enrollment = store.get(&UserId::new(dn)).await.unwrap().unwrap();
        assert!(!enrollment.enabled, "a forged record enabled the user");
        assert!(enrollment.phone.is_none_or(|p| p.usable_from > sspr_core::Clock::now(&sspr_core::SystemClock)));
    }
}

#[tokio::test]
async fn ad_a_user_who_sets_their_own_mobile_cannot_get_a_pin_there_at_once() {
    let name = unique("adm");
    let dn = add_ad_user(&name, "Mobile Person", "Init-Passw0rd-1").await;
    let (url, ca) = (env("SSPR_TEST_AD_URL"), env("SSPR_TEST_AD_CA"));
    own_mobile_attack(ad(), ad_store_config(), &url, &ca, &dn, &format!("{name}@samdom.example.com")).await;
}

#[tokio::test]
async fn ad_a_forged_record_written_by_the_user_is_not_trusted() {
    let name = unique("adf");
    let dn = add_ad_user(&name, "Forger Person", "Init-Passw0rd-1").await;
    let (url, ca) = (env("SSPR_TEST_AD_URL"), env("SSPR_TEST_AD_CA"));
    forged_record_attack(ad(), ad_store_config(), &url, &ca, &dn, &format!("{name}@samdom.example.com")).await;
}

#[tokio::test]
async fn openldap_a_user_who_sets_their_own_mobile_cannot_get_a_pin_there_at_once() {
    let _serial = SERIAL.lock().await;
    let (url, ca) = (env("SSPR_TEST_LDAP_PLAIN_URL"), env("SSPR_TEST_CA"));
    let uid = unique("olm");
    let dn = add_openldap_user_at(&url, &uid, "Mobile Person", "Init-Passw0rd-1").await;
    let directory = LdapDirectory::new(plain_config()).unwrap();
    own_mobile_attack(directory, openldap_store_config(), &url, &ca, &dn, &uid).await;
}

/// `mobile` is multi-valued and the store reads its first value. The user keeps the number the
/// helpdesk registered and puts their own in front of it (delete it, add theirs, add it back):
/// the first value is then theirs. (Red-team hypothesis: held. The first value differs from
/// the signed record's, so it cools off as any change outside sspr does.)
#[tokio::test]
async fn openldap_a_user_who_puts_their_own_mobile_before_the_registered_one_gets_no_pin_there() {
    let _serial = SERIAL.lock().await;
    let (url, ca) = (env("SSPR_TEST_LDAP_PLAIN_URL"), env("SSPR_TEST_CA"));
    let uid = unique("olmulti");
    let dn = add_openldap_user_at(&url, &uid, "Multi Person", "Init-Passw0rd-1").await;
    let directory = LdapDirectory::new(plain_config()).unwrap();
    let store = LdapContactStore::new(&directory, openldap_store_config()).unwrap();
    let outbox = Outbox::new();
    let sspr = engine(&directory, store.clone(), &outbox, POLICY);
    let (admin, ctx) = (Actor::Admin("helpdesk".into()), RequestContext::default());
    let owner = "+12065550123";
    sspr.set_enabled(&admin, &uid, true, &ctx).await.unwrap();
    let update = ContactUpdate { phone: ContactChange::Set(owner.into()), ..Default::default() };
    sspr.update_contacts(&admin, &uid, update, &ctx).await.unwrap();
    let mut ldap = connect(&url, &ca).await;
    ldap.simple_bind(&dn, "Init-Passw0rd-1").await.unwrap().success().unwrap();
    let mods = vec![
        ldap3::Mod::Delete("mobile", HashSet::from([owner])),
        ldap3::Mod::Add("mobile", HashSet::from([ATTACKER_PHONE])),
        ldap3::Mod::Add("mobile", HashSet::from([owner])),
    ];
    ldap.modify(&dn, mods).await.unwrap().success().unwrap();
    let _ = ldap.unbind().await;
    try_every_method(&directory, store.clone(), &outbox, &uid).await;
    assert_eq!(outbox.last_pin_to(ATTACKER_PHONE), None, "a PIN went to the number put in front");
}

/// An operator who trusts no contact a user sets themselves writes the largest cooling-off
/// (`u64::MAX`, "never"): the date it gave overflowed the calendar, a panic at every read of
/// such a user's contacts (the reset, the admin's view). Now it is a century.
#[tokio::test]
async fn openldap_a_cooling_off_meant_as_never_keeps_a_users_own_mobile_unusable_without_a_panic() {
    let _serial = SERIAL.lock().await;
    let (url, ca) = (env("SSPR_TEST_LDAP_PLAIN_URL"), env("SSPR_TEST_CA"));
    let uid = unique("olnever");
    let dn = add_openldap_user_at(&url, &uid, "Never Person", "Init-Passw0rd-1").await;
    let directory = LdapDirectory::new(plain_config()).unwrap();
    let config = LdapContactConfig { changed_contact_cooling_off_secs: u64::MAX, ..openldap_store_config() };
    own_mobile_attack(directory, config, &url, &ca, &dn, &uid).await;
}

#[tokio::test]
async fn openldap_a_forged_record_written_by_the_user_is_not_trusted() {
    let _serial = SERIAL.lock().await;
    let (url, ca) = (env("SSPR_TEST_LDAP_PLAIN_URL"), env("SSPR_TEST_CA"));
    let uid = unique("olf");
    let dn = add_openldap_user_at(&url, &uid, "Forger Person", "Init-Passw0rd-1").await;
    let directory = LdapDirectory::new(plain_config()).unwrap();
    forged_record_attack(directory, openldap_store_config(), &url, &ca, &dn, &uid).await;
}

#[tokio::test]
async fn the_start_up_check_finds_what_ad_users_may_write_of_their_own_entry() {
    let name = unique("adw");
    let dn = add_ad_user(&name, "Rights Person", "Init-Passw0rd-1").await;
    let password = sspr_backends::ldap::BindPassword::new("Init-Passw0rd-1");
    // Signed record in `comment` (users may not write it), contacts in otherMailbox/mobile:
    // safe; mobile is reported as self-writable (Samba's default rights, like AD's).
    let signed = LdapContactConfig { record_attribute: Some("comment".into()), ..ad_store_config() };
    let store = LdapContactStore::new(&ad(), signed).unwrap();
    let writable = store.check_self_writable(&dn, &password).await.unwrap();
    let writable: HashSet<String> = writable.iter().map(|a| a.to_ascii_lowercase()).collect();
    assert_eq!(writable, HashSet::from(["mobile".to_owned()]));
    // The signed record in `info`, which users may write: refused (passed on main; see
    // `a_user_who_may_write_the_record_puts_back_an_old_one_and_is_enabled_again`).
    let in_info = LdapContactStore::new(&ad(), ad_store_config()).unwrap();
    let err = in_info.check_self_writable(&dn, &password).await.unwrap_err();
    assert!(err.message().contains("info") && err.message().contains("older signed record"), "{}", err.message());
    // Read-only with a self-writable mobile: its value would be usable at once. Refused.
    let read_only = LdapContactStore::new(&ad(), LdapContactConfig::default()).unwrap();
    let err = read_only.check_self_writable(&dn, &password).await.unwrap_err();
    assert!(err.message().contains("mobile"), "{}", err.message());
    // A self-writable enabled flag: users could enable themselves. Refused.
    let flag =
        LdapContactStore::new(&ad(), LdapContactConfig { enabled_attribute: Some("info".into()), ..ad_store_config() })
            .unwrap();
    assert!(flag.check_self_writable(&dn, &password).await.unwrap_err().message().contains("enable themselves"));
    // OpenLDAP reports no effective rights: the check says so instead of passing.
    let openldap_store = LdapContactStore::new(&openldap(), openldap_store_config()).unwrap();
    let err = openldap_store.check_self_writable("uid=alice,ou=staff,ou=people,dc=example,dc=org", &password).await;
    assert!(err.unwrap_err().message().contains("cannot tell"));
}

#[tokio::test]
async fn a_user_who_may_write_the_record_puts_back_an_old_one_and_is_enabled_again() {
    // Why the start-up check refuses a self-writable record attribute: the signature stops a
    // forged record, not an old one. With the record in `info` (what the portal's example
    // configuration said), the user keeps the record read while enabled, an administrator
    // switches self-service off (an incident), the user writes the old record back: enabled
    // again, and a reset sends a PIN. The check names the attribute before any of this.
    let name = unique("rpl");
    let dn = add_ad_user(&name, "Replay Person", "Init-Passw0rd-1").await;
    let login = format!("{name}@samdom.example.com");
    let directory = ad();
    let store = LdapContactStore::new(&directory, ad_store_config()).unwrap();
    let password = sspr_backends::ldap::BindPassword::new("Init-Passw0rd-1");
    let refused = store.check_self_writable(&dn, &password).await.unwrap_err();
    assert!(refused.message().contains("info"), "{}", refused.message());

    let outbox = Outbox::new();
    let sspr = engine(&directory, store.clone(), &outbox, POLICY);
    let (admin, ctx) = (Actor::Admin("helpdesk".into()), RequestContext::default());
    sspr.set_enabled(&admin, &login, true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set("owner@example.net".into()), ..Default::default() };
    sspr.update_contacts(&admin, &login, update, &ctx).await.unwrap();
    let (url, ca) = (env("SSPR_TEST_AD_URL"), env("SSPR_TEST_AD_CA"));
    let mut user = connect(&url, &ca).await;
    user.simple_bind(&dn, "Init-Passw0rd-1").await.unwrap().success().unwrap();
    let (entries, _) =
        user.search(&dn, ldap3::Scope::Base, "(objectClass=*)", vec!["info"]).await.unwrap().success().unwrap();
    let kept = ldap3::SearchEntry::construct(entries.into_iter().next().unwrap()).attrs["info"][0].clone();
    let _ = user.unbind().await;

    sspr.set_enabled(&admin, &login, false, &ctx).await.unwrap();
    assert!(!sspr.status(&login).await.unwrap().enabled);
    write_own(&url, &ca, &dn, "Init-Passw0rd-1", "info", &kept).await;
    assert!(sspr.status(&login).await.unwrap().enabled, "the old signed record is trusted again");
}

#[test]
fn a_writable_record_needs_a_key_of_32_bytes_and_the_key_is_never_shown() {
    let directory = openldap();
    let no_key = LdapContactConfig { record_key: None, ..openldap_store_config() };
    assert!(LdapContactStore::new(&directory, no_key).unwrap_err().message().contains("record_key"));
    let short = LdapContactConfig { record_key: Some(RecordKey::new("too short")), ..openldap_store_config() };
    assert!(LdapContactStore::new(&directory, short).unwrap_err().message().contains("32 bytes"));
    let config = openldap_store_config();
    let shown = format!("{config:?} {:?}", LdapContactStore::new(&directory, config.clone()).unwrap());
    assert!(!shown.contains("never in production") && shown.contains("REDACTED"), "{shown}");
}
