"""Where each service of the platform answers: in the cluster, or on loopback for the native stack.

Everything else about a service's configuration is the same on both sides, so an `Endpoints` is
the only input that differs between the two renderings of an artefact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wharf_infra.contract.facts import BUCKETS, LANDING_BUCKET, MINIO_REGION, WAREHOUSE
from wharf_shared.environment import PlatformEnvironment

LOOPBACK = "127.0.0.1"

# (Service name, port) of each service inside the cluster.
POSTGRES_CLUSTER = "wharf-pg"  # the CloudNativePG Cluster; its read-write Service is `<name>-rw`
POSTGRES_PORT = 5432
POSTGRES_SERVICE = (f"{POSTGRES_CLUSTER}-rw", POSTGRES_PORT)
NESSIE_SERVICE = ("nessie", 19120)
TRINO_SERVICE = ("trino", 8080)
MARQUEZ_SERVICE = ("marquez", 5000)


@dataclass(frozen=True)
class Endpoints:
    postgres_host: str
    postgres_port: int
    nessie_url: str
    trino_url: str
    marquez_url: str
    s3_region: str
    s3_endpoint: str | None = None  # None on AWS S3
    buckets: Mapping[str, str] = field(default_factory=lambda: {b: b for b in BUCKETS})

    def jdbc_url(self, database: str) -> str:
        return f"jdbc:postgresql://{self.postgres_host}:{self.postgres_port}/{database}"

    @property
    def iceberg_uri(self) -> str:
        return f"{self.nessie_url}/iceberg"

    def bucket_url(self, bucket: str) -> str:
        return f"s3://{self.buckets[bucket]}"

    @property
    def trino_lineage_namespace(self) -> str:
        """How Trino's OpenLineage listener names its datasets' namespace: from its `trino.uri`."""
        return f"trino://{urlsplit(self.trino_url).netloc}"

    def environment(self) -> PlatformEnvironment:
        """What the code locations are told (`WHARF_*`)."""
        trino = urlsplit(self.trino_url)
        assert trino.hostname is not None and trino.port is not None, self.trino_url
        return PlatformEnvironment(
            iceberg_uri=self.iceberg_uri,
            iceberg_warehouse=WAREHOUSE,
            s3_endpoint=self.s3_endpoint or "",
            s3_region=self.s3_region,
            landing_url=self.bucket_url(LANDING_BUCKET),
            trino_host=trino.hostname,
            trino_port=trino.port,
            openlineage_url=self.marquez_url,
            trino_lineage_namespace=self.trino_lineage_namespace,
        )


def _service_url(service: tuple[str, int], namespace: str) -> str:
    return f"http://{service[0]}.{namespace}.svc:{service[1]}"


def cluster_endpoints(
    namespace: str, s3_region: str, s3_endpoint: str | None, buckets: Mapping[str, str]
) -> Endpoints:
    return Endpoints(
        postgres_host=f"{POSTGRES_SERVICE[0]}.{namespace}.svc",
        postgres_port=POSTGRES_SERVICE[1],
        nessie_url=_service_url(NESSIE_SERVICE, namespace),
        trino_url=_service_url(TRINO_SERVICE, namespace),
        marquez_url=_service_url(MARQUEZ_SERVICE, namespace),
        s3_region=s3_region,
        s3_endpoint=s3_endpoint,
        buckets=buckets,
    )


def native_endpoints(ports: Mapping[str, int]) -> Endpoints:
    def url(service: str) -> str:
        return f"http://{LOOPBACK}:{ports[service]}"

    return Endpoints(
        postgres_host=LOOPBACK,
        postgres_port=ports["postgres"],
        nessie_url=url("nessie"),
        trino_url=url("trino"),
        marquez_url=url("marquez"),
        s3_region=MINIO_REGION,
        s3_endpoint=url("minio"),
    )
