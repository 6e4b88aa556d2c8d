"""Nessie: the Iceberg REST catalog (`/iceberg`), versions stored in Postgres (JDBC2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from wharf_infra.components.object_store import ObjectStoreFacts
from wharf_infra.components.release import helm_release

RELEASE = "nessie"
PORT = 19120
WAREHOUSE = "lake"


@dataclass(frozen=True)
class NessieArgs:
    stack: str
    namespace: str
    jdbc_url: str
    database_secret: str
    store: ObjectStoreFacts


def nessie_values(args: NessieArgs) -> dict[str, Any]:
    """The values wharf computes; sizing and security live in helm/nessie/."""
    s3: dict[str, Any] = {"region": args.store.region}
    if args.store.endpoint:
        s3 |= {
            "endpoint": args.store.endpoint,
            "pathStyleAccess": True,
            "authType": "STATIC",
            "accessKeySecret": {
                "name": args.store.credential_secrets["nessie"],
                "awsAccessKeyId": "AWS_ACCESS_KEY_ID",
                "awsSecretAccessKey": "AWS_SECRET_ACCESS_KEY",
            },
        }
    else:
        s3 |= {"authType": "APPLICATION_GLOBAL"}  # the pod's IAM role
    values: dict[str, Any] = {
        "versionStoreType": "JDBC2",
        "jdbc": {
            "jdbcUrl": args.jdbc_url,
            "secret": {"name": args.database_secret, "username": "username", "password": "password"},
        },
        "catalog": {
            "enabled": True,
            "iceberg": {
                "defaultWarehouse": WAREHOUSE,
                "warehouses": [{"name": WAREHOUSE, "location": f"{args.store.bucket_url('lake')}/"}],
            },
            "storage": {"s3": {"defaultOptions": s3}},
        },
    }
    if "nessie" in args.store.service_account_annotations:
        values["serviceAccount"] = {"annotations": args.store.service_account_annotations["nessie"]}
    return values


class Nessie(pulumi.ComponentResource):
    """Outputs `iceberg_uri`, the REST endpoint Trino and the code locations use."""

    iceberg_uri: str

    def __init__(self, name: str, args: NessieArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("wharf:platform:Nessie", name, None, opts)
        helm_release(
            "nessie",
            RELEASE,
            args.namespace,
            args.stack,
            nessie_values(args),
            pulumi.ResourceOptions(parent=self),
        )
        self.iceberg_uri = f"http://{RELEASE}.{args.namespace}.svc:{PORT}/iceberg"
        self.register_outputs({"iceberg_uri": self.iceberg_uri})
