//! Entra admin power that is neither a role of the user nor of a group it is in (12.29, the
//! second round): an eligible membership or ownership of a role-assignable group through PIM
//! for Groups, the ownership of a role-assignable group (the owner adds themself), and a role
//! eligibility whose schedule starts later. Each such user must be privileged; what cannot be
//! read fails closed; an unknown login still makes the same requests.

use sspr_backends::graph::{GLOBAL_ADMINISTRATOR, GraphDirectory};
use sspr_core::backend::{GROUPS_UNRESOLVED, PRIVILEGED_ROLE};
use sspr_core::memory::MemoryAuditSink;
use sspr_core::{Actor, Directory, NormalizedLogin, RequestContext};

use crate::directory::{config, directory, tenant};
use crate::roles::engine;
use crate::standin::{EXPAND_LIMIT, GroupEligibility, GroupRecord, RoleGrant, StandIn, new_id, user};

/// Helpdesk Administrator's template id.
const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
/// User Administrator's template id.
const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

const ADMINS: [&str; 5] = [
    "pim.member@contoso.com",
    "pim.owner@contoso.com",
    "group.owner@contoso.com",
    "crowded.owner@contoso.com",
    "future.eligible@contoso.com",
];
const ORDINARY: &str = "ordinary@contoso.com";

fn login(text: &str) -> NormalizedLogin {
    NormalizedLogin::parse(text).unwrap()
}

/// The users of the attack, each with admin power no role read so far shows, and an ordinary
/// user who is eligible for, and owns, groups that hold no role.
async fn tenant_with_indirect_admins(page_size: usize) -> StandIn {
    let [member, owner, group_owner, crowded_owner, future] = ADMINS.map(|upn| user(upn, upn));
    let ordinary = user(ORDINARY, "Ordinary");
    // 1. Eligible member (PIM for Groups) of a role-assignable group holding Global Administrator.
    let ga_group = new_id();
    // 2. Eligible owner (PIM for Groups) of a role-assignable group eligible for Helpdesk Administrator.
    let helpdesk_group = new_id();
    // 3. Owner of a role-assignable group assigned User Administrator.
    let owned_group = new_id();
    // 4. The same, among more owners than `$expand` returns: the last of them.
    let crowded_group = new_id();
    // 5. Eligible for Global Administrator from a date to come (no instance yet).
    // The control: a role-assignable group with no role, and an ordinary group, both of which
    // the ordinary user may join or owns.
    let empty_group = new_id();
    let plain_group = new_id();

    let mut crowded_owners: Vec<String> = (0..EXPAND_LIMIT + 4).map(|_| new_id()).collect();
    crowded_owners.push(crowded_owner.id.clone());
    let mut t = tenant(vec![
        member.clone(),
        owner.clone(),
        group_owner.clone(),
        crowded_owner.clone(),
        future.clone(),
        ordinary.clone(),
    ]);
    t.page_size = page_size;
    t.groups = vec![
        GroupRecord { id: ga_group.clone(), role_assignable: true, owners: vec![new_id()] },
        GroupRecord { id: helpdesk_group.clone(), role_assignable: true, owners: Vec::new() },
        GroupRecord { id: owned_group.clone(), role_assignable: true, owners: vec![group_owner.id.clone()] },
        GroupRecord { id: crowded_group.clone(), role_assignable: true, owners: crowded_owners },
        GroupRecord { id: empty_group.clone(), role_assignable: true, owners: vec![ordinary.id.clone()] },
        GroupRecord { id: plain_group.clone(), role_assignable: false, owners: vec![ordinary.id.clone()] },
    ];
    t.group_eligibilities = vec![
        GroupEligibility::new(&new_id(), &owned_group, "member"),
        GroupEligibility::new(&member.id, &ga_group, "member"),
        GroupEligibility::new(&owner.id, &helpdesk_group, "owner"),
        GroupEligibility::new(&ordinary.id, &empty_group, "member"),
        GroupEligibility::new(&ordinary.id, &plain_group, "owner"),
    ];
    t.role_assignments = vec![
        RoleGrant::new(&ga_group, GLOBAL_ADMINISTRATOR, "/"),
        RoleGrant::new(&owned_group, USER_ADMINISTRATOR, "/"),
        RoleGrant::new(&crowded_group, USER_ADMINISTRATOR, "/"),
    ];
    t.role_eligibilities = vec![
        RoleGrant::new(&helpdesk_group, HELPDESK_ADMINISTRATOR, "/"),
        RoleGrant::new(&future.id, GLOBAL_ADMINISTRATOR, "/").starting_later(),
    ];
    StandIn::start(t).await
}

fn privileged(groups: &[String]) -> bool {
    groups.iter().any(|g| g == PRIVILEGED_ROLE)
}

/// The attack: each of these accounts can make itself an Entra administrator at will (activate
/// an eligible group membership or ownership, add itself to a group it owns, wait for an
/// eligibility that has been scheduled), yet each read as an ordinary user: its groups lacked
/// `PRIVILEGED_ROLE`, `status` said not privileged, and the helpdesk could enable it for
/// self-service. Whoever took its mailbox over reset the password and then took the role.
#[tokio::test]
async fn indirect_admin_power_is_privileged() {
    let standin = tenant_with_indirect_admins(100).await;
    let audit = MemoryAuditSink::new();
    let sspr = engine(directory(&standin), &audit).await;
    let helpdesk = Actor::Admin("helpdesk".into());
    let ctx = RequestContext::from_ip("198.51.100.9".parse().unwrap());
    let mut failures = Vec::new();
    for who in ADMINS {
        let found = directory(&standin).find_user(&login(who)).await.unwrap().unwrap();
        if !privileged(&found.groups) {
            failures.push(format!("{who}: groups {:?} lack PRIVILEGED_ROLE", found.groups));
        }
        if !sspr.status(who).await.unwrap().privileged {
            failures.push(format!("{who}: status().privileged is false"));
        }
        if sspr.set_enabled(&helpdesk, who, true, &ctx).await.is_ok() {
            failures.push(format!("{who}: the helpdesk enabled it for self-service"));
        }
    }
    assert!(failures.is_empty(), "admins read as ordinary users:\n{}", failures.join("\n"));
    // The control: eligible for a role-assignable group with no role, owner of it and of an
    // ordinary group: not privileged, and enabled.
    let found = directory(&standin).find_user(&login(ORDINARY)).await.unwrap().unwrap();
    assert!(!privileged(&found.groups) && !found.groups.iter().any(|g| g == GROUPS_UNRESOLVED), "{:?}", found.groups);
    sspr.set_enabled(&helpdesk, ORDINARY, true, &ctx).await.unwrap();
}

/// With `privileged_role_template_ids` set, a group reached through PIM for Groups or
/// ownership counts only for a listed role, as a role of the user's own does.
#[tokio::test]
async fn a_listed_set_of_roles_judges_indirect_groups_by_their_roles() {
    let standin = tenant_with_indirect_admins(100).await;
    let mut only_ga = config(&standin);
    only_ga.privileged_role_template_ids = Some(vec![GLOBAL_ADMINISTRATOR.into()]);
    let only_ga = GraphDirectory::new(only_ga).unwrap();
    let member = only_ga.find_user(&login("pim.member@contoso.com")).await.unwrap().unwrap();
    assert!(privileged(&member.groups), "eligible member of a Global Administrator group: {:?}", member.groups);
    let owner = only_ga.find_user(&login("group.owner@contoso.com")).await.unwrap().unwrap();
    assert!(!privileged(&owner.groups), "owner of a User Administrator group, not listed: {:?}", owner.groups);
}

/// The new reads go through every page: the role-assignable groups with their owners (an
/// owner past the `$expand` limit is read from the group's own owners list), and the PIM for
/// Groups eligibilities; each asked as the documentation says.
#[tokio::test]
async fn indirect_reads_page_and_ask_as_documented() {
    // Two items a page: the crowded group's 25 owners take 13 pages, within max_membership_pages.
    let standin = tenant_with_indirect_admins(2).await;
    for who in ["crowded.owner@contoso.com", "pim.owner@contoso.com"] {
        let found = directory(&standin).find_user(&login(who)).await.unwrap().unwrap();
        assert!(privileged(&found.groups), "{who}: {:?}", found.groups);
    }
    let requests = standin.with(|t| t.requests.clone());
    let of = |path: &str| -> Vec<String> {
        requests.iter().filter(|(_, p, _)| p.ends_with(path)).map(|(_, _, q)| q.clone()).collect()
    };
    let groups = of("/v1.0/groups");
    assert!(groups.len() >= 3, "two groups a page, every page: {groups:?}");
    assert!(
        groups
            .iter()
            .all(|q| q.contains("$filter=isAssignableToRole eq true") && q.contains("$expand=owners($select=id)")),
        "{groups:?}"
    );
    let owners = of("/owners");
    assert!(owners.len() >= 13, "the crowded group's owners, every page: {}", owners.len());
    let eligibility = of("/privilegedAccess/group/eligibilitySchedules");
    assert!(eligibility.iter().all(|q| q.contains("$filter=principalId eq '")), "{eligibility:?}");
    assert!(of("/roleEligibilityScheduleInstances").is_empty(), "schedules are read, not instances");
    assert!(!of("/roleEligibilitySchedules").is_empty());

    // A PIM for Groups eligibility on a later page is found.
    let late = user("late.member@contoso.com", "Late");
    let late_id = late.id.clone();
    let group = standin.with(|t| {
        let group = t.groups[0].id.clone();
        t.users.push(late);
        t.group_eligibilities.insert(0, GroupEligibility::new(&late_id, &new_id(), "member"));
        t.group_eligibilities.push(GroupEligibility::new(&late_id, &group, "member"));
        group
    });
    let found = directory(&standin).find_user(&login("late.member@contoso.com")).await.unwrap().unwrap();
    assert!(privileged(&found.groups), "the second page was read ({group}): {:?}", found.groups);
}

/// A tenant that did not grant `PrivilegedEligibilitySchedule.Read.AzureADGroup` or
/// `GroupMember.Read.All` (a 403), or whose answer is another error, gives every user
/// `GROUPS_UNRESOLVED`. A tenant without P2 (no PIM, so no PIM for Groups) answers
/// `400 AadPremiumLicenseRequired`: no eligibilities, owners still read.
#[tokio::test]
async fn unreadable_group_eligibilities_or_owners_fail_closed() {
    let standin = tenant_with_indirect_admins(100).await;
    type Break = fn(&mut crate::standin::Tenant);
    let cases: [(&str, Break); 3] = [
        ("403 on PIM for Groups eligibilitySchedules", |t| t.forbid_group_eligibilities = true),
        ("403 on /groups", |t| t.forbid_groups = true),
        // The third request of a lookup is the first /groups page.
        ("a 500 on /groups", |t| {
            t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
            t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
            t.faults.push_back(crate::standin::Fault::Throttle { status: 500, retry_after: None });
        }),
    ];
    for (why, break_it) in cases {
        standin.with(|t| {
            t.forbid_group_eligibilities = false;
            t.forbid_groups = false;
            t.faults.clear();
        });
        let before = directory(&standin).find_user(&login(ORDINARY)).await.unwrap().unwrap();
        assert!(!before.groups.iter().any(|g| g == GROUPS_UNRESOLVED), "{why}: readable first");
        standin.with(break_it);
        let found = directory(&standin).find_user(&login(ORDINARY)).await.unwrap().unwrap();
        assert_eq!(found.groups, vec![GROUPS_UNRESOLVED.to_owned()], "{why}: never judged on a part");
    }
    standin.with(|t| {
        t.forbid_group_eligibilities = false;
        t.forbid_groups = false;
        t.faults.clear();
        t.no_pim_license = true;
    });
    let found = directory(&standin).find_user(&login(ORDINARY)).await.unwrap().unwrap();
    assert!(!privileged(&found.groups) && !found.groups.contains(&GROUPS_UNRESOLVED.to_owned()), "{:?}", found.groups);
    let owner = directory(&standin).find_user(&login("group.owner@contoso.com")).await.unwrap().unwrap();
    assert!(privileged(&owner.groups), "no P2, an owner still: {:?}", owner.groups);
}

/// Enumeration by round trips: the new reads are made for an unknown login too, the same
/// requests in the same order as for a found user in no role-assignable group.
#[tokio::test]
async fn an_unknown_login_makes_the_same_requests_as_a_found_user() {
    let standin = tenant_with_indirect_admins(2).await;
    let directory = directory(&standin);
    directory.find_user(&login(ORDINARY)).await.unwrap().unwrap();
    let mut seen = Vec::new();
    for who in ["future.eligible@contoso.com", "nobody@contoso.com", "x' or 1 eq 1"] {
        let before = standin.with(|t| t.requests.len());
        let _ = directory.find_user(&login(who)).await.unwrap();
        let paths: Vec<String> = standin.with(|t| {
            t.requests[before..]
                .iter()
                .map(|(_, p, _)| {
                    // The path's shape: object ids differ, the collections must not.
                    p.split('/').map(|seg| if seg.len() == 36 { "{id}" } else { seg }).collect::<Vec<_>>().join("/")
                })
                .collect()
        });
        seen.push((who, paths));
    }
    let (first, paths) = &seen[0];
    for (who, other) in &seen[1..] {
        assert_eq!(other, paths, "{who} against {first}");
    }
}
