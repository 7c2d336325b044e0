# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Atlas client: credential rules (pure) and its behaviour on the wire against the Atlas emulator."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _atlas_client as ac
from ansible_collections.atlas_ops.aws_access.tests.unit.contract_helpers import validate_log
from ansible_collections.atlas_ops.aws_access.tests.unit.tls_helpers import throwaway_tls

PAIR_OPTIONS = ("api_public_key", "api_private_key", "client_id", "client_secret")
ENV_NAMES = {
    "api_public_key": "MONGODB_ATLAS_PUBLIC_API_KEY",
    "api_private_key": "MONGODB_ATLAS_PRIVATE_API_KEY",
    "client_id": "MONGODB_ATLAS_CLIENT_ID",
    "client_secret": "MONGODB_ATLAS_CLIENT_SECRET",
}


@given(explicit=st.sets(st.sampled_from(PAIR_OPTIONS)), env=st.sets(st.sampled_from(PAIR_OPTIONS)))
def test_exactly_one_pair_is_chosen_and_the_environment_only_when_no_option_is_given(explicit: set, env: set) -> None:
    params = {opt: f"opt-{opt}" for opt in explicit}
    environ = {ENV_NAMES[opt]: f"env-{opt}" for opt in env}
    key_pair, sa_pair = PAIR_OPTIONS[:2], PAIR_OPTIONS[2:]
    given_set, prefix = (explicit, "opt") if explicit else (env, "env")
    pairs = [pair for pair in (key_pair, sa_pair) if given_set & set(pair)]
    if len(pairs) != 1:
        with pytest.raises(ac.AtlasOptionError) as caught:
            ac.resolve_credentials(params, environ)
        assert ("Both" in caught.value.msg) if len(pairs) == 2 else ("No Atlas credentials" in caught.value.msg)
        return
    pair = pairs[0]
    if not set(pair) <= given_set:
        with pytest.raises(ac.AtlasOptionError) as caught:
            ac.resolve_credentials(params, environ)
        assert f"{pair[0]} and {pair[1]} must be given together" in caught.value.msg
        return
    creds = ac.resolve_credentials(params, environ)
    assert creds.kind == ("api_key" if pair == key_pair else "service_account")
    assert (creds.user, creds.secret) == (f"{prefix}-{pair[0]}", f"{prefix}-{pair[1]}")
    assert creds.secret not in repr(creds)


def test_legacy_env_names_are_read_after_the_current_ones() -> None:
    creds = ac.resolve_credentials({}, {"MONGODB_ATLAS_PUBLIC_KEY": "old-pub", "MONGODB_ATLAS_PRIVATE_KEY": "old-priv",
                                        "MONGODB_ATLAS_PRIVATE_API_KEY": "new-priv"})
    assert (creds.user, creds.secret) == ("old-pub", "new-priv")


def test_half_a_pair_names_the_missing_option_and_its_env_var() -> None:
    with pytest.raises(ac.AtlasOptionError) as caught:
        ac.resolve_credentials({}, {"MONGODB_ATLAS_CLIENT_ID": "id"})
    assert "client_secret (or env MONGODB_ATLAS_CLIENT_SECRET)" in caught.value.msg
    with pytest.raises(ac.AtlasOptionError) as caught:
        ac.resolve_credentials({"client_id": "id"}, {"MONGODB_ATLAS_CLIENT_SECRET": "from-env"})
    assert caught.value.msg.endswith("missing: client_secret.")


@pytest.mark.parametrize("url", ["cloud.mongodb.com", "ftp://cloud.mongodb.com", "https://", "https://u:p@host",
                                 "https://host/?x=1", "https://host/#frag", ""])
def test_bad_base_url_is_refused(url: str) -> None:
    with pytest.raises(ac.AtlasOptionError, match="base_url must be an http"):
        ac.validate_base_url(url)


def test_good_base_url_loses_its_trailing_slash() -> None:
    assert ac.validate_base_url("https://cloud.mongodbgov.com/") == "https://cloud.mongodbgov.com"
    assert ac.validate_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


@pytest.mark.parametrize("value, expected", [(None, None), ("7", 7.0), ("  3 ", 3.0), ("soon", None),
                                             ("Thu, 01 Jan 1970 00:01:40 GMT", 40.0), ("Thu, 01 Jan 1970 00:00:10 GMT", 0.0)])
def test_retry_after_accepts_seconds_and_http_dates(value: str | None, expected: float | None) -> None:
    assert ac.parse_retry_after(value, now=60.0) == expected


@given(attempt=st.integers(0, 30), jitter=st.floats(0, 1))
def test_backoff_is_jittered_and_capped(attempt: int, jitter: float) -> None:
    delay = ac.backoff_delay(attempt, lambda: jitter, base=0.5, cap=8.0)
    assert 0 <= delay <= min(8.0, 0.5 * 2 ** attempt)


@pytest.mark.parametrize("error, ids, expected", [
    (ac.AtlasApiError(401, "UNAUTHORIZED"), {}, "check api_public_key/api_private_key and that this machine's IP"),
    (ac.AtlasApiError(403, "FORBIDDEN"), {"project_id": "p" * 24}, "needs the Project Owner role on project " + "p" * 24),
    (ac.AtlasApiError(404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND"), {"project_id": "a" * 24, "role_id": "b" * 24},
     "role_id " + "b" * 24 + " was not found in project " + "a" * 24),
    (ac.AtlasApiError(404, "GROUP_NOT_FOUND"), {"project_id": "a" * 24, "role_id": "b" * 24}, "project_id " + "a" * 24 + " was not found"),
    (ac.AtlasApiError(404, "NOT_IN_GROUP"), {"project_name": "prod"}, "project_name 'prod' was not found"),
    (ac.AtlasApiError(409, "SOME_CONFLICT", "it clashed"), {}, "SOME_CONFLICT (HTTP 409): it clashed"),
    (ac.AtlasApiError(None, "CONNECTION_LOST", "ReadError"), {}, "CONNECTION_LOST (no answer): ReadError"),
])
def test_errors_become_advice(error: ac.AtlasApiError, ids: dict, expected: str) -> None:
    assert expected in ac.explain_api_error(error, "api_key", **ids)


def test_401_advice_for_service_accounts_names_their_options() -> None:
    assert "check client_id/client_secret" in ac.explain_api_error(ac.AtlasApiError(401, "X"), "service_account")


@pytest.mark.parametrize("status, committed", [(None, True), (500, True), (503, True), (429, False), (400, False)])
def test_which_failures_may_have_been_carried_out(status: int | None, committed: bool) -> None:
    assert ac.AtlasApiError(status, "X").maybe_committed is committed


# ---- on the wire, against the Atlas emulator ---------------------------------------------------------------------

@pytest.fixture
def checked_emulator(atlas_emulator, contract):
    """The emulator; afterwards every request the client sent and every answer validates against the contract."""
    yield atlas_emulator
    validate_log(contract, atlas_emulator.requests)


def api_key_client(emu, **kwargs) -> ac.AtlasClient:
    return ac.AtlasClient(emu.url, ac.AtlasCredentials("api_key", emu.EMU_PUBLIC_KEY, emu.EMU_PRIVATE_KEY), **kwargs)


def roles_path(emu) -> str:
    return f"/groups/{emu.project_id}/cloudProviderAccess"


def test_every_call_sends_the_versioned_media_type(checked_emulator) -> None:
    with api_key_client(checked_emulator) as client:
        created = client.request("POST", roles_path(checked_emulator), {"providerName": "AWS"}, idempotent=False)
        assert client.request("GET", f"{roles_path(checked_emulator)}/{created['roleId']}")["roleId"] == created["roleId"]
        assert client.request("DELETE", f"{roles_path(checked_emulator)}/AWS/{created['roleId']}") is None
    answered = [e for e in checked_emulator.requests if e["status"] != 401]
    assert [e["status"] for e in answered] == [200, 200, 204]
    for entry in answered:
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        assert headers["accept"] == ac.MEDIA_TYPE and headers["authorization"] == "Digest"
    assert {k.lower(): v for k, v in answered[0]["headers"].items()}["content-type"] == ac.MEDIA_TYPE


def test_service_account_token_is_reused_and_fetched_again_once_after_expiry(checked_emulator) -> None:
    creds = ac.AtlasCredentials("service_account", checked_emulator.EMU_CLIENT_ID, checked_emulator.EMU_CLIENT_SECRET)
    with ac.AtlasClient(checked_emulator.url, creds) as client:
        client.request("GET", roles_path(checked_emulator))
        client.request("GET", roles_path(checked_emulator))
        checked_emulator.expire_tokens()
        assert client.request("GET", roles_path(checked_emulator)) == {
            "awsIamRoles": [], "azureServicePrincipals": [], "gcpServiceAccounts": []}
    log = [(e["method"], e["path"], e["status"]) for e in checked_emulator.requests]
    token_calls = [entry for entry in log if entry[1] == ac.TOKEN_PATH]
    assert len(token_calls) == 2
    assert log[-3:] == [("GET", "/api/atlas/v2" + roles_path(checked_emulator), 401), ("POST", ac.TOKEN_PATH, 200),
                        ("GET", "/api/atlas/v2" + roles_path(checked_emulator), 200)]


def test_wrong_service_account_secret_is_a_401_api_error(checked_emulator) -> None:
    creds = ac.AtlasCredentials("service_account", checked_emulator.EMU_CLIENT_ID, "not-the-secret")
    with ac.AtlasClient(checked_emulator.url, creds) as client, pytest.raises(ac.AtlasApiError) as caught:
        client.request("GET", roles_path(checked_emulator))
    assert caught.value.status == 401
    assert "not-the-secret" not in str(caught.value)


def test_429_and_503_wait_for_retry_after(checked_emulator) -> None:
    waits: list = []
    checked_emulator.add_fault("GET", "cloudProviderAccess$", "status", status=429, retry_after=7)
    checked_emulator.add_fault("POST", "cloudProviderAccess$", "status", status=429, retry_after=500)
    with api_key_client(checked_emulator, sleep=waits.append) as client:
        client.request("GET", roles_path(checked_emulator))
        client.request("POST", roles_path(checked_emulator), {"providerName": "AWS"}, idempotent=False)
        checked_emulator.add_fault("GET", "cloudProviderAccess$", "status", status=503, retry_after=2)
        client.request("GET", roles_path(checked_emulator))
    assert waits == [7.0, 60.0, 2.0]  # the 500 s ask is capped
    assert len(checked_emulator.roles(checked_emulator.project_id)) == 1


def test_retry_budget_is_bounded(checked_emulator) -> None:
    waits: list = []
    checked_emulator.add_fault("GET", "cloudProviderAccess$", "status", count=100, status=429, retry_after=30)
    policy = ac.RetryPolicy(total_budget=100.0)
    with api_key_client(checked_emulator, sleep=waits.append, retry=policy) as client, pytest.raises(ac.AtlasApiError) as caught:
        client.request("GET", roles_path(checked_emulator))
    assert caught.value.status == 429 and caught.value.error_code == "RATE_LIMITED"
    assert waits == [30.0, 30.0, 30.0]


@pytest.mark.parametrize("kind, status", [("status", 500), ("status", 504), ("drop", None)])
def test_reads_and_writes_that_are_safe_to_repeat_are_retried_with_backoff(checked_emulator, kind: str, status: int | None) -> None:
    waits: list = []
    with api_key_client(checked_emulator, sleep=waits.append, rng=lambda: 1.0) as client:
        role = client.request("POST", roles_path(checked_emulator), {"providerName": "AWS"}, idempotent=False)
        checked_emulator.add_fault("GET", "cloudProviderAccess$", kind, count=3, status=status)
        checked_emulator.add_fault("DELETE", "cloudProviderAccess/AWS/", kind, count=1, status=status)
        client.request("GET", roles_path(checked_emulator))
        client.request("DELETE", f"{roles_path(checked_emulator)}/AWS/{role['roleId']}")
    assert waits == [0.5, 1.0, 2.0, 0.5]  # exponential, reset per request (rng pinned to the top of the jitter range)
    assert checked_emulator.roles(checked_emulator.project_id) == []


@pytest.mark.parametrize("kind, status", [("drop", None), ("status", 500), ("commit_then_drop", None)])
def test_a_create_is_never_repeated_by_the_client(checked_emulator, kind: str, status: int | None) -> None:
    checked_emulator.add_fault("POST", "cloudProviderAccess$", kind, status=status)
    with api_key_client(checked_emulator, sleep=lambda _s: None) as client, pytest.raises(ac.AtlasApiError) as caught:
        client.request("POST", roles_path(checked_emulator), {"providerName": "AWS"}, idempotent=False)
    assert caught.value.maybe_committed
    posts = [e for e in checked_emulator.requests if e["method"] == "POST" and e["status"] != 401]
    assert len(posts) == 1


def test_connection_refused_is_retried_then_reported(atlas_emulator) -> None:
    waits: list = []
    url = atlas_emulator.url
    atlas_emulator.stop()
    creds = ac.AtlasCredentials("api_key", "k", "s")
    with ac.AtlasClient(url, creds, sleep=waits.append, retry=ac.RetryPolicy(max_attempts=3)) as client, \
            pytest.raises(ac.AtlasApiError) as caught:
        client.request("POST", "/groups/0123456789abcdef01234567/cloudProviderAccess", {"providerName": "AWS"}, idempotent=False)
    assert caught.value.status is None and caught.value.error_code == "CONNECTION_FAILED"
    assert len(waits) == 2


class _RedirectingHandler(http.server.BaseHTTPRequestHandler):
    """Issues a token, then answers every API call with a redirect to another host."""

    seen: list = []

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802 - stdlib naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(("POST", self.path, self.headers.get("Authorization", "").split(" ")[0]))
        self._answer(200, json.dumps({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600}).encode(),
                     {"Content-Type": "application/json"})

    def do_GET(self):  # noqa: N802 - stdlib naming
        self.seen.append(("GET", self.path, self.headers.get("Authorization", "").split(" ")[0]))
        self._answer(302, headers={"Location": "http://127.0.0.2:9/collect-credentials"})


def test_redirects_are_not_followed_so_credentials_never_leave_base_url() -> None:
    _RedirectingHandler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RedirectingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        creds = ac.AtlasCredentials("service_account", "id", "secret-value")
        with ac.AtlasClient(f"http://127.0.0.1:{server.server_address[1]}", creds) as client, \
                pytest.raises(ac.AtlasApiError) as caught:
            client.request("GET", "/groups/0123456789abcdef01234567/cloudProviderAccess")
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.status == 302 and caught.value.error_code == "UNEXPECTED_REDIRECT"
    assert "check base_url" in caught.value.detail
    assert _RedirectingHandler.seen == [("POST", ac.TOKEN_PATH, "Basic"),
                                        ("GET", "/api/atlas/v2/groups/0123456789abcdef01234567/cloudProviderAccess", "Bearer")]


def test_tls_is_verified_unless_validate_certs_is_false(moto_server, tmp_path) -> None:
    from ansible_collections.atlas_ops.aws_access.tests.emulator.atlas_emulator import AtlasEmulator

    emulator = AtlasEmulator(aws_endpoint_url=moto_server, api_keys={"pub": "priv-secret"},
                             ssl_context=throwaway_tls(tmp_path).context)
    emulator.start()
    try:
        project_id = emulator.create_project("tls")
        creds = ac.AtlasCredentials("api_key", "pub", "priv-secret")
        assert emulator.url.startswith("https://")
        with ac.AtlasClient(emulator.url, creds, sleep=lambda _s: None) as client, pytest.raises(ac.AtlasApiError) as caught:
            client.request("GET", f"/groups/{project_id}/cloudProviderAccess")
        assert caught.value.error_code == "CONNECTION_FAILED" and "CERTIFICATE_VERIFY_FAILED" in caught.value.detail
        with ac.AtlasClient(emulator.url, creds, validate_certs=False) as client:
            assert client.request("GET", f"/groups/{project_id}/cloudProviderAccess")["awsIamRoles"] == []
    finally:
        emulator.stop()
