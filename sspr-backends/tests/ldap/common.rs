//! Helpers: the servers' settings from the environment, admin connections, fresh test users.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapResult};
use sspr_backends::ldap::{BindPassword, Flavor, LdapConfig, LdapDirectory};

/// A server setting; a missing one fails the test with how to run it.
pub(crate) fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the ldap tests through ./scripts/test.sh, which starts slapd and Samba AD")
    })
}

/// A name no other test (or earlier run against the same server) uses; short enough for an
/// AD sAMAccountName (20 characters).
pub(crate) fn unique(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{tag}{}x{}", std::process::id() % 100_000, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// slapd through StartTLS with the test CA, as the non-root service account.
pub(crate) fn openldap_config() -> LdapConfig {
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
}

/// Samba AD over LDAPS with the test CA, as the delegated (non-admin) service account.
pub(crate) fn ad_config() -> LdapConfig {
    let mut config = LdapConfig::new(
        Flavor::ActiveDirectory,
        env("SSPR_TEST_AD_URL"),
        env("SSPR_TEST_AD_BASE"),
        env("SSPR_TEST_AD_BIND_DN"),
        BindPassword::new(env("SSPR_TEST_AD_BIND_PASSWORD")),
    );
    config.ca_file = Some(env("SSPR_TEST_AD_CA").into());
    config
}

pub(crate) fn openldap() -> LdapDirectory {
    LdapDirectory::new(openldap_config()).unwrap()
}

pub(crate) fn ad() -> LdapDirectory {
    LdapDirectory::new(ad_config()).unwrap()
}

fn tls(ca: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca).unwrap();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// An unbound connection (StartTLS for ldap:// URLs).
pub(crate) async fn connect(url: &str, ca: &str) -> Ldap {
    let settings = LdapConnSettings::new().set_config(tls(ca)).set_starttls(url.starts_with("ldap://"));
    let (conn, ldap) = LdapConnAsync::with_settings(settings, url).await.unwrap();
    ldap3::drive!(conn);
    ldap
}

/// A bind's raw result, with the ppolicy request control when `ppolicy`.
pub(crate) async fn raw_bind(url: &str, ca: &str, dn: &str, password: &str, ppolicy: bool) -> LdapResult {
    let mut ldap = connect(url, ca).await;
    if ppolicy {
        ldap.with_controls(RawControl { ctype: "1.3.6.1.4.1.42.2.27.8.5.1".into(), crit: false, val: None });
    }
    let result = ldap.simple_bind(dn, password).await.unwrap();
    let _ = ldap.unbind().await;
    result
}

pub(crate) async fn openldap_admin() -> Ldap {
    openldap_admin_at(&env("SSPR_TEST_LDAP_URL")).await
}

pub(crate) async fn openldap_admin_at(url: &str) -> Ldap {
    let mut ldap = connect(url, &env("SSPR_TEST_CA")).await;
    ldap.simple_bind(&env("SSPR_TEST_LDAP_ADMIN_DN"), &env("SSPR_TEST_LDAP_ADMIN_PASSWORD"))
        .await
        .unwrap()
        .success()
        .unwrap();
    ldap
}

pub(crate) async fn ad_admin() -> Ldap {
    let mut ldap = connect(&env("SSPR_TEST_AD_URL"), &env("SSPR_TEST_AD_CA")).await;
    ldap.simple_bind(&env("SSPR_TEST_AD_ADMIN_DN"), &env("SSPR_TEST_AD_ADMIN_PASSWORD"))
        .await
        .unwrap()
        .success()
        .unwrap();
    ldap
}

fn set(values: &[&str]) -> HashSet<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// A new OpenLDAP user `uid` in ou=staff (login `uid`, UPN `uid@corp.example.org`); its DN.
pub(crate) async fn add_openldap_user(uid: &str, display: &str, password: &str) -> String {
    add_openldap_user_at(&env("SSPR_TEST_LDAP_URL"), uid, display, password).await
}

/// The same on the slapd at `url`.
pub(crate) async fn add_openldap_user_at(url: &str, uid: &str, display: &str, password: &str) -> String {
    let dn = format!("uid={uid},ou=staff,ou=people,{}", env("SSPR_TEST_LDAP_BASE"));
    let upn = format!("{uid}@corp.example.org");
    let mut admin = openldap_admin_at(url).await;
    admin
        .add(
            &dn,
            vec![
                ("objectClass".to_owned(), set(&["inetOrgPerson", "ssprAccount"])),
                ("uid".to_owned(), set(&[uid])),
                ("cn".to_owned(), set(&[display])),
                ("sn".to_owned(), set(&["Test"])),
                ("displayName".to_owned(), set(&[display])),
                ("userPrincipalName".to_owned(), set(&[&upn])),
                ("userPassword".to_owned(), set(&[password])),
            ],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    dn
}

/// Add `member` to the OpenLDAP group `cn=group,ou=groups,...`.
pub(crate) async fn add_openldap_member(group: &str, member: &str) {
    let dn = format!("cn={group},ou=groups,{}", env("SSPR_TEST_LDAP_BASE"));
    let mut admin = openldap_admin().await;
    let mods = vec![ldap3::Mod::Add("member".to_owned(), set(&[member]))];
    admin.modify(&dn, mods).await.unwrap().success().unwrap();
}

/// Add the OpenLDAP group `cn=<cn>,ou=groups,...` of `class` with `values` in `attr`; its DN.
pub(crate) async fn add_openldap_group(cn: &str, class: &str, attr: &str, values: &[&str]) -> String {
    let group = format!("cn={cn},ou=groups,dc=example,dc=org");
    let attrs = vec![
        ("objectClass", HashSet::from([class])),
        ("cn", HashSet::from([cn])),
        (attr, values.iter().copied().collect::<HashSet<&str>>()),
    ];
    openldap_admin().await.add(&group, attrs).await.unwrap().success().unwrap();
    group
}

/// A new AD user `CN=name,OU=Staff` with sAMAccountName `name`, UPN `name@samdom.example.com`.
pub(crate) async fn add_ad_user(name: &str, display: &str, password: &str) -> String {
    let dn = format!("CN={name},OU=Staff,{}", env("SSPR_TEST_AD_BASE"));
    let upn = format!("{name}@samdom.example.com");
    let quoted: Vec<u8> = format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut admin = ad_admin().await;
    let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![
        (b"objectClass".to_vec(), HashSet::from([b"user".to_vec()])),
        (b"sAMAccountName".to_vec(), HashSet::from([name.as_bytes().to_vec()])),
        (b"userPrincipalName".to_vec(), HashSet::from([upn.into_bytes()])),
        (b"displayName".to_vec(), HashSet::from([display.as_bytes().to_vec()])),
        (b"unicodePwd".to_vec(), HashSet::from([quoted])),
        (b"userAccountControl".to_vec(), HashSet::from([b"512".to_vec()])),
    ];
    admin.add(&dn, attrs).await.unwrap().success().unwrap();
    dn
}

/// `config` with its URL moved to a TCP proxy on the server's own address (a certificate
/// names only that address) that holds every answer of the directory for `delay`: a
/// directory slowed by load, or far away.
pub(crate) async fn behind_slow_proxy(mut config: LdapConfig, delay: std::time::Duration) -> LdapConfig {
    let (scheme, target) = config.url.split_once("://").unwrap();
    let (scheme, target) = (scheme.to_owned(), target.to_owned());
    let host = target.rsplit_once(':').unwrap().0.to_owned();
    let port = crate::slow_proxy::slow_proxy(&host, target, delay).await;
    config.url = format!("{scheme}://{host}:{port}");
    config
}

/// What a prober sees of `begin_reset` through `config`: its median time in milliseconds for
/// each of `logins`, five rounds each from a new address, with `enrolled` enabled and given an
/// e-mail (an enrolled user's lookup does the most work) and `eligible_ou` the policy's.
pub(crate) async fn begin_reset_medians(
    config: LdapConfig,
    eligible_ou: &str,
    enrolled: &str,
    logins: &[&str],
) -> Vec<u128> {
    use sspr_core::memory::{MemoryContactStore, MemoryStateStore, Outbox};
    use sspr_core::{Actor, ContactChange, ContactUpdate, Policy, RequestContext, SecretKey, Sspr};
    let sspr = Sspr::builder()
        .directory(LdapDirectory::new(config).unwrap())
        .contacts(MemoryContactStore::new())
        .notifier(Outbox::new())
        .store(MemoryStateStore::new())
        .secret_key(SecretKey::from_hex(&"5a".repeat(32)).unwrap())
        .policy(Policy::from_toml(&format!("eligible_ous = [\"{eligible_ou}\"]")).unwrap())
        .build()
        .unwrap();
    let (admin, ctx) = (Actor::Admin("helpdesk".into()), RequestContext::default());
    sspr.set_enabled(&admin, enrolled, true, &ctx).await.unwrap();
    let update = ContactUpdate { email: ContactChange::Set("alice.private@mail.example".into()), ..Default::default() };
    sspr.update_contacts(&admin, enrolled, update, &ctx).await.unwrap();
    let mut took: Vec<Vec<u128>> = vec![Vec::new(); logins.len()];
    for i in 0..5 {
        let ctx = RequestContext::from_ip(format!("198.51.100.{}", i + 1).parse().unwrap());
        for (login, samples) in logins.iter().zip(took.iter_mut()) {
            #[allow(clippy::disallowed_methods)] // what a prober measures is real time
            let started = std::time::Instant::now();
            sspr.begin_reset(login, &ctx).await.unwrap();
            samples.push(started.elapsed().as_millis());
        }
    }
    took.into_iter()
        .map(|mut samples| {
            samples.sort_unstable();
            samples[samples.len() / 2]
        })
        .collect()
}
