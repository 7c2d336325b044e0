# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to this collection: the connection options every module shares, declared once.

The doc fragments ``atlas_ops.aws_access.atlas`` and ``atlas_ops.aws_access.aws`` document exactly these specs;
``argument_spec`` merges copies so that no module can mutate the shared dicts.
"""

from __future__ import annotations

import copy

from ansible.module_utils.basic import env_fallback

# Credentials and project_id deliberately have no ``fallback``: the Atlas client reads the environment itself, so
# that options given in the task win over environment variables and "exactly one credential pair" can be judged.
ATLAS_CONNECTION_OPTIONS: dict[str, dict] = {
    "api_public_key": {"type": "str", "no_log": False},  # an identifier, not a secret
    "api_private_key": {"type": "str", "no_log": True},
    "client_id": {"type": "str"},
    "client_secret": {"type": "str", "no_log": True},
    "base_url": {
        "type": "str",
        "default": "https://cloud.mongodb.com",
        "fallback": (env_fallback, ["MONGODB_ATLAS_BASE_URL"]),
    },
    "validate_certs": {"type": "bool", "default": True},
    "project_id": {"type": "str", "aliases": ["group_id"]},
    "project_name": {"type": "str"},
}

ATLAS_MUTUALLY_EXCLUSIVE: list[tuple[str, ...]] = [("project_id", "project_name")]

# Unset AWS options fall through to boto3's own resolution (environment, shared files, instance role).
AWS_CONNECTION_OPTIONS: dict[str, dict] = {
    "access_key": {"type": "str", "no_log": False, "aliases": ["aws_access_key_id", "aws_access_key"]},
    "secret_key": {"type": "str", "no_log": True, "aliases": ["aws_secret_access_key", "aws_secret_key"]},
    "session_token": {"type": "str", "no_log": True, "aliases": ["aws_session_token"]},
    "profile": {"type": "str", "aliases": ["aws_profile"]},
    "region": {"type": "str", "aliases": ["aws_region"]},
    "endpoint_url": {"type": "str", "aliases": ["aws_endpoint_url"]},
}

AWS_MUTUALLY_EXCLUSIVE: list[tuple[str, ...]] = [
    ("profile", "access_key"),
    ("profile", "secret_key"),
    ("profile", "session_token"),
]
AWS_REQUIRED_TOGETHER: list[tuple[str, ...]] = [("access_key", "secret_key")]


def argument_spec(*option_sets: dict[str, dict], **module_options: dict) -> dict[str, dict]:
    """Merge deep copies of shared option sets with a module's own options (the module's win on a clash)."""
    merged: dict[str, dict] = {}
    for options in option_sets:
        merged.update(copy.deepcopy(options))
    merged.update(copy.deepcopy(module_options))
    return merged
