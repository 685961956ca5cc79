//! `sspr.Policy`: the core's policy, built from keyword arguments, a dict, TOML or JSON.
//! Every value is checked by the core; unknown fields are refused.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sspr_core::Policy as CorePolicy;

use crate::errors::{config_error, to_py_err};
use crate::values::{json_to_py, py_to_json};

/// The reset policy. `Policy()` is the secure default; keyword arguments set fields
/// (`Policy(pin_length=6, sms_enabled=True)`); a value out of its range raises
/// `ConfigError` naming the field. Fields read as attributes (`policy.pin_length`).
#[pyclass(frozen, module = "sspr")]
#[derive(Clone)]
pub(crate) struct Policy {
    pub(crate) inner: CorePolicy,
}

#[pymethods]
impl Policy {
    #[new]
    #[pyo3(signature = (**fields))]
    fn new(fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        match fields {
            None => Ok(Self { inner: CorePolicy::default() }),
            Some(fields) => Self::from_dict(fields),
        }
    }

    /// A policy from a dict of fields (missing ones take their defaults).
    #[staticmethod]
    fn from_dict(fields: &Bound<'_, PyDict>) -> PyResult<Self> {
        let text = py_to_json(fields.as_any()).map_err(|e| config_error(format!("policy: {e}")))?;
        Self::from_json(&text)
    }

    /// A policy from TOML text.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        CorePolicy::from_toml(text).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// A policy from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        CorePolicy::from_json(text).map(|inner| Self { inner }).map_err(to_py_err)
    }

    /// Every field, as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = serde_json::to_string(&self.inner).map_err(|e| config_error(e.to_string()))?;
        json_to_py(py, &text)
    }

    /// Every field, as TOML (a config file to start from).
    fn to_toml(&self) -> PyResult<String> {
        self.inner.to_toml().map_err(to_py_err)
    }

    /// A copy with some fields changed.
    #[pyo3(signature = (**fields))]
    fn replace(&self, py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let all = self.to_dict(py)?.cast_into::<PyDict>()?;
        if let Some(fields) = fields {
            all.update(fields.as_mapping())?;
        }
        Self::from_dict(&all)
    }

    fn __getattr__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let dict = self.to_dict(py)?;
        match dict.get_item(name) {
            Ok(value) => Ok(value),
            Err(_) => Err(pyo3::exceptions::PyAttributeError::new_err(format!("Policy has no field {name:?}"))),
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Policy>().is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let default = CorePolicy::default();
        if self.inner == default {
            return "Policy()".into();
        }
        let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
            (serde_json::to_value(&self.inner), serde_json::to_value(&default))
        else {
            return "Policy(...)".into();
        };
        let changed: Vec<String> = a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k}={}", python_literal(v)))
            .collect();
        format!("Policy({})", changed.join(", "))
    }
}

/// A policy value as Python writes it (`True`, `None`, `["44"]`), so a repr pasted back builds
/// the same policy. Strings keep JSON's escapes, which Python reads alike.
fn python_literal(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(_) | Value::String(_) => value.to_string(),
        Value::Array(items) => format!("[{}]", items.iter().map(python_literal).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), python_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
