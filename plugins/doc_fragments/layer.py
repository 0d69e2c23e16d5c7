# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options every webstack.aws layer module has.
    DOCUMENTATION = r"""
options:
  environment:
    description:
      - Name of the environment this layer belongs to, for example C(shop-prod).
      - Every resource the module creates is tagged C(webstack:environment=<environment>),
        C(webstack:layer=<layer>) (the module's name, for example C(auto_scaling)) and C(webstack:resource=<key>),
        and named C(<environment>-<key>).
        The module finds its resources again by these tags only, so two environments never touch
        each other's resources.
      - 2 to 40 lowercase letters, digits and single hyphens, starting with a letter.
    type: str
    required: true
  state:
    description:
      - V(present) converges the layer to the options given, V(absent) deletes everything the
        layer created for this environment.
    type: str
    choices: [present, absent]
    default: present
  tags:
    description:
      - Tags to put on every resource of the layer, besides the C(webstack:*) tags and C(Name),
        which are always enforced.
      - If O(tags) is not set, user tags already on the resources are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description:
      - With O(tags) set, remove tags not listed in O(tags) (tags beginning with C(aws:) are never touched).
    type: bool
    default: true
  wait:
    description:
      - Wait for slow resources (for example NAT gateways) to become available before returning.
      - Deletions that later steps depend on are always waited for.
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds. When it runs out the module fails and says what is still pending.
    type: int
    default: 900
"""
