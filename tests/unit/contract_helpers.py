# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check logged Atlas exchanges against the official OpenAPI contract.

Why: the emulator and the client are both ours, so they could agree on a mistake. Holding every request the client
sends, and every answer the emulator gives, against MongoDB's own spec keeps both honest. Only the deviations that real
Atlas is documented to make are tolerated (see ``tolerant_spec``).
"""

from __future__ import annotations

import copy
import json
import re
import typing as t
import warnings

ATLAS_MEDIA_TYPE = "application/vnd.atlas.2023-01-01+json"
TOKEN_PATH = "/api/oauth/token"
SERVER_URL = "https://cloud.mongodb.com"
NULLABLE_IN_REAL_LIFE = ("authorizedDate", "iamAssumedRoleArn")

_CACHE: dict[int, tuple[t.Any, t.Any, dict]] = {}


def _spec_dict(contract: t.Any) -> dict:
    """Accept the conftest fixture (``.spec``), a spec dict, or an openapi_core.OpenAPI."""
    if isinstance(contract, dict):
        return contract
    if isinstance(getattr(contract, "spec", None), dict):
        return contract.spec
    spec = getattr(contract, "spec", None)
    if spec is not None and hasattr(spec, "contents"):
        return spec.contents()
    raise TypeError("contract must be the `contract` fixture, a spec dict or an openapi_core.OpenAPI")


def tolerant_spec(spec: dict) -> dict:
    """The contract plus the two deviations real Atlas is documented to make, and nothing else.

    1. An unauthorized AWS role carries ``"authorizedDate": null`` and ``"iamAssumedRoleArn": null``.
    2. ApiError ``parameters`` are plain strings, not objects.
    """
    patched = copy.deepcopy(spec)

    def walk(node: t.Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                for name in NULLABLE_IN_REAL_LIFE:
                    if isinstance(properties.get(name), dict):
                        properties[name]["nullable"] = True
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(patched.get("components", {}).get("schemas", {}))
    parameters = patched["components"]["schemas"]["ApiError"]["properties"]["parameters"]
    parameters["items"] = {"anyOf": [{"type": "object"}, {"type": "string"}]}
    return patched


def _prepared(contract: t.Any) -> tuple[t.Any, dict]:
    """(tolerant OpenAPI, tolerant spec), built once per contract object (kept alive in the cache so ids stay unique)."""
    key = id(contract)
    if key not in _CACHE:
        from openapi_core import Config, OpenAPI

        spec = tolerant_spec(_spec_dict(contract))
        # openapi-core only knows plain JSON media types; Atlas's versioned one is JSON too.
        config = Config(extra_media_type_deserializers={ATLAS_MEDIA_TYPE: json.loads})
        _CACHE[key] = (OpenAPI.from_dict(spec, config=config), contract, spec)
    openapi, _kept_alive, spec = _CACHE[key]
    return openapi, spec


def schema_errors(contract: t.Any, schema_name: str, instance: t.Any) -> list[str]:
    """Validate a value against one named component schema of the tolerant contract (OpenAPI 3.0 dialect)."""
    from openapi_schema_validator import OAS30Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    spec = _prepared(contract)[1]
    registry = Registry().with_resource("urn:contract", Resource(contents=spec, specification=DRAFT4))
    validator = OAS30Validator({"$ref": f"urn:contract#/components/schemas/{schema_name}"}, registry=registry,
                               format_checker=OAS30Validator.FORMAT_CHECKER)
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
            for error in validator.iter_errors(instance)]


def assert_api_error(contract: t.Any, body: t.Any, status: int | None = None, error_code: str | None = None) -> None:
    """An error body is Atlas's ApiError (tolerant), with the status and code expected."""
    errors = schema_errors(contract, "ApiError", body)
    assert not errors, f"not an ApiError: {errors}: {body!r}"
    for name in ("detail", "reason"):
        assert isinstance(body.get(name), str) and body[name], f"ApiError without {name}: {body!r}"
    assert all(isinstance(item, str) for item in body.get("parameters", [])), body
    if status is not None:
        assert body["error"] == status, body
    if error_code is not None:
        assert body["errorCode"] == error_code, body


def _declared_statuses(spec: dict, method: str, path: str) -> tuple[str, set[str]] | None:
    """The path template and response statuses the contract declares for a concrete request, if any."""
    for template, item in spec.get("paths", {}).items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, set(item[method.lower()].get("responses", {}))
    return None


def _header(headers: dict, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _check_token_exchange(entry: dict) -> None:
    """The token endpoint is outside the contract: check it against the Atlas docs' description instead."""
    assert entry["method"] == "POST", entry
    content_type = (_header(entry["headers"], "Content-Type") or "").split(";")[0].strip()
    assert content_type == "application/x-www-form-urlencoded", f"token request must be a form: {content_type!r}"
    assert _header(entry["headers"], "Authorization") == "Basic", "token request must use HTTP Basic client auth"
    if entry["status"] == 200:
        body = entry["response_body"]
        assert body["token_type"] == "Bearer" and isinstance(body["access_token"], str), body
        assert isinstance(body["expires_in"], int), body


def _describe(error: Exception) -> str:
    """openapi-core hides the schema messages in the cause chain; show them."""
    parts = [repr(error)]
    cause = error.__cause__
    while cause is not None:
        details = getattr(cause, "schema_errors", None) or []
        parts.append(repr(cause) + "".join(f" [{getattr(detail, 'message', detail)}]" for detail in details))
        cause = cause.__cause__
    return " <- ".join(parts)


def validate_exchange(contract: t.Any, entry: dict) -> None:
    """Validate one emulator request-log entry (request and response) against the contract; AssertionError if not.

    Allowed beyond the spec: the unauthenticated first leg of HTTP Digest (answered 401 with a challenge), the
    documented real-world deviations, and ApiError answers to injected ``status`` faults whose status the operation
    does not declare (502/503/504). A dropped connection (status None) has only its request checked.
    """
    from openapi_core.testing import MockRequest, MockResponse

    openapi, spec = _prepared(contract)
    if entry["path"] == TOKEN_PATH:
        _check_token_exchange(entry)
        return
    found = _declared_statuses(spec, entry["method"], entry["path"])
    assert found is not None, f"{entry['method']} {entry['path']} is not an operation of the contract"
    declared = found[1]
    scheme = _header(entry["headers"], "Authorization")
    status = entry["status"]
    if scheme is None:
        assert status == 401 and "digest" in (_header(entry["response_headers"], "WWW-Authenticate") or "").lower(), (
            f"request without Authorization was not answered by a Digest challenge: {entry}")
    else:
        assert scheme in ("Digest", "Bearer"), f"unexpected Authorization scheme {scheme!r}"
    accept = _header(entry["headers"], "Accept") or ""
    assert ATLAS_MEDIA_TYPE in [item.split(";")[0].strip() for item in accept.split(",")], f"Accept header {accept!r}"

    headers = {key: value for key, value in entry["headers"].items() if key.lower() != "authorization"}
    if scheme:
        headers["Authorization"] = f"{scheme} redacted"
    body = entry["body"]
    request = MockRequest(
        SERVER_URL, entry["method"].lower(), entry["path"], args=entry.get("query") or {}, headers=headers,
        data=None if body is None else json.dumps(body).encode(),
        content_type=(_header(entry["headers"], "Content-Type") or ATLAS_MEDIA_TYPE).split(";")[0].strip(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openapi-core warns that it cannot check oauth2: we checked the scheme above
        request_errors = [_describe(error) for error in openapi.iter_request_errors(request)]
    assert not request_errors, f"request breaks the contract: {request_errors}: {entry['method']} {entry['path']} {body!r}"

    if status is None:  # dropped connection: nothing was answered
        return
    if str(status) not in declared:
        assert entry.get("fault") == "status" or status == 401, (
            f"status {status} is not declared for {entry['method']} {entry['path']}: {entry['response_body']!r}")
        assert_api_error(contract, entry["response_body"], status)
        return
    if status == 204:  # the contract lists a media type without schema for "No Content"; Atlas sends no body
        assert entry["response_body"] is None, f"204 with a body: {entry['response_body']!r}"
        return
    response_headers = entry.get("response_headers") or {}
    content_type = (_header(response_headers, "Content-Type") or "").split(";")[0].strip()
    payload = entry["response_body"]
    response = MockResponse(
        b"" if payload is None else json.dumps(payload).encode(), status_code=status,
        headers=response_headers, content_type=content_type or ATLAS_MEDIA_TYPE,
    )
    response_errors = [_describe(error) for error in openapi.iter_response_errors(request, response)]
    assert not response_errors, f"response breaks the contract: {response_errors}: {status} {payload!r}"
    if status >= 400:
        assert_api_error(contract, payload, status)


def validate_log(contract: t.Any, entries: t.Iterable[dict]) -> int:
    """Validate every entry of a request log; returns how many were checked (so callers can assert it is not 0)."""
    count = 0
    for entry in entries:
        validate_exchange(contract, entry)
        count += 1
    return count
