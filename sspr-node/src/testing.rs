//! sspr-core's backend conformance suite (`sspr_core::testing`), run on backends written in
//! JavaScript: `testing.checkStateStore(store)`, `testing.checkContactStore(store)`,
//! `testing.checkDirectory(directory, fixture)`, `testing.checkNotifier(notifier, fixture)`
//! in `index.js`. A developer writing a backend in JavaScript proves it keeps the core's
//! contract (compare-and-set, atomic counters, expiry, exact round trips, login escaping,
//! PINs delivered once and only where sent) with the same checks sspr's own backends pass.
//!
//! The suite reports a broken rule by panicking, like a Rust test assertion; here the panic
//! is caught at the suite's boundary (`sspr_bind::conformance`, which keeps its message off
//! stderr) and becomes the Promise's rejection: an `SsprError` `BACKEND` (kind `rejected`)
//! whose message names the rule.

use std::time::Duration;

use napi::bindgen_prelude::Object;
use napi::{Env, Result};
use napi_derive::napi;
use sspr_core::testing::{self, DirectoryFixture};
use sspr_core::{Clock, ManualClock, Password, SystemClock, UserId};

use sspr_bind::conformance::conformance;

use crate::errors::to_js_error;
use crate::foreign::{JsContactStore, JsDirectory, JsInbox, JsNotifier, JsStateStore};
use crate::runtime::{Answer, run};
use crate::values::invalid;

/// Run the `StateStore` contract on a JavaScript store (`index.js` has bound its methods).
/// By default the suite's time is a manual clock it moves itself (a store that expires by the
/// `now` it is given), then one real wait of about a second checks that the store's own clock
/// (a TTL, a `setTimeout`) does not end entries early; with `realTime` it is the system clock
/// and the suite really waits (a store that expires by its own clock, a Redis TTL): 8.4 s.
#[napi(ts_return_type = "void | Promise<void>")]
pub fn check_state_store<'env>(env: &'env Env, store: Object<'_>, real_time: bool) -> Result<Answer<'env, ()>> {
    let store = JsStateStore::new(&store).map_err(|_| to_js_error(env, &invalid("store", "expected a StateStore")))?;
    run(
        env,
        async move {
            if real_time {
                let wait = |d: Duration| tokio::time::sleep(d);
                conformance(testing::state_store_conformance(&store, &SystemClock, wait)).await
            } else {
                let clock = ManualClock::new(SystemClock.now());
                let moved = clock.clone();
                let wait = move |d: Duration| {
                    moved.advance(d);
                    std::future::ready(())
                };
                conformance(async {
                    testing::state_store_conformance(&store, &clock, wait).await;
                    testing::state_store_clock_conformance(&store, &clock, tokio::time::sleep).await;
                })
                .await
            }
        },
        Ok,
    )
}

/// Run the `ContactStore` contract on a JavaScript store (users `sspr-conformance/...`).
#[napi(ts_return_type = "void | Promise<void>")]
pub fn check_contact_store<'env>(env: &'env Env, store: Object<'_>) -> Result<Answer<'env, ()>> {
    let store =
        JsContactStore::new(&store).map_err(|_| to_js_error(env, &invalid("store", "expected a ContactStore")))?;
    run(env, async move { conformance(testing::contact_store_conformance(&store, &SystemClock)).await }, Ok)
}

/// What `checkDirectory` needs to know about the directory under test.
#[napi(object, object_to_js = false)]
pub struct DirectoryFixtureInput {
    /// A login the directory holds (any case).
    pub login: String,
    /// The id the directory gives that user.
    pub id: String,
    /// A login it does not hold.
    pub missing_login: String,
    /// A password the directory accepts for the user (the suite sets it).
    pub good_password: String,
    /// A password its policy refuses, if it has a policy.
    pub weak_password: Option<String>,
    /// Groups `findUser` must list for the user (by DN or name; nested ones too).
    pub groups: Option<Vec<String>>,
}

/// Run the `Directory` contract on a JavaScript directory. It sets the fixture user's password.
#[napi(ts_return_type = "void | Promise<void>")]
pub fn check_directory<'env>(
    env: &'env Env,
    directory: Object<'_>,
    fixture: DirectoryFixtureInput,
) -> Result<Answer<'env, ()>> {
    let directory =
        JsDirectory::new(&directory).map_err(|_| to_js_error(env, &invalid("directory", "expected a Directory")))?;
    let fixture = DirectoryFixture {
        login: fixture.login,
        id: UserId::new(fixture.id),
        missing_login: fixture.missing_login,
        good_password: Password::new(fixture.good_password),
        weak_password: fixture.weak_password.map(Password::new),
        groups: fixture.groups.unwrap_or_default(),
    };
    run(env, async move { conformance(testing::directory_conformance(&directory, &fixture)).await }, Ok)
}

/// Run the `Notifier` contract on a JavaScript notifier with the `destinations` it serves
/// (e-mail addresses, E.164 numbers) and, if given, the inbox their recipients read
/// (`index.js` has bound the methods of both).
#[napi(ts_return_type = "void | Promise<void>")]
pub fn check_notifier<'env>(
    env: &'env Env,
    notifier: Object<'_>,
    destinations: Vec<String>,
    inbox: Option<Object<'_>>,
) -> Result<Answer<'env, ()>> {
    let notifier =
        JsNotifier::new(&notifier).map_err(|_| to_js_error(env, &invalid("notifier", "expected a Notifier")))?;
    let inbox = inbox
        .map(|i| JsInbox::new(&i))
        .transpose()
        .map_err(|_| to_js_error(env, &invalid("inbox", "expected an object with read(destination)")))?;
    run(
        env,
        async move {
            let inbox = inbox.as_ref().map(|i| i as &dyn testing::Inbox);
            sspr_bind::conformance::check_notifier(&notifier, &destinations, inbox).await
        },
        Ok,
    )
}
