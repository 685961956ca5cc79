//! Administration and self-service registration: contact details, enabling, status,
//! unblocking.

use std::ffi::c_char;

use sspr_core::{ContactChange, ContactUpdate};

use super::super::types::{SsprContacts, SsprRequestContext, SsprUserStatus};
use super::super::{CEnum, SsprChange, SsprError, str_arg};
use super::call::{c_type, entry_points, op};
use super::{SsprEngine, arg};

/// Changes to a user's contact details; borrowed for the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprContactUpdate {
    /// An `SsprChange` value for the e-mail address.
    pub email_change: u32,
    /// The new address when `email_change` is SET.
    pub email: *const c_char,
    /// An `SsprChange` value for the phone number.
    pub phone_change: u32,
    /// The new number (E.164) when `phone_change` is SET.
    pub phone: *const c_char,
}

/// # Safety
/// `value` is NULL or a valid string.
unsafe fn change(kind: u32, value: *const c_char, field: &'static str) -> Result<ContactChange, SsprError> {
    match SsprChange::from_raw(kind) {
        Some(SsprChange::Keep) => Ok(ContactChange::Keep),
        // SAFETY: per this function's contract.
        Some(SsprChange::Set) => Ok(ContactChange::Set(unsafe { str_arg(value, field) }?.to_owned())),
        Some(SsprChange::Clear) => Ok(ContactChange::Clear),
        None => Err(SsprError::invalid(field, "not an SsprChange value")),
    }
}

entry_points! {
    /// Change a user's contact details, as the administrator `admin_id`, or as the signed-in
    /// user themself when `admin_id` is NULL (an empty or blank `admin_id` is
    /// `SSPR_STATUS_INVALID_INPUT`, field `"admin"`: the audit trail must name the
    /// administrator). On success `*out` is the new `SsprContacts` (free with
    /// `sspr_contacts_free`).
    ///
    /// # Safety
    /// As `sspr_begin_reset`; `update` is NULL or valid.
    fn sspr_update_contacts / sspr_update_contacts_async(
        engine: *const SsprEngine,
        admin_id: *const c_char,
        login: *const c_char,
        update: *const SsprContactUpdate,
        ctx: *const SsprRequestContext,
    ) -> *mut *mut SsprContacts {
        let u = update.as_ref().ok_or_else(|| SsprError::null("update"))?;
        let (sspr, actor, login) = (arg::engine(engine)?, arg::actor(admin_id)?, arg::text(login, "login")?);
        let email = change(u.email_change, u.email, "email")?;
        let update = ContactUpdate { email, phone: change(u.phone_change, u.phone, "phone")? };
        let ctx = arg::context(ctx)?;
        Ok(op(async move { sspr.update_contacts(&actor, &login, update, &ctx).await }))
    }
    result: "a `const SsprContacts *`";
}

entry_points! {
    /// A user's registered contact details in full, for the signed-in user's own page (not
    /// audited; an administrator's page uses `sspr_admin_contacts`). On success `*out` is an
    /// `SsprContacts` to free with `sspr_contacts_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_contacts / sspr_contacts_async(engine: engine, login: text("login")) -> *mut *mut SsprContacts
        => engine.contacts(&login);
    result: "a `const SsprContacts *`";
}

entry_points! {
    /// A user's registered contact details in full, read by the administrator `admin_id`
    /// (administrators only: `admin_id` NULL is refused with `NOT_ALLOWED`, an empty or blank
    /// one with `INVALID_INPUT`): audited as `contacts_viewed`, the administrator as actor and
    /// the contacts read masked. On success `*out` is an `SsprContacts` to free with
    /// `sspr_contacts_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_admin_contacts / sspr_admin_contacts_async(engine: engine, admin_id: actor, login: text("login"), ctx: context)
        -> *mut *mut SsprContacts
        => engine.admin_contacts(&admin_id, &login, &ctx);
    result: "a `const SsprContacts *`";
}

entry_points! {
    /// Enable or disable SSPR for a user (administrators only: `admin_id` NULL is refused with
    /// `NOT_ALLOWED`, an empty or blank one with `INVALID_INPUT`).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_set_enabled / sspr_set_enabled_async(
        engine: engine,
        admin_id: actor,
        login: text("login"),
        enabled: flag,
        ctx: context,
    ) => engine.set_enabled(&admin_id, &login, enabled, &ctx);
    result: "NULL";
}

entry_points! {
    /// Everything about one user's SSPR state. On success `*out` is an `SsprUserStatus` to free
    /// with `sspr_user_status_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_status / sspr_status_async(engine: engine, login: text("login")) -> *mut *mut SsprUserStatus
        => engine.status(&login);
    result: "a `const SsprUserStatus *`";
}

entry_points! {
    /// Lift a block and forget the user's failed verifications (administrators only).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_unblock / sspr_unblock_async(engine: engine, admin_id: actor, login: text("login"), ctx: context)
        => engine.unblock(&admin_id, &login, &ctx);
    result: "NULL";
}
