//! What a host language gives to build an engine besides its backends: the server key, a
//! test seed, the policy and a manual clock; and how they go onto the core's builder.
//!
//! Everything here is configuration: a bad value is [`Error::Config`] (code `config`), never
//! `InvalidInput`, whichever form it came in.

use std::str::FromStr;

use sspr_core::{Error, ManualClock, Policy, SecretKey, Spawn, SsprBuilder, Timer};

/// Key or seed material as a host language has it: bytes (`bytes`, `Buffer`, `uint8_t *`,
/// `ByteArray`) or hex text (a config file, an environment variable, JSON).
///
/// Hex is read as the core reads keys: either case, surrounding whitespace ignored (a key
/// file ends with a newline), nothing else (no sign, no `0x`, no separators).
#[derive(Clone, Copy)]
pub enum Material<'a> {
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// Hex digits.
    Hex(&'a str),
}

// Never print the material: it is a key.
impl std::fmt::Debug for Material<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bytes(_) => "Material::Bytes(..)",
            Self::Hex(_) => "Material::Hex(..)",
        })
    }
}

impl<'a> Material<'a> {
    /// The material of a host that offers two fields for it, bytes and hex (C's pointer and
    /// hex string, uniffi's `secret_key` and `secret_key_hex`): the one given, or none;
    /// both is `Config` naming the two fields (`field`, `hex_field`), since which one to
    /// trust cannot be guessed.
    ///
    /// # Errors
    /// `Config` when both are given.
    pub fn one_of(
        bytes: Option<&'a [u8]>,
        hex: Option<&'a str>,
        field: &str,
        hex_field: &str,
    ) -> Result<Option<Self>, Error> {
        match (bytes, hex) {
            (Some(_), Some(_)) => Err(Error::Config(format!("give `{field}` or `{hex_field}`, not both"))),
            (Some(bytes), None) => Ok(Some(Self::Bytes(bytes))),
            (None, Some(hex)) => Ok(Some(Self::Hex(hex))),
            (None, None) => Ok(None),
        }
    }
}

impl Material<'_> {
    /// The bytes, decoded from hex if need be; `what` names the option in the error.
    fn bytes(&self, what: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        match self {
            Self::Bytes(bytes) => Ok(zeroize::Zeroizing::new(bytes.to_vec())),
            Self::Hex(text) => sspr_core::hex::decode(text.trim())
                .map(zeroize::Zeroizing::new)
                .ok_or_else(|| Error::Config(format!("{what} is not valid hex"))),
        }
    }
}

/// The server's secret key: 32 to 1024 bytes, or twice as many hex digits.
///
/// # Errors
/// `Config` for text that is not hex or a key of the wrong length.
pub fn secret_key(material: Material<'_>) -> Result<SecretKey, Error> {
    SecretKey::from_bytes(&material.bytes("the secret key")?)
}

/// A server key retired by a rotation, the `position`th of the list (from 1, newest first):
/// [`secret_key`]'s rules, with an error naming that entry. "The secret key is not valid hex"
/// for a typo in a retired key sent operators to check the current key, which was right.
///
/// # Errors
/// `Config` for text that is not hex or a key of the wrong length, naming `previous key N`.
pub fn previous_key(material: Material<'_>, position: usize) -> Result<SecretKey, Error> {
    let name = format!("previous key {position}");
    SecretKey::from_bytes(&material.bytes(&name)?).map_err(|e| match e {
        Error::Config(rule) => Error::Config(format!("{name}: {rule}")),
        other => other,
    })
}

/// A seed for the engine's generator (tests and test vectors only: a fixed seed makes PINs
/// predictable): exactly 32 bytes, or 64 hex digits. One rule in every binding: Python took
/// only bytes, Node only hex, C read 32 bytes without knowing the length.
///
/// # Errors
/// `Config` for text that is not hex or a seed that is not 32 bytes.
pub fn rng_seed(material: Material<'_>) -> Result<[u8; 32], Error> {
    let bytes = material.bytes("the generator seed")?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| Error::Config(format!("the generator seed must be 32 bytes (64 hex digits), got {}", bytes.len())))
}

/// The text format of a policy document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFormat {
    /// JSON (`policy.json`, a host-language dict serialised).
    Json,
    /// TOML (`policy.toml`, the portal's config file).
    Toml,
}

impl PolicyFormat {
    /// The stable name (`"json"`, `"toml"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Toml => "toml",
        }
    }

    /// The format of a file by its extension (`.json`, `.toml`, either case); `None` for any
    /// other, so that a caller never guesses from the content.
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        extension.parse().ok()
    }
}

impl FromStr for PolicyFormat {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "json" => Ok(Self::Json),
            "toml" => Ok(Self::Toml),
            _ => Err(Error::Config("a policy format is \"json\" or \"toml\"".into())),
        }
    }
}

/// Parse and validate a policy document: missing fields take their defaults; an unknown or
/// repeated field, a wrong type or a value outside its bounds is `Config` naming the field.
///
/// # Errors
/// `Config`, as above.
pub fn policy(text: &str, format: PolicyFormat) -> Result<Policy, Error> {
    match format {
        PolicyFormat::Json => Policy::from_json(text),
        PolicyFormat::Toml => Policy::from_toml(text),
    }
}

/// Everything an engine needs besides its backends and its runtime, already checked.
///
/// ```
/// use sspr_bind::{EngineOptions, Material, PolicyFormat};
/// # fn main() -> Result<(), sspr_core::Error> {
/// let options = EngineOptions::new(sspr_bind::secret_key(Material::Hex(&"ab".repeat(32)))?)
///     .with_policy(sspr_bind::policy("pin_length = 6", PolicyFormat::Toml)?)
///     .with_rng_seed(sspr_bind::rng_seed(Material::Bytes(&[7; 32]))?);
/// let engine = options
///     .apply(sspr_core::Sspr::builder(), sspr_bind::runtime::ProcessTimer, sspr_bind::runtime::ProcessSpawner)
///     .directory(sspr_core::memory::MemoryDirectory::new())
///     .notifier(sspr_core::memory::Outbox::new())
///     .build()?;
/// assert_eq!(engine.policy().pin_length, 6);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EngineOptions {
    key: SecretKey,
    previous_keys: Vec<SecretKey>,
    rng_seed: Option<[u8; 32]>,
    policy: Option<Policy>,
    clock: Option<ManualClock>,
    backend_timeout: Option<std::time::Duration>,
}

impl EngineOptions {
    /// Options with the server key; the default policy, an OS-seeded generator and the
    /// system clock.
    pub fn new(key: SecretKey) -> Self {
        Self { key, previous_keys: Vec::new(), rng_seed: None, policy: None, clock: None, backend_timeout: None }
    }

    /// Server keys retired recently, newest first ([`sspr_core::SsprBuilder::previous_keys`]):
    /// read so that a key rotation keeps blocks, pending resets and decoy masks.
    #[must_use]
    pub fn with_previous_keys(mut self, keys: impl IntoIterator<Item = SecretKey>) -> Self {
        self.previous_keys = keys.into_iter().collect();
        self
    }

    /// A fixed generator seed (tests).
    #[must_use]
    pub fn with_rng_seed(mut self, seed: [u8; 32]) -> Self {
        self.rng_seed = Some(seed);
        self
    }

    /// The policy (else the default).
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// A manual clock (tests, demos). It is also the engine's timer: the engine "waits" out
    /// the answer padding by moving the clock forward, so a padded call takes no real time
    /// and the times a test reads include the padding exactly.
    #[must_use]
    pub fn with_manual_clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How long one call to a backend may go unanswered, in milliseconds
    /// ([`sspr_core::SsprBuilder::backend_timeout`]; default 30 000). A host-language backend
    /// whose promise or coroutine never settles is given up then, as an outage.
    ///
    /// # Errors
    /// `Config` when it is not a whole number of milliseconds from 1 to 600 000 (ten minutes:
    /// past that a user has long given up).
    pub fn with_backend_timeout_ms(mut self, millis: f64) -> Result<Self, Error> {
        if !(millis.is_finite() && millis.fract() == 0.0 && (1.0..=600_000.0).contains(&millis)) {
            return Err(Error::Config(format!(
                "the backend timeout must be a whole number of milliseconds from 1 to 600000, not {millis}"
            )));
        }
        // A whole number up to 600 000: exact as a u64.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let millis = millis as u64;
        self.backend_timeout = Some(std::time::Duration::from_millis(millis));
        Ok(self)
    }

    /// Collect the engine's metrics into the process's Prometheus recorder
    /// ([`crate::metrics::collect`]); [`crate::metrics::text`] renders them.
    ///
    /// # Errors
    /// `Config` when another `metrics` recorder holds the process.
    pub fn with_metrics(self, on: bool) -> Result<Self, Error> {
        if on {
            crate::metrics::collect()?;
        }
        Ok(self)
    }

    /// Put the options on `builder`: the key, the seed and the policy; the manual clock as
    /// clock *and* timer when there is one, else `timer` (the runtime's); `spawner` for the
    /// background deliveries in every case.
    pub fn apply(
        self,
        builder: SsprBuilder,
        timer: impl Timer + 'static,
        spawner: impl Spawn + 'static,
    ) -> SsprBuilder {
        let mut builder = builder.secret_key(self.key).previous_keys(self.previous_keys).spawner(spawner);
        builder = match self.clock {
            Some(clock) => builder.clock(clock.clone()).timer(clock),
            None => builder.timer(timer),
        };
        if let Some(seed) = self.rng_seed {
            builder = builder.rng_seed(seed);
        }
        if let Some(policy) = self.policy {
            builder = builder.policy(policy);
        }
        if let Some(limit) = self.backend_timeout {
            builder = builder.backend_timeout(limit);
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn code<T>(r: Result<T, Error>) -> &'static str {
        r.err().map_or("ok", |e| e.code())
    }

    #[test]
    fn a_backend_timeout_is_whole_milliseconds_from_1_to_600000() {
        let options = || EngineOptions::new(SecretKey::from_bytes(&[1; 32]).unwrap());
        for ok in [1.0, 250.0, 600_000.0] {
            assert_eq!(code(options().with_backend_timeout_ms(ok)), "ok", "{ok}");
        }
        for bad in [0.0, -1.0, 0.5, 600_001.0, f64::NAN, f64::INFINITY] {
            assert_eq!(code(options().with_backend_timeout_ms(bad)), "config", "{bad}");
        }
    }

    /// What Node, C and uniffi read a policy document with: a wrong type is `Config` naming
    /// its key in TOML as in JSON (TOML named only a line and column before).
    #[test]
    fn a_policy_value_of_the_wrong_type_names_its_key_in_either_format() {
        for (text, format) in
            [("pin_length = \"six\"", PolicyFormat::Toml), ("{\"pin_length\": \"six\"}", PolicyFormat::Json)]
        {
            let err = policy(text, format).unwrap_err();
            assert_eq!(err.code(), "config");
            assert!(err.to_string().contains("policy field `pin_length`"), "{text}: {err}");
        }
    }

    #[test]
    fn keys_are_bytes_or_hex_of_the_same_bounds() {
        assert_eq!(code(secret_key(Material::Bytes(&[1; 32]))), "ok");
        assert_eq!(code(secret_key(Material::Hex(&format!("{}\n", "AB".repeat(32))))), "ok");
        assert_eq!(code(secret_key(Material::Bytes(&[1; 31]))), "config");
        assert_eq!(code(secret_key(Material::Hex(&"ab".repeat(31)))), "config");
        assert_eq!(code(secret_key(Material::Hex(&format!("0x{}", "ab".repeat(32))))), "config");
    }

    #[test]
    fn a_bad_previous_key_is_named_by_its_position_not_as_the_secret_key() {
        let message = |r: Result<SecretKey, Error>| match r {
            Err(Error::Config(m)) => m,
            other => panic!("expected Config, got {other:?}"),
        };
        assert!(previous_key(Material::Hex(&"ab".repeat(32)), 1).is_ok());
        assert_eq!(message(previous_key(Material::Hex("zz"), 2)), "previous key 2 is not valid hex");
        let short = message(previous_key(Material::Bytes(&[1; 31]), 3));
        assert!(short.starts_with("previous key 3: ") && short.contains("32..=1024 bytes, got 31"), "{short}");
        assert!(message(previous_key(Material::Bytes(&[0; 32]), 1)).starts_with("previous key 1: "));
    }

    // Python took the seed as 32 bytes and refused hex; Node took 64 hex digits and refused
    // bytes; uniffi called a wrong length InvalidInput, Python Config: one rule now.
    #[test]
    fn seeds_are_32_bytes_or_64_hex_digits_and_a_bad_one_is_config() {
        let hex = "0f".repeat(32);
        assert_eq!(rng_seed(Material::Hex(&hex)).unwrap(), [0x0f; 32]);
        assert_eq!(rng_seed(Material::Bytes(&[0x0f; 32])).unwrap(), [0x0f; 32]);
        assert_eq!(code(rng_seed(Material::Bytes(&[0; 31]))), "config");
        assert_eq!(code(rng_seed(Material::Hex(&"0f".repeat(33)))), "config");
        // Python's hand-written parser took "+f" as a hex pair (`u8::from_str_radix`).
        assert_eq!(code(rng_seed(Material::Hex(&format!("+f{}", "0f".repeat(31))))), "config");
    }

    #[test]
    fn policies_parse_from_either_format_and_formats_are_named() {
        assert_eq!(policy("{\"pin_length\": 6}", PolicyFormat::Json).unwrap().pin_length, 6);
        assert_eq!(policy("pin_length = 6", PolicyFormat::Toml).unwrap().pin_length, 6);
        assert_eq!(code(policy("pin_length = 6", PolicyFormat::Json)), "config");
        assert_eq!(code(policy("{\"pin_lenght\": 6}", PolicyFormat::Json)), "config");
        assert_eq!(PolicyFormat::of_path(std::path::Path::new("/etc/sspr/Policy.TOML")), Some(PolicyFormat::Toml));
        assert_eq!(PolicyFormat::of_path(std::path::Path::new("policy.yaml")), None);
        assert_eq!(code("yaml".parse::<PolicyFormat>()), "config");
    }

    #[test]
    fn material_in_two_fields_is_one_or_the_other() {
        assert!(matches!(Material::one_of(Some(&[1; 32]), None, "k", "k_hex"), Ok(Some(Material::Bytes(_)))));
        assert!(matches!(Material::one_of(None, Some("01"), "k", "k_hex"), Ok(Some(Material::Hex("01")))));
        assert!(matches!(Material::one_of(None, None, "k", "k_hex"), Ok(None)));
        let both = Material::one_of(Some(&[1; 32]), Some("01"), "k", "k_hex").unwrap_err();
        assert_eq!(both.code(), "config");
        assert!(both.to_string().contains("`k` or `k_hex`"), "{both}");
    }

    #[test]
    fn material_debug_shows_no_key() {
        let hex = "ab".repeat(32);
        assert!(!format!("{:?}", Material::Hex(&hex)).contains("abab"));
    }
}
