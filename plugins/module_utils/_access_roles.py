# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to this collection: Atlas AWS access roles - API operations, the choice of role and the authorize wait.

Thin API calls (one per Atlas operation) sit at the top, pure rules (validation, choice of role, backoff, result
shaping) in the middle, and ``ensure_access_role`` / ``list_access_roles`` combine them for the modules.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.atlas_ops.aws_access.plugins.module_utils._arn import ROLE_ARN_FORM, parse_role_arn
from ansible_collections.atlas_ops.aws_access.plugins.module_utils._atlas_client import (
    AtlasApiError,
    AtlasFailure,
    AtlasOptionError,
    AtlasSession,
    validate_hex24,
)

Role = Dict[str, Any]

CANNOT_ASSUME_ROLE = "CANNOT_ASSUME_ROLE"

# Authorize wait: the pause before the next try is at most a quarter of the time already waited, so once IAM has
# propagated the trust statement the wait ends within about a quarter of the propagation time; floor and cap keep
# the request rate reasonable at the start and the reaction quick for long waits.
AUTHORIZE_DELAY_FLOOR = 0.5
AUTHORIZE_DELAY_CAP = 5.0
CREATE_ATTEMPTS = 3
# Atlas stamps createdDate (and the time part of a roleId) to the second, so a role created at least a second after
# another always sorts after it. A run that created a role lists again once that second has surely passed; a
# concurrent create it could not yet see then sorts after its own role, and that run gives way (see converge_created).
CREATE_SETTLE_SECONDS = 1.1
CONVERGE_ROUNDS = 5


# ---------------------------------------------------------------------------------------------------------------
# Atlas operations, one per API call
# ---------------------------------------------------------------------------------------------------------------

def _roles_path(project_id: str) -> str:
    return f"/groups/{project_id}/cloudProviderAccess"


def list_roles(session: AtlasSession) -> List[Role]:
    """listGroupCloudProviderAccess: the project's AWS roles (Azure and GCP are not ours)."""
    answer = session.client.request("GET", _roles_path(session.project_id))
    return list((answer or {}).get("awsIamRoles") or [])


def get_role(session: AtlasSession, role_id: str) -> Role:
    """getGroupCloudProviderAccess: one role by id."""
    return session.client.request("GET", f"{_roles_path(session.project_id)}/{role_id}")


def create_role(session: AtlasSession, known_role_ids: Sequence[str]) -> Tuple[Role, bool]:
    """createGroupCloudProviderAccess, never making a second role when an answer is lost.

    When the POST may have reached Atlas (connection lost, 5xx) the roles are listed again and a pending role that
    was not in ``known_role_ids`` (the listing taken just before) is adopted; only if none appeared is it sent again.
    Returns the role and whether Atlas answered the POST: only then is the role surely this run's own.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return session.client.request("POST", _roles_path(session.project_id), {"providerName": "AWS"}, idempotent=False), True
        except AtlasApiError as error:
            if not error.maybe_committed:
                raise
            appeared = [role for role in list_roles(session) if role.get("roleId") not in known_role_ids and not is_authorized(role)]
            if appeared:
                return oldest(appeared), False
            if attempt >= CREATE_ATTEMPTS:
                raise


def converge_created(session: AtlasSession, created: Role, known_role_ids: Sequence[str], answered: bool = True,
                     sleep: Callable[[float], None] = time.sleep, settle: float = CREATE_SETTLE_SECONDS) -> Role:
    """After this run created ``created``, agree with concurrent runs of the same project on ONE role.

    Two runs that listed at the same moment both saw no pending role and both created one. Every such run lists
    again until two listings ``settle`` seconds apart show the same new roles, and all pick the oldest of them
    (createdDate, then roleId), so they agree. A run whose own role lost deletes it, but only when the POST was
    answered (so the role is surely its own: ``answered``) and the role is still pending and unused; it never
    deletes anything else. Returns the role to carry on with.
    """
    own_id = created.get("roleId")
    deleted = False
    previous: Optional[List[str]] = None
    winner: Role = created
    for _round in range(CONVERGE_ROUNDS):
        roles = list_roles(session)
        new = [role for role in roles if role.get("roleId") not in known_role_ids]
        if not new:  # our role vanished (deleted by someone else): nothing to agree on
            return created
        winner = oldest(new)
        own = find_role(roles, own_id) if own_id else None
        own_lost = own is not None and winner.get("roleId") != own_id
        if answered and not deleted and own_lost and not is_authorized(own) and not own.get("featureUsages"):
            deauthorize_role(session, own_id)
            deleted = True
            continue
        seen = sorted(role.get("roleId") or "" for role in new)
        if seen == previous:
            break
        previous = seen
        sleep(settle)
    return winner


def authorize_role(session: AtlasSession, role_id: str, iam_role_arn: str) -> Role:
    """authorizeGroupCloudProviderAccessRole: Atlas checks with AWS that it may assume the IAM role."""
    body = {"providerName": "AWS", "iamAssumedRoleArn": iam_role_arn}
    return session.client.request("PATCH", f"{_roles_path(session.project_id)}/{role_id}", body)


def deauthorize_role(session: AtlasSession, role_id: str) -> None:
    """deauthorizeGroupCloudProviderAccessRole: removes the role from the project."""
    session.client.request("DELETE", f"{_roles_path(session.project_id)}/AWS/{role_id}")


# ---------------------------------------------------------------------------------------------------------------
# Pure rules
# ---------------------------------------------------------------------------------------------------------------

def validate_iam_role_arn(value: str, option: str = "iam_role_arn") -> str:
    """Reject an ARN Atlas would refuse (or that names no IAM role) before any request, naming the expected form."""
    if parse_role_arn(value) is None:
        raise AtlasOptionError(f"{option} must be an IAM role ARN: {ROLE_ARN_FORM} ; got {value!r}.")
    return value


def validate_role_options(params: Mapping[str, Any]) -> None:
    """All checks on the role options that need no request."""
    if params.get("role_id") is not None:
        validate_hex24("role_id", params["role_id"])
    if params.get("iam_role_arn") is not None:
        validate_iam_role_arn(params["iam_role_arn"])
    if params.get("authorize_timeout") is not None and params["authorize_timeout"] < 0:
        raise AtlasOptionError(f"authorize_timeout must be 0 or more seconds; got {params['authorize_timeout']}.")


def is_authorized(role: Mapping[str, Any]) -> bool:
    """Atlas marks authorization with both the assumed role ARN and the date; either missing means pending."""
    return bool(role.get("iamAssumedRoleArn")) and bool(role.get("authorizedDate"))


def creation_order(role: Mapping[str, Any]) -> Tuple[str, str]:
    """Sort key: created first, roleId breaking ties, so that every run (and every fork) orders roles the same way."""
    return (role.get("createdDate") or "", role.get("roleId") or "")


def oldest(roles: Sequence[Role]) -> Role:
    """The role created first; roleId breaks ties so that every run (and every fork) picks the same one."""
    return min(roles, key=creation_order)


def find_role(roles: Sequence[Role], role_id: str) -> Optional[Role]:
    return next((role for role in roles if role.get("roleId") == role_id), None)


def authorized_for(roles: Sequence[Role], iam_role_arn: str) -> List[Role]:
    """Roles already authorized for this IAM role, oldest first."""
    found = [role for role in roles if is_authorized(role) and role.get("iamAssumedRoleArn") == iam_role_arn]
    return sorted(found, key=creation_order)


def choose_role(roles: Sequence[Role], role_id: Optional[str], iam_role_arn: Optional[str]) -> Optional[Role]:
    """The role that present/authorized acts on, or None when a new one must be created.

    Order: the role named by role_id; else one authorized for iam_role_arn; else the oldest pending role, which is
    resumed so an interrupted setup never leaves a second role behind.
    """
    if role_id:
        return find_role(roles, role_id)
    if iam_role_arn:
        matching = authorized_for(roles, iam_role_arn)
        if matching:
            return matching[0]
    pending = [role for role in roles if not is_authorized(role)]
    return oldest(pending) if pending else None


def roles_to_remove(roles: Sequence[Role], role_id: Optional[str], iam_role_arn: Optional[str]) -> List[Role]:
    """What absent deauthorizes: the role named by role_id, else every role authorized for iam_role_arn."""
    if role_id:
        role = find_role(roles, role_id)
        return [role] if role else []
    return authorized_for(roles, iam_role_arn) if iam_role_arn else []


def feature_usage_summary(roles: Sequence[Role]) -> List[str]:
    """Human-readable names of the Atlas features that use these roles."""
    names = []
    for role in roles:
        for usage in role.get("featureUsages") or []:
            feature_id = usage.get("featureId")
            suffix = f" {json.dumps(feature_id, sort_keys=True)}" if feature_id else ""
            names.append(f"{usage.get('featureType')}{suffix} (role {role.get('roleId')})")
    return names


def to_result(role: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The role in the module's snake_case shape; {} when there is no role."""
    if not role:
        return {}
    return {
        "role_id": role.get("roleId"),
        "provider_name": role.get("providerName"),
        "atlas_aws_account_arn": role.get("atlasAWSAccountArn"),
        "atlas_assumed_role_external_id": role.get("atlasAssumedRoleExternalId"),
        "iam_assumed_role_arn": role.get("iamAssumedRoleArn"),
        "authorized": is_authorized(role),
        "authorized_date": role.get("authorizedDate"),
        "created_date": role.get("createdDate"),
        "feature_usages": [
            {"feature_type": usage.get("featureType"), "feature_id": usage.get("featureId")}
            for usage in role.get("featureUsages") or []
        ],
    }


def predicted_new_role() -> Role:
    """What check mode reports for a role it would create: Atlas assigns ids and dates, so they are unknown."""
    return {"roleId": None, "providerName": "AWS", "atlasAWSAccountArn": None, "atlasAssumedRoleExternalId": None,
            "iamAssumedRoleArn": None, "authorizedDate": None, "createdDate": None, "featureUsages": []}


def predicted_authorized(role: Mapping[str, Any], iam_role_arn: str) -> Role:
    """What check mode reports after authorizing; the authorization date is Atlas's to set, so it stays unknown."""
    return dict(role, iamAssumedRoleArn=iam_role_arn, authorizedDate=None)


def trust_statement(role: Mapping[str, Any]) -> Dict[str, Any]:
    """The IAM trust policy statement Atlas needs before it can assume the customer's role."""
    return {
        "Effect": "Allow",
        "Principal": {"AWS": role.get("atlasAWSAccountArn")},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": role.get("atlasAssumedRoleExternalId")}},
    }


def next_authorize_delay(waited: float, remaining: float, jitter: float) -> float:
    """Pause before the next authorize try, given seconds waited so far and left, and jitter in [0, 1].

    The pause never exceeds a quarter of the time waited (above a small floor), so the try that first succeeds
    comes at most about 25 % after AWS has propagated the trust statement; jitter in [0.5, 1] of that keeps
    parallel runs from retrying in step without making pauses tiny.
    """
    ceiling = min(AUTHORIZE_DELAY_CAP, max(AUTHORIZE_DELAY_FLOOR, waited / 4.0))
    delay = ceiling * (0.5 + 0.5 * min(1.0, max(0.0, jitter)))
    return max(0.0, min(delay, remaining))


def timeout_message(role: Mapping[str, Any], iam_role_arn: str, timeout: float, attempts: int, error: AtlasApiError) -> str:
    statement = json.dumps(trust_statement(role), sort_keys=True)
    return (
        f"Atlas could not assume {iam_role_arn} within authorize_timeout={timeout:g}s ({attempts} attempts; last answer"
        f" {error.error_code}: {error.detail}). The IAM role's trust policy needs this statement: {statement}."
        f" AWS may need more time to propagate it. Atlas role {role.get('roleId')} stays pending; rerunning resumes it."
    )


# ---------------------------------------------------------------------------------------------------------------
# What the modules call
# ---------------------------------------------------------------------------------------------------------------

def wait_for_authorization(session: AtlasSession, role: Role, iam_role_arn: str, timeout: float,
                           sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                           rng: Callable[[], float] = random.random) -> Dict[str, Any]:
    """Authorize, retrying CANNOT_ASSUME_ROLE (IAM propagation) until ``timeout``; returns role, attempts, waited."""
    start = clock()
    attempts = 0
    while True:
        attempts += 1
        try:
            authorized = authorize_role(session, role["roleId"], iam_role_arn)
            return {"role": authorized, "attempts": attempts, "waited": round(clock() - start, 3)}
        except AtlasApiError as error:
            if error.error_code != CANNOT_ASSUME_ROLE:
                raise
            waited = clock() - start
            remaining = timeout - waited
            if remaining <= 0:
                raise AtlasFailure(timeout_message(role, iam_role_arn, timeout, attempts, error), role=to_result(role),
                                   attempts=attempts, waited=round(waited, 3),
                                   trust_statement=trust_statement(role)) from None
            sleep(next_authorize_delay(waited, remaining, rng()))


def _diff(before: Optional[Role], after: Optional[Role]) -> Dict[str, Any]:
    return {"before": to_result(before), "after": to_result(after)}


def ensure_access_role(session: AtlasSession, params: Mapping[str, Any], check_mode: bool = False,
                       **wait_kwargs: Any) -> Dict[str, Any]:
    """Bring one Atlas AWS access role to ``state``; returns the module result (changed, role, diff, ...)."""
    validate_role_options(params)
    state = params.get("state") or "present"
    role_id = params.get("role_id")
    iam_role_arn = params.get("iam_role_arn")
    try:
        roles = list_roles(session)
        if state == "absent":
            return _remove(session, roles, role_id, iam_role_arn, bool(params.get("force")), check_mode)
        before = choose_role(roles, role_id, iam_role_arn)
        if role_id and before is None:
            raise AtlasFailure(f"role_id {role_id} was not found among the AWS access roles of project {session.project_id}.")
        changed = before is None
        if before is not None:
            role = before
        elif check_mode:
            role = predicted_new_role()
        else:
            known = [r.get("roleId") for r in roles]
            created, answered = create_role(session, known)
            role = converge_created(session, created, known, answered, sleep=wait_kwargs.get("sleep", time.sleep))
        result: Dict[str, Any] = {}
        predicted_authorization = False
        if state == "authorized":
            result.update(attempts=0, waited=0.0)
            if not (is_authorized(role) and role.get("iamAssumedRoleArn") == iam_role_arn):
                changed = True
                if check_mode:
                    role = predicted_authorized(role, iam_role_arn)
                    predicted_authorization = True
                else:
                    outcome = wait_for_authorization(session, role, iam_role_arn, params.get("authorize_timeout", 300), **wait_kwargs)
                    role = outcome.pop("role")
                    result.update(outcome)
    except AtlasApiError as error:
        raise AtlasFailure(session.explain(error, role_id=role_id)) from None
    result.update(changed=changed, role=to_result(role), diff=_diff(before, role))
    if predicted_authorization:
        result["role"]["authorized"] = result["diff"]["after"]["authorized"] = True
    return result


def _remove(session: AtlasSession, roles: Sequence[Role], role_id: Optional[str], iam_role_arn: Optional[str],
            force: bool, check_mode: bool) -> Dict[str, Any]:
    """Deauthorize the matching roles, all or none: the in-use guard is checked for every role first."""
    targets = roles_to_remove(roles, role_id, iam_role_arn)
    if not targets:
        return {"changed": False, "role": {}, "roles": [], "diff": _diff(None, None)}
    in_use = feature_usage_summary(targets)
    if in_use and not force:
        features = "; ".join(in_use)
        raise AtlasFailure(
            f"Refusing to deauthorize: Atlas features still use the role: {features}."
            " Move or disable those features first, or set force: true. Nothing was changed.",
            role=to_result(targets[0]), roles=[to_result(role) for role in targets])
    if not check_mode:
        for role in targets:
            deauthorize_role(session, role["roleId"])
    return {"changed": True, "role": to_result(targets[0]), "roles": [to_result(role) for role in targets],
            "diff": _diff(targets[0], None)}


def list_access_roles(session: AtlasSession, params: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The project's AWS roles in the module shape, filtered by role_id and/or iam_role_arn."""
    validate_role_options(params)
    try:
        roles = list_roles(session)
    except AtlasApiError as error:
        raise AtlasFailure(session.explain(error)) from None
    if params.get("role_id"):
        roles = [role for role in roles if role.get("roleId") == params["role_id"]]
    if params.get("iam_role_arn"):
        roles = [role for role in roles if role.get("iamAssumedRoleArn") == params["iam_role_arn"]]
    return [to_result(role) for role in sorted(roles, key=creation_order)]
