# Sourced by scripts/test.sh (see scripts/lib.sh): two throwaway OpenLDAP servers with the ppolicy
# and memberof overlays, on free high loopback ports, users loaded over the wire.
#   - the main one, shared by the ldap tests (SSPR_TEST_LDAP_*);
#   - a second one that the fault test stops and starts again (SSPR_TEST_LDAP_FAULT_*);
#   - a third without ppolicy_hash_cleartext (SSPR_TEST_LDAP_PLAIN_URL), for the password-hashing
#     test and the sign-in connection bound test (which counts the connections to it).
# Needs PKI (scripts/servers/00-pki.sh). Works sourced on its own too:
#   source scripts/lib.sh; source scripts/servers/00-pki.sh; source scripts/servers/10-slapd.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
[[ -n "${PKI:-}" ]] || source "$(dirname "${BASH_SOURCE[0]}")/00-pki.sh"

source "$(dirname "${BASH_SOURCE[0]}")/ldap/helpers.sh"

need_apt_no_start slapd ldap-utils iproute2

SSPR_LDAP_SRC="$SSPR_ROOT/scripts/servers/ldap"

# start_slapd NAME [plain] -> sets SLAPD_URL, SLAPD_LDAPS_URL, SLAPD_PIDFILE, SLAPD_CMD
# With "plain": without ppolicy_hash_cleartext (a plain modify of userPassword is then stored in
# clear, as on many real servers), and users may write their own contacts and enrollment record
# (as AD lets them write mobile and info by default).
start_slapd() {
  local dir="$SSPR_RUN_DIR/slapd-$1" port tlsport
  port=$(free_port) && tlsport=$(free_port) || return 1
  mkdir -p "$dir/data" "$dir/data-elsewhere" "$dir/run"
  cp "$SSPR_LDAP_SRC/sspr-test.schema" "$dir/"
  sed -e "s#@DIR@#$dir#g" -e "s#@PKI@#$PKI#g" "$SSPR_LDAP_SRC/slapd.conf.in" >"$dir/slapd.conf"
  if [[ "${2:-}" == plain ]]; then
    sed -i -e '/^ppolicy_hash_cleartext/d' \
      -e '/^access to attrs=ssprAltMail,mobile,ssprEnrollment/a\  by self write' "$dir/slapd.conf"
  fi
  slaptest -u -f "$dir/slapd.conf" >/dev/null 2>&1 || { slaptest -u -f "$dir/slapd.conf"; return 1; }
  # Only the skeleton offline: slapadd bypasses the overlays (no memberOf, no password hashing).
  slapadd -q -f "$dir/slapd.conf" -l "$SSPR_LDAP_SRC/base-struct.ldif"
  slapadd -q -f "$dir/slapd.conf" -b "dc=elsewhere,dc=org" -l "$SSPR_LDAP_SRC/elsewhere.ldif"
  SLAPD_URL="ldap://127.0.0.1:$port"
  SLAPD_LDAPS_URL="ldaps://127.0.0.1:$tlsport"
  SLAPD_PIDFILE="$dir/run/slapd.pid"
  SLAPD_CMD="slapd -f $dir/slapd.conf -h 'ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$tlsport/'"
  # slapd daemonises and writes its pid file; stop it by that PID at exit (read then, since the
  # fault test restarts it under a new PID).
  eval "$SLAPD_CMD"
  on_exit "[[ -f '$SLAPD_PIDFILE' ]] && kill \$(cat '$SLAPD_PIDFILE') 2>/dev/null"
  wait_for 10 ldapwhoami -x -H "$SLAPD_URL" -D cn=admin,dc=example,dc=org -w adminpw
  ldapadd -x -H "$SLAPD_URL" -D cn=admin,dc=example,dc=org -w adminpw -f "$SSPR_LDAP_SRC/users.ldif" >/dev/null
}

t0=$SECONDS
start_slapd main
export SSPR_TEST_LDAP_URL="$SLAPD_URL"
export SSPR_TEST_LDAPS_URL="$SLAPD_LDAPS_URL"
export SSPR_TEST_LDAP_BASE="dc=example,dc=org"
export SSPR_TEST_LDAP_BIND_DN="cn=sspr-svc,dc=example,dc=org"
export SSPR_TEST_LDAP_BIND_PASSWORD="Svc-Passw0rd-1"
export SSPR_TEST_LDAP_ADMIN_DN="cn=admin,dc=example,dc=org"
export SSPR_TEST_LDAP_ADMIN_PASSWORD="adminpw"
start_slapd fault
export SSPR_TEST_LDAP_FAULT_URL="$SLAPD_URL"
export SSPR_TEST_LDAP_FAULT_PIDFILE="$SLAPD_PIDFILE"
export SSPR_TEST_LDAP_FAULT_START="$SLAPD_CMD"
start_slapd plain plain
export SSPR_TEST_LDAP_PLAIN_URL="$SLAPD_URL"
# LDAPS on the plain instance: used by the sign-in bound test alone, which counts connections to it.
export SSPR_TEST_LDAP_PLAIN_LDAPS_URL="$SLAPD_LDAPS_URL"
echo "slapd: $SSPR_TEST_LDAP_URL $SSPR_TEST_LDAPS_URL, fault instance $SSPR_TEST_LDAP_FAULT_URL, plain instance $SSPR_TEST_LDAP_PLAIN_URL ($((SECONDS - t0)) s)"
