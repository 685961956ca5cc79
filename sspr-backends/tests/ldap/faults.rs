//! The directory stops in the middle of a reset and comes back.

use std::time::Duration;

use sspr_backends::ldap::LdapDirectory;
use sspr_core::memory::{MemoryContactStore, MemoryStateStore, Outbox};
use sspr_core::{
    Actor, BackendErrorKind, ContactChange, ContactUpdate, Directory, Error, NewPassword, NormalizedLogin, Policy,
    RequestContext, SecretKey, Sspr,
};

use crate::common::*;

fn pid() -> Option<String> {
    std::fs::read_to_string(env("SSPR_TEST_LDAP_FAULT_PIDFILE")).ok().map(|p| p.trim().to_owned())
}

async fn stop_slapd() {
    let pid = pid().expect("the fault slapd runs");
    let status = std::process::Command::new("kill").arg(&pid).status().unwrap();
    assert!(status.success());
    // slapd removes its pid file when it has shut down.
    for _ in 0..100 {
        if self::pid().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("slapd {pid} did not stop");
}

async fn start_slapd() {
    let status = std::process::Command::new("sh").arg("-c").arg(env("SSPR_TEST_LDAP_FAULT_START")).status().unwrap();
    assert!(status.success());
    // Ready when it accepts connections (it writes its pid file before it listens).
    let url = env("SSPR_TEST_LDAP_FAULT_URL");
    let address = url.trim_start_matches("ldap://").trim_end_matches('/').to_owned();
    for _ in 0..100 {
        if pid().is_some() && tokio::net::TcpStream::connect(&address).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("slapd did not start");
}

#[tokio::test]
async fn directory_stopped_mid_flow_gives_unavailable_and_the_flow_completes_after_restart() {
    let _restart = RESTART.lock().await;
    let url = env("SSPR_TEST_LDAP_FAULT_URL");
    let uid = unique("fault");
    let dn = add_openldap_user_at(&url, &uid, "Fault Person", "Init-Passw0rd-1").await;
    let mut config = openldap_config();
    config.url = url.clone();
    config.connect_timeout_secs = 2;
    let directory = LdapDirectory::new(config).unwrap();
    let outbox = Outbox::new();
    let sspr = Sspr::builder()
        .directory(directory.clone())
        .contacts(MemoryContactStore::new())
        .notifier(outbox.clone())
        .store(MemoryStateStore::new())
        .secret_key(SecretKey::from_hex(&"6b".repeat(32)).unwrap())
        .policy(Policy::from_toml(r#"eligible_ous = ["ou=staff,ou=people,dc=example,dc=org"]"#).unwrap())
        .build()
        .unwrap();
    let ctx = RequestContext::default();
    let admin = Actor::Admin("helpdesk".into());
    sspr.set_enabled(&admin, &uid, true, &ctx).await.unwrap();
    let email = format!("{uid}@home.example");
    let update = ContactUpdate { email: ContactChange::Set(email.clone()), ..Default::default() };
    sspr.update_contacts(&admin, &uid, update, &ctx).await.unwrap();
    let challenge = sspr.begin_reset(&uid, &ctx).await.unwrap();
    sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    let pin = outbox.last_pin_to(&email).unwrap();
    sspr.verify_pin(&challenge.flow_id, sspr_core::Pin::new(&pin), &ctx).await.unwrap();

    stop_slapd().await;
    let login = NormalizedLogin::parse(&uid).unwrap();
    let err = directory.find_user(&login).await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err:?}");
    match sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await {
        Err(Error::Backend { source }) => assert_eq!(source.kind(), BackendErrorKind::Unavailable),
        other => panic!("expected a backend error, got {other:?}"),
    }
    // Still down: still retryable, nothing consumed.
    assert!(matches!(
        sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await,
        Err(Error::Backend { .. })
    ));

    start_slapd().await;
    // The pool drops its dead connections and reconnects on its own.
    let outcome = sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await.unwrap();
    let temporary = outcome.temporary_password.unwrap();
    let raw = raw_bind(&url, &env("SSPR_TEST_CA"), &dn, temporary.expose_secret(), true).await;
    assert_eq!(raw.rc, 0);
    assert!(directory.find_user(&login).await.unwrap().is_some());
}

#[tokio::test]
async fn pooled_connections_survive_a_server_restart() {
    // Separate from the test above only in what it checks: every pooled connection is dead
    // after the restart, and the next calls must not fail because of them.
    let _restart = RESTART.lock().await;
    let url = env("SSPR_TEST_LDAP_FAULT_URL");
    let mut config = openldap_config();
    config.url = url;
    config.pool_size = 4;
    let directory = LdapDirectory::new(config).unwrap();
    let alice = NormalizedLogin::parse("alice").unwrap();
    let warm = (0..8).map(|_| directory.find_user(&alice));
    assert!(futures::future::join_all(warm).await.into_iter().all(|r| r.unwrap().is_some()));
    stop_slapd().await;
    start_slapd().await;
    for _ in 0..8 {
        assert!(directory.find_user(&alice).await.unwrap().is_some());
    }
}

/// The two tests restart the same server: one at a time.
static RESTART: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
