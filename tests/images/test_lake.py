"""The lake on wharf's images alone: Trino writes an Iceberg table through Nessie's REST catalog
into MinIO and reads it back, every service configured from the contract the cluster mounts
(Trino's `lake` catalog, Nessie's settings), on PostgreSQL's image for Nessie's version store."""

from __future__ import annotations

import secrets
from pathlib import Path

import boto3
from docker_box import (
    ENDPOINTS,
    Containers,
    docker,
    docker_ok,
    http_ok,
    start_minio,
    start_postgres,
    trino_etc,
    trino_query,
)

from wharf_infra.contract.artefacts import (
    NESSIE_S3,
    S3_KEY_ENV,
    nessie_settings,
    properties_text,
    trino_catalogs,
)
from wharf_infra.contract.facts import MINIO_REGION, MINIO_ROOT_USER, WAREHOUSE

S3_LOGIN = "images-tier-s3"  # the name Nessie's settings resolve the S3 login by


def test_trino_writes_and_reads_an_iceberg_table_through_nessie_and_minio(
    built: dict[str, str], containers: Containers, tmp_path: Path
) -> None:
    password, minio_password = secrets.token_hex(12), secrets.token_hex(12)
    start_postgres(containers, built["postgres"], password)
    docker("exec", "postgres", "psql", "-h", "/run", "-U", "postgres", "-c", "CREATE DATABASE nessie")

    minio = start_minio(containers, built["minio"], minio_password)
    boto3.client(
        "s3",
        endpoint_url=minio,
        region_name=MINIO_REGION,
        aws_access_key_id=MINIO_ROOT_USER,
        aws_secret_access_key=minio_password,
    ).create_bucket(Bucket=WAREHOUSE)

    # Nessie takes its settings as the chart hands them over: property-named environment variables.
    containers.run(
        built["nessie"],
        name="nessie",
        user="10000:10001",
        read_only=True,
        tmpfs=("/tmp:uid=10000",),
        ports=(9000,),
        env=nessie_settings(ENDPOINTS)
        | {
            "quarkus.datasource.postgresql.username": "postgres",
            "quarkus.datasource.postgresql.password": password,
            f"{NESSIE_S3}.access-key": f"urn:nessie-secret:quarkus:{S3_LOGIN}",
            f"{S3_LOGIN}.name": MINIO_ROOT_USER,
            f"{S3_LOGIN}.secret": minio_password,
        },
    )
    management = containers.port("nessie", 9000)
    containers.wait("nessie", lambda: http_ok(f"http://127.0.0.1:{management}/q/health/ready"))

    lake = properties_text(trino_catalogs(ENDPOINTS)["lake"])
    etc = trino_etc(tmp_path / "etc", {"lake": lake})
    containers.run(
        built["trino"],
        name="trino",
        user="1000:1000",
        volumes=(f"{etc}:/etc/trino:ro",),
        ports=(8080,),
        env=dict(zip(S3_KEY_ENV, (MINIO_ROOT_USER, minio_password), strict=True)),
    )
    containers.wait("trino", lambda: docker_ok("exec", "trino", "/usr/lib/trino/bin/health-check"))
    port = containers.port("trino", 8080)
    trino_query(port, "CREATE SCHEMA lake.images_tier")
    trino_query(
        port,
        "CREATE TABLE lake.images_tier.readings AS SELECT x AS id, CAST(x AS double) / 2 AS value "
        "FROM UNNEST(sequence(1, 1000)) AS t(x)",
    )
    assert trino_query(port, "SELECT count(*), sum(value) FROM lake.images_tier.readings") == [
        [1000, 250250.0]
    ]
    files = trino_query(
        port, 'SELECT file_format, count(*) FROM lake.images_tier."readings$files" GROUP BY 1'
    )
    assert files and files[0][0] == "PARQUET"
