"""A fault: Nessie down while a run executes gives a failed run, a clear error, no partial commit;
after Nessie is back, the re-run converges to the tables an undisturbed run gives."""

from datetime import date
from typing import Any

import dagster as dg

from weather.source import WeatherSource
from wharf_infra.native.services import Nessie
from wharf_infra.native.settings import settings

DAY = date(2025, 5, 10)
PARTITION = f"berlin|{DAY}"
QUERY = (
    "select observed_at, temperature_c from lake.raw.weather_observations where city = 'berlin' order by 1"
)


def _materialize(resources: dict[str, Any], instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    from weather.assets import weather_observations

    return dg.materialize(
        [weather_observations],
        instance=instance,
        partition_key=PARTITION,
        raise_on_error=False,
        resources={**resources, "weather_source": WeatherSource(kind="synthetic")},
    )


def test_nessie_down_fails_the_run_cleanly_and_a_rerun_converges(
    backfill: dg.ExecuteInProcessResult, resources: dict[str, Any], instance: dg.DagsterInstance
) -> None:
    before = resources["trino"].query(QUERY)
    nessie = Nessie()
    nessie.down()
    try:
        failed = _materialize(resources, instance)
    finally:
        nessie.up()
    assert not failed.success
    error = failed.get_step_failure_events()[0].step_failure_data.error
    assert error is not None
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    port = str(settings().ports["nessie"])
    assert any("Connection refused" in m or port in m for m in messages), messages
    assert resources["trino"].query(QUERY) == before  # nothing committed, nothing half-written

    assert _materialize(resources, instance).success
    after = resources["trino"].query(QUERY)
    expected = WeatherSource(kind="synthetic").observations(
        "berlin", *([__import__("datetime").date(2025, 5, 10)] * 2)
    )
    assert len(after) == len(before) + expected.num_rows
    landed = {row for row in after if row[0].date() == DAY}
    assert sorted(t for _, t in landed) == sorted(expected["temperature_c"].to_pylist())
