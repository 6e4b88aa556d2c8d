"""Backfill figures on the native stack (started here if it is not running, and stopped after).

1. A 365-day backfill of one city as one run, against one run per partition over the same days.
2. Re-running an unchanged partition, against its first run, and against a run that does nothing
   (Dagster's own cost per run on this machine: the floor of any re-run that still launches a run).
3. Peak resident memory of the stack's processes while 1 and 2 run.

Runs use an in-memory Dagster instance so that only the data path (source → Iceberg commit through
Nessie to MinIO) is measured. Writes the city `madrid` for 2025 into the stack's lake.
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from typing import Any

import dagster as dg
from stack_memory import PeakMemory

from wharf_infra.native import stack as native_stack
from wharf_infra.native.dagster import platform_env

CITY = "madrid"
FIRST = date(2025, 1, 1)
DAYS = 365


def _run(resources: dict[str, Any], instance: dg.DagsterInstance, **kwargs: Any) -> tuple[float, int]:
    from weather.assets import weather_observations

    started = time.perf_counter()
    result = dg.materialize([weather_observations], resources=resources, instance=instance, **kwargs)
    assert result.success
    seconds = time.perf_counter() - started
    rows = result.asset_materializations_for_node("lake__raw__weather_observations")[0].metadata[
        "rows_written"
    ]
    return seconds, int(rows.value)  # type: ignore[arg-type]


def _empty_run_seconds(instance: dg.DagsterInstance, partition_key: str) -> float:
    """A run of one partition whose asset does nothing: what a run costs before any data moves."""
    from weather.partitions import daily_by_city

    @dg.asset(partitions_def=daily_by_city)
    def nothing() -> None:
        return None

    dg.materialize([nothing], instance=instance, partition_key=partition_key)  # warm imports
    started = time.perf_counter()
    assert dg.materialize([nothing], instance=instance, partition_key=partition_key).success
    return time.perf_counter() - started


def main() -> None:
    started_here = native_stack.ensure_up()
    os.environ.update(platform_env())
    from weather.source import WeatherSource
    from wharf_shared.profiles import shared_resources

    resources = {**shared_resources("services"), "weather_source": WeatherSource(kind="synthetic")}
    last = FIRST + timedelta(days=DAYS - 1)
    keys = [f"{CITY}|{FIRST + timedelta(days=i)}" for i in range(DAYS)]
    instance = dg.DagsterInstance.ephemeral()
    try:
        with PeakMemory() as memory:
            # Clear the year so both ways write every day.
            resources["trino"].query(
                f"delete from lake.raw.weather_observations where city = '{CITY}' "
                f"and obs_date between date '{FIRST}' and date '{last}'"
            )
            one_seconds, one_rows = _run(
                resources,
                instance,
                tags={
                    "dagster/asset_partition_range_start": keys[0],
                    "dagster/asset_partition_range_end": keys[-1],
                },
            )
            resources["trino"].query(
                f"delete from lake.raw.weather_observations where city = '{CITY}' "
                f"and obs_date between date '{FIRST}' and date '{last}'"
            )
            per_partition = [_run(resources, instance, partition_key=key) for key in keys]
            many_seconds = sum(s for s, _ in per_partition)
            many_rows = sum(r for _, r in per_partition)
            first_seconds, _ = per_partition[0]
            rerun_seconds, rerun_rows = _run(resources, instance, partition_key=keys[0])
            empty_seconds = _empty_run_seconds(instance, keys[0])
    finally:
        if started_here:
            native_stack.down()
    print(f"\n{DAYS}-day backfill of {CITY}")
    print(f"  one run:              {one_rows:>7} rows  {one_seconds:8.2f} s")
    print(f"  one run per day:      {many_rows:>7} rows  {many_seconds:8.2f} s  ({DAYS} runs)")
    print(f"  speed-up:             {many_seconds / one_seconds:8.1f}x  (goal >= 10x)")
    print("re-run of an unchanged partition")
    print(f"  first run:            {first_seconds:8.3f} s")
    print(f"  re-run:               {rerun_seconds:8.3f} s  ({rerun_rows} rows written)")
    print(f"  ratio:                {100 * rerun_seconds / first_seconds:8.1f} %  (goal <= 10 %)")
    print(
        f"  a run doing nothing:  {empty_seconds:8.3f} s  "
        f"({100 * empty_seconds / first_seconds:.1f} % of the first run: Dagster's own cost per run)"
    )
    print(f"peak resident memory of the stack: {memory.peak / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
