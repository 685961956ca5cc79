//! Reading the mail the test SMTP sink delivered (`scripts/servers/30-smtp.sh` exports its
//! Maildir as `SSPR_TEST_MAILDIR`). Any test binary of this crate can use it:
//!
//! ```ignore
//! #[path = "../support/maildir.rs"]
//! mod maildir;
//! let pin = maildir::wait_for_pin("jane.private@mail.example").await;
//! ```
//!
//! Give each test its own recipient address: messages are found by recipient.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

/// One delivered message, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The file in the Maildir.
    pub path: PathBuf,
    /// Every header, in order, decoded (RFC 2047).
    pub headers: Vec<(String, String)>,
    /// The text/plain part (or the body of a single-part text message).
    pub text: String,
    /// The text/html part, if any.
    pub html: Option<String>,
    /// The message as delivered.
    pub raw: Vec<u8>,
}

impl Mail {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// The PIN in the plain text: the first run of 6 to 12 digits.
    pub fn pin(&self) -> Option<String> {
        pin_in(&self.text)
    }
}

/// The first run of 6 to 12 ASCII digits in `text`.
pub fn pin_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).find(|run| (6..=12).contains(&run.len())).map(str::to_owned)
}

/// The sink's Maildir, from `SSPR_TEST_MAILDIR`.
pub fn maildir() -> PathBuf {
    PathBuf::from(std::env::var("SSPR_TEST_MAILDIR").unwrap_or_else(|_| {
        panic!("SSPR_TEST_MAILDIR is not set: run the tests through ./scripts/test.sh, or source scripts/lib.sh, scripts/servers/00-pki.sh and scripts/servers/30-smtp.sh first")
    }))
}

/// Parse one delivered file.
pub fn read(path: &Path) -> Mail {
    let raw = std::fs::read(path).unwrap();
    let parsed = mailparse::parse_mail(&raw).unwrap();
    let headers = parsed.headers.iter().map(|h| (h.get_key(), h.get_value())).collect();
    let (mut text, mut html) = (None, None);
    collect(&parsed, &mut text, &mut html);
    Mail { path: path.to_owned(), headers, text: text.unwrap_or_default(), html, raw }
}

fn collect(part: &mailparse::ParsedMail<'_>, text: &mut Option<String>, html: &mut Option<String>) {
    if part.subparts.is_empty() {
        match part.ctype.mimetype.as_str() {
            "text/plain" if text.is_none() => *text = Some(part.get_body().unwrap()),
            "text/html" if html.is_none() => *html = Some(part.get_body().unwrap()),
            _ => {}
        }
    }
    for sub in &part.subparts {
        collect(sub, text, html);
    }
}

/// Every message in `maildir` addressed to `address` (in `To`), oldest first.
pub fn messages_to(maildir: &Path, address: &str) -> Vec<Mail> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| (entry.metadata().and_then(|m| m.modified()).unwrap(), entry.path()))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, path)| read(&path))
        .filter(|mail| {
            mail.headers_named("To").iter().any(|to| to.to_ascii_lowercase().contains(&address.to_ascii_lowercase()))
        })
        .collect()
}

/// Wait (up to 10 s) until `maildir` holds at least `count` messages to `address`; return them.
pub async fn wait_for_messages_in(maildir: &Path, address: &str, count: usize) -> Vec<Mail> {
    for _ in 0..200 {
        let mail = messages_to(maildir, address);
        if mail.len() >= count {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} message(s) to {address} arrived in {}", maildir.display());
}

/// The PIN of the newest message to `address` in the sink's Maildir (waits for one to arrive).
pub async fn wait_for_pin(address: &str) -> String {
    let mail = wait_for_messages_in(&maildir(), address, 1).await;
    let newest = mail.last().unwrap();
    newest.pin().unwrap_or_else(|| panic!("no PIN in the mail to {address}: {:?}", newest.text))
}
