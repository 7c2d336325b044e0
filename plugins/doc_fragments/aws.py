# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS connection options, named as amazon.aws names them, documented once."""

from __future__ import annotations


class ModuleDocFragment:
    """Options shared by every module that talks to AWS."""

    DOCUMENTATION = r"""
options:
  access_key:
    description:
      - AWS access key ID.
      - If not set, boto3 resolves credentials itself (environment variables such as E(AWS_ACCESS_KEY_ID),
        the shared credentials file and profile, or an instance or container role).
    type: str
    aliases: [aws_access_key_id, aws_access_key]
  secret_key:
    description:
      - AWS secret access key.
      - If not set, boto3 resolves credentials itself.
    type: str
    aliases: [aws_secret_access_key, aws_secret_key]
  session_token:
    description:
      - AWS session token, for temporary credentials.
    type: str
    aliases: [aws_session_token]
  profile:
    description:
      - Named profile from the AWS shared configuration and credentials files.
      - Cannot be combined with O(access_key), O(secret_key) or O(session_token).
    type: str
    aliases: [aws_profile]
  region:
    description:
      - AWS region used to sign requests. IAM is global, so this rarely matters; V(us-east-1) is used when
        neither this option nor boto3's configuration sets one.
    type: str
    aliases: [aws_region]
  endpoint_url:
    description:
      - URL of the IAM endpoint, for a test endpoint such as moto's server or a VPC endpoint.
      - If not set, boto3 chooses the endpoint (and honours E(AWS_ENDPOINT_URL_IAM) and E(AWS_ENDPOINT_URL)).
    type: str
    aliases: [aws_endpoint_url]
notes:
  - Requires the C(boto3) and C(botocore) Python libraries on the host that runs the module.
requirements:
  - boto3
  - botocore
"""
