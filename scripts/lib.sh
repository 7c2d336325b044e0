# Shared by the test scripts: sourced, not run.
# shellcheck shell=bash
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$REPO_ROOT/.venv}
export ATLAS_API_CONTRACT_DIR=${ATLAS_API_CONTRACT_DIR:-$(cd "$REPO_ROOT/.." && pwd)/shared/atlas-api}

# Copy the collection (tracked and untracked-but-not-ignored files) into a real
# .../ansible_collections/atlas_ops/aws_access/ tree: ansible-test refuses symlinks.
stage_collection() {
    local stage_root
    stage_root=$(mktemp -d "${TMPDIR:-/tmp}/atlas-ops-stage.XXXXXX")
    local dest="$stage_root/ansible_collections/atlas_ops/aws_access"
    mkdir -p "$dest"
    (cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z | tar --null -cf - -T - 2>/dev/null) | tar -xf - -C "$dest"
    # ansible-test filters the environment, so tests find the shared contract through this pointer file.
    if [ -d "$ATLAS_API_CONTRACT_DIR" ]; then
        printf '%s\n' "$ATLAS_API_CONTRACT_DIR" > "$dest/tests/.atlas-api-dir"
    fi
    export STAGE_ROOT=$stage_root STAGED=$dest
}

# ansible-test bootstraps pip in its virtualenvs from a get-pip.py it downloads; provide it from the cache instead.
provide_get_pip() {
    local venv=$1 version
    grep -rhoE "pip='[0-9.]+'" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py \
        | grep -oE '[0-9.]+' | sort -u | while read -r version; do
        mkdir -p "$HOME/.ansible/test/cache"
        cp "$REPO_ROOT/scripts/get_pip_standin.py" "$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
    done
}

# start_servers ENV_FILE [servers.py options]: moto's IAM server and the Atlas emulator on free 127.0.0.1 ports, in
# the background with $PYTHON; waits for the env file servers.py writes and exports its variables. stop_servers ends them.
start_servers() {
    local env_file=$1; shift
    "$PYTHON" "$REPO_ROOT/scripts/servers.py" --env-file "$env_file" "$@" &
    SERVERS_PID=$!
    for _ in $(seq 1 600); do
        [ -f "$env_file" ] && break
        kill -0 "$SERVERS_PID" 2>/dev/null || { echo "the servers failed to start" >&2; return 1; }
        sleep 0.1
    done
    [ -f "$env_file" ] || { echo "the servers did not start within 60 s" >&2; return 1; }
    set -a
    # shellcheck disable=SC1090
    source "$env_file"
    set +a
}

stop_servers() {
    if [ -n "${SERVERS_PID:-}" ] && kill -0 "$SERVERS_PID" 2>/dev/null; then
        kill -TERM "$SERVERS_PID" 2>/dev/null || true
        wait "$SERVERS_PID" 2>/dev/null || true
    fi
}
