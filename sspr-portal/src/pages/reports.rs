//! `/admin/reports`: what the audit trail kept in SQL says about the last 30 days (resets by
//! outcome, registrations, blocks, the decoy rate, the most frequent failures), with bar
//! charts drawn as inline SVG on the server: no script, nothing the page's CSP must allow.
//! The figures come from `sspr_backends::audit_sql::AuditReport` (`[audit] kind = "sqlite"`
//! or `"postgres"`); without one the page says how to get them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use sspr_backends::audit_sql::AuditSummary;
use time::Date;

use crate::AppState;
use crate::text::Text;
use crate::web::{Visit, layout};

/// The days a report covers, today included.
const DAYS: u32 = 30;

/// One series of a stacked bar chart: its label, colour and a value per day.
struct Series<'a> {
    label: &'a str,
    colour: &'static str,
    values: Vec<u64>,
}

/// The days of the report, oldest first.
fn days(summary: &AuditSummary) -> Vec<Date> {
    let mut out = Vec::new();
    let mut day = summary.first_day;
    while day <= summary.last_day && out.len() <= DAYS as usize {
        out.push(day);
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// A value per day of `days` from `(day, count)` pairs.
fn per_day(days: &[Date], entries: impl Iterator<Item = (Date, u64)>) -> Vec<u64> {
    let mut values = vec![0; days.len()];
    for (day, count) in entries {
        if let Some(value) = days.iter().position(|d| *d == day).and_then(|i| values.get_mut(i)) {
            *value += count;
        }
    }
    values
}

/// A stacked bar chart, one bar per day, as SVG: the series' colours explained in a legend,
/// the largest day's total on the y axis, the first and last day under the x axis. The text
/// alternative is the title and the totals.
fn bar_chart(id: &str, title: &str, days: &[Date], series: &[Series<'_>]) -> Markup {
    const W: u64 = 600;
    const H: u64 = 160;
    const LEFT: u64 = 48;
    const BOTTOM: u64 = 26;
    let value = |s: &Series<'_>, i: usize| s.values.get(i).copied().unwrap_or(0);
    let totals: Vec<u64> = (0..days.len()).map(|i| series.iter().map(|s| value(s, i)).sum()).collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let slot = (W - LEFT) / (days.len().max(1) as u64);
    let plot = H - BOTTOM;
    // Each day's bars stacked from the axis up: (x, y, height, colour, tooltip).
    let width = slot.saturating_sub(2).max(1);
    let mut bars = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let mut top = plot;
        for s in series {
            let height = value(s, i) * plot / max;
            if height > 0 {
                top -= height;
                bars.push((
                    LEFT + 1 + i as u64 * slot,
                    top,
                    height,
                    s.colour,
                    format!("{day}: {} {}", s.label, value(s, i)),
                ));
            }
        }
    }
    let described: Vec<String> =
        series.iter().map(|s| format!("{} {}", s.label, s.values.iter().sum::<u64>())).collect();
    html! {
        figure.chart #(id) {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {W} {H}")) role="img"
                aria-label=(format!("{title}: {}", described.join(", "))) {
                line x1=(LEFT) y1="0" x2=(LEFT) y2=(plot) stroke="#888" {}
                line x1=(LEFT) y1=(plot) x2=(W) y2=(plot) stroke="#888" {}
                text x=(LEFT - 4) y="16" text-anchor="end" font-size="18" { (max) }
                text x=(LEFT - 4) y=(plot) text-anchor="end" font-size="18" { "0" }
                @for (x, y, height, colour, tip) in &bars {
                    rect x=(x) y=(y) width=(width) height=(height) fill=(colour) { title { (tip) } }
                }
                @if let (Some(first), Some(last)) = (days.first(), days.last()) {
                    text x=(LEFT) y=(H - 4) font-size="18" { (first) }
                    text x=(W) y=(H - 4) text-anchor="end" font-size="18" { (last) }
                }
            }
            p.legend {
                @for s in series {
                    span { svg width="10" height="10" aria-hidden="true" { rect width="10" height="10" fill=(s.colour) {} } " " (s.label) " (" (s.values.iter().sum::<u64>()) ") " }
                }
            }
        }
    }
}

fn figures(t: &Text, summary: &AuditSummary) -> Markup {
    let resets = |success: bool| {
        summary.resets.iter().filter(|r| (r.outcome == "success") == success).map(|r| r.count).sum::<u64>()
    };
    let rate = summary.decoy_rate().map_or_else(|| "-".to_owned(), |r| format!("{:.1} %", r * 100.0));
    let values = [
        summary.begins.to_string(),
        rate,
        resets(true).to_string(),
        resets(false).to_string(),
        summary.total_blocks().to_string(),
        summary.total_registrations().to_string(),
    ];
    // One row per figure: read the same on a phone, where table cells stack.
    html! {
        table #report-figures {
            @for (label, value) in t.reports_figures().iter().zip(values) { tr { th { (label) } td { (value) } } }
        }
    }
}

fn charts(t: &Text, summary: &AuditSummary) -> Markup {
    let days = days(summary);
    let resets = |success: bool| {
        per_day(&days, summary.resets.iter().filter(|r| (r.outcome == "success") == success).map(|r| (r.day, r.count)))
    };
    let daily = |list: &[sspr_backends::audit_sql::DailyCount]| per_day(&days, list.iter().map(|d| (d.day, d.count)));
    html! {
        (bar_chart("chart-resets", t.reports_resets, &days, &[
            Series { label: t.reports_completed, colour: "#2e7d32", values: resets(true) },
            Series { label: t.reports_failed, colour: "#c62828", values: resets(false) },
        ]))
        (bar_chart("chart-registrations", t.reports_registrations, &days, &[
            Series { label: t.reports_figures()[5], colour: "#1f4e79", values: daily(&summary.registrations) },
        ]))
        (bar_chart("chart-blocks", t.reports_blocks, &days, &[
            Series { label: t.reports_figures()[4], colour: "#b26a00", values: daily(&summary.blocks) },
        ]))
    }
}

fn tables(t: &Text, summary: &AuditSummary) -> Markup {
    html! {
        h3 { (t.reports_decoys) }
        @if summary.decoys.is_empty() { p.muted { (t.reports_none) } }
        div.scroll {
            table #report-decoys {
                @for c in &summary.decoys { tr { td { code { (c.name) } } td { (c.count) } } }
            }
        }
        h3 { (t.reports_failures) }
        @if summary.top_failures.is_empty() { p.muted { (t.reports_none) } }
        div.scroll {
            table #report-failures {
                @for f in &summary.top_failures {
                    tr { td { code { (f.kind) } } td { (f.outcome) } td { (f.reason) } td { (f.count) } }
                }
            }
        }
    }
}

/// `GET /admin/reports`: the figures and charts of the last 30 days (admins only).
pub(crate) async fn show(State(state): State<AppState>, mut visit: Visit) -> Response {
    let t = visit.text();
    let flash = visit.session.take_flash();
    let Some(admin) = super::admin::signed_admin(&state, &mut visit).await else {
        return state.redirect(&visit, "/admin").await;
    };
    let body = match &state.audit_report {
        None => html! { p #reports-unavailable { (t.reports_unavailable) } },
        Some(report) => match report.audit_summary(DAYS, state.clock.now()).await {
            Ok(summary) => html! {
                p.muted { (summary.first_day) " \u{2013} " (summary.last_day) " (UTC)" }
                (figures(t, &summary))
                (charts(t, &summary))
                (tables(t, &summary))
            },
            Err(e) => {
                tracing::warn!(error = %e, "the audit report could not be read");
                html! { p.flash.error role="alert" { (t.err_unavailable) } }
            }
        },
    };
    let body = html! {
        (super::admin::header(&visit, &admin))
        (body)
    };
    state.page(&visit, StatusCode::OK, layout(t, t.reports_title, flash.as_ref(), body)).await
}
