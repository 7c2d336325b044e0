#!/usr/bin/env bash
# Quick unit-test loop for development: pytest from a staged copy with the default venv.
# Usage: scripts/units.sh [pytest arguments, paths relative to the repo root]
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
stage_collection
trap 'rm -rf "$STAGE_ROOT"' EXIT
cd "$STAGED" || exit 1
PYTHONPATH="$STAGE_ROOT" "$VENV/bin/python" -m pytest -p no:cacheprovider "${@:-tests/unit}"
