use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::backend::Notifier;
use crate::error::BackendError;
use crate::notice::{Message, Notification, PinPurpose};

/// A notifier that delivers nothing and records notices for inspection: the development
/// outbox of the demo portal and the test suites. Clones share the outbox.
///
/// It is bounded: it keeps the newest [`Outbox::DEFAULT_CAPACITY`] notices (or the capacity
/// given to [`Outbox::with_capacity`]) and drops the oldest, so a flood of resets against a
/// demo or test deployment cannot grow its memory without end.
#[derive(Debug, Clone)]
pub struct Outbox {
    sent: Arc<Mutex<VecDeque<Notification>>>,
    capacity: usize,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbox {
    /// Notices an [`Outbox::new`] keeps.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// An empty outbox keeping the newest [`Outbox::DEFAULT_CAPACITY`] notices.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// An empty outbox keeping the newest `capacity` notices (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self { sent: Arc::default(), capacity: capacity.max(1) }
    }

    /// How many notices it keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Every notice still kept, oldest first.
    pub fn messages(&self) -> Vec<Notification> {
        lock(&self.sent).iter().cloned().collect()
    }

    /// Notices kept for `address` (an e-mail address or E.164 number), oldest first.
    pub fn messages_to(&self, address: &str) -> Vec<Notification> {
        lock(&self.sent).iter().filter(|n| n.to.as_str().eq_ignore_ascii_case(address)).cloned().collect()
    }

    /// The digits of the last reset PIN sent to `address`: what a user would read in their
    /// mail.
    pub fn last_pin_to(&self, address: &str) -> Option<String> {
        self.last_code_to(address, PinPurpose::Reset)
    }

    /// The digits of the last code sent to `address` to prove it as a new contact
    /// ([`crate::Sspr::request_contact_proof`]).
    pub fn last_proof_code_to(&self, address: &str) -> Option<String> {
        self.last_code_to(address, PinPurpose::ContactProof)
    }

    /// The digits of the last helpdesk recovery code sent to `address`
    /// ([`crate::Sspr::admin_send_recovery_code`]).
    pub fn last_recovery_code_to(&self, address: &str) -> Option<String> {
        self.last_code_to(address, PinPurpose::HelpdeskRecovery)
    }

    fn last_code_to(&self, address: &str, purpose: PinPurpose) -> Option<String> {
        lock(&self.sent).iter().rev().filter(|n| n.to.as_str().eq_ignore_ascii_case(address)).find_map(|n| {
            match &n.message {
                Message::Pin { pin, purpose: p, .. } if *p == purpose => Some(pin.expose_secret().to_owned()),
                _ => None,
            }
        })
    }

    /// Forget every notice.
    pub fn clear(&self) {
        lock(&self.sent).clear();
    }
}

#[async_trait]
impl Notifier for Outbox {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        let mut sent = lock(&self.sent);
        while sent.len() >= self.capacity {
            sent.pop_front();
        }
        sent.push_back(notification.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Destination, Locale};
    use crate::notice::Message;

    fn notice(i: usize) -> Notification {
        Notification {
            to: Destination::Email(crate::EmailAddress::parse(&format!("n{i}@example.org")).unwrap()),
            locale: Locale::En,
            message: Message::ContactsChanged { by_admin: false },
            at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[tokio::test]
    async fn the_oldest_notices_are_dropped_at_capacity() {
        let outbox = Outbox::with_capacity(3);
        for i in 0..5 {
            outbox.send(&notice(i)).await.unwrap();
        }
        let kept: Vec<String> = outbox.messages().iter().map(|n| n.to.as_str().to_owned()).collect();
        assert_eq!(kept, ["n2@example.org", "n3@example.org", "n4@example.org"]);
        assert_eq!(Outbox::new().capacity(), Outbox::DEFAULT_CAPACITY);
        assert_eq!(Outbox::with_capacity(0).capacity(), 1);
    }
}
