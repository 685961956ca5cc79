//! What follows an audit event: the host's event hooks ([`crate::hooks`]) and the notices to
//! the policy's `admin_alert_addresses`. Both run off the request path, in the delivery set,
//! so neither a slow hook nor a slow mail relay shows in an answer; neither can fail a step.

use std::time::Duration;

use super::Sspr;
use crate::api::Destination;
use crate::audit::{AuditEvent, AuditKind, Outcome};
use crate::hooks::{HOOK_TIMEOUT, HookEvent};
use crate::input::EmailAddress;
use crate::notice::{Message, Notification};

/// The state-store counter of the admin alerts of one kind in the current interval.
const ALERT_KEY: &str = "sspr/admin-alert/";

impl Sspr {
    /// Hand the hook event `audit` is, if any, to the hooks subscribed to it, and alert the
    /// admins when it is one they are alerted of.
    pub(super) async fn after_audit(&self, audit: &AuditEvent) {
        let Some(event) = HookEvent::of(audit) else { return };
        for subscription in self.inner.hooks.iter().filter(|s| s.events.contains(&event)) {
            let (sspr, hook, heard) = (self.clone(), subscription.hook.clone(), audit.clone());
            // Off the caller's task when answers are padded: a hook exists only for a real
            // account (a refused privileged login, a block), so a hook that blocks must not
            // lengthen the anonymous answer it follows, not even with the delivery set full
            // (then the hook is given up, as a PIN is).
            let handed = self
                .hand_off_anonymous(async move {
                    let failure = match sspr.within(HOOK_TIMEOUT, hook.on_event(event, &heard)).await {
                        Some(Ok(())) => return,
                        Some(Err(e)) => e.to_string(),
                        None => format!("no answer within {} s", HOOK_TIMEOUT.as_secs()),
                    };
                    sspr.record_hook_failure(event, &heard, &failure).await;
                })
                .await;
            if handed.is_err() {
                let failure = format!("not run: {} deliveries already waiting", self.inner.deliveries.in_flight());
                self.record_hook_failure(event, audit, &failure).await;
            }
        }
        if matches!(event, HookEvent::PrivilegedAttemptRefused | HookEvent::FailureAlarm) {
            self.alert_admins(event, audit).await;
        }
    }

    /// Mail the policy's `admin_alert_addresses` about `event`, at most once per kind in each
    /// `admin_alert_interval_minutes` across every instance sharing the store (an attacker
    /// trying a privileged login in a loop must not flood the admins' mailboxes).
    async fn alert_admins(&self, event: HookEvent, audit: &AuditEvent) {
        let policy = &self.inner.policy;
        if policy.admin_alert_addresses.is_empty() {
            return;
        }
        let (sspr, event, audit) = (self.clone(), event, audit.clone());
        // Counted off the request path too: a privileged login's answer must not take one
        // store call longer than an unknown login's. With the delivery set full it is not
        // counted either: the next attempt that finds room alerts (work outside the set
        // could outlive a host that flushed and freed its backends).
        let alert = async move { sspr.send_admin_alert(event, &audit).await };
        if self.hand_off_anonymous(alert).await.is_err() {
            tracing::warn!(
                event = event.as_str(),
                "the delivery set is full: an admin alert waits for the next attempt"
            );
        }
    }

    /// Audit that the hook for `event`, following `audit`, failed (or was not run).
    async fn record_hook_failure(&self, event: HookEvent, audit: &AuditEvent, failure: &str) {
        tracing::warn!(event = event.as_str(), error = %failure, "an event hook failed");
        let mut failed = audit.clone();
        failed.kind = AuditKind::HookFailed;
        failed.at = self.now();
        failed.outcome = Outcome::Failed { error: format!("hook for {}: {failure}", event.as_str()) };
        // Recorded as it is, not through `audit`: a hook failure is no hook event.
        self.record(&failed).await;
    }

    async fn send_admin_alert(&self, event: HookEvent, audit: &AuditEvent) {
        let policy = &self.inner.policy;
        let now = self.now();
        let interval = Duration::from_secs(u64::from(policy.admin_alert_interval_minutes) * 60);
        let key = format!("{ALERT_KEY}{}", event.as_str());
        match self.inner.store.increment(&key, now + interval, now).await {
            Ok(counter) if counter.count == 1 => {}
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "the state store failed: an admin alert was not sent");
                return;
            }
        }
        let message = Message::AdminAlert {
            event,
            user_id: audit.user_id.as_ref().map(|u| u.as_str().to_owned()),
            client_ip: audit.client_ip,
            held_back_minutes: policy.admin_alert_interval_minutes,
        };
        for address in policy.admin_alert_addresses.iter().filter_map(|a| EmailAddress::parse(a).ok()) {
            let notice = Notification {
                to: Destination::Email(address),
                locale: crate::api::Locale::En,
                message: message.clone(),
                at: self.local_time(now),
            };
            if let Err(e) = self.inner.notifier.send(&notice).await {
                tracing::warn!(error = %e, "an admin alert could not be delivered");
            }
        }
    }
}
