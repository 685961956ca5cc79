//! The engine as a JavaScript class (`index.js` wraps it as `Sspr`), the policy, and the
//! temporary password that does not print.

use napi::bindgen_prelude::{Buffer, ClassInstance, Either, JsObjectValue, JsValue, Object, Unknown};
use napi::{Env, Result, ValueType};
use napi_derive::napi;
use sspr_bind::{EngineOptions, Material, PolicyFormat};
use sspr_core::{CompletionMode, Password};

use crate::builtin::Slots;
use crate::errors::to_js_error;
use crate::runtime::{Answer, run};
use crate::values::{
    ActorInput, ContactProofJs, ContactsJs, EnrollmentFilterInput, EnrollmentReportJs, NewPasswordInput,
    PasswordRulesJs, PinSentJs, RecoveredJs, RecoverySentJs, ReminderRunJs, RequestContextInput, ResetChallengeJs,
    SignedInJs, UserStatusJs, VerifiedJs, actor, contact_update, context, enrollment_filter, invalid, new_password,
};

/// A text argument, or `INVALID_INPUT` naming `field` when it is not a string.
fn text(env: &Env, value: Unknown<'_>, field: &'static str) -> Result<String> {
    match value.get_type()? {
        ValueType::String => value.coerce_to_string()?.into_utf8()?.into_owned(),
        _ => Err(to_js_error(env, &invalid(field, "expected a string"))),
    }
}

/// An optional text argument (`undefined` or `null`: none).
fn optional_text(env: &Env, value: Option<Unknown<'_>>, field: &'static str) -> Result<Option<String>> {
    match value {
        Some(v) if !matches!(v.get_type()?, ValueType::Undefined | ValueType::Null) => Ok(Some(text(env, v, field)?)),
        _ => Ok(None),
    }
}

/// Convert, or throw the conversion's `SsprError`.
fn check<T>(env: &Env, converted: sspr_core::Result<T>) -> Result<T> {
    converted.map_err(|e| to_js_error(env, &e))
}

/// The reset policy (see the `PolicyOptions` type for every field). Immutable.
#[napi]
pub struct Policy {
    pub(crate) inner: sspr_core::Policy,
}

#[napi]
impl Policy {
    /// The secure default policy.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self { inner: sspr_core::Policy::default() }
    }

    /// Parse and validate a policy from JSON text (snake_case fields as in sspr's policy
    /// files; missing fields take their defaults). A value out of range, an unknown or a
    /// repeated field: `CONFIG`, its message naming the field.
    #[napi(factory)]
    pub fn from_json(env: &Env, text: String) -> Result<Self> {
        Ok(Self { inner: check(env, sspr_bind::policy(&text, PolicyFormat::Json))? })
    }

    /// Parse and validate a policy from TOML text.
    #[napi(factory)]
    pub fn from_toml(env: &Env, text: String) -> Result<Self> {
        Ok(Self { inner: check(env, sspr_bind::policy(&text, PolicyFormat::Toml))? })
    }

    /// Every field as JSON text (snake_case).
    #[napi]
    pub fn to_json_text(&self, env: &Env) -> Result<String> {
        serde_json::to_string(&self.inner).map_err(|e| to_js_error(env, &sspr_core::Error::Config(e.to_string())))
    }

    /// Every field as TOML text, for a config file to start from.
    #[napi]
    pub fn to_toml(&self, env: &Env) -> Result<String> {
        check(env, self.inner.to_toml())
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

/// The temporary password of a completed reset. `toString()`, `JSON.stringify` and
/// `util.inspect` show `[REDACTED]`; `reveal()` gives the password, to show once.
#[napi]
pub struct TemporaryPassword {
    inner: Password,
}

#[napi]
impl TemporaryPassword {
    /// The password itself.
    #[napi]
    pub fn reveal(&self) -> String {
        self.inner.expose_secret().to_owned()
    }

    /// `[REDACTED]`.
    #[napi(js_name = "toString")]
    pub fn to_redacted_string(&self) -> &'static str {
        "[REDACTED]"
    }

    /// `[REDACTED]` (what `JSON.stringify` writes).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> &'static str {
        "[REDACTED]"
    }
}

/// A helpdesk recovery code (`adminRecovery`). `toString()`, `JSON.stringify` and
/// `util.inspect` show `[REDACTED]`; `reveal()` gives the code, to show the administrator once.
#[napi]
pub struct HelpdeskCode {
    inner: Password,
}

#[napi]
impl HelpdeskCode {
    /// The code itself.
    #[napi]
    pub fn reveal(&self) -> String {
        self.inner.expose_secret().to_owned()
    }

    /// `[REDACTED]`.
    #[napi(js_name = "toString")]
    pub fn to_redacted_string(&self) -> &'static str {
        "[REDACTED]"
    }

    /// `[REDACTED]` (what `JSON.stringify` writes).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> &'static str {
        "[REDACTED]"
    }
}

/// The answer to `adminRecovery`: the code to read out to the user once.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "RecoveryCode")]
pub struct RecoveryCodeJs {
    /// The code (redacted everywhere but `reveal()`).
    pub code: HelpdeskCode,
    /// When it stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The answer to `completeReset`.
#[napi(object, object_from_js = false, use_nullable = true, js_name = "ResetOutcome")]
pub struct ResetOutcomeJs {
    /// The temporary password, to be shown once (mode `temporary` only).
    pub temporary_password: Option<TemporaryPassword>,
    /// Whether the directory will make the user change the password at next sign-in.
    pub must_change: bool,
    /// Whether a lockout was cleared.
    pub unlocked: bool,
}

/// The engine (wrapped by `Sspr` in `index.js`).
#[napi]
pub struct NativeSspr {
    inner: sspr_core::Sspr,
}

/// Key or seed material under `options[name]`: hex text or bytes (a `Buffer`), converted
/// only; sspr-bind decides what is valid (the same rule in every binding).
fn material(env: &Env, options: &Object<'_>, name: &'static str) -> Result<Option<Either<String, Buffer>>> {
    options.get(name).map_err(|_| to_js_error(env, &invalid(name, "expected hex text or bytes")))
}

fn as_material(value: &Either<String, Buffer>) -> Material<'_> {
    match value {
        Either::A(hex) => Material::Hex(hex),
        Either::B(bytes) => Material::Bytes(bytes),
    }
}

/// The engine options of `new Sspr(options)` besides the backends: the key (`secretKey`), a
/// test seed (`rngSeed`), the policy, a manual clock and `metrics`, by sspr-bind's rules.
fn engine_options(env: &Env, options: &Object<'_>, clock: Option<sspr_core::ManualClock>) -> Result<EngineOptions> {
    let key = match material(env, options, "secretKey")? {
        Some(key) => sspr_bind::secret_key(as_material(&key)),
        None => Err(sspr_core::Error::Config(
            "no secretKey was given: 32+ random bytes (hex or a Buffer), the same on every instance".into(),
        )),
    };
    let mut engine = EngineOptions::new(check(env, key)?);
    if let Some(seed) = material(env, options, "rngSeed")? {
        engine = engine.with_rng_seed(check(env, sspr_bind::rng_seed(as_material(&seed)))?);
    }
    if let Ok(policy) = options.get_named_property::<ClassInstance<'_, Policy>>("policy") {
        engine = engine.with_policy(policy.inner.clone());
    }
    if let Some(clock) = clock {
        engine = engine.with_manual_clock(clock);
    }
    let metrics = options.get_named_property::<Option<bool>>("metrics")?.unwrap_or(false);
    check(env, engine.with_metrics(metrics))
}

#[napi]
impl NativeSspr {
    /// Build the engine from `{ directory, contacts, notifier, store, audit, clock, policy,
    /// secretKey, rngSeed }` (`index.js` has bound the methods of JavaScript backends).
    #[napi(constructor)]
    pub fn new(env: &Env, options: Object<'_>) -> Result<Self> {
        crate::runtime::stay_in_runtime_context();
        let slots = Slots::from_options(env, &options)?;
        let engine = engine_options(env, &options, slots.clock)?;
        // The napi tokio runtime (this thread is in its context) pads the answers when no
        // manual clock does, and runs deliveries off the request path: a slow or failing
        // notifier shows neither in the answer nor in its timing.
        let runtime = sspr_core::TokioRuntime::current()
            .ok_or_else(|| to_js_error(env, &sspr_core::Error::Config("no tokio runtime to pad answers on".into())))?;
        let mut builder = engine
            .apply(sspr_core::Sspr::builder(), runtime.clone(), runtime)
            .directory_arc(slots.directory)
            .notifier_arc(slots.notifier);
        if let Some(contacts) = slots.contacts {
            builder = builder.contacts_arc(contacts);
        }
        if let Some(store) = slots.store {
            builder = builder.store_arc(store);
        }
        if let Some(audit) = slots.audit {
            builder = builder.audit_arc(audit);
        }
        for checker in slots.password_checkers {
            builder = builder.password_checker_arc(checker);
        }
        for (event, hook) in slots.hooks {
            builder = builder.hook_arc(&[event], hook);
        }
        Ok(Self { inner: check(env, builder.build())? })
    }

    /// The policy in force.
    #[napi(getter)]
    pub fn policy(&self) -> Policy {
        Policy { inner: self.inner.policy().clone() }
    }

    /// The engine's metrics in the Prometheus text format, for the host's scrape endpoint:
    /// every engine of this process built with `metrics: true` counts into one registry
    /// (empty text while none is).
    #[napi]
    pub fn metrics_text(&self) -> String {
        sspr_bind::metrics::text()
    }

    /// The completion modes the policy allows, the default first.
    #[napi(ts_return_type = "Array<'temporary' | 'chosen' | 'unlock_only'>")]
    pub fn completion_modes(&self) -> Vec<&'static str> {
        self.inner.completion_modes().into_iter().map(CompletionMode::as_str).collect()
    }

    /// Wait until every PIN handed to the notifier so far is delivered (or its failure is in
    /// the audit trail): `sendPin` does not wait for a slow notifier. For graceful shutdown,
    /// and tests reading such a notifier's messages.
    #[napi(ts_return_type = "void | Promise<void>")]
    pub fn flush_deliveries<'env>(&self, env: &'env Env) -> Result<Answer<'env, ()>> {
        let sspr = self.inner.clone();
        run(
            env,
            async move {
                sspr.flush_deliveries().await;
                Ok(())
            },
            Ok,
        )
    }

    /// Start a reset for `login`: the same answer shape for every login.
    #[napi(
        ts_args_type = "login: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "ResetChallenge | Promise<ResetChallenge>"
    )]
    pub fn begin_reset<'env>(
        &self,
        env: &'env Env,
        login: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ResetChallengeJs>> {
        let login = text(env, login, "login")?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.begin_reset(&login, &ctx).await }, |c| Ok(c.into()))
    }

    /// Send a PIN by the method `methodId`; `confirm` is the full address when the policy asks for it.
    #[napi(
        ts_args_type = "flowId: string, methodId: string, confirm?: string | undefined | null, ctx?: RequestContext | undefined | null",
        ts_return_type = "PinSent | Promise<PinSent>"
    )]
    pub fn send_pin<'env>(
        &self,
        env: &'env Env,
        flow_id: Unknown<'_>,
        method_id: Unknown<'_>,
        confirm: Option<Unknown<'_>>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, PinSentJs>> {
        let flow_id = text(env, flow_id, "flow_id")?;
        let method_id = text(env, method_id, "method_id")?;
        let confirm = optional_text(env, confirm, "confirm")?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx).await }, |p| Ok(p.into()))
    }

    /// Check the PIN the user typed.
    #[napi(
        ts_args_type = "flowId: string, pin: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "Verified | Promise<Verified>"
    )]
    pub fn verify_pin<'env>(
        &self,
        env: &'env Env,
        flow_id: Unknown<'_>,
        pin: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, VerifiedJs>> {
        let flow_id = text(env, flow_id, "flow_id")?;
        let pin = zeroize_on_drop(text(env, pin, "pin")?);
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.verify_pin(&flow_id, sspr_core::Pin::new(pin.expose_secret()), &ctx).await }, |v| {
            Ok(v.into())
        })
    }

    /// Complete a verified reset: a temporary password (the default), the user's chosen one,
    /// or an unlock only.
    #[napi(
        ts_args_type = "flowId: string, newPassword?: NewPassword | undefined | null, ctx?: RequestContext | undefined | null",
        ts_return_type = "ResetOutcome | Promise<ResetOutcome>"
    )]
    pub fn complete_reset<'env>(
        &self,
        env: &'env Env,
        flow_id: Unknown<'_>,
        new_password_input: Option<NewPasswordInput>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ResetOutcomeJs>> {
        let flow_id = text(env, flow_id, "flow_id")?;
        let choice = check(env, new_password(new_password_input))?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.complete_reset(&flow_id, choice, &ctx).await }, |o| {
            Ok(ResetOutcomeJs {
                temporary_password: o.temporary_password.map(|inner| TemporaryPassword { inner }),
                must_change: o.must_change,
                unlocked: o.unlocked,
            })
        })
    }

    /// The user's registered contact details, in full.
    #[napi(ts_args_type = "login: string", ts_return_type = "Contacts | Promise<Contacts>")]
    pub fn contacts<'env>(&self, env: &'env Env, login: Unknown<'_>) -> Result<Answer<'env, ContactsJs>> {
        let login = text(env, login, "login")?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.contacts(&login).await }, |c| Ok(c.into()))
    }

    /// Change the user's contact details: `{ email?, phone? }`, a string sets, `null` clears,
    /// `undefined` keeps.
    #[napi(
        ts_args_type = "actor: Actor, login: string, update: { email?: string | null, phone?: string | null }, ctx?: RequestContext | undefined | null",
        ts_return_type = "Contacts | Promise<Contacts>"
    )]
    pub fn update_contacts<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        login: Unknown<'_>,
        update: Object<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ContactsJs>> {
        let who = check(env, actor(actor_input))?;
        let login = text(env, login, "login")?;
        let update = check(env, contact_update(&update))?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.update_contacts(&who, &login, update, &ctx).await }, |c| Ok(c.into()))
    }

    /// Send a one-time code to a contact the user wants to add (`channel`: `'email'` or
    /// `'sms'`); `confirmContactProof` with that code saves it. A user's new contact set
    /// through `updateContacts` fails with `NOT_ALLOWED`, reason `'contact_unproven'`.
    #[napi(
        ts_args_type = "actor: Actor, login: string, channel: 'email' | 'sms', value: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "ContactProof | Promise<ContactProof>"
    )]
    pub fn request_contact_proof<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        login: Unknown<'_>,
        channel: Unknown<'_>,
        value: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ContactProofJs>> {
        let who = check(env, actor(actor_input))?;
        let login = text(env, login, "login")?;
        let channel = check(env, text(env, channel, "channel")?.parse::<sspr_core::Channel>())?;
        let value = text(env, value, "value")?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.request_contact_proof(&who, &login, channel, &value, &ctx).await }, |p| Ok(p.into()))
    }

    /// Save the contact of the pending proof `proofId` if `code` is the code sent to it (the
    /// change then cools off and the old contacts are told, as any change by the user).
    #[napi(
        ts_args_type = "actor: Actor, login: string, proofId: string, code: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "Contacts | Promise<Contacts>"
    )]
    pub fn confirm_contact_proof<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        login: Unknown<'_>,
        proof_id: Unknown<'_>,
        code: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ContactsJs>> {
        let who = check(env, actor(actor_input))?;
        let login = text(env, login, "login")?;
        let proof_id = text(env, proof_id, "proofId")?;
        // Held as a secret from here on: never in an error or a Debug string.
        let code = Password::new(text(env, code, "code")?);
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(
            env,
            async move { sspr.confirm_contact_proof(&who, &login, &proof_id, code.expose_secret(), &ctx).await },
            |c| Ok(c.into()),
        )
    }

    /// Issue a one-time helpdesk recovery code for `login` (admins only), to read out to the
    /// user once; the user redeems it with `redeemRecoveryCode`. It works once, for 15 minutes.
    #[napi(
        ts_args_type = "actor: Actor, login: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "RecoveryCode | Promise<RecoveryCode>"
    )]
    pub fn admin_recovery<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        login: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, RecoveryCodeJs>> {
        let who = check(env, actor(actor_input))?;
        let login = text(env, login, "login")?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.admin_recovery(&who, &login, &ctx).await }, |r| {
            Ok(RecoveryCodeJs {
                code: HelpdeskCode { inner: Password::new(r.code.expose_secret()) },
                expires_at: crate::values::to_chrono(r.expires_at),
            })
        })
    }

    /// Issue a helpdesk recovery code as `adminRecovery` does, but send it to the user's
    /// registered contact by `channel` (`'email'` or `'sms'`): only the masked destination
    /// comes back.
    #[napi(
        ts_args_type = "actor: Actor, login: string, channel: 'email' | 'sms', ctx?: RequestContext | undefined | null",
        ts_return_type = "RecoverySent | Promise<RecoverySent>"
    )]
    pub fn admin_send_recovery_code<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        login: Unknown<'_>,
        channel: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, RecoverySentJs>> {
        let who = check(env, actor(actor_input))?;
        let login = text(env, login, "login")?;
        let channel = check(env, text(env, channel, "channel")?.parse::<sspr_core::Channel>())?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.admin_send_recovery_code(&who, &login, channel, &ctx).await }, |s| Ok(s.into()))
    }

    /// Redeem a helpdesk recovery code: the right one starts a reset already verified (give
    /// its `flowId` to `completeReset`). Every refusal is `WRONG_PIN` with no attempts left,
    /// padded like the PIN step.
    #[napi(
        ts_args_type = "login: string, code: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "Recovered | Promise<Recovered>"
    )]
    pub fn redeem_recovery_code<'env>(
        &self,
        env: &'env Env,
        login: Unknown<'_>,
        code: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, RecoveredJs>> {
        let login = text(env, login, "login")?;
        // Held as a secret from here on: never in an error or a Debug string.
        let code = Password::new(text(env, code, "code")?);
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.redeem_recovery_code(&login, code.expose_secret(), &ctx).await }, |r| Ok(r.into()))
    }

    /// Enable or disable SSPR for a user (admins only).
    #[napi(
        ts_args_type = "actor: Actor, login: string, enabled: boolean, ctx?: RequestContext | undefined | null",
        ts_return_type = "void | Promise<void>"
    )]
    pub fn set_enabled<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        login: Unknown<'_>,
        enabled: bool,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ()>> {
        let who = check(env, actor(actor_input))?;
        let login = text(env, login, "login")?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.set_enabled(&who, &login, enabled, &ctx).await }, Ok)
    }

    /// Everything about one user's SSPR state.
    #[napi(ts_args_type = "login: string", ts_return_type = "UserStatus | Promise<UserStatus>")]
    pub fn status<'env>(&self, env: &'env Env, login: Unknown<'_>) -> Result<Answer<'env, UserStatusJs>> {
        let login = text(env, login, "login")?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.status(&login).await }, |s| Ok(s.into()))
    }

    /// Who has registered for self-service reset among the users the filter covers (inside
    /// one of `ous`, if any, and in one of `groups`, if any): counts and one entry per user,
    /// contacts masked (admins only).
    #[napi(
        ts_args_type = "actor: Actor, filter?: EnrollmentFilter | undefined | null, ctx?: RequestContext | undefined | null",
        ts_return_type = "EnrollmentReport | Promise<EnrollmentReport>"
    )]
    pub fn enrollment_report<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        filter: Option<EnrollmentFilterInput>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, EnrollmentReportJs>> {
        let who = check(env, actor(actor_input))?;
        let filter = enrollment_filter(filter);
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.enrollment_report(&who, &filter, &ctx).await }, |r| Ok(r.into()))
    }

    /// Mail a reminder (the policy's `registration_url`) to the directory mailbox of each
    /// enabled user of the filter without contacts or with stale ones, at most once per
    /// `reminder_interval_days`, never to privileged users (admins only).
    #[napi(
        ts_args_type = "actor: Actor, filter?: EnrollmentFilter | undefined | null, ctx?: RequestContext | undefined | null",
        ts_return_type = "ReminderRun | Promise<ReminderRun>"
    )]
    pub fn send_registration_reminders<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        filter: Option<EnrollmentFilterInput>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ReminderRunJs>> {
        let who = check(env, actor(actor_input))?;
        let filter = enrollment_filter(filter);
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.send_registration_reminders(&who, &filter, &ctx).await }, |r| Ok(r.into()))
    }

    /// Confirm that the user's contacts are still right (asked once `confirmDue`).
    #[napi(
        ts_args_type = "actor: Actor, login: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "Contacts | Promise<Contacts>"
    )]
    pub fn confirm_contacts<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        login: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ContactsJs>> {
        let who = check(env, actor(actor_input))?;
        let login = text(env, login, "login")?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.confirm_contacts(&who, &login, &ctx).await }, |c| Ok(c.into()))
    }

    /// Lift a block and forget the user's failed verifications (admins only).
    #[napi(
        ts_args_type = "actor: Actor, login: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "void | Promise<void>"
    )]
    pub fn unblock<'env>(
        &self,
        env: &'env Env,
        actor_input: ActorInput,
        login: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ()>> {
        let who = check(env, actor(actor_input))?;
        let login = text(env, login, "login")?;
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.unblock(&who, &login, &ctx).await }, Ok)
    }
}

#[napi]
impl NativeSspr {
    /// Check a user's directory password, for the pages where users manage their contacts.
    /// An unknown login and a wrong password give the same `SIGN_IN_FAILED`.
    #[napi(
        ts_args_type = "login: string, password: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "SignedIn | Promise<SignedIn>"
    )]
    pub fn sign_in<'env>(
        &self,
        env: &'env Env,
        login: Unknown<'_>,
        password: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, SignedInJs>> {
        let login = text(env, login, "login")?;
        let password = Password::new(text(env, password, "password")?);
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.sign_in(&login, &password, &ctx).await }, |s| Ok(s.into()))
    }

    /// Change a user's password with the current one (the user's own change: the directory's
    /// history and minimum age apply). An unknown login, a wrong current password and an
    /// account the change does not serve all give `SIGN_IN_FAILED`, counted with `signIn`'s
    /// failures; a refused new password gives `PASSWORD_REJECTED` with its `refusal`.
    #[napi(
        ts_args_type = "login: string, current: string, newPassword: string, ctx?: RequestContext | undefined | null",
        ts_return_type = "void | Promise<void>"
    )]
    pub fn change_password<'env>(
        &self,
        env: &'env Env,
        login: Unknown<'_>,
        current: Unknown<'_>,
        new_password: Unknown<'_>,
        ctx: Option<RequestContextInput>,
    ) -> Result<Answer<'env, ()>> {
        let login = text(env, login, "login")?;
        let current = Password::new(text(env, current, "current")?);
        let new_password = Password::new(text(env, new_password, "newPassword")?);
        let ctx = check(env, context(ctx))?;
        let sspr = self.inner.clone();
        run(env, async move { sspr.change_password(&login, &current, &new_password, &ctx).await }, Ok)
    }

    /// The rules a new password must meet, to show before the user types.
    #[napi(ts_return_type = "PasswordRules | Promise<PasswordRules>")]
    pub fn password_rules<'env>(&self, env: &'env Env) -> Result<Answer<'env, PasswordRulesJs>> {
        let sspr = self.inner.clone();
        run(env, async move { sspr.password_rules().await }, |r| Ok(r.into()))
    }

    /// Users whose login or display name contains `query` (admin search), at most `limit`
    /// (and at most 200).
    #[napi(
        ts_args_type = "query: string, limit: number",
        ts_return_type = "Array<UserStatus> | Promise<Array<UserStatus>>"
    )]
    pub fn search_users<'env>(
        &self,
        env: &'env Env,
        query: Unknown<'_>,
        limit: u32,
    ) -> Result<Answer<'env, Vec<UserStatusJs>>> {
        let query = text(env, query, "query")?;
        let sspr = self.inner.clone();
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        run(env, async move { sspr.search_users(&query, limit).await }, |users| {
            Ok(users.into_iter().map(Into::into).collect())
        })
    }
}

/// A PIN as typed, wiped from memory when dropped.
fn zeroize_on_drop(pin: String) -> Password {
    Password::new(pin)
}
