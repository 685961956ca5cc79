#!/usr/bin/env bash
# sspr's password resets per second against the directory's own limit, side by side in one run:
# LdapDirectory::set_password (sspr-backends/examples/ldap_resets.rs) against libldap from C
# (scripts/bench/ldap_resets.c) making exactly the same operations, bound once per connection,
# 1 and 16 in flight, on the test slapd (scripts/servers/10-slapd.sh: StartTLS, ppolicy) and the
# test Samba AD DC (20-samba.sh: LDAPS, single process). Rounds are interleaved, so drift of the
# shared machine hits the contenders of a round alike; each ratio compares runs of one round.
# Prints Markdown tables for BENCHMARKS.md.
#   Usage: scripts/bench/ldap-vs-limit.sh [SLAPD_RESETS [SAMBA_RESETS [ROUNDS]]]  (6000 300 3; about 5 min)
#   SSPR_BENCH_SKIP_SAMBA=1 leaves Samba out.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
need_apt libldap-dev gcc bc
source scripts/servers/00-pki.sh >/dev/null
source scripts/servers/10-slapd.sh >/dev/null
if [[ -z "${SSPR_BENCH_SKIP_SAMBA:-}" ]]; then
  source scripts/servers/20-samba.sh >/dev/null
fi
SLAPD_RESETS=${1:-6000}
SAMBA_RESETS=${2:-300}
ROUNDS=${3:-3}
USERS=16

c_bin="$SSPR_RUN_DIR/ldap_resets_c"
gcc -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror -pthread scripts/bench/ldap_resets.c -lldap -llber -o "$c_bin"
cargo build -q --release -p sspr-backends --features ldap --example ldap_resets
target_dir=${CARGO_TARGET_DIR:-target}
sspr_bin="$target_dir/release/examples/ldap_resets"

# The users the resets go to, added over the wire (so ppolicy and AD's rules apply as for real users).
for i in $(seq 0 $((USERS - 1))); do
  printf 'dn: uid=bench%s,ou=staff,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: bench%s\ncn: Bench %s\nsn: Bench\nuserPassword: Init-Passw0rd-1\n\n' "$i" "$i" "$i"
done | ldapadd -x -H "$SSPR_TEST_LDAP_URL" -D "$SSPR_TEST_LDAP_ADMIN_DN" -w "$SSPR_TEST_LDAP_ADMIN_PASSWORD" >/dev/null
if [[ -n "${SSPR_TEST_AD_URL:-}" ]]; then
  initial=$(printf '"Init-Passw0rd-1"' | iconv -f utf-8 -t utf-16le | base64 -w0)
  for i in $(seq 0 $((USERS - 1))); do
    printf 'dn: CN=bench%s,OU=Staff,%s\nobjectClass: user\nsAMAccountName: bench%s\nunicodePwd:: %s\nuserAccountControl: 512\n\n' \
      "$i" "$SSPR_TEST_AD_BASE" "$i" "$initial"
  done | LDAPTLS_CACERT="$SSPR_TEST_AD_CA" ldapadd -x -H "$SSPR_TEST_AD_URL" -D "$SSPR_TEST_AD_ADMIN_DN" \
    -w "$SSPR_TEST_AD_ADMIN_PASSWORD" >/dev/null
fi

declare -A rate
run() { # key command...
  local key=$1 out
  shift
  out=$("$@")
  echo "  $out" >&2
  rate[$key]=$(sed -E 's/.*per_sec=([0-9.]+).*/\1/' <<<"$out")
}
ratio() { echo "$1 / $2" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

tag=$(date +%s)
slapd_c=("$SSPR_TEST_LDAP_URL" 1 "$SSPR_TEST_CA" "$SSPR_TEST_LDAP_BIND_DN" "$SSPR_TEST_LDAP_BIND_PASSWORD"
  "uid=bench%d,ou=staff,ou=people,$SSPR_TEST_LDAP_BASE" "$USERS")
step "slapd: $SLAPD_RESETS resets per run, $ROUNDS interleaved rounds"
for k in 1 16; do
  for round in $(seq 1 "$ROUNDS"); do
    run "slapd.sspr.$k.$round" "$sspr_bin" "$USERS" "$SLAPD_RESETS" "$k" "$tag-$round" openldap
    run "slapd.c.$k.$round" "$c_bin" openldap "${slapd_c[@]}" "$SLAPD_RESETS" "$k" "$tag-$round"
    run "slapd.m.$k.$round" "$c_bin" modify "${slapd_c[@]}" "$SLAPD_RESETS" "$k" "$tag-$round"
  done
done
if [[ -n "${SSPR_TEST_AD_URL:-}" ]]; then
  samba_c=("$SSPR_TEST_AD_URL" 0 "$SSPR_TEST_AD_CA" "$SSPR_TEST_AD_BIND_DN" "$SSPR_TEST_AD_BIND_PASSWORD"
    "CN=bench%d,OU=Staff,$SSPR_TEST_AD_BASE" "$USERS")
  step "samba: $SAMBA_RESETS resets per run, $ROUNDS interleaved rounds"
  for k in 1 16; do
    for round in $(seq 1 "$ROUNDS"); do
      run "samba.sspr.$k.$round" "$sspr_bin" "$USERS" "$SAMBA_RESETS" "$k" "$tag-$round" ad
      run "samba.c.$k.$round" "$c_bin" ad "${samba_c[@]}" "$SAMBA_RESETS" "$k" "$tag-$round"
    done
  done
fi

step "results ($(nproc) cores, $(uptime | sed 's/.*load average: //') load; a shared machine: compare within a round)"
echo
echo "slapd (StartTLS; sspr and C: Password Modify exop + modify pwdReset; one modify of userPassword + pwdReset for reference):"
echo
echo "| in flight | round | sspr | C libldap, same operations | ratio | C libldap, one modify | ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for k in 1 16; do
  ratios=()
  for round in $(seq 1 "$ROUNDS"); do
    s=${rate[slapd.sspr.$k.$round]} c=${rate[slapd.c.$k.$round]} m=${rate[slapd.m.$k.$round]}
    ratios+=("$(ratio "$s" "$c")")
    printf '| %s | %s | %s/s | %s/s | %.2fx | %s/s | %.2fx |\n' "$k" "$round" "$s" "$c" "$(ratio "$s" "$c")" "$m" "$(ratio "$s" "$m")"
  done
  printf '| %s | median ratio | | | **%.2fx** | | |\n' "$k" "$(median "${ratios[@]}")"
done
if [[ -n "${SSPR_TEST_AD_URL:-}" ]]; then
  echo
  echo "Samba AD (LDAPS; sspr and C: one modify of unicodePwd + pwdLastSet):"
  echo
  echo "| in flight | round | sspr | C libldap, same operation | ratio |"
  echo "| --- | --- | --- | --- | --- |"
  for k in 1 16; do
    ratios=()
    for round in $(seq 1 "$ROUNDS"); do
      s=${rate[samba.sspr.$k.$round]} c=${rate[samba.c.$k.$round]}
      ratios+=("$(ratio "$s" "$c")")
      printf '| %s | %s | %s/s | %s/s | %.2fx |\n' "$k" "$round" "$s" "$c" "$(ratio "$s" "$c")"
    done
    printf '| %s | median ratio | | | **%.2fx** |\n' "$k" "$(median "${ratios[@]}")"
  done
fi
