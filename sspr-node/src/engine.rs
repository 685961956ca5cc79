//! The engine as a JavaScript class (`index.js` wraps it as `Sspr`), the policy, and the
//! temporary password that does not print.

use napi::bindgen_prelude::{Buffer, ClassInstance, Either, JsObjectValue, Object, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use sspr_bind::{EngineOptions, Material, PolicyFormat};
use sspr_core::{CompletionMode, Password};

use crate::builtin::Slots;
use crate::errors::to_js_error;
use crate::runtime::{Answer, run};
use crate::values::{
    ActorInput, ContactProofJs, ContactsJs, EnrollmentReportJs, PasswordRulesJs, PinSentJs, RecoveredJs,
    RecoverySentJs, ReminderRunJs, ResetChallengeJs, SignedInJs, UserStatusJs, VerifiedJs, invalid,
};

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

/// A secret as a JavaScript class that shows `[REDACTED]` to `toString()` and
/// `JSON.stringify` (`index.js` adds `util.inspect`, `valueOf` and `Symbol.toPrimitive`);
/// only `reveal()` gives it. Docs as string lines: see [`operations!`].
macro_rules! redacted_secret {
    ($($doc:literal)* pub struct $name:ident; $($reveal:literal)* fn reveal;) => {
        $(#[doc = $doc])*
        #[napi]
        pub struct $name {
            inner: Password,
        }

        #[napi]
        impl $name {
            $(#[doc = $reveal])*
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
    };
}

redacted_secret! {
    " The temporary password of a completed reset. `toString()`, `JSON.stringify` and"
    " `util.inspect` show `[REDACTED]`; `reveal()` gives the password, to show once."
    pub struct TemporaryPassword;
    " The password itself."
    fn reveal;
}

redacted_secret! {
    " A helpdesk recovery code (`adminRecovery`). `toString()`, `JSON.stringify` and"
    " `util.inspect` show `[REDACTED]`; `reveal()` gives the code, to show the administrator once."
    pub struct HelpdeskCode;
    " The code itself."
    fn reveal;
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

/// The engine options of `new Sspr(options)` besides the backends: the key (`secretKey`), the
/// keys retired by a rotation (`previousKeys`), a test seed (`rngSeed`), the policy, a manual clock, `backendTimeoutMs` and `metrics`, by
/// sspr-bind's rules.
fn engine_options(env: &Env, options: &Object<'_>, clock: Option<sspr_core::ManualClock>) -> Result<EngineOptions> {
    let key = match material(env, options, "secretKey")? {
        Some(key) => sspr_bind::secret_key(as_material(&key)),
        None => Err(sspr_core::Error::Config(
            "no secretKey was given: 32+ random bytes (hex or a Buffer), the same on every instance".into(),
        )),
    };
    let mut engine = EngineOptions::new(check(env, key)?);
    // Keys retired by a rotation, newest first: read, never written.
    let previous: Option<Vec<Either<String, Buffer>>> = options
        .get("previousKeys")
        .map_err(|_| to_js_error(env, &invalid("previousKeys", "expected an array of hex text or bytes")))?;
    let previous = previous
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, key)| check(env, sspr_bind::previous_key(as_material(key), i + 1)))
        .collect::<Result<Vec<_>>>()?;
    engine = engine.with_previous_keys(previous);
    if let Some(seed) = material(env, options, "rngSeed")? {
        engine = engine.with_rng_seed(check(env, sspr_bind::rng_seed(as_material(&seed)))?);
    }
    if let Ok(policy) = options.get_named_property::<ClassInstance<'_, Policy>>("policy") {
        engine = engine.with_policy(policy.inner.clone());
    }
    if let Some(clock) = clock {
        engine = engine.with_manual_clock(clock);
    }
    if let Some(millis) = options.get_named_property::<Option<f64>>("backendTimeoutMs")? {
        engine = check(env, engine.with_backend_timeout_ms(millis))?;
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
        // Deliveries that wait for a JavaScript notifier stay on this thread (`local`).
        let spawner = crate::local::NodeSpawner::new(runtime.handle().clone());
        let mut builder = engine
            .apply(sspr_core::Sspr::builder(), runtime, spawner)
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
        if let Some((verifier, policy)) = slots.bot_challenge {
            builder = builder.bot_challenge_arc(verifier, policy);
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

    /// What a page needs to show the bot challenge's widget, its `csp` being `cspBase` with
    /// the provider's sources added; `null` when the engine has no bot challenge (pages then
    /// stay script-free).
    #[napi(ts_return_type = "ChallengeWidget | null")]
    pub fn challenge_widget(&self, csp_base: Option<String>) -> Option<crate::values::ChallengeWidgetJs> {
        let base = csp_base.unwrap_or_default();
        self.inner.challenge_widget().map(|w| crate::values::ChallengeWidgetJs::new(w, &base))
    }

    /// The completion modes the policy allows, the default first.
    #[napi(ts_return_type = "Array<'temporary' | 'chosen' | 'unlock_only'>")]
    pub fn completion_modes(&self) -> Vec<&'static str> {
        self.inner.completion_modes().into_iter().map(CompletionMode::as_str).collect()
    }
}

/// How an operation's JavaScript arguments become the core's: `arg::kind(env, value, field)`,
/// a thrown `SsprError` (`INVALID_INPUT` naming `field`, or the core's own error) when one
/// does not fit, before the engine runs.
mod arg {
    use napi::bindgen_prelude::{JsValue, Unknown};
    use napi::{Env, Result, ValueType};
    use sspr_core::{Actor, ContactUpdate, EnrollmentFilter, NewPassword, Password, RequestContext};

    use super::check;
    use crate::errors::to_js_error;
    use crate::values::{self, ActorInput, invalid};

    /// A string, or `INVALID_INPUT` naming `field`.
    pub(super) fn text(env: &Env, value: Unknown<'_>, field: &'static str) -> Result<String> {
        match value.get_type()? {
            ValueType::String => value.coerce_to_string()?.into_utf8()?.into_owned(),
            _ => Err(to_js_error(env, &invalid(field, "expected a string"))),
        }
    }

    /// An optional string (`undefined` or `null`: none).
    pub(super) fn optional_text(env: &Env, value: Option<Unknown<'_>>, field: &'static str) -> Result<Option<String>> {
        match value {
            Some(v) if !matches!(v.get_type()?, ValueType::Undefined | ValueType::Null) => {
                Ok(Some(text(env, v, field)?))
            }
            _ => Ok(None),
        }
    }

    /// A string held as a secret from here on: never in an error or a `Debug` string, wiped
    /// from memory when dropped.
    pub(super) fn secret(env: &Env, value: Unknown<'_>, field: &'static str) -> Result<Password> {
        Ok(Password::new(text(env, value, field)?))
    }

    /// A channel by its core name (`'email'`, `'sms'`).
    pub(super) fn channel(env: &Env, value: Unknown<'_>, field: &'static str) -> Result<sspr_core::Channel> {
        check(env, text(env, value, field)?.parse())
    }

    /// A request context converted, with the host's span it names (its `traceparent`).
    pub(super) struct Context {
        ctx: RequestContext,
        pub(super) parent: Option<sspr_bind::traces::TraceParent>,
    }

    impl std::ops::Deref for Context {
        type Target = RequestContext;

        fn deref(&self) -> &RequestContext {
            &self.ctx
        }
    }

    /// The request's context (none: the default); not an object of its fields: `INVALID_INPUT`.
    pub(super) fn context(env: &Env, value: Option<Unknown<'_>>) -> Result<Context> {
        let input = check(env, values::context_input(value))?;
        let parent = values::trace_parent(&input);
        Ok(Context { ctx: check(env, values::context(input))?, parent })
    }

    /// Who acts.
    pub(super) fn actor(env: &Env, value: ActorInput) -> Result<Actor> {
        check(env, values::actor(value))
    }

    /// `{ mode, password }` (none: a temporary password).
    pub(super) fn new_password(env: &Env, value: Option<Unknown<'_>>) -> Result<NewPassword> {
        check(env, values::new_password_input(value).and_then(values::new_password))
    }

    /// `{ email?, phone? }`: a string sets, `null` clears, `undefined` keeps.
    pub(super) fn contact_update(env: &Env, value: Option<Unknown<'_>>) -> Result<ContactUpdate> {
        check(env, values::contact_update(value))
    }

    /// The users an administrative report covers (none: all).
    pub(super) fn filter(env: &Env, value: Option<Unknown<'_>>) -> Result<EnrollmentFilter> {
        check(env, values::enrollment_filter(value))
    }

    /// A count: a whole number from 0 to 2^32 - 1, or `INVALID_INPUT` naming `field` (napi's own
    /// `u32` reads by ToUint32: -1 was the largest count, 1.5 one, NaN nought; R.21).
    pub(super) fn count(env: &Env, value: Unknown<'_>, field: &'static str) -> Result<usize> {
        let number = match value.get_type()? {
            ValueType::Number => value.coerce_to_number()?.get_double()?,
            _ => return Err(to_js_error(env, &invalid(field, "expected a whole number"))),
        };
        let count = check(env, values::whole_number(number, field))?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// A boolean napi has checked.
    pub(super) fn flag(_env: &Env, value: bool) -> Result<bool> {
        Ok(value)
    }
}

/// The JavaScript type each [`arg`] conversion reads (what napi hands the method).
macro_rules! js_type {
    (text) => { Unknown<'_> };
    (secret) => { Unknown<'_> };
    (channel) => { Unknown<'_> };
    (optional_text) => { Option<Unknown<'_>> };
    (context) => { Option<Unknown<'_>> };
    (actor) => { ActorInput };
    (new_password) => { Option<Unknown<'_>> };
    (contact_update) => { Option<Unknown<'_>> };
    (filter) => { Option<Unknown<'_>> };
    (count) => { Unknown<'_> };
    (flag) => { bool };
}

/// The host's span an operation's engine call is the child of: the `traceparent` of its
/// argument converted by `context` (`trace_parent!(conversion, argument)` for each argument),
/// none for an operation without one.
macro_rules! trace_parent {
    (context, $ctx:ident) => {
        $ctx.parent
    };
    ($other:ident, $arg:ident) => {
        None
    };
}

/// Writes the engine's operations, one `#[napi]` method each, from one declaration: its
/// TypeScript signature; its arguments, each as `name: conversion` (an [`arg`] function and
/// the field it names, applied in order, so the first bad argument is the one named); the
/// core's call (a future, from the engine `sspr` and the converted arguments); and, when
/// `Into` does not do, how its answer becomes JavaScript's. Every method then polls the call
/// (with its context's `traceparent` as its span's parent, `sspr_bind::traces::parented`)
/// once on this thread and hands it to the runtime only if it waits ([`run`]). Docs are
/// string lines, not `///`: a doc comment passed through `macro_rules!` becomes a raw string
/// (`r"…"`), which napi would copy into `native.d.ts` with its `r"`.
macro_rules! operations {
    ($(
        $($doc:literal)*
        #[napi($($napi:tt)*)]
        fn $name:ident($($arg:ident: $conv:ident $(($field:literal))?),*) -> $ret:ty {
            |$sspr:ident| $call:expr $(=> $answer:expr)?
        }
    )*) => {
        #[napi]
        impl NativeSspr {
            $(
                $(#[doc = $doc])*
                #[napi($($napi)*)]
                pub fn $name<'env>(&self, env: &'env Env $(, $arg: js_type!($conv))*) -> Result<Answer<'env, $ret>> {
                    $(let $arg = arg::$conv(env, $arg $(, $field)?)?;)*
                    let parent = None $(.or(trace_parent!($conv, $arg)))*;
                    let $sspr = self.inner.clone();
                    let call = sspr_bind::traces::parented(parent, async move { $call.await });
                    run(env, call, operations!(@answer $($answer)?))
                }
            )*
        }
    };
    (@answer $answer:expr) => { $answer };
    (@answer) => { |out| Ok(out.into()) };
}

operations! {
    " Wait until every PIN handed to the notifier so far is delivered (or its failure is in"
    " the audit trail): `sendPin` does not wait for a slow notifier. For graceful shutdown,"
    " and tests reading such a notifier's messages."
    #[napi(ts_return_type = "void | Promise<void>")]
    fn flush_deliveries() -> () {
        |sspr| async { sspr.flush_deliveries().await; Ok(()) }
    }

    " Wait until every audit event recorded so far is stored by the audit sink. The `audit`"
    " sink of `backends.fromConfig` sits behind a queue (a slow sink never slows a reset):"
    " events still queued when the process exits are lost. At shutdown await"
    " `flushDeliveries()`, then this. Rejects with `BACKEND` (kind `unavailable`) when the"
    " queue can no longer be drained."
    #[napi(ts_return_type = "void | Promise<void>")]
    fn flush_audit() -> () {
        |sspr| sspr.flush_audit()
    }

    " Start a reset for `login`: the same answer shape for every login."
    #[napi(ts_args_type = "login: string, ctx?: RequestContext | undefined | null", ts_return_type = "ResetChallenge | Promise<ResetChallenge>")]
    fn begin_reset(login: text("login"), ctx: context) -> ResetChallengeJs {
        |sspr| sspr.begin_reset(&login, &ctx)
    }

    " Send a PIN by the method `methodId`; `confirm` is the full address when the policy asks for it."
    #[napi(ts_args_type = "flowId: string, methodId: string, confirm?: string | undefined | null, ctx?: RequestContext | undefined | null", ts_return_type = "PinSent | Promise<PinSent>")]
    fn send_pin(flow_id: text("flow_id"), method_id: text("method_id"), confirm: optional_text("confirm"), ctx: context) -> PinSentJs {
        |sspr| sspr.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx)
    }

    " Check the PIN the user typed."
    #[napi(ts_args_type = "flowId: string, pin: string, ctx?: RequestContext | undefined | null", ts_return_type = "Verified | Promise<Verified>")]
    fn verify_pin(flow_id: text("flow_id"), pin: secret("pin"), ctx: context) -> VerifiedJs {
        |sspr| sspr.verify_pin(&flow_id, sspr_core::Pin::new(pin.expose_secret()), &ctx)
    }

    " Complete a verified reset: a temporary password (the default), the user's chosen one,"
    " or an unlock only."
    #[napi(ts_args_type = "flowId: string, newPassword?: NewPassword | undefined | null, ctx?: RequestContext | undefined | null", ts_return_type = "ResetOutcome | Promise<ResetOutcome>")]
    fn complete_reset(flow_id: text("flow_id"), choice: new_password, ctx: context) -> ResetOutcomeJs {
        |sspr| sspr.complete_reset(&flow_id, choice, &ctx) => |o| Ok(ResetOutcomeJs {
            temporary_password: o.temporary_password.map(|inner| TemporaryPassword { inner }),
            must_change: o.must_change,
            unlocked: o.unlocked,
        })
    }

    " The user's registered contact details, in full, for the user's own page (not audited;"
    " an admin's page uses `adminContacts`)."
    #[napi(ts_args_type = "login: string", ts_return_type = "Contacts | Promise<Contacts>")]
    fn contacts(login: text("login")) -> ContactsJs {
        |sspr| sspr.contacts(&login)
    }

    " A user's registered contact details, in full, read by an administrator (admins only):"
    " audited as `contacts_viewed` with the admin as actor. An admin's page uses this one; a"
    " user's own page uses `contacts`."
    #[napi(ts_args_type = "actor: Actor, login: string, ctx?: RequestContext | undefined | null", ts_return_type = "Contacts | Promise<Contacts>")]
    fn admin_contacts(who: actor, login: text("login"), ctx: context) -> ContactsJs {
        |sspr| sspr.admin_contacts(&who, &login, &ctx)
    }

    " Change the user's contact details: `{ email?, phone? }`, a string sets, `null` clears,"
    " `undefined` keeps."
    #[napi(ts_args_type = "actor: Actor, login: string, update: { email?: string | null, phone?: string | null }, ctx?: RequestContext | undefined | null", ts_return_type = "Contacts | Promise<Contacts>")]
    fn update_contacts(who: actor, login: text("login"), update: contact_update, ctx: context) -> ContactsJs {
        |sspr| sspr.update_contacts(&who, &login, update, &ctx)
    }

    " Send a one-time code to a contact the user wants to add (`channel`: `'email'` or"
    " `'sms'`); `confirmContactProof` with that code saves it. A user's new contact set"
    " through `updateContacts` fails with `NOT_ALLOWED`, reason `'contact_unproven'`."
    #[napi(ts_args_type = "actor: Actor, login: string, channel: 'email' | 'sms', value: string, ctx?: RequestContext | undefined | null", ts_return_type = "ContactProof | Promise<ContactProof>")]
    fn request_contact_proof(who: actor, login: text("login"), channel: channel("channel"), value: text("value"), ctx: context) -> ContactProofJs {
        |sspr| sspr.request_contact_proof(&who, &login, channel, &value, &ctx)
    }

    " Save the contact of the pending proof `proofId` if `code` is the code sent to it (the"
    " change then cools off and the old contacts are told, as any change by the user)."
    #[napi(ts_args_type = "actor: Actor, login: string, proofId: string, code: string, ctx?: RequestContext | undefined | null", ts_return_type = "Contacts | Promise<Contacts>")]
    fn confirm_contact_proof(who: actor, login: text("login"), proof_id: text("proofId"), code: secret("code"), ctx: context) -> ContactsJs {
        |sspr| sspr.confirm_contact_proof(&who, &login, &proof_id, code.expose_secret(), &ctx)
    }

    " Issue a one-time helpdesk recovery code for `login` (admins only), to read out to the"
    " user once; the user redeems it with `redeemRecoveryCode`. It works once, for 15 minutes."
    #[napi(ts_args_type = "actor: Actor, login: string, ctx?: RequestContext | undefined | null", ts_return_type = "RecoveryCode | Promise<RecoveryCode>")]
    fn admin_recovery(who: actor, login: text("login"), ctx: context) -> RecoveryCodeJs {
        |sspr| sspr.admin_recovery(&who, &login, &ctx) => |r| Ok(RecoveryCodeJs {
            code: HelpdeskCode { inner: Password::new(r.code.expose_secret()) },
            expires_at: crate::values::to_chrono(r.expires_at),
        })
    }

    " Issue a helpdesk recovery code as `adminRecovery` does, but send it to the user's"
    " registered contact by `channel` (`'email'` or `'sms'`): only the masked destination"
    " comes back."
    #[napi(ts_args_type = "actor: Actor, login: string, channel: 'email' | 'sms', ctx?: RequestContext | undefined | null", ts_return_type = "RecoverySent | Promise<RecoverySent>")]
    fn admin_send_recovery_code(who: actor, login: text("login"), channel: channel("channel"), ctx: context) -> RecoverySentJs {
        |sspr| sspr.admin_send_recovery_code(&who, &login, channel, &ctx)
    }

    " Redeem a helpdesk recovery code: the right one starts a reset already verified (give"
    " its `flowId` to `completeReset`). Every refusal is `WRONG_PIN` with no attempts left,"
    " padded like the PIN step."
    #[napi(ts_args_type = "login: string, code: string, ctx?: RequestContext | undefined | null", ts_return_type = "Recovered | Promise<Recovered>")]
    fn redeem_recovery_code(login: text("login"), code: secret("code"), ctx: context) -> RecoveredJs {
        |sspr| sspr.redeem_recovery_code(&login, code.expose_secret(), &ctx)
    }

    " Enable or disable SSPR for a user (admins only)."
    #[napi(ts_args_type = "actor: Actor, login: string, enabled: boolean, ctx?: RequestContext | undefined | null", ts_return_type = "void | Promise<void>")]
    fn set_enabled(who: actor, login: text("login"), enabled: flag, ctx: context) -> () {
        |sspr| sspr.set_enabled(&who, &login, enabled, &ctx)
    }

    " Everything about one user's SSPR state."
    #[napi(ts_args_type = "login: string", ts_return_type = "UserStatus | Promise<UserStatus>")]
    fn status(login: text("login")) -> UserStatusJs {
        |sspr| sspr.status(&login)
    }

    " Who has registered for self-service reset among the users the filter covers (inside"
    " one of `ous`, if any, and in one of `groups`, if any): counts and one entry per user,"
    " contacts masked (admins only)."
    #[napi(ts_args_type = "actor: Actor, filter?: EnrollmentFilter | undefined | null, ctx?: RequestContext | undefined | null", ts_return_type = "EnrollmentReport | Promise<EnrollmentReport>")]
    fn enrollment_report(who: actor, filter: filter, ctx: context) -> EnrollmentReportJs {
        |sspr| sspr.enrollment_report(&who, &filter, &ctx)
    }

    " Mail a reminder (the policy's `registration_url`) to the directory mailbox of each"
    " enabled user of the filter without contacts or with stale ones, at most once per"
    " `reminder_interval_days`, never to privileged users (admins only)."
    #[napi(ts_args_type = "actor: Actor, filter?: EnrollmentFilter | undefined | null, ctx?: RequestContext | undefined | null", ts_return_type = "ReminderRun | Promise<ReminderRun>")]
    fn send_registration_reminders(who: actor, filter: filter, ctx: context) -> ReminderRunJs {
        |sspr| sspr.send_registration_reminders(&who, &filter, &ctx)
    }

    " Confirm that the user's contacts are still right (asked once `confirmDue`)."
    #[napi(ts_args_type = "actor: Actor, login: string, ctx?: RequestContext | undefined | null", ts_return_type = "Contacts | Promise<Contacts>")]
    fn confirm_contacts(who: actor, login: text("login"), ctx: context) -> ContactsJs {
        |sspr| sspr.confirm_contacts(&who, &login, &ctx)
    }

    " Lift a block and forget the user's failed verifications (admins only)."
    #[napi(ts_args_type = "actor: Actor, login: string, ctx?: RequestContext | undefined | null", ts_return_type = "void | Promise<void>")]
    fn unblock(who: actor, login: text("login"), ctx: context) -> () {
        |sspr| sspr.unblock(&who, &login, &ctx)
    }

    " Check a user's directory password: an administrator's sign-in (privileged accounts get"
    " in). For the pages where users manage their own contacts use `signInSelfService`."
    " An unknown login and a wrong password give the same `SIGN_IN_FAILED`."
    #[napi(ts_args_type = "login: string, password: string, ctx?: RequestContext | undefined | null", ts_return_type = "SignedIn | Promise<SignedIn>")]
    fn sign_in(login: text("login"), password: secret("password"), ctx: context) -> SignedInJs {
        |sspr| sspr.sign_in(&login, &password, &ctx)
    }

    " `signIn` for the pages where users manage their own contacts: a privileged, ineligible,"
    " disabled or expired account also gives `SIGN_IN_FAILED`, exactly like a wrong password"
    " and before it is checked (a password alone must not prepare the reset of an admin"
    " account, nor tell whether it is right)."
    #[napi(ts_args_type = "login: string, password: string, ctx?: RequestContext | undefined | null", ts_return_type = "SignedIn | Promise<SignedIn>")]
    fn sign_in_self_service(login: text("login"), password: secret("password"), ctx: context) -> SignedInJs {
        |sspr| sspr.sign_in_self_service(&login, &password, &ctx)
    }

    " Change a user's password with the current one (the user's own change: the directory's"
    " history and minimum age apply). An unknown login, a wrong current password and an"
    " account the change does not serve all give `SIGN_IN_FAILED`, counted with `signIn`'s"
    " failures; a refused new password gives `PASSWORD_REJECTED` with its `refusal`."
    #[napi(ts_args_type = "login: string, current: string, newPassword: string, ctx?: RequestContext | undefined | null", ts_return_type = "void | Promise<void>")]
    fn change_password(login: text("login"), current: secret("current"), new_password: secret("newPassword"), ctx: context) -> () {
        |sspr| sspr.change_password(&login, &current, &new_password, &ctx)
    }

    " The rules a new password must meet, to show before the user types."
    #[napi(ts_return_type = "PasswordRules | Promise<PasswordRules>")]
    fn password_rules() -> PasswordRulesJs {
        |sspr| sspr.password_rules()
    }

    " Check now that the directory shows who is in the policy's `privilegedGroups` (the engine"
    " checks before its first lookup anyway, and treats every user as privileged while it"
    " cannot). Call it at start-up to refuse to start on a directory that cannot: fails with the"
    " directory's error, naming the group and the access the service account lacks."
    #[napi(ts_return_type = "void | Promise<void>")]
    fn check_privileged_groups() -> () {
        |sspr| sspr.check_privileged_groups()
    }

    " Users whose login or display name contains `query` (admin search), at most `limit`"
    " (and at most 200)."
    #[napi(ts_args_type = "query: string, limit: number", ts_return_type = "Array<UserStatus> | Promise<Array<UserStatus>>")]
    fn search_users(query: text("query"), limit: count("limit")) -> Vec<UserStatusJs> {
        |sspr| sspr.search_users(&query, limit) => |users| Ok(users.into_iter().map(Into::into).collect())
    }
}
