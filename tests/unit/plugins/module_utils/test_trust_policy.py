# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure trust-policy rules: what counts as a grant, add, remove, Sids and sizes."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _trust_policy as tp

ATLAS = "arn:aws:iam::299602853325:root"
ATLAS_ACCOUNT = "299602853325"
OTHER = "arn:aws:iam::111122223333:role/ci"
EC2 = {"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": [copy.deepcopy(s) for s in statements]}


def grant(external_id, principal=ATLAS, **extra) -> dict:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}
    statement.update(extra)
    return statement


# --- what counts as a grant -------------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    grant("eid"),
    grant(["other", "eid"]),
    grant("eid", principal=ATLAS_ACCOUNT),
    grant("eid", principal=[OTHER, ATLAS]),
    grant("eid", Action=["sts:TagSession", "sts:AssumeRole"]),
    grant("eid", Action="sts:*"),
    grant("eid", Action="*"),
    grant("eid", Action="STS:assumerole"),
    {"Effect": "Allow", "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole",
     "Condition": {"StringEquals": {"sts:externalid": "eid"}}},
], ids=["string", "list", "account-id", "principal-list", "action-list", "sts-star", "star", "action-case",
        "key-case"])
def test_grant_is_found_however_spelled(statement):
    assert tp.find_grants(policy(EC2, statement), ATLAS, "eid") == [1]


@pytest.mark.parametrize("partition", tp.ROOT_PARTITIONS)
def test_account_id_equals_root_arn_in_each_partition(partition):
    arn = f"arn:{partition}:iam::{ATLAS_ACCOUNT}:root"
    assert tp.is_grant(grant("eid", principal=ATLAS_ACCOUNT), arn, "eid")
    assert tp.is_grant(grant("eid", principal=arn), ATLAS_ACCOUNT, "eid")


@pytest.mark.parametrize("statement", [
    grant("eid", Effect="Deny"),
    grant("other"),
    grant(["a", "b"]),
    grant("eid", principal=OTHER),
    grant("eid", principal="arn:aws:iam::999999999999:root"),
    grant("eid", Action="sts:TagSession"),
    {"Effect": "Allow", "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole",
     "Condition": {"StringLike": {"sts:ExternalId": "eid"}}},
    {"Effect": "Allow", "Principal": {"Service": ATLAS}, "Action": "sts:AssumeRole",
     "Condition": {"StringEquals": {"sts:ExternalId": "eid"}}},
], ids=["deny", "other-id", "other-ids", "other-principal", "other-account", "other-action", "no-condition",
        "string-like", "service-principal"])
def test_not_a_grant(statement):
    assert tp.find_grants(policy(statement), ATLAS, "eid") == []


def test_root_arns_of_different_partitions_are_different_principals():
    assert not tp.principals_match("arn:aws-cn:iam::299602853325:root", ATLAS)
    assert tp.principals_match(ATLAS_ACCOUNT, ATLAS)


def test_parse_accepts_json_string_and_rejects_garbage():
    document = policy(EC2)
    assert tp.parse_policy(json.dumps(document)) == document
    assert tp.parse_policy(None) == {"Version": "2012-10-17", "Statement": []}
    with pytest.raises(tp.TrustPolicyError, match="not valid JSON"):
        tp.parse_policy("{nope")
    with pytest.raises(tp.TrustPolicyError, match="JSON object"):
        tp.parse_policy([1])


# --- add ------------------------------------------------------------------------------------------------------

def test_add_appends_one_statement_and_keeps_the_rest_exactly():
    original = policy(EC2)
    before = tp.serialize_policy(original)
    result = tp.add_grant(original, ATLAS, "3f2a-eid")
    assert tp.serialize_policy(original) == before, "the input must not be mutated"
    assert result["Statement"][0] == EC2
    assert result["Statement"][1] == {
        "Sid": "Atlas3f2aeid", "Effect": "Allow", "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "3f2a-eid"}}}


def test_add_to_a_single_statement_object_keeps_it():
    result = tp.add_grant({"Version": "2012-10-17", "Statement": EC2}, ATLAS, "eid", sid="Mine")
    assert result["Statement"][0] == EC2 and result["Statement"][1]["Sid"] == "Mine"


def test_add_is_a_no_op_when_a_list_condition_already_holds_the_id():
    document = policy(grant(["x", "eid"], principal=ATLAS_ACCOUNT))
    assert tp.add_grant(document, ATLAS, "eid") == document


def test_add_refuses_a_taken_sid():
    document = policy(dict(EC2, Sid="Atlaseid"))
    with pytest.raises(tp.TrustPolicyError, match="Sid 'Atlaseid'"):
        tp.add_grant(document, ATLAS, "eid")


def test_merge_joins_the_first_pure_grant_for_the_principal_only():
    shared = grant("a", principal=[ATLAS, OTHER], Sid="Shared")
    pure = grant("b", Sid="Pure")
    later = grant(["c"], Sid="Later")
    result = tp.add_grant(policy(EC2, shared, pure, later), ATLAS, "new", merge=True)
    assert result["Statement"][0] == EC2 and result["Statement"][1] == shared and result["Statement"][3] == later
    assert result["Statement"][2]["Condition"]["StringEquals"]["sts:ExternalId"] == ["b", "new"]
    assert len(result["Statement"]) == 4


def test_merge_without_a_pure_grant_creates_one_named_by_sid():
    result = tp.add_grants(policy(EC2), ATLAS, ["a", "b"], sid="AtlasFleet", merge=True)
    assert result["Statement"][1]["Sid"] == "AtlasFleet"
    assert result["Statement"][1]["Condition"]["StringEquals"]["sts:ExternalId"] == ["a", "b"]


@pytest.mark.parametrize("extra", [{"Action": ["sts:AssumeRole", "sts:TagSession"]},
                                   {"Condition": {"StringEquals": {"sts:ExternalId": "a", "aws:SourceAccount": "1"}}},
                                   {"Condition": {"StringEquals": {"sts:ExternalId": "a"}, "Bool": {"x": "true"}}},
                                   {"Principal": {"AWS": ATLAS, "Service": "ec2.amazonaws.com"}}])
def test_merge_leaves_statements_that_hold_more_than_a_grant(extra):
    statement = grant("a", **extra)
    result = tp.add_grant(policy(statement), ATLAS, "new", merge=True)
    assert result["Statement"][0] == statement and len(result["Statement"]) == 2


# --- remove ---------------------------------------------------------------------------------------------------

def test_remove_takes_one_value_from_a_list_condition():
    result = tp.remove_grant(policy(EC2, grant(["a", "eid", "b"], Sid="S")), ATLAS, "eid")
    assert result == policy(EC2, grant(["a", "b"], Sid="S"))


def test_remove_drops_a_statement_left_empty():
    assert tp.remove_grant(policy(EC2, grant("eid"), dict(EC2, Sid="Last")), ATLAS, "eid") == policy(
        EC2, dict(EC2, Sid="Last"))


def test_remove_keeps_other_principals_of_a_shared_statement():
    result = tp.remove_grant(policy(grant("eid", principal=[OTHER, ATLAS], Sid="S")), ATLAS, "eid")
    assert result == policy(grant("eid", principal=[OTHER], Sid="S"))


def test_remove_splits_a_statement_shared_by_principals_and_ids():
    result = tp.remove_grant(policy(grant(["eid", "keep"], principal=[OTHER, ATLAS], Sid="S")), ATLAS, "eid")
    assert result == policy(grant(["eid", "keep"], principal=[OTHER], Sid="S"), grant("keep"))
    assert tp.find_grants(result, OTHER, "eid") == [0] and tp.find_grants(result, ATLAS, "keep") == [1]


def test_remove_spelled_as_account_id():
    assert tp.remove_grant(policy(EC2, grant("eid", principal=ATLAS_ACCOUNT)), ATLAS, "eid") == policy(EC2)


def test_removing_the_last_statement_leaves_a_deny_all_that_the_next_add_replaces():
    emptied = tp.remove_grant(policy(grant("eid")), ATLAS, "eid")
    assert emptied == policy(tp.NO_TRUST_STATEMENT)
    assert tp.add_grant(emptied, ATLAS, "next", sid="Next") == policy(dict({"Sid": "Next"}, **grant("next")))
    assert tp.add_grant(emptied, ATLAS, "next", sid="Next", merge=True) == policy(dict({"Sid": "Next"}, **grant("next")))


def test_remove_of_a_missing_grant_changes_nothing():
    document = policy(EC2, grant("other"))
    assert tp.remove_grant(document, ATLAS, "eid") == document


# --- Sid and size ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("external_id", ["b63a96a9-5e21-4eee-9902-a3cdc7a0d81e", "0d2c8e8e-57d4-4bb6-a0f1-9b6b1e3d2c11",
                                         "a", "-_-", "x" * 100])
def test_default_sid_is_short_valid_and_stable(external_id):
    sid = tp.default_sid(external_id)
    assert sid == tp.default_sid(external_id)
    assert sid.startswith("Atlas") and len(sid) <= 24 and tp.is_valid_sid(sid)


def test_is_valid_sid_rejects_other_characters():
    assert not tp.is_valid_sid("Atlas-1") and not tp.is_valid_sid("") and tp.is_valid_sid("Atlas1")


def small_existing_statement() -> dict:
    return {"Sid": "AllowEc2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def test_eight_default_statements_fit_beside_a_small_statement():
    document = policy(small_existing_statement())
    for _count in range(8):
        document = tp.add_grant(document, ATLAS, str(uuid.uuid4()))
    assert len(document["Statement"]) == 9
    assert tp.policy_size(document) <= tp.DEFAULT_SIZE_QUOTA, tp.policy_size(document)


def test_forty_merged_ids_fit_beside_a_small_statement():
    document = tp.add_grants(policy(small_existing_statement()), ATLAS, [str(uuid.uuid4()) for _count in range(40)], merge=True)
    assert len(document["Statement"]) == 2
    assert tp.policy_size(document) <= tp.DEFAULT_SIZE_QUOTA, tp.policy_size(document)


def test_size_is_counted_without_whitespace():
    document = policy(EC2)
    assert tp.policy_size(document) == len(json.dumps(document).replace(" ", ""))


def test_unconditional_trust_is_reported():
    unsafe = {"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": ATLAS_ACCOUNT}, "Action": "sts:AssumeRole"}
    found = tp.unconditional_trust(policy(EC2, grant("eid"), unsafe), ATLAS)
    assert [statement["Sid"] for statement in found] == ["Open"]


def test_principal_validation():
    assert tp.is_valid_principal(ATLAS) and tp.is_valid_principal(ATLAS_ACCOUNT) and tp.is_valid_principal(OTHER)
    assert not tp.is_valid_principal("*") and not tp.is_valid_principal("arn:aws:s3:::bucket")


# --- properties -----------------------------------------------------------------------------------------------

external_ids = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12)
# One partition per document, as in IAM: a bare account id means that partition's :root, so mixing an aws-cn ARN
# into an aws policy would make "same principal" ambiguous. Partitions are covered by test_account_id_equals_root_arn_in_each_partition.
principals = st.sampled_from([ATLAS, ATLAS_ACCOUNT, OTHER, "123456789012"])


def statements_strategy() -> st.SearchStrategy:
    id_values = st.one_of(external_ids, st.lists(external_ids, min_size=1, max_size=3))
    principal_values = st.one_of(principals, st.lists(principals, min_size=1, max_size=2))
    grants = st.builds(
        lambda eid, who, action, sid: dict({"Effect": "Allow", "Principal": {"AWS": who}, "Action": action,
                                            "Condition": {"StringEquals": {"sts:ExternalId": eid}}},
                                           **({"Sid": sid} if sid else {})),
        id_values, principal_values, st.sampled_from(["sts:AssumeRole", ["sts:AssumeRole"], "sts:*"]),
        st.one_of(st.none(), st.text(alphabet="XYZ0123456789", min_size=1, max_size=6).map(lambda s: "Own" + s)))
    others = st.sampled_from([
        EC2,
        {"Effect": "Deny", "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": ATLAS}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:ExternalId": "fixed", "aws:SourceAccount": "111122223333"}}},
    ])
    return st.lists(st.one_of(grants, others), max_size=5)


def is_subsequence(items: list, sequence: list) -> bool:
    remaining = iter(sequence)
    return all(any(item == candidate for candidate in remaining) for item in items)


def single_values_as_strings(document: dict) -> bool:
    """A one-element list condition becomes a string after a merge and a remove; exclude that spelling."""
    return all(not (isinstance(v, list) and len(v) == 1)
               for s in document["Statement"] for v in [s.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")])


@settings(max_examples=300, deadline=None)
@given(statements_strategy(), principals, external_ids, st.booleans())
def test_add_is_idempotent_and_grants(statements, principal, external_id, merge):
    document = policy(*statements)
    try:
        once = tp.add_grant(document, principal, external_id, merge=merge)
    except tp.TrustPolicyError:
        return  # a colliding Sid is refused, not overwritten
    assert tp.find_grants(once, principal, external_id)
    assert tp.add_grant(once, principal, external_id, merge=merge) == once


@settings(max_examples=300, deadline=None)
@given(statements_strategy(), principals, external_ids, st.booleans())
def test_remove_after_add_gives_back_the_original(statements, principal, external_id, merge):
    document = policy(*statements)
    if tp.find_grants(document, principal, external_id) or (merge and not single_values_as_strings(document)):
        return
    try:
        added = tp.add_grant(document, principal, external_id, merge=merge)
    except tp.TrustPolicyError:
        return
    expected = document if document["Statement"] else policy(tp.NO_TRUST_STATEMENT)
    assert tp.remove_grant(added, principal, external_id) == expected


@settings(max_examples=300, deadline=None)
@given(statements_strategy(), principals, external_ids, st.booleans(), st.booleans())
def test_other_grants_and_statements_are_untouched(statements, principal, external_id, merge, removing):
    document = policy(*statements)
    try:
        result = (tp.remove_grant(document, principal, external_id) if removing
                  else tp.add_grant(document, principal, external_id, merge=merge))
    except tp.TrustPolicyError:
        return
    # Every other (principal, external id) grant that existed still exists, and no new grant appears but ours.
    for other_principal in (ATLAS, ATLAS_ACCOUNT, OTHER, "123456789012"):
        for statement in document["Statement"]:
            for other_id in tp._as_list(statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")):
                if tp.principals_match(other_principal, principal) and other_id == external_id:
                    continue
                assert bool(tp.find_grants(result, other_principal, other_id)) == bool(
                    tp.find_grants(document, other_principal, other_id))
    # Statements that are no grant of ours stay as they were, in the same order.
    untouched = [s for s in document["Statement"] if not tp.is_grant(s, principal, external_id)
                 and not (merge and not removing and tp.is_mergeable(s, principal))]
    assert is_subsequence(untouched, result["Statement"])
    # Nothing is ever left trusting the principal without an external id.
    assert tp.unconditional_trust(result, principal) == tp.unconditional_trust(document, principal)


def test_granted_external_ids_in_policy_order_each_once():
    document = policy(EC2, grant("a"), grant(["b", "a"], principal=ATLAS_ACCOUNT), grant("c", principal=OTHER),
                      grant("d", Effect="Deny"))
    assert tp.granted_external_ids(document, ATLAS) == ["a", "b"]
    assert tp.granted_external_ids(document) == ["a", "b", "c"]
