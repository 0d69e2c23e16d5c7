# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine every webstack.aws module shares: read, plan, apply.

A *layer* (network, firewall, ...) is a list of resource *kinds* in creation order.  Each kind
(one AWS resource type) knows how to read every resource of the layer in one filtered call, and
how to create, update and delete one.  The engine turns the desired state into a plan — a list of
create / update / replace / delete changes with field-level before and after — and applies it.
Check mode is the same plan, not applied; ``--diff`` is the plan rendered.

This file is pure Python: no boto3, no Ansible.  It is unit-tested on its own.
"""

from __future__ import annotations

import time

CREATE = "create"
UPDATE = "update"
REPLACE = "replace"
DELETE = "delete"

TAG_ENVIRONMENT = "webstack:environment"
TAG_LAYER = "webstack:layer"
TAG_RESOURCE = "webstack:resource"
SYSTEM_TAG_PREFIX = "webstack:"

# A layer is named like its module (``webstack:layer=auto_scaling`` is what webstack.aws.auto_scaling made).
# Earlier releases tagged four layers with other names; a resource tagged so is still its layer's: every read
# that filters on the layer tag takes these values too (``owned``, ``layer_tag_values``), and the next run of
# the layer plans the tag's update to the new name (``webstack:layer: compute -> auto_scaling``, once).
# environment_info reports such a resource under the new name.  New layer name -> the values it replaces.
LEGACY_LAYER_NAMES = {
    "security_groups": ("firewall",),
    "instance_profile": ("identity",),
    "auto_scaling": ("compute",),
    "alarms": ("monitoring",),
}


class EngineError(Exception):
    """A failure the module reports as is (the message says what to do)."""


class Unknown:
    """A value that is known only after apply (the id of a resource not created yet)."""

    def __init__(self, what):
        self.what = what

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    def __hash__(self):
        return hash(("unknown", self.what))

    def __repr__(self):
        return "(known after apply: %s)" % self.what


class Ref:
    """A reference, in desired fields, to the id of another resource of the same layer."""

    def __init__(self, kind, key):
        self.kind = kind
        self.key = key

    def __repr__(self):
        return "Ref(%s, %s)" % (self.kind, self.key)


def resolve(value, lookup):
    """Replace every Ref inside ``value`` (dicts, lists, scalars) by ``lookup(ref)``."""
    if isinstance(value, Ref):
        return lookup(value)
    if isinstance(value, dict):
        return dict((k, resolve(v, lookup)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [resolve(v, lookup) for v in value]
    return value


def render(value):
    """A JSON-friendly copy of a value, with unknowns spelled out."""
    if isinstance(value, Unknown):
        return repr(value)
    if isinstance(value, dict):
        return dict((k, render(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [render(v) for v in value]
    return value


def contains_unknown(value):
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return False


class Current:
    """What a read found: the AWS id, the comparable fields, the tags, and the raw description."""

    def __init__(self, key, id, fields, tags=None, raw=None):
        self.key = key
        self.id = id
        self.fields = fields
        self.tags = tags or {}
        self.raw = raw


class Desired:
    """What the user asked for: fields (may hold Refs) and the tags to enforce."""

    def __init__(self, fields, tags=None):
        self.fields = fields
        self.tags = tags or {}


class Change:
    """One planned change: create, update, replace or delete of one resource."""

    def __init__(self, action, kind, key, id=None, fields=None, replace_reasons=None):
        self.action = action
        self.kind = kind
        self.key = key
        self.id = id
        self.fields = fields or {}  # name -> (before, after)
        self.replace_reasons = replace_reasons or []

    def to_dict(self):
        result = {
            "action": self.action,
            "kind": self.kind,
            "key": self.key,
            "id": self.id,
            "fields": dict(
                (name, {"before": render(before), "after": render(after)})
                for name, (before, after) in sorted(self.fields.items())
            ),
        }
        if self.replace_reasons:
            result["replace_reasons"] = list(self.replace_reasons)
        return result

    def summary(self):
        if self.action == UPDATE:
            return "%s %s %s (%s)" % (self.action, self.kind, self.key, ", ".join(sorted(self.fields)))
        return "%s %s %s" % (self.action, self.kind, self.key)


class Plan:
    def __init__(self, changes):
        self.changes = changes

    @property
    def changed(self):
        return bool(self.changes)

    def of(self, kind, key):
        for change in self.changes:
            if change.kind == kind and change.key == key:
                return change
        return None

    def replacements(self):
        return [c for c in self.changes if c.action == REPLACE]

    def to_list(self):
        return [change.to_dict() for change in self.changes]

    def diff(self):
        """Ansible's diff: before and after of every changed resource, keyed ``kind key``."""
        before, after = {}, {}
        for change in self.changes:
            name = "%s %s" % (change.kind, change.key)
            if change.action != CREATE:
                before[name] = dict((f, render(b)) for f, (b, _a) in sorted(change.fields.items()))
            if change.action != DELETE:
                after[name] = dict((f, render(a)) for f, (_b, a) in sorted(change.fields.items()))
        return {"before": before, "after": after, "before_header": "current", "after_header": "planned"}


class Kind:
    """One AWS resource type of a layer.  Subclasses override read / create / update / delete.

    ``create_only``: fields that cannot change in place (a change means replacement).
    ``updatable``: fields an update can change.  A desired field in neither list that differs from what the
    read found is a planning error naming the kind and the field (the kind cannot converge it): declare every
    field a layer may change in one of the two.
    ``unordered``: list fields whose order does not matter (ids of subnets, security groups ...).
    """

    name = "resource"
    create_only = ()
    updatable = ()
    unordered = ()
    # Replace by creating the successor first and deleting the old one after every create and update
    # (so references can be repointed to it first); needs the two to coexist (different names).
    replace_creates_first = False

    def read(self, ctx):
        """Every resource of this kind in the layer, as a list of Current: one filtered call, not one per item."""
        raise NotImplementedError

    def create(self, ctx, key, fields, tags):
        """Create one resource with these (resolved) fields and tags; return its id."""
        raise NotImplementedError

    def update(self, ctx, current, fields, changed):
        """Bring ``current`` to the resolved ``fields``; ``changed`` names the fields that differ."""
        raise NotImplementedError

    def delete(self, ctx, current):
        raise NotImplementedError

    def set_tags(self, ctx, current, add, remove):
        raise NotImplementedError

    def wait_created(self, ctx, ids):
        """Wait until freshly created resources are usable (default: they are at once)."""

    def wait_deleted(self, ctx, ids):
        """Wait until deleted resources are gone (default: they are at once)."""

    def equal(self, field, before, after):
        """Whether a field already matches: never for a value known only after apply, in any order for the
        ``unordered`` fields.  Override to normalise more (case, defaults), and fall back on this."""
        if contains_unknown(after):
            return False
        if field in self.unordered:
            return sorted(before or []) == sorted(after or [])
        return before == after

    def sort_keys(self, keys):
        """The order in which resources of this kind are created (deletes go in reverse)."""
        return sorted(keys)

    def check_delete(self, ctx, current):
        """Raise EngineError if ``current`` must not be deleted (or replaced) now; called while planning,
        so check mode fails the same way and nothing is touched (default: any resource may go)."""

    def finish(self, ctx):
        """Called once per kind, in creation order, after a plan has been applied (default: nothing).

        For kinds that buffer their changes and send them in one batch (Route 53 record sets), or that
        retire a replaced resource only once its successor is in service."""


def dig(answer, path):
    """The list at a dotted ``path`` of an answer (``[]`` where any part is missing)."""
    value = answer
    for part in path.split("."):
        value = (value or {}).get(part)
    return value or []


def tag_list(tags):
    """A dict of tags in AWS's shape, [{"Key": k, "Value": v}, ...], sorted by key."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_dict(tags):
    """AWS's [{"Key": k, "Value": v}, ...] (or None) as a dict."""
    return dict((t["Key"], t["Value"]) for t in tags or [])


def error_code(exc):
    """The error code of a botocore ClientError (None for any other exception)."""
    return getattr(exc, "response", {}).get("Error", {}).get("Code")


def not_found(error, *codes):
    """Whether ``error`` says the resource is not there: a botocore ClientError whose code is one of ``codes``.

    The one not-found idiom of the collection: ``except ClientError as exc: if not not_found(exc, "NoSuchX"): raise``
    (or ``Context.optional``).  Anything else -- AccessDenied, throttling, another code, another exception -- is
    not "not found" and must propagate."""
    return bool(codes) and error_code(error) in codes


def owned(ctx, tags, adopt_untagged=False):
    """Whether a resource's tags say it belongs to ``ctx``: ``webstack:environment`` is the context's environment
    and, when the context is one layer's (``ctx.layer`` set; empty when reading a whole environment, as
    environment_info does), ``webstack:layer`` is that layer, under its name or one it had before
    (``LEGACY_LAYER_NAMES``).

    ``adopt_untagged``: a missing tag counts as a match too (a different value still does not).  For resources
    read from a place that already says whose they are, where a name is unique in the account: IAM's role and
    profile under the ``/webstack/<environment>/`` path.  One made there without our tags (by hand, or by
    another tool) is then adopted, and tagged by the plan, instead of planned as a create that would fail
    with EntityAlreadyExists.
    """
    environment = tags.get(TAG_ENVIRONMENT)
    if environment != ctx.environment and not (adopt_untagged and environment is None):
        return False
    if not ctx.layer:
        return True
    layer = tags.get(TAG_LAYER)
    return layer in layer_tag_values(ctx.layer) or (adopt_untagged and layer is None)


def layer_tag_values(layer):
    """Every ``webstack:layer`` value that means ``layer``: its name, then the names earlier releases gave it."""
    return (layer,) + LEGACY_LAYER_NAMES.get(layer, ())


def layer_name(value):
    """The layer a ``webstack:layer`` value means today: a legacy name translated, any other value as it is."""
    for layer, legacy in LEGACY_LAYER_NAMES.items():
        if value in legacy:
            return layer
    return value


def with_layer_name(tags):
    """A copy of ``tags`` whose ``webstack:layer`` value (if any) is the layer's name today."""
    result = dict(tags or {})
    if TAG_LAYER in result:
        result[TAG_LAYER] = layer_name(result[TAG_LAYER])
    return result


def tag_changes(current_tags, desired_tags, purge):
    """(add, remove, after) for tags.  ``aws:`` tags are never touched."""
    add = dict((k, v) for k, v in desired_tags.items() if current_tags.get(k) != v)
    remove = []
    if purge:
        remove = sorted(k for k in current_tags if k not in desired_tags and not k.startswith("aws:"))
    after = dict((k, v) for k, v in current_tags.items() if k not in remove)
    after.update(desired_tags)
    return add, remove, after


class Context:
    """What a kind needs while reading and applying: clients, names, options, and the shared state."""

    def __init__(
        self,
        environment,
        layer,
        clients=None,
        check_mode=False,
        wait=True,
        wait_timeout=600,
        purge_tags=True,
        user_tags=None,
        sleep=time.sleep,
        clock=time.monotonic,
        retry=None,
    ):
        self.environment = environment
        self.layer = layer
        self.clients = clients or {}
        self.check_mode = check_mode
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.purge_tags = purge_tags
        self.user_tags = user_tags
        self.sleep = sleep
        self.clock = clock
        # AWSRetry's decorator when the clients came from AnsibleAWSModule (their calls then take aws_retry=True);
        # None for plain clients (unit tests, Stubber)
        self.retry = retry
        self.created = {}  # (kind, key) -> what the create answered (see remember)
        self._states = {}  # state class -> its one instance in this run (see state)
        self.applied = []  # "create subnet public-a" ... in the order done

    def call(self, service, operation, **params):
        """One AWS call, retried with jittered backoff when the client came from AnsibleAWSModule."""
        client = self.clients[service]
        if self.retry is not None:
            params["aws_retry"] = True
        return getattr(client, operation)(**params)

    def paginate(self, service, operation, result_key, **params):
        """Every item of a paged Describe/List call, concatenated: one call per page, with boto3's paginator for
        the operation (whatever its token: NextToken, Marker, IsTruncated, a token inside the answer's list);
        where boto3 has none, NextToken pagination.  ``result_key``: where the items are, dotted for a nested
        list (``DistributionList.Items``).  The whole listing is retried when a page is throttled."""
        client = self.clients[service]
        can_paginate = getattr(client, "can_paginate", None)
        if can_paginate is None or not can_paginate(operation):
            return self._next_token_pages(service, operation, result_key, params)

        def listing():
            items = []
            for page in client.get_paginator(operation).paginate(**params):
                items.extend(dig(page, result_key))
            return items

        return self.retry(listing)() if self.retry is not None else listing()

    def _next_token_pages(self, service, operation, result_key, params):
        items = []
        while True:
            page = self.call(service, operation, **params)
            items.extend(dig(page, result_key))
            token = page.get("NextToken")
            if not token:
                return items
            params["NextToken"] = token

    def optional(self, service, operation, codes, **params):
        """One call whose answer is None when AWS says the thing is not there (an error code in ``codes``, see
        ``not_found``); every other error propagates."""
        try:
            return self.call(service, operation, **params)
        except Exception as exc:  # noqa: BLE001 - re-raised unless it is one of the not-found codes
            if not_found(exc, *codes):
                return None
            raise

    def state(self, cls):
        """The run's one instance of ``cls``: a dataclass a kinds module declares for what its kinds (and its
        layer) pass each other during one run (a read's cache, what a create learnt).  Typed fields, found by
        class -- no string-keyed side channel."""
        found = self._states.get(cls)
        if found is None:
            found = self._states[cls] = cls()
        return found

    def remember(self, kind, key, description):
        """Keep what a create returned (an ARN, a DNS name...) for the layer's outputs."""
        self.created[(kind, key)] = description

    def description(self, kind, key, current=None):
        """What AWS said of a resource: the create's answer if it was made in this run, else its read."""
        made = self.created.get((kind, key))
        if made is not None:
            return made
        found = (current or {}).get(kind, {}).get(key)
        return found.raw if found is not None else None

    def system_tags(self, key):
        return {
            TAG_ENVIRONMENT: self.environment,
            TAG_LAYER: self.layer,
            TAG_RESOURCE: key,
            "Name": "%s-%s" % (self.environment, key.replace("_", "-")),
        }

    def tags_for(self, key):
        tags = dict(self.user_tags or {})
        tags.update(self.system_tags(key))
        return tags

    def poll(self, what, pending, timeout=None, interval=2.0, max_interval=15.0):
        """Wait until ``pending()`` returns an empty list; on timeout, say what is still pending."""
        timeout = self.wait_timeout if timeout is None else timeout
        deadline = self.clock() + timeout
        delay = min(interval, 0.5)
        while True:
            still = pending()
            if not still:
                return
            if self.clock() >= deadline:
                raise EngineError(
                    "Timed out after %ss waiting for %s; still pending: %s. Raise wait_timeout or check these "
                    "resources in the AWS console." % (timeout, what, ", ".join(still))
                )
            self.sleep(delay)
            delay = min(max(delay * 2, interval), max_interval)


class Engine:
    """Reads a layer, plans it against the desired state, applies the plan."""

    def __init__(self, ctx, kinds):
        self.ctx = ctx
        self.kinds = kinds  # creation order
        self.by_name = dict((k.name, k) for k in kinds)
        self.current = {}
        self.duplicates = {}

    # -- read --------------------------------------------------------------------------------
    def read(self):
        for kind in self.kinds:
            by_key, extras = {}, []
            for item in sorted(kind.read(self.ctx), key=lambda c: c.id):
                if item.key in by_key:
                    extras.append(item)  # an interrupted create, or made by hand: converge to one
                else:
                    by_key[item.key] = item
            self.current[kind.name] = by_key
            self.duplicates[kind.name] = extras
        return self.current

    # -- plan --------------------------------------------------------------------------------
    def plan(self, desired):
        """``desired``: {kind name: {key: Desired}} for every kind (missing kinds mean 'none')."""
        changes = []
        deletes_by_kind = []
        planned_ids = {}

        def lookup(ref):
            value = planned_ids.get(ref.kind, {}).get(ref.key)
            return value if value is not None else Unknown("%s %s" % (ref.kind, ref.key))

        for kind in self.kinds:
            ids = planned_ids.setdefault(kind.name, {})
            changes.extend(self._plan_kind(kind, desired.get(kind.name, {}), lookup, ids))
            deletes_by_kind.append(self._plan_deletes(kind, desired.get(kind.name, {})))
        # In the order apply runs them: deletes last kind first, then creates and updates first kind first.
        ordered = [change for deletes in reversed(deletes_by_kind) for change in deletes]
        for change in ordered + changes:
            if change.action in (DELETE, REPLACE):
                self.by_name[change.kind].check_delete(self.ctx, self._current_for(change))
        return Plan(ordered + changes)

    def _plan_kind(self, kind, wanted, lookup, ids):
        """Creates, replacements and updates of one kind; ``ids``: key -> the id (or Unknown) children refer to."""
        changes = []
        existing = self.current.get(kind.name, {})
        for key in kind.sort_keys(list(wanted)):
            want = wanted[key]
            fields = resolve(want.fields, lookup)
            have = existing.get(key)
            if have is None:
                change_fields = dict((f, (None, v)) for f, v in fields.items())
                change_fields["tags"] = ({}, want.tags or {})
                changes.append(Change(CREATE, kind.name, key, fields=change_fields))
                ids[key] = Unknown("%s %s" % (kind.name, key))
                continue
            diffs, reasons = self._field_diffs(kind, key, have, fields)
            _add, _remove, after_tags = tag_changes(have.tags, want.tags, self.ctx.purge_tags)
            if reasons:
                all_fields = dict((f, (have.fields.get(f), v)) for f, v in fields.items())
                all_fields["tags"] = (have.tags, want.tags)
                changes.append(Change(REPLACE, kind.name, key, have.id, all_fields, reasons))
                ids[key] = Unknown("%s %s" % (kind.name, key))
                continue
            if after_tags != have.tags:
                diffs["tags"] = (have.tags, after_tags)
            if diffs:
                changes.append(Change(UPDATE, kind.name, key, have.id, diffs))
            ids[key] = have.id
        return changes

    @staticmethod
    def _field_diffs(kind, key, have, fields):
        """({field: (before, after)} of the fields that differ, [the create-only ones among them])."""
        diffs = {}
        reasons = []
        for field, value in fields.items():
            before = have.fields.get(field)
            if kind.equal(field, before, value):
                continue
            diffs[field] = (before, value)
            if field in kind.create_only:
                reasons.append(field)
            elif field not in kind.updatable:
                raise EngineError(
                    "internal: %s %s: field %s differs (%r -> %r) but %s declares it neither create-only "
                    "nor updatable, so no change can converge it"
                    % (kind.name, key, field, render(before), render(value), type(kind).__name__)
                )
        return diffs, reasons

    def _plan_deletes(self, kind, wanted):
        """Deletes of one kind (what is not wanted, and duplicates), last created first."""
        deletes = []
        existing = self.current.get(kind.name, {})
        doomed = [key for key in existing if key not in wanted]
        for key in reversed(kind.sort_keys(doomed)):
            have = existing[key]
            before = dict((f, (v, None)) for f, v in have.fields.items())
            before["tags"] = (have.tags, {})
            deletes.append(Change(DELETE, kind.name, key, have.id, before))
        for index, extra in enumerate(self.duplicates.get(kind.name, [])):
            before = dict((f, (v, None)) for f, v in extra.fields.items())
            deletes.append(Change(DELETE, kind.name, "%s#duplicate-%d" % (extra.key, index + 1), extra.id, before))
        return deletes

    # -- apply -------------------------------------------------------------------------------
    def apply(self, plan, desired):
        """Deletes (and the delete half of replacements) in reverse order, then creates and updates."""
        ctx = self.ctx
        ids = dict((name, dict((k, c.id) for k, c in found.items())) for name, found in self.current.items())
        self._delete_first(plan, ids)

        def lookup(ref):
            value = ids.get(ref.kind, {}).get(ref.key)
            if value is None:
                raise EngineError("internal: %s %s has no id yet" % (ref.kind, ref.key))
            return value

        for kind in self.kinds:
            created = []
            for change in plan.changes:
                if change.kind == kind.name and change.action != DELETE:
                    self._apply_change(kind, change, desired[kind.name][change.key], lookup, ids, created)
            if created and ctx.wait:
                kind.wait_created(ctx, created)
        self._retire_replaced(plan)
        for kind in self.kinds:
            kind.finish(ctx)
        return ids

    def _delete_first(self, plan, ids):
        """Deletes, and the delete half of replacements (unless the kind creates the successor first), last kind
        first."""
        for kind in reversed(self.kinds):
            # plain deletes are planned in reverse already; replacements are listed in creation order
            doomed = [c for c in plan.changes if c.kind == kind.name and c.action == DELETE]
            if not kind.replace_creates_first:
                doomed += reversed([c for c in plan.changes if c.kind == kind.name and c.action == REPLACE])
            if doomed:
                self._delete(kind, doomed, ids)

    def _retire_replaced(self, plan):
        """The replaced resources of kinds that create the successor first, once every create and update ran."""
        for kind in reversed(self.kinds):
            if kind.replace_creates_first:
                retired = [c for c in plan.changes if c.kind == kind.name and c.action == REPLACE]
                if retired:
                    self._delete(kind, list(reversed(retired)), {})

    def _apply_change(self, kind, change, want, lookup, ids, created):
        """Create (or create the successor of) one resource, or update its fields and tags."""
        ctx = self.ctx
        fields = resolve(want.fields, lookup)
        if change.action in (CREATE, REPLACE):
            new_id = kind.create(ctx, change.key, fields, want.tags)
            ids.setdefault(kind.name, {})[change.key] = new_id
            created.append(new_id)
            ctx.applied.append("%s %s %s" % (change.action, kind.name, change.key))
            return
        current = self.current[kind.name][change.key]
        changed = [f for f in change.fields if f != "tags"]
        if changed:
            kind.update(ctx, current, fields, changed)
        if "tags" in change.fields:
            add, remove, _after = tag_changes(current.tags, want.tags, ctx.purge_tags)
            kind.set_tags(ctx, current, add, remove)
        ctx.applied.append(change.summary())

    def _delete(self, kind, doomed, ids):
        for change in doomed:
            kind.delete(self.ctx, self._current_for(change))
            if change.action == DELETE:
                self.ctx.applied.append("delete %s %s" % (kind.name, change.key))
            else:
                self.ctx.applied.append("replace %s %s: old one deleted" % (kind.name, change.key))
            ids.get(kind.name, {}).pop(change.key, None)
        kind.wait_deleted(self.ctx, [c.id for c in doomed])

    def _current_for(self, change):
        current = self.current.get(change.kind, {}).get(change.key)
        if current is not None:
            return current
        for extra in self.duplicates.get(change.kind, []):
            if extra.id == change.id:
                return extra
        raise EngineError("internal: nothing current for %s %s" % (change.kind, change.key))
