//! Proving a new contact: a code sent to it, then confirmed (`sspr-core/src/engine/proof.rs`).

use std::ffi::c_char;

use sspr_core::Channel;
use zeroize::Zeroizing;

use super::super::types::{SsprContactProof, SsprContacts, SsprRequestContext, request_context};
use super::super::{CEnum, Named, SsprChannel, SsprError, str_arg};
use super::call::{entry_points, op};
use super::{SsprEngine, actor_arg, engine_arg};

/// An `SsprChannel` value as the core's channel.
fn channel_arg(channel: u32) -> Result<Channel, SsprError> {
    let channel = SsprChannel::from_raw(channel).and_then(Named::to_core);
    channel.ok_or_else(|| SsprError::invalid("channel", "not an SsprChannel value"))
}

entry_points! {
    /// Send a one-time code to a contact a user wants to add or change to: `channel` (an
    /// `SsprChannel` value) and `value`, the address or number. The contact is saved only by
    /// `sspr_confirm_contact_proof` with that code; a new request replaces the user's pending
    /// proof. Acting as the administrator `admin_id`, or as the signed-in user when it is NULL
    /// (as `sspr_update_contacts`, which refuses a user's new contact with
    /// `SSPR_STATUS_NOT_ALLOWED`, reason `SSPR_NOT_ALLOWED_REASON_CONTACT_UNPROVEN`, while the
    /// policy's `user_contacts_need_proof` is on). A malformed address or number is
    /// `SSPR_STATUS_INVALID_INPUT` naming `"email"` or `"phone"`, nothing sent. On success
    /// `*out` is an `SsprContactProof` to free with `sspr_contact_proof_free`; the code goes to
    /// the notifier in the background (`sspr_flush_deliveries` waits for it).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_request_contact_proof / sspr_request_contact_proof_async(
        engine: *const SsprEngine,
        admin_id: *const c_char,
        login: *const c_char,
        channel: u32,
        value: *const c_char,
        ctx: *const SsprRequestContext,
    ) -> *mut *mut SsprContactProof {
        let (sspr, actor, login) = (engine_arg(engine)?, actor_arg(admin_id)?, str_arg(login, "login")?.to_owned());
        let (channel, value) = (channel_arg(channel)?, str_arg(value, "value")?.to_owned());
        let ctx = request_context(ctx)?;
        Ok(op(async move { sspr.request_contact_proof(&actor, &login, channel, &value, &ctx).await }))
    }
    result: "a `const SsprContactProof *`";
}

entry_points! {
    /// Save the contact of the pending proof `proof_id` if `code` is the code sent to it (the
    /// change then cools off and the contacts registered before are told, as any change made
    /// by `admin_id` or, when NULL, the user). A wrong code is `SSPR_STATUS_WRONG_PIN` (see
    /// `sspr_error_attempts_left`), then `SSPR_STATUS_PIN_VOIDED`; a replaced, expired or
    /// unknown proof is `SSPR_STATUS_EXPIRED`, a confirmed one `SSPR_STATUS_ALREADY_USED`. On
    /// success `*out` is the new `SsprContacts` (free with `sspr_contacts_free`).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_confirm_contact_proof / sspr_confirm_contact_proof_async(
        engine: *const SsprEngine,
        admin_id: *const c_char,
        login: *const c_char,
        proof_id: *const c_char,
        code: *const c_char,
        ctx: *const SsprRequestContext,
    ) -> *mut *mut SsprContacts {
        let (sspr, actor, login) = (engine_arg(engine)?, actor_arg(admin_id)?, str_arg(login, "login")?.to_owned());
        let proof_id = str_arg(proof_id, "proof_id")?.to_owned();
        let (code, ctx) = (Zeroizing::new(str_arg(code, "code")?.to_owned()), request_context(ctx)?);
        Ok(op(async move { sspr.confirm_contact_proof(&actor, &login, &proof_id, &code, &ctx).await }))
    }
    result: "a `const SsprContacts *`";
}
