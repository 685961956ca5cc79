//! Where time comes from. Logic never reads the system clock itself: it asks a [`Clock`],
//! so tests can stand at exactly 10:00 after a PIN was sent.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

/// A source of the current time (UTC).
///
/// Contract: `now` is cheap, never blocks, and does not go backwards by more than the
/// host's clock does. Every instance sharing a store should have synchronised clocks
/// (NTP); PIN and flow expiry are compared against this time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The host's real-time clock. The one place in sspr-core that reads it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the single, intended reader of the system clock
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until told to move: for tests, demos and simulations.
///
/// ```
/// use sspr_core::{Clock, ManualClock};
/// use std::time::Duration;
/// let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
/// clock.advance(Duration::from_secs(600));
/// assert_eq!(clock.now(), time::macros::datetime!(2026-01-01 10:10 UTC));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<OffsetDateTime>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self { now: Arc::new(Mutex::new(start)) }
    }

    /// Move the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }

    /// Set the clock to `to` (may go backwards, to test clock skew).
    pub fn set(&self, to: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
