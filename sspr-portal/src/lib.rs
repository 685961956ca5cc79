//! The reset portal: axum, server-rendered HTML, no script.
//!
//! [`Portal::build`] turns a [`Config`] into the engine with its backends (the demo
//! directory, stores, the outbox or real notifiers), [`Portal::router`] serves the pages:
//!
//! | path | who | what |
//! | --- | --- | --- |
//! | `/passwordreset` | anyone | login, masked methods, PIN, temporary password shown once |
//! | `/passwordchange` | anyone with their current password | change it (the rules shown first); a must-change sign-in lands here |
//! | `/passwordnotification` | the user, signed in | view and change alternate e-mail and mobile (a new one proven by a code sent to it) |
//! | `/admin` | admins (directory group) | search users, enable, contacts, unblock, audit log; `/admin/report` (registration), `/admin/reports` (the last 30 days of a SQL audit trail, charts) |
//! | `/outbox` | development only | the notices "sent", with their PINs |
//!
//! The pages hold no reset logic: each form calls one `Sspr` operation and shows its answer.

pub mod config;
pub mod demo;
pub mod metrics;
/// The engine's spans over OTLP/HTTP: sspr-backends' pipeline, the one the bindings install too.
pub use sspr_backends::otlp;

mod audit;
mod csrf;
mod hmac;
mod key_check;
mod pages;
mod session;
mod text;
mod web;

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use sspr_backends::config::{Backends, BuildContext, DirectoryConfig};
use sspr_bind::EngineOptions;
use sspr_core::memory::Outbox;
use sspr_core::{Clock, Directory, Error, Result, SecretKey, Sspr, SystemClock};
use zeroize::Zeroizing;

pub use config::Config;

use audit::PortalAudit;
use session::{MemorySessions, SessionKeys, Sessions, SharedSessions};

/// Largest request body accepted (every form is small).
const BODY_LIMIT: usize = 16 * 1024;

/// How long [`Portal::serve`] waits for a request's head (from the connection's start, or from
/// the end of the answer before on a kept-alive one) and then for its body: a connection that
/// sends them no faster (slowloris, or nothing at all) is closed, so that one address cannot
/// hold sockets and tasks open until the process has no file descriptor left. Also how long
/// an answer's write may wait on a client that takes none of it.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// A built portal: the engine, its backends and the sessions.
#[derive(Debug, Clone)]
pub struct Portal {
    state: AppState,
    summary: String,
    audit_log: std::path::PathBuf,
    /// The queue in front of the `[audit]` sink, flushed when serving stops.
    audit_queue: Option<sspr_backends::audit_queue::QueuedAuditSink>,
    /// How many connections [`Portal::serve`] holds open at once.
    connections: ConnectionLimits,
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) sspr: Sspr,
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) outbox: Option<Outbox>,
    pub(crate) audit: PortalAudit,
    pub(crate) sessions: Sessions,
    /// Sessions just rotated by a verified PIN, for a double click's second request.
    pub(crate) forwards: session::Forwards,
    /// Signs the CSRF tokens of visitors without a session.
    pub(crate) csrf: csrf::CsrfKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) https: bool,
    pub(crate) trusted_proxies: sspr_core::TrustedProxies,
    pub(crate) admin_groups: sspr_core::GroupList,
    /// With a Graph directory: `admin_groups` as Entra object ids, matched against the
    /// directory's [`sspr_backends::graph::GROUP_ID_PREFIX`] entries only (display names are
    /// not unique, and any user may create a group named like the admin group or its id).
    pub(crate) admin_group_ids: Option<Vec<String>>,
    pub(crate) outbox_page: bool,
    /// `/outbox` is served only because nothing says the pages are reached from elsewhere
    /// (`outbox_page` not set): a request a reverse proxy forwarded is then refused.
    pub(crate) outbox_page_by_default: bool,
    /// The registration page's OpenID Connect sign-in, when configured.
    pub(crate) oidc: Option<sspr_backends::graph::OidcClient>,
    /// How the provider's account is tied to the directory user its `preferred_username`
    /// names (with `[oidc]`): on Graph the ID token's `oid` is the user id, elsewhere a
    /// directory attribute holds it, or the operator trusts the provider's usernames.
    pub(crate) oidc_account: Option<config::OidcAccount>,
    /// The figures of `/admin/reports`: the `[audit]` trail kept in SQL, when configured.
    pub(crate) audit_report: Option<Arc<dyn sspr_backends::audit_sql::AuditReport>>,
    /// The bot challenge's widget on the reset start page, when `[bot_challenge]` is set.
    pub(crate) widget: Option<web::Widget>,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Create `dir` (and its missing parents) for the portal's user alone (0700 on Unix): it holds
/// the contact store, the audit trail and the key, and the SQLite file is created with its
/// folder's permissions. A directory that exists keeps the permissions its owner gave it.
fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))
}

/// Refuse a data directory every account on the host may write in (`/tmp` itself, or a folder
/// someone else made 0777 before the portal's first start): whoever can write there can plant
/// the key file (a key they know) or the SQLite file (their own contacts for any user).
fn check_data_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(dir)
            .map_err(|e| Error::Config(format!("cannot read the data directory {}: {e}", dir.display())))?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o002 != 0 {
            return Err(Error::Config(format!(
                "the data directory {} is mode {mode:o}: every account on this host may write in it (plant the key \
                 or the contact store). Use a directory of the portal's own (chmod 700), not /tmp itself",
                dir.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A warning when the key file at `path` may be read or written by other accounts than the
/// portal's (group or others have any right on it): with the key they tell real accounts'
/// masks from decoys and open sealed sessions. Not refused: a container's mounted secret is
/// often 0644 with nobody else on the host.
fn key_file_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then(|| {
            format!(
                "WARNING: the secret key file {} is mode {mode:o}: other accounts on this host may read it. \
                 chmod 600 it (or 400)",
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The key in the file at `path`, read as `hex`. A refusal names the file: with a key ring
/// (`previous_key_files`) "the secret key is not valid hex" alone does not say which to fix.
fn key_from_file(path: &Path, hex: &str) -> Result<SecretKey> {
    SecretKey::from_hex(hex).map_err(|e| match e {
        Error::Config(reason) => Error::Config(format!("the key file {}: {reason}", path.display())),
        other => other,
    })
}

/// Read the secret key, or create it once (32 random bytes as hex, mode 0600). Also the
/// key file's text, from which the portal derives its own keys.
fn load_or_create_key(path: &Path) -> Result<(SecretKey, Zeroizing<String>)> {
    match std::fs::read_to_string(path) {
        Ok(hex) => {
            let hex = Zeroizing::new(hex);
            Ok((key_from_file(path, &hex)?, Zeroizing::new(hex.trim().to_owned())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let hex = session::random_token();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| Error::Config(format!("cannot create the key file {}: {e}", path.display())))?;
            std::io::Write::write_all(&mut file, hex.as_bytes())
                .map_err(|e| Error::Config(format!("cannot write the key file {}: {e}", path.display())))?;
            Ok((SecretKey::from_hex(&hex)?, Zeroizing::new(hex)))
        }
        Err(e) => Err(Error::Config(format!("cannot read the key file {}: {e}", path.display()))),
    }
}

/// The previous key files (`previous_key_files`): each must exist, none is created (a missing
/// one is a typo, not a key to make up).
fn load_previous_keys(paths: &[std::path::PathBuf]) -> Result<(Vec<SecretKey>, Vec<Zeroizing<String>>)> {
    let mut keys = Vec::with_capacity(paths.len());
    let mut texts = Vec::with_capacity(paths.len());
    for path in paths {
        let hex = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| Error::Config(format!("cannot read the previous key file {}: {e}", path.display())))?,
        );
        keys.push(key_from_file(path, &hex)?);
        texts.push(Zeroizing::new(hex.trim().to_owned()));
        if let Some(warning) = key_file_warning(path) {
            tracing::warn!("{warning}");
        }
    }
    Ok((keys, texts))
}

/// How many connections a serve loop holds open at once (`max_connections`,
/// `max_connections_per_ip`).
#[derive(Debug, Clone)]
struct ConnectionLimits {
    /// In all: below the process's file-descriptor limit, so that its backends, files and
    /// the metrics listener still get descriptors when the pages are flooded.
    max: usize,
    /// From one client address (an IPv6 /64 counts as one), so that one address cannot take
    /// them all.
    per_address: usize,
    /// Peers the per-address cap leaves out (`trusted_proxies`: every visitor behind a proxy
    /// shares its address); `max` still bounds them.
    exempt: sspr_core::TrustedProxies,
}

/// The connections a serve loop holds open: in all and per client address.
#[derive(Debug)]
struct Connections {
    limits: ConnectionLimits,
    open: Arc<std::sync::Mutex<OpenConnections>>,
    /// Connections refused so far, for a warning at each power of two (never one per refusal).
    refused: u64,
}

#[derive(Debug, Default)]
struct OpenConnections {
    total: usize,
    by_address: std::collections::HashMap<session::ClientKey, usize>,
}

/// One open connection's place in [`Connections`], given back when its task ends.
#[derive(Debug)]
struct ConnectionSlot {
    open: Arc<std::sync::Mutex<OpenConnections>>,
    /// `None` for an exempt peer (counted in the total only).
    address: Option<session::ClientKey>,
}

fn lock(open: &std::sync::Mutex<OpenConnections>) -> std::sync::MutexGuard<'_, OpenConnections> {
    // Nothing panics while holding it; a poisoned lock still holds right counts.
    open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Connections {
    fn new(limits: &ConnectionLimits) -> Self {
        Self { limits: limits.clone(), open: Arc::default(), refused: 0 }
    }

    /// A place for a connection from `peer`, or `None` when the caps are reached.
    fn admit(&mut self, peer: std::net::IpAddr) -> Option<ConnectionSlot> {
        let peer = peer.to_canonical();
        let address = (!self.limits.exempt.contains(peer)).then(|| session::ClientKey::of(Some(peer)));
        let mut open = lock(&self.open);
        let of_address = address.map_or(0, |a| open.by_address.get(&a).copied().unwrap_or(0));
        if open.total >= self.limits.max || of_address >= self.limits.per_address {
            let whole = open.total >= self.limits.max;
            drop(open);
            self.refused = self.refused.saturating_add(1);
            if self.refused.is_power_of_two() {
                tracing::warn!(
                    refused = self.refused,
                    cap = if whole { "max_connections" } else { "max_connections_per_ip" },
                    "connections refused: the cap of open connections is reached"
                );
            }
            return None;
        }
        open.total += 1;
        if let Some(address) = address {
            *open.by_address.entry(address).or_insert(0) += 1;
        }
        Some(ConnectionSlot { open: self.open.clone(), address })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        open.total = open.total.saturating_sub(1);
        if let Some(address) = self.address
            && let std::collections::hash_map::Entry::Occupied(mut entry) = open.by_address.entry(address)
        {
            *entry.get_mut() -= 1;
            if *entry.get() == 0 {
                entry.remove();
            }
        }
    }
}

/// A connection's stream whose writes fail once they have waited [`READ_TIMEOUT`] without
/// any progress: a client that stops reading (a receive window of a few bytes, requests
/// pipelined whose answers it never takes) would otherwise hold its connection for as long as
/// it likes, since hyper's read timeouts do not run while an answer is being written.
#[derive(Debug)]
struct WriteDeadline<S> {
    inner: S,
    /// Armed when a write first waits, dropped at the next progress.
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S) -> Self {
        Self { inner, stalled: None }
    }

    /// Called when a write waits: `Ready(Err)` once it has waited `READ_TIMEOUT`.
    fn stall(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Error> {
        let deadline = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(READ_TIMEOUT)));
        deadline
            .as_mut()
            .poll(cx)
            .map(|()| std::io::Error::new(std::io::ErrorKind::TimedOut, "the client took no data for the read timeout"))
    }

    fn track<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        polled: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        match polled {
            std::task::Poll::Ready(result) => {
                self.stalled = None;
                std::task::Poll::Ready(result)
            }
            std::task::Poll::Pending => self.stall(cx).map(Err),
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        self.track(cx, polled)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.track(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_flush(cx);
        self.track(cx, polled)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_shutdown(cx);
        self.track(cx, polled)
    }
}

/// Serve `router` on `listener` until `shutdown` resolves, then stop gracefully (the requests
/// in progress finish, idle connections close) and return once every connection has ended.
///
/// hyper's HTTP/1 server, as `axum::serve` runs it, but with a timer: axum's sets none, so
/// hyper's header read timeout never ran and a connection could wait for a head forever (the
/// body's deadline is `web::middleware`'s). A connection past the caps of `connections` is
/// closed as soon as it is accepted.
async fn serve_connections(
    listener: tokio::net::TcpListener,
    router: Router,
    mut connections: Connections,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(READ_TIMEOUT);
    let mut make_service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Every connection holds a receiver: `closed()` resolves once all of them have ended.
    let (stopping, stop_watch) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // wait a moment rather than spin (what `axum::serve` does).
                    tracing::warn!(error = %e, "a connection could not be accepted");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Past a cap: closed at once (its descriptor freed), the next one taken.
        let Some(slot) = connections.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        let Ok(service) = tower::Service::call(&mut make_service, peer).await;
        let connection = builder.serve_connection(
            hyper_util::rt::TokioIo::new(WriteDeadline::new(stream)),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let mut stop_watch = stop_watch.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stop_watch.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
            }
            // Stopping: the request in progress finishes, an idle connection closes.
            let _ = connection.await;
        });
    }
    drop(listener);
    drop(stop_watch);
    let _ = stopping.send(true);
    stopping.closed().await;
}

impl Portal {
    /// Build the engine and its backends from `config`, seed the demo directory, and
    /// prepare the sessions.
    pub async fn build(config: &Config) -> Result<Self> {
        config.validate()?;
        let policy = config.policy()?;
        create_private_dir(&config.data_dir)?;
        check_data_dir(&config.data_dir)?;
        let (key, key_text) = load_or_create_key(&config.secret_key_path())?;
        let (previous_keys, previous_texts) = load_previous_keys(&config.previous_key_files)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut summary = String::new();
        if let Some(warning) = key_file_warning(&config.secret_key_path()) {
            tracing::warn!("{warning}");
            summary.push_str(&warning);
            summary.push('\n');
        }

        if let Some(endpoint) = &config.otlp_endpoint {
            // A collector behind basic auth has its password in the URL: never printed.
            summary
                .push_str(&format!("tracing: spans to {} (OTLP/HTTP)\n", sspr_backends::endpoint::redacted(endpoint)));
        }
        let context = BuildContext { clock: clock.clone(), data_dir: config.data_dir.clone() };
        let backends = config.backends().build(&context).await?;
        for line in config.backends().summary_lines(&context) {
            summary.push_str(&line);
            summary.push('\n');
        }
        let demo_users = match (&config.directory, &backends.memory_directory) {
            (DirectoryConfig::Memory { seed_file }, Some(directory)) => {
                let users =
                    match seed_file {
                        Some(path) => demo::users_from_json(&std::fs::read_to_string(path).map_err(|e| {
                            Error::Config(format!("cannot read the seed file {}: {e}", path.display()))
                        })?)?,
                        None => demo::builtin_users(),
                    };
                demo::fill_directory(directory, &users)?;
                Some(users)
            }
            _ => None,
        };
        let Backends {
            directory,
            contacts,
            state: store,
            notifier,
            outbox,
            password_checkers,
            audit: configured_audit,
            audit_queue,
            audit_report,
            bot_challenge,
            ..
        } = backends;
        if config.state.is_some() {
            let ring: Vec<&[u8]> =
                std::iter::once(key_text.as_bytes()).chain(previous_texts.iter().map(|t| t.as_bytes())).collect();
            key_check::one_key_per_store(&*store, &ring, &config.secret_key_path(), clock.now()).await?;
        }
        let oidc = match &config.oidc {
            Some(oidc) => {
                summary.push_str(&format!(
                    "sign-in (registration page and /admin): OpenID Connect, issuer {}\n",
                    sspr_backends::endpoint::redacted(&oidc.issuer)
                ));
                let client = sspr_backends::graph::OidcClient::with_clock(oidc.clone(), clock.clone())
                    .map_err(|e| Error::Config(e.to_string()))?;
                Some(client)
            }
            None => None,
        };
        let audit_path = config.audit_log_path();
        let audit = PortalAudit::to_file(&audit_path)
            .map_err(|e| Error::Config(format!("cannot open the audit log {}: {e}", audit_path.display())))?
            .with_sink(configured_audit);
        summary.push_str(&format!("audit log: {}\n", audit_path.display()));
        summary.push_str(if config.sessions_in_state_store() {
            "sessions: in the state store (sealed)\n"
        } else {
            "sessions: in process memory\n"
        });

        // Tokio pads the answers and runs the deliveries off the request path.
        let runtime = sspr_core::TokioRuntime::current()
            .ok_or_else(|| Error::Config("the portal must be built inside a tokio runtime".into()))?;
        let builder = EngineOptions::new(key).with_previous_keys(previous_keys).with_policy(policy).apply(
            Sspr::builder(),
            runtime.clone(),
            runtime,
        );
        let builder = match bot_challenge {
            Some((verifier, policy)) => builder.bot_challenge_arc(verifier, policy),
            None => builder,
        };
        let sspr = password_checkers
            .into_iter()
            .fold(builder, |builder, checker| builder.password_checker_arc(checker))
            .directory_arc(directory.clone())
            .contacts_arc(contacts)
            .notifier_arc(notifier)
            .store_arc(store.clone())
            .audit_arc(Arc::new(audit.clone()))
            .build()?;
        // A directory that cannot show who is in the privileged groups (an ACL hiding the
        // admins' membership from the service account) would have the engine treat every user
        // as privileged and refuse them all without a word: say so now, naming the group. One
        // that cannot be reached yet is checked again before the first lookup.
        match sspr.check_privileged_groups().await {
            Ok(()) => {}
            Err(sspr_core::Error::Backend { source }) if source.kind() == sspr_core::BackendErrorKind::Unavailable => {
                tracing::warn!(error = %source, "the privileged groups could not be checked at start-up");
            }
            Err(error) => {
                return Err(Error::Config(format!(
                    "the directory cannot show who is in the privileged groups (privileged_groups and admin_groups): \
                     {error}"
                )));
            }
        }
        // What the start page shows, as the engine says (the same answer the framework routers get).
        let widget = config
            .bot_challenge
            .as_ref()
            .zip(sspr.challenge_widget())
            .map(|(challenge, widget)| web::Widget::new(challenge.provider, &widget));

        if let Some(users) = &demo_users {
            demo::enroll(&sspr, users).await?;
            summary.push_str(&format!("\ndemo directory (every built-in user's password: {}):\n", demo::DEMO_PASSWORD));
            summary.push_str(&demo::report(&sspr, users, 20).await?);
        }

        let minutes = |m: u64| time::Duration::minutes(i64::try_from(m).unwrap_or(i64::MAX / 120));
        let (idle, max_age) = (minutes(config.session_idle_minutes), minutes(config.session_max_minutes));
        let sessions = if config.sessions_in_state_store() {
            let keys = SessionKeys::derive(key_text.as_bytes());
            Sessions::Shared(SharedSessions::new(store, keys, clock.clone(), idle, max_age, config.max_sessions_per_ip))
        } else {
            Sessions::Memory(MemorySessions::new(
                clock.clone(),
                idle,
                max_age,
                config.max_sessions,
                config.max_sessions_per_ip,
            ))
        };
        // An anonymous form stays good as long as a session could last.
        let csrf = csrf::CsrfKey::derive(key_text.as_bytes(), minutes(config.session_max_minutes));
        let outbox_page = config.outbox_page_enabled() && outbox.is_some();
        let forwards = session::Forwards::beside(&sessions);
        let state = AppState(Arc::new(Shared {
            sspr,
            directory,
            outbox,
            audit,
            sessions,
            forwards,
            csrf,
            clock,
            https: config.is_https(),
            trusted_proxies: config.trusted_proxies()?,
            admin_groups: sspr_core::GroupList::new(&config.admin_groups),
            admin_group_ids: matches!(config.directory, DirectoryConfig::Graph(_))
                .then(|| config.admin_groups.iter().map(|g| g.trim().to_ascii_lowercase()).collect()),
            outbox_page,
            outbox_page_by_default: config.outbox_page.is_none(),
            oidc,
            oidc_account: config.oidc_account()?,
            audit_report,
            widget,
        }));
        let connections = ConnectionLimits {
            max: config.max_connections,
            per_address: config.max_connections_per_ip,
            exempt: config.trusted_proxies()?,
        };
        Ok(Self { state, summary, audit_log: audit_path, audit_queue, connections })
    }

    /// The pages, with the security middleware.
    pub fn router(&self) -> Router {
        let mut router = Router::new()
            .route("/", get(pages::index))
            .route("/static/portal.css", get(web::stylesheet))
            .route("/passwordreset", get(pages::reset::show))
            .route("/passwordreset/begin", post(pages::reset::begin))
            .route("/passwordreset/send", post(pages::reset::send))
            .route("/passwordreset/verify", post(pages::reset::verify))
            .route("/passwordreset/complete", post(pages::reset::complete))
            .route("/passwordreset/another", post(pages::reset::another))
            .route("/passwordreset/restart", post(pages::reset::restart))
            .route("/passwordreset/helpdesk", get(pages::recovery::show).post(pages::recovery::redeem))
            .route("/passwordchange", get(pages::change::show).post(pages::change::change))
            .route("/passwordnotification", get(pages::notification::show))
            .route("/passwordnotification/signin", post(pages::notification::sign_in))
            .route("/passwordnotification/save", post(pages::notification::save))
            .route("/passwordnotification/confirm", post(pages::notification::confirm))
            .route("/passwordnotification/reconfirm", post(pages::notification::reconfirm))
            .route("/passwordnotification/signout", post(pages::notification::sign_out))
            .route("/passwordnotification/oidc", get(pages::oidc::start_registration))
            .route("/passwordnotification/oidc/callback", get(pages::oidc::callback))
            .route("/admin/oidc", get(pages::oidc::start_admin))
            .route("/admin", get(pages::admin::show))
            .route("/admin/user", get(pages::admin::user))
            .route("/admin/report", get(pages::admin::report))
            .route("/admin/reports", get(pages::reports::show))
            .route("/admin/remind", post(pages::admin::remind))
            .route("/admin/signin", post(pages::admin::sign_in))
            .route("/admin/signout", post(pages::admin::sign_out))
            .route("/admin/enable", post(pages::admin::enable))
            .route("/admin/contacts", post(pages::admin::contacts))
            .route("/admin/unblock", post(pages::admin::unblock))
            .route("/admin/recovery", post(pages::recovery::issue));
        if self.state.outbox_page {
            router =
                router.route("/outbox", get(pages::outbox::show)).route("/outbox/preview", get(pages::outbox::preview));
        }
        router
            .fallback(web::not_found)
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .layer(axum::middleware::from_fn_with_state(self.state.clone(), web::middleware))
            .with_state(self.state.clone())
    }

    /// Serve the pages on `listener` until `shutdown` resolves, then stop gracefully: finish the
    /// requests in progress, then wait for every delivery already handed to the notifier
    /// ([`Sspr::flush_deliveries`]). `send_pin` answers before the notifier has the PIN, so
    /// without that wait a process stopping right after (a SIGTERM from a deployment) would
    /// drop a PIN the page had promised the user.
    ///
    /// A connection must send its request head within [`READ_TIMEOUT`] (from its start or
    /// the answer before) and its body within as long again. At most `max_connections` are
    /// open at once, and `max_connections_per_ip` from one client address (a peer listed in
    /// `trusted_proxies` is bound by the first only): one past a cap is closed at once.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve_connections(listener, self.router(), Connections::new(&self.connections), shutdown).await;
        self.sspr().flush_deliveries().await;
        self.flush_audit().await;
        Ok(())
    }

    /// Serve `/metrics` ([`metrics::router`]) on `listener`, as long as the process runs: the
    /// serve loop of the pages, with its timeouts and connection caps (counted apart from the
    /// pages', so a flood of the one does not shut out the other).
    pub async fn serve_metrics(
        &self,
        listener: tokio::net::TcpListener,
        handle: metrics_exporter_prometheus::PrometheusHandle,
    ) {
        let router = metrics::router(handle);
        serve_connections(listener, router, Connections::new(&self.connections), std::future::pending()).await;
    }

    /// Wait until every event queued for the `[audit]` sink has been handed to it (the
    /// queue's task would be dropped with the runtime). [`Portal::serve`] does it when it stops.
    pub async fn flush_audit(&self) {
        if let Some(queue) = &self.audit_queue
            && let Err(e) = queue.flush().await
        {
            tracing::error!(error = %e, "the audit queue could not be flushed");
        }
    }

    /// What the portal runs on, and the demo users: printed at start.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// The engine.
    pub fn sspr(&self) -> &Sspr {
        &self.state.sspr
    }

    /// The development outbox, when notices go there.
    pub fn outbox(&self) -> Option<&Outbox> {
        self.state.outbox.as_ref()
    }

    /// The audit log file (JSON lines).
    pub fn audit_log_path(&self) -> &Path {
        &self.audit_log
    }

    /// Forget ended sessions (the binary calls it every minute).
    pub fn sweep_sessions(&self) {
        self.state.sessions.sweep();
    }

    /// Sessions currently held in this process's memory (0 when they live in the state store).
    pub fn session_count(&self) -> usize {
        self.state.sessions.len()
    }
}
