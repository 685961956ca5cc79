//! Who may use self-service reset: the policy's eligible OUs and groups and its privileged
//! groups, prepared once (lower-cased, split into RDNs) and matched without allocating.
//!
//! DNs are compared RDN by RDN, case-insensitively, ignoring spaces around commas. Escaped
//! commas inside an RDN value (`cn=Doe\, Jane`) are not unescaped; directories that use them
//! in OU or group names should list those by DN exactly as the directory returns them.

use crate::backend::DirectoryUser;
use crate::policy::Policy;

/// A group as the policy names it.
#[derive(Debug, Clone)]
enum GroupName {
    /// A full DN, as lower-cased RDNs.
    Dn(Vec<String>),
    /// A common name (matched against the first RDN's value, or a bare group name).
    Name(String),
}

/// The policy's scope rules, ready to match directory users.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    eligible_ous: Vec<Vec<String>>,
    eligible_groups: Vec<GroupName>,
    privileged_groups: Vec<GroupName>,
}

fn rdns(dn: &str) -> impl DoubleEndedIterator<Item = &str> {
    dn.split(',').map(str::trim)
}

fn lower_rdns(dn: &str) -> Vec<String> {
    rdns(dn).map(str::to_lowercase).collect()
}

/// `text` equals `lower` (already lower-cased) ignoring case, without allocating.
fn eq_fold(text: &str, lower: &str) -> bool {
    text.chars().flat_map(char::to_lowercase).eq(lower.chars())
}

fn group_name(text: &str) -> GroupName {
    let text = text.trim();
    if text.contains('=') { GroupName::Dn(lower_rdns(text)) } else { GroupName::Name(text.to_lowercase()) }
}

impl GroupName {
    fn matches(&self, group: &str) -> bool {
        match self {
            Self::Dn(want) => {
                let mut have = rdns(group);
                want.iter().all(|w| have.next().is_some_and(|h| eq_fold(h, w))) && have.next().is_none()
            }
            Self::Name(want) => {
                let first = rdns(group).next().unwrap_or("");
                let value = first.split_once('=').map_or(first, |(_, v)| v.trim());
                eq_fold(value, want)
            }
        }
    }
}

impl Scope {
    pub(crate) fn new(policy: &Policy) -> Self {
        Self {
            eligible_ous: policy.eligible_ous.iter().map(|ou| lower_rdns(ou)).filter(|r| !r.is_empty()).collect(),
            eligible_groups: policy.eligible_groups.iter().map(|g| group_name(g)).collect(),
            privileged_groups: policy.privileged_groups.iter().map(|g| group_name(g)).collect(),
        }
    }

    /// Whether `dn` is the OU `ou` (lower-cased RDNs) or below it.
    fn is_under(dn: &str, ou: &[String]) -> bool {
        let mut have = rdns(dn).rev();
        ou.iter().rev().all(|w| have.next().is_some_and(|h| eq_fold(h, w)))
    }

    /// Inside an eligible OU or group; every user when the policy lists neither.
    pub(crate) fn is_eligible(&self, user: &DirectoryUser) -> bool {
        if self.eligible_ous.is_empty() && self.eligible_groups.is_empty() {
            return true;
        }
        self.eligible_ous.iter().any(|ou| Self::is_under(&user.dn, ou))
            || user.groups.iter().any(|g| self.eligible_groups.iter().any(|want| want.matches(g)))
    }

    /// A member of a privileged group.
    pub(crate) fn is_privileged(&self, user: &DirectoryUser) -> bool {
        user.groups.iter().any(|g| self.privileged_groups.iter().any(|want| want.matches(g)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(dn: &str, groups: &[&str]) -> DirectoryUser {
        DirectoryUser {
            id: crate::UserId::new(dn),
            login: "j".into(),
            display_name: "J".into(),
            dn: dn.into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            state: Default::default(),
        }
    }

    fn scope(ous: &[&str], groups: &[&str], privileged: &[&str]) -> Scope {
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        Scope::new(&Policy {
            eligible_ous: strings(ous),
            eligible_groups: strings(groups),
            privileged_groups: strings(privileged),
            ..Policy::default()
        })
    }

    #[test]
    fn ou_matching_is_per_rdn_and_case_insensitive() {
        let s = scope(&["OU=Staff,DC=example,DC=org"], &[], &[]);
        assert!(s.is_eligible(&user("uid=j,ou=staff,dc=example,dc=org", &[])));
        assert!(s.is_eligible(&user("uid=j,ou=staff, dc=example, dc=org", &[])));
        assert!(s.is_eligible(&user("uid=j,ou=team,ou=staff,dc=example,dc=org", &[])));
        assert!(!s.is_eligible(&user("uid=j,ou=staff2,dc=example,dc=org", &[])));
        assert!(!s.is_eligible(&user("uid=j,ou=xstaff,dc=example,dc=org", &[])));
        assert!(!s.is_eligible(&user("dc=example,dc=org", &[])));
        let umlaut = scope(&["ou=Büro,dc=example,dc=org"], &[], &[]);
        assert!(umlaut.is_eligible(&user("uid=j,OU=BÜRO,dc=example,dc=org", &[])));
    }

    #[test]
    fn everyone_is_eligible_when_the_policy_names_no_scope() {
        assert!(scope(&[], &[], &[]).is_eligible(&user("uid=j,ou=anything", &[])));
    }

    #[test]
    fn groups_match_by_dn_or_name() {
        let s = scope(&[], &[], &["domain admins", "cn=Helpdesk,ou=groups,dc=example,dc=org"]);
        assert!(s.is_privileged(&user("uid=j", &["CN=Domain Admins,CN=Users,DC=samdom"])));
        assert!(s.is_privileged(&user("uid=j", &["Domain Admins"])));
        assert!(!s.is_privileged(&user("uid=j", &["CN=Domain Admins Helpers,CN=Users,DC=samdom"])));
        assert!(s.is_privileged(&user("uid=j", &["cn=helpdesk, ou=groups, dc=example, dc=org"])));
        assert!(!s.is_privileged(&user("uid=j", &["cn=helpdesk,ou=groups,dc=example,dc=org,dc=extra"])));
        assert!(!s.is_privileged(&user("uid=j", &["cn=helpdesk,ou=other,dc=example,dc=org"])));
        let by_group = scope(&[], &["staff"], &[]);
        assert!(by_group.is_eligible(&user("uid=j,ou=x", &["cn=staff,ou=groups,dc=example,dc=org"])));
        assert!(!by_group.is_eligible(&user("uid=j,ou=x", &[])));
    }
}
