//! The PostgreSQL store's TLS against real servers: the shared one (`ssl = on` with the
//! certificate of `scripts/pki/mkcerts.sh`, started by `scripts/servers/50-postgres.sh`) and
//! a private one without TLS. libpq's `sslmode` semantics, checked on the wire.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use sspr_backends::postgres::{PostgresConfig, PostgresStore};
use sspr_core::{BackendError, BackendErrorKind, StateStore};

use crate::common;

/// A database of its own on the shared server: (host, port, database name).
async fn fresh_database() -> (String, String, String) {
    let url = common::server_env("SSPR_TEST_POSTGRES_URL");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let name = common::unique("sspr_tls").replace('-', "_");
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    let (host, port) = base.rsplit_once('@').unwrap().1.split_once(':').unwrap();
    (host.to_owned(), port.to_owned(), name)
}

fn ca() -> PathBuf {
    PathBuf::from(common::server_env("SSPR_TEST_CA"))
}

/// Whether the session of the store whose `application_name` is `app` is encrypted, as the
/// server sees it (`pg_stat_ssl`).
async fn server_sees_tls(app: &str) -> bool {
    let url = common::server_env("SSPR_TEST_POSTGRES_URL");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1",
            &[&app],
        )
        .await
        .unwrap();
    assert!(!rows.is_empty(), "no session named {app}");
    rows.iter().all(|row| row.get::<_, bool>(0))
}

/// Connect and use the store once (so its pool holds a connection).
async fn connect(config: &PostgresConfig) -> Result<PostgresStore, BackendError> {
    let store = PostgresStore::from_config(config).await?;
    store.get("flow/x", sspr_core::time::OffsetDateTime::UNIX_EPOCH).await?;
    Ok(store)
}

/// The store was refused for TLS, and the error says why (`cause`).
fn refused_for_tls(result: Result<PostgresStore, BackendError>, what: &str, cause: &str) {
    let err = result.expect_err(what);
    assert_eq!(err.kind(), BackendErrorKind::Other, "{what}: {err:?}");
    let text = err.to_string();
    assert!(text.contains("TLS with PostgreSQL failed") && text.contains(cause), "{what}: {text}");
}

/// `verify-full` with the test CA: connected, and the server sees an encrypted session. The
/// same without `sslmode` (a CA makes `verify-full` the default), by URL and key/value form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_connection_verified_against_the_ca_is_encrypted() {
    let (host, port, db) = fresh_database().await;
    let app = common::unique("tls_full").replace('-', "_");
    let url = format!("postgres://postgres@{host}:{port}/{db}?sslmode=verify-full&application_name={app}");
    let store = connect(&PostgresConfig { ca_file: Some(ca()), ..PostgresConfig::new(url) }).await.unwrap();
    assert!(server_sees_tls(&app).await);
    assert!(format!("{store:?}").contains("VerifyFull"), "{store:?}");

    let app = common::unique("tls_default").replace('-', "_");
    let url = format!("host=localhost port={port} user=postgres dbname={db} application_name={app}");
    let store = connect(&PostgresConfig { ca_file: Some(ca()), ..PostgresConfig::new(url) }).await.unwrap();
    assert!(server_sees_tls(&app).await);
    assert!(format!("{store:?}").contains("VerifyFull"), "{store:?}");

    // The CA named the libpq way, in the URL.
    let app = common::unique("tls_rootcert").replace('-', "_");
    let rootcert = ca().to_str().unwrap().replace('/', "%2F");
    let url = format!("postgres://postgres@{host}:{port}/{db}?sslrootcert={rootcert}&application_name={app}");
    let _store = connect(&PostgresConfig::new(url)).await.unwrap();
    assert!(server_sees_tls(&app).await);
}

/// A server certificate from another CA (a second run of mkcerts.sh: same CA name, other
/// key, so rustls reports a bad signature) is refused in every
/// mode that has a CA, `prefer` included: no fall-back to plain text after a refused
/// certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_from_another_ca_is_refused() {
    let other = tempfile::tempdir().unwrap();
    let mkcerts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pki/mkcerts.sh");
    let status = std::process::Command::new("bash").arg(mkcerts).arg(other.path()).status().unwrap();
    assert!(status.success());
    let (host, port, db) = fresh_database().await;
    for mode in ["verify-full", "verify-ca", "require", "prefer"] {
        let url = format!("postgres://postgres@{host}:{port}/{db}?sslmode={mode}");
        let config = PostgresConfig { ca_file: Some(other.path().join("ca.pem")), ..PostgresConfig::new(url) };
        refused_for_tls(connect(&config).await, mode, "invalid peer certificate");
    }
    // Without sslmode, the CA makes it verify-full.
    let url = format!("postgres://postgres@{host}:{port}/{db}");
    let config = PostgresConfig { ca_file: Some(other.path().join("ca.pem")), ..PostgresConfig::new(url) };
    refused_for_tls(connect(&config).await, "default with a CA", "invalid peer certificate");
}

/// `verify-full` compares the host name with the certificate's; `verify-ca` does not.
/// (`hostaddr` reaches the server while `host` is the name checked.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let (host, port, db) = fresh_database().await;
    let url = |mode: &str| {
        format!("host=db.example.org hostaddr={host} port={port} user=postgres dbname={db} sslmode={mode}")
    };
    let config = PostgresConfig { ca_file: Some(ca()), ..PostgresConfig::new(url("verify-full")) };
    refused_for_tls(connect(&config).await, "verify-full, wrong name", "not valid for name");
    let config = PostgresConfig { ca_file: Some(ca()), ..PostgresConfig::new(url("verify-ca")) };
    connect(&config).await.unwrap();
}

/// `require` and `prefer` without a CA encrypt without checking the certificate (libpq's
/// meaning); `disable` stays plain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_encrypts_and_disable_does_not() {
    let (host, port, db) = fresh_database().await;
    for (mode, tls) in [("require", true), ("prefer", true), ("disable", false)] {
        let app = common::unique(&format!("tls_{mode}")).replace('-', "_");
        let url = format!("postgres://postgres@{host}:{port}/{db}?sslmode={mode}&application_name={app}");
        let _store = connect(&PostgresConfig::new(url)).await.unwrap();
        assert_eq!(server_sees_tls(&app).await, tls, "{mode}");
    }
}

/// Against a server without TLS: `require` and the `verify-*` modes are refused (never a
/// silent plain-text connection); `prefer` and `disable` connect in plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_against_a_server_without_tls_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("pg").to_str().unwrap().to_owned();
    let port = common::free_port().to_string();
    common::script("postgres.sh", &["start", &data, &port]);
    let _stop = common::StopOnDrop { script: "postgres.sh", dir: data.clone() };
    let url = |mode: &str| format!("postgres://postgres@127.0.0.1:{port}/sspr?sslmode={mode}");
    for mode in ["require", "verify-ca", "verify-full"] {
        let config = PostgresConfig { ca_file: Some(ca()), ..PostgresConfig::new(url(mode)) };
        refused_for_tls(connect(&config).await, mode, "server does not support TLS");
        refused_for_tls(connect(&PostgresConfig::new(url(mode))).await, mode, "server does not support TLS");
    }
    connect(&PostgresConfig::new(url("prefer"))).await.unwrap();
    connect(&PostgresConfig::new(url("disable"))).await.unwrap();
}

/// The store takes `sslmode` out of the URL itself and hands the rest to tokio-postgres: a URL
/// whose two parsers could disagree (a percent-encoded key tokio-postgres decodes, a second
/// `sslmode` in another case) must not end in plain text when the store reads `verify-full`.
/// (Red-team hypothesis: held. The store sets tokio-postgres's mode itself after parsing.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_spelling_sslmode_twice_never_downgrades_to_plain_text() {
    let (host, port, db) = fresh_database().await;
    for (i, tail) in
        ["sslmode=verify-full&ssl%6Dode=disable", "SSLMODE=disable&sslmode=verify-full", "ssl%6dode=disable"]
            .into_iter()
            .enumerate()
    {
        let app = format!("{}_{i}", common::unique("spelt").replace('-', "_"));
        let url = format!("postgres://postgres@{host}:{port}/{db}?{tail}&application_name={app}");
        let store = connect(&PostgresConfig { ca_file: Some(ca()), ..PostgresConfig::new(url) }).await;
        assert!(store.is_ok(), "{tail}: {:?}", store.err());
        assert!(server_sees_tls(&app).await, "{tail}: the session is in plain text");
    }
}

/// A mode libpq does not know, or two different CA files, are configuration errors.
#[tokio::test]
async fn an_unknown_sslmode_or_two_cas_are_refused() {
    let err = PostgresStore::connect("postgres://u@127.0.0.1:1/x?sslmode=verify-some").await.unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Rejected, "{err:?}");
    let config = PostgresConfig {
        ca_file: Some(ca()),
        ..PostgresConfig::new("postgres://u@127.0.0.1:1/x?sslrootcert=/etc/other-ca.pem")
    };
    assert_eq!(PostgresStore::from_config(&config).await.unwrap_err().kind(), BackendErrorKind::Rejected);
    let config = PostgresConfig { ca_file: Some("/nonexistent/ca.pem".into()), ..PostgresConfig::new("host=x") };
    assert_eq!(PostgresStore::from_config(&config).await.unwrap_err().kind(), BackendErrorKind::Rejected);
}

/// SCRAM over TLS binds the authentication to the server's certificate
/// (`tls-server-end-point`): with `channel_binding=require` a connection only succeeds when
/// the client hands tokio-postgres the right certificate hash, which the server checks
/// against its own. (`sspr_scram` is the one role `50-postgres.sh` makes authenticate.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_over_tls_binds_the_channel_to_the_certificate() {
    let url = common::server_env("SSPR_TEST_POSTGRES_URL");
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    admin
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE sspr_scram LOGIN PASSWORD 'scram-pw';
             EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .await
        .unwrap();
    let db = common::unique("sspr_scram").replace('-', "_");
    admin.batch_execute(&format!("CREATE DATABASE {db} OWNER sspr_scram")).await.unwrap();
    let port = url.rsplit_once(':').unwrap().1.split_once('/').unwrap().0;
    for mode in ["verify-full", "require"] {
        let url =
            format!("postgres://sspr_scram:scram-pw@localhost:{port}/{db}?sslmode={mode}&channel_binding=require");
        let ca_file = (mode == "verify-full").then(ca);
        connect(&PostgresConfig { ca_file, ..PostgresConfig::new(url) }).await.unwrap();
    }
    // The password is checked (the role is not trusted).
    let url = format!("postgres://sspr_scram:wrong@localhost:{port}/{db}?sslmode=require");
    assert!(connect(&PostgresConfig::new(url)).await.is_err());
}

/// A connection cut in the middle of the TLS handshake (a server restarting, a failover, a
/// middlebox resetting it) is an outage like any other cut, not a refused certificate: it is
/// `Unavailable`. As `Other` it told an outage from a refusal wrongly everywhere the kind
/// matters: a host retrying on `Unavailable`, the metrics' error label, and a decoy's
/// contact-store read, which fails the request only for `Unavailable` while a real user's
/// fails for any error (an unknown login answered `Ok` where a real one answered `Backend`).
#[tokio::test]
async fn a_connection_cut_during_the_tls_handshake_is_unavailable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            // Accept the SSLRequest, then hang up before the handshake.
            let mut request = [0u8; 8];
            if socket.read_exact(&mut request).await.is_ok() {
                let _ = socket.write_all(b"S").await;
            }
        }
    });
    for sslmode in ["prefer", "require"] {
        let url = format!("postgres://postgres@127.0.0.1:{port}/sspr?sslmode={sslmode}&connect_timeout=2");
        let err = PostgresStore::connect(&url).await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "sslmode={sslmode}: {err:?}");
    }
}
