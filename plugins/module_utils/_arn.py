# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to this collection: IAM role ARNs and names, judged one way on the Atlas side and the AWS side.

Pure and free of boto3, because the Atlas modules must not import it.
"""

from __future__ import annotations

import re
import typing as t

# Partition, 12-digit account, optional path (printable ASCII between slashes, at most 512 characters with its
# slashes) and a role name of 1-64 characters from IAM's name charset.
IAM_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-us-gov|aws-cn):iam::(?P<account>\d{12}):role"
    r"(?P<path>/(?:[\x21-\x2e\x30-\x7e]+/)*)(?P<name>[A-Za-z0-9+=,.@_-]{1,64})$"
)
IAM_ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
MAX_IAM_PATH = 512
ROLE_ARN_FORM = (
    "arn:<aws|aws-us-gov|aws-cn>:iam::<12-digit account>:role/[<path>/]<name> with a name of 1-64 characters"
    " from A-Z a-z 0-9 +=,.@_-"
)
ROLE_NAME_FORM = "1-64 characters from A-Z a-z 0-9 +=,.@_-"


class RoleArn(t.NamedTuple):
    """The parts of an IAM role ARN; IAM's API takes the name alone."""

    partition: str
    account: str
    path: str
    name: str


def parse_role_arn(value: t.Any) -> RoleArn | None:
    """The ARN's parts, or None when it is not an IAM role ARN in a partition Atlas serves."""
    match = IAM_ROLE_ARN.match(value) if isinstance(value, str) else None
    if not match or len(match.group("path")) > MAX_IAM_PATH:
        return None
    return RoleArn(match.group("partition"), match.group("account"), match.group("path"), match.group("name"))


def is_role_name(value: t.Any) -> bool:
    return isinstance(value, str) and bool(IAM_ROLE_NAME.match(value))
