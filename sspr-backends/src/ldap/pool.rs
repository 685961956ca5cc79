//! A small pool of connections bound as the service account, replaced when they break.

use std::future::Future;
use std::sync::{Arc, Mutex};

use std::collections::HashSet;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, Mod, Scope, SearchEntry, SearchOptions};
use sspr_core::{BackendError, BackendErrorKind};
use tokio::sync::Semaphore;

use super::config::LdapConfig;

/// Entries asked for per page of a paged search: below both slapd's default size limit (500)
/// and Active Directory's `MaxPageSize` (1,000).
pub(crate) const PAGE_SIZE: i32 = 400;

/// What went wrong talking to the directory, with only safe text: ldap3's own errors can hold
/// the request (and so a password) in their `Debug` form, so they are never kept as a source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LdapFailure(pub(crate) String);

/// An operation's error: either the transport failed or the server answered with a code.
pub(crate) enum OpError {
    /// The connection failed. `sent` is false when the request surely never left.
    Transport { message: String, sent: bool },
    /// The server answered with a non-success result.
    Result(LdapResult),
}

impl OpError {
    /// As a backend error.
    pub(crate) fn into_backend_error(self) -> BackendError {
        match self {
            OpError::Transport { message, .. } => unavailable(message),
            OpError::Result(result) => super::directory::result_error(&result),
        }
    }
}

impl From<LdapError> for OpError {
    fn from(error: LdapError) -> Self {
        match error {
            LdapError::LdapResult { result } => OpError::Result(result),
            // The request was not handed to the connection: the connection had closed.
            LdapError::OpSend { .. } => OpError::Transport { message: "connection closed".into(), sent: false },
            LdapError::Timeout { .. } => OpError::Transport { message: "operation timed out".into(), sent: true },
            LdapError::Io { source } => OpError::Transport { message: format!("I/O error: {source}"), sent: true },
            LdapError::ResultRecv { .. } => {
                OpError::Transport { message: "connection closed before the answer".into(), sent: true }
            }
            other => OpError::Transport { message: safe_message(&other), sent: true },
        }
    }
}

/// The `Display` text of errors that cannot hold a request; a fixed text for the others.
fn safe_message(error: &LdapError) -> String {
    match error {
        LdapError::OpSend { .. } | LdapError::IdScrubSend { .. } | LdapError::MiscSend { .. } => {
            "connection closed".into()
        }
        other => other.to_string(),
    }
}

pub(crate) fn unavailable(message: impl Into<String>) -> BackendError {
    let message = message.into();
    BackendError::new(BackendErrorKind::Unavailable, format!("directory unavailable: {message}"))
        .with_source(LdapFailure(message))
}

/// Connections bound as the service account, at most `pool_size` in use at once.
pub(crate) struct Pool {
    config: LdapConfig,
    tls: Arc<rustls::ClientConfig>,
    idle: Mutex<Vec<Ldap>>,
    permits: Semaphore,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("url", &self.config.url).field("size", &self.config.pool_size).finish()
    }
}

impl Pool {
    pub(crate) fn new(config: LdapConfig, tls: Arc<rustls::ClientConfig>) -> Self {
        let permits = Semaphore::new(config.pool_size);
        Self { config, tls, idle: Mutex::new(Vec::new()), permits }
    }

    /// A new connection to the server (TLS as configured), not bound.
    pub(crate) async fn connect(&self) -> Result<Ldap, BackendError> {
        Ok(self.connect_driven().await?.0)
    }

    /// The same, with the task driving it: it ends when the connection is closed.
    pub(crate) async fn connect_driven(&self) -> Result<(Ldap, tokio::task::JoinHandle<()>), BackendError> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.config.connect_timeout())
            .set_starttls(self.config.starttls)
            .set_config(self.tls.clone());
        let connect = LdapConnAsync::with_settings(settings, &self.config.url);
        let (conn, ldap) = match tokio::time::timeout(self.config.connect_timeout(), connect).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                return Err(unavailable(format!("cannot connect to {}: {}", self.config.url, safe_message(&e))));
            }
            Err(_) => return Err(unavailable(format!("cannot connect to {}: timed out", self.config.url))),
        };
        let driver = tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %safe_message(&e), "ldap connection ended");
            }
        });
        Ok((ldap, driver))
    }

    /// A new connection bound as the service account.
    async fn connect_bound(&self) -> Result<Ldap, BackendError> {
        let mut ldap = self.connect().await?;
        let bind = ldap
            .with_timeout(self.config.operation_timeout())
            .simple_bind(&self.config.bind_dn, self.config.bind_password.expose())
            .await;
        match bind {
            Ok(result) if result.rc == 0 => Ok(ldap),
            Ok(result) => Err(BackendError::new(
                BackendErrorKind::Other,
                format!("the directory refused the service account {}: {}", self.config.bind_dn, result_text(&result)),
            )),
            Err(e) => Err(unavailable(format!("service account bind: {}", safe_message(&e)))),
        }
    }

    /// Run `op` on a pooled connection. A connection that fails is dropped; when it failed
    /// before the request left (`sent == false`) or `idempotent`, `op` runs once more on a
    /// fresh connection (the usual case after a server restart: the pooled one is dead).
    pub(crate) async fn run<T, F, Fut>(&self, idempotent: bool, op: F) -> Result<T, OpFailure>
    where
        F: Fn(Conn) -> Fut,
        Fut: Future<Output = Result<T, OpError>>,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| OpFailure::Backend(unavailable("the connection pool is closed")))?;
        let mut last = String::new();
        for _ in 0..2 {
            let (ldap, pooled) = match self.take_idle() {
                Some(ldap) => (ldap, true),
                None => (self.connect_bound().await.map_err(OpFailure::Backend)?, false),
            };
            match op(Conn { ldap: ldap.clone(), timeout: self.config.operation_timeout() }).await {
                Ok(value) => {
                    self.put_back(ldap);
                    return Ok(value);
                }
                Err(OpError::Result(result)) => {
                    // The connection works: the server answered.
                    self.put_back(ldap);
                    return Err(OpFailure::Result(result));
                }
                Err(OpError::Transport { message, sent }) => {
                    last = message;
                    if !(pooled && (idempotent || !sent)) {
                        break;
                    }
                    tracing::debug!(error = %last, "pooled ldap connection failed, retrying on a new one");
                }
            }
        }
        Err(OpFailure::Backend(unavailable(last)))
    }

    fn take_idle(&self) -> Option<Ldap> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(mut ldap) = idle.pop() {
            if !ldap.is_closed() {
                return Some(ldap);
            }
        }
        None
    }

    fn put_back(&self, mut ldap: Ldap) {
        if ldap.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(ldap);
        }
    }
}

/// Why a pooled operation failed.
pub(crate) enum OpFailure {
    /// Unreachable or misconfigured: already a backend error.
    Backend(BackendError),
    /// The server answered with this result.
    Result(LdapResult),
}

/// The server's diagnostic text, trimmed, for messages (servers never echo passwords).
pub(crate) fn result_text(result: &LdapResult) -> String {
    let text = result.text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    if text.is_empty() { format!("result code {}", result.rc) } else { format!("{text} (result code {})", result.rc) }
}

/// One connection lent to an operation; every call has the configured timeout.
pub(crate) struct Conn {
    ldap: Ldap,
    timeout: Duration,
}

impl Conn {
    /// Search; a size-limit answer (rc 4) still returns the entries it got. Search result
    /// references (RFC 4511 4.5.3: part of the answer is held by another server) are left
    /// out: [`Conn::search_with_refs`] counts them.
    pub(crate) async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        size_limit: i32,
    ) -> Result<(Vec<SearchEntry>, u32), OpError> {
        let (entries, rc, _) = self.search_with_refs(base, scope, filter, attrs, size_limit).await?;
        Ok((entries, rc))
    }

    /// [`Conn::search`], also telling how many search result references the answer held
    /// (a `referral` entry under `base`, read without ManageDsaIT): entries this server did
    /// not return. ldap3's `search` (its `EntriesOnly` adapter) collects them in the
    /// result's `refs`; one left among the entries (`ResultEntry::is_ref`) is counted too,
    /// never made into an entry with an empty DN.
    pub(crate) async fn search_with_refs(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        size_limit: i32,
    ) -> Result<(Vec<SearchEntry>, u32, usize), OpError> {
        let result = self
            .ldap
            .with_timeout(self.timeout)
            .with_search_options(SearchOptions::new().sizelimit(size_limit))
            .search(base, scope, filter, attrs.to_vec())
            .await?;
        let (entries, res) = (result.0, result.1);
        let (inline, entries): (Vec<_>, Vec<_>) =
            entries.into_iter().filter(|e| !e.is_intermediate()).partition(|e| e.is_ref());
        let refs = res.refs.len() + inline.len();
        match res.rc {
            0 | 4 => Ok((entries.into_iter().map(SearchEntry::construct).collect(), res.rc, refs)),
            // The base itself does not exist: no entries.
            32 => Ok((Vec::new(), res.rc, refs)),
            _ => Err(OpError::Result(res)),
        }
    }

    /// Compare `attr` of `dn` with `value`: the result code (5 compareFalse, 6 compareTrue,
    /// 16 noSuchAttribute, 50 insufficientAccessRights, ...).
    pub(crate) async fn compare(&mut self, dn: &str, attr: &str, value: &str) -> Result<u32, OpError> {
        let result = self.ldap.with_timeout(self.timeout).compare(dn, attr, value).await?;
        Ok(result.0.rc)
    }

    /// Search for every entry, in pages (the Paged Results control, RFC 2696) of
    /// [`PAGE_SIZE`]: what a listing needs, since a directory caps one answer (slapd's
    /// `sizelimit`, 500 by default; Active Directory's `MaxPageSize`, 1,000) but lets a client
    /// read on page by page. Referrals are skipped. A size-limit answer (rc 4) here means a
    /// total cap on paged searches (slapd's `size.prtotal`) cut the listing short: an error
    /// (`result_error` names the setting), never a silently shorter listing.
    pub(crate) async fn search_paged(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<SearchEntry>, OpError> {
        let adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> =
            vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(PAGE_SIZE))];
        let mut search = self
            .ldap
            .with_timeout(self.timeout)
            .streaming_search_with(adapters, base, scope, filter, attrs.to_vec())
            .await?;
        let mut entries = Vec::new();
        while let Some(entry) = search.next().await? {
            entries.push(SearchEntry::construct(entry));
        }
        let result = search.finish().await;
        match result.rc {
            0 => Ok(entries),
            32 => Ok(Vec::new()),
            _ => Err(OpError::Result(result)),
        }
    }

    /// Read one entry (base scope); `None` when it does not exist.
    pub(crate) async fn read(&mut self, dn: &str, attrs: &[&str]) -> Result<Option<SearchEntry>, OpError> {
        let (entries, _) = self.search(dn, Scope::Base, "(objectClass=*)", attrs, 1).await?;
        Ok(entries.into_iter().next())
    }

    /// The Password Modify extended operation (RFC 3062) setting `dn`'s password: the server
    /// hashes it as configured. No old password: the service account's right to write
    /// `userPassword` is what allows it.
    pub(crate) async fn password_modify(&mut self, dn: &str, new: &str) -> Result<(), OpError> {
        let exop = ldap3::exop::PasswordModify { user_id: Some(dn), old_pass: None, new_pass: Some(new) };
        let result = self.ldap.with_timeout(self.timeout).extended(exop).await?.1;
        if result.rc == 0 { Ok(()) } else { Err(OpError::Result(result)) }
    }

    /// One modify operation, all changes applied or none.
    pub(crate) async fn modify(&mut self, dn: &str, mods: Vec<Mod<Vec<u8>>>) -> Result<(), OpError> {
        let result = self.ldap.with_timeout(self.timeout).modify(dn, mods).await?;
        if result.rc == 0 { Ok(()) } else { Err(OpError::Result(result)) }
    }
}

/// A set of one value.
pub(crate) fn one(value: impl Into<Vec<u8>>) -> HashSet<Vec<u8>> {
    HashSet::from([value.into()])
}
