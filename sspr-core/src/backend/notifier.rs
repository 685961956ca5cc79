use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

use crate::api::Channel;
use crate::error::{BackendError, BackendErrorKind};
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

/// A notifier that routes each notice by its channel: e-mail to one notifier, SMS to another
/// (an SMTP relay and an SMS gateway, say). A channel without a notifier refuses its notices
/// with `BackendErrorKind::Rejected`, as the [`Notifier`] contract asks.
///
/// ```
/// use std::sync::Arc;
/// use sspr_core::backend::ByChannel;
/// use sspr_core::memory::Outbox;
/// let mail = Outbox::new();
/// let sms = Outbox::new();
/// let notifier = ByChannel::new(Some(Arc::new(mail)), Some(Arc::new(sms)));
/// # let _ = notifier;
/// ```
#[derive(Debug, Clone)]
pub struct ByChannel {
    email: Option<Arc<dyn Notifier>>,
    sms: Option<Arc<dyn Notifier>>,
}

impl ByChannel {
    /// Route e-mail notices to `email` and text messages to `sms`.
    pub fn new(email: Option<Arc<dyn Notifier>>, sms: Option<Arc<dyn Notifier>>) -> Self {
        Self { email, sms }
    }
}

#[async_trait]
impl Notifier for ByChannel {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        let channel = notification.to.channel();
        let target = match channel {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
        };
        match target {
            Some(notifier) => notifier.send(notification).await,
            None => Err(BackendError::new(
                BackendErrorKind::Rejected,
                format!("no notifier for {} is configured", channel.method_id()),
            )),
        }
    }
}
