"""The root filesystem the Debian base image starts from, without a container registry.

Where a registry answers, `debian:<suite>-slim` is pulled. Otherwise `debootstrap --variant=minbase`
builds the suite from the machine's own Debian mirror (its apt sources: an air-gapped site's mirror
works the same) and the result is imported with `docker import`, once per suite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from wharf_infra.build.docker_engine import DockerUnavailable
from wharf_infra.core import debian

APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))


def _ok(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def debian_mirror() -> str:
    """The Debian mirror this machine installs from (`WHARF_DEBIAN_MIRROR` overrides it)."""
    if mirror := os.environ.get("WHARF_DEBIAN_MIRROR"):
        return mirror
    files = [f for src in APT_SOURCES for f in ([src] if src.is_file() else sorted(src.glob("*")))]
    for file in files:
        if not file.name.endswith((".list", ".sources")):
            continue
        text = file.read_text()
        # deb822 (`URIs: …`) or one-line (`deb [opts] URI suite …`) sources; security mirrors aside.
        for uri in re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s", text, re.M
        ):
            if "security" not in uri:
                return str(uri)
    raise DockerUnavailable(
        "no Debian mirror found in the apt sources to debootstrap the base image from: set "
        "WHARF_DEBIAN_MIRROR to one, or make `docker pull debian:bookworm-slim` work"
    )


def _debootstrap(suite: str, reference: str) -> None:
    if shutil.which("debootstrap") is None:
        try:
            debian.install("debootstrap")
        except debian.PackagesMissing as error:
            raise DockerUnavailable(f"the Debian base image needs debootstrap: {error}") from None
    mirror = debian_mirror()
    print(f"  debootstrap {suite} (minbase) for the base image", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="wharf-rootfs-") as work:
        root = Path(work) / "rootfs"
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", suite, str(root), mirror],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DockerUnavailable(
                f"debootstrap {suite} failed:\n{result.stdout[-2000:]}{result.stderr[-1000:]}"
            )
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / cache).glob("*"):
                if entry.is_file():
                    entry.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "import", "-", reference], stdin=tar.stdout, check=True, capture_output=True
        )
        if tar.wait() != 0:
            raise DockerUnavailable(f"packing the {suite} root filesystem failed")


def rootfs_image(suite: str) -> str:
    """A local image holding Debian `suite`'s root filesystem: pulled, else debootstrapped."""
    upstream = f"debian:{suite}-slim"
    if _ok("docker", "image", "inspect", upstream) or _ok("docker", "pull", "-q", upstream):
        return upstream
    reference = f"wharf-rootfs:{suite}"
    if not _ok("docker", "image", "inspect", reference):
        _debootstrap(suite, reference)
    return reference
