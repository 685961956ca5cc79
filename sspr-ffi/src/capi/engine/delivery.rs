//! Waiting for the notifier (`sspr_send_pin` answers before the PIN is delivered) and for the
//! audit sinks, at shutdown.

use super::SsprEngine;
use super::call::{c_type, entry_points};

entry_points! {
    /// Wait until every PIN and notice handed to the notifier so far has been delivered (or its
    /// failure audited). `sspr_send_pin` answers before the notifier runs: call this at
    /// shutdown, before `sspr_engine_free` and `sspr_shutdown`, so that no PIN already promised
    /// to a user is lost (and in tests, before reading what a notifier received). Deliveries
    /// started while it waits are waited for too; one retrying an unavailable notifier may take
    /// until its PIN expires.
    ///
    /// # Safety
    /// `engine` is a live engine; `error_out` is NULL or writable.
    fn sspr_flush_deliveries / sspr_flush_deliveries_async(engine: engine) => async move {
        engine.flush_deliveries().await;
        Ok(())
    };
    result: "NULL";
}

entry_points! {
    /// Wait until every audit event recorded so far has reached the engine's sinks and they
    /// have flushed what they buffer (`sspr_core::Sspr::flush_audit`): at shutdown, after
    /// `sspr_flush_deliveries` (whose failures are audited too) and before
    /// `sspr_engine_free`, so that the trail ends with the process's last events. A sink that
    /// cannot flush is `SSPR_STATUS_BACKEND`.
    ///
    /// # Safety
    /// `engine` is a live engine; `error_out` is NULL or writable.
    fn sspr_flush_audit / sspr_flush_audit_async(engine: engine) => async move {
        engine.flush_audit().await
    };
    result: "NULL";
}
