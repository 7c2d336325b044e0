# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator against MongoDB's own contract: every answer of the five operations and byName, errors included.

Why: the collection is only as right as the emulator it is tested against; these tests tie the emulator to the
official OpenAPI spec and the real response samples, tolerating only the deviations real Atlas is documented to make.
"""

from __future__ import annotations

import json
import typing as t

import httpx
import pytest

from ansible_collections.atlas_ops.aws_access.tests.unit.contract_helpers import (
    assert_api_error,
    schema_errors,
    tolerant_spec,
    validate_exchange,
    validate_log,
)

MEDIA_TYPE = "application/vnd.atlas.2023-01-01+json"
ROLES = "/api/atlas/v2/groups/{gid}/cloudProviderAccess"


@pytest.fixture
def atlas(atlas_emulator: t.Any) -> t.Iterator[httpx.Client]:
    """A plain httpx client speaking Digest with the versioned media type, as the collection's client must."""
    with httpx.Client(base_url=atlas_emulator.url, auth=httpx.DigestAuth(atlas_emulator.EMU_PUBLIC_KEY, atlas_emulator.EMU_PRIVATE_KEY),
                      headers={"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE}, timeout=30) as client:
        yield client


def _sample(contract: t.Any, name: str) -> t.Any:
    return json.loads((contract.directory / "samples" / name).read_text(encoding="utf-8"))


def _trust(iam_client: t.Any, role_name: str, role: dict) -> str:
    """An IAM role whose trust policy lets exactly this Atlas role in; returns its ARN."""
    document = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": role["atlasAWSAccountArn"]}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": role["atlasAssumedRoleExternalId"]}},
    }]}
    return iam_client.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(document))["Role"]["Arn"]


def _only(atlas_emulator: t.Any, method: str) -> list[dict]:
    return [entry for entry in atlas_emulator.requests if entry["method"] == method and entry["status"] != 401]


def test_full_lifecycle_every_exchange_matches_the_contract(atlas_emulator, atlas, contract, iam_client):
    gid = atlas_emulator.project_id
    assert atlas.get(ROLES.format(gid=gid)).json()["awsIamRoles"] == []
    role = atlas.post(ROLES.format(gid=gid), json={"providerName": "AWS"}).json()
    assert atlas.get(f"{ROLES.format(gid=gid)}/{role['roleId']}").status_code == 200
    arn = _trust(iam_client, "contract-lifecycle", role)
    authorized = atlas.patch(f"{ROLES.format(gid=gid)}/{role['roleId']}", json={"providerName": "AWS", "iamAssumedRoleArn": arn})
    assert authorized.status_code == 200, authorized.text
    assert atlas.get(ROLES.format(gid=gid)).json()["awsIamRoles"][0]["iamAssumedRoleArn"] == arn
    assert atlas.delete(f"{ROLES.format(gid=gid)}/AWS/{role['roleId']}").status_code == 204
    assert atlas.get(f"/api/atlas/v2/groups/byName/{atlas_emulator.project_name}").json()["id"] == gid

    log = atlas_emulator.requests
    assert {(entry["method"], entry["status"]) for entry in log} >= {
        ("GET", 401), ("GET", 200), ("POST", 200), ("PATCH", 200), ("DELETE", 204)}
    assert validate_log(contract, log) == len(log)


def test_create_answers_the_real_shape(atlas_emulator, atlas, contract):
    sample = _sample(contract, "create-aws-role.response.json")
    response = atlas.post(ROLES.format(gid=atlas_emulator.project_id), json={"providerName": "AWS"})
    body = response.json()
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA_TYPE
    assert sorted(body) == sorted(sample)
    assert {key: type(value) for key, value in body.items()} == {key: type(value) for key, value in sample.items()}
    assert body["atlasAWSAccountArn"] == sample["atlasAWSAccountArn"]
    assert body["atlasAssumedRoleExternalId"] != sample["atlasAssumedRoleExternalId"]
    validate_exchange(contract, _only(atlas_emulator, "POST")[0])


def test_list_answers_the_real_shape(atlas_emulator, atlas, contract):
    sample = _sample(contract, "list-roles.response.json")
    atlas.post(ROLES.format(gid=atlas_emulator.project_id), json={"providerName": "AWS"})
    body = atlas.get(ROLES.format(gid=atlas_emulator.project_id)).json()
    assert sorted(body) == sorted(sample)
    assert sorted(body["awsIamRoles"][0]) == sorted(sample["awsIamRoles"][0])
    assert body["azureServicePrincipals"] == body["gcpServiceAccounts"] == []
    validate_log(contract, atlas_emulator.requests)


def test_cannot_assume_role_is_the_real_error(atlas_emulator, atlas, contract, iam_client):
    sample = _sample(contract, "authorize-cannot-assume-role.error.json")
    role = atlas.post(ROLES.format(gid=atlas_emulator.project_id), json={"providerName": "AWS"}).json()
    arn = iam_client.create_role(RoleName="contract-untrusted", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    response = atlas.patch(f"{ROLES.format(gid=atlas_emulator.project_id)}/{role['roleId']}",
                           json={"providerName": "AWS", "iamAssumedRoleArn": arn})
    body = response.json()
    assert response.status_code == 400
    assert sorted(body) == sorted(sample)
    assert body == dict(sample, detail=f"Atlas cannot assume the specified role ({arn}).", parameters=[arn])
    validate_exchange(contract, _only(atlas_emulator, "PATCH")[0])


@pytest.mark.parametrize("request_path, expected", [
    ("/api/atlas/v2/groups/{unknown}/cloudProviderAccess", (404, "GROUP_NOT_FOUND")),
    ("/api/atlas/v2/groups/{gid}/cloudProviderAccess/{unknown}", (404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND")),
    ("/api/atlas/v2/groups/byName/no-such-project", (404, "GROUP_NAME_NOT_FOUND")),
])
def test_not_found_answers_match_the_contract(atlas_emulator, atlas, contract, request_path, expected):
    path = request_path.format(gid=atlas_emulator.project_id, unknown="0123456789abcdef01234567")
    response = atlas.get(path)
    assert (response.status_code, response.json()["errorCode"]) == expected
    assert response.headers["content-type"] == "application/json"
    validate_log(contract, atlas_emulator.requests)


def test_delete_of_unknown_role_is_404_in_contract(atlas_emulator, atlas, contract):
    response = atlas.delete(f"{ROLES.format(gid=atlas_emulator.project_id)}/AWS/0123456789abcdef01234567")
    assert (response.status_code, response.json()["errorCode"]) == (404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND")
    validate_log(contract, atlas_emulator.requests)


def test_wrong_credentials_answer_is_in_contract(atlas_emulator, contract):
    with httpx.Client(base_url=atlas_emulator.url, auth=httpx.DigestAuth(atlas_emulator.EMU_PUBLIC_KEY, "wrong"),
                      headers={"Accept": MEDIA_TYPE}) as client:
        response = client.get(ROLES.format(gid=atlas_emulator.project_id))
    assert response.status_code == 401
    assert_api_error(contract, response.json(), 401)
    validate_log(contract, atlas_emulator.requests)


@pytest.mark.parametrize("status, code", [(429, "RATE_LIMITED"), (500, "UNEXPECTED_ERROR"), (503, "SERVICE_UNAVAILABLE")])
def test_injected_errors_are_api_errors(atlas_emulator, atlas, contract, status, code):
    atlas_emulator.add_fault("GET", r"/cloudProviderAccess$", "status", status=status, retry_after=2)
    response = atlas.get(ROLES.format(gid=atlas_emulator.project_id))
    assert response.status_code == status
    assert response.headers["retry-after"] == "2"
    assert_api_error(contract, response.json(), status, code)
    validate_log(contract, atlas_emulator.requests)


@pytest.mark.parametrize("headers, body, expected", [
    ({"Accept": "application/json"}, None, (406, "INVALID_VERSION_DATE")),
    ({"Content-Type": "application/json"}, {"providerName": "AWS"}, (415, "UNSUPPORTED_MEDIA_TYPE")),
])
def test_media_type_errors_are_api_errors(atlas_emulator, atlas, contract, headers, body, expected):
    method = "POST" if body is not None else "GET"
    response = atlas.request(method, ROLES.format(gid=atlas_emulator.project_id), headers=headers,
                             content=None if body is None else json.dumps(body))
    assert (response.status_code, response.json()["errorCode"]) == expected
    assert_api_error(contract, response.json(), expected[0])


def test_malformed_group_id_is_an_api_error(atlas_emulator, atlas, contract):
    response = atlas.get(ROLES.format(gid="not-a-group"))
    assert (response.status_code, response.json()["errorCode"]) == (400, "INVALID_GROUP_ID")
    assert_api_error(contract, response.json(), 400)


def test_group_by_name_is_a_contract_group(atlas_emulator, atlas, contract):
    body = atlas.get(f"/api/atlas/v2/groups/byName/{atlas_emulator.project_name}").json()
    assert schema_errors(contract, "Group", body) == []
    assert (body["id"], body["name"]) == (atlas_emulator.project_id, atlas_emulator.project_name)


# ---- the helper itself must be able to fail -------------------------------------------------------------------------

def test_samples_need_exactly_the_documented_tolerance(contract):
    """The strict spec rejects real Atlas data in the two known places; the tolerant one accepts it."""
    from openapi_schema_validator import OAS30Validator

    role = _sample(contract, "create-aws-role.response.json")
    error = _sample(contract, "authorize-cannot-assume-role.error.json")
    assert schema_errors(contract, "CloudProviderAccessAWSIAMRole", role) == []
    assert_api_error(contract, error, 400, "CANNOT_ASSUME_ROLE")
    strict = contract.spec
    aws_role = dict(strict["components"]["schemas"]["CloudProviderAccessAWSIAMRole"]["allOf"][1])
    assert list(OAS30Validator(aws_role).iter_errors(role)), "strict spec unexpectedly accepts null dates"
    parameters = strict["components"]["schemas"]["ApiError"]["properties"]["parameters"]
    assert list(OAS30Validator(parameters).iter_errors(error["parameters"])), "strict spec accepts string parameters"
    assert tolerant_spec(strict) != strict


def _good_entry(atlas_emulator, atlas) -> dict:
    atlas.post(ROLES.format(gid=atlas_emulator.project_id), json={"providerName": "AWS"})
    return _only(atlas_emulator, "POST")[0]


@pytest.mark.parametrize("tamper, message", [
    (lambda e: e["response_body"].update(roleId="XYZ"), "response breaks the contract"),
    (lambda e: e["response_body"].update(createdDate="yesterday"), "response breaks the contract"),
    (lambda e: e["response_body"].update(featureUsages=[{"featureType": "NOPE"}]), "response breaks the contract"),
    (lambda e: e["body"].update(providerName="NOPE"), "request breaks the contract"),
    (lambda e: e.update(body=None), "request breaks the contract"),
    (lambda e: e.update(path=e["path"].replace("/groups/", "/groups/x")), "request breaks the contract"),
    (lambda e: e["headers"].update(Accept="application/json"), "Accept header"),
    (lambda e: e["headers"].update(Authorization="Basic"), "Authorization scheme"),
    (lambda e: e.update(status=201), "not declared"),
    (lambda e: e.update(path="/api/atlas/v2/groups"), "not an operation of the contract"),
])
def test_validate_exchange_catches_contract_breaks(atlas_emulator, atlas, contract, tamper, message):
    entry = json.loads(json.dumps(_good_entry(atlas_emulator, atlas)))
    validate_exchange(contract, entry)
    tamper(entry)
    with pytest.raises(AssertionError, match=message):
        validate_exchange(contract, entry)


def test_validate_exchange_checks_the_token_endpoint(atlas_emulator, contract):
    response = httpx.post(f"{atlas_emulator.url}/api/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(atlas_emulator.EMU_CLIENT_ID, atlas_emulator.EMU_CLIENT_SECRET))
    assert response.status_code == 200
    entry = atlas_emulator.requests[-1]
    validate_exchange(contract, entry)
    entry["headers"] = {key: value for key, value in entry["headers"].items() if key.lower() != "authorization"}
    with pytest.raises(AssertionError, match="HTTP Basic"):
        validate_exchange(contract, entry)
