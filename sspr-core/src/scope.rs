//! Who may use self-service reset: the policy's eligible OUs and groups and its privileged
//! groups, prepared once and matched against each directory user.
//!
//! DNs are parsed as RFC 4514 says: RDNs split at unescaped commas, values unescaped (`\,`
//! and `\2C` are the same comma), then compared RDN by RDN, case-insensitively, ignoring
//! spaces around separators. Active Directory names people and groups `CN=Doe\, Jane`, so a
//! naive split at every comma would misread them (and could miss a privileged group).

use crate::backend::DirectoryUser;
use crate::policy::Policy;

/// One RDN, normalised: attribute type and value lower-cased, the value unescaped, spaces
/// around both trimmed. A bare name (`Domain Admins`) is an RDN with an empty type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rdn {
    attr: String,
    value: String,
}

/// The byte a hex digit stands for.
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Split a DN into normalised RDNs, honouring `\` escapes (a character, or two hex digits
/// standing for one byte of UTF-8).
fn parse_dn(dn: &str) -> Vec<Rdn> {
    let mut rdns = Vec::new();
    let mut attr: Option<String> = None;
    let mut value: Vec<u8> = Vec::new();
    let finish = |attr: &mut Option<String>, value: &mut Vec<u8>, rdns: &mut Vec<Rdn>| {
        let text = String::from_utf8_lossy(value).trim().to_lowercase();
        let attr = attr.take().unwrap_or_default();
        if !(attr.is_empty() && text.is_empty()) {
            rdns.push(Rdn { attr, value: text });
        }
        value.clear();
    };
    let mut bytes = dn.bytes().peekable();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => {
                let Some(next) = bytes.next() else { break };
                match (hex_digit(next), bytes.peek().copied().and_then(hex_digit)) {
                    (Some(high), Some(low)) => {
                        bytes.next();
                        value.push((high << 4) | low);
                    }
                    _ => value.push(next),
                }
            }
            b'=' if attr.is_none() => {
                attr = Some(String::from_utf8_lossy(&value).trim().to_lowercase());
                value.clear();
            }
            b',' | b';' => finish(&mut attr, &mut value, &mut rdns),
            _ => value.push(b),
        }
    }
    finish(&mut attr, &mut value, &mut rdns);
    rdns
}

/// A group as the policy names it.
#[derive(Debug, Clone)]
enum GroupName {
    /// A full DN.
    Dn(Vec<Rdn>),
    /// A common name (matched against the first RDN's value, or a bare group name).
    Name(String),
}

/// A list of groups, each named by DN or by common name, to test memberships against with
/// the rules the policy's eligible and privileged groups use (for example a portal's admin
/// groups).
///
/// ```
/// let admins = sspr_core::GroupList::new(["SSPR Admins, Tier 0"]);
/// assert!(admins.matches_any(&["CN=SSPR Admins\\, Tier 0,OU=Groups,DC=corp".to_owned()]));
/// assert!(!admins.matches_any(&["CN=SSPR Admins,OU=Tier 0,DC=corp".to_owned()]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct GroupList(Vec<GroupName>);

impl GroupList {
    /// The groups named in `names` (a DN when the name holds `=`, else a common name).
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        Self(names.into_iter().map(|n| group_name(n.as_ref())).collect())
    }

    /// Whether any of `groups` (a user's memberships, as DNs or names) is in the list. A
    /// directory's administrative-unit entries are not groups and never match.
    pub fn matches_any(&self, groups: &[String]) -> bool {
        groups
            .iter()
            .filter(|g| !g.starts_with(crate::backend::ADMINISTRATIVE_UNIT_PREFIX))
            .any(|g| self.0.iter().any(|want| want.matches(g)))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A list of OUs (DN suffixes), matched against a user's DN with the rules of the policy's
/// eligible OUs (RFC 4514, RDN by RDN).
#[derive(Debug, Clone, Default)]
pub(crate) struct OuList(Vec<Vec<Rdn>>);

impl OuList {
    /// The OUs named in `ous`; `None` when one is not a DN (no `attribute=value`).
    pub(crate) fn parse<S: AsRef<str>>(ous: impl IntoIterator<Item = S>) -> Option<Self> {
        let mut list = Vec::new();
        for ou in ous {
            let rdns = parse_dn(ou.as_ref());
            if rdns.is_empty() || rdns.iter().any(|r| r.attr.is_empty() || r.value.is_empty()) {
                return None;
            }
            list.push(rdns);
        }
        Some(Self(list))
    }

    /// Whether the list is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `dn` is one of the OUs or below one.
    pub(crate) fn contains(&self, dn: &str) -> bool {
        let dn = parse_dn(dn);
        self.0.iter().any(|ou| Scope::is_under(&dn, ou))
    }
}

/// The policy's scope rules, ready to match directory users.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    eligible_ous: Vec<Vec<Rdn>>,
    eligible_groups: GroupList,
    /// The eligible administrative units, trimmed and lower-cased.
    eligible_units: Vec<String>,
    privileged_groups: GroupList,
}

fn group_name(text: &str) -> GroupName {
    let text = text.trim();
    if text.contains('=') { GroupName::Dn(parse_dn(text)) } else { GroupName::Name(text.to_lowercase()) }
}

impl GroupName {
    fn matches(&self, group: &str) -> bool {
        let have = parse_dn(group);
        match self {
            Self::Dn(want) => *want == have,
            Self::Name(want) => have.first().is_some_and(|first| first.value == *want),
        }
    }
}

impl Scope {
    pub(crate) fn new(policy: &Policy) -> Self {
        Self {
            eligible_ous: policy.eligible_ous.iter().map(|ou| parse_dn(ou)).filter(|r| !r.is_empty()).collect(),
            eligible_groups: GroupList::new(&policy.eligible_groups),
            eligible_units: policy
                .eligible_administrative_units
                .iter()
                .map(|unit| unit.trim().to_lowercase())
                .filter(|unit| !unit.is_empty())
                .collect(),
            privileged_groups: GroupList::new(&policy.privileged_groups),
        }
    }

    /// Whether `dn` is the OU `ou` or below it.
    fn is_under(dn: &[Rdn], ou: &[Rdn]) -> bool {
        dn.len() >= ou.len() && dn.iter().rev().zip(ou.iter().rev()).all(|(have, want)| have == want)
    }

    /// Inside an eligible OU, group or administrative unit; every user when the policy lists
    /// none.
    pub(crate) fn is_eligible(&self, user: &DirectoryUser) -> bool {
        if self.eligible_ous.is_empty() && self.eligible_groups.is_empty() && self.eligible_units.is_empty() {
            return true;
        }
        let dn = parse_dn(&user.dn);
        self.eligible_ous.iter().any(|ou| Self::is_under(&dn, ou))
            || self.eligible_groups.matches_any(&user.groups)
            || user.groups.iter().any(|g| self.in_eligible_unit(g))
    }

    /// Whether `group` is a directory's entry for an eligible administrative unit. Compared
    /// whole (not as a DN: a unit's name may hold commas).
    fn in_eligible_unit(&self, group: &str) -> bool {
        let Some(unit) = group.strip_prefix(crate::backend::ADMINISTRATIVE_UNIT_PREFIX) else { return false };
        let unit = unit.trim().to_lowercase();
        self.eligible_units.contains(&unit)
    }

    /// A member of a privileged group.
    /// Whether `user` is privileged: in a privileged group, or with groups the directory
    /// could not all resolve (fail closed).
    pub(crate) fn is_privileged(&self, user: &DirectoryUser) -> bool {
        user.groups.iter().any(|g| g == crate::backend::GROUPS_UNRESOLVED || g == crate::backend::PRIVILEGED_ROLE)
            || self.privileged_groups.matches_any(&user.groups)
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
            mail: None,
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
    fn a_directory_role_is_privileged_whatever_the_policy_names() {
        let admin = user("", &["CN=Global Administrator", crate::backend::PRIVILEGED_ROLE]);
        assert!(scope(&[], &[], &[]).is_privileged(&admin));
        assert!(scope(&[], &[], &["domain admins"]).is_privileged(&admin));
        assert!(!scope(&[], &[], &[]).is_privileged(&user("", &["CN=Global Administrator"])));
    }

    #[test]
    fn administrative_units_make_eligible_like_ous_and_only_as_units() {
        let au = |name: &str| format!("{}{name}", crate::backend::ADMINISTRATIVE_UNIT_PREFIX);
        let by_unit = Scope::new(&Policy {
            eligible_administrative_units: vec![" Staff, EMEA ".into(), "0f5e-AU-ID".into()],
            ..Policy::default()
        });
        let member = |groups: &[String]| DirectoryUser { groups: groups.to_vec(), ..user("", &[]) };
        assert!(by_unit.is_eligible(&member(&[au("staff, emea")])), "by display name, any case, with a comma");
        assert!(by_unit.is_eligible(&member(&[au("0f5e-au-id")])), "by id");
        assert!(!by_unit.is_eligible(&member(&[au("Staff")])), "a unit's name is compared whole, not as a DN");
        assert!(
            !by_unit.is_eligible(&member(&["CN=Staff, EMEA".into()])),
            "a group of the unit's name is not the unit"
        );
        assert!(!by_unit.is_eligible(&member(&[])), "no unit, not eligible");
        // A unit is never read as a group, whatever its name looks like.
        let by_group = scope(&[], &["Staff"], &["Staff"]);
        assert!(!by_group.is_eligible(&member(&[au("a=Staff")])));
        assert!(!by_group.is_privileged(&member(&[au("Staff")])));
    }

    #[test]
    fn a_user_with_unresolved_groups_is_privileged_even_with_no_privileged_group_configured() {
        let unresolved = user("uid=j,ou=staff", &[crate::backend::GROUPS_UNRESOLVED]);
        assert!(scope(&[], &[], &[]).is_privileged(&unresolved));
        assert!(scope(&[], &[], &["domain admins"]).is_privileged(&unresolved));
        assert!(!scope(&[], &[], &["domain admins"]).is_privileged(&user("uid=j,ou=staff", &["staff"])));
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
        assert!(by_group.is_eligible(&user("uid=j,ou=x", &["Staff"])));
        assert!(by_group.is_eligible(&user("uid=j,ou=x", &["cn=staff,ou=groups,dc=example,dc=org"])));
        assert!(!by_group.is_eligible(&user("uid=j,ou=x", &[])));
    }

    #[test]
    fn escaped_commas_are_part_of_the_value() {
        // AD: people and groups named "Last, First"; the escape may be `\,` or `\2C`.
        let s = scope(&["OU=Sales\\, EMEA,DC=corp,DC=example"], &[], &["Tier 0, Admins"]);
        assert!(s.is_eligible(&user("CN=Doe\\, Jane,OU=Sales\\2C EMEA,DC=corp,DC=example", &[])));
        assert!(!s.is_eligible(&user("CN=Doe\\, Jane,OU=EMEA,DC=corp,DC=example", &[])));
        assert!(!s.is_eligible(&user("CN=x,OU=Sales,OU= EMEA,DC=corp,DC=example", &[])));
        assert!(s.is_privileged(&user("uid=j", &["CN=Tier 0\\, Admins,OU=Groups,DC=corp,DC=example"])));
        assert!(s.is_privileged(&user("uid=j", &["cn=tier 0\\2c admins,ou=groups,dc=corp,dc=example"])));
        assert!(!s.is_privileged(&user("uid=j", &["CN=Tier 0,OU=Admins,DC=corp,DC=example"])));
        let by_dn = scope(&[], &[], &["CN=Tier 0\\, Admins,OU=Groups,DC=corp,DC=example"]);
        assert!(by_dn.is_privileged(&user("uid=j", &["CN=Tier 0\\2C Admins, OU=Groups, DC=corp, DC=example"])));
        assert!(!by_dn.is_privileged(&user("uid=j", &["CN=Tier 0,CN=Admins,OU=Groups,DC=corp,DC=example"])));
    }

    #[test]
    fn hex_escapes_decode_utf8_and_a_trailing_backslash_is_harmless() {
        assert_eq!(parse_dn("ou=B\\C3\\BCro,dc=x"), parse_dn("OU=Büro, DC=x"));
        assert_eq!(parse_dn("cn=a\\"), vec![Rdn { attr: "cn".into(), value: "a".into() }]);
        assert_eq!(parse_dn("cn=a\\=b"), vec![Rdn { attr: "cn".into(), value: "a=b".into() }]);
        assert!(parse_dn("").is_empty());
    }
}
