"""Installing a missing tool from Debian's packages: only as root on Debian, else the caller is
told what to install. The one place wharf changes a machine, and only by a package name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LOCK_WAIT_S = 600


class PackagesMissing(RuntimeError):
    pass


def can_install() -> bool:
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def install(*packages: str) -> None:
    """`apt-get install` the packages, or raise naming them when this machine cannot."""
    if not can_install():
        raise PackagesMissing(
            f"install {' '.join(packages)} (Debian packages, or your system's own) and retry"
        )
    print(f"  apt-get install {' '.join(packages)}", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ("-o", f"DPkg::Lock::Timeout={LOCK_WAIT_S}")  # another install (another target's) ends first
    for argv in (["apt-get", *wait, "update", "-qq"], ["apt-get", *wait, "install", "-y", "-qq", *packages]):
        result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise PackagesMissing(f"{' '.join(argv)} failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}")
