"""The weather assets: daily observations per city, the latest hour, and a monthly rollup."""

from datetime import date, timedelta
from functools import reduce

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import And, BooleanExpression, EqualTo, GreaterThanOrEqual, In, LessThan, Or

from weather.checks import OBSERVATION_CHECKS, observation_check_results
from weather.cities import CITIES
from weather.partitions import (
    contiguous_spans,
    daily_by_city,
    daily_to_monthly,
    dates_by_city,
    hourly,
    monthly_by_city,
)
from weather.source import WeatherSource
from weather.tables import WEATHER_MONTHLY, WEATHER_NOWCAST, WEATHER_OBSERVATIONS
from wharf_shared.iceberg import IcebergCatalogResource
from wharf_shared.metadata import table_metadata

# The HTTP source fails transiently (rate limits, timeouts): retry with growing, jittered pauses.
SOURCE_RETRY = dg.RetryPolicy(
    max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def _days_of(city_days: dict[str, list[date]]) -> BooleanExpression:
    """The rows of exactly these city-days: what one run replaces."""
    return reduce(
        Or,
        [
            And(EqualTo("city", city), In("obs_date", {d.isoformat() for d in days}))
            for city, days in city_days.items()
        ],
    )


@dg.asset(
    key=WEATHER_OBSERVATIONS.asset_key,
    partitions_def=daily_by_city,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=SOURCE_RETRY,
    check_specs=OBSERVATION_CHECKS,
    code_version="1",
    group_name="weather",
    kinds={"iceberg", "python"},
    tags={"layer": "raw"},
    description="Hourly weather observations, one partition per day and city.",
)
def weather_observations(
    context: dg.AssetExecutionContext, weather_source: WeatherSource, iceberg: IcebergCatalogResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """Fetch the run's city-days (a whole backfill in one run) and replace them in one commit."""
    city_days = dates_by_city(context.partition_keys, daily_by_city)
    batches = [
        weather_source.observations(city, first, last)
        for city, days in city_days.items()
        for first, last in contiguous_spans(days)
    ]
    rows = pa.concat_tables(batches)
    table, changed = iceberg.replace(WEATHER_OBSERVATIONS, rows, _days_of(city_days))
    context.log.info(f"{rows.num_rows} rows for {sum(map(len, city_days.values()))} city-days")
    return dg.MaterializeResult(
        metadata=table_metadata(WEATHER_OBSERVATIONS, rows, table, changed),
        check_results=observation_check_results(rows),
    )


@dg.asset(
    key=WEATHER_NOWCAST.asset_key,
    partitions_def=hourly,
    retry_policy=SOURCE_RETRY,
    code_version="1",
    group_name="weather",
    kinds={"iceberg", "python"},
    tags={"layer": "raw"},
    description="The latest hour's observation for every city, refreshed hourly.",
)
def weather_nowcast(
    context: dg.AssetExecutionContext, weather_source: WeatherSource, iceberg: IcebergCatalogResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    window = context.partition_time_window
    day = window.start.date()
    rows = pa.concat_tables([weather_source.observations(city, day, day) for city in sorted(CITIES)])
    in_hour = pc.equal(rows["observed_at"], pa.scalar(window.start, rows.schema.field("observed_at").type))
    rows = rows.filter(in_hour)
    hour = window.start.isoformat()
    table, changed = iceberg.replace(WEATHER_NOWCAST, rows, EqualTo("observed_at", hour))
    return dg.MaterializeResult(metadata=table_metadata(WEATHER_NOWCAST, rows, table, changed))


def _monthly_rollup(rows: pa.Table, city: str, month: date) -> pa.Table:
    temperature = rows["temperature_c"]
    return pa.Table.from_pylist(
        [
            {
                "city": city,
                "month": month,
                "hours_observed": rows.num_rows,
                "temperature_mean_c": pc.mean(temperature).as_py(),
                "temperature_min_c": pc.min(temperature).as_py(),
                "temperature_max_c": pc.max(temperature).as_py(),
                "precipitation_total_mm": pc.sum(rows["precipitation_mm"]).as_py(),
            }
        ],
        schema=WEATHER_MONTHLY.arrow_schema,
    )


# A month rolls up again whenever any of its days is (re)observed, backfilled months included:
# `eager()` considers only the latest month, so a backfill of last year would never roll up. Days
# not observed yet do not hold a month back: it is built from the days observed so far.
ROLLUP_WHEN_DAYS_CHANGE = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("rollup_when_days_change")


@dg.asset(
    key=WEATHER_MONTHLY.asset_key,
    partitions_def=monthly_by_city,
    ins={
        "observations": dg.AssetIn(
            WEATHER_OBSERVATIONS.asset_key, partition_mapping=daily_to_monthly, dagster_type=dg.Nothing
        )
    },
    automation_condition=ROLLUP_WHEN_DAYS_CHANGE,
    code_version="1",
    group_name="weather",
    kinds={"iceberg", "python"},
    tags={"layer": "curated"},
    description="Monthly temperature and precipitation per city, from the days observed so far.",
)
def weather_monthly(
    context: dg.AssetExecutionContext, iceberg: IcebergCatalogResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    keys = monthly_by_city.get_partition_key_from_str(context.partition_key).keys_by_dimension
    city, month = keys["city"], date.fromisoformat(keys["month"])
    next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    observed = iceberg.read(
        WEATHER_OBSERVATIONS,
        And(
            EqualTo("city", city),
            GreaterThanOrEqual("obs_date", month.isoformat()),
            LessThan("obs_date", next_month.isoformat()),
        ),
    )
    if observed.num_rows == 0:
        raise dg.Failure(
            f"no observations for {city} in {month:%Y-%m}; materialize "
            f"{WEATHER_OBSERVATIONS.trino_name} for that month first"
        )
    rollup = _monthly_rollup(observed, city, month)
    table, changed = iceberg.replace(
        WEATHER_MONTHLY, rollup, And(EqualTo("city", city), EqualTo("month", month.isoformat()))
    )
    return dg.MaterializeResult(metadata=table_metadata(WEATHER_MONTHLY, rollup, table, changed))


weather_freshness_checks = dg.build_last_update_freshness_checks(
    assets=[weather_observations],
    lower_bound_delta=timedelta(hours=30),
)
