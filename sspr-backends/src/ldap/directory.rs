//! [`LdapDirectory`]: the [`Directory`] for OpenLDAP and Active Directory.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use ldap3::controls::RawControl;
use ldap3::{Mod, Scope, SearchEntry};
use sspr_core::backend::{
    AccountState, Authentication, DirectoryUser, GROUPS_UNRESOLVED, PRIVILEGED_ROLE, PasswordRefusal, PasswordRules,
};
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, BackendErrorKind, Clock, Directory, NormalizedLogin, Password, SystemClock, UserId};

use super::config::{Flavor, LdapConfig};
use super::filter::escape_filter_value;
use super::pool::{Conn, OpError, OpFailure, Pool, one, result_text};
use super::ppolicy::{PPOLICY_OID, PpolicyError, parse_response};

/// AD `userAccountControl` bit: the account is disabled.
const UF_ACCOUNTDISABLE: u64 = 0x2;
/// AD `userAccountControl` bit: "Password never expires", under which AD ignores
/// `pwdLastSet: 0` (no change is demanded at the next sign-in).
const UF_DONT_EXPIRE_PASSWD: u64 = 0x10000;
/// AD `msDS-User-Account-Control-Computed` bit: the account is locked out.
const UF_LOCKOUT: u64 = 0x10;
/// The most groups followed when resolving nested OpenLDAP memberships.
const MAX_GROUPS: usize = 512;
/// Group searches every OpenLDAP lookup makes at least, one per level of nesting (the user's
/// groups, theirs, and theirs), also for a login that finds no one: a real user nested no
/// deeper costs an unknown login's round trips, whatever the number of groups.
const MIN_GROUP_LEVELS: usize = 3;
/// The most DNs one group search asks about (a level with more takes more searches).
const DNS_PER_GROUP_SEARCH: usize = 64;
/// AD's protected groups (those AdminSDHolder guards) by well-known RID: domain groups
/// `S-1-5-21-<domain>-<rid>` (Domain Admins, Domain Controllers, Schema Admins, Enterprise
/// Admins, Read-only Domain Controllers, Key Admins, Enterprise Key Admins) and BUILTIN
/// `S-1-5-32-<rid>` (Administrators, Account Operators, Server Operators, Print Operators,
/// Backup Operators, Replicator). Their names vary (a German DC has "Domänen-Admins"), their
/// SIDs do not. Also the Tier 0 groups AdminSDHolder leaves out: Group Policy Creator Owners
/// (520: their GPOs run code as SYSTEM wherever linked) and Enterprise Read-only Domain
/// Controllers (498).
const PROTECTED_DOMAIN_RIDS: [u32; 9] = [498, 512, 516, 518, 519, 520, 521, 526, 527];
const PROTECTED_BUILTIN_RIDS: [u32; 6] = [544, 548, 549, 550, 551, 552];

/// The directory of accounts: OpenLDAP (ppolicy, memberof) or Active Directory / Samba AD.
///
/// - Users are found by a configurable attribute ([`LdapConfig::login_attribute`]), the login
///   escaped per RFC 4515; no match or more than one match is `None`.
/// - The [`UserId`] is the entry's DN.
/// - Groups include nested ones, searched from the naming context (not `base_dn`): AD from
///   the user's `tokenGroups` (the primary group too) resolved by SID, plus the transitive
///   matching rule (`member:1.2.840.113556.1.4.1941:=`) for distribution groups; OpenLDAP by
///   searching the groups that name the user (`member`/`uniqueMember`, with or without
///   the optional UID; posixGroup `memberUid` or the primary group's `gidNumber`), then the
///   groups naming those, plus the user's `memberOf`. When the groups
///   cannot all be resolved (a size limit, more than 512 groups, unreadable `tokenGroups`),
///   the user's groups are [`GROUPS_UNRESOLVED`]: the engine refuses them as privileged,
///   never judging a partial list, and answers as for an unknown login. An AD user holding
///   a protected group's well-known SID (Domain Admins, BUILTIN\\Administrators, ...) or
///   marked `adminCount=1` also gets [`PRIVILEGED_ROLE`]: privileged whatever names the
///   policy's `privileged_groups` list (a localized or renamed Domain Admins matches none).
/// - `set_password`: AD one modify of `unicodePwd` and `pwdLastSet`; OpenLDAP the Password
///   Modify extended operation (the server hashes the password), then `pwdReset` (if that
///   second step fails, the call fails: the new password must not be handed out). A password the directory's policy refuses (OpenLDAP rc 19, AD
///   `0000052D`) is `BackendErrorKind::PasswordRejected` with the directory's reason.
/// - Connections are pooled, bound as the service account, and replaced when they break
///   (after a server restart the next call works again).
///
/// ```no_run
/// # async fn demo() -> Result<(), sspr_core::BackendError> {
/// use sspr_backends::ldap::{BindPassword, Flavor, LdapConfig, LdapDirectory};
/// let mut config = LdapConfig::new(
///     Flavor::OpenLdap,
///     "ldaps://ldap.example.org",
///     "dc=example,dc=org",
///     "cn=sspr-svc,dc=example,dc=org",
///     BindPassword::new("from the portal's secret store"),
/// );
/// config.ca_file = Some("/etc/sspr/ca.pem".into());
/// let directory = LdapDirectory::new(config)?;
/// # let _ = directory; Ok(()) }
/// ```
#[derive(Clone)]
pub struct LdapDirectory {
    inner: Arc<Inner>,
}

struct Inner {
    config: LdapConfig,
    pool: Pool,
    /// Bounds the sign-in checks' own connections (`LdapConfig::sign_in_connections`).
    sign_ins: tokio::sync::Semaphore,
    /// The naming context groups are searched in, read once (see `group_base`).
    naming_context: tokio::sync::OnceCell<String>,
    /// The DN of the service account's entry, for an unknown login's stand-in group searches
    /// (see `stand_in_dn`), found once.
    stand_in: tokio::sync::OnceCell<String>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LdapDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapDirectory").field("config", &self.inner.config).finish()
    }
}

impl LdapDirectory {
    /// A directory for `config`. Checks the configuration and reads the CA file; connects
    /// lazily, on first use.
    pub fn new(config: LdapConfig) -> Result<Self, BackendError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// The same, with the clock used to tell expired accounts.
    pub fn with_clock(config: LdapConfig, clock: Arc<dyn Clock>) -> Result<Self, BackendError> {
        let tls = config.validate()?;
        let pool = Pool::new(config.clone(), tls);
        let sign_ins = tokio::sync::Semaphore::new(config.sign_in_connections);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                pool,
                sign_ins,
                naming_context: tokio::sync::OnceCell::new(),
                stand_in: tokio::sync::OnceCell::new(),
                clock,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &LdapConfig {
        &self.inner.config
    }

    /// The time now, by the directory's clock.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The attributes read for a user.
    fn user_attributes(&self) -> Vec<&str> {
        let config = &self.inner.config;
        let mut attrs = vec![config.login_attribute(), config.display_name_attribute(), "cn", "mail"];
        match config.flavor {
            Flavor::OpenLdap => {
                attrs.extend(["uid", "gidNumber", "memberOf", "pwdAccountLockedTime", "pwdEndTime", "shadowExpire"])
            }
            Flavor::ActiveDirectory => attrs.extend([
                "adminCount",
                "userAccountControl",
                "msDS-User-Account-Control-Computed",
                "lockoutTime",
                "accountExpires",
            ]),
        }
        attrs
    }

    /// Where groups are searched: `group_base_dn` if configured, else the naming context
    /// holding `base_dn` (AD `defaultNamingContext`; OpenLDAP the `namingContexts` value
    /// `base_dn` ends with), read once from the root DSE. Never `base_dn` itself: with
    /// `base_dn` an OU, the admin groups (AD `CN=Users`, `CN=Builtin`) lie outside it.
    async fn group_base(&self, conn: &mut Conn) -> Result<String, OpError> {
        let config = &self.inner.config;
        if let Some(base) = &config.group_base_dn {
            return Ok(base.clone());
        }
        if let Some(base) = self.inner.naming_context.get() {
            return Ok(base.clone());
        }
        let root = conn.read("", &["defaultNamingContext", "namingContexts"]).await?;
        let attrs = root.map(|r| r.attrs).unwrap_or_default();
        let base_lower = config.base_dn.to_ascii_lowercase();
        let context = first(&attrs, "defaultNamingContext")
            .filter(|_| config.flavor == Flavor::ActiveDirectory)
            .or_else(|| {
                values(&attrs, "namingContexts")
                    .filter(|nc| !nc.is_empty() && base_lower.ends_with(&nc.to_ascii_lowercase()))
                    .max_by_key(|nc| nc.len())
            })
            .unwrap_or(&config.base_dn)
            .to_owned();
        Ok(self.inner.naming_context.get_or_init(|| async { context }).await.clone())
    }

    /// Turn an entry into a user, resolving nested groups.
    async fn to_user(&self, conn: &mut Conn, entry: SearchEntry) -> Result<DirectoryUser, OpError> {
        let config = &self.inner.config;
        let login = first(&entry.attrs, config.login_attribute()).unwrap_or_default().to_owned();
        let display_name = first(&entry.attrs, config.display_name_attribute())
            .or_else(|| first(&entry.attrs, "cn"))
            .unwrap_or_default()
            .to_owned();
        let group_base = self.group_base(conn).await?;
        let groups = match config.flavor {
            Flavor::ActiveDirectory => {
                let mut groups = resolved(&entry.dn, ad_groups(conn, &group_base, &entry.dn).await)?;
                // SDProp marks every member of a protected group, under whatever name; a stale
                // mark (a former admin) errs on the side of refusing.
                let protected = first(&entry.attrs, "adminCount").is_some_and(|c| c.trim() != "0");
                if protected && !groups.iter().any(|g| g == PRIVILEGED_ROLE) {
                    groups.push(PRIVILEGED_ROLE.to_owned());
                }
                groups
            }
            Flavor::OpenLdap => {
                let direct = values(&entry.attrs, "memberOf").map(str::to_owned).collect();
                // Every uid value: a posixGroup may name the account by any of them; and the
                // primary group, which names no one (the account names it by gidNumber).
                let posix = PosixNames {
                    uids: values(&entry.attrs, "uid").map(str::to_owned).collect(),
                    gid: first(&entry.attrs, "gidNumber").map(str::to_owned),
                };
                let walk = nested_openldap_groups(conn, &group_base, &entry.dn, &posix, direct).await;
                resolved(&entry.dn, walk)?
            }
        };
        let state = account_state(config.flavor, &entry.attrs, self.inner.clock.now());
        // The user's own mailbox, for registration reminders; one that is not an address is none.
        let mail = first(&entry.attrs, "mail").and_then(|m| sspr_core::EmailAddress::parse(m).ok());
        Ok(DirectoryUser { id: UserId::new(entry.dn), login, display_name, dn: String::new(), groups, state, mail })
            .map(|mut user| {
                user.dn = user.id.as_str().to_owned();
                user
            })
    }

    /// For a login that finds no one: the group searches a found user's lookup makes, for the
    /// service account's own entry, their answer dropped. A real user's lookup is several
    /// round trips (AD: the user, `tokenGroups`, their SIDs, the transitive groups) and an
    /// unknown login's would be one: on a directory slowed by load or distance, the time
    /// beyond the padding told a real login from an unknown one. A lost connection fails
    /// alike; the server's refusal (a bind name that is not a DN, say) is dropped with the
    /// answer, so an unknown login is never refused for the stand-in's sake.
    async fn stand_in_groups(&self, conn: &mut Conn) -> Result<(), OpError> {
        let config = &self.inner.config;
        let group_base = match self.group_base(conn).await {
            Err(error @ OpError::Transport { .. }) => return Err(error),
            Err(OpError::Result(_)) => return Ok(()),
            Ok(base) => base,
        };
        let stand_in = self.stand_in_dn(conn, &group_base).await?;
        let walk = match config.flavor {
            Flavor::ActiveDirectory => ad_groups(conn, &group_base, &stand_in).await,
            // Level by level, like a found user's: as many searches as a user nested as deep
            // as the service account (the minimum, usually), however many groups it has.
            Flavor::OpenLdap => {
                nested_openldap_groups(conn, &group_base, &stand_in, &PosixNames::default(), Vec::new()).await
            }
        };
        match walk {
            Err(Walk::Failed(error @ OpError::Transport { .. })) => Err(error),
            Ok(_) | Err(Walk::Incomplete(_) | Walk::Failed(OpError::Result(_))) => Ok(()),
        }
    }

    /// The entry whose groups stand in for an unknown login's: the service account's. AD
    /// also binds by `DOMAIN\name` or a UPN, which is no DN: searched from there, the stand-in
    /// failed at its first step (one round trip where a real user's lookup makes three more),
    /// so a slow directory told real logins from unknown ones again. Such a name is looked up
    /// once and its entry's DN kept; a lookup that finds no single entry keeps the name (as
    /// before, with a warning), a lost connection fails alike.
    async fn stand_in_dn(&self, conn: &mut Conn, group_base: &str) -> Result<String, OpError> {
        let bind = &self.inner.config.bind_dn;
        if let Some(dn) = self.inner.stand_in.get() {
            return Ok(dn.clone());
        }
        // AD takes `DOMAIN\name`, a UPN, or `name@dns-domain` (an implicit UPN) too.
        let filter = if bind.contains('=') {
            None
        } else if let Some((_, name)) = bind.split_once('\\') {
            Some(format!("(sAMAccountName={})", escape_filter_value(name)))
        } else {
            bind.split_once('@').map(|(name, _)| {
                format!(
                    "(|(userPrincipalName={})(sAMAccountName={}))",
                    escape_filter_value(bind),
                    escape_filter_value(name)
                )
            })
        };
        let dn = match filter {
            None => bind.clone(),
            Some(filter) => match conn.search(group_base, Scope::Subtree, &filter, &["1.1"], 2).await {
                Ok((mut found, 0)) if found.len() == 1 => found.pop().map_or_else(|| bind.clone(), |e| e.dn),
                Ok(_) | Err(OpError::Result(_)) => {
                    tracing::warn!(
                        bind_dn = %bind,
                        "the service account's entry was not found by its bind name: an unknown login's lookup \
                         may be quicker than a real one's on a slow directory; set bind_dn to the account's DN"
                    );
                    bind.clone()
                }
                Err(error) => return Err(error),
            },
        };
        Ok(self.inner.stand_in.get_or_init(|| async { dn }).await.clone())
    }

    /// Refuse, before anything is written, a must-change password the directory would not
    /// make the user change: the temporary password, shown once, would stay the user's
    /// password for good while sspr said it must change. AD ignores `pwdLastSet: 0` on an
    /// account whose password never expires. slapd honours `pwdReset` only under a policy
    /// with `pwdMustChange: TRUE`, and its default is FALSE; under a `pwdMinAge` it refuses
    /// the user's change of the temporary password (and, `pwdReset` set, everything else)
    /// until that age has passed, or for good under `pwdAllowUserChange: FALSE`: a lock-out.
    /// The policy is the user's
    /// `pwdPolicySubentry`, else `password_policy_dn`, else the one `pwdPolicy` entry under
    /// `base_dn` (as for the rules), and when none can be told (several, none readable) the
    /// write goes ahead, as before.
    async fn refuse_unless_must_change_holds(&self, dn: &str, flavor: Flavor) -> Result<(), BackendError> {
        if flavor == Flavor::ActiveDirectory {
            let entry = self.read_op(|mut conn| async move { conn.read(dn, &["userAccountControl"]).await }).await?;
            let uac = entry.as_ref().and_then(|e| first(&e.attrs, "userAccountControl"));
            if uac.and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|v| v & UF_DONT_EXPIRE_PASSWD != 0) {
                return Err(BackendError::new(
                    BackendErrorKind::Rejected,
                    "the account's password never expires (userAccountControl DONT_EXPIRE_PASSWORD), so Active \
                     Directory would not make the user change a temporary password: it is not set",
                ));
            }
            return Ok(());
        }
        match self.must_change_policy(Some(dn)).await? {
            Some(refusal) => Err(BackendError::new(BackendErrorKind::Rejected, refusal)),
            None => Ok(()),
        }
    }

    /// OpenLDAP: why a temporary password would be refused under the password policy of
    /// users without a `pwdPolicySubentry` (`password_policy_dn`, else the one `pwdPolicy`
    /// under `base_dn`), or `None` when it would be set (or the policy cannot be told; Active
    /// Directory decides per account). Read once at start-up (`sspr_backends::config` logs it
    /// as a warning), so an administrator learns of a policy that would fail every reset at
    /// its last step before a user does.
    ///
    /// # Errors
    /// The directory cannot be read.
    pub async fn temporary_password_refusal(&self) -> Result<Option<String>, BackendError> {
        if self.inner.config.flavor == Flavor::ActiveDirectory {
            return Ok(None);
        }
        self.must_change_policy(None).await
    }

    /// The refusal of a must-change password under the policy of `user` (its
    /// `pwdPolicySubentry`, else the default policy), or of a user without one (`None`).
    async fn must_change_policy(&self, user: Option<&str>) -> Result<Option<String>, BackendError> {
        let config = &self.inner.config;
        let policy = self
            .read_op(|mut conn| async move {
                let subentry = match user {
                    Some(dn) => {
                        let own = conn.read(dn, &["pwdPolicySubentry"]).await?;
                        own.as_ref().and_then(|e| first(&e.attrs, "pwdPolicySubentry")).map(str::to_owned)
                    }
                    None => None,
                };
                let attrs = ["pwdMustChange", "pwdMinAge", "pwdAllowUserChange"];
                let entry = match subentry.or_else(|| config.password_policy_dn.clone()) {
                    Some(policy) => conn.read(&policy, &attrs).await?,
                    None => {
                        let (mut found, _) =
                            conn.search(&config.base_dn, Scope::Subtree, "(objectClass=pwdPolicy)", &attrs, 2).await?;
                        if found.len() == 1 { found.pop() } else { None }
                    }
                };
                Ok(entry.map(|e| {
                    let must_change = first(&e.attrs, "pwdMustChange").is_some_and(|v| v.eq_ignore_ascii_case("TRUE"));
                    let min_age = first(&e.attrs, "pwdMinAge").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
                    // Absent means TRUE (slapd's default).
                    let user_may_change =
                        !first(&e.attrs, "pwdAllowUserChange").is_some_and(|v| v.eq_ignore_ascii_case("FALSE"));
                    (e.dn, must_change, min_age, user_may_change)
                }))
            })
            .await?;
        Ok(match policy {
            Some((policy, false, _, _)) => Some(format!(
                "the password policy {policy} does not make users change a password an administrator set \
                 (pwdMustChange is not TRUE): a temporary password is not set; set pwdMustChange: TRUE"
            )),
            // slapd applies the minimum age to the change `pwdReset` demands, and refuses
            // everything else meanwhile: the user would be locked out until it passed.
            Some((policy, true, _, false)) => Some(format!(
                "the password policy {policy} has pwdAllowUserChange: FALSE: the user could never change a \
                 temporary password nor do anything else with it, so it is not set"
            )),
            Some((policy, true, min_age, true)) if min_age > 0 => Some(format!(
                "the password policy {policy} has pwdMinAge {min_age}: the user could not change a temporary \
                 password for {min_age} s and could do nothing else meanwhile, so it is not set; set pwdMinAge: 0 \
                 or let users choose their password (allow_chosen_password)"
            )),
            _ => None,
        })
    }

    /// Set the password once: AD one modify (`unicodePwd` and `pwdLastSet`), OpenLDAP the
    /// Password Modify extended operation (RFC 3062), so that slapd hashes the password by
    /// its `password-hash` whatever ppolicy's `ppolicy_hash_cleartext` says (a plain modify
    /// of `userPassword` is stored as sent, in clear, without it).
    async fn set_password_once(
        &self,
        dn: &str,
        flavor: Flavor,
        password: &Password,
        must_change: bool,
    ) -> Result<(), OpFailure> {
        self.inner
            .pool
            .run(false, |mut conn| async move {
                match flavor {
                    Flavor::OpenLdap => conn.password_modify(dn, password.expose_secret()).await,
                    Flavor::ActiveDirectory => {
                        let mods = vec![
                            Mod::Replace(b"unicodePwd".to_vec(), one(ad_password(password.expose_secret()))),
                            Mod::Replace(b"pwdLastSet".to_vec(), one(if must_change { "0" } else { "-1" })),
                        ];
                        conn.modify(dn, mods).await
                    }
                }
            })
            .await
    }

    /// OpenLDAP: the must-change flag after the extended operation set the password. The
    /// operation cannot carry it, and ppolicy *clears* `pwdReset` on a password change, so it
    /// is set afterwards, never before. A Replace is idempotent: retried on new connections.
    async fn set_openldap_reset_flag(&self, dn: &str, must_change: bool) -> Result<(), BackendError> {
        let mut last = None;
        for attempt in 0..3u64 {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            let flag = if must_change { one("TRUE") } else { HashSet::new() };
            let outcome = self
                .inner
                .pool
                .run(true, |mut conn| {
                    let mods = vec![Mod::Replace(b"pwdReset".to_vec(), flag.clone())];
                    async move { conn.modify(dn, mods).await }
                })
                .await;
            match outcome {
                Ok(()) => return Ok(()),
                Err(OpFailure::Backend(e)) => last = Some(e),
                Err(OpFailure::Result(r)) => last = Some(result_error(&r)),
            }
        }
        let cause = last.map(|e| e.message().to_owned()).unwrap_or_default();
        tracing::error!(
            user = dn,
            must_change,
            cause = %cause,
            "the password was set but its must-change flag was not: the reset is reported as failed"
        );
        // Failing here is the safe side: the caller does not hand out a password it was told
        // failed, so the (hashed) new password is known to nobody until the next reset.
        Err(BackendError::new(
            BackendErrorKind::Unavailable,
            format!("the password was set but pwdReset could not be: {cause}"),
        ))
    }

    /// Bind as `dn` with `password` on a connection of its own (binding changes a
    /// connection's identity; OpenLDAP with the ppolicy request control), hand the connection
    /// and the bind's result to `then`, then close it. At most `sign_in_connections` at once,
    /// so a flood of sign-ins or changes queues here instead of opening a connection each
    /// (the permit is held until the connection is closed).
    pub(super) async fn as_user<T, F, Fut>(&self, dn: &str, password: &Password, then: F) -> Result<T, BackendError>
    where
        F: FnOnce(ldap3::Ldap, ldap3::LdapResult) -> Fut,
        Fut: std::future::Future<Output = Result<T, BackendError>>,
    {
        let config = &self.inner.config;
        let _permit = match tokio::time::timeout(config.connect_timeout(), self.inner.sign_ins.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(super::pool::unavailable("the sign-in limiter is closed")),
            Err(_) => {
                return Err(super::pool::unavailable("too many sign-ins at once: no connection was free in time"));
            }
        };
        let (mut ldap, driver) = self.inner.pool.connect_driven().await?;
        ldap.with_timeout(config.operation_timeout());
        if config.flavor == Flavor::OpenLdap {
            ldap.with_controls(RawControl { ctype: PPOLICY_OID.to_owned(), crit: false, val: None });
        }
        let out = match ldap.simple_bind(dn, password.expose_secret()).await {
            Ok(result) => then(ldap.clone(), result).await,
            Err(e) => Err(OpError::from(e).into_backend_error()),
        };
        let _ = ldap.unbind().await;
        drop(ldap);
        // The permit is released only once the connection is closed (the driver has ended),
        // not when the unbind was sent.
        // A driver that outlives the timeout is cancelled and awaited, so its socket is closed
        // before the permit goes back: otherwise a slow close lets one more connection open.
        let mut driver = driver;
        if tokio::time::timeout(config.operation_timeout(), &mut driver).await.is_err() {
            driver.abort();
            let _ = driver.await;
        }
        out
    }

    /// Run a read on the pool, converting every failure to a backend error.
    pub(super) async fn read_op<T, F, Fut>(&self, op: F) -> Result<T, BackendError>
    where
        F: Fn(Conn) -> Fut,
        Fut: std::future::Future<Output = Result<T, OpError>>,
    {
        self.inner.pool.run(true, op).await.map_err(|failure| match failure {
            OpFailure::Backend(e) => e,
            OpFailure::Result(result) => result_error(&result),
        })
    }
}

/// Why a group walk stopped before it had every group: a search the directory answered
/// but cut short (a size limit), too many groups, or an unreadable attribute; or an error.
enum Walk {
    Incomplete(&'static str),
    Failed(OpError),
}

impl From<OpError> for Walk {
    fn from(error: OpError) -> Self {
        Self::Failed(error)
    }
}

/// Fail closed without telling: a user whose groups could not all be resolved is never
/// judged on a partial list (the group that makes them privileged may be among those
/// missed). They get [`GROUPS_UNRESOLVED`], which the engine treats as privileged, rather
/// than an error, which would answer an anonymous caller differently for this account.
fn resolved(user: &str, walk: Result<Vec<String>, Walk>) -> Result<Vec<String>, OpError> {
    match walk {
        Ok(groups) => Ok(groups),
        Err(Walk::Incomplete(why)) => {
            tracing::warn!(user, why, "group resolution incomplete: the user is treated as privileged");
            Ok(vec![GROUPS_UNRESOLVED.to_owned()])
        }
        Err(Walk::Failed(error)) => Err(error),
    }
}

/// How posixGroups name an account: by any of its `uid` values (`memberUid`), and its primary
/// group by the account's `gidNumber`.
#[derive(Default)]
struct PosixNames {
    uids: Vec<String>,
    gid: Option<String>,
}

/// Every group of `user`, nested ones too: the groups whose `member` or `uniqueMember` names
/// the user (works with and without the memberof overlay; a `uniqueMember` with the optional
/// UID too), the posixGroups whose `memberUid` holds any of the user's `uid` values or whose
/// `gidNumber` is the user's (the primary group), the user's own `memberOf` values (groups outside `group_base`),
/// and upwards from each group the same way. One search per level of nesting (not per
/// group: a user in many groups would take longer to find than a login that finds no one)
/// and at least [`MIN_GROUP_LEVELS`]. More than [`MAX_GROUPS`] groups, or a search cut short
/// by a size limit, fails closed.
async fn nested_openldap_groups(
    conn: &mut Conn,
    group_base: &str,
    user: &str,
    posix: &PosixNames,
    direct: Vec<String>,
) -> Result<Vec<String>, Walk> {
    let mut seen: HashSet<String> = HashSet::from([user.to_ascii_lowercase()]);
    let mut all = Vec::new();
    let mut level = vec![user.to_owned()];
    let mut extra = direct;
    // posixGroups hold uids, not DNs, and do not nest: asked about on the first level only.
    let mut posix = Some(posix);
    let mut levels = 0;
    loop {
        // A level with nothing to ask about still makes its search (for the user again, the
        // answer dropped), so that the round trips do not depend on how groups are nested.
        let filler = level.is_empty();
        let asked = if filler { vec![user.to_owned()] } else { level };
        let mut found = Vec::new();
        for chunk in asked.chunks(DNS_PER_GROUP_SEARCH) {
            found.extend(groups_naming(conn, group_base, chunk, posix.take()).await?);
        }
        levels += 1;
        if filler {
            found.clear();
        }
        found.append(&mut extra);
        let next: Vec<String> = found.into_iter().filter(|g| seen.insert(g.to_ascii_lowercase())).collect();
        if all.len() + next.len() > MAX_GROUPS {
            return Err(Walk::Incomplete("more groups than the walk follows"));
        }
        all.extend(next.iter().cloned());
        if next.is_empty() && levels >= MIN_GROUP_LEVELS {
            return Ok(all);
        }
        level = next;
    }
}

/// The groups under `base` with any of `dns` as a member (or, for posixGroups, the account
/// `posix` names).
///
/// `uniqueMember` is asked for approximately too: a value may carry RFC 4517's optional UID
/// (`uid=x,dc=example#'0101'B`), which slapd's equality rule requires the assertion to
/// repeat, and the UID is not known here; slapd's approximate match compares the DN part
/// alone, normalised as for `member` (case, spaces, escapes, OID attribute types). The exact
/// clause stays for servers without that approximate rule.
async fn groups_naming(
    conn: &mut Conn,
    base: &str,
    dns: &[String],
    posix: Option<&PosixNames>,
) -> Result<Vec<String>, Walk> {
    let members: String = dns
        .iter()
        .map(|dn| escape_filter_value(dn))
        .map(|dn| format!("(member={dn})(uniqueMember={dn})(uniqueMember~={dn})"))
        .collect();
    let posix: String = match posix {
        None => String::new(),
        Some(PosixNames { uids, gid }) => {
            let mut any: String = uids.iter().map(|u| format!("(memberUid={})", escape_filter_value(u))).collect();
            if let Some(gid) = gid {
                any.push_str(&format!("(gidNumber={})", escape_filter_value(gid)));
            }
            if any.is_empty() { String::new() } else { format!("(&(objectClass=posixGroup)(|{any}))") }
        }
    };
    let filter = format!("(|{members}{posix})");
    let (groups, rc, refs) = conn.search_with_refs(base, Scope::Subtree, &filter, &["1.1"], 0).await?;
    if rc != 0 {
        return Err(Walk::Incomplete("a group search was cut short"));
    }
    // Part of the groups is held by another server (a search result reference): a group
    // there naming the user would be missed.
    if refs > 0 {
        return Err(Walk::Incomplete("a group search was referred to another server"));
    }
    Ok(groups.into_iter().map(|g| g.dn).collect())
}

/// The attributes the visibility check reads from a privileged group.
const GROUP_MEMBER_ATTRS: [&str; 4] = ["objectClass", "member", "uniqueMember", "memberUid"];

/// OpenLDAP: why the service account cannot see who is in `group` (a DN, or a name looked up
/// as `cn` under `base`), or `None` when it can (see [`Directory::check_groups_visible`]). A
/// name that finds no group is fine; a DN that finds none is not (a group the service account
/// may not see at all looks the same, and a mistyped DN protects no one).
async fn group_visibility(conn: &mut Conn, base: &str, group: &str) -> Result<Option<String>, OpError> {
    let entries = if group.contains('=') {
        match conn.read(group, &GROUP_MEMBER_ATTRS).await? {
            Some(entry) => vec![entry],
            None => {
                return Ok(Some(format!(
                    "privileged group {group} was not found: the service account cannot see it, or the policy \
                     names a group that does not exist"
                )));
            }
        }
    } else {
        let filter = format!(
            "(&(cn={})(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)))",
            escape_filter_value(group)
        );
        let (found, rc, refs) = conn.search_with_refs(base, Scope::Subtree, &filter, &GROUP_MEMBER_ATTRS, 0).await?;
        if rc != 0 || refs > 0 {
            return Ok(Some(format!(
                "the search for privileged group \"{group}\" under {base} was cut short or referred to another server"
            )));
        }
        found
    };
    for entry in &entries {
        if let Some(problem) = members_visibility(conn, entry).await? {
            return Ok(Some(problem));
        }
        if !is_under(&entry.dn, base) {
            return Ok(Some(format!(
                "privileged group {} is outside the group base {base}: the group walk searches only there, so \
                 a member through a nested group would not be found; set group_base_dn to a base that holds it",
                entry.dn
            )));
        }
        if let Some(problem) = nested_visibility(conn, base, entry).await? {
            return Ok(Some(problem));
        }
    }
    Ok(None)
}

/// How many entries below one privileged group (its members, and theirs through nested
/// groups) the visibility check reads at most: an administrators' group far larger than
/// this is refused rather than read at every start.
const MAX_NESTED_ENTRIES: usize = 10_000;

/// Why a user in a group nested (at any depth) inside the privileged group `root` would not
/// be found in `root` by the group walk, or `None`. The walk goes upwards from the user, one
/// `(member=<dn>)` search under `base` per level, so every group on the way must be under
/// `base` and show its members to the service account as `root` must. Each member of `root`
/// and of each group in it is read once: one that cannot be read may be a group hidden from
/// the service account whole (a user in it is missed) and looks the same as a member that no
/// longer exists, so both are refused, naming it.
async fn nested_visibility(conn: &mut Conn, base: &str, root: &SearchEntry) -> Result<Option<String>, OpError> {
    let mut seen: HashSet<String> = HashSet::from([dn_key(&root.dn)]);
    let mut pending: Vec<(String, String)> = member_dns(root).map(|m| (m, root.dn.clone())).collect();
    while let Some((member, group)) = pending.pop() {
        if !seen.insert(dn_key(&member)) {
            continue;
        }
        if seen.len() > MAX_NESTED_ENTRIES {
            return Ok(Some(format!(
                "privileged group {} has more than {MAX_NESTED_ENTRIES} members and nested members: too many to \
                 check that the service account sees them all",
                root.dn
            )));
        }
        let Some(entry) = conn.read(&member, &GROUP_MEMBER_ATTRS).await? else {
            return Ok(Some(format!(
                "{member}, a member of privileged group {group}, cannot be read by the service account: a group \
                 hidden from it would hide who is in it, and an entry that no longer exists looks the same; grant \
                 read access to it or remove the member"
            )));
        };
        if !is_group(&entry) {
            continue;
        }
        let nested = format!("group {}, nested in privileged group {group}", entry.dn);
        if !is_under(&entry.dn, base) {
            return Ok(Some(format!(
                "{nested}, is outside the group base {base}: the group walk searches only there, so its members \
                 would not be found; set group_base_dn to a base that holds it"
            )));
        }
        if let Some(problem) = members_visibility(conn, &entry).await? {
            return Ok(Some(format!("{problem} ({nested})")));
        }
        pending.extend(member_dns(&entry).map(|m| (m, entry.dn.clone())));
    }
    Ok(None)
}

/// The DNs a group names as members (`member`, and `uniqueMember` without its optional UID).
fn member_dns(entry: &SearchEntry) -> impl Iterator<Item = String> + '_ {
    let unique = values(&entry.attrs, "uniqueMember").map(|v| v.split('#').next().unwrap_or(v));
    values(&entry.attrs, "member").chain(unique).map(str::to_owned)
}

/// Whether `entry` is a group the walk follows upwards (it asks for `member`, `uniqueMember`
/// and, on its first level, `memberUid`).
fn is_group(entry: &SearchEntry) -> bool {
    values(&entry.attrs, "objectClass").any(|class| {
        ["groupOfNames", "groupOfUniqueNames", "posixGroup"].iter().any(|group| class.eq_ignore_ascii_case(group))
    })
}

/// `dn` compared loosely: ASCII case and the spaces around `,` and `=` do not count (enough
/// to tell the DNs of one directory apart; escapes are left as written).
fn dn_key(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| rdn.split('=').map(str::trim).collect::<Vec<_>>().join("="))
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase()
}

/// Whether `dn` is `base` or below it.
fn is_under(dn: &str, base: &str) -> bool {
    let (dn, base) = (dn_key(dn), dn_key(base));
    dn == base || dn.ends_with(&format!(",{base}"))
}

/// Why the service account cannot both read and search the membership of the group `entry`
/// (read with [`GROUP_MEMBER_ATTRS`]), or `None`. One value read is asked about in a base
/// search of the group: slapd answers a filter on an attribute the account may not search
/// as Undefined, so the group not coming back means the walk would miss it. A group with no
/// member value to read: a groupOfNames or groupOfUniqueNames always has one (hidden, then);
/// a posixGroup may have none (its members by `gidNumber` alone), and a compare of
/// `memberUid` tells "none" (noSuchAttribute) from "hidden" (insufficientAccessRights).
async fn members_visibility(conn: &mut Conn, entry: &SearchEntry) -> Result<Option<String>, OpError> {
    let dn = entry.dn.as_str();
    let needed = "read and search access to its member, uniqueMember and memberUid attributes";
    let member = values(&entry.attrs, "member").next().map(|v| format!("(member={})", escape_filter_value(v)));
    let unique = values(&entry.attrs, "uniqueMember").next().map(|v| {
        // Without the optional UID, as the walk asks (`groups_naming`).
        let v = escape_filter_value(v.split('#').next().unwrap_or(v));
        format!("(|(uniqueMember={v})(uniqueMember~={v}))")
    });
    let posix = values(&entry.attrs, "memberUid").next().map(|v| format!("(memberUid={})", escape_filter_value(v)));
    if let Some(filter) = member.or(unique).or(posix) {
        let (found, _) = conn.search(dn, Scope::Base, &filter, &["1.1"], 1).await?;
        return Ok(found.is_empty().then(|| {
            format!(
                "the service account can read the members of privileged group {dn} but not search them, so a \
                 user's lookup would not find the group: grant it {needed}"
            )
        }));
    }
    let posix_only = values(&entry.attrs, "objectClass").any(|c| c.eq_ignore_ascii_case("posixGroup"))
        && !values(&entry.attrs, "objectClass")
            .any(|c| c.eq_ignore_ascii_case("groupOfNames") || c.eq_ignore_ascii_case("groupOfUniqueNames"));
    if posix_only && conn.compare(dn, "memberUid", "sspr-visibility-check").await? == LDAP_NO_SUCH_ATTRIBUTE {
        return Ok(None);
    }
    Ok(Some(format!("the service account cannot read the members of privileged group {dn}: grant it {needed}")))
}

/// LDAP result code noSuchAttribute (RFC 4511).
const LDAP_NO_SUCH_ATTRIBUTE: u32 = 16;

/// AD: every group of `user` from its `tokenGroups` (a base read of a constructed attribute:
/// all security groups, nested ones and the *primary* group, which no `member` lists), each
/// SID resolved to the group's DN under `base` (the naming context, so `CN=Users` and
/// `CN=Builtin` too), plus distribution groups through the transitive matching rule. Missing
/// `tokenGroups` (the service account may not read it) or a cut-short search fails closed.
async fn ad_groups(conn: &mut Conn, base: &str, user: &str) -> Result<Vec<String>, Walk> {
    let (entries, _) = conn.search(user, Scope::Base, "(objectClass=*)", &["tokenGroups"], 1).await?;
    let sids: Vec<String> = entries
        .iter()
        .flat_map(|e| e.bin_attrs.iter().filter(|(k, _)| k.eq_ignore_ascii_case("tokenGroups")))
        .flat_map(|(_, v)| v.iter().filter_map(|sid| sid_text(sid)))
        .collect();
    if sids.is_empty() {
        // Every account has at least its primary group in tokenGroups.
        return Err(Walk::Incomplete("tokenGroups could not be read"));
    }
    let mut groups: Vec<String> = Vec::new();
    for chunk in sids.chunks(64) {
        let any: String = chunk.iter().map(|sid| format!("(objectSid={sid})")).collect();
        let (found, rc) = conn.search(base, Scope::Subtree, &format!("(|{any})"), &["1.1"], 0).await?;
        if rc != 0 {
            return Err(Walk::Incomplete("a group search was cut short"));
        }
        groups.extend(found.into_iter().map(|g| g.dn));
    }
    let filter = format!("(&(objectClass=group)(member:1.2.840.113556.1.4.1941:={}))", escape_filter_value(user));
    let (nested, rc) = conn.search(base, Scope::Subtree, &filter, &["1.1"], 0).await?;
    if rc != 0 {
        return Err(Walk::Incomplete("a group search was cut short"));
    }
    let mut seen: HashSet<String> = groups.iter().map(|g| g.to_ascii_lowercase()).collect();
    groups.extend(nested.into_iter().map(|g| g.dn).filter(|g| seen.insert(g.to_ascii_lowercase())));
    if sids.iter().any(|sid| is_protected_group_sid(sid)) {
        groups.push(PRIVILEGED_ROLE.to_owned());
    }
    Ok(groups)
}

/// Whether `sid` (text form) is one of AD's protected groups, by its well-known RID.
fn is_protected_group_sid(sid: &str) -> bool {
    let parts: Vec<&str> = sid.split('-').collect();
    let rid = |s: &str| s.parse::<u32>().ok();
    match parts.as_slice() {
        ["S", "1", "5", "32", r] => rid(r).is_some_and(|r| PROTECTED_BUILTIN_RIDS.contains(&r)),
        ["S", "1", "5", "21", _, _, _, r] => rid(r).is_some_and(|r| PROTECTED_DOMAIN_RIDS.contains(&r)),
        _ => false,
    }
}

/// A binary SID (`objectSid`, `tokenGroups`) as text, `S-1-5-21-...`.
fn sid_text(sid: &[u8]) -> Option<String> {
    let (&revision, rest) = sid.split_first()?;
    let (&count, rest) = rest.split_first()?;
    let authority = rest.get(..6)?;
    let subs = rest.get(6..)?;
    if subs.len() != usize::from(count) * 4 {
        return None;
    }
    let authority = authority.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let mut text = format!("S-{revision}-{authority}");
    for sub in subs.chunks_exact(4) {
        let value = u32::from_le_bytes([*sub.first()?, *sub.get(1)?, *sub.get(2)?, *sub.get(3)?]);
        text.push_str(&format!("-{value}"));
    }
    Some(text)
}

/// Attribute names are case-insensitive; ldap3 keys them as the server spelled them.
pub(super) fn values<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    attrs.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(name)).flat_map(|(_, v)| v.iter().map(String::as_str))
}

pub(super) fn first<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &'a str) -> Option<&'a str> {
    values(attrs, name).next()
}

/// Disabled, locked, expired, from the entry's attributes at `now`.
pub(crate) fn account_state(flavor: Flavor, attrs: &HashMap<String, Vec<String>>, now: OffsetDateTime) -> AccountState {
    let number = |name: &str| first(attrs, name).and_then(|v| v.trim().parse::<i64>().ok());
    match flavor {
        Flavor::ActiveDirectory => {
            let uac = number("userAccountControl").unwrap_or(0) as u64;
            let computed = number("msDS-User-Account-Control-Computed");
            let locked = match computed {
                Some(c) => c as u64 & UF_LOCKOUT != 0,
                None => number("lockoutTime").is_some_and(|t| t != 0),
            };
            // accountExpires: 100 ns intervals since 1601-01-01; 0 and i64::MAX mean never.
            let expired = number("accountExpires")
                .filter(|&t| t != 0 && t != i64::MAX)
                .is_some_and(|t| t / 10_000_000 - 11_644_473_600 <= now.unix_timestamp());
            AccountState { disabled: uac & UF_ACCOUNTDISABLE != 0, expired, locked }
        }
        Flavor::OpenLdap => {
            let locked_time = first(attrs, "pwdAccountLockedTime");
            let disabled = locked_time.is_some_and(openldap_lock_is_for_good);
            let locked = locked_time.is_some() && !disabled;
            // A time that does not parse (slapd checked its syntax, so a form not read here)
            // ends the account: the safe side.
            let end = first(attrs, "pwdEndTime").is_some_and(|v| parse_generalized_time(v).is_none_or(|t| t <= now));
            // shadowExpire: days since 1970-01-01; -1 means never.
            let shadow = number("shadowExpire").filter(|&d| d >= 0).is_some_and(|d| d * 86_400 <= now.unix_timestamp());
            AccountState { disabled, expired: end || shadow, locked }
        }
    }
}

/// Whether a `pwdAccountLockedTime` value locks the account for good (an administrator's
/// disable) rather than after failed binds. slapd's ppolicy reads the *normalised* time and
/// locks for good when it is 0 (`parse_time`): 0000-01-01 00:00 and the Unix epoch, however
/// spelt (`000001010000Z`, `00000101000000Z`, `000001010000.000Z`, `19700101000000Z`,
/// measured on slapd 2.5). A value that does not parse here counts as one too (slapd checked
/// its syntax, so it is a spelling this reader lacks): an unlock never lifts what it cannot read.
pub(crate) fn openldap_lock_is_for_good(value: &str) -> bool {
    /// 0000-01-01T00:00:00Z in Unix seconds.
    const YEAR_ZERO: i64 = -62_167_219_200;
    match parse_generalized_time(value) {
        Some(t) => matches!(t.unix_timestamp(), 0 | YEAR_ZERO),
        None => true,
    }
}

/// An LDAP GeneralizedTime (RFC 4517 3.3.13) to a time: `YYYYMMDDHH[MM[SS]]`, an optional
/// fraction (`.` or `,`, dropped), then `Z` or an offset `+HH[MM]`/`-HH[MM]`. Directories write
/// `YYYYMMDDHHMMSS[.fff]Z`; an administrator may write any of these, and slapd takes them all.
pub(crate) fn parse_generalized_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (body, offset) = match text.strip_suffix(['Z', 'z']) {
        Some(body) => (body, 0),
        None => {
            let at = text.rfind(['+', '-'])?;
            let (body, zone) = text.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let zone = zone.get(1..)?;
            if !matches!(zone.len(), 2 | 4) || !zone.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i64 = zone.get(..2)?.parse().ok()?;
            let minutes: i64 = zone.get(2..).filter(|m| !m.is_empty()).map_or(Some(0), |m| m.parse().ok())?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            (body, sign * (hours * 3600 + minutes * 60))
        }
    };
    let digits = match body.find(['.', ',']) {
        Some(dot) => {
            let fraction = body.get(dot + 1..)?;
            if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            body.get(..dot)?
        }
        None => body,
    };
    if !matches!(digits.len(), 10 | 12 | 14) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits.get(r).map_or(Some(0), |s| s.parse::<u32>().ok());
    let month = sspr_core::time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date =
        sspr_core::time::Date::from_calendar_date(i32::try_from(n(0..4)?).ok()?, month, u8::try_from(n(6..8)?).ok()?)
            .ok()?;
    let time = sspr_core::time::Time::from_hms(
        u8::try_from(n(8..10)?).ok()?,
        u8::try_from(n(10..12)?).ok()?,
        u8::try_from(n(12..14)?).ok()?,
    )
    .ok()?;
    date.with_time(time).assume_utc().checked_sub(sspr_core::time::Duration::seconds(offset))
}

/// A non-success result as a backend error.
pub(crate) fn result_error(result: &ldap3::LdapResult) -> BackendError {
    let text = result_text(result);
    match result.rc {
        19 => BackendError::password_rejected(text),
        // Only a paged listing fails with it (`Conn::search_paged`); one answer cut by the
        // size limit is read as it is.
        4 => BackendError::new(
            BackendErrorKind::Unavailable,
            format!(
                "the directory's size limit cut a listing short: raise the service account's limit for paged \
                 searches (slapd: size.prtotal): {text}"
            ),
        ),
        _ if result.text.contains("0000052D") => BackendError::password_rejected(text),
        51 | 52 => BackendError::new(BackendErrorKind::Unavailable, format!("directory unavailable: {text}")),
        32 => BackendError::new(BackendErrorKind::Rejected, format!("no such entry: {text}")),
        50 => BackendError::new(
            BackendErrorKind::Other,
            format!("the service account may not do this (insufficient access): {text}"),
        ),
        8 | 13 | 53 => BackendError::new(BackendErrorKind::Rejected, format!("the directory refused: {text}")),
        _ => BackendError::new(BackendErrorKind::Other, format!("directory error: {text}")),
    }
}

/// A refused password set, typed by the rule the directory names (slapd's and Samba's words:
/// in history, too short, too simple), as a user's own change is: the reset page then says
/// which rule in the user's language, not only in the directory's English.
fn reset_refusal(flavor: Flavor, result: &ldap3::LdapResult) -> BackendError {
    let error = result_error(result);
    if error.kind() != BackendErrorKind::PasswordRejected {
        return error;
    }
    match super::change::refusal_of(flavor, result) {
        // No current password takes part in a reset.
        Some(PasswordRefusal::WrongCurrentPassword | PasswordRefusal::Unspecified) | None => error,
        Some(refusal) => BackendError::password_refused(refusal, error.message()),
    }
}

/// AD wants the new password as UTF-16LE, in double quotes.
pub(super) fn ad_password(password: &str) -> Vec<u8> {
    let quoted = format!("\"{password}\"");
    quoted.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[async_trait]
impl Directory for LdapDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        let config = &self.inner.config;
        let filter = format!(
            "(&{}({}={}))",
            config.user_filter(),
            config.login_attribute(),
            escape_filter_value(login.as_str())
        );
        let attrs = self.user_attributes();
        self.read_op(|mut conn| {
            let (filter, attrs) = (&filter, &attrs);
            async move {
                // Two are enough to tell "ambiguous": never reset one of several matches.
                let (mut entries, rc) = conn.search(&config.base_dn, Scope::Subtree, filter, attrs, 2).await?;
                if entries.len() != 1 || rc != 0 {
                    self.stand_in_groups(&mut conn).await?;
                    return Ok(None);
                }
                match entries.pop() {
                    Some(entry) => Ok(Some(self.to_user(&mut conn, entry).await?)),
                    None => Ok(None),
                }
            }
        })
        .await
    }

    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        let dn = user.as_str();
        let flavor = self.inner.config.flavor;
        if must_change {
            self.refuse_unless_must_change_holds(dn, flavor).await?;
        }
        // Not retried once sent: a repeated set could trip the password history. But a modify
        // the server refused as a whole changed nothing and may run again: OpenLDAP's ppolicy
        // refuses one of two sets of one entry that race in its `pwdHistory` bookkeeping with
        // noSuchAttribute (16) or attributeOrValueExists (20); a Replace never causes either.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.set_password_once(dn, flavor, password, must_change).await {
                Err(OpFailure::Result(r)) if matches!(r.rc, 16 | 20) && flavor == Flavor::OpenLdap && attempts < 6 => {
                    tracing::debug!(user = dn, "password set raced another change of the entry; again");
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempts)).await;
                }
                Ok(()) if flavor == Flavor::OpenLdap => return self.set_openldap_reset_flag(dn, must_change).await,
                Ok(()) => return Ok(()),
                Err(OpFailure::Backend(e)) => return Err(e),
                Err(OpFailure::Result(result)) => return Err(reset_refusal(flavor, &result)),
            }
        }
    }

    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        let dn = user.as_str();
        let flavor = self.inner.config.flavor;
        let outcome = self
            .inner
            .pool
            .run(true, |mut conn| async move {
                match flavor {
                    Flavor::ActiveDirectory => {
                        conn.modify(dn, vec![Mod::Replace(b"lockoutTime".to_vec(), one("0"))]).await
                    }
                    Flavor::OpenLdap => {
                        let Some(entry) = conn.read(dn, &["pwdAccountLockedTime"]).await? else {
                            return Err(OpError::Result(no_such_object(dn)));
                        };
                        match first(&entry.attrs, "pwdAccountLockedTime") {
                            // Not locked, or disabled by an administrator (unlock never enables).
                            None => Ok(()),
                            Some(value) if openldap_lock_is_for_good(value) => Ok(()),
                            // Delete exactly the value read: if it changed meanwhile, nothing happens.
                            // ppolicy drops pwdFailureTime with it.
                            Some(value) => {
                                let value = value.to_owned();
                                let delete = Mod::Delete(b"pwdAccountLockedTime".to_vec(), one(value));
                                match conn.modify(dn, vec![delete]).await {
                                    Err(OpError::Result(r)) if r.rc == 16 => Ok(()), // already gone
                                    other => other,
                                }
                            }
                        }
                    }
                }
            })
            .await;
        match outcome {
            Ok(()) => Ok(()),
            Err(OpFailure::Backend(e)) => Err(e),
            Err(OpFailure::Result(result)) => Err(result_error(&result)),
        }
    }

    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        // An empty password is an unauthenticated bind, which *succeeds*: never send one.
        if password.expose_secret().is_empty() || user.as_str().trim().is_empty() {
            return Ok(Authentication::Rejected);
        }
        let flavor = self.inner.config.flavor;
        self.as_user(user.as_str(), password, |_, bound| async move { classify_bind(flavor, &bound) }).await
    }

    /// The user's own change: bound as the user (AD: a `unicodePwd` delete of the old value
    /// and add of the new in one modify; OpenLDAP: the Password Modify extended operation with
    /// `oldPasswd`), so the directory applies history and minimum age. See `change.rs`.
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        self.change_own_password(user.as_str(), old, new).await
    }

    /// AD: the domain's `minPwdLength`, `pwdProperties`, `pwdHistoryLength`, `minPwdAge`;
    /// OpenLDAP: the ppolicy entry's `pwdMinLength`, `pwdInHistory`, `pwdMinAge`.
    /// OpenLDAP: each group found (by DN, or by `cn` under the group base) must have its
    /// membership readable and searchable by the service account (see `members_visibility`),
    /// and so must every group nested in it, each under the group base, every member readable
    /// (see `nested_visibility`); a name that finds no group is fine, a DN that finds none is
    /// not. Active Directory
    /// reads the user's own `tokenGroups` (unreadable: the user's groups are unresolved) and
    /// knows the protected groups by SID, so it answers `Ok` without a round trip.
    /// A base read of the user's entry asking for `attribute` alone: its text values (a value
    /// that is not UTF-8, such as AD's binary `objectGUID`, is not among them). An entry that
    /// is gone is an error, not an empty answer.
    async fn attribute_values(&self, user: &UserId, attribute: &str) -> Result<Vec<String>, BackendError> {
        let dn = user.as_str();
        let entry = self.read_op(|mut conn| async move { conn.read(dn, &[attribute]).await }).await?;
        let entry = entry.ok_or_else(|| result_error(&no_such_object(dn)))?;
        Ok(values(&entry.attrs, attribute).map(str::to_owned).collect())
    }

    async fn check_groups_visible(&self, groups: &[String]) -> Result<(), BackendError> {
        if self.inner.config.flavor != Flavor::OpenLdap || groups.is_empty() {
            return Ok(());
        }
        let problem = self
            .read_op(|mut conn| async move {
                let base = self.group_base(&mut conn).await?;
                for group in groups {
                    if let Some(problem) = group_visibility(&mut conn, &base, group).await? {
                        return Ok(Some(problem));
                    }
                }
                Ok(None)
            })
            .await?;
        match problem {
            None => Ok(()),
            Some(problem) => Err(BackendError::new(BackendErrorKind::Other, problem)),
        }
    }

    async fn password_rules(&self) -> Result<PasswordRules, BackendError> {
        self.read_password_rules().await
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let config = &self.inner.config;
        let (login_attr, display_attr) = (config.login_attribute(), config.display_name_attribute());
        let matching = if query.is_empty() {
            format!("({login_attr}=*)")
        } else {
            let q = escape_filter_value(query);
            let mut any = format!("({login_attr}=*{q}*)({display_attr}=*{q}*)");
            if !display_attr.eq_ignore_ascii_case("cn") {
                any.push_str(&format!("(cn=*{q}*)"));
            }
            format!("(|{any})")
        };
        let filter = format!("(&{}{matching})", config.user_filter());
        let attrs = self.user_attributes();
        let size_limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let mut users = self
            .read_op(|mut conn| {
                let (filter, attrs) = (&filter, &attrs);
                async move {
                    // A listing (the enrollment report asks for everything) pages past the
                    // server's per-answer cap, and refuses to come back short; a lookup for
                    // the admin page is one answer of at most `limit` entries.
                    let entries = if limit > super::pool::PAGE_SIZE as usize {
                        conn.search_paged(&config.base_dn, Scope::Subtree, filter, attrs).await?
                    } else {
                        conn.search(&config.base_dn, Scope::Subtree, filter, attrs, size_limit).await?.0
                    };
                    let mut users = Vec::with_capacity(entries.len());
                    for entry in entries.into_iter().take(limit) {
                        users.push(self.to_user(&mut conn, entry).await?);
                    }
                    Ok(users)
                }
            })
            .await?;
        users.sort_by_key(|u| u.login.to_lowercase());
        Ok(users)
    }
}

fn no_such_object(dn: &str) -> ldap3::LdapResult {
    ldap3::LdapResult {
        rc: 32,
        matched: String::new(),
        text: format!("{dn} does not exist"),
        refs: vec![],
        ctrls: vec![],
    }
}

/// What a user's bind result means: the result code, AD's `data` sub-code, and the ppolicy
/// response control.
pub(crate) fn classify_bind(flavor: Flavor, result: &ldap3::LdapResult) -> Result<Authentication, BackendError> {
    let ppolicy = result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == PPOLICY_OID)
        .and_then(|c| c.1.val.as_deref())
        .and_then(parse_response);
    match (result.rc, flavor) {
        (0, _) => Ok(match ppolicy {
            Some(PpolicyError::ChangeAfterReset | PpolicyError::PasswordExpired) => Authentication::MustChange,
            _ => Authentication::Accepted,
        }),
        (49, Flavor::ActiveDirectory) => {
            // "80090308: LdapErr: ..., data 773, v...": 773 must change, 532 expired.
            let data = ad_data_code(&result.text);
            Ok(match data.as_deref() {
                Some("773" | "532") => Authentication::MustChange,
                _ => Authentication::Rejected,
            })
        }
        (49, Flavor::OpenLdap) => Ok(match ppolicy {
            Some(PpolicyError::PasswordExpired) => Authentication::MustChange,
            _ => Authentication::Rejected,
        }),
        // Not permitted to bind (disabled accounts and the like).
        (48 | 50 | 53, _) => Ok(Authentication::Rejected),
        _ => Err(result_error(result)),
    }
}

/// The sub-code after `data ` in an AD bind error text.
pub(super) fn ad_data_code(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("data ")?;
    let code: String = lower.get(at + 5..)?.chars().take_while(char::is_ascii_hexdigit).collect();
    (!code.is_empty()).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspr_core::time::macros::datetime;

    fn attrs(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry((*k).to_owned()).or_default().push((*v).to_owned());
        }
        map
    }

    #[test]
    fn ad_account_state() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let s = account_state(Flavor::ActiveDirectory, &attrs(&[("userAccountControl", "514")]), now);
        assert_eq!(s, AccountState { disabled: true, expired: false, locked: false });
        let s = account_state(
            Flavor::ActiveDirectory,
            &attrs(&[("userAccountControl", "512"), ("msDS-User-Account-Control-Computed", "16")]),
            now,
        );
        assert!(s.locked && !s.disabled);
        // lockoutTime is left behind after the lockout ends: the computed flag wins
        let s = account_state(
            Flavor::ActiveDirectory,
            &attrs(&[("lockoutTime", "133000000000000000"), ("msDS-User-Account-Control-Computed", "0")]),
            now,
        );
        assert!(!s.locked);
        // 2020-01-01 as FILETIME: expired; never-expires values: not
        let s = account_state(Flavor::ActiveDirectory, &attrs(&[("accountExpires", "132223104000000000")]), now);
        assert!(s.expired);
        for never in ["0", "9223372036854775807"] {
            assert!(!account_state(Flavor::ActiveDirectory, &attrs(&[("accountExpires", never)]), now).expired);
        }
    }

    #[test]
    fn openldap_account_state() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let s = account_state(Flavor::OpenLdap, &attrs(&[("pwdAccountLockedTime", "000001010000Z")]), now);
        assert_eq!(s, AccountState { disabled: true, expired: false, locked: false });
        let s = account_state(Flavor::OpenLdap, &attrs(&[("pwdAccountLockedTime", "20261127110000Z")]), now);
        assert_eq!(s, AccountState { disabled: false, expired: false, locked: true });
        assert!(account_state(Flavor::OpenLdap, &attrs(&[("pwdEndTime", "20261127115959Z")]), now).expired);
        assert!(!account_state(Flavor::OpenLdap, &attrs(&[("pwdEndTime", "20261127120001Z")]), now).expired);
        // slapd locks for good at the normalised time 0 however it is spelt; a lock that does
        // not parse is never taken for a lockout to lift.
        for spelt in
            ["00000101000000Z", "000001010000.000Z", "00000101000000,0Z", "19700101000000Z", "197001010100+0100", "?"]
        {
            let s = account_state(Flavor::OpenLdap, &attrs(&[("pwdAccountLockedTime", spelt)]), now);
            assert_eq!(s, AccountState { disabled: true, expired: false, locked: false }, "{spelt}");
        }
        for lockout in ["20000101000000Z", "19700101000001Z", "00010101000000Z"] {
            let s = account_state(Flavor::OpenLdap, &attrs(&[("pwdAccountLockedTime", lockout)]), now);
            assert_eq!(s, AccountState { disabled: false, expired: false, locked: true }, "{lockout}");
        }
        // pwdEndTime without seconds, with an offset, or unreadable: still read (the last fails closed).
        for ended in ["202611271159Z", "20261127125959+0100", "2026112711Z", "garbage"] {
            assert!(account_state(Flavor::OpenLdap, &attrs(&[("pwdEndTime", ended)]), now).expired, "{ended}");
        }
        assert!(!account_state(Flavor::OpenLdap, &attrs(&[("pwdEndTime", "202611271201Z")]), now).expired);
        assert!(account_state(Flavor::OpenLdap, &attrs(&[("shadowExpire", "20000")]), now).expired);
        assert!(!account_state(Flavor::OpenLdap, &attrs(&[("shadowExpire", "-1")]), now).expired);
        assert_eq!(account_state(Flavor::OpenLdap, &attrs(&[]), now), AccountState::default());
    }

    #[test]
    fn generalized_time() {
        assert_eq!(parse_generalized_time("20261127120000Z"), Some(datetime!(2026-11-27 12:00 UTC)));
        assert_eq!(parse_generalized_time("20261127120000.123Z"), Some(datetime!(2026-11-27 12:00 UTC)));
        assert_eq!(parse_generalized_time("2026112712000Z"), None);
        assert_eq!(parse_generalized_time("20261327120000Z"), None);
    }

    #[test]
    fn sids_read_as_text() {
        // Domain Admins of a domain, and BUILTIN\Administrators.
        let da =
            [1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 3, 203, 202, 115, 225, 210, 193, 131, 217, 218, 21, 207, 0, 2, 0, 0];
        assert_eq!(sid_text(&da).as_deref(), Some("S-1-5-21-1942670083-2210517729-3474315993-512"));
        assert_eq!(sid_text(&[1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0]).as_deref(), Some("S-1-5-32-544"));
        assert_eq!(sid_text(&[1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0]), None);
        assert_eq!(sid_text(&[]), None);
    }

    #[test]
    fn protected_groups_are_known_by_sid_whatever_their_name() {
        for sid in [
            "S-1-5-21-1942670083-2210517729-3474315993-512",
            "S-1-5-21-1-2-3-519",
            "S-1-5-21-1-2-3-526",
            "S-1-5-21-1-2-3-520", // Group Policy Creator Owners: not AdminSDHolder's, still Tier 0
            "S-1-5-21-1-2-3-498",
            "S-1-5-32-544",
            "S-1-5-32-552",
        ] {
            assert!(is_protected_group_sid(sid), "{sid}");
        }
        for sid in [
            "S-1-5-21-1942670083-2210517729-3474315993-513", // Domain Users
            "S-1-5-21-1-2-3-1512",                           // an ordinary group ending in 512
            "S-1-5-21-1-2-512",                              // not a domain SID's shape
            "S-1-5-32-545",                                  // BUILTIN\Users
            "S-1-5-32-544-1",
            "S-1-5-11",
            "",
        ] {
            assert!(!is_protected_group_sid(sid), "{sid}");
        }
    }

    #[test]
    fn ad_password_is_quoted_utf16le() {
        assert_eq!(ad_password("Ab1"), b"\"\0A\0b\x001\0\"\0".to_vec());
    }

    #[test]
    fn result_codes_map_to_kinds() {
        let r = |rc, text: &str| ldap3::LdapResult {
            rc,
            matched: String::new(),
            text: text.into(),
            refs: vec![],
            ctrls: vec![],
        };
        assert_eq!(
            result_error(&r(19, "Password fails quality checking policy")).kind(),
            BackendErrorKind::PasswordRejected
        );
        let ad = result_error(&r(53, "0000052D: Constraint violation - check_password_restrictions: too short"));
        assert_eq!(ad.kind(), BackendErrorKind::PasswordRejected);
        assert!(ad.message().contains("too short"));
        assert_eq!(result_error(&r(52, "")).kind(), BackendErrorKind::Unavailable);
        assert_eq!(result_error(&r(32, "")).kind(), BackendErrorKind::Rejected);
        // A paged listing cut by a total cap: an outage to fix, naming the setting.
        let cut = result_error(&r(4, "Size limit exceeded"));
        assert_eq!(cut.kind(), BackendErrorKind::Unavailable);
        assert!(cut.message().contains("size.prtotal"), "{}", cut.message());
    }
}
