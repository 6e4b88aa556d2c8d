"""The environment contract between a wharf platform and its code locations.

A deployment (the Kubernetes platform or the native stack) tells the code locations where its
services are through `WHARF_*` variables. This module is the only place those names are written:
the platform side builds a `PlatformEnvironment` and calls `to_env()`; the code locations, the
bioreactor generator and the dbt invocation call `from_env()`. S3 credentials are not part of it:
they come from the standard AWS variables or the pod's role.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields

PROFILE = "WHARF_PROFILE"
PROFILES = ("embedded", "services")  # no services, or those of a deployment
DATA_DIR = "WHARF_DATA_DIR"  # the embedded profile's folder
TRINO_PASSWORD = "WHARF_TRINO_PASSWORD"  # optional, a secret: never in a ConfigMap

# Dagster's OpenLineage jobs live in this namespace: the name the data team knows in Marquez.
LINEAGE_JOB_NAMESPACE = "lakehouse"
# A platform runs at most one run at a time per value of this run tag (its run coordinator's tag
# concurrency limit): code locations tag runs that must not overlap.
EXCLUSIVE_RUN_TAG = "wharf/exclusive"


class ContractError(ValueError):
    """A `WHARF_*` variable is missing or malformed; the message names it and the fix."""


@dataclass(frozen=True)
class PlatformEnvironment:
    """Where a platform's services are, as the code locations see them.

    Each field is one variable (`WHARF_` + the field name in capitals); fields without a default
    are required by the `services` profile.
    """

    iceberg_uri: str
    trino_host: str
    iceberg_warehouse: str = "lake"
    s3_endpoint: str = ""  # empty on AWS S3
    s3_region: str = "us-east-1"
    landing_url: str = "s3://landing"
    trino_port: int = 8080
    trino_user: str = "wharf"
    trino_scheme: str = "http"
    openlineage_url: str = ""  # empty disables lineage
    trino_lineage_namespace: str = ""  # trino://host:port as Trino's listener names it; derived if empty
    lineage_job_namespace: str = LINEAGE_JOB_NAMESPACE

    @staticmethod
    def variable(field_name: str) -> str:
        return f"WHARF_{field_name.upper()}"

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        """Every variable of the contract, the profile's selector included."""
        return (PROFILE, *(cls.variable(f.name) for f in fields(cls)))

    @property
    def dataset_namespace(self) -> str:
        return self.trino_lineage_namespace or f"trino://{self.trino_host}:{self.trino_port}"

    def to_env(self) -> dict[str, str]:
        env = {PROFILE: "services"}
        env |= {self.variable(f.name): str(getattr(self, f.name)) for f in fields(self)}
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PlatformEnvironment:
        """Read the contract from `environ` (default: the process environment)."""
        source = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = cls.variable(f.name)
            raw = source.get(name)
            if raw is None:
                if f.default is MISSING:
                    raise ContractError(
                        f"{name} is not set; the 'services' profile needs it (see README, Configuration)"
                    )
                continue
            if f.type == "int":
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise ContractError(f"{name}={raw!r} is not a port number") from None
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]


def profile(environ: Mapping[str, str] | None = None) -> str:
    """The chosen profile (`$WHARF_PROFILE`, default `embedded`), checked."""
    chosen = (os.environ if environ is None else environ).get(PROFILE, "embedded")
    if chosen not in PROFILES:
        raise ValueError(f"{PROFILE}={chosen!r} is not one of {', '.join(PROFILES)}")
    return chosen
