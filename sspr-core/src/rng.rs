//! The engine's CSPRNG: ChaCha20, seeded by the caller (tests, vectors) or from the OS.

use std::fmt;
use std::sync::{Arc, Mutex};

use rand_chacha::ChaCha20Rng;
#[cfg(feature = "os-rng")]
use rand_core::TryRngCore;
use rand_core::{RngCore, SeedableRng};

/// A shared ChaCha20 generator. Cloning shares the same stream.
#[derive(Clone)]
pub(crate) struct SharedRng(Arc<Mutex<ChaCha20Rng>>);

impl SharedRng {
    pub(crate) fn from_seed(seed: [u8; 32]) -> Self {
        Self(Arc::new(Mutex::new(ChaCha20Rng::from_seed(seed))))
    }

    /// Run `f` with exclusive use of the generator. Never held across an `.await`.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
        let mut rng = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut rng)
    }

    pub(crate) fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.with(|rng| rng.fill_bytes(&mut out));
        out
    }
}

impl fmt::Debug for SharedRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChaCha20Rng([REDACTED])")
    }
}

/// A 32-byte seed from the operating system's generator.
#[cfg(feature = "os-rng")]
pub(crate) fn seed_from_os() -> crate::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    rand_core::OsRng
        .try_fill_bytes(&mut seed)
        .map_err(|e| crate::Error::Config(format!("the OS random generator failed: {e}")))?;
    Ok(seed)
}

/// A uniformly random index below `bound` (rejection sampling: no modulo bias).
pub(crate) fn uniform_below(rng: &mut ChaCha20Rng, bound: u32) -> u32 {
    if bound <= 1 {
        return 0;
    }
    // The largest multiple of `bound` not above 2^32; draws at or above it are redrawn.
    let span = 1u64 << 32;
    let zone = span - span % u64::from(bound);
    loop {
        let v = u64::from(rng.next_u32());
        if v < zone {
            return (v % u64::from(bound)) as u32;
        }
    }
}
