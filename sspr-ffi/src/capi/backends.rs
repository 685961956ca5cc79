//! Backends written in C: vtables, the completion handle, and the adapters that make them
//! sspr-core's `Directory`, `Notifier` and `ContactStore`.

use std::ffi::{c_char, c_void};
use std::fmt;
use std::sync::Arc;

use futures::channel::oneshot;
use sspr_bind::{ContactParts, EnrollmentParts};
use sspr_core::backend::{AccountState, DirectoryUser, Enrollment};
use sspr_core::notice::{Message, Notification};
use sspr_core::{
    Authentication, BackendError, BackendErrorKind, NormalizedLogin, Password, PasswordCandidate, PasswordFeedback,
    PasswordRefusal, UserId,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::enums::{
    CEnum, Named, SsprAuthentication, SsprBackendErrorKind, SsprChannel, SsprHookEvent, SsprLocale, SsprMessageKind,
    SsprPasswordRefusal,
};
use super::{SsprError, SsprStatus, c_string, opt_str_arg, slice_arg, str_arg};

/// What a backend call finished with.
pub(crate) enum Done {
    Unit,
    Bool(bool),
    User(Option<DirectoryUser>),
    Enrollment(Option<Enrollment>),
    Authentication(Authentication),
    Users(Vec<DirectoryUser>),
    /// A password check's answer: a reason to refuse, or none to accept.
    Refusal(Option<String>),
}

/// The pending result of one backend call. Finish it exactly once with one of the
/// `sspr_complete_*` functions, from any thread; that frees it. Every finisher given a
/// non-NULL `done` frees it, whatever status it returns: when the data handed to it cannot be
/// read (a NULL or non-UTF-8 string, an address that is not one, a value no enum has, ...) it
/// returns that error's status (`SSPR_STATUS_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_INPUT`...) and the backend call fails with `SSPR_STATUS_BACKEND`, kind
/// `REJECTED`, the message saying what was wrong. Either way `done` is gone: never finish it
/// again (not even with `sspr_complete_error`). A finisher of another kind than the call
/// expects (`sspr_complete_ok` for `find_user`) fails the call (`BACKEND`, kind `OTHER`).
/// Only a NULL `done` changes nothing (`SSPR_STATUS_NULL_ARGUMENT`). A completion never
/// finished leaves its call waiting until the engine gives it up (its backend timeout), and
/// keeps the backend's `ctx` from being released. The vtable's `release` waits for every
/// completion handed to its functions: when the last is finished after the engine let go of
/// `ctx` (the call given up, the engine freed), `release` runs inside that `sspr_complete_*`
/// call, on its thread.
pub struct SsprCompletion {
    tx: oneshot::Sender<Result<Done, BackendError>>,
    /// The backend's `ctx`, held until the completion is finished: the backend's worker still
    /// uses it to finish the call, also when the engine gave the call up.
    _ctx: Arc<Ctx>,
}

/// A new completion for a call of a vtable function with `ctx`, and its answer's receiver.
pub(crate) fn completion(ctx: &Arc<Ctx>) -> (*mut SsprCompletion, oneshot::Receiver<Result<Done, BackendError>>) {
    let (tx, rx) = oneshot::channel();
    (Box::into_raw(Box::new(SsprCompletion { tx, _ctx: Arc::clone(ctx) })), rx)
}

/// What a call's completion must carry: the value, taken out of the one `Done` that call is
/// finished with (`None` for another).
pub(crate) trait Answer: Sized {
    fn from_done(done: Done) -> Option<Self>;
}

/// [`Answer`] for each type a call gives back, from the `Done` that carries it.
macro_rules! answers {
    ($($t:ty: $done:pat => $value:expr;)+) => {$(
        impl Answer for $t {
            fn from_done(done: Done) -> Option<Self> {
                match done {
                    $done => Some($value),
                    _ => None,
                }
            }
        }
    )+};
}

answers! {
    (): Done::Unit => ();
    bool: Done::Bool(stored) => stored;
    Option<DirectoryUser>: Done::User(user) => user;
    Option<Enrollment>: Done::Enrollment(enrollment) => enrollment;
    Authentication: Done::Authentication(answer) => answer;
    Vec<DirectoryUser>: Done::Users(users) => users;
    Option<String>: Done::Refusal(reason) => reason;
}

/// The answer to the call named `call`: the backend's error, or an error when it dropped the
/// completion or finished it with the wrong `sspr_complete_*`.
pub(crate) async fn answer<T: Answer>(
    rx: oneshot::Receiver<Result<Done, BackendError>>,
    call: &str,
) -> Result<T, BackendError> {
    let done = rx
        .await
        .unwrap_or_else(|_| Err(BackendError::new(BackendErrorKind::Other, "the backend dropped its completion")))?;
    T::from_done(done).ok_or_else(|| mismatch(call))
}

fn mismatch(call: &str) -> BackendError {
    BackendError::new(
        BackendErrorKind::Other,
        format!("the backend finished `{call}` with the wrong sspr_complete_* call"),
    )
}

fn bad_data(what: impl fmt::Display) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, format!("the backend returned invalid data: {what}"))
}

/// Finish `done` with `value`, or with an error when `value` could not be read.
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL).
unsafe fn finish(done: *mut SsprCompletion, value: impl FnOnce() -> Result<Done, SsprError>) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { finish_with(done, || value().map(Ok)) }
}

/// [`finish`] with an answer that may be the backend's own failure (a refusal it names).
///
/// # Safety
/// As [`finish`].
unsafe fn finish_with(
    done: *mut SsprCompletion,
    value: impl FnOnce() -> Result<Result<Done, BackendError>, SsprError>,
) -> SsprStatus {
    if done.is_null() {
        return SsprStatus::NullArgument;
    }
    // SAFETY: a completion from `completion()`, finished once, per this function's contract.
    let done = unsafe { Box::from_raw(done) };
    let (status, result) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(value)) {
        Ok(Ok(value)) => (SsprStatus::Ok, value),
        Ok(Err(e)) => {
            let text = e.message.to_string_lossy().into_owned();
            (e.code, Err(bad_data(text)))
        }
        Err(_) => (SsprStatus::Panic, Err(bad_data("a panic while reading it"))),
    };
    // The operation may have been abandoned (its future dropped): nobody reads the result then.
    let _ = done.tx.send(result);
    status
}

/// Finish a call that returns nothing (`set_password`, `unlock`, `send`).
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_ok(done: *mut SsprCompletion) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { finish(done, || Ok(Done::Unit)) }
}

/// Finish a call that returns a flag (`save`: whether the compare-and-set stored it).
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_bool(done: *mut SsprCompletion, value: bool) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { finish(done, || Ok(Done::Bool(value))) }
}

/// Finish a backend call with a failure of `kind` (an `SsprBackendErrorKind` value; unknown
/// values count as OTHER). `message` (may be NULL) is copied; it must hold no secret. A
/// message that is not UTF-8 is replaced; this returns `SSPR_STATUS_OK` for any non-NULL `done`.
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL); `message` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_error(
    done: *mut SsprCompletion,
    kind: u32,
    message: *const c_char,
) -> SsprStatus {
    let kind = SsprBackendErrorKind::from_raw(kind).and_then(Named::to_core).unwrap_or(BackendErrorKind::Other);
    // SAFETY: forwarded contract.
    let message = match unsafe { opt_str_arg(message, "message") } {
        Ok(m) => m.unwrap_or("backend failure").to_owned(),
        Err(_) => "backend failure (message not UTF-8)".to_owned(),
    };
    if done.is_null() {
        return SsprStatus::NullArgument;
    }
    // SAFETY: a completion from `completion()`, finished once, per this function's contract.
    let done = unsafe { Box::from_raw(done) };
    let _ = done.tx.send(Err(BackendError::new(kind, message)));
    SsprStatus::Ok
}

/// Finish `change_password` with the directory's refusal of the new password: `refusal` is an
/// `SsprPasswordRefusal` value naming the rule (`SSPR_PASSWORD_REFUSAL_WRONG_CURRENT_PASSWORD`
/// for a wrong current password, `_UNSPECIFIED` when the directory did not say which), and
/// `message` (may be NULL) the directory's reason, copied, with no secret in it. A value
/// `SsprPasswordRefusal` has no rule for (`NONE`, `OTHER`, an unknown number) is
/// `SSPR_STATUS_INVALID_INPUT` (the call then fails as every unreadable completion does).
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL); `message` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_password_refused(
    done: *mut SsprCompletion,
    refusal: u32,
    message: *const c_char,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        finish_with(done, || {
            let refusal: PasswordRefusal = SsprPasswordRefusal::from_raw(refusal)
                .and_then(Named::to_core)
                .ok_or_else(|| SsprError::invalid("refusal", "not an SsprPasswordRefusal rule"))?;
            let message = opt_str_arg(message, "message")?.map_or_else(|| refusal.to_string(), str::to_owned);
            Ok(Err(BackendError::password_refused(refusal, message)))
        })
    }
}

/// A directory user, as a C directory returns it from `find_user`. Every string is
/// borrowed for the duration of `sspr_complete_user` (which copies it).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprDirectoryUser {
    /// The directory's stable id (passed back to `set_password` / `unlock`).
    pub id: *const c_char,
    /// The login as stored.
    pub login: *const c_char,
    /// The display name.
    pub display_name: *const c_char,
    /// The distinguished name.
    pub dn: *const c_char,
    /// Every group, nested memberships resolved (`groups_len` strings; may be NULL when 0).
    pub groups: *const *const c_char,
    /// How many groups (over 100 000 is `SSPR_STATUS_INVALID_INPUT` naming `"groups"`).
    pub groups_len: usize,
    /// The account is disabled.
    pub disabled: bool,
    /// The account has expired.
    pub expired: bool,
    /// The account is locked out.
    pub locked: bool,
    /// The user's mailbox in the directory, where registration reminders go, or NULL. An
    /// address that is not one is `SSPR_STATUS_INVALID_INPUT` naming `"mail"`. Last, so that a
    /// host that zero-initialises the struct gives none.
    pub mail: *const c_char,
}

/// Read a C directory user.
///
/// # Safety
/// `user` points to a valid `SsprDirectoryUser` whose strings are valid.
unsafe fn read_user(user: &SsprDirectoryUser) -> Result<DirectoryUser, SsprError> {
    // SAFETY: `groups` points to `groups_len` pointers, per this function's contract.
    let items = unsafe { slice_arg(user.groups, user.groups_len, "groups") }?;
    let mut groups = Vec::with_capacity(items.len());
    for item in items {
        // SAFETY: each is a valid string, per this function's contract.
        groups.push(unsafe { str_arg(*item, "groups") }?.to_owned());
    }
    // SAFETY: the strings are valid, per this function's contract.
    unsafe {
        Ok(DirectoryUser {
            id: UserId::new(str_arg(user.id, "id")?),
            login: str_arg(user.login, "login")?.to_owned(),
            display_name: str_arg(user.display_name, "display_name")?.to_owned(),
            dn: str_arg(user.dn, "dn")?.to_owned(),
            groups,
            state: AccountState { disabled: user.disabled, expired: user.expired, locked: user.locked },
            mail: sspr_bind::directory_mail(opt_str_arg(user.mail, "mail")?)?,
        })
    }
}

/// Finish `find_user` with the one user found, or with NULL when there is none (or more
/// than one). The user is copied.
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL); `user` is NULL or a valid `SsprDirectoryUser`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_user(done: *mut SsprCompletion, user: *const SsprDirectoryUser) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        finish(done, || match user.as_ref() {
            None => Ok(Done::User(None)),
            Some(user) => Ok(Done::User(Some(read_user(user)?))),
        })
    }
}

/// Finish `search` with the users found (`len` of them, copied; `users` may be NULL when
/// `len` is 0). A `len` over 100 000 (a negative count passed as `size_t`) is
/// `SSPR_STATUS_INVALID_INPUT` naming `"users"`, nothing read.
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL); `users` points to `len` valid `SsprDirectoryUser`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_users(
    done: *mut SsprCompletion,
    users: *const SsprDirectoryUser,
    len: usize,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        finish(done, || {
            slice_arg(users, len, "users")?.iter().map(|u| read_user(u)).collect::<Result<_, _>>().map(Done::Users)
        })
    }
}

/// Finish `authenticate` with an `SsprAuthentication` value (others are an error). A wrong
/// password is `SSPR_AUTHENTICATION_REJECTED`, not an error.
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_authentication(done: *mut SsprCompletion, outcome: u32) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        finish(done, || {
            let outcome: Option<Authentication> = SsprAuthentication::from_raw(outcome).and_then(Named::to_core);
            outcome
                .map(Done::Authentication)
                .ok_or_else(|| SsprError::invalid("outcome", "not an SsprAuthentication value"))
        })
    }
}

/// A user's enrollment, both ways: handed to `save` (borrowed for that call) and returned
/// by `get` through `sspr_complete_enrollment` (copied). A contact is absent when its
/// string is NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprEnrollment {
    /// SSPR enabled by an admin.
    pub enabled: bool,
    /// The alternate e-mail address, or NULL.
    pub email: *const c_char,
    /// When it was registered (Unix seconds).
    pub email_added_at: i64,
    /// From when PINs may go to it (Unix seconds).
    pub email_usable_from: i64,
    /// The mobile number (E.164), or NULL.
    pub phone: *const c_char,
    /// When it was registered (Unix seconds).
    pub phone_added_at: i64,
    /// From when PINs may go to it (Unix seconds).
    pub phone_usable_from: i64,
    /// Whether `last_reset_at` is set.
    pub has_last_reset: bool,
    /// When the password was last reset through sspr (Unix seconds).
    pub last_reset_at: i64,
    /// The store's version of the record (0: not stored yet).
    pub version: u64,
    /// What sspr remembers of past contacts (first registration, recently removed contacts),
    /// as opaque JSON text, or NULL for none: keep a copy and give it back unchanged. Without
    /// it, a user who clears every contact could register a new one without the cooling-off.
    pub history: *const c_char,
}

/// A time a C store gave, in Unix seconds.
fn time(secs: i64, field: &'static str) -> Result<OffsetDateTime, SsprError> {
    Ok(sspr_bind::time_from_unix(secs, 0, field)?)
}

/// One contact of a C enrollment, if its string is there.
///
/// # Safety
/// `value` is NULL or a valid string.
unsafe fn contact_parts(
    value: *const c_char,
    added_at: i64,
    usable_from: i64,
    field: &'static str,
    times: [&'static str; 2],
) -> Result<Option<ContactParts>, SsprError> {
    // SAFETY: per this function's contract.
    let Some(value) = unsafe { opt_str_arg(value, field) }? else { return Ok(None) };
    Ok(Some(ContactParts {
        value: value.to_owned(),
        added_at: time(added_at, times[0])?,
        usable_from: time(usable_from, times[1])?,
    }))
}

/// Read a C enrollment and check it as every binding checks a host store's record
/// (`EnrollmentParts::validate`: a part that does not hold fails the engine's call with a
/// `REJECTED` backend error naming the part; the store's `sspr_complete_enrollment` returns
/// `SSPR_STATUS_INVALID_INPUT`).
///
/// # Safety
/// The strings of `e` are NULL or valid.
unsafe fn read_enrollment(e: &SsprEnrollment) -> Result<Enrollment, SsprError> {
    // SAFETY: per this function's contract.
    let (email, phone, history) = unsafe {
        (
            contact_parts(
                e.email,
                e.email_added_at,
                e.email_usable_from,
                "email",
                ["email_added_at", "email_usable_from"],
            )?,
            contact_parts(
                e.phone,
                e.phone_added_at,
                e.phone_usable_from,
                "phone",
                ["phone_added_at", "phone_usable_from"],
            )?,
            opt_str_arg(e.history, "history")?.map(str::to_owned),
        )
    };
    let last_reset_at = if e.has_last_reset { Some(time(e.last_reset_at, "last_reset_at")?) } else { None };
    let parts = EnrollmentParts { enabled: e.enabled, email, phone, last_reset_at, history, version: e.version };
    parts.validate().map_err(|rejected| SsprError::new(SsprStatus::InvalidInput, rejected.message()))
}

/// Finish `get` with the stored enrollment (its `version` as stored), or NULL when the user
/// has none. It is copied.
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL); `enrollment` is NULL or a valid `SsprEnrollment`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_enrollment(
    done: *mut SsprCompletion,
    enrollment: *const SsprEnrollment,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe {
        finish(done, || match enrollment.as_ref() {
            None => Ok(Done::Enrollment(None)),
            Some(e) => Ok(Done::Enrollment(Some(read_enrollment(e)?))),
        })
    }
}

/// Finish a password check (`SsprPasswordCheckerVtable.check`): `reason` NULL accepts the
/// password; a reason refuses it and is shown to the user, so it must never hold the
/// password or a piece of it. It is copied.
///
/// # Safety
/// `done` is NULL or an unfinished completion handed to a backend function (freed by this call
/// whatever it returns, unless NULL); `reason` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_complete_password_check(done: *mut SsprCompletion, reason: *const c_char) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { finish(done, || Ok(Done::Refusal(opt_str_arg(reason, "reason")?.map(str::to_owned)))) }
}

/// One notice to deliver. Everything is borrowed for the duration of the `send` call:
/// copy what you keep, and wipe any copy of `pin` and `body` once delivered.
#[repr(C)]
#[derive(Debug)]
pub struct SsprNotification {
    /// E-mail or SMS.
    pub channel: SsprChannel,
    /// The address or E.164 number.
    pub to: *const c_char,
    /// The language.
    pub locale: SsprLocale,
    /// Which notice.
    pub kind: SsprMessageKind,
    /// The digits for `SSPR_MESSAGE_KIND_PIN`, `SSPR_MESSAGE_KIND_CONTACT_PROOF` and
    /// `SSPR_MESSAGE_KIND_RECOVERY_CODE`, else NULL.
    /// Never log it.
    pub pin: *const c_char,
    /// When the PIN expires (Unix seconds; 0 for other notices).
    pub pin_expires_at: i64,
    /// The standard subject in the notice's language.
    pub subject: *const c_char,
    /// The standard text in the notice's language (holds the PIN for a PIN notice).
    pub body: *const c_char,
    /// When the notice was issued (Unix seconds).
    pub at: i64,
}

/// A secret as a NUL-terminated buffer that is wiped when dropped. A secret holding a NUL
/// cannot be passed to C.
fn secret_c(text: &str) -> Result<Zeroizing<Vec<u8>>, BackendError> {
    if text.as_bytes().contains(&0) {
        return Err(BackendError::new(BackendErrorKind::Rejected, "a secret holding a NUL cannot be passed to C"));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(text.len() + 1));
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    Ok(bytes)
}

/// `ctx` of a C backend and its release function.
pub(crate) struct Ctx {
    ptr: *mut c_void,
    release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

// SAFETY: the C API's contract requires `ctx` and the vtable functions to be usable from any
// thread, concurrently.
unsafe impl Send for Ctx {}
// SAFETY: as above.
unsafe impl Sync for Ctx {}

impl Drop for Ctx {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: called once, when the engine no longer uses `ctx`, as documented.
            unsafe { release(self.ptr) };
        }
    }
}

impl Ctx {
    /// Call a vtable function that takes one string (a login or a user id) with this ctx:
    /// its completion's receiver.
    fn call_text(self: &Arc<Self>, f: UserFn, text: &str) -> oneshot::Receiver<Result<Done, BackendError>> {
        let text = c_string(text.to_owned());
        let (done, rx) = completion(self);
        // SAFETY: a vtable function given by the C side, called with its ctx, a string valid
        // for the call and a fresh completion, as documented.
        unsafe { f(self.ptr, text.as_ptr(), done) };
        rx
    }
}

/// Run `call` (a call of a C vtable function with `ctx`) here, or from background work (a PIN
/// delivery, a hook) on the runtime's blocking pool: a C function that does its work before
/// it completes (a `send` holding its SMTP exchange) would otherwise hold one of the
/// runtime's two workers, and with both held no padding timer fires: every caller's answer
/// would wait on one relay. The pool thread holds `ctx` until the call returns.
async fn call_c<R: Send + 'static>(
    ctx: &Arc<Ctx>,
    call: impl FnOnce(&Arc<Ctx>) -> R + Send + 'static,
) -> Result<R, BackendError> {
    if !sspr_bind::runtime::in_background() {
        return Ok(call(ctx));
    }
    let ctx = Arc::clone(ctx);
    sspr_bind::runtime::off_runtime(move || call(&ctx)).await
}

/// Take ownership of a backend's `ctx` so that `release` is called once, whatever happens next.
pub(crate) fn take_ctx(ptr: *mut c_void, release: Option<unsafe extern "C" fn(ctx: *mut c_void)>) -> Ctx {
    Ctx { ptr, release }
}

/// A directory written in C. Every function is required except `release` and `change_password`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprDirectoryVtable {
    /// Passed to every function; must be usable from any thread.
    pub ctx: *mut c_void,
    /// Find the one user whose login matches `login` (normalised: trimmed, NFKC,
    /// lower-case; untrusted: escape it for your query language). Finish with
    /// `sspr_complete_user` (NULL for none or several) or `sspr_complete_error`.
    pub find_user: Option<unsafe extern "C" fn(ctx: *mut c_void, login: *const c_char, done: *mut SsprCompletion)>,
    /// Set `password` for `user_id`, with must-change-at-next-sign-in when `must_change`,
    /// in one operation. Do not keep or log the password. Finish with `sspr_complete_ok`, or
    /// `sspr_complete_error` (`PASSWORD_REJECTED` when the directory's policy refuses it).
    pub set_password: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            user_id: *const c_char,
            password: *const c_char,
            must_change: bool,
            done: *mut SsprCompletion,
        ),
    >,
    /// Clear a lockout (idempotent). Finish with `sspr_complete_ok` or `sspr_complete_error`.
    pub unlock: Option<unsafe extern "C" fn(ctx: *mut c_void, user_id: *const c_char, done: *mut SsprCompletion)>,
    /// Check the user's own password as a sign-in would (LDAP: a bind as the user). Do not
    /// keep or log it. Finish with `sspr_complete_authentication` (a wrong password is
    /// REJECTED) or `sspr_complete_error`.
    pub authenticate: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            user_id: *const c_char,
            password: *const c_char,
            done: *mut SsprCompletion,
        ),
    >,
    /// Admin search: users whose login or display name contains `query`
    /// (case-insensitive; untrusted, escape it), at most `limit`, sorted by login. Finish
    /// with `sspr_complete_users`.
    pub search:
        Option<unsafe extern "C" fn(ctx: *mut c_void, query: *const c_char, limit: usize, done: *mut SsprCompletion)>,
    /// Called once for this vtable when the engine no longer needs `ctx` (may be NULL): a
    /// `ctx` shared by several vtables gets one call from each, so count them before freeing it.
    pub release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
    /// The user's **own** change from `current` to `new_password` (`sspr_change_password`), or
    /// NULL when the directory offers none (the change then fails with `SSPR_STATUS_BACKEND`,
    /// kind `NOT_SUPPORTED`, nothing changed). Not an administrator's reset: check `current`
    /// yourself (LDAP: bind as the user and modify in that session; AD: delete the old
    /// `unicodePwd`, add the new) and apply every rule the directory applies to a user's own
    /// change (history, minimum age, length, complexity). It must work for a user who must
    /// change a temporary password. Finish with `sspr_complete_ok`, or
    /// `sspr_complete_password_refused` naming the rule (a wrong `current` is
    /// `SSPR_PASSWORD_REFUSAL_WRONG_CURRENT_PASSWORD`: the engine counts it as a failed
    /// sign-in), or `sspr_complete_error` (`UNAVAILABLE`: the engine then asks `authenticate`
    /// whether the new password took). Nothing may change on any error; keep and log neither
    /// password (both borrowed for the call). Last in the vtable, so that a host that
    /// zero-initialises it, or fills it positionally as an older header had it, has none.
    pub change_password: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            user_id: *const c_char,
            current: *const c_char,
            new_password: *const c_char,
            done: *mut SsprCompletion,
        ),
    >,
}

/// A notifier written in C.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprNotifierVtable {
    /// Passed to every function; must be usable from any thread.
    pub ctx: *mut c_void,
    /// Deliver one notice; finish with `sspr_complete_ok` once it is accepted for delivery,
    /// or `sspr_complete_error` (`REJECTED` for a channel you do not serve).
    pub send: Option<
        unsafe extern "C" fn(ctx: *mut c_void, notification: *const SsprNotification, done: *mut SsprCompletion),
    >,
    /// Called once for this vtable when the engine no longer needs `ctx` (may be NULL): a
    /// `ctx` shared by several vtables gets one call from each, so count them before freeing it.
    pub release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

/// A contact store written in C (optional: without one the engine keeps enrollments in
/// memory).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprContactStoreVtable {
    /// Passed to every function; must be usable from any thread.
    pub ctx: *mut c_void,
    /// The enrollment of `user_id`: finish with `sspr_complete_enrollment` (NULL for none).
    pub get: Option<unsafe extern "C" fn(ctx: *mut c_void, user_id: *const c_char, done: *mut SsprCompletion)>,
    /// Store `enrollment` only if the stored version is `expected_version` (0: none yet),
    /// as version `expected_version + 1`; finish with `sspr_complete_bool` (whether it was
    /// stored).
    pub save: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            user_id: *const c_char,
            enrollment: *const SsprEnrollment,
            expected_version: u64,
            done: *mut SsprCompletion,
        ),
    >,
    /// Called once for this vtable when the engine no longer needs `ctx` (may be NULL): a
    /// `ctx` shared by several vtables gets one call from each, so count them before freeing it.
    pub release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

type UserFn = unsafe extern "C" fn(*mut c_void, *const c_char, *mut SsprCompletion);

pub(crate) struct CDirectory {
    ctx: Arc<Ctx>,
    find_user: UserFn,
    set_password: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, bool, *mut SsprCompletion),
    unlock: UserFn,
    authenticate: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut SsprCompletion),
    search: unsafe extern "C" fn(*mut c_void, *const c_char, usize, *mut SsprCompletion),
    change_password: Option<ChangeFn>,
}

type ChangeFn = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *const c_char, *mut SsprCompletion);

impl CDirectory {
    pub(crate) fn new(ctx: Ctx, v: &SsprDirectoryVtable) -> Result<Self, SsprError> {
        Ok(Self {
            find_user: v.find_user.ok_or_else(|| SsprError::null("directory.find_user"))?,
            set_password: v.set_password.ok_or_else(|| SsprError::null("directory.set_password"))?,
            unlock: v.unlock.ok_or_else(|| SsprError::null("directory.unlock"))?,
            authenticate: v.authenticate.ok_or_else(|| SsprError::null("directory.authenticate"))?,
            search: v.search.ok_or_else(|| SsprError::null("directory.search"))?,
            change_password: v.change_password,
            ctx: Arc::new(ctx),
        })
    }
}

opaque_debug!(CDirectory, CPasswordChecker, CEventHook, CAudit, CNotifier, CContactStore);

#[async_trait::async_trait]
impl sspr_core::Directory for CDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        let rx = self.ctx.call_text(self.find_user, login.as_str());
        answer(rx, "find_user").await
    }

    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        let rx = {
            let id = c_string(user.as_str().to_owned());
            let secret = secret_c(password.expose_secret())?;
            let (done, rx) = completion(&self.ctx);
            // SAFETY: as in `Ctx::call_text`; the password buffer lives until after the call.
            unsafe { (self.set_password)(self.ctx.ptr, id.as_ptr(), secret.as_ptr().cast(), must_change, done) };
            rx
        };
        answer(rx, "set_password").await
    }

    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        let rx = self.ctx.call_text(self.unlock, user.as_str());
        answer(rx, "unlock").await
    }

    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        let rx = {
            let id = c_string(user.as_str().to_owned());
            let secret = secret_c(password.expose_secret())?;
            let (done, rx) = completion(&self.ctx);
            // SAFETY: as in `Ctx::call_text`; the password buffer lives until after the call.
            unsafe { (self.authenticate)(self.ctx.ptr, id.as_ptr(), secret.as_ptr().cast(), done) };
            rx
        };
        answer(rx, "authenticate").await
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        let rx = {
            let query = c_string(query.to_owned());
            let (done, rx) = completion(&self.ctx);
            // SAFETY: as in `Ctx::call_text`.
            unsafe { (self.search)(self.ctx.ptr, query.as_ptr(), limit, done) };
            rx
        };
        answer(rx, "search").await
    }

    async fn change_password(&self, user: &UserId, old: &Password, new: &Password) -> Result<(), BackendError> {
        let Some(change) = self.change_password else {
            return Err(BackendError::not_supported("change_password"));
        };
        let rx = {
            let id = c_string(user.as_str().to_owned());
            let (old, new) = (secret_c(old.expose_secret())?, secret_c(new.expose_secret())?);
            let (done, rx) = completion(&self.ctx);
            // SAFETY: as in `Ctx::call_text`; both password buffers live until after the call.
            unsafe { change(self.ctx.ptr, id.as_ptr(), old.as_ptr().cast(), new.as_ptr().cast(), done) };
            rx
        };
        answer(rx, "change_password").await
    }
}

/// An audit sink written in C (optional; see `SsprEngineOptions.audit`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprAuditVtable {
    /// Passed to every call; must be usable from any thread.
    pub ctx: *mut c_void,
    /// Receive one audit event as JSON (one object of sspr's versioned audit schema;
    /// NUL-terminated UTF-8, borrowed for the call; never holds a secret). Called from any
    /// thread, possibly concurrently, on the request's path: return quickly (hand the line
    /// to a queue if it goes somewhere slow). Return `true` once recorded, `false` on
    /// failure (the engine reports it; the operation it describes is not undone).
    pub record: Option<unsafe extern "C" fn(ctx: *mut c_void, event_json: *const c_char) -> bool>,
    /// Called once for this vtable when the engine no longer needs `ctx` (may be NULL): a
    /// `ctx` shared by several vtables gets one call from each, so count them before freeing it.
    pub release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
    /// NULL, or called by `sspr_flush_audit` (at shutdown): return once every event handed
    /// to `record` so far is written where it goes (the queue drained), `true` on success,
    /// `false` if some could not be (`sspr_flush_audit` then fails with
    /// `SSPR_STATUS_BACKEND`). Called from any thread.
    pub flush: Option<unsafe extern "C" fn(ctx: *mut c_void) -> bool>,
}

/// A check of a chosen password written in C, run after the policy's own checks and the
/// configured ones (`SsprEngineOptions.password_checkers`, in order; the first refusal wins).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprPasswordCheckerVtable {
    /// Passed to every call; must be usable from any thread.
    pub ctx: *mut c_void,
    /// Check `password`, chosen by the user `login` (`display_name`); all three borrowed for
    /// the call: never keep or log the password. Finish with `sspr_complete_password_check`
    /// (NULL accepts, a reason refuses), or `sspr_complete_error` (`UNAVAILABLE` when the
    /// check cannot be made: the engine then refuses the password unless the policy's
    /// `password_check_fail_open` is on).
    pub check: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            password: *const c_char,
            login: *const c_char,
            display_name: *const c_char,
            done: *mut SsprCompletion,
        ),
    >,
    /// Called once for this vtable when the engine no longer needs `ctx` (may be NULL): a
    /// `ctx` shared by several vtables gets one call from each, so count them before freeing it.
    pub release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

pub(crate) struct CPasswordChecker {
    ctx: Arc<Ctx>,
    check: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *const c_char, *mut SsprCompletion),
}

impl CPasswordChecker {
    pub(crate) fn new(ctx: Ctx, v: &SsprPasswordCheckerVtable) -> Result<Self, SsprError> {
        Ok(Self { check: v.check.ok_or_else(|| SsprError::null("password_checkers.check"))?, ctx: Arc::new(ctx) })
    }
}

#[async_trait::async_trait]
impl sspr_core::PasswordChecker for CPasswordChecker {
    async fn check(&self, candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError> {
        let rx = {
            let password = secret_c(candidate.password.expose_secret())?;
            let login = c_string(candidate.user.login.as_str().to_owned());
            let name = c_string(candidate.user.display_name.clone());
            let (done, rx) = completion(&self.ctx);
            // SAFETY: the vtable function given by the C side, with its ctx, strings that live
            // until after the call, and a fresh completion.
            unsafe { (self.check)(self.ctx.ptr, password.as_ptr().cast(), login.as_ptr(), name.as_ptr(), done) };
            rx
        };
        Ok(PasswordFeedback::from_host_reason(answer(rx, "check").await?))
    }
}

/// An event hook written in C (`SsprEngineOptions.hooks`): called off the request path after
/// each event it subscribed to is recorded, at most 10 s; a failure (or no answer in time) is
/// audited as `hook_failed` and never breaks the operation. E.g. end a user's sessions after a
/// reset.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprEventHookVtable {
    /// Passed to every call; must be usable from any thread.
    pub ctx: *mut c_void,
    /// The events it is called for: one bit per `SsprHookEvent` value
    /// (`1u << SSPR_HOOK_EVENT_RESET_COMPLETED | 1u << SSPR_HOOK_EVENT_USER_BLOCKED`). None
    /// (0) is `SSPR_STATUS_CONFIG`: such a hook would never be called.
    pub events: u32,
    /// Act on `event`; `audit_json` is the audit event (one object
    /// of sspr's versioned audit schema, never a secret; borrowed for the call). Finish with
    /// `sspr_complete_ok`, or `sspr_complete_error` (its text is audited: no secret in it).
    pub on_event: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            event: SsprHookEvent,
            audit_json: *const c_char,
            done: *mut SsprCompletion,
        ),
    >,
    /// Called once for this vtable when the engine no longer needs `ctx` (may be NULL): a
    /// `ctx` shared by several vtables gets one call from each, so count them before freeing it.
    pub release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

pub(crate) struct CEventHook {
    ctx: Arc<Ctx>,
    events: u32,
    on_event: unsafe extern "C" fn(*mut c_void, SsprHookEvent, *const c_char, *mut SsprCompletion),
}

impl CEventHook {
    pub(crate) fn new(ctx: Ctx, v: &SsprEventHookVtable) -> Result<Self, SsprError> {
        Ok(Self {
            events: v.events,
            on_event: v.on_event.ok_or_else(|| SsprError::null("hooks.on_event"))?,
            ctx: Arc::new(ctx),
        })
    }

    /// The core's events whose bits are set in `events`.
    pub(crate) fn events(&self) -> Vec<sspr_core::HookEvent> {
        SsprHookEvent::VARIANTS
            .iter()
            .filter(|(event, _)| event.raw() < 32 && self.events & (1 << event.raw()) != 0)
            .filter_map(|(event, _)| event.to_core())
            .collect()
    }
}

#[async_trait::async_trait]
impl sspr_core::EventHook for CEventHook {
    async fn on_event(&self, event: sspr_core::HookEvent, audit: &sspr_core::AuditEvent) -> Result<(), BackendError> {
        let event = SsprHookEvent::from_core_name(event.as_str())
            .ok_or_else(|| BackendError::new(BackendErrorKind::Other, "an event this header does not name"))?;
        let json = c_string(audit.to_json());
        let on_event = self.on_event;
        let rx = call_c(&self.ctx, move |ctx| {
            let (done, rx) = completion(ctx);
            // SAFETY: the vtable function given by the C side, with its ctx, a string that
            // lives until after the call, and a fresh completion.
            unsafe { on_event(ctx.ptr, event, json.as_ptr(), done) };
            rx
        })
        .await?;
        answer(rx, "on_event").await
    }
}

pub(crate) struct CAudit {
    ctx: Ctx,
    record: unsafe extern "C" fn(*mut c_void, *const c_char) -> bool,
    flush: Option<unsafe extern "C" fn(*mut c_void) -> bool>,
}

impl CAudit {
    pub(crate) fn new(ctx: Ctx, v: &SsprAuditVtable) -> Result<Self, SsprError> {
        Ok(Self { record: v.record.ok_or_else(|| SsprError::null("audit.record"))?, flush: v.flush, ctx })
    }
}

#[async_trait::async_trait]
impl sspr_core::AuditSink for CAudit {
    async fn record(&self, event: &sspr_core::AuditEvent) -> Result<(), BackendError> {
        let json = c_string(event.to_json());
        // SAFETY: the vtable's contract: `ctx` usable from any thread; the string is valid
        // for the call.
        let recorded = unsafe { (self.record)(self.ctx.ptr, json.as_ptr()) };
        if recorded {
            Ok(())
        } else {
            Err(BackendError::new(BackendErrorKind::Other, "the C audit sink refused the event"))
        }
    }

    async fn flush(&self) -> Result<(), BackendError> {
        let Some(flush) = self.flush else { return Ok(()) };
        // SAFETY: the vtable's contract: `ctx` usable from any thread.
        if unsafe { flush(self.ctx.ptr) } {
            Ok(())
        } else {
            Err(BackendError::new(BackendErrorKind::Other, "the C audit sink could not flush"))
        }
    }
}

pub(crate) struct CNotifier {
    ctx: Arc<Ctx>,
    send: unsafe extern "C" fn(*mut c_void, *const SsprNotification, *mut SsprCompletion),
}

impl CNotifier {
    pub(crate) fn new(ctx: Ctx, v: &SsprNotifierVtable) -> Result<Self, SsprError> {
        Ok(Self { send: v.send.ok_or_else(|| SsprError::null("notifier.send"))?, ctx: Arc::new(ctx) })
    }
}

#[async_trait::async_trait]
impl sspr_core::Notifier for CNotifier {
    async fn send(&self, n: &Notification) -> Result<(), BackendError> {
        let to = c_string(n.to.as_str().to_owned());
        let rendered = n.render();
        let subject = c_string(rendered.subject);
        let body = secret_c(&rendered.body)?;
        let pin = n.pin().map(|p| secret_c(p.expose_secret())).transpose()?;
        let pin_expires_at = match &n.message {
            Message::Pin { expires_at, .. } => expires_at.unix_timestamp(),
            _ => 0,
        };
        let (channel, locale, kind, at) = (n.to.channel(), n.locale, n.message.kind(), n.at.unix_timestamp());
        let send = self.send;
        let rx = call_c(&self.ctx, move |ctx| {
            let c = SsprNotification {
                channel: SsprChannel::from_core_name(channel.as_str()).unwrap_or(SsprChannel::Email),
                to: to.as_ptr(),
                locale: SsprLocale::from_core_name(locale.as_str()).unwrap_or(SsprLocale::En),
                kind: SsprMessageKind::from_core_name(kind).unwrap_or(SsprMessageKind::Other),
                pin: pin.as_ref().map_or(std::ptr::null(), |p| p.as_ptr().cast()),
                pin_expires_at,
                subject: subject.as_ptr(),
                body: body.as_ptr().cast(),
                at,
            };
            let (done, rx) = completion(ctx);
            // SAFETY: the vtable function given by the C side, with its ctx, a notification
            // whose strings live until after the call, and a fresh completion.
            unsafe { send(ctx.ptr, &c, done) };
            rx
        })
        .await?;
        answer(rx, "send").await
    }
}

pub(crate) struct CContactStore {
    ctx: Arc<Ctx>,
    get: UserFn,
    save: unsafe extern "C" fn(*mut c_void, *const c_char, *const SsprEnrollment, u64, *mut SsprCompletion),
}

impl CContactStore {
    pub(crate) fn new(ctx: Ctx, v: &SsprContactStoreVtable) -> Result<Self, SsprError> {
        Ok(Self {
            get: v.get.ok_or_else(|| SsprError::null("contacts.get"))?,
            save: v.save.ok_or_else(|| SsprError::null("contacts.save"))?,
            ctx: Arc::new(ctx),
        })
    }
}

#[async_trait::async_trait]
impl sspr_core::ContactStore for CContactStore {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        let rx = self.ctx.call_text(self.get, user.as_str());
        answer(rx, "get").await
    }

    async fn save(&self, user: &UserId, e: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        let rx = {
            let id = c_string(user.as_str().to_owned());
            let email = e.email.as_ref().map(|c| c_string(c.value.as_str().to_owned()));
            let phone = e.phone.as_ref().map(|c| c_string(c.value.as_str().to_owned()));
            let history = c_string(e.history.to_json()?);
            let c = SsprEnrollment {
                enabled: e.enabled,
                email: email.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                email_added_at: e.email.as_ref().map_or(0, |c| c.added_at.unix_timestamp()),
                email_usable_from: e.email.as_ref().map_or(0, |c| c.usable_from.unix_timestamp()),
                phone: phone.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                phone_added_at: e.phone.as_ref().map_or(0, |c| c.added_at.unix_timestamp()),
                phone_usable_from: e.phone.as_ref().map_or(0, |c| c.usable_from.unix_timestamp()),
                has_last_reset: e.last_reset_at.is_some(),
                last_reset_at: e.last_reset_at.map_or(0, |t| t.unix_timestamp()),
                version: e.version,
                history: history.as_ptr(),
            };
            let (done, rx) = completion(&self.ctx);
            // SAFETY: the vtable function given by the C side, with its ctx, data that lives
            // until after the call, and a fresh completion.
            unsafe { (self.save)(self.ctx.ptr, id.as_ptr(), &c, expected_version, done) };
            rx
        };
        answer(rx, "save").await
    }
}

#[cfg(test)]
mod tests {
    //! The core's directory contract, change included, through the C adapter: a directory
    //! written against the C vtable (over the core's memory directory) must come out of
    //! `CDirectory` keeping every promise the core's directories keep.

    use std::ffi::{CStr, CString};

    use futures::executor::block_on;
    use sspr_core::Directory as _;
    use sspr_core::memory::MemoryDirectory;
    use sspr_core::testing::{self, DirectoryFixture};

    use super::*;

    /// The memory directory's answer, which it gives at once (the shim runs inside the test's
    /// `block_on`, where another executor may not run).
    fn now<T>(call: impl std::future::Future<Output = T>) -> T {
        futures::FutureExt::now_or_never(Box::pin(call)).expect("the memory directory answers at once")
    }

    /// `ctx` is the `MemoryDirectory`; `text` a valid string.
    unsafe fn args<'a>(ctx: *mut c_void, text: *const c_char) -> (&'a MemoryDirectory, String) {
        // SAFETY: the test hands its own directory and valid strings.
        unsafe { (&*ctx.cast::<MemoryDirectory>(), CStr::from_ptr(text).to_string_lossy().into_owned()) }
    }

    /// Finish `done` with `result`'s failure as a C directory reports one.
    unsafe fn fail(done: *mut SsprCompletion, e: &BackendError) {
        let message = CString::new(e.message()).unwrap();
        // SAFETY: an unfinished completion, finished once here.
        unsafe {
            match e.refusal() {
                Some(r) => sspr_complete_password_refused(
                    done,
                    SsprPasswordRefusal::from_core_name(r.as_str()).unwrap().raw(),
                    message.as_ptr(),
                ),
                None => sspr_complete_error(
                    done,
                    SsprBackendErrorKind::from_core_name(e.kind().as_str()).unwrap().raw(),
                    message.as_ptr(),
                ),
            };
        }
    }

    unsafe extern "C" fn find_user(ctx: *mut c_void, login: *const c_char, done: *mut SsprCompletion) {
        // SAFETY: the test's contract.
        let (dir, login) = unsafe { args(ctx, login) };
        let found = now(dir.find_user(&NormalizedLogin::parse(&login).unwrap())).unwrap();
        let Some(u) = found else {
            // SAFETY: an unfinished completion.
            unsafe { sspr_complete_user(done, std::ptr::null()) };
            return;
        };
        let s = |t: &str| CString::new(t).unwrap();
        let (id, login, name, dn) = (s(u.id.as_str()), s(&u.login), s(&u.display_name), s(&u.dn));
        let groups: Vec<CString> = u.groups.iter().map(|g| s(g)).collect();
        let group_ptrs: Vec<*const c_char> = groups.iter().map(|g| g.as_ptr()).collect();
        let user = SsprDirectoryUser {
            id: id.as_ptr(),
            login: login.as_ptr(),
            display_name: name.as_ptr(),
            dn: dn.as_ptr(),
            groups: group_ptrs.as_ptr(),
            groups_len: group_ptrs.len(),
            disabled: u.state.disabled,
            expired: u.state.expired,
            locked: u.state.locked,
            mail: std::ptr::null(),
        };
        // SAFETY: an unfinished completion and a user whose strings outlive the call.
        unsafe { sspr_complete_user(done, &user) };
    }

    unsafe extern "C" fn set_password(
        ctx: *mut c_void,
        id: *const c_char,
        password: *const c_char,
        must_change: bool,
        done: *mut SsprCompletion,
    ) {
        // SAFETY: the test's contract.
        let ((dir, id), (_, password)) = unsafe { (args(ctx, id), args(ctx, password)) };
        match now(dir.set_password(&UserId::new(id), &Password::new(password), must_change)) {
            Ok(()) => {
                // SAFETY: an unfinished completion.
                unsafe { sspr_complete_ok(done) };
            }
            // SAFETY: as above.
            Err(e) => unsafe { fail(done, &e) },
        }
    }

    unsafe extern "C" fn unlock(ctx: *mut c_void, id: *const c_char, done: *mut SsprCompletion) {
        // SAFETY: the test's contract.
        let (dir, id) = unsafe { args(ctx, id) };
        now(dir.unlock(&UserId::new(id))).unwrap();
        // SAFETY: an unfinished completion.
        unsafe { sspr_complete_ok(done) };
    }

    unsafe extern "C" fn authenticate(
        ctx: *mut c_void,
        id: *const c_char,
        password: *const c_char,
        done: *mut SsprCompletion,
    ) {
        // SAFETY: the test's contract.
        let ((dir, id), (_, password)) = unsafe { (args(ctx, id), args(ctx, password)) };
        let answer = now(dir.authenticate(&UserId::new(id), &Password::new(password))).unwrap();
        let raw = SsprAuthentication::from_core_name(answer.as_str()).unwrap().raw();
        // SAFETY: an unfinished completion.
        unsafe { sspr_complete_authentication(done, raw) };
    }

    unsafe extern "C" fn search(ctx: *mut c_void, query: *const c_char, limit: usize, done: *mut SsprCompletion) {
        // SAFETY: the test's contract.
        let (dir, query) = unsafe { args(ctx, query) };
        let found = now(dir.search(&query, limit)).unwrap();
        let s = |t: &str| CString::new(t).unwrap();
        let strings: Vec<[CString; 4]> =
            found.iter().map(|u| [s(u.id.as_str()), s(&u.login), s(&u.display_name), s(&u.dn)]).collect();
        let users: Vec<SsprDirectoryUser> = strings
            .iter()
            .map(|[id, login, name, dn]| SsprDirectoryUser {
                id: id.as_ptr(),
                login: login.as_ptr(),
                display_name: name.as_ptr(),
                dn: dn.as_ptr(),
                groups: std::ptr::null(),
                groups_len: 0,
                disabled: false,
                expired: false,
                locked: false,
                mail: std::ptr::null(),
            })
            .collect();
        // SAFETY: an unfinished completion and users whose strings outlive the call.
        unsafe { sspr_complete_users(done, users.as_ptr(), users.len()) };
    }

    unsafe extern "C" fn change_password(
        ctx: *mut c_void,
        id: *const c_char,
        current: *const c_char,
        new: *const c_char,
        done: *mut SsprCompletion,
    ) {
        // SAFETY: the test's contract.
        let ((dir, id), (_, current), (_, new)) = unsafe { (args(ctx, id), args(ctx, current), args(ctx, new)) };
        match now(dir.change_password(&UserId::new(id), &Password::new(current), &Password::new(new))) {
            Ok(()) => {
                // SAFETY: an unfinished completion.
                unsafe { sspr_complete_ok(done) };
            }
            // SAFETY: as above.
            Err(e) => unsafe { fail(done, &e) },
        }
    }

    fn c_directory(memory: &MemoryDirectory, change: bool) -> CDirectory {
        let vtable = SsprDirectoryVtable {
            ctx: std::ptr::from_ref(memory).cast_mut().cast(),
            find_user: Some(find_user),
            set_password: Some(set_password),
            unlock: Some(unlock),
            authenticate: Some(authenticate),
            search: Some(search),
            release: None,
            change_password: if change { Some(change_password) } else { None },
        };
        CDirectory::new(take_ctx(vtable.ctx, None), &vtable).unwrap_or_else(|_| panic!("a complete vtable"))
    }

    fn fixture() -> DirectoryFixture {
        DirectoryFixture {
            login: "Alice@Example.org".into(),
            id: UserId::new("uid=alice,ou=staff,dc=example,dc=org"),
            missing_login: "nobody@example.org".into(),
            good_password: Password::new("Tulip-Harbour-Engine-7"),
            weak_password: Some(Password::new("weak")),
            groups: Vec::new(),
        }
    }

    fn memory() -> MemoryDirectory {
        MemoryDirectory::from_json(
            r#"[{"login": "alice@example.org", "display_name": "Alice", "dn": "uid=alice,ou=staff,dc=example,dc=org"}]"#,
        )
        .unwrap()
    }

    #[test]
    fn a_c_directory_keeps_the_directory_contract_change_included() {
        let memory = memory();
        let directory = c_directory(&memory, true);
        block_on(testing::directory_conformance(&directory, &fixture()));
        block_on(testing::directory_change_conformance(&directory, &fixture()));
    }

    #[test]
    fn a_c_directory_without_change_password_answers_not_supported_and_changes_nothing() {
        let memory = memory();
        let directory = c_directory(&memory, false);
        let f = fixture();
        let good = &f.good_password;
        block_on(directory.set_password(&f.id, good, false)).unwrap();
        let next = Password::new("Another-Meadow-Lamp-3");
        let err = block_on(sspr_core::Directory::change_password(&directory, &f.id, good, &next)).unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::NotSupported);
        assert_eq!(block_on(directory.authenticate(&f.id, good)).unwrap(), Authentication::Accepted);
    }

    #[test]
    fn a_refusal_that_names_no_rule_is_invalid_input_and_fails_the_call() {
        for raw in [SsprPasswordRefusal::None.raw(), SsprPasswordRefusal::Other.raw(), 12345] {
            let (done, rx) = completion(&Arc::new(take_ctx(std::ptr::null_mut(), None)));
            // SAFETY: a fresh completion, finished once.
            let status = unsafe { sspr_complete_password_refused(done, raw, std::ptr::null()) };
            assert_eq!(status, SsprStatus::InvalidInput);
            let err = block_on(answer::<()>(rx, "change_password")).unwrap_err();
            assert_eq!((err.kind(), err.refusal()), (BackendErrorKind::Rejected, None), "{raw}");
        }
    }
}
