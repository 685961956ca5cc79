//! `/admin`: administrators sign in with their directory credentials, or with OpenID Connect
//! when `[oidc]` is configured (a fresh sign-in at the provider: `pages::oidc`); only members
//! of the configured `admin_groups` get in, and only with a password the directory accepts as
//! it is (a temporary password that must be changed does not open these pages: it may come
//! from a reset, which an attacker with the admin's mailbox could have done). They search users, enable or disable SSPR, set contacts,
//! see each user's status (blocked until, last reset), lift blocks and read the audit log.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use sspr_core::backend::DirectoryUser;
use sspr_core::{
    Actor, AuditEvent, ContactUpdate, EnrollmentFilter, EnrollmentReport, NormalizedLogin, Password, UserStatus,
};

use super::notification::{SignInForm, change, contacts_error, contacts_form, sign_in_error, sign_in_form};
use crate::AppState;
use crate::session::SignedUser;
use crate::text::Text;
use crate::web::{Visit, csrf_field, layout, url_encode};

const PAGE: &str = "/admin";
/// Users shown per search.
const SEARCH_LIMIT: usize = 50;
/// Audit events shown.
const AUDIT_SHOWN: usize = 100;

#[derive(Debug, Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserQuery {
    #[serde(default)]
    login: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

/// The report's filter as typed: OUs and groups one per line, the stale age in days.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ous: String,
    #[serde(default)]
    groups: String,
    #[serde(default)]
    stale: String,
}

impl ReportForm {
    /// The engine's filter (which checks the names); a stale age that is not a number is an
    /// error naming the field, like the engine's own.
    fn filter(&self) -> sspr_core::Result<EnrollmentFilter> {
        let lines = |text: &str| text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        let stale = match self.stale.trim() {
            "" => None,
            days => Some(days.parse::<u32>().map_err(|_| sspr_core::Error::InvalidInput {
                field: "stale_after_days",
                reason: "a number of days".into(),
            })?),
        };
        Ok(EnrollmentFilter { ous: lines(&self.ous), groups: lines(&self.groups), stale_after_days: stale })
    }

    /// The report page showing this filter.
    fn link(&self) -> String {
        format!(
            "/admin/report?ous={}&groups={}&stale={}",
            url_encode(&self.ous),
            url_encode(&self.groups),
            url_encode(&self.stale)
        )
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Whether `groups` hold one of the admin groups (by DN or by common name, any case).
pub(crate) fn user_link(login: &str) -> String {
    format!("/admin/user?login={}", url_encode(login))
}

fn status_tags(visit: &Visit, s: &UserStatus) -> Markup {
    let t = visit.text();
    html! {
        span.tag.good[s.enabled].bad[!s.enabled] { (if s.enabled { t.enabled } else { t.disabled }) }
        span.tag { (if s.eligible { t.eligible } else { t.ineligible }) }
        @if s.privileged { span.tag.bad { (t.privileged) } }
        @if s.account_disabled { span.tag.bad { (t.account_disabled) } }
        @if s.account_locked { span.tag.bad { (t.account_locked) } }
        @if let Some(until) = s.blocked_until { span.tag.bad { (t.blocked_until) " " (t.date_time(visit.local(until))) } }
    }
}

fn audit_table(visit: &Visit, events: &[AuditEvent]) -> Markup {
    let t = visit.text();
    html! {
        h2 { (t.audit_title) }
        div.scroll {
            table #audit {
                tr { th { (t.audit_col_time) } th { (t.audit_col_event) } th { (t.audit_col_user) } th { (t.audit_col_detail) } th { (t.audit_col_ip) } th { (t.audit_col_actor) } th { (t.audit_col_outcome) } }
                @for e in events {
                    tr {
                        td { (t.date_time(visit.local(e.at))) }
                        td { (serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) }
                        td { (e.user_id.as_ref().map(|u| u.as_str().to_owned()).or_else(|| e.login_fingerprint.as_ref().map(|f| format!("#{}", f.chars().take(8).collect::<String>()))).unwrap_or_default()) }
                        td {
                            (e.channel.map(|c| c.method_id()).unwrap_or("")) " " (e.destination.as_deref().unwrap_or(""))
                            // The flow's keyed reference (never its id): enough to group one reset's events.
                            @if let Some(flow) = &e.flow_ref { " flow " code { (flow.chars().take(8).collect::<String>()) } }
                        }
                        td { (e.client_ip.map(|ip| ip.to_string()).unwrap_or_default()) }
                        td { (match &e.actor { Some(Actor::Admin(who)) => who.clone(), Some(Actor::User) => "user".into(), None => String::new() }) }
                        td { code { (serde_json::to_string(&e.outcome).unwrap_or_default()) } }
                    }
                }
            }
        }
    }
}

pub(crate) fn header(visit: &Visit, admin: &SignedUser) -> Markup {
    let t = visit.text();
    html! {
        p {
            (t.signed_in_as(&admin.display_name)) " (" (admin.login) ") "
            form.inline method="post" action="/admin/signout" {
                (csrf_field(&visit.session))
                button.secondary type="submit" { (t.signout_btn) }
            }
        }
        form method="get" action="/admin" {
            label for="q" { (t.search_label) }
            input #q type="search" name="q" maxlength=(sspr_core::MAX_SEARCH_QUERY_CHARS);
            button type="submit" { (t.search_btn) }
        }
        p { a #report-link href="/admin/report" { (t.report_title) } " \u{b7} " a #reports-link href="/admin/reports" { (t.reports_title) } }
    }
}

/// The report's filter fields (GET to show, POST to remind).
fn report_fields(t: &Text, form: &ReportForm) -> Markup {
    html! {
        label for="ous" { (t.report_ous) }
        textarea #ous name="ous" rows="2" maxlength="20000" { (form.ous) }
        label for="groups" { (t.report_groups) }
        textarea #groups name="groups" rows="2" maxlength="20000" { (form.groups) }
        label for="stale" { (t.report_stale_days) }
        input #stale type="text" name="stale" inputmode="numeric" maxlength="5" value=(form.stale);
    }
}

fn report_tables(visit: &Visit, report: &EnrollmentReport) -> Markup {
    let t = visit.text();
    let c = &report.counts;
    let counts = [
        c.users,
        c.enabled,
        c.registered,
        c.without_contacts,
        c.stale,
        c.never_used,
        c.blocked,
        c.privileged,
        c.without_mail,
    ];
    html! {
        div.scroll {
            table #report-counts {
                tr { @for label in t.count_labels() { th { (label) } } }
                tr { @for n in counts { td { (n) } } }
            }
        }
        div.scroll {
            table #report-users {
                tr { th { (t.col_login) } th { (t.col_name) } th { (t.col_status) } th { (t.col_contacts) } th { (t.last_reset) } }
                @for u in &report.users {
                    tr {
                        td { a href=(user_link(&u.login)) { (u.login) } }
                        td { (u.display_name) }
                        td {
                            span.tag.good[u.enabled].bad[!u.enabled] { (if u.enabled { t.enabled } else { t.disabled }) }
                            @if u.privileged { " " span.tag.bad { (t.privileged) } }
                            @if u.account_disabled { " " span.tag.bad { (t.account_disabled) } }
                            @for (set, label) in [u.without_contacts, u.stale, u.never_used, u.blocked].into_iter().zip(t.flag_labels()) {
                                @if set { " " span.tag.bad { (label) } }
                            }
                        }
                        td { (u.email_masked.as_deref().unwrap_or("")) " " (u.phone_masked.as_deref().unwrap_or("")) }
                        td { (u.last_reset_at.map_or_else(|| t.never.to_owned(), |at| t.date_time(visit.local(at)))) }
                    }
                }
            }
        }
    }
}

/// `GET /admin/report?ous=&groups=&stale=`: the registration report, and the button that
/// sends reminders for the same filter.
pub(crate) async fn report(
    State(state): State<AppState>,
    mut visit: Visit,
    Query(form): Query<ReportForm>,
) -> Response {
    let t = visit.text();
    let mut flash = visit.session.take_flash();
    let Some(admin) = signed_admin(&state, &mut visit).await else {
        return state.redirect(&visit, PAGE).await;
    };
    let actor = Actor::Admin(admin.login.clone());
    let report = match form.filter() {
        Ok(filter) => state.sspr.enrollment_report(&actor, &filter, &visit.ctx).await,
        Err(e) => Err(e),
    };
    let tables = match &report {
        Ok(report) => report_tables(&visit, report),
        Err(e) => {
            flash = Some(crate::session::Flash { error: true, text: report_error(t, e) });
            html! {}
        }
    };
    let body = html! {
        (header(&visit, &admin))
        h2 { (t.report_title) }
        form method="get" action="/admin/report" {
            (report_fields(t, &form))
            button #show-report type="submit" { (t.report_btn) }
        }
        (tables)
        form method="post" action="/admin/remind" {
            (csrf_field(&visit.session))
            input type="hidden" name="ous" value=(form.ous);
            input type="hidden" name="groups" value=(form.groups);
            input type="hidden" name="stale" value=(form.stale);
            p.muted { (t.remind_note) }
            button #remind type="submit" { (t.remind_btn) }
        }
    };
    state.page(&visit, StatusCode::OK, layout(t, t.report_title, flash.as_ref(), body)).await
}

/// The message for a refused report or reminder run: the filter field named.
fn report_error(t: &Text, error: &sspr_core::Error) -> String {
    match error {
        sspr_core::Error::InvalidInput { field, reason } => format!("{field}: {reason}"),
        sspr_core::Error::Config(message) => message.clone(),
        other => contacts_error(t, other),
    }
}

/// `POST /admin/remind`: send registration reminders for the report's filter.
pub(crate) async fn remind(State(state): State<AppState>, mut visit: Visit, Form(form): Form<ReportForm>) -> Response {
    let actor = match admin_of(&state, &mut visit, &form.csrf).await {
        Ok(actor) => actor,
        Err(response) => return *response,
    };
    let t = visit.text();
    let run = match form.filter() {
        Ok(filter) => state.sspr.send_registration_reminders(&actor, &filter, &visit.ctx).await,
        Err(e) => Err(e),
    };
    match run {
        Ok(run) => visit.session.flash(false, t.reminders_done(&run)),
        Err(e) => visit.session.flash(true, report_error(t, &e)),
    }
    state.redirect(&visit, &form.link()).await
}

/// `GET /admin?q=`: sign-in, or search results and the audit log.
pub(crate) async fn show(
    State(state): State<AppState>,
    mut visit: Visit,
    Query(query): Query<SearchQuery>,
) -> Response {
    let t = visit.text();
    let flash = visit.session.take_flash();
    let Some(admin) = signed_admin(&state, &mut visit).await else {
        // With OpenID Connect configured, admins sign in at their identity provider only.
        let body = if state.oidc.is_some() {
            html! { p { a #oidc-signin href="/admin/oidc" { (t.oidc_signin_btn) } } }
        } else {
            sign_in_form(&visit, "/admin/signin")
        };
        return state.page(&visit, StatusCode::OK, layout(t, t.admin_signin_title, flash.as_ref(), body)).await;
    };
    let (users, error) = match state.sspr.search_users(&query.q, SEARCH_LIMIT).await {
        Ok(users) => (users, None),
        // The box's `maxlength` holds a browser to the same length; a longer query came from
        // elsewhere (an edited link) and is told as what it is, not as an outage.
        Err(sspr_core::Error::InvalidInput { field: "query", .. }) => {
            (Vec::new(), Some(t.search_too_long(sspr_core::MAX_SEARCH_QUERY_CHARS)))
        }
        Err(e) => {
            tracing::warn!(error = %e, "admin search failed");
            (Vec::new(), Some(t.err_unavailable.to_owned()))
        }
    };
    let body = html! {
        (header(&visit, &admin))
        @if let Some(error) = error { p.flash.error role="alert" { (error) } }
        @if users.is_empty() {
            p { (t.no_results) }
        } @else {
            div.scroll {
                table #users {
                    tr { th { (t.col_login) } th { (t.col_name) } th { (t.col_status) } th { (t.col_contacts) } th { (t.last_reset) } }
                    @for u in &users {
                        tr {
                            td { a href=(user_link(&u.login)) { (u.login) } }
                            td { (u.display_name) }
                            td { (status_tags(&visit, u)) }
                            td { (u.email_masked.as_deref().unwrap_or("")) " " (u.phone_masked.as_deref().unwrap_or("")) }
                            td { (u.last_reset_at.map_or_else(|| t.never.to_owned(), |at| t.date_time(visit.local(at)))) }
                        }
                    }
                }
            }
        }
        (audit_table(&visit, &state.audit.newest(AUDIT_SHOWN)))
    };
    state.page(&visit, StatusCode::OK, layout(t, t.admin_title, flash.as_ref(), body)).await
}

/// `GET /admin/user?login=`: one user's status, contacts and the actions on them. The contacts
/// are read with [`sspr_core::Sspr::admin_contacts`], which audits who read them.
pub(crate) async fn user(State(state): State<AppState>, mut visit: Visit, Query(query): Query<UserQuery>) -> Response {
    let t = visit.text();
    let mut flash = visit.session.take_flash();
    let Some(admin) = signed_admin(&state, &mut visit).await else {
        return state.redirect(&visit, PAGE).await;
    };
    // The page shows the user's contacts in full: read as the admin, so the read is audited
    // (`contacts_viewed`, THREAT_MODEL R.31).
    let actor = Actor::Admin(admin.login.clone());
    let found = match state.sspr.status(&query.login).await {
        Ok(status) => state.sspr.admin_contacts(&actor, &query.login, &visit.ctx).await.map(|c| (status, c)),
        Err(e) => Err(e),
    };
    let body = match found {
        Err(e) => {
            flash = Some(crate::session::Flash { error: true, text: contacts_error(t, &e) });
            html! { (header(&visit, &admin)) }
        }
        Ok((s, contacts)) => html! {
            (header(&visit, &admin))
            h2 #user-login { (s.login) }
            p { (s.display_name) " \u{b7} " code { (s.user_id.as_str()) } }
            p #user-status { (status_tags(&visit, &s)) }
            p { (t.last_reset) ": " (s.last_reset_at.map_or_else(|| t.never.to_owned(), |at| t.date_time(visit.local(at)))) }
            form.inline method="post" action="/admin/enable" {
                (csrf_field(&visit.session))
                input type="hidden" name="login" value=(s.login);
                input type="hidden" name="enabled" value=(if s.enabled { "false" } else { "true" });
                button #toggle-enabled type="submit" { (if s.enabled { t.disable_btn } else { t.enable_btn }) }
            }
            @if s.blocked_until.is_some() {
                " "
                form.inline method="post" action="/admin/unblock" {
                    (csrf_field(&visit.session))
                    input type="hidden" name="login" value=(s.login);
                    button type="submit" { (t.unblock_btn) }
                }
            }
            h2 { (t.col_contacts) }
            (contacts_form(&visit, &contacts, state.clock.now(), "/admin/contacts", Some(&s.login)))
            (super::recovery::admin_section(&visit, &s.login, &contacts))
        },
    };
    state.page(&visit, StatusCode::OK, layout(t, t.admin_title, flash.as_ref(), body)).await
}

/// `POST /admin/signin`: directory credentials, then membership of an admin group, then a
/// password that need not change. A non-admin gets the same answer as a wrong password; an
/// admin with a temporary password is told to change it first.
pub(crate) async fn sign_in(State(state): State<AppState>, mut visit: Visit, Form(form): Form<SignInForm>) -> Response {
    // With OpenID Connect configured there is no password sign-in: the provider's own checks
    // (MFA, conditional access) must not be skipped by posting a password here.
    if state.oidc.is_some() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    let t = visit.text();
    let password = Password::new(form.password);
    let who = match state.sspr.sign_in(&form.login, &password, &visit.ctx).await {
        Ok(who) => who,
        Err(e) => {
            visit.session.flash(true, sign_in_error(t, &e));
            return state.redirect(&visit, PAGE).await;
        }
    };
    let is_admin = match NormalizedLogin::parse(&who.login) {
        Ok(login) => state.directory.find_user(&login).await.ok().flatten().is_some_and(|u| state.is_active_admin(&u)),
        Err(_) => false,
    };
    if !is_admin {
        tracing::warn!(user = %who.user_id, "a signed-in user who is not an admin tried /admin");
        visit.session.flash(true, t.signin_failed);
        return state.redirect(&visit, PAGE).await;
    }
    if who.must_change {
        tracing::warn!(user = %who.user_id, "an admin tried /admin with a password that must be changed");
        visit.session.flash(true, t.admin_must_change);
        return state.redirect(&visit, PAGE).await;
    }
    visit.session.data.admin =
        Some(SignedUser { login: who.login, display_name: who.display_name, must_change: false });
    state.rotate_and_redirect(visit, PAGE).await
}

/// `POST /admin/signout`.
pub(crate) async fn sign_out(State(state): State<AppState>, mut visit: Visit, Form(form): Form<CsrfForm>) -> Response {
    if let Some(refused) = state.csrf_refusal(&visit, &form.csrf) {
        return refused;
    }
    visit.session.data.admin = None;
    state.rotate_and_redirect(visit, PAGE).await
}

impl AppState {
    /// Who may use `/admin`: an account that is neither disabled nor expired, in one of the
    /// `admin_groups`. The one statement of that rule, for the password sign-in, the OpenID
    /// Connect sign-in and every admin page alike (three copies once drifted: the OIDC sign-in
    /// let an expired administrator in). On a Graph directory the groups are matched by
    /// object id alone (R.48: a group a user made, named like the admin group or its id).
    pub(crate) fn is_active_admin(&self, user: &DirectoryUser) -> bool {
        let in_admin_group = match &self.admin_group_ids {
            Some(ids) => user.groups.iter().any(|g| {
                g.strip_prefix(sspr_backends::graph::GROUP_ID_PREFIX)
                    .is_some_and(|id| ids.iter().any(|want| want == id))
            }),
            None => self.admin_groups.matches_any(&user.groups),
        };
        !user.state.disabled && !user.state.expired && in_admin_group
    }
}

/// The session's admin, if the directory still says they are one: the account exists, is
/// neither disabled nor expired, and is in an `admin_groups` group. Asked on every admin page
/// and action (one directory lookup), so an administrator taken out of the group or disabled
/// loses `/admin` at once, not when the session ends (`session_max_minutes`, up to a week): a
/// helpdesk recovery code alone takes over a user. A former admin's session is signed out; a
/// directory that cannot answer refuses this request only (fail closed, the session kept).
pub(crate) async fn signed_admin(state: &AppState, visit: &mut Visit) -> Option<SignedUser> {
    let admin = visit.session.data.admin.clone()?;
    let still_admin = match NormalizedLogin::parse(&admin.login) {
        Ok(login) => match state.directory.find_user(&login).await {
            Ok(Some(user)) => state.is_active_admin(&user),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "the directory could not confirm an admin: request refused");
                return None;
            }
        },
        Err(_) => false,
    };
    if still_admin {
        return Some(admin);
    }
    tracing::warn!("an admin session ended: the directory no longer has that user as an enabled admin");
    visit.session.data.admin = None;
    None
}

/// The admin of a checked form, or where to send the visitor instead.
pub(crate) async fn admin_of(state: &AppState, visit: &mut Visit, token: &str) -> Result<Actor, Box<Response>> {
    if let Some(refused) = state.csrf_refusal(visit, token) {
        return Err(Box::new(refused));
    }
    match signed_admin(state, visit).await {
        Some(admin) => Ok(Actor::Admin(admin.login)),
        None => Err(Box::new(state.redirect(visit, PAGE).await)),
    }
}

async fn done(state: &AppState, visit: &mut Visit, login: &str, result: sspr_core::Result<()>) -> Response {
    let t = visit.text();
    match result {
        Ok(()) => visit.session.flash(false, t.done),
        Err(e) => visit.session.flash(true, contacts_error(t, &e)),
    }
    state.redirect(visit, &user_link(login)).await
}

/// `POST /admin/enable`: enable or disable SSPR for a user.
pub(crate) async fn enable(State(state): State<AppState>, mut visit: Visit, Form(form): Form<UserForm>) -> Response {
    let actor = match admin_of(&state, &mut visit, &form.csrf).await {
        Ok(actor) => actor,
        Err(response) => return *response,
    };
    let enabled = form.enabled == "true";
    let result = state.sspr.set_enabled(&actor, &form.login, enabled, &visit.ctx).await;
    done(&state, &mut visit, &form.login, result).await
}

/// `POST /admin/contacts`: set a user's contacts (usable at once: an admin's change).
pub(crate) async fn contacts(State(state): State<AppState>, mut visit: Visit, Form(form): Form<UserForm>) -> Response {
    let actor = match admin_of(&state, &mut visit, &form.csrf).await {
        Ok(actor) => actor,
        Err(response) => return *response,
    };
    let update = ContactUpdate { email: change(&form.email), phone: change(&form.phone) };
    let result = state.sspr.update_contacts(&actor, &form.login, update, &visit.ctx).await.map(|_| ());
    done(&state, &mut visit, &form.login, result).await
}

/// `POST /admin/unblock`: lift a block.
pub(crate) async fn unblock(State(state): State<AppState>, mut visit: Visit, Form(form): Form<UserForm>) -> Response {
    let actor = match admin_of(&state, &mut visit, &form.csrf).await {
        Ok(actor) => actor,
        Err(response) => return *response,
    };
    let result = state.sspr.unblock(&actor, &form.login, &visit.ctx).await;
    done(&state, &mut visit, &form.login, result).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn admin_groups_match_by_dn_or_common_name() {
        let is_admin = |groups: &[String], admin: &[&str]| sspr_core::GroupList::new(admin).matches_any(groups);
        let groups = vec!["CN=SSPR-Admins,OU=Groups,DC=example,DC=org".to_owned()];
        assert!(is_admin(&groups, &["cn=sspr-admins,ou=groups,dc=example,dc=org"]));
        assert!(is_admin(&groups, &["sspr-admins"]));
        assert!(!is_admin(&groups, &["cn=sspr-admins,ou=other,dc=example,dc=org"]));
        assert!(!is_admin(&groups, &["admins"]));
        assert!(!is_admin(&[], &["sspr-admins"]));
    }
}
