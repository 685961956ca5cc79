use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::lock;
use crate::api::UserId;
use crate::backend::{AccountState, Authentication, Directory, DirectoryUser, PasswordRefusal, PasswordRules};
use crate::error::{BackendError, BackendErrorKind, Error, Result};
use crate::input::NormalizedLogin;
use crate::secret::Password;

/// A user of the in-memory directory, as written in seed data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryUser {
    /// Login (UPN); also the id unless `id` is given.
    pub login: String,
    /// Display name.
    pub display_name: String,
    /// Distinguished name, e.g. `uid=jdoe,ou=staff,dc=example,dc=org`.
    pub dn: String,
    /// Group names or DNs (nested memberships already resolved).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Disabled, expired, locked.
    #[serde(default)]
    pub state: AccountState,
    /// The user's own mailbox (the directory's `mail`), where registration reminders go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<crate::input::EmailAddress>,
    /// The password the user signs in with, until a reset sets another (`None`: the user
    /// cannot sign in). Read from seed data, never written back out.
    #[serde(default, skip_serializing, deserialize_with = "password_from_text")]
    pub password: Option<Password>,
}

fn password_from_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Password>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(Password::new))
}

#[derive(Debug)]
struct Entry {
    user: DirectoryUser,
    password: Option<Password>,
    must_change: bool,
    /// The passwords before the current one, newest first, at most the history length.
    previous: Vec<Password>,
}

impl Entry {
    /// Make `password` the current one; the old current one joins the history.
    fn replace_password(&mut self, password: &Password, must_change: bool, history_length: usize) {
        if let Some(old) = self.password.replace(Password::new(password.expose_secret())) {
            self.previous.insert(0, old);
        }
        self.previous.truncate(history_length.saturating_sub(1));
        self.must_change = must_change;
    }

    /// Whether `password` is the current one or among the history (constant time per entry).
    fn used_before(&self, password: &Password, history_length: usize) -> bool {
        self.password.iter().chain(&self.previous).take(history_length).any(|old| same(old, password))
    }
}

/// Whether two passwords are equal, compared in constant time.
fn same(a: &Password, b: &Password) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a.expose_secret().as_bytes(), b.expose_secret().as_bytes()))
}

/// How many passwords (the current one included) a user may not use again, unless
/// [`MemoryDirectory::set_history_length`] says otherwise: ppolicy's usual `pwdInHistory`.
pub const DEFAULT_HISTORY_LENGTH: u32 = 5;

/// The fewest characters the in-memory directory accepts, as AD's default domain policy.
const MIN_LENGTH: usize = 8;

/// A directory held in memory, seeded from data, with Active Directory's complexity rule
/// (8+ characters, 3 of 4 character classes, no login in the password) and a password
/// history ([`DEFAULT_HISTORY_LENGTH`]) for the user's own change, so a demo behaves like a
/// real domain. It has no clock, so no minimum password age. Clones share the same directory.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    users: Arc<Mutex<Users>>,
}

/// The users by id, and an index from login to id (lookups come by login, writes by id).
#[derive(Debug)]
struct Users {
    by_id: HashMap<UserId, Entry>,
    by_login: HashMap<NormalizedLogin, UserId>,
    history_length: u32,
}

impl Default for Users {
    fn default() -> Self {
        Self { by_id: HashMap::new(), by_login: HashMap::new(), history_length: DEFAULT_HISTORY_LENGTH }
    }
}

impl Users {
    fn by_login(&self, login: &NormalizedLogin) -> Option<&Entry> {
        self.by_login.get(login).and_then(|id| self.by_id.get(id))
    }

    fn by_id_mut(&mut self, user: &UserId) -> Result<&mut Entry, BackendError> {
        self.by_id.get_mut(user).ok_or_else(|| BackendError::new(BackendErrorKind::Rejected, "no such user"))
    }
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory holding `users`; the DN is each user's id.
    pub fn with_users(users: impl IntoIterator<Item = MemoryUser>) -> Result<Self> {
        let dir = Self::new();
        for user in users {
            dir.insert(user)?;
        }
        Ok(dir)
    }

    /// A directory from a JSON array of [`MemoryUser`]s.
    ///
    /// ```
    /// let dir = sspr_core::memory::MemoryDirectory::from_json(r#"[
    ///   {"login": "jdoe@example.org", "display_name": "Jane Doe", "dn": "uid=jdoe,ou=staff,dc=example,dc=org"}
    /// ]"#).unwrap();
    /// assert_eq!(dir.len(), 1);
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let users: Vec<MemoryUser> =
            serde_json::from_str(json).map_err(|e| Error::Config(format!("directory seed: {e}")))?;
        Self::with_users(users)
    }

    /// Add a user, or replace the one with the same login or the same DN (its password
    /// state is reset).
    pub fn insert(&self, user: MemoryUser) -> Result<()> {
        let login = NormalizedLogin::parse(&user.login)?;
        let entry = Entry {
            user: DirectoryUser {
                id: UserId::new(user.dn.clone()),
                login: user.login,
                display_name: user.display_name,
                dn: user.dn,
                groups: user.groups,
                state: user.state,
                mail: user.mail,
            },
            password: user.password,
            must_change: false,
            previous: Vec::new(),
        };
        let mut users = lock(&self.users);
        let id = entry.user.id.clone();
        // The same id under another login: forget the old login.
        if let Some(previous) = users.by_id.get(&id)
            && let Ok(old_login) = NormalizedLogin::parse(&previous.user.login)
            && old_login != login
        {
            users.by_login.remove(&old_login);
        }
        // The same login under another id: that other user is replaced.
        if let Some(old_id) = users.by_login.insert(login, id.clone())
            && old_id != id
        {
            users.by_id.remove(&old_id);
        }
        users.by_id.insert(id, entry);
        Ok(())
    }

    /// Change a user's account state (disable, lock...). Returns false for an unknown login.
    pub fn set_state(&self, login: &str, state: AccountState) -> bool {
        let Ok(login) = NormalizedLogin::parse(login) else { return false };
        let mut users = lock(&self.users);
        let Some(id) = users.by_login.get(&login).cloned() else { return false };
        users.by_id.get_mut(&id).map(|e| e.user.state = state).is_some()
    }

    /// How many passwords (the current one included) a user's own change may not reuse;
    /// 0 keeps no history.
    pub fn set_history_length(&self, length: u32) {
        lock(&self.users).history_length = length;
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        lock(&self.users).by_id.len()
    }

    /// Whether there are no users.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every user, sorted by login.
    pub fn users(&self) -> Vec<DirectoryUser> {
        let mut users: Vec<_> = lock(&self.users).by_id.values().map(|e| e.user.clone()).collect();
        users.sort_by(|a, b| a.login.cmp(&b.login));
        users
    }

    /// Whether `password` is the user's current password, and the must-change flag:
    /// what a sign-in would check.
    pub fn check_password(&self, user: &UserId, password: &str) -> Option<bool> {
        let users = lock(&self.users);
        let entry = users.by_id.get(user)?;
        let current = entry.password.as_ref()?;
        (current.expose_secret() == password).then_some(entry.must_change)
    }

    /// Whether the user has had a password set through sspr, and with must-change.
    pub fn password_state(&self, user: &UserId) -> Option<bool> {
        let users = lock(&self.users);
        let entry = users.by_id.get(user)?;
        entry.password.as_ref().map(|_| entry.must_change)
    }

    fn complexity(user: &DirectoryUser, password: &str) -> std::result::Result<(), (PasswordRefusal, &'static str)> {
        if password.chars().count() < MIN_LENGTH {
            return Err((PasswordRefusal::TooShort, "the password does not meet the length requirement"));
        }
        let classes = [
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|c| **c).count() < 3 {
            return Err((PasswordRefusal::TooSimple, "the password does not meet the complexity requirements"));
        }
        let account = user.login.split('@').next().unwrap_or("").to_lowercase();
        if account.chars().count() >= 3 && zeroize::Zeroizing::new(password.to_lowercase()).contains(&account) {
            return Err((PasswordRefusal::TooSimple, "the password contains the account name"));
        }
        Ok(())
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        Ok(lock(&self.users).by_login(login).map(|e| e.user.clone()))
    }

    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        let mut users = lock(&self.users);
        let history_length = users.history_length as usize;
        let entry = users.by_id_mut(user)?;
        Self::complexity(&entry.user, password.expose_secret())
            .map_err(|(refusal, why)| BackendError::password_refused(refusal, why))?;
        entry.replace_password(password, must_change, history_length);
        Ok(())
    }

    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        let mut users = lock(&self.users);
        users.by_id_mut(user)?.user.state.locked = false;
        Ok(())
    }

    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        let users = lock(&self.users);
        let Some(entry) = users.by_id.get(user) else { return Ok(Authentication::Rejected) };
        let state = entry.user.state;
        let right = entry.password.as_ref().is_some_and(|current| same(current, password));
        Ok(match (right, entry.must_change) {
            _ if state.disabled || state.expired || state.locked => Authentication::Rejected,
            (true, true) => Authentication::MustChange,
            (true, false) => Authentication::Accepted,
            (false, _) => Authentication::Rejected,
        })
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        let query = query.to_lowercase();
        let users = lock(&self.users);
        let mut found: Vec<DirectoryUser> = users
            .by_id
            .values()
            .filter(|e| {
                e.user.login.to_lowercase().contains(&query) || e.user.display_name.to_lowercase().contains(&query)
            })
            .map(|e| e.user.clone())
            .collect();
        found.sort_by(|a, b| a.login.cmp(&b.login));
        found.truncate(limit);
        Ok(found)
    }

    /// The user's own change: the current password must be right and the account able to
    /// sign in (a must-change one may), then the complexity rule and the history apply.
    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        let mut users = lock(&self.users);
        let history_length = users.history_length as usize;
        let entry = users.by_id_mut(user)?;
        let state = entry.user.state;
        let right = entry.password.as_ref().is_some_and(|current| same(current, old));
        if !right || state.disabled || state.expired || state.locked {
            return Err(BackendError::password_refused(
                PasswordRefusal::WrongCurrentPassword,
                "the current password is not right",
            ));
        }
        Self::complexity(&entry.user, new.expose_secret())
            .map_err(|(refusal, why)| BackendError::password_refused(refusal, why))?;
        if entry.used_before(new, history_length) {
            return Err(BackendError::password_refused(PasswordRefusal::InHistory, "the password was used before"));
        }
        entry.replace_password(new, false, history_length);
        Ok(())
    }

    async fn password_rules(&self) -> Result<PasswordRules, BackendError> {
        Ok(PasswordRules {
            min_length: u32::try_from(MIN_LENGTH).ok(),
            history_length: Some(lock(&self.users).history_length),
            complexity: Some(true),
            min_age_secs: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(login: &str, dn: &str) -> MemoryUser {
        MemoryUser {
            mail: None,
            login: login.into(),
            display_name: "X".into(),
            dn: dn.into(),
            groups: vec![],
            state: Default::default(),
            password: None,
        }
    }

    #[tokio::test]
    async fn replacing_a_user_by_login_or_by_dn_keeps_one_entry() {
        let dir = MemoryDirectory::with_users([user("a@x.org", "uid=a"), user("b@x.org", "uid=b")]).unwrap();
        // Same DN, new login: the old login no longer finds it.
        dir.insert(user("a2@x.org", "uid=a")).unwrap();
        let find = |l: &str| {
            let dir = dir.clone();
            let l = NormalizedLogin::parse(l).unwrap();
            async move { dir.find_user(&l).await.unwrap().map(|u| u.id.as_str().to_owned()) }
        };
        assert_eq!(find("a@x.org").await, None);
        assert_eq!(find("A2@x.org").await.as_deref(), Some("uid=a"));
        // Same login, new DN: the old DN is gone.
        dir.insert(user("b@x.org", "uid=b2")).unwrap();
        assert_eq!(find("b@x.org").await.as_deref(), Some("uid=b2"));
        assert_eq!(dir.len(), 2);
        assert!(dir.set_password(&UserId::new("uid=b"), &Password::new("Abcdef-123"), true).await.is_err());
        dir.set_password(&UserId::new("uid=b2"), &Password::new("Abcdef-123"), true).await.unwrap();
        assert_eq!(dir.check_password(&UserId::new("uid=b2"), "Abcdef-123"), Some(true));
    }

    fn refusal(result: Result<(), BackendError>) -> Option<PasswordRefusal> {
        result.err().and_then(|e| e.refusal())
    }

    #[tokio::test]
    async fn a_users_own_change_checks_the_current_password_the_rules_and_the_history() {
        let dir = MemoryDirectory::with_users([MemoryUser {
            mail: None,
            password: Some(Password::new("Old-pass-1")),
            ..user("jdoe@x.org", "uid=jdoe")
        }])
        .unwrap();
        dir.set_history_length(3);
        let id = UserId::new("uid=jdoe");
        let change = |old: &str, new: &str| {
            let (dir, id) = (dir.clone(), id.clone());
            let (old, new) = (Password::new(old), Password::new(new));
            async move { dir.change_password(&id, &old, &new).await }
        };
        assert_eq!(refusal(change("wrong", "New-pass-2").await), Some(PasswordRefusal::WrongCurrentPassword));
        assert_eq!(refusal(change("Old-pass-1", "Sh-1").await), Some(PasswordRefusal::TooShort));
        assert_eq!(refusal(change("Old-pass-1", "alllowercase").await), Some(PasswordRefusal::TooSimple));
        assert_eq!(refusal(change("Old-pass-1", "Jdoe-rides-7").await), Some(PasswordRefusal::TooSimple));
        assert_eq!(refusal(change("Old-pass-1", "Old-pass-1").await), Some(PasswordRefusal::InHistory));
        assert_eq!(dir.check_password(&id, "Old-pass-1"), Some(false), "nothing changed on a refusal");
        change("Old-pass-1", "New-pass-2").await.unwrap();
        change("New-pass-2", "New-pass-3").await.unwrap();
        assert_eq!(refusal(change("New-pass-3", "Old-pass-1").await), Some(PasswordRefusal::InHistory));
        change("New-pass-3", "New-pass-4").await.unwrap();
        // Three remembered (the current one included): the first has dropped out.
        change("New-pass-4", "Old-pass-1").await.unwrap();
        assert_eq!(dir.check_password(&id, "Old-pass-1"), Some(false));
        assert_eq!(
            dir.password_rules().await.unwrap(),
            PasswordRules { min_length: Some(8), history_length: Some(3), complexity: Some(true), min_age_secs: None }
        );
    }

    #[tokio::test]
    async fn a_must_change_user_may_change_and_the_flag_is_cleared_but_a_disabled_one_may_not() {
        let dir = MemoryDirectory::with_users([user("jdoe@x.org", "uid=jdoe")]).unwrap();
        let id = UserId::new("uid=jdoe");
        dir.set_password(&id, &Password::new("Temp-pass-1"), true).await.unwrap();
        dir.change_password(&id, &Password::new("Temp-pass-1"), &Password::new("Mine-pass-2")).await.unwrap();
        assert_eq!(dir.check_password(&id, "Mine-pass-2"), Some(false));
        dir.set_state("jdoe@x.org", AccountState { disabled: true, ..Default::default() });
        let refused = dir.change_password(&id, &Password::new("Mine-pass-2"), &Password::new("Mine-pass-3")).await;
        assert_eq!(refusal(refused), Some(PasswordRefusal::WrongCurrentPassword));
    }

    /// A directory that implements only the required methods.
    #[derive(Debug)]
    struct Minimal;

    #[async_trait]
    impl Directory for Minimal {
        async fn find_user(&self, _: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
            Ok(None)
        }
        async fn set_password(&self, _: &UserId, _: &Password, _: bool) -> Result<(), BackendError> {
            Ok(())
        }
        async fn unlock(&self, _: &UserId) -> Result<(), BackendError> {
            Ok(())
        }
        async fn authenticate(&self, _: &UserId, _: &Password) -> Result<Authentication, BackendError> {
            Ok(Authentication::Rejected)
        }
        async fn search(&self, _: &str, _: usize) -> Result<Vec<DirectoryUser>, BackendError> {
            Ok(vec![])
        }
    }

    #[tokio::test]
    async fn a_directory_without_a_change_or_rules_answers_not_supported() {
        let (id, pw) = (UserId::new("uid=a"), Password::new("x"));
        let change = Minimal.change_password(&id, &pw, &pw).await.unwrap_err();
        assert_eq!(change.kind(), BackendErrorKind::NotSupported);
        assert_eq!(change.refusal(), None);
        assert_eq!(Minimal.password_rules().await.unwrap_err().kind(), BackendErrorKind::NotSupported);
    }
}
