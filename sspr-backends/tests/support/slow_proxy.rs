//! A TCP proxy that holds every answer of a server for a while: a directory or a relay
//! slowed by load, or far away. The tests that a slow backend tells no login from another use it.

/// Listens on `host` (a free port, returned) and forwards to `target` (`host:port`), each
/// chunk the server sends delivered `delay` after the server sent it (latency: chunks sent
/// together arrive together, as on a long link); what the client sends passes at once.
pub(crate) async fn slow_proxy(host: &str, target: String, delay: std::time::Duration) -> u16 {
    let listener = tokio::net::TcpListener::bind((host, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&target).await else { continue };
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut client_read, &mut server_write).await });
            let (held, mut due) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n @ 1..) = server_read.read(&mut buf).await {
                    if held.send((tokio::time::Instant::now() + delay, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                while let Some((at, chunk)) = due.recv().await {
                    tokio::time::sleep_until(at).await;
                    if client_write.write_all(&chunk).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}
