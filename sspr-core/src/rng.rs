//! The engine's CSPRNG: ChaCha20, seeded by the caller (tests, vectors) or from the OS, and
//! reseeded in a forked child.
//!
//! A process that builds the engine and then forks (gunicorn `--preload`, uWSGI, a Node
//! cluster primary that forks) hands every child a copy of the generator's state: without a
//! reseed, parent and children would draw the same flow ids, PINs and temporary passwords.
//! The generator remembers the process id it was seeded in and, on the first draw in another
//! process, reseeds itself there.
//!
//! A copy of the process with the *same* process id (a VM snapshot restored twice, a CRIU or
//! container checkpoint restored twice, a serverless snapshot such as Lambda SnapStart
//! started many times) cannot be told by the process id. An OS-seeded generator therefore
//! mixes fresh OS randomness into every draw: each copy's kernel has its own from the moment
//! it runs again (Linux reseeds after a VM fork), so the copies part at their first draw.

use std::fmt;
use std::sync::{Arc, Mutex};

use rand_chacha::ChaCha20Rng;
#[cfg(feature = "os-rng")]
use rand_core::TryRngCore;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// A shared ChaCha20 generator. Cloning shares the same stream.
#[derive(Clone)]
pub(crate) struct SharedRng(Arc<Mutex<State>>);

struct State {
    rng: ChaCha20Rng,
    /// The process the current stream belongs to.
    pid: u32,
    /// Whether the stream came from the OS: then every draw mixes in fresh OS randomness
    /// (a forked child's first draw included). A caller's seed (tests, vectors) is reseeded
    /// only in a forked child, deterministically, from the inherited stream and the new
    /// process id, so runs stay reproducible and parent and child still differ.
    from_os: bool,
}

impl SharedRng {
    /// A generator from the caller's `seed` (tests and vectors).
    pub(crate) fn from_seed(seed: [u8; 32]) -> Self {
        Self::new(seed, std::process::id(), false)
    }

    /// A generator seeded from the operating system.
    #[cfg(feature = "os-rng")]
    pub(crate) fn from_os() -> crate::Result<Self> {
        Ok(Self::new(seed_from_os()?, std::process::id(), true))
    }

    fn new(seed: [u8; 32], pid: u32, from_os: bool) -> Self {
        Self(Arc::new(Mutex::new(State { rng: ChaCha20Rng::from_seed(seed), pid, from_os })))
    }

    /// Run `f` with exclusive use of the generator. Never held across an `.await`.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
        self.with_in(std::process::id(), f)
    }

    /// [`Self::with`] as seen from process `pid` (the tests give a pid to stand for a fork).
    fn with_in<T>(&self, pid: u32, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
        let mut state = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A copy of this memory may run as another process, or as this one restored twice
        // (the module's documentation): an OS-seeded stream takes fresh OS randomness first.
        if state.pid != pid || state.from_os {
            state.reseed(pid);
        }
        f(&mut state.rng)
    }

    pub(crate) fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.with(|rng| rng.fill_bytes(&mut out));
        out
    }
}

impl State {
    /// A new stream for process `pid`: a hash of the inherited stream's next bytes, the pid and
    /// (for an OS-seeded generator) fresh OS randomness, so the new stream cannot be derived
    /// from anything another copy of the process hands out.
    fn reseed(&mut self, pid: u32) {
        let mut inherited = [0u8; 32];
        self.rng.fill_bytes(&mut inherited);
        let mut hash = Sha256::new();
        hash.update(b"sspr rng reseed after fork\0");
        hash.update(inherited);
        hash.update(pid.to_le_bytes());
        if self.from_os {
            hash.update(fresh_os_entropy());
        }
        self.rng = ChaCha20Rng::from_seed(hash.finalize().into());
        self.pid = pid;
    }
}

/// 32 bytes from the OS for a reseed. Should the OS generator fail, the reseed still differs
/// per process (inherited stream and pid), and the failure is logged (the stream itself goes
/// on: the inherited bytes are as good as the OS seed they came from).
#[cfg(feature = "os-rng")]
fn fresh_os_entropy() -> [u8; 32] {
    seed_from_os().unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not reseed the random generator from the OS after a fork");
        [0; 32]
    })
}

#[cfg(not(feature = "os-rng"))]
fn fresh_os_entropy() -> [u8; 32] {
    [0; 32]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fork copies the generator's memory: two generators in the same state, one of which
    /// then runs in another process.
    fn forked(from_os: bool) -> (SharedRng, SharedRng) {
        (SharedRng::new([7; 32], 100, from_os), SharedRng::new([7; 32], 100, from_os))
    }

    fn draw(rng: &SharedRng, pid: u32) -> [u8; 16] {
        let mut out = [0u8; 16];
        rng.with_in(pid, |r| r.fill_bytes(&mut out));
        out
    }

    #[test]
    fn a_forked_child_draws_another_stream_than_its_parent() {
        for from_os in [false, true] {
            let (parent, child) = forked(from_os);
            let parent_draws: Vec<_> = (0..4).map(|_| draw(&parent, 100)).collect();
            let child_draws: Vec<_> = (0..4).map(|_| draw(&child, 101)).collect();
            for c in &child_draws {
                assert!(!parent_draws.contains(c), "the child repeated a draw of its parent (from_os {from_os})");
            }
            // The child keeps its new stream: no reseed on every draw.
            assert_ne!(child_draws[0], child_draws[1]);
        }
    }

    #[test]
    fn two_children_of_one_parent_differ_and_a_seeded_reseed_is_reproducible() {
        let (a, b) = forked(false);
        assert_ne!(draw(&a, 101), draw(&b, 102), "siblings must differ");
        let (a, b) = forked(false);
        assert_eq!(draw(&a, 101), draw(&b, 101), "a caller's seed stays reproducible through a fork");
        let (a, b) = forked(true);
        assert_ne!(draw(&a, 101), draw(&b, 101), "an OS-seeded child mixes in fresh OS randomness");
    }

    /// A snapshot restored twice (a VM, a CRIU checkpoint, Lambda SnapStart): two copies of
    /// the generator's memory in processes with the same id. On main both drew the same flow
    /// ids, PINs and temporary passwords from then on.
    #[test]
    fn two_restores_of_one_snapshot_draw_different_streams() {
        let (a, b) = forked(true);
        let (a_draws, b_draws): (Vec<_>, Vec<_>) = (0..4).map(|_| (draw(&a, 100), draw(&b, 100))).unzip();
        for d in &a_draws {
            assert!(!b_draws.contains(d), "two restores of one snapshot drew the same bytes");
        }
        // A caller's seed stays reproducible (tests and vectors rely on it).
        let (a, b) = forked(false);
        assert_eq!(draw(&a, 100), draw(&b, 100));
    }

    #[test]
    fn the_same_process_keeps_one_stream() {
        let (a, b) = forked(false);
        for _ in 0..3 {
            assert_eq!(draw(&a, 100), draw(&b, 100));
        }
    }
}
