#!/usr/bin/env bash
# `make bench`: measure the playbook against the Atlas emulator and moto (scripts/bench.py), then regenerate the
# figures in docs/performance.md and its two PNG charts. matplotlib lives in its own venv (.venv-bench) so the test
# venvs keep their pins. BENCH_RUNS (default 5) sets the runs per figure. Timings are never asserted anywhere.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH_VENV=${BENCH_VENV:-$REPO_ROOT/.venv-bench}

if ! "$BENCH_VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
    python3.11 -m venv "$BENCH_VENV" 2>/dev/null || "$VENV/bin/python" -m venv "$BENCH_VENV"
    "$BENCH_VENV/bin/python" -m pip install --quiet --disable-pip-version-check matplotlib
fi

stage_collection
trap 'rm -rf "$STAGE_ROOT"' EXIT
results="$STAGE_ROOT/bench-results.json"
export ANSIBLE_COLLECTIONS_PATH="$STAGE_ROOT" BENCH_STAGE_ROOT="$STAGE_ROOT"
"$VENV/bin/python" "$REPO_ROOT/scripts/bench.py" run "$results"
cp "$results" "$REPO_ROOT/tests/output/bench-results.json" 2>/dev/null \
    || { mkdir -p "$REPO_ROOT/tests/output" && cp "$results" "$REPO_ROOT/tests/output/bench-results.json"; }
"$BENCH_VENV/bin/python" "$REPO_ROOT/scripts/bench.py" chart "$results" "$REPO_ROOT/docs"
"$VENV/bin/python" "$REPO_ROOT/scripts/bench.py" report "$results" "$REPO_ROOT/docs/performance.md"
echo "docs/performance.md and docs/performance-*.png regenerated; raw results in tests/output/bench-results.json"
