//! Attacks of the red-team review of the C API (THREAT_MODEL R.40...), through the `extern "C"`
//! functions as a C program calls them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::undocumented_unsafe_blocks)]

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use futures::executor::block_on;
use sspr_core::BackendErrorKind;
use sspr_core::backend::DirectoryUser;

use super::backends::{answer, completion, take_ctx};
use super::*;

/// A C directory's user with valid strings (kept alive by the returned `CString`s).
fn c_user(groups: *const *const c_char, groups_len: usize) -> (SsprDirectoryUser, [CString; 4]) {
    let strings =
        ["uid=jane", "jane@example.org", "Jane", "uid=jane,dc=example,dc=org"].map(|s| CString::new(s).unwrap());
    let user = SsprDirectoryUser {
        id: strings[0].as_ptr(),
        login: strings[1].as_ptr(),
        display_name: strings[2].as_ptr(),
        dn: strings[3].as_ptr(),
        groups,
        groups_len,
        disabled: false,
        expired: false,
        locked: false,
        mail: std::ptr::null(),
    };
    (user, strings)
}

/// R.40: a C directory that passes a count read from an `int` holding -1 (`ldap_count_entries`
/// on an error) gives `(size_t)-1`: refused as `INVALID_INPUT` naming the list, the call failed
/// as `REJECTED`, where it aborted the whole process (debug build) or read past the array.
#[test]
fn a_count_of_minus_one_from_a_c_directory_is_invalid_input_not_the_end_of_the_process() {
    let (user, _strings) = c_user(std::ptr::null(), 0);
    let (done, rx) = completion(&Arc::new(take_ctx(std::ptr::null_mut(), None)));
    // SAFETY: a fresh completion; one valid user where the count claims SIZE_MAX of them.
    let status = unsafe { sspr_complete_users(done, &user, usize::MAX) };
    assert_eq!(status, SsprStatus::InvalidInput);
    let err = block_on(answer::<Vec<DirectoryUser>>(rx, "search")).unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected);
    assert!(err.message().contains("users"), "{}", err.message());

    let group = CString::new("cn=staff").unwrap();
    let groups = [group.as_ptr()];
    let (user, _strings) = c_user(groups.as_ptr(), usize::MAX);
    let (done, rx) = completion(&Arc::new(take_ctx(std::ptr::null_mut(), None)));
    // SAFETY: as above, one group where the count claims SIZE_MAX.
    let status = unsafe { sspr_complete_user(done, &user) };
    assert_eq!(status, SsprStatus::InvalidInput);
    let err = block_on(answer::<Option<DirectoryUser>>(rx, "find_user")).unwrap_err();
    assert!(err.message().contains("groups"), "{}", err.message());
}

unsafe extern "C" fn never_called(_: *mut c_void, _: SsprHookEvent, _: *const c_char, _: *mut SsprCompletion) {}
unsafe extern "C" fn text_fn(_: *mut c_void, _: *const c_char, _: *mut SsprCompletion) {}
unsafe extern "C" fn set_fn(_: *mut c_void, _: *const c_char, _: *const c_char, _: bool, _: *mut SsprCompletion) {}
unsafe extern "C" fn auth_fn(_: *mut c_void, _: *const c_char, _: *const c_char, _: *mut SsprCompletion) {}
unsafe extern "C" fn search_fn(_: *mut c_void, _: *const c_char, _: usize, _: *mut SsprCompletion) {}
unsafe extern "C" fn send_fn(_: *mut c_void, _: *const SsprNotification, _: *mut SsprCompletion) {}

/// R.40: the same count in the engine's options (`hooks_len`, `password_checkers_len`,
/// `previous_keys_len`, `secret_key_len`) is `INVALID_INPUT` naming it.
#[test]
fn a_count_of_minus_one_in_the_engine_options_is_invalid_input() {
    let key = [7u8; 32];
    let hook =
        SsprEventHookVtable { ctx: std::ptr::null_mut(), events: 1, on_event: Some(never_called), release: None };
    let checker = SsprPasswordCheckerVtable { ctx: std::ptr::null_mut(), check: None, release: None };
    let one_key = CString::new("07".repeat(32)).unwrap();
    let keys = [one_key.as_ptr()];
    let fields = ["hooks", "password_checkers", "previous_keys_hex", "secret_key"];
    for field in fields {
        // SAFETY: all-zero is a valid `SsprEngineOptions` (NULL pointers, no functions).
        let mut o: SsprEngineOptions = unsafe { std::mem::zeroed() };
        o.size = std::mem::size_of::<SsprEngineOptions>();
        o.secret_key = key.as_ptr();
        o.secret_key_len = key.len();
        o.directory = SsprDirectoryVtable {
            ctx: std::ptr::null_mut(),
            find_user: Some(text_fn),
            set_password: Some(set_fn),
            unlock: Some(text_fn),
            authenticate: Some(auth_fn),
            search: Some(search_fn),
            release: None,
            change_password: None,
        };
        o.notifier = SsprNotifierVtable { ctx: std::ptr::null_mut(), send: Some(send_fn), release: None };
        match field {
            "hooks" => (o.hooks, o.hooks_len) = (&hook, usize::MAX),
            "password_checkers" => (o.password_checkers, o.password_checkers_len) = (&checker, usize::MAX),
            "previous_keys_hex" => (o.previous_keys_hex, o.previous_keys_len) = (keys.as_ptr(), usize::MAX),
            _ => o.secret_key_len = usize::MAX,
        }
        let mut engine: *mut SsprEngine = std::ptr::null_mut();
        let mut error: *mut SsprError = std::ptr::null_mut();
        // SAFETY: valid options but for the count under test; writable outs.
        let status = unsafe { sspr_engine_new(&o, &mut engine, &mut error) };
        assert_eq!(status, SsprStatus::InvalidInput, "{field}");
        // SAFETY: the error just handed out.
        let named = unsafe { std::ffi::CStr::from_ptr(sspr_error_field(error)) }.to_str().unwrap().to_owned();
        assert_eq!(named, field);
        // SAFETY: freed once.
        unsafe { sspr_error_free(error) };
        assert!(engine.is_null());
    }
}
