# Shared helpers for scripts/test.sh, scripts/servers/*.sh and scripts/test.d/*.sh. Source it; do not run it.
#
# Conventions (so each part of the project adds files instead of editing test.sh):
# - scripts/servers/NN-name.sh is *sourced* by test.sh in name order. It installs what it lacks
#   (need_apt / need_venv), starts one server on 127.0.0.1, waits until it answers, exports the
#   SSPR_TEST_* variables its tests read and registers its stop with on_exit.
# - scripts/test.d/NN-name.sh is *run* (bash) by test.sh after cargo test, with those variables
#   set. It runs one suite (pytest, node --test, the C/Kotlin/Go programs, the browser test) and
#   reports its counts with `tally NAME PASSED FAILED`; it exits non-zero when anything failed.

SSPR_ROOT=${SSPR_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export SSPR_ROOT

# A step's heading. Each step also closes the one before it in this process: it prints how long
# that one took and, under test.sh, adds it to $SSPR_TIMES, which test.sh's summary lists, so
# every run's log says where its time went.
# (Not exported: each process times its own steps. Kept when a server script sources this file
# again inside test.sh.)
SSPR_STEP_NAME=${SSPR_STEP_NAME-}
SSPR_STEP_START=${SSPR_STEP_START-$SECONDS}
step() {
  step_done
  SSPR_STEP_NAME="$*"
  SSPR_STEP_START=$SECONDS
  printf '\n==> %s\n' "$*"
}
step_done() {
  [[ -n "$SSPR_STEP_NAME" ]] || return 0
  local took=$((SECONDS - SSPR_STEP_START))
  printf '    (%d s: %s)\n' "$took" "$SSPR_STEP_NAME"
  if [[ -n "${SSPR_TIMES:-}" ]]; then printf '%d\t%s\n' "$took" "$SSPR_STEP_NAME" >>"$SSPR_TIMES"; fi
  SSPR_STEP_NAME=""
}

# Run a command at exit; several may be registered, they run last-registered first.
SSPR_EXIT_CMDS=${SSPR_EXIT_CMDS:-}
on_exit() {
  SSPR_EXIT_CMDS="$*; ${SSPR_EXIT_CMDS}"
  # shellcheck disable=SC2064
  trap "set +e; ${SSPR_EXIT_CMDS}" EXIT
  # A run stopped by Ctrl-C or a kill also stops its servers: exit, so the EXIT trap runs.
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Scratch space for one test run (servers' data, certificates, mail); removed at exit.
if [[ -z "${SSPR_RUN_DIR:-}" ]]; then
  SSPR_RUN_DIR=$(mktemp -d /tmp/sspr-run.XXXXXX)
  export SSPR_RUN_DIR
  on_exit "rm -rf '$SSPR_RUN_DIR'"
fi

# Install Debian packages that are missing (apt-get update at most once per machine run).
need_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  if [[ ! -f /tmp/.sspr-apt-updated ]]; then
    $sudo apt-get update -qq && touch /tmp/.sspr-apt-updated
  fi
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The project's Python virtualenv (.venv at the root), with the given pip packages.
need_venv() {
  local venv="$SSPR_ROOT/.venv"
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
  local missing=()
  for pkg in "$@"; do
    "$venv/bin/python" -m pip show -q "${pkg%%[=<>]*}" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]} > 0)); then
    "$venv/bin/python" -m pip install -q "${missing[@]}"
  fi
  export SSPR_PY="$venv/bin/python"
}

# The run's one debug build of the workspace. cargo test, the Graph stand-in, the portal, the C
# library and the Node addon are all built with these arguments, so each dependency compiles once
# per run. Two things would make cargo compile the whole graph again (about 10 minutes each on a
# CI machine): a `-p CRATE` build (cargo unifies features over the packages selected, so one crate
# alone gets different features) and a build without --target (napi's CLI always passes one, and
# cargo keeps --target builds in target/TRIPLE/).
SSPR_HOST_TRIPLE=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
SSPR_DEBUG_ARGS=(--workspace --all-features --locked --target "$SSPR_HOST_TRIPLE")
SSPR_DEBUG_DIR="${CARGO_TARGET_DIR:-$SSPR_ROOT/target}/$SSPR_HOST_TRIPLE/debug"
[[ "$SSPR_DEBUG_DIR" == /* ]] || SSPR_DEBUG_DIR="$SSPR_ROOT/$SSPR_DEBUG_DIR"
debug_build() {
  cargo build "${SSPR_DEBUG_ARGS[@]}" "$@"
}

# Build ./sspr-py (maturin, release, abi3) and install it into the project's virtualenv (need_venv
# first, with maturin). --no-build-isolation: use the venv's maturin instead of downloading one per
# build. The cargo feature `vectors` adds the test vectors' hooks to sspr.primitives and the
# benchmark's Rust reference, which the release wheel leaves out. maturin takes features given
# here instead of pyproject.toml's, so the wheel's list is read from there and `vectors` added.
install_sspr_py() {
  local features
  features=$(sed -n 's/^features = \[\(.*\)\]$/\1/p' "$SSPR_ROOT/sspr-py/pyproject.toml" | tr -d ' "')
  MATURIN_PEP517_ARGS="--features $features,vectors" PATH="$(dirname "$SSPR_PY"):$PATH" \
    "$SSPR_PY" -m pip install -q --no-build-isolation --force-reinstall --no-deps "$SSPR_ROOT/sspr-py"
}

# Wait until a command succeeds (up to $1 seconds).
wait_for() {
  local secs=$1; shift
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "timed out after ${secs}s waiting for: $*" >&2; return 1; }
    sleep 0.1
  done
}

# Record a suite's counts for the closing line of test.sh.
tally() {
  echo "$1 $2 $3" >>"${SSPR_TALLY:?tally is only meaningful under scripts/test.sh}"
  printf '%s: %s passed, %s failed\n' "$1" "$2" "$3"
}

# The last step of a process is closed at its exit (registered once per process).
if [[ -z "${SSPR_LIB_SOURCED:-}" ]]; then
  SSPR_LIB_SOURCED=1
  on_exit step_done
fi
