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

debug_build --quiet
bin="$SSPR_DEBUG_DIR"

work=$(mktemp -d "$SSPR_RUN_DIR/portal-e2e.XXXXXX")
log="$work/portal.log"
# A free port chosen here rather than port 0, so the portal knows its own address: the
# registration reminders it sends link to it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/sspr-portal" --listen "127.0.0.1:$port" --data-dir "$work/data" >"$log" 2>&1 &
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
  "$bin/sspr-portal" --config "$aged/portal.toml" --listen "127.0.0.1:$aged_port" --data-dir "$aged/data" >"$1" 2>&1 &
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
"$bin/sspr-graph-standin" --seed "$graph/tenant.json" --key-dir "$graph" >"$graph/standin.log" 2>&1 &
standin_pid=$!
on_exit "kill $standin_pid 2>/dev/null"
wait_for 60 grep -q '^listening on ' "$graph/standin.log" || { cat "$graph/standin.log" >&2; exit 1; }
standin_url=$(sed -n 's|^listening on \(http://[^/]*\)/$|\1|p' "$graph/standin.log")
issuer=$(sed -n 's|^issuer \(.*\)$|\1|p' "$graph/standin.log")
cat >"$graph/portal.toml" <<TOML
# by object id: on Graph display names are not unique (THREAT_MODEL R.48); the stand-in names it group-<name>
admin_groups = ["group-SSPR Admins"]
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
"$bin/sspr-portal" --config "$graph/portal.toml" --listen "127.0.0.1:$graph_port" --data-dir "$graph/data" \
  >"$graph/portal.log" 2>&1 &
graph_pid=$!
on_exit "kill $graph_pid 2>/dev/null"
wait_for 60 grep -q '^listening on ' "$graph/portal.log" || { cat "$graph/portal.log" >&2; exit 1; }
graph_url="http://127.0.0.1:$graph_port"
echo "portal on the Graph stand-in ($standin_url) at $graph_url"

# A fourth site: a Django project as a new user makes it (django-admin startproject, the lines of
# sspr-py/README.md added as written), on the sspr wheel the python suite installed (built here when
# that suite did not run), with a demo directory seeded from JSON, contacts imported with its
# management command, and Django's development server.
need_venv "maturin>=1.16,<1.17" "django>=5.2,<6"
"$SSPR_PY" -c 'import sspr.contrib.django' 2>/dev/null || install_sspr_py
site="$work/django"
mkdir -p "$site"
(cd "$site" && "$SSPR_PY" -m django startproject mysite .)
"$SSPR_PY" - "$SSPR_ROOT/sspr-py/README.md" "$site/mysite" <<'PYEOF'
import pathlib, re, sys
readme, project = pathlib.Path(sys.argv[1]).read_text(), pathlib.Path(sys.argv[2])
for marker, file in (("django-settings", "settings.py"), ("django-urls", "urls.py")):
    block = re.search(rf"<!-- {marker} -->\s*```python\n(.*?)```", readme, re.S)[1]
    (project / file).write_text((project / file).read_text() + "\n" + block)
# The development outbox (DEBUG only), where the test reads its PIN as a user reads mail.
with open(project / "urls.py", "a") as urls:
    urls.write('urlpatterns += [path("password/dev/", include("sspr.contrib.django.dev_urls"))]\n')
PYEOF
cat >"$site/users.json" <<'JSON'
[{"login": "jane.doe@example.org", "display_name": "Jane Doe", "dn": "uid=jane.doe,ou=staff,dc=example,dc=org",
  "password": "Demo-Passw0rd!"}]
JSON
printf '[directory]\nkind = "memory"\nseed_file = "users.json"\n[store]\nkind = "sqlite"\npath = "%s"\n[notifier]\nkind = "outbox"\n[policy]\nmin_response_ms = 0\n' \
  "$site/sspr.sqlite" >"$site/sspr.toml"
printf 'login,email,phone\njane.doe@example.org,jane@home.example,\n' >"$site/contacts.csv"
export SSPR_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
(cd "$site" && "$SSPR_PY" manage.py migrate --verbosity 0 &&
  "$SSPR_PY" manage.py sspr_import_contacts contacts.csv --admin e2e-setup)
django_port=$(free_port)
(cd "$site" && exec "$SSPR_PY" manage.py runserver "127.0.0.1:$django_port" --noreload) >"$site/server.log" 2>&1 &
django_pid=$!
on_exit "kill $django_pid 2>/dev/null"
wait_for 60 python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1])' "http://127.0.0.1:$django_port/password/" || { cat "$site/server.log" >&2; exit 1; }
django_url="http://127.0.0.1:$django_port"
echo "Django site at $django_url"

shots="$SSPR_ROOT/target/portal-screenshots"
rm -rf "$shots"
set +e
PORTAL_URL="$url" PORTAL_AGED_URL="$aged_url" PORTAL_LOG="$log" \
  PORTAL_GRAPH_URL="$graph_url" PORTAL_GRAPH_LOG="$graph/portal.log" GRAPH_STANDIN_URL="$standin_url" CHROMIUM="$(command -v chromium)" SCREENSHOT_DIR="$shots" \
  DJANGO_URL="$django_url" DJANGO_LOG="$site/server.log" \
  node --test --test-reporter=tap "$e2e/portal.test.mjs" "$e2e/django.test.mjs" | tee "$work/tap"
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
