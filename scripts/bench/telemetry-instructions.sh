#!/usr/bin/env bash
# Instructions per whole reset flow for each variant of the `telemetry` benchmark
# (benches/benches/telemetry.rs), counted by callgrind: a figure of work that, unlike the
# benchmark's times, does not move with the machine's load (BENCHMARKS.md section 11).
#
#   scripts/bench/telemetry-instructions.sh [memory|sqlite] [low] [high]
#
# Each variant runs twice, `low` and `high` flows (default 100 and 600 in memory, 10 and 60 on
# SQLite); (Ir(high) - Ir(low)) / (high - low) leaves the set-up out. In memory 20 and 120 flows
# spread one run's ratio by about ±0.3, 100 and 600 by about ±0.02 (BENCHMARKS.md section 11). SSPR_TELEMETRY_BENCH names
# an already built benchmark executable instead of building it. Every thread counts: the
# span exporter's thread and the SQLite store's thread are work the flow causes.
set -euo pipefail
cd "$(dirname "$0")/../.."
store=${1:-memory}
if [ "$store" = sqlite ]; then low=${2:-10}; high=${3:-60}; extra=sqlite; else low=${2:-100}; high=${3:-600}; extra=; fi
bench=${SSPR_TELEMETRY_BENCH:-}
[ -n "$bench" ] || bench=$(cargo bench -p sspr-benches --bench telemetry --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*telemetry[^"]*\)".*/\1/p' | tail -1)
[ -x "$bench" ] || { echo "cannot build the telemetry benchmark" >&2; exit 1; }
ir() { # variant flows -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --only "$1" "$2" $extra 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo "| variant ($store) | instructions per flow | ratio to off |"
echo "|---|---:|---:|"
off=
for variant in off metrics registry_info registry_debug otlp_layer_defaults otlp otlp_calls_only \
  otlp_sampled_10 otlp_calls_only_sampled_10 both both_calls_only; do
  a=$(ir "$variant" "$low"); b=$(ir "$variant" "$high")
  per=$(( (b - a) / (high - low) ))
  [ -n "$off" ] || off=$per
  printf '| %s | %d | %s |\n' "$variant" "$per" "$(awk -v p="$per" -v o="$off" 'BEGIN { printf "%.2fx", p / o }')"
done
