//! `sspr.page_text` and `sspr.negotiate_locale`: the web pages' catalogue
//! (`sspr_core::pages`, through `sspr_bind::pages`), so the FastAPI and Django integrations
//! say the portal's words in the portal's six languages. Conversion only.

use std::collections::HashMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};
use sspr_bind::pages::PageArg;
use time::OffsetDateTime;

use crate::errors::to_py_err;

/// Message `id` of the pages' catalogue in the language `locale` names (`"de"`, `"fr-CH"`),
/// with `args` (`str`, `int` >= 0 for counts, an aware `datetime` for `$at` and `$time`).
/// `InvalidInput` for an unknown language or message id.
#[pyfunction]
#[pyo3(signature = (locale, id, args = None))]
pub(crate) fn page_text(locale: &str, id: &str, args: Option<HashMap<String, Bound<'_, PyAny>>>) -> PyResult<String> {
    let mut converted = Vec::with_capacity(args.as_ref().map_or(0, HashMap::len));
    for (name, value) in args.into_iter().flatten() {
        converted.push((name, page_arg(&value)?));
    }
    sspr_bind::pages::text(locale, id, &converted).map_err(to_py_err)
}

fn page_arg(value: &Bound<'_, PyAny>) -> PyResult<PageArg> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(PageArg::Text(text.to_cow()?.into_owned()));
    }
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err("page_text: a bool is not a count"));
    }
    if let Ok(n) = value.extract::<u64>() {
        return Ok(PageArg::Number(n));
    }
    if let Ok(at) = value.extract::<OffsetDateTime>() {
        return Ok(PageArg::Time(at));
    }
    Err(PyTypeError::new_err("page_text: an argument is a str, an int >= 0 or an aware datetime"))
}

/// The language to serve (`"en"`, `"de"`, ...) for an `Accept-Language` header (`None`:
/// English), among `offered` (`None`: all six); English, or the first offered, when none
/// matches. `InvalidInput` when `offered` names a language sspr does not have.
#[pyfunction]
#[pyo3(signature = (accept_language, offered = None))]
pub(crate) fn negotiate_locale(accept_language: Option<&str>, offered: Option<Vec<String>>) -> PyResult<&'static str> {
    sspr_bind::pages::negotiate(accept_language, offered.as_deref()).map_err(to_py_err)
}
