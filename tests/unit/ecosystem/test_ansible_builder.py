# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meta/execution-environment.yml works with ansible-builder: a build context from it, and the introspection that
adds this collection's dependencies to any execution environment that installs it. No container engine is used."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import yaml

COLLECTION_ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS_DIR = COLLECTION_ROOT.parents[2]
BUILDER = [os.path.join(os.path.dirname(sys.executable), "ansible-builder")]


def requirement_names(path: pathlib.Path) -> list[str]:
    """Package names of a requirements/bindep file, without comments: what each line asks to install."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line.split()[0])
    return names


def test_definition_is_version_3_with_the_collection_dependency_files() -> None:
    definition = yaml.safe_load((COLLECTION_ROOT / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert definition["version"] == 3
    assert definition["dependencies"]["python"] == "requirements.txt"
    assert definition["dependencies"]["system"] == "bindep.txt"
    assert (COLLECTION_ROOT / "requirements.txt").is_file() and (COLLECTION_ROOT / "bindep.txt").is_file()


def test_create_makes_a_build_context(tmp_path: pathlib.Path) -> None:
    # The definition's paths are relative to the collection root (where ansible-builder's introspection reads
    # them), so it is used from a copy placed there.
    for name in ("requirements.txt", "bindep.txt"):
        shutil.copy(COLLECTION_ROOT / name, tmp_path / name)
    shutil.copy(COLLECTION_ROOT / "meta" / "execution-environment.yml", tmp_path / "execution-environment.yml")
    context = tmp_path / "context"
    completed = subprocess.run(
        BUILDER + ["create", "--file", "execution-environment.yml", "--context", str(context),
                   "--output-filename", "Containerfile"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    base_image = yaml.safe_load((tmp_path / "execution-environment.yml").read_text(encoding="utf-8"))
    assert base_image["images"]["base_image"]["name"] in containerfile
    assert requirement_names(context / "_build" / "requirements.txt") == requirement_names(COLLECTION_ROOT / "requirements.txt")
    assert requirement_names(context / "_build" / "bindep.txt") == requirement_names(COLLECTION_ROOT / "bindep.txt")
    assert {"httpx", "boto3"} <= set(requirement_names(context / "_build" / "requirements.txt"))


def test_introspection_finds_this_collections_dependencies() -> None:
    completed = subprocess.run(BUILDER + ["introspect", str(COLLECTIONS_DIR)], capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    found = yaml.safe_load(completed.stdout)
    origin = "# from collection atlas_ops.aws_access"
    python = [entry.split("#")[0].strip() for entry in found["python"] if entry.endswith(origin)]
    system = [entry.split("#")[0].split()[0] for entry in found["system"] if entry.endswith(origin)]
    assert python == requirement_names(COLLECTION_ROOT / "requirements.txt")
    assert system == requirement_names(COLLECTION_ROOT / "bindep.txt")
