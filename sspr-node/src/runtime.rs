//! How an engine call reaches JavaScript without a thread hop when none is needed.
//!
//! A napi async function hands its future to a tokio thread and resolves a Promise from
//! there: 80-400 µs per call on this machine. The engine with in-memory backends never
//! waits, so [`run`] polls the future once, right here on the JavaScript thread (inside the
//! tokio runtime's context, for backends that need it). A finished future's answer is
//! converted and returned at once; only a future that is really pending (a JavaScript
//! backend, a network backend) is handed to the runtime, whose Promise is returned instead.
//! The JavaScript wrapper `await`s either.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::{Either, PromiseRaw, ToNapiValue, within_runtime_if_available};
use napi::{Env, Result};

use crate::errors::to_js_error;

/// The answer of an operation: the value itself when the engine finished at once, or a
/// Promise of it.
pub(crate) type Answer<'env, T> = Either<T, PromiseRaw<'env, T>>;

/// Run an engine future: poll it once here, and hand it to the runtime only if it waits.
/// `convert` turns its output into the JavaScript answer; an sspr error becomes a thrown
/// (or rejected) `SsprError`.
pub(crate) fn run<'env, T, V, F, C>(env: &'env Env, future: F, convert: C) -> Result<Answer<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue + 'static,
    F: Future<Output = sspr_core::Result<T>> + Send + 'static,
    C: FnOnce(T) -> Result<V> + 'static,
{
    let mut future = Box::pin(future);
    let mut poll_once = || {
        // JavaScript backends called during this poll call their function directly.
        let _on_js_thread = JsThread::enter(env);
        future.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    };
    // `NativeSspr::new` put this thread in the runtime's context for good; otherwise enter it.
    let polled =
        if IN_CONTEXT.with(std::cell::Cell::get) { poll_once() } else { within_runtime_if_available(poll_once) };
    match polled {
        Poll::Ready(Ok(value)) => Ok(Either::A(convert(value)?)),
        Poll::Ready(Err(error)) => Err(to_js_error(env, &error)),
        Poll::Pending => {
            // Polled again by the runtime with a real waker: the future registers it then.
            let promise = env.spawn_future_with_callback(
                async move { Ok(future.await) },
                move |env, out: sspr_core::Result<T>| match out {
                    Ok(value) => convert(value),
                    Err(error) => Err(to_js_error(env, &error)),
                },
            )?;
            Ok(Either::B(promise))
        }
    }
}

thread_local! {
    /// The JavaScript environment while `run` polls an engine future on its thread.
    static JS_ENV: std::cell::Cell<Option<napi::sys::napi_env>> = const { std::cell::Cell::new(None) };

    /// Whether this JavaScript thread stays inside the tokio runtime's context.
    static IN_CONTEXT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keep this (JavaScript) thread inside the tokio runtime's context from now on.
///
/// Network backends (the SMTP pool, Redis and PostgreSQL connections, the LDAP pool) spawn
/// tokio tasks when they are dropped, and JavaScript drops them on its own thread: when the
/// garbage collector or the exit cleanup finalizes an object holding one. Outside a runtime
/// context `tokio::spawn` panics, and a panic in a finalizer aborts Node. Entering the context
/// once and never leaving it makes those drops safe; after the runtime has shut down (at exit),
/// tokio drops such a task instead of running it.
pub(crate) fn stay_in_runtime_context() {
    IN_CONTEXT.with(|entered| {
        if entered.get() {
            return;
        }
        if let Ok(handle) = within_runtime_if_available(tokio::runtime::Handle::try_current) {
            std::mem::forget(handle.enter());
            entered.set(true);
        }
    });
}

/// The span of a poll on the JavaScript thread: backends may call JavaScript directly inside
/// it. Nested polls (a backend calling the engine again) restore the outer state.
struct JsThread(Option<napi::sys::napi_env>);

impl JsThread {
    fn enter(env: &Env) -> Self {
        Self(JS_ENV.with(|slot| slot.replace(Some(env.raw()))))
    }
}

impl Drop for JsThread {
    fn drop(&mut self) {
        JS_ENV.with(|slot| slot.set(self.0));
    }
}

/// Run `poll` (a poll of a task on the JavaScript thread, outside any engine call) with
/// JavaScript backends called directly, as in `run`'s poll.
pub(crate) fn poll_on_js_thread<T>(env: &Env, poll: impl FnOnce() -> T) -> T {
    let _on_js_thread = JsThread::enter(env);
    poll()
}

/// Whether this code runs inside `run`'s poll on the JavaScript thread.
pub(crate) fn on_js_thread() -> bool {
    JS_ENV.with(std::cell::Cell::get).is_some()
}

/// Call `f` with the JavaScript environment of the poll this code runs in; an error when it
/// runs in none (check [`on_js_thread`] first).
pub(crate) fn with_js_env<T>(f: impl FnOnce(&Env) -> Result<T>) -> Result<T> {
    match JS_ENV.with(std::cell::Cell::get) {
        Some(raw) => f(&Env::from_raw(raw)),
        None => Err(napi::Error::from_reason("not on the JavaScript thread")),
    }
}
