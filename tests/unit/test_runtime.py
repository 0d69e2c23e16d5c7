"""meta/runtime.yml's action group must list every module, so one module_defaults block configures all."""

from __future__ import annotations

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_action_group_lists_every_module():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    modules = sorted(
        name[:-3]
        for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
        if name.endswith(".py") and not name.startswith("_")
    )
    assert modules, "no modules found"
    assert sorted(runtime["action_groups"]["aws"]) == modules
