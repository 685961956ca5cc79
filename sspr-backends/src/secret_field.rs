//! Reading a configuration field that holds a secret (a password, a token, a key, a URL that
//! may carry a password) without ever quoting it in an error.
//!
//! serde's own type errors quote the value: `password = 12345678` (a numeric password typed
//! without quotes) fails with "invalid type: integer `12345678`, expected a string", and that
//! text reaches the operator's log. These functions take the value through `deserialize_any`
//! (so `serde_json::Value`, TOML and serde's buffered internally tagged enums all hand it to
//! the visitor instead of building the error themselves) and name only its type.

use std::fmt;

use serde::Deserializer;
use serde::de::{Error, Unexpected, Visitor};

/// A string field holding a secret (`#[serde(deserialize_with = "...")]`).
pub(crate) fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(SecretText)
}

/// An optional string field holding a secret (with `#[serde(default)]` when it may be left out).
// Not every feature set has an optional secret.
#[allow(dead_code)]
pub(crate) fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_option(Optional)
}

/// A list of strings each of which may hold a secret (Redis cluster node URLs).
#[allow(dead_code)]
pub(crate) fn strings<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    deserializer.deserialize_any(List)
}

struct SecretText;

/// What was found instead of what `expected` wanted, named by its type alone.
fn wrong<E: Error>(what: &'static str, expected: &dyn serde::de::Expected) -> E {
    E::invalid_type(Unexpected::Other(what), expected)
}

/// The `visit_*` methods of scalars a secret field never takes: each names the type alone
/// (serde's defaults quote the value). Sequences, maps, unit and option already do.
macro_rules! refuse_scalars {
    ($($method:ident($ty:ty) => $what:literal),* $(,)?) => {
        $(fn $method<E: Error>(self, _: $ty) -> Result<Self::Value, E> {
            Err(wrong($what, &self))
        })*
    };
}

/// The scalars other than strings.
macro_rules! refuse_non_strings {
    () => {
        refuse_scalars! {
            visit_bool(bool) => "boolean",
            visit_i64(i64) => "integer",
            visit_i128(i128) => "integer",
            visit_u64(u64) => "integer",
            visit_u128(u128) => "integer",
            visit_f64(f64) => "floating point",
            visit_char(char) => "character",
            visit_bytes(&[u8]) => "byte array",
        }
    };
}

impl<'de> Visitor<'de> for SecretText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    refuse_non_strings!();
}

struct Optional;

impl<'de> Visitor<'de> for Optional {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        string(deserializer).map(Some)
    }
}

struct List;

impl<'de> Visitor<'de> for List {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Element(item)) = seq.next_element()? {
            out.push(item);
        }
        Ok(out)
    }

    // A single URL where a list belongs is still a URL that may hold a password.
    refuse_scalars! { visit_str(&str) => "string" }
    refuse_non_strings!();
}

/// One element of [`List`], read like [`string`].
struct Element(String);

impl<'de> serde::Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string(deserializer).map(Element)
    }
}
