# Sourced by scripts/test.sh (see scripts/lib.sh): a throwaway Samba AD DC (LDAP only) with the
# test users, over LDAPS with the project's test CA. Samba's LDAP ports are fixed (389/636), so
# each run binds them on its own loopback address 127.0.0.N (Linux routes all of 127/8 to lo)
# with a certificate for that address: two runs on one machine do not clash.
# Provisioning takes 7-20 s; the provisioned directory is kept as a tarball in
# $SSPR_CACHE_DIR (default /var/tmp/sspr-cache) and restored (about 1 s) on later runs.
# Needs root and PKI (scripts/servers/00-pki.sh). Exports SSPR_TEST_AD_*.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
[[ -n "${PKI:-}" ]] || source "$(dirname "${BASH_SOURCE[0]}")/00-pki.sh"
source "$(dirname "${BASH_SOURCE[0]}")/ldap/helpers.sh"

need_apt_no_start samba samba-ad-dc samba-ad-provision ldap-utils openssl iproute2 bc

SSPR_AD_ADMIN_PASSWORD='Adm1n-Passw0rd!'
SSPR_AD_BASE="DC=samdom,DC=example,DC=com"

# A loopback address where nothing listens on 389/636.
ad_addr=""
for _ in $(seq 1 50); do
  candidate="127.0.0.$((2 + RANDOM % 250))"
  if ! ss -Htln | awk '{print $4}' | grep -qE "^$candidate:(389|636)$"; then ad_addr=$candidate; break; fi
done
[[ -n "$ad_addr" ]] || { echo "no free loopback address for Samba" >&2; return 1; }

samba_dir="$SSPR_RUN_DIR/samba"
cache_dir="${SSPR_CACHE_DIR:-/var/tmp/sspr-cache}"
# The cache key: Samba's version and this script (a change to either provisions again).
cache_key=$( { samba --version; cat "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
cache_tar="$cache_dir/samba-provisioned-$cache_key.tar.gz"
samba_t0=$(date +%s.%N)
rm -rf "$samba_dir" && mkdir -p "$samba_dir"
if [[ -f "$cache_tar" ]] && tar -C "$samba_dir" -xzf "$cache_tar"; then
  samba_how="restored from $cache_tar"
else
  : >"$samba_dir/empty.conf"
  if ! samba-tool domain provision -s "$samba_dir/empty.conf" --targetdir="$samba_dir" \
    --realm=SAMDOM.EXAMPLE.COM --domain=SAMDOM --server-role=dc --dns-backend=NONE \
    --host-name=dc1 --adminpass="$SSPR_AD_ADMIN_PASSWORD" \
    --option="interfaces=@ADDR@/8" --option="bind interfaces only=yes" \
    --option="server services=ldap" \
    --option="tls enabled=yes" --option="tls keyfile=@TLS@/ad.key" \
    --option="tls certfile=@TLS@/ad.pem" --option="tls cafile=@TLS@/ca.pem" \
    --option="log level=1" >"$samba_dir/provision.log" 2>&1; then
    cat "$samba_dir/provision.log" >&2
    return 1
  fi
  # Test-friendly policy: no history, no minimum age (complexity and length stay ON, like AD);
  # lockout after 5 wrong passwords for 30 minutes, as many domains have.
  samba-tool domain passwordsettings set -H "$samba_dir/private/sam.ldb" -s "$samba_dir/etc/smb.conf" \
    --history-length=0 --min-pwd-age=0 --account-lockout-threshold=5 --account-lockout-duration=30 \
    --reset-account-lockout-after=30 >/dev/null
  # smb.conf names its own folder; store it with a placeholder so the tarball restores anywhere.
  sed -i "s#$samba_dir#@DIR@#g" "$samba_dir/etc/smb.conf"
  mkdir -p "$cache_dir" && tar -C "$samba_dir" -czf "$cache_tar.tmp" . && mv "$cache_tar.tmp" "$cache_tar"
  samba_how="provisioned (cached as $cache_tar)"
fi
sed -i -e "s#@DIR@#$samba_dir#g" -e "s#@ADDR@#$ad_addr#g" -e "s#@TLS@#$samba_dir/tls#g" "$samba_dir/etc/smb.conf"
# Its own pid file (the default /run/samba/samba.pid would stop a second instance from starting).
mkdir -p "$samba_dir/run" && sed -i "s#^\[global\]#[global]\n\tpid directory = $samba_dir/run#" "$samba_dir/etc/smb.conf"

# This run's certificate, for 127.0.0.N, from the test CA; Samba refuses a key not mode 0600.
mkdir -p "$samba_dir/tls" && cp "$PKI/ca.pem" "$samba_dir/tls/ca.pem"
openssl req -newkey rsa:2048 -nodes -subj "/CN=dc1.samdom.example.com" \
  -keyout "$samba_dir/tls/ad.key" -out "$samba_dir/tls/ad.csr" 2>/dev/null
openssl x509 -req -in "$samba_dir/tls/ad.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 30 -out "$samba_dir/tls/ad.pem" 2>/dev/null -extfile <(printf '%s\n' \
  "subjectAltName=DNS:dc1.samdom.example.com,IP:$ad_addr" basicConstraints=CA:FALSE \
  keyUsage=digitalSignature,keyEncipherment extendedKeyUsage=serverAuth)
chmod 600 "$samba_dir/tls/ad.key"

# Foreground single-process server, backgrounded here (no setsid: it would fork, and $! would
# not be samba's PID); stopped by its PID at exit.
samba -i -M single -s "$samba_dir/etc/smb.conf" >"$samba_dir/samba.out" 2>&1 </dev/null &
echo $! >"$samba_dir/samba.pid"
on_exit "kill $(cat "$samba_dir/samba.pid") 2>/dev/null"
LDAPTLS_CACERT="$PKI/ca.pem" wait_for 60 ldapsearch -x -H "ldaps://$ad_addr" -b '' -s base dnsHostName \
  || { tail -20 "$samba_dir/samba.out" >&2; return 1; }
samba_t1=$(date +%s.%N)

LDAPTLS_CACERT="$PKI/ca.pem" ldapadd -x -H "ldaps://$ad_addr" -D "Administrator@samdom.example.com" \
  -w "$SSPR_AD_ADMIN_PASSWORD" -f "$SSPR_ROOT/scripts/servers/samba/users.ldif" >/dev/null
# The portal's service account is not an admin: it gets, on user objects only, read/write of their
# properties and the extended rights (among them Reset Password), inherited from the domain root.
svc_sid=$(samba-tool user show sspr-svc -H "$samba_dir/private/sam.ldb" -s "$samba_dir/etc/smb.conf" \
  --attributes=objectSid | awk '/^objectSid:/ {print $2}')
samba-tool dsacl set -H "$samba_dir/private/sam.ldb" -s "$samba_dir/etc/smb.conf" --action=allow \
  --objectdn="$SSPR_AD_BASE" --sddl="(OA;CIIO;RPWPCR;;bf967aba-0de6-11d0-a285-00aa003049e2;$svc_sid)" >/dev/null
samba_t2=$(date +%s.%N)

export SSPR_TEST_AD_URL="ldaps://$ad_addr:636"
export SSPR_TEST_AD_STARTTLS_URL="ldap://$ad_addr:389"
export SSPR_TEST_AD_CA="$samba_dir/tls/ca.pem"
export SSPR_TEST_AD_BASE="$SSPR_AD_BASE"
export SSPR_TEST_AD_BIND_DN="CN=sspr-svc,OU=Service,$SSPR_AD_BASE"
export SSPR_TEST_AD_BIND_PASSWORD="Svc-Passw0rd-1"
export SSPR_TEST_AD_ADMIN_DN="CN=Administrator,CN=Users,$SSPR_AD_BASE"
export SSPR_TEST_AD_ADMIN_PASSWORD="$SSPR_AD_ADMIN_PASSWORD"
printf 'samba: %s on %s, %s; ready in %.1f s, users and ACL %.1f s\n' "$SSPR_TEST_AD_URL" "$ad_addr" "$samba_how" \
  "$(echo "$samba_t1 - $samba_t0" | bc)" "$(echo "$samba_t2 - $samba_t1" | bc)"
