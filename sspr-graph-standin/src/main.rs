//! `sspr-graph-standin`: the Graph / Entra stand-in as a process, for the portal's Chromium
//! e2e and the Python and Node tests (the Rust tests start it in-process).
//!
//! ```text
//! sspr-graph-standin --seed tenant.json --key-dir DIR [--listen 127.0.0.1:0]
//! ```
//!
//! It prints `listening on http://ADDR/` once it accepts connections. `--key-dir` receives the
//! OpenID provider's signing key (made with openssl). The seed (JSON):
//!
//! ```json
//! {"client_id": "...", "client_secret": "...",
//!  "oidc": {"client_id": "...", "client_secret": "...", "redirect_uri": "http://.../callback"},
//!  "users": [{"id": "(optional object id)", "upn": "jane@contoso.example", "display_name": "Jane", "password": "...",
//!             "enabled": true, "groups": ["SSPR Users"], "roles": [{"name": "Global Administrator",
//!             "template": "62e90394-69f5-4237-9190-012177145e10"}], "units": ["Staff"],
//!             "emails": ["jane@home.example"], "phones": ["+44 7700900123"],
//!             "eligible_roles": ["<role definition id, PIM-eligible over the tenant>"],
//!             "assigned_roles": [{"definition": "<built-in template id or custom role id>",
//!                                 "scope": "/administrativeUnits/<id>"}]}]}
//! ```
//!
//! `roles` are active built-in roles (`transitiveMemberOf`); `eligible_roles` and
//! `assigned_roles` are served by `/roleManagement/directory/roleEligibilitySchedules` (and
//! `roleEligibilityScheduleInstances`) and `.../roleAssignments` only (`scope` defaults to `/`,
//! the tenant). The seeded tenant has no role-assignable group and no PIM for Groups
//! eligibility: those collections answer empty.
//!
//! Groups, roles and units get the id `<kind>-<name>`, so a configuration can name them either
//! way. Who is signed in at the provider is set with `POST /_standin/signed-in` (body: a UPN).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

use serde::Deserialize;
use sspr_graph_standin::{Member, Provider, RoleGrant, StandIn, Tenant, User, new_id, rsa_key};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seed {
    client_id: String,
    client_secret: String,
    #[serde(default)]
    oidc: Option<OidcSeed>,
    users: Vec<UserSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcSeed {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSeed {
    /// The object id; a fresh one when absent.
    #[serde(default)]
    id: Option<String>,
    upn: String,
    display_name: String,
    #[serde(default)]
    mail: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    roles: Vec<RoleSeed>,
    #[serde(default)]
    units: Vec<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    phones: Vec<String>,
    #[serde(default)]
    eligible_roles: Vec<String>,
    #[serde(default)]
    assigned_roles: Vec<AssignedRoleSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignedRoleSeed {
    definition: String,
    #[serde(default = "tenant_scope")]
    scope: String,
}

fn tenant_scope() -> String {
    "/".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSeed {
    name: String,
    template: String,
}

fn yes() -> bool {
    true
}

fn fail(message: &str) -> ! {
    eprintln!("sspr-graph-standin: {message}");
    std::process::exit(2)
}

fn tenant(seed: Seed, key_dir: &std::path::Path) -> Tenant {
    let mut role_assignments = Vec::new();
    let mut role_eligibilities = Vec::new();
    let users = seed
        .users
        .into_iter()
        .map(|u| {
            let mut members: Vec<Member> =
                u.groups.into_iter().map(|name| Member::Group { id: format!("group-{name}"), name }).collect();
            members.extend(u.roles.into_iter().map(|r| Member::Role {
                id: format!("role-{}", r.name),
                name: r.name,
                template: r.template,
            }));
            members.extend(u.units.into_iter().map(|name| Member::Unit { id: format!("unit-{name}"), name }));
            let mut user = sspr_graph_standin::user(&u.upn, &u.display_name);
            let id = u.id.unwrap_or(user.id.clone());
            role_eligibilities.extend(u.eligible_roles.iter().map(|d| RoleGrant::new(&id, d, "/")));
            role_assignments.extend(u.assigned_roles.iter().map(|r| RoleGrant::new(&id, &r.definition, &r.scope)));
            User {
                id,
                mail: u.mail.or(user.mail.take()),
                password: u.password.unwrap_or(user.password.clone()),
                account_enabled: u.enabled,
                members_of: members,
                email_methods: u.emails.into_iter().map(|e| (new_id(), e)).collect(),
                phone_methods: u.phones.into_iter().map(|p| (new_id(), p, "mobile".to_owned())).collect(),
                ..user
            }
        })
        .collect();
    let oidc = seed.oidc.map(|o| {
        let (_, key) = rsa_key(key_dir, "oidc-signing");
        let (_, other_key) = rsa_key(key_dir, "oidc-other");
        Provider {
            client_id: o.client_id,
            client_secret: o.client_secret,
            redirect_uri: o.redirect_uri,
            signed_in: None,
            key,
            other_key,
            kid: new_id(),
            codes: Default::default(),
            tamper: None,
        }
    });
    Tenant {
        users,
        client_id: seed.client_id,
        client_secret: Some(seed.client_secret),
        oidc,
        role_assignments,
        role_eligibilities,
        ..Tenant::default()
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut seed, mut key_dir, mut listen) = (None, None, "127.0.0.1:0".to_owned());
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| fail(&format!("{arg} needs a value")));
        match arg.as_str() {
            "--seed" => seed = Some(value),
            "--key-dir" => key_dir = Some(value),
            "--listen" => listen = value,
            _ => fail(&format!("unknown argument {arg}")),
        }
    }
    let seed = seed.unwrap_or_else(|| fail("--seed FILE is required"));
    let key_dir = std::path::PathBuf::from(key_dir.unwrap_or_else(|| fail("--key-dir DIR is required")));
    let text = std::fs::read_to_string(&seed).unwrap_or_else(|e| fail(&format!("{seed}: {e}")));
    let seed: Seed = serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("{seed}: {e}")));
    let listener = tokio::net::TcpListener::bind(&listen).await.unwrap_or_else(|e| fail(&format!("{listen}: {e}")));
    let standin = StandIn::serve(tenant(seed, &key_dir), listener);
    println!("listening on {}/", standin.url());
    println!("issuer {}", standin.issuer());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
}
