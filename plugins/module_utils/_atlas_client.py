# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to this collection: the one HTTP client for the MongoDB Atlas Administration API.

Everything that talks to Atlas goes through ``AtlasClient`` so that authentication (Digest API keys or
service-account bearer tokens), the versioned media type, retries and error mapping are decided in one place.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import ssl
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional
from urllib.parse import quote, urlsplit

try:
    import httpx
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    httpx = None
    HTTPX_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HTTPX_IMPORT_ERROR = None

MEDIA_TYPE = "application/vnd.atlas.2023-01-01+json"
API_PREFIX = "/api/atlas/v2"
TOKEN_PATH = "/api/oauth/token"
USER_AGENT = "ansible-collection-atlas_ops.aws_access"

# Environment variables that Atlas CLI and Terraform users already set; first match wins within each list.
CREDENTIAL_ENV = {
    "api_public_key": ("MONGODB_ATLAS_PUBLIC_API_KEY", "MONGODB_ATLAS_PUBLIC_KEY"),
    "api_private_key": ("MONGODB_ATLAS_PRIVATE_API_KEY", "MONGODB_ATLAS_PRIVATE_KEY"),
    "client_id": ("MONGODB_ATLAS_CLIENT_ID",),
    "client_secret": ("MONGODB_ATLAS_CLIENT_SECRET",),
}
PROJECT_ID_ENV = "MONGODB_ATLAS_PROJECT_ID"
CREDENTIAL_PAIRS = (("api_public_key", "api_private_key"), ("client_id", "client_secret"))

HEX24 = re.compile(r"^[a-f0-9]{24}$")


class AtlasApiError(Exception):
    """Every failure to get an answer from Atlas, so callers handle one type and map it to advice.

    ``status`` is the HTTP status, or None when no answer arrived (connection failed or dropped).
    """

    def __init__(self, status: Optional[int], error_code: str, detail: str = "", parameters: Optional[list] = None,
                 retry_after: Optional[float] = None) -> None:
        self.status = status
        self.error_code = error_code
        self.detail = detail
        self.parameters = list(parameters or [])
        self.retry_after = retry_after
        super().__init__(self.summary())

    def summary(self) -> str:
        """One line with the Atlas error code and detail, the part users can search for."""
        where = f"HTTP {self.status}" if self.status is not None else "no answer"
        detail = f": {self.detail}" if self.detail else ""
        return f"Atlas API error {self.error_code} ({where}){detail}"

    @property
    def maybe_committed(self) -> bool:
        """True when the request may have been carried out although no success answer arrived."""
        return self.status is None or self.status >= 500


class AtlasFailure(Exception):
    """A failure whose message is ready for the user; ``result`` holds extra keys for fail_json (never secrets)."""

    def __init__(self, msg: str, **result: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


class AtlasOptionError(AtlasFailure, ValueError):
    """Bad or inconsistent module options, found before any request is sent."""


@dataclass(frozen=True)
class AtlasCredentials:
    """One credential pair: ``kind`` is ``api_key`` (HTTP Digest) or ``service_account`` (OAuth2 client credentials)."""

    kind: str
    user: str
    secret: str

    def __repr__(self) -> str:  # keep the secret out of tracebacks and debug output
        return f"AtlasCredentials(kind={self.kind!r}, user={self.user!r}, secret=<hidden>)"


def _env_value(option: str, environ: Mapping[str, str]) -> Optional[str]:
    for name in CREDENTIAL_ENV[option]:
        if environ.get(name):
            return environ[name]
    return None


def _option_source(option: str) -> str:
    return f"{option} (or env {' / '.join(CREDENTIAL_ENV[option])})"


def resolve_credentials(params: Mapping[str, Any], environ: Mapping[str, str]) -> AtlasCredentials:
    """Pick exactly one credential pair: options given in the task first, the environment only when none is given.

    Mixing sources (a public key in the task, a private key from the environment) would make it unclear which
    account acts, so the environment is read only as a whole. Half a pair or two pairs is an error naming the options.
    """
    explicit = {opt: params.get(opt) for pair in CREDENTIAL_PAIRS for opt in pair}
    from_task = any(explicit.values())
    values = explicit if from_task else {opt: _env_value(opt, environ) for opt in explicit}
    candidates = [pair for pair in CREDENTIAL_PAIRS if any(values[opt] for opt in pair)]
    if not candidates:
        raise AtlasOptionError(
            "No Atlas credentials: set api_public_key and api_private_key (API key, or env MONGODB_ATLAS_PUBLIC_API_KEY"
            " and MONGODB_ATLAS_PRIVATE_API_KEY), or client_id and client_secret (service account, or env"
            " MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET)."
        )
    if len(candidates) > 1:
        source = "options" if from_task else "environment variables"
        raise AtlasOptionError(
            f"Both an API key (api_public_key/api_private_key) and a service account (client_id/client_secret) are"
            f" given as {source}: use exactly one pair."
        )
    user_opt, secret_opt = candidates[0]
    missing = [opt if from_task else _option_source(opt) for opt in (user_opt, secret_opt) if not values[opt]]
    if missing:
        raise AtlasOptionError(f"{user_opt} and {secret_opt} must be given together; missing: {', '.join(missing)}.")
    kind = "api_key" if user_opt == "api_public_key" else "service_account"
    return AtlasCredentials(kind=kind, user=str(values[user_opt]), secret=str(values[secret_opt]))


def validate_base_url(base_url: str) -> str:
    """Return base_url without a trailing slash, or fail naming the expected form before anything is sent."""
    parts = urlsplit(base_url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise AtlasOptionError(
            f"base_url must be an http(s) URL such as https://cloud.mongodb.com (no credentials, query or fragment);"
            f" got {base_url!r}."
        )
    return base_url.rstrip("/")


def validate_hex24(option: str, value: str) -> str:
    """Atlas ids are 24 lowercase hex digits; a wrong one must fail before a request, naming the option."""
    if not isinstance(value, str) or not HEX24.match(value):
        raise AtlasOptionError(f"{option} must be 24 lowercase hexadecimal digits (for example 5f4d3c2b1a0f9e8d7c6b5a49); got {value!r}.")
    return value


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds from a Retry-After header (delta seconds or HTTP date), None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, rng: Callable[[], float], base: float = 0.5, cap: float = 8.0) -> float:
    """Full-jitter exponential backoff: spreads retries of parallel runs so they do not hit Atlas in step."""
    return rng() * min(cap, base * (2 ** attempt))


@dataclass
class RetryPolicy:
    """Bounds on retrying: enough to ride out a short outage, never an endless loop."""

    max_attempts: int = 6          # per request, for 5xx and transport errors
    max_retry_after: float = 60.0  # a single Retry-After wait is capped to this
    total_budget: float = 180.0    # seconds of sleeping across the whole run
    backoff_base: float = 0.5
    backoff_cap: float = 8.0


def _api_error_from_response(response: Any) -> AtlasApiError:
    """Turn any non-success answer into AtlasApiError, tolerating bodies that are not ApiError JSON (proxies)."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("errorCode" in body or "detail" in body):
        params = body.get("parameters")
        return AtlasApiError(response.status_code, str(body.get("errorCode") or f"HTTP_{response.status_code}"),
                             str(body.get("detail") or ""), params if isinstance(params, list) else [], retry_after)
    if 300 <= response.status_code < 400:
        return AtlasApiError(response.status_code, "UNEXPECTED_REDIRECT",
                             f"Atlas answered a redirect to {response.headers.get('Location')!r}; check base_url.")
    text = (response.text or "").strip().replace("\n", " ")[:200]
    return AtlasApiError(response.status_code, f"HTTP_{response.status_code}", text or response.reason_phrase, [], retry_after)


def _certificate_not_trusted(exc: BaseException) -> bool:
    """True when a connection failed because the server's certificate did not verify (httpx wraps the ssl error)."""
    seen: Optional[BaseException] = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _decoded(response: Any) -> Any:
    """The JSON of a success answer (None for an empty one); anything else means base_url is not Atlas."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise AtlasApiError(response.status_code, "INVALID_RESPONSE",
                            "the answer is not JSON; check that base_url points at the Atlas Administration API") from None


_AuthBase: Any = httpx.Auth if httpx is not None else object


class ServiceAccountAuth(_AuthBase):
    """OAuth2 client-credentials flow for Atlas service accounts.

    The token is fetched once and reused for the run; when Atlas answers 401 (token expired or revoked) a new token
    is fetched once and the request is sent again, so a long wait for IAM never ends in an auth failure.
    """

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, client_secret: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._token_url = token_url
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._clock = clock
        self._token: Optional[str] = None
        self._expires_at = 0.0
        self.tokens_fetched = 0

    def _token_request(self) -> Any:
        request = httpx.Request("POST", self._token_url, data={"grant_type": "client_credentials"},
                                headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        next(self._basic.auth_flow(request))  # adds the Basic header the token endpoint expects
        return request

    def _store_token(self, response: Any) -> None:
        if response.status_code != 200:
            raise _api_error_from_response(response)
        try:
            body = response.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise AtlasApiError(response.status_code, "INVALID_TOKEN_RESPONSE", "the token endpoint answered without an access_token")
        self._token = str(token)
        expires_in = body.get("expires_in") if isinstance(body.get("expires_in"), (int, float)) else 3600
        self._expires_at = self._clock() + max(0.0, float(expires_in) - 60.0)  # renew a minute early
        self.tokens_fetched += 1

    def auth_flow(self, request: Any):
        if self._token is None or self._clock() >= self._expires_at:
            self._store_token((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            self._store_token((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


class AtlasClient:
    """Sends Atlas API calls with auth, the versioned media type and bounded retries.

    ``idempotent=False`` (POST create) is never repeated after it may have reached Atlas: the caller decides how to
    recover (see ``_access_roles.create_role``). A 429 was not carried out, so it is retried for every method.
    """

    def __init__(self, base_url: str, credentials: AtlasCredentials, validate_certs: bool = True,
                 retry: Optional[RetryPolicy] = None, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random, timeout: Optional[Any] = None) -> None:
        self.base_url = validate_base_url(base_url)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng
        self.slept = 0.0
        self.retries = 0
        if credentials.kind == "api_key":
            auth: Any = httpx.DigestAuth(credentials.user, credentials.secret)
        else:
            auth = ServiceAccountAuth(self.base_url + TOKEN_PATH, credentials.user, credentials.secret)
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            auth=auth,
            verify=validate_certs,
            follow_redirects=False,  # never carry credentials to another host
            timeout=timeout or httpx.Timeout(30.0, connect=10.0),
            headers={"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE, "User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "AtlasClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _wait(self, seconds: float) -> bool:
        """Sleep if the run's retry budget allows it; False means give up now."""
        if self.slept + seconds > self.retry.total_budget:
            return False
        self._sleep(seconds)
        self.slept += seconds
        self.retries += 1
        return True

    def request(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None, idempotent: bool = True) -> Any:
        """Send one call and return the decoded JSON answer (None for 204); raise AtlasApiError otherwise."""
        content = json.dumps(body).encode() if body is not None else None
        failures = 0
        while True:
            try:
                response = self._http.request(method, path, content=content)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached Atlas, so even a create may be sent again.
                if _certificate_not_trusted(exc):  # trying again cannot help: say what to do at once
                    raise AtlasApiError(None, "CONNECTION_FAILED", (
                        f"{type(exc).__name__}: {exc}; the TLS certificate of {self.base_url} is not trusted. Give its CA"
                        " with the SSL_CERT_FILE environment variable, or set validate_certs: false for a test endpoint"
                    )) from None
                error = AtlasApiError(None, "CONNECTION_FAILED", f"{type(exc).__name__}: {exc}")
            except httpx.TransportError as exc:
                error = AtlasApiError(None, "CONNECTION_LOST", f"{type(exc).__name__}: {exc}")
                if not idempotent:
                    raise error from None
            else:
                if response.status_code < 300:
                    return _decoded(response)
                error = _api_error_from_response(response)
                if error.status == 429 or (error.status == 503 and error.retry_after is not None and idempotent):
                    wait = error.retry_after
                    wait = min(self.retry.max_retry_after, wait) if wait is not None else self._backoff(failures)
                    failures += 1
                    if failures < self.retry.max_attempts * 2 and self._wait(wait):
                        continue
                    raise error
                if error.status is not None and (error.status < 500 or not idempotent):
                    raise error
            failures += 1
            if failures >= self.retry.max_attempts or not self._wait(self._backoff(failures - 1)):
                raise error

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self._rng, self.retry.backoff_base, self.retry.backoff_cap)


def explain_api_error(error: AtlasApiError, credentials_kind: str = "api_key", **ids: Optional[str]) -> str:
    """Say what to do about an Atlas error; ``ids`` are the ids in play (project_id, role_id, project_name)."""
    if error.status == 401:
        keys = "api_public_key/api_private_key" if credentials_kind == "api_key" else "client_id/client_secret"
        return (f"Atlas rejected the credentials (HTTP 401, {error.error_code}): check {keys} and that this machine's IP"
                f" address is on the organization's API access list.")
    if error.status == 403:
        return (f"Atlas refused the call (HTTP 403, {error.error_code}): the API key or service account needs the"
                f" Project Owner role on project {ids.get('project_id') or ids.get('project_name')}. {error.detail}").strip()
    if error.status == 404:
        if "ROLE" in error.error_code:
            what = f"role_id {ids.get('role_id') or '(the chosen role)'} was not found in project {ids.get('project_id')}"
        elif ids.get("project_name") and not ids.get("project_id"):
            what = f"project_name {ids['project_name']!r} was not found"
        else:
            what = f"project_id {ids.get('project_id')} was not found (or the credentials cannot see it)"
        return f"Atlas: {what} (HTTP 404, {error.error_code})."
    return error.summary()


@dataclass
class AtlasSession:
    """An open client plus the project it works on, the ids used in error advice."""

    client: AtlasClient
    project_id: str
    credentials_kind: str
    project_name: Optional[str] = None

    def __enter__(self) -> "AtlasSession":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.client.close()

    def explain(self, error: AtlasApiError, role_id: Optional[str] = None) -> str:
        return explain_api_error(error, self.credentials_kind, project_id=self.project_id, role_id=role_id,
                                 project_name=self.project_name)


def open_session(params: Mapping[str, Any], environ: Mapping[str, str], **client_kwargs: Any) -> AtlasSession:
    """Validate the connection options, open a client and find the project id (by name if asked).

    All option checks happen before the first request, so bad input never leaves anything half-done.
    """
    credentials = resolve_credentials(params, environ)
    base_url = validate_base_url(params.get("base_url") or "https://cloud.mongodb.com")
    project_name = params.get("project_name")
    project_id = params.get("project_id")
    if not project_id and not project_name:
        project_id = environ.get(PROJECT_ID_ENV)
        if not project_id:
            raise AtlasOptionError(f"project_id (or env {PROJECT_ID_ENV}) or project_name is required.")
    if project_id:
        validate_hex24("project_id", project_id)
    elif not 1 <= len(project_name) <= 64:
        raise AtlasOptionError(f"project_name must be 1 to 64 characters; got {project_name!r}.")
    client = AtlasClient(base_url, credentials, validate_certs=params.get("validate_certs", True), **client_kwargs)
    if not project_id:
        try:
            group = client.request("GET", f"/groups/byName/{quote(project_name, safe='')}")
        except AtlasApiError as error:
            client.close()
            raise AtlasFailure(explain_api_error(error, credentials.kind, project_name=project_name)) from None
        project_id = group["id"]
    return AtlasSession(client, project_id, credentials.kind, project_name)
