#!/usr/bin/env bash
# The npm package `sspr` (sspr-node/): build the napi addon (with the test hooks of the
# cargo feature `vectors`, which the npm package leaves out), check that the checked-in
# generated types match the build, run `node --test`, type-check the TypeScript
# tests and the Express example (examples/node/) with tsc.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

command -v node >/dev/null || { echo "node (20+) is required" >&2; exit 1; }
# The sqlite3 shell reads the audit database __test__/config.test.mjs has the engine write.
need_apt sqlite3
root=$PWD
pkg=$root/sspr-node
failed=0

step "sspr-node: npm ci"
(cd "$pkg" && npm ci --no-audit --no-fund --loglevel=error)

step "sspr-node: napi build"
gen=$(mktemp -d)
cp "$pkg/native.d.ts" "$gen/"
# --no-js: the loader native.js is written by hand (it loads the one addon built here).
# The addon comes out of the run's one debug build (scripts/lib.sh, SSPR_DEBUG_ARGS: the whole
# workspace with every feature, `vectors` among them), so only sspr-node itself compiles here.
(cd "$pkg" && CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} npx napi build --platform --no-js --dts native.d.ts \
  --all-features --target "$SSPR_HOST_TRIPLE" -- --workspace --locked)
generated_ok=1
for f in native.d.ts; do
  if ! cmp -s "$gen/$f" "$pkg/$f"; then
    echo "sspr-node/$f differs from what the build generates: commit the regenerated file" >&2
    diff -u "$gen/$f" "$pkg/$f" | head -40 >&2 || true
    generated_ok=0
  fi
done
rm -rf "$gen"

step "sspr-node: the Graph/Entra stand-in for __test__/graph.test.mjs"
debug_build --quiet
export SSPR_GRAPH_STANDIN="$SSPR_DEBUG_DIR/sspr-graph-standin"

step "sspr-node: node --test"
log=$SSPR_RUN_DIR/node-test.log
set +e
(cd "$pkg" && node --test --test-reporter=tap __test__/) >"$log" 2>&1
node_status=$?
set -e
grep -E '^not ok|^ +not ok' "$log" | head -40 || true
passed=$(awk '/^# pass /{print $3}' "$log" | tail -1)
fail_count=$(awk '/^# fail /{print $3}' "$log" | tail -1)
passed=${passed:-0}
fail_count=${fail_count:-1}
if ((node_status != 0)) && ((fail_count == 0)); then fail_count=1; fi

step "sspr-node: tsc --noEmit on the types test"
ts_ok=0
ts_bad=0
if (cd "$pkg" && npx tsc --noEmit -p tsconfig.json); then ts_ok=$((ts_ok + 1)); else ts_bad=$((ts_bad + 1)); fi
if ((generated_ok)); then ts_ok=$((ts_ok + 1)); else ts_bad=$((ts_bad + 1)); fi

step "examples/node: tsc (type-checks the Express portal) and its HTTP tests"
ex_log=$SSPR_RUN_DIR/node-example.log
set +e
# --ignore-scripts: `sspr` is linked to ../../sspr-node, whose install script would otherwise build a
# release addon without the test hooks over the one built above (the npm install itself is tested by
# sspr-node/__test__/install.test.mjs); the Express router's parity replay needs those hooks.
(cd "$root/examples/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && npx tsc -p tsconfig.json &&
  node --test --test-reporter=tap test/) >"$ex_log" 2>&1
ex_status=$?
set -e
grep -E '^not ok|^ +not ok|error TS' "$ex_log" | head -20 || true
ex_pass=$(awk '/^# pass /{print $3}' "$ex_log" | tail -1)
ex_fail=$(awk '/^# fail /{print $3}' "$ex_log" | tail -1)
ex_pass=${ex_pass:-0}
ex_fail=${ex_fail:-0}
if ((ex_status != 0)) && ((ex_fail == 0)); then ex_fail=1; tail -20 "$ex_log"; fi
passed=$((passed + ex_pass))
fail_count=$((fail_count + ex_fail))

tally node $((passed + ts_ok)) $((fail_count + ts_bad))
((fail_count + ts_bad == 0)) || failed=1
exit $failed
