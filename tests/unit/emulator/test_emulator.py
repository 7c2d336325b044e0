# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the emulator behaves: auth, media types, the trust judgement, propagation, faults, tokens, concurrency.

Why: the collection's retry, resume and guard logic is only tested as well as the emulator reproduces Atlas's
behaviour, so each behaviour the collection relies on is pinned here.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import typing as t

import httpx
import pytest
from hypothesis import given, strategies as st

from ansible_collections.atlas_ops.aws_access.tests.emulator import atlas_emulator as emulator_module
from ansible_collections.atlas_ops.aws_access.tests.emulator.atlas_emulator import AtlasEmulator, trust_policy_allows

MEDIA_TYPE = "application/vnd.atlas.2023-01-01+json"
ATLAS_ARN = "arn:aws:iam::299602853325:root"
EXTERNAL_ID = "b63a96a9-5e21-4eee-9902-a3cdc7a0d81e"


@pytest.fixture
def atlas(atlas_emulator: t.Any) -> t.Iterator[httpx.Client]:
    with httpx.Client(base_url=atlas_emulator.url, headers={"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE}, timeout=30,
                      auth=httpx.DigestAuth(atlas_emulator.EMU_PUBLIC_KEY, atlas_emulator.EMU_PRIVATE_KEY)) as client:
        yield client


@pytest.fixture
def roles_path(atlas_emulator: t.Any) -> str:
    return f"/api/atlas/v2/groups/{atlas_emulator.project_id}/cloudProviderAccess"


def _token(emu: t.Any) -> str:
    response = httpx.post(f"{emu.url}/api/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(emu.EMU_CLIENT_ID, emu.EMU_CLIENT_SECRET))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _grant(external_id: str = EXTERNAL_ID, principal: t.Any = ATLAS_ARN, action: t.Any = "sts:AssumeRole",
           effect: str = "Allow") -> dict:
    return {"Effect": effect, "Principal": {"AWS": principal}, "Action": action,
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _authorize(atlas: httpx.Client, roles_path: str, role_id: str, arn: str) -> httpx.Response:
    return atlas.patch(f"{roles_path}/{role_id}", json={"providerName": "AWS", "iamAssumedRoleArn": arn})


def _unique(prefix: str) -> str:
    return f"{prefix}-{os.urandom(4).hex()}"


# ---- authentication -------------------------------------------------------------------------------------------------

def test_digest_auth_answers_a_challenge_first(atlas_emulator, atlas, roles_path):
    response = atlas.get(roles_path)
    assert response.status_code == 200
    first, second = atlas_emulator.requests
    assert first["status"] == 401 and "Authorization" not in first["headers"]
    assert first["response_headers"]["WWW-Authenticate"].startswith('Digest realm="MMS Public API"')
    assert 'qop="auth"' in first["response_headers"]["WWW-Authenticate"]
    assert second["headers"]["Authorization"] == "Digest" and second["status"] == 200


@pytest.mark.parametrize("user, password", [("emu-public-key", "wrong"), ("nobody", "emu-private-key-secret")])
def test_digest_with_wrong_credentials_is_401(atlas_emulator, roles_path, user, password):
    with httpx.Client(base_url=atlas_emulator.url, auth=httpx.DigestAuth(user, password),
                      headers={"Accept": MEDIA_TYPE}) as client:
        response = client.get(roles_path)
    assert response.status_code == 401
    assert response.json()["errorCode"] == "UNAUTHORIZED"


def test_digest_response_for_another_uri_is_refused(atlas_emulator, atlas, roles_path):
    """A captured Authorization header cannot be replayed against another resource."""
    atlas.get(roles_path)
    nonce = next(iter(atlas_emulator._nonces))
    fields = {"username": atlas_emulator.EMU_PUBLIC_KEY, "realm": "MMS Public API", "nonce": nonce,
              "uri": "/api/atlas/v2/groups/byName/x", "qop": "auth", "nc": "00000001", "cnonce": "abc"}
    ha1 = emulator_module._md5(f"{fields['username']}:MMS Public API:{atlas_emulator.EMU_PRIVATE_KEY}")
    ha2 = emulator_module._md5(f"GET:{fields['uri']}")
    fields["response"] = emulator_module._md5(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}")
    header = "Digest " + ", ".join(f'{key}="{value}"' for key, value in fields.items())
    assert httpx.get(f"{atlas_emulator.url}{fields['uri']}", headers={"Authorization": header, "Accept": MEDIA_TYPE}).status_code == 404
    assert httpx.get(f"{atlas_emulator.url}{roles_path}", headers={"Authorization": header, "Accept": MEDIA_TYPE}).status_code == 401


def test_bearer_token_from_the_token_endpoint_works(atlas_emulator, roles_path):
    token = _token(atlas_emulator)
    response = httpx.get(f"{atlas_emulator.url}{roles_path}", headers={"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE})
    assert response.status_code == 200
    assert response.json()["awsIamRoles"] == []


@pytest.mark.parametrize("auth, data, expected", [
    (("mdb_sa_id_emu", "wrong"), {"grant_type": "client_credentials"}, (401, "invalid_client")),
    (None, {"grant_type": "client_credentials"}, (401, "invalid_client")),
    (("mdb_sa_id_emu", "mdb_sa_sk_emu_secret"), {"grant_type": "password"}, (400, "unsupported_grant_type")),
])
def test_token_endpoint_refuses_bad_requests(atlas_emulator, auth, data, expected):
    response = httpx.post(f"{atlas_emulator.url}/api/oauth/token", data=data, auth=auth)
    assert (response.status_code, response.json()["error"]) == expected


def test_unknown_bearer_token_is_401(atlas_emulator, roles_path):
    response = httpx.get(f"{atlas_emulator.url}{roles_path}", headers={"Authorization": "Bearer made-up", "Accept": MEDIA_TYPE})
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]


def test_expired_tokens_need_a_new_one(atlas_emulator, roles_path):
    token = _token(atlas_emulator)
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}
    assert httpx.get(f"{atlas_emulator.url}{roles_path}", headers=headers).status_code == 200
    atlas_emulator.expire_tokens()
    assert httpx.get(f"{atlas_emulator.url}{roles_path}", headers=headers).status_code == 401
    headers["Authorization"] = f"Bearer {_token(atlas_emulator)}"
    assert httpx.get(f"{atlas_emulator.url}{roles_path}", headers=headers).status_code == 200


def test_token_ttl_is_honoured(moto_server):
    with AtlasEmulator(moto_server, service_accounts={"id": "secret"}, token_ttl=0) as emu:
        project = emu.create_project("ttl")
        token = httpx.post(f"{emu.url}/api/oauth/token", data={"grant_type": "client_credentials"}, auth=("id", "secret")).json()
        assert token["expires_in"] == 0
        response = httpx.get(f"{emu.url}/api/atlas/v2/groups/{project}/cloudProviderAccess",
                             headers={"Authorization": f"Bearer {token['access_token']}", "Accept": MEDIA_TYPE})
    assert response.status_code == 401


def test_log_never_holds_secrets(atlas_emulator, atlas, roles_path):
    token = _token(atlas_emulator)
    atlas.get(roles_path)
    httpx.get(f"{atlas_emulator.url}{roles_path}", headers={"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE})
    text = json.dumps(atlas_emulator.requests)
    schemes = [entry["headers"].get("Authorization") for entry in atlas_emulator.requests]
    assert schemes == ["Basic", None, "Digest", "Bearer"]
    for secret in (token, atlas_emulator.EMU_PRIVATE_KEY, atlas_emulator.EMU_CLIENT_SECRET):
        assert secret not in text


# ---- media types and request validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", [None, "application/json", "application/vnd.atlas.2024-08-05+json"])
def test_unversioned_accept_is_406(atlas, roles_path, accept):
    headers = {"Accept": accept} if accept else {"Accept": ""}
    response = atlas.get(roles_path, headers=headers)
    assert response.status_code == 406
    assert response.json()["errorCode"] == "INVALID_VERSION_DATE"


def test_accept_list_with_the_version_is_fine(atlas, roles_path):
    assert atlas.get(roles_path, headers={"Accept": f"application/json, {MEDIA_TYPE}"}).status_code == 200


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_unversioned_body_is_415(atlas_emulator, atlas, roles_path, content_type):
    response = atlas.post(roles_path, content=b'{"providerName": "AWS"}', headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert atlas_emulator.roles(atlas_emulator.project_id) == []


@pytest.mark.parametrize("body, expected", [
    ({}, (400, "MISSING_ATTRIBUTE")),
    ({"providerName": "FOO"}, (400, "INVALID_ENUM_VALUE")),
    ({"providerName": "AWS", "roleId": "0123456789abcdef01234567"}, (400, "INVALID_ATTRIBUTE")),
    (["AWS"], (400, "INVALID_JSON")),
])
def test_create_validates_its_body(atlas_emulator, atlas, roles_path, body, expected):
    response = atlas.post(roles_path, json=body)
    assert (response.status_code, response.json()["errorCode"]) == expected
    assert atlas_emulator.roles(atlas_emulator.project_id) == []


def test_create_with_malformed_json_is_400(atlas, roles_path):
    response = atlas.post(roles_path, content=b"{not json")
    assert (response.status_code, response.json()["errorCode"]) == (400, "INVALID_JSON")


@pytest.mark.parametrize("body, expected", [
    ({"providerName": "AWS"}, (400, "MISSING_ATTRIBUTE")),
    ({"providerName": "AWS", "iamAssumedRoleArn": "arn:aws:iam::12345:role/x"}, (400, "INVALID_ATTRIBUTE")),
    ({"providerName": "AWS", "iamAssumedRoleArn": "arn:aws:iam::123456789012:user/x"}, (400, "INVALID_ATTRIBUTE")),
    ({"iamAssumedRoleArn": "arn:aws:iam::123456789012:role/x"}, (400, "MISSING_ATTRIBUTE")),
    ({"providerName": "AWS", "iamAssumedRoleArn": "arn:aws:iam::123456789012:role/x", "bogus": 1}, (400, "INVALID_ATTRIBUTE")),
])
def test_authorize_validates_its_body(atlas, roles_path, body, expected):
    role = atlas.post(roles_path, json={"providerName": "AWS"}).json()
    response = atlas.patch(f"{roles_path}/{role['roleId']}", json=body)
    assert (response.status_code, response.json()["errorCode"]) == expected


# ---- not found and malformed ids ----------------------------------------------------------------------------------

UNKNOWN = "0123456789abcdef01234567"


@pytest.mark.parametrize("method, suffix, expected", [
    ("GET", f"/{UNKNOWN}", (404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND")),
    ("PATCH", f"/{UNKNOWN}", (404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND")),
    ("DELETE", f"/AWS/{UNKNOWN}", (404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND")),
    ("DELETE", f"/SOMETHING/{UNKNOWN}", (400, "INVALID_ENUM_VALUE")),
    ("GET", "/not-hex", (400, "INVALID_ATTRIBUTE")),
    ("GET", "/AWS", (400, "INVALID_ATTRIBUTE")),
    ("PUT", "", (405, "METHOD_NOT_ALLOWED")),
])
def test_unknown_and_malformed_role_ids(atlas, roles_path, method, suffix, expected):
    body = {"providerName": "AWS", "iamAssumedRoleArn": "arn:aws:iam::123456789012:role/x"} if method in ("PATCH", "PUT") else None
    response = atlas.request(method, f"{roles_path}{suffix}", json=body)
    assert (response.status_code, response.json()["errorCode"]) == expected


def test_deauthorize_with_another_provider_does_not_touch_an_aws_role(atlas_emulator, atlas, roles_path):
    role = atlas.post(roles_path, json={"providerName": "AWS"}).json()
    assert atlas.delete(f"{roles_path}/AZURE/{role['roleId']}").status_code == 404
    assert len(atlas_emulator.roles(atlas_emulator.project_id)) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_and_malformed_groups(atlas, method):
    body = {"providerName": "AWS"} if method == "POST" else None
    unknown = atlas.request(method, f"/api/atlas/v2/groups/{UNKNOWN}/cloudProviderAccess", json=body)
    malformed = atlas.request(method, "/api/atlas/v2/groups/ABC/cloudProviderAccess", json=body)
    assert (unknown.status_code, unknown.json()["errorCode"]) == (404, "GROUP_NOT_FOUND")
    assert (malformed.status_code, malformed.json()["errorCode"]) == (400, "INVALID_GROUP_ID")


def test_group_by_name_handles_url_escapes(atlas_emulator, atlas):
    project = atlas_emulator.create_project("team a (prod)")
    response = atlas.get("/api/atlas/v2/groups/byName/team%20a%20%28prod%29")
    assert response.json()["id"] == project
    assert atlas.get("/api/atlas/v2/groups/byName/team%20b").status_code == 404


def test_unknown_paths_are_404(atlas_emulator, atlas):
    assert atlas.get("/api/atlas/v2/clusters").json()["errorCode"] == "RESOURCE_NOT_FOUND"
    assert httpx.get(f"{atlas_emulator.url}/elsewhere").status_code == 404


# ---- the trust judgement through IAM (moto) ------------------------------------------------------------------------

@pytest.fixture
def pending(atlas: httpx.Client, roles_path: str) -> dict:
    return atlas.post(roles_path, json={"providerName": "AWS"}).json()


def _role_with(iam_client: t.Any, *statements: dict) -> str:
    return iam_client.create_role(RoleName=_unique("atlas"), AssumeRolePolicyDocument=_policy(*statements))["Role"]["Arn"]


def test_authorize_with_the_right_statement_succeeds(atlas_emulator, atlas, roles_path, pending, iam_client):
    other = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    arn = _role_with(iam_client, other, _grant(pending["atlasAssumedRoleExternalId"]))
    response = _authorize(atlas, roles_path, pending["roleId"], arn)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["iamAssumedRoleArn"] == arn and body["authorizedDate"] is not None
    assert atlas_emulator.roles(atlas_emulator.project_id) == [body]
    again = _authorize(atlas, roles_path, pending["roleId"], arn)
    assert again.json() == body


@pytest.mark.parametrize("statement", [
    pytest.param(None, id="no-statement"),
    pytest.param(_grant("another-external-id"), id="wrong-external-id"),
    pytest.param(_grant(principal="arn:aws:iam::111122223333:root"), id="unrelated-principal"),
    pytest.param(_grant(action="sts:TagSession"), id="wrong-action"),
    pytest.param(_grant(effect="Deny"), id="deny"),
    pytest.param({"Effect": "Allow", "Principal": {"AWS": ATLAS_ARN}, "Action": "sts:AssumeRole"}, id="no-external-id"),
])
def test_authorize_without_a_valid_grant_cannot_assume(atlas, roles_path, pending, iam_client, statement):
    if statement is not None:  # aim the statement at this role's external id, except where it is meant to be wrong
        statement = json.loads(json.dumps(statement).replace(EXTERNAL_ID, pending["atlasAssumedRoleExternalId"]))
    arn = _role_with(iam_client, *([statement] if statement else []))
    response = _authorize(atlas, roles_path, pending["roleId"], arn)
    assert response.status_code == 400
    assert response.json() == {"detail": f"Atlas cannot assume the specified role ({arn}).", "error": 400,
                               "errorCode": "CANNOT_ASSUME_ROLE", "parameters": [arn], "reason": "Bad Request"}


def test_authorize_a_missing_iam_role_cannot_assume(atlas, roles_path, pending):
    arn = f"arn:aws:iam::123456789012:role/{_unique('missing')}"
    assert _authorize(atlas, roles_path, pending["roleId"], arn).json()["errorCode"] == "CANNOT_ASSUME_ROLE"


def test_authorize_an_arn_of_another_account_cannot_assume(atlas, roles_path, pending, iam_client):
    arn = _role_with(iam_client, _grant(pending["atlasAssumedRoleExternalId"]))
    foreign = arn.replace(":123456789012:", ":111122223333:")
    assert _authorize(atlas, roles_path, pending["roleId"], foreign).json()["errorCode"] == "CANNOT_ASSUME_ROLE"


def test_authorize_with_another_roles_grant_cannot_assume(atlas, roles_path, pending, iam_client):
    """The statement for one Atlas role does not let another Atlas role (another external id) in."""
    second = atlas.post(roles_path, json={"providerName": "AWS"}).json()
    arn = _role_with(iam_client, _grant(pending["atlasAssumedRoleExternalId"]))
    assert _authorize(atlas, roles_path, second["roleId"], arn).json()["errorCode"] == "CANNOT_ASSUME_ROLE"
    assert _authorize(atlas, roles_path, pending["roleId"], arn).status_code == 200


def test_propagation_delay_rejects_then_accepts(atlas_emulator, atlas, roles_path, pending, iam_client):
    atlas_emulator.propagation_delay = 1.0
    arn = _role_with(iam_client, _grant(pending["atlasAssumedRoleExternalId"]))
    outcomes = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = _authorize(atlas, roles_path, pending["roleId"], arn)
        outcomes.append(response.json().get("errorCode", response.status_code))
        if response.status_code == 200:
            break
        time.sleep(0.2)
    assert outcomes[0] == "CANNOT_ASSUME_ROLE"
    assert outcomes[-1] == 200
    assert set(outcomes[:-1]) == {"CANNOT_ASSUME_ROLE"}


def test_propagation_restarts_when_the_policy_was_seen_invalid(atlas_emulator, atlas, roles_path, pending, iam_client):
    atlas_emulator.propagation_delay = 3600.0
    arn = _role_with(iam_client, _grant(pending["atlasAssumedRoleExternalId"]))
    assert _authorize(atlas, roles_path, pending["roleId"], arn).status_code == 400
    atlas_emulator.propagation_delay = 0.0
    assert _authorize(atlas, roles_path, pending["roleId"], arn).status_code == 200


def test_deauthorize_removes_the_role_even_while_features_use_it(atlas_emulator, atlas, roles_path, pending):
    """Atlas does not document a refusal: the emulator does what is worst for users, so only the client guard helps."""
    usage = [{"featureType": "ENCRYPTION_AT_REST", "featureId": None}]
    atlas_emulator.set_feature_usages(atlas_emulator.project_id, pending["roleId"], usage)
    assert atlas.get(f"{roles_path}/{pending['roleId']}").json()["featureUsages"] == usage
    assert atlas.delete(f"{roles_path}/AWS/{pending['roleId']}").status_code == 204
    assert atlas.get(roles_path).json()["awsIamRoles"] == []


def test_feature_usages_are_checked(atlas_emulator, pending):
    with pytest.raises(ValueError, match="featureType"):
        atlas_emulator.set_feature_usages(atlas_emulator.project_id, pending["roleId"], [{"featureType": "NOPE"}])
    with pytest.raises(KeyError):
        atlas_emulator.set_feature_usages(atlas_emulator.project_id, UNKNOWN, [])


# ---- faults -----------------------------------------------------------------------------------------------------------

def test_status_fault_answers_count_times_then_serves(atlas_emulator, atlas, roles_path):
    atlas_emulator.add_fault("GET", r"/cloudProviderAccess$", "status", count=2, status=429, retry_after=7)
    statuses = [atlas.get(roles_path) for attempt in range(3)]  # pylint: disable=unused-variable
    assert [response.status_code for response in statuses] == [429, 429, 200]
    assert statuses[0].headers["retry-after"] == "7"
    assert statuses[0].json()["errorCode"] == "RATE_LIMITED"


def test_status_fault_with_custom_body(atlas_emulator, atlas, roles_path):
    body = {"error": 429, "errorCode": "RATE_LIMITED_TOKEN_BUCKET", "detail": "slow down", "reason": "Too Many Requests"}
    atlas_emulator.add_fault("POST", "cloudProviderAccess", "status", status=429, body=body)
    response = atlas.post(roles_path, json={"providerName": "AWS"})
    assert (response.status_code, response.json()) == (429, body)
    assert atlas_emulator.roles(atlas_emulator.project_id) == []


def test_faults_only_hit_matching_requests(atlas_emulator, atlas, roles_path):
    atlas_emulator.add_fault("DELETE", r"/AWS/", "status", status=500)
    assert atlas.get(roles_path).status_code == 200
    assert atlas.post(roles_path, json={"providerName": "AWS"}).status_code == 200
    assert len(atlas_emulator._faults) == 1
    atlas_emulator.clear_faults()
    assert atlas_emulator._faults == []


def test_drop_closes_without_answering_and_does_nothing(atlas_emulator, atlas, roles_path):
    atlas_emulator.add_fault("POST", "cloudProviderAccess$", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        atlas.post(roles_path, json={"providerName": "AWS"})
    assert atlas_emulator.roles(atlas_emulator.project_id) == []
    assert atlas_emulator.requests[-1]["status"] is None and atlas_emulator.requests[-1]["fault"] == "drop"
    assert atlas.post(roles_path, json={"providerName": "AWS"}).status_code == 200


def test_commit_then_drop_does_the_work_but_does_not_answer(atlas_emulator, atlas, roles_path):
    atlas_emulator.add_fault("POST", "cloudProviderAccess$", "commit_then_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        atlas.post(roles_path, json={"providerName": "AWS"})
    assert len(atlas_emulator.roles(atlas_emulator.project_id)) == 1


def test_delay_fault_causes_a_read_timeout(atlas_emulator, atlas, roles_path):
    atlas_emulator.add_fault("GET", "cloudProviderAccess$", "delay", retry_after=1)
    with pytest.raises(httpx.ReadTimeout):
        atlas.get(roles_path, timeout=httpx.Timeout(10, read=0.2))
    atlas_emulator.add_fault("GET", "cloudProviderAccess$", "delay", retry_after=0.3)
    assert atlas.get(roles_path).status_code == 200


def test_faults_can_hit_the_token_endpoint(atlas_emulator):
    atlas_emulator.add_fault("POST", "^/api/oauth/token$", "status", status=503, retry_after=1)
    response = httpx.post(f"{atlas_emulator.url}/api/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(atlas_emulator.EMU_CLIENT_ID, atlas_emulator.EMU_CLIENT_SECRET))
    assert response.status_code == 503
    assert _token(atlas_emulator)


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "explode"}, "kind"), ({"kind": "status"}, "status"), ({"kind": "delay"}, "retry_after"),
    ({"kind": "drop", "count": 0}, "count"),
])
def test_bad_faults_are_refused(atlas_emulator, kwargs, message):
    with pytest.raises(ValueError, match=message):
        atlas_emulator.add_fault("GET", ".*", **kwargs)


# ---- concurrency ------------------------------------------------------------------------------------------------------

def test_concurrent_creates_give_distinct_roles(atlas_emulator, roles_path):
    def create(index: int) -> dict:  # pylint: disable=unused-argument
        with httpx.Client(base_url=atlas_emulator.url, headers={"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE},
                          auth=httpx.DigestAuth(atlas_emulator.EMU_PUBLIC_KEY, atlas_emulator.EMU_PRIVATE_KEY)) as client:
            response = client.post(roles_path, json={"providerName": "AWS"})
            assert response.status_code == 200
            return response.json()

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        created = list(pool.map(create, range(24)))
    assert len({role["roleId"] for role in created}) == 24
    assert len({role["atlasAssumedRoleExternalId"] for role in created}) == 24
    assert sorted(role["roleId"] for role in atlas_emulator.roles(atlas_emulator.project_id)) == sorted(
        role["roleId"] for role in created)


# ---- HTTP control API and process mode ------------------------------------------------------------------------------

def test_control_api_over_http(atlas_emulator, atlas):
    control = f"{atlas_emulator.url}/_emulator"
    assert httpx.get(f"{control}/health").json() == {"status": "ok"}
    project = httpx.post(f"{control}/projects", json={"name": "via-http"}).json()["id"]
    path = f"/api/atlas/v2/groups/{project}/cloudProviderAccess"
    role = atlas.post(path, json={"providerName": "AWS"}).json()
    usage = [{"featureType": "EXPORT_SNAPSHOT", "featureId": {"exportBucketId": UNKNOWN, "groupId": project}}]
    assert httpx.put(f"{control}/groups/{project}/roles/{role['roleId']}/featureUsages", json=usage).status_code == 204
    assert httpx.get(f"{control}/groups/{project}/roles").json()[0]["featureUsages"] == usage
    assert httpx.post(f"{control}/faults", json={"method": "GET", "path_regex": "byName", "kind": "status", "status": 500}).status_code == 201
    assert httpx.delete(f"{control}/faults").status_code == 204
    assert atlas.get("/api/atlas/v2/groups/byName/via-http").status_code == 200
    assert httpx.post(f"{control}/faults", json={"kind": "nope", "method": "GET", "path_regex": "x"}).status_code == 400
    assert httpx.put(f"{control}/settings", json={"propagation_delay": 2}).json() == {"propagation_delay": 2.0}
    assert atlas_emulator.propagation_delay == 2.0
    logged = httpx.get(f"{control}/requests").json()
    assert logged and all(not entry["path"].startswith("/_emulator") for entry in logged)
    assert httpx.delete(f"{control}/requests").status_code == 204
    assert atlas_emulator.requests == []
    token = _token(atlas_emulator)
    assert httpx.post(f"{control}/tokens/expire").status_code == 204
    assert httpx.get(f"{atlas_emulator.url}{path}", headers={"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}).status_code == 401
    assert httpx.get(f"{control}/nothing").status_code == 404


def test_runs_as_a_process_with_defaults(moto_server):
    script = pathlib.Path(emulator_module.__file__)
    project_id = "5f0123456789abcdef012345"
    process = subprocess.Popen([sys.executable, str(script), "--port", "0", "--aws-endpoint-url", moto_server,
                                "--project", f"demo={project_id}", "--project", "other"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("ATLAS_EMULATOR_URL=http://127.0.0.1:"), line + process.stderr.read()
        url = line.split("=", 1)[1]
        with httpx.Client(base_url=url, headers={"Accept": MEDIA_TYPE},
                          auth=httpx.DigestAuth("demo-public-key", "demo-private-key")) as client:
            assert client.get("/api/atlas/v2/groups/byName/demo").json()["id"] == project_id
            assert client.get("/api/atlas/v2/groups/byName/other").status_code == 200
        basic = base64.b64encode(b"mdb_sa_id_demo:mdb_sa_sk_demo").decode()
        token = httpx.post(f"{url}/api/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
        assert token.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert returncode == 0


def test_command_line_rejects_half_credentials(moto_server):
    with pytest.raises(SystemExit, match="ID:SECRET"):
        emulator_module.main(["--aws-endpoint-url", moto_server, "--api-key", "only-public"])


def test_projects_must_be_unique(atlas_emulator):
    with pytest.raises(ValueError, match="exists already"):
        atlas_emulator.create_project(atlas_emulator.project_name)
    with pytest.raises(ValueError, match="24 lowercase hex"):
        atlas_emulator.create_project("x", "XYZ")


# ---- the trust judge as a pure function ----------------------------------------------------------------------------

@pytest.mark.parametrize("statement, allowed", [
    (_grant(), True),
    (_grant(principal="299602853325"), True),
    (_grant(principal=["arn:aws:iam::111122223333:root", ATLAS_ARN]), True),
    (_grant(action=["s3:GetObject", "sts:AssumeRole"]), True),
    (_grant(action="sts:*"), True),
    (_grant(action="*"), True),
    (_grant(action="STS:assumerole"), True),
    (_grant(external_id=["other", EXTERNAL_ID]), True),
    (_grant(external_id=["other"]), False),
    (_grant(principal="*"), False),
    (_grant(principal="arn:aws:iam::299602853325:role/other"), False),
    (_grant(action="sts:AssumeRoleWithWebIdentity"), False),
    (dict(_grant(), Condition={"StringLike": {"sts:ExternalId": EXTERNAL_ID}}), False),
    (dict(_grant(), Condition={"StringEquals": {"sts:ExternalId": EXTERNAL_ID, "aws:SourceIp": "10.0.0.1"}}), False),
    (dict(_grant(), Condition={"StringEquals": {"sts:externalid": EXTERNAL_ID}}), True),
    (dict(_grant(), Principal="*"), False),
])
def test_trust_judge_on_single_statements(statement, allowed):
    assert trust_policy_allows({"Statement": [statement]}, ATLAS_ARN, EXTERNAL_ID) is allowed


def test_trust_judge_reads_encoded_documents_and_lets_deny_win():
    document = {"Version": "2012-10-17", "Statement": _grant()}
    encoded = json.dumps(document).replace(" ", "%20").replace('"', "%22").replace("{", "%7B").replace("}", "%7D")
    assert trust_policy_allows(encoded, ATLAS_ARN, EXTERNAL_ID)
    assert trust_policy_allows(json.dumps(document), ATLAS_ARN, EXTERNAL_ID)
    denied = {"Statement": [_grant(), {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    assert not trust_policy_allows(denied, ATLAS_ARN, EXTERNAL_ID)
    assert not trust_policy_allows("not json", ATLAS_ARN, EXTERNAL_ID)
    assert not trust_policy_allows(None, ATLAS_ARN, EXTERNAL_ID)


@given(
    principal_as_account=st.booleans(), principal_in_list=st.booleans(), action_in_list=st.booleans(),
    external_in_list=st.booleans(), others=st.lists(st.sampled_from([
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
        _grant(external_id="someone-else"),
        {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"},
    ]), max_size=3), position=st.integers(min_value=0, max_value=3), grant_present=st.booleans(),
)
def test_trust_judge_accepts_every_spelling_of_the_grant_and_only_it(
        principal_as_account, principal_in_list, action_in_list, external_in_list, others, position, grant_present):
    principal: t.Any = "299602853325" if principal_as_account else ATLAS_ARN
    statement = _grant(
        principal=[principal] if principal_in_list else principal,
        action=["sts:AssumeRole"] if action_in_list else "sts:AssumeRole",
        external_id=[EXTERNAL_ID] if external_in_list else EXTERNAL_ID,
    )
    statements = list(others)
    if grant_present:
        statements.insert(min(position, len(statements)), statement)
    assert trust_policy_allows({"Version": "2012-10-17", "Statement": statements}, ATLAS_ARN, EXTERNAL_ID) is grant_present


def test_serves_https_with_an_ssl_context(moto_server, tmp_path):
    """validate_certs paths of the client need a TLS endpoint: a throwaway CA and a loopback certificate it signed."""
    import ssl

    from ansible_collections.atlas_ops.aws_access.tests.unit.tls_helpers import throwaway_tls

    tls = throwaway_tls(tmp_path)
    with AtlasEmulator(moto_server, api_keys={"pub": "priv"}, ssl_context=tls.context) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        project = emu.create_project("tls")
        path = f"/api/atlas/v2/groups/{project}/cloudProviderAccess"
        with httpx.Client(base_url=emu.url, verify=ssl.create_default_context(cafile=str(tls.ca_file)),
                          auth=httpx.DigestAuth("pub", "priv"), headers={"Accept": MEDIA_TYPE}) as client:
            assert client.get(path).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{emu.url}{path}", headers={"Accept": MEDIA_TYPE})
