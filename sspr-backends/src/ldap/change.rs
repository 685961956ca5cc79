//! A user's own password change on OpenLDAP and Active Directory, the refusals read back as
//! typed reasons, and the password rules read to show before the user types.
//!
//! Both directories apply history and minimum age only to a *change* (authorised by the old
//! password), never to an administrator's reset, so the change is made the way the user's
//! own client would:
//! - OpenLDAP: bound as the user (with the ppolicy request control), the Password Modify
//!   extended operation (RFC 3062) with `oldPasswd`. ppolicy lets a user whose password was
//!   reset (`pwdReset`) bind and do exactly this. A refusal carries the ppolicy response
//!   control's error (5 quality, 6 too short, 7 too young, 8 in history).
//! - Active Directory: one modify deleting the old `unicodePwd` value and adding the new one,
//!   bound as the user. A user who must change their password (`pwdLastSet = 0`) or whose
//!   password expired cannot bind at all (rc 49, `data 773` / `532`): that answer proves the
//!   old password, and the same delete/add modify (still a change: the directory checks the
//!   old value, history and minimum age) goes through the service account's connection.
//!   A refusal is rc 19 with `0000052D` (Samba then names the rule in words; Windows does
//!   not) or `00000056` (the old password is wrong).

use ldap3::Mod;
use ldap3::controls::RawControl;
use sspr_core::backend::{Authentication, PasswordRefusal, PasswordRules};
use sspr_core::{BackendError, BackendErrorKind, Password};

use super::config::Flavor;
use super::directory::{LdapDirectory, ad_password, classify_bind, first, result_error, values};
use super::pool::{OpError, OpFailure, one, result_text};
use super::ppolicy::{PPOLICY_OID, PpolicyError, parse_response};

/// AD `pwdProperties` bit: passwords must be complex.
const DOMAIN_PASSWORD_COMPLEX: u64 = 0x1;

/// What the user's bind allowed.
enum Bound {
    /// The change was tried on the user's own connection: its result.
    Changed(ldap3::LdapResult),
    /// AD: the password is right but must be changed first, so the user cannot bind.
    MustChangeFirst,
}

impl LdapDirectory {
    /// [`sspr_core::Directory::change_password`] (see the module's documentation).
    pub(super) async fn change_own_password(
        &self,
        dn: &str,
        old: &Password,
        new: &Password,
    ) -> Result<(), BackendError> {
        // An empty password is an unauthenticated bind, which *succeeds*: never send one.
        if old.expose_secret().is_empty() || dn.trim().is_empty() {
            return Err(wrong_current_password());
        }
        let flavor = self.config().flavor;
        let bound = self
            .as_user(dn, old, |mut ldap, bind| async move {
                match (classify_bind(flavor, &bind)?, bind.rc) {
                    (Authentication::Rejected, _) => Err(wrong_current_password()),
                    (Authentication::MustChange, rc) if rc != 0 => match flavor {
                        Flavor::ActiveDirectory => Ok(Bound::MustChangeFirst),
                        // ppolicy's expired password without grace binds: nothing to change on.
                        Flavor::OpenLdap => Err(BackendError::new(
                            BackendErrorKind::Rejected,
                            "the password has expired and the directory allows no grace bind: reset it",
                        )),
                    },
                    _ => {
                        let result = match flavor {
                            Flavor::OpenLdap => {
                                ldap.with_controls(RawControl {
                                    ctype: PPOLICY_OID.to_owned(),
                                    crit: false,
                                    val: None,
                                });
                                let exop = ldap3::exop::PasswordModify {
                                    user_id: None,
                                    old_pass: Some(old.expose_secret()),
                                    new_pass: Some(new.expose_secret()),
                                };
                                ldap.extended(exop).await.map(|r| r.1)
                            }
                            Flavor::ActiveDirectory => ldap.modify(dn, delete_old_add_new(old, new)).await,
                        };
                        result.map(Bound::Changed).map_err(|e| OpError::from(e).into_backend_error())
                    }
                }
            })
            .await?;
        let result = match bound {
            Bound::Changed(result) => result,
            Bound::MustChangeFirst => {
                // Not retried once sent: a repeated change would meet its own history.
                let run = self
                    .pool()
                    .run(false, |mut conn| {
                        let mods = delete_old_add_new(old, new);
                        async move { conn.modify(dn, mods).await }
                    })
                    .await;
                match run {
                    Ok(()) => return Ok(()),
                    Err(OpFailure::Result(result)) => result,
                    Err(OpFailure::Backend(e)) => return Err(e),
                }
            }
        };
        match result.rc {
            0 => Ok(()),
            _ => Err(refusal_error(flavor, &result)),
        }
    }

    /// [`sspr_core::Directory::password_rules`].
    pub(super) async fn read_password_rules(&self) -> Result<PasswordRules, BackendError> {
        let flavor = self.config().flavor;
        let policy_dn = self.config().password_policy_dn.clone();
        let base = self.config().base_dn.clone();
        self.read_op(|mut conn| {
            let (policy_dn, base) = (policy_dn.clone(), base.clone());
            async move {
                match flavor {
                    Flavor::ActiveDirectory => {
                        let root = conn.read("", &["defaultNamingContext"]).await?;
                        let domain = root
                            .as_ref()
                            .and_then(|r| first(&r.attrs, "defaultNamingContext"))
                            .unwrap_or(&base)
                            .to_owned();
                        let attrs = ["minPwdLength", "pwdProperties", "pwdHistoryLength", "minPwdAge"];
                        Ok(conn.read(&domain, &attrs).await?.map(|e| ad_rules(&e.attrs)).unwrap_or_default())
                    }
                    Flavor::OpenLdap => {
                        let attrs = ["pwdMinLength", "pwdInHistory", "pwdMinAge", "pwdCheckQuality"];
                        let entry = match policy_dn {
                            Some(dn) => conn.read(&dn, &attrs).await?,
                            None => {
                                let (mut found, _) = conn
                                    .search(&base, ldap3::Scope::Subtree, "(objectClass=pwdPolicy)", &attrs, 2)
                                    .await?;
                                if found.len() == 1 { found.pop() } else { None }
                            }
                        };
                        Ok(entry.map(|e| ppolicy_rules(&e.attrs)).unwrap_or_default())
                    }
                }
            }
        })
        .await
    }
}

/// The AD change: delete exactly the old value, add the new one, in one modify.
fn delete_old_add_new(old: &Password, new: &Password) -> Vec<Mod<Vec<u8>>> {
    vec![
        Mod::Delete(b"unicodePwd".to_vec(), one(ad_password(old.expose_secret()))),
        Mod::Add(b"unicodePwd".to_vec(), one(ad_password(new.expose_secret()))),
    ]
}

fn wrong_current_password() -> BackendError {
    BackendError::password_refused(PasswordRefusal::WrongCurrentPassword, "the current password is not right")
}

/// A refused change as a typed refusal (or, for anything else, the usual backend error).
pub(super) fn refusal_error(flavor: Flavor, result: &ldap3::LdapResult) -> BackendError {
    match refusal_of(flavor, result) {
        Some(refusal) => BackendError::password_refused(refusal, format!("{refusal}: {}", result_text(result))),
        None => result_error(result),
    }
}

/// Which rule a refused change broke, from the ppolicy response control, AD's extended error
/// code and (Samba, slapd) the text; `None` when the result is no password refusal.
pub(super) fn refusal_of(flavor: Flavor, result: &ldap3::LdapResult) -> Option<PasswordRefusal> {
    let text = result.text.to_ascii_lowercase();
    match flavor {
        Flavor::OpenLdap => {
            let control = result
                .ctrls
                .iter()
                .find(|c| c.1.ctype == PPOLICY_OID)
                .and_then(|c| c.1.val.as_deref())
                .and_then(parse_response);
            match control {
                Some(PpolicyError::Other(5)) => return Some(PasswordRefusal::TooSimple),
                Some(PpolicyError::Other(6)) => return Some(PasswordRefusal::TooShort),
                Some(PpolicyError::Other(7)) => return Some(PasswordRefusal::TooRecent),
                Some(PpolicyError::Other(8)) => return Some(PasswordRefusal::InHistory),
                _ => {}
            }
            match result.rc {
                49 => Some(PasswordRefusal::WrongCurrentPassword),
                19 => Some(from_words(&text).unwrap_or(PasswordRefusal::Unspecified)),
                _ => None,
            }
        }
        Flavor::ActiveDirectory => {
            if text.contains("00000056") || result.rc == 49 {
                Some(PasswordRefusal::WrongCurrentPassword)
            } else if text.contains("0000052d") || result.rc == 19 {
                Some(from_words(&text).unwrap_or(PasswordRefusal::Unspecified))
            } else {
                None
            }
        }
    }
}

/// The rule a directory's words name (Samba's `check_password_restrictions`, slapd's texts).
fn from_words(text: &str) -> Option<PasswordRefusal> {
    if text.contains("history") || text.contains("already used") {
        Some(PasswordRefusal::InHistory)
    } else if text.contains("too young") {
        Some(PasswordRefusal::TooRecent)
    } else if text.contains("too short") || text.contains("not long enough") {
        Some(PasswordRefusal::TooShort)
    } else if text.contains("complex") || text.contains("quality") {
        Some(PasswordRefusal::TooSimple)
    } else if text.contains("old password") || text.contains("doesn't match") {
        Some(PasswordRefusal::WrongCurrentPassword)
    } else {
        None
    }
}

fn number(attrs: &std::collections::HashMap<String, Vec<String>>, name: &str) -> Option<i64> {
    values(attrs, name).next().and_then(|v| v.trim().parse().ok())
}

/// AD's domain policy: `minPwdAge` is a negative count of 100 ns intervals.
fn ad_rules(attrs: &std::collections::HashMap<String, Vec<String>>) -> PasswordRules {
    PasswordRules {
        min_length: number(attrs, "minPwdLength").and_then(|n| u32::try_from(n).ok()),
        history_length: number(attrs, "pwdHistoryLength").and_then(|n| u32::try_from(n).ok()),
        complexity: number(attrs, "pwdProperties")
            .and_then(|n| u64::try_from(n).ok())
            .map(|p| p & DOMAIN_PASSWORD_COMPLEX != 0),
        min_age_secs: number(attrs, "minPwdAge").map(|n| n.unsigned_abs() / 10_000_000),
    }
}

/// A ppolicy entry. Without a quality module ppolicy checks only the length, so complexity is
/// not known (`None`).
fn ppolicy_rules(attrs: &std::collections::HashMap<String, Vec<String>>) -> PasswordRules {
    PasswordRules {
        min_length: Some(number(attrs, "pwdMinLength").and_then(|n| u32::try_from(n).ok()).unwrap_or(0)),
        history_length: Some(number(attrs, "pwdInHistory").and_then(|n| u32::try_from(n).ok()).unwrap_or(0)),
        complexity: None,
        min_age_secs: Some(number(attrs, "pwdMinAge").and_then(|n| u64::try_from(n).ok()).unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rc: u32, text: &str, ppolicy: Option<&[u8]>) -> ldap3::LdapResult {
        let ctrls = ppolicy
            .map(|v| {
                ldap3::controls::Control(
                    None,
                    RawControl { ctype: PPOLICY_OID.to_owned(), crit: false, val: Some(v.to_vec()) },
                )
            })
            .into_iter()
            .collect();
        ldap3::LdapResult { rc, matched: String::new(), text: text.to_owned(), refs: vec![], ctrls }
    }

    #[test]
    fn ppolicy_errors_map_to_refusals() {
        let of = |code: u8| refusal_of(Flavor::OpenLdap, &result(19, "", Some(&[0x30, 0x03, 0x81, 0x01, code])));
        assert_eq!(of(5), Some(PasswordRefusal::TooSimple));
        assert_eq!(of(6), Some(PasswordRefusal::TooShort));
        assert_eq!(of(7), Some(PasswordRefusal::TooRecent));
        assert_eq!(of(8), Some(PasswordRefusal::InHistory));
        // Without the control, slapd's words.
        let words = |text: &str| refusal_of(Flavor::OpenLdap, &result(19, text, None));
        assert_eq!(words("Password is in history of old passwords"), Some(PasswordRefusal::InHistory));
        assert_eq!(words("Password is too young to change"), Some(PasswordRefusal::TooRecent));
        assert_eq!(words("Password fails quality checking policy"), Some(PasswordRefusal::TooSimple));
        assert_eq!(words("something else"), Some(PasswordRefusal::Unspecified));
        assert_eq!(refusal_of(Flavor::OpenLdap, &result(50, "no", None)), None);
    }

    #[test]
    fn ad_extended_errors_map_to_refusals() {
        let ad = |rc: u32, text: &str| refusal_of(Flavor::ActiveDirectory, &result(rc, text, None));
        let samba = "0000052D: Constraint violation - check_password_restrictions: ";
        assert_eq!(
            ad(19, &format!("{samba}the password is too short. It should be equal or longer than 7 characters!")),
            Some(PasswordRefusal::TooShort)
        );
        assert_eq!(
            ad(19, &format!("{samba}the password does not meet the complexity criteria!")),
            Some(PasswordRefusal::TooSimple)
        );
        assert_eq!(
            ad(19, &format!("{samba}the password was already used (in history)!")),
            Some(PasswordRefusal::InHistory)
        );
        assert_eq!(ad(19, &format!("{samba}password is too young to change!")), Some(PasswordRefusal::TooRecent));
        // Windows says no more than the code.
        assert_eq!(
            ad(19, "0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0"),
            Some(PasswordRefusal::Unspecified)
        );
        assert_eq!(
            ad(
                19,
                "00000056: AtrErr: DSID-03190F80, #1: 0: 00000056: DSID-03190F80, problem 1005 (CONSTRAINT_ATT_TYPE), data 0, Att 9005a (unicodePwd)"
            ),
            Some(PasswordRefusal::WrongCurrentPassword)
        );
        assert_eq!(ad(50, "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0"), None);
    }

    #[test]
    fn domain_and_ppolicy_rules_are_read() {
        let attrs =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()])).collect();
        let ad = ad_rules(&attrs(&[
            ("minPwdLength", "7"),
            ("pwdProperties", "1"),
            ("pwdHistoryLength", "24"),
            ("minPwdAge", "-864000000000"),
        ]));
        assert_eq!(
            ad,
            PasswordRules {
                min_length: Some(7),
                history_length: Some(24),
                complexity: Some(true),
                min_age_secs: Some(86_400)
            }
        );
        assert_eq!(ad_rules(&attrs(&[("pwdProperties", "0")])).complexity, Some(false));
        let pp = ppolicy_rules(&attrs(&[("pwdMinLength", "8"), ("pwdInHistory", "3")]));
        assert_eq!(
            pp,
            PasswordRules { min_length: Some(8), history_length: Some(3), complexity: None, min_age_secs: Some(0) }
        );
    }
}
