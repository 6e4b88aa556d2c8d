"""Marquez's web UI on loopback: the lineage graph a person reads, in front of Marquez's API.

Built once into the cache from the source release, as the image builds it (`npm ci` and webpack
with the npm `versions.toml` pins, on this machine's Node.js: Debian's, installed as root where
missing), and started as the image starts it (`node setupProxy.js`, which serves the UI and
forwards `/api` to Marquez), with a preload that keeps its server on loopback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from wharf_infra.contract.endpoints import LOOPBACK
from wharf_infra.core import debian
from wharf_infra.core.versions import versions
from wharf_infra.native import processes
from wharf_infra.native.artefacts import marquez_web_source
from wharf_infra.native.processes import StackError
from wharf_infra.native.settings import settings

LOOPBACK_PRELOAD = Path(__file__).with_name("loopback.js")
NPM_FLAGS = ("--no-audit", "--no-fund", "--loglevel=error")
BUILD_TIMEOUT_S = 3600  # webpack takes about 9 minutes on a busy 2-core machine


def node_runtime() -> Path:
    """This machine's Node.js and npm, Debian's installed where neither is and root may."""
    if not (shutil.which("node") and shutil.which("npm")):
        try:
            debian.install("nodejs", "npm")
        except debian.PackagesMissing as missing:
            raise StackError(f"Marquez's web UI needs Node.js and npm: {missing}") from None
    node = shutil.which("node")
    assert node is not None, "node on PATH after its install"
    return Path(node)


class MarquezWeb:
    name = "marquez-web"

    @property
    def version(self) -> str:
        return versions().image_version("marquez_web")

    @property
    def app(self) -> Path:
        return settings().cache_dir / f"marquez-web-{self.version}"

    def _npm(self, node: Path) -> list[str]:
        """The pinned npm (Debian's leaves out the graph library's build tools), installed once."""
        pinned = str(versions().built["marquez-web"]["npm"])
        prefix = settings().cache_dir / f"npm-{pinned}"
        cli = prefix / "node_modules" / "npm" / "bin" / "npm-cli.js"
        if not cli.exists():
            self._run(["npm", "install", "--prefix", str(prefix), *NPM_FLAGS, f"npm@{pinned}"], prefix.parent)
        return [str(node), str(cli)]

    @staticmethod
    def _run(argv: list[str], cwd: Path) -> None:
        result = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
        )
        if result.returncode != 0:
            raise StackError(f"{' '.join(argv)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def build(self) -> Path:
        """The built UI and the production modules its server needs; the folder appears whole."""
        if self.app.exists():
            return self.app
        npm = self._npm(node_runtime())
        work = self.app.with_name(f"{self.app.name}.build")
        shutil.rmtree(work, ignore_errors=True)
        marquez_web_source(work)
        print(f"  building Marquez's web UI {self.version} (npm, webpack: minutes, once)", file=sys.stderr)
        for step in (["ci"], ["run", "build"], ["prune", "--omit=dev"]):
            self._run([*npm, *step, *NPM_FLAGS], work)
        work.rename(self.app)
        return self.app

    def up(self) -> None:
        app = self.build()
        if processes.running_pid(self.name) is None and not self.healthy():
            ports = settings().ports
            workdir = settings().state_dir / self.name  # where the stack's stop looks for leftovers
            workdir.mkdir(parents=True, exist_ok=True)
            processes.start(
                self.name,
                [node_runtime(), "--require", LOOPBACK_PRELOAD, app / "setupProxy.js"],
                env={
                    "MARQUEZ_HOST": LOOPBACK,
                    "MARQUEZ_PORT": str(ports["marquez"]),
                    "WEB_PORT": str(ports[self.name]),
                },
                cwd=workdir,
            )
        processes.wait_until(self.name, self.healthy, 120)

    def healthy(self) -> bool:
        return processes.http_ok(f"{settings().url(self.name)}/healthcheck")

    def down(self) -> None:
        processes.stop(self.name)
