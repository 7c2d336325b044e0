#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_trust_policy_info
short_description: Read an IAM role's trust policy and the external IDs it grants
version_added: 0.1.0
author:
  - atlas_ops.aws_access contributors (!UNKNOWN)
description:
  - Reads the trust policy of one IAM role and lists the external IDs its statements grant
    (C(Allow) of C(sts:AssumeRole) under C(StringEquals sts:ExternalId)).
  - A missing role is not an error; RV(exists) says whether the role is there. Use it to check a role before anything
    is created in Atlas, and to find Atlas roles whose grant an interrupted setup already wrote.
  - Never changes anything.
options:
  iam_role_name:
    description:
      - Name of the IAM role. Exactly one of O(iam_role_name) and O(iam_role_arn) is required.
    type: str
    aliases: [role_name]
  iam_role_arn:
    description:
      - ARN of the IAM role, C(arn:<partition>:iam::<12 digits>:role/<path/>name).
      - The role is looked up by name in the account of the credentials; a role found in another account is an error.
    type: str
  principal_arn:
    description:
      - Only count grants to this principal, for example Atlas's AWS account ARN C(arn:aws:iam::299602853325:root).
      - A 12-digit account ID and that account's C(:root) ARN are the same principal.
      - If not set, grants to any AWS principal count.
    type: str
extends_documentation_fragment:
  - atlas_ops.aws_access.aws
  - atlas_ops.aws_access.attributes.INFO_MODULE
  - atlas_ops.aws_access.attributes.aws
seealso:
  - module: atlas_ops.aws_access.iam_trust_statement
"""

EXAMPLES = r"""
- name: Check that the IAM role exists before creating anything in Atlas
  atlas_ops.aws_access.iam_trust_policy_info:
    iam_role_name: atlas-unified-access
  register: iam_role

- name: Fail early when it does not
  ansible.builtin.assert:
    that: iam_role.exists
    fail_msg: IAM role atlas-unified-access not found

- name: External IDs Atlas's account may use to assume the role
  atlas_ops.aws_access.iam_trust_policy_info:
    iam_role_arn: arn:aws:iam::123456789012:role/atlas/atlas-unified-access
    principal_arn: arn:aws:iam::299602853325:root
    profile: production
  register: atlas_grants
"""

RETURN = r"""
exists:
  description: Whether the IAM role exists.
  returned: always
  type: bool
  sample: true
iam_role_name:
  description: Name of the IAM role.
  returned: always
  type: str
  sample: atlas-unified-access
iam_role_arn:
  description: ARN of the IAM role; the O(iam_role_arn) given, or null, when the role does not exist.
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/atlas/atlas-unified-access
policy:
  description: The role's trust policy; empty when the role does not exist.
  returned: always
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Effect: Allow
        Principal: {Service: ec2.amazonaws.com}
        Action: sts:AssumeRole
      - Sid: Atlasb63a96a95e214eee9902
        Effect: Allow
        Principal: {AWS: "arn:aws:iam::299602853325:root"}
        Action: sts:AssumeRole
        Condition: {StringEquals: {"sts:ExternalId": b63a96a9-5e21-4eee-9902-a3cdc7a0d81e}}
external_ids:
  description: External IDs granted (to O(principal_arn) when given), each once, in policy order.
  returned: always
  type: list
  elements: str
  sample: [b63a96a9-5e21-4eee-9902-a3cdc7a0d81e]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _iam
from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _trust_policy as tp


def read_trust(params: dict) -> dict:
    """The role's trust policy and the external IDs it grants; a missing role is an answer, not a failure."""
    role_name, role_arn = _iam.role_from_options(params)
    principal = params.get("principal_arn")
    if principal is not None:
        _iam.validate_principal(principal)
    _iam.validate_endpoint_url(params.get("endpoint_url"))
    role = _iam.IamRoleApi(_iam.connect(params)).get_role(role_name)
    if role is None:
        return {"exists": False, "iam_role_name": role_name, "iam_role_arn": role_arn, "policy": {}, "external_ids": []}
    _iam.check_role_arn(role, role_arn)
    policy = _iam.role_policy(role)
    return {
        "exists": True,
        "iam_role_name": role_name,
        "iam_role_arn": role["Arn"],
        "policy": policy,
        "external_ids": tp.granted_external_ids(policy, principal),
    }


def main() -> None:
    module = AnsibleModule(**_iam.role_module_kwargs(principal_arn={"type": "str"}))
    if not _iam.HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=_iam.BOTO3_IMPORT_ERROR)
    try:
        result = read_trust(module.params)
    except _iam.IamError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
