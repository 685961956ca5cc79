//! A [`StateStore`] in Redis, shared by several portal instances (feature `redis`).
//!
//! Each flow, counter or block is one Redis hash: a value as fields `v` (bytes), `n`
//! (version), `e` (expiry, unix seconds); a counter as `c` (count) and `e`. Every operation
//! is one Lua script (or one `HMGET`/`DEL`), so compare-and-set and increment are atomic
//! across instances, and [`StateStore::increment_many`] is one round trip. Liveness is
//! decided by the engine's clock against `e`, exactly like the other stores; Redis expires the
//! key itself `expiry_grace_secs` later (a TTL), so memory is reclaimed without a sweep and a
//! clock difference between the portal and Redis cannot drop live state early.
//!
//! The connection is multiplexed and reconnects by itself after the server restarts; while
//! Redis is unreachable each call fails with [`BackendErrorKind::Unavailable`].
//! Redis 7 or newer is expected (Debian 12 has 7.0).
//!
//! **Redis Cluster** (`cluster = true`): every key carries a hash tag, the last `/`-separated
//! part of the engine's key (`sspr:sspr/flow/{<hash of the flow id>}`, `sspr:sspr/sends/{<user subject>}`),
//! so keys spread over the masters by flow and by subject while all keys of one subject live
//! in one slot. Every atomic operation touches one key (a compare-and-set, one counter), so each
//! stays atomic in a cluster; [`StateStore::increment_many`], whose batch need not be atomic as
//! a whole, runs one script per hash tag, all sent at once. The same tags are used without a
//! cluster, so a deployment can move from one server to a cluster without renaming keys.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::ClusterClientBuilder;
use ::redis::cluster_async::ClusterConnection;
use ::redis::{AsyncCommands, Client, Cmd, Pipeline, RedisError, RedisFuture, RedisResult, Script, Value};
use async_trait::async_trait;
use serde::Deserialize;
use sspr_core::backend::{Batch, BatchOutcome, Counter, Put, StateStore, StoredValue, link_of};
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, BackendErrorKind};

use crate::redact;

/// How to reach Redis, as read from the portal's configuration.
///
/// ```
/// let config: sspr_backends::redis::RedisConfig = toml::from_str(r#"
///     url = "rediss://:s3cret@cache.example.org:6380/0"
///     key_prefix = "portal-a:"
/// "#).unwrap();
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `rediss://[:password@]host:port/db` (TLS), `redis://` on this host (the password is
    /// hidden in `Debug`).
    #[serde(deserialize_with = "crate::secret_field::string")]
    pub url: String,
    /// Prepended to every key, so several applications can share one Redis. It must not
    /// contain `{` or `}`: Redis Cluster would take its hash tag from there.
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// `url` is one node of a Redis Cluster (the others are learned from it); further seed
    /// nodes may be given in `cluster_nodes`.
    #[serde(default)]
    pub cluster: bool,
    /// More nodes of the cluster to start from, should the one in `url` be down.
    #[serde(default, deserialize_with = "crate::secret_field::strings")]
    pub cluster_nodes: Vec<String>,
    /// How long to wait for a connection.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long to wait for an answer before the call fails as unavailable.
    #[serde(default = "default_response_timeout_ms")]
    pub response_timeout_ms: u64,
    /// How long after its expiry Redis deletes an entry (it is dead for sspr from its expiry on).
    #[serde(default = "default_expiry_grace_secs")]
    pub expiry_grace_secs: u64,
    /// The CA (PEM) that signed the server's certificate, for a `rediss://` URL to a server
    /// (or the nodes of a cluster) with a private CA; the only root trusted then. Without it,
    /// the system's roots.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// The client certificate (PEM) to present, for a server that asks for one (Redis's own
    /// default with TLS: `tls-auth-clients yes`). With `client_key_file`; `rediss://` only.
    #[serde(default)]
    pub client_cert_file: Option<std::path::PathBuf>,
    /// The private key (PEM) of `client_cert_file`.
    #[serde(default)]
    pub client_key_file: Option<std::path::PathBuf>,
    /// `redis://` (no TLS) to another host than this one sends the password and every flow,
    /// counter and block in clear, and lets whoever is on the path delete a block: refused
    /// unless this is `true` (a network you trust). Use `rediss://`.
    #[serde(default)]
    pub allow_plaintext: bool,
}

fn default_prefix() -> String {
    "sspr:".into()
}
fn default_connect_timeout_ms() -> u64 {
    2000
}
fn default_response_timeout_ms() -> u64 {
    2000
}
fn default_expiry_grace_secs() -> u64 {
    60
}

impl RedisConfig {
    /// The defaults for the server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: default_prefix(),
            cluster: false,
            cluster_nodes: Vec::new(),
            connect_timeout_ms: default_connect_timeout_ms(),
            response_timeout_ms: default_response_timeout_ms(),
            expiry_grace_secs: default_expiry_grace_secs(),
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            allow_plaintext: false,
        }
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact::url(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("cluster", &self.cluster)
            .field("cluster_nodes", &self.cluster_nodes.iter().map(|u| redact::url(u)).collect::<Vec<_>>())
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("response_timeout_ms", &self.response_timeout_ms)
            .field("expiry_grace_secs", &self.expiry_grace_secs)
            .field("ca_file", &self.ca_file)
            .field("client_cert_file", &self.client_cert_file)
            .field("client_key_file", &self.client_key_file)
            .field("allow_plaintext", &self.allow_plaintext)
            .finish()
    }
}

/// Compare-and-set. KEYS: key. ARGV: value, expected version ("" to create), expiry, now,
/// Redis TTL (seconds from now). Returns the new version, or nil when the comparison failed.
const PUT: &str = r"
local cur = redis.call('HMGET', KEYS[1], 'n', 'e', 'c')
local live = cur[2] and tonumber(cur[2]) > tonumber(ARGV[4])
local n
if ARGV[2] == '' then
  if live then return false end
  n = 1
else
  if not live or cur[3] or cur[1] ~= ARGV[2] then return false end
  n = tonumber(cur[1]) + 1
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'n', n, 'e', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return n
";

/// Increments. KEYS: the counters, a key possibly twice. ARGV: now, then per key its expiry
/// if new and the Redis TTL. Returns count, expiry, count, expiry, ...
const INCREMENT: &str = r"
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local cur = redis.call('HMGET', key, 'c', 'e')
  if cur[1] and cur[2] and tonumber(cur[2]) > now then
    out[#out + 1] = redis.call('HINCRBY', key, 'c', 1)
    out[#out + 1] = tonumber(cur[2])
  else
    redis.call('DEL', key)
    redis.call('HSET', key, 'c', 1, 'e', ARGV[2 * i])
    redis.call('EXPIRE', key, ARGV[2 * i + 1])
    out[#out + 1] = 1
    out[#out + 1] = tonumber(ARGV[2 * i])
  end
end
return out
";

/// [`StateStore::get_linked`] on one server: KEYS[1] the record; ARGV[1] now, then per prefix
/// the Redis key before the link and after it (the key is `before .. link .. after`, as
/// [`tagged`] names `prefix + link`). The linked keys are not in KEYS: they are only known
/// from the value, which is why a cluster, where a script may only touch its declared slot,
/// reads them in a second round. Returns {value, version} or {} for the record, then per prefix.
const GET_LINKED: &str = r"
local now = tonumber(ARGV[1])
local function live(key)
  local cur = redis.call('HMGET', key, 'v', 'n', 'e')
  if cur[1] and cur[2] and cur[3] and tonumber(cur[3]) > now then
    return {cur[1], tonumber(cur[2])}
  end
  return nil
end
local out = {}
local link = nil
local record = live(KEYS[1])
if record then
  out[1] = record
  local n = string.byte(record[1], 1)
  if n and n >= 1 and n <= 64 and #record[1] >= 1 + n then
    local l = string.sub(record[1], 2, 1 + n)
    if string.match(l, '^[%w_%-]+$') then link = l end
  end
else
  out[1] = {}
end
for i = 2, #ARGV, 2 do
  local found = link and live(ARGV[i] .. link .. ARGV[i + 1])
  out[#out + 1] = found or {}
end
return out
";

/// One server (reconnecting by itself) or a cluster (routing each command by its key's slot).
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// One engine step ([`StateStore::apply`]), or the part of it whose keys share a slot.
/// KEYS: the first put's key (if any, [`StateStore::apply_after`]), the reads, the put's key
/// (if any), the counters, the keys to delete. ARGV: now, the number of reads, 1 if there is a
/// put, the number of counters, the number of deletes, 1 if there is a first put; then the
/// first put's value, expected version ("" to create), expiry and Redis TTL (if any); then
/// the same four for the put; then per counter its expiry if new and its Redis TTL. Returns
/// {-1} when the first put failed (nothing written); otherwise one entry per read ({value,
/// version} or {} when absent, expired or a counter), then applied (1 or 0), the put's new
/// version (0 without a put), then count, expiry per counter when applied.
const APPLY: &str = r"
local now = tonumber(ARGV[1])
local nr, hp, ni, nd = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
local k, a = 1, 7
if ARGV[6] == '1' then
  local key = KEYS[1]
  local cur = redis.call('HMGET', key, 'n', 'e', 'c')
  local live = cur[2] and tonumber(cur[2]) > now
  local n = nil
  if ARGV[8] == '' then
    if not live then n = 1 end
  elseif live and not cur[3] and cur[1] == ARGV[8] then
    n = tonumber(cur[1]) + 1
  end
  if not n then
    return {-1}
  end
  redis.call('DEL', key)
  redis.call('HSET', key, 'v', ARGV[7], 'n', n, 'e', ARGV[9])
  redis.call('EXPIRE', key, ARGV[10])
  k, a = 2, 11
end
for _ = 1, nr do
  local cur = redis.call('HMGET', KEYS[k], 'v', 'n', 'e')
  if cur[1] and cur[2] and cur[3] and tonumber(cur[3]) > now then
    out[#out + 1] = {cur[1], tonumber(cur[2])}
  else
    out[#out + 1] = {}
  end
  k = k + 1
end
local version = 0
if hp == 1 then
  local key = KEYS[k]
  k = k + 1
  local cur = redis.call('HMGET', key, 'n', 'e', 'c')
  local live = cur[2] and tonumber(cur[2]) > now
  local n = nil
  if ARGV[a + 1] == '' then
    if not live then n = 1 end
  elseif live and not cur[3] and cur[1] == ARGV[a + 1] then
    n = tonumber(cur[1]) + 1
  end
  if not n then
    out[#out + 1] = 0
    out[#out + 1] = 0
    return out
  end
  redis.call('DEL', key)
  redis.call('HSET', key, 'v', ARGV[a], 'n', n, 'e', ARGV[a + 2])
  redis.call('EXPIRE', key, ARGV[a + 3])
  version = n
  a = a + 4
end
out[#out + 1] = 1
out[#out + 1] = version
for _ = 1, ni do
  local key = KEYS[k]
  k = k + 1
  local cur = redis.call('HMGET', key, 'c', 'e')
  if cur[1] and cur[2] and tonumber(cur[2]) > now then
    out[#out + 1] = redis.call('HINCRBY', key, 'c', 1)
    out[#out + 1] = tonumber(cur[2])
  else
    redis.call('DEL', key)
    redis.call('HSET', key, 'c', 1, 'e', ARGV[a])
    redis.call('EXPIRE', key, ARGV[a + 1])
    out[#out + 1] = 1
    out[#out + 1] = tonumber(ARGV[a])
  end
  a = a + 2
end
for _ = 1, nd do
  redis.call('DEL', KEYS[k])
  k = k + 1
end
return out
";

/// The part of a batch one [`APPLY`] call does: indexes into the batch's lists.
#[derive(Default)]
struct Part {
    reads: Vec<usize>,
    put: bool,
    increments: Vec<usize>,
    deletes: Vec<usize>,
}

/// The Redis keys of a batch, list by list.
struct BatchKeys {
    reads: Vec<String>,
    put: Option<String>,
    increments: Vec<String>,
    deletes: Vec<String>,
}

/// What one [`APPLY`] call answered.
struct PartOutcome {
    values: Vec<Option<StoredValue>>,
    applied: bool,
    version: Option<u64>,
    counters: Vec<Counter>,
}

/// Group indexes by the hash tag of their key (in order of first appearance).
fn by_tag<'k>(keys: impl Iterator<Item = &'k str>) -> Vec<(&'k str, Vec<usize>)> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, key) in keys.enumerate() {
        let tag = tag_of(key);
        match groups.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, members)) => members.push(i),
            None => groups.push((tag, vec![i])),
        }
    }
    groups
}

fn odd_answer() -> BackendError {
    BackendError::new(BackendErrorKind::Other, "Redis answered a batch in an unexpected shape")
}

/// The records a script read: each `{value, version}`, or `{}` for one absent or expired.
fn stored_values(reads: &[Value]) -> Result<Vec<Option<StoredValue>>, BackendError> {
    reads
        .iter()
        .map(|read| match read {
            Value::Array(pair) => match pair.as_slice() {
                [] => Ok(None),
                [Value::BulkString(value), Value::Int(version)] => {
                    Ok(Some(StoredValue { value: value.clone(), version: unsigned(*version)? }))
                }
                _ => Err(odd_answer()),
            },
            _ => Err(odd_answer()),
        })
        .collect()
}

fn int(value: &Value) -> Result<i64, BackendError> {
    match value {
        Value::Int(n) => Ok(*n),
        _ => Err(odd_answer()),
    }
}

/// A [`StateStore`] on Redis or Redis Cluster. Clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    prefix: String,
    grace: i64,
    url: String,
    put: Script,
    increment: Script,
    apply: Script,
    get_linked: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &redact::url(&self.url))
            .field("key_prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn map_err(e: RedisError) -> BackendError {
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        BackendError::unavailable(e)
    } else {
        BackendError::other(e)
    }
}

/// Refuse what would cross the network in clear or mislead: `redis://` to another host than
/// this one without `allow_plaintext`, and a `ca_file` or client certificate without TLS to
/// use them on.
fn check_transport(config: &RedisConfig) -> Result<(), BackendError> {
    let refuse = |message: String| Err(BackendError::new(BackendErrorKind::Rejected, message));
    let urls = std::iter::once(&config.url).chain(&config.cluster_nodes);
    if !config.allow_plaintext
        && let Some(host) = urls
            .filter_map(|url| plain_host(url)) // An empty host is redis-rs's default, 127.0.0.1.
            .find(|host| !host.is_empty() && !crate::loopback::is_loopback_host(host))
    {
        return refuse(format!(
            "redis:// (or valkey://) to {host} would send the password and every flow, counter and block in \
             clear: use rediss:// (with ca_file for a private CA), or allow_plaintext = true on a network you trust"
        ));
    }
    if config.client_cert_file.is_some() != config.client_key_file.is_some() {
        return refuse("client_cert_file and client_key_file go together: give both, or neither".into());
    }
    let tls_files = [("ca_file", config.ca_file.is_some()), ("client_cert_file", config.client_cert_file.is_some())];
    if let Some((field, _)) = tls_files.iter().find(|(_, given)| *given) {
        let nodes = if config.cluster { config.cluster_nodes.as_slice() } else { &[] };
        if let Some(url) = std::iter::once(&config.url).chain(nodes).find(|url| plain_host(url).is_some()) {
            return refuse(format!("{field} needs rediss:// URLs (TLS), not {}", crate::redact::url(url)));
        }
    }
    Ok(())
}

impl RedisConfig {
    /// Read and parse the TLS files this configuration names (`ca_file`, `client_cert_file`,
    /// `client_key_file`), and check that a client certificate comes with its key, without
    /// connecting. Every binding calls this once it has read the configuration, so a missing
    /// or unreadable file, one holding no PEM certificate (or key), or half a client
    /// certificate is a configuration error naming the field in every language, not a
    /// backend failure at connect time. [`RedisStore::from_config`] checks the same.
    ///
    /// # Errors
    /// `Config` naming the field (and the file's path, never its contents).
    pub fn check_tls_files(&self) -> Result<(), sspr_core::Error> {
        tls_files(self).map(|_| ()).map_err(|e| sspr_core::Error::Config(format!("RedisStore: {e}")))
    }
}

/// The CA and client certificate files of `config`, read and checked, when it names any (else
/// the system's roots and no client certificate); the error names the field.
fn tls_files(config: &RedisConfig) -> Result<Option<::redis::TlsCertificates>, String> {
    // The file's name and the error's kind only: a key file's text must not reach a message.
    let read = |field: &str, path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("cannot read the Redis {field} {}: {}", path.display(), e.kind()))
    };
    let certificates = |field: &str, path: &std::path::Path| {
        let pem = read(field, path)?;
        let parsed = rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<Vec<_>, _>>();
        match parsed {
            Ok(certs) if !certs.is_empty() => Ok(pem),
            _ => Err(format!("the Redis {field} {} holds no PEM certificate", path.display())),
        }
    };
    let client_tls = match (&config.client_cert_file, &config.client_key_file) {
        (Some(cert), Some(key)) => {
            let client_key = read("client_key_file", key)?;
            if !matches!(rustls_pemfile::private_key(&mut client_key.as_slice()), Ok(Some(_))) {
                return Err(format!("the Redis client_key_file {} holds no PEM private key", key.display()));
            }
            Some(::redis::ClientTlsConfig { client_cert: certificates("client_cert_file", cert)?, client_key })
        }
        (None, None) => None,
        _ => return Err("client_cert_file and client_key_file go together: give both, or neither".into()),
    };
    let root_cert = config.ca_file.as_deref().map(|path| certificates("ca_file", path)).transpose()?;
    Ok((client_tls.is_some() || root_cert.is_some()).then_some(::redis::TlsCertificates { client_tls, root_cert }))
}

/// [`tls_files`] as the store reports it when connecting.
fn tls_files_for_store(config: &RedisConfig) -> Result<Option<::redis::TlsCertificates>, BackendError> {
    tls_files(config).map_err(|e| BackendError::new(BackendErrorKind::Rejected, e))
}

/// The schemes redis-rs connects over TCP without TLS: `redis://`, and `valkey://`, which it
/// takes as the same (its TLS twins are `rediss://` and `valkeys://`).
const PLAIN_SCHEMES: [&str; 2] = ["redis", "valkey"];

/// The host of a `redis://` or `valkey://` URL (no TLS), `None` for any other scheme
/// (`rediss://`, `valkeys://`, a Unix socket). The user info ends at the last `@` (a password
/// may hold an unencoded `/`).
fn plain_host(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if !PLAIN_SCHEMES.iter().any(|plain| scheme.eq_ignore_ascii_case(plain)) {
        return None;
    }
    let authority = rest.rsplit_once('@').map_or_else(|| rest.split('/').next().unwrap_or(""), |(_, after)| after);
    let authority = authority.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    Some(host)
}

impl RedisStore {
    /// Connect to the Redis at `url` with the default settings.
    pub async fn connect(url: &str) -> Result<Self, BackendError> {
        Self::from_config(&RedisConfig::new(url)).await
    }

    /// Connect as `config` says. Fails with `Unavailable` when the server cannot be reached.
    pub async fn from_config(config: &RedisConfig) -> Result<Self, BackendError> {
        if config.key_prefix.contains(['{', '}']) {
            return Err(BackendError::new(BackendErrorKind::Rejected, "the Redis key prefix must not contain { or }"));
        }
        check_transport(config)?;
        let invalid =
            |e: RedisError| BackendError::new(BackendErrorKind::Rejected, format!("invalid Redis URL: {:?}", e.kind()));
        let conn = if config.cluster {
            let nodes = std::iter::once(config.url.as_str()).chain(config.cluster_nodes.iter().map(String::as_str));
            let mut builder = ClusterClientBuilder::new(nodes.collect::<Vec<_>>())
                .connection_timeout(Duration::from_millis(config.connect_timeout_ms))
                .response_timeout(Duration::from_millis(config.response_timeout_ms))
                .retries(2);
            if let Some(certificates) = tls_files_for_store(config)? {
                builder = builder.certs(certificates);
            }
            let client = builder.build().map_err(invalid)?;
            Conn::Cluster(client.get_async_connection().await.map_err(map_err)?)
        } else {
            Conn::Single(Self::single(config).await?)
        };
        let store = Self {
            conn,
            prefix: config.key_prefix.clone(),
            grace: i64::try_from(config.expiry_grace_secs).unwrap_or(i64::MAX),
            url: config.url.clone(),
            put: Script::new(PUT),
            increment: Script::new(INCREMENT),
            apply: Script::new(APPLY),
            get_linked: Script::new(GET_LINKED),
        };
        store.check_no_eviction().await?;
        Ok(store)
    }

    /// Refuse a Redis that evicts keys under memory pressure (`maxmemory-policy` other than
    /// `noeviction`, Redis's default): a shared Redis run as a cache, once filled by another
    /// application or by an attacker starting flows, would drop a user's block and attempt
    /// counts, and guessing would start again. Every sspr key has a TTL, so the `volatile-*`
    /// policies evict them too. A server that does not answer `CONFIG GET` (a managed service
    /// that renames it, an ACL without `+config|get`) is asked `INFO memory`; one that answers
    /// neither cannot be checked: that is logged, and its policy is the operator's to set.
    async fn check_no_eviction(&self) -> Result<(), BackendError> {
        // A map: a flat array under RESP2, a map under RESP3 (`?protocol=resp3`).
        let answer: Result<std::collections::HashMap<String, String>, BackendError> = self
            .run(|mut conn| async move {
                ::redis::cmd("CONFIG").arg("GET").arg("maxmemory-policy").query_async(&mut conn).await
            })
            .await;
        match answer {
            Ok(config) => match config.iter().find(|(k, _)| k.eq_ignore_ascii_case("maxmemory-policy")).map(|(_, v)| v)
            {
                Some(policy) => Self::require_no_eviction(policy),
                None => {
                    self.eviction_unknown("no maxmemory-policy in the answer");
                    Ok(())
                }
            },
            Err(e) if e.kind() == BackendErrorKind::Unavailable => Err(e),
            // Refused (a managed service renames CONFIG; an ACL without `+config|get`):
            // `INFO memory` says the policy too, and such accounts keep it (R.10).
            Err(e) => match self.eviction_policy_from_info().await? {
                Some(policy) => Self::require_no_eviction(&policy),
                None => {
                    self.eviction_unknown(e.message());
                    Ok(())
                }
            },
        }
    }

    /// `maxmemory_policy` from `INFO memory`; `None` when the server refuses `INFO` too or its
    /// answer has no such line.
    async fn eviction_policy_from_info(&self) -> Result<Option<String>, BackendError> {
        let answer: Result<String, BackendError> =
            self.run(|mut conn| async move { ::redis::cmd("INFO").arg("memory").query_async(&mut conn).await }).await;
        match answer {
            Ok(info) => Ok(info
                .lines()
                .find_map(|line| line.trim().strip_prefix("maxmemory_policy:"))
                .map(|policy| policy.trim().to_owned())),
            Err(e) if e.kind() == BackendErrorKind::Unavailable => Err(e),
            Err(_) => Ok(None),
        }
    }

    fn require_no_eviction(policy: &str) -> Result<(), BackendError> {
        if policy.eq_ignore_ascii_case("noeviction") {
            return Ok(());
        }
        Err(BackendError::new(
            BackendErrorKind::Rejected,
            format!(
                "this Redis evicts keys under memory pressure (maxmemory-policy {policy}): a user's block \
                 and attempt counts could be dropped; set maxmemory-policy noeviction (Redis's default)"
            ),
        ))
    }

    fn eviction_unknown(&self, why: &str) {
        tracing::warn!(
            url = %redact::url(&self.url),
            "cannot read Redis's maxmemory-policy ({why}): make sure it is noeviction, or a user's block can be evicted"
        );
    }

    async fn single(config: &RedisConfig) -> Result<ConnectionManager, BackendError> {
        let invalid =
            |e: RedisError| BackendError::new(BackendErrorKind::Rejected, format!("invalid Redis URL: {:?}", e.kind()));
        let client = match tls_files_for_store(config)? {
            Some(certificates) => Client::build_with_tls(config.url.as_str(), certificates).map_err(invalid)?,
            None => Client::open(config.url.as_str()).map_err(invalid)?,
        };
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(config.connect_timeout_ms)))
            .set_response_timeout(Some(Duration::from_millis(config.response_timeout_ms)))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(200));
        ConnectionManager::new_with_config(client, manager).await.map_err(map_err)
    }

    /// Run `op` on the connection. A refused connection means nothing was sent (the server
    /// was down when the connection was last tried): that alone is tried once more, on the
    /// connection the manager has meanwhile started again.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, BackendError>
    where
        F: Fn(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match op(self.conn.clone()).await {
            Err(e) if e.is_connection_refusal() => op(self.conn.clone()).await.map_err(map_err),
            result => result.map_err(map_err),
        }
    }

    /// The Redis key of an engine key: the prefix, then the key with its last `/`-separated
    /// part as the hash tag (a key that already has braces keeps the tag it chose).
    fn key(&self, key: &str) -> String {
        tagged(&self.prefix, key)
    }

    /// Redis's TTL for an entry that dies at `expires_at` by the engine's clock, in seconds from
    /// `now` (the engine's): relative, so Redis's own clock never decides (an absolute
    /// `EXPIREAT` deleted live entries early on a server whose clock ran ahead of the engine's
    /// by more than the grace). At least 1: `EXPIRE` with 0 or less deletes at once.
    fn redis_expiry(&self, expires_at: i64, now: OffsetDateTime) -> i64 {
        expires_at.saturating_sub(now.unix_timestamp()).saturating_add(self.grace).max(1)
    }

    /// Run `part` of `batch` (whose Redis keys are in `keys`) as one [`APPLY`] script.
    async fn apply_part(
        &self,
        batch: &Batch<'_>,
        keys: &BatchKeys,
        part: &Part,
        now: OffsetDateTime,
    ) -> Result<PartOutcome, BackendError> {
        Ok(self.apply_part_after(None, batch, keys, part, now).await?.unwrap_or_else(|| PartOutcome {
            values: Vec::new(),
            applied: false,
            version: None,
            counters: Vec::new(),
        }))
    }

    /// As [`Self::apply_part`], after `first` (a put on the same slot, its Redis key given):
    /// `None` when `first` failed and nothing was written.
    async fn apply_part_after(
        &self,
        first: Option<(&str, &Put<'_>)>,
        batch: &Batch<'_>,
        keys: &BatchKeys,
        part: &Part,
        now: OffsetDateTime,
    ) -> Result<Option<PartOutcome>, BackendError> {
        let mut invocation = self.apply.prepare_invoke();
        invocation
            .arg(now.unix_timestamp())
            .arg(part.reads.len())
            .arg(u8::from(part.put))
            .arg(part.increments.len())
            .arg(part.deletes.len())
            .arg(u8::from(first.is_some()));
        if let Some((key, put)) = first {
            let expires_at = put.expires_at.unix_timestamp();
            invocation
                .key(key)
                .arg(put.value)
                .arg(put.expected_version.map(|v| v.to_string()).unwrap_or_default())
                .arg(expires_at)
                .arg(self.redis_expiry(expires_at, now));
        }
        for &i in &part.reads {
            invocation.key(keys.reads.get(i).ok_or_else(odd_answer)?);
        }
        if let (true, Some(put), Some(key)) = (part.put, &batch.put, &keys.put) {
            let expires_at = put.expires_at.unix_timestamp();
            invocation
                .key(key)
                .arg(put.value)
                .arg(put.expected_version.map(|v| v.to_string()).unwrap_or_default())
                .arg(expires_at)
                .arg(self.redis_expiry(expires_at, now));
        }
        for &i in &part.increments {
            let (Some(key), Some((_, expires_at))) = (keys.increments.get(i), batch.increments.get(i)) else {
                return Err(odd_answer());
            };
            let expires_at = expires_at.unix_timestamp();
            invocation.key(key).arg(expires_at).arg(self.redis_expiry(expires_at, now));
        }
        for &i in &part.deletes {
            invocation.key(keys.deletes.get(i).ok_or_else(odd_answer)?);
        }
        let answer: Vec<Value> = self
            .run(|mut conn| {
                let invocation = &invocation;
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        if first.is_some() && matches!(answer.as_slice(), [Value::Int(-1)]) {
            return Ok(None);
        }
        let (reads, rest) = answer.split_at_checked(part.reads.len()).ok_or_else(odd_answer)?;
        let values = stored_values(reads)?;
        let [applied, version, counted @ ..] = rest else { return Err(odd_answer()) };
        let applied = int(applied)? == 1;
        let version = if part.put && applied { Some(unsigned(int(version)?)?) } else { None };
        if applied && counted.len() != part.increments.len() * 2 {
            return Err(odd_answer());
        }
        let counters = counted
            .chunks_exact(2)
            .map(|pair| match pair {
                [count, expires_at] => Ok(Counter { count: unsigned(int(count)?)?, expires_at: at(int(expires_at)?) }),
                _ => Err(odd_answer()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(PartOutcome { values, applied, version, counters }))
    }

    /// Count `members` of `counters` (whose Redis keys are `keys`) in one script.
    async fn increment_group(
        &self,
        keys: &[String],
        counters: &[(&str, OffsetDateTime)],
        members: &[usize],
        now: OffsetDateTime,
    ) -> Result<Vec<Counter>, BackendError> {
        let mut invocation = self.increment.prepare_invoke();
        invocation.arg(now.unix_timestamp());
        for &i in members {
            let (Some(key), Some((_, expires_at))) = (keys.get(i), counters.get(i)) else { continue };
            let expires_at = expires_at.unix_timestamp();
            invocation.key(key).arg(expires_at).arg(self.redis_expiry(expires_at, now));
        }
        let flat: Vec<i64> = self
            .run(|mut conn| {
                let invocation = &invocation;
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        if flat.len() != members.len() * 2 {
            return Err(BackendError::new(BackendErrorKind::Other, "Redis returned the wrong number of counters"));
        }
        flat.chunks_exact(2)
            .map(|pair| match pair {
                [count, expires_at] => Ok(Counter { count: unsigned(*count)?, expires_at: at(*expires_at) }),
                _ => Err(BackendError::new(BackendErrorKind::Other, "Redis returned an odd counter list")),
            })
            .collect()
    }
}

fn tagged(prefix: &str, key: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + key.len() + 2);
    out.push_str(prefix);
    match key.rfind('/') {
        _ if key.contains(['{', '}']) => out.push_str(key),
        Some(slash) if slash + 1 < key.len() => {
            let (head, tail) = key.split_at(slash + 1);
            out.push_str(head);
            out.push('{');
            out.push_str(tail);
            out.push('}');
        }
        _ => {
            out.push('{');
            out.push_str(key);
            out.push('}');
        }
    }
    out
}

/// The Redis key of `prefix + link` made by [`tagged`], as the text before the link and the
/// text after it, for a link of letters, digits, `-` and `_` ([`sspr_core::backend::link_of`]):
/// such a link holds no `/` and no brace, so it ends the key's last part.
fn tagged_around_link(key_prefix: &str, prefix: &str) -> (String, &'static str) {
    if prefix.contains(['{', '}']) {
        return (format!("{key_prefix}{prefix}"), "");
    }
    match prefix.rfind('/') {
        Some(slash) => {
            let (head, tail) = prefix.split_at(slash + 1);
            (format!("{key_prefix}{head}{{{tail}"), "}")
        }
        None => (format!("{key_prefix}{{{prefix}"), "}"),
    }
}

/// The hash tag of a key made by [`tagged`]: keys with one tag live in one cluster slot.
fn tag_of(key: &str) -> &str {
    key.find('{')
        .and_then(|open| key.get(open + 1..).and_then(|rest| rest.find('}').and_then(|close| rest.get(..close))))
        .unwrap_or(key)
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn unsigned(n: i64) -> Result<u64, BackendError> {
    u64::try_from(n).map_err(|_| BackendError::new(BackendErrorKind::Other, "Redis returned a negative number"))
}

#[async_trait]
impl StateStore for RedisStore {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        let key = self.key(key);
        let (value, version, expires_at): (Option<Vec<u8>>, Option<u64>, Option<i64>) = self
            .run(|mut conn| {
                let key = &key;
                async move { ::redis::cmd("HMGET").arg(key).arg("v").arg("n").arg("e").query_async(&mut conn).await }
            })
            .await?;
        Ok(match (value, version, expires_at) {
            (Some(value), Some(version), Some(e)) if e > now.unix_timestamp() => Some(StoredValue { value, version }),
            _ => None,
        })
    }

    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        let expires_at = expires_at.unix_timestamp();
        let key = self.key(key);
        let expected = expected_version.map(|v| v.to_string()).unwrap_or_default();
        let mut invocation = self.put.prepare_invoke();
        invocation
            .key(key)
            .arg(value)
            .arg(expected)
            .arg(expires_at)
            .arg(now.unix_timestamp())
            .arg(self.redis_expiry(expires_at, now));
        self.run(|mut conn| {
            let invocation = &invocation;
            async move { invocation.invoke_async(&mut conn).await }
        })
        .await
    }

    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        let mut counters = self.increment_many(&[(key, expires_at)], now).await?;
        counters.pop().ok_or_else(|| BackendError::new(BackendErrorKind::Other, "Redis returned no counter"))
    }

    async fn increment_many(
        &self,
        counters: &[(&str, OffsetDateTime)],
        now: OffsetDateTime,
    ) -> Result<Vec<Counter>, BackendError> {
        if counters.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = counters.iter().map(|(key, _)| self.key(key)).collect();
        // One script per hash tag (one slot in a cluster), in the order tags first appear;
        // on a single server every batch is one script.
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let tag = if matches!(self.conn, Conn::Cluster(_)) { tag_of(key) } else { "" };
            match groups.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, members)) => members.push(i),
                None => groups.push((tag, vec![i])),
            }
        }
        let runs = groups.iter().map(|(_, members)| self.increment_group(&keys, counters, members, now));
        let answers = futures::future::try_join_all(runs).await?;
        let mut out: Vec<Option<Counter>> = vec![None; counters.len()];
        for ((_, members), counted) in groups.iter().zip(answers) {
            for (&i, counter) in members.iter().zip(counted) {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(counter);
                }
            }
        }
        out.into_iter()
            .map(|c| c.ok_or_else(|| BackendError::new(BackendErrorKind::Other, "Redis returned too few counters")))
            .collect()
    }

    /// One script on one server, or on a cluster when the first put's key and all the batch's
    /// keys share a hash tag; otherwise the first put, then (only if it won) the batch as
    /// [`StateStore::apply`] runs it.
    async fn apply_after(
        &self,
        first: &Put<'_>,
        batch: &Batch<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<BatchOutcome>, BackendError> {
        let keys = BatchKeys {
            reads: batch.reads.iter().map(|k| self.key(k)).collect(),
            put: batch.put.as_ref().map(|p| self.key(p.key)),
            increments: batch.increments.iter().map(|(k, _)| self.key(k)).collect(),
            deletes: batch.deletes.iter().map(|k| self.key(k)).collect(),
        };
        let first_key = self.key(first.key);
        let one_slot = match &self.conn {
            Conn::Single(_) => true,
            Conn::Cluster(_) => {
                let tag = tag_of(&first_key);
                keys.reads
                    .iter()
                    .chain(&keys.put)
                    .chain(&keys.increments)
                    .chain(&keys.deletes)
                    .all(|k| tag_of(k) == tag)
            }
        };
        if !one_slot {
            return match self.put(first.key, first.value, first.expected_version, first.expires_at, now).await? {
                Some(_) => Ok(Some(self.apply(batch, now).await?)),
                None => Ok(None),
            };
        }
        let part = Part {
            reads: (0..batch.reads.len()).collect(),
            put: batch.put.is_some(),
            increments: (0..batch.increments.len()).collect(),
            deletes: (0..batch.deletes.len()).collect(),
        };
        Ok(self.apply_part_after(Some((&first_key, first)), batch, &keys, &part, now).await?.map(|done| BatchOutcome {
            values: done.values,
            applied: done.applied,
            version: done.version,
            counters: done.counters,
        }))
    }

    /// One script on one server, or where all the batch's keys share a hash tag. Otherwise
    /// (a cluster, keys in several slots): the reads and the put first, one script per tag,
    /// all at once; then, only if the put won, the counters and deletes, one script per tag.
    /// The put is on one key, so it stays an atomic compare-and-set, and nothing is written
    /// after a failed put, as the contract asks.
    async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        let keys = BatchKeys {
            reads: batch.reads.iter().map(|k| self.key(k)).collect(),
            put: batch.put.as_ref().map(|p| self.key(p.key)),
            increments: batch.increments.iter().map(|(k, _)| self.key(k)).collect(),
            deletes: batch.deletes.iter().map(|k| self.key(k)).collect(),
        };
        let all = keys.reads.iter().chain(&keys.put).chain(&keys.increments).chain(&keys.deletes);
        let one_slot = match &self.conn {
            Conn::Single(_) => true,
            Conn::Cluster(_) => {
                let mut tags = all.map(|k| tag_of(k));
                let first = tags.next();
                tags.all(|t| Some(t) == first)
            }
        };
        if one_slot {
            let part = Part {
                reads: (0..batch.reads.len()).collect(),
                put: batch.put.is_some(),
                increments: (0..batch.increments.len()).collect(),
                deletes: (0..batch.deletes.len()).collect(),
            };
            let done = self.apply_part(batch, &keys, &part, now).await?;
            return Ok(BatchOutcome {
                values: done.values,
                applied: done.applied,
                version: done.version,
                counters: done.counters,
            });
        }
        // Phase 1: reads grouped by tag; the put joins its tag's group (or is alone).
        let mut first: Vec<(&str, Part)> = by_tag(keys.reads.iter().map(String::as_str))
            .into_iter()
            .map(|(tag, reads)| (tag, Part { reads, ..Part::default() }))
            .collect();
        if let Some(key) = &keys.put {
            let tag = tag_of(key);
            match first.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, part)) => part.put = true,
                None => first.push((tag, Part { put: true, ..Part::default() })),
            }
        }
        let answers =
            futures::future::try_join_all(first.iter().map(|(_, part)| self.apply_part(batch, &keys, part, now)))
                .await?;
        let mut values: Vec<Option<StoredValue>> = vec![None; batch.reads.len()];
        let (mut applied, mut version) = (true, None);
        for ((_, part), done) in first.iter().zip(answers) {
            for (&i, value) in part.reads.iter().zip(done.values) {
                if let Some(slot) = values.get_mut(i) {
                    *slot = value;
                }
            }
            if part.put {
                applied = done.applied;
                version = done.version;
            }
        }
        if !applied {
            return Ok(BatchOutcome { values, applied: false, version: None, counters: Vec::new() });
        }
        // Phase 2: counters and deletes grouped by tag.
        let mut second: Vec<(&str, Part)> = by_tag(keys.increments.iter().map(String::as_str))
            .into_iter()
            .map(|(tag, increments)| (tag, Part { increments, ..Part::default() }))
            .collect();
        for (tag, deletes) in by_tag(keys.deletes.iter().map(String::as_str)) {
            match second.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, part)) => part.deletes = deletes,
                None => second.push((tag, Part { deletes, ..Part::default() })),
            }
        }
        let answers =
            futures::future::try_join_all(second.iter().map(|(_, part)| self.apply_part(batch, &keys, part, now)))
                .await?;
        let mut counters: Vec<Option<Counter>> = vec![None; batch.increments.len()];
        for ((_, part), done) in second.iter().zip(answers) {
            for (&i, counter) in part.increments.iter().zip(done.counters) {
                if let Some(slot) = counters.get_mut(i) {
                    *slot = Some(counter);
                }
            }
        }
        let counters = counters.into_iter().map(|c| c.ok_or_else(odd_answer)).collect::<Result<Vec<_>, _>>()?;
        Ok(BatchOutcome { values, applied: true, version, counters })
    }

    /// One script on one server. On a cluster the linked keys live in another slot than the
    /// record (their hash tag is the link), so the record is read first and the linked keys
    /// then, one script per hash tag, all at once: two rounds.
    async fn get_linked(
        &self,
        key: &str,
        prefixes: &[&str],
        now: OffsetDateTime,
    ) -> Result<(Option<StoredValue>, Vec<Option<StoredValue>>), BackendError> {
        if let Conn::Cluster(_) = &self.conn {
            let value = self.get(key, now).await?;
            let Some(link) = value.as_ref().and_then(|v| link_of(&v.value)) else {
                return Ok((value, vec![None; prefixes.len()]));
            };
            let keys: Vec<String> = prefixes.iter().map(|prefix| format!("{prefix}{link}")).collect();
            let batch = Batch { reads: keys.iter().map(String::as_str).collect(), ..Batch::default() };
            let linked = self.apply(&batch, now).await?.values;
            return Ok((value, linked));
        }
        let mut invocation = self.get_linked.prepare_invoke();
        invocation.key(self.key(key)).arg(now.unix_timestamp());
        for prefix in prefixes {
            let (before, after) = tagged_around_link(&self.prefix, prefix);
            invocation.arg(before).arg(after);
        }
        let answer: Vec<Value> = self
            .run(|mut conn| {
                let invocation = &invocation;
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        if answer.len() != prefixes.len() + 1 {
            return Err(odd_answer());
        }
        let mut values = stored_values(&answer)?;
        let linked = values.split_off(1);
        Ok((values.pop().flatten(), linked))
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let key = self.key(key);
        let _: i64 = self
            .run(|mut conn| {
                let key = &key;
                async move { conn.del(key).await }
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{RedisConfig, check_transport, tag_of, tagged, tls_files};

    #[test]
    fn plain_redis_to_another_host_is_refused_unless_allowed() {
        for url in [
            "redis://:s3cret@cache.example.org:6379/0",
            "redis://user:pa/ss@10.0.0.5/",
            "REDIS://[2001:db8::1]:6379",
            "valkey://:s3cret@cache.example.org:6379/0",
            "Valkey://10.0.0.5",
        ] {
            let refused = check_transport(&RedisConfig::new(url)).unwrap_err().to_string();
            assert!(
                refused.contains("rediss://") && !refused.contains("s3cret") && !refused.contains("pa/ss"),
                "{refused}"
            );
            assert!(check_transport(&RedisConfig { allow_plaintext: true, ..RedisConfig::new(url) }).is_ok());
        }
        let node = RedisConfig {
            cluster: true,
            cluster_nodes: vec!["redis://10.0.0.6:7000".into()],
            ..RedisConfig::new("redis://127.0.0.1:7000")
        };
        assert!(check_transport(&node).is_err(), "a remote cluster node in clear");
        for url in [
            "redis://127.0.0.1:6379/",
            "redis://:pw@localhost",
            "redis://[::1]:6379",
            "redis:///",
            "rediss://cache.example.org",
            "valkeys://cache.example.org",
            "valkey://127.0.0.1:6379",
            "unix:///run/redis.sock",
        ] {
            assert!(check_transport(&RedisConfig::new(url)).is_ok(), "{url}");
        }
        let ca = Some(std::path::PathBuf::from("/etc/ca.pem"));
        assert!(
            check_transport(&RedisConfig { ca_file: ca.clone(), ..RedisConfig::new("redis://127.0.0.1") }).is_err()
        );
        assert!(
            check_transport(&RedisConfig { ca_file: ca.clone(), ..RedisConfig::new("rediss://cache.example.org") })
                .is_ok()
        );
        let cluster = RedisConfig { cluster: true, ca_file: ca, ..RedisConfig::new("rediss://cache.example.org") };
        assert!(check_transport(&cluster).is_ok(), "a cluster over TLS with a private CA");
        let mixed = RedisConfig { cluster_nodes: vec!["redis://:pw@127.0.0.1:7001".into()], ..cluster };
        let refused = check_transport(&mixed).unwrap_err().to_string();
        assert!(refused.contains("ca_file needs rediss://") && !refused.contains(":pw@"), "{refused}");

        // A client certificate: with its key, over TLS, to one server.
        let pair = |url: &str, cert: bool, key: bool| RedisConfig {
            client_cert_file: cert.then(|| "/etc/sspr/redis-client.pem".into()),
            client_key_file: key.then(|| "/etc/sspr/redis-client.key".into()),
            ..RedisConfig::new(url)
        };
        assert!(check_transport(&pair("rediss://cache.example.org", true, true)).is_ok());
        assert!(
            check_transport(&RedisConfig { cluster: true, ..pair("rediss://cache.example.org", true, true) }).is_ok()
        );
        for (config, why) in [
            (pair("rediss://cache.example.org", true, false), "a certificate without its key"),
            (pair("rediss://cache.example.org", false, true), "a key without its certificate"),
            (pair("redis://127.0.0.1", true, true), "no TLS to present it on"),
        ] {
            let refused = check_transport(&config).unwrap_err().to_string();
            assert!(refused.contains("client_"), "{why}: {refused}");
        }
    }

    #[test]
    fn a_link_ends_the_key_tagged_makes() {
        for (prefix, link) in [("sspr/block/", "ab12"), ("a/b", "x_-9"), ("plain", "z"), ("we{ird}/", "q")] {
            let (before, after) = super::tagged_around_link("p:", prefix);
            assert_eq!(format!("{before}{link}{after}"), super::tagged("p:", &format!("{prefix}{link}")), "{prefix}");
        }
    }

    #[test]
    fn keys_carry_their_last_part_as_hash_tag() {
        assert_eq!(tagged("sspr:", "sspr/flow/abc"), "sspr:sspr/flow/{abc}");
        assert_eq!(tagged("p:", "sspr/failure-alarm"), "p:sspr/{failure-alarm}");
        assert_eq!(tagged("p:", "plain"), "p:{plain}");
        assert_eq!(tagged("p:", "ends/"), "p:{ends/}");
        assert_eq!(tagged("p:", "own/{tag}/x"), "p:own/{tag}/x");
        assert_eq!(tag_of("sspr:sspr/flow/{abc}"), "abc");
        assert_eq!(tag_of("p:own/{tag}/x"), "tag");
    }

    /// Every binding calls `check_tls_files` before connecting: a bad TLS file is `Config`
    /// naming its field, never its contents (Node answered `BACKEND` at connect time).
    #[test]
    fn a_bad_tls_file_is_config_naming_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            Some(path)
        };
        let (cert, key, junk) = (
            file("c.pem", crate::test_pem::CERT),
            file("k.pem", crate::test_pem::KEY),
            file("j.pem", "not a PEM file\n"),
        );
        let missing = Some(dir.path().join("missing.pem"));
        let base = || RedisConfig::new("rediss://cache.example.org");
        let good = RedisConfig {
            ca_file: cert.clone(),
            client_cert_file: cert.clone(),
            client_key_file: key.clone(),
            ..base()
        };
        good.check_tls_files().unwrap();
        assert!(tls_files(&good).unwrap().is_some_and(|t| t.root_cert.is_some() && t.client_tls.is_some()));
        base().check_tls_files().unwrap();
        for (config, field) in [
            (RedisConfig { ca_file: missing.clone(), ..base() }, "ca_file"),
            (RedisConfig { ca_file: junk.clone(), ..base() }, "ca_file"),
            (RedisConfig { ca_file: key.clone(), ..base() }, "ca_file"),
            (RedisConfig { client_cert_file: cert.clone(), ..base() }, "client_key_file"),
            (RedisConfig { client_key_file: key.clone(), ..base() }, "client_cert_file"),
            (
                RedisConfig { client_cert_file: junk.clone(), client_key_file: key.clone(), ..base() },
                "client_cert_file",
            ),
            (
                RedisConfig { client_cert_file: cert.clone(), client_key_file: missing.clone(), ..base() },
                "client_key_file",
            ),
            (
                RedisConfig { client_cert_file: cert.clone(), client_key_file: cert.clone(), ..base() },
                "client_key_file",
            ),
        ] {
            let err = config.check_tls_files().unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, sspr_core::Error::Config(_)), "{config:?}: {err:?}");
            assert!(text.contains(field) && !text.contains("MIG") && !text.contains("BEGIN"), "{field}: {text}");
        }
    }
}
