"""One `module_defaults: group/webstack.aws.aws` block configures every module of the collection."""

from __future__ import annotations

import os
import subprocess
import tempfile

import yaml
from common import BIN, ROOT, aws_env


def test_group_defaults_reach_the_modules(emulator):
    # The environment points at a closed port: only the group's endpoint_url can make this work.
    play = [
        {
            "name": "module_defaults",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {
                "group/webstack.aws.aws": {
                    "endpoint_url": emulator.endpoint,
                    "region": "us-east-1",
                    "access_key": "testing",
                    "secret_key": "testing",
                }
            },
            "tasks": [
                {"name": "info", "webstack.aws.environment_info": {"environment": "defaults"}, "register": "out"},
                {"name": "check", "ansible.builtin.assert": {"that": ["out.count == 0"]}},
            ],
        }
    ]
    env = aws_env("http://127.0.0.1:9")
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8") as handle:
        yaml.safe_dump(play, handle)
    try:
        emulator.reset_calls()
        proc = subprocess.run(
            [os.path.join(BIN, "ansible-playbook"), handle.name, "-i", os.path.join(ROOT, "inventories", "local")],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert any(call["action"] == "DescribeVpcs" for call in emulator.calls())
