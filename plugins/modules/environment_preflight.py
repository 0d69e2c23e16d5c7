#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: environment_preflight
short_description: Check a whole environment definition before any AWS call
version_added: 0.1.0
description:
  - Checks an environment definition (what the C(webstack.aws.environment) role takes as
    C(webstack_environment)) with the rules every layer module applies to its own options - their argument
    specs and their validation - and with the rules that span layers (a name every resource can carry, CDN
    aliases inside the domain, the load balancer's process ports open in the firewall, what each tier has).
  - Reports every problem at once, each under its path in the definition, for example
    C(webstack_environment.load_balancer.ssl_policy), and makes no AWS call at all, so a bad definition is
    refused before anything is created.
  - The role runs it first; run it on its own to check a definition in CI.
  - Ids and ARNs the role passes from layers converged earlier in the same run are not known yet; they are
    checked by the modules when they run.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  definition:
    description:
      - The environment definition, with the role's defaults filled in
        (see C(ansible-doc -t role webstack.aws.environment)).
      - Secret values in it (the database password, the cache AUTH token, alarm subscription endpoints) are never shown.
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: Reads nothing and changes nothing; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  idempotent:
    support: full
    description: A pure check.
  platform:
    support: full
    platforms: posix
    description: Runs where the task runs; makes no AWS call.
"""

EXAMPLES = r"""
- name: Check the environment definition before anything else
  webstack.aws.environment_preflight:
    definition: "{{ webstack_environment }}"
"""

RETURN = r"""
problems:
  description: Every problem found, each its path in the definition, a colon and what is wrong.
  returned: always
  type: list
  elements: str
  sample:
    - "webstack_environment.load_balancer.ssl_policy: 'ELBSecurityPolicy-Nope' is not a predefined ALB security policy"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.webstack.aws.plugins.module_utils._engine.preflight import check_definition, secrets


def main():
    module = AnsibleModule(argument_spec=dict(definition=dict(type="dict", required=True)), supports_check_mode=True)
    definition = module.params["definition"]
    module.no_log_values.update(secrets(definition))
    problems = check_definition(definition)
    if problems:
        module.fail_json(
            msg="The environment definition has %d problem%s (nothing was changed): %s"
            % (len(problems), "" if len(problems) == 1 else "s", "; ".join(problems)),
            problems=problems,
        )
    module.exit_json(changed=False, problems=[])


if __name__ == "__main__":
    main()
