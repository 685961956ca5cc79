//! `sspr.primitives`: the core's pure functions, for the shared test vectors
//! (`tests/vectors/`) and for tools. Each is one call into sspr-core.

use pyo3::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sspr_core::{EmailAddress, NormalizedLogin, PhoneNumber, SecretKey};
use sspr_core::{decoy, mask, password, pin};

use crate::errors::{config_error, to_py_err};
use crate::policy::Policy;
use crate::types::channel_name;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rng(seed_hex: &str) -> PyResult<ChaCha20Rng> {
    let text = seed_hex.trim();
    if text.len() != 64 || !text.is_ascii() {
        return Err(config_error("a seed is 64 hex digits"));
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        let pair = text.get(2 * i..2 * i + 2).ok_or_else(|| config_error("a seed is 64 hex digits"))?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| config_error("a seed is 64 hex digits"))?;
    }
    Ok(ChaCha20Rng::from_seed(seed))
}

/// `count` PINs of `digits` digits drawn one after another from ChaCha20 seeded with
/// `seed_hex` (`sspr_core::pin::generate`). Tests only: real PINs come from the OS-seeded
/// generator inside the engine.
#[pyfunction]
pub(crate) fn generate_pins(seed_hex: &str, digits: u32, count: usize) -> PyResult<Vec<String>> {
    let mut rng = rng(seed_hex)?;
    Ok((0..count.min(10_000)).map(|_| pin::generate(&mut rng, digits).expose_secret().to_owned()).collect())
}

/// The stored hash of `pin` for flow `flow_id` under the server key (hex).
#[pyfunction]
pub(crate) fn pin_hash(key_hex: &str, flow_id: &str, pin: &str) -> PyResult<String> {
    let key = SecretKey::from_hex(key_hex).map_err(to_py_err)?;
    Ok(hex(&pin::hash(&key, flow_id, pin)))
}

/// The words a temporary password must not contain (`password::identity_tokens`).
#[pyfunction]
pub(crate) fn identity_tokens(login: &str, display_name: &str) -> Vec<String> {
    password::identity_tokens(login, display_name)
}

/// `count` temporary passwords drawn one after another from ChaCha20 seeded with
/// `seed_hex` (`password::generate_temporary`). Tests only.
#[pyfunction]
pub(crate) fn generate_temporary_passwords(
    seed_hex: &str,
    length: u32,
    tokens: Vec<String>,
    count: usize,
) -> PyResult<Vec<String>> {
    let mut rng = rng(seed_hex)?;
    Ok((0..count.min(10_000))
        .map(|_| password::generate_temporary(&mut rng, length, &tokens).expose_secret().to_owned())
        .collect())
}

/// Entropy in bits of a temporary password of `length` characters.
#[pyfunction]
pub(crate) fn temp_password_entropy_bits(length: u32) -> f64 {
    password::temp_password_entropy_bits(length)
}

/// The decoy methods of `login`: `[(channel, masked), ...]`.
#[pyfunction]
pub(crate) fn decoy_methods(key_hex: &str, login: &str, policy: &Policy) -> PyResult<Vec<(&'static str, String)>> {
    let key = SecretKey::from_hex(key_hex).map_err(to_py_err)?;
    let login = NormalizedLogin::parse(login).map_err(to_py_err)?;
    Ok(decoy::methods(&key, &login, &policy.inner).into_iter().map(|(c, m)| (channel_name(c), m)).collect())
}

/// A login as the engine compares it (trimmed, NFKC, lower-case); `InvalidInput` if refused.
#[pyfunction]
pub(crate) fn normalize_login(login: &str) -> PyResult<String> {
    NormalizedLogin::parse(login).map(|l| l.as_str().to_owned()).map_err(to_py_err)
}

/// An e-mail address as stored; `InvalidInput` if refused.
#[pyfunction]
pub(crate) fn normalize_email(address: &str) -> PyResult<String> {
    EmailAddress::parse(address).map(|a| a.as_str().to_owned()).map_err(to_py_err)
}

/// A phone number in E.164; `InvalidInput` if refused.
#[pyfunction]
pub(crate) fn normalize_phone(number: &str) -> PyResult<String> {
    PhoneNumber::parse(number).map(|p| p.as_str().to_owned()).map_err(to_py_err)
}

/// The masked form of an e-mail address (`j***@e***.org`).
#[pyfunction]
pub(crate) fn mask_email(address: &str) -> PyResult<String> {
    EmailAddress::parse(address).map(|a| mask::email(&a)).map_err(to_py_err)
}

/// The masked form of a phone number (`+44 ******* 23`).
#[pyfunction]
pub(crate) fn mask_phone(number: &str) -> PyResult<String> {
    PhoneNumber::parse(number).map(|p| mask::phone(&p)).map_err(to_py_err)
}
