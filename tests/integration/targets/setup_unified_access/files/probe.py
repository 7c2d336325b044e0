#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Arrange and inspect the world the end-to-end tests run in: Atlas emulator state, IAM (moto) state, request logs.

Why a separate probe: the tests must judge what the role did without trusting the collection's own code, so this
reads and writes the emulator (its control API and its real Atlas API) and moto (boto3) directly. Every command prints
JSON on stdout. Servers come from the environment that scripts/servers.py writes (ATLAS_EMULATOR_URL, MOTO_URL, ...).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.parse
import urllib.request

import boto3
import httpx

ATLAS_MEDIA_TYPE = "application/vnd.atlas.2023-01-01+json"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
IAM_WRITE_ACTIONS = ("CreateRole", "UpdateAssumeRolePolicy", "DeleteRole", "TagRole")
EC2_STATEMENT = {"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def control(method: str, path: str, body: object = None) -> object:
    """Call the emulator's unauthenticated test-only control API."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(os.environ["ATLAS_EMULATOR_URL"] + "/_emulator" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # nosec: loopback emulator only
        payload = response.read()
    return json.loads(payload) if payload else None


def iam_client():
    """boto3 IAM against moto's server."""
    return boto3.client("iam", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")


def trust_policy(role_name: str) -> dict:
    """The role's trust policy as a dict; moto may answer it URL-encoded."""
    document = iam_client().get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    return document


def as_list(value: object) -> list:
    """IAM allows a string or a list in most places."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def grants(policy: dict) -> list[tuple[str, str]]:
    """(principal, external id) pairs that Allow statements grant with sts:AssumeRole under StringEquals
    sts:ExternalId, in policy order."""
    found: list[tuple[str, str]] = []
    for statement in as_list(policy.get("Statement")):
        if statement.get("Effect") != "Allow" or "sts:AssumeRole" not in as_list(statement.get("Action")):
            continue
        principals = as_list((statement.get("Principal") or {}).get("AWS"))
        condition = (statement.get("Condition") or {}).get("StringEquals", {})
        found.extend((principal, str(value)) for principal in principals for value in as_list(condition.get("sts:ExternalId")))
    return found


def granted_external_ids(policy: dict) -> list[str]:
    """External IDs granted to any principal, in policy order."""
    return [external_id for _principal, external_id in grants(policy)]


def command_project(args: argparse.Namespace) -> object:
    """Create an Atlas project in the emulator."""
    return control("POST", "/projects", {"name": args.name})


def command_iam_role(args: argparse.Namespace) -> object:
    """Create an IAM role that already trusts ec2.amazonaws.com (a statement the role must keep)."""
    policy = {"Version": "2012-10-17", "Statement": [EC2_STATEMENT]}
    role = iam_client().create_role(RoleName=args.name, AssumeRolePolicyDocument=json.dumps(policy))["Role"]
    return {"arn": role["Arn"], "policy": policy}


def command_policy(args: argparse.Namespace) -> object:
    """The trust policy, the external IDs it grants, and whether the ec2 statement is still there unchanged."""
    try:
        policy = trust_policy(args.name)
    except iam_client().exceptions.NoSuchEntityException:
        return {"exists": False, "policy": {}, "external_ids": [], "statements": 0, "ec2_kept": False}
    statements = as_list(policy.get("Statement"))
    return {"exists": True, "policy": policy, "external_ids": granted_external_ids(policy),
            "statements": len(statements), "ec2_kept": EC2_STATEMENT in statements}


def command_grant(args: argparse.Namespace) -> object:
    """Write one Atlas grant straight into the trust policy (an interrupted setup that got this far)."""
    policy = trust_policy(args.name)
    policy["Statement"] = as_list(policy.get("Statement")) + [{
        "Effect": "Allow", "Principal": {"AWS": args.principal}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": args.external_id}},
    }]
    iam_client().update_assume_role_policy(RoleName=args.name, PolicyDocument=json.dumps(policy))
    return policy


def command_roles(args: argparse.Namespace) -> object:
    """The project's Atlas AWS roles (API shape), from the emulator's state."""
    return control("GET", f"/groups/{args.project_id}/roles")


def command_pending_role(args: argparse.Namespace) -> object:
    """Create an Atlas role through the real Atlas API and leave it pending (an interrupted setup)."""
    response = httpx.post(
        f"{os.environ['ATLAS_EMULATOR_URL']}/api/atlas/v2/groups/{args.project_id}/cloudProviderAccess",
        json={"providerName": "AWS"}, timeout=30,
        headers={"Accept": ATLAS_MEDIA_TYPE, "Content-Type": ATLAS_MEDIA_TYPE},
        auth=httpx.DigestAuth(os.environ["MONGODB_ATLAS_PUBLIC_API_KEY"], os.environ["MONGODB_ATLAS_PRIVATE_API_KEY"]),
    )
    response.raise_for_status()
    return response.json()


def command_feature_usage(args: argparse.Namespace) -> object:
    """Make an Atlas feature use the role, as encryption at rest would."""
    usages = [{"featureType": args.feature, "featureId": {"groupId": args.project_id}}] if args.feature else []
    control("PUT", f"/groups/{args.project_id}/roles/{args.role_id}/featureUsages", usages)
    return usages


def command_delay(args: argparse.Namespace) -> object:
    """Set the emulator's IAM propagation delay."""
    return control("PUT", "/settings", {"propagation_delay": args.seconds})


def command_clear_requests(_args: argparse.Namespace) -> object:
    """Forget the Atlas and IAM requests seen so far."""
    control("DELETE", "/requests")
    with open(os.environ["AWS_REQUEST_LOG"], "w", encoding="utf-8"):
        pass
    return {"cleared": True}


def iam_actions_seen() -> list[str]:
    """The IAM actions moto received since the last clear, from moto's recorder log (form-encoded bodies)."""
    actions = []
    try:
        with open(os.environ["AWS_REQUEST_LOG"], encoding="utf-8") as log:
            lines = log.readlines()
    except FileNotFoundError:
        return actions
    for line in lines:
        entry = json.loads(line)
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        query = urllib.parse.parse_qs(body) or urllib.parse.parse_qs(urllib.parse.urlparse(entry.get("url", "")).query)
        actions.extend(query.get("Action", []))
    return actions


def command_requests(_args: argparse.Namespace) -> object:
    """Atlas and IAM requests since the last clear, with the writes picked out."""
    atlas = control("GET", "/requests")
    iam = iam_actions_seen()
    return {
        "atlas": [f"{entry['method']} {entry['path']} {entry['status']}" for entry in atlas],
        "atlas_writes": [f"{entry['method']} {entry['path']}" for entry in atlas if entry["method"] in WRITE_METHODS],
        "iam": iam,
        "iam_writes": [action for action in iam if action in IAM_WRITE_ACTIONS],
    }


def command_snapshot(args: argparse.Namespace) -> object:
    """Atlas roles of the project and the IAM trust policy, to compare after a run that must change nothing."""
    return {"roles": command_roles(args), "policy": command_policy(args)["policy"]}


def command_check(args: argparse.Namespace) -> object:
    """Judge the project and the IAM role; exit 1 naming every expectation that does not hold."""
    roles = command_roles(args)
    policy_view = command_policy(args)
    policy = policy_view["policy"]
    role_arn = iam_client().get_role(RoleName=args.name)["Role"]["Arn"] if policy_view["exists"] else None
    authorized = [role for role in roles if role["authorizedDate"] and role["iamAssumedRoleArn"] == role_arn]
    pending = [role for role in roles if not role["authorizedDate"]]
    granted = set(grants(policy))
    problems = []
    if policy_view["exists"] and not args.created_by_role and not policy_view["ec2_kept"]:
        problems.append("the ec2.amazonaws.com statement was not kept as it was")
    if args.authorized is not None and (len(authorized) != args.authorized or len(roles) != args.authorized + len(pending)):
        problems.append(f"expected {args.authorized} role(s) authorized for {role_arn}, found {len(authorized)} of {len(roles)}")
    if args.pending is not None and len(pending) != args.pending:
        problems.append(f"expected {args.pending} pending role(s), found {len(pending)}")
    if args.roles is not None and len(roles) != args.roles:
        problems.append(f"expected {args.roles} Atlas role(s) in the project, found {len(roles)}")
    if args.role_id and args.role_id not in [role["roleId"] for role in roles]:
        problems.append(f"Atlas role {args.role_id} is not in the project any more")
    if args.granted_all:
        missing = [role["roleId"] for role in roles if (role["atlasAWSAccountArn"], role["atlasAssumedRoleExternalId"]) not in granted]
        if missing:
            problems.append(f"the trust policy lacks the grants of Atlas role(s) {', '.join(missing)}")
    if args.grants is not None and len(granted) != args.grants:
        problems.append(f"expected {args.grants} grant(s) in the trust policy, found {len(granted)}: {sorted(granted)}")
    if args.statements is not None and policy_view["statements"] != args.statements:
        problems.append(f"expected {args.statements} statement(s) in the trust policy, found {policy_view['statements']}")
    if args.no_writes:
        seen = command_requests(args)
        if seen["atlas_writes"] or seen["iam_writes"]:
            problems.append(f"writes were sent: Atlas {seen['atlas_writes']}, IAM {seen['iam_writes']}")
    if args.same_as:
        with open(args.same_as, encoding="utf-8") as snapshot:
            before = json.load(snapshot)
        if before != command_snapshot(args):
            problems.append("the Atlas roles or the trust policy changed")
    if problems:
        raise SystemExit("check failed: " + "; ".join(problems))
    return {"ok": True, "roles": len(roles), "authorized": len(authorized), "pending": len(pending), "grants": len(granted)}


def parser() -> argparse.ArgumentParser:
    """One sub-command per arrangement or inspection."""
    main = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = main.add_subparsers(dest="command", required=True)
    for name, function, arguments in [
        ("project", command_project, ["name"]),
        ("iam-role", command_iam_role, ["name"]),
        ("policy", command_policy, ["name"]),
        ("grant", command_grant, ["name", "principal", "external_id"]),
        ("roles", command_roles, ["project_id"]),
        ("pending-role", command_pending_role, ["project_id"]),
        ("feature-usage", command_feature_usage, ["project_id", "role_id", "feature"]),
        ("delay", command_delay, ["seconds"]),
        ("clear-requests", command_clear_requests, []),
        ("requests", command_requests, []),
        ("snapshot", command_snapshot, ["project_id", "name"]),
        ("check", command_check, ["project_id", "name"]),
    ]:
        command = sub.add_parser(name, help=function.__doc__)
        for argument in arguments:
            command.add_argument(argument, type=float if argument == "seconds" else str)
        command.set_defaults(function=function)
        if name == "check":
            command.add_argument("--authorized", type=int, help="exactly this many roles, all authorized for the IAM role")
            command.add_argument("--pending", type=int, help="this many pending roles")
            command.add_argument("--roles", type=int, help="this many roles in the project")
            command.add_argument("--role-id", help="this Atlas role is still there")
            command.add_argument("--granted-all", action="store_true", help="every role's grant is in the trust policy")
            command.add_argument("--grants", type=int, help="this many grants in the trust policy")
            command.add_argument("--statements", type=int, help="this many statements in the trust policy")
            command.add_argument("--no-writes", action="store_true", help="no Atlas or IAM write since clear-requests")
            command.add_argument("--same-as", help="roles and policy equal to this snapshot file")
            command.add_argument("--created-by-role", action="store_true",
                                 help="the role created the IAM role: there is no ec2 statement to keep")
    return main


def main() -> int:
    """Run one probe command and print its JSON result."""
    args = parser().parse_args()
    json.dump(args.function(args), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
