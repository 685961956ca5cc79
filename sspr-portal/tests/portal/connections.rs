//! The red-team review of the portal's connections (2026-12-08): how many connections one
//! address, or everyone together, may hold open, and the `/metrics` listener's timeouts.
//!
//! The file-descriptor attacks run the portal binary as a child process whose descriptor limit
//! is lowered (`ulimit -n` in the shell that starts it), never this test process's own.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::attacks::ended_within;

/// A request head without its blank line: the portal waits for the rest.
const HALF_HEAD: &[u8] = b"GET /passwordreset HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n";

/// The portal binary, started with `ulimit -n {nofile}` and `toml` as its configuration.
struct Child {
    process: std::process::Child,
    pages: SocketAddr,
    metrics: Option<SocketAddr>,
}

impl Child {
    async fn start(nofile: u32, toml: &str) -> Self {
        let dir = crate::support::temp_dir();
        let config = dir.join("portal.toml");
        std::fs::write(&config, toml).unwrap();
        let mut process = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_sspr-portal"))
            .args(["--config", config.to_str().unwrap(), "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.join("data"))
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = process.stdout.take().unwrap();
        let (found, addresses) = tokio::sync::oneshot::channel();
        // Read what it prints on a thread of its own, to the end (an unread pipe would block it).
        std::thread::spawn(move || {
            let address = |line: &str, prefix: &str| -> SocketAddr {
                line[prefix.len()..].trim_end_matches('/').trim_end_matches("/metrics").parse().unwrap()
            };
            let mut metrics = None;
            let mut found = Some(found);
            for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
                if line.starts_with("metrics on http://") {
                    metrics = Some(address(&line, "metrics on http://"));
                }
                if line.starts_with("listening on http://")
                    && let Some(found) = found.take()
                {
                    let _ = found.send((address(&line, "listening on http://"), metrics));
                }
            }
        });
        let (pages, metrics) =
            tokio::time::timeout(Duration::from_secs(60), addresses).await.expect("the portal starts").unwrap();
        Self { process, pages, metrics }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A connection from `from` (any address of 127/8: Linux loopback answers them all).
async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

/// A browser's `GET /passwordreset` from `from`: the answer's first line, or why there is none.
async fn browser_answer(from: &str, to: SocketAddr, within: Duration) -> Result<String, String> {
    let attempt = async {
        let mut stream = connect_from(from, to).await;
        stream
            .write_all(b"GET /passwordreset HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.map_err(|e| format!("read: {e}"))?;
        let answer = String::from_utf8_lossy(&answer).into_owned();
        Ok(answer.lines().next().unwrap_or("(closed without an answer)").to_owned())
    };
    tokio::time::timeout(within, attempt).await.unwrap_or_else(|_| Err(format!("no answer within {within:?}")))
}

const CHILD_CONFIG: &str = "[policy]\nmin_response_ms = 0\n[store]\nkind = \"memory\"\n";

/// One address opens more connections than the process has file descriptors, each holding a
/// request head it never finishes (the header timeout closes each after 15 s; the attacker
/// opens new ones faster). A user at another address must still get a page: the per-address
/// cap (`max_connections_per_ip`) leaves the process the room. Not watched failing on main at
/// this scale (the portal shed connections once out of descriptors): a guard of the cap.
#[tokio::test]
async fn one_address_holding_many_connections_does_not_lock_out_another() {
    let child = Child::start(256, CHILD_CONFIG).await;
    // Loopback's backlog holds the handshakes the portal has not accepted: each connect succeeds.
    let mut held = Vec::new();
    for _ in 0..400 {
        let mut stream = connect_from("127.0.0.1", child.pages).await;
        let _ = stream.write_all(HALF_HEAD).await;
        held.push(stream);
    }
    // Give the portal time to accept (or refuse) what it can.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answer = browser_answer("127.0.0.2", child.pages, Duration::from_secs(5)).await;
    assert_eq!(
        answer.as_deref(),
        Ok("HTTP/1.1 200 OK"),
        "a user at another address while one address holds 400 unfinished requests"
    );
    drop(held);
}

/// R.55: the `/metrics` listener ran `axum::serve`, which gives hyper no timer: a connection
/// that never finishes its request head stays open for as long as the client likes (and
/// enough of them use up the descriptors the pages need too).
#[tokio::test]
async fn the_metrics_listener_closes_a_connection_that_never_finishes_its_request() {
    let child = Child::start(1024, &format!("metrics_listen = \"127.0.0.1:0\"\n{CHILD_CONFIG}")).await;
    let metrics = child.metrics.expect("the portal prints its metrics address");
    let mut silent = connect_from("127.0.0.1", metrics).await;
    let mut half_head = connect_from("127.0.0.1", metrics).await;
    half_head.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    let within = sspr_portal::READ_TIMEOUT + Duration::from_secs(5);
    let (silent, half_head) = tokio::join!(ended_within(&mut silent, within), ended_within(&mut half_head, within));
    assert!(
        silent && half_head,
        "metrics: still open after {within:?}: nothing sent {}, a head without its end {}",
        !silent,
        !half_head
    );
    // The scraper is still answered.
    let mut scraper = connect_from("127.0.0.1", metrics).await;
    scraper.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    scraper.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
}

/// A portal served in this process on a free loopback port, with `toml` laid over the demo.
async fn served(toml: &str) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let portal = sspr_portal::Portal::build(&crate::support::config(&format!("{toml}\n{CHILD_CONFIG}"))).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    (address, tokio::spawn(async move { portal.serve(listener, std::future::pending()).await }))
}

/// Open `count` connections from `from`, each holding an unfinished request head.
async fn hold(from: &str, to: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..count {
        let mut stream = connect_from(from, to).await;
        stream.write_all(HALF_HEAD).await.unwrap();
        held.push(stream);
    }
    held
}

/// Whether every one of `streams` is still open after a moment.
async fn all_open(streams: &mut [TcpStream]) -> bool {
    for stream in streams {
        if ended_within(stream, Duration::from_millis(300)).await {
            return false;
        }
    }
    true
}

/// The caps: an address past `max_connections_per_ip`, and anyone past `max_connections`, is
/// closed at once (not left waiting in the backlog); the connections within the caps stay; a
/// connection that ends gives its place back.
#[tokio::test]
async fn connections_past_the_caps_are_closed_at_once_and_places_are_given_back() {
    let (address, server) = served("max_connections = 6\nmax_connections_per_ip = 4").await;
    let mut first = hold("127.0.0.1", address, 4).await;
    let mut fifth = connect_from("127.0.0.1", address).await;
    assert!(ended_within(&mut fifth, Duration::from_secs(2)).await, "a fifth connection from one address is closed");
    let mut second = hold("127.0.0.2", address, 2).await;
    let mut seventh = connect_from("127.0.0.3", address).await;
    assert!(ended_within(&mut seventh, Duration::from_secs(2)).await, "a seventh connection in all is closed");
    assert!(all_open(&mut first).await && all_open(&mut second).await, "the connections within the caps stay open");
    // One of the first address's ends: the address, and the whole, have a place again.
    drop(first.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(browser_answer("127.0.0.3", address, Duration::from_secs(5)).await.as_deref(), Ok("HTTP/1.1 200 OK"));
    server.abort();
}

/// Behind a reverse proxy every visitor's connection comes from the proxy's address: a peer
/// listed in `trusted_proxies` is not held to the per-address cap (only to `max_connections`).
#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_the_per_address_cap() {
    let (address, server) =
        served("trusted_proxies = [\"127.0.0.4\"]\nmax_connections = 20\nmax_connections_per_ip = 2").await;
    let mut proxied = hold("127.0.0.4", address, 10).await;
    assert!(all_open(&mut proxied).await, "the proxy's ten connections stay open");
    let mut others = hold("127.0.0.5", address, 3).await;
    assert!(!ended_within(&mut others[0], Duration::from_millis(300)).await);
    assert!(ended_within(&mut others[2], Duration::from_secs(2)).await, "another address's third is closed");
    server.abort();
}

/// R.56: a client that never reads its answers. Many requests pipelined in one write (HTTP/1.1
/// allows it), a receive window of a few KiB, and nothing read: the portal's writes wait on a
/// full socket, where no read timeout runs, and the connection (socket, task, buffers) is held
/// for as long as the client likes. It must be closed once its writes have stalled for
/// `READ_TIMEOUT`, with the answers not yet taken dropped.
#[tokio::test]
async fn a_client_that_never_reads_its_answers_is_closed() {
    const REQUESTS: usize = 3000;
    let (address, server) = served("").await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind("127.0.0.6:0".parse().unwrap()).unwrap();
    let stream = socket.connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let pipelined = b"GET /passwordreset HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(REQUESTS);
    // The portal stops reading while its writes wait: the client's own write may wait too.
    let sending = tokio::spawn(async move {
        let _ = writer.write_all(&pipelined).await;
        writer
    });
    tokio::time::sleep(sspr_portal::READ_TIMEOUT + Duration::from_secs(5)).await;
    // Now read: a connection the portal closed ends at once, with the answers it had sent.
    let mut answers = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answers.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    let served = answers.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
    assert!(
        read.is_ok() && served < REQUESTS,
        "a connection whose answers were not read for {:?}: {} answers of {REQUESTS} still given{}",
        sspr_portal::READ_TIMEOUT + Duration::from_secs(5),
        served,
        if read.is_err() { ", still open 10 s later" } else { "" }
    );
    sending.abort();
    server.abort();
}
