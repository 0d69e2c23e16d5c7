"""Everything tagged with an environment (``_engine/inventory.py``): what environment_info and teardown
verification read (no AWS)."""

from __future__ import annotations

from ansible_collections.webstack.aws.plugins.module_utils._engine import Context, Current, Kind, inventory, owned


def tagged(environment, layer, key):
    return {"webstack:environment": environment, "webstack:layer": layer, "webstack:resource": key}


class Found(Kind):
    """A kind whose read returns these resources, filtered as every kind filters: by ``owned``."""

    name = "thing"
    items = [
        Current("vpc", "vpc-1", {}, tagged("shop", "network", "vpc")),
        Current("instance", "sg-1", {}, tagged("shop", "firewall", "instance")),  # an earlier release's name
        Current("instance", "sg-2", {}, tagged("shop", "security_groups", "instance")),
        Current("group", "asg-1", {}, tagged("shop-prod", "compute", "group")),  # another environment
    ]

    def read(self, ctx):
        return [c for c in self.items if owned(ctx, c.tags)]


def test_every_layer_is_reported_by_its_name_today(monkeypatch):
    monkeypatch.setattr(inventory, "KINDS", {"ec2": (Found,)})
    found = inventory.read_environment(Context("shop", None))
    assert [(r["id"], r["layer"]) for r in found] == [
        ("vpc-1", "network"),
        ("sg-1", "security_groups"),
        ("sg-2", "security_groups"),
    ]
    assert found[1]["tags"]["webstack:layer"] == "firewall"  # the tags as they are


def test_one_layer_is_read_by_every_name_it_had(monkeypatch):
    monkeypatch.setattr(inventory, "KINDS", {"ec2": (Found,)})
    found = inventory.read_environment(Context("shop", "security_groups"))
    assert [r["id"] for r in found] == ["sg-1", "sg-2"]
