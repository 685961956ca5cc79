//! Hypothesis: the password doors (`sign_in`, `sign_in_self_service`, `change_password`) bind
//! to the directory only for a login it finds, so with the user binds failing (a directory
//! that still answers the service account's searches: a DC refusing new connections, a bind
//! pool that gives up) a real login with a wrong password answers `Backend` and an unknown
//! login `SignInFailed`, as a password too big for the directory once told them apart (14.2b).

use sspr_core::Password;

use crate::rig::{default_policy, rig, seen};
use crate::support::{ALICE, BOB, ctx};

const LOGINS: [&str; 3] = [ALICE, BOB, "nobody@example.org"];

#[tokio::test(start_paused = true)]
async fn failing_binds_tell_real_from_unknown_logins_at_the_password_doors() {
    let r = rig(default_policy()).await;
    r.directory.fault.fail(true);
    let wrong = Password::new("not-the-password-1");
    let mut table = Vec::new();
    for login in LOGINS {
        let a = seen(&r.sspr.sign_in(login, &wrong, &ctx()).await);
        let b = seen(&r.sspr.sign_in_self_service(login, &wrong, &ctx()).await);
        let c = seen(&r.sspr.change_password(login, &wrong, &Password::new("Brand-New-Horse-77"), &ctx()).await);
        table.push((login, a, b, c));
    }
    let first = (&table[0].1, &table[0].2, &table[0].3);
    for row in &table {
        assert_eq!((&row.1, &row.2, &row.3), first, "{table:?}");
    }
}
