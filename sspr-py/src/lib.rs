//! Python bindings of sspr: the native module `sspr._sspr` of the Python package `sspr`.
//!
//! Thin by design: every behaviour lives in `sspr-core`; this crate converts arguments,
//! answers and errors (one mapping point: `errors.rs`), adapts Python objects to the backend
//! traits, and drives the core's futures from asyncio or from a blocking call.
//! The Python side (`python/sspr/`) adds the exception classes, the backend protocols and
//! the type stubs. Build it with maturin (`pip install ./sspr-py`).

mod awaitable;
mod backends;
mod bench;
mod builtin;
mod engine;
mod errors;
mod policy;
mod primitives;
mod runtime;
mod types;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _sspr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::Sspr>()?;
    m.add_class::<engine::BlockingSspr>()?;
    m.add_class::<policy::Policy>()?;
    m.add_class::<types::Secret>()?;
    m.add_class::<types::RequestContext>()?;
    m.add_class::<types::MethodOption>()?;
    m.add_class::<types::ResetChallenge>()?;
    m.add_class::<types::PinSent>()?;
    m.add_class::<types::Verified>()?;
    m.add_class::<types::ResetOutcome>()?;
    m.add_class::<types::ContactView>()?;
    m.add_class::<types::Contacts>()?;
    m.add_class::<types::UserStatus>()?;
    m.add_class::<types::SignedIn>()?;
    m.add_class::<types::DirectoryUser>()?;
    m.add_class::<types::StoredContactView>()?;
    m.add_class::<types::Enrollment>()?;
    m.add_class::<types::Notification>()?;
    m.add_class::<backends::MemoryDirectory>()?;
    m.add_class::<backends::Outbox>()?;
    m.add_class::<backends::ChannelNotifier>()?;
    m.add_class::<backends::MemoryContactStore>()?;
    m.add_class::<backends::MemoryStateStore>()?;
    m.add_class::<backends::MemoryAuditSink>()?;
    m.add_class::<backends::ManualClock>()?;
    m.add_function(wrap_pyfunction!(primitives::generate_pins, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::pin_hash, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::identity_tokens, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::generate_temporary_passwords, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::temp_password_entropy_bits, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::decoy_methods, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::normalize_login, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::normalize_email, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::normalize_phone, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::mask_email, m)?)?;
    m.add_function(wrap_pyfunction!(primitives::mask_phone, m)?)?;
    m.add_function(wrap_pyfunction!(bench::rust_reference_flows, m)?)?;
    let backends = PyModule::new(m.py(), "backends")?;
    builtin::register(&backends)?;
    m.add_submodule(&backends)?;
    Ok(())
}
