#!/usr/bin/env bash
# The ecosystem gates: what Galaxy, docs.ansible.com and Automation Platform check before they accept a collection.
# Usage: scripts/gates.sh GATE...   gates: ansible-lint galaxy-importer docs changelog ansible-doc (or: all)
#        scripts/gates.sh release-changelog   fold new fragments into the galaxy.yml version's release (make changelog)
#        scripts/gates.sh render-docs         regenerate docs/docsite/rst from docs/*.md (make docs)
# Every gate works on a staged copy of the collection, so nothing it writes lands in the work tree.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TOOLS=${TOOLS_VENV:-$REPO_ROOT/.venv-tools}
COLLECTION=atlas_ops.aws_access
DOCS_LABEL_PREFIX="ansible_collections.$COLLECTION.docsite."
export PATH="$TOOLS/bin:$PATH"
export ANSIBLE_NOCOLOR=1 PY_COLORS=0 NO_COLOR=1

# Each gate runs in its own staged copy; STAGE_ROOT is removed when the script ends.
stage_roots=()
cleanup() { local root; for root in "${stage_roots[@]}"; do rm -rf "$root"; done; }
trap cleanup EXIT
fresh_stage() {
    stage_collection
    stage_roots+=("$STAGE_ROOT")
    export ANSIBLE_COLLECTIONS_PATH="$STAGE_ROOT"
}

collection_version() {
    "$TOOLS/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$1/galaxy.yml"
}

# ansible-lint, production profile, on everything it finds: role, playbooks, test playbooks, meta, galaxy.yml.
gate_ansible_lint() {
    fresh_stage
    (cd "$STAGED" && HOME="$STAGE_ROOT/home" ansible-lint --offline --profile production --strict --nocolor)
}

# galaxy-importer on the tarball `ansible-galaxy collection build` makes; any ERROR or WARNING line fails.
gate_galaxy_importer() {
    fresh_stage
    local work="$STAGE_ROOT/importer" output status=0
    mkdir -p "$work/tmp"
    (cd "$STAGED" && ansible-galaxy collection build --output-path "$work" >/dev/null) || return 1
    sed "s|@ANSIBLE_LOCAL_TMP@|$work/tmp|" "$REPO_ROOT/scripts/galaxy-importer.cfg" > "$work/galaxy-importer.cfg"
    output=$(cd "$work" && GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" HOME="$STAGE_ROOT/home" \
        python -m galaxy_importer.main "$work"/atlas_ops-aws_access-*.tar.gz 2>&1) || status=$?
    printf '%s\n' "$output"
    if [ "$status" -ne 0 ]; then echo "galaxy-importer exited with $status" >&2; return 1; fi
    if grep -qE '^(ERROR|WARNING|CRITICAL)' <<<"$output"; then
        echo "galaxy-importer reported the ERROR/WARNING lines above" >&2; return 1
    fi
    grep -q "Importer processing completed successfully" <<<"$output"
}

# Markdown guides in docs/ -> RST in docs/docsite/rst/ (antsibull-docs builds only RST extra docs).
render_docs_into() {
    local destination=$1
    mkdir -p "$destination"
    python - "$REPO_ROOT/docs" "$destination" "$DOCS_LABEL_PREFIX" <<'PYTHON'
"""Convert each docs/*.md guide with pandoc and give it the label antsibull-docs requires."""
import pathlib
import sys

import pypandoc

source_dir, destination, label_prefix = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
for markdown in sorted(source_dir.glob("*.md")):
    name = markdown.stem.replace("-", "_")
    body = pypandoc.convert_file(str(markdown), "rst", format="gfm", extra_args=["--wrap=preserve"])
    header = (
        f"..\n  Generated from docs/{markdown.name} by `make docs`: edit that file, not this one.\n\n"
        f".. _{label_prefix}{name}:\n\n"
    )
    (destination / f"{name}.rst").write_text(header + body, encoding="utf-8")
PYTHON
}

gate_docs() {
    fresh_stage
    local status=0 rendered="$STAGE_ROOT/rendered-docs"
    render_docs_into "$rendered"
    if ! diff -ru "$rendered" "$STAGED/docs/docsite/rst"; then
        echo "docs/docsite/rst is not up to date with docs/*.md: run 'make docs' and commit the result" >&2
        status=1
    fi
    (cd "$STAGED" && antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
        --no-skip-rstcheck --validate-collection-refs=all --disallow-unknown-collection-refs .) || status=1
    # The docsite antsibull-docs would publish: plugin, role and extra-doc pages, all rendered to RST.
    mkdir -p "$STAGE_ROOT/docsite"
    if ! (cd "$STAGED" && antsibull-docs collection --use-current --squash-hierarchy \
        --dest-dir "$STAGE_ROOT/docsite" "$COLLECTION" >"$STAGE_ROOT/docsite.log" 2>&1); then
        cat "$STAGE_ROOT/docsite.log"; status=1
    fi
    if [ "$status" -eq 0 ]; then
        echo "docsite pages: $(find "$STAGE_ROOT/docsite" -name '*.rst' | wc -l) RST files"
    fi
    return $status
}

# ansible-doc must render every module and the role on every tested ansible-core line.
gate_ansible_doc() {
    fresh_stage
    local status=0 venv module role
    for venv in "$REPO_ROOT/.venv-2.17" "$REPO_ROOT/.venv" "$REPO_ROOT/.venv-2.21"; do
        [ -x "$venv/bin/ansible-doc" ] || { echo "missing $venv: run make venvs" >&2; return 1; }
        for module in "$STAGED"/plugins/modules/*.py; do
            module=$(basename "$module" .py)
            "$venv/bin/ansible-doc" "$COLLECTION.$module" >/dev/null \
                || { echo "ansible-doc failed: $module ($venv)" >&2; status=1; }
        done
        for role in "$STAGED"/roles/*/; do
            [ -d "$role" ] || continue
            role=$(basename "$role")
            "$venv/bin/ansible-doc" -t role "$COLLECTION.$role" >/dev/null \
                || { echo "ansible-doc -t role failed: $role ($venv)" >&2; status=1; }
        done
        echo "ansible-doc ($("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')):" \
            "$(find "$STAGED/plugins/modules" -name '*.py' | wc -l) modules," \
            "$(find "$STAGED/roles" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l) roles"
    done
    return $status
}

# Fragments lint clean, changelog.yaml lints clean, CHANGELOG.* match changelog.yaml, and no fragment is left out
# of the release that galaxy.yml's version names.
gate_changelog() {
    fresh_stage
    local status=0 version
    (cd "$STAGED" && antsibull-changelog lint) || status=1
    (cd "$STAGED" && antsibull-changelog lint-changelog-yaml --strict changelogs/changelog.yaml) || status=1
    version=$(collection_version "$STAGED")
    python - "$STAGED" "$version" <<'PYTHON' || status=1
"""Every fragment belongs to a release; while galaxy.yml's version is released, new fragments must be folded in."""
import pathlib
import sys

import yaml

root, version = pathlib.Path(sys.argv[1]), sys.argv[2]
changes = yaml.safe_load((root / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))
releases = changes.get("releases") or {}
known = {name for release in releases.values() for name in release.get("fragments", [])}
fragments = {path.name for path in (root / "changelogs" / "fragments").iterdir() if path.suffix in (".yml", ".yaml")}
unreleased = sorted(fragments - known)
if version not in releases:
    print(f"galaxy.yml version {version} has no release in changelogs/changelog.yaml: run 'make changelog'")
    sys.exit(1)
if unreleased:
    print(f"fragments not yet in the {version} release: {', '.join(unreleased)}: run 'make changelog' and commit")
    sys.exit(1)
print(f"release {version}: {len(releases[version].get('fragments', []))} fragments")
PYTHON
    cp "$STAGED/CHANGELOG.rst" "$STAGED/CHANGELOG.md" "$STAGE_ROOT/" || status=1
    (cd "$STAGED" && antsibull-changelog generate) || status=1
    for changelog in CHANGELOG.rst CHANGELOG.md; do
        if ! diff -u "$STAGE_ROOT/$changelog" "$STAGED/$changelog"; then
            echo "$changelog does not match changelogs/changelog.yaml: run 'make changelog' and commit" >&2
            status=1
        fi
    done
    return $status
}

# make changelog: works on the real tree (it writes changelogs/changelog.yaml and CHANGELOG.*).
release_changelog() {
    local version
    version=$(collection_version "$REPO_ROOT")
    cd "$REPO_ROOT" || return 1
    antsibull-changelog release --version "$version"
    "$TOOLS/bin/python" "$REPO_ROOT/scripts/changelog_objects.py" "$REPO_ROOT" "$version"
    antsibull-changelog generate
}

run_gate() {
    case "$1" in
        ansible-lint) gate_ansible_lint ;;
        galaxy-importer) gate_galaxy_importer ;;
        docs) gate_docs ;;
        ansible-doc) gate_ansible_doc ;;
        changelog) gate_changelog ;;
        release-changelog) release_changelog ;;
        render-docs) rm -rf "$REPO_ROOT/docs/docsite/rst"; render_docs_into "$REPO_ROOT/docs/docsite/rst" ;;
        *) echo "unknown gate: $1" >&2; return 2 ;;
    esac
}

[ $# -gt 0 ] || set -- all
[ "$1" != all ] || set -- changelog docs ansible-doc ansible-lint galaxy-importer
failed=()
for gate in "$@"; do
    echo "=== gate: $gate"
    start=$SECONDS
    if run_gate "$gate"; then
        echo "=== gate: $gate passed ($((SECONDS - start)) s)"
    else
        echo "=== gate: $gate FAILED ($((SECONDS - start)) s)"
        failed+=("$gate")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed gates: ${failed[*]}"
    exit 1
fi
