# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atlas_access_role run through main() against the Atlas emulator (real HTTP) and moto's IAM."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.atlas_ops.aws_access.plugins.module_utils._atlas_client import AtlasClient, AtlasCredentials
from ansible_collections.atlas_ops.aws_access.tests.unit.contract_helpers import validate_log

MODULE = "atlas_access_role"
WRITE_METHODS = {"POST", "PATCH", "DELETE", "PUT"}


@pytest.fixture(autouse=True)
def every_exchange_matches_the_contract(atlas_emulator: t.Any, contract: t.Any) -> t.Iterator[None]:
    """After each test, every request the modules sent and every answer they got validates against the contract."""
    yield
    validate_log(contract, atlas_emulator.requests)


def connection(emu: t.Any, **extra: t.Any) -> dict:
    args = {"api_public_key": emu.EMU_PUBLIC_KEY, "api_private_key": emu.EMU_PRIVATE_KEY, "base_url": emu.url,
            "project_id": emu.project_id}
    args.update(extra)
    return args


def atlas_writes(emu: t.Any) -> list:
    return [(e["method"], e["path"]) for e in emu.requests if e["method"] in WRITE_METHODS and e["path"].startswith("/api/atlas/")]


def trust_atlas(iam_client: t.Any, name: str, role: dict, external_id: str | None = None) -> str:
    """Create the IAM role with the trust statement Atlas needs (or one with another external ID); return its ARN."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": role["atlas_aws_account_arn"]},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id or role["atlas_assumed_role_external_id"]}},
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    return iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document))["Role"]["Arn"]


def test_create_then_rerun_reports_no_change(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    first = run_module(MODULE, connection(atlas_emulator))
    assert first["changed"] is True
    role = first["role"]
    assert role["provider_name"] == "AWS" and role["authorized"] is False
    assert role["atlas_aws_account_arn"].startswith("arn:aws:iam::") and role["atlas_assumed_role_external_id"]
    assert set(role) == {"role_id", "provider_name", "atlas_aws_account_arn", "atlas_assumed_role_external_id",
                         "iam_assumed_role_arn", "authorized", "authorized_date", "created_date", "feature_usages"}
    second = run_module(MODULE, connection(atlas_emulator))
    assert second["changed"] is False
    assert second["role"] == role
    assert [r["roleId"] for r in atlas_emulator.roles(atlas_emulator.project_id)] == [role["role_id"]]


def test_the_oldest_pending_role_is_resumed_not_duplicated(atlas_emulator: t.Any, run_module: t.Callable, iam_client: t.Any) -> None:
    run_module(MODULE, connection(atlas_emulator))
    # A second pending role appears (left by an interrupted run or another tool): the oldest one must be resumed.
    with AtlasClient(atlas_emulator.url, AtlasCredentials("api_key", atlas_emulator.EMU_PUBLIC_KEY, atlas_emulator.EMU_PRIVATE_KEY)) as client:
        client.request("POST", f"/groups/{atlas_emulator.project_id}/cloudProviderAccess", {"providerName": "AWS"}, idempotent=False)
    roles = atlas_emulator.roles(atlas_emulator.project_id)
    oldest = min(roles, key=lambda r: (r["createdDate"], r["roleId"]))
    arn = trust_atlas(iam_client, "resume-me", {"atlas_aws_account_arn": oldest["atlasAWSAccountArn"],
                                                "atlas_assumed_role_external_id": oldest["atlasAssumedRoleExternalId"]})
    result = run_module(MODULE, connection(atlas_emulator, state="authorized", iam_role_arn=arn, authorize_timeout=30))
    assert result["changed"] is True
    assert result["role"]["role_id"] == oldest["roleId"]
    assert result["role"]["authorized"] is True and result["role"]["iam_assumed_role_arn"] == arn
    assert result["attempts"] == 1 and isinstance(result["waited"], float)
    assert len(atlas_emulator.roles(atlas_emulator.project_id)) == 2
    again = run_module(MODULE, connection(atlas_emulator, state="authorized", iam_role_arn=arn))
    assert again["changed"] is False and again["attempts"] == 0
    assert again["role"]["role_id"] == oldest["roleId"]
    # present without an ARN now resumes the other, still pending role instead of creating a third.
    other = run_module(MODULE, connection(atlas_emulator))
    assert other["changed"] is False and other["role"]["role_id"] != oldest["roleId"]
    assert len(atlas_emulator.roles(atlas_emulator.project_id)) == 2


def test_authorize_waits_out_iam_propagation(atlas_emulator: t.Any, run_module: t.Callable, iam_client: t.Any) -> None:
    role = run_module(MODULE, connection(atlas_emulator))["role"]
    arn = trust_atlas(iam_client, "slow-propagation", role)
    atlas_emulator.propagation_delay = 3.0
    result = run_module(MODULE, connection(atlas_emulator, state="authorized", iam_role_arn=arn, authorize_timeout=60), diff=True)
    assert result["changed"] is True, result
    assert result["role"]["authorized"] is True
    assert result["attempts"] > 1  # the emulator refused while "propagating"
    refused = [e for e in atlas_emulator.requests if e["method"] == "PATCH" and e["status"] == 400]
    assert len(refused) == result["attempts"] - 1
    assert all(e["response_body"]["errorCode"] == "CANNOT_ASSUME_ROLE" for e in refused)
    assert result["diff"]["before"]["authorized"] is False and result["diff"]["after"]["authorized"] is True
    print(f"propagation 3 s: attempts={result['attempts']} waited={result['waited']}")


def test_wrong_trust_policy_times_out_with_the_statement_atlas_needs(
        atlas_emulator: t.Any, run_module: t.Callable, iam_client: t.Any) -> None:
    role = run_module(MODULE, connection(atlas_emulator))["role"]
    arn = trust_atlas(iam_client, "wrong-external-id", role, external_id="not-the-right-one")
    result = run_module(MODULE, connection(atlas_emulator, state="authorized", iam_role_arn=arn, authorize_timeout=1))
    assert result["failed"] is True
    expected = json.dumps({"Action": "sts:AssumeRole",
                           "Condition": {"StringEquals": {"sts:ExternalId": role["atlas_assumed_role_external_id"]}},
                           "Effect": "Allow", "Principal": {"AWS": role["atlas_aws_account_arn"]}}, sort_keys=True)
    assert expected in result["msg"]
    assert "rerunning resumes it" in result["msg"] and role["role_id"] in result["msg"]
    assert result["trust_statement"] == json.loads(expected)
    assert result["attempts"] >= 1
    assert atlas_emulator.roles(atlas_emulator.project_id)[0]["iamAssumedRoleArn"] is None


def test_absent_refuses_while_a_feature_uses_the_role_and_works_with_force(
        atlas_emulator: t.Any, run_module: t.Callable, iam_client: t.Any) -> None:
    role = run_module(MODULE, connection(atlas_emulator))["role"]
    arn = trust_atlas(iam_client, "in-use", role)
    run_module(MODULE, connection(atlas_emulator, state="authorized", iam_role_arn=arn))
    atlas_emulator.set_feature_usages(atlas_emulator.project_id, role["role_id"],
                                      [{"featureType": "EXPORT_SNAPSHOT", "featureId": {"exportBucketId": "0123456789abcdef01234567"}}])
    atlas_emulator.clear_requests()
    refused = run_module(MODULE, connection(atlas_emulator, state="absent", iam_role_arn=arn))
    assert refused["failed"] is True
    assert "EXPORT_SNAPSHOT" in refused["msg"] and "force" in refused["msg"] and "Nothing was changed" in refused["msg"]
    assert atlas_writes(atlas_emulator) == []
    assert len(atlas_emulator.roles(atlas_emulator.project_id)) == 1
    forced = run_module(MODULE, connection(atlas_emulator, state="absent", iam_role_arn=arn, force=True), diff=True)
    assert forced["changed"] is True and forced["role"]["role_id"] == role["role_id"]
    assert forced["diff"]["after"] == {} and forced["diff"]["before"]["role_id"] == role["role_id"]
    assert atlas_emulator.roles(atlas_emulator.project_id) == []
    gone = run_module(MODULE, connection(atlas_emulator, state="absent", iam_role_arn=arn))
    assert gone["changed"] is False and gone["role"] == {}


def test_absent_by_role_id_removes_a_pending_role(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    role = run_module(MODULE, connection(atlas_emulator))["role"]
    result = run_module(MODULE, connection(atlas_emulator, state="absent", role_id=role["role_id"]))
    assert result["changed"] is True
    assert ("DELETE", f"/api/atlas/v2/groups/{atlas_emulator.project_id}/cloudProviderAccess/AWS/{role['role_id']}") in atlas_writes(atlas_emulator)
    assert atlas_emulator.roles(atlas_emulator.project_id) == []


def test_check_mode_sends_only_gets_and_predicts(atlas_emulator: t.Any, run_module: t.Callable, iam_client: t.Any) -> None:
    predicted = run_module(MODULE, connection(atlas_emulator), check_mode=True, diff=True)
    assert predicted["changed"] is True
    assert predicted["role"]["role_id"] is None and predicted["role"]["provider_name"] == "AWS"
    assert predicted["diff"]["before"] == {}
    assert atlas_writes(atlas_emulator) == []
    assert atlas_emulator.roles(atlas_emulator.project_id) == []

    role = run_module(MODULE, connection(atlas_emulator))["role"]
    arn = trust_atlas(iam_client, "check-mode", role)
    atlas_emulator.clear_requests()
    would_authorize = run_module(MODULE, connection(atlas_emulator, state="authorized", iam_role_arn=arn), check_mode=True)
    assert would_authorize["changed"] is True
    assert would_authorize["role"]["authorized"] is True and would_authorize["role"]["iam_assumed_role_arn"] == arn
    would_remove = run_module(MODULE, connection(atlas_emulator, state="absent", role_id=role["role_id"]), check_mode=True)
    assert would_remove["changed"] is True
    assert atlas_writes(atlas_emulator) == []
    assert atlas_emulator.roles(atlas_emulator.project_id)[0]["iamAssumedRoleArn"] is None


def test_service_account_auth_and_project_by_name(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    args = {"client_id": atlas_emulator.EMU_CLIENT_ID, "client_secret": atlas_emulator.EMU_CLIENT_SECRET,
            "base_url": atlas_emulator.url, "project_name": atlas_emulator.project_name}
    result = run_module(MODULE, args)
    assert result["changed"] is True
    assert atlas_emulator.roles(atlas_emulator.project_id)[0]["roleId"] == result["role"]["role_id"]
    schemes = {e["headers"].get("Authorization") for e in atlas_emulator.requests if e["path"].startswith("/api/atlas/")}
    assert schemes == {"Bearer"}
    assert atlas_emulator.EMU_CLIENT_SECRET not in json.dumps(result)


def test_wrong_key_gives_the_401_advice_without_the_secret(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    result = run_module(MODULE, connection(atlas_emulator, api_private_key="wrong-private-key-value"))
    assert result["failed"] is True
    assert "check api_public_key/api_private_key" in result["msg"] and "API access list" in result["msg"]
    assert "wrong-private-key-value" not in json.dumps(result)


def test_unknown_project_and_role_get_404_advice_naming_the_id(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    missing_project = "0123456789abcdef01234567"
    result = run_module(MODULE, connection(atlas_emulator, project_id=missing_project))
    assert result["failed"] is True and f"project_id {missing_project} was not found" in result["msg"]
    missing_role = "fedcba9876543210fedcba98"
    result = run_module(MODULE, connection(atlas_emulator, role_id=missing_role))
    assert result["failed"] is True and f"role_id {missing_role} was not found" in result["msg"]


@pytest.mark.parametrize("args, fragment", [
    ({"project_id": "not-an-id"}, "project_id must be 24 lowercase hexadecimal digits"),
    ({"role_id": "XYZ"}, "role_id must be 24"),
    ({"state": "authorized", "iam_role_arn": "arn:aws:iam::1234:role/x"}, "iam_role_arn must be an IAM role ARN"),
    ({"authorize_timeout": -5}, "authorize_timeout must be 0 or more"),
    ({"base_url": "cloud.mongodb.com"}, "base_url must be an http(s) URL"),
    ({"client_id": "mdb_sa_id_emu", "client_secret": "some-client-secret"}, "use exactly one pair"),
    ({"api_private_key": None}, "missing: api_private_key"),
    ({"state": "authorized"}, "iam_role_arn"),
    ({"state": "absent"}, "role_id, iam_role_arn"),
])
def test_bad_input_fails_before_any_request(
        atlas_emulator: t.Any, run_module: t.Callable, args: dict, fragment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MONGODB_ATLAS_PRIVATE_API_KEY", "MONGODB_ATLAS_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = run_module(MODULE, connection(atlas_emulator, **args))
    assert result["failed"] is True and fragment in result["msg"]
    assert atlas_emulator.requests == []
    assert atlas_emulator.roles(atlas_emulator.project_id) == []


def test_a_create_whose_answer_is_lost_leaves_exactly_one_role(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    atlas_emulator.add_fault("POST", "cloudProviderAccess$", "commit_then_drop")
    result = run_module(MODULE, connection(atlas_emulator))
    assert result["changed"] is True
    roles = atlas_emulator.roles(atlas_emulator.project_id)
    assert [r["roleId"] for r in roles] == [result["role"]["role_id"]]
    assert [e["method"] for e in atlas_emulator.requests if e["status"] is not None or e.get("fault")].count("POST") == 1


def test_a_create_refused_with_5xx_is_sent_again_once_nothing_appeared(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    atlas_emulator.add_fault("POST", "cloudProviderAccess$", "status", status=500)
    result = run_module(MODULE, connection(atlas_emulator))
    assert result["changed"] is True
    assert [r["roleId"] for r in atlas_emulator.roles(atlas_emulator.project_id)] == [result["role"]["role_id"]]
    posts = [e["status"] for e in atlas_emulator.requests if e["method"] == "POST" and e["path"].startswith("/api/atlas/")]
    assert posts[-2:] == [500, 200]


def test_rate_limit_retry_after_is_honoured(atlas_emulator: t.Any, run_module: t.Callable) -> None:
    atlas_emulator.add_fault("GET", "cloudProviderAccess$", "status", status=429, retry_after=1)
    atlas_emulator.add_fault("POST", "cloudProviderAccess$", "status", status=429, retry_after=1)
    result = run_module(MODULE, connection(atlas_emulator))
    assert result["changed"] is True
    statuses = [(e["method"], e["status"]) for e in atlas_emulator.requests if e["status"] != 401]
    assert ("GET", 429) in statuses and ("POST", 429) in statuses
    assert [status for status in statuses if status[0] == "POST"][-1] == ("POST", 200)
    assert len(atlas_emulator.roles(atlas_emulator.project_id)) == 1


@pytest.mark.parametrize("kind, status", [("status", 500), ("status", 502), ("status", 503), ("drop", None)])
def test_server_errors_and_lost_connections_on_reads_are_retried(
        atlas_emulator: t.Any, run_module: t.Callable, kind: str, status: int | None) -> None:
    atlas_emulator.add_fault("GET", "cloudProviderAccess$", kind, count=2, status=status)
    result = run_module(MODULE, connection(atlas_emulator))
    assert result["changed"] is True
    gets = [e for e in atlas_emulator.requests if e["method"] == "GET" and e["status"] != 401]
    assert len(gets) >= 3 and gets[-1]["status"] == 200


def test_credentials_and_project_come_from_the_environment(atlas_emulator: t.Any, run_module: t.Callable,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_ATLAS_PUBLIC_KEY", atlas_emulator.EMU_PUBLIC_KEY)
    monkeypatch.setenv("MONGODB_ATLAS_PRIVATE_API_KEY", atlas_emulator.EMU_PRIVATE_KEY)
    monkeypatch.setenv("MONGODB_ATLAS_PROJECT_ID", atlas_emulator.project_id)
    monkeypatch.setenv("MONGODB_ATLAS_BASE_URL", atlas_emulator.url)
    result = run_module(MODULE, {})
    assert result["changed"] is True
    assert [r["roleId"] for r in atlas_emulator.roles(atlas_emulator.project_id)] == [result["role"]["role_id"]]
