//! `/passwordreset`: the anonymous reset. Login -> masked methods -> PIN sent -> PIN ->
//! completion (temporary password shown once). The flow id stays in the server-side session,
//! never in a URL or a form. Real and unknown logins look alike: the engine answers both
//! with the same shape, and these pages show what it answered.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sspr_backends::captcha::CaptchaProvider;
use sspr_core::{
    ChallengeRefusal, ChallengeToken, Channel, CompletionMode, Error, MethodOption, NewPassword, Password, ResetOutcome,
};

use crate::AppState;
use crate::session::{ResetStage, SentPin, Session};
use crate::text::Text;
use crate::web::{ShowsWidget, Visit, Widget, csrf_field, layout};

const PAGE: &str = "/passwordreset";

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub(crate) struct BeginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    /// The bot challenge widget's token, by the field each provider's widget fills.
    #[serde(default, rename = "cf-turnstile-response")]
    turnstile: Option<String>,
    #[serde(default, rename = "h-captcha-response")]
    hcaptcha: Option<String>,
    #[serde(default, rename = "g-recaptcha-response")]
    recaptcha: Option<String>,
}

impl BeginForm {
    /// The token in the field of the configured provider (another provider's field is not read).
    fn challenge_token(&self, provider: CaptchaProvider) -> Option<&str> {
        match provider {
            CaptchaProvider::Turnstile => self.turnstile.as_deref(),
            CaptchaProvider::Hcaptcha => self.hcaptcha.as_deref(),
            _ => self.recaptcha.as_deref(),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct SendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Deserialize)]
pub(crate) struct VerifyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pin: String,
}

/// No `Debug`: it may hold the password the user chose.
#[derive(Deserialize)]
pub(crate) struct CompleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_again: String,
}

/// Show an engine error on the next page, and forget the flow when it cannot go on.
pub(crate) fn apply_error(session: &mut Session, t: &Text, error: &Error, pin_length: u32, sspr: &sspr_core::Sspr) {
    let (clear, message) = match error {
        Error::InvalidInput { field, .. } => (
            false,
            match *field {
                "login" => t.err_login.to_owned(),
                "pin" | "code" => t.pin_digits(pin_length),
                // The full address typed before a code is sent, refused as no address at all.
                "confirm" | "email" | "phone" => t.err_confirm.to_owned(),
                "method_id" => t.err_method.to_owned(),
                _ => t.err_input.to_owned(),
            },
        ),
        Error::WrongPin { attempts_left } => {
            if let Some(ResetStage::PinSent { attempts_left: left, .. }) = &mut session.data.reset {
                *left = *attempts_left;
            }
            (false, t.wrong_pin(*attempts_left))
        }
        Error::PinVoided => (true, t.err_voided.to_owned()),
        Error::Expired => (true, t.err_expired.to_owned()),
        Error::AlreadyUsed => (true, t.err_used.to_owned()),
        Error::RateLimited { retry_after } => (false, t.rate_limited(*retry_after)),
        Error::Blocked { until } => (true, t.blocked(sspr.local_time(*until))),
        Error::NotAllowed { .. } => (true, t.err_not_allowed.to_owned()),
        Error::PasswordRejected { refusal, reason, suggestions } => {
            (false, t.password_rejected(*refusal, reason, suggestions))
        }
        Error::Backend { source } => {
            tracing::warn!(error = %source, "a backend failed during a reset");
            (false, t.err_unavailable.to_owned())
        }
        Error::Challenge { reason } => (
            false,
            match reason {
                ChallengeRefusal::Required => t.err_challenge_required,
                ChallengeRefusal::Failed => t.err_challenge_failed,
                _ => t.err_challenge_unavailable,
            }
            .to_owned(),
        ),
        other => {
            tracing::warn!(error = %other, "a reset step failed");
            (true, t.err_state.to_owned())
        }
    };
    if clear {
        session.data.reset = None;
    }
    session.flash(true, message);
}

fn method_label(t: &Text, m: &MethodOption) -> String {
    let via = match m.channel {
        Channel::Sms => t.via_sms,
        _ => t.via_email,
    };
    format!("{via} {}", m.masked)
}

fn restart_button(visit: &Visit) -> Markup {
    html! {
        form.inline method="post" action="/passwordreset/restart" {
            (csrf_field(&visit.session))
            button.secondary type="submit" { (visit.text().start_over) }
        }
    }
}

fn login_form(visit: &Visit, widget: Option<&Widget>) -> Markup {
    let t = visit.text();
    html! {
        p { (t.reset_intro) }
        form method="post" action="/passwordreset/begin" {
            (csrf_field(&visit.session))
            label for="login" { (t.login_label) }
            input #login type="text" name="login" autocomplete="username" autocapitalize="none" spellcheck="false"
                maxlength="256" required autofocus;
            @if let Some(widget) = widget {
                (widget.markup())
            }
            button type="submit" { (t.continue_btn) }
        }
        (super::recovery::link(visit))
    }
}

fn methods_form(visit: &Visit, methods: &[MethodOption]) -> Markup {
    let t = visit.text();
    let confirm = methods.iter().any(|m| m.needs_confirmation);
    html! {
        form method="post" action="/passwordreset/send" {
            (csrf_field(&visit.session))
            fieldset {
                legend { (t.methods_intro) }
                @for (i, m) in methods.iter().enumerate() {
                    label {
                        input type="radio" name="method" value=(m.id) checked[i == 0] required;
                        " " (method_label(t, m))
                    }
                }
            }
            @if confirm {
                label for="confirm" { (t.confirm_label) }
                input #confirm type="text" name="confirm" autocomplete="off" maxlength="320" required;
            }
            button type="submit" { (t.send_btn) }
        }
        (restart_button(visit))
    }
}

fn pin_form(visit: &Visit, masked: &str, expires_at: time::OffsetDateTime, attempts_left: u32, digits: u32) -> Markup {
    let t = visit.text();
    html! {
        p { (t.pin_sent(masked)) }
        p.muted #pin-status { (t.pin_status(visit.local(expires_at), attempts_left)) }
        form method="post" action="/passwordreset/verify" {
            (csrf_field(&visit.session))
            label for="pin" { (t.pin_label) }
            input #pin type="text" name="pin" inputmode="numeric" autocomplete="one-time-code" maxlength="32"
                required autofocus placeholder=(t.pin_hint(digits));
            button type="submit" { (t.verify_btn) }
        }
        form.inline method="post" action="/passwordreset/another" {
            (csrf_field(&visit.session))
            button.secondary type="submit" { (t.new_code) }
        }
        " "
        (restart_button(visit))
    }
}

fn modes_form(visit: &Visit, modes: &[CompletionMode]) -> Markup {
    let t = visit.text();
    let label = |mode: CompletionMode| match mode {
        CompletionMode::Temporary => t.mode_temporary,
        CompletionMode::Chosen => t.mode_chosen,
        CompletionMode::UnlockOnly => t.mode_unlock,
    };
    html! {
        form method="post" action="/passwordreset/complete" {
            (csrf_field(&visit.session))
            fieldset {
                legend { (t.modes_intro) }
                @for (i, mode) in modes.iter().enumerate() {
                    label {
                        input type="radio" name="mode" value=(mode.as_str()) checked[i == 0] required;
                        " " (label(*mode))
                    }
                }
            }
            @if modes.contains(&CompletionMode::Chosen) {
                label for="new_password" { (t.new_password_label) }
                input #new_password type="password" name="new_password" autocomplete="new-password" maxlength="256";
                label for="new_password_again" { (t.new_password_again_label) }
                input #new_password_again type="password" name="new_password_again" autocomplete="new-password"
                    maxlength="256";
            }
            button type="submit" { (t.continue_btn) }
        }
        (restart_button(visit))
    }
}

/// `GET /passwordreset`: the step the session's flow is at.
pub(crate) async fn show(State(state): State<AppState>, mut visit: Visit) -> Response {
    let t = visit.text();
    let flash = visit.session.take_flash();
    let digits = state.sspr.policy().pin_length;
    let shows_widget = state.widget.is_some() && visit.session.data.reset.is_none();
    let body = match visit.session.data.reset.clone() {
        None => login_form(&visit, state.widget.as_ref()),
        Some(ResetStage::Methods { methods, .. }) => methods_form(&visit, &methods),
        Some(ResetStage::PinSent { masked, expires_at, attempts_left, .. }) => {
            pin_form(&visit, &masked, expires_at, attempts_left, digits)
        }
        Some(ResetStage::Verified { modes, .. }) => modes_form(&visit, &modes),
    };
    let mut response = state.page(&visit, StatusCode::OK, layout(t, t.reset_title, flash.as_ref(), body)).await;
    if shows_widget {
        response.extensions_mut().insert(ShowsWidget);
    }
    response
}

/// `POST /passwordreset/begin`: start a flow for the login typed.
pub(crate) async fn begin(State(state): State<AppState>, mut visit: Visit, Form(form): Form<BeginForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let mut ctx = visit.ctx.clone();
    if let Some(widget) = &state.widget {
        match ChallengeToken::parse(form.challenge_token(widget.provider).unwrap_or_default()) {
            Ok(token) => ctx.challenge_token = token,
            Err(e) => {
                apply_error(&mut visit.session, t, &e, state.sspr.policy().pin_length, &state.sspr);
                return state.redirect(&visit, PAGE).await;
            }
        }
    }
    match state.sspr.begin_reset(&form.login, &ctx).await {
        Ok(challenge) => {
            visit.session.data.reset =
                Some(ResetStage::Methods { flow_id: challenge.flow_id, methods: challenge.methods, earlier: None });
        }
        Err(e) => apply_error(&mut visit.session, t, &e, state.sspr.policy().pin_length, &state.sspr),
    }
    state.redirect(&visit, PAGE).await
}

/// `POST /passwordreset/send`: send a PIN by the chosen method.
pub(crate) async fn send(State(state): State<AppState>, mut visit: Visit, Form(form): Form<SendForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let Some(ResetStage::Methods { flow_id, methods, earlier }) = visit.session.data.reset.clone() else {
        visit.session.data.reset = None;
        visit.session.flash(true, t.err_state);
        return state.redirect(&visit, PAGE).await;
    };
    let Some(method) = methods.iter().find(|m| m.id == form.method) else {
        visit.session.flash(true, t.err_method);
        return state.redirect(&visit, PAGE).await;
    };
    let confirm = method.needs_confirmation.then_some(form.confirm.as_str());
    match state.sspr.send_pin(&flow_id, &method.id, confirm, &visit.ctx).await {
        Ok(sent) => {
            visit.session.data.reset = Some(ResetStage::PinSent {
                masked: method.masked.clone(),
                method: method.id.clone(),
                flow_id,
                methods,
                expires_at: sent.expires_at,
                attempts_left: sent.attempts_left,
            });
        }
        Err(e) => {
            // Too soon for a new code: the one already sent is still good, so back to its form.
            if let (Error::RateLimited { .. }, Some(sent)) = (&e, earlier) {
                visit.session.data.reset = Some(sent.into_stage(flow_id, methods));
            }
            apply_error(&mut visit.session, t, &e, state.sspr.policy().pin_length, &state.sspr);
        }
    }
    state.redirect(&visit, PAGE).await
}

/// How many times (25 ms apart: a second at most) a verify answered `AlreadyUsed` looks for
/// the session a concurrent request of the same double click moved to.
const FORWARD_WAIT_STEPS: usize = 40;

/// `POST /passwordreset/verify`: check the PIN.
pub(crate) async fn verify(State(state): State<AppState>, mut visit: Visit, Form(form): Form<VerifyForm>) -> Response {
    // A double click's second request, after the first verified this PIN and moved the
    // session: to the new session (its own proof: the old cookie, token and PIN). Its cookie
    // names a session that no longer loads; a live one cannot have been moved yet (then the
    // engine's `AlreadyUsed` below waits for the forward), so the common case costs no lookup.
    if visit.id.is_none()
        && let Ok(Some(forwarded)) = state.forwarded(&visit, &form.csrf, &form.pin, PAGE).await
    {
        return forwarded;
    }
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    // A PIN form still open (another tab, the back button) after "Send a new code": the code
    // it was for is still good until a new one is sent, so it is checked as on its own form.
    if let Some(ResetStage::Methods { flow_id, methods, earlier: Some(sent) }) = visit.session.data.reset.clone() {
        visit.session.data.reset = Some(sent.into_stage(flow_id, methods));
    }
    let Some(ResetStage::PinSent { flow_id, methods, method, .. }) = visit.session.data.reset.clone() else {
        visit.session.data.reset = None;
        visit.session.flash(true, t.err_state);
        return state.redirect(&visit, PAGE).await;
    };
    match state.sspr.verify_pin(&flow_id, sspr_core::Pin::new(&form.pin), &visit.ctx).await {
        Ok(verified) if !verified.remaining_methods.is_empty() => {
            let remaining =
                methods.into_iter().filter(|m| m.id != method && verified.remaining_methods.contains(&m.id)).collect();
            visit.session.data.reset = Some(ResetStage::Methods { flow_id, methods: remaining, earlier: None });
            visit.session.flash(false, t.second_method);
            return state.rotate_and_redirect_forwarding(visit, PAGE, Some((&form.csrf, &form.pin))).await;
        }
        Ok(verified) => {
            visit.session.data.reset = Some(ResetStage::Verified { flow_id, modes: verified.modes });
            // Proving the PIN is a privilege change: a new session id (and CSRF token), so an
            // id planted in the victim's browser before cannot complete the reset.
            return state.rotate_and_redirect_forwarding(visit, PAGE, Some((&form.csrf, &form.pin))).await;
        }
        Err(e) => {
            // Both clicks were in flight together and the other one verified the PIN: it
            // moves the session as soon as its own (padded) answer is ready. Wait for that,
            // briefly and only for this error, rather than lose the user's verified reset.
            if matches!(e, Error::AlreadyUsed) {
                for _ in 0..FORWARD_WAIT_STEPS {
                    match state.forwarded(&visit, &form.csrf, &form.pin, PAGE).await {
                        Ok(Some(forwarded)) => return forwarded,
                        Ok(None) => tokio::time::sleep(std::time::Duration::from_millis(25)).await,
                        Err(()) => break,
                    }
                }
            }
            apply_error(&mut visit.session, t, &e, state.sspr.policy().pin_length, &state.sspr);
        }
    }
    state.redirect(&visit, PAGE).await
}

/// `POST /passwordreset/complete`: set the temporary password (shown once, in this answer
/// only), set the chosen one, or unlock.
pub(crate) async fn complete(
    State(state): State<AppState>,
    mut visit: Visit,
    Form(form): Form<CompleteForm>,
) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let Some(ResetStage::Verified { flow_id, modes }) = visit.session.data.reset.clone() else {
        visit.session.data.reset = None;
        visit.session.flash(true, t.err_state);
        return state.redirect(&visit, PAGE).await;
    };
    let Some(mode) = form.mode.parse::<CompletionMode>().ok().filter(|m| modes.contains(m)) else {
        visit.session.flash(true, t.err_input);
        return state.redirect(&visit, PAGE).await;
    };
    if mode == CompletionMode::Chosen && form.new_password != form.new_password_again {
        visit.session.flash(true, t.passwords_differ);
        return state.redirect(&visit, PAGE).await;
    }
    // The password fields are on the page whatever the mode; they count only for `chosen`.
    let chosen = (mode == CompletionMode::Chosen).then(|| Password::new(form.new_password));
    let new_password = match NewPassword::from_mode(mode, chosen) {
        Ok(new_password) => new_password,
        Err(e) => {
            apply_error(&mut visit.session, t, &e, state.sspr.policy().pin_length, &state.sspr);
            return state.redirect(&visit, PAGE).await;
        }
    };
    match state.sspr.complete_reset(&flow_id, new_password, &visit.ctx).await {
        Ok(outcome) => {
            visit.session.data.reset = None;
            state.page(&visit, StatusCode::OK, layout(t, t.reset_title, None, outcome_body(t, &outcome, mode))).await
        }
        Err(e) => {
            apply_error(&mut visit.session, t, &e, state.sspr.policy().pin_length, &state.sspr);
            state.redirect(&visit, PAGE).await
        }
    }
}

fn outcome_body(t: &Text, outcome: &ResetOutcome, mode: CompletionMode) -> Markup {
    html! {
        @if let Some(temporary) = &outcome.temporary_password {
            h2 { (t.temp_title) }
            code.secret #temporary-password { (temporary.expose_secret()) }
            p.flash.ok role="status" { (t.temp_note) }
        } @else if mode == CompletionMode::UnlockOnly {
            p.flash.ok role="status" { (t.unlocked_done) }
        } @else {
            p.flash.ok role="status" { (t.chosen_done) }
        }
        p { a href="/" { (t.back) } }
    }
}

/// `POST /passwordreset/another`: back to the methods, to send a new PIN (the engine
/// enforces the cooldown and the number of PINs per flow). The PIN already sent is kept: a
/// new one refused brings its form back.
pub(crate) async fn another(State(state): State<AppState>, mut visit: Visit, Form(form): Form<CsrfForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    if let Some(ResetStage::PinSent { flow_id, methods, method, masked, expires_at, attempts_left }) =
        visit.session.data.reset.clone()
    {
        let earlier = Some(SentPin { method, masked, expires_at, attempts_left });
        visit.session.data.reset = Some(ResetStage::Methods { flow_id, methods, earlier });
    }
    state.redirect(&visit, PAGE).await
}

/// `POST /passwordreset/restart`: forget the flow.
pub(crate) async fn restart(State(state): State<AppState>, mut visit: Visit, Form(form): Form<CsrfForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    visit.session.data.reset = None;
    state.redirect(&visit, PAGE).await
}
