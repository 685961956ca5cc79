//! Real backends for [`sspr_core`]: directories, notifiers and stores, one cargo feature each.
//!
//! | feature | backend |
//! | --- | --- |
//! | `ldap` | OpenLDAP and Active Directory directory, and a contact store reading directory attributes |
//! | `smtp` | e-mail notifier (lettre) |
//! | `sms-twilio` | SMS through the Twilio Messages API |
//! | `webhook` | any other gateway: a signed JSON POST |
//! | `graph` | Microsoft Entra ID through Microsoft Graph v1.0: directory, and a contact store over authentication methods |
//! | `sqlite` | the embedded default contact and state store; an audit sink with [`audit_sql::AuditReport`] summaries |
//! | `redis` | a state store shared by several portal instances |
//! | `postgres` | contact and state stores shared by several portal instances; an audit sink with [`audit_sql::AuditReport`] summaries |
//! | `breached` | [`breached`]: the breached-password check of chosen passwords (k-anonymity range queries, or local range files); [`password_checks`]: it and a banned-words list from one configuration |
//! | `captcha` | [`captcha`]: bot challenge verifiers for `begin_reset` (Cloudflare Turnstile, hCaptcha, Google reCAPTCHA; server-side siteverify, verified against local stand-ins only) |
//! | `audit-file` | the audit trail as a JSON-lines file, rotated by size |
//! | `audit-queue` | a bounded queue between the engine and any audit sink |
//! | `audit-syslog` | the audit trail to a syslog server: RFC 5424 over TCP (octet counting) or UDP |
//! | `otlp` | [`otlp`]: the engine's spans exported over OTLP/HTTP, the one pipeline of the portal and the bindings |
//! | `config` | [`config`]: every backend above from one TOML/JSON configuration |

#[cfg(feature = "audit-file")]
pub mod audit_file;
#[cfg(feature = "audit-queue")]
pub mod audit_queue;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod audit_sql;
#[cfg(feature = "audit-syslog")]
pub mod audit_syslog;
#[cfg(feature = "breached")]
pub mod breached;
#[cfg(feature = "captcha")]
pub mod captcha;
#[cfg(feature = "config")]
pub mod config;
pub mod endpoint;
#[cfg(feature = "graph")]
pub mod graph;
#[cfg(feature = "ldap")]
pub mod ldap;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "breached")]
pub mod password_checks;

#[cfg(feature = "redis")]
pub mod redis;

#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(any(feature = "redis", feature = "postgres"))]
mod conninfo;
#[cfg(any(feature = "ldap", feature = "graph"))]
mod cooling_off;
#[cfg(any(feature = "sms-twilio", feature = "webhook", feature = "graph", feature = "breached", feature = "captcha"))]
mod http;
#[cfg(any(
    feature = "smtp",
    feature = "redis",
    feature = "sms-twilio",
    feature = "webhook",
    feature = "graph",
    feature = "breached",
    feature = "captcha"
))]
mod loopback;
#[cfg(feature = "smtp")]
mod mail_template;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "redis", feature = "postgres"))]
mod redact;
#[cfg(feature = "smtp")]
mod runtime;
#[cfg(any(
    feature = "ldap",
    feature = "graph",
    feature = "smtp",
    feature = "redis",
    feature = "postgres",
    feature = "sms-twilio",
    feature = "webhook",
    feature = "captcha"
))]
mod secret_field;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(all(test, any(feature = "redis", feature = "postgres")))]
mod test_pem;
#[cfg(feature = "sms-twilio")]
pub mod twilio;
#[cfg(feature = "webhook")]
pub mod webhook;
