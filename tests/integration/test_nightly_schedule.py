"""The nightly dbt schedule, evaluated for a given night and its run executed on the stack."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from conftest import GOOD, MINUTES, SPIKED, eventually
from pyiceberg.expressions import EqualTo

IDLE_TIMEOUT_S = 300


def _wait_until_idle(instance: dg.DagsterInstance) -> None:
    """Let the runs the stack's daemon launched (the asset sensor's dbt run) finish first."""
    busy = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    eventually(
        "the stack's runs finish",
        lambda: not instance.get_runs_count(dg.RunsFilter(statuses=busy)),
        IDLE_TIMEOUT_S,
        every_s=5,
    )


def test_the_nightly_run_builds_every_model(
    backfill: dg.ExecuteInProcessResult,
    control_limits: dg.ExecuteInProcessResult,
    landed: dict[str, dg.DagsterRun],
    stack_instance: dg.DagsterInstance,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
) -> None:
    from analytics.automation import nightly_dbt_build
    from analytics.definitions import defs

    _wait_until_idle(stack_instance)
    tick = datetime(2025, 11, 3, 2, 0, tzinfo=ZoneInfo("Europe/London"))
    evaluation = nightly_dbt_build.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick))
    requests = evaluation.run_requests or []
    assert len(requests) == 1
    job = defs.resolve_job_def(nightly_dbt_build.job_name)
    result = job.execute_in_process(instance=instance, tags=requests[0].tags, resources=resources)
    assert result.success
    overview = resources["trino"].query(
        "select batch_id, readings from marts.analytics.mart_bioreactor_overview "
        "where batch_id like 'B-IT-%' order by batch_id"
    )
    assert overview == [(batch, MINUTES) for batch in GOOD]
    _excursions_agree_with_the_channel_statistics(resources)
    spiked = resources["trino"].query(
        "select s.temperature_excursions, o.temperature_excursion "
        "from marts.analytics.fact_bioreactor_batch_stats s "
        "join marts.analytics.mart_bioreactor_overview o on o.batch_id = s.batch_id where s.batch_id = ?",
        (SPIKED,),
    )
    assert spiked == [(1, True)], "a one-minute spike is an excursion in the marts"


def _excursions_agree_with_the_channel_statistics(resources: dict[str, Any]) -> None:
    """The marts (SQL over the raw readings) and the channel statistics (Python) count the same."""
    from bioreactor.assets import CHANNEL_GROUPS, channel_stats
    from bioreactor.tables import BIOREACTOR_READINGS

    columns = {
        "temperature_c": "temperature_excursions",
        "ph": "ph_excursions",
        "dissolved_oxygen_pct": "dissolved_oxygen_excursions",
        "agitation_rpm": "agitation_excursions",
    }
    channels = tuple(c for group in CHANNEL_GROUPS.values() for c in group)
    assert set(channels) == set(columns)
    for batch in GOOD:
        (row,) = resources["trino"].query(
            f"select {', '.join(columns.values())} from marts.analytics.fact_bioreactor_batch_stats "
            "where batch_id = ?",
            (batch,),
        )
        readings = resources["iceberg"].read(BIOREACTOR_READINGS, EqualTo("batch_id", batch))
        python = {s["channel"]: s["excursions"] for s in channel_stats(batch, readings, channels)}
        assert dict(zip(columns, row, strict=True)) == python, batch
