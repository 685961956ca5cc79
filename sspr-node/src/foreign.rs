//! Backends written in JavaScript: plain objects or class instances whose methods are sync
//! or `async`. `index.js` binds each method to its object and passes the bound functions
//! here; each becomes a **weak** threadsafe function (a long-lived `Sspr` must not keep the
//! process alive), called with `call_async_catch` (a throw is an error, not a crash). A
//! method's result may be a value or a Promise of it; a throw or a rejection becomes a
//! `BackendError` whose source is what was thrown, so `SsprError.cause` is that value.
//!
//! `index.js` hands every failure on as an error whose message is `[kind] text`, where `kind`
//! is the thrown error's `kind` property (the `BackendError` class sets it): `unavailable`,
//! `password_rejected`, `rejected` are the kinds the engine acts on; anything else is `other`.
//! The original thrown value is that error's `cause`, which `index.js` makes the
//! `SsprError`'s `cause`.

use std::fmt;

use chrono::{DateTime, Utc};
use napi::Status;
use napi::bindgen_prelude::Buffer;
use napi::bindgen_prelude::{
    Either, FnArgs, FromNapiValue, Function, FunctionRef, JsObjectValue, JsValuesTupleIntoVec, Object, Promise,
    TypeName, ValidateNapiValue,
};
use napi::threadsafe_function::ThreadsafeFunction;
use sspr_bind::EnrollmentParts;
use sspr_core::backend::{Counter, DirectoryUser, Enrollment, StoredValue};
use sspr_core::notice::Notification;
use sspr_core::{
    AuditEvent, AuditSink, Authentication, BackendError, BackendErrorKind, ContactStore, Directory, NormalizedLogin,
    Notifier, Password, StateStore, UserId, async_trait,
};
use time::OffsetDateTime;

use crate::values::{CounterJs, DirectoryUserJs, EnrollmentJs, NotificationJs, StoredValueJs, from_chrono, to_chrono};

/// What a JavaScript method returns: its value, or a Promise of it.
type Returned<Ret> = Either<Promise<Ret>, Ret>;

/// A JavaScript function as the core calls it, two ways: directly when the engine runs on the
/// JavaScript thread (its first poll, in `runtime::run`: no thread hop, and a sync method's
/// answer is there at once), and through a **weak** threadsafe function from any other thread
/// (a long-lived `Sspr` must not keep the process alive), errors caught either way.
struct Method<Args, Ret>
where
    Args: 'static + JsValuesTupleIntoVec,
    Ret: 'static + FromNapiValue + TypeName + ValidateNapiValue,
{
    direct: FunctionRef<Args, Returned<Ret>>,
    threadsafe: ThreadsafeFunction<Args, Returned<Ret>, Args, Status, false, true>,
}

/// Make a method from the named function of `object`.
fn method<Args, Ret>(object: &Object<'_>, name: &str) -> napi::Result<Method<Args, Ret>>
where
    Args: 'static + JsValuesTupleIntoVec,
    Ret: 'static + FromNapiValue + TypeName + ValidateNapiValue,
{
    let function: Function<'_, Args, Returned<Ret>> = object.get_named_property(name)?;
    Ok(Method {
        direct: function.create_ref()?,
        threadsafe: function.build_threadsafe_function::<Args>().weak::<true>().callee_handled::<false>().build()?,
    })
}

/// The kind a thrown error names, and its message.
fn kind_of(thrown: &str) -> (BackendErrorKind, &str) {
    let Some(rest) = thrown.strip_prefix('[') else { return (BackendErrorKind::Other, thrown) };
    let Some((kind, message)) = rest.split_once("] ") else { return (BackendErrorKind::Other, thrown) };
    // A `kind` this version does not know is `other`: the thrown value is still the cause.
    (kind.parse().unwrap_or(BackendErrorKind::Other), message)
}

/// What a JavaScript backend threw, kept as a backend error's source: the error `index.js` made
/// of it (its `cause` is the thrown value, which becomes the `SsprError`'s `cause`), and what a
/// log of the thrown value prints (`util.inspect`: its `cause` chain, its own properties, an
/// `AggregateError`'s errors) as the next link of the source chain. The core drops the source
/// when the text of any link quotes a secret the call was handed (R.20), as it does for the
/// message; a bland message over a wrapped error quoting the password is then no way out.
pub(crate) struct JsThrown {
    /// The error `index.js` threw, its reason the message alone.
    pub(crate) error: napi::Error,
    shown: Option<ThrownText>,
}

/// What a log of the thrown value prints (`util.inspect`), one link of the source chain.
#[derive(Debug)]
struct ThrownText(String);

impl fmt::Display for ThrownText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ThrownText {}

impl JsThrown {
    /// `index.js` writes the message, then a NUL, then what `util.inspect` prints of the thrown
    /// value (no NUL: the message alone, when it could not be inspected).
    fn new(mut error: napi::Error) -> Self {
        let shown = error.reason.split_once('\0').map(|(message, shown)| (message.to_owned(), shown.to_owned()));
        let shown = shown.map(|(message, shown)| {
            error.reason = message;
            ThrownText(shown)
        });
        Self { error, shown }
    }
}

impl fmt::Debug for JsThrown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for JsThrown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error.reason)
    }
}

impl std::error::Error for JsThrown {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.shown.as_ref().map(|shown| shown as &(dyn std::error::Error + 'static))
    }
}

/// A JavaScript failure as a backend error, keeping what was thrown as its source.
fn failed(what: &'static str, error: napi::Error) -> BackendError {
    if error.status == Status::PendingException || error.status == Status::GenericFailure {
        let thrown = JsThrown::new(error);
        let (kind, message) = kind_of(&thrown.error.reason);
        let message = format!("{what}: {message}");
        BackendError::new(kind, message).with_source(thrown)
    } else {
        // The call returned, but not what the method must return (a conversion failure).
        let message = format!("{what} returned an unexpected value: {}", error.reason);
        BackendError::new(BackendErrorKind::Rejected, message).with_source(error)
    }
}

/// Call a JavaScript method and wait for its result, sync or async.
async fn call<Args, Ret>(f: &Method<Args, Ret>, args: Args, what: &'static str) -> Result<Ret, BackendError>
where
    Args: 'static + JsValuesTupleIntoVec,
    Ret: 'static + FromNapiValue + TypeName + ValidateNapiValue + Send,
{
    let returned = if crate::runtime::on_js_thread() {
        crate::runtime::with_js_env(|env| f.direct.borrow_back(env).and_then(|function| function.call(args)))
    } else {
        f.threadsafe.call_async_catch(args).await
    };
    match returned {
        Ok(Either::A(promise)) => promise.await.map_err(|e| failed(what, e)),
        Ok(Either::B(value)) => Ok(value),
        Err(e) => Err(failed(what, e)),
    }
}

/// A backend written in JavaScript: a struct of its methods, each made from the function of
/// that (JavaScript) name, with a `Debug` that shows no state.
macro_rules! js_backend {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty = $js:literal),+ $(,)? }) => {
        $(#[$doc])*
        pub(crate) struct $name {
            $($field: $ty,)+
        }

        impl $name {
            /// From the bound functions `index.js` made of the object's methods.
            pub(crate) fn new(object: &Object<'_>) -> napi::Result<Self> {
                Ok(Self { $($field: method(object, $js)?,)+ })
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

js_backend! {
    /// A `Directory` written in JavaScript.
    JsDirectory {
        find_user: Method<String, Option<DirectoryUserJs>> = "findUser",
        set_password: Method<FnArgs<(String, String, bool)>, ()> = "setPassword",
        unlock: Method<String, ()> = "unlock",
        authenticate: Method<FnArgs<(String, String)>, String> = "authenticate",
        search: Method<FnArgs<(String, u32)>, Vec<DirectoryUserJs>> = "search",
    }
}

#[async_trait]
impl Directory for JsDirectory {
    async fn find_user(&self, login: &NormalizedLogin) -> Result<Option<DirectoryUser>, BackendError> {
        let user = call(&self.find_user, login.as_str().to_owned(), "directory.findUser").await?;
        user.map(DirectoryUser::try_from).transpose()
    }

    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        let args = FnArgs::from((user.as_str().to_owned(), password.expose_secret().to_owned(), must_change));
        call(&self.set_password, args, "directory.setPassword").await
    }

    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        call(&self.unlock, user.as_str().to_owned(), "directory.unlock").await
    }

    async fn authenticate(&self, user: &UserId, password: &Password) -> Result<Authentication, BackendError> {
        let args = FnArgs::from((user.as_str().to_owned(), password.expose_secret().to_owned()));
        let answer = call(&self.authenticate, args, "directory.authenticate").await?;
        answer.parse::<Authentication>().map_err(|_| {
            let names = Authentication::NAMES.join("', '");
            BackendError::new(
                BackendErrorKind::Rejected,
                format!("directory.authenticate must return one of '{names}'"),
            )
        })
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<DirectoryUser>, BackendError> {
        let args = FnArgs::from((query.to_owned(), u32::try_from(limit).unwrap_or(u32::MAX)));
        let users = call(&self.search, args, "directory.search").await?;
        users.into_iter().take(limit).map(DirectoryUser::try_from).collect()
    }
}

js_backend! {
    /// A `PasswordChecker` written in JavaScript: `check(password, login, displayName)` gives
    /// null to accept the chosen password or a reason (a string, shown to the user) to refuse
    /// it (refusal `unspecified`); throwing `new BackendError('unavailable', ...)` lets the
    /// policy's `password_check_fail_open` decide, anything else refuses. Sync or async.
    JsPasswordChecker {
        check: Method<FnArgs<(String, String, String)>, Option<String>> = "check",
    }
}

#[async_trait]
impl sspr_core::PasswordChecker for JsPasswordChecker {
    async fn check(
        &self,
        candidate: &sspr_core::PasswordCandidate<'_>,
    ) -> Result<Option<sspr_core::PasswordFeedback>, BackendError> {
        let args = FnArgs::from((
            candidate.password.expose_secret().to_owned(),
            candidate.user.login.clone(),
            candidate.user.display_name.clone(),
        ));
        let reason = call(&self.check, args, "passwordChecker.check").await?;
        Ok(sspr_core::PasswordFeedback::from_host_reason(reason))
    }
}

js_backend! {
    /// An event hook written in JavaScript: `onEvent(event, auditJson)`, which `index.js` makes
    /// of the user's `hooks: { resetCompleted: (event, audit) => ... }` (the audit event parsed).
    /// What it returns is ignored; a throw or a rejection is audited as `hook_failed`.
    JsEventHook {
        on_event: Method<FnArgs<(String, String)>, ()> = "onEvent",
    }
}

#[async_trait]
impl sspr_core::EventHook for JsEventHook {
    async fn on_event(&self, event: sspr_core::HookEvent, audit: &AuditEvent) -> Result<(), BackendError> {
        call(&self.on_event, FnArgs::from((event.as_str().to_owned(), audit.to_json())), "hook").await
    }
}

js_backend! {
    /// A `ContactStore` written in JavaScript.
    JsContactStore {
        get: Method<String, Option<EnrollmentJs>> = "get",
        save: Method<FnArgs<(String, EnrollmentJs, i64)>, bool> = "save",
    }
}

#[async_trait]
impl ContactStore for JsContactStore {
    async fn get(&self, user: &UserId) -> Result<Option<Enrollment>, BackendError> {
        let Some(found) = call(&self.get, user.as_str().to_owned(), "contacts.get").await? else { return Ok(None) };
        let parts = EnrollmentParts::try_from(found).map_err(|e| {
            BackendError::new(BackendErrorKind::Rejected, format!("contacts.get returned an invalid enrollment: {e}"))
        })?;
        Ok(Some(parts.validate()?))
    }

    async fn save(&self, user: &UserId, enrollment: &Enrollment, expected_version: u64) -> Result<bool, BackendError> {
        let expected = i64::try_from(expected_version)
            .map_err(|_| BackendError::new(BackendErrorKind::Rejected, "version out of range"))?;
        let args = FnArgs::from((user.as_str().to_owned(), EnrollmentJs::from(enrollment), expected));
        call(&self.save, args, "contacts.save").await
    }
}

js_backend! {
    /// A `Notifier` written in JavaScript.
    JsNotifier {
        send: Method<NotificationJs, ()> = "send",
    }
}

#[async_trait]
impl Notifier for JsNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        call(&self.send, NotificationJs::from(notification), "notifier.send").await
    }
}

js_backend! {
    /// The inbox `testing.checkNotifier` reads: `read(destination)` gives the messages
    /// delivered there so far, oldest first, as text.
    JsInbox {
        read: Method<String, Vec<String>> = "read",
    }
}

#[async_trait]
impl sspr_core::testing::Inbox for JsInbox {
    async fn read(&self, to: &sspr_core::Destination) -> Result<Vec<String>, BackendError> {
        call(&self.read, to.as_str().to_owned(), "inbox.read").await
    }
}

js_backend! {
    /// An `AuditSink` written in JavaScript: `record` receives each event as JSON text
    /// (`index.js` parses it).
    JsAuditSink {
        record: Method<String, ()> = "record",
    }
}

#[async_trait]
impl AuditSink for JsAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        call(&self.record, event.to_json(), "audit.record").await
    }
}

/// A JavaScript `Date`.
type Date = DateTime<Utc>;

/// `put(key, value, expectedVersion, expiresAt, now)`.
type PutArgs = FnArgs<(String, Buffer, Option<i64>, Date, Date)>;

js_backend! {
    /// A `StateStore` written in JavaScript: `get(key, now)`, `put(key, value, expectedVersion,
    /// expiresAt, now)`, `increment(key, expiresAt, now)`, `delete(key)`, with values as
    /// `Buffer`s, versions as numbers and times as `Date`s. The contract is the core's (`put` a
    /// compare-and-set, `increment` atomic); `testing.checkStateStore` proves a store keeps it.
    JsStateStore {
        get: Method<FnArgs<(String, Date)>, Option<StoredValueJs>> = "get",
        put: Method<PutArgs, Option<i64>> = "put",
        increment: Method<FnArgs<(String, Date, Date)>, CounterJs> = "increment",
        delete: Method<String, ()> = "delete",
    }
}

/// A version from JavaScript: a whole number from 1 up.
fn version(what: &'static str, v: i64) -> Result<u64, BackendError> {
    u64::try_from(v).ok().filter(|v| *v > 0).ok_or_else(|| {
        BackendError::new(BackendErrorKind::Rejected, format!("{what} returned the version {v}, not 1 or more"))
    })
}

#[async_trait]
impl StateStore for JsStateStore {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        let args = FnArgs::from((key.to_owned(), to_chrono(now)));
        let Some(found) = call(&self.get, args, "store.get").await? else { return Ok(None) };
        Ok(Some(StoredValue { value: found.value.to_vec(), version: version("store.get", found.version)? }))
    }

    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        let expected = expected_version
            .map(|v| {
                i64::try_from(v).map_err(|_| BackendError::new(BackendErrorKind::Rejected, "version out of range"))
            })
            .transpose()?;
        let args = FnArgs::from((
            key.to_owned(),
            Buffer::from(value.to_vec()),
            expected,
            to_chrono(expires_at),
            to_chrono(now),
        ));
        call(&self.put, args, "store.put").await?.map(|v| version("store.put", v)).transpose()
    }

    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        let args = FnArgs::from((key.to_owned(), to_chrono(expires_at), to_chrono(now)));
        let counter = call(&self.increment, args, "store.increment").await?;
        let bad =
            |why: String| BackendError::new(BackendErrorKind::Rejected, format!("store.increment returned {why}"));
        Ok(Counter {
            count: u64::try_from(counter.count).map_err(|_| bad(format!("the count {}", counter.count)))?,
            expires_at: from_chrono(counter.expires_at, "expiresAt").map_err(|e| bad(e.to_string()))?,
        })
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        call(&self.delete, key.to_owned(), "store.delete").await
    }
}
