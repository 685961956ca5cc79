//! [`GraphContactStore`]: the contacts in a user's Entra authentication methods (the e-mail
//! method, the `mobile` phone method), so that contacts registered in Entra are usable by
//! sspr and contacts registered through sspr are Entra's too.
//!
//! Users register their own authentication methods in Entra (My Security Info), and nothing in
//! a method says when it was set. So Entra's methods are never trusted as sspr's own: sspr's
//! enrollment (enabled flag, when each contact was added, the history, the version) lives in
//! a record store of its own (the SQLite or PostgreSQL contact store, which users cannot
//! write), and a method that differs from the record is a change made outside sspr: usable
//! only after a cooling-off counted from when sspr first saw it (written to the record at
//! once, so it does not restart on every read), the contact it replaced remembered as removed
//! so that it is told of resets, as the LDAP contact store does.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use sspr_core::backend::{Enrollment, MAX_REMOVED_CONTACTS, RemovedContact, StoredContact};
use sspr_core::time::OffsetDateTime;
use sspr_core::{
    BackendError, BackendErrorKind, Clock, ContactStore, Destination, EmailAddress, PhoneNumber, SystemClock, UserId,
};

use super::client::Reply;
use super::directory::GraphDirectory;

/// How the Graph contact store treats methods set outside sspr.
///
/// ```
/// use sspr_backends::graph::GraphContactConfig;
/// let config: GraphContactConfig = toml::from_str("").unwrap();
/// assert_eq!(config.changed_contact_cooling_off_secs, 86_400);
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphContactConfig {
    /// How long a method added or changed in Entra outside sspr waits before it may receive
    /// PINs, from when sspr first saw it. Default 86 400 s, the engine's default cooling-off;
    /// at most a century (a larger number, meant as "never", is read as that).
    #[serde(default = "default_cooling_off")]
    pub changed_contact_cooling_off_secs: u64,
}

fn default_cooling_off() -> u64 {
    86_400
}

impl Default for GraphContactConfig {
    fn default() -> Self {
        Self { changed_contact_cooling_off_secs: default_cooling_off() }
    }
}

/// A contact replaced outside sspr is told of resets until its successor's cooling-off ends,
/// and a week more (as the engine remembers contacts the user removed).
const REMOVED_CONTACT_GRACE: Duration = Duration::from_secs(7 * 86_400);

/// How many times `get` re-reads when its write of a first sighting loses a race.
const RECONCILE_ROUNDS: usize = 4;

/// A [`ContactStore`] over the user's Entra authentication methods
/// (`/users/{id}/authentication/emailMethods` and `phoneMethods`, type `mobile`), with sspr's
/// enrollment kept in `records`. The user id is the Entra object id, as [`GraphDirectory`]
/// gives it. Needs the application permission `UserAuthenticationMethod.ReadWrite.All`.
///
/// `save` is a compare-and-set on the record's version: it checks the version, writes the
/// methods, then saves the record with the records store's compare-and-set. A save that loses
/// the final race leaves the winner's record with this save's methods in Entra: read back,
/// they differ from the record and count as changed outside sspr (cooling off), never as
/// trusted. A method write that fails puts back the methods already written (best effort).
#[derive(Clone)]
pub struct GraphContactStore {
    directory: GraphDirectory,
    records: Arc<dyn ContactStore>,
    config: GraphContactConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for GraphContactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphContactStore")
            .field("directory", &self.directory)
            .field("records", &self.records)
            .field("config", &self.config)
            .finish()
    }
}

/// An e-mail authentication method.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmailMethod {
    id: String,
    #[serde(default)]
    email_address: Option<String>,
}

/// A phone authentication method.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneMethod {
    id: String,
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(default)]
    phone_type: Option<String>,
}

#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
}

/// The user's methods as Entra holds them.
#[derive(Default)]
struct Methods {
    /// The e-mail method's id and address (the first one).
    email: Option<(String, String)>,
    /// The `mobile` phone method's id and number.
    mobile: Option<(String, String)>,
}

impl Methods {
    fn email_value(&self) -> Option<EmailAddress> {
        self.email.as_ref().and_then(|(_, v)| EmailAddress::parse(v).ok())
    }

    fn phone_value(&self) -> Option<PhoneNumber> {
        self.mobile.as_ref().and_then(|(_, v)| PhoneNumber::parse(v).ok())
    }
}

/// Graph's phone format: `+<country code> <number>`.
fn graph_phone(number: &PhoneNumber) -> String {
    let cc = number.country_code();
    let rest = number.as_str().get(1 + cc.len()..).unwrap_or_default();
    format!("+{cc} {rest}")
}

impl GraphContactStore {
    /// A store over `directory`'s Graph connection, with sspr's records in `records`.
    pub fn new(directory: &GraphDirectory, records: Arc<dyn ContactStore>, config: GraphContactConfig) -> Self {
        Self::with_clock(directory, records, config, Arc::new(SystemClock))
    }

    /// The same, with the clock that dates first sightings.
    pub fn with_clock(
        directory: &GraphDirectory,
        records: Arc<dyn ContactStore>,
        config: GraphContactConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { directory: directory.clone(), records, config, clock }
    }

    async fn send(
        &self,
        method: Method,
        user: &UserId,
        rest: &[&str],
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, BackendError> {
        let url = self.directory.user_url(user, &["authentication"].iter().chain(rest).copied().collect::<Vec<_>>())?;
        self.directory.client().send(method, url, body, &[]).await
    }

    /// Both method lists, read together (a user Entra does not know has none: the engine's
    /// decoy reads make the same two calls as a real user's).
    async fn methods(&self, user: &UserId) -> Result<Methods, BackendError> {
        let (emails, phones) = futures::future::join(
            self.send(Method::GET, user, &["emailMethods"], None),
            self.send(Method::GET, user, &["phoneMethods"], None),
        )
        .await;
        let (emails, phones) = (emails?, phones?);
        let mut methods = Methods::default();
        // Only both lists not found is a user Entra does not know. One found and the other
        // not is an answer Graph cannot mean (a fault, replicas not agreeing yet): read as "no
        // methods", it moved the registered contacts to the removed ones, and at the next good
        // answer they cooled off again as if new.
        match (emails.status == StatusCode::NOT_FOUND, phones.status == StatusCode::NOT_FOUND) {
            (true, true) => return Ok(methods),
            (true, false) | (false, true) => {
                return Err(BackendError::new(
                    BackendErrorKind::Unavailable,
                    "graph answered 404 for one of the user's two method lists, not for the other",
                ));
            }
            (false, false) => {}
        }
        for (reply, what) in [(&emails, "e-mail methods"), (&phones, "phone methods")] {
            if !reply.status.is_success() {
                return Err(reply.failure(what));
            }
        }
        methods.email =
            emails.json::<List<EmailMethod>>()?.value.into_iter().find_map(|m| m.email_address.map(|a| (m.id, a)));
        methods.mobile = phones
            .json::<List<PhoneMethod>>()?
            .value
            .into_iter()
            .filter(|m| m.phone_type.as_deref() == Some("mobile"))
            .find_map(|m| m.phone_number.map(|n| (m.id, n)));
        Ok(methods)
    }

    /// The enrollment: `record` with Entra's methods laid over it; `true` when they differ
    /// from the record (a change made outside sspr, first seen now).
    fn reconcile(
        &self,
        record: Option<Enrollment>,
        methods: &Methods,
        now: OffsetDateTime,
    ) -> (Option<Enrollment>, bool) {
        let (email, phone) = (methods.email_value(), methods.phone_value());
        let Some(record) = record.or_else(|| (email.is_some() || phone.is_some()).then(Enrollment::default)) else {
            return (None, false);
        };
        let cooling_off = crate::cooling_off::capped(self.config.changed_contact_cooling_off_secs);
        let usable_from = now + cooling_off;
        let mut removed = Vec::new();
        let new_email = match (email, record.email.clone()) {
            (Some(v), Some(kept)) if kept.value == v => Some(kept),
            (v, kept) => {
                removed.extend(kept.map(|k| Destination::Email(k.value)));
                v.map(|value| StoredContact { value, added_at: now, usable_from })
            }
        };
        let new_phone = match (phone, record.phone.clone()) {
            (Some(v), Some(kept)) if kept.value == v => Some(kept),
            (v, kept) => {
                removed.extend(kept.map(|k| Destination::Sms(k.value)));
                v.map(|value| StoredContact { value, added_at: now, usable_from })
            }
        };
        let changed = new_email != record.email || new_phone != record.phone;
        let mut enrollment = Enrollment { email: new_email, phone: new_phone, ..record };
        for contact in removed {
            if !enrollment.history.removed.iter().any(|r| r.contact == contact) {
                let remember_until = usable_from + REMOVED_CONTACT_GRACE;
                enrollment.history.removed.push(RemovedContact { contact, removed_at: now, remember_until });
            }
        }
        // Past the cap, the latest are forgotten, not the oldest: the first contacts replaced
        // outside sspr are the owner's, and whoever keeps swapping the method in Entra must
        // not push them out of the history (nothing else tells the owner of such a change).
        // Contacts no longer remembered make room first.
        enrollment.history.removed.retain(|r| r.remember_until > now);
        enrollment.history.removed.truncate(MAX_REMOVED_CONTACTS);
        (Some(enrollment), changed)
    }

    /// Make the user's Entra methods `email` and `phone`, from `methods`; on a failure, put
    /// back what was already changed.
    async fn write_methods(
        &self,
        user: &UserId,
        methods: &Methods,
        email: Option<&EmailAddress>,
        phone: Option<&PhoneNumber>,
    ) -> Result<(), BackendError> {
        let email_before = methods.email_value();
        let email_changed = email != email_before.as_ref();
        if email_changed {
            self.write_email(user, methods.email.as_ref().map(|(id, _)| id.as_str()), email).await?;
        }
        if phone != methods.phone_value().as_ref() {
            let written = self.write_phone(user, methods.mobile.as_ref().map(|(id, _)| id.as_str()), phone).await;
            if let Err(e) = written {
                if email_changed {
                    // Best effort: a method left changed would read as changed outside sspr
                    // (cooling off), never as trusted.
                    let now = self.methods(user).await.ok();
                    let id = now.as_ref().and_then(|m| m.email.as_ref()).map(|(id, _)| id.as_str());
                    if let Err(undo) = self.write_email(user, id, email_before.as_ref()).await {
                        tracing::warn!(user = user.as_str(), error = %undo, "could not put back the e-mail method");
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }

    async fn write_email(
        &self,
        user: &UserId,
        id: Option<&str>,
        value: Option<&EmailAddress>,
    ) -> Result<(), BackendError> {
        let reply = match (id, value) {
            (None, None) => return Ok(()),
            (Some(id), None) => self.send(Method::DELETE, user, &["emailMethods", id], None).await?,
            (Some(id), Some(v)) => {
                let body = serde_json::json!({ "emailAddress": v.as_str() });
                self.send(Method::PATCH, user, &["emailMethods", id], Some(&body)).await?
            }
            (None, Some(v)) => {
                let body = serde_json::json!({ "emailAddress": v.as_str() });
                self.send(Method::POST, user, &["emailMethods"], Some(&body)).await?
            }
        };
        if reply.status.is_success() { Ok(()) } else { Err(reply.failure("e-mail method write")) }
    }

    async fn write_phone(
        &self,
        user: &UserId,
        id: Option<&str>,
        value: Option<&PhoneNumber>,
    ) -> Result<(), BackendError> {
        let reply = match (id, value) {
            (None, None) => return Ok(()),
            (Some(id), None) => self.send(Method::DELETE, user, &["phoneMethods", id], None).await?,
            (Some(id), Some(v)) => {
                let body = serde_json::json!({ "phoneNumber": graph_phone(v), "phoneType": "mobile" });
                self.send(Method::PATCH, user, &["phoneMethods", id], Some(&body)).await?
            }
            (None, Some(v)) => {
                let body = serde_json::json!({ "phoneNumber": graph_phone(v), "phoneType": "mobile" });
                self.send(Method::POST, user, &["phoneMethods"], Some(&body)).await?
            }
        };
        if reply.status.is_success() { Ok(()) } else { Err(reply.failure("phone method write")) }
    }

    /// The enrollment with Entra's methods laid over the record, and the methods read.
    async fn read(&self, user: &UserId) -> Result<(Option<Enrollment>, Methods), BackendError> {
        let methods = self.methods(user).await?;
        let mut latest = None;
        for _ in 0..RECONCILE_ROUNDS {
            let record = self.records.get(user).await?;
            let version = record.as_ref().map_or(0, |r| r.version);
            let (enrollment, changed) = self.reconcile(record, &methods, self.clock.now());
            if !changed {
                return Ok((enrollment, methods));
            }
            tracing::warn!(
                target: "sspr::audit",
                user = user.as_str(),
                "an authentication method was changed in Entra outside sspr: the new one is cooling off, the old one is told of resets"
            );
            // Write the first sighting, so that the cooling-off counts from it and not from
            // every read; a lost race reads again.
            if let Some(enrollment) = &enrollment
                && self.records.save(user, enrollment, version).await?
            {
                continue;
            }
            latest = enrollment;
        }
        // Still racing: the sighting is dated now, which only lengthens the cooling-off.
        Ok((latest, methods))
    }
}

#[async_trait]
impl ContactStore for GraphContactStore {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        Ok(self.read(user).await?.0)
    }

    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        let (current, methods) = self.read(user).await?;
        if current.map_or(0, |e| e.version) != expected_version {
            return Ok(false);
        }
        let email = enrollment.email.as_ref().map(|c| &c.value);
        let phone = enrollment.phone.as_ref().map(|c| &c.value);
        self.write_methods(user, &methods, email, phone).await?;
        let saved = self.records.save(user, enrollment, expected_version).await?;
        if !saved {
            tracing::info!(
                user = user.as_str(),
                "a concurrent save won: the methods written read as changed outside sspr"
            );
        }
        Ok(saved)
    }

    /// The records store's page of user ids, each read as `get` reads it (the methods
    /// reconciled with Entra): Graph calls per user, so a report over many users takes a while.
    async fn list(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<(UserId, Enrollment)>, BackendError> {
        let mut page = Vec::new();
        for (user, _) in self.records.list(after, limit).await? {
            if let Some(enrollment) = self.get(&user).await? {
                page.push((user, enrollment));
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_written_as_graph_wants_them() {
        assert_eq!(graph_phone(&PhoneNumber::parse("+12065550123").unwrap()), "+1 2065550123");
        assert_eq!(graph_phone(&PhoneNumber::parse("+447400900123").unwrap()), "+44 7400900123");
        assert_eq!(graph_phone(&PhoneNumber::parse("+353861234567").unwrap()), "+353 861234567");
    }
}
