//! Signing in to the registration pages, a user's own password change (checked like a
//! sign-in), and the administrators' search.

use std::ffi::c_char;

use sspr_core::Password;

use super::super::str_arg;
use super::super::types::{SsprPasswordRules, SsprRequestContext, SsprSignedIn, SsprUserStatusList, request_context};
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
    /// Change a user's password with the current one (the directory's history and minimum
    /// age apply). An unknown login, a wrong current password and an account the change does
    /// not serve all give `SSPR_STATUS_SIGN_IN_FAILED`, counted with `sspr_sign_in`'s
    /// failures; a refused new password gives `SSPR_STATUS_PASSWORD_REJECTED`, its rule read
    /// with `sspr_error_password_refusal`. No result.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_change_password / sspr_change_password_async(
        engine: *const SsprEngine,
        login: *const c_char,
        current: *const c_char,
        new_password: *const c_char,
        ctx: *const SsprRequestContext,
    ) {
        let (sspr, login) = (engine_arg(engine)?, str_arg(login, "login")?.to_owned());
        let current = Password::new(str_arg(current, "current")?);
        let new_password = Password::new(str_arg(new_password, "new_password")?);
        let ctx = request_context(ctx)?;
        Ok(op(async move { sspr.change_password(&login, &current, &new_password, &ctx).await }))
    }
    result: "NULL";
}

entry_points! {
    /// The rules a new password must meet, to show before the user types. On success `*out`
    /// is an `SsprPasswordRules` to free with `sspr_password_rules_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_password_rules / sspr_password_rules_async(
        engine: *const SsprEngine,
    ) -> *mut *mut SsprPasswordRules {
        let sspr = engine_arg(engine)?;
        Ok(op(async move { sspr.password_rules().await }))
    }
    result: "a `const SsprPasswordRules *`";
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
