#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: atlas_access_role
short_description: Create, authorize or deauthorize a MongoDB Atlas AWS access role
version_added: 0.1.0
author:
  - atlas_ops.aws_access contributors (!UNKNOWN)
description:
  - Manages one AWS access role of a MongoDB Atlas project (Atlas "unified AWS access", cloud provider access).
  - With O(state=present) the role is found or created; Atlas answers its own AWS account ARN and an external ID that
    the IAM role's trust policy must name (see M(atlas_ops.aws_access.iam_trust_statement)).
  - With O(state=authorized) Atlas is also told to assume the IAM role O(iam_role_arn). AWS propagates trust policy
    changes slowly, so C(CANNOT_ASSUME_ROLE) answers are retried until O(authorize_timeout).
  - With O(state=absent) the role is deauthorized (removed from the project), never while Atlas features use it unless
    O(force=true).
  - Which role is acted on, in this order, is the role named by O(role_id); else the role already authorized for
    O(iam_role_arn); else the oldest pending (not authorized) role, which is resumed so that an interrupted setup
    never leaves a second role behind; else a new role is created.
  - Calls that fail with HTTP 429 or 503 are retried after C(Retry-After); other server errors and lost connections
    are retried with jittered exponential backoff. A create whose answer is lost is not sent again blindly - the
    roles are listed again and the role that appeared is adopted.
options:
  state:
    description:
      - V(present) makes sure the project has the role (found or created).
      - V(authorized) also makes Atlas authorize it for O(iam_role_arn); changed only when it was not authorized for it.
      - V(absent) deauthorizes the role named by O(role_id), or every role authorized for O(iam_role_arn); none is fine.
    type: str
    choices: [present, authorized, absent]
    default: present
  role_id:
    description:
      - ID (24 hexadecimal digits) of the Atlas role to act on; with O(state=present) or O(state=authorized) it must exist.
    type: str
  iam_role_arn:
    description:
      - ARN of the customer's IAM role, C(arn:<partition>:iam::<12 digits>:role/<path/name>).
      - Required with O(state=authorized). With O(state=absent), one of O(role_id) or O(iam_role_arn) is required.
    type: str
  authorize_timeout:
    description:
      - Seconds to keep retrying while Atlas answers C(CANNOT_ASSUME_ROLE) because AWS has not yet propagated the trust
        statement. V(0) tries once.
      - The pause between tries grows with the time already waited but never exceeds a quarter of it (at most 5 s),
        so the wait ends soon after AWS is ready.
    type: int
    default: 300
  force:
    description:
      - With O(state=absent), deauthorize even while Atlas features (encryption at rest, data federation, snapshot
        export, log export) still use the role. Those features then lose access to AWS.
    type: bool
    default: false
extends_documentation_fragment:
  - atlas_ops.aws_access.atlas
  - atlas_ops.aws_access.attributes
  - atlas_ops.aws_access.attributes.atlas
seealso:
  - module: atlas_ops.aws_access.atlas_access_role_info
  - module: atlas_ops.aws_access.iam_trust_statement
  - name: Set Up Unified AWS Access
    description: The Atlas procedure this module automates.
    link: https://www.mongodb.com/docs/atlas/security/set-up-unified-aws-access/
"""

EXAMPLES = r"""
- name: Create (or resume) the project's AWS access role
  atlas_ops.aws_access.atlas_access_role:
    project_id: 5f4d3c2b1a0f9e8d7c6b5a49
    api_public_key: "{{ atlas_public_key }}"
    api_private_key: "{{ atlas_private_key }}"
    state: present
  register: atlas_role

- name: Authorize it once the IAM role trusts Atlas, waiting up to 10 minutes for IAM to propagate
  atlas_ops.aws_access.atlas_access_role:
    project_name: payments-prod
    client_id: "{{ atlas_client_id }}"
    client_secret: "{{ atlas_client_secret }}"
    role_id: "{{ atlas_role.role.role_id }}"
    iam_role_arn: arn:aws:iam::123456789012:role/atlas/atlas-unified-access
    authorize_timeout: 600
    state: authorized

- name: Deauthorize the role authorized for an IAM role (refused while Atlas features use it)
  atlas_ops.aws_access.atlas_access_role:
    project_id: 5f4d3c2b1a0f9e8d7c6b5a49
    iam_role_arn: arn:aws:iam::123456789012:role/atlas/atlas-unified-access
    state: absent
"""

RETURN = r"""
role:
  description:
    - The role acted on, with the keys below. With O(state=absent), the role as it was before it was deauthorized,
      or an empty dict when there was none.
    - In check mode a role that would be created has unknown (null) IDs, ARN, external ID and dates.
  returned: always
  type: dict
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
roles:
  description: With O(state=absent), every role deauthorized (or that would be, or that blocked it), in the same shape as RV(role).
  returned: when O(state=absent)
  type: list
  elements: dict
  sample: [{"role_id": "6a793f88c0eb9e7a17716581", "provider_name": "AWS", "authorized": true}]
attempts:
  description: How many authorize calls were sent (0 when the role was already authorized or in check mode).
  returned: when O(state=authorized)
  type: int
  sample: 4
waited:
  description: Seconds spent authorizing, including waits for AWS to propagate the trust policy.
  returned: when O(state=authorized)
  type: float
  sample: 7.42
trust_statement:
  description: On an authorize timeout, the trust policy statement Atlas needs on the IAM role.
  returned: on authorize timeout
  type: dict
  sample: {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::299602853325:root"}, "Action": "sts:AssumeRole",
           "Condition": {"StringEquals": {"sts:ExternalId": "b63a96a9-5e21-4eee-9902-a3cdc7a0d81e"}}}
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.atlas_ops.aws_access.plugins.module_utils._access_roles import ensure_access_role, validate_role_options
from ansible_collections.atlas_ops.aws_access.plugins.module_utils._argspec import (
    ATLAS_CONNECTION_OPTIONS,
    ATLAS_MUTUALLY_EXCLUSIVE,
    argument_spec,
)
from ansible_collections.atlas_ops.aws_access.plugins.module_utils._atlas_client import HTTPX_IMPORT_ERROR, AtlasFailure, open_session


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(
            ATLAS_CONNECTION_OPTIONS,
            state={"type": "str", "choices": ["present", "authorized", "absent"], "default": "present"},
            role_id={"type": "str"},
            iam_role_arn={"type": "str"},
            authorize_timeout={"type": "int", "default": 300},
            force={"type": "bool", "default": False},
        ),
        mutually_exclusive=ATLAS_MUTUALLY_EXCLUSIVE,
        required_if=[("state", "authorized", ["iam_role_arn"]), ("state", "absent", ["role_id", "iam_role_arn"], True)],
        supports_check_mode=True,
    )
    if HTTPX_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    try:
        validate_role_options(module.params)
        with open_session(module.params, os.environ) as session:
            result = ensure_access_role(session, module.params, check_mode=module.check_mode)
    except AtlasFailure as failure:
        module.fail_json(msg=failure.msg, **failure.result)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
