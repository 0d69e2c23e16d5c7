"""The instance image the molecule scenarios boot: Debian bookworm with systemd as PID 1, built once.

`python tools/image.py` (or `make image`) makes sure podman, runc and debootstrap are installed (apt-get,
non-interactive: CI runs as root with no standard input), installs the container engine configuration that
works on these machines (`tools/image/containers.conf`: runc, ulimits the kernel accepts), debootstraps a
minimal bookworm with systemd and the packages the platform role would otherwise spend a converge installing
(nginx, python3-venv, unzip, logrotate), copies this machine's CA certificates in (HTTPS is intercepted
here: pip inside a container must trust the same CA) with a pip.conf pointing at the system bundle, and
imports the root filesystem as ``localhost/webstack-debian-systemd:bookworm``.

Idempotent and cached under build/image/: the root filesystem is kept there as ``rootfs-<digest>.tar``,
where the digest covers the inputs (package list, suite, mirror, the build steps' version ``RECIPE``, the
host's CA certificates), and the image carries the same digest as a label. When the image with that digest
exists nothing is done; when only the tarball does (podman's store was reset) it is imported again without
debootstrap; otherwise everything is built. ``--force`` rebuilds from scratch.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = "localhost/webstack-debian-systemd:bookworm"
RECIPE = "1"  # bump when the build steps below change what ends up in the image
SUITE = "bookworm"
PACKAGES = (
    # what the recipe needs for systemd inside podman and for Ansible
    "python3",
    "systemd",
    "systemd-sysv",
    "dbus",
    "ca-certificates",
    "iproute2",
    "sudo",
    # what roles/platform installs: here so that a converge does not download them every time
    "nginx",
    "python3-venv",
    "python3-pip",
    "unzip",
    "logrotate",
    "curl",
)
HOST_TOOLS = {"podman": "podman", "runc": "runc", "debootstrap": "debootstrap"}
CONTAINERS_CONF = os.path.join(ROOT, "tools", "image", "containers.conf")
BUILD = os.path.join(ROOT, "build", "image")
LABEL = "org.webstack.inputs"
PIP_CONF = "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"


def log(message):
    print("image: " + message, flush=True)


def run(cmd, **kwargs):
    log("$ " + " ".join(cmd))
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(cmd, check=True, **kwargs)


def host_cas():
    return sorted(glob.glob("/usr/local/share/ca-certificates/*.crt"))


def mirror():
    """The Debian mirror this machine's apt uses (deb822 sources first, then sources.list)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("URIs:"):
                    return line.split()[1]
    if os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list", encoding="utf-8") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                    return parts[1]
    return "http://deb.debian.org/debian"


def inputs_digest(source):
    digest = hashlib.sha256()
    for part in (IMAGE, RECIPE, SUITE, source, " ".join(PACKAGES), PIP_CONF):
        digest.update(part.encode() + b"\0")
    for path in [CONTAINERS_CONF, *host_cas()]:
        with open(path, "rb") as handle:
            digest.update(path.encode() + b"\0" + handle.read() + b"\0")
    return digest.hexdigest()[:16]


def ensure_host_tools():
    missing = [package for binary, package in HOST_TOOLS.items() if shutil.which(binary) is None]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update", "-qq"], env=env)
        run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env, stdout=subprocess.DEVNULL
        )
    conf = "/etc/containers/containers.conf"
    with open(CONTAINERS_CONF, "rb") as handle:
        wanted = handle.read()
    current = None
    if os.path.exists(conf):
        with open(conf, "rb") as handle:
            current = handle.read()
    if current != wanted:
        os.makedirs(os.path.dirname(conf), exist_ok=True)
        shutil.copy(CONTAINERS_CONF, conf)
        os.chmod(conf, 0o644)
        log("installed %s" % conf)


def existing_digest():
    proc = subprocess.run(
        ["podman", "image", "inspect", "--format", '{{ index .Labels "%s" }}' % LABEL, IMAGE],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def tarball(digest):
    return os.path.join(BUILD, "rootfs-%s.tar" % digest)


def build_rootfs(source, digest):
    """debootstrap the root filesystem and keep it as build/image/rootfs-<digest>.tar (older ones removed)."""
    rootfs = os.path.join(BUILD, "rootfs")
    if os.path.exists(BUILD):
        shutil.rmtree(BUILD)
    os.makedirs(BUILD)
    started = time.monotonic()
    run(
        ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE, rootfs, source],
        stdout=subprocess.DEVNULL,
    )
    log("debootstrap: %.0f s" % (time.monotonic() - started))
    for path in host_cas():
        shutil.copy(path, os.path.join(rootfs, "usr/local/share/ca-certificates", os.path.basename(path)))
    run(["chroot", rootfs, "update-ca-certificates"], stdout=subprocess.DEVNULL)
    with open(os.path.join(rootfs, "etc", "pip.conf"), "w", encoding="utf-8") as handle:
        handle.write(PIP_CONF)
    for path in glob.glob(os.path.join(rootfs, "var/cache/apt/archives/*.deb")):
        os.unlink(path)
    partial = tarball(digest) + ".partial"
    run(["tar", "-C", rootfs, "--numeric-owner", "-cf", partial, "."])
    os.rename(partial, tarball(digest))
    shutil.rmtree(rootfs)


def import_image(digest):
    run(
        [
            "podman",
            "import",
            "--change",
            'CMD ["/sbin/init"]',
            "--change",
            "LABEL %s=%s" % (LABEL, digest),
            tarball(digest),
            IMAGE,
        ],
        stdout=subprocess.DEVNULL,
    )


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the image is up to date")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("image: needs root (apt-get, debootstrap, chroot)")
    started = time.monotonic()
    ensure_host_tools()
    source = mirror()
    digest = inputs_digest(source)
    if not args.force and existing_digest() == digest:
        log("%s is up to date (inputs %s): %.1f s" % (IMAGE, digest, time.monotonic() - started))
        return 0
    if args.force or not os.path.exists(tarball(digest)):
        build_rootfs(source, digest)
    import_image(digest)
    log("built %s (inputs %s) in %.0f s" % (IMAGE, digest, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
