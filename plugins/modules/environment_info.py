#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: environment_info
short_description: Everything the collection created for an environment, found by its tags
version_added: 0.1.0
description:
  - Lists every resource tagged C(webstack:environment=<environment>), whatever its layer, with one
    filtered call per resource kind.
  - Teardown uses it to verify that nothing of the environment is left; operators use it as an inventory.
  - Never fails because nothing is found - an empty list is an answer.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  environment:
    description: The environment's name.
    type: str
    required: true
  layer:
    description:
      - Only resources of this layer, by its module's name (for example V(network) or V(security_groups)).
      - The names earlier releases gave four layers (V(firewall), V(identity), V(compute), V(monitoring)) are
        accepted and mean the same layers.
    type: str
extends_documentation_fragment:
  - webstack.aws.attributes.info_module
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: What is left of the environment
  webstack.aws.environment_info:
    environment: shop-prod
  register: leftovers

- name: Fail if anything tagged with the environment remains
  ansible.builtin.assert:
    that: leftovers.resources | length == 0
    fail_msg: "Still there: {{ leftovers.resources | map(attribute='id') | join(', ') }}"
"""

RETURN = r"""
resources:
  description: Every resource found, ordered by service and kind.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: The resource kind (V(vpc), V(subnet), V(security_group), ...).
      type: str
      sample: subnet
    key:
      description: The resource's key in its layer (its C(webstack:resource) tag).
      type: str
      sample: public-us-east-1a
    id:
      description: The AWS id.
      type: str
      sample: subnet-0123456789abcdef0
    layer:
      description:
        - The layer that owns it (its C(webstack:layer) tag), by the layer's name today, also when the tag still
          holds the name an earlier release gave it (the layer's next run updates the tag).
      type: str
      sample: network
    tags:
      description: All its tags.
      type: dict
count:
  description: How many resources were found.
  returned: always
  type: int
  sample: 0
by_layer:
  description: Layer to the number of resources found in it.
  returned: always
  type: dict
  sample: {"network": 16, "security_groups": 4}
"""

try:
    import botocore
except ImportError:  # handled by AnsibleAWSModule
    pass

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, layer_name
from ansible_collections.webstack.aws.plugins.module_utils._engine.inventory import KINDS, read_environment
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, environment_name


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(environment=dict(type="str", required=True), layer=dict(type="str")),
        supports_check_mode=True,
    )
    try:
        environment_name(module.params["environment"])
    except ValidationError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    retry = AWSRetry.jittered_backoff()
    clients = dict((service, module.client(service, retry_decorator=retry)) for service in KINDS)
    # a layer's name today, or one it had before (firewall, identity, compute, monitoring): the same resources
    layer = layer_name(module.params["layer"]) or None
    ctx = Context(environment=module.params["environment"], layer=layer, clients=clients, retry=retry)
    try:
        resources = read_environment(ctx)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="Could not list the environment's resources")
    by_layer = {}
    for item in resources:
        by_layer[item["layer"]] = by_layer.get(item["layer"], 0) + 1
    module.exit_json(changed=False, resources=resources, count=len(resources), by_layer=by_layer)


if __name__ == "__main__":
    main()
