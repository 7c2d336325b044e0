# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, over every option of every module: a message naming the option and the form expected, before any
request, and nothing created or changed. Then the mistakes only a server can reveal (a project or IAM role that does
not exist, a principal AWS refuses): an actionable message, and again nothing created or changed.

"No request" is proven on the wire: the Atlas emulator's request log stays empty, and the AWS modules talk to moto
through a recording proxy (iam_proxy.IamProxy) whose call list stays empty.
"""

from __future__ import annotations

import json
import typing as t
import uuid

import pytest

from ansible_collections.atlas_ops.aws_access.tests.unit.reliability.iam_proxy import IamProxy

ATLAS = "arn:aws:iam::299602853325:root"
GOOD_ARN = "arn:aws:iam::123456789012:role/atlas-access"
DROP = object()  # remove this option from the module's arguments
ATLAS_MODULES = ("atlas_access_role", "atlas_access_role_info")
AWS_MODULES = ("iam_trust_statement", "iam_trust_policy_info")
ARN_FORM = "arn:<aws|aws-us-gov|aws-cn>:iam::<12-digit account>:role/"
HEX24_FORM = "24 lowercase hexadecimal digits"
BASE_URL_FORM = "base_url must be an http(s) URL such as https://cloud.mongodb.com"

# Each case: id, module, option overrides, fragments the message must hold (the option's name and the expected form).
ATLAS_CASES: list[tuple[str, str, dict, tuple[str, ...]]] = []
for _module in ATLAS_MODULES:
    ATLAS_CASES += [
        (f"{_module}-project_id-not-hex", _module, {"project_id": "not-an-id"}, ("project_id must be", HEX24_FORM)),
        (f"{_module}-project_id-uppercase", _module, {"project_id": "ABCDEF0123456789ABCDEF01"}, ("project_id must be", HEX24_FORM)),
        (f"{_module}-project_id-short", _module, {"project_id": "0123456789abcdef"}, ("project_id must be", HEX24_FORM)),
        (f"{_module}-group_id-alias", _module, {"project_id": DROP, "group_id": "g" * 24}, ("project_id must be", HEX24_FORM)),
        (f"{_module}-no-project", _module, {"project_id": DROP}, ("project_id (or env MONGODB_ATLAS_PROJECT_ID) or project_name is required",)),
        (f"{_module}-project_name-too-long", _module, {"project_id": DROP, "project_name": "p" * 65},
         ("project_name must be 1 to 64 characters",)),
        (f"{_module}-project_id-and-name", _module, {"project_name": "prod"}, ("mutually exclusive", "project_id|project_name")),
        (f"{_module}-no-credentials", _module, {"api_public_key": DROP, "api_private_key": DROP},
         ("No Atlas credentials", "api_public_key and api_private_key", "client_id and client_secret")),
        (f"{_module}-both-pairs", _module, {"client_id": "mdb_sa_id_emu", "client_secret": "s3cr3t-value"},
         ("api_public_key/api_private_key", "client_id/client_secret", "use exactly one pair")),
        (f"{_module}-half-key-pair", _module, {"api_private_key": DROP},
         ("api_public_key and api_private_key must be given together", "missing: api_private_key")),
        (f"{_module}-public-key-missing", _module, {"api_public_key": DROP}, ("missing: api_public_key",)),
        (f"{_module}-client_id-only", _module, {"api_public_key": DROP, "api_private_key": DROP, "client_id": "mdb_sa_id_emu"},
         ("client_id and client_secret must be given together", "missing: client_secret")),
        (f"{_module}-client_secret-only", _module, {"api_public_key": DROP, "api_private_key": DROP, "client_secret": "x-secret"},
         ("missing: client_id",)),
        (f"{_module}-base_url-no-scheme", _module, {"base_url": "cloud.mongodb.com"}, (BASE_URL_FORM,)),
        (f"{_module}-base_url-ftp", _module, {"base_url": "ftp://cloud.mongodb.com"}, (BASE_URL_FORM,)),
        (f"{_module}-base_url-credentials", _module, {"base_url": "https://user:pw@cloud.mongodb.com"}, (BASE_URL_FORM,)),
        (f"{_module}-base_url-query", _module, {"base_url": "https://cloud.mongodb.com/?x=1"}, (BASE_URL_FORM,)),
        (f"{_module}-validate_certs-not-bool", _module, {"validate_certs": "perhaps"}, ("validate_certs", "bool")),
        (f"{_module}-role_id-not-hex", _module, {"role_id": "XYZ"}, ("role_id must be", HEX24_FORM)),
        (f"{_module}-iam_role_arn-partition", _module, {"iam_role_arn": "arn:azure:iam::123456789012:role/atlas"},
         ("iam_role_arn must be an IAM role ARN", ARN_FORM)),
        (f"{_module}-iam_role_arn-account-length", _module, {"iam_role_arn": "arn:aws:iam::1234567890123:role/atlas"},
         ("iam_role_arn must be an IAM role ARN", ARN_FORM)),
        (f"{_module}-iam_role_arn-resource-type", _module, {"iam_role_arn": "arn:aws:iam::123456789012:user/atlas"},
         ("iam_role_arn must be an IAM role ARN", ARN_FORM)),
        (f"{_module}-iam_role_arn-other-service", _module, {"iam_role_arn": "arn:aws:s3:::atlas-bucket"},
         ("iam_role_arn must be an IAM role ARN", ARN_FORM)),
        (f"{_module}-unknown-option", _module, {"project": "prod"}, ("Unsupported parameters", "project")),
    ]
ATLAS_CASES += [
    ("atlas_access_role-state-unknown", "atlas_access_role", {"state": "gone"},
     ("value of state must be one of: present, authorized, absent", "got: gone")),
    ("atlas_access_role-authorized-without-arn", "atlas_access_role", {"state": "authorized"},
     ("state is authorized but all of the following are missing: iam_role_arn",)),
    ("atlas_access_role-absent-without-target", "atlas_access_role", {"state": "absent"},
     ("state is absent but any of the following are missing: role_id, iam_role_arn",)),
    ("atlas_access_role-authorize_timeout-negative", "atlas_access_role", {"authorize_timeout": -1},
     ("authorize_timeout must be 0 or more seconds",)),
    ("atlas_access_role-authorize_timeout-not-int", "atlas_access_role", {"authorize_timeout": "soon"}, ("authorize_timeout", "int")),
    ("atlas_access_role-force-not-bool", "atlas_access_role", {"force": "maybe"}, ("force", "bool")),
]

AWS_CASES: list[tuple[str, str, dict, tuple[str, ...]]] = []
for _module in AWS_MODULES:
    AWS_CASES += [
        (f"{_module}-iam_role_name-chars", _module, {"iam_role_name": "bad name!"}, ("iam_role_name", "is not an IAM role name", "1-64")),
        (f"{_module}-iam_role_name-too-long", _module, {"iam_role_name": "n" * 65}, ("iam_role_name", "is not an IAM role name")),
        (f"{_module}-role_name-alias", _module, {"iam_role_name": DROP, "role_name": "bad/name"}, ("iam_role_name", "is not an IAM role name")),
        (f"{_module}-iam_role_arn-partition", _module, {"iam_role_name": DROP, "iam_role_arn": "arn:azure:iam::123456789012:role/x"},
         ("iam_role_arn", ARN_FORM)),
        (f"{_module}-iam_role_arn-account-length", _module, {"iam_role_name": DROP, "iam_role_arn": "arn:aws:iam::12345678901:role/x"},
         ("iam_role_arn", ARN_FORM)),
        (f"{_module}-iam_role_arn-resource-type", _module, {"iam_role_name": DROP, "iam_role_arn": "arn:aws:iam::123456789012:user/x"},
         ("iam_role_arn", ARN_FORM)),
        (f"{_module}-name-and-arn", _module, {"iam_role_arn": GOOD_ARN}, ("mutually exclusive", "iam_role_name|iam_role_arn")),
        (f"{_module}-no-role", _module, {"iam_role_name": DROP}, ("one of the following is required: iam_role_name, iam_role_arn",)),
        (f"{_module}-principal-wildcard", _module, {"principal_arn": "*"},
         ("principal_arn", "is not an AWS principal", "arn:aws:iam::299602853325:root")),
        (f"{_module}-principal-partition", _module, {"principal_arn": "arn:azure:iam::299602853325:root"},
         ("principal_arn", "is not an AWS principal")),
        (f"{_module}-principal-account-length", _module, {"principal_arn": "arn:aws:iam::29960285332:root"},
         ("principal_arn", "is not an AWS principal")),
        (f"{_module}-principal-resource-type", _module, {"principal_arn": "arn:aws:s3:::bucket"}, ("principal_arn", "is not an AWS principal")),
        (f"{_module}-endpoint_url-no-scheme", _module, {"endpoint_url": "iam.amazonaws.com"},
         ("endpoint_url", "is not an http(s) URL", "https://iam.amazonaws.com")),
        (f"{_module}-endpoint_url-ftp", _module, {"endpoint_url": "ftp://127.0.0.1:1"}, ("endpoint_url", "is not an http(s) URL")),
        (f"{_module}-access_key-without-secret", _module, {"access_key": "AKIAEXAMPLE"}, ("required together", "access_key, secret_key")),
        (f"{_module}-secret-without-access_key", _module, {"secret_key": "a-secret"}, ("required together", "access_key, secret_key")),
        (f"{_module}-profile-and-keys", _module, {"profile": "p", "access_key": "AKIAEXAMPLE", "secret_key": "a-secret"},
         ("mutually exclusive", "profile|access_key")),
        (f"{_module}-profile-unknown", _module, {"profile": "no-such-profile-here"}, ("cannot set up the IAM client", "no-such-profile-here")),
        (f"{_module}-region-malformed", _module, {"region": "not a region!"}, ("cannot set up the IAM client", "region")),
        (f"{_module}-unknown-option", _module, {"role": "x"}, ("Unsupported parameters", "role")),
    ]
AWS_CASES += [
    ("iam_trust_statement-no-principal", "iam_trust_statement", {"principal_arn": DROP}, ("missing required arguments: principal_arn",)),
    ("iam_trust_statement-no-external_id", "iam_trust_statement", {"external_id": DROP}, ("missing required arguments: external_id",)),
    ("iam_trust_statement-external_id-empty-list", "iam_trust_statement", {"external_id": []},
     ("external_id must be one or more non-empty strings",)),
    ("iam_trust_statement-external_id-empty-string", "iam_trust_statement", {"external_id": [""]},
     ("external_id must be one or more non-empty strings",)),
    ("iam_trust_statement-external_id-blank", "iam_trust_statement", {"external_id": ["ok-id", "  "]},
     ("external_id must be one or more non-empty strings",)),
    ("iam_trust_statement-sid-chars", "iam_trust_statement", {"sid": "Atlas-Grant"}, ("sid", "ASCII letters and digits only")),
    ("iam_trust_statement-sid-several-external-ids", "iam_trust_statement", {"sid": "AtlasGrant", "external_id": ["a-1", "b-2"]},
     ("sid can only be used with a single external_id",)),
    ("iam_trust_statement-state-unknown", "iam_trust_statement", {"state": "gone"}, ("value of state must be one of: present, absent",)),
    ("iam_trust_statement-create_role-not-bool", "iam_trust_statement", {"create_role": "maybe"}, ("create_role", "bool")),
    ("iam_trust_statement-merge-not-bool", "iam_trust_statement", {"merge": "maybe"}, ("merge", "bool")),
    ("iam_trust_statement-path-form", "iam_trust_statement", {"path": "no-slashes"}, ("path", "is not an IAM path", "/some/path/")),
    ("iam_trust_statement-path-differs-from-arn", "iam_trust_statement",
     {"iam_role_name": DROP, "iam_role_arn": "arn:aws:iam::123456789012:role/team/x", "path": "/other/"}, ("path", "iam_role_arn")),
    ("iam_trust_statement-tags-not-dict", "iam_trust_statement", {"tags": "not-a-dict"}, ("tags", "dict")),
]


@pytest.fixture(autouse=True)
def no_atlas_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the options under test count: no credential or project may come from the environment."""
    for name in ("MONGODB_ATLAS_PUBLIC_API_KEY", "MONGODB_ATLAS_PUBLIC_KEY", "MONGODB_ATLAS_PRIVATE_API_KEY",
                 "MONGODB_ATLAS_PRIVATE_KEY", "MONGODB_ATLAS_CLIENT_ID", "MONGODB_ATLAS_CLIENT_SECRET",
                 "MONGODB_ATLAS_PROJECT_ID", "MONGODB_ATLAS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def with_overrides(base: dict, overrides: dict) -> dict:
    args = dict(base)
    for name, value in overrides.items():
        if value is DROP:
            args.pop(name, None)
        else:
            args[name] = value
    return args


def atlas_args(emu: t.Any, module: str, overrides: dict) -> dict:
    base = {"api_public_key": emu.EMU_PUBLIC_KEY, "api_private_key": emu.EMU_PRIVATE_KEY, "base_url": emu.url,
            "project_id": emu.project_id}
    return with_overrides(base, overrides)


def assert_named(result: dict, fragments: tuple[str, ...]) -> None:
    assert result.get("failed") is True, result
    for fragment in fragments:
        assert fragment in result["msg"], (fragment, result["msg"])
    assert "Traceback" not in json.dumps(result)


@pytest.mark.parametrize("module, overrides, fragments", [case[1:] for case in ATLAS_CASES], ids=[case[0] for case in ATLAS_CASES])
def test_bad_atlas_input_fails_before_any_request(atlas_emulator: t.Any, run_module: t.Callable, module: str,
                                                  overrides: dict, fragments: tuple[str, ...]) -> None:
    result = run_module(module, atlas_args(atlas_emulator, module, overrides))
    assert_named(result, fragments)
    assert atlas_emulator.requests == []
    assert atlas_emulator.roles(atlas_emulator.project_id) == []


@pytest.fixture
def iam_role(iam_client: t.Any) -> t.Iterator[str]:
    """An IAM role whose trust policy must come out of every bad-input run unchanged."""
    name = f"bad-input-{uuid.uuid4().hex[:10]}"
    document = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam_client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document))
    yield name
    iam_client.delete_role(RoleName=name)


def iam_state(iam_client: t.Any) -> dict:
    """Every role of moto's account with its trust policy: what "nothing created or changed" compares."""
    return {role["RoleName"]: role["AssumeRolePolicyDocument"] for role in iam_client.list_roles()["Roles"]}


@pytest.mark.parametrize("module, overrides, fragments", [case[1:] for case in AWS_CASES], ids=[case[0] for case in AWS_CASES])
def test_bad_aws_input_fails_before_any_request(moto_server: str, iam_client: t.Any, iam_role: str, run_module: t.Callable,
                                                module: str, overrides: dict, fragments: tuple[str, ...]) -> None:
    before = iam_state(iam_client)
    with IamProxy(moto_server) as proxy:
        base = {"iam_role_name": iam_role, "principal_arn": ATLAS, "endpoint_url": proxy.url}
        if module == "iam_trust_statement":
            base["external_id"] = [str(uuid.uuid4())]
        result = run_module(module, with_overrides(base, overrides))
    assert_named(result, fragments)
    assert proxy.calls == []
    assert iam_state(iam_client) == before


# ---- mistakes only the server can reveal ----------------------------------------------------------------------------

ATLAS_WRITES = {"POST", "PATCH", "DELETE", "PUT"}


def atlas_writes(emu: t.Any) -> list:
    return [entry for entry in emu.requests if entry["method"] in ATLAS_WRITES and entry["path"].startswith("/api/atlas/")]


@pytest.mark.parametrize("module", ATLAS_MODULES)
@pytest.mark.parametrize("state", ["present", "authorized"])
def test_a_project_that_does_not_exist_is_named_and_nothing_is_made(
        atlas_emulator: t.Any, run_module: t.Callable, module: str, state: str) -> None:
    missing = "0123456789abcdef01234567"
    extra = {"state": state, "iam_role_arn": GOOD_ARN} if module == "atlas_access_role" else {}
    result = run_module(module, atlas_args(atlas_emulator, module, dict(extra, project_id=missing)))
    assert_named(result, (f"project_id {missing} was not found", "HTTP 404"))
    assert atlas_writes(atlas_emulator) == []
    assert atlas_emulator.roles(atlas_emulator.project_id) == []


@pytest.mark.parametrize("module", ATLAS_MODULES)
def test_a_project_name_that_does_not_exist_is_named(atlas_emulator: t.Any, run_module: t.Callable, module: str) -> None:
    result = run_module(module, atlas_args(atlas_emulator, module, {"project_id": DROP, "project_name": "no-such-project"}))
    assert_named(result, ("project_name 'no-such-project' was not found",))
    assert atlas_writes(atlas_emulator) == []


def test_an_iam_role_that_does_not_exist_suggests_create_role(moto_server: str, iam_client: t.Any, run_module: t.Callable) -> None:
    before = iam_state(iam_client)
    with IamProxy(moto_server) as proxy:
        result = run_module("iam_trust_statement", {"iam_role_name": "no-such-role", "principal_arn": ATLAS,
                                                    "external_id": [str(uuid.uuid4())], "endpoint_url": proxy.url})
    assert_named(result, ("IAM role no-such-role was not found", "set create_role: true"))
    assert proxy.actions == ["GetRole"]
    assert iam_state(iam_client) == before


INVALID_PRINCIPAL = 'Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/gone"'


def test_a_principal_aws_refuses_gives_its_detail_and_changes_nothing(
        moto_server: str, iam_client: t.Any, iam_role: str, run_module: t.Callable) -> None:
    # moto accepts any principal; AWS refuses one that does not exist, with this answer.
    before = iam_state(iam_client)
    with IamProxy(moto_server, refuse={"UpdateAssumeRolePolicy": ("MalformedPolicyDocument", INVALID_PRINCIPAL)}) as proxy:
        result = run_module("iam_trust_statement", {"iam_role_name": iam_role, "principal_arn": "arn:aws:iam::123456789012:user/gone",
                                                    "external_id": [str(uuid.uuid4())], "endpoint_url": proxy.url})
    assert_named(result, (f"IAM rejected the trust policy of role {iam_role}", INVALID_PRINCIPAL))
    assert proxy.actions == ["GetRole", "UpdateAssumeRolePolicy"]
    assert iam_state(iam_client) == before


def test_a_new_role_aws_refuses_is_not_half_made(moto_server: str, iam_client: t.Any, run_module: t.Callable) -> None:
    before = iam_state(iam_client)
    with IamProxy(moto_server, refuse={"CreateRole": ("MalformedPolicyDocument", INVALID_PRINCIPAL)}) as proxy:
        result = run_module("iam_trust_statement", {"iam_role_name": "refused-new-role", "create_role": True,
                                                    "principal_arn": "arn:aws:iam::123456789012:user/gone",
                                                    "external_id": [str(uuid.uuid4())], "endpoint_url": proxy.url})
    assert_named(result, ("IAM rejected the trust policy of role refused-new-role", INVALID_PRINCIPAL))
    assert proxy.actions == ["GetRole", "CreateRole"]
    assert iam_state(iam_client) == before
