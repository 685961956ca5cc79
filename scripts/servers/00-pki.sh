# Sourced by scripts/test.sh (see scripts/lib.sh): the test CA and one server certificate with
# SANs localhost, 127.0.0.1 and dc1.samdom.example.com, shared by slapd, Samba, the SMTP sink.
# Exports PKI (the folder: ca.pem, server.pem, server.key, client.pem, client.key) and SSPR_TEST_CA
# (the CA file).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_apt openssl
PKI="$SSPR_RUN_DIR/pki"
if [[ ! -f "$PKI/ca.pem" ]]; then
  bash "$SSPR_ROOT/scripts/pki/mkcerts.sh" "$PKI"
fi
export PKI
export SSPR_TEST_CA="$PKI/ca.pem"
echo "PKI=$PKI"
