"""The steps of `make cluster` and `make destroy`, as data: printed by `PLAN=1`, run otherwise.

A step is a command (run with the state's environment: local Pulumi backend, passphrase file,
kubeconfig, the tools wharf built first on PATH) or a Python action (checks, waiting, hand-off).
Steps that only make sense when a stack exists say so, and are skipped at run time when it does
not: both targets (`kind_plan`, `kwok_plan`) converge when re-run.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wharf_infra.core.paths import REPO_ROOT
from wharf_infra.local.state import ClusterState


@dataclass(frozen=True)
class Step:
    title: str
    argv: tuple[str, ...] = ()
    cwd: Path = REPO_ROOT
    action: Callable[[], None] | None = None  # a Python step; a step has an action or an argv
    only_if: Callable[[], bool] | None = None
    condition: str = ""  # how the plan describes `only_if`

    def describe(self) -> str:
        lines = [self.title + (f" (only {self.condition})" if self.condition else "")]
        if self.argv:
            where = "" if self.cwd == REPO_ROOT else f"cd {self.cwd.relative_to(REPO_ROOT)} && "
            lines.append(f"$ {where}{shlex.join(self.argv)}")
        return "\n     ".join(lines)

    def run(self, env: dict[str, str]) -> None:
        if self.only_if is not None and not self.only_if():
            print(f"   skipped: not {self.condition}", flush=True)
            return
        if self.action is not None:
            self.action()
        else:
            subprocess.run(self.argv, cwd=self.cwd, env={**os.environ, **env}, check=True)


def describe(steps: Sequence[Step], state: ClusterState) -> str:
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in state.env().items())
    body = "\n".join(f"  {n:>2}. {step.describe()}" for n, step in enumerate(steps, 1))
    return f"{body}\n  Every command runs with: {env}"


def run(steps: Sequence[Step], state: ClusterState) -> None:
    """Run the steps in order, each one's time printed after it (the phase figures)."""
    for n, step in enumerate(steps, 1):
        print(f"[{n}/{len(steps)}] {step.title}", flush=True)
        started = time.monotonic()
        step.run(state.env())
        print(f"[{n}/{len(steps)}] done in {time.monotonic() - started:.0f} s", flush=True)
