#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: atlas_access_role_info
short_description: List the AWS access roles of a MongoDB Atlas project
version_added: 0.1.0
author:
  - atlas_ops.aws_access contributors (!UNKNOWN)
description:
  - Lists the AWS access roles (cloud provider access) of an Atlas project with what uses them.
  - Never changes anything.
options:
  role_id:
    description:
      - Only the role with this ID (24 hexadecimal digits); an unknown ID gives an empty list.
    type: str
  iam_role_arn:
    description:
      - Only roles authorized for this IAM role ARN, C(arn:<partition>:iam::<12 digits>:role/<path/name>).
    type: str
extends_documentation_fragment:
  - atlas_ops.aws_access.atlas
  - atlas_ops.aws_access.attributes.INFO_MODULE
  - atlas_ops.aws_access.attributes.atlas
seealso:
  - module: atlas_ops.aws_access.atlas_access_role
"""

EXAMPLES = r"""
- name: List every AWS access role of the project with the features that use it
  atlas_ops.aws_access.atlas_access_role_info:
    project_id: 5f4d3c2b1a0f9e8d7c6b5a49
  register: atlas_roles

- name: Find the role authorized for an IAM role, with a service account from the environment
  atlas_ops.aws_access.atlas_access_role_info:
    project_name: payments-prod
    iam_role_arn: arn:aws:iam::123456789012:role/atlas/atlas-unified-access
  register: authorized_roles
"""

RETURN = r"""
roles:
  description: The project's AWS access roles matching the filters, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    role_id:
      description: Atlas ID of the role.
      type: str
      sample: 6a793f88c0eb9e7a17716581
    provider_name:
      description: Cloud provider of the role.
      type: str
      sample: AWS
    atlas_aws_account_arn:
      description: ARN of Atlas's AWS account, the principal the IAM role's trust policy must allow.
      type: str
      sample: arn:aws:iam::299602853325:root
    atlas_assumed_role_external_id:
      description: External ID the trust statement must require (condition C(StringEquals sts:ExternalId)).
      type: str
      sample: b63a96a9-5e21-4eee-9902-a3cdc7a0d81e
    iam_assumed_role_arn:
      description: ARN of the IAM role Atlas assumes; null while the role is pending.
      type: str
      sample: arn:aws:iam::123456789012:role/atlas/atlas-unified-access
    authorized:
      description: Whether Atlas has authorized the role.
      type: bool
      sample: true
    authorized_date:
      description: When Atlas authorized the role (ISO 8601); null while pending.
      type: str
      sample: "2026-08-10T03:05:12Z"
    created_date:
      description: When Atlas created the role (ISO 8601).
      type: str
      sample: "2026-08-10T03:03:36Z"
    feature_usages:
      description: Atlas features that use the role.
      type: list
      elements: dict
      sample: [{"feature_type": "ENCRYPTION_AT_REST", "feature_id": null}]
      contains:
        feature_type:
          description: C(ATLAS_DATA_LAKE), C(ENCRYPTION_AT_REST), C(EXPORT_SNAPSHOT), C(PUSH_BASED_LOG_EXPORT) or C(ATLAS_LOG_INTEGRATION).
          type: str
          sample: EXPORT_SNAPSHOT
        feature_id:
          description: Which instance of the feature uses the role, as Atlas describes it; null for project-wide features.
          type: dict
          sample: {"exportBucketId": "6a793f88c0eb9e7a17716582"}
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.atlas_ops.aws_access.plugins.module_utils._access_roles import list_access_roles, validate_role_options
from ansible_collections.atlas_ops.aws_access.plugins.module_utils._argspec import (
    ATLAS_CONNECTION_OPTIONS,
    ATLAS_MUTUALLY_EXCLUSIVE,
    argument_spec,
)
from ansible_collections.atlas_ops.aws_access.plugins.module_utils._atlas_client import HTTPX_IMPORT_ERROR, AtlasFailure, open_session


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(ATLAS_CONNECTION_OPTIONS, role_id={"type": "str"}, iam_role_arn={"type": "str"}),
        mutually_exclusive=ATLAS_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    if HTTPX_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    try:
        validate_role_options(module.params)
        with open_session(module.params, os.environ) as session:
            roles = list_access_roles(session, module.params)
    except AtlasFailure as failure:
        module.fail_json(msg=failure.msg, **failure.result)
    module.exit_json(changed=False, roles=roles)


if __name__ == "__main__":
    main()
