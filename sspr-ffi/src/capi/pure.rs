//! Thin wrappers of sspr-core's pure functions, so that every language using the C API can
//! replay the shared test vectors (`tests/vectors/`) through it. Test hooks: only in a build
//! with the `vectors` feature (declared in `include/sspr.h` all the same, since the header is
//! made from the expanded crate; a program calling one fails to link against a default
//! `libsspr_ffi`). The draws and their bounds are `sspr_bind::vectors`, the same in every
//! binding.

use std::ffi::c_char;

use sspr_bind::{Material, vectors};
use sspr_core::{EmailAddress, NormalizedLogin, PhoneNumber, Policy, SecretKey, decoy, mask, password, pin};

use super::free_string;
use super::types::{raw_slice, take_box, take_slice};
use super::{SsprError, SsprStatus, guard, raw_string, str_arg};

/// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
///
/// A list of strings (`sspr_pins_generate`, ...). Free with `sspr_string_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprStringList {
    /// The strings.
    pub items: *mut *mut c_char,
    /// How many.
    pub len: usize,
}

impl SsprStringList {
    pub(crate) fn new(items: impl IntoIterator<Item = String>) -> Self {
        let (items, len) = raw_slice(items.into_iter().map(raw_string).collect());
        Self { items, len }
    }
}

/// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
///
/// Free a string list, wiping the strings (they may be PINs or passwords; NULL is allowed).
///
/// # Safety
/// `list` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_string_list_free(list: *mut SsprStringList) {
    // SAFETY: per this function's contract.
    let Some(l) = (unsafe { take_box(list) }) else { return };
    // SAFETY: made by `SsprStringList::new`.
    for s in unsafe { take_slice(l.items, l.len) } {
        // SAFETY: as above.
        unsafe { free_string(s, true) };
    }
}

/// A generator seed given as a pointer and a length (32 bytes).
///
/// # Safety
/// `seed` is NULL or points to `len` readable bytes.
unsafe fn seed_arg<'a>(seed: *const u8, len: usize) -> Result<Material<'a>, SsprError> {
    if seed.is_null() {
        return Err(SsprError::null("seed"));
    }
    // SAFETY: `len` readable bytes, per this function's contract.
    Ok(Material::Bytes(unsafe { std::slice::from_raw_parts(seed, len) }))
}

/// # Safety
/// `out` is NULL or writable.
unsafe fn put_list(out: *mut *mut SsprStringList, items: Vec<String>) -> Result<(), SsprError> {
    if out.is_null() {
        return Err(SsprError::null("out"));
    }
    // SAFETY: non-NULL and writable per this function's contract.
    unsafe { out.write(Box::into_raw(Box::new(SsprStringList::new(items)))) };
    Ok(())
}

/// # Safety
/// `out` is NULL or writable.
unsafe fn put_string(out: *mut *mut c_char, text: impl Into<String>) -> Result<(), SsprError> {
    if out.is_null() {
        return Err(SsprError::null("out"));
    }
    // SAFETY: non-NULL and writable per this function's contract.
    unsafe { out.write(raw_string(text)) };
    Ok(())
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// Draw `count` PINs of `digits` digits one after another from one ChaCha20 generator seeded
    /// with the `seed_len` (32) bytes at `seed` (`sspr_core::pin::generate`). `*out`: free with
    /// `sspr_string_list_free`.
    ///
    /// # Safety
    /// `seed` is NULL or `seed_len` readable bytes; `out` and `error_out` are NULL or writable.
    fn sspr_pins_generate(
        seed: *const u8,
        seed_len: usize,
        digits: u32,
        count: usize,
        out: *mut *mut SsprStringList,
    ) {
        let pins = vectors::pins(seed_arg(seed, seed_len)?, digits, count)?;
        put_list(out, pins.iter().map(|p| p.expose_secret().to_owned()).collect())
    }
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// The hash stored for `pin` of flow `flow_id` under the server key `key_hex`, as 64
    /// lower-case hex digits (`sspr_core::pin::hash`). `*out`: free with `sspr_string_free`.
    ///
    /// # Safety
    /// Strings are NULL or NUL-terminated; `out` and `error_out` are NULL or writable.
    fn sspr_pin_hash(
        key_hex: *const c_char,
        flow_id: *const c_char,
        pin: *const c_char,
        out: *mut *mut c_char,
    ) {
        let key = SecretKey::from_hex(str_arg(key_hex, "key_hex")?)?;
        let hash = pin::hash(&key, str_arg(flow_id, "flow_id")?, str_arg(pin, "pin")?);
        put_string(out, hash.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// The tokens of a user's identity a temporary password must not contain
    /// (`sspr_core::password::identity_tokens`). `*out`: free with `sspr_string_list_free`.
    ///
    /// # Safety
    /// Strings are NULL or NUL-terminated; `out` and `error_out` are NULL or writable.
    fn sspr_identity_tokens(
        login: *const c_char,
        display_name: *const c_char,
        out: *mut *mut SsprStringList,
    ) {
        let tokens = password::identity_tokens(str_arg(login, "login")?, str_arg(display_name, "display_name")?);
        put_list(out, tokens)
    }
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// Draw `count` temporary passwords of `length` characters one after another from one
    /// ChaCha20 generator seeded with the `seed_len` (32) bytes at `seed`, avoiding the identity
    /// tokens of `login` and `display_name` (`sspr_core::password::generate_temporary`). `*out`:
    /// free with `sspr_string_list_free` (it wipes them).
    ///
    /// # Safety
    /// `seed` is NULL or `seed_len` readable bytes; strings are NULL or NUL-terminated; `out`
    /// and `error_out` are NULL or writable.
    fn sspr_temp_passwords_generate(
        seed: *const u8,
        seed_len: usize,
        length: u32,
        login: *const c_char,
        display_name: *const c_char,
        count: usize,
        out: *mut *mut SsprStringList,
    ) {
        let tokens = password::identity_tokens(str_arg(login, "login")?, str_arg(display_name, "display_name")?);
        let passwords = vectors::temporary_passwords(seed_arg(seed, seed_len)?, length, &tokens, count)?;
        put_list(out, passwords.iter().map(|p| p.expose_secret().to_owned()).collect())
    }
}

/// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
///
/// The entropy in bits of a temporary password of `length` characters
/// (`sspr_core::password::temp_password_entropy_bits`).
#[unsafe(no_mangle)]
pub extern "C" fn sspr_temp_password_entropy_bits(length: u32) -> f64 {
    guard(f64::NAN, || password::temp_password_entropy_bits(length))
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// The decoy methods an unknown `login` is offered under `key_hex` and the policy
    /// `policy_json` (NULL for the defaults): `*channels_out` gets `"email"`/`"sms"` and
    /// `*masked_out` the masks, in order; `*normalized_out` the normalised login. Free the lists
    /// with `sspr_string_list_free` and the string with `sspr_string_free`.
    ///
    /// # Safety
    /// Strings are NULL or NUL-terminated; the outs and `error_out` are NULL or writable.
    fn sspr_decoy_methods(
        key_hex: *const c_char,
        policy_json: *const c_char,
        login: *const c_char,
        normalized_out: *mut *mut c_char,
        channels_out: *mut *mut SsprStringList,
        masked_out: *mut *mut SsprStringList,
    ) {
        if normalized_out.is_null() || channels_out.is_null() || masked_out.is_null() {
            return Err(SsprError::null("out"));
        }
        let key = SecretKey::from_hex(str_arg(key_hex, "key_hex")?)?;
        let policy = match super::opt_str_arg(policy_json, "policy_json")? {
            Some(json) => Policy::from_json(json)?,
            None => Policy::default(),
        };
        let login = NormalizedLogin::parse(str_arg(login, "login")?)?;
        let (channels, masked): (Vec<String>, Vec<String>) = decoy::methods(&key, &login, &policy)
            .into_iter()
            .map(|(channel, masked)| (channel.method_id().to_owned(), masked))
            .unzip();
        put_string(normalized_out, login.as_str())?;
        put_list(channels_out, channels)?;
        put_list(masked_out, masked)
    }
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// Parse an e-mail address (`kind` `"email"`) or a phone number (`"phone"`, a national
    /// format read in `region`, the policy's `default_region`, when not NULL) as typed, and
    /// mask it: `*normalized_out` and `*masked_out` (free each with `sspr_string_free`). Input
    /// that is refused is `SSPR_STATUS_INVALID_INPUT` with field `"email"` / `"phone"`.
    ///
    /// # Safety
    /// Strings are NULL or NUL-terminated; the outs and `error_out` are NULL or writable.
    fn sspr_mask(
        kind: *const c_char,
        input: *const c_char,
        region: *const c_char,
        normalized_out: *mut *mut c_char,
        masked_out: *mut *mut c_char,
    ) {
        if normalized_out.is_null() || masked_out.is_null() {
            return Err(SsprError::null("out"));
        }
        let input = str_arg(input, "input")?;
        let (normalized, masked) = match str_arg(kind, "kind")? {
            "email" => {
                let address = EmailAddress::parse(input)?;
                (address.as_str().to_owned(), mask::email(&address))
            }
            "phone" => {
                let number = PhoneNumber::parse_in(input, super::opt_str_arg(region, "region")?)?;
                (number.as_str().to_owned(), mask::phone(&number))
            }
            _ => return Err(SsprError::invalid("kind", "\"email\" or \"phone\"")),
        };
        put_string(normalized_out, normalized)?;
        put_string(masked_out, masked)
    }
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// Normalise a login as typed (`NormalizedLogin::parse`: trimmed, NFKC, lower-case).
    /// `*out`: free with `sspr_string_free`.
    ///
    /// # Safety
    /// `login` is NULL or NUL-terminated; `out` and `error_out` are NULL or writable.
    fn sspr_normalize_login(
        login: *const c_char,
        out: *mut *mut c_char,
    ) {
        put_string(out, NormalizedLogin::parse(str_arg(login, "login")?)?.as_str())
    }
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// `sspr_normalize_login` for a login given as `len` bytes, which may hold NUL (a C string
    /// cannot): what a login from a length-prefixed source (a form field, JSON) meets. Bytes
    /// that are not UTF-8 are `SSPR_STATUS_INVALID_UTF8`.
    ///
    /// # Safety
    /// `login` is NULL or points to `len` readable bytes; `out` and `error_out` are NULL or
    /// writable.
    fn sspr_normalize_login_bytes(
        login: *const u8,
        len: usize,
        out: *mut *mut c_char,
    ) {
        let bytes: &[u8] = match (login.is_null(), len) {
            (_, 0) => &[],
            (true, _) => return Err(SsprError::null("login")),
            (false, _) => std::slice::from_raw_parts(login, len),
        };
        let text = std::str::from_utf8(bytes).map_err(|_| SsprError::utf8("login"))?;
        put_string(out, NormalizedLogin::parse(text)?.as_str())
    }
}

status_fn! {
    /// Test hook, only in a library built with the cargo feature `vectors` (not in a default build).
    ///
    /// Parse and validate a policy document (JSON; missing fields take their defaults). On
    /// success `*out` is the whole effective policy as JSON (free with `sspr_string_free`); a
    /// refused policy is `SSPR_STATUS_CONFIG` whose message names the field.
    ///
    /// # Safety
    /// `policy_json` is NULL or NUL-terminated; `out` and `error_out` are NULL or writable.
    fn sspr_policy_check(
        policy_json: *const c_char,
        out: *mut *mut c_char,
    ) {
        let policy = Policy::from_json(str_arg(policy_json, "policy_json")?)?;
        let json = serde_json::to_string(&policy)
            .map_err(|e| SsprError::new(SsprStatus::Internal, format!("policy as JSON: {e}")))?;
        put_string(out, json)
    }
}

#[cfg(test)]
mod tests {
    /// Every C item of this module (built only with `vectors`) is marked as a test hook in the
    /// committed header, so a C reader knows a default `libsspr_ffi` does not have it.
    #[test]
    fn the_header_marks_every_test_hook() {
        // This module's own items, not the test below (whose text names the patterns).
        let source = include_str!("pure.rs").split("#[cfg(test)]").next().unwrap_or_default();
        let header: Vec<&str> = include_str!("../../include/sspr.h").lines().collect();
        let items: Vec<String> = source
            .lines()
            .filter_map(|line| {
                let (_, rest) = line.split_once("fn sspr_").or_else(|| line.split_once("pub struct Sspr"))?;
                let name = rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next()?;
                let prefix = if line.contains("fn sspr_") { "sspr_" } else { "Sspr" };
                Some(format!("{prefix}{name}"))
            })
            .collect();
        assert!(items.len() >= 12, "{items:?}");
        for item in items {
            let declared = header
                .iter()
                .position(|l| l.contains(&format!(" {item}(")) || l.contains(&format!("struct {item} {{")));
            let Some(at) = declared else { panic!("{item} is not in the header") };
            let comment = header[..at].iter().rev().take_while(|l| l.starts_with("//"));
            assert!(
                comment
                    .clone()
                    .any(|l| l.contains("Test hook, only in a library built with the cargo feature `vectors`")),
                "{item} is not marked as a test hook in the header"
            );
        }
    }
}
