//! The conformance suite on the in-memory backends.

use sspr_core::memory::{MemoryContactStore, MemoryDirectory, MemoryStateStore};
use sspr_core::testing::{self, DirectoryFixture};
use sspr_core::{ManualClock, Password, UserId};

use crate::support::*;

#[tokio::test]
async fn memory_state_store_passes_the_conformance_suite() {
    let clock = ManualClock::new(START);
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(&MemoryStateStore::new(), &clock, wait).await;
}

#[tokio::test]
async fn memory_contact_store_passes_the_conformance_suite() {
    testing::contact_store_conformance(&MemoryContactStore::new(), &ManualClock::new(START)).await;
}

#[tokio::test]
async fn memory_directory_passes_the_conformance_suite() {
    let directory = MemoryDirectory::with_users(users()).unwrap();
    let fixture = DirectoryFixture {
        login: "Alice@Example.org".into(),
        id: UserId::new("uid=alice,ou=staff,dc=example,dc=org"),
        missing_login: "nobody@example.org".into(),
        good_password: Password::new("Tulip-Harbour-Engine-7"),
        weak_password: Some(Password::new("weak")),
    };
    testing::directory_conformance(&directory, &fixture).await;
}

#[tokio::test]
async fn memory_state_store_sweeps_what_expires() {
    use sspr_core::StateStore;
    let store = MemoryStateStore::new();
    let later = START + std::time::Duration::from_secs(60);
    for i in 0..1000 {
        store.put(&format!("k{i}"), b"v", None, later, START).await.unwrap();
    }
    store.put("long-lived", b"v", None, START + std::time::Duration::from_secs(3600), START).await.unwrap();
    assert_eq!(store.len(), 1001);
    // A write after the expiry removes the expired entries (in batches) without a full scan.
    store.put("trigger", b"v", None, later + std::time::Duration::from_secs(3600), later).await.unwrap();
    assert_eq!(store.len(), 2, "only the live entries remain");
}
