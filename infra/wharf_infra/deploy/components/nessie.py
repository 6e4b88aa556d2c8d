"""Nessie: the Iceberg REST catalog (`/iceberg`), versions stored in Postgres (JDBC2).

Nessie's settings are the contract's (`nessie_settings`), passed whole as the chart's
`advancedConfig`, which takes precedence over what the chart derives; the structured values below
only wire the credentials from Secrets and pin the image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from wharf_infra.contract.artefacts import NESSIE_S3, S3_KEY_ENV, nessie_settings
from wharf_infra.contract.endpoints import NESSIE_SERVICE, Endpoints
from wharf_infra.contract.facts import WAREHOUSE
from wharf_infra.core.image_tags import Images
from wharf_infra.deploy.components.component import Component
from wharf_infra.deploy.components.database_wait import database_wait
from wharf_infra.deploy.components.object_store import ObjectStoreFacts
from wharf_infra.deploy.components.release import Charts, helm_release

RELEASE, PORT = NESSIE_SERVICE
WAREHOUSE_KEY = f"nessie.catalog.warehouses.{WAREHOUSE}"
# The accounts Nessie's pods run as: on S3, its IAM role trusts exactly these (see s3.py).
SERVICE_ACCOUNTS = (RELEASE,)


@dataclass(frozen=True)
class NessieArgs:
    charts: Charts
    namespace: str
    endpoints: Endpoints
    database_secret: str
    store: ObjectStoreFacts
    images: Images = field(default_factory=Images)  # where the images come from: the stack's `images`


def nessie_values(args: NessieArgs) -> dict[str, Any]:
    """The values wharf computes; sizing and security live in helm/nessie/."""
    settings = nessie_settings(args.endpoints)
    repository, tag = args.images.parts("nessie")
    s3: dict[str, Any] = (
        {
            "authType": settings[f"{NESSIE_S3}.auth-type"],
            "accessKeySecret": {
                "name": args.store.credential_secrets["nessie"],
                "awsAccessKeyId": S3_KEY_ENV[0],
                "awsSecretAccessKey": S3_KEY_ENV[1],
            },
        }
        if args.store.endpoint
        else {"authType": settings[f"{NESSIE_S3}.auth-type"]}
    )
    values: dict[str, Any] = {
        "image": {"repository": repository, "tag": tag},
        "versionStoreType": settings["nessie.version.store.type"],
        "jdbc": {
            "jdbcUrl": settings["quarkus.datasource.postgresql.jdbc.url"],
            "secret": {"name": args.database_secret, "username": "username", "password": "password"},
        },
        "catalog": {
            "enabled": True,
            # The chart's deployment wants its warehouses listed; the same as in the settings.
            "iceberg": {
                "defaultWarehouse": WAREHOUSE,
                "warehouses": [{"name": WAREHOUSE, "location": settings[f"{WAREHOUSE_KEY}.location"]}],
            },
            "storage": {"s3": {"defaultOptions": s3}},
        },
        # The chart writes the warehouse itself (as `warehouses."lake".location`); the same key
        # unquoted beside it made Nessie refuse its configuration (SRCFG00050).
        "advancedConfig": {
            key: value for key, value in settings.items() if not key.startswith(WAREHOUSE_KEY)
        },
        "extraInitContainers": [database_wait(args.images, args.endpoints, "nessie")],
    }
    if "nessie" in args.store.service_account_annotations:
        values["serviceAccount"] = {
            "create": True,
            "name": SERVICE_ACCOUNTS[0],
            "annotations": args.store.service_account_annotations["nessie"],
        }
    return values


class Nessie(Component):
    def __init__(self, name: str, args: NessieArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Nessie", name, opts)
        helm_release(
            "nessie",
            RELEASE,
            args.namespace,
            args.charts,
            nessie_values(args),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
