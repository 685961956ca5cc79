#!/usr/bin/env bash
# The one test command: formatting, lints, docs, every test against real servers. Installs and
# starts everything it needs (see scripts/lib.sh for how parts plug in).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

SSPR_TALLY="$SSPR_RUN_DIR/tally"
export SSPR_TALLY
: >"$SSPR_TALLY"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, -D warnings)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo doc (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked

# Real servers the tests use (slapd, Samba AD, the SMTP sink, Redis, PostgreSQL...), each on
# 127.0.0.1 and stopped at exit.
for server in scripts/servers/*.sh; do
  [[ -e "$server" ]] || continue
  step "server: $(basename "$server" .sh)"
  source "$server"
done

step "cargo test (unit, integration, doc tests, test vectors, real servers)"
test_log="$SSPR_RUN_DIR/cargo-test.log"
cargo test --workspace --all-features --locked 2>&1 | tee "$test_log"
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { print "cargo", p + 0, f + 0 }' "$test_log" >>"$SSPR_TALLY"

step "sspr-core builds without default features"
cargo check -p sspr-core --no-default-features --locked

# Only the criterion crate: `--workspace` would also build every crate's unit tests in the
# release profile (the bindings too), minutes of CI for nothing a benchmark runs.
step "benchmarks compile"
cargo bench -p sspr-benches --no-run --locked

# Host-language suites, examples and end-to-end tests.
for suite in scripts/test.d/*.sh; do
  [[ -e "$suite" ]] || continue
  step "suite: $(basename "$suite" .sh)"
  bash "$suite"
done

# One closing line for the whole run, summed over every suite.
step "summary"
awk '{ printf "  %-12s %6d passed, %d failed\n", $1, $2, $3; p += $2; f += $3 }
     END { printf "\nall checks passed\ntests: %d passed, %d failed\n", p, f }' "$SSPR_TALLY"
