//! `/outbox`: the development outbox. Every notice the engine "sent" by e-mail or SMS,
//! newest first, with its text (PINs included): what a user would read in their mailbox.
//! Served only while notices go to the in-memory outbox. `/outbox/preview` shows every
//! notice, with sample values, in every language sspr-core speaks, as an e-mail and as an SMS.

use std::net::IpAddr;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use sspr_core::notice::{Message, Notification, PinPurpose};
use sspr_core::{Channel, Destination, EmailAddress, HookEvent, Locale, PhoneNumber, Pin};

use crate::AppState;
use crate::web::{Visit, layout};

/// Most notices shown at once.
const SHOWN: usize = 200;

#[derive(Debug, Deserialize)]
pub(crate) struct Filter {
    /// Only notices to this address or number.
    #[serde(default)]
    to: Option<String>,
}

/// Headers a reverse proxy adds to what it forwards (RFC 7239 and the de facto ones).
const FORWARDING_HEADERS: [&str; 4] = ["forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host"];

/// Whether a `Host` header names this host: `localhost` (and its subdomains, which browsers
/// resolve to loopback themselves, RFC 6761) or a loopback address, with or without a port.
/// No DNS name an attacker can point elsewhere passes.
fn host_names_this_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((address, port)) if port.is_empty() || port.starts_with(':') => address,
            _ => return false,
        },
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    visit: Visit,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    // On by default, the page trusts that only this host reaches the loopback `listen`; a
    // forwarded request says a proxy (with `public_url` forgotten) brings it from elsewhere.
    // A `Host` naming another site is a browser sent here by DNS rebinding (a page the
    // developer visits has its name re-pointed at 127.0.0.1: its script reads this page as its
    // own origin), or a proxy that passes the public name on: neither is this host's own visit.
    let foreign_host = headers.get(header::HOST).is_some_and(|host| !host.to_str().is_ok_and(host_names_this_host));
    if state.outbox_page_by_default && (foreign_host || FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h))) {
        return crate::web::error_page(visit.locale, StatusCode::NOT_FOUND, "404");
    }
    let t = visit.text();
    let messages = match (&state.outbox, filter.to.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
        (Some(outbox), Some(to)) => outbox.messages_to(to),
        (Some(outbox), None) => outbox.messages(),
        (None, _) => Vec::new(),
    };
    let body = html! {
        p.muted { (t.outbox_note) " " a href="/outbox/preview" { (t.outbox_preview_title) } }
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
                p.muted { (t.date_time(visit.local(n.at))) " \u{b7} " (format!("{:?}", n.to.channel())) " \u{b7} " span.to { (n.to.as_str()) } }
                pre.body { (rendered.body.as_str()) }
            }
        }
    };
    state.page(&visit, StatusCode::OK, layout(t, t.outbox_title, None, body)).await
}

/// One of each notice the engine sends, with sample values (a sample PIN, never a real one).
fn samples() -> Vec<Message> {
    let pin = |purpose| Message::Pin {
        pin: Pin::new("12345678"),
        expires_at: time::macros::datetime!(2026-12-05 21:10 UTC),
        valid_minutes: 10,
        purpose,
    };
    vec![
        pin(PinPurpose::Reset),
        pin(PinPurpose::ContactProof),
        pin(PinPurpose::HelpdeskRecovery),
        Message::ResetRequested { channel: Channel::Email, masked: "j***@e***.org".into() },
        Message::PasswordReset { unlock_only: false },
        Message::PasswordReset { unlock_only: true },
        Message::ContactsChanged { by_admin: false },
        Message::ContactsChanged { by_admin: true },
        Message::PasswordChanged,
        Message::RegistrationReminder { url: "https://sspr.example.org/passwordnotification".into(), confirm: false },
        Message::RegistrationReminder { url: "https://sspr.example.org/passwordnotification".into(), confirm: true },
        Message::HelpdeskRecovery { redeemed: false },
        Message::HelpdeskRecovery { redeemed: true },
        Message::AdminAlert {
            event: HookEvent::PrivilegedAttemptRefused,
            user_id: Some("cn=admin,dc=example,dc=org".into()),
            client_ip: Some(std::net::IpAddr::from([192, 0, 2, 7])),
            held_back_minutes: 60,
        },
        Message::AdminAlert { event: HookEvent::FailureAlarm, user_id: None, client_ip: None, held_back_minutes: 60 },
    ]
}

/// `/outbox/preview`: every notice in every language, as an e-mail and (for those that go to
/// phones) as an SMS.
pub(crate) async fn preview(State(state): State<AppState>, visit: Visit) -> Response {
    let t = visit.text();
    let (Ok(mail), Ok(phone)) = (EmailAddress::parse("jane@example.org"), PhoneNumber::parse("+447400900123")) else {
        return state
            .page(&visit, StatusCode::INTERNAL_SERVER_ERROR, layout(t, t.outbox_preview_title, None, html! {}))
            .await;
    };
    let at = state.sspr.policy().time_zone.clone();
    let body = html! {
        p.muted { (t.outbox_preview_note) " (" (at) ")" }
        @for message in samples() {
            section.notice data-kind=(message.kind()) {
                h2 { code { (message.kind()) } }
                @for locale in Locale::ALL {
                    @let to_mail = Notification { to: Destination::Email(mail.clone()), locale: *locale, message: message.clone(), at: preview_time(&state) };
                    @let email = to_mail.render();
                    article.message lang=(locale.as_str()) data-locale=(locale.as_str()) {
                        h3 { (locale.as_str()) " \u{b7} " (email.subject) }
                        pre.body { (email.body.as_str()) }
                        @if !matches!(message, Message::RegistrationReminder { .. } | Message::AdminAlert { .. }) {
                            @let to_phone = Notification { to: Destination::Sms(phone.clone()), locale: *locale, message: message.clone(), at: preview_time(&state) };
                            @let sms = to_phone.render();
                            p.muted { "SMS \u{b7} " (sms.body.chars().count()) }
                            pre.body.sms { (sms.body.as_str()) }
                        }
                    }
                }
            }
        }
    };
    state.page(&visit, StatusCode::OK, layout(t, t.outbox_preview_title, None, body)).await
}

/// A fixed sample instant, in the offset the policy's time zone has then (as the engine
/// stamps real notices).
fn preview_time(state: &AppState) -> time::OffsetDateTime {
    state.sspr.local_time(time::macros::datetime!(2026-12-05 21:00 UTC))
}
