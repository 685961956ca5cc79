//! Signing in to the registration pages, and the administrators' search.

use std::ffi::{c_char, c_void};

use sspr_core::Password;

use super::super::types::{SsprRequestContext, SsprSignedIn, SsprUserStatusList, request_context};
use super::super::{SsprError, SsprStatus, str_arg};
use super::call::{OpFuture, SsprCallback, blocking, with_callback};
use super::{SsprEngine, engine_arg};

unsafe fn sign_in(
    engine: *const SsprEngine,
    login: *const c_char,
    password: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::SignedIn>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, login, password, ctx) = unsafe {
        (
            engine_arg(engine)?,
            str_arg(login, "login")?.to_owned(),
            Password::new(str_arg(password, "password")?),
            request_context(ctx)?,
        )
    };
    Ok(Box::pin(async move { sspr.sign_in(&login, &password, &ctx).await }))
}

/// Sign a user in to the registration pages with their own password (rate-limited; an
/// unknown login and a wrong password both give `SSPR_STATUS_SIGN_IN_FAILED`). On success
/// `*out` is an `SsprSignedIn` to free with `sspr_signed_in_free`.
///
/// # Safety
/// As `sspr_begin_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_sign_in(
    engine: *const SsprEngine,
    login: *const c_char,
    password: *const c_char,
    ctx: *const SsprRequestContext,
    out: *mut *mut SsprSignedIn,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { blocking(error_out, out, || sign_in(engine, login, password, ctx)) }
}

/// `sspr_sign_in` as a callback call; `result` is a `const SsprSignedIn *`.
///
/// # Safety
/// As `sspr_sign_in`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_sign_in_async(
    engine: *const SsprEngine,
    login: *const c_char,
    password: *const c_char,
    ctx: *const SsprRequestContext,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { with_callback(error_out, callback, user_data, || sign_in(engine, login, password, ctx)) }
}

unsafe fn search_users(
    engine: *const SsprEngine,
    query: *const c_char,
    limit: usize,
) -> Result<OpFuture<Vec<sspr_core::UserStatus>>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, query) = unsafe { (engine_arg(engine)?, str_arg(query, "query")?.to_owned()) };
    Ok(Box::pin(async move { sspr.search_users(&query, limit).await }))
}

/// Admin search: users whose login or display name contains `query`, at most `limit`
/// (capped by the engine). On success `*out` is an `SsprUserStatusList` to free with
/// `sspr_user_status_list_free`.
///
/// # Safety
/// As `sspr_begin_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_search_users(
    engine: *const SsprEngine,
    query: *const c_char,
    limit: usize,
    out: *mut *mut SsprUserStatusList,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { blocking(error_out, out, || search_users(engine, query, limit)) }
}

/// `sspr_search_users` as a callback call; `result` is a `const SsprUserStatusList *`.
///
/// # Safety
/// As `sspr_search_users`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_search_users_async(
    engine: *const SsprEngine,
    query: *const c_char,
    limit: usize,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { with_callback(error_out, callback, user_data, || search_users(engine, query, limit)) }
}
