//! The [`Notifier`] contract, checked from outside: what the engine relies on when it hands a
//! notice over (see `engine/delivery.rs`).
//!
//! - `Ok` means accepted: the engine records the PIN as sent and tells the user to read it,
//!   so every kind of notice it sends must be accepted for every destination the notifier
//!   serves, also many at once (deliveries run concurrently).
//! - A channel the notifier does not serve is refused as `Rejected`: `Ok` would lose the PIN
//!   unseen while the audit trail says it went out, and `Unavailable` is retried for nothing.
//! - With an [`Inbox`]: each notice arrives once (the engine retries only what the notifier
//!   refused, so a notifier that sends twice, or retries what its relay accepted, sends one
//!   PIN twice), at its own destination only, with its PIN as the user must type it; a PIN
//!   that reaches another destination (a notifier mixing up concurrent sends) hands that
//!   person the account.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::join_all;
use time::OffsetDateTime;

use crate::api::{Channel, Destination, Locale};
use crate::backend::Notifier;
use crate::error::{BackendError, BackendErrorKind};
use crate::hooks::HookEvent;
use crate::input::{EmailAddress, PhoneNumber};
use crate::notice::{Message, Notification, PinPurpose};
use crate::secret::Pin;

/// What [`notifier_conformance`] needs to know about the notifier under test.
#[derive(Debug, Clone)]
pub struct NotifierFixture {
    /// Where it may deliver: at least one destination of every channel it serves (a channel
    /// with none must be refused), each read by nobody else while the suite runs. Two or more
    /// also check that concurrent sends are not mixed up between them.
    pub destinations: Vec<Destination>,
}

/// What the recipients of the fixture's destinations read: the suite checks there that each
/// notice arrived, once, at its own destination, with its PIN.
#[async_trait]
pub trait Inbox: Send + Sync {
    /// Every message delivered to `to` so far, oldest first, each as its recipient reads it
    /// (an e-mail's subject and body, a text message's text).
    async fn read(&self, to: &Destination) -> Result<Vec<String>, BackendError>;
}

/// Sends and polls of the inbox before a missing notice fails the suite (with `sleep` waits
/// of [`POLL`]: 10 s).
const POLLS: u32 = 100;
const POLL: Duration = Duration::from_millis(100);
/// How long the suite waits, after every notice arrived, for a duplicate to show.
const SETTLE: Duration = Duration::from_millis(500);
/// PIN notices sent at once to each destination.
const CONCURRENT: usize = 4;

/// Where the suite sends a notice on a channel the fixture does not serve: addresses nobody
/// can hold (`.invalid`, RFC 2606; an Australian mobile number reserved for fiction).
fn unserved(channel: Channel) -> Destination {
    match channel {
        Channel::Email => Destination::Email(EmailAddress::parse("sspr-conformance@example.invalid").unwrap()),
        Channel::Sms => Destination::Sms(PhoneNumber::parse("+61491570156").unwrap()),
    }
}

/// Run the [`Notifier`] contract against `notifier`. It sends notices to the fixture's
/// destinations (and one to an address nobody holds on each channel without one). With
/// `inbox` it also checks what arrived; `sleep(d)` must let `d` pass for real (the suite polls
/// the inbox for up to 10 s).
pub async fn notifier_conformance<S, F>(
    notifier: &dyn Notifier,
    fixture: &NotifierFixture,
    inbox: Option<&dyn Inbox>,
    mut sleep: S,
) where
    S: FnMut(Duration) -> F,
    F: Future<Output = ()>,
{
    let destinations = &fixture.destinations;
    assert!(!destinations.is_empty(), "the fixture must name at least one destination");
    let before = match inbox {
        Some(inbox) => Some(read_all(inbox, destinations).await),
        None => None,
    };

    // Every notice the engine sends, to every destination: accepted. The PINs are told
    // apart by the destination and the notice, so the inbox check knows where each belongs.
    let mut sent: Vec<Vec<String>> = vec![Vec::new(); destinations.len()];
    let mut next_pin = 0;
    let mut pin = || {
        next_pin += 1;
        (73_100_000 + next_pin * 37).to_string()
    };
    for (i, to) in destinations.iter().enumerate() {
        for notification in every_notice(to, &mut pin) {
            if let Err(e) = notifier.send(&notification).await {
                panic!(
                    "the notifier must accept every notice the engine sends: {} to {} failed: {e}",
                    kind(&notification.message),
                    to.masked()
                );
            }
            sent[i].push(notification.pin().map(|p| p.expose_secret().to_owned()).unwrap_or_default());
        }
    }

    // A channel it does not serve: refused as Rejected.
    for channel in [Channel::Email, Channel::Sms] {
        if destinations.iter().any(|d| d.channel() == channel) {
            continue;
        }
        let notification = notice(unserved(channel), pin_message(&pin(), PinPurpose::Reset));
        match notifier.send(&notification).await {
            Err(e) if e.kind() == BackendErrorKind::Rejected => {}
            Err(e) => panic!(
                "a channel the notifier does not serve must be refused as Rejected ({} was {:?}: the engine \
                 retries Unavailable for nothing); give the fixture a destination of each channel it serves",
                channel.method_id(),
                e.kind()
            ),
            Ok(()) => panic!(
                "a channel the notifier does not serve must be refused as Rejected ({} was accepted: the engine \
                 records a PIN as sent that nobody gets); give the fixture a destination of each channel it serves",
                channel.method_id()
            ),
        }
    }

    // Many PINs at once, as concurrent deliveries send them.
    let mut batch = Vec::new();
    for (i, to) in destinations.iter().enumerate() {
        for _ in 0..CONCURRENT {
            let digits = pin();
            sent[i].push(digits.clone());
            batch.push(notice(to.clone(), pin_message(&digits, PinPurpose::Reset)));
        }
    }
    for (n, result) in join_all(batch.iter().map(|n| notifier.send(n))).await.into_iter().enumerate() {
        if let Err(e) = result {
            panic!("the notifier must accept PINs sent at once: PIN {n} of {} failed: {e}", batch.len());
        }
    }

    let (Some(inbox), Some(before)) = (inbox, before) else { return };
    let arrived = |now: &[Vec<String>]| -> Vec<Vec<String>> {
        now.iter().zip(&before).map(|(all, old)| all.get(old.len()..).unwrap_or_default().to_vec()).collect()
    };
    let mut new = arrived(&read_all(inbox, destinations).await);
    let mut polls = 0;
    while new.iter().zip(&sent).any(|(got, want)| got.len() < want.len()) && polls < POLLS {
        sleep(POLL).await;
        polls += 1;
        new = arrived(&read_all(inbox, destinations).await);
    }
    sleep(SETTLE).await;
    new = arrived(&read_all(inbox, destinations).await);
    // A PIN at a destination it was not sent to first: that is the takeover.
    for (i, to) in destinations.iter().enumerate() {
        for digits in sent[i].iter().filter(|d| !d.is_empty()) {
            for (j, other) in destinations.iter().enumerate().filter(|(j, _)| *j != i) {
                assert!(
                    !new[j].iter().any(|m| m.contains(digits.as_str())),
                    "a PIN sent to {} reached {}: a notifier must never mix up its sends",
                    to.masked(),
                    other.masked()
                );
            }
        }
    }
    for (i, to) in destinations.iter().enumerate() {
        assert_eq!(
            new[i].len(),
            sent[i].len(),
            "each notice must arrive once: {} notices were sent to {}, {} arrived",
            sent[i].len(),
            to.masked(),
            new[i].len()
        );
        for digits in sent[i].iter().filter(|d| !d.is_empty()) {
            let holding = new[i].iter().filter(|m| m.contains(digits.as_str())).count();
            assert_eq!(holding, 1, "a PIN must arrive at its destination ({}) in one message, as sent", to.masked());
        }
    }
}

/// What each destination's inbox holds now.
async fn read_all(inbox: &dyn Inbox, destinations: &[Destination]) -> Vec<Vec<String>> {
    let mut all = Vec::with_capacity(destinations.len());
    for to in destinations {
        all.push(inbox.read(to).await.unwrap_or_else(|e| panic!("the inbox of {} cannot be read: {e}", to.masked())));
    }
    all
}

/// 2026-01-01 10:00 UTC: a fixed time (the notices' dates are text only).
fn issued() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_261_600).unwrap()
}

fn notice(to: Destination, message: Message) -> Notification {
    Notification { to, locale: Locale::En, message, at: issued() }
}

fn pin_message(digits: &str, purpose: PinPurpose) -> Message {
    Message::Pin { pin: Pin::new(digits), expires_at: issued() + Duration::from_secs(600), valid_minutes: 10, purpose }
}

/// Every notice the engine sends to `to`, the PINs taken from `pin`. Reminders and admin
/// alerts go to mailboxes only.
fn every_notice(to: &Destination, pin: &mut impl FnMut() -> String) -> Vec<Notification> {
    let other = match to.channel() {
        Channel::Email => Channel::Sms,
        Channel::Sms => Channel::Email,
    };
    let mut messages = vec![
        pin_message(&pin(), PinPurpose::Reset),
        pin_message(&pin(), PinPurpose::ContactProof),
        pin_message(&pin(), PinPurpose::HelpdeskRecovery),
        Message::ResetRequested { channel: other, masked: unserved(other).masked() },
        Message::PasswordReset { unlock_only: false },
        Message::ContactsChanged { by_admin: true },
        Message::PasswordChanged,
        Message::HelpdeskRecovery { redeemed: false },
    ];
    if to.channel() == Channel::Email {
        messages.push(Message::RegistrationReminder {
            url: "https://sspr.example.invalid/register".into(),
            confirm: false,
        });
        messages.push(Message::AdminAlert {
            event: HookEvent::FailureAlarm,
            user_id: None,
            client_ip: None,
            held_back_minutes: 15,
        });
    }
    messages.into_iter().map(|m| notice(to.clone(), m)).collect()
}

/// The notice's kind, for a failure's message (never its PIN).
fn kind(message: &Message) -> &'static str {
    match message {
        Message::Pin { .. } => "a PIN",
        Message::ResetRequested { .. } => "\"reset requested\"",
        Message::PasswordReset { .. } => "\"password reset\"",
        Message::ContactsChanged { .. } => "\"contacts changed\"",
        Message::PasswordChanged => "\"password changed\"",
        Message::RegistrationReminder { .. } => "a registration reminder",
        Message::HelpdeskRecovery { .. } => "\"helpdesk recovery\"",
        Message::AdminAlert { .. } => "an admin alert",
    }
}
