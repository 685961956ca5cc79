#!/usr/bin/env bash
# Password resets per second against one slapd: sspr's pooled LdapDirectory::set_password
# against python-ldap doing the same single modify (userPassword + pwdReset over StartTLS),
# sequentially and with 16 in flight, side by side in one run. Prints a Markdown table for
# BENCHMARKS.md.   Usage: scripts/bench/ldap-resets.sh [RESETS]   (default 2000)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
source scripts/servers/00-pki.sh >/dev/null
source scripts/servers/10-slapd.sh >/dev/null
need_apt libldap2-dev libsasl2-dev python3-dev gcc bc
need_venv python-ldap
RESETS=${1:-2000}
USERS=16

# The users the resets go to (over the wire, so ppolicy applies as for real users).
for i in $(seq 0 $((USERS - 1))); do
  printf 'dn: uid=bench%s,ou=staff,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: bench%s\ncn: Bench %s\nsn: Bench\nuserPassword: Init-Passw0rd-1\n\n' "$i" "$i" "$i"
done | ldapadd -x -H "$SSPR_TEST_LDAP_URL" -D "$SSPR_TEST_LDAP_ADMIN_DN" -w "$SSPR_TEST_LDAP_ADMIN_PASSWORD" >/dev/null

cargo build -q --release -p sspr-backends --features ldap --example ldap_resets
SSPR_BIN=target/release/examples/ldap_resets

declare -A rate
run() { # name in_flight command...
  local name=$1 k=$2; shift 2
  local out
  out=$("$@")
  echo "  $out" >&2
  rate[$name.$k]=$(sed -E 's/.*per_sec=([0-9.]+).*/\1/' <<<"$out")
}
tag=$(date +%s)
for k in 1 16; do
  # Interleaved rounds, so drift of the shared machine hits the contenders of a round alike;
  # each ratio compares runs of one round.
  for round in 1 2 3; do
    run "sspr$round" "$k" "$SSPR_BIN" "$USERS" "$RESETS" "$k" "$tag-$round"
    run "pyp$round" "$k" "$SSPR_PY" scripts/bench/ldap_resets.py persistent "$USERS" "$RESETS" "$k" "$tag-$round"
    run "pyc$round" "$k" "$SSPR_PY" scripts/bench/ldap_resets.py per-reset "$USERS" "$((RESETS / 4))" "$k" "$tag-$round"
  done
done
echo "| in flight | round | sspr (pooled) | python-ldap, one connection per worker | ratio | python-ldap, connection per reset | ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for k in 1 16; do
  for round in 1 2 3; do
    s=${rate[sspr$round.$k]} p=${rate[pyp$round.$k]} c=${rate[pyc$round.$k]}
    printf '| %s | %s | %s/s | %s/s | %.2fx | %s/s | %.2fx |\n' "$k" "$round" "$s" "$p" "$(echo "$s / $p" | bc -l)" "$c" "$(echo "$s / $c" | bc -l)"
  done
done
