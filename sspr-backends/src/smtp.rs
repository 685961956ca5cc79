//! A [`sspr_core::Notifier`] that sends e-mail through an SMTP relay (feature `smtp`).
//!
//! Messages are the standard notices of [`sspr_core::notice`] in the request's language, as
//! plain text plus an HTML alternative rendered from MiniJinja templates a deployment can
//! brand and override without recompiling ([`MailBranding`]: organisation, logo, colours,
//! support contact, footer, a template directory), with a `Content-Language` header. Every header is
//! built by lettre from typed values (addresses validated by sspr-core, a subject from the
//! templates, encoded per RFC 2047 when not ASCII), so no field can inject a header. TLS is
//! STARTTLS (required, never downgraded) or implicit TLS, verified against the public roots
//! or the CA file you configure; `none` is for a relay on the same host only. Connections are
//! pooled; the notifier may be dropped on any thread, also one without a Tokio runtime. A
//! message is never retried by this notifier: an error after `DATA` might mean it was
//! delivered, and a PIN must not arrive twice. sspr's own copies of a PIN message are
//! wiped from memory after use; the copy lettre encodes is not.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::{self, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use sspr_core::notice::Notification;
use sspr_core::{BackendError, BackendErrorKind, Destination, Locale};

pub use crate::mail_template::{MailBranding, MailTemplates, TEMPLATE_NAMES};
use crate::runtime::InRuntime;

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465 by default).
    Implicit,
    /// No TLS at all (port 25 by default): only for a relay on the same host (`localhost` or a
    /// loopback address); another host also needs `allow_plaintext = true`.
    None,
}

/// The SMTP relay and the sender, as read from the portal's configuration.
///
/// ```
/// let config: sspr_backends::smtp::SmtpConfig = toml::from_str(r#"
///     host = "smtp.example.org"
///     tls = "starttls"
///     username = "sspr"
///     password = "s3cret"
///     from = "Password reset <no-reply@example.org>"
/// "#).unwrap();
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The relay's host name (also the name its certificate must carry).
    pub host: String,
    /// The port; by default 587 (STARTTLS), 465 (implicit TLS) or 25 (none).
    #[serde(default)]
    pub port: Option<u16>,
    /// STARTTLS, implicit TLS or none.
    #[serde(default)]
    pub tls: SmtpTls,
    /// The user to authenticate as, if the relay wants AUTH.
    #[serde(default)]
    pub username: Option<String>,
    /// The password (hidden in `Debug`).
    #[serde(default, deserialize_with = "crate::secret_field::optional")]
    pub password: Option<String>,
    /// The sender, `address` or `Name <address>`.
    pub from: String,
    /// A PEM file of CA certificates to trust instead of the public roots (a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Allow `tls = "none"` to a relay on another host: the SMTP password and every PIN then
    /// cross the network in clear. Off by default (as `allow_plaintext` of the LDAP directory).
    #[serde(default)]
    pub allow_plaintext: bool,
    /// How long one SMTP command may take.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Most connections kept open to the relay.
    #[serde(default = "default_pool_size")]
    pub pool_size: u32,
    /// How the e-mails look (`[smtp.branding]`): organisation, logo, colours, support
    /// contact, footer, and a directory of templates of the deployment's own.
    #[serde(default)]
    pub branding: MailBranding,
}

fn default_timeout_ms() -> u64 {
    10_000
}
fn default_pool_size() -> u32 {
    4
}

impl SmtpConfig {
    /// A configuration for `host` with STARTTLS, no authentication and the defaults.
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: None,
            tls: SmtpTls::default(),
            username: None,
            password: None,
            from: from.into(),
            ca_file: None,
            allow_plaintext: false,
            timeout_ms: default_timeout_ms(),
            pool_size: default_pool_size(),
            branding: MailBranding::default(),
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("ca_file", &self.ca_file)
            .field("allow_plaintext", &self.allow_plaintext)
            .field("timeout_ms", &self.timeout_ms)
            .field("pool_size", &self.pool_size)
            .field("branding", &self.branding)
            .finish()
    }
}

/// Sends sspr's notices by e-mail. Cheap to clone (the pool is shared). May be dropped on any
/// thread, also one without a Tokio runtime (the pool is then shut down on the runtime it was
/// built in).
#[derive(Clone)]
pub struct SmtpNotifier {
    transport: Arc<InRuntime<AsyncSmtpTransport<Tokio1Executor>>>,
    templates: Arc<MailTemplates>,
    from: Mailbox,
    host: String,
    port: u16,
    tls: SmtpTls,
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn config_error(message: impl Into<String>) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, message)
}

impl SmtpNotifier {
    /// Build the notifier (no connection is made until the first message). Fails with
    /// `Rejected` for a sender that is not an address, an unreadable CA file, a password
    /// without a user, `tls = "none"` to another host than this one without
    /// `allow_plaintext`, or branding or templates that do not load ([`MailTemplates::load`]).
    ///
    /// It must be called inside a Tokio runtime (the connection pool runs on it).
    pub fn from_config(config: &SmtpConfig) -> Result<Self, BackendError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(config_error("the SMTP notifier must be built inside a Tokio runtime"));
        }
        // lettre sends AUTH and the message over a plain connection as readily as over TLS.
        if config.tls == SmtpTls::None && !config.allow_plaintext && !crate::loopback::is_loopback_host(&config.host) {
            return Err(config_error(format!(
                "tls = \"none\" to {} sends the SMTP password and every PIN in clear: use tls = \"starttls\" or \
                 \"implicit\", or allow_plaintext = true for a relay on a network you trust",
                config.host
            )));
        }
        let from: Mailbox = config.from.parse().map_err(|e| config_error(format!("invalid sender address: {e}")))?;
        let templates = Arc::new(MailTemplates::load(&config.branding)?);
        let port = config.port.unwrap_or(match config.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Implicit => 465,
            SmtpTls::None => 25,
        });
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            mode => {
                let mut params = TlsParameters::builder(config.host.clone());
                if let Some(path) = &config.ca_file {
                    let pem = std::fs::read(path)
                        .map_err(|e| config_error(format!("cannot read the CA file {}: {e}", path.display())))?;
                    let ca = Certificate::from_pem(&pem)
                        .map_err(|e| config_error(format!("the CA file {} is not PEM: {e}", path.display())))?;
                    params = params.certificate_store(CertificateStore::None).add_root_certificate(ca);
                }
                let params = params.build_rustls().map_err(|e| config_error(format!("TLS set-up: {e}")))?;
                if mode == SmtpTls::Implicit { Tls::Wrapper(params) } else { Tls::Required(params) }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_millis(config.timeout_ms)))
            .pool_config(PoolConfig::new().max_size(config.pool_size.max(1)));
        match (&config.username, &config.password) {
            (Some(user), password) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone().unwrap_or_default()));
            }
            (None, Some(_)) => return Err(config_error("an SMTP password needs a username")),
            (None, None) => {}
        }
        Ok(Self {
            transport: Arc::new(InRuntime::new(builder.build())),
            templates,
            from,
            host: config.host.clone(),
            port,
            tls: config.tls,
        })
    }

    /// Build the e-mail for `notification` (public so a portal can preview it).
    pub fn message(&self, notification: &Notification) -> Result<Message, BackendError> {
        let Destination::Email(to) = &notification.to else {
            return Err(BackendError::new(BackendErrorKind::Rejected, "the SMTP notifier sends e-mail, not SMS"));
        };
        let to: Mailbox = to
            .as_str()
            .parse()
            .map_err(|e| BackendError::new(BackendErrorKind::Rejected, format!("recipient address: {e}")))?;
        let rendered = notification.render();
        let (text, html) = self.templates.render(&rendered.subject, &rendered.body, notification.locale)?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject.as_str())
            .date(notification.at.into())
            .message_id(None)
            .header(ContentLanguage(language(notification.locale)))
            .multipart(MultiPart::alternative_plain_html(text.to_string(), html.to_string()))
            .map_err(|e| BackendError::new(BackendErrorKind::Rejected, format!("building the message: {e}")))
    }
}

fn language(locale: Locale) -> &'static str {
    locale.as_str()
}

/// `Content-Language`, which lettre does not have.
#[derive(Debug, Clone)]
struct ContentLanguage(&'static str);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let locale: Locale = s.trim().parse().map_err(|_| format!("unsupported language {}", s.trim()))?;
        Ok(Self(locale.as_str()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

/// The TLS failure in an error's chain, if any (tokio-rustls reports one as `InvalidData`).
fn tls_failure(e: &smtp::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::InvalidData
        {
            return Some(io.get_ref().map_or_else(|| io.to_string(), ToString::to_string));
        }
        source = err.source();
    }
    e.is_tls().then(|| "TLS set-up failed".to_owned())
}

fn map_err(e: smtp::Error) -> BackendError {
    // A certificate that does not verify is a configuration problem, not an outage; a 5xx
    // answer is final (a refused recipient or sender, failed AUTH); everything else (4xx, a
    // connection that failed or timed out) may work later.
    let (kind, message) = if let Some(tls) = tls_failure(&e) {
        (BackendErrorKind::Other, format!("TLS with the SMTP relay failed: {tls}"))
    } else if let Some(code) = e.status() {
        let kind = if e.is_permanent() { BackendErrorKind::Rejected } else { BackendErrorKind::Unavailable };
        (kind, format!("the SMTP relay answered {code}"))
    } else if e.is_timeout() {
        (BackendErrorKind::Unavailable, "the SMTP relay timed out".to_owned())
    } else {
        (BackendErrorKind::Unavailable, "the SMTP relay could not be reached".to_owned())
    };
    BackendError::new(kind, message).with_source(e)
}

#[async_trait]
impl sspr_core::Notifier for SmtpNotifier {
    async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
        let message = self.message(notification)?;
        self.transport.get()?.send(message).await.map(drop).map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    // lettre sends `AUTH PLAIN` (the password, base64) and the PIN over a plain connection:
    // `tls = "none"` is for a relay on this host, as the LDAP directory's plain `ldap://`.
    #[tokio::test]
    async fn no_tls_to_another_host_is_refused_unless_allowed() {
        let plain = |host: &str| SmtpConfig {
            tls: SmtpTls::None,
            username: Some("sspr".into()),
            password: Some("s3cret-relay".into()),
            ..SmtpConfig::new(host, "no-reply@example.org")
        };
        for host in ["smtp.example.org", "10.0.0.25", "127.0.0.1.example.org"] {
            let err = SmtpNotifier::from_config(&plain(host)).unwrap_err();
            assert_eq!(err.kind(), BackendErrorKind::Rejected, "{host}: {err}");
            assert!(err.to_string().contains("allow_plaintext"), "{err}");
            assert!(!err.to_string().contains("s3cret-relay"), "{err}");
        }
        for host in ["localhost", "127.0.0.1", "::1", "[::1]"] {
            assert!(SmtpNotifier::from_config(&plain(host)).is_ok(), "{host}: the relay on this host");
        }
        let allowed = SmtpConfig { allow_plaintext: true, ..plain("smtp.example.org") };
        assert!(SmtpNotifier::from_config(&allowed).is_ok());
        let parsed: SmtpConfig =
            toml::from_str("host = \"smtp.example.org\"\nfrom = \"a@b.org\"\ntls = \"none\"\nallow_plaintext = true\n")
                .unwrap();
        assert!(parsed.allow_plaintext && SmtpNotifier::from_config(&parsed).is_ok());
    }

    // The notifier builds its e-mail from the deployment's templates (no relay is contacted).
    #[tokio::test]
    async fn the_message_is_built_from_the_deployments_templates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notice.html"), "<p class=\"own\">{{ organisation }}: {{ subject }}</p>")
            .unwrap();
        std::fs::write(dir.path().join("notice.txt"), "OWN {{ body }}").unwrap();
        let config = SmtpConfig {
            branding: MailBranding {
                organisation: "Example Corp".into(),
                template_dir: Some(dir.path().to_owned()),
                ..MailBranding::default()
            },
            ..SmtpConfig::new("localhost", "no-reply@example.org")
        };
        let notifier = SmtpNotifier::from_config(&config).unwrap();
        let notice = Notification {
            to: Destination::Email(sspr_core::EmailAddress::parse("jane@example.org").unwrap()),
            locale: Locale::En,
            message: sspr_core::notice::Message::PasswordChanged,
            at: sspr_core::time::macros::datetime!(2026-01-01 10:00 UTC),
        };
        let raw = String::from_utf8(notifier.message(&notice).unwrap().formatted()).unwrap();
        assert!(raw.contains("<p class=\"own\">Example Corp: Your password was changed</p>"), "{raw}");
        assert!(raw.contains("OWN On 1 January 2026 at 10:00 (UTC) your password was changed"), "{raw}");
        // A branding that does not load stops the notifier from being built.
        let bad =
            SmtpConfig { branding: MailBranding { primary_colour: "red".into(), ..MailBranding::default() }, ..config };
        assert!(SmtpNotifier::from_config(&bad).unwrap_err().to_string().contains("primary_colour"));
    }
}
