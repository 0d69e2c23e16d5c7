"""`make test`: every check the project has, in one command (CI runs exactly this).

Stages: lint (ruff, yamllint, ansible-lint), docs (ansible-doc renders every module and the roles),
tests (unit + integration: real ansible-playbook runs against private emulators), agents (the
instance software's own tests), molecule (the instance roles under real systemd in podman, the image
built first when it is missing or out of date), sanity (ansible-test sanity, offline).  `python tools/test.py STAGE...`
runs only those stages.  Every stage runs; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import BIN, ROOT, aws_env, ensure_collection_link  # noqa: E402

PY = sys.executable
SANITY_ROOT = os.path.join(ROOT, "build", "sanity")


def run(cmd, env=None, cwd=ROOT):
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, check=False).returncode


def tool(name):
    return os.path.join(BIN, name)


def stage_lint():
    env = aws_env("http://127.0.0.1:9")  # never contacted; gives ANSIBLE_COLLECTIONS_PATH
    codes = [
        run([tool("ruff"), "check", "."]),
        run([tool("ruff"), "format", "--check", "."]),
        run([tool("yamllint"), "-s", "."]),
        run([tool("ansible-lint"), "--nocolor"], env=env),
    ]
    return max(codes)


# A Python warning printed by a library ansible imports (`<file>:<line>: <Category>: <text>` and the
# source line after it), e.g. cryptography's CryptographyDeprecationWarning from ansible's ssh agent code:
# not about our documentation, so the docs check leaves it out. One from our own code still fails.
PYTHON_WARNING = re.compile(r"^(?P<path>\S+\.py):\d+: \w*Warning: .*\n(?:[ \t]+.*\n)?", re.MULTILINE)


def doc_problems(returncode, stdout, stderr, sections):
    """What is wrong with one ansible-doc run: its exit status, missing sections, and anything on stderr
    (ansible's own [WARNING]/[ERROR] about the documentation included) except other libraries' Python
    warnings."""
    problems = ["exit status %d" % returncode] if returncode else []
    problems += ["no %s section" % name for name in sections if name not in stdout]
    rest = PYTHON_WARNING.sub(
        lambda m: m.group(0) if m.group("path").startswith(os.path.join(ROOT, "plugins")) else "", stderr
    )
    if rest.strip():
        problems.append("stderr: " + rest.strip())
    return problems


def stage_docs():
    # DeprecationWarnings of the libraries ansible-doc imports are silenced for this run only (here);
    # other libraries' warnings on stderr are left out by doc_problems().
    env = dict(aws_env("http://127.0.0.1:9"), PYTHONWARNINGS="ignore::DeprecationWarning")
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
    runs = [(["webstack.aws.%s" % m], ("OPTIONS", "ATTRIBUTES", "EXAMPLES", "RETURN VALUES")) for m in modules]
    runs.append((["-t", "role", "webstack.aws.environment"], ("ENTRY POINT", "webstack_environment")))
    runs.append((["-t", "role", "webstack.aws.platform"], ("ENTRY POINT", "platform_bundle")))
    failed = 0
    for args, sections in runs:
        proc = subprocess.run([tool("ansible-doc"), *args], env=env, capture_output=True, text=True, check=False)
        problems = doc_problems(proc.returncode, proc.stdout, proc.stderr, sections)
        print("ansible-doc %s: %s" % (" ".join(args), "; ".join(problems) or "ok"), flush=True)
        failed += bool(problems)
    return 1 if failed else 0


def stage_tests():
    ensure_collection_link()
    workers = os.environ.get("WEBSTACK_TEST_WORKERS", "2")
    # worksteal: an idle worker takes queued tests from a busy one (the long ones are collected first)
    return run([PY, "-m", "pytest", "tests", "-n", workers, "--dist", "worksteal", "-q", "-ra"])


def stage_agents():
    # The daemon's tests mostly wait (long polls, visibility timeouts, a daemon's drain): four workers
    # on two cores overlap the waits (about 35 s instead of 100 s here).
    workers = os.environ.get("WEBSTACK_AGENT_TEST_WORKERS", "4")
    return run([PY, "-m", "pytest", "agents/tests", "-n", workers, "-q", "-ra"])


MOLECULE_SCENARIOS = ("web",)


def stage_molecule():
    """Each scenario under molecule/ (`molecule test`: create, converge, idempotence, check, verify, destroy)
    in a podman container booted with systemd, from the image tools/image.py builds (once; cached)."""
    collections = ensure_collection_link()
    if run([PY, os.path.join(ROOT, "tools", "image.py")]) != 0:
        return 1
    env = dict(
        os.environ,
        PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
        ANSIBLE_COLLECTIONS_PATH=collections,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PY_COLORS="0",
    )
    codes = [run([tool("molecule"), "test", "-s", name], env=env) for name in MOLECULE_SCENARIOS]
    return max(codes)


def stage_sanity():
    """ansible-test needs the collection at a real path .../ansible_collections/webstack/aws (not a link),
    and, offline, a pre-seeded pip bootstrap (see ../shared/TESTING.md)."""
    target = os.path.join(SANITY_ROOT, "ansible_collections", "webstack", "aws")
    if os.path.exists(target):
        shutil.rmtree(target)
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for rel in files:
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src) or rel.startswith(("build/", ".venv/")):
            continue
        dst = os.path.join(target, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    amazon = os.path.join(SANITY_ROOT, "ansible_collections", "amazon", "aws")
    if not os.path.exists(amazon):  # validate-modules and import need the dependency beside us
        import ansible_collections.amazon.aws as amazon_aws

        shutil.copytree(list(amazon_aws.__path__)[0], amazon)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    if not glob.glob(os.path.join(cache, "pip-24.2-*.whl")):
        requirement = os.path.join(ROOT, "tools", "ansible-test-pip.txt")
        run([PY, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes", "-r", requirement, "-d", cache])
    bootstrap = os.path.join(cache, "get_pip_24_2.py")
    if not os.path.exists(bootstrap):
        shutil.copy(os.path.join(ROOT, "tools", "get_pip_offline.py"), bootstrap)
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    return run([tool("ansible-test"), "sanity", "--python", "3.11", "--local", "--color", "no"], env=env, cwd=target)


STAGES = {
    "lint": stage_lint,
    "docs": stage_docs,
    "tests": stage_tests,
    "agents": stage_agents,
    "molecule": stage_molecule,
    "sanity": stage_sanity,
}
ALIASES = {"unit": ["tests"], "integration": ["tests"]}


def main(argv):
    names = []
    for arg in argv or list(STAGES):
        names += ALIASES.get(arg, [arg])
    results = {}
    for name in names:
        started = time.monotonic()
        print("\n==== %s ====" % name, flush=True)
        results[name] = (STAGES[name](), time.monotonic() - started)
    print("\n==== summary ====")
    for name, (code, seconds) in results.items():
        print("%-8s %s  (%.0f s)" % (name, "passed" if code == 0 else "FAILED (%d)" % code, seconds))
    return 0 if all(code == 0 for code, _seconds in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
