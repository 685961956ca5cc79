//! Waiting for the notifier: `sspr_send_pin` answers before the PIN is delivered.

use std::ffi::c_void;

use super::super::{SsprError, SsprStatus};
use super::call::{OpFuture, SsprCallback, blocking, with_callback};
use super::{SsprEngine, engine_arg};

unsafe fn flush_deliveries(engine: *const SsprEngine) -> Result<OpFuture<()>, SsprError> {
    // SAFETY: forwarded from the public functions' contracts.
    let sspr = unsafe { engine_arg(engine) }?;
    Ok(Box::pin(async move {
        sspr.flush_deliveries().await;
        Ok(())
    }))
}

/// Wait until every PIN and notice handed to the notifier so far has been delivered (or its
/// failure audited). `sspr_send_pin` answers before the notifier runs: call this at
/// shutdown, before `sspr_engine_free` and `sspr_shutdown`, so that no PIN already promised
/// to a user is lost (and in tests, before reading what a notifier received). Deliveries
/// started while it waits are waited for too; one retrying an unavailable notifier may take
/// until its PIN expires.
///
/// # Safety
/// `engine` is a live engine; `error_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_flush_deliveries(
    engine: *const SsprEngine,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { blocking(error_out, (), || flush_deliveries(engine)) }
}

/// `sspr_flush_deliveries` as a callback call; `result` is NULL.
///
/// # Safety
/// As `sspr_flush_deliveries`; `user_data` may be used from a library thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_flush_deliveries_async(
    engine: *const SsprEngine,
    callback: SsprCallback,
    user_data: *mut c_void,
    error_out: *mut *mut SsprError,
) -> SsprStatus {
    // SAFETY: forwarded contract.
    unsafe { with_callback(error_out, callback, user_data, || flush_deliveries(engine)) }
}
