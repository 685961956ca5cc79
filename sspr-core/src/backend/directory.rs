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

/// The group a [`Directory`] lists for a user who holds an administrative role that is not a
/// group (a Microsoft Entra directory role such as Global Administrator), or whom the
/// directory itself marks as an administrator (an AD protected group's well-known SID, or
/// `adminCount`). The engine treats such a user as privileged whatever the policy's
/// `privileged_groups` say: a role is not a group the policy could name, group names differ
/// between languages and renames, and admins must not depend on a list being kept.
pub const PRIVILEGED_ROLE: &str = "sspr:privileged-role";

/// The prefix of the groups a [`Directory`] lists for the administrative units (Microsoft
/// Entra) a user belongs to: `sspr:administrative-unit:` then the unit's id or display name
/// (a directory lists both). The policy's `eligible_administrative_units` match these, the
/// way `eligible_ous` match a DN; a policy's group names never do.
pub const ADMINISTRATIVE_UNIT_PREFIX: &str = "sspr:administrative-unit:";

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
    /// The user's own mailbox in the directory (LDAP and AD `mail`, Graph `mail`), if it has
    /// a valid one: where registration reminders go ([`crate::Sspr::send_registration_reminders`]),
    /// never a PIN (a reset PIN goes only to the contacts the user registered, since whoever
    /// forgot the password cannot read the mailbox it guards). `None` when absent or not an
    /// address.
    #[serde(default)]
    pub mail: Option<crate::input::EmailAddress>,
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
/// - `change_password` is the user's **own** change, authorised by the current password, not
///   an administrator's reset: the directory checks `old` itself and applies every rule it
///   applies to a user changing their password (history, minimum age, length, complexity).
///   It must work for a user whose password must be changed (a temporary one: that is who
///   needs it most). A refusal is a `PasswordRejected` error carrying its
///   [`PasswordRefusal`] ([`BackendError::password_refused`]): a wrong `old` is
///   [`PasswordRefusal::WrongCurrentPassword`], never a generic failure, since the engine
///   counts it as a failed sign-in. Nothing changes on any error. It must not log either
///   password. The default answers `NotSupported`.
/// - `password_rules` reads the rules the directory applies to a user's own change, so they
///   can be shown before the user types; a rule the directory does not say is `None`. The
///   default answers `NotSupported`.
/// - `attribute_values` reads one attribute of a user's entry, named by the deployment's
///   configuration (never by a visitor): every value as text, none when the entry has none.
///   The portal compares it with an OpenID Connect provider's stable id of the account
///   (`[oidc] subject_attribute`). The default answers `NotSupported`.
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

    /// The user's own password change from `old` to `new` (see the contract above).
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        let _ = (user, old, new);
        Err(BackendError::not_supported("change_password"))
    }

    /// The rules the directory applies to a user's own password change.
    async fn password_rules(&self) -> Result<PasswordRules, BackendError> {
        Err(BackendError::not_supported("password_rules"))
    }

    /// The values of the attribute `attribute` of the user's entry (see the contract above).
    async fn attribute_values(&self, user: &UserId, attribute: &str) -> Result<Vec<String>, BackendError> {
        let _ = (user, attribute);
        Err(BackendError::not_supported("attribute_values"))
    }

    /// Whether the service account can see the membership of `groups` (the policy's
    /// `privileged_groups`: DNs or names) well enough that [`Directory::find_user`] and
    /// [`Directory::search`] list every one of them a user is in.
    ///
    /// A directory that finds a user's groups by searching for the groups naming the user
    /// (OpenLDAP's `(member=<dn>)`) misses, without any error, a group whose membership the
    /// service account may not search (an ACL "only admins may see who the admins are"): the
    /// admin then reads as an ordinary user. Such a directory must answer an error naming
    /// the group and the access it lacks, without secrets. A name that finds no group is no
    /// error (the default list names AD groups an OpenLDAP server has not got).
    ///
    /// The engine calls it once, before it first judges a user against the privileged
    /// groups, and keeps a success for the life of the process; while it fails (retried at
    /// most once a minute, [`BackendErrorKind::Unavailable`] at the next call) every user is
    /// treated as privileged. A directory whose lookups cannot miss a group this way (one
    /// that reads the user's own list of groups, as Graph and most host-language
    /// directories do) keeps the default, `Ok(())`.
    ///
    /// [`BackendErrorKind::Unavailable`]: crate::BackendErrorKind::Unavailable
    async fn check_groups_visible(&self, groups: &[String]) -> Result<(), BackendError> {
        let _ = groups;
        Ok(())
    }
}

/// Why a directory refused a user's password change, as far as it said (see
/// [`Directory::change_password`]; AD's `0000052D` and the ppolicy error codes map onto it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PasswordRefusal {
    /// Shorter than the directory's minimum length.
    TooShort,
    /// The current password was set too recently to be changed again (minimum age).
    TooRecent,
    /// The new password is among the user's previous ones.
    InHistory,
    /// The new password fails the directory's complexity or quality rules.
    TooSimple,
    /// The current password given is not the user's password.
    WrongCurrentPassword,
    /// Too easy to guess: zxcvbn's estimate is below the policy's `password_min_score`.
    Guessable,
    /// Found in a list of breached passwords (a [`PasswordChecker`] by k-anonymity).
    ///
    /// [`PasswordChecker`]: crate::backend::PasswordChecker
    Breached,
    /// Contains a word the organisation banned (its banned-words list).
    Banned,
    /// The directory refused the password without saying which rule (Windows AD's bare
    /// `0000052D`, a check of the engine's own that has no narrower name).
    Unspecified,
}

impl std::fmt::Display for PasswordRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TooShort => "the new password is too short",
            Self::TooRecent => "the password was changed too recently to be changed again",
            Self::InHistory => "the new password was used before",
            Self::TooSimple => "the new password is too simple",
            Self::WrongCurrentPassword => "the current password is not right",
            Self::Guessable => "the new password is too easy to guess",
            Self::Breached => "the new password appears in a list of breached passwords",
            Self::Banned => "the new password contains a banned word",
            Self::Unspecified => "the directory refused the new password",
        })
    }
}

/// The rules a directory applies to a user's own password change, read so they can be
/// shown before the user types ([`Directory::password_rules`]). `None`: the directory does
/// not say (or has no such rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PasswordRules {
    /// The fewest characters a password may have (AD `minPwdLength`, ppolicy `pwdMinLength`).
    pub min_length: Option<u32>,
    /// How many previous passwords may not be used again (AD `pwdHistoryLength`, ppolicy
    /// `pwdInHistory`; 0: no history is kept).
    pub history_length: Option<u32>,
    /// Whether the password must mix character classes and avoid the account name (AD
    /// `pwdProperties` bit `DOMAIN_PASSWORD_COMPLEX`; ppolicy's quality module).
    pub complexity: Option<bool>,
    /// How long, in seconds, a password must be kept before the user may change it again
    /// (AD `minPwdAge`, ppolicy `pwdMinAge`; 0: no minimum).
    pub min_age_secs: Option<u64>,
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
