"""Infra-tier fixtures: every stack rendered once per session, in its own interpreter."""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from wharf_infra.build.toolchain import helm
from wharf_infra.verify.render import STACKS


@dataclass(frozen=True)
class Rendered:
    stack: str
    root: Path

    def releases(self) -> dict[str, dict[str, Any]]:
        return {
            p.stem: yaml.safe_load(p.read_text()) for p in sorted((self.root / "releases").glob("*.yaml"))
        }

    def objects(self) -> list[dict[str, Any]]:
        return [yaml.safe_load(p.read_text()) for p in sorted((self.root / "objects").rglob("*.yaml"))]

    def chart_objects(self) -> list[dict[str, Any]]:
        """What the charts install with wharf's values (`helm template`): CRDs and `helm test`
        hooks (run only by `helm test`, never by an install) left out."""
        return [
            document
            for path in sorted((self.root / "charts").glob("*.yaml"))
            for document in yaml.safe_load_all(path.read_text())
            if document
            and document.get("kind") != "CustomResourceDefinition"
            and "test" not in (document["metadata"].get("annotations") or {}).get("helm.sh/hook", "")
        ]

    def workloads(self) -> list[dict[str, Any]]:
        """Every object wharf deploys: its own and the charts'."""
        return [*self.objects(), *self.chart_objects()]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects() if o["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        matches = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(matches) == 1, f"{kind}/{name}: {len(matches)} rendered"
        return matches[0]

    def files(self) -> list[Path]:
        return [p for p in self.root.rglob("*") if p.is_file()]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """`make render` for every stack, into a temporary folder."""
    root = tmp_path_factory.mktemp("render")
    helm()  # built once (cached) before the renders run side by side
    processes = {
        stack: subprocess.Popen(
            [
                sys.executable,
                "-W",
                "ignore",
                "-m",
                "wharf_infra.verify.render",
                "--stack",
                stack,
                "--out",
                str(root / stack),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for stack in STACKS
    }
    for stack, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"render {stack} failed:\n{out}\n{err}"
    return {stack: Rendered(stack, root / stack) for stack in STACKS}


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest, rendered: dict[str, Rendered]) -> Rendered:
    result: Rendered = rendered[request.param]
    return result
