//! OpenID Connect sign-in (authorization code + PKCE), for the registration page and for
//! `/admin` when `[oidc]` is configured: the only way to sign in on a Microsoft Graph
//! directory, whose application permissions cannot check a password.
//!
//! Both start here and come back to the one redirect URI registered with the provider
//! (`/passwordnotification/oidc/callback`); what the sign-in was for is kept in the visitor's
//! session with its state, nonce and PKCE verifier, never in the URL the visitor controls.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::{Deserialize, Serialize};
use sspr_backends::graph::{OidcError, PendingSignIn, SignedIn};
use sspr_core::NormalizedLogin;

use crate::AppState;
use crate::config::OidcAccount;
use crate::session::SignedUser;
use crate::web::{Visit, url_encode};

/// What a sign-in under way is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Purpose {
    /// The registration page: any user who may use self-service.
    Registration,
    /// `/admin`: a member of an admin group, who entered their credentials moments ago.
    Admin,
}

impl Purpose {
    /// The page the sign-in is for (and where a refusal is shown).
    fn page(self) -> &'static str {
        match self {
            Self::Registration => "/passwordnotification",
            Self::Admin => "/admin",
        }
    }
}

/// A sign-in under way, in the visitor's session until the provider sends them back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingOidc {
    pub(crate) sign_in: PendingSignIn,
    pub(crate) purpose: Purpose,
}

/// `GET /passwordnotification/oidc`: sign in to the registration page.
pub(crate) async fn start_registration(State(state): State<AppState>, visit: Visit) -> Response {
    start(state, visit, Purpose::Registration).await
}

/// `GET /admin/oidc`: sign in to `/admin`. The provider is asked for a fresh sign-in, and the
/// ID token must show one (`auth_time` within `fresh_sign_in_secs`): the provider's single
/// sign-on session of a browser left open is not enough to administer accounts.
pub(crate) async fn start_admin(State(state): State<AppState>, visit: Visit) -> Response {
    start(state, visit, Purpose::Admin).await
}

/// Send the visitor to the OpenID provider, keeping the sign-in in their session. (A link,
/// not a form: a form's redirect to another site would fall under the page's
/// `form-action 'self'`.)
async fn start(state: AppState, mut visit: Visit, purpose: Purpose) -> Response {
    let t = visit.text();
    let Some(oidc) = state.oidc.as_ref() else { return StatusCode::NOT_FOUND.into_response() };
    let begun = match purpose {
        Purpose::Registration => oidc.begin().await,
        Purpose::Admin => oidc.begin_fresh().await,
    };
    match begun {
        Ok((url, sign_in)) => {
            visit.session.data.oidc = Some(PendingOidc { sign_in, purpose });
            state.redirect(&visit, url.as_str()).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "the OpenID Connect sign-in could not start");
            refuse(&state, visit, purpose, t.err_unavailable).await
        }
    }
}

/// What the provider sends back.
#[derive(Deserialize)]
pub(crate) struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    bounced: bool,
}

/// `GET /passwordnotification/oidc/callback`: finish the sign-in (state, code, ID token),
/// then let in whom the sign-in was for.
pub(crate) async fn callback(
    State(state): State<AppState>,
    mut visit: Visit,
    Query(answer): Query<Callback>,
) -> Response {
    let t = visit.text();
    let Some(oidc) = state.oidc.as_ref() else { return StatusCode::NOT_FOUND.into_response() };
    // The session cookie is SameSite=Strict, and the provider's redirect is a cross-site
    // navigation that carries none: answer once with a same-site refresh to this URL, which
    // the browser sends with the cookie.
    if visit.id.is_none() && !answer.bounced {
        let again = format!(
            "/passwordnotification/oidc/callback?code={}&state={}&bounced=true",
            url_encode(&answer.code),
            url_encode(&answer.state)
        );
        let page = html! {
            (maud::DOCTYPE)
            html lang=(t.lang) {
                head { meta charset="utf-8"; meta http-equiv="refresh" content=(format!("0;url={again}")); title { (t.brand) } }
                body { p { a href=(again) { (t.oidc_continue) } } }
            }
        };
        return (StatusCode::OK, axum::response::Html(page.into_string())).into_response();
    }
    let Some(PendingOidc { sign_in, purpose }) = visit.session.data.oidc.take() else {
        return refuse(&state, visit, Purpose::Registration, t.err_session).await;
    };
    if !answer.error.is_empty() || answer.code.is_empty() {
        return refuse(&state, visit, purpose, t.signin_failed).await;
    }
    let who = match oidc.finish(&sign_in, &answer.code, &answer.state).await {
        Ok(who) => who,
        Err(OidcError::Unavailable(e)) => {
            tracing::warn!(error = %e, "the OpenID provider failed");
            return refuse(&state, visit, purpose, t.err_unavailable).await;
        }
        Err(e) => {
            tracing::warn!(target: "sspr::audit", error = %e, "an OpenID Connect sign-in was refused");
            return refuse(&state, visit, purpose, t.signin_failed).await;
        }
    };
    match purpose {
        Purpose::Registration => registration_user(state, visit, who).await,
        Purpose::Admin => admin(state, visit, who).await,
    }
}

/// The ID token names the user (`preferred_username`), who must then be a directory user
/// self-service serves ([`sspr_core::Sspr::self_service_refusal`], the rule the password
/// sign-in applies too: an enabled, unexpired account, eligible, not privileged; others are
/// refused like a wrong password) and who is the provider's account that signed in
/// ([`same_account`]).
async fn registration_user(state: AppState, mut visit: Visit, who: SignedIn) -> Response {
    let t = visit.text();
    let purpose = Purpose::Registration;
    let Some(login) = who.username.as_deref().and_then(|u| NormalizedLogin::parse(u).ok()) else {
        return refuse(&state, visit, purpose, t.signin_failed).await;
    };
    let user = match state.directory.find_user(&login).await {
        Ok(user) => user,
        Err(e) => {
            tracing::warn!(error = %e, "the directory failed during an OpenID Connect sign-in");
            return refuse(&state, visit, purpose, t.err_unavailable).await;
        }
    };
    let user = match user {
        Some(user) if state.sspr.self_service_refusal(&user).is_none() => user,
        _ => {
            tracing::warn!(target: "sspr::audit", "an OpenID Connect sign-in named a user who may not use the page");
            return refuse(&state, visit, purpose, t.signin_failed).await;
        }
    };
    match same_account(&state, &who, &user).await {
        Ok(true) => {
            tracing::info!(target: "sspr::audit", user = user.id.as_str(), "signed in with OpenID Connect");
            visit.session.data.user =
                Some(SignedUser { login: user.login, display_name: user.display_name, must_change: false });
            state.rotate_and_redirect(visit, purpose.page()).await
        }
        Ok(false) => {
            tracing::warn!(target: "sspr::audit", user = user.id.as_str(), "an OpenID Connect sign-in was refused: the provider's account is not the directory user's");
            refuse(&state, visit, purpose, t.signin_failed).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "the directory failed during an OpenID Connect sign-in");
            refuse(&state, visit, purpose, t.err_unavailable).await
        }
    }
}

/// Whether the provider's account that signed in is the directory user its username named
/// ([`crate::config::OidcAccount`]): on Graph the ID token's `oid` is the user id; with
/// `subject_attribute` the user's entry holds exactly one value of it, the prefix followed by
/// the token's `oid` (else its `sub`); with `trust_username` the username is the operator's
/// word. Without `[oidc]` nobody.
async fn same_account(
    state: &AppState,
    who: &SignedIn,
    user: &sspr_core::backend::DirectoryUser,
) -> Result<bool, sspr_core::BackendError> {
    match &state.oidc_account {
        None => Ok(false),
        Some(OidcAccount::Username) => Ok(true),
        Some(OidcAccount::ObjectId) => Ok(who.object_id.as_deref() == Some(user.id.as_str())),
        Some(OidcAccount::Attribute { name, prefix }) => {
            let id = who.object_id.as_deref().unwrap_or(who.subject.as_str());
            if id.is_empty() {
                return Ok(false);
            }
            let values = state.directory.attribute_values(&user.id, name).await?;
            Ok(matches!(values.as_slice(), [one] if one.strip_prefix(prefix.as_str()) == Some(id)))
        }
    }
}

/// The ID token (already checked fresh) names an administrator: a directory user who is an
/// active administrator ([`AppState::is_active_admin`]: neither disabled nor expired, in one
/// of the `admin_groups`), and the provider's account that signed in ([`same_account`]: a
/// UPN can be reassigned or claimed by a guest; the object id cannot).
/// Anyone else is refused like a wrong password.
async fn admin(state: AppState, mut visit: Visit, who: SignedIn) -> Response {
    let t = visit.text();
    let purpose = Purpose::Admin;
    let Some(login) = who.username.as_deref().and_then(|u| NormalizedLogin::parse(u).ok()) else {
        return refuse(&state, visit, purpose, t.signin_failed).await;
    };
    let user = match state.directory.find_user(&login).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::warn!(target: "sspr::audit", "an OpenID Connect sign-in to /admin named no directory user");
            return refuse(&state, visit, purpose, t.signin_failed).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "the directory failed during an OpenID Connect sign-in to /admin");
            return refuse(&state, visit, purpose, t.err_unavailable).await;
        }
    };
    if !state.is_active_admin(&user) {
        tracing::warn!(target: "sspr::audit", user = %user.id, "an OpenID Connect sign-in to /admin was refused: not an administrator");
        return refuse(&state, visit, purpose, t.signin_failed).await;
    }
    let same_account = match same_account(&state, &who, &user).await {
        Ok(same) => same,
        Err(e) => {
            tracing::warn!(error = %e, "the directory failed during an OpenID Connect sign-in to /admin");
            return refuse(&state, visit, purpose, t.err_unavailable).await;
        }
    };
    if !same_account {
        tracing::warn!(target: "sspr::audit", user = %user.id, "an OpenID Connect sign-in to /admin was refused: the provider's account is not the directory user's");
        return refuse(&state, visit, purpose, t.signin_failed).await;
    }
    tracing::info!(target: "sspr::audit", user = %user.id, "an administrator signed in to /admin with OpenID Connect");
    visit.session.data.admin =
        Some(SignedUser { login: user.login, display_name: user.display_name, must_change: false });
    state.rotate_and_redirect(visit, purpose.page()).await
}

/// Back to the page the sign-in was for, with `text` as the error.
async fn refuse(state: &AppState, mut visit: Visit, purpose: Purpose, text: &'static str) -> Response {
    visit.session.flash(true, text);
    state.redirect(&visit, purpose.page()).await
}
