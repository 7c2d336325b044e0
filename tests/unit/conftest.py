# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: moto's server, the Atlas emulator, the official contract, and running a module in-process."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import pathlib
import types
import typing as t

import pytest

MODULES_PACKAGE = "ansible_collections.atlas_ops.aws_access.plugins.modules"
COLLECTION_ROOT = pathlib.Path(__file__).resolve().parents[2]
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def contract_dir() -> pathlib.Path | None:
    """Find ../shared/atlas-api: env var, else the pointer file the test runner writes, else beside the repo."""
    candidates = []
    if os.environ.get("ATLAS_API_CONTRACT_DIR"):
        candidates.append(pathlib.Path(os.environ["ATLAS_API_CONTRACT_DIR"]))
    pointer = COLLECTION_ROOT / "tests" / ".atlas-api-dir"
    if pointer.is_file():
        candidates.append(pathlib.Path(pointer.read_text(encoding="utf-8").strip()))
    candidates.append(COLLECTION_ROOT.parent / "shared" / "atlas-api")
    for candidate in candidates:
        if (candidate / "cloud-provider-access.validator-friendly.openapi.yaml").is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def contract() -> types.SimpleNamespace:
    """The official Atlas contract: ``directory``, ``spec`` (dict) and ``openapi`` (openapi_core.OpenAPI)."""
    directory = contract_dir()
    if directory is None:
        pytest.skip("Atlas API contract not found: set ATLAS_API_CONTRACT_DIR to the shared atlas-api directory")
    import yaml
    from openapi_core import OpenAPI

    path = directory / "cloud-provider-access.validator-friendly.openapi.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    return types.SimpleNamespace(directory=directory, spec=spec, openapi=OpenAPI.from_dict(spec))


@pytest.fixture(scope="session")
def moto_server() -> t.Iterator[str]:
    """moto's real HTTP server on a free loopback port; fake credentials so nothing can reach real AWS."""
    from moto.server import ThreadedMotoServer

    saved = {name: os.environ.get(name) for name in FAKE_AWS_ENV}
    os.environ.update(FAKE_AWS_ENV)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def iam_client(moto_server: str):
    """A boto3 IAM client against moto's server."""
    import boto3

    return boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def atlas_emulator(moto_server: str) -> t.Iterator[t.Any]:
    """An in-process Atlas emulator wired to moto, with one key pair, one service account and a fresh project."""
    from ansible_collections.atlas_ops.aws_access.tests.emulator.atlas_emulator import AtlasEmulator

    emulator = AtlasEmulator(
        aws_endpoint_url=moto_server,
        propagation_delay=0.0,
        api_keys={"emu-public-key": "emu-private-key-secret"},
        service_accounts={"mdb_sa_id_emu": "mdb_sa_sk_emu_secret"},
    )
    emulator.EMU_PUBLIC_KEY = "emu-public-key"
    emulator.EMU_PRIVATE_KEY = "emu-private-key-secret"
    emulator.EMU_CLIENT_ID = "mdb_sa_id_emu"
    emulator.EMU_CLIENT_SECRET = "mdb_sa_sk_emu_secret"
    emulator.start()
    emulator.project_name = "project-under-test"
    emulator.project_id = emulator.create_project(emulator.project_name)
    try:
        yield emulator
    finally:
        emulator.stop()


def _run_module(module_name: str, args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    """Run a module's main() in-process and return its result dict, as Ansible would receive it."""
    module = importlib.import_module(f"{MODULES_PACKAGE}.{module_name}")
    full_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    stdout = io.StringIO()
    with _patched_module_args(full_args), contextlib.redirect_stdout(stdout):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(stdout.getvalue())


@contextlib.contextmanager
def _patched_module_args(args: dict) -> t.Iterator[None]:
    """ansible-core 2.19+ has a helper for this; older lines read ``basic._ANSIBLE_ARGS``."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:
        from unittest import mock

        from ansible.module_utils import basic

        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield
        return
    with patch_module_args(args):
        yield


@pytest.fixture
def run_module() -> t.Callable[..., dict]:
    """``run_module(name, args, check_mode=False, diff=False) -> result dict``."""
    return _run_module
