# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module of this collection declares, written once."""

from __future__ import annotations


class ModuleDocFragment:
    """check_mode and diff_mode support (base) and the action group of each module family."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
"""

    INFO_MODULE = r"""
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - This module never changes anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: N/A
    details:
      - This module never changes anything.
"""

    ATLAS = r"""
attributes:
  action_group:
    description: Use C(group/atlas_ops.aws_access.atlas) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - atlas_ops.aws_access.atlas
"""

    AWS = r"""
attributes:
  action_group:
    description: Use C(group/atlas_ops.aws_access.aws) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - atlas_ops.aws_access.aws
"""
