//! The structs that cross the C API: inputs borrowed from C, results owned by the caller.

use std::ffi::c_char;

use sspr_core::{Locale, RequestContext};

use super::enums::{Named, SsprChannel, SsprCompletionMode};
use super::{SsprError, free_string, opt_str_arg, raw_opt_string, raw_string};

/// Who calls: borrowed for the duration of the call. A NULL `SsprRequestContext *` (or every
/// field NULL) means no IP address, no user agent, English.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprRequestContext {
    /// The client's IP address as text (`"192.0.2.7"`, `"2001:db8::1"`; surrounding spaces
    /// ignored), or NULL. Anything else (a port, brackets, a host name) is
    /// `SSPR_STATUS_INVALID_INPUT`, field `"client_ip"`: the per-IP limits depend on it.
    pub client_ip: *const c_char,
    /// The client's user agent, or NULL.
    pub user_agent: *const c_char,
    /// A language the caller names explicitly, as a language tag (`"de"`, `"de-CH"`, `"EN"`:
    /// the primary subtag decides), or NULL. One sspr does not speak (`"pl"`) or a malformed
    /// one is `SSPR_STATUS_INVALID_INPUT`, field `"locale"`. It wins over `accept_language`.
    pub locale: *const c_char,
    /// The browser's `Accept-Language` header, or NULL: picks the locale when `locale` is
    /// NULL, and never fails (nothing supported in it, or a malformed header, is English).
    pub accept_language: *const c_char,
}

/// Read a request context (`RequestContext::from_parts`, then the explicit locale, as every
/// binding does).
///
/// # Safety
/// `ctx` is NULL or points to a valid `SsprRequestContext` whose strings are NULL or valid.
pub(crate) unsafe fn request_context(ctx: *const SsprRequestContext) -> Result<RequestContext, SsprError> {
    // SAFETY: NULL or valid, per this function's contract.
    let Some(ctx) = (unsafe { ctx.as_ref() }) else { return Ok(RequestContext::default()) };
    // SAFETY: the strings are NULL or valid, per this function's contract.
    let (client_ip, user_agent, locale, accept_language) = unsafe {
        (
            opt_str_arg(ctx.client_ip, "client_ip")?,
            opt_str_arg(ctx.user_agent, "user_agent")?,
            opt_str_arg(ctx.locale, "locale")?,
            opt_str_arg(ctx.accept_language, "accept_language")?,
        )
    };
    let mut out = RequestContext::from_parts(client_ip, accept_language)?;
    out.user_agent = user_agent.map(str::to_owned);
    if let Some(tag) = locale {
        out.locale = tag.parse::<Locale>()?;
    }
    Ok(out)
}

/// One way a PIN can be sent.
#[repr(C)]
#[derive(Debug)]
pub struct SsprMethod {
    /// The method id to pass to `sspr_send_pin` (`"email"`, `"sms"`).
    pub id: *mut c_char,
    /// The channel.
    pub channel: SsprChannel,
    /// The masked destination (`j***@e***.org`).
    pub masked: *mut c_char,
    /// Whether `sspr_send_pin` needs the full address or number in `confirm`.
    pub needs_confirmation: bool,
}

/// The answer to `sspr_begin_reset`. Free with `sspr_challenge_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprChallenge {
    /// The flow id to pass to the next steps.
    pub flow_id: *mut c_char,
    /// The methods (`methods_len` of them).
    pub methods: *mut SsprMethod,
    /// How many methods.
    pub methods_len: usize,
    /// When the flow expires (Unix seconds).
    pub expires_at: i64,
}

impl SsprChallenge {
    pub(crate) fn new(challenge: sspr_core::ResetChallenge) -> Self {
        let methods: Vec<SsprMethod> = challenge
            .methods
            .into_iter()
            .map(|m| SsprMethod {
                id: raw_string(m.id),
                channel: SsprChannel::from_core_name(m.channel.as_str()).unwrap_or(SsprChannel::Email),
                masked: raw_string(m.masked),
                needs_confirmation: m.needs_confirmation,
            })
            .collect();
        let (methods, methods_len) = raw_slice(methods);
        Self {
            flow_id: raw_string(challenge.flow_id),
            methods,
            methods_len,
            expires_at: challenge.expires_at.unix_timestamp(),
        }
    }
}

/// The answer to `sspr_send_pin` (plain values, nothing to free).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct SsprPinSent {
    /// When the PIN expires (Unix seconds).
    pub expires_at: i64,
    /// When a new PIN may be requested at the earliest (Unix seconds).
    pub resend_after: i64,
    /// Wrong PINs allowed before this one is void.
    pub attempts_left: u32,
}

impl From<sspr_core::PinSent> for SsprPinSent {
    fn from(sent: sspr_core::PinSent) -> Self {
        Self {
            expires_at: sent.expires_at.unix_timestamp(),
            resend_after: sent.resend_after.unix_timestamp(),
            attempts_left: sent.attempts_left,
        }
    }
}

/// The answer to `sspr_request_contact_proof`: pass `proof_id` and the code the user typed
/// to `sspr_confirm_contact_proof`. Free with `sspr_contact_proof_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprContactProof {
    /// Names the pending proof (not a secret: the code is).
    pub proof_id: *mut c_char,
    /// Where the code went.
    pub channel: SsprChannel,
    /// The destination, masked.
    pub masked: *mut c_char,
    /// When the code stops working (Unix seconds).
    pub expires_at: i64,
}

impl SsprContactProof {
    pub(crate) fn new(proof: sspr_core::ContactProof) -> Self {
        Self {
            proof_id: raw_string(proof.proof_id),
            channel: SsprChannel::from_core_name(proof.channel.as_str()).unwrap_or(SsprChannel::Email),
            masked: raw_string(proof.masked),
            expires_at: proof.expires_at.unix_timestamp(),
        }
    }
}

/// The answer to `sspr_admin_recovery`: the helpdesk recovery code to read out to the user
/// once. Free with `sspr_recovery_code_free`, which wipes the code.
#[repr(C)]
#[derive(Debug)]
pub struct SsprRecoveryCode {
    /// The code (digits, NUL-terminated). A secret: show it once, never log it.
    pub code: *mut c_char,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
}

impl SsprRecoveryCode {
    pub(crate) fn new(code: sspr_core::RecoveryCode) -> Self {
        Self { code: raw_string(code.code.expose_secret().to_owned()), expires_at: code.expires_at.unix_timestamp() }
    }
}

/// The answer to `sspr_admin_send_recovery_code`: where the code went (never the code). Free
/// with `sspr_recovery_sent_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprRecoverySent {
    /// The channel the code went by.
    pub channel: SsprChannel,
    /// The destination, masked.
    pub masked: *mut c_char,
    /// When the code stops working (Unix seconds).
    pub expires_at: i64,
}

impl SsprRecoverySent {
    pub(crate) fn new(sent: sspr_core::RecoverySent) -> Self {
        Self {
            channel: SsprChannel::from_core_name(sent.channel.as_str()).unwrap_or(SsprChannel::Email),
            masked: raw_string(sent.masked),
            expires_at: sent.expires_at.unix_timestamp(),
        }
    }
}

/// The answer to `sspr_redeem_recovery_code`: a reset flow at the verified step (give
/// `flow_id` to `sspr_complete_reset`). Free with `sspr_recovered_free`, which wipes the flow
/// id (a credential).
#[repr(C)]
#[derive(Debug)]
pub struct SsprRecovered {
    /// The verified flow.
    pub flow_id: *mut c_char,
    /// The completion modes allowed, the default first (`modes_len`).
    pub modes: *mut SsprCompletionMode,
    /// How many modes.
    pub modes_len: usize,
    /// When the flow expires (Unix seconds).
    pub expires_at: i64,
}

impl SsprRecovered {
    pub(crate) fn new(recovered: sspr_core::Recovered) -> Self {
        let (modes, modes_len) = raw_slice(recovered.modes.into_iter().map(completion_mode).collect());
        Self {
            flow_id: raw_string(recovered.flow_id),
            modes,
            modes_len,
            expires_at: recovered.expires_at.unix_timestamp(),
        }
    }
}

/// The answer to `sspr_verify_pin`. Free with `sspr_verified_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprVerified {
    /// The completion modes allowed, the default first (`modes_len`); none while
    /// `remaining_methods_len` is not 0.
    pub modes: *mut SsprCompletionMode,
    /// How many modes.
    pub modes_len: usize,
    /// Method ids whose PIN must still be verified (a privileged user in two-method mode).
    pub remaining_methods: *mut *mut c_char,
    /// How many remaining methods.
    pub remaining_methods_len: usize,
}

/// A core mode as C's (every mode has its C value: `enums.rs`'s test).
fn completion_mode(mode: sspr_core::CompletionMode) -> SsprCompletionMode {
    SsprCompletionMode::from_core_name(mode.as_str()).unwrap_or(SsprCompletionMode::Temporary)
}

impl SsprVerified {
    pub(crate) fn new(verified: sspr_core::Verified) -> Self {
        let (modes, modes_len) = raw_slice(verified.modes.into_iter().map(completion_mode).collect());
        let (remaining_methods, remaining_methods_len) =
            raw_slice(verified.remaining_methods.into_iter().map(raw_string).collect());
        Self { modes, modes_len, remaining_methods, remaining_methods_len }
    }
}

/// The answer to `sspr_complete_reset`. Free with `sspr_reset_outcome_free`, which wipes
/// the temporary password.
#[repr(C)]
#[derive(Debug)]
pub struct SsprResetOutcome {
    /// The temporary password to show once (mode `TEMPORARY`), else NULL.
    pub temporary_password: *mut c_char,
    /// Whether the user must change the password at next sign-in.
    pub must_change: bool,
    /// Whether a lockout was cleared.
    pub unlocked: bool,
}

impl SsprResetOutcome {
    pub(crate) fn new(outcome: sspr_core::ResetOutcome) -> Self {
        Self {
            temporary_password: raw_opt_string(outcome.temporary_password.as_ref().map(|p| p.expose_secret())),
            must_change: outcome.must_change,
            unlocked: outcome.unlocked,
        }
    }
}

/// A user's registered contact details (`sspr_contacts`, `sspr_update_contacts`). Free with
/// `sspr_contacts_free`. Absent details are NULL.
#[repr(C)]
#[derive(Debug)]
pub struct SsprContacts {
    /// The alternate e-mail address in full, or NULL.
    pub email: *mut c_char,
    /// The masked address, or NULL.
    pub email_masked: *mut c_char,
    /// From when PINs may go to it (Unix seconds; 0 when absent).
    pub email_usable_from: i64,
    /// The mobile number in E.164, or NULL.
    pub phone: *mut c_char,
    /// The masked number, or NULL.
    pub phone_masked: *mut c_char,
    /// From when PINs may go to it (Unix seconds; 0 when absent).
    pub phone_usable_from: i64,
    /// Ask the user whether these are still right (`sspr_confirm_contacts` confirms them).
    pub confirm_due: bool,
}

impl SsprContacts {
    pub(crate) fn new(contacts: sspr_core::Contacts) -> Self {
        let split = |view: Option<sspr_core::ContactView>| match view {
            Some(v) => (raw_string(v.value), raw_string(v.masked), v.usable_from.unix_timestamp()),
            None => (std::ptr::null_mut(), std::ptr::null_mut(), 0),
        };
        let (email, email_masked, email_usable_from) = split(contacts.email);
        let (phone, phone_masked, phone_usable_from) = split(contacts.phone);
        let confirm_due = contacts.confirm_due;
        Self { email, email_masked, email_usable_from, phone, phone_masked, phone_usable_from, confirm_due }
    }
}

/// One user's SSPR state (`sspr_status`). Free with `sspr_user_status_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprUserStatus {
    /// The directory's id of the user.
    pub user_id: *mut c_char,
    /// The login.
    pub login: *mut c_char,
    /// The display name.
    pub display_name: *mut c_char,
    /// SSPR enabled for the user.
    pub enabled: bool,
    /// Inside the eligible OUs / groups.
    pub eligible: bool,
    /// A member of a privileged group.
    pub privileged: bool,
    /// The directory account is disabled or expired.
    pub account_disabled: bool,
    /// The directory account is locked out.
    pub account_locked: bool,
    /// The masked e-mail address, or NULL.
    pub email_masked: *mut c_char,
    /// The masked phone number, or NULL.
    pub phone_masked: *mut c_char,
    /// Whether self-service reset is blocked.
    pub blocked: bool,
    /// Until when (Unix seconds; 0 when not blocked).
    pub blocked_until: i64,
    /// Whether a reset through sspr happened.
    pub has_last_reset: bool,
    /// When (Unix seconds; 0 when never).
    pub last_reset_at: i64,
}

impl SsprUserStatus {
    pub(crate) fn new(status: sspr_core::UserStatus) -> Self {
        Self {
            user_id: raw_string(status.user_id.as_str()),
            login: raw_string(status.login),
            display_name: raw_string(status.display_name),
            enabled: status.enabled,
            eligible: status.eligible,
            privileged: status.privileged,
            account_disabled: status.account_disabled,
            account_locked: status.account_locked,
            email_masked: raw_opt_string(status.email_masked),
            phone_masked: raw_opt_string(status.phone_masked),
            blocked: status.blocked_until.is_some(),
            blocked_until: status.blocked_until.map_or(0, |t| t.unix_timestamp()),
            has_last_reset: status.last_reset_at.is_some(),
            last_reset_at: status.last_reset_at.map_or(0, |t| t.unix_timestamp()),
        }
    }

    /// Free the strings inside.
    ///
    /// # Safety
    /// The strings came from [`SsprUserStatus::new`] and were not freed.
    pub(crate) unsafe fn free_fields(&mut self) {
        for s in [self.user_id, self.login, self.display_name, self.email_masked, self.phone_masked] {
            // SAFETY: each came from `raw_string` (or is NULL), per this function's contract.
            unsafe { free_string(s, false) };
        }
    }
}

/// The answer to `sspr_sign_in`: who signed in. Free with `sspr_signed_in_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprSignedIn {
    /// The directory's id of the user.
    pub user_id: *mut c_char,
    /// The login as the directory stores it (use it for the user's later calls).
    pub login: *mut c_char,
    /// The display name.
    pub display_name: *mut c_char,
    /// The password is a temporary one that must be changed first.
    pub must_change: bool,
}

impl SsprSignedIn {
    pub(crate) fn new(s: sspr_core::SignedIn) -> Self {
        Self {
            user_id: raw_string(s.user_id.as_str()),
            login: raw_string(s.login),
            display_name: raw_string(s.display_name),
            must_change: s.must_change,
        }
    }
}

/// The answer to `sspr_password_rules`: the rules a new password must meet, to show before
/// the user types. A rule the directory does not say is -1. Free with
/// `sspr_password_rules_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprPasswordRules {
    /// The fewest characters, or -1.
    pub min_length: i64,
    /// How many previous passwords may not be used again, or -1.
    pub history_length: i64,
    /// 1: the password must mix character classes; 0: it need not; -1: not known.
    pub complexity: i64,
    /// Seconds a password must be kept before the user may change it again, or -1.
    pub min_age_secs: i64,
}

impl SsprPasswordRules {
    pub(crate) fn new(r: sspr_core::PasswordRules) -> Self {
        let known = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok()).unwrap_or(-1);
        Self {
            min_length: known(r.min_length.map(u64::from)),
            history_length: known(r.history_length.map(u64::from)),
            complexity: r.complexity.map_or(-1, i64::from),
            min_age_secs: known(r.min_age_secs),
        }
    }
}

/// Free a password-rules answer (NULL is allowed).
///
/// # Safety
/// `rules` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_password_rules_free(rules: *mut SsprPasswordRules) {
    // SAFETY: per this function's contract.
    drop(unsafe { take_box(rules) });
}

/// The answer to `sspr_search_users`. Free with `sspr_user_status_list_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprUserStatusList {
    /// The users (`len` of them).
    pub items: *mut SsprUserStatus,
    /// How many.
    pub len: usize,
}

impl SsprUserStatusList {
    pub(crate) fn new(users: Vec<sspr_core::UserStatus>) -> Self {
        let (items, len) = raw_slice(users.into_iter().map(SsprUserStatus::new).collect());
        Self { items, len }
    }
}

/// Free a sign-in answer (NULL is allowed).
///
/// # Safety
/// `signed_in` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_signed_in_free(signed_in: *mut SsprSignedIn) {
    // SAFETY: per this function's contract.
    let Some(s) = (unsafe { take_box(signed_in) }) else { return };
    for p in [s.user_id, s.login, s.display_name] {
        // SAFETY: made by `SsprSignedIn::new`.
        unsafe { free_string(p, false) };
    }
}

/// Free a search answer (NULL is allowed).
///
/// # Safety
/// `list` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_user_status_list_free(list: *mut SsprUserStatusList) {
    // SAFETY: per this function's contract.
    let Some(l) = (unsafe { take_box(list) }) else { return };
    // SAFETY: made by `SsprUserStatusList::new`.
    for mut status in unsafe { take_slice(l.items, l.len) } {
        // SAFETY: made by `SsprUserStatus::new`.
        unsafe { status.free_fields() };
    }
}

/// One user's line of an `SsprEnrollmentReport` (contacts masked). Times are Unix seconds, 0
/// when absent.
#[repr(C)]
#[derive(Debug)]
pub struct SsprEnrollmentEntry {
    /// The directory's id of the user.
    pub user_id: *mut c_char,
    /// The login.
    pub login: *mut c_char,
    /// The display name.
    pub display_name: *mut c_char,
    /// SSPR is enabled for the user.
    pub enabled: bool,
    /// Inside the policy's eligible OUs / groups.
    pub eligible: bool,
    /// A member of a privileged group (never reminded).
    pub privileged: bool,
    /// The directory account is disabled or expired.
    pub account_disabled: bool,
    /// The masked e-mail address, or NULL.
    pub email_masked: *mut c_char,
    /// The masked phone number, or NULL.
    pub phone_masked: *mut c_char,
    /// The directory has a mailbox for the user.
    pub has_directory_mail: bool,
    /// When the contacts were last confirmed or changed.
    pub contacts_confirmed_at: i64,
    /// When the password was last reset through sspr.
    pub last_reset_at: i64,
    /// Until when self-service reset is blocked.
    pub blocked_until: i64,
    /// Enabled without a contact.
    pub without_contacts: bool,
    /// Contacts older than the report's stale age.
    pub stale: bool,
    /// Registered, never reset through sspr.
    pub never_used: bool,
    /// Blocked now.
    pub blocked: bool,
}

/// The counts of an `SsprEnrollmentReport`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SsprEnrollmentCounts {
    /// Users covered.
    pub users: u64,
    /// Enabled.
    pub enabled: u64,
    /// Enabled with a contact.
    pub registered: u64,
    /// Enabled without a contact.
    pub without_contacts: u64,
    /// With stale contacts.
    pub stale: u64,
    /// Registered and never used.
    pub never_used: u64,
    /// Blocked now.
    pub blocked: u64,
    /// Privileged.
    pub privileged: u64,
    /// Without a directory mailbox.
    pub without_mail: u64,
}

/// The answer to `sspr_enrollment_report`. Free with `sspr_enrollment_report_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprEnrollmentReport {
    /// When the report was made (Unix seconds).
    pub generated_at: i64,
    /// The age in days from which contacts are stale.
    pub stale_after_days: u32,
    /// The counts.
    pub counts: SsprEnrollmentCounts,
    /// One entry per covered user, sorted by login (`users_len` of them).
    pub users: *mut SsprEnrollmentEntry,
    /// How many.
    pub users_len: usize,
    /// The directory listing was cut short.
    pub truncated: bool,
}

fn unix(at: Option<time::OffsetDateTime>) -> i64 {
    at.map_or(0, time::OffsetDateTime::unix_timestamp)
}

impl SsprEnrollmentReport {
    pub(crate) fn new(r: sspr_core::EnrollmentReport) -> Self {
        let c = r.counts;
        let entries = r
            .users
            .into_iter()
            .map(|e| SsprEnrollmentEntry {
                user_id: raw_string(e.user_id.as_str()),
                login: raw_string(e.login),
                display_name: raw_string(e.display_name),
                enabled: e.enabled,
                eligible: e.eligible,
                privileged: e.privileged,
                account_disabled: e.account_disabled,
                email_masked: raw_opt_string(e.email_masked),
                phone_masked: raw_opt_string(e.phone_masked),
                has_directory_mail: e.has_directory_mail,
                contacts_confirmed_at: unix(e.contacts_confirmed_at),
                last_reset_at: unix(e.last_reset_at),
                blocked_until: unix(e.blocked_until),
                without_contacts: e.without_contacts,
                stale: e.stale,
                never_used: e.never_used,
                blocked: e.blocked,
            })
            .collect();
        let (users, users_len) = raw_slice(entries);
        Self {
            generated_at: r.generated_at.unix_timestamp(),
            stale_after_days: r.stale_after_days,
            counts: SsprEnrollmentCounts {
                users: c.users,
                enabled: c.enabled,
                registered: c.registered,
                without_contacts: c.without_contacts,
                stale: c.stale,
                never_used: c.never_used,
                blocked: c.blocked,
                privileged: c.privileged,
                without_mail: c.without_mail,
            },
            users,
            users_len,
            truncated: r.truncated,
        }
    }
}

/// The answer to `sspr_send_registration_reminders`. Free with `sspr_reminder_run_free`.
#[repr(C)]
#[derive(Debug)]
pub struct SsprReminderRun {
    /// The logins reminded, sorted (`reminded_len` strings).
    pub reminded: *mut *mut c_char,
    /// How many.
    pub reminded_len: usize,
    /// Reminded within the policy's `reminder_interval_days` already.
    pub already_reminded: u64,
    /// Without a directory mailbox.
    pub without_mail: u64,
    /// Privileged: never reminded.
    pub skipped_privileged: u64,
    /// Cannot register (account disabled, not eligible).
    pub skipped_ineligible: u64,
    /// Refused by the notifier (retried at the next run).
    pub failed: u64,
}

impl SsprReminderRun {
    pub(crate) fn new(r: sspr_core::ReminderRun) -> Self {
        let (reminded, reminded_len) = raw_slice(r.reminded.into_iter().map(raw_string).collect());
        Self {
            reminded,
            reminded_len,
            already_reminded: r.already_reminded,
            without_mail: r.without_mail,
            skipped_privileged: r.skipped_privileged,
            skipped_ineligible: r.skipped_ineligible,
            failed: r.failed,
        }
    }
}

/// Free an enrollment report (NULL is allowed).
///
/// # Safety
/// `report` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_enrollment_report_free(report: *mut SsprEnrollmentReport) {
    // SAFETY: per this function's contract.
    let Some(r) = (unsafe { take_box(report) }) else { return };
    // SAFETY: made by `SsprEnrollmentReport::new`.
    for e in unsafe { take_slice(r.users, r.users_len) } {
        for s in [e.user_id, e.login, e.display_name, e.email_masked, e.phone_masked] {
            // SAFETY: each came from `raw_string` (or is NULL).
            unsafe { free_string(s, false) };
        }
    }
}

/// Free a reminder run's answer (NULL is allowed).
///
/// # Safety
/// `run` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_reminder_run_free(run: *mut SsprReminderRun) {
    // SAFETY: per this function's contract.
    let Some(r) = (unsafe { take_box(run) }) else { return };
    // SAFETY: made by `SsprReminderRun::new`.
    for s in unsafe { take_slice(r.reminded, r.reminded_len) } {
        // SAFETY: came from `raw_string`.
        unsafe { free_string(s, false) };
    }
}

/// A vector handed to C as a pointer and a length (NULL and 0 when empty).
pub(crate) fn raw_slice<T>(items: Vec<T>) -> (*mut T, usize) {
    if items.is_empty() {
        return (std::ptr::null_mut(), 0);
    }
    let len = items.len();
    (Box::into_raw(items.into_boxed_slice()).cast::<T>(), len)
}

/// Take back a vector from [`raw_slice`].
///
/// # Safety
/// `(ptr, len)` came from [`raw_slice`] and was not taken back yet.
pub(crate) unsafe fn take_slice<T>(ptr: *mut T, len: usize) -> Vec<T> {
    if ptr.is_null() {
        return Vec::new();
    }
    // SAFETY: per this function's contract, `ptr` is a boxed slice of `len` items.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) }.into_vec()
}

/// Take back a boxed result handed out as a raw pointer.
///
/// # Safety
/// `ptr` is NULL or came from `Box::into_raw` of a `T` and was not freed.
pub(crate) unsafe fn take_box<T>(ptr: *mut T) -> Option<Box<T>> {
    // SAFETY: per this function's contract.
    (!ptr.is_null()).then(|| unsafe { Box::from_raw(ptr) })
}

/// Free a challenge (NULL is allowed).
///
/// # Safety
/// `challenge` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_challenge_free(challenge: *mut SsprChallenge) {
    // SAFETY: per this function's contract.
    let Some(c) = (unsafe { take_box(challenge) }) else { return };
    // SAFETY: every pointer inside was made by `SsprChallenge::new`.
    unsafe {
        // Wiped: once the user verifies, the flow id alone completes the reset.
        free_string(c.flow_id, true);
        for m in take_slice(c.methods, c.methods_len) {
            free_string(m.id, false);
            free_string(m.masked, false);
        }
    }
}

/// Free a verification answer (NULL is allowed).
///
/// # Safety
/// `verified` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_verified_free(verified: *mut SsprVerified) {
    // SAFETY: per this function's contract.
    let Some(v) = (unsafe { take_box(verified) }) else { return };
    // SAFETY: every pointer inside was made by `SsprVerified::new`.
    unsafe {
        drop(take_slice(v.modes, v.modes_len));
        for s in take_slice(v.remaining_methods, v.remaining_methods_len) {
            free_string(s, false);
        }
    }
}

/// Free a reset outcome, wiping the temporary password (NULL is allowed).
///
/// # Safety
/// `outcome` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_reset_outcome_free(outcome: *mut SsprResetOutcome) {
    // SAFETY: per this function's contract.
    let Some(o) = (unsafe { take_box(outcome) }) else { return };
    // SAFETY: made by `SsprResetOutcome::new`.
    unsafe { free_string(o.temporary_password, true) };
}

/// Free a contact proof's answer (NULL is allowed).
///
/// # Safety
/// `proof` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_contact_proof_free(proof: *mut SsprContactProof) {
    // SAFETY: per this function's contract.
    let Some(p) = (unsafe { take_box(proof) }) else { return };
    // SAFETY: made by `SsprContactProof::new`.
    unsafe {
        free_string(p.proof_id, false);
        free_string(p.masked, false);
    }
}

/// Free a helpdesk recovery code, wiping the code (NULL is allowed).
///
/// # Safety
/// `code` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_recovery_code_free(code: *mut SsprRecoveryCode) {
    // SAFETY: per this function's contract.
    let Some(c) = (unsafe { take_box(code) }) else { return };
    // SAFETY: made by `SsprRecoveryCode::new`.
    unsafe { free_string(c.code, true) };
}

/// Free the answer of `sspr_admin_send_recovery_code` (NULL is allowed).
///
/// # Safety
/// `sent` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_recovery_sent_free(sent: *mut SsprRecoverySent) {
    // SAFETY: per this function's contract.
    let Some(s) = (unsafe { take_box(sent) }) else { return };
    // SAFETY: made by `SsprRecoverySent::new`.
    unsafe { free_string(s.masked, false) };
}

/// Free a redeemed recovery code's answer, wiping the flow id (NULL is allowed).
///
/// # Safety
/// `recovered` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_recovered_free(recovered: *mut SsprRecovered) {
    // SAFETY: per this function's contract.
    let Some(r) = (unsafe { take_box(recovered) }) else { return };
    // SAFETY: every pointer inside was made by `SsprRecovered::new`.
    unsafe {
        free_string(r.flow_id, true);
        drop(take_slice(r.modes, r.modes_len));
    }
}

/// Free contact details (NULL is allowed).
///
/// # Safety
/// `contacts` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_contacts_free(contacts: *mut SsprContacts) {
    // SAFETY: per this function's contract.
    let Some(c) = (unsafe { take_box(contacts) }) else { return };
    for s in [c.email, c.email_masked, c.phone, c.phone_masked] {
        // SAFETY: made by `SsprContacts::new`.
        unsafe { free_string(s, false) };
    }
}

/// Free a user status (NULL is allowed).
///
/// # Safety
/// `status` is NULL or was handed out by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sspr_user_status_free(status: *mut SsprUserStatus) {
    // SAFETY: per this function's contract.
    if let Some(mut s) = unsafe { take_box(status) } {
        // SAFETY: made by `SsprUserStatus::new`.
        unsafe { s.free_fields() };
    }
}
