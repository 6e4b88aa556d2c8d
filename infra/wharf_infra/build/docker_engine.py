"""A Docker engine for the image builds and the tiers that start containers.

The engine that answers `docker info` is used as it is. On Debian as root with none (CI here),
Debian's `docker.io` is installed and `dockerd` started under wharf's cache, its pid recorded so
whoever started it stops it (`stop_engine`); Docker's image store stays, so builds stay cached.
Elsewhere the caller is told what to install. Nothing else on the machine is changed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from wharf_infra.core import debian
from wharf_infra.core.paths import cache_dir
from wharf_infra.core.supervisor import ProcessSpec, Supervisor

DOCKERD = "dockerd"
START_TIMEOUT_S = 180.0  # generous: a first start on a busy 2-core machine sets up its store


class DockerUnavailable(RuntimeError):
    pass


def _supervisor() -> Supervisor:
    return Supervisor(cache_dir() / "docker")


def engine_ready() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def ensure_engine() -> bool:
    """Make `docker info` answer; return whether this call started the engine (then stop it after)."""
    if engine_ready():
        return False
    if shutil.which(DOCKERD) is None or shutil.which("docker") is None:
        if not debian.can_install():
            raise DockerUnavailable(
                "a running Docker engine is needed and `docker info` failed: install Docker (Docker "
                "Desktop, or your distribution's docker package), start it and retry"
            )
        print("  no Docker engine here: installing Debian's docker.io", file=sys.stderr, flush=True)
        try:
            debian.install("docker.io")
        except debian.PackagesMissing as error:
            raise DockerUnavailable(str(error)) from None
    supervisor = _supervisor()
    started = supervisor.running_pid(DOCKERD) is None
    spec = ProcessSpec(
        DOCKERD,
        [DOCKERD, "--pidfile", str(supervisor.state_dir / "run" / "dockerd.own.pid")],
        ready=engine_ready,
        timeout=START_TIMEOUT_S,
    )
    supervisor.ensure(spec)
    return started


def stop_engine() -> None:
    """Stop the engine `ensure_engine` started, with every container it still runs."""
    _supervisor().stop(DOCKERD, timeout=60)
