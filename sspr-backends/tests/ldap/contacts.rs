//! LdapContactStore against slapd and Samba AD.

use std::time::Duration;

use async_trait::async_trait;
use sspr_backends::ldap::{LdapContactConfig, LdapContactStore};
use sspr_core::backend::{ContactStore, Enrollment};
use sspr_core::testing::contact_store_conformance;
use sspr_core::time::macros::datetime;
use sspr_core::{BackendError, BackendErrorKind, ManualClock, UserId};

use crate::common::*;

/// Held by the tests that enrol new entries under slapd's `ou=staff` and by the conformance
/// suite there: the suite compares one big listing page with a walk of small ones, and an
/// entry another test enrols between the two (the paging test's `paged-N`, run in parallel in
/// this binary) made the pages differ (CI, stop 26) although the store was right.
pub(crate) static OPENLDAP_LISTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The conformance suite names users `sspr-conformance/<name>-<time>`; the directory needs
/// entries. This adapter maps each such id to a fresh entry made for it.
/// It lists only the entries it was asked to save: other tests of this binary, run in
/// parallel, enrol users of their own in the same OU (the AD move test's `cpy…` entry made one
/// big listing page differ from the small ones, CI 2026-12-07), and the suite checks the
/// store's listing of its own records, not who else is enrolled.
#[derive(Debug)]
struct FreshEntries {
    store: LdapContactStore,
    dn_of: fn(&str) -> String,
    saved: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl FreshEntries {
    fn dn(&self, user: &UserId) -> UserId {
        let name = user.as_str().trim_start_matches("sspr-conformance/");
        UserId::new((self.dn_of)(name))
    }
}

#[async_trait]
impl ContactStore for FreshEntries {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        self.store.get(&self.dn(user)).await
    }
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected: u64) -> Result<bool, BackendError> {
        let dn = self.dn(user);
        self.saved.lock().unwrap().insert(dn.as_str().to_owned());
        self.store.save(&dn, enrollment, expected).await
    }
    /// The store's own listing of every enrolled entry, the suite's entries named back by
    /// their suite id (a DN's order is not the suite ids' order, so the page is cut here).
    async fn list(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<(UserId, Enrollment)>, BackendError> {
        let mut page: Vec<(UserId, Enrollment)> = Vec::new();
        for (dn, enrollment) in self.store.list(None, 100_000).await? {
            let Some(name) = dn.as_str().split(',').next().and_then(|rdn| rdn.split_once('=')).map(|(_, v)| v) else {
                continue;
            };
            let id = UserId::new(format!("sspr-conformance/{name}"));
            let ours = self.saved.lock().unwrap().contains(dn.as_str());
            if ours && self.dn(&id) == dn && after.is_none_or(|after| id.as_str() > after.as_str()) {
                page.push((id, enrollment));
            }
        }
        page.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        page.truncate(limit);
        Ok(page)
    }
}

/// A clock whose time is unique to this test process: the suite's user names come from it.
fn unique_clock() -> ManualClock {
    let offset = u64::from(std::process::id()) * 1000;
    ManualClock::new(datetime!(2026-01-01 0:00 UTC) + Duration::from_secs(offset))
}

pub(crate) fn openldap_contacts_config() -> LdapContactConfig {
    LdapContactConfig {
        email_attribute: "ssprAltMail".into(),
        phone_attribute: "mobile".into(),
        enabled_attribute: Some("ssprEnabled".into()),
        record_attribute: Some("ssprEnrollment".into()),
        record_key: Some(crate::self_service::test_record_key()),
        ..LdapContactConfig::default()
    }
}

pub(crate) fn ad_contacts_config() -> LdapContactConfig {
    LdapContactConfig {
        record_attribute: Some("info".into()),
        record_key: Some(crate::self_service::test_record_key()),
        ..LdapContactConfig::default()
    }
}

#[tokio::test]
async fn openldap_contact_store_passes_the_conformance_suite() {
    let _listing = OPENLDAP_LISTING.lock().await;
    let clock = unique_clock();
    let ts = sspr_core::Clock::now(&clock).unix_timestamp();
    for name in ["alice", "bob"] {
        add_openldap_user(&format!("{name}-{ts}"), "Contact Person", "Init-Passw0rd-1").await;
    }
    let store = LdapContactStore::new(&openldap(), openldap_contacts_config()).unwrap();
    let adapter = FreshEntries {
        store,
        dn_of: |name| format!("uid={name},ou=staff,ou=people,dc=example,dc=org"),
        saved: Default::default(),
    };
    contact_store_conformance(&adapter, &clock).await;
}

#[tokio::test]
async fn ad_contact_store_passes_the_conformance_suite() {
    let clock = unique_clock();
    let ts = sspr_core::Clock::now(&clock).unix_timestamp();
    for name in ["alice", "bob"] {
        add_ad_user(&format!("{name}-{ts}"), "Contact Person", "Init-Passw0rd-1").await;
    }
    let store = LdapContactStore::new(&ad(), ad_contacts_config()).unwrap();
    let adapter = FreshEntries {
        store,
        dn_of: |name| format!("CN={name},OU=Staff,DC=samdom,DC=example,DC=com"),
        saved: Default::default(),
    };
    contact_store_conformance(&adapter, &clock).await;
}

/// `list` against a real directory: every enrolled entry once, in DN order, as `get` reads it.
async fn lists_enrolled_entries_in_dn_order(store: LdapContactStore, alice: &str) {
    let all = store.list(None, 100_000).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].0.as_str() < w[1].0.as_str()), "DN order, none twice");
    let alice = UserId::new(alice);
    let (_, listed) = all.iter().find(|(dn, _)| dn.as_str().eq_ignore_ascii_case(alice.as_str())).unwrap().clone();
    assert_eq!(Some(listed), store.get(&alice).await.unwrap());
    let first = all.first().unwrap().0.clone();
    let rest = store.list(Some(&first), 100_000).await.unwrap();
    assert_eq!(rest.len(), all.len() - 1, "`after` and what sorts before it are left out");
    assert_eq!(store.list(None, 1).await.unwrap().len(), 1);
    assert!(store.list(None, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn openldap_contact_store_lists_enrolled_entries() {
    let store = LdapContactStore::new(&openldap(), openldap_contacts_config()).unwrap();
    lists_enrolled_entries_in_dn_order(store, "uid=alice,ou=staff,ou=people,dc=example,dc=org").await;
}

/// The test slapd caps the service account's answers at 6 entries (`slapd.conf.in`, as every
/// production directory caps them): a listing reads on past the cap page by page (RFC 2696)
/// instead of failing or stopping there.
#[tokio::test]
async fn openldap_listing_reads_past_the_directorys_size_limit() {
    let _listing = OPENLDAP_LISTING.lock().await;
    let ts = sspr_core::Clock::now(&unique_clock()).unix_timestamp();
    let mut admin = openldap_admin().await;
    let mut added = Vec::new();
    for i in 0..8 {
        let dn = add_openldap_user(&format!("paged-{i}-{ts}"), "Paged Person", "Init-Passw0rd-1").await;
        let mobile = format!("+1206555{:04}", 100 + i);
        let mods = vec![ldap3::Mod::Add("mobile".to_owned(), std::collections::HashSet::from([mobile]))];
        admin.modify(&dn, mods).await.unwrap().success().unwrap();
        added.push(dn);
    }
    let store = LdapContactStore::new(&openldap(), openldap_contacts_config()).unwrap();
    let all = store.list(None, 100_000).await.unwrap();
    assert!(all.len() > 6, "more entries than one answer may hold: {}", all.len());
    for dn in &added {
        let (_, listed) = all.iter().find(|(id, _)| id.as_str() == dn).unwrap_or_else(|| panic!("{dn} listed"));
        assert!(listed.phone.is_some());
    }
    // The directory's listing (what the enrollment report enumerates) reads on too; a lookup
    // for the admin page still asks for a few.
    let users = sspr_core::Directory::search(&openldap(), "", 100_000).await.unwrap();
    assert!(added.iter().all(|dn| users.iter().any(|u| u.id.as_str() == dn)), "{} users listed", users.len());
    assert_eq!(sspr_core::Directory::search(&openldap(), "paged-", 3).await.unwrap().len(), 3);
}

#[tokio::test]
async fn ad_contact_store_lists_enrolled_entries() {
    let store = LdapContactStore::new(&ad(), ad_contacts_config()).unwrap();
    lists_enrolled_entries_in_dn_order(store, "CN=Alice Liddell,OU=Staff,DC=samdom,DC=example,DC=com").await;
}

#[tokio::test]
async fn contacts_kept_by_the_organisation_are_read_and_usable_at_once() {
    // Read-only: no record attribute. alice has `mobile` and ssprEnabled TRUE in the directory.
    let config = LdapContactConfig { record_attribute: None, record_key: None, ..openldap_contacts_config() };
    let store = LdapContactStore::new(&openldap(), config).unwrap();
    let alice = UserId::new("uid=alice,ou=staff,ou=people,dc=example,dc=org");
    let enrollment = store.get(&alice).await.unwrap().unwrap();
    assert!(enrollment.enabled);
    assert_eq!((enrollment.version, enrollment.email.is_none()), (0, true));
    let phone = enrollment.phone.clone().unwrap();
    assert_eq!(phone.value.as_str(), "+12065550006");
    assert_eq!(phone.usable_from, sspr_core::time::OffsetDateTime::UNIX_EPOCH);
    let err = store.save(&alice, &enrollment, 0).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
    assert!(err.message().contains("read-only"));
    // AD: otherMailbox / mobile; alice has a mobile there too.
    let store =
        LdapContactStore::new(&ad(), LdapContactConfig { enabled_by_default: true, ..Default::default() }).unwrap();
    let alice = UserId::new("CN=Alice Liddell,OU=Staff,DC=samdom,DC=example,DC=com");
    let enrollment = store.get(&alice).await.unwrap().unwrap();
    assert_eq!(enrollment.phone.unwrap().value.as_str(), "+12065550006");
    assert!(enrollment.enabled);
    // An entry that does not exist has no enrollment.
    let nobody = UserId::new("uid=nobody,ou=staff,ou=people,dc=example,dc=org");
    assert_eq!(
        LdapContactStore::new(&openldap(), openldap_contacts_config()).unwrap().get(&nobody).await.unwrap(),
        None
    );
}

#[test]
fn attribute_names_are_checked() {
    let config = LdapContactConfig { email_attribute: "mail)(x=*".into(), ..Default::default() };
    let dir = sspr_backends::ldap::LdapConfig::new(
        sspr_backends::ldap::Flavor::OpenLdap,
        "ldaps://127.0.0.1:1",
        "dc=example,dc=org",
        "cn=svc,dc=example,dc=org",
        sspr_backends::ldap::BindPassword::new("x"),
    );
    let directory = sspr_backends::ldap::LdapDirectory::new(dir).unwrap();
    assert!(LdapContactStore::new(&directory, config).is_err());
}

/// Enrol `before`, move the entry to `after` (admin connection `admin`), read it again there;
/// then copy the record onto `other`, whose entry it is not.
async fn moved_entry_keeps_its_record(
    store: &LdapContactStore,
    mut admin: ldap3::Ldap,
    (before, new_rdn, new_parent): (&str, &str, &str),
    other: &str,
    record_attr: &str,
) {
    let enrollment = Enrollment {
        enabled: true,
        email: Some(sspr_core::backend::StoredContact {
            value: sspr_core::EmailAddress::parse("owner@example.net").unwrap(),
            added_at: datetime!(2026-01-01 0:00 UTC),
            usable_from: datetime!(2026-01-01 0:00 UTC),
        }),
        ..Enrollment::default()
    };
    assert!(store.save(&UserId::new(before), &enrollment, 0).await.unwrap());
    admin.modifydn(before, new_rdn, true, Some(new_parent)).await.unwrap().success().unwrap();
    let after = UserId::new(format!("{new_rdn},{new_parent}"));
    let read = store.get(&after).await.unwrap().unwrap();
    assert!(read.enabled, "the moved user's record no longer verified: {read:?}");
    assert_eq!(read.email.map(|e| e.value.as_str().to_owned()).as_deref(), Some("owner@example.net"));
    assert!(read.history.removed.is_empty(), "{:?}", read.history.removed);
    // Still bound to its entry: the same record copied onto another user is not trusted.
    let (entries, _) = admin
        .search(after.as_str(), ldap3::Scope::Base, "(objectClass=*)", vec![record_attr])
        .await
        .unwrap()
        .success()
        .unwrap();
    let record = ldap3::SearchEntry::construct(entries.into_iter().next().unwrap()).attrs[record_attr][0].clone();
    let copy = vec![ldap3::Mod::Replace(record_attr, std::collections::HashSet::from([record.as_str()]))];
    admin.modify(other, copy).await.unwrap().success().unwrap();
    assert!(!store.get(&UserId::new(other)).await.unwrap().is_some_and(|e| e.enabled), "a copied record was trusted");
}

#[tokio::test]
async fn an_openldap_user_moved_to_another_ou_keeps_their_enrollment() {
    // The record was signed over the DN: a user moved to another OU (a new department) read
    // as "forged", not enabled, their contact as changed outside sspr (watched on main).
    let _listing = OPENLDAP_LISTING.lock().await;
    let uid = unique("mov");
    let before = add_openldap_user(&uid, "Moved Person", "Init-Passw0rd-1").await;
    let other = add_openldap_user(&unique("cpy"), "Copy Person", "Init-Passw0rd-1").await;
    let store = LdapContactStore::new(&openldap(), openldap_contacts_config()).unwrap();
    let target = (before.as_str(), format!("uid={uid}"), "ou=service,ou=people,dc=example,dc=org");
    moved_entry_keeps_its_record(
        &store,
        openldap_admin().await,
        (target.0, &target.1, target.2),
        &other,
        "ssprEnrollment",
    )
    .await;
}

#[tokio::test]
async fn an_ad_user_renamed_and_moved_keeps_their_enrollment() {
    // AD names users by their full name (CN=Jane Doe): a rename on marriage, or a move to
    // another OU, changed the DN the record was signed over (watched on main).
    let name = unique("ren");
    let before = add_ad_user(&name, "Renamed Person", "Init-Passw0rd-1").await;
    let other = add_ad_user(&unique("cpy"), "Copy Person", "Init-Passw0rd-1").await;
    let store = LdapContactStore::new(&ad(), ad_contacts_config()).unwrap();
    let parent = format!("OU=Service,{}", env("SSPR_TEST_AD_BASE"));
    let rdn = format!("CN={name} Married");
    moved_entry_keeps_its_record(&store, ad_admin().await, (&before, &rdn, &parent), &other, "info").await;
}

/// Log lines written while the test runs on this thread.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An organisation keeps mobiles in the national format (`07400 900123`): sspr cannot send to
/// them (no country) and left them out without a word, so the user got no SMS option and the
/// operator no clue. The number is still left out, and the log names the entry and the
/// attribute (not the number). Failed before: nothing was logged.
#[test]
fn a_contact_sspr_cannot_use_is_left_out_and_the_log_says_where() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    let dn = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let uid = unique("natmob");
            let dn = add_openldap_user_at(&env("SSPR_TEST_LDAP_URL"), &uid, "National Mobile", "Init-Passw0rd-1").await;
            let mut admin = openldap_admin().await;
            let mods = vec![
                ldap3::Mod::Replace("mobile", std::collections::HashSet::from(["07400 900123"])),
                ldap3::Mod::Replace("ssprAltMail", std::collections::HashSet::from(["nat@example.net"])),
            ];
            admin.modify(&dn, mods).await.unwrap().success().unwrap();
            let config = LdapContactConfig { record_attribute: None, record_key: None, ..openldap_contacts_config() };
            let store = LdapContactStore::new(&openldap(), config).unwrap();
            let enrollment = store.get(&UserId::new(dn.clone())).await.unwrap().unwrap();
            assert!(enrollment.phone.is_none(), "{:?}", enrollment.phone);
            assert_eq!(enrollment.email.unwrap().value.as_str(), "nat@example.net");
            dn
        })
    });
    let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("no usable address") && logged.contains("mobile") && logged.contains(&dn), "{logged}");
    assert!(!logged.contains("900123"), "the number reached the log: {logged}");
}
