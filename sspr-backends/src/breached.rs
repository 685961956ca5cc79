//! The breached-password check by k-anonymity (feature `breached`): a chosen password is
//! refused when its SHA-1 is in a list of passwords seen in data breaches.
//!
//! Only the first 5 hex digits of the SHA-1 leave this host: `GET {endpoint}/range/{PREFIX}`
//! answers every known suffix under that prefix as `SUFFIX:COUNT` lines (the shape of Have I
//! Been Pwned's Pwned Passwords range API), padded with entries of count 0 so the answer's
//! size says nothing about the prefix ("Add-Padding: true"); padding is ignored. The suffix
//! is compared here. Offline, the same data is read from local files:
//! - a **directory** of range files, `{PREFIX}.txt` each holding exactly what the range
//!   API answers for that prefix (how the published downloader writes the whole corpus);
//! - a **file** of `HASH:COUNT` lines with full 40-digit hashes (a small list, 1 GiB at
//!   most: it is read from start to end on each check, so the whole corpus
//!   belongs in the directory form).
//!
//! A service that does not answer within `timeout_ms`, answers 429/5xx, or answers a success
//! that holds no `SUFFIX:COUNT` line (no range list at all), is `Unavailable`:
//! the engine then refuses the password (fails closed) unless the policy's
//! `password_check_fail_open` is on.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{Client, Url};
use serde::Deserialize;
use sha1::{Digest, Sha1};
use sspr_core::backend::{PasswordCandidate, PasswordChecker, PasswordFeedback};
use sspr_core::{BackendError, BackendErrorKind, PasswordRefusal};
use zeroize::Zeroizing;

/// The most of a range answer read: the real ones are 30-40 KB (about 1,000 padded lines of
/// 40 bytes).
const MAX_RANGE_BYTES: usize = 1 << 20;

/// The largest single file of `HASH:COUNT` lines accepted: it is read whole on each check
/// (1 GiB is some 24 million hashes, read in about a second).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// The public range service (unreachable from sspr's test machines; the tests use a stand-in).
pub const DEFAULT_ENDPOINT: &str = "https://api.pwnedpasswords.com";

/// How the breached-password check is configured (`[password_checks.breached]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachedConfig {
    /// The range service's base URL, without `/range/` (`{endpoint}/range/{PREFIX}` is
    /// asked). Default [`DEFAULT_ENDPOINT`]. Ignored when `offline_path` is set.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Read local range files instead of asking a service: a directory of `{PREFIX}.txt`
    /// range files, or one file of `HASH:COUNT` lines.
    #[serde(default)]
    pub offline_path: Option<PathBuf>,
    /// How long the service may take, in milliseconds. Default 2000, range 100..=30000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Refuse a password seen in at least this many breaches. Default 1.
    #[serde(default = "default_min_count")]
    pub min_count: u64,
    /// A CA file (PEM) to verify the service with, instead of the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Allow plain `http://` to a host other than loopback (a range mirror inside a trusted
    /// network). Default off: https, or http to loopback only.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

fn default_timeout_ms() -> u64 {
    2000
}

fn default_min_count() -> u64 {
    1
}

impl Default for BreachedConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            offline_path: None,
            timeout_ms: default_timeout_ms(),
            min_count: default_min_count(),
            ca_file: None,
            allow_insecure_http: false,
        }
    }
}

/// Where the breached hashes come from.
#[derive(Debug)]
enum Source {
    Service { client: Client, base: Url },
    Directory(PathBuf),
    File(PathBuf),
}

/// The breached-password [`PasswordChecker`] (see the module documentation).
#[derive(Debug)]
pub struct BreachedPasswords {
    source: Source,
    min_count: u64,
}

fn config_error(message: impl Into<String>) -> BackendError {
    BackendError::new(BackendErrorKind::Rejected, message)
}

impl BreachedPasswords {
    /// Set the check up: an HTTP client for the service, or the offline path checked to
    /// exist.
    ///
    /// # Errors
    ///
    /// `Rejected` for a bad URL or one that already names the `/range` path, a plain-http
    /// endpoint off loopback, a timeout out of range,
    /// a missing offline path, an offline directory holding no range file, an offline file
    /// over 1 GiB, or an unreadable CA file.
    pub fn new(config: &BreachedConfig) -> Result<Self, BackendError> {
        if !(100..=30_000).contains(&config.timeout_ms) {
            return Err(config_error("timeout_ms must be within 100..=30000"));
        }
        let source = match &config.offline_path {
            Some(path) if path.is_dir() => {
                // A missing prefix file reads as "nothing breached there": a directory with no
                // range file at all (the corpus's parent, a download not yet run) would pass
                // every password without a word.
                if !holds_a_range_file(path) {
                    return Err(config_error(format!(
                        "the breached-password directory {} holds no range file ({{PREFIX}}.txt, \
                         e.g. 5BAA6.txt): give the directory the downloader wrote",
                        path.display()
                    )));
                }
                Source::Directory(path.clone())
            }
            Some(path) if path.is_file() => {
                // Read whole on each check: the whole corpus in one file (tens of GB) would
                // outlast every timeout, and each check would leave a thread reading it.
                let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                if size > MAX_FILE_BYTES {
                    return Err(config_error(format!(
                        "the breached-password file {} is {size} bytes, and a file is read whole on each check \
                         (at most {MAX_FILE_BYTES}): give the directory of range files instead \
                         ({{PREFIX}}.txt, as the downloader writes them when not asked for one file)",
                        path.display()
                    )));
                }
                Source::File(path.clone())
            }
            Some(path) => {
                return Err(config_error(format!("the breached-password path {} does not exist", path.display())));
            }
            None => {
                let text = config.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
                let base = Url::parse(text.trim_end_matches('/'))
                    .map_err(|e| config_error(format!("the breached-password endpoint is not a URL: {e}")))?;
                crate::http::check_transport(&base, config.allow_insecure_http, "breached-password endpoint")?;
                // `/range/{PREFIX}` is added here: an endpoint copied with it asks
                // `/range/range/...`, which fails every check at run time, not at start.
                if base.path_segments().is_some_and(|mut parts| parts.any(|p| p.eq_ignore_ascii_case("range"))) {
                    return Err(config_error(format!(
                        "the breached-password endpoint is the service's base URL (e.g. {DEFAULT_ENDPOINT}), \
                         without /range/: sspr adds /range/{{PREFIX}}"
                    )));
                }
                let timeout = Duration::from_millis(config.timeout_ms);
                let client = crate::http::client(config.ca_file.as_deref(), timeout, crate::http::is_loopback(&base))?;
                Source::Service { client, base }
            }
        };
        Ok(Self { source, min_count: config.min_count.max(1) })
    }

    /// How many breaches `password` was seen in (0: none), by the configured source.
    ///
    /// # Errors
    ///
    /// `Unavailable` when the service does not answer in time, cannot be reached, answers
    /// 429/5xx or a text that is no range list, or a range file cannot be read or is no range
    /// list; `Rejected` for another answer.
    pub async fn count(&self, password: &str) -> Result<u64, BackendError> {
        let hex = Zeroizing::new(sha1_hex(password));
        let (prefix, suffix) = hex.split_at(5);
        match &self.source {
            Source::Service { client, base } => {
                let body = fetch_range(client, base, prefix).await?;
                range_count(&body, suffix, "the breached-password service's answer")
            }
            Source::Directory(dir) => {
                let path = dir.join(format!("{prefix}.txt"));
                let suffix = suffix.to_owned();
                blocking(move || match std::fs::read_to_string(&path) {
                    Ok(body) => range_count(&body, &suffix, "the range file"),
                    // A prefix without a file: nothing breached under it.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
                    Err(e) => Err(read_error(e)),
                })
                .await
            }
            Source::File(path) => {
                let path = path.clone();
                let full = hex.to_string();
                blocking(move || count_in_file(&path, &full)).await
            }
        }
    }
}

/// Whether `dir` holds at least one range file, `{5 hex digits}.txt` (the first one found
/// ends the listing: the whole corpus is a million files).
fn holds_a_range_file(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.filter_map(Result::ok).any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.strip_suffix(".txt")
            .is_some_and(|prefix| prefix.len() == 5 && prefix.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

/// SHA-1 of `password`, 40 upper-case hex digits (the range API's case).
fn sha1_hex(password: &str) -> String {
    let digest = Sha1::digest(password.as_bytes());
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// The count of `suffix` in a range answer; padding entries (count 0) and lines that are not
/// `SUFFIX:COUNT` are ignored. `None` when no line is: then the text is no range list at all
/// (a proxy's page, an error in JSON, an empty answer), never "not breached": every prefix
/// of the real corpus has hundreds of suffixes.
fn count_in_range(body: &str, suffix: &str) -> Option<u64> {
    let mut entries = body.lines().filter_map(|line| {
        let (s, count) = line.trim().split_once(':')?;
        let count = count.trim();
        let well_formed = s.len() == 35
            && s.bytes().all(|b| b.is_ascii_hexdigit())
            && !count.is_empty()
            && count.bytes().all(|b| b.is_ascii_digit());
        // Digits beyond u64 are still a count: the most there can be.
        well_formed.then(|| (s, count.parse::<u64>().unwrap_or(u64::MAX)))
    });
    let (first_suffix, first_count) = entries.next()?;
    let mut found = if first_suffix.eq_ignore_ascii_case(suffix) { first_count } else { 0 };
    for (s, count) in entries {
        if s.eq_ignore_ascii_case(suffix) {
            found = found.max(count);
        }
    }
    Some(found)
}

/// A range answer's or file's count, or `Unavailable` for a text that is no range list.
fn range_count(body: &str, suffix: &str, what: &str) -> Result<u64, BackendError> {
    count_in_range(body, suffix).ok_or_else(|| {
        BackendError::new(BackendErrorKind::Unavailable, format!("{what} is not a range list (no SUFFIX:COUNT line)"))
    })
}

/// The count of a full hash in a file of `HASH:COUNT` lines.
fn count_in_file(path: &Path, hash: &str) -> Result<u64, BackendError> {
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut count = 0;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(read_error)?;
        if let Some((h, n)) = line.trim().split_once(':')
            && h.len() == 40
            && h.eq_ignore_ascii_case(hash)
        {
            count = count.max(n.trim().parse::<u64>().unwrap_or(0));
        }
    }
    Ok(count)
}

fn read_error(e: std::io::Error) -> BackendError {
    BackendError::new(BackendErrorKind::Unavailable, "the breached-password file could not be read").with_source(e)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BackendError> + Send + 'static,
) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| BackendError::new(BackendErrorKind::Unavailable, "the breached-password file could not be read"))?
}

async fn fetch_range(client: &Client, base: &Url, prefix: &str) -> Result<String, BackendError> {
    let url = format!("{}/range/{prefix}", base.as_str().trim_end_matches('/'));
    let response = client.get(&url).header("Add-Padding", "true").send().await.map_err(|e| {
        let e = e.without_url();
        let (kind, message) = if e.is_timeout() {
            (BackendErrorKind::Unavailable, "the breached-password service did not answer in time")
        } else if e.is_builder() {
            (BackendErrorKind::Rejected, "the breached-password request could not be made")
        } else {
            (BackendErrorKind::Unavailable, "the breached-password service could not be reached")
        };
        BackendError::new(kind, message).with_source(e)
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(BackendError::new(
            crate::http::status_kind(status),
            format!("the breached-password service answered {}", status.as_u16()),
        ));
    }
    match crate::http::body_within(response, MAX_RANGE_BYTES).await {
        Ok(body) => Ok(String::from_utf8_lossy(&body).into_owned()),
        Err(crate::http::BodyError::TooLarge) => Err(BackendError::new(
            BackendErrorKind::Unavailable,
            format!("the breached-password service answered more than {MAX_RANGE_BYTES} bytes"),
        )),
        Err(crate::http::BodyError::Transport(e)) => {
            let kind = if e.is_timeout() { "did not answer in time" } else { "broke off its answer" };
            Err(BackendError::new(BackendErrorKind::Unavailable, format!("the breached-password service {kind}"))
                .with_source(e.without_url()))
        }
    }
}

#[sspr_core::async_trait]
impl PasswordChecker for BreachedPasswords {
    async fn check(&self, candidate: &PasswordCandidate<'_>) -> Result<Option<PasswordFeedback>, BackendError> {
        let count = self.count(candidate.password.expose_secret()).await?;
        Ok((count >= self.min_count).then(|| PasswordFeedback {
            refusal: PasswordRefusal::Breached,
            reason: "it appears in a list of passwords leaked in data breaches, which attackers try first".into(),
            suggestions: vec!["Choose a password you have never used on any other site.".into()],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_upper_case_hex_of_the_utf8() {
        // The range API's own example: "password" -> 5BAA6 1E4C9B93F3F0682250B6CF8331B7EE68FD8.
        assert_eq!(sha1_hex("password"), "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }

    #[test]
    fn padding_and_other_suffixes_do_not_count() {
        let body = "1E4C9B93F3F0682250B6CF8331B7EE68FD8:0\r\n0018A45C4D1DEF81644B54AB7F969B88D65:3\r\n";
        assert_eq!(count_in_range(body, "1E4C9B93F3F0682250B6CF8331B7EE68FD8"), Some(0));
        assert_eq!(count_in_range(body, "0018a45c4d1def81644b54ab7f969b88d65"), Some(3));
        assert_eq!(count_in_range(&format!("garbage\nX:Y\n{body}"), "0018A45C4D1DEF81644B54AB7F969B88D65"), Some(3));
        // No SUFFIX:COUNT line at all: not a range list, not "not breached".
        assert_eq!(count_in_range("garbage\nX:Y\n", "0018A45C4D1DEF81644B54AB7F969B88D65"), None);
        assert_eq!(count_in_range("", "0018A45C4D1DEF81644B54AB7F969B88D65"), None);
        // A count past u64 is the most there can be, not a line to skip.
        let huge = "0018A45C4D1DEF81644B54AB7F969B88D65:99999999999999999999999\n";
        assert_eq!(count_in_range(huge, "0018A45C4D1DEF81644B54AB7F969B88D65"), Some(u64::MAX));
    }
}
