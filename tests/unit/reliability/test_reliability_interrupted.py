# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Interrupted runs: the collection's playbook is killed (SIGKILL, whole process group) at a chosen step, then run
again; the rerun finishes the setup with no second Atlas role and no duplicate trust statement.

The kill is triggered by the emulator itself when the step's request arrives: after the Atlas create (the role is
committed, the answer never reaches the run) and after the trust statement, when the first authorize call arrives
(dropped unanswered, so the role stays pending).
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import signal
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.atlas_ops.aws_access.tests.unit.reliability.test_reliability_secrets import COLLECTIONS_DIR

STEPS = {
    # step: (method that triggers the kill, fault the request gets instead of an answer)
    "after_atlas_create": ("POST", "commit_then_drop"),
    "after_trust_statement": ("PATCH", "drop"),
}


def start_playbook(tmp_path: pathlib.Path, extra_vars: dict) -> subprocess.Popen:
    vars_file = tmp_path / f"vars-{secrets.token_hex(4)}.json"
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_DIR), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_REMOTE_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_HOME=str(tmp_path / "home"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"@{vars_file}", "atlas_ops.aws_access.unified_access"]
    return subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def kill_when(emu: t.Any, method: str, fault: str, run: list) -> list:
    """When the first ``method`` request arrives, kill the run's process group and answer it with ``fault``."""
    take_fault = emu._take_fault  # pylint: disable=protected-access
    killed: list = []

    def kill_then_take_fault(request_method: str, path: str) -> t.Any:
        if request_method == method and "cloudProviderAccess" in path and not killed:
            os.killpg(run[0].pid, signal.SIGKILL)
            killed.append(path)
            emu.add_fault(method, "cloudProviderAccess", fault)
        return take_fault(request_method, path)

    emu._take_fault = kill_then_take_fault  # type: ignore[method-assign]  # pylint: disable=protected-access
    return killed


def grants_of(iam_client: t.Any, role_name: str) -> list:
    statements = iam_client.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]["Statement"]
    return [s["Condition"]["StringEquals"]["sts:ExternalId"] for s in statements if "Condition" in s]


@pytest.mark.parametrize("step", list(STEPS))
def test_a_killed_run_is_finished_by_the_next_one(tmp_path: pathlib.Path, atlas_emulator: t.Any, moto_server: str,
                                                  iam_client: t.Any, step: str) -> None:
    role_name = f"interrupted-{secrets.token_hex(4)}"
    iam_client.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    extra_vars = {
        "atlas_project_id": atlas_emulator.project_id, "atlas_base_url": atlas_emulator.url,
        "atlas_api_public_key": atlas_emulator.EMU_PUBLIC_KEY, "atlas_api_private_key": atlas_emulator.EMU_PRIVATE_KEY,
        "aws_iam_role_name": role_name, "aws_endpoint_url": moto_server, "aws_access_key": "testing",
        "aws_secret_key": "testing", "aws_region": "us-east-1", "unified_access_authorize_timeout": 30,
        "unified_access_python": sys.executable,
    }
    run: list = []
    killed = kill_when(atlas_emulator, *STEPS[step], run)
    run.append(start_playbook(tmp_path, extra_vars))
    first_output = run[0].communicate(timeout=300)[0]
    assert killed, f"the run never reached the step: {first_output[-2000:]}"
    assert run[0].returncode == -signal.SIGKILL
    roles = atlas_emulator.roles(atlas_emulator.project_id)
    assert len(roles) == 1 and roles[0]["iamAssumedRoleArn"] is None  # left half-done: one pending role
    external_id = roles[0]["atlasAssumedRoleExternalId"]
    assert grants_of(iam_client, role_name) == ([] if step == "after_atlas_create" else [external_id])

    rerun = start_playbook(tmp_path, extra_vars)
    output = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, output[-3000:]
    after = atlas_emulator.roles(atlas_emulator.project_id)
    assert [role["roleId"] for role in after] == [roles[0]["roleId"]]  # resumed, not duplicated
    assert after[0]["iamAssumedRoleArn"] == f"arn:aws:iam::123456789012:role/{role_name}"
    assert grants_of(iam_client, role_name) == [external_id]  # one statement for the grant, not two
