# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atlas connection and project options, documented once for every Atlas module."""

from __future__ import annotations


class ModuleDocFragment:
    """Options shared by atlas_access_role and atlas_access_role_info."""

    DOCUMENTATION = r"""
options:
  api_public_key:
    description:
      - Public key of an Atlas programmatic API key, sent as the HTTP Digest user.
      - When neither credential pair is given, read from E(MONGODB_ATLAS_PUBLIC_API_KEY), then E(MONGODB_ATLAS_PUBLIC_KEY).
      - Give either O(api_public_key) and O(api_private_key), or O(client_id) and O(client_secret); never both pairs.
      - The key needs the Project Owner role on the project.
    type: str
  api_private_key:
    description:
      - Private key of the Atlas programmatic API key, the HTTP Digest password.
      - When neither credential pair is given, read from E(MONGODB_ATLAS_PRIVATE_API_KEY), then E(MONGODB_ATLAS_PRIVATE_KEY).
    type: str
  client_id:
    description:
      - Client ID of an Atlas service account, used with the OAuth 2.0 client credentials flow.
      - When neither credential pair is given, read from E(MONGODB_ATLAS_CLIENT_ID).
    type: str
  client_secret:
    description:
      - Client secret of the Atlas service account.
      - When neither credential pair is given, read from E(MONGODB_ATLAS_CLIENT_SECRET).
    type: str
  base_url:
    description:
      - Base URL of the Atlas Administration API.
      - Use V(https://cloud.mongodbgov.com) for Atlas for Government.
      - If not set, read from E(MONGODB_ATLAS_BASE_URL), else V(https://cloud.mongodb.com).
    type: str
    default: https://cloud.mongodb.com
  validate_certs:
    description:
      - Verify the TLS certificate of O(base_url).
      - Set to V(false) only for a test endpoint with a self-signed certificate.
      - To trust a private certificate authority instead, set the E(SSL_CERT_FILE) environment variable to its PEM file.
    type: bool
    default: true
  project_id:
    description:
      - ID of the Atlas project (24 hexadecimal digits).
      - Mutually exclusive with O(project_name). When neither is given, read from E(MONGODB_ATLAS_PROJECT_ID).
    type: str
    aliases: [group_id]
  project_name:
    description:
      - Name of the Atlas project, resolved to its ID with C(GET /api/atlas/v2/groups/byName/{groupName}).
      - Mutually exclusive with O(project_id).
    type: str
notes:
  - Requires the C(httpx) Python library on the host that runs the module.
  - Credentials are never logged or returned.
requirements:
  - httpx
"""
