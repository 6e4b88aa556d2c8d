"""What the platform is made of, whichever way it runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

Access = Literal["read", "readwrite"]


@dataclass(frozen=True)
class Database:
    """A Postgres database and the one role that owns it (login, password generated)."""

    name: str

    @property
    def owner(self) -> str:
        return self.name


DATABASES = tuple(Database(name) for name in ("dagster", "nessie", "marquez", "marts", "superset"))


def database(name: str) -> Database:
    """The database `name` of DATABASES (a KeyError names one that is not)."""
    return {db.name: db for db in DATABASES}[name]


WAREHOUSE = "lake"  # the Iceberg warehouse Nessie serves; its data lives in the bucket of that name
LANDING_BUCKET = "landing"
LOGS_BUCKET = "dagster-logs"
COMPUTE_LOG_PREFIX = "compute-logs"
BUCKETS = (WAREHOUSE, LANDING_BUCKET, LOGS_BUCKET)

# Who may use which bucket: each service gets its own credentials (MinIO) or role (S3) with these.
BUCKET_GRANTS: dict[str, dict[str, Access]] = {
    "nessie": {WAREHOUSE: "readwrite"},
    "trino": {WAREHOUSE: "readwrite"},
    "dagster": {bucket: "readwrite" for bucket in BUCKETS},
}
S3_SERVICES = tuple(BUCKET_GRANTS)


def s3_principal(service: str) -> str:
    """The MinIO policy (and, natively, the user) that carries `service`'s grants."""
    return f"wharf-{service}"


# Namespaces besides the platform's own (`PlatformConfig.namespace`): the charts' operators.
OPERATOR_NAMESPACE = "cnpg-system"
CERT_MANAGER_NAMESPACE = "cert-manager"
GATEWAY_NAMESPACE = "wharf-gateway"  # Traefik

# What a user is handed: the gateway's login and CA, and MinIO's console login (Secrets).
LOGIN_SECRET = "wharf-ui-login"  # basic auth users (htpasswd) in the platform namespace
CA_SECRET = "wharf-ca"  # the local stack's CA, in the cert-manager namespace
MINIO_ROOT_SECRET = "wharf-minio-root"  # MINIO_ROOT_USER / MINIO_ROOT_PASSWORD
GATEWAY_HTTPS_PORT = 443

# MinIO, the object store of both local stacks: its root login's user and the region it answers as.
MINIO_ROOT_USER = "wharf-root"
MINIO_REGION = "us-east-1"

# Dagster's instance reaches Postgres through psycopg2 (what dagster-postgres ships); SQLAlchemy
# 2.1 would map a bare `postgresql://` to psycopg 3.
DAGSTER_POSTGRES_SCHEME = "postgresql+psycopg2"


def minio_bucket_arns() -> dict[str, str]:
    """MinIO (on the local cluster and natively) names each bucket by its logical name."""
    return {bucket: f"arn:aws:s3:::{bucket}" for bucket in BUCKETS}


def s3_policy(bucket_arns: dict[str, str], service: str) -> str:
    """The IAM-style policy (MinIO and AWS alike) that gives `service` its grants.

    `bucket_arns` maps each logical bucket to its ARN (`arn:aws:s3:::<physical name>`).
    """
    grants = BUCKET_GRANTS[service]
    writable = [bucket_arns[b] for b, access in grants.items() if access == "readwrite"]
    statements = [
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": [bucket_arns[b] for b in grants],
        },
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket_arns[b]}/*" for b in grants]},
    ]
    if writable:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"{arn}/*" for arn in writable],
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
