//! The plain C API: `include/sspr.h` is generated from this module by cbindgen.
//!
//! # Rules (also in `sspr-ffi/README.md`)
//!
//! - **Handles.** `SsprEngine`, `SsprClock` and `SsprError` are opaque; each `*_new` (or the
//!   call that hands one out) pairs with one `*_free`. Freeing NULL does nothing.
//! - **Strings** are NUL-terminated UTF-8. Strings passed in are borrowed for the duration
//!   of the call. Result structs (`SsprChallenge`, `SsprVerified`, ...) are owned by the
//!   caller and freed with their `*_free`, which frees every string inside (and wipes a
//!   temporary password); `sspr_string_free` frees a lone string.
//! - **Status codes.** Every fallible call returns an [`SsprStatus`]; `SSPR_STATUS_OK` is 0.
//!   Pass an `SsprError **` to receive the details (message, field, attempts left...),
//!   or NULL if you only want the code. A NULL where a value is required is
//!   `SSPR_STATUS_NULL_ARGUMENT`, a string that is not UTF-8 `SSPR_STATUS_INVALID_UTF8`; a
//!   panic inside the library is caught and reported as `SSPR_STATUS_PANIC`, never unwound
//!   into C.
//! - **Blocking calls** (`sspr_begin_reset`, ...) run the operation on the calling thread
//!   until it ends. **Callback calls** (`*_async`) return at once; the callback is then called
//!   exactly once, from a library thread, with the result and the error *borrowed* for the
//!   duration of the callback. If an `*_async` call itself returns an error status, the
//!   callback is not called.
//! - **Backends** are vtables of C functions with a `void *ctx`. Each function receives an
//!   `SsprCompletion *` which it must finish exactly once, with one of the `sspr_complete_*`
//!   calls, from any thread, before or after returning. Backend functions may be called from
//!   any thread, concurrently: `ctx` must be thread-safe. A backend must not call back into
//!   the engine from inside a vtable function. `release`, when set, is called once when the
//!   engine no longer needs `ctx` (after `sspr_engine_free` and every call in flight ended).
//! - Callbacks must not unwind (no C++ exception may leave them).
//! - Times are seconds since the Unix epoch (UTC).

#![allow(unsafe_code)]

mod backends;
mod engine;
#[cfg(feature = "vectors")]
mod pure;
mod types;

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use sspr_core::{BackendErrorKind, Error, NotAllowedReason};

pub use backends::*;
pub use engine::*;
#[cfg(feature = "vectors")]
pub use pure::*;
pub use types::*;

/// The outcome of a call. 0 is success; every other value names what went wrong.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsprStatus {
    /// Success.
    Ok = 0,
    /// Input sspr does not accept (see `sspr_error_field`). Nothing was changed.
    InvalidInput = 1,
    /// Wrong PIN; `sspr_error_attempts_left` more tries remain.
    WrongPin = 2,
    /// The PIN is void after too many wrong tries: start a new reset.
    PinVoided = 3,
    /// The flow or its PIN expired (or the flow id is unknown).
    Expired = 4,
    /// The flow or its PIN was already used.
    AlreadyUsed = 5,
    /// The step is not possible now (see the message).
    InvalidState = 6,
    /// Too many requests; see `sspr_error_retry_after_secs`.
    RateLimited = 7,
    /// Self-service reset is blocked until `sspr_error_blocked_until`.
    Blocked = 8,
    /// The policy does not permit this (see `sspr_error_not_allowed_reason`).
    NotAllowed = 9,
    /// A chosen password was refused.
    PasswordRejected = 10,
    /// An admin or registration call named a user the directory does not have.
    UnknownUser = 11,
    /// The engine is configured wrongly (policy out of range, short key...).
    Config = 12,
    /// A backend failed (see `sspr_error_backend_kind`); the call can be retried.
    Backend = 13,
    /// A sign-in failed: unknown login, wrong password or an account that may not sign in
    /// (one answer for all, so sign-in does not reveal accounts).
    SignInFailed = 14,
    /// A required pointer argument was NULL (see `sspr_error_field`).
    NullArgument = 100,
    /// A string argument was not valid UTF-8 (see `sspr_error_field`).
    InvalidUtf8 = 101,
    /// The library panicked; the call had no effect that can be relied on.
    Panic = 102,
    /// A failure of the library itself (no thread could be started, ...).
    Internal = 103,
}

/// Why the policy refused a request (`sspr_error_not_allowed_reason`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsprNotAllowedReason {
    /// Not a `SSPR_STATUS_NOT_ALLOWED` error.
    None = 0,
    /// A member of a privileged group.
    Privileged = 1,
    /// Outside the eligible OUs / groups.
    Ineligible = 2,
    /// SSPR is not enabled for the user.
    NotEnabled = 3,
    /// The account is disabled.
    AccountDisabled = 4,
    /// The completion mode is switched off.
    ModeDisabled = 5,
    /// Only an administrator may do this.
    AdminOnly = 6,
    /// A reason this version of the header does not name.
    Other = 99,
}

/// What kind of failure a backend had: what a backend reports with `sspr_complete_error`,
/// and what `sspr_error_backend_kind` tells.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsprBackendErrorKind {
    /// Not a backend error.
    None = 0,
    /// Unreachable or timed out; retrying later may work.
    Unavailable = 1,
    /// The directory's own policy refused the password.
    PasswordRejected = 2,
    /// The backend refused the request as malformed or unsupported.
    Rejected = 3,
    /// Anything else.
    Other = 4,
}

/// The details of a failed call. Opaque: read it with the `sspr_error_*` accessors and free
/// it with `sspr_error_free`. Never holds a PIN or a password.
pub struct SsprError {
    code: SsprStatus,
    message: CString,
    field: Option<CString>,
    attempts_left: u32,
    retry_after_secs: u64,
    blocked_until: i64,
    not_allowed_reason: SsprNotAllowedReason,
    backend_kind: SsprBackendErrorKind,
}

impl SsprError {
    fn new(code: SsprStatus, message: impl Into<String>) -> Self {
        Self {
            code,
            message: c_string(message.into()),
            field: None,
            attempts_left: 0,
            retry_after_secs: 0,
            blocked_until: 0,
            not_allowed_reason: SsprNotAllowedReason::None,
            backend_kind: SsprBackendErrorKind::None,
        }
    }

    fn with_field(mut self, field: &str) -> Self {
        self.field = Some(c_string(field.to_owned()));
        self
    }

    pub(crate) fn null(field: &'static str) -> Self {
        Self::new(SsprStatus::NullArgument, format!("`{field}` must not be NULL")).with_field(field)
    }

    pub(crate) fn utf8(field: &'static str) -> Self {
        Self::new(SsprStatus::InvalidUtf8, format!("`{field}` is not valid UTF-8")).with_field(field)
    }

    pub(crate) fn invalid(field: &'static str, reason: &str) -> Self {
        Self::new(SsprStatus::InvalidInput, format!("invalid {field}: {reason}")).with_field(field)
    }

    pub(crate) fn internal(message: String) -> Self {
        Self::new(SsprStatus::Internal, message)
    }

    pub(crate) fn panic() -> Self {
        Self::new(SsprStatus::Panic, "the sspr library panicked; the call had no reliable effect")
    }
}

impl From<Error> for SsprError {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::InvalidInput { field, .. } => Self::new(SsprStatus::InvalidInput, message).with_field(field),
            Error::WrongPin { attempts_left } => Self { attempts_left, ..Self::new(SsprStatus::WrongPin, message) },
            Error::PinVoided => Self::new(SsprStatus::PinVoided, message),
            Error::Expired => Self::new(SsprStatus::Expired, message),
            Error::AlreadyUsed => Self::new(SsprStatus::AlreadyUsed, message),
            Error::InvalidState { .. } => Self::new(SsprStatus::InvalidState, message),
            Error::RateLimited { retry_after } => {
                Self { retry_after_secs: retry_after.as_secs(), ..Self::new(SsprStatus::RateLimited, message) }
            }
            Error::Blocked { until } => {
                Self { blocked_until: until.unix_timestamp(), ..Self::new(SsprStatus::Blocked, message) }
            }
            Error::NotAllowed { reason } => Self {
                not_allowed_reason: match reason {
                    NotAllowedReason::Privileged => SsprNotAllowedReason::Privileged,
                    NotAllowedReason::Ineligible => SsprNotAllowedReason::Ineligible,
                    NotAllowedReason::NotEnabled => SsprNotAllowedReason::NotEnabled,
                    NotAllowedReason::AccountDisabled => SsprNotAllowedReason::AccountDisabled,
                    NotAllowedReason::ModeDisabled => SsprNotAllowedReason::ModeDisabled,
                    NotAllowedReason::AdminOnly => SsprNotAllowedReason::AdminOnly,
                    _ => SsprNotAllowedReason::Other,
                },
                ..Self::new(SsprStatus::NotAllowed, message)
            },
            Error::PasswordRejected { .. } => Self::new(SsprStatus::PasswordRejected, message),
            Error::UnknownUser => Self::new(SsprStatus::UnknownUser, message),
            Error::SignInFailed => Self::new(SsprStatus::SignInFailed, message),
            Error::Config(_) => Self::new(SsprStatus::Config, message),
            Error::Backend { source } => Self {
                backend_kind: match source.kind() {
                    BackendErrorKind::Unavailable => SsprBackendErrorKind::Unavailable,
                    BackendErrorKind::PasswordRejected => SsprBackendErrorKind::PasswordRejected,
                    BackendErrorKind::Rejected => SsprBackendErrorKind::Rejected,
                    _ => SsprBackendErrorKind::Other,
                },
                ..Self::new(SsprStatus::Backend, message)
            },
            _ => Self::new(SsprStatus::Internal, message),
        }
    }
}

/// A C string from Rust text; an interior NUL (never produced by sspr itself) becomes U+FFFD.
pub(crate) fn c_string(text: String) -> CString {
    CString::new(text).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{FFFD}");
        CString::new(text).unwrap_or_default()
    })
}

/// A C string handed to the caller (freed by the owner struct's `*_free` or `sspr_string_free`).
pub(crate) fn raw_string(text: impl Into<String>) -> *mut c_char {
    c_string(text.into()).into_raw()
}

/// A C string handed to the caller, or NULL.
pub(crate) fn raw_opt_string(text: Option<impl Into<String>>) -> *mut c_char {
    text.map_or(std::ptr::null_mut(), raw_string)
}

/// Take back and free a string from [`raw_string`], wiping it first when it held a secret.
///
/// # Safety
/// `ptr` is NULL or came from [`raw_string`] and was not freed yet.
pub(crate) unsafe fn free_string(ptr: *mut c_char, wipe: bool) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: per this function's contract, `ptr` came from `CString::into_raw`.
    let owned = unsafe { CString::from_raw(ptr) };
    if wipe {
        zeroize::Zeroize::zeroize(&mut owned.into_bytes());
    }
}

/// A required string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, field: &'static str) -> Result<&'a str, SsprError> {
    if ptr.is_null() {
        return Err(SsprError::null(field));
    }
    // SAFETY: non-NULL, and NUL-terminated and alive per this function's contract.
    unsafe { CStr::from_ptr(ptr) }.to_str().map_err(|_| SsprError::utf8(field))
}

/// An optional string argument (NULL means none).
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(ptr: *const c_char, field: &'static str) -> Result<Option<&'a str>, SsprError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { str_arg(ptr, field) }.map(Some)
}

/// Hand `error` to the caller through `error_out` (if not NULL) and return its code.
///
/// # Safety
/// `error_out` is NULL or valid for writing one pointer.
pub(crate) unsafe fn report(error_out: *mut *mut SsprError, error: SsprError) -> SsprStatus {
    let code = error.code;
    if !error_out.is_null() {
        // SAFETY: non-NULL and writable per this function's contract.
        unsafe { error_out.write(Box::into_raw(Box::new(error))) };
    }
    code
}

/// Run `body`, turning its error into a status (and `*error_out`) and a panic into
/// `SSPR_STATUS_PANIC`. `error_out` is set to NULL first when it is not NULL.
///
/// # Safety
/// `error_out` is NULL or valid for writing one pointer.
pub(crate) unsafe fn call(error_out: *mut *mut SsprError, body: impl FnOnce() -> Result<(), SsprError>) -> SsprStatus {
    if !error_out.is_null() {
        // SAFETY: non-NULL and writable per this function's contract.
        unsafe { error_out.write(std::ptr::null_mut()) };
    }
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| Err(SsprError::panic()));
    match outcome {
        Ok(()) => SsprStatus::Ok,
        // SAFETY: forwarded contract.
        Err(error) => unsafe { report(error_out, error) },
    }
}

/// Run `body` returning a plain value, or `fallback` if it panics.
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The status code of an error (`SSPR_STATUS_INTERNAL` for NULL).
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_code(error: *const SsprError) -> SsprStatus {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.map_or(SsprStatus::Internal, |e| e.code)
}

/// The error's message: UTF-8, no secrets, borrowed until `sspr_error_free` (never NULL
/// for a non-NULL error).
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_message(error: *const SsprError) -> *const c_char {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.map_or(c"no error".as_ptr(), |e| e.message.as_ptr())
}

/// The argument or field an `INVALID_INPUT`, `NULL_ARGUMENT` or `INVALID_UTF8` error names
/// (`"login"`, `"pin"`...), borrowed until `sspr_error_free`; NULL for other errors.
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_field(error: *const SsprError) -> *const c_char {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.and_then(|e| e.field.as_ref()).map_or(std::ptr::null(), |f| f.as_ptr())
}

/// For `WRONG_PIN`: the tries left for this PIN (0 otherwise).
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_attempts_left(error: *const SsprError) -> u32 {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.map_or(0, |e| e.attempts_left)
}

/// For `RATE_LIMITED`: seconds to wait (0 otherwise).
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_retry_after_secs(error: *const SsprError) -> u64 {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.map_or(0, |e| e.retry_after_secs)
}

/// For `BLOCKED`: when the block ends, Unix seconds (0 otherwise).
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_blocked_until(error: *const SsprError) -> i64 {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.map_or(0, |e| e.blocked_until)
}

/// For `NOT_ALLOWED`: which rule refused (`SSPR_NOT_ALLOWED_REASON_NONE` otherwise).
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_not_allowed_reason(error: *const SsprError) -> SsprNotAllowedReason {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.map_or(SsprNotAllowedReason::None, |e| e.not_allowed_reason)
}

/// For `BACKEND`: the kind of backend failure (`SSPR_BACKEND_ERROR_KIND_NONE` otherwise).
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_backend_kind(error: *const SsprError) -> SsprBackendErrorKind {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.map_or(SsprBackendErrorKind::None, |e| e.backend_kind)
}

/// Free an error (NULL is allowed).
///
/// # Safety
/// `error` is NULL or an `SsprError` handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_free(error: *mut SsprError) {
    if !error.is_null() {
        // SAFETY: handed out by `Box::into_raw` in `report`, per this function's contract.
        drop(unsafe { Box::from_raw(error) });
    }
}

/// Free a string this library handed out on its own (NULL is allowed). The bytes are wiped
/// first.
///
/// # Safety
/// `string` is NULL or a string handed out by this library as "free with
/// `sspr_string_free`", not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_string_free(string: *mut c_char) {
    // SAFETY: per this function's contract.
    unsafe { free_string(string, true) }
}

/// The library's version, e.g. `"0.1.0"` (static, never freed).
#[unsafe(no_mangle)]
pub extern "C" fn sspr_version() -> *const c_char {
    static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };
    VERSION.as_ptr()
}
