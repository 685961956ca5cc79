//! The engine handle, its options and its clock, and the operations by family, as in
//! `sspr-core/src/engine/`: [`reset`] (the reset flow), [`admin`] (contacts, enabling,
//! status, unblocking), [`proof`] (proving a new contact), [`coverage`] (the enrollment report,
//! registration reminders, re-confirmation), [`sign_in`] (sign-in and search), [`delivery`] (waiting for the
//! notifier). Each operation is one function reading its C arguments, and two thin C
//! entry points around it, a blocking call and a callback call (`*_async`), both run by
//! [`call`].

mod admin;
mod call;
mod coverage;
mod delivery;
mod proof;
mod recovery;
mod reset;
mod sign_in;

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use sspr_bind::runtime::{self, ProcessSpawner, ProcessTimer};
use sspr_bind::{EngineOptions, Material, PolicyFormat};
use sspr_core::{ManualClock, Sspr};

pub use admin::*;
pub use call::SsprCallback;
pub use coverage::*;
pub use delivery::*;
pub use proof::*;
pub use recovery::*;
pub use reset::*;
pub use sign_in::*;

use super::backends::{
    CAudit, CContactStore, CDirectory, CEventHook, CNotifier, CPasswordChecker, Ctx, SsprAuditVtable,
    SsprContactStoreVtable, SsprDirectoryVtable, SsprEventHookVtable, SsprNotifierVtable, SsprPasswordCheckerVtable,
    take_ctx,
};
use super::{SsprError, SsprStatus, guard, opt_str_arg, slice_arg};
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
///
/// Start from zero and set `size` first: `SsprEngineOptions o; memset(&o, 0, sizeof o);
/// o.size = sizeof o;`. Later versions of this header only add members at the end of this
/// struct and of the vtables it holds; the library reads a caller's struct by its `size`, so
/// a program built against this header keeps working with a newer library.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprEngineOptions {
    /// `sizeof(SsprEngineOptions)` as the caller's header has it: how the library knows
    /// which members the caller's struct has. A size this library never had (0: not set; a
    /// program built against a header older than this field, whose first member is a
    /// pointer) is `SSPR_STATUS_CONFIG` and nothing in `options` is read or released.
    pub size: usize,
    /// The server's secret key: 32 to 1024 random bytes, the same on every instance (or NULL
    /// and the key in `secret_key_hex`).
    pub secret_key: *const u8,
    /// Its length in bytes.
    pub secret_key_len: usize,
    /// The policy as JSON (missing fields take their defaults), or NULL for the defaults.
    pub policy_json: *const c_char,
    /// NULL, or exactly 32 bytes (`rng_seed_len`) seeding the PIN generator (tests and test
    /// vectors only: a fixed seed makes PINs predictable). NULL seeds it from the operating
    /// system. Another length is `SSPR_STATUS_CONFIG`.
    pub rng_seed: *const u8,
    /// The length of `rng_seed` in bytes (32).
    pub rng_seed_len: usize,
    /// NULL for the system clock, or a manual clock (tests). A manual clock is also the
    /// engine's timer: the padding of answers moves it forward instead of waiting.
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
    /// A network store is connected now; `sspr_engine_new` fails if it cannot be reached. It
    /// blocks: with a store, `sspr_engine_new` called in an `_async` call's callback fails
    /// with `SSPR_STATUS_WRONG_THREAD`.
    pub state_store_json: *const c_char,
    /// NULL, or a function receiving every audit event as JSON.
    pub audit: *const SsprAuditVtable,
    /// NULL, or a file every audit event is appended to as one JSON line (created if
    /// missing; several processes may share it). With neither `audit` nor `audit_file`
    /// the engine keeps the newest 10 000 events in memory only.
    pub audit_file: *const c_char,
    /// The secret key as hex text instead of `secret_key` (twice as many digits, either case,
    /// surrounding whitespace ignored: a key file's line), or NULL. Giving both is
    /// `SSPR_STATUS_CONFIG`.
    pub secret_key_hex: *const c_char,
    /// The generator seed as 64 hex digits instead of `rng_seed`, or NULL (tests only).
    pub rng_seed_hex: *const c_char,
    /// The policy as TOML instead of `policy_json` (the portal's `policy.toml`), or NULL.
    pub policy_toml: *const c_char,
    /// NULL, or checks of chosen passwords beyond the policy's, as JSON: the
    /// `[password_checks]` of the other bindings' configuration (`{"banned_words_file":
    /// "...", "breached": {"endpoint": "...", "timeout_ms": 2000}}`, or `"breached":
    /// {"offline_path": "..."}`). A bad one is `SSPR_STATUS_INVALID_INPUT` or `_CONFIG`.
    pub password_checks_json: *const c_char,
    /// NULL, or `password_checkers_len` checks of chosen passwords written in C, run in order
    /// after the policy's own and the configured ones (the engine owns each `ctx`).
    pub password_checkers: *const SsprPasswordCheckerVtable,
    /// How many `password_checkers` there are.
    pub password_checkers_len: usize,
    /// NULL, or `hooks_len` event hooks written in C (the engine owns each `ctx`).
    pub hooks: *const SsprEventHookVtable,
    /// How many `hooks` there are.
    pub hooks_len: usize,
    /// NULL, or the built-in bot challenge verifier (Cloudflare Turnstile, hCaptcha, Google
    /// reCAPTCHA) as JSON: the `[bot_challenge]` of the other bindings' configuration
    /// (`{"provider": "turnstile", "site_key": "...", "secret": "...", "hostnames":
    /// ["reset.example.org"], "policy": "always"}`, or `"policy": "after_begins"` with
    /// `begins_per_ip`, `begins_per_login`, `window_minutes`). `sspr_begin_reset` then needs the
    /// widget's token: pass it with `sspr_begin_reset_challenged`. A bad one is
    /// `SSPR_STATUS_INVALID_INPUT` (field `"bot_challenge"`, never quoting the secret) or `_CONFIG`.
    pub bot_challenge_json: *const c_char,
    /// Collect the engine's metrics (counters and latency histograms, `sspr_*` series) into
    /// the process's Prometheus registry, which `sspr_metrics_text` renders for the host's
    /// scrape endpoint. One registry per process: every engine built with this on counts
    /// into it. `SSPR_STATUS_CONFIG` when another `metrics` recorder holds the process.
    pub metrics: bool,
    /// NULL, or `previous_keys_len` server keys retired by a rotation, newest first, each as hex
    /// text like `secret_key_hex` (README "Rotating the server key"): read, never written, so
    /// the blocks, failure counts and pending resets made under them hold; decoy masks come
    /// from the last (oldest). At most 4; a bad one is `SSPR_STATUS_CONFIG`. Copied: the
    /// caller keeps ownership of the array and its strings.
    pub previous_keys_hex: *const *const c_char,
    /// How many `previous_keys_hex` there are.
    pub previous_keys_len: usize,
}

/// The sizes of `SsprEngineOptions` this library reads (each header's `sizeof`, oldest first).
/// A header that adds members at the end adds its size here, and the reading of a smaller
/// struct gives the added members their zero values.
const OPTIONS_SIZES: [usize; 1] = [std::mem::size_of::<SsprEngineOptions>()];

/// The caller's options, once its `size` says they are laid out as this library's.
///
/// Before `size` there was no way to tell a caller's layout: the directory vtable sits in
/// the options by value, so a member added to it moves every member after it, and an older
/// program's struct would be read with every pointer shifted. Its first member was then
/// `secret_key` (a pointer or NULL), never one of [`OPTIONS_SIZES`]: it gets `Config`
/// instead of a misread, and nothing is released (its `release` functions are not where this
/// header has them).
///
/// # Safety
/// `options` is NULL or points to at least `size_of::<usize>()` readable bytes, and to a
/// whole `SsprEngineOptions` when they hold its size.
unsafe fn read_options<'a>(options: *const SsprEngineOptions) -> Result<&'a SsprEngineOptions, SsprError> {
    if options.is_null() {
        return Err(SsprError::null("options"));
    }
    // SAFETY: non-NULL, and its first member (of every layout ever published) is word-sized.
    let size = unsafe { options.cast::<usize>().read_unaligned() };
    if !OPTIONS_SIZES.contains(&size) {
        return Err(sspr_core::Error::Config(format!(
            "SsprEngineOptions.size is {size}, not the size of any SsprEngineOptions this library knows \
             ({OPTIONS_SIZES:?}): set it to sizeof(SsprEngineOptions), from the sspr.h this library came with"
        ))
        .into());
    }
    // SAFETY: a whole struct of this layout, per this function's contract.
    Ok(unsafe { &*options })
}

/// Bytes given as a pointer and a length (`field` names them in a NULL error).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that stay valid for `'a`.
unsafe fn bytes_arg<'a>(ptr: *const u8, len: usize, field: &'static str) -> Result<&'a [u8], SsprError> {
    // SAFETY: per this function's contract.
    unsafe { slice_arg(ptr, len, field) }
}

/// One option given as bytes or as hex text (`Material::one_of`: both is `Config`).
///
/// # Safety
/// `bytes` is NULL or points to `len` readable bytes; `hex` is NULL or a valid string; both
/// stay valid for `'a`.
unsafe fn material<'a>(
    bytes: *const u8,
    len: usize,
    hex: *const c_char,
    field: &'static str,
    hex_field: &'static str,
) -> Result<Option<Material<'a>>, SsprError> {
    // SAFETY: per this function's contract.
    let (bytes, hex) = unsafe {
        (if bytes.is_null() { None } else { Some(bytes_arg(bytes, len, field)?) }, opt_str_arg(hex, hex_field)?)
    };
    Ok(Material::one_of(bytes, hex, field, hex_field)?)
}

/// The previous keys of `SsprEngineOptions` (`previous_keys_hex`).
///
/// # Safety
/// `keys` is NULL or points to `len` pointers, each NULL or a valid string, valid for the call.
unsafe fn previous_keys(keys: *const *const c_char, len: usize) -> Result<Vec<sspr_core::SecretKey>, SsprError> {
    // SAFETY: per this function's contract.
    let keys = unsafe { slice_arg(keys, len, "previous_keys_hex") }?;
    keys.iter()
        .enumerate()
        .map(|(i, &key)| {
            // SAFETY: per this function's contract.
            let hex = unsafe { opt_str_arg(key, "previous_keys_hex")? }
                .ok_or_else(|| SsprError::null("previous_keys_hex"))?;
            Ok(sspr_bind::previous_key(Material::Hex(hex), i + 1)?)
        })
        .collect()
}

/// The key, seed, policy and clock of `o`, checked by sspr-bind's one set of rules.
///
/// # Safety
/// The pointers of `o` are NULL or valid as documented.
unsafe fn engine_options(o: &SsprEngineOptions) -> Result<EngineOptions, SsprError> {
    // SAFETY: per this function's contract.
    let (key, seed, json, toml) = unsafe {
        (
            material(o.secret_key, o.secret_key_len, o.secret_key_hex, "secret_key", "secret_key_hex")?,
            material(o.rng_seed, o.rng_seed_len, o.rng_seed_hex, "rng_seed", "rng_seed_hex")?,
            opt_str_arg(o.policy_json, "policy_json")?,
            opt_str_arg(o.policy_toml, "policy_toml")?,
        )
    };
    let key = key.ok_or_else(|| SsprError::null("secret_key"))?;
    let mut options = EngineOptions::new(sspr_bind::secret_key(key)?);
    // SAFETY: per this function's contract.
    options = options.with_previous_keys(unsafe { previous_keys(o.previous_keys_hex, o.previous_keys_len)? });
    let policy = match (json, toml) {
        (None, None) => None,
        (Some(json), None) => Some(sspr_bind::policy(json, PolicyFormat::Json)?),
        (None, Some(toml)) => Some(sspr_bind::policy(toml, PolicyFormat::Toml)?),
        (Some(_), Some(_)) => {
            return Err(sspr_core::Error::Config("give `policy_json` or `policy_toml`, not both".into()).into());
        }
    };
    if let Some(policy) = policy {
        options = options.with_policy(policy);
    }
    if let Some(seed) = seed {
        options = options.with_rng_seed(sspr_bind::rng_seed(seed)?);
    }
    // SAFETY: per this function's contract.
    if let Some(clock) = unsafe { o.clock.as_ref() } {
        options = options.with_manual_clock(clock.clock.clone());
    }
    Ok(options.with_metrics(o.metrics)?)
}

status_fn! {
    /// The metrics of every engine of this process built with `metrics` on, in the Prometheus
    /// text format (0.0.4; an empty string while none is), for the host's scrape endpoint
    /// (`sspr_bind::metrics::text`, as Python's and Node's `metrics_text`). Labels are closed
    /// sets: never a login, address or flow. `*out`: free with `sspr_string_free`.
    ///
    /// # Safety
    /// `out` and `error_out` are NULL or writable.
    fn sspr_metrics_text(out: *mut *mut c_char) {
        if out.is_null() {
            return Err(SsprError::null("out"));
        }
        // Non-NULL and writable per this function's contract (the body runs in its `unsafe`).
        out.write(super::raw_string(sspr_bind::metrics::text()));
        Ok(())
    }
}

status_fn! {
    /// Build an engine. From this call on the engine owns each backend's `ctx`: each vtable's
    /// `release` is called once, also when this call fails (unless `options` is NULL or its
    /// `size` is wrong: then nothing in it is read; nor are the vtables of a list refused
    /// for its length: NULL with a length, or over 100 000); a `ctx` given to several vtables
    /// is released once by each of them.
    ///
    /// # Safety
    /// `options` is NULL or valid, with the pointers it holds NULL or valid as documented;
    /// `engine_out` is NULL or writable; `error_out` is NULL or writable.
    fn sspr_engine_new(
        options: *const SsprEngineOptions,
        engine_out: *mut *mut SsprEngine,
    ) {
        let o = read_options(options)?;
        // Take every ctx first, so that each is released whatever fails below.
        let directory_ctx = take_ctx(o.directory.ctx, o.directory.release);
        let notifier_ctx = take_ctx(o.notifier.ctx, o.notifier.release);
        let contacts = o.contacts.as_ref().map(|c| (take_ctx(c.ctx, c.release), c));
        let audit = o.audit.as_ref().map(|a| (take_ctx(a.ctx, a.release), a));
        // Both lists are taken before either can fail: a NULL checker list must not leave the
        // hooks' ctx unreleased (nor the other way round).
        // (Per this function's contract, `password_checkers_len` and `hooks_len` readable
        // vtables; a NULL list or a length over `MAX_ITEMS` is read as none.)
        let checkers: Result<Vec<(Ctx, &SsprPasswordCheckerVtable)>, SsprError> =
            slice_arg(o.password_checkers, o.password_checkers_len, "password_checkers")
                .map(|list| list.iter().map(|v| (take_ctx(v.ctx, v.release), v)).collect());
        let hooks: Result<Vec<(Ctx, &SsprEventHookVtable)>, SsprError> = slice_arg(o.hooks, o.hooks_len, "hooks")
            .map(|list| list.iter().map(|v| (take_ctx(v.ctx, v.release), v)).collect());
        let (checkers, hooks) = (checkers?, hooks?);
        if engine_out.is_null() {
            return Err(SsprError::null("engine_out"));
        }
        let mut builder = Sspr::builder()
            .directory(CDirectory::new(directory_ctx, &o.directory)?)
            .notifier(CNotifier::new(notifier_ctx, &o.notifier)?);
        if let Some((ctx, vtable)) = contacts {
            builder = builder.contacts(CContactStore::new(ctx, vtable)?);
        }
        builder = engine_options(o)?.apply(builder, ProcessTimer, ProcessSpawner);
        let audit: Option<Arc<dyn sspr_core::AuditSink>> = match audit {
            Some((ctx, vtable)) => Some(Arc::new(CAudit::new(ctx, vtable)?)),
            None => None,
        };
        let audit_file = opt_str_arg(o.audit_file, "audit_file")?;
        let state_store_json = opt_str_arg(o.state_store_json, "state_store_json")?;
        if state_store_json.is_some() {
            // Opening a store blocks until it answers (see `call::may_block`).
            call::may_block()?;
        }
        let password_checks_json = opt_str_arg(o.password_checks_json, "password_checks_json")?;
        let bot_challenge_json = opt_str_arg(o.bot_challenge_json, "bot_challenge_json")?;
        builder = shared::shared_backends::<SsprError>(
            builder,
            audit,
            audit_file,
            state_store_json,
            password_checks_json,
            bot_challenge_json,
        )?;
        for (ctx, vtable) in checkers {
            builder = builder.password_checker(CPasswordChecker::new(ctx, vtable)?);
        }
        for (ctx, vtable) in hooks {
            let hook = CEventHook::new(ctx, vtable)?;
            builder = builder.hook(&hook.events(), hook);
        }
        let engine = Box::new(SsprEngine { sspr: builder.build()? });
        engine_out.write(Box::into_raw(engine));
        Ok(())
    }
}

/// Free an engine (NULL is allowed). Calls still in flight keep what they need; each
/// backend's `release` runs once the last of them ended. Deliveries still running are not
/// waited for: call `sspr_flush_deliveries` first to deliver every PIN already promised.
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
    guard(std::ptr::null_mut(), || match sspr_bind::time_from_unix(unix_seconds, 0, "unix_seconds") {
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

/// How [`call::entry_points!`] reads each kind of argument (its C type: [`call::c_type!`]).
/// Every string is copied: the operation's future owns what it uses.
pub(crate) mod arg {
    use std::ffi::c_char;

    use sspr_core::{Actor, ChallengeToken, Channel, Password, RequestContext, Sspr};

    use super::super::types::{SsprRequestContext, request_context};
    use super::super::{CEnum, Named, SsprChannel, SsprError, opt_str_arg, str_arg};
    use super::SsprEngine;

    /// The engine behind a handle, shared with the operation's future.
    ///
    /// # Safety
    /// `engine` is NULL or a live engine.
    pub(crate) unsafe fn engine(engine: *const SsprEngine) -> Result<Sspr, SsprError> {
        // SAFETY: per this function's contract.
        unsafe { engine.as_ref() }.map(|e| e.sspr.clone()).ok_or_else(|| SsprError::null("engine"))
    }

    /// Who acts: the administrator `admin_id`, or the signed-in user when it is NULL
    /// (`Actor::from_admin_id`: an empty or blank id is refused).
    ///
    /// # Safety
    /// `admin_id` is NULL or a valid string.
    pub(crate) unsafe fn actor(admin_id: *const c_char) -> Result<Actor, SsprError> {
        // SAFETY: per this function's contract.
        Ok(Actor::from_admin_id(unsafe { opt_str_arg(admin_id, "admin_id") }?)?)
    }

    /// A required string.
    ///
    /// # Safety
    /// `ptr` is NULL or a valid string.
    pub(crate) unsafe fn text(ptr: *const c_char, field: &'static str) -> Result<String, SsprError> {
        // SAFETY: per this function's contract.
        Ok(unsafe { str_arg(ptr, field) }?.to_owned())
    }

    /// An optional string (NULL: none).
    ///
    /// # Safety
    /// `ptr` is NULL or a valid string.
    pub(crate) unsafe fn optional_text(ptr: *const c_char, field: &'static str) -> Result<Option<String>, SsprError> {
        // SAFETY: per this function's contract.
        Ok(unsafe { opt_str_arg(ptr, field) }?.map(str::to_owned))
    }

    /// A required string held as a secret (a PIN, a code, a password): wiped when dropped,
    /// never in an error or a `Debug` string.
    ///
    /// # Safety
    /// `ptr` is NULL or a valid string.
    pub(crate) unsafe fn secret(ptr: *const c_char, field: &'static str) -> Result<Password, SsprError> {
        // SAFETY: per this function's contract.
        Ok(Password::new(unsafe { str_arg(ptr, field) }?))
    }

    /// A bot challenge widget's token (NULL or blank: none), never in an error or `Debug`.
    ///
    /// # Safety
    /// `ptr` is NULL or a valid string.
    pub(crate) unsafe fn challenge_token(ptr: *const c_char) -> Result<Option<ChallengeToken>, SsprError> {
        // SAFETY: per this function's contract.
        let text = unsafe { opt_str_arg(ptr, "challenge_token") }?;
        Ok(ChallengeToken::parse(text.unwrap_or_default())?)
    }

    /// The request's context (NULL: the default).
    ///
    /// # Safety
    /// `ctx` is NULL or valid.
    pub(crate) unsafe fn context(ctx: *const SsprRequestContext) -> Result<RequestContext, SsprError> {
        // SAFETY: per this function's contract.
        unsafe { request_context(ctx) }
    }

    /// An `SsprChannel` value as the core's channel.
    pub(crate) fn channel(channel: u32, field: &'static str) -> Result<Channel, SsprError> {
        let channel = SsprChannel::from_raw(channel).and_then(Named::to_core);
        channel.ok_or_else(|| SsprError::invalid(field, "not an SsprChannel value"))
    }

    /// A count, as given.
    pub(crate) fn count(count: usize) -> Result<usize, SsprError> {
        Ok(count)
    }

    /// A flag, as given.
    pub(crate) fn flag(flag: bool) -> Result<bool, SsprError> {
        Ok(flag)
    }
}
