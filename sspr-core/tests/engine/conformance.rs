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
        groups: vec!["cn=Staff, ou=groups, dc=example, dc=org".into(), "staff".into()],
    };
    testing::directory_conformance(&directory, &fixture).await;
    testing::directory_change_conformance(&directory, &fixture).await;
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

use sspr_core::backend::{Batch, BatchOutcome, Counter, StoredValue};
use sspr_core::time::OffsetDateTime;
use sspr_core::{BackendError, StateStore};

/// A store that overrides nothing else: it runs the trait's default `apply`.
#[derive(Debug)]
struct Basic(MemoryStateStore);

#[sspr_core::async_trait]
impl StateStore for Basic {
    // The four basic operations, forwarded.
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.0.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.0.put(key, value, expected_version, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.0.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.0.delete(key).await
    }
}

/// A store whose `apply` counts before its compare-and-set: broken on purpose.
#[derive(Debug)]
struct Eager(MemoryStateStore);

#[sspr_core::async_trait]
impl StateStore for Eager {
    // The four basic operations, forwarded.
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.0.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.0.put(key, value, expected_version, expires_at, now).await
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.0.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.0.delete(key).await
    }

    async fn apply(&self, batch: &Batch<'_>, now: OffsetDateTime) -> Result<BatchOutcome, BackendError> {
        let counters = self.0.increment_many(&batch.increments, now).await?;
        let mut out = self.0.apply(&Batch { increments: Vec::new(), ..batch.clone() }, now).await?;
        if out.applied {
            out.counters = counters;
        }
        Ok(out)
    }
}

#[tokio::test]
async fn the_default_batch_passes_the_conformance_suite() {
    let clock = ManualClock::new(START);
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(&Basic(MemoryStateStore::new()), &clock, wait).await;
}

#[tokio::test]
#[should_panic(expected = "a failed batch must not count")]
async fn a_batch_that_counts_before_its_compare_and_set_fails_the_conformance_suite() {
    let clock = ManualClock::new(START);
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(&Eager(MemoryStateStore::new()), &clock, wait).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_sharing_a_memory_store_race_with_one_winner() {
    testing::two_engine_races(std::sync::Arc::new(MemoryStateStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_sharing_a_store_with_the_default_batch_race_with_one_winner() {
    testing::two_engine_races(std::sync::Arc::new(Basic(MemoryStateStore::new()))).await;
}

/// A store that lets other requests run at every call (as a network does) and whose `put`
/// ignores the version: broken on purpose, to show the race above can fail.
#[derive(Debug)]
struct NoCompare(MemoryStateStore);

#[sspr_core::async_trait]
impl StateStore for NoCompare {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        tokio::task::yield_now().await;
        self.0.get(key, now).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        tokio::task::yield_now().await;
        let live = self.0.get(key, now).await?.map(|v| v.version);
        let expected = if expected_version.is_some() { live } else { expected_version };
        let written = self.0.put(key, value, expected, expires_at, now).await?;
        Ok(written.or(live.map(|v| v + 1)))
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        tokio::task::yield_now().await;
        self.0.increment(key, expires_at, now).await
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        tokio::task::yield_now().await;
        self.0.delete(key).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "exactly one of the right PINs racing through two engines must verify")]
async fn two_engines_on_a_store_without_compare_and_set_both_win() {
    testing::two_engine_races(std::sync::Arc::new(NoCompare(MemoryStateStore::new()))).await;
}

/// What a [`Bent`] store gets wrong: the mistakes a busy developer makes writing a store over
/// a cache, a column or a TTL, each of which the suite must fail.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Keeps at most this many entries and drops the least recently written (an LRU cache,
    /// Django's LocMemCache at `MAX_ENTRIES`).
    Evicts(usize),
    /// Cuts keys to this many bytes (a `VARCHAR(64)` column).
    CutsKeys(usize),
    /// Compares keys case-insensitively (MySQL's default collation).
    FoldsCase,
    /// Loses a value's trailing NUL bytes (a C string).
    StripsNul,
    /// Judges expiry by `now` but lets its server drop entries after the seconds they have to
    /// live taken as milliseconds (`PEXPIRE` given seconds, a `setTimeout`).
    TtlInMilliseconds,
}

/// The in-memory store with one [`Fault`].
#[derive(Debug)]
struct Bent {
    inner: MemoryStateStore,
    fault: Fault,
    /// Keys in the order written (for `Evicts`), and when the server drops each (`TtlInMilliseconds`).
    written: std::sync::Mutex<Vec<(String, sspr_core::time::Duration, tokio::time::Instant)>>,
}

impl Bent {
    fn new(fault: Fault) -> Self {
        Self { inner: MemoryStateStore::new(), fault, written: std::sync::Mutex::new(Vec::new()) }
    }

    fn key(&self, key: &str) -> String {
        match self.fault {
            Fault::CutsKeys(n) => key.chars().take(n).collect(),
            Fault::FoldsCase => key.to_lowercase(),
            _ => key.to_owned(),
        }
    }

    /// Note a write of `key` to live `ttl`; drop what the fault drops.
    async fn wrote(&self, key: &str, ttl: sspr_core::time::Duration) {
        let dropped: Vec<String> = {
            let mut written = self.written.lock().unwrap();
            written.retain(|(k, ..)| k != key);
            written.push((key.to_owned(), ttl, tokio::time::Instant::now()));
            match self.fault {
                Fault::Evicts(capacity) if written.len() > capacity => {
                    let over = written.len() - capacity;
                    written.drain(..over).map(|(k, ..)| k).collect()
                }
                _ => Vec::new(),
            }
        };
        for key in dropped {
            self.inner.delete(&key).await.unwrap();
        }
    }

    /// Drop what the server's clock has expired.
    async fn reap(&self) {
        if !matches!(self.fault, Fault::TtlInMilliseconds) {
            return;
        }
        let now = tokio::time::Instant::now();
        let gone: Vec<String> = {
            let mut written = self.written.lock().unwrap();
            let (gone, kept): (Vec<_>, Vec<_>) = written.drain(..).partition(|(_, ttl, at)| {
                *at + std::time::Duration::from_secs_f64(ttl.as_seconds_f64() / 1000.0) <= now
            });
            *written = kept;
            gone.into_iter().map(|(k, ..)| k).collect()
        };
        for key in gone {
            self.inner.delete(&key).await.unwrap();
        }
    }
}

#[sspr_core::async_trait]
impl StateStore for Bent {
    async fn get(&self, key: &str, now: OffsetDateTime) -> Result<Option<StoredValue>, BackendError> {
        self.reap().await;
        let mut got = self.inner.get(&self.key(key), now).await?;
        if let (Fault::StripsNul, Some(v)) = (self.fault, got.as_mut()) {
            while v.value.last() == Some(&0) {
                v.value.pop();
            }
        }
        Ok(got)
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expected_version: Option<u64>,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, BackendError> {
        self.reap().await;
        let key = self.key(key);
        let version = self.inner.put(&key, value, expected_version, expires_at, now).await?;
        if version.is_some() {
            self.wrote(&key, expires_at - now).await;
        }
        Ok(version)
    }
    async fn increment(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Counter, BackendError> {
        self.reap().await;
        let key = self.key(key);
        let counter = self.inner.increment(&key, expires_at, now).await?;
        if counter.count == 1 {
            self.wrote(&key, counter.expires_at - now).await;
        }
        Ok(counter)
    }
    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.delete(&self.key(key)).await
    }
}

/// The suite on a manual clock, then its real-time check on tokio's (paused) clock.
async fn check(store: &dyn StateStore) {
    let clock = ManualClock::new(START);
    let wait = |d| {
        clock.advance(d);
        std::future::ready(())
    };
    testing::state_store_conformance(store, &clock, wait).await;
    testing::state_store_clock_conformance(store, &clock, tokio::time::sleep).await;
}

#[tokio::test(start_paused = true)]
async fn the_in_memory_store_keeps_time_by_its_own_clock_too() {
    check(&MemoryStateStore::new()).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "a store must keep every live value")]
async fn a_cache_that_evicts_fails_the_conformance_suite() {
    check(&Bent::new(Fault::Evicts(1000))).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "keys must not be cut")]
async fn a_store_that_cuts_keys_fails_the_conformance_suite() {
    check(&Bent::new(Fault::CutsKeys(64))).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "keys must be compared byte for byte")]
async fn a_store_that_folds_the_case_of_keys_fails_the_conformance_suite() {
    check(&Bent::new(Fault::FoldsCase)).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "leading and trailing NUL and white space included")]
async fn a_store_that_loses_trailing_nul_bytes_fails_the_conformance_suite() {
    check(&Bent::new(Fault::StripsNul)).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "a TTL given in seconds where milliseconds are taken")]
async fn a_store_whose_server_ttl_is_in_milliseconds_fails_the_conformance_suite() {
    check(&Bent::new(Fault::TtlInMilliseconds)).await;
}

/// A directory that lists only the groups naming the user directly: one dropping nested
/// groups (or `uniqueMember` ones) lets the admins inside them reset by self-service.
#[derive(Debug)]
struct DirectGroupsOnly(MemoryDirectory);

#[sspr_core::async_trait]
impl sspr_core::Directory for DirectGroupsOnly {
    async fn find_user(
        &self,
        login: &sspr_core::NormalizedLogin,
    ) -> Result<Option<sspr_core::backend::DirectoryUser>, BackendError> {
        let found = self.0.find_user(login).await?;
        Ok(found.map(|mut user| {
            user.groups.retain(|g| !g.to_ascii_lowercase().starts_with("cn=tier0"));
            user
        }))
    }
    async fn set_password(&self, user: &UserId, password: &Password, must_change: bool) -> Result<(), BackendError> {
        self.0.set_password(user, password, must_change).await
    }
    async fn unlock(&self, user: &UserId) -> Result<(), BackendError> {
        self.0.unlock(user).await
    }
    async fn authenticate(
        &self,
        user: &UserId,
        password: &Password,
    ) -> Result<sspr_core::Authentication, BackendError> {
        self.0.authenticate(user, password).await
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<sspr_core::backend::DirectoryUser>, BackendError> {
        self.0.search(query, limit).await
    }
}

fn nested_admin() -> (MemoryDirectory, DirectoryFixture) {
    let mut users = users();
    // Alice, as a directory that follows nesting lists her: her own group and the one it is in.
    users[0].groups.push("cn=tier0,ou=groups,dc=example,dc=org".into());
    let fixture = DirectoryFixture {
        login: "alice@example.org".into(),
        id: UserId::new("uid=alice,ou=staff,dc=example,dc=org"),
        missing_login: "nobody@example.org".into(),
        good_password: Password::new("Tulip-Harbour-Engine-7"),
        weak_password: None,
        groups: vec!["cn=tier0,ou=groups,dc=example,dc=org".into()],
    };
    (MemoryDirectory::with_users(users).unwrap(), fixture)
}

#[tokio::test]
async fn a_directory_listing_every_group_of_the_fixture_passes() {
    let (directory, fixture) = nested_admin();
    testing::directory_conformance(&directory, &fixture).await;
}

#[tokio::test]
#[should_panic(expected = "find_user must list every group of the user, nested ones too")]
async fn a_directory_that_drops_nested_groups_fails_the_conformance_suite() {
    let (directory, fixture) = nested_admin();
    testing::directory_conformance(&DirectGroupsOnly(directory), &fixture).await;
}

mod notifiers {
    use std::sync::Mutex;

    use sspr_core::memory::Outbox;
    use sspr_core::notice::{Message, Notification};
    use sspr_core::testing::{Inbox, NotifierFixture, notifier_conformance};
    use sspr_core::{BackendError, BackendErrorKind, Destination, EmailAddress, Notifier, PhoneNumber, Pin};

    /// What the outbox's recipients read: each notice's subject and text.
    struct OutboxInbox(Outbox);

    #[sspr_core::async_trait]
    impl Inbox for OutboxInbox {
        async fn read(&self, to: &Destination) -> Result<Vec<String>, BackendError> {
            let text = |n: Notification| {
                let rendered = n.render();
                format!("{}\n{}", rendered.subject, rendered.body.as_str())
            };
            Ok(self.0.messages_to(to.as_str()).into_iter().map(text).collect())
        }
    }

    fn email(address: &str) -> Destination {
        Destination::Email(EmailAddress::parse(address).unwrap())
    }

    fn both_channels() -> NotifierFixture {
        NotifierFixture {
            destinations: vec![
                email("jane@home.example"),
                email("joe@home.example"),
                Destination::Sms(PhoneNumber::parse("+447400900123").unwrap()),
            ],
        }
    }

    async fn check(notifier: &dyn Notifier, outbox: &Outbox, fixture: &NotifierFixture) {
        let inbox = OutboxInbox(outbox.clone());
        notifier_conformance(notifier, fixture, Some(&inbox), |_| std::future::ready(())).await;
    }

    #[tokio::test]
    async fn the_outbox_passes_the_notifier_suite() {
        let outbox = Outbox::new();
        check(&outbox, &outbox, &both_channels()).await;
    }

    #[tokio::test]
    #[should_panic(expected = "a channel the notifier does not serve must be refused as Rejected (sms was accepted")]
    async fn a_notifier_that_accepts_texts_it_cannot_send_fails() {
        // The outbox accepts every channel: with a fixture serving e-mail only, it is an
        // e-mail notifier that answers Ok to a text message nobody will get.
        let outbox = Outbox::new();
        let fixture = NotifierFixture { destinations: vec![email("jane@home.example")] };
        check(&outbox, &outbox, &fixture).await;
    }

    /// How a notifier is broken.
    #[derive(Debug)]
    enum Fault {
        /// Sends every notice twice (a retry of what the relay had accepted).
        Twice,
        /// Fails every notice but PINs (it reads the PIN of each).
        PinsOnly,
        /// Keeps the PIN being sent in one slot shared by concurrent sends.
        SharedSlot(Mutex<Option<Pin>>),
    }

    #[derive(Debug)]
    struct Broken(Outbox, Fault);

    #[sspr_core::async_trait]
    impl Notifier for Broken {
        async fn send(&self, notification: &Notification) -> Result<(), BackendError> {
            match &self.1 {
                Fault::Twice => {
                    self.0.send(notification).await?;
                    self.0.send(notification).await
                }
                Fault::PinsOnly => match notification.pin() {
                    Some(_) => self.0.send(notification).await,
                    None => Err(BackendError::new(BackendErrorKind::Unavailable, "no pin")),
                },
                Fault::SharedSlot(slot) => {
                    let Some(pin) = notification.pin() else { return self.0.send(notification).await };
                    *slot.lock().unwrap() = Some(pin.clone());
                    tokio::task::yield_now().await;
                    let mut sent = notification.clone();
                    if let Message::Pin { pin, .. } = &mut sent.message {
                        *pin = slot.lock().unwrap().clone().unwrap();
                    }
                    self.0.send(&sent).await
                }
            }
        }
    }

    #[tokio::test]
    #[should_panic(expected = "each notice must arrive once")]
    async fn a_notifier_that_sends_twice_fails() {
        let outbox = Outbox::new();
        check(&Broken(outbox.clone(), Fault::Twice), &outbox, &both_channels()).await;
    }

    #[tokio::test]
    #[should_panic(expected = "the notifier must accept every notice the engine sends")]
    async fn a_notifier_that_sends_only_pins_fails() {
        let outbox = Outbox::new();
        check(&Broken(outbox.clone(), Fault::PinsOnly), &outbox, &both_channels()).await;
    }

    #[tokio::test]
    #[should_panic(expected = "a notifier must never mix up its sends")]
    async fn a_notifier_that_mixes_up_concurrent_pins_fails() {
        let outbox = Outbox::new();
        check(&Broken(outbox.clone(), Fault::SharedSlot(Mutex::default())), &outbox, &both_channels()).await;
    }
}
