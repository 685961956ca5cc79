# Sourced by scripts/test.sh (see scripts/lib.sh): a 3-master Redis Cluster on three free
# 127.0.0.1 ports for the Redis Cluster store tests. Exports SSPR_TEST_REDIS_CLUSTER_URL (one
# seed node; the client learns the others from it) and SSPR_TEST_REDIS_CLUSTER_PORTS.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_apt redis-server redis-tools
sspr_redis_cluster_dir="$SSPR_RUN_DIR/redis-cluster"
# A node also listens on its port + 10000 (the cluster bus): three free ports below 55536 whose
# bus ports are free too.
read -r -a sspr_redis_cluster_ports < <(python3 -c '
import socket
ports = []
while len(ports) < 3:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p > 55535 or p in ports: continue
    try:
        b = socket.socket(); b.bind(("127.0.0.1", p + 10000)); b.close()
    except OSError:
        continue
    ports.append(p)
print(*ports)')
bash "$SSPR_ROOT/scripts/state/redis-cluster.sh" start "$sspr_redis_cluster_dir" "${sspr_redis_cluster_ports[@]}"
on_exit "bash '$SSPR_ROOT/scripts/state/redis-cluster.sh' stop '$sspr_redis_cluster_dir'"
export SSPR_TEST_REDIS_CLUSTER_URL="redis://127.0.0.1:${sspr_redis_cluster_ports[0]}/"
export SSPR_TEST_REDIS_CLUSTER_PORTS="${sspr_redis_cluster_ports[*]}"
echo "SSPR_TEST_REDIS_CLUSTER_URL=$SSPR_TEST_REDIS_CLUSTER_URL"
