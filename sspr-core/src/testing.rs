//! The conformance suite every backend can run with one call (feature `testing`).
//!
//! It checks the parts of each trait's contract that can be checked from outside:
//! compare-and-set and single-use semantics, expiry, atomic counters under concurrency,
//! exact round trips, and login escaping. sspr's own backends run it in their tests; a
//! third-party backend should too:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use sspr_core::{memory::MemoryStateStore, ManualClock, testing};
//! let clock = ManualClock::new(time::macros::datetime!(2026-01-01 10:00 UTC));
//! let wait = |d| { clock.advance(d); std::future::ready(()) };
//! testing::state_store_conformance(&MemoryStateStore::new(), &clock, wait).await;
//! # }
//! ```
//!
//! Failures panic with a message naming the broken rule, like any test assertion.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::Future;
use std::time::Duration;

use futures::future::join_all;
use time::OffsetDateTime;

use crate::api::UserId;
use crate::backend::{
    Authentication, Batch, ContactHistory, ContactStore, Directory, Enrollment, PasswordRefusal, Put, RemovedContact,
    StateStore, StoredContact, StoredValue,
};
use crate::clock::Clock;
use crate::error::BackendErrorKind;
use crate::input::{EmailAddress, NormalizedLogin, PhoneNumber};
use crate::secret::Password;

/// Whole seconds, as stores keep them.
fn secs(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// The state-store key the engine keeps the reset flow `flow_id` under: a hash of the id, so
/// that a reader of the store cannot take a flow id from it (for tests that read or change a
/// stored flow record).
///
/// ```
/// let key = sspr_core::testing::flow_store_key("0123456789abcdef0123456789abcdef");
/// assert!(key.starts_with("sspr/flow/") && !key.contains("0123456789abcdef"));
/// ```
pub fn flow_store_key(flow_id: &str) -> String {
    crate::engine::flow_store_key(flow_id)
}

/// Run the [`StateStore`] contract against `store`.
///
/// `clock` gives the time passed to the store; `wait(d)` must let `d` pass on that clock and
/// on the store's own (advance a [`crate::ManualClock`], or sleep for real against a server).
/// The suite uses keys under `sspr-conformance/` and deletes them first.
pub async fn state_store_conformance<W, F>(store: &dyn StateStore, clock: &dyn Clock, mut wait: W)
where
    W: FnMut(Duration) -> F,
    F: Future<Output = ()>,
{
    let k = |name: &str| format!("sspr-conformance/{name}");
    for name in KEYS {
        store.delete(&k(name)).await.expect("delete");
    }
    let now = clock.now();
    let later = now + Duration::from_secs(600);

    // Absent keys.
    assert_eq!(store.get(&k("a"), now).await.unwrap(), None, "an absent key must read as None");
    assert_eq!(
        store.put(&k("a"), b"x", Some(1), later, now).await.unwrap(),
        None,
        "put with a version on an absent key must fail"
    );

    // Create, then compare-and-set.
    assert_eq!(store.put(&k("a"), b"one", None, later, now).await.unwrap(), Some(1), "create must return version 1");
    assert_eq!(store.put(&k("a"), b"dup", None, later, now).await.unwrap(), None, "create must fail on a live key");
    let got = store.get(&k("a"), now).await.unwrap().expect("value after create");
    assert_eq!((got.value.as_slice(), got.version), (&b"one"[..], 1));
    assert_eq!(
        store.put(&k("a"), b"two", Some(1), later, now).await.unwrap(),
        Some(2),
        "CAS with the live version must succeed"
    );
    assert_eq!(
        store.put(&k("a"), b"stale", Some(1), later, now).await.unwrap(),
        None,
        "CAS with a stale version must fail"
    );
    let got = store.get(&k("a"), now).await.unwrap().expect("value after CAS");
    assert_eq!((got.value.as_slice(), got.version), (&b"two"[..], 2), "a failed CAS must change nothing");

    // Keys are independent, exactly as given: every byte of a key of the most bytes a key may
    // have, and its case (a store cutting keys or comparing them case-insensitively, as a
    // VARCHAR(64) column or MySQL's default collation would, merges records).
    assert_eq!(store.get(&k("b"), now).await.unwrap(), None);
    let (long_a, long_b) = (long_key('a'), long_key('b'));
    assert_eq!(store.put(&long_a, b"a", None, later, now).await.unwrap(), Some(1), "a key of 200 bytes must be taken");
    assert_eq!(
        store.put(&long_b, b"b", None, later, now).await.unwrap(),
        Some(1),
        "keys of 200 bytes differing only in their last byte must be two keys (keys must not be cut)"
    );
    assert_eq!(store.get(&long_a, now).await.unwrap().map(|v| v.value), Some(b"a".to_vec()), "a long key's value");
    assert_eq!(store.put(&k("Case"), b"upper", None, later, now).await.unwrap(), Some(1));
    assert_eq!(
        store.get(&k("case"), now).await.unwrap(),
        None,
        "keys differing only in case must be two keys (keys must be compared byte for byte)"
    );

    // Exact bytes, including NUL and 0xff, and a large value.
    let binary: Vec<u8> = (0..4096u32).map(|i| (i % 256) as u8).collect();
    assert_eq!(store.put(&k("binary"), &binary, None, later, now).await.unwrap(), Some(1));
    assert_eq!(
        store.get(&k("binary"), now).await.unwrap().unwrap().value,
        binary,
        "values must round-trip byte for byte"
    );
    // A record may end in NUL or white space (a C string or a padded column loses them).
    let edges = b"\0 starts and ends with NUL and white space \t\r\n \0\0";
    assert_eq!(store.put(&k("edges"), edges, None, later, now).await.unwrap(), Some(1));
    assert_eq!(
        store.get(&k("edges"), now).await.unwrap().map(|v| v.value),
        Some(edges.to_vec()),
        "values must round-trip byte for byte, leading and trailing NUL and white space included"
    );

    // Expiry: nothing is returned after expires_at, and an expired key can be created again.
    // An update's expiry replaces the one before, longer or shorter: a block or flow rewritten
    // with a longer life must not lapse at the first write's time.
    let now = clock.now();
    assert_eq!(store.put(&k("expiring"), b"soon", None, now + Duration::from_secs(1), now).await.unwrap(), Some(1));
    assert_eq!(store.put(&k("extended"), b"soon", None, now + Duration::from_secs(1), now).await.unwrap(), Some(1));
    assert_eq!(
        store.put(&k("extended"), b"later", Some(1), now + Duration::from_secs(600), now).await.unwrap(),
        Some(2)
    );
    assert_eq!(store.put(&k("shortened"), b"later", None, now + Duration::from_secs(600), now).await.unwrap(), Some(1));
    assert_eq!(store.put(&k("shortened"), b"soon", Some(1), now + Duration::from_secs(1), now).await.unwrap(), Some(2));
    wait(Duration::from_millis(2100)).await;
    let now = clock.now();
    assert_eq!(store.get(&k("expiring"), now).await.unwrap(), None, "a value must not be returned after it expired");
    assert_eq!(
        store.get(&k("extended"), now).await.unwrap().map(|got| got.value),
        Some(b"later".to_vec()),
        "an update's later expiry must replace the one before"
    );
    assert_eq!(
        store.get(&k("shortened"), now).await.unwrap(),
        None,
        "an update's earlier expiry must replace the one before"
    );
    assert_eq!(
        store.put(&k("expiring"), b"again", None, now + Duration::from_secs(600), now).await.unwrap(),
        Some(1),
        "an expired key must count as absent"
    );

    // Counters.
    let now = clock.now();
    let window_end = secs(now + Duration::from_secs(600));
    let c1 = store.increment(&k("counter"), window_end, now).await.unwrap();
    let c2 = store.increment(&k("counter"), window_end + Duration::from_secs(300), now).await.unwrap();
    let c3 = store.increment(&k("counter"), window_end, now).await.unwrap();
    assert_eq!((c1.count, c2.count, c3.count), (1, 2, 3), "increment must count 1, 2, 3");
    assert!(
        (secs(c2.expires_at) - window_end).abs() <= time::Duration::seconds(1),
        "a live counter's window must not move"
    );

    // A counter's window ends.
    let now = clock.now();
    store.increment(&k("window"), now + Duration::from_secs(1), now).await.unwrap();
    store.increment(&k("window"), now + Duration::from_secs(1), now).await.unwrap();
    wait(Duration::from_millis(2100)).await;
    let now = clock.now();
    let fresh = store.increment(&k("window"), now + Duration::from_secs(600), now).await.unwrap();
    assert_eq!(fresh.count, 1, "a counter must restart at 1 after its window");

    // A batch of increments counts like single ones, in order, a repeated key twice.
    let now = clock.now();
    let later = now + Duration::from_secs(600);
    let (a, b) = (k("batch-a"), k("batch-b"));
    store.increment(&a, later, now).await.unwrap();
    let batch =
        store.increment_many(&[(a.as_str(), later), (b.as_str(), later), (a.as_str(), later)], now).await.unwrap();
    assert_eq!(batch.iter().map(|c| c.count).collect::<Vec<_>>(), [2, 1, 3], "increment_many counts in order");
    assert_eq!(store.increment(&b, later, now).await.unwrap().count, 2, "a batch shares the counters");

    // Delete.
    store.delete(&k("a")).await.unwrap();
    store.delete(&k("counter")).await.unwrap();
    store.delete(&k("never-existed")).await.expect("deleting an absent key is not an error");
    assert_eq!(store.get(&k("a"), now).await.unwrap(), None, "a deleted value must be gone");
    assert_eq!(
        store.increment(&k("counter"), later, now).await.unwrap().count,
        1,
        "a deleted counter must restart at 1"
    );

    // Concurrency: one winner among racing compare-and-sets, exact counts among racing increments.
    let now = clock.now();
    let later = now + Duration::from_secs(600);
    assert_eq!(store.put(&k("race"), b"start", None, later, now).await.unwrap(), Some(1));
    let racers = (0..50).map(|i| {
        let value = format!("racer-{i}");
        let key = k("race");
        async move { store.put(&key, value.as_bytes(), Some(1), later, now).await.unwrap() }
    });
    let winners = join_all(racers).await.into_iter().filter(Option::is_some).count();
    assert_eq!(winners, 1, "exactly one of 50 concurrent CAS with the same version must win");

    let counts = join_all((0..100).map(|_| {
        let key = k("count-race");
        async move { store.increment(&key, later, now).await.unwrap().count }
    }))
    .await;
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=100).collect::<Vec<u64>>(), "100 concurrent increments must each see a distinct count");

    batch_conformance(store, clock, &mut wait).await;
    linked_conformance(store, clock, &mut wait).await;
    after_conformance(store, clock).await;
    crowd_conformance(store, clock).await;

    for name in KEYS {
        store.delete(&k(name)).await.unwrap();
    }
    store.delete(&long_a).await.unwrap();
    store.delete(&long_b).await.unwrap();
}

/// A key of [`MAX_KEY`] bytes under `sspr-conformance/`, ending in `last`.
fn long_key(last: char) -> String {
    let mut key = String::from("sspr-conformance/long-");
    while key.len() < MAX_KEY - 1 {
        key.push('x');
    }
    key.push(last);
    key
}

/// The most bytes a key may have ([`StateStore`]'s contract).
const MAX_KEY: usize = 200;

/// How many entries [`crowd_conformance`] writes after the first: more than a small cache holds
/// (Django's LocMemCache culls at 300 by default, an LRU dict is often made for 1,000); each more
/// entry costs every store the suite checks, in every binding, a write and a counter.
const CROWD: usize = 1100;

/// A store keeps every live entry, however many are written after it: a cache that drops the
/// least recently used (an LRU dict, Django's LocMemCache, memcached without `-M`) lets an
/// attacker's own requests (decoy flows and counters) push a user's failure count or block out
/// of it, a guessing limit undone. Only a cache smaller than [`CROWD`] entries is caught here;
/// a bigger one must be configured never to evict (Redis `noeviction`, memcached `-M`).
async fn crowd_conformance(store: &dyn StateStore, clock: &dyn Clock) {
    let k = |name: &str| format!("sspr-conformance/{name}");
    let (first, first_counter) = (k("crowd-first"), k("crowd-first-counter"));
    let now = clock.now();
    let later = now + Duration::from_secs(600);
    assert_eq!(store.put(&first, b"first", None, later, now).await.unwrap(), Some(1));
    assert_eq!(store.increment(&first_counter, later, now).await.unwrap().count, 1);
    let values: Vec<String> = (0..CROWD).map(|i| k(&format!("crowd-value/{i}"))).collect();
    let counters: Vec<String> = (0..CROWD).map(|i| k(&format!("crowd-counter/{i}"))).collect();
    for chunk in values.chunks(64) {
        join_all(chunk.iter().map(|key| async move { store.put(key, b"crowd", None, later, now).await.unwrap() }))
            .await;
    }
    // In calls of the size an engine step makes at most, so that no call of a networked store
    // (one script per hash tag in a cluster) runs into its response timeout.
    for chunk in counters.chunks(64) {
        let many: Vec<(&str, OffsetDateTime)> = chunk.iter().map(|key| (key.as_str(), later)).collect();
        store.increment_many(&many, now).await.unwrap();
    }
    let kept = store.get(&first, now).await.unwrap().map(|v| v.value);
    let counted = store.increment(&first_counter, later, now).await.unwrap().count;
    let crowd: Vec<&str> =
        [&first, &first_counter].into_iter().chain(&values).chain(&counters).map(String::as_str).collect();
    for deletes in crowd.chunks(64) {
        store.apply(&Batch { deletes: deletes.to_vec(), ..Batch::default() }, now).await.unwrap();
    }
    assert_eq!(
        kept,
        Some(b"first".to_vec()),
        "a store must keep every live value: one was gone after {CROWD} more values and {CROWD} counters were \
         written (a cache that evicts lets an attacker push a user's block out of it)"
    );
    assert_eq!(
        counted, 2,
        "a store must keep every live counter: one restarted after {CROWD} more values and {CROWD} counters were \
         written (a cache that evicts lets an attacker push a user's failure count out of it)"
    );
}

/// How long [`state_store_clock_conformance`] really waits.
const REAL_WAIT: Duration = Duration::from_millis(1100);

/// Run the part of the [`StateStore`] contract that needs real time to pass: what `clock` says is
/// live stays, by the store's own clock too. [`state_store_conformance`] on a manual clock checks
/// expiry by the `now` the store is given, without waiting; a store that also lets its server
/// expire entries (a Redis or memcached TTL, a `setTimeout`) and gives it the seconds where it
/// takes milliseconds passes that, and loses every counter, block and flow after a thousandth of
/// its life. `sleep(d)` must let `d` pass for real (not on `clock`); it is called once, for
/// about a second. Run it beside the suite on a manual clock (a suite that waits for real, on the
/// system clock, already checks this).
pub async fn state_store_clock_conformance<S, F>(store: &dyn StateStore, clock: &dyn Clock, sleep: S)
where
    S: FnOnce(Duration) -> F,
    F: Future<Output = ()>,
{
    let (value, counter) = ("sspr-conformance/clock-value", "sspr-conformance/clock-counter");
    store.delete(value).await.unwrap();
    store.delete(counter).await.unwrap();
    let now = clock.now();
    let later = now + Duration::from_secs(600);
    assert_eq!(store.put(value, b"lives 10 minutes", None, later, now).await.unwrap(), Some(1));
    assert_eq!(store.increment(counter, later, now).await.unwrap().count, 1);
    sleep(REAL_WAIT).await;
    let kept = store.get(value, now).await.unwrap().map(|v| v.value);
    let counted = store.increment(counter, later, now).await.unwrap().count;
    store.delete(value).await.unwrap();
    store.delete(counter).await.unwrap();
    assert_eq!(
        kept,
        Some(b"lives 10 minutes".to_vec()),
        "a value must live until its expires_at by the store's own clock too: one written to live 600 s was gone \
         after 1.1 s (a TTL given in seconds where milliseconds are taken?)"
    );
    assert_eq!(
        counted, 2,
        "a counter must live until its expires_at by the store's own clock too: one with a 600 s window restarted \
         after 1.1 s (a TTL given in seconds where milliseconds are taken?)"
    );
}

/// The keys the state-store suite uses, under `sspr-conformance/`.
const KEYS: [&str; 35] = [
    "a",
    "b",
    "Case",
    "case",
    "edges",
    "expiring",
    "extended",
    "shortened",
    "binary",
    "counter",
    "window",
    "race",
    "count-race",
    "batch-a",
    "batch-b",
    "apply-flow",
    "apply-counter",
    "apply-gone",
    "apply-expiring",
    "apply-race",
    "apply-race-counter",
    "linked",
    "linked-bad",
    "linked-short",
    "linked-counter",
    "linked-a/lnk_1-Z",
    "linked-b/lnk_1-Z",
    "linked-c/lnk_1-Z",
    "linked-d/lnk_1-Z",
    "linked-a/a/b",
    "linked-a/ab",
    "after-first",
    "after-flow",
    "after-other",
    "after-counter",
];

/// The [`StateStore::apply`] contract: reads before writes, a failed put writes nothing, a
/// successful one applies its increments and deletes, one winner among racing batches.
async fn batch_conformance<W, F>(store: &dyn StateStore, clock: &dyn Clock, wait: &mut W)
where
    W: FnMut(Duration) -> F,
    F: Future<Output = ()>,
{
    let k = |name: &str| format!("sspr-conformance/{name}");
    let (flow, counter, gone, expiring) = (k("apply-flow"), k("apply-counter"), k("apply-gone"), k("apply-expiring"));
    let (race, race_counter) = (k("apply-race"), k("apply-race-counter"));
    let now = clock.now();
    let later = now + Duration::from_secs(600);

    // Reads: absent, a value, a counter, an expired value.
    store.put(&gone, b"doomed", None, later, now).await.unwrap();
    store.increment(&counter, later, now).await.unwrap();
    store.put(&expiring, b"soon", None, now + Duration::from_secs(1), now).await.unwrap();
    wait(Duration::from_millis(2100)).await;
    let now = clock.now();
    let later = now + Duration::from_secs(600);
    let reads = Batch { reads: vec![&flow, &gone, &counter, &expiring], ..Batch::default() };
    let out = store.apply(&reads, now).await.unwrap();
    assert!(out.applied, "a batch without a put is applied");
    assert_eq!(out.version, None, "a batch without a put has no version");
    assert_eq!(out.values.len(), 4, "one value per read");
    assert_eq!(out.values[0], None, "an absent key must read as None in a batch");
    assert_eq!(out.values[1].as_ref().map(|v| (v.value.as_slice(), v.version)), Some((&b"doomed"[..], 1)));
    assert_eq!(out.values[2], None, "a counter must read as None in a batch, as with get");
    assert_eq!(out.values[3], None, "an expired value must read as None in a batch");

    // A create with increments and deletes: the reads see the state before the batch.
    let create = Batch {
        reads: vec![&flow],
        put: Some(Put { key: &flow, value: b"v1", expected_version: None, expires_at: later }),
        increments: vec![(&counter, later), (&race_counter, later), (&counter, later)],
        deletes: vec![&gone],
    };
    let out = store.apply(&create, now).await.unwrap();
    assert_eq!(out.values, vec![None], "a batch's reads come before its put");
    assert!(out.applied, "a create on an absent key is applied");
    assert_eq!(out.version, Some(1), "a create in a batch returns version 1");
    assert_eq!(
        out.counters.iter().map(|c| c.count).collect::<Vec<_>>(),
        [2, 1, 3],
        "a batch's increments count in order, a repeated key twice"
    );
    assert_eq!(store.get(&gone, now).await.unwrap(), None, "a batch's delete must remove the key");
    let got = store.get(&flow, now).await.unwrap().expect("the batch's put");
    assert_eq!((got.value.as_slice(), got.version), (&b"v1"[..], 1));

    // A failed put writes nothing at all.
    store.put(&gone, b"back", None, later, now).await.unwrap();
    for expected_version in [None, Some(7)] {
        let stale = Batch {
            reads: vec![&flow],
            put: Some(Put { key: &flow, value: b"stale", expected_version, expires_at: later }),
            increments: vec![(&counter, later)],
            deletes: vec![&gone],
        };
        let out = store.apply(&stale, now).await.unwrap();
        assert!(!out.applied, "a batch whose put fails ({expected_version:?}) is not applied");
        assert_eq!((out.version, out.counters.len()), (None, 0), "a failed batch has no version and no counters");
        assert_eq!(out.values.len(), 1, "a failed batch still answers its reads");
    }
    let got = store.get(&flow, now).await.unwrap().expect("unchanged value");
    assert_eq!((got.value.as_slice(), got.version), (&b"v1"[..], 1), "a failed batch must not write its put");
    assert_eq!(store.increment(&counter, later, now).await.unwrap().count, 4, "a failed batch must not count");
    assert!(store.get(&gone, now).await.unwrap().is_some(), "a failed batch must not delete");

    // A compare-and-set with the live version.
    let update = Batch {
        put: Some(Put { key: &flow, value: b"v2", expected_version: Some(1), expires_at: later }),
        deletes: vec![&gone, &counter],
        ..Batch::default()
    };
    let out = store.apply(&update, now).await.unwrap();
    assert!(out.applied && out.version == Some(2), "a CAS with the live version in a batch must succeed");
    assert!(out.counters.is_empty());
    assert_eq!(store.get(&gone, now).await.unwrap(), None, "deletes after a successful CAS");
    assert_eq!(store.increment(&counter, later, now).await.unwrap().count, 1, "a batch may delete a counter");

    // Racing batches on one version: one winner, and only the winner's increments count.
    store.delete(&race_counter).await.unwrap();
    store.put(&race, b"start", None, later, now).await.unwrap();
    let racers = (0..50).map(|i| {
        let value = format!("racer-{i}");
        let (race, race_counter) = (race.clone(), race_counter.clone());
        async move {
            let batch = Batch {
                reads: vec![race.as_str()],
                put: Some(Put { key: &race, value: value.as_bytes(), expected_version: Some(1), expires_at: later }),
                increments: vec![(race_counter.as_str(), later)],
                deletes: Vec::new(),
            };
            store.apply(&batch, now).await.unwrap()
        }
    });
    let outcomes = join_all(racers).await;
    assert_eq!(
        outcomes.iter().filter(|o| o.applied).count(),
        1,
        "exactly one of 50 concurrent batches with the same version must win"
    );
    assert_eq!(
        store.increment(&race_counter, later, now).await.unwrap().count,
        2,
        "only the winning batch's increment may count"
    );
}

/// The [`StateStore::get_linked`] contract: the record and, named by its value's link, the
/// keys `prefix + link`, each answered as `get` would; nothing followed without a valid link.
async fn linked_conformance<W, F>(store: &dyn StateStore, clock: &dyn Clock, wait: &mut W)
where
    W: FnMut(Duration) -> F,
    F: Future<Output = ()>,
{
    let k = |name: &str| format!("sspr-conformance/{name}");
    let (record, bad, short, counter) = (k("linked"), k("linked-bad"), k("linked-short"), k("linked-counter"));
    let prefixes = [k("linked-a/"), k("linked-b/"), k("linked-c/"), k("linked-d/")];
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    let now = clock.now();
    let later = now + Duration::from_secs(600);

    // A link (9 bytes, every allowed kind of character) followed by bytes that are not text.
    let mut value = vec![9u8];
    value.extend_from_slice(b"lnk_1-Z");
    value.extend_from_slice(&[0, 0xff, b'{', b'}']);
    store.put(&record, &value, None, later, now).await.unwrap();
    store.put(&k("linked-d/lnk_1-Z"), b"soon", None, now + Duration::from_secs(1), now).await.unwrap();
    wait(Duration::from_millis(2100)).await;
    let now = clock.now();
    let later = now + Duration::from_secs(600);
    // The link is b"lnk_1-Z" plus the next two bytes: 9 bytes, two of them not allowed.
    assert_eq!(
        store.get_linked(&record, &prefixes, now).await.unwrap().1,
        vec![None; 4],
        "a link with a byte other than a letter, a digit, '-' or '_' must not be followed"
    );
    let mut value = vec![7u8];
    value.extend_from_slice(b"lnk_1-Z");
    value.extend_from_slice(&[0, 0xff, b'{', b'}']);
    store.put(&record, &value, Some(1), later, now).await.unwrap();
    store.put(&k("linked-a/lnk_1-Z"), b"first", None, later, now).await.unwrap();
    store.increment(&k("linked-b/lnk_1-Z"), later, now).await.unwrap();
    let (got, linked) = store.get_linked(&record, &prefixes, now).await.unwrap();
    assert_eq!(got, Some(StoredValue { value: value.clone(), version: 2 }), "the record as get reads it");
    assert_eq!(linked.len(), 4, "one answer per prefix");
    assert_eq!(
        linked[0].as_ref().map(|v| (v.value.as_slice(), v.version)),
        Some((&b"first"[..], 1)),
        "a linked value must be read as get reads it"
    );
    assert_eq!(linked[1], None, "a linked counter must read as None, as with get");
    assert_eq!(linked[2], None, "an absent linked key must read as None");
    assert_eq!(linked[3], None, "an expired linked value must read as None");

    // No record, a counter, no link, a link running past the value, a link with a '/'.
    let absent = k("linked-absent");
    assert_eq!(store.get_linked(&absent, &prefixes, now).await.unwrap(), (None, vec![None; 4]));
    store.increment(&counter, later, now).await.unwrap();
    assert_eq!(store.get_linked(&counter, &prefixes, now).await.unwrap(), (None, vec![None; 4]));
    store.put(&k("linked-a/ab"), b"not linked", None, later, now).await.unwrap();
    store.put(&k("linked-a/a/b"), b"not linked", None, later, now).await.unwrap();
    for (key, value) in [(&short, &b"\x05ab"[..]), (&bad, &b"\x03a/b"[..]), (&bad, &b"\x00ab"[..])] {
        store.delete(key).await.unwrap();
        store.put(key, value, None, later, now).await.unwrap();
        let (got, linked) = store.get_linked(key, &prefixes, now).await.unwrap();
        assert_eq!(got.map(|v| v.value), Some(value.to_vec()));
        assert_eq!(linked, vec![None; 4], "{value:?} has no valid link: nothing may be followed");
    }
    let mut long = vec![65u8];
    long.extend_from_slice(&[b'a'; 65]);
    store.delete(&bad).await.unwrap();
    store.put(&bad, &long, None, later, now).await.unwrap();
    assert_eq!(store.get_linked(&bad, &prefixes, now).await.unwrap().1, vec![None; 4], "a link is at most 64 bytes");
    assert_eq!(crate::backend::link_of(&long[1..]), None);
    assert_eq!(crate::backend::link_of(&[2, b'a', b'b', 0]), Some("ab"));
}

/// The [`StateStore::apply_after`] contract: the batch runs only if the first put won; a
/// first put that fails writes nothing; a batch whose put fails leaves the first put written.
async fn after_conformance(store: &dyn StateStore, clock: &dyn Clock) {
    let k = |name: &str| format!("sspr-conformance/{name}");
    let (first, flow, other, counter) = (k("after-first"), k("after-flow"), k("after-other"), k("after-counter"));
    let now = clock.now();
    let later = now + Duration::from_secs(600);
    let put = |key, value, expected_version| Put { key, value, expected_version, expires_at: later };

    // Both win: the first is written, then the batch (its reads before its own put).
    let both = Batch {
        reads: vec![&first, &flow],
        put: Some(put(&flow, b"verdict", None)),
        increments: vec![(&counter, later)],
        deletes: vec![&other],
    };
    store.put(&other, b"to delete", None, later, now).await.unwrap();
    let out = store.apply_after(&put(&first, b"one", None), &both, now).await.unwrap().expect("the first put wins");
    assert!(out.applied, "the batch's put wins too");
    assert_eq!(out.version, Some(1));
    assert_eq!(out.values.len(), 2);
    assert_eq!(
        out.values[0].as_ref().map(|v| (v.value.as_slice(), v.version)),
        Some((&b"one"[..], 1)),
        "the batch runs after the first put: its reads see it"
    );
    assert_eq!(out.values[1], None);
    assert_eq!(out.counters.iter().map(|c| c.count).collect::<Vec<_>>(), vec![1]);
    assert_eq!(store.get(&other, now).await.unwrap(), None, "the batch's delete was made");

    // The first fails: nothing at all is written.
    store.put(&other, b"kept", None, later, now).await.unwrap();
    let lost = Batch {
        reads: vec![&first],
        put: Some(put(&flow, b"never", Some(1))),
        increments: vec![(&counter, later)],
        deletes: vec![&other],
    };
    assert_eq!(
        store.apply_after(&put(&first, b"stale", Some(7)), &lost, now).await.unwrap(),
        None,
        "a first put that fails must answer None"
    );
    let first_now = store.get(&first, now).await.unwrap().expect("first");
    assert_eq!((first_now.value.as_slice(), first_now.version), (&b"one"[..], 1), "a failed first put writes nothing");
    let flow_now = store.get(&flow, now).await.unwrap().expect("flow");
    assert_eq!((flow_now.value.as_slice(), flow_now.version), (&b"verdict"[..], 1), "nor does its batch");
    assert!(store.get(&other, now).await.unwrap().is_some(), "a batch after a failed first put deletes nothing");
    assert_eq!(store.increment(&counter, later, now).await.unwrap().count, 2, "nor counts anything");

    // The first wins, the batch's put fails: the first stays written, nothing else.
    let stale = Batch { put: Some(put(&flow, b"late", Some(9))), ..lost.clone() };
    let out = store.apply_after(&put(&first, b"two", Some(1)), &stale, now).await.unwrap().expect("the first put wins");
    assert!(!out.applied, "the batch's put fails");
    assert_eq!((out.version, out.counters.len()), (None, 0));
    let first_now = store.get(&first, now).await.unwrap().expect("first");
    assert_eq!((first_now.value.as_slice(), first_now.version), (&b"two"[..], 2), "the first put stays written");
    assert!(store.get(&other, now).await.unwrap().is_some(), "a batch whose put failed deletes nothing");
    assert_eq!(store.increment(&counter, later, now).await.unwrap().count, 3, "nor counts anything");

    // Racing calls with the same first version: one runs its batch.
    let racers = (0..20).map(|i| {
        let (first, counter) = (first.clone(), counter.clone());
        async move {
            let value = format!("racer {i}");
            let batch = Batch {
                reads: Vec::new(),
                put: None,
                increments: vec![(counter.as_str(), later)],
                deletes: Vec::new(),
            };
            store
                .apply_after(
                    &Put { key: &first, value: value.as_bytes(), expected_version: Some(2), expires_at: later },
                    &batch,
                    now,
                )
                .await
                .unwrap()
                .is_some()
        }
    });
    assert_eq!(join_all(racers).await.into_iter().filter(|won| *won).count(), 1, "one of 20 racing first puts wins");
    assert_eq!(store.increment(&counter, later, now).await.unwrap().count, 5, "only the winner's batch counted");
}

/// Run the [`ContactStore`] contract against `store`, using users whose ids start with
/// `sspr-conformance/` (the store must not hold them yet).
pub async fn contact_store_conformance(store: &dyn ContactStore, clock: &dyn Clock) {
    let now = secs(clock.now());
    let alice = UserId::new(format!("sspr-conformance/alice-{}", now.unix_timestamp()));
    let bob = UserId::new(format!("sspr-conformance/bob-{}", now.unix_timestamp()));
    assert_eq!(store.get(&alice).await.unwrap(), None, "an unknown user has no enrollment");

    let enrollment = Enrollment {
        enabled: true,
        email: Some(StoredContact {
            value: EmailAddress::parse("Alice.O'Hara+sspr@example.org").unwrap(),
            added_at: now,
            usable_from: now + Duration::from_secs(86_400),
        }),
        phone: Some(StoredContact {
            value: PhoneNumber::parse("+447400900123").unwrap(),
            added_at: now,
            usable_from: now,
        }),
        last_reset_at: Some(now - Duration::from_secs(3600)),
        // The history must come back too: without it a phisher who cleared the contacts would
        // make the next registration "first" again, and removed contacts would hear nothing.
        history: ContactHistory {
            registered_at: Some(now - Duration::from_secs(7200)),
            removed: vec![
                RemovedContact {
                    contact: crate::api::Destination::Email(EmailAddress::parse("old.alice@example.net").unwrap()),
                    removed_at: now - Duration::from_secs(60),
                    remember_until: now + Duration::from_secs(86_400),
                },
                RemovedContact {
                    contact: crate::api::Destination::Sms(PhoneNumber::parse("+14155550100").unwrap()),
                    removed_at: now,
                    remember_until: now + Duration::from_secs(90_000),
                },
            ],
            confirmed_at: Some(now - Duration::from_secs(1800)),
        },
        version: 0,
    };
    assert!(store.save(&alice, &enrollment, 0).await.unwrap(), "the first save with version 0 must succeed");
    assert!(!store.save(&alice, &enrollment, 0).await.unwrap(), "a second save with version 0 must fail");
    let got = store.get(&alice).await.unwrap().expect("saved enrollment");
    assert_eq!(got.version, 1, "the first saved version is 1");
    assert_eq!(Enrollment { version: 0, ..got.clone() }, enrollment, "an enrollment must round-trip exactly");

    let mut changed = got.clone();
    changed.phone = None;
    changed.enabled = false;
    changed.history.removed.truncate(1);
    assert!(store.save(&alice, &changed, 1).await.unwrap(), "save with the current version must succeed");
    assert!(!store.save(&alice, &enrollment, 1).await.unwrap(), "save with a stale version must fail");
    let got = store.get(&alice).await.unwrap().unwrap();
    assert_eq!((got.version, got.enabled, got.phone.is_none()), (2, false, true), "a failed save must change nothing");
    assert_eq!(got.history, changed.history, "a saved history replaces the stored one");
    assert_eq!(store.get(&bob).await.unwrap(), None, "users are independent");

    let racers = (0..20).map(|i| {
        let mut e = got.clone();
        e.email = Some(StoredContact {
            value: EmailAddress::parse(&format!("racer{i}@example.org")).unwrap(),
            added_at: now,
            usable_from: now,
        });
        let alice = alice.clone();
        async move { store.save(&alice, &e, 2).await.unwrap() }
    });
    let winners = join_all(racers).await.into_iter().filter(|won| *won).count();
    assert_eq!(winners, 1, "exactly one of 20 concurrent saves with the same version must win");

    let bob_enrollment = Enrollment { enabled: true, ..Enrollment::default() };
    assert!(store.save(&bob, &bob_enrollment, 0).await.unwrap(), "a second user's first save");
    list_conformance(store, &alice, &bob).await;
}

/// The `list` part of the [`ContactStore`] contract, for a store that supports it; a store
/// that does not must say `NotSupported` (the engine then reads users one by one).
async fn list_conformance(store: &dyn ContactStore, alice: &UserId, bob: &UserId) {
    let prefix = "sspr-conformance/";
    let start = UserId::new(prefix);
    let first = match store.list(Some(&start), 1).await {
        Err(e) if e.kind() == BackendErrorKind::NotSupported => return,
        other => other.expect("list"),
    };
    assert_eq!(first.len(), 1, "a page holds at most `limit` records, and this one has more after it");
    assert!(store.list(Some(&start), 0).await.unwrap().is_empty(), "a limit of 0 lists nothing");
    // Page one record at a time through the suite's users (other records may be in the store).
    let mut seen: Vec<(UserId, Enrollment)> = Vec::new();
    let mut after = start;
    loop {
        let page = store.list(Some(&after), 1).await.unwrap();
        let Some((id, enrollment)) = page.into_iter().next() else { break };
        assert!(id.as_str() > after.as_str(), "list must answer ids after `after` only, in ascending order");
        if !id.as_str().starts_with(prefix) {
            break;
        }
        after = id.clone();
        seen.push((id, enrollment));
    }
    assert!(seen.windows(2).all(|w| w[0].0.as_str() < w[1].0.as_str()), "ids ascending, none twice");
    for user in [alice, bob] {
        let listed = seen.iter().find(|(id, _)| id == user).map(|(_, e)| e.clone());
        assert_eq!(listed, store.get(user).await.unwrap(), "a listed record is the record `get` returns");
    }
    let whole = store.list(Some(&UserId::new(prefix)), 10_000).await.unwrap();
    let ours: Vec<&UserId> = whole.iter().map(|(id, _)| id).filter(|id| id.as_str().starts_with(prefix)).collect();
    assert_eq!(ours, seen.iter().map(|(id, _)| id).collect::<Vec<_>>(), "one big page lists what small pages did");
    let after_alice = store.list(Some(alice), 10_000).await.unwrap();
    assert!(after_alice.iter().all(|(id, _)| id.as_str() > alice.as_str()), "`after` itself is not listed");
}

/// What [`directory_conformance`] needs to know about the directory under test.
#[derive(Debug)]
pub struct DirectoryFixture {
    /// A login the directory holds (any case).
    pub login: String,
    /// The id the directory gives that user.
    pub id: UserId,
    /// A login it does not hold.
    pub missing_login: String,
    /// A password the directory accepts for the user.
    pub good_password: Password,
    /// A password its policy refuses, if it has a policy.
    pub weak_password: Option<Password>,
}

/// Run the [`Directory`] contract against `directory`. It sets the fixture user's password.
pub async fn directory_conformance(directory: &dyn Directory, fixture: &DirectoryFixture) {
    lookups_and_password_writes(directory, fixture).await;
    let wrong = Password::new(format!("{}-not-it", fixture.good_password.expose_secret()));
    assert_eq!(
        directory.authenticate(&fixture.id, &wrong).await.unwrap(),
        Authentication::Rejected,
        "a wrong password is Rejected"
    );
    assert_eq!(
        directory.authenticate(&fixture.id, &fixture.good_password).await.unwrap(),
        Authentication::MustChange,
        "a password set with must_change signs in as MustChange"
    );
    directory.unlock(&fixture.id).await.expect("unlock");
    directory.unlock(&fixture.id).await.expect("unlock is idempotent");
    searches(directory, fixture).await;
}

/// The [`Directory::change_password`] contract (a user's own change) against `directory`, for
/// a directory that offers the change; run it after [`directory_conformance`], or on its own.
/// It sets the fixture user's password and changes it.
///
/// What it holds the directory to: a wrong current password is refused as
/// [`PasswordRefusal::WrongCurrentPassword`] (the engine counts it as a failed sign-in) and
/// changes nothing; the change works for a user whose password must be changed (a temporary
/// one) and leaves the new password signing in as `Accepted` and the old one `Rejected`; a new
/// password its policy refuses is `PasswordRejected` and changes nothing; no error holds either
/// password.
pub async fn directory_change_conformance(directory: &dyn Directory, fixture: &DirectoryFixture) {
    let good = &fixture.good_password;
    let next = Password::new(format!("{}-Next-9", good.expose_secret()));
    let wrong = Password::new(format!("{}-not-it", good.expose_secret()));
    directory.set_password(&fixture.id, good, true).await.expect("a good password must be set");
    let secrets = |err: &crate::BackendError, passwords: &[&Password]| {
        let text = format!("{err:?} {err}");
        assert!(!passwords.iter().any(|p| text.contains(p.expose_secret())), "the error must not hold a password");
    };

    let err = directory.change_password(&fixture.id, &wrong, &next).await.expect_err("a wrong current password");
    assert_eq!(err.kind(), BackendErrorKind::PasswordRejected, "a wrong current password is PasswordRejected");
    assert_eq!(
        err.refusal(),
        Some(PasswordRefusal::WrongCurrentPassword),
        "a wrong current password is refused as WrongCurrentPassword, never a generic failure"
    );
    secrets(&err, &[&wrong, &next]);
    assert_eq!(
        directory.authenticate(&fixture.id, good).await.unwrap(),
        Authentication::MustChange,
        "a refused change changes nothing"
    );

    if let Some(weak) = &fixture.weak_password {
        let err = directory.change_password(&fixture.id, good, weak).await.expect_err("a weak new password");
        assert_eq!(err.kind(), BackendErrorKind::PasswordRejected, "a refused new password is PasswordRejected");
        assert!(err.refusal().is_some(), "the directory's refusal names its rule (Unspecified when it does not say)");
        secrets(&err, &[good, weak]);
        assert_eq!(
            directory.authenticate(&fixture.id, good).await.unwrap(),
            Authentication::MustChange,
            "a refused change changes nothing"
        );
    }

    directory.change_password(&fixture.id, good, &next).await.expect("the user's own change from a temporary password");
    assert_eq!(
        directory.authenticate(&fixture.id, &next).await.unwrap(),
        Authentication::Accepted,
        "the new password signs in, with nothing left to change"
    );
    assert_eq!(
        directory.authenticate(&fixture.id, good).await.unwrap(),
        Authentication::Rejected,
        "the old password no longer signs in"
    );
}

/// The same contract for a directory that a service reaches with application rights only
/// (Microsoft Graph app-only): it cannot check a user's own password nor clear a lockout, and
/// must say so with an error on every call (never `Accepted`, never a silent `Ok` for an
/// unlock it did not do); everything else is checked as [`directory_conformance`] does.
pub async fn app_only_directory_conformance(directory: &dyn Directory, fixture: &DirectoryFixture) {
    lookups_and_password_writes(directory, fixture).await;
    for password in [fixture.good_password.clone(), Password::new("anything at all")] {
        let err = directory.authenticate(&fixture.id, &password).await.expect_err("authenticate must be refused");
        assert_eq!(err.kind(), BackendErrorKind::NotSupported, "an operation the directory cannot do is NotSupported");
        assert!(!format!("{err:?} {err}").contains(password.expose_secret()), "the error must not hold the password");
    }
    let err = directory.unlock(&fixture.id).await.expect_err("an unlock it cannot do must not answer Ok");
    assert_eq!(err.kind(), BackendErrorKind::NotSupported, "an operation the directory cannot do is NotSupported");
    searches(directory, fixture).await;
}

/// `find_user` (case, unknown logins, escaping) and `set_password` (good and refused).
async fn lookups_and_password_writes(directory: &dyn Directory, fixture: &DirectoryFixture) {
    let login = NormalizedLogin::parse(&fixture.login).unwrap();
    let upper = NormalizedLogin::parse(&fixture.login.to_uppercase()).unwrap();
    let user = directory.find_user(&login).await.unwrap().expect("the fixture user must be found");
    assert_eq!(user.id, fixture.id, "find_user must return the fixture's id");
    assert_eq!(
        directory.find_user(&upper).await.unwrap().map(|u| u.id),
        Some(fixture.id.clone()),
        "lookup is case-insensitive"
    );
    let missing = NormalizedLogin::parse(&fixture.missing_login).unwrap();
    assert_eq!(directory.find_user(&missing).await.unwrap(), None, "an unknown login must be None");
    // The whole login matches, not a part of it (a prefix, a `LIKE`, a substring filter).
    let whole = login.as_str();
    let cut = &whole[..whole.char_indices().last().map_or(0, |(i, _)| i)];
    for part in [cut.to_owned(), format!("{whole}x"), format!("x{whole}")] {
        let Ok(part) = NormalizedLogin::parse(&part) else { continue };
        assert_ne!(
            directory.find_user(&part).await.unwrap().map(|u| u.id),
            Some(fixture.id.clone()),
            "find_user must match the whole login, not a part of it: {part:?} found the fixture user"
        );
    }
    for hostile in ["*", "*)(objectClass=*", "*)(|(uid=*))", "\\2a", "admin)(&", "' OR '1'='1"] {
        let login = NormalizedLogin::parse(hostile).unwrap();
        assert_eq!(directory.find_user(&login).await.unwrap(), None, "{hostile:?} must be escaped, not matched");
    }
    directory.set_password(&fixture.id, &fixture.good_password, true).await.expect("a good password must be set");
    if let Some(weak) = &fixture.weak_password {
        let err = directory.set_password(&fixture.id, weak, true).await.expect_err("a weak password must be refused");
        assert_eq!(err.kind(), BackendErrorKind::PasswordRejected, "a refused password is PasswordRejected");
        assert!(!format!("{err:?} {err}").contains(weak.expose_secret()), "the error must not hold the password");
    }
}

/// `search`: by a part of the login in any case, its limit, escaping.
async fn searches(directory: &dyn Directory, fixture: &DirectoryFixture) {
    let fragment: String = fixture.login.split('@').next().unwrap_or_default().to_uppercase();
    let found = directory.search(&fragment, 50).await.unwrap();
    assert!(found.iter().any(|u| u.id == fixture.id), "search by a part of the login, any case, finds the user");
    assert!(directory.search("", 1).await.unwrap().len() <= 1, "search honours its limit");
    for hostile in ["*", "*)(objectClass=*", "\\2a", "%", "_"] {
        let hits = directory.search(hostile, 50).await.unwrap();
        assert!(
            hits.iter().all(|u| u.login.contains(hostile) || u.display_name.contains(hostile)),
            "search for {hostile:?} must be escaped, not a wildcard"
        );
    }
}

/// Two engines sharing `store` race on one flow, as two portal instances behind a load
/// balancer would: right-PIN submissions split between them have exactly one winner, and so
/// do completions (one password set). Run it on a store shared between processes to check
/// that its compare-and-set and batches hold across clients (the in-memory store passes it).
///
/// Each run uses a fresh secret key, so its rate-limit keys are its own.
pub async fn two_engine_races(store: std::sync::Arc<dyn StateStore>) {
    use crate::api::{NewPassword, RequestContext};
    use crate::engine::Sspr;
    use crate::error::Error;
    use crate::memory::{MemoryContactStore, MemoryDirectory, Outbox};
    use crate::policy::Policy;
    use crate::secret::{Pin, SecretKey};

    let directory = MemoryDirectory::from_json(
        r#"[{"login": "racer@example.org", "display_name": "Racer", "dn": "uid=racer,ou=staff,dc=example,dc=org"}]"#,
    )
    .unwrap();
    let contacts = MemoryContactStore::new();
    let outbox = Outbox::new();
    let policy =
        Policy { eligible_ous: vec!["ou=staff,dc=example,dc=org".into()], min_response_ms: 0, ..Policy::default() };
    let nanos = crate::clock::SystemClock.now().unix_timestamp_nanos().to_le_bytes();
    let mut key = [0x5au8; 32];
    key[..16].copy_from_slice(&nanos);
    let engine = |seed: u8| {
        Sspr::builder()
            .directory(directory.clone())
            .contacts(contacts.clone())
            .notifier(outbox.clone())
            .store_arc(std::sync::Arc::clone(&store))
            .policy(policy.clone())
            .secret_key(SecretKey::from_bytes(&key).unwrap())
            .rng_seed([seed; 32])
            .build()
            .unwrap()
    };
    let (a, b) = (engine(1), engine(2));
    let ctx = RequestContext::default();
    let admin = crate::api::Actor::Admin("conformance".into());
    a.set_enabled(&admin, "racer@example.org", true, &ctx).await.unwrap();
    let update = crate::api::ContactUpdate {
        email: crate::api::ContactChange::Set("racer@home.example".into()),
        ..Default::default()
    };
    a.update_contacts(&admin, "racer@example.org", update, &ctx).await.unwrap();

    let challenge = a.begin_reset("racer@example.org", &ctx).await.unwrap();
    b.send_pin(&challenge.flow_id, "email", None, &ctx).await.unwrap();
    a.flush_deliveries().await;
    b.flush_deliveries().await;
    let pin = outbox.last_pin_to("racer@home.example").expect("engine B's PIN was delivered");
    let flow = challenge.flow_id.as_str();

    // Right PINs through both engines at once: one verifies, the others find it used (or are
    // held off by the attempt caps, each attempt being counted before its compare).
    let verifies = join_all((0..4).map(|i| {
        let engine = if i % 2 == 0 { &a } else { &b };
        engine.verify_pin(flow, Pin::new(pin.as_str()), &ctx)
    }))
    .await;
    let mut wins = 0;
    for result in verifies {
        match result {
            Ok(_) => wins += 1,
            Err(Error::AlreadyUsed | Error::RateLimited { .. } | Error::Blocked { .. }) => {}
            Err(other) => panic!("a racing verify_pin must win or find the PIN used, not {other:?}"),
        }
    }
    assert_eq!(wins, 1, "exactly one of the right PINs racing through two engines must verify");

    // Completions through both engines at once: one sets a password.
    let completions = join_all((0..6).map(|i| {
        let engine = if i % 2 == 0 { &a } else { &b };
        engine.complete_reset(flow, NewPassword::Temporary, &ctx)
    }))
    .await;
    let mut passwords = 0;
    for result in completions {
        match result {
            Ok(outcome) => {
                assert!(outcome.temporary_password.is_some(), "the winner gets its temporary password");
                passwords += 1;
            }
            Err(Error::AlreadyUsed | Error::InvalidState { .. }) => {}
            Err(other) => panic!("a racing complete_reset must win or find the flow taken, not {other:?}"),
        }
    }
    assert_eq!(passwords, 1, "exactly one of the completions racing through two engines must set a password");
    assert!(
        matches!(b.verify_pin(flow, Pin::new(pin.as_str()), &ctx).await, Err(Error::AlreadyUsed)),
        "the PIN of a completed flow is used"
    );
}
