"""Lake maintenance as ops: compact small files, then expire old snapshots, through Trino.

Compaction first, so the files it replaces are released by the expiry that follows.
"""

import dagster as dg
from pydantic import Field

from wharf_shared.trino import TrinoResource


class MaintenanceConfig(dg.Config):
    schemas: list[str] = Field(default_factory=lambda: ["raw", "curated", "intermediate"])
    file_size_threshold: str = "128MB"  # files smaller than this are rewritten together
    retention: str = "7d"  # Trino refuses less than iceberg.expire-snapshots.min-retention


@dg.op(description="Every Iceberg table in the configured schemas of the lake.")
def list_lake_tables(config: MaintenanceConfig, trino: TrinoResource) -> list[str]:
    placeholders = ", ".join("?" for _ in config.schemas)
    rows = trino.query(
        "select table_schema, table_name from lake.information_schema.tables "
        f"where table_type = 'BASE TABLE' and table_schema in ({placeholders}) order by 1, 2",
        tuple(config.schemas),
    )
    return [f"lake.{schema}.{table}" for schema, table in rows]


@dg.op(description="Rewrites small data files into larger ones (ALTER TABLE … EXECUTE optimize).")
def compact_tables(
    context: dg.OpExecutionContext, config: MaintenanceConfig, trino: TrinoResource, tables: list[str]
) -> list[str]:
    for table in tables:
        trino.query(
            f"ALTER TABLE {table} EXECUTE optimize(file_size_threshold => '{config.file_size_threshold}')"
        )
        context.log.info(f"compacted {table}")
    return tables


@dg.op(description="Drops snapshots older than the retention and the files only they reference.")
def expire_snapshots(
    context: dg.OpExecutionContext, config: MaintenanceConfig, trino: TrinoResource, tables: list[str]
) -> None:
    for table in tables:
        trino.query(
            f"ALTER TABLE {table} EXECUTE expire_snapshots(retention_threshold => '{config.retention}')"
        )
        context.log.info(f"expired snapshots of {table} older than {config.retention}")


@dg.job(description="Weekly Iceberg table maintenance of the lake.", tags={"dagster/max_runtime": 3 * 3600})
def table_maintenance() -> None:
    expire_snapshots(compact_tables(list_lake_tables()))


weekly_table_maintenance = dg.ScheduleDefinition(
    job=table_maintenance,
    cron_schedule="0 3 * * 0",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
