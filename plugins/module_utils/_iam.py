# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to this collection: IAM reads and writes for one role's trust policy, on boto3.

``IamRoleApi`` holds the thin calls, one per IAM operation, each turning botocore's errors into one ``IamError``
whose message says what to do. ``apply_trust`` holds the rules: check the size quota before writing, never drop a
grant it did not come to remove, and read back after writing so that a concurrent writer's lost update is redone.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time
import traceback
import typing as t
from urllib.parse import urlparse

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _arn
from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _trust_policy as tp
from ansible_collections.atlas_ops.aws_access.plugins.module_utils._argspec import (
    AWS_CONNECTION_OPTIONS,
    AWS_MUTUALLY_EXCLUSIVE,
    AWS_REQUIRED_TOGETHER,
    argument_spec,
)

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None

# IAM is global; boto3 still needs a region to sign with.
DEFAULT_REGION = "us-east-1"
# Standard mode retries throttling and transient errors with backoff; 10 attempts ride out IAM's low rate limits.
RETRY_CONFIG = {"mode": "standard", "max_attempts": 10}
# Writes after which a grant still missing on read-back means another writer keeps replacing the policy.
MAX_WRITES = 4
ACCESS_DENIED_CODES = frozenset(("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"))
PERMISSIONS_DOC = "docs/iam-permissions.md"

_ROLE_PATH = re.compile(r"^/(?:[\x21-\x7e]+/)?$")


ROLE_OPTIONS: dict[str, dict] = {
    "iam_role_name": {"type": "str", "aliases": ["role_name"]},
    "iam_role_arn": {"type": "str"},
}


def role_module_kwargs(**module_options: dict) -> dict:
    """AnsibleModule arguments for a module acting on one IAM role: AWS connection, the role, and its own options."""
    return {
        "argument_spec": argument_spec(AWS_CONNECTION_OPTIONS, ROLE_OPTIONS, **module_options),
        "mutually_exclusive": [("iam_role_name", "iam_role_arn")] + AWS_MUTUALLY_EXCLUSIVE,
        "required_one_of": [("iam_role_name", "iam_role_arn")],
        "required_together": AWS_REQUIRED_TOGETHER,
        "supports_check_mode": True,
    }


class IamError(Exception):
    """An IAM failure or bad input, with a message a user can act on; nothing was written unless it says so."""


@dataclasses.dataclass(frozen=True)
class TrustRequest:
    """The validated module options: which role, which grants, and what to do."""

    role_name: str
    role_arn: str | None
    principal: str
    external_ids: tuple[str, ...]
    sid: str | None = None
    state: str = "present"
    merge: bool = False
    create_role: bool = False
    path: str | None = None
    description: str | None = None
    tags: dict | None = None

    def apply(self, policy: dict) -> dict:
        """The document this request wants, computed from whatever the policy is now."""
        try:
            if self.state == "absent":
                return tp.remove_grants(policy, self.principal, self.external_ids)
            return tp.add_grants(policy, self.principal, self.external_ids, sid=self.sid, merge=self.merge)
        except tp.TrustPolicyError as exc:
            raise IamError(f"cannot change the trust policy of IAM role {self.role_name}: {exc}") from exc


def parse_role_arn(arn: str) -> tuple[str, str]:
    """``(path, name)`` of an IAM role ARN; IAM's API takes the name alone."""
    parts = _arn.parse_role_arn(arn)
    if parts is None:
        raise IamError(f"iam_role_arn {arn!r} is not an IAM role ARN; expected {_arn.ROLE_ARN_FORM}")
    return parts.path, parts.name


def role_from_options(params: dict) -> tuple[str, str | None]:
    """``(role name, role ARN or None)`` from ``iam_role_name`` or ``iam_role_arn``, validated before any request."""
    role_arn = params.get("iam_role_arn")
    if role_arn:
        return parse_role_arn(role_arn)[1], role_arn
    role_name = params["iam_role_name"]
    if not _arn.is_role_name(role_name):
        raise IamError(f"iam_role_name {role_name!r} is not an IAM role name; expected {_arn.ROLE_NAME_FORM}")
    return role_name, None


def validate_principal(principal: str) -> None:
    """principal_arn must be an account id or an IAM ARN, never a wildcard."""
    if not tp.is_valid_principal(principal):
        raise IamError(
            f"principal_arn {principal!r} is not an AWS principal; expected the Atlas AWS account ARN such as"
            " arn:aws:iam::299602853325:root (or a 12-digit account id)"
        )


def validate_endpoint_url(url: str | None) -> None:
    """Catch a typo here rather than as a confusing connection error from botocore."""
    if url is None:
        return
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise IamError(f"endpoint_url {url!r} is not an http(s) URL; expected e.g. https://iam.amazonaws.com")


def build_request(params: dict) -> TrustRequest:
    """Validate the module options (before any request) into a TrustRequest."""
    validate_endpoint_url(params.get("endpoint_url"))
    principal = params["principal_arn"]
    validate_principal(principal)
    external_ids = list(params["external_id"] or [])
    if not external_ids or not all(isinstance(value, str) and value.strip() for value in external_ids):
        raise IamError("external_id must be one or more non-empty strings (the Atlas role's atlas_assumed_role_external_id)")
    sid = params.get("sid")
    if sid is not None:
        if len(set(external_ids)) > 1:
            raise IamError("sid can only be used with a single external_id; leave it out to get one Sid per external ID")
        if not tp.is_valid_sid(sid):
            raise IamError(f"sid {sid!r} is not a valid statement id; expected ASCII letters and digits only")
    role_name, role_arn = role_from_options(params)
    path = params.get("path")
    if role_arn:
        arn_path = parse_role_arn(role_arn)[0]
        if path is not None and path != arn_path:
            raise IamError(f"path {path!r} differs from the path {arn_path!r} in iam_role_arn; leave path out")
        path = arn_path
    if path is not None and not _ROLE_PATH.match(path):
        raise IamError(f"path {path!r} is not an IAM path; expected / or /some/path/")
    return TrustRequest(
        role_name=role_name,
        role_arn=role_arn,
        principal=principal,
        external_ids=tuple(dict.fromkeys(external_ids)),
        sid=sid,
        state=params.get("state") or "present",
        merge=bool(params.get("merge")),
        create_role=bool(params.get("create_role")),
        path=path,
        description=params.get("description"),
        tags=params.get("tags"),
    )


def connect(options: dict) -> t.Any:
    """An IAM client from the options given, leaving everything unset to boto3's own resolution."""
    try:
        session = boto3.session.Session(
            aws_access_key_id=options.get("access_key"),
            aws_secret_access_key=options.get("secret_key"),
            aws_session_token=options.get("session_token"),
            profile_name=options.get("profile"),
        )
        return session.client(
            "iam",
            region_name=options.get("region") or session.region_name or DEFAULT_REGION,
            endpoint_url=options.get("endpoint_url"),
            config=Config(retries=dict(RETRY_CONFIG), user_agent_extra="atlas_ops.aws_access"),
        )
    except BotoCoreError as exc:
        raise IamError(f"cannot set up the IAM client: {exc}") from exc


class IamRoleApi:
    """One method per IAM operation; every error becomes an IamError that names what is needed."""

    def __init__(self, client: t.Any) -> None:
        self.client = client

    def get_role(self, name: str) -> dict | None:
        """The role (with its decoded trust policy), or None when it does not exist."""
        answer = self._call("iam:GetRole", name, self.client.get_role, quiet_codes=("NoSuchEntity",), RoleName=name)
        return answer["Role"] if answer else None

    def update_assume_role_policy(self, name: str, policy: dict) -> None:
        self._call("iam:UpdateAssumeRolePolicy", name, self.client.update_assume_role_policy,
                   RoleName=name, PolicyDocument=tp.serialize_policy(policy))

    def create_role(self, request: TrustRequest, policy: dict) -> dict | None:
        """The new role, or None when a concurrent writer created it first."""
        kwargs: dict[str, t.Any] = {"RoleName": request.role_name, "AssumeRolePolicyDocument": tp.serialize_policy(policy)}
        if request.path:
            kwargs["Path"] = request.path
        if request.description is not None:
            kwargs["Description"] = request.description
        if request.tags:
            kwargs["Tags"] = [{"Key": str(key), "Value": str(value)} for key, value in request.tags.items()]
        answer = self._call("iam:CreateRole", request.role_name, self.client.create_role,
                            quiet_codes=("EntityAlreadyExists",), **kwargs)
        return answer["Role"] if answer else None

    def assume_role_policy_size_quota(self) -> int:
        summary = self._call("iam:GetAccountSummary", "the account", self.client.get_account_summary)
        return int(summary["SummaryMap"]["AssumeRolePolicySizeQuota"])

    @staticmethod
    def _call(action: str, resource: str, operation: t.Callable[..., dict], quiet_codes: tuple[str, ...] = (),
              **kwargs: t.Any) -> t.Any:
        """Call one operation; an error code in ``quiet_codes`` is an expected answer and gives None."""
        try:
            return operation(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", ""), error.get("Message", str(exc))
            if code in quiet_codes:
                return None
            if code in ACCESS_DENIED_CODES:
                raise IamError(
                    f"{action} on {resource} was denied: {message}. The AWS credentials need permission for {action}"
                    f" (see {PERMISSIONS_DOC} in the atlas_ops.aws_access collection)"
                ) from exc
            if code == "MalformedPolicyDocument":
                raise IamError(f"IAM rejected the trust policy of role {resource}: {message}") from exc
            raise IamError(f"{action} on {resource} failed: {code}: {message}") from exc
        except BotoCoreError as exc:
            raise IamError(f"{action} on {resource} could not be sent: {exc}") from exc


class _SizeGuard:
    """Checks a document against the account's quota, asking IAM for it only once and only when over 2,048."""

    def __init__(self, api: IamRoleApi, request: TrustRequest) -> None:
        self.api = api
        self.request = request
        self.quota: int | None = None

    def check(self, policy: dict) -> None:
        size = tp.policy_size(policy)
        if size <= tp.DEFAULT_SIZE_QUOTA:
            return
        if self.quota is None:
            self.quota = self.api.assume_role_policy_size_quota()
        if size > self.quota:
            if self.request.merge:
                advice = "remove grants no longer needed"
            else:
                advice = ("set merge: true (unified_access_trust_merge: true in the unified_access role) so that"
                          " external IDs share one statement")
            raise IamError(
                f"the trust policy of IAM role {self.request.role_name} would be {size} characters, more than the"
                f" account's quota of {self.quota} (AssumeRolePolicySizeQuota); nothing was written. To fit, {advice},"
                " or ask for a higher 'Role trust policy length' quota in Service Quotas (IAM)."
            )


def role_policy(role: dict) -> dict:
    """The role's trust policy as a dict (boto3 decodes it; a JSON string is accepted too)."""
    try:
        return tp.parse_policy(role.get("AssumeRolePolicyDocument"))
    except tp.TrustPolicyError as exc:
        raise IamError(f"the trust policy of IAM role {role.get('RoleName')} cannot be read: {exc}") from exc


def check_role_arn(role: dict, role_arn: str | None) -> None:
    """A role found by name in another account (or path) than iam_role_arn names must not be touched."""
    if role_arn and role["Arn"].lower() != role_arn.lower():
        raise IamError(
            f"iam_role_arn is {role_arn} but these AWS credentials see {role['Arn']}: check the account"
            " (profile or keys) and the role path"
        )


def _jitter_sleep(attempt: int) -> None:
    """Wait longer than a concurrent writer's read-modify-write, randomly, so that the read-back sees its write."""
    time.sleep(random.uniform(0.2, 0.5) * attempt)


def apply_trust(api: IamRoleApi, request: TrustRequest, check_mode: bool = False,
                sleep: t.Callable[[int], None] = _jitter_sleep) -> dict:
    """Bring the role's trust policy to the request, returning the module result (without warnings).

    The result's ``warnings`` lists confused-deputy risks found in the policy, for the module to pass to warn().
    """
    sizes = _SizeGuard(api, request)
    role = api.get_role(request.role_name)
    if role is None:
        if request.state == "absent":
            return _result(request, None, {}, {}, changed=False)
        if not request.create_role:
            raise IamError(
                f"IAM role {request.role_name} was not found; set create_role: true to create it holding only this"
                " trust statement, or check iam_role_name / iam_role_arn and the AWS account"
            )
        policy = request.apply({"Version": tp.POLICY_VERSION, "Statement": []})
        sizes.check(policy)
        if check_mode:
            return _result(request, None, {}, policy, changed=True)
        role = api.create_role(request, policy)
        if role is not None:
            check_role_arn(role, request.role_arn)
            return _result(request, role, {}, role_policy(role), changed=True)
        role = api.get_role(request.role_name)  # a concurrent writer created it: carry on as if it was there
        if role is None:
            raise IamError(f"IAM role {request.role_name} was created and deleted by someone else meanwhile; run again")
    check_role_arn(role, request.role_arn)
    before = current = role_policy(role)
    changed = False
    for writes in range(MAX_WRITES + 1):
        wanted = request.apply(current)
        if wanted == current:
            break
        if writes == MAX_WRITES:
            raise IamError(
                f"another writer kept replacing the trust policy of IAM role {request.role_name}; after {MAX_WRITES}"
                " writes the grants are still not in place. Run again, or write all external IDs in one task"
            )
        sizes.check(wanted)
        changed = True
        if check_mode:
            current = wanted
            break
        api.update_assume_role_policy(request.role_name, wanted)
        sleep(writes + 1)
        role = api.get_role(request.role_name)
        if role is None:
            raise IamError(f"IAM role {request.role_name} was deleted while its trust policy was being written")
        current = role_policy(role)
    return _result(request, role, before, current, changed=changed)


def _result(request: TrustRequest, role: dict | None, before: dict, after: dict, changed: bool) -> dict:
    """The module's result: the policy after, the statements holding the grants, the diff and warnings."""
    holding = after if request.state == "present" else before
    return {
        "changed": changed,
        "iam_role_arn": role["Arn"] if role else request.role_arn,
        "policy": after,
        "statements": tp.grant_statements(holding, request.principal, request.external_ids),
        "diff": {"before": before, "after": after},
        "warnings": [
            f"the trust policy of IAM role {request.role_name} lets {request.principal} assume it without an"
            f" sts:ExternalId condition (statement {statement.get('Sid', '(no Sid)')}); any Atlas customer could"
            " use this role (confused deputy). Remove that statement, or add the condition to it"
            for statement in tp.unconditional_trust(after, request.principal)
        ],
    }
