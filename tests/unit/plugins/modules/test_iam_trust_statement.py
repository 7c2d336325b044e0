# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_trust_statement against moto's server: add, rerun, remove, list conditions, check/diff mode, create, quota."""

from __future__ import annotations

import json
import uuid

import pytest

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _iam

ATLAS = "arn:aws:iam::299602853325:root"
ACCOUNT = "123456789012"  # moto's account
UNRELATED = {"Sid": "AllowEc2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
             "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}


def new_id() -> str:
    return str(uuid.uuid4())


def grant(external_id, principal=ATLAS, sid=None) -> dict:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}
    if sid:
        statement = dict({"Sid": sid}, **statement)
    return statement


@pytest.fixture
def make_role(iam_client):
    """Create a role on moto holding these statements; returns its name."""
    def make(*statements: dict, **kwargs) -> str:
        name = f"atlas-{uuid.uuid4().hex[:10]}"
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=document, **kwargs)
        return name
    return make


@pytest.fixture
def policy_of(iam_client):
    return lambda name: iam_client.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]


@pytest.fixture
def writes(monkeypatch) -> list:
    """Every UpdateAssumeRolePolicy / CreateRole the module sends (still sent to moto)."""
    calls: list = []
    real_update, real_create = _iam.IamRoleApi.update_assume_role_policy, _iam.IamRoleApi.create_role

    def update(self, name, policy):
        calls.append(("update", name, policy))
        return real_update(self, name, policy)

    def create(self, request, policy):
        calls.append(("create", request.role_name, policy))
        return real_create(self, request, policy)

    monkeypatch.setattr(_iam.IamRoleApi, "update_assume_role_policy", update)
    monkeypatch.setattr(_iam.IamRoleApi, "create_role", create)
    return calls


@pytest.fixture
def trust(run_module, moto_server):
    """Run iam_trust_statement against moto with these options."""
    def run(check_mode=False, diff=False, **args):
        return run_module("iam_trust_statement", dict({"endpoint_url": moto_server, "principal_arn": ATLAS}, **args),
                          check_mode=check_mode, diff=diff)
    return run


def test_add_keeps_an_unrelated_statement_byte_for_byte_and_rerun_writes_nothing(trust, make_role, policy_of, writes):
    name, external_id = make_role(UNRELATED), new_id()
    result = trust(iam_role_name=name, external_id=[external_id])
    assert result["changed"] is True and "failed" not in result
    after = policy_of(name)
    assert json.dumps(after["Statement"][0]) == json.dumps(UNRELATED)
    assert after["Statement"][1] == {"Sid": "Atlas" + external_id.replace("-", "")[:19], "Effect": "Allow",
                                     "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole",
                                     "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}
    assert result["policy"] == after
    assert result["statements"] == [after["Statement"][1]]
    assert result["iam_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert len(writes) == 1

    again = trust(role_name=name, external_id=external_id)
    assert again["changed"] is False and again["policy"] == after
    assert len(writes) == 1, "a rerun must not write"


def test_grant_spelled_differently_is_recognised(trust, make_role, policy_of, writes):
    external_id = new_id()
    name = make_role(UNRELATED, grant(["other", external_id], principal="299602853325"))
    before = policy_of(name)
    result = trust(iam_role_name=name, external_id=[external_id])
    assert result["changed"] is False and writes == [] and policy_of(name) == before
    assert result["statements"] == [before["Statement"][1]]


def test_absent_removes_only_its_grant(trust, make_role, policy_of):
    mine, other = new_id(), new_id()
    name = make_role(grant(other, sid="Other"), UNRELATED, grant(mine, sid="Mine"))
    before = policy_of(name)
    result = trust(iam_role_name=name, external_id=[mine], state="absent")
    assert result["changed"] is True
    assert policy_of(name)["Statement"] == [before["Statement"][0], before["Statement"][1]]
    assert result["statements"] == [before["Statement"][2]]
    assert trust(iam_role_name=name, external_id=[mine], state="absent")["changed"] is False


def test_absent_takes_one_value_out_of_a_list_condition(trust, make_role, policy_of):
    mine, first, last = new_id(), new_id(), new_id()
    name = make_role(UNRELATED, grant([first, mine, last], sid="Fleet"))
    trust(iam_role_name=name, external_id=[mine], state="absent")
    assert policy_of(name)["Statement"] == [UNRELATED, grant([first, last], sid="Fleet")]


def test_absent_on_a_missing_role_is_ok(trust):
    result = trust(iam_role_name="no-such-role-here", external_id=[new_id()], state="absent")
    assert result["changed"] is False and "failed" not in result and result["statements"] == []


def test_merge_adds_to_a_list_condition(trust, make_role, policy_of):
    first, second = new_id(), new_id()
    name = make_role(UNRELATED, grant(first, sid="Fleet"))
    result = trust(iam_role_name=name, external_id=[second], merge=True)
    assert result["changed"] is True
    assert policy_of(name)["Statement"] == [UNRELATED, grant([first, second], sid="Fleet")]
    assert result["statements"] == [grant([first, second], sid="Fleet")]


def test_several_external_ids_are_written_in_one_update(trust, make_role, policy_of, writes):
    ids = [new_id() for _count in range(3)]
    name = make_role(UNRELATED)
    result = trust(iam_role_name=name, external_id=ids)
    assert len(writes) == 1 and len(policy_of(name)["Statement"]) == 4
    assert len(result["statements"]) == 3


def test_check_mode_writes_nothing_and_diff_shows_the_change(trust, make_role, policy_of, writes):
    external_id = new_id()
    name = make_role(UNRELATED)
    before = policy_of(name)
    result = trust(iam_role_name=name, external_id=[external_id], check_mode=True, diff=True)
    assert result["changed"] is True and writes == [] and policy_of(name) == before
    assert result["diff"]["before"] == before
    assert result["diff"]["after"]["Statement"] == [UNRELATED, result["statements"][0]]
    assert result["statements"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == external_id

    removed = trust(iam_role_name=name, external_id=["absent-anyway"], state="absent", check_mode=True, diff=True)
    assert removed["changed"] is False and removed["diff"]["before"] == removed["diff"]["after"] == before


def test_diff_only_in_diff_mode(trust, make_role):
    result = trust(iam_role_name=make_role(UNRELATED), external_id=[new_id()])
    assert "diff" not in result


def test_missing_role_suggests_create_role(trust, writes):
    result = trust(iam_role_name="not-there", external_id=[new_id()])
    assert result["failed"] is True and "create_role: true" in result["msg"] and "not-there" in result["msg"]
    assert writes == []


def test_create_role_holds_only_this_statement(trust, iam_client, policy_of):
    external_id, name = new_id(), f"created-{uuid.uuid4().hex[:8]}"
    planned = trust(iam_role_name=name, external_id=[external_id], create_role=True, check_mode=True, diff=True)
    assert planned["changed"] is True and planned["diff"]["before"] == {}
    with pytest.raises(iam_client.exceptions.NoSuchEntityException):
        iam_client.get_role(RoleName=name)

    result = trust(iam_role_arn=f"arn:aws:iam::{ACCOUNT}:role/atlas/{name}", external_id=[external_id],
                   create_role=True, description="Assumed by MongoDB Atlas", tags={"team": "data"})
    assert result["changed"] is True
    role = iam_client.get_role(RoleName=name)["Role"]
    assert role["Path"] == "/atlas/" and role["Description"] == "Assumed by MongoDB Atlas"
    assert {"Key": "team", "Value": "data"} in role["Tags"]
    assert policy_of(name) == planned["policy"] == result["policy"]
    assert result["policy"]["Statement"] == result["statements"] and len(result["statements"]) == 1
    assert result["iam_role_arn"] == role["Arn"]


def test_removing_the_only_grant_leaves_a_policy_iam_accepts(trust, policy_of):
    external_id, name = new_id(), f"only-{uuid.uuid4().hex[:8]}"
    trust(iam_role_name=name, external_id=[external_id], create_role=True)
    removed = trust(iam_role_name=name, external_id=[external_id], state="absent")
    assert removed["changed"] is True and "failed" not in removed
    assert policy_of(name)["Statement"] == [{"Sid": "AtlasTrustsNoOne", "Effect": "Deny", "Principal": {"AWS": "*"},
                                             "Action": "sts:AssumeRole"}]
    again = trust(iam_role_name=name, external_id=[external_id])
    assert again["changed"] is True and policy_of(name)["Statement"] == again["statements"]


def test_quota_failure_writes_nothing(trust, make_role, policy_of, writes):
    name = make_role(UNRELATED, *(grant(new_id()) for _count in range(10)))
    before = policy_of(name)
    result = trust(iam_role_name=name, external_id=[new_id()])
    assert result["failed"] is True and writes == [] and policy_of(name) == before
    assert "2048" in result["msg"] and "merge: true" in result["msg"] and "Service Quotas" in result["msg"]
    size = int(result["msg"].split(" would be ")[1].split()[0])
    assert size > 2048


def test_eight_projects_fit_and_forty_with_merge(trust, make_role, policy_of):
    small = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    separate = make_role(small)
    for _count in range(8):
        assert trust(iam_role_name=separate, external_id=[new_id()]).get("failed") is not True
    assert len(policy_of(separate)["Statement"]) == 9

    merged = make_role(small)
    ids = [new_id() for _count in range(40)]
    assert trust(iam_role_name=merged, external_id=ids[:39], merge=True).get("failed") is not True
    assert trust(iam_role_name=merged, external_id=ids[39:], merge=True)["changed"] is True
    statements = policy_of(merged)["Statement"]
    assert len(statements) == 2 and statements[1]["Condition"]["StringEquals"]["sts:ExternalId"] == ids


def test_aws_rejection_is_reported_with_its_detail(trust, make_role):
    name = make_role(dict(UNRELATED, Resource="*"))  # moto (like IAM) refuses Resource in a trust policy on update
    result = trust(iam_role_name=name, external_id=[new_id()])
    assert result["failed"] is True and "Resource" in result["msg"] and name in result["msg"]


def test_confused_deputy_warning(trust, make_role):
    name = make_role({"Effect": "Allow", "Principal": {"AWS": "299602853325"}, "Action": "sts:AssumeRole"})
    result = trust(iam_role_name=name, external_id=[new_id()])
    assert result["changed"] is True
    warnings = json.dumps(result["warnings"])  # plain strings before ansible-core 2.19, structured events since
    assert "without an sts:ExternalId condition" in warnings and "confused deputy" in warnings, warnings


def test_role_in_another_account_is_not_touched(trust, make_role, policy_of, writes):
    name = make_role(UNRELATED)
    result = trust(iam_role_arn=f"arn:aws:iam::999999999999:role/{name}", external_id=[new_id()])
    assert result["failed"] is True and "999999999999" in result["msg"] and writes == []


@pytest.mark.parametrize("args, option", [
    ({"external_id": ["a", "b"], "sid": "One"}, "sid"),
    ({"external_id": ["a"], "sid": "Not-valid"}, "sid"),
    ({"external_id": [""]}, "external_id"),
    ({"external_id": ["a"], "principal_arn": "*"}, "principal_arn"),
    ({"external_id": ["a"], "endpoint_url": "127.0.0.1:9"}, "endpoint_url"),
    ({"external_id": ["a"], "iam_role_name": None, "iam_role_arn": "arn:aws:iam::1:role/x"}, "iam_role_arn"),
    ({"external_id": ["a"], "iam_role_name": None, "iam_role_arn": f"arn:aws:iam::{ACCOUNT}:role/p/x",
      "path": "/q/"}, "path"),
])
def test_bad_input_names_the_option_before_any_request(run_module, args, option):
    # Nothing listens on port 9: a request would fail differently from the validation error expected here.
    full = dict({"iam_role_name": "role", "principal_arn": ATLAS, "endpoint_url": "http://127.0.0.1:9"}, **args)
    result = run_module("iam_trust_statement", {key: value for key, value in full.items() if value is not None})
    assert result["failed"] is True and option in result["msg"]


def test_secret_key_is_not_in_the_result(trust, make_role):
    result = trust(iam_role_name=make_role(UNRELATED), external_id=[new_id()], access_key="testing",
                   secret_key="super-secret-value", diff=True)
    assert "super-secret-value" not in json.dumps(result)
