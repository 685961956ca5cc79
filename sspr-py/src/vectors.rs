//! `sspr.primitives`: the core's pure functions, for the shared test vectors
//! (`tests/vectors/`). Each is one call into sspr-core. Only with the cargo feature
//! `vectors` (the test suite's build), not in the release wheel.

use pyo3::prelude::*;
use sspr_bind::Material;
use sspr_core::{NormalizedLogin, SecretKey};
use sspr_core::{decoy, password, pin};

use crate::engine::Policy;
use crate::errors::to_py_err;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `count` PINs of `digits` digits drawn one after another from ChaCha20 seeded with
/// `seed_hex` (sspr-bind's test-vector draws, with their bounds). Tests only: real PINs come
/// from the OS-seeded generator inside the engine.
#[pyfunction]
pub(crate) fn generate_pins(seed_hex: &str, digits: u32, count: usize) -> PyResult<Vec<String>> {
    let pins = sspr_bind::vectors::pins(Material::Hex(seed_hex), digits, count).map_err(to_py_err)?;
    Ok(pins.iter().map(|p| p.expose_secret().to_owned()).collect())
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
/// `seed_hex` (sspr-bind's test-vector draws). Tests only.
#[pyfunction]
pub(crate) fn generate_temporary_passwords(
    seed_hex: &str,
    length: u32,
    tokens: Vec<String>,
    count: usize,
) -> PyResult<Vec<String>> {
    let passwords =
        sspr_bind::vectors::temporary_passwords(Material::Hex(seed_hex), length, &tokens, count).map_err(to_py_err)?;
    Ok(passwords.iter().map(|p| p.expose_secret().to_owned()).collect())
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
    Ok(decoy::methods(&key, &login, &policy.inner).into_iter().map(|(c, m)| (c.as_str(), m)).collect())
}

/// Raise the `sspr.SsprError` of the core error `case` describes (JSON: sspr-bind's
/// `vectors::error`, as `tests/parity/answers.json` writes it), made as sspr makes every
/// error. Tests only: so the answers of every variant can be checked without staging each.
#[pyfunction]
pub(crate) fn raise_error(case: &str) -> PyResult<()> {
    let case: serde_json::Value = serde_json::from_str(case)
        .map_err(|e| to_py_err(sspr_core::Error::InvalidInput { field: "case", reason: e.to_string() }))?;
    Err(to_py_err(sspr_bind::vectors::error(&case).unwrap_or_else(|refused| refused)))
}

/// Register the test hooks in `sspr._sspr.primitives` (beside the release's checks).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(generate_pins, m)?)?;
    m.add_function(wrap_pyfunction!(pin_hash, m)?)?;
    m.add_function(wrap_pyfunction!(identity_tokens, m)?)?;
    m.add_function(wrap_pyfunction!(generate_temporary_passwords, m)?)?;
    m.add_function(wrap_pyfunction!(temp_password_entropy_bits, m)?)?;
    m.add_function(wrap_pyfunction!(decoy_methods, m)?)?;
    m.add_function(wrap_pyfunction!(raise_error, m)?)?;
    Ok(())
}
