"""Resources per environment. `WHARF_PROFILE` picks one:

- `embedded` (default): no services; Iceberg is a SQL catalog and the landing store a folder, both
  under `WHARF_DATA_DIR` (default `.wharf/` in the working directory). For `dagster dev` and tests.
- `services`: the services of a wharf deployment (the Kubernetes platform or the native stack),
  located by the `WHARF_*` variables of `wharf_shared.environment`; S3 credentials come from the
  standard AWS variables or the pod's role, never from Dagster config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from wharf_shared.environment import DATA_DIR, TRINO_PASSWORD, PlatformEnvironment, profile
from wharf_shared.iceberg import IcebergCatalogResource
from wharf_shared.landing import LandingStore
from wharf_shared.lineage import LineageResource
from wharf_shared.trino import TrinoResource


def _embedded(data_dir: Path) -> dict[str, Any]:
    trino = TrinoResource()
    return {
        "iceberg": IcebergCatalogResource(uri=(data_dir / "lake").as_uri()),
        "landing": LandingStore(url=(data_dir / "landing").as_uri()),
        "trino": trino,
        "lineage": LineageResource(url="", dataset_namespace=trino.lineage_namespace),
    }


def _services() -> dict[str, Any]:
    contract = PlatformEnvironment.from_env()
    s3: dict[str, Any] = {"s3_endpoint": contract.s3_endpoint or None, "s3_region": contract.s3_region}
    password = dg.EnvVar(TRINO_PASSWORD) if os.environ.get(TRINO_PASSWORD) else None
    return {
        "iceberg": IcebergCatalogResource(
            uri=contract.iceberg_uri, warehouse=contract.iceberg_warehouse, **s3
        ),
        "landing": LandingStore(url=contract.landing_url, **s3),
        "trino": TrinoResource(
            host=contract.trino_host,
            port=contract.trino_port,
            user=contract.trino_user,
            password=password,
            http_scheme=contract.trino_scheme,
        ),
        "lineage": LineageResource(
            url=contract.openlineage_url,
            job_namespace=contract.lineage_job_namespace,
            dataset_namespace=contract.dataset_namespace,
        ),
    }


def shared_resources(chosen: str | None = None) -> dict[str, Any]:
    """The resources every location binds, for profile `chosen` (default: `$WHARF_PROFILE`)."""
    if (chosen or profile()) == "embedded":
        return _embedded(Path(os.environ.get(DATA_DIR, ".wharf")).resolve())
    return _services()
