"""The lock (requirements.txt) is complete and hash-pinned, and agrees with requirements.in."""

from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(?P<version>[^ ;\\]+)")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries():
    """name -> (versions, number of hashes) from requirements.txt (a name may have one pin per Python range)."""
    entries = {}
    current = None
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as handle:
        for line in handle:
            match = REQUIREMENT.match(line)
            if match:
                current = canonical(match.group("name"))
                versions, hashes = entries.get(current, (set(), 0))
                entries[current] = (versions | {match.group("version")}, hashes)
            elif current and line.strip().startswith("--hash=sha256:"):
                versions, hashes = entries[current]
                entries[current] = (versions, hashes + 1)
    return entries


def test_every_locked_package_is_pinned_with_hashes():
    entries = lock_entries()
    assert len(entries) > 50  # transitive dependencies included, not only the direct ones
    assert [name for name, (_versions, hashes) in entries.items() if hashes == 0] == []


def test_the_lock_pins_what_requirements_in_asks_for():
    entries = lock_entries()
    with open(os.path.join(ROOT, "requirements.in"), encoding="utf-8") as handle:
        wanted = [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]
    for requirement in wanted:
        match = REQUIREMENT.match(requirement)
        name = canonical(match.group("name") if match else requirement)
        assert name in entries, "%s is in requirements.in but not locked: run `make lock`" % name
        if match:
            assert match.group("version") in entries[name][0], "%s: run `make lock`" % requirement
