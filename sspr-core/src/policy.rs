//! The reset policy: every number of README.md "Security defaults", with safe bounds.
//!
//! A policy is plain data, (de)serialisable from TOML or JSON. Every number has a range
//! it must lie in; [`Policy::validate`] (run by `from_toml`/`from_json` and by the engine builder)
//! names the first field outside its range. Nothing is silently changed.

use std::collections::BTreeMap;
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
/// let policy =
///     sspr_core::Policy::from_toml("pin_length = 6\nsms_enabled = true\ndecoy_country_codes = [\"44\"]").unwrap();
/// assert_eq!(policy.pin_length, 6);
/// assert_eq!(policy.pin_lifetime_secs, 600); // untouched fields keep their default
///
/// let err = sspr_core::Policy::from_toml("pin_length = 4").unwrap_err();
/// assert!(err.to_string().contains("pin_length"));
/// assert!(err.to_string().contains("6..=12"));
///
/// // SMS decoys are drawn from your users' country codes: SMS needs them.
/// let err = sspr_core::Policy::from_toml("sms_enabled = true").unwrap_err();
/// assert!(err.to_string().contains("decoy_country_codes"));
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
    /// PINs one flow may send for each method it must prove (a privileged user's flow under
    /// [`PrivilegedMode::TwoMethods`] gets this many again only once its first method is
    /// proven). Default 3, range 1..=10.
    pub max_pins_per_flow: u32,
    /// PIN sends per user per hour from one client (an IPv4 address, an IPv6 /64, or every
    /// request without an address taken together); from all clients together four times
    /// this ([`Policy::user_sends_all_clients_per_hour`]). Default 5, range 1..=100.
    ///
    /// Per client since one address sending 5 an hour for a victim kept the victim's own
    /// send refused all day.
    pub user_sends_per_hour: u32,
    /// Failed verifications of one user, from all clients, within `failure_window_secs`
    /// that block the user everywhere for `block_secs`. Default 20, range 1..=100.
    ///
    /// It is not 5 (as it once was): five wrong PINs from one client must not lock a user
    /// out for a day. One client is held to `client_failures_before_block`, and past
    /// `failures_before_delay` every further try waits longer (see [`Policy::failure_delay`]),
    /// so the user-wide block needs several clients and hours of guessing. The brute-force
    /// bound this gives is computed in the module documentation of the engine's reset flow
    /// and below, at [`Policy::failure_delay`].
    pub user_failures_before_block: u32,
    /// Failed verifications of one user from one client (an IPv4 address, an IPv6 /64, or
    /// every request without an address taken together) within `failure_window_secs` that
    /// block that client, for that user only, for `block_secs`. Default 5, range 1..=50.
    pub client_failures_before_block: u32,
    /// Failed verifications of one user (all clients) that are free: from the next one on,
    /// each failure makes the user's next verification wait (see `failure_delay_secs`).
    /// Default 5 (a user's own typos void a PIN before they meet a delay), range 1..=50.
    pub failures_before_delay: u32,
    /// The first progressive delay, doubled at every further failure up to
    /// `max_failure_delay_secs`: after failure `k >= failures_before_delay` the user's next
    /// verification is refused with `RateLimited` until `failure_delay_secs * 2^(k -
    /// failures_before_delay)` have passed. Default 60 s, range 0..=3600 (0: no delays).
    pub failure_delay_secs: u64,
    /// The longest progressive delay. Default 3600 s, range 0..=86400, and at least
    /// `failure_delay_secs`.
    pub max_failure_delay_secs: u64,
    /// The window counting failed verifications. Default 86400 s (24 h), range 3600..=604800.
    pub failure_window_secs: u64,
    /// How long a block lasts. Default 86400 s (24 h), range 300..=604800.
    pub block_secs: u64,
    /// Reset flows started per client IP per hour. Default 30, range 1..=100000.
    pub ip_begins_per_hour: u32,
    /// PINs sent per client IP per hour. Default 20, range 1..=100000.
    pub ip_sends_per_hour: u32,
    /// Failed sign-ins (to the contact registration pages, and an administrator's) to one
    /// login from one client (an IPv4 address, an IPv6 /64, or every request without an
    /// address together) before that client's sign-in for it is refused until the window of
    /// `sign_in_lockout_secs` ends; attempts still being checked count as failed, so racing
    /// requests get no more. From all clients together, four times this locks the login out
    /// everywhere for `sign_in_lockout_secs` ([`Policy::sign_in_failures_all_clients`]), and
    /// from this many on each failure makes the login's next try wait
    /// ([`Policy::sign_in_delay`]). Default 5, range 1..=50.
    ///
    /// Per client since one address making 5 wrong sign-ins every 15 minutes kept a user
    /// (an administrator too) from signing in all day.
    pub sign_in_failures_before_lockout: u32,
    /// How long sign-in stays refused after too many failures. Default 900 s (15 min),
    /// range 60..=86400.
    pub sign_in_lockout_secs: u64,
    /// Sign-in attempts per client IP per hour. Default 60, range 1..=100000.
    pub ip_sign_ins_per_hour: u32,
    /// Codes (reset PINs, contact proofs, helpdesk codes) sent to one destination (address
    /// or number) per hour from one client; from all clients together four times this
    /// ([`Policy::destination_sends_all_clients_per_hour`]). Over either, a reset PIN is not
    /// sent and the anonymous caller is not told. Default 5, range 1..=100.
    pub destination_sends_per_hour: u32,
    /// SMS the whole deployment may send per hour (SMS-pumping defence). Default 100,
    /// range 0..=1000000.
    pub sms_budget_per_hour: u32,
    /// The share of `sms_budget_per_hour`, in percent, kept for users who have no failed
    /// verification in the failure window: a guesser's SMS (its target has failed) can spend
    /// only the rest, and a refused SMS does not count against the budget. Default 20, range
    /// 0..=90.
    pub sms_budget_reserve_percent: u32,
    /// Failed verifications per hour, across all users, that raise the organisation-wide
    /// alarm (an `AuditKind::FailureAlarm` event and the engine's [`crate::Alarm`], once per
    /// hour window). With thousands of users a slow guessing campaign spread over many
    /// accounts shows nowhere else. Default 100, range 1..=1000000.
    pub failure_alarm_per_hour: u32,
    /// Offer SMS at all (it costs money). Default off.
    pub sms_enabled: bool,
    /// Ask the user to type the full address or number before a PIN is sent. Default off.
    pub confirm_full_address: bool,
    /// Pad every answer of `begin_reset`, `send_pin` and `verify_pin` (errors too; malformed
    /// input is refused at once) to at least this many milliseconds, so their timing does not
    /// tell real accounts from unknown ones: a real account's requests read more state than
    /// a decoy's and may wait on a slow directory or store. Deliveries do not count: with a
    /// [`crate::Spawn`] they run off the request path. Needs a [`crate::Timer`] (taken from
    /// the ambient tokio runtime by default). Set it above your directory's and stores' slow
    /// latency. Default 300, range 0..=10000 (0 turns padding off).
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
    /// The lowest zxcvbn score (0..=4) a chosen password may have. Default 3 ("safely
    /// unguessable": about 10^8 guesses and more); 0 turns the estimate off.
    pub password_min_score: u8,
    /// The organisation's name, which zxcvbn tries as one of the first guesses for every
    /// user's chosen password (with the user's login and name). Default empty.
    pub organisation_name: String,
    /// Accept a chosen password when a password checker could not check it (the breached
    /// range service down or too slow). Default off: the password is refused with an
    /// `Unavailable` backend error, and the user tries again later.
    pub password_check_fail_open: bool,
    /// Offer "unlock only" as a completion mode. Default on.
    pub allow_unlock_only: bool,
    /// How long a contact added or changed by the user waits before it can receive PINs.
    /// The user's very first registration and admin changes are usable at once (clearing every
    /// contact does not make the next one "first" again). Default 86400 s, range 0..=1209600.
    pub contact_cooling_off_secs: u64,
    /// A user's new e-mail or mobile is saved only once the user types back a code sent to
    /// it ([`crate::Sspr::request_contact_proof`]). Default on. Turn it off only where the
    /// notifier cannot reach new contacts: then a typo, or someone who has the password, can
    /// register an address the user does not hold, and only the cooling-off stands in the way.
    pub user_contacts_need_proof: bool,
    /// An admin's contact change needs the same proof (the admin relays the code the user
    /// received). Default off: admins and bulk imports are trusted and audited.
    pub admin_contacts_need_proof: bool,
    /// Contact proofs one user may ask for per hour. Default 5, range 1..=100.
    pub contact_proofs_per_hour: u32,
    /// Days after which a signed-in user is asked to confirm that their contacts are still
    /// right (Microsoft Entra's re-confirmation, 0..=730 days there too): counted from the
    /// last confirmation or the newest contact's registration (`Contacts::confirm_due`,
    /// [`crate::Sspr::confirm_contacts`]); also the age at which an enrollment report calls
    /// contacts stale. Default 0: never asked. Range 0..=730.
    pub reconfirm_after_days: u32,
    /// The page where users register their contacts (the portal's `/passwordnotification`),
    /// as an absolute `https://` URL (`http://` only to loopback): the link registration
    /// reminders carry ([`crate::Sspr::send_registration_reminders`], which needs it). At most
    /// 2048 characters, no spaces. Default empty.
    pub registration_url: String,
    /// The time zone in which notices write dates and times, an IANA name
    /// (`"Europe/Berlin"`, `"America/New_York"`), daylight saving time included. Default
    /// `"UTC"`.
    pub time_zone: String,
    /// A user gets at most one registration reminder in this many days, however often the
    /// reminders are sent (a nightly job run twice mails nobody twice). Default 7, range
    /// 1..=365.
    pub reminder_interval_days: u32,
    /// Where security notices go (`Message::AdminAlert`): a privileged account's reset
    /// refused, the failed-verification alarm. E-mail addresses, at most 20. Default empty:
    /// none is sent (the events are in the audit trail and reach event hooks either way).
    pub admin_alert_addresses: Vec<String>,
    /// At most one security notice of a kind is sent in this many minutes, across all
    /// instances sharing the state store, so an attacker cannot flood the admins. Default
    /// 60, range 1..=1440.
    pub admin_alert_interval_minutes: u32,
    /// Eligible OUs (DN suffixes). A user is eligible when inside one of these OUs, a member
    /// of one of `eligible_groups` or of one of `eligible_administrative_units`; when all
    /// three lists are empty, every user is.
    pub eligible_ous: Vec<String>,
    /// Eligible groups (DN or common name).
    pub eligible_groups: Vec<String>,
    /// Eligible Microsoft Entra administrative units, by object id or display name (an id is
    /// unique, a display name need not be): the OUs of a cloud directory, which admins scope
    /// delegation by. Matched case-insensitively against the units a directory lists
    /// (`backend::ADMINISTRATIVE_UNIT_PREFIX`). Default empty.
    pub eligible_administrative_units: Vec<String>,
    /// Privileged groups (DN or common name): their members cannot use self-service reset.
    pub privileged_groups: Vec<String>,
    /// What to do with privileged users.
    pub privileged_mode: PrivilegedMode,
    /// Country calling codes (digits, no `+`) decoy phone numbers are drawn from; repeat an
    /// entry to make it more likely. Required when `sms_enabled` (there is no safe guess: a
    /// decoy must look like your users' own numbers, e.g. `["44", "44", "44", "353"]`).
    /// Default empty.
    pub decoy_country_codes: Vec<String>,
    /// The region (ISO 3166 code: `GB`, `DE`, `US`) a phone number typed without its
    /// country code is read in, with that country's trunk prefix (`07400 900123` in `GB`).
    /// Default none: every number must start with `+` and its country code.
    pub default_region: Option<String>,
    /// Top-level domains decoy e-mail masks are drawn from; repeat an entry to make it more
    /// likely. List the ones your users' alternate addresses have, so that no real mask
    /// stands out. Default: `com` (four times), `net`, `org`, `de`, `uk`.
    pub decoy_email_tlds: Vec<String>,
    /// Weights of the first character of decoy e-mail masks (`a` in `a***@g***.com`): keys
    /// are one lower-case letter or digit, values their weights (0..=1000000, at least one
    /// above 0). Default: the initials of given names, digits rare (1 in 100), as real
    /// alternate addresses start; uniform initials made decoys stand out. Adjust it to your
    /// users' languages.
    pub decoy_email_initials: BTreeMap<String, u32>,
    /// Weights of the domain's first character in decoy e-mail masks (`g` in
    /// `a***@g***.com`), as `decoy_email_initials`. Default: the big providers (g for gmail
    /// and gmx about half, then h, o, y, i, m...).
    pub decoy_domain_initials: BTreeMap<String, u32>,
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

/// Whether `url` may be the registration page reminders link to: empty (not set), or an
/// absolute `https://` URL; plain `http://` only to this machine (a demo), since a reminder
/// teaching users to follow a plain-text link would teach them to follow a phisher's.
fn registration_url_ok(url: &str) -> bool {
    if url.is_empty() {
        return true;
    }
    let clean = url.len() <= 2048 && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    let host_start = |rest: &str, host: &str| {
        rest.strip_prefix(host).is_some_and(|after| after.is_empty() || after.starts_with([':', '/', '?', '#']))
    };
    let secure = url.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    let loopback = url
        .strip_prefix("http://")
        .is_some_and(|rest| ["127.0.0.1", "[::1]", "localhost"].iter().any(|host| host_start(rest, host)));
    clean && (secure || loopback)
}

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
            user_failures_before_block: 20,
            client_failures_before_block: 5,
            failures_before_delay: 5,
            failure_delay_secs: 60,
            max_failure_delay_secs: 3600,
            failure_window_secs: 86_400,
            block_secs: 86_400,
            ip_begins_per_hour: 30,
            ip_sends_per_hour: 20,
            sign_in_failures_before_lockout: 5,
            sign_in_lockout_secs: 900,
            ip_sign_ins_per_hour: 60,
            destination_sends_per_hour: 5,
            sms_budget_per_hour: 100,
            sms_budget_reserve_percent: 20,
            failure_alarm_per_hour: 100,
            sms_enabled: false,
            confirm_full_address: false,
            min_response_ms: 300,
            temp_password_length: 16,
            min_temp_password_entropy_bits: 80,
            allow_chosen_password: false,
            chosen_password_min_length: 8,
            password_min_score: 3,
            organisation_name: String::new(),
            password_check_fail_open: false,
            allow_unlock_only: true,
            user_contacts_need_proof: true,
            admin_contacts_need_proof: false,
            contact_proofs_per_hour: 5,
            reconfirm_after_days: 0,
            registration_url: String::new(),
            time_zone: "UTC".to_owned(),
            reminder_interval_days: 7,
            admin_alert_addresses: Vec::new(),
            admin_alert_interval_minutes: 60,
            contact_cooling_off_secs: 86_400,
            eligible_ous: Vec::new(),
            eligible_groups: Vec::new(),
            eligible_administrative_units: Vec::new(),
            privileged_groups: [
                "Domain Admins",
                "Enterprise Admins",
                "Schema Admins",
                "Administrators",
                "Account Operators",
                "Backup Operators",
                "Server Operators",
                "Print Operators",
                // No well-known SID (AD makes it with the DNS role): only its name finds it.
                // Its members can make a DC's DNS service load their DLL, as SYSTEM.
                "DnsAdmins",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            privileged_mode: PrivilegedMode::Refuse,
            decoy_country_codes: Vec::new(),
            default_region: None,
            decoy_email_tlds: ["com", "com", "com", "com", "net", "org", "de", "uk"]
                .into_iter()
                .map(String::from)
                .collect(),
            decoy_email_initials: crate::decoy::default_email_initials(),
            decoy_domain_initials: crate::decoy::default_domain_initials(),
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

/// A table of decoy initials: one lower-case letter or digit per key, weights up to a
/// million, at least one above 0.
fn check_initials(field: &'static str, table: &BTreeMap<String, u32>) -> Result<(), PolicyError> {
    let bad_key = table.keys().find(|k| {
        let mut chars = k.chars();
        !matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    let too_heavy = table.values().any(|&w| w > 1_000_000);
    if bad_key.is_some() || too_heavy || table.values().all(|&w| w == 0) {
        return Err(PolicyError {
            field,
            value: bad_key.map_or_else(|| format!("{table:?}"), |k| format!("key {k:?}")),
            allowed: "one lower-case letter or digit per key, weights 0..=1000000, at least one above 0".into(),
        });
    }
    Ok(())
}

impl Policy {
    /// The time zone `time_zone` names, from the IANA database compiled into sspr.
    pub(crate) fn zone(&self) -> Option<jiff::tz::TimeZone> {
        if self.time_zone.len() > 64 {
            return None;
        }
        jiff::tz::TimeZoneDatabase::bundled().get(&self.time_zone).ok()
    }

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
        check("user_failures_before_block", self.user_failures_before_block, 1..=100)?;
        check("client_failures_before_block", self.client_failures_before_block, 1..=50)?;
        check("failures_before_delay", self.failures_before_delay, 1..=50)?;
        check("failure_delay_secs", self.failure_delay_secs, 0..=3600)?;
        check("max_failure_delay_secs", self.max_failure_delay_secs, 0..=86_400)?;
        check("max_failure_delay_secs", self.max_failure_delay_secs, self.failure_delay_secs..=86_400)?;
        check("failure_window_secs", self.failure_window_secs, 3600..=604_800)?;
        check("block_secs", self.block_secs, 300..=604_800)?;
        check("ip_begins_per_hour", self.ip_begins_per_hour, 1..=100_000)?;
        check("ip_sends_per_hour", self.ip_sends_per_hour, 1..=100_000)?;
        check("contact_proofs_per_hour", self.contact_proofs_per_hour, 1..=100)?;
        check("sign_in_failures_before_lockout", self.sign_in_failures_before_lockout, 1..=50)?;
        check("sign_in_lockout_secs", self.sign_in_lockout_secs, 60..=86_400)?;
        check("ip_sign_ins_per_hour", self.ip_sign_ins_per_hour, 1..=100_000)?;
        check("destination_sends_per_hour", self.destination_sends_per_hour, 1..=100)?;
        check("sms_budget_per_hour", self.sms_budget_per_hour, 0..=1_000_000)?;
        check("sms_budget_reserve_percent", self.sms_budget_reserve_percent, 0..=90)?;
        check("failure_alarm_per_hour", self.failure_alarm_per_hour, 1..=1_000_000)?;
        check("min_response_ms", self.min_response_ms, 0..=10_000)?;
        check("temp_password_length", self.temp_password_length, 12..=64)?;
        check("min_temp_password_entropy_bits", self.min_temp_password_entropy_bits, 64..=256)?;
        check("chosen_password_min_length", self.chosen_password_min_length, 8..=64)?;
        check("password_min_score", self.password_min_score, 0..=4)?;
        check("organisation_name", self.organisation_name.chars().count(), 0..=256)?;
        check("contact_cooling_off_secs", self.contact_cooling_off_secs, 0..=1_209_600)?;
        check("reconfirm_after_days", self.reconfirm_after_days, 0..=730)?;
        check("reminder_interval_days", self.reminder_interval_days, 1..=365)?;
        check("admin_alert_interval_minutes", self.admin_alert_interval_minutes, 1..=1440)?;
        check("admin_alert_addresses", self.admin_alert_addresses.len(), 0..=20)?;
        if let Some(bad) =
            self.admin_alert_addresses.iter().find(|a| crate::input::EmailAddress::parse(a.as_str()).is_err())
        {
            return Err(PolicyError {
                field: "admin_alert_addresses",
                value: bad.chars().take(80).collect(),
                allowed: "e-mail addresses".into(),
            });
        }
        if self.zone().is_none() {
            return Err(PolicyError {
                field: "time_zone",
                value: self.time_zone.chars().take(80).collect(),
                allowed: "an IANA time zone name, like \"Europe/Berlin\" or \"UTC\"".into(),
            });
        }
        if !registration_url_ok(&self.registration_url) {
            return Err(PolicyError {
                field: "registration_url",
                value: self.registration_url.chars().take(80).collect(),
                allowed: "empty, or an https:// URL (http:// only to 127.0.0.1, [::1] or localhost) of at most \
                          2048 characters without spaces"
                    .into(),
            });
        }
        let entropy = crate::password::temp_password_entropy_bits(self.temp_password_length);
        if entropy < f64::from(self.min_temp_password_entropy_bits) {
            return Err(PolicyError {
                field: "temp_password_length",
                value: format!("{} ({entropy:.1} bits)", self.temp_password_length),
                allowed: format!("a length giving at least {} bits", self.min_temp_password_entropy_bits),
            });
        }
        if self.sms_enabled && self.decoy_country_codes.is_empty() {
            return Err(PolicyError {
                field: "decoy_country_codes",
                value: "[]".into(),
                allowed: "at least one country code when sms_enabled (your users' own, so that decoy \
                          numbers look like theirs)"
                    .into(),
            });
        }
        if self
            .decoy_country_codes
            .iter()
            .any(|cc| cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()) || cc.starts_with('0'))
        {
            return Err(PolicyError {
                field: "decoy_country_codes",
                value: format!("{:?}", self.decoy_country_codes),
                allowed: "a list of 1-3 digit country codes".into(),
            });
        }
        if let Some(code) = &self.default_region
            && crate::input::region(code).is_err()
        {
            return Err(PolicyError {
                field: "default_region",
                value: code.clone(),
                allowed: "a region code with a numbering plan (GB, DE, US, ...)".into(),
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
        check_initials("decoy_email_initials", &self.decoy_email_initials)?;
        check_initials("decoy_domain_initials", &self.decoy_domain_initials)?;
        Ok(())
    }

    /// Parse and validate a policy from TOML; missing fields take their defaults.
    ///
    /// A syntax error names its line; a value of the wrong type or an unknown key names the
    /// key (as [`Policy::from_toml_table`] does).
    pub fn from_toml(text: &str) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).map_err(|e| Error::Config(format!("policy: {e}")))?;
        Self::from_toml_table(table)
    }

    /// Read and validate a policy from a TOML table already parsed (a `[policy]` table of a
    /// larger file, perhaps laid over defaults); missing fields take their defaults. A value
    /// of the wrong type names its key (`policy field `pin_length`: invalid type ...`), not a
    /// line: the table may not be the text the operator wrote.
    pub fn from_toml_table(table: toml::Table) -> Result<Self> {
        let policy: Self = serde_path_to_error::deserialize(table).map_err(|e| {
            let message = e.inner().message().to_owned();
            match e.path().iter().next() {
                // An unknown key is named by the message itself, at the table's root.
                None => Error::Config(format!("policy: {message}")),
                Some(_) => Error::Config(format!("policy field `{}`: {message}", e.path())),
            }
        })?;
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
    /// How long a user's next verification waits after their `failures`-th failed one in the
    /// window: nothing up to `failures_before_delay - 1`, then `failure_delay_secs` doubled
    /// at every further failure, at most `max_failure_delay_secs`.
    ///
    /// # Security: brute force under the default policy
    ///
    /// A PIN is 8 digits (10^8 values) and takes 5 tries, so each try succeeds with
    /// probability at most 1/(10^8 - 4), about 10^-8. Against one user, from as many clients
    /// as the attacker likes, tries are bounded by the user-wide count:
    /// - failures 1-5 are free; the delays after failures 5, 6, ... 11 are 60, 120, 240, 480,
    ///   960, 1920 and 3600 s (7380 s), and after 12 to 19 3600 s each (28 800 s): the 20th
    ///   failure comes 36 180 s (10.05 h) after the first, and blocks the user for 24 h;
    /// - the window (24 h from the first failure) ends during the block, so a new round can
    ///   start only when the block ends: one round of 20 tries per 34.05 h at best;
    /// - a year holds 8760 / 34.05 = 257 rounds, 5146 tries: a success probability of
    ///   5146 / 10^8 = **5.1 * 10^-5 per user per year** (about 1 in 19 400).
    ///
    /// (The previous default, 5 failures and a 24 h block with no delays, allowed 5 tries
    /// per 24 h: 1825 a year, 1.8 * 10^-5, but let anyone lock any user out for a day with
    /// 5 wrong PINs from one address. Now one client is blocked after 5 failures for that
    /// user only, and the user-wide block needs 4 clients and 10 hours.) Every try also
    /// needs a PIN delivered to the user (20 tries: at least 4 PINs, each one a message in
    /// the user's mailbox), and the organisation-wide alarm counts every failure.
    pub fn failure_delay(&self, failures: u32) -> Duration {
        self.doubling_delay(failures, self.failures_before_delay)
    }

    /// Nothing before `free` failures, then `failure_delay_secs` doubling with each failure
    /// up to `max_failure_delay_secs`: the one rule of PIN and sign-in delays.
    fn doubling_delay(&self, failures: u32, free: u32) -> Duration {
        let Some(doublings) = failures.checked_sub(free) else {
            return Duration::ZERO;
        };
        let factor = 1u64.checked_shl(doublings.min(63)).unwrap_or(u64::MAX);
        Duration::from_secs(self.failure_delay_secs.saturating_mul(factor).min(self.max_failure_delay_secs))
    }
    /// Sign-in attempts of one login, from all clients together, in its window of
    /// `sign_in_lockout_secs` that lock the login out everywhere: [`Policy::ALL_CLIENTS_FACTOR`]
    /// times `sign_in_failures_before_lockout` (which holds each client).
    pub fn sign_in_failures_all_clients(&self) -> u32 {
        self.sign_in_failures_before_lockout.saturating_mul(Self::ALL_CLIENTS_FACTOR)
    }
    /// How long a login's next sign-in waits after its `failures`-th failure in the window,
    /// from all clients: nothing before `sign_in_failures_before_lockout` (one client's
    /// whole share), then `failure_delay_secs` doubling up to `max_failure_delay_secs`, as for
    /// PINs. With the defaults a window of 15 minutes then holds 4 more attempts (after 60,
    /// 120, 240 and 480 s): 9 from all clients together, where a lone client has 5.
    pub fn sign_in_delay(&self, failures: u32) -> Duration {
        self.doubling_delay(failures, self.sign_in_failures_before_lockout)
    }
    /// PIN sends for one user per hour from all clients together: [`Policy::ALL_CLIENTS_FACTOR`]
    /// times `user_sends_per_hour` (which holds each client). The flood bound for one user.
    pub fn user_sends_all_clients_per_hour(&self) -> u32 {
        self.user_sends_per_hour.saturating_mul(Self::ALL_CLIENTS_FACTOR)
    }
    /// Codes sent to one destination per hour from all clients together:
    /// [`Policy::ALL_CLIENTS_FACTOR`] times `destination_sends_per_hour` (which holds each
    /// client). The bound on flooding an address.
    pub fn destination_sends_all_clients_per_hour(&self) -> u32 {
        self.destination_sends_per_hour.saturating_mul(Self::ALL_CLIENTS_FACTOR)
    }
    /// How many times a per-client send cap the count from all clients together may reach.
    /// One client fills only its own share, so a stranger cannot use up a victim's sends; 4
    /// as for failed verifications (`client_failures_before_block` 5, the user-wide block 20).
    pub const ALL_CLIENTS_FACTOR: u32 = 4;
    /// The SMS a user with failed verifications may still draw from the hourly budget.
    pub(crate) fn sms_budget_without_reserve(&self) -> u32 {
        let kept = u64::from(self.sms_budget_per_hour) * u64::from(self.sms_budget_reserve_percent) / 100;
        u32::try_from(u64::from(self.sms_budget_per_hour).saturating_sub(kept)).unwrap_or(0)
    }
    pub(crate) fn block_duration(&self) -> Duration {
        Duration::from_secs(self.block_secs)
    }
    pub(crate) fn contact_cooling_off(&self) -> Duration {
        Duration::from_secs(self.contact_cooling_off_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_zone_is_an_iana_name() {
        for bad in ["Mars/Olympus", "", "+01:00", "Europe/Berlin ", &"a/".repeat(40)] {
            let policy = Policy { time_zone: bad.to_owned(), ..Policy::default() };
            assert_eq!(policy.validate().map_err(|e| e.field), Err("time_zone"), "{bad:?}");
        }
        for ok in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"] {
            Policy { time_zone: ok.to_owned(), ..Policy::default() }.validate().unwrap();
        }
        assert_eq!(Policy::default().time_zone, "UTC");
    }

    const WRONG_VALUES: [(&str, &str); 4] = [
        ("pin_length = \"six\"", "policy field `pin_length`"),
        ("\n\nsms_enabled = 1", "policy field `sms_enabled`"),
        ("privileged_groups = [\"a\", 2]", "policy field `privileged_groups[1]`"),
        ("no_such_field = 1", "no_such_field"),
    ];

    /// A value of the wrong type is named by its key, not by a line (the portal's `[policy]`
    /// is not the text the operator wrote; a binding's policy file is read the same way).
    #[test]
    fn a_value_of_the_wrong_type_or_an_unknown_key_is_named_by_its_key() {
        for (text, key) in WRONG_VALUES {
            let err = Policy::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(key) && !err.contains("line "), "{text}: {err}");
        }
        // A syntax error has no key to name: its line is named.
        let err = Policy::from_toml("pin_length = = 6").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    /// A table already parsed (the portal's `[policy]`) is read and named the same way.
    #[test]
    fn a_table_is_read_as_its_text_is() {
        for (text, _) in WRONG_VALUES {
            let table: toml::Table = toml::from_str(text).unwrap();
            let err = Policy::from_toml_table(table).unwrap_err().to_string();
            assert_eq!(err, Policy::from_toml(text).unwrap_err().to_string(), "{text}");
        }
        let table: toml::Table = toml::from_str("pin_length = 7").unwrap();
        assert_eq!(Policy::from_toml_table(table).unwrap(), Policy::from_toml("pin_length = 7").unwrap());
    }

    #[test]
    fn registration_settings_are_bounded_and_named() {
        for (text, field) in [
            ("reconfirm_after_days = 731", "reconfirm_after_days"),
            ("reminder_interval_days = 0", "reminder_interval_days"),
            ("registration_url = \"http://portal.example.org/passwordnotification\"", "registration_url"),
            ("registration_url = \"https://\"", "registration_url"),
            ("registration_url = \"https://a b\"", "registration_url"),
            ("registration_url = \"/passwordnotification\"", "registration_url"),
            ("registration_url = \"http://localhost.evil.example/\"", "registration_url"),
        ] {
            let err = Policy::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(field), "{text}: {err}");
        }
        for ok in [
            "reconfirm_after_days = 730",
            "registration_url = \"https://sspr.example.org/passwordnotification\"",
            "registration_url = \"http://127.0.0.1:8080/passwordnotification\"",
            "registration_url = \"http://localhost\"",
        ] {
            Policy::from_toml(ok).unwrap();
        }
    }

    /// Tries a guesser with as many clients as it likes gets against one user in a year,
    /// played out second by second of the policy's rules (see [`Policy::failure_delay`]).
    fn brute_force_tries_per_year(policy: &Policy) -> u64 {
        let year = 365 * 86_400;
        let (mut t, mut tries) = (0u64, 0u64);
        while t < year {
            // One window: tries as fast as the delays allow, up to the user-wide block, which
            // starts at the last try; the next window opens when the block and this window end.
            let window_end = t + policy.failure_window_secs;
            let mut next = window_end;
            for count in 1..=policy.user_failures_before_block {
                if t >= year || t >= window_end {
                    break;
                }
                tries += 1;
                if count == policy.user_failures_before_block {
                    next = next.max(t + policy.block_secs);
                } else {
                    t += policy.failure_delay(count).as_secs();
                }
            }
            t = next;
        }
        tries
    }

    #[test]
    fn brute_force_under_the_default_policy_is_5_in_100000_per_user_per_year() {
        let policy = Policy::default();
        let tries = brute_force_tries_per_year(&policy);
        // Each try is one of 10^8 PINs (at most 5 tries per PIN, none repeated).
        let space = 10f64.powi(policy.pin_length as i32);
        let probability = tries as f64 / space;
        assert!((5100..=5200).contains(&tries), "{tries}");
        assert!((5.0e-5..5.3e-5).contains(&probability), "{probability}");
        // Locking a user out everywhere takes several clients.
        assert_eq!(policy.user_failures_before_block.div_ceil(policy.client_failures_before_block), 4);
    }

    #[test]
    fn delays_start_after_the_free_failures_double_and_stop_at_the_maximum() {
        let policy = Policy::default();
        let delays: Vec<u64> = (1..=13).map(|k| policy.failure_delay(k).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(policy.failure_delay(u32::MAX).as_secs(), 3600);
        let off = Policy { failure_delay_secs: 0, max_failure_delay_secs: 0, ..Policy::default() };
        assert_eq!(off.failure_delay(40), Duration::ZERO);
        assert_eq!(Policy::default().sms_budget_without_reserve(), 80);
    }
}
