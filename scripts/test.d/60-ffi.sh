#!/usr/bin/env bash
# sspr-ffi: the plain C API and the uniffi bindings, from the languages that use them.
#   C      the test program as C11 and as C++17 (gcc -Wall -Wextra -Werror), the C11 one again
#          under valgrind (no leak, no invalid access), the replay of tests/parity/cases.json
#          (jansson reads it) and the README's example (also under valgrind)
#   header include/sspr.h is what cbindgen makes of the expanded C API (scripts/ffi-header.sh --verify)
#   Go     cgo against the header: one flow, and every shared test vector
#   uniffi Python and Ruby (full flows with foreign backends), Kotlin on the JVM (JNA,
#          coroutines), Swift generated (no Swift compiler on this machine)
# Each suite prints "<name>: N passed, M failed"; the sum is tallied as `ffi`.
# Time on the 2-core machine (shared, load ~12): 2.5-3 min with caches warm. Cold it adds
# cargo install cbindgen (2.5-4 min, once into ~/.cargo/bin), the Kotlin compiler, JNA and
# coroutines into ~/.m2 (170 s including the compile), apt ruby ruby-ffi (~30 s) and, when
# run on its own, the debug build of the library and the uniffi generator (12 min from an
# empty target dir on the loaded machine; test.sh's cargo test has built most of it already).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}

root=$PWD
lib_dir="$SSPR_DEBUG_DIR"
work="$SSPR_RUN_DIR/ffi"
mkdir -p "$work"
passed=0
failed=0

# Run one suite: its output is shown and its "N passed, M failed" line counted; a suite that
# fails without printing one counts as one failure.
suite() {
  local name=$1
  shift
  local log="$work/$name.log" rc=0
  "$@" >"$log" 2>&1 || rc=$?
  cat "$log"
  local line
  # (Maven's colour codes are dropped: they can prefix the line.)
  line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" | tail -1 || true)
  if [[ -n "$line" ]]; then
    local p f
    p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/' <<<"$line")
    f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/' <<<"$line")
    passed=$((passed + p))
    failed=$((failed + f))
    if ((rc != 0 && f == 0)); then failed=$((failed + 1)); echo "$name: exited with $rc"; fi
  else
    if ((rc == 0)); then passed=$((passed + 1)); else failed=$((failed + 1)); echo "$name: failed (exit $rc)"; fi
  fi
}

step "ffi: build the library and the binding generator (debug)"
# One build with the `bindgen` feature: the library the C, Go and uniffi tests load, and the
# uniffi-bindgen binary at the library's exact uniffi version; with `vectors`, the C API's
# test hooks the Go program replays the shared vectors through (a default build has none).
debug_build # with every feature: `bindgen` (the uniffi-bindgen binary) and `vectors` (the test hooks)
bindgen="$lib_dir/uniffi-bindgen"

step "ffi: the committed header is cbindgen's output"
if ! command -v cbindgen >/dev/null 2>&1 || [[ "$(cbindgen --version)" != "cbindgen 0.29.2" ]]; then
  echo "installing cbindgen 0.29.2 (about 2.5 minutes, once per machine)"
  cargo install cbindgen --version 0.29.2 --locked --quiet
fi
# From the expanded `capi` module: the blocking/_async pairs are made by a macro, which
# cbindgen does not look into (scripts/ffi-header.sh says how and why).
suite header bash scripts/ffi-header.sh --verify

step "ffi: C"
cflags=(-Wall -Wextra -Werror -pthread -Isspr-ffi/include -Isspr-ffi/tests/c)
ldflags=(-L"$lib_dir" -lsspr_ffi -Wl,-rpath,"$lib_dir")
gcc -std=c11 "${cflags[@]}" sspr-ffi/tests/c/test_capi.c "${ldflags[@]}" -o "$work/test_c"
g++ -std=c++17 -x c++ "${cflags[@]}" sspr-ffi/tests/c/test_capi.c -x none "${ldflags[@]}" -o "$work/test_cpp"
gcc -std=c11 "${cflags[@]}" sspr-ffi/tests/c/bench_capi.c "${ldflags[@]}" -o "$work/bench_c" # kept compiling
suite c "$work/test_c"
suite c "$work/test_cpp"
valgrind_run() {
  valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,possible \
    --num-callers=60 --suppressions=sspr-ffi/tests/c/valgrind.supp \
    --errors-for-leak-kinds=definite,possible "$work/test_c" | sed 's/^c:/valgrind:/'
  # valgrind's own exit code (99 on any error) is the pipeline's first status
  return "${PIPESTATUS[0]}"
}
suite valgrind valgrind_run

step "ffi: C replay of tests/parity/cases.json"
# jansson reads the cases (the library has no JSON reader of its own to test with).
need_apt libjansson-dev
gcc -std=c11 "${cflags[@]}" sspr-ffi/tests/c/parity.c "${ldflags[@]}" -ljansson -o "$work/parity_c"
suite parity "$work/parity_c" tests/parity/cases.json

step "ffi: the README's C example"
awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' sspr-ffi/README.md >"$work/example.c"
gcc -std=c11 "${cflags[@]}" "$work/example.c" "${ldflags[@]}" -o "$work/example"
suite example "$work/example"
# Again under valgrind: slow enough that a PIN read before its background delivery has run
# (the example once did) is missing, and no leak or invalid access on the documented path.
example_valgrind() {
  valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,possible \
    --suppressions=sspr-ffi/tests/c/valgrind.supp --errors-for-leak-kinds=definite,possible "$work/example"
}
suite example-valgrind example_valgrind

step "ffi: Go (cgo)"
(
  cd sspr-ffi/tests/go
  # Go's build cache does not hash the C headers a cgo preamble includes: name their content
  # in the flags, so a changed sspr.h is compiled again (a stale SsprEngineOptions crashed).
  headers=$(cat "$root/sspr-ffi/include/sspr.h" "$root"/sspr-ffi/tests/c/*.h | sha256sum | cut -c1-16)
  export CGO_CFLAGS="-I$root/sspr-ffi/include -I$root/sspr-ffi/tests/c -DSSPR_HEADERS_$headers"
  export CGO_LDFLAGS="-L$lib_dir -lsspr_ffi -Wl,-rpath,$lib_dir"
  go build -o "$work/go-test" .
)
suite go "$work/go-test" "$root/tests/vectors"

# The uniffi bindings, generated from the built library. Each language's directory gets the
# library beside the generated code (the generated Python and Ruby load it from there).
generate() {
  local language=$1 out="$work/$1"
  rm -rf "$out"
  "$bindgen" generate --library "$lib_dir/libsspr_ffi.so" --language "$language" --out-dir "$out" 2>&1 |
    grep -v 'Unable to auto-format' || true
  cp "$lib_dir/libsspr_ffi.so" "$out/"
}

step "ffi: uniffi Python"
generate python
suite python env PYTHONPATH="$work/python" python3 sspr-ffi/tests/python/test_uniffi.py

step "ffi: uniffi Ruby"
need_apt ruby ruby-ffi
generate ruby
suite ruby env LD_LIBRARY_PATH="$work/ruby" ruby -I"$work/ruby" sspr-ffi/tests/ruby/test_uniffi.rb

step "ffi: uniffi Kotlin (JVM)"
generate kotlin
kotlin_run() {
  # Maven fetches the Kotlin compiler, JNA and kotlinx-coroutines once into ~/.m2.
  (cd sspr-ffi/tests/kotlin &&
    mvn -q -B -Dgen.dir="$work/kotlin" -Dbuild.dir="$work/kotlin-build" compile dependency:build-classpath \
      -Dmdep.outputFile="$work/kotlin-classpath.txt") || return 1
  java -Djna.library.path="$work/kotlin" -cp "$work/kotlin-build/classes:$(cat "$work/kotlin-classpath.txt")" MainKt
}
suite kotlin kotlin_run

step "ffi: uniffi Swift (generated; compiled only where a Swift compiler exists)"
generate swift
swift_check() {
  local f
  for f in sspr_ffi.swift sspr_ffiFFI.h sspr_ffiFFI.modulemap; do
    [[ -s "$work/swift/$f" ]] || { echo "swift: $f was not generated"; return 1; }
  done
  grep -q 'public protocol DirectoryProtocol\|public protocol Directory' "$work/swift/sspr_ffi.swift" ||
    { echo "swift: no Directory protocol"; return 1; }
  if command -v swiftc >/dev/null 2>&1; then
    swiftc -parse-as-library -emit-library -module-name sspr_ffi -Xcc -fmodule-map-file="$work/swift/sspr_ffiFFI.modulemap" \
      -I "$work/swift" -L "$lib_dir" -lsspr_ffi "$work/swift/sspr_ffi.swift" -o "$work/swift/libsspr_ffi_swift.so"
    echo "swift: compiled"
  else
    echo "swift: generated (no Swift compiler on this machine: not compiled)"
  fi
}
suite swift swift_check

step "ffi summary"
tally ffi "$passed" "$failed"
((failed == 0))
