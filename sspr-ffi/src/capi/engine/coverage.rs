//! Registration coverage: the enrollment report, registration reminders and the
//! re-confirmation of contacts (`sspr-core/src/engine/coverage.rs`).

use std::ffi::c_char;

use sspr_core::EnrollmentFilter;

use super::super::types::{SsprContacts, SsprEnrollmentReport, SsprReminderRun, SsprRequestContext};
use super::super::{SsprError, slice_arg, str_arg};
use super::call::{c_type, entry_points, op};
use super::{SsprEngine, arg};

/// The most OUs or groups a filter is read with (the engine refuses more than 100 anyway).
const MAX_NAMES: usize = 1000;

/// `len` strings at `items` (NULL allowed when `len` is 0).
///
/// # Safety
/// `items` points to `len` valid NUL-terminated strings, or `len` is 0.
unsafe fn str_list(items: *const *const c_char, len: usize, field: &'static str) -> Result<Vec<String>, SsprError> {
    if len > MAX_NAMES {
        return Err(SsprError::invalid(field, "too many names"));
    }
    // SAFETY: `items` points to `len` pointers, per this function's contract.
    let items = unsafe { slice_arg(items, len, field) }?;
    // SAFETY: each is a valid string, per this function's contract.
    items.iter().map(|item| unsafe { str_arg(*item, field) }.map(str::to_owned)).collect()
}

/// The filter from its C parts: `stale_after_days` 0 is the default (the policy's).
///
/// # Safety
/// As [`str_list`], for both lists.
unsafe fn filter_arg(
    ous: *const *const c_char,
    ous_len: usize,
    groups: *const *const c_char,
    groups_len: usize,
    stale_after_days: u32,
) -> Result<EnrollmentFilter, SsprError> {
    Ok(EnrollmentFilter {
        // SAFETY: per this function's contract.
        ous: unsafe { str_list(ous, ous_len, "ous") }?,
        // SAFETY: per this function's contract.
        groups: unsafe { str_list(groups, groups_len, "groups") }?,
        stale_after_days: (stale_after_days != 0).then_some(stale_after_days),
    })
}

/// An administrator's operation over the users of a filter: the C arguments (`admin_id`, the
/// filter's parts as [`filter_arg`] reads them, `ctx`) and how they are read are the same for
/// each; only the engine's method and the result differ.
macro_rules! filter_entry_points {
    (
        $(#[doc = $doc:literal])*
        fn $blocking:ident / $callback_call:ident -> $out:ty => $method:ident;
        result: $result:literal;
    ) => {
        entry_points! {
            $(#[doc = $doc])*
            fn $blocking / $callback_call(
                engine: *const SsprEngine,
                admin_id: *const c_char,
                ous: *const *const c_char,
                ous_len: usize,
                groups: *const *const c_char,
                groups_len: usize,
                stale_after_days: u32,
                ctx: *const SsprRequestContext,
            ) -> *mut *mut $out {
                let (sspr, actor) = (arg::engine(engine)?, arg::actor(admin_id)?);
                let filter = filter_arg(ous, ous_len, groups, groups_len, stale_after_days)?;
                let ctx = arg::context(ctx)?;
                Ok(op(async move { sspr.$method(&actor, &filter, &ctx).await }))
            }
            result: $result;
        }
    };
}

filter_entry_points! {
    /// Who has registered for self-service reset among the users inside one of the `ous_len`
    /// OUs `ous` (if any) and in one of the `groups_len` groups `groups` (if any): counts and
    /// one entry per user, contacts masked. `stale_after_days` is the age from which contacts
    /// count as stale (0: the policy's `reconfirm_after_days`, or 365). Administrators only:
    /// `admin_id` must name one (NULL is `SSPR_STATUS_NOT_ALLOWED`, reason `ADMIN_ONLY`). A bad
    /// filter is `SSPR_STATUS_INVALID_INPUT` naming `"ous"`, `"groups"` or
    /// `"stale_after_days"`. On success `*out` is an `SsprEnrollmentReport` to free with
    /// `sspr_enrollment_report_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`; `ous` and `groups` point to that many strings (or are NULL with
    /// a length of 0).
    fn sspr_enrollment_report / sspr_enrollment_report_async -> SsprEnrollmentReport => enrollment_report;
    result: "a `const SsprEnrollmentReport *`";
}

filter_entry_points! {
    /// Mail a reminder (the policy's `registration_url`) to the directory mailbox of each
    /// enabled user of the filter (as `sspr_enrollment_report`) without contacts or with stale
    /// ones; a user is reminded at most once per `reminder_interval_days` however often this
    /// runs, never a privileged user. Administrators only. Without a `registration_url` in the
    /// policy: `SSPR_STATUS_CONFIG`. On success `*out` is an `SsprReminderRun` to free with
    /// `sspr_reminder_run_free`.
    ///
    /// # Safety
    /// As `sspr_enrollment_report`.
    fn sspr_send_registration_reminders / sspr_send_registration_reminders_async -> SsprReminderRun
        => send_registration_reminders;
    result: "a `const SsprReminderRun *`";
}

entry_points! {
    /// Confirm that the user's contacts are still right (what to ask once `confirm_due`),
    /// acting as `admin_id` or, when NULL, the signed-in user. On success `*out` is the
    /// `SsprContacts` (free with `sspr_contacts_free`).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_confirm_contacts / sspr_confirm_contacts_async(engine: engine, admin_id: actor, login: text("login"), ctx: context)
        -> *mut *mut SsprContacts
        => engine.confirm_contacts(&admin_id, &login, &ctx);
    result: "a `const SsprContacts *`";
}
