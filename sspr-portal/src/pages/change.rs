//! `/passwordchange`: a user changes their password with the current one (a temporary
//! password from a reset included). The rules are read from the engine and shown before the
//! user types; the form calls `change_password` once, and the engine decides everything
//! (the shared sign-in lockout, the answers, the notice to the user's contacts).

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sspr_core::{BackendErrorKind, Error, Password, PasswordRules};

use crate::AppState;
use crate::text::Text;
use crate::web::{Visit, csrf_field, layout};

const PAGE: &str = "/passwordchange";

/// No `Debug`: it holds passwords.
#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_again: String,
}

/// The rules as a list, each the directory or the policy states.
fn rules_list(t: &Text, rules: &PasswordRules) -> Markup {
    html! {
        section #password-rules {
            p { (t.rules_title) ":" }
            ul {
                @if let Some(n) = rules.min_length {
                    li { (t.rule_min_length(n)) }
                }
                @if rules.complexity == Some(true) {
                    li { (t.rule_complexity) }
                }
                @if let Some(n) = rules.history_length.filter(|n| *n > 0) {
                    li { (t.rule_history(n)) }
                }
                @if let Some(secs) = rules.min_age_secs.filter(|s| *s >= 60) {
                    li { (t.rule_min_age(secs)) }
                }
            }
        }
    }
}

/// The message for a failed change: one text for an unknown login, a wrong password and an
/// account the change does not serve (the engine gives them one answer).
fn change_error(t: &Text, error: &Error) -> String {
    match error {
        Error::PasswordRejected { refusal, reason, .. } => t.refusal(*refusal, reason),
        Error::RateLimited { retry_after } => t.rate_limited(*retry_after),
        Error::Backend { source } if source.kind() == BackendErrorKind::NotSupported => t.change_unsupported.to_owned(),
        Error::Backend { source } => {
            tracing::warn!(error = %source, "a backend failed during a password change");
            t.err_unavailable.to_owned()
        }
        _ => t.signin_failed.to_owned(),
    }
}

/// `GET /passwordchange`.
pub(crate) async fn show(State(state): State<AppState>, mut visit: Visit) -> Response {
    let t = visit.text();
    let mut flash = visit.session.take_flash();
    let rules = match state.sspr.password_rules().await {
        Ok(rules) => Some(rules),
        Err(e) => {
            tracing::warn!(error = %e, "the password rules could not be read");
            None
        }
    };
    if rules.is_none() && flash.is_none() {
        flash = Some(crate::session::Flash { error: true, text: t.err_unavailable.to_owned() });
    }
    let user = visit.session.data.user.clone();
    let body = html! {
        @if let Some(user) = &user {
            p { (t.signed_in_as(&user.display_name)) " (" (user.login) ")" }
            @if user.must_change {
                p.flash.error #must-change { (t.must_change_note) }
            }
        }
        p { (t.change_intro) }
        @if let Some(rules) = &rules {
            (rules_list(t, rules))
        }
        form method="post" action=(PAGE) {
            (csrf_field(&visit.session))
            label for="login" { (t.login_label) }
            input #login type="text" name="login" autocomplete="username" autocapitalize="none" spellcheck="false"
                maxlength="256" required value=(user.as_ref().map_or("", |u| u.login.as_str()));
            label for="current_password" { (t.current_password_label) }
            input #current_password type="password" name="current_password" autocomplete="current-password"
                maxlength="1024" required;
            label for="new_password" { (t.new_password_label) }
            input #new_password type="password" name="new_password" autocomplete="new-password" maxlength="256"
                required;
            label for="new_password_again" { (t.new_password_again_label) }
            input #new_password_again type="password" name="new_password_again" autocomplete="new-password"
                maxlength="256" required;
            button type="submit" { (t.change_btn) }
        }
    };
    state.page(&visit, StatusCode::OK, layout(t, t.change_title, flash.as_ref(), body)).await
}

/// `POST /passwordchange`.
pub(crate) async fn change(State(state): State<AppState>, mut visit: Visit, Form(form): Form<ChangeForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    // Typing the new password twice is the form's own check, not a rule: nothing is asked
    // of the engine when the two differ.
    if form.new_password != form.new_password_again {
        visit.session.flash(true, t.passwords_differ);
        return state.redirect(&visit, PAGE).await;
    }
    let (current, new) = (Password::new(form.current_password), Password::new(form.new_password));
    match state.sspr.change_password(&form.login, &current, &new, &visit.ctx).await {
        Ok(()) => {
            visit.session.flash(false, t.changed);
            // A signed-in user whose password had to change has done it.
            let signed_in_here =
                visit.session.data.user.as_mut().filter(|u| u.login.eq_ignore_ascii_case(form.login.trim()));
            if let Some(user) = signed_in_here {
                user.must_change = false;
            }
        }
        Err(e) => visit.session.flash(true, change_error(t, &e)),
    }
    state.redirect(&visit, PAGE).await
}
