#!/usr/bin/env bash
# End-to-end tests of the reset portal: the `portal` binary on a free loopback port with a
# temporary SQLite file, driven by headless Chromium (Debian's `chromium` through npm's
# playwright-core, JavaScript off in the pages). Screenshots of every page are saved under
# target/portal-screenshots/ as test artifacts.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

need_apt chromium sqlite3
e2e=sspr-portal/e2e
(cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

cargo build -p sspr-portal -p sspr-graph-standin --locked --quiet

work=$(mktemp -d "$SSPR_RUN_DIR/portal-e2e.XXXXXX")
log="$work/portal.log"
# A free port chosen here rather than port 0, so the portal knows its own address: the
# registration reminders it sends link to it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/debug/sspr-portal --listen "127.0.0.1:$port" --data-dir "$work/data" >"$log" 2>&1 &
pid=$!
on_exit "kill $pid 2>/dev/null"
wait_for 60 grep -q '^listening on ' "$log" || { cat "$log" >&2; exit 1; }
url=$(sed -n 's|^listening on \(http://[^/]*\)/$|\1|p' "$log")
echo "portal at $url (SQLite in $work/data)"

# A second portal that asks users to confirm contacts older than 30 days
# (reconfirm_after_days): started once to seed the demo contacts, then jane's aged 40 days in
# its SQLite file, as time would have done, and started again.
aged="$work/aged"
mkdir -p "$aged"
# It keeps its audit trail in SQLite too, for /admin/reports.
printf '[policy]\nreconfirm_after_days = 30\n[audit]\nkind = "sqlite"\npath = "%s"\n' "$aged/data/audit.sqlite" >"$aged/portal.toml"
start_aged() { # log
  aged_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  target/debug/sspr-portal --config "$aged/portal.toml" --listen "127.0.0.1:$aged_port" --data-dir "$aged/data" >"$1" 2>&1 &
  aged_pid=$!
  on_exit "kill $aged_pid 2>/dev/null"
  wait_for 60 grep -q '^listening on ' "$1" || { cat "$1" >&2; exit 1; }
}
start_aged "$aged/seed.log"
kill "$aged_pid" && wait "$aged_pid" 2>/dev/null || true
sqlite3 "$aged/data/sspr.sqlite" "UPDATE sspr_enrollment SET
    email_added_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-40 days'),
    phone_added_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-40 days')
  WHERE user_id = 'uid=jane.doe,ou=staff,dc=example,dc=org'"
start_aged "$aged/portal.log"
aged_url=$(sed -n 's|^listening on \(http://[^/]*\)/$|\1|p' "$aged/portal.log")
echo "portal with reconfirm_after_days = 30 at $aged_url"

# A third portal on a Microsoft Graph directory and contact store: the Graph/Entra stand-in
# (sspr-graph-standin, the same one the Rust tests start in-process) as a process, also the
# OpenID provider of the registration page's sign-in. Verified against the stand-in only.
graph="$work/graph"
mkdir -p "$graph"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
graph_port=$(free_port)
cat >"$graph/tenant.json" <<JSON
{"client_id": "sspr-graph-app", "client_secret": "graph~app-secret",
 "oidc": {"client_id": "portal-app-id", "client_secret": "portal~secret",
          "redirect_uri": "http://127.0.0.1:$graph_port/passwordnotification/oidc/callback"},
 "users": [{"upn": "ada@contoso.example", "display_name": "Ada Lovelace", "groups": ["SSPR Users"]},
           {"upn": "grace@contoso.example", "display_name": "Grace Hopper", "groups": ["SSPR Admins"]}]}
JSON
target/debug/sspr-graph-standin --seed "$graph/tenant.json" --key-dir "$graph" >"$graph/standin.log" 2>&1 &
standin_pid=$!
on_exit "kill $standin_pid 2>/dev/null"
wait_for 60 grep -q '^listening on ' "$graph/standin.log" || { cat "$graph/standin.log" >&2; exit 1; }
standin_url=$(sed -n 's|^listening on \(http://[^/]*\)/$|\1|p' "$graph/standin.log")
issuer=$(sed -n 's|^issuer \(.*\)$|\1|p' "$graph/standin.log")
cat >"$graph/portal.toml" <<TOML
admin_groups = ["SSPR Admins"]
[directory]
kind = "graph"
tenant_id = "contoso.onmicrosoft.com"
client_id = "sspr-graph-app"
client_secret = "graph~app-secret"
authority_url = "$standin_url"
graph_url = "$standin_url"
[contacts]
kind = "graph"
[oidc]
issuer = "$issuer"
client_id = "portal-app-id"
client_secret = "portal~secret"
redirect_uri = "http://127.0.0.1:$graph_port/passwordnotification/oidc/callback"
TOML
target/debug/sspr-portal --config "$graph/portal.toml" --listen "127.0.0.1:$graph_port" --data-dir "$graph/data" \
  >"$graph/portal.log" 2>&1 &
graph_pid=$!
on_exit "kill $graph_pid 2>/dev/null"
wait_for 60 grep -q '^listening on ' "$graph/portal.log" || { cat "$graph/portal.log" >&2; exit 1; }
graph_url="http://127.0.0.1:$graph_port"
echo "portal on the Graph stand-in ($standin_url) at $graph_url"

shots="$SSPR_ROOT/target/portal-screenshots"
rm -rf "$shots"
set +e
PORTAL_URL="$url" PORTAL_AGED_URL="$aged_url" PORTAL_LOG="$log" \
  PORTAL_GRAPH_URL="$graph_url" PORTAL_GRAPH_LOG="$graph/portal.log" GRAPH_STANDIN_URL="$standin_url" CHROMIUM="$(command -v chromium)" SCREENSHOT_DIR="$shots" \
  node --test --test-reporter=tap "$e2e/portal.test.mjs" | tee "$work/tap"
status=${PIPESTATUS[0]}
set -e
passed=$(awk '/^# pass /{print $3}' "$work/tap")
failed=$(awk '/^# fail /{print $3}' "$work/tap")
tally portal-e2e "${passed:-0}" "${failed:-1}"
echo "screenshots: $shots ($(ls "$shots" 2>/dev/null | wc -l) files)"
if [[ $status -ne 0 || "${failed:-1}" -ne 0 || "${passed:-0}" -eq 0 ]]; then
  echo "portal end-to-end tests failed; the portal's log:" >&2
  tail -50 "$log" >&2
  exit 1
fi
