//! The reset flow: begin, send a PIN, verify it, complete.

use std::ffi::c_char;

use sspr_core::{CompletionMode, NewPassword, Password, Pin};

use super::super::types::{SsprChallenge, SsprPinSent, SsprRequestContext, SsprResetOutcome, SsprVerified};
use super::super::{CEnum, Named, SsprCompletionMode, SsprError};
use super::call::{c_type, entry_points, op};
use super::{SsprEngine, arg};

entry_points! {
    /// Start a reset for `login`. On success `*out` is an `SsprChallenge` to free with
    /// `sspr_challenge_free`. Unknown, disabled and not-enabled logins get an answer of the same
    /// shape (decoy methods).
    ///
    /// # Safety
    /// `engine` is a live engine; strings are NULL or NUL-terminated; `ctx` is NULL or valid;
    /// `out` and `error_out` are NULL or writable.
    fn sspr_begin_reset / sspr_begin_reset_async(engine: engine, login: text("login"), ctx: context)
        -> *mut *mut SsprChallenge
        => engine.begin_reset(&login, &ctx);
    result: "a `const SsprChallenge *`";
}

entry_points! {
    /// `sspr_begin_reset` with the token of a bot challenge widget (`cf-turnstile-response`,
    /// `h-captcha-response`, `g-recaptcha-response`: what the browser posted), for an engine
    /// with a bot challenge (`SsprEngineOptions.bot_challenge_json`). NULL or blank is no token.
    /// When the challenge is asked and the token is missing, refused by the provider, or cannot
    /// be checked (the provider down), the answer is `SSPR_STATUS_CHALLENGE` and nothing begins
    /// (its message says `required`, `failed` or `unavailable`), alike for every login.
    /// A token over 4096 bytes or with a space is `SSPR_STATUS_INVALID_INPUT`, field
    /// `"challenge_token"`. The token is never in an error, the audit trail or a log.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_begin_reset_challenged / sspr_begin_reset_challenged_async(
        engine: *const SsprEngine,
        login: *const c_char,
        challenge_token: *const c_char,
        ctx: *const SsprRequestContext,
    ) -> *mut *mut SsprChallenge {
        let (sspr, login) = (arg::engine(engine)?, arg::text(login, "login")?);
        let mut ctx = arg::context(ctx)?;
        ctx.challenge_token = arg::challenge_token(challenge_token)?;
        Ok(op(async move { sspr.begin_reset(&login, &ctx).await }))
    }
    result: "a `const SsprChallenge *`";
}

entry_points! {
    /// Send a PIN by `method_id` (`"email"`, `"sms"`). `confirm` is NULL, or the full address or
    /// number when the method needs confirmation. On success `*out` is filled in. The PIN is
    /// handed to the notifier in the background: `sspr_flush_deliveries` waits for it.
    ///
    /// # Safety
    /// As `sspr_begin_reset`; `out` is NULL or writable.
    fn sspr_send_pin / sspr_send_pin_async(
        engine: engine,
        flow_id: text("flow_id"),
        method_id: text("method_id"),
        confirm: optional_text("confirm"),
        ctx: context,
    ) -> *mut SsprPinSent
        => engine.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx);
    result: "a `const SsprPinSent *`";
}

entry_points! {
    /// Check the PIN the user typed. On success `*out` is an `SsprVerified` to free with
    /// `sspr_verified_free`. A wrong PIN is `SSPR_STATUS_WRONG_PIN` (see
    /// `sspr_error_attempts_left`).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_verify_pin / sspr_verify_pin_async(engine: engine, flow_id: text("flow_id"), pin: secret("pin"), ctx: context)
        -> *mut *mut SsprVerified
        => engine.verify_pin(&flow_id, Pin::new(pin.expose_secret()), &ctx);
    result: "a `const SsprVerified *`";
}

/// An `SsprCompletionMode` value as the core's mode.
fn completion_mode(mode: u32) -> Result<CompletionMode, SsprError> {
    let mode = SsprCompletionMode::from_raw(mode).and_then(Named::to_core);
    mode.ok_or_else(|| SsprError::invalid("mode", "not an SsprCompletionMode value"))
}

entry_points! {
    /// Finish a verified reset in `mode` (an `SsprCompletionMode` value). `chosen_password` is
    /// the new password in `SSPR_COMPLETION_MODE_CHOSEN`, and must be NULL in the other modes
    /// (a password given there is refused, never silently dropped): either mistake is
    /// `SSPR_STATUS_INVALID_INPUT` with field `"password"`. On success `*out` is an
    /// `SsprResetOutcome` to free with `sspr_reset_outcome_free` (which wipes the temporary
    /// password).
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_complete_reset / sspr_complete_reset_async(
        engine: *const SsprEngine,
        flow_id: *const c_char,
        mode: u32,
        chosen_password: *const c_char,
        ctx: *const SsprRequestContext,
    ) -> *mut *mut SsprResetOutcome {
        let (sspr, flow_id) = (arg::engine(engine)?, arg::text(flow_id, "flow_id")?);
        let password = arg::optional_text(chosen_password, "chosen_password")?.map(Password::new);
        let ctx = arg::context(ctx)?;
        let new_password = NewPassword::from_mode(completion_mode(mode)?, password)?;
        Ok(op(async move { sspr.complete_reset(&flow_id, new_password, &ctx).await }))
    }
    result: "a `const SsprResetOutcome *`";
}
