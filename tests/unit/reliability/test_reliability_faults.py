# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atlas faults not covered next to the client's own tests: a read timeout, and a token that expires mid-run.

The 429/5xx/drop/commit-then-drop cases live in tests/unit/plugins/module_utils/test_atlas_client.py and
tests/unit/plugins/modules/test_atlas_access_role.py; docs/reliability.md lists them all.
"""

from __future__ import annotations

import typing as t

import httpx
import pytest

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _atlas_client as ac
from ansible_collections.atlas_ops.aws_access.tests.unit.contract_helpers import validate_log


def roles_path(emu: t.Any) -> str:
    return f"/groups/{emu.project_id}/cloudProviderAccess"


def test_a_read_timeout_on_a_read_is_retried(atlas_emulator: t.Any, contract: t.Any) -> None:
    atlas_emulator.add_fault("GET", "cloudProviderAccess$", "delay", retry_after=1.0)
    waits: list = []
    credentials = ac.AtlasCredentials("api_key", atlas_emulator.EMU_PUBLIC_KEY, atlas_emulator.EMU_PRIVATE_KEY)
    with ac.AtlasClient(atlas_emulator.url, credentials, sleep=waits.append, timeout=httpx.Timeout(10.0, read=0.3)) as client:
        assert client.request("GET", roles_path(atlas_emulator))["awsIamRoles"] == []
    assert len(waits) == 1 and client.retries == 1
    validate_log(contract, atlas_emulator.requests)


def test_a_read_timeout_on_every_try_fails_with_the_cause(atlas_emulator: t.Any) -> None:
    atlas_emulator.add_fault("GET", "cloudProviderAccess$", "delay", count=3, retry_after=1.0)
    credentials = ac.AtlasCredentials("api_key", atlas_emulator.EMU_PUBLIC_KEY, atlas_emulator.EMU_PRIVATE_KEY)
    with ac.AtlasClient(atlas_emulator.url, credentials, sleep=lambda _s: None, retry=ac.RetryPolicy(max_attempts=3),
                        timeout=httpx.Timeout(10.0, read=0.3)) as client, pytest.raises(ac.AtlasApiError) as caught:
        client.request("GET", roles_path(atlas_emulator))
    assert caught.value.error_code == "CONNECTION_LOST" and "ReadTimeout" in caught.value.detail
    assert "Atlas API error CONNECTION_LOST (no answer)" in ac.explain_api_error(caught.value)


@pytest.fixture
def expire_tokens_at_first_create(atlas_emulator: t.Any, monkeypatch: pytest.MonkeyPatch) -> list:
    """Every bearer token stops working the moment the run's create is received (after it was authenticated), as
    when a token outlives its hour in the middle of a run; the create itself succeeds, the next call gets a 401."""
    expired: list = []
    take_fault = atlas_emulator._take_fault  # pylint: disable=protected-access

    def expire_then_take_fault(method: str, path: str) -> t.Any:
        if method == "POST" and path.endswith("/cloudProviderAccess") and not expired:
            atlas_emulator.expire_tokens()
            expired.append(path)
        return take_fault(method, path)

    monkeypatch.setattr(atlas_emulator, "_take_fault", expire_then_take_fault)
    return expired


def test_a_token_that_expires_mid_run_is_fetched_again_once(
        atlas_emulator: t.Any, run_module: t.Callable, expire_tokens_at_first_create: list, contract: t.Any) -> None:
    args = {"client_id": atlas_emulator.EMU_CLIENT_ID, "client_secret": atlas_emulator.EMU_CLIENT_SECRET,
            "base_url": atlas_emulator.url, "project_id": atlas_emulator.project_id}
    result = run_module("atlas_access_role", args)
    assert expire_tokens_at_first_create, "the token was never expired: the test did not test anything"
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert [role["roleId"] for role in atlas_emulator.roles(atlas_emulator.project_id)] == [result["role"]["role_id"]]
    log = [(entry["method"], entry["path"].rsplit("/", 1)[-1], entry["status"]) for entry in atlas_emulator.requests]
    assert [entry for entry in log if entry[1] == "token"] == [("POST", "token", 200)] * 2
    refused = [entry for entry in log if entry[2] == 401]
    assert len(refused) == 1 and refused[0][0] == "GET"  # the listing after the create, sent again with the new token
    validate_log(contract, atlas_emulator.requests)
