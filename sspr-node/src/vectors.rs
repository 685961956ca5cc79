//! Thin wrappers over sspr-core's pure functions, so the Node tests replay the shared test
//! vectors (`tests/vectors/`) through this binding. `index.js` exports them as `sspr.core`.

use napi::bindgen_prelude::ClassInstance;
use napi::{Env, Result};
use napi_derive::napi;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sspr_core::{EmailAddress, NormalizedLogin, PhoneNumber, SecretKey, decoy, mask, password, pin};

use crate::engine::Policy;
use crate::errors::to_js_error;
use crate::values::invalid;

fn seeded(env: &Env, seed: &str) -> Result<ChaCha20Rng> {
    let seed = sspr_bind::rng_seed(sspr_bind::Material::Hex(seed)).map_err(|e| to_js_error(env, &e))?;
    Ok(ChaCha20Rng::from_seed(seed))
}

fn key(env: &Env, hex: &str) -> Result<SecretKey> {
    SecretKey::from_hex(hex).map_err(|e| to_js_error(env, &e))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `count` PINs of `digits` digits drawn one after another from one ChaCha20 generator
/// seeded with `seed` (64 hex digits, sspr-bind's seed rule): `sspr_core::pin::generate`.
#[napi]
pub fn pin_generate(env: &Env, seed: String, digits: u32, count: u32) -> Result<Vec<String>> {
    if !(1..=64).contains(&digits) {
        return Err(to_js_error(env, &invalid("digits", "1..=64")));
    }
    let mut rng = seeded(env, &seed)?;
    Ok((0..count.min(10_000)).map(|_| pin::generate(&mut rng, digits).expose_secret().to_owned()).collect())
}

/// The stored hash of `pin` for flow `flowId` under the server key `key` (hex), as hex.
#[napi]
pub fn pin_hash(env: &Env, key_hex: String, flow_id: String, pin: String) -> Result<String> {
    Ok(to_hex(&pin::hash(&key(env, &key_hex)?, &flow_id, &pin)))
}

/// The words of a login and display name a temporary password must not contain.
#[napi]
pub fn identity_tokens(login: String, display_name: String) -> Vec<String> {
    password::identity_tokens(&login, &display_name)
}

/// `count` temporary passwords of `length` drawn one after another from one generator
/// seeded with `seed`, avoiding `tokens`: `sspr_core::password::generate_temporary`.
#[napi]
pub fn temp_password_generate(
    env: &Env,
    seed: String,
    length: u32,
    tokens: Vec<String>,
    count: u32,
) -> Result<Vec<String>> {
    if !(3..=1024).contains(&length) {
        return Err(to_js_error(env, &invalid("length", "3..=1024")));
    }
    let mut rng = seeded(env, &seed)?;
    Ok((0..count.min(10_000))
        .map(|_| password::generate_temporary(&mut rng, length, &tokens).expose_secret().to_owned())
        .collect())
}

/// The entropy in bits of a temporary password of `length` characters.
#[napi]
pub fn temp_password_entropy_bits(length: u32) -> f64 {
    password::temp_password_entropy_bits(length)
}

/// A login as sspr normalises it (trimmed, NFKC, lower-case); `INVALID_INPUT` otherwise.
#[napi]
pub fn normalize_login(env: &Env, login: String) -> Result<String> {
    NormalizedLogin::parse(&login).map(|l| l.as_str().to_owned()).map_err(|e| to_js_error(env, &e))
}

/// A parsed and masked contact detail.
#[napi(object, object_from_js = false)]
pub struct Masked {
    /// The address or number as sspr stores it.
    pub normalized: String,
    /// Its masked form.
    pub masked: String,
}

/// Parse and mask an e-mail address; `INVALID_INPUT` (field `email`) when refused.
#[napi]
pub fn mask_email(env: &Env, input: String) -> Result<Masked> {
    let address = EmailAddress::parse(&input).map_err(|e| to_js_error(env, &e))?;
    Ok(Masked { masked: mask::email(&address), normalized: address.as_str().to_owned() })
}

/// Parse and mask a phone number, a national format read in `region` (the policy's
/// `default_region`); `INVALID_INPUT` (field `phone`) when refused.
#[napi]
pub fn mask_phone(env: &Env, input: String, region: Option<String>) -> Result<Masked> {
    let number = PhoneNumber::parse_in(&input, region.as_deref()).map_err(|e| to_js_error(env, &e))?;
    Ok(Masked { masked: mask::phone(&number), normalized: number.as_str().to_owned() })
}

/// One decoy contact method.
#[napi(object, object_from_js = false)]
pub struct DecoyMethod {
    /// `email` or `sms`.
    #[napi(ts_type = "'email' | 'sms'")]
    pub channel: String,
    /// The masked destination shown.
    pub masked: String,
}

/// The decoy methods an unknown `login` gets under `key` (hex) and `policy`.
#[napi]
pub fn decoy_methods(
    env: &Env,
    key_hex: String,
    policy: ClassInstance<'_, Policy>,
    login: String,
) -> Result<Vec<DecoyMethod>> {
    let key = key(env, &key_hex)?;
    let login = NormalizedLogin::parse(&login).map_err(|e| to_js_error(env, &e))?;
    Ok(decoy::methods(&key, &login, &policy.inner)
        .into_iter()
        .map(|(channel, masked)| DecoyMethod { channel: channel.as_str().to_owned(), masked })
        .collect())
}

/// Throw the `SsprError` of the core error `caseJson` describes (sspr-bind's
/// `vectors::error`, as `tests/parity/answers.json` writes it), made as sspr makes every
/// error. Tests only: so the answers of every variant can be checked without staging each.
#[napi(ts_return_type = "never")]
pub fn throw_error(env: &Env, case_json: String) -> Result<()> {
    let case: serde_json::Value =
        serde_json::from_str(&case_json).map_err(|e| to_js_error(env, &invalid("case", e.to_string())))?;
    let error = sspr_bind::vectors::error(&case).unwrap_or_else(|refused| refused);
    Err(to_js_error(env, &error))
}
