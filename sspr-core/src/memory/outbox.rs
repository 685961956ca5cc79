use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::backend::Notifier;
use crate::error::BackendError;
use crate::notice::Notification;

/// A notifier that delivers nothing and records every notice for inspection: the
/// development outbox of the demo portal and the test suites. Clones share the outbox.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    sent: Arc<Mutex<Vec<Notification>>>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every notice "sent" so far, oldest first.
    pub fn messages(&self) -> Vec<Notification> {
        lock(&self.sent).clone()
    }

    /// Notices sent to `address` (an e-mail address or E.164 number), oldest first.
    pub fn messages_to(&self, address: &str) -> Vec<Notification> {
        lock(&self.sent).iter().filter(|n| n.to.as_str().eq_ignore_ascii_case(address)).cloned().collect()
    }

    /// The digits of the last PIN sent to `address`: what a user would read in their mail.
    pub fn last_pin_to(&self, address: &str) -> Option<String> {
        lock(&self.sent)
            .iter()
            .rev()
            .filter(|n| n.to.as_str().eq_ignore_ascii_case(address))
            .find_map(|n| n.pin().map(|p| p.expose_secret().to_owned()))
    }

    /// Forget every notice.
    pub fn clear(&self) {
        lock(&self.sent).clear();
    }
}

#[async_trait]
impl Notifier for Outbox {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        lock(&self.sent).push(notification.clone());
        Ok(())
    }
}
