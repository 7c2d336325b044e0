# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM I/O: option validation, the boto3 client, error messages, the size quota and the read-back loop."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.stub import Stubber

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _iam
from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _trust_policy as tp

ATLAS = "arn:aws:iam::299602853325:root"
EC2 = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def params(**overrides) -> dict:
    base = {"iam_role_name": "atlas-access", "iam_role_arn": None, "principal_arn": ATLAS, "external_id": ["eid-1"],
            "sid": None, "state": "present", "merge": False, "create_role": False, "path": None,
            "description": None, "tags": None, "endpoint_url": None}
    base.update(overrides)
    return base


def no_sleep(_attempt: int) -> None:
    """The read-back loop without waiting; rivals here write synchronously."""


# --- validation -----------------------------------------------------------------------------------------------

def test_build_request_takes_name_and_path_from_the_arn():
    request = _iam.build_request(params(iam_role_name=None, iam_role_arn="arn:aws:iam::123456789012:role/a/b/Atlas"))
    assert (request.role_name, request.path) == ("Atlas", "/a/b/")
    assert _iam.build_request(params(iam_role_arn="arn:aws-us-gov:iam::123456789012:role/x")).path == "/"


def test_build_request_keeps_each_external_id_once_in_order():
    assert _iam.build_request(params(external_id=["b", "a", "b"])).external_ids == ("b", "a")


@pytest.mark.parametrize("overrides, option", [
    ({"principal_arn": "arn:aws:iam::299602853325"}, "principal_arn"),
    ({"external_id": []}, "external_id"),
    ({"external_id": ["  "]}, "external_id"),
    ({"external_id": ["a", "b"], "sid": "Shared"}, "sid"),
    ({"sid": "has space"}, "sid"),
    ({"iam_role_name": "a/b"}, "iam_role_name"),
    ({"iam_role_arn": "arn:aws:iam::123456789012:user/bob"}, "iam_role_arn"),
    ({"path": "no-slashes"}, "path"),
    ({"endpoint_url": "ftp://example.test"}, "endpoint_url"),
    ({"endpoint_url": "http://"}, "endpoint_url"),
])
def test_bad_options_are_named(overrides, option):
    with pytest.raises(_iam.IamError, match=option):
        _iam.build_request(params(**overrides))


def test_granted_statement_never_lacks_the_external_id():
    with pytest.raises(tp.TrustPolicyError):
        tp.new_grant_statement(ATLAS, "")


# --- the client -----------------------------------------------------------------------------------------------

def test_client_defaults_to_us_east_1_with_standard_retries(monkeypatch, tmp_path):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    client = _iam.connect({"access_key": "AKIDEXAMPLE", "secret_key": "secret", "endpoint_url": "http://127.0.0.1:9"})
    assert client.meta.region_name == "us-east-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.config.retries["mode"] == "standard"
    assert client.meta.config.retries["total_max_attempts"] == 10 + 1  # botocore counts the first call too


def test_client_uses_the_options_given(monkeypatch):
    client = _iam.connect({"access_key": "AKIDEXAMPLE", "secret_key": "s3cr3t", "session_token": "tok",
                           "region": "us-gov-west-1", "endpoint_url": "http://127.0.0.1:9"})
    credentials = client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("AKIDEXAMPLE", "s3cr3t", "tok")
    assert client.meta.region_name == "us-gov-west-1"


def test_unknown_profile_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(_iam.IamError, match="no-such-profile"):
        _iam.connect({"profile": "no-such-profile"})


# --- errors ---------------------------------------------------------------------------------------------------

@pytest.fixture
def stubbed(iam_client):
    with Stubber(iam_client) as stubber:
        yield _iam.IamRoleApi(iam_client), stubber


@pytest.mark.parametrize("operation, action, call", [
    ("get_role", "iam:GetRole", lambda api: api.get_role("r")),
    ("update_assume_role_policy", "iam:UpdateAssumeRolePolicy", lambda api: api.update_assume_role_policy("r", {})),
    ("create_role", "iam:CreateRole",
     lambda api: api.create_role(_iam.build_request(params(iam_role_name="r")), {"Statement": []})),
    ("get_account_summary", "iam:GetAccountSummary", lambda api: api.assume_role_policy_size_quota()),
])
def test_access_denied_names_the_action(stubbed, operation, action, call):
    api, stubber = stubbed
    stubber.add_client_error(operation, service_error_code="AccessDenied", http_status_code=403,
                             service_message="User: arn:aws:iam::123456789012:user/ci is not authorized")
    with pytest.raises(_iam.IamError) as error:
        call(api)
    assert f"permission for {action}" in str(error.value) and "not authorized" in str(error.value)


def test_malformed_policy_keeps_aws_detail(stubbed):
    api, stubber = stubbed
    stubber.add_client_error("update_assume_role_policy", service_error_code="MalformedPolicyDocument",
                             http_status_code=400, service_message="Invalid principal in policy: \"AWS\":\"x\"")
    with pytest.raises(_iam.IamError, match='IAM rejected the trust policy of role r: Invalid principal'):
        api.update_assume_role_policy("r", {})


def test_other_errors_keep_code_and_message(stubbed):
    api, stubber = stubbed
    stubber.add_client_error("get_role", service_error_code="ServiceFailure", http_status_code=500,
                             service_message="try later")
    with pytest.raises(_iam.IamError, match="iam:GetRole on r failed: ServiceFailure: try later"):
        api.get_role("r")


def test_unreachable_endpoint_is_an_iam_error():
    import boto3
    from botocore.config import Config

    # One attempt: the module's own client would back off for ~25 s against a closed port before giving up.
    api = _iam.IamRoleApi(boto3.client("iam", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                                       aws_access_key_id="a", aws_secret_access_key="b",
                                       config=Config(retries={"mode": "standard", "max_attempts": 1})))
    with pytest.raises(_iam.IamError, match="iam:GetRole on r could not be sent"):
        api.get_role("r")


# --- quota and read-back against moto -------------------------------------------------------------------------

class CountingApi(_iam.IamRoleApi):
    """The real API, counting quota requests and optionally letting a rival writer replace each write."""

    def __init__(self, client, rival_writes: int = 0) -> None:
        super().__init__(client)
        self.quota_requests = 0
        self.updates = 0
        self.rival_writes = rival_writes

    def assume_role_policy_size_quota(self) -> int:
        self.quota_requests += 1
        return super().assume_role_policy_size_quota()

    def update_assume_role_policy(self, name: str, policy: dict) -> None:
        before = self.get_role(name)["AssumeRolePolicyDocument"]
        super().update_assume_role_policy(name, policy)
        self.updates += 1
        if self.rival_writes:
            # Another writer that read the policy before our write now writes its own grant on top of that copy.
            self.rival_writes -= 1
            self.client.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(
                tp.add_grant(before, ATLAS, f"rival-{uuid.uuid4()}")))


@pytest.fixture
def role(iam_client):
    name = f"iam-{uuid.uuid4().hex[:10]}"
    iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [EC2]}))
    return name


def test_quota_is_asked_only_above_2048_characters(iam_client, role):
    api = CountingApi(iam_client)
    _iam.apply_trust(api, _iam.build_request(params(iam_role_name=role, external_id=["small"])), sleep=no_sleep)
    assert api.quota_requests == 0 and api.updates == 1
    big = [str(uuid.uuid4()) for _count in range(12)]
    with pytest.raises(_iam.IamError, match=r"more than the account's quota of 2048 .*nothing was written") as error:
        _iam.apply_trust(api, _iam.build_request(params(iam_role_name=role, external_id=big)), sleep=no_sleep)
    assert api.quota_requests == 1 and api.updates == 1
    assert "set merge: true" in str(error.value)


def test_a_raised_quota_lets_a_larger_policy_through(iam_client, role, monkeypatch):
    from moto.iam.models import iam_backends

    backend = iam_backends["123456789012"]["global"]
    monkeypatch.setattr(backend.account_summary, "_assume_role_policy_size_quota", 4096)
    api = CountingApi(iam_client)
    big = [str(uuid.uuid4()) for _count in range(12)]
    result = _iam.apply_trust(api, _iam.build_request(params(iam_role_name=role, external_id=big)), sleep=no_sleep)
    assert tp.policy_size(result["policy"]) > 2048 and api.quota_requests == 1
    assert set(tp.granted_external_ids(iam_client.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])) >= set(big)


def test_a_lost_write_is_redone_and_the_rival_grant_kept(iam_client, role):
    api = CountingApi(iam_client, rival_writes=1)
    result = _iam.apply_trust(api, _iam.build_request(params(iam_role_name=role, external_id=["mine"])), sleep=no_sleep)
    granted = tp.granted_external_ids(iam_client.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"], ATLAS)
    assert "mine" in granted and any(value.startswith("rival-") for value in granted)
    assert api.updates == 2 and result["changed"] is True


def test_a_writer_that_never_stops_is_reported_after_bounded_writes(iam_client, role):
    api = CountingApi(iam_client, rival_writes=100)
    with pytest.raises(_iam.IamError, match="another writer kept replacing"):
        _iam.apply_trust(api, _iam.build_request(params(iam_role_name=role, external_id=["mine"])), sleep=no_sleep)
    assert api.updates == _iam.MAX_WRITES


def test_remove_never_drops_a_grant_it_did_not_come_for(iam_client, role):
    api = CountingApi(iam_client)
    _iam.apply_trust(api, _iam.build_request(params(iam_role_name=role, external_id=["a", "b", "c"], merge=True)),
                     sleep=no_sleep)
    _iam.apply_trust(api, _iam.build_request(params(iam_role_name=role, external_id=["b"], state="absent")),
                     sleep=no_sleep)
    policy = iam_client.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert policy["Statement"][0] == EC2 and tp.granted_external_ids(policy, ATLAS) == ["a", "c"]


def test_sid_collision_is_an_iam_error_naming_sid(iam_client):
    name = f"iam-{uuid.uuid4().hex[:10]}"
    iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [dict(EC2, Sid="Taken")]}))
    with pytest.raises(_iam.IamError, match="Sid 'Taken'.*choose another sid"):
        _iam.apply_trust(_iam.IamRoleApi(iam_client), _iam.build_request(params(iam_role_name=name, sid="Taken")),
                         sleep=no_sleep)
