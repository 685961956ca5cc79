#!/usr/bin/env bash
# The Python package `sspr` (sspr-py/): build it with maturin through pip, run its pytest suite
# (test vectors, flows, errors, concurrency, cancellation, secrets, the examples) and
# `mypy --strict` on the examples. Reports `tally python <passed> <failed>`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

step "python: virtualenv and tools"
# opentelemetry-proto decodes what test_traces.py's OTLP receiver gets; opentelemetry-api is the host's
# OpenTelemetry the routers read the current span from.
need_venv "maturin>=1.16,<1.17" pytest mypy fastapi httpx python-multipart uvicorn "django>=5.2,<6" opentelemetry-proto opentelemetry-api
PY="$SSPR_PY"
VENV_BIN=$(dirname "$PY")

step "python: build and install ./sspr-py (maturin, release, abi3, with the test hooks)"
install_sspr_py

step "python: the Graph/Entra stand-in for test_graph.py"
debug_build --quiet
export SSPR_GRAPH_STANDIN="$SSPR_DEBUG_DIR/sspr-graph-standin"

step "python: pytest"
report="$SSPR_RUN_DIR/pytest-python.xml"
set +e
"$PY" -m pytest -q -p no:cacheprovider --junitxml="$report" sspr-py/tests
pytest_rc=$?
set -e

read -r passed failed < <("$PY" - "$report" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) + int(s.get("skipped", 0)) for s in suites)
print(tests - bad, bad)
PYEOF
)

step "python: mypy --strict on the examples and stubs"
mypy_failed=0
if ! "$PY" -m mypy --strict --no-incremental examples/python sspr-py/tests/typing_check.py; then
  mypy_failed=1
fi

tally python "$((passed + (1 - mypy_failed)))" "$((failed + mypy_failed))"
if ((pytest_rc != 0 || mypy_failed != 0 || failed != 0)); then
  exit 1
fi
