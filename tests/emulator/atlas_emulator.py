#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local MongoDB Atlas Admin API emulator for the cloud provider access operations.

Why it exists: the collection must be tested against a real HTTP server that answers like Atlas (Digest and
service-account auth, versioned media type, ApiError bodies, CANNOT_ASSUME_ROLE until IAM trusts Atlas, slow IAM
propagation, rate limits and dropped connections), without ever reaching cloud.mongodb.com. It judges trust policies
on its own, reading the IAM role from an AWS endpoint (moto's server in tests), so it does not share code with the
collection it checks.

Use it in-process (``AtlasEmulator(...).start()``) or as a process::

    python tests/emulator/atlas_emulator.py --port 0 --aws-endpoint-url http://127.0.0.1:5000

which prints ``ATLAS_EMULATOR_URL=http://127.0.0.1:<port>`` and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

ATLAS_MEDIA_TYPE = "application/vnd.atlas.2023-01-01+json"
ERROR_MEDIA_TYPE = "application/json"  # the contract declares every error response as application/json
API_PREFIX = "/api/atlas/v2"
TOKEN_PATH = "/api/oauth/token"
CONTROL_PREFIX = "/_emulator"
DIGEST_REALM = "MMS Public API"
DEFAULT_ATLAS_AWS_ACCOUNT_ARN = "arn:aws:iam::299602853325:root"
DEFAULT_API_KEYS = {"demo-public-key": "demo-private-key"}
DEFAULT_SERVICE_ACCOUNTS = {"mdb_sa_id_demo": "mdb_sa_sk_demo"}
FEATURE_TYPES = ("ATLAS_DATA_LAKE", "ENCRYPTION_AT_REST", "EXPORT_SNAPSHOT", "PUSH_BASED_LOG_EXPORT", "ATLAS_LOG_INTEGRATION")
CLOUD_PROVIDERS = ("AWS", "AZURE", "GCP")
FAULT_KINDS = ("status", "drop", "commit_then_drop", "delay")
HEX24 = re.compile(r"^[a-f0-9]{24}$")
IAM_ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$")
REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 409: "Conflict", 415: "Unsupported Media Type", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
FAULT_ERROR_CODES = {
    429: "RATE_LIMITED", 500: "UNEXPECTED_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT",
}


def _utc_now_iso() -> str:
    """Atlas writes dates as second-precision UTC with a Z suffix."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_object_id() -> str:
    """A 24-hex id shaped like a MongoDB ObjectId (time first), as Atlas ids are."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"


class ApiError(Exception):
    """An Atlas error answer: HTTP status plus the ApiError body Atlas sends."""

    def __init__(self, status: int, error_code: str, detail: str, parameters: list[Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {error_code}: {detail}")
        self.status = status
        self.error_code = error_code
        self.detail = detail
        self.parameters = list(parameters or [])
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """Atlas's ApiError layout (parameters are plain strings, as real Atlas sends them)."""
        return {"detail": self.detail, "error": self.status, "errorCode": self.error_code,
                "parameters": self.parameters, "reason": REASONS.get(self.status, "Error")}


def cannot_assume_role(arn: str) -> ApiError:
    """The exact error Atlas answers while AWS does not (yet) let it assume the role."""
    return ApiError(400, "CANNOT_ASSUME_ROLE", f"Atlas cannot assume the specified role ({arn}).", [arn])


# --------------------------------------------------------------------------------------------------------------------
# Trust policy judgement (independent of the collection's own policy code on purpose: this is the referee)
# --------------------------------------------------------------------------------------------------------------------

def _as_list(value: Any) -> list[Any]:
    """IAM lets most policy elements be a single value or a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_policy_document(document: Any) -> dict[str, Any]:
    """IAM returns trust policies URL-encoded; botocore or moto may already have decoded them into a dict."""
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        raise ValueError("policy document is neither a JSON object nor a string")
    try:
        parsed = json.loads(document)
    except ValueError:
        parsed = json.loads(urllib.parse.unquote(document))
    if not isinstance(parsed, dict):
        raise ValueError("policy document is not a JSON object")
    return parsed


def _account_of(principal: str) -> str | None:
    """The 12-digit account a principal names when it is an account id or an account root ARN."""
    if re.fullmatch(r"\d{12}", principal):
        return principal
    match = re.fullmatch(r"arn:aws[a-z-]*:iam::(\d{12}):root", principal)
    return match.group(1) if match else None


def principal_matches(principal: Any, atlas_arn: str) -> bool:
    """True when the statement's Principal names Atlas's AWS account (":root" ARN and bare account id are equal)."""
    if not isinstance(principal, dict):
        return False
    wanted_account = _account_of(atlas_arn)
    for value in _as_list(principal.get("AWS")):
        if not isinstance(value, str):
            continue
        if value == atlas_arn or (wanted_account is not None and _account_of(value) == wanted_account):
            return True
    return False


def action_allows_assume_role(action: Any) -> bool:
    """IAM action names are case-insensitive and may use wildcards ("sts:*", "*")."""
    return any(isinstance(item, str) and fnmatchcase("sts:assumerole", item.lower()) for item in _as_list(action))


def _external_id_values(condition: Any) -> list[Any] | None:
    """The sts:ExternalId values of a condition that holds nothing else, else None (other conditions cannot be met)."""
    if not isinstance(condition, dict) or set(condition) != {"StringEquals"}:
        return None
    block = condition["StringEquals"]
    if not isinstance(block, dict) or len(block) != 1:
        return None
    key, values = next(iter(block.items()))
    if key.lower() != "sts:externalid":
        return None
    return _as_list(values)


def statement_grants(statement: Any, atlas_arn: str, external_id: str) -> bool:
    """An Allow statement lets Atlas (principal) sts:AssumeRole when it presents exactly this external id."""
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    if not action_allows_assume_role(statement.get("Action")) or not principal_matches(statement.get("Principal"), atlas_arn):
        return False
    values = _external_id_values(statement.get("Condition"))
    return values is not None and external_id in values


def _statement_denies(statement: Any, atlas_arn: str, external_id: str) -> bool:
    """A Deny statement wins over any Allow; only unconditional ones or ones keyed on this external id are judged."""
    if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if not (principal == "*" or principal_matches(principal, atlas_arn)
            or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))):
        return False
    if not action_allows_assume_role(statement.get("Action")):
        return False
    if "Condition" not in statement:
        return True
    values = _external_id_values(statement.get("Condition"))
    return values is not None and external_id in values


def trust_policy_allows(document: Any, atlas_arn: str, external_id: str) -> bool:
    """Would AWS let Atlas assume a role with this trust policy, presenting this external id?"""
    try:
        policy = parse_policy_document(document)
    except ValueError:
        return False
    statements = _as_list(policy.get("Statement"))
    if any(_statement_denies(statement, atlas_arn, external_id) for statement in statements):
        return False
    return any(statement_grants(statement, atlas_arn, external_id) for statement in statements)


_IAM_CLIENTS: dict[str, Any] = {}
_IAM_CLIENTS_LOCK = threading.Lock()


def _iam_client(endpoint_url: str) -> Any:
    """One IAM client per endpoint, made on first use: building a botocore client costs a noticeable fraction of a
    second, which every emulator in a test run would otherwise pay. botocore clients are thread-safe."""
    with _IAM_CLIENTS_LOCK:
        if endpoint_url not in _IAM_CLIENTS:
            _IAM_CLIENTS[endpoint_url] = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1",
            ).client("iam", endpoint_url=endpoint_url, config=BotoConfig(retries={"max_attempts": 2}))
        return _IAM_CLIENTS[endpoint_url]


# --------------------------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------------------------

@dataclass
class Fault:
    """One injected failure for the next `count` requests matching method and path."""

    method: str
    path_regex: str
    kind: str
    count: int = 1
    status: int | None = None
    retry_after: int | float | None = None
    body: dict[str, Any] | None = None
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {self.kind!r}")
        if self.kind == "status" and self.status is None:
            raise ValueError("a 'status' fault needs a status")
        if self.kind == "delay" and self.retry_after is None:
            raise ValueError("a 'delay' fault needs retry_after (the seconds to sleep)")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        self.method = self.method.upper()
        self.pattern = re.compile(self.path_regex)

    def matches(self, method: str, path: str) -> bool:
        """'*' matches every method."""
        return self.method in ("*", method) and self.pattern.search(path) is not None

    def error(self) -> ApiError:
        """The error a 'status' fault answers, with Retry-After when asked."""
        status = int(self.status or 500)
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        error = ApiError(status, FAULT_ERROR_CODES.get(status, "UNEXPECTED_ERROR"),
                         "Injected by the Atlas emulator.", [], headers)
        return error


@dataclass
class _Reply:
    """What the handler writes back."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = ATLAS_MEDIA_TYPE


class _Drop(Exception):
    """Close the connection without answering."""


class AtlasEmulator:
    """The emulator: Atlas state, auth, faults and the HTTP server around them."""

    def __init__(self, aws_endpoint_url: str, propagation_delay: float = 0.0, api_keys: dict[str, str] | None = None,
                 service_accounts: dict[str, str] | None = None, host: str = "127.0.0.1", port: int = 0,
                 token_ttl: int = 3600, ssl_context: ssl.SSLContext | None = None,
                 atlas_aws_account_arn: str = DEFAULT_ATLAS_AWS_ACCOUNT_ARN) -> None:
        self.aws_endpoint_url = aws_endpoint_url
        self.propagation_delay = float(propagation_delay)
        self.api_keys = dict(api_keys if api_keys is not None else {})
        self.service_accounts = dict(service_accounts if service_accounts is not None else {})
        self.host = host
        self.port = port
        self.token_ttl = token_ttl
        self.ssl_context = ssl_context
        self.atlas_aws_account_arn = atlas_aws_account_arn
        self.org_id = new_object_id()
        self.url = ""
        self._lock = threading.RLock()
        self._projects: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, float] = {}
        self._issued_tokens: list[str] = []
        self._nonces: set[str] = set()
        self._faults: list[Fault] = []
        self._requests: list[dict[str, Any]] = []
        self._trust_seen: dict[tuple[str, str], float] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Serve in a background thread; `url` is set once the port is bound."""
        server = ThreadingHTTPServer((self.host, self.port), _make_handler(self))
        server.daemon_threads = True
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        self._server = server
        bound_host, bound_port = server.server_address[:2]
        scheme = "https" if self.ssl_context is not None else "http"
        self.url = f"{scheme}://{bound_host}:{bound_port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="atlas-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> AtlasEmulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- test controls ----------------------------------------------------------------------------------------------

    def create_project(self, name: str, project_id: str | None = None) -> str:
        """Add a project (Atlas "group"); returns its 24-hex id."""
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            raise ValueError("project name must be 1 to 64 characters")
        if project_id is not None and not HEX24.match(project_id):
            raise ValueError("project id must be 24 lowercase hex digits")
        with self._lock:
            if any(project["name"] == name for project in self._projects.values()):
                raise ValueError(f"a project named {name!r} exists already")
            project_id = project_id or new_object_id()
            if project_id in self._projects:
                raise ValueError(f"a project with id {project_id} exists already")
            self._projects[project_id] = {"id": project_id, "name": name, "created": _utc_now_iso(), "roles": {}}
            return project_id

    def set_feature_usages(self, project_id: str, role_id: str, usages: list[dict[str, Any]]) -> None:
        """Pretend Atlas features use a role (what deauthorize guards must notice)."""
        for usage in usages:
            if not isinstance(usage, dict) or usage.get("featureType") not in FEATURE_TYPES:
                raise ValueError(f"each usage needs featureType, one of {', '.join(FEATURE_TYPES)}")
        with self._lock:
            role = self._project(project_id)["roles"].get(role_id)
            if role is None:
                raise KeyError(f"no role {role_id} in project {project_id}")
            role["featureUsages"] = [
                {"featureType": usage["featureType"], "featureId": usage.get("featureId")} for usage in usages
            ]

    def add_fault(self, method: str, path_regex: str, kind: str, count: int = 1, status: int | None = None,
                  retry_after: int | None = None, body: dict[str, Any] | None = None) -> None:
        """Make the next `count` matching authenticated requests fail in the given way."""
        fault = Fault(method, path_regex, kind, count, status, retry_after, body)
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Forget every fault not used up yet."""
        with self._lock:
            self._faults.clear()

    def expire_tokens(self) -> None:
        """Every bearer token issued so far stops working, as when one outlives its hour."""
        with self._lock:
            self._tokens.clear()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log (control calls under /_emulator are not logged)."""
        with self._lock:
            return [dict(entry) for entry in self._requests]

    @property
    def issued_tokens(self) -> list[str]:
        """Every bearer token issued so far, expired ones too. Tests only: they grep a run's output for them, which
        the request log cannot serve (it redacts tokens so that it can be printed)."""
        with self._lock:
            return list(self._issued_tokens)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._requests.clear()

    def roles(self, project_id: str) -> list[dict[str, Any]]:
        """The project's AWS roles, in API shape."""
        with self._lock:
            return [json.loads(json.dumps(role)) for role in self._project(project_id)["roles"].values()]

    # ---- internals used by the handler -----------------------------------------------------------------------------

    def _project(self, project_id: str) -> dict[str, Any]:
        project = self._projects.get(project_id)
        if project is None:
            raise KeyError(f"no project {project_id}")
        return project

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def _new_nonce(self) -> str:
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces.add(nonce)
        return nonce

    def _issue_token(self) -> str:
        token = "emu_" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_ttl
            self._issued_tokens.append(token)
        return token

    def _token_valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._tokens.get(token)
            return expiry is not None and time.monotonic() < expiry

    def _iam_trusts_atlas(self, arn: str, role: dict[str, Any]) -> bool:
        """Read the IAM role's trust policy from AWS and judge it; a missing or foreign role is not trusted."""
        role_name = arn.rsplit("/", 1)[-1]
        try:
            iam_role = _iam_client(self.aws_endpoint_url).get_role(RoleName=role_name)["Role"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return False
            raise
        if iam_role.get("Arn") != arn:
            return False
        return trust_policy_allows(iam_role.get("AssumeRolePolicyDocument"), role["atlasAWSAccountArn"],
                                   role["atlasAssumedRoleExternalId"])

    def _propagated(self, role_id: str, arn: str, trusted: bool) -> bool:
        """IAM is eventually consistent: a valid policy only counts once it has been seen valid long enough."""
        key = (role_id, arn)
        now = time.monotonic()
        with self._lock:
            if not trusted:
                self._trust_seen.pop(key, None)
                return False
            first_seen = self._trust_seen.setdefault(key, now)
            return now - first_seen >= self.propagation_delay


# --------------------------------------------------------------------------------------------------------------------
# Atlas API operations
# --------------------------------------------------------------------------------------------------------------------

def _group(emu: AtlasEmulator, group_id: str) -> dict[str, Any]:
    """The project for a path id, or the errors Atlas gives for a malformed or unknown one."""
    if not HEX24.match(group_id):
        raise ApiError(400, "INVALID_GROUP_ID", f"An invalid group ID {group_id} was specified.", [group_id])
    project = emu._projects.get(group_id)
    if project is None:
        raise ApiError(404, "GROUP_NOT_FOUND", f"No group with ID {group_id} exists.", [group_id])
    return project


def _role(project: dict[str, Any], role_id: str) -> dict[str, Any]:
    if not HEX24.match(role_id):
        raise ApiError(400, "INVALID_ATTRIBUTE", "Invalid attribute roleId specified.", ["roleId"])
    role = project["roles"].get(role_id)
    if role is None:
        raise ApiError(404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND",
                       f"No cloud provider access role with ID {role_id} exists in group {project['id']}.", [role_id])
    return role


def _json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_JSON", "The request body must be a JSON object.", [])
    return body


def _check_attributes(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Atlas refuses attributes it does not know."""
    for name in body:
        if name not in allowed:
            raise ApiError(400, "INVALID_ATTRIBUTE", f"Invalid attribute {name} specified.", [name])


def _provider_name(body: dict[str, Any]) -> str:
    provider = body.get("providerName")
    if provider is None:
        raise ApiError(400, "MISSING_ATTRIBUTE", "The required attribute providerName was not specified.", ["providerName"])
    if provider not in CLOUD_PROVIDERS:
        raise ApiError(400, "INVALID_ENUM_VALUE", f"An invalid enumeration value {provider} was specified.", [str(provider)])
    if provider != "AWS":
        raise ApiError(400, "CLOUD_PROVIDER_NOT_SUPPORTED",
                       f"The Atlas emulator only serves AWS roles, not {provider}.", [provider])
    return provider


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def op_list(emu: AtlasEmulator, groups: tuple[str, ...], body: Any, base_url: str) -> _Reply:
    with emu._lock:
        project = _group(emu, groups[0])
        roles = _copy(list(project["roles"].values()))
    return _Reply(200, {"awsIamRoles": roles, "azureServicePrincipals": [], "gcpServiceAccounts": []})


def op_create(emu: AtlasEmulator, groups: tuple[str, ...], body: Any, base_url: str) -> _Reply:
    body = _json_object(body)
    _check_attributes(body, ("providerName",))
    _provider_name(body)
    with emu._lock:
        project = _group(emu, groups[0])
        role_id = new_object_id()
        while role_id in project["roles"]:
            role_id = new_object_id()
        role = {
            "atlasAWSAccountArn": emu.atlas_aws_account_arn,
            "atlasAssumedRoleExternalId": str(uuid.uuid4()),
            "authorizedDate": None,
            "createdDate": _utc_now_iso(),
            "featureUsages": [],
            "iamAssumedRoleArn": None,
            "providerName": "AWS",
            "roleId": role_id,
        }
        project["roles"][role_id] = role
        return _Reply(200, _copy(role))


def op_get(emu: AtlasEmulator, groups: tuple[str, ...], body: Any, base_url: str) -> _Reply:
    with emu._lock:
        return _Reply(200, _copy(_role(_group(emu, groups[0]), groups[1])))


def op_authorize(emu: AtlasEmulator, groups: tuple[str, ...], body: Any, base_url: str) -> _Reply:
    group_id, role_id = groups
    with emu._lock:
        role = _copy(_role(_group(emu, group_id), role_id))
    body = _json_object(body)
    _check_attributes(body, ("providerName", "iamAssumedRoleArn", "atlasAWSAccountArn", "atlasAssumedRoleExternalId",
                             "authorizedDate", "createdDate", "featureUsages", "roleId"))
    _provider_name(body)
    arn = body.get("iamAssumedRoleArn")
    if arn is None:
        raise ApiError(400, "MISSING_ATTRIBUTE", "The required attribute iamAssumedRoleArn was not specified.",
                       ["iamAssumedRoleArn"])
    if not isinstance(arn, str) or not IAM_ROLE_ARN.match(arn):
        raise ApiError(400, "INVALID_ATTRIBUTE", "Invalid attribute iamAssumedRoleArn specified.", ["iamAssumedRoleArn"])
    trusted = emu._iam_trusts_atlas(arn, role)
    if not emu._propagated(role_id, arn, trusted):
        raise cannot_assume_role(arn)
    with emu._lock:
        current = _role(_group(emu, group_id), role_id)
        if current.get("iamAssumedRoleArn") != arn or current.get("authorizedDate") is None:
            current["iamAssumedRoleArn"] = arn
            current["authorizedDate"] = _utc_now_iso()
        return _Reply(200, _copy(current))


def op_deauthorize(emu: AtlasEmulator, groups: tuple[str, ...], body: Any, base_url: str) -> _Reply:
    group_id, provider, role_id = groups
    if provider not in CLOUD_PROVIDERS:
        raise ApiError(400, "INVALID_ENUM_VALUE", f"An invalid enumeration value {provider} was specified.", [provider])
    with emu._lock:
        project = _group(emu, group_id)
        role = _role(project, role_id)
        if role["providerName"] != provider:
            raise ApiError(404, "CLOUD_PROVIDER_ACCESS_ROLE_NOT_FOUND",
                           f"No cloud provider access role with ID {role_id} exists in group {group_id}.", [role_id])
        # Atlas does not document refusing while features use the role: the emulator removes it regardless,
        # so that only the client's own guard can protect users.
        del project["roles"][role_id]
        for key in [key for key in emu._trust_seen if key[0] == role_id]:
            del emu._trust_seen[key]
    return _Reply(204)


def op_group_by_name(emu: AtlasEmulator, groups: tuple[str, ...], body: Any, base_url: str) -> _Reply:
    name = urllib.parse.unquote(groups[0])
    with emu._lock:
        for project in emu._projects.values():
            if project["name"] == name:
                return _Reply(200, {
                    "clusterCount": 0,
                    "created": project["created"],
                    "id": project["id"],
                    "links": [{"href": f"{base_url}{API_PREFIX}/groups/{project['id']}", "rel": "self"}],
                    "name": project["name"],
                    "orgId": emu.org_id,
                    "tags": [],
                    "withDefaultAlertsSettings": True,
                })
    raise ApiError(404, "GROUP_NAME_NOT_FOUND", f'No group with name "{name}" exists.', [name])


Operation = Callable[[AtlasEmulator, "tuple[str, ...]", Any, str], _Reply]
ROUTES: list[tuple[str, re.Pattern[str], Operation]] = [
    ("GET", re.compile(r"^/groups/byName/([^/]+)$"), op_group_by_name),
    ("GET", re.compile(r"^/groups/([^/]+)/cloudProviderAccess$"), op_list),
    ("POST", re.compile(r"^/groups/([^/]+)/cloudProviderAccess$"), op_create),
    ("GET", re.compile(r"^/groups/([^/]+)/cloudProviderAccess/([^/]+)$"), op_get),
    ("PATCH", re.compile(r"^/groups/([^/]+)/cloudProviderAccess/([^/]+)$"), op_authorize),
    ("DELETE", re.compile(r"^/groups/([^/]+)/cloudProviderAccess/([^/]+)/([^/]+)$"), op_deauthorize),
]


def _route(method: str, api_path: str) -> tuple[Operation, tuple[str, ...]]:
    """The operation for a path under /api/atlas/v2, or Atlas's 404/405."""
    path_matched = False
    for route_method, pattern, operation in ROUTES:
        match = pattern.match(api_path)
        if match is None:
            continue
        path_matched = True
        if route_method == method:
            return operation, match.groups()
    if path_matched:
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"Method {method} is not allowed for this resource.", [method])
    raise ApiError(404, "RESOURCE_NOT_FOUND", f"Cannot find resource {API_PREFIX}{api_path}.", [])


# --------------------------------------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------------------------------------

_DIGEST_FIELD = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def parse_digest_header(value: str) -> dict[str, str]:
    """The key=value fields of an `Authorization: Digest ...` header."""
    return {match.group(1).lower(): match.group(2) if match.group(2) is not None else match.group(3)
            for match in _DIGEST_FIELD.finditer(value)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # nosec - RFC 7616 MD5 digest, as Atlas uses


def digest_response_ok(fields: dict[str, str], method: str, password: str) -> bool:
    """RFC 7616 with MD5 and qop=auth (also the RFC 2069 form without qop)."""
    ha1 = _md5(f"{fields.get('username', '')}:{DIGEST_REALM}:{password}")
    ha2 = _md5(f"{method}:{fields.get('uri', '')}")
    if fields.get("qop"):
        if fields["qop"] != "auth":
            return False
        expected = _md5(f"{ha1}:{fields.get('nonce', '')}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}")
    else:
        expected = _md5(f"{ha1}:{fields.get('nonce', '')}:{ha2}")
    return hmac.compare_digest(expected, fields.get("response", ""))


def _unauthorized(emu: AtlasEmulator, detail: str, challenge: str = "digest") -> ApiError:
    if challenge == "digest":
        header = f'Digest realm="{DIGEST_REALM}", domain="", nonce="{emu._new_nonce()}", algorithm=MD5, qop="auth", stale=false'
    else:
        header = f'Bearer realm="{DIGEST_REALM}", error="invalid_token"'
    return ApiError(401, "UNAUTHORIZED", detail, [], {"WWW-Authenticate": header})


def authenticate_api(emu: AtlasEmulator, method: str, raw_path: str, authorization: str | None) -> str:
    """Who is calling (API key or service account), or a 401 carrying the challenge a client needs."""
    if not authorization:
        raise _unauthorized(emu, "You are not authorized for this resource.")
    scheme, credentials = (authorization.split(" ", 1) + [""])[:2]
    if scheme.lower() == "digest":
        fields = parse_digest_header(credentials)
        username = fields.get("username", "")
        password = emu.api_keys.get(username)
        with emu._lock:
            nonce_known = fields.get("nonce") in emu._nonces
        if (password is None or not nonce_known or fields.get("realm") != DIGEST_REALM
                or fields.get("uri") != raw_path or fields.get("algorithm", "MD5").upper() != "MD5"
                or not digest_response_ok(fields, method, password)):
            raise _unauthorized(emu, "You are not authorized for this resource.")
        return username
    if scheme.lower() == "bearer":
        if not emu._token_valid(credentials.strip()):
            raise _unauthorized(emu, "The access token is invalid or has expired.", challenge="bearer")
        return "service-account"
    raise _unauthorized(emu, "You are not authorized for this resource.")


class _OAuthError(Exception):
    """RFC 6749 token endpoint error."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.reply = _Reply(status, {"error": error, "error_description": description},
                            {"WWW-Authenticate": 'Basic realm="Atlas"'} if status == 401 else {}, ERROR_MEDIA_TYPE)


def authenticate_client(emu: AtlasEmulator, authorization: str | None) -> str:
    """Service-account client credentials from `Authorization: Basic`, as the Atlas token endpoint takes them."""
    scheme, encoded = ((authorization or "").split(" ", 1) + [""])[:2]
    if scheme.lower() != "basic":
        raise _OAuthError(401, "invalid_client", "Client authentication with HTTP Basic is required.")
    try:
        client_id, secret = (base64.b64decode(encoded.strip(), validate=True).decode("utf-8").split(":", 1) + [""])[:2]
    except (binascii.Error, UnicodeDecodeError):
        raise _OAuthError(401, "invalid_client", "Malformed Basic credentials.") from None
    expected = emu.service_accounts.get(client_id)
    if expected is None or not hmac.compare_digest(expected, secret):
        raise _OAuthError(401, "invalid_client", "Invalid client credentials.")
    return client_id


def issue_token(emu: AtlasEmulator, content_type: str, raw_body: bytes) -> _Reply:
    """The client-credentials grant."""
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise _OAuthError(400, "invalid_request", "The body must be application/x-www-form-urlencoded.")
    form = urllib.parse.parse_qs(raw_body.decode("utf-8", "replace"))
    if form.get("grant_type") != ["client_credentials"]:
        raise _OAuthError(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    return _Reply(200, {"access_token": emu._issue_token(), "token_type": "Bearer", "expires_in": emu.token_ttl},
                  {"Cache-Control": "no-store"}, "application/json")


def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def check_media_types(method: str, accept: str | None, content_type: str | None, has_body: bool) -> None:
    """Atlas versions its API by media type: the client must ask for, and send, the 2023-01-01 version."""
    accepted = [_media_type(item) for item in (accept or "").split(",")]
    if ATLAS_MEDIA_TYPE not in accepted:
        raise ApiError(406, "INVALID_VERSION_DATE",
                       f"Invalid accept header or version date: send Accept: {ATLAS_MEDIA_TYPE}.", [accept or ""])
    if method in ("POST", "PATCH", "PUT") or has_body:
        if _media_type(content_type) != ATLAS_MEDIA_TYPE:
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE",
                           f"Unsupported content type {content_type or '(none)'}: send Content-Type: {ATLAS_MEDIA_TYPE}.",
                           [content_type or ""])


# --------------------------------------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------------------------------------

def _redacted_headers(headers: Any) -> dict[str, str]:
    """Request headers for the log, with credentials reduced to their scheme."""
    result: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            value = value.split(" ", 1)[0]
        result[name] = value
    return result


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _make_handler(emu: AtlasEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        emulator = emu
    return Handler


class _Handler(BaseHTTPRequestHandler):
    """One request: control API, token endpoint, or the Atlas API (auth, faults, media types, operation)."""

    protocol_version = "HTTP/1.1"
    server_version = "AtlasEmulator/1.0"
    emulator: AtlasEmulator

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the request log is the record."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _dispatch(self) -> None:
        emu = self.emulator
        method = self.command
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length > 0 else b""
        if path.startswith(CONTROL_PREFIX + "/"):
            self._send(self._control(method, path, raw_body))
            return
        entry: dict[str, Any] = {
            "method": method, "path": path, "query": dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
            "headers": _redacted_headers(self.headers), "body": _parse_json(raw_body),
            "status": None, "response_body": None, "response_headers": {}, "fault": None,
        }
        try:
            reply = self._serve(method, path, split.query, raw_body, entry)
        except _Drop:
            emu._log(entry)
            self.close_connection = True
            return
        entry["status"] = reply.status
        entry["response_body"] = _copy(reply.body) if reply.body is not None else None
        if isinstance(entry["response_body"], dict) and "access_token" in entry["response_body"]:
            entry["response_body"]["access_token"] = "<redacted>"  # the log may be printed: never a live secret in it
        entry["response_headers"] = dict(reply.headers, **({"Content-Type": reply.content_type} if reply.body is not None else {}))
        emu._log(entry)
        self._send(reply)

    def _serve(self, method: str, path: str, query: str, raw_body: bytes, entry: dict[str, Any]) -> _Reply:
        emu = self.emulator
        base_url = emu.url or f"http://{self.headers.get('Host', '')}"
        try:
            if path == TOKEN_PATH and method == "POST":
                authenticate_client(emu, self.headers.get("Authorization"))
                operation: Callable[[], _Reply] = functools.partial(issue_token, emu, self.headers.get("Content-Type", ""), raw_body)
            elif path.startswith(API_PREFIX + "/"):
                authenticate_api(emu, method, self.path, self.headers.get("Authorization"))
                check_media_types(method, self.headers.get("Accept"), self.headers.get("Content-Type"), bool(raw_body))
                handler, groups = _route(method, path[len(API_PREFIX):])
                body = _parse_json(raw_body)
                if raw_body and body is None:
                    raise ApiError(400, "INVALID_JSON", "The request body is not valid JSON.", [])
                operation = functools.partial(handler, emu, groups, body, base_url)
            else:
                raise ApiError(404, "RESOURCE_NOT_FOUND", f"Cannot find resource {path}.", [])
            fault = emu._take_fault(method, path)
            if fault is not None:
                entry["fault"] = fault.kind
                return self._with_fault(fault, operation)
            return operation()
        except ApiError as error:
            return _Reply(error.status, error.body(), error.headers, ERROR_MEDIA_TYPE)
        except _OAuthError as error:
            return error.reply
        except _Drop:
            raise
        # An emulator bug must still answer like Atlas does, not hang the client.
        except Exception as error:  # pylint: disable=broad-exception-caught
            return _Reply(500, ApiError(500, "UNEXPECTED_ERROR", f"Unexpected error: {type(error).__name__}: {error}").body(),
                          {}, ERROR_MEDIA_TYPE)

    def _with_fault(self, fault: Fault, operation: Callable[[], _Reply]) -> _Reply:
        if fault.kind == "drop":
            raise _Drop()
        if fault.kind == "commit_then_drop":
            try:
                operation()
            except (ApiError, _OAuthError):
                pass
            raise _Drop()
        if fault.kind == "delay":
            time.sleep(float(fault.retry_after or 0))
            return operation()
        error = fault.error()
        body = fault.body if fault.body is not None else error.body()
        return _Reply(error.status, body, error.headers, ERROR_MEDIA_TYPE)

    def _send(self, reply: _Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.body is not None:
            self.send_header("Content-Type", reply.content_type)
        if reply.status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    # ---- control API (tests only; unauthenticated) ---------------------------------------------------------------

    def _control(self, method: str, path: str, raw_body: bytes) -> _Reply:
        emu = self.emulator
        body = _parse_json(raw_body)
        sub = path[len(CONTROL_PREFIX):]
        try:
            if (method, sub) == ("GET", "/health"):
                return _Reply(200, {"status": "ok"}, content_type="application/json")
            if (method, sub) == ("POST", "/projects"):
                body = body or {}
                return _Reply(201, {"id": emu.create_project(body.get("name"), body.get("id"))},
                              content_type="application/json")
            match = re.fullmatch(r"/groups/([^/]+)/roles", sub)
            if match and method == "GET":
                return _Reply(200, emu.roles(match.group(1)), content_type="application/json")
            match = re.fullmatch(r"/groups/([^/]+)/roles/([^/]+)/featureUsages", sub)
            if match and method == "PUT":
                emu.set_feature_usages(match.group(1), match.group(2), body if isinstance(body, list) else [])
                return _Reply(204)
            if (method, sub) == ("POST", "/faults"):
                if not isinstance(body, dict):
                    raise ValueError("a fault is a JSON object")
                emu.add_fault(**body)
                return _Reply(201, {"faults": len(emu._faults)}, content_type="application/json")
            if (method, sub) == ("DELETE", "/faults"):
                emu.clear_faults()
                return _Reply(204)
            if (method, sub) == ("POST", "/tokens/expire"):
                emu.expire_tokens()
                return _Reply(204)
            if (method, sub) == ("GET", "/requests"):
                return _Reply(200, emu.requests, content_type="application/json")
            if (method, sub) == ("DELETE", "/requests"):
                emu.clear_requests()
                return _Reply(204)
            if (method, sub) == ("PUT", "/settings"):
                if isinstance(body, dict) and "propagation_delay" in body:
                    emu.propagation_delay = float(body["propagation_delay"])
                return _Reply(200, {"propagation_delay": emu.propagation_delay}, content_type="application/json")
        except (KeyError, ValueError, TypeError) as error:
            return _Reply(400, {"error": str(error)}, content_type="application/json")
        return _Reply(404, {"error": f"no control operation {method} {path}"}, content_type="application/json")


# --------------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------------

def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for value in values or []:
        key, sep, secret = value.partition(":")
        if not sep or not key or not secret:
            raise SystemExit(f"{option} expects ID:SECRET, got {value!r}")
        result[key] = secret
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the emulator as a process until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description="Atlas Admin API emulator (cloud provider access) for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--aws-endpoint-url", required=True, help="IAM endpoint to read trust policies from (moto)")
    parser.add_argument("--propagation-delay", type=float, default=0.0, help="seconds a valid trust policy takes to count")
    parser.add_argument("--api-key", action="append", metavar="PUBLIC:PRIVATE")
    parser.add_argument("--service-account", action="append", metavar="CLIENT_ID:SECRET")
    parser.add_argument("--project", action="append", default=[], metavar="NAME[=ID]")
    parser.add_argument("--atlas-aws-account-arn", default=DEFAULT_ATLAS_AWS_ACCOUNT_ARN)
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--state-file", help="accepted for compatibility; state is not persisted")
    args = parser.parse_args(argv)
    api_keys = _pairs(args.api_key, "--api-key")
    service_accounts = _pairs(args.service_account, "--service-account")
    if not api_keys and not service_accounts:
        api_keys, service_accounts = dict(DEFAULT_API_KEYS), dict(DEFAULT_SERVICE_ACCOUNTS)
    emu = AtlasEmulator(args.aws_endpoint_url, args.propagation_delay, api_keys, service_accounts, args.host, args.port,
                        args.token_ttl, atlas_aws_account_arn=args.atlas_aws_account_arn)
    for project in args.project:
        name, project_id = (project.split("=", 1) + [""])[:2]
        created = emu.create_project(name, project_id or None)
        print(f"project {name} = {created}", file=sys.stderr, flush=True)
    stopped = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:  # pylint: disable=unused-argument
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emu.start()
    print(f"ATLAS_EMULATOR_URL={emu.url}", flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    sys.exit(main())
