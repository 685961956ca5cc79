//! The engine object: [`Engine`] and its operations as async methods, and [`EngineConfig`].
//! Assembly is sspr-bind's (`EngineOptions`: key, seed, policy, a manual clock that is also
//! the timer) plus `shared` (audit sinks, shared state store), as in the C API; each
//! operation converts its arguments, runs inside the process's runtime and converts the
//! answer.

use std::fmt;
use std::sync::Arc;

use sspr_bind::runtime::{self, ProcessSpawner, ProcessTimer};
use sspr_bind::{EngineOptions, Material, PolicyFormat};

use super::builtin::{ManualClock, StateStoreConfig};
use super::errors::SsprError;
use super::foreign::{
    AuditSink, ContactStore, Directory, EventHook, ForeignAudit, ForeignContacts, ForeignDirectory, ForeignEventHook,
    ForeignNotifier, ForeignPasswordChecker, Notifier, PasswordChecker,
};
use super::values::{
    Actor, Channel, CompletionMode, ContactProof, ContactUpdate, Contacts, EnrollmentFilter, EnrollmentReport,
    NewPassword, PasswordRules, PinSent, Recovered, RecoveryCode, RecoverySent, ReminderRun, RequestContext,
    ResetChallenge, ResetOutcome, SignedIn, UserStatus, Verified,
};
use crate::shared;

/// Run an engine call inside the process's runtime, whichever thread the host language polls
/// it from: the network stores and the timer live there (see `sspr_bind::runtime`).
async fn run<T>(call: impl std::future::Future<Output = Result<T, SsprError>>) -> Result<T, SsprError> {
    runtime::handle()?.guard(call).await?
}

/// The policy from whichever form the configuration gives, if any.
fn policy(config: &EngineConfig) -> Result<Option<sspr_core::Policy>, sspr_core::Error> {
    match (&config.policy_json, &config.policy_toml) {
        (Some(_), Some(_)) => Err(sspr_core::Error::Config("give the policy as JSON or as TOML, not both".into())),
        (Some(json), None) => sspr_bind::policy(json, PolicyFormat::Json).map(Some),
        (None, Some(toml)) => sspr_bind::policy(toml, PolicyFormat::Toml).map(Some),
        (None, None) => Ok(None),
    }
}

/// What `Engine` needs besides its backends. Its string form (`Debug`, Kotlin `toString`,
/// Python `str`/`repr`) shows the policy and the audit file only: never the key, the seed, the
/// state store's URL or the bot challenge's secret.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct EngineConfig {
    /// The server's secret key: 32 to 1024 random bytes, the same on every instance (or
    /// empty, and the key in `secret_key_hex`: bytes have no default in every language).
    pub secret_key: Vec<u8>,
    /// The policy as JSON (missing fields take their defaults); none for the defaults (or
    /// `policy_toml`).
    #[uniffi(default = None)]
    pub policy_json: Option<String>,
    /// Exactly 32 bytes seeding the PIN generator (tests and test vectors only: a fixed seed
    /// makes PINs predictable); none seeds it from the OS. Another length is `Config`.
    #[uniffi(default = None)]
    pub rng_seed: Option<Vec<u8>>,
    /// Where flows, rate-limit counters and blocks are kept; none keeps them in this
    /// process's memory. Give every process of a deployment the same store: with one each,
    /// N processes allow N times the PIN guesses.
    #[uniffi(default = None)]
    pub state_store: Option<StateStoreConfig>,
    /// A file every audit event is appended to as one JSON line (created if missing; several
    /// processes may share it).
    #[uniffi(default = None)]
    pub audit_file: Option<String>,
    /// The policy as TOML (the portal's `policy.toml`), instead of `policy_json`.
    #[uniffi(default = None)]
    pub policy_toml: Option<String>,
    /// The secret key as hex text instead of `secret_key` (twice as many digits, either case,
    /// surrounding whitespace ignored: a key file's line). Giving both is `Config`.
    #[uniffi(default = None)]
    pub secret_key_hex: Option<String>,
    /// The generator seed as 64 hex digits instead of `rng_seed` (tests only).
    #[uniffi(default = None)]
    pub rng_seed_hex: Option<String>,
    /// Checks of chosen passwords beyond the policy's, as JSON: the `[password_checks]` of
    /// the other bindings' configuration (`{"banned_words_file": "...", "breached":
    /// {"endpoint": "...", "timeout_ms": 2000}}`, or `"breached": {"offline_path": "..."}`).
    #[uniffi(default = None)]
    pub password_checks_json: Option<String>,
    /// The built-in bot challenge verifier (Cloudflare Turnstile, hCaptcha, Google reCAPTCHA)
    /// as JSON: the `[bot_challenge]` of the other bindings' configuration (`{"provider":
    /// "turnstile", "site_key": "...", "secret": "...", "hostnames": [...], "policy":
    /// "always"}`). `begin_reset` then needs the widget's token (`challenge_token`). Never in
    /// `Debug`: it holds the provider's secret.
    #[uniffi(default = None)]
    pub bot_challenge_json: Option<String>,
    /// Collect the engine's metrics into the process's Prometheus registry, which
    /// `Engine.metrics_text()` renders (one registry per process: every engine built with
    /// this on counts into it). `Config` when another `metrics` recorder holds the process.
    #[uniffi(default = false)]
    pub metrics: bool,
    /// Server keys retired by a rotation, newest first, as hex text (README "Rotating the
    /// server key"): read, never written, so the blocks, failure counts and pending resets made
    /// under them hold; decoy masks come from the last (oldest). At most 4. A bad one is `Config`.
    #[uniffi(default = [])]
    pub previous_keys_hex: Vec<String>,
    /// How long one call to a host backend may go unanswered, in milliseconds (default 30 000;
    /// 1 to 600 000, else `Config`): a coroutine that never finishes is given up then, as an
    /// outage (a delivery: audited as failed).
    #[uniffi(default = None)]
    pub backend_timeout_ms: Option<u32>,
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("policy_json", &self.policy_json)
            .field("policy_toml", &self.policy_toml)
            .field("audit_file", &self.audit_file)
            .finish_non_exhaustive()
    }
}

display_as_debug!(EngineConfig);

/// The self-service password reset engine. Share one between all requests.
#[derive(Debug, uniffi::Object)]
pub struct Engine {
    sspr: sspr_core::Sspr,
}

#[uniffi::export]
impl Engine {
    /// Build an engine on the given backends; without a contact store enrollments are kept
    /// in memory, without a clock the system clock is used. Every audit event goes to
    /// `audit` and to `config.audit_file` when given; with neither the engine keeps the
    /// newest 10 000 in memory only. A network state store is connected now (this call
    /// blocks until it answers). Chosen passwords go through the configured checks
    /// (`config.password_checks_json`), then `password_checkers` in order. A bad key, seed (32
    /// bytes) or policy is `Config`.
    #[uniffi::constructor(default(contacts = None, clock = None, audit = None, password_checkers = None, hooks = None))]
    // Each optional backend is a defaulted keyword argument in the foreign languages.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: EngineConfig,
        directory: Arc<dyn Directory>,
        notifier: Arc<dyn Notifier>,
        contacts: Option<Arc<dyn ContactStore>>,
        clock: Option<Arc<ManualClock>>,
        audit: Option<Arc<dyn AuditSink>>,
        password_checkers: Option<Vec<Arc<dyn PasswordChecker>>>,
        hooks: Option<Vec<Arc<dyn EventHook>>>,
    ) -> Result<Arc<Self>, SsprError> {
        // An empty `secret_key` is "not given" (the key is then in `secret_key_hex`).
        let key_bytes = Some(config.secret_key.as_slice()).filter(|k| !k.is_empty());
        let key = Material::one_of(key_bytes, config.secret_key_hex.as_deref(), "secret_key", "secret_key_hex")?;
        let mut options = EngineOptions::new(sspr_bind::secret_key(key.unwrap_or(Material::Bytes(&[])))?);
        let previous = config
            .previous_keys_hex
            .iter()
            .enumerate()
            .map(|(i, hex)| sspr_bind::previous_key(Material::Hex(hex), i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        options = options.with_previous_keys(previous);
        if let Some(policy) = policy(&config)? {
            options = options.with_policy(policy);
        }
        let seed =
            Material::one_of(config.rng_seed.as_deref(), config.rng_seed_hex.as_deref(), "rng_seed", "rng_seed_hex")?;
        if let Some(seed) = seed {
            options = options.with_rng_seed(sspr_bind::rng_seed(seed)?);
        }
        if let Some(clock) = clock {
            options = options.with_manual_clock(clock.clock.clone());
        }
        options = options.with_metrics(config.metrics)?;
        if let Some(millis) = config.backend_timeout_ms {
            options = options.with_backend_timeout_ms(f64::from(millis))?;
        }
        let mut builder = options
            .apply(sspr_core::Sspr::builder(), ProcessTimer, ProcessSpawner)
            .directory(ForeignDirectory(directory))
            .notifier(ForeignNotifier(notifier));
        if let Some(contacts) = contacts {
            builder = builder.contacts(ForeignContacts(contacts));
        }
        let audit = audit.map(|a| Arc::new(ForeignAudit(a)) as Arc<dyn sspr_core::AuditSink>);
        let store = config.state_store.as_ref().map(StateStoreConfig::to_json);
        let mut builder = shared::shared_backends::<SsprError>(
            builder,
            audit,
            config.audit_file.as_deref(),
            store.as_deref(),
            config.password_checks_json.as_deref(),
            config.bot_challenge_json.as_deref(),
        )?;
        // The configured checks (`password_checks_json`) run first, then the host's, in order.
        for checker in password_checkers.unwrap_or_default() {
            builder = builder.password_checker(ForeignPasswordChecker(checker));
        }
        for hook in hooks.unwrap_or_default() {
            let hook = ForeignEventHook(hook);
            builder = builder.hook(&hook.events(), hook);
        }
        Ok(Arc::new(Self { sspr: builder.build()? }))
    }

    /// The policy in force, as JSON (every field, defaults filled in): what a portal needs to
    /// shape its forms (PIN length, the modes offered).
    pub fn policy_json(&self) -> Result<String, SsprError> {
        serde_json::to_string(self.sspr.policy()).map_err(|e| SsprError::Internal { detail: e.to_string() })
    }

    /// Start a reset for `login` (unknown logins get an answer of the same shape).
    /// `challenge_token`: the bot challenge widget's token (`cf-turnstile-response`,
    /// `h-captcha-response`, `g-recaptcha-response`) when the engine has one
    /// (`bot_challenge_json`); missing, refused or uncheckable when asked is `Challenge`
    /// (`required`, `failed`, `unavailable`) and nothing begins. Never in an error or a log.
    #[uniffi::method(default(challenge_token = None))]
    pub async fn begin_reset(
        &self,
        login: String,
        ctx: RequestContext,
        challenge_token: Option<String>,
    ) -> Result<ResetChallenge, SsprError> {
        run(async move {
            let mut ctx = ctx.to_core()?;
            ctx.challenge_token = sspr_core::ChallengeToken::parse(challenge_token.as_deref().unwrap_or_default())?;
            Ok(self.sspr.begin_reset(&login, &ctx).await?.into())
        })
        .await
    }

    /// Send a PIN by `method_id`; `confirm` is the full address when the method needs it.
    pub async fn send_pin(
        &self,
        flow_id: String,
        method_id: String,
        confirm: Option<String>,
        ctx: RequestContext,
    ) -> Result<PinSent, SsprError> {
        run(async move { Ok(self.sspr.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx.to_core()?).await?.into()) })
            .await
    }

    /// Check the PIN the user typed.
    pub async fn verify_pin(&self, flow_id: String, pin: String, ctx: RequestContext) -> Result<Verified, SsprError> {
        run(async move {
            let pin = zeroize::Zeroizing::new(pin);
            Ok(self.sspr.verify_pin(&flow_id, sspr_core::Pin::new(pin.as_str()), &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Finish a verified reset.
    pub async fn complete_reset(
        &self,
        flow_id: String,
        new_password: NewPassword,
        ctx: RequestContext,
    ) -> Result<ResetOutcome, SsprError> {
        run(async move { Ok(self.sspr.complete_reset(&flow_id, new_password.into(), &ctx.to_core()?).await?.into()) })
            .await
    }

    /// The completion modes the policy allows, the default first.
    pub fn completion_modes(&self) -> Vec<CompletionMode> {
        self.sspr.completion_modes().into_iter().map(Into::into).collect()
    }

    /// Sign a user in with their own password: an administrator's sign-in (privileged
    /// accounts get in; for the pages where users manage their own contacts use
    /// `sign_in_self_service`). Rate-limited; unknown login and wrong password both give
    /// `SignInFailed`.
    pub async fn sign_in(&self, login: String, password: String, ctx: RequestContext) -> Result<SignedIn, SsprError> {
        run(async move {
            let password = sspr_core::Password::new(password);
            Ok(self.sspr.sign_in(&login, &password, &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// `sign_in` for the pages where users manage their own contacts: a privileged,
    /// ineligible, disabled or expired account also gives `SignInFailed`, exactly like a
    /// wrong password and before it is checked.
    pub async fn sign_in_self_service(
        &self,
        login: String,
        password: String,
        ctx: RequestContext,
    ) -> Result<SignedIn, SsprError> {
        run(async move {
            let password = sspr_core::Password::new(password);
            Ok(self.sspr.sign_in_self_service(&login, &password, &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Change a user's password with the current one (the directory's history and minimum
    /// age apply). An unknown login, a wrong current password and an account the change does
    /// not serve all give `SignInFailed`, counted with `sign_in`'s failures; a refused new
    /// password gives `PasswordRejected` with its `refusal`.
    ///
    /// A `Directory` implemented in the host language has no change operation: once the
    /// current password and the new one passed those checks, the call fails with
    /// `Backend` of kind `NotSupported`, and nothing is changed.
    pub async fn change_password(
        &self,
        login: String,
        current: String,
        new_password: String,
        ctx: RequestContext,
    ) -> Result<(), SsprError> {
        run(async move {
            let (current, new_password) = (sspr_core::Password::new(current), sspr_core::Password::new(new_password));
            Ok(self.sspr.change_password(&login, &current, &new_password, &ctx.to_core()?).await?)
        })
        .await
    }

    /// The rules a new password must meet, to show before the user types. A `Directory`
    /// implemented in the host language does not say its rules: only the policy's
    /// `min_length` is known, the others are none.
    pub async fn password_rules(&self) -> Result<PasswordRules, SsprError> {
        run(async move { Ok(self.sspr.password_rules().await?.into()) }).await
    }

    /// Check now that the directory shows who is in the policy's `privileged_groups` (the
    /// engine checks before its first lookup anyway, and treats every user as privileged while
    /// it cannot). Call it at start-up to refuse to start on a directory that cannot. A
    /// `Directory` implemented in the host language has nothing to check.
    pub async fn check_privileged_groups(&self) -> Result<(), SsprError> {
        run(async move { Ok(self.sspr.check_privileged_groups().await?) }).await
    }

    /// The user's registered contact details in full, for the user's own page (not
    /// audited). An administrator's page uses `admin_contacts`.
    pub async fn contacts(&self, login: String) -> Result<Contacts, SsprError> {
        run(async move { Ok(self.sspr.contacts(&login).await?.into()) }).await
    }

    /// A user's registered contact details in full, read by an administrator (admins only):
    /// audited as `contacts_viewed` with the administrator as actor.
    pub async fn admin_contacts(
        &self,
        actor: Actor,
        login: String,
        ctx: RequestContext,
    ) -> Result<Contacts, SsprError> {
        run(async move { Ok(self.sspr.admin_contacts(&actor.try_into()?, &login, &ctx.to_core()?).await?.into()) })
            .await
    }

    /// Change a user's contact details.
    pub async fn update_contacts(
        &self,
        actor: Actor,
        login: String,
        update: ContactUpdate,
        ctx: RequestContext,
    ) -> Result<Contacts, SsprError> {
        run(async move {
            let actor = actor.try_into()?;
            Ok(self.sspr.update_contacts(&actor, &login, update.into(), &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Send a one-time code to a contact the user wants to add; `confirm_contact_proof` with
    /// that code saves it. A user's new contact given to `update_contacts` is refused with
    /// `NotAllowed` (`ContactUnproven`).
    pub async fn request_contact_proof(
        &self,
        actor: Actor,
        login: String,
        channel: Channel,
        value: String,
        ctx: RequestContext,
    ) -> Result<ContactProof, SsprError> {
        run(async move {
            let actor = actor.try_into()?;
            Ok(self.sspr.request_contact_proof(&actor, &login, channel.into(), &value, &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Save the contact of the pending proof `proof_id` if `code` is the code sent to it (the
    /// change then cools off and the old contacts are told, as any change by the user).
    pub async fn confirm_contact_proof(
        &self,
        actor: Actor,
        login: String,
        proof_id: String,
        code: String,
        ctx: RequestContext,
    ) -> Result<Contacts, SsprError> {
        run(async move {
            let actor = actor.try_into()?;
            // Held as a secret from here on: never in an error or a Debug string.
            let code = sspr_core::Password::new(code);
            let ctx = ctx.to_core()?;
            Ok(self.sspr.confirm_contact_proof(&actor, &login, &proof_id, code.expose_secret(), &ctx).await?.into())
        })
        .await
    }

    /// Issue a one-time helpdesk recovery code for `login` (admins only), to read out to the
    /// user once; the user redeems it with `redeem_recovery_code` (once, for 15 minutes).
    pub async fn admin_recovery(
        &self,
        actor: Actor,
        login: String,
        ctx: RequestContext,
    ) -> Result<RecoveryCode, SsprError> {
        run(async move { Ok(self.sspr.admin_recovery(&actor.try_into()?, &login, &ctx.to_core()?).await?.into()) })
            .await
    }

    /// Issue a helpdesk recovery code as `admin_recovery` does, but send it to the user's
    /// registered contact by `channel`: only the masked destination comes back.
    pub async fn admin_send_recovery_code(
        &self,
        actor: Actor,
        login: String,
        channel: Channel,
        ctx: RequestContext,
    ) -> Result<RecoverySent, SsprError> {
        run(async move {
            let actor = actor.try_into()?;
            Ok(self.sspr.admin_send_recovery_code(&actor, &login, channel.into(), &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Redeem a helpdesk recovery code: the right one starts a reset already verified (give
    /// its `flow_id` to `complete_reset`). Every refusal is `WrongPin` with no attempts left.
    pub async fn redeem_recovery_code(
        &self,
        login: String,
        code: String,
        ctx: RequestContext,
    ) -> Result<Recovered, SsprError> {
        run(async move {
            // Held as a secret from here on: never in an error or a Debug string.
            let code = sspr_core::Password::new(code);
            Ok(self.sspr.redeem_recovery_code(&login, code.expose_secret(), &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Enable or disable SSPR for a user (admins only).
    pub async fn set_enabled(
        &self,
        actor: Actor,
        login: String,
        enabled: bool,
        ctx: RequestContext,
    ) -> Result<(), SsprError> {
        run(async move { Ok(self.sspr.set_enabled(&actor.try_into()?, &login, enabled, &ctx.to_core()?).await?) }).await
    }

    /// Everything about one user's SSPR state.
    pub async fn status(&self, login: String) -> Result<UserStatus, SsprError> {
        run(async move { Ok(self.sspr.status(&login).await?.into()) }).await
    }

    /// Admin search: users whose login or display name contains `query`, at most `limit`.
    pub async fn search_users(&self, query: String, limit: u32) -> Result<Vec<UserStatus>, SsprError> {
        run(async move {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            Ok(self.sspr.search_users(&query, limit).await?.into_iter().map(Into::into).collect())
        })
        .await
    }

    /// Who has registered for self-service reset among the users `filter` covers: counts and
    /// one entry per user, contacts masked (admins only).
    pub async fn enrollment_report(
        &self,
        actor: Actor,
        filter: EnrollmentFilter,
        ctx: RequestContext,
    ) -> Result<EnrollmentReport, SsprError> {
        run(async move {
            let (actor, filter) = (actor.try_into()?, filter.into());
            Ok(self.sspr.enrollment_report(&actor, &filter, &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Mail a reminder (the policy's `registration_url`) to the directory mailbox of each
    /// enabled user `filter` covers without contacts or with stale ones, at most once per
    /// `reminder_interval_days`; never to privileged users (admins only).
    pub async fn send_registration_reminders(
        &self,
        actor: Actor,
        filter: EnrollmentFilter,
        ctx: RequestContext,
    ) -> Result<ReminderRun, SsprError> {
        run(async move {
            let (actor, filter) = (actor.try_into()?, filter.into());
            Ok(self.sspr.send_registration_reminders(&actor, &filter, &ctx.to_core()?).await?.into())
        })
        .await
    }

    /// Confirm that the user's contacts are still right (asked once `confirm_due`).
    pub async fn confirm_contacts(
        &self,
        actor: Actor,
        login: String,
        ctx: RequestContext,
    ) -> Result<Contacts, SsprError> {
        run(async move { Ok(self.sspr.confirm_contacts(&actor.try_into()?, &login, &ctx.to_core()?).await?.into()) })
            .await
    }

    /// Lift a block and forget the user's failed verifications (admins only).
    pub async fn unblock(&self, actor: Actor, login: String, ctx: RequestContext) -> Result<(), SsprError> {
        run(async move { Ok(self.sspr.unblock(&actor.try_into()?, &login, &ctx.to_core()?).await?) }).await
    }

    /// Wait until every PIN and notice handed to the notifier so far has been delivered (or
    /// its failure audited). `send_pin` answers before the notifier runs; call this before
    /// reading a test outbox and at shutdown, so that no PIN already promised is lost.
    pub async fn flush_deliveries(&self) -> Result<(), SsprError> {
        run(async move {
            self.sspr.flush_deliveries().await;
            Ok(())
        })
        .await
    }

    /// Wait until every audit event recorded so far has reached the sinks and they have
    /// flushed what they buffer: at shutdown, after `flush_deliveries` (whose failures are
    /// audited too). A sink that cannot flush is `Backend`.
    pub async fn flush_audit(&self) -> Result<(), SsprError> {
        run(async move { Ok(self.sspr.flush_audit().await?) }).await
    }

    /// The metrics of every engine of this process built with `metrics` on, in the
    /// Prometheus text format (empty while none is), for the host's scrape endpoint.
    pub fn metrics_text(&self) -> String {
        sspr_bind::metrics::text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EngineConfig {
        EngineConfig {
            secret_key: vec![0xAB; 32],
            policy_json: None,
            rng_seed: Some(vec![0xCD; 32]),
            state_store: Some(StateStoreConfig::Redis { url: "redis://:hunter2@localhost".into() }),
            audit_file: None,
            policy_toml: None,
            secret_key_hex: None,
            rng_seed_hex: Some("ef".repeat(32)),
            password_checks_json: None,
            bot_challenge_json: Some(
                r#"{"provider": "turnstile", "site_key": "0x4AAA", "secret": "0xS3CR3T-captcha"}"#.into(),
            ),
            metrics: false,
            previous_keys_hex: vec!["12".repeat(32)],
            backend_timeout_ms: None,
        }
    }

    #[test]
    fn the_configuration_debug_shows_no_key_seed_url_or_captcha_secret() {
        // `Display` is the foreign `toString` / `str` (uniffi `export(Display)`).
        for shown in [format!("{:?}", config()), format!("{}", config())] {
            assert!(!shown.contains("171") && !shown.contains("205") && !shown.contains("secret_key"), "{shown}");
            assert!(!shown.contains("hunter2") && !shown.contains("efef"), "{shown}");
            assert!(!shown.contains("S3CR3T") && !shown.contains("1212"), "{shown}");
        }
    }

    #[test]
    fn the_policy_comes_from_json_or_toml_not_both() {
        let json = EngineConfig { policy_json: Some("{\"pin_length\": 6}".into()), ..config() };
        assert_eq!(policy(&json).ok().flatten().map(|p| p.pin_length), Some(6));
        let toml = EngineConfig { policy_toml: Some("pin_length = 7".into()), ..config() };
        assert_eq!(policy(&toml).ok().flatten().map(|p| p.pin_length), Some(7));
        let both = EngineConfig { policy_toml: Some("pin_length = 7".into()), ..json };
        assert_eq!(policy(&both).err().map(|e| e.code()), Some("config"));
        assert!(matches!(policy(&config()), Ok(None)));
    }
}
