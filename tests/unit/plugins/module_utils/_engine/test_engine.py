"""The engine's planning and applying, with in-memory resource kinds (``_engine/__init__.py``, no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.webstack.aws.plugins.module_utils._engine import (
    CREATE,
    DELETE,
    LEGACY_LAYER_NAMES,
    REPLACE,
    UPDATE,
    Context,
    Current,
    Desired,
    Engine,
    EngineError,
    Kind,
    Ref,
    Unknown,
    layer_name,
    layer_tag_values,
    owned,
    tag_changes,
    with_layer_name,
)


class Store:
    """A fake cloud: id -> (kind, key, fields, tags), and a log of mutating calls."""

    def __init__(self):
        self.items = {}
        self.calls = []
        self.counter = 0

    def new_id(self, prefix):
        self.counter += 1
        return "%s-%d" % (prefix, self.counter)


class MemKind(Kind):
    def __init__(self, name, store, create_only=(), updatable=()):
        self.name = name
        self.store = store
        self.create_only = create_only
        self.updatable = updatable

    def read(self, ctx):
        return [
            Current(key, id_, dict(fields), dict(tags))
            for id_, (kind, key, fields, tags) in self.store.items.items()
            if kind == self.name
        ]

    def create(self, ctx, key, fields, tags):
        new = self.store.new_id(self.name)
        self.store.items[new] = (self.name, key, dict(fields), dict(tags))
        self.store.calls.append(("create", self.name, key))
        return new

    def update(self, ctx, current, fields, changed):
        kind, key, have, tags = self.store.items[current.id]
        for field in changed:
            have[field] = fields[field]
        self.store.calls.append(("update", self.name, key, tuple(sorted(changed))))

    def delete(self, ctx, current):
        del self.store.items[current.id]
        self.store.calls.append(("delete", self.name, current.key))

    def set_tags(self, ctx, current, add, remove):
        tags = self.store.items[current.id][3]
        tags.update(add)
        for key in remove:
            tags.pop(key)
        self.store.calls.append(("tags", self.name, current.key))


def make(store, purge_tags=True):
    ctx = Context("env1", "test", purge_tags=purge_tags)
    kinds = [
        MemKind("net", store, create_only=("cidr",), updatable=("dns",)),
        MemKind("sub", store, create_only=("net_id", "cidr"), updatable=("public",)),
    ]
    return ctx, Engine(ctx, kinds)


def desired(cidr="10.0.0.0/16", dns=True, subs=("a", "b"), public=False, tags=None):
    tags = tags if tags is not None else {"team": "x"}
    return {
        "net": {"main": Desired({"cidr": cidr, "dns": dns}, dict(tags))},
        "sub": dict(
            (s, Desired({"net_id": Ref("net", "main"), "cidr": "10.0.%d.0/24" % i, "public": public}, dict(tags)))
            for i, s in enumerate(subs)
        ),
    }


def converge(store, want, **kw):
    ctx, engine = make(store, **kw)
    engine.read()
    plan = engine.plan(want)
    engine.apply(plan, want)
    plan.ctx = ctx
    return plan


def test_create_plan_has_unknown_ids_for_children_and_applies_in_order():
    store = Store()
    ctx, engine = make(store)
    engine.read()
    plan = engine.plan(desired())
    assert [(c.action, c.kind, c.key) for c in plan.changes] == [
        (CREATE, "net", "main"),
        (CREATE, "sub", "a"),
        (CREATE, "sub", "b"),
    ]
    net_id = plan.changes[1].fields["net_id"][1]
    assert isinstance(net_id, Unknown)
    assert plan.to_list()[1]["fields"]["net_id"]["after"] == "(known after apply: net main)"
    engine.apply(plan, desired())
    assert store.calls == [("create", "net", "main"), ("create", "sub", "a"), ("create", "sub", "b")]
    subs = [v for v in store.items.values() if v[0] == "sub"]
    assert {s[2]["net_id"] for s in subs} == {"net-1"}
    assert ctx.applied == ["create net main", "create sub a", "create sub b"]


def test_second_plan_is_empty_and_apply_makes_no_call():
    store = Store()
    converge(store, desired())
    store.calls.clear()
    plan = converge(store, desired())
    assert plan.changes == []
    assert not plan.changed
    assert store.calls == []
    assert plan.ctx.applied == []


def test_update_in_place_names_only_changed_fields():
    store = Store()
    converge(store, desired())
    store.calls.clear()
    plan = converge(store, desired(dns=False, public=True))
    assert [(c.action, c.kind, c.key, sorted(c.fields)) for c in plan.changes] == [
        (UPDATE, "net", "main", ["dns"]),
        (UPDATE, "sub", "a", ["public"]),
        (UPDATE, "sub", "b", ["public"]),
    ]
    assert plan.changes[0].fields["dns"] == (True, False)
    assert ("update", "net", "main", ("dns",)) in store.calls


def test_create_only_change_is_a_replacement_that_cascades_to_children():
    store = Store()
    converge(store, desired())
    store.calls.clear()
    ctx, engine = make(store)
    engine.read()
    plan = engine.plan(desired(cidr="10.1.0.0/16"))
    assert [(c.action, c.key) for c in plan.changes] == [(REPLACE, "main"), (REPLACE, "a"), (REPLACE, "b")]
    assert plan.changes[0].replace_reasons == ["cidr"]
    assert plan.changes[1].replace_reasons == ["net_id"]
    engine.apply(plan, desired(cidr="10.1.0.0/16"))
    # children deleted before the parent, then the parent created before the children
    assert store.calls[:3] == [("delete", "sub", "b"), ("delete", "sub", "a"), ("delete", "net", "main")]
    assert [c[0] for c in store.calls[3:]] == ["create"] * 3


def test_removed_resources_are_deleted_children_first():
    store = Store()
    converge(store, desired(subs=("a", "b", "c")))
    store.calls.clear()
    plan = converge(store, {})
    assert [(c.action, c.kind) for c in plan.changes] == [(DELETE, "sub")] * 3 + [(DELETE, "net")]
    assert store.items == {}


def test_shrinking_deletes_only_what_is_no_longer_wanted():
    store = Store()
    converge(store, desired(subs=("a", "b", "c")))
    store.calls.clear()
    plan = converge(store, desired(subs=("a", "b")))
    assert [(c.action, c.key) for c in plan.changes] == [(DELETE, "c")]


def test_duplicates_from_an_interrupted_run_are_converged_to_one():
    store = Store()
    converge(store, desired())
    store.items["sub-99"] = ("sub", "a", {"net_id": "net-1", "cidr": "10.0.0.0/24", "public": False}, {})
    plan = converge(store, desired())
    assert [(c.action, c.key, c.id) for c in plan.changes] == [(DELETE, "a#duplicate-1", "sub-99")]


def test_tags_purge_and_keep():
    store = Store()
    converge(store, desired(tags={"team": "x", "old": "1"}))
    plan = converge(store, desired(tags={"team": "y"}), purge_tags=False)
    net = plan.of("net", "main")
    assert net.fields["tags"] == ({"team": "x", "old": "1"}, {"team": "y", "old": "1"})
    plan = converge(store, desired(tags={"team": "y"}))
    assert plan.of("net", "main").fields["tags"][1] == {"team": "y"}


def test_tag_changes_never_touch_aws_tags():
    add, remove, after = tag_changes({"aws:cloudformation:stack": "s", "a": "1"}, {"b": "2"}, purge=True)
    assert add == {"b": "2"}
    assert remove == ["a"]
    assert after == {"aws:cloudformation:stack": "s", "b": "2"}


def test_diff_renders_before_and_after_per_resource():
    store = Store()
    converge(store, desired())
    ctx, engine = make(store)
    engine.read()
    diff = engine.plan(desired(dns=False)).diff()
    assert diff["before"] == {"net main": {"dns": True}}
    assert diff["after"] == {"net main": {"dns": False}}


def test_poll_timeout_names_what_is_pending():
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    ctx = Context("env1", "test", wait_timeout=30, sleep=sleep, clock=lambda: now[0])
    with pytest.raises(EngineError) as err:
        ctx.poll("NAT gateways to become available", lambda: ["NAT gateway nat-1 (pending)"])
    assert "still pending: NAT gateway nat-1 (pending)" in str(err.value)
    assert "wait_timeout" in str(err.value)


def test_poll_returns_when_nothing_is_pending():
    states = [["x"], ["x"], []]
    ctx = Context("env1", "test", sleep=lambda s: None)
    ctx.poll("things", lambda: states.pop(0))
    assert states == []


def test_system_tags_are_always_enforced_and_named():
    ctx = Context("shop", "network", user_tags={"team": "x"})
    assert ctx.tags_for("load_balancer") == {
        "team": "x",
        "webstack:environment": "shop",
        "webstack:layer": "network",
        "webstack:resource": "load_balancer",
        "Name": "shop-load-balancer",
    }


def test_description_prefers_what_a_create_returned():
    ctx = Context("env1", "test")
    current = {"lb": {"main": Current("main", "arn:1", {}, raw={"DNSName": "old"})}}
    assert ctx.description("lb", "main", current) == {"DNSName": "old"}
    ctx.remember("lb", "main", {"DNSName": "new"})
    assert ctx.description("lb", "main", current) == {"DNSName": "new"}
    assert ctx.description("lb", "other", current) is None


def test_finish_runs_once_per_kind_in_creation_order_after_every_change():
    store = Store()
    ctx, engine = make(store)
    finished = []
    for kind in engine.kinds:
        kind.finish = lambda ctx, name=kind.name: finished.append((name, list(store.calls)))
    engine.read()
    plan = engine.plan(desired())
    engine.apply(plan, desired())
    assert [name for name, _calls in finished] == ["net", "sub"]
    assert all(len(calls) == 3 for _name, calls in finished)


def test_replace_creates_first_retires_the_old_one_after_every_create_and_update():
    store = Store()
    converge(store, desired())
    ctx, engine = make(store)
    engine.kinds[0].replace_creates_first = True
    engine.read()
    want = desired(cidr="10.1.0.0/16")
    plan = engine.plan(want)
    assert [c.action for c in plan.changes] == [REPLACE, REPLACE, REPLACE]
    store.calls = []
    engine.apply(plan, want)
    # children (delete first) go, the new net comes, children are made in it, then the old net goes
    assert store.calls == [
        ("delete", "sub", "b"),
        ("delete", "sub", "a"),
        ("create", "net", "main"),
        ("create", "sub", "a"),
        ("create", "sub", "b"),
        ("delete", "net", "main"),
    ]
    assert ctx.applied[-1] == "replace net main: old one deleted"
    assert len([i for i in store.items.values() if i[0] == "net"]) == 1


def test_check_delete_refuses_while_planning_before_any_call():
    store = Store()
    converge(store, desired())
    ctx, engine = make(store)

    def refuse(ctx, current):
        raise EngineError("%s is protected; turn protection off first" % current.key)

    engine.kinds[0].check_delete = refuse
    engine.read()
    store.calls = []
    with pytest.raises(EngineError, match="main is protected"):
        engine.plan({})
    with pytest.raises(EngineError, match="main is protected"):
        engine.plan(desired(cidr="10.1.0.0/16"))
    assert engine.plan(desired(dns=False)).changes[0].action == UPDATE
    assert store.calls == []


def test_default_equal_ignores_order_of_unordered_fields_and_never_matches_unknowns():
    class Groups(Kind):
        unordered = ("subnet_ids",)

    kind = Groups()
    assert kind.equal("subnet_ids", ["subnet-b", "subnet-a"], ["subnet-a", "subnet-b"])
    assert not kind.equal("subnet_ids", ["subnet-a"], ["subnet-a", "subnet-b"])
    assert kind.equal("subnet_ids", None, [])
    assert not kind.equal("order", ["b", "a"], ["a", "b"])  # not declared unordered: order counts
    assert not kind.equal("subnet_ids", ["subnet-a"], [Unknown("subnet a")])
    assert not kind.equal("vpc", {"id": "vpc-1"}, {"id": Unknown("vpc")})


# -- owned: the one ownership test every kind's read uses ---------------------------------------------------------
def tags(environment=None, layer=None, **more):
    result = dict(more)
    if environment is not None:
        result["webstack:environment"] = environment
    if layer is not None:
        result["webstack:layer"] = layer
    return result


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (tags("shop", "network"), True),
        (tags("shop", "network", Name="shop-vpc", team="x"), True),
        (tags("shop-prod", "network"), False),  # another environment (its name starts with ours)
        (tags("shop", "database"), False),  # another layer of the same environment
        (tags(None, "network"), False),
        (tags("shop", None), False),
        ({}, False),
    ],
)
def test_owned_by_one_layer_needs_both_tags(found, expected):
    assert owned(Context("shop", "network"), found) is expected


@pytest.mark.parametrize("layer", [None, ""])
def test_owned_by_a_whole_environment_takes_every_layer(layer):
    ctx = Context("shop", layer)  # environment_info, teardown verification
    assert owned(ctx, tags("shop", "network")) and owned(ctx, tags("shop", "database")) and owned(ctx, tags("shop"))
    assert not owned(ctx, tags("shop-prod", "network")) and not owned(ctx, {})


def test_owned_adopting_untagged_takes_a_missing_tag_but_never_another_value():
    """IAM: what is under the environment's path is its own unless a tag says otherwise."""
    ctx = Context("shop", "network")
    assert owned(ctx, {}, adopt_untagged=True)
    assert owned(ctx, tags("shop"), adopt_untagged=True) and owned(ctx, tags(None, "network"), adopt_untagged=True)
    assert not owned(ctx, tags("shop-prod"), adopt_untagged=True)
    assert not owned(ctx, tags("shop", "database"), adopt_untagged=True)
    assert not owned(ctx, {}) and not owned(ctx, tags("shop"))


# -- layers named like their modules; the names earlier releases tagged are still read -----------------------------
def test_every_layer_is_named_like_its_module():
    """module X <-> _layers/X.py <-> webstack:layer=X <-> the module's result key."""
    import importlib
    import os

    from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import LayerSpec

    root = os.path.dirname(importlib.import_module("ansible_collections.webstack.aws.plugins.modules").__path__[0])
    names = sorted(n[:-3] for n in os.listdir(os.path.join(root, "modules")) if n.endswith(".py"))
    names.remove("environment_info")  # reads every layer; not one
    names.remove("environment_preflight")  # checks every layer's options; not one
    assert {"network", "security_groups", "auto_scaling", "alarms", "instance_profile"} <= set(names)
    for name in names:
        module = importlib.import_module("ansible_collections.webstack.aws.plugins.module_utils._layers." + name)
        (spec,) = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, LayerSpec) and v.layer]
        assert spec.layer == name and spec.result_key == name, (name, spec.layer, spec.result_key)
    assert set(LEGACY_LAYER_NAMES) <= set(names)
    legacy = [value for values in LEGACY_LAYER_NAMES.values() for value in values]
    assert len(legacy) == len(set(legacy)) and not set(legacy) & set(names)


def test_legacy_layer_names_are_read_as_the_new_ones():
    assert LEGACY_LAYER_NAMES == {
        "security_groups": ("firewall",),
        "instance_profile": ("identity",),
        "auto_scaling": ("compute",),
        "alarms": ("monitoring",),
    }
    assert layer_tag_values("auto_scaling") == ("auto_scaling", "compute")
    assert layer_tag_values("network") == ("network",)
    assert [layer_name(v) for v in ("compute", "firewall", "identity", "monitoring")] == [
        "auto_scaling",
        "security_groups",
        "instance_profile",
        "alarms",
    ]
    assert layer_name("network") == "network" and layer_name(None) is None and layer_name("other") == "other"
    assert with_layer_name({"webstack:layer": "compute", "team": "x"}) == {
        "webstack:layer": "auto_scaling",
        "team": "x",
    }
    assert with_layer_name({"team": "x"}) == {"team": "x"} and with_layer_name(None) == {}


@pytest.mark.parametrize(
    ("layer", "found", "expected"),
    [
        ("auto_scaling", tags("shop", "compute"), True),
        ("auto_scaling", tags("shop", "auto_scaling"), True),
        ("security_groups", tags("shop", "firewall"), True),
        ("instance_profile", tags("shop", "identity"), True),
        ("alarms", tags("shop", "monitoring"), True),
        ("auto_scaling", tags("shop", "firewall"), False),  # another renamed layer's old name
        ("network", tags("shop", "compute"), False),
        ("auto_scaling", tags("shop-prod", "compute"), False),
    ],
)
def test_owned_takes_a_layer_by_the_name_it_had_before(layer, found, expected):
    assert owned(Context("shop", layer), found) is expected


class OwnedMemKind(MemKind):
    """Reads like a real kind: only what ``owned`` says is the context's."""

    def read(self, ctx):
        return [c for c in super().read(ctx) if owned(ctx, c.tags)]


def test_a_resource_tagged_with_the_old_layer_name_is_migrated_by_one_tag_update_then_torn_down():
    store = Store()
    old = {"webstack:environment": "shop", "webstack:layer": "compute", "webstack:resource": "group"}
    store.items["g-1"] = ("group", "group", {"size": 2}, dict(old, Name="shop-group"))
    store.items["g-2"] = ("group", "group", {"size": 2}, dict(old, **{"webstack:environment": "shop-prod"}))
    store.items["g-3"] = ("group", "other", {"size": 1}, dict(old, **{"webstack:layer": "network"}))
    ctx = Context("shop", "auto_scaling")
    want = {"group": {"group": Desired({"size": 2}, ctx.tags_for("group"))}}

    engine = Engine(ctx, [OwnedMemKind("group", store)])
    engine.read()
    plan = engine.plan(want)
    assert [(c.action, c.kind, c.key, c.id) for c in plan.changes] == [(UPDATE, "group", "group", "g-1")]
    before, after = plan.changes[0].fields["tags"]
    assert (before["webstack:layer"], after["webstack:layer"]) == ("compute", "auto_scaling")
    assert sorted(plan.changes[0].fields) == ["tags"]  # found, not created again: nothing else changes
    engine.apply(plan, want)
    assert store.calls == [("tags", "group", "group")]
    assert store.items["g-1"][3]["webstack:layer"] == "auto_scaling"

    again = Engine(ctx, [OwnedMemKind("group", store)])
    again.read()
    assert again.plan(want).changes == []

    store.items["g-1"][3]["webstack:layer"] = "compute"  # torn down before the migration ran: still found
    gone = Engine(ctx, [OwnedMemKind("group", store)])
    gone.read()
    plan = gone.plan({})
    assert [(c.action, c.id) for c in plan.changes] == [(DELETE, "g-1")]
    gone.apply(plan, {})
    assert sorted(store.items) == ["g-2", "g-3"]  # another environment's and another layer's are left alone


def test_not_found_matches_only_the_named_codes():
    import botocore.exceptions

    from ansible_collections.webstack.aws.plugins.module_utils._engine import not_found

    def error(code):
        return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")

    assert not_found(error("NoSuchBucket"), "NoSuchBucket", "404")
    assert not not_found(error("AccessDenied"), "NoSuchBucket", "404")
    assert not not_found(error("NoSuchBucket"))  # no codes: nothing is "not found"
    assert not not_found(ValueError("NoSuchBucket"), "NoSuchBucket")


def test_a_changed_field_neither_create_only_nor_updatable_is_a_planning_error_naming_kind_and_field():
    store = Store()
    converge(store, desired())
    want = desired()
    want["net"]["main"].fields["owner"] = "someone"  # a field the kind declares nowhere
    store.items[next(i for i, v in store.items.items() if v[0] == "net")][2]["owner"] = "else"
    ctx, engine = make(store)
    engine.read()
    with pytest.raises(EngineError) as err:
        engine.plan(want)
    message = str(err.value)
    assert "net main" in message and "field owner" in message and "neither create-only nor updatable" in message
    assert store.calls[-1][0] == "create"  # nothing was done while planning


def test_an_undeclared_field_that_matches_plans_nothing():
    store = Store()
    converge(store, desired())
    want = desired()
    want["net"]["main"].fields["owner"] = "same"
    store.items[next(i for i, v in store.items.items() if v[0] == "net")][2]["owner"] = "same"
    ctx, engine = make(store)
    engine.read()
    assert engine.plan(want).changes == []


def test_updatable_field_is_an_update_and_create_only_field_a_replacement():
    store = Store()
    converge(store, desired())
    ctx, engine = make(store)
    engine.read()
    assert [(c.action, c.kind, sorted(c.fields)) for c in engine.plan(desired(dns=False)).changes] == [
        (UPDATE, "net", ["dns"])
    ]
    assert [c.action for c in engine.plan(desired(cidr="10.1.0.0/16")).changes][0] == REPLACE


def test_every_kind_declares_its_fields_in_one_list_only():
    from ansible_collections.webstack.aws.plugins.module_utils._engine.inventory import KINDS

    for service, kinds in KINDS.items():
        for kind in kinds:
            both = set(kind.create_only) & set(kind.updatable)
            assert not both, "%s %s: %s both create-only and updatable" % (service, kind.name, sorted(both))
