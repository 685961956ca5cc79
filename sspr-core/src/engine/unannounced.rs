//! The duty a change owes its owner if its caller stops while the change may be being made.

use super::Sspr;
use crate::api::Locale;
use crate::audit::AuditEvent;
use crate::backend::Enrollment;
use crate::notice::Message;

/// What a change the directory or the contact store may be making owes if its caller stops
/// before the answer comes (its future dropped: a client gone, a host's timeout, a cancelled
/// task), since the caller's retry would find nothing left to change: an audit event saying
/// it may be made and, for a change the owner hears of, the notice to the contacts read
/// before it. Done on the engine's spawner on drop; a false alarm when the write never
/// happened, which costs less than a silent change. [`UnannouncedChange::disarm`] once the
/// answer is in (the caller then audits and announces what it knows).
///
/// Armed around a reset completion's directory write, a password change's, and every
/// enrollment save that owes an event. The contacts read before the change are held as read
/// and turned into destinations only on a drop: the usual path, which disarms, pays nothing
/// for them, and gets them back from [`UnannouncedChange::disarm`].
pub(super) struct UnannouncedChange {
    /// What a drop owes (`None`: disarmed, nothing owed, or no spawner to do it on).
    owed: Option<Box<Owed>>,
    /// The contacts read before the change: told on a drop, handed back by `disarm`.
    before: Option<Enrollment>,
}

struct Owed {
    sspr: Sspr,
    event: AuditEvent,
    notice: Option<(Locale, Message)>,
}

impl UnannouncedChange {
    /// Armed for `event`, and `notice` (if any) to the contacts of `before` (those read before
    /// the change), as they stand when the event was made. Without a spawner nothing could be
    /// done on a drop: only `before` is kept, for [`UnannouncedChange::disarm`].
    pub(super) fn arm(
        sspr: &Sspr,
        event: AuditEvent,
        notice: Option<(Locale, Message)>,
        before: Option<Enrollment>,
    ) -> Self {
        let owed = sspr.inner.spawner.is_some().then(|| Box::new(Owed { sspr: sspr.clone(), event, notice }));
        Self { owed, before }
    }

    /// Nothing owed: only `before` is held, to hand back (an enrollment save that owes no event).
    pub(super) fn unarmed(before: Option<Enrollment>) -> Self {
        Self { owed: None, before }
    }

    /// The answer is in (or the caller announces the change itself): nothing is owed from
    /// here. Hands back the contacts read before the change.
    pub(super) fn disarm(&mut self) -> Option<Enrollment> {
        self.owed = None;
        self.before.take()
    }
}

impl Drop for UnannouncedChange {
    fn drop(&mut self) {
        let Some(owed) = self.owed.take() else { return };
        let Owed { sspr, event, notice } = *owed;
        let before = self.before.take();
        let engine = sspr.clone();
        engine.spawn_detached(async move {
            let now = event.at;
            sspr.audit(event).await;
            if let (Some((locale, message)), Some(enrollment)) = (notice, &before) {
                let to = sspr.contact_destinations(enrollment, now);
                sspr.notify_all(to, locale, message, now).await;
            }
        });
    }
}
