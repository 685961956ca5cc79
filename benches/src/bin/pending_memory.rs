//! The memory held by pending reset flows in the in-memory state store.
//!
//! `cargo run --release -p sspr-benches --bin pending_memory -- [N]` (default N = 1,000,000)
//!
//! Prints a Markdown table with, for each scenario, the live heap bytes the N flows added
//! (counted by a global allocator that tracks the bytes requested and not yet freed) and the
//! growth of the resident set (VmRSS of `/proc/self/status`, which adds the allocator's own
//! overhead and fragmentation). Each scenario runs in a fresh child process (this binary
//! again, with `--scenario NAME`), so one scenario's freed memory cannot hide the next one's
//! RSS growth.
//!
//! - `started`: N flows after `begin_reset` for unknown logins (decoys: the flows an
//!   enumeration or flooding attacker creates), no client IP, so no per-IP counters.
//! - `pin_sent`: N flows after `begin_reset` + `send_pin` (the realistic pending flow) for
//!   N / 5 enrolled users, each with their own address, under the default policy (5 PINs per
//!   user and per destination an hour: each user gets exactly 5), with the per-user and
//!   per-destination counters a real deployment keeps. The users' enrollment (directory and
//!   contact store) happens before the baseline and is not counted.
//!
//! The clock stands still, so every flow is live (a flow lives 15 minutes) when measured.
//! The target: at most 512 bytes per pending flow.

// A report tool: its output is the table it prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::error::Error;
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sspr_benches::{DropNotifier, clock, engine, enroll, login, runtime, unknown_login};
use sspr_core::memory::MemoryStateStore;
use sspr_core::{Policy, RequestContext};

type AnyResult<T> = Result<T, Box<dyn Error>>;

/// Flows per user in the `pin_sent` scenario: the default per-user and per-destination cap.
const FLOWS_PER_USER: usize = 5;

/// Bytes requested from the allocator and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes.
struct Counting;

// `GlobalAlloc` is an unsafe trait: a counting allocator cannot be written without `unsafe`.
// Every method forwards to `System` with the caller's arguments unchanged (so `System`'s
// guarantees are the caller's) and only adds bookkeeping on an atomic counter, which does
// not allocate. This is the one unsafe item of the crate (`unsafe_code = "deny"` elsewhere).
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` was allocated by this allocator (so by `System`)
        // with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The resident set size, from `VmRSS` in `/proc/self/status`.
fn rss_bytes() -> AnyResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or("no VmRSS in /proc/self/status")?;
    let kib: u64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse()?;
    Ok(kib * 1024)
}

/// What one scenario measured.
struct Measured {
    flows: usize,
    heap: usize,
    rss: i128,
}

/// Measure the heap and RSS added by `add_flows`, the store kept alive until after both reads.
async fn measure<F, Fut>(flows: usize, add_flows: F) -> AnyResult<Measured>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = AnyResult<()>>,
{
    let (heap0, rss0) = (live_bytes(), rss_bytes()?);
    add_flows().await?;
    let (heap1, rss1) = (live_bytes(), rss_bytes()?);
    Ok(Measured { flows, heap: heap1.saturating_sub(heap0), rss: i128::from(rss1) - i128::from(rss0) })
}

/// `begin_reset` for `n` unknown logins: `n` flows in state Started.
async fn started(n: usize) -> AnyResult<Measured> {
    let store = MemoryStateStore::new();
    let notifier = DropNotifier::new();
    let sspr = engine(
        0,
        Arc::new(notifier.clone()),
        store.clone(),
        clock()?,
        Some(Policy { min_response_ms: 0, ..Policy::default() }),
    )?;
    let ctx = RequestContext::default();
    // Warm up lazily initialised state (one flow, counted in the baseline).
    black_box(sspr.begin_reset("warm-up@corp.example", &ctx).await?);
    let before = store.len();

    let measured = measure(n, || async {
        for i in 0..n {
            black_box(sspr.begin_reset(&unknown_login(i), &ctx).await?);
        }
        Ok(())
    })
    .await?;

    let entries = store.len() - before;
    eprintln!("started: {entries} store entries added for {n} flows");
    if entries != n {
        return Err(format!("expected {n} new store entries, found {entries}").into());
    }
    black_box((&sspr, &store));
    Ok(measured)
}

/// `begin_reset` + `send_pin` for `n` flows of `n / 5` enrolled users: `n` flows in state
/// PinSent, plus each user's send and destination counters.
async fn pin_sent(n: usize) -> AnyResult<Measured> {
    let users = n.div_ceil(FLOWS_PER_USER).max(1);
    let store = MemoryStateStore::new();
    let notifier = DropNotifier::new();
    // Unpadded: padding by the manual clock would age the flows being measured.
    let policy = Policy { min_response_ms: 0, ..Policy::default() };
    if policy.user_sends_per_hour as usize != FLOWS_PER_USER
        || policy.destination_sends_per_hour as usize != FLOWS_PER_USER
    {
        return Err("the default per-user / per-destination caps changed: update FLOWS_PER_USER".into());
    }
    let sspr = engine(users, Arc::new(notifier.clone()), store.clone(), clock()?, Some(policy))?;
    eprintln!("pin_sent: enrolling {users} users...");
    enroll(&sspr, users).await?;
    let ctx = RequestContext::default();
    // Warm up lazily initialised state with a decoy flow (counted in the baseline).
    let warm = sspr.begin_reset("warm-up@corp.example", &ctx).await?;
    black_box(sspr.send_pin(&warm.flow_id, "email", None, &ctx).await?);
    let before = store.len();

    let measured = measure(n, || async {
        for i in 0..n {
            let challenge = sspr.begin_reset(&login(i % users), &ctx).await?;
            black_box(sspr.send_pin(&challenge.flow_id, "email", None, &ctx).await?);
        }
        Ok(())
    })
    .await?;

    let entries = store.len() - before;
    eprintln!(
        "pin_sent: {entries} store entries added ({n} flows + {} counters), {} PINs sent",
        entries.saturating_sub(n),
        notifier.sent()
    );
    if notifier.sent() != n as u64 {
        return Err(format!("expected {n} PINs sent, the notifier got {}", notifier.sent()).into());
    }
    black_box((&sspr, &store));
    Ok(measured)
}

/// `1234567` -> `1,234,567`.
fn thousands(n: impl ToString) -> String {
    let digits = n.to_string();
    let (sign, digits) = digits.strip_prefix('-').map_or(("", digits.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

const SCENARIOS: [(&str, &str); 2] = [
    ("started", "Started: `begin_reset`, unknown logins (decoys)"),
    ("pin_sent", "PinSent: `begin_reset` + `send_pin`, N/5 users, with counters"),
];

/// Run one scenario in this process and print its table row.
fn run_scenario(name: &str, n: usize) -> AnyResult<()> {
    let rt = runtime()?;
    let measured = match name {
        "started" => rt.block_on(started(n))?,
        "pin_sent" => rt.block_on(pin_sent(n))?,
        other => return Err(format!("unknown scenario {other:?}").into()),
    };
    let label = SCENARIOS.iter().find(|(s, _)| *s == name).map_or(name, |(_, label)| label);
    let flows = measured.flows.max(1) as f64;
    println!(
        "| {label} | {} | {} | {:.1} | {:.1} |",
        thousands(measured.flows),
        thousands(measured.heap),
        measured.heap as f64 / flows,
        measured.rss as f64 / flows,
    );
    Ok(())
}

fn main() -> AnyResult<()> {
    // The arguments after the program's name.
    let args: Vec<String> = std::env::args().collect();
    let args = args.get(1..).unwrap_or_default();
    let mut n = 1_000_000usize;
    let mut scenario = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--scenario" => scenario = Some(rest.next().ok_or("--scenario needs a name")?.clone()),
            "-h" | "--help" => {
                println!("usage: pending_memory [N] [--scenario started|pin_sent]   (N defaults to 1000000)");
                return Ok(());
            }
            number => n = number.replace(['_', ','], "").parse().map_err(|e| format!("N: {number:?}: {e}"))?,
        }
    }
    if n == 0 {
        return Err("N must be at least 1".into());
    }
    if let Some(name) = scenario {
        return run_scenario(&name, n);
    }

    // Each scenario in its own process: a clean heap and a clean RSS baseline.
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for (name, _) in SCENARIOS {
        let output =
            Command::new(&exe).args([n.to_string().as_str(), "--scenario", name]).stderr(Stdio::inherit()).output()?;
        if !output.status.success() {
            return Err(format!("scenario {name} failed: {}", output.status).into());
        }
        rows.push(String::from_utf8(output.stdout)?.trim().to_owned());
    }
    println!();
    println!("| scenario | flows | live heap bytes | bytes per flow | RSS delta per flow |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!("{row}");
    }
    println!();
    println!("Target: at most 512 bytes per pending flow (live heap bytes / flows).");
    Ok(())
}
