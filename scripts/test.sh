#!/usr/bin/env bash
# The one test command: formatting, lints, docs, every test against real servers. Installs and
# starts everything it needs (see scripts/lib.sh for how parts plug in).
#
#   ./scripts/test.sh              everything, in this order (what CI's .ci/run runs)
#   ./scripts/test.sh PART...      only those parts, e.g. `./scripts/test.sh python node`:
#     rust     cargo fmt --check, clippy -D warnings (which type-checks the benchmarks too), cargo doc,
#              the MSRV check, sspr-core without default features; and, unless `servers` runs too, the
#              offline tier: plain `cargo test --workspace` (no server, no SSPR_TEST_* needed)
#     servers  the real servers and `cargo test --workspace --all-features`: both tiers, the
#              server tier being the tests behind the `server-tests` feature; fails when a
#              server tier (below) ran no test
#     fuzz python node ffi e2e     the suites in scripts/test.d/ (servers started for them)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

all_parts=(rust servers fuzz python node ffi e2e)
parts=("$@")
full=0
((${#parts[@]} > 0)) || { parts=("${all_parts[@]}"); full=1; }
for part in "${parts[@]}"; do
  if [[ " ${all_parts[*]} " != *" $part "* ]]; then
    echo "unknown part '$part': choose from ${all_parts[*]}" >&2
    exit 2
  fi
done
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# Debug builds keep line tables only (file:line in backtraces, no full debug info): the full
# run builds the workspace in several feature sets, and full debug info made the targets of one
# clean run about 16 GB, enough to fill a CI disk near its end. A value set by the caller wins.
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG-line-tables-only}

SSPR_TALLY="$SSPR_RUN_DIR/tally"
export SSPR_TALLY
: >"$SSPR_TALLY"
# Every step's time (scripts/lib.sh's `step`), listed at the end.
SSPR_TIMES="$SSPR_RUN_DIR/times"
export SSPR_TIMES
: >"$SSPR_TIMES"
# Where the time went, printed at exit (also when a step failed): each step of test.sh in order
# (a `suite:` line is the whole suite), the steps each suite ran itself indented just above it.
time_table() {
  step_done
  printf '\n==> time per step (seconds)\n'
  awk -F '\t' '{ if ($2 ~ /^suite: /) { print; next } print "  " $0 }' "$SSPR_TIMES"
  printf '  total %d s\n' "$SECONDS"
}
on_exit time_table

# Sums the "test result:" lines of a cargo test log into the tally.
tally_cargo() { # name log
  awk -v name="$1" '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
       END { print name, p + 0, f + 0 }' "$2" >>"$SSPR_TALLY"
}

if wants rust; then
  step "cargo fmt --check"
  cargo fmt --all -- --check

  step "cargo clippy (all targets, all features, -D warnings)"
  cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

  step "cargo doc (-D warnings)"
  RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked

  # The declared rust-version, held to: sspr-core and sspr-backends (what embedders compile)
  # checked with that toolchain. About 1 min from cold (toolchain 15 s, check 50 s), seconds
  # warm; `cargo +1.88.0 check --workspace --all-features --all-targets` passed too (2 min).
  msrv=$(sed -n 's/^rust-version = "\([0-9.]*\)"$/\1/p' Cargo.toml | head -1)
  [[ "$msrv" == *.*.* ]] || msrv="$msrv.0"
  step "MSRV: cargo +$msrv check of sspr-core and sspr-backends"
  rustup run "$msrv" rustc --version >/dev/null 2>&1 || rustup toolchain install "$msrv" --profile minimal
  cargo +"$msrv" check -p sspr-core -p sspr-backends --all-features --locked

  step "sspr-core builds without default features"
  cargo check -p sspr-core --no-default-features --locked

  # The benchmarks are not built in the release profile here: clippy --all-targets above has
  # type-checked them, and their release build cost 6 minutes of every CI run for nothing a test runs.

  # `servers` runs every test with all features (the offline tier included): run them once.
  if ! wants servers; then
    step "cargo test: the offline tier (no server, as plain \`cargo test --workspace\`)"
    test_log="$SSPR_RUN_DIR/cargo-test-offline.log"
    cargo test --workspace --locked 2>&1 | tee "$test_log"
    tally_cargo cargo "$test_log"
  fi
fi

# Real servers the tests use (slapd, Samba AD, the SMTP sink, Redis, PostgreSQL...), each on
# 127.0.0.1 and stopped at exit; every part but `rust` and `fuzz` needs them.
if wants servers || wants python || wants node || wants ffi || wants e2e; then
  for server in scripts/servers/*.sh; do
    [[ -e "$server" ]] || continue
    step "server: $(basename "$server" .sh)"
    source "$server"
  done
fi

# The server tiers: a tier that ran no test means its tests were compiled out (the
# `server-tests` feature lost) or renamed away from this table (add a line with a new server;
# `redis` counts the cluster's tests too). One line each:
#   tier  test binary (as cargo's "Running" line names it)  test names (extended regex)
server_tiers='
slapd          tests/ldap/main.rs       ^(slapd|plain|faults|drops)::|::openldap_
samba          tests/ldap/main.rs       ^(samba|privileged)::|::(ad|samba)_
smtp           tests/notifiers/main.rs  ^smtp::
redis          tests/stores/main.rs     ^redis::
redis-cluster  tests/stores/main.rs     ^redis::.*cluster
postgres       tests/stores/main.rs     ^postgres(_tls)?::
portal         tests/portal/main.rs     ^(ldap|postgres|shared_state|smtp)::
'

if wants servers; then
  step "cargo test: both tiers (unit, integration, doc tests, test vectors, real servers)"
  test_log="$SSPR_RUN_DIR/cargo-test.log"
  cargo test "${SSPR_DEBUG_ARGS[@]}" 2>&1 | tee "$test_log"
  tally_cargo cargo "$test_log"
  # The cdylibs and binaries the suites load, from the same build (scripts/lib.sh, debug_build).
  debug_build

  step "server tiers (tests that passed)"
  awk -v tiers="$server_tiers" '
    BEGIN { n = split(tiers, lines, "\n"); for (i = 1; i <= n; i++) if (split(lines[i], f, " ") == 3) { t++; name[t] = f[1]; bin[t] = f[2]; re[t] = f[3] } }
    /^ *Running / { current = $2; next }
    /^test .* \.\.\. ok$/ { for (i = 1; i <= t; i++) if (current == bin[i] && $2 ~ re[i]) count[i]++ }
    END { for (i = 1; i <= t; i++) { printf "  %-14s %4d  (%s %s)\n", name[i], count[i], bin[i], re[i]; if (count[i] == 0) bad = 1 }
          if (bad) { print "a server tier ran no test: is the server-tests feature on?" > "/dev/stderr"; exit 1 } }
  ' "$test_log"
fi

# Host-language suites, examples and end-to-end tests: all of them in a full run, else those
# named (scripts/test.d/NN-<part>.sh; the part `e2e` is 70-portal-e2e.sh).
for suite in scripts/test.d/*.sh; do
  [[ -e "$suite" ]] || continue
  name=$(basename "$suite" .sh)
  name=${name#[0-9][0-9]-}
  ((full)) || wants "$name" || wants "${name##*-}" || continue
  step "suite: $(basename "$suite" .sh)"
  bash "$suite"
done

# One closing line for the whole run, summed over every suite; a suite that passed nothing ran
# nothing (a suite skipping everything must not look green).
step "summary"
awk '{ printf "  %-12s %6d passed, %d failed\n", $1, $2, $3; p += $2; f += $3; if ($2 == 0) { empty = empty " " $1 } }
     END { if (empty != "") { printf "\nno test passed in:%s\n", empty; exit 1 }
           printf "\nall checks passed\ntests: %d passed, %d failed\n", p, f }' "$SSPR_TALLY"
