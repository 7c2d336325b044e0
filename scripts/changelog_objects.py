"""Record new playbooks in changelogs/changelog.yaml: antsibull-changelog detects modules and roles, not playbooks.

Usage: changelog_objects.py REPO_ROOT VERSION. A playbook not named by any release joins VERSION's release, described
by its first play's name.
"""
from __future__ import annotations

import pathlib
import sys

import yaml


def main(repo_root: pathlib.Path, version: str) -> None:
    """Add every playbooks/*.yml that no release mentions yet to the release ``version``."""
    changes_path = repo_root / "changelogs" / "changelog.yaml"
    changes = yaml.safe_load(changes_path.read_text(encoding="utf-8"))
    releases = changes["releases"]
    known = {
        entry["name"]
        for release in releases.values()
        for entry in (release.get("objects") or {}).get("playbook", [])
    }
    added = []
    for playbook in sorted((repo_root / "playbooks").glob("*.yml")):
        if playbook.stem in known:
            continue
        plays = yaml.safe_load(playbook.read_text(encoding="utf-8")) or [{}]
        description = str(plays[0].get("name") or playbook.stem)
        added.append({"name": playbook.stem, "description": description, "namespace": None})
    if not added:
        return
    objects = releases[version].setdefault("objects", {})
    objects["playbook"] = sorted(objects.get("playbook", []) + added, key=lambda entry: entry["name"])
    changes_path.write_text(yaml.safe_dump(changes, sort_keys=True, default_flow_style=False), encoding="utf-8")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]), sys.argv[2])
