"""Where `make cluster` keeps its state: a local Pulumi backend and the files it hands to you.

Everything lives under `$WHARF_CACHE/kind` (default `~/.cache/wharf/kind`) for kind, and beside
the control plane in `$WHARF_KWOK_DIR` (default `~/.cache/wharf/kwok`) for kwok, outside the
repository and out of git, so `make clean` cannot lose a running cluster's state:
- `pulumi/`: the Pulumi backend (`file://`), the state of both `local` stacks;
- `passphrase`: generated on first use (mode 0600); it encrypts the secrets in that state;
- `kubeconfig`, `ca.crt`, `smoke-target.yaml`: written once the platform is up.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from wharf_infra.build.toolchain import KIND_TOOLS, KWOK_TOOLS
from wharf_infra.core.config import ClusterConfig, PlatformConfig, cluster_config, platform_config
from wharf_infra.core.paths import REPO_ROOT, cache_dir
from wharf_infra.local.kwok import control_plane

STACK = "local"
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def stack_file(program: Path) -> Path:
    return program / f"Pulumi.{STACK}.yaml"


TARGETS = ("kind", "kwok")


@dataclass(frozen=True)
class ClusterState:
    root: Path
    target: str = "kind"  # kind: containers in Docker; kwok: a real control plane, simulated nodes

    @classmethod
    def default(cls, target: str = "kind") -> ClusterState:
        """kind keeps its state in `kind/`; kwok beside its control plane's."""
        if target == "kwok":
            return cls(control_plane.state_dir(), target)
        root = cache_dir() / "kind"
        former = cache_dir() / "cluster"  # kind's folder before it was named for it
        if former.is_dir() and not root.exists():
            former.rename(root)
            print(f"moved kind's state from {former} to {root}", file=sys.stderr)
        return cls(root, target)

    @classmethod
    def up(cls) -> ClusterState | None:
        """The target `make cluster` brought up (it wrote a smoke target): kind first, then kwok."""
        for target in TARGETS:
            state = cls.default(target)
            if state.smoke_target.is_file():
                return state
        return None

    def config_file(self, program: Path) -> Path:
        """`program`'s `local` stack config as this target runs it (`stacks`): the tracked file with
        the target's differences and this machine's encryption salt, which stays out of git."""
        return self.root / program.name / stack_file(program).name

    @property
    def backend(self) -> Path:
        return self.root / "pulumi"

    @property
    def passphrase(self) -> Path:
        return self.root / "passphrase"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def ca_certificate(self) -> Path:
        return self.root / "ca.crt"

    @property
    def smoke_target(self) -> Path:
        return self.root / "smoke-target.yaml"

    @cached_property
    def cluster(self) -> ClusterConfig:
        return cluster_config(STACK)

    @cached_property
    def platform(self) -> PlatformConfig:
        return platform_config(STACK)

    def env(self) -> dict[str, str]:
        """What every command runs with, besides the caller's environment."""
        env = {
            "PULUMI_BACKEND_URL": f"file://{self.backend}",
            "PULUMI_CONFIG_PASSPHRASE_FILE": str(self.passphrase),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "KUBECONFIG": str(self.kubeconfig),
        }
        # The tools wharf built from Go modules come first (all of kwok's; kind's where Go was
        # there to build them): Pulumi finds its language host and the Kubernetes provider there,
        # and kubectl and helm match the cluster.
        tools = KWOK_TOOLS if self.target == "kwok" else tuple(t for t in KIND_TOOLS if t.built)
        env["PATH"] = os.pathsep.join([*(str(tool.out_dir) for tool in tools), os.environ.get("PATH", "")])
        env["PULUMI_HOME"] = str(self.root / "pulumi-home")  # no plugin of the user's own
        return env

    def prepare(self) -> None:
        """Create the backend folder and the passphrase, once; later runs reuse them. Locks left
        by an interrupted run are released."""
        self.backend.mkdir(parents=True, exist_ok=True)
        self.root.chmod(PRIVATE_DIR)
        if not self.passphrase.exists():
            self.passphrase.touch(mode=PRIVATE_FILE)
            self.passphrase.write_text(secrets.token_urlsafe(32) + "\n")
        self.release_stale_locks()

    def release_stale_locks(self) -> None:
        """Remove the stack locks whose `pulumi` process, on this machine, is gone, and stop the
        plugins it left running: a `make cluster` stopped with Ctrl-C leaves its lock, and every
        later `pulumi up` or `destroy` would refuse ("the stack is currently locked"), and its
        provider processes keep their memory. A lock of a live process or of another host stays."""
        for lock in sorted((self.backend / ".pulumi" / "locks").glob("**/*.json")):
            holder = json.loads(lock.read_text())
            if holder.get("hostname") != socket.gethostname() or _alive(int(holder.get("pid", 0))):
                continue
            for path in (lock, lock.with_name(lock.name + ".attrs")):
                path.unlink(missing_ok=True)
            stack = f"{lock.parent.parent.name}/{lock.parent.name}"
            print(f"  released the lock on {stack} of pid {holder['pid']}, which has ended", flush=True)
        for pid, command in orphaned_pulumi_plugins():
            os.kill(pid, signal.SIGTERM)
            print(f"  stopped {command[:80]} (pid {pid}), left by an ended pulumi run", flush=True)

    def pulumi_json(self, program: Path, *args: str, check: bool = True, flag: bool = True) -> Any:
        """`pulumi <args> --json` in `program` against the local backend; None if it fails unchecked.
        `flag=False` for commands that print JSON without being asked (`stack export`)."""
        result = subprocess.run(
            ["pulumi", *args, *(["--json"] if flag else [])],
            cwd=program,
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            check=check,
        )
        return json.loads(result.stdout or "null") if result.returncode == 0 else None

    def cluster_json(self, *argv: str, check: bool = True) -> Any:
        """`kubectl …` or `helm …` against this cluster, as JSON; None if it fails unchecked."""
        result = subprocess.run(
            [*argv, "--kubeconfig", str(self.kubeconfig), "-o", "json"],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            check=check,
        )
        return json.loads(result.stdout or "null") if result.returncode == 0 else None

    def run_pulumi(self, program: Path, *args: str) -> None:
        """`pulumi <args>` in `program` against the local backend, its output shown."""
        subprocess.run(["pulumi", *args], cwd=program, env={**os.environ, **self.env()}, check=True)

    def stack_exists(self, program: Path) -> bool:
        if not self.backend.is_dir():
            return False
        listed = self.pulumi_json(program, "stack", "ls", check=False) or []
        return any(entry.get("name") == STACK for entry in listed)

    def stack_outputs(self, program: Path) -> dict[str, Any]:
        outputs: dict[str, Any] = self.pulumi_json(program, "stack", "output", "--stack", STACK)
        return outputs


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


PLUGIN_PREFIXES = ("pulumi-resource-", "pulumi-language-")  # not the engine: only what it starts


def orphaned_pulumi_plugins() -> list[tuple[int, str]]:
    """wharf's Pulumi plugin processes whose engine has ended (adopted by init): (pid, command)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # ended meanwhile, or not ours to read
            continue
        words = [word.rsplit("/", 1)[-1] for word in command.split()]
        plugin = any(word.startswith(PLUGIN_PREFIXES) or word == "pulumi.dynamic" for word in words)
        if parent == 1 and plugin and ("wharf" in command or str(REPO_ROOT) in command):
            found.append((int(proc.name), command))
    return found
