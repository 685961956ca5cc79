//! An enrollment a host-language `ContactStore` returned, checked before the engine trusts
//! it, and the times host languages hand over.
//!
//! A host store keeps the record as it likes (a Django model, a JSON column, a C struct) and
//! gives back its parts; a part that does not hold (an address the core refuses, a contact
//! usable before it was added, a history that is not one) makes the whole `get` fail with a
//! [`BackendError`] of kind `Rejected`: the store is broken, and a cooling-off or a notice
//! must never be skipped on a record half read. The message names the part, never its value
//! (it is an address).

use std::time::{SystemTime, UNIX_EPOCH};

use sspr_core::backend::{ContactHistory, Enrollment, StoredContact};
use sspr_core::{BackendError, BackendErrorKind, EmailAddress, Error, PhoneNumber};
use time::OffsetDateTime;

/// One stored contact detail as a host store returns it.
#[derive(Debug, Clone)]
pub struct ContactParts {
    /// The address or number as saved.
    pub value: String,
    /// When it was registered.
    pub added_at: OffsetDateTime,
    /// From when PINs may go to it.
    pub usable_from: OffsetDateTime,
}

/// An enrollment as a host store returns it (see the module's rules).
#[derive(Debug, Clone, Default)]
pub struct EnrollmentParts {
    /// SSPR enabled by an admin.
    pub enabled: bool,
    /// The alternate e-mail address.
    pub email: Option<ContactParts>,
    /// The mobile number.
    pub phone: Option<ContactParts>,
    /// When the password was last reset through sspr.
    pub last_reset_at: Option<OffsetDateTime>,
    /// The opaque history text sspr gave the store (`None` or empty: a record from before
    /// the history was kept).
    pub history: Option<String>,
    /// The store's version of the record.
    pub version: u64,
}

/// The `Rejected` error of a store whose record does not hold.
fn invalid(part: &str, why: &str) -> BackendError {
    BackendError::new(
        BackendErrorKind::Rejected,
        format!("the contact store returned an invalid enrollment: {part}: {why}"),
    )
}

/// The reason of a core parse error, without its field (the caller names the part).
fn reason(error: &Error) -> String {
    match error {
        Error::InvalidInput { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

fn contact<T>(
    part: &str,
    parts: ContactParts,
    parse: impl Fn(&str) -> Result<T, Error>,
) -> Result<StoredContact<T>, BackendError> {
    let value = parse(&parts.value).map_err(|e| invalid(part, &reason(&e)))?;
    if parts.usable_from < parts.added_at {
        return Err(invalid(part, "usable before it was added"));
    }
    Ok(StoredContact { value, added_at: parts.added_at, usable_from: parts.usable_from })
}

impl EnrollmentParts {
    /// The enrollment, if every part holds.
    ///
    /// # Errors
    /// A `Rejected` [`BackendError`] naming the first part that does not hold.
    pub fn validate(self) -> Result<Enrollment, BackendError> {
        let email = self.email.map(|c| contact("email", c, EmailAddress::parse)).transpose()?;
        let phone = self.phone.map(|c| contact("phone", c, PhoneNumber::parse)).transpose()?;
        let history = ContactHistory::from_json(self.history.as_deref().unwrap_or_default())
            .map_err(|e| invalid("history", e.message()))?;
        Ok(Enrollment {
            enabled: self.enabled,
            email,
            phone,
            last_reset_at: self.last_reset_at,
            history,
            version: self.version,
        })
    }
}

fn parts_of<T>(value: &str, c: &StoredContact<T>) -> ContactParts {
    ContactParts { value: value.to_owned(), added_at: c.added_at, usable_from: c.usable_from }
}

impl From<&Enrollment> for EnrollmentParts {
    /// The parts of an enrollment, to hand to a host store's `save` (the history as its
    /// opaque text).
    fn from(e: &Enrollment) -> Self {
        Self {
            enabled: e.enabled,
            email: e.email.as_ref().map(|c| parts_of(c.value.as_str(), c)),
            phone: e.phone.as_ref().map(|c| parts_of(c.value.as_str(), c)),
            last_reset_at: e.last_reset_at,
            history: e.history.to_json().ok(),
            version: e.version,
        }
    }
}

/// Check an enrollment a host store rebuilt itself (Python's `Enrollment.from_json`): the
/// same rules as [`EnrollmentParts::validate`].
///
/// # Errors
/// As [`EnrollmentParts::validate`].
pub fn check_enrollment(enrollment: Enrollment) -> Result<Enrollment, BackendError> {
    EnrollmentParts::from(&enrollment).validate()
}

/// A time from seconds and nanoseconds since the Unix epoch (C, JavaScript `Date`);
/// `InvalidInput` naming `field` when it cannot be represented.
///
/// # Errors
/// As above.
pub fn time_from_unix(seconds: i64, nanos: u32, field: &'static str) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.replace_nanosecond(nanos).ok())
        .ok_or_else(|| Error::InvalidInput { field, reason: "not a representable time".into() })
}

/// A time from a `SystemTime` (uniffi's timestamps), before the epoch included;
/// `InvalidInput` naming `field` when it cannot be represented.
///
/// # Errors
/// As above.
pub fn time_from_system(at: SystemTime, field: &'static str) -> Result<OffsetDateTime, Error> {
    let nanos = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).ok(),
        Err(e) => i128::try_from(e.duration().as_nanos()).ok().map(|n| -n),
    };
    nanos
        .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
        .ok_or_else(|| Error::InvalidInput { field, reason: "not a representable time".into() })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    fn parts() -> EnrollmentParts {
        EnrollmentParts {
            enabled: true,
            email: Some(ContactParts { value: "Jane@Example.org".into(), added_at: at(100), usable_from: at(200) }),
            phone: Some(ContactParts { value: "+44 7400 900123".into(), added_at: at(100), usable_from: at(100) }),
            last_reset_at: Some(at(50)),
            history: None,
            version: 3,
        }
    }

    #[test]
    fn a_valid_record_round_trips() {
        let enrollment = parts().validate().unwrap();
        assert_eq!(enrollment.email.as_ref().unwrap().value.as_str(), "Jane@example.org");
        assert_eq!(enrollment.phone.as_ref().unwrap().value.as_str(), "+447400900123");
        assert_eq!(enrollment.version, 3);
        assert_eq!(check_enrollment(enrollment.clone()).unwrap(), enrollment);
        assert_eq!(EnrollmentParts::from(&enrollment).validate().unwrap(), enrollment);
    }

    // Node and uniffi reported a bad record as a Rejected backend error, C as InvalidInput
    // of the completion call; none checked the times.
    #[test]
    fn a_broken_record_is_a_rejected_backend_error_that_names_the_part_not_the_value() {
        let mut bad_email = parts();
        bad_email.email.as_mut().unwrap().value = "jane-at-example".into();
        let mut bad_phone = parts();
        bad_phone.phone.as_mut().unwrap().value = "call me".into();
        let mut early = parts();
        early.email.as_mut().unwrap().usable_from = at(99);
        let mut history = parts();
        history.history = Some("{not json".into());
        for (broken, part) in [(bad_email, "email"), (bad_phone, "phone"), (early, "email"), (history, "history")] {
            let err = broken.validate().unwrap_err();
            assert_eq!(err.kind(), BackendErrorKind::Rejected);
            assert!(err.message().contains(&format!("invalid enrollment: {part}:")), "{}", err.message());
            assert!(!err.message().contains("jane") && !err.message().contains("call me"), "{}", err.message());
        }
    }

    #[test]
    fn times_before_the_epoch_and_out_of_range_are_handled() {
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(time_from_system(before, "t").unwrap().unix_timestamp(), -86_400);
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert_eq!(time_from_system(far, "t").unwrap_err().code(), "invalid_input");
        assert_eq!(time_from_unix(1, 500, "t").unwrap().nanosecond(), 500);
        assert_eq!(time_from_unix(i64::MAX, 0, "t").unwrap_err().code(), "invalid_input");
        assert_eq!(time_from_unix(0, 2_000_000_000, "t").unwrap_err().code(), "invalid_input");
    }
}
