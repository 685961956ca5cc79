//! A local stand-in for Microsoft Graph v1.0 and the Microsoft identity platform's token
//! endpoint, on 127.0.0.1, implementing exactly the endpoints `sspr_backends::graph` uses,
//! with the request and response shapes of Microsoft's reference pages:
//!
//! - token endpoint, client credentials with a secret or a certificate assertion:
//!   <https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow>,
//!   <https://learn.microsoft.com/entra/identity-platform/certificate-credentials> (PS256,
//!   `x5t#S256`, claims `aud`/`iss`/`sub`/`jti`/`exp`/`nbf`), token error body (`error`,
//!   `error_description`, `error_codes`);
//! - users, `$filter` with `eq` on `userPrincipalName`/`mail`, `$select`, `$top`, `$search`
//!   with `ConsistencyLevel: eventual`: <https://learn.microsoft.com/en-us/graph/api/user-list>,
//!   <https://learn.microsoft.com/en-us/graph/api/resources/user>,
//!   <https://learn.microsoft.com/en-us/graph/search-query-parameter>;
//! - `transitiveMemberOf` (groups, directory roles with `roleTemplateId`, administrative units;
//!   default and maximum page 100/999; `@odata.nextLink`; limited information for objects the
//!   app may not read): <https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof>,
//!   <https://learn.microsoft.com/en-us/graph/paging>,
//!   <https://learn.microsoft.com/en-us/graph/api/resources/directoryrole>,
//!   <https://learn.microsoft.com/en-us/graph/api/resources/administrativeunit>;
//! - `PATCH /users/{id}` with `passwordProfile`, `204 No Content`:
//!   <https://learn.microsoft.com/en-us/graph/api/user-update>,
//!   <https://learn.microsoft.com/en-us/graph/api/resources/passwordprofile?view=graph-rest-1.0>
//!   (Entra's default complexity: 8 to 256 characters, 3 of upper, lower, digit, symbol);
//! - authentication methods: <https://learn.microsoft.com/en-us/graph/api/authentication-list-emailmethods>,
//!   <https://learn.microsoft.com/en-us/graph/api/authentication-post-emailmethods>,
//!   <https://learn.microsoft.com/en-us/graph/api/authentication-list-phonemethods>,
//!   <https://learn.microsoft.com/en-us/graph/api/authentication-post-phonemethods>,
//!   <https://learn.microsoft.com/en-us/graph/api/phoneauthenticationmethod-update>
//!   (`phoneType` `mobile`, numbers as `+1 2065555555`);
//! - throttling (`429`, `503`, `Retry-After` in seconds):
//!   <https://learn.microsoft.com/graph/throttling>;
//! - errors (`{"error": {"code", "message", "innerError": {"date", "request-id",
//!   "client-request-id"}}}`): <https://learn.microsoft.com/graph/errors>.
//!
//! Verified against this stand-in only: Graph itself is not reachable from the test machine.
//!
//! A test tool, not a library to deploy: the Rust tests start it in-process ([`StandIn::start`]),
//! the portal's e2e and the Python and Node tests run the `sspr-graph-standin` binary
//! (`src/main.rs`), which seeds a tenant from a JSON file.
// A test server: it panics on a poisoned lock or a broken invariant, keeps real time for token
// and assertion expiry, and its many plain data fields are described by the Graph pages above.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]
#![allow(clippy::disallowed_methods)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// A directory object a user is a member of.
#[derive(Clone, Debug)]
pub enum Member {
    Group {
        id: String,
        name: String,
    },
    Role {
        id: String,
        name: String,
        template: String,
    },
    Unit {
        id: String,
        name: String,
    },
    /// A role-assignable group (`isAssignableToRole: true`): the only kind of group a
    /// directory role can be assigned to, or made eligible for.
    RoleAssignableGroup {
        id: String,
        name: String,
    },
    /// An object the application may not read: Graph returns only its type and id.
    Hidden {
        odata_type: &'static str,
        id: String,
    },
}

impl Member {
    fn to_json(&self) -> Value {
        match self {
            Self::Group { id, name } => json!({
                "@odata.type": "#microsoft.graph.group", "id": id, "displayName": name, "isAssignableToRole": null
            }),
            Self::RoleAssignableGroup { id, name } => json!({
                "@odata.type": "#microsoft.graph.group", "id": id, "displayName": name, "isAssignableToRole": true
            }),
            Self::Role { id, name, template } => json!({
                "@odata.type": "#microsoft.graph.directoryRole", "id": id, "displayName": name, "roleTemplateId": template
            }),
            Self::Unit { id, name } => {
                json!({"@odata.type": "#microsoft.graph.administrativeUnit", "id": id, "displayName": name})
            }
            Self::Hidden { odata_type, id } => {
                json!({"@odata.type": odata_type, "id": id, "displayName": null, "roleTemplateId": null})
            }
        }
    }
}

/// A user of the stand-in tenant.
#[derive(Clone, Debug, Default)]
pub struct User {
    pub id: String,
    pub upn: String,
    pub mail: Option<String>,
    pub display_name: String,
    pub account_enabled: bool,
    pub password: String,
    pub force_change: bool,
    pub members_of: Vec<Member>,
    /// (id, address)
    pub email_methods: Vec<(String, String)>,
    /// (id, number as Graph writes it, phoneType)
    pub phone_methods: Vec<(String, String, String)>,
}

/// A role granted to a principal (a user or a role-assignable group) through Entra's unified
/// RBAC: an active assignment (`unifiedRoleAssignment`) or a PIM eligibility
/// (`unifiedRoleEligibilityScheduleInstance`), the shapes of
/// <https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleassignment> and
/// <https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleeligibilityscheduleinstance>.
#[derive(Clone, Debug)]
pub struct RoleGrant {
    pub id: String,
    pub principal_id: String,
    /// A built-in role's template id (built-in roles' definition ids are their template ids),
    /// or a custom role's own id.
    pub role_definition_id: String,
    /// `/` for the tenant, `/administrativeUnits/{id}` or an object's id for a narrower scope.
    pub directory_scope_id: String,
    /// An eligibility whose schedule starts later: `roleEligibilitySchedules` lists it,
    /// `roleEligibilityScheduleInstances` (current instances only) does not yet.
    pub starts_later: bool,
}

impl RoleGrant {
    /// A grant of `role_definition_id` to `principal_id` over `directory_scope_id`.
    pub fn new(principal_id: &str, role_definition_id: &str, directory_scope_id: &str) -> Self {
        Self {
            id: fresh_id(),
            principal_id: principal_id.to_owned(),
            role_definition_id: role_definition_id.to_owned(),
            directory_scope_id: directory_scope_id.to_owned(),
            starts_later: false,
        }
    }

    /// The same grant, its schedule starting later (a future eligibility).
    pub fn starting_later(self) -> Self {
        Self { starts_later: true, ..self }
    }

    fn to_json(&self, kind: RoleKind) -> Value {
        let mut v = json!({
            "id": self.id, "principalId": self.principal_id, "roleDefinitionId": self.role_definition_id,
            "directoryScopeId": self.directory_scope_id, "appScopeId": null,
        });
        let start = if self.starts_later { "2099-01-01T00:00:00Z" } else { "2026-01-01T00:00:00Z" };
        match kind {
            RoleKind::Assignment => v["resourceScope"] = json!(self.directory_scope_id),
            RoleKind::EligibilityInstance => {
                v["memberType"] = json!("Direct");
                v["startDateTime"] = json!(start);
                v["endDateTime"] = Value::Null;
                v["roleEligibilityScheduleId"] = json!(self.id);
            }
            // unifiedRoleEligibilitySchedule: scheduleInfo (requestSchedule), status, createdUsing.
            RoleKind::EligibilitySchedule => {
                v["memberType"] = json!("Direct");
                v["status"] = json!("Provisioned");
                v["createdUsing"] = json!(self.id);
                v["scheduleInfo"] = json!({
                    "startDateTime": start, "recurrence": null,
                    "expiration": {"type": "noExpiration", "endDateTime": null, "duration": null}
                });
            }
        }
        v
    }
}

/// Which `/roleManagement/directory` collection a grant is served from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoleKind {
    Assignment,
    EligibilityInstance,
    EligibilitySchedule,
}

/// A group as `/groups` and `/groups/{id}/owners` serve it: whether it is role-assignable
/// (<https://learn.microsoft.com/en-us/graph/api/resources/group>: `isAssignableToRole`,
/// `$filter` `eq`, `ne`, `not`) and its owners' object ids.
#[derive(Clone, Debug, Default)]
pub struct GroupRecord {
    pub id: String,
    pub role_assignable: bool,
    pub owners: Vec<String>,
}

/// A PIM for Groups eligibility (`privilegedAccessGroupEligibilitySchedule`,
/// <https://learn.microsoft.com/en-us/graph/api/resources/privilegedaccessgroupeligibilityschedule>):
/// `principal_id` may activate membership (`accessId` `member`) or ownership (`owner`) of `group_id`.
#[derive(Clone, Debug)]
pub struct GroupEligibility {
    pub id: String,
    pub principal_id: String,
    pub group_id: String,
    /// `member` or `owner`.
    pub access_id: String,
}

impl GroupEligibility {
    /// `principal_id` eligible for `access_id` (`member` or `owner`) of `group_id`.
    pub fn new(principal_id: &str, group_id: &str, access_id: &str) -> Self {
        Self {
            id: format!("{group_id}_{access_id}_{}", fresh_id()),
            principal_id: principal_id.to_owned(),
            group_id: group_id.to_owned(),
            access_id: access_id.to_owned(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id, "principalId": self.principal_id, "groupId": self.group_id, "accessId": self.access_id,
            "memberType": "direct", "status": "Provisioned", "createdUsing": self.id,
            "scheduleInfo": {"startDateTime": "2026-01-01T00:00:00Z", "recurrence": null,
                             "expiration": {"type": "noExpiration", "endDateTime": null, "duration": null}},
        })
    }
}

/// A scripted fault for the next Graph (not token) requests.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and `Retry-After` (seconds), the request not executed.
    Throttle { status: u16, retry_after: Option<u64> },
    /// Wait this long before answering.
    Delay(Duration),
    /// Answer `404 Request_ResourceNotFound`, the request not executed (a faulty Graph, or
    /// one whose replicas do not yet agree that the user exists).
    NotFound,
}

/// What the tests inspect and script.
#[derive(Default)]
pub struct Tenant {
    pub users: Vec<User>,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The certificate's SHA-256 thumbprint (base64url) and RSA public key (PKCS#1 DER).
    pub certificate: Option<(String, Vec<u8>)>,
    pub token_lifetime_secs: u64,
    /// Issued tokens and when the stand-in stops accepting each.
    pub tokens: HashMap<String, Instant>,
    pub token_requests: u32,
    /// Every Graph request: method, path and decoded query.
    pub requests: Vec<(String, String, String)>,
    pub unauthorized_answers: u32,
    pub faults: VecDeque<Fault>,
    /// The page size of transitiveMemberOf (Graph's default is 100).
    pub page_size: usize,
    /// Answer transitiveMemberOf with 403 for these user ids.
    pub forbid_memberships: Vec<String>,
    /// Active role assignments (`/roleManagement/directory/roleAssignments`).
    pub role_assignments: Vec<RoleGrant>,
    /// PIM eligibilities (`/roleManagement/directory/roleEligibilitySchedules`, and
    /// `roleEligibilityScheduleInstances` for those not [`RoleGrant::starts_later`]).
    pub role_eligibilities: Vec<RoleGrant>,
    /// Answer roleAssignments with 403, as a tenant that did not grant the application
    /// `RoleManagement.Read.Directory` would.
    pub forbid_role_assignments: bool,
    /// Answer roleEligibilityScheduleInstances and roleEligibilitySchedules with 403 (no
    /// `RoleEligibilitySchedule.Read.Directory`).
    pub forbid_role_eligibilities: bool,
    /// Answer roleEligibilityScheduleInstances, roleEligibilitySchedules and PIM for Groups'
    /// eligibilitySchedules as a tenant without Entra ID P2 (no PIM) does: `400` with the code
    /// `AadPremiumLicenseRequired`.
    pub no_pim_license: bool,
    /// Groups with their owners (`/groups?$filter=isAssignableToRole eq true`,
    /// `/groups/{id}/owners`). Membership stays in [`User::members_of`].
    pub groups: Vec<GroupRecord>,
    /// Answer `/groups` and `/groups/{id}/owners` with 403 (no `GroupMember.Read.All`).
    pub forbid_groups: bool,
    /// PIM for Groups eligibilities
    /// (`/identityGovernance/privilegedAccess/group/eligibilitySchedules`).
    pub group_eligibilities: Vec<GroupEligibility>,
    /// Answer PIM for Groups' eligibilitySchedules with 403 (no
    /// `PrivilegedEligibilitySchedule.Read.AzureADGroup`).
    pub forbid_group_eligibilities: bool,
    /// Every nextLink points at this other origin instead of the stand-in.
    pub foreign_next_link: Option<String>,
    /// transitiveMemberOf's entries come without `@odata.type` (a faulty Graph, or a proxy
    /// that asked for `odata.metadata=none`).
    pub untyped_memberships: bool,
    /// Refuse every token (as after a credential rotation at the tenant).
    pub reject_all_tokens: bool,
    /// Every Graph request body received (the tests check what left sspr).
    pub bodies: Vec<String>,
    /// Every token request body received.
    pub token_bodies: Vec<String>,
    /// The OpenID provider side, when a test uses it.
    pub oidc: Option<Provider>,
}

/// How a test makes the provider's ID token wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// Signed with another key under the published key's id.
    ForeignKey,
    Audience,
    Issuer,
    Expired,
    Nonce,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 keyed with the public modulus (the classic algorithm confusion).
    Hmac,
    /// A valid token whose `oid` is another account's object id (an account, e.g. a guest,
    /// whose `preferred_username` names the victim's login).
    ForeignObjectId,
    /// A provider that ignores `prompt=login` and `max_age`: its session answers, and
    /// `auth_time` is the session's start, half an hour ago.
    StaleAuthTime,
    /// An ID token without `auth_time` (Entra without the optional claim).
    NoAuthTime,
    /// A key id the key set does not hold.
    UnknownKid,
    /// `exp`, `nbf`, `iat` and `auth_time` at the end of `i64` (a provider's bug).
    FarFuture,
}

/// The OpenID provider: who is signed in at the "login page", the app registered, the keys.
pub struct Provider {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    /// The user (by UPN) who signs in when the browser reaches /authorize.
    pub signed_in: Option<String>,
    pub key: ring::signature::RsaKeyPair,
    pub other_key: ring::signature::RsaKeyPair,
    pub kid: String,
    /// The codes issued by /authorize and not yet redeemed.
    pub codes: HashMap<String, IssuedCode>,
    pub tamper: Option<Tamper>,
}

/// What an authorization code stands for until the token endpoint redeems it.
pub struct IssuedCode {
    pub user_id: String,
    pub upn: String,
    pub display_name: String,
    pub nonce: String,
    pub challenge: String,
    pub redirect_uri: String,
    /// When the user last entered their credentials at the "login page" (Unix seconds).
    pub auth_time: i64,
}

/// How long ago the provider's session began when the request does not ask for a fresh
/// sign-in: the user signed in to the provider half an hour before (single sign-on).
pub const SESSION_AGE_SECS: i64 = 1800;

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[derive(Clone)]
pub struct StandIn {
    pub tenant: Arc<Mutex<Tenant>>,
    pub addr: SocketAddr,
    pub tenant_id: String,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn fresh_id() -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-0000-4000-8000-{:012x}", n, n * 7919)
}

/// Graph's error body.
fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message, "innerError": {
        "date": "2026-12-05T01:00:00", "request-id": fresh_id(), "client-request-id": fresh_id()
    }}});
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

impl StandIn {
    /// Start on a free port of 127.0.0.1, serving until the runtime ends.
    pub async fn start(tenant: Tenant) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(tenant, listener)
    }

    /// Serve on `listener` until the runtime ends.
    pub fn serve(tenant: Tenant, listener: tokio::net::TcpListener) -> Self {
        let tenant = Arc::new(Mutex::new(Tenant {
            page_size: if tenant.page_size == 0 { 100 } else { tenant.page_size },
            token_lifetime_secs: if tenant.token_lifetime_secs == 0 { 3599 } else { tenant.token_lifetime_secs },
            ..tenant
        }));
        let addr = listener.local_addr().unwrap();
        let tenant_id = "contoso.onmicrosoft.com".to_owned();
        let standin = Self { tenant, addr, tenant_id };
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery))
            .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
            .route("/{tenant}/discovery/v2.0/keys", get(keys))
            .route("/v1.0/users", get(list_users))
            .route("/v1.0/users/{id}", patch(update_user))
            .route("/v1.0/users/{id}/transitiveMemberOf", get(member_of))
            .route("/v1.0/roleManagement/directory/roleAssignments", get(role_assignments))
            .route("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances", get(role_eligibilities))
            .route("/v1.0/roleManagement/directory/roleEligibilitySchedules", get(role_eligibility_schedules))
            .route("/v1.0/groups", get(list_groups))
            .route("/v1.0/groups/{id}/owners", get(group_owners))
            .route("/v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules", get(group_eligibilities))
            .route("/v1.0/users/{id}/authentication/emailMethods", get(list_emails).post(add_email))
            .route("/v1.0/users/{id}/authentication/emailMethods/{method}", patch(update_email).delete(delete_email))
            .route("/v1.0/users/{id}/authentication/phoneMethods", get(list_phones).post(add_phone))
            .route("/v1.0/users/{id}/authentication/phoneMethods/{method}", patch(update_phone).delete(delete_phone))
            // Not Entra's: who the browser is signed in as at the provider, set by the e2e
            // (the in-process tests set `Provider::signed_in` directly).
            .route("/_standin/signed-in", post(set_signed_in))
            .with_state(standin.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        standin
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Tenant) -> T) -> T {
        f(&mut self.tenant.lock().unwrap())
    }

    pub fn user(&self, id: &str) -> User {
        self.with(|t| t.users.iter().find(|u| u.id == id).cloned().unwrap())
    }
}

// ---- the token endpoint ----

async fn token(State(s): State<StandIn>, Path(tenant): Path<String>, uri: Uri, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let refuse = |code: &str, number: u64, text: &str| {
        json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": code, "error_description": format!("AADSTS{number}: {text}"), "error_codes": [number],
                   "timestamp": "2026-12-05 01:00:00Z", "trace_id": fresh_id(), "correlation_id": fresh_id()}),
        )
    };
    if form.get("grant_type").map(String::as_str) == Some("authorization_code") {
        return redeem_code(&s, &form);
    }
    let mut t = s.tenant.lock().unwrap();
    t.token_requests += 1;
    t.token_bodies.push(String::from_utf8_lossy(&body).into_owned());
    if tenant != s.tenant_id {
        return refuse("invalid_request", 90002, "Tenant not found.");
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials")
        || form.get("scope").map(String::as_str) != Some(&format!("{}/.default", s.url()))
    {
        return json_response(StatusCode::BAD_REQUEST, json!({"error": "invalid_request", "error_codes": [900144]}));
    }
    if form.get("client_id") != Some(&t.client_id) {
        return refuse("unauthorized_client", 700016, "Application not found in the directory.");
    }
    let accepted = match (form.get("client_secret"), form.get("client_assertion"), &t.certificate) {
        (Some(secret), None, _) => t.client_secret.as_ref() == Some(secret),
        (None, Some(assertion), Some((thumbprint, key))) => {
            form.get("client_assertion_type").map(String::as_str)
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                && assertion_ok(assertion, thumbprint, key, &format!("{}{}", s.url(), uri.path()), &t.client_id)
        }
        _ => false,
    };
    if !accepted {
        return refuse("invalid_client", 7000215, "Invalid client secret provided.");
    }
    let token = format!("eyJ0eXAiOiJKV1Qi.{}.sig", fresh_id());
    let lifetime = t.token_lifetime_secs;
    t.tokens.insert(token.clone(), Instant::now() + Duration::from_secs(lifetime));
    json_response(
        StatusCode::OK,
        json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}),
    )
}

/// Check a client assertion as the identity platform does: PS256 over header.claims with the
/// registered certificate's key, `x5t#S256` naming it, `aud` the token endpoint, `iss` and
/// `sub` the client id, not expired, a `jti`.
fn assertion_ok(jwt: &str, thumbprint: &str, key: &[u8], audience: &str, client_id: &str) -> bool {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else { return false };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).ok();
    let (Some(h), Some(c), Some(sig)) = (decode(header), decode(claims), decode(signature)) else { return false };
    let (Ok(h), Ok(c)) = (serde_json::from_slice::<Value>(&h), serde_json::from_slice::<Value>(&c)) else {
        return false;
    };
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PSS_2048_8192_SHA256, key);
    let signed = public.verify(format!("{header}.{claims}").as_bytes(), &sig).is_ok();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    signed
        && h["alg"] == "PS256"
        && h["x5t#S256"] == thumbprint
        && c["aud"] == audience
        && c["iss"] == client_id
        && c["sub"] == client_id
        && c["jti"].as_str().is_some_and(|j| !j.is_empty())
        && c["exp"].as_i64().is_some_and(|exp| exp > now)
}

// ---- the OpenID provider (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow,
// https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference,
// https://openid.net/specs/openid-connect-discovery-1_0.html, RFC 7636 PKCE) ----

impl StandIn {
    /// The issuer its ID tokens name: `{url}/{tenant}/v2.0`, as Entra's v2.0 endpoint does.
    pub fn issuer(&self) -> String {
        format!("{}/{}/v2.0", self.url(), self.tenant_id)
    }
}

async fn discovery(State(s): State<StandIn>, Path(tenant): Path<String>) -> Response {
    if tenant != s.tenant_id {
        return graph_error(StatusCode::BAD_REQUEST, "invalid_tenant", "Tenant not found.");
    }
    let base = format!("{}/{tenant}", s.url());
    json_response(
        StatusCode::OK,
        json!({
            "issuer": s.issuer(),
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "code_challenge_methods_supported": ["plain", "S256"],
        }),
    )
}

async fn authorize(State(s): State<StandIn>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw.as_deref());
    let mut t = s.tenant.lock().unwrap();
    let users = t.users.clone();
    let Some(p) = t.oidc.as_mut() else { return StatusCode::NOT_FOUND.into_response() };
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != p.client_id || get("redirect_uri") != p.redirect_uri {
        return (StatusCode::BAD_REQUEST, "AADSTS50011: The redirect URI does not match.").into_response();
    }
    if get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
        || !get("scope").split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "AADSTS900144: invalid request").into_response();
    }
    let Some(upn) = p.signed_in.clone() else { return (StatusCode::UNAUTHORIZED, "nobody signed in").into_response() };
    let Some(user) = users.iter().find(|u| u.upn == upn) else { return StatusCode::UNAUTHORIZED.into_response() };
    // The login page asks for the credentials again when told to (`prompt=login`, or a
    // `max_age` shorter than the session's age), as Entra does; else the session answers.
    let now = unix_now();
    let max_age = get("max_age").parse::<i64>().ok();
    let fresh = get("prompt").split(' ').any(|p| p == "login") || max_age.is_some_and(|age| age < SESSION_AGE_SECS);
    let auth_time = if fresh && p.tamper != Some(Tamper::StaleAuthTime) { now } else { now - SESSION_AGE_SECS };
    let code = format!("0.A{}", fresh_id());
    p.codes.insert(
        code.clone(),
        IssuedCode {
            user_id: user.id.clone(),
            upn: user.upn.clone(),
            display_name: user.display_name.clone(),
            nonce: get("nonce"),
            challenge: get("code_challenge"),
            redirect_uri: get("redirect_uri"),
            auth_time,
        },
    );
    let mut back = url::Url::parse(&p.redirect_uri).unwrap();
    back.query_pairs_mut().append_pair("code", &code).append_pair("state", &get("state"));
    (StatusCode::FOUND, [("location", back.to_string())]).into_response()
}

/// `POST /_standin/signed-in` with a UPN as the body (empty: nobody): the account the
/// provider's "login page" has signed in, so `/authorize` redirects straight back for it.
async fn set_signed_in(State(s): State<StandIn>, body: Bytes) -> Response {
    let upn = String::from_utf8_lossy(&body).trim().to_owned();
    let mut t = s.tenant.lock().unwrap();
    if !upn.is_empty() && !t.users.iter().any(|u| u.upn == upn) {
        return (StatusCode::BAD_REQUEST, "no such user").into_response();
    }
    let Some(p) = t.oidc.as_mut() else { return StatusCode::NOT_FOUND.into_response() };
    p.signed_in = (!upn.is_empty()).then_some(upn);
    StatusCode::NO_CONTENT.into_response()
}

fn jwk(key: &ring::signature::RsaKeyPair, kid: &str) -> Value {
    use ring::signature::KeyPair as _;
    let public = key.public_key();
    let components: ring::rsa::PublicKeyComponents<Vec<u8>> = public.into();
    json!({"kty": "RSA", "use": "sig", "kid": kid, "n": URL_SAFE_NO_PAD.encode(components.n), "e": URL_SAFE_NO_PAD.encode(components.e)})
}

async fn keys(State(s): State<StandIn>) -> Response {
    let t = s.tenant.lock().unwrap();
    let Some(p) = t.oidc.as_ref() else { return StatusCode::NOT_FOUND.into_response() };
    json_response(StatusCode::OK, json!({"keys": [jwk(&p.key, &p.kid)]}))
}

fn redeem_code(s: &StandIn, form: &HashMap<String, String>) -> Response {
    let mut t = s.tenant.lock().unwrap();
    let Some(p) = t.oidc.as_mut() else { return StatusCode::NOT_FOUND.into_response() };
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let refuse = |error: &str, text: &str| {
        json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": error, "error_description": text, "error_codes": [70008]}),
        )
    };
    if get("client_id") != p.client_id || get("client_secret") != p.client_secret {
        return refuse("invalid_client", "AADSTS7000215: Invalid client secret provided.");
    }
    // A code is used once.
    let Some(IssuedCode { user_id: oid, upn, display_name: name, nonce, challenge, redirect_uri: redirect, auth_time }) =
        p.codes.remove(&get("code"))
    else {
        return refuse("invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired.");
    };
    if redirect != get("redirect_uri") {
        return refuse("invalid_grant", "AADSTS50148: redirect_uri mismatch.");
    }
    use sha2::Digest as _;
    if URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(get("code_verifier").as_bytes())) != challenge {
        return refuse("invalid_grant", "AADSTS50148: The code_verifier does not match the code_challenge.");
    }
    let now = unix_now();
    let tamper = p.tamper;
    let mut claims = json!({
        "ver": "2.0", "iss": s.issuer(), "sub": format!("sub-{oid}"), "aud": p.client_id, "exp": now + 3600,
        "iat": now, "nbf": now, "name": name, "preferred_username": upn, "oid": oid, "tid": s.tenant_id, "nonce": nonce,
        "auth_time": auth_time,
    });
    match tamper {
        Some(Tamper::Audience) => claims["aud"] = json!("another-app"),
        Some(Tamper::Issuer) => claims["iss"] = json!("https://login.microsoftonline.com/other-tenant/v2.0"),
        Some(Tamper::Expired) => claims["exp"] = json!(now - 600),
        Some(Tamper::Nonce) => claims["nonce"] = json!("not-the-nonce"),
        Some(Tamper::ForeignObjectId) => claims["oid"] = json!("00000000-0000-0000-0000-0000000f0e19"),
        Some(Tamper::NoAuthTime) => _ = claims.as_object_mut().unwrap().remove("auth_time"),
        Some(Tamper::FarFuture) => {
            for claim in ["exp", "nbf", "iat", "auth_time"] {
                claims[claim] = json!(i64::MAX);
            }
        }
        _ => {}
    }
    let kid = if tamper == Some(Tamper::UnknownKid) { "rolled-away".to_owned() } else { p.kid.clone() };
    let alg = match tamper {
        Some(Tamper::AlgNone) => "none",
        Some(Tamper::Hmac) => "HS256",
        _ => "RS256",
    };
    let header = json!({"typ": "JWT", "alg": alg, "kid": kid});
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = match tamper {
        Some(Tamper::AlgNone) => Vec::new(),
        Some(Tamper::Hmac) => {
            let n = jwk(&p.key, &p.kid)["n"].as_str().unwrap().to_owned();
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, n.as_bytes());
            ring::hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
        }
        _ => {
            let key = if tamper == Some(Tamper::ForeignKey) { &p.other_key } else { &p.key };
            let mut sig = vec![0; key.public().modulus_len()];
            key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut sig)
                .unwrap();
            sig
        }
    };
    let id_token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
    json_response(
        StatusCode::OK,
        json!({"token_type": "Bearer", "scope": "openid profile", "expires_in": 3599, "access_token": format!("at-{}", fresh_id()), "id_token": id_token}),
    )
}

/// An RSA key made by openssl: its PKCS#8 PEM file and the key pair.
pub fn rsa_key(dir: &std::path::Path, name: &str) -> (std::path::PathBuf, ring::signature::RsaKeyPair) {
    let key = dir.join(format!("{name}.key"));
    let out = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.to_str().unwrap()])
        .output()
        .expect("openssl is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pem = std::fs::read(&key).unwrap();
    let der = rustls_pemfile::pkcs8_private_keys(&mut pem.as_slice()).next().unwrap().unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
    (key, pair)
}

// ---- Graph: authorization, faults, logging ----

/// The checks every Graph request passes first: a valid bearer token (else 401
/// `InvalidAuthenticationToken`), then the next scripted fault.
async fn admit(s: &StandIn, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let fault = {
        let mut t = s.tenant.lock().unwrap();
        let query = uri
            .query()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes()).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
            })
            .unwrap_or_default();
        t.requests.push((method.to_string(), uri.path().to_owned(), query));
        if !body.is_empty() {
            t.bodies.push(String::from_utf8_lossy(body).into_owned());
        }
        let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let valid =
            !t.reject_all_tokens && bearer.and_then(|b| t.tokens.get(b)).is_some_and(|exp| Instant::now() < *exp);
        if !valid {
            t.unauthorized_answers += 1;
            return Some(graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            ));
        }
        t.faults.pop_front()
    };
    match fault {
        Some(Fault::Throttle { status, retry_after }) => {
            let status = StatusCode::from_u16(status).unwrap();
            let (code, message) = if status == StatusCode::TOO_MANY_REQUESTS {
                ("TooManyRequests", "Too many requests.")
            } else {
                ("serviceNotAvailable", "Service unavailable.")
            };
            let mut response = graph_error(status, code, message);
            if let Some(secs) = retry_after {
                response.headers_mut().insert("retry-after", secs.to_string().parse().unwrap());
            }
            Some(response)
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(Fault::NotFound) => Some(not_found(uri.path())),
        None => None,
    }
}

fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn user_json(u: &User, select: Option<&str>) -> Value {
    let full = json!({
        "id": u.id, "userPrincipalName": u.upn, "mail": u.mail, "displayName": u.display_name,
        "accountEnabled": u.account_enabled, "onPremisesDistinguishedName": null,
    });
    match select {
        // $select returns only the named properties (and always id).
        Some(select) => {
            let mut out = serde_json::Map::new();
            for name in select.split(',').map(str::trim).chain(["id"]) {
                if let Some(v) = full.get(name) {
                    out.insert(name.to_owned(), v.clone());
                }
            }
            Value::Object(out)
        }
        None => full,
    }
}

/// Parse `prop eq 'literal'` clauses joined by ` or ` (OData ABNF: `'` doubled inside).
fn parse_filter(filter: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = filter;
    loop {
        let (prop, after) = rest.split_once(" eq '")?;
        // Graph reads property names in any case.
        let prop = match prop.to_ascii_lowercase().as_str() {
            "userprincipalname" => "userPrincipalName",
            "mail" => "mail",
            _ => return None,
        };
        let mut value = String::new();
        let mut chars = after.char_indices().peekable();
        let end = loop {
            let (i, c) = chars.next()?;
            if c == '\'' {
                if chars.peek().map(|(_, c)| *c) == Some('\'') {
                    chars.next();
                    value.push('\'');
                } else {
                    break i + 1;
                }
            } else {
                value.push(c);
            }
        };
        out.push((prop.to_owned(), value));
        rest = &after[end..];
        if rest.is_empty() {
            return Some(out);
        }
        rest = rest.strip_prefix(" or ")?;
    }
}

/// Parse `"prop:term" OR "prop:term"` (backslash escapes inside the quotes).
fn parse_search(search: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = search;
    loop {
        rest = rest.strip_prefix('"')?;
        let mut clause = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (_, '\\') => clause.push(chars.next()?.1),
                (i, '"') => break i + 1,
                (_, c) => clause.push(c),
            }
        };
        let (prop, term) = clause.split_once(':')?;
        out.push((prop.to_owned(), term.to_lowercase()));
        rest = &rest[end..];
        if rest.is_empty() {
            return Some(out);
        }
        rest = rest.strip_prefix(" OR ")?;
    }
}

/// Graph's `$search` on these properties matches a word by its prefix (words split at
/// anything but letters and digits).
fn word_prefix_match(value: &str, term: &str) -> bool {
    let value = value.to_lowercase();
    let mut previous_alnum = false;
    for (i, c) in value.char_indices() {
        if !previous_alnum && value[i..].starts_with(term) {
            return true;
        }
        previous_alnum = c.is_alphanumeric();
    }
    false
}

async fn list_users(
    State(s): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let q = query_map(raw.as_deref());
    let top: usize = q.get("$top").and_then(|t| t.parse().ok()).unwrap_or(100);
    if top > 999 {
        return graph_error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", "Invalid page size specified.");
    }
    let t = s.tenant.lock().unwrap();
    let matching: Vec<&User> = if let Some(filter) = q.get("$filter") {
        let Some(clauses) = parse_filter(filter) else {
            return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid filter clause");
        };
        t.users
            .iter()
            .filter(|u| {
                clauses.iter().any(|(prop, v)| match prop.as_str() {
                    "userPrincipalName" => u.upn.eq_ignore_ascii_case(v),
                    _ => u.mail.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(v)),
                })
            })
            .collect()
    } else if let Some(search) = q.get("$search") {
        if headers.get("consistencylevel").and_then(|v| v.to_str().ok()) != Some("eventual") {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            );
        }
        let Some(clauses) = parse_search(search) else {
            return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Syntax error in $search");
        };
        t.users
            .iter()
            .filter(|u| {
                clauses.iter().any(|(prop, term)| match prop.as_str() {
                    "displayName" => word_prefix_match(&u.display_name, term),
                    "userPrincipalName" => word_prefix_match(&u.upn, term),
                    _ => false,
                })
            })
            .collect()
    } else {
        t.users.iter().collect()
    };
    let select = q.get("$select").map(String::as_str);
    let value: Vec<Value> = matching.iter().take(top).map(|u| user_json(u, select)).collect();
    json_response(
        StatusCode::OK,
        json!({"@odata.context": format!("{}/v1.0/$metadata#users", s.url()), "value": value}),
    )
}

fn complex_enough(password: &str) -> bool {
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    (8..=256).contains(&password.chars().count()) && classes.iter().filter(|c| **c).count() >= 3
}

fn not_found(id: &str) -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    )
}

async fn update_user(
    State(s): State<StandIn>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &body).await {
        return refused;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Unable to read JSON request payload.");
    };
    let mut t = s.tenant.lock().unwrap();
    let Some(user) = t.users.iter_mut().find(|u| u.id == id) else { return not_found(&id) };
    let profile = &body["passwordProfile"];
    let (Some(password), Some(force)) =
        (profile["password"].as_str(), profile["forceChangePasswordNextSignIn"].as_bool())
    else {
        return graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest", "Invalid passwordProfile.");
    };
    if !complex_enough(password) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        );
    }
    user.password = password.to_owned();
    user.force_change = force;
    StatusCode::NO_CONTENT.into_response()
}

async fn member_of(
    State(s): State<StandIn>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let q = query_map(raw.as_deref());
    let t = s.tenant.lock().unwrap();
    if t.forbid_memberships.contains(&id) {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let Some(user) = t.users.iter().find(|u| u.id == id) else { return not_found(&id) };
    let top: usize = q.get("$top").and_then(|t| t.parse().ok()).unwrap_or(100).min(999);
    let page = top.min(t.page_size);
    let skip: usize = q.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let mut value: Vec<Value> = user.members_of.iter().skip(skip).take(page).map(Member::to_json).collect();
    if t.untyped_memberships {
        for entry in &mut value {
            entry.as_object_mut().map(|e| e.remove("@odata.type"));
        }
    }
    let mut body = json!({"@odata.context": format!("{}/v1.0/$metadata#directoryObjects", s.url()), "value": value});
    if skip + page < user.members_of.len() {
        let origin = t.foreign_next_link.clone().unwrap_or_else(|| s.url());
        let select = q.get("$select").cloned().unwrap_or_default();
        body["@odata.nextLink"] = json!(format!(
            "{origin}/v1.0/users/{id}/transitiveMemberOf?%24select={select}&%24top={top}&%24skiptoken={}",
            skip + page
        ));
    }
    json_response(StatusCode::OK, body)
}

// ---- unified RBAC: role assignments and PIM eligibilities ----

/// `principalId eq '<id>'`, or `principalId in ('<id>', ...)` when `in` is allowed (the
/// assignments' `principalId` supports `eq` and `in`, the eligibility instances' `eq` and
/// `ne` only, per the two resource pages).
fn parse_principal_filter(filter: &str, allow_in: bool) -> Option<Vec<String>> {
    let (prop, rest) = filter.trim().split_once(' ')?;
    if !prop.eq_ignore_ascii_case("principalId") {
        return None;
    }
    let rest = rest.trim_start();
    let literal = |text: &str| -> Option<String> {
        let inner = text.trim().strip_prefix('\'')?.strip_suffix('\'')?;
        if inner.replace("''", "").contains('\'') {
            return None;
        }
        Some(inner.replace("''", "'"))
    };
    if let Some(value) = rest.strip_prefix("eq ") {
        return Some(vec![literal(value)?]);
    }
    let list = rest.strip_prefix("in ")?.trim().strip_prefix('(')?.strip_suffix(')')?;
    if !allow_in {
        return None;
    }
    list.split(',').map(literal).collect()
}

async fn role_assignments(
    State(s): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    role_collection(s, method, uri, headers, raw, RoleKind::Assignment).await
}

async fn role_eligibilities(
    State(s): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    role_collection(s, method, uri, headers, raw, RoleKind::EligibilityInstance).await
}

/// `roleEligibilitySchedules`: every eligibility, its schedule started or not
/// (<https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleeligibilityschedules>;
/// `principalId` supports `$filter` `eq` and `ne`, per
/// <https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleeligibilityschedule>).
async fn role_eligibility_schedules(
    State(s): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    role_collection(s, method, uri, headers, raw, RoleKind::EligibilitySchedule).await
}

async fn role_collection(
    s: StandIn,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Option<String>,
    kind: RoleKind,
) -> Response {
    let eligibility = kind != RoleKind::Assignment;
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let q = query_map(raw.as_deref());
    let t = s.tenant.lock().unwrap();
    if (eligibility && t.forbid_role_eligibilities) || (!eligibility && t.forbid_role_assignments) {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    if eligibility && t.no_pim_license {
        // As Graph answers it (seen in the wild, e.g. maester365/maester#1421).
        return graph_error(
            StatusCode::BAD_REQUEST,
            "AadPremiumLicenseRequired",
            "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
        );
    }
    let principals = match q.get("$filter") {
        Some(filter) => match parse_principal_filter(filter, !eligibility) {
            Some(p) => Some(p),
            None => return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid filter clause"),
        },
        None => None,
    };
    let grants = if eligibility { &t.role_eligibilities } else { &t.role_assignments };
    let matching: Vec<&RoleGrant> = grants
        .iter()
        .filter(|g| principals.as_ref().is_none_or(|p| p.iter().any(|id| id.eq_ignore_ascii_case(&g.principal_id))))
        // The instances are the current ones: a schedule that starts later has none yet.
        .filter(|g| kind != RoleKind::EligibilityInstance || !g.starts_later)
        .collect();
    let skip: usize = q.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let page = t.page_size;
    let value: Vec<Value> = matching.iter().skip(skip).take(page).map(|g| g.to_json(kind)).collect();
    let collection = match kind {
        RoleKind::Assignment => "roleAssignments",
        RoleKind::EligibilityInstance => "roleEligibilityScheduleInstances",
        RoleKind::EligibilitySchedule => "roleEligibilitySchedules",
    };
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#roleManagement/directory/{collection}", s.url()),
        "value": value,
    });
    if skip + page < matching.len() {
        let origin = t.foreign_next_link.clone().unwrap_or_else(|| s.url());
        let mut next = form_urlencoded::Serializer::new(String::new());
        for (k, v) in q.iter().filter(|(k, _)| *k != "$skiptoken") {
            next.append_pair(k, v);
        }
        next.append_pair("$skiptoken", &(skip + page).to_string());
        body["@odata.nextLink"] =
            json!(format!("{origin}/v1.0/roleManagement/directory/{collection}?{}", next.finish()));
    }
    json_response(StatusCode::OK, body)
}

/// The next-page link of a collection served from `path`, `skip` items on: the query as
/// asked, with `$skiptoken` replaced (the origin a test may have made foreign).
fn next_link(s: &StandIn, t: &Tenant, path: &str, q: &HashMap<String, String>, skip: usize) -> String {
    let origin = t.foreign_next_link.clone().unwrap_or_else(|| s.url());
    let mut next = form_urlencoded::Serializer::new(String::new());
    let mut keys: Vec<&String> = q.keys().filter(|k| *k != "$skiptoken").collect();
    keys.sort();
    for k in keys {
        next.append_pair(k, &q[k]);
    }
    next.append_pair("$skiptoken", &skip.to_string());
    format!("{origin}/v1.0/{path}?{}", next.finish())
}

fn forbidden() -> Response {
    graph_error(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// The most items `$expand` returns for a directory object's relationship, with no nextLink
/// (<https://learn.microsoft.com/en-us/graph/query-parameters#expand-parameter>: "typically
/// returns a maximum of 20 items for the expanded relationship").
pub const EXPAND_LIMIT: usize = 20;

/// `GET /groups?$filter=isAssignableToRole eq true&$select=id&$expand=owners($select=id)`
/// (<https://learn.microsoft.com/en-us/graph/api/group-list>, application permission
/// `GroupMember.Read.All`). Only that filter is served (anything else is a `400`, so a changed
/// query shows); a page of `$expand` holds at most 100 groups, each with at most
/// [`EXPAND_LIMIT`] owners.
async fn list_groups(
    State(s): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let q = query_map(raw.as_deref());
    let t = s.tenant.lock().unwrap();
    if t.forbid_groups {
        return forbidden();
    }
    let filter = q.get("$filter").map(|f| f.split_whitespace().collect::<Vec<_>>().join(" "));
    if filter.as_deref().map(str::to_ascii_lowercase).as_deref() != Some("isassignabletorole eq true") {
        return graph_error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", "Unsupported query.");
    }
    let expand_owners = q.get("$expand").is_some_and(|e| e.starts_with("owners"));
    let matching: Vec<&GroupRecord> = t.groups.iter().filter(|g| g.role_assignable).collect();
    let skip: usize = q.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let page = if expand_owners { t.page_size.min(100) } else { t.page_size };
    let value: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(page)
        .map(|g| {
            let mut v = json!({"id": g.id});
            if expand_owners {
                let owners: Vec<Value> = g
                    .owners
                    .iter()
                    .take(EXPAND_LIMIT)
                    .map(|o| json!({"@odata.type": "#microsoft.graph.user", "id": o}))
                    .collect();
                v["owners"] = json!(owners);
            }
            v
        })
        .collect();
    let mut body =
        json!({"@odata.context": format!("{}/v1.0/$metadata#groups(id,owners(id))", s.url()), "value": value});
    if skip + page < matching.len() {
        body["@odata.nextLink"] = json!(next_link(&s, &t, "groups", &q, skip + page));
    }
    json_response(StatusCode::OK, body)
}

/// `GET /groups/{id}/owners?$select=id` (<https://learn.microsoft.com/en-us/graph/api/group-list-owners>,
/// application permission `GroupMember.Read.All`), every owner, in pages.
async fn group_owners(
    State(s): State<StandIn>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let q = query_map(raw.as_deref());
    let t = s.tenant.lock().unwrap();
    if t.forbid_groups {
        return forbidden();
    }
    let Some(group) = t.groups.iter().find(|g| g.id == id) else { return not_found(&id) };
    let skip: usize = q.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let page = t.page_size;
    let value: Vec<Value> = group
        .owners
        .iter()
        .skip(skip)
        .take(page)
        .map(|o| json!({"@odata.type": "#microsoft.graph.user", "id": o}))
        .collect();
    let mut body = json!({"@odata.context": format!("{}/v1.0/$metadata#directoryObjects", s.url()), "value": value});
    if skip + page < group.owners.len() {
        body["@odata.nextLink"] = json!(next_link(&s, &t, &format!("groups/{id}/owners"), &q, skip + page));
    }
    json_response(StatusCode::OK, body)
}

/// `GET /identityGovernance/privilegedAccess/group/eligibilitySchedules?$filter=principalId eq '…'`
/// (<https://learn.microsoft.com/en-us/graph/api/privilegedaccessgroup-list-eligibilityschedules>:
/// the `$filter` (`eq`) on `principalId` or `groupId` is required; application permission
/// `PrivilegedEligibilitySchedule.Read.AzureADGroup`).
async fn group_eligibilities(
    State(s): State<StandIn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let q = query_map(raw.as_deref());
    let t = s.tenant.lock().unwrap();
    if t.forbid_group_eligibilities {
        return forbidden();
    }
    if t.no_pim_license {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "AadPremiumLicenseRequired",
            "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
        );
    }
    // `principalId eq` only: no `in` (the resource page: "Supports $filter (eq)").
    let Some(principal) = q.get("$filter").and_then(|f| parse_principal_filter(f, false)).and_then(|mut p| p.pop())
    else {
        return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid filter clause");
    };
    let matching: Vec<&GroupEligibility> =
        t.group_eligibilities.iter().filter(|e| e.principal_id.eq_ignore_ascii_case(&principal)).collect();
    let skip: usize = q.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let page = t.page_size;
    let value: Vec<Value> = matching.iter().skip(skip).take(page).map(|e| e.to_json()).collect();
    let path = "identityGovernance/privilegedAccess/group/eligibilitySchedules";
    let mut body = json!({"@odata.context": format!("{}/v1.0/$metadata#{path}", s.url()), "value": value});
    if skip + page < matching.len() {
        body["@odata.nextLink"] = json!(next_link(&s, &t, path, &q, skip + page));
    }
    json_response(StatusCode::OK, body)
}

// ---- authentication methods ----

fn email_json(id: &str, address: &str) -> Value {
    json!({"id": id, "emailAddress": address})
}

fn phone_json(id: &str, number: &str, kind: &str) -> Value {
    json!({"id": id, "phoneNumber": number, "phoneType": kind, "smsSignInState": "notSupported"})
}

/// The fixed ids Graph gives phone methods by type.
fn phone_method_id(kind: &str) -> &'static str {
    match kind {
        "mobile" => "3179e48a-750b-4051-897c-87b9720928f7",
        "alternateMobile" => "b6332ec1-7057-4abe-9331-3d72feddfe41",
        _ => "e37fc753-ff3b-4958-9484-eaa9425c82bc",
    }
}

/// Graph's phone number format: `+<country code> <number>`.
fn valid_phone(number: &str) -> bool {
    number.strip_prefix('+').and_then(|r| r.split_once(' ')).is_some_and(|(cc, rest)| {
        !cc.is_empty() && cc.chars().all(|c| c.is_ascii_digit()) && rest.chars().all(|c| c.is_ascii_digit() || c == ' ')
    })
}

async fn list_emails(
    State(s): State<StandIn>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let t = s.tenant.lock().unwrap();
    let Some(u) = t.users.iter().find(|u| u.id == id) else { return not_found(&id) };
    let value: Vec<Value> = u.email_methods.iter().map(|(i, a)| email_json(i, a)).collect();
    json_response(StatusCode::OK, json!({"value": value}))
}

async fn add_email(
    State(s): State<StandIn>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &body).await {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut t = s.tenant.lock().unwrap();
    let Some(u) = t.users.iter_mut().find(|u| u.id == id) else { return not_found(&id) };
    let Some(address) = body["emailAddress"].as_str().filter(|a| a.contains('@')) else {
        return graph_error(StatusCode::BAD_REQUEST, "badRequest", "Invalid email address.");
    };
    if !u.email_methods.is_empty() {
        return graph_error(StatusCode::CONFLICT, "conflict", "An email method already exists for this user.");
    }
    let method_id = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f".to_owned();
    u.email_methods.push((method_id.clone(), address.to_owned()));
    json_response(StatusCode::CREATED, email_json(&method_id, address))
}

async fn update_email(
    State(s): State<StandIn>,
    Path((id, mid)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &body).await {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut t = s.tenant.lock().unwrap();
    let Some(u) = t.users.iter_mut().find(|u| u.id == id) else { return not_found(&id) };
    let Some(address) = body["emailAddress"].as_str().filter(|a| a.contains('@')) else {
        return graph_error(StatusCode::BAD_REQUEST, "badRequest", "Invalid email address.");
    };
    let Some(m) = u.email_methods.iter_mut().find(|(i, _)| *i == mid) else { return not_found(&mid) };
    m.1 = address.to_owned();
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_email(
    State(s): State<StandIn>,
    Path((id, mid)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let mut t = s.tenant.lock().unwrap();
    let Some(u) = t.users.iter_mut().find(|u| u.id == id) else { return not_found(&id) };
    let before = u.email_methods.len();
    u.email_methods.retain(|(i, _)| *i != mid);
    if u.email_methods.len() == before { not_found(&mid) } else { StatusCode::NO_CONTENT.into_response() }
}

async fn list_phones(
    State(s): State<StandIn>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let t = s.tenant.lock().unwrap();
    let Some(u) = t.users.iter().find(|u| u.id == id) else { return not_found(&id) };
    let value: Vec<Value> = u.phone_methods.iter().map(|(i, n, k)| phone_json(i, n, k)).collect();
    json_response(StatusCode::OK, json!({"value": value}))
}

async fn add_phone(
    State(s): State<StandIn>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &body).await {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut t = s.tenant.lock().unwrap();
    let Some(u) = t.users.iter_mut().find(|u| u.id == id) else { return not_found(&id) };
    let (Some(number), Some(kind)) = (body["phoneNumber"].as_str(), body["phoneType"].as_str()) else {
        return graph_error(StatusCode::BAD_REQUEST, "badRequest", "phoneNumber and phoneType are required.");
    };
    if !valid_phone(number) || !matches!(kind, "mobile" | "alternateMobile" | "office") {
        return graph_error(StatusCode::BAD_REQUEST, "badRequest", "Invalid phone number.");
    }
    if u.phone_methods.iter().any(|(_, _, k)| k == kind) {
        return graph_error(StatusCode::CONFLICT, "conflict", "A phone method of this type already exists.");
    }
    let method_id = phone_method_id(kind).to_owned();
    u.phone_methods.push((method_id.clone(), number.to_owned(), kind.to_owned()));
    json_response(StatusCode::CREATED, phone_json(&method_id, number, kind))
}

async fn update_phone(
    State(s): State<StandIn>,
    Path((id, mid)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &body).await {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut t = s.tenant.lock().unwrap();
    let Some(u) = t.users.iter_mut().find(|u| u.id == id) else { return not_found(&id) };
    let Some(number) = body["phoneNumber"].as_str().filter(|n| valid_phone(n)) else {
        return graph_error(StatusCode::BAD_REQUEST, "badRequest", "Invalid phone number.");
    };
    let Some(m) = u.phone_methods.iter_mut().find(|(i, _, _)| *i == mid) else { return not_found(&mid) };
    m.1 = number.to_owned();
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_phone(
    State(s): State<StandIn>,
    Path((id, mid)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = admit(&s, &method, &uri, &headers, &[]).await {
        return refused;
    }
    let mut t = s.tenant.lock().unwrap();
    let Some(u) = t.users.iter_mut().find(|u| u.id == id) else { return not_found(&id) };
    let before = u.phone_methods.len();
    u.phone_methods.retain(|(i, _, _)| *i != mid);
    if u.phone_methods.len() == before { not_found(&mid) } else { StatusCode::NO_CONTENT.into_response() }
}

/// A user with an id, enabled, in no group.
pub fn user(upn: &str, display_name: &str) -> User {
    User {
        id: fresh_id(),
        upn: upn.to_owned(),
        mail: Some(upn.to_owned()),
        display_name: display_name.to_owned(),
        account_enabled: true,
        password: "Init-Passw0rd-1".into(),
        ..User::default()
    }
}

/// A fresh object id in Graph's GUID shape.
pub fn new_id() -> String {
    fresh_id()
}
