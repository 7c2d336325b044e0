# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM throttling: botocore's retries ride it out, and when they cannot the module fails with the cause.

IAM answers ``Throttling`` as HTTP 400 with an XML error body. A real HTTP proxy in front of moto's server
(``iam_proxy.IamProxy``) answers that for the first N calls; boto3 is not mocked.
"""

from __future__ import annotations

import json
import typing as t
import uuid

import pytest

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _iam
from ansible_collections.atlas_ops.aws_access.tests.unit.reliability.iam_proxy import IamProxy

ATLAS = "arn:aws:iam::299602853325:root"


def new_role(iam_client: t.Any) -> str:
    name = f"throttled-{uuid.uuid4().hex[:10]}"
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document))
    return name


def external_ids_of(iam_client: t.Any, name: str) -> list:
    statements = iam_client.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]["Statement"]
    return [s["Condition"]["StringEquals"]["sts:ExternalId"] for s in statements if "Condition" in s]


@pytest.mark.parametrize("throttled", [1, 3])
def test_throttled_calls_are_retried_and_the_grant_is_written(moto_server: str, iam_client: t.Any, run_module: t.Callable,
                                                              throttled: int) -> None:
    name, external_id = new_role(iam_client), str(uuid.uuid4())
    with IamProxy(moto_server, throttle=throttled) as proxy:
        result = run_module("iam_trust_statement", {"iam_role_name": name, "principal_arn": ATLAS, "external_id": [external_id],
                                                    "endpoint_url": proxy.url, "access_key": "testing", "secret_key": "testing"})
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert external_ids_of(iam_client, name) == [external_id]
    # The first call was refused `throttled` times and then answered; the write went through once.
    assert proxy.actions[:throttled + 1] == ["GetRole"] * (throttled + 1)
    assert [call["throttled"] for call in proxy.calls].count(True) == throttled
    assert proxy.actions.count("UpdateAssumeRolePolicy") == 1


def test_the_info_module_rides_out_throttling_too(moto_server: str, iam_client: t.Any, run_module: t.Callable) -> None:
    name = new_role(iam_client)
    with IamProxy(moto_server, throttle=2) as proxy:
        result = run_module("iam_trust_policy_info", {"iam_role_name": name, "endpoint_url": proxy.url})
    assert result.get("failed") is not True, result
    assert result["policy"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert proxy.actions == ["GetRole"] * 3


def test_throttling_beyond_the_retries_fails_with_the_cause_and_writes_nothing(
        moto_server: str, iam_client: t.Any, run_module: t.Callable, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fewer attempts than the module's default, so that the test does not sit through botocore's full backoff.
    monkeypatch.setattr(_iam, "RETRY_CONFIG", {"mode": "standard", "max_attempts": 2})
    name = new_role(iam_client)
    with IamProxy(moto_server, throttle=1000) as proxy:
        result = run_module("iam_trust_statement", {"iam_role_name": name, "principal_arn": ATLAS,
                                                    "external_id": [str(uuid.uuid4())], "endpoint_url": proxy.url})
    assert result["failed"] is True
    assert "Throttling" in result["msg"] and "Rate exceeded" in result["msg"] and name in result["msg"]
    assert "Traceback" not in json.dumps(result) and "exception" not in result
    assert proxy.actions == ["GetRole"] * 3  # botocore's retries.max_attempts counts retries: 1 try + 2 retries
    assert external_ids_of(iam_client, name) == []
