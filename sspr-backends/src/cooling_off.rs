//! The cooling-off of a contact changed outside sspr (in the directory, in Entra), as the
//! directory-backed contact stores apply it.

use std::time::Duration;

/// The longest cooling-off applied, whatever the configuration says: a century. An operator
/// who trusts no contact changed outside sspr writes the largest number (`u64::MAX`), which
/// added to a date would leave the calendar (a panic at every read of the user's contacts).
const LONGEST: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The configured `changed_contact_cooling_off_secs`, at most [`LONGEST`].
pub(crate) fn capped(secs: u64) -> Duration {
    Duration::from_secs(secs).min(LONGEST)
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_is_a_century_and_anything_shorter_is_kept() {
        assert_eq!(super::capped(u64::MAX), super::LONGEST);
        assert_eq!(super::capped(86_400), std::time::Duration::from_secs(86_400));
        let now = time::macros::datetime!(2026-12-07 00:00 UTC);
        assert!(now.checked_add(super::capped(u64::MAX).try_into().unwrap()).is_some());
    }
}
