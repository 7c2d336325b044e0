# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several processes (as Ansible forks would) add different external IDs to one IAM role at the same moment.

Each process does a read-modify-write of the same trust policy, so without the module's read-back a later writer
replaces an earlier writer's grant. moto's server runs in this pytest process; the children reach it by URL.
"""

from __future__ import annotations

import json
import multiprocessing
import uuid

ATLAS = "arn:aws:iam::299602853325:root"
WRITERS = 5


def add_grant_in_child(endpoint_url: str, role_name: str, external_id: str, merge: bool, start, results) -> None:
    """Run the module in a fresh (spawned) interpreter once every writer is ready."""
    from ansible_collections.atlas_ops.aws_access.tests.unit.conftest import _run_module

    args = {"iam_role_name": role_name, "principal_arn": ATLAS, "external_id": [external_id], "merge": merge,
            "endpoint_url": endpoint_url, "access_key": "testing", "secret_key": "testing"}
    start.wait(timeout=60)
    try:
        result = _run_module("iam_trust_statement", args)
    except BaseException as exc:  # the parent must hear about any failure, not wait forever
        result = {"failed": True, "msg": repr(exc)}
    results.put((external_id, result))


def run_writers(moto_server: str, iam_client, merge: bool) -> tuple[dict, list[str], list]:
    existing = {"Sid": "AllowEc2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"}
    role_name = f"shared-{uuid.uuid4().hex[:10]}"
    iam_client.create_role(RoleName=role_name,
                           AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [existing]}))
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(WRITERS), context.Queue()
    external_ids = [str(uuid.uuid4()) for _count in range(WRITERS)]
    writers = [context.Process(target=add_grant_in_child, args=(moto_server, role_name, external_id, merge, start, results))
               for external_id in external_ids]
    for writer in writers:
        writer.start()
    outcomes = [results.get(timeout=120) for _count in writers]
    for writer in writers:
        writer.join(timeout=30)
    policy = iam_client.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    assert policy["Statement"][0] == existing
    return policy, external_ids, outcomes


def granted(policy: dict) -> set[str]:
    found: set[str] = set()
    for statement in policy["Statement"]:
        value = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId", [])
        found.update(value if isinstance(value, list) else [value])
    return found


def test_concurrent_writers_all_end_up_present(moto_server, iam_client):
    policy, external_ids, outcomes = run_writers(moto_server, iam_client, merge=False)
    assert [result for _external_id, result in outcomes if result.get("failed")] == []
    assert granted(policy) == set(external_ids)
    assert len(policy["Statement"]) == WRITERS + 1


def test_concurrent_writers_with_merge_all_end_up_in_one_statement(moto_server, iam_client):
    policy, external_ids, outcomes = run_writers(moto_server, iam_client, merge=True)
    assert [result for _external_id, result in outcomes if result.get("failed")] == []
    assert granted(policy) == set(external_ids)
    assert len(policy["Statement"]) == 2
