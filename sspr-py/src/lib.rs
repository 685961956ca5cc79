//! Python bindings of sspr: the native module `sspr._sspr` of the Python package `sspr`.
//!
//! Everything here converts: Python values to sspr-core's types and back, Python objects to
//! the backend traits, and sspr-core's errors to `sspr.SsprError`s. The behaviour lives in
//! sspr-core, and the rules every binding shares (names, request contexts, completions,
//! engine options, host-store records, the per-process runtime) in sspr-core's `wire` and
//! sspr-bind. The Python side (`python/sspr/`) adds the exception classes, the backend
//! protocols and the type stubs. Build it with maturin (`pip install ./sspr-py`).
//!
//! The modules follow the same map in every binding:
//!
//! | module | holds |
//! | --- | --- |
//! | `engine` | `Sspr` and `BlockingSspr` (one declaration per operation), the policy |
//! | `values` | the classes of the API's values and their conversions; the input checks of `sspr.primitives` |
//! | `errors` | the one place core errors become Python exceptions and back |
//! | `foreign` | backends written in Python |
//! | `builtin` | the in-memory and sspr-backends classes, and which backend fills each slot |
//! | `runtime` | how the core's futures are driven from asyncio or a blocking call |
//! | `traces` | `export_traces`: the engine's spans over OTLP (sspr-bind's `traces`) |
//! | `testing` | sspr-core's conformance suite run on backends written in Python (`sspr.testing`) |
//! | `vectors`, `reference` | seeded generators for the test vectors and the benchmark reference (cargo feature `vectors`, off in the wheel) |

mod builtin;
mod engine;
mod errors;
mod foreign;
mod forwarded;
mod pages;
mod runtime;
mod testing;
mod traces;
mod values;

#[cfg(feature = "vectors")]
mod reference;
#[cfg(feature = "vectors")]
mod vectors;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _sspr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Before finalization: no Rust thread may be entering Python then (see runtime::PythonEntry).
    m.py().import("atexit")?.call_method1("register", (wrap_pyfunction!(runtime::before_exit, m)?,))?;
    m.add_class::<engine::Sspr>()?;
    m.add_class::<engine::BlockingSspr>()?;
    m.add_class::<engine::Policy>()?;
    m.add_class::<values::Secret>()?;
    m.add_class::<values::RequestContext>()?;
    m.add_class::<values::MethodOption>()?;
    m.add_class::<values::ResetChallenge>()?;
    m.add_class::<values::PinSent>()?;
    m.add_class::<values::ContactProof>()?;
    m.add_class::<values::RecoveryCode>()?;
    m.add_class::<values::RecoverySent>()?;
    m.add_class::<values::Recovered>()?;
    m.add_class::<values::EnrollmentReport>()?;
    m.add_class::<values::EnrollmentCounts>()?;
    m.add_class::<values::EnrollmentEntry>()?;
    m.add_class::<values::ReminderRun>()?;
    m.add_class::<values::Verified>()?;
    m.add_class::<values::ResetOutcome>()?;
    m.add_class::<values::ContactView>()?;
    m.add_class::<values::Contacts>()?;
    m.add_class::<values::UserStatus>()?;
    m.add_class::<values::SignedIn>()?;
    m.add_class::<values::PasswordRules>()?;
    m.add_class::<values::ChallengeWidget>()?;
    m.add_class::<values::DirectoryUser>()?;
    m.add_class::<values::StoredContactView>()?;
    m.add_class::<values::Enrollment>()?;
    m.add_class::<values::Notification>()?;
    m.add_class::<traces::TraceExport>()?;
    m.add_class::<forwarded::TrustedProxies>()?;
    m.add_function(wrap_pyfunction!(traces::export_traces, m)?)?;
    m.add_function(wrap_pyfunction!(errors::parse_name, m)?)?;
    m.add_function(wrap_pyfunction!(pages::page_text, m)?)?;
    m.add_function(wrap_pyfunction!(pages::negotiate_locale, m)?)?;
    builtin::register_memory(m)?;
    let backends = PyModule::new(m.py(), "backends")?;
    builtin::register(&backends)?;
    m.add_submodule(&backends)?;
    let primitives = PyModule::new(m.py(), "primitives")?;
    values::register_primitives(&primitives)?;
    #[cfg(feature = "vectors")]
    {
        vectors::register(&primitives)?;
        primitives.add_function(wrap_pyfunction!(reference::rust_reference_flows, &primitives)?)?;
    }
    m.add_submodule(&primitives)?;
    let checks = PyModule::new(m.py(), "testing")?;
    testing::register(&checks)?;
    m.add_submodule(&checks)?;
    Ok(())
}
