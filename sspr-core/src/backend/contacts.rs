use std::fmt::Debug;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::BackendError;
use crate::input::{EmailAddress, PhoneNumber};
use crate::types::UserId;

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
    /// The store's version of this record: 0 for a record not stored yet; set by the store.
    #[serde(default)]
    pub version: u64,
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
#[async_trait]
pub trait ContactStore: Send + Sync + Debug {
    /// The enrollment of `user`, if any.
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError>;

    /// Store `enrollment` if the stored version is still `expected_version`.
    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError>;
}
