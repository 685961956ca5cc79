//! Issue 11 item 4: the flow id in audit events. The flow id is a bearer credential for
//! `complete_reset` (whoever holds a verified flow's id sets the password), and audit events
//! are written wherever the host sends them (files, a SIEM). Events must carry a keyed
//! reference instead: stable within a flow, so its events still correlate.

use sspr_core::Pin;
use sspr_core::{AuditKind, NewPassword};

use crate::support::*;

fn flow_ref(event: &sspr_core::AuditEvent) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
    json.get("flow_ref").and_then(|r| r.as_str()).map(str::to_owned)
}

const FLOW_KINDS: [AuditKind; 5] = [
    AuditKind::ResetRequested,
    AuditKind::PinSent,
    AuditKind::PinFailed,
    AuditKind::PinVerified,
    AuditKind::ResetCompleted,
];

#[tokio::test]
async fn an_audit_reader_takes_the_flow_id_from_the_events() {
    let h = Harness::new().await;
    let (flow, pin) = h.pin_for(ALICE, "email", ALICE_MAIL).await;
    h.sspr.verify_pin(&flow, Pin::new(Harness::wrong(&pin)), &ctx()).await.unwrap_err();
    h.sspr.verify_pin(&flow, Pin::new(&pin), &ctx()).await.unwrap();
    h.sspr.complete_reset(&flow, NewPassword::Temporary, &ctx()).await.unwrap();
    // A second flow, for another user, to tell references apart.
    let (other, _) = h.pin_for(BOB, "email", BOB_MAIL).await;

    let events = h.events();
    for event in &events {
        let json = event.to_json();
        assert!(!json.contains(&flow) && !json.contains(&other), "an audit event holds a flow id: {json}");
    }
    let of_flow: Vec<_> = events.iter().filter(|e| FLOW_KINDS.contains(&e.kind)).collect();
    let refs: Vec<Option<String>> = of_flow.iter().map(|e| flow_ref(e)).collect();
    assert_eq!(refs.len(), 7, "{refs:?}");
    let first = refs[0].clone().expect("events of a flow carry its reference");
    // Alice's five events share one reference; Bob's two another.
    assert!(refs[..5].iter().all(|r| r.as_deref() == Some(first.as_str())), "{refs:?}");
    assert!(refs[5..].iter().all(|r| r.is_some() && r.as_deref() != Some(first.as_str()) && *r == refs[5]), "{refs:?}");
    // The version says the field changed.
    assert!(events.iter().all(|e| e.version >= 2));
}
