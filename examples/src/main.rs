//! Serves the embedding example's reset API on 127.0.0.1:8081 over in-memory backends.
//! Real deployments pass their directory, notifier and shared state store instead.

use std::net::SocketAddr;
use std::sync::Arc;

use sspr_core::memory::{MemoryDirectory, Outbox};
use sspr_core::{SecretKey, Sspr};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = SecretKey::from_hex(&std::env::var("SSPR_KEY_HEX")?)?;
    let sspr = Sspr::builder().directory(MemoryDirectory::new()).notifier(Outbox::new()).secret_key(key).build()?;
    let app = sspr_examples::reset_api(Arc::new(sspr));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
    Ok(())
}
