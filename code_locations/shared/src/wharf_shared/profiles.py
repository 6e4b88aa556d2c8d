"""Resources per environment. `WHARF_PROFILE` picks one:

- `embedded` (default): no services; Iceberg is a SQL catalog and the landing store a folder, both
  under `WHARF_DATA_DIR` (default `.wharf/` in the working directory). For `dagster dev` and tests.
- `platform`: the services of a wharf deployment (the Kubernetes platform or the native stack),
  located by `WHARF_*` variables; S3 credentials come from the standard AWS variables or the pod's
  role, never from Dagster config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from wharf_shared.iceberg import IcebergCatalogResource
from wharf_shared.landing import LandingStore
from wharf_shared.lineage import LineageResource
from wharf_shared.trino import TrinoResource

PROFILES = ("embedded", "platform")


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise KeyError(f"{name} is not set; the 'platform' profile needs it (see README, Configuration)")
    return value


def _embedded(data_dir: Path) -> dict[str, Any]:
    trino = TrinoResource()
    return {
        "iceberg": IcebergCatalogResource(uri=(data_dir / "lake").as_uri()),
        "landing": LandingStore(url=(data_dir / "landing").as_uri()),
        "trino": trino,
        "lineage": LineageResource(url="", dataset_namespace=trino.lineage_namespace),
    }


def _platform() -> dict[str, Any]:
    s3: dict[str, Any] = {
        "s3_endpoint": os.environ.get("WHARF_S3_ENDPOINT") or None,
        "s3_region": _env("WHARF_S3_REGION", "us-east-1"),
    }
    password = dg.EnvVar("WHARF_TRINO_PASSWORD") if os.environ.get("WHARF_TRINO_PASSWORD") else None
    trino = TrinoResource(
        host=_env("WHARF_TRINO_HOST"),
        port=int(_env("WHARF_TRINO_PORT", "8080")),
        user=_env("WHARF_TRINO_USER", "wharf"),
        password=password,
        http_scheme=_env("WHARF_TRINO_SCHEME", "http"),
    )
    return {
        "iceberg": IcebergCatalogResource(
            uri=_env("WHARF_ICEBERG_URI"), warehouse=_env("WHARF_ICEBERG_WAREHOUSE", "lake"), **s3
        ),
        "landing": LandingStore(url=_env("WHARF_LANDING_URL", "s3://landing"), **s3),
        "trino": trino,
        "lineage": LineageResource(
            url=os.environ.get("WHARF_OPENLINEAGE_URL", ""),
            dataset_namespace=os.environ.get("WHARF_TRINO_LINEAGE_NAMESPACE", trino.lineage_namespace),
        ),
    }


def shared_resources(profile: str | None = None) -> dict[str, Any]:
    """The resources every location binds, for `profile` (default: `$WHARF_PROFILE`)."""
    chosen = profile or os.environ.get("WHARF_PROFILE", "embedded")
    if chosen == "embedded":
        return _embedded(Path(os.environ.get("WHARF_DATA_DIR", ".wharf")).resolve())
    if chosen == "platform":
        return _platform()
    raise ValueError(f"WHARF_PROFILE={chosen!r} is not one of {', '.join(PROFILES)}")
