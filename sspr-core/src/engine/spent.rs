//! A one-time code's "used" mark: the compare-and-set that spends a contact proof's code
//! ([`super::proof`]) or a helpdesk recovery code ([`super::recovery`]), made so that neither
//! a lost answer nor a dropped call leaves the code spent and its purpose not served.
//!
//! A store can make a write and lose its answer (a restart, a failover, a cut connection):
//! the caller sees `Unavailable` for a mark that was made, and the user's retry then finds the
//! code spent (`AlreadyUsed`) with nothing done. A reset PIN's verdict is read back the same
//! way ([`super::reset`]'s `update_flow`). Each mark carries a token of the call that made it,
//! so a read-back tells this call's mark from a racing twin's (the same right code typed
//! twice writes the same record otherwise), and a right code is still spent exactly once.
//!
//! A call that stops after its mark (its future dropped: a client gone, a host's timeout, a
//! cancelled task) and before its purpose is served gives the code back on the engine's
//! spawner, with its attempt still counted, if the record still holds its mark.

use time::OffsetDateTime;

use super::Sspr;
use crate::error::{Error, Result};

/// A "used" mark about to be written: the record with it, and the record to restore (the
/// same attempts counted, not used) should the call not finish.
#[derive(Clone)]
pub(super) struct Mark {
    pub(super) key: String,
    /// The record marked used, with this call's token.
    pub(super) marked: Vec<u8>,
    /// The record given back: not used, the attempt still counted.
    pub(super) back: Vec<u8>,
    pub(super) keep_until: OffsetDateTime,
    pub(super) now: OffsetDateTime,
}

impl Mark {
    /// The mark of `marked` (the record used, with this call's token) under `key`, to be given
    /// back as `back` (the same record not used, without a token, its attempt still counted);
    /// kept a minute past the record's own `expires`. Each record is encoded once, by `encode`
    /// ([`json`], or a seal under a fresh nonce): [`Sspr::put_mark`] and [`GiveBack`] know the
    /// mark by these very bytes when they read it back.
    pub(super) fn new<R>(
        key: &str,
        marked: &R,
        back: &R,
        expires: OffsetDateTime,
        now: OffsetDateTime,
        encode: impl Fn(&R) -> Result<Vec<u8>>,
    ) -> Result<Self> {
        Ok(Self {
            key: key.to_owned(),
            marked: encode(marked)?,
            back: encode(back)?,
            keep_until: expires + time::Duration::minutes(1),
            now,
        })
    }
}

/// A record's JSON, for [`Mark::new`]; `what` names the record in the error should it not
/// encode.
pub(super) fn json<R: serde::Serialize>(what: &str) -> impl Fn(&R) -> Result<Vec<u8>> + '_ {
    move |record| serde_json::to_vec(record).map_err(|e| Error::Config(format!("{what}: {e}")))
}

/// A mark's token: unguessable and never shown (it only tells one call's mark from another's).
pub(super) fn token(sspr: &Sspr) -> String {
    crate::hex::encode(&sspr.inner.rng.bytes::<8>())
}

impl Sspr {
    /// Write `mark` over version `expected` (a compare-and-set): `Some(version)` when made,
    /// `None` when another call changed the record first. A store error is checked by reading
    /// the record back: if it holds this mark, the mark was made and its answer lost.
    ///
    /// Errors: the store's, when the mark was not made or the read-back failed too.
    pub(super) async fn put_mark(&self, mark: &Mark, expected: u64) -> Result<Option<u64>> {
        let store = &self.inner.store;
        match store.put(&mark.key, &mark.marked, Some(expected), mark.keep_until, mark.now).await {
            Ok(version) => Ok(version),
            Err(error) => match store.get(&mark.key, mark.now).await {
                Ok(Some(stored)) if stored.value == mark.marked => {
                    tracing::warn!(error = %error, "a one-time code's mark was made but its answer was lost");
                    Ok(Some(stored.version))
                }
                _ => Err(error.into()),
            },
        }
    }
}

/// Gives a marked code back on the spawner when dropped armed: the call that marked it (or
/// may have) stopped before serving its purpose. First deletes `deletes`, the keys of what
/// the call wrote for its caller and never handed over (a recovered flow). Disarmed with
/// [`GiveBack::disarm`] once the purpose is served or given back by the call itself. The
/// default is disarmed.
#[derive(Default)]
pub(super) struct GiveBack {
    armed: Option<(Sspr, Mark, Vec<String>)>,
}

impl GiveBack {
    /// Armed for `mark`, and the keys `deletes`.
    pub(super) fn arm(sspr: &Sspr, mark: Mark, deletes: Vec<String>) -> Self {
        Self { armed: Some((sspr.clone(), mark, deletes)) }
    }

    /// Nothing to give back.
    pub(super) fn disarm(&mut self) {
        self.armed = None;
    }
}

impl Drop for GiveBack {
    fn drop(&mut self) {
        let Some((sspr, mark, deletes)) = self.armed.take() else { return };
        let engine = sspr.clone();
        engine.spawn_detached(async move {
            let store = &sspr.inner.store;
            for key in deletes {
                if let Err(e) = store.delete(&key).await {
                    tracing::warn!(error = %e, "what a stopped call wrote could not be deleted (it expires)");
                }
            }
            // Only this call's own mark is given back: anything newer is left alone.
            let given = match store.get(&mark.key, mark.now).await {
                Ok(Some(stored)) if stored.value == mark.marked => {
                    store.put(&mark.key, &mark.back, Some(stored.version), mark.keep_until, mark.now).await.map(|_| ())
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = given {
                tracing::warn!(error = %e, "a one-time code whose call stopped could not be given back");
            }
        });
    }
}
