//! Hypothesis (held): a helpdesk code redeemed through a second spelling of the login (a
//! directory that also matches `mail`) gets a fresh allowance of guesses per spelling
//! (`recovery_redeems` is counted per typed login), or a right code through an alias spends it
//! while the reset a real login would start is a decoy's.
//! What holds it: only the account's own login redeems (an alias is answered as an unknown
//! login, nothing compared or spent), so the code's own caps bound every guess.

use sspr_core::Error;

use crate::rig::{default_policy, rig};
use crate::support::{ALICE, admin, ctx};

#[tokio::test(start_paused = true)]
async fn an_alias_neither_redeems_nor_spends_nor_guesses_a_code() {
    let r = rig(default_policy()).await;
    let aliases = ["liddell@example.org", "alice.l@example.org", "a.liddell@example.org"];
    for alias in aliases {
        r.directory.aliases.lock().unwrap().insert(alias.into(), ALICE.into());
    }
    let issued = r.sspr.admin_recovery(&admin(), ALICE, &ctx()).await.unwrap();
    let code = issued.code.expose_secret().to_owned();
    let wrong: String = code
        .chars()
        .map(|c| if c == '9' { '0' } else { char::from_digit(c.to_digit(10).unwrap() + 1, 10).unwrap() })
        .collect();
    // Wrong guesses through every alias, each to its own per-login limit.
    let max = r.sspr.policy().max_wrong_pins;
    for alias in aliases {
        for _ in 0..max {
            let answer = r.sspr.redeem_recovery_code(alias, &wrong, &ctx()).await;
            assert!(
                matches!(answer, Err(Error::WrongPin { attempts_left: 0 }) | Err(Error::RateLimited { .. })),
                "{answer:?}"
            );
        }
    }
    // The right code through an alias: refused as for an unknown login, and not spent.
    let through_alias = r.sspr.redeem_recovery_code(aliases[0], &code, &ctx()).await;
    assert!(matches!(through_alias, Err(Error::WrongPin { attempts_left: 0 })), "{through_alias:?}");
    // None of that touched the code: the owner redeems it from the same client.
    let own = r.sspr.redeem_recovery_code(ALICE, &code, &ctx()).await;
    assert!(own.is_ok(), "the alias guesses spent the owner's code: {own:?}");
}
