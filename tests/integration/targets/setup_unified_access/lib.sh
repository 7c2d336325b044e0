# Sourced by the end-to-end targets' runme.sh: start moto + the Atlas emulator (scripts/servers.py), stop them on exit,
# and small helpers to run the real playbook and judge the outcome with files/probe.py (independent of the collection).
# shellcheck shell=bash
set -eu -o pipefail

SETUP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
# ansible-test points ANSIBLE_COLLECTIONS_PATH at the directory holding ansible_collections/; the targets themselves
# run from a copy under tests/output/.tmp, so the collection root is found from there, not from this file.
COLLECTION_ROOT="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/atlas_ops/aws_access"
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/unified-access-e2e.XXXXXX")
RUN_LOG="$WORK_DIR/last-run.log"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# shellcheck source=scripts/lib.sh
source "$COLLECTION_ROOT/scripts/lib.sh"

cleanup() {
    stop_servers
    rm -rf "$WORK_DIR"
}

start_moto_and_emulator() {
    trap cleanup EXIT
    start_servers "$WORK_DIR/servers.env" --aws-request-log "$WORK_DIR/aws-requests.jsonl"
}

probe() { "$PYTHON" "$SETUP_DIR/files/probe.py" "$@"; }

# The id of a new Atlas project in the emulator.
new_project() { probe project "$1" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }

# Run the collection's playbook (as users do: by its FQCN) with the shared connection settings; output in RUN_LOG.
unified_access() {
    echo "### ansible-playbook atlas_ops.aws_access.unified_access $*"
    local status=0
    ansible-playbook atlas_ops.aws_access.unified_access -i "$SETUP_DIR/inventory" \
        -e aws_endpoint_url="$MOTO_URL" "$@" > "$RUN_LOG" 2>&1 || status=$?
    cat "$RUN_LOG"
    return $status
}

# Run any playbook with the same inventory; output in RUN_LOG.
playbook() {
    echo "### ansible-playbook $*"
    local status=0
    ansible-playbook -i "$SETUP_DIR/inventory" -e aws_endpoint_url="$MOTO_URL" "$@" > "$RUN_LOG" 2>&1 || status=$?
    cat "$RUN_LOG"
    return $status
}

fail() { echo "FAILED: $*" >&2; exit 1; }

# The last run's PLAY RECAP reports no change on any host.
expect_unchanged() {
    grep -q '^PLAY RECAP' "$RUN_LOG" || fail "no PLAY RECAP in the last run"
    if grep -E '^[^ ].* : ok=' "$RUN_LOG" | grep -Eq 'changed=[1-9]'; then fail "the last run changed something"; fi
}

# The last run's PLAY RECAP reports a change on every host.
expect_changed() {
    grep -q '^PLAY RECAP' "$RUN_LOG" || fail "no PLAY RECAP in the last run"
    if grep -E '^[^ ].* : ok=' "$RUN_LOG" | grep -Eq 'changed=0 '; then fail "a host of the last run changed nothing"; fi
}

# The last run failed with a message containing this text.
expect_message() { grep -Fq -- "$1" "$RUN_LOG" || fail "the last run's output lacks: $1"; }

# Judge the world with probe.py: see its `check` command.
check() { probe check "$@"; }
