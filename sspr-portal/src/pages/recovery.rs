//! Helpdesk recovery (`sspr-core/src/engine/recovery.rs`). On `/admin/user`, an administrator
//! issues a one-time code for a user who has no usable contact: shown once in the answer of
//! `POST /admin/recovery` (never stored in the session nor put in a URL), or sent to one of
//! the user's registered contacts (the page names the masked destination). On
//! `/passwordreset`, "I have a code from the helpdesk" leads to `/passwordreset/helpdesk`
//! (login and code); the right code puts the session's reset at the verified step, as a right
//! PIN does, and the reset page completes it. The engine pads and words every refusal alike.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sspr_core::{Channel, Contacts, Error, RECOVERY_CODE_DIGITS, RecoveryCode};

use super::admin::{admin_of, user_link};
use super::notification::contacts_error;
use super::reset::apply_error;
use crate::AppState;
use crate::session::ResetStage;
use crate::text::{Text, date_time};
use crate::web::{Visit, csrf_field, layout};

const HELPDESK_PAGE: &str = "/passwordreset/helpdesk";
const RESET_PAGE: &str = "/passwordreset";

/// The strings of these pages, in the visitor's language.
struct Words {
    link: &'static str,
    title: &'static str,
    intro: &'static str,
    code_label: &'static str,
    redeem_btn: &'static str,
    admin_title: &'static str,
    admin_intro: &'static str,
    show: &'static str,
    by_email: &'static str,
    by_sms: &'static str,
    issue_btn: &'static str,
    code_title: &'static str,
    code_note: &'static str,
    sent: &'static str,
    valid_until: &'static str,
}

fn words(t: &Text) -> &'static Words {
    static EN: Words = Words {
        link: "I have a code from the helpdesk",
        title: "Code from the helpdesk",
        intro: "Your helpdesk gave you (or sent you) a one-time recovery code. Enter your user name and the code.",
        code_label: "Recovery code",
        redeem_btn: "Continue",
        admin_title: "Helpdesk recovery",
        admin_intro: "For a user who cannot receive a reset code: a one-time code, valid 15 minutes, that the user enters under \u{201c}I have a code from the helpdesk\u{201d} on the reset page. Check the caller's identity first. The user's contacts are told.",
        show: "Show the code here (read it out to the user)",
        by_email: "Send it to the registered e-mail",
        by_sms: "Send it to the registered mobile",
        issue_btn: "Issue a recovery code",
        code_title: "Recovery code (shown once)",
        code_note: "Read it out to the user now; it is not shown again. A new code replaces this one.",
        sent: "A recovery code was sent to",
        valid_until: "Valid until",
    };
    static DE: Words = Words {
        link: "Ich habe einen Code vom IT-Support",
        title: "Code vom IT-Support",
        intro: "Ihr IT-Support hat Ihnen einen Einmal-Wiederherstellungscode genannt oder geschickt. Geben Sie Ihren Benutzernamen und den Code ein.",
        code_label: "Wiederherstellungscode",
        redeem_btn: "Weiter",
        admin_title: "Wiederherstellung durch den IT-Support",
        admin_intro: "Für Benutzer, die keinen Code empfangen können: ein Einmal-Code, 15 Minuten gültig, den der Benutzer auf der Seite zum Zurücksetzen unter \u{201e}Ich habe einen Code vom IT-Support\u{201c} eingibt. Prüfen Sie zuerst die Identität des Anrufers. Die Kontakte des Benutzers werden benachrichtigt.",
        show: "Code hier anzeigen (dem Benutzer vorlesen)",
        by_email: "An die hinterlegte E-Mail-Adresse senden",
        by_sms: "An die hinterlegte Mobilnummer senden",
        issue_btn: "Wiederherstellungscode ausstellen",
        code_title: "Wiederherstellungscode (einmalig angezeigt)",
        code_note: "Lesen Sie ihn dem Benutzer jetzt vor; er wird nicht erneut angezeigt. Ein neuer Code ersetzt diesen.",
        sent: "Ein Wiederherstellungscode wurde gesendet an",
        valid_until: "Gültig bis",
    };
    if t.lang == "de" { &DE } else { &EN }
}

/// The link under the reset page's login form.
pub(crate) fn link(visit: &Visit) -> Markup {
    html! { p { a #helpdesk-link href=(HELPDESK_PAGE) { (words(visit.text()).link) } } }
}

/// The section of `/admin/user` that issues a code for `login`: shown, or sent to one of the
/// contacts the user registered (the engine refuses one that is not usable yet).
pub(crate) fn admin_section(visit: &Visit, login: &str, contacts: &Contacts) -> Markup {
    let w = words(visit.text());
    html! {
        h2 { (w.admin_title) }
        p.muted { (w.admin_intro) }
        form #recovery method="post" action="/admin/recovery" {
            (csrf_field(&visit.session))
            input type="hidden" name="login" value=(login);
            fieldset {
                label { input type="radio" name="deliver" value="show" checked; " " (w.show) }
                @if let Some(email) = &contacts.email {
                    label { input type="radio" name="deliver" value="email"; " " (w.by_email) " (" (email.masked) ")" }
                }
                @if let Some(phone) = &contacts.phone {
                    label { input type="radio" name="deliver" value="sms"; " " (w.by_sms) " (" (phone.masked) ")" }
                }
            }
            button #issue-recovery type="submit" { (w.issue_btn) }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    deliver: String,
}

/// The message for a refused issue.
fn issue_error(t: &Text, error: &Error) -> String {
    match error {
        Error::RateLimited { retry_after } => t.rate_limited(*retry_after),
        Error::InvalidInput { field: "channel", reason } => reason.clone(),
        other => contacts_error(t, other),
    }
}

/// `POST /admin/recovery`: issue a code. Shown: in this answer only (like a temporary
/// password). Sent: the user page again, naming the masked destination.
pub(crate) async fn issue(State(state): State<AppState>, mut visit: Visit, Form(form): Form<IssueForm>) -> Response {
    let actor = match admin_of(&state, &visit, &form.csrf).await {
        Ok(actor) => actor,
        Err(response) => return *response,
    };
    let t = visit.text();
    let w = words(t);
    let channel = match form.deliver.as_str() {
        "show" => None,
        "email" => Some(Channel::Email),
        "sms" => Some(Channel::Sms),
        _ => {
            visit.session.flash(true, t.err_input);
            return state.redirect(&visit, &user_link(&form.login)).await;
        }
    };
    let Some(channel) = channel else {
        return match state.sspr.admin_recovery(&actor, &form.login, &visit.ctx).await {
            Ok(code) => {
                let body = shown_code(t, w, &form.login, &code);
                state.page(&visit, StatusCode::OK, layout(t, w.admin_title, None, body)).await
            }
            Err(e) => {
                visit.session.flash(true, issue_error(t, &e));
                state.redirect(&visit, &user_link(&form.login)).await
            }
        };
    };
    match state.sspr.admin_send_recovery_code(&actor, &form.login, channel, &visit.ctx).await {
        Ok(sent) => {
            let text = format!("{} {} ({} {}).", w.sent, sent.masked, w.valid_until, date_time(sent.expires_at));
            visit.session.flash(false, text);
        }
        Err(e) => visit.session.flash(true, issue_error(t, &e)),
    }
    state.redirect(&visit, &user_link(&form.login)).await
}

fn shown_code(t: &Text, w: &Words, login: &str, code: &RecoveryCode) -> Markup {
    html! {
        h2 { (w.code_title) }
        p { (login) }
        code.secret #recovery-code { (code.code.expose_secret()) }
        p.muted { (w.valid_until) ": " (date_time(code.expires_at)) }
        p.flash.ok role="status" { (w.code_note) }
        p { a href=(user_link(login)) { (t.back) } }
    }
}

#[derive(Deserialize)]
pub(crate) struct RedeemForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    code: String,
}

/// `GET /passwordreset/helpdesk`: login and code.
pub(crate) async fn show(State(state): State<AppState>, mut visit: Visit) -> Response {
    let t = visit.text();
    let w = words(t);
    let flash = visit.session.take_flash();
    let body = html! {
        p { (w.intro) }
        form method="post" action=(HELPDESK_PAGE) {
            (csrf_field(&visit.session))
            label for="login" { (t.login_label) }
            input #login type="text" name="login" autocomplete="username" autocapitalize="none" spellcheck="false"
                maxlength="256" required autofocus;
            label for="code" { (w.code_label) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="32"
                required placeholder=(t.pin_hint(RECOVERY_CODE_DIGITS));
            button #redeem type="submit" { (w.redeem_btn) }
        }
        p { a href=(RESET_PAGE) { (t.back) } }
    };
    state.page(&visit, StatusCode::OK, layout(t, w.title, flash.as_ref(), body)).await
}

/// `POST /passwordreset/helpdesk`: redeem the code. The right one puts the session's reset at
/// the verified step (a new session id, as after a right PIN); a refusal is worded as the PIN
/// step's.
pub(crate) async fn redeem(State(state): State<AppState>, mut visit: Visit, Form(form): Form<RedeemForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let code = zeroize::Zeroizing::new(form.code);
    match state.sspr.redeem_recovery_code(&form.login, &code, &visit.ctx).await {
        Ok(recovered) => {
            visit.session.data.reset =
                Some(ResetStage::Verified { flow_id: recovered.flow_id, modes: recovered.modes });
            state.rotate_and_redirect(visit, RESET_PAGE).await
        }
        Err(e) => {
            apply_error(&mut visit.session, t, &e, RECOVERY_CODE_DIGITS);
            state.redirect(&visit, HELPDESK_PAGE).await
        }
    }
}
