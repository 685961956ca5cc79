//! Privileged users must be recognised wherever their admin membership comes from: the AD
//! primary group, groups outside `base_dn`, posixGroup `memberUid`; and when the groups cannot
//! all be resolved the answer is "refuse", never "not privileged".

use std::collections::HashSet;

use sspr_backends::ldap::{LdapContactConfig, LdapContactStore, LdapDirectory};
use sspr_core::backend::GROUPS_UNRESOLVED;
use sspr_core::memory::Outbox;
use sspr_core::{Actor, Directory, Error, NormalizedLogin, NotAllowedReason, RequestContext};

use crate::common::*;
use crate::flows::engine;

/// The AD directory with `base_dn` an OU (users live there; every default admin group lives
/// in CN=Users or CN=Builtin, outside it).
fn ad_in_an_ou() -> LdapDirectory {
    let mut config = ad_config();
    config.base_dn = format!("OU=Staff,{}", env("SSPR_TEST_AD_BASE"));
    LdapDirectory::new(config).unwrap()
}

const AD_DEFAULT_ADMINS: &str = r#"
eligible_ous = ["OU=Staff,DC=samdom,DC=example,DC=com"]
"#; // privileged_groups: the default list (Domain Admins, Administrators, ...)

async fn assert_refused_as_privileged(directory: &LdapDirectory, policy: &str, login: &str) {
    let contacts = LdapContactStore::new(directory, LdapContactConfig::default()).unwrap();
    let outbox = Outbox::new();
    let sspr = engine(directory, contacts, &outbox, policy);
    let err = sspr.set_enabled(&Actor::Admin("helpdesk".into()), login, true, &RequestContext::default()).await;
    assert!(
        matches!(err, Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })),
        "{login} was not refused as privileged: {err:?}"
    );
    assert!(sspr.status(login).await.unwrap().privileged);
}

#[tokio::test]
async fn a_user_whose_primary_group_is_domain_admins_is_refused_with_base_dn_an_ou() {
    // dora: primaryGroupID 512, so she is in no group's `member` (scripts/servers/samba/users.ldif).
    assert_refused_as_privileged(&ad_in_an_ou(), AD_DEFAULT_ADMINS, "dora@samdom.example.com").await;
}

#[tokio::test]
async fn a_user_nested_two_levels_into_domain_admins_is_refused_with_base_dn_an_ou() {
    // eve -> tier1-ops (OU=Staff) -> tier0-ops (CN=Users) -> Domain Admins (CN=Users).
    assert_refused_as_privileged(&ad_in_an_ou(), AD_DEFAULT_ADMINS, "eve@samdom.example.com").await;
    let eve =
        ad_in_an_ou().find_user(&NormalizedLogin::parse("eve@samdom.example.com").unwrap()).await.unwrap().unwrap();
    let groups: HashSet<String> = eve.groups.iter().map(|g| g.to_ascii_lowercase()).collect();
    for group in [
        "cn=tier1-ops,ou=staff,dc=samdom,dc=example,dc=com",
        "cn=tier0-ops,cn=users,dc=samdom,dc=example,dc=com",
        "cn=domain admins,cn=users,dc=samdom,dc=example,dc=com",
    ] {
        assert!(groups.contains(group), "{group} missing from {groups:?}");
    }
}

/// A policy naming the admin groups as a German Windows DC calls them: what the default
/// (English) names meet on a localized or renamed directory, seen from the other side.
const AD_LOCALIZED_ADMINS: &str = r#"
eligible_ous = ["OU=Staff,DC=samdom,DC=example,DC=com"]
privileged_groups = ["Domänen-Admins", "Administratoren", "Organisations-Admins", "Schema-Admins"]
"#;

#[tokio::test]
async fn a_domain_admin_is_refused_when_the_policys_group_names_do_not_match_the_directorys() {
    // Attack: on a German AD the default list ("Domain Admins", ...) names no group the
    // directory has ("Domänen-Admins", ...), so a domain admin reset their password by an
    // e-mail PIN. The well-known SID (RID 512) makes dora privileged whatever the names.
    assert_refused_as_privileged(&ad_in_an_ou(), AD_LOCALIZED_ADMINS, "dora@samdom.example.com").await;
    assert_refused_as_privileged(&ad_in_an_ou(), AD_LOCALIZED_ADMINS, "eve@samdom.example.com").await;
}

#[tokio::test]
async fn a_member_of_a_protected_group_the_default_list_omits_is_refused() {
    // Replicator (S-1-5-32-552) is one of AD's protected groups (AdminSDHolder) but not in
    // the default `privileged_groups`.
    let name = unique("repl");
    let dn = add_ad_user(&name, "Replicator Member", "Init-Passw0rd-1!").await;
    let mut admin = ad_admin().await;
    let group = format!("CN=Replicator,CN=Builtin,{}", env("SSPR_TEST_AD_BASE"));
    admin
        .modify(&group, vec![ldap3::Mod::Add("member", HashSet::from([dn.as_str()]))])
        .await
        .unwrap()
        .success()
        .unwrap();
    assert_refused_as_privileged(&ad_in_an_ou(), AD_DEFAULT_ADMINS, &format!("{name}@samdom.example.com")).await;
}

#[tokio::test]
async fn an_account_ad_marks_as_protected_with_admin_count_is_refused() {
    // AD's SDProp sets adminCount=1 on every member of a protected group, under whatever
    // name the group has; such an account is privileged even where no group name matches.
    let name = unique("adminc");
    let dn = add_ad_user(&name, "Protected Account", "Init-Passw0rd-1!").await;
    let mut admin = ad_admin().await;
    admin.modify(&dn, vec![ldap3::Mod::Replace("adminCount", HashSet::from(["1"]))]).await.unwrap().success().unwrap();
    assert_refused_as_privileged(&ad_in_an_ou(), AD_DEFAULT_ADMINS, &format!("{name}@samdom.example.com")).await;
}

#[tokio::test]
async fn an_ordinary_ad_user_is_not_privileged_and_keeps_distribution_groups() {
    // The other side: alice is only in sspr-users (and Domain Users): not privileged.
    let alice =
        ad_in_an_ou().find_user(&NormalizedLogin::parse("alice@samdom.example.com").unwrap()).await.unwrap().unwrap();
    let groups: HashSet<String> = alice.groups.iter().map(|g| g.to_ascii_lowercase()).collect();
    assert!(groups.contains("cn=sspr-users,ou=staff,dc=samdom,dc=example,dc=com"), "{groups:?}");
    assert!(groups.contains("cn=domain users,cn=users,dc=samdom,dc=example,dc=com"), "{groups:?}");
    assert!(!sspr_core::GroupList::new(sspr_core::Policy::default().privileged_groups).matches_any(&alice.groups));
}

#[tokio::test]
async fn a_posix_group_member_uid_admin_is_refused() {
    // posixGroup names its members by uid (memberUid), not by DN.
    let uid = unique("posix");
    add_openldap_user(&uid, "Posix Admin", "Init-Passw0rd-1").await;
    let group = format!("cn={uid}-wheel,ou=groups,dc=example,dc=org");
    let mut admin = openldap_admin().await;
    let cn = format!("{uid}-wheel");
    let attrs = vec![
        ("objectClass", HashSet::from(["posixGroup"])),
        ("cn", HashSet::from([cn.as_str()])),
        ("gidNumber", HashSet::from(["10"])),
        ("memberUid", HashSet::from([uid.as_str()])),
    ];
    admin.add(&group, attrs).await.unwrap().success().unwrap();
    let policy =
        format!("eligible_ous = [\"ou=staff,ou=people,dc=example,dc=org\"]\nprivileged_groups = [\"{group}\"]\n");
    assert_refused_as_privileged(&openldap(), &policy, &uid).await;
}

#[tokio::test]
async fn a_posix_group_naming_the_users_second_uid_is_refused() {
    // uid is multi-valued: an account known to the hosts as `<uid>adm` too is in the admins'
    // posixGroup by that name. Only the first uid value was looked for in memberUid, so the
    // account read as in no group and could reset by self-service (watched on main).
    let uid = unique("pux");
    let dn = add_openldap_user(&uid, "Posix Second", "Init-Passw0rd-1").await;
    let second = format!("{uid}adm");
    let mut admin = openldap_admin().await;
    let add_uid = vec![ldap3::Mod::Add("uid", HashSet::from([second.as_str()]))];
    admin.modify(&dn, add_uid).await.unwrap().success().unwrap();
    let group = format!("cn={uid}-wheel,ou=groups,dc=example,dc=org");
    let cn = format!("{uid}-wheel");
    let attrs = vec![
        ("objectClass", HashSet::from(["posixGroup"])),
        ("cn", HashSet::from([cn.as_str()])),
        ("gidNumber", HashSet::from(["10"])),
        ("memberUid", HashSet::from([second.as_str()])),
    ];
    admin.add(&group, attrs).await.unwrap().success().unwrap();
    let policy =
        format!("eligible_ous = [\"ou=staff,ou=people,dc=example,dc=org\"]\nprivileged_groups = [\"{group}\"]\n");
    assert_refused_as_privileged(&openldap(), &policy, &uid).await;
}

#[tokio::test]
async fn more_groups_than_the_walk_limit_fail_closed_and_answer_as_an_unknown_login() {
    // 513 groups: more than the 512 the OpenLDAP walk follows. The one that makes the user
    // privileged may be among those not followed, so the user cannot be judged: refused.
    let uid = unique("many");
    let dn = add_openldap_user(&uid, "Many Groups", "Init-Passw0rd-1").await;
    let mut admin = openldap_admin().await;
    for i in 0..513 {
        let cn = format!("{uid}-g{i}");
        let attrs = vec![
            ("objectClass", HashSet::from(["groupOfNames"])),
            ("cn", HashSet::from([cn.as_str()])),
            ("member", HashSet::from([dn.as_str()])),
        ];
        admin.add(&format!("cn={cn},ou=groups,dc=example,dc=org"), attrs).await.unwrap().success().unwrap();
    }
    let found = openldap().find_user(&NormalizedLogin::parse(&uid).unwrap()).await.unwrap().unwrap();
    assert_eq!(found.groups, vec![GROUPS_UNRESOLVED.to_owned()], "never judged on a partial list");
    // So the engine refuses to enable them, as it would an administrator ...
    let policy = "privileged_groups = [\"cn=privileged,ou=groups,dc=example,dc=org\"]";
    assert_refused_as_privileged(&openldap(), policy, &uid).await;
    // ... and an anonymous caller gets a decoy for them, as for a login nobody has. Before,
    // the lookup failed for this account only: "backend failure" told that it exists.
    let contacts = LdapContactStore::new(&openldap(), LdapContactConfig::default()).unwrap();
    let outbox = Outbox::new();
    let sspr = engine(&openldap(), contacts, &outbox, policy);
    let ctx = RequestContext::from_ip("198.51.100.4".parse().unwrap());
    let many = sspr.begin_reset(&uid, &ctx).await.expect("the same answer as an unknown login");
    let nobody = sspr.begin_reset(&unique("nobody"), &ctx).await.expect("an unknown login gets a decoy");
    assert_eq!(many.methods.len(), nobody.methods.len());
    assert_eq!(many.flow_id.len(), nobody.flow_id.len());
}

#[tokio::test]
async fn a_group_policy_creator_owner_is_refused_by_the_groups_well_known_rid() {
    // Attack: Group Policy Creator Owners (S-1-5-21-<domain>-520) may create the GPOs that
    // run code as SYSTEM on every machine they are linked to: Tier 0 in Microsoft's own
    // list, but not an AdminSDHolder group and not in the default `privileged_groups`. Its
    // members read as ordinary users (on main: enabled for self-service without a word),
    // under any name the group has (here the policy lists localized names, as on a German DC).
    let name = unique("gpco");
    let dn = add_ad_user(&name, "Policy Author", "Init-Passw0rd-1!").await;
    let mut admin = ad_admin().await;
    let group = format!("CN=Group Policy Creator Owners,CN=Users,{}", env("SSPR_TEST_AD_BASE"));
    admin
        .modify(&group, vec![ldap3::Mod::Add("member", HashSet::from([dn.as_str()]))])
        .await
        .unwrap()
        .success()
        .unwrap();
    let login = format!("{name}@samdom.example.com");
    assert_refused_as_privileged(&ad_in_an_ou(), AD_DEFAULT_ADMINS, &login).await;
    assert_refused_as_privileged(&ad_in_an_ou(), AD_LOCALIZED_ADMINS, &login).await;
}

#[tokio::test]
async fn a_dns_admin_is_refused_under_the_default_policy() {
    // Attack: DnsAdmins may make the DNS service on a domain controller load a DLL of their
    // choosing (`ServerLevelPluginDll`), which runs as SYSTEM there: domain takeover. The
    // group has no well-known SID (AD creates it with the DNS role, an ordinary RID), so only
    // its name can find it; the default `privileged_groups` did not name it, and a DNS admin
    // was enabled for self-service (watched on main). The test Samba has no DNS role: the
    // group is made here as AD makes it, in CN=Users.
    let base = env("SSPR_TEST_AD_BASE");
    let group = format!("CN=DnsAdmins,CN=Users,{base}");
    let mut admin = ad_admin().await;
    let attrs = vec![
        ("objectClass", HashSet::from(["group"])),
        ("sAMAccountName", HashSet::from(["DnsAdmins"])),
        // A domain-local security group, as AD's own.
        ("groupType", HashSet::from(["-2147483644"])),
    ];
    let added = admin.add(&group, attrs).await.unwrap();
    assert!(matches!(added.rc, 0 | 68), "{added:?}"); // 68: made by an earlier run on this server
    let name = unique("dnsadm");
    let dn = add_ad_user(&name, "DNS Admin", "Init-Passw0rd-1!").await;
    admin
        .modify(&group, vec![ldap3::Mod::Add("member", HashSet::from([dn.as_str()]))])
        .await
        .unwrap()
        .success()
        .unwrap();
    assert_refused_as_privileged(&ad_in_an_ou(), AD_DEFAULT_ADMINS, &format!("{name}@samdom.example.com")).await;
}

fn openldap_admins(group: &str) -> String {
    format!("eligible_ous = [\"ou=staff,ou=people,dc=example,dc=org\"]\nprivileged_groups = [\"{group}\"]\n")
}

#[tokio::test]
async fn a_unique_member_written_with_its_optional_uid_is_refused() {
    // Attack: groupOfUniqueNames may name a member with RFC 4517's optional UID,
    // `uniqueMember: uid=x,...#'0101'B`. slapd's uniqueMemberMatch is exact about the UID: the
    // walk's `(uniqueMember=<dn>)` did not match it, so the admin read as in no group and was
    // enabled for self-service (watched on main).
    let uid = unique("uuid");
    add_openldap_user(&uid, "Unique Admin", "Init-Passw0rd-1").await;
    // The DN spelled as a person would type it (case, spaces), with a UID.
    let spelled = format!("UID={uid}, OU=Staff,ou=people,dc=example,dc=org#'0101'B");
    let group = add_openldap_group(&format!("{uid}-admins"), "groupOfUniqueNames", "uniqueMember", &[&spelled]).await;
    assert_refused_as_privileged(&openldap(), &openldap_admins(&group), &uid).await;
    let found = openldap().find_user(&NormalizedLogin::parse(&uid).unwrap()).await.unwrap().unwrap();
    assert!(found.groups.iter().any(|g| g.eq_ignore_ascii_case(&group)), "{:?}", found.groups);
}

#[tokio::test]
async fn unique_members_with_uids_are_followed_through_nesting_and_a_loop() {
    // user#UID in inner (groupOfUniqueNames), inner#UID in outer (groupOfUniqueNames),
    // outer in the admins' groupOfNames, and the admins back in inner: every level is
    // followed, the loop ends, and the user is an admin.
    let uid = unique("unest");
    let dn = add_openldap_user(&uid, "Nested Unique", "Init-Passw0rd-1").await;
    let inner_dn = format!("cn={uid}-inner,ou=groups,dc=example,dc=org");
    let admins_dn = format!("cn={uid}-admins,ou=groups,dc=example,dc=org");
    let with_uid = |dn: &str| format!("{dn}#'1'B");
    let inner = add_openldap_group(
        &format!("{uid}-inner"),
        "groupOfUniqueNames",
        "uniqueMember",
        &[&with_uid(&dn), &with_uid(&admins_dn)],
    )
    .await;
    assert_eq!(inner, inner_dn);
    let outer =
        add_openldap_group(&format!("{uid}-outer"), "groupOfUniqueNames", "uniqueMember", &[&with_uid(&inner)]).await;
    let admins = add_openldap_group(&format!("{uid}-admins"), "groupOfNames", "member", &[&outer]).await;
    assert_refused_as_privileged(&openldap(), &openldap_admins(&admins), &uid).await;
    let found = openldap().find_user(&NormalizedLogin::parse(&uid).unwrap()).await.unwrap().unwrap();
    let groups: HashSet<String> = found.groups.iter().map(|g| g.to_ascii_lowercase()).collect();
    for group in [&inner, &outer, &admins] {
        assert!(groups.contains(&group.to_ascii_lowercase()), "{group} missing from {groups:?}");
    }
    assert_eq!(found.groups.len(), 3, "each group once, the loop followed once: {:?}", found.groups);
}

#[tokio::test]
async fn a_posix_admin_by_primary_gid_number_is_refused() {
    // Attack: a posixAccount is in its primary group by `gidNumber`, which no memberUid
    // lists (hosts grant it the group's rights: sudo's `%wheel`, file modes). An admin whose
    // primary group is the admins' posixGroup read as in no group (watched on main).
    let uid = unique("pgid");
    let dn = add_openldap_user(&uid, "Primary Gid", "Init-Passw0rd-1").await;
    let posix = vec![
        ldap3::Mod::Add("objectClass", HashSet::from(["posixAccount"])),
        ldap3::Mod::Add("uidNumber", HashSet::from(["7001"])),
        ldap3::Mod::Add("gidNumber", HashSet::from(["7010"])),
        ldap3::Mod::Add("homeDirectory", HashSet::from(["/home/admin"])),
    ];
    let mut admin = openldap_admin().await;
    admin.modify(&dn, posix).await.unwrap().success().unwrap();
    let cn = format!("{uid}-wheel");
    let group = format!("cn={cn},ou=groups,dc=example,dc=org");
    let attrs = vec![
        ("objectClass", HashSet::from(["posixGroup"])),
        ("cn", HashSet::from([cn.as_str()])),
        ("gidNumber", HashSet::from(["7010"])),
    ];
    admin.add(&group, attrs).await.unwrap().success().unwrap();
    assert_refused_as_privileged(&openldap(), &openldap_admins(&group), &uid).await;
    // By the group's name in the policy, too.
    assert_refused_as_privileged(&openldap(), &openldap_admins(&cn), &uid).await;
}

/// The admins' group whose `member` the service account can neither read nor search
/// (scripts/servers/ldap: slapd.conf.in's ACL, users.ldif's group and member).
const HIDDEN_ADMINS: &str = "cn=hidden-admins,ou=groups,dc=example,dc=org";
const HIDDEN_ADMIN: &str = "hidden-admin";

#[tokio::test]
async fn openldap_an_admin_in_a_group_whose_members_the_service_account_cannot_see_is_refused() {
    // Attack: a common hardening ACL lets only admins see who the admins are. slapd then
    // evaluates the walk's `(member=<dn>)` as Undefined for that group, leaves it out of the
    // answer, and the admin reads as an ordinary user: enabled for self-service and reset by
    // whoever gets at their contacts. By the group's DN and by its common name.
    // (The contact store can write, so that nothing but the privilege check stops the admin.)
    let _listing = crate::contacts::OPENLDAP_LISTING.lock().await;
    let directory = openldap();
    for group in [HIDDEN_ADMINS, "hidden-admins"] {
        let contacts = LdapContactStore::new(&directory, crate::contacts::openldap_contacts_config()).unwrap();
        let outbox = Outbox::new();
        let sspr = engine(&directory, contacts, &outbox, &openldap_admins(group));
        let admin = Actor::Admin("helpdesk".into());
        let enabled = sspr.set_enabled(&admin, HIDDEN_ADMIN, true, &RequestContext::default()).await;
        let privileged = sspr.status(HIDDEN_ADMIN).await.map(|s| s.privileged);
        assert!(
            matches!(enabled, Err(Error::NotAllowed { reason: NotAllowedReason::Privileged })),
            "{group}: the hidden admin was not refused as privileged: set_enabled {enabled:?}, privileged {privileged:?}"
        );
        assert!(matches!(privileged, Ok(true)), "{group}: privileged {privileged:?}");
    }
}

#[tokio::test]
async fn openldap_a_group_search_referred_to_another_server_fails_closed() {
    // Attack: a group search answered in part by a search result reference (a `referral`
    // entry among the groups: those groups are held by another server) was taken as the
    // whole answer, so an admin whose group lives there read as an ordinary user. The
    // second naming context of scripts/servers/ldap (elsewhere.ldif) holds one.
    let mut config = openldap_config();
    config.base_dn = "dc=elsewhere,dc=org".into();
    let directory = LdapDirectory::new(config).unwrap();
    let found = directory.find_user(&NormalizedLogin::parse("referred").unwrap()).await.unwrap().unwrap();
    assert_eq!(found.groups, vec![GROUPS_UNRESOLVED.to_owned()], "never judged on a partial list");
}

/// A group nested in admins' groups whose `member` the service account can neither read nor
/// search (scripts/servers/ldap, as `cn=hidden-admins`); the tests add their own users to it.
const HIDDEN_TIER0: &str = "cn=hidden-tier0,ou=groups,dc=example,dc=org";

/// Adds the user `dn` to `group` as the directory's administrator (slapd's rootdn, whom the
/// ACLs do not restrict).
async fn add_member(group: &str, dn: &str) {
    let add = vec![ldap3::Mod::Add("member", HashSet::from([dn]))];
    openldap_admin().await.modify(group, add).await.unwrap().success().unwrap();
}

#[tokio::test]
async fn openldap_an_admin_in_a_hidden_group_nested_in_a_visible_admins_group_is_refused() {
    // Attack: the admins' group itself shows its members, so the start-up check passed, but
    // one of those members is a group whose own membership the service account may not see
    // (the "tier 0" admins). The walk's `(member=<user>)` never finds that group, so it never
    // reaches the admins' group above it: the admin read as an ordinary user and the helpdesk
    // could enable them for self-service (watched on main: set_enabled Ok, privileged false).
    let uid = unique("tier0");
    let dn = add_openldap_user(&uid, "Tier Zero", "Init-Passw0rd-1").await;
    add_member(HIDDEN_TIER0, &dn).await;
    let admins = add_openldap_group(&format!("{uid}-admins"), "groupOfNames", "member", &[HIDDEN_TIER0]).await;
    let directory = openldap();
    assert_refused_as_privileged(&directory, &openldap_admins(&admins), &uid).await;
    let err = directory.check_groups_visible(std::slice::from_ref(&admins)).await.unwrap_err();
    assert!(err.to_string().contains(HIDDEN_TIER0), "the error names the nested group: {err}");
    assert!(err.to_string().contains(&admins), "and the admins' group it is in: {err}");
}

#[tokio::test]
async fn openldap_a_privileged_group_outside_the_group_base_is_refused() {
    // Attack: with `group_base_dn` set to where most groups live, an admins' group kept
    // elsewhere was found only through the user's own memberOf (direct members, and only with
    // the memberof overlay): a user in it through a nested group read as an ordinary user
    // (watched on main: set_enabled Ok, privileged false).
    let uid = unique("outside");
    let dn = add_openldap_user(&uid, "Outside Admin", "Init-Passw0rd-1").await;
    let team = add_openldap_group(&format!("{uid}-team"), "groupOfNames", "member", &[&dn]).await;
    let cn = format!("{uid}-admins");
    let admins = format!("cn={cn},ou=people,dc=example,dc=org");
    let attrs = vec![
        ("objectClass", HashSet::from(["groupOfNames"])),
        ("cn", HashSet::from([cn.as_str()])),
        ("member", HashSet::from([team.as_str()])),
    ];
    openldap_admin().await.add(&admins, attrs).await.unwrap().success().unwrap();
    let mut config = openldap_config();
    config.group_base_dn = Some("ou=groups,dc=example,dc=org".into());
    let directory = LdapDirectory::new(config).unwrap();
    assert_refused_as_privileged(&directory, &openldap_admins(&admins), &uid).await;
    let err = directory.check_groups_visible(std::slice::from_ref(&admins)).await.unwrap_err();
    assert!(err.to_string().contains("outside the group base"), "{err}");
    // The same group is fine with the group base above it.
    openldap().check_groups_visible(&[admins]).await.unwrap();
}

#[tokio::test]
async fn openldap_a_privileged_group_member_that_cannot_be_read_is_refused() {
    // A member the service account cannot read may be a group hidden from it whole (whoever
    // is in it is missed) and looks exactly like a member that no longer exists: both are
    // refused, naming the member, so the operator grants access or removes it.
    let uid = unique("gone");
    let dn = add_openldap_user(&uid, "Still Here", "Init-Passw0rd-1").await;
    let gone = format!("uid={uid}-gone,ou=staff,ou=people,dc=example,dc=org");
    let admins = add_openldap_group(&format!("{uid}-admins"), "groupOfNames", "member", &[&dn, &gone]).await;
    let err = openldap().check_groups_visible(std::slice::from_ref(&admins)).await.unwrap_err();
    assert!(err.to_string().contains(&gone), "{err}");
}

#[tokio::test]
async fn openldap_visible_nested_groups_and_a_loop_pass_the_check_and_keep_ordinary_users_ordinary() {
    // No false alarm: an admins' group holding a group that holds a posixGroup and the
    // admins' group again (a loop) passes, its nested member is privileged, and a user in
    // none of them is not.
    let uid = unique("vnest");
    let admin_dn = add_openldap_user(&uid, "Visible Nested", "Init-Passw0rd-1").await;
    let ordinary = unique("vnord");
    add_openldap_user(&ordinary, "Ordinary", "Init-Passw0rd-1").await;
    let admins_dn = format!("cn={uid}-admins,ou=groups,dc=example,dc=org");
    let wheel = format!("{uid}-wheel");
    let posix = format!("cn={wheel},ou=groups,dc=example,dc=org");
    let attrs = vec![
        ("objectClass", HashSet::from(["posixGroup"])),
        ("cn", HashSet::from([wheel.as_str()])),
        ("gidNumber", HashSet::from(["7020"])),
        ("memberUid", HashSet::from(["nobody-here"])),
    ];
    openldap_admin().await.add(&posix, attrs).await.unwrap().success().unwrap();
    let inner =
        add_openldap_group(&format!("{uid}-inner"), "groupOfNames", "member", &[&admin_dn, &posix, &admins_dn]).await;
    let admins = add_openldap_group(&format!("{uid}-admins"), "groupOfNames", "member", &[&inner]).await;
    let directory = openldap();
    directory.check_groups_visible(std::slice::from_ref(&admins)).await.unwrap();
    assert_refused_as_privileged(&directory, &openldap_admins(&admins), &uid).await;
    let contacts = LdapContactStore::new(&directory, LdapContactConfig::default()).unwrap();
    let sspr = engine(&directory, contacts, &Outbox::new(), &openldap_admins(&admins));
    assert!(!sspr.status(&ordinary).await.unwrap().privileged);
}
