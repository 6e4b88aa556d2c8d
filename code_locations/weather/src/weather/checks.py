"""Quality rules for observation rows, evaluated on exactly the rows a run writes."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from weather.tables import WEATHER_OBSERVATIONS

# Outside these, a reading is a sensor or unit error, not weather (records: -89.2 °C, 56.7 °C).
TEMPERATURE_RANGE_C = (-90.0, 60.0)

OBSERVATION_CHECKS = (
    dg.AssetCheckSpec(
        "no_null_timestamps",
        asset=WEATHER_OBSERVATIONS.asset_key,
        description="Every row has an observation time.",
    ),
    dg.AssetCheckSpec(
        "temperature_in_physical_range",
        asset=WEATHER_OBSERVATIONS.asset_key,
        description=f"Temperatures lie within {TEMPERATURE_RANGE_C} °C.",
    ),
    dg.AssetCheckSpec(
        "one_row_per_city_hour",
        asset=WEATHER_OBSERVATIONS.asset_key,
        description="No city has two rows for the same hour.",
    ),
)


def observation_check_results(rows: pa.Table) -> list[dg.AssetCheckResult]:
    null_times = rows["observed_at"].null_count
    low, high = TEMPERATURE_RANGE_C
    temperature = rows["temperature_c"]
    out_of_range = pc.sum(pc.or_(pc.less(temperature, low), pc.greater(temperature, high))).as_py() or 0
    distinct = rows.group_by(["city", "observed_at"]).aggregate([]).num_rows
    duplicates = rows.num_rows - distinct
    return [
        dg.AssetCheckResult(
            check_name="no_null_timestamps", passed=null_times == 0, metadata={"null_timestamps": null_times}
        ),
        dg.AssetCheckResult(
            check_name="temperature_in_physical_range",
            passed=out_of_range == 0,
            metadata={
                "out_of_range": out_of_range,
                "min_c": pc.min(temperature).as_py(),
                "max_c": pc.max(temperature).as_py(),
            },
        ),
        dg.AssetCheckResult(
            check_name="one_row_per_city_hour",
            passed=duplicates == 0,
            metadata={"duplicate_rows": duplicates},
        ),
    ]
