# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atlas_access_role_info run through main() against the Atlas emulator: lists, filters, never writes."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.atlas_ops.aws_access.tests.unit.contract_helpers import validate_log

MODULE = "atlas_access_role_info"


@pytest.fixture(autouse=True)
def every_exchange_matches_the_contract(atlas_emulator: t.Any, contract: t.Any) -> t.Iterator[None]:
    yield
    validate_log(contract, atlas_emulator.requests)


def connection(emu: t.Any, **extra: t.Any) -> dict:
    return dict({"api_public_key": emu.EMU_PUBLIC_KEY, "api_private_key": emu.EMU_PRIVATE_KEY, "base_url": emu.url,
                 "project_id": emu.project_id}, **extra)


def test_lists_every_role_with_its_feature_usages(atlas_emulator: t.Any, run_module: t.Callable, iam_client: t.Any) -> None:
    first = run_module("atlas_access_role", connection(atlas_emulator))["role"]
    atlas_emulator.set_feature_usages(atlas_emulator.project_id, first["role_id"],
                                      [{"featureType": "ENCRYPTION_AT_REST", "featureId": None}])
    atlas_emulator.clear_requests()
    result = run_module(MODULE, connection(atlas_emulator))
    assert result["changed"] is False
    assert [r["role_id"] for r in result["roles"]] == [first["role_id"]]
    assert result["roles"][0]["feature_usages"] == [{"feature_type": "ENCRYPTION_AT_REST", "feature_id": None}]
    assert {e["method"] for e in atlas_emulator.requests} == {"GET"}


def test_filters_by_role_id_and_iam_role_arn(atlas_emulator: t.Any, run_module: t.Callable, iam_client: t.Any) -> None:
    first = run_module("atlas_access_role", connection(atlas_emulator))["role"]
    statement = {"Effect": "Allow", "Principal": {"AWS": first["atlas_aws_account_arn"]}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": first["atlas_assumed_role_external_id"]}}}
    arn = iam_client.create_role(RoleName="info-filter", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [statement]}))["Role"]["Arn"]
    run_module("atlas_access_role", connection(atlas_emulator, state="authorized", iam_role_arn=arn))
    second = run_module("atlas_access_role", connection(atlas_emulator))["role"]  # the first is authorized: a new one
    assert second["role_id"] != first["role_id"]

    everything = run_module(MODULE, connection(atlas_emulator), check_mode=True)
    assert {r["role_id"] for r in everything["roles"]} == {first["role_id"], second["role_id"]}
    by_arn = run_module(MODULE, connection(atlas_emulator, iam_role_arn=arn))
    assert [(r["role_id"], r["authorized"]) for r in by_arn["roles"]] == [(first["role_id"], True)]
    by_id = run_module(MODULE, connection(atlas_emulator, role_id=second["role_id"]))
    assert [r["role_id"] for r in by_id["roles"]] == [second["role_id"]]
    none = run_module(MODULE, connection(atlas_emulator, role_id="0" * 24))
    assert none["roles"] == [] and none["changed"] is False


def test_bad_filter_fails_before_any_request(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    result = run_module(MODULE, connection(atlas_emulator, iam_role_arn="arn:aws:iam::123456789012:user/someone"))
    assert result["failed"] is True and "iam_role_arn must be an IAM role ARN" in result["msg"]
    assert atlas_emulator.requests == []


def test_service_account_and_unknown_project_name(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    args = {"client_id": atlas_emulator.EMU_CLIENT_ID, "client_secret": atlas_emulator.EMU_CLIENT_SECRET,
            "base_url": atlas_emulator.url}
    result = run_module(MODULE, dict(args, project_name=atlas_emulator.project_name))
    assert result["roles"] == [] and "failed" not in result
    missing = run_module(MODULE, dict(args, project_name="no-such-project"))
    assert missing["failed"] is True and "project_name 'no-such-project' was not found" in missing["msg"]
