"""weather → Iceberg (Nessie, MinIO) → dbt on Trino → marts in Postgres, on the native stack."""

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pytest
from conftest import FIRST, LAST

from weather.cities import CITIES
from weather.source import WeatherSource, synthetic_payload
from weather.tables import WEATHER_OBSERVATIONS

DAYS = (LAST - FIRST).days + 1


def _expected_daily_means() -> dict[tuple[str, date], float]:
    """Computed here from the source payload, not by the code under test."""
    means: dict[tuple[str, date], float] = {}
    for name, city in CITIES.items():
        hourly = synthetic_payload(city, FIRST, LAST)["hourly"]
        by_day: dict[date, list[float]] = defaultdict(list)
        for stamp, value in zip(hourly["time"], hourly["temperature_2m"], strict=True):
            by_day[date.fromisoformat(stamp[:10])].append(value)
        means |= {(name, day): statistics.fmean(values) for day, values in by_day.items()}
    return means


def test_a_30_day_backfill_of_3_cities_is_one_run(
    backfill: dg.ExecuteInProcessResult, resources: dict[str, Any]
) -> None:
    assert backfill.success
    rows = resources["trino"].query(
        "select count(*), count(distinct city), count(distinct obs_date) from lake.raw.weather_observations "
        f"where obs_date between date '{FIRST}' and date '{LAST}'"
    )
    assert rows == [(DAYS * len(CITIES) * 24, len(CITIES), DAYS)]


def test_dbt_builds_the_marts_with_the_right_values(
    dbt_build: dg.ExecuteInProcessResult, resources: dict[str, Any]
) -> None:
    assert dbt_build.success
    rows = resources["trino"].query(
        "select city, obs_date, hours_observed, temperature_mean_c "
        f"from marts.analytics.daily_weather_summary where obs_date between date '{FIRST}' and date '{LAST}'"
    )
    assert len(rows) == DAYS * len(CITIES)
    expected = _expected_daily_means()
    for city, day, hours, mean in rows:
        assert hours == 24
        assert mean == pytest.approx(expected[(city, day)], abs=1e-9)


def test_dbt_tests_are_asset_checks_recorded_in_postgres(
    dbt_build: dg.ExecuteInProcessResult, instance: dg.DagsterInstance
) -> None:
    evaluations = dbt_build.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    check = evaluations[0].asset_check_key
    recorded = instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
    assert recorded


def test_rerunning_an_unchanged_partition_changes_nothing(
    backfill: dg.ExecuteInProcessResult, resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    from weather.assets import weather_observations

    query = (
        "select city, observed_at, temperature_c, precipitation_mm from lake.raw.weather_observations "
        "order by city, observed_at"
    )
    before = resources["trino"].query(query)
    snapshot = resources["iceberg"].table(WEATHER_OBSERVATIONS).current_snapshot().snapshot_id
    again = dg.materialize(
        [weather_observations],
        instance=instance,
        partition_key=f"madrid|{FIRST + timedelta(3)}",
        resources={**resources, "weather_source": WeatherSource(kind="synthetic")},
    )
    assert again.success
    # No commit at all, not merely the same rows: Nessie's table has the snapshot it had.
    assert resources["iceberg"].table(WEATHER_OBSERVATIONS).current_snapshot().snapshot_id == snapshot
    assert resources["trino"].query(query) == before
