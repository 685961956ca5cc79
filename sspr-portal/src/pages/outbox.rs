//! `/outbox`: the development outbox. Every notice the engine "sent" by e-mail or SMS,
//! newest first, with its text (PINs included): what a user would read in their mailbox.
//! Served only while notices go to the in-memory outbox.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::text::date_time;
use crate::web::{Visit, layout};

/// Most notices shown at once.
const SHOWN: usize = 200;

#[derive(Debug, Deserialize)]
pub(crate) struct Filter {
    /// Only notices to this address or number.
    #[serde(default)]
    to: Option<String>,
}

pub(crate) async fn show(State(state): State<AppState>, visit: Visit, Query(filter): Query<Filter>) -> Response {
    let t = visit.text();
    let messages = match (&state.outbox, filter.to.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
        (Some(outbox), Some(to)) => outbox.messages_to(to),
        (Some(outbox), None) => outbox.messages(),
        (None, _) => Vec::new(),
    };
    let body = html! {
        p.muted { (t.outbox_note) }
        form method="get" action="/outbox" {
            label for="to" { "To" }
            input #to type="search" name="to" value=(filter.to.as_deref().unwrap_or("")) maxlength="320";
        }
        @if messages.is_empty() {
            p { (t.outbox_empty) }
        }
        @for n in messages.iter().rev().take(SHOWN) {
            @let rendered = n.render();
            article.message data-to=(n.to.as_str()) {
                h2 { (rendered.subject) }
                p.muted { (date_time(n.at)) " \u{b7} " (format!("{:?}", n.to.channel())) " \u{b7} " span.to { (n.to.as_str()) } }
                pre.body { (rendered.body.as_str()) }
            }
        }
    };
    state.page(&visit, StatusCode::OK, layout(t, t.outbox_title, None, body)).await
}
