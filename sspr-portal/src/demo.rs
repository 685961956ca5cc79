//! The demo directory: a few users in memory, each showing one case of the policy, with
//! demo passwords so the sign-in pages can be tried. Printed at start.

use std::fmt::Write as _;

use serde::Deserialize;
use sspr_core::backend::AccountState;
use sspr_core::memory::{MemoryDirectory, MemoryUser};
use sspr_core::{Actor, ContactChange, ContactUpdate, Error, Password, RequestContext, Result, Sspr};

/// The password every built-in demo user starts with (printed at start; a demo only).
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd!";

/// A user of the demo directory, as written in a seed file (a JSON array of these).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoUser {
    /// Login (UPN).
    pub login: String,
    /// Display name.
    pub display_name: String,
    /// Distinguished name (its OU decides eligibility).
    pub dn: String,
    /// Groups (DN or common name).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Disabled, expired, locked (`{"disabled": true}`: the flags left out are false).
    #[serde(default, deserialize_with = "partial_state")]
    pub state: AccountState,
    /// The directory password (for the sign-in pages); none: the user cannot sign in.
    #[serde(default)]
    pub password: Option<String>,
    /// SSPR enabled at first start.
    #[serde(default)]
    pub enabled: bool,
    /// Alternate e-mail registered at first start.
    #[serde(default)]
    pub email: Option<String>,
    /// Mobile number registered at first start.
    #[serde(default)]
    pub phone: Option<String>,
    /// The user's mailbox in the directory, where registration reminders go (the built-in
    /// users' is their login).
    #[serde(default)]
    pub mail: Option<String>,
}

/// An account state as a seed file writes it: each flag may be left out (false), so that
/// `"state": {"disabled": true}` is enough (the core type demands all three).
fn partial_state<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<AccountState, D::Error> {
    #[derive(Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Partial {
        disabled: bool,
        expired: bool,
        locked: bool,
    }
    let Partial { disabled, expired, locked } = Partial::deserialize(deserializer)?;
    Ok(AccountState { disabled, expired, locked })
}

fn user(login: &str, name: &str, dn: &str, groups: &[&str]) -> DemoUser {
    DemoUser {
        login: login.into(),
        display_name: name.into(),
        dn: dn.into(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        state: AccountState::default(),
        password: Some(DEMO_PASSWORD.into()),
        enabled: false,
        email: None,
        phone: None,
        mail: Some(login.into()),
    }
}

/// The built-in demo users.
pub fn builtin_users() -> Vec<DemoUser> {
    let staff = "cn=staff,ou=groups,dc=example,dc=org";
    vec![
        DemoUser {
            enabled: true,
            email: Some("jane@private.example".into()),
            phone: Some("+44 7400 900123".into()),
            ..user("jane.doe@example.org", "Jane Doe", "uid=jane.doe,ou=staff,dc=example,dc=org", &[staff])
        },
        DemoUser {
            enabled: true,
            ..user(
                "max.mustermann@example.org",
                "Max Mustermann",
                "uid=max.mustermann,ou=staff,dc=example,dc=org",
                &[staff],
            )
        },
        DemoUser {
            email: Some("bob@home.example".into()),
            ..user("bob.builder@example.org", "Bob Builder", "uid=bob.builder,ou=staff,dc=example,dc=org", &[staff])
        },
        user("carol.contractor@example.org", "Carol Contractor", "uid=carol,ou=contractors,dc=example,dc=org", &[]),
        user(
            "root.admin@example.org",
            "Root Admin",
            "uid=root.admin,ou=staff,dc=example,dc=org",
            &["cn=Domain Admins,ou=groups,dc=example,dc=org"],
        ),
        user(
            "helpdesk@example.org",
            "Help Desk",
            "uid=helpdesk,ou=it,dc=example,dc=org",
            &[super::config::DEMO_ADMIN_GROUP],
        ),
    ]
}

/// Parse a seed file's JSON.
pub fn users_from_json(json: &str) -> Result<Vec<DemoUser>> {
    serde_json::from_str(json).map_err(|e| Error::Config(format!("demo seed file: {e}")))
}

/// A seed user's refusal, naming the user: in a file of many users, "invalid phone" alone
/// does not say which line to fix. A backend's failure is its own, not the file's.
fn of_user(login: &str) -> impl FnOnce(Error) -> Error + '_ {
    move |e| match e {
        Error::Backend { .. } => e,
        e => Error::Config(format!("demo seed file, user {login}: {e}")),
    }
}

/// Put the users in the directory (with their passwords).
pub(crate) fn fill_directory(directory: &MemoryDirectory, users: &[DemoUser]) -> Result<()> {
    for u in users {
        let mail = u.mail.as_deref().map(sspr_core::EmailAddress::parse).transpose().map_err(of_user(&u.login))?;
        directory
            .insert(MemoryUser {
                mail,
                login: u.login.clone(),
                display_name: u.display_name.clone(),
                dn: u.dn.clone(),
                groups: u.groups.clone(),
                state: u.state,
                password: u.password.clone().map(Password::new),
            })
            .map_err(of_user(&u.login))?;
    }
    Ok(())
}

/// Enable and register the users' contacts, unless the store already knows them (a
/// persistent store keeps what users and admins changed since).
pub(crate) async fn enroll(sspr: &Sspr, users: &[DemoUser]) -> Result<()> {
    let actor = Actor::Admin("demo-seed".into());
    let ctx = RequestContext::default();
    for u in users {
        let status = sspr.status(&u.login).await?;
        let contacts = sspr.contacts(&u.login).await?;
        if status.enabled || contacts.email.is_some() || contacts.phone.is_some() {
            continue;
        }
        if u.email.is_some() || u.phone.is_some() {
            let update = ContactUpdate {
                email: u.email.clone().map_or(ContactChange::Keep, ContactChange::Set),
                phone: u.phone.clone().map_or(ContactChange::Keep, ContactChange::Set),
            };
            sspr.update_contacts(&actor, &u.login, update, &ctx).await.map_err(of_user(&u.login))?;
        }
        if u.enabled {
            sspr.set_enabled(&actor, &u.login, true, &ctx).await.map_err(of_user(&u.login))?;
        }
    }
    Ok(())
}

/// The OU part of a DN (`ou=staff,dc=example,dc=org` of `uid=x,ou=staff,...`).
fn ou_of(dn: &str) -> &str {
    dn.split_once(',').map_or(dn, |(_, rest)| rest)
}

/// The table printed at start: every demo user with OU, eligibility and state.
pub(crate) async fn report(sspr: &Sspr, users: &[DemoUser], limit: usize) -> Result<String> {
    let mut out = String::new();
    let _ = writeln!(out, "{:<30} {:<34} {:<32} contacts", "login", "OU", "SSPR");
    for u in users.iter().take(limit) {
        let s = sspr.status(&u.login).await?;
        let mut flags = vec![if s.eligible { "eligible" } else { "not eligible" }];
        if s.privileged {
            flags.push("privileged");
        }
        flags.push(if s.enabled { "enabled" } else { "not enabled" });
        // A disabled or expired account gets the decoy answer: say why its reset sends no code
        // (a locked one resets, or unlocks, as usual).
        if s.account_disabled {
            flags.push("account disabled or expired");
        }
        if s.account_locked {
            flags.push("account locked");
        }
        if u.groups.iter().any(|g| g == super::config::DEMO_ADMIN_GROUP) {
            flags.push("ADMIN");
        }
        let contacts = [s.email_masked.clone(), s.phone_masked.clone()].into_iter().flatten().collect::<Vec<_>>();
        let _ = writeln!(
            out,
            "{:<30} {:<34} {:<32} {}",
            u.login,
            ou_of(&u.dn),
            flags.join(", "),
            if contacts.is_empty() { "-".to_owned() } else { contacts.join(", ") }
        );
    }
    if users.len() > limit {
        let _ = writeln!(out, "... and {} more", users.len() - limit);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    /// A seed file names only the flags it sets: `"state": {"disabled": true}` once failed with
    /// "missing field `expired`", for a field the README did not even list.
    #[test]
    fn a_seed_files_state_may_name_only_the_flags_it_sets() {
        let json = r#"[{"login": "dis@example.org", "display_name": "Dis", "dn": "uid=dis,ou=staff,dc=example,dc=org",
                        "state": {"disabled": true}},
                       {"login": "ok@example.org", "display_name": "Ok", "dn": "uid=ok,ou=staff,dc=example,dc=org"}]"#;
        let users = users_from_json(json).unwrap();
        assert_eq!(users[0].state, AccountState { disabled: true, expired: false, locked: false });
        assert_eq!(users[1].state, AccountState::default());
        let typo = r#"[{"login": "x@example.org", "display_name": "X", "dn": "uid=x,dc=example,dc=org", "state": {"disabld": true}}]"#;
        let err = users_from_json(typo).err().unwrap().to_string();
        assert!(err.contains("disabld"), "a misspelt flag is named, not ignored: {err}");
    }
}
