//! `sspr.backends.from_config`: every backend of an engine from the configuration the
//! portal reads (sspr-backends' `config`, the one schema and the one builder), given as a
//! dict or a TOML file. Only the conversion is here: dict → JSON → `BackendsConfig`.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sspr_backends::config::{BackendsConfig, BuildContext};
use sspr_core::{AuditSink, ContactStore, Directory, Notifier, StateStore};

use super::{MemoryDirectory, Outbox};
use crate::errors::{config_error, to_py_err};
use crate::runtime::{InRuntime, block_on};

/// One backend built from configuration: pass it to `Sspr` / `BlockingSspr` in its slot.
#[pyclass(frozen, module = "sspr.backends")]
pub(crate) struct Configured {
    pub(crate) slot: InRuntime<Slot>,
}

/// Which slot a configured backend fills.
pub(crate) enum Slot {
    Directory(Arc<dyn Directory>),
    Contacts(Arc<dyn ContactStore>),
    State(Arc<dyn StateStore>),
    Notifier(Arc<dyn Notifier>),
    Audit(Arc<dyn AuditSink>),
    PasswordChecker(Arc<dyn sspr_core::PasswordChecker>),
    /// `[bot_challenge]`: the verifier and when `begin_reset` asks for it.
    BotChallenge(Arc<dyn sspr_core::BotChallenge>, sspr_core::ChallengePolicy),
}

#[pymethods]
impl Configured {
    fn __repr__(&self) -> String {
        match self.slot.get() {
            Ok(Slot::Directory(d)) => format!("Configured({d:?})"),
            Ok(Slot::Contacts(c)) => format!("Configured({c:?})"),
            Ok(Slot::State(s)) => format!("Configured({s:?})"),
            Ok(Slot::Notifier(n)) => format!("Configured({n:?})"),
            Ok(Slot::Audit(a)) => format!("Configured({a:?})"),
            Ok(Slot::PasswordChecker(c)) => format!("Configured({c:?})"),
            Ok(Slot::BotChallenge(v, p)) => format!("Configured({v:?}, {p:?})"),
            Err(_) => "Configured(released)".to_owned(),
        }
    }
}

/// The backends of one engine, as the configuration describes them.
#[pyclass(frozen, get_all, module = "sspr.backends")]
pub(crate) struct ConfiguredBackends {
    /// The directory.
    directory: Py<Configured>,
    /// The contact store.
    contacts: Py<Configured>,
    /// The state store.
    store: Py<Configured>,
    /// The notifier (e-mail and SMS, one per channel).
    notifier: Py<Configured>,
    /// The audit sink, when one is configured.
    audit: Option<Py<Configured>>,
    /// The `[password_checks]` (banned words, breached passwords), in their order: give them
    /// to the engine's `password_checkers`.
    password_checkers: Vec<Py<Configured>>,
    /// The `[bot_challenge]` verifier, when configured: give it to the engine's
    /// `bot_challenge`, and pass the widget's token to `begin_reset(challenge_token=...)`.
    bot_challenge: Option<Py<Configured>>,
    /// The development outbox, when a channel goes there.
    outbox: Option<Py<Outbox>>,
    /// The directory when it is the in-memory one, to fill.
    memory_directory: Option<Py<MemoryDirectory>>,
    /// Whether the state store is shared by several processes.
    state_is_shared: bool,
}

fn configured(py: Python<'_>, slot: Slot) -> PyResult<Py<Configured>> {
    Py::new(py, Configured { slot: InRuntime::new(slot) })
}

/// Build every backend from `config`: a dict with the portal's tables (`directory`, `store`,
/// `contacts`, `state`, `notifier`, `sms`, `audit`, each with its `kind`), or the path of a
/// TOML file holding them. `sspr.Secret` values are revealed to the backends' parsers.
/// `data_dir` is where default files (the SQLite file without a `path`) go.
#[pyfunction]
#[pyo3(signature = (config, *, data_dir = None))]
pub(crate) fn from_config(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    data_dir: Option<PathBuf>,
) -> PyResult<ConfiguredBackends> {
    let parsed = if let Ok(dict) = config.cast::<PyDict>() {
        let json = super::backends::config_json(py, Some(dict), &[])?;
        let value: serde_json::Value =
            serde_json::from_str(&json).map_err(|e| config_error(format!("backend configuration: {e}")))?;
        BackendsConfig::from_json_value(value)
    } else {
        let path: PathBuf =
            config.extract().map_err(|_| config_error("config is a dict or the path of a TOML file"))?;
        BackendsConfig::from_toml_file(&path)
    }
    .map_err(|e| to_py_err(e.into()))?;
    let ctx = BuildContext { data_dir: data_dir.unwrap_or_else(|| PathBuf::from(".")), ..BuildContext::default() };
    let built = block_on(py, async move { parsed.build(&ctx).await })?.map_err(|e| to_py_err(e.into()))?;
    Ok(ConfiguredBackends {
        directory: configured(py, Slot::Directory(built.directory))?,
        contacts: configured(py, Slot::Contacts(built.contacts))?,
        store: configured(py, Slot::State(built.state))?,
        notifier: configured(py, Slot::Notifier(built.notifier))?,
        audit: built.audit.map(|a| configured(py, Slot::Audit(a))).transpose()?,
        password_checkers: built
            .password_checkers
            .into_iter()
            .map(|c| configured(py, Slot::PasswordChecker(c)))
            .collect::<PyResult<_>>()?,
        bot_challenge: built.bot_challenge.map(|(v, p)| configured(py, Slot::BotChallenge(v, p))).transpose()?,
        outbox: built.outbox.map(|inner| Py::new(py, Outbox { inner })).transpose()?,
        memory_directory: built.memory_directory.map(|inner| Py::new(py, MemoryDirectory { inner })).transpose()?,
        state_is_shared: built.state_is_shared,
    })
}
