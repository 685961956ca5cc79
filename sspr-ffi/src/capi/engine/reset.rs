//! The reset flow: begin, send a PIN, verify it, complete.

use std::ffi::{c_char, c_void};

use sspr_core::{CompletionMode, NewPassword, Password, Pin};
use zeroize::Zeroizing;

use super::super::types::{
    SsprChallenge, SsprPinSent, SsprRequestContext, SsprResetOutcome, SsprVerified, request_context,
};
use super::super::{SsprError, SsprStatus, opt_str_arg, str_arg};
use super::call::{OpFuture, SsprCallback, blocking, with_callback};
use super::{SsprEngine, engine_arg};

unsafe fn begin_reset(
    engine: *const SsprEngine,
    login: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::ResetChallenge>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, login, ctx) =
        unsafe { (engine_arg(engine)?, str_arg(login, "login")?.to_owned(), request_context(ctx)?) };
    Ok(Box::pin(async move { sspr.begin_reset(&login, &ctx).await }))
}

/// Start a reset for `login`. On success `*out` is an `SsprChallenge` to free with
/// `sspr_challenge_free`. Unknown, disabled and not-enabled logins get an answer of the same
/// shape (decoy methods).
///
/// # Safety
/// `engine` is a live engine; strings are NULL or NUL-terminated; `ctx` is NULL or valid;
/// `out` and `error_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_begin_reset(
    engine: *const SsprEngine,
    login: *const c_char,
    ctx: *const SsprRequestContext,
    out: *mut *mut SsprChallenge,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { blocking(error_out, out, || begin_reset(engine, login, ctx)) }
}

/// `sspr_begin_reset` as a callback call; `result` is a `const SsprChallenge *`.
///
/// # Safety
/// As `sspr_begin_reset`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_begin_reset_async(
    engine: *const SsprEngine,
    login: *const c_char,
    ctx: *const SsprRequestContext,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { with_callback(error_out, callback, user_data, || begin_reset(engine, login, ctx)) }
}

unsafe fn send_pin(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    method_id: *const c_char,
    confirm: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::PinSent>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, flow_id, method_id, confirm, ctx) = unsafe {
        (
            engine_arg(engine)?,
            str_arg(flow_id, "flow_id")?.to_owned(),
            str_arg(method_id, "method_id")?.to_owned(),
            opt_str_arg(confirm, "confirm")?.map(str::to_owned),
            request_context(ctx)?,
        )
    };
    Ok(Box::pin(async move { sspr.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx).await }))
}

/// Send a PIN by `method_id` (`"email"`, `"sms"`). `confirm` is NULL, or the full address or
/// number when the method needs confirmation. On success `*out` is filled in. The PIN is
/// handed to the notifier in the background: `sspr_flush_deliveries` waits for it.
///
/// # Safety
/// As `sspr_begin_reset`; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_send_pin(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    method_id: *const c_char,
    confirm: *const c_char,
    ctx: *const SsprRequestContext,
    out: *mut SsprPinSent,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { blocking(error_out, out, || send_pin(engine, flow_id, method_id, confirm, ctx)) }
}

/// `sspr_send_pin` as a callback call; `result` is a `const SsprPinSent *`.
///
/// # Safety
/// As `sspr_send_pin`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_send_pin_async(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    method_id: *const c_char,
    confirm: *const c_char,
    ctx: *const SsprRequestContext,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { with_callback(error_out, callback, user_data, || send_pin(engine, flow_id, method_id, confirm, ctx)) }
}

unsafe fn verify_pin(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    pin: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::Verified>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, flow_id, pin, ctx) = unsafe {
        (
            engine_arg(engine)?,
            str_arg(flow_id, "flow_id")?.to_owned(),
            Zeroizing::new(str_arg(pin, "pin")?.to_owned()),
            request_context(ctx)?,
        )
    };
    Ok(Box::pin(async move { sspr.verify_pin(&flow_id, Pin::new(pin.as_str()), &ctx).await }))
}

/// Check the PIN the user typed. On success `*out` is an `SsprVerified` to free with
/// `sspr_verified_free`. A wrong PIN is `SSPR_STATUS_WRONG_PIN` (see
/// `sspr_error_attempts_left`).
///
/// # Safety
/// As `sspr_begin_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_verify_pin(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    pin: *const c_char,
    ctx: *const SsprRequestContext,
    out: *mut *mut SsprVerified,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { blocking(error_out, out, || verify_pin(engine, flow_id, pin, ctx)) }
}

/// `sspr_verify_pin` as a callback call; `result` is a `const SsprVerified *`.
///
/// # Safety
/// As `sspr_verify_pin`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_verify_pin_async(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    pin: *const c_char,
    ctx: *const SsprRequestContext,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { with_callback(error_out, callback, user_data, || verify_pin(engine, flow_id, pin, ctx)) }
}

/// An `SsprCompletionMode` value as the core's mode (the C form of the mode's name).
fn completion_mode(mode: u32) -> Result<CompletionMode, SsprError> {
    match mode {
        0 => Ok(CompletionMode::Temporary),
        1 => Ok(CompletionMode::Chosen),
        2 => Ok(CompletionMode::UnlockOnly),
        _ => Err(SsprError::invalid("mode", "not an SsprCompletionMode value")),
    }
}

unsafe fn complete_reset(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    mode: u32,
    chosen_password: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::ResetOutcome>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, flow_id, password, ctx) = unsafe {
        (
            engine_arg(engine)?,
            str_arg(flow_id, "flow_id")?.to_owned(),
            opt_str_arg(chosen_password, "chosen_password")?.map(Password::new),
            request_context(ctx)?,
        )
    };
    let new_password = NewPassword::from_mode(completion_mode(mode)?, password)?;
    Ok(Box::pin(async move { sspr.complete_reset(&flow_id, new_password, &ctx).await }))
}

/// Finish a verified reset in `mode` (an `SsprCompletionMode` value). `chosen_password` is
/// the new password in `SSPR_COMPLETION_MODE_CHOSEN`, and must be NULL in the other modes
/// (a password given there is refused, never silently dropped): either mistake is
/// `SSPR_STATUS_INVALID_INPUT` with field `"password"`. On success `*out` is an
/// `SsprResetOutcome` to free with `sspr_reset_outcome_free` (which wipes the temporary
/// password).
///
/// # Safety
/// As `sspr_begin_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_reset(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    mode: u32,
    chosen_password: *const c_char,
    ctx: *const SsprRequestContext,
    out: *mut *mut SsprResetOutcome,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { blocking(error_out, out, || complete_reset(engine, flow_id, mode, chosen_password, ctx)) }
}

/// `sspr_complete_reset` as a callback call; `result` is a `const SsprResetOutcome *`.
///
/// # Safety
/// As `sspr_complete_reset`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_reset_async(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    mode: u32,
    chosen_password: *const c_char,
    ctx: *const SsprRequestContext,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        with_callback(error_out, callback, user_data, || complete_reset(engine, flow_id, mode, chosen_password, ctx))
    }
}
