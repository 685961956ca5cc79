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
//!   until it ends; made on one of the library's own threads (in a callback) they fail at
//!   once with `SSPR_STATUS_WRONG_THREAD` instead of waiting for themselves. **Callback calls** (`*_async`) return at once; the callback is then called
//!   exactly once, from a library thread, with the result and the error *borrowed* for the
//!   duration of the callback. If an `*_async` call itself returns an error status, the
//!   callback is not called.
//! - **Backends** are vtables of C functions with a `void *ctx`. Each function receives an
//!   `SsprCompletion *` which it must finish exactly once, with one of the `sspr_complete_*`
//!   calls, from any thread, before or after returning. Backend functions may be called from
//!   any thread, concurrently: `ctx` must be thread-safe. A backend must not call back into
//!   the engine from inside a vtable function. `release`, when set, is called once per vtable
//!   when the engine no longer needs its `ctx` (after `sspr_engine_free`, every call in
//!   flight ended and every completion handed to its functions finished, also one whose call
//!   the engine gave up: then inside the `sspr_complete_*` that finishes it): a `ctx` shared
//!   by several vtables is released once by each. A count passed with an array (`len`,
//!   `groups_len`, `hooks_len`...) over 100 000 is `SSPR_STATUS_INVALID_INPUT` naming it. Every
//!   `sspr_complete_*` given a non-NULL completion frees it, even when it returns an error (the
//!   backend call then fails with `SSPR_STATUS_BACKEND`, kind `REJECTED`).
//! - Callbacks must not unwind (no C++ exception may leave them).
//! - Times are seconds since the Unix epoch (UTC).

#![allow(unsafe_code)]

/// A C function that fails by status: `#[unsafe(no_mangle)] pub unsafe extern "C" fn` with the
/// parameters as declared and `error_out` last, returning an [`SsprStatus`], its body run by
/// [`call`] (errors to `*error_out`, a panic to `SSPR_STATUS_PANIC`). The body runs inside the
/// function's `unsafe` block: it may rely on the contract its `# Safety` documentation states.
/// (cbindgen reads the expanded module, see `scripts/ffi-header.sh`.)
macro_rules! status_fn {
    (
        $(#[doc = $doc:literal])*
        fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) $body:block
    ) => {
        $(#[doc = $doc])*
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(
            $($arg: $ty,)*
            error_out: *mut *mut $crate::capi::SsprError,
        ) -> $crate::capi::SsprStatus {
            // SAFETY: forwarded contract.
            unsafe { $crate::capi::call(error_out, || $body) }
        }
    };
}

#[cfg(test)]
mod attacks;
mod backends;
mod engine;
mod enums;
#[cfg(feature = "vectors")]
mod pure;
mod types;

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use sspr_core::Error;

pub use backends::*;
pub use engine::*;
pub use enums::*;
#[cfg(feature = "vectors")]
pub use pure::*;
pub use types::*;

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
    password_refusal: SsprPasswordRefusal,
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
            password_refusal: SsprPasswordRefusal::None,
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

    pub(crate) fn wrong_thread() -> Self {
        Self::new(
            SsprStatus::WrongThread,
            "a blocking sspr call was made on one of the library's own threads (inside an _async call's callback \
             or a backend function it ran), where it would wait for itself: use the _async variant there",
        )
    }

    pub(crate) fn panic() -> Self {
        Self::new(SsprStatus::Panic, "the sspr library panicked; the call had no reliable effect")
    }
}

impl From<Error> for SsprError {
    fn from(error: Error) -> Self {
        let code = SsprStatus::from_core_name(error.code()).unwrap_or(SsprStatus::Internal);
        let mut out = Self::new(code, error.to_string());
        match error {
            Error::InvalidInput { field, .. } => out = out.with_field(field),
            Error::WrongPin { attempts_left } => out.attempts_left = attempts_left,
            Error::RateLimited { retry_after } => out.retry_after_secs = retry_after.as_secs(),
            Error::Blocked { until } => out.blocked_until = until.unix_timestamp(),
            Error::NotAllowed { reason } => {
                out.not_allowed_reason =
                    SsprNotAllowedReason::from_core_name(reason.as_str()).unwrap_or(SsprNotAllowedReason::Other);
            }
            Error::Backend { source } => {
                out.backend_kind =
                    SsprBackendErrorKind::from_core_name(source.kind().as_str()).unwrap_or(SsprBackendErrorKind::Other);
            }
            Error::PasswordRejected { refusal, .. } => {
                out.password_refusal =
                    SsprPasswordRefusal::from_core_name(refusal.as_str()).unwrap_or(SsprPasswordRefusal::Other);
            }
            _ => {}
        }
        out
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

/// The most items a C array argument may have (users, groups, vtables, keys, key bytes): a
/// length over it is refused before the array is read. A count read from an `int` holding -1
/// (`ldap_count_entries` on an error) arrives as `SIZE_MAX`; read as given it aborted the
/// process (a debug build's check of `slice::from_raw_parts`) or read past the array.
pub(crate) const MAX_ITEMS: usize = 100_000;

/// `len` items at `ptr` (NULL allowed when `len` is 0): `NULL_ARGUMENT` for NULL with a
/// length, `INVALID_INPUT` naming `field` for a length over [`MAX_ITEMS`].
///
/// # Safety
/// `ptr` is NULL or points to `len` readable items that stay valid for `'a`.
pub(crate) unsafe fn slice_arg<'a, T>(ptr: *const T, len: usize, field: &'static str) -> Result<&'a [T], SsprError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(SsprError::null(field));
    }
    if len > MAX_ITEMS {
        return Err(SsprError::invalid(
            field,
            &format!("a length of {len}, over {MAX_ITEMS} (a negative count passed as size_t?)"),
        ));
    }
    // SAFETY: non-NULL, `len` readable items, per this function's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
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

/// For `PASSWORD_REJECTED`: which rule refused the password (`SSPR_PASSWORD_REFUSAL_NONE`
/// otherwise).
///
/// # Safety
/// `error` is NULL or an `SsprError` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_error_password_refusal(error: *const SsprError) -> SsprPasswordRefusal {
    // SAFETY: NULL or a live error, per this function's contract.
    unsafe { error.as_ref() }.map_or(SsprPasswordRefusal::None, |e| e.password_refusal)
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
