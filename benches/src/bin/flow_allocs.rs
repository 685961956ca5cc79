//! Allocations per reset flow and per call, counted by a global allocator around the loop the
//! `flow` benchmark times (same engine, users, store and clock pacing).
//!
//! `cargo run --release -p sspr-benches --bin flow_allocs -- [flows]` (default 20,000)
//! `cargo run --release -p sspr-benches --bin flow_allocs -- floor [n]`: the same for `n` runs of
//! the `flow` benchmark's crypto floor ([`sspr_benches::crypto_floor`]).
//!
//! Run under `valgrind --tool=callgrind` with two different counts, the difference of the
//! instructions divided by the difference of the counts is the instructions per flow (or per
//! floor) without the setup: a ratio of work that, unlike the times, does not move with the
//! machine's load (BENCHMARKS.md §1).
//!
//! An allocation is a call to `alloc`, `alloc_zeroed` or `realloc`. The counts do not depend
//! on the machine's load; the `flow` benchmark's times do.

// A report tool: its output is the table it prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use sspr_benches::{RNG_SEED, clock, crypto_floor, email, engine, enroll, login, runtime, secret_key};
use sspr_core::memory::{MemoryStateStore, Outbox};
use sspr_core::{NewPassword, Pin, RequestContext, password};

/// Users the flows take turns on, as in the `flow` benchmark.
const USERS: usize = 64;

/// Allocations and reallocations so far.
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting calls.
struct Counting;

// `GlobalAlloc` is an unsafe trait: a counting allocator cannot be written without `unsafe`.
// Every method forwards to `System` with the caller's arguments unchanged (so `System`'s
// guarantees are the caller's) and only adds one to an atomic counter, which does not allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` was allocated by this allocator (so by `System`)
        // with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// `n` crypto floors, as the `flow` benchmark runs them.
fn floors(n: usize) -> Result<(), Box<dyn Error>> {
    let key = secret_key()?;
    let mut rng = ChaCha20Rng::from_seed(RNG_SEED);
    let tokens = password::identity_tokens(&login(0), "Bench User 0");
    let (flow_id, user_id, address) =
        ("0123456789abcdef0123456789abcdef", "uid=user0,ou=staff,dc=corp,dc=example", email(0));
    let before = count();
    for _ in 0..n {
        if !crypto_floor(&mut rng, &key, flow_id, user_id, &address, &tokens) {
            return Err("the floor's PIN did not match".into());
        }
    }
    println!("allocations per crypto floor, mean over {n}: {:.1}", (count() - before) as f64 / n.max(1) as f64);
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("floor") {
        return floors(args.nth(1).map(|n| n.parse()).transpose()?.unwrap_or(20_000));
    }
    let flows: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(20_000);
    let rt = runtime()?;
    let outbox = Outbox::new();
    let clock = clock()?;
    let sspr = {
        let _runtime = rt.enter();
        engine(USERS, Arc::new(outbox.clone()), MemoryStateStore::new(), clock.clone(), None)?
    };
    rt.block_on(enroll(&sspr, USERS))?;
    let logins: Vec<String> = (0..USERS).map(login).collect();
    let emails: Vec<String> = (0..USERS).map(email).collect();
    let ctx = RequestContext::default();
    // The size of each call's future (a future is moved at least once, into the caller's
    // state or onto the heap: large ones cost memcpy on every call).
    {
        let (login, flow) = (login(0), "0123456789abcdef0123456789abcdef");
        let sizes = [
            std::mem::size_of_val(&sspr.begin_reset(&login, &ctx)),
            std::mem::size_of_val(&sspr.send_pin(flow, "email", None, &ctx)),
            std::mem::size_of_val(&sspr.verify_pin(flow, Pin::new("12345678"), &ctx)),
            std::mem::size_of_val(&sspr.complete_reset(flow, NewPassword::Temporary, &ctx)),
        ];
        println!("future sizes in bytes (begin, send, verify, complete): {sizes:?}");
    }
    // begin, send, verify, complete; the first 1,000 flows warm the store up and are not counted.
    let mut per_call = [0usize; 4];
    rt.block_on(async {
        for n in 0..flows + 1000 {
            let login = logins.get(n % USERS).ok_or("user < USERS")?;
            let address = emails.get(n % USERS).ok_or("user < USERS")?;
            clock.advance(Duration::from_secs(1));
            if n % 256 == 0 {
                outbox.clear();
            }
            let before = count();
            let challenge = sspr.begin_reset(login, &ctx).await?;
            let begin = count() - before;
            let before = count();
            sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await?;
            let send = count() - before;
            let pin = outbox.last_pin_to(address).ok_or("no PIN in the outbox")?;
            let typed = Pin::new(pin);
            let before = count();
            sspr.verify_pin(&challenge.flow_id, typed, &ctx).await?;
            let verify = count() - before;
            let before = count();
            let outcome = sspr.complete_reset(&challenge.flow_id, NewPassword::Temporary, &ctx).await?;
            let complete = count() - before;
            drop(outcome);
            let spent = [begin, send, verify, complete];
            if n >= 1000 {
                for (total, step) in per_call.iter_mut().zip(spent) {
                    *total += step;
                }
            }
        }
        Ok::<_, Box<dyn Error>>(())
    })?;
    let per_flow = |total: usize| total as f64 / flows as f64;
    println!("allocations per call, mean over {flows} flows:");
    for (name, total) in ["begin_reset", "send_pin", "verify_pin", "complete_reset"].iter().zip(per_call) {
        println!("  {name:<15} {:>6.1}", per_flow(total));
    }
    println!("  {:<15} {:>6.1}", "whole flow", per_flow(per_call.iter().sum()));
    Ok(())
}
