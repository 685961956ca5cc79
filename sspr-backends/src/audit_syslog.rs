//! The audit trail to a syslog server (feature `audit-syslog`): RFC 5424 messages over TCP
//! with octet-counting framing (RFC 6587) or over UDP (RFC 5426).
//!
//! Each event is one message: `<PRI>1 TIMESTAMP HOSTNAME sspr PROCID KIND - \u{feff}JSON`,
//! where `KIND` (the MSGID) is the event's kind (`reset_requested`, ...), the message is the
//! event's versioned JSON ([`AuditEvent::to_json`]) after the UTF-8 byte order mark RFC 5424
//! asks for, and the severity follows the outcome: `info` for success and decoys, `notice`
//! for refused and limited, `warning` for failures, blocks and the failure alarm. The facility
//! is `authpriv` unless configured.
//!
//! ```
//! let config: sspr_backends::audit_syslog::SyslogConfig = toml::from_str(r#"
//!     address = "logs.example.org:601"
//!     transport = "tcp"
//!     facility = "local4"
//! "#).unwrap();
//! assert_eq!(config.facility, sspr_backends::audit_syslog::Facility::Local4);
//! ```
//!
//! TCP keeps one connection, opened at the first event and opened again when the server
//! closed it; an event that cannot be written fails (`Unavailable`) and is not retried: put
//! the sink behind a [`QueuedAuditSink`](crate::audit_queue::QueuedAuditSink) (the
//! configuration does) so that a slow server never slows a reset. TLS (RFC 5425) is not
//! offered: send to a local relay (rsyslog, syslog-ng) that forwards over TLS.

use std::fmt::{self, Write as _};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use sspr_core::time::{OffsetDateTime, UtcOffset};
use sspr_core::{AuditEvent, AuditKind, AuditSink, BackendError, BackendErrorKind, Outcome};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Mutex;

/// How messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Transport {
    /// TCP, each message framed by its length (RFC 6587 octet counting).
    #[default]
    Tcp,
    /// One UDP datagram per message (RFC 5426).
    Udp,
}

/// The syslog facility (RFC 5424 section 6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Facility {
    Kern = 0,
    User = 1,
    Mail = 2,
    Daemon = 3,
    Auth = 4,
    Syslog = 5,
    Lpr = 6,
    News = 7,
    Uucp = 8,
    Cron = 9,
    /// Security/authorization messages kept private: the default.
    #[default]
    Authpriv = 10,
    Ftp = 11,
    Local0 = 16,
    Local1 = 17,
    Local2 = 18,
    Local3 = 19,
    Local4 = 20,
    Local5 = 21,
    Local6 = 22,
    Local7 = 23,
}

/// The syslog sink's settings, as read from the `[audit] kind = "syslog"` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// `host:port` of the syslog server (601 or 514 for TCP, 514 for UDP, by convention).
    pub address: String,
    /// `tcp` (default) or `udp`.
    #[serde(default)]
    pub transport: Transport,
    /// Default `authpriv`.
    #[serde(default)]
    pub facility: Facility,
    /// The HOSTNAME field. Default: `-` (none; the server records the sender's address).
    #[serde(default)]
    pub hostname: Option<String>,
    /// The APP-NAME field. Default `sspr`.
    #[serde(default = "default_app_name")]
    pub app_name: String,
    /// How long connecting and sending may take. Default 5000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_app_name() -> String {
    String::from("sspr")
}
fn default_timeout_ms() -> u64 {
    5000
}

impl SyslogConfig {
    /// The defaults for the server at `address` over `transport`.
    pub fn new(address: impl Into<String>, transport: Transport) -> Self {
        Self {
            address: address.into(),
            transport,
            facility: Facility::default(),
            hostname: None,
            app_name: default_app_name(),
            timeout_ms: default_timeout_ms(),
        }
    }
}

/// Sends every audit event to a syslog server as an RFC 5424 message.
pub struct SyslogAuditSink {
    config: SyslogConfig,
    /// HOSTNAME and APP-NAME as sent (printable US-ASCII, no spaces, capped lengths).
    hostname: String,
    app_name: String,
    tcp: Mutex<Option<TcpStream>>,
    udp: Mutex<Option<UdpSocket>>,
}

impl fmt::Debug for SyslogAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyslogAuditSink")
            .field("address", &self.config.address)
            .field("transport", &self.config.transport)
            .field("facility", &self.config.facility)
            .finish_non_exhaustive()
    }
}

/// A header field as RFC 5424 allows it: printable US-ASCII without spaces, at most `max`
/// characters, `-` when empty.
fn header_field(text: &str, max: usize) -> String {
    let field: String = text.chars().filter(|c| c.is_ascii_graphic()).take(max).collect();
    if field.is_empty() { String::from("-") } else { field }
}

/// The severity of an event (RFC 5424 section 6.2.1).
fn severity(event: &AuditEvent) -> u8 {
    const WARNING: u8 = 4;
    const NOTICE: u8 = 5;
    const INFO: u8 = 6;
    match (&event.kind, &event.outcome) {
        (AuditKind::Blocked | AuditKind::FailureAlarm, _) | (_, Outcome::Failed { .. }) => WARNING,
        (_, Outcome::Refused { .. } | Outcome::Limited { .. }) => NOTICE,
        _ => INFO,
    }
}

/// TIMESTAMP: UTC, microseconds (RFC 5424 allows at most six fraction digits).
fn timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// Whether `address` is `host:port` as the sockets take it: a host (a name, an IPv4 address
/// or a bracketed IPv6 one) without a scheme or a path, and a port from 1 to 65535.
fn is_host_and_port(address: &str) -> bool {
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner.strip_suffix(']').is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    host_ok && port.parse::<u16>().is_ok_and(|p| p != 0)
}

impl SyslogAuditSink {
    /// A sink for `config`. Nothing is connected until the first event.
    ///
    /// # Errors
    /// `Rejected` when the address is empty or not `host:port`.
    pub fn new(config: SyslogConfig) -> Result<Self, BackendError> {
        if config.address.trim().is_empty() {
            return Err(BackendError::new(BackendErrorKind::Rejected, "syslog audit sink: address is empty"));
        }
        // Checked here, not at the first event: `udp://host:514` (how many loggers write a
        // syslog target) was accepted and then every event failed to connect behind the
        // queue, which only logs it, so the whole trail was lost without a word.
        if !is_host_and_port(&config.address) {
            return Err(BackendError::new(
                BackendErrorKind::Rejected,
                "syslog audit sink: address must be host:port (e.g. logs.example.org:514, [2001:db8::1]:514), \
                 with no scheme: the protocol is `transport = \"tcp\"` or `\"udp\"`",
            ));
        }
        Ok(Self {
            hostname: header_field(config.hostname.as_deref().unwrap_or("-"), 255),
            app_name: header_field(&config.app_name, 48),
            config,
            tcp: Mutex::new(None),
            udp: Mutex::new(None),
        })
    }

    /// One event as an RFC 5424 message (without framing).
    pub fn message(&self, event: &AuditEvent) -> String {
        let pri = (self.config.facility as u8) * 8 + severity(event);
        let kind = serde_json::to_value(event.kind).ok().and_then(|v| v.as_str().map(str::to_owned));
        let mut line = String::new();
        let _ = write!(
            line,
            "<{pri}>1 {} {} {} {} {} - \u{feff}{}",
            timestamp(event.at),
            self.hostname,
            self.app_name,
            std::process::id(),
            header_field(kind.as_deref().unwrap_or("-"), 32),
            event.to_json()
        );
        line
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.timeout_ms)
    }

    fn unavailable(&self, what: &str, e: impl fmt::Display) -> BackendError {
        BackendError::new(BackendErrorKind::Unavailable, format!("syslog {}: {what}: {e}", self.config.address))
    }

    async fn send_tcp(&self, message: &str) -> Result<(), BackendError> {
        let frame = format!("{} {message}", message.len());
        let mut slot = self.tcp.lock().await;
        // A connection the server has closed reads as end of file: open a new one rather than
        // write into it (the first write after a close would seem to succeed and be lost).
        if let Some(stream) = slot.as_ref() {
            let mut probe = [0u8; 1];
            match stream.try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                _ => *slot = None,
            }
        }
        if slot.is_none() {
            let stream = tokio::time::timeout(self.timeout(), TcpStream::connect(&self.config.address))
                .await
                .map_err(|_| self.unavailable("connect", "timed out"))?
                .map_err(|e| self.unavailable("connect", e))?;
            *slot = Some(stream);
        }
        let Some(stream) = slot.as_mut() else {
            return Err(self.unavailable("connect", "no connection"));
        };
        let written = tokio::time::timeout(self.timeout(), stream.write_all(frame.as_bytes())).await;
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                *slot = None;
                Err(self.unavailable("send", e))
            }
            Err(_) => {
                *slot = None;
                Err(self.unavailable("send", "timed out"))
            }
        }
    }

    async fn send_udp(&self, message: &str) -> Result<(), BackendError> {
        let mut slot = self.udp.lock().await;
        if slot.is_none() {
            let any: std::net::SocketAddr = if self.config.address.starts_with('[') {
                (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
            } else {
                (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
            };
            let socket = UdpSocket::bind(any).await.map_err(|e| self.unavailable("bind", e))?;
            tokio::time::timeout(self.timeout(), socket.connect(&self.config.address))
                .await
                .map_err(|_| self.unavailable("resolve", "timed out"))?
                .map_err(|e| self.unavailable("resolve", e))?;
            *slot = Some(socket);
        }
        let Some(socket) = slot.as_ref() else {
            return Err(self.unavailable("bind", "no socket"));
        };
        let sent = tokio::time::timeout(self.timeout(), socket.send(message.as_bytes()))
            .await
            .map_err(|_| self.unavailable("send", "timed out"))?
            .map_err(|e| self.unavailable("send", e))?;
        if sent != message.len() {
            return Err(self.unavailable("send", format!("{sent} of {} bytes sent", message.len())));
        }
        Ok(())
    }
}

#[async_trait]
impl AuditSink for SyslogAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<(), BackendError> {
        let message = self.message(event);
        match self.config.transport {
            Transport::Tcp => self.send_tcp(&message).await,
            Transport::Udp => self.send_udp(&message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use sspr_core::memory::{MemoryDirectory, Outbox};
    use sspr_core::time::macros::datetime;
    use sspr_core::{
        Actor, Channel, ContactChange, ContactUpdate, DecoyReason, NewPassword, Pin, RequestContext, SecretKey, Sspr,
    };
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    use super::*;

    /// Read one octet-counted frame (`LEN SP MSG`); `None` at the end of the stream.
    async fn frame(stream: &mut TcpStream) -> Option<String> {
        let mut len = Vec::new();
        loop {
            let mut byte = [0u8; 1];
            if stream.read(&mut byte).await.unwrap() == 0 {
                return None;
            }
            if byte[0] == b' ' {
                break;
            }
            assert!(byte[0].is_ascii_digit(), "frame length digit, got {:?}", byte[0] as char);
            len.push(byte[0]);
        }
        let len: usize = String::from_utf8(len).unwrap().parse().unwrap();
        let mut message = vec![0u8; len];
        stream.read_exact(&mut message).await.unwrap();
        Some(String::from_utf8(message).unwrap())
    }

    /// The event JSON inside a message.
    fn json_of(message: &str) -> serde_json::Value {
        let (_, json) = message.split_once('\u{feff}').expect("the BOM before the message");
        serde_json::from_str(json).unwrap()
    }

    fn event(kind: AuditKind) -> AuditEvent {
        AuditEvent::new(kind, sspr_core::Clock::now(&sspr_core::SystemClock), Outcome::Success)
    }

    #[tokio::test]
    async fn tcp_frames_each_message_by_its_length_and_reconnects_after_the_server_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SyslogAuditSink::new(SyslogConfig::new(listener.local_addr().unwrap().to_string(), Transport::Tcp))
            .unwrap();
        let kinds = [AuditKind::ResetRequested, AuditKind::PinSent, AuditKind::PinVerified];
        for kind in kinds {
            sink.record(&event(kind)).await.unwrap();
        }
        let (mut first, _) = listener.accept().await.unwrap();
        for kind in kinds {
            let message = frame(&mut first).await.unwrap();
            assert!(message.starts_with("<86>1 "), "{message}");
            assert_eq!(json_of(&message)["kind"], serde_json::to_value(kind).unwrap());
        }
        // The server closes the connection: the next event goes over a new one, not lost.
        drop(first);
        tokio::time::sleep(Duration::from_millis(50)).await;
        sink.record(&event(AuditKind::ResetCompleted)).await.unwrap();
        let (mut second, _) = listener.accept().await.unwrap();
        let message = frame(&mut second).await.unwrap();
        assert_eq!(json_of(&message)["kind"], "reset_completed");
        // No server: a typed error naming the address.
        drop(second);
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let e = sink.record(&event(AuditKind::Blocked)).await.unwrap_err();
        assert_eq!(e.kind(), BackendErrorKind::Unavailable);
        assert!(e.to_string().contains(&addr), "{e}");
    }

    #[test]
    fn an_address_that_is_not_host_and_port_is_refused_at_start() {
        for bad in [
            "udp://127.0.0.1:514",
            "tcp://logs.example.org:601",
            "logs.example.org",
            "logs.example.org:syslog",
            "logs.example.org:0",
            "logs.example.org:514/",
            ":514",
            "::1:514",
            "[::1]",
            "user@logs.example.org:514",
        ] {
            let e = SyslogAuditSink::new(SyslogConfig::new(bad, Transport::Udp)).map(|_| ()).unwrap_err();
            assert_eq!(e.kind(), BackendErrorKind::Rejected, "{bad}");
            assert!(e.to_string().contains("host:port"), "{bad}: {e}");
        }
        for good in ["127.0.0.1:514", "logs.example.org:601", "[::1]:514", "[2001:db8::1]:6514", "syslog-relay_1:514"] {
            assert!(SyslogAuditSink::new(SyslogConfig::new(good, Transport::Tcp)).is_ok(), "{good}");
        }
    }

    #[tokio::test]
    async fn udp_sends_one_datagram_per_message() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let config = SyslogConfig {
            facility: Facility::Local0,
            ..SyslogConfig::new(server.local_addr().unwrap().to_string(), Transport::Udp)
        };
        let sink = SyslogAuditSink::new(config).unwrap();
        sink.record(&event(AuditKind::SignIn)).await.unwrap();
        sink.record(&AuditEvent::new(
            AuditKind::PinFailed,
            sspr_core::Clock::now(&sspr_core::SystemClock),
            Outcome::Failed { error: "wrong PIN".into() },
        ))
        .await
        .unwrap();
        let mut buf = vec![0u8; 65_536];
        let n = server.recv(&mut buf).await.unwrap();
        let first = std::str::from_utf8(&buf[..n]).unwrap().to_owned();
        assert!(first.starts_with("<134>1 "), "local0 (16) * 8 + info: {first}");
        assert_eq!(json_of(&first)["kind"], "sign_in");
        let n = server.recv(&mut buf).await.unwrap();
        let second = std::str::from_utf8(&buf[..n]).unwrap().to_owned();
        assert!(second.starts_with("<132>1 "), "local0 * 8 + warning: {second}");
        assert_eq!(json_of(&second)["outcome"]["error"], "wrong PIN");
    }

    /// A whole reset audited to a syslog listener: every step arrives, and neither the PIN nor
    /// the temporary password is anywhere in the bytes received.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_whole_reset_reaches_the_listener_without_any_secret() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SyslogAuditSink::new(SyslogConfig::new(listener.local_addr().unwrap().to_string(), Transport::Tcp))
            .unwrap();
        let received = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            while let Some(message) = frame(&mut stream).await {
                all.push(message);
            }
            all
        });
        let directory = MemoryDirectory::from_json(
            r#"[{"login": "alice@example.org", "display_name": "Alice", "dn": "uid=alice,ou=staff,dc=example,dc=org"}]"#,
        )
        .unwrap();
        let outbox = Outbox::new();
        let sspr = Sspr::builder()
            .directory(directory)
            .notifier(outbox.clone())
            .audit(sink)
            .secret_key(SecretKey::from_bytes(&[0x5a; 32]).unwrap())
            .policy(sspr_core::Policy { eligible_ous: vec!["ou=staff,dc=example,dc=org".into()], ..Default::default() })
            .build()
            .unwrap();
        let ctx = RequestContext::from_ip("203.0.113.7".parse().unwrap());
        let admin = Actor::Admin("helpdesk".into());
        sspr.set_enabled(&admin, "alice@example.org", true, &ctx).await.unwrap();
        let update =
            ContactUpdate { email: ContactChange::Set("alice.private@mail.example".into()), ..Default::default() };
        sspr.update_contacts(&admin, "alice@example.org", update, &ctx).await.unwrap();
        let challenge = sspr.begin_reset("alice@example.org", &ctx).await.unwrap();
        sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
        let pin = outbox.last_pin_to("alice.private@mail.example").unwrap();
        sspr.verify_pin(&challenge.flow_id, Pin::new(&pin), &ctx).await.unwrap();
        let done = sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await.unwrap();
        let password = done.temporary_password.unwrap().expose_secret().to_owned();
        drop(sspr);
        let all = received.await.unwrap();
        let kinds: Vec<String> = all.iter().map(|m| json_of(m)["kind"].as_str().unwrap().to_owned()).collect();
        for kind in ["reset_requested", "pin_sent", "pin_verified", "reset_completed"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
        }
        let text = all.join("\n");
        assert!(!text.contains(&pin) && !text.contains(&password) && !text.contains(&challenge.flow_id), "{text}");
    }

    #[test]
    fn a_message_is_rfc_5424_with_the_event_json_and_a_severity_per_outcome() {
        let sink = SyslogAuditSink::new(SyslogConfig {
            hostname: Some("portal 1.example.org".into()),
            ..SyslogConfig::new("127.0.0.1:514", Transport::Udp)
        })
        .unwrap();
        let mut event =
            AuditEvent::new(AuditKind::PinSent, datetime!(2026-12-05 10:00:01.123456789 UTC), Outcome::Success);
        event.channel = Some(Channel::Email);
        let message = sink.message(&event);
        let expected = format!(
            "<86>1 2026-12-05T10:00:01.123456Z portal1.example.org sspr {} pin_sent - \u{feff}",
            std::process::id()
        );
        assert!(message.starts_with(&expected), "{message}");
        assert!(message.ends_with(&event.to_json()));
        // authpriv (10) * 8 + severity
        let pri = |e: &AuditEvent| sink.message(e).split('>').next().unwrap().to_owned();
        let at = datetime!(2026-12-05 10:00 UTC);
        assert_eq!(
            pri(&AuditEvent::new(AuditKind::ResetRequested, at, Outcome::Decoy { reason: DecoyReason::UnknownUser })),
            "<86"
        );
        assert_eq!(
            pri(&AuditEvent::new(AuditKind::ResetRequested, at, Outcome::Limited { limit: "ip_begins".into() })),
            "<85"
        );
        assert_eq!(pri(&AuditEvent::new(AuditKind::ResetFailed, at, Outcome::Failed { error: "x".into() })), "<84");
        assert_eq!(pri(&AuditEvent::new(AuditKind::Blocked, at, Outcome::Success)), "<84");
        assert!(SyslogAuditSink::new(SyslogConfig::new(" ", Transport::Tcp)).is_err());
        let config: SyslogConfig =
            toml::from_str("address = \"h:514\"\ntransport = \"udp\"\nfacility = \"local7\"\n").unwrap();
        let local7 = SyslogAuditSink::new(config).unwrap();
        assert!(local7.message(&event).starts_with("<190>1 "), "local7 (23) * 8 + info");
        assert!(toml::from_str::<SyslogConfig>("address = \"h:514\"\nfacility = \"local9\"\n").is_err());
    }

    /// Log injection (red-team review, held): a user agent (or an error text) carrying line
    /// breaks and a forged syslog header stays inside the one message's JSON, escaped; a
    /// receiver that splits on newlines (non-transparent framing, a file) sees one line.
    #[test]
    fn a_line_break_in_a_field_cannot_forge_a_second_message() {
        let sink = SyslogAuditSink::new(SyslogConfig::new("127.0.0.1:514", Transport::Udp)).unwrap();
        let forged =
            "ua\n<86>1 2026-12-05T10:00:00Z h sspr 1 reset_completed - {\"kind\":\"reset_completed\"}\r\n\u{0}";
        let mut event = AuditEvent::new(
            AuditKind::ResetFailed,
            datetime!(2026-12-05 10:00 UTC),
            Outcome::Failed { error: forged.into() },
        );
        event.user_agent = Some(forged.into());
        let message = sink.message(&event);
        assert!(!message.contains(['\n', '\r', '\0']), "{message:?}");
        assert_eq!(message.lines().count(), 1);
        assert!(message.starts_with("<84>1 "), "{message}");
        assert_eq!(json_of(&message)["user_agent"], forged);
    }
}
