#!/usr/bin/env bash
# Load run of issue 17.6: two portal instances on 127.0.0.1 sharing one Redis (flows, counters,
# blocks and the sessions), behind a round-robin balancer without sticky sessions. The balancer
# is the load generator itself (sspr-portal/e2e/load.mjs with PORTAL_URLS): each request of a
# flow goes to the other instance than the one before, and names the flow's own client address
# in X-Forwarded-For (the instances trust 127.0.0.1 as their proxy), so per-address caps and
# limits apply as in production. FLOWS reset flows start at once; each walks every page (form,
# login, method, PIN read from the instances' development outboxes, verification, temporary
# password) and every answer is checked; the balancer holds POOL keep-alive connections (default
# 256) to each instance, which the flows share, as nginx or HAProxy upstream pools do. Prints
# errors, throughput and latency percentiles, the
# padding (min_response_ms, default 300) subtracted from each padded answer (begin, send, verify).
#
# Then, side by side in the same run, the same FLOWS against ONE instance with its sessions in
# process memory (the same Redis for flows and counters, the same pool and client addresses):
# the price of no sticky sessions (a second process on the same 2 cores, and a Redis read and
# write of the session per request) as a ratio.
#
#   scripts/bench/portal-two-instances.sh [FLOWS]     (default 10000; e.g. 500 for a quick run)
#   PAD_MS=0 DEADLINE_S=1800 scripts/bench/portal-two-instances.sh
#
# Starts its own Redis (scripts/servers/40-redis.sh) and stops everything at exit. The two
# instances share one data directory (key file, SQLite contacts in WAL mode, audit log), as two
# processes on one host would. Not part of scripts/test.sh; the two-instance tests are
# (sspr-portal/tests/portal/shared_state.rs, feature server-tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

FLOWS=${1:-${FLOWS:-10000}}
DEADLINE_S=${DEADLINE_S:-1800}
PAD_MS=${PAD_MS:-300}
# Keep-alive connections from the balancer to each instance (the flows share them).
POOL=${POOL:-256}
ulimit -n 65536 2>/dev/null || true
command -v node >/dev/null || { echo "node (20+) is required" >&2; exit 1; }

source scripts/servers/40-redis.sh >/dev/null
(cd sspr-portal/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
step "build the release portal"
cargo build --release -p sspr-portal --locked --quiet
portal_bin=${CARGO_TARGET_DIR:-target}/release/sspr-portal

work=$(mktemp -d "$SSPR_RUN_DIR/portal-two.XXXXXX")
# One user per flow, each enabled with an e-mail address of its own (limits are per user and per
# destination): FLOWS for the two instances, 20 for the flows one at a time, FLOWS for the one.
node -e '
  const n = Number(process.argv[1]);
  const users = Array.from({ length: 2 * n + 20 }, (_, i) => ({
    login: `load${i}@example.org`, display_name: `Load User ${i}`,
    dn: `uid=load${i},ou=staff,dc=example,dc=org`, enabled: true, email: `load${i}@mail.example`,
  }));
  require("fs").writeFileSync(process.argv[2], JSON.stringify(users));
' "$FLOWS" "$work/users.json"

cat >"$work/portal.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$work/data"
# The load generator is the balancer: it names each flow's client in X-Forwarded-For.
trusted_proxies = ["127.0.0.1"]
# A trusted proxy is exempt from the per-address connection cap, not from the global one: the
# load opens up to one connection per flow (keep it below this machine's descriptor limit).
max_connections = 16000
# It reads the PINs off /outbox through that "proxy" too: behind one the page must be asked for.
outbox_page = true

[directory]
kind = "demo"
seed_file = "$work/users.json"

[policy]
min_response_ms = $PAD_MS

# Flows, counters, blocks and (so, by default) the sessions: shared by both instances.
[state]
kind = "redis"
url = "$SSPR_TEST_REDIS_URL"
key_prefix = "two-instances:"
TOML

pids=()
on_exit 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done'
urls=()
# The comparison instance: the same, its sessions in process memory.
sed 's/^trusted_proxies/sessions_in_state = false\ntrusted_proxies/' "$work/portal.toml" >"$work/portal-memory.toml"
start() { # name, config; sets url
  RUST_LOG=warn "$portal_bin" --config "$2" >"$work/portal-$1.log" 2>&1 &
  pids+=($!)
  wait_for 600 grep -q '^listening on ' "$work/portal-$1.log" || { cat "$work/portal-$1.log" >&2; exit 1; }
  url=$(sed -n 's|^listening on \(http://[^/]*\)/$|\1|p' "$work/portal-$1.log")
}
# One after the other: the first enrolls the demo users into the shared contact store, the
# second finds them there.
for name in a b; do
  start "$name" "$work/portal.toml"
  urls+=("$url")
  grep -q '^sessions: in the state store' "$work/portal-$name.log" || { echo "instance $name keeps sessions in memory" >&2; exit 1; }
done
all_urls=$(IFS=,; echo "${urls[*]}")

run() { # label, then load.mjs's environment
  local label=$1; shift
  set +e
  env PORTAL_URLS="${PORTAL_URLS:-$all_urls}" FORWARDED=1 POOL="$POOL" PAD_MS="$PAD_MS" DEADLINE_S="$DEADLINE_S" "$@" \
    node sspr-portal/e2e/load.mjs >"$work/$label.json"
  local status=$?
  set -e
  cat "$work/$label.json"
  if [[ $status -ne 0 ]]; then
    echo "load run '$label' failed" >&2
    tail -n 5 "$work"/portal-*.log >&2
    exit 1
  fi
}
step "20 flows one after the other (an unloaded pair), round robin over ${urls[*]}"
run alone FLOWS=20 OFFSET="$FLOWS" SEQUENTIAL=1
step "$FLOWS concurrent flows, round robin over ${urls[*]}, min_response_ms = $PAD_MS"
run all FLOWS="$FLOWS"
step "the same against one instance, sessions in process memory"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
start memory "$work/portal-memory.toml"
one=$url
grep -q '^sessions: in process memory' "$work/portal-memory.log" || { echo "the comparison instance keeps sessions in the store" >&2; exit 1; }
PORTAL_URLS="$one" run one FLOWS="$FLOWS" OFFSET=$((FLOWS + 20))

python3 - "$PAD_MS" "$work/alone.json" "$work/all.json" "$work/one.json" <<'PY'
import json, sys
pad = sys.argv[1]
print(f"\ntwo instances, one Redis, round robin, no sticky sessions; min_response_ms = {pad} (net: padding subtracted)")
print("| run | instances | flows | completed | errors | wall s | flows/s | req/s | req p50 net | req p99 net | flow p50 net | flow p99 net | req p99 raw | flow p99 raw |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
runs = [json.load(open(path)) for path in sys.argv[2:]]
for r in runs:
    mode = "one at a time" if r["sequential"] else "all at once"
    where = "2, sessions in Redis" if r["instances"] == 2 else "1, sessions in memory"
    print(f"| {mode} | {where} | {r['flows']} | {r['completed']} | {r['errors']} | {r['wall_s']} | {r['flows_per_s']} | {r['requests_per_s']} "
          f"| {r['request_ms_net']['p50']} | {r['request_ms_net']['p99']} | {r['flow_ms_net']['p50']} | {r['flow_ms_net']['p99']} "
          f"| {r['request_ms']['p99']} | {r['flow_ms']['p99']} |")
two, one = runs[1], runs[2]
print(f"\nratio two instances / one (flows/s): {two['flows_per_s'] / one['flows_per_s']:.2f}x; "
      f"request p99 net: {two['request_ms_net']['p99'] / max(one['request_ms_net']['p99'], 0.1):.2f}x")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (shared machine)"
