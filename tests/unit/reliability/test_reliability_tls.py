# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS at the module level: the emulator serves HTTPS with a certificate from a throwaway CA.

Refused by default (before any API request reaches the server); accepted with ``validate_certs: false``, or with the
CA given the way httpx reads it, the ``SSL_CERT_FILE`` environment variable (httpx's ``trust_env``, on by default).
A different CA in SSL_CERT_FILE is still refused, so it is the CA that is trusted, not verification that is off.
"""

from __future__ import annotations

import json
import pathlib
import typing as t

import pytest

from ansible_collections.atlas_ops.aws_access.tests.emulator.atlas_emulator import AtlasEmulator
from ansible_collections.atlas_ops.aws_access.tests.unit.tls_helpers import make_ca, throwaway_tls


@pytest.fixture
def https_emulator(moto_server: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> t.Iterator[t.Any]:
    """The emulator over HTTPS; ``ca_file`` is its CA, ``other_ca_file`` an unrelated one."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    tls = throwaway_tls(tmp_path)
    emu = AtlasEmulator(aws_endpoint_url=moto_server, api_keys={"tls-public": "tls-private-secret"},
                        service_accounts={"mdb_sa_id_tls": "mdb_sa_sk_tls_secret"}, ssl_context=tls.context)
    emu.start()
    emu.project_id = emu.create_project("tls")
    emu.ca_file = tls.ca_file
    emu.other_ca_file = make_ca(tmp_path, "unrelated")[2]
    try:
        yield emu
    finally:
        emu.stop()


def args(emu: t.Any, credentials: str = "api_key", **extra: t.Any) -> dict:
    pair = ({"api_public_key": "tls-public", "api_private_key": "tls-private-secret"} if credentials == "api_key"
            else {"client_id": "mdb_sa_id_tls", "client_secret": "mdb_sa_sk_tls_secret"})
    return dict(pair, base_url=emu.url, project_id=emu.project_id, **extra)


@pytest.mark.parametrize("credentials", ["api_key", "service_account"])
def test_an_unknown_ca_is_refused_by_default_before_anything_is_sent(https_emulator: t.Any, run_module: t.Callable,
                                                                     credentials: str) -> None:
    assert https_emulator.url.startswith("https://")
    result = run_module("atlas_access_role", args(https_emulator, credentials))
    assert result["failed"] is True
    assert "CERTIFICATE_VERIFY_FAILED" in result["msg"] and "Traceback" not in json.dumps(result)
    assert "Give its CA with the SSL_CERT_FILE environment variable, or set validate_certs: false" in result["msg"]
    assert "tls-private-secret" not in json.dumps(result) and "mdb_sa_sk_tls_secret" not in json.dumps(result)
    assert https_emulator.requests == []  # no HTTP request (and so no credential) got past the handshake
    assert https_emulator.roles(https_emulator.project_id) == []


def test_validate_certs_false_accepts_it(https_emulator: t.Any, run_module: t.Callable) -> None:
    result = run_module("atlas_access_role", args(https_emulator, validate_certs=False))
    assert result.get("failed") is not True, result
    assert [role["roleId"] for role in https_emulator.roles(https_emulator.project_id)] == [result["role"]["role_id"]]


@pytest.mark.parametrize("credentials", ["api_key", "service_account"])
def test_the_ca_given_in_ssl_cert_file_is_trusted(https_emulator: t.Any, run_module: t.Callable, credentials: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(https_emulator.ca_file))
    result = run_module("atlas_access_role_info", args(https_emulator, credentials))
    assert result.get("failed") is not True, result
    assert result["roles"] == []
    assert [entry["status"] for entry in https_emulator.requests][-1] == 200


def test_another_ca_in_ssl_cert_file_is_still_refused(https_emulator: t.Any, run_module: t.Callable,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(https_emulator.other_ca_file))
    result = run_module("atlas_access_role_info", args(https_emulator))
    assert result["failed"] is True and "CERTIFICATE_VERIFY_FAILED" in result["msg"]
    assert https_emulator.requests == []


def test_an_untrusted_certificate_is_not_retried(https_emulator: t.Any) -> None:
    from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _atlas_client as ac

    waits: list = []
    credentials = ac.AtlasCredentials("api_key", "tls-public", "tls-private-secret")
    with ac.AtlasClient(https_emulator.url, credentials, sleep=waits.append) as client, pytest.raises(ac.AtlasApiError) as caught:
        client.request("GET", f"/groups/{https_emulator.project_id}/cloudProviderAccess")
    assert caught.value.error_code == "CONNECTION_FAILED" and "SSL_CERT_FILE" in caught.value.detail
    assert waits == []  # a certificate does not become trusted by waiting
