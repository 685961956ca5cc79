//! THREAT_MODEL R.41: a C backend's `release` must not run while a completion the engine handed
//! to that backend is still unfinished (the backend's worker still uses `ctx` to finish it).
//!
//! Its own test binary: it stops the process's runtime (`sspr_shutdown`), which would abandon
//! the calls of any other test running beside it.

#![allow(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::undocumented_unsafe_blocks)]

use std::ffi::{CString, c_char, c_void};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::time::Duration;

use sspr_ffi::capi::*;

/// Set by the directory's `release`.
static RELEASED: AtomicBool = AtomicBool::new(false);
/// The `find_user` completion the directory's worker has not finished yet.
static PENDING: AtomicPtr<SsprCompletion> = AtomicPtr::new(std::ptr::null_mut());

/// A directory whose lookup is answered later by a worker of its own (here: by the test),
/// as a C directory over an asynchronous LDAP client answers.
unsafe extern "C" fn find_user(_: *mut c_void, _: *const c_char, done: *mut SsprCompletion) {
    PENDING.store(done, Ordering::SeqCst);
}
unsafe extern "C" fn set_password(_: *mut c_void, _: *const c_char, _: *const c_char, _: bool, d: *mut SsprCompletion) {
    unsafe { sspr_complete_ok(d) };
}
unsafe extern "C" fn unlock(_: *mut c_void, _: *const c_char, d: *mut SsprCompletion) {
    unsafe { sspr_complete_ok(d) };
}
unsafe extern "C" fn authenticate(_: *mut c_void, _: *const c_char, _: *const c_char, d: *mut SsprCompletion) {
    unsafe { sspr_complete_authentication(d, SsprAuthentication::Rejected as u32) };
}
unsafe extern "C" fn search(_: *mut c_void, _: *const c_char, _: usize, d: *mut SsprCompletion) {
    unsafe { sspr_complete_users(d, std::ptr::null(), 0) };
}
unsafe extern "C" fn release(_: *mut c_void) {
    RELEASED.store(true, Ordering::SeqCst);
}
unsafe extern "C" fn send(_: *mut c_void, _: *const SsprNotification, d: *mut SsprCompletion) {
    unsafe { sspr_complete_ok(d) };
}
unsafe extern "C" fn answered(_: *mut c_void, _: SsprStatus, _: *const c_void, _: *const SsprError) {}

#[test]
fn release_waits_for_the_completions_the_backend_still_holds() {
    let key = [7u8; 32];
    let mut o: SsprEngineOptions = unsafe { std::mem::zeroed() };
    o.size = std::mem::size_of::<SsprEngineOptions>();
    o.secret_key = key.as_ptr();
    o.secret_key_len = key.len();
    o.directory = SsprDirectoryVtable {
        ctx: std::ptr::null_mut(),
        find_user: Some(find_user),
        set_password: Some(set_password),
        unlock: Some(unlock),
        authenticate: Some(authenticate),
        search: Some(search),
        release: Some(release),
        change_password: None,
    };
    o.notifier = SsprNotifierVtable { ctx: std::ptr::null_mut(), send: Some(send), release: None };
    let mut engine: *mut SsprEngine = std::ptr::null_mut();
    assert_eq!(unsafe { sspr_engine_new(&o, &mut engine, std::ptr::null_mut()) }, SsprStatus::Ok);

    let login = CString::new("jane@example.org").unwrap();
    let status = unsafe {
        sspr_begin_reset_async(
            engine,
            login.as_ptr(),
            std::ptr::null(),
            Some(answered),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(status, SsprStatus::Ok);
    // Up to 10 s for the runtime to call find_user.
    for waited in 0.. {
        if !PENDING.load(Ordering::SeqCst).is_null() {
            break;
        }
        assert!(waited < 2000, "find_user was never called");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The host frees the engine and stops the library; the call in flight is abandoned (as the
    // engine's backend timeout abandons it after 30 s without an answer).
    unsafe { sspr_engine_free(engine) };
    sspr_shutdown();
    assert!(
        !RELEASED.load(Ordering::SeqCst),
        "release ran while the directory still held an unfinished completion (its worker would then use a freed ctx)"
    );
    // The directory's worker answers at last: the last use of ctx, then the release.
    assert_eq!(unsafe { sspr_complete_user(PENDING.load(Ordering::SeqCst), std::ptr::null()) }, SsprStatus::Ok);
    assert!(RELEASED.load(Ordering::SeqCst), "released once the last completion was finished");
}
