//! `/passwordnotification`: users sign in with their directory credentials and view or
//! change the alternate e-mail address and mobile number their PINs go to.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sspr_core::{Actor, ContactChange, ContactUpdate, Contacts, Error, NotAllowedReason, Password};

use crate::AppState;
use crate::session::SignedUser;
use crate::text::Text;
use crate::web::{Visit, csrf_field, layout};

const PAGE: &str = "/passwordnotification";

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) login: String,
    #[serde(default)]
    pub(crate) password: String,
}

#[derive(Deserialize)]
pub(crate) struct SaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The sign-in form shared by the user and admin pages.
pub(crate) fn sign_in_form(visit: &Visit, action: &str) -> Markup {
    let t = visit.text();
    html! {
        form method="post" action=(action) {
            (csrf_field(&visit.session))
            label for="login" { (t.login_label) }
            input #login type="text" name="login" autocomplete="username" autocapitalize="none" spellcheck="false"
                maxlength="256" required autofocus;
            label for="password" { (t.password_label) }
            input #password type="password" name="password" autocomplete="current-password" maxlength="1024" required;
            button type="submit" { (t.signin_btn) }
        }
    }
}

/// The message for a failed sign-in: one text for an unknown login, a wrong password, a
/// malformed login and an account that may not sign in.
pub(crate) fn sign_in_error(t: &Text, error: &Error) -> String {
    match error {
        Error::RateLimited { retry_after } => t.rate_limited(*retry_after),
        Error::Backend { source } => {
            tracing::warn!(error = %source, "a backend failed during sign-in");
            t.err_unavailable.to_owned()
        }
        _ => t.signin_failed.to_owned(),
    }
}

/// The message for an engine error on a contacts form.
pub(crate) fn contacts_error(t: &Text, error: &Error) -> String {
    match error {
        Error::InvalidInput { field, reason } => {
            let label = match *field {
                "email" => t.email_label,
                "phone" => t.phone_label,
                _ => t.err_input,
            };
            format!("{label}: {reason}")
        }
        Error::NotAllowed { reason: NotAllowedReason::NotEnabled } => t.not_enabled.to_owned(),
        Error::NotAllowed { .. } => t.err_not_allowed.to_owned(),
        Error::UnknownUser => t.unknown_user.to_owned(),
        Error::Backend { source } => {
            tracing::warn!(error = %source, "a backend failed while saving contacts");
            t.err_unavailable.to_owned()
        }
        other => {
            tracing::warn!(error = %other, "saving contacts failed");
            t.err_input.to_owned()
        }
    }
}

/// A field of the contacts form: empty clears, anything else sets (the engine validates it
/// and leaves an unchanged value, and its dates, alone).
pub(crate) fn change(typed: &str) -> ContactChange {
    let typed = typed.trim();
    if typed.is_empty() { ContactChange::Clear } else { ContactChange::Set(typed.to_owned()) }
}

/// The contacts form (user and admin pages), with the cooling-off note of each contact.
pub(crate) fn contacts_form(
    visit: &Visit,
    contacts: &Contacts,
    now: time::OffsetDateTime,
    action: &str,
    login: Option<&str>,
) -> Markup {
    let t = visit.text();
    let note = |usable_from: time::OffsetDateTime| (usable_from > now).then(|| t.usable_from(usable_from));
    html! {
        form method="post" action=(action) {
            (csrf_field(&visit.session))
            @if let Some(login) = login {
                input type="hidden" name="login" value=(login);
            }
            label for="email" { (t.email_label) }
            input #email type="email" name="email" autocomplete="email" maxlength="320"
                value=(contacts.email.as_ref().map_or("", |c| c.value.as_str()));
            @if let Some(n) = contacts.email.as_ref().and_then(|c| note(c.usable_from)) {
                p.muted { (n) }
            }
            label for="phone" { (t.phone_label) }
            input #phone type="tel" name="phone" autocomplete="tel" maxlength="40"
                value=(contacts.phone.as_ref().map_or("", |c| c.value.as_str()));
            @if let Some(n) = contacts.phone.as_ref().and_then(|c| note(c.usable_from)) {
                p.muted { (n) }
            }
            button type="submit" { (t.save_btn) }
        }
    }
}

fn sign_out_button(visit: &Visit, action: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_field(&visit.session))
            button.secondary type="submit" { (visit.text().signout_btn) }
        }
    }
}

/// `GET /passwordnotification`.
pub(crate) async fn show(State(state): State<AppState>, mut visit: Visit) -> Response {
    let t = visit.text();
    let mut flash = visit.session.take_flash();
    let Some(user) = visit.session.data.user.clone() else {
        let body = sign_in_form(&visit, "/passwordnotification/signin");
        return state.page(&visit, StatusCode::OK, layout(t, t.signin_title, flash.as_ref(), body)).await;
    };
    let contacts = match state.sspr.contacts(&user.login).await {
        Ok(contacts) => contacts,
        Err(e) => {
            flash = Some(crate::session::Flash { error: true, text: contacts_error(t, &e) });
            Contacts::default()
        }
    };
    let body = html! {
        p { (t.signed_in_as(&user.display_name)) " (" (user.login) ") " (sign_out_button(&visit, "/passwordnotification/signout")) }
        @if user.must_change {
            p.flash.error { (t.must_change_note) }
        }
        p { (t.register_intro) }
        (contacts_form(&visit, &contacts, state.clock.now(), "/passwordnotification/save", None))
    };
    state.page(&visit, StatusCode::OK, layout(t, t.register_title, flash.as_ref(), body)).await
}

/// `POST /passwordnotification/signin`.
pub(crate) async fn sign_in(State(state): State<AppState>, mut visit: Visit, Form(form): Form<SignInForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let password = Password::new(form.password);
    match state.sspr.sign_in(&form.login, &password, &visit.ctx).await {
        Ok(who) => {
            visit.session.data.user =
                Some(SignedUser { login: who.login, display_name: who.display_name, must_change: who.must_change });
            state.rotate_and_redirect(visit, PAGE).await
        }
        Err(e) => {
            visit.session.flash(true, sign_in_error(t, &e));
            state.redirect(&visit, PAGE).await
        }
    }
}

/// `POST /passwordnotification/save`.
pub(crate) async fn save(State(state): State<AppState>, mut visit: Visit, Form(form): Form<SaveForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let Some(user) = visit.session.data.user.clone() else {
        return state.redirect(&visit, PAGE).await;
    };
    let update = ContactUpdate { email: change(&form.email), phone: change(&form.phone) };
    match state.sspr.update_contacts(&Actor::User, &user.login, update, &visit.ctx).await {
        Ok(_) => visit.session.flash(false, t.saved),
        Err(e) => visit.session.flash(true, contacts_error(t, &e)),
    }
    state.redirect(&visit, PAGE).await
}

/// `POST /passwordnotification/signout`.
pub(crate) async fn sign_out(State(state): State<AppState>, mut visit: Visit, Form(form): Form<CsrfForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    visit.session.data.user = None;
    state.rotate_and_redirect(visit, PAGE).await
}
