//! The Directory contract, lookups, memberships and the privileged rule on the stand-in.

use std::sync::Arc;

use sspr_backends::graph::{ClientSecret, GLOBAL_ADMINISTRATOR, GraphConfig, GraphDirectory};
use sspr_core::backend::{ADMINISTRATIVE_UNIT_PREFIX, GROUPS_UNRESOLVED, PRIVILEGED_ROLE};
use sspr_core::memory::{MemoryAuditSink, MemoryContactStore, MemoryStateStore, Outbox};
use sspr_core::testing::{DirectoryFixture, app_only_directory_conformance};
use sspr_core::{
    Actor, AuditKind, ContactChange, ContactUpdate, DecoyReason, Directory, NormalizedLogin, Outcome, Password, Policy,
    RequestContext, SecretKey, Sspr, UserId,
};

use crate::standin::{Member, StandIn, Tenant, User, new_id, user};

pub const SECRET: &str = "Yx8Q~client-secret-value-do-not-log";

pub fn tenant(users: Vec<User>) -> Tenant {
    Tenant {
        users,
        client_id: "6731de76-14a6-49ae-97bc-6eba6914391e".into(),
        client_secret: Some(SECRET.into()),
        ..Tenant::default()
    }
}

pub fn config(standin: &StandIn) -> GraphConfig {
    let mut config = GraphConfig::with_secret(
        standin.tenant_id.clone(),
        "6731de76-14a6-49ae-97bc-6eba6914391e",
        ClientSecret::new(SECRET),
    );
    config.authority_url = standin.url();
    config.graph_url = standin.url();
    config.timeout_ms = 2_000;
    config
}

pub fn directory(standin: &StandIn) -> GraphDirectory {
    GraphDirectory::new(config(standin)).unwrap()
}

fn login(text: &str) -> NormalizedLogin {
    NormalizedLogin::parse(text).unwrap()
}

#[tokio::test]
async fn graph_passes_the_directory_conformance_suite() {
    let alice = user("alice.jones@contoso.com", "Alice Jones");
    let id = alice.id.clone();
    let standin = StandIn::start(tenant(vec![alice, user("bob@contoso.com", "Bob")])).await;
    let fixture = DirectoryFixture {
        login: "alice.jones@contoso.com".into(),
        id: UserId::new(id.clone()),
        missing_login: "nobody@contoso.com".into(),
        good_password: Password::new("Corr3ct-Horse-Battery"),
        weak_password: Some(Password::new("short")),
        groups: Vec::new(),
    };
    app_only_directory_conformance(&directory(&standin), &fixture).await;
    let stored = standin.user(&id);
    assert_eq!(stored.password, "Corr3ct-Horse-Battery", "the good password was set through passwordProfile");
    assert!(stored.force_change, "with forceChangePasswordNextSignIn: true");
    // What went out: the PATCH body is exactly a passwordProfile.
    let bodies = standin.with(|t| t.bodies.clone());
    let body: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Corr3ct-Horse-Battery"}})
    );
}

#[tokio::test]
async fn find_user_doubles_quotes_and_selects_only_what_it_needs() {
    let obrien = user("o'brien@contoso.com", "Pat O'Brien");
    let alice = user("alice@contoso.com", "Alice");
    let alice_id = alice.id.clone();
    let standin = StandIn::start(tenant(vec![obrien.clone(), alice])).await;
    let directory = directory(&standin);
    // An injection that would find alice if the quote were not doubled.
    let attack = login("x' or userPrincipalName eq 'alice@contoso.com");
    assert_eq!(directory.find_user(&attack).await.unwrap(), None);
    let found = directory.find_user(&login("O'Brien@contoso.com")).await.unwrap().unwrap();
    assert_eq!(found.id.as_str(), obrien.id);
    assert_eq!(found.login, "o'brien@contoso.com");
    let requests = standin.with(|t| t.requests.clone());
    let lookups: Vec<&String> =
        requests.iter().filter(|(_, path, _)| path == "/v1.0/users").map(|(_, _, q)| q).collect();
    assert!(lookups[1].contains("$filter=userPrincipalName eq 'o''brien@contoso.com'"), "{}", lookups[1]);
    assert!(
        lookups[1].contains("$select=id,userPrincipalName,displayName,accountEnabled,onPremisesDistinguishedName"),
        "{}",
        lookups[1]
    );
    assert!(lookups[0].contains("eq 'x'' or userprincipalname eq ''alice@contoso.com'"), "{}", lookups[0]);
    assert!(
        !requests.iter().any(|(_, path, _)| path.contains(&alice_id)),
        "alice was never touched: {requests:?} {alice_id}"
    );
}

#[tokio::test]
async fn mail_is_matched_only_when_configured_and_two_matches_find_nobody() {
    let mut carol = user("carol@contoso.onmicrosoft.com", "Carol");
    carol.mail = Some("carol@contoso.com".into());
    let mut dave = user("dave@contoso.onmicrosoft.com", "Dave");
    dave.mail = Some("shared@contoso.com".into());
    let mut erin = user("erin@contoso.onmicrosoft.com", "Erin");
    erin.mail = Some("shared@contoso.com".into());
    let standin = StandIn::start(tenant(vec![carol.clone(), dave, erin])).await;
    assert_eq!(directory(&standin).find_user(&login("carol@contoso.com")).await.unwrap(), None);
    let mut with_mail = config(&standin);
    with_mail.match_mail = true;
    let by_mail = GraphDirectory::new(with_mail).unwrap();
    assert_eq!(by_mail.find_user(&login("carol@contoso.com")).await.unwrap().unwrap().id.as_str(), carol.id);
    assert_eq!(by_mail.find_user(&login("shared@contoso.com")).await.unwrap(), None, "ambiguous: nobody");
}

fn group(name: &str) -> Member {
    Member::Group { id: new_id(), name: name.into() }
}

#[tokio::test]
async fn memberships_are_read_across_pages_with_roles_and_units() {
    let mut frank = user("frank@contoso.com", "Frank");
    let unit_id = new_id();
    frank.members_of = vec![
        group("Sales, EMEA"),
        group("All Staff"),
        Member::Unit { id: unit_id.clone(), name: "Paris Office".into() },
        group("Nested Deep"),
        Member::Role { id: new_id(), name: "Global Administrator".into(), template: GLOBAL_ADMINISTRATOR.into() },
    ];
    let standin = StandIn::start(Tenant { page_size: 2, ..tenant(vec![frank]) }).await;
    let found = directory(&standin).find_user(&login("frank@contoso.com")).await.unwrap().unwrap();
    for want in ["CN=Sales\\, EMEA", "CN=All Staff", "CN=Nested Deep", "CN=Global Administrator", PRIVILEGED_ROLE] {
        assert!(found.groups.iter().any(|g| g == want), "{want} missing from {:?}", found.groups);
    }
    assert!(found.groups.contains(&format!("{ADMINISTRATIVE_UNIT_PREFIX}{unit_id}")));
    assert!(found.groups.contains(&format!("{ADMINISTRATIVE_UNIT_PREFIX}Paris Office")));
    let pages = standin.with(|t| t.requests.iter().filter(|(_, p, _)| p.ends_with("/transitiveMemberOf")).count());
    assert_eq!(pages, 3, "five memberships at two a page: every nextLink followed");
}

#[tokio::test]
async fn only_the_configured_roles_are_privileged_and_an_unreadable_role_always_is() {
    let mut grace = user("grace@contoso.com", "Grace");
    grace.members_of = vec![Member::Role { id: new_id(), name: "Message Center Reader".into(), template: new_id() }];
    let mut heidi = user("heidi@contoso.com", "Heidi");
    heidi.members_of = vec![Member::Hidden { odata_type: "#microsoft.graph.directoryRole", id: new_id() }];
    let standin = StandIn::start(tenant(vec![grace, heidi])).await;
    let mut listed = config(&standin);
    listed.privileged_role_template_ids = Some(vec![GLOBAL_ADMINISTRATOR.into()]);
    let listed = GraphDirectory::new(listed).unwrap();
    let grace = listed.find_user(&login("grace@contoso.com")).await.unwrap().unwrap();
    assert!(!grace.groups.iter().any(|g| g == PRIVILEGED_ROLE), "a role outside the list: {:?}", grace.groups);
    let heidi = listed.find_user(&login("heidi@contoso.com")).await.unwrap().unwrap();
    assert!(heidi.groups.iter().any(|g| g == PRIVILEGED_ROLE), "a role whose template is hidden: {:?}", heidi.groups);
    // By default every directory role is privileged.
    let grace = directory(&standin).find_user(&login("grace@contoso.com")).await.unwrap().unwrap();
    assert!(grace.groups.iter().any(|g| g == PRIVILEGED_ROLE));
}

/// R.47: a membership page whose entries come without `@odata.type` (a faulty Graph, a proxy
/// asking for `odata.metadata=none`). Each entry was "of another kind" and skipped: a Global
/// Administrator and a member of "Domain Admins" read as an ordinary user, self-service
/// allowed, where an entry without its name already fails closed.
#[tokio::test]
async fn memberships_whose_type_is_missing_are_never_judged_unprivileged() {
    let mut ivan = user("ivan@contoso.com", "Ivan");
    ivan.members_of = vec![
        group("Domain Admins"),
        Member::Role { id: new_id(), name: "Global Administrator".into(), template: GLOBAL_ADMINISTRATOR.into() },
    ];
    let standin = StandIn::start(tenant(vec![ivan])).await;
    let typed = directory(&standin).find_user(&login("ivan@contoso.com")).await.unwrap().unwrap();
    assert!(typed.groups.iter().any(|g| g == PRIVILEGED_ROLE), "{:?}", typed.groups);
    standin.with(|t| t.untyped_memberships = true);
    let found = directory(&standin).find_user(&login("ivan@contoso.com")).await.unwrap().unwrap();
    assert_eq!(found.groups, vec![GROUPS_UNRESOLVED.to_owned()], "memberships of no known type: not judged on them");
}

/// An engine over `directory` whose contact store has `login` enabled with an e-mail address.
async fn engine(directory: GraphDirectory, audit: &MemoryAuditSink, policy: &str) -> Sspr {
    Sspr::builder()
        .directory(directory)
        .contacts(MemoryContactStore::new())
        .notifier(Outbox::new())
        .store(MemoryStateStore::new())
        .audit(audit.clone())
        .secret_key(SecretKey::from_hex(&"5a".repeat(32)).unwrap())
        .policy(Policy::from_toml(policy).unwrap())
        .build()
        .unwrap()
}

fn reason_of_last_request(audit: &MemoryAuditSink) -> Outcome {
    audit.events().into_iter().rev().find(|e| e.kind == AuditKind::ResetRequested).unwrap().outcome
}

/// The attack: an administrator whose directory roles the application cannot read (a 403 on
/// transitiveMemberOf, more pages than allowed, a nextLink to another host, an object Graph
/// returns without its name) must not be judged "not privileged" on what could be read.
/// Each is answered exactly as an unknown login: a decoy of the same shape, the audit
/// trail saying why.
#[tokio::test]
async fn unreadable_roles_fail_closed_and_answer_as_an_unknown_login() {
    let mut admin = user("ivan.admin@contoso.com", "Ivan Admin");
    admin.members_of = (0..5).map(|i| group(&format!("g{i}"))).collect();
    admin.members_of.push(Member::Role {
        id: new_id(),
        name: "Global Administrator".into(),
        template: GLOBAL_ADMINISTRATOR.into(),
    });
    let ivan = admin.id.clone();
    let mut hidden = user("judy@contoso.com", "Judy");
    hidden.members_of = vec![group("Staff"), Member::Hidden { odata_type: "#microsoft.graph.group", id: new_id() }];
    let standin = StandIn::start(Tenant { page_size: 2, ..tenant(vec![admin, hidden]) }).await;
    let policy = "min_response_ms = 0\nprivileged_groups = []\n";
    let ctx = RequestContext::from_ip("198.51.100.4".parse().unwrap());
    let helpdesk = Actor::Admin("helpdesk".into());
    let email = |address: &str| ContactUpdate { email: ContactChange::Set(address.into()), ..Default::default() };

    // Three ways the memberships cannot all be read.
    let mut few_pages = config(&standin);
    few_pages.max_membership_pages = 2;
    type BreakIt = Box<dyn Fn()>;
    let cases: Vec<(&str, GraphDirectory, BreakIt)> = vec![
        (
            "403",
            directory(&standin),
            Box::new({
                let s = standin.clone();
                let ivan = ivan.clone();
                move || s.with(|t| t.forbid_memberships = vec![ivan.clone()])
            }),
        ),
        ("too many pages", GraphDirectory::new(few_pages).unwrap(), Box::new(|| {})),
        (
            "foreign nextLink",
            directory(&standin),
            Box::new({
                let s = standin.clone();
                move || s.with(|t| t.foreign_next_link = Some("http://127.0.0.2:9".into()))
            }),
        ),
    ];
    for (why, directory, break_it) in cases {
        standin.with(|t| {
            t.forbid_memberships.clear();
            t.foreign_next_link = None;
        });
        let found = directory.find_user(&login("ivan.admin@contoso.com")).await.unwrap().unwrap();
        assert!(
            !found.groups.contains(&GROUPS_UNRESOLVED.to_owned()) || why == "too many pages",
            "{why}: readable first"
        );
        break_it();
        let found = directory.find_user(&login("ivan.admin@contoso.com")).await.unwrap().unwrap();
        assert_eq!(found.groups, vec![GROUPS_UNRESOLVED.to_owned()], "{why}: never judged on a part");

        let audit = MemoryAuditSink::new();
        let sspr = engine(directory, &audit, policy).await;
        // The helpdesk cannot enable the account: it counts as privileged.
        assert!(sspr.set_enabled(&helpdesk, "ivan.admin@contoso.com", true, &ctx).await.is_err(), "{why}");
        let real = sspr.begin_reset("ivan.admin@contoso.com", &ctx).await.expect("answered, not an error");
        let nobody = sspr.begin_reset("nobody@contoso.com", &ctx).await.unwrap();
        assert_eq!(real.methods.len(), nobody.methods.len(), "{why}");
        assert_eq!(real.flow_id.len(), nobody.flow_id.len(), "{why}");
        let ivan_event = audit.events().into_iter().find(|e| e.kind == AuditKind::ResetRequested).unwrap();
        assert_eq!(ivan_event.outcome, Outcome::Decoy { reason: DecoyReason::Privileged }, "{why}");
    }

    // A group Graph returns without its name: the same.
    let audit = MemoryAuditSink::new();
    let sspr = engine(directory(&standin), &audit, policy).await;
    sspr.begin_reset("judy@contoso.com", &ctx).await.unwrap();
    assert_eq!(reason_of_last_request(&audit), Outcome::Decoy { reason: DecoyReason::Privileged });

    // The control: an ordinary user on the same stand-in gets a real reset.
    standin.with(|t| t.users.push(user("kim@contoso.com", "Kim")));
    let audit = MemoryAuditSink::new();
    let sspr = engine(directory(&standin), &audit, policy).await;
    sspr.set_enabled(&helpdesk, "kim@contoso.com", true, &ctx).await.unwrap();
    sspr.update_contacts(&helpdesk, "kim@contoso.com", email("kim.private@example.org"), &ctx).await.unwrap();
    sspr.begin_reset("kim@contoso.com", &ctx).await.unwrap();
    assert_eq!(reason_of_last_request(&audit), Outcome::Success);
}

#[tokio::test]
async fn administrative_units_scope_eligibility_like_ous() {
    let unit = new_id();
    let mut inside = user("lena@contoso.com", "Lena");
    inside.members_of = vec![Member::Unit { id: unit.clone(), name: "Staff".into() }];
    let outside = user("mo@contoso.com", "Mo");
    let standin = StandIn::start(tenant(vec![inside, outside])).await;
    let policy = format!("min_response_ms = 0\neligible_administrative_units = [\"{unit}\"]\n");
    let ctx = RequestContext::default();
    let helpdesk = Actor::Admin("helpdesk".into());
    let audit = MemoryAuditSink::new();
    let sspr = engine(directory(&standin), &audit, &policy).await;
    for (who, expected) in
        [("lena@contoso.com", Outcome::Success), ("mo@contoso.com", Outcome::Decoy { reason: DecoyReason::Ineligible })]
    {
        let _ = sspr.set_enabled(&helpdesk, who, true, &ctx).await;
        let update = ContactUpdate { email: ContactChange::Set(format!("x.{who}")), ..Default::default() };
        let _ = sspr.update_contacts(&helpdesk, who, update, &ctx).await;
        sspr.begin_reset(who, &ctx).await.unwrap();
        assert_eq!(reason_of_last_request(&audit), expected, "{who}");
    }
}

#[tokio::test]
async fn a_disabled_account_reads_as_disabled() {
    let mut nina = user("nina@contoso.com", "Nina");
    nina.account_enabled = false;
    let standin = StandIn::start(tenant(vec![nina])).await;
    let found = directory(&standin).find_user(&login("nina@contoso.com")).await.unwrap().unwrap();
    assert!(found.state.disabled);
    let _ = Arc::new(0);
}
