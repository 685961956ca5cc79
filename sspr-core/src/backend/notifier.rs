use std::fmt::Debug;

use async_trait::async_trait;

use crate::error::BackendError;
use crate::notice::Notification;

/// Delivers notices: PINs and the "reset requested", "password reset" and "contacts
/// changed" messages, by e-mail or SMS.
///
/// Contract:
/// - `send` returns `Ok` once the message is accepted for delivery (by the SMTP relay, the
///   SMS gateway). An error means it was not accepted; a retry by the engine must not be able
///   to deliver a PIN twice, so an implementation retries only where a retry cannot send
///   twice.
/// - The PIN (`Notification::pin`) goes into the message and nowhere else: not into a log,
///   an error or a metric. [`Notification::render`] gives the standard text in the
///   notification's language.
/// - A notifier that does not serve a channel (an SMTP notifier asked to send an SMS) returns
///   `BackendErrorKind::Rejected`.
#[async_trait]
pub trait Notifier: Send + Sync + Debug {
    /// Deliver one notice.
    async fn send(&self, notification: &Notification) -> Result<(), BackendError>;
}
