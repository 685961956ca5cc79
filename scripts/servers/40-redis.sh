# Sourced by scripts/test.sh (see scripts/lib.sh): redis-server on a free 127.0.0.1 port for the
# Redis state store tests, with TLS on a second port (the server certificate of 00-pki.sh, which
# it sources if needed). Exports SSPR_TEST_REDIS_URL and SSPR_TEST_REDIS_TLS_URL (rediss://).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
[[ -n "${PKI:-}" && -f "$PKI/server.pem" ]] || source "$(dirname "${BASH_SOURCE[0]}")/00-pki.sh"
need_apt redis-server
sspr_redis_dir="$SSPR_RUN_DIR/redis"
sspr_redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sspr_redis_tls_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$SSPR_ROOT/scripts/state/redis.sh" start "$sspr_redis_dir" "$sspr_redis_port" "$sspr_redis_tls_port" "$PKI"
on_exit "bash '$SSPR_ROOT/scripts/state/redis.sh' stop '$sspr_redis_dir'"
export SSPR_TEST_REDIS_URL="redis://127.0.0.1:$sspr_redis_port/"
export SSPR_TEST_REDIS_TLS_URL="rediss://127.0.0.1:$sspr_redis_tls_port/"
echo "SSPR_TEST_REDIS_URL=$SSPR_TEST_REDIS_URL SSPR_TEST_REDIS_TLS_URL=$SSPR_TEST_REDIS_TLS_URL"
