use std::fmt::Debug;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::api::UserId;
use crate::error::BackendError;
use crate::input::NormalizedLogin;
use crate::secret::Password;

/// The group a [`Directory`] lists for a user whose groups it could not all resolve. The
/// engine treats such a user as privileged: the group that makes them privileged may be
/// among those missed, so they are never judged on a partial list.
pub const GROUPS_UNRESOLVED: &str = "sspr:groups-unresolved";

/// The state of a directory account, as far as a reset cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountState {
    /// The account is disabled (AD `ACCOUNTDISABLE`, OpenLDAP `pwdAccountLockedTime=000001010000Z`).
    pub disabled: bool,
    /// The account has passed its expiry date (AD `accountExpires`).
    pub expired: bool,
    /// The account is locked out after failed sign-ins (AD `lockoutTime`, ppolicy lockout).
    pub locked: bool,
}

/// A user as the directory knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    /// The stable identifier passed back to `set_password` and `unlock`.
    pub id: UserId,
    /// The login (UPN) as stored.
    pub login: String,
    /// The display name (its words may not appear in a new password).
    pub display_name: String,
    /// The distinguished name, for OU eligibility (`uid=jdoe,ou=staff,dc=example,dc=org`).
    pub dn: String,
    /// Every group the user belongs to, nested memberships resolved, as DNs or names.
    pub groups: Vec<String>,
    /// Disabled, expired, locked.
    pub state: AccountState,
}

/// The directory holding the accounts (OpenLDAP, Active Directory, or a host-language one).
///
/// Contract:
/// - `find_user` looks a user up by the normalised login (lower-case, NFKC). It must match
///   case-insensitively and **escape** the login for its query language: the login is
///   untrusted and may hold `*`, `(`, `)`, `\`, NUL-free but otherwise arbitrary text. It
///   returns `Ok(None)` for no match, and also for more than one match (an ambiguous login
///   must never reset somebody).
/// - `groups` must include nested memberships: privileged-group checks rely on it. A
///   directory that found the user but could not resolve all their groups (a size limit, too
///   many groups, an unreadable attribute) returns the user with [`GROUPS_UNRESOLVED`] among
///   the groups rather than an error: the engine then treats the user as privileged (fail
///   closed) and answers an anonymous caller exactly as for an unknown login. An error here
///   would answer "backend failure" for that account only, which tells it exists.
/// - `set_password` sets the password in **one** operation together with the
///   must-change flag when `must_change` is true (AD `pwdLastSet=0`, OpenLDAP `pwdReset`).
///   A password the directory's own policy refuses is reported as
///   `BackendErrorKind::PasswordRejected` with the directory's reason, and nothing changes.
///   It must not log the password, and must only use it for this call.
/// - `unlock` clears a lockout; it is idempotent.
/// - `authenticate` checks the user's own password the way a sign-in would (LDAP: a simple
///   bind as the user, on a connection of its own). A wrong password is `Ok(Rejected)`, not
///   an error; a password that is right but must be changed first (AD `data 773`, ppolicy
///   `changeAfterReset`) is `Ok(MustChange)`. It must not log the password.
/// - `search` finds users for an administrator: login or display name containing `query`,
///   case-insensitively, with `query` **escaped** like a login; at most `limit` users, sorted
///   by login. An empty query lists users up to the limit.
/// - Every method may fail with `Unavailable`; the engine then leaves its state retryable.
#[async_trait]
pub trait Directory: Send + Sync + Debug {
    /// Find the one user whose login matches.
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError>;

    /// Set a new password, with "must change at next sign-in" when `must_change`.
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError>;

    /// Clear a lockout.
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError>;

    /// Check the user's own password (a sign-in to the registration pages).
    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError>;

    /// Users whose login or display name contains `query`, at most `limit` (admin search).
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError>;
}

/// What the directory said to a user's password, for [`Directory::authenticate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authentication {
    /// The password is right.
    Accepted,
    /// The password is right, but the directory demands it be changed before anything else
    /// (a temporary password after a reset).
    MustChange,
    /// Wrong password, or the account may not sign in (disabled, locked).
    Rejected,
}
