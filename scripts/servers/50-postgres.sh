# Sourced by scripts/test.sh (see scripts/lib.sh): PostgreSQL on a free 127.0.0.1 port, database
# `sspr`, for the PostgreSQL store tests, accepting plain and TLS connections (ssl = on, with the
# server certificate of 00-pki.sh, which it sources if needed). Exports SSPR_TEST_POSTGRES_URL
# (no sslmode: libpq's default, prefer) and SSPR_TEST_CA.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
[[ -n "${PKI:-}" && -f "$PKI/server.pem" ]] || source "$(dirname "${BASH_SOURCE[0]}")/00-pki.sh"
need_apt postgresql
# Its own folder: the run folder is private to root, and PostgreSQL runs as the postgres user.
sspr_pg_dir=$(mktemp -d /tmp/sspr-postgres.XXXXXX)
on_exit "rm -rf '$sspr_pg_dir'"
sspr_pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$SSPR_ROOT/scripts/state/postgres.sh" start "$sspr_pg_dir" "$sspr_pg_port" "$PKI"
on_exit "bash '$SSPR_ROOT/scripts/state/postgres.sh' stop '$sspr_pg_dir'"
export SSPR_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$sspr_pg_port/sspr"
echo "SSPR_TEST_POSTGRES_URL=$SSPR_TEST_POSTGRES_URL"
