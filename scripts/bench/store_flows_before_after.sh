#!/usr/bin/env bash
# Whole flows/s per state store of two engine versions side by side in one run: the
# store_flows example (sspr-backends/examples/store_flows.rs) built at REV (before) and at the
# working tree (after), run alternately ROUNDS times against the same servers (Redis, the
# 3-master Redis Cluster, PostgreSQL; memory and SQLite too), then the median of each cell and
# the after/before ratio.
#   scripts/bench/store_flows_before_after.sh REV [FLOWS] [ROUNDS]    (default 1024, 3)
# REV is built in a temporary git worktree with the same CARGO_TARGET_DIR (only the
# workspace's crates are built again); the worktree is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
rev=${1:?usage: store_flows_before_after.sh REV [FLOWS] [ROUNDS]}
flows=${2:-1024}
rounds=${3:-3}
target=${CARGO_TARGET_DIR:-$PWD/target}
work=$(mktemp -d)
on_exit "git worktree remove --force '$work/before' >/dev/null 2>&1 || true; rm -rf '$work'"
step "build store_flows at $rev (before) and at the working tree (after), release"
git worktree add --detach "$work/before" "$rev" >/dev/null
(cd "$work/before" && CARGO_TARGET_DIR="$target" cargo build -q --release -p sspr-backends --all-features --example store_flows)
cp "$target/release/examples/store_flows" "$work/store_flows_before"
cargo build -q --release -p sspr-backends --all-features --example store_flows
cp "$target/release/examples/store_flows" "$work/store_flows_after"
source scripts/servers/40-redis.sh >/dev/null
source scripts/servers/45-redis-cluster.sh >/dev/null
source scripts/servers/50-postgres.sh >/dev/null
step "$rounds rounds of $flows flows, before and after alternately"
for round in $(seq "$rounds"); do
  for side in before after; do
    "$work/store_flows_$side" "$flows" | awk -v side="$side" -v round="$round" \
      -F'|' '/^\| [a-z]/ && $2 !~ /store/ { gsub(/ /, "", $2); gsub(/ /, "", $3); gsub(/ /, "", $5); print side, round, $2, $3, $5 }' \
      >> "$work/results"
  done
done
echo "every run (side, round, store, flows/s sequential, flows/s 16 in flight):"
cat "$work/results"
python3 - "$work/results" <<'PYEOF'
import statistics, sys
cells = {}
for line in open(sys.argv[1]):
    side, _, store, seq, conc = line.split()
    cells.setdefault((store, side), []).append((float(seq), float(conc)))
stores = list(dict.fromkeys(store for store, _ in cells))
print("| store | before seq | after seq | ratio | before 16 in flight | after 16 in flight | ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for store in stores:
    b, a = cells.get((store, "before"), []), cells.get((store, "after"), [])
    if not b or not a:
        continue
    bs, as_ = statistics.median(x for x, _ in b), statistics.median(x for x, _ in a)
    bc, ac = statistics.median(y for _, y in b), statistics.median(y for _, y in a)
    print(f"| {store} | {bs:.0f} | {as_:.0f} | {as_ / bs:.2f}x | {bc:.0f} | {ac:.0f} | {ac / bc:.2f}x |")
PYEOF
echo "medians of $rounds rounds of $flows flows; load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
