#!/usr/bin/env bash
# A throwaway redis-server on 127.0.0.1 (used by servers/40-redis.sh and by the store fault tests).
#   redis.sh start DIR PORT [TLS_PORT PKI [CLIENTS]]
#                             start (or restart) with its data in DIR; append-only file on (fsync once
#                             a second, and at every clean stop), so a stop and restart keeps what
#                             was written; waits until it answers PING. With TLS_PORT, also TLS there
#                             with PKI's server.pem/server.key; CLIENTS is Redis's tls-auth-clients
#                             (default no: clients need no certificate; yes: one signed by PKI's CA)
#   redis.sh stop DIR         stop it by the PID in DIR/redis.pid
set -euo pipefail
cmd=${1:?usage: redis.sh start DIR PORT | stop DIR}
dir=${2:?data folder}
case "$cmd" in
  start)
    port=${3:?port}
    tls=()
    if [[ -n "${4:-}" ]]; then
      pki=${5:?PKI folder}
      tls=(--tls-port "$4" --tls-cert-file "$pki/server.pem" --tls-key-file "$pki/server.key"
           --tls-ca-cert-file "$pki/ca.pem" --tls-auth-clients "${6:-no}")
    fi
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
      --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "${tls[@]}"
    for _ in $(seq 1 200); do
      redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && exit 0
      sleep 0.05
    done
    echo "redis-server on port $port did not answer; log: $dir/redis.log" >&2
    exit 1
    ;;
  stop)
    [[ -f "$dir/redis.pid" ]] || exit 0
    pid=$(cat "$dir/redis.pid")
    kill "$pid" 2>/dev/null || true
    # Wait until it has gone, so a restart on the same port can bind.
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
