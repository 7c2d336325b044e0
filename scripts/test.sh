#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it. Runs every stage, then fails if any failed.
# Usage: scripts/test.sh [sanity|units|integration|gates|all]   (default: all)
#
# Stages run in two lanes side by side (2 cores), balanced by measured time: lane 1 is ansible-test sanity on the
# three ansible-core lines, units on 2.21, then the ecosystem gates; lane 2 is units on 2.19, then integration on
# 2.19 and 2.21 (never two integration runs at once).
# Each stage logs to tests/output/stages/NAME.log, printed when the stage ends; the end shows each stage's time.
# PARALLEL=0 runs the lanes one after the other.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT" || exit 1
what=${1:-all}
V217=$REPO_ROOT/.venv-2.17 V219=$VENV V221=$REPO_ROOT/.venv-2.21
LOGS=$REPO_ROOT/tests/output/stages
rm -rf "$LOGS"
mkdir -p "$LOGS"

# run_stage NAME COMMAND...: run, log, record "NAME<TAB>seconds<TAB>passed|FAILED" in $LOGS/NAME.result.
run_stage() {
    local name=$1 began=$SECONDS verdict=passed; shift
    if ! "$@" >"$LOGS/$name.log" 2>&1; then verdict=FAILED; fi
    printf '%s\t%s\t%s\n' "$name" "$((SECONDS - began))" "$verdict" > "$LOGS/$name.result"
    { echo "##### $name"; cat "$LOGS/$name.log"; echo "##### $name: $verdict ($((SECONDS - began)) s)"; } | \
        flock "$LOGS/.print.lock" cat
}

# wants STAGE...: whether this invocation runs any of these kinds of stage.
wants() {
    local stage
    for stage in "$@"; do
        if [ "$what" = all ] || [ "$what" = "$stage" ]; then return 0; fi
    done
    return 1
}

# Lane 1: sanity on the three lines, the 2.21 unit tests, then the gates.
lane_1() {
    if wants sanity; then
        run_stage "sanity-2.17-py3.11" scripts/ansible_test.sh "$V217" 3.11 sanity
        run_stage "sanity-2.19-py3.11" scripts/ansible_test.sh "$V219" 3.11 sanity
        run_stage "sanity-2.21-py3.13" scripts/ansible_test.sh "$V221" 3.13 sanity
    fi
    if wants units; then run_stage "units-2.21-py3.13" scripts/ansible_test.sh "$V221" 3.13 units; fi
    if wants gates; then run_stage "gates" scripts/gates.sh all; fi
}

# Lane 2: the 2.19 unit tests, then integration on 2.19 and 2.21, one after the other.
lane_2() {
    if wants units; then run_stage "units-2.19-py3.11" scripts/ansible_test.sh "$V219" 3.11 units; fi
    if wants integration; then
        run_stage "integration-2.19-py3.11" scripts/ansible_test.sh "$V219" 3.11 integration
        run_stage "integration-2.21-py3.13" scripts/ansible_test.sh "$V221" 3.13 integration
    fi
}

start=$SECONDS
if [ "${PARALLEL:-1}" = 1 ]; then
    lane_1 & lane_1_pid=$!
    lane_2 & lane_2_pid=$!
    wait "$lane_1_pid" || true
    wait "$lane_2_pid" || true
else
    lane_1
    lane_2
fi

echo "##### stage times (seconds; 2-core machine, two lanes side by side)"
failed=()
for result in "$LOGS"/*.result; do
    [ -e "$result" ] || continue
    IFS=$'\t' read -r name seconds verdict < "$result"
    printf '  %-36s %5s s  %s\n' "$name" "$seconds" "$verdict"
    [ "$verdict" = passed ] || failed+=("$name")
done
echo "  total wall time: $((SECONDS - start)) s"
ls "$LOGS"/*.result >/dev/null 2>&1 || { echo "no stage ran for '$what'"; exit 2; }
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED stages: ${failed[*]}"
    exit 1
fi
echo "all test stages passed"
