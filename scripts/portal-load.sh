#!/usr/bin/env bash
# Load run of the reset portal: FLOWS (default 1000) concurrent reset flows from a browser-like
# client (sspr-portal/e2e/load.mjs) against the release `sspr-portal` binary on loopback, with
# its embedded defaults (SQLite store, development outbox) and a demo directory of FLOWS users.
# Run twice side by side: with the portal's default minimum response time (300 ms) and without
# it. Fails on any error or when a run exceeds DEADLINE_S. Writes the figures to the "portal
# load" section of BENCHMARKS.md.
#   scripts/portal-load.sh            # FLOWS=1000 DEADLINE_S=300
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

FLOWS=${FLOWS:-1000}
DEADLINE_S=${DEADLINE_S:-300}
ulimit -n 65536 2>/dev/null || true

(cd sspr-portal/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cargo build --release -p sspr-portal --locked --quiet

work=$(mktemp -d "$SSPR_RUN_DIR/portal-load.XXXXXX")
# FLOWS users, each enabled with an e-mail address of its own (limits are per user and per
# destination, so one user per flow).
node -e '
  const n = Number(process.argv[1]);
  const users = Array.from({ length: n + 20 }, (_, i) => ({
    login: `load${i}@example.org`, display_name: `Load User ${i}`,
    dn: `uid=load${i},ou=staff,dc=example,dc=org`, enabled: true, email: `load${i}@mail.example`,
  }));
  require("fs").writeFileSync(process.argv[2], JSON.stringify(users));
' "$FLOWS" "$work/users.json"

results=()
for pad in 300 0; do
  dir="$work/pad-$pad"
  mkdir -p "$dir"
  cat >"$dir/portal.toml" <<TOML
listen = "127.0.0.1:0"
data_dir = "$dir/data"
# Every flow comes from 127.0.0.1: lift the per-address session and connection caps as well,
# and the connection cap below this machine's descriptor limit (the load opens one per flow).
max_sessions_per_ip = 100000
max_connections_per_ip = 100000
max_connections = 16000

[directory]
kind = "demo"
seed_file = "$work/users.json"

[policy]
min_response_ms = $pad
# Every flow comes from 127.0.0.1: lift the per-IP caps (the per-user ones stay).
ip_begins_per_hour = 100000
ip_sends_per_hour = 100000
TOML
  RUST_LOG=warn target/release/sspr-portal --config "$dir/portal.toml" >"$dir/portal.log" 2>&1 &
  pid=$!
  wait_for 120 grep -q '^listening on ' "$dir/portal.log" || { cat "$dir/portal.log" >&2; kill "$pid"; exit 1; }
  url=$(sed -n 's|^listening on \(http://[^/]*\)/$|\1|p' "$dir/portal.log")
  step "load: 20 flows one after the other, then $FLOWS concurrent ones, min_response_ms = $pad ($url)"
  set +e
  # Users load0..load{FLOWS-1} for the concurrent run, the next 20 for the sequential one.
  PORTAL_URL="$url" FLOWS=20 OFFSET="$FLOWS" SEQUENTIAL=1 DEADLINE_S="$DEADLINE_S" node sspr-portal/e2e/load.mjs >"$dir/alone.json"
  status=$?
  if [[ $status -eq 0 ]]; then
    PORTAL_URL="$url" FLOWS="$FLOWS" DEADLINE_S="$DEADLINE_S" node sspr-portal/e2e/load.mjs >"$dir/result.json"
    status=$?
  fi
  set -e
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  cat "$dir/alone.json" "$dir/result.json" 2>/dev/null
  if [[ $status -ne 0 ]]; then
    echo "load run failed (min_response_ms = $pad)" >&2
    tail -20 "$dir/portal.log" >&2
    exit 1
  fi
  results+=("$pad $(cat "$dir/alone.json")" "$pad $(cat "$dir/result.json")")
done

# The BENCHMARKS.md section, between its markers.
python3 - "$FLOWS" "${results[@]}" <<'PY'
import json, pathlib, platform, re, subprocess, sys
flows = sys.argv[1]
rows = []
for entry in sys.argv[2:]:
    pad, data = entry.split(" ", 1)
    r = json.loads(data)
    mode = "one at a time" if r["sequential"] else "all at once"
    rows.append(
        f"| {pad} ms | {mode} | {r['completed']}/{r['flows']} | {r['errors']} | {r['wall_s']} s | {r['requests']} "
        f"| {r['requests_per_s']} | {r['request_ms']['p50']} | {r['request_ms']['p95']} | **{r['request_ms']['p99']}** "
        f"| {r['flow_ms']['p50']} | **{r['flow_ms']['p99']}** |"
    )
load = open("/proc/loadavg").read().split()[:3]
section = f"""<!-- portal-load:begin -->
## 6. Portal load: {flows} concurrent reset flows on loopback

```sh
scripts/portal-load.sh          # FLOWS=1000 DEADLINE_S=300; about a minute
```

`sspr-portal/e2e/load.mjs` starts {flows} reset flows at once against the release `sspr-portal` binary on
127.0.0.1 (embedded defaults: SQLite store in WAL mode, development outbox, a demo directory of {flows} enabled
users, each with an e-mail address of its own; per-IP caps lifted since every flow comes from one address;
`RUST_LOG=warn`). Each flow is a browser-like client with its own session cookie walking every page: the form,
login, method, the PIN read from `/outbox`, verification, the temporary password: 9 requests. Every answer is
checked (status, CSRF token, PIN accepted, a 16-character temporary password); a run fails on any error or past
its deadline. Latencies are measured by the client (Node 20 `fetch`), in milliseconds, over all requests of the
run and over whole flows. The two runs, with the portal's default padding of anonymous answers
(`min_response_ms = 300`: `begin_reset` and `send_pin` take at least 300 ms, so their timing does not tell real
from unknown accounts) and without it, ran one after the other; each first runs 20 flows one at a time (the
latency of an unloaded portal), then the {flows} at once. With all flows started in the same instant, a request's
latency is mostly its wait behind the other flows' requests (the wall time is about requests / throughput): the
p99 there measures the queue a burst of {flows} users builds on 2 shared cores, not the work of one request.

| min_response_ms | flows | completed | errors | wall | requests | req/s | p50 | p95 | p99 | flow p50 | flow p99 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

Load average when written: {' '.join(load)} (2 cores, shared with other builds).
<!-- portal-load:end -->"""
path = pathlib.Path("BENCHMARKS.md")
text = path.read_text()
pattern = re.compile(r"<!-- portal-load:begin -->.*?<!-- portal-load:end -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
path.write_text(text)
print("BENCHMARKS.md: section 6 written")
PY
