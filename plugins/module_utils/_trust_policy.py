# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to this collection: pure functions on IAM role trust policies (no I/O).

Everything that decides what a trust policy should look like lives here, so it can be tested directly and with
property tests. The rules: a grant is an ``Allow`` of ``sts:AssumeRole`` to one principal under ``StringEquals``
``sts:ExternalId``; adding or removing one grant never touches any other statement, key or the statement order;
no function ever produces a grant without ``sts:ExternalId``.
"""

from __future__ import annotations

import copy
import json
import re
import typing as t

POLICY_VERSION = "2012-10-17"
# IAM's default "Role trust policy length" quota; AWS counts the document without whitespace.
DEFAULT_SIZE_QUOTA = 2048
SID_PREFIX = "Atlas"
SID_MAX_LENGTH = 24
EXTERNAL_ID_KEY = "sts:ExternalId"
ASSUME_ROLE_ACTIONS = frozenset(("sts:assumerole", "sts:*", "*"))
ROOT_PARTITIONS = ("aws", "aws-us-gov", "aws-cn")

# IAM refuses a trust policy without statements, so removing the last grant leaves this instead; adding drops it.
NO_TRUST_STATEMENT = {"Sid": "AtlasTrustsNoOne", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT_ARN = re.compile(r"^arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}):root$")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-[a-z]+)*:(iam|sts)::\d{12}:(root|(user|role|assumed-role|federated-user)/\S+)$")
_SID_CHARS = re.compile(r"^[A-Za-z0-9]*$")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


class TrustPolicyError(ValueError):
    """A trust policy (or a requested change to it) that cannot be handled safely."""


def parse_policy(document: t.Any) -> dict:
    """Return a private copy of a trust policy given as a dict or a JSON string (boto3 decodes, the CLI does not)."""
    if document is None or document == "":
        return {"Version": POLICY_VERSION, "Statement": []}
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise TrustPolicyError(f"the trust policy is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise TrustPolicyError(f"a trust policy must be a JSON object, not {type(document).__name__}")
    statements = document.get("Statement", [])
    if not isinstance(statements, (list, dict)):
        raise TrustPolicyError("the trust policy's Statement must be a list or an object")
    return copy.deepcopy(document)


def serialize_policy(policy: dict) -> str:
    """Compact JSON, the form written to IAM and measured against the quota (AWS ignores whitespace)."""
    return json.dumps(policy, separators=(",", ":"), ensure_ascii=False)


def policy_size(policy: dict) -> int:
    """Size as IAM counts it against the "Role trust policy length" quota."""
    return len(serialize_policy(policy))


def statements_of(policy: dict) -> list[dict]:
    """The statements as a list, whether the document holds a list or a single object."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        return [statements]
    return list(statements)


def is_valid_principal(principal: str) -> bool:
    """An AWS principal this module may trust: a 12-digit account id or an IAM/STS principal ARN."""
    return bool(_ACCOUNT_ID.match(principal) or _IAM_PRINCIPAL_ARN.match(principal))


def is_valid_sid(sid: str) -> bool:
    """IAM accepts only ASCII letters and digits in a Sid."""
    return bool(sid) and bool(_SID_CHARS.match(sid))


def default_sid(external_id: str) -> str:
    """A short Sid that is stable for one external ID: short, because eight of them must fit in 2,048 characters."""
    alnum = _NOT_ALNUM.sub("", external_id)
    return (SID_PREFIX + alnum)[:SID_MAX_LENGTH]


def principals_match(candidate: str, principal: str) -> bool:
    """Equal principals, where a 12-digit account id equals that account's ``:root`` ARN in the main partitions."""
    if candidate == principal:
        return True
    account = _account_of_root(candidate)
    either_is_an_id = _ACCOUNT_ID.match(candidate) is not None or _ACCOUNT_ID.match(principal) is not None
    return account is not None and account == _account_of_root(principal) and either_is_an_id


def _account_of_root(principal: str) -> str | None:
    """The account id an account principal (id or ``:root`` ARN) stands for, else None."""
    if _ACCOUNT_ID.match(principal):
        return principal
    match = _ROOT_ARN.match(principal)
    return match.group(2) if match else None


def _as_list(value: t.Any) -> list:
    """IAM lets most elements be a single value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _allows_assume_role(statement: dict) -> bool:
    """Allow + an action list covering sts:AssumeRole (action names are case-insensitive in IAM)."""
    if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotPrincipal" in statement:
        return False
    return any(isinstance(action, str) and action.lower() in ASSUME_ROLE_ACTIONS
               for action in _as_list(statement.get("Action")))


def _aws_principals(statement: dict) -> list:
    """The ``Principal.AWS`` values of a statement (a bare ``"*"`` principal trusts no one in particular here)."""
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return []
    return _as_list(principal.get("AWS"))


def _trusts(statement: dict, principal: str) -> bool:
    return any(isinstance(value, str) and principals_match(value, principal) for value in _aws_principals(statement))


def _external_id_key(operator_block: t.Any) -> str | None:
    """The spelling of the sts:ExternalId key in a condition block (condition keys are case-insensitive)."""
    if not isinstance(operator_block, dict):
        return None
    for key in operator_block:
        if isinstance(key, str) and key.lower() == EXTERNAL_ID_KEY.lower():
            return key
    return None


def _external_ids(statement: dict) -> list:
    """The values of ``Condition.StringEquals.sts:ExternalId`` (empty when there is none)."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return []
    block = condition.get("StringEquals")
    key = _external_id_key(block)
    return _as_list(block[key]) if key else []


def has_any_external_id_condition(statement: dict) -> bool:
    """True when any condition operator constrains sts:ExternalId."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    return any(_external_id_key(block) for block in condition.values())


def is_grant(statement: dict, principal: str, external_id: str) -> bool:
    """Whether this statement lets ``principal`` assume the role with ``external_id``."""
    if not isinstance(statement, dict) or not _allows_assume_role(statement):
        return False
    return _trusts(statement, principal) and external_id in _external_ids(statement)


def find_grants(policy: dict, principal: str, external_id: str) -> list[int]:
    """Indexes of the statements that hold this grant."""
    return [index for index, statement in enumerate(statements_of(policy)) if is_grant(statement, principal, external_id)]


def grant_statements(policy: dict, principal: str, external_ids: t.Iterable[str]) -> list[dict]:
    """The statements holding any of these grants, each once, in policy order."""
    ids = list(external_ids)
    return [copy.deepcopy(statement) for statement in statements_of(policy)
            if any(is_grant(statement, principal, external_id) for external_id in ids)]


def granted_external_ids(policy: dict, principal: str | None = None) -> list[str]:
    """External IDs granted to ``principal`` (to any AWS principal when None), each once, in policy order."""
    found: dict[str, None] = {}
    for statement in statements_of(policy):
        if not isinstance(statement, dict) or not _allows_assume_role(statement):
            continue
        if principal is None and not _aws_principals(statement):
            continue
        if principal is not None and not _trusts(statement, principal):
            continue
        found.update((value, None) for value in _external_ids(statement) if isinstance(value, str))
    return list(found)


def unconditional_trust(policy: dict, principal: str) -> list[dict]:
    """Statements letting ``principal`` assume the role with no ExternalId check at all (a confused-deputy risk)."""
    def trusts_without_external_id(statement: t.Any) -> bool:
        if not isinstance(statement, dict) or not _allows_assume_role(statement):
            return False
        return _trusts(statement, principal) and not has_any_external_id_condition(statement)

    return [copy.deepcopy(statement) for statement in statements_of(policy) if trusts_without_external_id(statement)]


def new_grant_statement(principal: str, external_id: str, sid: str | None = None) -> dict:
    """The statement written for one grant, in the order the Atlas documentation shows it."""
    if not external_id:
        raise TrustPolicyError("a grant needs a non-empty external ID")
    return {
        "Sid": sid or default_sid(external_id),
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {EXTERNAL_ID_KEY: external_id}},
    }


def is_mergeable(statement: dict, principal: str) -> bool:
    """A statement that is a grant for ``principal`` and nothing else, so more external IDs may join it."""
    if not isinstance(statement, dict) or set(statement) - {"Sid", "Effect", "Principal", "Action", "Condition"}:
        return False
    if statement.get("Effect") != "Allow" or [a.lower() if isinstance(a, str) else a
                                              for a in _as_list(statement.get("Action"))] != ["sts:assumerole"]:
        return False
    principals = statement.get("Principal")
    if not isinstance(principals, dict) or list(principals) != ["AWS"]:
        return False
    values = _as_list(principals["AWS"])
    if not values or not all(isinstance(value, str) and principals_match(value, principal) for value in values):
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, dict) or list(condition) != ["StringEquals"]:
        return False
    block = condition["StringEquals"]
    key = _external_id_key(block)
    return key is not None and list(block) == [key] and bool(_as_list(block[key]))


def add_grant(policy: dict, principal: str, external_id: str, sid: str | None = None, merge: bool = False) -> dict:
    """A new document that also holds this grant; the same document when it already does.

    Without ``merge`` one statement is appended. With ``merge`` the external ID joins the first statement that is a
    pure grant for the same principal, so the document grows by the ID alone.
    """
    result = parse_policy(policy)
    if find_grants(result, principal, external_id):
        return result
    statements = [statement for statement in statements_of(result) if statement != NO_TRUST_STATEMENT]
    if merge:
        for statement in statements:
            if is_mergeable(statement, principal):
                block = statement["Condition"]["StringEquals"]
                key = _external_id_key(block)
                block[key] = _as_list(block[key]) + [external_id]
                result["Statement"] = statements
                return result
    new_statement = new_grant_statement(principal, external_id, sid)
    taken = {existing.get("Sid") for existing in statements if isinstance(existing, dict)}
    if new_statement["Sid"] in taken:
        raise TrustPolicyError(
            f"the trust policy already has a statement with Sid {new_statement['Sid']!r} that does not grant"
            f" {principal} with external ID {external_id!r}; choose another sid"
        )
    result["Statement"] = statements + [new_statement]
    return result


def add_grants(policy: dict, principal: str, external_ids: t.Iterable[str], sid: str | None = None,
               merge: bool = False) -> dict:
    """All grants in one document, so one IAM update can write every grant a role needs."""
    result = parse_policy(policy)
    for external_id in external_ids:
        result = add_grant(result, principal, external_id, sid=sid, merge=merge)
    return result


def remove_grant(policy: dict, principal: str, external_id: str) -> dict:
    """A new document without this grant; every other grant, statement and key is kept.

    From a list condition only this value goes; a statement shared with other principals keeps them (and the
    principal keeps its other external IDs in a statement of its own); a statement is dropped only when nothing is
    left in it.
    """
    result = parse_policy(policy)
    if not find_grants(result, principal, external_id):
        return result
    kept: list[dict] = []
    for statement in statements_of(result):
        if is_grant(statement, principal, external_id):
            kept.extend(_without_grant(statement, principal, external_id))
        else:
            kept.append(statement)
    result["Statement"] = kept or [copy.deepcopy(NO_TRUST_STATEMENT)]
    return result


def remove_grants(policy: dict, principal: str, external_ids: t.Iterable[str]) -> dict:
    """Every one of these grants removed, nothing else."""
    result = parse_policy(policy)
    for external_id in external_ids:
        result = remove_grant(result, principal, external_id)
    return result


def _without_grant(statement: dict, principal: str, external_id: str) -> list[dict]:
    """What replaces one grant statement once this (principal, external ID) pair is taken out of it."""
    block = statement["Condition"]["StringEquals"]
    key = _external_id_key(block)
    remaining_ids = [value for value in _as_list(block[key]) if value != external_id]
    principal_block = statement["Principal"]
    own = [value for value in _as_list(principal_block["AWS"]) if isinstance(value, str) and principals_match(value, principal)]
    others = [value for value in _as_list(principal_block["AWS"]) if value not in own]
    shared = bool(others) or set(principal_block) != {"AWS"}

    def with_ids(source: dict, ids: list) -> dict:
        copied = copy.deepcopy(source)
        copied_block = copied["Condition"]["StringEquals"]
        copied_block[key] = ids if isinstance(block[key], list) and len(ids) > 1 else ids[0]
        return copied

    if not shared:
        return [with_ids(statement, remaining_ids)] if remaining_ids else []
    # Other principals keep the statement exactly as it was, minus this principal.
    for_others = copy.deepcopy(statement)
    if others:
        for_others["Principal"]["AWS"] = others if isinstance(principal_block["AWS"], list) else others[0]
    else:
        del for_others["Principal"]["AWS"]
    if not remaining_ids:
        return [for_others]
    # This principal keeps its other external IDs in a statement of its own (no Sid: Sids must be unique).
    for_principal = with_ids(statement, remaining_ids)
    for_principal.pop("Sid", None)
    for_principal["Principal"] = {"AWS": own if len(own) > 1 else own[0]}
    return [for_others, for_principal]
