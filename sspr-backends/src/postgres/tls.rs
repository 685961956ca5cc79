//! TLS for the PostgreSQL store: libpq's `sslmode` semantics on rustls with the ring provider.
//!
//! tokio-postgres knows only `disable`, `prefer` and `require` and brings no TLS of its own;
//! this module reads the mode the way libpq users write it, builds the rustls configuration
//! that gives each mode its meaning, and plugs it into tokio-postgres ([`MakeRustls`]).
//!
//! | `sslmode` | TLS | the server's certificate |
//! | --- | --- | --- |
//! | `disable` | never | - |
//! | `allow`, `prefer` (libpq's default) | when the server offers it | not checked; with a CA: chain checked |
//! | `require` | always | not checked; with a CA: chain checked (libpq does so when a root file exists) |
//! | `verify-ca` | always | chain checked against the CA (or the system's roots) |
//! | `verify-full` (the default when a CA is given) | always | chain and host name checked |
//!
//! A handshake that fails is an error in every mode: `prefer` falls back to plain text only
//! when the server says it has no TLS, never after a certificate was refused. `allow` is
//! read as `prefer` (it tries TLS first, which is never weaker). SCRAM password
//! authentication is bound to the server's certificate (`tls-server-end-point`, so
//! `SCRAM-SHA-256-PLUS`): even where certificates are not checked, a relay presenting its
//! own certificate cannot pass a client's authentication on. The provider is set per
//! configuration (ring, as ldap3, lettre and the HTTP notifiers use), so no process-wide
//! default provider is needed or installed.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sspr_core::{BackendError, BackendErrorKind};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

fn config_error(message: impl Into<String>) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, message)
}

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, BackendError> {
        match value {
            "disable" => Ok(Self::Disable),
            "allow" | "prefer" => Ok(Self::Prefer),
            "require" => Ok(Self::Require),
            "verify-ca" => Ok(Self::VerifyCa),
            "verify-full" => Ok(Self::VerifyFull),
            _ => Err(config_error(
                "sslmode must be disable, allow, prefer, require, verify-ca or verify-full".to_owned(),
            )),
        }
    }
}

/// Where trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    /// A PEM file, and the setting that named it (`ca_file`, or `sslrootcert` in the URL).
    File(PathBuf, &'static str),
    /// The system's trust store (`sslrootcert=system`, or `verify-*` without a CA file).
    System,
}

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Nothing (encryption against passive listeners only).
    Nothing,
    /// The chain up to a trusted root, not the name.
    Chain,
    /// The chain and the host name.
    Full,
}

/// The TLS settings of one store: what tokio-postgres is told, and the connector.
pub(crate) struct Settings {
    /// The mode in libpq's terms (kept for `Debug`).
    pub(crate) mode: SslMode,
    /// What tokio-postgres is told: whether TLS is off, tried or required.
    pub(crate) pg_mode: tokio_postgres::config::SslMode,
    /// The connector, with the verification the mode asks for.
    pub(crate) connector: MakeRustls,
}

/// The settings for `sslmode`/`sslrootcert` taken from the URL and `ca_file` from the
/// configuration. Without a mode: `verify-full` when a CA is given, else `prefer` (libpq's
/// default).
pub(crate) fn settings(
    sslmode: Option<&str>,
    sslrootcert: Option<&str>,
    ca_file: Option<&Path>,
) -> Result<Settings, BackendError> {
    let roots = match (sslrootcert, ca_file) {
        (Some(url), Some(file)) if Path::new(url) != file => {
            return Err(config_error("sslrootcert in the URL and ca_file name different files: give one"));
        }
        (Some("system"), None) => Some(Roots::System),
        (Some(url), _) => Some(Roots::File(PathBuf::from(url), "sslrootcert")),
        (None, Some(file)) => Some(Roots::File(file.to_owned(), "ca_file")),
        (None, None) => None,
    };
    let mode = match sslmode {
        Some(value) => SslMode::parse(value)?,
        None if roots.is_some() => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    let check = match mode {
        SslMode::Disable => Check::Nothing,
        SslMode::Prefer | SslMode::Require if roots.is_some() => Check::Chain,
        SslMode::Prefer | SslMode::Require => Check::Nothing,
        SslMode::VerifyCa => Check::Chain,
        SslMode::VerifyFull => Check::Full,
    };
    let pg_mode = match mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
    };
    let config = client_config(check, roots.as_ref().unwrap_or(&Roots::System))?;
    Ok(Settings { mode, pg_mode, connector: MakeRustls { config: Arc::new(config) } })
}

fn root_store(roots: &Roots) -> Result<RootCertStore, BackendError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path, field) => {
            // The setting, the path and the error's kind only: never the file's text.
            let pem = std::fs::read(path).map_err(|e| {
                config_error(format!("cannot read the PostgreSQL {field} {}: {}", path.display(), e.kind()))
            })?;
            let no_certificate =
                || config_error(format!("the PostgreSQL {field} {} holds no PEM certificate", path.display()));
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|_| no_certificate())?;
                store.add(cert).map_err(|e| {
                    config_error(format!("a certificate in the PostgreSQL {field} {} is unusable: {e}", path.display()))
                })?;
            }
            if store.is_empty() {
                return Err(no_certificate());
            }
        }
        Roots::System => {
            store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    Ok(store)
}

fn client_config(check: Check, roots: &Roots) -> Result<ClientConfig, BackendError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS set-up: {e}")))?;
    let mut config = match check {
        Check::Full => builder.with_root_certificates(root_store(roots)?).with_no_client_auth(),
        Check::Chain => {
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(root_store(roots)?), provider)
                .build()
                .map_err(|e| config_error(format!("TLS set-up: {e}")))?;
            builder.dangerous().with_custom_certificate_verifier(Arc::new(ChainOnly(webpki))).with_no_client_auth()
        }
        Check::Nothing => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(Unchecked(provider))).with_no_client_auth()
        }
    };
    // PostgreSQL 17 checks it on direct TLS; older servers ignore it.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(config)
}

/// `verify-ca`: the chain must lead to a trusted root; the name is not compared (libpq's
/// meaning: for servers reached by an address their certificate does not carry).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer`/`require` without a CA: any certificate (libpq's meaning: encryption against
/// passive listeners, no protection from an active one). The handshake signature is still
/// checked against the certificate presented.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Makes a rustls connector per connection, for the host tokio-postgres connects to.
#[derive(Clone)]
pub(crate) struct MakeRustls {
    config: Arc<ClientConfig>,
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        // A Unix socket has no host name: the server answers "no TLS" there, which `prefer`
        // accepts; a TLS handshake without a name fails in `connect`.
        Ok(RustlsConnect { config: Arc::clone(&self.config), name: ServerName::try_from(domain.to_owned()).ok() })
    }
}

/// One connection's TLS handshake.
pub(crate) struct RustlsConnect {
    config: Arc<ClientConfig>,
    name: Option<ServerName<'static>>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self.name.ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "no host name to check the server's certificate against")
            })?;
            let stream = tokio_rustls::TlsConnector::from(self.config).connect(name, stream).await?;
            Ok(RustlsStream(stream))
        })
    }
}

/// A TLS connection to PostgreSQL.
pub(crate) struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    /// `tls-server-end-point` (RFC 5929): the hash of the server's certificate, so that SCRAM
    /// authentication (`SCRAM-SHA-256-PLUS`) is bound to this TLS session and a relay with
    /// another certificate cannot pass it on, even in modes that do not check certificates.
    /// None when the certificate's hash cannot be told (then SCRAM runs unbound, as before).
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|cert| server_end_point(cert.as_ref()))
            .map_or_else(ChannelBinding::none, ChannelBinding::tls_server_end_point)
    }
}

/// One DER element: its tag, its contents, and what follows it.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(n)?;
        (bytes.iter().fold(0usize, |len, &b| (len << 8) | usize::from(b)), rest)
    };
    let (content, rest) = rest.split_at_checked(len)?;
    Some((tag, content, rest))
}

/// The certificate's hash for `tls-server-end-point`: with the hash of its signature
/// algorithm, SHA-256 for MD5 and SHA-1 (RFC 5929 section 4.1). `None` for algorithms without
/// a hash of their own (Ed25519, RSA-PSS): PostgreSQL cannot bind to those either.
fn server_end_point(cert: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    let (SEQUENCE, certificate, _) = der(cert)? else { return None };
    let (SEQUENCE, _, rest) = der(certificate)? else { return None };
    let (SEQUENCE, algorithm, _) = der(rest)? else { return None };
    let (OID, oid, _) = der(algorithm)? else { return None };
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01]; // 1.2.840.113549.1.1
    const ECDSA_SHA2: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03]; // 1.2.840.10045.4.3
    const ECDSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01]; // 1.2.840.10045.4.1
    enum Hash {
        Sha256,
        Sha384,
        Sha512,
    }
    let hash = if let Some(last) = oid.strip_prefix(RSA) {
        match last {
            // md5, sha1, sha256 With RSAEncryption
            [0x04] | [0x05] | [0x0b] => Hash::Sha256,
            [0x0c] => Hash::Sha384,
            [0x0d] => Hash::Sha512,
            _ => return None,
        }
    } else if let Some(last) = oid.strip_prefix(ECDSA_SHA2) {
        match last {
            [0x02] => Hash::Sha256,
            [0x03] => Hash::Sha384,
            [0x04] => Hash::Sha512,
            _ => return None,
        }
    } else if oid == ECDSA_SHA1 {
        Hash::Sha256
    } else {
        return None;
    };
    Some(match hash {
        Hash::Sha256 => sha2::Sha256::digest(cert).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(cert).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(cert).to_vec(),
    })
}
