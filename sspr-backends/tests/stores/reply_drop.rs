//! A TCP proxy in front of a store server that, when armed, lets the k-th request from now
//! reach the server and then cuts that connection before the reply comes back: the server did
//! the work, the client saw the connection drop. This is the failure a store outage, a
//! failover or a proxy reset causes mid-call, and the one a client cannot tell from a failure
//! before the work.
#![allow(unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The proxy: `port` is where clients connect.
pub struct ReplyDrop {
    pub port: u16,
    /// Requests (client writes) until the one whose reply is dropped; 0 or less: off.
    countdown: Arc<AtomicI64>,
    /// Replies to drop after the first.
    more: Arc<AtomicI64>,
    /// Replies dropped so far.
    dropped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ReplyDrop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ReplyDrop {
    /// Start a proxy to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (countdown, dropped) = (Arc::new(AtomicI64::new(0)), Arc::new(AtomicU64::new(0)));
        let more = Arc::new(AtomicI64::new(0));
        let (c, m, d) = (countdown.clone(), more.clone(), dropped.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                tokio::spawn(pump(client, server, c.clone(), m.clone(), d.clone()));
            }
        });
        ReplyDrop { port, countdown, more, dropped, task }
    }

    /// Drop the reply to the `k`-th request from now (1 = the next one) and to the `more`
    /// requests after it (each on the connection the client makes again).
    pub fn arm(&self, k: i64, more: i64) {
        self.more.store(more, Ordering::SeqCst);
        self.countdown.store(k, Ordering::SeqCst);
    }

    /// Stop dropping.
    pub fn disarm(&self) {
        self.countdown.store(0, Ordering::SeqCst);
        self.more.store(0, Ordering::SeqCst);
    }

    /// Replies dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::SeqCst)
    }
}

async fn pump(
    client: TcpStream,
    server: TcpStream,
    countdown: Arc<AtomicI64>,
    more: Arc<AtomicI64>,
    dropped: Arc<AtomicU64>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let doomed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let doom = doomed.clone();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            // Count this request down; the one that reaches 0 is sent, its reply dropped.
            let before = countdown.load(Ordering::SeqCst);
            if before > 0 && countdown.fetch_sub(1, Ordering::SeqCst) == 1 {
                doom.store(true, Ordering::SeqCst);
                // The next request (on the connection made again) is doomed too.
                if more.fetch_sub(1, Ordering::SeqCst) > 0 {
                    countdown.store(1, Ordering::SeqCst);
                }
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match server_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if doomed.load(Ordering::SeqCst) {
            // The server answered the doomed request: cut the client off without it.
            dropped.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    up.abort();
}
