//! Every string the pages show, in English and German. The language comes from the
//! request's `Accept-Language` (`Locale::from_accept_language`).

use std::time::Duration;

use sspr_core::Locale;
use time::OffsetDateTime;

/// The fixed strings of one language.
#[derive(Debug)]
pub(crate) struct Text {
    pub(crate) lang: &'static str,
    pub(crate) brand: &'static str,
    pub(crate) index_intro: &'static str,
    pub(crate) index_reset: &'static str,
    pub(crate) index_register: &'static str,
    pub(crate) index_admin: &'static str,
    pub(crate) index_outbox: &'static str,
    pub(crate) reset_title: &'static str,
    pub(crate) reset_intro: &'static str,
    pub(crate) login_label: &'static str,
    pub(crate) continue_btn: &'static str,
    pub(crate) methods_intro: &'static str,
    pub(crate) via_email: &'static str,
    pub(crate) via_sms: &'static str,
    pub(crate) confirm_label: &'static str,
    pub(crate) send_btn: &'static str,
    pub(crate) start_over: &'static str,
    pub(crate) pin_label: &'static str,
    pub(crate) verify_btn: &'static str,
    pub(crate) new_code: &'static str,
    pub(crate) modes_intro: &'static str,
    pub(crate) mode_temporary: &'static str,
    pub(crate) mode_unlock: &'static str,
    pub(crate) mode_chosen: &'static str,
    pub(crate) new_password_label: &'static str,
    pub(crate) new_password_again_label: &'static str,
    pub(crate) passwords_differ: &'static str,
    pub(crate) temp_title: &'static str,
    pub(crate) temp_note: &'static str,
    pub(crate) unlocked_done: &'static str,
    pub(crate) chosen_done: &'static str,
    pub(crate) second_method: &'static str,
    pub(crate) err_login: &'static str,
    pub(crate) err_method: &'static str,
    pub(crate) err_confirm: &'static str,
    pub(crate) err_expired: &'static str,
    pub(crate) err_used: &'static str,
    pub(crate) err_voided: &'static str,
    pub(crate) err_state: &'static str,
    pub(crate) err_unavailable: &'static str,
    /// The bot challenge: not solved, refused by its provider, or not checkable now.
    pub(crate) err_challenge_required: &'static str,
    pub(crate) err_challenge_failed: &'static str,
    pub(crate) err_challenge_unavailable: &'static str,
    pub(crate) err_not_allowed: &'static str,
    pub(crate) err_session: &'static str,
    pub(crate) err_input: &'static str,
    pub(crate) signin_title: &'static str,
    pub(crate) password_label: &'static str,
    pub(crate) signin_btn: &'static str,
    pub(crate) oidc_signin_btn: &'static str,
    pub(crate) oidc_continue: &'static str,
    pub(crate) signout_btn: &'static str,
    pub(crate) signin_failed: &'static str,
    pub(crate) register_title: &'static str,
    pub(crate) register_intro: &'static str,
    pub(crate) email_label: &'static str,
    pub(crate) phone_label: &'static str,
    pub(crate) save_btn: &'static str,
    pub(crate) saved: &'static str,
    pub(crate) code_label: &'static str,
    pub(crate) confirm_btn: &'static str,
    pub(crate) proof_dead: &'static str,
    pub(crate) not_enabled: &'static str,
    pub(crate) must_change_note: &'static str,
    pub(crate) must_change_link: &'static str,
    pub(crate) index_change: &'static str,
    pub(crate) change_title: &'static str,
    pub(crate) change_intro: &'static str,
    pub(crate) current_password_label: &'static str,
    pub(crate) change_btn: &'static str,
    pub(crate) changed: &'static str,
    pub(crate) change_unsupported: &'static str,
    pub(crate) rules_title: &'static str,
    pub(crate) rule_complexity: &'static str,
    /// An admin signed in with a password the directory wants changed (a temporary one).
    pub(crate) admin_must_change: &'static str,
    pub(crate) admin_title: &'static str,
    pub(crate) admin_signin_title: &'static str,
    pub(crate) search_label: &'static str,
    pub(crate) search_btn: &'static str,
    pub(crate) no_results: &'static str,
    pub(crate) col_login: &'static str,
    pub(crate) col_name: &'static str,
    pub(crate) col_status: &'static str,
    pub(crate) col_contacts: &'static str,
    pub(crate) enabled: &'static str,
    pub(crate) disabled: &'static str,
    pub(crate) eligible: &'static str,
    pub(crate) ineligible: &'static str,
    pub(crate) privileged: &'static str,
    pub(crate) account_disabled: &'static str,
    pub(crate) account_locked: &'static str,
    pub(crate) enable_btn: &'static str,
    pub(crate) disable_btn: &'static str,
    pub(crate) unblock_btn: &'static str,
    pub(crate) blocked_until: &'static str,
    pub(crate) last_reset: &'static str,
    pub(crate) never: &'static str,
    pub(crate) unknown_user: &'static str,
    pub(crate) audit_title: &'static str,
    pub(crate) done: &'static str,
    pub(crate) outbox_title: &'static str,
    pub(crate) outbox_note: &'static str,
    pub(crate) outbox_empty: &'static str,
    pub(crate) outbox_preview_title: &'static str,
    pub(crate) outbox_preview_note: &'static str,
    pub(crate) back: &'static str,
    pub(crate) reconfirm_note: &'static str,
    pub(crate) reconfirm_btn: &'static str,
    pub(crate) report_title: &'static str,
    pub(crate) report_ous: &'static str,
    pub(crate) report_groups: &'static str,
    pub(crate) report_stale_days: &'static str,
    pub(crate) report_btn: &'static str,
    pub(crate) remind_btn: &'static str,
    pub(crate) remind_note: &'static str,
    pub(crate) count_labels: [&'static str; 9],
    pub(crate) flag_labels: [&'static str; 4],
    pub(crate) reports_title: &'static str,
    pub(crate) reports_unavailable: &'static str,
    pub(crate) reports_figures: [&'static str; 6],
    pub(crate) reports_resets: &'static str,
    pub(crate) reports_completed: &'static str,
    pub(crate) reports_failed: &'static str,
    pub(crate) reports_registrations: &'static str,
    pub(crate) reports_blocks: &'static str,
    pub(crate) reports_decoys: &'static str,
    pub(crate) reports_failures: &'static str,
    pub(crate) reports_none: &'static str,
}

static EN: Text = Text {
    lang: "en",
    brand: "Password self-service",
    index_intro: "Forgot your password? Reset it yourself with a one-time code sent to your alternate e-mail address or mobile phone.",
    index_reset: "Reset my password",
    index_register: "Register my alternate e-mail and mobile",
    index_admin: "Administration",
    index_outbox: "Development outbox (codes \u{201c}sent\u{201d} by e-mail and SMS)",
    reset_title: "Reset your password",
    reset_intro: "Enter your user name. We will send a one-time code to a contact you registered.",
    login_label: "User name (e.g. jane.doe@example.org)",
    continue_btn: "Continue",
    methods_intro: "Where should we send your one-time code?",
    via_email: "E-mail to",
    via_sms: "Text message to",
    confirm_label: "To confirm, type the full address or number",
    send_btn: "Send code",
    start_over: "Start over",
    pin_label: "One-time code",
    verify_btn: "Verify",
    new_code: "Send a new code",
    modes_intro: "Code confirmed. How do you want to continue?",
    mode_temporary: "Give me a temporary password",
    mode_unlock: "Only unlock my account",
    mode_chosen: "Set a password of my own",
    new_password_label: "New password",
    new_password_again_label: "New password again",
    passwords_differ: "The two passwords differ.",
    temp_title: "Your temporary password",
    temp_note: "Write it down now: it is shown only once and never sent. You must change it when you next sign in.",
    unlocked_done: "Your account is unlocked. Sign in with your current password.",
    chosen_done: "Your password was changed. Sign in with your new password.",
    second_method: "Your account needs a code on a second method as well.",
    err_login: "Enter a valid user name.",
    err_method: "Choose where to send the code.",
    err_confirm: "Type the full address or number, exactly as registered.",
    err_expired: "This reset has expired. Please start again.",
    err_used: "This reset was already used. Please start again.",
    err_voided: "Too many wrong codes: this code is void. Please start again.",
    err_state: "This step is not possible now. Please start again.",
    err_unavailable: "The service is unavailable right now. Please try again later.",
    err_challenge_required: "Please complete the check that you are not a robot, then continue.",
    err_challenge_failed: "The check that you are not a robot did not succeed. Please try it again.",
    err_challenge_unavailable: "The check that you are not a robot cannot be verified right now. Please try again later.",
    err_not_allowed: "Self-service reset is not possible for this account. Please contact the IT help desk.",
    err_session: "Your session has expired or the form is stale. Please reload the page and try again.",
    err_input: "The input was not accepted.",
    signin_title: "Sign in",
    password_label: "Password",
    signin_btn: "Sign in",
    oidc_signin_btn: "Sign in with your organisation account",
    oidc_continue: "Continue signing in",
    signout_btn: "Sign out",
    signin_failed: "The user name or password is wrong.",
    register_title: "Your contact details for password reset",
    register_intro: "A one-time code goes to one of these when you reset your password. Use an address and a number that do not depend on your work account.",
    email_label: "Alternate e-mail address",
    phone_label: "Mobile phone (international format, e.g. +44 7400 900123)",
    save_btn: "Save",
    saved: "Saved. Your contact details were updated.",
    code_label: "Code",
    confirm_btn: "Confirm",
    proof_dead: "That code no longer works. Save the contact again to get a new one.",
    not_enabled: "Self-service password reset is not enabled for your account. Please contact the IT help desk.",
    must_change_note: "Your password must be changed before you go on.",
    must_change_link: "Change your password now",
    index_change: "Change my password",
    change_title: "Change password",
    change_intro: "Type your user name, your current password (or the temporary one you were given) and a new password.",
    current_password_label: "Current password",
    change_btn: "Change password",
    changed: "Your password was changed. Use the new one from now on.",
    change_unsupported: "Passwords cannot be changed here for this directory. Please use your computer's own password change.",
    rules_title: "The new password must",
    rule_complexity: "mix at least three of: capital letters, small letters, digits, symbols; and not contain your user name",
    admin_must_change: "Your password must be changed before you can use the administration pages: sign in to your computer or the account portal to change it.",
    admin_title: "Administration",
    admin_signin_title: "Administrator sign-in",
    search_label: "Find users (login or name)",
    search_btn: "Search",
    no_results: "No user found.",
    col_login: "Login",
    col_name: "Name",
    col_status: "Status",
    col_contacts: "Contacts",
    enabled: "enabled",
    disabled: "not enabled",
    eligible: "eligible",
    ineligible: "not eligible",
    privileged: "privileged",
    account_disabled: "account disabled",
    account_locked: "account locked",
    enable_btn: "Enable SSPR",
    disable_btn: "Disable SSPR",
    unblock_btn: "Unblock",
    blocked_until: "Blocked until",
    last_reset: "Last reset",
    never: "never",
    unknown_user: "No such user.",
    audit_title: "Audit log (newest first)",
    done: "Done.",
    outbox_title: "Development outbox",
    outbox_note: "Nothing is really sent: every e-mail and text message lands here. Turn this page off (outbox_page = false) and configure SMTP/SMS for production.",
    outbox_empty: "No messages yet.",
    outbox_preview_title: "Preview every notice in every language",
    outbox_preview_note: "Every notice sspr sends, with sample values, in each of its six languages: as an e-mail, and as the text message a phone gets. Dates are in the policy's time zone",
    back: "Back",
    reconfirm_note: "Your contact details were confirmed a while ago. Are they still right? Change them below, or confirm them as they are.",
    reconfirm_btn: "They are still right",
    report_title: "Registration report",
    report_ous: "OUs (one DN per line; empty: all)",
    report_groups: "Groups (one per line; empty: all)",
    report_stale_days: "Contacts stale after (days; empty: the policy's)",
    report_btn: "Show report",
    remind_btn: "Send registration reminders",
    remind_note: "A reminder goes to the directory mailbox of each enabled user shown without contacts or with stale ones, at most once per reminder interval; privileged users are never reminded.",
    count_labels: [
        "users",
        "enabled",
        "registered",
        "without contacts",
        "stale contacts",
        "never used",
        "blocked",
        "privileged",
        "without mailbox",
    ],
    flag_labels: ["no contacts", "stale", "never used", "blocked"],
    reports_title: "Reports (last 30 days)",
    reports_unavailable: "Reports read the audit trail kept in SQL: set [audit] kind = \"sqlite\" or \"postgres\" in the portal's configuration.",
    reports_figures: [
        "resets begun",
        "decoy answers",
        "resets completed",
        "resets failed",
        "users blocked",
        "registrations",
    ],
    reports_resets: "Resets per day",
    reports_completed: "completed",
    reports_failed: "failed",
    reports_registrations: "Registrations per day",
    reports_blocks: "Users blocked per day",
    reports_decoys: "Decoy answers by reason",
    reports_failures: "Most frequent failures",
    reports_none: "None in these 30 days.",
};

static DE: Text = Text {
    lang: "de",
    brand: "Kennwort-Self-Service",
    index_intro: "Kennwort vergessen? Setzen Sie es selbst zurück, mit einem Einmal-Code an Ihre alternative E-Mail-Adresse oder Ihr Mobiltelefon.",
    index_reset: "Mein Kennwort zurücksetzen",
    index_register: "Alternative E-Mail-Adresse und Mobilnummer hinterlegen",
    index_admin: "Verwaltung",
    index_outbox: "Entwicklungs-Postausgang (per E-Mail und SMS \u{201e}gesendete\u{201c} Codes)",
    reset_title: "Kennwort zurücksetzen",
    reset_intro: "Geben Sie Ihren Benutzernamen ein. Wir senden einen Einmal-Code an eine hinterlegte Kontaktadresse.",
    login_label: "Benutzername (z. B. jane.doe@example.org)",
    continue_btn: "Weiter",
    methods_intro: "Wohin sollen wir Ihren Einmal-Code senden?",
    via_email: "E-Mail an",
    via_sms: "SMS an",
    confirm_label: "Geben Sie zur Bestätigung die vollständige Adresse oder Nummer ein",
    send_btn: "Code senden",
    start_over: "Neu beginnen",
    pin_label: "Einmal-Code",
    verify_btn: "Prüfen",
    new_code: "Neuen Code senden",
    modes_intro: "Code bestätigt. Wie möchten Sie fortfahren?",
    mode_temporary: "Ein temporäres Kennwort erhalten",
    mode_unlock: "Nur mein Konto entsperren",
    mode_chosen: "Ein eigenes Kennwort festlegen",
    new_password_label: "Neues Kennwort",
    new_password_again_label: "Neues Kennwort wiederholen",
    passwords_differ: "Die beiden Kennwörter stimmen nicht überein.",
    temp_title: "Ihr temporäres Kennwort",
    temp_note: "Notieren Sie es jetzt: Es wird nur einmal angezeigt und nie versendet. Sie müssen es bei der nächsten Anmeldung ändern.",
    unlocked_done: "Ihr Konto ist entsperrt. Melden Sie sich mit Ihrem bisherigen Kennwort an.",
    chosen_done: "Ihr Kennwort wurde geändert. Melden Sie sich mit dem neuen Kennwort an.",
    second_method: "Für Ihr Konto ist zusätzlich ein Code über eine zweite Methode nötig.",
    err_login: "Geben Sie einen gültigen Benutzernamen ein.",
    err_method: "Wählen Sie, wohin der Code gesendet werden soll.",
    err_confirm: "Geben Sie die vollständige Adresse oder Nummer genau wie hinterlegt ein.",
    err_expired: "Dieser Vorgang ist abgelaufen. Bitte beginnen Sie neu.",
    err_used: "Dieser Vorgang wurde bereits verwendet. Bitte beginnen Sie neu.",
    err_voided: "Zu viele falsche Codes: Dieser Code ist ungültig. Bitte beginnen Sie neu.",
    err_state: "Dieser Schritt ist jetzt nicht möglich. Bitte beginnen Sie neu.",
    err_unavailable: "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.",
    err_challenge_required: "Bitte bestätigen Sie zuerst, dass Sie kein Roboter sind.",
    err_challenge_failed: "Die Prüfung, dass Sie kein Roboter sind, ist fehlgeschlagen. Bitte versuchen Sie es erneut.",
    err_challenge_unavailable: "Die Prüfung, dass Sie kein Roboter sind, ist gerade nicht möglich. Bitte versuchen Sie es später erneut.",
    err_not_allowed: "Für dieses Konto ist das Zurücksetzen per Self-Service nicht möglich. Bitte wenden Sie sich an den IT-Support.",
    err_session: "Ihre Sitzung ist abgelaufen oder das Formular veraltet. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
    err_input: "Die Eingabe wurde nicht angenommen.",
    signin_title: "Anmelden",
    password_label: "Kennwort",
    signin_btn: "Anmelden",
    oidc_signin_btn: "Mit dem Konto Ihrer Organisation anmelden",
    oidc_continue: "Anmeldung fortsetzen",
    signout_btn: "Abmelden",
    signin_failed: "Benutzername oder Kennwort ist falsch.",
    register_title: "Ihre Kontaktdaten zum Zurücksetzen des Kennworts",
    register_intro: "Beim Zurücksetzen Ihres Kennworts geht ein Einmal-Code an eine dieser Adressen. Verwenden Sie eine Adresse und eine Nummer, die nicht von Ihrem Arbeitskonto abhängen.",
    email_label: "Alternative E-Mail-Adresse",
    phone_label: "Mobiltelefon (internationales Format, z. B. +49 151 23456789)",
    save_btn: "Speichern",
    saved: "Gespeichert. Ihre Kontaktdaten wurden aktualisiert.",
    code_label: "Code",
    confirm_btn: "Bestätigen",
    proof_dead: "Dieser Code gilt nicht mehr. Speichern Sie die Kontaktangabe erneut, um einen neuen zu erhalten.",
    not_enabled: "Das Zurücksetzen per Self-Service ist für Ihr Konto nicht freigeschaltet. Bitte wenden Sie sich an den IT-Support.",
    must_change_note: "Ihr Kennwort muss geändert werden, bevor Sie fortfahren.",
    must_change_link: "Kennwort jetzt ändern",
    index_change: "Mein Kennwort ändern",
    change_title: "Kennwort ändern",
    change_intro: "Geben Sie Ihren Benutzernamen, Ihr aktuelles Kennwort (oder das erhaltene temporäre) und ein neues Kennwort ein.",
    current_password_label: "Aktuelles Kennwort",
    change_btn: "Kennwort ändern",
    changed: "Ihr Kennwort wurde geändert. Verwenden Sie ab jetzt das neue.",
    change_unsupported: "Für dieses Verzeichnis können Kennwörter hier nicht geändert werden. Bitte ändern Sie es an Ihrem Computer.",
    rules_title: "Das neue Kennwort muss",
    rule_complexity: "mindestens drei der folgenden enthalten: Großbuchstaben, Kleinbuchstaben, Ziffern, Sonderzeichen; und nicht Ihren Benutzernamen",
    admin_must_change: "Ihr Kennwort muss geändert werden, bevor Sie die Verwaltungsseiten nutzen können: Melden Sie sich an Ihrem Computer oder im Kontoportal an, um es zu ändern.",
    admin_title: "Verwaltung",
    admin_signin_title: "Anmeldung für Administratoren",
    search_label: "Benutzer suchen (Anmeldename oder Name)",
    search_btn: "Suchen",
    no_results: "Kein Benutzer gefunden.",
    col_login: "Anmeldename",
    col_name: "Name",
    col_status: "Status",
    col_contacts: "Kontakte",
    enabled: "freigeschaltet",
    disabled: "nicht freigeschaltet",
    eligible: "berechtigt",
    ineligible: "nicht berechtigt",
    privileged: "privilegiert",
    account_disabled: "Konto deaktiviert",
    account_locked: "Konto gesperrt",
    enable_btn: "SSPR freischalten",
    disable_btn: "SSPR abschalten",
    unblock_btn: "Sperre aufheben",
    blocked_until: "Gesperrt bis",
    last_reset: "Letzte Zurücksetzung",
    never: "nie",
    unknown_user: "Diesen Benutzer gibt es nicht.",
    audit_title: "Audit-Protokoll (neueste zuerst)",
    done: "Erledigt.",
    outbox_title: "Entwicklungs-Postausgang",
    outbox_note: "Hier wird nichts wirklich versendet: Jede E-Mail und SMS landet hier. Schalten Sie diese Seite für den Betrieb ab (outbox_page = false) und richten Sie SMTP/SMS ein.",
    outbox_empty: "Noch keine Nachrichten.",
    outbox_preview_title: "Vorschau aller Benachrichtigungen in allen Sprachen",
    outbox_preview_note: "Jede Benachrichtigung von sspr mit Beispielwerten in jeder seiner sechs Sprachen: als E-Mail und als SMS, wie sie ein Telefon erhält. Datumsangaben in der Zeitzone der Richtlinie",
    back: "Zurück",
    reconfirm_note: "Ihre Kontaktdaten wurden vor längerer Zeit bestätigt. Stimmen sie noch? Ändern Sie sie unten, oder bestätigen Sie sie so, wie sie sind.",
    reconfirm_btn: "Sie stimmen noch",
    report_title: "Registrierungsbericht",
    report_ous: "OUs (ein DN pro Zeile; leer: alle)",
    report_groups: "Gruppen (eine pro Zeile; leer: alle)",
    report_stale_days: "Kontaktdaten veraltet nach (Tagen; leer: laut Richtlinie)",
    report_btn: "Bericht anzeigen",
    remind_btn: "Registrierungserinnerungen senden",
    remind_note: "Eine Erinnerung geht an das Verzeichnis-Postfach jedes freigeschalteten Benutzers ohne oder mit veralteten Kontaktdaten, höchstens einmal pro Erinnerungsintervall; privilegierte Benutzer werden nie erinnert.",
    count_labels: [
        "Benutzer",
        "freigeschaltet",
        "registriert",
        "ohne Kontaktdaten",
        "veraltete Kontaktdaten",
        "nie benutzt",
        "gesperrt",
        "privilegiert",
        "ohne Postfach",
    ],
    flag_labels: ["keine Kontaktdaten", "veraltet", "nie benutzt", "gesperrt"],
    reports_title: "Berichte (letzte 30 Tage)",
    reports_unavailable: "Berichte lesen das in SQL gespeicherte Audit-Protokoll: setzen Sie [audit] kind = \"sqlite\" oder \"postgres\" in der Konfiguration des Portals.",
    reports_figures: [
        "begonnene Zurücksetzungen",
        "Schein-Antworten",
        "abgeschlossen",
        "fehlgeschlagen",
        "gesperrte Benutzer",
        "Registrierungen",
    ],
    reports_resets: "Zurücksetzungen pro Tag",
    reports_completed: "abgeschlossen",
    reports_failed: "fehlgeschlagen",
    reports_registrations: "Registrierungen pro Tag",
    reports_blocks: "Gesperrte Benutzer pro Tag",
    reports_decoys: "Schein-Antworten nach Grund",
    reports_failures: "Häufigste Fehler",
    reports_none: "Keine in diesen 30 Tagen.",
};

/// The strings of `locale`.
pub(crate) fn text(locale: Locale) -> &'static Text {
    match locale {
        Locale::De => &DE,
        _ => &EN,
    }
}

impl Text {
    /// "A code was sent to …" (said alike for real and unknown accounts).
    pub(crate) fn pin_sent(&self, masked: &str) -> String {
        match self.lang {
            "de" => format!("Ein Code wurde an {masked} gesendet."),
            _ => format!("A code was sent to {masked}."),
        }
    }

    /// The PIN's expiry and the attempts left.
    pub(crate) fn pin_status(&self, until: OffsetDateTime, attempts: u32) -> String {
        match self.lang {
            "de" => format!("Gültig bis {}. Noch {attempts} Versuch(e).", clock_time(until)),
            _ => format!("Valid until {}. {attempts} attempt(s) left.", clock_time(until)),
        }
    }

    /// The PIN field's hint.
    pub(crate) fn pin_hint(&self, digits: u32) -> String {
        match self.lang {
            "de" => format!("Die {digits} Ziffern aus der Nachricht"),
            _ => format!("The {digits} digits from the message"),
        }
    }

    /// A wrong PIN.
    pub(crate) fn wrong_pin(&self, attempts_left: u32) -> String {
        match self.lang {
            "de" => format!("Der Code ist falsch. Noch {attempts_left} Versuch(e)."),
            _ => format!("The code is wrong. {attempts_left} attempt(s) left."),
        }
    }

    /// A PIN of the wrong shape.
    pub(crate) fn pin_digits(&self, digits: u32) -> String {
        match self.lang {
            "de" => format!("Geben Sie die {digits} Ziffern ein, die Sie erhalten haben."),
            _ => format!("Enter the {digits} digits you received."),
        }
    }

    /// Too many requests.
    pub(crate) fn rate_limited(&self, retry_after: Duration) -> String {
        let minutes = retry_after.as_secs().div_ceil(60).max(1);
        match self.lang {
            "de" => format!("Zu viele Anfragen. Bitte versuchen Sie es in {minutes} Minute(n) erneut."),
            _ => format!("Too many requests. Please try again in {minutes} minute(s)."),
        }
    }

    /// Self-service blocked.
    pub(crate) fn blocked(&self, until: OffsetDateTime) -> String {
        match self.lang {
            "de" => format!("Das Zurücksetzen ist bis {} gesperrt (zu viele falsche Codes).", date_time(until)),
            _ => format!("Self-service reset is blocked until {} (too many wrong codes).", date_time(until)),
        }
    }

    /// What a reminder run did.
    pub(crate) fn reminders_done(&self, run: &sspr_core::ReminderRun) -> String {
        let (sent, r) = (run.reminded.len(), run);
        match self.lang {
            "de" => format!(
                "Erinnerungen gesendet: {sent}. Bereits erinnert: {}, ohne Postfach: {}, privilegiert (nie erinnert): {}, \
                 können sich nicht registrieren: {}, fehlgeschlagen: {}.",
                r.already_reminded, r.without_mail, r.skipped_privileged, r.skipped_ineligible, r.failed
            ),
            _ => format!(
                "Reminders sent: {sent}. Already reminded: {}, without mailbox: {}, privileged (never reminded): {}, \
                 cannot register: {}, failed: {}.",
                r.already_reminded, r.without_mail, r.skipped_privileged, r.skipped_ineligible, r.failed
            ),
        }
    }

    /// A code went to a new contact, which is saved once the code is typed back.
    pub(crate) fn proof_sent(&self, masked: &str) -> String {
        match self.lang {
            "de" => format!(
                "Wir haben einen Code an {masked} gesendet. Geben Sie ihn ein, um diese Kontaktangabe zu speichern."
            ),
            _ => format!("We sent a code to {masked}. Type it here to save this contact."),
        }
    }

    /// A contact usable only later (the cooling-off period).
    pub(crate) fn usable_from(&self, at: OffsetDateTime) -> String {
        match self.lang {
            "de" => format!("für Codes nutzbar ab {}", date_time(at)),
            _ => format!("usable for codes from {}", date_time(at)),
        }
    }

    /// A password the policy, a password checker or the directory refused, with zxcvbn's
    /// suggestions after the reason (its words are English in every language).
    pub(crate) fn password_rejected(&self, reason: &str, suggestions: &[String]) -> String {
        let advice: String = suggestions.iter().map(|s| format!(" {s}")).collect();
        match self.lang {
            "de" => format!("Das Kennwort wurde abgelehnt: {reason}.{advice}"),
            _ => format!("The password was refused: {reason}.{advice}"),
        }
    }

    /// "at least N characters long".
    pub(crate) fn rule_min_length(&self, n: u32) -> String {
        match self.lang {
            "de" => format!("mindestens {n} Zeichen lang sein"),
            _ => format!("be at least {n} characters long"),
        }
    }

    /// "differ from your last N passwords".
    pub(crate) fn rule_history(&self, n: u32) -> String {
        match self.lang {
            "de" => format!("sich von Ihren letzten {n} Kennwörtern unterscheiden"),
            _ => format!("differ from your last {n} passwords"),
        }
    }

    /// The minimum age, in whole hours (or minutes below an hour).
    pub(crate) fn rule_min_age(&self, secs: u64) -> String {
        let (n, en, de) =
            if secs >= 3600 { (secs / 3600, "hour(s)", "Stunde(n)") } else { (secs / 60, "minute(s)", "Minute(n)") };
        match self.lang {
            "de" => format!("bleibt danach mindestens {n} {de} gültig, bevor Sie es erneut ändern können"),
            _ => format!("then be kept at least {n} {en} before you can change it again"),
        }
    }

    /// Why a new password was refused, by the rule it broke; the directory's or the
    /// policy's own words follow.
    pub(crate) fn refusal(&self, refusal: sspr_core::PasswordRefusal, reason: &str) -> String {
        use sspr_core::PasswordRefusal as R;
        let (en, de) = match refusal {
            R::TooShort => ("The new password is too short.", "Das neue Kennwort ist zu kurz."),
            R::TooRecent => (
                "Your password was changed too recently to be changed again yet.",
                "Ihr Kennwort wurde vor zu kurzer Zeit geändert, um es schon wieder zu ändern.",
            ),
            R::InHistory => (
                "You used this password before: choose another.",
                "Dieses Kennwort haben Sie schon einmal verwendet: Wählen Sie ein anderes.",
            ),
            R::TooSimple | R::Guessable | R::Banned => {
                ("The new password is too simple.", "Das neue Kennwort ist zu einfach.")
            }
            R::Breached => (
                "The new password appears in lists of breached passwords.",
                "Das neue Kennwort steht in Listen gestohlener Kennwörter.",
            ),
            _ => ("The new password was refused.", "Das neue Kennwort wurde abgelehnt."),
        };
        match self.lang {
            "de" => format!("{de} ({reason})"),
            _ => format!("{en} ({reason})"),
        }
    }

    /// Signed in as …
    pub(crate) fn signed_in_as(&self, name: &str) -> String {
        match self.lang {
            "de" => format!("Angemeldet als {name}"),
            _ => format!("Signed in as {name}"),
        }
    }
}

/// `HH:MM UTC`.
pub(crate) fn clock_time(at: OffsetDateTime) -> String {
    format!("{:02}:{:02} UTC", at.hour(), at.minute())
}

/// `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn date_time(at: OffsetDateTime) -> String {
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}
