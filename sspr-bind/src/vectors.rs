//! The draws the shared test vectors (`tests/vectors/`) replay, with one set of bounds for
//! every binding's test hooks (feature `vectors`; never in a release build of a binding).
//!
//! The hooks disagreed: PIN digits were 1..=64 in Node and C and unchecked in Python (4
//! billion digits would hang it); temporary-password lengths were 3..=1024 in Node, 12..=256
//! in C and unchecked in Python;
//! more than 10 000 draws were refused by C and silently cut to 10 000 by Python and Node.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sspr_core::{Error, Password, Pin, password, pin};

use crate::options::{Material, rng_seed};

/// The most draws one call makes.
pub const MAX_COUNT: usize = 10_000;
/// PIN digits a hook accepts (wider than the policy's 6..=12: the vectors probe the edges).
pub const PIN_DIGITS: std::ops::RangeInclusive<u32> = 1..=64;
/// Temporary-password lengths a hook accepts (wider than the policy's 12..=64, as above).
pub const PASSWORD_LENGTH: std::ops::RangeInclusive<u32> = 3..=1024;

fn check(field: &'static str, ok: bool, reason: &str) -> Result<(), Error> {
    if ok { Ok(()) } else { Err(Error::InvalidInput { field, reason: reason.to_owned() }) }
}

fn count_ok(count: usize) -> Result<(), Error> {
    check("count", count <= MAX_COUNT, "at most 10000 draws")
}

/// `count` PINs of `digits` digits drawn one after another from one ChaCha20 generator
/// seeded with `seed` (`sspr_core::pin::generate`).
///
/// # Errors
/// `config` for a bad seed; `invalid_input` (field `digits` or `count`) out of bounds.
pub fn pins(seed: Material<'_>, digits: u32, count: usize) -> Result<Vec<Pin>, Error> {
    let seed = rng_seed(seed)?;
    check("digits", PIN_DIGITS.contains(&digits), "1..=64 digits")?;
    count_ok(count)?;
    let mut rng = ChaCha20Rng::from_seed(seed);
    Ok((0..count).map(|_| pin::generate(&mut rng, digits)).collect())
}

/// `count` temporary passwords of `length` characters, free of `tokens`, drawn one after
/// another from one generator seeded with `seed` (`sspr_core::password::generate_temporary`).
///
/// # Errors
/// `config` for a bad seed; `invalid_input` (field `length` or `count`) out of bounds.
pub fn temporary_passwords(
    seed: Material<'_>,
    length: u32,
    tokens: &[String],
    count: usize,
) -> Result<Vec<Password>, Error> {
    let seed = rng_seed(seed)?;
    check("length", PASSWORD_LENGTH.contains(&length), "3..=1024 characters")?;
    count_ok(count)?;
    let mut rng = ChaCha20Rng::from_seed(seed);
    Ok((0..count).map(|_| password::generate_temporary(&mut rng, length, tokens)).collect())
}

/// The argument names an `InvalidInput` made by [`error`] may name (a core error names a
/// `&'static str`; these are the ones the answers' fixture uses).
const FIELDS: &[&str] = &["login", "pin", "method_id", "password", "confirm", "mode", "challenge_token", "flow_id"];

/// The core error `case` describes (`tests/parity/answers.json`'s `error`: `{"variant":
/// "WrongPin", "attempts_left": 2}`, the variant's fields by their Rust names, names by the
/// core's stable names, `until` in RFC 3339, `retry_after_ms`), so every binding's error
/// object and router can be checked against the one rule. Tests only: sspr makes its errors
/// itself.
///
/// # Errors
/// `invalid_input` naming `variant` or the field of `case` that is missing or wrong.
pub fn error(case: &serde_json::Value) -> Result<Error, Error> {
    let text = move |name: &'static str| {
        case.get(name).and_then(serde_json::Value::as_str).ok_or_else(|| bad(name, "missing or not text"))
    };
    let number = move |name: &'static str| {
        case.get(name).and_then(serde_json::Value::as_u64).ok_or_else(|| bad(name, "missing or not a count"))
    };
    Ok(match text("variant")? {
        "InvalidInput" => {
            let field = text("field")?;
            let field = FIELDS.iter().copied().find(|f| *f == field).ok_or_else(|| bad("field", "not in FIELDS"))?;
            Error::InvalidInput { field, reason: text("reason").unwrap_or("refused").to_owned() }
        }
        "WrongPin" => Error::WrongPin {
            attempts_left: u32::try_from(number("attempts_left")?).map_err(|_| bad("attempts_left", "too large"))?,
        },
        "PinVoided" => Error::PinVoided,
        "Expired" => Error::Expired,
        "AlreadyUsed" => Error::AlreadyUsed,
        "InvalidState" => Error::InvalidState { reason: "a test's state" },
        "RateLimited" => {
            Error::RateLimited { retry_after: std::time::Duration::from_millis(number("retry_after_ms")?) }
        }
        "Blocked" => Error::Blocked {
            until: time::OffsetDateTime::parse(text("until")?, &time::format_description::well_known::Rfc3339)
                .map_err(|_| bad("until", "not RFC 3339"))?,
        },
        "NotAllowed" => Error::NotAllowed { reason: text("reason")?.parse()? },
        "PasswordRejected" => Error::PasswordRejected {
            refusal: text("refusal")?.parse()?,
            reason: text("reason")?.to_owned(),
            suggestions: Vec::new(),
        },
        "SignInFailed" => Error::SignInFailed,
        "Challenge" => Error::Challenge { reason: text("reason")?.parse()? },
        "UnknownUser" => Error::UnknownUser,
        "Config" => Error::Config(text("message")?.to_owned()),
        "Backend" => {
            Error::Backend { source: sspr_core::BackendError::new(text("kind")?.parse()?, text("message")?.to_owned()) }
        }
        _ => return Err(bad("variant", "not a variant of sspr_core::Error")),
    })
}

fn bad(field: &'static str, reason: &str) -> Error {
    Error::InvalidInput { field, reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    fn vectors(name: &str) -> serde_json::Value {
        let path = format!("{}/../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_pin_and_password_vectors_replay_within_the_bounds() {
        for case in vectors("pins.json")["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "generate") {
            let count = usize::try_from(case["count"].as_u64().unwrap()).unwrap();
            let digits = u32::try_from(case["digits"].as_u64().unwrap()).unwrap();
            let drawn = pins(Material::Hex(case["seed"].as_str().unwrap()), digits, count).unwrap();
            let drawn: Vec<&str> = drawn.iter().map(Pin::expose_secret).collect();
            assert_eq!(serde_json::json!(drawn), case["pins"], "{}", case["name"]);
        }
        for case in
            vectors("temp_passwords.json")["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "generate")
        {
            let count = usize::try_from(case["count"].as_u64().unwrap()).unwrap();
            let length = u32::try_from(case["length"].as_u64().unwrap()).unwrap();
            let tokens: Vec<String> = serde_json::from_value(case["tokens"].clone()).unwrap();
            let seed = Material::Hex(case["seed"].as_str().unwrap());
            let drawn = temporary_passwords(seed, length, &tokens, count).unwrap();
            let drawn: Vec<&str> = drawn.iter().map(Password::expose_secret).collect();
            assert_eq!(serde_json::json!(drawn), case["passwords"], "{}", case["name"]);
        }
    }

    /// `tests/parity/answers.json` in Rust: what sspr-bind hands every binding.
    #[test]
    fn every_answer_of_the_fixture() {
        let path = format!("{}/../tests/parity/answers.json", env!("CARGO_MANIFEST_DIR"));
        let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let cases = file["cases"].as_array().unwrap();
        let mut variants = std::collections::BTreeSet::new();
        for case in cases {
            let id = case["id"].as_str().unwrap();
            let err = error(&case["error"]).unwrap();
            variants.insert(case["error"]["variant"].as_str().unwrap());
            let answer = crate::pages::describe(&err);
            let expect = &case["expect"];
            assert_eq!(u64::from(answer.status), expect["status"].as_u64().unwrap(), "{id}");
            assert_eq!(answer.code, expect["code"], "{id}");
            assert_eq!(answer.message_id, expect["message_id"], "{id}");
            let fields: serde_json::Map<String, serde_json::Value> = answer
                .fields
                .iter()
                .map(|(name, value)| {
                    let value = match value {
                        crate::pages::AnswerField::Text(t) => serde_json::json!(t),
                        crate::pages::AnswerField::Number(n) => serde_json::json!(n),
                    };
                    ((*name).to_owned(), value)
                })
                .collect();
            assert_eq!(serde_json::Value::Object(fields), expect["fields"], "{id}");
            for (locale, want) in expect["text"].as_object().unwrap() {
                let said = crate::pages::text(locale, answer.message_id, &answer.message_args).unwrap();
                assert_eq!(said, want.as_str().unwrap(), "{id} in {locale}");
            }
        }
        assert_eq!(variants.len(), 15, "every variant of sspr_core::Error has a case: {variants:?}");
    }

    #[test]
    fn out_of_bounds_is_refused_not_cut() {
        let seed = Material::Bytes(&[7; 32]);
        let field = |e: Error| match e {
            Error::InvalidInput { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(pins(seed, 0, 1).unwrap_err()), "digits");
        assert_eq!(field(pins(seed, 65, 1).unwrap_err()), "digits");
        assert_eq!(field(pins(seed, 8, MAX_COUNT + 1).unwrap_err()), "count");
        assert_eq!(field(temporary_passwords(seed, 2, &[], 1).unwrap_err()), "length");
        assert_eq!(field(temporary_passwords(seed, 1025, &[], 1).unwrap_err()), "length");
        assert_eq!(field(temporary_passwords(seed, 16, &[], MAX_COUNT + 1).unwrap_err()), "count");
        assert_eq!(pins(Material::Bytes(&[7; 31]), 8, 1).unwrap_err().code(), "config");
        assert_eq!(pins(seed, 8, MAX_COUNT).unwrap().len(), MAX_COUNT);
    }
}
