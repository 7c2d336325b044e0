# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets never reach the output: ansible-playbook at -vvvv --diff, with distinctive secret values, grepped whole.

Two kinds of run, each a real ``ansible-playbook`` subprocess with the staged collection on ANSIBLE_COLLECTIONS_PATH
against the Atlas emulator and moto: a playbook calling the four modules directly (no ``no_log`` anywhere, so module
results, diffs, warnings and failure messages are all printed) including failing tasks, and the collection's own
playbook (API key and service account). Everything printed, stdout and stderr, is searched for the API private key,
the client secret, the AWS secret key and session token, and every bearer token the emulator issued during the run.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.atlas_ops.aws_access.tests.emulator.atlas_emulator import AtlasEmulator

COLLECTION_ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS_DIR = COLLECTION_ROOT.parents[1]
ATLAS = "arn:aws:iam::299602853325:root"


@pytest.fixture
def secret_values() -> dict[str, str]:
    """Values no output could contain by chance."""
    return {name: f"{name}-{secrets.token_hex(12)}" for name in (
        "api_private_key", "client_secret", "aws_secret_key", "aws_session_token", "wrong_private_key")}


@pytest.fixture
def emulator(moto_server: str, secret_values: dict[str, str]) -> t.Iterator[AtlasEmulator]:
    """An emulator that accepts exactly these secrets."""
    emu = AtlasEmulator(aws_endpoint_url=moto_server, api_keys={"leak-test-public": secret_values["api_private_key"]},
                        service_accounts={"mdb_sa_id_leak": secret_values["client_secret"]})
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def ansible_playbook(tmp_path: pathlib.Path, playbook: str, extra_vars: dict[str, t.Any],
                     environ: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ansible-playbook -vvvv --diff with the variables in a file (as a vault or inventory would hold them).

    ``environ`` is exported to ansible-playbook itself, as a pipeline exports credentials. (Ansible prints the values
    of a task's ``environment:`` keyword at -vvv, so docs/reliability.md tells users not to put secrets there.)
    """
    vars_file = tmp_path / f"vars-{secrets.token_hex(4)}.json"
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n", encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_DIR), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_HOME=str(tmp_path / "ansible-home"),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""), **(environ or {}))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvvv", "--diff", "-i", str(inventory),
               "-e", f"@{vars_file}", playbook]
    return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)


def assert_no_secret(run: subprocess.CompletedProcess, emu: AtlasEmulator, secret_values: dict[str, str]) -> None:
    output = run.stdout + run.stderr
    assert emu.issued_tokens, "no bearer token was issued: the service-account path was not exercised"
    leaked = [name for name, value in secret_values.items() if value in output]
    leaked += [f"bearer token #{index}" for index, token in enumerate(emu.issued_tokens) if token in output]
    where = [output[max(0, output.find(value) - 300):output.find(value) + 100] for value in secret_values.values() if value in output]
    assert leaked == [], f"secrets in the output: {leaked}: {where}"


MODULES_PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  vars:
    atlas_key: &atlas_key
      api_public_key: leak-test-public
      api_private_key: "{{ api_private_key }}"
      base_url: "{{ base_url }}"
      project_id: "{{ project_id }}"
    atlas_sa: &atlas_sa
      client_id: mdb_sa_id_leak
      client_secret: "{{ client_secret }}"
      base_url: "{{ base_url }}"
      project_id: "{{ project_id }}"
    aws: &aws
      access_key: AKIALEAKTEST0000
      secret_key: "{{ aws_secret_key }}"
      session_token: "{{ aws_session_token }}"
      endpoint_url: "{{ moto_url }}"
      region: us-east-1
  tasks:
    - name: Create the Atlas role with an API key
      atlas_ops.aws_access.atlas_access_role: *atlas_key
      register: created
    - name: List it with a service account
      atlas_ops.aws_access.atlas_access_role_info: *atlas_sa
    - name: Grant it on a new IAM role (diff shows the policy)
      atlas_ops.aws_access.iam_trust_statement:
        <<: *aws
        iam_role_name: "{{ iam_role_name }}"
        create_role: true
        principal_arn: "{{ created.role.atlas_aws_account_arn }}"
        external_id: "{{ created.role.atlas_assumed_role_external_id }}"
    - name: Grant on a role that trusts Atlas without an external ID (a warning)
      atlas_ops.aws_access.iam_trust_statement:
        <<: *aws
        iam_role_name: "{{ unsafe_role_name }}"
        principal_arn: "{{ created.role.atlas_aws_account_arn }}"
        external_id: "{{ created.role.atlas_assumed_role_external_id }}"
    - name: Read the trust policy back
      atlas_ops.aws_access.iam_trust_policy_info:
        <<: *aws
        iam_role_name: "{{ iam_role_name }}"
    - name: Authorize with a service account whose token is expired on the way
      atlas_ops.aws_access.atlas_access_role:
        <<: *atlas_sa
        state: authorized
        iam_role_arn: "arn:aws:iam::123456789012:role/{{ iam_role_name }}"
        authorize_timeout: 30
    - name: A wrong private key fails
      atlas_ops.aws_access.atlas_access_role:
        <<: *atlas_key
        api_private_key: "{{ wrong_private_key }}"
      ignore_errors: true
    - name: Authorizing an IAM role that does not trust Atlas times out
      atlas_ops.aws_access.atlas_access_role:
        <<: *atlas_sa
        state: authorized
        iam_role_arn: "arn:aws:iam::123456789012:role/{{ unsafe_role_name }}-missing"
        authorize_timeout: 0
      ignore_errors: true
    - name: A missing IAM role fails
      atlas_ops.aws_access.iam_trust_statement:
        <<: *aws
        iam_role_name: no-such-role
        principal_arn: "{{ created.role.atlas_aws_account_arn }}"
        external_id: x
      ignore_errors: true
    - name: Bad input fails before any request
      atlas_ops.aws_access.iam_trust_statement:
        <<: *aws
        iam_role_name: "{{ iam_role_name }}"
        principal_arn: "*"
        external_id: x
      ignore_errors: true
    - name: Atlas credentials from the environment ansible-playbook runs in
      atlas_ops.aws_access.atlas_access_role_info:
        base_url: "{{ base_url }}"
        project_id: "{{ project_id }}"
"""


def test_module_output_at_vvvv_holds_no_secret(tmp_path: pathlib.Path, emulator: AtlasEmulator, moto_server: str,
                                               iam_client: t.Any, secret_values: dict[str, str]) -> None:
    project_id = emulator.create_project("leak-test")
    unsafe_role = f"leak-unsafe-{secrets.token_hex(4)}"
    iam_client.create_role(RoleName=unsafe_role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoExternalId", "Effect": "Allow", "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole"}]}))
    emulator_expires_tokens_after_first_authorize(emulator)
    playbook = tmp_path / "modules.yml"
    playbook.write_text(MODULES_PLAYBOOK, encoding="utf-8")
    run = ansible_playbook(tmp_path, str(playbook), dict(
        secret_values, base_url=emulator.url, project_id=project_id, moto_url=moto_server,
        iam_role_name=f"leak-{secrets.token_hex(4)}", unsafe_role_name=unsafe_role),
        environ={"MONGODB_ATLAS_CLIENT_ID": "mdb_sa_id_leak", "MONGODB_ATLAS_CLIENT_SECRET": secret_values["client_secret"]})
    output = run.stdout + run.stderr
    # The run did what the test needs: every path printed its result, including the failures and the warning.
    assert run.returncode == 0, output[-3000:]
    assert "ok=11" in output and "ignored=4" in output, output[-3000:]
    assert "without an sts:ExternalId condition" in output
    assert "check api_public_key/api_private_key" in output and "was not found; set create_role: true" in output
    assert "principal_arn '*' is not an AWS principal" in output
    assert len(emulator.issued_tokens) >= 2
    assert_no_secret(run, emulator, secret_values)


def emulator_expires_tokens_after_first_authorize(emu: AtlasEmulator) -> None:
    """Expire every token once, at the first authorize call, so a second token is issued (and must not leak either)."""
    take_fault = emu._take_fault  # pylint: disable=protected-access
    done: list = []

    def expire_then_take_fault(method: str, path: str) -> t.Any:
        if method == "PATCH" and not done:
            done.append(path)
            emu.expire_tokens()
        return take_fault(method, path)

    emu._take_fault = expire_then_take_fault  # type: ignore[method-assign]  # pylint: disable=protected-access


@pytest.mark.parametrize("credentials", ["api_key", "service_account"])
def test_the_collection_playbook_at_vvvv_holds_no_secret(tmp_path: pathlib.Path, emulator: AtlasEmulator, moto_server: str,
                                                         secret_values: dict[str, str], credentials: str) -> None:
    project_id = emulator.create_project(f"leak-playbook-{credentials}")
    extra_vars: dict[str, t.Any] = {
        "atlas_project_id": project_id, "atlas_base_url": emulator.url,
        "aws_iam_role_name": f"leak-playbook-{secrets.token_hex(4)}", "aws_create_iam_role": True,
        "aws_endpoint_url": moto_server, "aws_access_key": "AKIALEAKTEST0000", "aws_region": "us-east-1",
        "aws_secret_key": secret_values["aws_secret_key"], "aws_session_token": secret_values["aws_session_token"],
        "unified_access_authorize_timeout": 30, "unified_access_python": sys.executable,
    }
    if credentials == "api_key":
        extra_vars.update(atlas_api_public_key="leak-test-public", atlas_api_private_key=secret_values["api_private_key"])
        emulator.service_accounts["mdb_sa_id_leak"] = secret_values["client_secret"]
        emulator._issue_token()  # pylint: disable=protected-access  # a token the run never saw must be absent too
    else:
        extra_vars.update(atlas_client_id="mdb_sa_id_leak", atlas_client_secret=secret_values["client_secret"])
    run = ansible_playbook(tmp_path, "atlas_ops.aws_access.unified_access", extra_vars)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert [role["iamAssumedRoleArn"] is not None for role in emulator.roles(project_id)] == [True]
    assert_no_secret(run, emulator, secret_values)
