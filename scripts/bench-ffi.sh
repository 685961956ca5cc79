#!/usr/bin/env bash
# Per-call overhead of the two FFI doors against the same flow in Rust, side by side in one
# run, on a release build: examples/bench_flow.rs (Rust, sspr-core directly),
# tests/c/bench_capi.c (the C API, C backends), tests/python/bench_uniffi.py (uniffi,
# async Python backends) and tests/kotlin/src/bench/Bench.kt (uniffi on the JVM).
# Usage: scripts/bench-ffi.sh [rounds]   (figures in BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2000}
work=$(mktemp -d /tmp/sspr-bench-ffi.XXXXXX)
trap 'rm -rf "$work"' EXIT
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}

cargo build --release --locked -p sspr-ffi --lib --example bench_flow
cargo build --locked -p sspr-ffi --features bindgen --bin uniffi-bindgen   # debug: only generates code
target_dir=${CARGO_TARGET_DIR:-target}
[[ "$target_dir" == /* ]] || target_dir="$PWD/$target_dir"
lib=$target_dir/release
gcc -std=c11 -O2 -pthread -Isspr-ffi/include -Isspr-ffi/tests/c sspr-ffi/tests/c/bench_capi.c \
  -L"$lib" -lsspr_ffi -Wl,-rpath,"$lib" -o "$work/bench_c"
"$target_dir/debug/uniffi-bindgen" generate --library "$lib/libsspr_ffi.so" --language python --out-dir "$work/py" \
  --no-format >/dev/null
cp "$lib/libsspr_ffi.so" "$work/py/"

echo "rounds: $rounds (each: begin_reset, send_pin, verify_pin, complete_reset); status: $((rounds * 10)) calls"
"$lib/examples/bench_flow" "$rounds"
"$work/bench_c" "$rounds"
PYTHONPATH="$work/py" python3 sspr-ffi/tests/python/bench_uniffi.py "$rounds"
"$target_dir/debug/uniffi-bindgen" generate --library "$lib/libsspr_ffi.so" --language kotlin --out-dir "$work/kt" \
  --no-format >/dev/null
(cd sspr-ffi/tests/kotlin &&
  mvn -q -B -Dgen.dir="$work/kt" -Dbuild.dir="$work/kt-build" compile dependency:build-classpath \
    -Dmdep.outputFile="$work/kt-classpath.txt" >/dev/null 2>&1)
java -Djna.library.path="$lib" -cp "$work/kt-build/classes:$(cat "$work/kt-classpath.txt")" bench.BenchKt "$rounds"
