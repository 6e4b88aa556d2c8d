"""Offline copies of upstream contracts (chart values schemas, CRDs), read from WHARF_UPSTREAM_DIR.

Tests skip with a reason when the copies are absent (under `CI=true` they fail instead); nothing is
ever fetched.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from wharf_infra.core import paths
from wharf_infra.core.versions import versions
from wharf_infra.verify.helm_template import KUBERNETES_SCHEMA_URL, kubernetes_definitions

# Where each chart's contract lives in the upstream copies. The Dagster chart has no copy of a
# release: the copy is master at a commit close to the 1.13 line (see its README).
CHART_DIRS = {
    "cloudnative-pg": "cloudnative-pg-chart/{version}",
    "cert-manager": "cert-manager/{version}",
    "traefik": "charts/traefik",
    "nessie": "nessie/{version}",
    "trino": "trino/{version}",
    "dagster": "dagster/unreleased-437f92d9",
}
# The Gateway API CRDs are the standard channel the Traefik chart ships (what the cluster gets).
CRD_DIRS = ("cloudnative-pg/v1.30.0", "cert-manager/v1.21.1", "charts/traefik/crds")


def upstream_dir() -> Path:
    """The upstream copies; absent, a skip with the reason (a failure under CI, which has them)."""
    path = paths.upstream_dir()
    if path is None:
        reason = "upstream contracts not found; set WHARF_UPSTREAM_DIR to their folder"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must have them)")
        pytest.skip(reason)
    return path


def chart_dir(chart: str) -> Path:
    path = upstream_dir() / CHART_DIRS[chart].format(version=versions().chart(chart).version)
    if not path.is_dir():
        pytest.skip(f"no upstream copy of chart {chart} at {path}")
    return path


def _documents(path: Path) -> Iterator[dict[str, Any]]:
    for document in yaml.safe_load_all(path.read_text()):
        if isinstance(document, dict):
            yield document


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema; the first directory listed wins (standard channel)."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for folder in CRD_DIRS:
        for path in sorted((upstream_dir() / folder).glob("*.yaml")):
            for doc in _documents(path):
                if doc.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
                for version in doc["spec"]["versions"]:
                    schemas.setdefault(
                        (f"{group}/{version['name']}", kind), version["schema"]["openAPIV3Schema"]
                    )
    return schemas


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as the API server applies it: unknown fields of structural objects are errors
    (the server would silently prune them, which hides typos)."""
    result = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                "properties" in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
                and "additionalProperties" not in node
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(result)
    return result


def validate_custom_resource(obj: dict[str, Any]) -> list[str]:
    schema = crd_schemas().get((obj["apiVersion"], obj["kind"]))
    if schema is None:
        return [f"no CRD for {obj['apiVersion']} {obj['kind']} in the upstream copies"]
    validator = jsonschema.Draft7Validator(strict(schema))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


def values_validator(chart: str) -> jsonschema.Draft7Validator | None:
    """A validator for the chart's values.schema.json (Kubernetes refs resolved offline), or None."""
    path = chart_dir(chart) / "values.schema.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    k8s = DRAFT7.create_resource(kubernetes_definitions())

    def retrieve(uri: str) -> Resource[Any]:
        if uri == KUBERNETES_SCHEMA_URL:
            return k8s
        raise LookupError(f"{chart} schema refers to {uri}, which has no offline copy")

    return jsonschema.Draft7Validator(schema, registry=Registry(retrieve=retrieve))  # type: ignore[call-arg]


def upstream_defaults(chart: str) -> dict[str, Any]:
    loaded = yaml.safe_load((chart_dir(chart) / "values.yaml").read_text())
    return loaded if isinstance(loaded, dict) else {}
