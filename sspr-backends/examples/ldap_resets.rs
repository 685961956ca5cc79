//! Password resets per second through `LdapDirectory::set_password` (OpenLDAP: the Password
//! Modify extended operation, then a modify setting `pwdReset`; AD: one modify of `unicodePwd`
//! and `pwdLastSet`), for `scripts/bench/ldap-resets.sh` (python-ldap side by side) and
//! `scripts/bench/ldap-vs-limit.sh` (libldap from C doing the same operations: the server's limit).
//!
//! Usage: `ldap_resets <users> <resets> <in_flight> <tag> [openldap|ad]`; the users are
//! `uid=bench<i>,ou=staff,ou=people,<base>` (slapd) or `CN=bench<i>,OU=Staff,<base>` (AD); `tag`
//! makes every password of the run new (ppolicy keeps a history). Reads the `SSPR_TEST_LDAP_*`
//! settings of `scripts/servers/10-slapd.sh`, or `SSPR_TEST_AD_*` of `20-samba.sh` with `ad`.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sspr_backends::ldap::{BindPassword, Flavor, LdapConfig, LdapDirectory};
use sspr_core::{Directory, Password, UserId};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/bench/ldap-resets.sh"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).expect("usage: ldap_resets <users> <resets> <in_flight> <tag>");
    let users: usize = arg(1).parse().unwrap();
    let resets: usize = arg(2).parse().unwrap();
    let in_flight: usize = arg(3).parse().unwrap();
    let tag = arg(4).clone();
    let ad = args.get(5).is_some_and(|a| a == "ad");
    let mut config = if ad {
        // LDAPS, as the ldap tests and the C client use it.
        let mut config = LdapConfig::new(
            Flavor::ActiveDirectory,
            env("SSPR_TEST_AD_URL"),
            env("SSPR_TEST_AD_BASE"),
            env("SSPR_TEST_AD_BIND_DN"),
            BindPassword::new(env("SSPR_TEST_AD_BIND_PASSWORD")),
        );
        config.ca_file = Some(env("SSPR_TEST_AD_CA").into());
        config
    } else {
        let mut config = LdapConfig::new(
            Flavor::OpenLdap,
            env("SSPR_TEST_LDAP_URL"),
            env("SSPR_TEST_LDAP_BASE"),
            env("SSPR_TEST_LDAP_BIND_DN"),
            BindPassword::new(env("SSPR_TEST_LDAP_BIND_PASSWORD")),
        );
        config.starttls = true;
        config.ca_file = Some(env("SSPR_TEST_CA").into());
        config
    };
    config.pool_size = in_flight.max(1);
    let base = config.base_dn.clone();
    let directory = Arc::new(LdapDirectory::new(config).unwrap());
    let dn = |i: usize| {
        if ad { format!("CN=bench{i},OU=Staff,{base}") } else { format!("uid=bench{i},ou=staff,ou=people,{base}") }
    };
    let ids: Arc<Vec<UserId>> = Arc::new((0..users).map(|i| UserId::new(dn(i))).collect());
    // The pool fills up as a long-running portal's would be: not part of the measurement.
    let warm: Vec<_> = (0..in_flight)
        .map(|w| {
            let (directory, ids, tag) = (directory.clone(), ids.clone(), tag.clone());
            tokio::spawn(async move {
                let password = Password::new(format!("Bench-{tag}-warm{w}-Pw1!"));
                directory.set_password(&ids[w % ids.len()], &password, true).await.unwrap();
            })
        })
        .collect();
    for task in warm {
        task.await.unwrap();
    }
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    // Worker w resets user w only: concurrent sets of one entry race in ppolicy's history
    // bookkeeping (rc 16), which is not what this measures.
    let workers: Vec<_> = (0..in_flight)
        .map(|w| {
            let (directory, ids, next, tag) = (directory.clone(), ids.clone(), next.clone(), tag.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= resets {
                        break;
                    }
                    let password = Password::new(format!("Bench-{tag}-{i}-Pw1!"));
                    directory.set_password(&ids[w % ids.len()], &password, true).await.unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let seconds = start.elapsed().as_secs_f64();
    println!("sspr resets={resets} in_flight={in_flight} seconds={seconds:.3} per_sec={:.1}", resets as f64 / seconds);
}
