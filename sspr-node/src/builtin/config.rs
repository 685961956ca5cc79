//! `backends.fromConfig`: every backend of an engine from the configuration the portal reads
//! (sspr-backends' `config`, the one schema and the one builder), given as an object or the
//! path of a TOML file. Only the conversion is here: object → JSON (camelCase keys read as
//! snake_case) → `BackendsConfig`.

use napi::{Env, Result};
use napi_derive::napi;
use sspr_backends::config::{BackendsConfig, BuildContext};
use std::path::PathBuf;

use super::{MemoryDirectory, Outbox, Slot, snake_keys};
use crate::errors::to_js_error;
use crate::runtime::{Answer, run, stay_in_runtime_context};

/// One backend built from configuration: pass it to `new Sspr({...})` in its slot.
#[napi]
pub struct ConfiguredBackend {
    pub(crate) slot: Slot,
}

#[napi]
impl ConfiguredBackend {
    /// The option of `new Sspr({...})` it goes to: `directory`, `contacts`, `store`,
    /// `notifier` or `audit`.
    #[napi(getter, ts_return_type = "'directory' | 'contacts' | 'store' | 'notifier' | 'audit'")]
    pub fn slot(&self) -> &'static str {
        self.slot.option()
    }

    /// What it is (the backend's own `Debug`, which shows no secret).
    #[napi(js_name = "toString")]
    pub fn describe(&self) -> String {
        match &self.slot {
            Slot::Directory(d) => format!("ConfiguredBackend({d:?})"),
            Slot::Contacts(c) => format!("ConfiguredBackend({c:?})"),
            Slot::State(s) => format!("ConfiguredBackend({s:?})"),
            Slot::Notifier(n) => format!("ConfiguredBackend({n:?})"),
            Slot::Audit(a) => format!("ConfiguredBackend({a:?})"),
            Slot::PasswordChecker(c) => format!("ConfiguredBackend({c:?})"),
            Slot::BotChallenge(v, p) => format!("ConfiguredBackend({v:?}, {p:?})"),
        }
    }
}

/// Every backend of one engine from `backends.fromConfig`: spread it into
/// `new Sspr({ ...backends, secretKey })`.
#[napi(object, object_from_js = false)]
pub struct ConfiguredBackends {
    /// The directory.
    pub directory: ConfiguredBackend,
    /// The contact store.
    pub contacts: ConfiguredBackend,
    /// The state store.
    pub store: ConfiguredBackend,
    /// The notifier (e-mail and SMS, one per channel).
    pub notifier: ConfiguredBackend,
    /// The audit sink, when one is configured.
    pub audit: Option<ConfiguredBackend>,
    /// The `[password_checks]` (banned words, breached passwords), in order: give them to
    /// `new Sspr({ passwordCheckers })`.
    pub password_checkers: Vec<ConfiguredBackend>,
    /// The `[bot_challenge]` verifier, when configured: give it to
    /// `new Sspr({ botChallenge })` and pass the widget's token as the request context's
    /// `challengeToken` to `beginReset`.
    pub bot_challenge: Option<ConfiguredBackend>,
    /// The development outbox, when a channel goes there.
    pub outbox: Option<Outbox>,
    /// The directory when it is the in-memory one, to fill.
    pub memory_directory: Option<MemoryDirectory>,
    /// Whether the state store is shared by several processes.
    pub state_is_shared: bool,
}

fn configured(slot: Slot) -> ConfiguredBackend {
    ConfiguredBackend { slot }
}

/// Build every backend from `config`: an object with the portal's tables (`directory`,
/// `store`, `contacts`, `state`, `notifier`, `sms`, `audit`, each with its `kind`; keys in
/// camelCase or snake_case), or the path of a TOML file holding them. `dataDir` is where
/// default files (the SQLite file without a `path`) go. `index.js` offers it as
/// `backends.fromConfig`. `CONFIG` for a configuration that does not match the schema, or a
/// backend that cannot be set up (Redis and PostgreSQL connect here).
#[napi(
    ts_args_type = "config: Record<string, unknown> | string, dataDir?: string | undefined | null",
    ts_return_type = "ConfiguredBackends | Promise<ConfiguredBackends>"
)]
pub fn configure_backends<'env>(
    env: &'env Env,
    config: serde_json::Value,
    data_dir: Option<String>,
) -> Result<Answer<'env, ConfiguredBackends>> {
    stay_in_runtime_context();
    let parsed = match config {
        serde_json::Value::String(path) => BackendsConfig::from_toml_file(&PathBuf::from(path)),
        value @ serde_json::Value::Object(_) => BackendsConfig::from_json_value(snake_keys(value)),
        _ => {
            let message = "backends config: expected an object or the path of a TOML file".to_owned();
            return Err(to_js_error(env, &sspr_core::Error::Config(message)));
        }
    }
    .map_err(|e| to_js_error(env, &e.into()))?;
    let ctx = BuildContext {
        data_dir: data_dir.map_or_else(|| PathBuf::from("."), PathBuf::from),
        ..BuildContext::default()
    };
    run(env, async move { Ok(parsed.build(&ctx).await?) }, |built| {
        Ok(ConfiguredBackends {
            directory: configured(Slot::Directory(built.directory)),
            contacts: configured(Slot::Contacts(built.contacts)),
            store: configured(Slot::State(built.state)),
            notifier: configured(Slot::Notifier(built.notifier)),
            audit: built.audit.map(|a| configured(Slot::Audit(a))),
            password_checkers: built
                .password_checkers
                .into_iter()
                .map(|c| configured(Slot::PasswordChecker(c)))
                .collect(),
            bot_challenge: built.bot_challenge.map(|(v, p)| configured(Slot::BotChallenge(v, p))),
            outbox: built.outbox.map(|inner| Outbox { inner }),
            memory_directory: built.memory_directory.map(|inner| MemoryDirectory { inner }),
            state_is_shared: built.state_is_shared,
        })
    })
}
