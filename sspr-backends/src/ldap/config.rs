//! The `ldap` backends' configuration, read by the portal from its TOML file.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sspr_core::{BackendError, BackendErrorKind};

/// Which kind of directory server: it decides the attributes and operations used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Flavor {
    /// OpenLDAP with the `ppolicy` and `memberof` overlays.
    #[default]
    #[serde(rename = "openldap")]
    OpenLdap,
    /// Microsoft Active Directory or a Samba AD domain controller.
    #[serde(rename = "active_directory")]
    ActiveDirectory,
}

/// The service account's password: never shown by `Debug`, wiped on drop.
#[derive(Clone)]
pub struct BindPassword(SecretString);

// Read through `secret_field`: a wrong type is named, never quoted.
impl<'de> serde::Deserialize<'de> for BindPassword {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::secret_field::string(deserializer).map(Self::new)
    }
}

impl BindPassword {
    /// Wrap a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(SecretString::from(password.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for BindPassword {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for BindPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindPassword([REDACTED])")
    }
}

/// How to reach and read the directory (OpenLDAP or Active Directory).
///
/// Deserialised from the portal's configuration; every field but the first five has a default.
///
/// ```
/// use sspr_backends::ldap::{Flavor, LdapConfig};
/// let config: LdapConfig = toml::from_str(r#"
///     url = "ldaps://dc1.corp.example.com"
///     ca_file = "/etc/sspr/corp-ca.pem"
///     flavor = "active_directory"
///     base_dn = "DC=corp,DC=example,DC=com"
///     bind_dn = "CN=sspr-svc,OU=Service,DC=corp,DC=example,DC=com"
///     bind_password = "not in the debug output"
/// "#).unwrap();
/// assert_eq!(config.flavor, Flavor::ActiveDirectory);
/// assert_eq!(config.login_attribute(), "userPrincipalName");
/// assert!(!format!("{config:?}").contains("not in the debug output"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// `ldaps://host[:port]`, or `ldap://host[:port]` with `starttls = true`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS.
    #[serde(default)]
    pub starttls: bool,
    /// A PEM file with the CA certificate(s) that sign the server's certificate. Without it the
    /// operating system's trust store is used. Certificates are always verified.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Allow `ldap://` without StartTLS (passwords then cross the network in clear). Off by
    /// default; meant for a directory on the same host only.
    #[serde(default)]
    pub allow_plaintext: bool,
    /// OpenLDAP or Active Directory.
    #[serde(default)]
    pub flavor: Flavor,
    /// Where users are searched (subtree).
    pub base_dn: String,
    /// The service account sspr binds as. For OpenLDAP it must **not** be the rootdn: the rootdn
    /// bypasses the password policy (ppolicy).
    pub bind_dn: String,
    /// The service account's password.
    pub bind_password: BindPassword,
    /// The attribute a login is looked up by (default `uid`, AD `userPrincipalName`).
    #[serde(default)]
    pub login_attribute: Option<String>,
    /// The attribute holding the display name (default `displayName`, falling back to `cn`).
    #[serde(default)]
    pub display_name_attribute: Option<String>,
    /// An extra filter every user must match (default `(objectClass=person)`, AD
    /// `(&(objectCategory=person)(objectClass=user))`). Trusted configuration, not escaped.
    #[serde(default)]
    pub user_filter: Option<String>,
    /// Where groups are searched for (nested) memberships (default: the naming context that
    /// holds `base_dn`, read from the root DSE, so that admin groups outside `base_dn` count).
    #[serde(default)]
    pub group_base_dn: Option<String>,
    /// OpenLDAP: the ppolicy entry whose rules are shown before a user changes their password
    /// (`pwdMinLength`, `pwdInHistory`, `pwdMinAge`), and whose `pwdMustChange` must be TRUE
    /// for a temporary password to be set for a user without a `pwdPolicySubentry`. Default:
    /// the one `pwdPolicy` entry under the naming context (none or several: not known).
    #[serde(default)]
    pub password_policy_dn: Option<String>,
    /// Connections kept open to the directory (default 8).
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Sign-in checks (user binds) running at once, each on a connection of its own (default
    /// 8). More wait for a turn: a flood of sign-ins cannot open connections without bound.
    #[serde(default = "default_sign_in_connections")]
    pub sign_in_connections: usize,
    /// Seconds to wait for a connection (default 5).
    #[serde(default = "default_timeout")]
    pub connect_timeout_secs: u64,
    /// Seconds to wait for one operation (default 10).
    #[serde(default = "default_operation_timeout")]
    pub operation_timeout_secs: u64,
}

fn default_pool_size() -> usize {
    8
}

fn default_sign_in_connections() -> usize {
    8
}

fn default_timeout() -> u64 {
    5
}

fn default_operation_timeout() -> u64 {
    10
}

impl fmt::Debug for LdapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapConfig")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("ca_file", &self.ca_file)
            .field("allow_plaintext", &self.allow_plaintext)
            .field("flavor", &self.flavor)
            .field("base_dn", &self.base_dn)
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &self.bind_password)
            .field("login_attribute", &self.login_attribute)
            .field("display_name_attribute", &self.display_name_attribute)
            .field("user_filter", &self.user_filter)
            .field("group_base_dn", &self.group_base_dn)
            .field("password_policy_dn", &self.password_policy_dn)
            .field("pool_size", &self.pool_size)
            .field("sign_in_connections", &self.sign_in_connections)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("operation_timeout_secs", &self.operation_timeout_secs)
            .finish()
    }
}

impl LdapConfig {
    /// A configuration with the defaults for `flavor`.
    pub fn new(
        flavor: Flavor,
        url: impl Into<String>,
        base_dn: impl Into<String>,
        bind_dn: impl Into<String>,
        bind_password: BindPassword,
    ) -> Self {
        Self {
            url: url.into(),
            starttls: false,
            ca_file: None,
            allow_plaintext: false,
            flavor,
            base_dn: base_dn.into(),
            bind_dn: bind_dn.into(),
            bind_password,
            login_attribute: None,
            display_name_attribute: None,
            user_filter: None,
            group_base_dn: None,
            password_policy_dn: None,
            pool_size: default_pool_size(),
            sign_in_connections: default_sign_in_connections(),
            connect_timeout_secs: default_timeout(),
            operation_timeout_secs: default_operation_timeout(),
        }
    }

    /// The attribute logins are looked up by.
    pub fn login_attribute(&self) -> &str {
        match (&self.login_attribute, self.flavor) {
            (Some(attr), _) => attr,
            (None, Flavor::OpenLdap) => "uid",
            (None, Flavor::ActiveDirectory) => "userPrincipalName",
        }
    }

    /// The attribute holding the display name.
    pub fn display_name_attribute(&self) -> &str {
        self.display_name_attribute.as_deref().unwrap_or("displayName")
    }

    /// The filter every user matches.
    pub fn user_filter(&self) -> &str {
        match (&self.user_filter, self.flavor) {
            (Some(filter), _) => filter,
            (None, Flavor::OpenLdap) => "(objectClass=person)",
            (None, Flavor::ActiveDirectory) => "(&(objectCategory=person)(objectClass=user))",
        }
    }

    /// Check the configuration and load the CA: the first thing every backend does.
    pub(crate) fn validate(&self) -> Result<Arc<rustls::ClientConfig>, BackendError> {
        let config_error = |m: String| BackendError::new(BackendErrorKind::Other, format!("ldap configuration: {m}"));
        let tls = match self.url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase()) {
            Some(s) if s == "ldaps" => {
                if self.starttls {
                    return Err(config_error("starttls is for ldap:// URLs, not ldaps://".into()));
                }
                true
            }
            Some(s) if s == "ldap" => self.starttls,
            _ => return Err(config_error(format!("url {:?} is neither ldap:// nor ldaps://", self.url))),
        };
        if !tls && self.flavor == Flavor::ActiveDirectory {
            return Err(config_error("Active Directory sets passwords only over ldaps:// or StartTLS".into()));
        }
        if !tls && !self.allow_plaintext {
            return Err(config_error(
                "ldap:// without StartTLS sends passwords in clear: use ldaps://, starttls = true, \
                 or allow_plaintext = true for a directory on the same host"
                    .into(),
            ));
        }
        for (name, attr) in
            [("login_attribute", self.login_attribute()), ("display_name_attribute", self.display_name_attribute())]
        {
            if !is_attribute_name(attr) {
                return Err(config_error(format!("{name} {attr:?} is not an attribute name")));
            }
        }
        if !(1..=256).contains(&self.pool_size) {
            return Err(config_error(format!("pool_size {} is not within 1..=256", self.pool_size)));
        }
        if !(1..=256).contains(&self.sign_in_connections) {
            return Err(config_error(format!(
                "sign_in_connections {} is not within 1..=256",
                self.sign_in_connections
            )));
        }
        if self.connect_timeout_secs == 0 || self.operation_timeout_secs == 0 {
            return Err(config_error("timeouts must be at least one second".into()));
        }
        tls_config(self.ca_file.as_ref()).map_err(config_error)
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    pub(crate) fn operation_timeout(&self) -> Duration {
        Duration::from_secs(self.operation_timeout_secs)
    }
}

/// An attribute description: a name or OID, optionally with options (`;binary`).
pub(crate) fn is_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';' || c == '.')
}

/// A rustls configuration trusting `ca_file`, or the system's roots without one (ring provider,
/// so it does not depend on a process-wide default provider).
fn tls_config(ca_file: Option<&PathBuf>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
            let mut reader = pem.as_slice();
            for cert in rustls_pemfile::certs(&mut reader) {
                let cert = cert.map_err(|e| format!("ca_file {}: {e}", path.display()))?;
                roots.add(cert).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("ca_file {} holds no certificate", path.display()));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                // A broken system certificate is skipped, like every TLS client does.
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(flavor: Flavor, url: &str) -> LdapConfig {
        LdapConfig::new(flavor, url, "dc=example,dc=org", "cn=svc,dc=example,dc=org", BindPassword::new("s3cret-Bind!"))
    }

    #[test]
    fn debug_never_shows_the_bind_password() {
        let c = config(Flavor::OpenLdap, "ldaps://ldap.example.org");
        let debug = format!("{c:?} {:?}", c.bind_password);
        assert!(!debug.contains("s3cret-Bind!"), "{debug}");
        assert!(debug.contains("REDACTED") && debug.contains("cn=svc,dc=example,dc=org"), "{debug}");
        let parsed: LdapConfig = toml::from_str(
            "url = \"ldaps://x\"\nbase_dn = \"dc=x\"\nbind_dn = \"cn=svc\"\nbind_password = \"s3cret-Bind!\"",
        )
        .unwrap();
        assert!(!format!("{parsed:?}").contains("s3cret-Bind!"));
        assert_eq!(parsed.bind_password.expose(), "s3cret-Bind!");
    }

    #[test]
    fn defaults_follow_the_flavor() {
        let ol = config(Flavor::OpenLdap, "ldaps://x");
        assert_eq!((ol.login_attribute(), ol.user_filter()), ("uid", "(objectClass=person)"));
        let ad = config(Flavor::ActiveDirectory, "ldaps://x");
        assert_eq!(ad.login_attribute(), "userPrincipalName");
        assert!(
            toml::from_str::<LdapConfig>(
                "url = \"ldaps://x\"\nbase_dn = \"d\"\nbind_dn = \"b\"\nbind_password = \"p\"\nbogus = 1"
            )
            .is_err()
        );
    }

    #[test]
    fn insecure_or_malformed_configurations_are_refused() {
        let err = |c: LdapConfig| c.validate().err().map(|e| e.message().to_owned()).unwrap_or_default();
        assert!(err(config(Flavor::OpenLdap, "ldap://x")).contains("in clear"));
        assert!(err(config(Flavor::ActiveDirectory, "ldap://x")).contains("ldaps:// or StartTLS"));
        assert!(err(config(Flavor::OpenLdap, "http://x")).contains("neither"));
        let mut c = config(Flavor::OpenLdap, "ldaps://x");
        c.login_attribute = Some("uid)(objectClass=*".into());
        assert!(err(c).contains("not an attribute name"));
        let mut c = config(Flavor::OpenLdap, "ldaps://x");
        c.pool_size = 0;
        assert!(err(c).contains("pool_size"));
        let mut c = config(Flavor::OpenLdap, "ldaps://x");
        c.sign_in_connections = 0;
        assert!(err(c).contains("sign_in_connections"));
        let mut c = config(Flavor::OpenLdap, "ldaps://x");
        c.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(err(c).contains("cannot read ca_file"));
        let mut c = config(Flavor::OpenLdap, "ldap://x");
        c.starttls = true;
        assert!(c.validate().is_ok());
        let mut c = config(Flavor::OpenLdap, "ldap://x");
        c.allow_plaintext = true;
        assert!(c.validate().is_ok());
    }
}
