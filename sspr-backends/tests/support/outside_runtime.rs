//! Dropping a network backend where a binding's garbage collector drops it: on a thread that
//! has no tokio runtime. Shared by the test binaries (`#[path]`).
#![allow(dead_code, unreachable_pub)]

use std::future::Future;

/// Build a backend with `build` inside a runtime, then drop it on a plain thread: once while
/// the runtime still runs, once after the runtime has shut down. A panic in either drop
/// fails the test with `what` named.
pub fn drop_outside_runtime<T: Send + 'static, F: Future<Output = T>>(what: &str, build: impl Fn() -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let backend = runtime.block_on(build());
    let dropped = std::thread::spawn(move || drop(backend)).join();
    assert!(dropped.is_ok(), "{what}: dropping it on a thread without a runtime panicked");
    let backend = runtime.block_on(build());
    drop(runtime);
    let dropped = std::thread::spawn(move || drop(backend)).join();
    assert!(dropped.is_ok(), "{what}: dropping it after its runtime shut down panicked");
}
