#!/usr/bin/env bash
# Run ansible-test from a staged copy of the collection with one virtualenv.
# Usage: scripts/ansible_test.sh VENV PYTHON_VERSION COMMAND... (commands: sanity, units, integration)
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
venv=$(cd "$1" && pwd); python_version=$2; shift 2
provide_get_pip "$venv"
stage_collection
trap 'rm -rf "$STAGE_ROOT"' EXIT
cd "$STAGED" || exit 1
export PATH="$venv/bin:$PATH"
core=$("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')
status=0
for command in "$@"; do
    echo "=== ansible-test $command (ansible-core $core, Python $python_version) ==="
    case "$command" in
        sanity) ansible-test sanity --venv --python "$python_version" --color no || status=1 ;;
        units) ansible-test units --local --python "$python_version" --color no || status=1 ;;
        integration) ansible-test integration --local --python "$python_version" --color no || status=1 ;;
        *) echo "unknown command: $command" >&2; exit 2 ;;
    esac
done
exit $status
