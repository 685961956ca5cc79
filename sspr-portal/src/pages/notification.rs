//! `/passwordnotification`: users sign in with their directory credentials and view or
//! change the alternate e-mail address and mobile number their PINs go to. A new address or
//! number is saved only once the user types back the code sent to it (the engine's contact
//! proof); removals and unchanged values are saved at once.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use sspr_core::{Actor, Channel, ContactChange, ContactUpdate, Contacts, Error, NotAllowedReason, Password};

use crate::AppState;
use crate::session::{PendingContactProof, SignedUser};
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

/// No `Debug`: it holds a one-time code.
#[derive(Deserialize)]
pub(crate) struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
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
    let note = |usable_from: time::OffsetDateTime| (usable_from > now).then(|| t.usable_from(visit.local(usable_from)));
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
        // With OpenID Connect configured, users sign in at their identity provider only.
        let body = if state.oidc.is_some() {
            html! { p { a #oidc-signin href="/passwordnotification/oidc" { (t.oidc_signin_btn) } } }
        } else {
            sign_in_form(&visit, "/passwordnotification/signin")
        };
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
            p.flash.error { (t.must_change_note) " " a #change-now href="/passwordchange" { (t.must_change_link) } }
        }
        @if let Some(proof) = &visit.session.data.contact_proof {
            form method="post" action="/passwordnotification/confirm" {
                (csrf_field(&visit.session))
                p { (t.proof_sent(&proof.masked)) }
                label for="code" { (t.code_label) }
                input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="64"
                    required autofocus;
                button type="submit" { (t.confirm_btn) }
            }
        }
        @if contacts.confirm_due {
            form #reconfirm method="post" action="/passwordnotification/reconfirm" {
                (csrf_field(&visit.session))
                p { (t.reconfirm_note) }
                button type="submit" { (t.reconfirm_btn) }
            }
        }
        p { (t.register_intro) }
        (contacts_form(&visit, &contacts, state.clock.now(), "/passwordnotification/save", None))
    };
    state.page(&visit, StatusCode::OK, layout(t, t.register_title, flash.as_ref(), body)).await
}

/// `POST /passwordnotification/signin`.
pub(crate) async fn sign_in(State(state): State<AppState>, mut visit: Visit, Form(form): Form<SignInForm>) -> Response {
    // With OpenID Connect configured there is no password sign-in (see `admin::sign_in`).
    if state.oidc.is_some() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let password = Password::new(form.password);
    // The self-service rule (`Sspr::self_service_refusal`), which the OpenID Connect
    // sign-in applies too: an account it refuses is answered as a wrong password.
    match state.sspr.sign_in_self_service(&form.login, &password, &visit.ctx).await {
        Ok(who) => {
            // A password that must be changed first leads to the change page.
            let next = if who.must_change { "/passwordchange" } else { PAGE };
            visit.session.data.user =
                Some(SignedUser { login: who.login, display_name: who.display_name, must_change: who.must_change });
            state.rotate_and_redirect(visit, next).await
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
    match save_or_prove(&state, &visit, &user.login, update).await {
        Ok(None) => {
            visit.session.data.contact_proof = None;
            visit.session.flash(false, t.saved);
        }
        Ok(Some(proof)) => {
            visit.session.data.contact_proof = Some(proof);
        }
        Err(e) => visit.session.flash(true, contacts_error(t, &e)),
    }
    state.redirect(&visit, PAGE).await
}

/// Save `update`; a new contact the engine wants proven is not saved but gets a code
/// instead (the first of them, the other queued). `Ok(None)`: all saved.
async fn save_or_prove(
    state: &AppState,
    visit: &Visit,
    login: &str,
    update: ContactUpdate,
) -> Result<Option<PendingContactProof>, Error> {
    let unproven =
        |r: &Result<Contacts, Error>| matches!(r, Err(Error::NotAllowed { reason: NotAllowedReason::ContactUnproven }));
    let first = state.sspr.update_contacts(&Actor::User, login, update.clone(), &visit.ctx).await;
    if !unproven(&first) {
        return first.map(|_| None);
    }
    // Save what needs no proof (removals, unchanged values) now; then ask which of the set
    // values are new, one at a time, so the engine decides (not a second copy of its rule).
    let only = |email: ContactChange, phone: ContactChange| ContactUpdate { email, phone };
    let keep_set = |c: &ContactChange| if matches!(c, ContactChange::Set(_)) { ContactChange::Keep } else { c.clone() };
    state
        .sspr
        .update_contacts(&Actor::User, login, only(keep_set(&update.email), keep_set(&update.phone)), &visit.ctx)
        .await?;
    let mut new = Vec::new();
    for (channel, change) in [(Channel::Email, &update.email), (Channel::Sms, &update.phone)] {
        if let ContactChange::Set(value) = change {
            let alone = match channel {
                Channel::Email => only(change.clone(), ContactChange::Keep),
                Channel::Sms => only(ContactChange::Keep, change.clone()),
            };
            let tried = state.sspr.update_contacts(&Actor::User, login, alone, &visit.ctx).await;
            if unproven(&tried) {
                new.push((channel, value.clone()));
            } else {
                tried?;
            }
        }
    }
    let mut new = new.into_iter();
    let Some((channel, value)) = new.next() else { return Ok(None) };
    let proof = state.sspr.request_contact_proof(&Actor::User, login, channel, &value, &visit.ctx).await?;
    Ok(Some(PendingContactProof { proof_id: proof.proof_id, masked: proof.masked, queued: new.next() }))
}

/// `POST /passwordnotification/confirm`: the code sent to a new contact.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    mut visit: Visit,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let (Some(user), Some(pending)) = (visit.session.data.user.clone(), visit.session.data.contact_proof.clone())
    else {
        return state.redirect(&visit, PAGE).await;
    };
    let confirmed =
        state.sspr.confirm_contact_proof(&Actor::User, &user.login, &pending.proof_id, &form.code, &visit.ctx).await;
    match confirmed {
        Ok(_) => {
            visit.session.data.contact_proof = None;
            visit.session.flash(false, t.saved);
            if let Some((channel, value)) = pending.queued {
                match state.sspr.request_contact_proof(&Actor::User, &user.login, channel, &value, &visit.ctx).await {
                    Ok(proof) => {
                        visit.session.data.contact_proof =
                            Some(PendingContactProof { proof_id: proof.proof_id, masked: proof.masked, queued: None });
                    }
                    Err(e) => visit.session.flash(true, contacts_error(t, &e)),
                }
            }
        }
        Err(Error::WrongPin { attempts_left }) => visit.session.flash(true, t.wrong_pin(attempts_left)),
        Err(Error::InvalidInput { .. }) => visit.session.flash(true, t.pin_digits(state.sspr.policy().pin_length)),
        Err(Error::PinVoided | Error::Expired | Error::AlreadyUsed) => {
            visit.session.data.contact_proof = None;
            visit.session.flash(true, t.proof_dead);
        }
        Err(e) => visit.session.flash(true, contacts_error(t, &e)),
    }
    state.redirect(&visit, PAGE).await
}

/// `POST /passwordnotification/reconfirm`: the signed-in user says their contacts are still
/// right (asked once the policy's `reconfirm_after_days` have passed).
pub(crate) async fn reconfirm(State(state): State<AppState>, mut visit: Visit, Form(form): Form<CsrfForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let Some(user) = visit.session.data.user.clone() else {
        return state.redirect(&visit, PAGE).await;
    };
    match state.sspr.confirm_contacts(&Actor::User, &user.login, &visit.ctx).await {
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
