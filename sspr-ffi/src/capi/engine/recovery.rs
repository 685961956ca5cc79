//! Helpdesk recovery: an administrator issues a one-time code (shown, or sent to the user's
//! contact), the user redeems it to reach the verified step (`sspr-core/src/engine/recovery.rs`).

use std::ffi::c_char;

use super::super::types::{SsprRecovered, SsprRecoveryCode, SsprRecoverySent, SsprRequestContext};
use super::SsprEngine;
use super::call::{c_type, entry_points};

entry_points! {
    /// Issue a one-time helpdesk recovery code for `login`, as the administrator `admin_id`
    /// (NULL is a user: `SSPR_STATUS_NOT_ALLOWED`, reason `SSPR_NOT_ALLOWED_REASON_ADMIN_ONLY`),
    /// to read out to the user once. It works once, for 15 minutes, for this user only; a new
    /// code replaces the pending one. Privileged, disabled and ineligible accounts are
    /// `SSPR_STATUS_NOT_ALLOWED`, nothing stored. On success `*out` is an `SsprRecoveryCode`
    /// to free with `sspr_recovery_code_free` (which wipes the code).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_admin_recovery / sspr_admin_recovery_async(engine: engine, admin_id: actor, login: text("login"), ctx: context)
        -> *mut *mut SsprRecoveryCode
        => engine.admin_recovery(&admin_id, &login, &ctx);
    result: "a `const SsprRecoveryCode *`";
}

entry_points! {
    /// Issue a helpdesk recovery code as `sspr_admin_recovery` does, but send it to the
    /// user's registered contact by `channel` (an `SsprChannel` value): the administrator
    /// learns only the masked destination. A channel without a usable contact (none, still
    /// cooling off, SMS switched off) is `SSPR_STATUS_INVALID_INPUT` naming `"channel"`,
    /// nothing stored or sent. On success `*out` is an `SsprRecoverySent` to free with
    /// `sspr_recovery_sent_free`; the code goes to the notifier in the background
    /// (`sspr_flush_deliveries` waits for it).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_admin_send_recovery_code / sspr_admin_send_recovery_code_async(
        engine: engine,
        admin_id: actor,
        login: text("login"),
        channel: channel("channel"),
        ctx: context,
    ) -> *mut *mut SsprRecoverySent
        => engine.admin_send_recovery_code(&admin_id, &login, channel, &ctx);
    result: "a `const SsprRecoverySent *`";
}

entry_points! {
    /// Redeem a helpdesk recovery code for `login`: the right code starts a reset flow that is
    /// already verified (give its `flow_id` to `sspr_complete_reset`). Every refusal (an
    /// unknown login, no code, a wrong, spent or expired code) is `SSPR_STATUS_WRONG_PIN` with
    /// no attempts left, padded like the PIN step; a code that is not 10 digits is
    /// `SSPR_STATUS_INVALID_INPUT` naming `"code"`. On success `*out` is an `SsprRecovered` to
    /// free with `sspr_recovered_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_redeem_recovery_code / sspr_redeem_recovery_code_async(engine: engine, login: text("login"), code: secret("code"), ctx: context)
        -> *mut *mut SsprRecovered
        => engine.redeem_recovery_code(&login, code.expose_secret(), &ctx);
    result: "a `const SsprRecovered *`";
}
