//! The `graph` backends' configuration, read by the portal from its TOML file.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sspr_core::{BackendError, BackendErrorKind};

/// The application's client secret: never shown by `Debug`, wiped on drop.
#[derive(Clone)]
pub struct ClientSecret(SecretString);

// Read through `secret_field`: a wrong type is named, never quoted.
impl<'de> serde::Deserialize<'de> for ClientSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::secret_field::string(deserializer).map(Self::new)
    }
}

impl ClientSecret {
    /// Wrap a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(SecretString::from(secret.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for ClientSecret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([REDACTED])")
    }
}

/// The role template id of Global Administrator, the same in every tenant.
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";

/// How to reach Microsoft Graph as an application (app-only: the OAuth 2.0 client-credentials
/// grant) and how to read users.
///
/// The application needs the Graph application permissions `User.Read.All` (users and their
/// memberships; `GroupMember.Read.All` and `RoleManagement.Read.Directory` or
/// `Directory.Read.All` to see group names and role templates), `RoleManagement.Read.Directory`
/// (role assignments: custom roles, roles scoped to an administrative unit) and
/// `RoleEligibilitySchedule.Read.Directory` (PIM-eligible roles),
/// `User-PasswordProfile.ReadWrite.All` for `set_password`, and, for the contact store,
/// `UserAuthenticationMethod.ReadWrite.All`. Without the two role permissions every user
/// reads as privileged (`GROUPS_UNRESOLVED`: nobody can reset) and an error in the log names
/// the missing one.
///
/// ```
/// use sspr_backends::graph::GraphConfig;
/// let config: GraphConfig = toml::from_str(r#"
///     tenant_id = "contoso.onmicrosoft.com"
///     client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"
///     client_secret = "not in the debug output"
/// "#).unwrap();
/// assert_eq!(config.graph_url, "https://graph.microsoft.com");
/// assert!(!format!("{config:?}").contains("not in the debug output"));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphConfig {
    /// The tenant: its id (a GUID) or a verified domain (`contoso.onmicrosoft.com`).
    pub tenant_id: String,
    /// The application (client) id of the app registration.
    pub client_id: String,
    /// The client secret; give it or `certificate_file` with `private_key_file`.
    #[serde(default)]
    pub client_secret: Option<ClientSecret>,
    /// A PEM certificate registered with the application: the token request then carries a
    /// client assertion (a JWT signed with its key, PS256, header `x5t#S256`) instead of a
    /// secret. Preferred by Microsoft over secrets.
    #[serde(default)]
    pub certificate_file: Option<PathBuf>,
    /// The certificate's RSA private key, PEM (PKCS#8 `BEGIN PRIVATE KEY`).
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// The token authority (default `https://login.microsoftonline.com`; national clouds
    /// have their own). The token endpoint is `{authority_url}/{tenant_id}/oauth2/v2.0/token`.
    #[serde(default = "default_authority")]
    pub authority_url: String,
    /// Microsoft Graph (default `https://graph.microsoft.com`); requests go to `{graph_url}/v1.0`.
    #[serde(default = "default_graph")]
    pub graph_url: String,
    /// A PEM file with the CA certificate(s) to trust instead of the system's (a TLS
    /// inspecting proxy, a test stand-in). Certificates are always verified.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Allow `http://` URLs that are not loopback (never do this: tokens and passwords would
    /// cross the network in clear). Loopback `http://` is always allowed (a local stand-in).
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// Also find a user by `mail` when no `userPrincipalName` matches (default false). A
    /// login that matches several users is ambiguous and finds nobody.
    #[serde(default)]
    pub match_mail: bool,
    /// The directory roles that make a user privileged, by role template id. Without it
    /// (the default) **every** directory role does, active or PIM-eligible, built-in or
    /// custom, over the tenant or over an administrative unit: each one is an administrative
    /// power somebody could abuse after taking the account over (Entra's own SSPR applies its
    /// administrator policy to any admin role, eligible ones included). A role whose template
    /// cannot be read counts as privileged either way.
    ///
    /// Role assignments and eligibilities name their role by `roleDefinitionId`, which for a
    /// built-in role is its template id; a custom role's is its own id, which counts only if
    /// listed here. So with a list, add the ids of your custom roles that grant admin power
    /// (any `microsoft.directory/*` update, above all `users/password/update`), or leave the
    /// list out.
    #[serde(default)]
    pub privileged_role_template_ids: Option<Vec<String>>,
    /// How long one HTTP request may take, in milliseconds (default 10 000). A request that
    /// takes longer fails as `Unavailable`.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How many times a throttled (429) or unavailable (503) answer is retried (default 3).
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// The longest `Retry-After` waited for, in seconds (default 10). A longer one fails the
    /// call as `Unavailable` at once rather than hold the user's request.
    #[serde(default = "default_max_retry_after_secs")]
    pub max_retry_after_secs: u64,
    /// At most this many pages of memberships are read (default 20, 999 entries a page).
    /// A user with more is treated as privileged: their groups are never judged on a part.
    #[serde(default = "default_max_pages")]
    pub max_membership_pages: u32,
}

fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}

fn default_graph() -> String {
    "https://graph.microsoft.com".into()
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_max_retries() -> u32 {
    3
}

fn default_max_retry_after_secs() -> u64 {
    10
}

fn default_max_pages() -> u32 {
    20
}

impl GraphConfig {
    /// A configuration with a client secret and every default.
    pub fn with_secret(tenant_id: impl Into<String>, client_id: impl Into<String>, secret: ClientSecret) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret: Some(secret),
            certificate_file: None,
            private_key_file: None,
            authority_url: default_authority(),
            graph_url: default_graph(),
            ca_file: None,
            allow_insecure_http: false,
            match_mail: false,
            privileged_role_template_ids: None,
            timeout_ms: default_timeout_ms(),
            max_retries: default_max_retries(),
            max_retry_after_secs: default_max_retry_after_secs(),
            max_membership_pages: default_max_pages(),
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Whether a directory role with this template makes its holder privileged.
    pub(crate) fn is_privileged_role(&self, template: Option<&str>) -> bool {
        match (&self.privileged_role_template_ids, template) {
            (None, _) | (Some(_), None) => true,
            (Some(ids), Some(template)) => ids.iter().any(|id| id.trim().eq_ignore_ascii_case(template)),
        }
    }

    pub(crate) fn check(&self) -> Result<(), BackendError> {
        let bad = |m: &str| Err(BackendError::new(BackendErrorKind::Other, format!("graph configuration: {m}")));
        let plain_id =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
        if !plain_id(&self.tenant_id) {
            return bad("tenant_id must be a tenant id or domain name (letters, digits, '-', '.')");
        }
        if !plain_id(&self.client_id) {
            return bad("client_id must be the application's id");
        }
        match (&self.client_secret, &self.certificate_file, &self.private_key_file) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            (Some(_), _, _) => return bad("give client_secret or a certificate, not both"),
            (None, Some(_), None) | (None, None, Some(_)) => {
                return bad("a certificate needs both certificate_file and private_key_file");
            }
            (None, None, None) => return bad("client_secret or certificate_file + private_key_file is required"),
        }
        if self.timeout_ms == 0 || self.max_retries > 10 || self.max_membership_pages == 0 {
            return bad("timeout_ms must be above 0, max_retries at most 10, max_membership_pages at least 1");
        }
        Ok(())
    }
}
