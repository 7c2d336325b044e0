# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure rules of the access-role logic: validation, the choice of role, result shaping and the authorize backoff."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _access_roles as ar
from ansible_collections.atlas_ops.aws_access.plugins.module_utils._atlas_client import AtlasOptionError

ARN_A = "arn:aws:iam::123456789012:role/atlas-a"
ARN_B = "arn:aws:iam::123456789012:role/team/atlas-b"


def make_role(role_id: str, created: str, arn: str | None = None, usages: list | None = None) -> dict:
    return {
        "roleId": role_id,
        "providerName": "AWS",
        "atlasAWSAccountArn": "arn:aws:iam::299602853325:root",
        "atlasAssumedRoleExternalId": f"ext-{role_id[-4:]}",
        "iamAssumedRoleArn": arn,
        "authorizedDate": "2026-01-02T00:00:00Z" if arn else None,
        "createdDate": created,
        "featureUsages": usages or [],
    }


@pytest.mark.parametrize("arn", [
    ARN_A,
    ARN_B,
    "arn:aws-us-gov:iam::000000000000:role/a/b/c/Name+=,.@_-1",
    "arn:aws-cn:iam::123456789012:role/" + "n" * 64,
])
def test_valid_iam_role_arns_pass(arn: str) -> None:
    assert ar.validate_iam_role_arn(arn) == arn


@pytest.mark.parametrize("arn", [
    "",
    "arn:aws:iam::12345678901:role/short-account",
    "arn:aws:iam::123456789012:user/not-a-role",
    "arn:aws:iam::123456789012:role/",
    "arn:aws:iam::123456789012:role/bad name",
    "arn:aws:iam::123456789012:role/" + "n" * 65,
    "arn:aws:iam::123456789012:role/" + "p" * 512 + "/name",
    "arn:azure:iam::123456789012:role/name",
    "arn:aws:iam::123456789012:role//name",
    "arn:aws:sts::123456789012:assumed-role/name/session",
])
def test_invalid_iam_role_arns_name_the_option_and_form(arn: str) -> None:
    with pytest.raises(AtlasOptionError) as caught:
        ar.validate_iam_role_arn(arn)
    assert "iam_role_arn must be an IAM role ARN" in str(caught.value)
    assert ":role/[<path>/]<name>" in str(caught.value)


@pytest.mark.parametrize("params, fragment", [
    ({"role_id": "ABCDEF0123456789abcdef01"}, "role_id must be 24 lowercase hexadecimal digits"),
    ({"role_id": "abc"}, "role_id must be 24"),
    ({"iam_role_arn": "arn:aws:iam::1:role/x"}, "iam_role_arn must be"),
    ({"authorize_timeout": -1}, "authorize_timeout must be 0 or more"),
])
def test_role_options_are_checked_before_any_request(params: dict, fragment: str) -> None:
    with pytest.raises(AtlasOptionError, match=fragment):
        ar.validate_role_options(params)


def test_role_options_accept_good_values() -> None:
    ar.validate_role_options({"role_id": "0123456789abcdef01234567", "iam_role_arn": ARN_A, "authorize_timeout": 0})


def test_to_result_has_exactly_the_interface_keys() -> None:
    role = make_role("0123456789abcdef01234567", "2026-01-01T00:00:00Z", ARN_A,
                     [{"featureType": "EXPORT_SNAPSHOT", "featureId": {"exportBucketId": "b1"}}])
    result = ar.to_result(role)
    assert result == {
        "role_id": "0123456789abcdef01234567",
        "provider_name": "AWS",
        "atlas_aws_account_arn": "arn:aws:iam::299602853325:root",
        "atlas_assumed_role_external_id": "ext-4567",
        "iam_assumed_role_arn": ARN_A,
        "authorized": True,
        "authorized_date": "2026-01-02T00:00:00Z",
        "created_date": "2026-01-01T00:00:00Z",
        "feature_usages": [{"feature_type": "EXPORT_SNAPSHOT", "feature_id": {"exportBucketId": "b1"}}],
    }
    assert ar.to_result(None) == {}
    assert ar.to_result(make_role("0123456789abcdef01234567", "x"))["authorized"] is False


def test_trust_statement_is_what_atlas_needs() -> None:
    role = make_role("0123456789abcdef01234567", "x")
    assert ar.trust_statement(role) == {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::299602853325:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "ext-4567"}},
    }


hex_ids = st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)
dates = st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"])
arns = st.sampled_from([None, ARN_A, ARN_B])
roles_lists = st.lists(st.builds(make_role, hex_ids, dates, arns), max_size=8, unique_by=lambda r: r["roleId"])


@given(roles=roles_lists, arn=st.sampled_from([None, ARN_A, ARN_B]))
def test_choice_of_role_follows_the_interface_order(roles: list, arn: str | None) -> None:
    chosen = ar.choose_role(roles, None, arn)
    authorized_match = [r for r in roles if arn and r["iamAssumedRoleArn"] == arn]
    pending = [r for r in roles if r["iamAssumedRoleArn"] is None]
    if authorized_match:
        assert chosen["iamAssumedRoleArn"] == arn
        assert all((chosen["createdDate"], chosen["roleId"]) <= (r["createdDate"], r["roleId"]) for r in authorized_match)
    elif pending:
        assert chosen["iamAssumedRoleArn"] is None
        assert all((chosen["createdDate"], chosen["roleId"]) <= (r["createdDate"], r["roleId"]) for r in pending)
    else:
        assert chosen is None
    # The choice never depends on the order Atlas lists the roles in (parallel runs agree).
    assert ar.choose_role(list(reversed(roles)), None, arn) == chosen


@given(roles=roles_lists, data=st.data())
def test_role_id_wins_over_every_other_rule(roles: list, data: st.DataObject) -> None:
    if not roles:
        assert ar.choose_role(roles, "0" * 24, ARN_A) is None
        return
    target = data.draw(st.sampled_from(roles))
    assert ar.choose_role(roles, target["roleId"], ARN_A) is target
    assert ar.roles_to_remove(roles, target["roleId"], ARN_B) == [target]


@given(roles=roles_lists, arn=st.sampled_from([ARN_A, ARN_B]))
def test_absent_by_arn_takes_every_authorized_role_and_never_a_pending_one(roles: list, arn: str) -> None:
    removed = ar.roles_to_remove(roles, None, arn)
    assert {r["roleId"] for r in removed} == {r["roleId"] for r in roles if r["iamAssumedRoleArn"] == arn}
    assert ar.roles_to_remove(roles, None, None) == []


def test_feature_usage_summary_names_feature_and_role() -> None:
    role = make_role("0123456789abcdef01234567", "x", ARN_A,
                     [{"featureType": "ENCRYPTION_AT_REST", "featureId": None},
                      {"featureType": "EXPORT_SNAPSHOT", "featureId": {"exportBucketId": "b1"}}])
    assert ar.feature_usage_summary([role]) == [
        "ENCRYPTION_AT_REST (role 0123456789abcdef01234567)",
        'EXPORT_SNAPSHOT {"exportBucketId": "b1"} (role 0123456789abcdef01234567)',
    ]


@given(waited=st.floats(0, 10_000), remaining=st.floats(0, 10_000), jitter=st.floats(0, 1))
def test_authorize_delay_is_bounded(waited: float, remaining: float, jitter: float) -> None:
    delay = ar.next_authorize_delay(waited, remaining, jitter)
    assert 0 <= delay <= remaining
    assert delay <= ar.AUTHORIZE_DELAY_CAP
    assert delay <= max(ar.AUTHORIZE_DELAY_FLOOR, waited / 4)


@given(propagation=st.floats(0.01, 600), jitters=st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_authorize_wait_ends_within_a_quarter_of_the_propagation_time(propagation: float, jitters: list) -> None:
    """Simulated clock: the first try at or after the moment AWS is ready comes at most ~25 % later."""
    now, index = 0.0, 0
    while now < propagation:
        now += ar.next_authorize_delay(now, float("inf"), jitters[index % len(jitters)])
        index += 1
    assert now - propagation <= max(ar.AUTHORIZE_DELAY_FLOOR, propagation / 4)
