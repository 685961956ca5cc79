//! Attack: a directory that finds a user by a second spelling (e-mail besides login) gives
//! both spellings the same masks and counters, while two unknown spellings get different
//! decoys: trying `jdoe` and `jdoe@corp` tells a real account from an unknown one.
//! Defence: a lookup whose user's login is not the typed login is answered with a decoy
//! (audited as `LoginAlias`); only the account's own login starts a real flow.

use sspr_core::{AuditKind, DecoyReason, Outcome};

use crate::rig::{default_policy, rig};
use crate::support::{ALICE, ctx};

const ALIAS: &str = "liddell@example.org";

#[tokio::test(start_paused = true)]
async fn two_spellings_of_one_account_share_masks_unlike_unknown_spellings() {
    let r = rig(default_policy()).await;
    r.directory.aliases.lock().unwrap().insert(ALIAS.into(), ALICE.into());
    let real = r.sspr.begin_reset(ALICE, &ctx()).await.unwrap();
    let alias = r.sspr.begin_reset(ALIAS, &ctx()).await.unwrap();
    // Two unknown spellings differ; so must an alias and its account.
    let ghost = r.sspr.begin_reset("ghost@example.org", &ctx()).await.unwrap();
    let spectre = r.sspr.begin_reset("spectre@example.org", &ctx()).await.unwrap();
    assert_ne!(ghost.methods, spectre.methods);
    assert_ne!(real.methods, alias.methods, "an alias must not show the account's masks");
    // The second request (the alias's) is audited as a decoy, with the reason.
    let requested = r.events_of(AuditKind::ResetRequested);
    assert_eq!(requested[1].outcome, Outcome::Decoy { reason: DecoyReason::LoginAlias });
    // Nor its counters: sending through the alias uses none of the account's sends.
    r.sspr.send_pin(&alias.flow_id, "email", None, &ctx()).await.unwrap();
    assert!(r.relay.outbox.messages().is_empty(), "nothing is sent through an alias");
}
