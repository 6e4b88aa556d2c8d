"""Each Helm release rendered by helm itself (`helm template`) with the values wharf computed.

`make render` writes these next to the values, so policy and schema checks see the objects the
charts produce, not only their inputs. Charts come from a local folder when one of the pinned
version is at hand (`$WHARF_UPSTREAM_DIR/charts/<chart>`, as in CI, which has no network), else
from the pinned repository (`deploy.chart_source`, as for `pulumi up`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from wharf_infra.build.toolchain import helm
from wharf_infra.core.paths import upstream_dir
from wharf_infra.core.versions import versions
from wharf_infra.deploy.chart_source import ChartSource, ChartSourceError, chart_source, helm_cli_args


def chart_name(release: dict[str, Any]) -> str:
    return str(release["chart"]).rsplit("/", 1)[-1]


def _source(chart: str) -> ChartSource:
    """The pinned chart from the upstream copies when they hold its version, else its repository."""
    root = upstream_dir()
    try:
        return chart_source(chart, root / "charts" if root else None)
    except ChartSourceError:
        return chart_source(chart, None)


# The Kubernetes definitions the Dagster chart's values schema refers to, by URL; offline, they
# come from kubernetes-validate's copy for the Kubernetes version wharf targets.
KUBERNETES_SCHEMA_URL = (
    "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/v1.19.0/_definitions.json"
)


def kubernetes_definitions() -> dict[str, Any]:
    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    definitions = json.loads(
        (root / f"v{versions().kubernetes_schemas}-local" / "_definitions.json").read_text()
    )
    table = definitions.get("$defs") or definitions["definitions"]
    return {"definitions": table, "$defs": table}


def offline_copy(source: Path, destination: Path) -> Path:
    """The charts of `source`, copied to `destination` with each values schema's remote Kubernetes
    references pointed at a local file: helm validates values against the same schema, offline."""
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(source, destination)
    definitions = destination / "_kubernetes-definitions.json"
    definitions.write_text(json.dumps(kubernetes_definitions()))
    for schema in destination.rglob("values.schema.json"):
        text = schema.read_text()
        if KUBERNETES_SCHEMA_URL in text:
            schema.write_text(text.replace(KUBERNETES_SCHEMA_URL, definitions.as_uri()))
    return destination


def template(release: dict[str, Any]) -> str:
    """`helm template` of one release as `render` recorded it (name, namespace, chart, values).

    Values schemas are skipped here: some refer to remote Kubernetes schemas, and the infra tier
    validates every release's values offline with those references resolved.
    """
    chart = chart_name(release)
    source = _source(chart)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
        yaml.safe_dump(release["values"], values)
        values.flush()
        result = subprocess.run(
            [
                str(helm()),
                "template",
                release["name"],
                *helm_cli_args(source),
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
