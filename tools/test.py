"""`make test`: every check the project has, in one command (CI runs exactly this).

Stages: lint (ruff, yamllint, ansible-lint), docs (ansible-doc renders every module and the role),
tests (unit + integration: real ansible-playbook runs against private emulators), agents (the
instance software's own tests), sanity (ansible-test sanity, offline).  `python tools/test.py STAGE...`
runs only those stages.  Every stage runs; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import glob
import os
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


def stage_docs():
    env = aws_env("http://127.0.0.1:9")
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
    failed = 0
    for module in modules:
        proc = subprocess.run(
            [tool("ansible-doc"), "webstack.aws.%s" % module], env=env, capture_output=True, text=True, check=False
        )
        ok = (
            proc.returncode == 0
            and "EXAMPLES" in proc.stdout
            and "RETURN VALUES" in proc.stdout
            and not proc.stderr.strip()
        )
        print("ansible-doc webstack.aws.%s: %s" % (module, "ok" if ok else "FAILED\n" + proc.stderr), flush=True)
        failed += 0 if ok else 1
    proc = subprocess.run(
        [tool("ansible-doc"), "-t", "role", "webstack.aws.environment"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    ok = proc.returncode == 0 and "webstack_environment" in proc.stdout
    print("ansible-doc -t role webstack.aws.environment: %s" % ("ok" if ok else "FAILED\n" + proc.stderr))
    return 1 if failed or not ok else 0


def stage_tests():
    ensure_collection_link()
    workers = os.environ.get("WEBSTACK_TEST_WORKERS", "2")
    return run([PY, "-m", "pytest", "tests", "-n", workers, "-q", "-ra"])


def stage_agents():
    return run([PY, "-m", "pytest", "agents/tests", "-q", "-ra"])


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
        run([PY, "-m", "pip", "download", "--quiet", "--no-deps", "pip==24.2", "-d", cache])
    bootstrap = os.path.join(cache, "get_pip_24_2.py")
    if not os.path.exists(bootstrap):
        shutil.copy(os.path.join(ROOT, "tools", "get_pip_offline.py"), bootstrap)
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    return run([tool("ansible-test"), "sanity", "--python", "3.11", "--local", "--color", "no"], env=env, cwd=target)


STAGES = {"lint": stage_lint, "docs": stage_docs, "tests": stage_tests, "agents": stage_agents, "sanity": stage_sanity}
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
