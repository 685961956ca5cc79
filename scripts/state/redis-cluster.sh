#!/usr/bin/env bash
# A throwaway 3-master Redis Cluster on 127.0.0.1 (used by servers/45-redis-cluster.sh).
#   redis-cluster.sh start DIR P1 P2 P3 [PKI [CLIENTS]]
#                                         three `redis-server --cluster-enabled yes`, no persistence,
#                                         joined by `redis-cli --cluster create` (no replicas); waits
#                                         until the cluster says cluster_state:ok. With PKI: TLS only
#                                         (clients and the cluster bus) on those ports, with PKI's
#                                         server.pem/server.key; CLIENTS is tls-auth-clients (default no)
#   redis-cluster.sh stop DIR             stop each node by the PID in DIR/<port>/redis.pid
set -euo pipefail
cmd=${1:?usage: redis-cluster.sh start DIR P1 P2 P3 | stop DIR}
dir=${2:?data folder}
case "$cmd" in
  start)
    shift 2
    ports=("${@:1:3}")
    ((${#ports[@]} == 3)) || { echo "three ports, one per master" >&2; exit 2; }
    pki=${4:-}
    listen=() cli=()
    if [[ -n "$pki" ]]; then
      listen=(--port 0 --tls-port) cli=(--tls --cacert "$pki/ca.pem")
      tls=(--tls-cluster yes --tls-cert-file "$pki/server.pem" --tls-key-file "$pki/server.key"
           --tls-ca-cert-file "$pki/ca.pem" --tls-auth-clients "${5:-no}")
      # The bus (node to node) and redis-cli present PKI's client certificate.
      tls+=(--tls-client-cert-file "$pki/client.pem" --tls-client-key-file "$pki/client.key")
      cli+=(--cert "$pki/client.pem" --key "$pki/client.key")
    else
      listen=(--port) tls=()
    fi
    for port in "${ports[@]}"; do
      mkdir -p "$dir/$port"
      redis-server "${listen[@]}" "$port" --bind 127.0.0.1 --cluster-enabled yes \
        --cluster-config-file "$dir/$port/nodes.conf" --save '' --appendonly no --dir "$dir/$port" \
        --daemonize yes --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" "${tls[@]}"
    done
    for port in "${ports[@]}"; do
      for _ in $(seq 1 200); do redis-cli "${cli[@]}" -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
    done
    redis-cli "${cli[@]}" --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 0 \
      --cluster-yes >"$dir/create.log"
    for _ in $(seq 1 200); do
      ok=1
      for port in "${ports[@]}"; do
        redis-cli "${cli[@]}" -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || ok=0
      done
      ((ok)) && exit 0
      sleep 0.05
    done
    echo "the Redis Cluster did not come up; see $dir/*/redis.log and $dir/create.log" >&2
    exit 1
    ;;
  stop)
    for pidfile in "$dir"/*/redis.pid; do
      [[ -f "$pidfile" ]] || continue
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -9 "$pid" 2>/dev/null || true
    done
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
