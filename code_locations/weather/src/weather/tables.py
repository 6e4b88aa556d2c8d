"""The Iceberg tables the weather location writes."""

from pyiceberg.schema import Schema
from pyiceberg.types import DateType, DoubleType, LongType, NestedField, StringType, TimestamptzType

from wharf_shared.tables import IcebergTable

WEATHER_OBSERVATIONS = IcebergTable(
    namespace="raw",
    name="weather_observations",
    schema=Schema(
        NestedField(1, "city", StringType()),
        NestedField(2, "obs_date", DateType()),
        NestedField(3, "observed_at", TimestamptzType()),
        NestedField(4, "temperature_c", DoubleType()),
        NestedField(5, "relative_humidity_pct", DoubleType()),
        NestedField(6, "precipitation_mm", DoubleType()),
        NestedField(7, "wind_speed_kmh", DoubleType()),
        NestedField(8, "source", StringType()),
    ),
    identity_partitions=("obs_date", "city"),
)

WEATHER_NOWCAST = IcebergTable(
    namespace="raw",
    name="weather_nowcast",
    schema=WEATHER_OBSERVATIONS.schema,
    identity_partitions=("obs_date",),
)

WEATHER_MONTHLY = IcebergTable(
    namespace="curated",
    name="weather_monthly",
    schema=Schema(
        NestedField(1, "city", StringType()),
        NestedField(2, "month", DateType()),
        NestedField(3, "hours_observed", LongType()),
        NestedField(4, "temperature_mean_c", DoubleType()),
        NestedField(5, "temperature_min_c", DoubleType()),
        NestedField(6, "temperature_max_c", DoubleType()),
        NestedField(7, "precipitation_total_mm", DoubleType()),
    ),
    identity_partitions=("month", "city"),
)
