//! The portal's configuration: embedded defaults for the demo, a TOML file for a real
//! deployment (directory, stores, notifiers and policy switch without code changes).
//!
//! Every table and key is optional; `sspr-portal/portal.example.toml` lists them all.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sspr_backends::config::BackendsConfig;
pub use sspr_backends::config::{
    AuditConfig, AuditQueueConfig, ContactsCheckConfig, ContactsConfig, DirectoryConfig, NotifierConfig,
    PasswordChecksConfig, SmsConfig, SqliteStoreConfig, StateConfig, StoreConfig,
};
use sspr_core::{Error, Policy, Result};

/// The group whose members may use `/admin` in the demo directory.
pub const DEMO_ADMIN_GROUP: &str = "cn=sspr-admins,ou=groups,dc=example,dc=org";

/// Whether the host of an `http(s)://host[:port]/...` URL is this machine.
fn url_host_is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How an OpenID Connect sign-in's account is tied to the directory user its username names
/// ([`Config::oidc_account`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OidcAccount {
    /// Graph: the ID token's `oid` is the directory's user id.
    ObjectId,
    /// The user's entry holds exactly one value of attribute `name`, and it is `prefix`
    /// followed by the ID token's `oid` (else its `sub`).
    Attribute { name: String, prefix: String },
    /// `trust_username`: the operator's word that the username alone names the account.
    Username,
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// Address to serve `/metrics` (Prometheus text) on, apart from the pages. Off by default:
    /// the counts tell a prober how the service reacts, so they belong on an internal address
    /// for the operator's scraper, never behind the public proxy (and with no recorder
    /// installed the engine's counters cost nothing).
    pub metrics_listen: Option<String>,
    /// Export the engine's tracing spans (a span per engine call, a child per backend call)
    /// over OTLP/HTTP to this collector URL, e.g. `http://127.0.0.1:4318/v1/traces`. Off
    /// by default.
    pub otlp_endpoint: Option<String>,
    /// With `otlp_endpoint`: the share of resets traced, `0.0..=1.0` (the SDK's
    /// `ParentBased(TraceIdRatioBased)` sampler: a trace is kept or dropped whole, by its
    /// trace id). Default: not set here, so the standard `OTEL_TRACES_SAMPLER` /
    /// `OTEL_TRACES_SAMPLER_ARG` variables decide, and without them every reset is traced.
    pub otlp_sample_ratio: Option<f64>,
    /// With `otlp_endpoint`: export a child span per backend call (directory, store,
    /// notifier, audit sink; the engine's DEBUG-level spans) under each engine call's span.
    /// Default false: one span per engine call (and per PIN delivery) only, which keeps the
    /// export near the 10% overhead goal where the backend spans cost 1.4-1.6x a flow's
    /// instructions (BENCHMARKS.md section 11); each backend call's latency is in the
    /// `sspr_backend_call_seconds` histograms anyway. Turn it on to see them in a trace.
    pub otlp_backend_spans: bool,
    /// The URL users reach the portal at. With `https://` cookies are marked `Secure`
    /// (and named `__Host-...`) and HSTS is sent; put the portal behind a TLS proxy for that.
    pub public_url: Option<String>,
    /// Where the portal keeps its files (secret key, SQLite file, audit log). Default
    /// `.sspr-portal` in the working directory; created mode 0700 when missing; one every
    /// account may write in is refused.
    pub data_dir: PathBuf,
    /// The server secret key file (64+ hex digits). Created once, mode 0600, when missing.
    /// Default `<data_dir>/secret.key`.
    pub secret_key_file: Option<PathBuf>,
    /// Server key files retired recently, newest first (each must exist; none is created): a
    /// key rotation keeps the blocks, failure counts and pending resets made under them, and
    /// decoy masks come from the last (oldest) one. See README "Rotating the server key".
    /// Default none.
    pub previous_key_files: Vec<PathBuf>,
    /// A session ends after this many minutes without a request. Default 15.
    pub session_idle_minutes: u64,
    /// A session ends this many minutes after it began, whatever happens. Default 60.
    pub session_max_minutes: u64,
    /// Most sessions held at once in memory. A session begins at the first form that needs
    /// server state (anonymous pages need none); when the table is full the least recently
    /// used session ends. Default 100000. (Sessions in the state store are bounded by the
    /// per-address cap and their expiry instead.)
    pub max_sessions: usize,
    /// Most sessions held for one client address (an IPv6 address counts by its /64), so that
    /// one address cannot push everyone else's sessions out; its least recently used session
    /// ends first (in the state store: its oldest). Behind a reverse proxy list it in
    /// `trusted_proxies`, or every visitor shares the proxy's address. Default 100.
    pub max_sessions_per_ip: usize,
    /// Most connections open at once, for the pages (and as many again for `/metrics`).
    /// Keep it below the process's file-descriptor limit (`ulimit -n`, 1024 by default on
    /// most systems) less what the backends, the files and the metrics listener need: a
    /// connection past it is closed at once, so a flood of connections leaves the process the
    /// descriptors its directory, stores and notifiers connect with. Default 768.
    pub max_connections: usize,
    /// Most connections open at once from one client address (the peer; an IPv6 address
    /// counts by its /64), so that one address holding unfinished requests cannot take every
    /// connection. A peer listed in `trusted_proxies` is exempt (every visitor behind a proxy
    /// shares its address; only `max_connections` bounds it): cap connections per client in
    /// the proxy then. Default 64.
    pub max_connections_per_ip: usize,
    /// Keep sessions in the state store (sealed, see docs/ARCHITECTURE.md) instead of process
    /// memory, so that several instances behind a balancer serve one visitor without sticky
    /// sessions. Default: on when a shared `[state]` store is configured, off otherwise.
    pub sessions_in_state: Option<bool>,
    /// Serve plain http to other hosts than this one. Off by default: the portal refuses to
    /// start when it listens on a non-loopback address, or is reached at an `http://`
    /// `public_url` that is not loopback, because cookies, CSRF tokens, PINs and temporary
    /// passwords would cross the network in clear (and a session cookie could be planted).
    pub allow_insecure_http: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed for the client's address (the
    /// engine's per-IP limits use it): addresses (`"10.0.0.5"`) or networks (`"10.0.0.0/8"`,
    /// for a load balancer whose addresses change). Default: none; the peer address counts.
    pub trusted_proxies: Vec<String>,
    /// Directory groups (DN or common name; on a Graph directory the Entra object id, which
    /// alone counts there: display names are not unique) whose members may sign in to `/admin`. They are
    /// privileged as well (added to the policy's `privileged_groups`): an admin cannot reset
    /// their own password through the anonymous pages, and signs in to `/admin` only with a
    /// password the directory does not want changed (not a just-reset temporary one).
    pub admin_groups: Vec<String>,
    /// Serve `/outbox`, the development page showing every notice "sent" (with PINs).
    /// Default: on only while notices go to the in-memory outbox and the pages are reached
    /// from this host only (loopback `listen`, no `public_url` beyond it, no
    /// `trusted_proxies`), and then not to a request a reverse proxy forwarded.
    pub outbox_page: Option<bool>,
    /// Append every audit event as a JSON line to this file. Default `<data_dir>/audit.jsonl`.
    pub audit_log: Option<PathBuf>,
    /// A durable audit sink besides `audit_log` (`[audit]`: `kind = "sqlite"`, `"postgres"`,
    /// `"syslog"`, `"webhook"` or `"json_lines"`; see sspr-backends' README), behind the
    /// bounded queue of `[audit_queue]`. Default none.
    pub audit: Option<AuditConfig>,
    /// The queue in front of `[audit]` (`capacity`, default 4096; 0 writes inline).
    pub audit_queue: Option<AuditQueueConfig>,
    /// Policy fields (see `sspr_core::Policy`) laid over the portal's defaults.
    pub policy: toml::Table,
    /// The directory holding the accounts.
    pub directory: DirectoryConfig,
    /// Where contacts and reset state are kept.
    pub store: StoreConfig,
    /// Contacts read from the LDAP directory's own attributes instead of the `[store]`.
    pub contacts: Option<ContactsConfig>,
    /// On Active Directory, a test account bound at start-up to check what users may write of
    /// their own entry: the portal does not start when the `[contacts]` attributes are unsafe
    /// with those rights.
    pub contacts_check: Option<ContactsCheckConfig>,
    /// A state store (flows, counters, blocks) shared by several portal instances, instead of
    /// the `[store]`; contacts stay in the `[store]`.
    pub state: Option<StateConfig>,
    /// How e-mail notices (PINs) are delivered.
    pub notifier: NotifierConfig,
    /// How text messages are delivered. Default: the development outbox.
    pub sms: SmsConfig,
    /// Sign users in to the registration page with OpenID Connect (authorization code + PKCE)
    /// instead of a password form: needed with `[directory] kind = "graph"`, which cannot
    /// check passwords (application permissions only).
    pub oidc: Option<sspr_backends::graph::OidcConfig>,
    /// Checks of a chosen password beyond the policy's own (`[password_checks]`: a
    /// banned-words file, `[password_checks.breached]`); zxcvbn's minimum score is the
    /// policy's `password_min_score`.
    pub password_checks: Option<PasswordChecksConfig>,
    /// A bot challenge (CAPTCHA) on the reset start page (`[bot_challenge]`: Turnstile,
    /// hCaptcha or reCAPTCHA, see `sspr_backends::captcha`). Without it the portal serves no
    /// script at all.
    pub bot_challenge: Option<sspr_backends::config::BotChallengeConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            metrics_listen: None,
            otlp_endpoint: None,
            otlp_sample_ratio: None,
            otlp_backend_spans: false,
            public_url: None,
            data_dir: PathBuf::from(".sspr-portal"),
            secret_key_file: None,
            previous_key_files: Vec::new(),
            session_idle_minutes: 15,
            session_max_minutes: 60,
            max_sessions: 100_000,
            max_sessions_per_ip: 100,
            max_connections: 768,
            max_connections_per_ip: 64,
            sessions_in_state: None,
            allow_insecure_http: false,
            trusted_proxies: Vec::new(),
            admin_groups: vec![DEMO_ADMIN_GROUP.into()],
            outbox_page: None,
            audit_log: None,
            audit: None,
            audit_queue: None,
            policy: toml::Table::new(),
            directory: DirectoryConfig::Memory { seed_file: None },
            store: StoreConfig::Sqlite(SqliteStoreConfig::default()),
            contacts: None,
            contacts_check: None,
            state: None,
            notifier: NotifierConfig::Outbox,
            sms: SmsConfig::Outbox,
            oidc: None,
            password_checks: None,
            bot_challenge: None,
        }
    }
}

impl Config {
    /// Parse a configuration from TOML text; the error names the offending key.
    pub fn from_toml(text: &str) -> Result<Self> {
        // Without the source line toml's errors quote: it may hold a password.
        let config: Self = toml::from_str(text)
            .map_err(|e| Error::Config(format!("portal config: {}", sspr_backends::config::toml_error(text, &e))))?;
        config.check()?;
        Ok(config)
    }

    /// Read and parse a configuration file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read the config file {}: {e}", path.display())))?;
        Self::from_toml(&text)
    }

    fn check(&self) -> Result<()> {
        self.listen_addr()?;
        if self.previous_key_files.len() > sspr_core::SsprBuilder::MAX_PREVIOUS_KEYS {
            return Err(Error::Config(format!(
                "previous_key_files lists at most {} files",
                sspr_core::SsprBuilder::MAX_PREVIOUS_KEYS
            )));
        }
        self.metrics_addr()?;
        self.trusted_proxies()?;
        if !(1..=24 * 60).contains(&self.session_idle_minutes) {
            return Err(Error::Config("session_idle_minutes must be 1..=1440".into()));
        }
        if !(self.session_idle_minutes..=7 * 24 * 60).contains(&self.session_max_minutes) {
            return Err(Error::Config("session_max_minutes must be session_idle_minutes..=10080".into()));
        }
        if !(1..=10_000_000).contains(&self.max_sessions) {
            return Err(Error::Config("max_sessions must be 1..=10000000".into()));
        }
        if !(1..=10_000_000).contains(&self.max_sessions_per_ip) {
            return Err(Error::Config("max_sessions_per_ip must be 1..=10000000".into()));
        }
        if !(1..=10_000_000).contains(&self.max_connections) {
            return Err(Error::Config("max_connections must be 1..=10000000".into()));
        }
        if !(1..=10_000_000).contains(&self.max_connections_per_ip) {
            return Err(Error::Config("max_connections_per_ip must be 1..=10000000".into()));
        }
        if let Some(ratio) = self.otlp_sample_ratio
            && !(0.0..=1.0).contains(&ratio)
        {
            return Err(Error::Config(format!("otlp_sample_ratio = {ratio} must be 0.0..=1.0")));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::Config("public_url must start with http:// or https://".into()));
        }
        self.check_transport()?;
        self.oidc_account()?;
        let policy = self.policy()?;
        self.check_sms(&policy)?;
        Ok(())
    }

    /// How an OpenID Connect sign-in's account is tied to the directory user its
    /// `preferred_username` names (`None` without `[oidc]`): a Graph directory's object id,
    /// else `[oidc] subject_attribute` (LDAP only) or the operator's `trust_username`, one of
    /// them and no more. Neither, on a directory other than Graph, is a `Config` error: the
    /// username alone would let a provider account named like a directory user become them
    /// (THREAT_MODEL R.49).
    pub(crate) fn oidc_account(&self) -> Result<Option<OidcAccount>> {
        let Some(oidc) = &self.oidc else { return Ok(None) };
        let attribute = oidc.subject_attribute.as_deref().map(str::trim);
        if let Some(name) = attribute
            && (name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';'))
        {
            return Err(Error::Config(format!("[oidc] subject_attribute = {name:?} is not an LDAP attribute name")));
        }
        if attribute.is_none() && !oidc.subject_prefix.is_empty() {
            return Err(Error::Config("[oidc] subject_prefix is set without subject_attribute".into()));
        }
        match (&self.directory, attribute, oidc.trust_username) {
            (DirectoryConfig::Graph(_), None, false) => Ok(Some(OidcAccount::ObjectId)),
            (DirectoryConfig::Graph(_), _, _) => Err(Error::Config(
                "[oidc] subject_attribute and trust_username are not used with a Graph directory: the ID token's oid                  must be the user's object id. Remove them"
                    .into(),
            )),
            (_, Some(_), true) => Err(Error::Config(
                "[oidc] sets both subject_attribute and trust_username: choose one (subject_attribute ties the                  provider's account to the directory's; trust_username trusts the provider's usernames)"
                    .into(),
            )),
            (DirectoryConfig::Ldap(_), Some(name), false) => {
                Ok(Some(OidcAccount::Attribute { name: name.to_owned(), prefix: oidc.subject_prefix.clone() }))
            }
            (_, Some(_), false) => Err(Error::Config(
                "[oidc] subject_attribute needs [directory] kind = \"ldap\": this directory has no attributes to                  read"
                    .into(),
            )),
            (_, None, true) => Ok(Some(OidcAccount::Username)),
            (_, None, false) => Err(Error::Config(
                "[oidc] on a directory other than Graph needs subject_attribute (the LDAP attribute holding the                  provider's stable id of the account: its oid, else its sub) or trust_username = true (no account at                  the provider can choose its username): without either, a provider account whose                  preferred_username is another person's login would sign in as them"
                    .into(),
            )),
        }
    }

    /// `trusted_proxies` parsed: `Config` naming the entry that is neither an address nor a network.
    pub fn trusted_proxies(&self) -> Result<sspr_core::TrustedProxies> {
        sspr_core::TrustedProxies::parse(&self.trusted_proxies)
    }

    /// Everything [`Config::from_toml`] checks, again: the portal runs it at start, after
    /// command-line options (`--listen`) changed the parsed file.
    pub fn validate(&self) -> Result<()> {
        self.check()
    }

    /// Plain http is only for this host: refuse a non-loopback listen address or `http://`
    /// public URL unless `allow_insecure_http` says otherwise.
    fn check_transport(&self) -> Result<()> {
        if self.is_https() || self.allow_insecure_http {
            return Ok(());
        }
        let listen = self.listen_addr()?;
        if !listen.ip().is_loopback() {
            return Err(Error::Config(format!(
                "listen = \"{listen}\" serves plain http beyond this host: cookies, CSRF tokens, PINs and temporary \
                 passwords would cross the network in clear. Put the portal behind a TLS proxy and set public_url = \
                 \"https://...\", or set allow_insecure_http = true"
            )));
        }
        if let Some(url) = &self.public_url
            && !url_host_is_loopback(url)
        {
            return Err(Error::Config(format!(
                "public_url = \"{url}\" is plain http beyond this host; use https:// (a TLS proxy in front) or set \
                 allow_insecure_http = true"
            )));
        }
        Ok(())
    }

    /// SMS switched on needs somewhere real to send them once e-mail is real: otherwise PINs
    /// by text message would silently land in the in-memory outbox (nobody receives them,
    /// and the outbox page is off).
    fn check_sms(&self, policy: &Policy) -> Result<()> {
        if policy.sms_enabled && self.email_is_real() && matches!(self.sms, SmsConfig::Outbox) {
            return Err(Error::Config(
                "[policy] sms_enabled = true while e-mail is real but [sms] is the development outbox: text messages \
                 would go nowhere. Configure [sms] (kind = \"twilio\" or \"webhook\") or set sms_enabled = false"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Whether e-mail notices really leave the portal.
    fn email_is_real(&self) -> bool {
        !matches!(self.notifier, NotifierConfig::Outbox)
    }

    /// The socket address to serve `/metrics` on, if configured.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>> {
        self.metrics_listen
            .as_deref()
            .map(|a| a.parse().map_err(|_| Error::Config(format!("metrics_listen = {a:?} is not an address:port"))))
            .transpose()
    }

    /// The socket address to listen on.
    pub fn listen_addr(&self) -> Result<SocketAddr> {
        self.listen.parse().map_err(|_| Error::Config(format!("listen = {:?} is not an address:port", self.listen)))
    }

    /// Whether the portal is reached over https (cookies get `Secure`, HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// The policy: the portal's defaults with the `[policy]` table laid over them, validated.
    ///
    /// The portal's defaults are `Policy::default()` with a minimum response time of 300 ms
    /// (so answers do not tell real accounts from unknown ones by their timing) and, for the
    /// demo directory, the staff OU eligible and SMS on (unless e-mail is real and text
    /// messages would only reach the outbox); `registration_url` is this portal's
    /// `/passwordnotification` at `public_url` (or at `listen`, when that is loopback). The
    /// `admin_groups` are always added to `privileged_groups`.
    pub fn policy(&self) -> Result<Policy> {
        let mut base = Policy { min_response_ms: 300, ..Policy::default() };
        // Reminders link to this portal's registration page, where it is reached (a URL the
        // policy would refuse, plain http:// to another host, is left for `[policy]` to set).
        // `listen` on port 0 (any free port) names no page yet.
        let page = match &self.public_url {
            Some(url) => Some(format!("{}/passwordnotification", url.trim_end_matches('/'))),
            None if self.listen.ends_with(":0") => None,
            None => Some(format!("http://{}/passwordnotification", self.listen)),
        };
        if let Some(page) = page
            && (Policy { registration_url: page.clone(), ..Policy::default() }).validate().is_ok()
        {
            base.registration_url = page;
        }
        if matches!(self.directory, DirectoryConfig::Memory { .. }) {
            base.sms_enabled = !self.email_is_real() || !matches!(self.sms, SmsConfig::Outbox);
            base.eligible_ous = vec!["ou=staff,dc=example,dc=org".into()];
            base.decoy_country_codes = vec!["44".into(), "49".into()];
            // The demo's addresses are all under the reserved `.example` TLD: decoys drawn from
            // real-world TLDs (`.com`, `.uk`, ...) would tell an unknown login from a known one
            // at a glance. A deployment's decoy tables follow its users' addresses the same way.
            base.decoy_email_tlds = vec!["example".into()];
        }
        let mut table: toml::Table =
            toml::from_str(&base.to_toml()?).map_err(|e| Error::Config(format!("policy defaults: {e}")))?;
        for (key, value) in &self.policy {
            table.insert(key.clone(), value.clone());
        }
        // Read from the merged table itself, as every binding reads a policy file: its errors
        // name the key, where text made from it would be quoted by a line of that text, not
        // of the operator's file.
        let mut policy = Policy::from_toml_table(table)?;
        // An admin is privileged: a helpdesk member who could reset their own password through
        // a phished mailbox would take the admin pages over.
        for group in &self.admin_groups {
            if !policy.privileged_groups.iter().any(|g| g.eq_ignore_ascii_case(group)) {
                policy.privileged_groups.push(group.clone());
            }
        }
        Ok(policy)
    }

    /// The backends' part of the configuration (`sspr_backends::config`, the schema the
    /// Python and Node bindings read too).
    pub fn backends(&self) -> BackendsConfig {
        BackendsConfig {
            directory: self.directory.clone(),
            store: self.store.clone(),
            contacts: self.contacts.clone(),
            contacts_check: self.contacts_check.clone(),
            state: self.state.clone(),
            notifier: self.notifier.clone(),
            sms: self.sms.clone(),
            audit: self.audit.clone(),
            audit_queue: self.audit_queue.clone(),
            password_checks: self.password_checks.clone(),
            bot_challenge: self.bot_challenge.clone(),
        }
    }

    /// Whether sessions live in the state store (see `sessions_in_state`).
    pub fn sessions_in_state_store(&self) -> bool {
        self.sessions_in_state.unwrap_or(self.state.is_some())
    }

    /// The secret key file.
    pub fn secret_key_path(&self) -> PathBuf {
        self.secret_key_file.clone().unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    /// The audit log file.
    pub fn audit_log_path(&self) -> PathBuf {
        self.audit_log.clone().unwrap_or_else(|| self.data_dir.join("audit.jsonl"))
    }

    /// Whether `/outbox` is served: as `outbox_page` says, else while notices go to the
    /// outbox and the pages are reached from this host only (a loopback `listen`, no
    /// `public_url` beyond it and no `trusted_proxies`: a proxy brings visitors from
    /// elsewhere). The page shows every PIN: behind a TLS proxy or on a public address (the
    /// outbox kept by a forgotten `[notifier]`) it would hand anyone every reset. Served by
    /// default, it still refuses a request a reverse proxy forwarded (see `pages::outbox`).
    pub fn outbox_page_enabled(&self) -> bool {
        let this_host_only = self.listen_addr().is_ok_and(|a| a.ip().is_loopback())
            && self.public_url.as_deref().is_none_or(url_host_is_loopback)
            && self.trusted_proxies.is_empty();
        self.outbox_page.unwrap_or(matches!(self.notifier, NotifierConfig::Outbox) && this_host_only)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_take_networks_and_a_bad_entry_stops_the_start() {
        let config = Config::from_toml("trusted_proxies = [\"10.0.0.0/8\", \"2001:db8::5\"]\n").unwrap();
        let trusted = config.trusted_proxies().unwrap();
        assert!(trusted.contains("10.200.0.1".parse().unwrap()) && trusted.contains("2001:db8::5".parse().unwrap()));
        for bad in ["proxy.example", "10.0.0.0/33", "10.0.0.5:80"] {
            let error = Config::from_toml(&format!("trusted_proxies = [\"{bad}\"]\n")).unwrap_err();
            assert!(error.to_string().contains("trusted_proxies") && error.to_string().contains(bad), "{error}");
        }
    }

    /// R.49: how the provider's account is tied to the directory user is explicit, one way only.
    #[test]
    fn oidc_needs_one_way_to_tie_the_account_to_the_directory_user() {
        let oidc = "[oidc]\nissuer = \"https://idp.example\"\nclient_id = \"c\"\nclient_secret = \"s\"\nredirect_uri = \"r\"\n";
        let ldap = "[directory]\nkind = \"ldap\"\nurl = \"ldaps://ldap.example\"\nbase_dn = \"dc=example,dc=org\"\n\
                    bind_dn = \"cn=svc,dc=example,dc=org\"\nbind_password = \"p\"\n";
        let graph = "[directory]\nkind = \"graph\"\ntenant_id = \"t\"\nclient_id = \"g\"\nclient_secret = \"s\"\n";
        let account = |text: String| Config::from_toml(&text).map(|c| c.oidc_account().ok().flatten());
        let attribute = |prefix: &str| OidcAccount::Attribute { name: "employeeNumber".into(), prefix: prefix.into() };
        assert_eq!(account(format!("{graph}{oidc}")).unwrap(), Some(OidcAccount::ObjectId));
        assert_eq!(account(format!("{oidc}trust_username = true\n")).unwrap(), Some(OidcAccount::Username));
        assert_eq!(
            account(format!("{ldap}{oidc}subject_attribute = \"employeeNumber\"\n")).unwrap(),
            Some(attribute(""))
        );
        assert_eq!(
            account(format!("{ldap}{oidc}subject_attribute = \"employeeNumber\"\nsubject_prefix = \"User_\"\n"))
                .unwrap(),
            Some(attribute("User_"))
        );
        for refused in [
            oidc.to_owned(),
            format!("{ldap}{oidc}"),
            format!("{oidc}subject_attribute = \"employeeNumber\"\n"),
            format!("{ldap}{oidc}subject_attribute = \"employeeNumber\"\ntrust_username = true\n"),
            format!("{ldap}{oidc}subject_attribute = \"a b\"\n"),
            format!("{ldap}{oidc}subject_prefix = \"User_\"\ntrust_username = true\n"),
            format!("{graph}{oidc}trust_username = true\n"),
            format!("{graph}{oidc}subject_attribute = \"employeeNumber\"\n"),
        ] {
            let error = Config::from_toml(&refused).map(|_| ()).unwrap_err().to_string();
            assert!(error.contains("[oidc]"), "{refused}: {error}");
        }
        // Without [oidc] nothing is asked.
        assert_eq!(account(ldap.to_owned()).unwrap(), None);
    }

    #[test]
    fn defaults_are_the_demo() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.listen_addr().unwrap().to_string(), "127.0.0.1:8080");
        let policy = config.policy().unwrap();
        assert_eq!(policy.min_response_ms, 300);
        assert!(policy.sms_enabled);
        assert!(config.outbox_page_enabled());
        assert!(!config.is_https());
    }

    #[test]
    fn policy_table_is_laid_over_the_defaults_and_validated() {
        let config = Config::from_toml("[policy]\npin_length = 6\n").unwrap();
        let policy = config.policy().unwrap();
        assert_eq!(policy.pin_length, 6);
        assert_eq!(policy.min_response_ms, 300);
        let err = Config::from_toml("[policy]\npin_length = 3\n").unwrap_err();
        assert!(err.to_string().contains("pin_length"), "{err}");
        let err = Config::from_toml("[policy]\nno_such_field = 1\n").unwrap_err();
        assert!(err.to_string().contains("no_such_field"), "{err}");
    }

    /// A `[policy]` value of the wrong type is named by its key, not by a line of the policy
    /// the portal lays over its defaults (once "line 34" of a two-line config file).
    #[test]
    fn a_policy_value_of_the_wrong_type_is_named_by_its_key() {
        let err = Config::from_toml("[policy]\npin_length = \"six\"\n").unwrap_err().to_string();
        assert!(err.contains("pin_length") && !err.contains("line "), "{err}");
    }

    #[test]
    fn the_example_file_parses() {
        let config = Config::from_toml(include_str!("../portal.example.toml")).unwrap();
        assert_eq!(config.policy().unwrap().pin_length, 8);
        assert!(matches!(config.store, StoreConfig::Sqlite(_)));
        assert!(Config::from_toml("[store]\nkind = \"sqlite\"\npth = \"x\"\n").is_err(), "a misspelt key is named");
    }

    #[test]
    fn a_shared_redis_state_store_is_configured_without_showing_its_password() {
        let config = Config::from_toml("[state]\nkind = \"redis\"\nurl = \"redis://:s3cret@cache:6379/0\"\n").unwrap();
        let Some(StateConfig::Redis(redis)) = &config.state else { panic!("redis expected") };
        assert_eq!(redis.key_prefix, "sspr:");
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(Config::from_toml("[state]\nkind = \"redis\"\nurl = \"redis://x\"\nbogus = 1\n").is_err());
    }

    #[test]
    fn smtp_is_configured_without_showing_its_password() {
        let config = Config::from_toml(
            "[notifier]\nkind = \"smtp\"\nhost = \"smtp.example.org\"\npassword = \"s3cret\"\nfrom = \"x@example.org\"\n",
        )
        .unwrap();
        assert!(matches!(config.notifier, NotifierConfig::Smtp(_)));
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(!config.outbox_page_enabled(), "no outbox page once e-mail is real");
        assert!(
            Config::from_toml("[notifier]\nkind = \"smtp\"\nfrom = \"x@example.org\"\n").is_err(),
            "host is required"
        );
    }

    #[test]
    fn ldap_is_configured_without_showing_its_password() {
        let config = Config::from_toml(
            "[directory]\nkind = \"ldap\"\nurl = \"ldaps://dc1.example.org\"\nflavor = \"active_directory\"\nbase_dn = \"DC=example,DC=org\"\nbind_dn = \"CN=svc\"\nbind_password = \"s3cret\"\n",
        )
        .unwrap();
        assert!(matches!(config.directory, DirectoryConfig::Ldap(_)));
        assert!(!format!("{config:?}").contains("s3cret"));
        let policy = config.policy().unwrap();
        assert!(!policy.sms_enabled && policy.eligible_ous.is_empty(), "the demo's policy is not a real directory's");
        assert_eq!(policy.min_response_ms, 300);
    }

    #[test]
    fn twilio_is_configured_without_showing_its_token() {
        let config = Config::from_toml(
            "[sms]\nkind = \"twilio\"\naccount_sid = \"AC123\"\nauth_token = \"s3cret\"\nfrom = \"+15005550006\"\n",
        )
        .unwrap();
        assert!(matches!(config.sms, SmsConfig::Twilio(_)));
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn a_parse_error_beside_a_secret_does_not_print_it() {
        // The portal prints this error at start, to the terminal and the service's log.
        for text in [
            "[notifier]\nkind = \"smtp\"\nhost = \"h\"\nfrom = \"a@b.org\"\npassword = \"s3cret\\q\"\n",
            "[oidc]\nissuer = \"https://login.example.org\"\nclient_id = \"c\"\nclient_secret = s3cret\n",
            "[store]\nkind = \"postgres\"\nurl = \"postgres://u:s3cret@db/sspr\"\nbogus = 1 }\n",
            "sms = { kind = \"twilio\", account_sid = \"AC1\", auth_token = \"s3cret\", from = 15005550006 }\n",
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(!err.contains("s3cret"), "{text}\n{err}");
            assert!(err.contains("line "), "{err}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        assert!(Config::from_toml("lisen = \"x\"").unwrap_err().to_string().contains("lisen"));
        assert!(Config::from_toml("listen = \"nowhere\"").unwrap_err().to_string().contains("listen"));
        assert!(Config::from_toml("metrics_listen = \"nowhere\"").unwrap_err().to_string().contains("metrics_listen"));
        assert_eq!(Config::default().metrics_addr().unwrap(), None, "off by default");
        assert_eq!(Config::default().otlp_endpoint, None, "tracing export off by default");
        let traced = Config::from_toml("otlp_endpoint = \"http://127.0.0.1:4318/v1/traces\"").unwrap();
        assert_eq!(traced.otlp_endpoint.as_deref(), Some("http://127.0.0.1:4318/v1/traces"));
        assert_eq!(
            (traced.otlp_sample_ratio, traced.otlp_backend_spans),
            (None, false),
            "every trace, no backend spans by default"
        );
        let sampled = Config::from_toml("otlp_sample_ratio = 0.25\notlp_backend_spans = true").unwrap();
        assert_eq!((sampled.otlp_sample_ratio, sampled.otlp_backend_spans), (Some(0.25), true));
        for bad in ["1.5", "-0.1", "nan"] {
            let e = Config::from_toml(&format!("otlp_sample_ratio = {bad}")).unwrap_err().to_string();
            assert!(e.contains("otlp_sample_ratio"), "{bad}: {e}");
        }
        let on = Config::from_toml("metrics_listen = \"127.0.0.1:9464\"").unwrap();
        assert_eq!(on.metrics_addr().unwrap().unwrap().to_string(), "127.0.0.1:9464");
        assert!(Config::from_toml("public_url = \"ftp://x\"").is_err());
        assert!(Config::from_toml("[directory]\nkind = \"nis\"").is_err());
        assert!(Config::from_toml("public_url = \"https://sspr.example.org\"").unwrap().is_https());
    }
}
