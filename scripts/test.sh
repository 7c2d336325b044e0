#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it. Runs every stage, then fails if any failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
failed=()
run_stage() {
    local name=$1; shift
    echo "##### $name"
    if "$@"; then echo "##### $name: passed"; else echo "##### $name: FAILED"; failed+=("$name"); fi
}
run_stage "ansible-core 2.19 / Python 3.11" scripts/ansible_test.sh "$VENV" 3.11 sanity units integration
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED stages: ${failed[*]}"
    exit 1
fi
echo "all test stages passed"
