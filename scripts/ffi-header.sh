#!/usr/bin/env bash
# Make sspr-ffi/include/sspr.h from the C API's sources, or check it (--verify).
#
# The C API's blocking/_async pairs are written once each, by the `entry_points!` macro
# (sspr-ffi/src/capi/engine/call.rs); cbindgen does not look inside macros. So the header is
# made from the `capi` module as rustc expands it (-Zunpretty=expanded, which stable rustc
# allows only with RUSTC_BOOTSTRAP=1; it is what cbindgen's own [parse.expand] runs, but that
# expands the whole crate, and uniffi's scaffolding at the crate root would land in the header).
# The expansion is a `cargo check`-style build (the `check` profile): its dependencies are
# compiled once into the target directory.
#   scripts/ffi-header.sh            write the header
#   scripts/ffi-header.sh --verify   fail if the committed header differs
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
RUSTC_BOOTSTRAP=1 cargo rustc -q -p sspr-ffi --lib --profile=check --features vectors -- -Zunpretty=expanded \
  >"$out/expanded.rs"
# The `capi` module: from its line to the first closing brace in column 0 (rustc's pretty
# printer puts top-level items there).
awk '/^pub mod capi \{$/ { on = 1 } on { print } on && /^\}$/ { exit }' "$out/expanded.rs" >"$out/capi.rs"
[[ -s "$out/capi.rs" ]] || { echo "ffi-header: no \`pub mod capi\` in the expanded crate" >&2; exit 1; }
cbindgen --quiet ${1:+"$1"} --config sspr-ffi/cbindgen.toml --output sspr-ffi/include/sspr.h "$out/capi.rs"
