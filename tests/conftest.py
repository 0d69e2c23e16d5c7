"""Shared fixtures: the collection on the import path, and a private AWS emulator per test process."""

from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from common import ensure_collection_link  # noqa: E402


def _install_collection_finder():
    """Make `ansible_collections.webstack.aws` (this checkout) and `ansible_collections.amazon.aws` importable."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    finder = _AnsibleCollectionFinder(paths=[ensure_collection_link()], scan_sys_paths=True)
    finder._install()


_install_collection_finder()


def pytest_collection_modifyitems(config, items):
    """The long tests first: with xdist's work stealing the short ones then fill in around them, instead of a
    long test starting last and running alone (see docs/testing.md)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """A moto server on a free loopback port with call counting, for this test process only."""
    from awsemu import Emulator

    log = tmp_path_factory.mktemp("awsemu") / "server.log"
    emu = Emulator(log_path=str(log)).start()
    yield emu
    emu.stop()


@pytest.fixture
def aws(emulator, monkeypatch):
    """boto3 clients on the emulator (dummy credentials, us-east-1)."""
    import boto3

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", emulator.endpoint),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    class Clients:
        endpoint = emulator.endpoint

        def __getattr__(self, service):
            return boto3.client(service, endpoint_url=emulator.endpoint, region_name="us-east-1")

    return Clients()
