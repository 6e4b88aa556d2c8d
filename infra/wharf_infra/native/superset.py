"""Superset on the native stack: its own environment from `infra/superset/requirements.txt` (apart
from the uv workspace), its metadata in the stack's Postgres, the dashboards imported on each start.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from wharf_infra.contract.dashboards import bundles
from wharf_infra.contract.endpoints import LOOPBACK
from wharf_infra.contract.facts import database
from wharf_infra.contract.superset import (
    ADMIN_ENV,
    DATABASE_PASSWORD_ENV,
    SECRET_KEY_ENV,
    initialise_script,
    server_command,
    superset_config,
)
from wharf_infra.contract.superset_api import SupersetClient, import_dashboards, send_lineage
from wharf_infra.core.paths import INFRA_DIR
from wharf_infra.native import processes
from wharf_infra.native.processes import StackError
from wharf_infra.native.settings import credentials, settings

LOCK = INFRA_DIR / "superset" / "requirements.txt"


def superset_version() -> str:
    """The version the lock pins (the one place it is written)."""
    found = re.search(r"^apache-superset==(\S+)", LOCK.read_text(), re.MULTILINE)
    if not found:
        raise StackError(f"{LOCK} pins no apache-superset")
    return found.group(1)


def _uv() -> str:
    """uv, which `uv run` names in $UV; the environment is built with it from the hashed lock."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        raise StackError("Superset's environment is built with uv: run through `make` (or `uv run`)")
    return uv


class Superset:
    name = "superset"

    @property
    def venv(self) -> Path:
        digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]
        return settings().cache_dir / "superset" / f"{superset_version()}-{digest}"

    def environment(self) -> Path:
        """Superset's virtual environment, built once per lock (the lock's hashes are required)."""
        venv = self.venv
        if (venv / "bin" / "gunicorn").exists():
            return venv
        print(f"  installing Superset {superset_version()} into {venv}", file=sys.stderr, flush=True)
        for stale in venv.parent.glob("*"):  # environments of earlier locks
            shutil.rmtree(stale, ignore_errors=True)
        for argv in (
            [_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)],
            [_uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "--require-hashes",
             "-r", str(LOCK)],
        ):  # fmt: skip
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                raise StackError(f"{' '.join(argv[:3])} failed:\n{result.stderr[-3000:]}")
        return venv

    @property
    def home(self) -> Path:
        return settings().state_dir / "superset"

    def _env(self) -> dict[str, str]:
        login = credentials()["superset"]
        return {
            "SUPERSET_CONFIG_PATH": str(self.home / "superset_config.py"),
            "SUPERSET_HOME": str(self.home),
            "FLASK_APP": "superset.app:create_app()",
            SECRET_KEY_ENV: login["secret_key"],
            DATABASE_PASSWORD_ENV: credentials()["postgres"][database("superset").name],
        }

    def _initialise(self) -> None:
        """The contract's initialisation (as the cluster's init container runs it): once per
        Superset version and metadata database (a stamp in the state folder records it)."""
        stamp = self.home / f"initialised-{superset_version()}"
        if stamp.exists():
            return
        login = credentials()["superset"]
        print("  initialising Superset's metadata database", file=sys.stderr, flush=True)
        result = subprocess.run(
            ["/bin/sh", "-c", initialise_script()],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                **self._env(),
                "PATH": f"{self.venv / 'bin'}:{os.environ['PATH']}",
                **dict(zip(ADMIN_ENV, (login["user"], login["password"]), strict=True)),
            },
            cwd=self.home,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"initialising Superset failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
        stamp.touch()

    def up(self) -> None:
        venv = self.environment()
        if processes.running_pid(self.name) is None and not self.healthy():  # never a second one
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / "superset_config.py").write_text(superset_config(settings().endpoints))
            self._initialise()
            command = server_command(f"{LOOPBACK}:{settings().ports[self.name]}")
            processes.start(
                self.name,
                [venv / "bin" / command[0], *command[1:]],
                env=self._env(),
                cwd=self.home,
            )
        processes.wait_until(self.name, self.healthy, 300)
        dashboards = bundles(settings().endpoints)
        imported = import_dashboards(self.client(), dashboards)
        send_lineage(settings().url("marquez"), dashboards, settings().endpoints.trino_lineage_namespace)
        print(f"  dashboards imported: {', '.join(imported) or 'none changed'}", file=sys.stderr, flush=True)

    def client(self) -> SupersetClient:
        login = credentials()["superset"]
        return SupersetClient(settings().url(self.name), login["user"], login["password"])

    def healthy(self) -> bool:
        return processes.http_ok(f"{settings().url(self.name)}/health")

    def down(self) -> None:
        processes.stop(self.name)
