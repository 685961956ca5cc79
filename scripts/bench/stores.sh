#!/usr/bin/env bash
# The store benchmarks of issue 17, each side by side in one run (see BENCHMARKS.md §7, §9):
#  1. Python flows on Redis: sspr's RedisStore against the same flow hand-rolled with redis-py,
#     and the Redis commands per flow of each (scripts/bench/redis_py_flows.py);
#  2. whole flows/s through memory, SQLite, Redis, PostgreSQL and a 3-master Redis Cluster,
#     sequential and 16 in flight, and how the cluster's keys spread over its masters
#     (sspr-backends/examples/store_flows.rs).
#   scripts/bench/stores.sh [FLOWS]     (default 2048; the Python part runs FLOWS/2 per round)
# Starts its own servers (scripts/servers/40, 45, 50) and stops them at exit. Builds the Python
# package in release into the project's .venv (a few minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
flows=${1:-2048}
source scripts/servers/00-pki.sh >/dev/null
source scripts/servers/40-redis.sh >/dev/null
source scripts/servers/45-redis-cluster.sh >/dev/null
source scripts/servers/50-postgres.sh >/dev/null
need_venv "maturin>=1.16,<1.17" "redis>=5,<7"
step "python: build and install ./sspr-py (release)"
PATH="$(dirname "$SSPR_PY"):$PATH" "$SSPR_PY" -m pip install -q --no-build-isolation --force-reinstall --no-deps ./sspr-py
step "Python flows on Redis: sspr against redis-py"
"$SSPR_PY" scripts/bench/redis_py_flows.py "$SSPR_TEST_REDIS_URL" --flows $((flows / 2)) --rounds 3
step "whole flows/s per store (release)"
cargo run -q --release -p sspr-backends --all-features --example store_flows -- "$flows"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
