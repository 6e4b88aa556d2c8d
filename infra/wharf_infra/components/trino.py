"""Trino: catalogs `lake` (Iceberg REST → Nessie) and `marts` (Postgres), lineage to Marquez.

Credentials reach the catalogs as `${ENV:…}` references filled from Secrets, never as values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from wharf_infra.components.object_store import ObjectStoreFacts
from wharf_infra.components.release import helm_release

RELEASE = "trino"
PORT = 8080


@dataclass(frozen=True)
class TrinoArgs:
    stack: str
    namespace: str
    workers: int
    iceberg_uri: str
    warehouse: str
    marts_jdbc_url: str
    marts_secret: str
    store: ObjectStoreFacts
    openlineage_url: str


def _properties(pairs: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in pairs.items())


def lake_catalog(args: TrinoArgs) -> dict[str, str]:
    catalog = {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": args.iceberg_uri,
        "iceberg.rest-catalog.warehouse": args.warehouse,
        "iceberg.rest-catalog.view-endpoints-enabled": "true",
        "fs.native-s3.enabled": "true",
        "s3.region": args.store.region,
    }
    if args.store.endpoint:
        catalog |= {
            "s3.endpoint": args.store.endpoint,
            "s3.path-style-access": "true",
            "s3.aws-access-key": "${ENV:AWS_ACCESS_KEY_ID}",
            "s3.aws-secret-key": "${ENV:AWS_SECRET_ACCESS_KEY}",
        }
    return catalog


def marts_catalog(args: TrinoArgs) -> dict[str, str]:
    return {
        "connector.name": "postgresql",
        "connection-url": args.marts_jdbc_url,
        "connection-user": "${ENV:MARTS_USER}",
        "connection-password": "${ENV:MARTS_PASSWORD}",
    }


def trino_values(args: TrinoArgs) -> dict[str, Any]:
    env: list[dict[str, Any]] = [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": args.marts_secret, "key": key}}}
        for name, key in (("MARTS_USER", "username"), ("MARTS_PASSWORD", "password"))
    ]
    if "trino" in args.store.credential_secrets:
        env += [
            {
                "name": key,
                "valueFrom": {"secretKeyRef": {"name": args.store.credential_secrets["trino"], "key": key}},
            }
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        ]
    values: dict[str, Any] = {
        "server": {"workers": args.workers},
        "catalogs": {"lake": _properties(lake_catalog(args)), "marts": _properties(marts_catalog(args))},
        "env": env,
        "eventListenerProperties": [
            "event-listener.name=openlineage",
            "openlineage-event-listener.transport.type=HTTP",
            f"openlineage-event-listener.transport.url={args.openlineage_url}",
            f"openlineage-event-listener.trino.uri={service_url(args.namespace)}",
        ],
    }
    if "trino" in args.store.service_account_annotations:
        values["serviceAccount"] = {
            "create": True,
            "name": "trino",
            "annotations": args.store.service_account_annotations["trino"],
        }
    return values


def service_url(namespace: str) -> str:
    return f"http://{RELEASE}.{namespace}.svc:{PORT}"


def lineage_namespace(namespace: str) -> str:
    """How Trino's OpenLineage listener names datasets' namespace: from its `trino.uri`."""
    return f"trino://{RELEASE}.{namespace}.svc:{PORT}"


class Trino(pulumi.ComponentResource):
    host: str
    port: int

    def __init__(self, name: str, args: TrinoArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("wharf:platform:Trino", name, None, opts)
        helm_release(
            "trino",
            RELEASE,
            args.namespace,
            args.stack,
            trino_values(args),
            pulumi.ResourceOptions(parent=self),
        )
        self.host = f"{RELEASE}.{args.namespace}.svc"
        self.port = PORT
        self.register_outputs({"host": self.host, "port": self.port})
