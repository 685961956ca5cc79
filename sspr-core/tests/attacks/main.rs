//! Attack tests: one module per attack an adversarial review found (issues 11 and 12). Each
//! test is named after the attack, was seen to succeed against the code before its fix, and
//! now fails to (see docs/THREAT_MODEL.md for the attack, the defence and the test).
//!
//! One binary, one module per attack: add modules here rather than files in `tests/`.

// Test helpers are `pub` for the modules of this binary, not for anyone else.
#![allow(unreachable_pub, dead_code)]
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

/// The engine tests' harness (in-memory backends, a clock that stands still, a fixed seed).
#[path = "../engine/support.rs"]
mod support;

mod block_race;
mod bot_challenge;
mod change_password;
mod completion_recheck;
mod contact_change_notices;
mod contact_proof;
mod contact_proof_in_store;
mod contact_removed_after_send;
mod cooling_off_bypass;
mod decoy_statistics;
mod delivery_failure_text;
mod disable_reenable_flow;
mod fault_injection;
mod flow_id_in_audit;
mod flow_id_in_store;
mod helpdesk_recovery;
mod helpdesk_takes_over_privileged;
mod key_rotation;
mod lease_takeover;
mod lost_replies;
mod password_in_error_text;
mod privileged_send_cap;
mod recovery_code_alias;
mod reset_notice_lost;
mod second_method_guessing;
mod sign_in_race;
mod targeted_lockout;

/// The enumeration attacks' engine: default policy, slow or failing backends, virtual time.
mod rig;

mod alias_login;
mod destination_confirmation;
mod enumeration_confirmation;
mod enumeration_contact_store;
mod enumeration_contact_store_errors;
mod enumeration_failing_bind;
mod enumeration_failing_relay;
mod enumeration_slow_relay;
