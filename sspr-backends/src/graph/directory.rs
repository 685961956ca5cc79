//! [`GraphDirectory`]: Microsoft Entra ID users through Microsoft Graph v1.0, as an
//! application (app-only).

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use sspr_core::backend::{
    ADMINISTRATIVE_UNIT_PREFIX, AccountState, Authentication, DirectoryUser, GROUPS_UNRESOLVED, PRIVILEGED_ROLE,
};
use sspr_core::{BackendError, BackendErrorKind, Clock, Directory, NormalizedLogin, Password, SystemClock, UserId};

use super::client::{GraphClient, Reply};
use super::config::GraphConfig;
use super::odata;

/// The user properties read (`$select`): nothing else leaves Graph.
const USER_SELECT: &str = "id,userPrincipalName,displayName,accountEnabled,onPremisesDistinguishedName,mail";

/// A [`Directory`] over Microsoft Graph v1.0 with application permissions.
///
/// - `find_user`: `GET /users?$filter=userPrincipalName eq '<login>'` (and `or mail eq` with
///   `match_mail`), the login an OData string literal (`'` doubled), `$select`ed; zero or
///   several matches are `None`.
/// - groups: `GET /users/{id}/transitiveMemberOf` (nested memberships, every
///   `@odata.nextLink` page): each group as `CN=<display name>` and `CN=<id>`, each directory
///   role as `CN=<display name>` plus [`PRIVILEGED_ROLE`] when its `roleTemplateId` is a
///   privileged one ([`GraphConfig::privileged_role_template_ids`]), each administrative
///   unit as [`ADMINISTRATIVE_UNIT_PREFIX`]`<id>` and `…<display name>` (the policy's
///   `eligible_administrative_units`). Memberships that cannot all be read (a `403`, more
///   pages than `max_membership_pages`, a `nextLink` to another host, an entry Graph
///   returns without its name or role template because the application may not read it)
///   give [`GROUPS_UNRESOLVED`]: the engine treats the user as privileged and answers like
///   an unknown login.
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
}

/// Why memberships could not all be read.
enum Walk {
    Incomplete(&'static str),
    Failed(BackendError),
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

    /// The user's groups, roles and administrative units as `DirectoryUser::groups`.
    async fn memberships(&self, id: &UserId) -> Result<Vec<String>, BackendError> {
        match self.walk_memberships(id).await {
            Ok(groups) => Ok(groups),
            Err(Walk::Incomplete(why)) => {
                tracing::warn!(user = id.as_str(), why, "memberships incomplete: the user is treated as privileged");
                Ok(vec![GROUPS_UNRESOLVED.to_owned()])
            }
            Err(Walk::Failed(e)) => Err(e),
        }
    }

    async fn walk_memberships(&self, id: &UserId) -> Result<Vec<String>, Walk> {
        let config = &self.inner.config;
        let mut url = self.user_url(id, &["transitiveMemberOf"]).map_err(Walk::Failed)?;
        url.query_pairs_mut().append_pair("$select", "id,displayName,roleTemplateId").append_pair("$top", "999");
        let mut groups = Vec::new();
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
        Ok(groups)
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
