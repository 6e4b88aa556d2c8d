"""A Docker engine for the image builds and the tiers that start containers.

The engine that answers `docker info` is used as it is. On Debian as root with none (CI here),
Debian's `docker.io` is installed and `dockerd` started under wharf's cache, its pid recorded so
whoever started it stops it (`stop_engine`); Docker's image store stays, so builds stay cached.
Elsewhere the caller is told what to install. Nothing else on the machine is changed.

Where the machine's capability bounding set lacks CAP_SYS_RESOURCE (some sandboxes and CI runners),
the engine wharf starts runs containers through the runc wrapper of the kind node image, so that
`--privileged` ones (kind's nodes) start; elsewhere runc is used as it is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from wharf_infra.core import debian
from wharf_infra.core.image_tags import IMAGES_DIR, KIND_BASE
from wharf_infra.core.paths import cache_dir
from wharf_infra.core.supervisor import ProcessSpec, Supervisor

DOCKERD = "dockerd"
START_TIMEOUT_S = 180.0  # generous: a first start on a busy 2-core machine sets up its store
RUNC_WRAPPER = IMAGES_DIR / KIND_BASE / "runc-wrapper"
WRAPPED_RUNTIME = "wharf-runc"
CAP_SYS_RESOURCE = 24


class DockerUnavailable(RuntimeError):
    pass


def _supervisor() -> Supervisor:
    return Supervisor(cache_dir() / "docker")


def engine_ready() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def _installed() -> bool:
    return shutil.which(DOCKERD) is not None and shutil.which("docker") is not None


def engine_obtainable() -> bool:
    """Whether `ensure_engine` can give an engine here: one answers, one is installed, or Debian's
    can be installed."""
    return engine_ready() or _installed() or debian.can_install()


def ensure_engine() -> bool:
    """Make `docker info` answer; return whether this call started the engine (then stop it after)."""
    if engine_ready():
        return False
    if not _installed():
        if not debian.can_install():
            raise DockerUnavailable(
                "a running Docker engine is needed and `docker info` failed: install Docker (Docker "
                "Desktop, or your distribution's docker package), start it and retry"
            )
        print("  no Docker engine here: installing Debian's docker.io", file=sys.stderr, flush=True)
        try:
            debian.install("docker.io", "jq")
        except debian.PackagesMissing as error:
            raise DockerUnavailable(str(error)) from None
    supervisor = _supervisor()
    started = supervisor.running_pid(DOCKERD) is None
    spec = ProcessSpec(
        DOCKERD,
        [DOCKERD, "--pidfile", str(supervisor.state_dir / "run" / "dockerd.own.pid"), *_runtime_args()],
        ready=engine_ready,
        timeout=START_TIMEOUT_S,
    )
    supervisor.ensure(spec)
    return started


def lacks_sys_resource() -> bool:
    """Whether this process's capability bounding set lacks CAP_SYS_RESOURCE."""
    status = Path("/proc/self/status").read_text()
    bounding = next(line.split()[1] for line in status.splitlines() if line.startswith("CapBnd:"))
    return not int(bounding, 16) >> CAP_SYS_RESOURCE & 1


def _runtime_args() -> list[str]:
    """dockerd's arguments for the runc wrapper, where the capability is missing (none elsewhere)."""
    if not lacks_sys_resource():
        return []
    runc = shutil.which("runc")
    if runc is None:
        raise DockerUnavailable("dockerd's runc is not on PATH: reinstall Debian's docker.io (it needs runc)")
    if shutil.which("jq") is None:
        debian.install("jq")
    wrapper = _supervisor().state_dir / "runc-wrapper"
    wrapper.parent.mkdir(parents=True, exist_ok=True)  # before the supervisor's first start makes it
    text = RUNC_WRAPPER.read_text()
    wrapper.write_text(text.replace("real=/usr/local/libexec/wharf/runc", f"real={runc}", 1))
    wrapper.chmod(0o755)
    return ["--add-runtime", f"{WRAPPED_RUNTIME}={wrapper}", "--default-runtime", WRAPPED_RUNTIME]


def stop_engine() -> None:
    """Stop the engine `ensure_engine` started, with every container it still runs. After a kind
    session dockerd logs "Daemon shutdown complete" at once on TERM, yet it and a process of its
    family stay until killed (60 s, then 140 s when dockerd was ended first): 20 s is room enough
    for its containers' own stop (10 s each, in parallel)."""
    _supervisor().stop(DOCKERD, timeout=20)
