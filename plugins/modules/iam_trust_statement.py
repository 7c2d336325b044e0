#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: iam_trust_statement
short_description: Let MongoDB Atlas assume an IAM role, by one trust statement per external ID
version_added: 0.1.0
author:
  - atlas_ops.aws_access contributors (!UNKNOWN)
description:
  - Adds to (or removes from) an IAM role's trust policy the grant that lets MongoDB Atlas's AWS account assume the
    role with C(sts:AssumeRole) under C(StringEquals) C(sts:ExternalId), as the Atlas "Set Up Unified AWS Access"
    procedure asks.
  - Every other statement, key and the order of statements are kept exactly; only the requested grants change.
  - A grant counts as present when any C(Allow) statement already grants C(sts:AssumeRole) to that principal under
    C(StringEquals) C(sts:ExternalId) equal to, or a list containing, the external ID, however it is spelled (string
    or list, account id or C(:root) ARN). Then nothing is written.
  - A document larger than the account's trust policy size quota (2,048 characters by default) fails before anything
    is written.
  - After writing, the module reads the policy back and writes again (a few times at most) when a concurrent writer
    replaced it, so several projects sharing one IAM role can be set up in parallel.
options:
  iam_role_name:
    description:
      - Name of the IAM role whose trust policy is changed.
      - Exactly one of O(iam_role_name) and O(iam_role_arn) is required.
    type: str
    aliases: [role_name]
  iam_role_arn:
    description:
      - ARN of the IAM role, C(arn:<partition>:iam::<account>:role/<path/>name).
      - The role found with the AWS credentials must have exactly this ARN, so a role of the same name in another
        account is never changed.
    type: str
  principal_arn:
    description:
      - The AWS principal to trust, the Atlas role's C(atlas_aws_account_arn) (for example
        C(arn:aws:iam::536727724300:root)), or a 12-digit account id.
    type: str
    required: true
  external_id:
    description:
      - The external ID(s) Atlas uses, the Atlas role's C(atlas_assumed_role_external_id).
      - One grant is written for each; several are written in one IAM update.
      - A grant without an external ID is never written.
    type: list
    elements: str
    required: true
  sid:
    description:
      - Statement id of the new statement, ASCII letters and digits only.
      - Only with a single O(external_id).
      - By default a short stable Sid (at most 24 characters, C(Atlas) and the first letters and digits of the
        external ID) is derived from each external ID.
    type: str
  state:
    description:
      - V(present) makes sure the grants are in the trust policy.
      - V(absent) removes only the grants of these external IDs; a statement is dropped only when nothing else is
        left in it. A missing role is fine.
      - IAM refuses a trust policy without statements, so when the last one goes a statement denying everyone
        (Sid C(AtlasTrustsNoOne)) takes its place; the next grant added replaces it. The role itself is never deleted.
    type: str
    choices: [present, absent]
    default: present
  create_role:
    description:
      - Create the IAM role, holding only these grants, when it does not exist.
    type: bool
    default: false
  merge:
    description:
      - Keep all of this principal's external IDs in one statement (a list condition) so that one IAM role serves
        several times more Atlas projects within the size quota.
      - A new external ID joins the first statement in policy order that is a grant for the same principal and
        nothing else; with no such statement one is created (named by O(sid) if given).
      - Statements already there are left as they are.
    type: bool
    default: false
  description:
    description:
      - Description of the IAM role, used only when the module creates it.
    type: str
  path:
    description:
      - Path of the IAM role, used only when the module creates it. IAM uses V(/) when not set.
      - Taken from O(iam_role_arn) when that is given.
    type: str
  tags:
    description:
      - Tags of the IAM role, used only when the module creates it.
    type: dict
notes:
  - The AWS credentials need C(iam:GetRole), C(iam:UpdateAssumeRolePolicy), C(iam:GetAccountSummary) and, with
    O(create_role=true), C(iam:CreateRole) (plus C(iam:TagRole) with O(tags)).
  - IAM is eventually consistent, so a read-back cannot prove another writer's update was kept; to set up many
    projects on one role, prefer one task with all external IDs.
extends_documentation_fragment:
  - atlas_ops.aws_access.aws
  - atlas_ops.aws_access.attributes
  - atlas_ops.aws_access.attributes.aws
"""

EXAMPLES = r"""
- name: Let the Atlas project's AWS access role assume the IAM role
  atlas_ops.aws_access.iam_trust_statement:
    iam_role_name: atlas-unified-access
    principal_arn: "{{ atlas_role.role.atlas_aws_account_arn }}"
    external_id: "{{ atlas_role.role.atlas_assumed_role_external_id }}"

- name: Trust several Atlas projects in one update, sharing one statement, creating the role if needed
  atlas_ops.aws_access.iam_trust_statement:
    iam_role_arn: arn:aws:iam::123456789012:role/atlas/atlas-unified-access
    principal_arn: arn:aws:iam::536727724300:root
    external_id:
      - 3b3b7c43-4c52-4e3e-9a7d-2f3f2a0c6d11
      - 9d1f4a77-0b6e-4d7c-8a35-5c1e0f2b7a90
    merge: true
    create_role: true
    description: Assumed by MongoDB Atlas
    tags:
      team: data

- name: Remove the grant once Atlas no longer uses the role
  atlas_ops.aws_access.iam_trust_statement:
    iam_role_name: atlas-unified-access
    principal_arn: arn:aws:iam::536727724300:root
    external_id: 3b3b7c43-4c52-4e3e-9a7d-2f3f2a0c6d11
    state: absent
"""

RETURN = r"""
iam_role_arn:
  description: ARN of the IAM role; null in check mode when the role would be created.
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/atlas-unified-access
policy:
  description: The trust policy after the change (in check mode, as it would be).
  returned: always
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Sid: Atlas3b3b7c434c524e3e9a7
        Effect: Allow
        Principal:
          AWS: arn:aws:iam::536727724300:root
        Action: sts:AssumeRole
        Condition:
          StringEquals:
            sts:ExternalId: 3b3b7c43-4c52-4e3e-9a7d-2f3f2a0c6d11
statements:
  description:
    - The statements that hold the requested grants after the change, each once.
    - With O(state=absent), those that held them before.
  returned: always
  type: list
  elements: dict
  sample:
    - Sid: Atlas3b3b7c434c524e3e9a7
      Effect: Allow
      Principal:
        AWS: arn:aws:iam::536727724300:root
      Action: sts:AssumeRole
      Condition:
        StringEquals:
          sts:ExternalId: 3b3b7c43-4c52-4e3e-9a7d-2f3f2a0c6d11
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.atlas_ops.aws_access.plugins.module_utils import _iam


def main() -> None:
    module = AnsibleModule(**_iam.role_module_kwargs(
        principal_arn={"type": "str", "required": True},
        external_id={"type": "list", "elements": "str", "required": True},
        sid={"type": "str"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        create_role={"type": "bool", "default": False},
        merge={"type": "bool", "default": False},
        description={"type": "str"},
        path={"type": "str"},
        tags={"type": "dict"},
    ))
    if not _iam.HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=_iam.BOTO3_IMPORT_ERROR)
    try:
        request = _iam.build_request(module.params)
        result = _iam.apply_trust(_iam.IamRoleApi(_iam.connect(module.params)), request, check_mode=module.check_mode)
    except _iam.IamError as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings"):
        module.warn(warning)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
