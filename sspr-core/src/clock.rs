//! Where time comes from. Logic never reads the system clock itself: it asks a [`Clock`],
//! so tests can stand at exactly 10:00 after a PIN was sent.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
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

/// Waits: used to pad anonymous answers to the policy's minimum response time, so that
/// how long an answer takes does not tell a real account from an unknown one.
///
/// sspr-core has no runtime of its own. With the `tokio` feature, [`crate::TokioRuntime`] is a
/// timer (and [`crate::SsprBuilder::build`] takes it from the runtime it is called in); any
/// other runtime's timer is three lines:
///
/// ```
/// #[derive(Debug)]
/// struct TokioTimer;
///
/// #[sspr_core::async_trait]
/// impl sspr_core::Timer for TokioTimer {
///     async fn sleep(&self, duration: std::time::Duration) {
///         tokio::time::sleep(duration).await
///     }
/// }
/// ```
///
/// Contract: `sleep` returns after about `duration` on the engine's [`Clock`]; it must not
/// return much earlier (the padding would leak timing), and it is cancelled by dropping it.
#[async_trait]
pub trait Timer: Send + Sync + fmt::Debug {
    /// Wait for `duration`.
    async fn sleep(&self, duration: Duration);

    /// Whether this timer only pretends to wait (it moves a simulated clock forward and
    /// returns at once, as [`ManualClock`] does). The engine times its own directory writes
    /// out with the timer (see `Sspr::complete_reset`); a simulated wait would end before any
    /// real call could, so with such a timer it does not. Default `false`.
    fn is_simulated(&self) -> bool {
        false
    }
}

/// A manual clock "sleeps" by moving itself forward: tests see exactly how long the engine
/// waited, without waiting.
#[async_trait]
impl Timer for ManualClock {
    async fn sleep(&self, duration: Duration) {
        self.advance(duration);
    }
    fn is_simulated(&self) -> bool {
        true
    }
}
