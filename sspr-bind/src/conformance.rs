//! sspr-core's backend conformance suite run for a binding (`sspr.testing.check_*` in Python,
//! `testing.check*` in Node): the suite reports a broken rule by panicking, like a Rust test
//! assertion; here the panic is caught and becomes the error naming the rule, without the
//! panic hook's message and backtrace hint on stderr (which read as sspr crashing).

use std::cell::Cell;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

use sspr_core::testing::{Inbox, NotifierFixture, notifier_conformance};
use sspr_core::{BackendError, BackendErrorKind, Destination, EmailAddress, Error, Notifier, PhoneNumber};

thread_local! {
    /// How many suites this thread is polling now: a panic then is a suite's broken rule.
    static IN_SUITE: Cell<usize> = const { Cell::new(0) };
}

/// The process's panic hook, wrapped once: silent while a suite is polled on this thread,
/// the previous hook's otherwise (every other panic is printed as before).
static QUIET_HOOK: Once = Once::new();

/// Run `suite` to its end: `Ok` when every rule held, else `Backend` (kind `Rejected`) with
/// `conformance: <the rule>`.
///
/// # Errors
/// The broken rule, as above.
pub async fn conformance(suite: impl Future<Output = ()>) -> Result<(), Error> {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_SUITE.try_with(Cell::get).unwrap_or(0) == 0 {
                previous(info);
            }
        }));
    });
    Caught { suite: Box::pin(suite) }
        .await
        .map_err(|rule| Error::from(BackendError::new(BackendErrorKind::Rejected, format!("conformance: {rule}"))))
}

/// Run the `Notifier` contract on a host's notifier (`check_notifier` in Python,
/// `checkNotifier` in Node) with the `destinations` it serves, each an e-mail address or an
/// E.164 number, and the `inbox` its recipients read, if the host has one; the suite polls
/// the inbox on the tokio timer.
///
/// # Errors
/// A destination that is neither (`InvalidInput`, field `destinations`), or the broken rule
/// as [`conformance`] reports it.
pub async fn check_notifier(
    notifier: &dyn Notifier,
    destinations: &[String],
    inbox: Option<&dyn Inbox>,
) -> Result<(), Error> {
    let destinations = destinations.iter().map(|d| destination(d)).collect::<Result<Vec<_>, _>>()?;
    if destinations.is_empty() {
        return Err(Error::InvalidInput { field: "destinations", reason: "name at least one destination".into() });
    }
    let fixture = NotifierFixture { destinations };
    conformance(notifier_conformance(notifier, &fixture, inbox, tokio::time::sleep)).await
}

/// A destination given as text: an e-mail address (it holds `@`) or an E.164 phone number.
fn destination(text: &str) -> Result<Destination, Error> {
    let parsed = if text.contains('@') {
        EmailAddress::parse(text).map(Destination::Email)
    } else {
        PhoneNumber::parse(text).map(Destination::Sms)
    };
    parsed.map_err(|e| match e {
        Error::InvalidInput { reason, .. } => Error::InvalidInput { field: "destinations", reason },
        other => other,
    })
}

/// A suite whose panic, caught at each poll, is its result.
struct Caught<F> {
    suite: Pin<Box<F>>,
}

impl<F: Future<Output = ()>> Future for Caught<F> {
    type Output = Result<(), String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let suite = self.suite.as_mut();
        IN_SUITE.with(|n| n.set(n.get() + 1));
        let polled = panic::catch_unwind(AssertUnwindSafe(|| suite.poll(cx)));
        IN_SUITE.with(|n| n.set(n.get().saturating_sub(1)));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Err(payload) => Poll::Ready(Err(payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the conformance suite failed".to_owned()))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]

    use super::*;

    #[test]
    fn a_broken_rule_is_the_error_and_a_kept_one_is_ok() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let broken = rt.block_on(conformance(async {
            std::future::ready(()).await;
            panic!("put on an absent key must fail");
        }));
        let Err(Error::Backend { source, .. }) = &broken else { panic!("{broken:?}") };
        assert_eq!(source.kind(), BackendErrorKind::Rejected);
        assert_eq!(source.to_string(), "Rejected: conformance: put on an absent key must fail");
        assert!(rt.block_on(conformance(async {})).is_ok());
        assert_eq!(IN_SUITE.with(Cell::get), 0, "the thread is out of the suite again");
    }

    #[test]
    fn a_notifier_is_checked_on_the_destinations_given_as_text() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let outbox = sspr_core::memory::Outbox::new();
        let both = ["jane@home.example".to_owned(), "+447400900123".to_owned()];
        assert!(rt.block_on(check_notifier(&outbox, &both, None)).is_ok());
        // The outbox sends texts too: as an e-mail-only notifier it answers Ok to one.
        let broken = rt.block_on(check_notifier(&outbox, &both[..1], None));
        let Err(Error::Backend { source, .. }) = &broken else { panic!("{broken:?}") };
        assert!(source.to_string().contains("must be refused as Rejected"), "{source}");
        for bad in [&["not a destination".to_owned()][..], &[]] {
            let refused = rt.block_on(check_notifier(&outbox, bad, None));
            assert!(matches!(refused, Err(Error::InvalidInput { field: "destinations", .. })), "{refused:?}");
        }
    }
}
