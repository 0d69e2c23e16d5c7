"""The docs stage of `make test` judges the documentation, not other libraries' Python warnings."""

from __future__ import annotations

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("webstack_test_tool", os.path.join(ROOT, "tools", "test.py"))
_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tool)
doc_problems = _tool.doc_problems

SECTIONS = ("OPTIONS", "EXAMPLES", "RETURN VALUES")
GOOD = "> MODULE webstack.aws.network\nOPTIONS (red indicates it is required):\nEXAMPLES:\nRETURN VALUES:\n"
LIBRARY_WARNING = (
    "/venv/lib/python3.11/site-packages/ansible/_internal/_ssh/_ssh_agent.py:18: CryptographyDeprecationWarning: "
    "DSA is deprecated and support will be removed in a future release.\n"
    "  from cryptography.hazmat.primitives.asymmetric.dsa import (\n"
)


def test_a_library_warning_is_not_a_documentation_problem():
    assert doc_problems(0, GOOD, LIBRARY_WARNING, SECTIONS) == []


def test_ansible_warnings_about_the_docs_still_fail_beside_a_library_warning():
    stderr = LIBRARY_WARNING + "[WARNING]: webstack.aws.network: option 'tags' has no description\n"
    assert doc_problems(0, GOOD, stderr, SECTIONS) == [
        "stderr: [WARNING]: webstack.aws.network: option 'tags' has no description"
    ]


def test_a_python_warning_from_our_own_code_fails():
    ours = os.path.join(ROOT, "plugins", "modules", "network.py") + ":12: DeprecationWarning: old\n  x = y\n"
    assert doc_problems(0, GOOD, ours, SECTIONS) == ["stderr: " + ours.strip()]


def test_exit_status_and_missing_sections_fail():
    assert doc_problems(1, "OPTIONS\n", "", SECTIONS) == [
        "exit status 1",
        "no EXAMPLES section",
        "no RETURN VALUES section",
    ]
