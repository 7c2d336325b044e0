# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbook under ansible-runner, as AWX and Automation Platform run it: against the Atlas emulator and moto,
with the outcome read back from ansible-runner's artifacts directory (status, rc, job events)."""

from __future__ import annotations

import json
import os
import pathlib
import sys
import typing as t

import ansible_runner
import pytest

COLLECTION_ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS_DIR = COLLECTION_ROOT.parents[2]
PLAYBOOK = "atlas_ops.aws_access.unified_access"
IAM_ROLE_NAME = "atlas-runner-access"


def run_playbook(private_data_dir: pathlib.Path, extravars: dict[str, t.Any]) -> pathlib.Path:
    """Run the collection's playbook by its FQCN with ansible-runner; return the run's artifact directory."""
    private_data_dir.mkdir(parents=True, exist_ok=True)
    runner = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook=PLAYBOOK,
        inventory="localhost ansible_connection=local\n",
        extravars=extravars,
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_DIR),
            # ansible-playbook from the interpreter that runs the tests (it has httpx and boto3).
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        },
        quiet=True,
    )
    return pathlib.Path(runner.config.artifact_dir)


def read_artifacts(artifact_dir: pathlib.Path) -> dict[str, t.Any]:
    """What AWX keeps of a run: its status and rc files and the job events, in order."""
    events = [json.loads(path.read_text(encoding="utf-8")) for path in (artifact_dir / "job_events").glob("*.json")]
    events.sort(key=lambda event: event["counter"])
    return {
        "status": (artifact_dir / "status").read_text(encoding="utf-8").strip(),
        "rc": int((artifact_dir / "rc").read_text(encoding="utf-8").strip()),
        "events": events,
        "stdout": (artifact_dir / "stdout").read_text(encoding="utf-8"),
    }


def published_role(events: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """The last value of the role's result fact ``unified_access_role`` in the run's events."""
    found: dict[str, t.Any] = {}
    for event in events:
        if event["event"] != "runner_on_ok":
            continue
        facts = (event["event_data"].get("res") or {}).get("ansible_facts") or {}
        if facts.get("unified_access_role"):
            found = facts["unified_access_role"]
    return found


def play_stats(events: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """The playbook_on_stats event's counters (ok, changed, failures, ...)."""
    stats = [event["event_data"] for event in events if event["event"] == "playbook_on_stats"]
    assert len(stats) == 1, "the run must end with exactly one stats event"
    return stats[0]


@pytest.fixture
def extravars(atlas_emulator: t.Any, moto_server: str) -> dict[str, t.Any]:
    """The playbook's variables for one emulated project and a new IAM role on moto."""
    return {
        "atlas_project_id": atlas_emulator.project_id,
        "atlas_api_public_key": atlas_emulator.EMU_PUBLIC_KEY,
        "atlas_api_private_key": atlas_emulator.EMU_PRIVATE_KEY,
        "atlas_base_url": atlas_emulator.url,
        "aws_iam_role_name": IAM_ROLE_NAME,
        "aws_create_iam_role": True,
        "aws_endpoint_url": moto_server,
        "aws_access_key": "testing",
        "aws_secret_key": "testing",
        "aws_region": "us-east-1",
        "unified_access_authorize_timeout": 30,
        "unified_access_python": sys.executable,
    }


def test_playbook_sets_up_access_under_ansible_runner(tmp_path: pathlib.Path, extravars: dict[str, t.Any],
                                                      iam_client: t.Any) -> None:
    first = read_artifacts(run_playbook(tmp_path / "first", extravars))
    assert (first["status"], first["rc"]) == ("successful", 0), first["stdout"]
    stats = play_stats(first["events"])
    assert not stats["failures"] and not stats["dark"]
    assert stats["changed"].get("localhost", 0) > 0

    role = published_role(first["events"])
    iam_role = iam_client.get_role(RoleName=IAM_ROLE_NAME)["Role"]
    assert role["authorized"] is True
    assert role["iam_assumed_role_arn"] == iam_role["Arn"]
    statements = iam_role["AssumeRolePolicyDocument"]["Statement"]
    granted = [statement for statement in statements
               if statement["Condition"]["StringEquals"]["sts:ExternalId"] in (
                   role["atlas_assumed_role_external_id"], [role["atlas_assumed_role_external_id"]])]
    assert len(granted) == 1
    assert granted[0]["Principal"]["AWS"] == role["atlas_aws_account_arn"]

    # A second run finds everything in place: AWX reports no change.
    second = read_artifacts(run_playbook(tmp_path / "second", extravars))
    assert (second["status"], second["rc"]) == ("successful", 0), second["stdout"]
    assert play_stats(second["events"])["changed"].get("localhost", 0) == 0
    assert published_role(second["events"])["role_id"] == role["role_id"]


def test_failed_run_is_reported_in_the_artifacts(tmp_path: pathlib.Path, extravars: dict[str, t.Any]) -> None:
    # A wrong private key: Atlas refuses, the play fails, and the artifacts say so without leaking the key.
    extravars = dict(extravars, atlas_api_private_key="not-the-right-private-key-secret")
    run = read_artifacts(run_playbook(tmp_path, extravars))
    assert run["status"] == "failed" and run["rc"] != 0
    assert play_stats(run["events"])["failures"].get("localhost", 0) == 1
    assert "not-the-right-private-key-secret" not in run["stdout"]
    assert "not-the-right-private-key-secret" not in json.dumps(run["events"][-1])
