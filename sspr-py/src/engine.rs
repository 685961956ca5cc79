//! `sspr.Sspr` (asyncio) and `sspr.BlockingSspr` (scripts): the same core engine, two ways
//! of waiting. Each operation is declared once, in [`twins!`]'s invocation below: how its
//! arguments become the core's, which core call it is, how the answer becomes Python's;
//! the macro writes the coroutine of `Sspr` and the blocking method of `BlockingSspr`.

mod policy;

use std::fmt;
use std::str::FromStr;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use sspr_bind::{EngineOptions, Material};
use sspr_core::{Actor, CompletionMode, ContactChange, ContactUpdate, NewPassword};

pub(crate) use policy::Policy;

use crate::builtin::{self, ManualClock};
use crate::errors::{config_error, invalid_input, to_py_err};
use crate::runtime::{InRuntime, PySpawner, block_on, driven};
use crate::values::{
    ChallengeWidget, ContactProof, Contacts, EnrollmentReport, PasswordRules, PinSent, Recovered, RecoveryCode,
    RecoverySent, ReminderRun, RequestContext, ResetChallenge, ResetOutcome, SecretArg, SignedIn, UserStatus, Verified,
    count_arg,
};

fn context(ctx: Option<&Py<RequestContext>>) -> sspr_core::RequestContext {
    ctx.map(|c| c.get().inner.clone()).unwrap_or_default()
}

/// The host's span an operation's engine call is the child of: its argument `ctx`'s
/// `traceparent` (`trace_parent!(name, name)` for each argument: the one named `ctx` gives
/// it), none for an operation without a `ctx`.
macro_rules! trace_parent {
    (ctx, $ctx:ident) => {
        $ctx.as_ref().and_then(|c| c.get().trace_parent)
    };
    ($other:ident, $arg:ident) => {
        None
    };
}

fn actor(admin: Option<&str>) -> PyResult<Actor> {
    Actor::from_admin_id(admin).map_err(to_py_err)
}

fn new_password(mode: &str, password: Option<SecretArg>) -> PyResult<NewPassword> {
    let mode = CompletionMode::from_str(mode).map_err(to_py_err)?;
    NewPassword::from_mode(mode, password.map(SecretArg::into_password)).map_err(to_py_err)
}

fn contact_update(
    email: Option<String>,
    phone: Option<String>,
    clear_email: bool,
    clear_phone: bool,
) -> PyResult<ContactUpdate> {
    let change = |value: Option<String>, clear: bool, field: &'static str| match (value, clear) {
        (Some(_), true) => Err(invalid_input(field, "give a new value or clear it, not both")),
        (Some(v), false) => Ok(ContactChange::Set(v)),
        (None, true) => Ok(ContactChange::Clear),
        (None, false) => Ok(ContactChange::Keep),
    };
    Ok(ContactUpdate { email: change(email, clear_email, "email")?, phone: change(phone, clear_phone, "phone")? })
}

/// Read key or seed material (`bytes`, or a `str` of hex digits) with sspr-bind's rule `read`.
fn with_material<T>(
    value: &Bound<'_, PyAny>,
    what: &str,
    read: impl FnOnce(Material<'_>) -> Result<T, sspr_core::Error>,
) -> PyResult<T> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return read(Material::Bytes(bytes.as_bytes())).map_err(to_py_err);
    }
    if let Ok(text) = value.cast::<PyString>() {
        return read(Material::Hex(&text.to_cow()?)).map_err(to_py_err);
    }
    Err(config_error(format!("{what} must be bytes or a str of hex digits")))
}

/// The `#[pymethods]` block of one engine class: what both twins share (the constructor,
/// `policy`, `completion_modes`, `repr`, the method giving the other twin over the same
/// engine) and the class's own operations.
macro_rules! twin_methods {
    (
        $class:ident, $repr:literal,
        $(#[doc = $twin_doc:literal])* fn $twin:ident() -> $other:ident;
        $($operations:tt)*
    ) => {
        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (directory, notifier, *, secret_key, previous_keys = Vec::new(), contacts = None, store = None, audit = None, policy = None, clock = None, rng_seed = None, password_checkers = Vec::new(), hooks = None, metrics = false, bot_challenge = None))]
            #[allow(clippy::too_many_arguments)]
            fn new(
                directory: &Bound<'_, PyAny>,
                notifier: &Bound<'_, PyAny>,
                secret_key: &Bound<'_, PyAny>,
                previous_keys: Vec<Bound<'_, PyAny>>,
                contacts: Option<&Bound<'_, PyAny>>,
                store: Option<&Bound<'_, PyAny>>,
                audit: Option<&Bound<'_, PyAny>>,
                policy: Option<&Bound<'_, Policy>>,
                clock: Option<&Bound<'_, ManualClock>>,
                rng_seed: Option<&Bound<'_, PyAny>>,
                password_checkers: Vec<Bound<'_, PyAny>>,
                hooks: Option<&Bound<'_, pyo3::types::PyDict>>,
                metrics: bool,
                bot_challenge: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Self> {
                // The backends chosen by `builtin`, the options checked by sspr-bind (the
                // rules every binding shares).
                let mut options = EngineOptions::new(with_material(secret_key, "secret_key", sspr_bind::secret_key)?);
                // Keys retired by a rotation, newest first: read, never written.
                let previous = previous_keys
                    .iter()
                    .enumerate()
                    .map(|(i, key)| with_material(key, "previous_keys", |m| sspr_bind::previous_key(m, i + 1)))
                    .collect::<PyResult<Vec<_>>>()?;
                options = options.with_previous_keys(previous);
                if let Some(seed) = rng_seed {
                    options = options.with_rng_seed(with_material(seed, "rng_seed", sspr_bind::rng_seed)?);
                }
                if let Some(policy) = policy {
                    options = options.with_policy(policy.get().inner.clone());
                }
                if let Some(clock) = clock {
                    options = options.with_manual_clock(clock.get().inner.clone());
                }
                options = options.with_metrics(metrics).map_err(to_py_err)?;
                let mut builder = options
                    .apply(sspr_core::Sspr::builder(), sspr_bind::runtime::ProcessTimer, PySpawner)
                    .directory_arc(builtin::directory(directory)?)
                    .notifier_arc(builtin::notifier(notifier)?);
                if let Some(c) = contacts {
                    builder = builder.contacts_arc(builtin::contacts(c)?);
                }
                if let Some(s) = store {
                    builder = builder.store_arc(builtin::store(s)?);
                }
                if let Some(a) = audit {
                    builder = builder.audit_arc(builtin::audit(a)?);
                }
                // Run after the policy's own checks, in this order (the configured ones from
                // `from_config(...).password_checkers`, Python objects with `check`).
                for checker in &password_checkers {
                    builder = builder.password_checker_arc(builtin::password_checker(checker)?);
                }
                // Called off the request path after each event of their kind (sspr_core::hooks).
                for (event, hook) in hooks.map(crate::foreign::event_hooks).transpose()?.unwrap_or_default() {
                    builder = builder.hook_arc(&[event], hook);
                }
                // `begin_reset` asks for a solved challenge when its policy says.
                if let Some(challenge) = bot_challenge {
                    let (verifier, policy) = builtin::bot_challenge(challenge)?;
                    builder = builder.bot_challenge_arc(verifier, policy);
                }
                let core = builder.build().map_err(to_py_err)?;
                Ok(Self { core: InRuntime::new(core) })
            }

            /// The policy in force.
            #[getter]
            fn policy(&self) -> PyResult<Policy> {
                Ok(Policy { inner: self.core.get()?.policy().clone() })
            }

            /// The completion modes the policy allows, the default first.
            fn completion_modes(&self) -> PyResult<Vec<&'static str>> {
                Ok(self.core.get()?.completion_modes().into_iter().map(CompletionMode::as_str).collect())
            }

            /// What a page needs to show the bot challenge's widget, or `None` when the
            /// engine has none: web integrations show the widget (and allow its script)
            /// only then.
            fn challenge_widget(&self) -> PyResult<Option<ChallengeWidget>> {
                Ok(self.core.get()?.challenge_widget().map(ChallengeWidget::from))
            }

            fn __repr__(&self) -> &'static str {
                $repr
            }

            /// The engine's metrics in the Prometheus text format, for the host's scrape
            /// endpoint: every engine of this process built with `metrics=True` counts into
            /// one registry (empty text while none is).
            fn metrics_text(&self) -> String {
                sspr_bind::metrics::text()
            }

            $(#[doc = $twin_doc])*
            fn $twin(&self) -> PyResult<$other> {
                Ok($other { core: InRuntime::new(self.core.get()?.clone()) })
            }

            $($operations)*
        }
    };
}

/// Writes the two engine classes from one list of operations. Every engine call runs with
/// its `ctx`'s `traceparent` (if any) as its span's parent (`sspr_bind::traces::parented`).
/// Each operation gives its Python signature and owned arguments, `prepare` (argument checks, before the engine
/// runs), `call` (the core's future, from `core` and the prepared values) and `answer`
/// (the Python value from `out`, the core's result, with `py`).
macro_rules! twins {
    ($(
        $(#[doc = $doc:literal])*
        #[pyo3(signature = $sig:tt)]
        fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty {
            prepare: { $($prep:stmt;)* },
            call: |$core:ident| $call:expr,
            answer: |$py:ident, $out:ident| $answer:expr $(,)?
        }
    )*) => {
        /// The self-service password reset engine, for asyncio (FastAPI, aiohttp, ...).
        ///
        /// Every operation is a coroutine run by the caller's event loop. One instance is shared by
        /// all requests, tasks and threads. Python backends' plain `def` methods run on the event
        /// loop's thread (keep them quick, or write them `async def`).
        #[pyclass(frozen, module = "sspr")]
        pub(crate) struct Sspr {
            core: InRuntime<sspr_core::Sspr>,
        }

        /// The same engine for scripts and threaded servers: every operation blocks the calling
        /// thread (with the GIL released) until it is done. Python backends run on the calling
        /// thread; an `async def` backend method runs on a private event loop of that thread.
        #[pyclass(frozen, module = "sspr")]
        pub(crate) struct BlockingSspr {
            core: InRuntime<sspr_core::Sspr>,
        }

        twin_methods! {
            Sspr, "Sspr(policy=...)",
            /// The blocking twin sharing this engine (same backends, state and limits).
            fn blocking() -> BlockingSspr;

            $(
                $(#[doc = $doc])*
                #[pyo3(signature = $sig)]
                #[allow(clippy::too_many_arguments, clippy::let_unit_value)]
                async fn $name(&self, $($arg: $ty),*) -> PyResult<$ret> {
                    let parent = None $(.or(trace_parent!($arg, $arg)))*;
                    $($prep;)*
                    let core = self.core.get()?.clone();
                    let $out = driven(sspr_bind::traces::parented(parent, async move {
                        let $core = &core;
                        $call.await
                    }))?
                    .await?;
                    Python::attach(|$py| $answer)
                }
            )*
        }

        twin_methods! {
            BlockingSspr, "BlockingSspr(policy=...)",
            /// The asyncio twin sharing this engine.
            fn asyncio() -> Sspr;

            $(
                $(#[doc = $doc])*
                #[pyo3(signature = $sig)]
                #[allow(clippy::too_many_arguments, clippy::let_unit_value)]
                fn $name(&self, py: Python<'_>, $($arg: $ty),*) -> PyResult<$ret> {
                    let parent = None $(.or(trace_parent!($arg, $arg)))*;
                    $($prep;)*
                    let $core = self.core.get()?;
                    let $out = block_on(py, sspr_bind::traces::parented(parent, async { $call.await }))?;
                    let $py = py;
                    $answer
                }
            )*
        }
    };
}

impl fmt::Debug for Sspr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.core.get() {
            Ok(core) => fmt::Debug::fmt(core, f),
            Err(_) => f.write_str("Sspr(released)"),
        }
    }
}

twins! {
    /// Wait until every PIN handed to the notifier so far is delivered (or its failure is
    /// in the audit trail). `send_pin` does not wait for a slow notifier: call this before
    /// shutting down, and in tests before reading such a notifier's messages.
    #[pyo3(signature = ())]
    fn flush_deliveries() -> () {
        prepare: {},
        call: |core| core.flush_deliveries(),
        answer: |_py, out| Ok(out),
    }

    /// Wait until every audit event recorded so far is stored by the audit sink. The sink
    /// `sspr.backends.from_config` builds for `audit` sits behind a queue (so a slow sink
    /// never slows a reset): events still queued when the process exits are lost. At
    /// shutdown call `flush_deliveries()`, then this. Raises `BackendError` (kind
    /// `unavailable`) when the queue can no longer be drained.
    #[pyo3(signature = ())]
    fn flush_audit() -> () {
        prepare: {},
        call: |core| core.flush_audit(),
        answer: |_py, out| out.map_err(to_py_err),
    }

    /// Start a reset for `login`. Unknown and real logins get answers of the same shape.
    /// `challenge_token` is the bot challenge widget's token (`cf-turnstile-response`,
    /// `h-captcha-response`, `g-recaptcha-response`) when the engine has a `bot_challenge`.
    #[pyo3(signature = (login, ctx = None, challenge_token = None))]
    fn begin_reset(login: String, ctx: Option<Py<RequestContext>>, challenge_token: Option<String>) -> ResetChallenge {
        prepare: {
            let mut ctx = context(ctx.as_ref());
            ctx.challenge_token =
                sspr_core::ChallengeToken::parse(challenge_token.as_deref().unwrap_or_default()).map_err(to_py_err)?;
        },
        call: |core| core.begin_reset(&login, &ctx),
        answer: |py, out| ResetChallenge::from_core(py, out.map_err(to_py_err)?),
    }

    /// Send a PIN by the method `method_id` (`"email"` or `"sms"`); `confirm` is the full
    /// address when the policy asks for it.
    #[pyo3(signature = (flow_id, method_id, confirm = None, ctx = None))]
    fn send_pin(flow_id: String, method_id: String, confirm: Option<String>, ctx: Option<Py<RequestContext>>) -> PinSent {
        prepare: { let ctx = context(ctx.as_ref()); },
        call: |core| core.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx),
        answer: |_py, out| out.map(PinSent::from).map_err(to_py_err),
    }

    /// Check the PIN the user typed (`str` or `Secret`).
    #[pyo3(signature = (flow_id, pin, ctx = None))]
    fn verify_pin(flow_id: String, pin: SecretArg, ctx: Option<Py<RequestContext>>) -> Verified {
        prepare: { let ctx = context(ctx.as_ref()); let pin = pin.into_pin(); },
        call: |core| core.verify_pin(&flow_id, pin, &ctx),
        answer: |_py, out| out.map(Verified::from).map_err(to_py_err),
    }

    /// Finish a verified reset: `mode` is `"temporary"` (the default: a temporary password is
    /// returned once), `"chosen"` (give `password`) or `"unlock_only"`.
    #[pyo3(signature = (flow_id, mode = "temporary".to_owned(), password = None, ctx = None))]
    fn complete_reset(flow_id: String, mode: String, password: Option<SecretArg>, ctx: Option<Py<RequestContext>>) -> ResetOutcome {
        prepare: { let ctx = context(ctx.as_ref()); let new = new_password(&mode, password)?; },
        call: |core| core.complete_reset(&flow_id, new, &ctx),
        answer: |py, out| ResetOutcome::from_core(py, out.map_err(to_py_err)?),
    }

    /// The user's registered contact details, in full, for the user's own page (not
    /// audited; an administrator's page uses `admin_contacts`).
    #[pyo3(signature = (login))]
    fn contacts(login: String) -> Contacts {
        prepare: {},
        call: |core| core.contacts(&login),
        answer: |py, out| Contacts::from_core(py, out.map_err(to_py_err)?),
    }

    /// A user's registered contact details, in full, read by an administrator
    /// (administrators only: give `admin`): audited as `contacts_viewed` with the
    /// administrator as actor. An administrator's page uses this one; a user's own page
    /// uses `contacts`.
    #[pyo3(signature = (login, *, admin = None, ctx = None))]
    fn admin_contacts(login: String, admin: Option<String>, ctx: Option<Py<RequestContext>>) -> Contacts {
        prepare: { let actor = actor(admin.as_deref())?; let ctx = context(ctx.as_ref()); },
        call: |core| core.admin_contacts(&actor, &login, &ctx),
        answer: |py, out| Contacts::from_core(py, out.map_err(to_py_err)?),
    }

    /// Change contact details: a value sets it, `clear_*` removes it, leaving it out keeps
    /// it. `admin` names the administrator acting; without it the user acts.
    #[pyo3(signature = (login, email = None, phone = None, *, clear_email = false, clear_phone = false, admin = None, ctx = None))]
    fn update_contacts(
        login: String,
        email: Option<String>,
        phone: Option<String>,
        clear_email: bool,
        clear_phone: bool,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>
    ) -> Contacts {
        prepare: {
            let update = contact_update(email, phone, clear_email, clear_phone)?;
            let actor = actor(admin.as_deref())?;
            let ctx = context(ctx.as_ref());
        },
        call: |core| core.update_contacts(&actor, &login, update, &ctx),
        answer: |py, out| Contacts::from_core(py, out.map_err(to_py_err)?),
    }

    /// Send a one-time code to a contact the user wants to add (`channel`: `"email"` or
    /// `"sms"`); it is saved by `confirm_contact_proof` with that code. A user's new contact
    /// set through `update_contacts` raises `NotAllowed` with reason `"contact_unproven"`.
    #[pyo3(signature = (login, channel, value, *, admin = None, ctx = None))]
    fn request_contact_proof(
        login: String,
        channel: String,
        value: String,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>
    ) -> ContactProof {
        prepare: {
            let channel = sspr_core::Channel::from_str(&channel).map_err(to_py_err)?;
            let actor = actor(admin.as_deref())?;
            let ctx = context(ctx.as_ref());
        },
        call: |core| core.request_contact_proof(&actor, &login, channel, &value, &ctx),
        answer: |_py, out| out.map(ContactProof::from).map_err(to_py_err),
    }

    /// Save the contact of the pending proof `proof_id` if `code` is the code sent to it
    /// (the change then cools off and the old contacts are told, as any change by the user).
    #[pyo3(signature = (login, proof_id, code, *, admin = None, ctx = None))]
    fn confirm_contact_proof(
        login: String,
        proof_id: String,
        code: SecretArg,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>
    ) -> Contacts {
        prepare: {
            let code = code.into_password();
            let actor = actor(admin.as_deref())?;
            let ctx = context(ctx.as_ref());
        },
        call: |core| core.confirm_contact_proof(&actor, &login, &proof_id, code.expose_secret(), &ctx),
        answer: |py, out| Contacts::from_core(py, out.map_err(to_py_err)?),
    }

    /// Enable or disable SSPR for a user (administrators only: give `admin`).
    #[pyo3(signature = (login, enabled, *, admin = None, ctx = None))]
    fn set_enabled(login: String, enabled: bool, admin: Option<String>, ctx: Option<Py<RequestContext>>) -> () {
        prepare: { let actor = actor(admin.as_deref())?; let ctx = context(ctx.as_ref()); },
        call: |core| core.set_enabled(&actor, &login, enabled, &ctx),
        answer: |_py, out| out.map_err(to_py_err),
    }

    /// Everything about one user's SSPR state.
    #[pyo3(signature = (login))]
    fn status(login: String) -> UserStatus {
        prepare: {},
        call: |core| core.status(&login),
        answer: |_py, out| out.map(UserStatus::from).map_err(to_py_err),
    }

    /// Check a user's own password: an administrator's sign-in (privileged accounts get in).
    /// For the pages where users manage their own contacts use `sign_in_self_service`.
    /// Unknown logins and wrong passwords both raise `SignInFailed`; attempts are rate-limited.
    #[pyo3(signature = (login, password, ctx = None))]
    fn sign_in(login: String, password: SecretArg, ctx: Option<Py<RequestContext>>) -> SignedIn {
        prepare: { let ctx = context(ctx.as_ref()); let password = password.into_password(); },
        call: |core| core.sign_in(&login, &password, &ctx),
        answer: |_py, out| out.map(SignedIn::from).map_err(to_py_err),
    }

    /// `sign_in` for the pages where users manage their own contacts: a privileged,
    /// ineligible, disabled or expired account also raises `SignInFailed`, exactly like a
    /// wrong password and before it is checked (a password alone must not prepare the reset
    /// of an admin account, nor tell whether it is right).
    #[pyo3(signature = (login, password, ctx = None))]
    fn sign_in_self_service(login: String, password: SecretArg, ctx: Option<Py<RequestContext>>) -> SignedIn {
        prepare: { let ctx = context(ctx.as_ref()); let password = password.into_password(); },
        call: |core| core.sign_in_self_service(&login, &password, &ctx),
        answer: |_py, out| out.map(SignedIn::from).map_err(to_py_err),
    }

    /// Change a user's password with the current one (the user's own change: the directory's
    /// history and minimum age apply). An unknown login, a wrong current password and an
    /// account the change does not serve all raise `SignInFailed`, counted with `sign_in`'s
    /// failures; a refused new password raises `PasswordRejected` with its `refusal`.
    #[pyo3(signature = (login, current, new, ctx = None))]
    fn change_password(login: String, current: SecretArg, new: SecretArg, ctx: Option<Py<RequestContext>>) -> () {
        prepare: {
            let ctx = context(ctx.as_ref());
            let current = current.into_password();
            let new = new.into_password();
        },
        call: |core| core.change_password(&login, &current, &new, &ctx),
        answer: |_py, out| out.map_err(to_py_err),
    }

    /// The rules a new password must meet, to show before the user types.
    #[pyo3(signature = ())]
    fn password_rules() -> PasswordRules {
        prepare: {},
        call: |core| core.password_rules(),
        answer: |_py, out| out.map(PasswordRules::from).map_err(to_py_err),
    }

    /// Check now that the directory shows who is in the policy's `privileged_groups` (the
    /// engine checks before its first lookup anyway, and treats every user as privileged
    /// while it cannot). Call it at start-up to refuse to start on a directory that cannot:
    /// raises `BackendError` naming the group and the access the service account lacks.
    #[pyo3(signature = ())]
    fn check_privileged_groups() -> () {
        prepare: {},
        call: |core| core.check_privileged_groups(),
        answer: |_py, out| out.map_err(to_py_err),
    }

    /// Users whose login or display name contains `query` (admin search), at most `limit`.
    #[pyo3(signature = (query, limit = None))]
    fn search_users(query: String, limit: Option<Py<PyAny>>) -> Vec<UserStatus> {
        prepare: {
            let limit = match limit {
                Some(limit) => Python::attach(|py| count_arg::<usize>(limit.bind(py), "limit"))?,
                None => 50usize,
            };
        },
        call: |core| core.search_users(&query, limit),
        answer: |_py, out| out.map(|users| users.into_iter().map(UserStatus::from).collect()).map_err(to_py_err),
    }

    /// Who has registered for self-service reset among the users inside one of `ous` (if
    /// any) and in one of `groups` (if any): counts and one entry per user (administrators
    /// only: give `admin`). Contacts stale after `stale_after_days` (default: the policy's
    /// `reconfirm_after_days`, or 365).
    #[pyo3(signature = (*, admin = None, ous = Vec::new(), groups = Vec::new(), stale_after_days = None, ctx = None))]
    fn enrollment_report(
        admin: Option<String>,
        ous: Vec<String>,
        groups: Vec<String>,
        stale_after_days: Option<Py<PyAny>>,
        ctx: Option<Py<RequestContext>>
    ) -> EnrollmentReport {
        prepare: {
            let stale_after_days = stale_after_days
                .map(|days| Python::attach(|py| count_arg::<u32>(days.bind(py), "stale_after_days")))
                .transpose()?;
            let filter = sspr_core::EnrollmentFilter { ous, groups, stale_after_days };
            let actor = actor(admin.as_deref())?;
            let ctx = context(ctx.as_ref());
        },
        call: |core| core.enrollment_report(&actor, &filter, &ctx),
        answer: |py, out| EnrollmentReport::from_core(py, out.map_err(to_py_err)?),
    }

    /// Mail a reminder to register (or confirm) contacts, with the policy's
    /// `registration_url`, to the directory mailbox of each enabled user of the filter
    /// without contacts or with stale ones; at most once per `reminder_interval_days`, never
    /// to privileged users (administrators only: give `admin`).
    #[pyo3(signature = (*, admin = None, ous = Vec::new(), groups = Vec::new(), stale_after_days = None, ctx = None))]
    fn send_registration_reminders(
        admin: Option<String>,
        ous: Vec<String>,
        groups: Vec<String>,
        stale_after_days: Option<Py<PyAny>>,
        ctx: Option<Py<RequestContext>>
    ) -> ReminderRun {
        prepare: {
            let stale_after_days = stale_after_days
                .map(|days| Python::attach(|py| count_arg::<u32>(days.bind(py), "stale_after_days")))
                .transpose()?;
            let filter = sspr_core::EnrollmentFilter { ous, groups, stale_after_days };
            let actor = actor(admin.as_deref())?;
            let ctx = context(ctx.as_ref());
        },
        call: |core| core.send_registration_reminders(&actor, &filter, &ctx),
        answer: |_py, out| out.map(ReminderRun::from).map_err(to_py_err),
    }

    /// Confirm that the user's contacts are still right (asked once `confirm_due`).
    #[pyo3(signature = (login, *, admin = None, ctx = None))]
    fn confirm_contacts(login: String, admin: Option<String>, ctx: Option<Py<RequestContext>>) -> Contacts {
        prepare: { let actor = actor(admin.as_deref())?; let ctx = context(ctx.as_ref()); },
        call: |core| core.confirm_contacts(&actor, &login, &ctx),
        answer: |py, out| Contacts::from_core(py, out.map_err(to_py_err)?),
    }

    /// Issue a one-time helpdesk recovery code for `login` (administrators only: give
    /// `admin`), to read out to the user once: `code` is a `Secret`, returned here only. The
    /// user redeems it with `redeem_recovery_code`; it works once, for 15 minutes.
    #[pyo3(signature = (login, *, admin = None, ctx = None))]
    fn admin_recovery(login: String, admin: Option<String>, ctx: Option<Py<RequestContext>>) -> RecoveryCode {
        prepare: { let actor = actor(admin.as_deref())?; let ctx = context(ctx.as_ref()); },
        call: |core| core.admin_recovery(&actor, &login, &ctx),
        answer: |py, out| RecoveryCode::from_core(py, out.map_err(to_py_err)?),
    }

    /// Issue a helpdesk recovery code for `login` as `admin_recovery` does, but send it to
    /// the user's registered contact by `channel` (`"email"` or `"sms"`): the answer names
    /// only the masked destination.
    #[pyo3(signature = (login, channel, *, admin = None, ctx = None))]
    fn admin_send_recovery_code(
        login: String,
        channel: String,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>
    ) -> RecoverySent {
        prepare: {
            let channel = sspr_core::Channel::from_str(&channel).map_err(to_py_err)?;
            let actor = actor(admin.as_deref())?;
            let ctx = context(ctx.as_ref());
        },
        call: |core| core.admin_send_recovery_code(&actor, &login, channel, &ctx),
        answer: |_py, out| out.map(RecoverySent::from).map_err(to_py_err),
    }

    /// Redeem a helpdesk recovery code: the right one starts a reset already verified (give
    /// its `flow_id` to `complete_reset`). Every refusal raises `WrongPin` with no attempts
    /// left, padded like the PIN step.
    #[pyo3(signature = (login, code, ctx = None))]
    fn redeem_recovery_code(login: String, code: SecretArg, ctx: Option<Py<RequestContext>>) -> Recovered {
        prepare: { let code = code.into_password(); let ctx = context(ctx.as_ref()); },
        call: |core| core.redeem_recovery_code(&login, code.expose_secret(), &ctx),
        answer: |_py, out| out.map(Recovered::from).map_err(to_py_err),
    }

    /// Lift a block (administrators only: give `admin`).
    #[pyo3(signature = (login, *, admin = None, ctx = None))]
    fn unblock(login: String, admin: Option<String>, ctx: Option<Py<RequestContext>>) -> () {
        prepare: { let actor = actor(admin.as_deref())?; let ctx = context(ctx.as_ref()); },
        call: |core| core.unblock(&actor, &login, &ctx),
        answer: |_py, out| out.map_err(to_py_err),
    }
}
