# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What every webstack.aws layer module supports.  A module that says more about one attribute (a partial
    # idempotency, what its check mode also reports) lists that attribute again with only the fields it changes.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Returns the exact plan without changing anything.
  diff_mode:
    support: full
    description: The plan rendered as before and after of every changed resource, field by field.
  idempotent:
    support: full
    description: A second run with the same options reports no change and makes no mutating AWS call.
  platform:
    support: full
    platforms: aws
    description: Runs where the task runs (usually the controller) and calls the AWS APIs from there.
"""

    # The read-only module (webstack.aws.environment_info).
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  idempotent:
    support: full
    description: Reads only.
  platform:
    support: full
    platforms: aws
    description: Runs where the task runs (usually the controller) and calls the AWS APIs from there.
"""
