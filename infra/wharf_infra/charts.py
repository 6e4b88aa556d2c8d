"""Each Helm release rendered by helm itself (`helm template`) with the values wharf computed.

`make render` writes these next to the values, so policy and schema checks see the objects the
charts produce, not only their inputs. Charts come from a local folder when one of the pinned
version is at hand (`$WHARF_UPSTREAM_DIR/charts/<chart>`, as in CI, which has no network), else
from the pinned repository.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from wharf_infra.paths import upstream_dir
from wharf_infra.toolchain import helm
from wharf_infra.versions import versions


def chart_name(release: dict[str, Any]) -> str:
    return str(release["chart"]).rsplit("/", 1)[-1]


def local_chart(chart: str) -> Path | None:
    """The unpacked chart of the pinned version, if the upstream copies hold it."""
    root = upstream_dir()
    folder = root / "charts" / chart if root else None
    if folder is None or not (folder / "Chart.yaml").exists():
        return None
    version = yaml.safe_load((folder / "Chart.yaml").read_text())["version"]
    return folder if str(version) == versions().chart(chart).version else None


def template(release: dict[str, Any]) -> str:
    """`helm template` of one release as `render` recorded it (name, namespace, chart, values).

    Values schemas are skipped here: some refer to remote Kubernetes schemas, and the infra tier
    validates every release's values offline with those references resolved.
    """
    chart = chart_name(release)
    pinned = versions().chart(chart)
    local = local_chart(chart)
    source = (
        [str(local)]
        if local
        else ([f"{pinned.repo}/{chart}"] if pinned.is_oci else [chart, "--repo", pinned.repo])
    )
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
        yaml.safe_dump(release["values"], values)
        values.flush()
        result = subprocess.run(
            [
                str(helm()),
                "template",
                release["name"],
                *source,
                "--version",
                pinned.version,
                "--namespace",
                release["namespace"],
                "--kube-version",
                versions().kubernetes,
                "--include-crds",
                "--skip-schema-validation",
                "--values",
                values.name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"helm template of {release['name']} ({chart}) failed:\n{result.stderr}")
    return result.stdout
