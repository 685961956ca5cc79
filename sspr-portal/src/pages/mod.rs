//! The pages. Each handler checks the CSRF token of its form, calls one engine operation,
//! and shows the answer; no reset logic lives here.

pub(crate) mod admin;
pub(crate) mod change;
pub(crate) mod notification;
pub(crate) mod oidc;
pub(crate) mod outbox;
pub(crate) mod recovery;
pub(crate) mod reports;
pub(crate) mod reset;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::AppState;
use super::web::{Visit, layout};

/// `/`: what the portal offers.
pub(crate) async fn index(State(state): State<AppState>, mut visit: Visit) -> Response {
    let t = visit.text();
    let flash = visit.session.take_flash();
    let body = html! {
        p { (t.index_intro) }
        nav.links {
            a href="/passwordreset" { (t.index_reset) }
            a href="/passwordchange" { (t.index_change) }
            a href="/passwordnotification" { (t.index_register) }
            a href="/admin" { (t.index_admin) }
            @if state.outbox_page {
                a href="/outbox" { (t.index_outbox) }
            }
        }
    };
    state.page(&visit, StatusCode::OK, layout(t, t.brand, flash.as_ref(), body)).await
}
