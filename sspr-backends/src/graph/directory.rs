//! [`GraphDirectory`]: Microsoft Entra ID users through Microsoft Graph v1.0, as an
//! application (app-only).

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sspr_core::backend::{
    ADMINISTRATIVE_UNIT_PREFIX, AccountState, Authentication, DirectoryUser, GROUPS_UNRESOLVED, PRIVILEGED_ROLE,
};
use sspr_core::{BackendError, BackendErrorKind, Clock, Directory, NormalizedLogin, Password, SystemClock, UserId};

use super::client::{GraphClient, Reply};
use super::config::GraphConfig;
use super::odata;

/// Before a group's object id in `DirectoryUser::groups`, beside its `CN=<display name>` and
/// `CN=<id>`: the one form no display name can take. Entra display names are not unique and
/// any user may create a group by default (and name it with another group's id), so a group
/// that grants anything (the portal's `admin_groups`) is matched by this entry alone.
pub const GROUP_ID_PREFIX: &str = "sspr:entra-group-id:";

/// The user properties read (`$select`): nothing else leaves Graph.
const USER_SELECT: &str = "id,userPrincipalName,displayName,accountEnabled,onPremisesDistinguishedName,mail";

/// The object id an unknown login's stand-in requests are made for: no object has it.
const NO_OBJECT: &str = "00000000-0000-0000-0000-000000000000";

/// At most this many values in one `principalId in (...)`: Graph's documented limit for the
/// `in` operator on directory objects (the `$filter` known issues, "in ... 15 values").
const MAX_IN_VALUES: usize = 15;

/// A Graph collection read for admin power `transitiveMemberOf` does not show: Entra's
/// unified RBAC (`/roleManagement/directory/...`), PIM for Groups, the role-assignable groups
/// and their owners.
struct RoleCollection {
    path: &'static str,
    /// The least-privileged application permission that reads it.
    permission: &'static str,
    /// Whether `principalId` supports `in` there (else one `eq` request per principal).
    allows_in: bool,
    /// Whether a tenant without Entra ID P2 has none of it: Graph then answers `400`
    /// [`NO_P2_LICENSE`] instead of an empty list, which means "none", not "unreadable".
    empty_without_p2: bool,
}

/// The error code of Graph's `400` for a PIM collection in a tenant without Entra ID P2 or
/// ID Governance (so without PIM: no eligibility can exist there). As Graph answers it, e.g.
/// <https://github.com/maester365/maester/issues/1421>: `{"error":{"code":
/// "AadPremiumLicenseRequired","message":"The tenant needs to have Microsoft Entra ID P2 or
/// Microsoft Entra ID Governance license."}}`.
const NO_P2_LICENSE: &str = "AadPremiumLicenseRequired";

/// Whether the "no P2 licence, so no PIM eligibilities" notice was logged (once a process).
static NO_P2_LOGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Active role assignments, built-in and custom roles, at every scope (tenant `/`, an
/// administrative unit `/administrativeUnits/{id}`, one object):
/// `GET /roleManagement/directory/roleAssignments?$filter=principalId in ('…')`.
/// <https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments> (application
/// permission `RoleManagement.Read.Directory`; `$filter`, `$select`),
/// <https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleassignment> (`principalId`
/// supports `$filter` `eq` and `in`; principals are users, role-assignable groups and service
/// principals).
const ASSIGNMENTS: RoleCollection = RoleCollection {
    path: "roleManagement/directory/roleAssignments",
    permission: "RoleManagement.Read.Directory",
    allows_in: true,
    empty_without_p2: false,
};

/// PIM eligibilities (roles the principal may activate at will), their schedules:
/// `GET /roleManagement/directory/roleEligibilitySchedules?$filter=principalId eq '…'`.
/// <https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleeligibilityschedules>
/// (application permission `RoleEligibilitySchedule.Read.Directory`, least privileged),
/// <https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleeligibilityschedule>
/// (`principalId` supports `$filter` `eq` and `ne` only: no `in`). The schedules, not their
/// instances (`roleEligibilityScheduleInstances`): an instance is made from a schedule when
/// the schedule's period is current, so an eligibility that starts later has a schedule and
/// no instance yet, and whoever holds it can activate the role on that date.
const ELIGIBILITIES: RoleCollection = RoleCollection {
    path: "roleManagement/directory/roleEligibilitySchedules",
    permission: "RoleEligibilitySchedule.Read.Directory",
    allows_in: false,
    empty_without_p2: true,
};

/// PIM for Groups eligibilities: a membership or an ownership (`accessId` `member` or
/// `owner`) of a group the principal may activate at will:
/// `GET /identityGovernance/privilegedAccess/group/eligibilitySchedules?$filter=principalId eq '…'`.
/// <https://learn.microsoft.com/en-us/graph/api/privilegedaccessgroup-list-eligibilityschedules>
/// (the `$filter` (`eq`) on `principalId` or `groupId` is required; application permission
/// `PrivilegedEligibilitySchedule.Read.AzureADGroup`),
/// <https://learn.microsoft.com/en-us/graph/api/resources/privilegedaccessgroupeligibilityschedule>
/// (`principalId`, `groupId`, `accessId`; `$filter` `eq` only). Schedules, not instances, for
/// the reason [`ELIGIBILITIES`] gives. PIM needs Entra ID P2 or ID Governance: a tenant
/// without is taken to answer as it does for role eligibilities (not documented for this
/// collection; any other `400` fails closed).
const GROUP_ELIGIBILITIES: RoleCollection = RoleCollection {
    path: "identityGovernance/privilegedAccess/group/eligibilitySchedules",
    permission: "PrivilegedEligibilitySchedule.Read.AzureADGroup",
    allows_in: false,
    empty_without_p2: true,
};

/// The role-assignable groups (the only groups that can hold a directory role, active or
/// eligible) with their owners:
/// `GET /groups?$filter=isAssignableToRole eq true&$select=id&$expand=owners($select=id)`.
/// <https://learn.microsoft.com/en-us/graph/api/group-list> (application permission
/// `GroupMember.Read.All`), <https://learn.microsoft.com/en-us/graph/api/resources/group>
/// (`isAssignableToRole` supports `$filter` `eq`; `owners` supports `$expand` with a nested
/// `$select`). Read from the groups' side because `GET /users/{id}/ownedObjects` supports no
/// application permission (<https://learn.microsoft.com/en-us/graph/api/user-list-ownedobjects>).
/// The same requests for every login: they name no user.
const ROLE_ASSIGNABLE_GROUPS: RoleCollection =
    RoleCollection { path: "groups", permission: "GroupMember.Read.All", allows_in: false, empty_without_p2: false };

/// A group's owners, all of them, when `$expand` may have cut them:
/// `GET /groups/{id}/owners?$select=id`.
/// <https://learn.microsoft.com/en-us/graph/api/group-list-owners> (application permission
/// `GroupMember.Read.All`).
const GROUP_OWNERS: RoleCollection = RoleCollection {
    path: "groups/{id}/owners",
    permission: "GroupMember.Read.All",
    allows_in: false,
    empty_without_p2: false,
};

/// `$expand` on a directory object's relationship "typically returns a maximum of 20 items
/// ... and has no @odata.nextLink" (<https://learn.microsoft.com/en-us/graph/query-parameters#expand-parameter>):
/// a group showing this many owners (or none listed) has its owners read in full.
const EXPAND_LIMIT: usize = 20;

/// A [`Directory`] over Microsoft Graph v1.0 with application permissions.
///
/// - `find_user`: `GET /users?$filter=userPrincipalName eq '<login>'` (and `or mail eq` with
///   `match_mail`), the login an OData string literal (`'` doubled), `$select`ed; zero or
///   several matches are `None`.
/// - groups: `GET /users/{id}/transitiveMemberOf` (nested memberships, every
///   `@odata.nextLink` page): each group as `CN=<display name>`, `CN=<id>` and
///   [`GROUP_ID_PREFIX`]`<id>` (lower case; the only one a user cannot spoof), each directory
///   role as `CN=<display name>` plus [`PRIVILEGED_ROLE`] when its `roleTemplateId` is a
///   privileged one ([`GraphConfig::privileged_role_template_ids`]), each administrative
///   unit as [`ADMINISTRATIVE_UNIT_PREFIX`]`<id>` and `…<display name>` (the policy's
///   `eligible_administrative_units`). Memberships that cannot all be read (a `403`, more
///   pages than `max_membership_pages`, a `nextLink` to another host, an entry Graph
///   returns without its name or role template because the application may not read it,
///   an entry without its `@odata.type`)
///   give [`GROUPS_UNRESOLVED`]: the engine treats the user as privileged and answers like
///   an unknown login.
/// - roles `transitiveMemberOf` does not list (it shows only *active built-in* roles as
///   `directoryRole`): PIM-eligible roles, current or starting later
///   (`roleEligibilitySchedules`, one `principalId eq` request per principal) and every role
///   assignment, custom roles and roles scoped to an administrative unit or one object
///   included (`roleAssignments`, `principalId in (...)`, 15 a request), every page, for the
///   user and for each role-assignable group (`isAssignableToRole`) whose roles the user has
///   or can take at will: the ones it is in, the ones it owns (an owner adds members, itself
///   included: `GET /groups?$filter=isAssignableToRole eq true&$expand=owners($select=id)`,
///   a group's own `owners` list where `$expand` may have cut it), and the ones it is
///   eligible to join or to own through PIM for Groups
///   (`identityGovernance/privilegedAccess/group/eligibilitySchedules`, `principalId eq`).
///   Each grant whose `roleDefinitionId` is privileged adds [`PRIVILEGED_ROLE`] (by default
///   every role, as Entra's own SSPR applies its administrator policy to any admin role,
///   eligible ones included; with `privileged_role_template_ids` set, those ids: a built-in
///   role's definition id is its template id, a custom role counts only if its own id is
///   listed). A `403` (the application lacks `RoleManagement.Read.Directory`,
///   `RoleEligibilitySchedule.Read.Directory`, `PrivilegedEligibilitySchedule.Read.AzureADGroup`
///   or `GroupMember.Read.All`) or any failure to read them gives [`GROUPS_UNRESOLVED`],
///   logged as an error naming the permission; a tenant without Entra ID P2 (`400
///   AadPremiumLicenseRequired` on a PIM collection) has no eligibilities.
/// - an unknown or ambiguous login makes the same requests as a found user with no
///   role-assignable group to read (for an object id no object has, answers dropped), so
///   the number of round trips does not tell them apart.
/// - state: `disabled` is `!accountEnabled`; Graph shows no lockout or expiry.
/// - `set_password`: `PATCH /users/{id}` with `passwordProfile` (`password`,
///   `forceChangePasswordNextSignIn`); Entra's complexity refusal is `PasswordRejected`.
/// - `authenticate` and `unlock` are not possible with application permissions (the ROPC
///   grant that could check a password is not for this use, and Entra's smart lockout has no
///   API): both answer a typed `NotSupported` error (as do the
///   trait's defaults for `change_password` and `password_rules`, kept: an application cannot
///   make the user's own change, which needs the user's token). The portal signs users in with OpenID
///   Connect against Entra instead, and `allow_unlock_only` should be off.
/// - `search`: Graph's `$search` (`ConsistencyLevel: eventual`) on `displayName` and
///   `userPrincipalName`, which matches words by prefix, then kept to users whose login or
///   display name contains the query: an infix that starts no word is not found.
#[derive(Clone)]
pub struct GraphDirectory {
    inner: Arc<Inner>,
}

struct Inner {
    config: GraphConfig,
    client: GraphClient,
}

impl std::fmt::Debug for GraphDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphDirectory").field("config", &self.inner.config).finish()
    }
}

/// A user as `$select`ed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphUser {
    id: String,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    account_enabled: Option<bool>,
    #[serde(default)]
    on_premises_distinguished_name: Option<String>,
    #[serde(default)]
    mail: Option<String>,
}

/// One page of a collection.
#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// A directory object among a user's memberships.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Membership {
    #[serde(rename = "@odata.type", default)]
    odata_type: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    role_template_id: Option<String>,
    #[serde(default)]
    is_assignable_to_role: Option<bool>,
}

/// Why memberships could not all be read.
enum Walk {
    Incomplete(&'static str),
    Failed(BackendError),
}

/// What the membership walk found: the user's groups as `DirectoryUser::groups`, and the
/// role-assignable groups, whose role grants are the user's too.
struct Walked {
    groups: Vec<String>,
    role_groups: Vec<String>,
}

/// A role assignment or eligibility (`unifiedRoleAssignment`,
/// `unifiedRoleEligibilityScheduleInstance`), as `$select`ed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleGrant {
    #[serde(default)]
    role_definition_id: Option<String>,
    #[serde(default)]
    directory_scope_id: Option<String>,
}

/// A role-assignable group with its owners, as `$select`ed and `$expand`ed.
#[derive(Deserialize)]
struct RoleAssignableGroup {
    #[serde(default)]
    id: String,
    #[serde(default)]
    owners: Option<Vec<DirectoryObjectId>>,
}

/// A directory object by its id alone (`$select=id`).
#[derive(Deserialize)]
struct DirectoryObjectId {
    #[serde(default)]
    id: String,
}

/// A PIM for Groups eligibility, as `$select`ed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupEligibility {
    #[serde(default)]
    group_id: Option<String>,
    #[serde(default)]
    access_id: Option<String>,
}

/// Why a user's role grants could not all be read.
#[derive(Debug)]
enum RoleRead {
    /// Graph answered `403`: the application lacks the collection's permission.
    Forbidden { collection: &'static str, permission: &'static str },
    /// Anything else: an error status, no answer, a body that is not a page, paging.
    Failed { collection: &'static str, why: String },
}

impl RoleRead {
    fn failed(collection: &RoleCollection, why: impl Into<String>) -> Self {
        Self::Failed { collection: collection.path, why: why.into() }
    }
}

impl GraphDirectory {
    /// A directory for `config`. Checks the configuration and reads the CA, certificate and
    /// key files; asks for a token lazily, on first use.
    pub fn new(config: GraphConfig) -> Result<Self, BackendError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// The same, with the clock that tells when a token must be renewed.
    pub fn with_clock(config: GraphConfig, clock: Arc<dyn Clock>) -> Result<Self, BackendError> {
        let client = GraphClient::new(&config, clock)?;
        Ok(Self { inner: Arc::new(Inner { config, client }) })
    }

    /// The configuration in use.
    pub fn config(&self) -> &GraphConfig {
        &self.inner.config
    }

    pub(crate) fn client(&self) -> &GraphClient {
        &self.inner.client
    }

    /// `users/{id}` and further segments, each escaped as one path segment.
    pub(crate) fn user_url(&self, id: &UserId, rest: &[&str]) -> Result<Url, BackendError> {
        let mut url = self.inner.client.url("users")?;
        url.path_segments_mut()
            .map_err(|()| BackendError::new(BackendErrorKind::Other, "graph: the base URL cannot hold a path"))?
            .push(id.as_str())
            .extend(rest);
        Ok(url)
    }

    async fn get(&self, url: Url, headers: &[(&'static str, &'static str)]) -> Result<Reply, BackendError> {
        self.inner.client.send(Method::GET, url, None, headers).await
    }

    async fn users(&self, url: Url, headers: &[(&'static str, &'static str)]) -> Result<Vec<GraphUser>, BackendError> {
        let reply = self.get(url, headers).await?;
        if !reply.status.is_success() {
            return Err(reply.failure("user lookup"));
        }
        Ok(reply.json::<Page<GraphUser>>()?.value)
    }

    /// The user's groups, roles and administrative units as `DirectoryUser::groups`, with
    /// [`PRIVILEGED_ROLE`] for a privileged role assignment or eligibility.
    async fn memberships(&self, id: &UserId) -> Result<Vec<String>, BackendError> {
        let Walked { mut groups, role_groups } = match self.walk_memberships(id).await {
            Ok(walked) => walked,
            Err(Walk::Incomplete(why)) => {
                tracing::warn!(user = id.as_str(), why, "memberships incomplete: the user is treated as privileged");
                return Ok(vec![GROUPS_UNRESOLVED.to_owned()]);
            }
            Err(Walk::Failed(e)) => return Err(e),
        };
        let indirect = self.indirect_role_groups(id.as_str()).await;
        let granted = match indirect {
            Ok(indirect) => {
                let mut principals: Vec<&str> =
                    std::iter::once(id.as_str()).chain(role_groups.iter().map(String::as_str)).collect();
                for group in &indirect {
                    if !principals.iter().any(|p| p.eq_ignore_ascii_case(group)) {
                        principals.push(group);
                    }
                }
                self.privileged_grants(&principals).await
            }
            Err(e) => Err(e),
        };
        match granted {
            Ok(true) if !groups.iter().any(|g| g == PRIVILEGED_ROLE) => groups.push(PRIVILEGED_ROLE.to_owned()),
            Ok(_) => {}
            Err(RoleRead::Forbidden { collection, permission }) => {
                tracing::error!(
                    user = id.as_str(),
                    collection,
                    permission,
                    "graph refused to list role grants, role-assignable groups or their eligibilities \
                     (403): grant the application this permission; until then every user is treated \
                     as privileged"
                );
                return Ok(vec![GROUPS_UNRESOLVED.to_owned()]);
            }
            Err(RoleRead::Failed { collection, why }) => {
                tracing::warn!(
                    user = id.as_str(),
                    collection,
                    why = why.as_str(),
                    "role grants unreadable: the user is treated as privileged"
                );
                return Ok(vec![GROUPS_UNRESOLVED.to_owned()]);
            }
        }
        Ok(groups)
    }

    /// The requests a found user's lookup makes, for an object id no object has, their
    /// answers dropped: an unknown login takes as many round trips as a known one.
    async fn lookup_nobody(&self) {
        let nobody = UserId::new(NO_OBJECT);
        let _ = self.walk_memberships(&nobody).await;
        let _ = self.indirect_role_groups(NO_OBJECT).await;
        let _ = self.privileged_grants(&[NO_OBJECT]).await;
    }

    /// The role-assignable groups `user` can make itself a member of at will, whose roles are
    /// therefore its own: the ones it owns (an owner adds members, itself included), and the
    /// ones it is eligible to join or to own through PIM for Groups. Reads every
    /// role-assignable group with its owners (requests that name no user, the same for every
    /// login) and the user's PIM for Groups eligibilities (one request a page).
    async fn indirect_role_groups(&self, user: &str) -> Result<Vec<String>, RoleRead> {
        let mut url = self
            .inner
            .client
            .url(ROLE_ASSIGNABLE_GROUPS.path)
            .map_err(|e| RoleRead::failed(&ROLE_ASSIGNABLE_GROUPS, e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("$filter", "isAssignableToRole eq true")
            .append_pair("$select", "id")
            .append_pair("$expand", "owners($select=id)");
        let groups: Vec<RoleAssignableGroup> = self.read_all(&ROLE_ASSIGNABLE_GROUPS, url).await?;
        let mut found: Vec<String> = Vec::new();
        for group in &groups {
            let owners = match &group.owners {
                Some(owners) if owners.len() < EXPAND_LIMIT => owners.iter().any(|o| o.id.eq_ignore_ascii_case(user)),
                // Possibly cut by `$expand`: the group's own list, every page.
                _ => {
                    let mut url =
                        self.inner.client.url("groups").map_err(|e| RoleRead::failed(&GROUP_OWNERS, e.to_string()))?;
                    url.path_segments_mut()
                        .map_err(|()| RoleRead::failed(&GROUP_OWNERS, "the base URL cannot hold a path"))?
                        .push(&group.id)
                        .push("owners");
                    url.query_pairs_mut().append_pair("$select", "id");
                    let owners: Vec<DirectoryObjectId> = self.read_all(&GROUP_OWNERS, url).await?;
                    owners.iter().any(|o| o.id.eq_ignore_ascii_case(user))
                }
            };
            if owners && !group.id.is_empty() {
                tracing::debug!(group = group.id.as_str(), "the user owns a role-assignable group");
                found.push(group.id.clone());
            }
        }
        let mut url = self
            .inner
            .client
            .url(GROUP_ELIGIBILITIES.path)
            .map_err(|e| RoleRead::failed(&GROUP_ELIGIBILITIES, e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("$filter", &format!("principalId eq {}", odata::string_literal(user)))
            .append_pair("$select", "id,principalId,groupId,accessId");
        let eligible: Vec<GroupEligibility> = self.read_all(&GROUP_ELIGIBILITIES, url).await?;
        for item in eligible {
            let Some(group) = item.group_id.filter(|g| !g.is_empty()) else { continue };
            // Only a role-assignable group can hold a role: the others add nothing to read.
            if groups.iter().any(|g| g.id.eq_ignore_ascii_case(&group)) && !found.contains(&group) {
                tracing::debug!(
                    group = group.as_str(),
                    access = item.access_id.as_deref().unwrap_or("?"),
                    "the user is eligible (PIM for Groups) for a role-assignable group"
                );
                found.push(group);
            }
        }
        Ok(found)
    }

    /// Whether any role assignment or eligibility of these principals (the user and its
    /// role-assignable groups) is privileged. Reads every grant even after a privileged one,
    /// so that an administrator's lookup takes the same requests as anyone's.
    async fn privileged_grants(&self, principals: &[&str]) -> Result<bool, RoleRead> {
        let mut privileged = false;
        for collection in [&ASSIGNMENTS, &ELIGIBILITIES] {
            for filter in principal_filters(principals, collection.allows_in) {
                for grant in self.role_grants(collection, &filter).await? {
                    let definition = grant.role_definition_id.as_deref().filter(|d| !d.is_empty());
                    if self.inner.config.is_privileged_role(definition) {
                        tracing::debug!(
                            collection = collection.path,
                            role = definition.unwrap_or("?"),
                            scope = grant.directory_scope_id.as_deref().unwrap_or("?"),
                            "a privileged role grant"
                        );
                        privileged = true;
                    }
                }
            }
        }
        Ok(privileged)
    }

    /// Every page of `collection` under `filter`.
    async fn role_grants(&self, collection: &RoleCollection, filter: &str) -> Result<Vec<RoleGrant>, RoleRead> {
        let mut url =
            self.inner.client.url(collection.path).map_err(|e| RoleRead::failed(collection, e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("$filter", filter)
            .append_pair("$select", "id,principalId,roleDefinitionId,directoryScopeId");
        self.read_all(collection, url).await
    }

    /// Every page of `collection` from `url`: a `403` is [`RoleRead::Forbidden`], a tenant
    /// without P2 answering a PIM collection is an empty one, anything else that is not a page
    /// (or more pages than `max_membership_pages`, or a `nextLink` away from Graph) fails.
    async fn read_all<T: DeserializeOwned>(
        &self,
        collection: &RoleCollection,
        mut url: Url,
    ) -> Result<Vec<T>, RoleRead> {
        let mut grants = Vec::new();
        let mut pages = 0u32;
        loop {
            pages += 1;
            let reply = self.get(url, &[]).await.map_err(|e| RoleRead::failed(collection, e.to_string()))?;
            if reply.status == StatusCode::FORBIDDEN {
                return Err(RoleRead::Forbidden { collection: collection.path, permission: collection.permission });
            }
            // A tenant without P2 has no PIM, so no eligibility: every user would otherwise be
            // refused as privileged there. Only this exact answer; any other 400 fails closed.
            if collection.empty_without_p2
                && reply.status == StatusCode::BAD_REQUEST
                && reply.error_detail().is_some_and(|e| e.code == NO_P2_LICENSE)
            {
                if !NO_P2_LOGGED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::info!(
                        collection = collection.path,
                        "the tenant has no Entra ID P2 (no PIM): no eligibilities to check"
                    );
                }
                return Ok(grants);
            }
            if !reply.status.is_success() {
                return Err(RoleRead::failed(collection, reply.failure(collection.path).to_string()));
            }
            let page: Page<T> = reply.json().map_err(|e| RoleRead::failed(collection, e.to_string()))?;
            grants.extend(page.value);
            let Some(next) = page.next_link else { break };
            if pages >= self.inner.config.max_membership_pages {
                return Err(RoleRead::failed(collection, "more pages than max_membership_pages"));
            }
            url = match Url::parse(&next) {
                Ok(next) if self.inner.client.is_own(&next) => next,
                _ => return Err(RoleRead::failed(collection, "a nextLink away from Graph")),
            };
        }
        Ok(grants)
    }

    async fn walk_memberships(&self, id: &UserId) -> Result<Walked, Walk> {
        let config = &self.inner.config;
        let mut url = self.user_url(id, &["transitiveMemberOf"]).map_err(Walk::Failed)?;
        url.query_pairs_mut()
            .append_pair("$select", "id,displayName,roleTemplateId,isAssignableToRole")
            .append_pair("$top", "999");
        let mut groups = Vec::new();
        let mut role_groups = Vec::new();
        let mut pages = 0u32;
        loop {
            pages += 1;
            let reply = self.get(url, &[]).await.map_err(Walk::Failed)?;
            if reply.status == StatusCode::FORBIDDEN {
                return Err(Walk::Incomplete("graph refused to list the memberships (403)"));
            }
            if !reply.status.is_success() {
                return Err(Walk::Failed(reply.failure("memberships")));
            }
            let page: Page<Membership> = reply.json().map_err(Walk::Failed)?;
            for entry in page.value {
                let name = entry.display_name.as_deref().filter(|n| !n.is_empty());
                match entry.odata_type.as_str() {
                    "#microsoft.graph.group" => {
                        let name = name.ok_or(Walk::Incomplete("a group without its name (no right to read it)"))?;
                        groups.push(format!("CN={}", odata::rdn_value(name)));
                        groups.push(format!("CN={}", odata::rdn_value(&entry.id)));
                        groups.push(format!("{GROUP_ID_PREFIX}{}", entry.id.to_ascii_lowercase()));
                        // Only a role-assignable group can hold a role or an eligibility.
                        if entry.is_assignable_to_role == Some(true) {
                            role_groups.push(entry.id);
                        }
                    }
                    "#microsoft.graph.directoryRole" => {
                        groups.extend(name.map(|n| format!("CN={}", odata::rdn_value(n))));
                        if config.is_privileged_role(entry.role_template_id.as_deref()) {
                            groups.push(PRIVILEGED_ROLE.to_owned());
                        }
                    }
                    "#microsoft.graph.administrativeUnit" => {
                        groups.push(format!("{ADMINISTRATIVE_UNIT_PREFIX}{}", entry.id));
                        groups.extend(name.map(|n| format!("{ADMINISTRATIVE_UNIT_PREFIX}{n}")));
                    }
                    // Without its type an entry could be any of the above: never judged on.
                    "" => return Err(Walk::Incomplete("a membership without its @odata.type")),
                    other => tracing::debug!(kind = other, "membership of another kind ignored"),
                }
            }
            let Some(next) = page.next_link else { break };
            if pages >= config.max_membership_pages {
                return Err(Walk::Incomplete("more membership pages than max_membership_pages"));
            }
            url = match Url::parse(&next) {
                Ok(next) if self.inner.client.is_own(&next) => next,
                _ => return Err(Walk::Incomplete("a nextLink away from Graph (the token is never sent there)")),
            };
        }
        groups.dedup();
        Ok(Walked { groups, role_groups })
    }

    async fn to_user(&self, user: GraphUser) -> Result<DirectoryUser, BackendError> {
        let id = UserId::new(user.id);
        let groups = self.memberships(&id).await?;
        Ok(DirectoryUser {
            login: user.user_principal_name.unwrap_or_default(),
            display_name: user.display_name.unwrap_or_default(),
            // Synchronised users keep their on-premises DN, so eligible_ous work for them too.
            dn: user.on_premises_distinguished_name.unwrap_or_default(),
            groups,
            // An account whose flag cannot be read is not resettable.
            state: AccountState { disabled: !user.account_enabled.unwrap_or(false), expired: false, locked: false },
            // The mailbox, for registration reminders; one that is not an address is none.
            mail: user.mail.and_then(|m| sspr_core::EmailAddress::parse(&m).ok()),
            id,
        })
    }
}

/// The `$filter`s that ask for the grants of `principals`: `principalId in (...)` of at most
/// [`MAX_IN_VALUES`] ids where `in` is allowed, else one `principalId eq` each (and `eq` for a
/// lone id either way). Ids are OData string literals.
fn principal_filters(principals: &[&str], allows_in: bool) -> Vec<String> {
    let chunk = if allows_in { MAX_IN_VALUES } else { 1 };
    principals
        .chunks(chunk)
        .map(|part| match part {
            [one] => format!("principalId eq {}", odata::string_literal(one)),
            many => {
                let list: Vec<String> = many.iter().map(|p| odata::string_literal(p)).collect();
                format!("principalId in ({})", list.join(","))
            }
        })
        .collect()
}

/// The error for an operation app-only Graph cannot do.
fn not_possible(what: &str) -> BackendError {
    BackendError::new(
        BackendErrorKind::NotSupported,
        format!("{what} is not possible with Microsoft Graph application permissions"),
    )
}

#[async_trait]
impl Directory for GraphDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        let literal = odata::string_literal(login.as_str());
        let filter = if self.inner.config.match_mail {
            format!("userPrincipalName eq {literal} or mail eq {literal}")
        } else {
            format!("userPrincipalName eq {literal}")
        };
        let mut url = self.inner.client.url("users")?;
        url.query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$select", USER_SELECT)
            .append_pair("$top", "2");
        let mut found = self.users(url, &[]).await?;
        if found.len() != 1 {
            self.lookup_nobody().await;
            return Ok(None);
        }
        match found.pop() {
            Some(user) => self.to_user(user).await.map(Some),
            None => Ok(None),
        }
    }

    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        let url = self.user_url(user, &[])?;
        let body = serde_json::json!({
            "passwordProfile": {
                "forceChangePasswordNextSignIn": must_change,
                "password": password.expose_secret(),
            }
        });
        let reply = self.inner.client.send(Method::PATCH, url, Some(&body), &[]).await;
        drop(body);
        let reply = reply?;
        if reply.status.is_success() {
            return Ok(());
        }
        let detail = reply.error_detail();
        let message = detail.as_ref().map(|d| d.message.replace(password.expose_secret(), "***")).unwrap_or_default();
        if reply.status == StatusCode::BAD_REQUEST && message.to_ascii_lowercase().contains("password") {
            return Err(BackendError::password_rejected(message));
        }
        Err(reply.failure("password change"))
    }

    async fn unlock(&self, _user: &UserId) -> Result<(), BackendError> {
        Err(not_possible("clearing a lockout (Entra smart lockout ends by itself)"))
    }

    async fn authenticate(&self, _user: &UserId, _password: &Password) -> Result<Authentication, BackendError> {
        Err(not_possible("checking a user's password (sign users in with OpenID Connect)"))
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut url = self.inner.client.url("users")?;
        let found = if query.is_empty() {
            url.query_pairs_mut().append_pair("$select", USER_SELECT).append_pair("$top", &limit.min(999).to_string());
            self.users(url, &[]).await?
        } else {
            let term = odata::search_term(query);
            url.query_pairs_mut()
                .append_pair("$search", &format!("\"displayName:{term}\" OR \"userPrincipalName:{term}\""))
                .append_pair("$select", USER_SELECT)
                .append_pair("$top", "999");
            self.users(url, &[("ConsistencyLevel", "eventual")]).await?
        };
        let needle = query.to_lowercase();
        let mut hits: Vec<GraphUser> = found
            .into_iter()
            .filter(|u| {
                let has = |v: &Option<String>| v.as_deref().is_some_and(|v| v.to_lowercase().contains(&needle));
                has(&u.user_principal_name) || has(&u.display_name)
            })
            .collect();
        hits.sort_by(|a, b| a.user_principal_name.cmp(&b.user_principal_name));
        hits.truncate(limit);
        let mut users = Vec::with_capacity(hits.len());
        for hit in hits {
            users.push(self.to_user(hit).await?);
        }
        Ok(users)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_asked_for_with_in_in_chunks_of_fifteen_or_one_eq_each() {
        let ids: Vec<String> = (0..17).map(|i| format!("id{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let with_in = principal_filters(&ids, true);
        assert_eq!(with_in.len(), 2);
        assert!(with_in[0].starts_with("principalId in ('id0','id1',"), "{}", with_in[0]);
        assert!(with_in[0].ends_with("'id14')"), "{}", with_in[0]);
        assert_eq!(with_in[1], "principalId in ('id15','id16')");
        let each = principal_filters(&ids[..2], false);
        assert_eq!(each, vec!["principalId eq 'id0'".to_owned(), "principalId eq 'id1'".to_owned()]);
        assert_eq!(principal_filters(&["o'x"], true), vec!["principalId eq 'o''x'".to_owned()]);
        assert!(principal_filters(&[], true).is_empty());
    }
}
