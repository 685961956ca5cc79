//! Replays `tests/parity/cases.json` through the Rust API the bindings build on
//! (`sspr_core::wire` and sspr-bind) and asserts every outcome. Python, Node, C and Kotlin
//! replay the same file through their public APIs (format: `tests/parity/README.md`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::str::FromStr;

use serde_json::{Value, json};
use sspr_bind::{ContactParts, EngineOptions, EnrollmentParts, Material, PolicyFormat};
use sspr_core::backend::Authentication;
use sspr_core::memory::{MemoryDirectory, Outbox};
use sspr_core::{
    Actor, BackendErrorKind, Channel, CompletionMode, Error, Locale, ManualClock, NewPassword, NotAllowedReason,
    Password, RequestContext,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What a case produced: a value, or an error with its details.
type Outcome = Result<Value, Value>;

fn cases() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/parity/cases.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A core error as the file writes it: its code, and the field of an `InvalidInput`.
fn error(e: &Error) -> Value {
    match e {
        Error::InvalidInput { field, .. } => json!({ "error": e.code(), "field": field }),
        _ => json!({ "error": e.code() }),
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string: {v}"))
}

fn opt_text<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// A name parsed with `FromStr` and given back with `as_str`.
fn name<T: FromStr<Err = Error>>(input: &Value, as_str: fn(T) -> &'static str) -> Outcome {
    text(input).parse::<T>().map(|v| json!(as_str(v))).map_err(|e| error(&e))
}

/// Key or seed material: `{"hex": text}` or `{"bytes": the bytes written as hex}`.
fn material(input: &Value, run: impl FnOnce(Material<'_>) -> Outcome) -> Outcome {
    if let Some(hex) = opt_text(input, "hex") {
        return run(Material::Hex(hex));
    }
    let bytes = sspr_core::hex::decode(opt_text(input, "bytes").expect("hex or bytes")).expect("bytes as hex");
    run(Material::Bytes(&bytes))
}

fn time(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(text(v), &Rfc3339).unwrap()
}

fn contact(v: &Value) -> Option<ContactParts> {
    (!v.is_null()).then(|| ContactParts {
        value: text(&v["value"]).to_owned(),
        added_at: time(&v["added_at"]),
        usable_from: time(&v["usable_from"]),
    })
}

/// The first flow id an engine seeded with `seed` gives (key, clock and login from the file).
fn first_flow_id(engine: &Value, seed: [u8; 32]) -> String {
    let key = sspr_bind::secret_key(Material::Hex(text(&engine["secret_key_hex"]))).unwrap();
    let clock = ManualClock::new(time(&engine["clock"]));
    let sspr = EngineOptions::new(key)
        .with_rng_seed(seed)
        .with_manual_clock(clock)
        .apply(sspr_core::Sspr::builder(), sspr_bind::runtime::ProcessTimer, sspr_bind::runtime::ProcessSpawner)
        .directory(MemoryDirectory::new())
        .notifier(Outbox::new())
        .build()
        .unwrap();
    let runtime = sspr_bind::runtime::handle().unwrap();
    let login = text(&engine["login"]).to_owned();
    let challenge = sspr_bind::runtime::block_on(
        runtime.guard(async move { sspr.begin_reset(&login, &RequestContext::default()).await }),
    );
    challenge.unwrap().unwrap().flow_id
}

fn replay(kind: &str, input: &Value, engine: &Value) -> Outcome {
    match kind {
        "locale" => name::<Locale>(input, Locale::as_str),
        "accept_language" => {
            let ctx = RequestContext::from_parts(None, Some(text(input))).map_err(|e| error(&e))?;
            Ok(json!(ctx.locale.as_str()))
        }
        "client_ip" => {
            let ctx = RequestContext::from_parts(Some(text(input)), None).map_err(|e| error(&e))?;
            Ok(json!(ctx.client_ip.map(|ip| ip.to_string())))
        }
        "request_context" => {
            let mut ctx = RequestContext::from_parts(opt_text(input, "client_ip"), opt_text(input, "accept_language"))
                .map_err(|e| error(&e))?;
            if let Some(locale) = opt_text(input, "locale") {
                ctx.locale = locale.parse().map_err(|e| error(&e))?;
            }
            Ok(json!({ "client_ip": ctx.client_ip.map(|ip| ip.to_string()), "locale": ctx.locale.as_str() }))
        }
        "completion_mode" => name::<CompletionMode>(input, CompletionMode::as_str),
        "new_password" => {
            let mode: CompletionMode = text(&input["mode"]).parse().map_err(|e| error(&e))?;
            let password = opt_text(input, "password").map(Password::new);
            let choice = NewPassword::from_mode(mode, password).map_err(|e| error(&e))?;
            Ok(json!(match choice {
                NewPassword::Temporary => "temporary",
                NewPassword::Chosen(_) => "chosen",
                NewPassword::UnlockOnly => "unlock_only",
            }))
        }
        "channel" => name::<Channel>(input, Channel::as_str),
        "not_allowed_reason" => name::<NotAllowedReason>(input, NotAllowedReason::as_str),
        "backend_error_kind" => name::<BackendErrorKind>(input, BackendErrorKind::as_str),
        "authentication" => name::<Authentication>(input, Authentication::as_str),
        "actor" => match Actor::from_admin_id(opt_text(input, "admin")).map_err(|e| error(&e))? {
            Actor::User => Ok(json!({ "type": "user" })),
            Actor::Admin(id) => Ok(json!({ "type": "admin", "id": id })),
        },
        "secret_key" => material(input, |m| sspr_bind::secret_key(m).map(|_| json!("ok")).map_err(|e| error(&e))),
        "rng_seed" => material(input, |m| {
            let seed = sspr_bind::rng_seed(m).map_err(|e| error(&e))?;
            Ok(json!({ "first_flow_id": first_flow_id(engine, seed) }))
        }),
        "policy" => {
            let format: PolicyFormat = text(&input["format"]).parse().map_err(|e| error(&e))?;
            let policy = sspr_bind::policy(text(&input["text"]), format).map_err(|e| error(&e))?;
            Ok(serde_json::to_value(policy).unwrap())
        }
        "error_code" => {
            let e = match text(input) {
                "InvalidInput" => Error::InvalidInput { field: "x", reason: String::new() },
                "WrongPin" => Error::WrongPin { attempts_left: 1 },
                "PinVoided" => Error::PinVoided,
                "Expired" => Error::Expired,
                "AlreadyUsed" => Error::AlreadyUsed,
                "InvalidState" => Error::InvalidState { reason: "r" },
                "RateLimited" => Error::RateLimited { retry_after: std::time::Duration::from_secs(1) },
                "Blocked" => Error::Blocked { until: OffsetDateTime::UNIX_EPOCH },
                "NotAllowed" => Error::NotAllowed { reason: NotAllowedReason::Privileged },
                "PasswordRejected" => Error::PasswordRejected {
                    refusal: sspr_core::PasswordRefusal::Unspecified,
                    reason: String::new(),
                    suggestions: Vec::new(),
                },
                "SignInFailed" => Error::SignInFailed,
                "UnknownUser" => Error::UnknownUser,
                "Config" => Error::Config(String::new()),
                "Backend" => Error::Backend { source: sspr_core::BackendError::new(BackendErrorKind::Other, "") },
                "Challenge" => Error::Challenge { reason: sspr_core::ChallengeRefusal::Required },
                other => panic!("no such variant: {other}"),
            };
            Ok(json!(e.code()))
        }
        "enrollment" => {
            let parts = EnrollmentParts {
                enabled: input["enabled"].as_bool().unwrap(),
                email: contact(&input["email"]),
                phone: contact(&input["phone"]),
                last_reset_at: (!input["last_reset_at"].is_null()).then(|| time(&input["last_reset_at"])),
                history: opt_text(input, "history").map(str::to_owned),
                version: input["version"].as_u64().unwrap(),
            };
            match parts.validate() {
                Ok(e) => Ok(json!({
                    "email": e.email.map(|c| c.value.as_str().to_owned()),
                    "phone": e.phone.map(|c| c.value.as_str().to_owned()),
                })),
                Err(e) => {
                    // "the contact store returned an invalid enrollment: <part>: <why>"
                    let part = e.message().split(": ").nth(1).unwrap_or_default().to_owned();
                    Err(json!({ "error": "backend", "backend_kind": e.kind().as_str(), "part": part }))
                }
            }
        }
        other => panic!("no replay for kind {other:?}: add one here and in every binding"),
    }
}

/// Whether `got` has every field `want` names with the same value (a policy case names only
/// the fields it is about).
fn matches(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().all(|(k, v)| g.get(k).is_some_and(|gv| matches(v, gv))),
        _ => want == got,
    }
}

#[test]
fn every_parity_case_has_its_outcome() {
    let file = cases();
    assert_eq!(file["version"], 1);
    let engine = &file["engine"];
    let mut ids = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for case in file["cases"].as_array().unwrap() {
        let id = text(&case["id"]);
        assert!(ids.insert(id.to_owned()), "duplicate id {id}");
        let expect = &case["expect"];
        let got = replay(text(&case["kind"]), &case["input"], engine);
        let ok = match (&got, expect.get("value")) {
            (Ok(value), Some(want)) => matches(want, value),
            (Err(error), None) => matches(expect, error),
            _ => false,
        };
        if !ok {
            failures.push(format!("{id}: expected {expect}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_error_code_and_name_is_in_the_file() {
    let file = cases();
    let values = |kind: &str| -> Vec<String> {
        file["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == kind)
            .filter_map(|c| c["expect"]["value"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(values("error_code"), Error::CODES);
    assert_eq!(values("completion_mode"), CompletionMode::NAMES);
    assert_eq!(values("channel"), Channel::NAMES);
    assert_eq!(values("not_allowed_reason"), NotAllowedReason::NAMES);
    assert_eq!(values("backend_error_kind"), BackendErrorKind::NAMES);
    assert_eq!(values("authentication"), Authentication::NAMES);
}
