# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a layer module runs: validate, read, plan, (apply), report.  Shared by every module."""

from __future__ import annotations

from ansible_collections.webstack.aws.plugins.module_utils._engine import CREATE, REPLACE, Context, Engine, EngineError
from ansible_collections.webstack.aws.plugins.module_utils._engine.validation import ValidationError, environment_name

try:
    import botocore
except ImportError:  # handled by AnsibleAWSModule
    pass

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def common_argument_spec():
    """Options every layer module has (plus amazon.aws's auth and endpoint options)."""
    return dict(
        environment=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
    )


class LayerSpec:
    """What a module tells the runner about its layer.

    ``services``: AWS services it talks to.  ``kinds()``: resource kinds in creation order.
    ``validate(params, check_mode)``: pure checks, raise ValidationError.  ``desired(ctx, params, current)``:
    {kind: {key: Desired}}.  ``outputs(ctx, params, ids, current)``: the module's result value.
    """

    layer = None
    result_key = None
    services = ()
    # Errors worth retrying besides throttling and 5xx: AWS's eventual consistency right after a create
    # (a new id not yet visible to the next call).
    retry_codes = ()
    # Errors worth retrying only when their message says so: (code, words) pairs.  EC2 and Auto Scaling answer
    # InvalidParameterValue / ValidationError for many things, but for a few seconds after an IAM instance
    # profile was made they answer it for the profile too (see iam.PROFILE_NOT_READY).
    retry_messages = ()

    def kinds(self):
        raise NotImplementedError

    def validate(self, params, check_mode):
        pass

    def desired(self, ctx, params, current):
        raise NotImplementedError

    def outputs(self, ctx, params, ids, current):
        raise NotImplementedError

    def absent_outputs(self, ctx, params):
        """The module's result value for state=absent (default: nothing; a final snapshot's name, say)."""
        return {}


MESSAGE_MATCH = "webstack:retryable-message"


def retry_decorator(spec, delay=1, max_delay=30):
    """AWSRetry with jittered backoff, retrying throttling and 5xx, the layer's ``retry_codes``, and its
    ``retry_messages`` (a code retried only when the error message contains the words, case-insensitive)."""
    codes = list(spec.retry_codes)
    if not spec.retry_messages:
        return AWSRetry.jittered_backoff(retries=10, delay=delay, max_delay=max_delay, catch_extra_error_codes=codes)
    pairs = [(code, words.lower()) for code, words in spec.retry_messages]

    class MessageRetry(AWSRetry):
        @staticmethod
        def status_code_from_exception(error):
            code = AWSRetry.status_code_from_exception(error)
            message = (error.response.get("Error", {}).get("Message") or "").lower()
            return MESSAGE_MATCH if any(code == c and w in message for c, w in pairs) else code

    return MessageRetry.jittered_backoff(
        retries=10, delay=delay, max_delay=max_delay, catch_extra_error_codes=codes + [MESSAGE_MATCH]
    )


def replacement_refusal(plan):
    """Why the plan is refused without allow_replacement (each replaced resource, its fields before -> after), or
    None when it replaces nothing."""
    replacements = plan.replacements()
    if not replacements:
        return None
    details = "; ".join(
        "%s %s (%s)"
        % (c.kind, c.key, ", ".join("%s %s -> %s" % (f, c.fields[f][0], c.fields[f][1]) for f in c.replace_reasons))
        for c in replacements
    )
    return (
        "This change needs resources replaced (deleted and created again), which is not allowed by "
        "default: %s. Revert the option, or set allow_replacement=true to replace them." % details
    )


def planned_ids(plan, current, present):
    """The ids a plan not applied (check mode, or nothing to do) leaves: those read, None for what it would make."""
    ids = dict((name, dict((k, c.id) for k, c in found.items())) for name, found in current.items())
    if present:
        for change in plan.changes:
            if change.action in (CREATE, REPLACE):
                ids.setdefault(change.kind, {})[change.key] = None
    return ids


def run_layer(spec, argument_spec, **module_kwargs):
    full_spec = common_argument_spec()
    full_spec.update(argument_spec)
    module = AnsibleAWSModule(argument_spec=full_spec, supports_check_mode=True, **module_kwargs)
    params = module.params
    try:
        environment_name(params["environment"])
        if params["wait_timeout"] < 0:
            raise ValidationError("wait_timeout", "must be 0 or more seconds")
        spec.validate(params, module.check_mode)
    except ValidationError as exc:
        module.fail_json(msg=str(exc), option=exc.option)

    retry = retry_decorator(spec)
    clients = {}
    for service in spec.services:
        clients[service] = module.client(service, retry_decorator=retry)
    ctx = Context(
        environment=params["environment"],
        layer=spec.layer,
        clients=clients,
        check_mode=module.check_mode,
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
        purge_tags=params["purge_tags"] if params.get("tags") is not None else False,
        user_tags=params.get("tags") or {},
        retry=retry,
    )
    engine = Engine(ctx, spec.kinds())
    try:
        current = engine.read()
        desired = spec.desired(ctx, params, current) if params["state"] == "present" else {}
        plan = engine.plan(desired)
        refusal = replacement_refusal(plan)
        if refusal and not params.get("allow_replacement"):
            module.fail_json(msg=refusal, plan=plan.to_list())
        ids = None
        if plan.changed and not module.check_mode:
            ids = engine.apply(plan, desired)
        if ids is None:
            ids = planned_ids(plan, current, params["state"] == "present")
        if params["state"] == "present":
            value = spec.outputs(ctx, params, ids, current)
        else:
            value = spec.absent_outputs(ctx, params)
    except ValidationError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    except EngineError as exc:
        module.fail_json(msg=str(exc), applied=ctx.applied)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="AWS refused a call (done so far: %s)" % (", ".join(ctx.applied) or "nothing"))

    result = dict(changed=plan.changed, plan=plan.to_list(), applied=ctx.applied)
    result[spec.result_key] = value
    if module._diff:
        result["diff"] = plan.diff()
    module.exit_json(**result)
