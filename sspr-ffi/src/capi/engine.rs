//! The engine handle, its clock, and the operations: each as a blocking call and as a
//! callback call (`*_async`).

use std::ffi::{c_char, c_void};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use sspr_core::{Actor, ContactChange, ContactUpdate, ManualClock, NewPassword, Password, Policy, SecretKey, Sspr};
use time::OffsetDateTime;

use super::backends::{
    CAudit, CContactStore, CDirectory, CNotifier, SsprAuditVtable, SsprContactStoreVtable, SsprDirectoryVtable,
    SsprNotifierVtable, take_ctx,
};
use super::types::{
    SsprChallenge, SsprContacts, SsprPinSent, SsprRequestContext, SsprResetOutcome, SsprSignedIn, SsprUserStatus,
    SsprUserStatusList, SsprVerified, request_context,
};
use super::{SsprError, SsprStatus, call, guard, opt_str_arg, str_arg};
use crate::runtime::{self, ProcessSpawner, ProcessTimer, RuntimeError};
use crate::shared;

/// A reset engine. Opaque; create with `sspr_engine_new`, free with `sspr_engine_free`.
/// One engine serves every thread at once.
pub struct SsprEngine {
    sspr: Sspr,
}

/// A clock that stands still until moved (tests, demos). Opaque; create with
/// `sspr_clock_new`, free with `sspr_clock_free` (an engine keeps its own reference).
pub struct SsprClock {
    clock: ManualClock,
}

/// Everything `sspr_engine_new` needs. Borrowed for the duration of the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprEngineOptions {
    /// The server's secret key: 32 to 1024 random bytes, the same on every instance.
    pub secret_key: *const u8,
    /// Its length in bytes.
    pub secret_key_len: usize,
    /// The policy as JSON (missing fields take their defaults), or NULL for the defaults.
    pub policy_json: *const c_char,
    /// NULL, or 32 bytes seeding the PIN generator (tests and test vectors only: a fixed
    /// seed makes PINs predictable). NULL seeds it from the operating system.
    pub rng_seed: *const u8,
    /// NULL for the system clock, or a manual clock (tests).
    pub clock: *const SsprClock,
    /// The directory (required).
    pub directory: SsprDirectoryVtable,
    /// The notifier (required).
    pub notifier: SsprNotifierVtable,
    /// NULL to keep enrollments in memory, or a contact store.
    pub contacts: *const SsprContactStoreVtable,
    /// NULL to keep flows, rate-limit counters and blocks in this process's memory, or a
    /// built-in state store shared by every process, as JSON:
    /// `{"sqlite": {"path": "/var/lib/sspr/state.db"}}` (processes on one host),
    /// `{"redis": {"url": "redis://host:6379/0"}}` or
    /// `{"postgres": {"url": "postgres://user:pw@host/db?sslmode=verify-full", "ca_file": "..."}}`
    /// (other fields as in sspr-backends' configurations). With several processes and no
    /// shared store each counts on its own: N processes allow N times the PIN guesses.
    /// A network store is connected now; `sspr_engine_new` fails if it cannot be reached.
    pub state_store_json: *const c_char,
    /// NULL, or a function receiving every audit event as JSON.
    pub audit: *const SsprAuditVtable,
    /// NULL, or a file every audit event is appended to as one JSON line (created if
    /// missing; several processes may share it). With neither `audit` nor `audit_file`
    /// the engine keeps the newest 10 000 events in memory only.
    pub audit_file: *const c_char,
}

/// Build an engine. From this call on the engine owns each backend's `ctx`: `release` is
/// called once for each, also when this call fails (unless `options` is NULL).
///
/// # Safety
/// `options` is NULL or valid, with the pointers it holds NULL or valid as documented;
/// `engine_out` is NULL or writable; `error_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_engine_new(
    options: *const SsprEngineOptions,
    engine_out: *mut *mut SsprEngine,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        call(error_out, || {
            let o = options.as_ref().ok_or_else(|| SsprError::null("options"))?;
            // Take every ctx first, so that each is released whatever fails below.
            let directory_ctx = take_ctx(o.directory.ctx, o.directory.release);
            let notifier_ctx = take_ctx(o.notifier.ctx, o.notifier.release);
            let contacts = o.contacts.as_ref().map(|c| (take_ctx(c.ctx, c.release), c));
            let audit = o.audit.as_ref().map(|a| (take_ctx(a.ctx, a.release), a));
            if engine_out.is_null() {
                return Err(SsprError::null("engine_out"));
            }
            let mut builder = Sspr::builder()
                .directory(CDirectory::new(directory_ctx, &o.directory)?)
                .notifier(CNotifier::new(notifier_ctx, &o.notifier)?);
            if let Some((ctx, vtable)) = contacts {
                builder = builder.contacts(CContactStore::new(ctx, vtable)?);
            }
            if o.secret_key.is_null() {
                return Err(SsprError::null("secret_key"));
            }
            let key = std::slice::from_raw_parts(o.secret_key, o.secret_key_len);
            builder = builder.secret_key(SecretKey::from_bytes(key)?);
            if let Some(json) = opt_str_arg(o.policy_json, "policy_json")? {
                builder = builder.policy(Policy::from_json(json)?);
            }
            if !o.rng_seed.is_null() {
                let mut seed = [0u8; 32];
                seed.copy_from_slice(std::slice::from_raw_parts(o.rng_seed, 32));
                builder = builder.rng_seed(seed);
            }
            builder = match o.clock.as_ref() {
                Some(clock) => builder.clock(clock.clock.clone()).timer(clock.clock.clone()),
                None => builder.timer(ProcessTimer),
            };
            builder = builder.spawner(ProcessSpawner);
            let mut sinks: Vec<Arc<dyn sspr_core::AuditSink>> = Vec::new();
            if let Some((ctx, vtable)) = audit {
                sinks.push(Arc::new(CAudit::new(ctx, vtable)?));
            }
            if let Some(path) = opt_str_arg(o.audit_file, "audit_file")? {
                sinks.push(Arc::new(shared::open_audit_file(path)?));
            }
            if !sinks.is_empty() {
                builder = builder.audit(shared::AuditSinks(sinks));
            }
            if let Some(json) = opt_str_arg(o.state_store_json, "state_store_json")? {
                let config = shared::parse_store(json)?;
                let runtime = runtime::handle()?;
                builder = builder.store_arc(shared::open_store(config, &runtime)?);
            }
            let engine = Box::new(SsprEngine { sspr: builder.build()? });
            engine_out.write(Box::into_raw(engine));
            Ok(())
        })
    }
}

/// Free an engine (NULL is allowed). Calls still in flight keep what they need; each
/// backend's `release` runs once the last of them ended.
///
/// # Safety
/// `engine` is NULL or from `sspr_engine_new`, not yet freed, and no other thread uses it
/// during or after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_engine_free(engine: *mut SsprEngine) {
    if !engine.is_null() {
        // SAFETY: from `Box::into_raw` in `sspr_engine_new`, per this function's contract.
        guard((), || drop(unsafe { Box::from_raw(engine) }));
    }
}

/// Stop the library's runtime (its two threads drive the callback calls, the timer padding
/// answers to `min_response_ms`, background deliveries and the network stores) and wait for
/// its threads to end. Call it before the program exits, once every engine is freed and no
/// call is in flight (so that leak checkers see no thread left running): a callback call
/// still in flight is abandoned (its callback is never called), a blocking call waiting out
/// its padding fails with `SSPR_STATUS_INTERNAL` (never answers early), and an engine with
/// a Redis or PostgreSQL store loses its connections. A later call starts a new runtime.
/// Called from inside a callback it does nothing (a thread cannot wait for itself).
#[unsafe(no_mangle)]
pub extern "C" fn sspr_shutdown() {
    guard((), runtime::shutdown);
}

/// A manual clock showing `unix_seconds` (NULL if that time cannot be represented).
#[unsafe(no_mangle)]
pub extern "C" fn sspr_clock_new(unix_seconds: i64) -> *mut SsprClock {
    guard(std::ptr::null_mut(), || match OffsetDateTime::from_unix_timestamp(unix_seconds) {
        Ok(start) => Box::into_raw(Box::new(SsprClock { clock: ManualClock::new(start) })),
        Err(_) => std::ptr::null_mut(),
    })
}

/// Move a manual clock forward by `seconds`.
///
/// # Safety
/// `clock` is NULL or from `sspr_clock_new` and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_clock_advance(clock: *const SsprClock, seconds: u64) -> SsprStatus {
    // SAFETY: NULL or live, per this function's contract.
    let Some(clock) = (unsafe { clock.as_ref() }) else { return SsprStatus::NullArgument };
    guard(SsprStatus::Panic, || {
        clock.clock.advance(Duration::from_secs(seconds));
        SsprStatus::Ok
    })
}

/// Free a manual clock (NULL is allowed); engines using it keep their own reference.
///
/// # Safety
/// `clock` is NULL or from `sspr_clock_new` and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_clock_free(clock: *mut SsprClock) {
    if !clock.is_null() {
        // SAFETY: from `Box::into_raw` in `sspr_clock_new`, per this function's contract.
        drop(unsafe { Box::from_raw(clock) });
    }
}

/// The callback of every `*_async` call: called exactly once, from a library thread.
/// `status` is the outcome; on success `result` points to the call's result (the type named
/// by the call, e.g. `const SsprChallenge *`; NULL for calls without one) and `error` is
/// NULL; on failure `result` is NULL and `error` holds the details. Both are borrowed for
/// the duration of the callback: copy what you keep.
pub type SsprCallback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, status: SsprStatus, result: *const c_void, error: *const SsprError),
>;

type OpFuture<T> = Pin<Box<dyn Future<Output = Result<T, sspr_core::Error>> + Send + 'static>>;

/// A result handed to a callback: made into its C form, then freed after the callback.
trait Output: Send + 'static {
    fn into_raw(self) -> *mut c_void;
    /// # Safety
    /// `ptr` came from `into_raw` of the same type.
    unsafe fn free_raw(ptr: *mut c_void);
}

macro_rules! boxed_output {
    ($rust:ty, $c:ty, $make:expr, $free:path) => {
        impl Output for $rust {
            fn into_raw(self) -> *mut c_void {
                Box::into_raw(Box::new($make(self))).cast::<c_void>()
            }
            unsafe fn free_raw(ptr: *mut c_void) {
                // SAFETY: made by `into_raw` above, per the trait's contract.
                unsafe { $free(ptr.cast::<$c>()) }
            }
        }
    };
}

boxed_output!(sspr_core::ResetChallenge, SsprChallenge, SsprChallenge::new, super::sspr_challenge_free);
boxed_output!(sspr_core::Verified, SsprVerified, SsprVerified::new, super::sspr_verified_free);
boxed_output!(sspr_core::ResetOutcome, SsprResetOutcome, SsprResetOutcome::new, super::sspr_reset_outcome_free);
boxed_output!(sspr_core::Contacts, SsprContacts, SsprContacts::new, super::sspr_contacts_free);
boxed_output!(sspr_core::UserStatus, SsprUserStatus, SsprUserStatus::new, super::sspr_user_status_free);

boxed_output!(sspr_core::SignedIn, SsprSignedIn, SsprSignedIn::new, super::sspr_signed_in_free);
boxed_output!(
    Vec<sspr_core::UserStatus>,
    SsprUserStatusList,
    SsprUserStatusList::new,
    super::sspr_user_status_list_free
);

unsafe fn drop_pin_sent(ptr: *mut SsprPinSent) {
    // SAFETY: made by `Box::into_raw` in `into_raw`.
    drop(unsafe { Box::from_raw(ptr) });
}
boxed_output!(sspr_core::PinSent, SsprPinSent, SsprPinSent::from, drop_pin_sent);

impl Output for () {
    fn into_raw(self) -> *mut c_void {
        std::ptr::null_mut()
    }
    unsafe fn free_raw(_: *mut c_void) {}
}

/// The caller's `user_data`, carried to the callback's thread.
struct UserData(*mut c_void);
// SAFETY: the C API documents that callbacks run on a library thread with `user_data`.
unsafe impl Send for UserData {}

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

/// Run `op` on this thread until it ends (inside the library's runtime: its timer pads the
/// answer, the network stores run there).
fn block<T>(op: OpFuture<T>) -> Result<T, SsprError> {
    let runtime = runtime::handle()?;
    Ok(runtime::block_on(runtime.guard(op))??)
}

impl From<RuntimeError> for SsprError {
    fn from(error: RuntimeError) -> Self {
        SsprError::internal(error.to_string())
    }
}

/// Write a boxed C result to `out`.
///
/// # Safety
/// `out` is writable.
unsafe fn put<C>(out: *mut *mut C, value: C) {
    // SAFETY: per this function's contract.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
}

/// # Safety
/// `engine` is NULL or a live engine.
unsafe fn engine_ref<'a>(engine: *const SsprEngine) -> Result<&'a Sspr, SsprError> {
    // SAFETY: per this function's contract.
    unsafe { engine.as_ref() }.map(|e| &e.sspr).ok_or_else(|| SsprError::null("engine"))
}

fn need_out<T>(out: *mut T) -> Result<(), SsprError> {
    if out.is_null() { Err(SsprError::null("out")) } else { Ok(()) }
}

fn actor(admin_id: Option<&str>) -> Actor {
    admin_id.map_or(Actor::User, |id| Actor::Admin(id.to_owned()))
}

// ---------------------------------------------------------------------------------------
// Each operation: `*_op` reads the C arguments into an owned future; the blocking and the
// callback function run it.

unsafe fn begin_reset_op(
    engine: *const SsprEngine,
    login: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::ResetChallenge>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, login, ctx) =
        unsafe { (engine_ref(engine)?.clone(), str_arg(login, "login")?.to_owned(), request_context(ctx)?) };
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
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(begin_reset_op(engine, login, ctx)?)?;
            put(out, SsprChallenge::new(value));
            Ok(())
        })
    }
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
    unsafe { call(error_out, || spawn(begin_reset_op(engine, login, ctx)?, callback, user_data)) }
}

unsafe fn send_pin_op(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    method_id: *const c_char,
    confirm: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::PinSent>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, flow_id, method_id, confirm, ctx) = unsafe {
        (
            engine_ref(engine)?.clone(),
            str_arg(flow_id, "flow_id")?.to_owned(),
            str_arg(method_id, "method_id")?.to_owned(),
            opt_str_arg(confirm, "confirm")?.map(str::to_owned),
            request_context(ctx)?,
        )
    };
    Ok(Box::pin(async move { sspr.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx).await }))
}

/// Send a PIN by `method_id` (`"email"`, `"sms"`). `confirm` is NULL, or the full address or
/// number when the method needs confirmation. On success `*out` is filled in.
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
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(send_pin_op(engine, flow_id, method_id, confirm, ctx)?)?;
            out.write(value.into());
            Ok(())
        })
    }
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
    unsafe { call(error_out, || spawn(send_pin_op(engine, flow_id, method_id, confirm, ctx)?, callback, user_data)) }
}

unsafe fn verify_pin_op(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    pin: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::Verified>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, flow_id, pin, ctx) = unsafe {
        (
            engine_ref(engine)?.clone(),
            str_arg(flow_id, "flow_id")?.to_owned(),
            zeroize::Zeroizing::new(str_arg(pin, "pin")?.to_owned()),
            request_context(ctx)?,
        )
    };
    Ok(Box::pin(async move { sspr.verify_pin(&flow_id, sspr_core::Pin::new(pin.as_str()), &ctx).await }))
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
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(verify_pin_op(engine, flow_id, pin, ctx)?)?;
            put(out, SsprVerified::new(value));
            Ok(())
        })
    }
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
    unsafe { call(error_out, || spawn(verify_pin_op(engine, flow_id, pin, ctx)?, callback, user_data)) }
}

unsafe fn complete_reset_op(
    engine: *const SsprEngine,
    flow_id: *const c_char,
    mode: u32,
    chosen_password: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::ResetOutcome>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, flow_id, ctx) =
        unsafe { (engine_ref(engine)?.clone(), str_arg(flow_id, "flow_id")?.to_owned(), request_context(ctx)?) };
    let new_password = match mode {
        0 => NewPassword::Temporary,
        // SAFETY: forwarded contract.
        1 => NewPassword::Chosen(Password::new(unsafe { str_arg(chosen_password, "chosen_password") }?)),
        2 => NewPassword::UnlockOnly,
        _ => return Err(SsprError::invalid("mode", "not an SsprCompletionMode value")),
    };
    Ok(Box::pin(async move { sspr.complete_reset(&flow_id, new_password, &ctx).await }))
}

/// Finish a verified reset in `mode` (an `SsprCompletionMode` value). `chosen_password` is
/// required for `SSPR_COMPLETION_MODE_CHOSEN` and ignored otherwise. On success `*out` is an
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
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(complete_reset_op(engine, flow_id, mode, chosen_password, ctx)?)?;
            put(out, SsprResetOutcome::new(value));
            Ok(())
        })
    }
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
        call(error_out, || spawn(complete_reset_op(engine, flow_id, mode, chosen_password, ctx)?, callback, user_data))
    }
}

/// A change to one contact detail (`SsprContactUpdate`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsprChange {
    /// Leave it as it is.
    Keep = 0,
    /// Set it to the given value.
    Set = 1,
    /// Remove it.
    Clear = 2,
}

/// Changes to a user's contact details; borrowed for the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprContactUpdate {
    /// An `SsprChange` value for the e-mail address.
    pub email_change: u32,
    /// The new address when `email_change` is SET.
    pub email: *const c_char,
    /// An `SsprChange` value for the phone number.
    pub phone_change: u32,
    /// The new number (E.164) when `phone_change` is SET.
    pub phone: *const c_char,
}

/// # Safety
/// `value` is NULL or a valid string.
unsafe fn change(kind: u32, value: *const c_char, field: &'static str) -> Result<ContactChange, SsprError> {
    match kind {
        0 => Ok(ContactChange::Keep),
        // SAFETY: per this function's contract.
        1 => Ok(ContactChange::Set(unsafe { str_arg(value, field) }?.to_owned())),
        2 => Ok(ContactChange::Clear),
        _ => Err(SsprError::invalid(field, "not an SsprChange value")),
    }
}

unsafe fn update_contacts_op(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    update: *const SsprContactUpdate,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::Contacts>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, actor, login, update, ctx) = unsafe {
        let u = update.as_ref().ok_or_else(|| SsprError::null("update"))?;
        (
            engine_ref(engine)?.clone(),
            actor(opt_str_arg(admin_id, "admin_id")?),
            str_arg(login, "login")?.to_owned(),
            ContactUpdate {
                email: change(u.email_change, u.email, "email")?,
                phone: change(u.phone_change, u.phone, "phone")?,
            },
            request_context(ctx)?,
        )
    };
    Ok(Box::pin(async move { sspr.update_contacts(&actor, &login, update, &ctx).await }))
}

/// Change a user's contact details, as the administrator `admin_id`, or as the signed-in
/// user themself when `admin_id` is NULL. On success `*out` is the new `SsprContacts`
/// (free with `sspr_contacts_free`).
///
/// # Safety
/// As `sspr_begin_reset`; `update` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_update_contacts(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    update: *const SsprContactUpdate,
    ctx: *const SsprRequestContext,
    out: *mut *mut SsprContacts,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(update_contacts_op(engine, admin_id, login, update, ctx)?)?;
            put(out, SsprContacts::new(value));
            Ok(())
        })
    }
}

/// `sspr_update_contacts` as a callback call; `result` is a `const SsprContacts *`.
///
/// # Safety
/// As `sspr_update_contacts`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_update_contacts_async(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    update: *const SsprContactUpdate,
    ctx: *const SsprRequestContext,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { call(error_out, || spawn(update_contacts_op(engine, admin_id, login, update, ctx)?, callback, user_data)) }
}

unsafe fn contacts_op(
    engine: *const SsprEngine,
    login: *const c_char,
) -> Result<OpFuture<sspr_core::Contacts>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, login) = unsafe { (engine_ref(engine)?.clone(), str_arg(login, "login")?.to_owned()) };
    Ok(Box::pin(async move { sspr.contacts(&login).await }))
}

/// A user's registered contact details in full (for the signed-in user or an admin). On
/// success `*out` is an `SsprContacts` to free with `sspr_contacts_free`.
///
/// # Safety
/// As `sspr_begin_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_contacts(
    engine: *const SsprEngine,
    login: *const c_char,
    out: *mut *mut SsprContacts,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(contacts_op(engine, login)?)?;
            put(out, SsprContacts::new(value));
            Ok(())
        })
    }
}

/// `sspr_contacts` as a callback call; `result` is a `const SsprContacts *`.
///
/// # Safety
/// As `sspr_contacts`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_contacts_async(
    engine: *const SsprEngine,
    login: *const c_char,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { call(error_out, || spawn(contacts_op(engine, login)?, callback, user_data)) }
}

unsafe fn set_enabled_op(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    enabled: bool,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<()>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, actor, login, ctx) = unsafe {
        (
            engine_ref(engine)?.clone(),
            actor(opt_str_arg(admin_id, "admin_id")?),
            str_arg(login, "login")?.to_owned(),
            request_context(ctx)?,
        )
    };
    Ok(Box::pin(async move { sspr.set_enabled(&actor, &login, enabled, &ctx).await }))
}

/// Enable or disable SSPR for a user (administrators only: `admin_id` NULL is refused with
/// `NOT_ALLOWED`).
///
/// # Safety
/// As `sspr_begin_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_set_enabled(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    enabled: bool,
    ctx: *const SsprRequestContext,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { call(error_out, || block(set_enabled_op(engine, admin_id, login, enabled, ctx)?)) }
}

/// `sspr_set_enabled` as a callback call; `result` is NULL.
///
/// # Safety
/// As `sspr_set_enabled`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_set_enabled_async(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    enabled: bool,
    ctx: *const SsprRequestContext,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { call(error_out, || spawn(set_enabled_op(engine, admin_id, login, enabled, ctx)?, callback, user_data)) }
}

unsafe fn status_op(
    engine: *const SsprEngine,
    login: *const c_char,
) -> Result<OpFuture<sspr_core::UserStatus>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, login) = unsafe { (engine_ref(engine)?.clone(), str_arg(login, "login")?.to_owned()) };
    Ok(Box::pin(async move { sspr.status(&login).await }))
}

/// Everything about one user's SSPR state. On success `*out` is an `SsprUserStatus` to free
/// with `sspr_user_status_free`.
///
/// # Safety
/// As `sspr_begin_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_status(
    engine: *const SsprEngine,
    login: *const c_char,
    out: *mut *mut SsprUserStatus,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(status_op(engine, login)?)?;
            put(out, SsprUserStatus::new(value));
            Ok(())
        })
    }
}

/// `sspr_status` as a callback call; `result` is a `const SsprUserStatus *`.
///
/// # Safety
/// As `sspr_status`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_status_async(
    engine: *const SsprEngine,
    login: *const c_char,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { call(error_out, || spawn(status_op(engine, login)?, callback, user_data)) }
}

unsafe fn unblock_op(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<()>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, actor, login, ctx) = unsafe {
        (
            engine_ref(engine)?.clone(),
            actor(opt_str_arg(admin_id, "admin_id")?),
            str_arg(login, "login")?.to_owned(),
            request_context(ctx)?,
        )
    };
    Ok(Box::pin(async move { sspr.unblock(&actor, &login, &ctx).await }))
}

/// Lift a block and forget the user's failed verifications (administrators only).
///
/// # Safety
/// As `sspr_begin_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_unblock(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    ctx: *const SsprRequestContext,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { call(error_out, || block(unblock_op(engine, admin_id, login, ctx)?)) }
}

/// `sspr_unblock` as a callback call; `result` is NULL.
///
/// # Safety
/// As `sspr_unblock`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_unblock_async(
    engine: *const SsprEngine,
    admin_id: *const c_char,
    login: *const c_char,
    ctx: *const SsprRequestContext,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { call(error_out, || spawn(unblock_op(engine, admin_id, login, ctx)?, callback, user_data)) }
}

unsafe fn sign_in_op(
    engine: *const SsprEngine,
    login: *const c_char,
    password: *const c_char,
    ctx: *const SsprRequestContext,
) -> Result<OpFuture<sspr_core::SignedIn>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, login, password, ctx) = unsafe {
        (
            engine_ref(engine)?.clone(),
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
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(sign_in_op(engine, login, password, ctx)?)?;
            put(out, SsprSignedIn::new(value));
            Ok(())
        })
    }
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
    unsafe { call(error_out, || spawn(sign_in_op(engine, login, password, ctx)?, callback, user_data)) }
}

unsafe fn search_users_op(
    engine: *const SsprEngine,
    query: *const c_char,
    limit: usize,
) -> Result<OpFuture<Vec<sspr_core::UserStatus>>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let (sspr, query) = unsafe { (engine_ref(engine)?.clone(), str_arg(query, "query")?.to_owned()) };
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
    unsafe {
        call(error_out, || {
            need_out(out)?;
            let value = block(search_users_op(engine, query, limit)?)?;
            put(out, SsprUserStatusList::new(value));
            Ok(())
        })
    }
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
    unsafe { call(error_out, || spawn(search_users_op(engine, query, limit)?, callback, user_data)) }
}
