# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Confused deputy: no code path writes a statement trusting an AWS principal without ``sts:ExternalId``.

Atlas assumes customers' roles from one shared AWS account; only the external ID tells customers apart. Every path
that writes a trust policy is driven with hypothesis over arbitrary existing policies (including unsafe statements
someone else wrote): ``add_grant`` and ``add_grants`` with and without merge, ``remove_grants``, the module's
``TrustRequest.apply``, and ``apply_trust`` with a recording IAM stand-in, for an existing role and for
``create_role``. Every statement written that trusts an AWS principal either was already there, unchanged, or
carries ``StringEquals sts:ExternalId`` with non-empty values. A pre-existing unsafe statement is kept (it is not
ours to delete) and warned about: see test_iam_trust_statement.py::test_confused_deputy_warning and
test_trust_policy.py::test_unconditional_trust_is_reported.
"""

from __future__ import annotations

import copy
import json
import typing as t

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _iam
from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _trust_policy as tp

ATLAS_ROOT = "arn:aws:iam::299602853325:root"
ATLAS_ACCOUNT = "299602853325"
OTHER = "arn:aws:iam::536727724300:root"

principals = st.sampled_from([ATLAS_ROOT, ATLAS_ACCOUNT, OTHER])
external_ids = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12)
id_values = st.one_of(external_ids, st.lists(external_ids, min_size=1, max_size=3))


def _grant(principal: t.Any, values: t.Any, extra_condition: bool) -> dict:
    condition: dict = {"StringEquals": {"sts:ExternalId": values}}
    if extra_condition:
        condition["Bool"] = {"aws:SecureTransport": "true"}
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole", "Condition": condition}


existing_statements = st.one_of(
    st.builds(_grant, principals, id_values, st.booleans()),
    st.builds(_grant, st.lists(principals, min_size=2, max_size=3, unique=True), id_values, st.booleans()),
    # Unsafe statements someone else wrote: trust with no external ID at all, or a condition on something else.
    st.builds(lambda p: {"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole"}, principals),
    st.builds(lambda p: {"Effect": "Allow", "Principal": {"AWS": p}, "Action": ["sts:AssumeRole", "sts:TagSession"],
                         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}, principals),
    st.just({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
    st.builds(lambda p: {"Effect": "Deny", "Principal": {"AWS": p}, "Action": "sts:AssumeRole"}, principals),
)
policies = st.builds(lambda statements: {"Version": "2012-10-17", "Statement": statements},
                     st.lists(existing_statements, max_size=5))
requests = st.fixed_dictionaries({
    "principal": principals,
    "external_ids": st.lists(external_ids, min_size=1, max_size=4, unique=True),
    "merge": st.booleans(),
    "sid": st.one_of(st.none(), st.just("AtlasChosenSid")),
})


def trusts_aws(statement: t.Any) -> bool:
    return isinstance(statement, dict) and isinstance(statement.get("Principal"), dict) and "AWS" in statement["Principal"]


def has_external_id(statement: dict) -> bool:
    condition = statement.get("Condition") or {}
    block = condition.get("StringEquals") or {}
    values = [value for key, value in block.items() if key.lower() == "sts:externalid"]
    return len(values) == 1 and all(isinstance(v, str) and v for v in (values[0] if isinstance(values[0], list) else [values[0]]))


def assert_no_new_trust_without_external_id(before: dict, written: dict) -> None:
    kept = [json.dumps(s, sort_keys=True) for s in tp.statements_of(before)]
    for statement in tp.statements_of(written):
        if not trusts_aws(statement) or statement.get("Effect") != "Allow":
            continue
        assert json.dumps(statement, sort_keys=True) in kept or has_external_id(statement), statement


def sid_for(request: dict) -> str | None:
    return request["sid"] if len(request["external_ids"]) == 1 else None


@given(policy=policies, request=requests)
def test_trust_policy_functions_never_write_trust_without_an_external_id(policy: dict, request: dict) -> None:
    before = copy.deepcopy(policy)
    principal, ids, merge, sid = request["principal"], request["external_ids"], request["merge"], sid_for(request)
    try:
        results = [tp.add_grant(policy, principal, ids[0], sid=sid, merge=merge),
                   tp.add_grants(policy, principal, ids, sid=sid, merge=merge)]
    except tp.TrustPolicyError:  # a taken Sid: refused, nothing written
        results = []
    results.append(tp.remove_grants(policy, principal, ids))
    for written in results:
        assert_no_new_trust_without_external_id(before, written)
    assert policy == before  # the input is never changed in place


class RecordingIam:
    """Stands in for IamRoleApi: holds one role (or none) and records every document written."""

    def __init__(self, policy: dict | None) -> None:
        self.role = None if policy is None else {"RoleName": "r", "Arn": "arn:aws:iam::123456789012:role/r",
                                                 "AssumeRolePolicyDocument": copy.deepcopy(policy)}
        self.written: list[dict] = []

    def get_role(self, name: str) -> dict | None:
        return copy.deepcopy(self.role)

    def update_assume_role_policy(self, name: str, policy: dict) -> None:
        self.written.append(copy.deepcopy(policy))
        self.role["AssumeRolePolicyDocument"] = copy.deepcopy(policy)

    def create_role(self, request: t.Any, policy: dict) -> dict:
        self.written.append(copy.deepcopy(policy))
        self.role = {"RoleName": request.role_name, "Arn": f"arn:aws:iam::123456789012:role/{request.role_name}",
                     "AssumeRolePolicyDocument": copy.deepcopy(policy)}
        return copy.deepcopy(self.role)

    def assume_role_policy_size_quota(self) -> int:
        return 10240


@settings(max_examples=150)
@given(policy=st.one_of(st.none(), policies), request=requests, state=st.sampled_from(["present", "absent"]))
def test_every_document_the_module_writes_has_the_external_id(policy: dict | None, request: dict, state: str) -> None:
    trust_request = _iam.TrustRequest(role_name="r", role_arn=None, principal=request["principal"],
                                      external_ids=tuple(request["external_ids"]), sid=sid_for(request), state=state,
                                      merge=request["merge"], create_role=True)
    iam = RecordingIam(policy)
    try:
        _iam.apply_trust(iam, trust_request, sleep=lambda _attempt: None)
    except _iam.IamError:  # quota or a taken Sid: refused before writing
        assert iam.written == []
    before = policy or {"Version": "2012-10-17", "Statement": []}
    for written in iam.written:
        assert_no_new_trust_without_external_id(before, written)
    if policy is None and state == "present":  # create_role: the new role holds only the grants, each with its ID
        assert iam.written and all(has_external_id(s) for s in tp.statements_of(iam.written[0]))
