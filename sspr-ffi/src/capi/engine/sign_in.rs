//! Signing in to the registration pages, a user's own password change (checked like a
//! sign-in), and the administrators' search.

use std::ffi::c_char;

use super::super::types::{SsprPasswordRules, SsprRequestContext, SsprSignedIn, SsprUserStatusList};
use super::SsprEngine;
use super::call::{c_type, entry_points};

entry_points! {
    /// Sign a user in with their own password: an administrator's sign-in (privileged
    /// accounts get in; for the pages where users manage their own contacts use
    /// `sspr_sign_in_self_service`). Rate-limited; an unknown login and a wrong password both
    /// give `SSPR_STATUS_SIGN_IN_FAILED`. On success `*out` is an `SsprSignedIn` to free with
    /// `sspr_signed_in_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_sign_in / sspr_sign_in_async(engine: engine, login: text("login"), password: secret("password"), ctx: context)
        -> *mut *mut SsprSignedIn
        => engine.sign_in(&login, &password, &ctx);
    result: "a `const SsprSignedIn *`";
}

entry_points! {
    /// `sspr_sign_in` for the pages where users manage their own contacts: a privileged,
    /// ineligible, disabled or expired account also gives `SSPR_STATUS_SIGN_IN_FAILED`,
    /// exactly like a wrong password and before it is checked.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_sign_in_self_service / sspr_sign_in_self_service_async(
        engine: engine,
        login: text("login"),
        password: secret("password"),
        ctx: context,
    ) -> *mut *mut SsprSignedIn
        => engine.sign_in_self_service(&login, &password, &ctx);
    result: "a `const SsprSignedIn *`";
}

entry_points! {
    /// Change a user's password with the current one (the directory's history and minimum
    /// age apply). An unknown login, a wrong current password and an account the change does
    /// not serve all give `SSPR_STATUS_SIGN_IN_FAILED`, counted with `sspr_sign_in`'s
    /// failures; a refused new password gives `SSPR_STATUS_PASSWORD_REJECTED`, its rule read
    /// with `sspr_error_password_refusal`. No result.
    ///
    /// The change is made by the directory's `SsprDirectoryVtable.change_password`. A
    /// directory without one (NULL): once the current password and the new one passed those
    /// checks, the call fails with `SSPR_STATUS_BACKEND`, kind
    /// `SSPR_BACKEND_ERROR_KIND_NOT_SUPPORTED`, and nothing is changed.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_change_password / sspr_change_password_async(
        engine: engine,
        login: text("login"),
        current: secret("current"),
        new_password: secret("new_password"),
        ctx: context,
    ) => engine.change_password(&login, &current, &new_password, &ctx);
    result: "NULL";
}

entry_points! {
    /// The rules a new password must meet, to show before the user types. On success `*out`
    /// is an `SsprPasswordRules` to free with `sspr_password_rules_free`. A C directory does
    /// not say its rules: only the policy's `min_length` is known, every other rule is -1.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_password_rules / sspr_password_rules_async(engine: engine) -> *mut *mut SsprPasswordRules
        => engine.password_rules();
    result: "a `const SsprPasswordRules *`";
}

entry_points! {
    /// Check now that the directory shows who is in the policy's `privileged_groups` (the
    /// engine checks before its first lookup anyway, and treats every user as privileged while
    /// it cannot). Call it at start-up to refuse to start on a directory that cannot: the
    /// error names the group and the access the service account lacks. A C directory has
    /// nothing to check.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_check_privileged_groups / sspr_check_privileged_groups_async(engine: engine)
        => engine.check_privileged_groups();
    result: "NULL";
}

entry_points! {
    /// Admin search: users whose login or display name contains `query`, at most `limit`
    /// (capped by the engine). On success `*out` is an `SsprUserStatusList` to free with
    /// `sspr_user_status_list_free`.
    ///
    /// # Safety
    /// As `sspr_begin_reset`.
    fn sspr_search_users / sspr_search_users_async(engine: engine, query: text("query"), limit: count)
        -> *mut *mut SsprUserStatusList
        => engine.search_users(&query, limit);
    result: "a `const SsprUserStatusList *`";
}
