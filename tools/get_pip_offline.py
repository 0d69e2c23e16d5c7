"""Offline stand-in for ansible-test's get-pip bootstrap script (used by tools/test.py sanity).

ansible-test runs this with the target venv's python and pip-style args,
e.g. ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.
It runs pip straight from a pip wheel fetched from PyPI beforehand with
``pip download --no-deps pip==24.2 -d ~/.ansible/test/cache``.
"""

import glob
import os
import runpy
import sys

here = os.path.dirname(os.path.abspath(__file__))
wheel = sorted(glob.glob(os.path.join(here, "pip-24.2-*.whl")))[-1]
sys.path.insert(0, wheel)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install"] + args
runpy.run_module("pip", run_name="__main__", alter_sys=True)
