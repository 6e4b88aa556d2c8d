"""The lake on wharf's images alone: Trino writes an Iceberg table through Nessie's REST catalog
into MinIO and reads it back, and reads the marts on PostgreSQL, every service configured from the
contract the cluster mounts (Trino's catalogs, Nessie's settings, each service's own S3 login)."""

from __future__ import annotations

from data_services import DataServices
from docker_box import trino_query


def test_trino_writes_and_reads_an_iceberg_table_through_nessie_and_minio(
    data_services: DataServices,
) -> None:
    port = data_services.box.port("trino", 8080)
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


def test_trino_reads_the_marts_catalog_on_postgres(data_services: DataServices) -> None:
    data_services.psql(
        "CREATE SCHEMA images_tier",
        "CREATE TABLE images_tier.batches AS SELECT 'B-1' AS batch_id, 42 AS readings",
        database="marts",
    )
    port = data_services.box.port("trino", 8080)
    assert trino_query(port, "SELECT batch_id, readings FROM marts.images_tier.batches") == [["B-1", 42]]
