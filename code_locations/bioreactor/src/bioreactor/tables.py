"""The Iceberg tables the bioreactor location writes."""

from pyiceberg.schema import Schema
from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestamptzType

from wharf_shared.tables import IcebergTable

BIOREACTOR_READINGS = IcebergTable(
    namespace="raw",
    name="bioreactor_readings",
    schema=Schema(
        NestedField(1, "batch_id", StringType()),
        NestedField(2, "ts", TimestamptzType()),
        NestedField(3, "temperature_c", DoubleType()),
        NestedField(4, "ph", DoubleType()),
        NestedField(5, "dissolved_oxygen_pct", DoubleType()),
        NestedField(6, "agitation_rpm", DoubleType()),
        NestedField(7, "source_file", StringType()),
        NestedField(8, "source_sha256", StringType()),
    ),
    identity_partitions=("batch_id",),
    # A commit refused because another one landed is not re-applied as it was: the ingestion
    # checked for duplicates against the table it read, so its step is retried and checks again.
    properties=(("commit.retry.num-retries", "0"),),
)


# The process control limits as a table, so the dbt marts flag excursions against the very limits
# the channel statistics use (bioreactor.assets.CONTROL_LIMITS, written here by an asset).
BIOREACTOR_CONTROL_LIMITS = IcebergTable(
    namespace="raw",
    name="bioreactor_control_limits",
    schema=Schema(
        NestedField(1, "channel", StringType()),
        NestedField(2, "low", DoubleType()),
        NestedField(3, "high", DoubleType()),
    ),
)


def channel_stats_table(group: str) -> IcebergTable:
    """Per-batch statistics of one channel group: one table per group, one shape for all."""
    return IcebergTable(
        namespace="curated",
        name=f"bioreactor_{group}_stats",
        schema=Schema(
            NestedField(1, "batch_id", StringType()),
            NestedField(2, "channel", StringType()),
            NestedField(3, "readings", LongType()),
            NestedField(4, "mean", DoubleType()),
            NestedField(5, "minimum", DoubleType()),
            NestedField(6, "maximum", DoubleType()),
            NestedField(7, "excursions", LongType()),
        ),
        identity_partitions=("batch_id",),
    )
