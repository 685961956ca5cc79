//! Entra admin power that `transitiveMemberOf` does not list: PIM-eligible roles (also through
//! a role-assignable group), custom roles and roles scoped to an administrative unit, all of
//! which Graph shows only under `/roleManagement/directory`. Each such user must be
//! privileged; a tenant that does not let the application read them fails closed.

use sspr_backends::graph::{GLOBAL_ADMINISTRATOR, GraphDirectory};
use sspr_core::backend::{GROUPS_UNRESOLVED, PRIVILEGED_ROLE};
use sspr_core::memory::{MemoryAuditSink, MemoryContactStore, MemoryStateStore, Outbox};
use sspr_core::{
    Actor, AuditKind, DecoyReason, Directory, NormalizedLogin, Outcome, Policy, RequestContext, SecretKey, Sspr,
};

use crate::directory::{config, directory, tenant};
use crate::standin::{Member, RoleGrant, StandIn, Tenant, new_id, user};

/// Helpdesk Administrator's template id (it resets non-admins' passwords).
const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
/// User Administrator's template id.
const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

fn login(text: &str) -> NormalizedLogin {
    NormalizedLogin::parse(text).unwrap()
}

/// The four users of the attack, each with admin power outside `transitiveMemberOf`, and an
/// ordinary user. Returns the stand-in and the logins, the ordinary one last.
async fn tenant_with_hidden_admins(page_size: usize) -> (StandIn, Vec<&'static str>) {
    // 1. Eligible (PIM) for Global Administrator, not activated: no directoryRole membership.
    let eligible = user("pim.eligible@contoso.com", "Pim Eligible");
    // 2. A custom role (its definition id is the tenant's own GUID, no template).
    let custom = user("custom.role@contoso.com", "Custom Role");
    // 3. User Administrator over one administrative unit only.
    let scoped = user("au.scoped@contoso.com", "AU Scoped");
    // 4. Eligible for Helpdesk Administrator through a role-assignable group it is in.
    let mut via_group = user("group.eligible@contoso.com", "Group Eligible");
    let role_group = new_id();
    via_group.members_of = vec![
        Member::Group { id: new_id(), name: "All Staff".into() },
        Member::RoleAssignableGroup { id: role_group.clone(), name: "Helpdesk (PIM)".into() },
    ];
    let ordinary = user("ordinary@contoso.com", "Ordinary");
    let unit = new_id();
    let mut t = tenant(vec![eligible.clone(), custom.clone(), scoped.clone(), via_group, ordinary.clone()]);
    t.page_size = page_size;
    // Noise: grants of other principals, so a filter that is ignored shows.
    t.role_assignments = vec![
        RoleGrant::new(&new_id(), GLOBAL_ADMINISTRATOR, "/"),
        RoleGrant::new(&custom.id, &new_id(), "/"),
        RoleGrant::new(&scoped.id, USER_ADMINISTRATOR, &format!("/administrativeUnits/{unit}")),
    ];
    t.role_eligibilities = vec![
        RoleGrant::new(&new_id(), GLOBAL_ADMINISTRATOR, "/"),
        RoleGrant::new(&eligible.id, GLOBAL_ADMINISTRATOR, "/"),
        RoleGrant::new(&role_group, HELPDESK_ADMINISTRATOR, "/"),
    ];
    let standin = StandIn::start(t).await;
    (
        standin,
        vec![
            "pim.eligible@contoso.com",
            "custom.role@contoso.com",
            "au.scoped@contoso.com",
            "group.eligible@contoso.com",
            "ordinary@contoso.com",
        ],
    )
}

pub(crate) async fn engine(directory: GraphDirectory, audit: &MemoryAuditSink) -> Sspr {
    Sspr::builder()
        .directory(directory)
        .contacts(MemoryContactStore::new())
        .notifier(Outbox::new())
        .store(MemoryStateStore::new())
        .audit(audit.clone())
        .secret_key(SecretKey::from_hex(&"5a".repeat(32)).unwrap())
        .policy(Policy::from_toml("min_response_ms = 0\nprivileged_groups = []\n").unwrap())
        .build()
        .unwrap()
}

/// The attack: each of these accounts holds (or can activate at will) admin power, yet on main
/// the helpdesk could enable it for self-service, `status` called it not privileged, and its
/// groups lacked `PRIVILEGED_ROLE`: whoever took the mailbox over reset the password and
/// activated the role.
#[tokio::test]
async fn admin_power_outside_transitive_member_of_is_privileged() {
    let (standin, logins) = tenant_with_hidden_admins(100).await;
    let (ordinary, admins) = logins.split_last().unwrap();
    let audit = MemoryAuditSink::new();
    let sspr = engine(directory(&standin), &audit).await;
    let helpdesk = Actor::Admin("helpdesk".into());
    let ctx = RequestContext::from_ip("198.51.100.7".parse().unwrap());
    let mut failures = Vec::new();
    for who in admins {
        let found = directory(&standin).find_user(&login(who)).await.unwrap().unwrap();
        if !found.groups.iter().any(|g| g == PRIVILEGED_ROLE) {
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
    // The control: the ordinary user is not privileged and can be enabled.
    let found = directory(&standin).find_user(&login(ordinary)).await.unwrap().unwrap();
    assert!(!found.groups.iter().any(|g| g == PRIVILEGED_ROLE || g == GROUPS_UNRESOLVED), "{:?}", found.groups);
    sspr.set_enabled(&helpdesk, ordinary, true, &ctx).await.unwrap();
}

/// Roles are read across pages (every `@odata.nextLink`), for the user and each
/// role-assignable group, in as few requests as Graph allows: one `principalId in (...)` for
/// the assignments, one `principalId eq` per principal for the eligibilities (whose
/// `principalId` supports only `eq` and `ne`).
#[tokio::test]
async fn role_reads_page_and_filter_by_principal() {
    let (standin, _) = tenant_with_hidden_admins(1).await;
    let found = directory(&standin).find_user(&login("group.eligible@contoso.com")).await.unwrap().unwrap();
    assert!(found.groups.iter().any(|g| g == PRIVILEGED_ROLE), "{:?}", found.groups);
    let requests = standin.with(|t| t.requests.clone());
    let of = |path: &str| -> Vec<String> {
        requests.iter().filter(|(_, p, _)| p.ends_with(path)).map(|(_, _, q)| q.clone()).collect()
    };
    let assignments = of("/roleAssignments");
    assert_eq!(assignments.len(), 1, "{assignments:?}");
    assert!(assignments[0].contains("$filter=principalId in ('"), "{assignments:?}");
    let eligibilities = of("/roleEligibilitySchedules");
    assert_eq!(eligibilities.len(), 2, "the user and its one role-assignable group: {eligibilities:?}");
    assert!(eligibilities.iter().all(|q| q.contains("$filter=principalId eq '")), "{eligibilities:?}");

    // A grant on the second page is found: the user's own eligibility behind another's.
    let mut late = user("late@contoso.com", "Late");
    late.members_of = Vec::new();
    let late_id = late.id.clone();
    standin.with(|t| {
        t.users.push(late);
        t.role_eligibilities.insert(0, RoleGrant::new(&late_id, HELPDESK_ADMINISTRATOR, "/"));
        t.role_eligibilities.insert(0, RoleGrant::new(&late_id, "00000000-0000-0000-0000-00000000beef", "/"));
    });
    let mut only_ga = config(&standin);
    only_ga.privileged_role_template_ids = Some(vec![HELPDESK_ADMINISTRATOR.into()]);
    let found = GraphDirectory::new(only_ga).unwrap().find_user(&login("late@contoso.com")).await.unwrap().unwrap();
    assert!(found.groups.iter().any(|g| g == PRIVILEGED_ROLE), "the second page was read: {:?}", found.groups);
}

/// With `privileged_role_template_ids` set, an assignment or eligibility counts when its
/// `roleDefinitionId` is listed (a built-in role's definition id is its template id; a custom
/// role is listed by its own id); without it, every role does, custom ones included.
#[tokio::test]
async fn a_listed_set_of_roles_judges_assignments_and_eligibilities_by_definition_id() {
    let (standin, _) = tenant_with_hidden_admins(100).await;
    let mut listed = config(&standin);
    listed.privileged_role_template_ids = Some(vec![GLOBAL_ADMINISTRATOR.into()]);
    let listed = GraphDirectory::new(listed).unwrap();
    let privileged = |groups: &[String]| groups.iter().any(|g| g == PRIVILEGED_ROLE);
    let eligible = listed.find_user(&login("pim.eligible@contoso.com")).await.unwrap().unwrap();
    assert!(privileged(&eligible.groups), "an eligible Global Administrator: {:?}", eligible.groups);
    let custom = listed.find_user(&login("custom.role@contoso.com")).await.unwrap().unwrap();
    assert!(!privileged(&custom.groups), "a custom role the list does not name: {:?}", custom.groups);
    let custom = directory(&standin).find_user(&login("custom.role@contoso.com")).await.unwrap().unwrap();
    assert!(privileged(&custom.groups), "by default a custom role is privileged: {:?}", custom.groups);
}

/// A tenant that did not grant `RoleManagement.Read.Directory` or
/// `RoleEligibilitySchedule.Read.Directory` (a 403), or whose answer cannot be read, gives
/// every user `GROUPS_UNRESOLVED`: privileged, answered like an unknown login.
#[tokio::test]
async fn unreadable_role_assignments_or_eligibilities_fail_closed() {
    let (standin, logins) = tenant_with_hidden_admins(100).await;
    let ordinary = *logins.last().unwrap();
    let ctx = RequestContext::from_ip("198.51.100.8".parse().unwrap());
    type Break = fn(&mut Tenant);
    let cases: [(&str, Break); 3] = [
        ("403 on roleAssignments", |t| t.forbid_role_assignments = true),
        ("403 on roleEligibilitySchedules", |t| t.forbid_role_eligibilities = true),
        ("a 500", |t| {
            t.faults.push_back(crate::standin::Fault::Throttle { status: 500, retry_after: None });
        }),
    ];
    for (why, break_it) in cases {
        standin.with(|t| {
            t.forbid_role_assignments = false;
            t.forbid_role_eligibilities = false;
            t.faults.clear();
        });
        let before = directory(&standin).find_user(&login(ordinary)).await.unwrap().unwrap();
        assert!(!before.groups.iter().any(|g| g == GROUPS_UNRESOLVED), "{why}: readable first");
        // The 500 must hit a role read, not the user lookup, transitiveMemberOf, the
        // role-assignable groups or the PIM for Groups eligibilities.
        standin.with(|t| {
            if why == "a 500" {
                t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
                t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
                t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
                t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
            }
            break_it(t)
        });
        let found = directory(&standin).find_user(&login(ordinary)).await.unwrap().unwrap();
        assert_eq!(found.groups, vec![GROUPS_UNRESOLVED.to_owned()], "{why}: never judged on a part");
        standin.with(|t| {
            if why == "a 500" {
                t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
                t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
                t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
                t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO));
                break_it(t);
            }
        });
        let audit = MemoryAuditSink::new();
        let sspr = engine(directory(&standin), &audit).await;
        let real = sspr.begin_reset(ordinary, &ctx).await.expect("answered, not an error");
        let nobody = sspr.begin_reset("nobody@contoso.com", &ctx).await.unwrap();
        assert_eq!(real.methods.len(), nobody.methods.len(), "{why}");
        let event = audit.events().into_iter().find(|e| e.kind == AuditKind::ResetRequested).unwrap();
        assert_eq!(event.outcome, Outcome::Decoy { reason: DecoyReason::Privileged }, "{why}");
    }
}

/// Enumeration by round trips: an unknown login makes as many Graph
/// requests as a found user with no role-assignable group, so the time it takes does not tell
/// them apart.
#[tokio::test]
async fn an_unknown_login_makes_as_many_graph_requests_as_a_found_user() {
    let (standin, logins) = tenant_with_hidden_admins(100).await;
    let directory = directory(&standin);
    let count = |standin: &StandIn| standin.with(|t| t.requests.len());
    directory.find_user(&login(logins[0])).await.unwrap().unwrap();
    let mut seen = Vec::new();
    for who in [logins[0], *logins.last().unwrap(), "nobody@contoso.com", "x' or 1 eq 1"] {
        let before = count(&standin);
        let _ = directory.find_user(&login(who)).await.unwrap();
        seen.push((who, count(&standin) - before));
    }
    assert!(seen.iter().all(|(_, n)| *n == seen[0].1), "requests per lookup: {seen:?}");
}

/// A tenant without Entra ID P2 has no PIM: Graph answers the eligibility list with `400
/// AadPremiumLicenseRequired`. That is "no eligibilities", not "unreadable": failing closed
/// there would refuse every user of such a tenant. Active roles are still found, and any other
/// `400` there still fails closed.
#[tokio::test]
async fn a_tenant_without_p2_has_no_eligibilities_and_still_finds_active_roles() {
    let (standin, logins) = tenant_with_hidden_admins(100).await;
    let ordinary = *logins.last().unwrap();
    let is_privileged = |groups: &[String]| groups.iter().any(|g| g == PRIVILEGED_ROLE || g == GROUPS_UNRESOLVED);
    standin.with(|t| t.no_pim_license = true);
    let found = directory(&standin).find_user(&login(ordinary)).await.unwrap().unwrap();
    assert!(!is_privileged(&found.groups), "no P2: {:?}", found.groups);
    let custom = directory(&standin).find_user(&login("custom.role@contoso.com")).await.unwrap().unwrap();
    assert!(custom.groups.iter().any(|g| g == PRIVILEGED_ROLE), "an active custom role: {:?}", custom.groups);

    // Another 400 on the eligibilities (the sixth request of the lookup: after the user, its
    // memberships, the role-assignable groups, its PIM for Groups eligibilities and its
    // assignments) is not that answer.
    standin.with(|t| {
        t.no_pim_license = false;
        (0..5).for_each(|_| t.faults.push_back(crate::standin::Fault::Delay(std::time::Duration::ZERO)));
        t.faults.push_back(crate::standin::Fault::Throttle { status: 400, retry_after: None });
    });
    let found = directory(&standin).find_user(&login(ordinary)).await.unwrap().unwrap();
    assert_eq!(found.groups, vec![GROUPS_UNRESOLVED.to_owned()], "another 400 fails closed");
}
