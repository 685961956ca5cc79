//! [`LdapContactStore`]: enrollments (alternate e-mail, mobile) kept in the user's own entry.

use std::sync::Arc;

use async_trait::async_trait;
use ldap3::Mod;
use serde::Deserialize;
use sspr_core::backend::{Enrollment, StoredContact};
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, BackendErrorKind, ContactStore, EmailAddress, PhoneNumber, UserId};

use super::config::is_attribute_name;
use super::directory::{LdapDirectory, result_error};
use super::pool::{OpFailure, one};

/// Which attributes of the user's entry hold the enrollment.
///
/// ```
/// use sspr_backends::ldap::LdapContactConfig;
/// let ad: LdapContactConfig = toml::from_str(r#"record_attribute = "info""#).unwrap();
/// assert_eq!((ad.email_attribute.as_str(), ad.phone_attribute.as_str()), ("otherMailbox", "mobile"));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapContactConfig {
    /// The alternate e-mail address (default `otherMailbox`, as in AD); the first value is used.
    #[serde(default = "default_email")]
    pub email_attribute: String,
    /// The mobile number (default `mobile`); the first value is used.
    #[serde(default = "default_phone")]
    pub phone_attribute: String,
    /// A boolean attribute (`TRUE`/`FALSE`) saying whether SSPR is enabled, if the directory has
    /// one (the test schema's `ssprEnabled`). Without it, the flag lives in the record.
    #[serde(default)]
    pub enabled_attribute: Option<String>,
    /// A **single-valued** string attribute where sspr keeps the rest of the enrollment (when
    /// each contact was added, usable from, last reset, version) as JSON, e.g. `info` in AD.
    /// Without it the store is read-only: `save` fails, and contacts found in the directory are
    /// usable at once (the organisation maintains them).
    #[serde(default)]
    pub record_attribute: Option<String>,
    /// Whether a user is enabled when neither `enabled_attribute` nor a record says (default
    /// false).
    #[serde(default)]
    pub enabled_by_default: bool,
}

fn default_email() -> String {
    "otherMailbox".into()
}

fn default_phone() -> String {
    "mobile".into()
}

impl Default for LdapContactConfig {
    fn default() -> Self {
        Self {
            email_attribute: default_email(),
            phone_attribute: default_phone(),
            enabled_attribute: None,
            record_attribute: None,
            enabled_by_default: false,
        }
    }
}

/// A [`ContactStore`] on the directory itself: alternate e-mail and mobile are read from (and
/// written to) attributes of the user's entry, named by [`LdapContactConfig`]; the user id is
/// the entry's DN, as [`LdapDirectory`] gives it. It shares the directory's connection pool.
///
/// `save` is a compare-and-set in one LDAP modify: it deletes the exact record value it read
/// (or adds the record when there was none, which a single-valued attribute refuses twice)
/// and writes the new one with the contacts. If another writer got there first the modify
/// fails as a whole and `save` returns `false`.
#[derive(Clone, Debug)]
pub struct LdapContactStore {
    directory: LdapDirectory,
    config: Arc<LdapContactConfig>,
}

/// The record kept in `record_attribute`: the enrollment with its version.
type Record = Enrollment;

impl LdapContactStore {
    /// A store for `config`, talking through `directory`'s connections.
    pub fn new(directory: &LdapDirectory, config: LdapContactConfig) -> Result<Self, BackendError> {
        let attrs = [Some(&config.email_attribute), Some(&config.phone_attribute)]
            .into_iter()
            .chain([config.enabled_attribute.as_ref(), config.record_attribute.as_ref()])
            .flatten();
        for attr in attrs {
            if !is_attribute_name(attr) {
                return Err(BackendError::new(
                    BackendErrorKind::Other,
                    format!("ldap contact configuration: {attr:?} is not an attribute name"),
                ));
            }
        }
        Ok(Self { directory: directory.clone(), config: Arc::new(config) })
    }

    fn attributes(&self) -> Vec<&str> {
        let c = &self.config;
        let mut attrs = vec![c.email_attribute.as_str(), c.phone_attribute.as_str()];
        attrs.extend(c.enabled_attribute.as_deref());
        attrs.extend(c.record_attribute.as_deref());
        attrs
    }

    /// The entry's enrollment and the raw record value it came with.
    fn decode(&self, entry: &ldap3::SearchEntry) -> Result<(Option<Enrollment>, Option<String>), BackendError> {
        let c = &self.config;
        let value = |name: &str| {
            entry.attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.first()).cloned()
        };
        let raw = c.record_attribute.as_deref().and_then(value);
        let record: Option<Record> = match &raw {
            Some(raw) => Some(serde_json::from_str(raw).map_err(|e| {
                BackendError::new(
                    BackendErrorKind::Other,
                    format!("the enrollment record of {} is not valid: {e}", entry.dn),
                )
            })?),
            None => None,
        };
        let email = value(&c.email_attribute).and_then(|v| {
            let kept = record.as_ref().and_then(|r| r.email.clone()).filter(|e| e.value.as_str() == v);
            kept.or_else(|| EmailAddress::parse(&v).ok().map(managed))
        });
        let phone = value(&c.phone_attribute).and_then(|v| {
            let kept = record.as_ref().and_then(|r| r.phone.clone()).filter(|p| p.value.as_str() == v);
            kept.or_else(|| PhoneNumber::parse(&v).ok().map(managed))
        });
        let flag = c.enabled_attribute.as_deref().and_then(value).map(|v| v.eq_ignore_ascii_case("TRUE"));
        if record.is_none() && email.is_none() && phone.is_none() && flag.is_none() {
            return Ok((None, raw));
        }
        let enabled = flag.or(record.as_ref().map(|r| r.enabled)).unwrap_or(c.enabled_by_default);
        let enrollment = Enrollment {
            enabled,
            email,
            phone,
            last_reset_at: record.as_ref().and_then(|r| r.last_reset_at),
            history: record.as_ref().map(|r| r.history.clone()).unwrap_or_default(),
            version: record.as_ref().map_or(0, |r| r.version),
        };
        Ok((Some(enrollment), raw))
    }
}

/// A contact the organisation keeps in the directory: usable at once.
fn managed<T>(value: T) -> StoredContact<T> {
    StoredContact { value, added_at: OffsetDateTime::UNIX_EPOCH, usable_from: OffsetDateTime::UNIX_EPOCH }
}

fn no_such_user(user: &UserId) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, format!("no directory entry {}", user.as_str()))
}

#[async_trait]
impl ContactStore for LdapContactStore {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        let attrs = self.attributes();
        let dn = user.as_str();
        let entry = self
            .directory
            .pool()
            .run(true, |mut conn| {
                let attrs = &attrs;
                async move { conn.read(dn, attrs).await }
            })
            .await
            .map_err(failure)?;
        match entry {
            Some(entry) => Ok(self.decode(&entry)?.0),
            None => Ok(None),
        }
    }

    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        let c = &self.config;
        let Some(record_attr) = c.record_attribute.as_deref() else {
            return Err(BackendError::new(
                BackendErrorKind::Rejected,
                "the ldap contact store is read-only: set record_attribute to let sspr write enrollments",
            ));
        };
        let attrs = self.attributes();
        let dn = user.as_str();
        let pool = self.directory.pool();
        let entry = pool
            .run(true, |mut conn| {
                let attrs = &attrs;
                async move { conn.read(dn, attrs).await }
            })
            .await
            .map_err(failure)?
            .ok_or_else(|| no_such_user(user))?;
        let (current, raw) = self.decode(&entry)?;
        if current.map_or(0, |e| e.version) != expected_version {
            return Ok(false);
        }
        let record = Record { version: expected_version.saturating_add(1), ..enrollment.clone() };
        let json = serde_json::to_string(&record)
            .map_err(|e| BackendError::new(BackendErrorKind::Other, format!("cannot encode the enrollment: {e}")))?;
        let record_name = record_attr.as_bytes().to_vec();
        let mut mods = Vec::new();
        // The precondition: the exact record read, or none (a single-valued attribute refuses a
        // second Add). Either way the whole modify fails if another writer came first.
        if let Some(raw) = raw.clone() {
            mods.push(Mod::Delete(record_name.clone(), one(raw)));
        }
        mods.push(Mod::Add(record_name, one(json)));
        let set = |attr: &str, value: Option<&str>| {
            Mod::Replace(attr.as_bytes().to_vec(), value.map(one).unwrap_or_default())
        };
        mods.push(set(&c.email_attribute, enrollment.email.as_ref().map(|e| e.value.as_str())));
        mods.push(set(&c.phone_attribute, enrollment.phone.as_ref().map(|p| p.value.as_str())));
        if let Some(flag) = &c.enabled_attribute {
            mods.push(set(flag, Some(if enrollment.enabled { "TRUE" } else { "FALSE" })));
        }
        // Not retried once sent: the precondition would then refuse our own write.
        let outcome = pool
            .run(false, |mut conn| {
                let mods = mods.clone();
                async move { conn.modify(dn, mods).await }
            })
            .await;
        match outcome {
            Ok(()) => Ok(true),
            // noSuchAttribute (the record we read is gone), attributeOrValueExists, or a
            // single-value violation (somebody added a record): another writer won.
            Err(OpFailure::Result(r)) if matches!(r.rc, 16 | 20) || (r.rc == 19 && raw.is_none()) => Ok(false),
            Err(e) => Err(failure(e)),
        }
    }
}

fn failure(failure: OpFailure) -> BackendError {
    match failure {
        OpFailure::Backend(e) => e,
        OpFailure::Result(result) => result_error(&result),
    }
}
