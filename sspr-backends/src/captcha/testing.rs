//! A local stand-in of a provider's `siteverify`, for tests only: the
//! real endpoints cannot be reached from sspr's test machines, and every test of a bot
//! challenge (this crate's verifiers, the portal's page) needs the same one.
//!
//! It speaks the providers' documented shape: a form (`secret`, `response`, `remoteip`, and
//! `sitekey` for hCaptcha) in, `{"success", "hostname", "error-codes"}` out. By default
//! [`GOOD_TOKEN`] passes for `reset.example.org` and any other token is
//! `invalid-input-response`; [`StandIn::answer`] fixes another answer (a status, a body),
//! [`StandIn::delay`] makes it slow. A bare HTTP/1.1 server on 127.0.0.1 (one request per
//! connection), nothing a deployment should run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The one token the default answer passes.
pub const GOOD_TOKEN: &str = "stand-in-good-token";
/// The hostname the default answer says a passed token was solved on.
pub const HOSTNAME: &str = "reset.example.org";
/// The largest request read (a siteverify form is a few hundred bytes).
const MAX_REQUEST: usize = 64 * 1024;

#[derive(Default)]
struct Shared {
    forms: Vec<HashMap<String, String>>,
    fixed: Option<(u16, String)>,
    delay: Duration,
}

/// A running stand-in; it serves until the runtime it was started on ends.
#[derive(Clone)]
pub struct StandIn {
    url: String,
    shared: Arc<Mutex<Shared>>,
}

impl std::fmt::Debug for StandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn").field("url", &self.url).finish_non_exhaustive()
    }
}

impl StandIn {
    /// Listen on a free port of 127.0.0.1 (on the current tokio runtime).
    ///
    /// # Errors
    ///
    /// The listener's error.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/siteverify", listener.local_addr()?);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let served = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, served.clone()));
            }
        });
        Ok(Self { url, shared })
    }

    /// The `verify_url` to configure.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answer every request with `status` and `body` from now on (a refusal, a 503, garbage).
    pub fn answer(&self, status: u16, body: impl Into<String>) {
        self.lock().fixed = Some((status, body.into()));
    }

    /// Wait this long before answering (a slow provider).
    pub fn delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// The forms received so far, oldest first.
    pub fn forms(&self) -> Vec<HashMap<String, String>> {
        self.lock().forms.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn serve(mut stream: TcpStream, shared: Arc<Mutex<Shared>>) {
    let Some(body) = read_body(&mut stream).await else { return };
    let form = decode_form(&body);
    let good = form.get("response").map(String::as_str) == Some(GOOD_TOKEN);
    let (fixed, delay) = {
        let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.forms.push(form);
        (shared.fixed.clone(), shared.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (status, body) = fixed.unwrap_or_else(|| {
        let body = if good {
            format!(r#"{{"success": true, "hostname": "{HOSTNAME}", "error-codes": []}}"#)
        } else {
            r#"{"success": false, "error-codes": ["invalid-input-response"]}"#.to_owned()
        };
        (200, body)
    });
    let head = format!(
        "HTTP/1.1 {status} Stand-in\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // A client that went away needs no answer.
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The request's body (by its `Content-Length`), or `None` for a request that cannot be read.
async fn read_body(stream: &mut TcpStream) -> Option<String> {
    let mut request = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .get(..end)?
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            let body = request.get(end + 4..).unwrap_or_default();
            if body.len() >= length {
                return Some(String::from_utf8_lossy(body.get(..length)?).into_owned());
            }
        }
        if request.len() > MAX_REQUEST {
            return None;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        request.extend_from_slice(chunk.get(..read)?);
    }
}

/// An `application/x-www-form-urlencoded` body as its fields.
fn decode_form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let value = std::str::from_utf8(&hex).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match value {
                    Some(v) => out.push(v),
                    None => {
                        out.push(b'%');
                        out.extend_from_slice(&hex);
                    }
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_form_is_decoded_as_browsers_and_reqwest_encode_it() {
        let form = super::decode_form("secret=0x%2Fs+3&response=a%3Db&remoteip=192.0.2.7&bad=%zz&empty");
        assert_eq!(form.get("secret").map(String::as_str), Some("0x/s 3"));
        assert_eq!(form.get("response").map(String::as_str), Some("a=b"));
        assert_eq!(form.get("bad").map(String::as_str), Some("%zz"));
        assert_eq!(form.get("empty").map(String::as_str), Some(""));
    }
}
