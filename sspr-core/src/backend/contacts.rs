use std::fmt::Debug;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::api::{Destination, UserId};
use crate::error::BackendError;
use crate::input::{EmailAddress, PhoneNumber};

/// Most removed contacts an enrollment remembers (the oldest is forgotten first): enough for
/// a phisher's clear-then-replace of both methods, small enough to bound the record.
pub const MAX_REMOVED_CONTACTS: usize = 4;

/// A contact detail as stored, with when it became usable for PINs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredContact<T> {
    /// The address or number.
    pub value: T,
    /// When it was registered.
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
    /// From when PINs may be sent to it (the cooling-off period after a user's change).
    #[serde(with = "time::serde::rfc3339")]
    pub usable_from: OffsetDateTime,
}

/// A user's SSPR registration: whether it is enabled and where PINs go.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Enrollment {
    /// SSPR enabled by an admin.
    pub enabled: bool,
    /// The alternate e-mail address.
    pub email: Option<StoredContact<EmailAddress>>,
    /// The mobile number.
    pub phone: Option<StoredContact<PhoneNumber>>,
    /// When the password was last reset through sspr.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_reset_at: Option<OffsetDateTime>,
    /// What the engine remembers of past contacts (first registration, recent removals).
    /// Stores keep it as it is; older records without it read as empty.
    #[serde(default)]
    pub history: ContactHistory,
    /// The store's version of this record: 0 for a record not stored yet; set by the store.
    #[serde(default)]
    pub version: u64,
}

impl Enrollment {
    /// Whether the user ever had a contact registered. A user's own change is usable at once
    /// only before that (first registration): clearing every contact does not make the next
    /// one "first" again. A record stored before the history was kept counts as registered
    /// if it has a contact.
    pub fn ever_registered(&self) -> bool {
        self.history.registered_at.is_some() || self.email.is_some() || self.phone.is_some()
    }

    /// The removed contacts still remembered at `now` (see [`ContactHistory::removed`]).
    pub fn recently_removed(&self, now: OffsetDateTime) -> impl Iterator<Item = &Destination> {
        self.history.removed.iter().filter(move |r| r.remember_until > now).map(|r| &r.contact)
    }

    /// Whether any contact is registered (usable yet or still cooling off).
    pub fn has_contact(&self) -> bool {
        self.email.is_some() || self.phone.is_some()
    }

    /// When the user last said their contacts are right: the latest of their explicit
    /// confirmation ([`ContactHistory::confirmed_at`]) and the registration of each current
    /// contact (registering one is confirming it). `None` without a contact.
    pub fn contacts_confirmed_at(&self) -> Option<OffsetDateTime> {
        if !self.has_contact() {
            return None;
        }
        let added = [self.email.as_ref().map(|c| c.added_at), self.phone.as_ref().map(|c| c.added_at)];
        added.into_iter().chain([self.history.confirmed_at]).flatten().max()
    }
}

/// What an enrollment remembers of its past contacts, so that a phisher who has the password
/// cannot erase the owner's contacts and take over the account unheard.
///
/// Stores that keep an enrollment in columns keep this as one text value:
/// [`ContactHistory::to_json`] and [`ContactHistory::from_json`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactHistory {
    /// When a contact was first registered (by the user or an admin); `None` if never.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub registered_at: Option<OffsetDateTime>,
    /// Contacts the user removed or replaced recently, oldest first, at most
    /// [`MAX_REMOVED_CONTACTS`]: they still receive contact-change and password-reset notices
    /// until `remember_until`, so the owner hears of what happens after a phisher removed them.
    #[serde(default)]
    pub removed: Vec<RemovedContact>,
    /// When the user last confirmed that their contacts are still right
    /// ([`crate::Sspr::confirm_contacts`], asked for after the policy's
    /// `reconfirm_after_days`); `None` if never. Older records without it read as `None`.
    #[serde(with = "time::serde::rfc3339::option", default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<OffsetDateTime>,
}

impl ContactHistory {
    /// The history as JSON text, for a store that keeps it in one column.
    ///
    /// # Errors
    ///
    /// A `BackendError` if it cannot be encoded (it always can).
    pub fn to_json(&self) -> Result<String, BackendError> {
        serde_json::to_string(self).map_err(history_error)
    }

    /// A history read back from [`ContactHistory::to_json`]'s text; empty text (a record
    /// stored before the history was kept) is an empty history.
    ///
    /// # Errors
    ///
    /// A `BackendError` if the text is not such a history.
    pub fn from_json(text: &str) -> Result<Self, BackendError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(history_error)
    }
}

/// Where the history's JSON went wrong, without quoting it (it holds addresses).
fn history_error(e: serde_json::Error) -> BackendError {
    BackendError::new(
        crate::error::BackendErrorKind::Other,
        format!(
            "the stored contact history is not valid ({:?} at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
    )
}

/// A contact the user removed (or replaced), remembered for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedContact {
    /// The removed address or number.
    pub contact: Destination,
    /// When it was removed.
    #[serde(with = "time::serde::rfc3339")]
    pub removed_at: OffsetDateTime,
    /// Until when it is still told of changes and resets.
    #[serde(with = "time::serde::rfc3339")]
    pub remember_until: OffsetDateTime,
}

/// Where enrollments (enabled flag, alternate e-mail, mobile) are kept.
///
/// Contract:
/// - `get` returns the stored enrollment with its `version`, or `None`.
/// - `save` is an atomic compare-and-set: it stores `enrollment` only if the stored version
///   is `expected_version` (0 meaning "no record yet"), stores it as version
///   `expected_version + 1`, and returns `true`; otherwise it changes nothing and returns
///   `false`. Two instances updating one user concurrently therefore never lose a change.
/// - Values are returned exactly as saved (no re-formatting of addresses or numbers).
/// - `list` pages through every stored enrollment for an administrator's report
///   ([`crate::Sspr::enrollment_report`]): the records whose user id is greater than `after`
///   (all when `None`), in ascending byte order of the id, at most `limit` of them, each as
///   `get` would return it. A page shorter than `limit` is the last. Records saved while
///   paging may or may not appear; none may appear twice. The default answers
///   `NotSupported` (the engine then reads the users the directory lists one by one).
#[async_trait]
pub trait ContactStore: Send + Sync + Debug {
    /// The enrollment of `user`, if any.
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError>;

    /// Store `enrollment` if the stored version is still `expected_version`.
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError>;

    /// Up to `limit` enrollments of users whose id sorts after `after`, in id order (see the
    /// contract above).
    async fn list(&self, after: Option<&UserId>, limit: usize) -> Result<Vec<(UserId, Enrollment)>, BackendError> {
        let _ = (after, limit);
        Err(BackendError::not_supported("list"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_stored_before_the_history_reads_as_registered_if_it_has_a_contact() {
        let old = r#"{"enabled":true,"email":{"value":"a@example.org","added_at":"2026-01-01T00:00:00Z",
            "usable_from":"2026-01-01T00:00:00Z"},"phone":null,"version":3}"#;
        let enrollment: Enrollment = serde_json::from_str(old).unwrap();
        assert_eq!(enrollment.history, ContactHistory::default());
        assert!(enrollment.ever_registered());
        let empty: Enrollment = serde_json::from_str(r#"{"enabled":true,"email":null,"phone":null}"#).unwrap();
        assert!(!empty.ever_registered());
    }

    #[test]
    fn history_json_round_trips_and_empty_text_is_no_history() {
        let at = time::macros::datetime!(2026-03-02 09:00 UTC);
        let history = ContactHistory {
            registered_at: Some(at),
            removed: vec![RemovedContact {
                contact: Destination::Sms(PhoneNumber::parse("+447400900123").unwrap()),
                removed_at: at,
                remember_until: at + time::Duration::days(8),
            }],
            confirmed_at: Some(at),
        };
        assert_eq!(ContactHistory::from_json(&history.to_json().unwrap()).unwrap(), history);
        assert_eq!(ContactHistory::from_json("").unwrap(), ContactHistory::default());
        let err = ContactHistory::from_json(r#"{"removed":"+447400900123"}"#).unwrap_err();
        assert!(!err.to_string().contains("447400900123"), "the error must not quote the stored text: {err}");
    }
}
