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
use crate::text::Text;
use crate::web::{Visit, csrf_field, layout};

const HELPDESK_PAGE: &str = "/passwordreset/helpdesk";
const RESET_PAGE: &str = "/passwordreset";

/// The link under the reset page's login form.
pub(crate) fn link(visit: &Visit) -> Markup {
    html! { p { a #helpdesk-link href=(HELPDESK_PAGE) { (visit.text().recovery_link) } } }
}

/// The section of `/admin/user` that issues a code for `login`: shown, or sent to one of the
/// contacts the user registered (the engine refuses one that is not usable yet).
pub(crate) fn admin_section(visit: &Visit, login: &str, contacts: &Contacts) -> Markup {
    let t = visit.text();
    html! {
        h2 { (t.recovery_admin_title) }
        p.muted { (t.recovery_admin_intro) }
        form #recovery method="post" action="/admin/recovery" {
            (csrf_field(&visit.session))
            input type="hidden" name="login" value=(login);
            fieldset {
                label { input type="radio" name="deliver" value="show" checked; " " (t.recovery_show) }
                @if let Some(email) = &contacts.email {
                    label { input type="radio" name="deliver" value="email"; " " (t.recovery_by_email) " (" (email.masked) ")" }
                }
                @if let Some(phone) = &contacts.phone {
                    label { input type="radio" name="deliver" value="sms"; " " (t.recovery_by_sms) " (" (phone.masked) ")" }
                }
            }
            button #issue-recovery type="submit" { (t.recovery_issue_btn) }
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
fn issue_error(t: &Text, sspr: &sspr_core::Sspr, error: &Error) -> String {
    match error {
        Error::RateLimited { retry_after } => t.rate_limited(*retry_after),
        // The user is blocked: the administrator lifts it on the same page first.
        Error::Blocked { until } => t.blocked(sspr.local_time(*until)),
        Error::InvalidInput { field: "channel", reason } => reason.clone(),
        other => contacts_error(t, other),
    }
}

/// `POST /admin/recovery`: issue a code. Shown: in this answer only (like a temporary
/// password). Sent: the user page again, naming the masked destination.
pub(crate) async fn issue(State(state): State<AppState>, mut visit: Visit, Form(form): Form<IssueForm>) -> Response {
    let actor = match admin_of(&state, &mut visit, &form.csrf).await {
        Ok(actor) => actor,
        Err(response) => return *response,
    };
    let t = visit.text();
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
                let body = shown_code(t, &form.login, &state.sspr.local_time(code.expires_at), &code);
                state.page(&visit, StatusCode::OK, layout(t, t.recovery_admin_title, None, body)).await
            }
            Err(e) => {
                visit.session.flash(true, issue_error(t, &state.sspr, &e));
                state.redirect(&visit, &user_link(&form.login)).await
            }
        };
    };
    match state.sspr.admin_send_recovery_code(&actor, &form.login, channel, &visit.ctx).await {
        Ok(sent) => {
            let text = t.recovery_sent(&sent.masked, state.sspr.local_time(sent.expires_at));
            visit.session.flash(false, text);
        }
        Err(e) => visit.session.flash(true, issue_error(t, &state.sspr, &e)),
    }
    state.redirect(&visit, &user_link(&form.login)).await
}

fn shown_code(t: &Text, login: &str, until: &time::OffsetDateTime, code: &RecoveryCode) -> Markup {
    html! {
        h2 { (t.recovery_code_title) }
        p { (login) }
        code.secret #recovery-code { (code.code.expose_secret()) }
        p.muted { (t.recovery_valid_until(*until)) }
        p.flash.ok role="status" { (t.recovery_code_note) }
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
    let flash = visit.session.take_flash();
    let body = html! {
        p { (t.recovery_intro) }
        form method="post" action=(HELPDESK_PAGE) {
            (csrf_field(&visit.session))
            label for="login" { (t.login_label) }
            input #login type="text" name="login" autocomplete="username" autocapitalize="none" spellcheck="false"
                maxlength="256" required autofocus;
            label for="code" { (t.recovery_code_label) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="32"
                required placeholder=(t.pin_hint(RECOVERY_CODE_DIGITS));
            button #redeem type="submit" { (t.recovery_redeem_btn) }
        }
        p { a href=(RESET_PAGE) { (t.back) } }
    };
    state.page(&visit, StatusCode::OK, layout(t, t.recovery_title, flash.as_ref(), body)).await
}

/// `POST /passwordreset/helpdesk`: redeem the code. The right one puts the session's reset at
/// the verified step (a new session id, as after a right PIN); a wrong code is one message for
/// every refusal, other refusals are worded as the PIN step's.
pub(crate) async fn redeem(State(state): State<AppState>, mut visit: Visit, Form(form): Form<RedeemForm>) -> Response {
    // The same form posted again after the first post redeemed the code and moved the session
    // but its answer never arrived (the client went away, or a double click): to the new
    // session, on the same proof as a verify's (the old cookie, token and code), rather than
    // "already used" with the helpdesk's code spent.
    if visit.id.is_none()
        && let Ok(Some(forwarded)) = state.forwarded(&visit, &form.csrf, &form.code, RESET_PAGE).await
    {
        return forwarded;
    }
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let code = zeroize::Zeroizing::new(form.code);
    match state.sspr.redeem_recovery_code(&form.login, &code, &visit.ctx).await {
        Ok(recovered) => {
            visit.session.data.reset =
                Some(ResetStage::Verified { flow_id: recovered.flow_id, modes: recovered.modes });
            state.rotate_and_redirect_forwarding(visit, RESET_PAGE, Some((&form.csrf, &code))).await
        }
        // The engine answers every refusal (a typo, a spent or expired code, an unknown login)
        // as a wrong code with no attempts left, alike for every login. Said as that, a user
        // who mistyped a live code read "0 attempts left" and gave up on it: this wording is
        // as uniform and true in every case.
        Err(Error::WrongPin { .. }) => {
            visit.session.flash(true, t.recovery_wrong);
            state.redirect(&visit, HELPDESK_PAGE).await
        }
        Err(e) => {
            apply_error(&mut visit.session, t, &e, RECOVERY_CODE_DIGITS, &state.sspr);
            state.redirect(&visit, HELPDESK_PAGE).await
        }
    }
}
