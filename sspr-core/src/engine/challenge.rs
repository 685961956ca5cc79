//! What `begin_reset` checks before it asks the directory anything: the per-IP limit and the
//! bot challenge ([`crate::BotChallenge`]). Both depend only on the client and the typed
//! login, never on whether the account exists, so known and unknown logins meet them alike.

use time::OffsetDateTime;

use super::limits::{self, Limit};
use super::{AuditScope, Sspr};
use crate::audit::{AuditKind, Outcome};
use crate::backend::{ChallengeCheck, ChallengePolicy, ChallengeVerdict};
use crate::error::{ChallengeRefusal, Error, Result};
use crate::input::NormalizedLogin;

/// Most provider reasons kept for the audit trail, and the longest one.
const MAX_REASONS: usize = 8;
const MAX_REASON_LEN: usize = 64;

/// A provider's reason as the audit trail keeps it: letters, digits, `-`, `_`, `.` only, cut
/// short (a provider's answer is not trusted to be free of anything else).
fn audit_reason(reason: &str) -> String {
    reason.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).take(MAX_REASON_LEN).collect()
}

impl Sspr {
    /// What a page needs to show the bot challenge's widget ([`crate::BotChallenge::widget`]),
    /// with [`crate::ChallengeWidget::always`] set from the policy; `None` when the engine has
    /// no bot challenge, or its verifier has no widget of its own. Web integrations read this,
    /// never the configuration: a page shows the widget (and allows its script) only then.
    pub fn challenge_widget(&self) -> Option<crate::ChallengeWidget> {
        let (verifier, policy) = self.inner.bot_challenge.as_ref()?;
        let mut widget = verifier.widget()?;
        widget.always = matches!(policy, ChallengePolicy::Always);
        Some(widget)
    }

    /// Count this begin (per IP, and the challenge policy's counters, in one store call),
    /// refuse it when the client is over `ip_begins_per_hour`, then check the bot challenge
    /// when the engine has one and its policy asks for it now. Every refusal is audited in
    /// `scope` (`ResetRequested`; a rate limit as `RateLimited`) and starts nothing.
    pub(super) async fn check_begin(
        &self,
        login: &NormalizedLogin,
        now: OffsetDateTime,
        scope: &AuditScope<'_>,
    ) -> Result<()> {
        let ctx = scope.ctx;
        let mut counted: Vec<Limit> =
            self.ip_limit(ctx, "ip_begins", self.inner.policy.ip_begins_per_hour).into_iter().collect();
        let hard = counted.len();
        let mut required = false;
        match &self.inner.bot_challenge {
            None => {}
            Some((_, ChallengePolicy::Always)) => required = true,
            Some((_, ChallengePolicy::AfterBegins { per_ip, per_login, window })) => {
                if let Some(cap) = per_ip
                    && let Some(limit) = self.ip_limit(ctx, "challenge_ip", *cap)
                {
                    counted.push(Limit { window: *window, ..limit });
                }
                if let Some(cap) = per_login {
                    counted.push(Limit {
                        key: limits::challenge_login(&self.login_subject(login)),
                        cap: *cap,
                        window: *window,
                        name: "challenge_login",
                    });
                }
            }
        }
        if !counted.is_empty() {
            let mut refusals = self.count(&counted, now).await?;
            let over = refusals.split_off(hard);
            if let Some(refusal) = limits::longest(refusals) {
                scope.record(AuditKind::RateLimited, refusal.outcome()).await;
                return Err(refusal.error());
            }
            required |= over.iter().any(Option::is_some);
        }
        let Some((verifier, _)) = self.inner.bot_challenge.as_ref().filter(|_| required) else {
            return Ok(());
        };
        let refuse = |reason| Error::Challenge { reason };
        let Some(token) = &ctx.challenge_token else {
            scope.record(AuditKind::ResetRequested, Outcome::Limited { limit: "challenge_required".into() }).await;
            return Err(refuse(ChallengeRefusal::Required));
        };
        let check = ChallengeCheck { token, client_ip: ctx.client_ip };
        match self.inner.limit.run("bot_challenge.verify", verifier.verify(&check)).await {
            Ok(ChallengeVerdict::Passed) => Ok(()),
            Ok(ChallengeVerdict::Failed { reasons }) => {
                let reasons: Vec<String> = reasons.iter().take(MAX_REASONS).map(|r| audit_reason(r)).collect();
                let error = format!("bot challenge failed: {}", reasons.join(", "));
                scope.record(AuditKind::ResetRequested, Outcome::Failed { error }).await;
                Err(refuse(ChallengeRefusal::Failed))
            }
            Err(e) => {
                // Fail closed: a verifier that cannot answer never lets a request through.
                tracing::warn!(error = %e, "the bot challenge could not be checked; the reset was not started");
                let error = format!("bot challenge unavailable: {e}");
                scope.record(AuditKind::ResetRequested, Outcome::Failed { error }).await;
                Err(refuse(ChallengeRefusal::Unavailable))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_provider_reason_keeps_only_plain_characters() {
        assert_eq!(super::audit_reason("invalid-input-response"), "invalid-input-response");
        assert_eq!(super::audit_reason("a b\n<script>"), "abscript");
        assert_eq!(super::audit_reason(&"x".repeat(500)).len(), super::MAX_REASON_LEN);
    }
}
