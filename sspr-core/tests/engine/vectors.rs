//! Test vectors: `tests/vectors/*.json` at the workspace root, replayed through sspr-core's
//! public functions. The Python, Node and FFI test suites replay the same files, so every
//! language provably computes the same PINs, hashes, temporary passwords, decoys, masks,
//! policy checks and login normalisation (see `tests/vectors/README.md`).
//!
//! Each test reads the inputs of every case, computes the outputs with sspr-core, and
//! compares them with the outputs stored in the file. With `SSPR_BLESS=1` it writes the
//! computed outputs into the file instead (inputs are kept as they are):
//!
//! ```text
//! SSPR_BLESS=1 cargo test -p sspr-core --test engine vectors
//! ```
//!
//! Besides the comparison, each test checks the outputs against facts that do not come from
//! the implementation (a PIN hash recomputed with `hmac` + `sha2`, PINs and passwords drawn
//! again from `rand_chacha` by the documented algorithm, an entropy counted by a different
//! method, masks rebuilt from the address), so blessing never writes a value nobody checked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use hmac::{Hmac, Mac};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use sspr_core::{EmailAddress, Error, MAX_LOGIN_CHARS, NormalizedLogin, PhoneNumber, Policy, SecretKey};
use sspr_core::{decoy, mask, password, pin};

/// Every vector file, each replayed by one test below.
const FILES: [&str; 6] =
    ["pins.json", "temp_passwords.json", "decoys.json", "masks.json", "policy.json", "logins.json"];

/// Floats (entropy bits) are compared with this tolerance: JSON round trips of a float may
/// differ in the last bit between parsers.
const FLOAT_TOLERANCE: f64 = 1e-9;

// ---------------------------------------------------------------------------------------
// The replay machinery.

fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
}

fn blessing() -> bool {
    std::env::var("SSPR_BLESS").is_ok_and(|v| v == "1")
}

type Case = Map<String, Value>;

/// Replay every case of `file`. `run` computes a case's outputs from its inputs; `outputs`
/// names every output key the file's cases may hold (in the order they are written).
/// Returns each case with its computed outputs, for checks across cases.
fn replay(file: &str, outputs: &[&str], run: impl Fn(&Case) -> Case) -> Vec<(Case, Case)> {
    let path = vectors_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let description = doc.get("description").and_then(Value::as_str).unwrap_or("");
    assert!(!description.trim().is_empty(), "{file}: needs a \"description\"");
    let cases = doc.get_mut("cases").and_then(Value::as_array_mut).unwrap_or_else(|| panic!("{file}: no \"cases\""));
    assert!(!cases.is_empty(), "{file}: no cases");

    let bless = blessing();
    let mut mismatches = Vec::new();
    let mut results = Vec::new();
    for (i, case) in cases.iter_mut().enumerate() {
        let case = case.as_object_mut().unwrap_or_else(|| panic!("{file}: case {i} is not an object"));
        let name = case.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
        assert!(!name.is_empty(), "{file}: case {i} needs a \"name\"");
        let actual = run(case);
        for key in actual.keys() {
            assert!(outputs.contains(&key.as_str()), "{file}: output `{key}` is not declared");
        }
        let expected: Case =
            outputs.iter().filter_map(|k| case.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect();
        if bless {
            for key in outputs {
                case.remove(*key);
            }
            case.extend(actual.clone());
        } else if !same(&Value::Object(expected.clone()), &Value::Object(actual.clone())) {
            mismatches.push(format!(
                "  case {i} ({name}):\n    file:           {}\n    implementation: {}",
                Value::Object(expected),
                Value::Object(actual.clone())
            ));
        }
        results.push((case.clone(), actual));
    }

    if bless {
        std::fs::write(&path, render(&doc, outputs)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    } else {
        assert!(
            mismatches.is_empty(),
            "{file}: {} case(s) differ from the implementation:\n{}\n\
             If the change is intended, regenerate with `SSPR_BLESS=1 cargo test -p sspr-core --test engine vectors` \
             and review the diff: every binding must then follow.",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
    results
}

/// Equality of JSON values, with floats compared within [`FLOAT_TOLERANCE`].
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            matches!((x.as_f64(), y.as_f64()), (Some(x), Some(y)) if (x - y).abs() <= FLOAT_TOLERANCE)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Pretty-print a vector file: two-space indent, ASCII only (every other character as a
/// `\uXXXX` escape, so invisible and bidi characters are visible and survive any editor),
/// keys in a fixed order: `name`, `kind`, the inputs A-Z, then the outputs in `outputs`
/// order; nested objects A-Z.
fn render(doc: &Value, outputs: &[&str]) -> String {
    fn rank(key: &str, depth: usize, outputs: &[&str]) -> (usize, usize, String) {
        match (depth, key) {
            (0, "description") => (0, 0, String::new()),
            (0, "cases") => (1, 0, String::new()),
            (2, "name") => (0, 0, String::new()),
            (2, "kind") => (1, 0, String::new()),
            (2, k) => match outputs.iter().position(|o| *o == k) {
                Some(i) => (3, i, String::new()),
                None => (2, 0, k.to_owned()),
            },
            (_, k) => (0, 0, k.to_owned()),
        }
    }
    fn write(out: &mut String, value: &Value, indent: usize, depth: usize, outputs: &[&str]) {
        let pad = |n: usize| "  ".repeat(n);
        match value {
            Value::Array(items) if !items.is_empty() => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    out.push_str(&pad(indent + 1));
                    write(out, item, indent + 1, depth + 1, outputs);
                }
                let _ = write!(out, "\n{}]", pad(indent));
            }
            Value::Object(map) if !map.is_empty() => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_by_key(|k| rank(k, depth, outputs));
                out.push('{');
                for (i, key) in keys.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    let _ = write!(out, "{}{}: ", pad(indent + 1), ascii_json(&Value::String((*key).clone())));
                    write(out, &map[*key], indent + 1, depth + 1, outputs);
                }
                let _ = write!(out, "\n{}}}", pad(indent));
            }
            scalar => out.push_str(&ascii_json(scalar)),
        }
    }
    let mut out = String::new();
    write(&mut out, doc, 0, 0, outputs);
    out.push('\n');
    out
}

/// A scalar as JSON text with every non-ASCII character escaped.
fn ascii_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}

fn text<'a>(case: &'a Case, key: &str) -> &'a str {
    case.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("case needs a string \"{key}\": {case:?}"))
}

fn number(case: &Case, key: &str) -> u32 {
    case.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or_else(|| panic!("case needs a number \"{key}\": {case:?}"))
}

fn hex_decode(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd-length hex {hex:?}");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn seed(case: &Case) -> [u8; 32] {
    let hex = text(case, "seed");
    assert_eq!(hex.len(), 64, "a seed is 64 hex digits (32 bytes)");
    hex_decode(hex).try_into().expect("32 bytes")
}

/// The outputs of an input error: `{"error": "invalid_input", "field": ...}`.
fn input_error(error: Error) -> Case {
    match error {
        Error::InvalidInput { field, .. } => {
            Case::from_iter([("error".into(), json!("invalid_input")), ("field".into(), json!(field))])
        }
        other => panic!("expected an input error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Independent references: the documented algorithms, written again from their description
// with the `hmac`, `sha2` and `rand_chacha` crates, not with sspr-core.

type HmacSha256 = Hmac<Sha256>;

/// The sub-key for `label`: HMAC-SHA256(key, "sspr/v1/" + label).
fn reference_sub_key(key: &[u8], label: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(format!("sspr/v1/{label}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// HMAC-SHA256 under `sub_key` of the parts, each preceded by its length as a u64 big-endian.
fn reference_mac(sub_key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(sub_key).unwrap();
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A uniform index below `bound` from the generator's next 32-bit words, redrawing the words
/// at or above the largest multiple of `bound` (no modulo bias).
fn reference_below(rng: &mut ChaCha20Rng, bound: u64) -> u64 {
    let zone = (1u64 << 32) - (1u64 << 32) % bound;
    loop {
        let word = u64::from(rng.next_u32());
        if word < zone {
            return word % bound;
        }
    }
}

fn reference_pins(seed: [u8; 32], digits: u32, count: u32) -> Vec<String> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    (0..count).map(|_| (0..digits).map(|_| char::from(b'0' + reference_below(&mut rng, 10) as u8)).collect()).collect()
}

/// The temporary-password alphabet, class by class: no look-alikes (I O l o 0 1), only
/// symbols that need no escaping in a shell, a URL or an LDAP filter.
const REFERENCE_CLASSES: [&str; 4] = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "!#%+-=?@"];

fn classes_used(password: &str) -> usize {
    REFERENCE_CLASSES.iter().filter(|class| password.chars().any(|c| class.contains(c))).count()
}

fn reference_temp_passwords(seed: [u8; 32], length: u32, tokens: &[String], count: u32) -> Vec<String> {
    let alphabet: Vec<char> = REFERENCE_CLASSES.concat().chars().collect();
    let mut rng = ChaCha20Rng::from_seed(seed);
    (0..count)
        .map(|_| {
            loop {
                let candidate: String =
                    (0..length).map(|_| alphabet[reference_below(&mut rng, alphabet.len() as u64) as usize]).collect();
                let lower = candidate.to_lowercase();
                if classes_used(&candidate) >= 3 && !tokens.iter().any(|t| lower.contains(t.as_str())) {
                    break candidate;
                }
            }
        })
        .collect()
}

/// log2 of the number of strings of `length` characters over the alphabet that use at least
/// 3 of the 4 classes, counted by dynamic programming over the set of classes used so far
/// (the implementation uses inclusion-exclusion).
fn reference_entropy_bits(length: u32) -> f64 {
    let sizes: Vec<f64> = REFERENCE_CLASSES.iter().map(|c| c.chars().count() as f64).collect();
    let mut count = [0f64; 16];
    count[0] = 1.0;
    for _ in 0..length {
        let mut next = [0f64; 16];
        for (used, n) in count.iter().enumerate() {
            for (class, size) in sizes.iter().enumerate() {
                next[used | 1 << class] += n * size;
            }
        }
        count = next;
    }
    let valid: f64 = (0..16usize).filter(|used| used.count_ones() >= 3).map(|used| count[used]).sum();
    valid.log2()
}

/// The decoy methods of a normalised login, as documented in `sspr_core::decoy`: the HMAC's
/// 32-bit big-endian words `w[0..6]`, each choosing among `n` outcomes as `w * n >> 32`.
fn reference_decoy(key: &[u8], login: &str, policy: &Policy) -> Value {
    let h = reference_mac(&reference_sub_key(key, "decoy"), &[login.as_bytes()]);
    let w = |i: usize| u64::from(u32::from_be_bytes(h[4 * i..4 * i + 4].try_into().unwrap()));
    let among = |i: usize, n: usize| ((w(i) * n as u64) >> 32) as usize;
    // A weighted table as the list of its keys, each repeated by its weight, in key order.
    let spread = |table: &BTreeMap<String, u32>| -> Vec<String> {
        table.iter().flat_map(|(k, n)| std::iter::repeat_n(k.clone(), *n as usize)).collect()
    };
    let (local, domain) = (spread(&policy.decoy_email_initials), spread(&policy.decoy_domain_initials));
    let tlds = &policy.decoy_email_tlds;
    let email = json!({
        "channel": "email",
        "masked": format!(
            "{}***@{}***.{}",
            local[among(1, local.len())],
            domain[among(2, domain.len())],
            tlds[among(3, tlds.len())]
        ),
    });
    let codes = &policy.decoy_country_codes;
    if !policy.sms_enabled {
        return json!([email]);
    }
    let sms =
        json!({"channel": "sms", "masked": format!("+{} ******* {:02}", codes[among(4, codes.len())], among(5, 100))});
    match among(0, 10) {
        0..=5 => json!([email]),
        6..=8 => json!([email, sms]),
        _ => json!([sms]),
    }
}

// ---------------------------------------------------------------------------------------
// The files.

#[test]
fn pins_json_replays() {
    replay("pins.json", &["pins", "hash"], |case| match text(case, "kind") {
        "generate" => {
            let (seed, digits, count) = (seed(case), number(case, "digits"), number(case, "count"));
            let mut rng = ChaCha20Rng::from_seed(seed);
            let pins: Vec<String> =
                (0..count).map(|_| pin::generate(&mut rng, digits).expose_secret().to_owned()).collect();
            for p in &pins {
                assert_eq!(p.len(), digits as usize, "{p}");
                assert!(p.bytes().all(|b| b.is_ascii_digit()), "{p}");
            }
            assert_eq!(pins, reference_pins(seed, digits, count), "PIN draws differ from the documented algorithm");
            Case::from_iter([("pins".into(), json!(pins))])
        }
        "hash" => {
            let (key_hex, flow_id, typed) = (text(case, "key"), text(case, "flow_id"), text(case, "pin"));
            let key = SecretKey::from_hex(key_hex).unwrap();
            let hash = pin::hash(&key, flow_id, typed);
            assert!(pin::matches(&key, flow_id, typed, &hash));
            let independent =
                reference_mac(&reference_sub_key(&hex_decode(key_hex), "pin"), &[flow_id.as_bytes(), typed.as_bytes()]);
            assert_eq!(hash, independent, "the PIN hash differs from HMAC-SHA256 recomputed with hmac + sha2");
            Case::from_iter([("hash".into(), json!(hex_encode(&hash)))])
        }
        other => panic!("unknown kind {other}"),
    });
}

#[test]
fn temp_passwords_json_replays() {
    let results = replay("temp_passwords.json", &["tokens", "passwords", "bits"], |case| match text(case, "kind") {
        "generate" => {
            let (seed, length, count) = (seed(case), number(case, "length"), number(case, "count"));
            let tokens = password::identity_tokens(text(case, "login"), text(case, "display_name"));
            for token in &tokens {
                assert!(token.chars().count() >= 3 && *token == token.to_lowercase(), "{token}");
            }
            let mut rng = ChaCha20Rng::from_seed(seed);
            let passwords: Vec<String> = (0..count)
                .map(|_| password::generate_temporary(&mut rng, length, &tokens).expose_secret().to_owned())
                .collect();
            let alphabet = REFERENCE_CLASSES.concat();
            for p in &passwords {
                assert_eq!(p.chars().count(), length as usize, "{p}");
                assert!(p.chars().all(|c| alphabet.contains(c)), "{p} leaves the alphabet");
                assert!(classes_used(p) >= 3, "{p} uses fewer than 3 classes");
                assert!(!tokens.iter().any(|t| p.to_lowercase().contains(t.as_str())), "{p} holds an identity token");
            }
            assert_eq!(passwords, reference_temp_passwords(seed, length, &tokens, count));
            Case::from_iter([("tokens".into(), json!(tokens)), ("passwords".into(), json!(passwords))])
        }
        "entropy" => {
            let length = number(case, "length");
            let bits = password::temp_password_entropy_bits(length);
            let independent = reference_entropy_bits(length);
            assert!((bits - independent).abs() < FLOAT_TOLERANCE, "{length}: {bits} vs {independent}");
            // 64 symbols: at most 6 bits a character, and the 3-of-4-classes rule costs little
            // from 12 characters on.
            assert!(bits <= 6.0 * f64::from(length), "{length}: {bits}");
            if length >= 12 {
                assert!(bits > 6.0 * f64::from(length) - 0.1, "{length}: {bits}");
            }
            Case::from_iter([("bits".into(), json!(bits))])
        }
        other => panic!("unknown kind {other}"),
    });
    let bits_of = |length: u64| {
        results
            .iter()
            .find(|(c, _)| c.get("length") == Some(&json!(length)) && c.get("kind") == Some(&json!("entropy")))
    };
    let (_, sixteen) = bits_of(16).expect("the vectors hold the entropy of the default length");
    let bits = sixteen["bits"].as_f64().unwrap();
    assert!(bits > 95.9 && bits < 96.0, "16 characters over 64 symbols is just under 96 bits, not {bits}");
}

#[test]
fn decoys_json_replays() {
    let results = replay("decoys.json", &["normalized", "methods"], |case| {
        let key_hex = text(case, "key");
        let key = SecretKey::from_hex(key_hex).unwrap();
        let fields = case.get("policy").and_then(Value::as_object).expect("a \"policy\" object");
        let policy = Policy::from_json(&Value::Object(fields.clone()).to_string()).unwrap();
        let (sms_enabled, codes) = (policy.sms_enabled, policy.decoy_country_codes.clone());
        policy.validate().unwrap();
        let login = NormalizedLogin::parse(text(case, "login")).unwrap();
        let methods: Vec<Value> = decoy::methods(&key, &login, &policy)
            .into_iter()
            .map(|(channel, masked)| {
                assert_eq!(serde_json::to_value(channel).unwrap(), json!(channel.method_id()));
                json!({"channel": channel.method_id(), "masked": masked})
            })
            .collect();
        let methods = Value::Array(methods);
        assert_eq!(methods, reference_decoy(&hex_decode(key_hex), login.as_str(), &policy));
        for method in methods.as_array().unwrap() {
            let masked = method["masked"].as_str().unwrap();
            match method["channel"].as_str().unwrap() {
                "email" => assert!(looks_like_email_mask(masked), "{masked}"),
                _ => assert!(
                    codes.iter().any(|cc| looks_like_phone_mask(masked, cc)),
                    "{masked} is not a mask of one of {codes:?}"
                ),
            }
        }
        if !sms_enabled {
            assert_eq!(methods.as_array().unwrap().len(), 1, "SMS off: e-mail only, like every real user");
        }
        Case::from_iter([("normalized".into(), json!(login.as_str())), ("methods".into(), methods)])
    });

    // The same login, however typed, gets the same decoy under the same key and policy; the
    // vectors hold typing variants of one login and every shape of answer.
    let mut by_login: BTreeMap<String, &Value> = BTreeMap::new();
    for (case, actual) in &results {
        let id = format!("{} {} {}", case["key"], case["policy"], actual["normalized"]);
        let methods = &actual["methods"];
        assert_eq!(*by_login.entry(id).or_insert(methods), methods, "{}", case["name"]);
    }
    assert!(by_login.len() < results.len(), "the vectors hold variants of one login");
    let shapes: Vec<Vec<&str>> = results
        .iter()
        .map(|(_, a)| a["methods"].as_array().unwrap().iter().map(|m| m["channel"].as_str().unwrap()).collect())
        .collect();
    for shape in [vec!["email"], vec!["email", "sms"], vec!["sms"]] {
        assert!(shapes.contains(&shape), "no case has a decoy offering {shape:?}: add logins");
    }
}

/// `x***@y***.tld`: one lower-case letter or digit, three stars, `@`, one, three stars, a TLD.
fn looks_like_email_mask(masked: &str) -> bool {
    let Some((local, domain)) = masked.split_once('@') else { return false };
    let Some((domain, tld)) = domain.split_once('.') else { return false };
    let one_then_stars = |s: &str| {
        s.len() == 4
            && s.ends_with("***")
            && s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    one_then_stars(local)
        && one_then_stars(domain)
        && !tld.is_empty()
        && tld.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `+CC ******* NN`.
fn looks_like_phone_mask(masked: &str, country_code: &str) -> bool {
    masked
        .strip_prefix(&format!("+{country_code} ******* "))
        .is_some_and(|last| last.len() == 2 && last.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn masks_json_replays() {
    let results = replay("masks.json", &["normalized", "masked", "error", "field"], |case| {
        let input = text(case, "input");
        match text(case, "kind") {
            "email" => match EmailAddress::parse(input) {
                Ok(address) => {
                    let masked = mask::email(&address);
                    // Rebuilt from the text: local part kept, domain lower-cased, the mask
                    // shows the first character of each and the last label.
                    let (local, domain) = input.trim().rsplit_once('@').unwrap();
                    assert_eq!(address.as_str(), format!("{local}@{}", domain.to_ascii_lowercase()));
                    let first = |s: &str| s.chars().next().unwrap().to_ascii_lowercase();
                    let tld = domain.rsplit('.').next().unwrap().to_ascii_lowercase();
                    assert_eq!(masked, format!("{}***@{}***.{tld}", first(local), first(domain)));
                    assert!(looks_like_email_mask(&masked), "{masked}");
                    Case::from_iter([("normalized".into(), json!(address.as_str())), ("masked".into(), json!(masked))])
                }
                Err(e) => input_error(e),
            },
            "phone" => match PhoneNumber::parse_in(input, case.get("region").and_then(Value::as_str)) {
                Ok(number) if case.contains_key("region") => {
                    // Read in the policy's default_region (a national format): no digits to
                    // rebuild from the text; the output is pinned by the file.
                    let masked = mask::phone(&number);
                    assert!(looks_like_phone_mask(&masked, number.country_code()), "{masked}");
                    Case::from_iter([("normalized".into(), json!(number.as_str())), ("masked".into(), json!(masked))])
                }
                Ok(number) => {
                    let masked = mask::phone(&number);
                    // Rebuilt from the text: the digits typed, a leading 00 read as +.
                    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
                    let digits = if input.trim().starts_with('+') { digits } else { digits[2..].to_owned() };
                    assert_eq!(number.as_str(), format!("+{digits}"));
                    let cc = number.country_code();
                    assert!((1..=3).contains(&cc.len()) && digits.starts_with(cc), "{cc}");
                    assert!(looks_like_phone_mask(&masked, cc), "{masked}");
                    assert!(masked.ends_with(&digits[digits.len() - 2..]), "{masked}");
                    Case::from_iter([("normalized".into(), json!(number.as_str())), ("masked".into(), json!(masked))])
                }
                Err(e) => input_error(e),
            },
            other => panic!("unknown kind {other}"),
        }
    });
    for (case, actual) in &results {
        if let Some(field) = actual.get("field") {
            assert_eq!(field, &case["kind"], "{}: the error names the wrong field", case["name"]);
        }
        let refused = case["name"].as_str().unwrap().starts_with("refused");
        assert_eq!(actual.contains_key("error"), refused, "{}", case["name"]);
    }
}

/// Ranges of the policy's numbers, written from README.md "Security defaults" and the `Policy` docs, for the
/// fields that have no rule tying them to another field.
const POLICY_RANGES: [(&str, u64, u64); 22] = [
    ("pin_length", 6, 12),
    ("max_wrong_pins", 1, 10),
    ("resend_cooldown_secs", 10, 3600),
    ("max_pins_per_flow", 1, 10),
    ("user_sends_per_hour", 1, 100),
    ("user_failures_before_block", 1, 100),
    ("client_failures_before_block", 1, 50),
    ("failures_before_delay", 1, 50),
    ("failure_delay_secs", 0, 3600),
    ("sms_budget_reserve_percent", 0, 90),
    ("failure_alarm_per_hour", 1, 1_000_000),
    ("failure_window_secs", 3600, 604_800),
    ("block_secs", 300, 604_800),
    ("ip_begins_per_hour", 1, 100_000),
    ("ip_sends_per_hour", 1, 100_000),
    ("destination_sends_per_hour", 1, 100),
    ("sms_budget_per_hour", 0, 1_000_000),
    ("chosen_password_min_length", 8, 64),
    ("contact_cooling_off_secs", 0, 1_209_600),
    ("sign_in_failures_before_lockout", 1, 50),
    ("sign_in_lockout_secs", 60, 86_400),
    ("ip_sign_ins_per_hour", 1, 100_000),
];

/// The field a serde error names (`unknown field `x``, `duplicate field `x``).
fn serde_error_field(message: &str) -> Option<(&'static str, String)> {
    ["unknown field", "duplicate field"].into_iter().find_map(|what| {
        let rest = message.split_once(&format!("{what} `"))?.1;
        let field = rest.split_once('`')?.0;
        Some((if what == "unknown field" { "unknown_field" } else { "duplicate_field" }, field.to_owned()))
    })
}

#[test]
fn policy_json_replays() {
    let results = replay("policy.json", &["effective", "error"], |case| {
        let text = match (case.get("policy"), case.get("policy_text")) {
            (Some(doc), None) => {
                assert!(doc.is_object(), "\"policy\" is a JSON object");
                doc.to_string()
            }
            (None, Some(Value::String(text))) => text.clone(),
            _ => panic!("a case has either \"policy\" (an object) or \"policy_text\" (a string)"),
        };
        match Policy::from_json(&text) {
            Ok(policy) => {
                policy.validate().unwrap();
                let all = serde_json::to_value(&policy).unwrap();
                let doc: Map<String, Value> = serde_json::from_str(&text).unwrap();
                let mut effective = Map::new();
                for key in doc.keys() {
                    // Nothing is silently changed: a value in range is taken as given.
                    assert_eq!(all[key], doc[key], "{key} was changed");
                    effective.insert(key.clone(), all[key].clone());
                }
                for key in case.get("report").and_then(Value::as_array).into_iter().flatten() {
                    let key = key.as_str().unwrap();
                    effective.insert(key.to_owned(), all.get(key).unwrap_or_else(|| panic!("no field {key}")).clone());
                }
                Case::from_iter([("effective".into(), Value::Object(effective))])
            }
            Err(error) => {
                let message = error.to_string();
                assert!(matches!(error, Error::Config(_)), "{error:?}");
                let described = match serde_json::from_str::<Policy>(&text) {
                    Err(e) => {
                        let (kind, field) = serde_error_field(&e.to_string())
                            .unwrap_or_else(|| panic!("a vector's parse error must name a field: {e}"));
                        json!({"kind": kind, "field": field})
                    }
                    Ok(parsed) => {
                        let e = parsed.validate().expect_err("from_json refused what validate accepts");
                        assert!(!e.allowed.is_empty() && !e.value.is_empty());
                        json!({"kind": "out_of_range", "field": e.field, "allowed": e.allowed})
                    }
                };
                let field = described["field"].as_str().unwrap();
                assert!(message.contains(&format!("`{field}`")), "the error text does not name `{field}`: {message}");
                Case::from_iter([("error".into(), described)])
            }
        }
    });

    let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (case, actual) in &results {
        let Some(doc) = case.get("policy").and_then(Value::as_object) else { continue };
        let [(field, value)] = doc.iter().collect::<Vec<_>>()[..] else { continue };
        let Some((_, min, max)) = POLICY_RANGES.iter().find(|(f, ..)| f == field) else { continue };
        let value = value.as_u64().unwrap();
        let refused = actual.get("error");
        assert_eq!(refused.is_some(), !(*min..=*max).contains(&value), "{}", case["name"]);
        if let Some(error) = refused {
            assert_eq!(error["field"], json!(field), "{}", case["name"]);
        }
        seen.entry(field.clone()).or_default().push(value);
    }
    // Every edge (min - 1 where it is a number, min, max, max + 1) of most fields is covered.
    let covered = POLICY_RANGES
        .iter()
        .filter(|(field, min, max)| {
            let values = seen.get(*field).cloned().unwrap_or_default();
            [min.checked_sub(1), Some(*min), Some(*max), Some(max + 1)]
                .into_iter()
                .flatten()
                .all(|v| values.contains(&v))
        })
        .count();
    assert!(covered >= 12, "only {covered} fields have all their edges in policy.json");
}

/// Characters refused in a login wherever they are: controls, bidi controls, invisible ones.
fn forbidden_in_login(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

#[test]
fn logins_json_replays() {
    let results = replay("logins.json", &["normalized", "error", "field"], |case| {
        let input = text(case, "input");
        match NormalizedLogin::parse(input) {
            Ok(login) => {
                let normalized = login.as_str();
                assert_eq!(NormalizedLogin::parse(normalized).unwrap().as_str(), normalized, "not idempotent");
                assert_eq!(normalized, normalized.trim());
                assert_eq!(normalized, normalized.to_lowercase());
                assert!(!normalized.is_empty() && normalized.chars().count() <= MAX_LOGIN_CHARS);
                assert!(!normalized.chars().any(forbidden_in_login), "{normalized:?}");
                if input.is_ascii() {
                    assert_eq!(normalized, input.trim().to_ascii_lowercase());
                }
                Case::from_iter([("normalized".into(), json!(normalized))])
            }
            Err(e) => {
                let trimmed = input.trim();
                let reason = trimmed.is_empty()
                    || trimmed.chars().any(forbidden_in_login)
                    || trimmed.chars().count() > MAX_LOGIN_CHARS
                    || !input.is_ascii();
                assert!(reason, "{input:?} was refused for no reason this test knows: {e}");
                input_error(e)
            }
        }
    });
    for (case, actual) in &results {
        if let Some(field) = actual.get("field") {
            assert_eq!(field, "login");
        }
        let refused = case["name"].as_str().unwrap().starts_with("refused");
        assert_eq!(actual.contains_key("error"), refused, "{}", case["name"]);
        // An input that must be refused by rule is refused.
        let input = case["input"].as_str().unwrap().trim();
        if input.is_empty() || input.chars().any(forbidden_in_login) || input.chars().count() > MAX_LOGIN_CHARS {
            assert!(actual.contains_key("error"), "{}", case["name"]);
        }
    }
}

#[test]
fn every_vector_file_is_replayed_and_documented() {
    let readme = std::fs::read_to_string(vectors_dir().join("README.md")).expect("tests/vectors/README.md");
    let mut on_disk: Vec<String> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut replayed: Vec<String> = FILES.iter().map(|f| (*f).to_owned()).collect();
    replayed.sort();
    assert_eq!(on_disk, replayed, "a vector file without a replaying test, or a test without its file");
    for file in FILES {
        assert!(readme.contains(file), "README.md does not describe {file}");
        let text = std::fs::read_to_string(vectors_dir().join(file)).unwrap();
        assert!(text.is_ascii(), "{file}: keep the files ASCII (non-ASCII as \\u escapes); bless rewrites them so");
    }
}
