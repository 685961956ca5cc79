use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::lock;
use crate::api::UserId;
use crate::backend::{AccountState, Authentication, Directory, DirectoryUser};
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
}

/// A directory held in memory, seeded from data, with Active Directory's complexity rule
/// (8+ characters, 3 of 4 character classes, no login in the password) so a demo behaves
/// like a real domain. Clones share the same directory.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    users: Arc<Mutex<Users>>,
}

/// The users by id, and an index from login to id (lookups come by login, writes by id).
#[derive(Debug, Default)]
struct Users {
    by_id: HashMap<UserId, Entry>,
    by_login: HashMap<NormalizedLogin, UserId>,
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
            },
            password: user.password,
            must_change: false,
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

    fn complexity(user: &DirectoryUser, password: &str) -> std::result::Result<(), String> {
        if password.chars().count() < 8 {
            return Err("the password does not meet the length requirement".into());
        }
        let classes = [
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|c| **c).count() < 3 {
            return Err("the password does not meet the complexity requirements".into());
        }
        let account = user.login.split('@').next().unwrap_or("").to_lowercase();
        if account.chars().count() >= 3 && zeroize::Zeroizing::new(password.to_lowercase()).contains(&account) {
            return Err("the password contains the account name".into());
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
        let entry = users.by_id_mut(user)?;
        Self::complexity(&entry.user, password.expose_secret()).map_err(BackendError::password_rejected)?;
        entry.password = Some(Password::new(password.expose_secret()));
        entry.must_change = must_change;
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
        let right = entry.password.as_ref().is_some_and(|current| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                current.expose_secret().as_bytes(),
                password.expose_secret().as_bytes(),
            ))
        });
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(login: &str, dn: &str) -> MemoryUser {
        MemoryUser {
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
}
