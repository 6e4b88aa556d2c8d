"""Postgres: the CloudNativePG operator and one Cluster with a database and role per service."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from wharf_infra.contract.endpoints import POSTGRES_CLUSTER as CLUSTER_NAME
from wharf_infra.contract.facts import DATABASES
from wharf_infra.core.config import PostgresSettings
from wharf_infra.core.image_tags import Images
from wharf_infra.deploy.components.component import Component, child_name
from wharf_infra.deploy.components.release import Charts, helm_release
from wharf_infra.deploy.components.secrets import generated_password, secret
from wharf_infra.deploy.components.security import resources
from wharf_infra.deploy.components.webhook_ready import webhook_ready
from wharf_infra.deploy.labels import metadata

WEBHOOK_SERVICE = "cnpg-webhook-service"  # the chart's `service.name`
DAGSTER_PASSWORD_KEY = "postgresql-password"  # the key the Dagster chart reads its password from
OWNERS = {database.name: database.owner for database in DATABASES}
NAMES = tuple(OWNERS)


def _twice(quantity: str) -> str:
    number = "".join(c for c in quantity if c.isdigit())
    return f"{int(number) * 2}{quantity[len(number) :]}"


@dataclass(frozen=True)
class PostgresArgs:
    charts: Charts
    namespace: str
    operator_namespace: str
    settings: PostgresSettings
    images: Images = field(default_factory=Images)  # where the images come from: the stack's `images`


class Postgres(Component):
    """One Postgres cluster; each service owns one database through one role.

    Outputs, per database, the name of a `kubernetes.io/basic-auth` Secret holding its role's
    `username` and `password`; where it answers is `contract.endpoints`.
    """

    credentials: dict[str, str]
    dagster_password_secret: str

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("Postgres", name, opts)
        child = pulumi.ResourceOptions(parent=self)
        operator = helm_release(
            "cloudnative-pg",
            "cnpg",
            args.operator_namespace,
            args.charts,
            {"image": args.images.values("cnpg_operator")},
            child,
        )

        passwords = {db: generated_password(f"pg-{db}", child) for db in NAMES}
        self.credentials = {}
        for db in NAMES:
            secret_name = f"{CLUSTER_NAME}-{db}"
            secret(
                secret_name,
                args.namespace,
                "database",
                {"username": OWNERS[db], "password": passwords[db]},
                child,
                secret_type="kubernetes.io/basic-auth",
            )
            self.credentials[db] = secret_name
        # The Dagster chart reads its password from a key of its own naming.
        self.dagster_password_secret = "wharf-dagster-postgresql"
        secret(
            self.dagster_password_secret,
            args.namespace,
            "database",
            {DAGSTER_PASSWORD_KEY: passwords["dagster"]},
            child,
        )

        webhook = webhook_ready(
            WEBHOOK_SERVICE,
            args.operator_namespace,
            args.images.reference("dagster"),
            pulumi.ResourceOptions(parent=self, depends_on=[operator]),
        )
        after_operator = pulumi.ResourceOptions(parent=self, depends_on=[operator, webhook])
        cluster_name, cluster_opts = child_name(CLUSTER_NAME, after_operator)
        cluster = k8s.apiextensions.CustomResource(
            cluster_name,
            api_version="postgresql.cnpg.io/v1",
            kind="Cluster",
            metadata=metadata(CLUSTER_NAME, args.namespace, "database"),
            spec={
                "instances": args.settings.instances,
                "imageName": args.images.reference("postgres"),
                "storage": {"size": args.settings.storage},
                "resources": resources("250m", args.settings.memory, "2", _twice(args.settings.memory)),
                "enableSuperuserAccess": False,
                "postgresql": {"parameters": {"max_connections": "200"}},
                "bootstrap": {
                    "initdb": {
                        "database": "dagster",
                        "owner": OWNERS["dagster"],
                        "secret": {"name": self.credentials["dagster"]},
                    }
                },
                "managed": {
                    "roles": [
                        {
                            "name": OWNERS[db],
                            "ensure": "present",
                            "login": True,
                            "passwordSecret": {"name": self.credentials[db]},
                        }
                        for db in NAMES
                        if db != "dagster"
                    ]
                },
            },
            opts=cluster_opts,
        )
        for db in NAMES:
            if db == "dagster":
                continue  # created by initdb
            database, database_opts = child_name(
                f"{CLUSTER_NAME}-db-{db}", pulumi.ResourceOptions(parent=self, depends_on=[cluster])
            )
            k8s.apiextensions.CustomResource(
                database,
                api_version="postgresql.cnpg.io/v1",
                kind="Database",
                metadata=metadata(f"{CLUSTER_NAME}-{db}", args.namespace, "database"),
                spec={"name": db, "owner": OWNERS[db], "cluster": {"name": CLUSTER_NAME}},
                opts=database_opts,
            )
        self.register_outputs({"credentials": self.credentials})
