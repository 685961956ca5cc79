//! How every operation runs, once: its C arguments are read into an owned future
//! ([`OpFuture`]) by the operation's body, then [`blocking`] runs it on the calling thread and
//! writes the result to `out`, or [`with_callback`] runs it on the library's runtime and hands
//! the result to the caller's [`SsprCallback`]. Each `sspr_x` / `sspr_x_async` pair is those
//! two calls around one body, declared once with [`entry_points!`].

use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures::FutureExt;
use sspr_bind::runtime::{self, RuntimeError};

use super::super::types::{
    SsprChallenge, SsprContactProof, SsprContacts, SsprEnrollmentReport, SsprPasswordRules, SsprPinSent, SsprRecovered,
    SsprRecoveryCode, SsprRecoverySent, SsprReminderRun, SsprResetOutcome, SsprSignedIn, SsprUserStatus,
    SsprUserStatusList, SsprVerified,
};
use super::super::{SsprError, SsprStatus, call};

/// The callback of every `*_async` call: called exactly once, from a library thread.
/// `status` is the outcome; on success `result` points to the call's result (the type named
/// by the call, e.g. `const SsprChallenge *`; NULL for calls without one) and `error` is
/// NULL; on failure `result` is NULL and `error` holds the details. Both are borrowed for
/// the duration of the callback: copy what you keep. It runs on one of the library's two
/// threads: a blocking `sspr_*` call made in it fails at once with `SSPR_STATUS_WRONG_THREAD`
/// (it would wait for those threads); make the `_async` call instead.
pub type SsprCallback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, status: SsprStatus, result: *const c_void, error: *const SsprError),
>;

/// An operation with its arguments read: owned, so it can run on any thread.
pub(crate) type OpFuture<T> = Pin<Box<dyn Future<Output = Result<T, sspr_core::Error>> + Send + 'static>>;

/// What an operation gives back, in both of its C forms: written to the blocking call's
/// `out`, or lent to the callback and freed after it.
pub(crate) trait Output: Send + 'static {
    /// The blocking call's `out` argument (`()` for operations without a result).
    type Out: Copy;
    /// Whether `out` is missing where a result must go.
    fn is_null(out: Self::Out) -> bool;
    /// Hand the result to the caller through `out`.
    ///
    /// # Safety
    /// `out` is writable (not NULL: see [`Output::is_null`]).
    unsafe fn write(self, out: Self::Out);
    /// The result in its C form, for a callback (NULL for none).
    fn into_raw(self) -> *mut c_void;
    /// Free what [`Output::into_raw`] made.
    ///
    /// # Safety
    /// `ptr` came from `into_raw` of the same type.
    unsafe fn free_raw(ptr: *mut c_void);
}

/// Results handed out as boxed C structs: each core type, its C struct (made by the struct's
/// `new`) and the public `*_free` that frees it.
macro_rules! boxed_output {
    ($($rust:ty => $c:ident, $free:ident;)+) => {$(
        impl Output for $rust {
            type Out = *mut *mut $c;
            fn is_null(out: Self::Out) -> bool {
                out.is_null()
            }
            unsafe fn write(self, out: Self::Out) {
                // SAFETY: writable, per the trait's contract.
                unsafe { out.write(Box::into_raw(Box::new($c::new(self)))) };
            }
            fn into_raw(self) -> *mut c_void {
                Box::into_raw(Box::new($c::new(self))).cast::<c_void>()
            }
            unsafe fn free_raw(ptr: *mut c_void) {
                // SAFETY: made by `into_raw` above, per the trait's contract.
                unsafe { super::super::$free(ptr.cast::<$c>()) }
            }
        }
    )+};
}

boxed_output! {
    sspr_core::ResetChallenge => SsprChallenge, sspr_challenge_free;
    sspr_core::Verified => SsprVerified, sspr_verified_free;
    sspr_core::ResetOutcome => SsprResetOutcome, sspr_reset_outcome_free;
    sspr_core::ContactProof => SsprContactProof, sspr_contact_proof_free;
    sspr_core::RecoveryCode => SsprRecoveryCode, sspr_recovery_code_free;
    sspr_core::RecoverySent => SsprRecoverySent, sspr_recovery_sent_free;
    sspr_core::Recovered => SsprRecovered, sspr_recovered_free;
    sspr_core::Contacts => SsprContacts, sspr_contacts_free;
    sspr_core::EnrollmentReport => SsprEnrollmentReport, sspr_enrollment_report_free;
    sspr_core::ReminderRun => SsprReminderRun, sspr_reminder_run_free;
    sspr_core::UserStatus => SsprUserStatus, sspr_user_status_free;
    sspr_core::SignedIn => SsprSignedIn, sspr_signed_in_free;
    sspr_core::PasswordRules => SsprPasswordRules, sspr_password_rules_free;
    Vec<sspr_core::UserStatus> => SsprUserStatusList, sspr_user_status_list_free;
}

/// `SsprPinSent` is plain values: the blocking call fills the caller's struct.
impl Output for sspr_core::PinSent {
    type Out = *mut SsprPinSent;
    fn is_null(out: Self::Out) -> bool {
        out.is_null()
    }
    unsafe fn write(self, out: Self::Out) {
        // SAFETY: writable, per the trait's contract.
        unsafe { out.write(self.into()) };
    }
    fn into_raw(self) -> *mut c_void {
        Box::into_raw(Box::new(SsprPinSent::from(self))).cast::<c_void>()
    }
    unsafe fn free_raw(ptr: *mut c_void) {
        // SAFETY: made by `into_raw` above, per the trait's contract.
        drop(unsafe { Box::from_raw(ptr.cast::<SsprPinSent>()) });
    }
}

impl Output for () {
    type Out = ();
    fn is_null((): ()) -> bool {
        false
    }
    unsafe fn write(self, (): ()) {}
    fn into_raw(self) -> *mut c_void {
        std::ptr::null_mut()
    }
    unsafe fn free_raw(_: *mut c_void) {}
}

impl From<RuntimeError> for SsprError {
    fn from(error: RuntimeError) -> Self {
        SsprError::internal(error.to_string())
    }
}

/// Refuse to block one of the library's own threads (a callback of an `_async` call, or a
/// backend function run there): the call would wait for work only those threads do, and with
/// both of them waiting, for ever.
pub(crate) fn may_block() -> Result<(), SsprError> {
    if runtime::on_runtime_thread() { Err(SsprError::wrong_thread()) } else { Ok(()) }
}

/// The blocking form: read the arguments (`op`), run the operation on this thread until it
/// ends (inside the library's runtime: its timer pads the answer, the network stores run
/// there) and write the result to `out`. On one of the runtime's own threads it fails at once
/// ([`may_block`]).
///
/// # Safety
/// `error_out` is NULL or writable; `out` is NULL or writable; `op` may rely on the public
/// function's contract.
pub(crate) unsafe fn blocking<T: Output>(
    error_out: *mut *mut SsprError,
    out: T::Out,
    op: impl FnOnce() -> Result<OpFuture<T>, SsprError>,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        call(error_out, || {
            may_block()?;
            if T::is_null(out) {
                return Err(SsprError::null("out"));
            }
            let future = op()?;
            let runtime = runtime::handle()?;
            let value = runtime::block_on(runtime.guard(future))??;
            value.write(out);
            Ok(())
        })
    }
}

/// The caller's `user_data`, carried to the callback's thread.
struct UserData(*mut c_void);
// SAFETY: the C API documents that callbacks run on a library thread with `user_data`.
unsafe impl Send for UserData {}

/// The callback form: read the arguments (`op`) now, run the operation on the library's
/// runtime and report to `callback` exactly once. A failure to read the arguments is this
/// call's own status, and the callback is not called.
///
/// # Safety
/// `error_out` is NULL or writable; `op` may rely on the public function's contract;
/// `user_data` may be used from a library thread.
pub(crate) unsafe fn with_callback<T: Output>(
    error_out: *mut *mut SsprError,
    callback: SsprCallback,
    user_data: *mut c_void,
    op: impl FnOnce() -> Result<OpFuture<T>, SsprError>,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { call(error_out, || spawn(op()?, callback, user_data)) }
}

/// Run `op` on the library's runtime and report to `callback`.
fn spawn<T: Output>(op: OpFuture<T>, callback: SsprCallback, user_data: *mut c_void) -> Result<(), SsprError> {
    let callback = callback.ok_or_else(|| SsprError::null("callback"))?;
    let user_data = UserData(user_data);
    let runtime = runtime::handle()?;
    let op = runtime.guard(op);
    runtime.spawn(Box::pin(async move {
        let user_data = user_data;
        let outcome = AssertUnwindSafe(op).catch_unwind().await;
        let error = match outcome {
            Ok(Ok(Ok(value))) => {
                let raw = value.into_raw();
                // SAFETY: the caller's callback with its user data and a result valid for the call.
                unsafe { callback(user_data.0, SsprStatus::Ok, raw, std::ptr::null()) };
                // SAFETY: made by `into_raw` just above.
                unsafe { T::free_raw(raw) };
                return;
            }
            Ok(Ok(Err(e))) => SsprError::from(e),
            Ok(Err(e)) => SsprError::from(e),
            Err(_) => SsprError::panic(),
        };
        // SAFETY: the caller's callback with its user data and an error valid for the call.
        unsafe { callback(user_data.0, error.code, std::ptr::null(), &error) };
    }));
    Ok(())
}

/// An operation's future, its result type inferred from `future` (what an operation's body
/// in [`entry_points!`] returns inside `Ok`).
pub(crate) fn op<T, F>(future: F) -> OpFuture<T>
where
    F: Future<Output = Result<T, sspr_core::Error>> + Send + 'static,
{
    Box::pin(future)
}

/// One operation's two C entry points from one declaration: the blocking `$blocking` (its
/// result, if any, written to `out`) and the callback call `$callback_call` (the result lent to
/// `callback`), both reading their arguments with the operation's `$body` (which returns the
/// operation's future, made with [`op`], once every argument is read), with the documentation
/// of each. Both are plain `#[unsafe(no_mangle)] pub unsafe extern "C" fn` items once expanded;
/// the header is made from the expanded `capi` module (`scripts/ffi-header.sh`), since cbindgen
/// does not look inside macros. The body runs inside the entry point's `unsafe` block: it may
/// rely on the public function's contract, which the documentation's `# Safety` states.
///
/// Most operations use the shorter argument form: each argument as `name: kind` or
/// `name: kind("field")`, its C type given by [`c_type!`] and its value read, in order, by
/// `super::arg::kind` (which names `field` in an error), then `=> call;`, the core's future
/// from the arguments read (each under its own name). The block form stays for operations
/// whose arguments are read together (a struct, a list with its length).
macro_rules! entry_points {
    (
        $(#[doc = $doc:literal])*
        fn $blocking:ident / $callback_call:ident ( $($arg:ident : $kind:ident $(($field:literal))?),* $(,)? ) $(-> $out:ty)?
        => $call:expr;
        result: $result:literal;
    ) => {
        entry_points! {
            $(#[doc = $doc])*
            fn $blocking / $callback_call ( $($arg: c_type!($kind)),* ) $(-> $out)? {
                $(let $arg = $crate::capi::engine::arg::$kind($arg $(, $field)?)?;)*
                Ok($crate::capi::engine::call::op(async move { $call.await }))
            }
            result: $result;
        }
    };
    (
        $(#[doc = $doc:literal])*
        fn $blocking:ident / $callback_call:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $out:ty)?
        $body:block
        result: $result:literal;
    ) => {
        $(#[doc = $doc])*
        #[doc = ""]
        #[doc = " Blocks the calling thread until the operation ends; on one of the library's own threads"]
        #[doc = " (in an `_async` call's callback) it fails at once with `SSPR_STATUS_WRONG_THREAD`: use"]
        #[doc = concat!(" `", stringify!($callback_call), "` there.")]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $blocking(
            $($arg: $ty,)*
            $(out: $out,)?
            error_out: *mut *mut $crate::capi::SsprError,
        ) -> $crate::capi::SsprStatus {
            // SAFETY: forwarded contract.
            unsafe { $crate::capi::engine::call::blocking(error_out, entry_points!(@out out $($out)?), || $body) }
        }

        #[doc = concat!(" `", stringify!($blocking), "` as a callback call; `result` is ", $result, ".")]
        #[doc = ""]
        #[doc = " # Safety"]
        #[doc = concat!(" As `", stringify!($blocking), "`; `user_data` may be used from a library thread.")]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $callback_call(
            $($arg: $ty,)*
            callback: $crate::capi::engine::call::SsprCallback,
            user_data: *mut ::std::ffi::c_void,
            error_out: *mut *mut $crate::capi::SsprError,
        ) -> $crate::capi::SsprStatus {
            // SAFETY: forwarded contract.
            unsafe { $crate::capi::engine::call::with_callback(error_out, callback, user_data, || $body) }
        }
    };
    (@out $name:ident $out:ty) => { $name };
    (@out $name:ident) => { () };
}
pub(crate) use entry_points;

/// The C type of each argument kind of [`entry_points!`] (what `super::arg::kind` reads). The
/// names are the ones in scope where the operation is declared, so the expanded C API (and
/// the header made from it) spells them as the hand-written functions do.
macro_rules! c_type {
    (engine) => { *const SsprEngine };
    (actor) => { *const c_char };
    (text) => { *const c_char };
    (optional_text) => { *const c_char };
    (secret) => { *const c_char };
    (context) => { *const SsprRequestContext };
    (channel) => { u32 };
    (count) => { usize };
    (flag) => { bool };
}
pub(crate) use c_type;
