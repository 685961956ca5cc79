//! Signing in to the registration pages, and the administrators' search.

use std::ffi::c_char;

use sspr_core::Password;

use super::super::str_arg;
use super::super::types::{SsprRequestContext, SsprSignedIn, SsprUserStatusList, request_context};
use super::call::{entry_points, op};
use super::{SsprEngine, engine_arg};

entry_points! {
    /// Sign a user in to the registration pages with their own password (rate-limited; an
    /// unknown login and a wrong password both give `SSPR_STATUS_SIGN_IN_FAILED`). On success
    /// `*out` is an `SsprSignedIn` to free with `sspr_signed_in_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_sign_in / sspr_sign_in_async(
        engine: *const SsprEngine,
        login: *const c_char,
        password: *const c_char,
        ctx: *const SsprRequestContext,
    ) -> *mut *mut SsprSignedIn {
        let (sspr, login) = (engine_arg(engine)?, str_arg(login, "login")?.to_owned());
        let (password, ctx) = (Password::new(str_arg(password, "password")?), request_context(ctx)?);
        Ok(op(async move { sspr.sign_in(&login, &password, &ctx).await }))
    }
    result: "a `const SsprSignedIn *`";
}

entry_points! {
    /// Admin search: users whose login or display name contains `query`, at most `limit`
    /// (capped by the engine). On success `*out` is an `SsprUserStatusList` to free with
    /// `sspr_user_status_list_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_search_users / sspr_search_users_async(
        engine: *const SsprEngine,
        query: *const c_char,
        limit: usize,
    ) -> *mut *mut SsprUserStatusList {
        let (sspr, query) = (engine_arg(engine)?, str_arg(query, "query")?.to_owned());
        Ok(op(async move { sspr.search_users(&query, limit).await }))
    }
    result: "a `const SsprUserStatusList *`";
}
