//! `pageText` and `negotiateLocale`: the web pages' catalogue (`sspr_core::pages`, through
//! `sspr_bind::pages`), so the Express router says the portal's words in the portal's six
//! languages. Conversion only.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::{Either3, Result};
use napi_derive::napi;
use sspr_bind::pages::PageArg;

use crate::errors::to_js_error;
use crate::values::{from_chrono, invalid};

/// A message variable's value as JavaScript gives it.
type JsArg = Either3<String, f64, DateTime<Utc>>;

/// Message `id` of the pages' catalogue in the language `locale` names (`'de'`, `'fr-CH'`),
/// with `args` (strings, whole numbers >= 0 for counts, `Date`s for `$at` and `$time`,
/// written in UTC). `INVALID_INPUT` for an unknown language or message id.
#[napi(ts_args_type = "locale: string, id: string, args?: Record<string, string | number | Date>")]
pub fn page_text(env: &Env, locale: String, id: String, args: Option<HashMap<String, JsArg>>) -> Result<String> {
    let mut converted = Vec::with_capacity(args.as_ref().map_or(0, HashMap::len));
    for (name, value) in args.into_iter().flatten() {
        let value = match value {
            Either3::A(text) => PageArg::Text(text),
            // A count: a safe integer, not negative (a JavaScript number is a double).
            Either3::B(n) if n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n) =>
            {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                PageArg::Number(n as u64)
            }
            Either3::B(_) => return Err(to_js_error(env, &invalid("args", "a count is a whole number >= 0"))),
            Either3::C(at) => PageArg::Time(from_chrono(at, "args").map_err(|e| to_js_error(env, &e))?),
        };
        converted.push((name, value));
    }
    sspr_bind::pages::text(&locale, &id, &converted).map_err(|e| to_js_error(env, &e))
}

/// The language to serve (`'en'`, `'de'`, ...) for an `Accept-Language` header (absent:
/// English), among `offered` (absent: all six); English, or the first offered, when none
/// matches. `INVALID_INPUT` when `offered` names a language sspr does not have.
#[napi]
pub fn negotiate_locale(
    env: &Env,
    accept_language: Option<String>,
    offered: Option<Vec<String>>,
) -> Result<&'static str> {
    sspr_bind::pages::negotiate(accept_language.as_deref(), offered.as_deref()).map_err(|e| to_js_error(env, &e))
}
