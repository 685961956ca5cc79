//! One server key for every instance that shares a state store.
//!
//! Instances sharing flows, counters and blocks through `[state]` must key them alike. An
//! instance with a key of its own counts a user's failed verifications under other store
//! keys (an attacker gets a fresh allowance, and escapes a block, on each), draws other
//! decoy masks for the same unknown login (a visitor balanced over both sees an unknown
//! login's mask change while a real user's stays: enumeration), and cannot open the other
//! instance's sessions. Each data directory creates its own key on first start, so a second
//! host set up like the first got another key without a word. Now an instance writes a keyed
//! fingerprint of its key into the store at start-up, or finds the one there and refuses to
//! start when it is not its own.
//!
//! A key rotation (`previous_key_files`) rolls over the instances one by one, so for a while
//! some run the old key alone and some the new key with the old one listed as previous. Each
//! instance records the fingerprints of its whole ring (current key first) and starts when its
//! ring shares a key with the ring recorded: both instances then read every block and count
//! the other writes. Two instances whose rings share no key are still refused.

use sspr_core::StateStore;
use time::OffsetDateTime;

use crate::Error;

/// Where the fingerprint lives (after the store's own prefix).
pub(crate) const KEY_CHECK: &str = "portal:key-check";
/// Domain separation: the fingerprint is no key any other part of the portal or engine uses.
const LABEL: &[u8] = b"sspr-portal key check v1";
/// How long the fingerprint stays without a start-up renewing it.
const KEPT: time::Duration = time::Duration::days(3650);
/// Compare-and-set rounds before giving up (another instance starting at the same moment).
const TRIES: usize = 3;

/// The fingerprint of the server key `secret` (the key file's text): an HMAC of a constant,
/// from which the key cannot be recovered.
fn fingerprint(secret: &[u8]) -> Vec<u8> {
    crate::hmac::hmac_sha256(secret, &[LABEL]).to_vec()
}

/// The length of one fingerprint: the stored value is one per key of a ring, one after another.
const FINGERPRINT_LEN: usize = 32;

/// Check that every instance sharing `store` uses the server key, or a ring sharing a key with
/// theirs: `ring` is the current key (read from `key_path`) and the previous ones, as the key
/// files' text. Record the ring's fingerprints when the store has none, or when the recorded
/// ring shares a key with this one.
///
/// # Errors
/// [`Error::Config`] when the store holds the fingerprints of a ring sharing no key with this
/// one (saying what to do), or cannot be read or written.
pub(crate) async fn one_key_per_store(
    store: &dyn StateStore,
    ring: &[&[u8]],
    key_path: &std::path::Path,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let fingerprints: Vec<Vec<u8>> = ring.iter().map(|secret| fingerprint(secret)).collect();
    let mine = fingerprints.concat();
    let unusable =
        |e: sspr_core::BackendError| Error::Config(format!("cannot check the server key in the state store: {e}"));
    for _ in 0..TRIES {
        let found = store.get(KEY_CHECK, now).await.map_err(unusable)?;
        if let Some(found) = &found
            && !found.value.chunks(FINGERPRINT_LEN).any(|theirs| fingerprints.iter().any(|f| f == theirs))
        {
            return Err(Error::Config(format!(
                "the [state] store is shared with an instance whose server key is not this one's ({}): every \
                 instance sharing it needs the same key, or users' failure counts, blocks and decoy answers \
                 differ between them. Copy the key file of the first instance to this one (or point \
                 secret_key_file at it). If the key was changed on purpose, delete the store's entry \
                 \"{KEY_CHECK}\" (in Redis the key ending in {{{KEY_CHECK}}} after your key_prefix); the \
                 counts, blocks and pending resets kept under the old key are then left behind. To \
                 rotate the key without losing them, list the old key file in previous_key_files \
                 (README, \"Rotating the server key\")",
                key_path.display()
            )));
        }
        let version = found.map(|f| f.version);
        if store.put(KEY_CHECK, &mine, version, now + KEPT, now).await.map_err(unusable)?.is_some() {
            return Ok(());
        }
    }
    Err(Error::Config("cannot check the server key in the state store: other instances kept changing it".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspr_core::memory::MemoryStateStore;

    #[tokio::test]
    async fn the_first_key_is_recorded_the_same_key_passes_and_another_is_refused() {
        let store = MemoryStateStore::new();
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let path = std::path::Path::new("/srv/sspr/secret.key");
        one_key_per_store(&store, &[b"first key"], path, now).await.unwrap();
        one_key_per_store(&store, &[b"first key"], path, now).await.unwrap();
        let refused = one_key_per_store(&store, &[b"other key"], path, now).await.unwrap_err().to_string();
        assert!(refused.contains("/srv/sspr/secret.key") && refused.contains(KEY_CHECK), "{refused}");
        // The fingerprint is not the key, and the refusal does not quote either key.
        let stored = store.get(KEY_CHECK, now).await.unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&stored.value).contains("first key"));
        assert!(!refused.contains("first key") && !refused.contains("other key"));
        // Renewed at each start: it does not run out while instances keep starting.
        let later = now + KEPT - time::Duration::days(1);
        one_key_per_store(&store, &[b"first key"], path, later).await.unwrap();
        let much_later = later + time::Duration::days(2);
        assert!(store.get(KEY_CHECK, much_later).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_rolling_rotation_starts_and_two_unrelated_rings_are_refused() {
        let store = MemoryStateStore::new();
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let path = std::path::Path::new("/srv/sspr/secret.key");
        let (old, new, other): (&[u8], &[u8], &[u8]) = (b"old key", b"new key", b"other key");
        // Instance A on the old key; B comes up on the new key with the old one as previous.
        one_key_per_store(&store, &[old], path, now).await.unwrap();
        one_key_per_store(&store, &[new, old], path, now).await.unwrap();
        // A restarts before it is rotated: its key is in the ring B recorded.
        one_key_per_store(&store, &[old], path, now).await.unwrap();
        one_key_per_store(&store, &[new, old], path, now).await.unwrap();
        // Once every instance runs the ring, the old key is dropped: the new key alone starts.
        one_key_per_store(&store, &[new], path, now).await.unwrap();
        // A ring sharing no key with the recorded one is refused, as a lone other key is.
        assert!(one_key_per_store(&store, &[other, old], path, now).await.is_err());
        assert!(one_key_per_store(&store, &[other], path, now).await.is_err());
        // Before the ring (one instance on the new key alone) the rotation was refused.
        let store = MemoryStateStore::new();
        one_key_per_store(&store, &[old], path, now).await.unwrap();
        assert!(one_key_per_store(&store, &[new], path, now).await.is_err());
    }
}
