//! [`LdapContactStore`]: enrollments (alternate e-mail, mobile) kept in the user's own entry.
//!
//! Users may be able to write attributes of their own entry (on AD `mobile` and `info` by
//! default, through the Personal-Information property set). So nothing a user could have
//! written is trusted: the record is signed with a server key ([`RecordKey`]), and a contact
//! attribute that differs from the signed record is a change made outside sspr, usable only
//! after a cooling-off.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use ldap3::Mod;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use sspr_core::backend::{Enrollment, RemovedContact, StoredContact};
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, BackendErrorKind, ContactStore, Destination, EmailAddress, PhoneNumber, UserId};

use super::config::{BindPassword, Flavor, is_attribute_name};
use super::directory::{LdapDirectory, parse_generalized_time, result_error};
use super::pool::{OpFailure, one};

/// The server key that signs the enrollment record (HMAC-SHA256): at least 32 bytes, never
/// shown by `Debug`. Without it a record in an attribute the user can write could be forged.
#[derive(Clone)]
pub struct RecordKey(SecretString);

// Read through `secret_field`: a wrong type is named, never quoted.
impl<'de> serde::Deserialize<'de> for RecordKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::secret_field::string(deserializer).map(Self::new)
    }
}

impl RecordKey {
    /// Wrap a key (at least 32 bytes: checked by [`LdapContactStore::new`]).
    pub fn new(key: impl Into<String>) -> Self {
        Self(SecretString::from(key.into()))
    }

    fn mac(&self) -> Result<Hmac<Sha256>, BackendError> {
        Hmac::<Sha256>::new_from_slice(self.0.expose_secret().as_bytes())
            .map_err(|_| BackendError::new(BackendErrorKind::Other, "ldap contact store: unusable record_key"))
    }
}

impl From<String> for RecordKey {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordKey([REDACTED])")
    }
}

/// Which attributes of the user's entry hold the enrollment.
///
/// ```
/// use sspr_backends::ldap::LdapContactConfig;
/// let ad: LdapContactConfig = toml::from_str(r#"
///     record_attribute = "comment"
///     record_key = "from the portal's secret store, 32 bytes or more"
/// "#).unwrap();
/// assert_eq!((ad.email_attribute.as_str(), ad.phone_attribute.as_str()), ("otherMailbox", "mobile"));
/// assert!(!format!("{ad:?}").contains("secret store"));
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
    /// each contact was added, usable from, last reset, version) as signed JSON. One the users
    /// cannot write (check with [`LdapContactStore::check_self_writable`]): not AD's `info`,
    /// which users write by default, so a user could put back an older record of their own
    /// (enabled again after an administrator switched self-service off). Without it the store is read-only: `save` fails, and contacts found in the
    /// directory are usable at once (the organisation maintains them, in attributes users
    /// must not be able to write).
    #[serde(default)]
    pub record_attribute: Option<String>,
    /// The key signing the record: required with `record_attribute`. A record whose signature
    /// does not verify (forged, copied from another entry, or from before signing) is not
    /// trusted: the user reads as not enabled and the contacts as changed outside sspr.
    #[serde(default)]
    pub record_key: Option<RecordKey>,
    /// How long a contact changed in the directory outside sspr (differing from the signed
    /// record) waits before it may receive PINs, counted from the entry's last change
    /// (`modifyTimestamp`/`whenChanged`). Default 86 400 s, the engine's default cooling-off.
    #[serde(default = "default_changed_contact_cooling_off")]
    pub changed_contact_cooling_off_secs: u64,
    /// Whether a user is enabled when neither `enabled_attribute` nor a record says (default
    /// false).
    #[serde(default)]
    pub enabled_by_default: bool,
}

fn default_changed_contact_cooling_off() -> u64 {
    86_400
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
            record_key: None,
            changed_contact_cooling_off_secs: default_changed_contact_cooling_off(),
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
        let config_error =
            |m: &str| BackendError::new(BackendErrorKind::Other, format!("ldap contact configuration: {m}"));
        match (&config.record_attribute, &config.record_key) {
            (Some(_), None) => {
                return Err(config_error(
                    "record_attribute needs record_key: an unsigned record in the user's entry could be forged",
                ));
            }
            (_, Some(key)) if key.0.expose_secret().len() < 32 => {
                return Err(config_error("record_key must be at least 32 bytes"));
            }
            _ => {}
        }
        Ok(Self { directory: directory.clone(), config: Arc::new(config) })
    }

    /// Which of the configured attributes the user `user_dn` may write in their own entry,
    /// read as that user (AD `allowedAttributesEffective`): run it at start-up with a test
    /// account's credentials. Fails if the configuration is unsafe with those rights: an
    /// `enabled_attribute` or `record_attribute` the user can write (an older signed record
    /// put back undoes an administrator's switching self-service off), or a read-only store
    /// (no record) whose contact attributes the user can write (they would be usable at once). OpenLDAP reports no
    /// effective rights: there it fails with "cannot tell", and the ACLs must be checked by
    /// hand (the contact, flag and record attributes `by self read` at most).
    pub async fn check_self_writable(
        &self,
        user_dn: &str,
        password: &BindPassword,
    ) -> Result<Vec<String>, BackendError> {
        let config = &self.config;
        let directory_config = self.directory.config();
        if directory_config.flavor == Flavor::OpenLdap {
            return Err(BackendError::new(
                BackendErrorKind::Other,
                "cannot tell which attributes OpenLDAP users may write: check the ACLs by hand",
            ));
        }
        let mut ldap = self.directory.pool().connect().await?;
        ldap.with_timeout(directory_config.operation_timeout());
        let bound = ldap.simple_bind(user_dn, password.expose()).await;
        if !matches!(&bound, Ok(r) if r.rc == 0) {
            let _ = ldap.unbind().await;
            return Err(BackendError::new(
                BackendErrorKind::Rejected,
                format!("cannot bind as {user_dn} to check its rights"),
            ));
        }
        let read =
            ldap.search(user_dn, ldap3::Scope::Base, "(objectClass=*)", vec!["allowedAttributesEffective"]).await;
        let _ = ldap.unbind().await;
        let entries = match read {
            Ok(ldap3::SearchResult(entries, result)) if result.rc == 0 => entries,
            _ => return Err(BackendError::new(BackendErrorKind::Other, "cannot read allowedAttributesEffective")),
        };
        let writable: Vec<String> = entries
            .into_iter()
            .map(ldap3::SearchEntry::construct)
            .flat_map(|e| e.attrs.into_iter().filter(|(k, _)| k.eq_ignore_ascii_case("allowedAttributesEffective")))
            .flat_map(|(_, v)| v)
            .collect();
        let is_writable = |attr: &str| writable.iter().any(|w| w.eq_ignore_ascii_case(attr));
        let mine: Vec<String> = self.attributes().into_iter().filter(|a| is_writable(a)).map(str::to_owned).collect();
        let unsafe_because = |why: String| {
            tracing::error!(user = user_dn, attributes = ?mine, "{why}");
            Err(BackendError::new(BackendErrorKind::Other, why))
        };
        if let Some(flag) = config.enabled_attribute.as_deref().filter(|a| is_writable(a)) {
            return unsafe_because(format!("users may write their own {flag}: they could enable themselves"));
        }
        // The signature stops a forged record, not an old one put back: read while enabled, it
        // undoes an administrator's switching self-service off (and a contact's removal).
        if let Some(record) = config.record_attribute.as_deref().filter(|a| is_writable(a)) {
            return unsafe_because(format!(
                "users may write their own {record}: they could put back an older signed record of their own \
                 (enabled again after an administrator switched self-service off); keep the record in an \
                 attribute users cannot write"
            ));
        }
        if config.record_attribute.is_none() {
            for attr in [&config.email_attribute, &config.phone_attribute] {
                if is_writable(attr) {
                    return unsafe_because(format!(
                        "users may write their own {attr}, and without record_attribute its value is usable at once"
                    ));
                }
            }
        }
        if !mine.is_empty() {
            tracing::warn!(
                user = user_dn,
                attributes = ?mine,
                "users may write these contact-store attributes: changes are signed or cooled off, but keep the record where users cannot write it"
            );
        }
        Ok(mine)
    }

    fn attributes(&self) -> Vec<&str> {
        let c = &self.config;
        let mut attrs = vec![c.email_attribute.as_str(), c.phone_attribute.as_str()];
        attrs.extend(c.enabled_attribute.as_deref());
        attrs.extend(c.record_attribute.as_deref());
        attrs
    }

    /// The entry's attributes read: the configured ones, when the entry last changed, and its
    /// lasting identity (the record is bound to it).
    fn read_attributes(&self) -> Vec<&str> {
        let mut attrs = self.attributes();
        attrs.extend(["modifyTimestamp", "whenChanged"]);
        attrs.extend(ENTRY_ID_ATTRIBUTES);
        attrs
    }

    /// The MAC of `json` as the record of the entry `binding` names (a record copied from
    /// another user does not verify), unfinished; `None` without a key.
    fn mac(&self, binding: &Binding, json: &str) -> Result<Option<Hmac<Sha256>>, BackendError> {
        let Some(key) = &self.config.record_key else { return Ok(None) };
        let mut mac = key.mac()?;
        match binding {
            Binding::Id(id) => {
                mac.update(RECORD_DOMAIN_V2);
                mac.update(id.as_bytes());
            }
            Binding::Dn(dn) => {
                mac.update(RECORD_DOMAIN);
                mac.update(dn.to_lowercase().as_bytes());
            }
        }
        mac.update(b"\n");
        mac.update(json.as_bytes());
        Ok(Some(mac))
    }

    /// The record text stored for `json`: `sspr2.<hex MAC>.<json>`, bound to the entry's
    /// lasting identity, or `sspr1.<hex MAC>.<json>`, bound to its DN, on a directory that
    /// shows none.
    fn seal(&self, dn: &str, entry: &ldap3::SearchEntry, json: &str) -> Result<String, BackendError> {
        let (binding, prefix) = match entry_id(entry) {
            Some(id) => (Binding::Id(id), RECORD_PREFIX_V2),
            None => (Binding::Dn(dn.to_owned()), RECORD_PREFIX),
        };
        let mac = self.mac(&binding, json)?.ok_or_else(|| {
            BackendError::new(BackendErrorKind::Other, "ldap contact store: no record_key to sign the record")
        })?;
        Ok(format!("{prefix}{}.{json}", hex(&mac.finalize().into_bytes())))
    }

    /// The record in `raw` if its MAC verifies for the entry (`sspr2`: its lasting identity;
    /// `sspr1`, written before: its DN); `None` (logged) otherwise.
    fn open(&self, dn: &str, entry: &ldap3::SearchEntry, raw: &str) -> Result<Option<Record>, BackendError> {
        let (binding, rest) = match (raw.strip_prefix(RECORD_PREFIX_V2), raw.strip_prefix(RECORD_PREFIX)) {
            (Some(rest), _) => (entry_id(entry).map(Binding::Id), Some(rest)),
            (None, Some(rest)) => (Some(Binding::Dn(dn.to_owned())), Some(rest)),
            (None, None) => (None, None),
        };
        let verified = match (binding, rest.and_then(|rest| rest.split_once('.'))) {
            (Some(binding), Some((mac_hex, json))) => match (self.mac(&binding, json)?, unhex(mac_hex)) {
                (Some(mac), Some(tag)) => mac.verify_slice(&tag).is_ok().then_some(json),
                _ => None,
            },
            _ => None,
        };
        let Some(json) = verified else {
            tracing::warn!(
                target: "sspr::audit",
                user = dn,
                "the enrollment record in the directory does not verify (forged, copied or unsigned): not trusted, \
                 the user reads as not enabled and the contacts as changed outside sspr"
            );
            return Ok(None);
        };
        serde_json::from_str(json).map(Some).map_err(|e| {
            BackendError::new(BackendErrorKind::Other, format!("the enrollment record of {dn} is not valid: {e}"))
        })
    }

    /// The enrollment of the entry of `dn` and the raw record value it came with.
    fn decode(
        &self,
        dn: &str,
        entry: &ldap3::SearchEntry,
    ) -> Result<(Option<Enrollment>, Option<String>), BackendError> {
        let c = &self.config;
        let value = |name: &str| {
            entry.attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.first()).cloned()
        };
        let raw = c.record_attribute.as_deref().and_then(value);
        let flag = c.enabled_attribute.as_deref().and_then(value).map(|v| v.eq_ignore_ascii_case("TRUE"));
        let (email_value, phone_value) = (value(&c.email_attribute), value(&c.phone_attribute));
        if c.record_attribute.is_none() {
            // Read-only: the organisation keeps the contacts (attributes users cannot write).
            let email = usable(dn, &c.email_attribute, email_value, EmailAddress::parse).map(managed);
            let phone = usable(dn, &c.phone_attribute, phone_value, PhoneNumber::parse).map(managed);
            if email.is_none() && phone.is_none() && flag.is_none() {
                return Ok((None, None));
            }
            let enabled = flag.unwrap_or(c.enabled_by_default);
            return Ok((Some(Enrollment { enabled, email, phone, ..Enrollment::default() }), None));
        }
        let record = match &raw {
            Some(raw) => self.open(dn, entry, raw)?,
            None => None,
        };
        let tampered = raw.is_some() && record.is_none();
        if raw.is_none() && email_value.is_none() && phone_value.is_none() && flag.is_none() {
            return Ok((None, raw));
        }
        // A contact that is not the one in the signed record was written outside sspr (maybe
        // by the user): usable only after a cooling-off from the entry's last change (a
        // server-kept time the user cannot set), and the record's contact is remembered as
        // removed so that it hears of a reset.
        let changed_at = ["modifyTimestamp", "whenChanged"]
            .into_iter()
            .find_map(|attr| value(attr).and_then(|v| parse_generalized_time(&v)))
            .unwrap_or_else(|| self.directory.now());
        let usable_from = changed_at + crate::cooling_off::capped(c.changed_contact_cooling_off_secs);
        let mut removed = Vec::new();
        let kept_email = record.as_ref().and_then(|r| r.email.clone());
        let email = match (email_value, kept_email) {
            (Some(v), Some(kept)) if kept.value.as_str() == v => Some(kept),
            (v, kept) => {
                removed.extend(kept.map(|k| Destination::Email(k.value)));
                usable(dn, &c.email_attribute, v, EmailAddress::parse)
                    .map(|value| changed(value, changed_at, usable_from))
            }
        };
        let kept_phone = record.as_ref().and_then(|r| r.phone.clone());
        let phone = match (phone_value, kept_phone) {
            (Some(v), Some(kept)) if kept.value.as_str() == v => Some(kept),
            (v, kept) => {
                removed.extend(kept.map(|k| Destination::Sms(k.value)));
                usable(dn, &c.phone_attribute, v, PhoneNumber::parse)
                    .map(|value| changed(value, changed_at, usable_from))
            }
        };
        let mut enrollment = match &record {
            Some(record) => Enrollment { email, phone, ..record.clone() },
            None => Enrollment { email, phone, ..Enrollment::default() },
        };
        if !removed.is_empty() {
            tracing::warn!(
                target: "sspr::audit",
                user = dn,
                "a contact was changed in the directory outside sspr: the new one is cooling off, the old one is told of resets"
            );
        }
        for contact in removed {
            if !enrollment.history.removed.iter().any(|r| r.contact == contact) {
                let remember_until = usable_from + REMOVED_CONTACT_GRACE;
                enrollment.history.removed.push(RemovedContact { contact, removed_at: changed_at, remember_until });
            }
        }
        enrollment.enabled =
            if tampered { false } else { flag.or(record.as_ref().map(|r| r.enabled)).unwrap_or(c.enabled_by_default) };
        Ok((Some(enrollment), raw))
    }
}

/// The record's text starts with this version tag, then the hex MAC, a dot and the JSON:
/// `sspr2` is bound to the entry's lasting identity, `sspr1` (written before, or on a directory
/// that shows none) to its DN.
const RECORD_PREFIX: &str = "sspr1.";
const RECORD_PREFIX_V2: &str = "sspr2.";
/// What the MAC covers before the DN and the JSON: this use of the key and no other.
const RECORD_DOMAIN: &[u8] = b"sspr ldap enrollment record v1\n";
const RECORD_DOMAIN_V2: &[u8] = b"sspr ldap enrollment record v2, entry id\n";
/// What names an entry for good, whatever its DN becomes (a move to another OU, a renamed
/// CN): OpenLDAP's `entryUUID`, AD's `objectGUID`. Binding the record to the DN made a moved
/// or renamed user's record read as forged: not enabled.
const ENTRY_ID_ATTRIBUTES: [&str; 2] = ["entryUUID", "objectGUID"];

/// What a record is bound to.
enum Binding {
    /// The entry's lasting identity (see [`entry_id`]).
    Id(String),
    /// The entry's DN (records written before `sspr2`).
    Dn(String),
}

/// The entry's lasting identity: `entryUUID` as text, or `objectGUID` as hex.
fn entry_id(entry: &ldap3::SearchEntry) -> Option<String> {
    let named = |name: &str| {
        let text = entry.attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.first());
        let bytes = entry.bin_attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.first());
        text.map(|t| t.as_bytes().to_vec()).or_else(|| bytes.cloned())
    };
    ENTRY_ID_ATTRIBUTES.iter().find_map(|name| named(name)).filter(|id| !id.is_empty()).map(|id| hex(&id))
}
/// A contact replaced outside sspr is told of resets until its successor's cooling-off ends,
/// and a week more (as the engine remembers contacts the user removed).
/// The contact in `value` (of `attribute` on the entry `dn`), if it is one sspr can use. One
/// that is not (a national-format mobile such as `07400 900123`, which needs its country; a
/// malformed address) is left out, and the log says so, without the value: else the user
/// silently gets no code there and nobody learns why.
fn usable<T, E>(dn: &str, attribute: &str, value: Option<String>, parse: impl Fn(&str) -> Result<T, E>) -> Option<T> {
    let value = value?;
    let parsed = parse(&value).ok();
    if parsed.is_none() {
        tracing::warn!(
            dn,
            attribute,
            "a contact attribute holds no usable address or international (+) number: left out"
        );
    }
    parsed
}

const REMOVED_CONTACT_GRACE: Duration = Duration::from_secs(7 * 86_400);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// A contact the organisation keeps in the directory: usable at once.
fn managed<T>(value: T) -> StoredContact<T> {
    StoredContact { value, added_at: OffsetDateTime::UNIX_EPOCH, usable_from: OffsetDateTime::UNIX_EPOCH }
}

/// A contact written outside sspr at `added_at`, usable from `usable_from`.
fn changed<T>(value: T, added_at: OffsetDateTime, usable_from: OffsetDateTime) -> StoredContact<T> {
    StoredContact { value, added_at, usable_from }
}

fn no_such_user(user: &UserId) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, format!("no directory entry {}", user.as_str()))
}

#[async_trait]
impl ContactStore for LdapContactStore {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        let attrs = self.read_attributes();
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
            Some(entry) => Ok(self.decode(dn, &entry)?.0),
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
        let attrs = self.read_attributes();
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
        let (current, raw) = self.decode(dn, &entry)?;
        if current.map_or(0, |e| e.version) != expected_version {
            return Ok(false);
        }
        let record = Record { version: expected_version.saturating_add(1), ..enrollment.clone() };
        let json = serde_json::to_string(&record)
            .map_err(|e| BackendError::new(BackendErrorKind::Other, format!("cannot encode the enrollment: {e}")))?;
        let json = self.seal(dn, &entry, &json)?;
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

    /// One subtree search under the directory's `base_dn` for the users (its `user_filter`)
    /// with any of the configured attributes, decoded as `get` decodes them, sorted by DN here:
    /// LDAP returns entries in no order, so every page reads every enrolled entry (fine for a
    /// nightly report; the engine asks for pages of 500). The search itself is paged (RFC
    /// 2696), so a directory's per-answer size limit (slapd's `sizelimit`, AD's `MaxPageSize`)
    /// does not cut it; a total cap on paged searches (slapd's `size.prtotal`) still could, and
    /// a listing cut short is an error, never a silently shorter report.
    async fn list(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<(UserId, Enrollment)>, BackendError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let directory = self.directory.config();
        let present: String = self.attributes().iter().map(|a| format!("({a}=*)")).collect();
        let filter = format!("(&{}(|{present}))", directory.user_filter());
        let attrs = self.read_attributes();
        let base = directory.base_dn.as_str();
        let entries = self
            .directory
            .pool()
            .run(true, |mut conn| {
                let (attrs, filter) = (&attrs, &filter);
                async move { conn.search_paged(base, ldap3::Scope::Subtree, filter, attrs).await }
            })
            .await
            .map_err(failure)?;
        let mut page = Vec::new();
        for entry in entries {
            if after.is_some_and(|after| entry.dn.as_str() <= after.as_str()) {
                continue;
            }
            if let (Some(enrollment), _) = self.decode(&entry.dn, &entry)? {
                page.push((UserId::new(entry.dn), enrollment));
            }
        }
        page.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        page.truncate(limit);
        Ok(page)
    }
}

fn failure(failure: OpFailure) -> BackendError {
    match failure {
        OpFailure::Backend(e) => e,
        OpFailure::Result(result) => result_error(&result),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::ldap::{LdapConfig, config::Flavor};

    fn store() -> LdapContactStore {
        let config = LdapConfig::new(Flavor::OpenLdap, "ldaps://x", "dc=x", "cn=svc,dc=x", BindPassword::new("p"));
        let directory = LdapDirectory::new(config).unwrap();
        let contacts = LdapContactConfig {
            record_attribute: Some("ssprEnrollment".into()),
            record_key: Some(RecordKey::new("unit-test record key, 32 bytes or more")),
            ..LdapContactConfig::default()
        };
        LdapContactStore::new(&directory, contacts).unwrap()
    }

    fn entry(dn: &str, uuid: Option<&str>) -> ldap3::SearchEntry {
        let attrs = uuid.map(|u| HashMap::from([("entryUUID".to_owned(), vec![u.to_owned()])])).unwrap_or_default();
        ldap3::SearchEntry { dn: dn.to_owned(), attrs, bin_attrs: HashMap::new() }
    }

    #[test]
    fn records_follow_their_entry_and_records_signed_over_the_dn_still_verify() {
        let store = store();
        let json = serde_json::to_string(&Enrollment { enabled: true, ..Enrollment::default() }).unwrap();
        let (dn, moved) = ("uid=a,ou=one,dc=x", "uid=a,ou=two,dc=x");
        let uuid = "5c1d3e2a-0000-4000-8000-000000000001";
        // New records are bound to the entry's id: they verify wherever the entry moved, and
        // not on another entry.
        let sealed = store.seal(dn, &entry(dn, Some(uuid)), &json).unwrap();
        assert!(sealed.starts_with("sspr2."), "{sealed}");
        assert!(store.open(moved, &entry(moved, Some(uuid)), &sealed).unwrap().is_some_and(|r| r.enabled));
        let other = entry(dn, Some("5c1d3e2a-0000-4000-8000-000000000002"));
        assert!(store.open(dn, &other, &sealed).unwrap().is_none());
        assert!(store.open(dn, &entry(dn, None), &sealed).unwrap().is_none());
        // Records written before (sspr1, over the DN) still verify where they were written.
        let mac = store.mac(&Binding::Dn(dn.to_owned()), &json).unwrap().unwrap();
        let legacy = format!("{RECORD_PREFIX}{}.{json}", hex(&mac.finalize().into_bytes()));
        assert!(store.open(dn, &entry(dn, Some(uuid)), &legacy).unwrap().is_some());
        assert!(store.open(moved, &entry(moved, Some(uuid)), &legacy).unwrap().is_none());
        // A directory that shows no id: bound to the DN, as before.
        assert!(store.seal(dn, &entry(dn, None), &json).unwrap().starts_with(RECORD_PREFIX));
    }
}
