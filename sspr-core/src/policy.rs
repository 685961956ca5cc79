//! The reset policy: every number of DESIGN.md §5, with safe bounds.
//!
//! A policy is plain data, (de)serialisable from TOML or JSON. Every number has a range
//! it must lie in; [`Policy::validate`] (run by `from_toml`/`from_json` and by the engine builder)
//! names the first field outside its range. Nothing is silently changed.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How sspr treats a member of a privileged group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PrivilegedMode {
    /// Self-service reset is refused (the default): admins reset through the help desk.
    #[default]
    Refuse,
    /// Self-service reset needs a PIN verified on both the e-mail address and the phone
    /// (so SMS must be enabled and both registered); with fewer, the user gets a decoy.
    TwoMethods,
}

/// The policy of one sspr deployment. `Policy::default()` is the secure default.
///
/// ```
/// let policy = sspr_core::Policy::from_toml("pin_length = 6\nsms_enabled = true").unwrap();
/// assert_eq!(policy.pin_length, 6);
/// assert_eq!(policy.pin_lifetime_secs, 600); // untouched fields keep their default
///
/// let err = sspr_core::Policy::from_toml("pin_length = 4").unwrap_err();
/// assert!(err.to_string().contains("pin_length"));
/// assert!(err.to_string().contains("6..=12"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Digits in a PIN. Default 8 (26.6 bits), range 6..=12.
    pub pin_length: u32,
    /// How long a PIN is valid after it was sent. Default 600 s, range 60..=3600.
    pub pin_lifetime_secs: u64,
    /// How long a whole reset flow lives. Default 900 s, range 120..=7200, and at least the
    /// PIN lifetime.
    pub flow_lifetime_secs: u64,
    /// Wrong PINs before the PIN is void. Default 5, range 1..=10.
    pub max_wrong_pins: u32,
    /// Minimum wait between two PINs of one flow. Default 60 s, range 10..=3600.
    pub resend_cooldown_secs: u64,
    /// PINs one flow may send. Default 3, range 1..=10.
    pub max_pins_per_flow: u32,
    /// PIN sends per user per hour. Default 5, range 1..=100.
    pub user_sends_per_hour: u32,
    /// Failed verifications within `failure_window_secs` that block a user. Default 5, range 1..=50.
    pub user_failures_before_block: u32,
    /// The window counting failed verifications. Default 86400 s (24 h), range 3600..=604800.
    pub failure_window_secs: u64,
    /// How long a block lasts. Default 86400 s (24 h), range 300..=604800.
    pub block_secs: u64,
    /// Reset flows started per client IP per hour. Default 30, range 1..=100000.
    pub ip_begins_per_hour: u32,
    /// PINs sent per client IP per hour. Default 20, range 1..=100000.
    pub ip_sends_per_hour: u32,
    /// Failed sign-ins (to the contact registration pages) to one login before its sign-in
    /// is refused for `sign_in_lockout_secs`. Default 5, range 1..=50.
    pub sign_in_failures_before_lockout: u32,
    /// How long sign-in stays refused after too many failures. Default 900 s (15 min),
    /// range 60..=86400.
    pub sign_in_lockout_secs: u64,
    /// Sign-in attempts per client IP per hour. Default 60, range 1..=100000.
    pub ip_sign_ins_per_hour: u32,
    /// PINs sent to one destination (address or number) per hour. Default 5, range 1..=100.
    pub destination_sends_per_hour: u32,
    /// SMS the whole deployment may send per hour (SMS-pumping defence). Default 100,
    /// range 0..=1000000.
    pub sms_budget_per_hour: u32,
    /// Offer SMS at all (it costs money). Default off.
    pub sms_enabled: bool,
    /// Ask the user to type the full address or number before a PIN is sent. Default off.
    pub confirm_full_address: bool,
    /// Pad every answer of `begin_reset` and `send_pin` to at least this many milliseconds,
    /// so their timing does not tell real accounts from unknown ones (a real `send_pin`
    /// waits for the mail relay; a decoy's does not). Needs a [`crate::Timer`]. Set it above
    /// your notifier's usual latency. Default 0 (off), range 0..=10000.
    pub min_response_ms: u32,
    /// Length of a generated temporary password. Default 16, range 12..=64.
    pub temp_password_length: u32,
    /// Entropy a temporary password must have, computed from alphabet and length.
    /// Default 80 bits, range 64..=256.
    pub min_temp_password_entropy_bits: u32,
    /// Let the user choose the new password instead of receiving a temporary one. Default off.
    pub allow_chosen_password: bool,
    /// Shortest user-chosen password. Default 8, range 8..=64 (the longest is always 256).
    pub chosen_password_min_length: u32,
    /// Offer "unlock only" as a completion mode. Default on.
    pub allow_unlock_only: bool,
    /// How long a contact added or changed by the user waits before it can receive PINs.
    /// The user's very first registration and admin changes are usable at once (clearing every
    /// contact does not make the next one "first" again). Default 86400 s, range 0..=1209600.
    pub contact_cooling_off_secs: u64,
    /// Eligible OUs (DN suffixes). A user is eligible when inside one of these OUs or a
    /// member of one of `eligible_groups`; when both lists are empty, every user is.
    pub eligible_ous: Vec<String>,
    /// Eligible groups (DN or common name).
    pub eligible_groups: Vec<String>,
    /// Privileged groups (DN or common name): their members cannot use self-service reset.
    pub privileged_groups: Vec<String>,
    /// What to do with privileged users.
    pub privileged_mode: PrivilegedMode,
    /// Country calling codes (digits, no `+`) decoy phone numbers are drawn from; set it to
    /// your users' own so a decoy looks like a real number. Default `["1"]`.
    pub decoy_country_codes: Vec<String>,
    /// Top-level domains decoy e-mail masks are drawn from; repeat an entry to make it more
    /// likely. List the ones your users' alternate addresses have, so that no real mask
    /// stands out. Default: `com` (four times), `net`, `org`, `de`, `uk`.
    pub decoy_email_tlds: Vec<String>,
}

/// A policy value outside its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The field's name as in TOML/JSON.
    pub field: &'static str,
    /// The value given.
    pub value: String,
    /// The allowed range or rule, e.g. `6..=12`.
    pub allowed: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy field `{}` = {} is outside its allowed range {}", self.field, self.value, self.allowed)
    }
}

impl std::error::Error for PolicyError {}

impl From<PolicyError> for Error {
    fn from(e: PolicyError) -> Self {
        Error::Config(e.to_string())
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            pin_length: 8,
            pin_lifetime_secs: 600,
            flow_lifetime_secs: 900,
            max_wrong_pins: 5,
            resend_cooldown_secs: 60,
            max_pins_per_flow: 3,
            user_sends_per_hour: 5,
            user_failures_before_block: 5,
            failure_window_secs: 86_400,
            block_secs: 86_400,
            ip_begins_per_hour: 30,
            ip_sends_per_hour: 20,
            sign_in_failures_before_lockout: 5,
            sign_in_lockout_secs: 900,
            ip_sign_ins_per_hour: 60,
            destination_sends_per_hour: 5,
            sms_budget_per_hour: 100,
            sms_enabled: false,
            confirm_full_address: false,
            min_response_ms: 0,
            temp_password_length: 16,
            min_temp_password_entropy_bits: 80,
            allow_chosen_password: false,
            chosen_password_min_length: 8,
            allow_unlock_only: true,
            contact_cooling_off_secs: 86_400,
            eligible_ous: Vec::new(),
            eligible_groups: Vec::new(),
            privileged_groups: [
                "Domain Admins",
                "Enterprise Admins",
                "Schema Admins",
                "Administrators",
                "Account Operators",
                "Backup Operators",
                "Server Operators",
                "Print Operators",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            privileged_mode: PrivilegedMode::Refuse,
            decoy_country_codes: vec!["1".into()],
            decoy_email_tlds: ["com", "com", "com", "com", "net", "org", "de", "uk"]
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }
}

/// The longest user-chosen password accepted, in characters.
pub const CHOSEN_PASSWORD_MAX_LENGTH: usize = 256;

fn check<T: PartialOrd + fmt::Display>(
    field: &'static str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<(), PolicyError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(PolicyError { field, value: value.to_string(), allowed: format!("{}..={}", range.start(), range.end()) })
    }
}

impl Policy {
    /// Check every field against its range; the error names the first offending field.
    pub fn validate(&self) -> Result<(), PolicyError> {
        check("pin_length", self.pin_length, 6..=12)?;
        check("pin_lifetime_secs", self.pin_lifetime_secs, 60..=3600)?;
        check("flow_lifetime_secs", self.flow_lifetime_secs, 120..=7200)?;
        check("flow_lifetime_secs", self.flow_lifetime_secs, self.pin_lifetime_secs..=7200)?;
        check("max_wrong_pins", self.max_wrong_pins, 1..=10)?;
        check("resend_cooldown_secs", self.resend_cooldown_secs, 10..=3600)?;
        check("max_pins_per_flow", self.max_pins_per_flow, 1..=10)?;
        check("user_sends_per_hour", self.user_sends_per_hour, 1..=100)?;
        check("user_failures_before_block", self.user_failures_before_block, 1..=50)?;
        check("failure_window_secs", self.failure_window_secs, 3600..=604_800)?;
        check("block_secs", self.block_secs, 300..=604_800)?;
        check("ip_begins_per_hour", self.ip_begins_per_hour, 1..=100_000)?;
        check("ip_sends_per_hour", self.ip_sends_per_hour, 1..=100_000)?;
        check("sign_in_failures_before_lockout", self.sign_in_failures_before_lockout, 1..=50)?;
        check("sign_in_lockout_secs", self.sign_in_lockout_secs, 60..=86_400)?;
        check("ip_sign_ins_per_hour", self.ip_sign_ins_per_hour, 1..=100_000)?;
        check("destination_sends_per_hour", self.destination_sends_per_hour, 1..=100)?;
        check("sms_budget_per_hour", self.sms_budget_per_hour, 0..=1_000_000)?;
        check("min_response_ms", self.min_response_ms, 0..=10_000)?;
        check("temp_password_length", self.temp_password_length, 12..=64)?;
        check("min_temp_password_entropy_bits", self.min_temp_password_entropy_bits, 64..=256)?;
        check("chosen_password_min_length", self.chosen_password_min_length, 8..=64)?;
        check("contact_cooling_off_secs", self.contact_cooling_off_secs, 0..=1_209_600)?;
        let entropy = crate::password::temp_password_entropy_bits(self.temp_password_length);
        if entropy < f64::from(self.min_temp_password_entropy_bits) {
            return Err(PolicyError {
                field: "temp_password_length",
                value: format!("{} ({entropy:.1} bits)", self.temp_password_length),
                allowed: format!("a length giving at least {} bits", self.min_temp_password_entropy_bits),
            });
        }
        if self.decoy_country_codes.is_empty()
            || self.decoy_country_codes.iter().any(|cc| {
                cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()) || cc.starts_with('0')
            })
        {
            return Err(PolicyError {
                field: "decoy_country_codes",
                value: format!("{:?}", self.decoy_country_codes),
                allowed: "a non-empty list of 1-3 digit country codes".into(),
            });
        }
        if self.decoy_email_tlds.is_empty()
            || self.decoy_email_tlds.iter().any(|tld| {
                !(2..=63).contains(&tld.len())
                    || !tld.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
        {
            return Err(PolicyError {
                field: "decoy_email_tlds",
                value: format!("{:?}", self.decoy_email_tlds),
                allowed: "a non-empty list of lower-case top-level domains".into(),
            });
        }
        Ok(())
    }

    /// Parse and validate a policy from TOML; missing fields take their defaults.
    pub fn from_toml(text: &str) -> Result<Self> {
        let policy: Self = toml::from_str(text).map_err(|e| Error::Config(format!("policy: {e}")))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Parse and validate a policy from JSON; missing fields take their defaults.
    pub fn from_json(text: &str) -> Result<Self> {
        let mut json = serde_json::Deserializer::from_str(text);
        let policy: Self = serde_path_to_error::deserialize(&mut json)
            .map_err(|e| Error::Config(format!("policy field `{}`: {}", e.path(), e.inner())))?;
        policy.validate()?;
        Ok(policy)
    }

    /// The policy as TOML (every field, for a config file to start from).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::Config(format!("policy: {e}")))
    }

    pub(crate) fn pin_lifetime(&self) -> Duration {
        Duration::from_secs(self.pin_lifetime_secs)
    }
    pub(crate) fn flow_lifetime(&self) -> Duration {
        Duration::from_secs(self.flow_lifetime_secs)
    }
    pub(crate) fn resend_cooldown(&self) -> Duration {
        Duration::from_secs(self.resend_cooldown_secs)
    }
    pub(crate) fn failure_window(&self) -> Duration {
        Duration::from_secs(self.failure_window_secs)
    }
    pub(crate) fn block_duration(&self) -> Duration {
        Duration::from_secs(self.block_secs)
    }
    pub(crate) fn contact_cooling_off(&self) -> Duration {
        Duration::from_secs(self.contact_cooling_off_secs)
    }
}
