//! Proving a new contact: a code sent to it, then confirmed (`sspr-core/src/engine/proof.rs`).

use std::ffi::c_char;

use super::super::types::{SsprContactProof, SsprContacts, SsprRequestContext};
use super::SsprEngine;
use super::call::{c_type, entry_points};

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
        engine: engine,
        admin_id: actor,
        login: text("login"),
        channel: channel("channel"),
        value: text("value"),
        ctx: context,
    ) -> *mut *mut SsprContactProof
        => engine.request_contact_proof(&admin_id, &login, channel, &value, &ctx);
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
        engine: engine,
        admin_id: actor,
        login: text("login"),
        proof_id: text("proof_id"),
        code: secret("code"),
        ctx: context,
    ) -> *mut *mut SsprContacts
        => engine.confirm_contact_proof(&admin_id, &login, &proof_id, code.expose_secret(), &ctx);
    result: "a `const SsprContacts *`";
}
