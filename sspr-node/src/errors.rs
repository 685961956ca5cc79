//! The one place sspr-core's errors become JavaScript errors.
//!
//! Every [`sspr_core::Error`] becomes an `SsprError` (defined in `index.js`, registered here
//! at load time by [`set_error_factory`]) with a stable `code` and the variant's fields:
//!
//! | variant | `code` | fields |
//! | --- | --- | --- |
//! | `InvalidInput` | `INVALID_INPUT` | `field` |
//! | `WrongPin` | `WRONG_PIN` | `attemptsLeft` |
//! | `PinVoided` | `PIN_VOIDED` | |
//! | `Expired` | `EXPIRED` | |
//! | `AlreadyUsed` | `ALREADY_USED` | |
//! | `InvalidState` | `INVALID_STATE` | |
//! | `RateLimited` | `RATE_LIMITED` | `retryAfter` (seconds) |
//! | `Blocked` | `BLOCKED` | `blockedUntil` (a `Date`) |
//! | `NotAllowed` | `NOT_ALLOWED` | `reason` (`privileged`, `ineligible`, ...) |
//! | `PasswordRejected` | `PASSWORD_REJECTED` | `refusal` (`too_short`, `guessable`, `breached`, ...), `reason`, `suggestions` |
//! | `UnknownUser` | `UNKNOWN_USER` | |
//! | `SignInFailed` | `SIGN_IN_FAILED` | |
//! | `Config` | `CONFIG` | |
//! | `Backend` | `BACKEND` | `backendKind`, and `cause`: what a JavaScript backend threw |
//! | `Challenge` | `CHALLENGE` | `reason` (`required`, `failed`, `unavailable`) |
//!
//! The codes are sspr-core's `Error::code` in upper case, the reasons and kinds their stable
//! names (`sspr_core::wire`): the same names Python, C and Kotlin give.
//!
//! The message is the core error's `Display`, which never holds a PIN or a password.
//!
//! Every error also carries what a web user is told for it, sspr-core's one rule
//! (`sspr_core::pages::describe`, through `sspr_bind::pages`): `status` (the HTTP status),
//! `answerCode`, `messageId` and `messageArgs` (for `pageText`) and `answerFields` (what a
//! JSON front end acts on: `attempts_left`, `retry_after_seconds`, `until`, `field`, `reason`).

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{Either, Either3, FnArgs, Function, FunctionRef, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use sspr_bind::pages::{AnswerField, PageArg};
use sspr_core::{BackendErrorKind, Error};

use crate::values::to_chrono;

/// The argument of the `SsprError` factory: the details.
type FactoryArgs = FnArgs<(ErrorInfo,)>;

/// The arguments of the function that gives a made `SsprError` its `cause`: the error and what
/// a JavaScript backend threw.
type AttachArgs = FnArgs<(Unknown<'static>, napi::Error)>;

/// The two functions of `index.js`: the `SsprError` factory and the one attaching a cause.
struct Factory {
    make: FunctionRef<FactoryArgs, Unknown<'static>>,
    attach: FunctionRef<AttachArgs, ()>,
}

thread_local! {
    /// The `SsprError` factory of `index.js`, per JavaScript thread.
    static FACTORY: RefCell<Option<Factory>> = const { RefCell::new(None) };
}

/// What `index.js` makes an `SsprError` from. Fields that do not apply are `null`.
#[napi(object, object_from_js = false)]
pub struct ErrorInfo {
    /// The stable code (`WRONG_PIN`, `RATE_LIMITED`, ...).
    pub code: String,
    /// The message: the core error's text, never holding a secret.
    pub message: String,
    /// `INVALID_INPUT`: the argument refused.
    pub field: Option<String>,
    /// `WRONG_PIN`: tries left for this PIN.
    pub attempts_left: Option<u32>,
    /// `RATE_LIMITED`: seconds to wait.
    pub retry_after: Option<f64>,
    /// `BLOCKED`: when the block ends.
    pub blocked_until: Option<DateTime<Utc>>,
    /// `NOT_ALLOWED`: which rule refused; `PASSWORD_REJECTED`: why, in words to show.
    pub reason: Option<String>,
    /// `PASSWORD_REJECTED`: the rule's stable name (`too_short`, `guessable`, `breached`...).
    pub refusal: Option<String>,
    /// `PASSWORD_REJECTED`: how to choose a better password (zxcvbn's suggestions).
    pub suggestions: Option<Vec<String>>,
    /// `BACKEND`: `unavailable`, `password_rejected`, `rejected`, `not_supported` or `other`.
    pub backend_kind: Option<String>,
    /// What a web user is told: the HTTP status.
    pub status: u32,
    /// What a web user is told: the stable code (`wrong_pin`; a bot challenge's refusal
    /// `challenge_required`, `challenge_failed` or `challenge_unavailable`).
    pub answer_code: String,
    /// What a web user is told: the pages' catalogue message (`pageText(lang, messageId, messageArgs)`).
    pub message_id: String,
    /// The message's arguments (counts, text, a `Date` for `at`).
    #[napi(ts_type = "Record<string, string | number | Date>")]
    pub message_args: HashMap<String, Either3<String, i64, DateTime<Utc>>>,
    /// What a JSON front end acts on, by its JSON name (`attempts_left`, `retry_after_seconds`,
    /// `until` as RFC 3339, `field`, `reason`): only those that apply.
    #[napi(ts_type = "Record<string, string | number>")]
    pub answer_fields: HashMap<String, Either<String, i64>>,
}

/// Register the function that makes an `SsprError` from its details, and the one that gives
/// it its cause (called once by `index.js`). The cause is attached after napi has read the
/// error: napi converts an error's `cause` chain to text, link by link, and a chain it cannot
/// convert (a Symbol, a cycle) left an exception pending or overflowed the stack (R.22).
#[napi(ts_args_type = "factory: (info: ErrorInfo) => Error, attachCause: (error: Error, cause: unknown) => void")]
pub fn set_error_factory(
    factory: Function<'_, FactoryArgs, Unknown<'static>>,
    attach_cause: Function<'_, AttachArgs, ()>,
) -> Result<()> {
    let factory = Factory { make: factory.create_ref()?, attach: attach_cause.create_ref()? };
    FACTORY.with(|slot| *slot.borrow_mut() = Some(factory));
    Ok(())
}

/// The stable name of a backend failure's kind (`unavailable`, `password_rejected`,
/// `rejected`, `other`), for `new BackendError(kind, ...)`: anything else is `INVALID_INPUT`
/// (field `kind`), so a misspelt kind fails where it is written instead of reaching the
/// engine as `other`.
#[napi]
pub fn backend_error_kind(env: &Env, name: String) -> Result<&'static str> {
    name.parse::<BackendErrorKind>().map(BackendErrorKind::as_str).map_err(|e| to_js_error(env, &e))
}

/// The core's stable name of a value given by name, by the core's rule for `kind`
/// (`channel`, `locale`, `completion_mode`, `not_allowed_reason`, `backend_error_kind`,
/// `authentication`, `password_refusal`, `error_code`): what every binding accepts, for a host
/// that stores or exchanges these names. Anything else is `INVALID_INPUT` naming the core's
/// field (`channel`, `reason`, ...), or `kind` for an unknown kind.
#[napi]
pub fn parse_name(env: &Env, kind: String, name: String) -> Result<&'static str> {
    sspr_bind::names::core_name(&kind, &name).map_err(|e| to_js_error(env, &e))
}

/// What a JavaScript backend threw, if this error came from one: a handle on the original
/// value, found in the error's source chain.
fn js_cause(error: &Error) -> Option<napi::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(thrown) = current.downcast_ref::<crate::foreign::JsThrown>() {
            return thrown.error.try_clone().ok();
        }
        if let Some(thrown) = current.downcast_ref::<napi::Error>() {
            return thrown.try_clone().ok();
        }
        source = current.source();
    }
    None
}

/// Named values as a JavaScript object's entries, each value converted by `to_js`.
fn named<N: Into<String>, V, J>(values: Vec<(N, V)>, to_js: impl Fn(V) -> J) -> HashMap<String, J> {
    values.into_iter().map(|(name, value)| (name.into(), to_js(value))).collect()
}

/// The details of an error.
pub(crate) fn info(error: &Error) -> ErrorInfo {
    let answer = sspr_bind::pages::describe(error);
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let message_args = named(answer.message_args, |value| match value {
        PageArg::Text(text) => Either3::A(text),
        PageArg::Number(n) => Either3::B(count(n)),
        PageArg::Time(at) => Either3::C(to_chrono(at)),
    });
    let answer_fields = named(answer.fields, |value| match value {
        AnswerField::Text(text) => Either::A(text),
        AnswerField::Number(n) => Either::B(count(n)),
    });
    let mut info = ErrorInfo {
        code: error.code().to_ascii_uppercase(),
        message: error.to_string(),
        field: None,
        attempts_left: None,
        retry_after: None,
        blocked_until: None,
        reason: None,
        refusal: None,
        suggestions: None,
        backend_kind: None,
        status: answer.status.into(),
        answer_code: answer.code.to_owned(),
        message_id: answer.message_id.to_owned(),
        message_args,
        answer_fields,
    };
    match error {
        Error::InvalidInput { field, .. } => info.field = Some((*field).to_owned()),
        Error::WrongPin { attempts_left } => info.attempts_left = Some(*attempts_left),
        Error::RateLimited { retry_after } => info.retry_after = Some(retry_after.as_secs_f64()),
        Error::Blocked { until } => info.blocked_until = Some(to_chrono(*until)),
        Error::NotAllowed { reason } => info.reason = Some(reason.as_str().to_owned()),
        Error::PasswordRejected { refusal, reason, suggestions } => {
            info.refusal = Some(refusal.as_str().to_owned());
            info.reason = Some(reason.clone());
            info.suggestions = Some(suggestions.clone());
        }
        Error::Backend { source } => info.backend_kind = Some(source.kind().as_str().to_owned()),
        Error::Challenge { reason } => info.reason = Some(reason.as_str().to_owned()),
        _ => {}
    }
    info
}

/// Throw the `INVALID_INPUT` `SsprError` for an argument napi's own conversion refused (a
/// field of an object argument of the wrong type, an actor that is not an object): `index.js`
/// throws it in place of napi's error, whose message quotes the value, and a password given as
/// an array or a `String` object is a value. `field` is the name of the refused field (napi's
/// message names it; `argument` when it does not); the answer is the core's for a refused field.
#[napi(ts_return_type = "never")]
pub fn throw_argument_error(env: &Env, field: String) -> Result<()> {
    let mut info = info(&Error::InvalidInput { field: "argument", reason: String::new() });
    info.message = format!("invalid {field}: not a value of the expected type");
    info.message_args.insert("field".to_owned(), Either3::A(field.clone()));
    info.answer_fields.insert("field".to_owned(), Either::A(field.clone()));
    info.field = Some(field);
    Err(made(env, info, None)
        .unwrap_or_else(|| napi::Error::from_reason("INVALID_INPUT: an argument of the wrong type")))
}

/// An `SsprError` from its details, by the factory `index.js` registered (`None` before it did).
fn made(env: &Env, info: ErrorInfo, cause: Option<napi::Error>) -> Option<napi::Error> {
    let made = FACTORY.with(|slot| -> Result<Option<napi::Error>> {
        match slot.borrow().as_ref() {
            Some(factory) => {
                let made = factory.make.borrow_back(env)?.call(FnArgs::from((info,)))?;
                let error = napi::Error::from(made);
                if let Some(cause) = cause {
                    factory.attach.borrow_back(env)?.call(FnArgs::from((made, cause)))?;
                }
                Ok(Some(error))
            }
            None => Ok(None),
        }
    });
    made.unwrap_or_else(Some)
}

/// The JavaScript error for an sspr error: an `SsprError` when `index.js` registered its
/// factory, otherwise a plain `Error` with the same message. Thrown (or rejected) as it is.
pub(crate) fn to_js_error(env: &Env, error: &Error) -> napi::Error {
    made(env, info(error), js_cause(error))
        .unwrap_or_else(|| napi::Error::from_reason(format!("{}: {error}", error.code().to_ascii_uppercase())))
}
