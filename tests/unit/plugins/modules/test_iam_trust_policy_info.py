# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_trust_policy_info against moto's server: what the role's pre-check and teardown rely on."""

from __future__ import annotations

import json
import uuid

import pytest

ATLAS = "arn:aws:iam::299602853325:root"
OTHER = "arn:aws:iam::111122223333:root"
EC2 = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def grant(principal: str, external_ids, sid: str | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": external_ids}}}
    if sid:
        statement["Sid"] = sid
    return statement


@pytest.fixture
def role_name(iam_client) -> str:
    name = f"info-{uuid.uuid4().hex[:12]}"
    first, second, third = (str(uuid.uuid4()) for _count in range(3))
    policy = {"Version": "2012-10-17", "Statement": [
        EC2, grant(ATLAS, first, "A1"), grant("299602853325", [second, third]), grant(OTHER, "not-atlas"),
        {"Effect": "Deny", "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:ExternalId": "denied-id"}}},
    ]}
    iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))
    iam_client.external_ids = [first, second, third]
    return name


def test_lists_grants_to_the_principal_in_policy_order(run_module, moto_server, iam_client, role_name):
    args = {"iam_role_name": role_name, "principal_arn": ATLAS, "endpoint_url": moto_server}
    result = run_module("iam_trust_policy_info", args)
    assert result["changed"] is False
    assert result["exists"] is True
    assert result["iam_role_arn"] == f"arn:aws:iam::123456789012:role/{role_name}"
    assert result["external_ids"] == iam_client.external_ids
    assert result["policy"]["Statement"][0] == EC2


def test_without_principal_every_aws_grant_counts(run_module, moto_server, iam_client, role_name):
    result = run_module("iam_trust_policy_info", {"role_name": role_name, "endpoint_url": moto_server})
    assert result["external_ids"] == iam_client.external_ids + ["not-atlas"]


def test_by_arn_and_missing_role_is_not_a_failure(run_module, moto_server, role_name):
    found = run_module("iam_trust_policy_info", {
        "iam_role_arn": f"arn:aws:iam::123456789012:role/{role_name}", "endpoint_url": moto_server})
    assert found["exists"] is True and found["iam_role_name"] == role_name
    missing = run_module("iam_trust_policy_info", {"iam_role_name": "no-such-role", "endpoint_url": moto_server})
    assert missing.get("failed") is not True
    assert missing["exists"] is False and missing["policy"] == {} and missing["external_ids"] == []


def test_role_in_another_account_is_refused(run_module, moto_server, role_name):
    result = run_module("iam_trust_policy_info", {
        "iam_role_arn": f"arn:aws:iam::999999999999:role/{role_name}", "endpoint_url": moto_server})
    assert result["failed"] is True
    assert "999999999999" in result["msg"] and "123456789012" in result["msg"]


@pytest.mark.parametrize("args, option", [
    ({"iam_role_arn": "arn:aws:iam::12345:role/x"}, "iam_role_arn"),
    ({"iam_role_arn": "arn:aws:s3:::bucket"}, "iam_role_arn"),
    ({"iam_role_name": "bad name with spaces"}, "iam_role_name"),
    ({"iam_role_name": "ok", "principal_arn": "299602853325:root"}, "principal_arn"),
    ({"iam_role_name": "ok", "endpoint_url": "localhost:5000"}, "endpoint_url"),
])
def test_bad_input_names_the_option_before_any_request(run_module, args, option):
    # No endpoint reachable on purpose where the URL is valid: validation must fail before any request.
    args = dict({"endpoint_url": "http://127.0.0.1:9"}, **args)
    result = run_module("iam_trust_policy_info", args)
    assert result["failed"] is True
    assert option in result["msg"]
