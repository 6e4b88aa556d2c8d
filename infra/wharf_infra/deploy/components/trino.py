"""Trino: catalogs `lake` (Iceberg REST → Nessie) and `marts` (Postgres), lineage to Marquez.

Catalogs and the event listener are the contract's artefacts; credentials reach them as
`${ENV:…}` references filled from Secrets, never as values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi

from wharf_infra.contract.artefacts import (
    MARTS_CREDENTIAL_ENV,
    S3_KEY_ENV,
    TRINO_RULES_FILE,
    properties_text,
    trino_access_rules,
    trino_catalogs,
)
from wharf_infra.contract.endpoints import TRINO_SERVICE, Endpoints
from wharf_infra.core.image_tags import Images
from wharf_infra.deploy.components.component import Component
from wharf_infra.deploy.components.object_store import ObjectStoreFacts
from wharf_infra.deploy.components.release import Charts, helm_release
from wharf_infra.deploy.components.secrets import secret_env

RELEASE, PORT = TRINO_SERVICE
# The accounts Trino's pods (coordinator, workers) run as: on S3, its IAM role trusts exactly these.
SERVICE_ACCOUNTS = (RELEASE,)


@dataclass(frozen=True)
class TrinoArgs:
    charts: Charts
    namespace: str
    workers: int
    endpoints: Endpoints
    marts_secret: str
    store: ObjectStoreFacts
    images: Images = field(default_factory=Images)  # where the images come from: the stack's `images`


def trino_values(args: TrinoArgs) -> dict[str, Any]:
    env = secret_env(
        args.marts_secret, dict(zip(MARTS_CREDENTIAL_ENV, ("username", "password"), strict=True))
    )
    if "trino" in args.store.credential_secrets:
        env += secret_env(args.store.credential_secrets["trino"], {key: key for key in S3_KEY_ENV})
    repository, tag = args.images.parts("trino")
    values: dict[str, Any] = {
        "image": {"repository": repository, "tag": tag},
        "server": {"workers": args.workers},
        "catalogs": {name: properties_text(c) for name, c in trino_catalogs(args.endpoints).items()},
        "env": env,
        "accessControl": {
            "type": "configmap",
            "refreshPeriod": "60s",
            "configFile": TRINO_RULES_FILE,
            "rules": {TRINO_RULES_FILE: json.dumps(trino_access_rules(), indent=2)},
        },
    }
    if "trino" in args.store.service_account_annotations:
        values["serviceAccount"] = {
            "create": True,
            "name": SERVICE_ACCOUNTS[0],
            "annotations": args.store.service_account_annotations["trino"],
        }
    return values


class Trino(Component):
    def __init__(self, name: str, args: TrinoArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Trino", name, opts)
        helm_release(
            "trino",
            RELEASE,
            args.namespace,
            args.charts,
            trino_values(args),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
