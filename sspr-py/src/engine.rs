//! `sspr.Sspr` (asyncio) and `sspr.BlockingSspr` (scripts): the same core engine, two ways
//! of waiting. Every method converts its arguments, calls the core, converts the answer.

use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use sspr_core::{Actor, ContactChange, ContactUpdate, NewPassword, Password, SecretKey};

use crate::backends;
use crate::errors::{config_error, invalid_input, to_py_err};
use crate::policy::Policy;
use crate::runtime::{InRuntime, PySpawner, PyTimer, block_on, driven};
use crate::types::{
    Contacts, PinSent, RequestContext, ResetChallenge, ResetOutcome, Secret, SignedIn, UserStatus, Verified, mode_name,
};

/// A PIN or password argument: `str` or `sspr.Secret`.
pub(crate) enum SecretArg {
    Text(String),
    Secret(Py<Secret>),
}

impl FromPyObject<'_, '_> for SecretArg {
    type Error = PyErr;

    fn extract(ob: pyo3::Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        // Type checks first: a failed extraction would build an exception on the hot path.
        if let Ok(secret) = ob.cast::<Secret>() {
            return Ok(Self::Secret(secret.to_owned().unbind()));
        }
        if let Ok(text) = ob.cast::<PyString>() {
            return Ok(Self::Text(text.to_cow()?.into_owned()));
        }
        Err(pyo3::exceptions::PyTypeError::new_err("expected a str or an sspr.Secret"))
    }
}

impl SecretArg {
    pub(crate) fn into_password(self) -> Password {
        match self {
            Self::Text(text) => Password::new(text),
            Self::Secret(s) => Password::new(s.get().value.expose_secret()),
        }
    }
}

fn context(ctx: Option<&Py<RequestContext>>) -> sspr_core::RequestContext {
    ctx.map(|c| c.get().inner.clone()).unwrap_or_default()
}

fn actor(admin: Option<String>) -> Actor {
    admin.map_or(Actor::User, Actor::Admin)
}

fn new_password(mode: &str, password: Option<SecretArg>) -> PyResult<NewPassword> {
    match (mode, password) {
        ("temporary", None) => Ok(NewPassword::Temporary),
        ("unlock_only", None) => Ok(NewPassword::UnlockOnly),
        ("chosen", Some(p)) => Ok(NewPassword::Chosen(p.into_password())),
        ("chosen", None) => Err(invalid_input("password", "the \"chosen\" mode needs the new password")),
        ("temporary" | "unlock_only", Some(_)) => {
            Err(invalid_input("password", "a password is only given in the \"chosen\" mode"))
        }
        _ => Err(invalid_input("mode", "the mode is \"temporary\", \"chosen\" or \"unlock_only\"")),
    }
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

/// Build the core engine from the constructor's arguments.
#[allow(clippy::too_many_arguments)]
fn build(
    directory: &Bound<'_, PyAny>,
    notifier: &Bound<'_, PyAny>,
    secret_key: &Bound<'_, PyAny>,
    contacts: Option<&Bound<'_, PyAny>>,
    store: Option<&Bound<'_, PyAny>>,
    audit: Option<&Bound<'_, PyAny>>,
    policy: Option<&Bound<'_, Policy>>,
    clock: Option<&Bound<'_, crate::backends::ManualClock>>,
    rng_seed: Option<&[u8]>,
) -> PyResult<sspr_core::Sspr> {
    let key = if let Ok(bytes) = secret_key.cast::<PyBytes>() {
        SecretKey::from_bytes(bytes.as_bytes())
    } else if let Ok(text) = secret_key.cast::<PyString>() {
        SecretKey::from_hex(&text.to_cow()?)
    } else {
        return Err(config_error("secret_key must be bytes (32+) or a hex str (64+ digits)"));
    }
    .map_err(to_py_err)?;
    let policy = policy.map(|p| p.get().inner.clone()).unwrap_or_default();
    let mut builder = sspr_core::Sspr::builder()
        .directory_arc(backends::directory(directory)?)
        .notifier_arc(backends::notifier(notifier)?)
        .secret_key(key);
    if let Some(c) = contacts {
        builder = builder.contacts_arc(backends::contacts(c)?);
    }
    if let Some(s) = store {
        builder = builder.store_arc(backends::store(s)?);
    }
    if let Some(a) = audit {
        builder = builder.audit_arc(backends::audit(a)?);
    }
    match clock {
        // A manual clock "waits" by moving itself: padded answers take no real time.
        Some(c) => builder = builder.clock(c.get().inner.clone()).timer(c.get().inner.clone()),
        None => builder = builder.timer(PyTimer),
    }
    // Deliveries leave the request path: a slow or failing notifier shows neither in the
    // answer nor in its timing.
    builder = builder.spawner(PySpawner);
    if let Some(seed) = rng_seed {
        let seed: [u8; 32] = seed.try_into().map_err(|_| config_error("rng_seed must be 32 bytes"))?;
        builder = builder.rng_seed(seed);
    }
    builder.policy(policy).build().map_err(to_py_err)
}

/// The self-service password reset engine, for asyncio (FastAPI, aiohttp, ...).
///
/// Every operation is a coroutine run by the caller's event loop. One instance is shared by
/// all requests, tasks and threads. Python backends' plain `def` methods run on the event
/// loop's thread (keep them quick, or write them `async def`).
#[pyclass(frozen, module = "sspr")]
pub(crate) struct Sspr {
    core: InRuntime<sspr_core::Sspr>,
}

impl fmt::Debug for Sspr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.core.get() {
            Ok(core) => fmt::Debug::fmt(core, f),
            Err(_) => f.write_str("Sspr(released)"),
        }
    }
}

/// The same engine for scripts and threaded servers: every operation blocks the calling
/// thread (with the GIL released) until it is done. Python backends run on the calling
/// thread; an `async def` backend method runs on a private event loop of that thread.
#[pyclass(frozen, module = "sspr")]
pub(crate) struct BlockingSspr {
    core: InRuntime<sspr_core::Sspr>,
}

impl Sspr {
    const NAME: &'static str = "Sspr";
}

impl BlockingSspr {
    const NAME: &'static str = "BlockingSspr";
}

#[pymethods]
impl Sspr {
    /// `directory` and `notifier` are built-in backends or Python objects with the
    /// methods of the `sspr.Directory` / `sspr.Notifier` protocols; `secret_key` is at
    /// least 32 bytes (or 64 hex digits), the same on every instance sharing a store.
    /// `contacts`, `store` and `audit` default to in-memory ones; `clock` (a
    /// `ManualClock`) and `rng_seed` are for tests.
    #[new]
    #[pyo3(signature = (directory, notifier, *, secret_key, contacts = None, store = None, audit = None, policy = None, clock = None, rng_seed = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        directory: &Bound<'_, PyAny>,
        notifier: &Bound<'_, PyAny>,
        secret_key: &Bound<'_, PyAny>,
        contacts: Option<&Bound<'_, PyAny>>,
        store: Option<&Bound<'_, PyAny>>,
        audit: Option<&Bound<'_, PyAny>>,
        policy: Option<&Bound<'_, Policy>>,
        clock: Option<&Bound<'_, crate::backends::ManualClock>>,
        rng_seed: Option<&[u8]>,
    ) -> PyResult<Self> {
        let core = build(directory, notifier, secret_key, contacts, store, audit, policy, clock, rng_seed)?;
        Ok(Self { core: InRuntime::new(core) })
    }

    /// The policy in force.
    #[getter]
    fn policy(&self) -> PyResult<Policy> {
        Ok(Policy { inner: self.core.get()?.policy().clone() })
    }

    /// The completion modes the policy allows, the default first.
    fn completion_modes(&self) -> PyResult<Vec<&'static str>> {
        Ok(self.core.get()?.completion_modes().into_iter().map(mode_name).collect())
    }

    fn __repr__(&self) -> String {
        format!("{}(policy=...)", Self::NAME)
    }

    /// The blocking twin sharing this engine (same backends, state and limits).
    fn blocking(&self) -> PyResult<BlockingSspr> {
        Ok(BlockingSspr { core: InRuntime::new(self.core.get()?.clone()) })
    }

    /// Wait until every PIN handed to the notifier so far is delivered (or its failure is
    /// in the audit trail). `send_pin` does not wait for a slow notifier: call this before
    /// shutting down, and in tests before reading such a notifier's messages.
    async fn flush_deliveries(&self) -> PyResult<()> {
        let core = self.core.get()?.clone();
        driven(async move { core.flush_deliveries().await })?.await;
        Ok(())
    }

    /// Start a reset for `login`. Unknown and real logins get answers of the same shape.
    #[pyo3(signature = (login, ctx = None))]
    async fn begin_reset(&self, login: String, ctx: Option<Py<RequestContext>>) -> PyResult<ResetChallenge> {
        let (core, ctx) = (self.core.get()?.clone(), context(ctx.as_ref()));
        let out = driven(async move { core.begin_reset(&login, &ctx).await })?.await;
        Python::attach(|py| ResetChallenge::from_core(py, out.map_err(to_py_err)?))
    }

    /// Send a PIN by the method `method_id` (`"email"` or `"sms"`); `confirm` is the full
    /// address when the policy asks for it.
    #[pyo3(signature = (flow_id, method_id, confirm = None, ctx = None))]
    async fn send_pin(
        &self,
        flow_id: String,
        method_id: String,
        confirm: Option<String>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<PinSent> {
        let (core, ctx) = (self.core.get()?.clone(), context(ctx.as_ref()));
        let out = driven(async move { core.send_pin(&flow_id, &method_id, confirm.as_deref(), &ctx).await })?.await;
        out.map(PinSent::from).map_err(to_py_err)
    }

    /// Check the PIN the user typed (`str` or `Secret`).
    #[pyo3(signature = (flow_id, pin, ctx = None))]
    async fn verify_pin(&self, flow_id: String, pin: SecretArg, ctx: Option<Py<RequestContext>>) -> PyResult<Verified> {
        let (core, ctx, pin) = (self.core.get()?.clone(), context(ctx.as_ref()), pin.into_password());
        let out =
            driven(async move { core.verify_pin(&flow_id, sspr_core::Pin::new(pin.expose_secret()), &ctx).await })?
                .await;
        out.map(Verified::from).map_err(to_py_err)
    }

    /// Finish a verified reset: `mode` is `"temporary"` (the default: a temporary password is
    /// returned once), `"chosen"` (give `password`) or `"unlock_only"`.
    #[pyo3(signature = (flow_id, mode = "temporary".to_owned(), password = None, ctx = None))]
    async fn complete_reset(
        &self,
        flow_id: String,
        mode: String,
        password: Option<SecretArg>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<ResetOutcome> {
        let (core, ctx, new) = (self.core.get()?.clone(), context(ctx.as_ref()), new_password(&mode, password)?);
        let out = driven(async move { core.complete_reset(&flow_id, new, &ctx).await })?.await;
        Python::attach(|py| ResetOutcome::from_core(py, out.map_err(to_py_err)?))
    }

    /// The user's registered contact details, in full.
    async fn contacts(&self, login: String) -> PyResult<Contacts> {
        let core = self.core.get()?.clone();
        let out = driven(async move { core.contacts(&login).await })?.await;
        Python::attach(|py| Contacts::from_core(py, out.map_err(to_py_err)?))
    }

    /// Change contact details: a value sets it, `clear_*` removes it, leaving it out keeps
    /// it. `admin` names the administrator acting; without it the user acts.
    #[pyo3(signature = (login, email = None, phone = None, *, clear_email = false, clear_phone = false, admin = None, ctx = None))]
    #[allow(clippy::too_many_arguments)]
    async fn update_contacts(
        &self,
        login: String,
        email: Option<String>,
        phone: Option<String>,
        clear_email: bool,
        clear_phone: bool,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<Contacts> {
        let update = contact_update(email, phone, clear_email, clear_phone)?;
        let (core, ctx, actor) = (self.core.get()?.clone(), context(ctx.as_ref()), actor(admin));
        let out = driven(async move { core.update_contacts(&actor, &login, update, &ctx).await })?.await;
        Python::attach(|py| Contacts::from_core(py, out.map_err(to_py_err)?))
    }

    /// Enable or disable SSPR for a user (administrators only: give `admin`).
    #[pyo3(signature = (login, enabled, *, admin = None, ctx = None))]
    async fn set_enabled(
        &self,
        login: String,
        enabled: bool,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<()> {
        let (core, ctx, actor) = (self.core.get()?.clone(), context(ctx.as_ref()), actor(admin));
        let out = driven(async move { core.set_enabled(&actor, &login, enabled, &ctx).await })?.await;
        out.map_err(to_py_err)
    }

    /// Everything about one user's SSPR state.
    async fn status(&self, login: String) -> PyResult<UserStatus> {
        let core = self.core.get()?.clone();
        let out = driven(async move { core.status(&login).await })?.await;
        out.map(UserStatus::from).map_err(to_py_err)
    }

    /// Check a user's own password (the sign-in of the registration pages). Unknown logins
    /// and wrong passwords both raise `SignInFailed`; attempts are rate-limited.
    #[pyo3(signature = (login, password, ctx = None))]
    async fn sign_in(&self, login: String, password: SecretArg, ctx: Option<Py<RequestContext>>) -> PyResult<SignedIn> {
        let (core, ctx, password) = (self.core.get()?.clone(), context(ctx.as_ref()), password.into_password());
        let out = driven(async move { core.sign_in(&login, &password, &ctx).await })?.await;
        out.map(SignedIn::from).map_err(to_py_err)
    }

    /// Users whose login or display name contains `query` (admin search), at most `limit`.
    #[pyo3(signature = (query, limit = 50))]
    async fn search_users(&self, query: String, limit: usize) -> PyResult<Vec<UserStatus>> {
        let core = self.core.get()?.clone();
        let out = driven(async move { core.search_users(&query, limit).await })?.await;
        out.map(|users| users.into_iter().map(UserStatus::from).collect()).map_err(to_py_err)
    }

    /// Lift a block (administrators only: give `admin`).
    #[pyo3(signature = (login, *, admin = None, ctx = None))]
    async fn unblock(&self, login: String, admin: Option<String>, ctx: Option<Py<RequestContext>>) -> PyResult<()> {
        let (core, ctx, actor) = (self.core.get()?.clone(), context(ctx.as_ref()), actor(admin));
        let out = driven(async move { core.unblock(&actor, &login, &ctx).await })?.await;
        out.map_err(to_py_err)
    }
}

#[pymethods]
impl BlockingSspr {
    /// `directory` and `notifier` are built-in backends or Python objects with the
    /// methods of the `sspr.Directory` / `sspr.Notifier` protocols; `secret_key` is at
    /// least 32 bytes (or 64 hex digits), the same on every instance sharing a store.
    /// `contacts`, `store` and `audit` default to in-memory ones; `clock` (a
    /// `ManualClock`) and `rng_seed` are for tests.
    #[new]
    #[pyo3(signature = (directory, notifier, *, secret_key, contacts = None, store = None, audit = None, policy = None, clock = None, rng_seed = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        directory: &Bound<'_, PyAny>,
        notifier: &Bound<'_, PyAny>,
        secret_key: &Bound<'_, PyAny>,
        contacts: Option<&Bound<'_, PyAny>>,
        store: Option<&Bound<'_, PyAny>>,
        audit: Option<&Bound<'_, PyAny>>,
        policy: Option<&Bound<'_, Policy>>,
        clock: Option<&Bound<'_, crate::backends::ManualClock>>,
        rng_seed: Option<&[u8]>,
    ) -> PyResult<Self> {
        let core = build(directory, notifier, secret_key, contacts, store, audit, policy, clock, rng_seed)?;
        Ok(Self { core: InRuntime::new(core) })
    }

    /// The policy in force.
    #[getter]
    fn policy(&self) -> PyResult<Policy> {
        Ok(Policy { inner: self.core.get()?.policy().clone() })
    }

    /// The completion modes the policy allows, the default first.
    fn completion_modes(&self) -> PyResult<Vec<&'static str>> {
        Ok(self.core.get()?.completion_modes().into_iter().map(mode_name).collect())
    }

    fn __repr__(&self) -> String {
        format!("{}(policy=...)", Self::NAME)
    }

    /// The asyncio twin sharing this engine.
    fn asyncio(&self) -> PyResult<Sspr> {
        Ok(Sspr { core: InRuntime::new(self.core.get()?.clone()) })
    }

    /// Wait until every PIN handed to the notifier so far is delivered (see
    /// `Sspr.flush_deliveries`).
    fn flush_deliveries(&self, py: Python<'_>) -> PyResult<()> {
        block_on(py, self.core.get()?.flush_deliveries())
    }

    /// Start a reset for `login`. Unknown and real logins get answers of the same shape.
    #[pyo3(signature = (login, ctx = None))]
    fn begin_reset(&self, py: Python<'_>, login: &str, ctx: Option<Py<RequestContext>>) -> PyResult<ResetChallenge> {
        let ctx = context(ctx.as_ref());
        let out = block_on(py, self.core.get()?.begin_reset(login, &ctx))?;
        ResetChallenge::from_core(py, out.map_err(to_py_err)?)
    }

    /// Send a PIN by the method `method_id` (`"email"` or `"sms"`).
    #[pyo3(signature = (flow_id, method_id, confirm = None, ctx = None))]
    fn send_pin(
        &self,
        py: Python<'_>,
        flow_id: &str,
        method_id: &str,
        confirm: Option<&str>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<PinSent> {
        let ctx = context(ctx.as_ref());
        let out = block_on(py, self.core.get()?.send_pin(flow_id, method_id, confirm, &ctx))?;
        out.map(PinSent::from).map_err(to_py_err)
    }

    /// Check the PIN the user typed (`str` or `Secret`).
    #[pyo3(signature = (flow_id, pin, ctx = None))]
    fn verify_pin(
        &self,
        py: Python<'_>,
        flow_id: &str,
        pin: SecretArg,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<Verified> {
        let (ctx, pin) = (context(ctx.as_ref()), pin.into_password());
        let out = block_on(py, self.core.get()?.verify_pin(flow_id, sspr_core::Pin::new(pin.expose_secret()), &ctx))?;
        out.map(Verified::from).map_err(to_py_err)
    }

    /// Finish a verified reset (`"temporary"`, `"chosen"` with `password`, `"unlock_only"`).
    #[pyo3(signature = (flow_id, mode = "temporary", password = None, ctx = None))]
    fn complete_reset(
        &self,
        py: Python<'_>,
        flow_id: &str,
        mode: &str,
        password: Option<SecretArg>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<ResetOutcome> {
        let (ctx, new) = (context(ctx.as_ref()), new_password(mode, password)?);
        let out = block_on(py, self.core.get()?.complete_reset(flow_id, new, &ctx))?;
        ResetOutcome::from_core(py, out.map_err(to_py_err)?)
    }

    /// The user's registered contact details, in full.
    fn contacts(&self, py: Python<'_>, login: &str) -> PyResult<Contacts> {
        let out = block_on(py, self.core.get()?.contacts(login))?;
        Contacts::from_core(py, out.map_err(to_py_err)?)
    }

    /// Change contact details (see `Sspr.update_contacts`).
    #[pyo3(signature = (login, email = None, phone = None, *, clear_email = false, clear_phone = false, admin = None, ctx = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_contacts(
        &self,
        py: Python<'_>,
        login: &str,
        email: Option<String>,
        phone: Option<String>,
        clear_email: bool,
        clear_phone: bool,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<Contacts> {
        let update = contact_update(email, phone, clear_email, clear_phone)?;
        let (ctx, actor) = (context(ctx.as_ref()), actor(admin));
        let out = block_on(py, self.core.get()?.update_contacts(&actor, login, update, &ctx))?;
        Contacts::from_core(py, out.map_err(to_py_err)?)
    }

    /// Enable or disable SSPR for a user (administrators only: give `admin`).
    #[pyo3(signature = (login, enabled, *, admin = None, ctx = None))]
    fn set_enabled(
        &self,
        py: Python<'_>,
        login: &str,
        enabled: bool,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<()> {
        let (ctx, actor) = (context(ctx.as_ref()), actor(admin));
        block_on(py, self.core.get()?.set_enabled(&actor, login, enabled, &ctx))?.map_err(to_py_err)
    }

    /// Everything about one user's SSPR state.
    fn status(&self, py: Python<'_>, login: &str) -> PyResult<UserStatus> {
        let out = block_on(py, self.core.get()?.status(login))?;
        out.map(UserStatus::from).map_err(to_py_err)
    }

    /// Check a user's own password (see `Sspr.sign_in`).
    #[pyo3(signature = (login, password, ctx = None))]
    fn sign_in(
        &self,
        py: Python<'_>,
        login: &str,
        password: SecretArg,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<SignedIn> {
        let (ctx, password) = (context(ctx.as_ref()), password.into_password());
        let out = block_on(py, self.core.get()?.sign_in(login, &password, &ctx))?;
        out.map(SignedIn::from).map_err(to_py_err)
    }

    /// Users whose login or display name contains `query` (admin search), at most `limit`.
    #[pyo3(signature = (query, limit = 50))]
    fn search_users(&self, py: Python<'_>, query: &str, limit: usize) -> PyResult<Vec<UserStatus>> {
        let out = block_on(py, self.core.get()?.search_users(query, limit))?;
        out.map(|users| users.into_iter().map(UserStatus::from).collect()).map_err(to_py_err)
    }

    /// Lift a block (administrators only: give `admin`).
    #[pyo3(signature = (login, *, admin = None, ctx = None))]
    fn unblock(
        &self,
        py: Python<'_>,
        login: &str,
        admin: Option<String>,
        ctx: Option<Py<RequestContext>>,
    ) -> PyResult<()> {
        let (ctx, actor) = (context(ctx.as_ref()), actor(admin));
        block_on(py, self.core.get()?.unblock(&actor, login, &ctx))?.map_err(to_py_err)
    }
}
